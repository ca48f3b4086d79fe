//! Helpers shared by the moto tests: a collection configuration for the test's server, the
//! ledger's outcomes of one call, and running the checks over an inventory.

use vigil_checks::{Context, Finding, Status};
use vigil_collect::CollectConfig;
use vigil_model::{Inventory, Outcome};
use vigil_testkit::MotoServer;

/// Collection from `moto` in `regions`, of `services` (all of them when empty), with two
/// attempts per call so that a failing call is reported quickly.
pub fn config(moto: &MotoServer, regions: &[&str], services: &[&str]) -> CollectConfig {
    CollectConfig {
        regions: regions.iter().map(|region| region.to_string()).collect(),
        endpoint_url: Some(moto.endpoint_url.clone()),
        services: services.iter().map(|service| service.to_string()).collect(),
        max_attempts: 2,
        ..CollectConfig::default()
    }
}

/// The outcomes the ledger recorded for one call of `service` (any service when empty).
pub fn outcomes<'a>(inventory: &'a Inventory, service: &str, operation: &str, target: Option<&str>) -> Vec<&'a Outcome> {
    inventory
        .ledger
        .calls
        .iter()
        .filter(|call| (service.is_empty() || call.service == service) && call.operation == operation && call.target.as_deref() == target)
        .map(|call| &call.outcome)
        .collect()
}

/// Runs the checks of `services` (every check when empty) over the inventory.
pub fn run_checks(inventory: &Inventory, services: &[&str]) -> Vec<Finding> {
    vigil_checks::run_all(&Context::new(inventory, chrono::Utc::now()), |metadata| services.is_empty() || services.contains(&metadata.service))
}

/// The statuses one check gave one resource (by resource id, or region for account-level checks).
pub fn statuses(findings: &[Finding], check_id: &str, resource: &str) -> Vec<Status> {
    findings
        .iter()
        .filter(|finding| {
            finding.check_id == check_id && (finding.resource_id == resource || (finding.resource_type == "AWS::::Account" && finding.region == resource))
        })
        .map(|finding| finding.status)
        .collect()
}

/// The bad twin FAILs and the good twin PASSes.
pub fn assert_twins(findings: &[Finding], check_id: &str, bad: &str, good: &str) {
    assert_eq!(statuses(findings, check_id, bad), vec![Status::Fail], "{check_id}: bad twin `{bad}`");
    assert_eq!(statuses(findings, check_id, good), vec![Status::Pass], "{check_id}: good twin `{good}`");
}

/// An IAM user `auditor` allowed everything but `denied` (IAM actions), and its access key:
/// exactly three requests to moto (create the user, put its policy, create the key), for tests
/// that let moto enforce IAM after the first N requests.
pub async fn auditor_denied<'a>(admin: &aws_types::SdkConfig, denied: impl Iterator<Item = &'a str>) -> aws_sdk_iam::types::AccessKey {
    let iam = aws_sdk_iam::Client::new(admin);
    iam.create_user().user_name("auditor").send().await.expect("user");
    let actions: Vec<String> = denied.map(|action| format!("\"{action}\"")).collect();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":[{}],"Resource":"*"}}]}}"#,
        actions.join(",")
    );
    iam.put_user_policy().user_name("auditor").policy_name("read-but").policy_document(policy).send().await.expect("policy");
    iam.create_access_key().user_name("auditor").send().await.expect("key").access_key.expect("access key")
}
