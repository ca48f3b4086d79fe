//! The `vigil` binary: argument parsing and glue over the library crates.

mod cmd;
mod paths;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    cmd::init_logging(&cli.global);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}
