//! Machine-readable formats: CSV, ASFF, SARIF and JUnit XML (OCSF is in `ocsf.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};
use vigil_checks::{Finding, Severity, Status};

use crate::{ScanInfo, metadata, requirements};

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// RFC 4180 CSV with a header row, one finding per row.
pub fn csv(findings: &[Finding]) -> String {
    let mut out = String::from(
        "status,severity,check_id,check_title,service,account_id,region,resource_type,resource_id,resource_arn,message,mute_reason,frameworks,resource_tags,evidence\r\n",
    );
    for finding in findings {
        let tags: Vec<String> = finding.resource_tags.iter().map(|(key, value)| format!("{key}={value}")).collect();
        let fields = [
            finding.status.as_str().to_string(),
            finding.severity.as_str().to_string(),
            finding.check_id.to_string(),
            finding.check_title.to_string(),
            finding.service.to_string(),
            finding.account_id.to_string(),
            finding.region.to_string(),
            finding.resource_type.to_string(),
            finding.resource_id.to_string(),
            finding.resource_arn.to_string(),
            finding.message.to_string(),
            finding.mute_reason.as_deref().unwrap_or_default().to_string(),
            requirements(finding).join("; "),
            tags.join("; "),
            finding.evidence.to_string(),
        ];
        let row: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A stable id for a finding: check and resource.
pub(crate) fn finding_uid(finding: &Finding) -> String {
    format!("vigil-{}-{}", finding.check_id, finding.resource_arn)
}

pub(crate) fn title_case(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit { text.to_string() } else { text.chars().take(limit.saturating_sub(1)).collect::<String>() + "…" }
}

/// `AWS::S3::Bucket` -> `AwsS3Bucket`, ASFF's resource type naming.
fn asff_resource_type(resource_type: &str) -> String {
    let joined: String = resource_type.split("::").filter(|part| !part.is_empty()).collect::<Vec<_>>().concat();
    let mut chars = joined.chars();
    match chars.next() {
        Some(_) if joined.starts_with("AWS") => format!("Aws{}", &joined[3..]),
        Some(_) => joined,
        None => "Other".to_string(),
    }
}

/// AWS Security Finding Format, as a JSON array accepted by `securityhub batch-import-findings`
/// (at most 100 findings per call: split the array).
pub fn asff(info: &ScanInfo, findings: &[Finding]) -> Value {
    let now = info.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let items: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let region = if finding.region == "global" || finding.region.is_empty() { "us-east-1" } else { finding.region.as_str() };
            let check = metadata(finding);
            let compliance = match finding.status {
                Status::Pass => "PASSED",
                Status::Fail => "FAILED",
                Status::Error => "NOT_AVAILABLE",
                Status::Muted => "WARNING",
            };
            let label = match finding.status {
                Status::Pass => "INFORMATIONAL".to_string(),
                _ => finding.severity.as_str().to_ascii_uppercase(),
            };
            let tags: BTreeMap<&str, &str> = finding.resource_tags.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
            let mut item = json!({
                "SchemaVersion": "2018-10-08",
                "Id": finding_uid(finding),
                "ProductArn": format!("arn:{}:securityhub:{region}:{}:product/{}/default", info.partition, finding.account_id, finding.account_id),
                "GeneratorId": format!("vigil/{}", finding.check_id),
                "AwsAccountId": finding.account_id,
                "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
                "CreatedAt": now,
                "UpdatedAt": now,
                "Severity": { "Label": label },
                "Title": truncate(&finding.check_title, 256),
                "Description": truncate(&finding.message, 1024),
                "ProductFields": { "ProviderName": "vigil", "ProviderVersion": info.vigil_version, "vigil/CheckId": finding.check_id, "vigil/Status": finding.status.as_str() },
                "Resources": [{
                    "Type": asff_resource_type(&finding.resource_type),
                    "Id": finding.resource_arn,
                    "Partition": info.partition,
                    "Region": region,
                    "Tags": tags,
                }],
                "Compliance": { "Status": compliance, "RelatedRequirements": requirements(finding).into_iter().take(32).collect::<Vec<_>>() },
                "Workflow": { "Status": if finding.status == Status::Muted { "SUPPRESSED" } else if finding.status == Status::Pass { "RESOLVED" } else { "NEW" } },
                "RecordState": "ACTIVE",
            });
            if let (Some(check), Some(object)) = (check, item.as_object_mut()) {
                let url = check.references.first().copied().unwrap_or("https://github.com/vigil-sec/vigil/blob/main/docs/checks.md");
                object.insert("Remediation".into(), json!({ "Recommendation": { "Text": truncate(check.remediation.text, 512), "Url": url } }));
            }
            if finding.resource_tags.is_empty()
                && let Some(resource) = item.pointer_mut("/Resources/0").and_then(Value::as_object_mut)
            {
                resource.remove("Tags");
            }
            item
        })
        .collect();
    Value::Array(items)
}

/// SARIF 2.1.0: one rule per check, one result per finding.
pub fn sarif(info: &ScanInfo, findings: &[Finding]) -> Value {
    let mut rule_ids: Vec<&str> = findings.iter().map(|finding| finding.check_id.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let check = vigil_checks::find(id).map(|check| check.metadata());
            let title = check.map(|metadata| metadata.title).or_else(|| findings.iter().find(|finding| finding.check_id == *id).map(|finding| finding.check_title.as_str())).unwrap_or(id);
            let mut rule = json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": title },
                "fullDescription": { "text": check.map(|metadata| metadata.risk).unwrap_or(title) },
                "properties": {
                    "tags": ["security", "aws"],
                    "security-severity": check.map(|metadata| security_severity(metadata.severity)).unwrap_or("5.0"),
                },
            });
            if let (Some(check), Some(object)) = (check, rule.as_object_mut()) {
                object.insert(
                    "help".into(),
                    json!({ "text": format!("{}\n\n{}", check.remediation.text, check.remediation.cli), "markdown": format!("{}\n\n```sh\n{}\n```\n\n```hcl\n{}\n```", check.remediation.text, check.remediation.cli, check.remediation.terraform) }),
                );
                if let Some(url) = check.references.first() {
                    object.insert("helpUri".into(), json!(url));
                }
            }
            rule
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let rule_index = rule_ids.iter().position(|id| *id == finding.check_id).unwrap_or(0);
            let (kind, level) = match finding.status {
                Status::Fail | Status::Muted => (
                    "fail",
                    match finding.severity {
                        Severity::Critical | Severity::High => "error",
                        Severity::Medium => "warning",
                        Severity::Low | Severity::Informational => "note",
                    },
                ),
                Status::Pass => ("pass", "none"),
                Status::Error => ("review", "warning"),
            };
            let mut result = json!({
                "ruleId": finding.check_id,
                "ruleIndex": rule_index,
                "kind": kind,
                "level": level,
                "message": { "text": finding.message },
                "locations": [{
                    "logicalLocations": [{ "name": finding.resource_id, "fullyQualifiedName": finding.resource_arn, "kind": "resource" }],
                }],
                "partialFingerprints": { "vigil/v1": finding_uid(finding) },
                "properties": {
                    "status": finding.status.as_str(),
                    "severity": finding.severity.as_str(),
                    "accountId": finding.account_id,
                    "region": finding.region,
                    "resourceType": finding.resource_type,
                    "evidence": finding.evidence,
                },
            });
            if let (Some(reason), Some(object)) = (&finding.mute_reason, result.as_object_mut()) {
                object.insert("suppressions".into(), json!([{ "kind": "external", "justification": reason }]));
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "vigil", "version": info.vigil_version, "informationUri": "https://github.com/vigil-sec/vigil", "rules": rules } },
            "invocations": [{ "executionSuccessful": true, "endTimeUtc": info.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) }],
            "results": results,
        }],
    })
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Informational => "0.0",
    }
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(character),
            character if (character as u32) < 0x20 => {}
            character => out.push(character),
        }
    }
    out
}

/// JUnit XML: one test suite per check, one test case per finding; FAIL is a failure, ERROR
/// an error, MUTED skipped.
pub fn junit(info: &ScanInfo, findings: &[Finding]) -> String {
    let mut by_check: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_check.entry(finding.check_id.as_str()).or_default().push(finding);
    }
    let count = |status: Status| findings.iter().filter(|finding| finding.status == status).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vigil {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\">",
        xml_escape(&info.account_id),
        findings.len(),
        count(Status::Fail),
        count(Status::Error),
        count(Status::Muted),
        info.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    for (check_id, check_findings) in by_check {
        let suite_count = |status: Status| check_findings.iter().filter(|finding| finding.status == status).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml_escape(check_id),
            check_findings.len(),
            suite_count(Status::Fail),
            suite_count(Status::Error),
            suite_count(Status::Muted)
        );
        for finding in check_findings {
            let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\">", xml_escape(check_id), xml_escape(&finding.resource_arn));
            let detail = format!("{}\nregion: {}\nevidence: {}", finding.message, finding.region, finding.evidence);
            match finding.status {
                Status::Pass => {}
                Status::Fail => {
                    let _ = write!(
                        out,
                        "<failure message=\"{}\" type=\"{}\">{}</failure>",
                        xml_escape(&finding.message),
                        finding.severity.as_str(),
                        xml_escape(&detail)
                    );
                }
                Status::Error => {
                    let _ = write!(out, "<error message=\"{}\" type=\"ERROR\">{}</error>", xml_escape(&finding.message), xml_escape(&detail));
                }
                Status::Muted => {
                    let _ = write!(out, "<skipped message=\"{}\"/>", xml_escape(finding.mute_reason.as_deref().unwrap_or("muted")));
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocsf;
    use crate::test_findings::{findings, info};

    #[test]
    fn csv_quotes_fields_and_has_one_row_per_finding() {
        let text = csv(&findings());
        let rows: Vec<&str> = text.split("\r\n").filter(|row| !row.is_empty()).collect();
        assert!(rows[0].starts_with("status,severity,check_id"));
        assert!(text.contains("\"name \"\"quoted\"\", <b>bold</b> & a,comma\nnewline\""), "{text}");
        assert!(rows[1].starts_with("FAIL,high,s3_bucket_not_public,"));
        assert!(text.contains("MUTED,high,s3_bucket_not_public,"));
        assert!(text.contains(",public website,"));
    }

    #[test]
    fn ocsf_events_are_compliance_findings_with_the_required_fields() {
        let events = ocsf(&info(), &findings());
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 4);
        for event in events {
            for field in
                ["activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata", "finding_info", "compliance", "cloud", "resources"]
            {
                assert!(event.get(field).is_some(), "missing {field}: {event}");
            }
            assert_eq!(event["class_uid"], 2003);
            assert_eq!(event["type_uid"], 200301);
            assert!(event["metadata"]["version"].as_str().unwrap().starts_with("1."));
            assert!(event["metadata"]["product"]["vendor_name"].is_string());
            assert!(event["finding_info"]["uid"].is_string() && event["finding_info"]["title"].is_string());
        }
        let statuses: Vec<&str> = events.iter().map(|event| event["compliance"]["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["Fail", "Pass", "Warning", "Warning"]);
        assert!(events[0]["compliance"]["requirements"].as_array().unwrap().iter().any(|requirement| requirement == "cis-aws-5.0 2.1.4"));
    }

    #[test]
    fn asff_findings_carry_batch_import_required_fields() {
        let items = asff(&info(), &findings());
        for item in items.as_array().unwrap() {
            for field in [
                "SchemaVersion",
                "Id",
                "ProductArn",
                "GeneratorId",
                "AwsAccountId",
                "CreatedAt",
                "UpdatedAt",
                "Severity",
                "Title",
                "Description",
                "Resources",
                "Types",
            ] {
                assert!(item.get(field).is_some(), "missing {field}: {item}");
            }
            assert_eq!(item["Resources"][0]["Type"], "AwsS3Bucket");
            assert!(item["ProductArn"].as_str().unwrap().starts_with("arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"));
        }
        assert_eq!(items[0]["Compliance"]["Status"], "FAILED");
        assert_eq!(items[2]["Workflow"]["Status"], "SUPPRESSED");
        assert_eq!(items[3]["Compliance"]["Status"], "NOT_AVAILABLE");
        assert_eq!(items[0]["Resources"][0]["Tags"]["owner"], "<script>alert(1)</script>");
    }

    #[test]
    fn sarif_has_one_rule_per_check_and_kinds_per_status() {
        let log = sarif(&info(), &findings());
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        let results = run["results"].as_array().unwrap();
        let kinds: Vec<(&str, &str)> = results.iter().map(|result| (result["kind"].as_str().unwrap(), result["level"].as_str().unwrap())).collect();
        assert_eq!(kinds, [("fail", "error"), ("pass", "none"), ("fail", "error"), ("review", "warning")]);
        assert_eq!(results[2]["suppressions"][0]["justification"], "public website");
        for result in results {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
        }
    }

    #[test]
    fn junit_maps_fail_to_failure_error_to_error_and_escapes_text() {
        let xml = junit(&info(), &findings());
        assert!(xml.contains("tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""), "{xml}");
        assert!(xml.contains("<failure message=\"name &quot;quoted&quot;, &lt;b&gt;bold&lt;/b&gt; &amp; a,comma\nnewline\""));
        assert!(xml.contains("<error message=\"could not read iam:GetAccountSummary"));
        assert!(xml.contains("<skipped message=\"public website\"/>"));
        assert!(!xml.contains("<b>"));
    }
}
