//! Host log records: a flat map of named fields (what the Sigma rules for Linux read) with the
//! services the record belongs to (`sshd`, `auth`, `syslog`, `auditd`...), built from a
//! syslog text line, a journald JSON entry or an auditd line.

use std::collections::BTreeMap;

use serde::Serialize;

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    /// Where it was read: a file path, or `journald`.
    pub source: String,
    /// The Sigma `logsource` services it belongs to.
    pub services: Vec<&'static str>,
    /// Named fields: `@timestamp`, `host`, `program`, `pid`, `message`, and what the message
    /// parsers add (`event`, `user`, `source_ip`...); auditd records carry their own keys.
    pub fields: BTreeMap<String, String>,
}

impl LogRecord {
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
}

/// The services of a program name (as syslog and journald give it).
pub fn services_of_program(program: &str) -> Vec<&'static str> {
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
    service.into_iter().collect()
}
