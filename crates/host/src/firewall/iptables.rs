//! Reading `iptables-save` / `ip6tables-save` output (the `filter` table) into the inbound
//! model of `vigil_net::host_firewall`, for hosts without nftables.

use vigil_net::host_firewall::{Action, Condition, Families, HostChain, HostRule, HostRuleset};

use super::FirewallError;

/// Parses the text of `iptables-save` (IPv4) or `ip6tables-save` (IPv6).
pub fn parse(text: &str, origin: &str, v6: bool) -> Result<HostRuleset, FirewallError> {
    let families = if v6 { Families::V6 } else { Families::V4 };
    let prefix = if v6 { "ip6tables" } else { "iptables" };
    let mut chains: Vec<HostChain> = Vec::new();
    let mut notes = Vec::new();
    let mut in_filter = false;
    let mut saw_filter = false;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(table) = line.strip_prefix('*') {
            in_filter = table == "filter";
            saw_filter |= in_filter;
            continue;
        }
        if line == "COMMIT" || !in_filter {
            continue;
        }
        if let Some(declaration) = line.strip_prefix(':') {
            let mut parts = declaration.split_whitespace();
            let name = parts.next().unwrap_or_default();
            let policy = parts.next().unwrap_or("-");
            chains.push(HostChain {
                name: format!("{prefix} {name}"),
                families,
                input_hook: (name == "INPUT").then_some(0),
                policy_accepts: policy != "DROP",
                rules: Vec::new(),
            });
            continue;
        }
        let words = split_words(line);
        let Some(chain_name) = words.iter().position(|word| word == "-A").and_then(|position| words.get(position + 1)) else {
            return Err(FirewallError::Parse { origin: format!("{origin}:{}", number + 1), reason: format!("expected `-A CHAIN ...`, got `{line}`") });
        };
        let (conditions, action, rule_notes) = parse_rule(&words, prefix);
        let label = format!("{prefix} {}", line);
        notes.extend(rule_notes.into_iter().map(|note| format!("{origin}:{}: {note}", number + 1)));
        let name = format!("{prefix} {chain_name}");
        match chains.iter_mut().find(|chain| chain.name == name) {
            Some(chain) => chain.rules.push(HostRule { label, conditions, action }),
            None => return Err(FirewallError::Parse { origin: format!("{origin}:{}", number + 1), reason: format!("chain `{chain_name}` is not declared") }),
        }
    }
    if !saw_filter {
        notes.push(format!("{origin}: no `*filter` table: nothing is filtered"));
    }
    Ok(HostRuleset { backend: prefix.to_string(), chains, notes })
}

/// Splits a line into words, keeping double-quoted words (`--comment "a b"`) whole.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for character in line.chars() {
        match character {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn parse_rule(words: &[String], prefix: &str) -> (Vec<Condition>, Action, Vec<String>) {
    let mut conditions = Vec::new();
    let mut action = Action::Continue;
    let mut notes = Vec::new();
    let mut negate_next = false;
    let mut index = 0;
    let next = |index: usize| words.get(index + 1).cloned().unwrap_or_default();
    while index < words.len() {
        let word = words.get(index).map(String::as_str).unwrap_or_default();
        let negated = std::mem::take(&mut negate_next);
        match word {
            "!" => {
                negate_next = true;
                index += 1;
                continue;
            }
            "-A" => index += 1,
            "-p" | "--protocol" => {
                let value = next(index);
                match protocol_number(&value) {
                    Some(number) => conditions.push(Condition::Protocols { numbers: vec![number], negated }),
                    None if value == "all" => {}
                    None => conditions.push(assumed(&mut notes, &format!("-p {value}"))),
                }
                index += 1;
            }
            "-s" | "--source" => {
                let cidrs: Vec<String> = next(index).split(',').map(str::to_string).collect();
                conditions.push(Condition::Sources { cidrs, negated });
                index += 1;
            }
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                let value = next(index);
                match ports(&value) {
                    Some(ranges) => conditions.push(Condition::DestinationPorts { ranges, negated }),
                    None => conditions.push(assumed(&mut notes, &format!("{word} {value}"))),
                }
                index += 1;
            }
            "-i" | "--in-interface" => {
                let value = next(index);
                if value == "lo" && !negated {
                    conditions.push(Condition::Never { reason: "loopback interface".to_string() });
                } else if value != "lo" {
                    conditions.push(Condition::Assumed { reason: format!("interface `{value}`") });
                }
                index += 1;
            }
            "--state" | "--ctstate" => {
                let value = next(index);
                let has_new = value.split(',').any(|state| state.eq_ignore_ascii_case("NEW"));
                if has_new == negated {
                    conditions.push(Condition::Never { reason: format!("connection state {value}") });
                }
                index += 1;
            }
            "--icmp-type" | "--icmpv6-type" => {
                let value = next(index);
                match value.split('/').next().and_then(|text| text.parse::<u8>().ok()).or_else(|| icmp_name(&value, prefix == "ip6tables")) {
                    Some(icmp_type) => conditions.push(Condition::IcmpTypes { types: vec![icmp_type], negated }),
                    None => conditions.push(assumed(&mut notes, &format!("{word} {value}"))),
                }
                index += 1;
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let target = next(index);
                action = match target.as_str() {
                    "ACCEPT" => Action::Accept,
                    "DROP" => Action::Drop,
                    "REJECT" => Action::Reject,
                    "RETURN" => Action::Return,
                    "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "TRACE" | "AUDIT" => Action::Continue,
                    chain if word == "-g" || word == "--goto" => Action::Goto(format!("{prefix} {chain}")),
                    chain => Action::Jump(format!("{prefix} {chain}")),
                };
                index += 1;
            }
            "-m" | "--match" => {
                let module = next(index);
                if !["tcp", "udp", "icmp", "icmp6", "ipv6-icmp", "multiport", "state", "conntrack", "comment"].contains(&module.as_str()) {
                    conditions.push(assumed(&mut notes, &format!("-m {module}")));
                }
                index += 1;
            }
            "--comment" | "--sport" | "--source-port" | "--sports" | "-d" | "--destination" | "-o" => {
                if matches!(word, "-d" | "--destination") {
                    conditions.push(assumed(&mut notes, &format!("-d {}", next(index))));
                }
                index += 1;
            }
            other if other.starts_with('-') => {
                // An option of a match vigil does not read: its value (if any) is skipped.
                conditions.push(assumed(&mut notes, other));
                if words.get(index + 1).is_some_and(|value| !value.starts_with('-')) {
                    index += 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    (conditions, action, notes)
}

fn assumed(notes: &mut Vec<String>, what: &str) -> Condition {
    notes.push(format!("`{what}` cannot be decided offline"));
    Condition::Assumed { reason: what.to_string() }
}

fn protocol_number(name: &str) -> Option<u8> {
    match name {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" | "ipv6-icmp" => Some(58),
        "sctp" => Some(132),
        "gre" => Some(47),
        "esp" => Some(50),
        "ah" => Some(51),
        other => other.parse().ok(),
    }
}

fn ports(text: &str) -> Option<Vec<[u16; 2]>> {
    text.split(',')
        .map(|part| match part.split_once(':') {
            Some((from, to)) => Some([if from.is_empty() { 0 } else { from.parse().ok()? }, if to.is_empty() { 65535 } else { to.parse().ok()? }]),
            None => {
                let port = part.parse().ok()?;
                Some([port, port])
            }
        })
        .collect()
}

fn icmp_name(name: &str, v6: bool) -> Option<u8> {
    match (name, v6) {
        ("echo-request", false) => Some(8),
        ("echo-reply", false) => Some(0),
        ("echo-request", true) => Some(128),
        ("echo-reply", true) => Some(129),
        _ => None,
    }
}
