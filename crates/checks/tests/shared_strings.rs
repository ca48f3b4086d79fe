//! Findings share their strings: every finding about one resource holds the same copy of its
//! ARN, id, region and type (the catalog at a million resources depends on it, for memory and
//! for time), and sharing never changes what a finding says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use serde_json::json;
use vigil_checks::{CHECKS, Context, Status, run_all};
use vigil_model::Inventory;

fn demo() -> Inventory {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
    vigil_model::snapshot::from_bytes(&std::fs::read(path).unwrap(), "the demo snapshot").unwrap()
}

fn same_copy(left: &str, right: &str) -> bool {
    std::ptr::eq(left.as_ptr(), right.as_ptr()) && left.len() == right.len()
}

#[test]
fn every_finding_about_a_resource_shares_its_strings() {
    let inventory = demo();
    let context = Context::new(&inventory, chrono::Utc::now());
    let findings = run_all(&context, |_| true);
    let mut first_by_arn = HashMap::new();
    let mut shared = 0;
    for finding in &findings {
        let first = first_by_arn.entry(finding.resource_arn.as_str().to_string()).or_insert(finding);
        if std::ptr::eq(*first, finding) {
            continue;
        }
        for (left, right, field) in [
            (&first.resource_arn, &finding.resource_arn, "resource_arn"),
            (&first.resource_id, &finding.resource_id, "resource_id"),
            (&first.region, &finding.region, "region"),
            (&first.resource_type, &finding.resource_type, "resource_type"),
        ] {
            if left.as_str() == right.as_str() {
                assert!(same_copy(left, right), "{field} `{left}` of {} and {} is not one shared copy", first.check_id, finding.check_id);
            }
        }
        shared += 1;
    }
    assert!(shared > 100, "the demo account should have many findings about the same resources ({shared})");
}

#[test]
fn a_resource_from_anywhere_gets_the_same_subject() {
    let inventory = demo();
    let context = Context::new(&inventory, chrono::Utc::now());
    let listed = context.resources().first().unwrap();
    // The same resource, listed again outside the context.
    let elsewhere = inventory.resources();
    let again = elsewhere.iter().find(|resource| resource.arn == listed.arn).unwrap();
    let (first, second, third) = (context.subject(listed), context.subject(listed), context.subject(again));
    assert_eq!(first.arn.as_str(), listed.arn);
    assert_eq!(first.id.as_str(), listed.id);
    assert_eq!(first.region.as_str(), listed.region);
    assert_eq!(first.resource_type.as_str(), listed.resource_type);
    assert!(same_copy(&first.arn, &second.arn) && same_copy(&first.arn, &third.arn));
    assert!(same_copy(&first.id, &third.id));
    let built = context.new_subject(&listed.arn, listed.resource_type, listed.id, listed.region, listed.tags);
    assert!(same_copy(&first.arn, &built.arn));
}

#[test]
fn evidence_reused_from_the_last_finding_prints_as_its_own_value() {
    let inventory = demo();
    let context = Context::new(&inventory, chrono::Utc::now());
    let metadata = CHECKS.first().unwrap().metadata();
    let subject = context.account_subject();
    // The same value twice, then the same keys in another order (which `serde_json` keeps when
    // a dependency asks it to preserve order), then an equal number written as a float.
    let values = [
        json!({ "a": 1, "b": [true, { "c": null }] }),
        json!({ "a": 1, "b": [true, { "c": null }] }),
        json!({ "b": [true, { "c": null }], "a": 1 }),
        json!({ "b": [true, { "c": null }], "a": 1.0 }),
    ];
    let findings: Vec<_> = values.iter().map(|value| context.finding(metadata, &subject, Status::Pass, "same".into(), value.clone())).collect();
    for (finding, value) in findings.iter().zip(&values) {
        assert_eq!(finding.evidence.as_json(), serde_json::to_string(value).unwrap());
    }
    assert!(same_copy(findings[0].evidence.as_json(), findings[1].evidence.as_json()));
    assert!(same_copy(&findings[0].message, &findings[3].message));
}
