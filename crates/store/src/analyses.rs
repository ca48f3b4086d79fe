//! The exposure and IAM analyses of a scan (internet-reachable endpoints, admin-equivalent
//! principals, escalation paths, access from outside the account, who can reach a resource),
//! stored with the scan so the console shows them without the inventory. Written and read as
//! the types of `vigil_model::analysis`: a row is its kind and the JSON of its result.

use serde::Serialize;
use vigil_model::analysis::{Access, Admin, Analysis, AnalysisKind, EscalationPath, Exposure, ExternalAccess};

use crate::db::{Db, Param};
use crate::{ScanId, Store, StoreError};

/// A stored result of one kind, with the account and the ARN it is about. Serialized as the
/// console API returns it: `{account_id, subject, detail}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored<T> {
    pub account_id: String,
    pub subject: String,
    #[serde(rename = "detail")]
    pub result: T,
}

/// The latest analysed scan's results about one resource or principal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct About {
    pub exposure: Vec<Exposure>,
    pub access: Vec<Access>,
    pub external: Vec<ExternalAccess>,
    pub admin: Vec<Admin>,
    pub escalation: Vec<EscalationPath>,
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
                Param::Text(analysis.result.kind()),
                Param::Text(&analysis.subject),
                Param::Text(&analysis.result.to_json()),
            ],
        )?;
    }
    Ok(())
}

/// A row (account_id, subject, body) read into its type; a body that does not read is a
/// damaged store, named with the kind and subject.
fn stored<T: AnalysisKind>(scan: ScanId, row: Vec<crate::db::Value>) -> Result<Stored<T>, StoreError> {
    let text = |index: usize| row.get(index).and_then(|value| value.text()).unwrap_or_default().to_string();
    let subject = text(1);
    let result = serde_json::from_str(&text(2))
        .map_err(|error| StoreError::Corrupt { what: format!("the `{}` analysis about `{subject}` of scan {scan}", T::KIND), reason: error.to_string() })?;
    Ok(Stored { account_id: text(0), subject, result })
}

impl Store {
    /// The latest scan whose analyses were computed.
    pub fn analysed_scan(&mut self) -> Result<Option<ScanId>, StoreError> {
        self.db.int("SELECT MAX(scan_id) FROM analyses WHERE kind = $1", &[Param::Text(COMPUTED)])
    }

    /// Every result of one kind from the latest analysed scan, by subject.
    pub fn analyses<T: AnalysisKind>(&mut self) -> Result<Vec<Stored<T>>, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(Vec::new()) };
        let rows = self.db.rows(
            "SELECT account_id, subject, body FROM analyses WHERE scan_id = $1 AND kind = $2 ORDER BY subject",
            &[Param::Int(scan), Param::Text(T::KIND)],
        )?;
        rows.into_iter().map(|row| stored(scan, row)).collect()
    }

    /// How many distinct subjects (resources, principals) the latest analysed scan has
    /// results of this kind about.
    pub fn analysis_count<T: AnalysisKind>(&mut self) -> Result<i64, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(0) };
        Ok(self
            .db
            .int("SELECT COUNT(DISTINCT subject) FROM analyses WHERE scan_id = $1 AND kind = $2", &[Param::Int(scan), Param::Text(T::KIND)])?
            .unwrap_or(0))
    }

    /// The latest analysed scan's results about one resource or principal, of every kind.
    pub fn analyses_about(&mut self, subject: &str) -> Result<About, StoreError> {
        let Some(scan) = self.analysed_scan()? else { return Ok(About::default()) };
        Ok(About {
            exposure: self.about(scan, subject)?,
            access: self.about(scan, subject)?,
            external: self.about(scan, subject)?,
            admin: self.about(scan, subject)?,
            escalation: self.about(scan, subject)?,
        })
    }

    fn about<T: AnalysisKind>(&mut self, scan: ScanId, subject: &str) -> Result<Vec<T>, StoreError> {
        let rows = self.db.rows(
            "SELECT account_id, subject, body FROM analyses WHERE kind = $2 AND subject = $3 AND scan_id = $1",
            &[Param::Int(scan), Param::Text(T::KIND), Param::Text(subject)],
        )?;
        rows.into_iter().map(|row| stored::<T>(scan, row).map(|stored| stored.result)).collect()
    }
}
