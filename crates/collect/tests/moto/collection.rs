//! Collection against a real AWS-compatible endpoint: a moto server per test, seeded with
//! the AWS SDK, read by the collector, with assertions on the inventory and the ledger.

use std::sync::Arc;

use crate::support;
use vigil_collect::{CollectConfig, NoProgress, collect_with};
use vigil_model::{Inventory, Outcome, Region};
use vigil_testkit::moto::is_read_only;
use vigil_testkit::{MotoServer, example_corp};

fn config(moto: &MotoServer, regions: &[&str]) -> CollectConfig {
    support::config(moto, regions, &[])
}

async fn collect(moto: &MotoServer, regions: &[&str]) -> Inventory {
    collect_with(moto.sdk_config().await, &config(moto, regions), Arc::new(NoProgress)).await.expect("collection")
}

fn outcome<'a>(inventory: &'a Inventory, operation: &str, target: Option<&str>) -> Vec<&'a Outcome> {
    support::outcomes(inventory, "", operation, target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_corp_is_collected_completely() {
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    let inventory = collect(&moto, example_corp::REGIONS).await;

    assert_eq!(inventory.account_id().as_str(), "123456789012");
    // IAM: users with their credentials, groups, roles with trust policies, policies.
    let user = |name: &str| inventory.iam.users.iter().find(|user| user.user_name == name).unwrap_or_else(|| panic!("user {name}"));
    assert!(user("alice").login_profile.is_some());
    assert!(user("alice").mfa_devices.is_empty());
    assert_eq!(user("carol").mfa_devices.len(), 1);
    assert_eq!(user("bob").access_keys.len(), 1);
    assert_eq!(user("bob").group_list, vec!["developers".to_string()]);
    assert_eq!(user("bob").user_policy_list[0].policy_document["Statement"][0]["Action"][0], "iam:PassRole");
    assert!(user("bob").login_profile.is_none());
    assert!(user("ci-bot").attached_managed_policies.iter().any(|policy| policy.policy_arn.ends_with("/AdministratorAccess")));
    assert_eq!(user("alice").tags.get("team").map(String::as_str), Some("platform"));
    let vendor = inventory.iam.roles.iter().find(|role| role.role_name == "vendor-audit").expect("vendor role");
    assert_eq!(vendor.assume_role_policy_document.as_ref().unwrap()["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::999988887777:root");
    let app = inventory.iam.roles.iter().find(|role| role.role_name == "app-server").expect("app role");
    assert_eq!(app.instance_profile_list.len(), 1);
    assert!(inventory.iam.groups.iter().any(|group| group.group_name == "developers"));
    assert!(inventory.iam.policies.iter().any(|policy| policy.arn.ends_with("/PowerUserAccess") && policy.default_document().is_some()));
    // An AWS managed policy in use keeps its parsed document (documents are parsed after the
    // unused ones are dropped).
    let admin = inventory.iam.policies.iter().find(|policy| policy.arn.ends_with("/AdministratorAccess")).expect("AdministratorAccess, attached to ci-bot");
    assert_eq!(admin.default_document().expect("its default version")["Statement"][0]["Effect"], "Allow");
    assert_eq!(inventory.iam.password_policy.as_ref().and_then(|policy| policy.minimum_password_length), Some(8));
    assert!(inventory.iam.credential_report.iter().any(|row| row.user == "alice" && row.password_enabled));
    assert!(inventory.iam.account_summary.contains_key("Users"));

    // EC2/VPC in us-east-1; eu-west-1 has only its default VPC.
    let east = &inventory.regional[&Region::new("us-east-1")].ec2;
    let west = &inventory.regional[&Region::new("eu-west-1")].ec2;
    assert_eq!(east.instances.len(), 2);
    assert!(west.instances.is_empty());
    let web = east.instances.iter().find(|instance| instance.tags.get("Name").map(String::as_str) == Some("web-1")).expect("web-1");
    assert_eq!(web.state.name, "running");
    assert!(web.public_ip_address.is_some(), "web-1 is in a subnet that maps public IPs");
    assert_eq!(web.security_groups.len(), 1);
    assert!(web.metadata_options.is_some());
    let prod = east.vpcs.iter().find(|vpc| vpc.cidr_block.as_deref() == Some("10.20.0.0/16")).expect("prod vpc");
    assert_eq!(east.subnets.iter().filter(|subnet| subnet.vpc_id == prod.vpc_id).count(), 2);
    let web_sg = east.security_groups.iter().find(|group| group.group_name == "web").expect("web sg");
    assert!(web_sg.ip_permissions.iter().any(|rule| rule.from_port == Some(22) && rule.ip_ranges.iter().any(|range| range.cidr_ip == "0.0.0.0/0")));
    let db_sg = east.security_groups.iter().find(|group| group.group_name == "database").expect("db sg");
    assert_eq!(db_sg.ip_permissions[0].user_id_group_pairs[0].group_id.as_deref(), Some(web_sg.group_id.as_str()));
    assert!(east.route_tables.iter().any(|table| table.routes.iter().any(|route| route.gateway_id.as_deref().is_some_and(|id| id.starts_with("igw-")))));
    assert!(east.internet_gateways.iter().any(|gateway| gateway.attachments.iter().any(|attachment| attachment.vpc_id == prod.vpc_id)));
    assert!(!east.network_acls.is_empty() && !east.network_interfaces.is_empty());
    assert!(east.volumes.iter().any(|volume| volume.size == Some(20) && !volume.encrypted));
    let snapshot = east.snapshots.iter().find(|snapshot| snapshot.description.as_deref() == Some("nightly backup")).expect("snapshot");
    assert_eq!(snapshot.create_volume_permissions[0].group.as_deref(), Some("all"));
    assert!(!west.security_groups.is_empty() && !west.vpcs.is_empty());

    // S3 with regions and configuration.
    let bucket = |name: &str| inventory.s3.buckets.iter().find(|bucket| bucket.name == name).unwrap_or_else(|| panic!("bucket {name}"));
    assert_eq!(bucket("example-corp-customer-data").region, "eu-west-1");
    assert_eq!(bucket("example-corp-public-assets").region, "us-east-1");
    assert_eq!(bucket("example-corp-public-assets").policy.as_ref().unwrap()["Statement"][0]["Principal"], "*");
    assert!(bucket("example-corp-trail-logs").public_access_block.as_ref().is_some_and(|block| block.all_enabled()));
    assert_eq!(bucket("example-corp-customer-data").server_side_encryption_rules.as_ref().map(|rules| rules[0].sse_algorithm.as_str()), Some("aws:kms"));
    assert!(bucket("example-corp-public-assets").acl.is_some());

    // Logging, monitoring and keys.
    let east_all = &inventory.regional[&Region::new("us-east-1")];
    let trail = east_all.trails.iter().find(|trail| trail.name == "example-corp").expect("trail");
    assert_eq!(trail.status.as_ref().map(|status| status.is_logging), Some(true));
    assert!(!trail.is_multi_region_trail);
    assert!(east_all.metric_filters.iter().any(|filter| filter.filter_name == "root-usage"));
    assert!(east_all.metric_alarms.iter().any(|alarm| alarm.alarm_name == "root-usage" && alarm.alarm_actions.len() == 1));
    let topic = east_all.sns_topics.iter().find(|topic| topic.topic_arn.ends_with(":security-alerts")).expect("topic");
    assert_eq!(topic.subscriptions[0].protocol, "email");
    assert_eq!(east_all.kms_keys.len(), 2);
    assert!(east_all.kms_keys.iter().any(|key| key.key_rotation_enabled == Some(true) && key.aliases == vec!["alias/customer-data".to_string()]));
    assert!(east_all.kms_keys.iter().all(|key| key.policy.is_some()));

    // The ledger: every listing was read; "not configured" is a fact, not a failure.
    for operation in ["GetAccountAuthorizationDetails", "ListBuckets", "DescribeInstances", "DescribeSecurityGroups", "DescribeTrails"] {
        let outcomes = outcome(&inventory, operation, None);
        assert!(!outcomes.is_empty() && outcomes.iter().all(|outcome| outcome.is_read()), "{operation}: {outcomes:?}");
    }
    assert!(matches!(outcome(&inventory, "GetBucketPolicy", Some("example-corp-customer-data"))[..], [Outcome::NotConfigured { .. }]));
    assert!(matches!(outcome(&inventory, "DescribeOrganization", None)[..], [Outcome::NotConfigured { .. }]));
    // Every region was asked about every regional service.
    for region in example_corp::REGIONS {
        for operation in ["DescribeVpcs", "DescribeTrails", "DescribeLogGroups", "DescribeAlarms", "ListTopics", "ListKeys", "DescribeConfigurationRecorders"] {
            assert!(inventory.ledger.calls.iter().any(|call| call.region == *region && call.operation == operation), "{operation} in {region}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_the_endpoint_does_not_implement_is_an_error_in_the_ledger() {
    // moto does not implement GetInstanceMetadataDefaults: it answers HTTP 500.
    let moto = MotoServer::start();
    let inventory = collect(&moto, &["us-east-1"]).await;
    let outcomes = outcome(&inventory, "GetInstanceMetadataDefaults", None);
    match outcomes[..] {
        [Outcome::Error { code, .. }] => assert!(code.starts_with("HTTP 5"), "{code}"),
        _ => panic!("expected one error, got {outcomes:?}"),
    }
    assert!(inventory.regional[&Region::new("us-east-1")].ec2.instance_metadata_defaults.is_none());
    // The rest of EC2 was still read.
    assert!(outcome(&inventory, "DescribeVpcs", None).iter().all(|outcome| outcome.is_read()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginated_listings_are_read_to_the_last_page() {
    let moto = MotoServer::start();
    let config = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    for index in 0..230 {
        sns.create_topic().name(format!("topic-{index:03}")).send().await.expect("topic");
    }
    for index in 0..120 {
        logs.create_log_group().log_group_name(format!("group-{index:03}")).send().await.expect("log group");
    }
    for index in 0..130 {
        iam.create_user().user_name(format!("user-{index:03}")).send().await.expect("user");
    }
    let inventory = collect(&moto, &["us-east-1"]).await;
    let east = &inventory.regional[&Region::new("us-east-1")];
    assert_eq!(east.sns_topics.len(), 230);
    assert_eq!(east.log_groups.len(), 120);
    assert_eq!(inventory.iam.users.len(), 130);
    assert!(outcome(&inventory, "ListTopics", None).len() >= 3, "ListTopics should take several pages");
    assert!(outcome(&inventory, "DescribeLogGroups", None).len() >= 3, "DescribeLogGroups should take several pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_read_calls_are_named_in_the_ledger_and_the_scan_completes() {
    // moto enforces IAM after the first N requests: the setup below makes exactly 5.
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "5")]);
    let admin = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    iam.create_user().user_name("auditor").send().await.expect("user");
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":["s3:GetBucketPolicy","ec2:DescribeSecurityGroups"],"Resource":"*"}]}"#;
    iam.put_user_policy().user_name("auditor").policy_name("read-but").policy_document(policy).send().await.expect("policy");
    let key = iam.create_access_key().user_name("auditor").send().await.expect("key").access_key.expect("access key");
    let s3 = moto.s3("us-east-1").await;
    s3.create_bucket().bucket("audited-a").send().await.expect("bucket");
    s3.create_bucket().bucket("audited-b").send().await.expect("bucket");

    let auditor = moto.sdk_config_with_keys(&key.access_key_id, &key.secret_access_key, "us-east-1").await;
    let inventory = collect_with(auditor, &config(&moto, &["us-east-1"]), Arc::new(NoProgress)).await.expect("collection completes");
    for bucket in ["audited-a", "audited-b"] {
        let outcomes = outcome(&inventory, "GetBucketPolicy", Some(bucket));
        assert!(matches!(outcomes[..], [Outcome::AccessDenied { .. }]), "{bucket}: {outcomes:?}");
    }
    assert!(matches!(outcome(&inventory, "DescribeSecurityGroups", None)[..], [Outcome::AccessDenied { .. }]));
    // Everything else still came through.
    assert_eq!(inventory.s3.buckets.len(), 2);
    assert!(outcome(&inventory, "GetBucketAcl", Some("audited-a")).iter().all(|outcome| outcome.is_read()));
    assert!(outcome(&inventory, "DescribeVpcs", None).iter().all(|outcome| outcome.is_read()));
    assert!(inventory.iam.users.iter().any(|user| user.user_name == "auditor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_makes_no_mutating_call() {
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    moto.start_recording();
    let inventory = collect(&moto, example_corp::REGIONS).await;
    let requests = moto.recorded_requests();
    assert!(requests.len() >= inventory.ledger.calls.len() / 2, "the recorder saw {} requests", requests.len());
    let mutating: Vec<String> = requests
        .iter()
        .filter(|request| !is_read_only(request))
        .map(|request| format!("{} {} {}", request["method"], request["url"], request["body"]))
        .collect();
    assert!(mutating.is_empty(), "mutating calls: {mutating:#?}");
}

#[test]
fn the_read_only_filter_recognises_writes() {
    let query = |action: &str| serde_json::json!({"method": "POST", "url": "http://x/", "body": format!("Action={action}&Version=1"), "headers": {}});
    assert!(is_read_only(&query("DescribeInstances")));
    assert!(!is_read_only(&query("RunInstances")));
    assert!(!is_read_only(&serde_json::json!({"method": "PUT", "url": "http://x/bucket?policy", "body": "", "headers": {}})));
    assert!(!is_read_only(&serde_json::json!({"method": "POST", "url": "http://x/", "body": "{}", "headers": {"X-Amz-Target": "TrentService.CreateKey"}})));
}
