//! The persisted baseline: one SQLite file holding the configuration it was taken with, every
//! recorded entry, the state of the current rescan (so that a killed rescan resumes), and the
//! outbox of changes found by rescans and real-time events (each change written in the same
//! transaction as the entry it updates, so it is reported exactly once).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::entry::{Entry, Kind};
use super::{Change, ChangeKind, FimConfig};

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline `{path}`: {error}")]
    Sqlite { path: String, error: rusqlite::Error },
    #[error("`{path}` is not a vigil integrity baseline: {reason}")]
    NotABaseline { path: String, reason: String },
}

const SCHEMA_VERSION: &str = "1";

/// An open baseline database.
pub struct Baseline {
    connection: Connection,
    path: String,
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Baseline").field("path", &self.path).finish()
    }
}

impl Baseline {
    /// Creates a new, empty baseline at `path`, replacing what a previous one recorded.
    pub fn create(path: &Path, config: &FimConfig) -> Result<Baseline, BaselineError> {
        let baseline = Baseline::connect(path)?;
        let error = |error| BaselineError::Sqlite { path: baseline.path.clone(), error };
        baseline
            .connection
            .execute_batch(
                "DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS changes;
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE entries (path BLOB PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL, mode INTEGER NOT NULL,
                     uid INTEGER NOT NULL, gid INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,
                     target BLOB, hash BLOB, xattrs BLOB, generation INTEGER NOT NULL) WITHOUT ROWID;
                 CREATE TABLE changes (id INTEGER PRIMARY KEY, time TEXT NOT NULL, path BLOB NOT NULL, change TEXT NOT NULL, json TEXT NOT NULL);",
            )
            .map_err(error)?;
        let config_json = serde_json::to_string(config).unwrap_or_default();
        for (key, value) in [("schema", SCHEMA_VERSION), ("config", &config_json), ("generation", "0"), ("scan_complete", "1")] {
            baseline.connection.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![key, value]).map_err(error)?;
        }
        Ok(baseline)
    }

    /// Opens an existing baseline.
    pub fn open(path: &Path) -> Result<Baseline, BaselineError> {
        if !path.exists() {
            return Err(BaselineError::NotABaseline {
                path: path.display().to_string(),
                reason: "the file does not exist (record one with `vigil host fim baseline`)".to_string(),
            });
        }
        let baseline = Baseline::connect(path)?;
        match baseline.meta("schema") {
            Ok(Some(version)) if version == SCHEMA_VERSION => Ok(baseline),
            Ok(Some(version)) => Err(BaselineError::NotABaseline { path: baseline.path, reason: format!("schema version `{version}` is not supported") }),
            Ok(None) | Err(_) => Err(BaselineError::NotABaseline { path: baseline.path, reason: "it has no vigil metadata".to_string() }),
        }
    }

    fn connect(path: &Path) -> Result<Baseline, BaselineError> {
        let display = path.display().to_string();
        let error = |error| BaselineError::Sqlite { path: display.clone(), error };
        let connection = Connection::open(path).map_err(error)?;
        // WAL: a reader (the console, `check`) never blocks the agent's writes; NORMAL
        // synchronous is durable at each checkpoint and never corrupts on a crash.
        connection.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;").map_err(error)?;
        Ok(Baseline { connection, path: display })
    }

    fn sqlite(&self, error: rusqlite::Error) -> BaselineError {
        BaselineError::Sqlite { path: self.path.clone(), error }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, BaselineError> {
        self.connection.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).optional().map_err(|error| self.sqlite(error))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), BaselineError> {
        self.connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value]).map(drop).map_err(|error| self.sqlite(error))
    }

    /// The configuration the baseline was taken with.
    pub fn config(&self) -> Result<FimConfig, BaselineError> {
        let text = self.meta("config")?.unwrap_or_default();
        serde_json::from_str(&text)
            .map_err(|error| BaselineError::NotABaseline { path: self.path.clone(), reason: format!("its configuration is unreadable: {error}") })
    }

    pub fn generation(&self) -> Result<i64, BaselineError> {
        Ok(self.meta("generation")?.and_then(|text| text.parse().ok()).unwrap_or(0))
    }

    pub fn scan_complete(&self) -> Result<bool, BaselineError> {
        Ok(self.meta("scan_complete")?.as_deref() != Some("0"))
    }

    pub fn get(&self, path: &[u8]) -> Result<Option<Entry>, BaselineError> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT path, kind, size, mode, uid, gid, mtime_ns, ctime_ns, inode, target, hash, xattrs FROM entries WHERE path = ?1")
            .map_err(|error| self.sqlite(error))?;
        statement.query_row([path], entry_from_row).optional().map_err(|error| self.sqlite(error))
    }

    pub fn count(&self) -> Result<u64, BaselineError> {
        self.connection.query_row("SELECT count(*) FROM entries", [], |row| row.get::<_, i64>(0)).map(|count| count as u64).map_err(|error| self.sqlite(error))
    }

    /// Every entry, in path order, passed to `each`.
    pub fn for_each(&self, each: &mut dyn FnMut(Entry)) -> Result<(), BaselineError> {
        let mut statement = self
            .connection
            .prepare("SELECT path, kind, size, mode, uid, gid, mtime_ns, ctime_ns, inode, target, hash, xattrs FROM entries ORDER BY path")
            .map_err(|error| self.sqlite(error))?;
        let rows = statement.query_map([], entry_from_row).map_err(|error| self.sqlite(error))?;
        for row in rows {
            each(row.map_err(|error| self.sqlite(error))?);
        }
        Ok(())
    }

    /// Entries not seen since generation `generation` began.
    pub fn stale(&self, generation: i64) -> Result<Vec<Entry>, BaselineError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT path, kind, size, mode, uid, gid, mtime_ns, ctime_ns, inode, target, hash, xattrs FROM entries WHERE generation < ?1 ORDER BY path",
            )
            .map_err(|error| self.sqlite(error))?;
        let rows = statement.query_map([generation], entry_from_row).map_err(|error| self.sqlite(error))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|error| self.sqlite(error))
    }

    /// Runs `work` in one write transaction (committed when it returns `Ok`).
    pub fn write<T>(&mut self, work: impl FnOnce(&Writer<'_>) -> Result<T, rusqlite::Error>) -> Result<T, BaselineError> {
        let path = self.path.clone();
        let error = |error| BaselineError::Sqlite { path: path.clone(), error };
        let transaction = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(error)?;
        let value = work(&Writer { transaction: &transaction }).map_err(error)?;
        transaction.commit().map_err(error)?;
        Ok(value)
    }

    /// The changes in the outbox with an id above `after`, oldest first (at most `limit`).
    pub fn changes_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, serde_json::Value)>, BaselineError> {
        let mut statement = self.connection.prepare("SELECT id, json FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2").map_err(|error| self.sqlite(error))?;
        let rows = statement
            .query_map(params![after, limit as i64], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
            .map_err(|error| self.sqlite(error))?;
        let mut changes = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(|error| self.sqlite(error))?;
            changes.push((id, serde_json::from_str(&json).unwrap_or(serde_json::Value::String(json))));
        }
        Ok(changes)
    }

    /// Drops the outbox's changes up to `id` (once the agent's server has them).
    pub fn acknowledge(&self, id: i64) -> Result<(), BaselineError> {
        self.connection.execute("DELETE FROM changes WHERE id <= ?1", [id]).map(drop).map_err(|error| self.sqlite(error))
    }
}

/// Writes inside one transaction.
pub struct Writer<'a> {
    transaction: &'a rusqlite::Transaction<'a>,
}

impl Writer<'_> {
    pub fn put(&self, entry: &Entry, generation: i64) -> Result<(), rusqlite::Error> {
        let mut statement = self.transaction.prepare_cached(
            "INSERT OR REPLACE INTO entries (path, kind, size, mode, uid, gid, mtime_ns, ctime_ns, inode, target, hash, xattrs, generation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        statement.execute(params![
            entry.path,
            entry.kind.code(),
            entry.size as i64,
            entry.mode,
            entry.uid,
            entry.gid,
            entry.mtime_ns,
            entry.ctime_ns,
            entry.inode as i64,
            entry.target,
            entry.hash,
            encode_xattrs(&entry.xattrs),
            generation
        ])?;
        Ok(())
    }

    /// Marks an unchanged entry as seen in `generation`.
    pub fn touch(&self, path: &[u8], generation: i64) -> Result<(), rusqlite::Error> {
        self.transaction.prepare_cached("UPDATE entries SET generation = ?2 WHERE path = ?1")?.execute(params![path, generation]).map(drop)
    }

    pub fn remove(&self, path: &[u8]) -> Result<(), rusqlite::Error> {
        self.transaction.prepare_cached("DELETE FROM entries WHERE path = ?1")?.execute([path]).map(drop)
    }

    /// Appends a change to the outbox.
    pub fn record(&self, change: &Change) -> Result<(), rusqlite::Error> {
        let kind = match change.change {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
        };
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.transaction
            .prepare_cached("INSERT INTO changes (time, path, change, json) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![time, change.path, kind, change.to_json().to_string()])
            .map(drop)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), rusqlite::Error> {
        self.transaction.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value]).map(drop)
    }
}

fn encode_xattrs(xattrs: &[(Vec<u8>, Vec<u8>)]) -> Option<Vec<u8>> {
    if xattrs.is_empty() {
        return None;
    }
    // Length-prefixed name/value pairs: names and values may hold any byte.
    let mut out = Vec::new();
    for (name, value) in xattrs {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
    }
    Some(out)
}

fn decode_xattrs(bytes: Option<Vec<u8>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(bytes) = bytes else { return Vec::new() };
    let mut xattrs = Vec::new();
    let mut rest = bytes.as_slice();
    let take = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let length = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let value = rest.get(4..4 + length)?.to_vec();
        *rest = rest.get(4 + length..)?;
        Some(value)
    };
    while !rest.is_empty() {
        let (Some(name), Some(value)) = (take(&mut rest), take(&mut rest)) else { break };
        xattrs.push((name, value));
    }
    xattrs
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> Result<Entry, rusqlite::Error> {
    let kind_code: i64 = row.get(1)?;
    Ok(Entry {
        path: row.get(0)?,
        kind: Kind::from_code(kind_code).unwrap_or(Kind::File),
        size: row.get::<_, i64>(2)? as u64,
        mode: row.get(3)?,
        uid: row.get(4)?,
        gid: row.get(5)?,
        mtime_ns: row.get(6)?,
        ctime_ns: row.get(7)?,
        inode: row.get::<_, i64>(8)? as u64,
        target: row.get(9)?,
        hash: row.get(10)?,
        xattrs: decode_xattrs(row.get(11)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xattrs_round_trip_with_any_bytes() {
        let xattrs = vec![(b"security.capability".to_vec(), vec![0, 1, 255]), (b"user.\n".to_vec(), Vec::new())];
        assert_eq!(decode_xattrs(encode_xattrs(&xattrs)), xattrs);
        assert_eq!(decode_xattrs(Some(vec![9, 0, 0])), Vec::new());
    }

    #[test]
    fn a_file_that_is_not_a_baseline_is_refused_by_name() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("other.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        let error = Baseline::open(&path).unwrap_err().to_string();
        assert!(error.contains("other.db") && error.contains("not a vigil integrity baseline"), "{error}");
        let missing = Baseline::open(&directory.path().join("missing.db")).unwrap_err().to_string();
        assert!(missing.contains("does not exist"), "{missing}");
    }
}
