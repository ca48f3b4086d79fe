//! The `fim` host module: the agent's integrity monitoring over this module's functions. The
//! first run records a baseline of the policy's paths in the module's state directory
//! (`baseline.db`, written aside and renamed into place, so an agent killed while recording
//! starts over rather than trusting half a baseline) and emits one `baseline` summary. Each
//! later run is a [`rescan`](super::rescan): every change goes to the baseline's outbox in the
//! transaction that updates its entry (a rescan killed midway resumes), then the outbox is
//! emitted as `change` events (the fields of `vigil host fim check --format json`) and
//! acknowledged only once the runner has queued them ([`Module::committed`]). A change of the
//! policy's paths, globs, hash or xattrs setting records a new baseline.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Baseline, FimConfig, HashAlgorithm, RescanOutcome};
use crate::module::{Module, ModuleError, Run};
use crate::rate::RateLimit;

/// The paths watched when the policy names none.
pub const DEFAULT_PATHS: &[&str] = &["/etc", "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/boot"];

/// Changes emitted by one run at most (the rest stay in the outbox for the next run).
pub const DEFAULT_MAX_EVENTS: usize = 10_000;

/// The integrity-monitoring module.
#[derive(Debug, Default)]
pub struct FimModule {
    /// The highest outbox id emitted by the last run, acknowledged in [`Module::committed`].
    emitted_through: Option<i64>,
}

/// The module's configuration from its policy settings (`paths`, `include`, `exclude`,
/// `hash`, `xattrs`; `io_bytes_per_second` paces the hashing).
pub fn config_of(run: &Run<'_>) -> Result<FimConfig, ModuleError> {
    let settings = run.settings;
    let hash = match settings.get::<String>("hash") {
        Some(text) => HashAlgorithm::parse(&text).ok_or_else(|| ModuleError::Other(format!("fim: `hash: {text}` is not a hash: use blake3 or sha256")))?,
        None => HashAlgorithm::Blake3,
    };
    Ok(FimConfig {
        paths: settings.get("paths").unwrap_or_else(|| DEFAULT_PATHS.iter().map(|path| path.to_string()).collect()),
        include: settings.get("include").unwrap_or_default(),
        exclude: settings.get("exclude").unwrap_or_default(),
        hash,
        xattrs: settings.get("xattrs").unwrap_or(true),
        rate: RateLimit { bytes_per_second: Some(settings.io_bytes_per_second), files_per_second: None },
        threads: 1,
    })
}

/// Whether two configurations record the same things (pacing aside).
fn same_selection(left: &FimConfig, right: &FimConfig) -> bool {
    (&left.paths, &left.include, &left.exclude, left.hash, left.xattrs) == (&right.paths, &right.include, &right.exclude, right.hash, right.xattrs)
}

fn database(state_dir: &Path) -> PathBuf {
    state_dir.join("baseline.db")
}

fn fim_error(error: impl std::fmt::Display) -> ModuleError {
    ModuleError::Other(format!("fim: {error}"))
}

impl FimModule {
    /// Records a new baseline aside and renames it into place; emits the summary.
    fn record_baseline(&mut self, run: &mut Run<'_>, config: &FimConfig, reason: &str) -> Result<(), ModuleError> {
        let target = database(run.state_dir);
        let aside = run.state_dir.join("baseline.db.new");
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", aside.display()));
        }
        let root = run.host_root();
        let report = super::baseline(&root, &aside, config).map_err(fim_error)?;
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        Baseline::open(&aside).and_then(|baseline| baseline.set_meta("agent_baseline", &created)).map_err(fim_error)?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        }
        std::fs::rename(&aside, &target).map_err(|error| ModuleError::Other(format!("fim: cannot move the baseline into `{}`: {error}", target.display())))?;
        let problems: Vec<_> = report.problems.iter().take(20).collect();
        run.emit(
            "baseline",
            format!("baseline:{created}"),
            json!({
                "reason": reason, "paths": config.paths, "include": config.include, "exclude": config.exclude, "hash": config.hash.name(),
                "entries": report.entries, "bytes_hashed": report.bytes_hashed,
                "unreadable": report.problems.len(), "unreadable_sample": problems,
            }),
        );
        self.emitted_through = None;
        Ok(())
    }
}

impl Module for FimModule {
    fn name(&self) -> &'static str {
        "fim"
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        let config = config_of(run)?;
        let path = database(run.state_dir);
        let mut baseline = match Baseline::open(&path) {
            Ok(baseline) => baseline,
            Err(_) if !path.exists() => return self.record_baseline(run, &config, "first run"),
            Err(error) => {
                // A damaged baseline is replaced; the summary says why.
                let reason = format!("the previous baseline was unusable: {error}");
                return self.record_baseline(run, &config, &reason);
            }
        };
        let recorded = baseline.config().map_err(fim_error)?;
        if !same_selection(&recorded, &config) {
            drop(baseline);
            return self.record_baseline(run, &config, "the policy's paths, globs or hash changed");
        }
        let nonce = baseline.meta("agent_baseline").map_err(fim_error)?.unwrap_or_else(|| "baseline".to_string());
        let root = run.host_root();
        let audit = super::audit::AuditLog::read(&root.join(b"/var/log/audit/audit.log"), &root).ok();
        let outcome = {
            let mut between_chunks = |_changes: u64| {
                run.budget.pace();
                if run.should_stop() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            };
            super::rescan(&root, &mut baseline, &config, audit.as_ref(), &mut between_chunks).map_err(fim_error)?
        };
        let max: usize = run.settings.get("max_events_per_run").unwrap_or(DEFAULT_MAX_EVENTS);
        let changes = baseline.changes_after(0, max).map_err(fim_error)?;
        for (id, change) in &changes {
            run.emit("change", format!("{nonce}:{id}"), change.clone());
        }
        self.emitted_through = changes.last().map(|(id, _)| *id);
        if let RescanOutcome::Completed { report_problems, .. } = outcome
            && report_problems > 0
        {
            return Err(ModuleError::Other(format!("fim: {report_problems} paths could not be read in the last rescan (their entries are kept)")));
        }
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        if let Some(id) = self.emitted_through.take() {
            Baseline::open(&database(state_dir)).and_then(|baseline| baseline.acknowledge(id)).map_err(fim_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::module::ModuleSettings;

    fn settings(paths: &[&str]) -> ModuleSettings {
        let raw = json!({"enabled": true, "paths": paths, "io_bytes_per_second": 1u64 << 40, "cpu_percent": 100});
        ModuleSettings::from_map(raw.as_object().unwrap())
    }

    fn run_once(module: &mut FimModule, settings: &ModuleSettings, state: &Path, root: &Path) -> Vec<crate::module::Emitted> {
        let stop = AtomicBool::new(false);
        let mut run = Run::new(settings, state, root, &stop);
        module.run(&mut run).unwrap();
        let emitted = run.take_emitted();
        module.committed(state).unwrap();
        emitted
    }

    #[test]
    fn the_first_run_records_a_baseline_and_later_runs_emit_each_change_once() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        std::fs::write(root.path().join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
        let settings = settings(&["/etc"]);
        let mut module = FimModule::default();
        let first = run_once(&mut module, &settings, state.path(), root.path());
        assert_eq!(first.len(), 1, "{first:?}");
        assert_eq!(first[0].kind, "baseline");
        assert_eq!(first[0].payload["entries"], 3, "/etc and its two files");
        assert!(run_once(&mut module, &settings, state.path(), root.path()).is_empty(), "no change, no event");

        std::fs::write(root.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n").unwrap();
        std::fs::write(root.path().join("etc/new"), "x").unwrap();
        std::fs::remove_file(root.path().join("etc/hosts")).unwrap();
        // A new module value (an agent restart) keeps the baseline.
        let mut restarted = FimModule::default();
        let changes = run_once(&mut restarted, &settings, state.path(), root.path());
        let mut seen: Vec<(String, String)> =
            changes.iter().map(|event| (event.payload["path"].as_str().unwrap().to_string(), event.payload["change"].as_str().unwrap().to_string())).collect();
        seen.sort();
        assert_eq!(
            seen,
            [("/etc/hosts", "removed"), ("/etc/new", "added"), ("/etc/passwd", "modified")].map(|(path, change)| (path.to_string(), change.to_string()))
        );
        assert!(changes.iter().all(|event| event.kind == "change"));
        let passwd = changes.iter().find(|event| event.payload["path"] == "/etc/passwd").unwrap();
        assert!(passwd.payload["fields"].as_array().unwrap().contains(&json!("content")), "{}", passwd.payload);
        assert!(run_once(&mut restarted, &settings, state.path(), root.path()).is_empty(), "reported once");
    }

    #[test]
    fn changes_not_yet_queued_are_emitted_again_after_a_restart() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        let settings = settings(&["/etc"]);
        run_once(&mut FimModule::default(), &settings, state.path(), root.path());
        std::fs::write(root.path().join("etc/dropped"), "x").unwrap();
        // A run whose events never reached the queue (killed before `committed`).
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state.path(), root.path(), &stop);
        FimModule::default().run(&mut run).unwrap();
        let lost = run.take_emitted();
        assert_eq!(lost.len(), 1);
        let again = run_once(&mut FimModule::default(), &settings, state.path(), root.path());
        assert_eq!(again.len(), 1, "{again:?}");
        assert_eq!(again[0].id, lost[0].id, "the same change keeps its id");
    }

    #[test]
    fn a_new_path_in_the_policy_records_a_new_baseline() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(root.path().join("boot")).unwrap();
        run_once(&mut FimModule::default(), &settings(&["/etc"]), state.path(), root.path());
        let widened = run_once(&mut FimModule::default(), &settings(&["/etc", "/boot"]), state.path(), root.path());
        assert_eq!(widened.len(), 1);
        assert_eq!(widened[0].kind, "baseline");
        assert!(widened[0].payload["reason"].as_str().unwrap().contains("changed"), "{}", widened[0].payload);
    }
}
