//! Reading the events `vigil watch` consumes: EventBridge envelopes (as SQS delivers them,
//! optionally wrapped in an SNS notification) for EC2 instance state changes and for API
//! calls recorded by CloudTrail, turned into the resources to re-read.

use serde_json::Value;

/// A resource an event says changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An instance; `state` is the state the event reports, when it reports one.
    Instance {
        region: String,
        id: String,
        state: Option<String>,
    },
    SecurityGroup {
        region: String,
        id: String,
    },
}

/// An event, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The EventBridge event id (stable across redeliveries), else the SQS message id.
    pub id: String,
    /// `detail-type`, plus the API call for CloudTrail events.
    pub kind: String,
    pub account: Option<String>,
    pub targets: Vec<Target>,
}

/// Parses one message body. An event vigil does not act on yields no targets (it is still
/// recorded, so it is not processed twice); a body that is not JSON is an error.
pub fn parse(message_id: &str, body: &str) -> Result<Event, String> {
    let mut value: Value = serde_json::from_str(body).map_err(|error| format!("message {message_id} is not JSON: {error}"))?;
    // SNS → SQS delivery wraps the event in a notification.
    if value.get("Type").and_then(Value::as_str) == Some("Notification")
        && let Some(inner) = value.get("Message").and_then(Value::as_str).and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        value = inner;
    }
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let id = text(&value, "id").unwrap_or_else(|| message_id.to_string());
    let detail_type = text(&value, "detail-type").unwrap_or_else(|| "unknown".to_string());
    let region = text(&value, "region").unwrap_or_default();
    let account = text(&value, "account");
    let detail = value.get("detail").cloned().unwrap_or(Value::Null);
    let mut targets = Vec::new();
    let kind = match detail_type.as_str() {
        "EC2 Instance State-change Notification" => {
            if let Some(id) = text(&detail, "instance-id") {
                targets.push(Target::Instance { region, id, state: text(&detail, "state") });
            }
            detail_type
        }
        "AWS API Call via CloudTrail" => {
            let name = text(&detail, "eventName").unwrap_or_default();
            let region = text(&detail, "awsRegion").unwrap_or(region);
            targets = cloudtrail_targets(&name, &region, &detail);
            format!("{detail_type}: {name}")
        }
        _ => detail_type,
    };
    Ok(Event { id, kind, account, targets })
}

/// Ids in `{"items": [{"instanceId": ...}]}` under `detail.<section>.instancesSet`.
fn instance_ids(detail: &Value, section: &str) -> Vec<String> {
    detail
        .pointer(&format!("/{section}/instancesSet/items"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|item| item.get("instanceId").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default()
}

fn cloudtrail_targets(name: &str, region: &str, detail: &Value) -> Vec<Target> {
    let instance = |id: String| Target::Instance { region: region.to_string(), id, state: None };
    let group = |id: &str| Target::SecurityGroup { region: region.to_string(), id: id.to_string() };
    match name {
        "RunInstances" => instance_ids(detail, "responseElements").into_iter().map(instance).collect(),
        "StartInstances" | "StopInstances" | "TerminateInstances" | "RebootInstances" => {
            instance_ids(detail, "requestParameters").into_iter().map(instance).collect()
        }
        "ModifyInstanceAttribute" | "ModifyInstanceMetadataOptions" | "AssociateIamInstanceProfile" => {
            detail.pointer("/requestParameters/instanceId").and_then(Value::as_str).map(|id| vec![instance(id.to_string())]).unwrap_or_default()
        }
        "AuthorizeSecurityGroupIngress"
        | "AuthorizeSecurityGroupEgress"
        | "RevokeSecurityGroupIngress"
        | "RevokeSecurityGroupEgress"
        | "ModifySecurityGroupRules"
        | "DeleteSecurityGroup" => detail.pointer("/requestParameters/groupId").and_then(Value::as_str).map(|id| vec![group(id)]).unwrap_or_default(),
        "CreateSecurityGroup" => detail.pointer("/responseElements/groupId").and_then(Value::as_str).map(|id| vec![group(id)]).unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(body: Value, expected_kind: &str, expected: &[Target]) {
        let event = parse("m-1", &body.to_string()).unwrap();
        assert_eq!(event.kind, expected_kind);
        assert_eq!(event.targets, expected.to_vec());
    }

    fn instance(id: &str, state: Option<&str>) -> Target {
        Target::Instance { region: "eu-west-1".into(), id: id.into(), state: state.map(str::to_string) }
    }

    #[test]
    fn events_name_the_resources_to_read_again() {
        check(
            json!({"id": "e-1", "detail-type": "EC2 Instance State-change Notification", "region": "eu-west-1", "detail": {"instance-id": "i-1", "state": "stopped"}}),
            "EC2 Instance State-change Notification",
            &[instance("i-1", Some("stopped"))],
        );
        check(
            json!({"detail-type": "AWS API Call via CloudTrail", "region": "eu-west-1", "detail": {"eventName": "RunInstances", "awsRegion": "eu-west-1",
                "responseElements": {"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}}}}),
            "AWS API Call via CloudTrail: RunInstances",
            &[instance("i-1", None), instance("i-2", None)],
        );
        check(
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "TerminateInstances", "awsRegion": "eu-west-1",
                "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-3"}]}}}}),
            "AWS API Call via CloudTrail: TerminateInstances",
            &[instance("i-3", None)],
        );
        check(
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "AuthorizeSecurityGroupIngress", "awsRegion": "eu-west-1", "requestParameters": {"groupId": "sg-1"}}}),
            "AWS API Call via CloudTrail: AuthorizeSecurityGroupIngress",
            &[Target::SecurityGroup { region: "eu-west-1".into(), id: "sg-1".into() }],
        );
        check(
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "PutBucketPolicy"}}),
            "AWS API Call via CloudTrail: PutBucketPolicy",
            &[],
        );
        check(json!({"detail-type": "Scheduled Event"}), "Scheduled Event", &[]);
    }

    #[test]
    fn the_event_id_survives_redelivery_and_sns_wrapping() {
        let inner = json!({"id": "e-9", "detail-type": "EC2 Instance State-change Notification", "region": "eu-west-1", "detail": {"instance-id": "i-9", "state": "running"}});
        let wrapped = json!({"Type": "Notification", "MessageId": "sns-1", "Message": inner.to_string()});
        assert_eq!(parse("m-1", &inner.to_string()).unwrap().id, "e-9");
        let event = parse("m-2", &wrapped.to_string()).unwrap();
        assert_eq!((event.id.as_str(), event.targets.len()), ("e-9", 1));
        assert_eq!(parse("m-3", "{}").unwrap().id, "m-3");
        assert!(parse("m-4", "not json").unwrap_err().contains("m-4"));
    }
}
