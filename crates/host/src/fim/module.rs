//! The `fim` host module: the agent's integrity monitoring over this module's functions. The
//! first run records a baseline of the policy's paths in the module's state directory
//! (`baseline.db`, written aside and renamed into place, so an agent killed while recording
//! starts over rather than trusting half a baseline) and emits one `baseline` summary. Each
//! later run is a [`rescan`](super::rescan): every change goes to the baseline's outbox in the
//! transaction that updates its entry (a rescan killed midway resumes), then the outbox is
//! emitted as `change` events (the fields of `vigil host fim check --format json`) and
//! acknowledged only once the runner has queued them ([`Module::committed`]). A change of the
//! policy's paths, globs, hash or xattrs setting records a new baseline.
//!
//! Between runs the module watches its paths with inotify ([`Module::watch`], unless the policy
//! says `realtime: false`): each batch of events is compared and written to the same outbox
//! ([`apply_paths`](super::apply_paths)), emitted as the same `change` events, and acknowledged
//! once the runner has queued them. The watcher is made before each run's rescan and kept, so
//! nothing changes unseen between a rescan and the watch. When the kernel's event queue
//! overflows the watch ends with [`Watched::Lost`] (the runner rescans now and notes why); when
//! the watch limit leaves directories unwatched the module is degraded (its health says which
//! and why) and rescans every `rescan_seconds_when_unwatched` (default 1 h).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use super::watch::{WatchBatch, Watcher};
use super::{Baseline, FimConfig, HashAlgorithm, RescanOutcome};
use crate::module::{Module, ModuleError, ModuleSettings, Run, WatchSink, Watched};
use crate::rate::RateLimit;

/// The paths watched when the policy names none.
pub const DEFAULT_PATHS: &[&str] = &["/etc", "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/boot"];

/// Changes emitted by one run at most (the rest stay in the outbox for the next run).
pub const DEFAULT_MAX_EVENTS: usize = 10_000;

/// Rescans come this often while the watch limit leaves directories unwatched.
pub const DEFAULT_RESCAN_SECONDS_WHEN_UNWATCHED: u64 = 3600;

/// The integrity-monitoring module.
#[derive(Debug, Default)]
pub struct FimModule {
    /// The highest outbox id emitted by the last run, acknowledged in [`Module::committed`].
    emitted_through: Option<i64>,
    /// The inotify watcher and the configuration it watches (real time on).
    watcher: Option<(Watcher, FimConfig)>,
    /// When the last run started.
    last_run: Option<Instant>,
}

/// Whether the module watches in real time between runs (`realtime`, default on).
fn realtime(settings: &ModuleSettings) -> bool {
    settings.get("realtime").unwrap_or(true)
}

/// At most this many inotify watches (`max_watches`; default: as many as the kernel allows).
fn max_watches(settings: &ModuleSettings) -> Option<usize> {
    settings.get("max_watches")
}

/// The module's configuration from its policy settings (`paths`, `include`, `exclude`,
/// `hash`, `xattrs`; `io_bytes_per_second` paces the hashing).
pub fn config_of(run: &Run<'_>) -> Result<FimConfig, ModuleError> {
    let settings = run.settings;
    for (key, kind, valid) in [
        ("realtime", "a boolean", settings.raw.get("realtime").is_none_or(serde_json::Value::is_boolean)),
        ("max_watches", "a positive integer", settings.raw.get("max_watches").is_none_or(|value| value.as_u64().is_some_and(|number| number > 0))),
        ("rescan_seconds_when_unwatched", "an integer", settings.raw.get("rescan_seconds_when_unwatched").is_none_or(|value| value.as_u64().is_some())),
    ] {
        if !valid {
            return Err(ModuleError::Other(format!("fim: `{key}` must be {kind}")));
        }
    }
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
    /// Makes the watcher for `config` unless the one kept already watches it. Called before a
    /// run's rescan so that what changes during and after it is seen; a failure leaves no
    /// watcher ([`Module::watch`] tries again and reports it).
    fn prepare_watcher(&mut self, run: &Run<'_>, config: &FimConfig) {
        if !realtime(run.settings) {
            self.watcher = None;
            return;
        }
        if self.watcher.as_ref().is_some_and(|(_, watched)| same_selection(watched, config)) {
            return;
        }
        self.watcher = Watcher::with_limit(&run.host_root(), config, max_watches(run.settings)).ok().map(|watcher| (watcher, config.clone()));
    }

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
        self.last_run = Some(Instant::now());
        self.prepare_watcher(run, &config);
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
        self.emitted_through = emit_outbox(run, &baseline, &nonce)?.map(|(last, _)| last);
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

    fn watch(&mut self, run: &mut Run<'_>, until: Instant, sink: &mut dyn WatchSink) -> Result<Watched, ModuleError> {
        if !realtime(run.settings) {
            self.watcher = None;
            return Ok(Watched::NotWatching);
        }
        // A setting that is not understood fails the run, which says why.
        let Ok(config) = config_of(run) else { return Ok(Watched::NotWatching) };
        let root = run.host_root();
        match &self.watcher {
            Some((_, watched)) if same_selection(watched, &config) => {}
            // A new selection: the run records a new baseline and watches it.
            Some(_) => return Ok(Watched::RunNow),
            None => {
                let watcher = Watcher::with_limit(&root, &config, max_watches(run.settings))
                    .map_err(|error| fim_error(format!("real-time events are off, changes are found by the scheduled rescans only: {error}")))?;
                self.watcher = Some((watcher, config));
                // What changed before the watch began is found by a rescan.
                return Ok(Watched::RunNow);
            }
        }
        // Without a usable baseline of this selection there is nothing to compare with: the
        // next run records one (its health says why it could not).
        let Ok(mut baseline) = Baseline::open(&database(run.state_dir)) else { return Ok(Watched::NotWatching) };
        if !baseline.config().is_ok_and(|recorded| same_selection(&recorded, &config)) {
            return Ok(Watched::NotWatching);
        }
        let nonce = baseline.meta("agent_baseline").map_err(fim_error)?.unwrap_or_else(|| "baseline".to_string());
        let unwatched_every = Duration::from_secs(run.settings.get("rescan_seconds_when_unwatched").unwrap_or(DEFAULT_RESCAN_SECONDS_WHEN_UNWATCHED));
        let last_run = self.last_run;
        let Some((watcher, _)) = self.watcher.as_mut() else { return Ok(Watched::NotWatching) };
        // Changes an earlier delivery could not queue.
        deliver_outbox(run, &baseline, &nonce, sink)?;
        let mut noted_unwatched = 0;
        while sink.active() {
            let mut deadline = until;
            if watcher.unwatched > 0 {
                if watcher.unwatched != noted_unwatched {
                    noted_unwatched = watcher.unwatched;
                    let reason = watcher.unwatched_reason.as_deref().unwrap_or("the inotify watch limit is reached");
                    sink.degraded(&format!(
                        "{noted_unwatched} directories are not watched in real time ({reason}); rescans every {} s cover them",
                        unwatched_every.as_secs()
                    ));
                }
                if let Some(last_run) = last_run {
                    deadline = deadline.min(last_run + unwatched_every);
                }
            }
            if Instant::now() >= deadline {
                return Ok(if deadline < until { Watched::RunNow } else { Watched::Ended });
            }
            match watcher.wait(Duration::from_millis(500)) {
                WatchBatch::Nothing => {}
                WatchBatch::Rescan(reason) => return Ok(Watched::Lost(reason)),
                WatchBatch::Paths(mut paths) => {
                    if let Some(own) = sink.own_state_dir() {
                        paths.retain(|inner| !run.host_path(&String::from_utf8_lossy(inner)).starts_with(own));
                        if paths.is_empty() {
                            continue;
                        }
                    }
                    run.budget.resume();
                    let audit = super::audit::AuditLog::read(&root.join(b"/var/log/audit/audit.log"), &root).ok();
                    let changes = match super::apply_paths(&root, &mut baseline, &config, &paths, audit.as_ref()) {
                        Ok(changes) => changes,
                        Err(error) => return Ok(Watched::Lost(format!("real-time changes could not be compared: {error}"))),
                    };
                    let hashed: u64 =
                        changes.iter().filter_map(|change| change.after.as_ref()).filter(|entry| entry.hash.is_some()).map(|entry| entry.size).sum();
                    run.budget.charge_io(hashed);
                    deliver_outbox(run, &baseline, &nonce, sink)?;
                    run.budget.pace();
                }
            }
        }
        Ok(Watched::Ended)
    }
}

/// The file a `change` event reports written: added, or modified in its content (a new
/// directory, a removal or a change of mode or owner only is none). The agent's runner hands
/// these to the malware module's on-access scans.
pub fn written_file(event: &crate::module::Emitted) -> Option<crate::module::WrittenFile> {
    if event.kind != "change" {
        return None;
    }
    let payload = &event.payload;
    let regular = payload.pointer("/after/type").and_then(serde_json::Value::as_str).is_none_or(|kind| kind == "file");
    let written = match payload.get("change").and_then(serde_json::Value::as_str) {
        Some("added") => true,
        Some("modified") => payload.get("fields").and_then(serde_json::Value::as_array).is_some_and(|fields| fields.iter().any(|field| field == "content")),
        _ => false,
    };
    if !written || !regular {
        return None;
    }
    Some(crate::module::WrittenFile {
        path: payload.get("path").and_then(serde_json::Value::as_str)?.to_string(),
        actor: payload.get("actor").cloned(),
        seen_by: "fim".to_string(),
    })
}

/// Emits the outbox's first changes (at most `max_events_per_run`) as `change` events; returns
/// the last id emitted and how many were.
fn emit_outbox(run: &mut Run<'_>, baseline: &Baseline, nonce: &str) -> Result<Option<(i64, usize)>, ModuleError> {
    let max: usize = run.settings.get("max_events_per_run").unwrap_or(DEFAULT_MAX_EVENTS).max(1);
    let changes = baseline.changes_after(0, max).map_err(fim_error)?;
    for (id, change) in &changes {
        run.emit("change", format!("{nonce}:{id}"), change.clone());
    }
    Ok(changes.last().map(|(id, _)| (*id, changes.len())))
}

/// Emits the whole outbox through `sink` and acknowledges what it queued. What it could not
/// queue stays in the outbox (for the next delivery or run).
fn deliver_outbox(run: &mut Run<'_>, baseline: &Baseline, nonce: &str, sink: &mut dyn WatchSink) -> Result<(), ModuleError> {
    let max: usize = run.settings.get("max_events_per_run").unwrap_or(DEFAULT_MAX_EVENTS).max(1);
    while let Some((last, count)) = emit_outbox(run, baseline, nonce)? {
        if !sink.deliver(run.take_emitted()) {
            return Ok(());
        }
        baseline.acknowledge(last).map_err(fim_error)?;
        if count < max {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::module::ModuleSettings;

    fn settings(paths: &[&str]) -> ModuleSettings {
        settings_with(paths, json!({}))
    }

    fn settings_with(paths: &[&str], extra: serde_json::Value) -> ModuleSettings {
        let mut raw = json!({"enabled": true, "paths": paths, "io_bytes_per_second": 1u64 << 40, "cpu_percent": 100});
        raw.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        ModuleSettings::from_map(raw.as_object().unwrap())
    }

    /// The runner's side of a watch in tests: keeps what was delivered, and stays active until
    /// `enough` says so (or a generous minute passed, so that a failing test ends).
    struct Collect<'a> {
        queue_works: bool,
        delivered: Vec<crate::module::Emitted>,
        attempts: usize,
        degraded: Vec<String>,
        enough: &'a dyn Fn(&Collect<'_>) -> bool,
        started: std::time::Instant,
        own_state_dir: Option<PathBuf>,
    }

    impl<'a> Collect<'a> {
        fn new(queue_works: bool, enough: &'a dyn Fn(&Collect<'_>) -> bool) -> Collect<'a> {
            Collect { queue_works, delivered: Vec::new(), attempts: 0, degraded: Vec::new(), enough, started: std::time::Instant::now(), own_state_dir: None }
        }
    }

    impl WatchSink for Collect<'_> {
        fn active(&self) -> bool {
            !(self.enough)(self) && self.started.elapsed() < Duration::from_secs(60)
        }
        fn deliver(&mut self, events: Vec<crate::module::Emitted>) -> bool {
            self.attempts += 1;
            if self.queue_works {
                self.delivered.extend(events.clone());
            }
            self.queue_works
        }
        fn degraded(&mut self, reason: &str) {
            self.degraded.push(reason.to_string());
        }
        fn own_state_dir(&self) -> Option<&Path> {
            self.own_state_dir.as_deref()
        }
    }

    fn watch(module: &mut FimModule, settings: &ModuleSettings, state: &Path, root: &Path, sink: &mut Collect<'_>) -> Watched {
        let stop = AtomicBool::new(false);
        let mut run = Run::new(settings, state, root, &stop);
        // The next scheduled run is hours away: whatever arrives comes from the watch.
        module.watch(&mut run, Instant::now() + Duration::from_secs(6 * 3600), sink).unwrap()
    }

    fn last_change_per_path(events: &[crate::module::Emitted]) -> std::collections::BTreeMap<String, String> {
        events.iter().map(|event| (event.payload["path"].as_str().unwrap().to_string(), event.payload["change"].as_str().unwrap().to_string())).collect()
    }

    #[test]
    fn between_runs_the_watch_reports_a_modified_and_a_created_file_as_change_events() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        let settings = settings(&["/etc"]);
        let mut module = FimModule::default();
        assert_eq!(run_once(&mut module, &settings, state.path(), root.path())[0].kind, "baseline");

        std::fs::write(root.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n").unwrap();
        std::fs::write(root.path().join("etc/new"), "x").unwrap();
        let both = |sink: &Collect<'_>| {
            let seen = last_change_per_path(&sink.delivered);
            seen.contains_key("/etc/passwd") && seen.contains_key("/etc/new")
        };
        let mut sink = Collect::new(true, &both);
        assert_eq!(watch(&mut module, &settings, state.path(), root.path(), &mut sink), Watched::Ended);
        let seen = last_change_per_path(&sink.delivered);
        assert_eq!(seen.get("/etc/passwd").map(String::as_str), Some("modified"), "{:?}", sink.delivered);
        assert_eq!(seen.get("/etc/new").map(String::as_str), Some("added"), "{:?}", sink.delivered);
        assert!(sink.delivered.iter().all(|event| event.kind == "change"));
        assert!(sink.degraded.is_empty(), "{:?}", sink.degraded);
        assert!(run_once(&mut module, &settings, state.path(), root.path()).is_empty(), "acknowledged once queued: the rescan reports nothing again");
    }

    #[test]
    fn a_watched_change_the_queue_did_not_take_is_emitted_once_after_a_restart() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        let settings = settings(&["/etc"]);
        let mut module = FimModule::default();
        run_once(&mut module, &settings, state.path(), root.path());
        std::fs::write(root.path().join("etc/dropped"), "x").unwrap();
        let tried = |sink: &Collect<'_>| sink.attempts > 0;
        let mut sink = Collect::new(false, &tried);
        watch(&mut module, &settings, state.path(), root.path(), &mut sink);
        assert_eq!(sink.attempts, 1);
        // The agent is killed before the change reached the queue; it starts again.
        drop(module);
        let mut restarted = FimModule::default();
        let again = run_once(&mut restarted, &settings, state.path(), root.path());
        assert_eq!(last_change_per_path(&again), [("/etc/dropped".to_string(), "added".to_string())].into());
        assert!(run_once(&mut restarted, &settings, state.path(), root.path()).is_empty(), "emitted once");
    }

    #[test]
    fn directories_beyond_the_watch_limit_make_the_module_degraded_and_bring_rescans_forward() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc/a/b")).unwrap();
        let settings = settings_with(&["/etc"], json!({"max_watches": 1, "rescan_seconds_when_unwatched": 0}));
        let mut module = FimModule::default();
        run_once(&mut module, &settings, state.path(), root.path());
        let never = |_: &Collect<'_>| false;
        let mut sink = Collect::new(true, &never);
        assert_eq!(watch(&mut module, &settings, state.path(), root.path(), &mut sink), Watched::RunNow, "the rescan is due");
        assert_eq!(sink.degraded.len(), 1, "{:?}", sink.degraded);
        assert!(sink.degraded[0].starts_with("2 directories are not watched"), "{}", sink.degraded[0]);
        assert!(sink.degraded[0].contains("watch limit"), "{}", sink.degraded[0]);
    }

    #[test]
    fn the_watch_ignores_the_agents_own_state_directory_so_its_queue_does_not_report_itself() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc/agent")).unwrap();
        let settings = settings(&["/etc"]);
        let mut module = FimModule::default();
        run_once(&mut module, &settings, state.path(), root.path());
        std::fs::write(root.path().join("etc/agent/queue.db"), "events").unwrap();
        std::fs::write(root.path().join("etc/real"), "x").unwrap();
        let real = |sink: &Collect<'_>| last_change_per_path(&sink.delivered).contains_key("/etc/real");
        let mut sink = Collect::new(true, &real);
        sink.own_state_dir = Some(root.path().join("etc/agent"));
        watch(&mut module, &settings, state.path(), root.path(), &mut sink);
        assert_eq!(last_change_per_path(&sink.delivered), [("/etc/real".to_string(), "added".to_string())].into());
    }

    #[test]
    fn a_realtime_setting_that_is_not_a_boolean_fails_the_run_rather_than_being_guessed() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let settings = settings_with(&["/etc"], json!({"realtime": "no"}));
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state.path(), root.path(), &stop);
        let error = FimModule::default().run(&mut run).unwrap_err();
        assert_eq!(error.to_string(), "fim: `realtime` must be a boolean");
    }

    #[test]
    fn realtime_false_in_the_policy_leaves_only_the_scheduled_rescans() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        let settings = settings_with(&["/etc"], json!({"realtime": false}));
        let mut module = FimModule::default();
        run_once(&mut module, &settings, state.path(), root.path());
        let never = |_: &Collect<'_>| false;
        let mut sink = Collect::new(true, &never);
        assert_eq!(watch(&mut module, &settings, state.path(), root.path(), &mut sink), Watched::NotWatching);
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
