//! Parsers of log lines: syslog (RFC 3164 `Mmm dd hh:mm:ss host prog[pid]: msg`, and the
//! RFC 3339 timestamps Debian's rsyslog writes), the messages of sshd, sudo, useradd and
//! friends that the built-in detections read, and auditd records (`type=X msg=audit(T:N): k=v`,
//! with the enriched `\x1d`-separated part).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, TimeZone, Utc};

use super::record::{LogRecord, services_of_program};

/// Longest line kept whole; longer lines are cut there (and marked), so one huge line cannot
/// exhaust memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Parses one syslog text line read from `source`. `year` completes RFC 3164 dates.
pub fn syslog_line(line: &str, source: &str, auth_file: bool, year: i32) -> LogRecord {
    syslog_line_of(line, source, auth_file, year, None)
}

/// Like [`syslog_line`]; a line without a syslog header (a daemon logging to its own file or
/// standard error, as `sshd -e`) is a message of `headerless_program` when given.
pub fn syslog_line_of(line: &str, source: &str, auth_file: bool, year: i32, headerless_program: Option<&str>) -> LogRecord {
    let mut fields = BTreeMap::new();
    let (timestamp, rest) = split_timestamp(line, year);
    let has_header = timestamp.is_some();
    let headerless = !has_header && headerless_program.is_some();
    if let Some(timestamp) = timestamp {
        fields.insert("@timestamp".to_string(), timestamp);
    }
    let mut services = Vec::new();
    let mut rest = rest.trim_start();
    // The host name follows the time; a line without a time has neither.
    if has_header && let Some((host, after)) = rest.split_once(' ') {
        fields.insert("host".to_string(), host.to_string());
        rest = after;
    }
    let (program, pid, message) = match headerless_program {
        Some(program) if headerless => (Some(program.to_string()), None, rest),
        _ => split_tag(rest),
    };
    if let Some(program) = &program {
        fields.insert("program".to_string(), program.clone());
        services.extend(services_of_program(program));
    }
    if let Some(pid) = pid {
        fields.insert("pid".to_string(), pid);
    }
    fields.insert("message".to_string(), message.to_string());
    if auth_file {
        services.push("auth".into());
    }
    services.push("syslog".into());
    message_fields(program.as_deref().unwrap_or_default(), message, &mut fields);
    LogRecord { source: source.to_string(), services, fields }
}

/// `(timestamp as RFC 3339, the rest)`.
fn split_timestamp(line: &str, year: i32) -> (Option<String>, &str) {
    // RFC 3339: 2024-05-01T10:00:00.123456+00:00
    if line.len() > 19 && line.as_bytes().get(4) == Some(&b'-') && line.as_bytes().get(10) == Some(&b'T') {
        let (stamp, rest) = line.split_once(' ').unwrap_or((line, ""));
        if let Ok(time) = chrono::DateTime::parse_from_rfc3339(stamp) {
            return (Some(time.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)), rest);
        }
    }
    // RFC 3164: "May  1 10:00:00 " (15 characters).
    if let Some(stamp) = line.get(..15)
        && let Ok(time) = NaiveDateTime::parse_from_str(&format!("{year} {stamp}"), "%Y %b %e %H:%M:%S")
    {
        let time = Utc.from_utc_datetime(&time);
        return (Some(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)), line.get(15..).unwrap_or_default());
    }
    (None, line)
}

/// `prog[pid]: message` or `prog: message`.
fn split_tag(text: &str) -> (Option<String>, Option<String>, &str) {
    let Some((tag, message)) = text.split_once(": ") else { return (None, None, text) };
    if tag.is_empty() || tag.contains(' ') || tag.len() > 64 {
        return (None, None, text);
    }
    match tag.split_once('[') {
        Some((program, pid)) => (Some(program.to_string()), Some(pid.trim_end_matches(']').to_string()), message),
        None => (Some(tag.to_string()), None, message),
    }
}

/// Adds the fields the built-in detections use, from the message of a known program.
pub fn message_fields(program: &str, message: &str, fields: &mut BTreeMap<String, String>) {
    let mut set = |key: &str, value: &str| {
        fields.insert(key.to_string(), value.to_string());
    };
    match program {
        "sshd" | "sshd-session" => {
            if let Some(rest) = message.strip_prefix("Failed ") {
                // Failed password for [invalid user] NAME from ADDR port N ssh2
                let method = rest.split(' ').next().unwrap_or_default();
                set("event", "ssh_auth_failed");
                set("auth_method", method);
                if let Some(after_for) = rest.split_once(" for ").map(|(_, after)| after) {
                    let after_for = after_for.strip_prefix("invalid user ").unwrap_or(after_for);
                    if let Some((user, from)) = after_for.rsplit_once(" from ") {
                        set("user", user);
                        address_port(from, &mut set);
                    }
                }
            } else if let Some(rest) = message.strip_prefix("Invalid user ") {
                set("event", "ssh_invalid_user");
                if let Some((user, from)) = rest.rsplit_once(" from ") {
                    set("user", user);
                    address_port(from, &mut set);
                }
            } else if let Some(rest) = message.strip_prefix("Accepted ") {
                set("event", "ssh_auth_accepted");
                set("auth_method", rest.split(' ').next().unwrap_or_default());
                if let Some((user, from)) = rest.split_once(" for ").and_then(|(_, after)| after.rsplit_once(" from ")) {
                    set("user", user);
                    address_port(from, &mut set);
                }
            } else if message.contains("authentication failure") {
                set("event", "ssh_auth_failed");
                pam_fields(message, &mut set);
            } else if let Some(rest) =
                message.strip_prefix("Connection closed by authenticating user ").or_else(|| message.strip_prefix("Disconnected from authenticating user "))
            {
                // "USER ADDR port N [preauth]": a client gave up during authentication.
                set("event", "ssh_auth_abandoned");
                let mut words = rest.split(' ');
                if let (Some(user), Some(address)) = (words.next(), words.next()) {
                    set("user", user);
                    set("source_ip", address);
                }
            }
        }
        "sudo" => {
            if message.contains("incorrect password attempt") || message.contains("authentication failure") {
                set("event", "sudo_auth_failed");
            } else if message.contains("user NOT in sudoers") || message.contains("is not in the sudoers file") {
                set("event", "sudo_not_allowed");
            } else if message.contains(" COMMAND=") {
                set("event", "sudo_command");
            }
            if let Some((user, _)) = message.trim_start().split_once(" : ") {
                set("user", user.trim());
            }
            pam_fields(message, &mut set);
        }
        "useradd" | "adduser" => {
            if let Some(name) = key_value(message, "new user: name=").or_else(|| key_value(message, "new user: '")) {
                set("event", "user_added");
                set("target_user", &name);
            } else if let Some(name) = key_value(message, "new group: name=") {
                set("event", "group_added");
                set("target_group", &name);
            } else if message.starts_with("add '") && message.contains("' to group '") {
                group_membership(message, &mut set);
            }
        }
        "groupadd" | "addgroup" => {
            if let Some(name) = key_value(message, "new group: name=").or_else(|| key_value(message, "group added to /etc/group: name=")) {
                set("event", "group_added");
                set("target_group", &name);
            }
        }
        "usermod" | "gpasswd" => group_membership(message, &mut set),
        _ => {
            if message.contains("session opened for user ") {
                set("event", "session_opened");
                if let Some(user) = message.split_once("session opened for user ").map(|(_, after)| after.split(['(', ' ']).next().unwrap_or_default()) {
                    set("user", user);
                }
            }
        }
    }
}

fn group_membership(message: &str, set: &mut dyn FnMut(&str, &str)) {
    // usermod: "add 'bob' to group 'sudo'"; gpasswd: "user bob added by root to group sudo".
    let (user, group) = if let Some(rest) = message.strip_prefix("add '") {
        let (user, rest) = rest.split_once("' to group '").unwrap_or_default();
        (user.to_string(), rest.trim_end_matches('\'').to_string())
    } else if let (Some(user), Some(group)) =
        (message.strip_prefix("user ").and_then(|rest| rest.split(' ').next()), message.rsplit_once(" to group ").map(|(_, group)| group))
    {
        (user.to_string(), group.to_string())
    } else {
        return;
    };
    if user.is_empty() {
        return;
    }
    set("event", "group_member_added");
    set("target_user", &user);
    set("target_group", &group);
}

fn key_value(message: &str, prefix: &str) -> Option<String> {
    let rest = message.split_once(prefix)?.1;
    Some(rest.split([',', '\'', ' ']).next().unwrap_or_default().to_string())
}

fn pam_fields(message: &str, set: &mut dyn FnMut(&str, &str)) {
    for part in message.split(' ') {
        if let Some(host) = part.strip_prefix("rhost=").filter(|host| !host.is_empty()) {
            set("source_ip", host);
        }
        if let Some(user) = part.strip_prefix("user=").filter(|user| !user.is_empty()) {
            set("user", user);
        }
    }
}

fn address_port(from: &str, set: &mut dyn FnMut(&str, &str)) {
    let mut words = from.split(' ');
    if let Some(address) = words.next() {
        set("source_ip", address);
    }
    if words.next() == Some("port")
        && let Some(port) = words.next()
    {
        set("source_port", port);
    }
}

/// Parses one auditd line (`type=X msg=audit(TIME:SERIAL): key=value ...`), or `None` when
/// the line is not an audit record.
pub fn audit_line(line: &str, source: &str) -> Option<LogRecord> {
    let rest = line.strip_prefix("type=")?;
    let (kind, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("msg=audit(")?;
    let (stamp, rest) = rest.split_once("):")?;
    let mut fields = BTreeMap::new();
    fields.insert("type".to_string(), kind.to_string());
    fields.insert("audit_event".to_string(), stamp.to_string());
    if let Some((seconds, _)) = stamp.split_once(':')
        && let Ok(seconds) = seconds.parse::<f64>()
        && let Some(time) = chrono::DateTime::from_timestamp_millis((seconds * 1000.0) as i64)
    {
        fields.insert("@timestamp".to_string(), time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    // The enriched part (after \x1d) holds interpreted values in upper-case keys.
    let (raw, enriched) = rest.split_once('\u{1d}').unwrap_or((rest, ""));
    for (key, value) in key_values(raw).into_iter().chain(key_values(enriched)) {
        fields.insert(key, value);
    }
    // Execve arguments and proctitle are hex when they hold spaces or quotes: decode them.
    for key in fields.keys().filter(|key| is_hex_candidate(key)).cloned().collect::<Vec<_>>() {
        if let Some(value) = fields.get(&key).cloned()
            && let Some(decoded) = decode_hex(&value)
        {
            fields.insert(key, decoded);
        }
    }
    Some(LogRecord { source: source.to_string(), services: vec!["auditd".into()], fields })
}

fn is_hex_candidate(key: &str) -> bool {
    key == "proctitle"
        || key == "name"
        || key == "cmd"
        || (key.starts_with('a') && key[1..].chars().all(|character| character.is_ascii_digit()) && key.len() > 1)
}

/// auditd encodes untrusted strings as upper-case hex (without quotes).
fn decode_hex(value: &str) -> Option<String> {
    if value.len() < 2 || !value.len().is_multiple_of(2) || !value.bytes().all(|byte| byte.is_ascii_digit() || (b'A'..=b'F').contains(&byte)) {
        return None;
    }
    // A short all-digit value is a number (a0=4), not hex.
    if value.bytes().all(|byte| byte.is_ascii_digit()) && value.len() <= 8 {
        return None;
    }
    let bytes = hex::decode(value).ok()?;
    // proctitle separates arguments with NUL.
    Some(String::from_utf8_lossy(&bytes).replace('\0', " "))
}

fn key_values(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else { break };
        let key = key.trim().trim_start_matches('\'').to_string();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            quoted.split_once('"').unwrap_or((quoted, ""))
        } else if let Some(quoted) = after.strip_prefix('\'') {
            // msg='op=... res=success' holds more pairs.
            let (inner, next) = quoted.split_once('\'').unwrap_or((quoted, ""));
            pairs.extend(key_values(inner));
            rest = next.trim_start();
            continue;
        } else {
            after.split_once(' ').unwrap_or((after, ""))
        };
        if !key.is_empty() {
            pairs.push((key, value.to_string()));
        }
        rest = next.trim_start();
    }
    pairs
}

/// The current year (for RFC 3164 dates, which have none).
pub fn this_year() -> i32 {
    Utc::now().year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_lines_of_both_timestamp_forms_are_split_into_fields() {
        let record = syslog_line(
            "May  4 10:00:01 web1 sshd[812]: Failed password for invalid user admin from 198.51.100.7 port 50122 ssh2",
            "/var/log/auth.log",
            true,
            2026,
        );
        assert_eq!(record.field("@timestamp"), Some("2026-05-04T10:00:01Z"));
        assert_eq!((record.field("host"), record.field("program"), record.field("pid")), (Some("web1"), Some("sshd"), Some("812")));
        assert_eq!(
            (record.field("event"), record.field("user"), record.field("source_ip"), record.field("source_port")),
            (Some("ssh_auth_failed"), Some("admin"), Some("198.51.100.7"), Some("50122"))
        );
        assert_eq!(record.services, ["sshd", "auth", "syslog"]);
        let record = syslog_line(
            "2026-05-04T10:00:02.123456+02:00 web1 sshd[9]: Accepted publickey for root from 2001:db8::1 port 2 ssh2: ED25519 SHA256:x",
            "/var/log/auth.log",
            true,
            2026,
        );
        assert_eq!(record.field("@timestamp"), Some("2026-05-04T08:00:02.123456Z"));
        assert_eq!((record.field("event"), record.field("user"), record.field("source_ip")), (Some("ssh_auth_accepted"), Some("root"), Some("2001:db8::1")));
        let record = syslog_line("2026-05-04T10:00:03+00:00 web1 sshd[9]: Invalid user bob from 10.0.0.1 port 4", "x", false, 2026);
        assert_eq!((record.field("event"), record.field("user")), (Some("ssh_invalid_user"), Some("bob")));
        let record = syslog_line(
            "2026-05-04T10:00:03+00:00 web1 useradd[1]: new user: name=mallory, UID=1001, GID=1001, home=/home/mallory, shell=/bin/bash, from=/dev/pts/0",
            "x",
            true,
            2026,
        );
        assert_eq!((record.field("event"), record.field("target_user")), (Some("user_added"), Some("mallory")));
        let record = syslog_line("2026-05-04T10:00:03+00:00 web1 usermod[1]: add 'mallory' to group 'sudo'", "x", true, 2026);
        assert_eq!((record.field("event"), record.field("target_group")), (Some("group_member_added"), Some("sudo")));
        let record = syslog_line(
            "2026-05-04T10:00:03+00:00 web1 sudo[1]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
            "x",
            true,
            2026,
        );
        assert_eq!((record.field("event"), record.field("user")), (Some("sudo_auth_failed"), Some("alice")));
        let garbage = syslog_line("\u{fffd}\u{fffd} no structure at all", "x", false, 2026);
        assert_eq!(garbage.field("message"), Some("\u{fffd}\u{fffd} no structure at all"));
    }

    #[test]
    fn audit_lines_decode_hex_arguments_and_enriched_fields() {
        let line =
            "type=EXECVE msg=audit(1700000000.123:77): argc=3 a0=\"truncate\" a1=\"-s0\" a2=2F7661722F6C6F672F61756469742F61756469742E6C6F67\u{1d}UID=\"root\"";
        let record = audit_line(line, "/var/log/audit/audit.log").unwrap();
        assert_eq!(record.field("type"), Some("EXECVE"));
        assert_eq!(record.field("a2"), Some("/var/log/audit/audit.log"));
        assert_eq!(record.field("UID"), Some("root"));
        assert_eq!(record.field("@timestamp"), Some("2023-11-14T22:13:20.123Z"));
        let record = audit_line("type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=103 a0=4 a1=0 comm=\"dmesg\"\u{1d}SYSCALL=syslog", "x").unwrap();
        assert_eq!((record.field("a0"), record.field("SYSCALL")), (Some("4"), Some("syslog")));
        let record = audit_line("type=CONFIG_CHANGE msg=audit(1.0:2): auid=0 ses=1 op=remove_rule key=\"k\" list=4 res=1", "x").unwrap();
        assert_eq!(record.field("op"), Some("remove_rule"));
        let record = audit_line("type=USER_CMD msg=audit(1.0:3): pid=1 uid=0 msg='cwd=\"/root\" cmd=6C73 exe=\"/usr/bin/sudo\" res=success'", "x").unwrap();
        assert_eq!((record.field("exe"), record.field("res")), (Some("/usr/bin/sudo"), Some("success")));
        assert!(audit_line("not audit", "x").is_none());
    }
}
