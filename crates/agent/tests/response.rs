//! The agent changing a firewall (issue 16), end to end with the real `vigil-agent` binary:
//! active response against a real sshd in a network namespace (block, unblock by a command
//! from the console, expiry), and firewall enforcement rolled back when the server stops
//! answering. The server is a small fake of the agent API (the real one's side is tested in
//! `vigil-server`: `agent_command_tests.rs`), so that it can stop answering on cue. Every
//! firewall change happens inside a namespace made by the test (`vigil-agent --netns`), never
//! on the machine's own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use vigil_fleet::wire::{self, AgentCommand, Batch, CommandsAck, HeartbeatReply};
use vigil_fleet::{EffectivePolicy, Event, Status};
use vigil_testkit::http1::{self, read_request, respond};
use vigil_testkit::netns::{Killed, Netns, Sshd, host_tools, ssh_banner, wait_for};

/// What the fake server holds and how it behaves.
#[derive(Default)]
struct Fake {
    policy: EffectivePolicy,
    /// False: every request is answered 503 (the server is unreachable for the agent).
    answering: bool,
    /// Stop answering once the policy has been served.
    stop_after_policy: bool,
    events: Vec<Event>,
    last_seq: u64,
    /// Commands given "in the console", sent in heartbeat replies until acknowledged.
    commands: Vec<AgentCommand>,
    acknowledged: Vec<String>,
}

struct FakeServer {
    fake: Arc<Mutex<Fake>>,
    url: String,
    _server: http1::Server,
}

fn reply_json(stream: &mut TcpStream, status: &str, value: &impl serde::Serialize, headers: &[(&str, String)]) {
    let mut headers = headers.to_vec();
    headers.push(("content-type", "application/json".to_string()));
    let _ = respond(stream, status, &headers, &serde_json::to_string(value).unwrap());
}

fn handle(fake: &Mutex<Fake>, mut stream: TcpStream) {
    let Ok(request) = read_request(&stream) else { return };
    let mut fake = fake.lock().unwrap();
    if !fake.answering {
        reply_json(
            &mut stream,
            "503 Service Unavailable",
            &json!({"reason": "unavailable", "error": "the test server is down"}),
            &[("retry-after", "1".into())],
        );
        return;
    }
    let path = request.target.split('?').next().unwrap_or_default().to_string();
    match (request.method.as_str(), path.as_str()) {
        ("POST", wire::ENROL) => reply_json(
            &mut stream,
            "200 OK",
            &json!({"agent_id": "agt-00000000000000f1", "secret": "s3cr3t", "instance_id": null, "account": null, "region": null, "heartbeat_seconds": 1}),
            &[],
        ),
        ("POST", wire::HEARTBEAT) => {
            let reply = HeartbeatReply {
                status: Status::Online,
                policy_etag: fake.policy.etag(),
                heartbeat_seconds: 1,
                rotate: false,
                commands: fake.commands.clone(),
            };
            reply_json(&mut stream, "200 OK", &reply, &[]);
        }
        ("GET", wire::POLICY) => {
            let policy = fake.policy.clone();
            reply_json(&mut stream, "200 OK", &policy, &[("etag", format!("\"{}\"", policy.etag()))]);
            if fake.stop_after_policy {
                fake.answering = false;
            }
        }
        ("POST", wire::EVENTS) => {
            let batch: Batch = serde_json::from_slice(&request.body).unwrap();
            let mut stored = 0;
            for event in batch.events {
                if event.seq > fake.last_seq {
                    fake.last_seq = event.seq;
                    fake.events.push(event.event);
                    stored += 1;
                }
            }
            let last = fake.last_seq;
            reply_json(&mut stream, "200 OK", &json!({"acked_through": last, "stored": stored, "duplicates": 0}), &[]);
        }
        ("POST", wire::COMMANDS_ACK) => {
            let ack: CommandsAck = serde_json::from_slice(&request.body).unwrap();
            fake.commands.retain(|command| !ack.ids.contains(&command.id));
            fake.acknowledged.extend(ack.ids);
            let _ = respond(&mut stream, "204 No Content", &[], "");
        }
        _ => reply_json(&mut stream, "404 Not Found", &json!({"reason": "unavailable", "error": "not served by the test server"}), &[]),
    }
}

impl FakeServer {
    fn start(modules: Value) -> FakeServer {
        let policy = EffectivePolicy {
            policy_version: "test".into(),
            rules: vec![],
            modules: modules.as_object().unwrap().iter().map(|(name, settings)| (name.clone(), settings.as_object().unwrap().clone())).collect(),
        };
        let fake = Arc::new(Mutex::new(Fake { policy, answering: true, ..Fake::default() }));
        let server = {
            let fake = Arc::clone(&fake);
            http1::Server::start(move |stream| handle(&fake, stream))
        };
        FakeServer { url: format!("http://{}", server.address), fake, _server: server }
    }

    fn state(&self) -> MutexGuard<'_, Fake> {
        self.fake.lock().unwrap()
    }

    /// The events of one module, in the order the agent sent them.
    fn events(&self, module: &str) -> Vec<Event> {
        self.state().events.iter().filter(|event| event.module == module).cloned().collect()
    }

    fn kinds(&self, module: &str) -> Vec<String> {
        self.events(module).iter().map(|event| event.kind.clone()).collect()
    }
}

struct Agent {
    log: std::path::PathBuf,
    _child: Killed,
    _state: tempfile::TempDir,
}

impl Agent {
    fn start(server: &FakeServer, netns: &Netns, root: Option<&Path>) -> Agent {
        let state = tempfile::tempdir().unwrap();
        let log = state.path().join("agent.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_vigil-agent"));
        command
            .args(["--server", &server.url, "--token", "t", "--imds", "http://127.0.0.1:9", "--netns", &netns.name, "--state"])
            .arg(state.path().join("state"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(root) = root {
            command.arg("--root").arg(root);
        }
        Agent { log, _child: Killed(command.spawn().unwrap()), _state: state }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Issue 16: firewall enforcement by the agent is rolled back when the server cannot be reached
/// after the change, and applied again (then confirmed) once it answers; another table is
/// never touched, and every change reaches the server as an event with its diff.
#[test]
fn the_agent_rolls_back_its_firewall_change_when_the_server_stops_answering_and_applies_it_again_once_it_answers() {
    if !host_tools("the_agent_rolls_back_its_firewall_change_when_the_server_stops_answering", &["ip", "nft"]) {
        return;
    }
    let netns = Netns::new();
    netns.nft("table inet theirs {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 80 accept\n }\n}\n");
    let theirs = netns.nft_list(&["table", "inet", "theirs"]);
    let server = FakeServer::start(json!({"firewall": {"enabled": true, "interval_seconds": 3600, "enforce": {
        "mode": "enforce", "confirm_seconds": 3, "allow": [{"protocol": "tcp", "ports": [22], "sources": ["10.0.0.0/8"]}], "default_drop": true}}}));
    server.state().stop_after_policy = true;
    let agent = Agent::start(&server, &netns, None);
    let input = || netns.nft_list(&["chain", "inet", "vigil", "input"]);
    assert!(wait_for(Duration::from_secs(60), || input().contains("10.0.0.0/8")), "never applied: {}", agent.log());
    assert!(input().contains("drop"), "{}", input());
    let applied_at = std::time::Instant::now();
    // The server is gone: the change is rolled back after `confirm_seconds`.
    assert!(wait_for(Duration::from_secs(60), || !input().contains("10.0.0.0/8")), "not rolled back: {}\n{}", input(), agent.log());
    eprintln!("figure: rolled back {:.1} s after the change was seen (confirm_seconds 3)", applied_at.elapsed().as_secs_f64());
    assert!(server.events("firewall").is_empty(), "nothing reached the server while it was down");
    assert_eq!(netns.nft_list(&["table", "inet", "theirs"]), theirs, "another table is never touched");

    // The server answers again: both changes are reported, and the change is applied again and
    // confirmed by the contact.
    {
        let mut fake = server.state();
        fake.answering = true;
        fake.stop_after_policy = false;
    }
    let expected = ["applied", "rolled_back", "applied", "confirmed"];
    let reached = wait_for(Duration::from_secs(120), || {
        let kinds: Vec<String> = server.kinds("firewall").into_iter().filter(|kind| kind != "ruleset").collect();
        kinds.len() >= expected.len()
    });
    let events: Vec<Event> = server.events("firewall").into_iter().filter(|event| event.kind != "ruleset").collect();
    assert!(reached, "{:?}\n{}", events.iter().map(|event| &event.kind).collect::<Vec<_>>(), agent.log());
    assert_eq!(events.iter().map(|event| event.kind.as_str()).collect::<Vec<_>>()[..4], expected, "{events:#?}");
    let applied = &events[0].payload;
    assert_eq!(applied["dry_run"], false);
    assert!(applied["diff"]["input"]["added"].as_array().unwrap().iter().any(|line| line.as_str().unwrap().contains("10.0.0.0/8")), "{applied}");
    let rolled_back = &events[1].payload;
    assert!(rolled_back["reason"].as_str().unwrap().contains("not reached within 3 s"), "{rolled_back}");
    assert!(rolled_back["diff"]["input"]["removed"].as_array().unwrap().iter().any(|line| line.as_str().unwrap().contains("10.0.0.0/8")), "{rolled_back}");
    assert!(input().contains("10.0.0.0/8"), "applied again: {}", input());
    assert_eq!(netns.nft_list(&["table", "inet", "theirs"]), theirs);
}

/// Issue 16: the agent's active response, driven by the log a real sshd writes: bad logins from
/// the other end of a veth pair get the source blocked in vigil's set (sshd stops answering
/// it); an unblock given in the console reaches the agent once, lifts the block and is
/// reported with who asked; a second block expires at its timeout and is reported.
#[test]
fn the_agent_blocks_a_real_sshd_attacker_lifts_the_block_on_a_console_command_and_reports_its_expiry() {
    let test = "the_agent_blocks_a_real_sshd_attacker_lifts_the_block_on_a_console_command_and_reports_its_expiry";
    if !host_tools(test, &["ip", "nft", "sshd", "ssh", "ssh-keygen"]) {
        return;
    }
    let mut netns = Netns::new();
    let (attacker, address) = netns.veth();
    let work = tempfile::tempdir().unwrap();
    let sshd = Sshd::start(&netns, &address, work.path());
    let server = FakeServer::start(json!({"ips": {
        "enabled": true, "interval_seconds": 1, "mode": "enforce", "max_failures": 3, "window_seconds": 60,
        // Long enough that a loaded machine sees the block before it expires.
        "block_seconds": 20, "files": ["/sshd.log"], "program": "sshd", "journal": false}}));
    let agent = Agent::start(&server, &netns, Some(work.path()));
    let in_set = || netns.nft_list(&["set", "inet", "vigil", "blocked4"]).contains(&attacker);

    let attack_started = std::time::Instant::now();
    sshd.fail_logins_until(5, in_set);
    assert!(wait_for(Duration::from_secs(30), in_set), "no block; sshd: {}\nagent: {}", sshd.log_text(), agent.log());
    eprintln!("figure: blocked {:.1} s after the first bad login started (3 failures, ips interval 1 s)", attack_started.elapsed().as_secs_f64());
    assert!(!ssh_banner(&address), "the attacker still reaches sshd");
    assert!(
        wait_for(Duration::from_secs(30), || server.events("ips").iter().any(|event| event.kind == "blocked")),
        "the block was not reported: {}",
        agent.log()
    );
    let blocked = server.events("ips").into_iter().find(|event| event.kind == "blocked").unwrap();
    assert_eq!((blocked.payload["address"].as_str(), blocked.payload["dry_run"].as_bool()), (Some(attacker.as_str()), Some(false)));

    // An analyst clicks "Unblock": the command travels in the heartbeat reply.
    let command_id = "cmd-00000000000000c1";
    server.state().commands.push(AgentCommand {
        id: command_id.into(),
        module: "ips".into(),
        kind: "unblock".into(),
        arguments: json!({"address": attacker}),
        requested_by: "user:ana".into(),
        requested_at: "2026-12-06T00:00:00Z".into(),
    });
    let asked_at = std::time::Instant::now();
    assert!(wait_for(Duration::from_secs(15), || !in_set() && ssh_banner(&address)), "not unblocked: {}", agent.log());
    eprintln!("figure: unblocked {:.1} s after the command was given (heartbeat and ips interval 1 s)", asked_at.elapsed().as_secs_f64());
    assert!(wait_for(Duration::from_secs(30), || server.kinds("ips").contains(&"unblocked".to_string())), "{}", agent.log());
    let unblocked: Vec<Event> = server.events("ips").into_iter().filter(|event| event.kind == "unblocked").collect();
    assert_eq!(unblocked.len(), 1, "run once: {unblocked:#?}");
    assert_eq!((unblocked[0].payload["requested_by"].as_str(), unblocked[0].payload["command_id"].as_str()), (Some("user:ana"), Some(command_id)));
    assert_eq!(unblocked[0].payload["was_blocked"], true);
    assert_eq!(server.state().acknowledged, vec![command_id.to_string()], "acknowledged once, then no longer sent");

    // Blocked again; this time the block runs out: the kernel drops the element and the agent
    // reports the expiry.
    sshd.fail_logins_until(5, in_set);
    assert!(wait_for(Duration::from_secs(30), in_set), "no second block: {}", agent.log());
    assert!(wait_for(Duration::from_secs(90), || ssh_banner(&address)), "still blocked after the expiry");
    assert!(wait_for(Duration::from_secs(30), || server.kinds("ips").contains(&"expired".to_string())), "{:?}\n{}", server.kinds("ips"), agent.log());
    let kinds = server.kinds("ips");
    assert_eq!(kinds, ["blocked", "unblocked", "blocked", "expired"], "{:#?}", server.events("ips"));
    let expired = server.events("ips").into_iter().find(|event| event.kind == "expired").unwrap();
    assert_eq!((expired.payload["address"].as_str(), expired.payload["dry_run"].as_bool()), (Some(attacker.as_str()), Some(false)));
    let _ = std::io::stderr().flush();
}
