//! The `ips` host module: active response in the agent. Each run reads what is new in the host
//! logs (the `logs` module's sources and parsers: `auth.log`, `secure`, ... or the policy's
//! `files`, and the journal), counts the failed SSH logins the built-in detection finds
//! ([`super::ssh_failure`]) per source address, and after `max_failures` within
//! `window_seconds` blocks the address in vigil's nftables set with a timeout of
//! `block_seconds` ([`Responder`]), unless `allow` covers it. `mode: dry-run` (the default)
//! changes nothing and reports what it would have done.
//!
//! Events: `blocked` (`{address, seconds, until, reason, dry_run, mode}`), `expired` (the
//! block's time passed and the kernel dropped the element), `unblocked` (a person asked in the
//! console: `{address, requested_by, command_id, ...}`) and `command_failed`. Commands arrive
//! in the module's inbox (`crate::module::pending_commands`); each runs once. Positions, the
//! blocks in force and the commands run are saved only once the run's events are queued
//! ([`Module::committed`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Responder, ResponsePolicy, blocked};
use crate::firewall::Nft;
use crate::logs::detect::{self, Detector};
use crate::logs::module::{ReadLimits, read_new};
use crate::logs::{FileSource, LogRecord, Positions};
use crate::module::{Module, ModuleError, Run, complete_commands, pending_commands};

/// Bytes read from one log file per run by default.
const DEFAULT_MAX_BYTES_PER_RUN: u64 = 8 * 1024 * 1024;
/// Journal entries read per run.
const MAX_JOURNAL_RECORDS: usize = 50_000;

/// A block in force (or, in dry-run, one that would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Block {
    until_ms: i64,
    blocked_at: String,
    dry_run: bool,
}

/// What the run changed, saved once its events are queued.
#[derive(Debug, Default)]
struct Pending {
    positions: Option<Positions>,
    blocks: Option<BTreeMap<String, Block>>,
    commands: Vec<String>,
}

/// The active-response module.
pub struct IpsModule {
    nft: Nft,
    responder: Option<Responder>,
    rules: Option<vigil_trail::sigma::RuleSet>,
    detector: Detector,
    blocks: Option<BTreeMap<String, Block>>,
    pending: Pending,
}

impl std::fmt::Debug for IpsModule {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("IpsModule").field("nft", &self.nft).field("blocks", &self.blocks).finish()
    }
}

impl Default for IpsModule {
    fn default() -> Self {
        IpsModule::with_nft(Nft::default())
    }
}

impl IpsModule {
    fn with_nft(nft: Nft) -> IpsModule {
        IpsModule { nft, responder: None, rules: None, detector: Detector::default(), blocks: None, pending: Pending::default() }
    }

    /// The module blocking in a network namespace's firewall (`ip netns exec NAME nft`): tests
    /// use one they created, never the machine's own.
    pub fn in_namespace(namespace: &str) -> IpsModule {
        IpsModule::with_nft(Nft { netns: Some(namespace.to_string()) })
    }
}

fn ips_error(message: impl std::fmt::Display) -> ModuleError {
    ModuleError::Other(format!("ips: {message}"))
}

fn positions_file(state_dir: &Path) -> PathBuf {
    state_dir.join("positions.json")
}

fn blocks_file(state_dir: &Path) -> PathBuf {
    state_dir.join("blocks.json")
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

/// The response policy the settings give; `mode` must be `dry-run` or `enforce`.
pub fn response_policy(settings: &crate::module::ModuleSettings) -> Result<ResponsePolicy, ModuleError> {
    let defaults = ResponsePolicy::default();
    let mode: String = settings.get("mode").unwrap_or_else(|| "dry-run".to_string());
    let dry_run = match mode.as_str() {
        "dry-run" => true,
        "enforce" => false,
        other => return Err(ips_error(format!("`mode` is `{other}`: use `dry-run` or `enforce`"))),
    };
    let number = |key: &str, default: u64| -> Result<u64, ModuleError> {
        match settings.raw.get(key) {
            None => Ok(default),
            Some(value) => value.as_u64().filter(|number| *number > 0).ok_or_else(|| ips_error(format!("`{key}` must be a positive integer, not `{value}`"))),
        }
    };
    let allowlist = match settings.raw.get("allow") {
        None => Vec::new(),
        Some(value) => {
            serde_json::from_value::<Vec<String>>(value.clone()).map_err(|_| ips_error(format!("`allow` must be a list of CIDR blocks, not `{value}`")))?
        }
    };
    Ok(ResponsePolicy {
        max_failures: number("max_failures", defaults.max_failures as u64)? as usize,
        window_seconds: number("window_seconds", defaults.window_seconds)?,
        block_seconds: number("block_seconds", defaults.block_seconds)?,
        allowlist,
        dry_run,
    })
}

impl IpsModule {
    /// The responder for `policy` (made again when the policy changed; enforcing makes sure
    /// vigil's table and sets exist), with the blocks in force remembered.
    fn responder(&mut self, policy: ResponsePolicy) -> Result<&mut Responder, ModuleError> {
        if self.responder.as_ref().is_none_or(|responder| *responder.policy() != policy) {
            let mut responder = Responder::new(policy, self.nft.clone(), None).map_err(ips_error)?;
            for (address, block) in self.blocks.iter().flatten() {
                if let Ok(address) = address.parse::<IpAddr>() {
                    responder.remember_block(address, block.until_ms);
                }
            }
            self.responder = Some(responder);
        }
        self.responder.as_mut().ok_or_else(|| ips_error("no responder"))
    }

    /// New log records since the saved positions: the text files and, when asked, the journal.
    fn read_records(&self, run: &mut Run<'_>, problems: &mut Vec<String>) -> Result<(Vec<LogRecord>, Positions), ModuleError> {
        let settings = run.settings;
        let root = run.host_root();
        let program: Option<String> = settings.get("program");
        let files: Vec<FileSource> = match settings.get::<Vec<String>>("files") {
            Some(files) => files
                .iter()
                .map(|inner| root.join(inner.as_bytes()))
                .filter(|path| path.exists())
                .map(|path| FileSource { program: program.clone(), ..FileSource::new(path) })
                .collect(),
            None => crate::logs::default_files(&root),
        };
        let positions = Positions::load(&positions_file(run.state_dir)).map_err(ips_error)?;
        let limits = ReadLimits {
            max_bytes: settings.get("max_bytes_per_run").unwrap_or(DEFAULT_MAX_BYTES_PER_RUN),
            journal: settings.get("journal").unwrap_or(true),
            max_journal: MAX_JOURNAL_RECORDS,
        };
        let (records, positions) = read_new(run, files, positions, limits, problems);
        Ok((records, positions))
    }
}

impl Module for IpsModule {
    fn name(&self) -> &'static str {
        "ips"
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        let policy = response_policy(run.settings)?;
        let (dry_run, mode) = (policy.dry_run, if policy.dry_run { "dry-run" } else { "enforce" });
        if self.blocks.is_none() {
            let path = blocks_file(run.state_dir);
            self.blocks = Some(match std::fs::read(&path) {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| ips_error(format!("`{}`: {error}", path.display())))?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
                Err(error) => return Err(ips_error(format!("cannot read `{}`: {error}", path.display()))),
            });
        }
        let mut blocks = self.blocks.clone().unwrap_or_default();
        let nft = self.nft.clone();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut problems = Vec::new();
        let responder = self.responder(policy.clone())?;

        // Commands from the console first: a person's unblock is not delayed by the logs.
        let (commands, command_problems) = pending_commands(run.state_dir);
        problems.extend(command_problems);
        let mut done = Vec::new();
        let mut in_set: Option<Vec<String>> = None;
        for command in commands {
            let address = command.arguments.get("address").and_then(serde_json::Value::as_str).and_then(|text| text.parse::<IpAddr>().ok());
            let outcome = match (command.kind.as_str(), address) {
                ("unblock", Some(address)) => {
                    let held = blocks.remove(&address.to_string());
                    // In the kernel's set now? (it may have expired on its own meanwhile)
                    let present = if dry_run {
                        false
                    } else {
                        let listed = match &in_set {
                            Some(listed) => listed.clone(),
                            None => blocked(&nft).map_err(ips_error)?.into_iter().map(|(address, _)| address).collect(),
                        };
                        let present = listed.contains(&address.to_string());
                        in_set = Some(listed);
                        present
                    };
                    let result = if present {
                        responder.unblock(address, &format!("asked in the console by {}", command.requested_by)).map(drop)
                    } else {
                        responder.forget_block(address);
                        Ok(())
                    };
                    match result {
                        Ok(()) => {
                            in_set = None;
                            run.emit(
                                "unblocked",
                                format!("unblocked:{}", command.id),
                                json!({
                                    "address": address.to_string(), "command_id": command.id, "requested_by": command.requested_by,
                                    "requested_at": command.requested_at, "dry_run": dry_run, "mode": mode,
                                    "was_blocked": present || held.as_ref().is_some_and(|block| block.dry_run),
                                    "note": if present || dry_run { None } else { Some("the address was not in vigil's set (expired or never blocked): nothing to remove") },
                                }),
                            );
                            Ok(())
                        }
                        Err(error) => {
                            if let Some(held) = held {
                                blocks.insert(address.to_string(), held);
                            }
                            Err(error.to_string())
                        }
                    }
                }
                ("unblock", None) => Err(format!("`{}` is not an IP address", command.arguments.get("address").cloned().unwrap_or_default())),
                (other, _) => Err(format!("the `ips` module has no command `{other}`")),
            };
            if let Err(error) = outcome {
                run.emit(
                    "command_failed",
                    format!("command_failed:{}", command.id),
                    json!({"command_id": command.id, "kind": command.kind, "arguments": command.arguments, "requested_by": command.requested_by, "error": error}),
                );
            }
            done.push(command.id);
        }

        // Blocks whose time passed: the kernel drops the element at its timeout.
        let expired: Vec<String> = blocks.iter().filter(|(_, block)| block.until_ms <= now_ms).map(|(address, _)| address.clone()).collect();
        if !expired.is_empty() {
            let listed: Vec<String> = if expired.iter().all(|address| blocks.get(address).is_some_and(|block| block.dry_run)) {
                Vec::new()
            } else {
                blocked(&nft).map_err(ips_error)?.into_iter().map(|(address, _)| address).collect()
            };
            for address in expired {
                if listed.contains(&address) {
                    continue;
                }
                let Some(block) = blocks.remove(&address) else { continue };
                if let Ok(parsed) = address.parse::<IpAddr>() {
                    responder.forget_block(parsed);
                }
                run.emit(
                    "expired",
                    format!("expired:{address}:{}", block.until_ms),
                    json!({"address": address, "blocked_at": block.blocked_at, "until": rfc3339(block.until_ms), "dry_run": block.dry_run, "mode": if block.dry_run { "dry-run" } else { "enforce" }}),
                );
            }
        }

        // New failures in the logs.
        let (records, positions) = self.read_records(run, &mut problems)?;
        if self.rules.is_none() {
            self.rules = Some(detect::load(&[], true).map_err(ips_error)?.0);
        }
        let (Some(rules), Some(responder)) = (self.rules.as_ref(), self.responder.as_mut()) else { return Err(ips_error("the rules did not load")) };
        let window_ms = (policy.window_seconds as i64).saturating_mul(1000);
        for (index, record) in records.iter().enumerate() {
            if index % 256 == 0 {
                run.budget.pace();
            }
            let Some(failure) = super::ssh_failure(&mut self.detector, rules, record, now_ms) else { continue };
            // Old lines (a first run reading a log from its start) never block now.
            if failure.time_ms < now_ms - window_ms {
                continue;
            }
            let Some(action) = responder.failure(failure.address, failure.time_ms, &failure.message).map_err(ips_error)? else { continue };
            let until_ms = now_ms.saturating_add((policy.block_seconds as i64).saturating_mul(1000));
            blocks.insert(failure.address.to_string(), Block { until_ms, blocked_at: action.time.clone(), dry_run });
            run.emit(
                "blocked",
                format!("blocked:{}:{}", failure.address, failure.time_ms),
                json!({
                    "address": failure.address.to_string(), "action": action.action, "seconds": policy.block_seconds, "until": rfc3339(until_ms),
                    "reason": action.reason, "max_failures": policy.max_failures, "window_seconds": policy.window_seconds,
                    "dry_run": dry_run, "mode": mode, "set": if failure.address.is_ipv4() { "inet vigil blocked4" } else { "inet vigil blocked6" },
                }),
            );
        }
        self.blocks = Some(blocks.clone());
        self.pending = Pending { positions: Some(positions), blocks: Some(blocks), commands: done };
        if !problems.is_empty() {
            return Err(ips_error(problems.join("; ")));
        }
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        let pending = std::mem::take(&mut self.pending);
        if let Some(positions) = pending.positions {
            positions.save(&positions_file(state_dir)).map_err(ips_error)?;
        }
        if let Some(blocks) = pending.blocks {
            let (path, partial) = (blocks_file(state_dir), state_dir.join("blocks.json.partial"));
            std::fs::write(&partial, serde_json::to_vec_pretty(&blocks).unwrap_or_default())
                .and_then(|()| std::fs::rename(&partial, &path))
                .map_err(|error| ips_error(format!("cannot write `{}`: {error}", path.display())))?;
        }
        complete_commands(state_dir, &pending.commands)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::module::{AgentCommand, Emitted, ModuleSettings, deliver_command};

    fn run_once(module: &mut IpsModule, settings: serde_json::Value, state: &Path, root: &Path) -> Vec<Emitted> {
        let settings = ModuleSettings::from_map(settings.as_object().unwrap());
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state, root, &stop);
        module.run(&mut run).unwrap();
        let emitted = run.take_emitted();
        module.committed(state).unwrap();
        emitted
    }

    fn failures(address: &str, count: usize) -> String {
        let now = chrono::Utc::now();
        (0..count)
            .map(|index| {
                let time = (now - chrono::Duration::seconds(30 - index as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
                format!("{time} web1 sshd[812]: Failed password for root from {address} port {} ssh2\n", 50_000 + index)
            })
            .collect()
    }

    /// Dry-run (the default): the block is reported, flagged, and nothing runs `nft` (the
    /// module's namespace does not exist, so any `nft` call would fail the run).
    #[test]
    fn in_dry_run_failures_report_a_would_be_block_the_allowlist_is_spared_and_a_console_unblock_runs_once() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("var/log")).unwrap();
        let old = "2020-01-01T00:00:00+00:00 web1 sshd[1]: Failed password for root from 198.51.100.9 port 1 ssh2\n".repeat(10);
        let lines = format!("{old}{}{}", failures("198.51.100.7", 4), failures("10.1.2.3", 6));
        std::fs::write(root.path().join("var/log/auth.log"), lines).unwrap();
        let settings = json!({"enabled": true, "journal": false, "max_failures": 3, "window_seconds": 600, "block_seconds": 60, "allow": ["10.0.0.0/8"]});
        let mut module = IpsModule::in_namespace("vigil-no-such-namespace");
        let emitted = run_once(&mut module, settings.clone(), state.path(), root.path());
        assert_eq!(emitted.len(), 1, "one block, none for old lines or the allowlist: {emitted:#?}");
        assert_eq!((emitted[0].kind.as_str(), emitted[0].payload["address"].as_str()), ("blocked", Some("198.51.100.7")));
        assert_eq!((emitted[0].payload["dry_run"].as_bool(), emitted[0].payload["action"].as_str()), (Some(true), Some("would-block")));
        assert!(run_once(&mut module, settings.clone(), state.path(), root.path()).is_empty(), "nothing read twice");

        // The console's unblock, delivered twice (a lost acknowledgement), runs once.
        let command = AgentCommand {
            id: "cmd-00000000000000aa".into(),
            module: "ips".into(),
            kind: "unblock".into(),
            arguments: json!({"address": "198.51.100.7"}),
            requested_by: "user:alice".into(),
            requested_at: "2026-01-01T00:00:00Z".into(),
        };
        assert!(deliver_command(state.path(), &command).unwrap());
        assert!(!deliver_command(state.path(), &command).unwrap(), "held already");
        let mut restarted = IpsModule::in_namespace("vigil-no-such-namespace");
        let emitted = run_once(&mut restarted, settings.clone(), state.path(), root.path());
        assert_eq!(emitted.len(), 1, "{emitted:#?}");
        assert_eq!(emitted[0].kind, "unblocked");
        assert_eq!(emitted[0].payload["requested_by"], "user:alice");
        assert_eq!(emitted[0].payload["command_id"], "cmd-00000000000000aa");
        assert!(!deliver_command(state.path(), &command).unwrap(), "ran already");
        assert!(run_once(&mut restarted, settings.clone(), state.path(), root.path()).is_empty());

        // A bad mode is an error naming the setting.
        let bad = ModuleSettings::from_map(json!({"enabled": true, "mode": "yes"}).as_object().unwrap());
        assert!(response_policy(&bad).unwrap_err().to_string().contains("`mode`"));
    }

    #[test]
    fn a_dry_run_block_expires_with_an_event() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("var/log")).unwrap();
        std::fs::write(root.path().join("var/log/auth.log"), failures("2001:db8::7", 3)).unwrap();
        let settings = json!({"enabled": true, "journal": false, "max_failures": 3, "block_seconds": 1});
        let mut module = IpsModule::in_namespace("vigil-no-such-namespace");
        let emitted = run_once(&mut module, settings.clone(), state.path(), root.path());
        assert_eq!(emitted[0].payload["set"], "inet vigil blocked6");
        // The block's time passes (its record says so; no sleeping).
        let mut blocks: BTreeMap<String, Block> = serde_json::from_slice(&std::fs::read(blocks_file(state.path())).unwrap()).unwrap();
        blocks.get_mut("2001:db8::7").unwrap().until_ms = 0;
        std::fs::write(blocks_file(state.path()), serde_json::to_vec(&blocks).unwrap()).unwrap();
        let emitted = run_once(&mut IpsModule::in_namespace("vigil-no-such-namespace"), settings, state.path(), root.path());
        assert_eq!(emitted.len(), 1, "{emitted:#?}");
        assert_eq!((emitted[0].kind.as_str(), emitted[0].payload["dry_run"].as_bool()), ("expired", Some(true)));
    }
}
