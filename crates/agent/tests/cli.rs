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
