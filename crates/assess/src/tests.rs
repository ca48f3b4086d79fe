//! The pipeline's tests: an event update and a full scan judge a resource alike, custom checks
//! count as run, and an organization's union is ordered like one account's findings.

use std::collections::BTreeMap;
use std::path::Path;

use vigil_checks::{Finding, Status};
use vigil_model::Inventory;

use super::*;

fn demo() -> Inventory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
    vigil_model::snapshot::from_bytes(&std::fs::read(path).unwrap(), "the demo snapshot").unwrap()
}

fn rego_examples() -> RegoChecks {
    RegoChecks::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/rego")).unwrap()
}

fn now() -> Timestamp {
    "2026-01-15T00:00:00Z".parse().unwrap()
}

/// A policy that disables one check for production-tagged resources and raises another's
/// severity, and a mutelist muting every finding on one bucket: what scan and watch both apply.
fn assessor(inventory: &Inventory) -> Assessor {
    let policy = Policy::parse(
        "rules:\n  - name: sandbox\n    match: { tags: { env: prod } }\n    disable: [ec2_instance_imdsv2_required]\n  - name: strict\n    match: {}\n    require: [s3_bucket_versioning_enabled]\n    severity: critical\n",
        "policy.yaml",
    )
    .unwrap();
    let bucket = inventory.resources().into_iter().find(|resource| resource.resource_type == "AWS::S3::Bucket").unwrap().id.to_string();
    let mutelist = Mutelist::parse(
        &format!("Mutelist:\n  Accounts:\n    \"*\":\n      Checks:\n        \"*\":\n          Regions: [\"*\"]\n          Resources: [\"{bucket}\"]\n          Description: test\n"),
        "mutelist.yaml",
    )
    .unwrap();
    Assessor { policy, mutelist: Some(mutelist), rego: Some(rego_examples()), agent_roster: None, host_facts: Default::default() }
}

fn keys(findings: &[Finding]) -> Vec<(String, String, Status)> {
    findings.iter().map(|finding| (finding.check_id.to_string(), finding.resource_arn.to_string(), finding.status)).collect()
}

/// `vigil watch` assesses the resources an event names (`Selection::resources`), `vigil scan`
/// the whole inventory (`Selection::everything`). Through the one pipeline, every resource's
/// findings after an event are exactly, in order and in content, those of a full scan: the
/// same checks, policy scope, mutelist, Rego checks and order.
#[test]
fn an_event_update_judges_its_resources_exactly_as_a_full_scan_does() {
    let inventory = demo();
    let mut assessor = assessor(&inventory);
    let full = assessor.assess(&inventory, &Selection::everything(), now()).unwrap();
    assert!(full.findings.iter().any(|finding| finding.status == Status::Muted), "the mutelist should mute a finding");
    assert!(full.findings.iter().any(|finding| finding.check_id == "custom_bucket_has_owner_tag"), "the Rego checks should run");
    assert!(full.findings.iter().any(|finding| finding.check_id == "s3_bucket_versioning_enabled" && finding.severity == vigil_checks::Severity::Critical));

    let mut by_type: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for resource in inventory.resources() {
        by_type.entry(resource.resource_type).or_default().push(resource.arn);
    }
    let mut compared = 0;
    for (resource_type, arns) in &by_type {
        let selection = Selection::resources(arns.iter().map(String::as_str));
        let event = assessor.assess(&inventory, &selection, now()).unwrap();
        let expected: Vec<Finding> = full.findings.iter().filter(|finding| arns.contains(&finding.resource_arn.to_string())).cloned().collect();
        assert_eq!(keys(&event.findings), keys(&expected), "{resource_type}");
        assert_eq!(event.findings, expected, "{resource_type}");
        compared += expected.len();
    }
    // Account-level findings (about the account, not a listed resource) are a full scan's only.
    assert!(compared > full.findings.len() / 2, "{compared} of {} findings compared", full.findings.len());
}

/// A Rego check that found nothing still ran: its id is in `checks_run`, so the store resolves
/// its earlier findings. (`vigil scan` used to record only the catalog's ids, and a custom
/// check's FAIL stayed open forever after it was fixed.)
#[test]
fn every_rego_check_that_ran_is_recorded_as_run_even_without_findings() {
    let mut inventory = demo();
    // No bucket, no user called admin: neither example check has a finding.
    inventory.s3.buckets.clear();
    inventory.iam.users.clear();
    let mut assessor = Assessor { policy: Policy::bundled(), mutelist: None, rego: Some(rego_examples()), agent_roster: None, host_facts: Default::default() };
    let assessment = assessor.assess(&inventory, &Selection::everything(), now()).unwrap();
    assert!(!assessment.findings.iter().any(|finding| finding.check_id.starts_with("custom_")));
    for id in ["custom_bucket_has_owner_tag", "custom_no_user_named_admin"] {
        assert!(assessment.checks_run.iter().any(|ran| ran == id), "{id} missing from {:?}", assessment.checks_run);
    }
    assert_eq!(assessment.checks_run.len(), vigil_checks::CHECKS.len() + 2);
}

/// `--check` and `--framework` narrow the catalog; custom checks then do not run (a framework
/// maps none of them) and only the selected checks count as run.
#[test]
fn a_narrowed_selection_runs_only_its_catalog_checks() {
    let inventory = demo();
    let mut assessor = Assessor { policy: Policy::bundled(), mutelist: None, rego: Some(rego_examples()), agent_roster: None, host_facts: Default::default() };
    let selection = Selection { checks: vec!["iam_root_mfa_enabled".into()], ..Selection::default() };
    let assessment = assessor.assess(&inventory, &selection, now()).unwrap();
    assert_eq!(assessment.checks_run, ["iam_root_mfa_enabled"]);
    assert!(!assessment.findings.is_empty());
    assert!(assessment.findings.iter().all(|finding| finding.check_id == "iam_root_mfa_enabled"));

    let framework = vigil_checks::frameworks::find("cis").unwrap();
    let selection = Selection { framework: Some(framework), ..Selection::default() };
    let assessment = assessor.assess(&inventory, &selection, now()).unwrap();
    assert!(assessment.checks_run.iter().all(|id| vigil_checks::find(id).is_some_and(|check| framework.maps(check.metadata()))));
    assert!(!assessment.compliance(framework).is_empty());
}

/// An organization's union holds every account's findings, in the order one account's are
/// in, and each check once.
#[test]
fn an_organizations_union_is_ordered_like_one_accounts_findings() {
    let first = demo();
    let mut second = demo();
    second.account.account_id = "444455556666".parse().unwrap();
    let mut assessor = Assessor { policy: Policy::bundled(), mutelist: None, rego: None, agent_roster: None, host_facts: Default::default() };
    let (union, per_account) = assessor.assess_accounts(&[first, second], &Selection::everything(), now()).unwrap();
    assert_eq!(per_account.len(), 2);
    assert_eq!(union.findings.len(), per_account[0].findings.len() + per_account[1].findings.len());
    assert_eq!(union.checks_run, per_account[0].checks_run);
    let mut sorted = union.findings.clone();
    sort_findings(&mut sorted);
    assert_eq!(sorted, union.findings);
    assert_eq!(union.findings.first().map(|finding| finding.status), Some(Status::Fail));
}

/// One account's assessment is the union itself: its findings are not held a second time.
#[test]
fn one_accounts_union_is_its_own_assessment() {
    let mut assessor = Assessor { policy: Policy::bundled(), mutelist: None, rego: None, agent_roster: None, host_facts: Default::default() };
    let alone = assessor.assess(&demo(), &Selection::everything(), now()).unwrap();
    let (union, per_account) = assessor.assess_accounts(&[demo()], &Selection::everything(), now()).unwrap();
    assert!(per_account.is_empty());
    assert_eq!(union.findings, alone.findings);
    assert_eq!(union.checks_run, alone.checks_run);
}

/// The findings' order is the stable sort's: FAIL first, severity, check, resource, and ties
/// (the same check and resource, e.g. two findings on one bucket) in the order they came.
#[test]
fn findings_sort_as_a_stable_sort_by_status_severity_check_and_resource_would() {
    let mut assessor = Assessor { policy: Policy::bundled(), mutelist: None, rego: None, agent_roster: None, host_facts: Default::default() };
    let (assessment, _) = assessor.assess_accounts(&[demo()], &Selection::everything(), now()).unwrap();
    // Shuffled deterministically, with each finding's former position as its message so
    // that ties can be told apart.
    let mut findings = assessment.findings;
    findings.reverse();
    let third = findings.len() / 3;
    findings.rotate_left(third);
    for (position, finding) in findings.iter_mut().enumerate() {
        finding.message = position.to_string().as_str().into();
    }
    let mut expected = findings.clone();
    expected.sort_by(|a, b| {
        (b.status == Status::Fail, b.severity, &a.check_id, &a.resource_arn).cmp(&(a.status == Status::Fail, a.severity, &b.check_id, &b.resource_arn))
    });
    sort_findings(&mut findings);
    assert!(findings.len() > 100);
    assert_eq!(findings, expected);
}

#[test]
fn a_permutation_is_applied_one_cycle_at_a_time() {
    let mut items = vec!['a', 'b', 'c', 'd', 'e', 'f'];
    let mut order = vec![2, 0, 1, 3, 5, 4];
    apply_permutation(&mut items, &mut order);
    assert_eq!(items, vec!['c', 'a', 'b', 'd', 'f', 'e']);
}
