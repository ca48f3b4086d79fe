//! Security Hub checks: the hub enabled in every region, with the FSBP and CIS standards.

use serde_json::json;
use vigil_model::RegionalInventory;

use super::FnCheck;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// Whether the hub is enabled, which every check of this family reads.
const HUB: &[Read] = &[Read::regional("securityhub", "DescribeHub")];

pub static ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "securityhub_enabled",
        title: "Security Hub is enabled in every region",
        service: "securityhub",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without Security Hub, findings from GuardDuty, Inspector, Macie and control checks are not aggregated and nobody is alerted to them.",
        remediation: Remediation {
            text: "Enable Security Hub in every region, ideally for the organization from a delegated administrator.",
            cli: "aws securityhub enable-security-hub --enable-default-standards --region REGION",
            terraform: "resource \"aws_securityhub_account\" \"main\" {\n  enable_default_standards = true\n}",
        },
        references: &["https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html"],
        frameworks: &[("cis-aws-5.0", "4.16"), ("nist-800-53-r5", "CA-7"), ("nist-800-53-r5", "SI-4")],
        reads: HUB,
    },
    run: enabled,
};

fn enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        let subject = context.region_subject(region);
        findings.push(context.decide(metadata, &subject, &[], || {
            let hub = regional.security_hub.as_ref();
            let message = if hub.is_some() { format!("Security Hub is enabled in {region}.") } else { format!("Security Hub is not enabled in {region}.") };
            (hub.is_some(), message, json!({ "HubArn": hub.map(|hub| &hub.hub_arn), "SubscribedAt": hub.and_then(|hub| hub.subscribed_at.as_ref()) }))
        }));
    }
}

/// Judges whether a standard whose ARN contains `marker` is subscribed and ready in every region.
fn standard_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, marker: &str, name: &str) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        let subject = context.region_subject(region);
        let mut needs = Vec::new();
        if regional.security_hub.is_some() {
            needs.push(Needs::call("securityhub", region, "GetEnabledStandards"));
        }
        findings.push(context.decide(metadata, &subject, &needs, || judge_standard(regional, region, marker, name)));
    }
}

fn judge_standard(regional: &RegionalInventory, region: &str, marker: &str, name: &str) -> (bool, String, serde_json::Value) {
    let Some(hub) = &regional.security_hub else {
        // `name` opens a sentence elsewhere; here it follows "so", in lower case.
        let name: String = name.chars().take(1).flat_map(char::to_lowercase).chain(name.chars().skip(1)).collect();
        return (false, format!("Security Hub is not enabled in {region}, so {name} is not assessed."), json!({ "StandardsSubscriptions": [] }));
    };
    let subscription = hub.standards_subscriptions.iter().find(|subscription| subscription.standards_arn.contains(marker));
    let ready = subscription.is_some_and(|subscription| subscription.standards_status.as_deref().is_none_or(|status| status == "READY" || status == "PENDING"));
    let message = match subscription {
        Some(subscription) if ready => format!("{name} is enabled in {region} ({}).", subscription.standards_arn),
        Some(subscription) => format!("{name} is subscribed in {region} but its status is {}.", subscription.standards_status.as_deref().unwrap_or("unknown")),
        None => format!("{name} is not enabled in {region}."),
    };
    (ready, message, json!({ "StandardsSubscriptions": hub.standards_subscriptions }))
}

pub static FSBP_STANDARD_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "securityhub_fsbp_standard_enabled",
        title: "Security Hub runs the AWS Foundational Security Best Practices standard in every region",
        service: "securityhub",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Without a standard subscribed, Security Hub aggregates findings but does not assess your configuration continuously.",
        remediation: Remediation {
            text: "Subscribe to the AWS Foundational Security Best Practices standard in every region.",
            cli: "aws securityhub batch-enable-standards --standards-subscription-requests StandardsArn=arn:aws:securityhub:REGION::standards/aws-foundational-security-best-practices/v/1.0.0",
            terraform: "resource \"aws_securityhub_standards_subscription\" \"fsbp\" {\n  standards_arn = \"arn:aws:securityhub:${var.region}::standards/aws-foundational-security-best-practices/v/1.0.0\"\n}",
        },
        references: &["https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html"],
        frameworks: &[("nist-800-53-r5", "CA-7")],
        reads: HUB,
    },
    run: fsbp_standard_enabled,
};

fn fsbp_standard_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    standard_enabled(metadata, context, findings, "aws-foundational-security-best-practices", "The AWS Foundational Security Best Practices standard");
}

pub static CIS_STANDARD_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "securityhub_cis_standard_enabled",
        title: "Security Hub runs a CIS AWS Foundations Benchmark standard in every region",
        service: "securityhub",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Without the CIS standard, drift from the CIS benchmark is not reported continuously between scans.",
        remediation: Remediation {
            text: "Subscribe to the CIS AWS Foundations Benchmark standard (v5.0.0) in every region.",
            cli: "aws securityhub batch-enable-standards --standards-subscription-requests StandardsArn=arn:aws:securityhub:REGION::standards/cis-aws-foundations-benchmark/v/5.0.0",
            terraform: "resource \"aws_securityhub_standards_subscription\" \"cis\" {\n  standards_arn = \"arn:aws:securityhub:${var.region}::standards/cis-aws-foundations-benchmark/v/5.0.0\"\n}",
        },
        references: &["https://docs.aws.amazon.com/securityhub/latest/userguide/cis-aws-foundations-benchmark.html"],
        frameworks: &[("nist-800-53-r5", "CA-7")],
        reads: HUB,
    },
    run: cis_standard_enabled,
};

fn cis_standard_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    standard_enabled(metadata, context, findings, "cis-aws-foundations-benchmark", "A CIS AWS Foundations Benchmark standard");
}

#[cfg(test)]
mod tests {
    use vigil_model::Outcome;
    use vigil_model::security::{SecurityHub, StandardsSubscription};

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn check(check: &dyn Check, hub: Option<SecurityHub>) -> Status {
        let mut inventory = inventory();
        if hub.is_some() {
            read(&mut inventory, "securityhub", "us-east-1", "DescribeHub", None);
            read(&mut inventory, "securityhub", "us-east-1", "GetEnabledStandards", None);
        } else {
            record(&mut inventory, "securityhub", "us-east-1", "DescribeHub", None, Outcome::NotConfigured { code: "InvalidAccessException".into() });
        }
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().security_hub = hub;
        run(check, &inventory)[0].status
    }

    fn hub(standards: &[&str]) -> SecurityHub {
        SecurityHub {
            hub_arn: "arn:aws:securityhub:us-east-1:123456789012:hub/default".into(),
            standards_subscriptions: standards
                .iter()
                .map(|arn| StandardsSubscription { standards_arn: arn.to_string(), standards_status: Some("READY".into()), ..Default::default() })
                .collect(),
            ..SecurityHub::default()
        }
    }

    #[test]
    fn the_hub_and_its_standards_are_judged_per_region() {
        let fsbp = "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0";
        let cis = "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/5.0.0";
        assert_eq!(check(&ENABLED, None), Fail);
        assert_eq!(check(&ENABLED, Some(hub(&[]))), Pass);
        assert_eq!(check(&FSBP_STANDARD_ENABLED, None), Fail);
        assert_eq!(check(&FSBP_STANDARD_ENABLED, Some(hub(&[cis]))), Fail);
        assert_eq!(check(&FSBP_STANDARD_ENABLED, Some(hub(&[fsbp]))), Pass);
        assert_eq!(check(&CIS_STANDARD_ENABLED, Some(hub(&[fsbp, cis]))), Pass);
    }

    #[test]
    fn a_missing_hub_reads_as_one_sentence() {
        let mut inventory = inventory();
        record(&mut inventory, "securityhub", "us-east-1", "DescribeHub", None, Outcome::NotConfigured { code: "InvalidAccessException".into() });
        assert_eq!(
            run(&CIS_STANDARD_ENABLED, &inventory)[0].message.as_str(),
            "Security Hub is not enabled in us-east-1, so a CIS AWS Foundations Benchmark standard is not assessed."
        );
    }

    #[test]
    fn a_denied_describe_hub_is_an_error() {
        let mut inventory = inventory();
        record(&mut inventory, "securityhub", "us-east-1", "DescribeHub", None, denied());
        assert_eq!(run(&ENABLED, &inventory)[0].status, Error);
        assert_eq!(run(&CIS_STANDARD_ENABLED, &inventory)[0].status, Error);
    }
}
