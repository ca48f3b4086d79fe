//! The work queue's rules on SQLite (and on PostgreSQL when `VIGIL_TEST_POSTGRES` names a
//! server): registration is idempotent, units split by shard, assess units wait for their
//! parts, a lost lease cannot complete, an account's scan is recorded once.

use vigil_model::{AccountInfo, Inventory};

use super::*;

static DATABASES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A fresh SQLite store, and a fresh PostgreSQL database (one per call) when configured.
fn stores(directory: &std::path::Path) -> Vec<Store> {
    let mut stores = vec![Store::open(directory.join("work.db").to_str().unwrap()).unwrap()];
    if let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES")
        && !url.is_empty()
    {
        let name = format!("vigil_work_{}_{}", std::process::id(), DATABASES.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        stores.push(Store::open(&format!("{base}/{name}")).unwrap());
    }
    stores
}

fn units() -> Vec<(String, String)> {
    let mut units: Vec<(String, String)> =
        [("111111111111", "global"), ("111111111111", "eu-west-1"), ("222222222222", "global"), ("222222222222", "eu-west-1")]
            .iter()
            .map(|(account, region)| (account.to_string(), region.to_string()))
            .chain([(ORGANIZATION_UNIT.to_string(), "global".to_string())])
            .collect();
    units.sort();
    units
}

fn claim(store: &mut Store, worker: &str, shard: Option<u32>, now: i64) -> Claim {
    store.claim_unit("r1", &Claimant { worker, shard }, now, now + 10).unwrap()
}

fn unit(claim: Claim) -> UnitKey {
    match claim {
        Claim::Unit(claimed) => claimed.key,
        other => panic!("expected a unit, got {other:?}"),
    }
}

fn inventory(account: &str) -> Inventory {
    let account = AccountInfo { account_id: account.parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    Inventory::new(account, vec![vigil_model::Region::new("eu-west-1")], chrono::Utc::now())
}

#[test]
fn units_are_claimed_once_assessed_after_their_parts_and_recorded_once() {
    let directory = tempfile::tempdir().unwrap();
    for mut store in stores(directory.path()) {
        store.register_run("r1", "{}", &units(), &|_| None, "now").unwrap();
        store.register_run("r1", "{}", &units(), &|_| None, "now").unwrap();
        assert!(matches!(store.register_run("r1", "{\"other\":1}", &units(), &|_| None, "now"), Err(StoreError::Conflict(_))));
        assert_eq!(store.run_units("r1").unwrap().len(), 7);

        // Every collect unit first (no assess unit is ready), each to one worker.
        let mut claimed = Vec::new();
        for index in 0..5 {
            claimed.push(unit(claim(&mut store, &format!("w{index}"), None, 100)));
        }
        assert!(claimed.iter().all(|key| key.kind == UnitKind::Collect));
        assert!(matches!(claim(&mut store, "w9", None, 100), Claim::Wait));

        // w0's lease expires: w9 takes its unit over, and w0 can no longer complete it.
        let taken = unit(claim(&mut store, "w9", None, 111));
        assert_eq!(taken, claimed[0]);
        assert!(!store.complete_unit("r1", &taken, "w0", b"{}").unwrap());
        assert!(store.complete_unit("r1", &taken, "w9", b"{\"part\":0}").unwrap());
        for (index, key) in claimed.iter().enumerate().skip(1) {
            // Account 222...'s parts and the organization's; 111...'s eu-west-1 part stays held.
            if key.account_id == "111111111111" {
                continue;
            }
            assert!(store.complete_unit("r1", key, &format!("w{index}"), b"{}").unwrap(), "{key}");
        }
        // 222... is ready; 111... still waits for a part.
        let assess = unit(claim(&mut store, "w5", None, 105));
        assert_eq!((assess.account_id.as_str(), assess.kind), ("222222222222", UnitKind::Assess));
        assert!(matches!(claim(&mut store, "w6", None, 105), Claim::Wait));
        let (parts, organization) = store.unit_fragments("r1", "222222222222").unwrap();
        assert_eq!(parts.len(), 2);
        assert!(organization.is_some());

        let inventory = inventory("222222222222");
        let input = ScanInput {
            started_at: inventory.collected_at,
            finished_at: inventory.collected_at,
            source: "aws-organization".into(),
            inventories: vec![&inventory],
            findings: &[],
            checks_run: Vec::new(),
            analyses: None,
        };
        assert_eq!(store.record_unit_scan("r1", "222222222222", "w6", &input).unwrap(), Recorded::Lost);
        let Recorded::Scan(scan_id) = store.record_unit_scan("r1", "222222222222", "w5", &input).unwrap() else { panic!("not recorded") };
        // A worker killed after recording but before marking done: whoever retries records nothing more.
        store.db.exec("UPDATE work_units SET state = 'running', worker = 'w7' WHERE kind = 'assess' AND account_id = '222222222222'", &[]).unwrap();
        assert_eq!(store.record_unit_scan("r1", "222222222222", "w7", &input).unwrap(), Recorded::Already(scan_id));
        assert_eq!(store.table_rows("scans").unwrap(), 1);
        // The count tables, refreshed for the account only, equal fresh counts.
        assert_eq!(store.consistency_problems().unwrap(), Vec::<String>::new());
        // The account's fragments are gone with its scan.
        assert!(store.unit_fragments("r1", "222222222222").is_err());

        // A failed part fails its account's assessment, and the run is then complete.
        let held = claimed.iter().find(|key| key.account_id == "111111111111" && *key != &taken).unwrap();
        let holder = format!("w{}", claimed.iter().position(|key| key == held).unwrap());
        assert!(store.fail_unit("r1", held, &holder, "cannot assume role").unwrap());
        assert!(matches!(claim(&mut store, "w8", None, 120), Claim::Done));
        let rows = store.run_units("r1").unwrap();
        let failed: Vec<String> = rows.iter().filter(|row| row.state == "failed").map(|row| row.key.to_string()).collect();
        assert_eq!(failed, vec![held.to_string(), "assess 111111111111/all".to_string()]);
    }
}

#[test]
fn a_shard_takes_only_its_own_collect_units_and_any_ready_assess_unit() {
    let directory = tempfile::tempdir().unwrap();
    for mut store in stores(directory.path()) {
        store.register_run("r1", "{}", &units(), &|index| Some(u32::try_from(index % 2).unwrap()), "now").unwrap();
        let mut mine = Vec::new();
        while let Claim::Unit(claimed) = claim(&mut store, "s0", Some(0), 100) {
            mine.push(claimed.key);
        }
        // Units 0, 2 and 4 of the sorted list.
        let expected: Vec<UnitKey> = units()
            .iter()
            .step_by(2)
            .map(|(account, region)| UnitKey { account_id: account.clone(), region: region.clone(), kind: UnitKind::Collect })
            .collect();
        let mut sorted = mine.clone();
        sorted.sort();
        assert_eq!(sorted, expected);
        for key in &mine {
            assert!(store.complete_unit("r1", key, "s0", b"{}").unwrap());
        }
        // Shard 0's units are done and no assess unit is ready: it may leave.
        assert!(matches!(claim(&mut store, "s0", Some(0), 100), Claim::Done));
        while let Claim::Unit(claimed) = claim(&mut store, "s1", Some(1), 100) {
            if claimed.key.kind == UnitKind::Assess {
                break;
            }
            assert!(store.complete_unit("r1", &claimed.key, "s1", b"{}").unwrap());
        }
        // The shard that completed the last parts takes the assess units.
        let rows = store.run_units("r1").unwrap();
        assert!(rows.iter().any(|row| row.key.kind == UnitKind::Assess && row.state == "running" && row.worker.as_deref() == Some("s1")), "{rows:?}");
    }
}

#[test]
fn a_unit_whose_holders_keep_dying_is_given_up() {
    let directory = tempfile::tempdir().unwrap();
    let mut store = Store::open(directory.path().join("work.db").to_str().unwrap()).unwrap();
    store.register_run("r1", "{}", &[(ORGANIZATION_UNIT.to_string(), "global".to_string())], &|_| None, "now").unwrap();
    for attempt in 0..MAX_ATTEMPTS {
        let Claim::Unit(claimed) = claim(&mut store, &format!("w{attempt}"), None, 100 + 20 * attempt) else { panic!("attempt {attempt}") };
        assert_eq!(claimed.attempt, attempt + 1);
    }
    assert!(matches!(claim(&mut store, "w9", None, 1000), Claim::Done));
    let rows = store.run_units("r1").unwrap();
    assert_eq!(rows[0].state, "failed");
    assert!(rows[0].error.as_deref().unwrap_or_default().contains("given up after 3 attempts"), "{rows:?}");
    assert_eq!(store.renew_leases("r1", "w", 2000).unwrap(), 0);
}
