//! Volatile status fields: values AWS refreshes on its own (last-used times, "latest"
//! delivery times, counters, health and alarm states) that say nothing about how a resource
//! is configured. The store leaves them out of a resource's configuration history, as AWS
//! Config does, so they never create a configuration version or a diff entry.
//!
//! [`VOLATILE_FIELDS`] is the one list; docs/history.md shows it (a test keeps the page equal
//! to [`markdown_table`]).

use serde_json::Value;

/// One volatile field of a resource type's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolatileField {
    /// The CloudFormation type, as `ResourceRef::resource_type` names it.
    pub resource_type: &'static str,
    /// The field in the configuration's JSON: keys joined by `.`, `[]` after a key for every
    /// element of that list (`AccessKeys[].LastUsed`).
    pub path: &'static str,
    /// Why it is not configuration.
    pub why: &'static str,
}

const fn field(resource_type: &'static str, path: &'static str, why: &'static str) -> VolatileField {
    VolatileField { resource_type, path, why }
}

/// Every volatile field, by resource type.
pub const VOLATILE_FIELDS: &[VolatileField] = &[
    field("AWS::CloudTrail::Trail", "Status.LatestDeliveryTime", "when the trail last delivered a log file (GetTrailStatus)"),
    field("AWS::CloudTrail::Trail", "Status.LatestCloudWatchLogsDeliveryTime", "when the trail last delivered to CloudWatch Logs (GetTrailStatus)"),
    field("AWS::IAM::User", "PasswordLastUsed", "when the user last signed in to the console"),
    field("AWS::IAM::User", "AccessKeys[].LastUsed", "when, where and for which service each access key was last used (GetAccessKeyLastUsed)"),
    field("AWS::IAM::Role", "RoleLastUsed", "when and where the role was last assumed"),
    field("AWS::IAM::ManagedPolicy", "AttachmentCount", "how many identities the policy is attached to: each attachment is recorded on the identity"),
    field("AWS::IAM::ManagedPolicy", "PermissionsBoundaryUsageCount", "how many identities use the policy as a boundary: recorded on the identity"),
    field("AWS::Logs::LogGroup", "StoredBytes", "how much the log group holds, growing with every event"),
    field("AWS::CloudWatch::Alarm", "StateValue", "OK, ALARM or INSUFFICIENT_DATA: follows the metric, not the configuration"),
    field("AWS::SecretsManager::Secret", "LastAccessedDate", "the day the secret was last read"),
    field("AWS::Config::ConfigurationRecorder", "LastStatus", "the outcome of the recorder's latest recording (Pending, Success, Failure)"),
    field("AWS::ElasticLoadBalancingV2::TargetGroup", "Targets[].HealthState", "each target's health check result"),
    field("AWS::CloudFront::Distribution", "Status", "InProgress while a change propagates, then Deployed"),
    field("AWS::SQS::Queue", "Attributes.ApproximateNumberOfMessages", "how many messages wait in the queue"),
    field("AWS::SQS::Queue", "Attributes.ApproximateNumberOfMessagesNotVisible", "how many messages are being processed"),
    field("AWS::SQS::Queue", "Attributes.ApproximateNumberOfMessagesDelayed", "how many messages are delayed"),
    field(
        "AWS::SQS::Queue",
        "Attributes.LastModifiedTimestamp",
        "when the attributes last changed: a change shows in the attributes themselves, and a change undone leaves only this time",
    ),
];

/// True when the type has volatile fields (so its configuration must be cleaned).
pub fn has_volatile_fields(resource_type: &str) -> bool {
    VOLATILE_FIELDS.iter().any(|field| field.resource_type == resource_type)
}

/// Removes the resource type's volatile fields from its configuration.
pub fn remove_volatile_fields(resource_type: &str, configuration: &mut Value) {
    for field in VOLATILE_FIELDS.iter().filter(|field| field.resource_type == resource_type) {
        let segments: Vec<&str> = field.path.split('.').collect();
        remove_path(configuration, &segments);
    }
}

fn remove_path(value: &mut Value, segments: &[&str]) {
    let Some((first, rest)) = segments.split_first() else { return };
    let Value::Object(object) = value else { return };
    match first.strip_suffix("[]") {
        Some(key) => {
            if let Some(Value::Array(items)) = object.get_mut(key) {
                for item in items {
                    remove_path(item, rest);
                }
            }
        }
        None if rest.is_empty() => {
            object.remove(*first);
        }
        None => {
            if let Some(inner) = object.get_mut(*first) {
                remove_path(inner, rest);
            }
        }
    }
}

/// The list as the Markdown table docs/history.md shows.
pub fn markdown_table() -> String {
    let mut table = String::from("| Resource type | Field | Why it is volatile |\n|---|---|---|\n");
    for field in VOLATILE_FIELDS {
        table.push_str(&format!("| `{}` | `{}` | {} |\n", field.resource_type, field.path, field.why));
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resource::ResourceData;

    /// Does `path` name a key present in `value` (through every element of `[]` lists)?
    fn present(value: &Value, segments: &[&str]) -> bool {
        let Some((first, rest)) = segments.split_first() else { return true };
        match first.strip_suffix("[]") {
            Some(key) => value.get(key).and_then(Value::as_array).is_some_and(|items| !items.is_empty() && items.iter().all(|item| present(item, rest))),
            None => value.get(*first).is_some_and(|inner| rest.is_empty() || present(inner, rest)),
        }
    }

    /// A configuration of the type with every optional part of a volatile path filled, as the
    /// model serializes it: a path the model does not have is not present in it.
    fn witness(resource_type: &str) -> Value {
        match resource_type {
            "AWS::CloudTrail::Trail" => ResourceData::Trail(&crate::monitoring::Trail { status: Some(Default::default()), ..Default::default() }).to_json(),
            "AWS::IAM::User" => ResourceData::User(&crate::iam::User {
                access_keys: vec![crate::iam::AccessKey { last_used: Some(Default::default()), ..Default::default() }],
                ..Default::default()
            })
            .to_json(),
            "AWS::IAM::Role" => ResourceData::Role(&Default::default()).to_json(),
            "AWS::IAM::ManagedPolicy" => ResourceData::Policy(&Default::default()).to_json(),
            "AWS::Logs::LogGroup" => ResourceData::LogGroup(&Default::default()).to_json(),
            "AWS::CloudWatch::Alarm" => ResourceData::MetricAlarm(&Default::default()).to_json(),
            "AWS::SecretsManager::Secret" => ResourceData::Secret(&Default::default()).to_json(),
            "AWS::Config::ConfigurationRecorder" => ResourceData::ConfigurationRecorder(&Default::default()).to_json(),
            "AWS::ElasticLoadBalancingV2::TargetGroup" => {
                ResourceData::TargetGroup(&crate::elb::TargetGroup { targets: vec![Default::default()], ..Default::default() }).to_json()
            }
            "AWS::CloudFront::Distribution" => ResourceData::Distribution(&Default::default()).to_json(),
            "AWS::SQS::Queue" => {
                let attributes =
                    ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed", "LastModifiedTimestamp"]
                        .into_iter()
                        .map(|name| (name.to_string(), "1".to_string()))
                        .collect();
                ResourceData::Queue(&crate::messaging::Queue { attributes, ..Default::default() }).to_json()
            }
            other => panic!("no witness for {other}: add one with the volatile field"),
        }
    }

    #[test]
    fn every_volatile_field_names_a_field_of_the_model() {
        for field in VOLATILE_FIELDS {
            let mut configuration = witness(field.resource_type);
            let segments: Vec<&str> = field.path.split('.').collect();
            assert!(present(&configuration, &segments), "{} has no `{}`: {configuration}", field.resource_type, field.path);
            remove_volatile_fields(field.resource_type, &mut configuration);
            assert!(!present(&configuration, &segments), "{} `{}` was not removed", field.resource_type, field.path);
        }
    }

    #[test]
    fn removing_leaves_everything_else_and_other_types_alone() {
        let mut user = json!({
            "UserName": "alice", "PasswordLastUsed": "2026-01-01T00:00:00Z",
            "AccessKeys": [{ "AccessKeyId": "AKIA1", "Status": "Active", "LastUsed": { "LastUsedDate": "2026-01-02T00:00:00Z" } }, { "AccessKeyId": "AKIA2" }]
        });
        remove_volatile_fields("AWS::IAM::User", &mut user);
        assert_eq!(user, json!({ "UserName": "alice", "AccessKeys": [{ "AccessKeyId": "AKIA1", "Status": "Active" }, { "AccessKeyId": "AKIA2" }] }));
        let mut bucket = json!({ "Name": "b", "PasswordLastUsed": "kept: not a user" });
        let before = bucket.clone();
        remove_volatile_fields("AWS::S3::Bucket", &mut bucket);
        assert_eq!(bucket, before);
        assert!(has_volatile_fields("AWS::CloudTrail::Trail") && !has_volatile_fields("AWS::S3::Bucket"));
    }

    /// docs/history.md shows the list; regenerate with `VIGIL_BLESS=1 cargo test -p vigil-model volatile`.
    #[test]
    fn docs_history_md_lists_the_volatile_fields() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/history.md");
        let page = std::fs::read_to_string(&path).unwrap();
        let (start, end) = ("<!-- volatile-fields:start -->\n", "<!-- volatile-fields:end -->");
        let from = page.find(start).expect("docs/history.md has the volatile-fields markers") + start.len();
        let to = page[from..].find(end).expect("the end marker") + from;
        let table = markdown_table();
        if std::env::var("VIGIL_BLESS").as_deref() == Ok("1") {
            std::fs::write(&path, format!("{}{table}{}", &page[..from], &page[to..])).unwrap();
            return;
        }
        assert_eq!(&page[from..to], table, "docs/history.md is stale: VIGIL_BLESS=1 cargo test -p vigil-model volatile");
    }
}
