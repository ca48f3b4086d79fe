//! Policy checks: data sovereignty (resources only in the regions the cloud-aware policy allows).

use serde_json::json;
use vigil_model::Region;

use super::FnCheck;
use super::support::RESOURCE_LISTINGS;
use crate::context::Context;
use crate::policy::Scope;
use crate::{Finding, Metadata, Remediation, Severity};

pub static RESOURCE_REGION_ALLOWED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "policy_resource_region_allowed",
        title: "Resources live only in the regions the policy allows",
        service: "policy",
        resource_type: "AWS::::Resource",
        severity: Severity::High,
        risk: "Data stored outside the regions a regulation or contract allows (data sovereignty, residency) is a compliance breach. The allowed regions come from the cloud-aware policy (`allowed_regions`, top-level or per rule); without them this check reports nothing.",
        remediation: Remediation {
            text: "Move the resource (or its data) to an allowed region and delete it where it is, or amend the policy if the region is in fact allowed. Consider an SCP that denies actions outside the allowed regions.",
            cli: "aws organizations create-policy --type SERVICE_CONTROL_POLICY --name allowed-regions --description 'Deny outside allowed regions' --content file://deny-other-regions.json",
            terraform: "data \"aws_iam_policy_document\" \"regions\" {\n  statement {\n    effect      = \"Deny\"\n    not_actions = [\"iam:*\", \"organizations:*\", \"sts:*\", \"support:*\"]\n    resources   = [\"*\"]\n    condition {\n      test     = \"StringNotEquals\"\n      variable = \"aws:RequestedRegion\"\n      values   = [\"ap-southeast-2\", \"eu-west-1\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html#example-scp-deny-region"],
        frameworks: &[("nist-800-53-r5", "SC-36")],
        reads: &[],
    },
    run: resource_region_allowed,
};

fn resource_region_allowed(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let Some(policy) = context.policy() else { return };
    if !policy.restricts_regions() {
        return;
    }
    // Under a policy that restricts regions, every listing is an input: a listing that failed
    // in a region may hide resources there.
    context.run_with_reads(metadata, RESOURCE_LISTINGS, findings, |findings| judge_regions(metadata, context, policy, findings));
}

fn judge_regions(metadata: &Metadata, context: &Context<'_>, policy: &crate::policy::Policy, findings: &mut Vec<Finding>) {
    let account = context.account_id();
    for resource in context.resources() {
        if resource.region == Region::GLOBAL {
            continue;
        }
        let subject = context.subject(resource);
        let Some(allowed) = policy.allowed_regions(context.inventory, &Scope::of(account, &subject)) else { continue };
        let inside = allowed.iter().any(|region| region == resource.region);
        let message = if inside {
            format!("{} `{}` is in {}, an allowed region.", resource.resource_type, resource.id, resource.region)
        } else {
            format!("{} `{}` is in {}, outside the allowed regions ({}).", resource.resource_type, resource.id, resource.region, allowed.join(", "))
        };
        findings.push(context.verdict(metadata, &subject, inside, message, json!({ "Region": resource.region, "AllowedRegions": allowed })));
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::ec2::Vpc;

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;
    use crate::policy::Policy;

    fn run_with(policy_text: &str) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        for region in ["eu-west-1", "us-east-1"] {
            let mut regional = vigil_model::RegionalInventory::default();
            regional.ec2.vpcs.push(Vpc { vpc_id: format!("vpc-{region}"), ..Vpc::default() });
            inventory.regional.insert(region.into(), regional);
        }
        inventory.regions = vec!["eu-west-1".into(), "us-east-1".into()];
        for listing in RESOURCE_LISTINGS {
            for region in ["eu-west-1", "us-east-1", Region::GLOBAL] {
                read(&mut inventory, listing.service, region, listing.operation, None);
            }
        }
        let policy = Policy::parse(policy_text, "policy.yaml").unwrap();
        let context = Context::with_policy(&inventory, chrono::Utc::now(), &policy);
        let mut findings = Vec::new();
        crate::Check::run(&RESOURCE_REGION_ALLOWED, &context, &mut findings);
        statuses(&findings)
    }

    #[test]
    fn resources_outside_the_allowed_regions_fail() {
        let cases: Vec<(&str, Vec<(String, Status)>)> = vec![
            ("{}", vec![]),
            ("allowed_regions: [eu-west-1]", vec![("vpc-eu-west-1".into(), Status::Pass), ("vpc-us-east-1".into(), Status::Fail)]),
            (
                "allowed_regions: [eu-west-1]\nrules:\n  - name: us ok for vpcs\n    match: { resource_types: [\"AWS::EC2::VPC\"] }\n    allowed_regions: [us-east-1]",
                vec![("vpc-eu-west-1".into(), Status::Fail), ("vpc-us-east-1".into(), Status::Pass)],
            ),
        ];
        for (policy, expected) in cases {
            assert_eq!(run_with(policy), expected, "{policy}");
        }
    }
}
