//! What the host benchmarks share: the process's peak resident memory and CPU time, read from
//! `/proc/self`.

/// The peak resident set size (`VmHWM` of `/proc/self/status`), in KiB; 0 when unreadable.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find(|line| line.starts_with("VmHWM:")).and_then(|line| line.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// (user + system CPU of this process, of its waited-for children), in seconds, from
/// `/proc/self/stat` (fields 14 to 17, in clock ticks of `USER_HZ`, 100 on Linux).
#[allow(dead_code)] // not every benchmark reports CPU time
pub fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; the numeric fields from 4 on follow its `)`
    // and the state letter (field 3, skipped by the parse).
    let fields: Vec<f64> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().filter_map(|field| field.parse().ok()).collect()).unwrap_or_default();
    let tick = |index: usize| fields.get(index).copied().unwrap_or(0.0) / 100.0;
    (tick(10) + tick(11), tick(12) + tick(13))
}
