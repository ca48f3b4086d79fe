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

fn missing_alerts(store: &Path) -> usize {
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    opened.alerts_page(None, Some(vigil_store::agents::MISSING_RULE), 0, 1000).unwrap().items.len()
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
    assert_eq!(missing_alerts(&store), 0, "stopping is expected: no alert");

    // Started again: the agent resumes with its credential; killed while running: missing, alert.
    runtime.block_on(async { client.start_instances().instance_ids(&web).send().await.unwrap() });
    scan(&moto, &store);
    let mut web_agent = Agent::start(&server.url, &web_state, &web_imds.url, None);
    wait_status(&store, &web, "online");
    assert!(!web_agent.log().contains("enrolled as"), "a restarted agent keeps its credential: {}", web_agent.log());
    web_agent.kill();
    wait_status(&store, &web, "missing");
    wait_for("the missing alert", Duration::from_secs(30), || (missing_alerts(&store) == 1).then_some(()));

    // Terminated: retired, and the credential refused.
    runtime.block_on(async { client.terminate_instances().instance_ids(&web).send().await.unwrap() });
    scan(&moto, &store);
    let retired = wait_status(&store, &web, "retired");
    assert_eq!(retired["agent_id"], agent_id.as_str(), "history is kept");
    let mut after = Agent::start(&server.url, &web_state, &web_imds.url, None);
    assert_eq!(after.exit_code(Duration::from_secs(60)), 3, "{}", after.log());
    assert!(after.log().contains("retired") && after.log().contains("terminated"), "{}", after.log());
    assert_eq!(missing_alerts(&store), 1, "retiring raises no second alert");
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
