//! EC2/VPC checks: security groups open to the world, default security groups, public snapshots.

use serde_json::json;
use vigil_model::ec2::IpPermission;
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::support::each_resource;
use crate::context::{Context, Needs};

/// The security groups of each region.
pub(crate) const SECURITY_GROUPS: &[Read] = &[Read::regional("ec2", "DescribeSecurityGroups")];
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// Administrative ports that must never be open to the whole internet (CIS 5.2/5.3).
pub(crate) const ADMIN_PORTS: &[(i32, &str)] = &[(22, "SSH"), (3389, "RDP")];

/// True when a rule covers `port` over TCP (or all protocols).
pub(crate) fn rule_covers_tcp_port(permission: &IpPermission, port: i32) -> bool {
    covers(permission, port, &["tcp", "6"])
}

/// True when a rule covers administrative `port` over any protocol CIS 5.2 and 5.3 name: TCP
/// (6), UDP (17, RDP has a UDP transport) or all protocols (-1).
pub(crate) fn rule_covers_admin_port(permission: &IpPermission, port: i32) -> bool {
    covers(permission, port, &["tcp", "6", "udp", "17"])
}

fn covers(permission: &IpPermission, port: i32, protocols: &[&str]) -> bool {
    let protocol = permission.ip_protocol.to_ascii_lowercase();
    if matches!(protocol.as_str(), "-1" | "all") {
        return true;
    }
    if !protocols.contains(&protocol.as_str()) {
        return false;
    }
    let from = permission.from_port.unwrap_or(0);
    let to = permission.to_port.unwrap_or(65535);
    (from..=to).contains(&port) || (from == -1 && to == -1)
}

/// The world-open source ranges of a rule.
pub(crate) fn world_sources(permission: &IpPermission) -> Vec<&str> {
    let v4 = permission.ip_ranges.iter().map(|range| range.cidr_ip.as_str()).filter(|cidr| *cidr == "0.0.0.0/0");
    let v6 = permission.ipv6_ranges.iter().map(|range| range.cidr_ipv6.as_str()).filter(|cidr| *cidr == "::/0");
    v4.chain(v6).collect()
}

pub static SECURITY_GROUP_ADMIN_PORTS_OPEN_TO_WORLD: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_security_group_admin_ports_open_to_world",
        title: "Security groups do not allow SSH or RDP (TCP, UDP or all protocols) from 0.0.0.0/0 or ::/0",
        service: "ec2",
        resource_type: "AWS::EC2::SecurityGroup",
        severity: Severity::High,
        risk: "Administrative ports open to the internet are scanned and brute-forced within minutes of exposure.",
        remediation: Remediation {
            text: "Restrict SSH (22) and RDP (3389) ingress to known administrative ranges, or use Session Manager instead of open ports.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --protocol tcp --port 22 --cidr 0.0.0.0/0",
            terraform: "resource \"aws_vpc_security_group_ingress_rule\" \"ssh\" {\n  security_group_id = aws_security_group.admin.id\n  ip_protocol       = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_ipv4         = \"10.0.0.0/8\"\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"],
        frameworks: &[
            ("cis-aws-5.0", "5.3"),
            ("cis-aws-5.0", "5.4"),
            ("aws-securityhub", "EC2.13"),
            ("aws-securityhub", "EC2.14"),
            ("pci-dss-4.0", "1.3.1"),
            ("nist-800-53-r5", "SC-7"),
        ],
        reads: SECURITY_GROUPS,
    },
    run: security_group_admin_ports_open_to_world,
};

fn security_group_admin_ports_open_to_world(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::SecurityGroup", |resource, subject, findings| {
        let ResourceData::SecurityGroup(group) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let mut open = Vec::new();
            for permission in &group.ip_permissions {
                let sources = world_sources(permission);
                if sources.is_empty() {
                    continue;
                }
                for (port, name) in ADMIN_PORTS {
                    if rule_covers_admin_port(permission, *port) {
                        open.push(json!({ "Port": port, "Service": name, "IpProtocol": permission.ip_protocol, "FromPort": permission.from_port, "ToPort": permission.to_port, "Sources": sources }));
                    }
                }
            }
            let message = if open.is_empty() {
                format!("Security group `{}` allows no SSH or RDP from the whole internet.", group.group_id)
            } else {
                let ports: Vec<String> = open.iter().filter_map(|rule| rule["Service"].as_str().map(str::to_string)).collect();
                format!("Security group `{}` allows {} from the whole internet.", group.group_id, ports.join(" and "))
            };
            (open.is_empty(), message, json!({ "OpenAdminRules": open }))
        }));
    });
}

pub static DEFAULT_SECURITY_GROUP_RESTRICTS_ALL: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_default_security_group_restricts_all",
        title: "Default security groups allow no inbound or outbound traffic",
        service: "ec2",
        resource_type: "AWS::EC2::SecurityGroup",
        severity: Severity::Medium,
        risk: "Resources launched without an explicit group land in the default group; rules there silently connect them to everything else in it.",
        remediation: Remediation {
            text: "Remove every inbound and outbound rule from each VPC's default security group and use purpose-built groups.",
            cli: "aws ec2 revoke-security-group-ingress --group-id SG_ID --ip-permissions \"$(aws ec2 describe-security-groups --group-ids SG_ID --query 'SecurityGroups[0].IpPermissions')\"",
            terraform: "resource \"aws_default_security_group\" \"default\" {\n  vpc_id = aws_vpc.main.id\n  # no ingress or egress blocks: all rules are removed\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html"],
        frameworks: &[("cis-aws-5.0", "5.5"), ("aws-fsbp", "EC2.2"), ("pci-dss-4.0", "1.2.1"), ("nist-800-53-r5", "SC-7")],
        reads: SECURITY_GROUPS,
    },
    run: default_security_group_restricts_all,
};

fn default_security_group_restricts_all(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::SecurityGroup", |resource, subject, findings| {
        let ResourceData::SecurityGroup(group) = resource.data else { return };
        if group.group_name != "default" {
            return;
        }
        findings.push(context.decide(metadata, subject, &[], || {
            let inbound = group.ip_permissions.len();
            let outbound = group.ip_permissions_egress.len();
            let message = format!("Default security group `{}` has {inbound} inbound and {outbound} outbound rules.", group.group_id);
            (inbound == 0 && outbound == 0, message, json!({ "IpPermissions": group.ip_permissions, "IpPermissionsEgress": group.ip_permissions_egress }))
        }));
    });
}

pub static EBS_SNAPSHOT_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_ebs_snapshot_not_public",
        title: "EBS snapshots are not shared publicly",
        service: "ec2",
        resource_type: "AWS::EC2::Snapshot",
        severity: Severity::Critical,
        risk: "Anyone can create a volume from a public snapshot and read every file on it, including credentials and databases.",
        remediation: Remediation {
            text: "Remove the `all` group from the snapshot's createVolumePermission; share with specific accounts if needed.",
            cli: "aws ec2 modify-snapshot-attribute --snapshot-id SNAPSHOT_ID --attribute createVolumePermission --operation-type remove --group-names all",
            terraform: "# Do not declare aws_snapshot_create_volume_permission resources for the `all` group.",
        },
        references: &["https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html"],
        frameworks: &[("aws-fsbp", "EC2.1"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3")],
        reads: &[Read::regional("ec2", "DescribeSnapshots")],
    },
    run: ebs_snapshot_not_public,
};

fn ebs_snapshot_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::Snapshot", |resource, subject, findings| {
        let ResourceData::Snapshot(snapshot) = resource.data else { return };
        let needs = [Needs::call("ec2", resource.region, "DescribeSnapshotAttribute").on(&snapshot.snapshot_id)];
        findings.push(context.decide(metadata, subject, &needs, || {
            let public = snapshot.create_volume_permissions.iter().any(|permission| permission.group.as_deref() == Some("all"));
            let message = if public {
                format!("Snapshot `{}` can be used by every AWS account.", snapshot.snapshot_id)
            } else {
                format!("Snapshot `{}` is not public.", snapshot.snapshot_id)
            };
            (!public, message, json!({ "CreateVolumePermissions": snapshot.create_volume_permissions }))
        }));
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{CreateVolumePermission, IpRange, Ipv6Range, SecurityGroup, Snapshot};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

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

    #[test]
    fn admin_ports_open_to_the_world_fail_in_every_form() {
        let cases = [
            ("ssh-world", rule("tcp", 22, 22, &["0.0.0.0/0"], &[]), Status::Fail),
            ("rdp-world-v6", rule("tcp", 3389, 3389, &[], &["::/0"]), Status::Fail),
            ("range-covers-22", rule("tcp", 0, 1024, &["0.0.0.0/0"], &[]), Status::Fail),
            ("all-protocols", rule("-1", -1, -1, &["0.0.0.0/0"], &[]), Status::Fail),
            ("ssh-private", rule("tcp", 22, 22, &["10.0.0.0/8"], &[]), Status::Pass),
            ("https-world", rule("tcp", 443, 443, &["0.0.0.0/0"], &[]), Status::Pass),
            // Issue 14: UDP and all-protocol rules reach the administrative ports too.
            ("udp-3389-world", rule("udp", 3389, 3389, &["0.0.0.0/0"], &[]), Status::Fail),
            ("udp-number-22-world", rule("17", 0, 100, &["0.0.0.0/0"], &[]), Status::Fail),
            ("all-protocols-number", rule("-1", 0, 0, &[], &["::/0"]), Status::Fail),
            ("udp-53-world", rule("udp", 53, 53, &["0.0.0.0/0"], &[]), Status::Pass),
            ("icmp-world", rule("icmp", -1, -1, &["0.0.0.0/0"], &[]), Status::Pass),
        ];
        let mut inventory = inventory();
        read(&mut inventory, "ec2", "us-east-1", "DescribeSecurityGroups", None);
        let regional = inventory.regional.get_mut(&"us-east-1".into()).unwrap();
        for (id, permission, _) in &cases {
            regional.ec2.security_groups.push(SecurityGroup {
                group_id: id.to_string(),
                group_name: id.to_string(),
                ip_permissions: vec![permission.clone()],
                ..SecurityGroup::default()
            });
        }
        let mut expected: Vec<(String, Status)> = cases.iter().map(|(id, _, status)| (id.to_string(), *status)).collect();
        expected.sort();
        assert_eq!(statuses(&run(&SECURITY_GROUP_ADMIN_PORTS_OPEN_TO_WORLD, &inventory)), expected);
    }

    #[test]
    fn security_groups_error_when_the_region_was_not_read() {
        let mut inventory = inventory();
        record(&mut inventory, "ec2", "us-east-1", "DescribeSecurityGroups", None, denied());
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().ec2.security_groups.push(SecurityGroup {
            group_id: "sg-1".into(),
            group_name: "default".into(),
            ..Default::default()
        });
        assert_eq!(run(&SECURITY_GROUP_ADMIN_PORTS_OPEN_TO_WORLD, &inventory)[0].status, Status::Error);
        assert_eq!(run(&DEFAULT_SECURITY_GROUP_RESTRICTS_ALL, &inventory)[0].status, Status::Error);
    }

    #[test]
    fn default_groups_with_rules_fail_and_other_groups_are_ignored() {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", "us-east-1", "DescribeSecurityGroups", None);
        let groups = &mut inventory.regional.get_mut(&"us-east-1".into()).unwrap().ec2.security_groups;
        groups.push(SecurityGroup {
            group_id: "sg-open".into(),
            group_name: "default".into(),
            ip_permissions_egress: vec![rule("-1", -1, -1, &["0.0.0.0/0"], &[])],
            ..Default::default()
        });
        groups.push(SecurityGroup { group_id: "sg-closed".into(), group_name: "default".into(), ..Default::default() });
        groups.push(SecurityGroup {
            group_id: "sg-web".into(),
            group_name: "web".into(),
            ip_permissions: vec![rule("tcp", 443, 443, &["0.0.0.0/0"], &[])],
            ..Default::default()
        });
        assert_eq!(
            statuses(&run(&DEFAULT_SECURITY_GROUP_RESTRICTS_ALL, &inventory)),
            vec![("sg-closed".into(), Status::Pass), ("sg-open".into(), Status::Fail)]
        );
    }

    #[test]
    fn public_snapshots_fail_and_shared_ones_pass() {
        let mut inventory = inventory();
        let snapshots = &mut inventory.regional.get_mut(&"us-east-1".into()).unwrap().ec2.snapshots;
        snapshots.push(Snapshot {
            snapshot_id: "snap-public".into(),
            create_volume_permissions: vec![CreateVolumePermission { group: Some("all".into()), user_id: None }],
            ..Default::default()
        });
        snapshots.push(Snapshot {
            snapshot_id: "snap-shared".into(),
            create_volume_permissions: vec![CreateVolumePermission { group: None, user_id: Some("999988887777".into()) }],
            ..Default::default()
        });
        snapshots.push(Snapshot { snapshot_id: "snap-unread".into(), ..Default::default() });
        read(&mut inventory, "ec2", "us-east-1", "DescribeSnapshots", None);
        read(&mut inventory, "ec2", "us-east-1", "DescribeSnapshotAttribute", Some("snap-public"));
        read(&mut inventory, "ec2", "us-east-1", "DescribeSnapshotAttribute", Some("snap-shared"));
        assert_eq!(
            statuses(&run(&EBS_SNAPSHOT_NOT_PUBLIC, &inventory)),
            vec![("snap-public".into(), Status::Fail), ("snap-shared".into(), Status::Pass), ("snap-unread".into(), Status::Error)]
        );
    }
}
