//! Proof under faults (issue 14): the collector reads moto through the fault-injecting proxy
//! (`vigil_testkit::fault_proxy`). With transient faults (throttling in each protocol's wire
//! format, 5xx, connection resets, 2 s stalls on 30% of attempts) the scan completes with the
//! findings of a clean scan and the ledger records the retries; with faults that never clear,
//! the checks that depend on the failed calls are ERROR, never PASS.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use vigil_checks::{Finding, Status};
use vigil_collect::{CollectConfig, NoProgress, collect_with};
use vigil_model::{Inventory, Outcome};
use vigil_testkit::{Fault, FaultPlan, FaultProxy, MotoServer, example_corp};

/// Attempts per call, as `vigil scan` defaults to (`--max-attempts 5`).
const MAX_ATTEMPTS: u32 = 5;

/// Collects Example Corp through `endpoint_url` (moto itself or the proxy in front of it),
/// with vigil's retry mode.
async fn collect(endpoint_url: &str, max_attempts: u32) -> Inventory {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "faults"))
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(endpoint_url)
        .retry_config(RetryConfig::adaptive().with_max_attempts(max_attempts))
        .load()
        .await;
    let config = CollectConfig {
        regions: example_corp::REGIONS.iter().map(|region| region.to_string()).collect(),
        endpoint_url: Some(endpoint_url.to_string()),
        max_attempts,
        ..CollectConfig::default()
    };
    collect_with(sdk_config, &config, Arc::new(NoProgress)).await.expect("the collection completes")
}

/// Each finding as (check, resource, region, status): what must not change under faults.
fn verdicts(findings: &[Finding]) -> BTreeSet<(String, String, String, Status)> {
    findings.iter().map(|finding| (finding.check_id.to_string(), finding.resource_id.to_string(), finding.region.to_string(), finding.status)).collect()
}

/// The ledger without retry counts and raw details: which calls were made and what came of them.
fn calls(inventory: &Inventory) -> Vec<(String, String, String, Option<String>, Outcome)> {
    let mut calls: Vec<_> = inventory
        .ledger
        .calls
        .iter()
        .map(|call| (call.service.clone(), call.region.clone(), call.operation.clone(), call.target.clone(), call.outcome.clone()))
        .collect();
    calls.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_through_transient_faults_equals_a_clean_scan_and_records_retries() {
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    let clean = collect(&moto.endpoint_url, MAX_ATTEMPTS).await;
    let proxy = FaultProxy::start(&moto.endpoint_url, FaultPlan::transient(14)).await;
    let faulted = collect(&proxy.endpoint_url, MAX_ATTEMPTS).await;

    let stats = proxy.stats();
    for fault in [Fault::Throttle, Fault::ServerError, Fault::Reset, Fault::Stall] {
        assert!(stats.injected.get(&fault).copied().unwrap_or(0) > 0, "no {fault:?} injected: {stats:?}");
    }
    // Every call was read exactly as in the clean scan...
    let (faulted_calls, clean_calls) = (calls(&faulted), calls(&clean));
    let only_faulted: Vec<_> = faulted_calls.iter().filter(|call| !clean_calls.contains(call)).collect();
    let only_clean: Vec<_> = clean_calls.iter().filter(|call| !faulted_calls.contains(call)).collect();
    assert!(only_faulted.is_empty() && only_clean.is_empty(), "only under faults: {only_faulted:?}\nonly clean: {only_clean:?}");
    // ... so the verdicts are the same.
    let now = chrono::Utc::now();
    let run = |inventory: &Inventory| vigil_checks::run_all(&vigil_checks::Context::new(inventory, now), |_| true);
    let (clean_findings, faulted_findings) = (run(&clean), run(&faulted));
    assert!(clean_findings.len() > 100);
    assert_eq!(verdicts(&faulted_findings), verdicts(&clean_findings));
    // The ledger counts the retries the faults caused: beyond those of the clean scan (moto's
    // HTTP 500 for operations it lacks is retried too), one per failed attempt at most (calls
    // the SDK makes on vigil's behalf, like sts:GetCallerIdentity, are not in the count).
    let retries = |inventory: &Inventory| inventory.ledger.calls.iter().map(|call| u64::from(call.retries)).sum::<u64>();
    assert!(clean.ledger.calls.iter().all(|call| call.retries == 0 || !call.outcome.is_read()), "a clean read was retried");
    let caused = retries(&faulted) - retries(&clean);
    assert!(caused > 0 && caused <= stats.failing(), "{caused} retries recorded for {} failed attempts", stats.failing());
    assert!(faulted.ledger.calls.iter().any(|call| call.service == "s3" && call.retries > 0), "no S3 retry recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_whose_calls_never_stop_failing_are_error_never_pass() {
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    // One call per protocol: EC2 query, JSON 1.1, S3 REST-XML, AWS query.
    let never_clear = vec![
        ("ec2:DescribeSecurityGroups".to_string(), Fault::Throttle),
        ("cloudtrail:GetTrailStatus".to_string(), Fault::ServerError),
        ("s3:GET /example-corp-trail-logs/?policy".to_string(), Fault::Reset),
        ("sns:GetTopicAttributes".to_string(), Fault::Throttle),
    ];
    let dependent: &[(&str, &[&str])] = &[
        ("DescribeSecurityGroups", &["ec2_security_group_admin_ports_open_to_world", "ec2_default_security_group_restricts_all"]),
        ("GetTrailStatus", &["cloudtrail_trail_is_logging"]),
        ("GetBucketPolicy", &["s3_bucket_secure_transport_required"]),
        ("GetTopicAttributes", &["sns_topic_encrypted_at_rest"]),
    ];
    let clean = collect(&moto.endpoint_url, 3).await;
    let proxy = FaultProxy::start(&moto.endpoint_url, FaultPlan::only_never_clear(never_clear)).await;
    let faulted = collect(&proxy.endpoint_url, 3).await;

    let now = chrono::Utc::now();
    let clean_findings = vigil_checks::run_all(&vigil_checks::Context::new(&clean, now), |_| true);
    let findings = vigil_checks::run_all(&vigil_checks::Context::new(&faulted, now), |_| true);
    // The trail bucket's TLS-only policy and the logging trail PASS when read.
    for (check, resource) in [("s3_bucket_secure_transport_required", "example-corp-trail-logs"), ("cloudtrail_trail_is_logging", "example-corp")] {
        assert!(clean_findings.iter().any(|finding| finding.check_id == check && finding.resource_id == resource && finding.status == Status::Pass), "{check}");
    }
    for (operation, checks) in dependent {
        let failed: Vec<_> = faulted.ledger.calls.iter().filter(|call| call.operation == *operation && !call.outcome.is_read()).collect();
        assert!(!failed.is_empty(), "{operation} did not fail; the proxy saw {:?}", proxy.stats().seen);
        for call in &failed {
            // Every attempt failed: the retries are all there, and the line says why.
            assert_eq!(call.retries, 2, "{call:?}");
            let line = call.failure_line().unwrap_or_default();
            assert!(line.ends_with("(after 2 retries)") && !line.contains("StartEl"), "{line}");
        }
        for check in *checks {
            let of_check: Vec<&Finding> = findings.iter().filter(|finding| finding.check_id == *check).collect();
            assert!(
                of_check.iter().any(|finding| finding.status == Status::Error && finding.message.contains(operation)),
                "{check}: no ERROR naming {operation}"
            );
            for finding in of_check {
                let reads_the_failed_call = failed.iter().any(|call| call.target.as_deref().is_none_or(|target| target == &*finding.resource_id));
                assert!(!(reads_the_failed_call && finding.status == Status::Pass), "{check} passed although {operation} never succeeded: {}", finding.message);
            }
        }
    }
    let throttled = faulted.ledger.calls.iter().find(|call| call.operation == "DescribeSecurityGroups").map(|call| &call.outcome);
    assert!(matches!(throttled, Some(Outcome::Throttled { code, .. }) if code == "RequestLimitExceeded"), "{throttled:?}");
    let reset = faulted.ledger.calls.iter().find(|call| call.operation == "GetBucketPolicy" && call.target.as_deref() == Some("example-corp-trail-logs"));
    assert!(matches!(reset.map(|call| &call.outcome), Some(Outcome::Error { code, .. }) if code == vigil_model::ledger::codes::CONNECTION_FAILED), "{reset:?}");
}
