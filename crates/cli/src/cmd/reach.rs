//! `vigil reach`: placeholder until its issue lands.

use std::process::ExitCode;

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct ReachArgs {}

pub fn run(_global: &GlobalArgs, _args: ReachArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vigil reach` is not implemented yet")
}
