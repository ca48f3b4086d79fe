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

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find(|line| line.starts_with("VmHWM:")).and_then(|line| line.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// (user + system CPU of this process, of its waited-for children), in seconds, from
/// `/proc/self/stat` (fields 14 to 17, in clock ticks of `USER_HZ`, 100 on Linux).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after it follow its `)`.
    let fields: Vec<f64> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().filter_map(|field| field.parse().ok()).collect()).unwrap_or_default();
    // After `)`: state (not a number, so skipped), then fields 4..; utime is field 14.
    let tick = |index: usize| fields.get(index).copied().unwrap_or(0.0) / 100.0;
    (tick(10) + tick(11), tick(12) + tick(13))
}

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
