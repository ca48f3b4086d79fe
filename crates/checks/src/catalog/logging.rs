//! Logging and key-management checks: CloudTrail coverage, KMS rotation, AWS Config recording.

use serde_json::json;
use vigil_model::monitoring::Trail;
use vigil_model::resource::ResourceData;

use super::FnCheck;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The trails of each region (with the shadow trails it sees).
pub(crate) const TRAILS: &[Read] = &[Read::regional("cloudtrail", "DescribeTrails")];
/// The KMS keys of each region.
pub(crate) const KEYS: &[Read] = &[Read::regional("kms", "ListKeys")];
/// The AWS Config recorders of each region and their status.
pub(crate) const RECORDERS: &[Read] =
    &[Read::regional("config", "DescribeConfigurationRecorders"), Read::regional("config", "DescribeConfigurationRecorderStatus")];

pub static CLOUDTRAIL_MULTI_REGION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudtrail_multi_region_enabled",
        title: "A multi-region CloudTrail trail logs all management events",
        service: "cloudtrail",
        resource_type: "AWS::::Account",
        severity: Severity::High,
        risk: "Without a multi-region trail, activity in regions you do not use (a favourite of attackers) leaves no record.",
        remediation: Remediation {
            text: "Create a multi-region trail that logs read and write management events, and start logging.",
            cli: "aws cloudtrail create-trail --name management --s3-bucket-name BUCKET --is-multi-region-trail\naws cloudtrail start-logging --name management",
            terraform: "resource \"aws_cloudtrail\" \"management\" {\n  name                  = \"management\"\n  s3_bucket_name        = aws_s3_bucket.trail.id\n  is_multi_region_trail = true\n}",
        },
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/receive-cloudtrail-log-files-from-multiple-regions.html"],
        frameworks: &[("cis-aws-5.0", "3.1"), ("aws-fsbp", "CloudTrail.1"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2")],
        reads: TRAILS,
    },
    run: cloudtrail_multi_region_enabled,
};

/// True when the trail's selectors include read and write management events.
pub(crate) fn logs_all_management_events(trail: &Trail) -> bool {
    let Some(selectors) = &trail.event_selectors else { return !trail.has_custom_event_selectors };
    if !selectors.advanced_event_selectors.is_empty() {
        return selectors.advanced_event_selectors.iter().any(|selector| {
            let management =
                selector.field_selectors.iter().any(|field| field.field == "eventCategory" && field.equals.iter().any(|value| value == "Management"));
            let read_only_filtered = selector.field_selectors.iter().any(|field| field.field == "readOnly");
            management && !read_only_filtered
        });
    }
    if selectors.event_selectors.is_empty() {
        return !trail.has_custom_event_selectors;
    }
    selectors
        .event_selectors
        .iter()
        .any(|selector| selector.include_management_events.unwrap_or(true) && selector.read_write_type.as_deref().is_none_or(|kind| kind == "All"))
}

fn cloudtrail_multi_region_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let inventory = context.inventory;
    let subject = context.account_subject();
    let mut needs: Vec<Needs<'_>> = Vec::new();
    let candidates: Vec<(&str, &Trail)> =
        inventory.trails().filter(|(_, trail)| trail.is_multi_region_trail).map(|(region, trail)| (region.as_str(), trail)).collect();
    for (region, trail) in &candidates {
        needs.push(Needs::call("cloudtrail", region, "GetTrailStatus").on(&trail.trail_arn));
        needs.push(Needs::call("cloudtrail", region, "GetEventSelectors").on(&trail.trail_arn));
    }
    findings.push(context.decide(metadata, &subject, &needs, || {
        let good: Vec<&str> = candidates
            .iter()
            .filter(|(_, trail)| trail.status.as_ref().is_some_and(|status| status.is_logging) && logs_all_management_events(trail))
            .map(|(_, trail)| trail.trail_arn.as_str())
            .collect();
        let all: Vec<serde_json::Value> = inventory
            .trails()
            .map(|(region, trail)| {
                json!({ "TrailARN": trail.trail_arn, "HomeRegion": region, "IsMultiRegionTrail": trail.is_multi_region_trail, "IsLogging": trail.status.as_ref().map(|status| status.is_logging) })
            })
            .collect();
        let message = match good.first() {
            Some(arn) => format!("Trail `{arn}` logs management events in every region."),
            None => "No logging multi-region trail records all management events.".to_string(),
        };
        (!good.is_empty(), message, json!({ "Trails": all }))
    }));
}

pub static KMS_KEY_ROTATION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "kms_key_rotation_enabled",
        title: "Customer managed symmetric KMS keys rotate automatically",
        service: "kms",
        resource_type: "AWS::KMS::Key",
        severity: Severity::Medium,
        risk: "Without rotation, a key's material lives forever, widening the window in which a leaked key decrypts data.",
        remediation: Remediation {
            text: "Enable automatic rotation on every enabled customer managed symmetric key.",
            cli: "aws kms enable-key-rotation --key-id KEY_ID",
            terraform: "resource \"aws_kms_key\" \"key\" {\n  enable_key_rotation = true\n}",
        },
        references: &["https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"],
        frameworks: &[("cis-aws-5.0", "3.6"), ("aws-securityhub", "KMS.4"), ("pci-dss-4.0", "3.6.1"), ("nist-800-53-r5", "SC-12")],
        reads: KEYS,
    },
    run: kms_key_rotation_enabled,
};

fn kms_key_rotation_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for resource in context.resources_of_type("AWS::KMS::Key") {
        let ResourceData::KmsKey(key) = resource.data else { continue };
        let subject = context.subject(resource);
        // Whether the key is one this check applies to is in DescribeKey's answer: a key whose
        // description was not read is an ERROR, not a key silently left out.
        if let Err(unread) = context.require(&[Needs::call("kms", resource.region, "DescribeKey").on(&key.key_id)]) {
            findings.push(context.unread(metadata, &subject, unread));
            continue;
        }
        let customer = key.key_manager.as_deref() == Some("CUSTOMER");
        let symmetric = key.key_spec.as_deref().is_none_or(|spec| spec == "SYMMETRIC_DEFAULT");
        if !customer || !symmetric || key.key_state.as_deref() != Some("Enabled") {
            continue;
        }
        let needs = [Needs::call("kms", resource.region, "GetKeyRotationStatus").on(&key.key_id)];
        findings.push(context.decide(metadata, &subject, &needs, || {
            let rotating = key.key_rotation_enabled == Some(true);
            let message =
                if rotating { format!("Key `{}` rotates automatically.", key.key_id) } else { format!("Key `{}` does not rotate automatically.", key.key_id) };
            (rotating, message, json!({ "KeyRotationEnabled": key.key_rotation_enabled }))
        }));
    }
}

pub static CONFIG_RECORDER_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "config_recorder_enabled",
        title: "AWS Config records all resource types in every region",
        service: "config",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without a recorder, configuration changes in the region leave no history to investigate or audit.",
        remediation: Remediation {
            text: "Create a configuration recorder for all supported resource types, a delivery channel, and start recording in every region.",
            cli: "aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=ROLE --recording-group allSupported=true,includeGlobalResourceTypes=true\naws configservice start-configuration-recorder --configuration-recorder-name default",
            terraform: "resource \"aws_config_configuration_recorder\" \"default\" {\n  role_arn = aws_iam_role.config.arn\n  recording_group {\n    all_supported                 = true\n    include_global_resource_types = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html"],
        frameworks: &[("cis-aws-5.0", "3.3"), ("aws-fsbp", "Config.1"), ("pci-dss-4.0", "10.2.2"), ("nist-800-53-r5", "CM-8")],
        reads: RECORDERS,
    },
    run: config_recorder_enabled,
};

fn config_recorder_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for (region, regional) in &context.inventory.regional {
        let subject = context.region_subject(region.as_str());
        findings.push(context.decide(metadata, &subject, &[], || {
            let recording = regional.configuration_recorders.iter().any(|recorder| recorder.recording && recorder.all_supported);
            let message = if recording {
                format!("AWS Config records all resource types in {region}.")
            } else if regional.configuration_recorders.is_empty() {
                format!("No AWS Config recorder exists in {region}.")
            } else {
                format!("The AWS Config recorder in {region} is stopped or does not record all resource types.")
            };
            (recording, message, json!({ "ConfigurationRecorders": regional.configuration_recorders }))
        }));
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::monitoring::{ConfigurationRecorder, EventSelector, KmsKey, TrailEventSelectors, TrailStatus};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    fn trail(arn: &str, multi_region: bool, logging: bool, read_write: &str) -> Trail {
        Trail {
            name: arn.into(),
            trail_arn: arn.into(),
            is_multi_region_trail: multi_region,
            status: Some(TrailStatus { is_logging: logging, ..Default::default() }),
            event_selectors: Some(TrailEventSelectors {
                event_selectors: vec![EventSelector { read_write_type: Some(read_write.into()), include_management_events: Some(true), ..Default::default() }],
                advanced_event_selectors: vec![],
            }),
            ..Trail::default()
        }
    }

    fn check_trails(trails: Vec<Trail>) -> Status {
        let mut inventory = inventory();
        read(&mut inventory, "cloudtrail", "us-east-1", "DescribeTrails", None);
        for trail in &trails {
            read(&mut inventory, "cloudtrail", "us-east-1", "GetTrailStatus", Some(&trail.trail_arn));
            read(&mut inventory, "cloudtrail", "us-east-1", "GetEventSelectors", Some(&trail.trail_arn));
        }
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().trails = trails;
        run(&CLOUDTRAIL_MULTI_REGION_ENABLED, &inventory)[0].status
    }

    #[test]
    fn only_a_logging_multi_region_trail_with_all_management_events_passes() {
        assert_eq!(check_trails(vec![]), Status::Fail);
        assert_eq!(check_trails(vec![trail("single", false, true, "All")]), Status::Fail);
        assert_eq!(check_trails(vec![trail("stopped", true, false, "All")]), Status::Fail);
        assert_eq!(check_trails(vec![trail("write-only", true, true, "WriteOnly")]), Status::Fail);
        assert_eq!(check_trails(vec![trail("single", false, true, "All"), trail("good", true, true, "All")]), Status::Pass);
    }

    #[test]
    fn an_unread_region_makes_the_trail_check_error() {
        let mut inventory = inventory();
        record(&mut inventory, "cloudtrail", "us-east-1", "DescribeTrails", None, denied());
        assert_eq!(run(&CLOUDTRAIL_MULTI_REGION_ENABLED, &inventory)[0].status, Status::Error);
    }

    #[test]
    fn rotation_is_required_of_enabled_customer_symmetric_keys_only() {
        let mut inventory = inventory();
        read(&mut inventory, "kms", "us-east-1", "ListKeys", None);
        let key = |id: &str, manager: &str, state: &str, rotation: Option<bool>| KmsKey {
            key_id: id.into(),
            arn: format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"),
            key_manager: Some(manager.into()),
            key_state: Some(state.into()),
            key_rotation_enabled: rotation,
            ..Default::default()
        };
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().kms_keys = vec![
            key("rotating", "CUSTOMER", "Enabled", Some(true)),
            key("static", "CUSTOMER", "Enabled", Some(false)),
            key("aws-owned", "AWS", "Enabled", None),
            key("disabled", "CUSTOMER", "Disabled", None),
            key("unread", "CUSTOMER", "Enabled", None),
            KmsKey { key_id: "undescribed".into(), ..Default::default() },
        ];
        for id in ["rotating", "static", "aws-owned", "disabled", "unread"] {
            read(&mut inventory, "kms", "us-east-1", "DescribeKey", Some(id));
        }
        record(&mut inventory, "kms", "us-east-1", "DescribeKey", Some("undescribed"), denied());
        read(&mut inventory, "kms", "us-east-1", "GetKeyRotationStatus", Some("rotating"));
        read(&mut inventory, "kms", "us-east-1", "GetKeyRotationStatus", Some("static"));
        record(&mut inventory, "kms", "us-east-1", "GetKeyRotationStatus", Some("unread"), denied());
        assert_eq!(
            statuses(&run(&KMS_KEY_ROTATION_ENABLED, &inventory)),
            vec![("rotating".into(), Status::Pass), ("static".into(), Status::Fail), ("undescribed".into(), Status::Error), ("unread".into(), Status::Error)]
        );
    }

    /// Issue 14: a key whose DescribeKey failed was skipped (no finding at all), so the
    /// requirement read "no resources"; it is an ERROR naming the call.
    #[test]
    fn a_key_whose_description_was_not_read_is_an_error_naming_describe_key() {
        let mut inventory = inventory();
        read(&mut inventory, "kms", "us-east-1", "ListKeys", None);
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().kms_keys = vec![KmsKey { key_id: "k".into(), ..Default::default() }];
        record(&mut inventory, "kms", "us-east-1", "DescribeKey", Some("k"), denied());
        let findings = run(&KMS_KEY_ROTATION_ENABLED, &inventory);
        assert_eq!(statuses(&findings), vec![("k".into(), Status::Error)]);
        assert!(findings[0].message.contains("kms:DescribeKey"), "{}", findings[0].message);
    }

    #[test]
    fn config_recording_is_judged_per_region() {
        let mut inventory = inventory();
        read(&mut inventory, "config", "us-east-1", "DescribeConfigurationRecorders", None);
        read(&mut inventory, "config", "us-east-1", "DescribeConfigurationRecorderStatus", None);
        assert_eq!(run(&CONFIG_RECORDER_ENABLED, &inventory)[0].status, Status::Fail);
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().configuration_recorders =
            vec![ConfigurationRecorder { name: "default".into(), all_supported: true, recording: true, ..Default::default() }];
        assert_eq!(run(&CONFIG_RECORDER_ENABLED, &inventory)[0].status, Status::Pass);
    }
}
