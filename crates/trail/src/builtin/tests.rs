//! Tests of the built-in rules: they load, carry their metadata, fire on the stratus-red-team
//! detonations they describe and stay quiet on the other techniques and on benign records.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::hunt::{TimeRange, hunt};
use crate::sigma::RuleSet;
use crate::value::Value;
use crate::{ScanOptions, Source};

fn rule_set() -> RuleSet {
    let (set, rejected) = RuleSet::new(load(&CompileOptions::default()));
    assert!(rejected.is_empty(), "{rejected:#?}");
    set
}

#[test]
fn every_builtin_rule_loads_with_its_metadata() {
    let loaded = load(&CompileOptions::default());
    assert!(loaded.rejected.is_empty(), "{:#?}", loaded.rejected);
    assert_eq!(loaded.rules.len() + loaded.correlations.len(), BUILTIN_RULES.len());
    let mut ids = BTreeSet::new();
    for (name, text) in BUILTIN_RULES {
        let yaml: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let id = yaml["id"].as_str().unwrap_or_else(|| panic!("{name} has no id"));
        assert_eq!(id.len(), 36, "{name}: id `{id}` is not a UUID");
        assert!(ids.insert(id.to_string()), "{name}: duplicate id");
        for key in ["title", "level", "tags", "falsepositives", "description"] {
            assert!(yaml.get(key).is_some(), "{name} has no `{key}`");
        }
    }
    let (set, _) = RuleSet::new(loaded);
    let (by_name, by_source, unindexed) = set.index_stats();
    assert!(by_name + by_source > unindexed, "{by_name} {by_source} {unindexed}");
}

fn fired(set: &RuleSet, record: serde_json::Value) -> Vec<String> {
    let value = Value::from_json(&record);
    let mut matched = Vec::new();
    set.matches(&value, &mut matched);
    matched.into_iter().map(|index| set.rules[index as usize].title.clone()).collect()
}

#[test]
fn rules_fire_on_crafted_records_and_stay_quiet_on_benign_ones() {
    let set = rule_set();
    let check = |record: serde_json::Value, expected: &[&str]| {
        let got = fired(&set, record.clone());
        let got: BTreeSet<&str> = got.iter().map(String::as_str).filter(|title| !title.ends_with("Credentials Used")).collect();
        assert_eq!(got, expected.iter().copied().collect::<BTreeSet<_>>(), "{record}");
    };
    let user = json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"});
    check(json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userIdentity": user, "userAgent": "aws-cli/2.15"}), &[]);
    check(json!({"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "userIdentity": user, "userAgent": "Boto3/1.34"}), &[]);
    check(
        json!({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "userIdentity": user, "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "Yes"}}),
        &[],
    );
    check(
        json!({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "userIdentity": user, "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "No"}}),
        &["Console Sign-In Without MFA"],
    );
    check(
        json!({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "userIdentity": user, "responseElements": {"ConsoleLogin": "Failure"}, "errorMessage": "Failed authentication"}),
        &["Console Sign-In Failed"],
    );
    check(json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "userIdentity": {"type": "Root"}}), &["Root Account Used"]);
    check(json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "userIdentity": {"type": "Root", "invokedBy": "s3.amazonaws.com"}}), &[]);
    check(
        json!({"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "userIdentity": user, "errorCode": "AccessDenied"}),
        &["Unauthorized API Call"],
    );
    check(json!({"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "errorCode": "Client.UnauthorizedOperation"}), &["Unauthorized API Call"]);
    check(json!({"eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion"}), &["KMS Key Disabled or Scheduled for Deletion"]);
    check(json!({"eventSource": "kms.amazonaws.com", "eventName": "Decrypt"}), &[]);
    check(json!({"eventSource": "config.amazonaws.com", "eventName": "StopConfigurationRecorder"}), &["AWS Config Configuration Changed"]);
    check(json!({"eventSource": "ec2.amazonaws.com", "eventName": "CreateNetworkAclEntry"}), &["Network ACL Changed"]);
    check(json!({"eventSource": "ec2.amazonaws.com", "eventName": "AttachInternetGateway"}), &["Network Gateway Changed"]);
    check(json!({"eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute"}), &["Route Table Changed"]);
    check(json!({"eventSource": "ec2.amazonaws.com", "eventName": "CreateVpcPeeringConnection"}), &["VPC Changed"]);
    check(json!({"eventSource": "organizations.amazonaws.com", "eventName": "LeaveOrganization"}), &["AWS Organizations Changed"]);
    check(json!({"eventSource": "iam.amazonaws.com", "eventName": "AttachUserPolicy"}), &["IAM Policy Changed"]);
    check(
        json!({"eventSource": "iam.amazonaws.com", "eventName": "UpdateAccountPasswordPolicy", "requestParameters": {"minimumPasswordLength": 8, "passwordReusePrevention": 24}}),
        &["Account Password Policy Weakened"],
    );
    check(
        json!({"eventSource": "iam.amazonaws.com", "eventName": "UpdateAccountPasswordPolicy", "requestParameters": {"minimumPasswordLength": 16, "passwordReusePrevention": 24, "requireSymbols": true, "requireNumbers": true}}),
        &[],
    );
    check(json!({"eventSource": "iam.amazonaws.com", "eventName": "DeleteAccountPasswordPolicy"}), &["Account Password Policy Weakened"]);
    check(
        json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userAgent": "aws-cli/2.0 Python/3.11 Linux/6.1.0-kali7-amd64"}),
        &["Penetration Testing Distribution in User Agent"],
    );
    check(
        json!({"eventSource": "s3.amazonaws.com", "eventName": "PutBucketAcl", "requestParameters": {"AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}}}),
        &["Public Access Granted to an S3 Bucket", "S3 Bucket Policy Changed"],
    );
    check(
        json!({"eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy", "requestParameters": {"bucketPolicy": {"Statement": [{"Principal": {"AWS": "arn:aws:iam::1:root"}}]}}}),
        &["S3 Bucket Policy Changed"],
    );
    check(
        json!({"eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy", "requestParameters": {"bucketPolicy": {"Statement": [{"Principal": "*"}]}}}),
        &["Public Access Granted to an S3 Bucket", "S3 Bucket Policy Changed"],
    );
    check(
        json!({"eventSource": "ec2.amazonaws.com", "eventName": "ModifySnapshotAttribute", "requestParameters": {"createVolumePermission": {"add": {"items": [{"group": "all"}]}}}}),
        &["Snapshot or Image Made Public"],
    );
    check(
        json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "errorCode": "AccessDenied"}),
        &["CloudTrail Configuration Changed", "Unauthorized API Call"],
    );
}

fn stratus() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail/stratus-red-team-detonations");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("skipped: the shared data folder `{}` is absent", path.display());
        None
    }
}

/// Threat rules and the only techniques they may fire on.
const THREAT_EXPECTATIONS: &[(&str, &[&str])] = &[
    (
        "CloudTrail Logging Disabled",
        &["aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.cloudtrail-delete", "aws.defense-evasion.cloudtrail-event-selectors"],
    ),
    (
        "Snapshot or Image Shared with Another Account",
        &["aws.exfiltration.ec2-share-ebs-snapshot", "aws.exfiltration.ec2-share-ami", "aws.exfiltration.rds-share-snapshot"],
    ),
    ("Snapshot or Image Made Public", &[]),
    ("Account Password Policy Weakened", &[]),
    ("Penetration Testing Distribution in User Agent", &[]),
    ("Public Access Granted to an S3 Bucket", &[]),
    ("EC2 Instance Credentials Used Outside the Instance", &["aws.credential-access.ec2-steal-instance-credentials"]),
    ("AWS Organizations Changed", &["aws.defense-evasion.organizations-leave"]),
    ("Console Sign-In Without MFA", &["aws.initial-access.console-login-without-mfa"]),
];

#[test]
fn threat_rules_fire_on_their_stratus_techniques_and_nowhere_else() {
    let Some(folder) = stratus() else { return };
    let set = rule_set();
    let mut fired_by_technique: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let Some(technique) = path.file_name().and_then(|name| name.to_str()).and_then(|name| name.strip_suffix(".json")) else { continue };
        let result = hunt(&set, &[Source::File(path.clone())], TimeRange::default(), ScanOptions::default());
        assert_eq!(result.report.skipped_records, 0, "{technique}");
        let mut titles: BTreeSet<String> = result.alerts.iter().map(|alert| alert.rule_title.clone()).collect();
        titles.extend(result.correlation_alerts.iter().map(|alert| set.correlations[alert.correlation].title.clone()));
        fired_by_technique.insert(technique.to_string(), titles);
    }
    assert_eq!(fired_by_technique.len(), 35);
    for (rule_title, techniques) in THREAT_EXPECTATIONS {
        let fired_on: BTreeSet<&str> =
            fired_by_technique.iter().filter(|(_, titles)| titles.contains(*rule_title)).map(|(technique, _)| technique.as_str()).collect();
        let expected: BTreeSet<&str> = techniques.iter().copied().collect();
        assert_eq!(fired_on, expected, "{rule_title}");
    }
    assert!(fired_by_technique["aws.exfiltration.ec2-security-group-open-port-22-ingress"].contains("Security Group Changed"));
}
