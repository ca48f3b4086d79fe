//! A host's own firewall (nftables or iptables, read on the instance by `vigil-host`) as the
//! set of inbound packets it accepts, so that exposure is the intersection of what the cloud
//! network delivers and what the host accepts.
//!
//! The model is a list of chains of rules with conditions and actions, evaluated as netfilter
//! does for a new inbound connection: the base chains on the input hook in priority order (a
//! drop in any is final, an accept goes on to the next), rules in order, `jump` (a `return`
//! comes back), `goto` (a `return` leaves the calling chain too), the chain policy at the end
//! of a base chain. Sets are exact ([`Region`]s).
//!
//! Conditions that cannot be decided offline (the destination address, a rate limit, a mark)
//! are assumed to favour exposure: matching for an accept, a jump or a return, not matching
//! for a drop. So a host firewall can make a port "not exposed" only when it certainly drops it.

use serde::{Deserialize, Serialize};

use crate::access::{Access, Region, Slot, ValueSet};
use crate::addr::{AddressSet, Cidr, Family};

/// What the parser read: the chains that matter for inbound traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRuleset {
    /// `nftables` or `iptables`.
    pub backend: String,
    pub chains: Vec<HostChain>,
    /// What the parser could not model and assumed (for reports).
    pub notes: Vec<String>,
}

/// Which address families a chain sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Families {
    V4,
    V6,
    Both,
}

impl Families {
    fn includes(self, family: Family) -> bool {
        matches!((self, family), (Families::Both, _) | (Families::V4, Family::V4) | (Families::V6, Family::V6))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostChain {
    /// A unique name (`inet filter input`, `iptables INPUT`).
    pub name: String,
    pub families: Families,
    /// A base chain on the input hook (with its priority); other chains are reached by jumps.
    pub input_hook: Option<i64>,
    /// The base chain's policy: `true` accepts, `false` drops.
    pub policy_accepts: bool,
    pub rules: Vec<HostRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRule {
    /// How the rule reads (`inet filter input #4: tcp dport 22 drop`).
    pub label: String,
    pub conditions: Vec<Condition>,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    Drop,
    /// Refused (reject): not delivered either.
    Reject,
    Jump(String),
    Goto(String),
    Return,
    /// No verdict (counters, logs): the next rule decides.
    Continue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Family(Family),
    /// IP protocol numbers (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...).
    Protocols {
        numbers: Vec<u8>,
        negated: bool,
    },
    /// TCP or UDP destination ports (inclusive ranges); pair it with `Protocols` for one of them.
    DestinationPorts {
        ranges: Vec<[u16; 2]>,
        negated: bool,
    },
    /// ICMP (ICMPv6 for IPv6) types.
    IcmpTypes {
        types: Vec<u8>,
        negated: bool,
    },
    /// Source addresses (CIDR blocks or addresses, either family).
    Sources {
        cidrs: Vec<String>,
        negated: bool,
    },
    /// Matches no new connection from the internet (`ct state established,related`, `iif lo`).
    Never {
        reason: String,
    },
    /// Cannot be decided offline (see the module's documentation).
    Assumed {
        reason: String,
    },
}

/// The packets of a family that a condition matches (`assumed`: what an undecidable
/// condition counts as).
fn condition_region(condition: &Condition, family: Family, assumed: bool) -> Region {
    let everything = Region::from_box(&family.everything(), &Access::all());
    let negate = |region: Region, negated: bool| if negated { everything.difference(&region) } else { region };
    match condition {
        Condition::Family(wanted) => {
            if *wanted == family {
                everything
            } else {
                Region::empty()
            }
        }
        Condition::Protocols { numbers, negated } => {
            let mut access = Access::none();
            for number in numbers {
                let (slot, values) = Slot::of_protocol_number(*number, family);
                // ICMP of the other family is an `Other` protocol number here.
                access = access.union(&Access::only(slot, values.unwrap_or_else(|| slot.universe())));
            }
            negate(Region::from_box(&family.everything(), &access), *negated)
        }
        Condition::DestinationPorts { ranges, negated } => {
            let ports = ValueSet::from_ranges(ranges.iter().map(|[from, to]| (*from, *to)));
            let region = Region::from_box(&family.everything(), &Access::only(Slot::Tcp, ports.clone()).union(&Access::only(Slot::Udp, ports)));
            if *negated {
                // `dport != X` still requires a TCP or UDP header.
                let transport =
                    Region::from_box(&family.everything(), &Access::only(Slot::Tcp, ValueSet::full()).union(&Access::only(Slot::Udp, ValueSet::full())));
                transport.difference(&region)
            } else {
                region
            }
        }
        Condition::IcmpTypes { types, negated } => {
            let values = ValueSet::from_ranges(types.iter().map(|icmp_type| (u16::from(*icmp_type) << 8, (u16::from(*icmp_type) << 8) | 0xFF)));
            let region = Region::from_box(&family.everything(), &Access::only(Slot::Icmp, values));
            if *negated { Region::from_box(&family.everything(), &Access::only(Slot::Icmp, ValueSet::full())).difference(&region) } else { region }
        }
        Condition::Sources { cidrs, negated } => {
            let mut set = AddressSet::empty();
            for cidr in cidrs.iter().filter_map(|text| Cidr::parse(text)).filter(|cidr| cidr.family == family) {
                set = set.union(&cidr.set());
            }
            negate(Region::from_box(&set, &Access::all()), *negated)
        }
        Condition::Never { .. } => Region::empty(),
        Condition::Assumed { .. } => {
            if assumed {
                everything
            } else {
                Region::empty()
            }
        }
    }
}

impl HostRule {
    /// The packets the rule matches.
    fn matches(&self, family: Family) -> Region {
        let assumed = !matches!(self.action, Action::Drop | Action::Reject);
        let mut region = Region::from_box(&family.everything(), &Access::all());
        for condition in &self.conditions {
            region = region.intersection(&condition_region(condition, family, assumed));
            if region.is_empty() {
                break;
            }
        }
        region
    }
}

/// Jumps deeper than this are not followed (a loop in a ruleset): the packets are assumed accepted.
const MAX_DEPTH: usize = 16;

/// How a chain left the packets it was given.
struct Outcome {
    accepted: Region,
    /// Packets that reached the end of the chain or a `return`.
    returned: Region,
    /// The accepting or dropping rules, with the packets each decided.
    decided_by: Vec<(Region, String)>,
}

impl HostRuleset {
    /// The ruleset as the agent's `firewall` module reports it (`ruleset` events): a head
    /// (`backend`, `tool` it was read with, `notes`, and the number of `chains`) and the chains
    /// as items, sent in parts. The inverse of [`HostRuleset::from_report`].
    pub fn to_report(&self, tool: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
        let items: Vec<serde_json::Value> = self.chains.iter().filter_map(|chain| serde_json::to_value(chain).ok()).collect();
        let head = serde_json::json!({"backend": self.backend, "tool": tool, "notes": self.notes, "chains": items.len()});
        (head, items)
    }

    /// The ruleset a report carries (its head, and its parts' items joined), or why it cannot
    /// be used: a field missing or malformed, or fewer chains than the head announces (a part
    /// lost, or truncated for its size). A report is outside input: never a panic.
    pub fn from_report(head: &serde_json::Value, items: &[serde_json::Value]) -> Result<HostRuleset, String> {
        let announced = head.get("chains").and_then(serde_json::Value::as_u64).ok_or("the report has no `chains` count")?;
        if announced != items.len() as u64 {
            return Err(format!("the report announces {announced} chain(s) but carries {}", items.len()));
        }
        let document = serde_json::json!({"backend": head.get("backend"), "notes": head.get("notes"), "chains": items});
        serde_json::from_value(document).map_err(|error| format!("the ruleset is malformed: {error}"))
    }
}

impl HostRuleset {
    fn chain(&self, name: &str) -> Option<&HostChain> {
        self.chains.iter().find(|chain| chain.name == name)
    }

    fn run(&self, chain: &HostChain, input: Region, family: Family, depth: usize) -> Outcome {
        let mut remaining = input;
        let mut accepted = Region::empty();
        // Packets that left this chain by a `return` (or by a `goto` chain's return).
        let mut returned = Region::empty();
        let mut decided_by = Vec::new();
        for rule in &chain.rules {
            if remaining.is_empty() {
                break;
            }
            let matched = remaining.intersection(&rule.matches(family));
            if matched.is_empty() {
                continue;
            }
            match &rule.action {
                Action::Continue => continue,
                Action::Accept => {
                    accepted = accepted.union(&matched);
                    remaining = remaining.difference(&matched);
                    decided_by.push((matched, rule.label.clone()));
                }
                Action::Drop | Action::Reject => {
                    remaining = remaining.difference(&matched);
                    decided_by.push((matched, rule.label.clone()));
                }
                Action::Return => {
                    remaining = remaining.difference(&matched);
                    returned = returned.union(&matched);
                }
                Action::Jump(target) | Action::Goto(target) => {
                    remaining = remaining.difference(&matched);
                    match self.chain(target).filter(|_| depth < MAX_DEPTH) {
                        Some(callee) => {
                            let outcome = self.run(callee, matched, family, depth + 1);
                            accepted = accepted.union(&outcome.accepted);
                            decided_by.extend(outcome.decided_by);
                            if matches!(rule.action, Action::Goto(_)) {
                                // A goto chain's returns leave this chain too.
                                returned = returned.union(&outcome.returned);
                            } else {
                                remaining = remaining.union(&outcome.returned);
                            }
                        }
                        None => {
                            // An unknown chain, or too deep: assume it accepts.
                            accepted = accepted.union(&matched);
                            decided_by.push((matched, format!("{} (chain `{target}` not followed: assumed to accept)", rule.label)));
                        }
                    }
                }
            }
        }
        Outcome { accepted, returned: returned.union(&remaining), decided_by }
    }

    /// The packets of `family` the host accepts on new inbound connections.
    pub fn accepted(&self, family: Family) -> Region {
        let mut current = Region::from_box(&family.everything(), &Access::all());
        for chain in self.input_chains(family) {
            let outcome = self.run(chain, current, family, 0);
            current = if chain.policy_accepts { outcome.accepted.union(&outcome.returned) } else { outcome.accepted };
        }
        current
    }

    fn input_chains(&self, family: Family) -> Vec<&HostChain> {
        let mut chains: Vec<&HostChain> = self.chains.iter().filter(|chain| chain.input_hook.is_some() && chain.families.includes(family)).collect();
        chains.sort_by_key(|chain| chain.input_hook.unwrap_or(0));
        chains
    }

    /// Whether one packet is accepted, and the rule (or chain policy) that decided.
    pub fn decide(&self, family: Family, slot: Slot, value: u16, source: u128) -> (bool, String) {
        let packet = Region::from_box(&AddressSet::single(source), &Access::only(slot, ValueSet::single(value)));
        let mut last = String::from("no input chain: everything is accepted");
        for chain in self.input_chains(family) {
            let outcome = self.run(chain, packet.clone(), family, 0);
            let decider = outcome.decided_by.iter().rev().find(|(region, _)| !region.is_empty()).map(|(_, label)| label.clone());
            if !outcome.accepted.is_empty() {
                last = decider.unwrap_or_else(|| chain.name.clone());
                continue;
            }
            if !outcome.returned.is_empty() {
                if chain.policy_accepts {
                    last = format!("{}: policy accept", chain.name);
                    continue;
                }
                return (false, format!("{}: policy drop", chain.name));
            }
            return (false, decider.unwrap_or_else(|| format!("{}: dropped", chain.name)));
        }
        (true, last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(label: &str, conditions: Vec<Condition>, action: Action) -> HostRule {
        HostRule { label: label.to_string(), conditions, action }
    }

    fn tcp(port: u16) -> Vec<Condition> {
        vec![Condition::Protocols { numbers: vec![6], negated: false }, Condition::DestinationPorts { ranges: vec![[port, port]], negated: false }]
    }

    fn ruleset(policy_accepts: bool, rules: Vec<HostRule>, others: Vec<HostChain>) -> HostRuleset {
        let mut chains = vec![HostChain { name: "inet filter input".to_string(), families: Families::Both, input_hook: Some(0), policy_accepts, rules }];
        chains.extend(others);
        HostRuleset { backend: "nftables".to_string(), chains, notes: Vec::new() }
    }

    #[test]
    fn a_drop_policy_with_accepted_ports_admits_only_those_ports() {
        let established = rule("ct", vec![Condition::Never { reason: "ct state established".to_string() }], Action::Accept);
        let ssh_from_office =
            rule("ssh", [tcp(22), vec![Condition::Sources { cidrs: vec!["203.0.113.0/24".to_string()], negated: false }]].concat(), Action::Accept);
        let web = rule("web", tcp(443), Action::Accept);
        let set = ruleset(false, vec![established, ssh_from_office, web], Vec::new());
        let accepted = set.accepted(Family::V4);
        let office = 0xCB00_7105u128; // 203.0.113.5
        assert!(accepted.contains(Slot::Tcp, 22, office));
        assert!(!accepted.contains(Slot::Tcp, 22, 0x0808_0808));
        assert!(accepted.contains(Slot::Tcp, 443, 0x0808_0808));
        assert!(!accepted.contains(Slot::Udp, 443, 0x0808_0808));
        assert_eq!(set.decide(Family::V4, Slot::Tcp, 22, 0x0808_0808), (false, "inet filter input: policy drop".to_string()));
        assert_eq!(set.decide(Family::V4, Slot::Tcp, 22, office), (true, "ssh".to_string()));
    }

    #[test]
    fn drops_jumps_returns_and_undecidable_conditions_follow_netfilter_order() {
        let blocklist = HostChain {
            name: "inet filter blocklist".to_string(),
            families: Families::Both,
            input_hook: None,
            policy_accepts: true,
            rules: vec![
                rule("blocked", vec![Condition::Sources { cidrs: vec!["198.51.100.7".to_string()], negated: false }], Action::Drop),
                rule("back", Vec::new(), Action::Return),
            ],
        };
        let rules = vec![
            rule("to-blocklist", Vec::new(), Action::Jump("inet filter blocklist".to_string())),
            rule("drop-ssh-limited", [tcp(22), vec![Condition::Assumed { reason: "limit rate".to_string() }]].concat(), Action::Drop),
            rule("drop-telnet", tcp(23), Action::Drop),
        ];
        let set = ruleset(true, rules, vec![blocklist]);
        let accepted = set.accepted(Family::V4);
        // An undecidable condition on a drop does not count: 22 stays open.
        assert!(accepted.contains(Slot::Tcp, 22, 1));
        assert!(!accepted.contains(Slot::Tcp, 23, 1));
        assert!(!accepted.contains(Slot::Tcp, 80, 0xC633_6407));
        assert!(accepted.contains(Slot::Tcp, 80, 0xC633_6408));
        assert_eq!(set.decide(Family::V4, Slot::Tcp, 80, 0xC633_6407), (false, "blocked".to_string()));
        assert!(accepted.contains(Slot::Tcp, 22, 1));
        // Two base chains: both must accept.
        let mut two = ruleset(true, vec![rule("drop-ssh", tcp(22), Action::Drop)], Vec::new());
        two.chains.push(HostChain {
            name: "ip other input".to_string(),
            families: Families::V4,
            input_hook: Some(10),
            policy_accepts: false,
            rules: vec![rule("web", tcp(80), Action::Accept)],
        });
        assert!(two.accepted(Family::V4).contains(Slot::Tcp, 80, 1));
        assert!(!two.accepted(Family::V4).contains(Slot::Tcp, 443, 1));
        assert!(two.accepted(Family::V6).contains(Slot::Tcp, 443, 1));
    }
}
