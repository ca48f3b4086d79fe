//! The attack-path check: a path from the internet through compute, the role it runs with and
//! escalation to an admin-equivalent principal or to sensitive data (`vigil-paths`).

use std::collections::BTreeMap;

use serde_json::json;
use vigil_model::analysis::AttackPath;
use vigil_paths::{HostFacts, Options, Sensitivity, TagRule};

use super::FnCheck;
use crate::context::Context;
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The exposure engine's inputs and the IAM policies.
const READS: &[Read] = &[
    Read::global("iam", "GetAccountAuthorizationDetails"),
    Read::regional("ec2", "DescribeInstances"),
    Read::regional("ec2", "DescribeNetworkInterfaces"),
    Read::regional("ec2", "DescribeSecurityGroups"),
    Read::regional("ec2", "DescribeNetworkAcls"),
    Read::regional("ec2", "DescribeRouteTables"),
    Read::regional("ec2", "DescribeInternetGateways"),
    Read::regional("ec2", "DescribeSubnets"),
];

/// The cloud-aware policy parameter listing the tags that mark data sensitive (`Key` or
/// `Key=Value`), and the one listing ARN patterns of sensitive data.
pub const SENSITIVE_TAGS_PARAMETER: &str = "sensitive_data_tags";
pub const SENSITIVE_ARNS_PARAMETER: &str = "sensitive_data_arns";

/// What makes data sensitive, from the cloud-aware policy (account scope) or the defaults:
/// the one reading of these parameters, for the check and for `vigil paths`.
pub fn sensitivity(context: &Context<'_>) -> Sensitivity {
    let account = context.account_subject();
    let tags = context.strings(&account, SENSITIVE_TAGS_PARAMETER, vigil_paths::DEFAULT_SENSITIVE_TAGS);
    let arns = context.strings(&account, SENSITIVE_ARNS_PARAMETER, &[]);
    Sensitivity { tags: tags.iter().map(|tag| TagRule::parse(tag)).collect(), arns }
}

pub static INTERNET_TO_ADMIN_OR_SENSITIVE_DATA: FnCheck = FnCheck {
    metadata: Metadata {
        id: "attack_path_internet_to_admin_or_sensitive_data",
        title: "No path leads from the internet to an admin-equivalent principal or to sensitive data",
        service: "attack_path",
        resource_type: "AWS::::Account",
        severity: Severity::Critical,
        risk: "An instance or function the internet can reach runs with a role that can read sensitive data or become admin (directly or by escalation): one exploited service hands the attacker the data or the account. This is the toxic combination attackers look for first.",
        remediation: Remediation {
            text: "Apply the minimal cut `vigil paths` prints: usually the security group rule that lets the internet in (linked to its `vigil fix` fixer), else the instance profile or the statement that grants the access.",
            cli: "vigil paths --format json\nvigil fix --check ec2_security_group_admin_ports_open_to_world",
            terraform: "# Remove the ingress rule from 0.0.0.0/0 named by `vigil paths`, or narrow the role's policy.",
        },
        references: &["https://docs.aws.amazon.com/securityhub/latest/userguide/exposure-findings.html", "https://pathfinding.cloud/"],
        frameworks: &[("nist-800-53-r5", "AC-6"), ("nist-800-53-r5", "SC-7")],
        reads: READS,
    },
    run: internet_to_admin_or_sensitive_data,
};

fn internet_to_admin_or_sensitive_data(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let no_facts = HostFacts::default();
    let hosts = context.host_facts().unwrap_or(&no_facts);
    let network = context.network();
    let account = context.account();
    let options = Options { sensitivity: sensitivity(context), ..Options::default() };
    let report = vigil_paths::attack_paths(context.inventory, &network, account, hosts, &options);
    let mut by_target: BTreeMap<&str, Vec<&AttackPath>> = BTreeMap::new();
    for path in report.paths.iter().filter(|path| path.source == "internet") {
        by_target.entry(path.target.as_str()).or_default().push(path);
    }
    let account_subject = context.account_subject();
    if by_target.is_empty() {
        let message = format!(
            "No path leads from the internet to an admin-equivalent principal or to sensitive data ({} resource(s) marked sensitive).",
            report.sensitive.len()
        );
        findings.push(context.verdict(metadata, &account_subject, true, message, json!({ "Sensitive": report.sensitive.len() })));
        return;
    }
    for (target, paths) in by_target {
        let subject = context
            .resources()
            .iter()
            .find(|resource| resource.arn == target)
            .map(|resource| context.subject(resource))
            .unwrap_or_else(|| std::borrow::Cow::Borrowed(&account_subject));
        let best = paths.first().copied();
        let route: Vec<String> = best.map(|path| path.hops.iter().map(|hop| format!("{} ({})", hop.to, hop.via)).collect()).unwrap_or_default();
        let cut: Vec<String> = best.map(|path| path.cut.iter().map(|change| change.change.clone()).collect()).unwrap_or_default();
        let message = format!(
            "`{target}` is reachable from the internet by {} path(s); the highest scored ({}): internet → {}; cut: {}.",
            paths.len(),
            best.map(|path| path.score).unwrap_or_default(),
            route.join(" → "),
            cut.join("; ")
        );
        let shown: Vec<&AttackPath> = paths.iter().copied().take(5).collect();
        findings.push(context.verdict(metadata, &subject, false, message, json!({ "Paths": shown, "PathCount": paths.len() })));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vigil_model::ec2::*;
    use vigil_model::iam::{InlinePolicy, InstanceProfile, Role};
    use vigil_model::s3::Bucket;

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::{ACCOUNT, inventory, read_declared, run, statuses};

    /// One instance in a public subnet running as `reader`; `ssh_open` adds SSH from the world
    /// to its group, `can_read` lets the role read the tagged bucket's objects.
    fn account(ssh_open: bool, can_read: bool) -> vigil_model::Inventory {
        let mut inventory = inventory();
        let regional = inventory.regional.get_mut(&vigil_model::Region::new("us-east-1")).unwrap();
        let ec2 = &mut regional.ec2;
        ec2.vpcs.push(Vpc { vpc_id: "vpc-1".into(), cidr_block: Some("10.0.0.0/16".into()), ..Default::default() });
        ec2.internet_gateways.push(InternetGateway {
            internet_gateway_id: "igw-1".into(),
            attachments: vec![GatewayAttachment { vpc_id: "vpc-1".into(), state: Some("available".into()) }],
            ..Default::default()
        });
        ec2.subnets.push(Subnet { subnet_id: "subnet-1".into(), vpc_id: "vpc-1".into(), cidr_block: Some("10.0.1.0/24".into()), ..Default::default() });
        ec2.route_tables.push(RouteTable {
            route_table_id: "rtb-1".into(),
            vpc_id: Some("vpc-1".into()),
            routes: vec![Route { destination_cidr_block: Some("0.0.0.0/0".into()), gateway_id: Some("igw-1".into()), ..Default::default() }],
            associations: vec![RouteTableAssociation { subnet_id: Some("subnet-1".into()), ..Default::default() }],
            ..Default::default()
        });
        ec2.network_acls.push(NetworkAcl {
            network_acl_id: "acl-1".into(),
            vpc_id: Some("vpc-1".into()),
            is_default: true,
            entries: [false, true]
                .into_iter()
                .map(|egress| NetworkAclEntry {
                    rule_number: 100,
                    protocol: "-1".into(),
                    rule_action: "allow".into(),
                    egress,
                    cidr_block: Some("0.0.0.0/0".into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        let ssh = IpPermission {
            ip_protocol: "tcp".into(),
            from_port: Some(22),
            to_port: Some(22),
            ip_ranges: vec![IpRange { cidr_ip: "0.0.0.0/0".into(), description: None }],
            ..Default::default()
        };
        ec2.security_groups.push(SecurityGroup {
            group_id: "sg-1".into(),
            vpc_id: Some("vpc-1".into()),
            ip_permissions: if ssh_open { vec![ssh] } else { Vec::new() },
            ..Default::default()
        });
        let profile = format!("arn:aws:iam::{ACCOUNT}:instance-profile/reader");
        ec2.instances.push(Instance {
            instance_id: "i-1".into(),
            state: InstanceState { name: "running".into(), code: Some(16) },
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some("subnet-1".into()),
            public_ip_address: Some("54.0.0.1".into()),
            security_groups: vec![GroupIdentifier { group_id: "sg-1".into(), group_name: None }],
            iam_instance_profile: Some(IamInstanceProfile { arn: profile.clone(), id: None }),
            ..Default::default()
        });
        let action = if can_read { "s3:GetObject" } else { "s3:ListBucket" };
        inventory.iam.roles.push(Role {
            role_name: "reader".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/reader"),
            role_policy_list: vec![InlinePolicy {
                policy_name: "data".into(),
                policy_document: json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": action, "Resource": "arn:aws:s3:::payroll/*" }] }),
            }],
            instance_profile_list: vec![InstanceProfile { instance_profile_name: "reader".into(), instance_profile_id: "AIPA1".into(), arn: profile }],
            ..Role::default()
        });
        inventory.s3.buckets.push(Bucket {
            name: "payroll".into(),
            region: "us-east-1".into(),
            tags: [("DataClassification".to_string(), "Confidential".to_string())].into_iter().collect(),
            ..Bucket::default()
        });
        read_declared(&mut inventory, &INTERNET_TO_ADMIN_OR_SENSITIVE_DATA);
        inventory
    }

    #[test]
    fn an_exposed_instance_whose_role_reads_sensitive_data_fails_and_its_twins_pass() {
        let findings = run(&INTERNET_TO_ADMIN_OR_SENSITIVE_DATA, &account(true, true));
        assert_eq!(statuses(&findings), vec![("payroll".to_string(), Status::Fail)], "{findings:#?}");
        assert!(findings[0].message.contains("sg-1"), "{}", findings[0].message);
        for (ssh_open, can_read) in [(false, true), (true, false)] {
            let findings = run(&INTERNET_TO_ADMIN_OR_SENSITIVE_DATA, &account(ssh_open, can_read));
            assert_eq!(statuses(&findings), vec![(ACCOUNT.to_string(), Status::Pass)], "{ssh_open} {can_read}: {findings:#?}");
        }
    }

    #[test]
    fn a_bucket_where_the_object_sampler_found_secrets_is_sensitive_data_without_a_tag() {
        let sampled = |kinds: &[&str]| {
            let mut inventory = account(true, true);
            let bucket = inventory.s3.buckets.iter_mut().find(|bucket| bucket.name == "payroll").unwrap();
            bucket.tags.clear();
            bucket.sensitive_data = Some(vigil_model::sensitive::SensitiveDataSample {
                objects_sampled: vec!["exports/q1.csv".into()],
                bytes_read: 100,
                kinds: kinds.iter().map(|kind| kind.to_string()).collect(),
                findings: Vec::new(),
            });
            run(&INTERNET_TO_ADMIN_OR_SENSITIVE_DATA, &inventory)
        };
        let findings = sampled(&["card_number"]);
        assert_eq!(statuses(&findings), vec![("payroll".to_string(), Status::Fail)], "{findings:#?}");
        let findings = sampled(&[]);
        assert_eq!(statuses(&findings), vec![(ACCOUNT.to_string(), Status::Pass)], "a sample that found nothing: {findings:#?}");
    }

    #[test]
    fn the_policy_decides_which_tags_mark_data_sensitive() {
        let policy = crate::policy::Policy::parse("parameters:\n  sensitive_data_tags: [\"owner=payroll\"]\n", "test").unwrap();
        let inventory = account(true, true);
        let context = Context::with_policy(&inventory, chrono::Utc::now(), &policy);
        let mut findings = Vec::new();
        crate::Check::run(&INTERNET_TO_ADMIN_OR_SENSITIVE_DATA, &context, &mut findings);
        assert_eq!(statuses(&findings), vec![(ACCOUNT.to_string(), Status::Pass)], "{findings:#?}");
    }
}
