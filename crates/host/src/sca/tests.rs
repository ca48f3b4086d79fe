//! Policies evaluated on small root trees: each case is a policy snippet, the files of the
//! root, and the expected result with a word of its reason.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::fsroot::HostRoot;

fn policy(checks: &str) -> Policy {
    let text = format!("policy:\n  id: test\n  file: test.yml\n  name: Test\n  description: d\nchecks:\n{checks}");
    Policy::parse(&text, "test.yml").unwrap()
}

fn one_check(condition: &str, rules: &[&str]) -> Policy {
    let rules: String = rules.iter().map(|rule| format!("      - '{}'\n", rule.replace('\'', "''"))).collect();
    policy(&format!("  - id: 1\n    name: \"check\"\n    condition: {condition}\n    rules:\n{rules}"))
}

fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let full = dir.path().join(path.trim_start_matches('/'));
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }
    dir
}

/// Evaluates one check on a root and asserts its result and a fragment of its reason.
fn check(condition: &str, rules: &[&str], files: &[(&str, &str)], expected: CheckResult, reason_has: &str) {
    let root = root_with(files);
    let report = evaluate(&one_check(condition, rules), &HostRoot::at(root.path()), &ScaOptions::default());
    let result = &report.checks[0];
    assert_eq!(result.result, expected, "{rules:?}: {}", result.reason);
    assert!(result.reason.contains(reason_has), "{rules:?}: reason `{}` lacks `{reason_has}`", result.reason);
}

const SSHD: (&str, &str) = ("/etc/ssh/sshd_config", "# comment\nPort 22\nPermitRootLogin yes\nMaxAuthTries 4\n");

#[test]
fn file_rules() {
    use CheckResult::*;
    check("all", &["f:/etc/ssh/sshd_config"], &[SSHD], Passed, "exists");
    check("all", &["f:/etc/missing"], &[SSHD], Failed, "does not exist");
    check("all", &["not f:/etc/missing"], &[SSHD], Passed, "does not exist");
    check("all", &[r"f:/etc/ssh/sshd_config -> r:^\s*PermitRootLogin\s+yes"], &[SSHD], Passed, "line 3");
    check("all", &[r"not f:/etc/ssh/sshd_config -> r:^\s*PermitRootLogin\s+yes"], &[SSHD], Failed, "line 3: `PermitRootLogin yes`");
    check("all", &[r"f:/etc/missing -> r:x"], &[SSHD], NotApplicable, "does not exist");
    check("all", &[r"f:/etc/ssh/sshd_config -> n:^MaxAuthTries\s+(\d+) compare <= 4"], &[SSHD], Passed, "line 4");
    check("all", &[r"f:/etc/ssh/sshd_config -> n:^MaxAuthTries\s+(\d+) compare < 4"], &[SSHD], Failed, "no line");
    check("all", &[r"f:/etc/ssh/sshd_config -> !r:^# && r:Port\s+22"], &[SSHD], Passed, "line 2");
    check("all", &["f:/etc/ssh/sshd_config -> Port 22"], &[SSHD], Passed, "line 2"); // whole-line literal
    check("all", &["f:/etc/ssh/sshd_config -> Port"], &[SSHD], Failed, "no line");
    // Wazuh 5.x: a lone negated minterm holds when no line matches.
    check("all", &[r"f:/etc/ssh/sshd_config -> !r:^Protocol"], &[SSHD], Passed, "no line");
    check("all", &[r"f:/etc/ssh/sshd_config -> !r:^Port"], &[SSHD], Failed, "line 2");
    // A list of files: found when one matches.
    check("all", &[r"f:/etc/a,/etc/ssh/sshd_config -> r:Port"], &[SSHD], Passed, "line 2");
    // Under --root, /proc is the machine's, not the image's.
    check("all", &["f:/proc/sys/kernel/ostype -> r:Linux"], &[SSHD], NotApplicable, "running kernel");
}

#[test]
fn directory_rules() {
    use CheckResult::*;
    let files = [
        ("/etc/audit/rules.d/a.rules", "-w /etc/passwd -k identity\n"),
        ("/etc/audit/rules.d/sub/b.rules", "-a always,exit -S execve -k exec\n"),
        ("/etc/audit/rules.d/c.txt", "execve\n"),
    ];
    check("all", &["d:/etc/audit/rules.d"], &files, Passed, "exists");
    check("all", &[r"d:/etc/audit/rules.d -> r:\.rules$ -> r:execve"], &files, Passed, "sub/b.rules` line 1");
    check("all", &[r"d:/etc/audit/rules.d -> r:\.rules$ -> r:chmod"], &files, Failed, "none of the 2 matching files");
    check("all", &[r"d:/etc/audit/rules.d -> r:\.conf$"], &files, Failed, "no file under");
    check("all", &["d:/etc/audit/rules.d -> a.rules"], &files, Passed, "a.rules` exists");
    check("all", &[r"d:/etc/missing -> r:.* -> r:x"], &files, NotApplicable, "does not exist");
    check("all", &["d:/etc/missing"], &files, Failed, "does not exist");
}

#[test]
fn conditions_follow_the_wazuh_truth_table() {
    use CheckResult::*;
    let found = "f:/etc/ssh/sshd_config";
    let not_found = "f:/etc/missing";
    let not_applicable = "f:/etc/missing -> r:x";
    let cases: &[(&str, &[&str], CheckResult)] = &[
        ("all", &[found, found], Passed),
        ("all", &[found, not_applicable], NotApplicable),
        ("all", &[not_applicable, not_found], Failed),
        ("any", &[not_found, found], Passed),
        ("any", &[not_applicable, found], Passed),
        ("any", &[not_found, not_found], Failed),
        ("any", &[not_found, not_applicable], NotApplicable),
        ("none", &[not_found, not_found], Passed),
        ("none", &[not_applicable, found], Failed),
        ("none", &[not_found, not_applicable], NotApplicable),
    ];
    for (condition, rules, expected) in cases {
        check(condition, rules, &[SSHD], *expected, "");
    }
}

#[test]
fn commands_and_processes_under_root_say_why_they_were_not_evaluated() {
    use CheckResult::*;
    check("all", &["c:sshd -T -> r:^permitrootlogin no"], &[SSHD], NotApplicable, "command rules are not run under --root");
    check("all", &["not p:telnetd"], &[SSHD], NotApplicable, "process rules need the running system");
    check("all", &[r"r:HKEY_LOCAL_MACHINE\System -> x"], &[SSHD], NotApplicable, "Windows registry");
}

#[test]
fn commands_run_on_the_live_system() {
    let live = HostRoot::live();
    let run = |rule: &str| evaluate(&one_check("all", &[rule]), &live, &ScaOptions::default()).checks[0].clone();
    assert_eq!(run("c:echo hello -> r:^hel").result, CheckResult::Passed);
    assert_eq!(run("c:echo hello -> hello").result, CheckResult::Passed); // whole output literal
    assert_eq!(run("c:echo hello -> r:^bye").result, CheckResult::Failed);
    let missing = run("c:vigil-no-such-tool -> r:x");
    assert_eq!(missing.result, CheckResult::NotApplicable);
    assert!(missing.reason.contains("`vigil-no-such-tool` is not installed"), "{}", missing.reason);
    assert_eq!(run(r#"c:sh -c "echo a; echo b >&2" -> r:^b$"#).result, CheckResult::Passed); // stderr counts
}

#[test]
fn mode_extension_names_the_world_writable_file() {
    let root = root_with(&[("/etc/ok", "x"), ("/etc/app/loose.conf", "x")]);
    fs::set_permissions(root.path().join("etc/app/loose.conf"), fs::Permissions::from_mode(0o666)).unwrap();
    let report = evaluate(&one_check("all", &["not d:/etc -> r:.* -> mode:0002"]), &HostRoot::at(root.path()), &ScaOptions::default());
    assert_eq!(report.checks[0].result, CheckResult::Failed);
    assert!(report.checks[0].reason.contains("/etc/app/loose.conf` has mode 0666"), "{}", report.checks[0].reason);
}

#[test]
fn variables_are_substituted() {
    let text = "policy:\n  id: v\n  name: V\nvariables:\n  $sshd_file: /etc/ssh/sshd_config\nchecks:\n  - id: 5\n    name: c\n    condition: all\n    rules:\n      - 'f:$sshd_file -> r:Port'\n";
    let policy = Policy::parse(text, "v.yml").unwrap();
    let root = root_with(&[SSHD]);
    assert_eq!(evaluate(&policy, &HostRoot::at(root.path()), &ScaOptions::default()).checks[0].result, CheckResult::Passed);
}

#[test]
fn unmet_requirements_make_every_check_not_applicable_with_the_reason() {
    let text = "policy:\n  id: r\n  name: R\nrequirements:\n  name: Debian 12\n  condition: all\n  rules:\n    - 'f:/etc/debian_version -> r:^12'\nchecks:\n  - id: 5\n    name: c\n    condition: all\n    rules:\n      - 'f:/etc/ssh/sshd_config'\n";
    let policy = Policy::parse(text, "r.yml").unwrap();
    let root = root_with(&[SSHD, ("/etc/debian_version", "11.2\n")]);
    let report = evaluate(&policy, &HostRoot::at(root.path()), &ScaOptions::default());
    assert_eq!(report.requirements.as_ref().unwrap().result, CheckResult::Failed);
    assert_eq!(report.checks[0].result, CheckResult::NotApplicable);
    assert!(report.checks[0].reason.contains("requirements are not met (Debian 12)"), "{}", report.checks[0].reason);
}

#[test]
fn wazuh4_policies_use_os_regex_and_case_insensitive_literals() {
    let text = "policy:\n  id: w4\n  name: W4\n  description: d\nchecks:\n  - id: 5\n    title: c\n    condition: all\n    rules:\n      - 'f:/etc/ssh/sshd_config -> r:^PermitRootLogin\\s+yes'\n      - 'f:/etc/ssh/sshd_config -> port 22'\n      - 'f:/etc/ssh/sshd_config -> !r:^Port'\n";
    let policy = Policy::parse(text, "w4.yml").unwrap();
    assert_eq!(policy.generation, rule::Generation::Wazuh4);
    let root = root_with(&[SSHD]);
    let report = evaluate(&policy, &HostRoot::at(root.path()), &ScaOptions::default());
    // `!r:^Port` holds in 4.x because some line does not start with Port.
    assert_eq!(report.checks[0].result, CheckResult::Passed, "{}", report.checks[0].reason);
}

#[test]
fn malformed_policies_are_errors_naming_the_file_and_line() {
    let error = Policy::parse("policy:\n  id: x\nchecks:\n  - id: 1\n    name: [unclosed\n", "bad.yml").unwrap_err().to_string();
    assert!(error.starts_with("policy `bad.yml`, line "), "{error}");
    let error = Policy::parse("policy:\n  id: x\n", "nochecks.yml").unwrap_err().to_string();
    assert!(error.contains("`nochecks.yml`") && error.contains("checks"), "{error}");
    let error = Policy::parse("policy:\n  id: x\nchecks:\n  - id: 1\n    name: a\n    condition: sometimes\n    rules: ['f:/a']\n", "cond.yml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("check #1 (id 1): unknown condition `sometimes`"), "{error}");
    let error = Policy::parse(
        "policy:\n  id: x\nchecks:\n  - {id: 1, name: a, condition: all, rules: ['f:/a']}\n  - {id: 1, name: b, condition: all, rules: ['f:/b']}\n",
        "dup.yml",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("duplicated check id"), "{error}");
}

#[test]
fn an_invalid_rule_makes_only_its_check_not_applicable() {
    let policy = policy(
        "  - id: 1\n    name: bad\n    condition: all\n    rules: ['x:/nope']\n  - id: 2\n    name: good\n    condition: all\n    rules: ['f:/etc/ssh/sshd_config']\n",
    );
    let root = root_with(&[SSHD]);
    let report = evaluate(&policy, &HostRoot::at(root.path()), &ScaOptions::default());
    assert_eq!(report.checks[0].result, CheckResult::NotApplicable);
    assert!(report.checks[0].reason.contains("invalid rule: unknown rule type `x:`"), "{}", report.checks[0].reason);
    assert_eq!(report.checks[1].result, CheckResult::Passed);
}

#[test]
fn the_default_policy_loads_and_passes_a_hardened_root() {
    let policy = default_policy().unwrap();
    let root = root_with(&[
        ("/etc/os-release", "ID=debian\n"),
        ("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n"),
        ("/etc/ssh/sshd_config.d/50-cloud.conf", "PasswordAuthentication no\n"),
        ("/usr/bin/sudo", ""),
        ("/etc/sudoers", "root ALL=(ALL:ALL) ALL\n"),
        ("/etc/sudoers.d/README", "# NOPASSWD is documented here\n"),
        ("/etc/shadow", "root:*:19000:0:99999:7:::\n"),
        ("/usr/sbin/auditd", ""),
        ("/etc/audit/rules.d/exec.rules", "-a always,exit -F arch=b64 -S execve -k exec\n"),
    ]);
    fs::set_permissions(root.path().join("etc/shadow"), fs::Permissions::from_mode(0o640)).unwrap();
    let report = evaluate(&policy, &HostRoot::at(root.path()), &ScaOptions::default());
    for check in &report.checks {
        assert_eq!(check.result, CheckResult::Passed, "{} {}: {}", check.id, check.title, check.reason);
    }
}

/// The real Wazuh policies in ../shared/data/sca load, and every rule in them parses.
#[test]
fn the_wazuh_policies_load_and_every_rule_compiles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sca");
    let Ok(entries) = fs::read_dir(&dir) else {
        eprintln!("skipped: {} is absent (the Wazuh SCA policies are third-party test data)", dir.display());
        return;
    };
    let mut loaded = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "yml") {
            continue;
        }
        let policy = Policy::load(&path).unwrap_or_else(|error| panic!("{error}"));
        assert!(policy.checks.len() > 100, "{}", path.display());
        for check in &policy.checks {
            for slot in &check.rules {
                let rule = slot.parsed.as_ref().unwrap_or_else(|error| panic!("{} check {}: `{}`: {error}", path.display(), check.id, slot.text));
                assert_compiles(rule, &path, check.id);
            }
        }
        loaded += 1;
    }
    assert_eq!(loaded, 5, "the five Wazuh policies");
}

fn assert_compiles(rule: &rule::Rule, path: &std::path::Path, id: i64) {
    use rule::{FileSpec, Target, Test};
    let content = match &rule.target {
        Target::File { content, .. } | Target::Command { content, .. } => content.as_ref(),
        Target::Dir { file, content, .. } => {
            if let Some(FileSpec::Regex(pattern)) = file {
                assert!(pattern.regex().is_ok(), "{} check {id}: {:?}", path.display(), pattern.regex().err());
            }
            content.as_ref()
        }
        _ => None,
    };
    for minterm in content.map(|content| content.minterms.as_slice()).unwrap_or_default() {
        if let Test::Regex(pattern) | Test::Numeric { pattern, .. } = &minterm.test {
            assert!(pattern.regex().is_ok(), "{} check {id}: `{}`: {:?}", path.display(), rule.text, pattern.regex().err());
        }
    }
}
