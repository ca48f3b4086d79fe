//! "Example Corp": a small, realistic company account with deliberate misconfigurations,
//! seeded into moto through the AWS SDK. The demo snapshot shipped with vigil is collected
//! from it (see `src/bin/make-demo.rs`), and tests use it as a known account.

use aws_sdk_ec2::types as ec2;
use aws_sdk_iam::types as iam;

use crate::MotoServer;

/// The regions the example account uses.
pub const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];

const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const VENDOR_TRUST: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#;
const DEPLOYER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#;
const PUBLIC_READ_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-corp-public-assets/*"}]}"#;
const TLS_ONLY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::example-corp-trail-logs","arn:aws:s3:::example-corp-trail-logs/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

/// Seeds the whole example account.
pub async fn seed(moto: &MotoServer) {
    seed_iam(moto).await;
    let web_instance = seed_network(moto, "us-east-1").await;
    seed_storage(moto, &web_instance).await;
    seed_logging(moto).await;
}

async fn seed_iam(moto: &MotoServer) {
    let config = moto.sdk_config().await;
    let client = aws_sdk_iam::Client::new(&config);
    client.update_account_password_policy().minimum_password_length(8).require_numbers(true).send().await.expect("password policy");
    for (user, policy) in [
        ("alice", Some("arn:aws:iam::aws:policy/AdministratorAccess")),
        ("bob", None),
        ("ci-bot", Some("arn:aws:iam::aws:policy/AdministratorAccess")),
        ("carol", None),
    ] {
        client.create_user().user_name(user).tags(iam::Tag::builder().key("team").value("platform").build().expect("tag")).send().await.expect("user");
        if let Some(policy) = policy {
            client.attach_user_policy().user_name(user).policy_arn(policy).send().await.expect("attach");
        }
    }
    client.create_login_profile().user_name("alice").password("Example-Passw0rd!").send().await.expect("login profile");
    client.create_login_profile().user_name("carol").password("Example-Passw0rd!").send().await.expect("login profile");
    let device = client.create_virtual_mfa_device().virtual_mfa_device_name("carol").send().await.expect("mfa");
    let serial = device.virtual_mfa_device.map(|device| device.serial_number).unwrap_or_default();
    client
        .enable_mfa_device()
        .user_name("carol")
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .expect("enable mfa");
    for user in ["bob", "ci-bot"] {
        client.create_access_key().user_name(user).send().await.expect("access key");
    }
    client.create_group().group_name("developers").send().await.expect("group");
    client.attach_group_policy().group_name("developers").policy_arn("arn:aws:iam::aws:policy/PowerUserAccess").send().await.expect("group policy");
    client.add_user_to_group().group_name("developers").user_name("bob").send().await.expect("membership");
    client.put_user_policy().user_name("bob").policy_name("deployer").policy_document(DEPLOYER_POLICY).send().await.expect("inline policy");
    client.create_role().role_name("app-server").assume_role_policy_document(EC2_TRUST).send().await.expect("role");
    client.attach_role_policy().role_name("app-server").policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").send().await.expect("role policy");
    client.create_instance_profile().instance_profile_name("app-server").send().await.expect("profile");
    client.add_role_to_instance_profile().instance_profile_name("app-server").role_name("app-server").send().await.expect("profile role");
    client.create_role().role_name("vendor-audit").assume_role_policy_document(VENDOR_TRUST).send().await.expect("vendor role");
    client.attach_role_policy().role_name("vendor-audit").policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").send().await.expect("vendor policy");
}

/// Builds a VPC with a public and a private subnet, security groups and two instances;
/// returns the web instance's id.
async fn seed_network(moto: &MotoServer, region: &str) -> String {
    let config = moto.sdk_config_with_keys("testing", "testing", region).await;
    let client = aws_sdk_ec2::Client::new(&config);
    let name = |value: &str| ec2::Tag::builder().key("Name").value(value).build();
    let vpc_id = client
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .tag_specifications(ec2::TagSpecification::builder().resource_type(ec2::ResourceType::Vpc).tags(name("prod")).build())
        .send()
        .await
        .expect("vpc")
        .vpc
        .and_then(|vpc| vpc.vpc_id)
        .unwrap_or_default();
    let subnet = |cidr: &'static str, label: &'static str| {
        client
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(format!("{region}a"))
            .tag_specifications(ec2::TagSpecification::builder().resource_type(ec2::ResourceType::Subnet).tags(name(label)).build())
            .send()
    };
    let public_subnet = subnet("10.20.1.0/24", "prod-public").await.expect("subnet").subnet.and_then(|s| s.subnet_id).unwrap_or_default();
    let private_subnet = subnet("10.20.2.0/24", "prod-private").await.expect("subnet").subnet.and_then(|s| s.subnet_id).unwrap_or_default();
    client
        .modify_subnet_attribute()
        .subnet_id(&public_subnet)
        .map_public_ip_on_launch(ec2::AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("map public ip");
    let igw = client.create_internet_gateway().send().await.expect("igw").internet_gateway.and_then(|g| g.internet_gateway_id).unwrap_or_default();
    client.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc_id).send().await.expect("attach igw");
    let public_table = client.create_route_table().vpc_id(&vpc_id).send().await.expect("rtb").route_table.and_then(|t| t.route_table_id).unwrap_or_default();
    client.create_route().route_table_id(&public_table).destination_cidr_block("0.0.0.0/0").gateway_id(&igw).send().await.expect("route");
    client.associate_route_table().route_table_id(&public_table).subnet_id(&public_subnet).send().await.expect("associate");

    let web_sg =
        client.create_security_group().group_name("web").description("web servers").vpc_id(&vpc_id).send().await.expect("sg").group_id.unwrap_or_default();
    let world = ec2::IpRange::builder().cidr_ip("0.0.0.0/0").build();
    for port in [443, 22] {
        client
            .authorize_security_group_ingress()
            .group_id(&web_sg)
            .ip_permissions(ec2::IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).ip_ranges(world.clone()).build())
            .send()
            .await
            .expect("ingress");
    }
    let db_sg =
        client.create_security_group().group_name("database").description("postgres").vpc_id(&vpc_id).send().await.expect("sg").group_id.unwrap_or_default();
    client
        .authorize_security_group_ingress()
        .group_id(&db_sg)
        .ip_permissions(
            ec2::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .user_id_group_pairs(ec2::UserIdGroupPair::builder().group_id(&web_sg).build())
                .build(),
        )
        .send()
        .await
        .expect("ingress");

    let launch = |subnet_id: String, group_id: String, label: &'static str| {
        client
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(ec2::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(subnet_id)
            .security_group_ids(group_id)
            .tag_specifications(ec2::TagSpecification::builder().resource_type(ec2::ResourceType::Instance).tags(name(label)).build())
            .send()
    };
    let web = launch(public_subnet, web_sg, "web-1").await.expect("web instance");
    launch(private_subnet, db_sg, "db-1").await.expect("db instance");
    web.instances.and_then(|instances| instances.into_iter().next()).and_then(|instance| instance.instance_id).unwrap_or_default()
}

async fn seed_storage(moto: &MotoServer, _web_instance: &str) {
    let s3 = moto.s3("us-east-1").await;
    s3.create_bucket().bucket("example-corp-public-assets").send().await.expect("bucket");
    s3.put_bucket_policy().bucket("example-corp-public-assets").policy(PUBLIC_READ_POLICY).send().await.expect("policy");
    s3.create_bucket().bucket("example-corp-trail-logs").send().await.expect("bucket");
    s3.put_bucket_policy().bucket("example-corp-trail-logs").policy(TLS_ONLY_POLICY).send().await.expect("policy");
    s3.put_bucket_versioning()
        .bucket("example-corp-trail-logs")
        .versioning_configuration(aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .expect("versioning");
    s3.put_public_access_block()
        .bucket("example-corp-trail-logs")
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .expect("public access block");
    let eu = moto.s3("eu-west-1").await;
    eu.create_bucket()
        .bucket("example-corp-customer-data")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1).build(),
        )
        .send()
        .await
        .expect("bucket");
    eu.put_bucket_encryption()
        .bucket("example-corp-customer-data")
        .server_side_encryption_configuration(
            aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
                .rules(
                    aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                                .build()
                                .expect("sse"),
                        )
                        .build(),
                )
                .build()
                .expect("encryption"),
        )
        .send()
        .await
        .expect("encryption");

    let config = moto.sdk_config().await;
    let ec2_client = aws_sdk_ec2::Client::new(&config);
    let volume = ec2_client.create_volume().availability_zone("us-east-1a").size(20).send().await.expect("volume").volume_id.unwrap_or_default();
    let snapshot = ec2_client.create_snapshot().volume_id(&volume).description("nightly backup").send().await.expect("snapshot");
    ec2_client
        .modify_snapshot_attribute()
        .snapshot_id(snapshot.snapshot_id.unwrap_or_default())
        .attribute(ec2::SnapshotAttributeName::CreateVolumePermission)
        .operation_type(ec2::OperationType::Add)
        .group_names("all")
        .send()
        .await
        .expect("public snapshot");

    let kms = aws_sdk_kms::Client::new(&config);
    let rotated = kms.create_key().description("customer data").send().await.expect("key").key_metadata.map(|m| m.key_id).unwrap_or_default();
    kms.enable_key_rotation().key_id(&rotated).send().await.expect("rotation");
    kms.create_alias().alias_name("alias/customer-data").target_key_id(&rotated).send().await.expect("alias");
    kms.create_key().description("legacy app key").send().await.expect("key");
}

async fn seed_logging(moto: &MotoServer) {
    let config = moto.sdk_config().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.create_log_group().log_group_name("cloudtrail/example-corp").send().await.expect("log group");
    logs.put_metric_filter()
        .log_group_name("cloudtrail/example-corp")
        .filter_name("root-usage")
        .filter_pattern(r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#)
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("RootAccountUsage")
                .metric_namespace("CISBenchmark")
                .metric_value("1")
                .build()
                .expect("transformation"),
        )
        .send()
        .await
        .expect("metric filter");
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns.create_topic().name("security-alerts").send().await.expect("topic").topic_arn.unwrap_or_default();
    sns.subscribe().topic_arn(&topic).protocol("email").endpoint("secops@example.com").send().await.expect("subscribe");
    put_alarm(&config, "root-usage", "RootAccountUsage", "CISBenchmark", &topic).await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&config);
    cloudtrail
        .create_trail()
        .name("example-corp")
        .s3_bucket_name("example-corp-trail-logs")
        .cloud_watch_logs_log_group_arn("arn:aws:logs:us-east-1:123456789012:log-group:cloudtrail/example-corp:*")
        .cloud_watch_logs_role_arn("arn:aws:iam::123456789012:role/app-server")
        .send()
        .await
        .expect("trail");
    cloudtrail.start_logging().name("example-corp").send().await.expect("start logging");
}

/// Puts a CloudWatch alarm that notifies `topic` when metric `namespace`/`metric` sums to at
/// least 1 over five minutes: the alarm the CIS monitoring recommendations look for.
pub async fn put_alarm(config: &aws_types::SdkConfig, name: &str, metric: &str, namespace: &str, topic: &str) {
    aws_sdk_cloudwatch::Client::new(config)
        .put_metric_alarm()
        .alarm_name(name)
        .metric_name(metric)
        .namespace(namespace)
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
        .alarm_actions(topic)
        .send()
        .await
        .expect("alarm");
}

/// Where a value the demo snapshot carries came from when moto could not serve it: written
/// into the ledger entry's `detail`, so the snapshot itself says which data was recorded.
pub const RECORDED_NOTE: &str =
    "recorded: moto lacks this call; the value is what AWS answers for the seeded account (vigil_testkit::example_corp::fill_what_moto_lacks)";

/// Fills in what moto cannot serve, so that the demo account reads like a real one instead of
/// showing emulator gaps as ERROR findings. Each value is the reply AWS gives for the account
/// as `seed` configured it (recorded, moto lacks this call), and each filled call's ledger entry
/// becomes a success whose `detail` is [`RECORDED_NOTE`]. Only calls that failed are filled;
/// the names of those that were returns, so `make-demo` can say when moto has closed a gap.
pub fn fill_what_moto_lacks(inventory: &mut vigil_model::Inventory) -> Vec<String> {
    use vigil_model::Outcome;
    use vigil_model::ec2::InstanceMetadataDefaults;
    use vigil_model::iam::CredentialReportRow;
    use vigil_model::s3::VersioningConfiguration;

    let collected_at = inventory.collected_at;
    let mut filled = Vec::new();
    let mut calls = std::mem::take(&mut inventory.ledger.calls);
    for call in calls.iter_mut().filter(|call| !call.outcome.is_read()) {
        let region = vigil_model::Region::new(call.region.as_str());
        let target = call.target.clone().unwrap_or_default();
        let outcome = match (call.service.as_str(), call.operation.as_str()) {
            // Recorded, moto lacks this call (its reply has the wrong root element). S3 answers
            // with the bucket's versioning state: `example-corp-trail-logs` was enabled by the
            // seed, the others were never versioned (an empty VersioningConfiguration).
            ("s3", "GetBucketVersioning") => {
                let Some(bucket) = inventory.s3.buckets.iter_mut().find(|bucket| bucket.name == target) else { continue };
                let enabled = target == "example-corp-trail-logs";
                bucket.versioning =
                    Some(VersioningConfiguration { status: enabled.then(|| "Enabled".to_string()), mfa_delete: enabled.then(|| "Disabled".to_string()) });
                Outcome::Ok
            }
            // Recorded, moto lacks this call (it answers with the object listing). S3 evaluates
            // the bucket policy: public for the public-read policy, not public for a deny-only
            // policy, and NoSuchBucketPolicy when there is no policy.
            ("s3", "GetBucketPolicyStatus") => {
                let Some(bucket) = inventory.s3.buckets.iter_mut().find(|bucket| bucket.name == target) else { continue };
                match &bucket.policy {
                    None => Outcome::NotConfigured { code: "NoSuchBucketPolicy".to_string() },
                    Some(_) => {
                        bucket.policy_is_public = Some(target == "example-corp-public-assets");
                        Outcome::Ok
                    }
                }
            }
            // Recorded, moto lacks this call. An account that never set IMDS defaults gets an
            // AccountLevel with every setting absent ("no preference").
            ("ec2", "GetInstanceMetadataDefaults") => {
                inventory.regional.entry(region).or_default().ec2.instance_metadata_defaults = Some(InstanceMetadataDefaults::default());
                Outcome::Ok
            }
            // Recorded, moto lacks this call. Without a customer key chosen, EBS answers with
            // the AWS managed key's alias.
            ("ec2", "GetEbsDefaultKmsKeyId") => {
                inventory.regional.entry(region).or_default().ec2.ebs_default_kms_key_id = Some("alias/aws/ebs".to_string());
                Outcome::Ok
            }
            // Recorded, moto lacks this call (HTTP 404 to the SDK's request). Example Corp sends
            // no email through SES: an empty list of identities.
            ("sesv2", "ListEmailIdentities") => {
                inventory.regional.entry(region).or_default().email_identities.clear();
                Outcome::Ok
            }
            // Recorded, moto lacks this call (HTTP 500). Example Corp runs no App Runner
            // service: an empty list.
            ("apprunner", "ListServices") => {
                inventory.regional.entry(region).or_default().apprunner_services.clear();
                Outcome::Ok
            }
            // Recorded, moto lacks these calls (HTTP 404 or 500). Example Corp runs no Bedrock
            // AgentCore runtime, browser or code interpreter: empty lists.
            ("bedrock-agentcore", "ListAgentRuntimes" | "ListBrowsers" | "ListCodeInterpreters") => {
                inventory.regional.entry(region).or_default().agentcore_resources.clear();
                Outcome::Ok
            }
            // Recorded, moto lacks this call (an HTML error page). Example Corp's instances do
            // not run the SSM agent: no managed instances.
            ("ssm", "DescribeInstanceInformation") => {
                inventory.regional.entry(region).or_default().ssm_managed_instances.clear();
                Outcome::Ok
            }
            _ => continue,
        };
        filled.push(format!(
            "{}:{} in {}{}",
            call.service,
            call.operation,
            call.region,
            call.target.as_deref().map(|target| format!(" for {target}")).unwrap_or_default()
        ));
        call.outcome = outcome;
        call.detail = Some(RECORDED_NOTE.to_string());
        call.retries = 0;
    }
    inventory.ledger.calls = calls;

    // Recorded, moto lacks this data: its GetTrailStatus never reports a delivery, since it
    // writes no log files. A logging trail delivers to S3 and CloudWatch Logs every few
    // minutes; the seeded trail's last deliveries are five minutes before the collection.
    for regional in inventory.regional.values_mut() {
        for trail in &mut regional.trails {
            if let Some(status) = trail.status.as_mut().filter(|status| status.is_logging) {
                if status.latest_delivery_time.is_none() {
                    status.latest_delivery_time = Some(collected_at - chrono::Duration::minutes(5));
                    filled.push(format!("cloudtrail:GetTrailStatus's delivery times for {}", trail.name));
                }
                if trail.cloud_watch_logs_log_group_arn.is_some() && status.latest_cloud_watch_logs_delivery_time.is_none() {
                    status.latest_cloud_watch_logs_delivery_time = Some(collected_at - chrono::Duration::minutes(5));
                }
            }
        }
    }

    // Recorded, moto lacks this row: AWS's credential report always starts with the root
    // user. Example Corp's root has no MFA and no access keys (as GetAccountSummary says) and
    // last signed in with its password 45 days before the collection.
    if !inventory.iam.credential_report.is_empty() && !inventory.iam.credential_report.iter().any(CredentialReportRow::is_root) {
        let days = |count: i64| collected_at - chrono::Duration::days(count);
        inventory.iam.credential_report.insert(
            0,
            CredentialReportRow {
                user: "<root_account>".to_string(),
                arn: format!("arn:aws:iam::{}:root", inventory.account.account_id),
                user_creation_time: Some(days(3 * 365)),
                password_enabled: false,
                password_last_used: Some(days(45)),
                mfa_active: false,
                ..CredentialReportRow::default()
            },
        );
        filled.push("iam:GetCredentialReport's <root_account> row".to_string());
    }
    filled
}
