//! Readers at the edge of the crate: CloudTrail delivery files (`{"Records": [...]}`), JSON
//! arrays of records and JSON Lines, plain or gzip, from files, directory trees or standard
//! input.
//!
//! A byte-level splitter finds where each record starts and ends without building it, so
//! memory stays bounded by the read buffer plus the largest record whatever the file size, and
//! the records of one buffer can be parsed and matched in parallel by the caller. Each record
//! is then parsed on its own: a malformed record is reported and skipped, the rest of the file
//! is still read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::select;
use crate::value::{Fields, Value};

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Stdin,
    /// An object already fetched (from S3), with the name to report it by.
    Memory {
        name: String,
        bytes: Vec<u8>,
    },
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
            Source::Memory { name, .. } => name.clone(),
        }
    }
}

/// One record's bytes, with its position in its file (0-based).
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    pub index: u64,
    pub bytes: &'a [u8],
}

/// A whole file that could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read `{source_name}`: {error}")]
    Io { source_name: String, error: io::Error },
    #[error("`{source_name}` is not JSON: expected `{{` or `[` at byte {offset}, found {found}")]
    NotJson { source_name: String, offset: u64, found: String },
    #[error("`{source_name}` ends in the middle of record {record_index} (truncated file?)")]
    Truncated { source_name: String, record_index: u64 },
    #[error("`{source_name}`: unbalanced `{found}` at byte {offset}")]
    Unbalanced { source_name: String, offset: u64, found: char },
}

/// Bytes read between two batches handed to the caller.
pub const DEFAULT_BATCH_BYTES: usize = 4 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens a source, decompressing gzip when the first bytes say so.
pub fn open(source: &Source) -> Result<Box<dyn Read + Send>, ReadError> {
    let io_error = |error| ReadError::Io { source_name: source.name(), error };
    let raw: Box<dyn Read + Send> = match source {
        Source::File(path) => Box::new(File::open(path).map_err(io_error)?),
        Source::Stdin => Box::new(io::stdin()),
        Source::Memory { bytes, .. } => Box::new(io::Cursor::new(bytes.clone())),
    };
    decompress(raw).map_err(io_error)
}

/// Wraps a reader in a gzip decoder when it starts with the gzip magic bytes.
pub fn decompress(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    let mut buffered = BufReader::with_capacity(256 << 10, raw);
    let head = buffered.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) { Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered))) } else { Ok(Box::new(buffered)) }
}

/// What one file held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitStats {
    pub records: u64,
    pub bytes: u64,
}

/// Splits the JSON read from `reader` into records and hands them to `on_batch` a buffer at a
/// time. Accepts a `{"Records": [...]}` envelope, a JSON array of records, or a sequence of
/// JSON values (JSON Lines, or several envelopes one after the other).
pub fn split_records<R: Read>(reader: R, source_name: &str, batch_bytes: usize, on_batch: &mut dyn FnMut(&[RawRecord<'_>])) -> Result<SplitStats, ReadError> {
    split(reader, source_name, batch_bytes, Mode::Batches(on_batch))
}

/// A record found by [`split_and_select`]: read in the splitter's pass, or left raw.
#[derive(Debug)]
pub struct FoundRecord<'a> {
    pub index: u64,
    pub bytes: &'a [u8],
    /// The record as [`Value::parse_fields`] reads it for the fields asked for; `None` when
    /// the pass left it raw for `parse_fields` to read or to reject with its reason.
    pub value: Option<Value<'a>>,
}

/// [`split_records`] reading each object record for `fields` as it finds it (one pass over
/// its bytes, `crate::select`), handing out every record in file order as soon as it ends. A
/// record that pass cannot vouch for (malformed, cut by the buffer's end, not UTF-8, or merely
/// unusual: an escaped key) is handed out raw.
pub fn split_and_select<R: Read>(
    reader: R,
    source_name: &str,
    batch_bytes: usize,
    fields: &Fields,
    on_record: &mut dyn FnMut(FoundRecord<'_>),
) -> Result<SplitStats, ReadError> {
    split(reader, source_name, batch_bytes, Mode::OnePass(select::Selector::new(fields), on_record))
}

enum Mode<'c> {
    Batches(&'c mut dyn FnMut(&[RawRecord<'_>])),
    OnePass(select::Selector, &'c mut dyn FnMut(FoundRecord<'_>)),
}

/// Where the splitter puts the records it finds.
enum Output<'o, 'b> {
    /// Ranges of the buffer, handed out as a batch when the buffer is full.
    Ranges(&'o mut Vec<(u64, usize, usize)>),
    /// Each record at once; `text` is the buffer's UTF-8 prefix.
    Records { selector: &'o select::Selector, text: &'b str, on_record: &'o mut dyn FnMut(FoundRecord<'b>) },
}

fn split<R: Read>(mut reader: R, source_name: &str, batch_bytes: usize, mut mode: Mode<'_>) -> Result<SplitStats, ReadError> {
    let mut splitter = Splitter::default();
    let mut buffer: Vec<u8> = Vec::with_capacity(batch_bytes + 4096);
    let mut ranges: Vec<(u64, usize, usize)> = Vec::new();
    let mut stats = SplitStats::default();
    let mut base_offset: u64 = 0;
    let mut scanned = 0;
    loop {
        // Read a full batch before scanning it, so that callers get large batches.
        let mut end_of_input = false;
        let mut read_error = None;
        loop {
            let filled = buffer.len();
            // `read_to_end` appends into the spare capacity without zeroing a whole batch
            // before each read (zeroing 4 MiB per short read of a small file or a gzip stream
            // cost more than the parse); `take` bounds one refill to a batch.
            match (&mut reader).take(batch_bytes.max(1) as u64).read_to_end(&mut buffer) {
                Ok(0) => {
                    end_of_input = true;
                    break;
                }
                Ok(read) => {
                    stats.bytes += read as u64;
                    if buffer.len() >= batch_bytes {
                        break;
                    }
                }
                Err(error) => {
                    buffer.truncate(filled);
                    read_error = Some(error);
                    break;
                }
            }
        }
        let scan_result = match &mut mode {
            Mode::Batches(on_batch) => {
                let result = splitter.scan(&buffer, scanned, &mut Output::Ranges(&mut ranges));
                flush(&buffer, &mut ranges, *on_batch);
                result
            }
            // The one pass reads text whose UTF-8 is checked here, once per buffer; a record
            // that runs past the first invalid byte (or the buffer's end) is left raw.
            Mode::OnePass(selector, on_record) => {
                splitter.scan(&buffer, scanned, &mut Output::Records { selector, text: valid_text(&buffer), on_record: *on_record })
            }
        };
        stats.records = splitter.next_index;
        if let Err((offset, found, fault)) = scan_result {
            let offset = base_offset + offset as u64;
            return Err(match fault {
                Fault::NotJson => ReadError::NotJson { source_name: source_name.to_string(), offset, found: describe_byte(found) },
                Fault::Unbalanced => ReadError::Unbalanced { source_name: source_name.to_string(), offset, found: found as char },
            });
        }
        if let Some(error) = read_error {
            return Err(ReadError::Io { source_name: source_name.to_string(), error });
        }
        if end_of_input {
            if splitter.depth > 0 || splitter.element_start.is_some() || splitter.in_string {
                return Err(ReadError::Truncated { source_name: source_name.to_string(), record_index: splitter.next_index });
            }
            return Ok(stats);
        }
        let keep = splitter.keep_from(buffer.len());
        buffer.drain(..keep);
        base_offset += keep as u64;
        splitter.shift(keep);
        scanned = buffer.len();
    }
}

/// The longest prefix of `bytes` that is UTF-8.
fn valid_text(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => bytes.get(..error.valid_up_to()).and_then(|valid| std::str::from_utf8(valid).ok()).unwrap_or_default(),
    }
}

fn flush(buffer: &[u8], ranges: &mut Vec<(u64, usize, usize)>, on_batch: &mut dyn FnMut(&[RawRecord<'_>])) {
    if ranges.is_empty() {
        return;
    }
    let records: Vec<RawRecord<'_>> = ranges.iter().filter_map(|&(index, start, end)| buffer.get(start..end).map(|bytes| RawRecord { index, bytes })).collect();
    on_batch(&records);
    ranges.clear();
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() { format!("`{}`", byte as char) } else { format!("byte 0x{byte:02x}") }
}

enum Fault {
    NotJson,
    Unbalanced,
}

/// The splitter's state, kept across buffer refills.
#[derive(Debug, Default)]
struct Splitter {
    /// Nesting depth of containers at the scan position.
    depth: usize,
    in_string: bool,
    escape: bool,
    /// Depth of the array whose elements are records (1 for a top-level array, 2 inside an
    /// envelope), when inside one.
    record_depth: Option<usize>,
    /// Start of the element being read (a record, or a top-level object that may be a record
    /// or an envelope).
    element_start: Option<usize>,
    /// The current top-level value is an object that has not (yet) shown a `Records` array.
    top_object_candidate: bool,
    /// The current top-level object is an envelope: skip everything but its records.
    in_envelope: bool,
    expect_key: bool,
    key_start: Option<usize>,
    last_key_is_records: bool,
    after_colon_records: bool,
    next_index: u64,
}

impl Splitter {
    /// The earliest buffer offset that must be kept for the next round.
    fn keep_from(&self, end: usize) -> usize {
        match (self.element_start, self.key_start) {
            (Some(start), Some(key)) => start.min(key),
            (Some(start), None) => start,
            (None, Some(key)) => key,
            (None, None) => end,
        }
    }

    fn shift(&mut self, by: usize) {
        self.element_start = self.element_start.map(|start| start - by);
        self.key_start = self.key_start.map(|start| start - by);
    }

    fn emit<'b>(&mut self, output: &mut Output<'_, 'b>, start: usize, end: usize, buffer: &'b [u8]) {
        let mut end = end;
        while end > start && buffer.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
            end -= 1;
        }
        match output {
            Output::Ranges(ranges) => ranges.push((self.next_index, start, end)),
            Output::Records { on_record, .. } => {
                on_record(FoundRecord { index: self.next_index, bytes: buffer.get(start..end).unwrap_or_default(), value: None })
            }
        }
        self.next_index += 1;
    }

    fn scan<'b>(&mut self, buffer: &'b [u8], from: usize, output: &mut Output<'_, 'b>) -> Result<(), (usize, u8, Fault)> {
        let mut position = from;
        let length = buffer.len();
        while position < length {
            if self.escape {
                // The byte after a backslash that ended the previous buffer.
                self.escape = false;
                position += 1;
                continue;
            }
            if self.in_string {
                match memchr::memchr2(b'"', b'\\', &buffer[position..]) {
                    None => return Ok(()),
                    Some(found) => {
                        position += found;
                        if buffer[position] == b'\\' {
                            // Skip the escaped byte; it may lie in the next buffer.
                            if position + 1 >= length {
                                self.escape = true;
                                return Ok(());
                            }
                            position += 2;
                            continue;
                        }
                        self.in_string = false;
                        if let Some(key_start) = self.key_start.take() {
                            self.last_key_is_records = buffer.get(key_start + 1..position) == Some(b"Records".as_slice());
                        }
                        position += 1;
                        continue;
                    }
                }
            }
            let byte = buffer[position];
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'"' => {
                    self.in_string = true;
                    if self.depth == 1 && self.top_object_candidate && self.expect_key {
                        self.key_start = Some(position);
                        self.expect_key = false;
                    }
                    self.start_scalar_element(position);
                    self.after_colon_records = false;
                }
                b':' => {
                    if self.depth == 1 && self.top_object_candidate {
                        self.after_colon_records = self.last_key_is_records;
                        self.last_key_is_records = false;
                    }
                }
                b',' => {
                    if Some(self.depth) == self.record_depth
                        && let Some(start) = self.element_start.take()
                    {
                        self.emit(output, start, position, buffer);
                    }
                    if self.depth == 1 && self.top_object_candidate {
                        self.expect_key = true;
                    }
                    self.after_colon_records = false;
                }
                b'{' | b'[' => {
                    if self.depth == 0 {
                        if byte == b'[' {
                            self.record_depth = Some(1);
                        } else {
                            // A top-level object: a record (JSON Lines), unless it holds a
                            // `Records` array (an envelope, split below).
                            if let Output::Records { selector, text, .. } = output
                                && let Some(record) = select::read_object(text, position, selector)
                            {
                                position = self.take_selected(buffer, position, record, output);
                                continue;
                            }
                            self.element_start = Some(position);
                            self.top_object_candidate = true;
                            self.expect_key = true;
                        }
                    } else if self.depth == 1 && self.top_object_candidate && self.after_colon_records && byte == b'[' {
                        // `{"Records": [` : the object is an envelope, its array elements are the records.
                        self.top_object_candidate = false;
                        self.in_envelope = true;
                        self.element_start = None;
                        self.record_depth = Some(2);
                    } else if Some(self.depth) == self.record_depth && self.element_start.is_none() {
                        // An element of the record array (which ends at its closing brace).
                        if byte == b'{'
                            && let Output::Records { selector, text, .. } = output
                            && let Some(record) = select::read_object(text, position, selector)
                        {
                            position = self.take_selected(buffer, position, record, output);
                            continue;
                        }
                        self.element_start = Some(position);
                    }
                    self.after_colon_records = false;
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        return Err((position, byte, Fault::Unbalanced));
                    }
                    self.depth -= 1;
                    if Some(self.depth + 1) == self.record_depth {
                        // The record array closes: a scalar element may end here.
                        if let Some(start) = self.element_start.take() {
                            self.emit(output, start, position, buffer);
                        }
                        self.record_depth = None;
                    } else if Some(self.depth) == self.record_depth
                        && let Some(start) = self.element_start.take()
                    {
                        self.emit(output, start, position + 1, buffer);
                    }
                    if self.depth == 0 {
                        if self.top_object_candidate
                            && let Some(start) = self.element_start.take()
                        {
                            self.emit(output, start, position + 1, buffer);
                        }
                        self.top_object_candidate = false;
                        self.in_envelope = false;
                        self.record_depth = None;
                    }
                    self.after_colon_records = false;
                }
                _ => {
                    if self.depth == 0 {
                        return Err((position, byte, Fault::NotJson));
                    }
                    self.start_scalar_element(position);
                    self.after_colon_records = false;
                }
            }
            position += 1;
        }
        Ok(())
    }

    /// Takes a record read in one pass; returns the position after it.
    fn take_selected<'b>(&mut self, buffer: &'b [u8], start: usize, record: select::Selected<'b>, output: &mut Output<'_, 'b>) -> usize {
        if let Output::Records { on_record, .. } = output {
            on_record(FoundRecord { index: self.next_index, bytes: buffer.get(start..record.end).unwrap_or_default(), value: Some(record.value) });
        }
        self.next_index += 1;
        self.after_colon_records = false;
        record.end
    }

    fn start_scalar_element(&mut self, position: usize) {
        if Some(self.depth) == self.record_depth && self.element_start.is_none() {
            self.element_start = Some(position);
        }
    }
}

/// File names read when walking a directory: JSON, JSON Lines, and their gzip forms.
pub fn is_log_file_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".log")
}

/// Digest files hold hashes of log files, not events.
pub fn is_digest_path(path: &Path) -> bool {
    path.components().any(|component| component.as_os_str() == "CloudTrail-Digest")
        || path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.contains("_CloudTrail-Digest_"))
}

/// Expands the paths given on the command line: files as they are, directories walked
/// (sorted, digest files and non-log files left out), `-` as standard input.
pub fn expand_paths(paths: &[String]) -> Result<Vec<Source>, ReadError> {
    let mut sources = Vec::new();
    for path in paths {
        if path == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let path = PathBuf::from(path);
        let metadata = std::fs::metadata(&path).map_err(|error| ReadError::Io { source_name: path.display().to_string(), error })?;
        if metadata.is_dir() {
            let mut files = Vec::new();
            walk(&path, &mut files)?;
            files.sort();
            sources.extend(files.into_iter().map(Source::File));
        } else {
            sources.push(Source::File(path));
        }
    }
    Ok(sources)
}

fn walk(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let io_error = |error| ReadError::Io { source_name: directory.display().to_string(), error };
    for entry in std::fs::read_dir(directory).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(io_error)?;
        if file_type.is_dir() {
            if path.file_name().is_some_and(|name| name == "CloudTrail-Digest") {
                continue;
            }
            walk(&path, files)?;
        } else if path.file_name().and_then(|name| name.to_str()).is_some_and(is_log_file_name) && !is_digest_path(&path) {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn split(input: &[u8], batch: usize) -> (Vec<String>, Result<SplitStats, String>) {
        let mut records = Vec::new();
        let result = split_records(input, "test", batch, &mut |batch| {
            for record in batch {
                records.push(format!("{}:{}", record.index, String::from_utf8_lossy(record.bytes)));
            }
        });
        (records, result.map_err(|error| error.to_string()))
    }

    /// [`split_and_select`] over `input`: the records as [`split`] lists them, each checked to
    /// be what `parse_fields` reads when the pass read it, and how many it read.
    fn split_in_one_pass(input: &[u8], batch: usize, fields: &Fields) -> (Vec<String>, Result<SplitStats, String>, usize) {
        let mut records = Vec::new();
        let mut read = 0;
        let result = split_and_select(input, "test", batch, fields, &mut |record| {
            if let Some(value) = &record.value {
                assert_eq!(Some(value), Value::parse_fields(record.bytes, fields).ok().as_ref(), "{}", String::from_utf8_lossy(record.bytes));
                read += 1;
            }
            records.push(format!("{}:{}", record.index, String::from_utf8_lossy(record.bytes)));
        });
        (records, result.map_err(|error| error.to_string()), read)
    }

    fn check(input: &str, expected_records: &[&str], expected_error: Option<&str>) {
        for batch in [4096, 1, 3, 7] {
            let (records, result) = split(input.as_bytes(), batch);
            assert_eq!(records, expected_records, "input {input:?} batch {batch}");
            // The one pass finds the same records and the same fault.
            let (one_pass, one_pass_result, _) = split_in_one_pass(input.as_bytes(), batch, &Fields::All);
            assert_eq!(one_pass, expected_records, "input {input:?} batch {batch}");
            assert_eq!(
                one_pass_result.as_ref().map(|stats| stats.records).map_err(String::as_str),
                result.as_ref().map(|stats| stats.records).map_err(String::as_str)
            );
            match (expected_error, result) {
                (None, Ok(_)) => {}
                (Some(expected), Err(error)) => assert!(error.contains(expected), "{error} should contain {expected}"),
                (expected, got) => panic!("input {input:?}: expected error {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn splits_every_supported_shape() {
        check(r#"{"Records":[{"a":1},{"b":"x]}"}]}"#, &[r#"0:{"a":1}"#, r#"1:{"b":"x]}"}"#], None);
        check(r#"{"Records": [ ]}"#, &[], None);
        check(r#"[{"a":"\"}"}, {"b":2} ]"#, &[r#"0:{"a":"\"}"}"#, r#"1:{"b":2}"#], None);
        check("{\"a\":1}\n{\"b\":{\"Records\":[1]}}\n", &["0:{\"a\":1}", "1:{\"b\":{\"Records\":[1]}}"], None);
        check(r#"{"x":{"Records":[1]},"Records":[{"c":3}],"y":[1]}"#, &[r#"0:{"c":3}"#], None);
        check(r#"[1, "s", null]"#, &["0:1", "1:\"s\"", "2:null"], None);
        check(r#"{"Records":[{"a":1}]}{"Records":[{"b":2}]}"#, &[r#"0:{"a":1}"#, r#"1:{"b":2}"#], None);
        check("", &[], None);
        // An element ends at its closing brace (what follows is another element).
        check(r#"{"Records":[{"a":1} x,{"b":2}]}"#, &[r#"0:{"a":1}"#, "1:x", r#"2:{"b":2}"#], None);
        // Records the one pass leaves raw: an escaped key, invalid UTF-8 (and the rest of the
        // buffer after it), a record cut by the buffer's end.
        check("{\"a\":1}\n{\"\\u0061\":2}\n", &["0:{\"a\":1}", "1:{\"\\u0061\":2}"], None);
        let (records, result, read) = split_in_one_pass(b"[{\"a\":\"\xff\"},{\"b\":2}]", 4096, &Fields::All);
        assert_eq!((records.len(), result.map(|stats| stats.records), read), (2, Ok(2), 0));
        let input = r#"{"Records":[{"eventName":"A","x":[1,2,3]},{"eventName":"B"},{"eventName":"C"}]}"#;
        let (records, _, read) = split_in_one_pass(input.as_bytes(), 4096, &Fields::All);
        assert_eq!((records.len(), read), (3, 3));
        let (records, _, read) = split_in_one_pass(input.as_bytes(), 48, &Fields::All);
        assert!(records.len() == 3 && read < 3, "{records:?} {read}");
    }

    pub(crate) fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            "[a-z\\\\\"{}\\[\\],: ]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-zR\\\\\"]{1,4}", inner, 0..4).prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn splitting_at_any_buffer_size_returns_every_record(
            records in proptest::collection::vec(json_value(), 0..5),
            shape in 0..3usize,
            batch in 1..40usize,
        ) {
            let records: Vec<serde_json::Value> = records.into_iter().map(|value| serde_json::json!({"eventName": "x", "v": value})).collect();
            let text = match shape {
                0 => serde_json::json!({"Records": records}).to_string(),
                1 => serde_json::Value::from(records.clone()).to_string(),
                _ => records.iter().map(|record| format!("{record}\n")).collect(),
            };
            let mut got = Vec::new();
            split_records(text.as_bytes(), "p", batch, &mut |batch| {
                got.extend(batch.iter().map(|record| serde_json::from_slice::<serde_json::Value>(record.bytes).unwrap()));
            })
            .unwrap();
            proptest::prop_assert_eq!(&got, &records);
            // In one pass, for some fields or all: the same records, each read as parse_fields reads it.
            let mut fields = Fields::none();
            fields.add_path("v.a");
            fields.add_path("eventName");
            for fields in [fields, Fields::All] {
                let (one_pass, result, _) = split_in_one_pass(text.as_bytes(), batch, &fields);
                proptest::prop_assert_eq!(result.map(|stats| stats.records), Ok(records.len() as u64));
                let (split_first, _) = split(text.as_bytes(), batch);
                proptest::prop_assert_eq!(one_pass, split_first);
            }
        }
    }

    #[test]
    fn reports_truncated_and_non_json_input() {
        check(r#"{"Records":[{"a":1},{"b":"#, &[r#"0:{"a":1}"#], Some("ends in the middle of record 1"));
        check("hello world", &[], Some("is not JSON: expected `{` or `[` at byte 0, found `h`"));
        check(r#"[{"a":1}]]"#, &[r#"0:{"a":1}"#], Some("unbalanced `]` at byte 9"));
    }

    #[test]
    fn detects_gzip_by_magic_bytes() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(br#"{"Records":[{"a":1}]}"#).unwrap();
        let compressed = encoder.finish().unwrap();
        let reader = decompress(Box::new(std::io::Cursor::new(compressed.clone()))).unwrap();
        let mut count = 0;
        split_records(reader, "gz", 1024, &mut |batch| count += batch.len()).unwrap();
        assert_eq!(count, 1);
        let mut corrupt = compressed;
        let middle = corrupt.len() / 2;
        corrupt.truncate(middle);
        let reader = decompress(Box::new(std::io::Cursor::new(corrupt))).unwrap();
        let error = split_records(reader, "gz", 1024, &mut |_| {}).unwrap_err();
        assert!(matches!(error, ReadError::Io { .. } | ReadError::Truncated { .. }), "{error}");
    }

    #[test]
    fn directory_walk_skips_digests_and_other_files() {
        let directory = tempfile::tempdir().unwrap();
        let logs = directory.path().join("AWSLogs/1/CloudTrail/us-east-1/2024/01/02");
        let digests = directory.path().join("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/02");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::create_dir_all(&digests).unwrap();
        std::fs::write(logs.join("1_CloudTrail_us-east-1_x.json.gz"), b"").unwrap();
        std::fs::write(digests.join("1_CloudTrail-Digest_us-east-1_x.json.gz"), b"").unwrap();
        std::fs::write(directory.path().join("LICENSE"), b"").unwrap();
        let sources = expand_paths(&[directory.path().display().to_string()]).unwrap();
        assert_eq!(sources, vec![Source::File(logs.join("1_CloudTrail_us-east-1_x.json.gz"))]);
    }
}
