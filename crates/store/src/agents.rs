//! The agent fleet in the store: agents (joined to their instance by id; credentials kept as
//! SHA-256 hashes only), every enrolment attempt with its outcome, enrolment tokens (hashes),
//! agent events stored exactly once per (agent, sequence number), the host policies served,
//! and the lifecycle sweep that turns heartbeats and instance states into statuses, a
//! `missing` alert, and revocation when an instance is terminated.

use std::collections::BTreeSet;

use serde::Serialize;
use vigil_fleet::lifecycle::{self, InstanceState, Observation, Status};
use vigil_fleet::wire::Sequenced;
use vigil_host::logs::detect::RecordEvaluator;

use crate::db::{Db, Param, Value};
use crate::{ResourceState, Store, StoreError};

/// The rule id of the alert raised when an agent goes missing.
pub const MISSING_RULE: &str = "vigil-agent-missing";

/// An instance as the inventory last recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRecord {
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub state: ResourceState,
    /// The latest configuration (DescribeInstances' shape) and tags.
    pub config: serde_json::Value,
    pub tags: serde_json::Value,
}

impl InstanceRecord {
    /// The lifecycle's view of the state.
    pub fn lifecycle_state(&self) -> InstanceState {
        instance_state(Some(self.state))
    }
}

fn instance_state(state: Option<ResourceState>) -> InstanceState {
    match state {
        Some(ResourceState::Active) => InstanceState::Running,
        Some(ResourceState::Stopped) => InstanceState::Stopped,
        Some(ResourceState::Terminated | ResourceState::Deleted) => InstanceState::Terminated,
        None => InstanceState::Unknown,
    }
}

/// A new agent.
#[derive(Debug, Clone)]
pub struct NewAgent<'a> {
    pub id: &'a str,
    pub instance_id: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub hostname: &'a str,
    pub agent_version: &'a str,
    /// `identity` or `token:<token id>`.
    pub enrolled_by: &'a str,
    pub secret_hash: &'a str,
    pub at: &'a str,
    pub at_unix: i64,
}

/// An enrolment attempt, whatever its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentAttempt {
    pub at: String,
    pub instance_id: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub hostname: String,
    /// `enrolled`, `pending` or `refused`.
    pub outcome: String,
    /// The refusal's reason code (`bad_signature`, ...), or `enrolled`.
    pub reason: String,
    pub detail: String,
    pub agent_id: Option<String>,
}

/// An agent as the console and `vigil agents` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    pub agent_id: String,
    pub instance_id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub status: Status,
    pub last_seen: Option<String>,
    pub hostname: String,
    pub agent_version: String,
    pub enrolled_at: String,
    pub enrolled_by: String,
    pub status_since: String,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
    pub policy_etag: Option<String>,
    pub last_seq: i64,
    /// The instance's ARN when the inventory has it.
    pub instance_arn: Option<String>,
    /// The instance's state in the inventory (`active`, `stopped`, `terminated`, `deleted`).
    pub instance_state: Option<String>,
    pub modules: serde_json::Value,
    pub queue: serde_json::Value,
}

/// What authenticating an agent needs.
#[derive(Debug, Clone)]
pub struct AgentAuth {
    pub secret_hash: String,
    pub next_secret_hash: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
    pub instance_id: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

/// An enrolment token as stored (its hash only).
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub expires_unix: i64,
    /// Account ids or globs the token may enrol hosts for (empty: any), and hostnames.
    pub scope: serde_json::Value,
    pub uses_left: Option<i64>,
    pub used: i64,
    pub revoked_at: Option<String>,
    pub description: String,
}

/// A stored agent event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentEventRow {
    pub agent_id: String,
    pub seq: i64,
    pub event_id: String,
    pub module: String,
    pub kind: String,
    pub event_time: String,
    pub received_at: String,
    pub payload: serde_json::Value,
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub stored: u64,
    pub duplicates: u64,
    /// The agent's highest stored sequence number after the batch.
    pub last_seq: u64,
    /// `logs`/`record` events the server's detections could not read as records (stored, not
    /// evaluated).
    pub not_records: u64,
}

/// A status change made by the lifecycle sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub agent_id: String,
    pub instance_id: Option<String>,
    pub before: Status,
    pub after: Status,
    /// The alert raised (entering `missing`).
    pub alert: Option<crate::AlertInput>,
}

const AGENT_COLUMNS: &str = "a.id, a.instance_id, a.account_id, a.region, a.status, a.last_seen_at, a.hostname, a.agent_version, a.enrolled_at, a.enrolled_by,
     a.status_since, a.revoked_at, a.revoked_reason, a.policy_etag, a.last_seq, r.arn, r.state, a.health, a.queue, a.last_seen_unix, a.enrolled_unix";

const AGENT_FROM: &str = "FROM agents a LEFT JOIN resources r ON r.resource_type = 'AWS::EC2::Instance' AND r.resource_id = a.instance_id";

fn text(row: &[Value], index: usize) -> String {
    row.get(index).and_then(Value::text).unwrap_or_default().to_string()
}

fn opt_text(row: &[Value], index: usize) -> Option<String> {
    row.get(index).and_then(Value::text).map(str::to_string)
}

fn json(row: &[Value], index: usize, default: serde_json::Value) -> serde_json::Value {
    row.get(index).and_then(Value::text).and_then(|text| serde_json::from_str(text).ok()).unwrap_or(default)
}

/// The row, with its status as stored (the sweep keeps it current).
fn agent_row(row: &[Value]) -> AgentRow {
    AgentRow {
        agent_id: text(row, 0),
        instance_id: opt_text(row, 1),
        account: opt_text(row, 2),
        region: opt_text(row, 3),
        status: Status::parse(&text(row, 4)).unwrap_or(Status::Online),
        last_seen: opt_text(row, 5),
        hostname: text(row, 6),
        agent_version: text(row, 7),
        enrolled_at: text(row, 8),
        enrolled_by: text(row, 9),
        status_since: text(row, 10),
        revoked_at: opt_text(row, 11),
        revoked_reason: opt_text(row, 12),
        policy_etag: opt_text(row, 13),
        last_seq: row.get(14).and_then(Value::int).unwrap_or_default(),
        instance_arn: opt_text(row, 15),
        instance_state: opt_text(row, 16),
        modules: json(row, 17, serde_json::json!([])),
        queue: json(row, 18, serde_json::json!({})),
    }
}

/// The status the lifecycle gives this row now.
fn status_now(row: &[Value], agent: &AgentRow, db: &mut Db, now_unix: i64, missing_after_seconds: i64) -> Result<Status, StoreError> {
    let last_contact = row.get(19).and_then(Value::int).or_else(|| row.get(20).and_then(Value::int)).unwrap_or(now_unix);
    let state = opt_text(row, 16).as_deref().and_then(ResourceState::parse);
    let instance = if agent.instance_id.is_some() { instance_state(state) } else { InstanceState::Unknown };
    // An offline agent's instance seen running again: booting, from the start the inventory saw.
    let started_unix = match (agent.status, instance, agent.instance_id.as_deref()) {
        (Status::Offline, InstanceState::Running, Some(instance_id)) => running_since(db, instance_id)?,
        _ => None,
    };
    Ok(lifecycle::status(&Observation {
        revoked: opt_text(row, 11).is_some(),
        last_contact_unix: last_contact,
        instance,
        started_unix,
        now_unix,
        missing_after_seconds,
    }))
}

/// When the inventory first recorded the instance in its current run of `active` versions
/// (its latest start), seconds since the epoch.
fn running_since(db: &mut Db, instance_id: &str) -> Result<Option<i64>, StoreError> {
    let row = db.row(
        "SELECT MIN(v.observed_at) FROM resources r JOIN resource_versions v ON v.resource = r.id
         WHERE r.resource_type = 'AWS::EC2::Instance' AND r.resource_id = $1 AND v.state = $2
           AND v.version > COALESCE((SELECT MAX(w.version) FROM resource_versions w WHERE w.resource = r.id AND w.state <> $2), 0)",
        &[Param::Text(instance_id), Param::Text(ResourceState::Active.as_str())],
    )?;
    let observed = row.as_deref().and_then(|row| opt_text(row, 0));
    Ok(observed.and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok()).map(|at| at.timestamp()))
}

impl Store {
    /// The instance with this id, as the latest scan or event recorded it.
    pub fn instance_record(&mut self, instance_id: &str) -> Result<Option<InstanceRecord>, StoreError> {
        let row = self.db.row(
            "SELECT r.arn, r.account_id, r.region, r.state, v.config, v.tags FROM resources r
             LEFT JOIN resource_versions v ON v.resource = r.id AND v.version = r.version
             WHERE r.resource_id = $1 AND r.resource_type = 'AWS::EC2::Instance' ORDER BY r.id DESC LIMIT 1",
            &[Param::Text(instance_id)],
        )?;
        let Some(row) = row else { return Ok(None) };
        let config = match row.get(4).cloned().and_then(Value::into_blob) {
            Some(blob) => crate::diff::decode_config(&blob)?,
            None => serde_json::Value::Null,
        };
        Ok(Some(InstanceRecord {
            arn: text(&row, 0),
            account_id: text(&row, 1),
            region: text(&row, 2),
            state: ResourceState::parse(&text(&row, 3)).unwrap_or(ResourceState::Active),
            config,
            tags: json(&row, 5, serde_json::json!({})),
        }))
    }

    /// True when a scan has read this account (its resources are in the store).
    pub fn account_managed(&mut self, account_id: &str) -> Result<bool, StoreError> {
        Ok(self.db.int("SELECT COUNT(*) FROM (SELECT 1 FROM resources WHERE account_id = $1 LIMIT 1) t", &[Param::Text(account_id)])?.unwrap_or(0) > 0)
    }

    /// The agent enrolled for an instance, if any (revoked ones included: an instance is
    /// enrolled once).
    pub fn agent_for_instance(&mut self, instance_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.db.row("SELECT id FROM agents WHERE instance_id = $1", &[Param::Text(instance_id)])?.and_then(|row| opt_text(&row, 0)))
    }

    /// Records a new agent. Fails with `Ok(Some(existing id))` when the instance already has
    /// one (the unique index decides, even between two servers racing).
    pub fn enrol_agent(&mut self, agent: &NewAgent<'_>) -> Result<Option<String>, StoreError> {
        self.db.begin_write()?;
        let result = (|| {
            if let Some(instance_id) = agent.instance_id
                && let Some(row) = self.db.row("SELECT id FROM agents WHERE instance_id = $1", &[Param::Text(instance_id)])?
            {
                return Ok(Some(text(&row, 0)));
            }
            self.db.exec(
                "INSERT INTO agents (id, instance_id, account_id, region, hostname, agent_version, enrolled_at, enrolled_unix, enrolled_by, secret_hash,
                    status, status_since, last_seq, health, queue, rotate_requested)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'online', $7, 0, '[]', '{}', 0)",
                &[
                    Param::Text(agent.id),
                    Param::OptText(agent.instance_id),
                    Param::OptText(agent.account_id),
                    Param::OptText(agent.region),
                    Param::Text(agent.hostname),
                    Param::Text(agent.agent_version),
                    Param::Text(agent.at),
                    Param::Int(agent.at_unix),
                    Param::Text(agent.enrolled_by),
                    Param::Text(agent.secret_hash),
                ],
            )?;
            Ok(None)
        })();
        match result {
            Ok(outcome) => {
                self.db.commit()?;
                Ok(outcome)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// Logs an enrolment attempt.
    pub fn record_enrolment(&mut self, attempt: &EnrolmentAttempt) -> Result<(), StoreError> {
        self.db.begin_write()?;
        let inserted = self.db.exec(
            "INSERT INTO enrolments (id, at, instance_id, account_id, region, hostname, outcome, reason, detail, agent_id)
             VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM enrolments), $1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                Param::Text(&attempt.at),
                Param::OptText(attempt.instance_id.as_deref()),
                Param::OptText(attempt.account_id.as_deref()),
                Param::OptText(attempt.region.as_deref()),
                Param::Text(&attempt.hostname),
                Param::Text(&attempt.outcome),
                Param::Text(&attempt.reason),
                Param::Text(&attempt.detail),
                Param::OptText(attempt.agent_id.as_deref()),
            ],
        );
        match inserted {
            Ok(_) => self.db.commit(),
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// The latest enrolment attempts, newest first.
    pub fn enrolments(&mut self, limit: usize) -> Result<Vec<EnrolmentAttempt>, StoreError> {
        let rows = self.db.rows(
            "SELECT at, instance_id, account_id, region, hostname, outcome, reason, detail, agent_id FROM enrolments ORDER BY id DESC LIMIT $1",
            &[Param::Int(limit as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|row| EnrolmentAttempt {
                at: text(row, 0),
                instance_id: opt_text(row, 1),
                account_id: opt_text(row, 2),
                region: opt_text(row, 3),
                hostname: text(row, 4),
                outcome: text(row, 5),
                reason: text(row, 6),
                detail: text(row, 7),
                agent_id: opt_text(row, 8),
            })
            .collect())
    }

    pub fn agent_auth(&mut self, agent_id: &str) -> Result<Option<AgentAuth>, StoreError> {
        let row = self.db.row(
            "SELECT secret_hash, next_secret_hash, revoked_at, revoked_reason, instance_id, account_id, region FROM agents WHERE id = $1",
            &[Param::Text(agent_id)],
        )?;
        Ok(row.map(|row| AgentAuth {
            secret_hash: text(&row, 0),
            next_secret_hash: opt_text(&row, 1),
            revoked_at: opt_text(&row, 2),
            revoked_reason: opt_text(&row, 3),
            instance_id: opt_text(&row, 4),
            account_id: opt_text(&row, 5),
            region: opt_text(&row, 6),
        }))
    }

    pub(crate) fn write<T>(&mut self, work: impl FnOnce(&mut crate::db::Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.db.begin_write()?;
        match work(&mut self.db) {
            Ok(value) => {
                self.db.commit()?;
                Ok(value)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// The agent used its rotated secret: it is the secret now.
    pub fn promote_secret(&mut self, agent_id: &str) -> Result<(), StoreError> {
        self.write(|db| {
            db.exec(
                "UPDATE agents SET secret_hash = next_secret_hash, next_secret_hash = NULL, rotate_requested = 0 WHERE id = $1 AND next_secret_hash IS NOT NULL",
                &[Param::Text(agent_id)],
            )
        })?;
        Ok(())
    }

    /// Keeps a rotated secret's hash beside the current one.
    pub fn set_next_secret(&mut self, agent_id: &str, next_hash: &str) -> Result<(), StoreError> {
        self.write(|db| db.exec("UPDATE agents SET next_secret_hash = $2 WHERE id = $1", &[Param::Text(agent_id), Param::Text(next_hash)]))?;
        Ok(())
    }

    /// Asks the agent to rotate its secret at its next heartbeat. False when unknown.
    pub fn request_rotation(&mut self, agent_id: &str) -> Result<bool, StoreError> {
        Ok(self.write(|db| db.exec("UPDATE agents SET rotate_requested = 1 WHERE id = $1", &[Param::Text(agent_id)]))? > 0)
    }

    /// Revokes an agent's credential (history kept). False when unknown or already revoked.
    pub fn revoke_agent(&mut self, agent_id: &str, reason: &str, at: &str) -> Result<bool, StoreError> {
        Ok(self.write(|db| {
            db.exec(
                "UPDATE agents SET revoked_at = $2, revoked_reason = $3, status = 'retired', status_since = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[Param::Text(agent_id), Param::Text(at), Param::Text(reason)],
            )
        })? > 0)
    }

    /// Records a heartbeat; returns whether a rotation was asked for.
    #[allow(clippy::too_many_arguments)]
    pub fn record_heartbeat(
        &mut self,
        agent_id: &str,
        at: &str,
        at_unix: i64,
        version: &str,
        hostname: &str,
        policy_etag: Option<&str>,
        health: &serde_json::Value,
        queue: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let (health, queue) = (health.to_string(), queue.to_string());
        self.write(|db| {
            db.exec(
                "UPDATE agents SET last_seen_at = $2, last_seen_unix = $3, agent_version = $4, hostname = $5, policy_etag = $6, health = $7, queue = $8
                 WHERE id = $1",
                &[
                    Param::Text(agent_id),
                    Param::Text(at),
                    Param::Int(at_unix),
                    Param::Text(version),
                    Param::Text(hostname),
                    Param::OptText(policy_etag),
                    Param::Text(&health),
                    Param::Text(&queue),
                ],
            )?;
            Ok(db.int("SELECT rotate_requested FROM agents WHERE id = $1", &[Param::Text(agent_id)])?.unwrap_or(0) != 0)
        })
    }

    /// Stores a batch in one transaction: each (agent, sequence number) once; a resent event
    /// is counted as a duplicate and not stored again.
    pub fn record_agent_events(&mut self, agent_id: &str, events: &[Sequenced], at: &str, at_unix: i64) -> Result<BatchOutcome, StoreError> {
        self.record_agent_events_detecting(agent_id, events, at, at_unix, None)
    }

    /// [`Store::record_agent_events`], and with `detections` the server's detections on the
    /// host log records of the batch, in the same transaction (`host_detections`): each record
    /// stored for the first time is evaluated once, its alerts and correlation alerts stored
    /// like the agent's own.
    pub fn record_agent_events_detecting(
        &mut self,
        agent_id: &str,
        events: &[Sequenced],
        at: &str,
        at_unix: i64,
        detections: Option<&RecordEvaluator>,
    ) -> Result<BatchOutcome, StoreError> {
        self.write(|db| {
            if detections.is_some() && db.dialect() == crate::db::Dialect::Postgres {
                // One agent's batches are evaluated one after the other, even on two replicas:
                // a correlation must see the hits of the batch committed just before.
                db.exec("SELECT id FROM agents WHERE id = $1 FOR UPDATE", &[Param::Text(agent_id)])?;
            }
            let host = db
                .row("SELECT instance_id, account_id, region, hostname FROM agents WHERE id = $1", &[Param::Text(agent_id)])?
                .map(|row| HostOfAgent { instance_id: opt_text(&row, 0), account_id: opt_text(&row, 1), region: opt_text(&row, 2), hostname: text(&row, 3) })
                .unwrap_or_default();
            let mut alert_of = |db: &mut crate::db::Db, event: &vigil_fleet::Event| -> Result<(), StoreError> {
                if let Some(alert) = host_alert(agent_id, &host, event) {
                    crate::alerts::insert_alert(db, &alert, at)?;
                }
                Ok(())
            };
            let mut touched = crate::host_detections::Touched::default();
            let mut outcome = BatchOutcome { stored: 0, duplicates: 0, last_seq: 0, not_records: 0 };
            for event in events {
                let payload = event.event.payload.to_string();
                let inserted = db.exec(
                    "INSERT INTO agent_events (agent_id, seq, event_id, module, kind, event_time, received_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (agent_id, seq) DO NOTHING",
                    &[
                        Param::Text(agent_id),
                        Param::Int(event.seq as i64),
                        Param::Text(&event.event.id),
                        Param::Text(&event.event.module),
                        Param::Text(&event.event.kind),
                        Param::Text(&event.event.time),
                        Param::Text(at),
                        Param::Text(&payload),
                    ],
                )?;
                if inserted == 1 {
                    outcome.stored += 1;
                    alert_of(db, &event.event)?;
                    if let Some(evaluator) = detections
                        && (event.event.module.as_str(), event.event.kind.as_str()) == ("logs", "record")
                        && !crate::host_detections::evaluate_record(db, evaluator, agent_id, event.seq, &event.event, &mut touched, &mut alert_of)?
                    {
                        outcome.not_records += 1;
                    }
                    crate::agent_commands::complete(db, agent_id, &event.event, at)?;
                } else {
                    outcome.duplicates += 1;
                }
            }
            if let Some(evaluator) = detections {
                crate::host_detections::correlate(db, evaluator, agent_id, at, touched, &mut alert_of)?;
            }
            let batch_last = events.iter().map(|event| event.seq).max().unwrap_or(0) as i64;
            db.exec(
                "UPDATE agents SET last_seq = CASE WHEN last_seq > $2 THEN last_seq ELSE $2 END, last_seen_at = $3, last_seen_unix = $4 WHERE id = $1",
                &[Param::Text(agent_id), Param::Int(batch_last), Param::Text(at), Param::Int(at_unix)],
            )?;
            outcome.last_seq = db.int("SELECT last_seq FROM agents WHERE id = $1", &[Param::Text(agent_id)])?.unwrap_or(0) as u64;
            Ok(outcome)
        })
    }

    /// An agent's events of one module and kind, newest first (the agent page's integrity
    /// changes and malware detections).
    pub fn agent_events_of_kind(&mut self, agent_id: &str, module: &str, kind: &str, limit: usize) -> Result<Vec<AgentEventRow>, StoreError> {
        let rows = self.db.rows(
            "SELECT agent_id, seq, event_id, module, kind, event_time, received_at, payload FROM agent_events
             WHERE agent_id = $1 AND module = $2 AND kind = $3 ORDER BY seq DESC LIMIT $4",
            &[Param::Text(agent_id), Param::Text(module), Param::Text(kind), Param::Int(limit.clamp(1, 100_000) as i64)],
        )?;
        Ok(rows.iter().map(|row| event_row(row)).collect())
    }

    /// Every agent, enrolment order.
    pub fn agents(&mut self) -> Result<Vec<AgentRow>, StoreError> {
        let rows = self.db.rows(&format!("SELECT {AGENT_COLUMNS} {AGENT_FROM} ORDER BY a.enrolled_at, a.id"), &[])?;
        Ok(rows.iter().map(|row| agent_row(row)).collect())
    }

    pub fn agent(&mut self, agent_id: &str) -> Result<Option<AgentRow>, StoreError> {
        let row = self.db.row(&format!("SELECT {AGENT_COLUMNS} {AGENT_FROM} WHERE a.id = $1"), &[Param::Text(agent_id)])?;
        Ok(row.map(|row| agent_row(&row)))
    }

    /// The agents of one instance (the resource page).
    pub fn agents_of_instance(&mut self, instance_id: &str) -> Result<Vec<AgentRow>, StoreError> {
        let rows = self.db.rows(&format!("SELECT {AGENT_COLUMNS} {AGENT_FROM} WHERE a.instance_id = $1"), &[Param::Text(instance_id)])?;
        Ok(rows.iter().map(|row| agent_row(row)).collect())
    }

    /// An agent's events, newest first (`module` filters when given).
    pub fn agent_events(&mut self, agent_id: &str, module: Option<&str>, limit: usize) -> Result<Vec<AgentEventRow>, StoreError> {
        let rows = self.db.rows(
            "SELECT agent_id, seq, event_id, module, kind, event_time, received_at, payload FROM agent_events
             WHERE agent_id = $1 AND ($2 = '' OR module = $2) ORDER BY seq DESC LIMIT $3",
            &[Param::Text(agent_id), Param::Text(module.unwrap_or_default()), Param::Int(limit.clamp(1, 100_000) as i64)],
        )?;
        Ok(rows.iter().map(|row| event_row(row)).collect())
    }

    /// How many events an agent has stored.
    pub fn agent_event_count(&mut self, agent_id: &str) -> Result<i64, StoreError> {
        Ok(self.db.int("SELECT COUNT(*) FROM agent_events WHERE agent_id = $1", &[Param::Text(agent_id)])?.unwrap_or(0))
    }

    /// Instance ids with an agent that is not retired: what the coverage check is fed.
    pub fn agent_roster(&mut self) -> Result<BTreeSet<String>, StoreError> {
        let rows = self.db.rows("SELECT instance_id FROM agents WHERE instance_id IS NOT NULL AND revoked_at IS NULL", &[])?;
        Ok(rows.iter().filter_map(|row| opt_text(row, 0)).collect())
    }

    /// Recomputes every agent's status; stores the changes, revokes the credential of an agent
    /// whose instance is terminated, and raises one alert per entry into `missing`.
    pub fn sweep_agents(&mut self, at: &str, now_unix: i64, missing_after_seconds: i64) -> Result<Vec<Transition>, StoreError> {
        let rows = self.db.rows(&format!("SELECT {AGENT_COLUMNS} {AGENT_FROM} ORDER BY a.id"), &[])?;
        let mut transitions = Vec::new();
        for row in &rows {
            let agent = agent_row(row);
            let after = status_now(row, &agent, &mut self.db, now_unix, missing_after_seconds)?;
            if after == agent.status {
                continue;
            }
            let alert = lifecycle::alerts(Some(agent.status), after).then(|| crate::AlertInput {
                rule_id: MISSING_RULE.into(),
                event_id: format!("{}@{at}", agent.agent_id),
                rule_title: "vigil agent missing: its instance runs but the agent is silent (stopped, removed or tampered with?)".into(),
                level: "high".into(),
                event_time: at.into(),
                event_name: "AgentMissing".into(),
                account_id: agent.account.clone(),
                detail: serde_json::json!({
                    "agent_id": agent.agent_id,
                    "instance_id": agent.instance_id,
                    "instance_arn": agent.instance_arn,
                    "aws_region": agent.region,
                    "hostname": agent.hostname,
                    "last_seen": agent.last_seen,
                    "missing_after_seconds": missing_after_seconds,
                }),
            });
            transitions.push(Transition { agent_id: agent.agent_id.clone(), instance_id: agent.instance_id.clone(), before: agent.status, after, alert });
        }
        if transitions.is_empty() {
            return Ok(transitions);
        }
        self.write(|db| {
            for transition in &transitions {
                db.exec(
                    "UPDATE agents SET status = $2, status_since = $3 WHERE id = $1",
                    &[Param::Text(&transition.agent_id), Param::Text(transition.after.as_str()), Param::Text(at)],
                )?;
                if transition.after == Status::Retired {
                    db.exec(
                        "UPDATE agents SET revoked_at = $2, revoked_reason = 'the instance was terminated' WHERE id = $1 AND revoked_at IS NULL",
                        &[Param::Text(&transition.agent_id), Param::Text(at)],
                    )?;
                }
            }
            Ok(())
        })?;
        let alerts: Vec<crate::AlertInput> = transitions.iter().filter_map(|transition| transition.alert.clone()).collect();
        if !alerts.is_empty() {
            self.record_alerts(&alerts, at)?;
        }
        Ok(transitions)
    }

    /// Creates an enrolment token (its hash is kept).
    #[allow(clippy::too_many_arguments)]
    pub fn create_enrolment_token(
        &mut self,
        id: &str,
        token_hash: &str,
        at: &str,
        expires_at: &str,
        expires_unix: i64,
        scope: &serde_json::Value,
        uses: Option<i64>,
        description: &str,
    ) -> Result<(), StoreError> {
        let scope = scope.to_string();
        self.write(|db| {
            db.exec(
                "INSERT INTO enrolment_tokens (id, token_hash, created_at, expires_at, expires_unix, scope, uses_left, used, description)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
                &[
                    Param::Text(id),
                    Param::Text(token_hash),
                    Param::Text(at),
                    Param::Text(expires_at),
                    Param::Int(expires_unix),
                    Param::Text(&scope),
                    Param::OptInt(uses),
                    Param::Text(description),
                ],
            )
        })?;
        Ok(())
    }

    pub fn enrolment_tokens(&mut self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = self.db.rows(
            "SELECT id, created_at, expires_at, expires_unix, scope, uses_left, used, revoked_at, description FROM enrolment_tokens ORDER BY created_at",
            &[],
        )?;
        Ok(rows.iter().map(|row| token_row(row)).collect())
    }

    /// Takes one use of the token whose hash this is, if it is valid now; the refusal's
    /// reason otherwise.
    pub fn use_enrolment_token(&mut self, token_hash: &str, now_unix: i64) -> Result<Result<TokenRow, String>, StoreError> {
        self.write(|db| {
            let row = db.row(
                "SELECT id, created_at, expires_at, expires_unix, scope, uses_left, used, revoked_at, description FROM enrolment_tokens WHERE token_hash = $1",
                &[Param::Text(token_hash)],
            )?;
            let Some(row) = row else { return Ok(Err("the enrolment token is unknown".to_string())) };
            let token = token_row(&row);
            if token.revoked_at.is_some() {
                return Ok(Err(format!("the enrolment token `{}` was revoked", token.id)));
            }
            if now_unix > token.expires_unix {
                return Ok(Err(format!("the enrolment token `{}` expired at {}", token.id, token.expires_at)));
            }
            if token.uses_left.is_some_and(|left| left <= 0) {
                return Ok(Err(format!("the enrolment token `{}` is used up", token.id)));
            }
            db.exec(
                "UPDATE enrolment_tokens SET used = used + 1, uses_left = CASE WHEN uses_left IS NULL THEN NULL ELSE uses_left - 1 END WHERE id = $1",
                &[Param::Text(&token.id)],
            )?;
            Ok(Ok(token))
        })
    }

    /// Revokes a token. False when unknown.
    pub fn revoke_enrolment_token(&mut self, id: &str, at: &str) -> Result<bool, StoreError> {
        Ok(self.write(|db| db.exec("UPDATE enrolment_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", &[Param::Text(id), Param::Text(at)]))?
            > 0)
    }

    /// Keeps the text of a host policy version the first time it is served.
    pub fn record_host_policy(&mut self, version: &str, text: &str, at: &str) -> Result<(), StoreError> {
        self.write(|db| {
            db.exec(
                "INSERT INTO host_policies (version, text, first_used_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
                &[Param::Text(version), Param::Text(text), Param::Text(at)],
            )
        })?;
        Ok(())
    }
}

fn token_row(row: &[Value]) -> TokenRow {
    TokenRow {
        id: text(row, 0),
        created_at: text(row, 1),
        expires_at: text(row, 2),
        expires_unix: row.get(3).and_then(Value::int).unwrap_or_default(),
        scope: json(row, 4, serde_json::json!({})),
        uses_left: row.get(5).and_then(Value::int),
        used: row.get(6).and_then(Value::int).unwrap_or_default(),
        revoked_at: opt_text(row, 7),
        description: text(row, 8),
    }
}

pub(crate) fn event_row(row: &[Value]) -> AgentEventRow {
    AgentEventRow {
        agent_id: text(row, 0),
        seq: row.get(1).and_then(Value::int).unwrap_or_default(),
        event_id: text(row, 2),
        module: text(row, 3),
        kind: text(row, 4),
        event_time: text(row, 5),
        received_at: text(row, 6),
        payload: json(row, 7, serde_json::Value::Null),
    }
}

/// The host an agent runs on, as alerts name it.
#[derive(Debug, Clone, Default)]
struct HostOfAgent {
    instance_id: Option<String>,
    account_id: Option<String>,
    region: Option<String>,
    hostname: String,
}

/// The Activity alert an agent event raises: a host-log detection (`logs`/`alert`), a
/// malware detection (`malware`/`detection`), an active-response action (`ips`/`blocked`,
/// `unblocked`, `expired`) or a firewall change by the agent (`firewall`/`applied`,
/// `rolled_back`), with the host and the raw record. Stored once per
/// (rule, agent and event id), like CloudTrail alerts.
fn host_alert(agent_id: &str, host: &HostOfAgent, event: &vigil_fleet::Event) -> Option<crate::AlertInput> {
    let payload = &event.payload;
    let field = |key: &str| payload.get(key).and_then(serde_json::Value::as_str).map(str::to_string);
    let host_json = serde_json::json!({
        "agent_id": agent_id, "instance_id": host.instance_id, "aws_region": host.region, "hostname": host.hostname,
    });
    let (rule_id, rule_title, level, event_name, detail) = match (event.module.as_str(), event.kind.as_str()) {
        ("logs", "alert") => {
            let record = payload.get("record").cloned().unwrap_or(serde_json::Value::Null);
            let program = record.get("program").and_then(serde_json::Value::as_str).map(str::to_string);
            (
                field("rule_id")?,
                field("rule_title").unwrap_or_default(),
                field("level").unwrap_or_else(|| "medium".into()),
                program.or_else(|| field("source")).unwrap_or_else(|| "host log".into()),
                serde_json::json!({"host": host_json, "source": field("source"), "raw": field("raw"),
                    "event": {"host": host_json, "raw": field("raw"), "source": field("source"), "record": record, "group": payload.get("group"), "count": payload.get("count")}}),
            )
        }
        ("malware", "detection") => {
            let rule = field("rule")?;
            (
                format!("vigil-malware:{rule}"),
                format!("Malware: {rule} in {}", field("path").unwrap_or_default()),
                "high".to_string(),
                "MalwareDetected".to_string(),
                serde_json::json!({"host": host_json, "event": {"host": host_json, "path": field("path"), "rule": rule, "sha256": field("sha256"), "engine": field("engine"),
                    "trigger": field("trigger"), "actor": payload.get("actor")}}),
            )
        }
        ("ips", kind @ ("blocked" | "unblocked" | "expired")) => {
            let address = field("address")?;
            let dry_run = payload.get("dry_run").and_then(serde_json::Value::as_bool).unwrap_or(false);
            let what = match kind {
                "blocked" if dry_run => "would be blocked (dry run)".to_string(),
                "blocked" => "blocked".to_string(),
                "unblocked" => format!("unblocked, asked by {}", field("requested_by").unwrap_or_default()),
                _ => "block expired".to_string(),
            };
            (
                format!("vigil-ips:{kind}"),
                format!("Active response: {address} {what}"),
                if kind == "blocked" && !dry_run { "medium" } else { "low" }.to_string(),
                format!(
                    "Ips{}",
                    if kind == "blocked" {
                        "Block"
                    } else if kind == "unblocked" {
                        "Unblock"
                    } else {
                        "Expiry"
                    }
                ),
                serde_json::json!({"host": host_json, "event": {"host": host_json, "address": address, "kind": kind, "dry_run": dry_run, "payload": payload}}),
            )
        }
        ("firewall", kind @ ("applied" | "rolled_back")) => {
            let dry_run = payload.get("dry_run").and_then(serde_json::Value::as_bool).unwrap_or(false);
            let title = match kind {
                "applied" if dry_run => "Host firewall: ruleset that enforcement would apply (dry run)".to_string(),
                "applied" => "Host firewall: ruleset applied by the agent".to_string(),
                _ => format!("Host firewall: change rolled back ({})", field("reason").unwrap_or_default()),
            };
            (
                format!("vigil-firewall:{kind}"),
                title,
                if kind == "rolled_back" { "high" } else { "low" }.to_string(),
                if kind == "rolled_back" { "FirewallRolledBack" } else { "FirewallApplied" }.to_string(),
                serde_json::json!({"host": host_json, "event": {"host": host_json, "kind": kind, "dry_run": dry_run, "diff": payload.get("diff"), "reason": field("reason")}}),
            )
        }
        _ => return None,
    };
    Some(crate::AlertInput {
        rule_id,
        event_id: format!("{agent_id}/{}", event.id),
        rule_title,
        level,
        event_time: field("time").unwrap_or_else(|| event.time.clone()),
        event_name,
        account_id: host.account_id.clone(),
        detail,
    })
}
