//! End-to-end tests of the posture features of `vigil scan` on the bundled demo account:
//! frameworks, mutelists, the cloud-aware policy and every output format.

use crate::common::{run, vigil};
use std::path::Path;
use std::process::Command;

fn demo_findings(extra: &[&str]) -> serde_json::Value {
    let directory = tempfile::tempdir().unwrap();
    let output = directory.path().join("findings.json");
    let (code, _, stderr) = run(vigil().args(["-q", "scan", "--demo"]).args(extra).arg("-o").arg(&output));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap()
}

#[test]
fn framework_scan_runs_only_mapped_checks_and_prints_a_compliance_summary() {
    for name in ["cis", "cis-aws-5.0", "fsbp", "aws-fsbp", "pci", "pci-dss-4.0", "nist", "nist-800-53-r5"] {
        let (code, stdout, stderr) = run(vigil().args(["scan", "--demo", "--framework", name]));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains("per-requirement compliance"), "{name}: {stdout}");
    }
    let (_, stdout, _) = run(vigil().args(["scan", "--demo", "--framework", "cis"]));
    assert!(stdout.contains("CIS AWS Foundations Benchmark v5.0.0"));
    let line = stdout.lines().find(|line| line.starts_with("1.9 ")).unwrap();
    assert!(line.contains("FAIL"), "alice has a console password and no MFA: {line}");
    assert!(stdout.lines().any(|line| line.starts_with("1.1 ") && line.contains("MANUAL")), "{stdout}");
    let document = demo_findings(&["--framework", "cis"]);
    let cis = vigil_checks::frameworks::find("cis").unwrap();
    for finding in document["findings"].as_array().unwrap() {
        let check = vigil_checks::find(finding["check_id"].as_str().unwrap()).unwrap();
        assert!(cis.maps(check.metadata()), "{} is not a CIS check", finding["check_id"]);
    }
    assert_eq!(document["compliance"]["framework"], "cis-aws-5.0");
    let (code, _, stderr) = run(vigil().args(["scan", "--demo", "--framework", "hipaa"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown framework `hipaa`"), "{stderr}");
    let (code, stdout, _) = run(vigil().arg("frameworks"));
    assert_eq!(code, 0);
    assert!(stdout.contains("cis-aws-5.0") && stdout.contains("nist-800-53-r5"), "{stdout}");
    let (code, stdout, _) = run(vigil().args(["frameworks", "cis"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("iam_user_console_mfa") && stdout.contains("manual"), "{stdout}");
}

#[test]
fn a_prowler_mutelist_mutes_the_findings_it_names_and_keeps_the_reason() {
    let directory = tempfile::tempdir().unwrap();
    let mutelist = directory.path().join("mutelist.yaml");
    std::fs::write(
        &mutelist,
        "Mutelist:\n  Accounts:\n    \"*\":\n      Checks:\n        \"iam_user_mfa_enabled_console_access\":\n          Regions: [\"*\"]\n          Resources: [\"^alice$\"]\n          Description: \"alice is leaving on Friday\"\n",
    )
    .unwrap();
    let document = demo_findings(&["--mutelist", mutelist.to_str().unwrap()]);
    let findings = document["findings"].as_array().unwrap();
    let alice = findings.iter().find(|finding| finding["check_id"] == "iam_user_console_mfa" && finding["resource_id"] == "alice").unwrap();
    assert_eq!(alice["status"], "MUTED");
    assert_eq!(alice["mute_reason"], "alice is leaving on Friday");
    let muted = findings.iter().filter(|finding| finding["status"] == "MUTED").count();
    assert_eq!(muted, 1, "exactly the named finding is muted");

    std::fs::write(&mutelist, "Mutelist:\n  Accounts:\n    \"*\":\n      Checks: [unclosed\n").unwrap();
    let (code, _, stderr) = run(vigil().args(["scan", "--demo", "--mutelist"]).arg(&mutelist));
    assert_eq!(code, 2);
    assert!(stderr.contains("mutelist.yaml") && stderr.contains("line 4"), "{stderr}");
}

#[test]
fn a_policy_sets_parameters_and_data_sovereignty_fails_resources_elsewhere() {
    let directory = tempfile::tempdir().unwrap();
    let policy = directory.path().join("policy.yaml");
    std::fs::write(&policy, "allowed_regions: [ap-southeast-2]\n").unwrap();
    let document = demo_findings(&["--policy", policy.to_str().unwrap(), "--check", "policy_resource_region_allowed"]);
    let findings = document["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|finding| finding["status"] == "FAIL" && finding["check_id"] == "policy_resource_region_allowed"), "{findings:?}");
    // Without a restriction the bundled policy leaves the check silent.
    let document = demo_findings(&["--check", "policy_resource_region_allowed"]);
    assert!(document["findings"].as_array().unwrap().is_empty());
    std::fs::write(&policy, "rules:\n  - name: x\n    match: { colour: red }\n").unwrap();
    let (code, _, stderr) = run(vigil().args(["scan", "--demo", "--policy"]).arg(&policy));
    assert_eq!(code, 2);
    assert!(stderr.contains("policy.yaml") && stderr.contains("line 3"), "{stderr}");
    let (code, stdout, _) = run(vigil().args(["scan", "--print-default-policy"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("max_access_key_age_days"));
}

fn write_format(directory: &Path, file: &str) -> String {
    let output = directory.join(file);
    let (code, _, stderr) = run(vigil().args(["-q", "scan", "--demo", "-o"]).arg(&output));
    assert_eq!(code, 0, "{file}: {stderr}");
    std::fs::read_to_string(&output).unwrap()
}

#[test]
fn every_output_format_is_chosen_by_extension_and_parses() {
    let directory = tempfile::tempdir().unwrap();
    let csv = write_format(directory.path(), "findings.csv");
    assert!(csv.starts_with("status,severity,check_id"));
    let ocsf: serde_json::Value = serde_json::from_str(&write_format(directory.path(), "findings.ocsf.json")).unwrap();
    assert_eq!(ocsf[0]["class_uid"], 2003);
    let asff: serde_json::Value = serde_json::from_str(&write_format(directory.path(), "findings.asff.json")).unwrap();
    assert_eq!(asff[0]["SchemaVersion"], "2018-10-08");
    let sarif: serde_json::Value = serde_json::from_str(&write_format(directory.path(), "findings.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let junit = write_format(directory.path(), "findings.xml");
    assert!(junit.starts_with("<?xml") && junit.contains("<testsuites"));
    let html = write_format(directory.path(), "report.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("default-src 'none'"));
    // --format wins over the extension.
    let output = directory.path().join("out.txt");
    let (code, _, stderr) = run(vigil().args(["-q", "scan", "--demo", "--format", "csv", "-o"]).arg(&output));
    assert_eq!(code, 0, "{stderr}");
    assert!(std::fs::read_to_string(&output).unwrap().starts_with("status,"));
}

/// Opens the HTML report in headless Chromium: it must load with no console error and make no
/// network request (the report's CSP forbids any, and Chromium logs a CSP violation as a
/// console error). Skips with a message when Chromium is not installed.
#[test]
fn the_html_report_opens_in_headless_chromium_without_errors_or_network() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|output| output.status.success()))
    else {
        eprintln!("skipped: no chromium on PATH (apt-get install -y chromium)");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let html = write_format(directory.path(), "report.html");
    assert!(html.contains("tr class=\"finding\""));
    let report = directory.path().join("report.html");
    let profile = directory.path().join("profile");
    let output = Command::new(chromium)
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(dom.contains("<span id=\"shown\">"), "the page did not render: {log}");
    let rows = html.matches("<tr class=\"finding\"").count();
    assert!(dom.contains(&format!("<span id=\"shown\">{rows}</span>")), "{log}");
    assert!(dom.contains("data-ready=\"1\""), "the page's script did not run: {log}");
    // Chromium logs every console message, CSP violation and uncaught exception as CONSOLE.
    let console_errors: Vec<&str> = log.lines().filter(|line| line.contains("CONSOLE") || line.contains("Uncaught")).collect();
    assert!(console_errors.is_empty(), "{console_errors:?}");
    assert!(!log.contains("Refused to"), "a request was attempted: {log}");
}

#[test]
fn rego_checks_from_the_documented_example_add_findings() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/rego");
    let document = demo_findings(&["--rego", example]);
    let findings = document["findings"].as_array().unwrap();
    let custom: Vec<&serde_json::Value> = findings.iter().filter(|finding| finding["check_id"] == "custom_bucket_has_owner_tag").collect();
    assert!(!custom.is_empty(), "the demo account has buckets");
    assert!(custom.iter().all(|finding| finding["resource_type"] == "AWS::S3::Bucket" && (finding["status"] == "PASS" || finding["status"] == "FAIL")));
    let (code, _, stderr) = run(vigil().args(["scan", "--demo", "--rego", "/nonexistent/checks"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/checks"), "{stderr}");
}

/// Issue 14: a custom check's FAIL is resolved once the check stops reporting it. `vigil scan`
/// recorded only the catalog's checks as run, so a Rego finding stayed open forever; the one
/// assess pipeline records every check that ran, custom ones included.
#[test]
fn a_rego_fail_is_resolved_in_the_store_when_the_check_no_longer_reports_it() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let checks = directory.path().join("checks.rego");
    let policy = |name: &str| {
        format!(
            "package vigil.checks.custom_no_user_named\nmetadata := {{\"title\": \"No user has a forbidden name\"}}\n\
             deny contains {{\"resource\": user.Arn, \"message\": \"forbidden name\"}} if {{\n  some user in input.Iam.Users\n  user.UserName == \"{name}\"\n}}\n"
        )
    };
    std::fs::write(&checks, policy("alice")).unwrap();
    let scan = || {
        let (code, _, stderr) = run(vigil().args(["scan", "--demo", "--store"]).arg(&store).arg("--rego").arg(&checks));
        assert_eq!(code, 0, "{stderr}");
    };
    scan();
    std::fs::write(&checks, policy("nobody")).unwrap();
    scan();
    let (code, stdout, stderr) = run(vigil().args(["diff", "--format", "json", "--store"]).arg(&store));
    assert_eq!(code, 0, "{stderr}");
    let diff: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let fixed: Vec<&serde_json::Value> =
        diff["fixed_findings"].as_array().unwrap().iter().filter(|finding| finding["check_id"] == "custom_no_user_named").collect();
    assert_eq!(fixed.len(), 1, "{stdout}");
    assert!(fixed[0]["resource_arn"].as_str().unwrap().ends_with(":user/alice"), "{stdout}");
}
