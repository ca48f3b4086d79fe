//! Activity alerts (CloudTrail detections), stored once per (rule, event): hunting the same
//! logs twice adds nothing, and only the alerts new to the store are reported back.

use serde::Serialize;

use crate::db::Param;
use crate::{Store, StoreError};

/// An alert to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertInput {
    pub rule_id: String,
    pub event_id: String,
    pub rule_title: String,
    pub level: String,
    pub event_time: String,
    pub event_name: String,
    pub account_id: Option<String>,
    /// The alert as `vigil trail hunt` prints it.
    pub detail: serde_json::Value,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub rule_id: String,
    pub event_id: String,
    pub rule_title: String,
    pub level: String,
    pub event_time: String,
    pub event_name: String,
    pub account_id: Option<String>,
    pub stored_at: String,
    pub detail: serde_json::Value,
}

impl Store {
    /// A page of alerts, newest event first (by event time, then by id: the order they
    /// happened in, not the order they were recorded in), optionally of one level or rule.
    /// `before` is the cursor: the id of the previous page's last alert (0 for the first page);
    /// the page continues after that alert's (event time, id).
    pub fn alerts_page(&mut self, level: Option<&str>, rule_id: Option<&str>, before: i64, limit: usize) -> Result<crate::query::Page<AlertRow>, StoreError> {
        let limit = limit.clamp(1, 10_000);
        let cursor_time = if before == 0 {
            String::new()
        } else {
            let row = self.db.row("SELECT event_time FROM alerts WHERE id = $1", &[Param::Int(before)])?;
            row.and_then(|row| row.into_iter().next())
                .and_then(|value| value.into_text())
                .ok_or_else(|| StoreError::NotFound(format!("no alert {before} to page before")))?
        };
        // The first page has no position; a later one starts below its cursor's (time, id),
        // on the index of migration 9. Its two parameters ($4, $5) are only in its statement.
        let position = if before == 0 { "" } else { "(event_time, id) < ($4, $5) AND" };
        let params = [
            Param::Text(level.unwrap_or_default()),
            Param::Text(rule_id.unwrap_or_default()),
            Param::Int(limit as i64 + 1),
            Param::Text(&cursor_time),
            Param::Int(before),
        ];
        let used = if before == 0 { 3 } else { params.len() };
        let rows = self.db.rows(
            &format!(
                "SELECT id, rule_id, event_id, rule_title, level, event_time, event_name, account_id, stored_at, detail FROM alerts
                 WHERE {position} ($1 = '' OR level = $1) AND ($2 = '' OR rule_id = $2) ORDER BY event_time DESC, id DESC LIMIT $3"
            ),
            params.get(..used).unwrap_or(&params),
        )?;
        let items: Vec<AlertRow> = rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row[index].text().unwrap_or_default().to_string();
                AlertRow {
                    id: row[0].int().unwrap_or_default(),
                    rule_id: text(1),
                    event_id: text(2),
                    rule_title: text(3),
                    level: text(4),
                    event_time: text(5),
                    event_name: text(6),
                    account_id: row[7].text().map(str::to_string),
                    stored_at: text(8),
                    detail: serde_json::from_str(row[9].text().unwrap_or("null")).unwrap_or(serde_json::Value::Null),
                }
            })
            .collect();
        Ok(crate::query::Page::from_rows(items, limit, |last| last.id))
    }

    /// Records alerts in one transaction; returns the ones the store did not have yet.
    pub fn record_alerts(&mut self, alerts: &[AlertInput], at: &str) -> Result<Vec<AlertInput>, StoreError> {
        self.db.begin_write()?;
        let mut new = Vec::new();
        for alert in alerts {
            let inserted = insert_alert(&mut self.db, alert, at);
            match inserted {
                Ok(1) => new.push(alert.clone()),
                Ok(_) => {}
                Err(error) => {
                    self.db.rollback();
                    return Err(error);
                }
            }
        }
        crate::write::pause_for_tests("alerts:inserted");
        self.db.commit()?;
        Ok(new)
    }
}

/// Inserts one alert unless the store has it (same rule and event): 1 when inserted, else 0.
pub(crate) fn insert_alert(db: &mut crate::db::Db, alert: &AlertInput, at: &str) -> Result<u64, StoreError> {
    db.exec(
        "INSERT INTO alerts (id, rule_id, event_id, rule_title, level, event_time, event_name, account_id, detail, stored_at)
         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM alerts), $1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (rule_id, event_id) DO NOTHING",
        &[
            Param::Text(&alert.rule_id),
            Param::Text(&alert.event_id),
            Param::Text(&alert.rule_title),
            Param::Text(&alert.level),
            Param::Text(&alert.event_time),
            Param::Text(&alert.event_name),
            Param::OptText(alert.account_id.as_deref()),
            Param::Text(&alert.detail.to_string()),
            Param::Text(at),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(rule: &str, event: &str) -> AlertInput {
        AlertInput {
            rule_id: rule.into(),
            event_id: event.into(),
            rule_title: "t".into(),
            level: "high".into(),
            event_time: "2026-11-24T10:00:00Z".into(),
            event_name: "StopLogging".into(),
            account_id: Some("123456789012".into()),
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn an_alert_is_stored_once_per_rule_and_event() {
        let directory = tempfile::tempdir().unwrap();
        let mut store = Store::open(directory.path().join("a.db").to_str().unwrap()).unwrap();
        let first = store.record_alerts(&[alert("r1", "e1"), alert("r1", "e2"), alert("r2", "e1")], "now").unwrap();
        assert_eq!(first.len(), 3);
        let again = store.record_alerts(&[alert("r1", "e1"), alert("r1", "e3")], "now").unwrap();
        assert_eq!(again, vec![alert("r1", "e3")]);
        assert_eq!(store.table_rows("alerts").unwrap(), 4);
        let first_page = store.alerts_page(None, None, 0, 3).unwrap();
        assert_eq!(first_page.items.iter().map(|alert| alert.event_id.as_str()).collect::<Vec<_>>(), ["e3", "e1", "e2"]);
        let rest = store.alerts_page(None, None, first_page.next.unwrap(), 3).unwrap();
        assert_eq!((rest.items.len(), rest.next), (1, None));
        assert_eq!(store.alerts_page(None, Some("r2"), 0, 10).unwrap().items.len(), 1);
    }
}
