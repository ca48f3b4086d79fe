//! Issue 16, the console's Unblock: the route's role check (a viewer gets 403) and CSRF, the
//! audit entry, the command delivered in heartbeat replies until the agent acknowledges it
//! (so once), completed by the agent's `unblocked` event, and the agent page's button; through
//! the whole application on every backend available.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use vigil_fleet::wire::{self, AgentCommand, HeartbeatReply, Sequenced};

use crate::console_tests::{run, stores};
use crate::people_tests::{PASSWORD, browser, people, send, token_hash};
use crate::{AppState, StorePool, agent_api, app, auth};

const AGENT: &str = "agt-00000000000000a1";
const SECRET: &str = "0123456789abcdef0123";

fn event(seq: u64, kind: &str, payload: Value) -> Sequenced {
    Sequenced {
        seq,
        event: vigil_fleet::Event { id: format!("{kind}:{seq}"), module: "ips".into(), kind: kind.into(), time: "2026-12-06T00:00:00Z".into(), payload },
    }
}

#[test]
fn an_unblock_needs_an_analyst_and_csrf_is_audited_and_reaches_the_agent_once() {
    for (_directory, _path, mut store) in stores() {
        people(&mut store);
        let agent = vigil_store::agents::NewAgent {
            id: AGENT,
            instance_id: None,
            account_id: None,
            region: None,
            hostname: "web-1",
            agent_version: "1",
            enrolled_by: "token:test",
            secret_hash: &agent_api::secret_hash(SECRET),
            at: "2026-12-06T00:00:00Z",
            at_unix: 1_796_515_200,
        };
        assert_eq!(store.enrol_agent(&agent).unwrap(), None);
        let backend = store.backend();
        let fleet = agent_api::Fleet::new(vigil_fleet::identity::TrustedCertificates::aws().unwrap(), vigil_fleet::HostPolicy::bundled().unwrap(), 60, 300);
        let state = Arc::new(AppState {
            store: StorePool::new(vec![store]),
            auth: auth::Auth::new(token_hash()),
            secure_cookies: true,
            fleet: Some(fleet),
            oidc: None,
        });
        let app = app(Arc::clone(&state));
        let agent_bearer = wire::authorization(AGENT, SECRET);
        let as_agent = [("authorization", agent_bearer.as_str()), ("content-type", "application/json")];
        let heartbeat = json!({"agent_id": AGENT, "agent_version": "1", "hostname": "web-1"}).to_string();
        let command_id = run(async {
            // The agent reports a block.
            let batch = json!({"agent_id": AGENT, "events": [event(1, "blocked", json!({"address": "198.51.100.7", "dry_run": false, "until": "2026-12-06T01:00:00Z", "reason": "5 failures within 600 s"}))]});
            let stored = send(&app, "POST", wire::EVENTS, &as_agent, &batch.to_string()).await;
            assert_eq!(stored.status, StatusCode::OK, "{backend}: {}", stored.body);

            let body = json!({"agent_id": AGENT, "address": "198.51.100.7"}).to_string();
            let viewer = browser(&app, "vera", PASSWORD).await;
            let page = viewer.get(&app, &format!("/agent?id={AGENT}")).await.body;
            assert!(page.contains("198.51.100.7") && !page.contains("data-action=\"/api/agent/unblock\""), "{backend}: a viewer sees the block, no button");
            assert_eq!(viewer.post(&app, "/api/agent/unblock", &body).await.status, StatusCode::FORBIDDEN, "{backend}: a viewer cannot unblock");

            let analyst = browser(&app, "ana", PASSWORD).await;
            let page = analyst.get(&app, &format!("/agent?id={AGENT}")).await.body;
            assert!(page.contains("data-action=\"/api/agent/unblock\""), "{backend}: the analyst gets the Unblock button");
            let without_csrf = send(&app, "POST", "/api/agent/unblock", &[("cookie", &analyst.cookie), ("content-type", "application/json")], &body).await;
            assert_eq!(without_csrf.status, StatusCode::FORBIDDEN, "{backend}: no CSRF header, no change");
            let bad = analyst.post(&app, "/api/agent/unblock", &json!({"agent_id": AGENT, "address": "1.2.3.4; flush ruleset"}).to_string()).await;
            assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{backend}: {}", bad.body);
            let unknown = analyst.post(&app, "/api/agent/unblock", &json!({"agent_id": "agt-nobody", "address": "198.51.100.7"}).to_string()).await;
            assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{backend}");
            let asked = analyst.post(&app, "/api/agent/unblock", &body).await;
            assert_eq!(asked.status, StatusCode::OK, "{backend}: {}", asked.body);
            let command_id = serde_json::from_str::<Value>(&asked.body).unwrap()["command_id"].as_str().unwrap().to_string();
            assert!(analyst.get(&app, &format!("/agent?id={AGENT}")).await.body.contains("unblock requested"), "{backend}");

            // Delivered in every heartbeat reply until acknowledged, then never again.
            for _ in 0..2 {
                let reply = send(&app, "POST", wire::HEARTBEAT, &as_agent, &heartbeat).await;
                assert_eq!(reply.status, StatusCode::OK, "{backend}: {}", reply.body);
                let reply: HeartbeatReply = serde_json::from_str(&reply.body).unwrap();
                assert_eq!(reply.commands.len(), 1, "{backend}");
                let command: &AgentCommand = &reply.commands[0];
                assert_eq!((command.id.as_str(), command.module.as_str(), command.kind.as_str()), (command_id.as_str(), "ips", "unblock"));
                assert_eq!((command.arguments["address"].as_str(), command.requested_by.as_str()), (Some("198.51.100.7"), "user:ana"));
            }
            let wrong = send(&app, "POST", wire::COMMANDS_ACK, &as_agent, &json!({"agent_id": "agt-other", "ids": [command_id]}).to_string()).await;
            assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{backend}: an agent acknowledges only its own commands");
            let ack = send(&app, "POST", wire::COMMANDS_ACK, &as_agent, &json!({"agent_id": AGENT, "ids": [command_id]}).to_string()).await;
            assert_eq!(ack.status, StatusCode::NO_CONTENT, "{backend}: {}", ack.body);
            let reply: HeartbeatReply = serde_json::from_str(&send(&app, "POST", wire::HEARTBEAT, &as_agent, &heartbeat).await.body).unwrap();
            assert!(reply.commands.is_empty(), "{backend}: delivered once");

            // The agent reports the unblock: the command is done and the block gone.
            let batch = json!({"agent_id": AGENT, "events": [event(2, "unblocked", json!({"address": "198.51.100.7", "dry_run": false, "command_id": command_id, "requested_by": "user:ana"}))]});
            assert_eq!(send(&app, "POST", wire::EVENTS, &as_agent, &batch.to_string()).await.status, StatusCode::OK);
            let api: Value = serde_json::from_str(&analyst.get(&app, &format!("/api/agent?id={AGENT}")).await.body).unwrap();
            assert_eq!(api["ips_blocks"], json!([]), "{backend}");
            assert_eq!(
                (api["commands"][0]["outcome"].as_str(), api["commands"][0]["id"].as_str()),
                (Some("done"), Some(command_id.as_str())),
                "{backend}: {api}"
            );
            assert!(api["commands"][0]["delivered_at"].is_string());
            command_id
        });
        // The store is read outside the runtime (the PostgreSQL client is synchronous).
        let mut store = state.store.get().unwrap();
        // Audit-logged with who asked; the refused requests left nothing.
        let audit = store.audit(0, 50).unwrap();
        let entries: Vec<_> = audit.iter().filter(|row| row.action == "agent.ips.unblock").collect();
        assert_eq!(entries.len(), 1, "{backend}: {audit:?}");
        assert_eq!((entries[0].actor.as_str(), entries[0].target.as_str(), entries[0].outcome.as_str()), ("user:ana", AGENT, "success"));
        assert!(entries[0].detail.contains("198.51.100.7") && entries[0].detail.contains(&command_id), "{}", entries[0].detail);
        // Activity lists both actions.
        let alerts = store.alerts_page(None, None, 0, 100).unwrap().items;
        for rule in ["vigil-ips:blocked", "vigil-ips:unblocked"] {
            assert!(alerts.iter().any(|alert| alert.rule_id == rule), "{backend}: no {rule} in {alerts:?}");
        }
    }
}
