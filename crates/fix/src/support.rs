//! Helpers the kinds share: ledger requirements, regional lookups, policy statements and
//! plan-friendly JSON.

use serde_json::{Map, Value, json};
use vigil_model::inventory::RegionalInventory;
use vigil_model::{Inventory, Region};

use crate::FixError;

/// Fails unless every ledger entry for this call succeeded (or said "not configured").
pub(crate) fn require(inventory: &Inventory, service: &str, region: &str, operation: &str, target: Option<&str>) -> Result<(), FixError> {
    let mut seen = false;
    for call in &inventory.ledger.calls {
        if call.service != service || call.region != region || call.operation != operation || call.target.as_deref() != target {
            continue;
        }
        seen = true;
        if let Some((code, message)) = call.outcome.failure() {
            return Err(FixError::NotRead { call: format!("{service}:{operation}"), region: region.to_string(), reason: format!("{code}: {message}") });
        }
    }
    if seen {
        Ok(())
    } else {
        Err(FixError::NotRead { call: format!("{service}:{operation}"), region: region.to_string(), reason: "not collected".to_string() })
    }
}

/// Records a read in the ledger (for a sub-resource a planned change creates, so the checks
/// that need its read see one).
pub(crate) fn record_read(inventory: &mut Inventory, service: &str, region: &str, operation: &str, target: Option<&str>) {
    inventory.ledger.record(vigil_model::ApiCall::new(service, region, operation, target.map(str::to_string), vigil_model::Outcome::Ok));
}

pub(crate) fn regional<'a>(inventory: &'a Inventory, region: &str) -> Result<&'a RegionalInventory, FixError> {
    inventory.regional.get(&Region::new(region)).ok_or_else(|| FixError::NotFound(format!("region `{region}`")))
}

pub(crate) fn regional_mut<'a>(inventory: &'a mut Inventory, region: &str) -> Result<&'a mut RegionalInventory, FixError> {
    inventory.regional.get_mut(&Region::new(region)).ok_or_else(|| FixError::NotFound(format!("region `{region}`")))
}

/// Deserializes a state value (or one of its fields) into a model type.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(value: &Value, what: &str) -> Result<T, FixError> {
    serde_json::from_value(value.clone()).map_err(|error| FixError::Malformed { what: what.to_string(), reason: error.to_string() })
}

pub(crate) fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A boolean field of a state object.
pub(crate) fn flag(state: &Value, field: &str) -> Option<bool> {
    state.get(field).and_then(Value::as_bool)
}

/// The statements of a policy document, as a list whatever form it was written in.
pub(crate) fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(statements)) => statements.clone(),
        Some(statement @ Value::Object(_)) => vec![statement.clone()],
        _ => Vec::new(),
    }
}

/// The policy with these statements instead of its own (`None` when there are none left).
pub(crate) fn with_statements(policy: &Value, statements: Vec<Value>) -> Option<Value> {
    if statements.is_empty() {
        return None;
    }
    let mut policy = match policy {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    policy.entry("Version").or_insert_with(|| json!("2012-10-17"));
    policy.insert("Statement".to_string(), Value::Array(statements));
    Some(Value::Object(policy))
}

/// The indexes of the parts a check objects to on their own: `fails_with_only(part)` runs
/// the check on the resource holding that part alone.
pub(crate) fn flagged<T>(parts: &[T], mut fails_with_only: impl FnMut(&T) -> bool) -> Vec<usize> {
    parts.iter().enumerate().filter(|(_, part)| fails_with_only(part)).map(|(index, _)| index).collect()
}

/// The JSON a plan shows: objects without null fields or empty lists, recursively.
pub(crate) fn clean(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null() && !value.as_array().is_some_and(Vec::is_empty))
                .map(|(key, value)| (key, clean(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(clean).collect()),
        other => other,
    }
}

/// A policy document as the text AWS APIs take.
pub(crate) fn policy_text(policy: &Value) -> String {
    serde_json::to_string(policy).unwrap_or_default()
}

/// An empty inventory of account 123456789012 with one region, for unit tests.
#[cfg(test)]
pub(crate) fn test_inventory(region: &str) -> Inventory {
    let account = vigil_model::AccountInfo {
        account_id: "123456789012".parse().unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    Inventory::new(account, vec![Region::new(region)], chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_nulls_and_empty_lists_but_keeps_false_and_zero() {
        let value = json!({"A": null, "B": [], "C": false, "D": 0, "E": [{"F": null, "G": "x"}]});
        assert_eq!(clean(value), json!({"C": false, "D": 0, "E": [{"G": "x"}]}));
    }

    #[test]
    fn statements_accept_one_object_or_a_list_and_an_empty_policy_is_none() {
        assert_eq!(statements(&json!({"Statement": {"Effect": "Allow"}})).len(), 1);
        assert_eq!(statements(&json!({"Statement": [{}, {}]})).len(), 2);
        assert_eq!(with_statements(&json!({"Version": "2008-10-17", "Statement": [{}]}), vec![]), None);
        assert_eq!(with_statements(&json!({"Version": "2008-10-17"}), vec![json!({})]), Some(json!({"Version": "2008-10-17", "Statement": [{}]})));
    }
}
