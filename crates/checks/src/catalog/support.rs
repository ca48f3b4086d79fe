//! The helpers every check family shares, in one place: iterating resources (from the
//! context's per-type index, or the typed lists of each region), subjects, verdicts that cannot
//! be decided from what was read, ages, policy documents (public grants and TLS-only policies,
//! both decided by the IAM engine's one rule in `vigil_iam::publicity`), and CIDR arithmetic.
//!
//! Whether a check's inputs were read is not decided here: the runner does it once for every
//! check from the check's declared reads ([`crate::Context::run_check`]), and per-resource calls
//! go through [`crate::Context::decide`].

use std::borrow::Cow;

use serde_json::{Value, json};
use vigil_model::autoscaling::{AutoScalingGroup, LaunchConfiguration};
use vigil_model::dynamodb::Table;
use vigil_model::elasticache::{CacheCluster, ReplicationGroup};
use vigil_model::elb::{ClassicLoadBalancer, LoadBalancer};
use vigil_model::rds::{DbCluster, DbInstance, DbSnapshot};
use vigil_model::redshift::RedshiftCluster;
use vigil_model::resource::ResourceRef;
use vigil_model::{Inventory, Region, RegionalInventory, Tags, Timestamp};

use crate::context::{Context, Needs, Subject, Unread};
use crate::{Finding, Metadata};

pub(crate) const GLOBAL: &str = Region::GLOBAL;

/// Every listing whose answers become resources of the inventory (`Inventory::resources`).
pub(crate) const RESOURCE_LISTINGS: &[crate::Read] = &[
    crate::Read::global("s3", "ListBuckets"),
    crate::Read::regional("ec2", "DescribeInstances"),
    crate::Read::regional("ec2", "DescribeImages"),
    crate::Read::regional("ec2", "DescribeVolumes"),
    crate::Read::regional("ec2", "DescribeSnapshots"),
    crate::Read::regional("ec2", "DescribeSecurityGroups"),
    crate::Read::regional("ec2", "DescribeNetworkAcls"),
    crate::Read::regional("ec2", "DescribeRouteTables"),
    crate::Read::regional("ec2", "DescribeSubnets"),
    crate::Read::regional("ec2", "DescribeVpcs"),
    crate::Read::regional("ec2", "DescribeInternetGateways"),
    crate::Read::regional("ec2", "DescribeNatGateways"),
    crate::Read::regional("ec2", "DescribeNetworkInterfaces"),
    crate::Read::regional("ec2", "DescribeLaunchTemplates"),
    crate::Read::regional("ec2", "DescribeAddresses"),
    crate::Read::regional("cloudtrail", "DescribeTrails"),
    crate::Read::regional("logs", "DescribeLogGroups"),
    crate::Read::regional("cloudwatch", "DescribeAlarms"),
    crate::Read::regional("sns", "ListTopics"),
    crate::Read::regional("kms", "ListKeys"),
    crate::Read::regional("config", "DescribeConfigurationRecorders"),
    crate::Read::regional("elbv2", "DescribeLoadBalancers"),
    crate::Read::regional("elbv2", "DescribeTargetGroups"),
    crate::Read::regional("elb", "DescribeLoadBalancers"),
    crate::Read::regional("rds", "DescribeDBInstances"),
    crate::Read::regional("rds", "DescribeDBClusters"),
    crate::Read::regional("rds", "DescribeDBSnapshots"),
    crate::Read::regional("rds", "DescribeDBClusterSnapshots"),
    crate::Read::regional("redshift", "DescribeClusters"),
    crate::Read::regional("elasticache", "DescribeReplicationGroups"),
    crate::Read::regional("elasticache", "DescribeCacheClusters"),
    crate::Read::regional("dynamodb", "ListTables"),
    crate::Read::regional("autoscaling", "DescribeAutoScalingGroups"),
    crate::Read::regional("autoscaling", "DescribeLaunchConfigurations"),
    crate::Read::regional("acm", "ListCertificates"),
    crate::Read::regional("sqs", "ListQueues"),
    crate::Read::regional("kinesis", "ListStreams"),
    crate::Read::regional("sesv2", "ListEmailIdentities"),
    crate::Read::regional("lambda", "ListFunctions"),
    crate::Read::regional("guardduty", "ListDetectors"),
    crate::Read::regional("securityhub", "DescribeHub"),
    crate::Read::regional("secretsmanager", "ListSecrets"),
    crate::Read::regional("ecr", "DescribeRepositories"),
];

/// (passed, message, evidence), as [`Context::decide`] takes it.
pub(crate) type Verdict = (bool, String, Value);

/// The regional part of the inventory for `region`, when that region was scanned.
pub(crate) fn regional<'a>(context: &Context<'a>, region: &str) -> Option<&'a RegionalInventory> {
    let inventory: &'a Inventory = context.inventory;
    inventory.regional.iter().find(|(name, _)| name.as_str() == region).map(|(_, regional)| regional)
}

/// Calls `assess` for every resource of `resource_type` (from the context's per-type index),
/// with the subject findings about it name.
pub(crate) fn each_resource<'a>(
    context: &Context<'a>,
    findings: &mut Vec<Finding>,
    resource_type: &str,
    mut assess: impl FnMut(&ResourceRef<'a>, &Subject, &mut Vec<Finding>),
) {
    for resource in context.resources_of_type(resource_type) {
        assess(resource, &context.subject(resource), findings);
    }
}

/// A resource kind kept in [`RegionalInventory`], with the identity findings name it by.
/// ARNs and types match `Inventory::resources()`.
pub(crate) trait RegionalResource: Sized {
    fn list(regional: &RegionalInventory) -> &[Self];
    fn resource_type(&self) -> &'static str;
    fn arn(&self, inventory: &Inventory, region: &str) -> String;
    fn id(&self) -> &str;
    fn tags(&self) -> Option<&Tags> {
        None
    }
}

macro_rules! regional_resource {
    ($ty:ty, $field:ident, $type_name:literal, |$item:ident, $inventory:ident, $region:ident| $arn:expr, |$id_item:ident| $id:expr, $tags:expr) => {
        impl RegionalResource for $ty {
            fn list(regional: &RegionalInventory) -> &[Self] {
                &regional.$field
            }
            fn resource_type(&self) -> &'static str {
                $type_name
            }
            fn arn(&self, $inventory: &Inventory, $region: &str) -> String {
                let $item = self;
                let _ = (&$inventory, &$region);
                $arn
            }
            fn id(&self) -> &str {
                let $id_item = self;
                $id
            }
            fn tags(&self) -> Option<&Tags> {
                let tags: fn(&Self) -> Option<&Tags> = $tags;
                tags(self)
            }
        }
    };
}

regional_resource!(
    LoadBalancer,
    load_balancers,
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    |item, inventory, region| item.load_balancer_arn.clone(),
    |item| &item.load_balancer_name,
    |item| Some(&item.tags)
);
regional_resource!(
    ClassicLoadBalancer,
    classic_load_balancers,
    "AWS::ElasticLoadBalancing::LoadBalancer",
    |item, inventory, region| inventory.regional_arn("elasticloadbalancing", region, &format!("loadbalancer/{}", item.load_balancer_name)),
    |item| &item.load_balancer_name,
    |item| Some(&item.tags)
);
regional_resource!(
    DbInstance,
    db_instances,
    "AWS::RDS::DBInstance",
    |item, inventory, region| item.db_instance_arn.clone(),
    |item| &item.db_instance_identifier,
    |item| Some(&item.tags)
);
regional_resource!(
    DbCluster,
    db_clusters,
    "AWS::RDS::DBCluster",
    |item, inventory, region| item.db_cluster_arn.clone(),
    |item| &item.db_cluster_identifier,
    |item| Some(&item.tags)
);
regional_resource!(
    RedshiftCluster,
    redshift_clusters,
    "AWS::Redshift::Cluster",
    |item, inventory, region| item.cluster_arn.clone(),
    |item| &item.cluster_identifier,
    |item| Some(&item.tags)
);
regional_resource!(
    ReplicationGroup,
    replication_groups,
    "AWS::ElastiCache::ReplicationGroup",
    |item, inventory, region| item.arn.clone(),
    |item| &item.replication_group_id,
    |_item| None
);
regional_resource!(
    CacheCluster,
    cache_clusters,
    "AWS::ElastiCache::CacheCluster",
    |item, inventory, region| item.arn.clone(),
    |item| &item.cache_cluster_id,
    |_item| None
);
regional_resource!(Table, dynamodb_tables, "AWS::DynamoDB::Table", |item, inventory, region| item.table_arn.clone(), |item| &item.table_name, |_item| None);
regional_resource!(
    AutoScalingGroup,
    auto_scaling_groups,
    "AWS::AutoScaling::AutoScalingGroup",
    |item, inventory, region| item.auto_scaling_group_arn.clone(),
    |item| &item.auto_scaling_group_name,
    |item| Some(&item.tags)
);
regional_resource!(
    LaunchConfiguration,
    launch_configurations,
    "AWS::AutoScaling::LaunchConfiguration",
    |item, inventory, region| item.launch_configuration_arn.clone(),
    |item| &item.launch_configuration_name,
    |_item| None
);
regional_resource!(
    vigil_model::acm::Certificate,
    certificates,
    "AWS::CertificateManager::Certificate",
    |item, inventory, region| item.certificate_arn.clone(),
    |item| &item.certificate_arn,
    |_item| None
);

impl RegionalResource for DbSnapshot {
    fn list(regional: &RegionalInventory) -> &[Self] {
        &regional.db_snapshots
    }
    fn resource_type(&self) -> &'static str {
        if self.is_cluster_snapshot { "AWS::RDS::DBClusterSnapshot" } else { "AWS::RDS::DBSnapshot" }
    }
    fn arn(&self, _inventory: &Inventory, _region: &str) -> String {
        self.db_snapshot_arn.clone()
    }
    fn id(&self) -> &str {
        &self.db_snapshot_identifier
    }
    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }
}

/// The subject findings about a regional resource name.
pub(crate) fn subject_of<'c, T: RegionalResource>(context: &'c Context<'_>, region: &str, item: &T) -> Cow<'c, Subject> {
    context.item_subject(item, || context.new_subject(&item.arn(context.inventory, region), item.resource_type(), item.id(), region, item.tags()))
}

/// One finding per resource of kind `T` in every scanned region that `judge` applies to:
/// `judge` returns the per-resource calls the verdict depends on and the verdict, or `None`
/// when the check does not apply to the resource.
pub(crate) fn each_regional<'a, T: RegionalResource + 'a>(
    metadata: &Metadata,
    context: &Context<'a>,
    findings: &mut Vec<Finding>,
    mut judge: impl FnMut(&'a T, &'a RegionalInventory, &'a str) -> Option<(Vec<Needs<'a>>, Verdict)>,
) {
    let inventory: &'a Inventory = context.inventory;
    for region in &inventory.regions {
        let region_name: &'a str = region.as_str();
        let Some(regional) = inventory.regional.get(region) else { continue };
        for item in T::list(regional) {
            let Some((needs, verdict)) = judge(item, regional, region_name) else { continue };
            let subject = subject_of(context, region_name, item);
            findings.push(context.decide(metadata, &subject, &needs, || verdict));
        }
    }
}

/// An ERROR finding with a reason that is not a ledger failure (e.g. data AWS did not return).
pub(crate) fn cannot_decide(metadata: &Metadata, context: &Context<'_>, subject: &Subject, message: String, evidence: Value) -> Finding {
    context.unread(metadata, subject, Unread { message, evidence })
}

/// Whole days from `then` to the assessment time (negative in the future).
pub(crate) fn days_since(context: &Context<'_>, then: &Timestamp) -> i64 {
    (context.now - *then).num_days()
}

/// A compact description of a timestamp for messages and evidence.
pub(crate) fn when(timestamp: Option<&Timestamp>) -> Value {
    timestamp.map(|time| json!(time.to_rfc3339())).unwrap_or(Value::Null)
}

/// A string or an array of strings, as policy elements are written.
pub(crate) fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (a single statement object counts as one).
pub(crate) fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(statements)) => statements.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => Vec::new(),
    }
}

/// Allow statements that grant every action on every resource (`"Action": "*"`, `"Resource": "*"`).
pub(crate) fn full_admin_statements(policy: &Value) -> Vec<&Value> {
    statements(policy)
        .into_iter()
        .filter(|statement| statement.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|statement| strings(statement.get("Action")).contains(&"*") && strings(statement.get("Resource")).contains(&"*"))
        .collect()
}

/// A resource policy parsed by the IAM engine, or the reason it cannot be judged.
fn parsed(document: &Value, resource_arn: &str) -> Result<vigil_iam::Policy, Unread> {
    vigil_iam::Policy::parse(document).map_err(|error| Unread {
        message: format!("the policy of `{resource_arn}` cannot be evaluated: {error}"),
        evidence: json!({ "Policy": document, "Problem": error.to_string() }),
    })
}

/// The owner of this account's resources, as the publicity rule needs it, with the RCPs that
/// govern them (`rcps`: [`rcp_levels`]).
fn owner<'a>(context: &'a Context<'_>, resource_arn: &'a str, rcps: &'a [Vec<&'a vigil_iam::Policy>]) -> vigil_iam::publicity::Resource<'a> {
    vigil_iam::publicity::Resource {
        arn: resource_arn,
        account: context.account_id(),
        organization: context.inventory.account.organization.as_ref().map(|organization| organization.id.as_str()),
        partition: context.inventory.partition(),
        rcps,
        management_account: context.organization_levels().management_account.as_deref(),
    }
}

/// The account's RCPs, one list per level, as the publicity rule takes them.
fn rcp_levels<'a>(context: &'a Context<'_>) -> Vec<Vec<&'a vigil_iam::Policy>> {
    context.organization_levels().rcps.iter().map(|level| level.iter().collect()).collect()
}

/// The statements of a resource policy that grant access to anyone (the IAM engine's one rule,
/// `vigil_iam::publicity`), each with its index and Sid, for evidence.
pub(crate) fn public_statements(context: &Context<'_>, document: &Value, resource_arn: &str) -> Result<Vec<Value>, Unread> {
    let policy = parsed(document, resource_arn)?;
    let written = statements(document);
    let rcps = rcp_levels(context);
    Ok(vigil_iam::publicity::public_statements(&policy, &owner(context, resource_arn, &rcps))
        .into_iter()
        .map(|index| {
            let statement = written.get(index).copied().cloned().unwrap_or(Value::Null);
            json!({ "StatementIndex": index, "Sid": statement.get("Sid"), "Statement": statement })
        })
        .collect())
}

/// Whether a resource policy denies requests made without TLS, to every caller, for `action`
/// on each of `arns` (the IAM engine decides; see `vigil_iam::publicity`).
pub(crate) fn denies_insecure_transport(context: &Context<'_>, document: &Value, resource_arn: &str, action: &str, arns: &[&str]) -> Result<bool, Unread> {
    let policy = parsed(document, resource_arn)?;
    // The TLS checks judge the resource's own policy, which their titles name: no RCPs.
    Ok(vigil_iam::publicity::denies_insecure_transport(&policy, &owner(context, resource_arn, &[]), action, arns))
}

/// The AWS account ids a statement's `Principal` names (ARNs or bare ids).
pub(crate) fn statement_principal_accounts(statement: &Value) -> Vec<String> {
    let values = match statement.get("Principal") {
        Some(Value::Object(map)) => strings(map.get("AWS")),
        _ => Vec::new(),
    };
    values
        .into_iter()
        .filter_map(|principal| {
            if principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit()) {
                Some(principal.to_string())
            } else {
                principal.split(':').nth(4).filter(|account| account.len() == 12).map(str::to_string)
            }
        })
        .collect()
}

/// The AWS account ids named as principals in Allow statements (ARNs or bare ids).
pub(crate) fn principal_accounts(policy: &Value) -> Vec<String> {
    let mut accounts: Vec<String> = statements(policy)
        .into_iter()
        .filter(|statement| statement.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .flat_map(statement_principal_accounts)
        .collect();
    accounts.sort();
    accounts.dedup();
    accounts
}

/// A parsed CIDR block: the address as a number, its width (32 or 128) and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: u128,
    width: u8,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.trim().split_once('/')?;
        let prefix: u8 = prefix.parse().ok()?;
        let (value, width) = match address.parse::<std::net::IpAddr>().ok()? {
            std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u8),
            std::net::IpAddr::V6(v6) => (u128::from(v6), 128u8),
        };
        (prefix <= width).then_some(Cidr { network: value & Cidr::mask(width, prefix), width, prefix })
    }

    fn mask(width: u8, prefix: u8) -> u128 {
        let all: u128 = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
        if prefix == 0 { 0 } else { all & !(all >> prefix) }
    }

    /// True when every address of `self` is inside `outer`.
    pub(crate) fn within(&self, outer: &Cidr) -> bool {
        self.width == outer.width && self.prefix >= outer.prefix && (self.network & Cidr::mask(outer.width, outer.prefix)) == outer.network
    }
}

/// True when a CIDR is the whole IPv4 or IPv6 internet.
pub(crate) fn is_world(cidr: &str) -> bool {
    matches!(cidr, "0.0.0.0/0" | "::/0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment_handles_both_families_and_bad_input() {
        let check = |inner: &str, outer: &str| Cidr::parse(inner).zip(Cidr::parse(outer)).is_some_and(|(inner, outer)| inner.within(&outer));
        assert!(check("10.1.2.0/24", "10.0.0.0/8"));
        assert!(check("10.0.0.0/8", "10.0.0.0/8"));
        assert!(!check("0.0.0.0/0", "10.0.0.0/8"));
        assert!(!check("11.0.0.0/8", "10.0.0.0/8"));
        assert!(check("2001:db8::/48", "2001:db8::/32"));
        assert!(!check("::/0", "10.0.0.0/8"));
        assert!(check("1.2.3.4/32", "0.0.0.0/0"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("garbage").is_none());
    }

    #[test]
    fn principal_accounts_come_from_arns_and_bare_ids() {
        let document = json!({ "Statement": [
            { "Effect": "Allow", "Principal": { "AWS": ["arn:aws:iam::111122223333:root", "444455556666"] }, "Action": "*" },
            { "Effect": "Deny", "Principal": { "AWS": "777788889999" }, "Action": "*" },
            { "Effect": "Allow", "Principal": { "Service": "s3.amazonaws.com" }, "Action": "*" }
        ]});
        assert_eq!(principal_accounts(&document), vec!["111122223333".to_string(), "444455556666".to_string()]);
    }
}
