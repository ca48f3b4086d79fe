//! OSV advisories kept for the agents (`vigil osv load`): each record as vigil reads it (JSON),
//! indexed by the ecosystems it affects (the OSV name without its release: `Debian`,
//! `Ubuntu`, `Red Hat`), so that a fleet's agents fetch their distribution's advisories over
//! the channel instead of keeping an OSV copy per host. A load replaces the records it holds
//! (by id) and keeps every other one.

use serde::Serialize;

use crate::db::Param;
use crate::{Store, StoreError};

/// One advisory to store.
#[derive(Debug, Clone, PartialEq)]
pub struct OsvAdvisory {
    pub id: String,
    /// The record's `modified` time (empty when it gives none).
    pub modified: String,
    /// The OSV ecosystem names it affects, without release suffix.
    pub ecosystems: Vec<String>,
    /// The record, JSON.
    pub record: String,
}

/// What a load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OsvLoaded {
    /// Records new to the store.
    pub added: u64,
    /// Records that replaced a stored one with the same id.
    pub replaced: u64,
}

/// How many advisories the store holds for one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsvEcosystem {
    pub ecosystem: String,
    pub advisories: i64,
    /// The newest `modified` time among them.
    pub newest_modified: String,
}

/// One page of an ecosystem's advisories, in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct OsvPage {
    /// (id, record JSON).
    pub records: Vec<(String, String)>,
    /// The id to continue after, when there may be more.
    pub next: Option<String>,
}

impl Store {
    /// Stores advisories in one transaction: a record with an id already stored replaces it.
    pub fn store_osv(&mut self, advisories: &[OsvAdvisory], source: &str, at: &str) -> Result<OsvLoaded, StoreError> {
        self.write(|db| {
            let mut loaded = OsvLoaded { added: 0, replaced: 0 };
            for advisory in advisories {
                let existing = db.int("SELECT COUNT(*) FROM osv_advisories WHERE id = $1", &[Param::Text(&advisory.id)])?.unwrap_or(0);
                if existing > 0 {
                    db.exec("DELETE FROM osv_ecosystems WHERE id = $1", &[Param::Text(&advisory.id)])?;
                    db.exec(
                        "UPDATE osv_advisories SET modified = $2, record = $3, source = $4, loaded_at = $5 WHERE id = $1",
                        &[Param::Text(&advisory.id), Param::Text(&advisory.modified), Param::Text(&advisory.record), Param::Text(source), Param::Text(at)],
                    )?;
                    loaded.replaced += 1;
                } else {
                    db.exec(
                        "INSERT INTO osv_advisories (id, modified, record, source, loaded_at) VALUES ($1, $2, $3, $4, $5)",
                        &[Param::Text(&advisory.id), Param::Text(&advisory.modified), Param::Text(&advisory.record), Param::Text(source), Param::Text(at)],
                    )?;
                    loaded.added += 1;
                }
                let mut ecosystems = advisory.ecosystems.clone();
                ecosystems.sort();
                ecosystems.dedup();
                for ecosystem in &ecosystems {
                    db.exec("INSERT INTO osv_ecosystems (ecosystem, id) VALUES ($1, $2)", &[Param::Text(ecosystem), Param::Text(&advisory.id)])?;
                }
            }
            Ok(loaded)
        })
    }

    /// The ecosystems with advisories, and how many each.
    pub fn osv_ecosystems(&mut self) -> Result<Vec<OsvEcosystem>, StoreError> {
        let rows = self.db.rows(
            "SELECT e.ecosystem, COUNT(*), MAX(a.modified) FROM osv_ecosystems e JOIN osv_advisories a ON a.id = e.id GROUP BY e.ecosystem ORDER BY e.ecosystem",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| OsvEcosystem {
                ecosystem: row.first().and_then(crate::db::Value::text).unwrap_or_default().to_string(),
                advisories: row.get(1).and_then(crate::db::Value::int).unwrap_or_default(),
                newest_modified: row.get(2).and_then(crate::db::Value::text).unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// A version of an ecosystem's advisories that changes whenever a load changes them (the
    /// agents' ETag); `None` when the store holds none.
    pub fn osv_version(&mut self, ecosystem: &str) -> Result<Option<String>, StoreError> {
        let row = self.db.row(
            "SELECT COUNT(*), MAX(a.loaded_at), MAX(a.modified) FROM osv_ecosystems e JOIN osv_advisories a ON a.id = e.id WHERE e.ecosystem = $1",
            &[Param::Text(ecosystem)],
        )?;
        let Some(row) = row else { return Ok(None) };
        let count = row.first().and_then(crate::db::Value::int).unwrap_or(0);
        if count == 0 {
            return Ok(None);
        }
        let text = |index: usize| row.get(index).and_then(crate::db::Value::text).unwrap_or_default().to_string();
        let digest = xxhash_rust::xxh3::xxh3_64(format!("{ecosystem}\u{0}{count}\u{0}{}\u{0}{}", text(1), text(2)).as_bytes());
        Ok(Some(format!("{digest:016x}")))
    }

    /// Up to `limit` of an ecosystem's advisories after the id `after` (empty: from the
    /// first), in id order.
    pub fn osv_page(&mut self, ecosystem: &str, after: &str, limit: usize) -> Result<OsvPage, StoreError> {
        let limit = limit.clamp(1, 10_000);
        let rows = self.db.rows(
            "SELECT a.id, a.record FROM osv_ecosystems e JOIN osv_advisories a ON a.id = e.id WHERE e.ecosystem = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
            &[Param::Text(ecosystem), Param::Text(after), Param::Int(limit as i64)],
        )?;
        let records: Vec<(String, String)> = rows
            .iter()
            .map(|row| {
                let text = |index: usize| row.get(index).and_then(crate::db::Value::text).unwrap_or_default().to_string();
                (text(0), text(1))
            })
            .collect();
        let next = (records.len() == limit).then(|| records.last().map(|(id, _)| id.clone())).flatten();
        Ok(OsvPage { records, next })
    }
}
