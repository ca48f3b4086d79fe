//! The host firewall: reading nftables (`nft -j list ruleset`) or, where nftables is absent,
//! iptables (`iptables-save`, `ip6tables-save`) into the model that `vigil-net` joins with
//! the cloud network's exposure; and optional enforcement of a policy in a table vigil owns
//! (`inet vigil`), applied atomically (`nft -f`) and rolled back when not confirmed in time.
//!
//! vigil never writes to another table: every script it runs names `inet vigil` only.

pub mod agent;
pub mod enforce;
pub mod iptables;
pub mod module;
pub mod nft;

use std::path::Path;
use std::process::Command;

use vigil_net::Family;
pub use vigil_net::HostRuleset;

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("`{origin}`: {reason}")]
    Parse { origin: String, reason: String },
    #[error("cannot run `{command}`: {reason}")]
    Command { command: String, reason: String },
    #[error("cannot read `{path}`: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("invalid firewall policy: {0}")]
    Policy(String),
}

/// Runs `nft` (optionally inside a network namespace, as tests do: `ip netns exec NAME nft`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nft {
    pub netns: Option<String>,
}

impl Nft {
    fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(namespace) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", namespace, program]);
                command
            }
            None => Command::new(program),
        }
    }

    fn describe(&self, program: &str, arguments: &[&str]) -> String {
        let prefix = self.netns.as_ref().map(|namespace| format!("ip netns exec {namespace} ")).unwrap_or_default();
        format!("{prefix}{program} {}", arguments.join(" "))
    }

    /// Runs `program arguments` and returns its standard output.
    pub fn run(&self, program: &str, arguments: &[&str], input: Option<&str>) -> Result<String, FirewallError> {
        use std::io::Write;
        let describe = self.describe(program, arguments);
        let mut command = self.command(program);
        command.args(arguments).stdin(if input.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() });
        command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = command.spawn().map_err(|error| FirewallError::Command { command: describe.clone(), reason: error.to_string() })?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(text.as_bytes()).map_err(|error| FirewallError::Command { command: describe.clone(), reason: error.to_string() })?;
        }
        let output = child.wait_with_output().map_err(|error| FirewallError::Command { command: describe.clone(), reason: error.to_string() })?;
        if !output.status.success() {
            return Err(FirewallError::Command { command: describe, reason: String::from_utf8_lossy(&output.stderr).trim().to_string() });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs an nft script atomically (`nft -f -`: all of it or nothing).
    pub fn apply(&self, script: &str) -> Result<(), FirewallError> {
        self.run("nft", &["-f", "-"], Some(script)).map(drop)
    }
}

/// Reads the live firewall: nftables when `nft` works, else iptables and ip6tables.
pub fn read_live(nft: &Nft) -> Result<HostRuleset, FirewallError> {
    match nft.run("nft", &["-j", "list", "ruleset"], None) {
        Ok(text) => nft::parse(&text, "nft -j list ruleset"),
        Err(nft_error) => {
            let v4 = nft
                .run("iptables-save", &[], None)
                .map_err(|error| FirewallError::Command { command: "nft and iptables-save".to_string(), reason: format!("{nft_error}; {error}") })?;
            let mut ruleset = iptables::parse(&v4, "iptables-save", false)?;
            if let Ok(v6) = nft.run("ip6tables-save", &[], None) {
                let v6 = iptables::parse(&v6, "ip6tables-save", true)?;
                ruleset.chains.extend(v6.chains);
                ruleset.notes.extend(v6.notes);
            }
            Ok(ruleset)
        }
    }
}

/// Reads a saved ruleset: `nft -j list ruleset` output (JSON) or `iptables-save` text.
pub fn read_file(path: &Path) -> Result<HostRuleset, FirewallError> {
    let text = std::fs::read_to_string(path).map_err(|error| FirewallError::Io { path: path.display().to_string(), error })?;
    parse_text(&text, &path.display().to_string())
}

/// Parses nft JSON or iptables-save text, by its first character.
pub fn parse_text(text: &str, origin: &str) -> Result<HostRuleset, FirewallError> {
    if text.trim_start().starts_with('{') {
        nft::parse(text, origin)
    } else {
        let v6 = text.contains("ip6tables-save");
        iptables::parse(text, origin, v6)
    }
}

/// One line of what a host accepts from the internet: protocol, ports, sources.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    pub family: Family,
    pub protocol: &'static str,
    pub ports: Vec<[u16; 2]>,
    pub sources: Vec<String>,
}

/// What the ruleset accepts on new inbound connections, per family and protocol, as rows
/// (ports that share their sources together), as `vigil reach` prints exposures.
pub fn accepted(ruleset: &HostRuleset) -> Vec<Accepted> {
    let mut rows = Vec::new();
    for family in [Family::V4, Family::V6] {
        let region = ruleset.accepted(family);
        for entry in vigil_net::region_entries(&region, family, &vigil_net::addr::AddressSet::empty()) {
            rows.push(Accepted { family, protocol: entry.protocol, ports: entry.ports, sources: entry.sources });
        }
    }
    rows
}

#[cfg(test)]
mod tests;
