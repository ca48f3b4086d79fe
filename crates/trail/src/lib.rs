//! CloudTrail for vigil: readers for CloudTrail logs, a Sigma detection engine compiled for
//! CloudTrail records, built-in detections, event search and summaries, and log-file
//! integrity validation from CloudTrail digest files.
//!
//! The engines (`sigma`, `search`, `verify`'s checks) are pure: they take parsed records or
//! bytes and do no I/O. The readers in [`read`] and the [`scan`] driver are the edge: they open
//! files, walk directories and read standard input; fetching from S3 lives in `vigil-collect`.

pub mod builtin;
pub mod hunt;
pub mod read;
pub mod search;
pub mod shard;
pub mod sigma;
pub mod usage;
pub mod value;
pub mod verify;

use rayon::prelude::*;

pub use read::Source;
pub use value::{Fields, Value};

/// Where a record came from.
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta<'a> {
    pub source: &'a str,
    pub index: u64,
}

/// A file or record that could not be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub source: String,
    /// The record's position in its file (0-based), when the problem is one record.
    pub record_index: Option<u64>,
    pub reason: String,
}

/// What a scan read, and what it had to skip.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReadReport {
    pub files: u64,
    pub records: u64,
    pub bytes: u64,
    /// Records that were skipped (malformed JSON, not an object, not a CloudTrail record).
    pub skipped_records: u64,
    /// Files that could not be read to their end (the records before the fault were used).
    pub failed_files: u64,
    /// The first problems met, in order of files (at most [`MAX_PROBLEMS`]).
    pub problems: Vec<Problem>,
}

/// How many problems a report keeps in detail; the counts stay exact.
pub const MAX_PROBLEMS: usize = 1000;

impl ReadReport {
    /// Joins the reports of two scans.
    pub fn merge(mut self, other: ReadReport) -> ReadReport {
        self.files += other.files;
        self.records += other.records;
        self.bytes += other.bytes;
        self.skipped_records += other.skipped_records;
        self.failed_files += other.failed_files;
        let room = MAX_PROBLEMS.saturating_sub(self.problems.len());
        self.problems.extend(other.problems.into_iter().take(room));
        self
    }

    fn problem(&mut self, problem: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        }
    }
}

/// Options of a scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Bytes read from a file before its records are processed in parallel.
    pub batch_bytes: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { batch_bytes: read::DEFAULT_BATCH_BYTES }
    }
}

/// The members of which a CloudTrail record has at least one.
const RECORD_KEYS: [&str; 3] = ["eventTime", "eventName", "eventSource"];

/// Why a parsed value is not used as a CloudTrail record, if it is not one.
pub fn record_rejection(value: &Value<'_>) -> Option<&'static str> {
    match value {
        Value::Object(_) => {
            if RECORD_KEYS.iter().all(|key| value.get(key).is_none()) {
                Some("not a CloudTrail record: it has none of eventTime, eventName, eventSource")
            } else {
                None
            }
        }
        _ => Some("not a CloudTrail record: not a JSON object"),
    }
}

/// Reads every record of `sources` (files in parallel, the records of each file in parallel
/// batches) and folds them with `each` into accumulators made by `init` and joined by
/// `merge`. Malformed files and records are reported in the [`ReadReport`] and skipped.
pub fn scan<A, Init, Each, Merge>(sources: &[Source], options: ScanOptions, init: Init, each: Each, merge: Merge) -> (A, ReadReport)
where
    A: Send,
    Init: Fn() -> A + Sync + Send,
    Each: Fn(&mut A, RecordMeta<'_>, &Value<'_>) + Sync + Send,
    Merge: Fn(A, A) -> A + Sync + Send,
{
    scan_fields(sources, options, &Fields::All, init, each, merge)
}

/// Like [`scan`], with each record parsed only for `fields` ([`Value::parse_fields`]; the
/// members that tell a CloudTrail record are always kept): for readers that know what they read.
pub fn scan_fields<A, Init, Each, Merge>(sources: &[Source], options: ScanOptions, fields: &Fields, init: Init, each: Each, merge: Merge) -> (A, ReadReport)
where
    A: Send,
    Init: Fn() -> A + Sync + Send,
    Each: Fn(&mut A, RecordMeta<'_>, &Value<'_>) + Sync + Send,
    Merge: Fn(A, A) -> A + Sync + Send,
{
    let mut fields = fields.clone();
    for key in RECORD_KEYS {
        fields.add_path(key);
    }
    let fields = &fields;
    sources
        .par_iter()
        .map(|source| scan_one(source, options, fields, &init, &each, &merge))
        .reduce(|| (init(), ReadReport::default()), |(left, left_report), (right, right_report)| (merge(left, right), left_report.merge(right_report)))
}

fn scan_one<A, Init, Each, Merge>(source: &Source, options: ScanOptions, fields: &Fields, init: &Init, each: &Each, merge: &Merge) -> (A, ReadReport)
where
    A: Send,
    Init: Fn() -> A + Sync + Send,
    Each: Fn(&mut A, RecordMeta<'_>, &Value<'_>) + Sync + Send,
    Merge: Fn(A, A) -> A + Sync + Send,
{
    let name = source.name();
    let mut report = ReadReport { files: 1, ..ReadReport::default() };
    let mut accumulator = Some(init());
    let reader = match read::open(source) {
        Ok(reader) => reader,
        Err(error) => {
            report.failed_files += 1;
            report.problem(Problem { source: name, record_index: None, reason: error.to_string() });
            return (accumulator.unwrap_or_else(init), report);
        }
    };
    let result = read::split_records(reader, &name, options.batch_bytes, &mut |batch| {
        let (batch_accumulator, problems, skipped) = batch
            .par_iter()
            .fold(
                || (init(), Vec::new(), 0u64),
                |(mut state, mut problems, mut skipped), record| {
                    match Value::parse_fields(record.bytes, fields) {
                        Ok(value) => match record_rejection(&value) {
                            None => each(&mut state, RecordMeta { source: &name, index: record.index }, &value),
                            Some(reason) => {
                                skipped += 1;
                                problems.push(Problem { source: name.clone(), record_index: Some(record.index), reason: reason.to_string() });
                            }
                        },
                        Err(error) => {
                            skipped += 1;
                            problems.push(Problem { source: name.clone(), record_index: Some(record.index), reason: format!("malformed JSON: {error}") });
                        }
                    }
                    (state, problems, skipped)
                },
            )
            .reduce(
                || (init(), Vec::new(), 0u64),
                |(left, mut left_problems, left_skipped), (right, right_problems, right_skipped)| {
                    left_problems.extend(right_problems);
                    (merge(left, right), left_problems, left_skipped + right_skipped)
                },
            );
        report.skipped_records += skipped;
        let mut problems = problems;
        problems.sort_by_key(|problem| problem.record_index);
        for problem in problems {
            report.problem(problem);
        }
        accumulator = accumulator.take().map(|state| merge(state, batch_accumulator));
    });
    match result {
        Ok(stats) => {
            report.records = stats.records;
            report.bytes = stats.bytes;
        }
        Err(error) => {
            report.failed_files += 1;
            report.problem(Problem { source: name, record_index: None, reason: error.to_string() });
        }
    }
    (accumulator.unwrap_or_else(init), report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(files: &[(&str, &[u8])]) -> (u64, ReadReport) {
        let directory = tempfile::tempdir().unwrap();
        let sources: Vec<Source> = files
            .iter()
            .map(|(name, bytes)| {
                let path = directory.path().join(name);
                std::fs::write(&path, bytes).unwrap();
                Source::File(path)
            })
            .collect();
        scan(&sources, ScanOptions { batch_bytes: 64 }, || 0u64, |count, _, _| *count += 1, |left, right| left + right)
    }

    #[test]
    fn malformed_files_and_records_are_reported_and_skipped() {
        let good = br#"{"Records":[{"eventName":"A","eventTime":"2024-01-01T00:00:00Z"},{"eventName":"B"}]}"#;
        let (records, report) = count(&[
            ("good.json", good),
            ("truncated.json", br#"[{"eventName":"A"},{"eventName":"#),
            ("notjson.txt", b"this is not json"),
            ("corrupt.json.gz", &[0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
            ("empty-record.jsonl", b"{}\n{\"eventName\":\"C\"}\n{\"eventName\": tru}\n"),
        ]);
        assert_eq!(records, 4);
        assert_eq!(report.files, 5);
        assert_eq!(report.failed_files, 3);
        assert_eq!(report.skipped_records, 2);
        let reasons: Vec<String> = report.problems.iter().map(|problem| format!("{:?} {}", problem.record_index, problem.reason)).collect();
        let joined = reasons.join("\n");
        assert!(joined.contains("Some(0) not a CloudTrail record: it has none of eventTime, eventName, eventSource"), "{joined}");
        assert!(joined.contains("Some(2) malformed JSON: expected ident"), "{joined}");
        assert!(joined.contains("ends in the middle of record 1"), "{joined}");
        assert!(joined.contains("is not JSON"), "{joined}");
        assert!(joined.contains("corrupt.json.gz"), "{joined}");
    }
}
