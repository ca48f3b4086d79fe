//! File integrity monitoring: a baseline of the monitored paths (type, size, mode, owner,
//! group, mtime, inode, link target, contents' hash, extended attributes), checks against it,
//! resumable rescans that feed an outbox of changes, and real-time events from inotify
//! ([`watch`]), with who made a change from auditd where it runs ([`audit`]).
//!
//! Two ways to compare:
//! - [`check`] is read-only: what changed since the baseline (`vigil host fim check`);
//! - [`rescan`] accepts what it finds: each change is written to the outbox in the same
//!   transaction that updates its entry, chunk by chunk, so a rescan killed at any point and
//!   run again reports every change exactly once (the agent's mode).

pub mod audit;
pub mod entry;
pub mod store;
pub mod walk;
pub mod watch;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use entry::{Entry, EntryError, HashAlgorithm, Kind};
pub use store::{Baseline, BaselineError};
pub use walk::{Filter, PatternError, Problem};

use crate::fsroot::{HostRoot, display_path};
use crate::rate::{Pacer, RateLimit};

/// What to monitor and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FimConfig {
    /// Paths inside the root to walk (`/etc`, `/usr/bin`); `/` for everything.
    pub paths: Vec<String>,
    /// Only paths matching one of these globs are recorded (empty: all).
    pub include: Vec<String>,
    /// Paths matching one of these globs are skipped with everything under them.
    pub exclude: Vec<String>,
    pub hash: HashAlgorithm,
    /// Record extended attributes (POSIX ACLs, file capabilities, SELinux labels).
    pub xattrs: bool,
    /// Limits for rescans (one-shot commands run unlimited on every core by default).
    pub rate: RateLimit,
    /// Threads hashing in parallel when unlimited (0: one per core).
    pub threads: usize,
}

impl Default for FimConfig {
    fn default() -> FimConfig {
        FimConfig {
            paths: vec!["/".to_string()],
            include: Vec::new(),
            exclude: Vec::new(),
            hash: HashAlgorithm::Blake3,
            xattrs: true,
            rate: RateLimit::UNLIMITED,
            threads: 0,
        }
    }
}

impl FimConfig {
    /// The paths a live system's baseline covers by default: binaries, libraries, boot and
    /// configuration, plus root's and the SSH daemon's keys.
    pub fn live_default() -> FimConfig {
        FimConfig {
            paths: ["/etc", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/local", "/lib", "/boot", "/root/.ssh"].map(str::to_string).to_vec(),
            exclude: ["/etc/mtab", "/etc/adjtime", "/etc/ld.so.cache", "/usr/lib/**/__pycache__"].map(str::to_string).to_vec(),
            ..FimConfig::default()
        }
    }

    fn filter(&self) -> Result<Filter, FimError> {
        Filter::new(&self.include, &self.exclude).map_err(FimError::Pattern)
    }

    fn inner_paths(&self) -> Vec<Vec<u8>> {
        self.paths.iter().map(|path| crate::fsroot::parse_display_path(path)).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FimError {
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Pattern(PatternError),
    #[error("cannot start the hashing threads: {0}")]
    Threads(String),
    #[error("the root `{path}` cannot be read: {reason}")]
    Root { path: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

/// Who made a change, from the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The login user (auid) and the effective user at the time.
    pub auid: Option<u32>,
    pub uid: Option<u32>,
    pub pid: Option<u32>,
    pub exe: Option<String>,
    pub comm: Option<String>,
    /// The audit event (`1712345678.123:456`).
    pub event: String,
}

/// One change between the baseline and the file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: Vec<u8>,
    pub change: ChangeKind,
    pub fields: Vec<&'static str>,
    pub before: Option<Entry>,
    pub after: Option<Entry>,
    pub actor: Option<Actor>,
}

impl Change {
    /// The change as `vigil host fim check --format json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = serde_json::json!({
            "path": display_path(&self.path),
            "change": self.change,
            "fields": self.fields,
            "before": self.before.as_ref().map(Entry::to_json),
            "after": self.after.as_ref().map(Entry::to_json),
        });
        if let Some(actor) = &self.actor {
            object["actor"] = serde_json::to_value(actor).unwrap_or_default();
        }
        object
    }

    fn between(before: Option<Entry>, after: Option<Entry>) -> Option<Change> {
        let (path, change, fields) = match (&before, &after) {
            (None, Some(after)) => (after.path.clone(), ChangeKind::Added, Vec::new()),
            (Some(before), None) => (before.path.clone(), ChangeKind::Removed, Vec::new()),
            (Some(before), Some(after)) => {
                let fields = before.changed_fields(after);
                if fields.is_empty() {
                    return None;
                }
                (after.path.clone(), ChangeKind::Modified, fields)
            }
            (None, None) => return None,
        };
        Some(Change { path, change, fields, before, after, actor: None })
    }
}

/// What a walk covered and what it could not read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub entries: u64,
    pub bytes_hashed: u64,
    pub problems: Vec<Problem>,
}

/// How many paths one chunk holds: the unit of parallel hashing and of one transaction.
pub const CHUNK: usize = 2048;

struct Context {
    root: HostRoot,
    config: FimConfig,
    filter: Filter,
    ignored: Vec<PathBuf>,
    pool: Option<rayon::ThreadPool>,
}

impl Context {
    fn new(root: &HostRoot, config: &FimConfig, ignored: &[PathBuf]) -> Result<Context, FimError> {
        if let Err(error) = std::fs::symlink_metadata(root.directory()) {
            return Err(FimError::Root { path: root.directory().display().to_string(), reason: error.to_string() });
        }
        let pool = if config.rate.is_unlimited() {
            Some(rayon::ThreadPoolBuilder::new().num_threads(config.threads).build().map_err(|error| FimError::Threads(error.to_string()))?)
        } else {
            None
        };
        Ok(Context { root: root.clone(), filter: config.filter()?, config: config.clone(), ignored: ignored.to_vec(), pool })
    }

    /// Reads the entries of a chunk: in parallel when unlimited, else one by one at the rate.
    fn read_chunk(&self, chunk: Vec<walk::Found>, pacer: &mut Pacer, report: &mut ScanReport) -> Vec<(Vec<u8>, Option<Entry>)> {
        let read = |found: walk::Found, pacer: Option<&mut Pacer>| {
            let result = entry::read_entry(&found.inner, &found.real, found.metadata, self.config.hash, self.config.xattrs, pacer);
            (found.inner, result)
        };
        let results: Vec<(Vec<u8>, Result<Entry, EntryError>)> = match &self.pool {
            Some(pool) => pool.install(|| chunk.into_par_iter().map(|found| read(found, None)).collect()),
            None => chunk.into_iter().map(|found| read(found, Some(&mut *pacer))).collect(),
        };
        results
            .into_iter()
            .map(|(inner, result)| match result {
                Ok(entry) => {
                    report.entries += 1;
                    if entry.kind == Kind::File {
                        report.bytes_hashed += entry.size;
                    }
                    (inner, Some(entry))
                }
                Err(EntryError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => (inner, None),
                Err(error) => {
                    report.problems.push(Problem { path: display_path(&inner), reason: error.to_string() });
                    // Exists but unreadable now: keep what the baseline says.
                    (inner, Some(Entry { path: Vec::new(), ..placeholder() }))
                }
            })
            .collect()
    }
}

/// An entry standing for "exists, could not be read" (its empty path marks it).
fn placeholder() -> Entry {
    Entry {
        path: Vec::new(),
        kind: Kind::File,
        size: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        mtime_ns: 0,
        ctime_ns: 0,
        inode: 0,
        target: None,
        hash: None,
        xattrs: Vec::new(),
    }
}

fn is_placeholder(entry: &Entry) -> bool {
    entry.path.is_empty()
}

/// Records a new baseline of `root` at `database` (replacing an older one).
pub fn baseline(root: &HostRoot, database: &Path, config: &FimConfig) -> Result<ScanReport, FimError> {
    let ignored = database_files(database);
    let context = Context::new(root, config, &ignored)?;
    let mut store = Baseline::create(database, config)?;
    store.set_meta("root", &root.directory().display().to_string())?;
    let paths = config.inner_paths();
    let mut walk = walk::Walk::new(&context.root, &paths, &context.filter, &context.ignored);
    let mut report = ScanReport::default();
    let mut pacer = Pacer::new(config.rate);
    loop {
        let chunk = walk.next_chunk(CHUNK);
        if chunk.is_empty() {
            break;
        }
        let entries = context.read_chunk(chunk, &mut pacer, &mut report);
        store.write(|writer| {
            for entry in entries.iter().filter_map(|(_, entry)| entry.as_ref()).filter(|entry| !is_placeholder(entry)) {
                writer.put(entry, 1)?;
            }
            Ok(())
        })?;
    }
    store.write(|writer| {
        writer.set_meta("generation", "1")?;
        writer.set_meta("scan_complete", "1")
    })?;
    report.problems.extend(walk.problems);
    Ok(report)
}

/// The files that make up a SQLite database at `database` (never recorded in its own baseline).
fn database_files(database: &Path) -> Vec<PathBuf> {
    let absolute = std::path::absolute(database).unwrap_or_else(|_| database.to_path_buf());
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut name = absolute.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        })
        .collect()
}

/// What changed since the baseline, without changing it. Changes are sorted by path.
pub fn check(root: &HostRoot, baseline: &Baseline, config: &FimConfig) -> Result<(Vec<Change>, ScanReport), FimError> {
    let ignored = database_files(Path::new(baseline.path()));
    let context = Context::new(root, config, &ignored)?;
    let paths = config.inner_paths();
    let mut walk = walk::Walk::new(&context.root, &paths, &context.filter, &context.ignored);
    let mut report = ScanReport::default();
    let mut pacer = Pacer::new(config.rate);
    let mut changes = Vec::new();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    loop {
        let chunk = walk.next_chunk(CHUNK);
        if chunk.is_empty() {
            break;
        }
        for (inner, entry) in context.read_chunk(chunk, &mut pacer, &mut report) {
            let Some(entry) = entry else { continue };
            seen.insert(inner.clone());
            if is_placeholder(&entry) {
                continue;
            }
            if let Some(change) = Change::between(baseline.get(&inner)?, Some(entry)) {
                changes.push(change);
            }
        }
    }
    let unreadable: Vec<Vec<u8>> = walk.unreadable.clone();
    baseline.for_each(&mut |before| {
        if !seen.contains(&before.path) && !under_any(&before.path, &unreadable) && context.config_covers(&before.path) {
            changes.push(Change { path: before.path.clone(), change: ChangeKind::Removed, fields: Vec::new(), before: Some(before), after: None, actor: None });
        }
    })?;
    changes.sort_by(|left, right| left.path.cmp(&right.path));
    report.problems.extend(walk.problems);
    Ok((changes, report))
}

impl Context {
    /// Whether a path recorded in the baseline is within what this walk covers (a check with
    /// narrower paths than the baseline does not report the others as removed).
    fn config_covers(&self, inner: &[u8]) -> bool {
        let covered = self.config.inner_paths().iter().any(|path| path == inner || is_under(inner, path));
        covered && self.filter.recorded(inner) && !excluded_on_the_way(&self.filter, inner)
    }
}

fn is_under(inner: &[u8], directory: &[u8]) -> bool {
    directory == b"/" || (inner.starts_with(directory) && inner.get(directory.len()) == Some(&b'/'))
}

fn under_any(inner: &[u8], directories: &[Vec<u8>]) -> bool {
    directories.iter().any(|directory| inner == directory.as_slice() || is_under(inner, directory))
}

fn excluded_on_the_way(filter: &Filter, inner: &[u8]) -> bool {
    inner.iter().enumerate().filter(|(_, byte)| **byte == b'/').any(|(index, _)| index > 0 && filter.excluded(&inner[..index])) || filter.excluded(inner)
}

/// How a rescan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RescanOutcome {
    /// Every path was compared; `changes` were written to the outbox.
    Completed { changes: u64, report_problems: usize },
    /// Stopped by the caller after some chunks; the next rescan resumes it.
    Interrupted { changes: u64 },
}

/// Compares the file system with the baseline and accepts what changed: each change goes to
/// the outbox in the transaction that updates its entry. `between_chunks` is called after each
/// committed chunk and may stop the rescan (an agent shutting down); a rescan stopped, or
/// killed, is resumed by the next call and reports each change once in all.
pub fn rescan(
    root: &HostRoot,
    baseline: &mut Baseline,
    config: &FimConfig,
    audit: Option<&audit::AuditLog>,
    between_chunks: &mut dyn FnMut(u64) -> ControlFlow<()>,
) -> Result<RescanOutcome, FimError> {
    let ignored = database_files(Path::new(baseline.path()));
    let context = Context::new(root, config, &ignored)?;
    // A rescan that did not complete is resumed under its own generation: entries it already
    // compared carry that generation and compare equal again.
    let generation = if baseline.scan_complete()? { baseline.generation()? + 1 } else { baseline.generation()? };
    baseline.write(|writer| {
        writer.set_meta("generation", &generation.to_string())?;
        writer.set_meta("scan_complete", "0")
    })?;
    let paths = config.inner_paths();
    let mut walk = walk::Walk::new(&context.root, &paths, &context.filter, &context.ignored);
    let mut report = ScanReport::default();
    let mut pacer = Pacer::new(config.rate);
    let mut changes = 0u64;
    loop {
        let chunk = walk.next_chunk(CHUNK);
        if chunk.is_empty() {
            break;
        }
        let observed = context.read_chunk(chunk, &mut pacer, &mut report);
        let mut pending = Vec::new();
        for (inner, entry) in observed {
            let Some(entry) = entry else { continue };
            let before = baseline.get(&inner)?;
            if is_placeholder(&entry) {
                pending.push((inner, None, None));
                continue;
            }
            let change = Change::between(before, Some(entry.clone())).map(|change| with_actor(change, audit));
            pending.push((inner, Some(entry), change));
        }
        changes += baseline.write(|writer| {
            let mut written = 0;
            for (inner, entry, change) in &pending {
                match (entry, change) {
                    (Some(entry), Some(change)) => {
                        writer.put(entry, generation)?;
                        writer.record(change)?;
                        written += 1;
                    }
                    (Some(_), None) | (None, _) => writer.touch(inner, generation)?,
                }
            }
            Ok(written)
        })?;
        if between_chunks(changes).is_break() {
            return Ok(RescanOutcome::Interrupted { changes });
        }
    }
    // Entries not met by this walk are gone (unless their directory could not be read, or
    // they lie outside what this configuration covers).
    let unreadable = walk.unreadable.clone();
    let gone: Vec<Entry> =
        baseline.stale(generation)?.into_iter().filter(|entry| !under_any(&entry.path, &unreadable) && context.config_covers(&entry.path)).collect();
    changes += baseline.write(|writer| {
        for entry in &gone {
            let change = with_actor(
                Change { path: entry.path.clone(), change: ChangeKind::Removed, fields: Vec::new(), before: Some(entry.clone()), after: None, actor: None },
                audit,
            );
            writer.remove(&entry.path)?;
            writer.record(&change)?;
        }
        writer.set_meta("scan_complete", "1")?;
        Ok(gone.len() as u64)
    })?;
    report.problems.extend(walk.problems);
    Ok(RescanOutcome::Completed { changes, report_problems: report.problems.len() })
}

/// Compares and accepts single paths (from real-time events): each path is read again, and a
/// directory that appeared is walked whole. Returns the changes written to the outbox.
pub fn apply_paths(
    root: &HostRoot,
    baseline: &mut Baseline,
    config: &FimConfig,
    paths: &[Vec<u8>],
    audit: Option<&audit::AuditLog>,
) -> Result<Vec<Change>, FimError> {
    let ignored = database_files(Path::new(baseline.path()));
    let context = Context::new(root, config, &ignored)?;
    let generation = baseline.generation()?;
    let mut written = Vec::new();
    let mut report = ScanReport::default();
    let mut pacer = Pacer::new(RateLimit::UNLIMITED);
    for inner in paths {
        if !context.config_covers(inner) {
            continue;
        }
        let real = context.root.join(inner);
        let exists = std::fs::symlink_metadata(&real).is_ok();
        let mut observed = Vec::new();
        if exists {
            let mut walk = walk::Walk::new(&context.root, std::slice::from_ref(inner), &context.filter, &context.ignored);
            let is_new_directory = baseline.get(inner)?.is_none_or(|entry| entry.kind != Kind::Directory);
            loop {
                let chunk = walk.next_chunk(CHUNK);
                if chunk.is_empty() {
                    break;
                }
                // An existing directory's event is about the directory itself; its children
                // have their own events.
                let chunk: Vec<walk::Found> = if is_new_directory { chunk } else { chunk.into_iter().filter(|found| &found.inner == inner).collect() };
                observed.extend(context.read_chunk(chunk, &mut pacer, &mut report));
                if !is_new_directory {
                    break;
                }
            }
        }
        let mut pending = Vec::new();
        if !exists {
            // The path and everything the baseline holds under it are gone.
            let mut gone = Vec::new();
            if let Some(entry) = baseline.get(inner)? {
                gone.push(entry);
            }
            let mut prefix = inner.clone();
            prefix.push(b'/');
            baseline.for_each(&mut |entry| {
                if entry.path.starts_with(&prefix) {
                    gone.push(entry);
                }
            })?;
            for entry in gone {
                pending.push((entry.path.clone(), None, Change::between(Some(entry), None)));
            }
        }
        for (path, entry) in observed {
            let Some(entry) = entry.filter(|entry| !is_placeholder(entry)) else { continue };
            let change = Change::between(baseline.get(&path)?, Some(entry.clone()));
            pending.push((path, Some(entry), change));
        }
        let pending: Vec<(Vec<u8>, Option<Entry>, Option<Change>)> =
            pending.into_iter().map(|(path, entry, change)| (path, entry, change.map(|change| with_actor(change, audit)))).collect();
        baseline.write(|writer| {
            for (path, entry, change) in &pending {
                match (entry, change) {
                    (Some(entry), Some(change)) => {
                        writer.put(entry, generation)?;
                        writer.record(change)?;
                    }
                    (None, Some(change)) => {
                        writer.remove(path)?;
                        writer.record(change)?;
                    }
                    _ => {}
                }
            }
            Ok(())
        })?;
        written.extend(pending.into_iter().filter_map(|(_, _, change)| change));
    }
    Ok(written)
}

fn with_actor(mut change: Change, audit: Option<&audit::AuditLog>) -> Change {
    if let Some(audit) = audit {
        change.actor = audit.who_changed(&change.path);
    }
    change
}

#[cfg(test)]
mod tests;
