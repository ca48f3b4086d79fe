//! The `logs` host module: the agent's log collection and detections over this module's
//! functions. Each run reads what is new in the text logs ([`Collector`]: `auth.log`, `secure`,
//! `syslog`, `messages`, `audit/audit.log` under the root, or the policy's `files`) and in the
//! journal (`journalctl -o json` after the saved cursor; the system's journal on a live host, the
//! root's `/var/log/journal` otherwise), runs the built-in host detections and any Sigma rules
//! the policy names ([`detect`](super::detect)) and emits one `alert` per match with the raw
//! record, correlation alerts (brute force, success after failures) as `alert` too, and, when
//! `records: true` or the server evaluates (`detect: server` or `both`), every record as a
//! `record` event; with `detect: server` the agent evaluates nothing. Positions (file inode/offset/fingerprint,
//! journal cursor) are saved in the state directory only once the run's events are queued
//! ([`Module::committed`]), so nothing is skipped across restarts and rotations.

use std::collections::{BTreeSet, VecDeque};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use vigil_trail::sigma::RuleSet;
use vigil_trail::sigma::correlation::CorrelationHit;

use super::detect::{self, DetectAt, Detector};
use super::{Collector, FileSource, LogRecord, Positions, journal};
use crate::module::{Module, ModuleError, Run};

/// Bytes read from one file per run by default (a catch-up continues at the next run).
pub const DEFAULT_MAX_BYTES_PER_RUN: u64 = 8 * 1024 * 1024;
/// Journal entries read per run by default.
pub const DEFAULT_MAX_JOURNAL_RECORDS: usize = 50_000;

/// The log module: its compiled rules and the correlation state across runs.
#[derive(Default)]
pub struct LogsModule {
    rules: Option<(Vec<String>, RuleSet)>,
    hits: Vec<CorrelationHit>,
    /// Correlation alerts already emitted (id), oldest first.
    correlated: VecDeque<String>,
    pending: Option<Positions>,
}

impl std::fmt::Debug for LogsModule {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("LogsModule").field("hits", &self.hits.len()).finish()
    }
}

fn positions_file(state_dir: &Path) -> PathBuf {
    state_dir.join("positions.json")
}

fn logs_error(error: impl std::fmt::Display) -> ModuleError {
    ModuleError::Other(format!("logs: {error}"))
}

impl LogsModule {
    /// Compiles the rules when the policy's rule paths changed (or on the first run).
    fn load_rules(&mut self, paths: Vec<String>, builtin: bool) -> Result<(), ModuleError> {
        let key: Vec<String> = paths.iter().cloned().chain([builtin.to_string()]).collect();
        if self.rules.as_ref().is_none_or(|(loaded, _)| *loaded != key) {
            let paths: Vec<&Path> = paths.iter().map(Path::new).collect();
            let (set, _rejected) = detect::load(&paths, builtin).map_err(logs_error)?;
            self.rules = Some((key, set));
            self.hits.clear();
        }
        Ok(())
    }
}

impl LogsModule {
    /// The alert events of `records` (one per rule and record), then the correlation alerts
    /// over this run's hits and the last hour's, each correlation alert once.
    fn detect(&mut self, run: &mut Run<'_>, records: &[LogRecord]) -> Result<Vec<(String, serde_json::Value)>, ModuleError> {
        let Some((_, set)) = self.rules.as_ref() else { return Err(logs_error("the rules did not load")) };
        let mut detector = Detector::default();
        detector.hits = std::mem::take(&mut self.hits);
        let mut emitted_correlations = std::mem::take(&mut self.correlated);
        let mut alerts = Vec::new();
        for (index, record) in records.iter().enumerate() {
            for alert in detector.check(set, record) {
                alerts.push(detect::alert_event(&alert, record));
            }
            if index % 256 == 0 {
                run.budget.pace();
            }
        }
        let newest = detector.hits.iter().map(|hit| hit.time_ms).max().unwrap_or(0);
        detector.hits.retain(|hit| hit.time_ms >= newest - detect::CORRELATION_MEMORY_MS);
        let mut correlated: BTreeSet<String> = emitted_correlations.iter().cloned().collect();
        for alert in detector.correlations(set) {
            let Some((id, payload)) = detect::correlation_event(set, &alert) else { continue };
            if !correlated.insert(id.clone()) {
                continue;
            }
            emitted_correlations.push_back(id.clone());
            alerts.push((id, payload));
        }
        while emitted_correlations.len() > 10_000 {
            emitted_correlations.pop_front();
        }
        self.correlated = emitted_correlations;
        self.hits = detector.hits;
        Ok(alerts)
    }
}

/// How much one run of a log-reading module reads.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Bytes per file and run.
    pub max_bytes: u64,
    /// Whether the journal is read (the system journal on a live host, the root's
    /// `/var/log/journal` under `--root`).
    pub journal: bool,
    /// Journal records per run.
    pub max_journal: usize,
}

/// The records that `files` and (with `limits.journal`) the journal hold after `positions`,
/// with the positions after them, the bytes read charged to the run's I/O budget: the one
/// reading of the logs the `logs` and `ips` modules both do. What could not be read goes to
/// `problems`; the positions are the caller's to save once its events are queued.
pub fn read_new(
    run: &mut Run<'_>,
    files: Vec<FileSource>,
    positions: Positions,
    limits: ReadLimits,
    problems: &mut Vec<String>,
) -> (Vec<LogRecord>, Positions) {
    let root = run.host_root();
    let mut collector = Collector::new(files, positions);
    collector.max_bytes_per_poll = limits.max_bytes;
    let mut batch = collector.poll();
    problems.append(&mut batch.problems);
    let read_bytes: u64 = batch
        .positions
        .files
        .iter()
        .map(|(key, position)| position.offset.saturating_sub(collector.positions.files.get(key).map_or(0, |old| old.offset)))
        .sum();
    run.budget.charge_io(read_bytes);
    let mut records = std::mem::take(&mut batch.records);
    let mut positions = batch.positions;
    let journal_directory = if root.is_live() { None } else { Some(root.join(b"/var/log/journal")) };
    if limits.journal && journal_directory.as_ref().is_none_or(|directory| directory.is_dir()) {
        match journal::spawn(positions.journal_cursor.as_deref(), false, journal_directory.as_deref()) {
            Ok(mut child) => {
                let mut read = 0usize;
                let result = journal::read(&mut child, &mut |record, cursor| {
                    records.push(record);
                    positions.journal_cursor = Some(cursor);
                    read += 1;
                    if read >= limits.max_journal { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                });
                let _ = child.kill();
                let _ = child.wait();
                if let Err(error) = result {
                    problems.push(format!("reading journalctl's output: {error}"));
                }
            }
            Err(error) => problems.push(format!("cannot run `journalctl`: {error}")),
        }
    }
    (records, positions)
}

impl Module for LogsModule {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        let settings = run.settings;
        let detect_at = DetectAt::parse(settings.raw.get("detect")).map_err(logs_error)?;
        // The server's detections need every record.
        let ship_records = settings.get("records").unwrap_or(false) || detect_at.ships_records();
        let use_journal: bool = settings.get("journal").unwrap_or(true);
        let max_bytes: u64 = settings.get("max_bytes_per_run").unwrap_or(DEFAULT_MAX_BYTES_PER_RUN);
        let max_journal: usize = settings.get("max_journal_records_per_run").unwrap_or(DEFAULT_MAX_JOURNAL_RECORDS);
        let rule_paths: Vec<String> = settings.get("rules").unwrap_or_default();
        let builtin: bool = settings.get("builtin_rules").unwrap_or(true);
        let root = run.host_root();
        let files: Vec<FileSource> = match settings.get::<Vec<String>>("files") {
            Some(files) => files.iter().map(|inner| root.join(inner.as_bytes())).filter(|path| path.exists()).map(FileSource::new).collect(),
            None => super::default_files(&root),
        };
        let positions = Positions::load(&positions_file(run.state_dir)).map_err(logs_error)?;
        let mut problems = Vec::new();
        let (records, positions) = read_new(run, files, positions, ReadLimits { max_bytes, journal: use_journal, max_journal }, &mut problems);
        let alerts = if detect_at.on_agent() {
            self.load_rules(rule_paths, builtin)?;
            self.detect(run, &records)?
        } else {
            Vec::new()
        };
        for (id, payload) in alerts {
            run.emit("alert", id, payload);
        }
        if ship_records {
            for record in &records {
                run.emit("record", detect::alert_id("record", record), record.to_json());
            }
        }
        self.pending = Some(positions);
        if !problems.is_empty() {
            return Err(logs_error(problems.join("; ")));
        }
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        if let Some(positions) = self.pending.take() {
            positions.save(&positions_file(state_dir)).map_err(logs_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use serde_json::json;

    use super::*;
    use crate::module::ModuleSettings;

    /// Twelve failed SSH logins from one address in 24 seconds (the brute force rule needs ten
    /// in five minutes).
    fn failures() -> String {
        (0..12)
            .map(|index| format!("May  4 10:00:{:02} web1 sshd[812]: Failed password for root from 198.51.100.7 port {} ssh2\n", index * 2, 50_000 + index))
            .collect()
    }

    fn run_once(module: &mut LogsModule, state: &Path, root: &Path, commit: bool) -> Vec<crate::module::Emitted> {
        run_with(module, state, root, commit, json!({}))
    }

    fn run_with(module: &mut LogsModule, state: &Path, root: &Path, commit: bool, extra: serde_json::Value) -> Vec<crate::module::Emitted> {
        let mut raw = json!({"enabled": true, "journal": false, "cpu_percent": 100});
        raw.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let settings = ModuleSettings::from_map(raw.as_object().unwrap());
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state, root, &stop);
        module.run(&mut run).unwrap();
        let emitted = run.take_emitted();
        if commit {
            module.committed(state).unwrap();
        }
        emitted
    }

    #[test]
    fn ssh_failures_in_auth_log_become_alerts_with_the_raw_line_once() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("var/log")).unwrap();
        std::fs::write(root.path().join("var/log/auth.log"), failures()).unwrap();
        let mut module = LogsModule::default();
        let alerts = run_once(&mut module, state.path(), root.path(), true);
        assert!(alerts.iter().all(|event| event.kind == "alert"));
        let failures: Vec<_> = alerts.iter().filter(|event| event.payload["rule_id"] == detect::SSH_AUTH_FAILURE_RULE).collect();
        assert_eq!(failures.len(), 12, "{alerts:#?}");
        assert!(failures[0].payload["raw"].as_str().unwrap().contains("Failed password for root from 198.51.100.7"), "{}", failures[0].payload);
        assert!(alerts.iter().any(|event| event.payload["correlation"] == true), "the brute force correlation fires: {alerts:#?}");
        assert!(run_once(&mut module, state.path(), root.path(), true).is_empty(), "nothing read twice");
        // A restarted agent resumes at the saved position.
        let mut file = std::fs::OpenOptions::new().append(true).open(root.path().join("var/log/auth.log")).unwrap();
        std::io::Write::write_all(
            &mut file,
            b"May  4 10:01:00 web1 sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh\n",
        )
        .unwrap();
        let after = run_once(&mut LogsModule::default(), state.path(), root.path(), true);
        assert_eq!(after.len(), 1, "{after:#?}");
        assert!(after[0].payload["rule_title"].as_str().unwrap().to_lowercase().contains("sudo"), "{}", after[0].payload);
    }

    #[test]
    fn detect_server_ships_every_record_and_evaluates_none_and_both_does_both_with_the_same_ids() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("var/log")).unwrap();
        std::fs::write(root.path().join("var/log/auth.log"), failures()).unwrap();
        let server = run_with(&mut LogsModule::default(), state.path(), root.path(), false, json!({"detect": "server"}));
        assert_eq!(server.len(), 12, "{server:#?}");
        assert!(server.iter().all(|event| event.kind == "record"));
        let record = LogRecord::from_json(&server[0].payload).unwrap();
        assert_eq!(record.field("source_ip"), Some("198.51.100.7"), "the record ships whole: {}", server[0].payload);
        assert_eq!(server[0].id, detect::alert_id("record", &record), "the id is the record's");

        let both = run_with(&mut LogsModule::default(), state.path(), root.path(), false, json!({"detect": "both"}));
        let kinds = |kind: &str| both.iter().filter(|event| event.kind == kind).count();
        assert_eq!(kinds("record"), 12);
        assert!(kinds("alert") > 12, "twelve failures and the correlations: {both:#?}");
        let agent = run_with(&mut LogsModule::default(), state.path(), root.path(), false, json!({}));
        assert!(agent.iter().all(|event| event.kind == "alert"), "the default is `agent`: no records");
        let alert_ids =
            |events: &[crate::module::Emitted]| events.iter().filter(|event| event.kind == "alert").map(|event| event.id.clone()).collect::<BTreeSet<_>>();
        assert_eq!(alert_ids(&both), alert_ids(&agent));

        let stop = AtomicBool::new(false);
        let settings = ModuleSettings::from_map(json!({"enabled": true, "journal": false, "detect": "everywhere"}).as_object().unwrap());
        let mut run = Run::new(&settings, state.path(), root.path(), &stop);
        let error = LogsModule::default().run(&mut run).unwrap_err().to_string();
        assert!(error.contains("`detect: \"everywhere\"` must be `agent`, `server` or `both`"), "{error}");
    }

    #[test]
    fn records_of_a_run_not_committed_are_read_again() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("var/log")).unwrap();
        std::fs::write(root.path().join("var/log/auth.log"), failures()).unwrap();
        let first = run_once(&mut LogsModule::default(), state.path(), root.path(), false);
        let again = run_once(&mut LogsModule::default(), state.path(), root.path(), true);
        let ids = |events: &[crate::module::Emitted]| events.iter().map(|event| event.id.clone()).collect::<BTreeSet<_>>();
        assert_eq!(ids(&first), ids(&again), "same alerts, same ids");
    }
}
