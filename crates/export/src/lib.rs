//! `vigil export`: the store's findings, resources, alerts and agent events as OCSF events in
//! Parquet files, partitioned Hive-style by day, account and region
//! (`TABLE/date=YYYY-MM-DD/account=ID/region=R/part-NNNN.parquet`), for Athena, Trino, Spark or
//! DuckDB (docs/export.md).
//!
//! The events are the ones `vigil-report`'s OCSF mappings make (one rule per OCSF class, shared
//! with the JSON outputs), written with the columns [`schema::TABLES`] declares. Rows stream
//! from the store in partition order and are written in row groups, one file open at a time in
//! the usual case (at most [`MAX_OPEN_FILES`]), so memory does not grow with the store. Files
//! are written to a local staging path and handed to a [`Sink`]: a directory ([`DirectorySink`])
//! or an uploader ([`StagingSink`], which `vigil export --to s3://...` gives the S3 upload of
//! `vigil-collect`).

pub mod arrow;
pub mod schema;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::Schema;
use chrono::{DateTime, NaiveDate, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};
use vigil_report::ocsf::{FindingHistory, StoredHostEvent, StoredResource};
use vigil_store::Store;
use vigil_store::export::EachError;

use crate::schema::Table;

/// At most this many partition files are open at once; the least recently used is closed
/// (its partition's next rows go to a new part) when another is needed.
pub const MAX_OPEN_FILES: usize = 8;

/// What can go wrong in an export. Each message names the table, row, column or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] vigil_store::StoreError),
    #[error("the store's {table} row `{row}` cannot be exported: {reason}")]
    Damaged { table: &'static str, row: String, reason: String },
    #[error("column `{column}` does not fit its schema: {reason}")]
    Schema { column: String, reason: String },
    #[error("cannot write `{location}`: {reason}")]
    Write { location: String, reason: String },
    #[error("unknown table `{0}`: choose among findings, resources, alerts, host-events")]
    UnknownTable(String),
}

/// Where the files go. A file is written at the path [`Sink::stage`] gives, then
/// [`Sink::publish`]ed under its key (`findings/date=.../part-0000.parquet`).
pub trait Sink {
    /// A local path to write the file `key` to.
    fn stage(&mut self, key: &str) -> Result<PathBuf, ExportError>;
    /// Moves (or uploads) the written file to `key`.
    fn publish(&mut self, key: &str, staged: &Path) -> Result<(), ExportError>;
    /// Called once per partition (`findings/date=.../region=R/`) before this export writes its
    /// first part: the export rewrites the partition whole.
    fn clear_partition(&mut self, prefix: &str) -> Result<(), ExportError>;
    /// Where `key` ends up, for messages.
    fn location(&self, key: &str) -> String;
}

/// Files in a local directory: written beside their place and renamed into it; a partition's
/// old parts are removed before it is rewritten.
#[derive(Debug)]
pub struct DirectorySink {
    root: PathBuf,
}

impl DirectorySink {
    pub fn new(root: impl Into<PathBuf>) -> DirectorySink {
        DirectorySink { root: root.into() }
    }
}

fn write_error(location: impl std::fmt::Display, error: impl std::fmt::Display) -> ExportError {
    ExportError::Write { location: location.to_string(), reason: error.to_string() }
}

impl Sink for DirectorySink {
    fn stage(&mut self, key: &str) -> Result<PathBuf, ExportError> {
        let path = self.root.join(format!("{key}.tmp"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| write_error(parent.display(), error))?;
        }
        Ok(path)
    }

    fn publish(&mut self, key: &str, staged: &Path) -> Result<(), ExportError> {
        let path = self.root.join(key);
        std::fs::rename(staged, &path).map_err(|error| write_error(path.display(), error))
    }

    fn clear_partition(&mut self, prefix: &str) -> Result<(), ExportError> {
        let directory = self.root.join(prefix);
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(write_error(directory.display(), error)),
        };
        for entry in entries {
            let path = entry.map_err(|error| write_error(directory.display(), error))?.path();
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            if name.starts_with("part-") && name.ends_with(".parquet") {
                std::fs::remove_file(&path).map_err(|error| write_error(path.display(), error))?;
            }
        }
        Ok(())
    }

    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }
}

/// Files staged in a local directory, each handed to `upload(key, path)` once written and then
/// removed, so the staging directory holds at most the open files. Old parts are not removed
/// from the destination (see docs/export.md).
pub struct StagingSink<Upload: FnMut(&str, &Path) -> Result<(), String>> {
    staging: PathBuf,
    destination: String,
    upload: Upload,
    staged: u64,
}

impl<Upload: FnMut(&str, &Path) -> Result<(), String>> StagingSink<Upload> {
    /// `destination` names where keys go, for messages (`s3://bucket/prefix`).
    pub fn new(staging: impl Into<PathBuf>, destination: impl Into<String>, upload: Upload) -> Self {
        StagingSink { staging: staging.into(), destination: destination.into(), upload, staged: 0 }
    }
}

impl<Upload: FnMut(&str, &Path) -> Result<(), String>> Sink for StagingSink<Upload> {
    fn stage(&mut self, _key: &str) -> Result<PathBuf, ExportError> {
        std::fs::create_dir_all(&self.staging).map_err(|error| write_error(self.staging.display(), error))?;
        self.staged += 1;
        Ok(self.staging.join(format!("staged-{}.parquet", self.staged)))
    }

    fn publish(&mut self, key: &str, staged: &Path) -> Result<(), ExportError> {
        let outcome = (self.upload)(key, staged).map_err(|reason| ExportError::Write { location: self.location(key), reason });
        let _ = std::fs::remove_file(staged);
        outcome
    }

    fn clear_partition(&mut self, _prefix: &str) -> Result<(), ExportError> {
        Ok(())
    }

    fn location(&self, key: &str) -> String {
        format!("{}/{key}", self.destination.trim_end_matches('/'))
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The tables (by [`Table::name`]), in this order.
    pub tables: Vec<&'static Table>,
    /// Only the partitions of this day or later.
    pub since: Option<NaiveDate>,
    /// Rows per file before a partition continues in its next part.
    pub rows_per_file: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { tables: schema::TABLES.iter().collect(), since: None, rows_per_file: 1_000_000, row_group_rows: 65_536 }
    }
}

impl ExportOptions {
    /// The tables named in a comma-separated list (`findings,alerts`).
    pub fn tables_named(list: &str) -> Result<Vec<&'static Table>, ExportError> {
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| schema::table(name).ok_or_else(|| ExportError::UnknownTable(name.to_string())))
            .collect()
    }
}

/// What an export wrote for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableSummary {
    pub table: &'static str,
    pub rows: u64,
    pub files: u64,
    pub partitions: u64,
    /// Where the files went (`DIR/findings`, `s3://bucket/prefix/findings`).
    pub location: String,
}

/// Exports the tables, one consistent state of the store (one read transaction).
pub fn export(store: &mut Store, options: &ExportOptions, sink: &mut dyn Sink) -> Result<Vec<TableSummary>, ExportError> {
    store.read_snapshot(|store| options.tables.iter().map(|table| export_table(store, table, options, sink)).collect())
}

/// A partition's day as text (`YYYY-MM-DD`), the SQL lower bound for `since`: a day earlier,
/// because an event time with an offset may fall on the day before in UTC.
fn since_bound(since: Option<NaiveDate>) -> String {
    since.and_then(|day| day.pred_opt()).map(|day| day.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn millis(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.timestamp_millis())
}

fn day_of(ms: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or(NaiveDate::MIN, |time| time.date_naive())
}

/// A store-written time, which must parse.
fn stored_millis(table: &'static str, row: impl std::fmt::Display, field: &str, text: &str) -> Result<i64, ExportError> {
    millis(text).ok_or_else(|| ExportError::Damaged { table, row: row.to_string(), reason: format!("{field} `{text}` is not an RFC 3339 time") })
}

fn flatten(error: EachError<ExportError>) -> ExportError {
    match error {
        EachError::Store(error) => ExportError::Store(error),
        EachError::Caller(error) => error,
    }
}

fn export_table(store: &mut Store, table: &'static Table, options: &ExportOptions, sink: &mut dyn Sink) -> Result<TableSummary, ExportError> {
    let mut writer = Partitioned::new(table, options, sink);
    match write_table(store, table, options, &mut writer) {
        Ok(()) => writer.finish(),
        Err(error) => {
            writer.abandon();
            Err(error)
        }
    }
}

fn write_table(store: &mut Store, table: &'static Table, options: &ExportOptions, writer: &mut Partitioned<'_>) -> Result<(), ExportError> {
    let bound = since_bound(options.since);
    let version = env!("CARGO_PKG_VERSION");
    match table.name {
        "findings" => store
            .each_export_finding(&bound, |row| {
                let finding: vigil_checks::Finding = serde_json::from_str(&row.detail).map_err(|error| ExportError::Damaged {
                    table: "findings",
                    row: row.id.to_string(),
                    reason: format!("detail: {error}"),
                })?;
                let first_seen_ms = stored_millis("findings", row.id, "first_seen_at", &row.first_seen_at)?;
                let last_seen_ms = stored_millis("findings", row.id, "last_seen_at", &row.last_seen_at)?;
                let resolved_ms = row.resolved_at.as_deref().map(|text| stored_millis("findings", row.id, "resolved_at", text)).transpose()?;
                let history = FindingHistory { first_seen_ms, last_seen_ms, resolved_ms, lifecycle: &row.lifecycle };
                let event = vigil_report::ocsf::ocsf_finding(&finding, last_seen_ms, version, Some(&history));
                writer.push(day_of(first_seen_ms), &row.account_id, &row.region, event)
            })
            .map_err(flatten)?,
        "resources" => store
            .each_export_resource(&bound, |row| {
                let first_seen_ms = stored_millis("resources", &row.arn, "first_seen_at", &row.first_seen_at)?;
                let last_seen_ms = stored_millis("resources", &row.arn, "last_seen_at", &row.last_seen_at)?;
                let event = vigil_report::ocsf::ocsf_resource(&StoredResource {
                    arn: &row.arn,
                    account_id: &row.account_id,
                    region: &row.region,
                    resource_type: &row.resource_type,
                    resource_id: &row.resource_id,
                    name: &row.name,
                    state: &row.state,
                    version: row.version,
                    first_seen_ms,
                    last_seen_ms,
                    tags: &row.tags,
                    config: row.config.as_ref(),
                });
                writer.push(day_of(first_seen_ms), &row.account_id, &row.region, event)
            })
            .map_err(flatten)?,
        "alerts" => store
            .each_export_alert(&bound, |row| {
                // The columns are the alert's identity; the detail adds the rest of what the hunt printed.
                let mut alert = if row.detail.is_object() { row.detail.clone() } else { json!({}) };
                if let Some(object) = alert.as_object_mut() {
                    for (key, value) in [
                        ("rule_id", json!(row.rule_id)),
                        ("rule_title", json!(row.rule_title)),
                        ("level", json!(row.level)),
                        ("event_id", json!(row.event_id)),
                        ("event_time", json!(row.event_time)),
                        ("event_name", json!(row.event_name)),
                        ("account_id", json!(row.account_id)),
                    ] {
                        object.insert(key.into(), value);
                    }
                }
                let mut event = vigil_report::ocsf::ocsf_alert(&alert);
                let time_ms = match millis(&row.event_time) {
                    Some(ms) => ms,
                    None => {
                        let stored = stored_millis("alerts", row.id, "stored_at", &row.stored_at)?;
                        event["time"] = json!(stored);
                        stored
                    }
                };
                let region = event["cloud"]["region"].as_str().unwrap_or_default().to_string();
                writer.push(day_of(time_ms), row.account_id.as_deref().unwrap_or_default(), &region, event)
            })
            .map_err(flatten)?,
        "host-events" => store
            .each_export_host_event(&bound, |row| {
                let row_name = format!("{}/{}", row.agent_id, row.seq);
                let received_ms = stored_millis("agent_events", &row_name, "received_at", &row.received_at)?;
                let time_ms = millis(&row.event_time).unwrap_or(received_ms);
                let event = vigil_report::ocsf::ocsf_host_event(&StoredHostEvent {
                    agent_id: &row.agent_id,
                    seq: row.seq,
                    event_id: &row.event_id,
                    module: &row.module,
                    kind: &row.kind,
                    event_time: &row.event_time,
                    time_ms,
                    received_ms,
                    hostname: &row.hostname,
                    instance_id: row.instance_id.as_deref(),
                    account_id: row.account_id.as_deref(),
                    region: row.region.as_deref(),
                    payload: &row.payload,
                });
                writer.push(day_of(time_ms), row.account_id.as_deref().unwrap_or_default(), row.region.as_deref().unwrap_or_default(), event)
            })
            .map_err(flatten)?,
        other => return Err(ExportError::UnknownTable(other.to_string())),
    }
    Ok(())
}

/// A Hive partition value: `unknown` when empty; bytes other than ASCII letters, digits, `-`
/// and `_` percent-encoded (so no value can name another directory).
pub fn partition_value(text: &str) -> String {
    if text.is_empty() {
        return "unknown".to_string();
    }
    let mut value = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            value.push(char::from(byte));
        } else {
            value.push_str(&format!("%{byte:02X}"));
        }
    }
    value
}

/// The partition directory of a row: `TABLE/date=YYYY-MM-DD/account=ID/region=R/`.
pub fn partition_prefix(table: &str, day: NaiveDate, account: &str, region: &str) -> String {
    format!("{table}/date={}/account={}/region={}/", day.format("%Y-%m-%d"), partition_value(account), partition_value(region))
}

/// One open part file of a partition.
struct OpenFile {
    prefix: String,
    key: String,
    staged: PathBuf,
    writer: ArrowWriter<File>,
    pending: Vec<Value>,
    rows: usize,
    last_used: u64,
}

/// The files of one table being written, partition by partition.
struct Partitioned<'a> {
    table: &'static Table,
    schema: Arc<Schema>,
    properties: WriterProperties,
    options: &'a ExportOptions,
    sink: &'a mut dyn Sink,
    open: Vec<OpenFile>,
    next_part: HashMap<String, u32>,
    clock: u64,
    summary: TableSummary,
}

/// Rows converted to Arrow at a time.
const BATCH_ROWS: usize = 4096;

impl<'a> Partitioned<'a> {
    fn new(table: &'static Table, options: &'a ExportOptions, sink: &'a mut dyn Sink) -> Self {
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(options.row_group_rows.max(1)))
            .set_created_by(format!("vigil {}", env!("CARGO_PKG_VERSION")))
            .build();
        let location = sink.location(table.name);
        Partitioned {
            table,
            schema: Arc::new(schema::arrow_schema(table)),
            properties,
            options,
            sink,
            open: Vec::new(),
            next_part: HashMap::new(),
            clock: 0,
            summary: TableSummary { table: table.name, location, ..TableSummary::default() },
        }
    }

    fn push(&mut self, day: NaiveDate, account: &str, region: &str, event: Value) -> Result<(), ExportError> {
        if self.options.since.is_some_and(|since| day < since) {
            return Ok(());
        }
        let prefix = partition_prefix(self.table.name, day, account, region);
        self.clock += 1;
        let index = match self.open.iter().position(|file| file.prefix == prefix) {
            Some(index) => index,
            None => self.open_file(prefix)?,
        };
        let Some(file) = self.open.get_mut(index) else {
            return Err(ExportError::Write { location: self.table.name.to_string(), reason: "lost an open file".into() });
        };
        file.last_used = self.clock;
        file.pending.push(event);
        file.rows += 1;
        self.summary.rows += 1;
        if file.pending.len() >= BATCH_ROWS {
            write_pending(file, &self.schema, self.table, &*self.sink)?;
        }
        if file.rows >= self.options.rows_per_file.max(1) {
            let file = self.open.swap_remove(index);
            self.close(file)?;
        }
        Ok(())
    }

    fn open_file(&mut self, prefix: String) -> Result<usize, ExportError> {
        if self.open.len() >= MAX_OPEN_FILES
            && let Some(oldest) = self.open.iter().enumerate().min_by_key(|(_, file)| file.last_used).map(|(index, _)| index)
        {
            let file = self.open.swap_remove(oldest);
            self.close(file)?;
        }
        let part = match self.next_part.get_mut(&prefix) {
            Some(part) => {
                *part += 1;
                *part
            }
            None => {
                self.sink.clear_partition(&prefix)?;
                self.summary.partitions += 1;
                self.next_part.insert(prefix.clone(), 0);
                0
            }
        };
        let key = format!("{prefix}part-{part:04}.parquet");
        let staged = self.sink.stage(&key)?;
        let handle = File::create(&staged).map_err(|error| write_error(staged.display(), error))?;
        let writer =
            ArrowWriter::try_new(handle, self.schema.clone(), Some(self.properties.clone())).map_err(|error| write_error(self.sink.location(&key), error))?;
        self.open.push(OpenFile { prefix, key, staged, writer, pending: Vec::new(), rows: 0, last_used: self.clock });
        Ok(self.open.len() - 1)
    }

    fn close(&mut self, mut file: OpenFile) -> Result<(), ExportError> {
        let staged = file.staged.clone();
        let outcome = write_pending(&mut file, &self.schema, self.table, &*self.sink)
            .and_then(|()| file.writer.close().map(drop).map_err(|error| write_error(self.sink.location(&file.key), error)))
            .and_then(|()| self.sink.publish(&file.key, &file.staged));
        match outcome {
            Ok(()) => {
                self.summary.files += 1;
                Ok(())
            }
            Err(error) => {
                let _ = std::fs::remove_file(&staged);
                Err(error)
            }
        }
    }

    /// After a failure: removes the files being written (published files stay).
    fn abandon(mut self) {
        for file in std::mem::take(&mut self.open) {
            drop(file.writer);
            let _ = std::fs::remove_file(&file.staged);
        }
    }

    fn finish(mut self) -> Result<TableSummary, ExportError> {
        let mut open = std::mem::take(&mut self.open);
        open.sort_by(|left, right| left.key.cmp(&right.key));
        let mut open = open.into_iter();
        while let Some(file) = open.next() {
            if let Err(error) = self.close(file) {
                self.open = open.collect();
                self.abandon();
                return Err(error);
            }
        }
        Ok(self.summary)
    }
}

fn write_pending(file: &mut OpenFile, schema: &Arc<Schema>, table: &Table, sink: &dyn Sink) -> Result<(), ExportError> {
    if file.pending.is_empty() {
        return Ok(());
    }
    let batch = arrow::record_batch(schema, table.columns, &file.pending)?;
    file.pending.clear();
    file.writer.write(&batch).map_err(|error| write_error(sink.location(&file.key), error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_cannot_leave_their_directory() {
        assert_eq!(partition_value("123456789012"), "123456789012");
        assert_eq!(partition_value("eu-west-1"), "eu-west-1");
        assert_eq!(partition_value(""), "unknown");
        assert_eq!(partition_value("../x/y"), "%2E%2E%2Fx%2Fy");
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        assert_eq!(partition_prefix("alerts", day, "1", "us-east-1"), "alerts/date=2026-01-02/account=1/region=us-east-1/");
    }
}
