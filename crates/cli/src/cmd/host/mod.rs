//! `vigil host ...`: the host modules run one-shot, on this machine or on a root tree
//! (`--root DIR`: a mounted snapshot, an extracted image). One file per module, each glue over
//! `vigil-host` (or `vigil-malware`, `vigil-secrets`).

pub mod fim;
pub mod firewall;
pub mod ips;
pub mod logs;
pub mod malware;
pub mod packages;
pub mod patch;
pub mod sca;
pub mod secrets;
pub mod vulns;

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct HostArgs {
    #[command(subcommand)]
    pub command: HostCommand,
}

#[derive(Debug, Subcommand)]
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
    /// Configuration assessment: run a Wazuh-format SCA policy (default: vigil's guest-OS
    /// baseline) and report each check passed, failed or not applicable, with the reason.
    Sca(sca::ScaArgs),
    /// The installed packages (dpkg, rpm, apk) of the running system or an image.
    Packages(packages::PackagesArgs),
    /// Vulnerable packages: the installed packages matched against OSV records (a directory
    /// or zip), with the fixed version and severity.
    Vulns(vulns::VulnsArgs),
    /// Patch state: pending security updates (from OSV records) and whether a reboot is
    /// required (the reboot-required flag, or an installed kernel newer than the running one).
    Patch(patch::PatchArgs),
    /// Secrets and personal data in files (keys, tokens, passwords, card numbers), reported by
    /// kind and position with a redacted form, never in full.
    Secrets(secrets::SecretsArgs),
}

/// Output format of the host commands (`text` is accepted for `table`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[value(alias = "text")]
    Table,
    Json,
}

pub fn run(global: &GlobalArgs, args: HostArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        HostCommand::Fim(args) => fim::run(global, args),
        HostCommand::Logs(args) => logs::run(global, args),
        HostCommand::Firewall(args) => firewall::run(global, args),
        HostCommand::Ips(args) => ips::run(global, args),
        HostCommand::Malware(args) => malware::run(global, args),
        HostCommand::Sca(args) => sca::run(args),
        HostCommand::Packages(args) => packages::run(args),
        HostCommand::Vulns(args) => vulns::run(args),
        HostCommand::Patch(args) => patch::run(args),
        HostCommand::Secrets(args) => secrets::run(args),
    }
}

/// Prints a value as pretty JSON followed by a newline.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `--root DIR` checked to be a directory, else the live system.
pub fn host_root(root: Option<&std::path::Path>) -> anyhow::Result<vigil_host::fsroot::HostRoot> {
    if let Some(root) = root {
        anyhow::ensure!(root.is_dir(), "--root `{}` is not a directory", root.display());
    }
    Ok(vigil_host::fsroot::HostRoot::from_option(root))
}

pub fn manager_name(manager: vigil_host::packages::Manager) -> &'static str {
    match manager {
        vigil_host::packages::Manager::Dpkg => "dpkg",
        vigil_host::packages::Manager::Rpm => "rpm",
        vigil_host::packages::Manager::Apk => "apk",
    }
}
