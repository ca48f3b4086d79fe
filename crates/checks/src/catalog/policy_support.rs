//! Shared helpers for the SQS, Kinesis, Lambda, CloudFront, Route 53, SES, GuardDuty, Security
//! Hub, Secrets Manager and ECR families: a conservative public-principal test over resource
//! policies, the `aws:SecureTransport` test, subjects, and ERROR findings for failed listings.

use serde_json::{Value, json};
use vigil_model::Tags;
use vigil_model::ledger::Coverage;

use crate::context::{Context, Subject};
use crate::{Finding, Metadata};

/// Condition keys that narrow who can use a statement to an account, organization, source
/// resource or network. A positive condition on one of them makes a `*` principal non-public.
const NARROWING_CONDITION_KEYS: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "aws:username",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "kms:calleraccount",
    "lambda:functionurlauthtype",
];

fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(statements)) => statements.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => Vec::new(),
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// True when the principal is everyone: `"*"`, `{"AWS": "*"}` (alone or in a list).
fn principal_is_everyone(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(text)) => text == "*",
        Some(Value::Object(map)) => strings(map.get("AWS")).contains(&"*"),
        _ => false,
    }
}

/// True when a condition block restricts the statement by account, organization or source.
fn condition_narrows(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else { return false };
    operators.iter().any(|(operator, keys)| {
        let operator = operator.to_ascii_lowercase();
        // Negated operators and IfExists variants do not narrow a public grant.
        if operator.contains("not") || operator.ends_with("ifexists") || operator == "null" {
            return false;
        }
        let Value::Object(keys) = keys else { return false };
        keys.iter().any(|(key, values)| {
            NARROWING_CONDITION_KEYS.contains(&key.to_ascii_lowercase().as_str()) && !strings(Some(values)).iter().all(|value| *value == "*")
        })
    })
}

/// The statements of a resource policy that allow everyone with no narrowing condition, each
/// with its index and Sid, for evidence. `NotPrincipal` with Allow counts as everyone.
pub(crate) fn public_statements(policy: &Value) -> Vec<Value> {
    statements(policy)
        .into_iter()
        .enumerate()
        .filter(|(_, statement)| statement.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|(_, statement)| principal_is_everyone(statement.get("Principal")) || statement.get("NotPrincipal").is_some())
        .filter(|(_, statement)| !condition_narrows(statement.get("Condition")))
        .map(|(index, statement)| json!({ "StatementIndex": index, "Sid": statement.get("Sid"), "Statement": statement }))
        .collect()
}

/// The AWS account ids named as principals in Allow statements (ARNs or bare ids).
pub(crate) fn principal_accounts(policy: &Value) -> Vec<String> {
    let mut accounts: Vec<String> = statements(policy)
        .into_iter()
        .filter(|statement| statement.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .flat_map(|statement| match statement.get("Principal") {
            Some(Value::Object(map)) => strings(map.get("AWS")).into_iter().map(str::to_string).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .filter_map(|principal| {
            if principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit()) {
                Some(principal)
            } else {
                principal.split(':').nth(4).filter(|account| account.len() == 12).map(str::to_string)
            }
        })
        .collect();
    accounts.sort();
    accounts.dedup();
    accounts
}

/// The statements that deny requests not sent over TLS (`aws:SecureTransport` = false) for
/// every action of the service (`*` or `<service>:*`).
pub(crate) fn secure_transport_statements(policy: &Value, service_prefix: &str) -> Vec<Value> {
    let all_actions = format!("{service_prefix}:*");
    statements(policy)
        .into_iter()
        .filter(|statement| statement.get("Effect").and_then(Value::as_str) == Some("Deny"))
        .filter(|statement| strings(statement.get("Action")).iter().any(|action| *action == "*" || action.eq_ignore_ascii_case(&all_actions)))
        .filter(|statement| {
            let Some(Value::Object(operators)) = statement.get("Condition") else { return false };
            operators.iter().any(|(operator, keys)| {
                operator.to_ascii_lowercase().starts_with("bool")
                    && keys.as_object().is_some_and(|keys| {
                        keys.iter().any(|(key, value)| {
                            key.eq_ignore_ascii_case("aws:SecureTransport")
                                && match value {
                                    Value::Bool(flag) => !flag,
                                    other => strings(Some(other)).iter().any(|text| text.eq_ignore_ascii_case("false")),
                                }
                        })
                    })
            })
        })
        .cloned()
        .collect()
}

/// A subject for a resource read from the inventory.
pub(crate) fn subject(arn: &str, resource_type: &str, id: &str, region: &str, tags: Option<&Tags>) -> Subject {
    Subject {
        arn: arn.to_string(),
        resource_type: resource_type.to_string(),
        id: id.to_string(),
        region: region.to_string(),
        tags: tags.cloned().unwrap_or_default(),
    }
}

/// Whether a service's listing in a region was read. When it failed, the region's resources
/// are unknown: pushes one ERROR finding for the region naming the call and returns false.
/// When the service was not collected at all (the scan excluded it), returns false silently:
/// no resource is claimed either way.
pub(crate) fn listing_read(context: &Context<'_>, metadata: &Metadata, region: &str, service: &str, operation: &str, findings: &mut Vec<Finding>) -> bool {
    match context.ledger.coverage(service, region, operation, None) {
        Coverage::Read => true,
        Coverage::NotCollected => false,
        Coverage::Failed(_) => {
            let needs = [crate::context::Needs::call(service, region, operation)];
            if let Err(unread) = context.require(&needs) {
                findings.push(context.unread(metadata, &context.region_subject(region), unread));
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statement: Value) -> Value {
        json!({ "Version": "2012-10-17", "Statement": [statement] })
    }

    #[test]
    fn public_principals_are_found_unless_a_condition_narrows_them() {
        let cases: &[(Value, bool)] = &[
            (json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*" }), true),
            (json!({ "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "sqs:*" }), true),
            (json!({ "Effect": "Allow", "Principal": { "AWS": ["arn:aws:iam::111122223333:root", "*"] }, "Action": "sqs:*" }), true),
            (json!({ "Effect": "Allow", "NotPrincipal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": "sqs:*" }), true),
            (
                json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "StringEquals": { "aws:SourceAccount": "111122223333" } } }),
                false,
            ),
            (
                json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "ArnLike": { "aws:SourceArn": "arn:aws:sns:*:111122223333:*" } } }),
                false,
            ),
            (json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-abc" } } }), false),
            (
                json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "StringNotEquals": { "aws:SourceAccount": "111122223333" } } }),
                true,
            ),
            (json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "StringLike": { "aws:SourceAccount": "*" } } }), true),
            (json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "Bool": { "aws:SecureTransport": "true" } } }), true),
            (json!({ "Effect": "Deny", "Principal": "*", "Action": "sqs:*" }), false),
            (json!({ "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": "sqs:*" }), false),
            (json!({ "Effect": "Allow", "Principal": { "Service": "sns.amazonaws.com" }, "Action": "sqs:SendMessage" }), false),
        ];
        for (statement, expected) in cases {
            assert_eq!(!public_statements(&policy(statement.clone())).is_empty(), *expected, "{statement}");
        }
        assert!(public_statements(&json!("not a policy")).is_empty());
    }

    #[test]
    fn secure_transport_needs_a_deny_on_every_action_when_tls_is_absent() {
        let cases: &[(Value, bool)] = &[
            (json!({ "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Condition": { "Bool": { "aws:SecureTransport": "false" } } }), true),
            (json!({ "Effect": "Deny", "Principal": "*", "Action": "*", "Condition": { "Bool": { "aws:SecureTransport": false } } }), true),
            (json!({ "Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Condition": { "Bool": { "aws:SecureTransport": "false" } } }), false),
            (json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": { "Bool": { "aws:SecureTransport": "true" } } }), false),
            (json!({ "Effect": "Deny", "Principal": "*", "Action": "sqs:*" }), false),
        ];
        for (statement, expected) in cases {
            assert_eq!(!secure_transport_statements(&policy(statement.clone()), "sqs").is_empty(), *expected, "{statement}");
        }
    }

    #[test]
    fn principal_accounts_come_from_arns_and_bare_ids() {
        let document = json!({ "Statement": [
            { "Effect": "Allow", "Principal": { "AWS": ["arn:aws:iam::111122223333:root", "444455556666"] }, "Action": "*" },
            { "Effect": "Deny", "Principal": { "AWS": "777788889999" }, "Action": "*" },
            { "Effect": "Allow", "Principal": { "Service": "s3.amazonaws.com" }, "Action": "*" }
        ]});
        assert_eq!(principal_accounts(&document), vec!["111122223333".to_string(), "444455556666".to_string()]);
    }
}
