//! What the host benchmarks share: the process's peak resident memory and CPU time
//! (`vigil-benchkit`, read from `/proc/self`).

pub use vigil_benchkit::peak_rss_kib;

/// (user + system CPU of this process, of its waited-for children), in seconds.
#[allow(dead_code)] // not every benchmark reports CPU time
pub fn cpu_seconds() -> (f64, f64) {
    (vigil_benchkit::cpu_seconds(), vigil_benchkit::children_cpu_seconds())
}
