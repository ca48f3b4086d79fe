//! Reading nftables' JSON (`nft -j list ruleset`, libnftables-json(5)) into the inbound model
//! of `vigil_net::host_firewall`: base chains on the input hook of the `ip`, `ip6` and `inet`
//! families, the chains they jump to, and for each rule the conditions vigil can decide.

use std::collections::HashMap;

use serde_json::Value;
use vigil_net::host_firewall::{Action, Condition, Families, HostChain, HostRule, HostRuleset};

use super::FirewallError;

/// A named set's elements, by (family, table, name).
type Sets = HashMap<(String, String, String), Vec<Value>>;

/// Parses `nft -j list ruleset` output.
pub fn parse(text: &str, origin: &str) -> Result<HostRuleset, FirewallError> {
    let json: Value = serde_json::from_str(text).map_err(|error| FirewallError::Parse { origin: origin.to_string(), reason: format!("not JSON: {error}") })?;
    let items = json.get("nftables").and_then(Value::as_array).ok_or_else(|| FirewallError::Parse {
        origin: origin.to_string(),
        reason: "no `nftables` array (is this `nft -j list ruleset` output?)".to_string(),
    })?;
    let mut sets: Sets = HashMap::new();
    let mut chains: Vec<HostChain> = Vec::new();
    let mut notes = Vec::new();
    for item in items {
        if let Some(set) = item.get("set").or_else(|| item.get("map")) {
            let key = (text_of(set, "family"), text_of(set, "table"), text_of(set, "name"));
            let elements = set.get("elem").and_then(Value::as_array).cloned().unwrap_or_default();
            sets.insert(key, elements);
        }
        if let Some(chain) = item.get("chain") {
            let family = text_of(chain, "family");
            let Some(families) = families_of(&family) else { continue };
            let input_hook = (chain.get("hook").and_then(Value::as_str) == Some("input")
                && chain.get("type").and_then(Value::as_str).is_none_or(|kind| kind == "filter"))
            .then(|| chain.get("prio").and_then(Value::as_i64).unwrap_or(0));
            chains.push(HostChain {
                name: chain_name(&family, &text_of(chain, "table"), &text_of(chain, "name")),
                families,
                input_hook,
                policy_accepts: chain.get("policy").and_then(Value::as_str) != Some("drop"),
                rules: Vec::new(),
            });
        }
    }
    for item in items {
        let Some(rule) = item.get("rule") else { continue };
        let family = text_of(rule, "family");
        if families_of(&family).is_none() {
            continue;
        }
        let table = text_of(rule, "table");
        let name = chain_name(&family, &table, &text_of(rule, "chain"));
        let handle = rule.get("handle").and_then(Value::as_i64).unwrap_or(0);
        let expressions = rule.get("expr").and_then(Value::as_array).cloned().unwrap_or_default();
        let parsed = parse_rule(&expressions, &family, &table, &sets);
        let label = format!("{name} #{handle}: {}", parsed.text.join(" "));
        for note in &parsed.notes {
            notes.push(format!("{label}: {note}"));
        }
        if let Some(chain) = chains.iter_mut().find(|chain| chain.name == name) {
            chain.rules.push(HostRule { label, conditions: parsed.conditions, action: parsed.action });
        }
    }
    Ok(HostRuleset { backend: "nftables".to_string(), chains, notes })
}

fn text_of(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn families_of(family: &str) -> Option<Families> {
    match family {
        "ip" => Some(Families::V4),
        "ip6" => Some(Families::V6),
        "inet" => Some(Families::Both),
        // netdev, bridge, arp: not on the path of IP input filtering.
        _ => None,
    }
}

fn chain_name(family: &str, table: &str, chain: &str) -> String {
    format!("{family} {table} {chain}")
}

struct ParsedRule {
    conditions: Vec<Condition>,
    action: Action,
    text: Vec<String>,
    notes: Vec<String>,
}

fn parse_rule(expressions: &[Value], family: &str, table: &str, sets: &Sets) -> ParsedRule {
    let mut parsed = ParsedRule { conditions: Vec::new(), action: Action::Continue, text: Vec::new(), notes: Vec::new() };
    for expression in expressions {
        let Some((kind, body)) = expression.as_object().and_then(|object| object.iter().next()) else { continue };
        match kind.as_str() {
            "match" => {
                let (conditions, text) = parse_match(body, family, table, sets);
                for condition in &conditions {
                    if let Condition::Assumed { reason } = condition {
                        parsed.notes.push(format!("`{text}` cannot be decided offline ({reason})"));
                    }
                }
                parsed.text.push(text);
                parsed.conditions.extend(conditions);
            }
            "accept" => set_action(&mut parsed, Action::Accept, "accept"),
            "drop" => set_action(&mut parsed, Action::Drop, "drop"),
            "reject" => set_action(&mut parsed, Action::Reject, "reject"),
            "return" => set_action(&mut parsed, Action::Return, "return"),
            "jump" | "goto" => {
                let target = body.get("target").and_then(Value::as_str).unwrap_or_default();
                let name = chain_name(family, table, target);
                let action = if kind == "jump" { Action::Jump(name) } else { Action::Goto(name) };
                set_action(&mut parsed, action, &format!("{kind} {target}"));
            }
            "counter" | "log" | "comment" => {}
            "limit" => {
                parsed.text.push("limit".to_string());
                parsed.conditions.push(Condition::Assumed { reason: "a rate limit".to_string() });
                parsed.notes.push("a rate `limit` cannot be decided offline".to_string());
            }
            "xt" => {
                parsed.text.push("xt".to_string());
                parsed.conditions.push(Condition::Assumed { reason: "an iptables-compat (xt) match".to_string() });
                parsed.notes.push("an `xt` expression (iptables-nft compatibility) cannot be read".to_string());
            }
            "queue" => set_action(&mut parsed, Action::Accept, "queue"),
            // Statements without a verdict (set updates, nat, notrack...).
            _ => parsed.text.push(kind.clone()),
        }
    }
    parsed
}

fn set_action(parsed: &mut ParsedRule, action: Action, text: &str) {
    parsed.action = action;
    parsed.text.push(text.to_string());
}

/// One `match` expression: the conditions it makes (all must hold) and how it reads.
fn parse_match(body: &Value, family: &str, table: &str, sets: &Sets) -> (Vec<Condition>, String) {
    let operator = body.get("op").and_then(Value::as_str).unwrap_or("==");
    let negated = operator == "!=";
    let left = body.get("left").cloned().unwrap_or(Value::Null);
    let right = resolve(body.get("right").cloned().unwrap_or(Value::Null), family, table, sets);
    let text = format!("{} {operator} {}", describe(&left), describe(&right));
    let assumed = |reason: &str| (vec![Condition::Assumed { reason: reason.to_string() }], text.clone());
    let one = |condition: Condition| (vec![condition], text.clone());
    // Matches every new connection from the internet: no condition at all.
    let always = || (Vec::new(), text.clone());
    if !matches!(operator, "==" | "!=" | "in") {
        return assumed("a comparison other than equality");
    }
    if let Some(payload) = left.get("payload") {
        let protocol = payload.get("protocol").and_then(Value::as_str).unwrap_or_default();
        let field = payload.get("field").and_then(Value::as_str).unwrap_or_default();
        return match (protocol, field) {
            ("tcp" | "udp" | "th" | "sctp" | "dccp", "dport") => {
                let Some(ranges) = ports(&right) else { return assumed("ports given in a form vigil does not read") };
                let numbers = match protocol {
                    "tcp" => vec![6],
                    "udp" => vec![17],
                    "sctp" => vec![132],
                    "dccp" => vec![33],
                    _ => vec![6, 17],
                };
                if protocol == "sctp" || protocol == "dccp" {
                    // Modelled by protocol number only (no ports).
                    return one(Condition::Protocols { numbers, negated: false });
                }
                // `tcp dport X` also requires TCP.
                (vec![Condition::Protocols { numbers, negated: false }, Condition::DestinationPorts { ranges, negated }], text.clone())
            }
            ("ip", "saddr") | ("ip6", "saddr") => match addresses(&right) {
                Some(cidrs) => {
                    let guard = Condition::Family(if protocol == "ip" { vigil_net::Family::V4 } else { vigil_net::Family::V6 });
                    (vec![guard, Condition::Sources { cidrs, negated }], text.clone())
                }
                None => assumed("addresses given in a form vigil does not read"),
            },
            ("ip", "protocol") | ("ip6", "nexthdr") => match protocol_numbers(&right) {
                Some(numbers) => one(Condition::Protocols { numbers, negated }),
                None => assumed("an unknown protocol name"),
            },
            ("icmp" | "icmpv6", "type") => match icmp_types(&right, protocol == "icmpv6") {
                Some(types) => {
                    let guard = Condition::Family(if protocol == "icmp" { vigil_net::Family::V4 } else { vigil_net::Family::V6 });
                    (vec![guard, Condition::IcmpTypes { types, negated }], text.clone())
                }
                None => assumed("an unknown ICMP type name"),
            },
            ("ip" | "ip6", "daddr") => assumed("the destination address (the instance's own addresses are not known here)"),
            _ => assumed("a header field vigil does not model"),
        };
    }
    if let Some(meta) = left.get("meta") {
        let key = meta.get("key").and_then(Value::as_str).unwrap_or_default();
        return match key {
            "l4proto" => match protocol_numbers(&right) {
                Some(numbers) => one(Condition::Protocols { numbers, negated }),
                None => assumed("an unknown protocol name"),
            },
            "nfproto" => match right.as_str() {
                Some("ipv4") => one(Condition::Family(if negated { vigil_net::Family::V6 } else { vigil_net::Family::V4 })),
                Some("ipv6") => one(Condition::Family(if negated { vigil_net::Family::V4 } else { vigil_net::Family::V6 })),
                _ => assumed("an unknown protocol family"),
            },
            "iif" | "iifname" => {
                let loopback = strings(&right).iter().any(|name| name == "lo");
                match (loopback, negated) {
                    // Internet traffic never arrives on the loopback interface.
                    (true, false) => one(Condition::Never { reason: "loopback interface".to_string() }),
                    (true, true) => always(),
                    // Another interface name: whether it is the instance's cannot be known here.
                    (false, _) => assumed("an interface name other than loopback"),
                }
            }
            _ => assumed("packet metadata vigil does not model"),
        };
    }
    if let Some(ct) = left.get("ct") {
        if ct.get("key").and_then(Value::as_str) == Some("state") {
            // A new connection from the internet is in state `new`.
            let states = strings(&right);
            let has_new = states.iter().any(|state| state == "new");
            return match (has_new, negated) {
                (true, false) | (false, true) => always(),
                _ => one(Condition::Never { reason: "an established, related or invalid connection".to_string() }),
            };
        }
        return assumed("connection tracking state vigil does not model");
    }
    assumed("an expression vigil does not model")
}

/// Replaces a `@set` reference by the set's elements.
fn resolve(right: Value, family: &str, table: &str, sets: &Sets) -> Value {
    if let Some(name) = right.as_str().and_then(|text| text.strip_prefix('@')) {
        let elements = sets.get(&(family.to_string(), table.to_string(), name.to_string())).cloned().unwrap_or_default();
        let elements: Vec<Value> =
            elements.into_iter().map(|element| element.get("elem").and_then(|elem| elem.get("val")).cloned().unwrap_or(element)).collect();
        return serde_json::json!({ "set": elements });
    }
    right
}

fn elements(value: &Value) -> Vec<Value> {
    match value {
        Value::Object(object) if object.contains_key("set") => object.get("set").and_then(Value::as_array).cloned().unwrap_or_default(),
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn strings(value: &Value) -> Vec<String> {
    elements(value).iter().filter_map(|element| element.as_str().map(str::to_string)).collect()
}

fn ports(value: &Value) -> Option<Vec<[u16; 2]>> {
    let mut ranges = Vec::new();
    for element in elements(value) {
        if let Some(port) = element.as_u64() {
            let port = u16::try_from(port).ok()?;
            ranges.push([port, port]);
        } else if let Some(range) = element.get("range").and_then(Value::as_array) {
            let from = u16::try_from(range.first()?.as_u64()?).ok()?;
            let to = u16::try_from(range.get(1)?.as_u64()?).ok()?;
            ranges.push([from, to]);
        } else if let Some(name) = element.as_str() {
            let port = service_port(name)?;
            ranges.push([port, port]);
        } else {
            return None;
        }
    }
    Some(ranges)
}

fn service_port(name: &str) -> Option<u16> {
    Some(match name {
        "ssh" => 22,
        "http" => 80,
        "https" => 443,
        "smtp" => 25,
        "domain" => 53,
        "telnet" => 23,
        "ftp" => 21,
        other => other.parse().ok()?,
    })
}

fn addresses(value: &Value) -> Option<Vec<String>> {
    let mut cidrs = Vec::new();
    for element in elements(value) {
        if let Some(address) = element.as_str() {
            cidrs.push(address.to_string());
        } else if let Some(prefix) = element.get("prefix") {
            cidrs.push(format!("{}/{}", prefix.get("addr")?.as_str()?, prefix.get("len")?.as_u64()?));
        } else if let Some(range) = element.get("range").and_then(Value::as_array) {
            // An address range: kept as its covering addresses is not needed here; rare in practice.
            let _ = range;
            return None;
        } else {
            return None;
        }
    }
    Some(cidrs)
}

fn protocol_numbers(value: &Value) -> Option<Vec<u8>> {
    elements(value)
        .iter()
        .map(|element| match element {
            Value::Number(number) => number.as_u64().and_then(|number| u8::try_from(number).ok()),
            Value::String(name) => match name.as_str() {
                "tcp" => Some(6),
                "udp" => Some(17),
                "icmp" => Some(1),
                "ipv6-icmp" | "icmpv6" => Some(58),
                "sctp" => Some(132),
                "gre" => Some(47),
                "esp" => Some(50),
                "ah" => Some(51),
                other => other.parse().ok(),
            },
            _ => None,
        })
        .collect()
}

fn icmp_types(value: &Value, v6: bool) -> Option<Vec<u8>> {
    elements(value)
        .iter()
        .map(|element| match element {
            Value::Number(number) => number.as_u64().and_then(|number| u8::try_from(number).ok()),
            Value::String(name) => match (name.as_str(), v6) {
                ("echo-reply", false) => Some(0),
                ("destination-unreachable", false) => Some(3),
                ("echo-request", false) => Some(8),
                ("time-exceeded", false) => Some(11),
                ("destination-unreachable", true) => Some(1),
                ("packet-too-big", true) => Some(2),
                ("time-exceeded", true) => Some(3),
                ("echo-request", true) => Some(128),
                ("echo-reply", true) => Some(129),
                ("nd-router-solicit", true) => Some(133),
                ("nd-router-advert", true) => Some(134),
                ("nd-neighbor-solicit", true) => Some(135),
                ("nd-neighbor-advert", true) => Some(136),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A short text for a JSON expression operand.
fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Object(object) => {
            if let Some(payload) = object.get("payload") {
                format!("{} {}", text_of(payload, "protocol"), text_of(payload, "field"))
            } else if let Some(meta) = object.get("meta") {
                format!("meta {}", text_of(meta, "key"))
            } else if let Some(ct) = object.get("ct") {
                format!("ct {}", text_of(ct, "key"))
            } else if let Some(prefix) = object.get("prefix") {
                format!("{}/{}", describe(prefix.get("addr").unwrap_or(&Value::Null)), describe(prefix.get("len").unwrap_or(&Value::Null)))
            } else if let Some(range) = object.get("range").and_then(Value::as_array) {
                format!("{}-{}", range.first().map(describe).unwrap_or_default(), range.get(1).map(describe).unwrap_or_default())
            } else if let Some(set) = object.get("set") {
                format!("{{ {} }}", elements(&serde_json::json!({"set": set})).iter().map(describe).collect::<Vec<_>>().join(", "))
            } else {
                Value::Object(object.clone()).to_string()
            }
        }
        Value::Array(items) => format!("{{ {} }}", items.iter().map(describe).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}
