//! `vigil host patch`: pending security updates and whether a reboot is required.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Format, print_json};

#[derive(Debug, Args)]
pub struct PatchArgs {
    /// Read an image mounted or extracted here (only its reboot-required flag then: an image
    /// has no running kernel).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// OSV records (directory, zip or file) giving the security fixes; without them pending
    /// security updates are not computed (and the output says so).
    #[arg(long, value_name = "PATH")]
    pub osv: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(args: PatchArgs) -> anyhow::Result<ExitCode> {
    let host = super::host_root(args.root.as_deref())?;
    let inventory = vigil_host::packages::inventory(&host);
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    let ecosystem = inventory.os.as_ref().and_then(vigil_host::vulns::host_ecosystem);
    let mut extra_notes = Vec::new();
    let findings = match (&args.osv, &ecosystem) {
        (Some(path), Some(ecosystem)) => {
            let advisories = vigil_host::vulns::load_for_host(path, ecosystem, &inventory.packages)?;
            for problem in &advisories.problems {
                eprintln!("warning: skipped OSV record {problem}");
            }
            advisories.database.matches(ecosystem, &inventory.packages)
        }
        (None, _) => {
            extra_notes.push("no advisories given (--osv): pending security updates were not computed".to_string());
            Vec::new()
        }
        (Some(_), None) => {
            extra_notes.push("the distribution is unknown or not covered by OSV: pending security updates were not computed".to_string());
            Vec::new()
        }
    };
    let scheme = ecosystem.as_ref().map_or(vigil_host::versions::Scheme::Dpkg, |ecosystem| ecosystem.scheme);
    let mut state = vigil_host::patch::patch_state(&host, &inventory, &findings, scheme);
    state.notes.extend(extra_notes);
    match args.format {
        Format::Json => print_json(&state)?,
        Format::Table => {
            println!("running kernel: {}", state.running_kernel.as_deref().unwrap_or("unknown"));
            println!("newest installed kernel: {}", state.newest_installed_kernel.as_deref().unwrap_or("none found"));
            println!("reboot required: {}", if state.reboot_required { "yes" } else { "no" });
            for reason in &state.reboot_reasons {
                println!("  {reason}");
            }
            println!("pending security updates: {}", state.pending_security_updates.len());
            for update in &state.pending_security_updates {
                println!("  {} {} -> {} ({})", update.package, update.installed, update.fixed, update.advisories.join(", "));
            }
            for note in &state.notes {
                println!("note: {note}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
