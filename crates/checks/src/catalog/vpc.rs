//! VPC network checks: security group exposure beyond SSH/RDP, administrative ports limited to
//! allowed ranges, network ACLs, flow logs, peering routes, subnets and the default VPC.

use serde_json::{Value, json};
use vigil_model::ec2::{IpPermission, NetworkAclEntry};
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::ec2::{ADMIN_PORTS, SECURITY_GROUPS, rule_covers_admin_port, rule_covers_tcp_port, world_sources};
use super::support::{Cidr, each_resource, is_world, regional};
use crate::context::{Context, Subject};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";
/// The network ACLs of each region.
const NETWORK_ACLS: &[Read] = &[Read::regional("ec2", "DescribeNetworkAcls")];

/// Ports Security Hub (EC2.19) considers high risk when open to the internet.
const HIGH_RISK_PORTS: &[i32] =
    &[20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300];

/// Judges every security group's ingress rules with `judge` (which returns the offending rules).
fn each_security_group(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: impl Fn(&Subject, &IpPermission) -> Option<Value>,
    what: &str,
) {
    each_resource(context, findings, SECURITY_GROUP, |resource, subject, findings| {
        let ResourceData::SecurityGroup(group) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let offending: Vec<Value> = group.ip_permissions.iter().filter_map(|permission| judge(subject, permission)).collect();
            let message = if offending.is_empty() {
                format!("Security group `{}` has no ingress rule that {what}.", group.group_id)
            } else {
                format!("Security group `{}` has {} ingress rule(s) that {what}.", group.group_id, offending.len())
            };
            (offending.is_empty(), message, json!({ "OffendingRules": offending }))
        }));
    });
}

fn rule_evidence(permission: &IpPermission, sources: &[&str]) -> Value {
    json!({ "IpProtocol": permission.ip_protocol, "FromPort": permission.from_port, "ToPort": permission.to_port, "Sources": sources })
}

pub static SECURITY_GROUP_ALL_TRAFFIC_OPEN: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_security_group_no_all_traffic_from_world",
        title: "Security groups do not allow all traffic from 0.0.0.0/0 or ::/0",
        service: "ec2",
        resource_type: SECURITY_GROUP,
        severity: Severity::Critical,
        risk: "A rule allowing every protocol and port from the internet exposes every service on the attached resources, including ones never meant to be reachable.",
        remediation: Remediation {
            text: "Replace the all-traffic rule with rules for the specific ports the workload serves.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --ip-permissions IpProtocol=-1,IpRanges='[{CidrIp=0.0.0.0/0}]'",
            terraform: "resource \"aws_vpc_security_group_ingress_rule\" \"https\" {\n  security_group_id = aws_security_group.web.id\n  ip_protocol       = \"tcp\"\n  from_port         = 443\n  to_port           = 443\n  cidr_ipv4         = \"0.0.0.0/0\"\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"],
        frameworks: &[("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: SECURITY_GROUPS,
    },
    run: security_group_all_traffic_open,
};

fn security_group_all_traffic_open(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_security_group(
        metadata,
        context,
        findings,
        |_, permission| {
            let sources = world_sources(permission);
            (matches!(permission.ip_protocol.as_str(), "-1" | "all") && !sources.is_empty()).then(|| rule_evidence(permission, &sources))
        },
        "allows all traffic from the internet",
    );
}

pub static SECURITY_GROUP_HIGH_RISK_PORTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_security_group_high_risk_ports_not_open_to_world",
        title: "Security groups do not open high-risk ports (databases, file sharing, admin consoles) to the internet",
        service: "ec2",
        resource_type: SECURITY_GROUP,
        severity: Severity::High,
        risk: "FTP, Telnet, SMB, SQL Server, MySQL, PostgreSQL, Elasticsearch and similar services exposed to 0.0.0.0/0 are found by scanners within hours and routinely breached.",
        remediation: Remediation {
            text: "Restrict these ports to the private ranges or security groups that need them; put databases in private subnets.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --protocol tcp --port 3306 --cidr 0.0.0.0/0",
            terraform: "resource \"aws_vpc_security_group_ingress_rule\" \"mysql\" {\n  security_group_id            = aws_security_group.db.id\n  ip_protocol                  = \"tcp\"\n  from_port                    = 3306\n  to_port                      = 3306\n  referenced_security_group_id = aws_security_group.app.id\n}",
        },
        references: &["https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19"],
        frameworks: &[("aws-fsbp", "EC2.19"), ("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: SECURITY_GROUPS,
    },
    run: security_group_high_risk_ports,
};

fn security_group_high_risk_ports(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_security_group(
        metadata,
        context,
        findings,
        |_, permission| {
            let sources = world_sources(permission);
            if sources.is_empty() {
                return None;
            }
            let ports: Vec<i32> = HIGH_RISK_PORTS.iter().copied().filter(|port| rule_covers_tcp_port(permission, *port)).collect();
            (!ports.is_empty()).then(|| json!({ "Rule": rule_evidence(permission, &sources), "HighRiskPorts": ports }))
        },
        "opens a high-risk port to the internet",
    );
}

pub static SECURITY_GROUP_ONLY_AUTHORIZED_PUBLIC_PORTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_security_group_only_authorized_ports_open_to_world",
        title: "Security groups open only authorized ports (80 and 443 by default) to the internet",
        service: "ec2",
        resource_type: SECURITY_GROUP,
        severity: Severity::High,
        risk: "Every port reachable from the internet is attack surface; only the ports the business publishes (policy parameter `authorized_public_ports`, default 80 and 443) should be.",
        remediation: Remediation {
            text: "Remove internet-wide ingress on other ports, or add the port to the policy's `authorized_public_ports` if it is meant to be public.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --protocol tcp --port PORT --cidr 0.0.0.0/0",
            terraform: "# Keep only aws_vpc_security_group_ingress_rule resources with cidr_ipv4 = \"0.0.0.0/0\" for ports 80 and 443.",
        },
        references: &["https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-18"],
        frameworks: &[("aws-fsbp", "EC2.18"), ("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: SECURITY_GROUPS,
    },
    run: security_group_only_authorized_public_ports,
};

fn security_group_only_authorized_public_ports(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_security_group(
        metadata,
        context,
        findings,
        |subject, permission| {
            let sources = world_sources(permission);
            if sources.is_empty() {
                return None;
            }
            let authorized: Vec<i32> =
                context.strings(subject, "authorized_public_ports", &["80", "443"]).iter().filter_map(|port| port.parse().ok()).collect();
            let unauthorized = match permission.ip_protocol.as_str() {
                "-1" | "all" => true,
                "tcp" | "udp" | "6" | "17" => {
                    let from = permission.from_port.unwrap_or(0).max(0);
                    let to = permission.to_port.unwrap_or(65535).max(from);
                    (to - from + 1) as usize > authorized.len() || !(from..=to).all(|port| authorized.contains(&port))
                }
                _ => false,
            };
            unauthorized.then(|| json!({ "Rule": rule_evidence(permission, &sources), "AuthorizedPublicPorts": authorized }))
        },
        "opens an unauthorized port to the internet",
    );
}

pub static SECURITY_GROUP_ADMIN_PORTS_ALLOWED_SOURCES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_security_group_admin_ports_from_allowed_cidrs_only",
        title: "SSH and RDP are reachable only from the allowed administrative ranges",
        service: "ec2",
        resource_type: SECURITY_GROUP,
        severity: Severity::Medium,
        risk: "Administrative ports open to ranges outside the organisation's administrative networks (policy parameter `admin_allowed_cidrs`, default the RFC 1918 private ranges) widen who can attempt a login.",
        remediation: Remediation {
            text: "Restrict SSH/RDP sources to the allowed administrative CIDRs (or security groups), or replace direct access with Session Manager.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --protocol tcp --port 22 --cidr SOURCE_CIDR\naws ec2 authorize-security-group-ingress --group-id SG_ID --protocol tcp --port 22 --cidr 10.0.0.0/8",
            terraform: "resource \"aws_vpc_security_group_ingress_rule\" \"ssh\" {\n  security_group_id = aws_security_group.admin.id\n  ip_protocol       = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_ipv4         = \"10.0.0.0/8\"\n}",
        },
        references: &["https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager.html"],
        frameworks: &[("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "AC-17")],
        reads: SECURITY_GROUPS,
    },
    run: security_group_admin_ports_allowed_sources,
};

fn security_group_admin_ports_allowed_sources(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_security_group(
        metadata,
        context,
        findings,
        |subject, permission| {
            if !ADMIN_PORTS.iter().any(|(port, _)| rule_covers_admin_port(permission, *port)) {
                return None;
            }
            let allowed: Vec<Cidr> = context
                .strings(subject, "admin_allowed_cidrs", &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
                .iter()
                .filter_map(|cidr| Cidr::parse(cidr))
                .collect();
            let sources =
                permission.ip_ranges.iter().map(|range| range.cidr_ip.as_str()).chain(permission.ipv6_ranges.iter().map(|range| range.cidr_ipv6.as_str()));
            let outside: Vec<&str> =
                sources.filter(|source| Cidr::parse(source).is_none_or(|source| !allowed.iter().any(|allowed| source.within(allowed)))).collect();
            (!outside.is_empty()).then(|| rule_evidence(permission, &outside))
        },
        "opens SSH or RDP to sources outside the allowed administrative ranges",
    );
}

/// True when a network ACL entry covers administrative `port`: TCP (6), UDP (17) or all
/// protocols (-1), as CIS 5.2 asks.
fn acl_entry_covers_admin_port(entry: &NetworkAclEntry, port: i32) -> bool {
    match entry.protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => true,
        "6" | "tcp" | "17" | "udp" => entry.port_range.as_ref().is_none_or(|range| (range.from.unwrap_or(0)..=range.to.unwrap_or(65535)).contains(&port)),
        _ => false,
    }
}

pub static NETWORK_ACL_ADMIN_PORTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_network_acl_admin_ports_not_open_to_world",
        title: "Network ACLs do not allow ingress from 0.0.0.0/0 or ::/0 to SSH or RDP",
        service: "ec2",
        resource_type: "AWS::EC2::NetworkAcl",
        severity: Severity::Medium,
        risk: "A network ACL that lets the internet reach administrative ports leaves security groups as the only barrier for every subnet it protects.",
        remediation: Remediation {
            text: "Add deny entries (with a lower rule number than any allow) for ports 22 and 3389 from 0.0.0.0/0 and ::/0, or narrow the allow entries' sources.",
            cli: "aws ec2 create-network-acl-entry --network-acl-id ACL_ID --ingress --rule-number 50 --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action deny",
            terraform: "resource \"aws_network_acl_rule\" \"deny_ssh\" {\n  network_acl_id = aws_network_acl.main.id\n  rule_number    = 50\n  egress         = false\n  protocol       = \"tcp\"\n  rule_action    = \"deny\"\n  cidr_block     = \"0.0.0.0/0\"\n  from_port      = 22\n  to_port        = 22\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html"],
        frameworks: &[("cis-aws-5.0", "5.2"), ("aws-fsbp", "EC2.21"), ("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: NETWORK_ACLS,
    },
    run: network_acl_admin_ports,
};

fn network_acl_admin_ports(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::NetworkAcl", |resource, subject, findings| {
        let ResourceData::NetworkAcl(acl) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let mut ingress: Vec<&NetworkAclEntry> = acl.entries.iter().filter(|entry| !entry.egress).collect();
            ingress.sort_by_key(|entry| entry.rule_number);
            let mut open = Vec::new();
            for (port, name) in ADMIN_PORTS {
                for world in ["0.0.0.0/0", "::/0"] {
                    // Entries are evaluated in rule-number order; the first one that matches
                    // internet-wide traffic to the port decides.
                    let first = ingress.iter().find(|entry| {
                        let source = entry.cidr_block.as_deref().or(entry.ipv6_cidr_block.as_deref());
                        source == Some(world) && acl_entry_covers_admin_port(entry, *port)
                    });
                    if let Some(entry) = first.filter(|entry| entry.rule_action == "allow") {
                        open.push(json!({ "Port": port, "Service": name, "Source": world, "RuleNumber": entry.rule_number, "Protocol": entry.protocol }));
                    }
                }
            }
            let message = if open.is_empty() {
                format!("Network ACL `{}` does not admit SSH or RDP from the internet.", acl.network_acl_id)
            } else {
                format!("Network ACL `{}` admits administrative ports from the internet.", acl.network_acl_id)
            };
            (open.is_empty(), message, json!({ "OpenAdminEntries": open }))
        }));
    });
}

pub static NETWORK_ACL_UNUSED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_network_acl_in_use",
        title: "Non-default network ACLs are associated with a subnet",
        service: "ec2",
        resource_type: "AWS::EC2::NetworkAcl",
        severity: Severity::Low,
        risk: "Unused network ACLs clutter reviews and can be attached later with forgotten, outdated rules.",
        remediation: Remediation {
            text: "Delete network ACLs that no subnet uses.",
            cli: "aws ec2 delete-network-acl --network-acl-id ACL_ID",
            terraform: "# Remove the unused aws_network_acl resource.",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html"],
        frameworks: &[("aws-fsbp", "EC2.16"), ("nist-800-53-r5", "CM-8")],
        reads: NETWORK_ACLS,
    },
    run: network_acl_unused,
};

fn network_acl_unused(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::NetworkAcl", |resource, subject, findings| {
        let ResourceData::NetworkAcl(acl) = resource.data else { return };
        if acl.is_default {
            return;
        }
        findings.push(context.decide(metadata, subject, &[], || {
            let subnets: Vec<&str> = acl.associations.iter().filter_map(|association| association.subnet_id.as_deref()).collect();
            let message = format!("Network ACL `{}` is associated with {} subnet(s).", acl.network_acl_id, subnets.len());
            (!subnets.is_empty(), message, json!({ "AssociatedSubnets": subnets }))
        }));
    });
}

pub static VPC_FLOW_LOGS_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "vpc_flow_logs_enabled",
        title: "Every VPC has an active flow log",
        service: "vpc",
        resource_type: "AWS::EC2::VPC",
        severity: Severity::Medium,
        risk: "Without flow logs there is no record of the connections made to and from the VPC: intrusions and exfiltration cannot be investigated.",
        remediation: Remediation {
            text: "Create a flow log for each VPC (at least REJECT traffic, ideally ALL) delivered to CloudWatch Logs or S3.",
            cli: "aws ec2 create-flow-logs --resource-type VPC --resource-ids VPC_ID --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::FLOW_LOG_BUCKET",
            terraform: "resource \"aws_flow_log\" \"vpc\" {\n  vpc_id               = aws_vpc.main.id\n  traffic_type         = \"ALL\"\n  log_destination_type = \"s3\"\n  log_destination      = aws_s3_bucket.flow_logs.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html"],
        frameworks: &[("cis-aws-5.0", "3.7"), ("aws-fsbp", "EC2.6"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-12")],
        reads: &[Read::regional("ec2", "DescribeVpcs"), Read::regional("ec2", "DescribeFlowLogs")],
    },
    run: vpc_flow_logs_enabled,
};

fn vpc_flow_logs_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::VPC", |resource, subject, findings| {
        let ResourceData::Vpc(vpc) = resource.data else { return };
        let flow_logs = regional(context, resource.region).map(|regional| regional.ec2.flow_logs.as_slice()).unwrap_or_default();
        findings.push(context.decide(metadata, subject, &[], || {
            let active: Vec<&str> = flow_logs
                .iter()
                .filter(|log| log.resource_id.as_deref() == Some(vpc.vpc_id.as_str()) && log.flow_log_status.as_deref().is_none_or(|status| status == "ACTIVE"))
                .map(|log| log.flow_log_id.as_str())
                .collect();
            let message = if active.is_empty() {
                format!("VPC `{}` has no active flow log.", vpc.vpc_id)
            } else {
                format!("VPC `{}` has flow log(s) `{}`.", vpc.vpc_id, active.join("`, `"))
            };
            (!active.is_empty(), message, json!({ "FlowLogIds": active }))
        }));
    });
}

pub static VPC_PEERING_ROUTES_LEAST_ACCESS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "vpc_peering_routes_least_access",
        title: "Routes to VPC peering connections do not cover the whole peer VPC or the internet",
        service: "vpc",
        resource_type: "AWS::EC2::RouteTable",
        severity: Severity::Low,
        risk: "Routing a default route or the peer's entire CIDR over a peering connection makes every host on either side reachable, so a breach on one side spreads to the other.",
        remediation: Remediation {
            text: "Replace broad peering routes with routes to the specific subnets or hosts that must talk to each other.",
            cli: "aws ec2 delete-route --route-table-id RTB_ID --destination-cidr-block BROAD_CIDR\naws ec2 create-route --route-table-id RTB_ID --destination-cidr-block SUBNET_CIDR --vpc-peering-connection-id PCX_ID",
            terraform: "resource \"aws_route\" \"peer_subnet\" {\n  route_table_id            = aws_route_table.app.id\n  destination_cidr_block    = \"10.1.2.0/24\"\n  vpc_peering_connection_id = aws_vpc_peering_connection.peer.id\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/peering/peering-configurations-partial-access.html"],
        frameworks: &[("cis-aws-5.0", "5.6"), ("nist-800-53-r5", "SC-7")],
        reads: &[Read::regional("ec2", "DescribeRouteTables"), Read::regional("ec2", "DescribeVpcPeeringConnections")],
    },
    run: vpc_peering_routes_least_access,
};

fn vpc_peering_routes_least_access(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::RouteTable", |resource, subject, findings| {
        let ResourceData::RouteTable(table) = resource.data else { return };
        if !table.routes.iter().any(|route| route.vpc_peering_connection_id.is_some()) {
            return;
        }
        let connections = regional(context, resource.region).map(|regional| regional.ec2.vpc_peering_connections.as_slice()).unwrap_or_default();
        findings.push(context.decide(metadata, subject, &[], || {
            let mut broad = Vec::new();
            for route in &table.routes {
                let Some(pcx) = route.vpc_peering_connection_id.as_deref() else { continue };
                let Some(destination) = route.destination_cidr_block.as_deref().or(route.destination_ipv6_cidr_block.as_deref()) else { continue };
                let connection = connections.iter().find(|connection| connection.vpc_peering_connection_id == pcx);
                let peer = connection.and_then(|connection| {
                    [connection.accepter_vpc_info.as_ref(), connection.requester_vpc_info.as_ref()]
                        .into_iter()
                        .flatten()
                        .find(|info| info.vpc_id.as_deref() != table.vpc_id.as_deref())
                        .and_then(|info| info.cidr_block.as_deref())
                });
                let covers_peer = peer.and_then(Cidr::parse).zip(Cidr::parse(destination)).is_some_and(|(peer, destination)| peer.within(&destination));
                if is_world(destination) || covers_peer {
                    broad.push(json!({ "DestinationCidrBlock": destination, "VpcPeeringConnectionId": pcx, "PeerVpcCidrBlock": peer }));
                }
            }
            let message = if broad.is_empty() {
                format!("Route table `{}` routes only parts of peer VPCs.", table.route_table_id)
            } else {
                format!("Route table `{}` has {} peering route(s) covering a whole peer VPC or the internet.", table.route_table_id, broad.len())
            };
            (broad.is_empty(), message, json!({ "BroadPeeringRoutes": broad }))
        }));
    });
}

pub static SUBNET_NO_AUTO_PUBLIC_IP: FnCheck = FnCheck {
    metadata: Metadata {
        id: "vpc_subnet_no_auto_assign_public_ip",
        title: "Subnets do not assign public IPv4 addresses automatically",
        service: "vpc",
        resource_type: "AWS::EC2::Subnet",
        severity: Severity::Medium,
        risk: "Instances launched in a subnet that maps public IPs on launch are reachable from the internet without anyone deciding so.",
        remediation: Remediation {
            text: "Turn off MapPublicIpOnLaunch and assign public addresses (or load balancers) deliberately.",
            cli: "aws ec2 modify-subnet-attribute --subnet-id SUBNET_ID --no-map-public-ip-on-launch",
            terraform: "resource \"aws_subnet\" \"app\" {\n  vpc_id                  = aws_vpc.main.id\n  cidr_block              = \"10.0.1.0/24\"\n  map_public_ip_on_launch = false\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/vpc-ip-addressing.html#subnet-public-ip"],
        frameworks: &[("aws-fsbp", "EC2.15"), ("pci-dss-4.0", "1.3.1"), ("nist-800-53-r5", "SC-7")],
        reads: &[Read::regional("ec2", "DescribeSubnets")],
    },
    run: subnet_no_auto_public_ip,
};

fn subnet_no_auto_public_ip(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::Subnet", |resource, subject, findings| {
        let ResourceData::Subnet(subnet) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let message = if subnet.map_public_ip_on_launch {
                format!("Subnet `{}` assigns public IPv4 addresses on launch.", subnet.subnet_id)
            } else {
                format!("Subnet `{}` does not assign public IPv4 addresses on launch.", subnet.subnet_id)
            };
            (!subnet.map_public_ip_on_launch, message, json!({ "MapPublicIpOnLaunch": subnet.map_public_ip_on_launch, "DefaultForAz": subnet.default_for_az }))
        }));
    });
}

pub static DEFAULT_VPC_UNUSED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "vpc_default_vpc_not_in_use",
        title: "Default VPCs host no network interfaces",
        service: "vpc",
        resource_type: "AWS::EC2::VPC",
        severity: Severity::Low,
        risk: "The default VPC has public subnets, an internet gateway and permissive defaults; workloads placed there are exposed by design rather than by decision.",
        remediation: Remediation {
            text: "Move workloads to purpose-built VPCs, then delete the default VPC in each region (it can be recreated if ever needed).",
            cli: "aws ec2 describe-network-interfaces --filters Name=vpc-id,Values=VPC_ID\naws ec2 delete-vpc --vpc-id VPC_ID",
            terraform: "resource \"aws_default_vpc\" \"default\" {\n  force_destroy = true\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html"],
        frameworks: &[("nist-800-53-r5", "SC-7")],
        reads: &[Read::regional("ec2", "DescribeVpcs"), Read::regional("ec2", "DescribeNetworkInterfaces")],
    },
    run: default_vpc_unused,
};

fn default_vpc_unused(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::VPC", |resource, subject, findings| {
        let ResourceData::Vpc(vpc) = resource.data else { return };
        if !vpc.is_default {
            return;
        }
        let interfaces = regional(context, resource.region).map(|regional| regional.ec2.network_interfaces.as_slice()).unwrap_or_default();
        findings.push(context.decide(metadata, subject, &[], || {
            let used: Vec<&str> = interfaces
                .iter()
                .filter(|interface| interface.vpc_id.as_deref() == Some(vpc.vpc_id.as_str()))
                .map(|interface| interface.network_interface_id.as_str())
                .collect();
            let message = format!("Default VPC `{}` hosts {} network interface(s).", vpc.vpc_id, used.len());
            (used.is_empty(), message, json!({ "NetworkInterfaces": used }))
        }));
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{
        FlowLog, IpRange, Ipv6Range, NetworkAcl, NetworkAclAssociation, NetworkInterface, PortRange, Route, RouteTable, SecurityGroup, Subnet, Vpc,
        VpcPeeringConnection, VpcPeeringConnectionVpcInfo,
    };

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    const REGION: &str = "us-east-1";

    fn rule(protocol: &str, from: i32, to: i32, v4: &[&str], v6: &[&str]) -> IpPermission {
        IpPermission {
            ip_protocol: protocol.into(),
            from_port: Some(from),
            to_port: Some(to),
            ip_ranges: v4.iter().map(|cidr| IpRange { cidr_ip: cidr.to_string(), description: None }).collect(),
            ipv6_ranges: v6.iter().map(|cidr| Ipv6Range { cidr_ipv6: cidr.to_string(), description: None }).collect(),
            ..IpPermission::default()
        }
    }

    fn groups(cases: &[(&str, IpPermission)]) -> vigil_model::Inventory {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", REGION, "DescribeSecurityGroups", None);
        let regional = inventory.regional.get_mut(&REGION.into()).unwrap();
        for (id, permission) in cases {
            regional.ec2.security_groups.push(SecurityGroup {
                group_id: id.to_string(),
                group_name: id.to_string(),
                ip_permissions: vec![permission.clone()],
                ..Default::default()
            });
        }
        inventory
    }

    fn statuses_of(check: &FnCheck, inventory: &vigil_model::Inventory) -> Vec<(String, Status)> {
        statuses(&run(check, inventory))
    }

    #[test]
    fn security_group_exposure_checks_judge_each_rule_form() {
        let inventory = groups(&[
            ("all-world", rule("-1", -1, -1, &["0.0.0.0/0"], &[])),
            ("mysql-world", rule("tcp", 3306, 3306, &[], &["::/0"])),
            ("https-world", rule("tcp", 443, 443, &["0.0.0.0/0"], &[])),
            ("ssh-public-range", rule("tcp", 22, 22, &["203.0.113.0/24"], &[])),
            ("ssh-private", rule("tcp", 22, 22, &["10.20.0.0/16"], &[])),
            ("range-world", rule("tcp", 80, 8080, &["0.0.0.0/0"], &[])),
        ]);
        let pass_fail = |fails: &[&str]| {
            let mut expected: Vec<(String, Status)> = ["all-world", "https-world", "mysql-world", "range-world", "ssh-private", "ssh-public-range"]
                .iter()
                .map(|id| (id.to_string(), if fails.contains(id) { Status::Fail } else { Status::Pass }))
                .collect();
            expected.sort();
            expected
        };
        assert_eq!(statuses_of(&SECURITY_GROUP_ALL_TRAFFIC_OPEN, &inventory), pass_fail(&["all-world"]));
        assert_eq!(statuses_of(&SECURITY_GROUP_HIGH_RISK_PORTS, &inventory), pass_fail(&["all-world", "mysql-world", "range-world"]));
        assert_eq!(statuses_of(&SECURITY_GROUP_ONLY_AUTHORIZED_PUBLIC_PORTS, &inventory), pass_fail(&["all-world", "mysql-world", "range-world"]));
        assert_eq!(statuses_of(&SECURITY_GROUP_ADMIN_PORTS_ALLOWED_SOURCES, &inventory), pass_fail(&["all-world", "range-world", "ssh-public-range"]));
    }

    #[test]
    fn an_unread_security_group_listing_is_one_error_per_region() {
        let mut inventory = inventory();
        record(&mut inventory, "ec2", REGION, "DescribeSecurityGroups", None, denied());
        for check in [
            &SECURITY_GROUP_ALL_TRAFFIC_OPEN,
            &SECURITY_GROUP_HIGH_RISK_PORTS,
            &SECURITY_GROUP_ONLY_AUTHORIZED_PUBLIC_PORTS,
            &SECURITY_GROUP_ADMIN_PORTS_ALLOWED_SOURCES,
        ] {
            let findings = run(check, &inventory);
            assert_eq!(findings.len(), 1);
            assert_eq!(findings[0].status, Status::Error);
            assert!(findings[0].message.contains("ec2:DescribeSecurityGroups in us-east-1"), "{}", findings[0].message);
        }
    }

    fn entry(number: i32, protocol: &str, action: &str, cidr: &str, ports: Option<(i32, i32)>) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number: number,
            protocol: protocol.into(),
            rule_action: action.into(),
            egress: false,
            cidr_block: Some(cidr.into()),
            port_range: ports.map(|(from, to)| PortRange { from: Some(from), to: Some(to) }),
            ..Default::default()
        }
    }

    #[test]
    fn network_acls_are_evaluated_in_rule_order_and_unused_ones_fail() {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", REGION, "DescribeNetworkAcls", None);
        let acl = |id: &str, entries: Vec<NetworkAclEntry>, used: bool| NetworkAcl {
            network_acl_id: id.into(),
            entries,
            associations: if used { vec![NetworkAclAssociation { subnet_id: Some("subnet-1".into()), ..Default::default() }] } else { vec![] },
            ..Default::default()
        };
        inventory.regional.get_mut(&REGION.into()).unwrap().ec2.network_acls = vec![
            acl("acl-open", vec![entry(100, "-1", "allow", "0.0.0.0/0", None), entry(32767, "-1", "deny", "0.0.0.0/0", None)], true),
            acl(
                "acl-denied-first",
                vec![
                    entry(50, "6", "deny", "0.0.0.0/0", Some((22, 22))),
                    entry(60, "6", "deny", "0.0.0.0/0", Some((3389, 3389))),
                    entry(70, "17", "deny", "0.0.0.0/0", Some((22, 22))),
                    entry(80, "17", "deny", "0.0.0.0/0", Some((3389, 3389))),
                    entry(100, "-1", "allow", "0.0.0.0/0", None),
                ],
                true,
            ),
            acl("acl-web", vec![entry(100, "6", "allow", "0.0.0.0/0", Some((443, 443))), entry(110, "6", "allow", "10.0.0.0/8", Some((22, 22)))], false),
            // Issue 14: an allow for UDP 3389 from anywhere admits RDP's UDP transport.
            acl("acl-udp-rdp", vec![entry(100, "17", "allow", "0.0.0.0/0", Some((3389, 3389)))], true),
        ];
        assert_eq!(
            statuses_of(&NETWORK_ACL_ADMIN_PORTS, &inventory),
            vec![
                ("acl-denied-first".into(), Status::Pass),
                ("acl-open".into(), Status::Fail),
                ("acl-udp-rdp".into(), Status::Fail),
                ("acl-web".into(), Status::Pass)
            ]
        );
        assert_eq!(
            statuses_of(&NETWORK_ACL_UNUSED, &inventory),
            vec![
                ("acl-denied-first".into(), Status::Pass),
                ("acl-open".into(), Status::Pass),
                ("acl-udp-rdp".into(), Status::Pass),
                ("acl-web".into(), Status::Fail)
            ]
        );
    }

    #[test]
    fn flow_logs_default_vpc_and_subnets_are_judged_and_unread_flow_logs_error() {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", REGION, "DescribeVpcs", None);
        read(&mut inventory, "ec2", REGION, "DescribeSubnets", None);
        read(&mut inventory, "ec2", REGION, "DescribeNetworkInterfaces", None);
        read(&mut inventory, "ec2", REGION, "DescribeFlowLogs", None);
        let ec2 = &mut inventory.regional.get_mut(&REGION.into()).unwrap().ec2;
        ec2.vpcs =
            vec![Vpc { vpc_id: "vpc-logged".into(), ..Default::default() }, Vpc { vpc_id: "vpc-default".into(), is_default: true, ..Default::default() }];
        ec2.flow_logs =
            vec![FlowLog { flow_log_id: "fl-1".into(), resource_id: Some("vpc-logged".into()), flow_log_status: Some("ACTIVE".into()), ..Default::default() }];
        ec2.network_interfaces = vec![NetworkInterface { network_interface_id: "eni-1".into(), vpc_id: Some("vpc-default".into()), ..Default::default() }];
        ec2.subnets = vec![
            Subnet { subnet_id: "subnet-public".into(), map_public_ip_on_launch: true, ..Default::default() },
            Subnet { subnet_id: "subnet-private".into(), ..Default::default() },
        ];
        assert_eq!(statuses_of(&VPC_FLOW_LOGS_ENABLED, &inventory), vec![("vpc-default".into(), Status::Fail), ("vpc-logged".into(), Status::Pass)]);
        assert_eq!(statuses_of(&DEFAULT_VPC_UNUSED, &inventory), vec![("vpc-default".into(), Status::Fail)]);
        assert_eq!(statuses_of(&SUBNET_NO_AUTO_PUBLIC_IP, &inventory), vec![("subnet-private".into(), Status::Pass), ("subnet-public".into(), Status::Fail)]);
        inventory.ledger.calls.retain(|call| call.operation != "DescribeFlowLogs");
        record(&mut inventory, "ec2", REGION, "DescribeFlowLogs", None, denied());
        assert!(run(&VPC_FLOW_LOGS_ENABLED, &inventory).iter().all(|finding| finding.status == Status::Error && finding.message.contains("DescribeFlowLogs")));
    }

    #[test]
    fn peering_routes_covering_the_peer_vpc_or_the_internet_fail() {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", REGION, "DescribeRouteTables", None);
        read(&mut inventory, "ec2", REGION, "DescribeVpcPeeringConnections", None);
        let ec2 = &mut inventory.regional.get_mut(&REGION.into()).unwrap().ec2;
        let info = |vpc: &str, cidr: &str| Some(VpcPeeringConnectionVpcInfo { vpc_id: Some(vpc.into()), cidr_block: Some(cidr.into()), ..Default::default() });
        ec2.vpc_peering_connections = vec![VpcPeeringConnection {
            vpc_peering_connection_id: "pcx-1".into(),
            requester_vpc_info: info("vpc-a", "10.0.0.0/16"),
            accepter_vpc_info: info("vpc-b", "10.1.0.0/16"),
            ..Default::default()
        }];
        let route = |destination: &str| Route {
            destination_cidr_block: Some(destination.into()),
            vpc_peering_connection_id: Some("pcx-1".into()),
            ..Default::default()
        };
        ec2.route_tables = vec![
            RouteTable { route_table_id: "rtb-narrow".into(), vpc_id: Some("vpc-a".into()), routes: vec![route("10.1.2.0/24")], ..Default::default() },
            RouteTable { route_table_id: "rtb-whole".into(), vpc_id: Some("vpc-a".into()), routes: vec![route("10.1.0.0/16")], ..Default::default() },
            RouteTable { route_table_id: "rtb-default".into(), vpc_id: Some("vpc-a".into()), routes: vec![route("0.0.0.0/0")], ..Default::default() },
            RouteTable { route_table_id: "rtb-no-peering".into(), vpc_id: Some("vpc-a".into()), ..Default::default() },
        ];
        assert_eq!(
            statuses_of(&VPC_PEERING_ROUTES_LEAST_ACCESS, &inventory),
            vec![("rtb-default".into(), Status::Fail), ("rtb-narrow".into(), Status::Pass), ("rtb-whole".into(), Status::Fail)]
        );
    }
}
