//! Queries for the console and its API: pages of findings and resources with filters (keyset
//! pagination on the row id, so page 1,000 costs what page 1 costs), muting by a person, and
//! the dashboard's counts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::Param;
use crate::{Store, StoreError};

/// Filters for findings; every field is optional and they combine with AND.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FindingFilter {
    pub severity: Option<String>,
    pub status: Option<String>,
    pub lifecycle: Option<String>,
    pub check_id: Option<String>,
    pub service: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub resource_arn: Option<String>,
    /// Case-insensitive substring of the check id or the resource ARN.
    pub q: Option<String>,
}

/// One finding in a page.
#[derive(Debug, Clone, Serialize)]
pub struct FindingItem {
    pub id: i64,
    pub check_id: String,
    pub service: String,
    pub severity: String,
    pub status: String,
    pub lifecycle: String,
    pub account_id: String,
    pub region: String,
    pub resource_arn: String,
    pub resource_type: String,
    pub first_seen_at: String,
    pub resolved_at: Option<String>,
    pub user_mute_reason: Option<String>,
    pub detail: Value,
}

/// A page and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

/// Filters for resources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResourceFilter {
    pub resource_type: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub state: Option<String>,
    /// Case-insensitive substring of the ARN.
    pub q: Option<String>,
}

/// One resource in a page.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceItem {
    pub id: i64,
    pub arn: String,
    pub resource_type: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub state: String,
    pub version: i64,
    pub first_seen_at: String,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dashboard {
    /// Failing findings (lifecycle new or open) by severity, service, account and region.
    pub failing_by_severity: Vec<(String, i64)>,
    pub failing_by_service: Vec<(String, i64)>,
    pub failing_by_account: Vec<(String, i64)>,
    pub failing_by_region: Vec<(String, i64)>,
    /// Live resources by type.
    pub resources_by_type: Vec<(String, i64)>,
    /// Per full scan: id, finish time and its findings by status.
    pub trend: Vec<(i64, String, Value)>,
}

fn like(text: &Option<String>) -> String {
    text.as_deref().map(|text| format!("%{}%", text.to_lowercase())).unwrap_or_default()
}

impl Store {
    /// A page of findings after cursor `after` (a row id), newest rows last.
    pub fn findings_page(&mut self, filter: &FindingFilter, after: i64, limit: usize) -> Result<Page<FindingItem>, StoreError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (severity, status, lifecycle, check, service, account, region, arn, q) = (
            text(&filter.severity),
            text(&filter.status),
            text(&filter.lifecycle),
            text(&filter.check_id),
            text(&filter.service),
            text(&filter.account_id),
            text(&filter.region),
            text(&filter.resource_arn),
            like(&filter.q),
        );
        let limit = limit.clamp(1, 10_000);
        let rows = self.db.rows(
            "SELECT id, check_id, service, severity, status, lifecycle, account_id, region, resource_arn, resource_type, first_seen_at, resolved_at, user_mute_reason, detail
             FROM findings WHERE id > $1
               AND ($2 = '' OR severity = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR lifecycle = $4) AND ($5 = '' OR check_id = $5)
               AND ($6 = '' OR service = $6) AND ($7 = '' OR account_id = $7) AND ($8 = '' OR region = $8) AND ($9 = '' OR resource_arn = $9)
               AND ($10 = '' OR LOWER(check_id) LIKE $10 OR LOWER(resource_arn) LIKE $10)
             ORDER BY id LIMIT $11",
            &[
                Param::Int(after),
                Param::Text(&severity),
                Param::Text(&status),
                Param::Text(&lifecycle),
                Param::Text(&check),
                Param::Text(&service),
                Param::Text(&account),
                Param::Text(&region),
                Param::Text(&arn),
                Param::Text(&q),
                Param::Int(limit as i64 + 1),
            ],
        )?;
        let mut items: Vec<FindingItem> = rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row[index].text().unwrap_or_default().to_string();
                FindingItem {
                    id: row[0].int().unwrap_or_default(),
                    check_id: text(1),
                    service: text(2),
                    severity: text(3),
                    status: text(4),
                    lifecycle: text(5),
                    account_id: text(6),
                    region: text(7),
                    resource_arn: text(8),
                    resource_type: text(9),
                    first_seen_at: text(10),
                    resolved_at: row[11].text().map(str::to_string),
                    user_mute_reason: row[12].text().map(str::to_string),
                    detail: serde_json::from_str(row[13].text().unwrap_or("null")).unwrap_or(Value::Null),
                }
            })
            .collect();
        let next = (items.len() > limit).then(|| items[limit - 1].id);
        items.truncate(limit);
        Ok(Page { items, next })
    }

    /// A page of resources after cursor `after` (a row id).
    pub fn resources_page(&mut self, filter: &ResourceFilter, after: i64, limit: usize) -> Result<Page<ResourceItem>, StoreError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (kind, account, region, state, q) =
            (text(&filter.resource_type), text(&filter.account_id), text(&filter.region), text(&filter.state), like(&filter.q));
        let limit = limit.clamp(1, 10_000);
        let rows = self.db.rows(
            "SELECT id, arn, resource_type, account_id, region, resource_id, state, version, first_seen_at FROM resources
             WHERE id > $1 AND ($2 = '' OR resource_type = $2) AND ($3 = '' OR account_id = $3) AND ($4 = '' OR region = $4)
               AND ($5 = '' OR state = $5) AND ($6 = '' OR LOWER(arn) LIKE $6)
             ORDER BY id LIMIT $7",
            &[
                Param::Int(after),
                Param::Text(&kind),
                Param::Text(&account),
                Param::Text(&region),
                Param::Text(&state),
                Param::Text(&q),
                Param::Int(limit as i64 + 1),
            ],
        )?;
        let mut items: Vec<ResourceItem> = rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row[index].text().unwrap_or_default().to_string();
                ResourceItem {
                    id: row[0].int().unwrap_or_default(),
                    arn: text(1),
                    resource_type: text(2),
                    account_id: text(3),
                    region: text(4),
                    resource_id: text(5),
                    state: text(6),
                    version: row[7].int().unwrap_or_default(),
                    first_seen_at: text(8),
                }
            })
            .collect();
        let next = (items.len() > limit).then(|| items[limit - 1].id);
        items.truncate(limit);
        Ok(Page { items, next })
    }

    /// Mutes a finding with a person's reason (kept until unmuted; rescans keep it muted).
    pub fn mute_finding(&mut self, id: i64, reason: &str) -> Result<bool, StoreError> {
        let changed = self.db.exec(
            "UPDATE findings SET user_mute_reason = $2, lifecycle = CASE WHEN status IN ('FAIL', 'ERROR') THEN 'muted' ELSE lifecycle END WHERE id = $1",
            &[Param::Int(id), Param::Text(reason)],
        )?;
        Ok(changed == 1)
    }

    /// Removes a person's mute; a failing finding is open again.
    pub fn unmute_finding(&mut self, id: i64) -> Result<bool, StoreError> {
        let changed = self.db.exec(
            "UPDATE findings SET user_mute_reason = NULL, lifecycle = CASE WHEN lifecycle = 'muted' AND status IN ('FAIL', 'ERROR') THEN 'open' ELSE lifecycle END WHERE id = $1",
            &[Param::Int(id)],
        )?;
        Ok(changed == 1)
    }

    /// The dashboard's counts.
    pub fn dashboard(&mut self) -> Result<Dashboard, StoreError> {
        let mut counts = |sql: &str| -> Result<Vec<(String, i64)>, StoreError> {
            Ok(self.db.rows(sql, &[])?.into_iter().filter_map(|row| Some((row[0].text()?.to_string(), row[1].int()?))).collect())
        };
        let failing = "FROM findings WHERE lifecycle IN ('new', 'open')";
        let mut dashboard = Dashboard {
            failing_by_severity: counts(&format!("SELECT severity, COUNT(*) {failing} GROUP BY severity ORDER BY 2 DESC"))?,
            failing_by_service: counts(&format!("SELECT service, COUNT(*) {failing} GROUP BY service ORDER BY 2 DESC"))?,
            failing_by_account: counts(&format!("SELECT account_id, COUNT(*) {failing} GROUP BY account_id ORDER BY 2 DESC"))?,
            failing_by_region: counts(&format!("SELECT region, COUNT(*) {failing} GROUP BY region ORDER BY 2 DESC"))?,
            resources_by_type: counts(
                "SELECT resource_type, COUNT(*) FROM resources WHERE state IN ('active', 'stopped') GROUP BY resource_type ORDER BY 2 DESC",
            )?,
            trend: Vec::new(),
        };
        let rows = self.db.rows("SELECT id, finished_at, summary FROM scans WHERE kind = 'scan' ORDER BY id DESC LIMIT 30", &[])?;
        dashboard.trend = rows
            .into_iter()
            .rev()
            .map(|row| {
                let summary: Value = serde_json::from_str(row[2].text().unwrap_or("{}")).unwrap_or(Value::Null);
                (row[0].int().unwrap_or_default(), row[1].text().unwrap_or_default().to_string(), summary["by_status"].clone())
            })
            .collect();
        Ok(dashboard)
    }
}
