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
//!   with no instance to say otherwise): an alert, a possible tamper.

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
    match observation.instance {
        InstanceState::Stopped => Status::Offline,
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
        let observation = Observation { revoked, last_contact_unix: 1_000_000, instance, now_unix: 1_000_000 + silent_for, missing_after_seconds: 300 };
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
    fn only_entering_missing_alerts() {
        assert!(alerts(Some(Status::Online), Status::Missing));
        assert!(alerts(None, Status::Missing));
        assert!(!alerts(Some(Status::Missing), Status::Missing));
        assert!(!alerts(Some(Status::Online), Status::Offline));
        assert!(!alerts(Some(Status::Online), Status::Retired));
        assert!(alerts(Some(Status::Offline), Status::Missing), "a stopped instance started again whose agent stays silent");
    }
}
