//! Crash safety (issue 14): `vigil scan` and `vigil trail hunt --record` are killed with
//! SIGKILL at named points inside their store transaction (the store's test seam
//! `VIGIL_STORE_TEST_PAUSE_AT`/`_MS` makes the writer announce the point and wait there, so
//! the kill lands exactly there and the test is not timing-dependent). Afterwards the store
//! opens, is consistent (`Store::consistency_problems`: count tables equal fresh counts, no
//! trace of the killed scan, a sane outbox), and a rerun neither loses nor duplicates. On
//! SQLite always, and on PostgreSQL when `VIGIL_TEST_POSTGRES` names a server. (`vigil watch`
//! killed between events is `history::watch_killed_and_restarted_loses_no_event_and_applies_none_twice`.)

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{run, vigil};

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A fresh store location per backend: an SQLite file, and a new PostgreSQL database when
/// `VIGIL_TEST_POSTGRES` is set.
fn stores(directory: &std::path::Path) -> Vec<String> {
    let mut stores = vec![directory.join("vigil.db").to_string_lossy().into_owned()];
    match std::env::var("VIGIL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => {
            let name = format!("vigil_crash_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::SeqCst));
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            stores.push(format!("{base}/{name}"));
        }
        _ if std::env::var("VIGIL_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("VIGIL_REQUIRE_POSTGRES=1 but VIGIL_TEST_POSTGRES is not set"),
        _ => eprintln!("PostgreSQL not configured (VIGIL_TEST_POSTGRES unset): crash tests on SQLite only"),
    }
    stores
}

/// Runs `command` with the writer paused at `point`, waits until it says it is there, and
/// kills it with SIGKILL.
fn kill_at(command: &mut Command, point: &str) {
    let mut child =
        command.env("VIGIL_STORE_TEST_PAUSE_AT", point).env("VIGIL_STORE_TEST_PAUSE_MS", "60000").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut said = Vec::new();
    let paused = BufReader::new(stderr).lines().map_while(Result::ok).any(|line| {
        said.push(line.clone());
        line.contains(&format!("paused inside the write transaction at `{point}`"))
    });
    assert!(paused, "the writer never reached `{point}`: {}", said.join("\n"));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn open(store: &str) -> vigil_store::Store {
    vigil_store::Store::open(store).unwrap_or_else(|error| panic!("the store `{store}` does not open after the kill: {error}"))
}

/// Opens the store and asserts it is sound; returns its (scans, findings, alerts, outbox) rows.
fn assert_consistent(store: &str, after: &str) -> (i64, i64, i64, i64) {
    let mut opened = open(store);
    assert_eq!(opened.integrity_check().unwrap(), "ok", "{after}");
    let problems = opened.consistency_problems().unwrap();
    assert!(problems.is_empty(), "{after}: {problems:?}");
    let mut rows = |table: &str| opened.table_rows(table).unwrap();
    (rows("scans"), rows("findings"), rows("alerts"), rows("outbox"))
}

#[test]
fn a_scan_killed_at_each_point_of_its_write_leaves_a_consistent_store_and_a_rerun_adds_exactly_one_scan() {
    let directory = tempfile::tempdir().unwrap();
    for store in stores(directory.path()) {
        let scan = || {
            let mut command = vigil();
            command.args(["-q", "scan", "--demo", "--store", &store]);
            command
        };
        let (code, _, stderr) = run(&mut scan());
        assert_eq!(code, 0, "{stderr}");
        let baseline = assert_consistent(&store, "the first scan");
        assert_eq!(baseline.0, 1);
        for (round, point) in ["scan:resources", "scan:findings", "scan:counts"].into_iter().enumerate() {
            kill_at(&mut scan(), point);
            let after_kill = assert_consistent(&store, &format!("a scan killed at `{point}` ({store})"));
            assert_eq!(after_kill.0, baseline.0 + round as i64, "the scan killed at `{point}` left a trace or lost one ({store})");
            // The rerun records one scan, and the same account gives the same findings: none
            // lost, none duplicated.
            let (code, _, stderr) = run(&mut scan());
            assert_eq!(code, 0, "{stderr}");
            let rerun = assert_consistent(&store, &format!("the rerun after `{point}`"));
            assert_eq!((rerun.0, rerun.1), (after_kill.0 + 1, baseline.1), "after the kill at `{point}` ({store})");
        }
    }
}

const RECORDS: &str = r#"{"Records":[
 {"eventVersion":"1.08","eventID":"crash-stop","eventTime":"2024-05-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"requestParameters":{"name":"main"},"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","eventID":"crash-delete","eventTime":"2024-05-01T10:05:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"requestParameters":{"name":"main"},"recipientAccountId":"111122223333"}
]}"#;

#[test]
fn a_hunt_killed_while_recording_alerts_loses_none_and_duplicates_none() {
    let directory = tempfile::tempdir().unwrap();
    let logs = directory.path().join("trail.json");
    std::fs::File::create(&logs).unwrap().write_all(RECORDS.as_bytes()).unwrap();
    for store in stores(directory.path()) {
        let hunt = || {
            let mut command = vigil();
            command.args(["trail", "hunt", "--format", "jsonl", "--record", "--store", &store]).arg(&logs);
            command
        };
        // The store exists (and is migrated) before the kill, as it would after earlier use.
        drop(open(&store));
        kill_at(&mut hunt(), "alerts:inserted");
        let (_, _, alerts, _) = assert_consistent(&store, &format!("a hunt killed while recording ({store})"));
        assert_eq!(alerts, 0, "the killed hunt's alerts are half there ({store})");
        let (code, _, stderr) = run(&mut hunt());
        assert_eq!(code, 0, "{stderr}");
        let (_, _, recorded, _) = assert_consistent(&store, "the rerun");
        assert!(recorded >= 1 && stderr.contains(&format!("recorded {recorded} new alerts")), "{stderr}");
        let (code, _, stderr) = run(&mut hunt());
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("recorded 0 new alerts"), "a second run added alerts again: {stderr}");
        assert_eq!(assert_consistent(&store, "the second rerun").2, recorded);
    }
}
