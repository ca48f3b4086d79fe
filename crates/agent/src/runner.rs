//! The module runner: one thread per module the agent carries ([`modules`], the explicit
//! list). Each thread runs its module at the interval the effective policy sets while the
//! policy enables it, under the policy's CPU and I/O limits, writes the run's events to the
//! queue as one fsync'd batch, and keeps the module's health for the heartbeat.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use vigil_fleet::wire::{MAX_EVENT_BYTES, ModuleHealth};
use vigil_fleet::{EffectivePolicy, Event};
use vigil_host::module::{Module, Run};

use crate::queue::{self, Queue};

/// Every module this agent can run. Adding one: implement `vigil_host::module::Module` and
/// list it here (docs/agent.md, "Adding a module").
pub fn modules() -> Vec<Box<dyn Module>> {
    vec![
        Box::new(vigil_host::inventory::Inventory::default()),
        Box::new(vigil_host::fim::module::FimModule::default()),
        Box::new(vigil_host::firewall::module::FirewallModule::default()),
        Box::new(vigil_host::logs::module::LogsModule::default()),
        #[cfg(feature = "malware")]
        Box::new(vigil_malware::module::MalwareModule::default()),
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
}

impl Shared {
    pub fn new(policy: Option<EffectivePolicy>) -> Shared {
        Shared {
            policy: RwLock::new(policy),
            policy_generation: AtomicU64::new(0),
            health: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
            queued: (Mutex::new(0), std::sync::Condvar::new()),
        }
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

/// Starts one thread per module.
pub fn start(shared: Arc<Shared>, state_dir: PathBuf, queue_max_bytes: u64, root: PathBuf) -> Vec<std::thread::JoinHandle<()>> {
    modules()
        .into_iter()
        .map(|module| {
            let (shared, state_dir, root) = (Arc::clone(&shared), state_dir.clone(), root.clone());
            std::thread::Builder::new()
                .name(format!("module-{}", module.name()))
                .spawn(move || run_module(module, &shared, &state_dir, queue_max_bytes, &root))
                .unwrap_or_else(|error| {
                    crate::log(&format!("cannot start a module thread: {error}"));
                    std::thread::spawn(|| {})
                })
        })
        .collect()
}

fn run_module(mut module: Box<dyn Module>, shared: &Shared, state_dir: &std::path::Path, queue_max_bytes: u64, root: &std::path::Path) {
    let name = module.name();
    let mut health = ModuleHealth { module: name.into(), state: "disabled".into(), ..ModuleHealth::default() };
    let mut next_run: Option<Instant> = None;
    let mut queue: Option<Queue> = None;
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
            sleep_until(shared, due, generation);
            continue;
        }
        let module_dir = match crate::state::ensure_private_dir(&state_dir.join("modules").join(name)) {
            Ok(()) => state_dir.join("modules").join(name),
            Err(error) => {
                health.state = "error".into();
                health.last_error = Some(format!("{error:#}"));
                set_health(shared, health.clone());
                next_run = Some(Instant::now() + Duration::from_secs(settings.interval_seconds));
                continue;
            }
        };
        let mut run = Run::new(&settings, &module_dir, root, &shared.stop);
        let outcome = module.run(&mut run);
        let emitted = run.take_emitted();
        health.last_run = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        match &outcome {
            Ok(()) => {
                health.state = "ok".into();
                health.last_error = None;
            }
            Err(error) => {
                health.state = "error".into();
                health.last_error = Some(error.to_string());
            }
        }
        let mut queued = true;
        if !emitted.is_empty() {
            let events: Vec<Event> = emitted
                .into_iter()
                .map(|emitted| {
                    let size = emitted.payload.to_string().len();
                    let payload = if size > MAX_EVENT_BYTES {
                        serde_json::json!({ "truncated": true, "bytes": size, "reason": format!("the event is larger than {MAX_EVENT_BYTES} bytes") })
                    } else {
                        emitted.payload
                    };
                    queue::event(name, &emitted.kind, emitted.id, payload)
                })
                .collect();
            let written = match queue.as_mut() {
                Some(queue) => queue.append(&events),
                None => Queue::open(state_dir, queue_max_bytes).and_then(|opened| queue.insert(opened).append(&events)),
            };
            match written {
                Ok(appended) => {
                    health.events += events.len() as u64 - appended.dropped;
                    shared.notify_queued();
                }
                Err(error) => {
                    queued = false;
                    health.state = "error".into();
                    health.last_error = Some(format!("cannot write to the queue: {error}"));
                }
            }
        }
        // The module moves its positions only once its events are durable.
        if queued && let Err(error) = module.committed(&module_dir) {
            health.state = "error".into();
            health.last_error = Some(error.to_string());
        }
        set_health(shared, health.clone());
        next_run = Some(Instant::now() + Duration::from_secs(settings.interval_seconds));
    }
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
