//! Issue 16: the server's detections on the host log records agents ship, through the whole
//! application (the agent API's guard and batch handler, the store, the Activity API) on every
//! backend: alerts with the host and raw record, the brute-force correlation across batches, a
//! resent batch adding nothing, and bad input (a payload that is not a record, a body that is
//! not UTF-8) neither crashing the server nor losing the events around it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use vigil_host::logs::detect::{RecordEvaluator, alert_id};

use crate::console_tests::{run, stores};
use crate::{AppState, StorePool, app, auth};

const SECRET: &str = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

struct Server {
    app: axum::Router,
    console_bearer: String,
}

fn server(mut store: vigil_store::Store) -> Server {
    store
        .enrol_agent(&vigil_store::agents::NewAgent {
            id: "agt-d",
            instance_id: Some("i-0d"),
            account_id: Some("123456789012"),
            region: Some("eu-west-1"),
            hostname: "web-7",
            agent_version: "0.1.0",
            enrolled_by: "token:t",
            secret_hash: &crate::agent_api::secret_hash(SECRET),
            at: "2026-05-04T09:00:00Z",
            at_unix: 1_777_885_200,
        })
        .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (hash, token) = auth::load_or_create(&directory.path().join("console-token")).unwrap();
    let mut fleet =
        crate::agent_api::Fleet::new(vigil_fleet::identity::TrustedCertificates::aws().unwrap(), vigil_fleet::HostPolicy::bundled().unwrap(), 60, 300);
    fleet.host_detections = Some(Arc::new(RecordEvaluator::load(&[]).unwrap()));
    let state = Arc::new(AppState { store: StorePool::new(vec![store]), auth: auth::Auth::new(hash), secure_cookies: false, fleet: Some(fleet), oidc: None });
    Server { app: app(state), console_bearer: format!("Bearer {}", token.unwrap()) }
}

impl Server {
    async fn post_events(&self, body: Vec<u8>) -> (StatusCode, String) {
        let request = Request::builder()
            .method("POST")
            .uri(vigil_fleet::wire::EVENTS)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer agt-d.{SECRET}"))
            .body(Body::from(body))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn alerts(&self) -> Vec<serde_json::Value> {
        let request = Request::builder().uri("/api/alerts?limit=500").header("authorization", &self.console_bearer).body(Body::empty()).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20).await.unwrap();
        let page: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        page["items"].as_array().unwrap().clone()
    }
}

/// A batch of `record` events (from `first`) for `lines` of auth.log, as the agent ships them.
fn batch(first: u64, lines: &[String]) -> Vec<u8> {
    let events: Vec<vigil_fleet::wire::Sequenced> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let record = vigil_host::logs::parse::syslog_line(line, "/var/log/auth.log", true, 2026);
            vigil_fleet::wire::Sequenced {
                seq: first + index as u64,
                event: vigil_fleet::Event {
                    id: alert_id("record", &record),
                    module: "logs".into(),
                    kind: "record".into(),
                    time: "2026-05-04T10:02:00Z".into(),
                    payload: record.to_json(),
                },
            }
        })
        .collect();
    serde_json::to_vec(&vigil_fleet::wire::Batch { agent_id: "agt-d".into(), events }).unwrap()
}

fn failures(from: u32, to: u32) -> Vec<String> {
    (from..to)
        .map(|second| format!("2026-05-04T10:00:{second:02}+00:00 web-7 sshd[1]: Failed password for root from 198.51.100.7 port {} ssh2", 40_000 + second))
        .collect()
}

#[test]
fn shipped_records_become_activity_alerts_with_the_host_and_raw_record_and_brute_force_spans_batches() {
    for (_directory, _path, store) in stores() {
        let server = server(store);
        run(async {
            let (status, body) = server.post_events(batch(1, &failures(0, 6))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let alerts = server.alerts().await;
            assert_eq!(alerts.len(), 6, "{alerts:#?}");
            assert!(!alerts.iter().any(|alert| alert["rule_title"] == "SSH Brute Force"), "six failures are not ten");

            let (status, body) = server.post_events(batch(7, &failures(6, 12))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            // The same batch again (the agent did not get the answer): nothing twice.
            let (status, body) = server.post_events(batch(7, &failures(6, 12))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body.contains("\"duplicates\":6"), "{body}");
            let alerts = server.alerts().await;
            let titled = |title: &str| alerts.iter().filter(|alert| alert["rule_title"] == title).collect::<Vec<_>>();
            assert_eq!(titled("SSH Authentication Failure").len(), 12, "{alerts:#?}");
            let brute = titled("SSH Brute Force");
            assert_eq!(brute.len(), 1, "{alerts:#?}");
            assert_eq!(brute[0]["detail"]["host"]["hostname"], "web-7");
            let failure = titled("SSH Authentication Failure")[0];
            assert_eq!(failure["detail"]["host"]["instance_id"], "i-0d");
            assert_eq!(failure["account_id"], "123456789012");
            assert!(failure["detail"]["event"]["raw"].as_str().unwrap().starts_with("Failed password for root from 198.51.100.7 port 4"), "{failure}");
            assert_eq!(failure["detail"]["event"]["record"]["source_ip"], "198.51.100.7");
        });
    }
}

#[test]
fn bad_input_neither_crashes_the_server_nor_loses_the_events_around_it() {
    for (_directory, _path, store) in stores() {
        let server = server(store);
        run(async {
            // Not UTF-8: refused whole, nothing stored, the agent keeps it (the agent never
            // sends such a body: it replaces invalid bytes when it reads a line).
            let mut invalid = batch(1, &failures(0, 1));
            let at = invalid.windows(6).position(|window| window == b"Failed").unwrap();
            invalid[at] = 0xff;
            let (status, body) = server.post_events(invalid).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(server.alerts().await.is_empty());

            // A record that is not one (the agent's marker for an event over 256 KiB), between
            // two good ones: all three stored, the good ones evaluated.
            let mut events: serde_json::Value = serde_json::from_slice(&batch(1, &failures(0, 3))).unwrap();
            events["events"][1]["payload"] = serde_json::json!({"truncated": true, "bytes": 1_048_576, "reason": "the event is larger than 262144 bytes"});
            let (status, body) = server.post_events(serde_json::to_vec(&events).unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body.contains("\"acked_through\":3") && body.contains("\"stored\":3"), "{body}");
            let alerts = server.alerts().await;
            assert_eq!(alerts.len(), 2, "{alerts:#?}");
            // The server still serves the agent.
            let (status, body) = server.post_events(batch(4, &failures(3, 4))).await;
            assert_eq!((status, server.alerts().await.len()), (StatusCode::OK, 3), "{body}");
        });
    }
}
