//! The OCSF mappings, one function per kind of record, used by every OCSF output: findings as
//! Compliance Findings (2003, `vigil scan -o x.ocsf.json`, and the stored findings `vigil
//! export` writes), CloudTrail and host alerts as Detection Findings (2004, `vigil trail hunt
//! --format ocsf`, stored alerts), stored resources as Cloud Resources Inventory Info (5023) and
//! agent events as the class their module and kind map to ([`HOST_EVENT_CLASSES`]). The audit
//! log's mapping is `vigil_store::people::audit_to_ocsf`.
//!
//! Each function returns the event as JSON; `vigil-export` writes the same events to Parquet,
//! projected onto its documented columns, so a rule is never written twice.

use serde_json::{Value, json};
use vigil_checks::{Finding, Severity, Status};

use crate::machine::{finding_uid, title_case};
use crate::{ScanInfo, metadata, requirements};

/// The OCSF schema version of the Compliance Findings.
pub const FINDING_VERSION: &str = "1.3.0";
/// The OCSF schema version of the Detection Findings (alerts).
pub const ALERT_VERSION: &str = "1.1.0";
/// The OCSF schema version of Cloud Resources Inventory Info (the class is new in 1.4.0; a
/// resource's `region` in 1.5.0).
pub const RESOURCE_VERSION: &str = "1.5.0";
/// The OCSF schema version of the agent events.
pub const HOST_EVENT_VERSION: &str = "1.3.0";

fn product() -> Value {
    json!({ "name": "vigil", "vendor_name": "vigil", "version": env!("CARGO_PKG_VERSION") })
}

/// OCSF's severity id for a finding's severity.
pub fn severity_id(severity: Severity) -> u8 {
    match severity {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// OCSF's severity (id, caption) for a Sigma level or a severity word; `Unknown` (0) otherwise.
pub fn level_severity(level: &str) -> (u8, &'static str) {
    match level.to_ascii_lowercase().as_str() {
        "informational" => (1, "Informational"),
        "low" => (2, "Low"),
        "medium" => (3, "Medium"),
        "high" => (4, "High"),
        "critical" => (5, "Critical"),
        _ => (0, "Unknown"),
    }
}

/// OCSF 1.3 Compliance Finding events (class_uid 2003, with the `cloud` profile), as a JSON array.
/// Validated against the OCSF 1.3.0 schema by `tests/schemas.rs`.
pub fn ocsf(info: &ScanInfo, findings: &[Finding]) -> Value {
    let time = info.generated_at.timestamp_millis();
    Value::Array(findings.iter().map(|finding| ocsf_finding(finding, time, &info.vigil_version, None)).collect())
}

/// What the store knows of a finding over time: when it was first and last seen (milliseconds
/// since the epoch), when it was resolved, and its lifecycle (`new`, `open`, `muted`,
/// `resolved`, `passing`).
#[derive(Debug, Clone, Copy)]
pub struct FindingHistory<'a> {
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub resolved_ms: Option<i64>,
    pub lifecycle: &'a str,
}

/// One finding as an OCSF 1.3 Compliance Finding observed at `time_ms`. With its stored history,
/// the event's time is when it was last seen, `finding_info` says when it was first and last
/// seen, and the status follows the lifecycle (muted: Suppressed, resolved: Resolved).
pub fn ocsf_finding(finding: &Finding, time_ms: i64, vigil_version: &str, history: Option<&FindingHistory<'_>>) -> Value {
    let (compliance_status, compliance_status_id) = match finding.status {
        Status::Pass => ("Pass", 1),
        Status::Fail => ("Fail", 3),
        Status::Error | Status::Muted => ("Warning", 2),
    };
    let muted = finding.status == Status::Muted || history.is_some_and(|history| history.lifecycle == "muted");
    let (status_id, status) = match (muted, history.map(|history| history.lifecycle)) {
        (true, _) => (3, "Suppressed"),
        (false, Some("resolved")) => (4, "Resolved"),
        _ => (1, "New"),
    };
    let metadata_check = metadata(finding);
    let mut standards: Vec<&str> = metadata_check.map(|metadata| metadata.frameworks.iter().map(|(framework, _)| *framework).collect()).unwrap_or_default();
    standards.dedup();
    let created = history.map_or(time_ms, |history| history.first_seen_ms);
    let mut finding_info = json!({
        "uid": finding_uid(finding),
        "title": finding.check_title,
        "desc": metadata_check.map(|metadata| metadata.risk).unwrap_or(finding.check_title.as_str()),
        "types": [finding.service],
        "created_time": created,
    });
    let mut unmapped = json!({ "mute_reason": finding.mute_reason });
    if let (Some(history), Some(info), Some(extra)) = (history, finding_info.as_object_mut(), unmapped.as_object_mut()) {
        info.insert("first_seen_time".into(), json!(history.first_seen_ms));
        info.insert("last_seen_time".into(), json!(history.last_seen_ms));
        extra.insert("lifecycle".into(), json!(history.lifecycle));
        extra.insert("resolved_time".into(), json!(history.resolved_ms));
    }
    json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id(finding.severity),
        "severity": title_case(finding.severity.as_str()),
        "status_id": status_id,
        "status": status,
        "status_code": finding.status.as_str(),
        "status_detail": finding.mute_reason.clone().unwrap_or_else(|| finding.message.clone()),
        "message": finding.message,
        "time": history.map_or(time_ms, |history| history.last_seen_ms),
        "metadata": {
            "version": FINDING_VERSION,
            "profiles": ["cloud"],
            "product": { "name": "vigil", "vendor_name": "vigil", "version": vigil_version },
            "event_code": finding.check_id,
            "uid": finding_uid(finding),
        },
        "finding_info": finding_info,
        "compliance": {
            "control": finding.check_id,
            "requirements": requirements(finding),
            "standards": standards,
            "status": compliance_status,
            "status_id": compliance_status_id,
        },
        "cloud": { "provider": "AWS", "account": { "uid": finding.account_id, "type": "AWS Account", "type_id": 10 }, "region": finding.region },
        "resources": [{
            "uid": finding.resource_arn,
            "name": finding.resource_id,
            "type": finding.resource_type,
            "region": finding.region,
            "labels": finding.resource_tags.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>(),
            "data": finding.evidence,
        }],
        "remediation": { "desc": metadata_check.map(|metadata| metadata.remediation.text).unwrap_or(""), "references": metadata_check.map(|metadata| metadata.references.to_vec()).unwrap_or_default() },
        "unmapped": unmapped,
    })
}

/// An alert as an OCSF 1.1 Detection Finding (class 2004). `alert` is the alert as `vigil trail
/// hunt --format jsonl` prints it (`rule_id`, `rule_title`, `level`, `event_id`, `event_time`
/// RFC 3339, `event_name`, `tags`, `event_source`, `aws_region`, `source_ip`, `principal`,
/// `account_id`, `correlation`), or a stored host alert, whose `host` names the agent's host.
pub fn ocsf_alert(alert: &Value) -> Value {
    let (severity_id, severity) = level_severity(alert["level"].as_str().unwrap_or_default());
    let time = alert["event_time"].as_str().and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok()).map(|time| time.timestamp_millis());
    let host = &alert["host"];
    let region = if alert["aws_region"].is_null() { &host["aws_region"] } else { &alert["aws_region"] };
    let mut event = json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "time": time,
        "message": alert["rule_title"],
        "metadata": {"version": ALERT_VERSION, "profiles": ["cloud", "host"], "product": product(), "uid": format!("{}:{}", alert["rule_id"].as_str().unwrap_or_default(), alert["event_id"].as_str().unwrap_or_default())},
        "finding_info": {
            "uid": format!("{}:{}", alert["rule_id"].as_str().unwrap_or_default(), alert["event_id"].as_str().unwrap_or_default()),
            "title": alert["rule_title"],
            "types": if alert["tags"].is_array() { alert["tags"].clone() } else { json!([]) },
            "analytic": {"uid": alert["rule_id"], "name": alert["rule_title"], "type_id": 1, "type": "Rule"},
            "related_events": [{"uid": alert["event_id"], "product_uid": if host.is_null() { "cloudtrail" } else { "vigil-agent" }}],
        },
        "cloud": {"provider": "AWS", "region": region, "account": {"uid": alert["account_id"]}},
        "actor": {"user": {"uid": alert["principal"]}},
        "api": {"operation": alert["event_name"], "service": {"name": alert["event_source"]}},
        "evidences": [{"src_endpoint": {"ip": alert["source_ip"]}}],
        "unmapped": {"correlation": alert.get("correlation")},
    });
    if let (false, Some(object)) = (host.is_null(), event.as_object_mut()) {
        object.insert("device".into(), device(host));
    }
    prune_nulls(&mut event);
    event
}

/// Drops null attributes, and the objects and lists left empty by that: OCSF leaves out what is
/// not known rather than writing null.
fn prune_nulls(value: &mut Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(object) => {
            object.retain(|_, child| prune_nulls(child));
            !object.is_empty()
        }
        Value::Array(items) => {
            let had_items = !items.is_empty();
            items.retain_mut(prune_nulls);
            !had_items || !items.is_empty()
        }
        _ => true,
    }
}

/// An agent's host as an OCSF device: the agent id, the hostname, the EC2 instance and region.
fn device(host: &Value) -> Value {
    json!({
        "uid": host["agent_id"],
        "hostname": host["hostname"],
        "instance_uid": host["instance_id"],
        "region": host["aws_region"],
        "type_id": 6,
        "type": "Virtual",
    })
}

/// One resource from the store: its identity, where it lives, its state and version, and the
/// latest configuration and tags recorded.
#[derive(Debug, Clone)]
pub struct StoredResource<'a> {
    pub arn: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub name: &'a str,
    /// `active`, `stopped`, `terminated` or `deleted`.
    pub state: &'a str,
    pub version: i64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// The tags of the latest version (`{"key": "value"}`).
    pub tags: &'a Value,
    /// The latest configuration (`None` for a deleted resource).
    pub config: Option<&'a Value>,
}

/// A stored resource as an OCSF 1.5 Cloud Resources Inventory Info event (class 5023, activity
/// Collect), at the time it was last seen.
pub fn ocsf_resource(resource: &StoredResource<'_>) -> Value {
    let labels: Vec<String> = resource
        .tags
        .as_object()
        .map(|tags| tags.iter().map(|(key, value)| format!("{key}={}", value.as_str().map_or_else(|| value.to_string(), str::to_string))).collect())
        .unwrap_or_default();
    let name = if resource.name.is_empty() { resource.resource_id } else { resource.name };
    let mut event = json!({
        "class_uid": 5023,
        "class_name": "Cloud Resources Inventory Info",
        "category_uid": 5,
        "category_name": "Discovery",
        "activity_id": 2,
        "activity_name": "Collect",
        "type_uid": 502302,
        "type_name": "Cloud Resources Inventory Info: Collect",
        "severity_id": 1,
        "severity": "Informational",
        "time": resource.last_seen_ms,
        "status": resource.state,
        "metadata": { "version": RESOURCE_VERSION, "profiles": ["cloud"], "product": product(), "uid": format!("{}#{}", resource.arn, resource.version) },
        "cloud": { "provider": "AWS", "account": { "uid": resource.account_id, "type": "AWS Account", "type_id": 10 }, "region": resource.region },
        "resources": [{
            "uid": resource.arn,
            "name": name,
            "type": resource.resource_type,
            "region": resource.region,
            "version": resource.version.to_string(),
            "labels": labels,
            "data": resource.config,
        }],
        "unmapped": {
            "resource_id": resource.resource_id,
            "state": resource.state,
            "version": resource.version,
            "first_seen_time": resource.first_seen_ms,
            "last_seen_time": resource.last_seen_ms,
        },
    });
    prune_nulls(&mut event);
    event
}

/// The OCSF class of each agent event (module, kind): class uid, class name, category uid and
/// name. Every other event (the snapshots of inventory, packages, configuration assessment,
/// vulnerabilities, firewall) is Device Inventory Info (5001, activity Log) whose
/// `metadata.event_code` is `module/kind`. `docs/export.md` lists this table.
pub const HOST_EVENT_CLASSES: &[(&str, &str, u32, &str, u32, &str)] = &[
    ("fim", "change", 1001, "File System Activity", 1, "System Activity"),
    ("logs", "alert", 2004, "Detection Finding", 2, "Findings"),
    ("malware", "detection", 2004, "Detection Finding", 2, "Findings"),
];

/// One stored agent event with the host it came from.
#[derive(Debug, Clone)]
pub struct StoredHostEvent<'a> {
    pub agent_id: &'a str,
    pub seq: i64,
    pub event_id: &'a str,
    pub module: &'a str,
    pub kind: &'a str,
    /// When the module produced it, as the agent said (RFC 3339), and in milliseconds.
    pub event_time: &'a str,
    pub time_ms: i64,
    pub received_ms: i64,
    pub hostname: &'a str,
    pub instance_id: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub region: Option<&'a str>,
    pub payload: &'a Value,
}

/// An agent event as an OCSF 1.3 event of the class [`HOST_EVENT_CLASSES`] gives it: a file
/// change is File System Activity (Create, Update or Delete for `added`, `modified`,
/// `removed`), a host-log or malware detection a Detection Finding, anything else Device
/// Inventory Info.
/// The module's own record is `raw_data` (JSON text).
pub fn ocsf_host_event(event: &StoredHostEvent<'_>) -> Value {
    let (class_uid, class_name, category_uid, category_name) = HOST_EVENT_CLASSES
        .iter()
        .find(|(module, kind, ..)| *module == event.module && *kind == event.kind)
        .map_or((5001, "Device Inventory Info", 5, "Discovery"), |(_, _, class, name, category, category_name)| (*class, *name, *category, *category_name));
    let payload = event.payload;
    let text = |key: &str| payload.get(key).and_then(Value::as_str);
    let (activity_id, activity_name) = match class_uid {
        1001 => match text("change") {
            Some("added") => (1, "Create"),
            Some("modified") => (3, "Update"),
            Some("removed") => (4, "Delete"),
            _ => (99, "Other"),
        },
        2004 => (1, "Create"),
        _ => (1, "Log"),
    };
    let (severity_id, severity) = match (event.module, event.kind) {
        ("malware", "detection") => (4, "High"),
        ("logs", "alert") => level_severity(text("level").unwrap_or("medium")),
        _ => (1, "Informational"),
    };
    let message = match (event.module, event.kind) {
        ("fim", "change") => format!("{} {}", text("path").unwrap_or_default(), text("change").unwrap_or_default()),
        ("logs", "alert") => text("rule_title").unwrap_or_default().to_string(),
        ("malware", "detection") => format!("Malware: {} in {}", text("rule").unwrap_or_default(), text("path").unwrap_or_default()),
        (module, kind) => format!("{module} {kind}"),
    };
    let host = json!({ "agent_id": event.agent_id, "hostname": event.hostname, "instance_id": event.instance_id, "aws_region": event.region });
    let mut object = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": u64::from(class_uid) * 100 + activity_id,
        "severity_id": severity_id,
        "severity": severity,
        "time": event.time_ms,
        "message": message,
        "metadata": {
            "version": HOST_EVENT_VERSION,
            "profiles": ["cloud", "host"],
            "product": product(),
            "uid": format!("{}/{}", event.agent_id, event.event_id),
            "event_code": format!("{}/{}", event.module, event.kind),
            "original_time": event.event_time,
            "logged_time": event.received_ms,
            "sequence": event.seq,
        },
        "device": device(&host),
        "cloud": { "provider": "AWS", "account": { "uid": event.account_id }, "region": event.region },
        "raw_data": payload.to_string(),
    });
    if let Some(fields) = object.as_object_mut() {
        match class_uid {
            1001 => {
                let path = text("path").unwrap_or_default();
                let name = path.rsplit('/').next().unwrap_or(path);
                fields.insert("file".into(), json!({ "path": path, "name": name, "type_id": 0 }));
                // The actor is required: the process and user the audit log named, else a user
                // of unknown type (OCSF's way to say it is not known).
                let process = payload.pointer("/actor/pid").filter(|pid| pid.is_u64()).map(|pid| json!({ "pid": pid }));
                let user =
                    payload.pointer("/actor/uid").filter(|uid| uid.is_u64()).map(|uid| json!({ "uid": uid.to_string(), "type_id": 99, "type": "Other" }));
                let actor = match (process, user) {
                    (None, None) => json!({ "user": { "name": "unknown", "type_id": 0, "type": "Unknown" } }),
                    (process, user) => json!({ "process": process, "user": user }),
                };
                fields.insert("actor".into(), actor);
            }
            2004 => {
                let rule = text("rule_id").or(text("rule")).unwrap_or_default();
                fields.insert(
                    "finding_info".into(),
                    json!({
                        "uid": format!("{}/{}", event.agent_id, event.event_id),
                        "title": message,
                        "analytic": { "uid": rule, "name": text("rule_title").unwrap_or(rule), "type_id": 1, "type": "Rule" },
                    }),
                );
            }
            _ => {}
        }
    }
    prune_nulls(&mut object);
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_finding_says_when_it_was_seen_and_follows_its_lifecycle() {
        let finding = crate::test_findings::findings().remove(0);
        let history = FindingHistory { first_seen_ms: 1_000, last_seen_ms: 5_000, resolved_ms: Some(5_000), lifecycle: "resolved" };
        let event = ocsf_finding(&finding, 9_000, "0.1.0", Some(&history));
        assert_eq!((event["time"].as_i64(), event["status"].as_str(), event["status_id"].as_i64()), (Some(5_000), Some("Resolved"), Some(4)));
        assert_eq!(event["finding_info"]["created_time"], 1_000);
        assert_eq!(event["finding_info"]["last_seen_time"], 5_000);
        assert_eq!(event["unmapped"]["lifecycle"], "resolved");
        let muted = FindingHistory { lifecycle: "muted", ..history };
        assert_eq!(ocsf_finding(&finding, 9_000, "0.1.0", Some(&muted))["status"], "Suppressed");
        // Without a history, the event is the scan report's: observed at the report's time.
        let plain = ocsf_finding(&finding, 9_000, "0.1.0", None);
        assert_eq!((plain["time"].as_i64(), plain["status"].as_str()), (Some(9_000), Some("New")));
        assert!(plain["finding_info"].get("first_seen_time").is_none());
    }

    #[test]
    fn host_events_take_the_class_of_their_module_and_kind() {
        let event = |module: &'static str, kind: &'static str, payload: Value| {
            ocsf_host_event(&StoredHostEvent {
                agent_id: "agent-1",
                seq: 7,
                event_id: "e1",
                module,
                kind,
                event_time: "2026-01-02T03:04:05Z",
                time_ms: 1_767_323_045_000,
                received_ms: 1_767_323_046_000,
                hostname: "web-1",
                instance_id: Some("i-1"),
                account_id: Some("123456789012"),
                region: Some("eu-west-1"),
                payload: &payload,
            })
        };
        let change = event("fim", "change", json!({"path": "/etc/passwd", "change": "modified"}));
        assert_eq!((change["class_uid"].as_u64(), change["activity_id"].as_u64(), change["type_uid"].as_u64()), (Some(1001), Some(3), Some(100103)));
        assert_eq!(change["file"]["name"], "passwd");
        let malware = event("malware", "detection", json!({"rule": "EICAR", "path": "/tmp/x"}));
        assert_eq!((malware["class_uid"].as_u64(), malware["severity_id"].as_u64()), (Some(2004), Some(4)));
        assert_eq!(malware["finding_info"]["analytic"]["uid"], "EICAR");
        let other = event("packages", "snapshot", json!({"items": []}));
        assert_eq!(
            (other["class_uid"].as_u64(), other["type_uid"].as_u64(), other["metadata"]["event_code"].as_str()),
            (Some(5001), Some(500101), Some("packages/snapshot"))
        );
        assert_eq!(other["raw_data"], "{\"items\":[]}");
        assert_eq!(other["device"]["hostname"], "web-1");
    }

    #[test]
    fn a_host_alert_names_its_device() {
        let alert = json!({"rule_id": "r", "event_id": "a/e", "level": "high", "event_time": "2026-01-02T03:04:05Z",
            "host": {"agent_id": "agent-1", "hostname": "web-1", "instance_id": "i-1", "aws_region": "eu-west-1"}});
        let event = ocsf_alert(&alert);
        assert_eq!(event["device"]["instance_uid"], "i-1");
        assert_eq!(event["cloud"]["region"], "eu-west-1");
        assert_eq!(event["time"], 1_767_323_045_000_i64);
        assert!(ocsf_alert(&json!({"rule_id": "r"})).get("device").is_none());
    }
}
