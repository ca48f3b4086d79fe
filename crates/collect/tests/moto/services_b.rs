//! Collection of SQS, Kinesis, Lambda, CloudFront, Route 53 (and Domains), SES, GuardDuty,
//! Security Hub, Secrets Manager and ECR against moto, and twin scenarios: a misconfigured
//! resource next to a well-configured twin, where the bad twin FAILs and the good one does not.
//!
//! What moto cannot represent is covered by unit tests beside the checks instead: Lambda
//! ListFunctionUrlConfigs, SES ListEmailIdentities and Security Hub GetEnabledStandards are
//! not implemented (asserted here as ledger errors that yield ERROR findings, never PASS);
//! Lambda dead-letter and VPC settings are not stored; domain transfer locks are always on.

use std::sync::Arc;

use crate::support::{self, assert_twins, outcomes, statuses};
use vigil_checks::{Finding, Status};
use vigil_collect::{CollectConfig, NoProgress, collect_with};
use vigil_model::{Inventory, Outcome, Region};
use vigil_testkit::MotoServer;

const SERVICES: &[&str] =
    &["sqs", "kinesis", "lambda", "cloudfront", "route53", "route53domains", "sesv2", "guardduty", "securityhub", "secretsmanager", "ecr"];
const CHECK_SERVICES: &[&str] = &["sqs", "kinesis", "lambda", "cloudfront", "route53", "ses", "guardduty", "securityhub", "secretsmanager", "ecr"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];
const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

fn config(moto: &MotoServer) -> CollectConfig {
    support::config(moto, REGIONS, SERVICES)
}

fn run_checks(inventory: &Inventory) -> Vec<Finding> {
    support::run_checks(inventory, CHECK_SERVICES)
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

async fn seed_sqs(moto: &MotoServer) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let dlq = sqs.create_queue().queue_name("orders-dlq").attributes(QueueAttributeName::SqsManagedSseEnabled, "true").send().await.unwrap();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(dlq.queue_url.unwrap())
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap();
    let public = policy(r#"{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}"#);
    sqs.create_queue()
        .queue_name("orders-plain")
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
        .attributes(QueueAttributeName::Policy, public)
        .send()
        .await
        .unwrap();
    let restricted = policy(concat!(
        r#"{"Sid":"FromTopic","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:orders"}}},"#,
        r#"{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#
    ));
    sqs.create_queue()
        .queue_name("orders-secure")
        .attributes(QueueAttributeName::KmsMasterKeyId, "alias/orders")
        .attributes(QueueAttributeName::Policy, restricted)
        .attributes(QueueAttributeName::RedrivePolicy, format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#))
        .send()
        .await
        .unwrap();
}

async fn seed_kinesis(moto: &MotoServer) {
    use aws_sdk_kinesis::types::EncryptionType;
    let kinesis = aws_sdk_kinesis::Client::new(&moto.sdk_config().await);
    for name in ["clicks-plain", "clicks-secure"] {
        kinesis.create_stream().stream_name(name).shard_count(1).send().await.unwrap();
    }
    kinesis.start_stream_encryption().stream_name("clicks-secure").encryption_type(EncryptionType::Kms).key_id("alias/clicks").send().await.unwrap();
    kinesis.increase_stream_retention_period().stream_name("clicks-secure").retention_period_hours(168).send().await.unwrap();
}

/// Returns the ARN of the modern function (used as a rotation function below).
async fn seed_lambda(moto: &MotoServer) -> String {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime, TracingConfig, TracingMode};
    let sdk_config = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&sdk_config);
    let trust = policy(r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}"#);
    let role = iam.create_role().role_name("lambda-exec").assume_role_policy_document(trust).send().await.unwrap().role.unwrap().arn;
    let lambda = aws_sdk_lambda::Client::new(&sdk_config);
    // An empty zip archive: moto stores the code without running it.
    let code = || FunctionCode::builder().zip_file(Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec())).build();
    lambda
        .create_function()
        .function_name("legacy-fn")
        .runtime(Runtime::from("python3.7"))
        .role(&role)
        .handler("index.handler")
        .code(code())
        .environment(Environment::builder().variables("DB_PASSWORD", "correct-horse-battery").build())
        .send()
        .await
        .unwrap();
    lambda.add_permission().function_name("legacy-fn").statement_id("anyone").action("lambda:InvokeFunction").principal("*").send().await.unwrap();
    let modern = lambda
        .create_function()
        .function_name("modern-fn")
        .runtime(Runtime::from("python3.12"))
        .role(&role)
        .handler("index.handler")
        .code(code())
        .environment(Environment::builder().variables("STAGE", "prod").build())
        .tracing_config(TracingConfig::builder().mode(TracingMode::Active).build())
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name("modern-fn")
        .statement_id("uploads")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::uploads")
        .send()
        .await
        .unwrap();
    modern.function_arn.unwrap()
}

// moto needs the legacy `ForwardedValues` and `MinTTL` form of a cache behavior.
#[allow(deprecated)]
async fn seed_cloudfront(moto: &MotoServer) {
    use aws_sdk_cloudfront::types::{
        CookiePreference, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, ForwardedValues, ItemSelection, LoggingConfig, MinimumProtocolVersion,
        Origin, OriginProtocolPolicy, OriginSslProtocols, Origins, SslProtocol, SslSupportMethod, ViewerCertificate, ViewerProtocolPolicy,
    };
    let cloudfront = aws_sdk_cloudfront::Client::new(&moto.sdk_config().await);
    let distribution = |reference: &str, good: bool| {
        let origin = Origin::builder()
            .id("api")
            .domain_name(format!("{reference}.example.com"))
            .custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(80)
                    .https_port(443)
                    .origin_protocol_policy(OriginProtocolPolicy::from(if good { "https-only" } else { "http-only" }))
                    .origin_ssl_protocols(
                        OriginSslProtocols::builder().quantity(1).items(SslProtocol::from(if good { "TLSv1.2" } else { "TLSv1" })).build().unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let behavior = DefaultCacheBehavior::builder()
            .target_origin_id("api")
            .viewer_protocol_policy(ViewerProtocolPolicy::from(if good { "redirect-to-https" } else { "allow-all" }))
            .forwarded_values(
                ForwardedValues::builder()
                    .query_string(false)
                    .cookies(CookiePreference::builder().forward(ItemSelection::None).build().unwrap())
                    .build()
                    .unwrap(),
            )
            .min_ttl(0)
            .build()
            .unwrap();
        let certificate = ViewerCertificate::builder()
            .acm_certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/site")
            .ssl_support_method(SslSupportMethod::from(if good { "sni-only" } else { "vip" }))
            .minimum_protocol_version(MinimumProtocolVersion::from(if good { "TLSv1.2_2021" } else { "TLSv1" }))
            .build();
        let mut config = DistributionConfig::builder()
            .caller_reference(reference)
            .origins(Origins::builder().quantity(1).items(origin).build().unwrap())
            .default_cache_behavior(behavior)
            .viewer_certificate(certificate)
            .comment(reference)
            .enabled(true);
        if good {
            config = config
                .default_root_object("index.html")
                .web_acl_id("arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/1")
                .logging(LoggingConfig::builder().enabled(true).include_cookies(false).bucket("logs.s3.amazonaws.com").prefix("cdn/").build());
        }
        config.build().unwrap()
    };
    for (reference, good) in [("bad-cdn", false), ("good-cdn", true)] {
        cloudfront.create_distribution().distribution_config(distribution(reference, good)).send().await.unwrap();
    }
}

/// Returns the ids of the (logged, silent) public zones.
async fn seed_route53(moto: &MotoServer) -> (String, String) {
    let sdk_config = moto.sdk_config().await;
    let route53 = aws_sdk_route53::Client::new(&sdk_config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config);
    let mut ids = Vec::new();
    for (name, reference) in [("logged.example.com", "z1"), ("silent.example.com", "z2")] {
        let zone = route53.create_hosted_zone().name(name).caller_reference(reference).send().await.unwrap().hosted_zone.unwrap();
        ids.push(zone.id.trim_start_matches("/hostedzone/").to_string());
    }
    logs.create_log_group().log_group_name("/aws/route53/logged.example.com").send().await.unwrap();
    let log_group_arn = logs.describe_log_groups().log_group_name_prefix("/aws/route53/").send().await.unwrap().log_groups.unwrap()[0].arn.clone().unwrap();
    route53.create_query_logging_config().hosted_zone_id(&ids[0]).cloud_watch_logs_log_group_arn(log_group_arn).send().await.unwrap();
    (ids[0].clone(), ids[1].clone())
}

async fn seed_domains(moto: &MotoServer) {
    use aws_sdk_route53domains::types::{ContactDetail, ContactType, CountryCode};
    let domains = aws_sdk_route53domains::Client::new(&moto.sdk_config().await);
    let contact = || {
        ContactDetail::builder()
            .first_name("Dana")
            .last_name("Ops")
            .contact_type(ContactType::Person)
            .address_line1("1 Main St")
            .city("Seattle")
            .state("WA")
            .country_code(CountryCode::from("US"))
            .zip_code("98101")
            .phone_number("+1.2065550100")
            .email("dns@example.com")
            .build()
    };
    for (name, good) in [("good-domain.com", true), ("bad-domain.com", false)] {
        domains
            .register_domain()
            .domain_name(name)
            .duration_in_years(2)
            .admin_contact(contact())
            .registrant_contact(contact())
            .tech_contact(contact())
            .auto_renew(good)
            .privacy_protect_admin_contact(good)
            .privacy_protect_registrant_contact(good)
            .privacy_protect_tech_contact(good)
            .send()
            .await
            .unwrap();
    }
}

async fn seed_security_services(moto: &MotoServer, rotation_function_arn: &str) {
    use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, FeatureStatus};
    let sdk_config = moto.sdk_config().await;
    // GuardDuty and Security Hub in us-east-1 only: eu-west-1 is the bad twin region.
    aws_sdk_guardduty::Client::new(&sdk_config)
        .create_detector()
        .enable(true)
        .features(DetectorFeatureConfiguration::builder().name(DetectorFeature::from("S3_DATA_EVENTS")).status(FeatureStatus::Enabled).build())
        .send()
        .await
        .unwrap();
    aws_sdk_securityhub::Client::new(&sdk_config).enable_security_hub().enable_default_standards(false).send().await.unwrap();
    aws_sdk_sesv2::Client::new(&sdk_config).create_email_identity().email_identity("example.com").send().await.unwrap();

    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config);
    secrets.create_secret().name("app/db").secret_string("s3cr3t-value").kms_key_id(KEY_ARN).send().await.unwrap();
    secrets
        .rotate_secret()
        .secret_id("app/db")
        .rotation_lambda_arn(rotation_function_arn)
        .rotation_rules(aws_sdk_secretsmanager::types::RotationRulesType::builder().automatically_after_days(30).build())
        .send()
        .await
        .unwrap();
    secrets.create_secret().name("app/legacy").secret_string("s3cr3t-value").send().await.unwrap();
    let public = policy(r#"{"Sid":"Everyone","Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}"#);
    secrets.put_resource_policy().secret_id("app/legacy").resource_policy(public).send().await.unwrap();
}

async fn seed_ecr(moto: &MotoServer) {
    use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability};
    let ecr = aws_sdk_ecr::Client::new(&moto.sdk_config().await);
    ecr.create_repository()
        .repository_name("good-repo")
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .encryption_configuration(EncryptionConfiguration::builder().encryption_type(EncryptionType::Kms).kms_key(KEY_ARN).build().unwrap())
        .send()
        .await
        .unwrap();
    let lifecycle = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;
    ecr.put_lifecycle_policy().repository_name("good-repo").lifecycle_policy_text(lifecycle).send().await.unwrap();
    let partner = policy(r#"{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"ecr:BatchGetImage"}"#);
    ecr.set_repository_policy().repository_name("good-repo").policy_text(partner).send().await.unwrap();
    ecr.create_repository().repository_name("bad-repo").send().await.unwrap();
    let public = policy(r#"{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#);
    ecr.set_repository_policy().repository_name("bad-repo").policy_text(public).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_b_are_collected_and_each_bad_twin_fails_where_its_good_twin_does_not() {
    let moto = MotoServer::start();
    seed_sqs(&moto).await;
    seed_kinesis(&moto).await;
    let rotation_function_arn = seed_lambda(&moto).await;
    seed_cloudfront(&moto).await;
    let (logged_zone, silent_zone) = seed_route53(&moto).await;
    seed_domains(&moto).await;
    seed_security_services(&moto, &rotation_function_arn).await;
    seed_ecr(&moto).await;

    let inventory = collect_with(moto.sdk_config().await, &config(&moto), Arc::new(NoProgress)).await.expect("collection");
    let east = &inventory.regional[&Region::new("us-east-1")];
    let west = &inventory.regional[&Region::new("eu-west-1")];

    // Fields, as AWS-shaped values.
    let queue = |name: &str| east.sqs_queues.iter().find(|queue| queue.name() == name).unwrap_or_else(|| panic!("queue {name}"));
    assert_eq!(queue("orders-secure").kms_master_key_id.as_deref(), Some("alias/orders"));
    assert_eq!(queue("orders-plain").policy.as_ref().unwrap()["Statement"][0]["Sid"], "Open");
    assert!(queue("orders-secure").redrive_policy.as_ref().unwrap()["deadLetterTargetArn"].as_str().unwrap().ends_with(":orders-dlq"));
    let stream = east.kinesis_streams.iter().find(|stream| stream.stream_name == "clicks-secure").expect("stream");
    assert_eq!((stream.encryption_type.as_deref(), stream.retention_period_hours), (Some("KMS"), Some(168)));
    let legacy = east.lambda_functions.iter().find(|function| function.function_name == "legacy-fn").expect("legacy-fn");
    assert_eq!(legacy.runtime.as_deref(), Some("python3.7"));
    assert_eq!(legacy.policy.as_ref().unwrap()["Statement"][0]["Principal"], "*");
    // The secret's value never reaches the inventory: only its name and length.
    assert_eq!(legacy.environment_variables[0].name, "DB_PASSWORD");
    assert_eq!(legacy.environment_variables[0].value_length, "correct-horse-battery".len());
    assert!(!serde_json::to_string(&inventory).unwrap().contains("correct-horse-battery"));
    assert!(matches!(outcomes(&inventory, "lambda", "GetPolicy", Some("modern-fn"))[..], [Outcome::Ok]));
    assert_eq!(inventory.edge.distributions.len(), 2);
    assert!(inventory.edge.distributions.iter().all(|distribution| !distribution.origins.is_empty()));
    let logged = inventory.edge.hosted_zones.iter().find(|zone| zone.short_id() == logged_zone).expect("logged zone");
    assert_eq!(logged.query_logging_configs.len(), 1);
    assert_eq!(inventory.edge.domains.len(), 2);
    assert_eq!(east.guardduty_detectors.len(), 1);
    assert!(west.guardduty_detectors.is_empty());
    assert!(east.security_hub.is_some() && west.security_hub.is_none());
    let hub_absent =
        outcomes(&inventory, "securityhub", "DescribeHub", None).into_iter().filter(|outcome| matches!(outcome, Outcome::NotConfigured { .. })).count();
    assert_eq!(hub_absent, 1, "DescribeHub in eu-west-1 says Security Hub is not enabled");
    let secret = east.secrets.iter().find(|secret| secret.name == "app/db").expect("secret");
    assert!(secret.rotation_enabled && secret.kms_key_id.as_deref() == Some(KEY_ARN));
    let good_repo = east.ecr_repositories.iter().find(|repository| repository.repository_name == "good-repo").expect("repo");
    assert!(good_repo.scan_on_push && good_repo.lifecycle_policy.is_some() && good_repo.policy.is_some());
    // An absent repository policy or lifecycle policy is a fact, not a failure.
    assert!(matches!(outcomes(&inventory, "ecr", "GetLifecyclePolicy", Some("bad-repo"))[..], [Outcome::NotConfigured { .. }]));

    // Operations moto does not implement land in the ledger as errors; the scan went on.
    for (service, operation, target) in
        [("lambda", "ListFunctionUrlConfigs", Some("legacy-fn")), ("sesv2", "ListEmailIdentities", None), ("securityhub", "GetEnabledStandards", None)]
    {
        let failed = outcomes(&inventory, service, operation, target);
        assert!(!failed.is_empty() && failed.iter().all(|outcome| !outcome.is_read()), "{service}:{operation} {failed:?}");
    }

    let findings = run_checks(&inventory);
    for (check_id, bad, good) in [
        ("sqs_queue_encrypted_at_rest", "orders-plain", "orders-secure"),
        ("sqs_queue_encrypted_with_cmk", "orders-plain", "orders-secure"),
        ("sqs_queue_policy_not_public", "orders-plain", "orders-secure"),
        ("sqs_queue_https_only", "orders-plain", "orders-secure"),
        ("sqs_queue_has_dead_letter_queue", "orders-plain", "orders-secure"),
        ("kinesis_stream_encrypted_at_rest", "clicks-plain", "clicks-secure"),
        ("kinesis_stream_encrypted_with_cmk", "clicks-plain", "clicks-secure"),
        ("kinesis_stream_retention_adequate", "clicks-plain", "clicks-secure"),
        ("lambda_function_runtime_supported", "legacy-fn", "modern-fn"),
        ("lambda_function_policy_not_public", "legacy-fn", "modern-fn"),
        ("lambda_function_no_secrets_in_environment", "legacy-fn", "modern-fn"),
        ("lambda_function_tracing_enabled", "legacy-fn", "modern-fn"),
        ("route53_public_zone_query_logging", silent_zone.as_str(), logged_zone.as_str()),
        ("route53_domain_auto_renew", "bad-domain.com", "good-domain.com"),
        ("route53_domain_privacy_protection", "bad-domain.com", "good-domain.com"),
        ("guardduty_enabled", "eu-west-1", "us-east-1"),
        ("guardduty_s3_protection_enabled", "eu-west-1", "us-east-1"),
        ("securityhub_enabled", "eu-west-1", "us-east-1"),
        ("secretsmanager_rotation_enabled", "app/legacy", "app/db"),
        ("secretsmanager_encrypted_with_cmk", "app/legacy", "app/db"),
        ("secretsmanager_policy_not_public", "app/legacy", "app/db"),
        ("ecr_repository_scan_on_push", "bad-repo", "good-repo"),
        ("ecr_repository_tag_immutable", "bad-repo", "good-repo"),
        ("ecr_repository_lifecycle_policy", "bad-repo", "good-repo"),
        ("ecr_repository_policy_not_public", "bad-repo", "good-repo"),
        ("ecr_repository_encrypted_with_cmk", "bad-repo", "good-repo"),
    ] {
        assert_twins(&findings, check_id, bad, good);
    }
    // The dead-letter queue itself is exempt from needing one.
    assert!(statuses(&findings, "sqs_queue_has_dead_letter_queue", "orders-dlq").is_empty());

    // CloudFront twins, by distribution id.
    let distribution_id = |comment_domain: &str| {
        inventory.edge.distributions.iter().find(|distribution| distribution.origins[0].domain_name.starts_with(comment_domain)).unwrap().id.clone()
    };
    let (bad_cdn, good_cdn) = (distribution_id("bad-cdn"), distribution_id("good-cdn"));
    for check_id in [
        "cloudfront_distribution_viewer_https",
        "cloudfront_distribution_viewer_tls_1_2",
        "cloudfront_distribution_origin_https",
        "cloudfront_distribution_origin_tls",
        "cloudfront_distribution_logging_enabled",
        "cloudfront_distribution_waf_enabled",
        "cloudfront_distribution_default_root_object",
        "cloudfront_distribution_sni",
    ] {
        assert_twins(&findings, check_id, &bad_cdn, &good_cdn);
    }

    // Data moto cannot serve is reported as ERROR naming the call, never as PASS.
    for (check_id, resource) in
        [("lambda_function_url_auth_required", "legacy-fn"), ("ses_identity_dkim_enabled", "us-east-1"), ("securityhub_fsbp_standard_enabled", "us-east-1")]
    {
        let found = statuses(&findings, check_id, resource);
        assert_eq!(found, vec![Status::Error], "{check_id} on {resource}");
    }
    let ses_error = findings.iter().find(|finding| finding.check_id == "ses_identity_dkim_enabled" && finding.region == "us-east-1").unwrap();
    assert!(ses_error.message.contains("ListEmailIdentities"), "{}", ses_error.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_reads_become_errors_naming_the_call_and_no_dependent_check_passes() {
    // moto enforces IAM after the first N requests: the setup below makes exactly 5.
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "5")]);
    let admin = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    iam.create_user().user_name("auditor").send().await.expect("user");
    let read_but = policy(concat!(
        r#"{"Effect":"Allow","Action":"*","Resource":"*"},"#,
        r#"{"Effect":"Deny","Action":["sqs:ListQueues","secretsmanager:GetResourcePolicy","guardduty:ListDetectors"],"Resource":"*"}"#
    ));
    iam.put_user_policy().user_name("auditor").policy_name("read-but").policy_document(read_but).send().await.expect("policy");
    let key = iam.create_access_key().user_name("auditor").send().await.expect("key").access_key.expect("access key");
    aws_sdk_sqs::Client::new(&admin).create_queue().queue_name("hidden").send().await.expect("queue");
    aws_sdk_secretsmanager::Client::new(&admin).create_secret().name("guarded").secret_string("value").send().await.expect("secret");

    let auditor = moto.sdk_config_with_keys(&key.access_key_id, &key.secret_access_key, "us-east-1").await;
    let mut config = config(&moto);
    config.regions = vec!["us-east-1".to_string()];
    let inventory = collect_with(auditor, &config, Arc::new(NoProgress)).await.expect("collection completes");
    assert!(matches!(outcomes(&inventory, "sqs", "ListQueues", None)[..], [Outcome::AccessDenied { .. }]));
    assert!(matches!(outcomes(&inventory, "guardduty", "ListDetectors", None)[..], [Outcome::AccessDenied { .. }]));
    let secret = &inventory.regional[&Region::new("us-east-1")].secrets[0];
    assert!(matches!(outcomes(&inventory, "secretsmanager", "GetResourcePolicy", Some(&secret.arn))[..], [Outcome::AccessDenied { .. }]));

    let findings = run_checks(&inventory);
    let by_check = |prefix: &str| findings.iter().filter(move |finding| finding.check_id.starts_with(prefix)).collect::<Vec<_>>();
    for finding in by_check("sqs_").into_iter().chain(by_check("guardduty_")) {
        assert_eq!(finding.status, Status::Error, "{}: {}", finding.check_id, finding.message);
    }
    assert!(by_check("sqs_").iter().all(|finding| finding.message.contains("ListQueues")));
    assert!(by_check("guardduty_").iter().any(|finding| finding.message.contains("ListDetectors")));
    let policy_findings: Vec<_> = findings.iter().filter(|finding| finding.check_id == "secretsmanager_policy_not_public").collect();
    assert_eq!(policy_findings.len(), 1);
    assert_eq!(policy_findings[0].status, Status::Error);
    assert!(policy_findings[0].message.contains("GetResourcePolicy"));
    // Checks that need only the listing still decide.
    assert!(findings.iter().any(|finding| finding.check_id == "secretsmanager_rotation_enabled" && finding.status == Status::Fail));
}
