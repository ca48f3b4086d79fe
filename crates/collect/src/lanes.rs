//! Admission of API calls: one adaptive concurrency limit per (service, region) lane under the
//! session's global cap (`--max-in-flight`).
//!
//! AWS limits request rates per API, account and region, so a throttled service in one region
//! must slow down alone rather than hold back every other one. Each lane starts at the global
//! cap (an unthrottled account is limited only by it) and works like TCP's congestion window:
//! a call with a throttled attempt ([`crate::session::Attempts::throttled`]) or that ended
//! throttled halves the lane's limit, down to one; every `limit` calls that were not
//! throttled raise it by one again, up to the cap. Other failures (a 500, a timeout, an
//! operation the endpoint lacks) do not narrow it. The SDK's adaptive retry mode still paces the
//! retries themselves (its rate limiter per retry partition); the lane bounds how many calls
//! wait on it at once. A call takes its lane's permit before the global one, so calls queued
//! behind a throttled lane hold none of the global budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The lanes of one session, created on first use.
pub struct Lanes {
    cap: usize,
    lanes: Mutex<HashMap<(String, String), Arc<Lane>>>,
}

/// One (service, region) lane.
pub struct Lane {
    cap: usize,
    semaphore: Arc<Semaphore>,
    state: Mutex<LaneState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LaneState {
    /// Calls this lane lets in at once.
    limit: usize,
    /// Permits to retire as calls finish (after the limit was lowered).
    debt: usize,
    /// Calls that were not throttled since the limit last changed.
    clean: usize,
    /// Calls admitted so far (each permit carries its number).
    admitted: u64,
    /// The number of the last call admitted before the limit was last cut: throttled calls
    /// already in flight then cut it no further (once per window, as TCP does).
    cut_mark: u64,
}

impl Lanes {
    pub fn new(cap: usize) -> Lanes {
        Lanes { cap: cap.max(1), lanes: Mutex::new(HashMap::new()) }
    }

    /// The lane of one service in one region.
    pub fn lane(&self, service: &str, region: &str) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (service.to_string(), region.to_string());
        Arc::clone(lanes.entry(key).or_insert_with(|| Arc::new(Lane::new(self.cap))))
    }
}

impl Lane {
    fn new(cap: usize) -> Lane {
        Lane { cap, semaphore: Arc::new(Semaphore::new(cap)), state: Mutex::new(LaneState { limit: cap, debt: 0, clean: 0, admitted: 0, cut_mark: 0 }) }
    }

    /// Waits for room in this lane.
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedLanePermit {
        // The semaphore is never closed, so acquiring cannot fail; if it ever did, the call
        // goes ahead under the global cap alone.
        let permit = Arc::clone(&self.semaphore).acquire_owned().await.ok();
        let number = {
            let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            state.admitted += 1;
            state.admitted
        };
        OwnedLanePermit { lane: self, permit, number }
    }

    /// The calls this lane lets in at once now.
    pub fn limit(&self) -> usize {
        self.state.lock().map(|state| state.limit).unwrap_or(self.cap)
    }

    /// Adjusts the limit after call `number`: `congested` when it was throttled. Returns
    /// whether the call's permit is retired rather than returned.
    fn settle(&self, number: u64, congested: bool) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if congested && number > state.cut_mark {
            let lowered = (state.limit / 2).max(1);
            // Free permits are retired at once; those in use as their calls finish.
            let owed = state.limit - lowered;
            let retired_now = self.semaphore.forget_permits(owed);
            state.debt += owed - retired_now;
            state.limit = lowered;
            state.clean = 0;
            state.cut_mark = state.admitted;
        } else if congested {
            state.clean = 0;
        } else {
            state.clean += 1;
            if state.clean >= state.limit && state.limit < self.cap {
                state.clean = 0;
                state.limit += 1;
                // Raising the limit first cancels a permit still owed, else adds one.
                if state.debt > 0 {
                    state.debt -= 1;
                } else {
                    self.semaphore.add_permits(1);
                }
            }
        }
        if state.debt > 0 {
            state.debt -= 1;
            true
        } else {
            false
        }
    }
}

/// Room for one call in a lane; [`OwnedLanePermit::settle`] reports how the call went.
/// Dropped without it (a call abandoned), the room is freed and the limit left as it is.
pub struct OwnedLanePermit {
    lane: Arc<Lane>,
    permit: Option<OwnedSemaphorePermit>,
    /// The call's number in its lane.
    number: u64,
}

impl OwnedLanePermit {
    /// Reports whether the call was throttled (any attempt, or its end), and frees its room.
    pub fn settle(mut self, throttled: bool) {
        let retire = self.lane.settle(self.number, throttled);
        if retire && let Some(permit) = self.permit.take() {
            permit.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lane_halves_once_per_window_of_throttled_calls_and_climbs_back() {
        let lanes = Lanes::new(8);
        let lane = lanes.lane("s3", "eu-west-1");
        assert_eq!(lane.limit(), 8);
        assert!(Arc::ptr_eq(&lane, &lanes.lane("s3", "eu-west-1")));
        assert!(!Arc::ptr_eq(&lane, &lanes.lane("s3", "us-east-1")));
        let acquire = |count: usize| {
            let lane = Arc::clone(&lane);
            futures::future::join_all((0..count).map(move |_| Arc::clone(&lane).acquire_owned()))
        };
        // Eight calls in flight, all throttled: the first cuts the limit to 4, the others were
        // in flight already and cut it no further; four of their permits are retired.
        let permits = acquire(8).await;
        for permit in permits {
            permit.settle(true);
        }
        assert_eq!((lane.limit(), lane.semaphore.available_permits()), (4, 4));
        // A throttled call admitted after the cut cuts again; free permits go at once.
        acquire(1).await.into_iter().for_each(|permit| permit.settle(true));
        assert_eq!((lane.limit(), lane.semaphore.available_permits()), (2, 2));
        // A window of 2 calls that went through raises it by one, and so on up to the cap.
        acquire(2).await.into_iter().for_each(|permit| permit.settle(false));
        assert_eq!((lane.limit(), lane.semaphore.available_permits()), (3, 3));
        for _ in 0..100 {
            acquire(1).await.into_iter().for_each(|permit| permit.settle(false));
        }
        assert_eq!((lane.limit(), lane.semaphore.available_permits()), (8, 8));
        // Never below one.
        for _ in 0..10 {
            acquire(1).await.into_iter().for_each(|permit| permit.settle(true));
        }
        assert_eq!((lane.limit(), lane.semaphore.available_permits()), (1, 1));
    }

    #[tokio::test]
    async fn a_cut_lane_lets_fewer_calls_in_while_its_calls_finish() {
        let lanes = Lanes::new(4);
        let lane = lanes.lane("ec2", "us-east-1");
        let permits: Vec<_> = futures::future::join_all((0..4).map(|_| Arc::clone(&lane).acquire_owned())).await;
        let mut permits = permits.into_iter();
        // The first call was throttled: the limit halves to 2, and the permits of the calls
        // finishing next are retired until only 2 are in use.
        permits.next().unwrap().settle(true);
        permits.next().unwrap().settle(false);
        assert_eq!(lane.semaphore.available_permits(), 0);
        assert_eq!(lane.limit(), 2);
    }
}
