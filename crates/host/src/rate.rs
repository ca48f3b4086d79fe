//! A rate limit for background work (scheduled rescans, scans, log catch-up): a token bucket
//! over bytes and files that sleeps the calling thread when work runs ahead of its budget.

use std::time::{Duration, Instant};

/// Limits per second; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimit {
    pub bytes_per_second: Option<u64>,
    pub files_per_second: Option<u64>,
}

impl RateLimit {
    pub const UNLIMITED: RateLimit = RateLimit { bytes_per_second: None, files_per_second: None };

    pub fn is_unlimited(&self) -> bool {
        self.bytes_per_second.is_none() && self.files_per_second.is_none()
    }
}

/// Paces work to a [`RateLimit`]: the work done since `start` may not run ahead of the budget
/// by more than one second's worth.
#[derive(Debug)]
pub struct Pacer {
    limit: RateLimit,
    start: Instant,
    bytes: u64,
    files: u64,
}

impl Pacer {
    pub fn new(limit: RateLimit) -> Pacer {
        Pacer { limit, start: Instant::now(), bytes: 0, files: 0 }
    }

    /// Accounts for one file of `bytes` and sleeps as long as the budget requires.
    pub fn account(&mut self, bytes: u64) {
        if self.limit.is_unlimited() {
            return;
        }
        self.bytes += bytes;
        self.files += 1;
        let due = |done: u64, per_second: Option<u64>| per_second.filter(|rate| *rate > 0).map(|rate| Duration::from_secs_f64(done as f64 / rate as f64));
        let wanted = due(self.bytes, self.limit.bytes_per_second).max(due(self.files, self.limit.files_per_second)).unwrap_or_default();
        let elapsed = self.start.elapsed();
        if let Some(wait) = wanted.checked_sub(elapsed).filter(|wait| !wait.is_zero()) {
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pacer_holds_work_to_its_budget() {
        let mut pacer = Pacer::new(RateLimit { bytes_per_second: None, files_per_second: Some(200) });
        let start = Instant::now();
        for _ in 0..20 {
            pacer.account(0);
        }
        // 20 files at 200 per second take at least 0.1 s: a lower bound, never a timing ceiling.
        assert!(start.elapsed() >= Duration::from_millis(95));
        let mut unlimited = Pacer::new(RateLimit::UNLIMITED);
        unlimited.account(u64::MAX);
    }
}
