//! The interface between a host module and whatever runs it (`vigil-agent`'s runner, or a
//! one-shot `vigil host ...` command): a module is a value implementing [`Module`]; each
//! [`Module::run`] reads its settings from the effective host policy ([`Run::settings`]),
//! does bounded work (charging its reads and CPU to [`Run::budget`]), and emits typed events
//! ([`Run::emit`]: kind, stable id, JSON payload). The runner wraps each event in the wire
//! envelope (`vigil_fleet::Event`: module name, kind, id, time, payload), writes a run's events
//! to the agent's on-disk queue as one fsync'd batch, and reports the module's health in the
//! heartbeat. Nothing here knows about HTTP, the queue or the server. See docs/agent.md.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

pub use vigil_fleet::ModuleSettings;
pub use vigil_fleet::wire::AgentCommand;

/// What went wrong in a module's run (reported in its health; the next run is tried at its
/// next interval).
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Other(String),
}

/// A host module. Implementations are plain values; the runner calls `run` on its own thread,
/// at the module's `interval_seconds`, while the policy enables it, and `watch` in between.
pub trait Module: Send {
    /// The module's name: its section in the host policy (`inventory`, `fim`, `logs`, ...).
    fn name(&self) -> &'static str;

    /// One run. Events emitted before an error are kept and sent.
    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError>;

    /// Called once the run's events are durably queued (or the run emitted none): a module
    /// that keeps a position or an outbox (log offsets, integrity changes) moves it here, so
    /// an agent killed between the run and the queue write reports those events again rather
    /// than never. Not called when the queue write failed.
    fn committed(&mut self, _state_dir: &Path) -> Result<(), ModuleError> {
        Ok(())
    }

    /// Real-time work between scheduled runs (`fim`'s inotify events): called by the runner
    /// instead of sleeping until the next run is due at `until`. The module returns by then, or
    /// soon after [`WatchSink::active`] turns false (the agent stops, or a new policy arrived).
    /// Each batch of events goes through [`WatchSink::deliver`], which queues it durably; the
    /// module then acknowledges it, as in [`Module::committed`]. The default does not watch.
    fn watch(&mut self, _run: &mut Run<'_>, _until: Instant, _sink: &mut dyn WatchSink) -> Result<Watched, ModuleError> {
        Ok(Watched::NotWatching)
    }

    /// True for a module whose runs read much (an advisory archive, whole trees) and keep
    /// nothing in memory that a later run or `watch` needs (what they keep is in the state
    /// directory; `committed` follows its run in the same process): the agent then runs each
    /// run in a short-lived process of its own (`vigil-agent run-module`), so the run's memory
    /// goes back to the system when it ends and a crash in it is the module's error, not the
    /// agent's end. `watch` still runs in the agent's process.
    fn runs_apart(&self) -> bool {
        false
    }
}

/// How a module's [`Module::watch`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// The module does not watch (or not under these settings): the runner sleeps until the
    /// next run.
    NotWatching,
    /// The next run is due, the agent is stopping, or a new policy arrived.
    Ended,
    /// The module needs a run now without anything being lost (its settings changed, or it
    /// just started watching and a run must cover the time before).
    RunNow,
    /// Events may have been lost (the reason says why): the runner runs the module now and
    /// notes the reason in the module's health, so a gap is covered and never silent.
    Lost(String),
}

/// What the runner lends a module's [`Module::watch`].
pub trait WatchSink {
    /// False once the watch must end.
    fn active(&self) -> bool;
    /// Queues `events` durably; true when they are (the module then acknowledges them), false
    /// when the queue write failed (the module keeps them for a later delivery or run).
    fn deliver(&mut self, events: Vec<Emitted>) -> bool;
    /// Marks the module degraded for `reason` (part of its work is covered only by its runs).
    fn degraded(&mut self, reason: &str);
    /// The agent's own state directory (its queue), which a watch ignores: each delivery
    /// writes there, and a watch reporting that would feed itself.
    fn own_state_dir(&self) -> Option<&Path> {
        None
    }
}

/// One event as a module produces it. The id is stable: the same observation gives the same
/// id, so consumers can deduplicate and correlate across runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    pub kind: String,
    pub id: String,
    pub payload: serde_json::Value,
}

/// A run's context.
pub struct Run<'a> {
    pub settings: &'a ModuleSettings,
    /// The module's own directory for state kept across runs (baselines, cursors), created by
    /// the runner (mode 0700).
    pub state_dir: &'a Path,
    /// The root of the host's file system (`/` on a live host; a tree in tests).
    pub root: &'a Path,
    pub budget: Budget,
    stop: &'a AtomicBool,
    /// When the agent last heard from its server (milliseconds since the epoch, 0: not yet);
    /// none when no agent runs the module (a one-shot command).
    contact: Option<&'a AtomicI64>,
    emitted: Vec<Emitted>,
}

impl<'a> Run<'a> {
    pub fn new(settings: &'a ModuleSettings, state_dir: &'a Path, root: &'a Path, stop: &'a AtomicBool) -> Run<'a> {
        Run { settings, state_dir, root, budget: Budget::new(settings.cpu_percent, settings.io_bytes_per_second), stop, contact: None, emitted: Vec::new() }
    }

    /// The run inside an agent whose last successful exchange with its server (a heartbeat or
    /// an acknowledged batch) is kept in `contact`: changes that must be confirmed by the
    /// server's reachability (firewall enforcement) read it.
    pub fn with_contact(mut self, contact: &'a AtomicI64) -> Run<'a> {
        self.contact = Some(contact);
        self
    }

    /// When the agent last heard from its server (milliseconds since the epoch); `None` outside
    /// an agent, `Some(0)` before the first contact.
    pub fn server_contact_ms(&self) -> Option<i64> {
        self.contact.map(|contact| contact.load(Ordering::Relaxed))
    }

    /// Another module's state directory, for what a module publishes for others (the `vulns`
    /// module's latest findings, which firewall shielding reads). Read only.
    pub fn module_state_dir(&self, module: &str) -> PathBuf {
        self.state_dir.parent().map(|parent| parent.join(module)).unwrap_or_else(|| self.state_dir.join(module))
    }

    /// Emits one event.
    pub fn emit(&mut self, kind: &str, id: impl Into<String>, payload: serde_json::Value) {
        self.emitted.push(Emitted { kind: kind.to_string(), id: id.into(), payload });
    }

    /// True once the agent is stopping: a long run should return soon (its emitted events are
    /// still written).
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The events emitted so far, taken out (the runner writes them to the queue).
    pub fn take_emitted(&mut self) -> Vec<Emitted> {
        std::mem::take(&mut self.emitted)
    }

    /// The run's root as the host modules' file-system view (`/` is the live system).
    pub fn host_root(&self) -> crate::fsroot::HostRoot {
        if self.root == Path::new("/") { crate::fsroot::HostRoot::live() } else { crate::fsroot::HostRoot::at(self.root) }
    }

    /// A path under [`Run::root`] (`/etc/os-release` → `<root>/etc/os-release`).
    pub fn host_path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    /// Reads a whole file under the root, charging its size to the I/O budget.
    pub fn read_to_string(&mut self, absolute: &str) -> Result<String, ModuleError> {
        let path = self.host_path(absolute);
        let text = std::fs::read_to_string(&path).map_err(|error| ModuleError::Read { path: path.display().to_string(), reason: error.to_string() })?;
        self.budget.charge_io(text.len() as u64);
        Ok(text)
    }
}

/// The directory of a module's state directory where the agent puts the commands it received
/// for it (one JSON file per command, [`AgentCommand`]).
pub const INBOX: &str = "inbox";
/// The ids of the commands a module ran (the last [`DONE_KEPT`]), so a command the server sends
/// again (its acknowledgement was lost) does not run twice.
const DONE_FILE: &str = "commands-done.json";
const DONE_KEPT: usize = 10_000;

fn done_commands(state_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(state_dir.join(DONE_FILE)).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

fn io_error(path: &Path, error: std::io::Error) -> ModuleError {
    ModuleError::Read { path: path.display().to_string(), reason: error.to_string() }
}

/// Writes a command into a module's inbox (fsync'd, then renamed into place) unless the module
/// holds it already or ran it: the agent acknowledges the command to the server only after
/// this returned. True when the command is new.
pub fn deliver_command(state_dir: &Path, command: &AgentCommand) -> Result<bool, ModuleError> {
    use std::io::Write as _;
    let safe_id: String = command.id.chars().filter(|character| character.is_ascii_alphanumeric() || *character == '-').collect();
    if safe_id.is_empty() || safe_id != command.id {
        return Err(ModuleError::Other(format!("command id `{}` is not `cmd-` and hex digits", command.id)));
    }
    let inbox = state_dir.join(INBOX);
    let path = inbox.join(format!("{safe_id}.json"));
    if path.exists() || done_commands(state_dir).contains(&command.id) {
        return Ok(false);
    }
    std::fs::create_dir_all(&inbox).map_err(|error| io_error(&inbox, error))?;
    let partial = inbox.join(format!(".{safe_id}.partial"));
    let text = serde_json::to_vec(command).map_err(|error| ModuleError::Other(error.to_string()))?;
    let mut file = std::fs::File::create(&partial).map_err(|error| io_error(&partial, error))?;
    file.write_all(&text).and_then(|()| file.sync_all()).map_err(|error| io_error(&partial, error))?;
    std::fs::rename(&partial, &path).map_err(|error| io_error(&path, error))?;
    if let Ok(directory) = std::fs::File::open(&inbox) {
        let _ = directory.sync_all();
    }
    Ok(true)
}

/// The commands waiting in a module's inbox, oldest request first; a file that cannot be read
/// is an error naming it (the others are returned).
pub fn pending_commands(state_dir: &Path) -> (Vec<AgentCommand>, Vec<String>) {
    let inbox = state_dir.join(INBOX);
    let (mut commands, mut problems) = (Vec::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(&inbox) else { return (commands, problems) };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|extension| extension.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read(&path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| serde_json::from_slice::<AgentCommand>(&bytes).map_err(|error| error.to_string()))
        {
            Ok(command) => commands.push(command),
            Err(reason) => problems.push(format!("command `{}`: {reason}", path.display())),
        }
    }
    commands.sort_by(|a, b| a.requested_at.cmp(&b.requested_at).then_with(|| a.id.cmp(&b.id)));
    (commands, problems)
}

/// The commands whose outcome is queued: remembered as run, and taken out of the inbox.
pub fn complete_commands(state_dir: &Path, ids: &[String]) -> Result<(), ModuleError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut done = done_commands(state_dir);
    done.extend(ids.iter().cloned());
    let excess = done.len().saturating_sub(DONE_KEPT);
    done.drain(..excess);
    let path = state_dir.join(DONE_FILE);
    let partial = state_dir.join(format!("{DONE_FILE}.partial"));
    std::fs::write(&partial, serde_json::to_vec(&done).unwrap_or_default()).map_err(|error| io_error(&partial, error))?;
    std::fs::rename(&partial, &path).map_err(|error| io_error(&path, error))?;
    for id in ids {
        let file = state_dir.join(INBOX).join(format!("{id}.json"));
        if let Err(error) = std::fs::remove_file(&file)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            return Err(io_error(&file, error));
        }
    }
    Ok(())
}

/// A file another module saw written (FIM's added or modified content), for a module that
/// inspects such files at once (the malware module's on-access scans).
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenFile {
    /// The path inside the root (`/tmp/x`), as the reporting module's events name it.
    pub path: String,
    /// Who wrote it, when the reporting module knew (FIM's actor from auditd: `auid`, `uid`,
    /// `pid`, `exe`, `comm`, `event`).
    pub actor: Option<serde_json::Value>,
    /// The module that saw it (`fim`): a detection's `trigger`.
    pub seen_by: String,
}

/// The hand-over between a module that sees files written and one that inspects them: a
/// bounded queue the agent's runner owns and connects the two through, so neither module
/// knows the other (FIM does not link YARA). When it is full, further files are counted, not
/// queued, and the consumer is told how many it missed.
#[derive(Debug, Default)]
pub struct WrittenFiles {
    state: std::sync::Mutex<WrittenState>,
    ready: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct WrittenState {
    files: std::collections::VecDeque<WrittenFile>,
    dropped: u64,
}

impl WrittenFiles {
    /// Files waiting at most; beyond, they are counted as dropped.
    pub const CAPACITY: usize = 10_000;

    /// Queues a file (a path already waiting is not queued twice).
    pub fn push(&self, file: WrittenFile) {
        let Ok(mut state) = self.state.lock() else { return };
        if state.files.iter().any(|waiting| waiting.path == file.path) {
            return;
        }
        if state.files.len() >= WrittenFiles::CAPACITY {
            state.dropped += 1;
        } else {
            state.files.push_back(file);
        }
        self.ready.notify_all();
    }

    /// Waits up to `timeout` for files; returns those waiting (oldest first) and how many were
    /// dropped since the last call.
    pub fn take(&self, timeout: Duration) -> (Vec<WrittenFile>, u64) {
        let Ok(mut state) = self.state.lock() else { return (Vec::new(), 0) };
        if state.files.is_empty() && state.dropped == 0 {
            state = match self.ready.wait_timeout(state, timeout) {
                Ok((state, _)) => state,
                Err(_) => return (Vec::new(), 0),
            };
        }
        let files = state.files.drain(..).collect();
        (files, std::mem::take(&mut state.dropped))
    }
}

/// A document a module reports whole, only when it changed (the package list, an assessment's
/// results): emitted as one or more events of `kind` (`{snapshot, part, parts, ...head, items}`,
/// at most `per_part` items each, so a large list stays under the event size limit), all
/// carrying the content's id `snapshot`. The id of the last one queued is kept in the state
/// directory and moved in [`Snapshot::committed`], so an idle host sends nothing and a restart
/// neither loses nor repeats a snapshot.
#[derive(Debug)]
pub struct Snapshot {
    file: String,
    last: Option<String>,
    pending: Option<String>,
}

impl Snapshot {
    /// `file`: the name of the state file holding the last id (one per document).
    pub fn new(file: impl Into<String>) -> Snapshot {
        Snapshot { file: file.into(), last: None, pending: None }
    }

    /// Emits the document when its content changed; true when it did.
    /// The items are moved into the parts (a large document is not held twice).
    pub fn emit_if_changed(&mut self, run: &mut Run<'_>, kind: &str, head: serde_json::Value, items: Vec<serde_json::Value>, per_part: usize) -> bool {
        use sha2::Digest as _;
        if self.last.is_none() {
            self.last = std::fs::read_to_string(run.state_dir.join(&self.file)).ok().map(|text| text.trim().to_string());
        }
        let mut hasher = sha2::Sha256::new();
        hasher.update(head.to_string().as_bytes());
        for item in &items {
            hasher.update(item.to_string().as_bytes());
        }
        let id = hex::encode(&hasher.finalize()[..16]);
        if self.last.as_deref() == Some(id.as_str()) {
            return false;
        }
        let per_part = per_part.max(1);
        let parts = items.len().div_ceil(per_part).max(1);
        let mut items = items.into_iter();
        for part in 0..parts {
            let slice: Vec<serde_json::Value> = items.by_ref().take(per_part).collect();
            let mut payload = serde_json::json!({"snapshot": id, "part": part + 1, "parts": parts, "items": slice});
            if let (Some(object), Some(head)) = (payload.as_object_mut(), head.as_object()) {
                for (key, value) in head {
                    object.insert(key.clone(), value.clone());
                }
            }
            run.emit(kind, format!("{id}:{}", part + 1), payload);
        }
        self.pending = Some(id);
        true
    }

    /// The snapshot emitted is queued: remember it.
    pub fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        if let Some(id) = self.pending.take() {
            let path = state_dir.join(&self.file);
            std::fs::write(&path, &id).map_err(|error| ModuleError::Read { path: path.display().to_string(), reason: error.to_string() })?;
            self.last = Some(id);
        }
        Ok(())
    }
}

/// A module's CPU and I/O limits while it runs.
///
/// CPU: a duty cycle. [`Budget::pace`] is called between small units of work; after work that
/// took `w` of wall-clock time it sleeps so that work is at most `cpu_percent` of the time
/// (wall-clock time of work is an upper bound on CPU time, so the limit holds even when the
/// work waited on I/O). I/O: a token bucket of `io_bytes_per_second`, one second deep;
/// [`Budget::charge_io`] sleeps when the bytes read get ahead of the rate.
#[derive(Debug)]
pub struct Budget {
    cpu_percent: u8,
    io_bytes_per_second: u64,
    slice_started: Instant,
    io_tokens: f64,
    io_refilled: Instant,
    /// Total time slept for the limits (reported in the module's health).
    pub throttled: Duration,
}

/// Work shorter than this is not paced (sleeping costs more than it saves).
const MIN_SLICE: Duration = Duration::from_millis(10);

impl Budget {
    pub fn new(cpu_percent: u8, io_bytes_per_second: u64) -> Budget {
        let now = Instant::now();
        Budget {
            cpu_percent: cpu_percent.clamp(1, 100),
            io_bytes_per_second: io_bytes_per_second.max(1),
            slice_started: now,
            io_tokens: io_bytes_per_second.max(1) as f64,
            io_refilled: now,
            throttled: Duration::ZERO,
        }
    }

    /// How long to rest after `worked` to keep the duty cycle under `cpu_percent`.
    pub fn rest_after(&self, worked: Duration) -> Duration {
        if self.cpu_percent >= 100 {
            return Duration::ZERO;
        }
        worked.mul_f64((100.0 - f64::from(self.cpu_percent)) / f64::from(self.cpu_percent))
    }

    /// Call between units of work: sleeps when the work since the last call exceeds the CPU
    /// share.
    pub fn pace(&mut self) {
        let worked = self.slice_started.elapsed();
        if worked >= MIN_SLICE {
            let rest = self.rest_after(worked);
            std::thread::sleep(rest);
            self.throttled += rest;
            self.slice_started = Instant::now();
        }
    }

    /// Call when work starts again after waiting idle (a watch between events): the wait is
    /// not work, so it earns no rest.
    pub fn resume(&mut self) {
        self.slice_started = Instant::now();
    }

    /// Charges `bytes` read; sleeps when reading got ahead of the rate.
    pub fn charge_io(&mut self, bytes: u64) {
        let rate = self.io_bytes_per_second as f64;
        let now = Instant::now();
        self.io_tokens = (self.io_tokens + now.duration_since(self.io_refilled).as_secs_f64() * rate).min(rate);
        self.io_refilled = now;
        self.io_tokens -= bytes as f64;
        if self.io_tokens < 0.0 {
            let wait = Duration::from_secs_f64(-self.io_tokens / rate);
            std::thread::sleep(wait);
            self.throttled += wait;
            // The sleep refilled exactly the debt.
            self.io_tokens = 0.0;
            self.io_refilled = Instant::now();
            self.slice_started = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duty_cycle_rests_in_proportion_to_the_work() {
        assert_eq!(Budget::new(10, 1).rest_after(Duration::from_millis(100)), Duration::from_millis(900));
        assert_eq!(Budget::new(50, 1).rest_after(Duration::from_millis(100)), Duration::from_millis(100));
        assert_eq!(Budget::new(100, 1).rest_after(Duration::from_millis(100)), Duration::ZERO);
        assert_eq!(Budget::new(0, 1).rest_after(Duration::from_millis(10)), Duration::from_millis(990), "0 is read as 1%");
    }

    #[test]
    fn reading_faster_than_the_io_rate_sleeps_for_the_debt() {
        let mut budget = Budget::new(100, 1_000_000);
        budget.charge_io(1_000_000);
        assert_eq!(budget.throttled, Duration::ZERO, "the first second's worth is free");
        budget.charge_io(200_000);
        assert!(budget.throttled >= Duration::from_millis(150), "slept {:?} for 200 kB over a 1 MB/s budget", budget.throttled);
    }
}
