//! `vigil host logs`: read host logs (journald, text files) and hunt them with Sigma rules for
//! Linux (`vigil_host::logs`).

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use vigil_host::fsroot::HostRoot;
use vigil_host::logs::detect::{self, Detector};
use vigil_host::logs::{Collector, FileSource, LogRecord, Positions, journal};

use super::Format;
use crate::cmd::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    #[command(subcommand)]
    pub command: LogsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LogsCommand {
    /// Print log records as JSON lines (the fields the detections read).
    Read(ReadArgs),
    /// Run the built-in host detections and Sigma rules for Linux over the logs; print alerts.
    Hunt(HuntArgs),
    /// List the rules that load for host logs, and those that do not with the reason.
    Rules(RulesArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Text log files (syslog or auditd); default: the usual files under --root that exist.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Read the systemd journal (`journalctl -o json`).
    #[arg(long)]
    pub journal: bool,
    /// Read a journal directory instead of the system's (with --journal).
    #[arg(long, value_name = "DIR")]
    pub journal_directory: Option<PathBuf>,
    /// The host tree whose /var/log is read (default: this machine).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Keep positions here (inode, offset, fingerprint per file; the journal cursor), so a
    /// later run reads only what is new.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Keep reading as the logs grow.
    #[arg(long)]
    pub follow: bool,
    /// Lines without a syslog header are messages of this program (a daemon writing its own
    /// file, such as `sshd -E FILE`).
    #[arg(long, value_name = "NAME")]
    pub program: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Sigma rule files or directories (repeatable), with the built-in rules.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Do not use the built-in host detections.
    #[arg(long)]
    pub no_builtin: bool,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    #[arg(long)]
    pub no_builtin: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(_global: &GlobalArgs, args: LogsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LogsCommand::Read(args) => {
            let mut out = std::io::stdout().lock();
            follow(&args.source, &mut |record| {
                let _ = writeln!(out, "{}", record.to_json());
                ControlFlow::Continue(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        LogsCommand::Hunt(args) => hunt(args),
        LogsCommand::Rules(args) => rules(args),
    }
}

fn load_rules(paths: &[PathBuf], no_builtin: bool) -> anyhow::Result<(vigil_trail::sigma::RuleSet, Vec<vigil_trail::sigma::Rejected>)> {
    let paths: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
    Ok(detect::load(&paths, !no_builtin)?)
}

fn rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let (set, rejected) = load_rules(&args.rules, args.no_builtin)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let loaded: Vec<serde_json::Value> =
                set.rules.iter().map(|rule| serde_json::json!({"id": rule.id, "title": rule.title, "level": rule.level, "origin": rule.origin})).collect();
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({"loaded": loaded, "correlations": set.correlations.len(), "rejected": rejected}))?;
            writeln!(out)?;
        }
        Format::Table => {
            for rule in &set.rules {
                writeln!(out, "{:<38} {:<13} {}", rule.id, rule.level, rule.title)?;
            }
            for rejection in &rejected {
                writeln!(out, "REJECTED {} ({}): {}", rejection.origin, rejection.title.as_deref().unwrap_or("-"), rejection.reason)?;
            }
            writeln!(out, "{} rules and {} correlations load; {} rejected", set.rules.len(), set.correlations.len(), rejected.len())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hunt(args: HuntArgs) -> anyhow::Result<ExitCode> {
    let (set, rejected) = load_rules(&args.rules, args.no_builtin)?;
    if !rejected.is_empty() {
        eprintln!("note: {} rules were not loaded (see `vigil host logs rules`)", rejected.len());
    }
    let mut detector = Detector::default();
    let mut out = std::io::stdout().lock();
    let format = args.format;
    let mut count = 0u64;
    follow(&args.source, &mut |record| {
        for alert in detector.check(&set, &record) {
            count += 1;
            let _ = match format {
                Format::Json => writeln!(out, "{}", serde_json::to_string(&alert).unwrap_or_default()),
                Format::Table => writeln!(
                    out,
                    "{:<32} {:<8} {:<40} {}",
                    alert.time.as_deref().unwrap_or("-"),
                    alert.level,
                    alert.rule_title,
                    alert.record.get("message").map(String::as_str).unwrap_or_default().escape_debug()
                ),
            };
        }
        ControlFlow::Continue(())
    })?;
    for alert in detector.correlations(&set) {
        let Some(correlation) = set.correlations.get(alert.correlation) else { continue };
        let group: serde_json::Map<String, serde_json::Value> =
            alert.group.iter().map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone()))).collect();
        let row = serde_json::json!({
            "rule_id": correlation.id, "rule_title": correlation.title, "level": correlation.level, "tags": correlation.tags,
            "group": group, "count": alert.count,
            "first_time": chrono::DateTime::from_timestamp_millis(alert.first_time_ms).map(|time| time.to_rfc3339()),
            "last_time": chrono::DateTime::from_timestamp_millis(alert.last_time_ms).map(|time| time.to_rfc3339()),
        });
        count += 1;
        match format {
            Format::Json => writeln!(out, "{row}")?,
            Format::Table => writeln!(
                out,
                "{:<32} {:<8} {:<40} {:?} ({} events)",
                row["first_time"].as_str().unwrap_or("-"),
                correlation.level,
                correlation.title,
                alert.group,
                alert.count
            )?,
        }
    }
    eprintln!("{count} alerts");
    Ok(ExitCode::SUCCESS)
}

/// Reads every record of the sources (and keeps reading with --follow), committing positions
/// to --state after each batch is handed to `each`.
pub fn follow(args: &SourceArgs, each: &mut dyn FnMut(LogRecord) -> ControlFlow<()>) -> anyhow::Result<()> {
    let positions = match &args.state {
        Some(path) => Positions::load(path)?,
        None => Positions::default(),
    };
    let root = args.root.as_ref().map(HostRoot::at).unwrap_or_else(HostRoot::live);
    let mut files: Vec<FileSource> =
        if args.files.is_empty() && !args.journal { vigil_host::logs::default_files(&root) } else { args.files.iter().map(FileSource::new).collect() };
    for file in &mut files {
        file.program = args.program.clone();
    }
    let mut collector = Collector::new(files, positions);
    if args.journal {
        let cursor = collector.positions.journal_cursor.clone();
        let mut child = journal::spawn(cursor.as_deref(), args.follow, args.journal_directory.as_deref()).context("starting journalctl")?;
        let mut last_cursor = None;
        let mut since_save = 0;
        let state = args.state.clone();
        let mut positions = collector.positions.clone();
        journal::read(&mut child, &mut |record, cursor| {
            let flow = each(record);
            last_cursor = Some(cursor.clone());
            since_save += 1;
            if let Some(path) = &state
                && since_save >= 100
            {
                positions.journal_cursor = Some(cursor);
                let _ = positions.save(path);
                since_save = 0;
            }
            flow
        })
        .context("reading journalctl")?;
        let _ = child.kill();
        let _ = child.wait();
        if last_cursor.is_some() {
            collector.positions.journal_cursor = last_cursor;
        }
        if let Some(path) = &args.state {
            collector.positions.save(path)?;
        }
        if collector.files.is_empty() {
            return Ok(());
        }
    }
    loop {
        let batch = collector.poll();
        for problem in &batch.problems {
            eprintln!("warning: {problem}");
        }
        if batch.truncated_lines > 0 {
            eprintln!("note: {} lines longer than {} bytes were cut", batch.truncated_lines, vigil_host::logs::parse::MAX_LINE_BYTES);
        }
        let mut stop = false;
        for record in batch.records {
            if each(record).is_break() {
                stop = true;
                break;
            }
        }
        collector.commit(batch.positions);
        if let Some(path) = &args.state {
            collector.positions.save(path)?;
        }
        if stop || !args.follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
