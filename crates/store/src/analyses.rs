//! The exposure and IAM analyses of a scan (internet-reachable endpoints, admin-equivalent
//! principals, escalation paths, access from outside the account, who can reach a resource),
//! stored with the scan so the console shows them without the inventory.

use serde::Serialize;
use serde_json::Value;

use crate::db::{Db, Param};
use crate::{ScanId, Store, StoreError};

/// One result of an analysis: `kind` (exposure, admin, escalation, external, access) and
/// `subject`, the ARN it is about, so a resource's page finds its rows by index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub account_id: String,
    pub kind: String,
    pub subject: String,
    pub body: Value,
}

/// Marks the scan whose analyses were computed, so an empty result reads as "none" rather
/// than falling back to an older scan's.
const COMPUTED: &str = "computed";

pub(crate) fn write(db: &mut Db, scan_id: ScanId, analyses: Option<&[Analysis]>) -> Result<(), StoreError> {
    let Some(analyses) = analyses else { return Ok(()) };
    db.exec("INSERT INTO analyses (scan_id, account_id, kind, subject, body) VALUES ($1, '', $2, '', '{}')", &[Param::Int(scan_id), Param::Text(COMPUTED)])?;
    for analysis in analyses {
        db.exec(
            "INSERT INTO analyses (scan_id, account_id, kind, subject, body) VALUES ($1, $2, $3, $4, $5)",
            &[
                Param::Int(scan_id),
                Param::Text(&analysis.account_id),
                Param::Text(&analysis.kind),
                Param::Text(&analysis.subject),
                Param::Text(&analysis.body.to_string()),
            ],
        )?;
    }
    Ok(())
}

fn analysis(row: Vec<crate::db::Value>) -> Analysis {
    let text = |index: usize| row[index].text().unwrap_or_default().to_string();
    Analysis { account_id: text(0), kind: text(1), subject: text(2), body: serde_json::from_str(row[3].text().unwrap_or("null")).unwrap_or(Value::Null) }
}

impl Store {
    /// The latest scan whose analyses were computed.
    pub fn analysed_scan(&mut self) -> Result<Option<ScanId>, StoreError> {
        self.db.int("SELECT MAX(scan_id) FROM analyses WHERE kind = $1", &[Param::Text(COMPUTED)])
    }

    /// Every result of one kind from the latest analysed scan.
    pub fn analyses(&mut self, kind: &str) -> Result<Vec<Analysis>, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(Vec::new()) };
        let rows = self.db.rows(
            "SELECT account_id, kind, subject, body FROM analyses WHERE scan_id = $1 AND kind = $2 ORDER BY subject",
            &[Param::Int(scan), Param::Text(kind)],
        )?;
        Ok(rows.into_iter().map(analysis).collect())
    }

    /// How many distinct subjects (resources, principals) the latest analysed scan has
    /// results of this kind about.
    pub fn analysis_count(&mut self, kind: &str) -> Result<i64, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(0) };
        Ok(self.db.int("SELECT COUNT(DISTINCT subject) FROM analyses WHERE scan_id = $1 AND kind = $2", &[Param::Int(scan), Param::Text(kind)])?.unwrap_or(0))
    }

    /// The latest analysed scan's results about one resource or principal, of every kind.
    pub fn analyses_about(&mut self, subject: &str) -> Result<Vec<Analysis>, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(Vec::new()) };
        let mut rows = Vec::new();
        for kind in ["exposure", "admin", "escalation", "external", "access"] {
            rows.extend(self.db.rows(
                "SELECT account_id, kind, subject, body FROM analyses WHERE kind = $2 AND subject = $3 AND scan_id = $1",
                &[Param::Int(scan), Param::Text(kind), Param::Text(subject)],
            )?);
        }
        Ok(rows.into_iter().map(analysis).collect())
    }
}
