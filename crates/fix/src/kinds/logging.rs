//! Logging and detection slices: CloudTrail trail settings, KMS key rotation and key
//! policies, log group retention, GuardDuty detectors and Security Hub.

use serde_json::{Value, json};
use vigil_model::Inventory;
use vigil_model::monitoring::{KmsKey, Trail};
use vigil_model::security::{Detector, SecurityHub};

use super::{Kind, as_is};
use crate::iac::{self, Iac};
use crate::support::{flag, policy_text, record_read, regional, regional_mut, require};
use crate::{Call, FixError, Target};

// ---- CloudTrail trail settings ----

const TRAIL_FIELDS: &[(&str, &str)] = &[
    ("IsMultiRegionTrail", "IsMultiRegionTrail"),
    ("IncludeGlobalServiceEvents", "IncludeGlobalServiceEvents"),
    ("LogFileValidationEnabled", "EnableLogFileValidation"),
];

pub static TRAIL_SETTINGS: Kind = Kind {
    id: "cloudtrail-trail-settings",
    title: "a CloudTrail trail's regions, global service events and log file validation",
    service: "cloudtrail",
    reads: &["cloudtrail:DescribeTrails"],
    writes: &["cloudtrail:UpdateTrail"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "cloudtrail", &target.region, "DescribeTrails", None)?;
        let trail = trail(inventory, target)?;
        Ok(json!({
            "IsMultiRegionTrail": trail.is_multi_region_trail,
            "IncludeGlobalServiceEvents": trail.include_global_service_events,
            "LogFileValidationEnabled": trail.log_file_validation_enabled,
        }))
    },
    set_state: |inventory, target, state| {
        let trail = regional_mut(inventory, &target.region)?
            .trails
            .iter_mut()
            .find(|trail| trail.name == target.id)
            .ok_or_else(|| FixError::NotFound(format!("trail `{}`", target.id)))?;
        trail.is_multi_region_trail = flag(state, "IsMultiRegionTrail").unwrap_or(trail.is_multi_region_trail);
        trail.include_global_service_events = flag(state, "IncludeGlobalServiceEvents").unwrap_or(trail.include_global_service_events);
        trail.log_file_validation_enabled = flag(state, "LogFileValidationEnabled").unwrap_or(trail.log_file_validation_enabled);
        Ok(())
    },
    calls: |target, from, to| {
        let mut parameters = serde_json::Map::new();
        for (field, parameter) in TRAIL_FIELDS {
            if from.get(*field) != to.get(*field)
                && let Some(value) = to.get(*field)
            {
                parameters.insert(parameter.to_string(), value.clone());
            }
        }
        if parameters.is_empty() {
            return Ok(Vec::new());
        }
        parameters.insert("Name".to_string(), json!(target.id));
        Ok(vec![Call::new("cloudtrail", "UpdateTrail", &target.region, Value::Object(parameters))])
    },
    normalize: as_is,
    iac: |target, after| {
        iac::resource_block(
            &format!("trail {}", target.id),
            "aws_cloudtrail",
            &[
                ("is_multi_region_trail", after.get("IsMultiRegionTrail").cloned().unwrap_or(Value::Null)),
                ("include_global_service_events", after.get("IncludeGlobalServiceEvents").cloned().unwrap_or(Value::Null)),
                ("enable_log_file_validation", after.get("LogFileValidationEnabled").cloned().unwrap_or(Value::Null)),
            ],
            "AWS::CloudTrail::Trail",
            &[
                ("IsMultiRegionTrail", after.get("IsMultiRegionTrail").cloned().unwrap_or(Value::Null)),
                ("IncludeGlobalServiceEvents", after.get("IncludeGlobalServiceEvents").cloned().unwrap_or(Value::Null)),
                ("EnableLogFileValidation", after.get("LogFileValidationEnabled").cloned().unwrap_or(Value::Null)),
            ],
        )
    },
};

fn trail<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a Trail, FixError> {
    regional(inventory, &target.region)?.trails.iter().find(|trail| trail.name == target.id).ok_or_else(|| FixError::NotFound(format!("trail `{}`", target.id)))
}

// ---- KMS key rotation and key policy ----

fn key<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a KmsKey, FixError> {
    regional(inventory, &target.region)?
        .kms_keys
        .iter()
        .find(|key| key.key_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("KMS key `{}`", target.id)))
}

fn key_mut<'a>(inventory: &'a mut Inventory, target: &Target) -> Result<&'a mut KmsKey, FixError> {
    regional_mut(inventory, &target.region)?
        .kms_keys
        .iter_mut()
        .find(|key| key.key_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("KMS key `{}`", target.id)))
}

pub static KEY_ROTATION: Kind = Kind {
    id: "kms-key-rotation",
    title: "automatic rotation of a KMS key",
    service: "kms",
    reads: &["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus"],
    writes: &["kms:EnableKeyRotation", "kms:DisableKeyRotation"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "kms", &target.region, "GetKeyRotationStatus", Some(&target.id))?;
        Ok(json!({ "KeyRotationEnabled": key(inventory, target)?.key_rotation_enabled.unwrap_or(false) }))
    },
    set_state: |inventory, target, state| {
        key_mut(inventory, target)?.key_rotation_enabled = Some(flag(state, "KeyRotationEnabled").unwrap_or(false));
        Ok(())
    },
    calls: |target, from, to| {
        let (before, after) = (flag(from, "KeyRotationEnabled").unwrap_or(false), flag(to, "KeyRotationEnabled").unwrap_or(false));
        Ok(match (before, after) {
            (false, true) => vec![Call::new("kms", "EnableKeyRotation", &target.region, json!({ "KeyId": target.id }))],
            (true, false) => vec![Call::new("kms", "DisableKeyRotation", &target.region, json!({ "KeyId": target.id }))],
            _ => Vec::new(),
        })
    },
    normalize: as_is,
    iac: |target, after| {
        let enabled = flag(after, "KeyRotationEnabled").unwrap_or(false);
        iac::resource_block(
            &format!("KMS key {}", target.id),
            "aws_kms_key",
            &[("enable_key_rotation", json!(enabled))],
            "AWS::KMS::Key",
            &[("EnableKeyRotation", json!(enabled))],
        )
    },
};

pub static KEY_POLICY: Kind = Kind {
    id: "kms-key-policy",
    title: "the key policy of a KMS key",
    service: "kms",
    reads: &["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyPolicy"],
    writes: &["kms:PutKeyPolicy"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "kms", &target.region, "GetKeyPolicy", Some(&target.id))?;
        Ok(json!({ "Policy": key(inventory, target)?.policy }))
    },
    set_state: |inventory, target, state| {
        key_mut(inventory, target)?.policy = state.get("Policy").filter(|policy| !policy.is_null()).cloned();
        Ok(())
    },
    calls: |target, from, to| {
        if from.get("Policy") == to.get("Policy") {
            return Ok(Vec::new());
        }
        let policy =
            to.get("Policy").filter(|policy| !policy.is_null()).ok_or_else(|| FixError::Declined(format!("KMS key `{}` must keep a key policy", target.id)))?;
        Ok(vec![Call::new("kms", "PutKeyPolicy", &target.region, json!({ "KeyId": target.id, "PolicyName": "default", "Policy": policy_text(policy) }))])
    },
    normalize: as_is,
    iac: |target, after| {
        let policy = after.get("Policy").cloned().unwrap_or(Value::Null);
        iac::resource_block(
            &format!("KMS key {}", target.id),
            "aws_kms_key",
            &[("policy", json!(policy_text(&policy)))],
            "AWS::KMS::Key",
            &[("KeyPolicy", policy)],
        )
    },
};

// ---- Log group retention ----

pub static LOG_GROUP_RETENTION: Kind = Kind {
    id: "log-group-retention",
    title: "how long a CloudWatch Logs log group keeps its events",
    service: "logs",
    reads: &["logs:DescribeLogGroups"],
    writes: &["logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "logs", &target.region, "DescribeLogGroups", None)?;
        let group = regional(inventory, &target.region)?
            .log_groups
            .iter()
            .find(|group| group.log_group_name == target.id)
            .ok_or_else(|| FixError::NotFound(format!("log group `{}`", target.id)))?;
        Ok(json!({ "RetentionInDays": group.retention_in_days }))
    },
    set_state: |inventory, target, state| {
        let group = regional_mut(inventory, &target.region)?
            .log_groups
            .iter_mut()
            .find(|group| group.log_group_name == target.id)
            .ok_or_else(|| FixError::NotFound(format!("log group `{}`", target.id)))?;
        group.retention_in_days = state.get("RetentionInDays").and_then(Value::as_i64).and_then(|days| i32::try_from(days).ok());
        Ok(())
    },
    calls: |target, from, to| {
        if from.get("RetentionInDays") == to.get("RetentionInDays") {
            return Ok(Vec::new());
        }
        Ok(vec![match to.get("RetentionInDays").and_then(Value::as_i64) {
            Some(days) => Call::new("logs", "PutRetentionPolicy", &target.region, json!({ "logGroupName": target.id, "retentionInDays": days })),
            None => Call::new("logs", "DeleteRetentionPolicy", &target.region, json!({ "logGroupName": target.id })),
        }])
    },
    normalize: as_is,
    iac: |target, after| {
        let days = after.get("RetentionInDays").cloned().unwrap_or(Value::Null);
        iac::resource_block(
            &format!("log group {}", target.id),
            "aws_cloudwatch_log_group",
            &[("retention_in_days", days.clone())],
            "AWS::Logs::LogGroup",
            &[("RetentionInDays", days)],
        )
    },
};

// ---- GuardDuty detectors ----

/// The id a detector the plan creates stands under until AWS names it.
const PLANNED_DETECTOR: &str = "(new detector)";

pub static GUARDDUTY_DETECTORS: Kind = Kind {
    id: "guardduty-detector",
    title: "the GuardDuty detector of a region",
    service: "guardduty",
    reads: &["guardduty:ListDetectors", "guardduty:GetDetector"],
    writes: &["guardduty:CreateDetector", "guardduty:UpdateDetector", "guardduty:DeleteDetector"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "guardduty", &target.region, "ListDetectors", None)?;
        let detectors: Vec<Value> = regional(inventory, &target.region)?
            .guardduty_detectors
            .iter()
            .map(|detector| json!({ "DetectorId": detector.detector_id, "Status": detector.status }))
            .collect();
        Ok(json!({ "Detectors": detectors }))
    },
    set_state: |inventory, target, state| {
        let wanted: Vec<(Option<String>, Option<String>)> = detectors(state);
        let mut created = Vec::new();
        let regional = regional_mut(inventory, &target.region)?;
        regional.guardduty_detectors.retain(|detector| wanted.iter().any(|(id, _)| id.as_deref() == Some(detector.detector_id.as_str())));
        for (id, status) in wanted {
            match id {
                Some(id) => {
                    if let Some(detector) = regional.guardduty_detectors.iter_mut().find(|detector| detector.detector_id == id) {
                        detector.status = status;
                    }
                }
                None => {
                    regional.guardduty_detectors.push(Detector { detector_id: PLANNED_DETECTOR.to_string(), status, ..Detector::default() });
                    created.push(PLANNED_DETECTOR);
                }
            }
        }
        for id in created {
            record_read(inventory, "guardduty", &target.region, "GetDetector", Some(id));
        }
        Ok(())
    },
    calls: |target, from, to| {
        let (before, after) = (detectors(from), detectors(to));
        let mut calls = Vec::new();
        for (id, _) in &before {
            if let Some(id) = id
                && !after.iter().any(|(other, _)| other.as_deref() == Some(id.as_str()))
            {
                calls.push(Call::new("guardduty", "DeleteDetector", &target.region, json!({ "DetectorId": id })));
            }
        }
        for (id, status) in &after {
            let enable = status.as_deref() == Some("ENABLED");
            match id {
                None => calls.push(Call::new("guardduty", "CreateDetector", &target.region, json!({ "Enable": enable }))),
                Some(id) => {
                    if before.iter().any(|(old_id, old_status)| old_id.as_deref() == Some(id.as_str()) && old_status != status) {
                        calls.push(Call::new("guardduty", "UpdateDetector", &target.region, json!({ "DetectorId": id, "Enable": enable })));
                    }
                }
            }
        }
        Ok(calls)
    },
    normalize: |state| {
        let mut statuses: Vec<Option<String>> = detectors(state).into_iter().map(|(_, status)| status).collect();
        statuses.sort();
        json!(statuses)
    },
    iac: |target, _after| {
        iac::standalone(
            &format!("GuardDuty in {}", target.region),
            "aws_guardduty_detector",
            &[("enable", json!(true))],
            &format!("GuardDutyDetector:\n  Type: AWS::GuardDuty::Detector\n  Properties:\n    Enable: true\n# (deploy in {})", target.region),
        )
    },
};

fn detectors(state: &Value) -> Vec<(Option<String>, Option<String>)> {
    state
        .get("Detectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|detector| {
            (
                detector.get("DetectorId").and_then(Value::as_str).filter(|id| *id != PLANNED_DETECTOR).map(str::to_string),
                detector.get("Status").and_then(Value::as_str).map(str::to_string),
            )
        })
        .collect()
}

// ---- Security Hub ----

pub static SECURITY_HUB: Kind = Kind {
    id: "securityhub-hub",
    title: "whether Security Hub is enabled in a region",
    service: "securityhub",
    reads: &["securityhub:DescribeHub"],
    writes: &["securityhub:EnableSecurityHub", "securityhub:DisableSecurityHub"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "securityhub", &target.region, "DescribeHub", None)?;
        Ok(json!({ "HubEnabled": regional(inventory, &target.region)?.security_hub.is_some() }))
    },
    set_state: |inventory, target, state| {
        let partition = inventory.partition().to_string();
        let regional = regional_mut(inventory, &target.region)?;
        if flag(state, "HubEnabled").unwrap_or(false) {
            if regional.security_hub.is_none() {
                regional.security_hub = Some(SecurityHub {
                    hub_arn: format!("arn:{partition}:securityhub:{}:{}:hub/default", target.region, target.account_id),
                    ..SecurityHub::default()
                });
            }
        } else {
            regional.security_hub = None;
        }
        Ok(())
    },
    calls: |target, from, to| {
        let (before, after) = (flag(from, "HubEnabled").unwrap_or(false), flag(to, "HubEnabled").unwrap_or(false));
        Ok(match (before, after) {
            // Default standards stay off: enabling them is a separate decision with its own cost.
            (false, true) => vec![Call::new("securityhub", "EnableSecurityHub", &target.region, json!({ "EnableDefaultStandards": false }))],
            (true, false) => vec![Call::new("securityhub", "DisableSecurityHub", &target.region, json!({}))],
            _ => Vec::new(),
        })
    },
    normalize: as_is,
    iac: |target, _after| Iac {
        terraform: format!("# Security Hub in {}\nresource \"aws_securityhub_account\" \"hub\" {{\n  enable_default_standards = false\n}}\n", target.region),
        cloudformation: format!(
            "# Security Hub in {}\nSecurityHub:\n  Type: AWS::SecurityHub::Hub\n  Properties:\n    EnableDefaultStandards: false\n",
            target.region
        ),
    },
};
