//! `vigil host`: the host modules run one-shot, on this machine or on a root tree (`--root
//! DIR`): one file per module, each glue over `vigil-host` (or `vigil-malware`).

pub mod fim;
pub mod firewall;
pub mod ips;
pub mod logs;
pub mod malware;

use std::process::ExitCode;

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct HostArgs {
    #[command(subcommand)]
    pub command: HostCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {
    /// File integrity: record a baseline, check against it, accept changes, watch in real time.
    Fim(fim::FimArgs),
    /// Host logs: read journald and log files, hunt them with Sigma rules for Linux.
    Logs(logs::LogsArgs),
    /// The host firewall: what it accepts; optional enforcement in vigil's own table.
    Firewall(firewall::FirewallArgs),
    /// Active response: block sources of repeated SSH failures (dry-run by default).
    Ips(ips::IpsArgs),
    /// Anti-malware: scan files with YARA rules and hash lists; quarantine and restore.
    Malware(malware::MalwareArgs),
}

pub fn run(global: &GlobalArgs, args: HostArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        HostCommand::Fim(args) => fim::run(global, args),
        HostCommand::Logs(args) => logs::run(global, args),
        HostCommand::Firewall(args) => firewall::run(global, args),
        HostCommand::Ips(args) => ips::run(global, args),
        HostCommand::Malware(args) => malware::run(global, args),
    }
}

/// Output format of the host commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}
