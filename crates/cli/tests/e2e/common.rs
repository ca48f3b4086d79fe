//! Helpers shared by the CLI's end-to-end tests: the `vigil` binary and running it.

#![allow(dead_code)]

use std::process::Command;

/// The `vigil` binary built for these tests.
pub fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

/// Runs a command to completion: exit code (-1 when killed by a signal), stdout, stderr.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("run vigil");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}
