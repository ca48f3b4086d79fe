//! `vigil scan`: collect (or load) an inventory, run the check catalog, print a summary and
//! write the findings.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use vigil_checks::{Finding, Severity, Status};

use super::GlobalArgs;
use super::source::{self, SourceArgs};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Write the findings to FILE; the format comes from the extension (.json, .jsonl) or --format.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Format of the file written with -o (default: from its extension, else json).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Run only these checks (repeatable; by id).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Exit with code 3 when a FAIL finding at or above this severity exists.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Also save the inventory that was scanned, as a snapshot.
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Json,
    Jsonl,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("`{text}` is not a severity: use informational, low, medium, high or critical"))
}

pub fn run(global: &GlobalArgs, args: ScanArgs) -> anyhow::Result<ExitCode> {
    for id in &args.checks {
        if vigil_checks::find(id).is_none() {
            anyhow::bail!("unknown check `{id}`; `vigil checks` lists them");
        }
    }
    let inventory = source::load(&args.source, global.quiet)?;
    if let Some(path) = &args.save_snapshot {
        vigil_model::snapshot::write(path, &inventory)?;
    }
    let context = vigil_checks::Context::new(&inventory, chrono::Utc::now());
    let mut findings = vigil_checks::run_all(&context, |metadata| args.checks.is_empty() || args.checks.iter().any(|id| id == metadata.id));
    findings.sort_by(|a, b| {
        (b.status == Status::Fail, b.severity, &a.check_id, &a.resource_arn).cmp(&(a.status == Status::Fail, a.severity, &b.check_id, &b.resource_arn))
    });

    if let Some(path) = &args.output {
        let format = args.format.unwrap_or_else(|| match path.extension().and_then(|extension| extension.to_str()) {
            Some("jsonl") => OutputFormat::Jsonl,
            _ => OutputFormat::Json,
        });
        write_findings(path, format, &inventory, &findings).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if !global.quiet {
        print_summary(&inventory, &findings)?;
    }
    let failing = args.fail_on.is_some_and(|threshold| findings.iter().any(|finding| finding.status == Status::Fail && finding.severity >= threshold));
    Ok(if failing { ExitCode::from(super::EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}

fn write_findings(path: &std::path::Path, format: OutputFormat, inventory: &vigil_model::Inventory, findings: &[Finding]) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    match format {
        OutputFormat::Json => {
            let document = json!({
                "account_id": inventory.account_id(),
                "collected_at": inventory.collected_at,
                "regions": inventory.regions,
                "summary": summary(findings),
                "findings": findings,
            });
            serde_json::to_writer_pretty(&mut file, &document)?;
            writeln!(file)?;
        }
        OutputFormat::Jsonl => {
            for finding in findings {
                serde_json::to_writer(&mut file, finding)?;
                writeln!(file)?;
            }
        }
    }
    file.flush()?;
    Ok(())
}

fn summary(findings: &[Finding]) -> serde_json::Value {
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failed_by_severity: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *by_status.entry(finding.status.as_str()).or_default() += 1;
        if finding.status == Status::Fail {
            *failed_by_severity.entry(finding.severity.as_str()).or_default() += 1;
        }
    }
    json!({ "by_status": by_status, "failed_by_severity": failed_by_severity })
}

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

fn print_summary(inventory: &vigil_model::Inventory, findings: &[Finding]) -> anyhow::Result<()> {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::stdout().lock();
    let count = |status: Status| findings.iter().filter(|finding| finding.status == status).count();
    writeln!(
        out,
        "account {}  regions {}  resources {}  checks {}",
        inventory.account_id(),
        inventory.regions.len(),
        inventory.resources().len(),
        vigil_checks::CHECKS.len()
    )?;
    writeln!(
        out,
        "{} {}   {} {}   {} {}\n",
        paint("FAIL", "31;1", colour),
        count(Status::Fail),
        paint("ERROR", "33;1", colour),
        count(Status::Error),
        paint("PASS", "32", colour),
        count(Status::Pass)
    )?;
    let shown: Vec<&Finding> = findings.iter().filter(|finding| matches!(finding.status, Status::Fail | Status::Error)).collect();
    if shown.is_empty() {
        writeln!(out, "No failed or undecided checks.")?;
        return Ok(());
    }
    writeln!(out, "{:<6} {:<9} {:<46} {:<12} MESSAGE", "STATUS", "SEVERITY", "CHECK", "REGION")?;
    for finding in shown {
        let status = match finding.status {
            Status::Fail => paint("FAIL  ", "31;1", colour),
            _ => paint("ERROR ", "33;1", colour),
        };
        writeln!(out, "{status} {:<9} {:<46} {:<12} {}", finding.severity.as_str(), finding.check_id, finding.region, finding.message)?;
    }
    Ok(())
}
