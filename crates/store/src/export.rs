//! Reading whole tables for `vigil export`: findings, resources with their latest version,
//! alerts and agent events, one row at a time (never all rows in memory), in the order of the
//! export's partitions (day, account, region), inside one read transaction so the export is one
//! consistent state of the store while scans keep writing.

use serde_json::Value as Json;

use crate::db::{Dialect, Param, Value};
use crate::{AlertRow, Store, StoreError};

/// A stored finding: its latest detail (a `vigil_model::Finding` as JSON text) and lifecycle.
#[derive(Debug, Clone)]
pub struct ExportFinding {
    pub id: i64,
    pub account_id: String,
    pub region: String,
    pub lifecycle: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub resolved_at: Option<String>,
    pub detail: String,
}

/// A stored resource with the tags and configuration of its latest version.
#[derive(Debug, Clone)]
pub struct ExportResource {
    pub id: i64,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub resource_type: String,
    pub resource_id: String,
    pub name: String,
    pub state: String,
    pub version: i64,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub tags: Json,
    /// The latest configuration, volatile fields left out (`None` for a deleted resource).
    pub config: Option<Json>,
}

/// A stored agent event with the host of its agent.
#[derive(Debug, Clone)]
pub struct ExportHostEvent {
    pub agent_id: String,
    pub seq: i64,
    pub event_id: String,
    pub module: String,
    pub kind: String,
    pub event_time: String,
    pub received_at: String,
    pub payload: Json,
    pub hostname: String,
    pub instance_id: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

/// An error of the caller's `each`, or of the store.
#[derive(Debug)]
pub enum EachError<E> {
    Store(StoreError),
    Caller(E),
}

impl<E> From<StoreError> for EachError<E> {
    fn from(error: StoreError) -> Self {
        EachError::Store(error)
    }
}

fn text(row: &[Value], index: usize) -> String {
    row.get(index).and_then(Value::text).unwrap_or_default().to_string()
}

fn opt_text(row: &[Value], index: usize) -> Option<String> {
    row.get(index).and_then(Value::text).map(str::to_string)
}

fn int(row: &[Value], index: usize) -> i64 {
    row.get(index).and_then(Value::int).unwrap_or_default()
}

impl Store {
    /// Runs `work` inside one read transaction: every read sees the store as it was when the
    /// first one began (SQLite's WAL snapshot; PostgreSQL's repeatable read).
    pub fn read_snapshot<T, E: From<StoreError>>(&mut self, work: impl FnOnce(&mut Store) -> Result<T, E>) -> Result<T, E> {
        let begin = match self.db.dialect() {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        self.db.batch(begin)?;
        let result = work(self);
        self.db.rollback();
        result
    }

    /// Runs a query and hands each row to `each`, stopping at the first error of either.
    fn each_row<E>(&mut self, sql: &str, params: &[Param<'_>], mut each: impl FnMut(Vec<Value>) -> Result<(), E>) -> Result<(), EachError<E>> {
        let mut failed: Option<E> = None;
        let outcome = self.db.each(sql, params, |row| match each(row) {
            Ok(()) => Ok(()),
            Err(error) => {
                failed = Some(error);
                Err(StoreError::NotFound("stopped by the caller".into()))
            }
        });
        match (failed, outcome) {
            (Some(error), _) => Err(EachError::Caller(error)),
            (None, Err(error)) => Err(EachError::Store(error)),
            (None, Ok(())) => Ok(()),
        }
    }

    /// Every finding first seen at or after `since` (RFC 3339 or a date; every finding when
    /// empty), by first-seen day, account, region and id.
    pub fn each_export_finding<E>(&mut self, since: &str, mut each: impl FnMut(ExportFinding) -> Result<(), E>) -> Result<(), EachError<E>> {
        self.each_row(
            "SELECT id, account_id, region, lifecycle, first_seen_at, last_seen_at, resolved_at, detail FROM findings
             WHERE first_seen_at >= $1 ORDER BY substr(first_seen_at, 1, 10), account_id, region, id",
            &[Param::Text(since)],
            |row| {
                each(ExportFinding {
                    id: int(&row, 0),
                    account_id: text(&row, 1),
                    region: text(&row, 2),
                    lifecycle: text(&row, 3),
                    first_seen_at: text(&row, 4),
                    last_seen_at: text(&row, 5),
                    resolved_at: opt_text(&row, 6),
                    detail: text(&row, 7),
                })
            },
        )
    }

    /// Every resource first seen at or after `since`, with its latest version's tags and
    /// configuration, by first-seen day, account, region and id.
    pub fn each_export_resource<E>(&mut self, since: &str, mut each: impl FnMut(ExportResource) -> Result<(), E>) -> Result<(), EachError<E>> {
        let outcome: Result<(), EachError<EachError<E>>> = self.each_row(
            "SELECT r.id, r.arn, r.account_id, r.region, r.resource_type, r.resource_id, r.name, r.state, r.version, r.first_seen_at, r.last_seen_at, v.tags, v.config
             FROM resources r LEFT JOIN resource_versions v ON v.resource = r.id AND v.version = r.version
             WHERE r.first_seen_at >= $1 ORDER BY substr(r.first_seen_at, 1, 10), r.account_id, r.region, r.id",
            &[Param::Text(since)],
            |row| {
                let resource_type = text(&row, 4);
                let config = match row.get(12) {
                    Some(Value::Blob(blob)) => Some(crate::diff::decode_stable_config(blob, &resource_type).map_err(|error| {
                        EachError::Store(StoreError::Corrupt { what: format!("the configuration of `{}`", text(&row, 1)), reason: error.to_string() })
                    })?),
                    _ => None,
                };
                each(ExportResource {
                    id: int(&row, 0),
                    arn: text(&row, 1),
                    account_id: text(&row, 2),
                    region: text(&row, 3),
                    resource_type,
                    resource_id: text(&row, 5),
                    name: text(&row, 6),
                    state: text(&row, 7),
                    version: int(&row, 8),
                    first_seen_at: text(&row, 9),
                    last_seen_at: text(&row, 10),
                    tags: row.get(11).and_then(Value::text).and_then(|tags| serde_json::from_str(tags).ok()).unwrap_or(Json::Null),
                    config,
                })
                .map_err(EachError::Caller)
            },
        );
        match outcome {
            Ok(()) => Ok(()),
            Err(EachError::Store(error)) => Err(EachError::Store(error)),
            Err(EachError::Caller(inner)) => Err(inner),
        }
    }

    /// Every alert whose event time (or, for an event time that is not one, the time it was
    /// stored) is at or after `since`, by event day, account and id.
    pub fn each_export_alert<E>(&mut self, since: &str, mut each: impl FnMut(AlertRow) -> Result<(), E>) -> Result<(), EachError<E>> {
        self.each_row(
            "SELECT id, rule_id, event_id, rule_title, level, event_time, event_name, account_id, stored_at, detail FROM alerts
             WHERE event_time >= $1 OR stored_at >= $1 ORDER BY substr(event_time, 1, 10), COALESCE(account_id, ''), id",
            &[Param::Text(since)],
            |row| {
                each(AlertRow {
                    id: int(&row, 0),
                    rule_id: text(&row, 1),
                    event_id: text(&row, 2),
                    rule_title: text(&row, 3),
                    level: text(&row, 4),
                    event_time: text(&row, 5),
                    event_name: text(&row, 6),
                    account_id: opt_text(&row, 7),
                    stored_at: text(&row, 8),
                    detail: row.get(9).and_then(Value::text).and_then(|detail| serde_json::from_str(detail).ok()).unwrap_or(Json::Null),
                })
            },
        )
    }

    /// Every agent event whose time (or the time it was received) is at or after `since`, with
    /// its agent's host, by event day, account, region, agent and sequence number.
    pub fn each_export_host_event<E>(&mut self, since: &str, mut each: impl FnMut(ExportHostEvent) -> Result<(), E>) -> Result<(), EachError<E>> {
        self.each_row(
            "SELECT e.agent_id, e.seq, e.event_id, e.module, e.kind, e.event_time, e.received_at, e.payload, a.hostname, a.instance_id, a.account_id, a.region
             FROM agent_events e LEFT JOIN agents a ON a.id = e.agent_id
             WHERE e.event_time >= $1 OR e.received_at >= $1 ORDER BY substr(e.event_time, 1, 10), COALESCE(a.account_id, ''), COALESCE(a.region, ''), e.agent_id, e.seq",
            &[Param::Text(since)],
            |row| {
                each(ExportHostEvent {
                    agent_id: text(&row, 0),
                    seq: int(&row, 1),
                    event_id: text(&row, 2),
                    module: text(&row, 3),
                    kind: text(&row, 4),
                    event_time: text(&row, 5),
                    received_at: text(&row, 6),
                    payload: row.get(7).and_then(Value::text).and_then(|payload| serde_json::from_str(payload).ok()).unwrap_or(Json::Null),
                    hostname: text(&row, 8),
                    instance_id: opt_text(&row, 9),
                    account_id: opt_text(&row, 10),
                    region: opt_text(&row, 11),
                })
            },
        )
    }
}
