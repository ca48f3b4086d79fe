//! `vigil host vulns`: installed packages matched against OSV records.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{Format, print_json};

#[derive(Debug, Args)]
pub struct VulnsArgs {
    /// Read the package databases of an image mounted or extracted here.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// OSV records: a directory of `.json` files, a zip of them (osv.dev's per-ecosystem
    /// `all.zip`), or one file.
    #[arg(long, value_name = "PATH", required = true)]
    pub osv: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit with code 3 when a vulnerability of this severity or above is found.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

pub fn run(args: VulnsArgs) -> anyhow::Result<ExitCode> {
    let host = super::host_root(args.root.as_deref())?;
    let inventory = vigil_host::packages::inventory(&host);
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    let os = inventory.os.clone().context("no /etc/os-release (or /usr/lib/os-release): the distribution, and so the advisories that apply, is unknown")?;
    let ecosystem =
        vigil_host::vulns::host_ecosystem(&os).with_context(|| format!("`{}` {} is not a distribution OSV publishes advisories for", os.id, os.version_id))?;
    let advisories = vigil_host::vulns::load_for_host(&args.osv, &ecosystem, &inventory.packages)?;
    for problem in &advisories.problems {
        eprintln!("warning: skipped OSV record {problem}");
    }
    let findings = advisories.database.matches(&ecosystem, &inventory.packages);
    match args.format {
        Format::Json => print_json(&findings)?,
        Format::Table => {
            println!("# {} packages on {} against {} OSV records", inventory.packages.len(), ecosystem.label(), advisories.read);
            for finding in &findings {
                let fixed = finding.fixed.as_deref().unwrap_or("no fix yet");
                let score = finding.score.map(|score| format!(" {score}")).unwrap_or_default();
                println!("{:<9}{score:<5} {:<24} {:<28} {} -> {fixed}", finding.severity.as_str(), finding.id, finding.package, finding.installed);
            }
            println!("# {} vulnerable packages ({} with a fix available)", findings.len(), findings.iter().filter(|finding| finding.fix_available).count());
        }
    }
    let threshold = args.fail_on.map(|level| match level {
        FailOn::Low => vigil_host::vulns::Level::Low,
        FailOn::Medium => vigil_host::vulns::Level::Medium,
        FailOn::High => vigil_host::vulns::Level::High,
        FailOn::Critical => vigil_host::vulns::Level::Critical,
    });
    if threshold.is_some_and(|threshold| findings.iter().any(|finding| finding.severity >= threshold)) {
        return Ok(ExitCode::from(super::super::EXIT_FINDINGS));
    }
    Ok(ExitCode::SUCCESS)
}
