//! vigil's store: every scan, each resource's configuration as versions (written only when
//! it changed), findings with their lifecycle, activity alerts and processed events, in
//! SQLite (default, a file in WAL mode) or PostgreSQL, with the same behaviour.
//!
//! All the writes of a scan happen in one transaction: a process killed at any moment
//! leaves the previous state intact. Entry points: [`Store::open`], [`Store::record_scan`],
//! [`Store::diff`], [`Store::history`], [`Store::scans`].

/// A finding's severity as a rank, critical first: the key of the severity order of the
/// findings page, and of its index (migration 5), which must be the same expression.
/// The rank of a severity in SQL: critical 0, high 1, medium 2, low 3, anything else 4 (the
/// order of [`vigil_model::Severity::HIGHEST_FIRST`]; [`severity_rank`] is the same in Rust, and
/// a test holds the two to that order). Migration 5 indexes it, so its text never changes.
macro_rules! severity_rank {
    () => {
        "CAST(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END AS BIGINT)"
    };
}

/// The rank of a severity, as [`severity_rank!`] computes it in SQL: sorting by it lists the
/// highest severity first, and anything that is not a severity last.
pub fn severity_rank(severity: &str) -> i64 {
    vigil_model::Severity::parse(severity)
        .and_then(|severity| vigil_model::Severity::HIGHEST_FIRST.iter().position(|known| *known == severity))
        .map_or(4, |position| position as i64)
}

pub mod agent_commands;
pub mod agents;
mod alerts;
pub mod analyses;
mod counts;
pub mod db;
pub mod diff;
pub mod export;
mod fixes;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod host_detections;
pub mod host_reports;
pub mod items;
pub mod osv;
mod outbox;
pub mod people;
pub mod query;
mod read;
pub mod schema;
pub mod work;
mod write;

use serde::Serialize;

pub use alerts::{AlertInput, AlertRow};
pub use analyses::{About, Stored};
pub use diff::{FieldChange, ResourceDiff, ScanDiff};
pub use fixes::{FixInput, FixRow};
pub use host_reports::{HostPosture, ModuleReport};
pub use outbox::{NewFinding, Queued};
pub use read::{FindingRow, ResourceMatch, ResourceVersion, ScanRow};
pub use vigil_model::analysis::Analysis;
pub use write::{EventUpdate, ScanInput, WriteSummary};

/// What can go wrong with the store. Each message names the store or the statement at fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store `{location}`: {reason}")]
    Open { location: String, reason: String },
    #[error("the store's schema is version {found}, newer than this vigil supports ({supported}); upgrade vigil")]
    TooNew { found: i64, supported: i64 },
    #[error("store statement failed: {reason} (in `{statement}`)")]
    Sql { statement: String, reason: String },
    #[error("the store holds a damaged value in {what}: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    /// What was asked contradicts what the store holds (a run registered with other settings).
    #[error("{0}")]
    Conflict(String),
}

/// A scan's id in the store (1, 2, ...).
pub type ScanId = i64;

/// An open store.
#[derive(Debug)]
pub struct Store {
    db: db::Db,
    location: String,
}

impl Store {
    /// Opens a store: a `postgres://` or `postgresql://` URL, else the path of an SQLite file
    /// (created with its directory when missing). Applies pending migrations.
    pub fn open(location: &str) -> Result<Store, StoreError> {
        let mut db = if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            db::Db::open_postgres(location)?
        } else {
            db::Db::open_sqlite(std::path::Path::new(location))?
        };
        schema::migrate(&mut db)?;
        Ok(Store { db, location: db::redact(location) })
    }

    /// Where the store is (a path, or a URL without its password).
    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn backend(&self) -> &'static str {
        match self.db.dialect() {
            db::Dialect::Sqlite => "sqlite",
            db::Dialect::Postgres => "postgres",
        }
    }
}

/// A resource's lifecycle state as the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    /// Present and (for instances) pending or running.
    Active,
    /// An instance that is stopping or stopped: still yours, still billed for storage.
    Stopped,
    /// An instance that is shutting down or terminated: retired, kept in history only.
    Terminated,
    /// No longer returned by a listing that was read completely.
    Deleted,
}

impl ResourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceState::Active => "active",
            ResourceState::Stopped => "stopped",
            ResourceState::Terminated => "terminated",
            ResourceState::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<ResourceState> {
        Some(match text {
            "active" => ResourceState::Active,
            "stopped" => ResourceState::Stopped,
            "terminated" => ResourceState::Terminated,
            "deleted" => ResourceState::Deleted,
            _ => return None,
        })
    }

    /// Counted as part of the account's live inventory.
    pub fn is_live(self) -> bool {
        matches!(self, ResourceState::Active | ResourceState::Stopped)
    }
}

#[cfg(test)]
mod severity_tests {
    /// The SQL rank and the Rust rank agree, and both list the model's severities highest first.
    #[test]
    fn the_sql_and_rust_severity_ranks_are_one_order() {
        let mut db = crate::db::Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        let names: Vec<&str> = vigil_model::Severity::HIGHEST_FIRST.iter().map(|severity| severity.as_str()).chain(["unknown", ""]).collect();
        for name in &names {
            let sql = db.int(&format!("SELECT {} FROM (SELECT $1 AS severity) AS one", severity_rank!()), &[crate::db::Param::Text(name)]).unwrap();
            assert_eq!(sql, Some(super::severity_rank(name)), "{name}");
        }
        let ranks: Vec<i64> = names.iter().map(|name| super::severity_rank(name)).collect();
        assert_eq!(ranks, [0, 1, 2, 3, 4, 4, 4]);
    }
}
