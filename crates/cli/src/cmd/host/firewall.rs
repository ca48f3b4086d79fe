//! `vigil host firewall`: what the host firewall accepts from outside, and optional
//! enforcement in vigil's own table (`vigil_host::firewall`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use vigil_host::firewall::enforce::{self, FirewallPolicy};
use vigil_host::firewall::{self, Nft};

use super::Format;
use crate::cmd::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct FirewallArgs {
    #[command(subcommand)]
    pub command: FirewallCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum FirewallCommand {
    /// What the host accepts on new inbound connections, per protocol, port and source.
    Show(ShowArgs),
    /// Apply a policy (YAML or JSON) in vigil's table `inet vigil`, atomically; rolled back
    /// unless confirmed within --confirm-within seconds (type `yes`, or --yes).
    Apply(ApplyArgs),
    /// Remove vigil's table (its policy and blocked addresses).
    Remove(NetnsArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct NetnsArgs {
    /// Run nft inside this network namespace (`ip netns exec NAME`), as the tests do.
    #[arg(long, value_name = "NAME")]
    pub netns: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Read a saved ruleset (`nft -j list ruleset` output or `iptables-save` text) instead of the live one.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub netns: NetnsArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The policy: `allow: [{protocol: tcp, ports: [22], sources: [203.0.113.0/24]}]`, `default_drop: true`.
    pub policy: PathBuf,
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub confirm_within: u64,
    /// Confirm at once (no rollback).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub netns: NetnsArgs,
}

pub fn run(_global: &GlobalArgs, args: FirewallArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        FirewallCommand::Show(args) => show(args),
        FirewallCommand::Apply(args) => apply(args),
        FirewallCommand::Remove(args) => {
            enforce::remove(&Nft { netns: args.netns })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let ruleset = match &args.file {
        Some(path) => firewall::read_file(path)?,
        None => firewall::read_live(&Nft { netns: args.netns.netns.clone() })?,
    };
    let rows = firewall::accepted(&ruleset);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({"backend": ruleset.backend, "accepted": rows, "notes": ruleset.notes}))?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "{} ({} chains)", ruleset.backend, ruleset.chains.len())?;
            if rows.is_empty() {
                writeln!(out, "No new inbound connection is accepted.")?;
            }
            for row in &rows {
                let ports: Vec<String> = row.ports.iter().map(|[from, to]| if from == to { from.to_string() } else { format!("{from}-{to}") }).collect();
                writeln!(out, "{:<7} {:<18} {}", row.protocol, ports.join(","), row.sources.join(", "))?;
            }
            for note in &ruleset.notes {
                writeln!(out, "note: {note}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn apply(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.policy).with_context(|| format!("reading `{}`", args.policy.display()))?;
    let policy: FirewallPolicy = serde_yaml::from_str(&text).with_context(|| format!("`{}` is not a firewall policy", args.policy.display()))?;
    let nft = Nft { netns: args.netns.netns };
    let yes = args.yes;
    let (sender, receiver) = std::sync::mpsc::channel();
    if !yes {
        eprintln!("applied; type `yes` within {} s to keep it (otherwise it is rolled back)", args.confirm_within);
        std::thread::spawn(move || {
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).is_ok() && line.trim() == "yes" {
                let _ = sender.send(());
            }
        });
    }
    let outcome = enforce::apply_with_rollback(&nft, &policy, Duration::from_secs(args.confirm_within), &mut || yes || receiver.try_recv().is_ok())?;
    match outcome {
        enforce::Applied::Confirmed => {
            eprintln!("kept");
            Ok(ExitCode::SUCCESS)
        }
        enforce::Applied::RolledBack { reason } => {
            eprintln!("rolled back: {reason}");
            Ok(ExitCode::from(crate::cmd::EXIT_ERROR))
        }
    }
}
