//! `vigil iam simulate` end to end: the real binary on corpus files and on malformed input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../iam/tests/corpus").join(name)
}

#[test]
fn simulate_decides_a_corpus_file_as_expected() {
    let path = corpus("evaluation.json");
    let output = vigil().args(["iam", "simulate", "--input"]).arg(&path).args(["--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let decisions: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    let decisions = decisions.as_array().unwrap();
    assert_eq!(decisions.len(), cases.len());
    for (case, decision) in cases.iter().zip(decisions) {
        assert_eq!(decision["decision"], case["expected"], "{}", case["name"]);
        assert!(decision["explanation"]["summary"].as_str().is_some_and(|summary| !summary.is_empty()));
    }
}

#[test]
fn simulate_prints_one_object_for_one_case() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("case.json");
    std::fs::write(
        &path,
        r#"{"request":{"principal":"arn:aws:iam::111111111111:role/app","action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key"},
            "identity_policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}"#,
    )
    .unwrap();
    let output = vigil().args(["iam", "simulate", "--input"]).arg(&path).args(["--format", "json"]).output().unwrap();
    assert!(output.status.success());
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["decision"], "Allowed");
    assert_eq!(decision["explanation"]["allowed_by"][0]["policy"], "identity_policies[0]");
    let table = vigil().args(["iam", "simulate", "--input"]).arg(&path).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("decision: Allowed"));
}

#[test]
fn simulate_rejects_malformed_cases_naming_case_and_element() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("cases.json");
    std::fs::write(
        &path,
        r#"[{"request":{"principal":"arn:aws:iam::111111111111:role/app","action":"s3:GetObject","resource":"*"}},
            {"request":{"principal":"arn:aws:iam::111111111111:role/app","action":"s3:GetObject","resource":"*"},
             "identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}]}]"#,
    )
    .unwrap();
    let output = vigil().args(["iam", "simulate", "--input"]).arg(&path).args(["--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("case 1") && stderr.contains("identity_policies[0]") && stderr.contains("`Effect`"), "{stderr}");
}
