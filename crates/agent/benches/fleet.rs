//! A simulated fleet against one `vigil serve`: N agents enrol with a token, then each sends
//! batches of sequenced events as fast as the server acknowledges them, for a while; prints
//! events acknowledged per second and the refusals seen (503 back-pressure included).
//! Run by `bench/agent/run.sh`, which starts the server and measures its memory.
//!
//! Environment: `FLEET_SERVER` (URL), `FLEET_TOKEN`, `FLEET_AGENTS` (1000), `FLEET_SECONDS`
//! (30), `FLEET_BATCH` (events per batch, 50). Without `FLEET_SERVER` it prints how to run it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

type Http = Client<HttpConnector, Full<Bytes>>;

async fn post(client: &Http, url: &str, authorization: Option<&str>, body: String) -> (u16, String) {
    let mut request = http::Request::post(url).header("content-type", "application/json");
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    match client.request(request.body(Full::new(Bytes::from(body))).unwrap()).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
        Err(error) => (0, error.to_string()),
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn main() {
    let Ok(server) = std::env::var("FLEET_SERVER") else {
        eprintln!("fleet: set FLEET_SERVER and FLEET_TOKEN (bench/agent/run.sh does); nothing measured");
        return;
    };
    let token = std::env::var("FLEET_TOKEN").unwrap_or_default();
    let (agents, seconds, batch) = (env("FLEET_AGENTS", 1000), env("FLEET_SECONDS", 30), env("FLEET_BATCH", 50));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Http = Client::builder(hyper_util::rt::TokioExecutor::new()).pool_max_idle_per_host(agents as usize).build(connector);
        // Enrolment, a few at a time.
        let started = Instant::now();
        let mut credentials = Vec::new();
        for index in 0..agents {
            let body = serde_json::json!({ "token": token, "hostname": format!("sim-{index}"), "agent_version": "bench" }).to_string();
            let (status, reply) = post(&client, &format!("{server}/agent/v1/enrol"), None, body).await;
            assert_eq!(status, 200, "enrolment {index}: {reply}");
            let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
            credentials.push((reply["agent_id"].as_str().unwrap().to_string(), reply["secret"].as_str().unwrap().to_string()));
        }
        println!("enrolled {agents} agents in {:.1} s", started.elapsed().as_secs_f64());
        let (acked, busy, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (agent_id, secret) in credentials {
            let (client, server, acked, busy, failed) = (client.clone(), server.clone(), Arc::clone(&acked), Arc::clone(&busy), Arc::clone(&failed));
            tasks.push(tokio::spawn(async move {
                let authorization = format!("Bearer {agent_id}.{secret}");
                let mut seq = 1u64;
                while Instant::now() < deadline {
                    let events: Vec<serde_json::Value> = (0..batch)
                        .map(|offset| {
                            serde_json::json!({ "seq": seq + offset, "id": format!("{agent_id}-{}", seq + offset), "module": "bench", "kind": "tick", "time": "2026-01-01T00:00:00Z",
                                "payload": { "path": "/etc/passwd", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "n": seq + offset } })
                        })
                        .collect();
                    let body = serde_json::json!({ "agent_id": agent_id, "events": events }).to_string();
                    let (status, _) = post(&client, &format!("{server}/agent/v1/events"), Some(&authorization), body).await;
                    match status {
                        200 => {
                            acked.fetch_add(batch, Ordering::Relaxed);
                            seq += batch;
                        }
                        503 => {
                            busy.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let total = acked.load(Ordering::Relaxed);
        println!(
            "{total} events acknowledged in {elapsed:.1} s by {agents} agents (batches of {batch}): {:.0} events/s; {} busy (503) replies, {} failures",
            total as f64 / elapsed,
            busy.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed)
        );
    });
}
