//! Benchmark driver for bench/host/run.sh: the library calls `vigil host fim` and `vigil host
//! logs hunt` make, in a small release binary (building the whole `vigil` binary in release
//! takes far longer on a shared machine).
//!
//! host_bench fim-baseline ROOT DB blake3|sha256 THREADS
//! host_bench fim-check ROOT DB THREADS
//! host_bench logs FILE [RULES_DIR]...

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use vigil_host::fim::{self, Baseline, FimConfig, HashAlgorithm};
use vigil_host::fsroot::HostRoot;
use vigil_host::logs::detect::{self, Detector};
use vigil_host::logs::{Collector, FileSource, Positions};

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let start = Instant::now();
    match arguments.first().map(String::as_str) {
        Some("fim-baseline") => {
            let config = FimConfig { hash: HashAlgorithm::parse(&arguments[3]).unwrap(), threads: arguments[4].parse().unwrap(), ..FimConfig::default() };
            let report = fim::baseline(&HostRoot::at(&arguments[1]), Path::new(&arguments[2]), &config).unwrap();
            eprintln!(
                "{} entries, {} MB, {} problems in {:.2} s",
                report.entries,
                report.bytes_hashed / 1_000_000,
                report.problems.len(),
                start.elapsed().as_secs_f64()
            );
        }
        Some("fim-check") => {
            let baseline = Baseline::open(Path::new(&arguments[2])).unwrap();
            let config = FimConfig { threads: arguments[3].parse().unwrap(), ..baseline.config().unwrap() };
            let (changes, report) = fim::check(&HostRoot::at(&arguments[1]), &baseline, &config).unwrap();
            eprintln!("{} changes over {} entries in {:.2} s", changes.len(), report.entries, start.elapsed().as_secs_f64());
        }
        Some("logs") => {
            let rules: Vec<PathBuf> = arguments[2..].iter().map(PathBuf::from).collect();
            let rule_paths: Vec<&Path> = rules.iter().map(PathBuf::as_path).collect();
            let (set, rejected) = detect::load(&rule_paths, true).unwrap();
            let loaded = Instant::now();
            let collector = Collector::new(vec![FileSource::new(&arguments[1])], Positions::default());
            let batch = collector.poll();
            let records = batch.records.len();
            let mut detector = Detector::default();
            let mut alerts = 0;
            for record in &batch.records {
                alerts += detector.check(&set, record).len();
            }
            alerts += detector.correlations(&set).len();
            let seconds = loaded.elapsed().as_secs_f64();
            eprintln!(
                "{records} records, {} rules ({} rejected), {alerts} alerts in {seconds:.2} s: {:.0} records/s",
                set.rules.len(),
                rejected.len(),
                records as f64 / seconds
            );
        }
        _ => panic!("usage: host_bench fim-baseline ROOT DB HASH THREADS | fim-check ROOT DB THREADS | logs FILE [RULES]..."),
    }
}
