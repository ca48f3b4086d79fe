//! `vigil trail`: placeholder until its issue lands.

use std::process::ExitCode;

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct TrailArgs {}

pub fn run(_global: &GlobalArgs, _args: TrailArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vigil trail` is not implemented yet")
}
