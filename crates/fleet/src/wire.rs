//! What `vigil-agent` and `vigil serve` say to each other: JSON bodies over HTTPS under
//! [`PREFIX`], each request but enrolment authenticated with the agent's own credential
//! (`Authorization: Bearer <agent id>.<secret>`). Both sides use these types, so the shape is
//! written once.
//!
//! - `POST /agent/v1/enrol` ([`EnrolRequest`] → 200 [`Enrolled`], 202 [`Refusal`] pending, 403
//!   [`Refusal`])
//! - `POST /agent/v1/heartbeat` ([`Heartbeat`] → [`HeartbeatReply`])
//! - `GET /agent/v1/policy` (`If-None-Match: "<etag>"` → 304, or 200
//!   [`crate::EffectivePolicy`] with `ETag`)
//! - `POST /agent/v1/events` ([`Batch`] → [`Ack`] once committed)
//! - `POST /agent/v1/rotate` (→ [`Rotated`]; the old secret works until the new one is used)
//! - `POST /agent/v1/commands/ack` ([`CommandsAck`] → 204): the commands a person gave in the
//!   console (an IPS unblock) travel in [`HeartbeatReply::commands`] until the agent acknowledges
//!   them, so each is delivered until acknowledged and run once (the agent keeps the ids it ran)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lifecycle::Status;

/// Every agent route starts with this; the console's session and CSRF rules do not apply
/// under it (the agent's credential does).
pub const PREFIX: &str = "/agent/v1";
pub const ENROL: &str = "/agent/v1/enrol";
pub const HEARTBEAT: &str = "/agent/v1/heartbeat";
pub const POLICY: &str = "/agent/v1/policy";
pub const EVENTS: &str = "/agent/v1/events";
pub const ROTATE: &str = "/agent/v1/rotate";
/// The agent acknowledges the commands it received ([`CommandsAck`]).
pub const COMMANDS_ACK: &str = "/agent/v1/commands/ack";
/// The OSV advisories the server holds for one ecosystem (`?ecosystem=Debian&after=ID`), a
/// page at a time ([`OsvPage`]), so that a fleet needs no OSV copy per host.
pub const OSV: &str = "/agent/v1/osv";

/// One page of an ecosystem's OSV advisories, in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvPage {
    /// Changes whenever a load changes the ecosystem's advisories (the agent keeps its copy
    /// until it does).
    pub version: String,
    pub records: Vec<serde_json::Value>,
    /// The `after` of the next page; `None` on the last.
    pub next: Option<String>,
}

/// The largest request body the server reads (a batch is cut below it by the agent).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 2_000;
/// The largest payload of one event (JSON text); a module's larger result is split or cut by
/// the module.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// The signed identity document as IMDS serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `/latest/dynamic/instance-identity/document`, verbatim.
    pub document: String,
    /// `/latest/dynamic/instance-identity/pkcs7`, verbatim (base64 without PEM armour).
    pub pkcs7: String,
}

/// An enrolment: by identity document (on EC2) or by token (anywhere).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnrolRequest {
    pub identity: Option<Identity>,
    pub token: Option<String>,
    pub hostname: String,
    pub agent_version: String,
    /// The instance's tags as IMDS exposes them (informational: the server trusts its own
    /// inventory's tags).
    pub tags: BTreeMap<String, String>,
}

/// A successful enrolment: the agent's id and secret (shown once; the server keeps a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub agent_id: String,
    pub secret: String,
    pub instance_id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub heartbeat_seconds: u64,
}

/// Why the server refused or postponed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The request body is not what the route expects.
    Malformed,
    /// The body is larger than [`MAX_BODY_BYTES`] or a batch holds too many events.
    TooLarge,
    /// The PKCS#7 signature does not verify against the trusted certificates.
    BadSignature,
    /// The document's account is not one the store manages (no scan has read it).
    AccountNotManaged,
    /// The instance is not in the inventory yet: enrolment is held until a scan or event shows
    /// it (retry later).
    Pending,
    /// The instance is stopped or stopping.
    InstanceNotRunning,
    /// The instance is terminated: nothing enrols for it any more.
    InstanceTerminated,
    /// The document is older than the instance's current launch (a replayed document).
    StaleDocument,
    /// An agent is already enrolled for this instance.
    AlreadyEnrolled,
    /// The enrolment token is unknown, expired, used up or out of scope.
    BadToken,
    /// Neither identity document nor token.
    NoCredential,
    /// The agent's credential is missing or wrong.
    Unauthenticated,
    /// The agent's credential was revoked (by a person, or because its instance terminated).
    Revoked,
    /// The body names another agent than the credential's.
    WrongAgent,
    /// The server could not do it (the store failed); retry later.
    Unavailable,
}

/// A refusal (403, 401, 400, 413, 409) or a postponement (202 for [`Reason::Pending`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: Reason,
    /// For a person: what was wrong and what to do.
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// How the agent's on-disk queue stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueState {
    /// Events written but not yet acknowledged.
    pub pending: u64,
    /// Bytes they take.
    pub pending_bytes: u64,
    /// Events dropped because the queue was full, since the agent's state was created.
    pub dropped: u64,
}

/// One module's health, as the agent last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModuleHealth {
    pub module: String,
    /// `ok`, `error`, `degraded` (part of its work is covered only by rescans, or events were
    /// lost and a rescan covered them: `last_error` says which), `disabled`, `starting` (its
    /// first run has not finished) or `unknown` (a module the policy names that this agent lacks).
    pub state: String,
    pub last_run: Option<String>,
    pub last_error: Option<String>,
    pub events: u64,
}

/// Sent every `heartbeat_seconds`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Heartbeat {
    pub agent_id: String,
    pub agent_version: String,
    pub hostname: String,
    /// The ETag of the policy the agent runs (none before its first pull).
    pub policy_etag: Option<String>,
    pub queue: QueueState,
    pub modules: Vec<ModuleHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    pub status: Status,
    /// The ETag of the agent's effective policy now: pull it when it differs.
    pub policy_etag: String,
    pub heartbeat_seconds: u64,
    /// A person asked for a new secret (`vigil agents rotate`): call [`ROTATE`].
    #[serde(default)]
    pub rotate: bool,
    /// Commands people gave in the console for this agent and not yet acknowledged, oldest
    /// first (an older agent ignores the field; the commands wait for one that runs them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<AgentCommand>,
}

/// A command for one of the agent's modules, given by a person in the console (audit-logged
/// there). The agent keeps it in the module's inbox (`STATE/modules/<module>/inbox/`) before it
/// acknowledges it, and remembers the ids it ran, so a command resent after a lost
/// acknowledgement runs once. The module reports the outcome as an event carrying `command_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCommand {
    /// `cmd-` and 16 hex digits.
    pub id: String,
    /// The module that runs it (`ips`).
    pub module: String,
    /// What to do (`unblock`).
    pub kind: String,
    /// The command's arguments (`{"address": "198.51.100.7"}`).
    pub arguments: serde_json::Value,
    /// Who asked (the audit log's actor: `user:alice`).
    pub requested_by: String,
    /// When, RFC 3339.
    pub requested_at: String,
}

/// The ids of the commands the agent holds durably in its inboxes: the server stops sending
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandsAck {
    pub agent_id: String,
    pub ids: Vec<String>,
}

/// One event from a module: the envelope every module's output travels in. `id` is stable
/// (the same finding or record gives the same id), `kind` is the module's own word for what it
/// is, `payload` is the module's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub module: String,
    pub kind: String,
    /// When the module produced it, RFC 3339.
    pub time: String,
    pub payload: serde_json::Value,
}

/// An event with its place in the agent's queue (1, 2, ...; never reused by one agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequenced {
    pub seq: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// Events in sequence order, sent together and committed together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub agent_id: String,
    pub events: Vec<Sequenced>,
}

/// The server's answer once a batch is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Every event of this agent up to this sequence number is stored: drop them.
    pub acked_through: u64,
    /// Events stored by this batch.
    pub stored: u64,
    /// Events of this batch the server already had (a resend).
    pub duplicates: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    pub secret: String,
}

/// The `Authorization` header value for an agent's credential.
pub fn authorization(agent_id: &str, secret: &str) -> String {
    format!("Bearer {agent_id}.{secret}")
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110, section 11.1: `bearer`, `BEARER` and `Bearer` are the same scheme); the console's
/// token and the agents' credentials are both read through here.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

/// The (agent id, secret) an `Authorization` header carries.
pub fn credential(header: &str) -> Option<(&str, &str)> {
    let token = bearer(header)?;
    let (agent_id, secret) = token.rsplit_once('.')?;
    (!agent_id.is_empty() && !secret.is_empty()).then_some((agent_id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_round_trips_and_refuses_garbage() {
        assert_eq!(credential(&authorization("agt-1", "s3cr3t")), Some(("agt-1", "s3cr3t")));
        assert_eq!(credential("bearer agt-1.s3cr3t"), Some(("agt-1", "s3cr3t")), "the scheme is case-insensitive");
        assert_eq!(credential("Bearer nodot"), None);
        assert_eq!(credential("Bearer .secret"), None);
        assert_eq!(credential("Basic abc.def"), None);
    }

    #[test]
    fn a_heartbeat_reply_without_commands_still_reads_and_sends_none() {
        let old: HeartbeatReply = serde_json::from_str(r#"{"status": "online", "policy_etag": "e", "heartbeat_seconds": 60}"#).unwrap();
        assert!(old.commands.is_empty() && !old.rotate);
        assert!(!serde_json::to_string(&old).unwrap().contains("commands"), "an older agent sees the reply it knows");
    }

    #[test]
    fn an_event_travels_flat_with_its_sequence_number() {
        let event = Sequenced {
            seq: 7,
            event: Event {
                id: "e1".into(),
                module: "inventory".into(),
                kind: "os".into(),
                time: "2026-01-01T00:00:00Z".into(),
                payload: serde_json::json!({"a": 1}),
            },
        };
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(text, r#"{"seq":7,"id":"e1","module":"inventory","kind":"os","time":"2026-01-01T00:00:00Z","payload":{"a":1}}"#);
        assert_eq!(serde_json::from_str::<Sequenced>(&text).unwrap(), event);
    }
}
