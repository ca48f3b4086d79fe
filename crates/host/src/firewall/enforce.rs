//! Enforcement in vigil's own table, `inet vigil`: a policy of allowed inbound services becomes
//! the `input` chain of that table, applied in one `nft -f` transaction. The previous chain is
//! kept; unless the change is confirmed in time (the agent still reaches its server, or the
//! person at the keyboard says yes), the previous chain comes back. The table also holds the
//! sets of blocked addresses that active response fills (`blocked4`, `blocked6`), which
//! applying a policy keeps, and the `shield` chain where the agent closes or restricts the
//! ports of vulnerable packages until they are patched ([`render_shields`]).
//!
//! The chains, in the order the input hook runs them: `blocked` (priority -20: the active
//! response's sets), `shield` (-15), `input` (-10: the policy).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{FirewallError, Nft};

/// The table vigil owns.
pub const TABLE: &str = "inet vigil";

/// What the host should accept from outside.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPolicy {
    /// Services to accept (everything else is dropped when `default_drop`).
    #[serde(default)]
    pub allow: Vec<Allow>,
    /// Drop what no `allow` accepts (otherwise the chain only drops blocked addresses).
    #[serde(default)]
    pub default_drop: bool,
    /// Accept ICMP and ICMPv6 (path MTU discovery and neighbour discovery need it).
    #[serde(default = "yes")]
    pub allow_icmp: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// `tcp` or `udp`.
    pub protocol: String,
    pub ports: Vec<u16>,
    /// Source CIDR blocks (empty: any source).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// The chain's rules for the policy, checked: every value is parsed, so no text from the
/// policy reaches the script unchecked.
pub fn render(policy: &FirewallPolicy) -> Result<String, FirewallError> {
    let mut rules = vec!["ct state established,related accept".to_string(), "iif lo accept".to_string()];
    if policy.allow_icmp {
        rules.push("meta l4proto { icmp, ipv6-icmp } accept".to_string());
    }
    for allow in &policy.allow {
        let protocol = match allow.protocol.as_str() {
            "tcp" | "udp" => allow.protocol.as_str(),
            other => return Err(FirewallError::Policy(format!("protocol `{other}` (use tcp or udp)"))),
        };
        if allow.ports.is_empty() {
            return Err(FirewallError::Policy(format!("an allow rule for {protocol} names no port")));
        }
        let ports = allow.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        if allow.sources.is_empty() {
            rules.push(format!("{protocol} dport {{ {ports} }} accept"));
            continue;
        }
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for source in &allow.sources {
            let network: ipnet::IpNet = source
                .parse()
                .or_else(|_| source.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| FirewallError::Policy(format!("`{source}` is not a CIDR block")))?;
            match network {
                ipnet::IpNet::V4(network) => v4.push(network.trunc().to_string()),
                ipnet::IpNet::V6(network) => v6.push(network.trunc().to_string()),
            }
        }
        if !v4.is_empty() {
            rules.push(format!("ip saddr {{ {} }} {protocol} dport {{ {ports} }} accept", v4.join(", ")));
        }
        if !v6.is_empty() {
            rules.push(format!("ip6 saddr {{ {} }} {protocol} dport {{ {ports} }} accept", v6.join(", ")));
        }
    }
    if policy.default_drop {
        rules.push("drop".to_string());
    }
    Ok(rules.join("\n"))
}

/// The script that makes sure the table exists with its sets, the `blocked` chain that drops
/// their addresses (first, at priority -20) and the `input` chain of the policy (idempotent:
/// sets and the policy's rules are kept).
pub fn ensure_script() -> String {
    format!(
        "table {TABLE} {{\n  set blocked4 {{ type ipv4_addr; flags timeout; }}\n  set blocked6 {{ type ipv6_addr; flags timeout; }}\n  chain blocked {{ type filter hook input priority -20; policy accept; }}\n  chain shield {{ type filter hook input priority -15; policy accept; }}\n  chain input {{ type filter hook input priority -10; policy accept; }}\n}}\nflush chain {TABLE} blocked\nadd rule {TABLE} blocked ip saddr @blocked4 drop\nadd rule {TABLE} blocked ip6 saddr @blocked6 drop\n"
    )
}

/// The script replacing the chain's rules (sets are kept).
fn chain_script(rules: &str) -> String {
    let mut script = ensure_script();
    script.push_str(&format!("flush chain {TABLE} input\n"));
    for rule in rules.lines().filter(|line| !line.trim().is_empty()) {
        script.push_str(&format!("add rule {TABLE} input {rule}\n"));
    }
    script
}

/// The input chain's current rules, as `nft list chain` prints them (empty when absent).
pub fn current_rules(nft: &Nft) -> Result<String, FirewallError> {
    chain_rules(nft, "input")
}

/// One chain of vigil's table, its rules as `nft list chain` prints them (empty when the table
/// or the chain is absent).
pub fn chain_rules(nft: &Nft, chain: &str) -> Result<String, FirewallError> {
    let listing = match nft.run("nft", &["list", "chain", "inet", "vigil", chain], None) {
        Ok(listing) => listing,
        Err(FirewallError::Command { reason, .. }) if reason.contains("No such file or directory") || reason.contains("does not exist") => {
            return Ok(String::new());
        }
        Err(error) => return Err(error),
    };
    // Keep the lines inside `chain NAME { ... }` except the hook declaration.
    let mut rules = Vec::new();
    let mut inside = false;
    for line in listing.lines() {
        let line = line.trim();
        if line.starts_with(&format!("chain {chain}")) {
            inside = true;
            continue;
        }
        if !inside || line.is_empty() || line.starts_with("type ") || line == "}" {
            if line == "}" {
                inside = false;
            }
            continue;
        }
        rules.push(line.to_string());
    }
    Ok(rules.join("\n"))
}

/// The chains vigil's agent manages: the policy's `input` and the `shield` chain, as rule
/// text (what [`render`] and [`render_shields`] give, or what `nft list chain` printed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableState {
    pub input: String,
    pub shield: String,
}

/// Reads the rules of vigil's `input` and `shield` chains as they are now.
pub fn read_state(nft: &Nft) -> Result<TableState, FirewallError> {
    Ok(TableState { input: chain_rules(nft, "input")?, shield: chain_rules(nft, "shield")? })
}

/// The script that sets both chains to `state` in one transaction (the sets and their
/// elements are kept).
pub fn state_script(state: &TableState) -> String {
    let mut script = ensure_script();
    for (chain, rules) in [("shield", &state.shield), ("input", &state.input)] {
        script.push_str(&format!("flush chain {TABLE} {chain}\n"));
        for rule in rules.lines().filter(|line| !line.trim().is_empty()) {
            script.push_str(&format!("add rule {TABLE} {chain} {rule}\n"));
        }
    }
    script
}

/// A port closed, or opened only to some sources, while a package is vulnerable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shield {
    /// The installed package (binary package name: `openssh-server`).
    pub package: String,
    /// The port to close (or `ports`).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub ports: Vec<u16>,
    /// `tcp` (default) or `udp`.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// Sources still accepted (CIDR blocks); empty: the port is closed to everyone.
    #[serde(default)]
    pub allow: Vec<String>,
    /// When the shield holds: `vulnerable` (the only condition: a known vulnerability at or
    /// above the severity threshold in the installed version).
    #[serde(default = "vulnerable", rename = "while")]
    pub condition: String,
}

fn tcp() -> String {
    "tcp".to_string()
}

fn vulnerable() -> String {
    "vulnerable".to_string()
}

impl Shield {
    /// Every port it names.
    pub fn all_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.port.into_iter().chain(self.ports.iter().copied()).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// The `shield` chain's rules for the shields in force: loopback is left alone; for each
/// shield, what is not from an allowed source is dropped on its ports (per family: a family
/// with no allowed source is closed). Every value is parsed, as in [`render`].
pub fn render_shields(shields: &[Shield]) -> Result<String, FirewallError> {
    if shields.is_empty() {
        return Ok(String::new());
    }
    let mut rules = vec!["iif lo accept".to_string()];
    for shield in shields {
        let protocol = match shield.protocol.as_str() {
            "tcp" | "udp" => shield.protocol.as_str(),
            other => return Err(FirewallError::Policy(format!("shield for `{}`: protocol `{other}` (use tcp or udp)", shield.package))),
        };
        if shield.condition != "vulnerable" {
            return Err(FirewallError::Policy(format!("shield for `{}`: `while: {}` (the only condition is `vulnerable`)", shield.package, shield.condition)));
        }
        let ports = shield.all_ports();
        if ports.is_empty() {
            return Err(FirewallError::Policy(format!("shield for `{}` names no port", shield.package)));
        }
        let ports = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for source in &shield.allow {
            let network: ipnet::IpNet = source
                .parse()
                .or_else(|_| source.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| FirewallError::Policy(format!("shield for `{}`: `{source}` is not a CIDR block", shield.package)))?;
            match network {
                ipnet::IpNet::V4(network) => v4.push(network.trunc().to_string()),
                ipnet::IpNet::V6(network) => v6.push(network.trunc().to_string()),
            }
        }
        rules.push(if v4.is_empty() {
            format!("meta nfproto ipv4 {protocol} dport {{ {ports} }} drop")
        } else {
            format!("ip saddr != {{ {} }} {protocol} dport {{ {ports} }} drop", v4.join(", "))
        });
        rules.push(if v6.is_empty() {
            format!("meta nfproto ipv6 {protocol} dport {{ {ports} }} drop")
        } else {
            format!("ip6 saddr != {{ {} }} {protocol} dport {{ {ports} }} drop", v6.join(", "))
        });
    }
    Ok(rules.join("\n"))
}

/// How an application ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Confirmed,
    RolledBack { reason: String },
}

/// Applies `policy` atomically; then waits up to `confirm_within` for `confirmed` to return
/// true (polled), and restores the previous rules otherwise.
pub fn apply_with_rollback(
    nft: &Nft,
    policy: &FirewallPolicy,
    confirm_within: Duration,
    confirmed: &mut dyn FnMut() -> bool,
) -> Result<Applied, FirewallError> {
    let rules = render(policy)?;
    let previous = current_rules(nft)?;
    nft.apply(&chain_script(&rules))?;
    let deadline = Instant::now() + confirm_within;
    loop {
        if confirmed() {
            return Ok(Applied::Confirmed);
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    nft.apply(&chain_script(&previous))?;
    Ok(Applied::RolledBack { reason: format!("not confirmed within {} s", confirm_within.as_secs()) })
}

/// Removes vigil's table (policy and blocked addresses).
pub fn remove(nft: &Nft) -> Result<(), FirewallError> {
    nft.apply(&format!("table {TABLE} {{}}\ndelete table {TABLE}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_renders_checked_rules_and_refuses_bad_values() {
        let policy = FirewallPolicy {
            allow: vec![
                Allow { protocol: "tcp".to_string(), ports: vec![22], sources: vec!["203.0.113.9/24".to_string(), "2001:db8::/32".to_string()] },
                Allow { protocol: "tcp".to_string(), ports: vec![80, 443], sources: Vec::new() },
            ],
            default_drop: true,
            allow_icmp: true,
        };
        let rules = render(&policy).unwrap();
        assert!(rules.contains("ip saddr { 203.0.113.0/24 } tcp dport { 22 } accept"), "{rules}");
        assert!(rules.contains("ip6 saddr { 2001:db8::/32 } tcp dport { 22 } accept"), "{rules}");
        assert!(rules.contains("tcp dport { 80, 443 } accept"), "{rules}");
        assert!(rules.ends_with("drop"));
        let script = chain_script(&rules);
        assert!(script.lines().all(|line| !line.contains("table ") || line.contains("inet vigil")), "{script}");
        let bad = FirewallPolicy {
            allow: vec![Allow { protocol: "tcp".to_string(), ports: vec![22], sources: vec!["1.2.3.4; flush ruleset".to_string()] }],
            ..policy.clone()
        };
        assert!(render(&bad).unwrap_err().to_string().contains("is not a CIDR block"));
        let bad = FirewallPolicy { allow: vec![Allow { protocol: "icmp".to_string(), ports: vec![1], sources: Vec::new() }], ..policy };
        assert!(render(&bad).is_err());
    }

    fn shield(allow: &[&str]) -> Shield {
        Shield {
            package: "openssh-server".into(),
            port: Some(22),
            ports: vec![2222, 22],
            protocol: "tcp".into(),
            allow: allow.iter().map(|source| source.to_string()).collect(),
            condition: "vulnerable".into(),
        }
    }

    #[test]
    fn a_shield_drops_its_ports_but_for_the_allowed_sources_per_family_and_refuses_bad_values() {
        assert_eq!(render_shields(&[]).unwrap(), "", "no shield, no rule (not even loopback)");
        let rules = render_shields(&[shield(&["10.1.2.3/8", "2001:db8::/32"])]).unwrap();
        assert_eq!(rules, "iif lo accept\nip saddr != { 10.0.0.0/8 } tcp dport { 22, 2222 } drop\nip6 saddr != { 2001:db8::/32 } tcp dport { 22, 2222 } drop");
        let closed = render_shields(&[shield(&[])]).unwrap();
        assert!(
            closed.contains("meta nfproto ipv4 tcp dport { 22, 2222 } drop") && closed.contains("meta nfproto ipv6 tcp dport { 22, 2222 } drop"),
            "{closed}"
        );
        assert!(render_shields(&[shield(&["10.0.0.0/8 } accept; flush ruleset"])]).unwrap_err().to_string().contains("is not a CIDR block"));
        assert!(render_shields(&[Shield { condition: "installed".into(), ..shield(&[]) }]).unwrap_err().to_string().contains("`while: installed`"));
        assert!(render_shields(&[Shield { port: None, ports: vec![], ..shield(&[]) }]).unwrap_err().to_string().contains("names no port"));
        let script = state_script(&TableState { input: "drop".into(), shield: rules });
        assert!(script.lines().all(|line| !line.contains("table ") || line.contains("inet vigil")), "{script}");
        assert!(script.contains("flush chain inet vigil shield\nadd rule inet vigil shield iif lo accept"), "{script}");
    }
}
