//! Host log records: a flat map of named fields (what the Sigma rules for Linux read) with the
//! services the record belongs to (`sshd`, `auth`, `syslog`, `auditd`...), built from a
//! syslog text line, a journald JSON entry or an auditd line. Its JSON ([`LogRecord::to_json`])
//! is the `logs`/`record` event the agent ships; the server reads it back
//! ([`LogRecord::from_json`]) to run the same detections.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Where it was read: a file path, or `journald`.
    pub source: String,
    /// The Sigma `logsource` services it belongs to (the parsers name them with static
    /// strings; a record read back from JSON owns them).
    pub services: Vec<Cow<'static, str>>,
    /// Named fields: `@timestamp`, `host`, `program`, `pid`, `message`, and what the message
    /// parsers add (`event`, `user`, `source_ip`...); auditd records carry their own keys.
    pub fields: BTreeMap<String, String>,
}

/// The largest record kept whole, as its JSON: well under the channel's 256 KiB per event, so a
/// record always ships and is evaluated the same on the agent and on the server.
pub const MAX_RECORD_JSON_BYTES: usize = 128 * 1024;

impl LogRecord {
    /// Cuts the longest fields (at a character boundary) until the record's JSON fits in
    /// [`MAX_RECORD_JSON_BYTES`], marking it `truncated: true`. Called where records are made
    /// (a journal entry of a megabyte, a line of control characters that JSON escapes sixfold),
    /// so what is evaluated is what is shipped.
    pub fn bound(&mut self) {
        // JSON escapes a byte into at most six: below this, the record fits without measuring.
        let raw: usize = self.source.len() + self.fields.iter().map(|(key, value)| key.len() + value.len() + 8).sum::<usize>();
        if raw * 6 + 256 <= MAX_RECORD_JSON_BYTES {
            return;
        }
        while self.to_json().to_string().len() > MAX_RECORD_JSON_BYTES {
            let Some((key, length)) = self.fields.iter().map(|(key, value)| (key.clone(), value.len())).max_by_key(|(_, length)| *length) else { break };
            let Some(value) = self.fields.get_mut(&key).filter(|_| length > 0) else { break };
            let mut cut = length / 2;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
            self.fields.insert("truncated".to_string(), "true".to_string());
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The record as the Sigma engine's record model.
    pub fn to_value(&self) -> vigil_trail::Value<'_> {
        vigil_trail::Value::Object(
            self.fields
                .iter()
                .map(|(key, value)| (std::borrow::Cow::Borrowed(key.as_str()), vigil_trail::Value::String(std::borrow::Cow::Borrowed(value.as_str()))))
                .collect(),
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"source": self.source, "services": self.services, "fields": self.fields})
    }

    /// A record from its JSON (a `logs`/`record` event's payload), or why it is not one.
    pub fn from_json(payload: &serde_json::Value) -> Result<LogRecord, String> {
        LogRecord::deserialize(payload).map_err(|error| format!("not a host log record: {error}"))
    }
}

/// The services of a program name (as syslog and journald give it).
pub fn services_of_program(program: &str) -> Vec<Cow<'static, str>> {
    let lowered = program.to_ascii_lowercase();
    let service = match lowered.as_str() {
        "sshd" | "sshd-session" => Some("sshd"),
        "sudo" => Some("sudo"),
        "cron" | "crond" | "anacron" => Some("cron"),
        "su" => Some("su"),
        "login" => Some("login"),
        "vsftpd" => Some("vsftpd"),
        "clamd" | "freshclam" | "clamav-milter" => Some("clamav"),
        "guacd" | "guacamole" => Some("guacamole"),
        _ => None,
    };
    service.into_iter().map(Cow::Borrowed).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_of_a_megabyte_is_cut_to_fit_and_marked_while_a_small_one_is_left_alone() {
        let mut fields = BTreeMap::new();
        fields.insert("message".to_string(), "Failed password é ".repeat(60_000));
        fields.insert("control".to_string(), "\u{1}".repeat(40_000));
        fields.insert("user".to_string(), "root".to_string());
        let mut record = LogRecord { source: "journald".into(), services: vec!["sshd".into()], fields };
        record.bound();
        assert!(record.to_json().to_string().len() <= MAX_RECORD_JSON_BYTES);
        assert_eq!((record.field("truncated"), record.field("user")), (Some("true"), Some("root")));
        assert!(record.field("message").unwrap().starts_with("Failed password é"));
        let small = LogRecord { source: "x".into(), services: Vec::new(), fields: [("message".to_string(), "hello".to_string())].into() };
        let mut bounded = small.clone();
        bounded.bound();
        assert_eq!(bounded, small);
    }
}
