//! Regenerates the bundled demo snapshot: starts moto, seeds "Example Corp", collects it
//! with vigil's own collector and writes `crates/cli/demo/example-corp.vigil`.
//!
//! Run with `cargo run -p vigil-testkit --bin make-demo`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use vigil_testkit::{MotoServer, example_corp};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let moto = MotoServer::start();
    example_corp::seed(&moto).await;
    let config = vigil_collect::CollectConfig {
        regions: example_corp::REGIONS.iter().map(|region| region.to_string()).collect(),
        endpoint_url: Some(moto.endpoint_url.clone()),
        max_attempts: 3,
        ..Default::default()
    };
    let inventory = vigil_collect::collect_with(moto.sdk_config().await, &config, Arc::new(vigil_collect::NoProgress)).await?;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    vigil_model::snapshot::write(&path, &inventory)?;
    println!("wrote {} ({} resources, {} API calls)", path.display(), inventory.resources().len(), inventory.ledger.calls.len());
    Ok(())
}
