//! What changed between two scans: resources added, removed and changed (with a field-level
//! diff of their configuration), findings newly failing and fixed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::db::Param;
use crate::{ScanId, Store, StoreError};

/// One field that differs between two configurations. `path` uses the configuration's own
/// names (`IpPermissions[1].IpRanges`); `before`/`after` are absent when the field (or array
/// element) was added or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The field-level differences between two JSON documents. Objects are compared key by key;
/// arrays of the same length element by element; arrays whose length changed as sets (the
/// elements only in one of them), since AWS lists (rules, tags) have no stable order.
pub fn json_diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    diff_into(String::new(), before, after, &mut changes);
    changes
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn diff_into(path: String, before: &Value, after: &Value, changes: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for (key, old_value) in old {
                match new.get(key) {
                    Some(new_value) => diff_into(join(&path, key), old_value, new_value, changes),
                    None => changes.push(FieldChange { path: join(&path, key), before: Some(old_value.clone()), after: None }),
                }
            }
            for (key, new_value) in new.iter().filter(|(key, _)| !old.contains_key(*key)) {
                changes.push(FieldChange { path: join(&path, key), before: None, after: Some(new_value.clone()) });
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (index, (old_value, new_value)) in old.iter().zip(new).enumerate() {
                diff_into(format!("{path}[{index}]"), old_value, new_value, changes);
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            // As multisets: each element of one side cancels one equal element of the other.
            let mut unmatched: Vec<Option<&Value>> = new.iter().map(Some).collect();
            for value in old {
                match unmatched.iter_mut().find(|candidate| **candidate == Some(value)) {
                    Some(slot) => *slot = None,
                    None => changes.push(FieldChange { path: format!("{path}[]"), before: Some(value.clone()), after: None }),
                }
            }
            for value in unmatched.into_iter().flatten() {
                changes.push(FieldChange { path: format!("{path}[]"), before: None, after: Some(value.clone()) });
            }
        }
        _ => changes.push(FieldChange { path, before: Some(before.clone()), after: Some(after.clone()) }),
    }
}

/// How one resource differs between the two scans.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceDiff {
    pub arn: String,
    pub resource_type: String,
    pub account_id: String,
    pub region: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The lifecycle state in each scan (`active`, `stopped`, `terminated`, `deleted`, or
    /// absent when unknown at that scan).
    pub state_before: Option<String>,
    pub state_after: Option<String>,
    pub fields: Vec<FieldChange>,
}

/// A finding whose status changed between the two scans.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    pub check_id: String,
    pub severity: String,
    pub resource_arn: String,
    pub region: String,
    pub status_before: Option<String>,
    pub status_after: Option<String>,
}

/// Everything that changed from scan `from` to scan `to`.
#[derive(Debug, Clone, Serialize)]
pub struct ScanDiff {
    pub from: ScanId,
    pub to: ScanId,
    pub added: Vec<ResourceDiff>,
    pub removed: Vec<ResourceDiff>,
    pub changed: Vec<ResourceDiff>,
    /// Findings failing in `to` that were not failing in `from`.
    pub new_findings: Vec<FindingChange>,
    /// Findings failing in `from` that no longer fail in `to` (passing, or their resource gone).
    pub fixed_findings: Vec<FindingChange>,
}

struct Version {
    state: String,
    config: Option<Vec<u8>>,
}

impl Store {
    /// The ids of the last two full scans (older first), if there are two.
    pub fn last_two_scans(&mut self) -> Result<Option<(ScanId, ScanId)>, StoreError> {
        let rows = self.db.rows("SELECT id FROM scans WHERE kind = 'scan' ORDER BY id DESC LIMIT 2", &[])?;
        let ids: Vec<i64> = rows.iter().filter_map(|row| row.first().and_then(|value| value.int())).collect();
        Ok(match ids.as_slice() {
            [newer, older] => Some((*older, *newer)),
            _ => None,
        })
    }

    /// What changed from scan `from` to scan `to` (every change recorded in between counts,
    /// including event-driven updates).
    pub fn diff(&mut self, from: ScanId, to: ScanId) -> Result<ScanDiff, StoreError> {
        for id in [from, to] {
            if self.db.int("SELECT COUNT(*) FROM scans WHERE id = $1", &[Param::Int(id)])? != Some(1) {
                return Err(StoreError::NotFound(format!("no scan {id} in the store (`vigil scans` lists them)")));
            }
        }
        let (low, high) = (from.min(to), from.max(to));
        let mut diff = ScanDiff { from, to, added: Vec::new(), removed: Vec::new(), changed: Vec::new(), new_findings: Vec::new(), fixed_findings: Vec::new() };
        let touched = self.db.rows(
            "SELECT DISTINCT r.id, r.arn, r.resource_type, r.account_id, r.region FROM resource_versions v JOIN resources r ON r.id = v.resource
             WHERE v.scan_id > $1 AND v.scan_id <= $2 ORDER BY r.arn",
            &[Param::Int(low), Param::Int(high)],
        )?;
        for row in touched {
            let Some(id) = row[0].int() else { continue };
            let text = |index: usize| row[index].text().unwrap_or_default().to_string();
            let (arn, resource_type, account_id, region) = (text(1), text(2), text(3), text(4));
            let before = self.version_at(id, from)?;
            let after = self.version_at(id, to)?;
            let present = |version: &Option<Version>| version.as_ref().is_some_and(|version| version.state != "deleted");
            let change = match (present(&before), present(&after)) {
                (false, true) => "added",
                (true, false) => "removed",
                (true, true) => "changed",
                (false, false) => continue,
            };
            let fields = json_diff(&config_json(before.as_ref(), &resource_type)?, &config_json(after.as_ref(), &resource_type)?);
            let state_before = before.as_ref().map(|version| version.state.clone());
            let state_after = after.as_ref().map(|version| version.state.clone());
            if change == "changed" && fields.is_empty() && state_before == state_after {
                continue;
            }
            let entry = ResourceDiff { arn, resource_type, account_id, region, change, state_before, state_after, fields };
            match change {
                "added" => diff.added.push(entry),
                "removed" => diff.removed.push(entry),
                _ => diff.changed.push(entry),
            }
        }
        let touched = self.db.rows(
            "SELECT DISTINCT f.id, f.check_id, f.severity, f.resource_arn, f.region FROM finding_changes c JOIN findings f ON f.id = c.finding
             WHERE c.scan_id > $1 AND c.scan_id <= $2 ORDER BY f.check_id, f.resource_arn",
            &[Param::Int(low), Param::Int(high)],
        )?;
        for row in touched {
            let Some(id) = row[0].int() else { continue };
            let status_before = self.finding_status_at(id, from)?;
            let status_after = self.finding_status_at(id, to)?;
            let failing = |status: &Option<String>| status.as_deref() == Some("FAIL");
            let change = FindingChange {
                check_id: row[1].text().unwrap_or_default().to_string(),
                severity: row[2].text().unwrap_or_default().to_string(),
                resource_arn: row[3].text().unwrap_or_default().to_string(),
                region: row[4].text().unwrap_or_default().to_string(),
                status_before: status_before.clone(),
                status_after: status_after.clone(),
            };
            match (failing(&status_before), failing(&status_after)) {
                (false, true) => diff.new_findings.push(change),
                (true, false) => diff.fixed_findings.push(change),
                _ => {}
            }
        }
        Ok(diff)
    }

    fn version_at(&mut self, resource: i64, scan: ScanId) -> Result<Option<Version>, StoreError> {
        let row = self.db.row(
            "SELECT state, config FROM resource_versions WHERE resource = $1 AND scan_id <= $2 ORDER BY version DESC LIMIT 1",
            &[Param::Int(resource), Param::Int(scan)],
        )?;
        Ok(row.map(|row| {
            let mut row = row.into_iter();
            let state = row.next().and_then(|value| value.into_text()).unwrap_or_default();
            let config = row.next().and_then(|value| value.into_blob());
            Version { state, config }
        }))
    }

    fn finding_status_at(&mut self, finding: i64, scan: ScanId) -> Result<Option<String>, StoreError> {
        let row = self.db.row(
            "SELECT status FROM finding_changes WHERE finding = $1 AND scan_id <= $2 ORDER BY scan_id DESC LIMIT 1",
            &[Param::Int(finding), Param::Int(scan)],
        )?;
        Ok(row.and_then(|row| row.into_iter().next()).and_then(|value| value.into_text()))
    }
}

/// A version's configuration as JSON (`{}` when there is none: absent or deleted), without
/// its volatile fields (a version written before a field joined the list still holds it).
fn config_json(version: Option<&Version>, resource_type: &str) -> Result<Value, StoreError> {
    match version.and_then(|version| version.config.as_deref()) {
        None => Ok(Value::Object(serde_json::Map::new())),
        Some(compressed) => decode_stable_config(compressed, resource_type),
    }
}

/// Decompresses and parses a stored configuration and removes its volatile fields.
pub fn decode_stable_config(compressed: &[u8], resource_type: &str) -> Result<Value, StoreError> {
    let mut config = decode_config(compressed)?;
    vigil_model::volatile::remove_volatile_fields(resource_type, &mut config);
    Ok(config)
}

/// Decompresses and parses a stored configuration.
pub fn decode_config(compressed: &[u8]) -> Result<Value, StoreError> {
    let bytes =
        zstd::stream::decode_all(compressed).map_err(|error| StoreError::Corrupt { what: "a resource configuration".into(), reason: error.to_string() })?;
    serde_json::from_slice(&bytes).map_err(|error| StoreError::Corrupt { what: "a resource configuration".into(), reason: error.to_string() })
}

/// Groups field changes by their top-level field, for display.
pub fn by_top_field(fields: &[FieldChange]) -> BTreeMap<&str, Vec<&FieldChange>> {
    let mut grouped: BTreeMap<&str, Vec<&FieldChange>> = BTreeMap::new();
    for field in fields {
        let top = field.path.split(['.', '[']).next().unwrap_or(&field.path);
        grouped.entry(top).or_default().push(field);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(before: Value, after: Value, expected: &[(&str, Option<Value>, Option<Value>)]) {
        let changes = json_diff(&before, &after);
        let got: Vec<(&str, Option<Value>, Option<Value>)> =
            changes.iter().map(|change| (change.path.as_str(), change.before.clone(), change.after.clone())).collect();
        assert_eq!(got, expected.to_vec());
    }

    #[test]
    fn json_diff_names_each_changed_field() {
        check(json!({"A": 1, "B": {"C": true}}), json!({"A": 1, "B": {"C": true}}), &[]);
        check(json!({"A": 1}), json!({"A": 2}), &[("A", Some(json!(1)), Some(json!(2)))]);
        check(json!({"A": 1}), json!({}), &[("A", Some(json!(1)), None)]);
        check(json!({}), json!({"A": {"B": 1}}), &[("A", None, Some(json!({"B": 1})))]);
        check(json!({"A": {"B": [1, 2]}}), json!({"A": {"B": [1, 3]}}), &[("A.B[1]", Some(json!(2)), Some(json!(3)))]);
        // A rule added to a list whose length changed: reported as the element added, whatever its position.
        check(
            json!({"IpPermissions": [{"FromPort": 443}]}),
            json!({"IpPermissions": [{"FromPort": 22}, {"FromPort": 443}]}),
            &[("IpPermissions[]", None, Some(json!({"FromPort": 22})))],
        );
        check(json!({"L": [1]}), json!({"L": [1, 1]}), &[("L[]", None, Some(json!(1)))]);
        check(json!({"S": "a"}), json!({"S": null}), &[("S", Some(json!("a")), Some(Value::Null))]);
    }

    #[test]
    fn fields_group_by_their_top_level_name() {
        let changes = json_diff(&json!({"A": [1], "B": {"C": 1, "D": 1}}), &json!({"A": [2], "B": {"C": 2, "D": 2}}));
        let grouped = by_top_field(&changes);
        assert_eq!(grouped.keys().copied().collect::<Vec<_>>(), vec!["A", "B"]);
        assert_eq!(grouped["B"].len(), 2);
    }
}
