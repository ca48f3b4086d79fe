//! Differential test: the interval-set engine against a naive packet-by-packet simulator
//! written here independently (it parses CIDRs itself, walks routes, ACL entries and
//! security group rules literally, and tries every ephemeral port one by one), on random
//! topologies and random packets. They must never disagree.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use proptest::prelude::*;
use vigil_model::ec2::*;
use vigil_model::elb::{Listener, ListenerAction, LoadBalancer, TargetDescription, TargetGroup};
use vigil_model::inventory::AccountInfo;
use vigil_model::{Inventory, RegionalInventory};
use vigil_net::{Family, Network, Slot};

// ---------------------------------------------------------------- the naive simulator

fn ip(text: &str) -> u32 {
    u32::from(text.parse::<Ipv4Addr>().unwrap())
}

/// (network, prefix length) of `a.b.c.d/n`.
fn cidr(text: &str) -> (u32, u32) {
    let (address, length) = text.split_once('/').unwrap();
    let length: u32 = length.parse().unwrap();
    let mask = if length == 0 { 0 } else { u32::MAX << (32 - length) };
    (ip(address) & mask, length)
}

fn in_cidr(address: u32, block: &str) -> bool {
    let (network, length) = cidr(block);
    let mask = if length == 0 { 0 } else { u32::MAX << (32 - length) };
    address & mask == network
}

/// A packet as a client sends it: protocol number, destination port (or ICMP type/code), source.
#[derive(Debug, Clone, Copy)]
struct SimPacket {
    protocol: u8,
    port: u16,
    icmp: (u8, u8),
    source: u32,
}

fn protocol_number(name: &str) -> Option<i32> {
    match name {
        "-1" | "all" => Some(-1),
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        other => other.parse().ok(),
    }
}

fn within(value: i32, from: Option<i32>, to: Option<i32>) -> bool {
    match (from, to) {
        (Some(from), Some(to)) if from >= 0 && to >= 0 => from <= value && value <= to,
        _ => true,
    }
}

fn nacl_entry_matches(entry: &NetworkAclEntry, protocol: u8, port: u16, icmp: (u8, u8), address: u32) -> bool {
    let Some(block) = &entry.cidr_block else { return false };
    if !in_cidr(address, block) {
        return false;
    }
    let number = protocol_number(&entry.protocol).unwrap();
    if number == -1 {
        return true;
    }
    if number != i32::from(protocol) {
        return false;
    }
    match protocol {
        6 | 17 => entry.port_range.as_ref().is_none_or(|range| within(i32::from(port), range.from, range.to)),
        1 => entry.icmp_type_code.as_ref().is_none_or(|code| {
            (code.r#type.unwrap_or(-1) == -1 || code.r#type == Some(i32::from(icmp.0)))
                && (code.r#type.unwrap_or(-1) == -1 || code.code.unwrap_or(-1) == -1 || code.code == Some(i32::from(icmp.1)))
        }),
        _ => true,
    }
}

/// First match in rule-number order; no match is a deny.
fn nacl_allows(nacl: &NetworkAcl, egress: bool, protocol: u8, port: u16, icmp: (u8, u8), address: u32) -> bool {
    let mut entries: Vec<&NetworkAclEntry> = nacl.entries.iter().filter(|entry| entry.egress == egress).collect();
    entries.sort_by_key(|entry| entry.rule_number);
    for entry in entries {
        if nacl_entry_matches(entry, protocol, port, icmp, address) {
            return entry.rule_action == "allow";
        }
    }
    false
}

/// Remembers, per (ACL, protocol, client), whether some ephemeral port gets the reply: the
/// answer does not depend on the packet, and trying 64,512 ports is slow.
type Memo = HashMap<(String, u8, u32), bool>;

/// Inbound passes, and (TCP/UDP) some ephemeral port of the client gets the reply.
fn nacl_pair_allows(memo: &mut Memo, nacl: &NetworkAcl, protocol: u8, port: u16, icmp: (u8, u8), address: u32) -> bool {
    if !nacl_allows(nacl, false, protocol, port, icmp, address) {
        return false;
    }
    if protocol != 6 && protocol != 17 {
        return true;
    }
    *memo
        .entry((nacl.network_acl_id.clone(), protocol, address))
        .or_insert_with(|| (1024..=65535u16).any(|ephemeral| nacl_allows(nacl, true, protocol, ephemeral, (0, 0), address)))
}

fn rule_protocol_matches(permission: &IpPermission, protocol: u8, port: u16, icmp: (u8, u8)) -> bool {
    let number = protocol_number(&permission.ip_protocol).unwrap();
    if number == -1 {
        return true;
    }
    if number != i32::from(protocol) {
        return false;
    }
    match protocol {
        6 | 17 => within(i32::from(port), permission.from_port, permission.to_port),
        1 => {
            let kind = permission.from_port.unwrap_or(-1);
            let code = permission.to_port.unwrap_or(-1);
            (kind == -1 || kind == i32::from(icmp.0)) && (kind == -1 || code == -1 || code == i32::from(icmp.1))
        }
        _ => true,
    }
}

fn groups_admit(ec2: &Ec2, groups: &[String], protocol: u8, port: u16, icmp: (u8, u8), source: u32, trusted: &[String]) -> bool {
    for group in ec2.security_groups.iter().filter(|group| groups.contains(&group.group_id)) {
        for permission in &group.ip_permissions {
            if !rule_protocol_matches(permission, protocol, port, icmp) {
                continue;
            }
            if permission.ip_ranges.iter().any(|range| in_cidr(source, &range.cidr_ip)) {
                return true;
            }
            for list in &permission.prefix_list_ids {
                let entries = ec2.managed_prefix_lists.iter().filter(|pl| pl.prefix_list_id == list.prefix_list_id).flat_map(|pl| pl.entries.iter());
                if entries.clone().any(|entry| in_cidr(source, &entry.cidr)) {
                    return true;
                }
            }
            if permission.user_id_group_pairs.iter().any(|pair| pair.group_id.as_ref().is_some_and(|group| trusted.contains(group))) {
                return true;
            }
        }
    }
    false
}

fn subnet_vpc<'a>(ec2: &'a Ec2, subnet: &str) -> &'a str {
    &ec2.subnets.iter().find(|candidate| candidate.subnet_id == subnet).unwrap().vpc_id
}

fn subnet_nacl<'a>(ec2: &'a Ec2, subnet: &str) -> Option<&'a NetworkAcl> {
    ec2.network_acls
        .iter()
        .find(|nacl| nacl.associations.iter().any(|association| association.subnet_id.as_deref() == Some(subnet)))
        .or_else(|| ec2.network_acls.iter().find(|nacl| nacl.is_default && nacl.vpc_id.as_deref() == Some(subnet_vpc(ec2, subnet))))
}

/// The subnet part: an attached gateway, the reply's longest-prefix route to it, the ACL both ways.
fn subnet_admits(memo: &mut Memo, ec2: &Ec2, subnet: &str, packet: SimPacket) -> bool {
    let vpc = subnet_vpc(ec2, subnet);
    let attached: Vec<&str> = ec2
        .internet_gateways
        .iter()
        .filter(|gateway| gateway.attachments.iter().any(|attachment| attachment.vpc_id == vpc && attachment.state.as_deref() == Some("available")))
        .map(|gateway| gateway.internet_gateway_id.as_str())
        .collect();
    if attached.is_empty() {
        return false;
    }
    let table = ec2
        .route_tables
        .iter()
        .find(|table| table.associations.iter().any(|association| !association.main && association.subnet_id.as_deref() == Some(subnet)))
        .or_else(|| {
            ec2.route_tables.iter().find(|table| table.vpc_id.as_deref() == Some(vpc) && table.associations.iter().any(|association| association.main))
        });
    let Some(table) = table else { return false };
    let mut best: Option<(u32, &Route)> = None;
    for route in &table.routes {
        let Some(destination) = &route.destination_cidr_block else { continue };
        if in_cidr(packet.source, destination) {
            let length = cidr(destination).1;
            if best.is_none_or(|(best_length, _)| length > best_length) {
                best = Some((length, route));
            }
        }
    }
    let Some((_, route)) = best else { return false };
    let to_gateway = route.state.as_deref() != Some("blackhole") && route.gateway_id.as_deref().is_some_and(|gateway| attached.contains(&gateway));
    if !to_gateway {
        return false;
    }
    let Some(nacl) = subnet_nacl(ec2, subnet) else { return false };
    nacl_pair_allows(memo, nacl, packet.protocol, packet.port, packet.icmp, packet.source)
}

fn instance_active(ec2: &Ec2, interface: &NetworkInterface) -> bool {
    let Some(instance) = interface.attachment.as_ref().and_then(|attachment| attachment.instance_id.as_ref()) else { return true };
    ec2.instances.iter().find(|candidate| &candidate.instance_id == instance).is_none_or(|instance| instance.state.name == "running")
}

/// Every (resource, via) the packet reaches.
fn simulate(memo: &mut Memo, inventory: &Inventory, packet: SimPacket) -> BTreeSet<(String, String)> {
    let regional = inventory.regional.values().next().unwrap();
    let ec2 = &regional.ec2;
    let mut reached = BTreeSet::new();
    for interface in &ec2.network_interfaces {
        if interface.description.as_deref().is_some_and(|text| text.starts_with("ELB ")) {
            continue;
        }
        let public = interface.association.as_ref().is_some_and(|association| association.public_ip.is_some());
        if !public || !instance_active(ec2, interface) {
            continue;
        }
        let subnet = interface.subnet_id.as_deref().unwrap();
        let groups: Vec<String> = interface.groups.iter().map(|group| group.group_id.clone()).collect();
        if subnet_admits(memo, ec2, subnet, packet) && groups_admit(ec2, &groups, packet.protocol, packet.port, packet.icmp, packet.source, &[]) {
            reached.insert((resource_of(interface), "direct".to_string()));
        }
    }
    for balancer in &regional.load_balancers {
        let network = balancer.r#type.as_deref() == Some("network");
        for subnet in &balancer.subnet_ids {
            if !subnet_admits(memo, ec2, subnet, packet) {
                continue;
            }
            if !balancer.security_groups.is_empty()
                && !groups_admit(ec2, &balancer.security_groups, packet.protocol, packet.port, packet.icmp, packet.source, &[])
            {
                continue;
            }
            for listener in &balancer.listeners {
                let protocol = if listener.protocol.as_deref() == Some("UDP") { 17 } else { 6 };
                if packet.protocol != protocol || listener.port != Some(i32::from(packet.port)) {
                    continue;
                }
                reached.insert((balancer.load_balancer_arn.clone(), "direct".to_string()));
                for group_arn in &listener.default_actions[0].target_group_arns {
                    let group = regional.target_groups.iter().find(|group| &group.target_group_arn == group_arn).unwrap();
                    for target in &group.targets {
                        let interface = ec2
                            .network_interfaces
                            .iter()
                            .find(|interface| {
                                interface.attachment.as_ref().and_then(|attachment| attachment.instance_id.as_deref()) == Some(target.id.as_str())
                            })
                            .unwrap();
                        if !instance_active(ec2, interface) {
                            continue;
                        }
                        let port = target.port.or(group.port).unwrap() as u16;
                        let groups: Vec<String> = interface.groups.iter().map(|group| group.group_id.clone()).collect();
                        let target_subnet = interface.subnet_id.as_deref().unwrap();
                        // Who the target sees: the client (NLB, instance targets) or some node of this subnet.
                        let candidates: Vec<u32> = if network {
                            vec![packet.source]
                        } else {
                            let nodes: Vec<u32> = ec2
                                .network_interfaces
                                .iter()
                                .filter(|node| {
                                    node.description.as_deref().is_some_and(|text| text.starts_with("ELB ")) && node.subnet_id.as_deref() == Some(subnet)
                                })
                                .map(|node| ip(node.private_ip_address.as_deref().unwrap()))
                                .collect();
                            if nodes.is_empty() {
                                let block = ec2.subnets.iter().find(|candidate| &candidate.subnet_id == subnet).unwrap().cidr_block.clone().unwrap();
                                let (first, length) = cidr(&block);
                                (0..(1u32 << (32 - length))).map(|offset| first + offset).collect()
                            } else {
                                nodes
                            }
                        };
                        let admitted = candidates.into_iter().any(|seen| {
                            let nacl_ok = target_subnet == subnet
                                || subnet_nacl(ec2, target_subnet).is_some_and(|nacl| nacl_pair_allows(memo, nacl, packet.protocol, port, packet.icmp, seen));
                            nacl_ok && groups_admit(ec2, &groups, packet.protocol, port, packet.icmp, seen, &balancer.security_groups)
                        });
                        if admitted {
                            reached.insert((target.id.clone(), balancer.load_balancer_arn.clone()));
                        }
                    }
                }
            }
        }
    }
    reached
}

fn resource_of(interface: &NetworkInterface) -> String {
    interface.attachment.as_ref().and_then(|attachment| attachment.instance_id.clone()).unwrap_or_else(|| interface.network_interface_id.clone())
}

// ---------------------------------------------------------------- random topologies

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const BLOCKS: &[&str] = &[
    "0.0.0.0/0",
    "0.0.0.0/1",
    "128.0.0.0/1",
    "203.0.113.0/24",
    "203.0.113.0/25",
    "203.0.113.128/26",
    "203.0.113.7/32",
    "198.51.100.0/24",
    "10.0.0.0/16",
    "10.0.1.0/24",
    "10.0.1.0/28",
];
const SOURCES: &[&str] = &["203.0.113.7", "203.0.113.100", "203.0.113.200", "198.51.100.9", "10.0.1.5", "10.0.2.9", "8.8.8.8", "200.1.1.1"];
const PORTS: &[i32] = &[0, 21, 22, 23, 80, 443, 1023, 1024, 1025, 3306, 8080, 32768, 65535];
const SUBNETS: &[(&str, &str)] = &[("subnet-1", "10.0.1.0/24"), ("subnet-2", "10.0.2.0/24"), ("subnet-3", "10.0.3.0/26")];

fn port_range(rng: &mut Rng) -> (i32, i32) {
    let (a, b) = (*rng.pick(PORTS), *rng.pick(PORTS));
    (a.min(b), a.max(b))
}

fn nacl_entries(rng: &mut Rng) -> Vec<NetworkAclEntry> {
    let mut entries = Vec::new();
    for egress in [false, true] {
        let mut numbers: Vec<i32> = (1..=20).map(|n| n * 10).filter(|n| *n != 100).collect();
        for _ in 0..rng.below(5) {
            let number = numbers.remove(rng.below(numbers.len()));
            let protocol = rng.pick(&["-1", "6", "6", "17", "1"]).to_string();
            let (from, to) = port_range(rng);
            entries.push(NetworkAclEntry {
                rule_number: number,
                protocol: protocol.clone(),
                rule_action: rng.pick(&["allow", "allow", "deny"]).to_string(),
                egress,
                cidr_block: Some(rng.pick(BLOCKS).to_string()),
                port_range: matches!(protocol.as_str(), "6" | "17").then_some(PortRange { from: Some(from), to: Some(to) }),
                icmp_type_code: (protocol == "1").then(|| IcmpTypeCode { r#type: Some(*rng.pick(&[-1, 0, 8])), code: Some(*rng.pick(&[-1, 0])) }),
                ..Default::default()
            });
        }
        if rng.chance(65) {
            entries.push(NetworkAclEntry {
                rule_number: 100,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                egress,
                cidr_block: Some("0.0.0.0/0".into()),
                ..Default::default()
            });
        }
        entries.push(NetworkAclEntry {
            rule_number: 32767,
            protocol: "-1".into(),
            rule_action: "deny".into(),
            egress,
            cidr_block: Some("0.0.0.0/0".into()),
            ..Default::default()
        });
    }
    entries
}

fn permission(rng: &mut Rng, group_refs: &[&str]) -> IpPermission {
    let protocol = rng.pick(&["-1", "tcp", "tcp", "udp", "icmp", "6"]).to_string();
    let (from, to) = match protocol.as_str() {
        "icmp" => (*rng.pick(&[-1, 0, 8]), *rng.pick(&[-1, 0])),
        "-1" => (-1, -1),
        _ => port_range(rng),
    };
    let mut permission = IpPermission { ip_protocol: protocol, from_port: Some(from), to_port: Some(to), ..Default::default() };
    for _ in 0..rng.below(3) {
        permission.ip_ranges.push(IpRange { cidr_ip: rng.pick(BLOCKS).to_string(), description: None });
    }
    if rng.chance(20) {
        permission.prefix_list_ids.push(PrefixListId { prefix_list_id: "pl-1".into(), description: None });
    }
    if rng.chance(30) {
        permission.user_id_group_pairs.push(UserIdGroupPair { group_id: Some(rng.pick(group_refs).to_string()), ..Default::default() });
    }
    permission
}

fn topology(seed: u64) -> Inventory {
    let mut rng = Rng(seed | 1);
    let mut ec2 = Ec2::default();
    let vpc = "vpc-1".to_string();
    ec2.vpcs.push(Vpc { vpc_id: vpc.clone(), cidr_block: Some("10.0.0.0/16".into()), ..Default::default() });
    let state = if rng.chance(85) { "available" } else { "detaching" };
    ec2.internet_gateways.push(InternetGateway {
        internet_gateway_id: "igw-1".into(),
        attachments: vec![GatewayAttachment { vpc_id: vpc.clone(), state: Some(state.into()) }],
        ..Default::default()
    });
    ec2.internet_gateways.push(InternetGateway { internet_gateway_id: "igw-2".into(), ..Default::default() });
    for (id, block) in SUBNETS {
        ec2.subnets.push(Subnet { subnet_id: id.to_string(), vpc_id: vpc.clone(), cidr_block: Some(block.to_string()), ..Default::default() });
    }
    for (table_id, main) in [("rtb-main", true), ("rtb-2", false)] {
        let mut routes = vec![Route { destination_cidr_block: Some("10.0.0.0/16".into()), gateway_id: Some("local".into()), ..Default::default() }];
        let mut used = vec!["10.0.0.0/16"];
        if rng.chance(70) {
            routes.push(Route { destination_cidr_block: Some("0.0.0.0/0".into()), gateway_id: Some("igw-1".into()), ..Default::default() });
            used.push("0.0.0.0/0");
        }
        for _ in 0..rng.below(4) {
            let block = *rng.pick(BLOCKS);
            if used.contains(&block) {
                continue;
            }
            used.push(block);
            let mut route = Route { destination_cidr_block: Some(block.into()), ..Default::default() };
            match rng.below(5) {
                0 | 1 => route.gateway_id = Some("igw-1".into()),
                2 => route.gateway_id = Some("igw-2".into()),
                3 => route.nat_gateway_id = Some("nat-1".into()),
                _ => {
                    route.gateway_id = Some("igw-1".into());
                    route.state = Some("blackhole".into());
                }
            }
            routes.push(route);
        }
        let mut associations = Vec::new();
        if main {
            associations.push(RouteTableAssociation { main: true, route_table_id: Some(table_id.into()), ..Default::default() });
        } else {
            for (subnet, _) in SUBNETS {
                if rng.chance(40) {
                    associations.push(RouteTableAssociation {
                        subnet_id: Some(subnet.to_string()),
                        route_table_id: Some(table_id.into()),
                        ..Default::default()
                    });
                }
            }
        }
        ec2.route_tables.push(RouteTable { route_table_id: table_id.into(), vpc_id: Some(vpc.clone()), routes, associations, ..Default::default() });
    }
    let mut nacl_2_subnets = Vec::new();
    for (subnet, _) in SUBNETS {
        if rng.chance(40) {
            nacl_2_subnets.push(NetworkAclAssociation { subnet_id: Some(subnet.to_string()), ..Default::default() });
        }
    }
    ec2.network_acls.push(NetworkAcl {
        network_acl_id: "acl-default".into(),
        vpc_id: Some(vpc.clone()),
        is_default: true,
        entries: nacl_entries(&mut rng),
        ..Default::default()
    });
    ec2.network_acls.push(NetworkAcl {
        network_acl_id: "acl-2".into(),
        vpc_id: Some(vpc.clone()),
        entries: nacl_entries(&mut rng),
        associations: nacl_2_subnets,
        ..Default::default()
    });
    ec2.managed_prefix_lists.push(ManagedPrefixList {
        prefix_list_id: "pl-1".into(),
        entries: (0..1 + rng.below(2)).map(|_| PrefixListEntry { cidr: rng.pick(BLOCKS).to_string(), description: None }).collect(),
        ..Default::default()
    });
    let group_ids = ["sg-1", "sg-2", "sg-3", "sg-lb"];
    for id in group_ids {
        let mut permissions: Vec<IpPermission> = (0..rng.below(4)).map(|_| permission(&mut rng, &group_ids)).collect();
        if rng.chance(70) {
            // Often admit the load balancer by reference, or the whole web.
            let source = if rng.chance(50) { UserIdGroupPair { group_id: Some("sg-lb".into()), ..Default::default() } } else { UserIdGroupPair::default() };
            let mut wide = IpPermission { ip_protocol: "tcp".into(), from_port: Some(0), to_port: Some(65535), ..Default::default() };
            if source.group_id.is_some() {
                wide.user_id_group_pairs.push(source);
            } else {
                wide.ip_ranges.push(IpRange { cidr_ip: "0.0.0.0/0".into(), description: None });
            }
            permissions.push(wide);
        }
        ec2.security_groups.push(SecurityGroup {
            group_id: id.into(),
            group_name: id.into(),
            vpc_id: Some(vpc.clone()),
            ip_permissions: permissions,
            ..Default::default()
        });
    }
    let instance_count = 1 + rng.below(4);
    for index in 0..instance_count {
        let instance_id = format!("i-{index}");
        let subnet = rng.pick(SUBNETS).0;
        let groups: Vec<GroupIdentifier> =
            (0..1 + rng.below(2)).map(|_| GroupIdentifier { group_id: rng.pick(&group_ids[..3]).to_string(), group_name: None }).collect();
        let running = rng.chance(85);
        ec2.instances.push(Instance {
            instance_id: instance_id.clone(),
            state: InstanceState { name: if running { "running".into() } else { "stopped".into() }, code: None },
            subnet_id: Some(subnet.into()),
            vpc_id: Some(vpc.clone()),
            ..Default::default()
        });
        ec2.network_interfaces.push(NetworkInterface {
            network_interface_id: format!("eni-{index}"),
            subnet_id: Some(subnet.into()),
            vpc_id: Some(vpc.clone()),
            private_ip_address: Some(format!("10.0.{}.{}", subnet.trim_start_matches("subnet-"), 20 + index)),
            association: rng.chance(70).then(|| NetworkInterfaceAssociation { public_ip: Some(format!("54.0.0.{index}")), ..Default::default() }),
            attachment: Some(NetworkInterfaceAttachment { instance_id: Some(instance_id), device_index: Some(0), ..Default::default() }),
            groups,
            ..Default::default()
        });
    }
    let mut regional = RegionalInventory::default();
    if rng.chance(60) {
        let network = rng.chance(40);
        let arn = format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/{}/front/1", if network { "net" } else { "app" });
        let subnets: Vec<String> = SUBNETS.iter().filter(|_| rng.chance(60)).map(|(id, _)| id.to_string()).collect();
        let description = format!("ELB {}", arn.split_once(":loadbalancer/").unwrap().1);
        for (index, subnet) in subnets.iter().enumerate() {
            if rng.chance(50) {
                ec2.network_interfaces.push(NetworkInterface {
                    network_interface_id: format!("eni-lb-{index}"),
                    subnet_id: Some(subnet.clone()),
                    vpc_id: Some(vpc.clone()),
                    description: Some(description.clone()),
                    private_ip_address: Some(format!("10.0.{}.{}", subnet.trim_start_matches("subnet-"), 5 + index)),
                    ..Default::default()
                });
            }
        }
        let listeners = (0..1 + rng.below(2))
            .map(|index| Listener {
                listener_arn: format!("{arn}/listener/{index}"),
                port: Some(*rng.pick(&[22, 80, 443])),
                protocol: Some(rng.pick(&["TCP", "HTTP", "UDP"]).to_string()),
                default_actions: vec![ListenerAction { r#type: "forward".into(), target_group_arns: vec!["tg-1".into()], redirect_protocol: None }],
                ..Default::default()
            })
            .collect();
        let mut targets = Vec::new();
        for index in 0..instance_count {
            if rng.chance(60) {
                let port = rng.chance(30).then(|| *rng.pick(&[22, 80, 8080]));
                targets.push(TargetDescription { id: format!("i-{index}"), port, ..Default::default() });
            }
        }
        regional.target_groups.push(TargetGroup {
            target_group_arn: "tg-1".into(),
            target_group_name: "tg".into(),
            port: Some(*rng.pick(&[22, 80, 8080])),
            target_type: Some("instance".into()),
            targets,
            ..Default::default()
        });
        regional.load_balancers.push(LoadBalancer {
            load_balancer_arn: arn,
            load_balancer_name: "front".into(),
            scheme: Some("internet-facing".into()),
            r#type: Some(if network { "network" } else { "application" }.into()),
            vpc_id: Some(vpc.clone()),
            subnet_ids: subnets,
            security_groups: if network && rng.chance(50) { Vec::new() } else { vec!["sg-lb".into()] },
            listeners,
            ..Default::default()
        });
    }
    regional.ec2 = ec2;
    let account =
        AccountInfo { account_id: "123456789012".parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    let mut inventory = Inventory::new(account, vec!["us-east-1".into()], chrono::Utc::now());
    inventory.regional.insert("us-east-1".into(), regional);
    inventory
}

fn random_packet(rng: &mut Rng) -> SimPacket {
    let source: &&str = rng.pick(SOURCES);
    let source = ip(source);
    match rng.below(6) {
        0 | 1 => SimPacket { protocol: 6, port: *rng.pick(PORTS) as u16, icmp: (0, 0), source },
        2 => SimPacket { protocol: 6, port: *rng.pick(&[22u16, 80, 443]), icmp: (0, 0), source },
        3 => SimPacket { protocol: 17, port: *rng.pick(PORTS) as u16, icmp: (0, 0), source },
        4 => SimPacket { protocol: 1, port: 0, icmp: (*rng.pick(&[0u8, 8, 3]), *rng.pick(&[0u8, 1])), source },
        _ => SimPacket { protocol: 47, port: 0, icmp: (0, 0), source },
    }
}

/// What the engine says the packet reaches.
fn engine(network: &Network<'_>, packet: SimPacket) -> BTreeSet<(String, String)> {
    let (slot, value) = match packet.protocol {
        6 => (Slot::Tcp, packet.port),
        17 => (Slot::Udp, packet.port),
        1 => (Slot::Icmp, (u16::from(packet.icmp.0) << 8) | u16::from(packet.icmp.1)),
        other => (Slot::Other, u16::from(other)),
    };
    network
        .exposures()
        .into_iter()
        .filter(|exposure| exposure.family == Family::V4 && exposure.reach.contains(slot, value, u128::from(packet.source)))
        .map(|exposure| (exposure.resource_id.clone(), exposure.via.clone().unwrap_or_else(|| "direct".to_string())))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_naive_simulator(seed in any::<u64>()) {
        let inventory = topology(seed);
        let network = Network::new(&inventory);
        let mut rng = Rng(seed.rotate_left(17) | 1);
        let mut memo = Memo::new();
        for _ in 0..30 {
            let packet = random_packet(&mut rng);
            let expected = simulate(&mut memo, &inventory, packet);
            let actual = engine(&network, packet);
            prop_assert_eq!(&actual, &expected, "packet {:?} from {}", packet, Ipv4Addr::from(packet.source));
            // The explanation of each reached resource agrees with the set.
            for (resource, via) in &expected {
                let (slot, port) = match packet.protocol { 6 => (Slot::Tcp, packet.port), 17 => (Slot::Udp, packet.port), 1 => (Slot::Icmp, u16::from(packet.icmp.0)), _ => continue };
                if packet.protocol == 1 { continue; }
                let question = vigil_net::Question { resource: resource.clone(), slot, port, source: vigil_net::parse_source(&Ipv4Addr::from(packet.source).to_string()) };
                let answer = network.explain(&question).unwrap();
                let endpoint = answer.endpoints.iter().find(|endpoint| &endpoint.via == via && endpoint.reachable);
                prop_assert!(endpoint.is_some(), "explain disagrees for {resource} via {via}: {:?}", answer.endpoints);
                prop_assert!(endpoint.unwrap().path.iter().all(|hop| hop.allowed), "{:?}", endpoint.unwrap().path);
            }
        }
    }
}

#[test]
fn explain_names_the_first_blocking_hop_for_unreached_packets() {
    let mut checked = 0;
    for seed in 1..200u64 {
        let inventory = topology(seed);
        let network = Network::new(&inventory);
        let mut memo = Memo::new();
        for instance in &inventory.regional.values().next().unwrap().ec2.instances {
            for port in [22u16, 80, 1024] {
                let source = vigil_net::parse_source("203.0.113.7");
                let answer = network.explain(&vigil_net::Question { resource: instance.instance_id.clone(), slot: Slot::Tcp, port, source }).unwrap();
                let expected = simulate(&mut memo, &inventory, SimPacket { protocol: 6, port, icmp: (0, 0), source: ip("203.0.113.7") });
                assert_eq!(answer.reachable, expected.iter().any(|(resource, _)| resource == &instance.instance_id), "seed {seed}");
                for endpoint in &answer.endpoints {
                    let blocked: Vec<_> = endpoint.path.iter().filter(|hop| !hop.allowed).collect();
                    if endpoint.reachable {
                        assert!(blocked.is_empty());
                    } else {
                        assert_eq!(blocked.len(), 1, "{:?}", endpoint.path);
                        assert_eq!(endpoint.path.last(), endpoint.blocked_by.as_ref());
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 50);
}

#[test]
fn random_topologies_exercise_direct_and_balanced_exposure() {
    let (mut direct, mut behind, mut blocked) = (0, 0, 0);
    for seed in 1..150u64 {
        let inventory = topology(seed);
        let mut rng = Rng(seed.rotate_left(17) | 1);
        let mut memo = Memo::new();
        for _ in 0..20 {
            let reached = simulate(&mut memo, &inventory, random_packet(&mut rng));
            direct += reached.iter().filter(|(_, via)| via == "direct").count();
            behind += reached.iter().filter(|(_, via)| via != "direct").count();
            blocked += usize::from(reached.is_empty());
        }
    }
    assert!(direct > 100 && behind > 20 && blocked > 100, "direct {direct}, behind {behind}, blocked {blocked}");
}
