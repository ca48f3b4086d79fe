//! `vigil-agent`: enrols with `vigil serve` (zero-touch from the EC2 instance identity, or
//! with a token), then runs the host modules its cloud-aware policy enables, queues their
//! events on disk and sends them in acknowledged batches, heartbeating (and pulling a changed
//! policy) on the way. Runs in the foreground (systemd: `vigil-agent.service`). See
//! docs/agent.md.

mod client;
mod http;
mod imds;
mod osv;
mod queue;
mod runner;
mod state;

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use vigil_fleet::wire::{self, Ack, Batch, EnrolRequest, Enrolled, Heartbeat, HeartbeatReply, Reason, Rotated};

use crate::client::Server;
use crate::runner::Shared;
use crate::state::{Credential, State};

/// vigil's host agent.
///
/// Enrols with the vigil server (on EC2 with no token: the instance identity document signed
/// by AWS proves which instance this is; elsewhere with `--token`), then runs the host modules
/// the server's policy enables and sends their events. Runs in the foreground.
#[derive(Debug, Parser)]
#[command(name = "vigil-agent", version, max_term_width = 100, args_conflicts_with_subcommands = true)]
struct Cli {
    /// The vigil server (the console's URL, or its `--agent-listen` address).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// The agent's state directory (credential, queue, module state); created with mode 0700.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// The instance metadata service.
    #[arg(long, value_name = "URL", default_value = imds::DEFAULT_URL)]
    imds: String,
    /// An enrolment token from `vigil agents token create` (hosts off EC2, or IMDS blocked).
    #[arg(long, value_name = "TOKEN", env = "VIGIL_AGENT_TOKEN")]
    token: Option<String>,
    /// Trust this CA (PEM) for the server's certificate, beside the public roots.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// Run in the foreground (the default; accepted for service managers that pass it).
    #[arg(long)]
    foreground: bool,
    /// The most bytes of events the on-disk queue holds; beyond, events are counted as dropped.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    queue_max_bytes: u64,
    /// The host's file system as the modules read it (default `/`; a mounted or extracted tree
    /// for tests and image assessment: files, logs and scans are read under it).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Run `nft` for the firewall and active-response modules inside this network namespace
    /// (`ip netns exec NAME nft`): for tests, which must never change the machine's own firewall.
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Queue events read from standard input (JSON Lines: `module`, `kind`, `id`, `payload`)
    /// so the running agent sends them; prints how many were queued.
    Emit {
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
        queue_max_bytes: u64,
    },
    /// Print the agent's id, server and queue as JSON.
    Status {
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// One run of a module, started by the agent itself for the modules that run in a process
    /// of their own: reads the module's settings (one JSON line) on standard input, queues the
    /// run's events and prints its outcome. The end of standard input stops the run.
    #[command(hide = true)]
    RunModule {
        module: String,
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
        #[arg(long, value_name = "NAME")]
        netns: Option<String>,
        #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
        queue_max_bytes: u64,
    },
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One line to standard error (the journal, under systemd).
pub fn log(message: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("{} vigil-agent: {message}", chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    QUIET.store(cli.quiet, Ordering::Relaxed);
    let result = match cli.command {
        Some(Command::Emit { ref state, queue_max_bytes }) => emit(state, queue_max_bytes),
        Some(Command::Status { ref state }) => status(state),
        Some(Command::RunModule { ref module, ref state, ref root, ref netns, queue_max_bytes }) => {
            runner::child_main(module, state, queue_max_bytes, root, netns.as_deref()).map(|()| ExitCode::SUCCESS)
        }
        None => run(&cli),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("vigil-agent: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn emit(state_dir: &std::path::Path, max_bytes: u64) -> anyhow::Result<ExitCode> {
    State::open(state_dir)?;
    let mut queue = queue::Queue::open(state_dir, max_bytes).context("cannot open the queue")?;
    let (mut queued, mut dropped, mut batch) = (0u64, 0u64, Vec::new());
    let mut flush = |batch: &mut Vec<vigil_fleet::Event>| -> anyhow::Result<()> {
        let appended = queue.append(batch).context("cannot write to the queue")?;
        queued += batch.len() as u64 - appended.dropped;
        dropped += appended.dropped;
        batch.clear();
        Ok(())
    };
    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", number + 1))?;
        let text = |key: &str| value.get(key).and_then(|value| value.as_str()).map(str::to_string);
        let (Some(kind), Some(id)) = (text("kind"), text("id")) else { bail!("line {}: `kind` and `id` are required", number + 1) };
        batch.push(queue::event(&text("module").unwrap_or_else(|| "emit".into()), &kind, id, value.get("payload").cloned().unwrap_or_default()));
        if batch.len() >= 500 {
            flush(&mut batch)?;
        }
    }
    flush(&mut batch)?;
    println!("{}", serde_json::json!({ "queued": queued, "dropped": dropped }));
    Ok(ExitCode::SUCCESS)
}

fn status(state_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let state = State::open(state_dir)?;
    let credential = state.credential()?;
    let queue = queue::Queue::open(state_dir, u64::MAX).context("cannot open the queue")?;
    let policy = state.policy();
    println!(
        "{}",
        serde_json::json!({
            "agent_id": credential.as_ref().map(|credential| credential.agent_id.clone()),
            "server": credential.as_ref().map(|credential| credential.server.clone()),
            "instance_id": credential.as_ref().and_then(|credential| credential.instance_id.clone()),
            "queue": queue.state()?,
            "policy_etag": policy.as_ref().map(vigil_fleet::EffectivePolicy::etag),
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Waits with exponential backoff: 1 s, 2 s, ... up to `cap`, with jitter so a fleet does not
/// retry in step.
struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    fn new(cap: Duration) -> Backoff {
        Backoff { next: Duration::from_secs(1), cap }
    }

    fn wait(&mut self, at_least: Option<u64>) {
        let jitter = Duration::from_millis(u64::from(std::process::id() % 7) * 50 + (Instant::now().elapsed().subsec_nanos() % 250) as u64);
        let delay = self.next.max(Duration::from_secs(at_least.unwrap_or(0))).min(self.cap) + jitter;
        std::thread::sleep(delay);
        self.next = (self.next * 2).min(self.cap);
    }

    fn reset(&mut self) {
        self.next = Duration::from_secs(1);
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|name| name.trim().to_string()).unwrap_or_default()
}

/// Enrols, retrying while the server is unreachable or holds the enrolment pending; a
/// refusal ends the agent with its reason.
fn enrol(cli: &Cli, server: &Server, state: &State) -> anyhow::Result<Credential> {
    let mut backoff = Backoff::new(Duration::from_secs(300));
    loop {
        let identity = match imds::read(&cli.imds) {
            Ok(identity) => Some(identity),
            Err(error) if cli.token.is_some() => {
                log(&format!("no instance identity ({error:#}); enrolling with the token alone"));
                None
            }
            Err(error) => {
                log(&format!("cannot read the instance identity: {error:#}; retrying"));
                backoff.wait(None);
                continue;
            }
        };
        let request = EnrolRequest {
            tags: identity.as_ref().map(|identity| identity.tags.clone()).unwrap_or_default(),
            identity: identity.map(|identity| identity.identity),
            token: cli.token.clone(),
            hostname: hostname(),
            agent_version: env!("CARGO_PKG_VERSION").into(),
        };
        let reply = match server.post(wire::ENROL, None, &request) {
            Ok(reply) => reply,
            Err(error) => {
                log(&format!("{error:#}; retrying"));
                backoff.wait(None);
                continue;
            }
        };
        if reply.status == 200 {
            let enrolled: Enrolled = reply.json()?;
            let credential = Credential {
                server: server.base.clone(),
                agent_id: enrolled.agent_id.clone(),
                secret: enrolled.secret,
                next_secret: None,
                instance_id: enrolled.instance_id.clone(),
            };
            state.save_credential(&credential)?;
            log(&format!("enrolled as {} (instance {})", enrolled.agent_id, enrolled.instance_id.as_deref().unwrap_or("none")));
            return Ok(credential);
        }
        match reply.refusal() {
            Ok(refusal) if matches!(refusal.reason, Reason::Pending | Reason::Unavailable) => {
                log(&format!("enrolment pending: {}", refusal.error));
                backoff.wait(refusal.retry_after_seconds.or(reply.retry_after));
            }
            Ok(refusal) => bail!("enrolment refused ({}): {}", serde_json::to_value(refusal.reason).unwrap_or_default().as_str().unwrap_or("?"), refusal.error),
            Err(unexpected) if reply.status >= 500 => {
                log(&format!("enrolment failed ({unexpected}); retrying"));
                backoff.wait(reply.retry_after);
            }
            Err(unexpected) => bail!("enrolment refused: {unexpected}"),
        }
    }
}

/// The credential's current `Authorization` value (the rotated secret once it exists).
fn authorization(credential: &Credential) -> String {
    wire::authorization(&credential.agent_id, credential.next_secret.as_deref().unwrap_or(&credential.secret))
}

/// What ends the agent: its credential was refused for good.
fn refused(reply: &client::Reply) -> Option<String> {
    if !matches!(reply.status, 401 | 403) {
        return None;
    }
    Some(match reply.refusal() {
        Ok(refusal) => format!("{} ({})", refusal.error, serde_json::to_value(refusal.reason).unwrap_or_default().as_str().unwrap_or("?")),
        Err(unexpected) => unexpected,
    })
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let (Some(server_url), Some(state_dir)) = (&cli.server, &cli.state) else { bail!("--server URL and --state DIR are required") };
    let state = State::open(state_dir)?;
    let server = Server::new(server_url, cli.ca_cert.as_deref())?;
    let credential = match state.credential()? {
        Some(credential) => credential,
        None => enrol(cli, &server, &state)?,
    };
    let credential = Arc::new(std::sync::Mutex::new(credential));
    let shared = Arc::new(Shared::new(state.policy()));
    let mut heartbeat_seconds = 60u64;
    // The first heartbeat (and policy pull) happens before modules start, so they start under
    // the current policy when the server is reachable, and under the last one when not.
    let mut exit = heartbeat(&server, &state, &shared, &credential, &mut heartbeat_seconds);
    let mut osv_synced = Instant::now();
    let mut osv_generation = shared.policy_generation.load(Ordering::Relaxed);
    if exit.is_none() {
        sync_osv(&server, &state, &shared, &credential, &cli.root);
        // Runs of the modules that ask for a process of their own start this binary again:
        // through /proc/self/exe, the very file this process runs even after a package upgrade
        // replaced it on disk, so agent and child are always the same version.
        let own = PathBuf::from("/proc/self/exe");
        let apart = match if own.exists() { Ok(own) } else { std::env::current_exe() } {
            Ok(exe) => Some(runner::Apart { exe, netns: cli.netns.clone() }),
            Err(error) => {
                log(&format!("cannot find this agent's own binary ({error}): every module runs inside the agent's process"));
                None
            }
        };
        runner::start(Arc::clone(&shared), state.directory.clone(), cli.queue_max_bytes, cli.root.clone(), cli.netns.as_deref(), apart);
        let sender = {
            let (shared, credential, state_dir) = (Arc::clone(&shared), Arc::clone(&credential), state.directory.clone());
            let server = Server::new(server_url, cli.ca_cert.as_deref())?;
            let queue_max_bytes = cli.queue_max_bytes;
            std::thread::spawn(move || send(&server, &state_dir, queue_max_bytes, &shared, &credential))
        };
        let mut last = Instant::now();
        while exit.is_none() && !shared.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(500));
            if last.elapsed() >= Duration::from_secs(heartbeat_seconds) {
                last = Instant::now();
                exit = heartbeat(&server, &state, &shared, &credential, &mut heartbeat_seconds);
                let generation = shared.policy_generation.load(Ordering::Relaxed);
                if exit.is_none() && (osv_synced.elapsed() >= OSV_SYNC_EVERY || generation != osv_generation) {
                    (osv_synced, osv_generation) = (Instant::now(), generation);
                    sync_osv(&server, &state, &shared, &credential, &cli.root);
                }
            }
        }
        shared.stop.store(true, Ordering::Relaxed);
        shared.notify_queued();
        if let Ok(Some(message)) = sender.join() {
            exit = Some(message);
        }
    }
    match exit {
        Some(message) => {
            eprintln!("vigil-agent: stopped: {message}");
            Ok(ExitCode::from(3))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// How often the agent asks the server whether its OSV advisories changed (and at each new
/// policy).
const OSV_SYNC_EVERY: Duration = Duration::from_secs(3600);

/// Fetches the server's OSV advisories for the vulnerability module when the policy wants
/// them (`vulns` enabled without an `osv` path on the host); a failure is logged and the copy
/// held is kept (the module reports an error while there is none).
fn sync_osv(server: &Server, state: &State, shared: &Shared, credential: &std::sync::Mutex<Credential>, root: &std::path::Path) {
    let wanted = shared.policy.read().ok().and_then(|policy| policy.as_ref().map(osv::wanted)).unwrap_or(false);
    let Some(current) = credential.lock().ok().map(|credential| credential.clone()) else { return };
    if !wanted {
        return;
    }
    match osv::sync(server, &authorization(&current), &state.directory, root) {
        Ok(Some(version)) => log(&format!("osv: advisories version {version} from the server")),
        Ok(None) => {}
        Err(error) => log(&format!("osv: {error:#}")),
    }
}

/// One heartbeat: reports health and queue, pulls the policy when its ETag changed, rotates
/// the secret when asked. Returns why the agent must stop, if it must.
fn heartbeat(server: &Server, state: &State, shared: &Shared, credential: &std::sync::Mutex<Credential>, heartbeat_seconds: &mut u64) -> Option<String> {
    let current = credential.lock().ok()?.clone();
    let queue_state = queue::Queue::open(&state.directory, u64::MAX).and_then(|queue| queue.state()).unwrap_or_default();
    let policy_etag = shared.policy.read().ok().and_then(|policy| policy.as_ref().map(vigil_fleet::EffectivePolicy::etag));
    let beat = Heartbeat {
        agent_id: current.agent_id.clone(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        hostname: hostname(),
        policy_etag: policy_etag.clone(),
        queue: queue_state,
        modules: shared.module_health(),
    };
    let reply = match server.post(wire::HEARTBEAT, Some(&authorization(&current)), &beat) {
        Ok(reply) => reply,
        Err(error) => {
            log(&format!("heartbeat: {error:#}"));
            return None;
        }
    };
    if let Some(message) = refused(&reply) {
        return Some(message);
    }
    if !reply.ok() {
        log(&format!("heartbeat: HTTP {}", reply.status));
        return None;
    }
    confirm_rotation(state, credential);
    shared.contacted();
    let Ok(answer) = reply.json::<HeartbeatReply>() else { return None };
    if !answer.commands.is_empty() {
        receive_commands(server, state, &current, &answer.commands);
    }
    *heartbeat_seconds = answer.heartbeat_seconds.clamp(1, 3600);
    if policy_etag.as_deref() != Some(answer.policy_etag.as_str()) {
        match server.get(wire::POLICY, &authorization(&current), policy_etag.as_deref()) {
            Ok(reply) if reply.status == 200 => match reply.json::<vigil_fleet::EffectivePolicy>() {
                Ok(policy) => {
                    if let Err(error) = state.save_policy(&policy) {
                        log(&format!("{error:#}"));
                    }
                    log(&format!("policy {} (rules: {})", policy.etag(), policy.rules.join(", ")));
                    if let Ok(mut slot) = shared.policy.write() {
                        *slot = Some(policy);
                    }
                    shared.policy_generation.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => log(&format!("policy: {error:#}")),
            },
            Ok(reply) if reply.status == 304 => {}
            Ok(reply) => log(&format!("policy: HTTP {}", reply.status)),
            Err(error) => log(&format!("policy: {error:#}")),
        }
    }
    if answer.rotate {
        rotate(server, state, credential);
    }
    None
}

/// Puts each command the server sent into its module's inbox (durably; a command held or run
/// already is not written again), then acknowledges those held, so the server stops sending
/// them. A command not written is not acknowledged: the next heartbeat brings it again.
fn receive_commands(server: &Server, state: &State, credential: &Credential, commands: &[wire::AgentCommand]) {
    let mut held = Vec::new();
    for command in commands {
        if command.module.is_empty() || !command.module.chars().all(|character| character.is_ascii_lowercase() || character == '_') {
            log(&format!("command {}: no module `{}`", command.id, command.module));
            continue;
        }
        let directory = state.directory.join("modules").join(&command.module);
        let delivered = crate::state::ensure_private_dir(&directory)
            .map_err(|error| format!("{error:#}"))
            .and_then(|()| vigil_host::module::deliver_command(&directory, command).map_err(|error| error.to_string()));
        match delivered {
            Ok(new) => {
                if new {
                    log(&format!(
                        "command {} for `{}`: {} {} (asked by {})",
                        command.id, command.module, command.kind, command.arguments, command.requested_by
                    ));
                }
                held.push(command.id.clone());
            }
            Err(error) => log(&format!("command {}: {error}", command.id)),
        }
    }
    if held.is_empty() {
        return;
    }
    let ack = wire::CommandsAck { agent_id: credential.agent_id.clone(), ids: held };
    match server.post(wire::COMMANDS_ACK, Some(&authorization(credential)), &ack) {
        Ok(reply) if reply.ok() => {}
        Ok(reply) => log(&format!("acknowledging commands: HTTP {}", reply.status)),
        Err(error) => log(&format!("acknowledging commands: {error:#}")),
    }
}

/// Asks for a new secret and keeps it beside the old one until a request succeeds with it.
fn rotate(server: &Server, state: &State, credential: &std::sync::Mutex<Credential>) {
    let Ok(mut current) = credential.lock() else { return };
    match server.post(wire::ROTATE, Some(&authorization(&current)), &serde_json::json!({})) {
        Ok(reply) if reply.ok() => match reply.json::<Rotated>() {
            Ok(rotated) => {
                current.next_secret = Some(rotated.secret);
                match state.save_credential(&current) {
                    Ok(()) => log("secret rotated"),
                    Err(error) => log(&format!("{error:#}")),
                }
            }
            Err(error) => log(&format!("rotation: {error:#}")),
        },
        Ok(reply) => log(&format!("rotation: HTTP {}", reply.status)),
        Err(error) => log(&format!("rotation: {error:#}")),
    }
}

/// A request with the new secret succeeded: it is the secret now.
fn confirm_rotation(state: &State, credential: &std::sync::Mutex<Credential>) {
    let Ok(mut current) = credential.lock() else { return };
    if let Some(next) = current.next_secret.take() {
        current.secret = next;
        if let Err(error) = state.save_credential(&current) {
            log(&format!("{error:#}"));
        }
    }
}

/// The sender: oldest unacknowledged events first, in batches; deletes them once the server
/// committed them; backs off while the server is unreachable or busy.
fn send(server: &Server, state_dir: &std::path::Path, queue_max_bytes: u64, shared: &Shared, credential: &std::sync::Mutex<Credential>) -> Option<String> {
    let mut queue = match queue::Queue::open(state_dir, queue_max_bytes) {
        Ok(queue) => queue,
        Err(error) => return Some(format!("cannot open the queue: {error}")),
    };
    let mut backoff = Backoff::new(Duration::from_secs(60));
    let mut max_events = wire::MAX_BATCH_EVENTS;
    while !shared.stop.load(Ordering::Relaxed) {
        let events = match queue.peek(max_events, wire::MAX_BODY_BYTES / 2) {
            Ok(events) => events,
            Err(error) => {
                log(&format!("cannot read the queue: {error}"));
                backoff.wait(None);
                continue;
            }
        };
        if events.is_empty() {
            let (count, condvar) = &shared.queued;
            if let Ok(guard) = count.lock() {
                let _ = condvar.wait_timeout(guard, Duration::from_secs(2));
            }
            continue;
        }
        let current = match credential.lock() {
            Ok(current) => current.clone(),
            Err(_) => return Some("internal error: the credential lock is poisoned".into()),
        };
        let batch = Batch { agent_id: current.agent_id.clone(), events };
        let reply = match server.post(wire::EVENTS, Some(&authorization(&current)), &batch) {
            Ok(reply) => reply,
            Err(error) => {
                log(&format!("sending events: {error:#}; retrying"));
                backoff.wait(None);
                continue;
            }
        };
        if let Some(message) = refused(&reply) {
            shared.stop.store(true, Ordering::Relaxed);
            return Some(message);
        }
        match reply.status {
            200 => match reply.json::<Ack>() {
                Ok(ack) => {
                    shared.contacted();
                    confirm_rotation_quietly(credential, state_dir);
                    if let Err(error) = queue.ack(ack.acked_through) {
                        log(&format!("cannot update the queue: {error}"));
                    }
                    backoff.reset();
                    max_events = wire::MAX_BATCH_EVENTS;
                }
                Err(error) => {
                    log(&format!("{error:#}"));
                    backoff.wait(None);
                }
            },
            413 if max_events > 1 => max_events /= 2,
            status => {
                log(&format!("sending events: HTTP {status}: {}; retrying", reply.refusal().map(|refusal| refusal.error).unwrap_or_else(|other| other)));
                backoff.wait(reply.retry_after);
            }
        }
    }
    None
}

fn confirm_rotation_quietly(credential: &std::sync::Mutex<Credential>, state_dir: &std::path::Path) {
    if credential.lock().map(|current| current.next_secret.is_some()).unwrap_or(false)
        && let Ok(state) = State::open(state_dir)
    {
        confirm_rotation(&state, credential);
    }
}
