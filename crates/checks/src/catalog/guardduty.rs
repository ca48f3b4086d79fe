//! GuardDuty checks: a detector enabled in every region, and its protection plans.

use serde_json::json;
use vigil_model::RegionalInventory;
use vigil_model::security::Detector;

use super::FnCheck;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

fn enabled_detector(regional: &RegionalInventory) -> Option<&Detector> {
    regional.guardduty_detectors.iter().find(|detector| detector.status.as_deref() == Some("ENABLED"))
}

/// The detector listing every check of this family reads.
const DETECTORS: &[Read] = &[Read::regional("guardduty", "ListDetectors")];

/// The calls a region's GuardDuty state depends on besides the listing: each detector's details.
fn region_needs<'a>(region: &'a str, regional: &'a RegionalInventory) -> Vec<Needs<'a>> {
    regional.guardduty_detectors.iter().map(|detector| Needs::call("guardduty", region, "GetDetector").on(&detector.detector_id)).collect()
}

pub static ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_enabled",
        title: "GuardDuty is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::High,
        risk: "Without GuardDuty, compromised credentials, crypto-mining and reconnaissance in the region go undetected; attackers favour regions nobody watches.",
        remediation: Remediation {
            text: "Create (or enable) a GuardDuty detector in every region, ideally for the whole organization from a delegated administrator.",
            cli: "aws guardduty create-detector --enable --region REGION",
            terraform: "resource \"aws_guardduty_detector\" \"main\" {\n  enable = true\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.1"), ("pci-dss-4.0", "11.5.1"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: enabled,
};

fn enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        let subject = context.region_subject(region);
        findings.push(context.decide(metadata, &subject, &region_needs(region, regional), || {
            let detector = enabled_detector(regional);
            let message = match detector {
                Some(detector) => format!("GuardDuty detector `{}` is enabled in {region}.", detector.detector_id),
                None => format!("GuardDuty is not enabled in {region}."),
            };
            let detectors: Vec<_> =
                regional.guardduty_detectors.iter().map(|detector| json!({ "DetectorId": detector.detector_id, "Status": detector.status })).collect();
            (detector.is_some(), message, json!({ "Detectors": detectors }))
        }));
    }
}

/// Judges one protection plan feature in every region.
fn feature_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, feature: &str) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        let subject = context.region_subject(region);
        findings.push(context.decide(metadata, &subject, &region_needs(region, regional), || {
            let Some(detector) = enabled_detector(regional) else {
                return (
                    false,
                    format!("GuardDuty is not enabled in {region}, so {feature} is not monitored."),
                    json!({ "Feature": feature, "Detectors": [] }),
                );
            };
            let status = detector.features.iter().find(|candidate| candidate.name == feature).and_then(|candidate| candidate.status.clone());
            let on = status.as_deref() == Some("ENABLED");
            let message = format!("GuardDuty feature {feature} is {} in {region}.", status.as_deref().unwrap_or("absent"));
            (on, message, json!({ "DetectorId": detector.detector_id, "Feature": feature, "Status": status }))
        }));
    }
}

pub static S3_PROTECTION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_s3_protection_enabled",
        title: "GuardDuty S3 Protection is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without S3 Protection, suspicious access to S3 objects (exfiltration, access from known-bad addresses) is not detected.",
        remediation: Remediation {
            text: "Enable the S3_DATA_EVENTS feature on the region's GuardDuty detector.",
            cli: "aws guardduty update-detector --detector-id DETECTOR_ID --features Name=S3_DATA_EVENTS,Status=ENABLED",
            terraform: "resource \"aws_guardduty_detector_feature\" \"feature\" {\n  detector_id = aws_guardduty_detector.main.id\n  name        = \"S3_DATA_EVENTS\"\n  status      = \"ENABLED\"\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/s3-protection.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.10"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: |metadata, context, findings| feature_enabled(metadata, context, findings, "S3_DATA_EVENTS"),
};
pub static EKS_AUDIT_LOGS_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_eks_audit_logs_enabled",
        title: "GuardDuty EKS Audit Log Monitoring is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without EKS audit log monitoring, suspicious Kubernetes API activity in your clusters is not detected.",
        remediation: Remediation {
            text: "Enable the EKS_AUDIT_LOGS feature on the region's GuardDuty detector.",
            cli: "aws guardduty update-detector --detector-id DETECTOR_ID --features Name=EKS_AUDIT_LOGS,Status=ENABLED",
            terraform: "resource \"aws_guardduty_detector_feature\" \"feature\" {\n  detector_id = aws_guardduty_detector.main.id\n  name        = \"EKS_AUDIT_LOGS\"\n  status      = \"ENABLED\"\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/kubernetes-protection.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.5"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: |metadata, context, findings| feature_enabled(metadata, context, findings, "EKS_AUDIT_LOGS"),
};
pub static RDS_PROTECTION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_rds_protection_enabled",
        title: "GuardDuty RDS Protection is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without RDS Protection, brute-force and anomalous logins to Aurora databases are not detected.",
        remediation: Remediation {
            text: "Enable the RDS_LOGIN_EVENTS feature on the region's GuardDuty detector.",
            cli: "aws guardduty update-detector --detector-id DETECTOR_ID --features Name=RDS_LOGIN_EVENTS,Status=ENABLED",
            terraform: "resource \"aws_guardduty_detector_feature\" \"feature\" {\n  detector_id = aws_guardduty_detector.main.id\n  name        = \"RDS_LOGIN_EVENTS\"\n  status      = \"ENABLED\"\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/rds-protection.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.9"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: |metadata, context, findings| feature_enabled(metadata, context, findings, "RDS_LOGIN_EVENTS"),
};
pub static LAMBDA_PROTECTION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_lambda_protection_enabled",
        title: "GuardDuty Lambda Protection is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without Lambda Protection, functions talking to crypto-mining pools or command-and-control servers are not detected.",
        remediation: Remediation {
            text: "Enable the LAMBDA_NETWORK_LOGS feature on the region's GuardDuty detector.",
            cli: "aws guardduty update-detector --detector-id DETECTOR_ID --features Name=LAMBDA_NETWORK_LOGS,Status=ENABLED",
            terraform: "resource \"aws_guardduty_detector_feature\" \"feature\" {\n  detector_id = aws_guardduty_detector.main.id\n  name        = \"LAMBDA_NETWORK_LOGS\"\n  status      = \"ENABLED\"\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/lambda-protection.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.6"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: |metadata, context, findings| feature_enabled(metadata, context, findings, "LAMBDA_NETWORK_LOGS"),
};
pub static MALWARE_PROTECTION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_malware_protection_enabled",
        title: "GuardDuty Malware Protection for EC2 is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without Malware Protection, EBS volumes of instances flagged by GuardDuty are not scanned for malware.",
        remediation: Remediation {
            text: "Enable the EBS_MALWARE_PROTECTION feature on the region's GuardDuty detector.",
            cli: "aws guardduty update-detector --detector-id DETECTOR_ID --features Name=EBS_MALWARE_PROTECTION,Status=ENABLED",
            terraform: "resource \"aws_guardduty_detector_feature\" \"feature\" {\n  detector_id = aws_guardduty_detector.main.id\n  name        = \"EBS_MALWARE_PROTECTION\"\n  status      = \"ENABLED\"\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.8"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: |metadata, context, findings| feature_enabled(metadata, context, findings, "EBS_MALWARE_PROTECTION"),
};
pub static RUNTIME_MONITORING_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "guardduty_runtime_monitoring_enabled",
        title: "GuardDuty Runtime Monitoring is enabled in every region",
        service: "guardduty",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without Runtime Monitoring, process-level threats on EC2, ECS and EKS workloads (reverse shells, privilege escalation) are not detected.",
        remediation: Remediation {
            text: "Enable the RUNTIME_MONITORING feature on the region's GuardDuty detector.",
            cli: "aws guardduty update-detector --detector-id DETECTOR_ID --features Name=RUNTIME_MONITORING,Status=ENABLED",
            terraform: "resource \"aws_guardduty_detector_feature\" \"feature\" {\n  detector_id = aws_guardduty_detector.main.id\n  name        = \"RUNTIME_MONITORING\"\n  status      = \"ENABLED\"\n}",
        },
        references: &["https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring.html"],
        frameworks: &[("aws-fsbp", "GuardDuty.11"), ("nist-800-53-r5", "SI-4")],
        reads: DETECTORS,
    },
    run: |metadata, context, findings| feature_enabled(metadata, context, findings, "RUNTIME_MONITORING"),
};

#[cfg(test)]
mod tests {
    use vigil_model::security::DetectorFeature;

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn detector(status: &str, features: &[(&str, &str)]) -> Detector {
        Detector {
            detector_id: "d1".into(),
            status: Some(status.into()),
            features: features.iter().map(|(name, status)| DetectorFeature { name: name.to_string(), status: Some(status.to_string()) }).collect(),
            ..Detector::default()
        }
    }

    fn check(check: &dyn Check, detectors: Vec<Detector>) -> Status {
        let mut inventory = inventory();
        read(&mut inventory, "guardduty", "us-east-1", "ListDetectors", None);
        for detector in &detectors {
            read(&mut inventory, "guardduty", "us-east-1", "GetDetector", Some(&detector.detector_id));
        }
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().guardduty_detectors = detectors;
        let findings = run(check, &inventory);
        assert_eq!(findings.len(), 1);
        findings[0].status
    }

    #[test]
    fn guardduty_must_have_an_enabled_detector_in_the_region() {
        assert_eq!(check(&ENABLED, vec![]), Fail);
        assert_eq!(check(&ENABLED, vec![detector("DISABLED", &[])]), Fail);
        assert_eq!(check(&ENABLED, vec![detector("ENABLED", &[])]), Pass);
    }

    #[test]
    fn features_must_be_enabled_on_an_enabled_detector() {
        assert_eq!(check(&S3_PROTECTION_ENABLED, vec![detector("ENABLED", &[("S3_DATA_EVENTS", "ENABLED")])]), Pass);
        assert_eq!(check(&S3_PROTECTION_ENABLED, vec![detector("ENABLED", &[("S3_DATA_EVENTS", "DISABLED")])]), Fail);
        assert_eq!(check(&S3_PROTECTION_ENABLED, vec![detector("DISABLED", &[("S3_DATA_EVENTS", "ENABLED")])]), Fail);
        assert_eq!(check(&RUNTIME_MONITORING_ENABLED, vec![detector("ENABLED", &[("S3_DATA_EVENTS", "ENABLED")])]), Fail);
        let all = [
            ("EKS_AUDIT_LOGS", "ENABLED"),
            ("RDS_LOGIN_EVENTS", "ENABLED"),
            ("LAMBDA_NETWORK_LOGS", "ENABLED"),
            ("EBS_MALWARE_PROTECTION", "ENABLED"),
            ("RUNTIME_MONITORING", "ENABLED"),
        ];
        for feature_check in
            [&EKS_AUDIT_LOGS_ENABLED, &RDS_PROTECTION_ENABLED, &LAMBDA_PROTECTION_ENABLED, &MALWARE_PROTECTION_ENABLED, &RUNTIME_MONITORING_ENABLED]
        {
            assert_eq!(check(feature_check, vec![detector("ENABLED", &all)]), Pass, "{}", feature_check.metadata.id);
        }
    }

    #[test]
    fn a_denied_detector_read_is_an_error_not_a_pass() {
        let mut inventory = inventory();
        read(&mut inventory, "guardduty", "us-east-1", "ListDetectors", None);
        record(&mut inventory, "guardduty", "us-east-1", "GetDetector", Some("d1"), denied());
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().guardduty_detectors = vec![Detector { detector_id: "d1".into(), ..Detector::default() }];
        assert_eq!(run(&ENABLED, &inventory)[0].status, Error);
        assert_eq!(run(&S3_PROTECTION_ENABLED, &inventory)[0].status, Error);
    }
}
