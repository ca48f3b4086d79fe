//! `vigil collect`: read an account and save its inventory as a snapshot for offline use.

use std::path::PathBuf;
use std::process::ExitCode;

use super::GlobalArgs;
use super::source::{self, LiveArgs};

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    /// The snapshot file to write (zstd-compressed JSON).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(global: &GlobalArgs, args: CollectArgs) -> anyhow::Result<ExitCode> {
    let inventory = source::collect_live(&args.live, global.quiet)?;
    vigil_model::snapshot::write(&args.output, &inventory)?;
    if !global.quiet {
        eprintln!("wrote {}", args.output.display());
    }
    Ok(ExitCode::SUCCESS)
}
