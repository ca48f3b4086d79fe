//! The agent lifecycle as a pure function of what is known: the agent's last contact, its
//! instance's state in the inventory (from scans and `vigil watch` events), whether its
//! credential was revoked, and the time.
//!
//! - **retired**: the credential was revoked, or the instance is terminated (or deleted from
//!   a complete listing). History is kept; the credential is refused.
//! - **online**: heard from within the threshold (whatever a stale inventory says: a host that
//!   talks is up).
//! - **offline**: silent, and the instance is stopped: expected, no alert.
//! - **missing**: silent past the threshold while the instance runs (or, for a host off EC2,
//!   with no instance to say otherwise): an alert, a possible tamper. An instance started
//!   again after a stop is first given the threshold from the moment the inventory saw it
//!   running (its agent stays offline meanwhile): a booting host starts its agent.

use serde::{Deserialize, Serialize};

/// An agent's status: the contract's four values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Online,
    Offline,
    Missing,
    Retired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Offline => "offline",
            Status::Missing => "missing",
            Status::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "online" => Status::Online,
            "offline" => Status::Offline,
            "missing" => Status::Missing,
            "retired" => Status::Retired,
            _ => return None,
        })
    }
}

/// The instance's state as the inventory last recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// Pending or running.
    Running,
    /// Stopping or stopped.
    Stopped,
    /// Shutting down, terminated, or gone from a complete listing.
    Terminated,
    /// Not in the inventory (a host enrolled by token, or an instance no scan has read).
    Unknown,
}

/// What the lifecycle is decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub revoked: bool,
    /// The last heartbeat or batch, seconds since the epoch; the enrolment when none yet.
    pub last_contact_unix: i64,
    pub instance: InstanceState,
    /// When the inventory first saw the instance running again after its agent went offline
    /// (a stopped instance started), seconds since the epoch; `None` otherwise.
    pub started_unix: Option<i64>,
    pub now_unix: i64,
    /// Silence longer than this makes a running instance's agent missing.
    pub missing_after_seconds: i64,
}

/// The status the observation implies.
pub fn status(observation: &Observation) -> Status {
    if observation.revoked || observation.instance == InstanceState::Terminated {
        return Status::Retired;
    }
    let silent_for = observation.now_unix.saturating_sub(observation.last_contact_unix);
    if silent_for <= observation.missing_after_seconds {
        return Status::Online;
    }
    // Started again after a stop: still booting within the threshold of the start.
    let booting = observation.started_unix.is_some_and(|started| observation.now_unix.saturating_sub(started) <= observation.missing_after_seconds);
    match observation.instance {
        InstanceState::Stopped => Status::Offline,
        InstanceState::Running if booting => Status::Offline,
        _ => Status::Missing,
    }
}

/// Whether moving from `before` to `after` raises an alert: only entering `missing`.
pub fn alerts(before: Option<Status>, after: Status) -> bool {
    after == Status::Missing && before != Some(Status::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(revoked: bool, silent_for: i64, instance: InstanceState, expected: Status) {
        let observation =
            Observation { revoked, last_contact_unix: 1_000_000, instance, started_unix: None, now_unix: 1_000_000 + silent_for, missing_after_seconds: 300 };
        assert_eq!(status(&observation), expected, "revoked {revoked}, silent {silent_for}s, instance {instance:?}");
    }

    #[test]
    fn status_follows_contact_instance_state_and_revocation() {
        use InstanceState::*;
        check(false, 10, Running, Status::Online);
        check(false, 300, Running, Status::Online);
        check(false, 301, Running, Status::Missing);
        check(false, 10, Stopped, Status::Online);
        check(false, 301, Stopped, Status::Offline);
        check(false, 86_400 * 30, Stopped, Status::Offline);
        check(false, 10, Terminated, Status::Retired);
        check(false, 301, Terminated, Status::Retired);
        check(true, 10, Running, Status::Retired);
        check(false, 10, Unknown, Status::Online);
        check(false, 301, Unknown, Status::Missing);
        check(false, -50, Running, Status::Online);
    }

    #[test]
    fn a_restarted_instance_gives_its_agent_the_threshold_from_its_start() {
        // Silent for a day while stopped, started 100 s ago: still offline (booting, not heard
        // from); started 301 s ago: missing.
        let at = |started_ago: i64| Observation {
            revoked: false,
            last_contact_unix: 1_000_000,
            instance: InstanceState::Running,
            started_unix: Some(1_086_400 - started_ago),
            now_unix: 1_086_400,
            missing_after_seconds: 300,
        };
        assert_eq!(status(&at(100)), Status::Offline);
        assert_eq!(status(&at(301)), Status::Missing);
        // A start older than the last contact changes nothing.
        let old = Observation { started_unix: Some(999_000), ..at(0) };
        assert_eq!(status(&old), Status::Missing);
    }

    #[test]
    fn only_entering_missing_alerts() {
        assert!(alerts(Some(Status::Online), Status::Missing));
        assert!(alerts(None, Status::Missing));
        assert!(!alerts(Some(Status::Missing), Status::Missing));
        assert!(!alerts(Some(Status::Online), Status::Offline));
        assert!(!alerts(Some(Status::Online), Status::Retired));
        assert!(alerts(Some(Status::Offline), Status::Missing), "a stopped instance started again whose agent stays silent");
    }
}
