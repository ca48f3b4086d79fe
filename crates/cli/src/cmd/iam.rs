//! `vigil iam`: placeholder until its issue lands.

use std::process::ExitCode;

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct IamArgs {}

pub fn run(_global: &GlobalArgs, _args: IamArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`vigil iam` is not implemented yet")
}
