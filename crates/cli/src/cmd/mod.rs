//! The command tree: one module per subcommand, each with its clap `Args` and a `run`.

pub mod agents;
pub mod collect;
pub mod export;
pub mod fix;
pub mod frameworks;
pub mod history;
pub mod host;
pub mod iam;
pub mod notify;
pub mod osv;
pub mod paths;
pub mod people;
pub mod reach;
pub mod scan;
pub mod serve;
pub mod source;
pub mod trail;
pub mod watch;
pub mod watch_events;
pub mod work;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Exit code for a failed command (bad input, I/O error, ...).
pub const EXIT_ERROR: u8 = 2;
/// Exit code when `--fail-on` findings (or alerts) were found.
pub const EXIT_FINDINGS: u8 = 3;

/// vigil: the customer's side of AWS security, in one binary.
///
/// vigil reads the configuration of an AWS account (or a saved snapshot of it),
/// checks its posture, computes what the internet can reach, answers who can do
/// what, and hunts through CloudTrail logs. It only reads: no command changes your
/// account except `vigil fix --apply` (and `vigil fix undo`), which you run explicitly.
///
/// Start with `vigil scan --demo` to see a scan of the bundled demo account, then
/// `vigil scan` (standard AWS credentials) or `vigil collect -o FILE` to save an account
/// for offline scans with `vigil scan --snapshot FILE`.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print less: only errors and the requested output.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what vigil is doing (repeat for more detail).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an account's posture: collect (or load) its inventory and run every check.
    Scan(scan::ScanArgs),
    /// Read an account and save its inventory as a snapshot for offline scans.
    Collect(collect::CollectArgs),
    /// List the checks in the catalog.
    Checks,
    /// List the compliance frameworks (CIS, FSBP, PCI DSS, NIST) and the catalog's coverage;
    /// with a name, list that framework's requirements and the checks mapped to each.
    Frameworks {
        /// A framework id or alias (cis, fsbp, pci, nist).
        framework: Option<String>,
    },
    /// CloudTrail: hunt with Sigma rules, search events, verify log integrity.
    Trail(trail::TrailArgs),
    /// IAM: simulate requests, ask who can do what, find admins and escalation paths.
    Iam(iam::IamArgs),
    /// Network exposure: what the internet can reach, and why.
    Reach(reach::ReachArgs),
    /// Attack paths from the internet through compute, roles and escalation to admin or
    /// sensitive data, ranked, with the minimal cut that breaks them.
    Paths(paths::PathsArgs),
    /// Fix failing findings: plan the exact AWS calls with the configuration before and after
    /// and the effect of each change (findings resolved, exposures removed, flows it would
    /// cut), as code or as the IAM policy it needs; `--apply` applies it, `undo` reverts.
    /// The only command that changes an account.
    Fix(fix::FixArgs),
    /// Host security, one-shot on this machine or a root tree (`--root DIR`): file integrity,
    /// host logs, firewall, intrusion prevention, malware, configuration assessment, packages,
    /// vulnerabilities, patch state and secrets.
    Host(host::HostArgs),
    /// Continuous monitoring: scheduled scans plus EventBridge events from an SQS queue,
    /// applied within seconds (new instances enrolled, state changes recorded).
    Watch(watch::WatchArgs),
    /// The console: a web UI and HTTP API over the store (authentication required).
    Serve(serve::ServeArgs),
    /// The fleet of vigil-agents: list (`--format json`), show, revoke, rotate; enrolment
    /// tokens for hosts off EC2.
    Agents(agents::AgentsArgs),
    /// The console's users and their roles (viewer, analyst, admin): add, list, set-role,
    /// password, disable, enable. Passwords are read from standard input.
    Users(people::UsersArgs),
    /// The console's API keys: create (printed once), list, revoke.
    Apikeys(people::ApikeysArgs),
    /// The audit log: every change and login with who, when, what and from where; `export
    /// --format ocsf` writes OCSF events as JSON lines.
    Audit(people::AuditArgs),
    /// OSV advisories for the agents: `load PATH` (a directory or zip of OSV records) stores
    /// them, so that a fleet needs no OSV copy per host; `list` counts them per ecosystem.
    Osv(osv::OsvArgs),
    /// Take units of an organization scan shared through the store (`--run ID`, PostgreSQL for
    /// several machines) until the run is complete: identical processes, any number; a killed
    /// one's units are taken over when its lease expires. Exit 0 when the run is done, 4 naming
    /// the units that failed (docs/org.md).
    Worker(work::WorkerArgs),
    /// The organization scans run as units of work (`vigil worker`, `vigil scan --shard`): each
    /// run's units counted by state, or with `--run ID` every unit with its state, worker and error.
    Runs(work::RunsArgs),
    /// Export the store's findings, resources, alerts and agent events as OCSF in Parquet,
    /// partitioned by day, account and region, to a directory or `s3://BUCKET/PREFIX`, for
    /// Athena, Trino, Spark or DuckDB (docs/export.md).
    Export(export::ExportArgs),
    /// List the scans in the store.
    Scans(history::ScansArgs),
    /// What changed between two stored scans (default: the last two): resources added, removed
    /// and changed field by field, findings new and fixed.
    Diff(history::DiffArgs),
    /// One resource's configuration timeline from the store, with the changes between versions.
    History(history::HistoryArgs),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from the same definitions as --help.
    Man,
}

pub fn init_logging(global: &GlobalArgs) {
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},aws_smithy_runtime=error,aws_config=error,aws_runtime=error")));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan::run(&cli.global, args),
        Command::Collect(args) => collect::run(&cli.global, args),
        Command::Checks => {
            for check in vigil_checks::CHECKS {
                let metadata = check.metadata();
                println!("{:<48} {:<9} {}", metadata.id, metadata.severity.as_str(), metadata.title);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Frameworks { framework } => frameworks::run(framework.as_deref()),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "vigil", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Trail(args) => trail::run(&cli.global, args),
        Command::Iam(args) => iam::run(&cli.global, args),
        Command::Reach(args) => reach::run(&cli.global, args),
        Command::Paths(args) => paths::run(&cli.global, args),
        Command::Fix(args) => fix::run(&cli.global, args),
        Command::Watch(args) => watch::run(&cli.global, args),
        Command::Host(args) => host::run(&cli.global, args),
        Command::Serve(args) => serve::run(args),
        Command::Agents(args) => agents::run(args),
        Command::Users(args) => people::users(args),
        Command::Apikeys(args) => people::apikeys(args),
        Command::Audit(args) => people::audit_command(args),
        Command::Osv(args) => osv::run(args),
        Command::Worker(args) => work::run_worker(&cli.global, args),
        Command::Runs(args) => work::run_runs(args),
        Command::Export(args) => export::run(&cli.global, args),
        Command::Scans(args) => history::scans(args),
        Command::Diff(args) => history::diff(args),
        Command::History(args) => history::history(args),
    }
}
