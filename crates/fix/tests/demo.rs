//! Plans over the bundled demo account ("Example Corp").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use vigil_fix::{Options, Selection, plan};

fn demo() -> vigil_model::Inventory {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
    vigil_model::snapshot::from_bytes(&std::fs::read(path).unwrap(), "the demo snapshot").unwrap()
}

#[test]
fn print_demo_plan() {
    let inventory = demo();
    let started = std::time::Instant::now();
    let plan = plan(&inventory, &Selection::default(), &Options::default(), None, &[], chrono::Utc::now());
    eprintln!("planned in {:?}", started.elapsed());
    for fix in &plan.fixes {
        eprintln!(
            "FIX {} {} calls={} resolves={} breaks={}",
            fix.check_id,
            fix.resource,
            serde_json::to_string(&fix.calls).unwrap(),
            fix.resolves.len(),
            fix.breaks.len()
        );
    }
    for skipped in &plan.skipped {
        eprintln!("SKIP {} {} {}", skipped.check_id, skipped.resource, skipped.reason);
    }
}
