//! End-to-end tests of `vigil trail`: hunt (files, stdin, S3 on moto), the JSON Lines alert
//! contract, faults in the input, search, summary, rules and verify, running the real binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use crate::common::{run, vigil};
use vigil_testkit::MotoServer;

fn shared_data() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("skipped: the shared data folder `{}` is absent", path.display());
        None
    }
}

const RECORDS: &str = r#"{"Records":[
 {"eventVersion":"1.08","eventID":"ev-stop","eventTime":"2024-05-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"requestParameters":{"name":"main"},"recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","eventID":"ev-get","eventTime":"2024-05-01T11:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"aws-sdk-go","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}},
 {"eventVersion":"1.08","eventID":"ev-denied","eventTime":"2024-05-02T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"}}
]}"#;

fn write_logs() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    let folder = directory.path().join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01");
    std::fs::create_dir_all(&folder).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(RECORDS.as_bytes()).unwrap();
    std::fs::write(folder.join("111122223333_CloudTrail_us-east-1_20240501T1000Z_a.json.gz"), encoder.finish().unwrap()).unwrap();
    directory
}

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[test]
fn hunt_prints_the_jsonl_alert_contract() {
    let logs = write_logs();
    let (code, stdout, stderr) = run(vigil().args(["trail", "hunt", "--format", "jsonl"]).arg(logs.path()));
    assert_eq!(code, 0, "{stderr}");
    let alerts = jsonl(&stdout);
    let stop = alerts.iter().find(|alert| alert["rule_title"] == "CloudTrail Logging Disabled").expect("logging disabled alert");
    for field in ["rule_id", "rule_title", "level", "event_id", "event_time", "event_name", "tags"] {
        assert!(stop.get(field).is_some(), "missing {field}: {stop}");
    }
    assert_eq!(stop["rule_id"], "ddd899da-40cd-4c41-aef0-e6edb3df7715");
    assert_eq!(stop["event_id"], "ev-stop");
    assert_eq!(stop["event_time"], "2024-05-01T10:00:00Z");
    assert_eq!(stop["event_name"], "StopLogging");
    assert_eq!(stop["level"], "high");
    assert!(stop["tags"].as_array().unwrap().iter().any(|tag| tag == "attack.t1562.008"));
    assert!(alerts.iter().any(|alert| alert["rule_title"] == "Unauthorized API Call" && alert["event_id"] == "ev-denied"));
    assert!(!alerts.iter().any(|alert| alert["event_id"] == "ev-get"), "{stdout}");
    assert!(stderr.contains("read 3 records from 1 files"), "{stderr}");

    let (code, stdout, _) = run(vigil().args(["trail", "hunt", "--format", "jsonl", "--from", "2024-05-02"]).arg(logs.path()));
    assert_eq!(code, 0);
    assert!(jsonl(&stdout).iter().all(|alert| alert["event_id"] == "ev-denied"), "{stdout}");

    let (code, stdout, _) = run(vigil().args(["trail", "hunt", "--format", "ocsf"]).arg(logs.path()));
    assert_eq!(code, 0);
    assert!(jsonl(&stdout).iter().all(|finding| finding["class_uid"] == 2004));
}

#[test]
fn hunt_reads_standard_input_and_reports_faults_without_stopping() {
    let mut child =
        vigil().args(["trail", "hunt", "-", "--format", "jsonl"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"eventName\":\"StopLogging\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventID\":\"s1\"}\n{}\n{\"eventName\": nope}\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(jsonl(&stdout).iter().any(|alert| alert["event_id"] == "s1"), "{stdout}");
    assert!(stderr.contains("<stdin>: record 1: not a CloudTrail record"), "{stderr}");
    assert!(stderr.contains("<stdin>: record 2: malformed JSON"), "{stderr}");
    assert!(stderr.contains("skipped 2 malformed records"), "{stderr}");

    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("truncated.json"),
        r#"{"Records":[{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","eventID":"t1"},{"eventName":"#,
    )
    .unwrap();
    std::fs::write(directory.path().join("corrupt.json.gz"), [0x1f, 0x8b, 8, 0, 9, 9, 9, 9, 9]).unwrap();
    std::fs::write(directory.path().join("text.log"), "not json at all").unwrap();
    let (code, stdout, stderr) = run(vigil().args(["trail", "hunt", "--format", "jsonl"]).arg(directory.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(jsonl(&stdout).iter().any(|alert| alert["event_id"] == "t1"));
    assert!(stderr.contains("ends in the middle of record 1"), "{stderr}");
    assert!(stderr.contains("is not JSON"), "{stderr}");
    assert!(stderr.contains("3 files could not be read to the end"), "{stderr}");
}

#[test]
fn bad_input_exits_with_code_2() {
    let logs = write_logs();
    let (code, _, stderr) = run(vigil().args(["trail", "hunt", "--rules", "/no/such/rules"]).arg(logs.path()));
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such/rules"), "{stderr}");
    let (code, _, stderr) = run(vigil().args(["trail", "hunt", "/no/such/logs"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such/logs"), "{stderr}");
    let (code, _, stderr) = run(vigil().args(["trail", "search"]).arg(logs.path()).arg("eventName="));
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid filter"), "{stderr}");
}

#[test]
fn sigmahq_rules_load_and_run_over_the_shared_datasets() {
    let Some(data) = shared_data() else { return };
    let (code, stdout, stderr) = run(vigil().args(["trail", "rules", "--no-builtin", "--rules"]).arg(data.join("sigma")));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("57 rules, 0 correlations"), "{stdout}");
    assert!(!stdout.contains("NOT LOADED"), "{stdout}");
    let (code, stdout, stderr) =
        run(vigil().args(["trail", "hunt", "--no-builtin", "--format", "jsonl", "--rules"]).arg(data.join("sigma")).arg(data.join("cloudtrail")));
    assert_eq!(code, 0, "{stderr}");
    let alerts = jsonl(&stdout);
    assert!(!alerts.is_empty());
    assert!(alerts.iter().all(|alert| alert["rule_id"].as_str().is_some_and(|id| id.len() == 36)));
    assert!(stderr.contains("skipped 0 malformed records"), "{stderr}");
}

#[test]
fn search_and_summary_answer_who_did_what() {
    let logs = write_logs();
    let (code, stdout, stderr) = run(vigil()
        .args(["trail", "search", "--format", "jsonl"])
        .arg(logs.path())
        .arg("userIdentity.arn=arn:aws:iam::111122223333:user/mallory and eventName=Stop*"));
    assert_eq!(code, 0, "{stderr}");
    let records = jsonl(&stdout);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["eventID"], "ev-stop");
    let (code, stdout, _) = run(vigil().args(["trail", "summary", "--format", "json"]).arg(logs.path()));
    assert_eq!(code, 0);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["records"], 3);
    assert_eq!(summary["principals"][0]["name"], "arn:aws:iam::111122223333:user/mallory");
    assert_eq!(summary["principals"][0]["count"], 2);
    assert_eq!(summary["errors"][0]["name"], "AccessDenied");
    let (code, stdout, _) = run(vigil().args(["trail", "search", "--summary"]).arg(logs.path()).arg("sourceIPAddress=203.0.113.*"));
    assert_eq!(code, 0);
    assert!(stdout.contains("2 records"), "{stdout}");
}

#[test]
fn hunt_reads_logs_from_s3_on_moto() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s3 = moto.s3("us-east-1").await;
        s3.create_bucket().bucket("trail-logs").send().await.unwrap();
        let put = |key: &'static str, body: &'static str| {
            s3.put_object().bucket("trail-logs").key(key).body(aws_sdk_s3::primitives::ByteStream::from_static(body.as_bytes())).send()
        };
        put("org/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1005Z_a.json", RECORDS).await.unwrap();
        put("org/AWSLogs/111122223333/CloudTrail/us-east-1/2024/06/01/111122223333_CloudTrail_us-east-1_20240601T1005Z_b.json", RECORDS).await.unwrap();
        put("org/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T110000Z.json", "{}")
            .await
            .unwrap();
    });
    let mut command = vigil();
    command.args([
        "trail",
        "hunt",
        "--format",
        "jsonl",
        "--endpoint-url",
        &moto.endpoint_url,
        "--region",
        "us-east-1",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-03",
    ]);
    command.arg("s3://trail-logs/org/AWSLogs/111122223333/CloudTrail/us-east-1/");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stderr}");
    let alerts = jsonl(&stdout);
    assert!(alerts.iter().any(|alert| alert["event_id"] == "ev-stop" && alert["file"].as_str().unwrap().starts_with("s3://trail-logs/org/")), "{stdout}");
    assert!(stderr.contains("read 3 records from 1 files"), "only the May log file is in range: {stderr}");
}

/// `verify s3://...` on moto: the generated trail (its own RSA key, logs, signed digests whose
/// signatures sit in the `signature` object metadata as CloudTrail stores them) is uploaded with
/// one log file tampered, one deleted and one added; verify reports exactly those three.
/// moto does not emulate cloudtrail:ListPublicKeys, so the keys come from a file here, and the
/// run without a file must fail naming the call (the reply conversion is tested in collect).
#[test]
fn verify_reads_digests_and_logs_from_s3_on_moto() {
    use vigil_trail::verify::fixture;
    let trail = fixture::sample_trail("trail-audit", "org/").unwrap();
    let tampered = &trail.logs[0];
    let deleted = &trail.logs[1];
    let extra_key = trail.logs[0].key.replace("T1005Z_abc", "T1130Z_zzz");
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s3 = moto.s3("us-east-1").await;
        s3.create_bucket().bucket("trail-audit").send().await.unwrap();
        for object in trail.digests.iter().chain(&trail.logs).filter(|object| object.key != deleted.key) {
            let bytes = if object.key == tampered.key { fixture::gzip(br#"{"Records":[{"eventName":"Forged"}]}"#).unwrap() } else { object.bytes.clone() };
            let mut put = s3.put_object().bucket("trail-audit").key(&object.key).body(bytes.into());
            if let Some(signature) = &object.signature {
                put = put.metadata("signature", signature);
            }
            put.send().await.unwrap();
        }
        s3.put_object().bucket("trail-audit").key(&extra_key).body(fixture::gzip(br#"{"Records":[]}"#).unwrap().into()).send().await.unwrap();
    });
    let keys_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(keys_file.path(), &trail.keys_json).unwrap();
    let verify = |extra: &[&str]| {
        let mut command = vigil();
        command.args(["trail", "verify", "s3://trail-audit/org/", "--format", "json", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1"]);
        command.args(extra);
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        run(&mut command)
    };
    let (code, stdout, stderr) = verify(&["--public-keys", keys_file.path().to_str().unwrap()]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let problems: Vec<(String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| (problem["kind"].as_str().unwrap().to_string(), problem["path"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        problems,
        vec![
            ("log_modified".to_string(), format!("s3://trail-audit/{}", tampered.key)),
            ("log_missing".to_string(), deleted.key.trim_start_matches("org/").to_string()),
            ("log_extra".to_string(), format!("s3://trail-audit/{extra_key}")),
        ],
        "{stdout}"
    );
    assert_eq!((report["digests"].as_u64(), report["valid_digests"].as_u64()), (Some(3), Some(3)), "signatures come from the metadata: {stdout}");
    assert_eq!(report["unverified_digests"].as_array().map(Vec::len), Some(0), "{stdout}");

    let (code, _, stderr) = verify(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cloudtrail:ListPublicKeys in `us-east-1` failed"), "{stderr}");
}

/// The single-event alerts of a JSON Lines hunt, as (rule, event, file name from `AWSLogs/` on),
/// and the number of files it read (from its report on standard error).
fn hunt_alerts(command: &mut std::process::Command) -> (std::collections::BTreeSet<(String, String, String)>, u64) {
    let (code, stdout, stderr) = run(command);
    assert_eq!(code, 0, "{stderr}");
    let files = stderr
        .split(" files (")
        .next()
        .and_then(|before| before.rsplit(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no file count in {stderr}"));
    let alerts = jsonl(&stdout)
        .into_iter()
        .filter(|alert| alert.get("correlation").is_none())
        .map(|alert| {
            let file = alert["file"].as_str().unwrap_or_default();
            let layout = vigil_trail::shard::layout_name(file);
            let name = if layout == file.replace('\\', "/") { file.rsplit('/').next().unwrap_or(file).to_string() } else { layout };
            (alert["rule_id"].as_str().unwrap().to_string(), alert["event_id"].as_str().unwrap_or_default().to_string(), name)
        })
        .collect();
    (alerts, files)
}

/// `--shard I/N` over local files: N hunts read each file exactly once between them (disjoint
/// files, whose counts add up to the unsharded hunt's) and together find exactly its
/// single-event alerts.
#[test]
fn sharded_hunts_read_each_file_once_and_together_find_the_unsharded_alerts() {
    let Some(data) = shared_data() else { return };
    let hunt = |shard: Option<&str>| {
        let mut command = vigil();
        command.args(["trail", "hunt", "--format", "jsonl", "--rules"]).arg(data.join("sigma"));
        if let Some(shard) = shard {
            command.args(["--shard", shard]);
        }
        command.arg(data.join("cloudtrail"));
        hunt_alerts(&mut command)
    };
    let (whole, whole_files) = hunt(None);
    assert!(whole.len() > 10 && whole_files > 50, "{} alerts from {whole_files} files", whole.len());
    let mut union = std::collections::BTreeSet::new();
    let mut files = 0;
    for index in 0..3 {
        let (alerts, shard_files) = hunt(Some(&format!("{index}/3")));
        assert!(shard_files > 0 && shard_files < whole_files, "shard {index}/3 read {shard_files} of {whole_files} files");
        assert!(union.is_disjoint(&alerts), "an alert found by two shards");
        union.extend(alerts);
        files += shard_files;
    }
    assert_eq!(files, whole_files, "each file read exactly once");
    assert_eq!(union, whole);

    let (code, _, stderr) = run(vigil().args(["trail", "hunt", "--shard", "3/3", "-"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("`3/3` is not a shard"), "{stderr}");
    let (code, _, stderr) = run(vigil().args(["trail", "hunt", "--shard", "0/2", "-"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot split standard input"), "{stderr}");
}

/// `--shard I/N` over an S3 prefix on moto: each shard reads from the bucket exactly the objects
/// the same shard reads from a local copy with the trail's key layout, and the shards together
/// find the alerts of the unsharded hunt of the copy.
#[test]
fn sharded_hunts_over_s3_split_the_objects_as_a_local_copy_splits_its_files() {
    let Some(data) = shared_data() else { return };
    let source = data.join("cloudtrail/invictus-aws-dataset");
    let copy = tempfile::tempdir().unwrap();
    let folder = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10";
    std::fs::create_dir_all(copy.path().join(folder)).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&source)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s3 = moto.s3("us-east-1").await;
        s3.create_bucket().bucket("org-trail").send().await.unwrap();
        for name in &names {
            let bytes = std::fs::read(source.join(name)).unwrap();
            std::fs::write(copy.path().join(folder).join(name), &bytes).unwrap();
            s3.put_object().bucket("org-trail").key(format!("logs/{folder}/{name}")).body(bytes.into()).send().await.unwrap();
        }
    });
    let local = |shard: Option<&str>| {
        let mut command = vigil();
        command.args(["trail", "hunt", "--format", "jsonl"]).arg("--rules").arg(data.join("sigma"));
        if let Some(shard) = shard {
            command.args(["--shard", shard]);
        }
        hunt_alerts(command.arg(copy.path()))
    };
    let (whole, whole_files) = local(None);
    assert_eq!(whole_files, names.len() as u64);
    let mut union = std::collections::BTreeSet::new();
    let mut files = 0;
    for index in 0..3 {
        let shard = format!("{index}/3");
        let mut command = vigil();
        command.args(["trail", "hunt", "--format", "jsonl", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--shard", &shard]);
        command.arg("--rules").arg(data.join("sigma")).arg("s3://org-trail/logs/AWSLogs/218007301253/CloudTrail/");
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        let (from_s3, s3_files) = hunt_alerts(&mut command);
        let (from_copy, copy_files) = local(Some(&shard));
        assert_eq!((&from_s3, s3_files), (&from_copy, copy_files), "shard {shard}: the bucket and its copy split alike");
        union.extend(from_s3);
        files += s3_files;
    }
    assert_eq!(files, whole_files);
    assert_eq!(union, whole);
}
