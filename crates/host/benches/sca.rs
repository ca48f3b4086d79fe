//! Benchmark: a configuration-assessment policy evaluated as `vigil host sca` and the agent's
//! `sca` module do it, on the live system (command rules run) or under a root (`--root`).
//!
//! ```sh
//! cargo bench -p vigil-host --bench sca -- ../shared/data/sca/cis_debian12.yml            # the live system
//! cargo bench -p vigil-host --bench sca -- ../shared/data/sca/cis_debian12.yml /var/cache/vigil-test/debian-root
//! ```
//!
//! Prints the policy's results (passed, failed, not applicable), the wall time of the
//! evaluation, the CPU time of the process and of the commands it ran (children), and the
//! peak resident memory (`VmHWM`). BENCHMARKS.md ("Host: configuration assessment") sets the
//! figures beside OpenSCAP's and Lynis's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Instant;

use vigil_host::fsroot::HostRoot;
use vigil_host::sca::{Policy, ScaOptions, evaluate};

mod support;
use support::{cpu_seconds, peak_rss_kib};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let Some(policy_path) = args.first() else {
        eprintln!("usage: sca POLICY.yml [ROOT] (a Wazuh SCA policy; without ROOT, the live system); nothing to measure");
        return;
    };
    let policy = Policy::load(Path::new(policy_path)).unwrap_or_else(|error| panic!("{error}"));
    let host = HostRoot::from_option(args.get(1).map(Path::new));
    let started = Instant::now();
    let report = evaluate(&policy, &host, &ScaOptions::default());
    let wall = started.elapsed().as_secs_f64();
    let (own, children) = cpu_seconds();
    let summary = &report.summary;
    println!(
        "{} on {}: {} checks, {} passed, {} failed, {} not applicable",
        report.policy,
        args.get(1).map_or("the live system", String::as_str),
        report.checks.len(),
        summary.passed,
        summary.failed,
        summary.not_applicable
    );
    println!("wall {wall:.2} s   CPU {own:.2} s (vigil) + {children:.2} s (commands)   peak RSS {} MiB", peak_rss_kib() / 1024);
}
