//! Counts kept beside the findings and resources so the console's dashboard and compliance
//! read a few thousand rows whatever the size of the store: recomputed in the transaction of
//! every scan, adjusted for the few resources of an event update, and by one when a person
//! mutes or unmutes.

use crate::StoreError;
use crate::db::{Db, Param};

/// Fills `finding_counts` from `findings` (the table must be empty).
pub(crate) const REFRESH_FINDING_COUNTS: &str = "INSERT INTO finding_counts (check_id, service, severity, account_id, region, status, lifecycle, n)
     SELECT check_id, service, severity, account_id, region, status, lifecycle, COUNT(*) FROM findings
     GROUP BY check_id, service, severity, account_id, region, status, lifecycle";

/// Fills `resource_counts` from `resources` (the table must be empty).
pub(crate) const REFRESH_RESOURCE_COUNTS: &str = "INSERT INTO resource_counts (resource_type, account_id, region, state, n)
     SELECT resource_type, account_id, region, state, COUNT(*) FROM resources GROUP BY resource_type, account_id, region, state";

/// Recomputes both count tables (inside the caller's transaction).
pub(crate) fn refresh(db: &mut Db) -> Result<(), StoreError> {
    db.exec("DELETE FROM finding_counts", &[])?;
    db.exec(REFRESH_FINDING_COUNTS, &[])?;
    db.exec("DELETE FROM resource_counts", &[])?;
    db.exec(REFRESH_RESOURCE_COUNTS, &[])?;
    Ok(())
}

/// Recomputes both count tables for one account only (inside the caller's transaction): a
/// scan of one account changes no other account's rows, and an organization scanned account
/// by account must not recount the whole store once per account.
pub(crate) fn refresh_account(db: &mut Db, account_id: &str) -> Result<(), StoreError> {
    let account = [Param::Text(account_id)];
    db.exec("DELETE FROM finding_counts WHERE account_id = $1", &account)?;
    db.exec(
        "INSERT INTO finding_counts (check_id, service, severity, account_id, region, status, lifecycle, n)
         SELECT check_id, service, severity, account_id, region, status, lifecycle, COUNT(*) FROM findings WHERE account_id = $1
         GROUP BY check_id, service, severity, account_id, region, status, lifecycle",
        &account,
    )?;
    db.exec("DELETE FROM resource_counts WHERE account_id = $1", &account)?;
    db.exec(
        "INSERT INTO resource_counts (resource_type, account_id, region, state, n)
         SELECT resource_type, account_id, region, state, COUNT(*) FROM resources WHERE account_id = $1 GROUP BY resource_type, account_id, region, state",
        &account,
    )?;
    Ok(())
}

/// A finding's place in `finding_counts`.
pub(crate) struct CountKey {
    pub check_id: String,
    pub service: String,
    pub severity: String,
    pub account_id: String,
    pub region: String,
    pub status: String,
    pub lifecycle: String,
}

/// The count key of finding `id`, if it exists.
pub(crate) fn key_of(db: &mut Db, id: i64) -> Result<Option<CountKey>, StoreError> {
    let row = db.row("SELECT check_id, service, severity, account_id, region, status, lifecycle FROM findings WHERE id = $1", &[Param::Int(id)])?;
    Ok(row.map(|row| {
        let text = |index: usize| row[index].text().unwrap_or_default().to_string();
        CountKey { check_id: text(0), service: text(1), severity: text(2), account_id: text(3), region: text(4), status: text(5), lifecycle: text(6) }
    }))
}

/// Moves one finding from `before`'s count to `after`'s (nothing when they are equal).
pub(crate) fn shift<'a>(db: &mut Db, before: &'a CountKey, after_lifecycle: &'a str) -> Result<(), StoreError> {
    if before.lifecycle == after_lifecycle {
        return Ok(());
    }
    const KEY: &str = "check_id = $1 AND service = $2 AND severity = $3 AND account_id = $4 AND region = $5 AND status = $6 AND lifecycle = $7";
    let params = |lifecycle: &'a str| -> [Param<'a>; 7] {
        [
            Param::Text(&before.check_id),
            Param::Text(&before.service),
            Param::Text(&before.severity),
            Param::Text(&before.account_id),
            Param::Text(&before.region),
            Param::Text(&before.status),
            Param::Text(lifecycle),
        ]
    };
    db.exec(&format!("UPDATE finding_counts SET n = n - 1 WHERE {KEY}"), &params(&before.lifecycle))?;
    db.exec(&format!("DELETE FROM finding_counts WHERE n <= 0 AND {KEY}"), &params(&before.lifecycle))?;
    db.exec(
        "INSERT INTO finding_counts (check_id, service, severity, account_id, region, status, lifecycle, n) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
         ON CONFLICT (check_id, service, severity, account_id, region, status, lifecycle) DO UPDATE SET n = finding_counts.n + 1",
        &params(after_lifecycle),
    )?;
    Ok(())
}

/// Takes the findings and resources of `arns` out of the counts (`sign` -1, before an event
/// update changes them) or puts them back in (`sign` 1, after): an event touching a few
/// resources costs a few index lookups, not a pass over the whole store.
pub(crate) fn adjust_for(db: &mut Db, arns: &[&str], sign: i64) -> Result<(), StoreError> {
    for arn in arns {
        let findings = db.rows(
            "SELECT check_id, service, severity, account_id, region, status, lifecycle, COUNT(*) FROM findings WHERE resource_arn = $1
             GROUP BY check_id, service, severity, account_id, region, status, lifecycle",
            &[Param::Text(arn)],
        )?;
        for row in findings {
            let text = |index: usize| row[index].text().unwrap_or_default().to_string();
            let key: Vec<String> = (0..7).map(text).collect();
            let delta = sign * row[7].int().unwrap_or(0);
            let mut params: Vec<Param<'_>> = key.iter().map(|value| Param::Text(value)).collect();
            params.push(Param::Int(delta));
            db.exec(
                "INSERT INTO finding_counts (check_id, service, severity, account_id, region, status, lifecycle, n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (check_id, service, severity, account_id, region, status, lifecycle) DO UPDATE SET n = finding_counts.n + $8",
                &params,
            )?;
        }
        let resource = db.row("SELECT resource_type, account_id, region, state FROM resources WHERE arn = $1", &[Param::Text(arn)])?;
        if let Some(row) = resource {
            let key: Vec<String> = (0..4).map(|index| row[index].text().unwrap_or_default().to_string()).collect();
            let mut params: Vec<Param<'_>> = key.iter().map(|value| Param::Text(value)).collect();
            params.push(Param::Int(sign));
            db.exec(
                "INSERT INTO resource_counts (resource_type, account_id, region, state, n) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (resource_type, account_id, region, state) DO UPDATE SET n = resource_counts.n + $5",
                &params,
            )?;
        }
    }
    db.exec("DELETE FROM finding_counts WHERE n <= 0", &[])?;
    db.exec("DELETE FROM resource_counts WHERE n <= 0", &[])?;
    Ok(())
}
