//! The `sca` host module: configuration assessment ([`evaluate`](super::evaluate)) of vigil's
//! own guest-OS policy, or the policy files the host policy names (`policies`: Wazuh-format
//! YAML on the host), emitted as one `result` event per policy (each check's id, title, result
//! and reason, and the summary) only when the results changed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::{Policy, ScaOptions};
use crate::module::{Module, ModuleError, Run, Snapshot};

/// The assessment module: one snapshot per policy.
#[derive(Debug, Default)]
pub struct ScaModule {
    snapshots: BTreeMap<String, Snapshot>,
}

impl Module for ScaModule {
    fn name(&self) -> &'static str {
        "sca"
    }

    fn runs_apart(&self) -> bool {
        true
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        let names: Vec<String> = run.settings.get("policies").unwrap_or_else(|| vec![super::DEFAULT_POLICY_NAME.to_string()]);
        let host = run.host_root();
        let options = ScaOptions::default();
        let mut problems = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let policy = if name == super::DEFAULT_POLICY_NAME { super::default_policy() } else { Policy::load(Path::new(name)) };
            let policy = match policy {
                Ok(policy) => policy,
                Err(error) => {
                    problems.push(error.to_string());
                    continue;
                }
            };
            let report = super::evaluate(&policy, &host, &options);
            let checks: Vec<serde_json::Value> = report
                .checks
                .iter()
                .map(|check| json!({"id": check.id, "title": check.title, "result": check.result.as_str(), "reason": check.reason}))
                .collect();
            let head = json!({"policy": report.policy, "name": report.name, "requirements": report.requirements, "summary": report.summary});
            // One state file per place in the list: a policy replaced by another is assessed anew.
            let snapshot = self.snapshots.entry(format!("{index}:{name}")).or_insert_with(|| Snapshot::new(format!("last-sca-{index}")));
            snapshot.emit_if_changed(run, "result", head, checks, 2_000);
            run.budget.pace();
        }
        if !problems.is_empty() {
            return Err(ModuleError::Other(format!("sca: {}", problems.join("; "))));
        }
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        for snapshot in self.snapshots.values_mut() {
            snapshot.committed(state_dir)?;
        }
        Ok(())
    }
}
