//! `vigil host ips`: active response: block addresses after repeated SSH failures in vigil's
//! own nftables set, with an expiry (`vigil_host::ips`). Dry-run unless --enforce.

use std::io::Write;
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use vigil_host::firewall::Nft;
use vigil_host::ips::{self, Responder, ResponsePolicy};
use vigil_host::logs::detect::{self, Detector};

use super::logs::{SourceArgs, follow};
use crate::cmd::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct IpsArgs {
    #[command(subcommand)]
    pub command: IpsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum IpsCommand {
    /// Watch the logs and block sources of repeated SSH failures (dry-run unless --enforce).
    Watch(WatchArgs),
    /// List the blocked addresses with the seconds left.
    List(super::firewall::NetnsArgs),
    /// Lift a block before it expires.
    Unblock(UnblockArgs),
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Failures from one address ...
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_failures: usize,
    /// ... within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub window: u64,
    /// How long a block lasts.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub block_for: u64,
    /// Never block these (CIDR; repeatable).
    #[arg(long = "allow", value_name = "CIDR")]
    pub allowlist: Vec<String>,
    /// Really block (default: dry-run, actions are only recorded).
    #[arg(long)]
    pub enforce: bool,
    /// Append every action to this journal (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub journal_file: Option<PathBuf>,
    #[command(flatten)]
    pub netns: super::firewall::NetnsArgs,
}

#[derive(Debug, clap::Args)]
pub struct UnblockArgs {
    pub address: IpAddr,
    #[arg(long, value_name = "FILE")]
    pub journal_file: Option<PathBuf>,
    #[command(flatten)]
    pub netns: super::firewall::NetnsArgs,
}

pub fn run(_global: &GlobalArgs, args: IpsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        IpsCommand::Watch(args) => watch(args),
        IpsCommand::List(args) => {
            let blocked = ips::blocked(&Nft { netns: args.netns })?;
            let mut out = std::io::stdout().lock();
            for (address, expires) in blocked {
                writeln!(out, "{address} {}", expires.map(|seconds| format!("{seconds} s left")).unwrap_or_default())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        IpsCommand::Unblock(args) => {
            let policy = ResponsePolicy { dry_run: false, ..ResponsePolicy::default() };
            let mut responder = Responder::new(policy, Nft { netns: args.netns.netns }, args.journal_file)?;
            let record = responder.unblock(args.address, "by hand (vigil host ips unblock)")?;
            println!("{}", serde_json::to_string(&record)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let policy = ResponsePolicy {
        max_failures: args.max_failures,
        window_seconds: args.window,
        block_seconds: args.block_for,
        allowlist: args.allowlist,
        dry_run: !args.enforce,
    };
    let mut responder = Responder::new(policy, Nft { netns: args.netns.netns }, args.journal_file)?;
    let (set, _) = detect::load(&[], true)?;
    let mut detector = Detector::default();
    let mut out = std::io::stdout();
    let mut failure = None;
    follow(&args.source, &mut |record| {
        let Some(failed) = ips::ssh_failure(&mut detector, &set, &record, chrono::Utc::now().timestamp_millis()) else { return ControlFlow::Continue(()) };
        match responder.failure(failed.address, failed.time_ms, &failed.message) {
            Ok(Some(action)) => {
                let _ = writeln!(out, "{}", serde_json::to_string(&action).unwrap_or_default());
                let _ = out.flush();
            }
            Ok(None) => {}
            Err(error) => {
                failure = Some(error);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    Ok(ExitCode::SUCCESS)
}
