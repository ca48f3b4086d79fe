//! Active response (intrusion prevention): after N failures from one source address within T
//! seconds, the address is blocked in vigil's own nftables set (`inet vigil` `blocked4` /
//! `blocked6`, dropped by the table's `blocked` chain) with an expiry (the set's timeout),
//! unless an allowlist covers it.
//!
//! Dry-run by default: the decision is recorded but nothing is changed. Every action (block,
//! unblock, dry-run block) is appended to a journal (JSON lines) and can be undone
//! ([`Responder::unblock`]).
//!
//! The same responder runs in `vigil host ips watch` and in the agent's `ips` module
//! ([`module`]), fed by the logs' built-in detection of one failed SSH login
//! ([`ssh_failure`]).

pub mod module;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::firewall::enforce::{TABLE, ensure_script};
use crate::firewall::{FirewallError, Nft};
use crate::logs::LogRecord;
use crate::logs::detect::{Detector, SSH_AUTH_FAILURE_RULE};

/// One failed SSH login as the active response counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshFailure {
    pub address: IpAddr,
    /// The record's time (milliseconds since the epoch; now for a line without one).
    pub time_ms: i64,
    /// The log line.
    pub message: String,
}

/// The failed SSH login `record` is, when the built-in rule "SSH Authentication Failure"
/// ([`SSH_AUTH_FAILURE_RULE`], the detection the `logs` module reports) matches it and it names
/// a source address. The detector's correlation hits are not kept (the responder counts).
pub fn ssh_failure(detector: &mut Detector, rules: &vigil_trail::sigma::RuleSet, record: &LogRecord, now_ms: i64) -> Option<SshFailure> {
    let failed = detector.check(rules, record).iter().any(|alert| alert.rule_id == SSH_AUTH_FAILURE_RULE);
    detector.hits.clear();
    if !failed {
        return None;
    }
    let address = record.field("source_ip")?.parse::<IpAddr>().ok()?;
    let time_ms =
        record.field("@timestamp").and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok()).map(|time| time.timestamp_millis()).unwrap_or(now_ms);
    Some(SshFailure { address, time_ms, message: record.field("message").unwrap_or_default().to_string() })
}

/// When to block and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsePolicy {
    /// Failures from one address ...
    pub max_failures: usize,
    /// ... within this many seconds trigger a block.
    pub window_seconds: u64,
    /// How long a block lasts (the nftables set timeout).
    pub block_seconds: u64,
    /// Addresses never blocked (CIDR blocks).
    pub allowlist: Vec<String>,
    /// Change nothing; record what would have been done.
    pub dry_run: bool,
}

impl Default for ResponsePolicy {
    fn default() -> Self {
        ResponsePolicy { max_failures: 5, window_seconds: 600, block_seconds: 3600, allowlist: Vec::new(), dry_run: true }
    }
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub time: String,
    /// `block`, `unblock`, or `would-block` (dry run).
    pub action: String,
    pub address: String,
    pub seconds: Option<u64>,
    pub reason: String,
}

/// Counts failures per address and blocks.
#[derive(Debug)]
pub struct Responder {
    policy: ResponsePolicy,
    allowlist: Vec<ipnet::IpNet>,
    nft: Nft,
    journal: Option<PathBuf>,
    /// Failure times (milliseconds) per address within the window.
    failures: HashMap<IpAddr, VecDeque<i64>>,
    /// Addresses blocked, until (milliseconds).
    blocked: HashMap<IpAddr, i64>,
    pub actions: Vec<ActionRecord>,
}

impl Responder {
    pub fn new(policy: ResponsePolicy, nft: Nft, journal: Option<PathBuf>) -> Result<Responder, FirewallError> {
        let allowlist = policy
            .allowlist
            .iter()
            .map(|text| {
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| FirewallError::Policy(format!("allowlist: `{text}` is not a CIDR block")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if policy.max_failures == 0 {
            return Err(FirewallError::Policy("max_failures must be at least 1".to_string()));
        }
        if !policy.dry_run {
            nft.apply(&ensure_script())?;
        }
        Ok(Responder { policy, allowlist, nft, journal, failures: HashMap::new(), blocked: HashMap::new(), actions: Vec::new() })
    }

    /// Records one failure from `address` at `time_ms`; blocks when the threshold is reached.
    /// Returns the action taken, if any.
    pub fn failure(&mut self, address: IpAddr, time_ms: i64, reason: &str) -> Result<Option<ActionRecord>, FirewallError> {
        if self.allowlist.iter().any(|network| network.contains(&address)) {
            return Ok(None);
        }
        if self.blocked.get(&address).is_some_and(|until| *until > time_ms) {
            return Ok(None);
        }
        let window_ms = (self.policy.window_seconds as i64).saturating_mul(1000);
        let times = self.failures.entry(address).or_default();
        times.push_back(time_ms);
        while times.front().is_some_and(|first| *first <= time_ms - window_ms) {
            times.pop_front();
        }
        if times.len() < self.policy.max_failures {
            return Ok(None);
        }
        times.clear();
        let reason = format!("{} failures within {} s: {reason}", self.policy.max_failures, self.policy.window_seconds);
        let seconds = self.policy.block_seconds;
        let action = if self.policy.dry_run { "would-block" } else { "block" };
        if !self.policy.dry_run {
            self.nft.apply(&format!("add element {TABLE} {} {{ {address} timeout {seconds}s }}\n", set_of(address)))?;
        }
        self.blocked.insert(address, time_ms.saturating_add((seconds as i64).saturating_mul(1000)));
        let record = ActionRecord { time: now(), action: action.to_string(), address: address.to_string(), seconds: Some(seconds), reason };
        self.record(&record)?;
        Ok(Some(record))
    }

    /// The policy it runs.
    pub fn policy(&self) -> &ResponsePolicy {
        &self.policy
    }

    /// Whether `address` is covered by the allowlist.
    pub fn allowlisted(&self, address: IpAddr) -> bool {
        self.allowlist.iter().any(|network| network.contains(&address))
    }

    /// A block made earlier (by a previous run of the agent) until `until_ms`: no second block
    /// before then.
    pub fn remember_block(&mut self, address: IpAddr, until_ms: i64) {
        self.blocked.insert(address, until_ms);
    }

    /// Forgets a block that expired or was lifted elsewhere.
    pub fn forget_block(&mut self, address: IpAddr) {
        self.blocked.remove(&address);
    }

    /// Lifts a block before its expiry (recorded like every action).
    pub fn unblock(&mut self, address: IpAddr, reason: &str) -> Result<ActionRecord, FirewallError> {
        if !self.policy.dry_run {
            self.nft.apply(&format!("delete element {TABLE} {} {{ {address} }}\n", set_of(address)))?;
        }
        self.blocked.remove(&address);
        let record = ActionRecord { time: now(), action: "unblock".to_string(), address: address.to_string(), seconds: None, reason: reason.to_string() };
        self.record(&record)?;
        Ok(record)
    }

    fn record(&mut self, record: &ActionRecord) -> Result<(), FirewallError> {
        if let Some(path) = &self.journal {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|error| FirewallError::Io { path: path.display().to_string(), error })?;
            let line = serde_json::to_string(record).unwrap_or_default();
            writeln!(file, "{line}").map_err(|error| FirewallError::Io { path: path.display().to_string(), error })?;
        }
        self.actions.push(record.clone());
        Ok(())
    }
}

fn set_of(address: IpAddr) -> &'static str {
    if address.is_ipv4() { "blocked4" } else { "blocked6" }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The addresses currently in vigil's blocked sets, with the seconds left.
pub fn blocked(nft: &Nft) -> Result<Vec<(String, Option<u64>)>, FirewallError> {
    let mut out = Vec::new();
    for set in ["blocked4", "blocked6"] {
        let text = match nft.run("nft", &["-j", "list", "set", "inet", "vigil", set], None) {
            Ok(text) => text,
            Err(_) => continue,
        };
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| FirewallError::Parse { origin: format!("nft -j list set inet vigil {set}"), reason: error.to_string() })?;
        for item in json.get("nftables").and_then(serde_json::Value::as_array).into_iter().flatten() {
            for element in item.get("set").and_then(|set| set.get("elem")).and_then(serde_json::Value::as_array).into_iter().flatten() {
                let (address, expires) = match element.get("elem") {
                    Some(inner) => (
                        inner.get("val").and_then(serde_json::Value::as_str).unwrap_or_default().to_string(),
                        inner.get("expires").and_then(serde_json::Value::as_u64),
                    ),
                    None => (element.as_str().unwrap_or_default().to_string(), None),
                };
                out.push((address, expires));
            }
        }
    }
    Ok(out)
}

/// How long a wait for a block's expiry may take, for callers that poll.
pub fn expiry_wait(policy: &ResponsePolicy) -> Duration {
    Duration::from_secs(policy.block_seconds + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_within_the_window_block_once_and_the_allowlist_is_never_blocked() {
        let policy = ResponsePolicy { max_failures: 3, window_seconds: 60, block_seconds: 600, allowlist: vec!["10.0.0.0/8".to_string()], dry_run: true };
        let mut responder = Responder::new(policy, Nft::default(), None).unwrap();
        let attacker: IpAddr = "198.51.100.7".parse().unwrap();
        let friend: IpAddr = "10.1.2.3".parse().unwrap();
        // Spread over more than the window: no block.
        for time in [0, 40_000, 80_000] {
            assert_eq!(responder.failure(attacker, time, "ssh").unwrap(), None);
        }
        // Three within the window.
        assert_eq!(responder.failure(attacker, 90_000, "ssh").unwrap().map(|record| record.action), Some("would-block".to_string()));
        // Already blocked: no second action.
        assert_eq!(responder.failure(attacker, 91_000, "ssh").unwrap(), None);
        for time in 0..10 {
            assert_eq!(responder.failure(friend, time, "ssh").unwrap(), None);
        }
        assert_eq!(responder.actions.len(), 1);
        let unblock = responder.unblock(attacker, "by hand").unwrap();
        assert_eq!(unblock.action, "unblock");
        assert!(Responder::new(ResponsePolicy { allowlist: vec!["nonsense".to_string()], ..ResponsePolicy::default() }, Nft::default(), None).is_err());
    }
}
