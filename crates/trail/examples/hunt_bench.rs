//! Benchmark harness: runs a rule set over CloudTrail files and prints events/s and MB/s.
//!
//! Usage: `cargo run --release -p vigil-trail --example hunt_bench -- RULES_DIR PATH [--no-builtin]`
//! [--runs N] [--alerts] (set `RAYON_NUM_THREADS=1` for the per-core figure). Reports the
//! median of the runs (three by default); `--alerts` also prints the last run's alerts as JSON
//! Lines (the single-event alerts of `vigil trail hunt --format jsonl`), for
//! `bench/trail/agree.sh` without the CLI (`HUNT_BENCH=...`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

use vigil_trail::hunt::{TimeRange, hunt};
use vigil_trail::sigma::{CompileOptions, Loaded, RuleSet, files};
use vigil_trail::{ScanOptions, read};

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let rules = PathBuf::from(&arguments[0]);
    let path = arguments[1].clone();
    let builtin = !arguments.iter().any(|argument| argument == "--no-builtin");
    let options = CompileOptions::default();
    let mut loaded = Loaded::default();
    if builtin {
        loaded.extend(vigil_trail::builtin::load(&options));
    }
    loaded.extend(files::load_path(&rules, &options).unwrap());
    let (set, rejected) = RuleSet::new(loaded);
    assert!(rejected.is_empty(), "{rejected:?}");
    let sources = read::expand_paths(&[path]).unwrap();
    if arguments.iter().any(|argument| argument == "--parse-only") {
        let started = Instant::now();
        let (count, report) = vigil_trail::scan(&sources, ScanOptions::default(), || 0u64, |count, _, _| *count += 1, |left, right| left + right);
        let seconds = started.elapsed().as_secs_f64();
        println!("parse only: records {count} seconds {seconds:.3} MB/s {:.1}", report.bytes as f64 / 1e6 / seconds);
        return;
    }
    let run_count: usize = arguments.iter().position(|argument| argument == "--runs").map_or(3, |position| arguments[position + 1].parse().unwrap());
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..run_count {
        let started = Instant::now();
        let result = hunt(&set, &sources, TimeRange::default(), ScanOptions::default());
        let seconds = started.elapsed().as_secs_f64();
        for problem in result.report.problems.iter().take(5) {
            eprintln!("problem: {problem:?}");
        }
        runs.push((seconds, result.report.records, result.report.bytes, result.alerts.len()));
        last = Some(result);
    }
    if arguments.iter().any(|argument| argument == "--alerts")
        && let Some(result) = &last
    {
        for alert in &result.alerts {
            println!("{}", serde_json::to_string(alert).unwrap());
        }
        // The SigmaHQ CloudTrail rules have no correlations; say so if a rule set has.
        if !result.correlation_alerts.is_empty() {
            eprintln!("{} correlation alerts not printed", result.correlation_alerts.len());
        }
    }
    runs.sort_by(|left, right| left.0.total_cmp(&right.0));
    let (seconds, records, bytes, alerts) = runs[run_count / 2];
    println!(
        "rules {} files {} records {records} bytes {bytes} alerts {alerts} threads {} seconds {seconds:.3} events/s {:.0} MB/s {:.1}",
        set.rules.len() + set.correlations.len(),
        sources.len(),
        rayon::current_num_threads(),
        records as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
}
