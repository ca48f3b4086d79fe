//! CloudTrail checks beyond the multi-region trail: log file validation, KMS encryption,
//! CloudWatch Logs delivery, the trail bucket (not public, access-logged), S3 data events,
//! and trails that stopped logging or fail to deliver.

use serde_json::{Value, json};
use vigil_model::Region;
use vigil_model::monitoring::{AdvancedEventSelector, Trail};
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::logging::TRAILS;
use super::support::{Verdict, cannot_decide, each_resource};
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const TRAIL: &str = "AWS::CloudTrail::Trail";
/// The trails, and the buckets of this account (where a trail's bucket is looked up).
const TRAILS_AND_BUCKETS: &[Read] = &[Read::regional("cloudtrail", "DescribeTrails"), Read::global("s3", "ListBuckets")];

/// Assesses every trail in its home region with `judge`, after the per-trail `operations` were read.
fn each_trail(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, operations: &[&str], judge: impl Fn(&Trail) -> (bool, String, Value)) {
    each_resource(context, findings, TRAIL, |resource, subject, findings| {
        let ResourceData::Trail(trail) = resource.data else { return };
        let needs: Vec<Needs<'_>> = operations.iter().map(|operation| Needs::call("cloudtrail", resource.region, operation).on(&trail.trail_arn)).collect();
        findings.push(context.decide(metadata, subject, &needs, || judge(trail)));
    });
}

pub static LOG_FILE_VALIDATION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_log_file_validation_enabled",
        title: "CloudTrail trails validate their log files",
        service: "cloudtrail",
        resource_type: TRAIL,
        severity: Severity::Medium,
        risk: "Without digest files nobody can prove the logs were not altered or deleted after delivery, which an intruder covering tracks will do.",
        remediation: Remediation {
            text: "Enable log file validation on every trail.",
            cli: "aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
            terraform: "resource \"aws_cloudtrail\" \"main\" {\n  enable_log_file_validation = true\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html"],
        frameworks: &[("cis-aws-5.0", "3.2"), ("aws-fsbp", "CloudTrail.4"), ("pci-dss-4.0", "10.3.4"), ("nist-800-53-r5", "AU-9")],
        reads: TRAILS,
    },
    run: log_file_validation,
};

fn log_file_validation(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_trail(metadata, context, findings, &[], |trail| {
        let on = trail.log_file_validation_enabled;
        let message =
            if on { format!("Trail `{}` validates its log files.", trail.name) } else { format!("Trail `{}` does not validate its log files.", trail.name) };
        (on, message, json!({ "LogFileValidationEnabled": on }))
    });
}

pub static KMS_ENCRYPTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_kms_encryption_enabled",
        title: "CloudTrail trails encrypt their logs with a KMS key",
        service: "cloudtrail",
        resource_type: TRAIL,
        severity: Severity::Medium,
        risk: "With SSE-KMS, reading the logs needs both S3 access and the key; without it, anyone who can read the bucket reads every API call made in the account.",
        remediation: Remediation {
            text: "Create a KMS key whose policy lets CloudTrail encrypt, and set it on the trail.",
            cli: "aws cloudtrail update-trail --name TRAIL --kms-key-id KEY_ARN",
            terraform: "resource \"aws_cloudtrail\" \"main\" {\n  kms_key_id = aws_kms_key.cloudtrail.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html"],
        frameworks: &[("cis-aws-5.0", "3.5"), ("aws-fsbp", "CloudTrail.2"), ("pci-dss-4.0", "10.3.2"), ("nist-800-53-r5", "SC-28")],
        reads: TRAILS,
    },
    run: kms_encryption,
};

fn kms_encryption(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_trail(metadata, context, findings, &[], |trail| {
        let message = match &trail.kms_key_id {
            Some(key) => format!("Trail `{}` encrypts with `{key}`.", trail.name),
            None => format!("Trail `{}` does not encrypt with a KMS key.", trail.name),
        };
        (trail.kms_key_id.is_some(), message, json!({ "KmsKeyId": trail.kms_key_id }))
    });
}

pub static CLOUDWATCH_LOGS_DELIVERY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_cloudwatch_logs_integration",
        title: "CloudTrail trails deliver to CloudWatch Logs (within the last day)",
        service: "cloudtrail",
        resource_type: TRAIL,
        severity: Severity::Low,
        risk: "Without CloudWatch Logs delivery there is no real-time metric filter or alarm on API activity, only after-the-fact S3 reads.",
        remediation: Remediation {
            text: "Configure a CloudWatch Logs log group and a delivery role on the trail.",
            cli: "aws cloudtrail update-trail --name TRAIL --cloud-watch-logs-log-group-arn LOG_GROUP_ARN --cloud-watch-logs-role-arn ROLE_ARN",
            terraform: "resource \"aws_cloudtrail\" \"main\" {\n  cloud_watch_logs_group_arn = \"${aws_cloudwatch_log_group.trail.arn}:*\"\n  cloud_watch_logs_role_arn  = aws_iam_role.trail_to_logs.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html"],
        frameworks: &[("aws-fsbp", "CloudTrail.5"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "AU-6(1)")],
        reads: TRAILS,
    },
    run: cloudwatch_logs_delivery,
};

fn cloudwatch_logs_delivery(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_trail(metadata, context, findings, &["GetTrailStatus"], |trail| {
        let last = trail.status.as_ref().and_then(|status| status.latest_cloud_watch_logs_delivery_time);
        let recent = last.is_some_and(|time| (context.now - time).num_hours() < 24);
        let good = trail.cloud_watch_logs_log_group_arn.is_some() && recent;
        let message = match (&trail.cloud_watch_logs_log_group_arn, recent) {
            (None, _) => format!("Trail `{}` does not deliver to CloudWatch Logs.", trail.name),
            (Some(_), false) => format!("Trail `{}` has a log group but delivered nothing in the last day.", trail.name),
            (Some(_), true) => format!("Trail `{}` delivers to CloudWatch Logs.", trail.name),
        };
        (
            good,
            message,
            json!({ "CloudWatchLogsLogGroupArn": trail.cloud_watch_logs_log_group_arn, "LatestCloudWatchLogsDeliveryTime": last.map(|time| time.to_rfc3339()) }),
        )
    });
}

pub static TRAIL_LOGGING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_trail_is_logging",
        title: "CloudTrail trails are logging and deliver without errors",
        service: "cloudtrail",
        resource_type: TRAIL,
        severity: Severity::High,
        risk: "A stopped trail, or one whose bucket rejects deliveries, records nothing while looking configured; stopping a trail is a classic first move of an intruder.",
        remediation: Remediation {
            text: "Start logging, and fix the bucket policy or KMS key policy named in the delivery error.",
            cli: "aws cloudtrail start-logging --name TRAIL\naws cloudtrail get-trail-status --name TRAIL",
            terraform: "resource \"aws_cloudtrail\" \"main\" {\n  enable_logging = true\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html"],
        frameworks: &[("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-12")],
        reads: TRAILS,
    },
    run: trail_logging,
};

fn trail_logging(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_trail(metadata, context, findings, &["GetTrailStatus"], |trail| {
        let status = trail.status.as_ref();
        let logging = status.is_some_and(|status| status.is_logging);
        let error = status.and_then(|status| status.latest_delivery_error.as_deref()).filter(|error| !error.is_empty());
        let message = match (logging, error) {
            (false, _) => format!("Trail `{}` is not logging.", trail.name),
            (true, Some(error)) => format!("Trail `{}` fails to deliver: {error}.", trail.name),
            (true, None) => format!("Trail `{}` is logging.", trail.name),
        };
        (logging && error.is_none(), message, json!({ "IsLogging": logging, "LatestDeliveryError": error }))
    });
}

/// The bucket a trail delivers to, with the calls that describe it.
fn trail_bucket<'a>(context: &Context<'a>, trail: &Trail) -> Option<&'a vigil_model::s3::Bucket> {
    let name = trail.s3_bucket_name.as_deref()?;
    let inventory: &'a vigil_model::Inventory = context.inventory;
    inventory.s3.buckets.iter().find(|bucket| bucket.name == name)
}

/// Judges each trail's bucket with `judge` once the bucket's `operations` were read; a bucket
/// that is not in this account cannot be judged from here (ERROR naming it).
fn each_trail_bucket(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    operations: &[&str],
    judge: impl Fn(&vigil_model::s3::Bucket) -> Result<Verdict, Unread>,
) {
    let account_id = context.account_id().to_string();
    each_resource(context, findings, TRAIL, |resource, subject, findings| {
        let ResourceData::Trail(trail) = resource.data else { return };
        let Some(bucket) = trail_bucket(context, trail) else {
            let message = format!(
                "Trail `{}` delivers to bucket `{}`, which is not in this account's inventory; assess it in the account that owns it.",
                trail.name,
                trail.s3_bucket_name.as_deref().unwrap_or_default()
            );
            findings.push(cannot_decide(metadata, context, subject, message, json!({ "S3BucketName": trail.s3_bucket_name })));
            return;
        };
        let mut needs: Vec<Needs<'_>> = operations.iter().map(|operation| Needs::call("s3", &bucket.region, operation).on(&bucket.name)).collect();
        if operations.contains(&"GetPublicAccessBlock") {
            needs.push(Needs::call("s3control", Region::GLOBAL, "GetPublicAccessBlock").on(&account_id));
        }
        findings.push(context.decide_or_error(metadata, subject, &needs, || judge(bucket)));
    });
}

pub static BUCKET_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_bucket_not_public",
        title: "The S3 bucket of each CloudTrail trail is not publicly accessible",
        service: "cloudtrail",
        resource_type: TRAIL,
        severity: Severity::Critical,
        risk: "Public CloudTrail logs tell an attacker every resource, principal and API habit of the account, and a writable bucket lets them forge or erase history.",
        remediation: Remediation {
            text: "Remove public ACL grants and public policy statements from the trail bucket and enable Block Public Access on it.",
            cli: "aws s3api put-public-access-block --bucket TRAIL_BUCKET --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
            terraform: "resource \"aws_s3_bucket_public_access_block\" \"trail\" {\n  bucket                  = aws_s3_bucket.trail.id\n  block_public_acls       = true\n  ignore_public_acls      = true\n  block_public_policy     = true\n  restrict_public_buckets = true\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html"],
        frameworks: &[("aws-securityhub", "CloudTrail.6"), ("pci-dss-4.0", "10.3.2"), ("nist-800-53-r5", "AU-9")],
        reads: TRAILS_AND_BUCKETS,
    },
    run: bucket_not_public,
};

fn bucket_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let account_block = context.inventory.s3.account_public_access_block.as_ref();
    each_trail_bucket(metadata, context, findings, &["GetBucketAcl", "GetBucketPolicy", "GetPublicAccessBlock"], |bucket| {
        super::s3::judge_bucket(context, bucket, account_block)
    });
}

pub static BUCKET_ACCESS_LOGGING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_bucket_access_logging_enabled",
        title: "The S3 bucket of each CloudTrail trail has server access logging",
        service: "cloudtrail",
        resource_type: TRAIL,
        severity: Severity::Low,
        risk: "Access logs on the trail bucket show who read or deleted the audit trail itself.",
        remediation: Remediation {
            text: "Enable server access logging on the trail bucket, to a separate log bucket.",
            cli: "aws s3api put-bucket-logging --bucket TRAIL_BUCKET --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOG_BUCKET\",\"TargetPrefix\":\"cloudtrail/\"}}'",
            terraform: "resource \"aws_s3_bucket_logging\" \"trail\" {\n  bucket        = aws_s3_bucket.trail.id\n  target_bucket = aws_s3_bucket.access_logs.id\n  target_prefix = \"cloudtrail/\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html"],
        frameworks: &[("cis-aws-5.0", "3.4"), ("aws-securityhub", "CloudTrail.7"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-9")],
        reads: TRAILS_AND_BUCKETS,
    },
    run: bucket_access_logging,
};

fn bucket_access_logging(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_trail_bucket(metadata, context, findings, &["GetBucketLogging"], |bucket| {
        let message = match &bucket.logging {
            Some(logging) => format!("Trail bucket `{}` logs access to `{}`.", bucket.name, logging.target_bucket),
            None => format!("Trail bucket `{}` has no server access logging.", bucket.name),
        };
        Ok((bucket.logging.is_some(), message, json!({ "Bucket": bucket.name, "LoggingEnabled": bucket.logging })))
    });
}

/// Which S3 object-level events a data-event selector has to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// True when a trail records S3 object-level events of `access` kind for every bucket.
pub(crate) fn logs_s3_data_events(trail: &Trail, read: bool) -> bool {
    let access = if read { Access::Read } else { Access::Write };
    let Some(selectors) = &trail.event_selectors else { return false };
    let basic = selectors.event_selectors.iter().any(|selector| {
        let kind_ok = match selector.read_write_type.as_deref().unwrap_or("All") {
            "All" => true,
            "ReadOnly" => access == Access::Read,
            "WriteOnly" => access == Access::Write,
            _ => false,
        };
        kind_ok
            && selector.data_resources.iter().any(|resource| {
                resource.r#type.as_deref() == Some("AWS::S3::Object")
                    && resource.values.iter().any(|value| value.ends_with(":s3") || value.ends_with(":s3:::") || value == "arn:aws:s3:::")
            })
    });
    basic || selectors.advanced_event_selectors.iter().any(|selector| advanced_covers_s3(selector, access))
}

fn advanced_covers_s3(selector: &AdvancedEventSelector, access: Access) -> bool {
    let field = |name: &str| selector.field_selectors.iter().find(|field| field.field == name);
    let data = field("eventCategory").is_some_and(|field| field.equals.iter().any(|value| value == "Data"));
    let s3 = field("resources.type").is_some_and(|field| field.equals.iter().any(|value| value == "AWS::S3::Object"));
    let read_only_ok = match field("readOnly") {
        None => true,
        Some(field) => field.equals.iter().any(|value| value == if access == Access::Read { "true" } else { "false" }),
    };
    // Any selector on the ARN other than "starts with the S3 ARN prefix" narrows it to some buckets.
    let all_buckets = selector.field_selectors.iter().filter(|field| field.field == "resources.ARN").all(|field| {
        field.equals.is_empty()
            && field.not_equals.is_empty()
            && field.not_starts_with.is_empty()
            && field.ends_with.is_empty()
            && field.not_ends_with.is_empty()
            && field.starts_with.iter().all(|prefix| prefix.trim_end_matches(':').ends_with(":s3"))
    });
    let other_narrowing = selector.field_selectors.iter().any(|field| matches!(field.field.as_str(), "eventName" | "eventSource" | "userIdentity.arn"));
    data && s3 && read_only_ok && all_buckets && !other_narrowing
}

fn s3_data_events(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, read: bool) {
    let inventory = context.inventory;
    let subject = context.account_subject();
    let mut needs: Vec<Needs<'_>> = Vec::new();
    let candidates: Vec<(&Region, &Trail)> = inventory.trails().filter(|(_, trail)| trail.is_multi_region_trail).collect();
    for (region, trail) in &candidates {
        needs.push(Needs::call("cloudtrail", region.as_str(), "GetEventSelectors").on(&trail.trail_arn));
    }
    let kind = if read { "read" } else { "write" };
    findings.push(context.decide(metadata, &subject, &needs, || {
        let covering: Vec<&str> = candidates.iter().filter(|(_, trail)| logs_s3_data_events(trail, read)).map(|(_, trail)| trail.trail_arn.as_str()).collect();
        let message = match covering.first() {
            Some(arn) => format!("Multi-region trail `{arn}` records S3 object-level {kind} events for all buckets."),
            None => format!("No multi-region trail records S3 object-level {kind} events for all buckets."),
        };
        (!covering.is_empty(), message, json!({ "CoveringTrails": covering, "MultiRegionTrails": candidates.len() }))
    }));
}

pub static S3_DATA_EVENTS_WRITE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_s3_data_events_write_enabled",
        title: "A multi-region trail records S3 object-level write events for all buckets",
        service: "cloudtrail",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Management events do not show who put, overwrote or deleted objects; without write data events, tampering with data leaves no trace.",
        remediation: Remediation {
            text: "Add an event selector (basic or advanced) for S3 object data events on all buckets, write or all, to a multi-region trail.",
            cli: "aws cloudtrail put-event-selectors --trail-name TRAIL --event-selectors '[{\"ReadWriteType\":\"WriteOnly\",\"IncludeManagementEvents\":true,\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]'",
            terraform: "resource \"aws_cloudtrail\" \"main\" {\n  event_selector {\n    read_write_type           = \"WriteOnly\"\n    include_management_events = true\n    data_resource {\n      type   = \"AWS::S3::Object\"\n      values = [\"arn:aws:s3\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "3.8"), ("aws-securityhub", "S3.22"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2")],
        reads: TRAILS,
    },
    run: s3_data_events_write,
};

fn s3_data_events_write(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    s3_data_events(metadata, context, findings, false);
}

pub static S3_DATA_EVENTS_READ: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_s3_data_events_read_enabled",
        title: "A multi-region trail records S3 object-level read events for all buckets",
        service: "cloudtrail",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Without read data events, exfiltration of objects by a stolen credential cannot be detected or scoped after the fact.",
        remediation: Remediation {
            text: "Add an event selector (basic or advanced) for S3 object data events on all buckets, read or all, to a multi-region trail.",
            cli: "aws cloudtrail put-event-selectors --trail-name TRAIL --event-selectors '[{\"ReadWriteType\":\"ReadOnly\",\"IncludeManagementEvents\":true,\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]'",
            terraform: "resource \"aws_cloudtrail\" \"main\" {\n  event_selector {\n    read_write_type           = \"All\"\n    include_management_events = true\n    data_resource {\n      type   = \"AWS::S3::Object\"\n      values = [\"arn:aws:s3\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "3.9"), ("aws-securityhub", "S3.23"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2")],
        reads: TRAILS,
    },
    run: s3_data_events_read,
};

fn s3_data_events_read(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    s3_data_events(metadata, context, findings, true);
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use vigil_model::Outcome;
    use vigil_model::monitoring::{AdvancedFieldSelector, DataResource, EventSelector, TrailEventSelectors, TrailStatus};
    use vigil_model::s3::{AccessControlPolicy, Bucket, Grant, LoggingEnabled};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    const REGION: &str = "us-east-1";

    fn trail(name: &str) -> Trail {
        Trail {
            name: name.into(),
            trail_arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"),
            is_multi_region_trail: true,
            s3_bucket_name: Some(format!("{name}-logs")),
            status: Some(TrailStatus { is_logging: true, ..Default::default() }),
            ..Default::default()
        }
    }

    fn with_trails(trails: Vec<Trail>) -> vigil_model::Inventory {
        let mut inventory = inventory();
        read(&mut inventory, "cloudtrail", REGION, "DescribeTrails", None);
        for trail in &trails {
            if trail.name == "denied" {
                record(&mut inventory, "cloudtrail", REGION, "GetTrailStatus", Some(&trail.trail_arn), denied());
                record(&mut inventory, "cloudtrail", REGION, "GetEventSelectors", Some(&trail.trail_arn), denied());
            } else {
                read(&mut inventory, "cloudtrail", REGION, "GetTrailStatus", Some(&trail.trail_arn));
                read(&mut inventory, "cloudtrail", REGION, "GetEventSelectors", Some(&trail.trail_arn));
            }
        }
        inventory.regional.get_mut(&REGION.into()).unwrap().trails = trails;
        inventory
    }

    #[test]
    fn trail_settings_fail_the_bad_twin_and_error_when_status_was_denied() {
        let good = Trail {
            log_file_validation_enabled: true,
            kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            cloud_watch_logs_log_group_arn: Some("arn:aws:logs:us-east-1:123456789012:log-group:trail:*".into()),
            status: Some(TrailStatus { is_logging: true, latest_cloud_watch_logs_delivery_time: Some(Utc::now() - Duration::hours(1)), ..Default::default() }),
            ..trail("good")
        };
        let bad = Trail { status: Some(TrailStatus { is_logging: false, ..Default::default() }), ..trail("bad") };
        let inventory = with_trails(vec![good, bad, trail("denied")]);
        assert_eq!(
            statuses(&run(&LOG_FILE_VALIDATION, &inventory)),
            vec![("bad".into(), Status::Fail), ("denied".into(), Status::Fail), ("good".into(), Status::Pass)]
        );
        assert_eq!(
            statuses(&run(&KMS_ENCRYPTION, &inventory)),
            vec![("bad".into(), Status::Fail), ("denied".into(), Status::Fail), ("good".into(), Status::Pass)]
        );
        for check in [&CLOUDWATCH_LOGS_DELIVERY, &TRAIL_LOGGING] {
            assert_eq!(
                statuses(&run(check, &inventory)),
                vec![("bad".into(), Status::Fail), ("denied".into(), Status::Error), ("good".into(), Status::Pass)],
                "{}",
                check.metadata.id
            );
        }
    }

    #[test]
    fn trail_buckets_are_judged_in_the_inventory_and_foreign_buckets_cannot_be() {
        let mut inventory = with_trails(vec![trail("good"), trail("bad"), trail("foreign")]);
        read(&mut inventory, "s3", Region::GLOBAL, "ListBuckets", None);
        read(&mut inventory, "s3control", Region::GLOBAL, "GetPublicAccessBlock", Some(ACCOUNT));
        let public_acl = AccessControlPolicy {
            owner_id: None,
            grants: vec![Grant { grantee_type: "Group".into(), grantee_uri: Some(Grant::ALL_USERS.into()), permission: "READ".into(), ..Default::default() }],
        };
        inventory.s3.buckets = vec![
            Bucket {
                name: "good-logs".into(),
                region: REGION.into(),
                logging: Some(LoggingEnabled { target_bucket: "access".into(), target_prefix: None }),
                ..Default::default()
            },
            Bucket { name: "bad-logs".into(), region: REGION.into(), acl: Some(public_acl), ..Default::default() },
        ];
        for bucket in ["good-logs", "bad-logs"] {
            for operation in ["GetBucketAcl", "GetPublicAccessBlock", "GetBucketLogging"] {
                read(&mut inventory, "s3", REGION, operation, Some(bucket));
            }
            record(&mut inventory, "s3", REGION, "GetBucketPolicy", Some(bucket), Outcome::NotConfigured { code: "NoSuchBucketPolicy".into() });
        }
        let expected = vec![("bad".into(), Status::Fail), ("foreign".into(), Status::Error), ("good".into(), Status::Pass)];
        assert_eq!(statuses(&run(&BUCKET_NOT_PUBLIC, &inventory)), expected);
        assert_eq!(statuses(&run(&BUCKET_ACCESS_LOGGING, &inventory)), expected);
        let foreign = run(&BUCKET_ACCESS_LOGGING, &inventory).into_iter().find(|finding| finding.resource_id == "foreign").unwrap();
        assert!(foreign.message.contains("foreign-logs"), "{}", foreign.message);
    }

    #[test]
    fn s3_data_events_are_recognized_in_basic_and_advanced_selectors() {
        let basic = |kind: &str, value: &str| TrailEventSelectors {
            event_selectors: vec![EventSelector {
                read_write_type: Some(kind.into()),
                include_management_events: Some(true),
                data_resources: vec![DataResource { r#type: Some("AWS::S3::Object".into()), values: vec![value.into()] }],
                ..Default::default()
            }],
            advanced_event_selectors: vec![],
        };
        let field = |name: &str, equals: &[&str]| AdvancedFieldSelector {
            field: name.into(),
            equals: equals.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        };
        let advanced = |extra: Vec<AdvancedFieldSelector>| {
            let mut field_selectors = vec![field("eventCategory", &["Data"]), field("resources.type", &["AWS::S3::Object"])];
            field_selectors.extend(extra);
            TrailEventSelectors { event_selectors: vec![], advanced_event_selectors: vec![AdvancedEventSelector { name: None, field_selectors }] }
        };
        let cases = [
            (basic("All", "arn:aws:s3"), true, true),
            (basic("WriteOnly", "arn:aws:s3:::"), false, true),
            (basic("ReadOnly", "arn:aws:s3"), true, false),
            (basic("All", "arn:aws:s3:::one-bucket/"), false, false),
            (advanced(vec![]), true, true),
            (advanced(vec![field("readOnly", &["true"])]), true, false),
            (advanced(vec![field("resources.ARN", &["arn:aws:s3:::one-bucket/"])]), false, false),
        ];
        for (selectors, read, write) in cases {
            let trail = Trail { event_selectors: Some(selectors.clone()), ..trail("t") };
            assert_eq!((logs_s3_data_events(&trail, true), logs_s3_data_events(&trail, false)), (read, write), "{selectors:?}");
        }
        let good = Trail { event_selectors: Some(basic("All", "arn:aws:s3")), ..trail("good") };
        assert_eq!(run(&S3_DATA_EVENTS_READ, &with_trails(vec![good.clone()]))[0].status, Status::Pass);
        assert_eq!(run(&S3_DATA_EVENTS_WRITE, &with_trails(vec![trail("plain")]))[0].status, Status::Fail);
        assert_eq!(run(&S3_DATA_EVENTS_WRITE, &with_trails(vec![good, trail("denied")]))[0].status, Status::Error);
    }
}
