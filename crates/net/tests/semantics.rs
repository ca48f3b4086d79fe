//! One case per AWS rule the engine models: a small open topology (public instance, internet
//! gateway route, open ACL, SSH open to the world), one change, one packet, the expected
//! verdict and, when blocked, the hop `explain` must name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use vigil_model::ec2::*;
use vigil_model::inventory::AccountInfo;
use vigil_model::{Inventory, RegionalInventory};
use vigil_net::{Network, Question, Slot, parse_source};

fn allow_all(egress: bool) -> NetworkAclEntry {
    NetworkAclEntry { rule_number: 100, protocol: "-1".into(), rule_action: "allow".into(), egress, cidr_block: Some("0.0.0.0/0".into()), ..Default::default() }
}

fn tcp_rule(number: i32, egress: bool, allow: bool, from: i32, to: i32, cidr: &str) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number: number,
        protocol: "6".into(),
        rule_action: if allow { "allow" } else { "deny" }.into(),
        egress,
        cidr_block: Some(cidr.into()),
        port_range: Some(PortRange { from: Some(from), to: Some(to) }),
        ..Default::default()
    }
}

fn permission(protocol: &str, from: i32, to: i32, cidr: &str) -> IpPermission {
    IpPermission {
        ip_protocol: protocol.into(),
        from_port: Some(from),
        to_port: Some(to),
        ip_ranges: vec![IpRange { cidr_ip: cidr.into(), description: None }],
        ..Default::default()
    }
}

fn base() -> RegionalInventory {
    let mut ec2 = Ec2::default();
    ec2.vpcs.push(Vpc { vpc_id: "vpc-1".into(), cidr_block: Some("10.0.0.0/16".into()), ..Default::default() });
    ec2.internet_gateways.push(InternetGateway {
        internet_gateway_id: "igw-1".into(),
        attachments: vec![GatewayAttachment { vpc_id: "vpc-1".into(), state: Some("available".into()) }],
        ..Default::default()
    });
    ec2.subnets.push(Subnet { subnet_id: "subnet-1".into(), vpc_id: "vpc-1".into(), cidr_block: Some("10.0.1.0/24".into()), ..Default::default() });
    ec2.route_tables.push(RouteTable {
        route_table_id: "rtb-main".into(),
        vpc_id: Some("vpc-1".into()),
        routes: vec![Route { destination_cidr_block: Some("10.0.0.0/16".into()), gateway_id: Some("local".into()), ..Default::default() }],
        associations: vec![RouteTableAssociation { main: true, ..Default::default() }],
        ..Default::default()
    });
    ec2.route_tables.push(RouteTable {
        route_table_id: "rtb-public".into(),
        vpc_id: Some("vpc-1".into()),
        routes: vec![
            Route { destination_cidr_block: Some("10.0.0.0/16".into()), gateway_id: Some("local".into()), ..Default::default() },
            Route { destination_cidr_block: Some("0.0.0.0/0".into()), gateway_id: Some("igw-1".into()), ..Default::default() },
        ],
        associations: vec![RouteTableAssociation { subnet_id: Some("subnet-1".into()), ..Default::default() }],
        ..Default::default()
    });
    ec2.network_acls.push(NetworkAcl {
        network_acl_id: "acl-1".into(),
        vpc_id: Some("vpc-1".into()),
        is_default: true,
        entries: vec![allow_all(false), allow_all(true)],
        ..Default::default()
    });
    ec2.security_groups.push(SecurityGroup {
        group_id: "sg-ssh".into(),
        group_name: "ssh".into(),
        ip_permissions: vec![permission("tcp", 22, 22, "0.0.0.0/0")],
        ..Default::default()
    });
    ec2.security_groups.push(SecurityGroup {
        group_id: "sg-web".into(),
        group_name: "web".into(),
        ip_permissions: vec![permission("tcp", 80, 80, "0.0.0.0/0")],
        ..Default::default()
    });
    ec2.instances.push(Instance { instance_id: "i-1".into(), state: InstanceState { name: "running".into(), code: None }, ..Default::default() });
    ec2.network_interfaces.push(NetworkInterface {
        network_interface_id: "eni-1".into(),
        subnet_id: Some("subnet-1".into()),
        vpc_id: Some("vpc-1".into()),
        private_ip_address: Some("10.0.1.10".into()),
        association: Some(NetworkInterfaceAssociation { public_ip: Some("54.0.0.1".into()), ..Default::default() }),
        attachment: Some(NetworkInterfaceAttachment { instance_id: Some("i-1".into()), device_index: Some(0), ..Default::default() }),
        groups: vec![GroupIdentifier { group_id: "sg-ssh".into(), group_name: None }],
        ..Default::default()
    });
    RegionalInventory { ec2, ..Default::default() }
}

fn inventory(regional: RegionalInventory) -> Inventory {
    let account =
        AccountInfo { account_id: "123456789012".parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    let mut inventory = Inventory::new(account, vec!["us-east-1".into()], chrono::Utc::now());
    inventory.regional.insert("us-east-1".into(), regional);
    inventory
}

/// Applies `change` to the open topology and asks whether `source` reaches i-1 on `protocol`/`port`.
fn check(name: &str, change: fn(&mut Ec2), protocol: &str, port: u16, source: &str, expected: Result<(), &str>) {
    let mut regional = base();
    change(&mut regional.ec2);
    let inventory = inventory(regional);
    let network = Network::new(&inventory);
    let (slot, number) = vigil_net::parse_protocol(protocol).unwrap();
    let question = Question { resource: "i-1".into(), slot, port: number.unwrap_or(port), source: parse_source(source) };
    let answer = network.explain(&question).unwrap();
    match expected {
        Ok(()) => assert!(answer.reachable, "{name}: expected reachable: {:#?}", answer.endpoints),
        Err(kind) => {
            assert!(!answer.reachable, "{name}: expected blocked at {kind}: {:#?}", answer.endpoints);
            let blocked = answer.endpoints[0].blocked_by.as_ref().unwrap();
            assert_eq!(blocked.kind, kind, "{name}: {:#?}", answer.endpoints[0].path);
        }
    }
    // The exposure map agrees with the answer.
    let listed = network.exposures().iter().any(|exposure| {
        exposure.resource_id == "i-1" && {
            let target = parse_source(source).unwrap();
            let values = if slot == Slot::Icmp { (port << 8)..=((port << 8) | 0xFF) } else { number.unwrap_or(port)..=number.unwrap_or(port) };
            values.into_iter().any(|value| exposure.family == target.family && exposure.reach.contains(slot, value, target.first))
        }
    });
    assert_eq!(listed, expected.is_ok(), "{name}: the exposure map disagrees");
}

#[test]
fn each_aws_rule_decides_as_documented() {
    let ok = Ok(());
    check("open path", |_| {}, "tcp", 22, "203.0.113.7", ok);
    check("port not admitted by any group", |_| {}, "tcp", 3389, "203.0.113.7", Err("security-group"));
    check("no public address", |ec2| ec2.network_interfaces[0].association = None, "tcp", 22, "203.0.113.7", Err("address"));
    check(
        "elastic IP from DescribeAddresses",
        |ec2| {
            ec2.network_interfaces[0].association = None;
            ec2.addresses.push(Address { public_ip: Some("3.3.3.3".into()), network_interface_id: Some("eni-1".into()), ..Default::default() });
        },
        "tcp",
        22,
        "203.0.113.7",
        ok,
    );
    check("stopped instance", |ec2| ec2.instances[0].state.name = "stopped".into(), "tcp", 22, "203.0.113.7", Err("address"));
    check("gateway detached", |ec2| ec2.internet_gateways[0].attachments.clear(), "tcp", 22, "203.0.113.7", Err("internet-gateway"));
    check(
        "subnet falls back to the main table without a gateway route",
        |ec2| ec2.route_tables[1].associations.clear(),
        "tcp",
        22,
        "203.0.113.7",
        Err("route-table"),
    );
    check("blackhole default route", |ec2| ec2.route_tables[1].routes[1].state = Some("blackhole".into()), "tcp", 22, "203.0.113.7", Err("route-table"));
    check(
        "a more specific route sends the reply to a NAT gateway",
        |ec2| {
            ec2.route_tables[1].routes.push(Route {
                destination_cidr_block: Some("203.0.113.0/24".into()),
                nat_gateway_id: Some("nat-1".into()),
                ..Default::default()
            });
        },
        "tcp",
        22,
        "203.0.113.7",
        Err("route-table"),
    );
    check(
        "a more specific route elsewhere does not matter",
        |ec2| {
            ec2.route_tables[1].routes.push(Route {
                destination_cidr_block: Some("198.51.100.0/24".into()),
                nat_gateway_id: Some("nat-1".into()),
                ..Default::default()
            });
        },
        "tcp",
        22,
        "203.0.113.7",
        ok,
    );
    check("sources inside the VPC reply through the local route", |_| {}, "tcp", 22, "10.0.5.5", Err("route-table"));
    check(
        "ACL deny before the allow wins",
        |ec2| ec2.network_acls[0].entries.push(tcp_rule(50, false, false, 22, 22, "0.0.0.0/0")),
        "tcp",
        22,
        "203.0.113.7",
        Err("nacl-inbound"),
    );
    check(
        "ACL deny after the allow is never reached",
        |ec2| ec2.network_acls[0].entries.push(tcp_rule(150, false, false, 22, 22, "0.0.0.0/0")),
        "tcp",
        22,
        "203.0.113.7",
        ok,
    );
    check("ACL default deny", |ec2| ec2.network_acls[0].entries.retain(|entry| entry.egress), "tcp", 22, "203.0.113.7", Err("nacl-inbound"));
    check(
        "ACL egress without ephemeral ports drops the reply",
        |ec2| {
            ec2.network_acls[0].entries.retain(|entry| !entry.egress);
            ec2.network_acls[0].entries.push(tcp_rule(100, true, true, 80, 80, "0.0.0.0/0"));
        },
        "tcp",
        22,
        "203.0.113.7",
        Err("nacl-outbound"),
    );
    check(
        "one ephemeral port is enough (the client picks its port)",
        |ec2| {
            ec2.network_acls[0].entries.retain(|entry| !entry.egress);
            ec2.network_acls[0].entries.push(tcp_rule(100, true, true, 65000, 65000, "0.0.0.0/0"));
        },
        "tcp",
        22,
        "203.0.113.7",
        ok,
    );
    check(
        "egress to other clients only",
        |ec2| {
            ec2.network_acls[0].entries.retain(|entry| !entry.egress);
            ec2.network_acls[0].entries.push(tcp_rule(100, true, true, 1024, 65535, "198.51.100.0/24"));
        },
        "tcp",
        22,
        "203.0.113.7",
        Err("nacl-outbound"),
    );
    check(
        "an associated ACL replaces the default one",
        |ec2| {
            ec2.network_acls.push(NetworkAcl {
                network_acl_id: "acl-2".into(),
                vpc_id: Some("vpc-1".into()),
                associations: vec![NetworkAclAssociation { subnet_id: Some("subnet-1".into()), ..Default::default() }],
                ..Default::default()
            });
        },
        "tcp",
        22,
        "203.0.113.7",
        Err("nacl-inbound"),
    );
    check(
        "group reference admits members, not the internet",
        |ec2| {
            ec2.security_groups[0].ip_permissions = vec![IpPermission {
                ip_protocol: "tcp".into(),
                from_port: Some(22),
                to_port: Some(22),
                user_id_group_pairs: vec![UserIdGroupPair { group_id: Some("sg-web".into()), ..Default::default() }],
                ..Default::default()
            }];
        },
        "tcp",
        22,
        "203.0.113.7",
        Err("security-group"),
    );
    check(
        "prefix list entries are resolved",
        |ec2| {
            ec2.security_groups[0].ip_permissions = vec![IpPermission {
                ip_protocol: "tcp".into(),
                from_port: Some(22),
                to_port: Some(22),
                prefix_list_ids: vec![PrefixListId { prefix_list_id: "pl-1".into(), description: None }],
                ..Default::default()
            }];
            ec2.managed_prefix_lists.push(ManagedPrefixList {
                prefix_list_id: "pl-1".into(),
                entries: vec![PrefixListEntry { cidr: "203.0.113.0/24".into(), description: None }],
                ..Default::default()
            });
        },
        "tcp",
        22,
        "203.0.113.7",
        ok,
    );
    check(
        "groups are a union",
        |ec2| ec2.network_interfaces[0].groups.push(GroupIdentifier { group_id: "sg-web".into(), group_name: None }),
        "tcp",
        80,
        "203.0.113.7",
        ok,
    );
    check(
        "protocol -1 admits everything",
        |ec2| ec2.security_groups[0].ip_permissions = vec![permission("-1", -1, -1, "0.0.0.0/0")],
        "udp",
        53,
        "203.0.113.7",
        ok,
    );
    check("tcp rule does not admit udp", |_| {}, "udp", 22, "203.0.113.7", Err("security-group"));
    check(
        "ICMP echo request admitted by type",
        |ec2| ec2.security_groups[0].ip_permissions = vec![permission("icmp", 8, -1, "0.0.0.0/0")],
        "icmp",
        8,
        "203.0.113.7",
        ok,
    );
    check(
        "ICMP other types are not",
        |ec2| ec2.security_groups[0].ip_permissions = vec![permission("icmp", 8, -1, "0.0.0.0/0")],
        "icmp",
        3,
        "203.0.113.7",
        Err("security-group"),
    );
    check(
        "IPv6 through the internet gateway",
        |ec2| {
            ec2.network_interfaces[0].ipv6_addresses = vec!["2001:db8:1::10".into()];
            ec2.route_tables[1].routes.push(Route { destination_ipv6_cidr_block: Some("::/0".into()), gateway_id: Some("igw-1".into()), ..Default::default() });
            ec2.network_acls[0].entries.push(NetworkAclEntry {
                rule_number: 101,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                ipv6_cidr_block: Some("::/0".into()),
                ..Default::default()
            });
            ec2.network_acls[0].entries.push(NetworkAclEntry {
                rule_number: 101,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                egress: true,
                ipv6_cidr_block: Some("::/0".into()),
                ..Default::default()
            });
            ec2.security_groups[0].ip_permissions[0].ipv6_ranges.push(Ipv6Range { cidr_ipv6: "::/0".into(), description: None });
        },
        "tcp",
        22,
        "2001:db8:ffff::1",
        ok,
    );
    check(
        "IPv6 through an egress-only gateway is never inbound",
        |ec2| {
            ec2.network_interfaces[0].ipv6_addresses = vec!["2001:db8:1::10".into()];
            ec2.route_tables[1].routes.push(Route {
                destination_ipv6_cidr_block: Some("::/0".into()),
                egress_only_internet_gateway_id: Some("eigw-1".into()),
                ..Default::default()
            });
            ec2.network_acls[0].entries.push(NetworkAclEntry {
                rule_number: 101,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                ipv6_cidr_block: Some("::/0".into()),
                ..Default::default()
            });
            ec2.network_acls[0].entries.push(NetworkAclEntry {
                rule_number: 101,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                egress: true,
                ipv6_cidr_block: Some("::/0".into()),
                ..Default::default()
            });
            ec2.security_groups[0].ip_permissions[0].ipv6_ranges.push(Ipv6Range { cidr_ipv6: "::/0".into(), description: None });
        },
        "tcp",
        22,
        "2001:db8:ffff::1",
        Err("route-table"),
    );
}

#[test]
fn exposure_rows_group_ports_and_print_exact_sources() {
    let mut regional = base();
    regional.ec2.security_groups[0].ip_permissions = vec![permission("tcp", 22, 22, "203.0.113.0/24"), permission("tcp", 443, 443, "0.0.0.0/0")];
    let inventory = inventory(regional);
    let network = Network::new(&inventory);
    let exposures = network.exposures();
    assert_eq!(exposures.len(), 1);
    let rows = exposures[0].entries();
    let summary: Vec<(&str, Vec<[u16; 2]>, usize)> = rows.iter().map(|row| (row.protocol, row.ports.clone(), row.sources.len())).collect();
    // Rows read like rules: 22 from 203.0.113.0/24, 443 from everyone. The VPC's own block
    // (10.0.0.0/16) cannot be an internet source, so "everyone" prints as 0.0.0.0/0.
    assert_eq!(summary, vec![("tcp", vec![[22, 22]], 1), ("tcp", vec![[443, 443]], 1)]);
    assert_eq!(rows[0].sources, vec!["203.0.113.0/24"]);
    assert_eq!(rows[1].sources, vec!["0.0.0.0/0"]);
    let path = network.path(&exposures[0], &rows[0]);
    let kinds: Vec<&str> = path.iter().map(|hop| hop.kind).collect();
    assert_eq!(kinds, ["address", "internet-gateway", "route-table", "nacl-inbound", "nacl-outbound", "security-group", "instance"]);
    assert!(path.iter().all(|hop| hop.allowed));
}
