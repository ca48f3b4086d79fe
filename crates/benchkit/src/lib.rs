//! What vigil's benchmarks share: the CPU time and memory they report beside wall-clock time,
//! read from `/proc` (Linux). The machine is often shared, so wall-clock time alone overstates
//! an engine's cost; CPU seconds do not. Every reader returns 0 where `/proc` is unreadable (a
//! benchmark prints the figure, it never fails on it).

/// A stat file's numeric fields after the command name (which may hold spaces and parentheses:
/// the last `)` ends it) and the state letter: index 0 is field 4 of stat(5).
fn stat_fields(path: &str) -> Vec<f64> {
    parse_stat(&std::fs::read_to_string(path).unwrap_or_default())
}

fn parse_stat(stat: &str) -> Vec<f64> {
    let Some((_, rest)) = stat.rsplit_once(')') else { return Vec::new() };
    rest.split_whitespace().skip(1).map(|field| field.parse::<f64>().unwrap_or(0.0)).collect()
}

/// Clock ticks per second of `/proc`'s times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// Fields 14 + 15 (utime, stime) or 16 + 17 (cutime, cstime) of a stat file, in seconds.
fn seconds(fields: &[f64], first: usize) -> f64 {
    // Field N of stat(5) is at index N - 4 here (fields 1-3 are the pid, command and state).
    let at = |field: usize| fields.get(field - 4).copied().unwrap_or(0.0);
    (at(first) + at(first + 1)) / TICKS_PER_SECOND
}

/// User + system CPU seconds this process used so far.
pub fn cpu_seconds() -> f64 {
    seconds(&stat_fields("/proc/self/stat"), 14)
}

/// User + system CPU seconds of this process's children it waited for.
pub fn children_cpu_seconds() -> f64 {
    seconds(&stat_fields("/proc/self/stat"), 16)
}

/// The calling thread's time on a CPU so far, in seconds (`/proc/thread-self/schedstat`'s first
/// field, nanoseconds): for a figure that holds on a busy machine while other threads run.
pub fn thread_cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|nanoseconds| nanoseconds.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
}

/// A `kB` line of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix(field)).and_then(|value| value.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

/// The peak resident set size so far (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The resident set size now (`VmRSS`), in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// KiB as MiB, for printing.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_read_after_the_last_parenthesis() {
        // pid (comm with ") (" inside) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
        let stat = "42 (a) (b c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 3 20 0";
        let parsed = parse_stat(stat);
        assert_eq!(seconds(&parsed, 14), 3.0);
        assert_eq!(seconds(&parsed, 16), 0.1);
        assert!(cpu_seconds() >= 0.0 && peak_rss_kib() >= rss_kib() / 2);
    }
}
