//! Tests of following files across restarts, rotations, truncations and bad lines.

use std::io::Write;

use super::*;

fn append(path: &Path, text: &[u8]) {
    std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(text).unwrap();
}

fn messages(batch: &Batch) -> Vec<String> {
    batch.records.iter().map(|record| record.field("message").unwrap_or_default().to_string()).collect()
}

fn line(number: usize) -> String {
    format!("2026-05-04T10:00:{:02}+00:00 web1 sshd[1]: message {number}\n", number % 60)
}

#[test]
fn positions_survive_restarts_rotation_by_rename_and_truncation() {
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("auth.log");
    let state = directory.path().join("positions.json");
    append(&log, (0..3).map(line).collect::<String>().as_bytes());
    // An incomplete last line waits for its newline.
    append(&log, b"2026-05-04T10:00:59+00:00 web1 sshd[1]: message 3 (partial");
    let mut collector = Collector::new(vec![FileSource::new(&log)], Positions::load(&state).unwrap());
    let batch = collector.poll();
    assert_eq!(messages(&batch), ["message 0", "message 1", "message 2"]);
    // Not committed: read again.
    assert_eq!(collector.poll().records.len(), 3);
    collector.commit(batch.positions.clone());
    batch.positions.save(&state).unwrap();
    append(&log, b" done)\n");

    // A restart: the positions come from the file.
    let mut collector = Collector::new(vec![FileSource::new(&log)], Positions::load(&state).unwrap());
    let batch = collector.poll();
    assert_eq!(messages(&batch), ["message 3 (partial done)"]);
    collector.commit(batch.positions);

    // Rotation by rename: the rest of the old file, then the new one.
    append(&log, line(4).as_bytes());
    std::fs::rename(&log, directory.path().join("auth.log.1")).unwrap();
    append(&log, line(5).as_bytes());
    let batch = collector.poll();
    assert_eq!(messages(&batch), ["message 4", "message 5"]);
    collector.commit(batch.positions);

    // Truncation in place: a record says so, and the new content is read from the start.
    std::fs::write(&log, line(6)).unwrap();
    let batch = collector.poll();
    assert_eq!(batch.records[0].field("event"), Some("log_truncated"));
    assert_eq!(messages(&batch)[1..], ["message 6"]);
    collector.commit(batch.positions);
    assert!(collector.poll().records.is_empty());
}

#[test]
fn a_one_megabyte_line_and_invalid_utf8_are_read_safely_without_losing_the_next_lines() {
    let directory = tempfile::tempdir().unwrap();
    let log = directory.path().join("syslog");
    let mut huge = b"2026-05-04T10:00:00+00:00 web1 app[1]: ".to_vec();
    huge.extend(std::iter::repeat_n(b'A', 1024 * 1024));
    huge.push(b'\n');
    append(&log, &huge);
    append(&log, b"2026-05-04T10:00:01+00:00 web1 app[1]: bad \xff\xfe bytes\n");
    append(&log, line(2).as_bytes());
    let collector = Collector::new(vec![FileSource::new(&log)], Positions::default());
    let batch = collector.poll();
    assert_eq!(batch.records.len(), 3);
    assert_eq!(batch.truncated_lines, 1);
    assert_eq!(batch.records[0].field("truncated"), Some("true"));
    assert!(batch.records[0].field("message").unwrap().len() < parse::MAX_LINE_BYTES);
    assert_eq!(batch.records[1].field("message"), Some("bad \u{fffd}\u{fffd} bytes"));
    assert_eq!(batch.records[2].field("message"), Some("message 2"));
    assert_eq!(batch.positions.files.values().next().unwrap().offset, std::fs::metadata(&log).unwrap().len());
}

#[test]
fn a_corrupt_state_file_is_an_error_naming_it() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("positions.json");
    std::fs::write(&state, "{ nope").unwrap();
    let error = Positions::load(&state).unwrap_err().to_string();
    assert!(error.contains("positions.json"), "{error}");
}
