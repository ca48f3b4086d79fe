//! Benchmark: the full exposure map and single explanations over a synthetic account of
//! 100,000 network interfaces, 10,000 security groups (1% with 300 rules and group
//! references), 1,000 subnets each with its own route table and network ACL, and 200
//! internet-facing load balancers. Run: `cargo bench -p vigil-net --bench exposure`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use vigil_model::ec2::*;
use vigil_model::elb::{Listener, ListenerAction, LoadBalancer, TargetDescription, TargetGroup};
use vigil_model::inventory::AccountInfo;
use vigil_model::{Inventory, RegionalInventory};
use vigil_net::{Network, Question, Slot};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

const VPCS: u64 = 10;
const SUBNETS_PER_VPC: u64 = 100;
const GROUPS_PER_VPC: u64 = 1_000;
const INTERFACES: u64 = 100_000;
const BALANCERS: u64 = 200;

fn random_cidr(rng: &mut Rng) -> String {
    let length = [0, 8, 12, 16, 20, 24, 28, 32][rng.below(8) as usize];
    let address = rng.next() as u32;
    let mask = if length == 0 { 0 } else { u32::MAX << (32 - length) };
    format!("{}/{length}", std::net::Ipv4Addr::from(address & mask))
}

fn tcp(from: i32, to: i32, cidr: String) -> IpPermission {
    IpPermission {
        ip_protocol: "tcp".into(),
        from_port: Some(from),
        to_port: Some(to),
        ip_ranges: vec![IpRange { cidr_ip: cidr, description: None }],
        ..Default::default()
    }
}

fn generate() -> Inventory {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ec2 = Ec2::default();
    let mut regional = RegionalInventory::default();
    for vpc_index in 0..VPCS {
        let vpc = format!("vpc-{vpc_index}");
        let igw = format!("igw-{vpc_index}");
        ec2.vpcs.push(Vpc { vpc_id: vpc.clone(), cidr_block: Some(format!("10.{vpc_index}.0.0/16")), ..Default::default() });
        ec2.internet_gateways.push(InternetGateway {
            internet_gateway_id: igw.clone(),
            attachments: vec![GatewayAttachment { vpc_id: vpc.clone(), state: Some("available".into()) }],
            ..Default::default()
        });
        for subnet_index in 0..SUBNETS_PER_VPC {
            let subnet = format!("subnet-{vpc_index}-{subnet_index}");
            ec2.subnets.push(Subnet {
                subnet_id: subnet.clone(),
                vpc_id: vpc.clone(),
                cidr_block: Some(format!("10.{vpc_index}.{subnet_index}.0/24")),
                ..Default::default()
            });
            let mut routes =
                vec![Route { destination_cidr_block: Some(format!("10.{vpc_index}.0.0/16")), gateway_id: Some("local".into()), ..Default::default() }];
            let default_route = if rng.below(5) == 0 {
                Route { destination_cidr_block: Some("0.0.0.0/0".into()), nat_gateway_id: Some("nat-1".into()), ..Default::default() }
            } else {
                Route { destination_cidr_block: Some("0.0.0.0/0".into()), gateway_id: Some(igw.clone()), ..Default::default() }
            };
            routes.push(default_route);
            for _ in 0..rng.below(4) {
                routes.push(Route {
                    destination_cidr_block: Some(random_cidr(&mut rng)),
                    vpc_peering_connection_id: Some("pcx-1".into()),
                    ..Default::default()
                });
            }
            ec2.route_tables.push(RouteTable {
                route_table_id: format!("rtb-{vpc_index}-{subnet_index}"),
                vpc_id: Some(vpc.clone()),
                routes,
                associations: vec![RouteTableAssociation { subnet_id: Some(subnet.clone()), ..Default::default() }],
                ..Default::default()
            });
            let mut entries = Vec::new();
            for egress in [false, true] {
                for rule in 0..(5 + rng.below(15)) {
                    let from = rng.below(65536) as i32;
                    entries.push(NetworkAclEntry {
                        rule_number: 10 + rule as i32,
                        protocol: "6".into(),
                        rule_action: if rng.below(3) == 0 { "allow".into() } else { "deny".into() },
                        egress,
                        cidr_block: Some(random_cidr(&mut rng)),
                        port_range: Some(PortRange { from: Some(from), to: Some((from + rng.below(2000) as i32).min(65535)) }),
                        ..Default::default()
                    });
                }
                entries.push(NetworkAclEntry {
                    rule_number: 100,
                    protocol: "-1".into(),
                    rule_action: "allow".into(),
                    egress,
                    cidr_block: Some("0.0.0.0/0".into()),
                    ..Default::default()
                });
            }
            ec2.network_acls.push(NetworkAcl {
                network_acl_id: format!("acl-{vpc_index}-{subnet_index}"),
                vpc_id: Some(vpc.clone()),
                entries,
                associations: vec![NetworkAclAssociation { subnet_id: Some(subnet.clone()), ..Default::default() }],
                ..Default::default()
            });
        }
        for group_index in 0..GROUPS_PER_VPC {
            let big = rng.below(100) == 0;
            let rules = if big { 300 } else { 1 + rng.below(10) };
            let mut permissions = Vec::new();
            for _ in 0..rules {
                let from = [22, 80, 443, 3306, 5432, 8000, 0][rng.below(7) as usize];
                let to = if from == 0 { 65535 } else { from + rng.below(100) as i32 };
                let mut permission = tcp(from, to, random_cidr(&mut rng));
                if rng.below(4) == 0 {
                    permission
                        .user_id_group_pairs
                        .push(UserIdGroupPair { group_id: Some(format!("sg-{vpc_index}-{}", rng.below(GROUPS_PER_VPC))), ..Default::default() });
                }
                permissions.push(permission);
            }
            ec2.security_groups.push(SecurityGroup {
                group_id: format!("sg-{vpc_index}-{group_index}"),
                group_name: format!("group-{group_index}"),
                vpc_id: Some(vpc.clone()),
                ip_permissions: permissions,
                ..Default::default()
            });
        }
    }
    for index in 0..INTERFACES {
        let vpc_index = rng.below(VPCS);
        let subnet_index = rng.below(SUBNETS_PER_VPC);
        let groups =
            (0..1 + rng.below(3)).map(|_| GroupIdentifier { group_id: format!("sg-{vpc_index}-{}", rng.below(GROUPS_PER_VPC)), group_name: None }).collect();
        let public = rng.below(10) < 6;
        ec2.network_interfaces.push(NetworkInterface {
            network_interface_id: format!("eni-{index}"),
            subnet_id: Some(format!("subnet-{vpc_index}-{subnet_index}")),
            vpc_id: Some(format!("vpc-{vpc_index}")),
            private_ip_address: Some(format!("10.{vpc_index}.{subnet_index}.{}", index % 250 + 4)),
            association: public.then(|| NetworkInterfaceAssociation {
                public_ip: Some(format!("{}", std::net::Ipv4Addr::from(0x3400_0000u32 + index as u32))),
                ..Default::default()
            }),
            attachment: Some(NetworkInterfaceAttachment { instance_id: Some(format!("i-{index}")), device_index: Some(0), ..Default::default() }),
            groups,
            ..Default::default()
        });
    }
    for index in 0..BALANCERS {
        let vpc_index = index % VPCS;
        let arn = format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/lb-{index}/1");
        let group_arn = format!("tg-{index}");
        regional.load_balancers.push(LoadBalancer {
            load_balancer_arn: arn.clone(),
            load_balancer_name: format!("lb-{index}"),
            scheme: Some("internet-facing".into()),
            r#type: Some("application".into()),
            vpc_id: Some(format!("vpc-{vpc_index}")),
            subnet_ids: (0..2).map(|_| format!("subnet-{vpc_index}-{}", rng.below(SUBNETS_PER_VPC))).collect(),
            security_groups: vec![format!("sg-{vpc_index}-{}", rng.below(GROUPS_PER_VPC))],
            listeners: [80, 443]
                .iter()
                .map(|port| Listener {
                    listener_arn: format!("{arn}/listener/{port}"),
                    port: Some(*port),
                    protocol: Some("HTTP".into()),
                    default_actions: vec![ListenerAction { r#type: "forward".into(), target_group_arns: vec![group_arn.clone()], redirect_protocol: None }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        regional.target_groups.push(TargetGroup {
            target_group_arn: group_arn,
            target_group_name: format!("tg-{index}"),
            port: Some(8080),
            target_type: Some("instance".into()),
            targets: (0..10).map(|_| TargetDescription { id: format!("i-{}", rng.below(INTERFACES)), ..Default::default() }).collect(),
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

fn main() {
    let started = Instant::now();
    let inventory = generate();
    println!("generated the synthetic account in {:.2?}", started.elapsed());

    let started = Instant::now();
    let cpu_started = vigil_benchkit::cpu_seconds();
    let network = Network::new(&inventory);
    let indexed = started.elapsed();
    let exposures = network.exposures();
    let mapped = started.elapsed();
    let cpu_mapped = vigil_benchkit::cpu_seconds() - cpu_started;
    let rows: usize = exposures.iter().map(|exposure| exposure.entries().len()).sum();
    let with_rows = started.elapsed();
    println!(
        "index {indexed:.2?}; full exposure map (index included) {mapped:.2?} wall, {cpu_mapped:.2} s CPU ({} exposed endpoints); with rows {with_rows:.2?} ({rows} rows)",
        exposures.len()
    );

    let mut rng = Rng(7);
    let count = 200;
    let started = Instant::now();
    let mut reachable = 0;
    for _ in 0..count {
        let question = Question { resource: format!("i-{}", rng.below(INTERFACES)), slot: Slot::Tcp, port: 22, source: None };
        reachable += usize::from(network.explain(&question).unwrap().reachable);
    }
    let per_explain = started.elapsed() / count;
    println!("explain: {per_explain:.2?} per question (mean of {count} on the indexed account; {reachable} reachable)");
}
