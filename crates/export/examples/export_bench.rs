//! Benchmark: `vigil export` throughput on a large generated store.
//!
//! `cargo run --release -p vigil-export --example export_bench -- 200000 [--keep DIR]`
//! (default 200,000 security groups). Generates a store with that many security groups in four
//! regions, three findings per group (`vigil_store::fixtures`, the generator the store's own
//! benchmark uses) and one alert per two groups over 30 days, then exports
//! every table to Parquet in a temporary directory (or DIR) and prints rows, files, seconds,
//! rows/s and bytes written per table, and the process's peak resident memory.
//! `-- --export-only DIR` exports the store `--keep DIR` left, alone in its process (so the
//! peak memory is the export's).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use vigil_export::{DirectorySink, ExportOptions};
use vigil_store::fixtures::{self, ACCOUNT, REGIONS, Shape};
use vigil_store::{AlertInput, Store};

fn alerts(count: usize) -> Vec<AlertInput> {
    (0..count)
        .map(|index| AlertInput {
            rule_id: format!("rule-{}", index % 40),
            event_id: format!("event-{index}"),
            rule_title: format!("Rule {}", index % 40),
            level: ["low", "medium", "high", "critical"][index % 4].into(),
            event_time: format!("2026-11-{:02}T{:02}:{:02}:00Z", index % 30 + 1, index % 24, index % 60),
            event_name: "StopLogging".into(),
            account_id: Some(ACCOUNT.into()),
            detail: serde_json::json!({"aws_region": REGIONS[index % 4], "principal": format!("arn:aws:iam::{ACCOUNT}:user/u{}", index % 500),
                "source_ip": "203.0.113.7", "event_source": "cloudtrail.amazonaws.com", "tags": ["attack.defense_evasion", "attack.t1562"]}),
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("VmHWM:")).and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

fn bytes_under(path: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let path = entry.path();
        total += if path.is_dir() { bytes_under(&path) } else { entry.metadata().map(|metadata| metadata.len()).unwrap_or(0) };
    }
    total
}

fn generate(store: &mut Store, groups: usize) {
    let started = Instant::now();
    let inventory = fixtures::inventory(Shape::security_groups(groups));
    let findings = fixtures::findings(&inventory);
    let input = fixtures::scan(&inventory, &findings);
    store.record_scan(&input).unwrap();
    store.record_alerts(&alerts(groups / 2), &chrono::Utc::now().to_rfc3339()).unwrap();
    drop(input);
    drop((findings, inventory));
    println!(
        "store: {} findings, {} resources, {} alerts, written in {:.1}s",
        store.table_rows("findings").unwrap(),
        store.table_rows("resources").unwrap(),
        store.table_rows("alerts").unwrap(),
        started.elapsed().as_secs_f64()
    );
    let baseline = peak_rss_mib();
    println!("peak RSS after generating the store: {baseline:.0} MiB");
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let groups: usize = arguments.first().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    let keep = arguments.iter().position(|argument| argument == "--keep").and_then(|index| arguments.get(index + 1)).map(std::path::PathBuf::from);
    let directory = tempfile::tempdir().unwrap();
    let root = keep.unwrap_or_else(|| directory.path().to_path_buf());
    let export_only =
        arguments.iter().position(|argument| argument == "--export-only").and_then(|index| arguments.get(index + 1)).map(std::path::PathBuf::from);
    let root = export_only.clone().unwrap_or(root);
    let mut store = Store::open(root.join("vigil.db").to_str().unwrap()).unwrap();
    if export_only.is_none() {
        generate(&mut store, groups);
    }
    let lake = root.join("lake");
    let _ = std::fs::remove_dir_all(&lake);
    for table in ["findings", "resources", "alerts"] {
        let options = ExportOptions { tables: ExportOptions::tables_named(table).unwrap(), ..ExportOptions::default() };
        let started = Instant::now();
        let summary = vigil_export::export(&mut store, &options, &mut DirectorySink::new(&lake)).unwrap().remove(0);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{table:<10} {:>9} rows {:>4} files {:>7.2} s {:>9.0} rows/s {:>8.1} MiB on disk",
            summary.rows,
            summary.files,
            seconds,
            summary.rows as f64 / seconds,
            bytes_under(&lake.join(table)) as f64 / 1_048_576.0
        );
    }
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}
