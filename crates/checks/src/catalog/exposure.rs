//! Exposure checks built on the reachability engine (`vigil-net`): administrative and data
//! ports of instances, and databases, that the internet can actually reach (public address,
//! internet gateway route back to the source, network ACLs both ways, security groups, or a
//! load balancer in front), rather than security group rules read in isolation.

use std::collections::HashMap;

use serde_json::json;
use vigil_net::access::ValueSet;
use vigil_net::addr::to_cidrs;
use vigil_net::{Exposure, Network, Slot};

use super::FnCheck;
use super::support::regional;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// Ports that must never be reachable from the internet: remote administration, databases,
/// caches, search engines, container and cluster control planes.
pub const ADMIN_PORTS: &[(u16, &str)] = &[
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (135, "MS RPC"),
    (139, "NetBIOS"),
    (445, "SMB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (2375, "Docker API"),
    (2376, "Docker API (TLS)"),
    (2379, "etcd"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5601, "Kibana"),
    (5900, "VNC"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (6443, "Kubernetes API"),
    (9042, "Cassandra"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch transport"),
    (10250, "kubelet"),
    (11211, "Memcached"),
    (27017, "MongoDB"),
];

/// The network, plus the load balancers that may forward to an instance.
const INSTANCE_READS: &[Read] = &[
    Read::regional("ec2", "DescribeInstances"),
    Read::regional("ec2", "DescribeNetworkInterfaces"),
    Read::regional("ec2", "DescribeAddresses"),
    Read::regional("ec2", "DescribeSecurityGroups"),
    Read::regional("ec2", "DescribeManagedPrefixLists"),
    Read::regional("ec2", "DescribeNetworkAcls"),
    Read::regional("ec2", "DescribeRouteTables"),
    Read::regional("ec2", "DescribeInternetGateways"),
    Read::regional("ec2", "DescribeSubnets"),
    Read::regional("ec2", "DescribeVpcs"),
    Read::regional("elbv2", "DescribeLoadBalancers"),
    Read::regional("elbv2", "DescribeTargetGroups"),
    Read::regional("elb", "DescribeLoadBalancers"),
];

/// The network, plus the databases.
const DATABASE_READS: &[Read] = &[
    Read::regional("rds", "DescribeDBInstances"),
    Read::regional("ec2", "DescribeNetworkInterfaces"),
    Read::regional("ec2", "DescribeSecurityGroups"),
    Read::regional("ec2", "DescribeManagedPrefixLists"),
    Read::regional("ec2", "DescribeNetworkAcls"),
    Read::regional("ec2", "DescribeRouteTables"),
    Read::regional("ec2", "DescribeInternetGateways"),
    Read::regional("ec2", "DescribeSubnets"),
    Read::regional("ec2", "DescribeVpcs"),
];

/// The entries of every managed prefix list of a region: a security group rule may name one,
/// and a list whose entries were not read admits nothing, so verdicts there need them.
fn prefix_list_needs<'a>(context: &Context<'a>, region: &'a str) -> Vec<Needs<'a>> {
    regional(context, region)
        .map(|regional| {
            regional.ec2.managed_prefix_lists.iter().map(|list| Needs::call("ec2", region, "GetManagedPrefixListEntries").on(&list.prefix_list_id)).collect()
        })
        .unwrap_or_default()
}

/// Every exposure, by (region, resource id).
fn exposures_by_resource(network: &Network<'_>) -> HashMap<(String, String), Vec<Exposure>> {
    let mut by_resource: HashMap<(String, String), Vec<Exposure>> = HashMap::new();
    for exposure in network.exposures() {
        by_resource.entry((exposure.region.clone(), exposure.resource_id.clone())).or_default().push(exposure);
    }
    by_resource
}

pub static EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_admin_port_reachable_from_internet",
        title: "No administrative, database or cache port of an instance is reachable from the internet",
        service: "ec2",
        resource_type: "AWS::EC2::Instance",
        severity: Severity::Critical,
        risk: "An SSH, RDP, database or cache port that the internet can actually reach (public address, internet gateway route, network ACLs and security groups all letting it through, or a load balancer forwarding to it) is found and attacked within minutes.",
        remediation: Remediation {
            text: "Close the path at the cheapest hop `vigil reach explain INSTANCE --port N` names: remove the security group rule, restrict it to known ranges, remove the public address, or deny the port in the network ACL; use Session Manager for administration.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --protocol tcp --port 22 --cidr 0.0.0.0/0",
            terraform: "resource \"aws_vpc_security_group_ingress_rule\" \"ssh\" {\n  security_group_id = aws_security_group.admin.id\n  ip_protocol       = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_ipv4         = \"10.0.0.0/8\"\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/vpc/latest/reachability/what-is-reachability-analyzer.html",
            "https://docs.aws.amazon.com/vpc/latest/userguide/infrastructure-security.html",
        ],
        frameworks: &[("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: INSTANCE_READS,
    },
    run: ec2_instance_admin_port_reachable_from_internet,
};

fn ec2_instance_admin_port_reachable_from_internet(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let network = context.network();
    let mut exposures: Option<HashMap<(String, String), Vec<Exposure>>> = None;
    for resource in context.resources().iter().filter(|resource| resource.resource_type == "AWS::EC2::Instance") {
        let subject = context.subject(resource);
        if let Err(unread) = context.require(&prefix_list_needs(context, resource.region)) {
            findings.push(context.unread(metadata, &subject, unread));
            continue;
        }
        let exposures = exposures.get_or_insert_with(|| exposures_by_resource(&network));
        let mine = exposures.get(&(resource.region.to_string(), resource.id.to_string())).map(Vec::as_slice).unwrap_or(&[]);
        let open = reachable_ports(&network, mine, ADMIN_PORTS);
        let message = if open.is_empty() {
            format!("No administrative, database or cache port of instance `{}` is reachable from the internet.", resource.id)
        } else {
            let names: Vec<String> = open.iter().filter_map(|item| Some(format!("{} ({})", item["Service"].as_str()?, item["Port"]))).collect();
            format!("Instance `{}` is reachable from the internet on {}.", resource.id, names.join(", "))
        };
        findings.push(context.verdict(metadata, &subject, open.is_empty(), message, json!({ "ReachablePorts": open })));
    }
}

/// The listed TCP ports some exposure delivers, with sources and the path of one packet.
fn reachable_ports(network: &Network<'_>, exposures: &[Exposure], ports: &[(u16, &str)]) -> Vec<serde_json::Value> {
    let mut open = Vec::new();
    for exposure in exposures {
        for (port, service) in ports {
            let sources = exposure.reach.sources_for(Slot::Tcp, &ValueSet::single(*port));
            let Some(first) = sources.first() else { continue };
            let path = network.path_for(exposure, Slot::Tcp, *port, first);
            open.push(json!({
                "Port": port,
                "Service": service,
                "Address": exposure.address,
                "Via": exposure.via.as_deref().unwrap_or("direct"),
                "Sources": to_cidrs(exposure.family, &sources),
                "Path": path,
            }));
        }
    }
    open
}

pub static RDS_INSTANCE_REACHABLE_FROM_INTERNET: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_reachable_from_internet",
        title: "No RDS database instance is reachable from the internet",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Critical,
        risk: "A publicly accessible database whose subnet routes to an internet gateway, whose network ACLs and security groups let its port through, is exposed to password guessing and to every vulnerability of its engine.",
        remediation: Remediation {
            text: "Turn off public accessibility, move the database to private subnets, or restrict its security group to the application's group.",
            cli: "aws rds modify-db-instance --db-instance-identifier DB_ID --no-publicly-accessible --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"db\" {\n  # ...\n  publicly_accessible = false\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"],
        frameworks: &[("pci-dss-4.0", "1.4.1"), ("nist-800-53-r5", "SC-7")],
        reads: DATABASE_READS,
    },
    run: rds_instance_reachable_from_internet,
};

fn rds_instance_reachable_from_internet(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let network = context.network();
    let mut exposures: Option<HashMap<(String, String), Vec<Exposure>>> = None;
    for resource in context.resources().iter().filter(|resource| resource.resource_type == "AWS::RDS::DBInstance") {
        let subject = context.subject(resource);
        if let Err(unread) = context.require(&prefix_list_needs(context, resource.region)) {
            findings.push(context.unread(metadata, &subject, unread));
            continue;
        }
        let exposures = exposures.get_or_insert_with(|| exposures_by_resource(&network));
        let mine = exposures.get(&(resource.region.to_string(), resource.id.to_string())).map(Vec::as_slice).unwrap_or(&[]);
        let mut reachable = Vec::new();
        for exposure in mine {
            for entry in exposure.entries() {
                let (slot, value, source) = entry.representative();
                reachable.push(json!({
                    "Address": exposure.address,
                    "Protocol": entry.protocol,
                    "Ports": entry.ports,
                    "Sources": entry.sources,
                    "Path": network.path_for(exposure, slot, value, source),
                }));
            }
        }
        let message = if reachable.is_empty() {
            format!("Database `{}` is not reachable from the internet.", resource.id)
        } else {
            format!("Database `{}` is reachable from the internet.", resource.id)
        };
        findings.push(context.verdict(metadata, &subject, reachable.is_empty(), message, json!({ "Reachable": reachable })));
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::Inventory;
    use vigil_model::ec2::*;
    use vigil_model::rds::DbInstance;

    use super::{EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET, RDS_INSTANCE_REACHABLE_FROM_INTERNET};
    use crate::Status;
    use crate::catalog::test_support::{denied, inventory, read_declared, record, run, statuses};

    const REGION: &str = "us-east-1";

    fn world(protocol: &str, from: i32, to: i32) -> IpPermission {
        IpPermission {
            ip_protocol: protocol.into(),
            from_port: Some(from),
            to_port: Some(to),
            ip_ranges: vec![IpRange { cidr_ip: "0.0.0.0/0".into(), description: None }],
            ..Default::default()
        }
    }

    /// A VPC with a public subnet (route to an internet gateway, open ACL) and a private one.
    fn network(inventory: &mut Inventory) {
        let ec2 = &mut inventory.regional.get_mut(&vigil_model::Region::from(REGION)).unwrap().ec2;
        ec2.vpcs.push(Vpc { vpc_id: "vpc-1".into(), cidr_block: Some("10.0.0.0/16".into()), ..Default::default() });
        ec2.internet_gateways.push(InternetGateway {
            internet_gateway_id: "igw-1".into(),
            attachments: vec![GatewayAttachment { vpc_id: "vpc-1".into(), state: Some("available".into()) }],
            ..Default::default()
        });
        for (subnet, block) in [("subnet-public", "10.0.1.0/24"), ("subnet-private", "10.0.2.0/24")] {
            ec2.subnets.push(Subnet { subnet_id: subnet.into(), vpc_id: "vpc-1".into(), cidr_block: Some(block.into()), ..Default::default() });
        }
        let local = Route { destination_cidr_block: Some("10.0.0.0/16".into()), gateway_id: Some("local".into()), ..Default::default() };
        ec2.route_tables.push(RouteTable {
            route_table_id: "rtb-main".into(),
            vpc_id: Some("vpc-1".into()),
            routes: vec![local.clone()],
            associations: vec![RouteTableAssociation { main: true, ..Default::default() }],
            ..Default::default()
        });
        ec2.route_tables.push(RouteTable {
            route_table_id: "rtb-public".into(),
            vpc_id: Some("vpc-1".into()),
            routes: vec![local, Route { destination_cidr_block: Some("0.0.0.0/0".into()), gateway_id: Some("igw-1".into()), ..Default::default() }],
            associations: vec![RouteTableAssociation { subnet_id: Some("subnet-public".into()), ..Default::default() }],
            ..Default::default()
        });
        let allow_all = |egress| NetworkAclEntry {
            rule_number: 100,
            protocol: "-1".into(),
            rule_action: "allow".into(),
            egress,
            cidr_block: Some("0.0.0.0/0".into()),
            ..Default::default()
        };
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
            ip_permissions: vec![world("tcp", 22, 22)],
            ..Default::default()
        });
        ec2.security_groups.push(SecurityGroup {
            group_id: "sg-web".into(),
            group_name: "web".into(),
            ip_permissions: vec![world("tcp", 443, 443)],
            ..Default::default()
        });
        ec2.security_groups.push(SecurityGroup {
            group_id: "sg-pg".into(),
            group_name: "pg".into(),
            ip_permissions: vec![world("tcp", 5432, 5432)],
            ..Default::default()
        });
        read_declared(inventory, &EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET);
        read_declared(inventory, &RDS_INSTANCE_REACHABLE_FROM_INTERNET);
    }

    fn instance(inventory: &mut Inventory, id: &str, subnet: &str, group: &str, public_ip: Option<&str>) {
        let ec2 = &mut inventory.regional.get_mut(&vigil_model::Region::from(REGION)).unwrap().ec2;
        ec2.instances.push(Instance {
            instance_id: id.into(),
            state: InstanceState { name: "running".into(), code: Some(16) },
            subnet_id: Some(subnet.into()),
            vpc_id: Some("vpc-1".into()),
            public_ip_address: public_ip.map(str::to_string),
            security_groups: vec![GroupIdentifier { group_id: group.into(), group_name: None }],
            ..Default::default()
        });
    }

    #[test]
    fn admin_ports_fail_only_when_the_whole_path_is_open() {
        let mut inventory = inventory();
        network(&mut inventory);
        let cases = [
            ("i-open-ssh", "subnet-public", "sg-ssh", Some("54.0.0.1"), Status::Fail),
            ("i-no-public-ip", "subnet-public", "sg-ssh", None, Status::Pass),
            ("i-no-igw-route", "subnet-private", "sg-ssh", Some("54.0.0.2"), Status::Pass),
            ("i-web-only", "subnet-public", "sg-web", Some("54.0.0.3"), Status::Pass),
            ("i-open-postgres", "subnet-public", "sg-pg", Some("54.0.0.4"), Status::Fail),
        ];
        for (id, subnet, group, public_ip, _) in cases {
            instance(&mut inventory, id, subnet, group, public_ip);
        }
        let findings = run(&EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET, &inventory);
        let mut expected: Vec<(String, Status)> = cases.iter().map(|case| (case.0.to_string(), case.4)).collect();
        expected.sort();
        assert_eq!(statuses(&findings), expected);
        let ssh = findings.iter().find(|finding| finding.resource_id == "i-open-ssh").unwrap();
        assert_eq!(ssh.evidence.to_value()["ReachablePorts"][0]["Port"], 22);
        assert_eq!(ssh.evidence.to_value()["ReachablePorts"][0]["Path"][0]["kind"], "address");
    }

    /// Issue 16: the host firewall an instance's agent reports (host facts) joins the check: an
    /// instance whose host drops tcp/22 passes although its security group opens 22.
    #[test]
    fn an_admin_port_the_reported_host_firewall_drops_is_not_reachable() {
        use crate::{Check as _, Context};
        use vigil_net::host_firewall::{Action, Condition, Families, HostChain, HostRule, HostRuleset};
        let mut inventory = inventory();
        network(&mut inventory);
        instance(&mut inventory, "i-open-ssh", "subnet-public", "sg-ssh", Some("54.0.0.1"));
        instance(&mut inventory, "i-open-ssh-unreported", "subnet-public", "sg-ssh", Some("54.0.0.5"));
        let drops_ssh = HostRuleset {
            backend: "nftables".into(),
            chains: vec![HostChain {
                name: "inet filter input".into(),
                families: Families::Both,
                input_hook: Some(0),
                policy_accepts: true,
                rules: vec![HostRule {
                    label: "tcp dport 22 drop".into(),
                    conditions: vec![
                        Condition::Protocols { numbers: vec![6], negated: false },
                        Condition::DestinationPorts { ranges: vec![[22, 22]], negated: false },
                    ],
                    action: Action::Drop,
                }],
            }],
            notes: vec![],
        };
        let facts = vigil_paths::HostFacts::default().with_host_firewalls([("i-open-ssh".to_string(), drops_ssh)]);
        let context = Context::new(&inventory, chrono::Utc::now()).with_host_facts(&facts);
        let mut findings = Vec::new();
        EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET.run(&context, &mut findings);
        assert_eq!(statuses(&findings), [("i-open-ssh".to_string(), Status::Pass), ("i-open-ssh-unreported".to_string(), Status::Fail)]);
        assert_eq!(statuses(&run(&EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET, &inventory))[0], ("i-open-ssh".to_string(), Status::Fail));
    }

    #[test]
    fn an_unread_network_call_gives_error_naming_it() {
        for operation in ["DescribeSecurityGroups", "DescribeNetworkAcls", "DescribeRouteTables"] {
            let mut inventory = inventory();
            network(&mut inventory);
            instance(&mut inventory, "i-1", "subnet-public", "sg-ssh", Some("54.0.0.1"));
            record(&mut inventory, "ec2", REGION, operation, None, denied());
            let findings = run(&EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET, &inventory);
            assert_eq!(findings[0].status, Status::Error, "{operation}");
            assert!(findings[0].message.contains(operation), "{}", findings[0].message);
        }
    }

    #[test]
    fn databases_fail_when_public_and_reachable() {
        let mut inventory = inventory();
        network(&mut inventory);
        let regional = inventory.regional.get_mut(&vigil_model::Region::from(REGION)).unwrap();
        let database = |id: &str, public: bool, subnet: &str| DbInstance {
            db_instance_identifier: id.into(),
            db_instance_arn: format!("arn:aws:rds:us-east-1:123456789012:db:{id}"),
            publicly_accessible: public,
            endpoint_address: Some(format!("{id}.example.rds.amazonaws.com")),
            endpoint_port: Some(5432),
            vpc_id: Some("vpc-1".into()),
            subnet_ids: vec![subnet.into()],
            vpc_security_group_ids: vec!["sg-pg".into()],
            ..Default::default()
        };
        regional.db_instances.push(database("db-public", true, "subnet-public"));
        regional.db_instances.push(database("db-private-flag", false, "subnet-public"));
        regional.db_instances.push(database("db-private-subnet", true, "subnet-private"));
        let findings = run(&RDS_INSTANCE_REACHABLE_FROM_INTERNET, &inventory);
        assert_eq!(
            statuses(&findings),
            vec![("db-private-flag".into(), Status::Pass), ("db-private-subnet".into(), Status::Pass), ("db-public".into(), Status::Fail)]
        );
    }
}
