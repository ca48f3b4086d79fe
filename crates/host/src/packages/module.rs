//! The `packages` host module: the installed packages ([`inventory`](super::inventory): dpkg,
//! rpm, apk under the root), the OS release and the running kernel, emitted as `snapshot`
//! events (the list in parts of 1,000 packages) only when the list changed.

use std::path::Path;

use serde_json::json;

use crate::module::{Module, ModuleError, Run, Snapshot};

/// Packages per event (each well under the event size limit).
const PER_PART: usize = 1_000;

/// The package-inventory module.
#[derive(Debug)]
pub struct PackagesModule {
    snapshot: Snapshot,
}

impl Default for PackagesModule {
    fn default() -> Self {
        PackagesModule { snapshot: Snapshot::new("last-packages") }
    }
}

impl Module for PackagesModule {
    fn name(&self) -> &'static str {
        "packages"
    }

    fn runs_apart(&self) -> bool {
        true
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        let inventory = super::inventory(&run.host_root());
        let items: Vec<serde_json::Value> = inventory.packages.iter().map(|package| json!(package)).collect();
        let problems: Vec<String> = inventory.problems.iter().map(ToString::to_string).collect();
        let head = json!({"os": inventory.os, "running_kernel": inventory.running_kernel, "packages": items.len(), "problems": problems});
        self.snapshot.emit_if_changed(run, "snapshot", head, items, PER_PART);
        if !problems.is_empty() {
            return Err(ModuleError::Other(format!("packages: {}", problems.join("; "))));
        }
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        self.snapshot.committed(state_dir)
    }
}
