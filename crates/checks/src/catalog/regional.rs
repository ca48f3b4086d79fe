//! Iteration over one kind of regional resource for the ELB, RDS, Redshift, ElastiCache,
//! DynamoDB, Auto Scaling and ACM families: per-region listing coverage, then one finding
//! per resource, reading the typed lists directly (no allocation for other resource kinds).

use serde_json::Value;
use vigil_model::autoscaling::{AutoScalingGroup, LaunchConfiguration};
use vigil_model::dynamodb::Table;
use vigil_model::elasticache::{CacheCluster, ReplicationGroup};
use vigil_model::elb::{ClassicLoadBalancer, LoadBalancer};
use vigil_model::rds::{DbCluster, DbInstance, DbSnapshot};
use vigil_model::redshift::RedshiftCluster;
use vigil_model::{Inventory, RegionalInventory, Tags};

use crate::context::{Context, Needs, Subject};
use crate::{Finding, Metadata};

/// (passed, message, evidence), as [`Context::decide`] takes it.
pub(crate) type Verdict = (bool, String, Value);

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

/// Declares a `pub static` [`crate::catalog::FnCheck`] from its metadata fields, in order:
/// name, service, id, title, resource type, severity, risk, remediation text, CLI, Terraform,
/// reference URL, framework pairs, run function.
macro_rules! fn_check {
    ($name:ident, $service:literal, $id:literal, $title:literal, $resource_type:literal, $severity:ident, $risk:literal, $text:literal, $cli:literal, $terraform:literal, $reference:literal, [$(($framework:literal, $requirement:literal)),*], $run:expr) => {
        pub static $name: $crate::catalog::FnCheck = $crate::catalog::FnCheck {
            metadata: $crate::Metadata {
                id: $id,
                title: $title,
                service: $service,
                resource_type: $resource_type,
                severity: $crate::Severity::$severity,
                risk: $risk,
                remediation: $crate::Remediation { text: $text, cli: $cli, terraform: $terraform },
                references: &[$reference],
                frameworks: &[$(($framework, $requirement)),*],
            },
            run: $run,
        };
    };
}
pub(crate) use fn_check;

pub(crate) fn subject_of<T: RegionalResource>(inventory: &Inventory, region: &str, item: &T) -> Subject {
    Subject {
        arn: item.arn(inventory, region),
        resource_type: item.resource_type().to_string(),
        id: item.id().to_string(),
        region: region.to_string(),
        tags: item.tags().cloned().unwrap_or_default(),
    }
}

/// For every scanned region: one ERROR when the `listing` call of `service` was not read there
/// (the resources are unknown), else one finding per resource `judge` applies to. `judge`
/// returns the per-resource calls the verdict depends on and the verdict, or `None` when the
/// check does not apply to the resource.
pub(crate) fn assess<'a, T: RegionalResource + 'a>(
    metadata: &Metadata,
    context: &Context<'a>,
    findings: &mut Vec<Finding>,
    (service, listing): (&str, &str),
    mut judge: impl FnMut(&'a T, &'a RegionalInventory, &'a str) -> Option<(Vec<Needs<'a>>, Verdict)>,
) {
    let inventory: &'a Inventory = context.inventory;
    for region in &inventory.regions {
        let region_name: &'a str = region.as_str();
        if let Err(unread) = context.require(&[Needs::call(service, region_name, listing)]) {
            findings.push(context.unread(metadata, &context.region_subject(region_name), unread));
            continue;
        }
        let Some(regional) = inventory.regional.get(region) else { continue };
        for item in T::list(regional) {
            let Some((needs, verdict)) = judge(item, regional, region_name) else { continue };
            let subject = subject_of(inventory, region_name, item);
            findings.push(context.decide(metadata, &subject, &needs, || verdict));
        }
    }
}

#[cfg(test)]
pub(crate) mod twins {
    //! A data-driven harness for the families built on [`assess`]: a misconfigured resource
    //! (`bad`) next to a well-configured twin (`good`), then the same with the listing denied.

    use vigil_model::{Inventory, RegionalInventory};

    use crate::Status;
    use crate::catalog::FnCheck;
    use crate::catalog::test_support::*;

    /// One case: the check, its listing call, the per-resource calls (operation, target) to
    /// record as read, and a function that places the `bad` and `good` resources.
    pub(crate) struct Twin {
        pub check: &'static FnCheck,
        pub listing: (&'static str, &'static str),
        /// Further listings of the same service the check reads (recorded as read).
        pub other_listings: &'static [&'static str],
        pub calls: Vec<(&'static str, &'static str)>,
        pub place: fn(&mut RegionalInventory),
    }

    fn build(twin: &Twin) -> Inventory {
        let mut inventory = inventory();
        read(&mut inventory, twin.listing.0, "us-east-1", twin.listing.1, None);
        for operation in twin.other_listings {
            read(&mut inventory, twin.listing.0, "us-east-1", operation, None);
        }
        for (operation, target) in &twin.calls {
            read(&mut inventory, twin.listing.0, "us-east-1", operation, Some(target));
        }
        (twin.place)(inventory.regional.get_mut(&"us-east-1".into()).unwrap());
        inventory
    }

    /// The bad twin FAILs, the good one PASSes; a denied listing gives one ERROR and no PASS;
    /// a denied per-resource call turns the verdicts that needed it into ERROR.
    pub(crate) fn check_twins(twins: &[Twin]) {
        for twin in twins {
            let id = twin.check.metadata.id;
            let inventory = build(twin);
            let found = statuses(&run(twin.check, &inventory));
            assert_eq!(found, vec![("bad".to_string(), Status::Fail), ("good".to_string(), Status::Pass)], "{id}: {:#?}", run(twin.check, &inventory));

            let mut denied_listing = inventory.clone();
            denied_listing.ledger.calls.retain(|call| call.target.is_some() || call.operation != twin.listing.1);
            record(&mut denied_listing, twin.listing.0, "us-east-1", twin.listing.1, None, denied());
            let findings = run(twin.check, &denied_listing);
            assert_eq!(findings.len(), 1, "{id}");
            assert_eq!(findings[0].status, Status::Error, "{id}");
            assert!(findings[0].message.contains(twin.listing.1), "{id}: {}", findings[0].message);

            if let Some((operation, _)) = twin.calls.first() {
                let mut denied_call = inventory.clone();
                denied_call.ledger.calls.retain(|call| call.operation != *operation);
                for (_, target) in twin.calls.iter().filter(|(other, _)| other == operation) {
                    record(&mut denied_call, twin.listing.0, "us-east-1", operation, Some(target), denied());
                }
                let findings = run(twin.check, &denied_call);
                assert!(findings.iter().all(|finding| finding.status != Status::Pass), "{id}: a denied {operation} must not PASS");
                assert!(findings.iter().any(|finding| finding.status == Status::Error && finding.message.contains(operation)), "{id}");
            }
        }
    }
}
