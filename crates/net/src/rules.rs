//! AWS rule semantics, twice: compiled into exact sets (for the exposure map) and evaluated
//! for one packet (for explanations). Security group permissions, network ACL entries in
//! rule-number order with first match, and route tables with longest-prefix match.

use std::collections::HashMap;

use vigil_model::ec2::{IpPermission, ManagedPrefixList, NetworkAcl, NetworkAclEntry, Route, RouteTable};

use crate::access::{Access, Region, Slot, ValueSet, icmp_values, port_values};
use crate::addr::{AddressSet, Cidr, Family};

/// Managed prefix lists by id.
pub type PrefixLists<'a> = HashMap<&'a str, &'a ManagedPrefixList>;

/// The addresses of a managed prefix list in one family (empty when its entries were not read).
pub fn prefix_list_sources(prefix_lists: &PrefixLists<'_>, id: &str, family: Family) -> AddressSet {
    let Some(list) = prefix_lists.get(id) else { return AddressSet::empty() };
    AddressSet::from_ranges(
        list.entries.iter().filter_map(|entry| Cidr::parse(&entry.cidr)).filter(|cidr| cidr.family == family).map(|cidr| (cidr.first, cidr.last)),
    )
}

/// What a security group permission's protocol and ports allow, for one family.
pub fn permission_access(permission: &IpPermission, family: Family) -> Option<Access> {
    let protocol = permission.ip_protocol.trim().to_ascii_lowercase();
    let number: u8 = match protocol.as_str() {
        "-1" | "all" => return Some(Access::all()),
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmpv6" => 58,
        other => other.parse().ok()?,
    };
    Some(protocol_access(number, family, permission.from_port, permission.to_port, (permission.from_port, permission.to_port)))
}

/// The access of one IP protocol number; `ports` for TCP/UDP, `icmp` (type, code) for ICMP.
fn protocol_access(number: u8, family: Family, from_port: Option<i32>, to_port: Option<i32>, icmp: (Option<i32>, Option<i32>)) -> Access {
    match Slot::of_protocol_number(number, family) {
        (Slot::Tcp, _) => Access::only(Slot::Tcp, port_values(from_port, to_port)),
        (Slot::Udp, _) => Access::only(Slot::Udp, port_values(from_port, to_port)),
        (Slot::Icmp, _) => Access::only(Slot::Icmp, icmp_values(icmp.0, icmp.1)),
        (slot, values) => Access::only(slot, values.unwrap_or_else(ValueSet::empty)),
    }
}

/// Where a security group permission admits traffic from, for one family. A reference to a
/// group admits only that group's members, which are never internet addresses, unless the
/// group is in `trusted_groups` (a load balancer's groups, when judging what it forwards).
pub fn permission_sources(permission: &IpPermission, family: Family, prefix_lists: &PrefixLists<'_>, trusted_groups: &[&str]) -> AddressSet {
    if permission.user_id_group_pairs.iter().any(|pair| pair.group_id.as_deref().is_some_and(|group| trusted_groups.contains(&group))) {
        return family.everything();
    }
    let cidrs: Vec<(u128, u128)> = match family {
        Family::V4 => permission
            .ip_ranges
            .iter()
            .filter_map(|range| Cidr::parse(&range.cidr_ip))
            .filter(|cidr| cidr.family == family)
            .map(|cidr| (cidr.first, cidr.last))
            .collect(),
        Family::V6 => permission
            .ipv6_ranges
            .iter()
            .filter_map(|range| Cidr::parse(&range.cidr_ipv6))
            .filter(|cidr| cidr.family == family)
            .map(|cidr| (cidr.first, cidr.last))
            .collect(),
    };
    let mut sources = AddressSet::from_ranges(cidrs);
    for prefix_list in &permission.prefix_list_ids {
        sources = sources.union(&prefix_list_sources(prefix_lists, &prefix_list.prefix_list_id, family));
    }
    sources
}

/// The packets a list of inbound permissions admits.
pub fn permissions_region(permissions: &[IpPermission], family: Family, prefix_lists: &PrefixLists<'_>, trusted_groups: &[&str]) -> Region {
    let mut region = Region::empty();
    for permission in permissions {
        let Some(access) = permission_access(permission, family) else { continue };
        let sources = permission_sources(permission, family, prefix_lists, trusted_groups);
        region = region.union(&Region::from_box(&sources, &access));
    }
    region
}

/// Whether one permission admits one packet.
pub fn permission_admits(permission: &IpPermission, family: Family, packet: Packet, prefix_lists: &PrefixLists<'_>, trusted_groups: &[&str]) -> bool {
    permission_access(permission, family).is_some_and(|access| access.contains(packet.slot, packet.value))
        && permission_sources(permission, family, prefix_lists, trusted_groups).contains(packet.address)
}

/// One packet: its protocol slot and value, and the address the rule looks at (the source
/// for inbound rules, the destination for outbound ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub slot: Slot,
    pub value: u16,
    pub address: u128,
}

/// What a network ACL entry's protocol and ports allow, for one family.
pub fn nacl_entry_access(entry: &NetworkAclEntry, family: Family) -> Option<Access> {
    let protocol = entry.protocol.trim();
    if protocol == "-1" || protocol.eq_ignore_ascii_case("all") {
        return Some(Access::all());
    }
    let number: u8 = match protocol.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmpv6" => 58,
        other => other.parse().ok()?,
    };
    let (from, to) = entry.port_range.as_ref().map(|range| (range.from, range.to)).unwrap_or((None, None));
    let icmp = entry.icmp_type_code.as_ref().map(|icmp| (icmp.r#type, icmp.code)).unwrap_or((None, None));
    Some(protocol_access(number, family, from, to, icmp))
}

/// The addresses a network ACL entry matches in one family (none for the other family).
pub fn nacl_entry_addresses(entry: &NetworkAclEntry, family: Family) -> AddressSet {
    let block = match family {
        Family::V4 => entry.cidr_block.as_deref(),
        Family::V6 => entry.ipv6_cidr_block.as_deref(),
    };
    block.and_then(Cidr::parse).filter(|cidr| cidr.family == family).map(|cidr| cidr.set()).unwrap_or_default()
}

fn is_allow(entry: &NetworkAclEntry) -> bool {
    entry.rule_action.eq_ignore_ascii_case("allow")
}

/// The entries of one direction in evaluation order (rule number, then listing order).
pub fn nacl_entries(nacl: &NetworkAcl, egress: bool) -> Vec<&NetworkAclEntry> {
    let mut entries: Vec<&NetworkAclEntry> = nacl.entries.iter().filter(|entry| entry.egress == egress).collect();
    entries.sort_by_key(|entry| entry.rule_number);
    entries
}

/// The packets one direction of a network ACL lets through: the first matching rule decides,
/// and what no rule matches is denied.
pub fn nacl_region(nacl: &NetworkAcl, egress: bool, family: Family) -> Region {
    let mut region = Region::empty();
    // Folding from the last rule to the first lets each earlier rule override the later ones.
    for entry in nacl_entries(nacl, egress).into_iter().rev() {
        let Some(access) = nacl_entry_access(entry, family) else { continue };
        let rule = Region::from_box(&nacl_entry_addresses(entry, family), &access);
        region = if is_allow(entry) { region.union(&rule) } else { region.difference(&rule) };
    }
    region
}

/// The first entry that matches a packet, if any (no entry means the default deny).
pub fn nacl_first_match(nacl: &NetworkAcl, egress: bool, family: Family, packet: Packet) -> Option<&NetworkAclEntry> {
    nacl_entries(nacl, egress).into_iter().find(|entry| {
        nacl_entry_access(entry, family).is_some_and(|access| access.contains(packet.slot, packet.value))
            && nacl_entry_addresses(entry, family).contains(packet.address)
    })
}

pub fn nacl_allows(entry: Option<&NetworkAclEntry>) -> bool {
    entry.is_some_and(is_allow)
}

/// The client's ephemeral ports a reply goes to.
pub fn ephemeral_ports() -> ValueSet {
    ValueSet::range(1024, 65535)
}

/// The destinations a network ACL's outbound rules let replies reach, per slot: for TCP and
/// UDP, the addresses some ephemeral port of which is allowed (a client chooses its source
/// port); other protocols need no reply.
pub fn reply_destinations(outbound: &Region, family: Family) -> [AddressSet; 4] {
    Slot::ALL.map(|slot| if slot.needs_reply() { outbound.sources_for(slot, &ephemeral_ports()) } else { family.everything() })
}

/// A route's destinations in one family: its CIDR, or the entries of its prefix list.
pub fn route_destinations(route: &Route, family: Family, prefix_lists: &PrefixLists<'_>) -> Vec<Cidr> {
    let block = match family {
        Family::V4 => route.destination_cidr_block.as_deref(),
        Family::V6 => route.destination_ipv6_cidr_block.as_deref(),
    };
    if let Some(cidr) = block.and_then(Cidr::parse).filter(|cidr| cidr.family == family) {
        return vec![cidr];
    }
    let Some(list) = route.destination_prefix_list_id.as_deref().and_then(|id| prefix_lists.get(id)) else { return Vec::new() };
    list.entries.iter().filter_map(|entry| Cidr::parse(&entry.cidr)).filter(|cidr| cidr.family == family).collect()
}

/// The route's target, as printed in paths.
pub fn route_target(route: &Route) -> String {
    if route.state.as_deref() == Some("blackhole") {
        return "blackhole".to_string();
    }
    [
        &route.gateway_id,
        &route.egress_only_internet_gateway_id,
        &route.nat_gateway_id,
        &route.transit_gateway_id,
        &route.vpc_peering_connection_id,
        &route.network_interface_id,
        &route.instance_id,
        &route.local_gateway_id,
        &route.carrier_gateway_id,
    ]
    .into_iter()
    .flatten()
    .next()
    .cloned()
    .unwrap_or_else(|| "unknown".to_string())
}

/// Whether a route sends traffic to one of `internet_gateways` (active, not a blackhole).
pub fn route_reaches_internet_gateway(route: &Route, internet_gateways: &[&str]) -> bool {
    route.state.as_deref() != Some("blackhole")
        && route.gateway_id.as_deref().is_some_and(|gateway| gateway.starts_with("igw-") && internet_gateways.contains(&gateway))
}

/// Every (destination, route) of a table in one family, ordered from the weakest match to the
/// strongest: by prefix length, a CIDR route beating a prefix-list route of the same length,
/// and an earlier route beating a later one.
fn ranked_routes<'a>(table: &'a RouteTable, family: Family, prefix_lists: &PrefixLists<'_>) -> Vec<(Cidr, &'a Route)> {
    let mut ranked: Vec<(u32, bool, std::cmp::Reverse<usize>, Cidr, &Route)> = Vec::new();
    for (index, route) in table.routes.iter().enumerate() {
        let is_cidr_route = route.destination_prefix_list_id.is_none();
        for cidr in route_destinations(route, family, prefix_lists) {
            ranked.push((cidr.prefix_length, is_cidr_route, std::cmp::Reverse(index), cidr, route));
        }
    }
    ranked.sort_by_key(|(length, is_cidr, index, _, _)| (*length, *is_cidr, *index));
    ranked.into_iter().map(|(_, _, _, cidr, route)| (cidr, route)).collect()
}

/// The route a packet to `destination` takes (longest prefix match), with the matched block.
pub fn longest_match<'a>(table: &'a RouteTable, family: Family, destination: u128, prefix_lists: &PrefixLists<'_>) -> Option<(Cidr, &'a Route)> {
    ranked_routes(table, family, prefix_lists).into_iter().rev().find(|(cidr, _)| cidr.contains(destination))
}

/// The destinations whose longest-matching route goes to one of `internet_gateways`: the
/// internet sources a reply can return to.
pub fn internet_return_destinations(table: &RouteTable, family: Family, prefix_lists: &PrefixLists<'_>, internet_gateways: &[&str]) -> AddressSet {
    let mut destinations = AddressSet::empty();
    for (cidr, route) in ranked_routes(table, family, prefix_lists) {
        destinations =
            if route_reaches_internet_gateway(route, internet_gateways) { destinations.union(&cidr.set()) } else { destinations.difference(&cidr.set()) };
    }
    destinations
}
