//! The attack-path check: a path from the internet through compute, the role it runs with and
//! escalation to an admin-equivalent principal or to sensitive data (`vigil-paths`).

use std::collections::BTreeMap;

use serde_json::json;
use vigil_iam::account::Account;
use vigil_model::analysis::AttackPath;
use vigil_net::Network;
use vigil_paths::{HostFacts, Options, Sensitivity, TagRule};

use super::FnCheck;
use crate::context::{Context, Subject};
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
        service: "account",
        resource_type: "AWS::::Account",
        severity: Severity::Critical,
        risk: "An instance or function the internet can reach runs with a role that can read sensitive data or become admin (directly or by escalation): one exploited service hands the attacker the data or the account. This is the toxic combination attackers look for first.",
        remediation: Remediation {
            text: "Apply the minimal cut `vigil paths` prints: usually the security group rule that lets the internet in (linked to its `vigil fix` fixer), else the instance profile or the statement that grants the access.",
            cli: "vigil paths --format json\nvigil fix --check ec2_security_group_admin_ports_open_to_world",
            terraform: "# Remove the ingress rule from 0.0.0.0/0 named by `vigil paths`, or narrow the role's policy.",
        },
        references: &[
            "https://docs.aws.amazon.com/securityhub/latest/userguide/exposure-findings.html",
            "https://pathfinding.cloud/",
        ],
        frameworks: &[("nist-800-53-r5", "AC-6"), ("nist-800-53-r5", "SC-7")],
        reads: READS,
    },
    run: internet_to_admin_or_sensitive_data,
};

fn internet_to_admin_or_sensitive_data(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let network = Network::new(context.inventory);
    let account = Account::from_inventory(context.inventory);
    let options = Options { sensitivity: sensitivity(context), ..Options::default() };
    let report = vigil_paths::attack_paths(context.inventory, &network, &account, &HostFacts::default(), &options);
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
        let subject = context.resources().iter().find(|resource| resource.arn == target).map(Subject::from).unwrap_or_else(|| account_subject.clone());
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
