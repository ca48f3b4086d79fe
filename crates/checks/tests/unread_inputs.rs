//! Issue 14, item 1: one rule for unread inputs, for every check. Over the demo account plus a
//! resource of every kind the catalog assesses, every call without a target that the ledger
//! records (and every call a check declares) is denied in turn, in each region where it is
//! made, and the data it returned is removed. Then:
//! - every check that declares the call yields ERROR naming it, and no PASS or FAIL where the
//!   call was not read (never silence, never a verdict without its input);
//! - every other check keeps exactly its verdicts, except those that turn into an ERROR naming
//!   the call on the same resource (a per-resource need): a check whose verdicts change without
//!   such an ERROR reads the call without declaring it;
//! - no framework requirement with a check that declares the call reads PASS or "no resources".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use vigil_checks::frameworks::{FRAMEWORKS, RequirementStatus, summarize};
use vigil_checks::{CHECKS, Context, Finding, Read, Status, run_all};
use vigil_model::{ApiCall, Inventory, Outcome, Region, RegionalInventory};

const HOME: &str = "us-east-1";

fn demo() -> Inventory {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
    vigil_model::snapshot::from_bytes(&std::fs::read(path).unwrap(), "the demo snapshot").unwrap()
}

fn account(inventory: &Inventory) -> String {
    inventory.account_id().to_string()
}

/// One resource of every kind the demo account lacks, in the home region (and the account-wide
/// services), each shaped so that the checks over it decide something.
fn add_every_kind(inventory: &mut Inventory) {
    use vigil_model::acm::Certificate;
    use vigil_model::autoscaling::{AutoScalingGroup, LaunchConfiguration};
    use vigil_model::dynamodb::Table;
    use vigil_model::ec2::{Address, FlowLog, Image, LaunchTemplate, LaunchTemplateData, NatGateway};
    use vigil_model::edge::{Distribution, Domain, HostedZone};
    use vigil_model::elasticache::{CacheCluster, ReplicationGroup};
    use vigil_model::elb::{ClassicListener, ClassicLoadBalancer, Listener, LoadBalancer, TargetGroup};
    use vigil_model::iam::{SamlProvider, ServerCertificate};
    use vigil_model::lambda::Function;
    use vigil_model::messaging::{EmailIdentity, Queue, Stream};
    use vigil_model::monitoring::{ConfigurationRecorder, DeliveryChannel};
    use vigil_model::rds::{DbCluster, DbInstance, DbSnapshot};
    use vigil_model::redshift::RedshiftCluster;
    use vigil_model::security::{Detector, Repository, Secret, SecurityHub};

    let id = account(inventory);
    let arn = |service: &str, resource: &str| format!("arn:aws:{service}:{HOME}:{id}:{resource}");
    let later = chrono::Utc::now() + chrono::Duration::days(400);
    inventory.iam.server_certificates.push(ServerCertificate {
        server_certificate_name: "web".into(),
        arn: format!("arn:aws:iam::{id}:server-certificate/web"),
        expiration: Some(later),
        ..Default::default()
    });
    inventory.iam.saml_providers.push(SamlProvider { arn: format!("arn:aws:iam::{id}:saml-provider/idp"), valid_until: Some(later), create_date: None });
    inventory.edge.distributions.push(Distribution {
        id: "E1".into(),
        arn: format!("arn:aws:cloudfront::{id}:distribution/E1"),
        enabled: true,
        ..Default::default()
    });
    inventory.edge.hosted_zones.push(HostedZone { id: "/hostedzone/Z1".into(), name: "example.com.".into(), ..Default::default() });
    inventory.edge.domains.push(Domain { domain_name: "example.com".into(), ..Default::default() });

    let regional: &mut RegionalInventory = inventory.regional.get_mut(&Region::from(HOME)).unwrap();
    let vpc = regional.ec2.vpcs.first().map(|vpc| vpc.vpc_id.clone()).unwrap_or_default();
    regional.ec2.images.push(Image { image_id: "ami-1".into(), ..Default::default() });
    regional.ec2.addresses.push(Address { allocation_id: Some("eipalloc-1".into()), public_ip: Some("198.51.100.1".into()), ..Default::default() });
    regional.ec2.flow_logs.push(FlowLog { flow_log_id: "fl-1".into(), resource_id: Some(vpc.clone()), ..Default::default() });
    regional.ec2.nat_gateways.push(NatGateway { nat_gateway_id: "nat-1".into(), vpc_id: Some(vpc.clone()), ..Default::default() });
    regional.ec2.launch_templates.push(LaunchTemplate {
        launch_template_id: "lt-1".into(),
        launch_template_name: Some("app".into()),
        default_version_number: Some(1),
        latest_version_number: Some(1),
        default_version_data: Some(LaunchTemplateData { ebs_encrypted: vec![Some(false)], ..Default::default() }),
        ..Default::default()
    });
    regional.ec2.ebs_encryption_by_default = Some(false);
    regional.configuration_recorders.push(ConfigurationRecorder { name: "default".into(), all_supported: true, recording: true, ..Default::default() });
    regional.delivery_channels.push(DeliveryChannel { name: "default".into(), s3_bucket_name: Some("config".into()), ..Default::default() });
    regional.load_balancers.push(LoadBalancer {
        load_balancer_arn: arn("elasticloadbalancing", "loadbalancer/app/web/1"),
        load_balancer_name: "web".into(),
        r#type: Some("application".into()),
        vpc_id: Some(vpc.clone()),
        listeners: vec![Listener {
            listener_arn: arn("elasticloadbalancing", "listener/app/web/1/1"),
            port: Some(443),
            protocol: Some("HTTPS".into()),
            ssl_policy: Some("ELBSecurityPolicy-TLS13-1-2-2021-06".into()),
            ..Default::default()
        }],
        ..Default::default()
    });
    regional.target_groups.push(TargetGroup {
        target_group_arn: arn("elasticloadbalancing", "targetgroup/web/1"),
        target_group_name: "web".into(),
        ..Default::default()
    });
    regional.classic_load_balancers.push(ClassicLoadBalancer {
        load_balancer_name: "classic".into(),
        listener_descriptions: vec![ClassicListener { protocol: "HTTPS".into(), ssl_certificate_id: Some(arn("acm", "certificate/1")), ..Default::default() }],
        ssl_reference_policies: vec!["ELBSecurityPolicy-TLS-1-2-2017-01".into()],
        ..Default::default()
    });
    regional.db_instances.push(DbInstance {
        db_instance_identifier: "db".into(),
        db_instance_arn: arn("rds", "db:db"),
        engine: Some("postgres".into()),
        vpc_id: Some(vpc.clone()),
        ..Default::default()
    });
    regional.db_clusters.push(DbCluster { db_cluster_identifier: "cluster".into(), db_cluster_arn: arn("rds", "cluster:cluster"), ..Default::default() });
    regional.db_snapshots.push(DbSnapshot { db_snapshot_identifier: "snap".into(), db_snapshot_arn: arn("rds", "snapshot:snap"), ..Default::default() });
    regional.db_snapshots.push(DbSnapshot {
        db_snapshot_identifier: "cluster-snap".into(),
        db_snapshot_arn: arn("rds", "cluster-snapshot:cluster-snap"),
        is_cluster_snapshot: true,
        ..Default::default()
    });
    regional.redshift_clusters.push(RedshiftCluster {
        cluster_identifier: "warehouse".into(),
        cluster_arn: arn("redshift", "cluster:warehouse"),
        ..Default::default()
    });
    regional.replication_groups.push(ReplicationGroup {
        replication_group_id: "cache".into(),
        arn: arn("elasticache", "replicationgroup:cache"),
        engine: Some("redis".into()),
        ..Default::default()
    });
    regional.cache_clusters.push(CacheCluster {
        cache_cluster_id: "memcached".into(),
        arn: arn("elasticache", "cluster:memcached"),
        engine: Some("memcached".into()),
        ..Default::default()
    });
    regional.dynamodb_tables.push(Table { table_name: "orders".into(), table_arn: arn("dynamodb", "table/orders"), ..Default::default() });
    regional.launch_configurations.push(LaunchConfiguration {
        launch_configuration_name: "old".into(),
        launch_configuration_arn: arn("autoscaling", "launchConfiguration:1:launchConfigurationName/old"),
        ..Default::default()
    });
    regional.auto_scaling_groups.push(AutoScalingGroup {
        auto_scaling_group_name: "workers".into(),
        auto_scaling_group_arn: arn("autoscaling", "autoScalingGroup:1:autoScalingGroupName/workers"),
        launch_configuration_name: Some("old".into()),
        availability_zones: vec![format!("{HOME}a")],
        ..Default::default()
    });
    regional.certificates.push(Certificate {
        certificate_arn: arn("acm", "certificate/1"),
        status: Some("ISSUED".into()),
        not_after: Some(later),
        ..Default::default()
    });
    regional.sqs_queues.push(Queue {
        queue_url: format!("https://sqs.{HOME}.amazonaws.com/{id}/jobs"),
        queue_arn: arn("sqs", "jobs"),
        policy: Some(json!({ "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*" }] })),
        ..Default::default()
    });
    regional.kinesis_streams.push(Stream { stream_name: "events".into(), stream_arn: arn("kinesis", "stream/events"), ..Default::default() });
    regional.email_identities.push(EmailIdentity { identity_name: "example.com".into(), ..Default::default() });
    regional.lambda_functions.push(Function {
        function_name: "handler".into(),
        function_arn: arn("lambda", "function:handler"),
        runtime: Some("python3.13".into()),
        ..Default::default()
    });
    regional.guardduty_detectors.push(Detector { detector_id: "d1".into(), status: Some("ENABLED".into()), ..Default::default() });
    regional.security_hub = Some(SecurityHub { hub_arn: arn("securityhub", "hub/default"), ..Default::default() });
    regional.secrets.push(Secret { arn: arn("secretsmanager", "secret:db"), name: "db".into(), ..Default::default() });
    regional.ecr_repositories.push(Repository { repository_name: "app".into(), repository_arn: arn("ecr", "repository/app"), ..Default::default() });
}

/// The findings a missing call leaves behind: `{"missing_call": ...}`, alone or in `unread`.
fn missing_calls(evidence: &Value, out: &mut Vec<ApiCall>) {
    if let Some(call) = evidence.get("missing_call") {
        out.push(ApiCall {
            service: call["service"].as_str().unwrap_or_default().into(),
            region: call["region"].as_str().unwrap_or_default().into(),
            operation: call["operation"].as_str().unwrap_or_default().into(),
            target: call["target"].as_str().map(str::to_string),
            outcome: Outcome::Ok,
            retries: 0,
            detail: None,
        });
    }
    for gap in evidence.get("unread").and_then(Value::as_array).into_iter().flatten() {
        missing_calls(gap, out);
    }
}

/// The baseline: the demo account plus every kind, where every call collection makes was
/// read: failures recorded in the demo become successes, every declared call is recorded in
/// every region, and the per-resource calls the checks ask for are found by running them.
fn baseline() -> Inventory {
    let mut inventory = demo();
    add_every_kind(&mut inventory);
    for call in &mut inventory.ledger.calls {
        call.outcome = Outcome::Ok;
    }
    let regions: Vec<String> = inventory.regions.iter().map(|region| region.to_string()).collect();
    let mut known: BTreeSet<(String, String, String, Option<String>)> =
        inventory.ledger.calls.iter().map(|call| (call.service.clone(), call.region.clone(), call.operation.clone(), call.target.clone())).collect();
    let mut record = |inventory: &mut Inventory, call: ApiCall| {
        if known.insert((call.service.clone(), call.region.clone(), call.operation.clone(), call.target.clone())) {
            inventory.ledger.record(call);
        }
    };
    for check in CHECKS {
        for read in check.metadata().reads {
            let places: Vec<&str> = if read.per_region { regions.iter().map(String::as_str).collect() } else { vec![Region::GLOBAL] };
            for region in places {
                let call = ApiCall {
                    service: read.service.into(),
                    region: region.into(),
                    operation: read.operation.into(),
                    target: None,
                    outcome: Outcome::Ok,
                    retries: 0,
                    detail: None,
                };
                record(&mut inventory, call);
            }
        }
    }
    for _ in 0..6 {
        let context = Context::new(&inventory, chrono::Utc::now());
        let mut missing = Vec::new();
        for finding in run_all(&context, |_| true).iter().filter(|finding| finding.status == Status::Error) {
            missing_calls(&finding.evidence.to_value(), &mut missing);
        }
        let before = inventory.ledger.calls.len();
        for call in missing {
            record(&mut inventory, call);
        }
        if inventory.ledger.calls.len() == before {
            break;
        }
    }
    inventory
}

/// Removes what one call without a target returned, in `region` (or account-wide); false when
/// no rule is known for the call (the test then fails and names it).
fn clear(inventory: &mut Inventory, service: &str, operation: &str, region: &str) -> bool {
    if region == Region::GLOBAL {
        let iam = &mut inventory.iam;
        match (service, operation) {
            ("iam", "GetAccountAuthorizationDetails") => {
                iam.users.clear();
                iam.groups.clear();
                iam.roles.clear();
                iam.policies.clear();
            }
            ("iam", "GetAccountPasswordPolicy") => iam.password_policy = None,
            ("iam", "GetAccountSummary") => iam.account_summary.clear(),
            ("iam", "GetCredentialReport") => iam.credential_report.clear(),
            // Collection reads the report with GetCredentialReport even when generating a new one
            // is denied (an earlier report is still served), so denying only the generation
            // leaves the data in place.
            ("iam", "GenerateCredentialReport") => {}
            ("iam", "ListAccountAliases") => iam.account_aliases.clear(),
            ("iam", "ListOpenIDConnectProviders") => iam.open_id_connect_providers.clear(),
            ("iam", "ListSAMLProviders") => iam.saml_providers.clear(),
            ("iam", "ListServerCertificates") => iam.server_certificates.clear(),
            ("iam", "ListVirtualMFADevices") => iam.virtual_mfa_devices.clear(),
            ("s3", "ListBuckets") => inventory.s3.buckets.clear(),
            ("organizations", "DescribeOrganization") => inventory.account.organization = None,
            ("cloudfront", "ListDistributions") => inventory.edge.distributions.clear(),
            ("route53", "ListHostedZones") => inventory.edge.hosted_zones.clear(),
            ("route53", "ListQueryLoggingConfigs") => inventory.edge.hosted_zones.iter_mut().for_each(|zone| zone.query_logging_configs.clear()),
            ("route53domains", "ListDomains") => inventory.edge.domains.clear(),
            ("sts", "GetCallerIdentity") | ("ec2", "DescribeRegions") => {}
            _ => return false,
        }
        return true;
    }
    let Some(regional) = inventory.regional.get_mut(&Region::from(region)) else { return true };
    let ec2 = &mut regional.ec2;
    match (service, operation) {
        ("ec2", "DescribeInstances") => ec2.instances.clear(),
        ("ec2", "DescribeImages") => ec2.images.clear(),
        ("ec2", "DescribeVolumes") => ec2.volumes.clear(),
        ("ec2", "DescribeSnapshots") => ec2.snapshots.clear(),
        ("ec2", "DescribeSecurityGroups") => ec2.security_groups.clear(),
        ("ec2", "DescribeNetworkAcls") => ec2.network_acls.clear(),
        ("ec2", "DescribeRouteTables") => ec2.route_tables.clear(),
        ("ec2", "DescribeSubnets") => ec2.subnets.clear(),
        ("ec2", "DescribeVpcs") => ec2.vpcs.clear(),
        ("ec2", "DescribeInternetGateways") => ec2.internet_gateways.clear(),
        ("ec2", "DescribeEgressOnlyInternetGateways") => ec2.egress_only_internet_gateways.clear(),
        ("ec2", "DescribeNatGateways") => ec2.nat_gateways.clear(),
        ("ec2", "DescribeVpcPeeringConnections") => ec2.vpc_peering_connections.clear(),
        ("ec2", "DescribeVpnGateways") => ec2.vpn_gateways.clear(),
        ("ec2", "DescribeNetworkInterfaces") => ec2.network_interfaces.clear(),
        ("ec2", "DescribeAddresses") => ec2.addresses.clear(),
        ("ec2", "DescribeFlowLogs") => ec2.flow_logs.clear(),
        ("ec2", "DescribeManagedPrefixLists") => ec2.managed_prefix_lists.clear(),
        ("ec2", "DescribeLaunchTemplates") => ec2.launch_templates.clear(),
        ("ec2", "GetEbsEncryptionByDefault") => ec2.ebs_encryption_by_default = None,
        ("ec2", "GetEbsDefaultKmsKeyId") => ec2.ebs_default_kms_key_id = None,
        ("ec2", "GetInstanceMetadataDefaults") => ec2.instance_metadata_defaults = None,
        ("cloudtrail", "DescribeTrails") => regional.trails.clear(),
        ("logs", "DescribeLogGroups") => regional.log_groups.clear(),
        ("logs", "DescribeMetricFilters") => regional.metric_filters.clear(),
        ("cloudwatch", "DescribeAlarms") => regional.metric_alarms.clear(),
        ("sns", "ListTopics") => regional.sns_topics.clear(),
        ("kms", "ListKeys") => regional.kms_keys.clear(),
        ("kms", "ListAliases") => regional.kms_keys.iter_mut().for_each(|key| key.aliases.clear()),
        ("config", "DescribeConfigurationRecorders") => regional.configuration_recorders.clear(),
        ("config", "DescribeConfigurationRecorderStatus") => regional.configuration_recorders.iter_mut().for_each(|recorder| {
            recorder.recording = false;
            recorder.last_status = None;
        }),
        ("config", "DescribeDeliveryChannels") => regional.delivery_channels.clear(),
        ("elbv2", "DescribeLoadBalancers") => regional.load_balancers.clear(),
        ("elbv2", "DescribeTargetGroups") => regional.target_groups.clear(),
        ("elb", "DescribeLoadBalancers") => regional.classic_load_balancers.clear(),
        ("rds", "DescribeDBInstances") => regional.db_instances.clear(),
        ("rds", "DescribeDBClusters") => regional.db_clusters.clear(),
        ("rds", "DescribeDBSnapshots") => regional.db_snapshots.retain(|snapshot| snapshot.is_cluster_snapshot),
        ("rds", "DescribeDBClusterSnapshots") => regional.db_snapshots.retain(|snapshot| !snapshot.is_cluster_snapshot),
        ("redshift", "DescribeClusters") => regional.redshift_clusters.clear(),
        ("elasticache", "DescribeReplicationGroups") => regional.replication_groups.clear(),
        ("elasticache", "DescribeCacheClusters") => regional.cache_clusters.clear(),
        ("elasticache", "DescribeCacheSubnetGroups") => regional.cache_subnet_groups.clear(),
        ("dynamodb", "ListTables") => regional.dynamodb_tables.clear(),
        ("autoscaling", "DescribeAutoScalingGroups") => regional.auto_scaling_groups.clear(),
        ("autoscaling", "DescribeLaunchConfigurations") => regional.launch_configurations.clear(),
        ("acm", "ListCertificates") => regional.certificates.clear(),
        ("sqs", "ListQueues") => regional.sqs_queues.clear(),
        ("kinesis", "ListStreams") => regional.kinesis_streams.clear(),
        ("sesv2", "ListEmailIdentities") => regional.email_identities.clear(),
        ("lambda", "ListFunctions") => regional.lambda_functions.clear(),
        ("ecs", "ListTaskDefinitions") => regional.ecs_task_definitions.clear(),
        ("guardduty", "ListDetectors") => regional.guardduty_detectors.clear(),
        ("securityhub", "DescribeHub") => regional.security_hub = None,
        ("securityhub", "GetEnabledStandards") => regional.security_hub.iter_mut().for_each(|hub| hub.standards_subscriptions.clear()),
        ("secretsmanager", "ListSecrets") => regional.secrets.clear(),
        ("ecr", "DescribeRepositories") => regional.ecr_repositories.clear(),
        // The workloads that run with a role (read for the escalation analysis).
        ("ecs", "ListClusters") => {
            regional.ecs_clusters.clear();
            regional.ecs_services.clear();
            regional.ecs_tasks.clear();
        }
        ("glue", "GetJobs") => regional.glue_jobs.clear(),
        ("glue", "GetDevEndpoints") => regional.glue_dev_endpoints.clear(),
        ("sagemaker", "ListNotebookInstances") => regional.sagemaker_notebook_instances.clear(),
        ("sagemaker", "ListTrainingJobs") => regional.sagemaker_jobs.retain(|job| job.kind != "training"),
        ("sagemaker", "ListProcessingJobs") => regional.sagemaker_jobs.retain(|job| job.kind != "processing"),
        ("codebuild", "ListProjects") => regional.codebuild_projects.clear(),
        ("cloudformation", "DescribeStacks") => regional.cloudformation_stacks.clear(),
        ("cloudformation", "ListStackSets") => regional.cloudformation_stack_sets.clear(),
        ("apprunner", "ListServices") => regional.apprunner_services.clear(),
        ("ssm", "DescribeInstanceInformation") => regional.ssm_managed_instances.clear(),
        ("bedrock-agentcore", "ListAgentRuntimes") => regional.agentcore_resources.retain(|resource| resource.kind != "runtime"),
        ("bedrock-agentcore", "ListBrowsers") => regional.agentcore_resources.retain(|resource| resource.kind != "browser"),
        ("bedrock-agentcore", "ListCodeInterpreters") => regional.agentcore_resources.retain(|resource| resource.kind != "code-interpreter"),
        _ => return false,
    }
    true
}

/// A finding as compared across runs.
fn key(finding: &Finding) -> (String, String, Status, String) {
    (finding.check_id.to_string(), finding.resource_arn.to_string(), finding.status, finding.message.to_string())
}

fn by_check(findings: Vec<Finding>) -> BTreeMap<String, Vec<Finding>> {
    let mut grouped: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for finding in findings {
        grouped.entry(finding.check_id.to_string()).or_default().push(finding);
    }
    grouped
}

fn declares(reads: &[Read], service: &str, operation: &str, region: &str) -> bool {
    reads.iter().any(|read| read.service == service && read.operation == operation && read.per_region == (region != Region::GLOBAL))
}

#[test]
fn every_call_without_a_target_denied_in_turn_is_an_error_naming_it_for_every_check_that_reads_it() {
    use rayon::prelude::*;

    let baseline = baseline();
    let now = chrono::Utc::now();
    let before = by_check(run_all(&Context::new(&baseline, now), |_| true));
    assert!(before.values().flatten().filter(|finding| finding.status != Status::Error).count() > 300, "the baseline should decide a lot");

    let calls: BTreeSet<(String, String, String)> = baseline
        .ledger
        .calls
        .iter()
        .filter(|call| call.target.is_none())
        .map(|call| (call.service.clone(), call.operation.clone(), call.region.clone()))
        .collect();
    let unknown: Vec<String> = calls
        .iter()
        .filter(|(service, operation, region)| !clear(&mut baseline.clone(), service, operation, region))
        .map(|(service, operation, region)| format!("{service}:{operation} in {region}"))
        .collect();
    assert!(unknown.is_empty(), "no rule says what these calls return; add one to `clear`: {unknown:?}");

    let problems: Vec<String> = calls
        .par_iter()
        .flat_map_iter(|(service, operation, region)| {
            let name = format!("{service}:{operation}");
            let mut denied = baseline.clone();
            denied.ledger.calls.retain(|call| !(call.target.is_none() && &call.service == service && &call.operation == operation && &call.region == region));
            denied.ledger.record(ApiCall {
                service: service.clone(),
                region: region.clone(),
                operation: operation.clone(),
                target: None,
                outcome: Outcome::AccessDenied { code: "AccessDenied".into(), message: "denied by the test".into() },
                retries: 0,
                detail: None,
            });
            clear(&mut denied, service, operation, region);
            let findings = run_all(&Context::new(&denied, now), |_| true);
            let after = by_check(findings.clone());
            let mut problems = Vec::new();
            for check in CHECKS {
                let metadata = check.metadata();
                let id = metadata.id;
                let mine: &[Finding] = after.get(id).map(Vec::as_slice).unwrap_or_default();
                let was: &[Finding] = before.get(id).map(Vec::as_slice).unwrap_or_default();
                let names_call = |finding: &Finding| finding.status == Status::Error && finding.message.contains(&name);
                if declares(metadata.reads, service, operation, region) {
                    if !mine.iter().any(names_call) {
                        problems.push(format!("{id}: no ERROR naming {name} denied in {region}"));
                    }
                    let unscoped = mine.iter().filter(|finding| {
                        finding.status != Status::Error && (region == Region::GLOBAL || finding.region == region.as_str() || finding.region == Region::GLOBAL)
                    });
                    for finding in unscoped {
                        problems.push(format!(
                            "{id}: {} {:?} for `{}` although {name} was not read in {region}",
                            finding.status.as_str(),
                            finding.message,
                            finding.resource_arn
                        ));
                    }
                    continue;
                }
                let old: BTreeSet<_> = was.iter().filter(|finding| finding.status != Status::Error).map(key).collect();
                let new: BTreeSet<_> = mine.iter().filter(|finding| finding.status != Status::Error).map(key).collect();
                for gained in new.difference(&old) {
                    problems.push(format!("{id}: new verdict {gained:?} with {name} denied in {region}: it reads {name} without declaring it"));
                }
                for lost in old.difference(&new) {
                    let replaced = mine.iter().any(|finding| names_call(finding) && finding.resource_arn == lost.1.as_str());
                    if !replaced {
                        problems.push(format!(
                            "{id}: verdict {lost:?} vanished without an ERROR naming {name} (denied in {region}): it reads {name} without declaring it"
                        ));
                    }
                }
            }
            for framework in FRAMEWORKS {
                for row in summarize(framework, &findings) {
                    let reads_it = row
                        .checks
                        .iter()
                        .any(|check| vigil_checks::find(check).is_some_and(|check| declares(check.metadata().reads, service, operation, region)));
                    if reads_it && matches!(row.status, RequirementStatus::Pass | RequirementStatus::NoResources) {
                        problems.push(format!("{} {}: {:?} with {name} denied in {region}", framework.id, row.requirement, row.status));
                    }
                }
            }
            problems
        })
        .collect();
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}
