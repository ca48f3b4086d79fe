//! Item 9 of issue 14: real SDK errors (from moto, and from a closed port) become ledger
//! outcomes whose message is one readable line naming the kind of failure, with the SDK's raw
//! error kept in the entry's `detail` and so in the ERROR finding's evidence.

use std::sync::Arc;

use crate::support;
use vigil_checks::Status;
use vigil_collect::session::{detail_of_error, outcome_of_error};
use vigil_collect::{NoProgress, collect_with};
use vigil_model::ledger::codes;
use vigil_model::{ApiCall, Inventory, Outcome};
use vigil_testkit::{MotoServer, example_corp};

fn calls<'a>(inventory: &'a Inventory, operation: &str) -> Vec<&'a ApiCall> {
    inventory.ledger.calls.iter().filter(|call| call.operation == operation).collect()
}

/// No SDK debug structure (`StartEl { name: Name { ... } }`, `ServiceError(...)`) in a line a
/// person reads.
fn assert_readable(line: &str) {
    for debug in ["StartEl", "Name {", "ServiceError", "Unhandled", "ErrorMetadata", "DeserializeError", "{ "] {
        assert!(!line.contains(debug), "`{debug}` in the readable line: {line}");
    }
    assert!(!line.contains('\n') && line.len() < 400, "not one short line: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_errors_become_readable_outcomes_with_the_raw_error_in_the_detail() {
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    let config = support::config(&moto, &["us-east-1"], &["s3", "ec2", "sesv2"]);
    let inventory = collect_with(moto.sdk_config().await, &config, Arc::new(NoProgress)).await.expect("collection");

    // moto answers GetBucketVersioning with a `GetBucketVersioningResponse` root element where
    // S3 sends `VersioningConfiguration`: an unreadable reply, said so.
    let versioning = calls(&inventory, "GetBucketVersioning");
    assert!(!versioning.is_empty());
    for call in &versioning {
        let Outcome::Error { code, message } = &call.outcome else { panic!("expected an error, got {:?}", call.outcome) };
        assert_eq!(code, codes::UNREADABLE_REPLY);
        assert!(message.contains("`GetBucketVersioningResponse`"), "{message}");
        let line = call.failure_line().expect("a failure");
        let expected = format!(
            "s3:GetBucketVersioning in {} for `{}`: unreadable reply: HTTP 200 with an XML document",
            call.region,
            call.target.as_deref().unwrap_or_default()
        );
        assert!(line.starts_with(&expected), "{line}");
        assert_readable(&line);
        // The raw error stays for a bug report.
        assert!(call.detail.as_deref().is_some_and(|detail| detail.contains("VersioningConfiguration")), "{:?}", call.detail);
    }

    // GetInstanceMetadataDefaults is not implemented by moto: an HTML error page with HTTP 500.
    let defaults = calls(&inventory, "GetInstanceMetadataDefaults");
    let [call] = defaults[..] else { panic!("{defaults:?}") };
    assert_eq!(call.outcome, Outcome::Error { code: "HTTP 500".into(), message: "HTTP 500 with an HTML page instead of an AWS error document".into() });

    // SES v2's ListEmailIdentities: moto answers the SDK's request with HTTP 404 and an HTML page.
    let identities = calls(&inventory, "ListEmailIdentities");
    let [call] = identities[..] else { panic!("{identities:?}") };
    assert!(matches!(&call.outcome, Outcome::NotAvailableInRegion { code, .. } if code == codes::NOT_IMPLEMENTED), "{:?} {:?}", call.outcome, call.detail);
    assert_readable(&call.failure_line().expect("a failure"));

    // The ERROR finding says it in one line; the evidence keeps the raw detail.
    let findings = support::run_checks(&inventory, &["s3"]);
    let errors: Vec<_> = findings.iter().filter(|finding| finding.check_id == "s3_bucket_versioning_enabled").collect();
    assert!(!errors.is_empty() && errors.iter().all(|finding| finding.status == Status::Error));
    for finding in errors {
        assert!(finding.message.starts_with("could not read s3:GetBucketVersioning in "), "{}", finding.message);
        assert!(finding.message.contains(": unreadable reply: "), "{}", finding.message);
        assert_readable(&finding.message);
        let evidence = finding.evidence.to_value();
        assert!(evidence["call"]["detail"].as_str().is_some_and(|detail| detail.contains("VersioningConfiguration")), "{evidence}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_call_reads_as_access_denied_with_the_services_words() {
    // moto enforces IAM after the first two requests (the setup below); a user with no policy
    // is denied everything.
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]);
    let admin = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    iam.create_user().user_name("nobody").send().await.expect("user");
    let key = iam.create_access_key().user_name("nobody").send().await.expect("key").access_key.expect("key");
    let config = moto.sdk_config_with_keys(&key.access_key_id, &key.secret_access_key, "us-east-1").await;
    let error = aws_sdk_ec2::Client::new(&config).describe_vpcs().send().await.expect_err("denied");
    let outcome = outcome_of_error(&error);
    let Outcome::AccessDenied { code, message } = &outcome else { panic!("{outcome:?}") };
    assert!(!code.is_empty() && !message.is_empty(), "{outcome:?}");
    let line = ApiCall { detail: Some(detail_of_error(&error)), ..ApiCall::new("ec2", "us-east-1", "DescribeVpcs", None, outcome.clone()) }
        .failure_line()
        .unwrap_or_default();
    assert!(line.starts_with("ec2:DescribeVpcs in us-east-1: access denied: "), "{line}");
    assert_readable(&line);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_reads_as_connection_failed() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("port").port();
    let config = aws_sdk_sts::config::Builder::new()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let error = aws_sdk_sts::Client::from_conf(config).get_caller_identity().send().await.expect_err("nothing listens");
    let outcome = outcome_of_error(&error);
    let Outcome::Error { code, message } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(code, codes::CONNECTION_FAILED);
    assert!(message.to_lowercase().contains("refused"), "{message}");
    let line = ApiCall::new("sts", "global", "GetCallerIdentity", None, outcome.clone()).failure_line().unwrap_or_default();
    assert!(line.starts_with("sts:GetCallerIdentity in global: connection failed: "), "{line}");
    assert_readable(&line);
}
