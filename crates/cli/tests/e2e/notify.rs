//! End-to-end tests of `--notify`: signed webhooks, Slack-compatible messages, digests, SNS on
//! moto, deduplication across scans, retries, and notices kept until a later run delivers them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::{run, vigil};
use serde_json::Value;
use vigil_testkit::MotoServer;

/// One request the receiver got: its headers (lowercased names) and body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

/// A tiny HTTP receiver on 127.0.0.1 that answers each request with the next status of
/// `statuses` (then 200) and keeps what it received.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(statuses: Vec<u16>) -> Receiver {
        Receiver::serve(TcpListener::bind("127.0.0.1:0").unwrap(), statuses)
    }

    fn start_on(address: std::net::SocketAddr) -> Receiver {
        Receiver::serve(TcpListener::bind(address).unwrap(), Vec::new())
    }

    fn serve(listener: TcpListener, statuses: Vec<u16>) -> Receiver {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            let mut statuses = statuses.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let trimmed = line.trim_end();
                    if trimmed.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = trimmed.split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                    }
                }
                let length: usize = headers.iter().find(|(name, _)| name == "content-length").map(|(_, value)| value.parse().unwrap()).unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let status = statuses.next().unwrap_or(200);
                log.lock().unwrap().push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
                let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Receiver { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn header<'a>(request: &'a Received, name: &str) -> Option<&'a str> {
    request.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

fn demo_scan(store: &Path, extra: &[&str]) -> (i32, String, String) {
    run(vigil().args(["scan", "--demo", "--store"]).arg(store).args(extra))
}

/// The demo's FAIL findings at high or critical severity.
fn failing_high(store_dir: &Path) -> usize {
    let output = store_dir.join("findings.json");
    let (code, _, stderr) = run(vigil().args(["-q", "scan", "--demo", "--no-store", "-o"]).arg(&output));
    assert_eq!(code, 0, "{stderr}");
    let document: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let mut keys: Vec<String> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["status"] == "FAIL" && (finding["severity"] == "high" || finding["severity"] == "critical"))
        .map(|finding| format!("{}|{}|{}|{}", finding["check_id"], finding["account_id"], finding["region"], finding["resource_arn"]))
        .collect();
    keys.sort();
    keys.dedup();
    keys.len()
}

#[test]
fn webhooks_are_signed_retried_and_never_repeat_a_notice() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let expected = failing_high(directory.path());
    assert!(expected > 3);
    // The first delivery attempt gets a 500: it must be retried, not lost.
    let receiver = Receiver::start(vec![500]);
    let target = format!("webhook:{}", receiver.url);
    let (code, _, stderr) = demo_scan(&store, &["--notify", &target, "--notify-secret", "s3cret"]);
    assert_eq!(code, 0, "{stderr}");
    let received = receiver.received();
    assert_eq!(received.len(), expected + 1, "{stderr}");
    let mut keys = Vec::new();
    for request in &received {
        let signature = header(request, "x-vigil-signature").unwrap();
        assert_eq!(signature, vigil_notify::sign(b"s3cret", request.body.as_bytes()));
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["source"], "vigil");
        for notice in body["notices"].as_array().unwrap() {
            assert!(notice["severity"] == "high" || notice["severity"] == "critical", "{notice}");
            keys.push(notice["key"].as_str().unwrap().to_string());
        }
    }
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!((total, keys.len()), (expected + 1, expected), "one notice delivered twice: the one that got the 500");

    // Scanning again finds nothing new: nothing is sent.
    let (code, _, stderr) = demo_scan(&store, &["--notify", &target, "--notify-secret", "s3cret"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(receiver.received().len(), expected + 1, "a notice was sent twice");
}

#[test]
fn digests_send_one_message_and_slack_gets_text() {
    let directory = tempfile::tempdir().unwrap();
    let expected = failing_high(directory.path());
    let webhook = Receiver::start(Vec::new());
    let slack = Receiver::start(Vec::new());
    let (code, _, stderr) = demo_scan(
        &directory.path().join("vigil.db"),
        &["--notify", &format!("webhook:{}", webhook.url), "--notify", &format!("slack:{}", slack.url), "--notify-digest"],
    );
    assert_eq!(code, 0, "{stderr}");
    let received = webhook.received();
    assert_eq!(received.len(), 1);
    assert!(header(&received[0], "x-vigil-signature").is_none(), "no secret, no signature");
    let body: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(body["notices"].as_array().unwrap().len(), expected);
    let received = slack.received();
    assert_eq!(received.len(), 1);
    let text = serde_json::from_str::<Value>(&received[0].body).unwrap()["text"].as_str().unwrap().to_string();
    assert!(text.contains(&format!("{expected} new findings")), "{text}");
}

#[test]
fn notices_for_an_unreachable_target_wait_in_the_outbox_for_the_next_run() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let expected = failing_high(directory.path());
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = format!("webhook:http://{closed}/hook");
    let (code, _, stderr) = demo_scan(&store, &["--notify", &down, "--notify-digest"]);
    assert_eq!(code, 0, "a failed notification does not fail the scan: {stderr}");
    assert!(stderr.contains("kept in the outbox"), "{stderr}");
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    assert_eq!(opened.pending(&down).unwrap().len(), expected);
    drop(opened);
    // The receiver is back on the same address: the next run delivers what waited.
    let listener = TcpListener::bind(closed);
    if listener.is_err() {
        eprintln!("port {closed} was taken meanwhile; skipping the redelivery half");
        return;
    }
    drop(listener);
    let receiver = Receiver::start_on(closed);
    let (code, _, stderr) = demo_scan(&store, &["--notify", &down, "--notify-digest"]);
    assert_eq!(code, 0, "{stderr}");
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{stderr}");
    let body: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(body["notices"].as_array().unwrap().len(), expected);
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    assert!(opened.pending(&down).unwrap().is_empty());
}

#[test]
fn sns_targets_publish_to_the_topic_on_moto() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (topic, queue_url) = runtime.block_on(async {
        let config = moto.sdk_config().await;
        let sns = aws_sdk_sns::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let topic = sns.create_topic().name("vigil-alerts").send().await.unwrap().topic_arn.unwrap();
        let queue_url = sqs.create_queue().queue_name("inbox").send().await.unwrap().queue_url.unwrap();
        let queue_arn = "arn:aws:sqs:us-east-1:123456789012:inbox";
        sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).send().await.unwrap();
        (topic, queue_url)
    });
    let mut command = vigil();
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    command
        .args(["scan", "--demo", "--endpoint-url", &moto.endpoint_url, "--notify-digest", "--notify", &format!("sns:{topic}"), "--store"])
        .arg(directory.path().join("vigil.db"));
    let (code, _, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 sent") || stderr.contains("sent"), "{stderr}");
    let messages = runtime.block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
        sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap().messages.unwrap_or_default()
    });
    assert_eq!(messages.len(), 1, "{stderr}");
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    let inner: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert!(!inner["notices"].as_array().unwrap().is_empty());
    assert!(envelope["Subject"].as_str().unwrap().starts_with("vigil:"), "{envelope}");
}

#[test]
fn hunted_alerts_are_recorded_once_and_new_ones_notified() {
    let directory = tempfile::tempdir().unwrap();
    let logs = directory.path().join("trail.json");
    std::fs::write(
        &logs,
        r#"{"Records":[{"eventVersion":"1.08","eventID":"ev-stop","eventTime":"2024-05-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"recipientAccountId":"111122223333"}]}"#,
    )
    .unwrap();
    let store = directory.path().join("vigil.db");
    let receiver = Receiver::start(Vec::new());
    let hunt = || {
        let mut command = vigil();
        command.args(["trail", "hunt", "--format", "jsonl", "--notify", &format!("webhook:{}", receiver.url), "--store"]).arg(&store).arg(&logs);
        run(&mut command)
    };
    let (code, stdout, stderr) = hunt();
    assert_eq!(code, 0, "{stderr}");
    let alerts = stdout.lines().count();
    assert!(alerts >= 1 && stderr.contains(&format!("recorded {alerts} new alerts")), "{stderr}");
    let received = receiver.received();
    assert!(!received.is_empty(), "{stderr}");
    let body: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(body["notices"][0]["kind"], "alert");
    assert_eq!(body["notices"][0]["detail"]["event_id"], "ev-stop");
    let sent = received.len();

    let (code, _, stderr) = hunt();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("recorded 0 new alerts"), "{stderr}");
    assert_eq!(receiver.received().len(), sent, "an alert was notified twice");
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    assert_eq!(opened.table_rows("alerts").unwrap(), alerts as i64);
}
