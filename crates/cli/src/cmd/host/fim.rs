//! `vigil host fim`: file integrity baselines and checks (`vigil_host::fim`).

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use vigil_host::fim::{self, Baseline, FimConfig, HashAlgorithm};
use vigil_host::fsroot::HostRoot;
use vigil_host::rate::RateLimit;

use super::Format;
use crate::cmd::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct FimArgs {
    #[command(subcommand)]
    pub command: FimCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum FimCommand {
    /// Record a baseline of every file under the monitored paths (replaces an older one).
    Baseline(BaselineArgs),
    /// Print what changed since the baseline (the baseline is not changed).
    Check(CheckArgs),
    /// Compare and accept: changes are appended to the baseline's outbox and become the new
    /// baseline (a rescan stopped or killed resumes at the next run, each change reported once).
    Update(UpdateArgs),
    /// Watch in real time (inotify), after a rescan for what changed while nothing watched;
    /// print each change as a JSON line.
    Watch(WatchArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The root of the host tree (default: this machine, `/`).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The baseline database (SQLite).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
}

impl Target {
    fn root(&self) -> HostRoot {
        self.root.as_ref().map(HostRoot::at).unwrap_or_else(HostRoot::live)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// A path inside the root to monitor (repeatable; default: everything under `--root`, or
    /// system binaries, libraries and configuration on the live system).
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Record only paths matching this glob (repeatable; `**` crosses directories).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip paths matching this glob, and everything under them (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Contents' hash: blake3 (default) or sha256.
    #[arg(long, value_name = "ALGORITHM", value_parser = parse_hash)]
    pub hash: Option<HashAlgorithm>,
    /// Do not record extended attributes (ACLs, capabilities).
    #[arg(long)]
    pub no_xattrs: bool,
    /// Hashing threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

fn parse_hash(text: &str) -> Result<HashAlgorithm, String> {
    HashAlgorithm::parse(text).ok_or_else(|| format!("`{text}` is not a hash: use blake3 or sha256"))
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub selection: Selection,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Hashing threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub target: Target,
    /// Read at most this many bytes per second (a background rescan).
    #[arg(long, value_name = "BYTES")]
    pub max_bytes_per_second: Option<u64>,
    /// Read at most this many files per second.
    #[arg(long, value_name = "N")]
    pub max_files_per_second: Option<u64>,
    /// The audit log that names who made each change (default: /var/log/audit/audit.log when readable).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub target: Target,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Seconds between scheduled full rescans.
    #[arg(long, value_name = "SECONDS", default_value_t = 43_200)]
    pub rescan_every: u64,
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

pub fn run(_global: &GlobalArgs, args: FimArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        FimCommand::Baseline(args) => baseline(args),
        FimCommand::Check(args) => check(args),
        FimCommand::Update(args) => update(args),
        FimCommand::Watch(args) => watch(args),
    }
}

fn baseline(args: BaselineArgs) -> anyhow::Result<ExitCode> {
    let root = args.target.root();
    let mut config = if args.target.root.is_some() { FimConfig::default() } else { FimConfig::live_default() };
    let selection = args.selection;
    if !selection.paths.is_empty() {
        config.paths = selection.paths;
    }
    config.include = selection.include;
    config.exclude.extend(selection.exclude);
    if let Some(hash) = selection.hash {
        config.hash = hash;
    }
    config.xattrs = !selection.no_xattrs;
    config.threads = selection.threads;
    let start = Instant::now();
    let report = fim::baseline(&root, &args.target.db, &config).with_context(|| format!("recording the baseline `{}`", args.target.db.display()))?;
    print_problems(&report.problems);
    eprintln!(
        "baseline `{}`: {} entries, {} MB hashed ({}) in {:.1} s",
        args.target.db.display(),
        report.entries,
        report.bytes_hashed / 1_000_000,
        config.hash.name(),
        start.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_problems(problems: &[fim::Problem]) {
    for problem in problems.iter().take(50) {
        eprintln!("warning: `{}`: {}", problem.path, problem.reason);
    }
    if problems.len() > 50 {
        eprintln!("warning: {} more paths could not be read", problems.len() - 50);
    }
}

fn open(target: &Target) -> anyhow::Result<(HostRoot, Baseline, FimConfig)> {
    let baseline = Baseline::open(&target.db)?;
    let config = baseline.config()?;
    let root = match &target.root {
        Some(directory) => HostRoot::at(directory),
        None => match baseline.meta("root")? {
            Some(recorded) => HostRoot::at(recorded),
            None => HostRoot::live(),
        },
    };
    Ok((root, baseline, config))
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let (root, baseline, mut config) = open(&args.target)?;
    config.threads = args.threads;
    config.rate = RateLimit::UNLIMITED;
    let (changes, report) = fim::check(&root, &baseline, &config)?;
    print_problems(&report.problems);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = changes.iter().map(fim::Change::to_json).collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Table => {
            if changes.is_empty() {
                writeln!(out, "No changes since the baseline ({} entries checked).", report.entries)?;
            }
            for change in &changes {
                let kind = match change.change {
                    fim::ChangeKind::Added => "added",
                    fim::ChangeKind::Removed => "removed",
                    fim::ChangeKind::Modified => "modified",
                };
                writeln!(out, "{kind:<9} {:<60} {}", vigil_host::fsroot::display_path(&change.path).escape_debug(), change.fields.join(","))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn audit_log(root: &HostRoot, path: Option<&PathBuf>) -> Option<fim::audit::AuditLog> {
    let path = path.cloned().unwrap_or_else(|| PathBuf::from("/var/log/audit/audit.log"));
    fim::audit::AuditLog::read(&path, root).ok()
}

fn update(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let (root, mut baseline, mut config) = open(&args.target)?;
    config.rate = RateLimit { bytes_per_second: args.max_bytes_per_second, files_per_second: args.max_files_per_second };
    let audit = audit_log(&root, args.audit_log.as_ref());
    let outcome = fim::rescan(&root, &mut baseline, &config, audit.as_ref(), &mut |_| ControlFlow::Continue(()))?;
    eprintln!("{outcome:?}");
    Ok(ExitCode::SUCCESS)
}

fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let (root, mut baseline, config) = open(&args.target)?;
    // The outbox is read through a second connection: every change, from a rescan or an
    // event, is printed once, in the order it was recorded.
    let outbox = Baseline::open(&args.target.db)?;
    let mut printed = outbox.changes_after(0, usize::MAX)?.last().map(|(id, _)| *id).unwrap_or(0);
    let audit = audit_log(&root, args.audit_log.as_ref());
    let deadline = args.duration.map(|seconds| Instant::now() + Duration::from_secs(seconds));
    let options = fim::watch::MonitorOptions { rescan_every: Duration::from_secs(args.rescan_every), ..fim::watch::MonitorOptions::default() };
    let mut out = std::io::stdout();
    let mut failure = None;
    fim::watch::monitor(&root, &mut baseline, &config, &options, audit.as_ref(), &mut |event| {
        match event {
            fim::watch::MonitorEvent::Changes(_) | fim::watch::MonitorEvent::RescanFinished { .. } => {}
            fim::watch::MonitorEvent::RescanStarted(reason) => eprintln!("rescan: {reason}"),
            fim::watch::MonitorEvent::Degraded(reason) => eprintln!("warning: {reason}; those directories are covered by rescans only"),
        }
        match outbox.changes_after(printed, 10_000) {
            Ok(changes) => {
                for (id, change) in changes {
                    let _ = writeln!(out, "{change}");
                    printed = id;
                }
            }
            Err(error) => {
                failure = Some(error);
                return ControlFlow::Break(());
            }
        }
        let _ = out.flush();
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    Ok(ExitCode::SUCCESS)
}
