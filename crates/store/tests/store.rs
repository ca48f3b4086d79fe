//! The store's behaviour, run on every backend available: SQLite always, PostgreSQL when
//! `VIGIL_TEST_POSTGRES` holds a server URL (`scripts/test.sh` starts one; with
//! `VIGIL_REQUIRE_POSTGRES=1` its absence fails the suite instead of skipping).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use vigil_checks::Finding;
use vigil_model::Inventory;
use vigil_model::analysis::{Admin, AnalysisResult, Exposure};
use vigil_model::ec2::{IpPermission, IpRange};
use vigil_store::{ScanInput, Store};

const DEMO: &[u8] = include_bytes!("../../cli/demo/example-corp.vigil");

fn demo() -> Inventory {
    vigil_model::snapshot::from_bytes(DEMO, "demo").unwrap()
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// One fresh store per backend.
fn stores() -> Vec<(tempfile::TempDir, Store)> {
    let mut stores = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    stores.push((dir, Store::open(path.to_str().unwrap()).unwrap()));
    match std::env::var("VIGIL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => {
            let name = format!("vigil_test_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::SeqCst));
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            stores.push((tempfile::tempdir().unwrap(), Store::open(&format!("{base}/{name}")).unwrap()));
        }
        _ if std::env::var("VIGIL_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("VIGIL_REQUIRE_POSTGRES=1 but VIGIL_TEST_POSTGRES is not set"),
        _ => eprintln!("PostgreSQL not configured (VIGIL_TEST_POSTGRES unset): testing SQLite only"),
    }
    stores
}

fn findings(inventory: &Inventory) -> Vec<Finding> {
    let policy = vigil_checks::policy::Policy::bundled();
    let context = vigil_checks::Context::with_policy(inventory, inventory.collected_at, &policy);
    vigil_checks::run_all(&context, |_| true)
}

fn record(store: &mut Store, inventory: &Inventory) -> vigil_store::WriteSummary {
    let findings = findings(inventory);
    let checks_run = vigil_checks::CHECKS.iter().map(|check| check.metadata().id.to_string()).collect();
    let input = ScanInput {
        started_at: inventory.collected_at,
        finished_at: inventory.collected_at,
        source: "test".into(),
        inventories: vec![inventory],
        findings: &findings,
        checks_run,
        analyses: None,
    };
    store.record_scan(&input).unwrap()
}

fn count(store: &mut Store, table: &str) -> i64 {
    store.table_rows(table).unwrap()
}

/// The demo account with three changes: SSH opened to the world on a security group, a bucket
/// made public by its policy, an instance terminated; and one IAM user deleted.
fn changed(mut inventory: Inventory) -> (Inventory, String, String, String, String) {
    let region = inventory.regional.iter().find(|(_, regional)| !regional.ec2.instances.is_empty()).unwrap().0.clone();
    let regional = inventory.regional.get_mut(&region).unwrap();
    let group = regional
        .ec2
        .security_groups
        .iter_mut()
        .find(|group| group.group_name != "default" && group.ip_permissions.iter().all(|rule| rule.from_port != Some(22)))
        .unwrap();
    group.ip_permissions.push(IpPermission {
        ip_protocol: "tcp".into(),
        from_port: Some(22),
        to_port: Some(22),
        ip_ranges: vec![IpRange { cidr_ip: "0.0.0.0/0".into(), description: None }],
        ..IpPermission::default()
    });
    let group_id = group.group_id.clone();
    let instance = regional.ec2.instances.iter_mut().find(|instance| instance.state.name == "running").unwrap();
    instance.state.name = "terminated".into();
    let instance_id = instance.instance_id.clone();
    let bucket = inventory.s3.buckets.iter_mut().find(|bucket| bucket.name.ends_with("customer-data")).unwrap();
    bucket.policy = Some(
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{}/*", bucket.name)}]}),
    );
    bucket.policy_is_public = Some(true);
    let bucket_name = bucket.name.clone();
    let user = inventory.iam.users.pop().unwrap();
    inventory.collected_at += chrono::Duration::hours(1);
    (inventory, group_id, instance_id, bucket_name, user.arn)
}

#[test]
fn a_diff_names_exactly_the_changes_and_the_findings_they_opened_or_fixed() {
    for (_dir, mut store) in stores() {
        let before = demo();
        let first = record(&mut store, &before);
        assert_eq!(first.scan_id, 1);
        assert!(first.resources > 40, "{first:?}");
        let (after, group_id, instance_id, bucket, user_arn) = changed(before.clone());
        let second = record(&mut store, &after);
        assert_eq!((second.resources_changed, second.resources_deleted), (3, 1), "{} {second:?}", store.backend());

        let (from, to) = store.last_two_scans().unwrap().unwrap();
        let diff = store.diff(from, to).unwrap();
        let changed: Vec<&str> = diff.changed.iter().map(|resource| resource.arn.as_str()).collect();
        assert_eq!(changed.len(), 3, "{changed:?}");
        assert!(changed.iter().any(|arn| arn.ends_with(&group_id)));
        assert!(changed.iter().any(|arn| arn.ends_with(&instance_id)));
        assert!(changed.iter().any(|arn| arn.ends_with(&bucket)));
        assert_eq!(diff.removed.iter().map(|resource| resource.arn.as_str()).collect::<Vec<_>>(), vec![user_arn.as_str()]);
        assert!(diff.added.is_empty());
        let group = diff.changed.iter().find(|resource| resource.arn.ends_with(&group_id)).unwrap();
        assert!(
            group.fields.iter().any(|field| field.path == "IpPermissions[]" && field.after.as_ref().is_some_and(|rule| rule["FromPort"] == 22)),
            "{group:?}"
        );
        let instance = diff.changed.iter().find(|resource| resource.arn.ends_with(&instance_id)).unwrap();
        assert_eq!((instance.state_before.as_deref(), instance.state_after.as_deref()), (Some("active"), Some("terminated")));

        let new: Vec<&str> = diff.new_findings.iter().map(|finding| finding.check_id.as_str()).collect();
        assert!(new.contains(&"ec2_security_group_admin_ports_open_to_world"), "{new:?}");
        assert!(diff.new_findings.iter().any(|finding| finding.resource_arn.ends_with(&bucket)), "{new:?}");
        assert!(diff.new_findings.iter().all(|finding| finding.resource_arn.ends_with(&group_id) || finding.resource_arn.ends_with(&bucket)), "{new:?}");
        let fixed: Vec<(&str, &str)> = diff.fixed_findings.iter().map(|finding| (finding.check_id.as_str(), finding.resource_arn.as_str())).collect();
        assert!(!fixed.is_empty() && fixed.iter().all(|(_, arn)| arn.ends_with(&instance_id) || *arn == user_arn), "{fixed:?}");

        assert_eq!(
            store.resource_state(&diff.changed.iter().find(|resource| resource.arn.ends_with(&instance_id)).unwrap().arn).unwrap().as_deref(),
            Some("terminated")
        );
    }
}

#[test]
fn an_unchanged_rescan_stores_no_new_versions() {
    for (_dir, mut store) in stores() {
        let inventory = demo();
        record(&mut store, &inventory);
        let (versions, changes) = (count(&mut store, "resource_versions"), count(&mut store, "finding_changes"));
        let mut later = inventory.clone();
        later.collected_at += chrono::Duration::hours(1);
        let again = record(&mut store, &later);
        assert_eq!((again.resources_added, again.resources_changed, again.resources_deleted, again.findings_new), (0, 0, 0, 0), "{again:?}");
        assert_eq!(count(&mut store, "resource_versions"), versions);
        assert_eq!(count(&mut store, "finding_changes"), changes);
        assert_eq!(store.scans().unwrap().len(), 2);
    }
}

/// The scan compares each resource and finding against the stored ones by digest, one at a
/// time: over a generated account of 1,996 resources and 3,160 findings, a scan where 1%
/// changed records exactly those resources' versions and those findings' changes, and a
/// resource or finding listed twice is recorded once.
#[test]
fn a_large_scan_records_exactly_the_changed_rows_and_a_duplicate_once() {
    use vigil_store::fixtures::{self, Shape};
    for (_dir, mut store) in stores() {
        let mut inventory = fixtures::inventory(Shape::mixed(2_000));
        let findings = fixtures::findings(&inventory);
        let first = store.record_scan(&fixtures::scan(&inventory, &findings)).unwrap();
        assert_eq!((first.resources, first.resources_added), (1_996, 1_996), "{first:?}");
        assert_eq!(count(&mut store, "findings"), findings.len() as i64);
        let (versions, changes) = (count(&mut store, "resource_versions"), count(&mut store, "finding_changes"));

        let changed = fixtures::change_one_percent(&mut inventory);
        assert_eq!(changed, 24);
        // A security group and a finding listed twice.
        let regional = inventory.regional.values_mut().next().unwrap();
        let copy = regional.ec2.security_groups[1].clone();
        regional.ec2.security_groups.push(copy);
        let mut findings = fixtures::findings(&inventory);
        findings.push(findings[4].clone());
        let second = store.record_scan(&fixtures::scan(&inventory, &findings)).unwrap();
        assert_eq!((second.resources, second.resources_added, second.resources_changed, second.resources_deleted), (1_996, 0, changed as u64, 0), "{second:?}");
        // Each changed group now fails `sg_open_to_world` and each stopped instance `instance_running`.
        assert_eq!((second.findings_new, second.findings_resolved), (changed as u64, 0), "{second:?}");
        assert_eq!(count(&mut store, "resource_versions") - versions, changed as i64);
        assert_eq!(count(&mut store, "finding_changes") - changes, changed as i64);

        // One group gone: deleted, and its three findings resolved by absence (one was failing).
        let regional = inventory.regional.values_mut().next().unwrap();
        regional.ec2.security_groups.retain(|group| group.group_id != "sg-00000000");
        let findings = fixtures::findings(&inventory);
        let third = store.record_scan(&fixtures::scan(&inventory, &findings)).unwrap();
        assert_eq!((third.resources, third.resources_changed, third.resources_deleted), (1_995, 0, 1), "{third:?}");
        assert_eq!((third.findings_new, third.findings_resolved), (0, 1), "{third:?}");
        assert_eq!(count(&mut store, "finding_changes") - changes, changed as i64 + 3);
    }
}

#[test]
fn history_shows_each_version_with_its_changes() {
    for (_dir, mut store) in stores() {
        let before = demo();
        record(&mut store, &before);
        let (after, group_id, _, _, _) = changed(before.clone());
        record(&mut store, &after);
        record(&mut store, &before);
        let arn = store.diff(1, 2).unwrap().changed.into_iter().find(|resource| resource.arn.ends_with(&group_id)).unwrap().arn;
        let history = store.history(&arn).unwrap();
        assert_eq!(history.iter().map(|version| (version.version, version.scan_id)).collect::<Vec<_>>(), vec![(1, 1), (2, 2), (3, 3)]);
        assert!(history[0].changes.is_empty());
        assert!(history[1].changes.iter().any(|change| change.after.is_some() && change.before.is_none()));
        assert!(history[2].changes.iter().any(|change| change.before.is_some() && change.after.is_none()));
        assert!(store.history("arn:aws:ec2:eu-west-1:000000000000:instance/i-nope").is_err());
    }
}

#[test]
fn a_listing_that_failed_does_not_turn_resources_into_deletions() {
    for (_dir, mut store) in stores() {
        let before = demo();
        record(&mut store, &before);
        let mut after = before.clone();
        let region = after.regional.iter().find(|(_, regional)| !regional.ec2.instances.is_empty()).unwrap().0.clone();
        after.regional.get_mut(&region).unwrap().ec2.instances.clear();
        for call in after.ledger.calls.iter_mut().filter(|call| call.service == "ec2" && call.operation == "DescribeInstances") {
            call.outcome = vigil_model::Outcome::AccessDenied { code: "UnauthorizedOperation".into(), message: "denied".into() };
        }
        let summary = record(&mut store, &after);
        assert_eq!(summary.resources_deleted, 0, "{summary:?}");
        let live = store.live_counts().unwrap();
        assert!(live.iter().any(|(kind, count)| kind == "AWS::EC2::Instance" && *count > 0), "{live:?}");
    }
}

#[test]
fn a_resource_that_comes_back_is_added_again() {
    for (_dir, mut store) in stores() {
        let before = demo();
        record(&mut store, &before);
        let (after, _, _, _, user_arn) = changed(before.clone());
        record(&mut store, &after);
        record(&mut store, &before);
        let diff = store.diff(2, 3).unwrap();
        assert_eq!(diff.added.iter().map(|resource| resource.arn.as_str()).collect::<Vec<_>>(), vec![user_arn.as_str()]);
        assert_eq!(store.resource_state(&user_arn).unwrap().as_deref(), Some("active"));
        let diff = store.diff(1, 3).unwrap();
        assert!(diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty(), "{diff:?}");
    }
}

#[test]
fn a_finding_fixed_then_failing_again_is_new_again_and_lifecycles_are_recorded() {
    for (_dir, mut store) in stores() {
        let before = demo();
        record(&mut store, &before);
        let (after, group_id, _, _, _) = changed(before.clone());
        record(&mut store, &after);
        let open: Vec<_> = store.findings(None, &["new"]).unwrap();
        assert!(open.iter().any(|finding| finding.resource_arn.ends_with(&group_id)));
        record(&mut store, &before);
        let resolved = store.findings(None, &["resolved"]).unwrap();
        assert!(resolved.iter().any(|finding| finding.resource_arn.ends_with(&group_id) && finding.resolved_at.is_some()), "{resolved:?}");
        record(&mut store, &after);
        let again = store.findings(None, &["new"]).unwrap();
        assert!(again.iter().any(|finding| finding.resource_arn.ends_with(&group_id) && finding.check_id == "ec2_security_group_admin_ports_open_to_world"));
    }
}

#[test]
fn opening_a_store_twice_and_a_damaged_location_give_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/vigil.db");
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    record(&mut store, &demo());
    drop(store);
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    assert_eq!(store.scans().unwrap().len(), 1);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let not_a_db = dir.path().join("junk.db");
    std::fs::write(&not_a_db, b"this is not a database at all, just text that is long enough").unwrap();
    let error = Store::open(not_a_db.to_str().unwrap()).unwrap_err().to_string();
    assert!(error.contains("junk.db") || error.contains("not a database"), "{error}");
}

/// Failing findings by severity, counted from the findings themselves, highest severity first
/// (issue 21: the dashboard listed them by count).
fn failing_by_severity(store: &mut Store) -> Vec<(String, i64)> {
    let mut counts = std::collections::BTreeMap::new();
    for finding in store.findings(None, &["new", "open"]).unwrap() {
        *counts.entry(finding.severity).or_insert(0i64) += 1;
    }
    let mut counts: Vec<(String, i64)> = counts.into_iter().collect();
    counts.sort_by_key(|(severity, _)| vigil_store::severity_rank(severity));
    counts
}

#[test]
fn the_dashboard_counts_follow_scans_mutes_and_unmutes() {
    for (_dir, mut store) in stores() {
        let inventory = demo();
        record(&mut store, &inventory);
        let (changed, ..) = changed(demo());
        record(&mut store, &changed);
        let dashboard = store.dashboard().unwrap();
        assert_eq!(dashboard.failing_by_severity, failing_by_severity(&mut store), "{}", store.backend());
        let live: i64 = dashboard.resources_by_type.iter().map(|(_, count)| count).sum();
        assert_eq!(live, store.live_counts().unwrap().iter().map(|(_, count)| count).sum::<i64>());

        let failing = vigil_store::query::FindingFilter { lifecycle: Some("open".into()), ..Default::default() };
        let id = store.findings_page(&failing, 0, 1).unwrap().items[0].id;
        assert!(store.mute_finding(id, "accepted risk").unwrap());
        assert_eq!(store.dashboard().unwrap().failing_by_severity, failing_by_severity(&mut store), "after a mute");
        assert!(store.unmute_finding(id).unwrap());
        assert_eq!(store.dashboard().unwrap().failing_by_severity, failing_by_severity(&mut store), "after an unmute");
        assert!(!store.mute_finding(999_999_999, "none").unwrap());

        let cis = dashboard.compliance.iter().find(|score| score.framework == "cis-aws-5.0").unwrap();
        assert_eq!(cis.by_status.values().sum::<usize>(), cis.requirements);
        assert!(cis.by_status.get("FAIL").copied().unwrap_or(0) > 0, "the demo account fails some CIS requirements");
    }
}

#[test]
fn findings_sort_and_resources_filter_by_tag() {
    for (_dir, mut store) in stores() {
        record(&mut store, &demo());
        let sorted = vigil_store::query::FindingFilter { sort: Some("severity".into()), status: Some("FAIL".into()), ..Default::default() };
        let first = store.findings_page(&sorted, 0, 5).unwrap();
        let second = store.findings_page(&sorted, first.next.unwrap(), 5).unwrap();
        let rank = |severity: &str| ["critical", "high", "medium", "low", "informational"].iter().position(|known| *known == severity).unwrap();
        let ranks: Vec<usize> = first.items.iter().chain(&second.items).map(|finding| rank(&finding.severity)).collect();
        assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "{ranks:?}");
        assert!(first.items.iter().all(|finding| second.items.iter().all(|other| other.id != finding.id)), "pages do not overlap");
        // Every order pages by keyset: walking small pages gives exactly the order of one big
        // page (text keys follow the database's collation, so that order is the reference).
        let everything = store.findings_page(&Default::default(), 0, 10_000).unwrap().items;
        assert!(everything.len() > 100, "the demo has many findings");
        for sort in ["id", "newest", "severity", "check", "resource"] {
            let filter = vigil_store::query::FindingFilter { sort: Some(sort.into()), ..Default::default() };
            let expected: Vec<i64> = store.findings_page(&filter, 0, 10_000).unwrap().items.iter().map(|finding| finding.id).collect();
            assert_eq!(expected.len(), everything.len());
            if sort == "newest" {
                assert!(expected.windows(2).all(|pair| pair[0] > pair[1]));
            }
            let (mut walked, mut after) = (Vec::new(), 0);
            loop {
                let page = store.findings_page(&filter, after, 7).unwrap();
                walked.extend(page.items.iter().map(|finding| finding.id));
                match page.next {
                    Some(next) => after = next,
                    None => break,
                }
            }
            assert_eq!(walked, expected, "pages sorted by {sort}");
        }
        let gone = vigil_store::query::FindingFilter { sort: Some("severity".into()), ..Default::default() };
        assert!(store.findings_page(&gone, 999_999_999, 5).unwrap_err().to_string().contains("no finding"));
        let wrong = vigil_store::query::FindingFilter { sort: Some("colour".into()), ..Default::default() };
        assert!(store.findings_page(&wrong, 0, 5).unwrap_err().to_string().contains("cannot sort"));

        let all = store.resources_page(&Default::default(), 0, 10_000).unwrap().items;
        let tagged = all.iter().find(|item| item.tags.as_object().is_some_and(|tags| !tags.is_empty())).expect("the demo has tagged resources");
        let (key, value) = tagged.tags.as_object().unwrap().iter().next().unwrap();
        let by_pair = vigil_store::query::ResourceFilter { tag: Some(format!("{key}={}", value.as_str().unwrap())), ..Default::default() };
        let found = store.resources_page(&by_pair, 0, 10_000).unwrap().items;
        assert!(found.iter().any(|item| item.arn == tagged.arn));
        assert!(found.iter().all(|item| item.tags[key] == *value));
        let by_key = vigil_store::query::ResourceFilter { tag: Some(key.clone()), ..Default::default() };
        assert!(store.resources_page(&by_key, 0, 10_000).unwrap().items.len() >= found.len());
        let facets = store.facets().unwrap();
        assert_eq!(facets.resource_type.iter().map(|(_, count)| count).sum::<i64>(), all.len() as i64);
    }
}

#[test]
fn analyses_are_kept_per_scan_and_an_empty_result_is_not_an_older_one() {
    for (_dir, mut store) in stores() {
        let inventory = demo();
        let findings = findings(&inventory);
        let row = Exposure { resource_id: "i-1".into(), protocol: "tcp".into(), ports: vec![[22, 22]], ..Exposure::default() };
        let exposure = vigil_store::Analysis {
            account_id: "123456789012".into(),
            subject: "arn:aws:ec2:eu-west-1:123456789012:instance/i-1".into(),
            result: AnalysisResult::Exposure(row.clone()),
        };
        let stored = vigil_store::Stored { account_id: exposure.account_id.clone(), subject: exposure.subject.clone(), result: row.clone() };
        let mut input = ScanInput {
            started_at: inventory.collected_at,
            finished_at: inventory.collected_at,
            source: "test".into(),
            inventories: vec![&inventory],
            findings: &findings,
            checks_run: Vec::new(),
            analyses: Some(vec![exposure.clone()]),
        };
        store.record_scan(&input).unwrap();
        assert_eq!(store.analyses::<Exposure>().unwrap(), vec![stored.clone()]);
        assert!(store.analyses::<Admin>().unwrap().is_empty());
        assert_eq!(store.analyses_about(&exposure.subject).unwrap(), vigil_store::About { exposure: vec![row.clone()], ..Default::default() });
        assert_eq!(store.analysis_count::<Exposure>().unwrap(), 1);
        input.analyses = None;
        store.record_scan(&input).unwrap();
        assert_eq!(store.analyses::<Exposure>().unwrap().len(), 1, "a scan without analyses keeps the last ones");
        input.analyses = Some(Vec::new());
        store.record_scan(&input).unwrap();
        assert!(store.analyses::<Exposure>().unwrap().is_empty(), "a scan that found nothing shows nothing");
        assert_eq!(store.analysis_count::<Exposure>().unwrap(), 0);
    }
}

#[test]
fn an_event_update_keeps_the_dashboard_counts_exact() {
    for (_dir, mut store) in stores() {
        let inventory = demo();
        record(&mut store, &inventory);
        // The event: an instance stopped, with the findings its checks now give.
        let mut after = demo();
        let regional = after.regional.values_mut().find(|regional| regional.ec2.instances.iter().any(|instance| instance.state.name == "running")).unwrap();
        let instance = regional.ec2.instances.iter_mut().find(|instance| instance.state.name == "running").unwrap();
        instance.state.name = "stopped".into();
        let instance_id = instance.instance_id.clone();
        let item = vigil_store::items::items(&after).into_iter().find(|item| item.resource_id == instance_id).unwrap();
        let all = findings(&after);
        let own: Vec<Finding> = all.into_iter().filter(|finding| finding.resource_arn.as_str() == item.arn).collect();
        let update = vigil_store::EventUpdate {
            at: chrono::Utc::now(),
            source: "test".into(),
            account_id: item.account_id.clone(),
            items: vec![item],
            gone: Vec::new(),
            findings: &own,
            event: None,
        };
        store.record_event_update(&update).unwrap();
        let dashboard = store.dashboard().unwrap();
        assert_eq!(dashboard.failing_by_severity, failing_by_severity(&mut store), "{}", store.backend());
        let live: i64 = dashboard.resources_by_type.iter().map(|(_, count)| count).sum();
        assert_eq!(live, store.live_counts().unwrap().iter().map(|(_, count)| count).sum::<i64>());
        let stopped = store.resources_page(&vigil_store::query::ResourceFilter { state: Some("stopped".into()), ..Default::default() }, 0, 100).unwrap();
        assert!(stopped.items.iter().any(|item| item.resource_id == instance_id));
    }
}

fn event(seq: u64, id: &str) -> vigil_fleet::wire::Sequenced {
    vigil_fleet::wire::Sequenced {
        seq,
        event: vigil_fleet::Event {
            id: id.into(),
            module: "inventory".into(),
            kind: "snapshot".into(),
            time: "2026-01-01T00:00:00Z".into(),
            payload: serde_json::json!({ "n": seq }),
        },
    }
}

fn host_event(seq: u64, module: &str, kind: &str, id: &str, payload: serde_json::Value) -> vigil_fleet::wire::Sequenced {
    vigil_fleet::wire::Sequenced {
        seq,
        event: vigil_fleet::Event { id: id.into(), module: module.into(), kind: kind.into(), time: "2026-01-01T00:00:00Z".into(), payload },
    }
}

/// Host-log alerts and malware detections from an agent become Activity alerts naming the
/// host, with the raw record, once each (a resent batch adds none); other events do not.
#[test]
fn agent_log_alerts_and_malware_detections_become_activity_alerts_once() {
    use vigil_store::agents::NewAgent;
    for (_dir, mut store) in stores() {
        let agent = NewAgent {
            id: "agt-h",
            instance_id: Some("i-0abc"),
            account_id: Some("123456789012"),
            region: Some("eu-west-1"),
            hostname: "web-7",
            agent_version: "1",
            enrolled_by: "identity",
            secret_hash: "hash",
            at: "2026-01-01T00:00:00Z",
            at_unix: 1_767_225_600,
        };
        store.enrol_agent(&agent).unwrap();
        let raw = "Failed password for root from 198.51.100.7 port 50000 ssh2";
        let batch = [
            host_event(
                1,
                "logs",
                "alert",
                "rule-1:aa",
                serde_json::json!({"rule_id": "rule-1", "rule_title": "SSH Authentication Failure", "level": "low",
                "time": "2026-05-04T10:00:00Z", "source": "/var/log/auth.log", "raw": raw, "record": {"program": "sshd", "message": raw}}),
            ),
            host_event(
                2,
                "malware",
                "detection",
                "vigil_eicar_test_file:bb",
                serde_json::json!({"path": "/tmp/eicar.com", "rule": "vigil_eicar_test_file", "sha256": "ab"}),
            ),
            host_event(3, "fim", "change", "n:1", serde_json::json!({"path": "/etc/passwd", "change": "modified", "fields": ["content"]})),
        ];
        store.record_agent_events("agt-h", &batch, "t", 1_767_225_601).unwrap();
        store.record_agent_events("agt-h", &batch, "t", 1_767_225_602).unwrap();
        let alerts = store.alerts_page(None, None, 0, 10).unwrap().items;
        assert_eq!(alerts.len(), 2, "{alerts:#?}");
        let log = alerts.iter().find(|alert| alert.rule_id == "rule-1").unwrap();
        assert_eq!((log.event_name.as_str(), log.account_id.as_deref(), log.level.as_str()), ("sshd", Some("123456789012"), "low"));
        assert_eq!(log.event_time, "2026-05-04T10:00:00Z");
        assert_eq!(log.detail["host"]["hostname"], "web-7");
        assert_eq!(log.detail["host"]["instance_id"], "i-0abc");
        assert_eq!(log.detail["host"]["agent_id"], "agt-h");
        assert_eq!(log.detail["event"]["raw"], raw);
        let malware = alerts.iter().find(|alert| alert.rule_id == "vigil-malware:vigil_eicar_test_file").unwrap();
        assert_eq!((malware.level.as_str(), malware.detail["event"]["path"].as_str()), ("high", Some("/tmp/eicar.com")));
        let changes = store.agent_events_of_kind("agt-h", "fim", "change", 10).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].payload["path"], "/etc/passwd");
    }
}

/// The records an agent ships under `logs.detect: server`: twelve SSH failures from one
/// address and then a success, as `record` events (seq from `first`).
fn shipped_attack(first: u64) -> Vec<vigil_fleet::wire::Sequenced> {
    use vigil_host::logs::detect::alert_id;
    let mut lines: Vec<String> = (0..12)
        .map(|second| format!("2026-05-04T10:00:{second:02}+00:00 web-7 sshd[1]: Failed password for root from 198.51.100.7 port {} ssh2", 40_000 + second))
        .collect();
    lines.push("2026-05-04T10:01:00+00:00 web-7 sshd[1]: Accepted password for root from 198.51.100.7 port 2 ssh2".into());
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let record = vigil_host::logs::parse::syslog_line(line, "/var/log/auth.log", true, 2026);
            host_event(first + index as u64, "logs", "record", &alert_id("record", &record), record.to_json())
        })
        .collect()
}

/// Issue 16: the server's detections on shipped records, on every backend: alerts with the
/// host and raw record; the brute force and success-after-failures correlations across batches
/// evaluated by fresh evaluators (no state outside the store), once each; a resent batch and
/// the agent's own alerts for the same records (`detect: both`) add nothing; a payload that is
/// not a record, and a record of one megabyte, are stored without losing the events after them.
#[test]
fn the_servers_detections_on_shipped_records_span_batches_and_keep_one_alert_per_rule_and_record() {
    use vigil_host::logs::detect::{Detector, RecordEvaluator, alert_event, correlation_event};
    for (_dir, mut store) in stores() {
        let backend = store.backend();
        enrol_test_agent(&mut store, "agt-s", Some("i-0s"));
        let attack = shipped_attack(1);
        // Three batches, each with an evaluator loaded afresh (a restart, or another replica).
        for batch in [&attack[..5], &attack[5..10], &attack[10..]] {
            let evaluator = RecordEvaluator::load(&[]).unwrap();
            let outcome = store.record_agent_events_detecting("agt-s", batch, "2026-05-04T10:02:00Z", 1_777_888_920, Some(&evaluator)).unwrap();
            assert_eq!((outcome.stored, outcome.not_records), (batch.len() as u64, 0), "{backend}");
        }
        let evaluator = RecordEvaluator::load(&[]).unwrap();
        let again = store.record_agent_events_detecting("agt-s", &attack[5..10], "t", 1_777_888_921, Some(&evaluator)).unwrap();
        assert_eq!(again.duplicates, 5, "{backend}");
        let alerts = store.alerts_page(None, None, 0, 1000).unwrap().items;
        let count = |title: &str| alerts.iter().filter(|alert| alert.rule_title == title).count();
        assert_eq!(count("SSH Authentication Failure"), 12, "{backend}: {alerts:#?}");
        assert_eq!(count("SSH Brute Force"), 1, "{backend}: across batches, once: {alerts:#?}");
        assert_eq!(count("SSH Login After Failed Attempts"), 1, "{backend}: {alerts:#?}");
        assert_eq!(count("Root Login Over SSH"), 1, "{backend}");
        let failure = alerts.iter().find(|alert| alert.rule_title == "SSH Authentication Failure").unwrap();
        assert_eq!(failure.detail["host"]["agent_id"], "agt-s", "{backend}");
        assert_eq!(failure.detail["host"]["instance_id"], "i-0s", "{backend}");
        assert!(failure.detail["event"]["raw"].as_str().unwrap().starts_with("Failed password for root from 198.51.100.7"), "{backend}: {}", failure.detail);
        assert_eq!(failure.event_name, "sshd", "{backend}");
        let brute = alerts.iter().find(|alert| alert.rule_title == "SSH Brute Force").unwrap();
        assert_eq!(brute.detail["event"]["count"], 10, "{backend}: raised by the second batch, which brought the tenth failure");
        let stored = alerts.len();

        // `detect: both`: the agent's alerts for the same records are the same alerts.
        let set = &evaluator.set;
        let mut detector = Detector::default();
        let mut agent_alerts = Vec::new();
        for event in &attack {
            let record = vigil_host::logs::LogRecord::from_json(&event.event.payload).unwrap();
            agent_alerts.extend(detector.check(set, &record).iter().map(|alert| alert_event(alert, &record)));
        }
        agent_alerts.extend(detector.correlations(set).iter().filter_map(|alert| correlation_event(set, alert)));
        let agent_batch: Vec<_> =
            agent_alerts.iter().enumerate().map(|(index, (id, payload))| host_event(100 + index as u64, "logs", "alert", id, payload.clone())).collect();
        store.record_agent_events_detecting("agt-s", &agent_batch, "t", 1_777_888_922, Some(&evaluator)).unwrap();
        assert_eq!(store.alerts_page(None, None, 0, 1000).unwrap().items.len(), stored, "{backend}: one alert per rule and record");

        // Bad input: not a record, a record of one megabyte; the events after them are stored.
        let mut huge = vigil_host::logs::parse::syslog_line(
            "2026-05-04T11:00:00+00:00 web-7 sudo[1]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
            "/var/log/auth.log",
            true,
            2026,
        );
        huge.fields.insert("padding".into(), "\u{fffd}".repeat(350_000));
        let bad = [
            host_event(200, "logs", "record", "r:truncated", serde_json::json!({"truncated": true, "bytes": 1_048_576})),
            host_event(201, "logs", "record", "r:huge", huge.to_json()),
            host_event(202, "fim", "change", "n:1", serde_json::json!({"path": "/etc/passwd", "change": "modified", "fields": ["content"]})),
        ];
        let outcome = store.record_agent_events_detecting("agt-s", &bad, "t", 1_777_888_923, Some(&evaluator)).unwrap();
        assert_eq!((outcome.stored, outcome.not_records, outcome.last_seq), (3, 1, 202), "{backend}");
        let sudo = store.alerts_page(None, None, 0, 1000).unwrap().items;
        assert_eq!(sudo.iter().filter(|alert| alert.rule_title == "Sudo Authentication Failure").count(), 1, "{backend}");
    }
}

/// The agent fleet on both backends: one agent per instance, events stored once per (agent,
/// sequence number), tokens used up and expired, the lifecycle sweep with its one alert.
#[test]
fn agents_enrol_once_store_events_once_and_the_sweep_raises_one_missing_alert() {
    use vigil_store::agents::NewAgent;
    for (_dir, mut store) in stores() {
        let inventory = demo();
        record(&mut store, &inventory);
        let instance = store.instance_record("i-missing").unwrap();
        assert!(instance.is_none());
        let instance_id = inventory
            .resources()
            .into_iter()
            .find_map(|resource| match resource.data {
                vigil_model::resource::ResourceData::Instance(instance) => Some(instance.instance_id.clone()),
                _ => None,
            })
            .unwrap();
        let record = store.instance_record(&instance_id).unwrap().unwrap();
        assert_eq!(record.state, vigil_store::ResourceState::Active);
        assert!(record.config.get("InstanceId").is_some(), "{}", record.config);
        assert!(store.account_managed(inventory.account_id().as_str()).unwrap());
        assert!(!store.account_managed("999999999999").unwrap());
        let agent = |id: &'static str, instance: Option<&'static str>| NewAgent {
            id,
            instance_id: instance,
            account_id: Some("123456789012"),
            region: Some("us-east-1"),
            hostname: "web-1",
            agent_version: "1",
            enrolled_by: "identity",
            secret_hash: "hash",
            at: "2026-01-01T00:00:00Z",
            at_unix: 1_767_225_600,
        };
        let leaked: &'static str = Box::leak(instance_id.clone().into_boxed_str());
        assert_eq!(store.enrol_agent(&agent("agt-1", Some(leaked))).unwrap(), None);
        assert_eq!(store.enrol_agent(&agent("agt-2", Some(leaked))).unwrap(), Some("agt-1".to_string()), "an instance enrols once");
        assert_eq!(store.enrol_agent(&agent("agt-3", None)).unwrap(), None);
        assert_eq!(store.agent_roster().unwrap().into_iter().collect::<Vec<_>>(), vec![instance_id.clone()]);
        let first = store.record_agent_events("agt-1", &[event(1, "a"), event(2, "b")], "t", 1_767_225_601).unwrap();
        assert_eq!((first.stored, first.duplicates, first.last_seq), (2, 0, 2));
        let again = store.record_agent_events("agt-1", &[event(2, "b"), event(3, "c")], "t", 1_767_225_602).unwrap();
        assert_eq!((again.stored, again.duplicates, again.last_seq), (1, 1, 3));
        assert_eq!(store.agent_event_count("agt-1").unwrap(), 3);
        assert_eq!(store.agent_events("agt-1", Some("inventory"), 10).unwrap().first().map(|event| event.seq), Some(3));
        // Tokens: one use, then used up; an expired one refused.
        store.create_enrolment_token("tok-1", "h1", "t", "later", 2_000_000_000, &serde_json::json!({}), Some(1), "").unwrap();
        store.create_enrolment_token("tok-2", "h2", "t", "earlier", 1, &serde_json::json!({}), None, "").unwrap();
        assert!(store.use_enrolment_token("h1", 1_767_225_600).unwrap().is_ok());
        assert!(store.use_enrolment_token("h1", 1_767_225_600).unwrap().unwrap_err().contains("used up"));
        assert!(store.use_enrolment_token("h2", 1_767_225_600).unwrap().unwrap_err().contains("expired"));
        assert!(store.use_enrolment_token("nope", 1_767_225_600).unwrap().unwrap_err().contains("unknown"));
        // Heartbeats keep agents online; silence past the threshold makes them missing, once.
        store.record_heartbeat("agt-1", "t", 1_767_225_700, "2", "web-1", Some("etag"), &serde_json::json!([]), &serde_json::json!({})).unwrap();
        assert!(store.sweep_agents("t1", 1_767_225_710, 300).unwrap().is_empty());
        let transitions = store.sweep_agents("t2", 1_767_226_100, 300).unwrap();
        assert_eq!(
            transitions.iter().map(|transition| (transition.agent_id.as_str(), transition.after.as_str())).collect::<Vec<_>>(),
            [("agt-1", "missing"), ("agt-3", "missing")]
        );
        assert!(store.sweep_agents("t3", 1_767_226_200, 300).unwrap().is_empty());
        assert_eq!(store.alerts_page(None, Some(vigil_store::agents::MISSING_RULE), 0, 10).unwrap().items.len(), 2);
        // Revoked: retired; a second revocation says so.
        assert!(store.revoke_agent("agt-3", "test", "t4").unwrap());
        assert!(!store.revoke_agent("agt-3", "test", "t4").unwrap());
        assert_eq!(store.agent("agt-3").unwrap().unwrap().status, vigil_fleet::Status::Retired);
        assert!(store.agent_auth("agt-3").unwrap().unwrap().revoked_at.is_some());
        // Rotation: the next secret is promoted once used.
        assert!(store.request_rotation("agt-1").unwrap());
        store.set_next_secret("agt-1", "next").unwrap();
        store.promote_secret("agt-1").unwrap();
        let auth = store.agent_auth("agt-1").unwrap().unwrap();
        assert_eq!((auth.secret_hash.as_str(), auth.next_secret_hash), ("next", None));
        store.record_host_policy("v1", "modules: {}", "t").unwrap();
        store.record_host_policy("v1", "modules: {}", "t").unwrap();
    }
}

/// Issue 14 item 10: every volatile field of the list changed at once (as AWS refreshes them
/// between two scans of an unchanged account) makes no version and no diff entry; a real change
/// next to them shows only itself.
#[test]
fn volatile_fields_make_no_version_and_no_diff() {
    let at = |text: &str| Some(text.parse::<vigil_model::Timestamp>().unwrap());
    let mut touched = std::collections::BTreeSet::new();
    let mut refresh = |inventory: &mut Inventory, day: &str| {
        let time = at(&format!("2026-01-{day}T10:00:00Z"));
        for user in &mut inventory.iam.users {
            user.password_last_used = time;
            touched.insert("AWS::IAM::User");
            for key in &mut user.access_keys {
                key.last_used = Some(vigil_model::iam::AccessKeyLastUsed { last_used_date: time, service_name: Some(format!("s3-{day}")), region: None });
            }
        }
        for role in &mut inventory.iam.roles {
            role.role_last_used = Some(vigil_model::iam::RoleLastUsed { last_used_date: time, region: Some("eu-west-1".into()) });
            touched.insert("AWS::IAM::Role");
        }
        for policy in &mut inventory.iam.policies {
            policy.attachment_count = Some(day.parse().unwrap());
            touched.insert("AWS::IAM::ManagedPolicy");
        }
        for regional in inventory.regional.values_mut() {
            for trail in &mut regional.trails {
                let status = trail.status.get_or_insert_with(Default::default);
                status.latest_delivery_time = time;
                status.latest_cloud_watch_logs_delivery_time = time;
                touched.insert("AWS::CloudTrail::Trail");
            }
            for group in &mut regional.log_groups {
                group.stored_bytes = Some(day.parse::<i64>().unwrap() * 1000);
                touched.insert("AWS::Logs::LogGroup");
            }
            for alarm in &mut regional.metric_alarms {
                alarm.state_value = Some(if day == "02" { "OK" } else { "ALARM" }.into());
                touched.insert("AWS::CloudWatch::Alarm");
            }
        }
    };
    for (_dir, mut store) in stores() {
        let mut first = demo();
        refresh(&mut first, "02");
        record(&mut store, &first);
        let versions = count(&mut store, "resource_versions");
        let mut second = first.clone();
        refresh(&mut second, "03");
        assert_ne!(vigil_store::items::items(&first).len(), 0);
        let again = record(&mut store, &second);
        assert_eq!((again.resources_added, again.resources_changed, again.resources_deleted), (0, 0, 0), "{again:?}");
        assert_eq!(count(&mut store, "resource_versions"), versions, "a volatile field made a version");
        let diff = store.diff(1, 2).unwrap();
        assert!(diff.changed.is_empty() && diff.added.is_empty() && diff.removed.is_empty(), "{:?}", diff.changed);

        // A real change among volatile ones: the diff names it alone.
        let mut third = second.clone();
        refresh(&mut third, "04");
        let trail = third.regional.values_mut().flat_map(|regional| regional.trails.iter_mut()).next().expect("the demo has a trail");
        let logging = trail.status.as_ref().is_some_and(|status| status.is_logging);
        trail.status.get_or_insert_with(Default::default).is_logging = !logging;
        let third_summary = record(&mut store, &third);
        assert_eq!(third_summary.resources_changed, 1, "{third_summary:?}");
        let diff = store.diff(2, 3).unwrap();
        let paths: Vec<&str> = diff.changed.iter().flat_map(|resource| resource.fields.iter().map(|field| field.path.as_str())).collect();
        assert_eq!(paths, ["Status.IsLogging"]);
    }
    for resource_type in ["AWS::IAM::User", "AWS::IAM::Role", "AWS::CloudTrail::Trail", "AWS::Logs::LogGroup", "AWS::CloudWatch::Alarm"] {
        assert!(touched.contains(resource_type), "the demo account has no {resource_type}: the test would not cover it");
    }
}

/// `vigil history` finds a resource by its ARN, its id, its own name or its Name tag, and
/// gives every candidate when a text names several.
#[test]
fn resources_are_found_by_arn_id_name_or_name_tag() {
    for (_dir, mut store) in stores() {
        let mut inventory = demo();
        let regional = inventory.regional.values_mut().find(|regional| !regional.ec2.security_groups.is_empty() && !regional.ec2.instances.is_empty()).unwrap();
        let group = regional.ec2.security_groups.first_mut().unwrap();
        group.tags.insert("Name".into(), "storefront".into());
        let (group_id, group_name) = (group.group_id.clone(), group.group_name.clone());
        let instance = regional.ec2.instances.first_mut().unwrap();
        instance.tags.insert("Name".into(), "storefront".into());
        let instance_id = instance.instance_id.clone();
        record(&mut store, &inventory);
        let found =
            |store: &mut Store, text: &str| store.find_resources(text).unwrap().into_iter().map(|found| (found.arn, found.matched_by)).collect::<Vec<_>>();
        let by_id = found(&mut store, &instance_id);
        assert_eq!(by_id.len(), 1);
        assert!(by_id[0].0.ends_with(&format!("instance/{instance_id}")) && by_id[0].1 == "id", "{by_id:?}");
        assert_eq!(found(&mut store, &by_id[0].0), vec![(by_id[0].0.clone(), "arn")]);
        let by_name = found(&mut store, &group_name);
        assert!(by_name.iter().any(|(arn, how)| arn.ends_with(&group_id) && *how == "name"), "{by_name:?}");
        let ambiguous = found(&mut store, "storefront");
        assert_eq!(ambiguous.len(), 2, "{ambiguous:?}");
        assert!(ambiguous.iter().all(|(_, how)| *how == "Name tag"));
        assert!(found(&mut store, "nothing-is-called-this").is_empty());
    }
}

/// Issue 21: activity is newest *event* first, whatever order the alerts were recorded in
/// (a late-delivered CloudTrail file, an agent catching up), and pages of any size walk that
/// order without overlap or gap. On PostgreSQL the page's integer parameters must bind as
/// BIGINT (the Activity page and `/api/alerts` answered 500 there).
#[test]
fn alerts_page_newest_event_first_on_every_backend() {
    for (_dir, mut store) in stores() {
        let alert = |rule: &str, event: &str, time: &str, level: &str| vigil_store::AlertInput {
            rule_id: rule.into(),
            event_id: event.into(),
            rule_title: format!("rule {rule}"),
            level: level.into(),
            event_time: time.into(),
            event_name: "StopLogging".into(),
            account_id: Some("123456789012".into()),
            detail: serde_json::json!({}),
        };
        // Recorded in this order; the event times say otherwise.
        let recorded = [
            alert("r1", "e-0900", "2026-11-24T09:00:00Z", "high"),
            alert("r1", "e-1200", "2026-11-24T12:00:00Z", "low"),
            alert("r2", "e-0700", "2026-11-24T07:00:00Z", "high"),
            alert("r2", "e-1100", "2026-11-24T11:00:00Z", "high"),
            alert("r3", "e-1100b", "2026-11-24T11:00:00Z", "critical"),
            alert("r1", "e-0800", "2026-11-24T08:00:00Z", "medium"),
        ];
        for one in &recorded {
            store.record_alerts(std::slice::from_ref(one), "2026-11-25T00:00:00Z").unwrap();
        }
        let whole = store.alerts_page(None, None, 0, 100).unwrap();
        let times: Vec<&str> = whole.items.iter().map(|alert| alert.event_time.as_str()).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "newest event first");
        assert_eq!(whole.items.len(), recorded.len());
        assert_eq!(whole.next, None);
        let order: Vec<i64> = whole.items.iter().map(|alert| alert.id).collect();
        for size in [1, 2, 4] {
            let mut walked = Vec::new();
            let mut before = 0;
            loop {
                let page = store.alerts_page(None, None, before, size).unwrap();
                walked.extend(page.items.iter().map(|alert| alert.id));
                match page.next {
                    Some(next) => before = next,
                    None => break,
                }
            }
            assert_eq!(walked, order, "pages of {size}");
        }
        let high = store.alerts_page(Some("high"), None, 0, 1).unwrap();
        let rest = store.alerts_page(Some("high"), None, high.next.unwrap(), 10).unwrap();
        let events: Vec<String> = high.items.iter().chain(&rest.items).map(|alert| alert.event_id.clone()).collect();
        assert_eq!(events, ["e-1100", "e-0900", "e-0700"]);
        assert_eq!(store.alerts_page(None, Some("r3"), 0, 10).unwrap().items.len(), 1);
        let missing = store.alerts_page(None, None, 9_999, 10).unwrap_err();
        assert!(matches!(missing, vigil_store::StoreError::NotFound(_)), "{missing}");
    }
}

/// Issue 21: users, sessions, API keys, the audit log and failed logins live in the store, the
/// same on every backend: a session outlives the connection that opened it (a restart, or
/// another replica), a disabled user's sessions end, a revoked key opens nothing.
#[test]
fn people_sessions_keys_audit_and_login_failures_persist_in_the_store() {
    use vigil_store::people::{AuditInput, Role};
    for (_directory, mut store) in stores() {
        let backend = store.backend();
        assert!(store.add_user("ana", Role::Analyst, Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"), "2026-12-05T20:00:00Z").unwrap());
        assert!(!store.add_user("ana", Role::Admin, None, "2026-12-05T20:00:00Z").unwrap(), "{backend}: a name is taken once");
        assert!(store.add_user("vic", Role::Viewer, None, "2026-12-05T20:00:01Z").unwrap());
        let users = store.users().unwrap();
        assert_eq!(
            users.iter().map(|user| (user.name.as_str(), user.role, user.has_password)).collect::<Vec<_>>(),
            [("ana", Role::Analyst, true), ("vic", Role::Viewer, false)]
        );
        store.open_session("hash-ana", Some("ana"), "csrf-ana", 1000, 2000, "192.0.2.1:5000").unwrap();
        store.open_session("hash-token", None, "csrf-token", 1000, 2000, "192.0.2.1:5001").unwrap();
        let location = store.location().to_string();
        // Another connection (a restarted server, a second replica) sees the same sessions.
        let mut other = if backend == "postgres" { store } else { Store::open(&location).unwrap() };
        let session = other.session("hash-ana", 1500).unwrap().unwrap();
        assert_eq!((session.user.as_deref(), session.role, session.csrf.as_str()), (Some("ana"), Role::Analyst, "csrf-ana"), "{backend}");
        assert_eq!(other.session("hash-token", 1500).unwrap().unwrap().role, Role::Admin, "{backend}: the shared token's session is admin");
        assert_eq!(other.session("hash-ana", 2000).unwrap(), None, "{backend}: an expired session is refused");
        assert!(other.set_user_role("ana", Role::Admin).unwrap());
        assert_eq!(other.session("hash-ana", 1500).unwrap().unwrap().role, Role::Admin, "{backend}: a new role applies to open sessions");
        assert!(other.set_user_disabled("ana", true).unwrap());
        assert_eq!(other.session("hash-ana", 1500).unwrap(), None, "{backend}: a disabled user's sessions end");
        assert!(other.user_login("ana").unwrap().unwrap().disabled);
        other.close_session("hash-token").unwrap();
        assert_eq!(other.session("hash-token", 1500).unwrap(), None);

        assert!(other.create_api_key("ci", "keyhash", "vk_1234", Role::Viewer, "cli:root", "2026-12-05T20:00:02Z").unwrap());
        assert!(!other.create_api_key("ci", "otherhash", "vk_5678", Role::Admin, "cli:root", "2026-12-05T20:00:02Z").unwrap());
        assert_eq!(other.api_key("keyhash").unwrap(), Some(("ci".to_string(), Role::Viewer)));
        assert!(other.revoke_api_key("ci", "2026-12-05T20:00:03Z").unwrap());
        assert!(!other.revoke_api_key("ci", "2026-12-05T20:00:04Z").unwrap(), "{backend}: revoked once");
        assert_eq!(other.api_key("keyhash").unwrap(), None, "{backend}: a revoked key opens nothing");
        assert_eq!(other.api_keys().unwrap()[0].revoked_at.as_deref(), Some("2026-12-05T20:00:03Z"));

        for (index, action) in ["login", "finding.mute", "user.disable"].into_iter().enumerate() {
            let at = format!("2026-12-05T20:01:0{index}Z");
            let entry = AuditInput { at: &at, actor: "user:ana", action, target: "7", detail: "", address: "192.0.2.1:5000", outcome: "success" };
            assert_eq!(other.record_audit(&entry).unwrap(), index as i64 + 1);
        }
        let log = other.audit(0, 10).unwrap();
        assert_eq!(log.iter().map(|row| row.action.as_str()).collect::<Vec<_>>(), ["user.disable", "finding.mute", "login"], "{backend}: newest first");
        assert_eq!(other.audit(3, 1).unwrap()[0].action, "finding.mute", "{backend}: `before` pages");

        other.record_login_failure(&["address:192.0.2.1", "account:ana"], 5000).unwrap();
        other.record_login_failure(&["address:192.0.2.1"], 5010).unwrap();
        assert_eq!(other.login_failures("address:192.0.2.1", 4000).unwrap(), 2);
        assert_eq!(other.login_failures("address:192.0.2.1", 5005).unwrap(), 1, "{backend}: only failures inside the window count");
        other.clear_login_failures("account:ana").unwrap();
        assert_eq!(other.login_failures("account:ana", 0).unwrap(), 0);
    }
}

/// Issue 21, OpenID Connect: a user is created (kind `oidc`) at its first sign-in and bound to
/// the provider's subject; later sign-ins set its role; a disabled user, a password user of the
/// same name and another subject claiming the name change nothing. A sign-in under way is taken
/// once, and not after it expired.
#[test]
fn oidc_users_are_created_once_bound_to_their_subject_and_never_take_over_a_password_user() {
    use vigil_store::people::{OidcSignIn, Role, UserKind};
    for (_directory, mut store) in stores() {
        let backend = store.backend();
        let subject = "https://idp.example.com 248289761001";
        assert_eq!(store.oidc_sign_in("ana@example.com", subject, Role::Viewer, "2026-12-05T20:00:00Z").unwrap(), OidcSignIn::Created, "{backend}");
        assert_eq!(store.oidc_sign_in("ana@example.com", subject, Role::Viewer, "2026-12-05T20:00:01Z").unwrap(), OidcSignIn::Existing { previous_role: None });
        assert_eq!(
            store.oidc_sign_in("ana@example.com", subject, Role::Analyst, "2026-12-05T20:00:02Z").unwrap(),
            OidcSignIn::Existing { previous_role: Some(Role::Viewer) }
        );
        let login = store.user_login("ana@example.com").unwrap().unwrap();
        assert_eq!((login.kind, login.role, login.password_hash), (UserKind::Oidc, Role::Analyst, None), "{backend}");
        assert_eq!(store.oidc_sign_in("ana@example.com", "https://idp.example.com 999", Role::Admin, "t").unwrap(), OidcSignIn::OtherSubject, "{backend}");
        assert!(store.add_user("root", Role::Admin, Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"), "t").unwrap());
        assert_eq!(store.oidc_sign_in("root", subject, Role::Viewer, "t").unwrap(), OidcSignIn::PasswordUser, "{backend}");
        assert!(store.set_user_disabled("ana@example.com", true).unwrap());
        assert_eq!(store.oidc_sign_in("ana@example.com", subject, Role::Admin, "t").unwrap(), OidcSignIn::Disabled, "{backend}");
        let users = store.users().unwrap();
        assert_eq!(
            users.iter().map(|user| (user.name.as_str(), user.kind, user.role)).collect::<Vec<_>>(),
            [("ana@example.com", UserKind::Oidc, Role::Analyst), ("root", UserKind::Password, Role::Admin)],
            "{backend}: refused sign-ins changed nothing"
        );

        let login = |state_hash: &'static str, address: &'static str, now_unix: i64| vigil_store::people::OidcLoginInput {
            state_hash,
            nonce: "nonce-1",
            verifier: "verifier-1",
            address,
            now_unix,
            expires_unix: now_unix + 600,
        };
        assert!(store.begin_oidc_login(&login("state-1", "192.0.2.1", 1000), 2).unwrap());
        assert!(store.begin_oidc_login(&login("state-2", "192.0.2.1", 1000), 2).unwrap());
        assert!(!store.begin_oidc_login(&login("state-3", "192.0.2.1", 1000), 2).unwrap(), "{backend}: an address has at most 2 under way");
        assert!(store.begin_oidc_login(&login("state-4", "192.0.2.2", 1000), 2).unwrap(), "{backend}: another address is not limited");
        assert_eq!(store.take_oidc_login("state-1", 1100).unwrap(), Some(("nonce-1".to_string(), "verifier-1".to_string())), "{backend}");
        assert_eq!(store.take_oidc_login("state-1", 1100).unwrap(), None, "{backend}: a state is used once");
        assert_eq!(store.take_oidc_login("state-2", 1600).unwrap(), None, "{backend}: not after it expired");
        assert!(store.begin_oidc_login(&login("state-5", "192.0.2.1", 1700), 2).unwrap(), "{backend}: expired sign-ins no longer count");
        assert_eq!(store.take_oidc_login("unknown", 1100).unwrap(), None);
    }
}

fn advisory(id: &str, ecosystems: &[&str], modified: &str) -> vigil_store::osv::OsvAdvisory {
    vigil_store::osv::OsvAdvisory {
        id: id.into(),
        modified: modified.into(),
        ecosystems: ecosystems.iter().map(|name| name.to_string()).collect(),
        record: format!("{{\"id\":\"{id}\",\"modified\":\"{modified}\"}}"),
    }
}

/// Issue 17: the OSV advisories `vigil osv load` stores for the agents. A load replaces the
/// records it holds by id and keeps the others; an ecosystem's version changes with its
/// records; agents page through an ecosystem's records in id order.
#[test]
fn an_osv_load_replaces_records_by_id_keeps_the_others_and_pages_by_ecosystem() {
    for (_dir, mut store) in stores() {
        assert_eq!(store.osv_version("Debian").unwrap(), None, "no advisories: no version");
        let first = [
            advisory("DSA-1", &["Debian"], "2024-01-01"),
            advisory("DSA-2", &["Debian", "Debian"], "2024-01-02"),
            advisory("USN-1", &["Ubuntu"], "2024-01-03"),
        ];
        assert_eq!(store.store_osv(&first, "a.zip", "t1").unwrap(), vigil_store::osv::OsvLoaded { added: 3, replaced: 0 });
        let before = store.osv_version("Debian").unwrap().unwrap();
        let ubuntu = store.osv_version("Ubuntu").unwrap().unwrap();
        assert_eq!(store.store_osv(&[advisory("DSA-2", &["Debian"], "2024-02-01")], "b", "t2").unwrap(), vigil_store::osv::OsvLoaded { added: 0, replaced: 1 });
        assert_ne!(store.osv_version("Debian").unwrap().unwrap(), before, "a changed record changes the version");
        assert_eq!(store.osv_version("Ubuntu").unwrap().unwrap(), ubuntu, "another ecosystem's version stays");
        let counts: Vec<(String, i64)> = store.osv_ecosystems().unwrap().into_iter().map(|row| (row.ecosystem, row.advisories)).collect();
        assert_eq!(counts, vec![("Debian".to_string(), 2), ("Ubuntu".to_string(), 1)]);
        let page = store.osv_page("Debian", "", 1).unwrap();
        assert_eq!((page.records[0].0.as_str(), page.next.as_deref()), ("DSA-1", Some("DSA-1")));
        let page = store.osv_page("Debian", "DSA-1", 1).unwrap();
        assert!(page.records[0].1.contains("2024-02-01"), "the replaced record is served: {:?}", page.records);
        let last = store.osv_page("Debian", "DSA-2", 1).unwrap();
        assert!(last.records.is_empty() && last.next.is_none());
    }
}

/// Enrols an agent by token, with or without an instance, for the host-facts tests.
fn enrol_test_agent(store: &mut Store, id: &str, instance_id: Option<&str>) {
    let new = vigil_store::agents::NewAgent {
        id,
        instance_id,
        account_id: None,
        region: None,
        hostname: id,
        agent_version: "0.1.0",
        enrolled_by: "token:t",
        secret_hash: "x",
        at: "2026-12-05T00:00:00Z",
        at_unix: 1_796_428_800,
    };
    store.enrol_agent(&new).unwrap();
}

/// Issue 18: what agents report about their hosts for attack paths, the same on every backend:
/// each instance's critical and high vulnerabilities from its agents' latest reports (the most
/// any one agent reports); an agent without an instance, or one without a report, adds nothing.
#[test]
fn host_facts_count_each_instances_critical_and_high_vulnerabilities() {
    use serde_json::json;
    fn agent(store: &mut Store, id: &str, instance_id: Option<&str>, snapshot: &str, severities: &[&str]) {
        enrol_test_agent(store, id, instance_id);
        if severities.is_empty() {
            return;
        }
        let items: Vec<serde_json::Value> =
            severities.iter().enumerate().map(|(index, severity)| json!({"id": format!("DSA-{index}"), "severity": severity})).collect();
        let event = vigil_fleet::wire::Sequenced {
            seq: 1,
            event: vigil_fleet::Event {
                id: format!("{snapshot}:1"),
                module: "vulns".into(),
                kind: "findings".into(),
                time: "2026-12-05T00:00:30Z".into(),
                payload: json!({"snapshot": snapshot, "part": 1, "parts": 1, "items": items}),
            },
        };
        store.record_agent_events(id, &[event], "2026-12-05T00:01:00Z", 1_796_428_860).unwrap();
    }
    for (_directory, mut store) in stores() {
        let backend = store.backend();
        assert!(store.host_facts().unwrap().vulnerabilities.is_empty(), "{backend}: no agent, no facts");
        agent(&mut store, "agt-a", Some("i-0a"), "va", &["critical", "high", "high", "low"]);
        agent(&mut store, "agt-b", Some("i-0b"), "vb", &["medium"]);
        agent(&mut store, "agt-c", None, "vc", &["critical"]);
        agent(&mut store, "agt-d", Some("i-0d"), "vd", &[]);
        let facts = store.host_facts().unwrap();
        let counts: Vec<(&str, usize, usize)> = facts
            .vulnerabilities
            .iter()
            .map(|(id, counts)| (id.as_str(), counts.critical, counts.high))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(counts, [("i-0a", 1, 2), ("i-0b", 0, 0)], "{backend}");
    }
}

#[test]
fn host_facts_carry_each_instances_latest_host_firewall_and_name_the_agent_of_a_malformed_one() {
    use serde_json::json;
    use vigil_net::host_firewall::{Action, Condition, Families, HostChain, HostRule, HostRuleset};
    fn enrol(store: &mut Store, id: &str, instance_id: Option<&str>) {
        enrol_test_agent(store, id, instance_id);
    }
    fn report(store: &mut Store, agent_id: &str, seq: u64, snapshot: &str, head: serde_json::Value, items: &[serde_json::Value]) {
        let mut payload = json!({"snapshot": snapshot, "part": 1, "parts": 1, "items": items});
        for (key, value) in head.as_object().unwrap() {
            payload[key] = value.clone();
        }
        let event = vigil_fleet::wire::Sequenced {
            seq,
            event: vigil_fleet::Event {
                id: format!("{snapshot}:1"),
                module: "firewall".into(),
                kind: "ruleset".into(),
                time: format!("2026-12-05T00:00:{seq:02}Z"),
                payload,
            },
        };
        store.record_agent_events(agent_id, &[event], "2026-12-05T00:01:00Z", 1_796_428_860).unwrap();
    }
    let drops = |port: u16| HostRuleset {
        backend: "nftables".into(),
        chains: vec![HostChain {
            name: "inet filter input".into(),
            families: Families::Both,
            input_hook: Some(0),
            policy_accepts: true,
            rules: vec![HostRule {
                label: format!("tcp dport {port} drop"),
                conditions: vec![
                    Condition::Protocols { numbers: vec![6], negated: false },
                    Condition::DestinationPorts { ranges: vec![[port, port]], negated: false },
                ],
                action: Action::Drop,
            }],
        }],
        notes: vec![],
    };
    for (_directory, mut store) in stores() {
        let backend = store.backend();
        enrol(&mut store, "agt-a", Some("i-0a"));
        enrol(&mut store, "agt-b", Some("i-0b"));
        enrol(&mut store, "agt-c", None);
        enrol(&mut store, "agt-r", Some("i-0r"));
        enrol(&mut store, "agt-m", Some("i-0m"));
        // agt-a reported twice: the newest ruleset (dropping 22) is the one used.
        let (head, items) = drops(3389).to_report("nft -j list ruleset");
        report(&mut store, "agt-a", 1, "fa1", head, &items);
        let (head, items) = drops(22).to_report("nft -j list ruleset");
        report(&mut store, "agt-a", 2, "fa2", head.clone(), &items);
        report(&mut store, "agt-c", 1, "fc", head.clone(), &items);
        report(&mut store, "agt-r", 1, "fr", head.clone(), &items);
        assert!(store.revoke_agent("agt-r", "test", "2026-12-05T00:02:00Z").unwrap());
        // A malformed report (outside input): left out, naming its agent.
        report(&mut store, "agt-m", 1, "fm", head, &[json!({"name": "inet filter input", "rules": "not a list"})]);
        let facts = store.host_facts().unwrap();
        let instances: Vec<&str> = facts.firewalls.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        assert_eq!(instances, ["i-0a"], "{backend}: agt-b never reported, agt-c has no instance, agt-r is retired, agt-m's is malformed");
        assert_eq!(facts.firewalls["i-0a"], drops(22), "{backend}");
        assert_eq!(facts.problems.len(), 1, "{backend}: {:?}", facts.problems);
        assert!(facts.problems[0].contains("`agt-m`") && facts.problems[0].contains("malformed"), "{backend}: {:?}", facts.problems);
    }
}
