//! Reading the store: scans, a resource's configuration timeline, findings with their lifecycle.

use serde::Serialize;
use serde_json::Value;

use crate::db::Param;
use crate::diff::{FieldChange, decode_stable_config, json_diff};
use crate::{ScanId, Store, StoreError};

/// One recorded scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub id: ScanId,
    /// `scan` (a full scan) or `event` (an event-driven update of a few resources).
    pub kind: String,
    pub started_at: String,
    pub finished_at: String,
    pub source: String,
    pub caller_arn: Option<String>,
    pub accounts: Value,
    pub regions: Value,
    pub checks_run: i64,
    pub resource_count: i64,
    pub coverage: Value,
    pub summary: Value,
}

/// One version of a resource's configuration.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceVersion {
    pub version: i64,
    pub scan_id: ScanId,
    pub observed_at: String,
    pub state: String,
    pub tags: Value,
    /// The configuration (absent for a `deleted` version).
    pub config: Option<Value>,
    /// What changed from the previous version (empty for the first).
    pub changes: Vec<FieldChange>,
}

/// A resource a text names ([`Store::find_resources`]) and how it matched: `arn`, `id`,
/// `name` (its own name) or `Name tag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMatch {
    pub arn: String,
    pub resource_type: String,
    pub region: String,
    pub state: String,
    pub matched_by: &'static str,
}

/// A finding as the store keeps it: the latest detail plus its lifecycle.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub id: i64,
    pub check_id: String,
    pub severity: String,
    pub status: String,
    pub lifecycle: String,
    pub resource_arn: String,
    pub region: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub resolved_at: Option<String>,
    pub detail: Value,
}

fn json_text(value: Option<&str>) -> Value {
    value.and_then(|text| serde_json::from_str(text).ok()).unwrap_or(Value::Null)
}

impl Store {
    /// Every scan, newest first.
    pub fn scans(&mut self) -> Result<Vec<ScanRow>, StoreError> {
        self.scan_rows("ORDER BY id DESC", &[])
    }

    /// The last `limit` full scans (not event updates), newest first: what the dashboard
    /// compares, read without the event updates `vigil watch` adds between them.
    pub fn latest_full_scans(&mut self, limit: usize) -> Result<Vec<ScanRow>, StoreError> {
        self.scan_rows("WHERE kind = 'scan' ORDER BY id DESC LIMIT $1", &[Param::Int(limit.clamp(1, 10_000) as i64)])
    }

    fn scan_rows(&mut self, filter: &str, params: &[Param<'_>]) -> Result<Vec<ScanRow>, StoreError> {
        let rows = self.db.rows(
            &format!("SELECT id, kind, started_at, finished_at, source, caller_arn, accounts, regions, checks_run, resource_count, coverage, summary FROM scans {filter}"),
            params,
        )?;
        Ok(rows
            .into_iter()
            .map(|row| ScanRow {
                id: row[0].int().unwrap_or_default(),
                kind: row[1].text().unwrap_or_default().to_string(),
                started_at: row[2].text().unwrap_or_default().to_string(),
                finished_at: row[3].text().unwrap_or_default().to_string(),
                source: row[4].text().unwrap_or_default().to_string(),
                caller_arn: row[5].text().map(str::to_string),
                accounts: json_text(row[6].text()),
                regions: json_text(row[7].text()),
                checks_run: row[8].int().unwrap_or_default(),
                resource_count: row[9].int().unwrap_or_default(),
                coverage: json_text(row[10].text()),
                summary: json_text(row[11].text()),
            })
            .collect())
    }

    /// A resource's configuration timeline, oldest first; each version with the field-level
    /// changes from the one before.
    pub fn history(&mut self, arn: &str) -> Result<Vec<ResourceVersion>, StoreError> {
        let Some(row) = self.db.row("SELECT id, resource_type FROM resources WHERE arn = $1", &[Param::Text(arn)])? else {
            return Err(StoreError::NotFound(format!("no resource `{arn}` in the store")));
        };
        let mut row = row.into_iter();
        let (Some(id), resource_type) = (row.next().and_then(|value| value.int()), row.next().and_then(|value| value.into_text()).unwrap_or_default()) else {
            return Err(StoreError::Corrupt { what: "resources".into(), reason: format!("`{arn}` has no id") });
        };
        let rows = self
            .db
            .rows("SELECT version, scan_id, observed_at, state, tags, config FROM resource_versions WHERE resource = $1 ORDER BY version", &[Param::Int(id)])?;
        let mut versions: Vec<ResourceVersion> = Vec::with_capacity(rows.len());
        let empty = Value::Object(serde_json::Map::new());
        for row in rows {
            let mut row = row.into_iter();
            let version = row.next().and_then(|value| value.int()).unwrap_or_default();
            let scan_id = row.next().and_then(|value| value.int()).unwrap_or_default();
            let observed_at = row.next().and_then(|value| value.into_text()).unwrap_or_default();
            let state = row.next().and_then(|value| value.into_text()).unwrap_or_default();
            let tags = json_text(row.next().and_then(|value| value.into_text()).as_deref());
            let config = row.next().and_then(|value| value.into_blob()).map(|blob| decode_stable_config(&blob, &resource_type)).transpose()?;
            let previous = versions.last().and_then(|previous| previous.config.as_ref()).unwrap_or(&empty);
            let changes = if versions.is_empty() { Vec::new() } else { json_diff(previous, config.as_ref().unwrap_or(&empty)) };
            versions.push(ResourceVersion { version, scan_id, observed_at, state, tags, config, changes });
        }
        Ok(versions)
    }

    /// The resources a text names: the one whose ARN it is; otherwise every resource whose id,
    /// own name or `Name` tag it is (several when the text is ambiguous), by ARN.
    pub fn find_resources(&mut self, text: &str) -> Result<Vec<ResourceMatch>, StoreError> {
        let columns = "arn, resource_type, region, state, resource_id, name, name_tag";
        let mut rows = self.db.rows(&format!("SELECT {columns} FROM resources WHERE arn = $1"), &[Param::Text(text)])?;
        if rows.is_empty() && !text.is_empty() {
            rows = self
                .db
                .rows(&format!("SELECT {columns} FROM resources WHERE resource_id = $1 OR name = $1 OR name_tag = $1 ORDER BY arn"), &[Param::Text(text)])?;
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let text_at = |index: usize| row.get(index).and_then(|value| value.text()).unwrap_or_default().to_string();
                let matched_by = if text_at(0) == text {
                    "arn"
                } else if text_at(4) == text {
                    "id"
                } else if text_at(5) == text {
                    "name"
                } else {
                    "Name tag"
                };
                ResourceMatch { arn: text_at(0), resource_type: text_at(1), region: text_at(2), state: text_at(3), matched_by }
            })
            .collect())
    }

    /// The resource's current state (`active`, `stopped`, `terminated`, `deleted`), if known.
    pub fn resource_state(&mut self, arn: &str) -> Result<Option<String>, StoreError> {
        let row = self.db.row("SELECT state FROM resources WHERE arn = $1", &[Param::Text(arn)])?;
        Ok(row.and_then(|row| row.into_iter().next()).and_then(|value| value.into_text()))
    }

    /// How many resources are live (active or stopped), by type.
    pub fn live_counts(&mut self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self
            .db
            .rows("SELECT resource_type, COUNT(*) FROM resources WHERE state IN ('active', 'stopped') GROUP BY resource_type ORDER BY resource_type", &[])?;
        Ok(rows.into_iter().filter_map(|row| Some((row[0].text()?.to_string(), row[1].int()?))).collect())
    }

    /// Findings of one resource (or every finding when `arn` is `None`) in the given lifecycles
    /// (every lifecycle when empty).
    pub fn findings(&mut self, arn: Option<&str>, lifecycles: &[&str]) -> Result<Vec<FindingRow>, StoreError> {
        // One resource's findings are read through the index on resource_arn.
        let (filter, params) = match arn {
            Some(arn) => ("WHERE resource_arn = $1", vec![Param::Text(arn)]),
            None => ("", Vec::new()),
        };
        let rows = self.db.rows(
            &format!(
                "SELECT check_id, severity, status, lifecycle, resource_arn, region, first_seen_at,
                    CASE WHEN status = 'ABSENT' THEN last_seen_at
                         ELSE COALESCE((SELECT MAX(finished_at) FROM scans WHERE kind = 'scan' AND accounts LIKE '%' || findings.account_id || '%'), last_seen_at) END,
                    resolved_at, detail, id FROM findings {filter} ORDER BY check_id, resource_arn"
            ),
            &params,
        )?;
        Ok(rows
            .into_iter()
            .map(|row| FindingRow {
                id: row[10].int().unwrap_or_default(),
                check_id: row[0].text().unwrap_or_default().to_string(),
                severity: row[1].text().unwrap_or_default().to_string(),
                status: row[2].text().unwrap_or_default().to_string(),
                lifecycle: row[3].text().unwrap_or_default().to_string(),
                resource_arn: row[4].text().unwrap_or_default().to_string(),
                region: row[5].text().unwrap_or_default().to_string(),
                first_seen_at: row[6].text().unwrap_or_default().to_string(),
                last_seen_at: row[7].text().unwrap_or_default().to_string(),
                resolved_at: row[8].text().map(str::to_string),
                detail: json_text(row[9].text()),
            })
            .filter(|finding| lifecycles.is_empty() || lifecycles.contains(&finding.lifecycle.as_str()))
            .collect())
    }

    /// True when the event with this id was already applied.
    pub fn event_seen(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self.db.int("SELECT COUNT(*) FROM events WHERE message_id = $1", &[Param::Text(id)])?.unwrap_or(0) > 0)
    }

    /// SQLite's own consistency check (`ok` when sound); PostgreSQL needs none.
    pub fn integrity_check(&mut self) -> Result<String, StoreError> {
        match self.db.dialect() {
            crate::db::Dialect::Sqlite => {
                let row = self.db.row("PRAGMA integrity_check", &[])?;
                Ok(row.and_then(|row| row.into_iter().next()).and_then(|value| value.into_text()).unwrap_or_default())
            }
            crate::db::Dialect::Postgres => Ok("ok".to_string()),
        }
    }
}

impl Store {
    /// What is inconsistent in the store, one line per problem (empty when sound): count
    /// tables that differ from a fresh count, rows that refer to a scan the `scans` table lacks
    /// (a half-written scan), outbox rows whose state and dates disagree. The crash tests run
    /// it after killing a writer.
    pub fn consistency_problems(&mut self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let rows_as_text = |rows: Vec<Vec<crate::db::Value>>| -> Vec<String> {
            let mut lines: Vec<String> = rows
                .into_iter()
                .map(|row| {
                    row.iter()
                        .map(|value| value.text().map(str::to_string).or_else(|| value.int().map(|int| int.to_string())).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect();
            lines.sort();
            lines
        };
        for (table, stored, fresh) in [
            (
                "finding_counts",
                "SELECT check_id, service, severity, account_id, region, status, lifecycle, n FROM finding_counts WHERE n <> 0",
                "SELECT check_id, service, severity, account_id, region, status, lifecycle, COUNT(*) FROM findings GROUP BY check_id, service, severity, account_id, region, status, lifecycle",
            ),
            (
                "resource_counts",
                "SELECT resource_type, account_id, region, state, n FROM resource_counts WHERE n <> 0",
                "SELECT resource_type, account_id, region, state, COUNT(*) FROM resources GROUP BY resource_type, account_id, region, state",
            ),
        ] {
            let (stored, fresh) = (rows_as_text(self.db.rows(stored, &[])?), rows_as_text(self.db.rows(fresh, &[])?));
            if stored != fresh {
                let missing = fresh.iter().filter(|row| !stored.contains(row)).count();
                let extra = stored.iter().filter(|row| !fresh.contains(row)).count();
                problems.push(format!("`{table}` differs from a fresh count: {missing} rows missing, {extra} rows wrong or extra"));
            }
        }
        let last_scan = self.db.int("SELECT COALESCE(MAX(id), 0) FROM scans", &[])?.unwrap_or(0);
        for (what, sql) in [
            ("resources last seen", "SELECT COUNT(*) FROM resources WHERE last_seen_scan > $1 OR first_seen_scan > $1"),
            ("resource versions", "SELECT COUNT(*) FROM resource_versions WHERE scan_id > $1"),
            ("findings", "SELECT COUNT(*) FROM findings WHERE last_seen_scan > $1 OR first_seen_scan > $1"),
            ("finding changes", "SELECT COUNT(*) FROM finding_changes WHERE scan_id > $1"),
            ("analyses", "SELECT COUNT(*) FROM analyses WHERE scan_id > $1"),
        ] {
            let count = self.db.int(sql, &[Param::Int(last_scan)])?.unwrap_or(0);
            if count > 0 {
                problems.push(format!("{count} {what} refer to a scan after the last stored scan ({last_scan})"));
            }
        }
        let outbox = self
            .db
            .int("SELECT COUNT(*) FROM outbox WHERE state NOT IN ('pending', 'sent') OR (state = 'sent') <> (sent_at IS NOT NULL) OR attempts < 0", &[])?
            .unwrap_or(0);
        if outbox > 0 {
            problems.push(format!("{outbox} outbox rows whose state, attempts and sending date disagree"));
        }
        Ok(problems)
    }

    /// How many rows one of the store's tables holds (for tests and size reports).
    pub fn table_rows(&mut self, table: &str) -> Result<i64, StoreError> {
        const TABLES: &[&str] = &[
            "scans",
            "resources",
            "resource_versions",
            "findings",
            "finding_changes",
            "alerts",
            "events",
            "outbox",
            "agents",
            "agent_events",
            "enrolments",
            "enrolment_tokens",
        ];
        if !TABLES.contains(&table) {
            return Err(StoreError::NotFound(format!("no table `{table}` in the store")));
        }
        Ok(self.db.int(&format!("SELECT COUNT(*) FROM {table}"), &[])?.unwrap_or(0))
    }
}
