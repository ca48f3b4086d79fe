//! Real-time integrity events from inotify, never with a silent gap: when the kernel's queue
//! overflows, or the watch limit (`fs.inotify.max_user_watches`) leaves directories unwatched,
//! the watcher asks for a full rescan instead of pretending it saw everything.
//!
//! [`Monitor`] is the loop the agent runs: a rescan at start (which finds what changed while
//! it was down), then events as they come, a rescan on overflow, and scheduled rescans
//! (rate-limited by the configuration) for what inotify cannot see.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

use super::{Baseline, Change, FimConfig, FimError, audit::AuditLog};
use crate::fsroot::{HostRoot, display_path};

/// What a wait on the watcher returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchBatch {
    /// Paths (inside the root) that may have changed, sorted and without repeats.
    Paths(Vec<Vec<u8>>),
    /// Events were lost: only a rescan can tell what changed.
    Rescan(String),
    Nothing,
}

const MASK: WatchMask = WatchMask::CREATE
    .union(WatchMask::DELETE)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MODIFY)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::ATTRIB)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::MOVE_SELF)
    .union(WatchMask::DONT_FOLLOW)
    .union(WatchMask::ONLYDIR);

/// A batch of events is compared once no event came for this long...
pub const QUIET: Duration = Duration::from_millis(200);
/// ... or once this long has passed since its first event (a steady writer).
pub const GATHER: Duration = Duration::from_secs(1);

/// inotify watches on every directory of the monitored paths.
pub struct Watcher {
    inotify: Inotify,
    root: HostRoot,
    config: FimConfig,
    filter: super::Filter,
    directories: HashMap<WatchDescriptor, Vec<u8>>,
    /// Directories that could not be watched (the limit, or an error), with the first reason.
    pub unwatched: usize,
    pub unwatched_reason: Option<String>,
    buffer: Vec<u8>,
    max_watches: Option<usize>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Watcher").field("directories", &self.directories.len()).field("unwatched", &self.unwatched).finish()
    }
}

impl Watcher {
    /// Watches every directory under the configured paths.
    pub fn new(root: &HostRoot, config: &FimConfig) -> Result<Watcher, FimError> {
        Watcher::with_limit(root, config, None)
    }

    /// Like [`Watcher::new`], using at most `max_watches` inotify watches (the agent's share of
    /// the system's `fs.inotify.max_user_watches`); directories beyond it are counted as
    /// unwatched, exactly as when the kernel's limit is reached.
    pub fn with_limit(root: &HostRoot, config: &FimConfig, max_watches: Option<usize>) -> Result<Watcher, FimError> {
        let inotify = Inotify::init().map_err(|error| FimError::Root { path: "inotify".to_string(), reason: error.to_string() })?;
        let mut watcher = Watcher {
            inotify,
            root: root.clone(),
            config: config.clone(),
            filter: config.filter()?,
            directories: HashMap::new(),
            unwatched: 0,
            unwatched_reason: None,
            buffer: vec![0; 64 * 1024],
            max_watches,
        };
        for path in config.inner_paths() {
            watcher.watch_tree(&path);
        }
        Ok(watcher)
    }

    pub fn watched(&self) -> usize {
        self.directories.len()
    }

    /// Adds watches on `inner` and every directory under it.
    fn watch_tree(&mut self, inner: &[u8]) {
        let ignored = Vec::new();
        let everything = super::Filter::new(&[], &self.config.exclude).unwrap_or_else(|_| self.filter.clone());
        let mut walk = super::walk::Walk::new(&self.root, &[inner.to_vec()], &everything, &ignored);
        loop {
            let chunk = walk.next_chunk(super::CHUNK);
            if chunk.is_empty() {
                break;
            }
            for found in chunk.into_iter().filter(|found| found.metadata.is_dir()) {
                let added = if self.max_watches.is_some_and(|limit| self.directories.len() >= limit) {
                    Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
                } else {
                    self.inotify.watches().add(&found.real, MASK)
                };
                match added {
                    Ok(descriptor) => {
                        self.directories.insert(descriptor, found.inner);
                    }
                    Err(error) => {
                        self.unwatched += 1;
                        if self.unwatched_reason.is_none() {
                            let hint = if error.raw_os_error() == Some(libc::ENOSPC) {
                                " (the inotify watch limit, fs.inotify.max_user_watches, is reached)"
                            } else {
                                ""
                            };
                            self.unwatched_reason = Some(format!("cannot watch `{}`: {error}{hint}", display_path(&found.inner)));
                        }
                    }
                }
            }
        }
    }

    /// Waits up to `timeout` for events, then gathers what comes until a short quiet time
    /// ([`QUIET`], at most [`GATHER`] in all), so that a file written in steps (truncated, then
    /// written) is compared once, when the writer is done.
    pub fn wait(&mut self, timeout: Duration) -> WatchBatch {
        let deadline = Instant::now() + timeout;
        let mut paths = BTreeSet::new();
        let mut new_directories = Vec::new();
        let mut overflow = false;
        let mut first_event: Option<Instant> = None;
        let mut last_event = Instant::now();
        loop {
            let mut got_any = false;
            match self.inotify.read_events(&mut self.buffer) {
                Ok(events) => {
                    for event in events {
                        got_any = true;
                        last_event = Instant::now();
                        first_event.get_or_insert(last_event);
                        if event.mask.contains(EventMask::Q_OVERFLOW) {
                            overflow = true;
                            continue;
                        }
                        let Some(directory) = self.directories.get(&event.wd).cloned() else { continue };
                        if event.mask.contains(EventMask::IGNORED) {
                            self.directories.remove(&event.wd);
                            continue;
                        }
                        let mut path = directory.clone();
                        if let Some(name) = event.name {
                            if path.last() != Some(&b'/') {
                                path.push(b'/');
                            }
                            path.extend_from_slice(name.as_bytes());
                        }
                        if event.mask.contains(EventMask::ISDIR) && event.mask.intersects(EventMask::CREATE | EventMask::MOVED_TO) {
                            new_directories.push(path.clone());
                        }
                        if !self.filter.excluded(&path) {
                            paths.insert(path);
                        }
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(error) => return WatchBatch::Rescan(format!("reading inotify events failed: {error}")),
            }
            if !got_any {
                let settled = last_event.elapsed() >= QUIET || first_event.is_some_and(|first| first.elapsed() >= GATHER);
                if overflow || (paths.is_empty() && Instant::now() >= deadline) || (!paths.is_empty() && settled) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        for directory in new_directories {
            self.watch_tree(&directory);
        }
        if overflow {
            return WatchBatch::Rescan("the inotify event queue overflowed (events were lost)".to_string());
        }
        if paths.is_empty() { WatchBatch::Nothing } else { WatchBatch::Paths(paths.into_iter().collect()) }
    }
}

/// Options of the monitoring loop.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// At most this many inotify watches (None: as many as the kernel allows).
    pub max_watches: Option<usize>,
    /// Time between scheduled full rescans.
    pub rescan_every: Duration,
    /// When the watch limit leaves directories unwatched, rescans come this often instead.
    pub rescan_every_when_unwatched: Duration,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions { max_watches: None, rescan_every: Duration::from_secs(12 * 3600), rescan_every_when_unwatched: Duration::from_secs(3600) }
    }
}

/// What the monitor tells its caller.
#[derive(Debug)]
pub enum MonitorEvent<'a> {
    /// Changes written to the outbox (real-time, or found by a rescan).
    Changes(&'a [Change]),
    RescanStarted(&'a str),
    RescanFinished {
        changes: u64,
    },
    /// Watching is partial: some directories are covered only by rescans.
    Degraded(&'a str),
}

/// Runs the integrity monitor until `control` breaks: a rescan at start, then real-time events.
pub fn monitor(
    root: &HostRoot,
    baseline: &mut Baseline,
    config: &FimConfig,
    options: &MonitorOptions,
    audit: Option<&AuditLog>,
    control: &mut dyn FnMut(MonitorEvent<'_>) -> ControlFlow<()>,
) -> Result<(), FimError> {
    let mut watcher = Watcher::with_limit(root, config, options.max_watches)?;
    let mut rescan_reason = Some("start (changes made while the monitor was not running)".to_string());
    let mut last_rescan = Instant::now();
    loop {
        let every = if watcher.unwatched > 0 { options.rescan_every_when_unwatched } else { options.rescan_every };
        if rescan_reason.is_none() && last_rescan.elapsed() >= every {
            rescan_reason = Some("scheduled".to_string());
        }
        if let Some(reason) = rescan_reason.take() {
            if let Some(unwatched) = &watcher.unwatched_reason
                && control(MonitorEvent::Degraded(unwatched)).is_break()
            {
                return Ok(());
            }
            if control(MonitorEvent::RescanStarted(&reason)).is_break() {
                return Ok(());
            }
            let outcome = super::rescan(root, baseline, config, audit, &mut |_| ControlFlow::Continue(()))?;
            last_rescan = Instant::now();
            let changes = match outcome {
                super::RescanOutcome::Completed { changes, .. } | super::RescanOutcome::Interrupted { changes } => changes,
            };
            if control(MonitorEvent::RescanFinished { changes }).is_break() {
                return Ok(());
            }
        }
        match watcher.wait(Duration::from_millis(500)) {
            WatchBatch::Nothing => {
                if control(MonitorEvent::Changes(&[])).is_break() {
                    return Ok(());
                }
            }
            WatchBatch::Rescan(reason) => rescan_reason = Some(reason),
            WatchBatch::Paths(paths) => {
                let changes = super::apply_paths(root, baseline, config, &paths, audit)?;
                if control(MonitorEvent::Changes(&changes)).is_break() {
                    return Ok(());
                }
            }
        }
    }
}
