//! Benchmark: recording large scans in the SQLite store.
//!
//! `cargo bench -p vigil-store --bench store -- 1000000 [--findings]` (default 1,000,000
//! resources). Records a first scan (everything new), a second where 1% of the resources
//! changed, and a third with no change; prints each write's time and the store's size after
//! it, so the growth per scan is visible. With `--findings`, each scan also stores three
//! findings per instance and security group (PASS/FAIL mixes that change with the resources).
//! Then times the console's reads on that store: the dashboard, 10,000-row pages of findings
//! and resources (first and deep), facets. `--keep PATH` keeps the store at PATH (to time
//! `vigil serve` over it). The account and its findings are `vigil_store::fixtures`'s. Each
//! scan's lines end with the process's resident memory with the scan's inputs built (the
//! inventory and findings) and its peak so far, so the store's own share can be told apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use vigil_model::Inventory;
use vigil_store::Store;
use vigil_store::fixtures::{self, Shape};

/// Records a scan of `inventory` (with the generated findings when asked); returns what it
/// changed, its seconds, and the process's resident memory (MiB) with its inputs built, just
/// before it is recorded. Prints the write's CPU seconds (user + system: the machine may be
/// busy).
fn record(store: &mut Store, inventory: &Inventory, with_findings: bool) -> (vigil_store::WriteSummary, f64, f64) {
    let findings = if with_findings { fixtures::findings(inventory) } else { Vec::new() };
    let input = fixtures::scan(inventory, &findings);
    let inputs = memory_mib("VmRSS:");
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let summary = store.record_scan(&input).unwrap();
    println!("  write: {:.2} s CPU (user + system)", cpu_seconds() - cpu);
    (summary, started.elapsed().as_secs_f64(), inputs)
}

/// The process's user + system CPU seconds (`/proc/self/stat`, in clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command's closing parenthesis: state is field 0, utime 11, stime 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// A line of `/proc/self/status` in MiB (`VmRSS:` resident now, `VmHWM:` the peak so far).
fn memory_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix(field)).and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

fn size(path: &std::path::Path) -> u64 {
    ["", "-wal"].iter().filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok()).map(|metadata| metadata.len()).sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    let total: usize = args.iter().find_map(|arg| arg.parse().ok()).unwrap_or(1_000_000);
    let with_findings = args.iter().any(|arg| arg == "--findings");
    let directory = tempfile::tempdir().unwrap();
    let keep = args.iter().position(|arg| arg == "--keep").and_then(|index| args.get(index + 1)).map(std::path::PathBuf::from);
    let path = keep.clone().unwrap_or_else(|| directory.path().join("bench.db"));
    let mut store = Store::open(path.to_str().unwrap()).unwrap();

    let started = Instant::now();
    let mut inventory = fixtures::inventory(Shape::mixed(total));
    println!(
        "generated {} resources in {:.2} s{}",
        inventory.resources().len(),
        started.elapsed().as_secs_f64(),
        if with_findings { " (with findings)" } else { "" }
    );
    println!("resident with the inventory: {:.0} MiB", memory_mib("VmRSS:"));
    let (summary, seconds, inputs) = record(&mut store, &inventory, with_findings);
    println!("scan 1 (all new):     {seconds:6.2} s  {:>9} resources added  store {:>6.1} MiB", summary.resources_added, size(&path) as f64 / 1048576.0);
    println!("  resident with its inputs {inputs:.0} MiB; peak so far {:.0} MiB", memory_mib("VmHWM:"));
    let changed = fixtures::change_one_percent(&mut inventory);
    let (summary, seconds, inputs) = record(&mut store, &inventory, with_findings);
    let before = size(&path);
    println!(
        "scan 2 (1% changed):  {seconds:6.2} s  {:>9} resources changed ({changed} edited), {} new findings, {} resolved  store {:>6.1} MiB",
        summary.resources_changed,
        summary.findings_new,
        summary.findings_resolved,
        before as f64 / 1048576.0
    );
    println!("  resident with its inputs {inputs:.0} MiB; peak so far {:.0} MiB", memory_mib("VmHWM:"));
    let rows = |store: &mut Store| ["scans", "resource_versions", "finding_changes"].map(|table| store.table_rows(table).unwrap());
    let rows_before = rows(&mut store);
    let (summary, seconds, inputs) = record(&mut store, &inventory, with_findings);
    let rows_after = rows(&mut store);
    println!(
        "scan 3 (no change):   {seconds:6.2} s  {:>9} resources changed; rows added: scans {}, versions {}, finding changes {}; store file grew {} bytes",
        summary.resources_changed,
        rows_after[0] - rows_before[0],
        rows_after[1] - rows_before[1],
        rows_after[2] - rows_before[2],
        size(&path).saturating_sub(before)
    );
    println!("  resident with its inputs {inputs:.0} MiB; peak so far {:.0} MiB", memory_mib("VmHWM:"));
    console_reads(&mut store);
}

/// Times `work` `runs` times; returns (median, slowest) in milliseconds.
fn timed<T>(runs: usize, mut work: impl FnMut() -> T) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}

/// The console's reads on the store just written.
fn console_reads(store: &mut Store) {
    use vigil_store::query::{FindingFilter, ResourceFilter};
    let findings = store.table_rows("findings").unwrap();
    let resources = store.table_rows("resources").unwrap();
    println!("console reads over {resources} resources and {findings} findings (median / slowest of the runs):");
    let (median, slowest) = timed(20, || serde_json::to_vec(&store.dashboard().unwrap()).unwrap());
    println!("  dashboard (counts, compliance, trend; as JSON)   {median:8.1} ms / {slowest:8.1} ms");
    let all = FindingFilter::default();
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&all, 0, 10_000).unwrap()).unwrap());
    println!("  findings page of 10,000, first (as JSON)         {median:8.1} ms / {slowest:8.1} ms");
    let deep = findings / 2;
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&all, deep, 10_000).unwrap()).unwrap());
    println!("  findings page of 10,000 after row {deep:<9}     {median:8.1} ms / {slowest:8.1} ms");
    for sort in ["severity", "check", "resource", "newest"] {
        let sorted = FindingFilter { sort: Some(sort.to_string()), ..FindingFilter::default() };
        let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&sorted, deep, 10_000).unwrap()).unwrap());
        println!("  10,000 findings by {sort:<8} after row {deep:<9} {median:8.1} ms / {slowest:8.1} ms");
    }
    let failing = FindingFilter { failing: true, ..FindingFilter::default() };
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&failing, 0, 10_000).unwrap()).unwrap());
    println!("  failing findings page of 10,000                  {median:8.1} ms / {slowest:8.1} ms");
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.resources_page(&ResourceFilter::default(), resources / 2, 10_000).unwrap()).unwrap());
    println!("  resources page of 10,000 after row {:<9}    {median:8.1} ms / {slowest:8.1} ms", resources / 2);
    let (median, slowest) = timed(20, || store.facets().unwrap());
    println!("  inventory facets                                 {median:8.1} ms / {slowest:8.1} ms");
}
