//! Host log collection: journald (through `journalctl -o json`, after a persisted cursor) and
//! text files such as `/var/log/auth.log` and `/var/log/audit/audit.log` (followed across
//! rotation by rename and truncation, the position persisted as inode, offset and
//! fingerprint), as [`LogRecord`]s for the Sigma engine ([`detect`]).
//!
//! Positions are handed to the caller with the records ([`Collector::poll`]) and saved only
//! when the caller commits them, so a caller that stores the records and the position in one
//! transaction (the agent) neither loses nor repeats a record across restarts.

pub mod detect;
pub mod file;
pub mod journal;
pub mod module;
pub mod parse;
pub mod record;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use record::LogRecord;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot read `{path}`: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("log state `{path}` is unreadable: {reason}")]
    State { path: String, reason: String },
}

/// Where each source stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    #[serde(default)]
    pub files: BTreeMap<String, file::FilePosition>,
    #[serde(default)]
    pub journal_cursor: Option<String>,
}

impl Positions {
    /// Loads positions saved at `path` (none yet: empty).
    pub fn load(path: &Path) -> Result<Positions, LogError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| LogError::State { path: path.display().to_string(), reason: error.to_string() }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Positions::default()),
            Err(error) => Err(LogError::Io { path: path.display().to_string(), error }),
        }
    }

    /// Saves atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<(), LogError> {
        let temporary = path.with_extension("tmp");
        let io = |error| LogError::Io { path: path.display().to_string(), error };
        std::fs::write(&temporary, serde_json::to_vec_pretty(self).unwrap_or_default()).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}

/// The text files to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    pub path: PathBuf,
    /// The file holds the `auth` facility (auth.log, secure). Each line is parsed as an audit
    /// record (`type=...`) or a syslog line.
    pub auth: bool,
    /// Lines without a syslog header are messages of this program (`sshd -E FILE`).
    pub program: Option<String>,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        let path = path.into();
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let auth = name.starts_with("auth.log") || name.starts_with("secure");
        FileSource { path, auth, program: None }
    }
}

/// The default files of a Debian or RHEL-like host, under `root`.
pub fn default_files(root: &crate::fsroot::HostRoot) -> Vec<FileSource> {
    ["/var/log/auth.log", "/var/log/secure", "/var/log/syslog", "/var/log/messages", "/var/log/audit/audit.log"]
        .iter()
        .map(|inner| root.join(inner.as_bytes()))
        .filter(|path| path.exists())
        .map(FileSource::new)
        .collect()
}

/// Reads text files from their saved positions.
#[derive(Debug)]
pub struct Collector {
    pub files: Vec<FileSource>,
    pub positions: Positions,
    /// Bytes read from one file per poll (bounds a catch-up after a long stop).
    pub max_bytes_per_poll: u64,
    year: i32,
}

/// A batch of records and the positions after them.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<LogRecord>,
    pub positions: Positions,
    /// Lines cut at [`parse::MAX_LINE_BYTES`] in this batch.
    pub truncated_lines: u64,
    /// Files that could not be read.
    pub problems: Vec<String>,
}

impl Collector {
    pub fn new(files: Vec<FileSource>, positions: Positions) -> Collector {
        Collector { files, positions, max_bytes_per_poll: 64 * 1024 * 1024, year: parse::this_year() }
    }

    /// Reads what is new in every file; the positions move only on [`Collector::commit`].
    pub fn poll(&self) -> Batch {
        let mut batch = Batch { positions: self.positions.clone(), ..Batch::default() };
        for source in &self.files {
            let key = source.path.display().to_string();
            let previous = self.positions.files.get(&key);
            let mut records = Vec::new();
            let mut truncated_lines = 0;
            let result = file::read_new(&source.path, previous, self.max_bytes_per_poll, &mut |event| match event {
                file::FileEvent::Line { text, truncated } => {
                    truncated_lines += u64::from(truncated);
                    if text.trim().is_empty() {
                        return;
                    }
                    let mut record =
                        parse::audit_line(&text, &key).unwrap_or_else(|| parse::syslog_line_of(&text, &key, source.auth, self.year, source.program.as_deref()));
                    // A line without a time is dated when read (correlations need a time).
                    record.fields.entry("@timestamp".to_string()).or_insert_with(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                    if truncated {
                        record.fields.insert("truncated".to_string(), "true".to_string());
                    }
                    record.bound();
                    records.push(record);
                }
                file::FileEvent::Truncated { from, to } => {
                    let mut fields = BTreeMap::new();
                    fields.insert("event".to_string(), "log_truncated".to_string());
                    fields.insert("source".to_string(), key.clone());
                    fields.insert("message".to_string(), format!("{key} shrank from {from} to {to} bytes (truncated or cleared)"));
                    fields.insert("@timestamp".to_string(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                    records.push(LogRecord { source: key.clone(), services: vec!["syslog".into()], fields });
                }
            });
            match result {
                Ok(position) => {
                    batch.positions.files.insert(key, position);
                    batch.records.extend(records);
                    batch.truncated_lines += truncated_lines;
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => batch.problems.push(format!("cannot read `{key}`: {error}")),
            }
        }
        batch
    }

    /// Accepts a batch's positions (after its records are stored).
    pub fn commit(&mut self, positions: Positions) {
        self.positions = positions;
    }
}

#[cfg(test)]
mod tests;
