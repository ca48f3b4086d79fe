//! OSV records (the Open Source Vulnerability schema, ossf/osv-schema) and loading them from
//! what osv.dev publishes: a directory of `.json` records, a zip of them (the per-ecosystem
//! `all.zip` archives), or one file. Only the fields matching needs are kept; unknown fields
//! are ignored. A record that cannot be parsed is a problem naming its file (and the entry in
//! a zip); every other record is still used. Records serialize back to OSV JSON with the
//! fields kept (what the server stores for its agents: `vigil osv load`).

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One vulnerability record.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Record {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<AffectedPackage>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AffectedPackage {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event: exactly one of the fields is set.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Record {
    /// The OSV ecosystem names (without release suffix: `Debian`, `Ubuntu`, `Red Hat`) of the
    /// packages it affects: what the server indexes a stored record by.
    pub fn ecosystem_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .affected
            .iter()
            .filter_map(|affected| affected.package.as_ref())
            .map(|package| package.ecosystem.split(':').next().unwrap_or(&package.ecosystem).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// An ecosystem name as the server files records under it: the part before the release.
pub fn base_ecosystem(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

/// A record that could not be used, naming its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RecordProblem {
    pub file: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a zip archive: {message}")]
    Zip { path: String, message: String },
}

/// Records and problems from a directory, a zip or a JSON file.
pub fn load(path: &Path) -> Result<(Vec<Record>, Vec<RecordProblem>), LoadError> {
    let loaded = load_with(path, &|_| true)?;
    Ok((loaded.records, loaded.problems))
}

/// What [`load_with`] read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The records `keep` kept.
    pub records: Vec<Record>,
    pub problems: Vec<RecordProblem>,
    /// Every record parsed, kept or not.
    pub read: usize,
}

/// Records from a directory, a zip or a JSON file, keeping only those `keep` accepts as they are
/// read: one file (or zip entry, or element of a bundled array) is held at a time, so a host
/// holds its own advisories, not the archive.
pub fn load_with(path: &Path, keep: &dyn Fn(&Record) -> bool) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
    let mut sink = Sink { keep, loaded: Loaded::default() };
    if metadata.is_dir() {
        let mut files = Vec::new();
        collect_json_files(path, &mut files).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
        files.sort();
        for file in files {
            let file_name = file.display().to_string();
            match std::fs::read(&file) {
                Ok(bytes) => sink.parse(&file_name, &bytes),
                Err(error) => sink.problem(file_name, format!("cannot read: {error}")),
            }
        }
    } else if path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("zip")) {
        let file = std::fs::File::open(path).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
        let mut archive =
            zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|error| LoadError::Zip { path: shown.clone(), message: error.to_string() })?;
        for index in 0..archive.len() {
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(error) => {
                    sink.problem(format!("{shown} entry {index}"), error.to_string());
                    continue;
                }
            };
            let name = match entry.name() {
                Ok(name) => name.into_owned(),
                Err(error) => {
                    sink.problem(format!("{shown} entry {index}"), format!("unreadable name: {error}"));
                    continue;
                }
            };
            if !entry.is_file() || !name.ends_with(".json") {
                continue;
            }
            let file_name = format!("{shown}:{name}");
            let mut bytes = Vec::with_capacity(entry.size().min(64 << 20) as usize);
            match entry.by_ref().take(64 << 20).read_to_end(&mut bytes) {
                Ok(_) => sink.parse(&file_name, &bytes),
                Err(error) => sink.problem(file_name, format!("cannot decompress: {error}")),
            }
        }
    } else {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
        sink.parse(&shown, &bytes);
    }
    Ok(sink.loaded)
}

fn collect_json_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            collect_json_files(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// One file: a record, or an array of records (some exports bundle them).
pub fn parse_into(file: &str, bytes: &[u8], records: &mut Vec<Record>, problems: &mut Vec<RecordProblem>) {
    let mut sink = Sink { keep: &|_| true, loaded: Loaded::default() };
    sink.parse(file, bytes);
    records.append(&mut sink.loaded.records);
    problems.append(&mut sink.loaded.problems);
}

/// Where parsed records go: kept or counted, problems named.
struct Sink<'a> {
    keep: &'a dyn Fn(&Record) -> bool,
    loaded: Loaded,
}

impl Sink<'_> {
    fn problem(&mut self, file: String, message: String) {
        self.loaded.problems.push(RecordProblem { file, message });
    }

    fn record(&mut self, file: impl FnOnce() -> String, record: Record) {
        if record.id.trim().is_empty() {
            self.problem(file(), "record without an `id`".to_string());
            return;
        }
        self.loaded.read += 1;
        if (self.keep)(&record) {
            self.loaded.records.push(record);
        }
    }

    fn parse(&mut self, file: &str, bytes: &[u8]) {
        let trimmed = bytes.iter().position(|byte| !byte.is_ascii_whitespace()).map(|start| &bytes[start..]).unwrap_or_default();
        if trimmed.first() != Some(&b'[') {
            match serde_json::from_slice::<Record>(bytes) {
                Ok(record) => self.record(|| file.to_string(), record),
                Err(error) => self.problem(file.to_string(), error.to_string()),
            }
            return;
        }
        // An array: one element at a time, so a bundle is never held whole as JSON values.
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let outcome = serde::Deserializer::deserialize_seq(&mut deserializer, Elements { sink: self, file });
        if let Err(error) = outcome.and_then(|()| deserializer.end()) {
            self.problem(file.to_string(), error.to_string());
        }
    }
}

/// Visits a bundled array's elements: each is a JSON value first (so one bad element is a
/// problem naming its index, not the end of the file), then a record.
struct Elements<'s, 'a> {
    sink: &'s mut Sink<'a>,
    file: &'s str,
}

impl<'de> serde::de::Visitor<'de> for Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an array of OSV records")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut elements: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(value) = elements.next_element::<serde_json::Value>()? {
            let file = || format!("{}[{index}]", self.file);
            match serde_json::from_value::<Record>(value) {
                Ok(record) => self.sink.record(file, record),
                Err(error) => self.sink.problem(file(), error.to_string()),
            }
            index += 1;
        }
        Ok(())
    }
}
