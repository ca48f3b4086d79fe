//! `vigil host packages`: the installed packages (dpkg, rpm, apk).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Format, print_json};

#[derive(Debug, Args)]
pub struct PackagesArgs {
    /// Read the package databases of an image mounted or extracted here.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(args: PackagesArgs) -> anyhow::Result<ExitCode> {
    let host = super::host_root(args.root.as_deref())?;
    let inventory = vigil_host::packages::inventory(&host);
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    match args.format {
        Format::Json => print_json(&inventory.packages)?,
        Format::Table => {
            if let Some(os) = &inventory.os {
                println!("# {} ({} {})", os.pretty_name, os.id, os.version_id);
            }
            if let Some(kernel) = &inventory.running_kernel {
                println!("# running kernel {kernel}");
            }
            for package in &inventory.packages {
                println!("{:<40} {:<36} {:<8} {}", package.name, package.version, package.arch, super::manager_name(package.manager));
            }
            println!("# {} packages", inventory.packages.len());
        }
    }
    Ok(if inventory.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(super::super::EXIT_ERROR) })
}
