//! Who made a change, from the Linux audit log: the most recent audit event whose `PATH`
//! record names the file, with its `SYSCALL` record's login user, user, process and program.
//!
//! The monitor asks auditd to watch the monitored paths with [`rules`] (key `vigil-fim`);
//! without auditd, or for a change the log does not hold, the actor is simply unknown.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::Actor;
use crate::fsroot::HostRoot;

/// The audit key on vigil's watch rules.
pub const AUDIT_KEY: &str = "vigil-fim";

/// `auditctl` rules that make auditd record writes and attribute changes under `paths`.
pub fn rules(paths: &[String]) -> Vec<String> {
    paths.iter().map(|path| format!("-w {path} -p wa -k {AUDIT_KEY}")).collect()
}

/// The last actor of each path named in an audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    by_path: HashMap<Vec<u8>, Actor>,
    root: Option<HostRoot>,
}

/// How much of the log's end is read (the changes being explained are recent).
const TAIL_BYTES: u64 = 32 * 1024 * 1024;

impl AuditLog {
    /// Reads the end of `log` (`/var/log/audit/audit.log`); paths are mapped into `root`.
    pub fn read(log: &Path, root: &HostRoot) -> std::io::Result<AuditLog> {
        let mut file = std::fs::File::open(log)?;
        let length = file.metadata()?.len();
        let start = length.saturating_sub(TAIL_BYTES);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut log = AuditLog::parse(&bytes);
        log.root = Some(root.clone());
        Ok(log)
    }

    /// Parses audit records (lines `type=X msg=audit(TIME:SERIAL): key=value ...`).
    pub fn parse(bytes: &[u8]) -> AuditLog {
        let mut syscalls: HashMap<String, Actor> = HashMap::new();
        let mut cwd: HashMap<String, Vec<u8>> = HashMap::new();
        let mut names: Vec<(String, Vec<u8>)> = Vec::new();
        for line in bytes.split(|byte| *byte == b'\n') {
            let Some(record) = parse_line(line) else { continue };
            match record.kind.as_str() {
                "SYSCALL" => {
                    let number = |key: &str| record.fields.get(key).and_then(|value| std::str::from_utf8(value).ok()).and_then(|text| text.parse().ok());
                    let text = |key: &str| record.fields.get(key).map(|value| String::from_utf8_lossy(value).into_owned());
                    syscalls.insert(
                        record.event.clone(),
                        Actor {
                            auid: number("auid").filter(|auid| *auid != u32::MAX),
                            uid: number("uid"),
                            pid: number("pid"),
                            exe: text("exe"),
                            comm: text("comm"),
                            event: record.event,
                        },
                    );
                }
                "CWD" => {
                    if let Some(directory) = record.fields.get("cwd") {
                        cwd.insert(record.event, directory.clone());
                    }
                }
                "PATH" => {
                    if let Some(name) = record.fields.get("name") {
                        names.push((record.event, name.clone()));
                    }
                }
                _ => {}
            }
        }
        let mut by_path = HashMap::new();
        for (event, name) in names {
            let Some(actor) = syscalls.get(&event) else { continue };
            let path = if name.starts_with(b"/") {
                name
            } else {
                let mut joined = cwd.get(&event).cloned().unwrap_or_default();
                joined.push(b'/');
                joined.extend_from_slice(&name);
                joined
            };
            by_path.insert(path, actor.clone());
        }
        AuditLog { by_path, root: None }
    }

    /// The last recorded actor of `inner` (a path inside the root).
    pub fn who_changed(&self, inner: &[u8]) -> Option<Actor> {
        let absolute = match &self.root {
            Some(root) => std::os::unix::ffi::OsStrExt::as_bytes(root.join(inner).as_os_str()).to_vec(),
            None => inner.to_vec(),
        };
        self.by_path.get(&absolute).cloned()
    }
}

struct Record {
    kind: String,
    event: String,
    fields: HashMap<String, Vec<u8>>,
}

/// One audit line. Values are `"quoted"`, or hex when they hold a space, quote or control
/// character (auditd's encoding of untrusted strings), or bare.
fn parse_line(line: &[u8]) -> Option<Record> {
    let text = String::from_utf8_lossy(line);
    let rest = text.strip_prefix("type=")?;
    let (kind, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("msg=audit(")?;
    let (event, rest) = rest.split_once("):")?;
    let mut fields = HashMap::new();
    let mut remaining = rest.trim_start();
    while !remaining.is_empty() {
        let Some((key, after)) = remaining.split_once('=') else { break };
        let key = key.trim().to_string();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((value, next)) => (value.as_bytes().to_vec(), next),
                None => (quoted.as_bytes().to_vec(), ""),
            }
        } else {
            let (value, next) = after.split_once(' ').unwrap_or((after, ""));
            let decoded = if value.len() % 2 == 0
                && value.len() >= 2
                && value.bytes().all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_lowercase())
                && key == "name"
            {
                hex::decode(value).unwrap_or_else(|_| value.as_bytes().to_vec())
            } else {
                value.as_bytes().to_vec()
            };
            (decoded, next)
        };
        fields.insert(key, value);
        remaining = next.trim_start();
    }
    Some(Record { kind: kind.to_string(), event: event.to_string(), fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_writer_of_a_path_comes_from_its_syscall_record() {
        let log = br#"type=SYSCALL msg=audit(1700000000.100:41): arch=c000003e syscall=257 success=yes exit=3 ppid=10 pid=4242 auid=1000 uid=0 gid=0 euid=0 comm="vim" exe="/usr/bin/vim.basic" key="vigil-fim"
type=CWD msg=audit(1700000000.100:41): cwd="/etc"
type=PATH msg=audit(1700000000.100:41): item=0 name="/etc/" inode=2 nametype=PARENT
type=PATH msg=audit(1700000000.100:41): item=1 name="sudoers" inode=77 nametype=CREATE
type=SYSCALL msg=audit(1700000001.000:42): arch=c000003e syscall=90 success=yes exit=0 pid=7 auid=4294967295 uid=0 comm="chmod" exe="/usr/bin/chmod" key="vigil-fim"
type=PATH msg=audit(1700000001.000:42): item=0 name=2F746D702F6120622E7368 inode=5 nametype=NORMAL
garbage line
"#;
        let audit = AuditLog::parse(log);
        let actor = audit.who_changed(b"/etc/sudoers").unwrap();
        assert_eq!(
            (actor.auid, actor.uid, actor.pid, actor.comm.as_deref(), actor.event.as_str()),
            (Some(1000), Some(0), Some(4242), Some("vim"), "1700000000.100:41")
        );
        let hex_named = audit.who_changed(b"/tmp/a b.sh").unwrap();
        assert_eq!((hex_named.auid, hex_named.exe.as_deref()), (None, Some("/usr/bin/chmod")));
        assert_eq!(audit.who_changed(b"/etc/passwd"), None);
        assert_eq!(rules(&["/etc".to_string()]), ["-w /etc -p wa -k vigil-fim"]);
    }
}
