//! The `vigil` binary: argument parsing and glue over the library crates.

mod cmd;
mod paths;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's allocator: a scan allocates and frees millions of small values
/// (SDK replies, findings) on several threads, and glibc spent about a sixth of a collection's
/// CPU in malloc and free and kept freed memory in per-thread arenas. Built without transparent
/// huge pages (the `no_thp` feature): with them, growing a large vector zeroed 2 MB pages for
/// seconds. Version 2 (the `v2` feature): it gives freed pages back to the system 10 ms after
/// they empty, version 3 a second after, which kept about 6 MB more resident at a scan's peak.
/// BENCHMARKS.md, "Collection", third and fifth rounds.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
