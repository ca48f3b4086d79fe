//! The notification outbox: every notice queued per target exactly once (its key is the
//! primary key), delivered and marked sent, or kept pending with its last error so the next
//! run retries it. Nothing is dropped silently.

use serde::Serialize;

use crate::db::Param;
use crate::{ScanId, Store, StoreError};

/// A notice waiting for (or past) delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queued {
    pub notice_key: String,
    pub payload: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// A finding that became `new` in a scan, for notifications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewFinding {
    /// Unique per (finding, scan where it became new): a finding that fails again later is
    /// announced again, never twice for the same transition.
    pub notice_key: String,
    pub check_id: String,
    pub severity: String,
    pub status: String,
    pub account_id: String,
    pub region: String,
    pub resource_arn: String,
    pub detail: serde_json::Value,
}

impl Store {
    /// Findings that became `new` in this scan.
    pub fn new_findings(&mut self, scan_id: ScanId) -> Result<Vec<NewFinding>, StoreError> {
        let rows = self.db.rows(
            "SELECT f.finding_key, f.check_id, f.severity, c.status, f.account_id, f.region, f.resource_arn, f.detail
             FROM finding_changes c JOIN findings f ON f.id = c.finding WHERE c.scan_id = $1 AND c.lifecycle = 'new' ORDER BY f.check_id, f.resource_arn",
            &[Param::Int(scan_id)],
        )?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row[index].text().unwrap_or_default().to_string();
                NewFinding {
                    notice_key: format!("finding:{}@{scan_id}", text(0)),
                    check_id: text(1),
                    severity: text(2),
                    status: text(3),
                    account_id: text(4),
                    region: text(5),
                    resource_arn: text(6),
                    detail: serde_json::from_str(row[7].text().unwrap_or("null")).unwrap_or(serde_json::Value::Null),
                }
            })
            .collect())
    }

    /// Queues notices for a target; one already queued (sent or not) is left alone. Returns
    /// how many were new.
    pub fn enqueue(&mut self, target: &str, notices: &[(String, String)], at: &str) -> Result<u64, StoreError> {
        self.db.begin_write()?;
        let mut added = 0;
        for (key, payload) in notices {
            let result = self.db.exec(
                "INSERT INTO outbox (target, notice_key, payload, state, attempts, last_error, queued_at, sent_at)
                 VALUES ($1, $2, $3, 'pending', 0, NULL, $4, NULL) ON CONFLICT (target, notice_key) DO NOTHING",
                &[Param::Text(target), Param::Text(key), Param::Text(payload), Param::Text(at)],
            );
            match result {
                Ok(changed) => added += changed,
                Err(error) => {
                    self.db.rollback();
                    return Err(error);
                }
            }
        }
        crate::write::pause_for_tests("outbox:queued");
        self.db.commit()?;
        Ok(added)
    }

    /// The notices still to deliver to a target, oldest first.
    pub fn pending(&mut self, target: &str) -> Result<Vec<Queued>, StoreError> {
        let rows = self.db.rows(
            "SELECT notice_key, payload, attempts, last_error FROM outbox WHERE target = $1 AND state = 'pending' ORDER BY queued_at, notice_key",
            &[Param::Text(target)],
        )?;
        Ok(rows
            .into_iter()
            .map(|row| Queued {
                notice_key: row[0].text().unwrap_or_default().to_string(),
                payload: row[1].text().unwrap_or_default().to_string(),
                attempts: row[2].int().unwrap_or_default(),
                last_error: row[3].text().map(str::to_string),
            })
            .collect())
    }

    /// Records the outcome of a delivery attempt for these notices.
    pub fn mark_delivery(&mut self, target: &str, keys: &[String], outcome: Result<(), &str>, at: &str) -> Result<(), StoreError> {
        for key in keys {
            match outcome {
                Ok(()) => self.db.exec(
                    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = $3 WHERE target = $1 AND notice_key = $2",
                    &[Param::Text(target), Param::Text(key), Param::Text(at)],
                )?,
                Err(error) => self.db.exec(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $3 WHERE target = $1 AND notice_key = $2",
                    &[Param::Text(target), Param::Text(key), Param::Text(error)],
                )?,
            };
        }
        Ok(())
    }
}
