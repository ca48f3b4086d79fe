//! The `secrets` host module: the files under the host policy's `paths` scanned with vigil's
//! one detector (`vigil_secrets`: keys, tokens, passwords in configuration, personal data),
//! reported as one `findings` document (`{path, line, kind, redacted}` per finding, in parts
//! of 1,000; the head counts the files scanned and names what could not be read) only when it
//! changed. Never the secret itself: only its redacted form leaves the detector.

use std::path::Path;

use serde_json::json;

use crate::fsroot::HostRoot;
use crate::module::{Module, ModuleError, Run, Snapshot};

/// Files larger than this are skipped unless the policy sets `max_file_bytes`.
const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 20;

/// The most files one run reads (a policy naming `/` stays bounded).
const MAX_FILES: usize = 200_000;

/// The most unreadable paths named in the report.
const MAX_PROBLEMS: usize = 50;

/// The secrets module.
#[derive(Debug)]
pub struct SecretsModule {
    snapshot: Snapshot,
}

impl Default for SecretsModule {
    fn default() -> Self {
        SecretsModule { snapshot: Snapshot::new("last-secrets") }
    }
}

/// What a walk found.
#[derive(Default)]
struct Walk {
    findings: Vec<serde_json::Value>,
    files: usize,
    problems: Vec<String>,
    truncated: bool,
}

impl Module for SecretsModule {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn runs_apart(&self) -> bool {
        true
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        let paths: Vec<String> = run
            .settings
            .get("paths")
            .ok_or_else(|| ModuleError::Other("secrets: the host policy names no `paths` (files or directories) to scan".to_string()))?;
        let max_file_bytes: u64 = run.settings.get("max_file_bytes").unwrap_or(DEFAULT_MAX_FILE_BYTES);
        let host = run.host_root();
        let mut walk = Walk::default();
        for path in &paths {
            visit(&host, path, max_file_bytes, run, &mut walk);
        }
        let head = json!({
            "paths": paths,
            "files": walk.files,
            "findings": walk.findings.len(),
            "problems": walk.problems.iter().take(MAX_PROBLEMS).collect::<Vec<_>>(),
            "unreadable": walk.problems.len(),
            "truncated": walk.truncated,
        });
        self.snapshot.emit_if_changed(run, "findings", head, walk.findings, 1_000);
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        self.snapshot.committed(state_dir)
    }
}

/// Walks one host path (links not followed), scanning regular text files.
fn visit(host: &HostRoot, path: &str, max_file_bytes: u64, run: &mut Run<'_>, walk: &mut Walk) {
    if walk.files >= MAX_FILES || run.should_stop() {
        walk.truncated = true;
        return;
    }
    let metadata = match host.symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            walk.problems.push(format!("{path}: {error}"));
            return;
        }
    };
    if metadata.is_dir() {
        match host.read_dir(path) {
            Ok(entries) => {
                for entry in entries {
                    visit(host, &entry, max_file_bytes, run, walk);
                }
            }
            Err(error) => walk.problems.push(format!("{path}: {error}")),
        }
        return;
    }
    if !metadata.is_file() || metadata.len() > max_file_bytes {
        return;
    }
    let bytes = match host.read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            walk.problems.push(format!("{path}: {error}"));
            return;
        }
    };
    walk.files += 1;
    run.budget.charge_io(bytes.len() as u64);
    // Binary files (a NUL in the first 8 KiB) are not text to scan, as for `vigil host secrets`.
    if bytes.iter().take(8192).any(|&byte| byte == 0) {
        return;
    }
    for finding in vigil_secrets::scan(&String::from_utf8_lossy(&bytes)) {
        walk.findings.push(json!({"path": path, "line": finding.line, "kind": finding.kind.as_str(), "redacted": finding.redacted}));
    }
    run.budget.pace();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::module::ModuleSettings;

    #[test]
    fn secrets_under_the_policys_paths_are_reported_redacted_once_per_change() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc/app")).unwrap();
        let key = ["AKIA", "Q3EGRIV5X7JPLMNZ"].concat();
        let secret = ["wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYzQ8rTk2vLq"].concat();
        std::fs::write(root.path().join("etc/app/env"), format!("# app\nAWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n")).unwrap();
        std::fs::write(root.path().join("etc/app/readme"), "nothing here\n").unwrap();
        let run_once = |module: &mut SecretsModule, settings: serde_json::Value| {
            let settings = ModuleSettings::from_map(settings.as_object().unwrap());
            let stop = AtomicBool::new(false);
            let mut run = Run::new(&settings, state.path(), root.path(), &stop);
            let outcome = module.run(&mut run);
            let emitted = run.take_emitted();
            if outcome.is_ok() {
                module.committed(state.path()).unwrap();
            }
            (outcome, emitted)
        };
        let mut module = SecretsModule::default();
        let (outcome, _) = run_once(&mut module, json!({"enabled": true}));
        assert!(outcome.unwrap_err().to_string().contains("no `paths`"), "no paths is an error, not a clean report");
        let settings = json!({"enabled": true, "paths": ["/etc/app", "/srv/missing"]});
        let (outcome, emitted) = run_once(&mut module, settings.clone());
        outcome.unwrap();
        assert_eq!(emitted.len(), 1, "{emitted:#?}");
        let payload = &emitted[0].payload;
        assert_eq!((payload["files"].as_u64(), payload["unreadable"].as_u64()), (Some(2), Some(1)), "{payload}");
        assert!(payload["problems"][0].as_str().unwrap().starts_with("/srv/missing"), "{payload}");
        let items = payload["items"].as_array().unwrap();
        assert!(items.iter().any(|item| item["path"] == "/etc/app/env" && item["line"] == 2), "{payload}");
        let text = payload.to_string();
        assert!(!text.contains(&key) && !text.contains(&secret), "the secrets never leave whole: {text}");
        assert!(run_once(&mut module, settings).1.is_empty(), "unchanged: nothing sent again");
    }
}
