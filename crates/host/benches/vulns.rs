//! Benchmark: a realistic host's packages matched against a large OSV archive, as
//! `vigil host vulns` and the agent's `vulns` module do it.
//!
//! ```sh
//! python3 bench/host-vulns/generate.py /tmp/vulns-bench      # 1,500 packages, 120,000 records
//! cargo bench -p vigil-host --bench vulns -- /tmp/vulns-bench/root /tmp/vulns-bench/osv-debian.zip
//! ```
//!
//! Prints the time of each stage: the dpkg inventory, loading the zip keeping only the host's
//! records (what the agent and `vigil host vulns` do), then the whole archive: loading, indexing, matching
//! (the best of five), then the agent's path with the server's advisories (the records
//! written as the pages `vigil-agent` keeps, in 2,000-record JSON files, and loaded from that
//! directory), and the peak resident memory of the process (`VmHWM`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use vigil_host::fsroot::HostRoot;
use vigil_host::vulns::{Database, host_ecosystem, osv};

mod support;
use support::peak_rss_kib;

fn timed<T>(label: &str, work: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = work();
    println!("{label:<44} {:>9.1} ms   peak RSS {:>7} MiB", start.elapsed().as_secs_f64() * 1000.0, peak_rss_kib() / 1024);
    value
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let (Some(root), Some(archive)) = (args.first(), args.get(1)) else {
        eprintln!("usage: vulns ROOT OSV.zip (bench/host-vulns/generate.py writes them); nothing to measure");
        return;
    };
    let host = HostRoot::at(root);
    let inventory = timed("dpkg inventory", || vigil_host::packages::inventory(&host));
    let os = inventory.os.clone().expect("the root has an os-release");
    let ecosystem = host_ecosystem(&os).expect("a distribution OSV covers");
    println!("{} packages, ecosystem {}", inventory.packages.len(), ecosystem.label());
    // First, as the agent and `vigil host vulns` read it: only this host's records are kept, so
    // the peak below is the host path's alone (the archive-wide load follows).
    let host = timed("load the zip for this host (kept)", || vigil_host::vulns::load_for_host(Path::new(archive), &ecosystem, &inventory.packages).unwrap());
    let host_findings = host.database.matches(&ecosystem, &inventory.packages);
    println!("{} of {} records kept, {} findings", host.database.len(), host.read, host_findings.len());
    drop(host);
    let (records, problems) = timed("load the zip", || osv::load(Path::new(archive)).unwrap());
    println!("{} records, {} problems", records.len(), problems.len());
    // The agent's copy: the records as the server stores and serves them, 2,000 per page.
    let pages = tempfile::tempdir().unwrap();
    timed("write the agent's pages (server JSON)", || {
        for (index, chunk) in records.chunks(2_000).enumerate() {
            std::fs::write(pages.path().join(format!("page-{index:05}.json")), serde_json::to_vec(chunk).unwrap()).unwrap();
        }
    });
    let database = timed("index", || Database::new(records));
    let mut best = Duration::MAX;
    let mut findings = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        findings = database.matches(&ecosystem, &inventory.packages);
        best = best.min(start.elapsed());
    }
    println!("{:<44} {:>9.1} ms   ({} findings, best of 5)", "match", best.as_secs_f64() * 1000.0, findings.len());
    assert_eq!(findings.len(), host_findings.len(), "the host's records find what every record finds");
    drop(database);
    let (records, _) = timed("load the agent's pages", || osv::load(pages.path()).unwrap());
    let database = Database::new(records);
    let again = database.matches(&ecosystem, &inventory.packages);
    assert_eq!(again.len(), findings.len(), "the server's copy matches as the archive does");
    println!("peak RSS {} MiB", peak_rss_kib() / 1024);
}
