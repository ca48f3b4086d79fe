//! Fixes applied to the account (`vigil fix --apply`, `vigil fix undo`, automation in
//! `vigil watch`): who, when, the plan, the calls and their outcome, the configuration
//! before and after as re-read, and the inverse. Kept as JSON values so the store does not
//! depend on the planner's types.

use serde::Serialize;
use serde_json::Value;

use crate::db::{Param, Value as Cell};
use crate::{Store, StoreError};

/// A fix to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixInput {
    pub started_at: String,
    pub finished_at: String,
    pub account_id: String,
    pub region: String,
    pub check_id: String,
    /// The ARN of the resource the finding was about.
    pub resource_arn: String,
    /// The ARN of the resource the calls changed (often the same).
    pub target_arn: String,
    /// The configuration kind (`security-group-rules`, ...).
    pub kind: String,
    /// The AWS identity that made the calls.
    pub caller_arn: String,
    /// The person or process that asked (a login name, or `vigil watch`).
    pub operator: String,
    /// `cli`, `watch` or `undo`.
    pub origin: String,
    /// `applied`, `failed` or `refused`.
    pub status: String,
    pub message: String,
    /// The fix this one undoes.
    pub undo_of: Option<i64>,
    /// The planned fix (calls, before/after, effect).
    pub plan: Value,
    /// The calls sent, with their errors.
    pub calls: Value,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub inverse: Value,
}

/// A recorded fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixRow {
    pub id: i64,
    #[serde(flatten)]
    pub input: FixInput,
    /// The fix that undid this one.
    pub undone_by: Option<i64>,
}

const COLUMNS: &str = "id, started_at, finished_at, account_id, region, check_id, resource_arn, target_arn, kind, caller_arn, operator, origin, status, message, \
                       undo_of, plan, calls, before_state, after_state, inverse, undone_by";

fn json(cell: &Cell, what: &str) -> Result<Value, StoreError> {
    match cell.text() {
        None => Ok(Value::Null),
        Some(text) => serde_json::from_str(text).map_err(|error| StoreError::Corrupt { what: what.to_string(), reason: error.to_string() }),
    }
}

fn row(cells: Vec<Cell>) -> Result<FixRow, StoreError> {
    let text = |index: usize| cells.get(index).and_then(Cell::text).unwrap_or_default().to_string();
    let int = |index: usize| cells.get(index).and_then(Cell::int);
    let id = int(0).unwrap_or_default();
    let cell = |index: usize| cells.get(index).cloned().unwrap_or(Cell::Null);
    let what = |column: &str| format!("fixes.{column} of fix {id}");
    let optional = |index: usize, column: &str| -> Result<Option<Value>, StoreError> {
        let value = json(&cell(index), &what(column))?;
        Ok((!value.is_null()).then_some(value))
    };
    Ok(FixRow {
        id,
        input: FixInput {
            started_at: text(1),
            finished_at: text(2),
            account_id: text(3),
            region: text(4),
            check_id: text(5),
            resource_arn: text(6),
            target_arn: text(7),
            kind: text(8),
            caller_arn: text(9),
            operator: text(10),
            origin: text(11),
            status: text(12),
            message: text(13),
            undo_of: int(14),
            plan: json(&cell(15), &what("plan"))?,
            calls: json(&cell(16), &what("calls"))?,
            before: optional(17, "before_state")?,
            after: optional(18, "after_state")?,
            inverse: json(&cell(19), &what("inverse"))?,
        },
        undone_by: int(20),
    })
}

impl Store {
    /// Records a fix (and, for an undo, marks the fix it undid); returns its id.
    pub fn record_fix(&mut self, fix: &FixInput) -> Result<i64, StoreError> {
        let encode = |value: &Value| serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
        let (plan, calls, inverse) = (encode(&fix.plan), encode(&fix.calls), encode(&fix.inverse));
        let before = fix.before.as_ref().map(encode);
        let after = fix.after.as_ref().map(encode);
        self.db.begin_write()?;
        let result = (|| {
            let id = self.db.int("SELECT COALESCE(MAX(id), 0) + 1 FROM fixes", &[])?.unwrap_or(1);
            self.db.exec(
                "INSERT INTO fixes (id, started_at, finished_at, account_id, region, check_id, resource_arn, target_arn, kind, caller_arn, operator, origin,
                 status, message, undo_of, plan, calls, before_state, after_state, inverse)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                &[
                    Param::Int(id),
                    Param::Text(&fix.started_at),
                    Param::Text(&fix.finished_at),
                    Param::Text(&fix.account_id),
                    Param::Text(&fix.region),
                    Param::Text(&fix.check_id),
                    Param::Text(&fix.resource_arn),
                    Param::Text(&fix.target_arn),
                    Param::Text(&fix.kind),
                    Param::Text(&fix.caller_arn),
                    Param::Text(&fix.operator),
                    Param::Text(&fix.origin),
                    Param::Text(&fix.status),
                    Param::Text(&fix.message),
                    Param::OptInt(fix.undo_of),
                    Param::Text(&plan),
                    Param::Text(&calls),
                    Param::OptText(before.as_deref()),
                    Param::OptText(after.as_deref()),
                    Param::Text(&inverse),
                ],
            )?;
            if let (Some(undone), "applied") = (fix.undo_of, fix.status.as_str()) {
                self.db.exec("UPDATE fixes SET undone_by = $1 WHERE id = $2", &[Param::Int(id), Param::Int(undone)])?;
            }
            // Every fix is a change to the account: the audit log has it too, in the same
            // transaction, whoever recorded it (the CLI, its undo, watch automation).
            let action = if fix.undo_of.is_some() { "fix.undo" } else { "fix.apply" };
            let actor = format!("{}:{}", fix.origin, fix.operator);
            let detail = format!("fix {id}: {} ({})", fix.check_id, fix.status);
            let outcome = if fix.status == "applied" { "success" } else { "failure" };
            let entry = crate::people::AuditInput {
                at: &fix.finished_at,
                actor: &actor,
                action,
                target: &fix.target_arn,
                detail: &detail,
                address: &fix.origin,
                outcome,
            };
            crate::people::insert_audit(&mut self.db, &entry)?;
            Ok(id)
        })();
        match result {
            Ok(id) => {
                self.db.commit()?;
                Ok(id)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// One recorded fix.
    pub fn fix(&mut self, id: i64) -> Result<Option<FixRow>, StoreError> {
        self.db.row(&format!("SELECT {COLUMNS} FROM fixes WHERE id = $1"), &[Param::Int(id)])?.map(row).transpose()
    }

    /// Recorded fixes, newest first: all of them, or those about (or changing) one resource.
    pub fn fixes(&mut self, resource_arn: Option<&str>, limit: usize) -> Result<Vec<FixRow>, StoreError> {
        let rows = self.db.rows(
            &format!("SELECT {COLUMNS} FROM fixes WHERE ($1 = '' OR resource_arn = $1 OR target_arn = $1) ORDER BY id DESC LIMIT $2"),
            &[Param::Text(resource_arn.unwrap_or_default()), Param::Int(limit.clamp(1, 100_000) as i64)],
        )?;
        rows.into_iter().map(row).collect()
    }

    /// How many fixes of an origin were attempted since a time (RFC 3339): automation's rate
    /// limit counts every attempt, applied or not.
    pub fn fixes_since(&mut self, origin: &str, since: &str) -> Result<i64, StoreError> {
        Ok(self.db.int("SELECT COUNT(*) FROM fixes WHERE origin = $1 AND started_at >= $2", &[Param::Text(origin), Param::Text(since)])?.unwrap_or(0))
    }
}
