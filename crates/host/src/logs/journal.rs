//! journald through `journalctl -o json` (the stable export of the journal): entries after a
//! persisted cursor, so a restart neither reads an entry twice nor skips one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::parse::{MAX_LINE_BYTES, message_fields};
use super::record::{LogRecord, services_of_program};

/// A journal entry as a record (its fields cut to fit, [`LogRecord::bound`]), and its cursor.
/// An entry of up to 16 MiB of JSON is read (journald keeps fields up to 64 MiB, but a
/// message of a megabyte must not be skipped).
pub fn entry(line: &str) -> Option<(LogRecord, String)> {
    if line.len() > MAX_LINE_BYTES * 256 {
        return None;
    }
    let json: Value = serde_json::from_str(line).ok()?;
    let object = json.as_object()?;
    let cursor = object.get("__CURSOR").and_then(Value::as_str)?.to_string();
    let mut fields = BTreeMap::new();
    for (key, value) in object {
        if let Some(text) = field_text(value) {
            fields.insert(key.clone(), text);
        }
    }
    let program = fields.get("SYSLOG_IDENTIFIER").or_else(|| fields.get("_COMM")).cloned().unwrap_or_default();
    let message = fields.get("MESSAGE").cloned().unwrap_or_default();
    if let Some(microseconds) = fields.get("__REALTIME_TIMESTAMP").and_then(|text| text.parse::<i64>().ok())
        && let Some(time) = chrono::DateTime::from_timestamp_micros(microseconds)
    {
        fields.insert("@timestamp".to_string(), time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    fields.insert("program".to_string(), program.clone());
    fields.insert("message".to_string(), message.clone());
    if let Some(pid) = fields.get("_PID").cloned() {
        fields.insert("pid".to_string(), pid);
    }
    if let Some(host) = fields.get("_HOSTNAME").cloned() {
        fields.insert("host".to_string(), host);
    }
    let mut services = services_of_program(&program);
    // Facilities auth (4) and authpriv (10) are what auth.log holds.
    if matches!(fields.get("SYSLOG_FACILITY").map(String::as_str), Some("4" | "10")) {
        services.push("auth".into());
    }
    services.push("syslog".into());
    message_fields(&program, &message, &mut fields);
    let mut record = LogRecord { source: "journald".to_string(), services, fields };
    record.bound();
    Some((record, cursor))
}

/// journald gives a string, or an array of bytes for data that is not UTF-8 text.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => {
            let bytes: Option<Vec<u8>> = items.iter().map(|item| item.as_u64().and_then(|byte| u8::try_from(byte).ok())).collect();
            bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Starts `journalctl -o json` after `cursor` (or from the start of the journal), following
/// when `follow`. `directory` reads a journal directory (`--directory`) instead of the system's.
pub fn spawn(cursor: Option<&str>, follow: bool, directory: Option<&std::path::Path>) -> std::io::Result<Child> {
    let mut command = Command::new("journalctl");
    command.args(["-o", "json", "--no-pager", "--all"]);
    if let Some(cursor) = cursor {
        command.arg(format!("--after-cursor={cursor}"));
    }
    if follow {
        command.arg("--follow");
    }
    if let Some(directory) = directory {
        command.arg(format!("--directory={}", directory.display()));
    }
    command.stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null()).spawn()
}

/// Reads every entry `child` prints, calling `each(record, cursor)`.
pub fn read(child: &mut Child, each: &mut dyn FnMut(LogRecord, String) -> std::ops::ControlFlow<()>) -> std::io::Result<()> {
    let Some(stdout) = child.stdout.take() else { return Ok(()) };
    let reader = BufReader::new(stdout);
    for line in reader.split(b'\n') {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        if let Some((record, cursor)) = entry(&text)
            && each(record, cursor).is_break()
        {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_entries_become_records_with_their_cursor() {
        let line = r#"{"__CURSOR":"s=abc;i=1","__REALTIME_TIMESTAMP":"1714816801000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","_PID":"812","SYSLOG_FACILITY":"4","MESSAGE":"Failed password for root from 198.51.100.7 port 2 ssh2"}"#;
        let (record, cursor) = entry(line).unwrap();
        assert_eq!(cursor, "s=abc;i=1");
        assert_eq!(record.field("@timestamp"), Some("2024-05-04T10:00:01.000000Z"));
        assert_eq!((record.field("event"), record.field("source_ip")), (Some("ssh_auth_failed"), Some("198.51.100.7")));
        assert_eq!(record.services, ["sshd", "auth", "syslog"]);
        let binary = r#"{"__CURSOR":"c","MESSAGE":[104,105,255],"_COMM":"x"}"#;
        assert_eq!(entry(binary).unwrap().0.field("message"), Some("hi\u{fffd}"));
        assert!(entry("not json").is_none());
        // A message of a megabyte: read, parsed, cut to fit a record, marked.
        let huge = format!(
            r#"{{"__CURSOR":"big","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Failed password for root from 198.51.100.7 port 2 ssh2 {}"}}"#,
            "A".repeat(1 << 20)
        );
        let (record, cursor) = entry(&huge).unwrap();
        assert_eq!((cursor.as_str(), record.field("truncated"), record.field("source_ip")), ("big", Some("true"), Some("198.51.100.7")));
        assert!(record.to_json().to_string().len() <= crate::logs::record::MAX_RECORD_JSON_BYTES);
        assert!(entry(r#"{"MESSAGE":"no cursor"}"#).is_none());
    }
}
