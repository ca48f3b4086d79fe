//! End-to-end tests of `vigil scan`, `vigil collect`, snapshots, completions and the man page,
//! running the real binary.

use crate::common::{run, vigil};
use vigil_testkit::{MotoServer, example_corp};

#[test]
fn demo_scan_prints_findings_and_writes_json() {
    let directory = tempfile::tempdir().unwrap();
    let output = directory.path().join("findings.json");
    let (code, stdout, stderr) = run(vigil().args(["scan", "--demo", "-o"]).arg(&output));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("s3_bucket_not_public"), "{stdout}");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let findings = document["findings"].as_array().unwrap();
    assert!(findings.iter().any(|finding| finding["check_id"] == "iam_user_console_mfa" && finding["status"] == "FAIL" && finding["resource_id"] == "alice"));
    assert!(findings.iter().any(|finding| finding["check_id"] == "iam_user_console_mfa" && finding["status"] == "PASS" && finding["resource_id"] == "carol"));
    assert_eq!(document["account_id"], "123456789012");
}

/// Issue 14 item 9: a newcomer's first scan looks like a real account, with no emulator gap
/// shown as an ERROR; what moto could not serve is recorded in the snapshot, and says so.
#[test]
fn the_demo_account_shows_no_emulator_gaps() {
    let directory = tempfile::tempdir().unwrap();
    let output = directory.path().join("findings.json");
    let (code, stdout, stderr) = run(vigil().args(["scan", "--demo", "-o"]).arg(&output));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(" ERROR 0 "), "{stdout}");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    for finding in document["findings"].as_array().unwrap() {
        let message = finding["message"].as_str().unwrap_or_default();
        assert_ne!(finding["status"], "ERROR", "{finding}");
        assert!(!message.contains("moto") && !message.contains("StartEl") && !message.contains("after 0 days"), "{message}");
    }
    let demo = vigil_model::snapshot::from_bytes(&vigil_cli_demo(), "demo").unwrap();
    let unread: Vec<_> = demo.ledger.failures().collect();
    assert!(unread.is_empty(), "{unread:?}");
    let recorded: Vec<_> =
        demo.ledger.calls.iter().filter(|call| call.detail.as_deref() == Some(example_corp::RECORDED_NOTE)).map(|call| call.operation.as_str()).collect();
    for operation in ["GetBucketVersioning", "GetBucketPolicyStatus", "GetInstanceMetadataDefaults", "GetEbsDefaultKmsKeyId", "ListEmailIdentities"] {
        assert!(recorded.contains(&operation), "{operation} is not marked as recorded: {recorded:?}");
    }
    assert!(demo.iam.credential_report.iter().any(|row| row.is_root()));
}

#[test]
fn jsonl_output_has_one_finding_per_line_and_fail_on_sets_the_exit_code() {
    let directory = tempfile::tempdir().unwrap();
    let output = directory.path().join("findings.jsonl");
    let (code, _, stderr) = run(vigil().args(["-q", "scan", "--demo", "--fail-on", "critical", "-o"]).arg(&output));
    assert_eq!(code, 3, "{stderr}");
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(text.lines().count() > 10);
    for line in text.lines() {
        let finding: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(finding["check_id"].is_string());
    }
    let (code, _, _) = run(vigil().args(["-q", "scan", "--demo", "--check", "iam_root_access_keys_absent", "--fail-on", "low"]));
    assert_eq!(code, 0, "the demo root user has no access keys");
}

#[test]
fn bad_snapshots_get_clear_errors_and_no_panic() {
    let directory = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cloudtrail.json", b"{\"Records\": []}".to_vec(), "not zstd-compressed"),
        ("truncated.vigil", vigil_cli_demo()[..200].to_vec(), "corrupt or truncated"),
        ("newer.vigil", zstd::encode_all(&b"{\"Format\":\"vigil-inventory\",\"FormatVersion\":7}"[..], 3).unwrap(), "newer than this vigil"),
        ("foreign.vigil", zstd::encode_all(&b"{\"Format\":\"prowler-output\"}"[..], 3).unwrap(), "`Format` is `prowler-output`"),
    ];
    for (name, bytes, expected) in cases {
        let path = directory.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (code, _, stderr) = run(vigil().args(["scan", "--snapshot"]).arg(&path));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (code, _, stderr) = run(vigil().args(["scan", "--snapshot", "/nonexistent/snap.vigil"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/snap.vigil"), "{stderr}");
}

fn vigil_cli_demo() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/example-corp.vigil")).unwrap()
}

#[test]
fn completions_and_man_page_come_from_the_same_definitions() {
    let (code, stdout, _) = run(vigil().args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("--snapshot") && stdout.contains("scan"));
    let (code, stdout, _) = run(vigil().arg("man"));
    assert_eq!(code, 0);
    assert!(stdout.contains(".TH vigil") && stdout.contains("scan"));
    let (code, stdout, _) = run(vigil().arg("--help"));
    assert_eq!(code, 0);
    assert!(stdout.contains("vigil scan --demo"));
}

#[test]
fn collect_then_scan_offline_against_moto() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(example_corp::seed(&moto));
    let directory = tempfile::tempdir().unwrap();
    let snapshot = directory.path().join("corp.vigil");
    let mut collect = vigil();
    collect.args(["collect", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--region", "eu-west-1", "-o"]).arg(&snapshot);
    for (key, value) in moto.env() {
        collect.env(key, value);
    }
    let (code, _, stderr) = run(&mut collect);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("collected account 123456789012"), "{stderr}");
    drop(moto);
    // The moto server is gone: the scan must work offline from the snapshot.
    let findings = directory.path().join("findings.json");
    let (code, stdout, stderr) = run(vigil().args(["scan", "--snapshot"]).arg(&snapshot).arg("-o").arg(&findings));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ec2_security_group_admin_ports_open_to_world"), "{stdout}");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&findings).unwrap()).unwrap();
    assert!(document["findings"].as_array().unwrap().iter().any(|finding| finding["check_id"] == "ec2_ebs_snapshot_not_public" && finding["status"] == "FAIL"));
}

#[test]
fn a_denied_principal_gets_error_findings_that_name_the_call() {
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "4")]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let key = runtime.block_on(async {
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config().await);
        iam.create_user().user_name("auditor").send().await.unwrap();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetBucketPolicy","Resource":"*"}]}"#;
        iam.put_user_policy().user_name("auditor").policy_name("p").policy_document(policy).send().await.unwrap();
        let key = iam.create_access_key().user_name("auditor").send().await.unwrap().access_key.unwrap();
        moto.s3("us-east-1").await.create_bucket().bucket("audited").send().await.unwrap();
        key
    });
    let directory = tempfile::tempdir().unwrap();
    let findings = directory.path().join("findings.json");
    let mut scan = vigil();
    scan.args(["scan", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--check", "s3_bucket_not_public", "-o"]).arg(&findings);
    for (key_name, value) in moto.env() {
        scan.env(key_name, value);
    }
    scan.env("AWS_ACCESS_KEY_ID", &key.access_key_id).env("AWS_SECRET_ACCESS_KEY", &key.secret_access_key);
    let (code, _, stderr) = run(&mut scan);
    assert_eq!(code, 0, "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&findings).unwrap()).unwrap();
    let finding = &document["findings"][0];
    assert_eq!(finding["status"], "ERROR", "{finding}");
    assert!(finding["message"].as_str().unwrap().contains("s3:GetBucketPolicy"), "{finding}");
    assert!(finding["message"].as_str().unwrap().contains(": access denied: Access Denied (AccessDenied)"), "{finding}");
    // The readable line stays short; the SDK's raw error is in the evidence.
    assert!(!finding["message"].as_str().unwrap().contains("ServiceError"), "{finding}");
    assert!(finding["evidence"]["call"]["detail"].as_str().is_some_and(|detail| detail.contains("AccessDenied")), "{finding}");
    assert!(stderr.contains("not read: s3:GetBucketPolicy (1 call in us-east-1): access denied: Access Denied (AccessDenied)"), "{stderr}");
}
