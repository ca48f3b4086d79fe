//! End-to-end tests of `vigil export`: a store filled by `vigil scan --demo` and `vigil trail
//! hunt --record` exported to a directory and to S3 on moto, read back with pyarrow and DuckDB
//! (crates/export/tests/read_back.py), row counts equal to the store's.

use std::path::{Path, PathBuf};

use crate::common::{run, vigil};
use vigil_testkit::MotoServer;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const RECORDS: &str = r#"{"Records":[
 {"eventVersion":"1.08","eventID":"ev-stop","eventTime":"2024-05-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","eventID":"ev-del","eventTime":"2024-05-02T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"recipientAccountId":"111122223333"}
]}"#;

/// A store with a demo scan and recorded CloudTrail alerts.
fn filled_store(directory: &Path) -> String {
    let store = directory.join("vigil.db").display().to_string();
    let (code, _, stderr) = run(vigil().args(["scan", "--demo", "--quiet", "--store", &store]));
    assert!(code == 0 || code == 3, "{stderr}");
    let logs = directory.join("logs.json");
    std::fs::write(&logs, RECORDS).unwrap();
    let (code, _, stderr) = run(vigil().args(["trail", "hunt", "--format", "jsonl", "--record", "--store", &store]).arg(&logs));
    assert_eq!(code, 0, "{stderr}");
    store
}

fn counts(store: &str) -> [(&'static str, u64); 3] {
    let mut store = vigil_store::Store::open(store).unwrap();
    let mut count = |table: &str| store.table_rows(table).unwrap() as u64;
    [("findings", count("findings")), ("resources", count("resources")), ("alerts", count("alerts"))]
}

fn read_back(directory: &Path) -> Option<serde_json::Value> {
    let python = repository().join(".venv/bin/python");
    if !python.exists() {
        println!("skipped: {} is missing (create it with scripts/requirements-test.txt)", python.display());
        return None;
    }
    let output = std::process::Command::new(python)
        .arg(repository().join("crates/export/tests/read_back.py"))
        .arg(directory)
        .arg(repository().join("docs/export.md"))
        .output()
        .unwrap();
    assert!(output.status.success(), "read_back.py: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

fn assert_rows(report: &serde_json::Value, expected: &[(&str, u64)]) {
    for (table, rows) in expected {
        let entry = &report[*table];
        assert_eq!(entry["mismatches"], serde_json::json!([]), "{table}");
        assert_eq!((entry["rows_pyarrow"].as_u64(), entry["rows_duckdb"].as_u64()), (Some(*rows), Some(*rows)), "{table}: {entry}");
    }
}

#[test]
fn export_writes_the_store_as_partitioned_parquet_that_duckdb_and_pyarrow_read() {
    let directory = tempfile::tempdir().unwrap();
    let store = filled_store(directory.path());
    let expected = counts(&store);
    assert!(expected.iter().all(|(_, rows)| *rows > 0), "{expected:?}");
    let lake = directory.path().join("lake");
    let (code, stdout, stderr) = run(vigil().args(["export", "--to"]).arg(&lake).args(["--store", &store, "--what", "findings,resources,alerts"]));
    assert_eq!(code, 0, "{stderr}");
    for (table, rows) in expected {
        assert!(stdout.lines().any(|line| line.starts_with(table) && line.contains(&format!(" {rows} rows"))), "{table} {rows}: {stdout}");
    }
    assert!(stderr.contains("rows/s"), "{stderr}");
    assert!(lake.join("alerts/date=2024-05-01/account=111122223333/region=us-east-1/part-0000.parquet").is_file());
    assert!(lake.join("alerts/date=2024-05-02/account=111122223333/region=eu-west-1/part-0000.parquet").is_file());
    if let Some(report) = read_back(&lake) {
        assert_rows(&report, &expected);
    }

    // Only the alerts of 2024-05-02 and later, into a fresh directory.
    let recent = directory.path().join("recent");
    let (code, stdout, stderr) = run(vigil().args(["export", "--what", "alerts", "--since", "2024-05-02", "--store", &store, "--to"]).arg(&recent));
    assert_eq!(code, 0, "{stderr}");
    // The DeleteTrail record of 2024-05-02 raises alerts (several rules may fire on it); none of
    // 2024-05-01 is exported.
    let alerts_line = stdout.lines().find(|line| line.starts_with("alerts")).unwrap_or_default();
    let exported: u64 = alerts_line.split_whitespace().nth(1).and_then(|rows| rows.parse().ok()).unwrap_or(0);
    let all_alerts = expected.iter().find(|(table, _)| *table == "alerts").map_or(0, |(_, rows)| *rows);
    assert!(exported >= 1 && exported < all_alerts, "{exported} of {all_alerts} alerts: {stdout}");
    assert!(recent.join("alerts/date=2024-05-02").is_dir() && !recent.join("alerts/date=2024-05-01").exists(), "{stdout}");

    let (code, _, stderr) = run(vigil().args(["export", "--what", "findings,secrets", "--store", &store, "--to"]).arg(&recent));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown table `secrets`"), "{stderr}");
}

/// `--to s3://BUCKET/PREFIX` on moto: every file is uploaded under the prefix with the same
/// layout, and the objects, downloaded, read back row for row.
#[test]
fn export_uploads_the_files_to_s3_on_moto() {
    let directory = tempfile::tempdir().unwrap();
    let store = filled_store(directory.path());
    let expected = counts(&store);
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let s3 = runtime.block_on(moto.s3("us-east-1"));
    runtime.block_on(s3.create_bucket().bucket("security-lake").send()).unwrap();
    let mut command = vigil();
    command.args(["export", "--to", "s3://security-lake/vigil/", "--store", &store, "--what", "findings,resources,alerts"]);
    command.args(["--endpoint-url", &moto.endpoint_url, "--region", "us-east-1"]);
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("s3://security-lake/vigil/findings"), "{stdout}");

    let downloaded = directory.path().join("downloaded");
    let keys = runtime.block_on(async {
        let listed = s3.list_objects_v2().bucket("security-lake").prefix("vigil/").send().await.unwrap();
        let mut keys = Vec::new();
        for object in listed.contents() {
            let key = object.key().unwrap().to_string();
            let body = s3.get_object().bucket("security-lake").key(&key).send().await.unwrap();
            assert_eq!(body.content_type(), Some("application/vnd.apache.parquet"));
            let bytes = body.body.collect().await.unwrap().into_bytes();
            let path = downloaded.join(key.strip_prefix("vigil/").unwrap());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
            keys.push(key);
        }
        keys
    });
    assert!(keys.iter().all(|key| key.ends_with(".parquet") && key.contains("/date=") && key.contains("/account=") && key.contains("/region=")), "{keys:?}");
    assert!(keys.contains(&"vigil/alerts/date=2024-05-01/account=111122223333/region=us-east-1/part-0000.parquet".to_string()), "{keys:?}");
    if let Some(report) = read_back(&downloaded) {
        assert_rows(&report, &expected);
    }

    // A bucket that does not exist: the error names the object and the call.
    let mut command = vigil();
    command.args([
        "export",
        "--to",
        "s3://no-such-bucket/x",
        "--store",
        &store,
        "--what",
        "alerts",
        "--endpoint-url",
        &moto.endpoint_url,
        "--region",
        "us-east-1",
    ]);
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let (code, _, stderr) = run(&mut command);
    assert_eq!(code, 2);
    assert!(stderr.contains("s3:PutObject on `s3://no-such-bucket/x/alerts/date="), "{stderr}");
}
