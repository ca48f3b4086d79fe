//! Tests of the host detections: the built-in rules, the SigmaHQ Linux rules, correlations.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::logs::parse::syslog_line;

fn builtin() -> RuleSet {
    let (set, rejected) = load(&[], true).unwrap();
    assert!(rejected.is_empty(), "{rejected:#?}");
    set
}

fn titles(set: &RuleSet, record: &LogRecord) -> Vec<String> {
    let mut detector = Detector::default();
    detector.check(set, record).into_iter().map(|alert| alert.rule_title).collect()
}

fn auth(message: &str) -> LogRecord {
    syslog_line(&format!("2026-05-04T10:00:00+00:00 web1 {message}"), "/var/log/auth.log", true, 2026)
}

#[test]
fn every_builtin_rule_loads_with_its_metadata() {
    let set = builtin();
    assert_eq!(set.rules.len() + set.correlations.len(), BUILTIN_RULES.len());
    let mut ids = std::collections::BTreeSet::new();
    for (name, text) in BUILTIN_RULES {
        let yaml: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let id = yaml["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "{name}");
        assert!(ids.insert(id.to_string()), "{name}: duplicate id");
        for key in ["title", "level", "tags", "falsepositives", "description"] {
            assert!(yaml.get(key).is_some(), "{name} has no `{key}`");
        }
    }
    assert!(set.rules.iter().any(|rule| rule.id == SSH_AUTH_FAILURE_RULE));
}

#[test]
fn builtin_rules_fire_on_the_basics_and_stay_quiet_on_routine_lines() {
    let set = builtin();
    let check = |record: LogRecord, expected: &[&str]| {
        let mut got = titles(&set, &record);
        got.sort();
        let mut expected: Vec<String> = expected.iter().map(|text| text.to_string()).collect();
        expected.sort();
        assert_eq!(got, expected, "{:?}", record.fields);
    };
    check(auth("sshd[1]: Failed password for invalid user admin from 198.51.100.7 port 2 ssh2"), &["SSH Authentication Failure"]);
    check(auth("sshd[1]: Accepted publickey for root from 198.51.100.7 port 2 ssh2"), &["SSH Login", "Root Login Over SSH"]);
    check(auth("sshd[1]: Accepted publickey for alice from 198.51.100.7 port 2 ssh2"), &["SSH Login"]);
    check(auth("sudo[1]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh"), &["Sudo Authentication Failure"]);
    check(auth("sudo[1]:    alice : user NOT in sudoers ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh"), &["Sudo Authentication Failure"]);
    check(auth("sudo[1]:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/apt update"), &[]);
    check(auth("usermod[1]: add 'mallory' to group 'sudo'"), &["User Added to an Administrators Group"]);
    check(auth("usermod[1]: add 'mallory' to group 'video'"), &[]);
    check(auth("useradd[1]: new user: name=mallory, UID=1001, GID=1001, home=/home/mallory, shell=/bin/bash"), &["Local User or Group Added"]);
    check(auth("groupadd[1]: new group: name=ops, GID=1002"), &["Local User or Group Added"]);
    check(auth("su[1]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)"), &["Root Login Session Opened"]);
    check(auth("CRON[1]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"), &[]);
    let audit = |line: &str| crate::logs::parse::audit_line(line, "/var/log/audit/audit.log").unwrap();
    check(audit("type=PATH msg=audit(1.0:1): item=1 name=\"/root/.ssh/authorized_keys\" inode=5 nametype=CREATE"), &["SSH Authorized Key Written"]);
    check(audit("type=PATH msg=audit(1.0:2): item=1 name=\"/etc/sudoers.d/90-x\" inode=5 nametype=CREATE"), &["User Added to an Administrators Group"]);
    check(
        audit("type=EXECVE msg=audit(1.0:3): argc=3 a0=\"truncate\" a1=\"-s0\" a2=\"/var/log/audit/audit.log\""),
        &["Audit Log Cleared or Audit Rules Removed"],
    );
    check(audit("type=EXECVE msg=audit(1.0:4): argc=2 a0=\"rm\" a1=\"/tmp/x\""), &[]);
    check(audit("type=CONFIG_CHANGE msg=audit(1.0:5): auid=0 ses=1 op=remove_rule key=\"k\" list=4 res=1"), &["Audit Log Cleared or Audit Rules Removed"]);
    let mut truncated = BTreeMap::new();
    truncated.insert("event".to_string(), "log_truncated".to_string());
    truncated.insert("source".to_string(), "/var/log/audit/audit.log".to_string());
    check(
        LogRecord { source: "/var/log/audit/audit.log".to_string(), services: vec!["syslog".into()], fields: truncated },
        &["Audit Log Cleared or Audit Rules Removed"],
    );
}

#[test]
fn brute_force_and_success_after_failures_are_correlated_per_source() {
    let set = builtin();
    let mut detector = Detector::default();
    for second in 0..12 {
        let record = syslog_line(
            &format!("2026-05-04T10:00:{second:02}+00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port 2 ssh2"),
            "/var/log/auth.log",
            true,
            2026,
        );
        detector.check(&set, &record);
    }
    // Another address fails three times only.
    for second in 0..3 {
        let record = syslog_line(
            &format!("2026-05-04T10:00:{second:02}+00:00 web1 sshd[1]: Failed password for root from 203.0.113.9 port 2 ssh2"),
            "/var/log/auth.log",
            true,
            2026,
        );
        detector.check(&set, &record);
    }
    let success =
        syslog_line("2026-05-04T10:01:00+00:00 web1 sshd[1]: Accepted password for root from 198.51.100.7 port 2 ssh2", "/var/log/auth.log", true, 2026);
    detector.check(&set, &success);
    let alerts = detector.correlations(&set);
    let found: Vec<(String, Vec<(String, String)>)> =
        alerts.iter().map(|alert| (set.correlations[alert.correlation].title.clone(), alert.group.clone())).collect();
    let from = vec![("source_ip".to_string(), "198.51.100.7".to_string())];
    assert!(found.contains(&("SSH Brute Force".to_string(), from.clone())), "{found:?}");
    assert!(found.contains(&("SSH Login After Failed Attempts".to_string(), from)), "{found:?}");
    assert!(!found.iter().any(|(_, group)| group[0].1 == "203.0.113.9"), "{found:?}");
}

#[test]
fn a_rule_with_an_unknown_modifier_or_another_log_source_is_rejected_with_the_reason() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("bad.yml"),
        "title: Bad\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  selection:\n    message|sparkles: x\n  condition: selection\n---\ntitle: Windows\nlogsource:\n  product: windows\ndetection:\n  selection:\n    a: b\n  condition: selection\n",
    )
    .unwrap();
    let (set, rejected) = load(&[directory.path()], false).unwrap();
    assert!(set.rules.is_empty());
    let reasons: Vec<&str> = rejected.iter().map(|rejection| rejection.reason.as_str()).collect();
    assert!(reasons.iter().any(|reason| reason.contains("unknown or unsupported modifier `sparkles`")), "{reasons:?}");
    assert!(reasons.iter().any(|reason| reason.contains("not a Linux rule")), "{reasons:?}");
}

fn sigma_linux() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sigma-linux");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("skipped: ../shared/data/sigma-linux is absent (the SigmaHQ Linux rules)");
        None
    }
}

#[test]
fn the_sigmahq_builtin_and_auditd_families_load_and_each_rejection_has_a_reason() {
    let Some(data) = sigma_linux() else { return };
    for (family, minimum) in [("builtin", 20), ("auditd", 50)] {
        let (set, rejected) = load(&[&data.join(family)], false).unwrap();
        for rejection in &rejected {
            assert!(!rejection.reason.is_empty(), "{rejection:?}");
            eprintln!("{family}: rejected {}: {}", rejection.origin, rejection.reason);
        }
        eprintln!("{family}: {} rules load, {} rejected", set.rules.len() + set.correlations.len(), rejected.len());
        assert!(set.rules.len() >= minimum, "{family}: only {} rules load: {rejected:#?}", set.rules.len());
    }
    // The other families need process, file or network events: rejected, with that reason.
    let (_, rejected) = load(&[&data.join("process_creation")], false).unwrap();
    assert!(rejected.iter().all(|rejection| rejection.reason.contains("category `process_creation`")), "{rejected:#?}");
}

#[test]
fn sigmahq_rules_fire_on_the_records_they_describe() {
    let Some(data) = sigma_linux() else { return };
    let (set, _) = load(&[&data.join("builtin"), &data.join("auditd")], false).unwrap();
    let check = |record: LogRecord, title: &str| {
        let got = titles(&set, &record);
        assert!(got.iter().any(|found| found == title), "{title} not in {got:?} for {:?}", record.fields);
    };
    check(auth("sshd[1]: error: Corrupted MAC on input."), "Suspicious OpenSSH Daemon Error");
    let audit =
        crate::logs::parse::audit_line("type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=103 a0=5 a1=0 comm=\"dmesg\"\u{1d}SYSCALL=syslog", "x").unwrap();
    check(audit, "Clear or Disable Kernel Ring Buffer Logs via Syslog Syscall");
    // A keyword rule of one service does not fire on another service's records.
    let cron = syslog_line("2026-05-04T10:00:00+00:00 web1 CRON[1]: error: Corrupted MAC on input.", "/var/log/syslog", false, 2026);
    assert!(!titles(&set, &cron).iter().any(|title| title == "Suspicious OpenSSH Daemon Error"));
}

/// Twelve failures then a success from one address, as the agent reads them.
fn attack() -> Vec<LogRecord> {
    let mut records: Vec<LogRecord> = (0..12)
        .map(|second| {
            syslog_line(
                &format!("2026-05-04T10:00:{second:02}+00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port {} ssh2", 40_000 + second),
                "/var/log/auth.log",
                true,
                2026,
            )
        })
        .collect();
    records.push(syslog_line(
        "2026-05-04T10:01:00+00:00 web1 sshd[1]: Accepted password for root from 198.51.100.7 port 2 ssh2",
        "/var/log/auth.log",
        true,
        2026,
    ));
    records
}

#[test]
fn the_server_evaluating_shipped_records_gives_the_agents_alerts_with_the_same_ids() {
    let set = builtin();
    let records = attack();
    // The agent: every record, then the correlations over its hits.
    let mut detector = Detector::default();
    let mut agent: std::collections::BTreeSet<String> =
        records.iter().flat_map(|record| detector.check(&set, record).into_iter().map(|alert| alert_event(&alert, record).0)).collect();
    agent.extend(detector.correlations(&set).iter().filter_map(|alert| correlation_event(&set, alert)).map(|(id, _)| id));

    // The server: each record read back from its `record` event's JSON, one at a time (as if
    // each came in its own batch), its hits kept between them.
    let evaluator = RecordEvaluator::load(&[]).unwrap();
    let mut server = std::collections::BTreeSet::new();
    let mut kept: Vec<KeptHit> = Vec::new();
    for record in &records {
        let shipped: serde_json::Value = serde_json::from_str(&record.to_json().to_string()).unwrap();
        let evaluation = evaluator.evaluate(&shipped).unwrap();
        server.extend(evaluation.alerts.iter().map(|(id, _)| id.clone()));
        kept.extend(evaluation.hits);
        for correlation in &evaluator.set.correlations {
            server.extend(evaluator.correlate(&correlation.id, &kept).into_iter().map(|(id, _)| id));
        }
    }
    assert_eq!(server, agent);
    assert!(server.iter().any(|id| id.starts_with("53ee8fd9-a5a7-421a-a391-3a7124f0ec9b:source_ip=198.51.100.7:")), "brute force: {server:#?}");
    assert!(server.iter().any(|id| id.starts_with("849415fa-a0b6-4137-80d7-149c63666700:")), "success after failures: {server:#?}");
}

#[test]
fn shipped_payloads_that_are_not_records_are_errors_not_panics() {
    let evaluator = RecordEvaluator::load(&[]).unwrap();
    for payload in [serde_json::json!({"truncated": true, "bytes": 1_048_576}), serde_json::json!("text"), serde_json::json!({"fields": {"a": 1}})] {
        let error = evaluator.evaluate(&payload).unwrap_err();
        assert!(error.starts_with("not a host log record"), "{error}");
    }
    // A record of one megabyte with replacement characters where its bytes were not UTF-8.
    let mut record = attack().remove(0);
    record.fields.insert("message".to_string(), format!("Failed password \u{fffd}\u{fffd} {}", "A".repeat(1024 * 1024)));
    let evaluation = evaluator.evaluate(&record.to_json()).unwrap();
    assert_eq!(evaluation.alerts.len(), 1, "the parsed fields still match: {:?}", evaluation.alerts);
}

#[test]
fn host_rules_with_an_unknown_modifier_are_an_error_naming_the_file_and_rule_and_other_log_sources_are_skipped() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("windows.yml"),
        "title: Windows\nid: w-1\nlogsource:\n  product: windows\ndetection:\n  selection:\n    a: b\n  condition: selection\n",
    )
    .unwrap();
    // A construct Sigma defines that the engine does not run: skipped too, with the reason.
    std::fs::write(
        directory.path().join("keywords_all.yml"),
        "title: All Keywords\nid: k-1\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  keywords:\n    '|all':\n      - a\n      - b\n  condition: keywords\n",
    )
    .unwrap();
    let evaluator = RecordEvaluator::load(&[directory.path()]).unwrap();
    let kinds: Vec<RejectionKind> = evaluator.skipped.iter().map(|skipped| skipped.kind).collect();
    assert_eq!(kinds, [RejectionKind::Unsupported, RejectionKind::OtherLogSource], "{:#?}", evaluator.skipped);
    assert_eq!(evaluator.set.rules.len() + evaluator.set.correlations.len(), BUILTIN_RULES.len());
    std::fs::write(
        directory.path().join("bad.yml"),
        "title: Sparkly SSH\nid: 0b0e5e0c-0000-4000-8000-000000000001\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  selection:\n    message|sparkles: x\n  condition: selection\n",
    )
    .unwrap();
    let error = RecordEvaluator::load(&[directory.path()]).unwrap_err().to_string();
    assert!(error.contains("bad.yml"), "{error}");
    assert!(error.contains("rule `Sparkly SSH` (0b0e5e0c-0000-4000-8000-000000000001)"), "{error}");
    assert!(error.contains("unknown or unsupported modifier `sparkles`"), "{error}");
    assert!(!error.contains("windows.yml") && !error.contains("keywords_all.yml"), "{error}");
}

#[test]
fn the_sigmahq_builtin_and_auditd_families_load_on_the_server_without_errors() {
    let Some(data) = sigma_linux() else { return };
    let evaluator = RecordEvaluator::load(&[&data.join("builtin"), &data.join("auditd")]).unwrap();
    // 21 of `builtin` and 51 of `auditd` (docs/host.md), beside the nine built-in rules.
    assert!(evaluator.set.rules.len() >= 72 + BUILTIN_RULES.len() - 2, "{}", evaluator.set.rules.len());
    assert!(evaluator.skipped.iter().all(|skipped| skipped.kind == RejectionKind::Unsupported), "{:#?}", evaluator.skipped);
}
