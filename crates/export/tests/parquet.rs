//! `vigil_export::export` over a store filled by a scan of the demo account (two scans on two
//! days), CloudTrail and host alerts and agent events: the files read back with pyarrow and
//! DuckDB (`tests/read_back.py`) hold every row of the store, in the partitions their day,
//! account and region say, with the column types docs/export.md documents.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use vigil_export::{DirectorySink, ExportOptions, StagingSink, export};
use vigil_store::agents::NewAgent;
use vigil_store::{AlertInput, ScanInput, Store};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc)
}

/// A store with two scans of the demo account (2026-11-01 and 2026-11-02, one resource more and
/// one finding muted the second day), alerts and agent events.
fn filled_store(path: &Path) -> Store {
    let mut store = Store::open(path.to_str().unwrap()).unwrap();
    let bytes = std::fs::read(repository().join("crates/cli/demo/example-corp.vigil")).unwrap();
    let mut inventory = vigil_model::snapshot::from_bytes(&bytes, "the demo snapshot").unwrap();
    let policy = vigil_checks::policy::Policy::bundled();
    let checks_run: Vec<String> = vigil_checks::CHECKS.iter().map(|check| check.metadata().id.to_string()).collect();
    for (day, time) in [(1, "2026-11-01T10:00:00Z"), (2, "2026-11-02T23:30:00Z")] {
        if day == 2 {
            let region = inventory.regional.keys().next().cloned().unwrap();
            let regional = inventory.regional.get_mut(&region).unwrap();
            let mut volume = vigil_model::ec2::Volume { volume_id: "vol-export-test".into(), size: Some(8), ..Default::default() };
            volume.encrypted = false;
            regional.ec2.volumes.push(volume);
        }
        let context = vigil_checks::Context::with_policy(&inventory, at(time), &policy);
        let mut findings = vigil_checks::run_all(&context, |_| true);
        if day == 2 {
            let failing = findings.iter_mut().find(|finding| finding.status == vigil_checks::Status::Fail).unwrap();
            failing.status = vigil_checks::Status::Muted;
            failing.mute_reason = Some("accepted".into());
        }
        let input = ScanInput {
            started_at: at(time),
            finished_at: at(time),
            source: "demo".into(),
            inventories: vec![&inventory],
            findings: &findings,
            checks_run: checks_run.clone(),
            analyses: None,
        };
        store.record_scan(&input).unwrap();
    }
    let alert = |rule: &str, event: &str, time: &str, account: Option<&str>, detail: Value| AlertInput {
        rule_id: rule.into(),
        event_id: event.into(),
        rule_title: format!("title of {rule}"),
        level: "high".into(),
        event_time: time.into(),
        event_name: "StopLogging".into(),
        account_id: account.map(str::to_string),
        detail,
    };
    let alerts = [
        alert(
            "r-stop",
            "e1",
            "2026-11-01T10:00:00Z",
            Some("111122223333"),
            json!({"aws_region": "us-east-1", "principal": "arn:aws:iam::111122223333:user/mallory", "tags": ["attack.t1562"]}),
        ),
        alert("r-stop", "e2", "2026-11-01T11:00:00Z", Some("111122223333"), json!({"aws_region": "eu-west-1", "tags": []})),
        alert("r-stop", "e3", "2026-11-03T00:00:00+02:00", Some("111122223333"), json!({"aws_region": "us-east-1"})),
        // A correlation alert whose event time is not a time: filed under the day it was stored.
        alert("r-burst", "e4", "", None, json!({"correlation": {"count": 12, "group": {"user": "mallory"}}})),
        alert("r-odd", "e5", "2026-11-02T08:00:00Z", Some("../../escape"), json!({"aws_region": "us/east"})),
    ];
    store.record_alerts(&alerts, "2026-11-04T12:00:00Z").unwrap();
    store
        .enrol_agent(&NewAgent {
            id: "agt-1",
            instance_id: Some("i-0abc"),
            account_id: Some("123456789012"),
            region: Some("eu-west-1"),
            hostname: "web-1",
            agent_version: "1",
            enrolled_by: "identity",
            secret_hash: "x",
            at: "2026-11-01T00:00:00Z",
            at_unix: 0,
        })
        .unwrap();
    let event = |seq: u64, module: &str, kind: &str, time: &str, payload: Value| vigil_fleet::wire::Sequenced {
        seq,
        event: vigil_fleet::Event { id: format!("ev-{seq}"), module: module.into(), kind: kind.into(), time: time.into(), payload },
    };
    let events = [
        event(1, "fim", "change", "2026-11-01T12:00:00Z", json!({"path": "/etc/passwd", "change": "modified", "fields": ["sha256"]})),
        event(
            2,
            "logs",
            "alert",
            "2026-11-02T12:00:00Z",
            json!({"rule_id": "ssh-brute", "rule_title": "SSH brute force", "level": "medium", "raw": "sshd[1]: Failed"}),
        ),
        event(3, "malware", "detection", "2026-11-02T13:00:00Z", json!({"rule": "EICAR", "path": "/tmp/eicar", "sha256": "00"})),
        event(4, "packages", "snapshot", "not a time", json!({"items": [{"name": "openssl"}]})),
    ];
    store.record_agent_events("agt-1", &events, "2026-11-03T00:00:00Z", 1).unwrap();
    store
}

/// Runs tests/read_back.py; `None` (with the reason printed) when the Python environment is
/// missing.
fn read_back(directory: &Path) -> Option<Value> {
    let python = repository().join(".venv/bin/python");
    if !python.exists() {
        println!("skipped: {} is missing (create it with scripts/requirements-test.txt)", python.display());
        return None;
    }
    let output = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_back.py"))
        .arg(directory)
        .arg(repository().join("docs/export.md"))
        .output()
        .unwrap();
    assert!(output.status.success(), "read_back.py failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn an_export_reads_back_with_pyarrow_and_duckdb_row_for_row_with_the_documented_types() {
    let directory = tempfile::tempdir().unwrap();
    let mut store = filled_store(&directory.path().join("vigil.db"));
    let destination = directory.path().join("lake");
    let summaries = export(&mut store, &ExportOptions::default(), &mut DirectorySink::new(&destination)).unwrap();
    let mut count = |table: &str| store.table_rows(table).unwrap() as u64;
    let expected = [("findings", count("findings")), ("resources", count("resources")), ("alerts", count("alerts")), ("host-events", count("agent_events"))];
    assert_eq!(expected[2].1, 7, "5 CloudTrail alerts and 2 host detections");
    for (summary, (table, rows)) in summaries.iter().zip(expected) {
        assert_eq!((summary.table, summary.rows), (table, rows), "{summary:?}");
        assert!(summary.rows > 0 && summary.files >= summary.partitions && summary.partitions > 0, "{summary:?}");
    }

    let Some(report) = read_back(&destination) else { return };
    for summary in &summaries {
        let entry = &report[summary.table];
        assert_eq!(entry["mismatches"], json!([]), "{}: written types differ from docs/export.md", summary.table);
        assert_eq!(entry["rows_pyarrow"].as_u64(), Some(summary.rows), "{}", summary.table);
        assert_eq!(entry["rows_duckdb"].as_u64(), Some(summary.rows), "{}", summary.table);
        assert_eq!(entry["files"].as_u64(), Some(summary.files), "{}", summary.table);
        assert_eq!(entry["time_physical"], "INT64");
        assert!(entry["time_logical"].as_str().unwrap().contains("isAdjustedToUTC=true, timeUnit=milliseconds"), "{}", entry["time_logical"]);
        assert_eq!(entry["time_type_duckdb"], "TIMESTAMP WITH TIME ZONE");
    }

    // Findings: first seen on the first scan's day, except the second scan's new ones.
    let findings = &report["findings"];
    let partitions = findings["partitions"].as_object().unwrap();
    assert!(partitions.keys().all(|key| key.starts_with("2026-11-01/") || key.starts_with("2026-11-02/")), "{partitions:?}");
    assert!(partitions.keys().any(|key| key.starts_with("2026-11-02/")), "the new volume's findings were first seen on the second day: {partitions:?}");
    let failing = store.findings(None, &[]).unwrap().iter().filter(|finding| finding.status == "FAIL").count() as u64;
    assert_eq!(findings["sample"]["failing"].as_u64(), Some(failing));
    assert_eq!(findings["sample"]["evidence_is_json"], findings["rows_duckdb"]);
    assert_eq!(findings["class_uids"], json!([2003]));

    let resources = &report["resources"];
    assert_eq!(resources["class_uids"], json!([5023]));
    assert!(resources["sample"]["configs"].as_u64().unwrap() > 0);

    let alerts = &report["alerts"];
    let partitions: Vec<&String> = alerts["partitions"].as_object().unwrap().keys().collect();
    assert_eq!(
        partitions,
        [
            "2026-11-01/111122223333/eu-west-1",
            "2026-11-01/111122223333/us-east-1",
            // Percent-encoded in the directory name; DuckDB decodes it back.
            "2026-11-02/../../escape/us/east",
            "2026-11-02/123456789012/eu-west-1",
            // 2026-11-03T00:00:00+02:00 is 2026-11-02 in UTC.
            "2026-11-02/111122223333/us-east-1",
            "2026-11-04/unknown/unknown",
        ]
        .iter()
        .map(|key| key.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(alerts["class_uids"], json!([2004]));
    assert_eq!(alerts["sample"]["hosts"], json!(["web-1"]));
    assert!(destination.join("alerts/date=2026-11-02/account=%2E%2E%2F%2E%2E%2Fescape/region=us%2Feast/part-0000.parquet").is_file());
    assert!(!destination.join("alerts/date=2026-11-02/account=..").exists(), "no partition value leaves its directory");

    let events = &report["host-events"];
    assert_eq!(events["class_uids"], json!([1001, 2004, 5001]));
    assert_eq!(events["sample"]["files"], json!(["/etc/passwd"]));
    assert!(
        events["partitions"].as_object().unwrap().contains_key("2026-11-03/123456789012/eu-west-1"),
        "an event time that is not a time: the day it was received"
    );
}

#[test]
fn a_large_table_streams_into_several_parts_and_row_groups_and_a_re_export_replaces_them() {
    let directory = tempfile::tempdir().unwrap();
    let mut store = filled_store(&directory.path().join("vigil.db"));
    let destination = directory.path().join("lake");
    let options = ExportOptions { tables: ExportOptions::tables_named("findings").unwrap(), rows_per_file: 25, row_group_rows: 10, ..ExportOptions::default() };
    let first = export(&mut store, &options, &mut DirectorySink::new(&destination)).unwrap();
    let total = store.table_rows("findings").unwrap() as u64;
    assert_eq!(first[0].rows, total);
    assert!(first[0].files > first[0].partitions, "{:?}", first[0]);
    let files = |root: &Path| {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(directory) = stack.pop() {
            for entry in std::fs::read_dir(&directory).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() { stack.push(path) } else { found.push(path) }
            }
        }
        found.sort();
        found
    };
    let written = files(&destination);
    assert_eq!(written.len() as u64, first[0].files, "no staging file is left: {written:?}");
    assert!(written.iter().all(|path| path.extension().is_some_and(|extension| extension == "parquet")));
    // A row group holds at most 10 rows.
    let metadata = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&written[0]).unwrap()).unwrap();
    let row_groups = parquet::file::reader::FileReader::metadata(&metadata).row_groups().to_vec();
    assert!(
        row_groups.len() >= 2 && row_groups.iter().all(|group| group.num_rows() <= 10),
        "{:?}",
        row_groups.iter().map(|group| group.num_rows()).collect::<Vec<_>>()
    );

    // Re-exported in bigger files, each partition is rewritten whole: no old part is left.
    let bigger = ExportOptions { rows_per_file: 1_000_000, ..options };
    let second = export(&mut store, &bigger, &mut DirectorySink::new(&destination)).unwrap();
    assert_eq!(files(&destination).len() as u64, second[0].files);
    assert_eq!(second[0].files, second[0].partitions);
    if let Some(report) = read_back(&destination) {
        assert_eq!(report["findings"]["rows_duckdb"].as_u64(), Some(total));
    }
}

#[test]
fn since_keeps_the_partitions_of_that_day_and_later() {
    let directory = tempfile::tempdir().unwrap();
    let mut store = filled_store(&directory.path().join("vigil.db"));
    let since = chrono::NaiveDate::from_ymd_opt(2026, 11, 2);
    let options = ExportOptions { tables: ExportOptions::tables_named("alerts,host-events").unwrap(), since, ..ExportOptions::default() };
    let destination = directory.path().join("lake");
    let summaries = export(&mut store, &options, &mut DirectorySink::new(&destination)).unwrap();
    // Alerts of 2026-11-02 (three: the odd account, the UTC+2 one, the host-log detection),
    // the malware detection, and the one filed under 2026-11-04.
    assert_eq!((summaries[0].table, summaries[0].rows), ("alerts", 5));
    assert_eq!((summaries[1].table, summaries[1].rows), ("host-events", 3));
    assert!(!destination.join("alerts/date=2026-11-01").exists());
}

#[test]
fn a_staging_sink_hands_each_finished_file_to_its_uploader_and_keeps_none() {
    let directory = tempfile::tempdir().unwrap();
    let mut store = filled_store(&directory.path().join("vigil.db"));
    let staging = directory.path().join("staging");
    let mut uploaded: Vec<(String, u64)> = Vec::new();
    let mut sink = StagingSink::new(&staging, "s3://bucket/prefix", |key: &str, path: &Path| {
        uploaded.push((key.to_string(), std::fs::metadata(path).map_err(|error| error.to_string())?.len()));
        Ok(())
    });
    let options = ExportOptions { tables: ExportOptions::tables_named("alerts").unwrap(), ..ExportOptions::default() };
    let summaries = export(&mut store, &options, &mut sink).unwrap();
    assert_eq!(summaries[0].location, "s3://bucket/prefix/alerts");
    assert_eq!(uploaded.len() as u64, summaries[0].files);
    assert!(uploaded.iter().all(|(key, size)| key.starts_with("alerts/date=") && key.ends_with("/part-0000.parquet") && *size > 0), "{uploaded:?}");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0, "the staging directory is emptied");

    let mut failing = StagingSink::new(&staging, "s3://bucket/prefix", |_: &str, _: &Path| Err("AccessDenied".to_string()));
    let error = export(&mut store, &options, &mut failing).unwrap_err().to_string();
    assert!(error.contains("s3://bucket/prefix/alerts/date=") && error.contains("AccessDenied"), "{error}");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0, "a failed export leaves no staged file");
}
