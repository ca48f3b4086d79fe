//! The module runner: one thread per module the agent carries ([`modules`], the explicit
//! list). Each thread runs its module at the interval the effective policy sets while the
//! policy enables it, under the policy's CPU and I/O limits, writes the run's events to the
//! queue as one fsync'd batch, and keeps the module's health for the heartbeat. Between runs a
//! module may watch in real time (`Module::watch`, `fim`'s inotify events): each batch it
//! delivers is queued the same way before the module acknowledges it, and a stop or a new
//! policy ends the watch. The runner also connects FIM to the malware module: the files FIM's
//! queued `change` events report written go to [`WrittenFiles`], which the malware module scans
//! on access (when the policy enables it with `on_access`, the default).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use vigil_fleet::wire::{MAX_EVENT_BYTES, ModuleHealth};
use vigil_fleet::{EffectivePolicy, Event};
use vigil_host::module::{Module, Run, WatchSink, Watched, WrittenFiles};

use crate::queue::{self, Queue};

/// Every module this agent can run. Adding one: implement `vigil_host::module::Module` and
/// list it here (docs/agent.md, "Adding a module"). `netns`: the network namespace whose
/// firewall the firewall and active-response modules read and change (tests; `None`: the
/// host's own). `written` is the hand-over from FIM to the on-access scans.
#[cfg_attr(not(feature = "malware"), allow(unused_variables))]
pub fn modules(netns: Option<&str>, written: &Arc<WrittenFiles>) -> Vec<Box<dyn Module>> {
    use vigil_host::firewall::module::FirewallModule;
    use vigil_host::ips::module::IpsModule;
    vec![
        Box::new(vigil_host::inventory::Inventory::default()),
        Box::new(vigil_host::fim::module::FimModule::default()),
        Box::new(netns.map(FirewallModule::in_namespace).unwrap_or_default()),
        Box::new(vigil_host::logs::module::LogsModule::default()),
        Box::new(netns.map(IpsModule::in_namespace).unwrap_or_default()),
        #[cfg(feature = "malware")]
        Box::new(vigil_malware::module::MalwareModule::with_written_files(Arc::clone(written))),
        Box::new(vigil_host::packages::module::PackagesModule::default()),
        Box::new(vigil_host::sca::module::ScaModule::default()),
        Box::new(vigil_host::vulns::module::VulnsModule::default()),
        Box::new(vigil_host::secrets::SecretsModule::default()),
    ]
}

/// What the agent's threads share.
pub struct Shared {
    pub policy: RwLock<Option<EffectivePolicy>>,
    /// Bumped when a new policy arrives, so sleeping modules look again.
    pub policy_generation: AtomicU64,
    pub health: Mutex<BTreeMap<String, ModuleHealth>>,
    pub stop: AtomicBool,
    /// Signalled when events were queued (the sender wakes).
    pub queued: (Mutex<u64>, std::sync::Condvar),
    /// When the server last answered a heartbeat or acknowledged a batch (milliseconds since
    /// the epoch): firewall enforcement confirms its changes by it.
    pub server_contact: AtomicI64,
}

impl Shared {
    pub fn new(policy: Option<EffectivePolicy>) -> Shared {
        Shared {
            policy: RwLock::new(policy),
            policy_generation: AtomicU64::new(0),
            health: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
            queued: (Mutex::new(0), std::sync::Condvar::new()),
            server_contact: AtomicI64::new(0),
        }
    }

    /// The server answered: record when.
    pub fn contacted(&self) {
        self.server_contact.store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    pub fn notify_queued(&self) {
        let (count, condvar) = &self.queued;
        if let Ok(mut count) = count.lock() {
            *count += 1;
        }
        condvar.notify_all();
    }

    /// The health of every module the policy names (and every module this agent carries).
    pub fn module_health(&self) -> Vec<ModuleHealth> {
        let mut health = self.health.lock().map(|health| health.clone()).unwrap_or_default();
        if let Ok(policy) = self.policy.read()
            && let Some(policy) = policy.as_ref()
        {
            for (name, settings) in &policy.modules {
                if !health.contains_key(name) {
                    let enabled = vigil_fleet::ModuleSettings::from_map(settings).enabled;
                    let state = if enabled { "unknown" } else { "disabled" };
                    let built_without = if name == "malware" { " (it is built with `--features malware`)" } else { "" };
                    let last_error = enabled.then(|| format!("this agent ({}) has no module `{name}`{built_without}", env!("CARGO_PKG_VERSION")));
                    health.insert(name.clone(), ModuleHealth { module: name.clone(), state: state.into(), last_error, ..ModuleHealth::default() });
                }
            }
        }
        health.into_values().collect()
    }
}

fn set_health(shared: &Shared, health: ModuleHealth) {
    if let Ok(mut map) = shared.health.lock() {
        map.insert(health.module.clone(), health);
    }
}

/// Whether the files FIM reports written go to the on-access scans: the policy enables the
/// malware module, with `on_access` (its default, the module's).
#[cfg(feature = "malware")]
fn on_access_wanted(shared: &Shared) -> bool {
    let malware = shared.policy.read().ok().and_then(|policy| policy.as_ref().map(|policy| policy.module("malware")));
    malware.is_some_and(|malware| malware.enabled && vigil_malware::module::on_access(&malware))
}

/// Without the malware module nothing is scanned on access.
#[cfg(not(feature = "malware"))]
fn on_access_wanted(_shared: &Shared) -> bool {
    false
}

/// Starts one thread per module.
/// `apart`: how to run the runs of modules that ask for a process of their own
/// ([`Module::runs_apart`]); `None` runs them in this process.
pub fn start(
    shared: Arc<Shared>,
    state_dir: PathBuf,
    queue_max_bytes: u64,
    root: PathBuf,
    netns: Option<&str>,
    apart: Option<Apart>,
) -> Vec<std::thread::JoinHandle<()>> {
    let written = Arc::new(WrittenFiles::default());
    let modules = modules(netns, &written);
    let scans_on_access = modules.iter().any(|module| module.name() == "malware");
    modules
        .into_iter()
        .map(|module| {
            let (shared, state_dir, root, apart) = (Arc::clone(&shared), state_dir.clone(), root.clone(), apart.clone());
            // FIM's changes feed the on-access scans.
            let feeds = (module.name() == "fim" && scans_on_access).then(|| Arc::clone(&written));
            std::thread::Builder::new()
                .name(format!("module-{}", module.name()))
                .spawn(move || run_module(module, &shared, &state_dir, queue_max_bytes, &root, feeds, apart.as_ref()))
                .unwrap_or_else(|error| {
                    crate::log(&format!("cannot start a module thread: {error}"));
                    std::thread::spawn(|| {})
                })
        })
        .collect()
}

const QUEUE_ERROR: &str = "cannot write to the queue";

/// Where a module's events go: the queue (opened on first use) and the module's health.
struct Outlet<'a> {
    name: &'static str,
    shared: &'a Shared,
    state_dir: &'a std::path::Path,
    queue_max_bytes: u64,
    queue: Option<Queue>,
    /// Where the files this module's queued events report written go (FIM's, to the malware
    /// module's on-access scans).
    feeds: Option<Arc<WrittenFiles>>,
}

impl Outlet<'_> {
    /// Writes `emitted` to the queue as one fsync'd batch (events over the size limit replaced
    /// by a note). Returns how many were queued; an error says why nothing was written.
    fn queue(&mut self, emitted: Vec<vigil_host::module::Emitted>) -> Result<u64, String> {
        if emitted.is_empty() {
            return Ok(0);
        }
        let written_files: Vec<_> = match &self.feeds {
            Some(_) if on_access_wanted(self.shared) => emitted.iter().filter_map(vigil_host::fim::module::written_file).collect(),
            _ => Vec::new(),
        };
        let events: Vec<Event> = emitted
            .into_iter()
            .map(|emitted| {
                let size = emitted.payload.to_string().len();
                let payload = if size > MAX_EVENT_BYTES {
                    serde_json::json!({ "truncated": true, "bytes": size, "reason": format!("the event is larger than {MAX_EVENT_BYTES} bytes") })
                } else {
                    emitted.payload
                };
                queue::event(self.name, &emitted.kind, emitted.id, payload)
            })
            .collect();
        let written = match self.queue.as_mut() {
            Some(queue) => queue.append(&events),
            None => Queue::open(self.state_dir, self.queue_max_bytes).and_then(|opened| self.queue.insert(opened).append(&events)),
        };
        match written {
            Ok(appended) => {
                self.shared.notify_queued();
                // Scanned once the changes are durable (a change not queued is emitted again).
                if let Some(feeds) = &self.feeds {
                    written_files.into_iter().for_each(|file| feeds.push(file));
                }
                Ok(events.len() as u64 - appended.dropped)
            }
            Err(error) => Err(format!("{QUEUE_ERROR}: {error}")),
        }
    }
}

/// The runner's side of a module's watch: queues each batch, keeps the health current, and
/// ends the watch on a stop or a new policy.
struct RunnerSink<'a, 'b> {
    outlet: &'a mut Outlet<'b>,
    health: &'a mut ModuleHealth,
    generation: u64,
}

impl WatchSink for RunnerSink<'_, '_> {
    fn active(&self) -> bool {
        !self.outlet.shared.stop.load(Ordering::Relaxed) && self.outlet.shared.policy_generation.load(Ordering::Relaxed) == self.generation
    }

    fn deliver(&mut self, events: Vec<vigil_host::module::Emitted>) -> bool {
        let queued = match self.outlet.queue(events) {
            Ok(queued) => {
                self.health.events += queued;
                // A queue that works again ends the error an earlier delivery left.
                if self.health.state == "error" && self.health.last_error.as_deref().is_some_and(|error| error.starts_with(QUEUE_ERROR)) {
                    self.health.state = "ok".into();
                    self.health.last_error = None;
                }
                true
            }
            Err(error) => {
                self.health.state = "error".into();
                self.health.last_error = Some(error);
                false
            }
        };
        set_health(self.outlet.shared, self.health.clone());
        queued
    }

    fn own_state_dir(&self) -> Option<&std::path::Path> {
        Some(self.outlet.state_dir)
    }

    fn degraded(&mut self, reason: &str) {
        self.health.state = "degraded".into();
        self.health.last_error = Some(reason.to_string());
        set_health(self.outlet.shared, self.health.clone());
    }
}

fn module_dir(state_dir: &std::path::Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = state_dir.join("modules").join(name);
    crate::state::ensure_private_dir(&dir)?;
    Ok(dir)
}

fn run_module(
    mut module: Box<dyn Module>,
    shared: &Shared,
    state_dir: &std::path::Path,
    queue_max_bytes: u64,
    root: &std::path::Path,
    feeds: Option<Arc<WrittenFiles>>,
    apart: Option<&Apart>,
) {
    let name = module.name();
    // Canonical, as the paths a watch sees under an absolute root are (`--state` may be relative).
    let state_dir = &std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let mut health = ModuleHealth { module: name.into(), state: "disabled".into(), ..ModuleHealth::default() };
    let mut next_run: Option<Instant> = None;
    let mut outlet = Outlet { name, shared, state_dir, queue_max_bytes, queue: None, feeds };
    // Why the next run was brought forward after events were lost (noted in its health).
    let mut lost: Option<String> = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let generation = shared.policy_generation.load(Ordering::Relaxed);
        let settings = shared.policy.read().ok().and_then(|policy| policy.as_ref().map(|policy| policy.module(name)));
        let Some(settings) = settings.filter(|settings| settings.enabled) else {
            if health.state != "disabled" {
                health.state = "disabled".into();
            }
            set_health(shared, health.clone());
            next_run = None;
            sleep_until(shared, Instant::now() + Duration::from_secs(3600), generation);
            continue;
        };
        let due = next_run.unwrap_or_else(Instant::now);
        if Instant::now() < due {
            // Between runs the module may watch in real time; otherwise the thread sleeps.
            let watched = match module_dir(state_dir, name) {
                Ok(module_dir) => {
                    let mut run = Run::new(&settings, &module_dir, root, &shared.stop).with_contact(&shared.server_contact);
                    let mut sink = RunnerSink { outlet: &mut outlet, health: &mut health, generation };
                    module.watch(&mut run, due, &mut sink)
                }
                Err(_) => Ok(Watched::NotWatching),
            };
            match watched {
                Ok(Watched::NotWatching) => sleep_until(shared, due, generation),
                Ok(Watched::Ended) => {}
                Ok(Watched::RunNow) => next_run = Some(Instant::now()),
                Ok(Watched::Lost(reason)) => {
                    lost = Some(reason);
                    next_run = Some(Instant::now());
                }
                Err(error) => {
                    health.state = "degraded".into();
                    health.last_error = Some(error.to_string());
                    set_health(shared, health.clone());
                    sleep_until(shared, due, generation);
                }
            }
            continue;
        }
        let module_dir = match module_dir(state_dir, name) {
            Ok(module_dir) => module_dir,
            Err(error) => {
                health.state = "error".into();
                health.last_error = Some(format!("{error:#}"));
                set_health(shared, health.clone());
                next_run = Some(Instant::now() + Duration::from_secs(settings.interval_seconds));
                continue;
            }
        };
        if health.last_run.is_none() && health.state == "disabled" {
            // In its first run (a long one, held to its CPU and I/O budget): said, so the
            // heartbeat does not take it for a module this agent lacks.
            health.state = "starting".into();
            set_health(shared, health.clone());
        }
        let outcome = match apart.filter(|_| module.runs_apart()) {
            Some(apart) => run_apart(apart, name, &settings.raw, state_dir, queue_max_bytes, root, shared),
            None => run_here(module.as_mut(), &settings, &module_dir, root, &shared.stop, &shared.server_contact, &mut outlet),
        };
        health.last_run = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        match (&outcome.error, lost.take()) {
            (None, None) => {
                health.state = "ok".into();
                health.last_error = None;
            }
            // The gap is covered by this run, and said.
            (None, Some(reason)) => {
                health.state = "degraded".into();
                health.last_error =
                    Some(format!("real-time events were lost ({reason}); the run at {} covered them", health.last_run.as_deref().unwrap_or("")));
            }
            (Some(error), _) => {
                health.state = "error".into();
                health.last_error = Some(error.clone());
            }
        }
        health.events += outcome.queued;
        if let Some(error) = outcome.after {
            health.state = "error".into();
            health.last_error = Some(error);
        }
        set_health(shared, health.clone());
        next_run = Some(Instant::now() + Duration::from_secs(settings.interval_seconds));
    }
}

/// What one run did, in this process or in a child (which prints it as one JSON line).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RunOutcome {
    /// Why the run failed (its events emitted before the failure are still queued).
    pub error: Option<String>,
    /// The events queued.
    pub queued: u64,
    /// Why the events could not be queued, or the module could not record that they were.
    pub after: Option<String>,
}

/// One run in this process: the module runs, its events are queued as one batch, and only then
/// does the module move its positions ([`Module::committed`]).
fn run_here(
    module: &mut dyn Module,
    settings: &vigil_fleet::ModuleSettings,
    module_dir: &std::path::Path,
    root: &std::path::Path,
    stop: &AtomicBool,
    contact: &AtomicI64,
    outlet: &mut Outlet<'_>,
) -> RunOutcome {
    let mut run = Run::new(settings, module_dir, root, stop).with_contact(contact);
    let result = module.run(&mut run);
    let emitted = run.take_emitted();
    let mut outcome = RunOutcome { error: result.err().map(|error| error.to_string()), ..RunOutcome::default() };
    match outlet.queue(emitted) {
        Ok(queued) => {
            outcome.queued = queued;
            // The module moves its positions only once its events are durable.
            if let Err(error) = module.committed(module_dir) {
                outcome.after = Some(error.to_string());
            }
        }
        Err(error) => outcome.after = Some(error),
    }
    outcome
}

/// How the agent starts a run in a process of its own ([`Module::runs_apart`]).
#[derive(Debug, Clone)]
pub struct Apart {
    /// The agent's own binary (`vigil-agent run-module NAME ...`).
    pub exe: PathBuf,
    /// The network namespace the agent was given (`--netns`).
    pub netns: Option<String>,
}

/// What the agent writes to a child's standard input (one JSON line); the child then reads on
/// until the input ends, which stops it (the agent stopped, or died).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ChildRequest {
    settings: serde_json::Map<String, serde_json::Value>,
    contact_ms: i64,
}

/// How long a child has, once told to stop, before it is killed.
const CHILD_STOP_GRACE: Duration = Duration::from_secs(30);

/// One run in a child process (`vigil-agent run-module`), which queues its events itself: the
/// queue takes writers from several processes. A child that ends without printing its outcome
/// (a crash, a kill) is the run's error, naming how it ended.
fn run_apart(
    apart: &Apart,
    name: &str,
    settings: &serde_json::Map<String, serde_json::Value>,
    state_dir: &std::path::Path,
    queue_max_bytes: u64,
    root: &std::path::Path,
    shared: &Shared,
) -> RunOutcome {
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};
    let failed = |reason: String| RunOutcome {
        error: Some(format!("the run's process (`{} run-module {name}`) {reason}", apart.exe.display())),
        ..RunOutcome::default()
    };
    let mut command = Command::new(&apart.exe);
    command.arg("run-module").arg(name).arg("--state").arg(state_dir).arg("--root").arg(root).arg("--queue-max-bytes").arg(queue_max_bytes.to_string());
    if let Some(netns) = &apart.netns {
        command.arg("--netns").arg(netns);
    }
    let mut child = match command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn() {
        Ok(child) => child,
        Err(error) => return failed(format!("could not start: {error}")),
    };
    let request = ChildRequest { settings: settings.clone(), contact_ms: shared.server_contact.load(Ordering::Relaxed) };
    let mut stdin = child.stdin.take();
    if let Some(input) = stdin.as_mut() {
        // A child that died at once is reported by its exit below.
        let _ = serde_json::to_writer(&mut *input, &request).map_err(std::io::Error::other).and_then(|()| input.write_all(b"\n")).and_then(|()| input.flush());
    }
    let reader = child.stdout.take().map(|mut stdout| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        })
    });
    let mut stopping: Option<Instant> = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(error) => break Err(error),
        }
        if shared.stop.load(Ordering::Relaxed) && stopping.is_none() {
            // The end of its input tells the child to stop.
            drop(stdin.take());
            stopping = Some(Instant::now());
        }
        if stopping.is_some_and(|since| since.elapsed() > CHILD_STOP_GRACE) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(stdin);
    let printed = reader.and_then(|reader| reader.join().ok()).unwrap_or_default();
    shared.notify_queued();
    match status {
        Err(error) => failed(format!("could not be waited for: {error}")),
        Ok(status) => match printed.lines().last().map(serde_json::from_str::<RunOutcome>) {
            Some(Ok(outcome)) if status.success() => outcome,
            _ => failed(format!("ended ({status}) without its outcome")),
        },
    }
}

/// The child's side (`vigil-agent run-module NAME`): reads its [`ChildRequest`], runs the module
/// once as the agent would, queues the events, and prints the [`RunOutcome`]. The end of its
/// input (the agent stopping or gone) stops the run.
pub fn child_main(name: &str, state_dir: &std::path::Path, queue_max_bytes: u64, root: &std::path::Path, netns: Option<&str>) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let written = Arc::new(WrittenFiles::default());
    let Some(mut module) = modules(netns, &written).into_iter().find(|module| module.name() == name) else {
        anyhow::bail!("this agent has no module `{name}`")
    };
    let mut input = std::io::BufReader::new(std::io::stdin());
    let mut line = String::new();
    input.read_line(&mut line).map_err(|error| anyhow::anyhow!("reading the request on standard input: {error}"))?;
    let request: ChildRequest = serde_json::from_str(&line).map_err(|error| anyhow::anyhow!("the request on standard input: {error}"))?;
    let shared = Arc::new(Shared::new(None));
    shared.server_contact.store(request.contact_ms, Ordering::Relaxed);
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut input, &mut std::io::sink());
            shared.stop.store(true, Ordering::Relaxed);
        });
    }
    let state_dir = std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let module_dir = module_dir(&state_dir, name)?;
    let settings = vigil_fleet::ModuleSettings::from_map(&request.settings);
    let mut outlet = Outlet { name: module.name(), shared: &shared, state_dir: &state_dir, queue_max_bytes, queue: None, feeds: None };
    let outcome = run_here(module.as_mut(), &settings, &module_dir, root, &shared.stop, &shared.server_contact, &mut outlet);
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(())
}

/// Sleeps until `deadline`, a stop, or a new policy (checked every second).
fn sleep_until(shared: &Shared, deadline: Instant, generation: u64) {
    while Instant::now() < deadline {
        if shared.stop.load(Ordering::Relaxed) || shared.policy_generation.load(Ordering::Relaxed) != generation {
            return;
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()).min(Duration::from_secs(1)));
    }
}

#[cfg(all(test, feature = "malware"))]
mod tests {
    use super::*;

    /// Assembled at run time, so the repository holds no copy.
    fn eicar() -> Vec<u8> {
        ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*"].concat().into_bytes()
    }

    fn policy(on_access: bool) -> EffectivePolicy {
        let module = |value: serde_json::Value| value.as_object().cloned().unwrap_or_default();
        EffectivePolicy {
            policy_version: "test".into(),
            rules: Vec::new(),
            modules: [
                (
                    "fim".to_string(),
                    module(serde_json::json!({"enabled": true, "interval_seconds": 86_400, "paths": ["/srv/uploads"], "cpu_percent": 100, "io_bytes_per_second": 1u64 << 40})),
                ),
                // The daily scan looks elsewhere: only the on-access scan can find the file.
                (
                    "malware".to_string(),
                    module(serde_json::json!({"enabled": true, "interval_seconds": 86_400, "paths": ["/var/tmp"], "cpu_percent": 100, "on_access": on_access})),
                ),
            ]
            .into(),
        }
    }

    fn queued(state: &std::path::Path) -> Vec<vigil_fleet::wire::Sequenced> {
        Queue::open(state, 1 << 30).and_then(|mut queue| queue.peek(100_000, usize::MAX)).unwrap_or_default()
    }

    /// Runs the agent's modules on `root` until `done` holds for the queued events (or a
    /// generous minute, so that a failing test ends), then stops them.
    fn run_until(
        on_access: bool,
        root: &std::path::Path,
        state: &std::path::Path,
        write: impl FnOnce(),
        done: impl Fn(&[vigil_fleet::wire::Sequenced]) -> bool,
    ) -> Vec<vigil_fleet::wire::Sequenced> {
        let shared = Arc::new(Shared::new(Some(policy(on_access))));
        let threads = start(Arc::clone(&shared), state.to_path_buf(), 1 << 30, root.to_path_buf(), None, None);
        let started = Instant::now();
        // The file is written once FIM's baseline and the daily scan's first run are queued.
        while started.elapsed() < Duration::from_secs(60) {
            let events = queued(state);
            if events.iter().any(|event| event.event.kind == "baseline") && events.iter().any(|event| event.event.kind == "scan") {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        write();
        let mut events = Vec::new();
        while started.elapsed() < Duration::from_secs(60) {
            events = queued(state);
            if done(&events) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        shared.stop.store(true, Ordering::Relaxed);
        for thread in threads {
            let _ = thread.join();
        }
        events
    }

    fn detections(events: &[vigil_fleet::wire::Sequenced]) -> Vec<&serde_json::Value> {
        events.iter().filter(|event| event.event.module == "malware" && event.event.kind == "detection").map(|event| &event.event.payload).collect()
    }

    #[test]
    fn eicar_written_into_a_watched_directory_is_detected_on_access_with_trigger_fim() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("srv/uploads")).unwrap();
        let target = root.path().join("srv/uploads/invoice.pdf.exe");
        let events = run_until(true, root.path(), state.path(), || std::fs::write(&target, eicar()).unwrap(), |events| !detections(events).is_empty());
        let found = detections(&events);
        assert_eq!(found.len(), 1, "{events:#?}");
        assert_eq!(found[0]["trigger"], "fim");
        assert_eq!(found[0]["path"], "/srv/uploads/invoice.pdf.exe");
        assert_eq!(found[0]["rule"], "vigil_eicar_test_file");
        assert_eq!(found[0]["sha256"].as_str().map(str::len), Some(64));
        assert!(found[0].get("actor").is_some(), "the actor is said (null without auditd): {}", found[0]);
        let change = events.iter().position(|event| event.event.module == "fim" && event.event.payload["path"] == "/srv/uploads/invoice.pdf.exe");
        let detection = events.iter().position(|event| event.event.kind == "detection");
        assert!(change < detection, "FIM's change is queued first: {events:#?}");
    }

    #[test]
    fn files_go_to_the_on_access_scans_only_while_the_policy_enables_malware_with_on_access() {
        assert!(on_access_wanted(&Shared::new(Some(policy(true)))));
        assert!(!on_access_wanted(&Shared::new(Some(policy(false)))));
        let mut default = policy(true);
        default.modules.get_mut("malware").unwrap().remove("on_access");
        assert!(on_access_wanted(&Shared::new(Some(default.clone()))), "on by default");
        default.modules.get_mut("malware").unwrap().insert("enabled".into(), serde_json::json!(false));
        assert!(!on_access_wanted(&Shared::new(Some(default))));
        assert!(!on_access_wanted(&Shared::new(None)));
    }
}

#[cfg(test)]
mod health_tests {
    use super::*;
    use vigil_host::module::ModuleError;

    /// Waits for the test before its first run ends.
    struct Slow(std::sync::mpsc::Receiver<()>);

    impl Module for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }

        fn run(&mut self, _run: &mut Run<'_>) -> Result<(), ModuleError> {
            let _ = self.0.recv_timeout(Duration::from_secs(60));
            Ok(())
        }
    }

    fn wait_for(what: &str, condition: impl Fn() -> bool) {
        let started = Instant::now();
        while !condition() {
            assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A module in a long first run is `starting` in the heartbeat's health, not a module this
    /// agent lacks (`unknown`); then `ok`.
    #[test]
    fn a_module_in_its_first_run_is_starting_then_ok() {
        let settings = serde_json::json!({"enabled": true, "interval_seconds": 86_400}).as_object().cloned().unwrap_or_default();
        let policy = EffectivePolicy { policy_version: "test".into(), rules: Vec::new(), modules: [("slow".to_string(), settings)].into() };
        let shared = Arc::new(Shared::new(Some(policy)));
        let (release, wait) = std::sync::mpsc::channel();
        let state = tempfile::tempdir().unwrap();
        let thread = {
            let (shared, state_dir) = (Arc::clone(&shared), state.path().to_path_buf());
            std::thread::spawn(move || run_module(Box::new(Slow(wait)), &shared, &state_dir, 1 << 30, std::path::Path::new("/"), None, None))
        };
        let health = || shared.module_health().into_iter().find(|health| health.module == "slow").map(|health| (health.state, health.last_error));
        wait_for("`starting`", || health() == Some(("starting".to_string(), None)));
        release.send(()).unwrap();
        wait_for("`ok`", || health().is_some_and(|(state, _)| state == "ok"));
        shared.stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
    }

    /// Asks for a process of its own; never runs in the agent's.
    struct Apartly;

    impl Module for Apartly {
        fn name(&self) -> &'static str {
            "apartly"
        }

        fn runs_apart(&self) -> bool {
            true
        }

        fn run(&mut self, _run: &mut Run<'_>) -> Result<(), ModuleError> {
            Err(ModuleError::Other("ran inside the agent's process".into()))
        }
    }

    /// A run in a process of its own that ends without printing its outcome (here a binary that
    /// exits 1 at once, as a crash would) is the module's error, naming the process and how it
    /// ended; the agent's thread goes on.
    #[test]
    fn a_run_whose_process_ends_without_its_outcome_is_an_error_naming_it() {
        let settings = serde_json::json!({"enabled": true, "interval_seconds": 86_400}).as_object().cloned().unwrap_or_default();
        let policy = EffectivePolicy { policy_version: "test".into(), rules: Vec::new(), modules: [("apartly".to_string(), settings)].into() };
        let shared = Arc::new(Shared::new(Some(policy)));
        let state = tempfile::tempdir().unwrap();
        let apart = Apart { exe: PathBuf::from("/bin/false"), netns: None };
        let thread = {
            let (shared, state_dir) = (Arc::clone(&shared), state.path().to_path_buf());
            std::thread::spawn(move || run_module(Box::new(Apartly), &shared, &state_dir, 1 << 30, std::path::Path::new("/"), None, Some(&apart)))
        };
        let health = || shared.module_health().into_iter().find(|health| health.module == "apartly").map(|health| (health.state, health.last_error));
        wait_for("the run's error", || health().is_some_and(|(state, _)| state == "error"));
        let error = health().and_then(|(_, error)| error).unwrap_or_default();
        assert!(error.contains("`/bin/false run-module apartly`") && error.contains("without its outcome"), "{error}");
        shared.stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
    }
}
