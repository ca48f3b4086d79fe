//! Regenerates the bundled demo snapshot: starts moto, seeds "Example Corp", collects it
//! with vigil's own collector, fills what moto cannot serve with recorded values
//! (`example_corp::fill_what_moto_lacks`) and writes `crates/cli/demo/example-corp.vigil`.
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
    let mut inventory = vigil_collect::collect_with(moto.sdk_config().await, &config, Arc::new(vigil_collect::NoProgress)).await?;
    // What moto cannot serve is filled with the values AWS answers for the seeded account
    // (recorded, moto lacks these calls), so the demo reads like a real account.
    let filled = example_corp::fill_what_moto_lacks(&mut inventory);
    println!("filled {} call(s) moto lacks with recorded values: {}", filled.len(), filled.join("; "));
    let unread: Vec<String> = inventory.ledger.failures().filter_map(vigil_model::ApiCall::failure_line).collect();
    if !unread.is_empty() {
        return Err(format!(
            "the demo account would show emulator gaps as ERROR findings; fill them in example_corp::fill_what_moto_lacks:\n{}",
            unread.join("\n")
        )
        .into());
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    vigil_model::snapshot::write(&path, &inventory)?;
    println!("wrote {} ({} resources, {} API calls)", path.display(), inventory.resources().len(), inventory.ledger.calls.len());
    Ok(())
}
