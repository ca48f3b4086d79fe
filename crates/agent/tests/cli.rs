//! The `vigil-agent` binary on its own: queueing events with `emit`, `status`, and what it
//! says when it cannot enrol. (The agent against a real server: crates/cli/tests/e2e/agent.rs,
//! which also needs this binary built.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::{Command, Stdio};

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil-agent"))
}

#[test]
fn emit_queues_events_durably_and_status_reports_them() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state");
    let mut child = agent().args(["emit", "--state"]).arg(&state).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"{\"kind\": \"k\", \"id\": \"a\", \"payload\": {\"x\": 1}}\n\n{\"kind\": \"k\", \"id\": \"b\"}\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let emitted: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(emitted, serde_json::json!({"dropped": 0, "queued": 2}));
    let status = agent().args(["status", "--state"]).arg(&state).output().unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["queue"]["pending"], 2);
    assert_eq!(status["agent_id"], serde_json::Value::Null, "not enrolled yet");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn emit_refuses_a_line_that_is_not_an_event_naming_it() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = agent().args(["emit", "--state"]).arg(directory.path()).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"{\"kind\": \"k\", \"id\": \"a\"}\n{\"kind\": \"k\"}\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 2: `kind` and `id` are required"));
}

#[test]
fn without_a_server_or_state_the_agent_says_what_it_needs() {
    let output = agent().output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--server URL and --state DIR are required"));
}

#[test]
fn the_systemd_unit_runs_the_agent_in_the_foreground_with_limits() {
    let unit = include_str!("../vigil-agent.service");
    for line in ["ExecStart=/usr/local/bin/vigil-agent --foreground", "Restart=always", "CPUQuota=", "MemoryMax=", "StateDirectoryMode=0700"] {
        assert!(unit.contains(line), "the unit lacks `{line}`");
    }
}

/// Runs `vigil-agent run-module MODULE` as the agent does: the settings on standard input, kept
/// open until the run ends (its end would stop the run). Returns the exit code, the printed
/// outcome and standard error.
fn run_module(module: &str, state: &std::path::Path, root: &std::path::Path, settings: serde_json::Value) -> (Option<i32>, String, String) {
    use std::io::Read as _;
    let mut child = agent()
        .args(["run-module", module, "--state"])
        .arg(state)
        .arg("--root")
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", serde_json::json!({"settings": settings, "contact_ms": 0})).unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    (status.code(), out, err)
}

/// Issue 16: the modules that run in a process of their own (`packages`, `sca`, `vulns`,
/// `secrets`) do so through `run-module`, which queues the run's events itself and moves the
/// module on only after they are queued: a second run of an unchanged host queues nothing.
#[test]
fn run_module_queues_one_run_and_a_second_run_of_an_unchanged_host_queues_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let (state, root) = (directory.path().join("state"), directory.path().join("root"));
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\nSource: openssh\n\n",
    )
    .unwrap();
    let settings = serde_json::json!({"enabled": true, "cpu_percent": 100});
    let (code, out, err) = run_module("packages", &state, &root, settings.clone());
    assert_eq!(code, Some(0), "{err}");
    let outcome: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(outcome["queued"], 1, "{outcome}");
    assert_eq!(outcome["error"], serde_json::Value::Null, "{outcome}");
    let status = agent().args(["status", "--state"]).arg(&state).output().unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["queue"]["pending"], 1);
    let (code, out, _) = run_module("packages", &state, &root, settings);
    assert_eq!(code, Some(0));
    let outcome: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(outcome["queued"], 0, "the unchanged package list is not queued twice: {outcome}");
}

#[test]
fn run_module_names_a_module_this_agent_lacks_and_a_bad_request() {
    let directory = tempfile::tempdir().unwrap();
    let (code, _, err) = run_module("nope", directory.path(), directory.path(), serde_json::json!({}));
    assert_eq!(code, Some(2));
    assert!(err.contains("this agent has no module `nope`"), "{err}");
    let mut child = agent().args(["run-module", "packages", "--state"]).arg(directory.path()).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"{\"settings\": 3}\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the request on standard input"), "{}", String::from_utf8_lossy(&output.stderr));
}
