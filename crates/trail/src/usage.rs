//! Who used which action on which resource, from CloudTrail records: the activity `vigil fix`
//! checks a change against (a principal that used an action the change would deny). Only
//! successful calls count as use.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::read::Source;
use crate::value::Value;
use crate::{ReadReport, ScanOptions};

/// One principal's use of one action on a set of resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// The caller: an IAM user's or root's ARN, the role behind an assumed-role session, or
    /// `arn:aws:iam::ACCOUNT:root` for a call from another account.
    pub principal: String,
    pub access_key_id: Option<String>,
    /// `service:Action`, from the event source and name.
    pub action: String,
    /// The ARNs and names the events named.
    pub resources: Vec<String>,
    pub count: u64,
    /// The latest `eventTime`.
    pub last_seen: String,
}

/// Request parameters that name a resource.
const RESOURCE_PARAMETERS: &[&str] = &[
    "bucketName",
    "queueUrl",
    "topicArn",
    "TopicArn",
    "secretId",
    "repositoryName",
    "keyId",
    "functionName",
    "tableName",
    "groupId",
    "instanceId",
    "userName",
    "roleName",
    "logGroupName",
    "name",
];

/// The IAM prefix of an event source whose host differs from it.
fn iam_prefix(source: &str) -> &str {
    let host = source.split('.').next().unwrap_or(source);
    match host {
        "monitoring" => "cloudwatch",
        "email" => "ses",
        "elasticloadbalancing" => "elasticloadbalancing",
        "es" => "es",
        other => other,
    }
}

/// The caller of a record, if it is a principal that policies can name.
fn principal(record: &Value<'_>) -> Option<String> {
    let identity = record.get("userIdentity")?;
    let kind = identity.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "AssumedRole" => identity.path("sessionContext.sessionIssuer.arn").and_then(Value::as_str).map(str::to_string),
        "IAMUser" | "Root" => identity.get("arn").and_then(Value::as_str).map(str::to_string),
        "AWSAccount" => identity.get("accountId").and_then(Value::as_str).map(|account| format!("arn:aws:iam::{account}:root")),
        _ => None,
    }
}

type Key = (String, Option<String>, String, Vec<String>);

/// The usage key and time of one record, when it is a successful call by a principal.
fn record_usage(record: &Value<'_>) -> Option<(Key, String)> {
    if record.get("errorCode").is_some_and(|code| !code.is_null()) {
        return None;
    }
    let principal = principal(record)?;
    let source = record.get("eventSource").and_then(Value::as_str)?;
    let name = record.get("eventName").and_then(Value::as_str)?;
    let mut resources = BTreeSet::new();
    if let Some(Value::Array(items)) = record.get("resources") {
        for item in items {
            if let Some(arn) = item.get("ARN").and_then(Value::as_str) {
                resources.insert(arn.to_string());
            }
        }
    }
    if let Some(parameters) = record.get("requestParameters") {
        for name in RESOURCE_PARAMETERS {
            if let Some(text) = parameters.get(name).and_then(Value::as_str) {
                resources.insert(text.to_string());
            }
        }
    }
    let key_id = record.path("userIdentity.accessKeyId").and_then(Value::as_str).map(str::to_string);
    let time = record.get("eventTime").and_then(Value::as_str).unwrap_or_default().to_string();
    Some(((principal, key_id, format!("{}:{name}", iam_prefix(source)), resources.into_iter().collect()), time))
}

#[derive(Default)]
struct Tally {
    uses: HashMap<Key, (u64, String)>,
}

impl Tally {
    fn add(&mut self, key: Key, time: String, count: u64) {
        let entry = self.uses.entry(key).or_insert((0, String::new()));
        entry.0 += count;
        if time > entry.1 {
            entry.1 = time;
        }
    }
}

/// The usage in some records (already parsed).
pub fn usage_of<'a>(records: impl IntoIterator<Item = &'a Value<'a>>) -> Vec<Usage> {
    let mut tally = Tally::default();
    for record in records {
        if let Some((key, time)) = record_usage(record) {
            tally.add(key, time, 1);
        }
    }
    finish(tally)
}

/// The usage in CloudTrail files, directories or standard input.
pub fn usage(sources: &[Source]) -> (Vec<Usage>, ReadReport) {
    let (tally, report) = crate::scan(
        sources,
        ScanOptions::default(),
        Tally::default,
        |tally, _, record| {
            if let Some((key, time)) = record_usage(record) {
                tally.add(key, time, 1);
            }
        },
        |mut left, right| {
            for (key, (count, time)) in right.uses {
                left.add(key, time, count);
            }
            left
        },
    );
    (finish(tally), report)
}

fn finish(tally: Tally) -> Vec<Usage> {
    let mut usage: Vec<Usage> = tally
        .uses
        .into_iter()
        .map(|((principal, access_key_id, action, resources), (count, last_seen))| Usage { principal, access_key_id, action, resources, count, last_seen })
        .collect();
    usage.sort_by(|a, b| (&a.principal, &a.action, &a.resources).cmp(&(&b.principal, &b.action, &b.resources)));
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successful_calls_are_tallied_per_principal_action_and_resource() {
        let texts = [
            r#"{"eventTime":"2024-05-01T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/i-1","accessKeyId":"ASIA1","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/app"}}},"requestParameters":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/orders"}}"#,
            r#"{"eventTime":"2024-05-02T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","userIdentity":{"type":"AssumedRole","accessKeyId":"ASIA1","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/app"}}},"requestParameters":{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/orders"}}"#,
            r#"{"eventTime":"2024-05-03T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"}}"#,
            r#"{"eventTime":"2024-05-03T11:00:00Z","eventSource":"monitoring.amazonaws.com","eventName":"PutMetricData","userIdentity":{"type":"AWSAccount","accountId":"444455556666"},"resources":[{"ARN":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:x"}]}"#,
        ];
        let records: Vec<Value<'_>> = texts.iter().map(|text| Value::parse(text.as_bytes()).unwrap()).collect();
        let usage = usage_of(&records);
        assert_eq!(usage.len(), 2, "{usage:?}");
        assert_eq!(usage[0].principal, "arn:aws:iam::111122223333:role/app");
        assert_eq!((usage[0].action.as_str(), usage[0].count, usage[0].last_seen.as_str()), ("sqs:SendMessage", 2, "2024-05-02T10:00:00Z"));
        assert_eq!(usage[0].access_key_id.as_deref(), Some("ASIA1"));
        assert_eq!(usage[1].principal, "arn:aws:iam::444455556666:root");
        assert_eq!(usage[1].action, "cloudwatch:PutMetricData");
        assert_eq!(usage[1].resources, vec!["arn:aws:cloudwatch:us-east-1:111122223333:alarm:x".to_string()]);
    }
}
