//! End-to-end tests of the agent fleet: real `vigil-agent` processes against a real `vigil
//! serve`, instances in moto, a test IMDS per instance serving a document signed by the test
//! CA. Zero-touch enrolment joined to the inventory, lifecycle from heartbeats and scans
//! (offline, missing with an alert, retired with the credential refused), the coverage finding,
//! forged and replayed documents refused with their reason, every event stored exactly once
//! through agent and server kills, and bad requests refused, logged, with nothing stored.
//!
//! The agent binary is `vigil-agent` beside `vigil` in the target directory (`cargo test
//! --workspace` builds it; alone, `cargo build -p vigil-agent` first).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ec2 as ec2;
use serde_json::Value;
use vigil_testkit::MotoServer;
use vigil_testkit::identity::{TestCa, document};
use vigil_testkit::imds::{Served, TestImds};

use crate::common::run;

fn agent_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_vigil")).with_file_name("vigil-agent");
    assert!(path.exists(), "`{}` is missing: build it with `cargo build -p vigil-agent` (cargo test --workspace does)", path.display());
    path
}

fn vigil(moto: Option<&MotoServer>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    if let Some(moto) = moto {
        for (key, value) in moto.env() {
            command.env(key, value);
        }
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `condition` every 200 ms for up to `limit`; panics with `what` when it never holds.
fn wait_for<T>(what: &str, limit: Duration, mut condition: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = condition() {
            return value;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A `vigil serve` child with the agent API, killed on drop; its log is kept in a file.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(store: &Path, data: &Path, port: u16, extra: &[&str]) -> Server {
        let ca = data.join("test-ca.pem");
        std::fs::write(&ca, TestCa::trusted().pem).unwrap();
        let log = data.join(format!("serve-{}.log", Instant::now().elapsed().as_nanos() ^ u128::from(port)));
        let child = vigil(None)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--agent-heartbeat", "1", "--agent-missing-after", "4", "--identity-cert"])
            .arg(&ca)
            .arg("--store")
            .arg(store)
            .args(extra)
            .env("VIGIL_DATA_DIR", data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Server { child, url: format!("http://127.0.0.1:{port}"), log };
        wait_for("the server to listen", Duration::from_secs(60), || TcpStream::connect(("127.0.0.1", port)).ok());
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A `vigil-agent` child, killed (SIGKILL) on drop.
struct Agent {
    child: Child,
    log: PathBuf,
}

impl Agent {
    fn start(server: &str, state: &Path, imds: &str, token: Option<&str>) -> Agent {
        let log = state.with_extension(format!("{}.log", Instant::now().elapsed().as_nanos()));
        let mut command = Command::new(agent_binary());
        command.args(["--server", server, "--state"]).arg(state).args(["--imds", imds]);
        if let Some(token) = token {
            command.args(["--token", token]);
        }
        let child = command.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
        Agent { child, log }
    }

    /// An agent enrolled by token whose modules read the tree `root`.
    fn start_with_root(server: &str, state: &Path, root: &Path, token: &str) -> Agent {
        let log = state.with_extension(format!("{}.log", Instant::now().elapsed().as_nanos()));
        let mut command = Command::new(agent_binary());
        command.args(["--server", server, "--state"]).arg(state).args(["--imds", "http://127.0.0.1:9", "--token", token, "--root"]).arg(root);
        let child = command.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
        Agent { child, log }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the agent to exit by itself; its exit code.
    fn exit_code(&mut self, limit: Duration) -> i32 {
        let child = &mut self.child;
        wait_for("the agent to exit", limit, || child.try_wait().unwrap()).code().unwrap_or(-1)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agents(store: &Path) -> Vec<Value> {
    let (code, stdout, stderr) = run(vigil(None).args(["agents", "--format", "json", "--store"]).arg(store));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str::<Value>(&stdout).unwrap().as_array().cloned().unwrap()
}

fn agent_of(store: &Path, instance: &str) -> Option<Value> {
    agents(store).into_iter().find(|agent| agent["instance_id"] == instance)
}

fn wait_status(store: &Path, instance: &str, status: &str) -> Value {
    wait_for(&format!("the agent of {instance} to be {status}"), Duration::from_secs(90), || {
        agent_of(store, instance).filter(|agent| agent["status"] == status)
    })
}

fn scan(moto: &MotoServer, store: &Path) {
    let (code, _, stderr) =
        run(vigil(Some(moto)).args(["scan", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--service", "ec2", "--store"]).arg(store));
    assert_eq!(code, 0, "{stderr}");
}

/// The `missing` alerts raised for one agent (others, on a loaded machine, may miss a beat).
fn missing_alerts(store: &Path, agent_id: &str) -> usize {
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    let alerts = opened.alerts_page(None, Some(vigil_store::agents::MISSING_RULE), 0, 1000).unwrap().items;
    alerts.iter().filter(|alert| alert.detail["agent_id"] == agent_id).count()
}

/// An instance's IMDS, serving a document signed by `ca` with the instance's real launch time.
fn imds_for(ca: &TestCa, instance: &ec2::types::Instance, pending_time: Option<&str>) -> TestImds {
    let launched = instance.launch_time.unwrap().fmt(ec2::primitives::DateTimeFormat::DateTime).unwrap();
    let doc = document(
        vigil_testkit::moto::MOTO_ACCOUNT,
        "us-east-1",
        instance.instance_id.as_deref().unwrap(),
        "ami-12c6146b",
        "t3.micro",
        pending_time.unwrap_or(&launched),
    );
    let tags: BTreeMap<String, String> = [("Name".to_string(), "test".to_string())].into();
    TestImds::start(Served::signed(ca, doc, Some(tags)))
}

async fn describe(client: &ec2::Client, id: &str) -> ec2::types::Instance {
    client.describe_instances().instance_ids(id).send().await.unwrap().reservations.unwrap().remove(0).instances.unwrap().remove(0)
}

#[test]
fn agents_enrol_from_the_instance_identity_and_follow_their_instances_lifecycle() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (store, data) = (directory.path().join("vigil.db"), directory.path().join("data"));
    std::fs::create_dir_all(&data).unwrap();
    let client = runtime.block_on(async { ec2::Client::new(&moto.sdk_config().await) });
    let ids: Vec<String> = runtime.block_on(async {
        let reply =
            client.run_instances().image_id("ami-12c6146b").instance_type(ec2::types::InstanceType::T3Micro).min_count(3).max_count(3).send().await.unwrap();
        reply.instances.unwrap().into_iter().map(|instance| instance.instance_id.unwrap()).collect()
    });
    let (web, bare, late) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let instances: Vec<ec2::types::Instance> = runtime.block_on(async {
        let mut found = Vec::new();
        for id in &ids {
            found.push(describe(&client, id).await);
        }
        found
    });
    scan(&moto, &store);
    let server = Server::start(&store, &data, free_port(), &[]);

    // Zero-touch: no token, the signed identity document alone; joined to its instance.
    let web_imds = imds_for(&TestCa::trusted(), &instances[0], None);
    let web_state = directory.path().join("web-agent");
    let mut web_agent = Agent::start(&server.url, &web_state, &web_imds.url, None);
    let enrolled = wait_status(&store, &web, "online");
    assert_eq!(enrolled["account"], vigil_testkit::moto::MOTO_ACCOUNT);
    assert_eq!(enrolled["region"], "us-east-1");
    for field in ["agent_id", "instance_id", "account", "region", "status", "last_seen"] {
        assert!(enrolled.get(field).is_some(), "`vigil agents --format json` lacks the contract's field `{field}`: {enrolled}");
    }
    assert!(enrolled["instance_arn"].as_str().unwrap().ends_with(&format!("instance/{web}")), "{enrolled}");
    assert!(web_imds.requests().first().is_some_and(|first| first == "PUT /latest/api/token"), "IMDSv2: the token first");
    let agent_id = enrolled["agent_id"].as_str().unwrap().to_string();
    // The inventory module's snapshot arrives through the queue and the channel.
    wait_for("the inventory snapshot", Duration::from_secs(60), || {
        let (_, stdout, _) = run(vigil(None).args(["agents", "show", &agent_id, "--format", "json", "--store"]).arg(&store));
        let shown: Value = serde_json::from_str(&stdout).ok()?;
        shown["latest_events"].as_array()?.iter().find(|event| event["module"] == "inventory" && event["kind"] == "snapshot").cloned()
    });

    // Forged: signed by a CA the server does not trust, or by an impostor claiming the trusted one.
    for (forger, reason) in [(TestCa::forger(), "no trusted certificate matches"), (TestCa::impostor(), "the DSA signature does not match")] {
        let imds = imds_for(&forger, &instances[1], None);
        let mut forged = Agent::start(&server.url, &directory.path().join(format!("forged-{}", reason.len())), &imds.url, None);
        assert_eq!(forged.exit_code(Duration::from_secs(60)), 2, "{}", forged.log());
        let log = forged.log();
        assert!(log.contains("enrolment refused (bad_signature)") && log.contains(reason), "{log}");
    }
    // Replayed: a document from before the instance's current launch; and one for an enrolled instance.
    let stale = imds_for(&TestCa::trusted(), &instances[2], Some("2020-01-01T00:00:00Z"));
    let mut replayed = Agent::start(&server.url, &directory.path().join("replayed"), &stale.url, None);
    assert_eq!(replayed.exit_code(Duration::from_secs(60)), 2);
    assert!(replayed.log().contains("enrolment refused (stale_document)"), "{}", replayed.log());
    let twice = imds_for(&TestCa::trusted(), &instances[0], None);
    let mut second = Agent::start(&server.url, &directory.path().join("second"), &twice.url, None);
    assert_eq!(second.exit_code(Duration::from_secs(60)), 2);
    assert!(second.log().contains("enrolment refused (already_enrolled)") && second.log().contains(&agent_id), "{}", second.log());
    assert_eq!(agents(&store).len(), 1, "refused enrolments store no agent");
    assert!(server.log().contains("refused (bad_signature)"), "refusals are logged: {}", server.log());

    // An instance not yet in the inventory is held pending, then enrols once a scan shows it.
    let fresh: ec2::types::Instance = runtime.block_on(async {
        let reply =
            client.run_instances().image_id("ami-12c6146b").instance_type(ec2::types::InstanceType::T3Micro).min_count(1).max_count(1).send().await.unwrap();
        describe(&client, reply.instances.unwrap()[0].instance_id.as_deref().unwrap()).await
    });
    let fresh_imds = imds_for(&TestCa::trusted(), &fresh, None);
    let fresh_state = directory.path().join("fresh-agent");
    // Kept running to the end: killed while its instance runs, it would (rightly) go missing.
    let fresh_agent = Agent::start(&server.url, &fresh_state, &fresh_imds.url, None);
    wait_for("the pending enrolment to be logged", Duration::from_secs(60), || fresh_agent.log().contains("enrolment pending").then_some(()));
    scan(&moto, &store);
    wait_status(&store, fresh.instance_id.as_deref().unwrap(), "online");

    // The coverage finding: running instances without an agent fail, with the enrolment command.
    let findings_path = directory.path().join("findings.json");
    let (code, _, stderr) = run(vigil(Some(&moto))
        .args(["scan", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--service", "ec2", "--check", "ec2_instance_agent_enrolled", "-o"])
        .arg(&findings_path)
        .arg("--store")
        .arg(&store));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&findings_path).unwrap()).unwrap();
    let status_of = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|finding| finding["resource_id"] == id)
            .map(|finding| (finding["status"].clone(), finding["message"].clone()))
    };
    assert_eq!(status_of(&web).unwrap().0, "PASS");
    let (status, message) = status_of(&bare).unwrap();
    assert_eq!(status, "FAIL");
    assert!(message.as_str().unwrap().contains("vigil-agent --server"), "{message}");
    assert_eq!(status_of(&late).unwrap().0, "FAIL");

    // Stopped: the host goes down with its instance; offline, and no alert.
    runtime.block_on(async { client.stop_instances().instance_ids(&web).send().await.unwrap() });
    scan(&moto, &store);
    web_agent.kill();
    wait_status(&store, &web, "offline");
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(agent_of(&store, &web).unwrap()["status"], "offline", "a stopped instance's agent stays offline");
    assert_eq!(missing_alerts(&store, &agent_id), 0, "stopping is expected: no alert");

    // Started again: the agent resumes with its credential; killed while running: missing, alert.
    runtime.block_on(async { client.start_instances().instance_ids(&web).send().await.unwrap() });
    scan(&moto, &store);
    let mut web_agent = Agent::start(&server.url, &web_state, &web_imds.url, None);
    wait_status(&store, &web, "online");
    assert!(!web_agent.log().contains("enrolled as"), "a restarted agent keeps its credential: {}", web_agent.log());
    // The start gave the booting agent the threshold: no alert, unless the machine is so loaded
    // that the agent took longer than the test's 4 s to start (then the episode is real).
    let before_kill = missing_alerts(&store, &agent_id);
    web_agent.kill();
    wait_status(&store, &web, "missing");
    wait_for("the missing alert", Duration::from_secs(30), || (missing_alerts(&store, &agent_id) == before_kill + 1).then_some(()));

    // Terminated: retired, and the credential refused.
    runtime.block_on(async { client.terminate_instances().instance_ids(&web).send().await.unwrap() });
    scan(&moto, &store);
    let retired = wait_status(&store, &web, "retired");
    assert_eq!(retired["agent_id"], agent_id.as_str(), "history is kept");
    let mut after = Agent::start(&server.url, &web_state, &web_imds.url, None);
    assert_eq!(after.exit_code(Duration::from_secs(60)), 3, "{}", after.log());
    assert!(after.log().contains("retired") && after.log().contains("terminated"), "{}", after.log());
    assert_eq!(missing_alerts(&store, &agent_id), before_kill + 1, "retiring raises no second alert");
}

/// The ids the store holds for an agent's `emit` events.
fn stored_ids(store: &Path, agent_id: &str) -> Vec<String> {
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    opened.agent_events(agent_id, Some("loss"), 100_000).unwrap().into_iter().map(|event| event.event_id).collect()
}

fn emit(state: &Path, range: std::ops::Range<u32>) {
    let mut child = Command::new(agent_binary()).args(["emit", "--state"]).arg(state).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut input = String::new();
    for index in range.clone() {
        input.push_str(&format!(
            "{{\"module\": \"loss\", \"kind\": \"tick\", \"id\": \"event-{index}\", \"payload\": {{\"n\": {index}, \"pad\": \"{}\"}}}}\n",
            "x".repeat(200)
        ));
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let reply: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reply["queued"], range.len(), "{reply}");
}

fn token(store: &Path, data: &Path) -> String {
    let (code, stdout, stderr) =
        run(vigil(None).args(["agents", "token", "create", "--expires", "1h", "--scope", "hostnames=*", "--store"]).arg(store).env("VIGIL_DATA_DIR", data));
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().to_string()
}

#[test]
fn every_event_arrives_exactly_once_through_server_stops_and_kills() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data) = (directory.path().join("vigil.db"), directory.path().join("data"));
    std::fs::create_dir_all(&data).unwrap();
    let token = token(&store, &data);
    let port = free_port();
    let mut server = Server::start(&store, &data, port, &[]);
    let state = directory.path().join("agent");
    // No IMDS here: the token enrols a host off EC2.
    let mut agent = Agent::start(&server.url, &state, "http://127.0.0.1:9", Some(&token));
    let agent_id =
        wait_for("the token enrolment", Duration::from_secs(60), || agents(&store).first().and_then(|agent| agent["agent_id"].as_str().map(str::to_string)));
    const TOTAL: u32 = 6_000;
    emit(&state, 0..1_500);
    // The agent killed (SIGKILL) while it sends.
    wait_for("the first events to arrive", Duration::from_secs(60), || (!stored_ids(&store, &agent_id).is_empty()).then_some(()));
    agent.kill();
    emit(&state, 1_500..3_000);
    let mut agent = Agent::start(&server.url, &state, "http://127.0.0.1:9", Some(&token));
    // The server killed (SIGKILL) while it commits batches, and down for a while.
    wait_for("more events to arrive", Duration::from_secs(60), || (stored_ids(&store, &agent_id).len() > 1_500).then_some(()));
    drop(server);
    emit(&state, 3_000..4_500);
    std::thread::sleep(Duration::from_secs(3));
    server = Server::start(&store, &data, port, &[]);
    wait_for("events after the restart", Duration::from_secs(60), || (stored_ids(&store, &agent_id).len() > 3_000).then_some(()));
    drop(server);
    agent.kill();
    emit(&state, 4_500..TOTAL);
    let server = Server::start(&store, &data, port, &[]);
    let _agent = Agent::start(&server.url, &state, "http://127.0.0.1:9", Some(&token));
    let ids = wait_for("every event", Duration::from_secs(120), || {
        let ids = stored_ids(&store, &agent_id);
        (ids.len() >= TOTAL as usize).then_some(ids)
    });
    assert_eq!(ids.len(), TOTAL as usize, "no event stored twice");
    let unique: BTreeSet<&String> = ids.iter().collect();
    let expected: BTreeSet<String> = (0..TOTAL).map(|index| format!("event-{index}")).collect();
    assert_eq!(unique.len(), ids.len(), "no id twice");
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<String>>(), expected, "every id generated arrived");
}

/// One raw HTTP/1.1 request: (status, body).
fn http(url: &str, method: &str, path: &str, authorization: Option<&str>, body: &[u8]) -> (u16, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    if let Some(authorization) = authorization {
        head.push_str(&format!("authorization: {authorization}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, rest.to_string())
}

#[test]
fn bad_agent_requests_are_refused_logged_and_store_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data) = (directory.path().join("vigil.db"), directory.path().join("data"));
    std::fs::create_dir_all(&data).unwrap();
    let token = token(&store, &data);
    let server = Server::start(&store, &data, free_port(), &[]);
    let enrol = |hostname: &str| -> (String, String) {
        let body = serde_json::json!({ "token": token, "hostname": hostname, "agent_version": "test" }).to_string();
        let (status, reply) = http(&server.url, "POST", "/agent/v1/enrol", None, body.as_bytes());
        assert_eq!(status, 200, "{reply}");
        let reply: Value = serde_json::from_str(&reply).unwrap();
        (reply["agent_id"].as_str().unwrap().to_string(), reply["secret"].as_str().unwrap().to_string())
    };
    let (alice, alice_secret) = enrol("alice");
    let (bob, bob_secret) = enrol("bob");
    let auth = |id: &str, secret: &str| format!("Bearer {id}.{secret}");
    let batch = |agent: &str| {
        serde_json::json!({ "agent_id": agent, "events": [{ "seq": 1, "id": "e1", "module": "m", "kind": "k", "time": "2026-01-01T00:00:00Z", "payload": {} }] }).to_string()
    };
    type Case<'a> = (&'a str, Option<String>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("malformed JSON", Some(auth(&alice, &alice_secret)), b"{\"agent_id\": ".to_vec(), 400, "malformed"),
        ("a batch with a sequence number 0", Some(auth(&alice, &alice_secret)), batch(&alice).replace("\"seq\":1", "\"seq\":0").into_bytes(), 400, "malformed"),
        ("an oversized body", Some(auth(&alice, &alice_secret)), vec![b' '; 5 * 1024 * 1024], 413, "too_large"),
        ("no credential", None, batch(&alice).into_bytes(), 401, "unauthenticated"),
        ("a wrong secret", Some(auth(&alice, "0000")), batch(&alice).into_bytes(), 401, "unauthenticated"),
        ("another agent's id with its own secret", Some(auth(&bob, &alice_secret)), batch(&bob).into_bytes(), 401, "unauthenticated"),
        ("a batch naming another agent", Some(auth(&alice, &alice_secret)), batch(&bob).into_bytes(), 403, "wrong_agent"),
    ];
    for (what, authorization, body, expected_status, reason) in cases {
        let (status, reply) = http(&server.url, "POST", "/agent/v1/events", authorization.as_deref(), &body);
        assert_eq!(status, expected_status, "{what}: {reply}");
        if expected_status != 413 || !reply.is_empty() {
            assert!(reply.contains(&format!("\"reason\":\"{reason}\"")), "{what}: {reply}");
        }
    }
    let (status, reply) = http(&server.url, "POST", "/agent/v1/heartbeat", Some(&auth(&bob, &bob_secret)), br#"{"agent_id": "someone-else"}"#);
    assert_eq!((status, reply.contains("wrong_agent")), (403, true), "{reply}");
    let (status, reply) = http(&server.url, "POST", "/agent/v1/enrol", None, br#"{"hostname": "x"}"#);
    assert_eq!((status, reply.contains("no_credential")), (400, true), "{reply}");
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    assert_eq!(opened.table_rows("agent_events").unwrap(), 0, "nothing stored");
    let log = server.log();
    for reason in ["malformed", "too_large", "unauthenticated", "wrong_agent"] {
        assert!(log.contains(&format!("refused ({reason})")), "`{reason}` is logged: {log}");
    }
    // The console's token does not open the agent API, and an agent's secret does not open the console.
    let (status, _) = http(&server.url, "GET", "/api/scans", Some(&auth(&alice, &alice_secret)), b"");
    assert_eq!(status, 401);
    // A revoked agent is refused with the reason.
    let (code, _, stderr) = run(vigil(None).args(["agents", "revoke", &alice, "--store"]).arg(&store));
    assert_eq!(code, 0, "{stderr}");
    let (status, reply) = http(&server.url, "POST", "/agent/v1/events", Some(&auth(&alice, &alice_secret)), batch(&alice).as_bytes());
    assert_eq!((status, reply.contains("revoked")), (403, true), "{reply}");
    // A valid batch is stored once, however often it is sent.
    for _ in 0..3 {
        let (status, reply) = http(&server.url, "POST", "/agent/v1/events", Some(&auth(&bob, &bob_secret)), batch(&bob).as_bytes());
        assert_eq!(status, 200, "{reply}");
    }
    assert_eq!(opened.table_rows("agent_events").unwrap(), 1);
}

/// A host policy for the host-module tests: short intervals, paths inside the `--root` tree.
/// FIM rescans only hourly: its changes arrive through its real-time (inotify) watch.
const HOST_MODULES_POLICY: &str = "
description: host modules under test
modules:
  inventory: { enabled: false }
  fim: { enabled: true, interval_seconds: 3600, cpu_percent: 100, io_bytes_per_second: 1073741824, paths: [/etc, /usr/bin] }
  logs: { enabled: true, interval_seconds: 1, cpu_percent: 100, journal: false }
  malware: { enabled: true, interval_seconds: 2, cpu_percent: 100, paths: [/tmp, /home] }
  packages: { enabled: true, interval_seconds: 2 }
";

/// The EICAR test file, assembled at run time so the repository holds no copy.
fn eicar() -> Vec<u8> {
    ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*"].concat().into_bytes()
}

fn host_events(store: &Path, agent_id: &str, module: &str, kind: &str) -> Vec<vigil_store::agents::AgentEventRow> {
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    opened.agent_events_of_kind(agent_id, module, kind, 100_000).unwrap()
}

/// The console's token, from the first line `vigil serve` prints.
fn console_token(server: &Server) -> String {
    wait_for("the console token", Duration::from_secs(30), || server.log().lines().next().and_then(|line| line.rsplit(": ").next()).map(str::to_string))
}

#[test]
fn the_agent_reports_integrity_changes_log_alerts_and_malware_from_its_root_to_the_console() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data, root) = (directory.path().join("vigil.db"), directory.path().join("data"), directory.path().join("host"));
    for dir in ["etc/ssh", "usr/bin", "var/log", "tmp", "var/lib/dpkg"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    std::fs::write(root.join("etc/ssh/sshd_config"), "PermitRootLogin no\n").unwrap();
    std::fs::write(root.join("usr/bin/tool"), "#!/bin/sh\necho tool\n").unwrap();
    std::fs::write(root.join("var/log/auth.log"), "").unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\n\n",
    )
    .unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let policy = directory.path().join("host-policy.yaml");
    std::fs::write(&policy, HOST_MODULES_POLICY).unwrap();
    let token = token(&store, &data);
    let port = free_port();
    let server = Server::start(&store, &data, port, &["--host-policy", policy.to_str().unwrap()]);
    let state = directory.path().join("agent");
    let mut agent = Agent::start_with_root(&server.url, &state, &root, &token);
    let agent_id =
        wait_for("the token enrolment", Duration::from_secs(60), || agents(&store).first().and_then(|agent| agent["agent_id"].as_str().map(str::to_string)));
    let baseline = wait_for("the integrity baseline", Duration::from_secs(90), || host_events(&store, &agent_id, "fim", "baseline").into_iter().next());
    assert_eq!(baseline.payload["entries"], 6, "/etc, /etc/passwd, /etc/ssh, its config, /usr/bin and its file: {}\n{}", baseline.payload, agent.log());
    assert!(host_events(&store, &agent_id, "fim", "change").is_empty(), "the first run reports no change");
    let packages = wait_for("the package list", Duration::from_secs(60), || host_events(&store, &agent_id, "packages", "snapshot").into_iter().next());
    assert_eq!(packages.payload["items"][0]["version"], "1:9.2p1-2+deb12u3", "{}", packages.payload);

    // Changes to the tree: a modified file, a new one, a removed one; EICAR dropped in /tmp;
    // SSH failures in auth.log.
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nmallory:x:0:0::/:/bin/sh\n").unwrap();
    std::fs::write(root.join("usr/bin/implant"), "#!/bin/sh\n").unwrap();
    std::fs::remove_file(root.join("usr/bin/tool")).unwrap();
    std::fs::write(root.join("tmp/eicar.com"), eicar()).unwrap();
    let failures: String = (0..12)
        .map(|index| format!("May  4 10:00:{:02} web1 sshd[812]: Failed password for root from 198.51.100.7 port {} ssh2\n", index * 2, 50_000 + index))
        .collect();
    std::fs::OpenOptions::new().append(true).open(root.join("var/log/auth.log")).unwrap().write_all(failures.as_bytes()).unwrap();

    // The next rescan is an hour away: these come from the real-time watch.
    let changes = wait_for("the three integrity changes", Duration::from_secs(90), || {
        let changes = host_events(&store, &agent_id, "fim", "change");
        (changes.len() >= 3).then_some(changes)
    });
    let mut seen: Vec<(String, String)> =
        changes.iter().map(|event| (event.payload["path"].as_str().unwrap().to_string(), event.payload["change"].as_str().unwrap().to_string())).collect();
    seen.sort();
    assert_eq!(seen, [("/etc/passwd", "modified"), ("/usr/bin/implant", "added"), ("/usr/bin/tool", "removed")].map(|(a, b)| (a.to_string(), b.to_string())));
    let passwd = changes.iter().find(|event| event.payload["path"] == "/etc/passwd").unwrap();
    assert_eq!(passwd.payload["fields"], serde_json::json!(["content"]), "{}", passwd.payload);
    let detection = wait_for("the EICAR detection", Duration::from_secs(90), || host_events(&store, &agent_id, "malware", "detection").into_iter().next());
    assert_eq!((detection.payload["path"].as_str(), detection.payload["rule"].as_str()), (Some("/tmp/eicar.com"), Some("vigil_eicar_test_file")));
    let brute_force = "53ee8fd9-a5a7-421a-a391-3a7124f0ec9b";
    let alerts = wait_for("the SSH alerts in the store", Duration::from_secs(90), || {
        let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
        let alerts = opened.alerts_page(None, None, 0, 100).unwrap().items;
        (alerts.iter().filter(|alert| alert.rule_title == "SSH Authentication Failure").count() == 12
            && alerts.iter().any(|alert| alert.rule_id == brute_force))
        .then_some(alerts)
    });
    let failure = alerts.iter().find(|alert| alert.rule_title == "SSH Authentication Failure").unwrap();
    assert_eq!(failure.detail["host"]["agent_id"], agent_id.as_str());
    assert!(failure.detail["event"]["raw"].as_str().unwrap().contains("Failed password for root from 198.51.100.7"), "{}", failure.detail);
    assert!(alerts.iter().any(|alert| alert.rule_id == "vigil-malware:vigil_eicar_test_file"), "the detection is an alert too");

    // The console: Activity names the host and shows the raw line; the agent's page and API
    // list the changes and the detection; `vigil agents` shows the modules healthy.
    let authorization = format!("Bearer {}", console_token(&server));
    let (status, activity) = http(&server.url, "GET", "/activity", Some(&authorization), b"");
    assert_eq!(status, 200, "{activity}");
    assert!(activity.contains(&agent_id) && activity.contains("Failed password for root from 198.51.100.7"), "{activity}");
    let (status, api) = http(&server.url, "GET", &format!("/api/agent?id={agent_id}"), Some(&authorization), b"");
    assert_eq!(status, 200, "{api}");
    let api: Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["integrity_changes"].as_array().unwrap().len(), 3, "{api}");
    assert_eq!(api["malware_detections"][0]["payload"]["path"], "/tmp/eicar.com");
    let (_, page) = http(&server.url, "GET", &format!("/agent?id={agent_id}"), Some(&authorization), b"");
    assert!(page.contains("integrity-changes") && page.contains("/usr/bin/implant") && page.contains("vigil_eicar_test_file"), "{page}");
    let listed = wait_for("the modules' health", Duration::from_secs(30), || {
        let listed = agents(&store).into_iter().next()?;
        let health = listed["modules"].as_array()?.clone();
        let ok = |name: &str| health.iter().any(|module| module["module"] == name && module["state"] == "ok");
        (ok("fim") && ok("logs") && ok("malware") && ok("packages")).then_some(listed)
    });
    assert_eq!(listed["agent_id"], agent_id.as_str());

    // Nothing is reported twice across an agent restart.
    agent.kill();
    let _agent = Agent::start_with_root(&server.url, &state, &root, &token);
    std::fs::write(root.join("etc/ssh/sshd_config"), "PermitRootLogin yes\n").unwrap();
    let after = wait_for("the change made after the restart", Duration::from_secs(90), || {
        let changes = host_events(&store, &agent_id, "fim", "change");
        (changes.len() >= 4).then_some(changes)
    });
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(host_events(&store, &agent_id, "fim", "change").len(), 4, "{after:#?}");
    assert_eq!(host_events(&store, &agent_id, "malware", "detection").len(), 1, "EICAR, still there, is reported once");
    assert_eq!(host_events(&store, &agent_id, "packages", "snapshot").len(), 1, "the unchanged package list is sent once");
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    let failures = opened.alerts_page(None, None, 0, 1000).unwrap().items.into_iter().filter(|alert| alert.rule_title == "SSH Authentication Failure").count();
    assert_eq!(failures, 12, "auth.log is not read twice");
}

const SERVER_DETECTIONS_POLICY: &str = "
description: detections on the server
modules:
  inventory: { enabled: false }
  fim: { enabled: false }
  malware: { enabled: false }
  packages: { enabled: false }
  firewall: { enabled: false }
  logs: { enabled: true, interval_seconds: 1, cpu_percent: 100, journal: false, detect: server }
";

/// Issue 16: an agent whose policy says `logs.detect: server` ships the records of its
/// `auth.log` and evaluates none; `vigil serve` (with the SigmaHQ Linux rules when present)
/// raises the alerts, the brute force across the agent's runs, shown in Activity with the host
/// and the raw line; a rules directory with a broken rule stops `vigil serve` naming it.
#[test]
fn an_agent_with_detect_server_ships_records_and_the_server_raises_the_alerts_in_activity() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data, root) = (directory.path().join("vigil.db"), directory.path().join("data"), directory.path().join("host"));
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let policy = directory.path().join("host-policy.yaml");
    std::fs::write(&policy, SERVER_DETECTIONS_POLICY).unwrap();

    // A rule with an unknown modifier: `vigil serve` refuses to start, naming the file and rule.
    let broken = directory.path().join("broken-rules");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("sparkly.yml"),
        "title: Sparkly SSH\nid: 0b0e5e0c-0000-4000-8000-000000000002\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  selection:\n    message|sparkles: x\n  condition: selection\n",
    )
    .unwrap();
    let (code, _, stderr) =
        run(vigil(None).args(["serve", "--listen", "127.0.0.1:0", "--store"]).arg(&store).arg("--host-rules").arg(&broken).env("VIGIL_DATA_DIR", &data));
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("sparkly.yml") && stderr.contains("rule `Sparkly SSH`") && stderr.contains("modifier `sparkles`"), "{stderr}");

    let sigma = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sigma-linux");
    let mut extra = vec!["--host-policy".to_string(), policy.display().to_string()];
    if sigma.is_dir() {
        extra.extend(["--host-rules".to_string(), sigma.join("builtin").display().to_string(), sigma.join("auditd").display().to_string()]);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let token = token(&store, &data);
    let server = Server::start(&store, &data, free_port(), &extra);
    let state = directory.path().join("agent");
    // Six failures before the agent starts, six after its first runs: the brute force spans them.
    let line =
        |index: usize| format!("May  4 10:00:{:02} web1 sshd[812]: Failed password for root from 198.51.100.7 port {} ssh2\n", index * 2, 50_000 + index);
    std::fs::write(root.join("var/log/auth.log"), (0..6).map(line).collect::<String>()).unwrap();
    let _agent = Agent::start_with_root(&server.url, &state, &root, &token);
    let agent_id =
        wait_for("the token enrolment", Duration::from_secs(60), || agents(&store).first().and_then(|agent| agent["agent_id"].as_str().map(str::to_string)));
    wait_for("the first six records", Duration::from_secs(90), || (host_events(&store, &agent_id, "logs", "record").len() == 6).then_some(()));
    let mut log = std::fs::OpenOptions::new().append(true).open(root.join("var/log/auth.log")).unwrap();
    log.write_all((6..12).map(line).collect::<String>().as_bytes()).unwrap();
    log.write_all(b"May  4 10:01:00 web1 sshd[812]: error: Corrupted MAC on input.\n").unwrap();
    drop(log);
    let brute_force = "53ee8fd9-a5a7-421a-a391-3a7124f0ec9b";
    let alerts = wait_for("the server's alerts", Duration::from_secs(90), || {
        let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
        let alerts = opened.alerts_page(None, None, 0, 100).unwrap().items;
        (alerts.iter().filter(|alert| alert.rule_title == "SSH Authentication Failure").count() == 12
            && alerts.iter().any(|alert| alert.rule_id == brute_force))
        .then_some(alerts)
    });
    assert!(host_events(&store, &agent_id, "logs", "alert").is_empty(), "the agent evaluated nothing");
    assert_eq!(host_events(&store, &agent_id, "logs", "record").len(), 13);
    assert_eq!(alerts.iter().filter(|alert| alert.rule_id == brute_force).count(), 1, "{alerts:#?}");
    if sigma.is_dir() {
        assert!(alerts.iter().any(|alert| alert.rule_title == "Suspicious OpenSSH Daemon Error"), "a SigmaHQ rule fired on the server: {alerts:#?}");
    }
    let failure = alerts.iter().find(|alert| alert.rule_title == "SSH Authentication Failure").unwrap();
    assert_eq!(failure.detail["host"]["agent_id"], agent_id.as_str());
    let authorization = format!("Bearer {}", console_token(&server));
    let (status, activity) = http(&server.url, "GET", "/activity", Some(&authorization), b"");
    assert_eq!(status, 200, "{activity}");
    assert!(activity.contains(&agent_id) && activity.contains("Failed password for root from 198.51.100.7"), "{activity}");
    assert!(activity.contains("SSH Brute Force"), "{activity}");
}

/// Changes made while the agent rescans are each reported once, however the agent is killed
/// during the rescan and restarted: the rescan resumes, the outbox is emptied only once the
/// changes are queued.
#[test]
fn an_agent_killed_during_an_integrity_rescan_reports_each_change_exactly_once() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data, root) = (directory.path().join("vigil.db"), directory.path().join("data"), directory.path().join("host"));
    const FILES: usize = 400;
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for index in 0..FILES {
        std::fs::write(root.join(format!("etc/file-{index:04}")), vec![b'a'; 4096]).unwrap();
    }
    std::fs::create_dir_all(&data).unwrap();
    // 4 kB files at 400 kB/s: a rescan of the tree takes about 4 s.
    let policy = directory.path().join("host-policy.yaml");
    std::fs::write(
        &policy,
        "modules:\n  fim: { enabled: true, interval_seconds: 1, cpu_percent: 100, io_bytes_per_second: 409600, paths: [/etc] }\n  logs: { enabled: false }\n  malware: { enabled: false }\n  inventory: { enabled: false }\n",
    )
    .unwrap();
    let token = token(&store, &data);
    let server = Server::start(&store, &data, free_port(), &["--host-policy", policy.to_str().unwrap()]);
    let state = directory.path().join("agent");
    let mut agent = Agent::start_with_root(&server.url, &state, &root, &token);
    let agent_id =
        wait_for("the token enrolment", Duration::from_secs(60), || agents(&store).first().and_then(|agent| agent["agent_id"].as_str().map(str::to_string)));
    wait_for("the integrity baseline", Duration::from_secs(120), || host_events(&store, &agent_id, "fim", "baseline").into_iter().next());
    // Every fourth file changes; the agent is killed (SIGKILL) while it rescans, up to three times.
    let changed: BTreeSet<String> = (0..FILES).step_by(4).map(|index| format!("/etc/file-{index:04}")).collect();
    for path in &changed {
        std::fs::write(root.join(path.trim_start_matches('/')), vec![b'b'; 4096]).unwrap();
    }
    let baseline = state.join("modules/fim/baseline.db");
    let mut interrupted = 0;
    for attempt in 0..12 {
        std::thread::sleep(Duration::from_millis(700 + 400 * (attempt % 3)));
        let mid_rescan = vigil_host::fim::Baseline::open(&baseline).and_then(|opened| opened.scan_complete()).is_ok_and(|complete| !complete);
        agent.kill();
        agent = Agent::start_with_root(&server.url, &state, &root, &token);
        interrupted += usize::from(mid_rescan);
        if interrupted == 3 {
            break;
        }
    }
    assert!(interrupted > 0, "no kill landed during a rescan: the test did not test what it says");
    let changes = wait_for("every change", Duration::from_secs(120), || {
        let changes = host_events(&store, &agent_id, "fim", "change");
        (changes.len() >= changed.len()).then_some(changes)
    });
    // A rescan after the last one finds nothing more.
    std::thread::sleep(Duration::from_secs(6));
    let changes_now = host_events(&store, &agent_id, "fim", "change");
    assert_eq!(changes_now.len(), changes.len(), "no change reported twice");
    let paths: Vec<String> = changes_now.iter().map(|event| event.payload["path"].as_str().unwrap().to_string()).collect();
    let unique: BTreeSet<String> = paths.iter().cloned().collect();
    assert_eq!(unique.len(), paths.len(), "no path twice");
    assert_eq!(unique, changed, "every changed file reported");
    drop(agent);
}

const VULNS_POLICY: &str = "
description: the vulnerability module with the server's advisories
modules:
  inventory: { enabled: false }
  fim: { enabled: false }
  logs: { enabled: false }
  malware: { enabled: false }
  packages: { enabled: false }
  sca: { enabled: false }
  vulns: { enabled: true, interval_seconds: 2, cpu_percent: 100 }
";

fn osv_record(id: &str, cve: &str, ecosystem: &str, package: &str, fixed: &str) -> String {
    format!(
        r#"{{"schema_version": "1.6.0", "id": "{id}", "modified": "2024-03-01T00:00:00Z", "aliases": ["{cve}"], "summary": "{package} flaw",
            "affected": [{{"package": {{"ecosystem": "{ecosystem}", "name": "{package}"}},
                          "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}],
                          "ecosystem_specific": {{"urgency": "high"}}, "x-unknown-field": true}}]}}"#
    )
}

/// Issue 17: advisories loaded into the server's store (`vigil osv load`; a file that is not
/// JSON is named and the others are stored) reach an agent over the channel: its vulnerability
/// module reports from them with no OSV copy on the host, and the agent's page and the fleet
/// Vulnerabilities page show the finding.
#[test]
fn advisories_loaded_on_the_server_reach_the_agent_and_its_findings_reach_the_console() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data, root, osv) =
        (directory.path().join("vigil.db"), directory.path().join("data"), directory.path().join("host"), directory.path().join("osv"));
    for dir in ["etc", "var/lib/dpkg"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(osv.join("debian")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\n\n\
         Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n",
    )
    .unwrap();
    std::fs::write(osv.join("debian/DSA-0001.json"), osv_record("DSA-0001", "CVE-2024-0001", "Debian:12", "openssl", "3.0.13-1~deb12u1")).unwrap();
    std::fs::write(osv.join("debian/DSA-0002.json"), osv_record("DSA-0002", "CVE-2024-0002", "Debian:12", "bash", "5.0-1")).unwrap();
    std::fs::write(osv.join("USN-0001.json"), osv_record("USN-0001", "CVE-2024-0003", "Ubuntu:24.04:LTS", "openssl", "3.0.13-0ubuntu1")).unwrap();
    std::fs::write(osv.join("debian/broken.json"), "{\"id\": \"DSA-0003\", \"affected\": [").unwrap();

    let (code, stdout, stderr) = run(vigil(None).args(["osv", "load"]).arg(&osv).arg("--store").arg(&store).env("VIGIL_DATA_DIR", &data));
    assert_eq!(code, 2, "a file that cannot be read fails the load: {stdout}{stderr}");
    assert!(stderr.contains("broken.json"), "the bad file is named: {stderr}");
    assert!(stdout.contains("stored 3 advisories") && stdout.contains("Debian 2, Ubuntu 1"), "the others are stored: {stdout}");
    let (code, listed, stderr) = run(vigil(None).args(["osv", "list", "--format", "json", "--store"]).arg(&store).env("VIGIL_DATA_DIR", &data));
    assert_eq!(code, 0, "{stderr}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!((listed[0]["ecosystem"].as_str(), listed[0]["advisories"].as_i64()), (Some("Debian"), Some(2)), "{listed}");

    let policy = directory.path().join("host-policy.yaml");
    std::fs::write(&policy, VULNS_POLICY).unwrap();
    let token = token(&store, &data);
    let port = free_port();
    let server = Server::start(&store, &data, port, &["--host-policy", policy.to_str().unwrap()]);
    let state = directory.path().join("agent");
    let agent = Agent::start_with_root(&server.url, &state, &root, &token);
    let agent_id =
        wait_for("the token enrolment", Duration::from_secs(60), || agents(&store).first().and_then(|agent| agent["agent_id"].as_str().map(str::to_string)));
    let findings = wait_for("the vulnerability findings", Duration::from_secs(90), || host_events(&store, &agent_id, "vulns", "findings").into_iter().next());
    let items = findings.payload["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "openssl is affected, bash is newer than the fix, the Ubuntu record does not apply: {}\n{}", findings.payload, agent.log());
    assert_eq!(
        (items[0]["id"].as_str(), items[0]["installed"].as_str(), items[0]["fixed"].as_str(), items[0]["severity"].as_str()),
        (Some("DSA-0001"), Some("3.0.11-1~deb12u1"), Some("3.0.13-1~deb12u1"), Some("high"))
    );
    assert_eq!(findings.payload["records"], 2, "the agent holds the server's Debian advisories only: {}", findings.payload);
    assert!(agent.log().contains("osv: advisories version"), "{}", agent.log());
    let patch = wait_for("the patch state", Duration::from_secs(60), || host_events(&store, &agent_id, "vulns", "patch").into_iter().next());
    assert_eq!(patch.payload["pending_security_updates"], 1, "{}", patch.payload);

    let authorization = format!("Bearer {}", console_token(&server));
    let (status, page) = http(&server.url, "GET", &format!("/agent?id={agent_id}"), Some(&authorization), b"");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Host posture") && page.contains("DSA-0001") && page.contains("1 pending security update(s)"), "{page}");
    assert!(page.contains("id=\"sca-not-assessed\""), "the disabled assessment is said so: {page}");
    let (status, fleet) = http(&server.url, "GET", "/vulnerabilities", Some(&authorization), b"");
    assert_eq!(status, 200, "{fleet}");
    assert!(fleet.contains("CVE-2024-0001") && fleet.contains("1 of 1 host(s) assessed"), "{fleet}");
}

/// The host policy of the active-response test: only `ips`, enforcing, reading the log the
/// test's sshd writes (`/sshd.log` under the agent's `--root`).
const IPS_POLICY: &str = "
description: active response under test
modules:
  ips: { enabled: true, interval_seconds: 1, mode: enforce, max_failures: 3, window_seconds: 60, block_seconds: 300, files: [/sshd.log], program: sshd, journal: false }
";

/// Issue 16 end to end: a real `vigil serve`, a real `vigil-agent` whose `ips` module follows
/// the log of a real sshd in a network namespace (`--netns`: every `nft` call stays there).
/// Bad logins get the source blocked, reported and shown; the console's Unblock (the route
/// behind the agent page's button) reaches the agent, which lifts the block long before its
/// expiry and reports who asked; the command is done and the request audited.
#[test]
fn a_block_by_the_agents_active_response_is_lifted_from_the_console_and_audited() {
    use vigil_testkit::netns::{Netns, Sshd, host_tools, ssh_banner, wait_for as wait_until};
    if !host_tools("a_block_by_the_agents_active_response_is_lifted_from_the_console_and_audited", &["ip", "nft", "sshd", "ssh", "ssh-keygen"]) {
        return;
    }
    let mut netns = Netns::new();
    let (attacker, address) = netns.veth();
    let directory = tempfile::tempdir().unwrap();
    let (store, data, work) = (directory.path().join("vigil.db"), directory.path().join("data"), directory.path().join("host"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let sshd = Sshd::start(&netns, &address, &work);
    let policy = directory.path().join("host-policy.yaml");
    std::fs::write(&policy, IPS_POLICY).unwrap();
    let token = token(&store, &data);
    let server = Server::start(&store, &data, free_port(), &["--host-policy", policy.to_str().unwrap()]);
    let log = directory.path().join("agent.log");
    let mut child = Command::new(agent_binary())
        .args(["--server", &server.url, "--imds", "http://127.0.0.1:9", "--token", &token, "--netns", &netns.name, "--state"])
        .arg(directory.path().join("agent"))
        .arg("--root")
        .arg(&work)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let agent_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let agent_id =
        wait_for("the token enrolment", Duration::from_secs(60), || agents(&store).first().and_then(|agent| agent["agent_id"].as_str().map(str::to_string)));
    let in_set = || netns.nft_list(&["set", "inet", "vigil", "blocked4"]).contains(&attacker);

    sshd.fail_logins_until(5, in_set);
    assert!(wait_until(Duration::from_secs(30), in_set), "no block; sshd: {}\nagent: {}", sshd.log_text(), agent_log());
    assert!(!ssh_banner(&address), "the attacker still reaches sshd");
    let blocked = wait_for("the block in the store", Duration::from_secs(60), || host_events(&store, &agent_id, "ips", "blocked").into_iter().next());
    assert_eq!((blocked.payload["address"].as_str(), blocked.payload["dry_run"].as_bool()), (Some(attacker.as_str()), Some(false)));
    let console = format!("Bearer {}", console_token(&server));
    let (status, page) = http(&server.url, "GET", &format!("/agent?id={agent_id}"), Some(&console), b"");
    assert_eq!(status, 200);
    assert!(page.contains(&attacker) && page.contains("data-action=\"/api/agent/unblock\""), "the agent page offers Unblock: {page}");

    let body = serde_json::json!({"agent_id": agent_id, "address": attacker}).to_string();
    let (status, reply) = http(&server.url, "POST", "/api/agent/unblock", Some(&console), body.as_bytes());
    assert_eq!(status, 200, "{reply}");
    let command_id = serde_json::from_str::<Value>(&reply).unwrap()["command_id"].as_str().unwrap().to_string();
    assert!(wait_until(Duration::from_secs(30), || !in_set() && ssh_banner(&address)), "not unblocked: {}", agent_log());
    let unblocked = wait_for("the unblock in the store", Duration::from_secs(60), || host_events(&store, &agent_id, "ips", "unblocked").into_iter().next());
    assert_eq!((unblocked.payload["requested_by"].as_str(), unblocked.payload["command_id"].as_str()), (Some("token"), Some(command_id.as_str())));
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    let commands = opened.agent_commands(&agent_id, 10).unwrap();
    assert_eq!(commands.len(), 1);
    assert_eq!((commands[0].outcome.as_deref(), commands[0].delivered_at.is_some()), (Some("done"), true), "{commands:?}");
    let audit = opened.audit(0, 100).unwrap();
    assert!(audit.iter().any(|row| row.action == "agent.ips.unblock" && row.target == agent_id && row.detail.contains(&command_id)), "{audit:?}");
    let alerts = opened.alerts_page(None, None, 0, 100).unwrap().items;
    assert!(alerts.iter().any(|alert| alert.rule_id == "vigil-ips:blocked") && alerts.iter().any(|alert| alert.rule_id == "vigil-ips:unblocked"), "{alerts:?}");
    assert_eq!(host_events(&store, &agent_id, "ips", "unblocked").len(), 1, "run once");
    let _ = child.kill();
    let _ = child.wait();
}
