//! `vigil scans`, `vigil diff` and `vigil history`: what the store remembers of past scans.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use vigil_store::{ResourceDiff, ScanDiff, Store};

/// Where the store is.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The store: an SQLite file path or a `postgres://` URL (default: `vigil.db` in vigil's
    /// data directory, `$VIGIL_DATA_DIR` or `~/.local/share/vigil`).
    #[arg(long, value_name = "PATH|URL", env = "VIGIL_STORE")]
    pub store: Option<String>,
}

impl StoreArgs {
    /// The store's location, explicit or default.
    pub fn location(&self) -> String {
        self.store.clone().unwrap_or_else(|| crate::paths::data_dir().join("vigil.db").display().to_string())
    }

    pub fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.location())?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ScansArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The older scan's id (default: the second-to-last scan).
    pub from: Option<i64>,
    /// The newer scan's id (default: the last scan).
    pub to: Option<i64>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The resource: its ARN, its id (`i-0abc`, `sg-0abc`, a bucket or user name), its own
    /// name (a security group's name...) or the value of its `Name` tag.
    #[arg(value_name = "ARN|ID|NAME")]
    pub arn: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn scans(args: ScansArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let scans = store.scans()?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &scans)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if scans.is_empty() {
        writeln!(out, "No scans in the store `{}` yet: run `vigil scan`.", store.location())?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{:>5} {:<6} {:<26} {:>9} {:>6}  SOURCE", "SCAN", "KIND", "FINISHED", "RESOURCES", "CHECKS")?;
    for scan in &scans {
        writeln!(out, "{:>5} {:<6} {:<26} {:>9} {:>6}  {}", scan.id, scan.kind, scan.finished_at, scan.resource_count, scan.checks_run, scan.source)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let (from, to) = match (args.from, args.to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => {
            let last = store.scans()?.into_iter().find(|scan| scan.kind == "scan").map(|scan| scan.id);
            (from, last.context("the store has no scan yet")?)
        }
        (None, _) => store.last_two_scans()?.with_context(|| format!("the store `{}` holds fewer than two scans: run `vigil scan` twice", store.location()))?,
    };
    let location = store.location().to_string();
    let diff = store.diff(from, to).with_context(|| format!("reading the store `{location}`"))?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &diff)?;
        writeln!(out)?;
    } else {
        print_diff(&mut out, &diff)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_diff(out: &mut impl Write, diff: &ScanDiff) -> anyhow::Result<()> {
    writeln!(
        out,
        "scan {} -> {}: {} added, {} removed, {} changed; {} new findings, {} fixed\n",
        diff.from,
        diff.to,
        diff.added.len(),
        diff.removed.len(),
        diff.changed.len(),
        diff.new_findings.len(),
        diff.fixed_findings.len()
    )?;
    for (mark, resources) in [("+", &diff.added), ("-", &diff.removed)] {
        for resource in resources {
            writeln!(out, "{mark} {}  ({}, {})", resource.arn, resource.resource_type, resource.region)?;
        }
    }
    for resource in &diff.changed {
        print_changed(out, resource)?;
    }
    if !diff.new_findings.is_empty() {
        writeln!(out, "\nNew findings:")?;
        for finding in &diff.new_findings {
            writeln!(out, "  FAIL {:<9} {:<48} {}", finding.severity, finding.check_id, finding.resource_arn)?;
        }
    }
    if !diff.fixed_findings.is_empty() {
        writeln!(out, "\nFixed findings:")?;
        for finding in &diff.fixed_findings {
            let now = finding.status_after.as_deref().unwrap_or("ABSENT");
            writeln!(out, "  {now:<6} {:<9} {:<48} {}", finding.severity, finding.check_id, finding.resource_arn)?;
        }
    }
    Ok(())
}

fn print_changed(out: &mut impl Write, resource: &ResourceDiff) -> anyhow::Result<()> {
    writeln!(out, "~ {}  ({}, {})", resource.arn, resource.resource_type, resource.region)?;
    if resource.state_before != resource.state_after {
        writeln!(out, "    state: {} -> {}", resource.state_before.as_deref().unwrap_or("?"), resource.state_after.as_deref().unwrap_or("?"))?;
    }
    print_fields(out, &resource.fields)
}

fn print_fields(out: &mut impl Write, fields: &[vigil_store::FieldChange]) -> anyhow::Result<()> {
    let show = |value: &Option<serde_json::Value>| value.as_ref().map(|value| value.to_string()).unwrap_or_default();
    for field in fields {
        match (&field.before, &field.after) {
            (None, Some(_)) => writeln!(out, "    {}: + {}", field.path, show(&field.after))?,
            (Some(_), None) => writeln!(out, "    {}: - {}", field.path, show(&field.before))?,
            _ => writeln!(out, "    {}: {} -> {}", field.path, show(&field.before), show(&field.after))?,
        }
    }
    Ok(())
}

pub fn history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let arn = resolve(&mut store, &args.arn)?;
    let versions = store.history(&arn)?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "arn": arn, "versions": versions }))?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{arn}: {} versions", versions.len())?;
    for version in &versions {
        writeln!(out, "\nversion {}  scan {}  {}  {}", version.version, version.scan_id, version.observed_at, version.state)?;
        if version.version == 1 {
            writeln!(out, "    first seen")?;
        }
        print_fields(&mut out, &version.changes)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The ARN a text names (an ARN, an id, a resource's own name or its Name tag); an error
/// listing the candidates when it names several.
fn resolve(store: &mut Store, text: &str) -> anyhow::Result<String> {
    let mut matches = store.find_resources(text)?;
    match matches.len() {
        0 => anyhow::bail!("no resource `{text}` in the store `{}` (looked up by ARN, id, name and Name tag)", store.location()),
        1 => Ok(matches.remove(0).arn),
        count => {
            let candidates: Vec<String> = matches
                .iter()
                .map(|candidate| {
                    format!("  {}  ({}, {}, {}; {})", candidate.arn, candidate.resource_type, candidate.region, candidate.state, candidate.matched_by)
                })
                .collect();
            anyhow::bail!("`{text}` is ambiguous: it names {count} resources in the store; pass one's ARN:\n{}", candidates.join("\n"))
        }
    }
}
