//! The check catalog: a static registry of checks, each a pure function from an inventory
//! (plus its coverage ledger) to findings. No I/O, no async: checks cannot fail on I/O.
//!
//! Honesty rule: a check decides PASS or FAIL only from data the ledger says was read. When
//! the data it needs was not read, it reports ERROR naming the API call and its error.

mod catalog;
pub mod context;
pub mod docs;
pub mod finding;
pub mod frameworks;
pub mod mutelist;
pub mod policy;
pub mod prowler_ids;

pub use catalog::CHECKS;
pub use catalog::attack_paths::{SENSITIVE_ARNS_PARAMETER, SENSITIVE_TAGS_PARAMETER, sensitivity};
pub use context::Context;
pub use finding::{Finding, Severity, Status};

/// Everything a check declares about itself; docs and reports are generated from it.
#[derive(Debug)]
pub struct Metadata {
    /// Stable id, never renamed once released (e.g. `iam_root_mfa_enabled`).
    pub id: &'static str,
    pub title: &'static str,
    /// The AWS service, lower case (`iam`, `s3`, `ec2`, ...).
    pub service: &'static str,
    /// CloudFormation resource type of what is assessed (`AWS::S3::Bucket`, `AWS::::Account`).
    pub resource_type: &'static str,
    pub severity: Severity,
    /// Why it matters.
    pub risk: &'static str,
    pub remediation: Remediation,
    pub references: &'static [&'static str],
    /// (framework, requirement id) pairs, e.g. `("cis-aws-5.0", "1.4")`.
    pub frameworks: &'static [(&'static str, &'static str)],
    /// The calls without a target (listings and account settings) whose answers the check reads.
    /// The runner ([`Context::run_check`]) holds the one rule for them: where one was not read,
    /// the check yields ERROR naming it and no PASS or FAIL there (see [`Read`]).
    pub reads: &'static [Read],
}

/// A call without a target that a check reads: made once for the account (`global`) or once in
/// every scanned region (`regional`). Calls about one resource (a bucket's policy, a key's
/// rotation) are not declared: a check asks for them with [`context::Needs`] as it judges that
/// resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// The service's SDK name, as the ledger records it (`ec2`, `s3`, `iam`).
    pub service: &'static str,
    pub operation: &'static str,
    /// True when the call is made in every scanned region, false when once for the account.
    pub per_region: bool,
}

impl Read {
    /// A call made once for the account (in the ledger's `global` region).
    pub const fn global(service: &'static str, operation: &'static str) -> Read {
        Read { service, operation, per_region: false }
    }

    /// A call made in every scanned region.
    pub const fn regional(service: &'static str, operation: &'static str) -> Read {
        Read { service, operation, per_region: true }
    }
}

impl std::fmt::Display for Read {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}:{}", self.service, self.operation)
    }
}

#[derive(Debug)]
pub struct Remediation {
    pub text: &'static str,
    pub cli: &'static str,
    pub terraform: &'static str,
}

/// One check of the catalog.
pub trait Check: Sync {
    fn metadata(&self) -> &Metadata;
    /// Appends this check's findings (PASS, FAIL or ERROR) for every resource it assesses.
    fn run(&self, context: &Context<'_>, findings: &mut Vec<Finding>);
}

/// Runs every check of the catalog (or those `selected` accepts) over an inventory, the checks
/// in parallel; the findings come in catalog order whatever the scheduling.
pub fn run_all(context: &Context<'_>, selected: impl Fn(&Metadata) -> bool) -> Vec<Finding> {
    use rayon::prelude::*;
    let checks: Vec<&dyn Check> = CHECKS.iter().copied().filter(|check| selected(check.metadata())).collect();
    // Checks run in small parallel batches whose findings are appended in catalog order as each
    // batch ends: the temporary per-check vectors never hold more than a batch's findings, so
    // the peak stays near one copy of all findings (collecting every check's vector before
    // concatenating would hold two).
    let batch = rayon::current_num_threads().max(1) * 4;
    let mut findings = Vec::new();
    for checks in checks.chunks(batch) {
        let parts: Vec<Vec<Finding>> = checks
            .par_iter()
            .map(|check| {
                let mut findings = Vec::new();
                context::with_check_messages(|| check.run(context, &mut findings));
                findings
            })
            .collect();
        for part in parts {
            findings.extend(part);
        }
    }
    findings
}

/// Finds a check by id.
pub fn find(id: &str) -> Option<&'static dyn Check> {
    CHECKS.iter().copied().find(|check| check.metadata().id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run_all` runs checks in parallel batches; its findings must be exactly those of running
    /// every check one after the other, in catalog order (reports and stored scans rely on it).
    #[test]
    fn parallel_run_all_matches_running_the_checks_in_catalog_order() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
        let inventory = vigil_model::snapshot::from_bytes(&std::fs::read(path).unwrap(), "the demo snapshot").unwrap();
        let context = Context::new(&inventory, chrono::Utc::now());
        let mut sequential = Vec::new();
        for check in CHECKS {
            check.run(&context, &mut sequential);
        }
        assert!(sequential.len() > CHECKS.len(), "the demo scan should produce many findings");
        for _ in 0..3 {
            assert_eq!(run_all(&context, |_| true), sequential);
        }
        let iam_only: Vec<Finding> = sequential.iter().filter(|finding| finding.service == "iam").cloned().collect();
        assert_eq!(run_all(&context, |metadata| metadata.service == "iam"), iam_only);
    }

    /// Checks that walk the inventory's own lists borrow the context's subject of each item
    /// (`Context::item_subject`, found by the item's address). Their findings must be exactly
    /// those of building each subject from the item's own fields, and the lookup must find the
    /// items of every list those checks walk.
    #[test]
    fn subjects_found_by_address_name_items_as_their_own_fields_do() {
        let inventory = items_of_every_list();
        let now = chrono::Utc::now();
        let found = Context::new(&inventory, now);
        let built = Context::new(&inventory, now).without_item_lookup();
        assert_eq!(run_all(&found, |_| true), run_all(&built, |_| true));
        let unfound = |context: &Context<'_>| context.new_subject("unfound", "unfound", "unfound", "unfound", None);
        let mut lists = std::collections::BTreeMap::<&str, (usize, usize)>::new();
        macro_rules! count {
            ($($field:ident),*) => {
                for regional in inventory.regional.values() {
                    $(
                        for item in &regional.$field {
                            let counts = lists.entry(stringify!($field)).or_default();
                            counts.0 += 1;
                            if matches!(found.item_subject(item, || unfound(&found)), std::borrow::Cow::Borrowed(_)) {
                                counts.1 += 1;
                            }
                            assert!(matches!(built.item_subject(item, || unfound(&built)), std::borrow::Cow::Owned(_)));
                        }
                    )*
                }
            };
        }
        count!(
            lambda_functions,
            sqs_queues,
            ecr_repositories,
            secrets,
            kinesis_streams,
            load_balancers,
            classic_load_balancers,
            db_instances,
            db_clusters,
            redshift_clusters,
            replication_groups,
            cache_clusters,
            dynamodb_tables,
            auto_scaling_groups,
            launch_configurations,
            certificates,
            db_snapshots
        );
        for (list, (items, found)) in &lists {
            assert_eq!(found, items, "{list}: {found} of {items} items found among the context's resources");
        }
        assert_eq!(lists.len(), 17, "{lists:?}");
    }

    /// An account with two items, tagged, of every list that checks walk themselves, in two
    /// regions, every listing read.
    fn items_of_every_list() -> vigil_model::Inventory {
        let mut inventory = two_regions_every_call_read();
        let regions = inventory.regions.clone();
        for region in &regions {
            let Some(regional) = inventory.regional.get_mut(region) else { continue };
            for index in 0..2 {
                let name = format!("item-{index}");
                let arn = |service: &str, kind: &str| format!("arn:aws:{service}:{region}:{}:{kind}/{name}", catalog::test_support::ACCOUNT);
                let tags: vigil_model::Tags = [("team".to_string(), format!("team-{index}"))].into();
                regional.lambda_functions.push(vigil_model::lambda::Function {
                    function_arn: arn("lambda", "function"),
                    function_name: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.sqs_queues.push(vigil_model::messaging::Queue {
                    queue_arn: arn("sqs", "queue"),
                    queue_url: format!("https://sqs.{region}.amazonaws.com/123456789012/{name}"),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.ecr_repositories.push(vigil_model::security::Repository {
                    repository_arn: arn("ecr", "repository"),
                    repository_name: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.secrets.push(vigil_model::security::Secret {
                    arn: arn("secretsmanager", "secret"),
                    name: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.kinesis_streams.push(vigil_model::messaging::Stream {
                    stream_arn: arn("kinesis", "stream"),
                    stream_name: name.clone(),
                    ..Default::default()
                });
                regional.load_balancers.push(vigil_model::elb::LoadBalancer {
                    load_balancer_arn: arn("elasticloadbalancing", "loadbalancer/app"),
                    load_balancer_name: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.classic_load_balancers.push(vigil_model::elb::ClassicLoadBalancer {
                    load_balancer_name: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.db_instances.push(vigil_model::rds::DbInstance {
                    db_instance_arn: arn("rds", "db"),
                    db_instance_identifier: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.db_clusters.push(vigil_model::rds::DbCluster {
                    db_cluster_arn: arn("rds", "cluster"),
                    db_cluster_identifier: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.db_snapshots.push(vigil_model::rds::DbSnapshot {
                    db_snapshot_arn: arn("rds", "snapshot"),
                    db_snapshot_identifier: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.redshift_clusters.push(vigil_model::redshift::RedshiftCluster {
                    cluster_arn: arn("redshift", "cluster"),
                    cluster_identifier: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.replication_groups.push(vigil_model::elasticache::ReplicationGroup {
                    arn: arn("elasticache", "replicationgroup"),
                    replication_group_id: name.clone(),
                    ..Default::default()
                });
                regional.cache_clusters.push(vigil_model::elasticache::CacheCluster {
                    arn: arn("elasticache", "cluster"),
                    cache_cluster_id: name.clone(),
                    ..Default::default()
                });
                regional.dynamodb_tables.push(vigil_model::dynamodb::Table {
                    table_arn: arn("dynamodb", "table"),
                    table_name: name.clone(),
                    ..Default::default()
                });
                regional.auto_scaling_groups.push(vigil_model::autoscaling::AutoScalingGroup {
                    auto_scaling_group_arn: arn("autoscaling", "autoScalingGroup"),
                    auto_scaling_group_name: name.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                });
                regional.launch_configurations.push(vigil_model::autoscaling::LaunchConfiguration {
                    launch_configuration_arn: arn("autoscaling", "launchConfiguration"),
                    launch_configuration_name: name.clone(),
                    ..Default::default()
                });
                regional.certificates.push(vigil_model::acm::Certificate {
                    certificate_arn: arn("acm", "certificate"),
                    domain_name: Some(format!("{name}.example.com")),
                    ..Default::default()
                });
            }
        }
        inventory
    }

    /// The test accounts' inventory in two regions, with every call any check declares read.
    fn two_regions_every_call_read() -> vigil_model::Inventory {
        let mut inventory = catalog::test_support::inventory();
        inventory.regions.push("eu-west-1".into());
        inventory.regional.insert("eu-west-1".into(), Default::default());
        for check in CHECKS {
            catalog::test_support::read_declared(&mut inventory, *check);
        }
        inventory
    }

    fn same_copy(left: &str, right: &str) -> bool {
        std::ptr::eq(left.as_ptr(), right.as_ptr()) && left.len() == right.len()
    }

    /// A message that names its resource is shared within the check that says it (two security
    /// groups with the same ids in two regions get the same sentences from each check), and a
    /// message that names none is shared by every finding of the run that says it.
    #[test]
    fn messages_are_shared_within_their_check_and_across_the_run() {
        let mut inventory = two_regions_every_call_read();
        for regional in inventory.regional.values_mut() {
            // Two groups per region, so that no finding repeats the one before it (the
            // thread's last message is reused without any table).
            for group_id in ["sg-0123456789abcdef0", "sg-0fedcba9876543210"] {
                regional.ec2.security_groups.push(vigil_model::ec2::SecurityGroup {
                    group_id: group_id.into(),
                    group_name: "web".into(),
                    vpc_id: Some("vpc-1".into()),
                    ..Default::default()
                });
            }
        }
        let context = Context::new(&inventory, chrono::Utc::now());
        let findings = run_all(&context, |_| true);
        let mut naming = 0;
        let mut first_by_check_and_text = std::collections::HashMap::new();
        let mut first_by_text = std::collections::HashMap::new();
        for finding in &findings {
            let key = (finding.check_id.as_str(), finding.message.as_str());
            let first = *first_by_check_and_text.entry(key).or_insert(finding);
            if finding.status != Status::Error && finding.message.contains(finding.resource_id.as_str()) {
                if !std::ptr::eq(first, finding) {
                    naming += 1;
                    assert!(same_copy(&first.message, &finding.message), "{}: {} not shared within its check", finding.check_id, finding.message);
                }
                continue;
            }
            let first = *first_by_text.entry(finding.message.as_str()).or_insert(finding);
            assert!(same_copy(&first.message, &finding.message), "{}: {} not shared across the run", finding.check_id, finding.message);
        }
        assert!(naming >= 5, "the security groups' checks should repeat sentences naming the groups: {naming}");
    }
}
