//! Measures what transient faults cost a collection: Example Corp seeded into moto, collected
//! directly and through the fault-injecting proxy (30% of attempts faulted: throttling, 5xx,
//! connection resets, 2 s stalls), side by side, with vigil's retry settings (adaptive mode,
//! 5 attempts). Prints wall times, retries and the ratio.
//!
//! Run with `cargo run -p vigil-testkit --bin fault-bench -- [RUNS] [SEED]`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use vigil_testkit::{FaultPlan, FaultProxy, MotoServer, example_corp};

async fn collect(endpoint_url: &str) -> vigil_model::Inventory {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "fault-bench"))
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(endpoint_url)
        .retry_config(RetryConfig::adaptive().with_max_attempts(5))
        .load()
        .await;
    let config = vigil_collect::CollectConfig {
        regions: example_corp::REGIONS.iter().map(|region| region.to_string()).collect(),
        endpoint_url: Some(endpoint_url.to_string()),
        max_attempts: 5,
        ..Default::default()
    };
    vigil_collect::collect_with(sdk_config, &config, Arc::new(vigil_collect::NoProgress)).await.expect("collection")
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let runs: u64 = args.next().and_then(|value| value.parse().ok()).unwrap_or(3);
    let seed: u64 = args.next().and_then(|value| value.parse().ok()).unwrap_or(14);
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    collect(&moto.endpoint_url).await; // warm-up
    for run in 0..runs {
        let started = Instant::now();
        let clean = collect(&moto.endpoint_url).await;
        let clean_time = started.elapsed();
        let proxy = FaultProxy::start(&moto.endpoint_url, FaultPlan::transient(seed + run)).await;
        let started = Instant::now();
        let faulted = collect(&proxy.endpoint_url).await;
        let faulted_time = started.elapsed();
        let stats = proxy.stats();
        let retries = |inventory: &vigil_model::Inventory| inventory.ledger.calls.iter().map(|call| u64::from(call.retries)).sum::<u64>();
        println!(
            "run {run} (seed {}): clean {:.2} s, {} calls; faulted {:.2} s ({} requests, {} faults: {:?}), {} retries recorded; ratio {:.2}",
            seed + run,
            clean_time.as_secs_f64(),
            clean.ledger.calls.len(),
            faulted_time.as_secs_f64(),
            stats.requests,
            stats.injected.values().sum::<u64>(),
            stats.injected,
            retries(&faulted) - retries(&clean),
            faulted_time.as_secs_f64() / clean_time.as_secs_f64(),
        );
    }
}
