//! Issue 14 on moto: listing calls denied by IAM (moto enforces IAM after the first requests)
//! turn every check that declares them into ERROR naming the call and never PASS; a multi-region
//! trail homed in a region the scan does not read is seen through its shadow copy; an AWS
//! managed policy (AdministratorAccess, loaded by `MOTO_IAM_LOAD_MANAGED_POLICIES`) attached to
//! a user fails the full-admin check.
//!
//! moto cannot seed an organization trail seen from a member account (it has no cross-account
//! shadow trails): that case is pinned by the model tests beside the checks
//! (`logging::tests`, `monitoring::tests`).

use std::sync::Arc;

use vigil_checks::frameworks::{FRAMEWORKS, RequirementStatus, summarize};
use vigil_checks::{CHECKS, Finding, Status};
use vigil_collect::{NoProgress, collect_with};
use vigil_testkit::MotoServer;

use crate::support::{self, outcomes};

const REGION: &str = "us-east-1";

/// Representative listing calls, each as the IAM action that denies it and the (service,
/// operation) the ledger records.
const DENIED: &[(&str, &str, &str)] = &[
    ("iam:GetAccountAuthorizationDetails", "iam", "GetAccountAuthorizationDetails"),
    ("kms:ListKeys", "kms", "ListKeys"),
    ("s3:ListAllMyBuckets", "s3", "ListBuckets"),
    ("cloudtrail:DescribeTrails", "cloudtrail", "DescribeTrails"),
    ("autoscaling:DescribeLaunchConfigurations", "autoscaling", "DescribeLaunchConfigurations"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_listings_make_every_check_that_declares_them_an_error_naming_the_call() {
    // moto enforces IAM after the first N requests: the setup below makes exactly 3.
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let admin = moto.sdk_config().await;
    let key = support::auditor_denied(&admin, DENIED.iter().map(|(action, _, _)| *action)).await; // 1-3

    let auditor = moto.sdk_config_with_keys(&key.access_key_id, &key.secret_access_key, REGION).await;
    let services = ["iam", "s3", "kms", "cloudtrail", "autoscaling"];
    let inventory = collect_with(auditor, &support::config(&moto, &[REGION], &services), Arc::new(NoProgress)).await.expect("collection");
    let findings = support::run_checks(&inventory, &[]);
    let mut problems = Vec::new();
    for (action, service, operation) in DENIED {
        let denied = outcomes(&inventory, service, operation, None);
        if !denied.iter().any(|outcome| outcome.label() == "access_denied") {
            problems.push(format!("{action}: moto did not deny {service}:{operation} ({denied:?})"));
            continue;
        }
        let name = format!("{service}:{operation}");
        // The checks that depend on the call are those that declare it: the same list the
        // ERROR comes from.
        let dependents: Vec<&str> = CHECKS
            .iter()
            .map(|check| check.metadata())
            .filter(|metadata| metadata.reads.iter().any(|read| read.service == *service && read.operation == *operation))
            .map(|metadata| metadata.id)
            .collect();
        if dependents.is_empty() {
            problems.push(format!("no check declares {name}"));
        }
        for check in dependents {
            let of_check: Vec<&Finding> = findings.iter().filter(|finding| finding.check_id == check).collect();
            if !of_check.iter().any(|finding| finding.status == Status::Error && finding.message.contains(&name)) {
                problems.push(format!(
                    "{check}: no ERROR naming {name}: {:?}",
                    of_check.iter().map(|finding| (finding.status, &finding.message)).collect::<Vec<_>>()
                ));
            }
            for finding in of_check.iter().filter(|finding| finding.status == Status::Pass) {
                problems.push(format!("{check}: PASS although {name} was denied: {}", finding.message));
            }
        }
    }
    // The requirements of those checks read ERROR (or FAIL), never PASS or "no resources".
    for framework in FRAMEWORKS {
        for row in summarize(framework, &findings) {
            let reads_denied = row.checks.iter().filter_map(|check| vigil_checks::find(check)).any(|check| {
                check.metadata().reads.iter().any(|read| DENIED.iter().any(|(_, service, operation)| read.service == *service && read.operation == *operation))
            });
            if reads_denied && matches!(row.status, RequirementStatus::Pass | RequirementStatus::NoResources) {
                problems.push(format!("{} {} reads {:?}", framework.id, row.requirement, row.status));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 14, item 2: DescribeTrails asked without shadow trails, so a scan that reads a region
/// other than the trail's home saw no trail, and CIS 3.1 failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_region_trail_homed_in_an_unscanned_region_logs_the_scanned_one() {
    let moto = MotoServer::start();
    let admin = moto.sdk_config().await;
    moto.s3(REGION).await.create_bucket().bucket("org-trail-logs").send().await.expect("bucket");
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&admin);
    cloudtrail.create_trail().name("everywhere").s3_bucket_name("org-trail-logs").is_multi_region_trail(true).send().await.expect("trail");
    cloudtrail.start_logging().name("everywhere").send().await.expect("start logging");

    let config = support::config(&moto, &["eu-west-1"], &["cloudtrail"]);
    let inventory = collect_with(admin, &config, Arc::new(NoProgress)).await.expect("collection");
    let trails: Vec<&str> = inventory.trails().map(|(_, trail)| trail.name.as_str()).collect();
    assert_eq!(trails, vec!["everywhere"], "the shadow copy in eu-west-1 is read");
    let findings = support::run_checks(&inventory, &["cloudtrail"]);
    assert_eq!(support::statuses(&findings, "cloudtrail_multi_region_enabled", "global"), vec![Status::Pass], "{findings:#?}");
    assert_eq!(support::statuses(&findings, "cloudtrail_trail_is_logging", "everywhere"), vec![Status::Pass]);
}

/// Issue 14, item 3: AdministratorAccess attached to a user never failed CIS 1.15.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrator_access_attached_to_a_user_fails_the_full_admin_check() {
    let moto = MotoServer::start();
    let admin = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    iam.create_user().user_name("operator").send().await.expect("user");
    iam.attach_user_policy().user_name("operator").policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.expect("attach");
    iam.create_user().user_name("reader").send().await.expect("user");
    iam.attach_user_policy().user_name("reader").policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").send().await.expect("attach");

    let inventory = collect_with(admin, &support::config(&moto, &[REGION], &["iam"]), Arc::new(NoProgress)).await.expect("collection");
    let findings = support::run_checks(&inventory, &["iam"]);
    let admin_policy: Vec<&Finding> =
        findings.iter().filter(|finding| finding.check_id == "iam_policy_no_full_admin_privileges" && finding.resource_id == "AdministratorAccess").collect();
    assert_eq!(admin_policy.iter().map(|finding| finding.status).collect::<Vec<_>>(), vec![Status::Fail], "{findings:#?}");
    assert_eq!(admin_policy[0].resource_arn, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(support::statuses(&findings, "iam_policy_no_full_admin_privileges", "ReadOnlyAccess"), vec![Status::Pass]);
    // The framework rows citing the check read FAIL.
    for (framework, requirement) in [("cis-aws-5.0", "1.15"), ("aws-fsbp", "IAM.1")] {
        let framework = FRAMEWORKS.iter().find(|candidate| candidate.id == framework).expect("framework");
        let row = summarize(framework, &findings).into_iter().find(|row| row.requirement == requirement).expect("requirement");
        assert_eq!(row.status, RequirementStatus::Fail, "{} {requirement}", framework.id);
    }
}
