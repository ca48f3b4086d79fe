//! A synthetic account for the attack-path benchmark and property tests: a VPC per 100
//! subnets with an internet gateway, subnets routed to it (most) or not, security groups of
//! single-range rules (SSH, web, database, all traffic; from the world or narrower ranges),
//! instances with public addresses and instance profiles, roles whose inline policies read
//! buckets (one, a prefix, all), pass roles to new instances or allow everything, and buckets
//! of which some are tagged sensitive. Deterministic for a seed.

#![allow(dead_code)]

use serde_json::json;
use vigil_model::ec2::*;
use vigil_model::iam::{InlinePolicy, InstanceProfile, Role};
use vigil_model::inventory::AccountInfo;
use vigil_model::s3::Bucket;
use vigil_model::{AccountId, Inventory, Region, Tags};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

pub struct Shape {
    pub subnets: usize,
    pub groups: usize,
    pub instances: usize,
    pub roles: usize,
    pub buckets: usize,
    /// Percent of instances with an instance profile.
    pub profile_percent: u64,
    /// Percent of buckets tagged sensitive.
    pub sensitive_percent: u64,
    /// Statements per thousand that pass roles to new instances, and that allow everything.
    pub pass_role_per_mille: u64,
    pub admin_per_mille: u64,
}

pub struct Rng(pub u64);

impl Rng {
    pub fn step(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, bound: u64) -> u64 {
        self.step() % bound.max(1)
    }
}

fn permission(rng: &mut Rng) -> IpPermission {
    let cidr = ["0.0.0.0/0", "0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24", "198.51.100.7/32"][rng.below(5) as usize];
    let (protocol, from, to) =
        [("tcp", 22, 22), ("tcp", 80, 80), ("tcp", 443, 443), ("tcp", 3306, 3306), ("tcp", 8000, 8100), ("-1", -1, -1)][rng.below(6) as usize];
    IpPermission {
        ip_protocol: protocol.into(),
        from_port: (protocol != "-1").then_some(from),
        to_port: (protocol != "-1").then_some(to),
        ip_ranges: vec![IpRange { cidr_ip: cidr.into(), description: None }],
        ..Default::default()
    }
}

fn statements(rng: &mut Rng, shape: &Shape) -> Vec<serde_json::Value> {
    let mut list = Vec::new();
    for _ in 0..1 + rng.below(3) {
        // The benchmark uses rates like the IAM engine's benchmark (about 1% of roles pass
        // roles, 0.6% are admin); the property tests use higher ones so escalation is common.
        let roll = rng.below(1000);
        let pass_role = 988 - shape.pass_role_per_mille;
        let admin = pass_role - shape.admin_per_mille;
        let statement = if roll >= 988 {
            json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" })
        } else if roll >= pass_role {
            json!({ "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*" })
        } else if roll >= admin {
            json!({ "Effect": "Allow", "Action": "*", "Resource": "*" })
        } else {
            match roll * 1000 / admin.max(1) {
                0..=699 => {
                    json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket-{}/*", rng.below(shape.buckets as u64)) })
                }
                700..=849 => {
                    json!({ "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": format!("arn:aws:s3:::bucket-{}*", rng.below(10)) })
                }
                _ => json!({ "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*" }),
            }
        };
        list.push(statement);
    }
    list
}

pub fn generate(shape: &Shape, seed: u64) -> Inventory {
    let mut rng = Rng(seed | 1);
    let account = AccountInfo {
        account_id: AccountId::try_from(ACCOUNT.to_string()).unwrap_or_else(|_| unreachable!()),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    let mut inventory = Inventory::new(account, vec![Region::new(REGION)], chrono::Utc::now());
    let mut ec2 = Ec2::default();
    let vpcs = shape.subnets.div_ceil(100).max(1);
    for vpc_index in 0..vpcs {
        let vpc = format!("vpc-{vpc_index}");
        let igw = format!("igw-{vpc_index}");
        ec2.vpcs.push(Vpc { vpc_id: vpc.clone(), cidr_block: Some(format!("10.{vpc_index}.0.0/16")), ..Default::default() });
        ec2.internet_gateways.push(InternetGateway {
            internet_gateway_id: igw,
            attachments: vec![GatewayAttachment { vpc_id: vpc.clone(), state: Some("available".into()) }],
            ..Default::default()
        });
    }
    for subnet_index in 0..shape.subnets {
        let vpc_index = subnet_index % vpcs;
        let subnet = format!("subnet-{subnet_index}");
        ec2.subnets.push(Subnet {
            subnet_id: subnet.clone(),
            vpc_id: format!("vpc-{vpc_index}"),
            cidr_block: Some(format!("10.{vpc_index}.{}.0/24", subnet_index / vpcs)),
            ..Default::default()
        });
        let mut routes = vec![Route { destination_cidr_block: Some(format!("10.{vpc_index}.0.0/16")), gateway_id: Some("local".into()), ..Default::default() }];
        if rng.below(5) != 0 {
            routes.push(Route { destination_cidr_block: Some("0.0.0.0/0".into()), gateway_id: Some(format!("igw-{vpc_index}")), ..Default::default() });
        }
        ec2.route_tables.push(RouteTable {
            route_table_id: format!("rtb-{subnet_index}"),
            vpc_id: Some(format!("vpc-{vpc_index}")),
            routes,
            associations: vec![RouteTableAssociation { subnet_id: Some(subnet.clone()), ..Default::default() }],
            ..Default::default()
        });
        let entries = [false, true]
            .into_iter()
            .map(|egress| NetworkAclEntry {
                rule_number: 100,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                egress,
                cidr_block: Some("0.0.0.0/0".into()),
                ..Default::default()
            })
            .collect();
        ec2.network_acls.push(NetworkAcl {
            network_acl_id: format!("acl-{subnet_index}"),
            vpc_id: Some(format!("vpc-{vpc_index}")),
            entries,
            associations: vec![NetworkAclAssociation { subnet_id: Some(subnet), ..Default::default() }],
            ..Default::default()
        });
    }
    for group_index in 0..shape.groups {
        let permissions = (0..rng.below(3)).map(|_| permission(&mut rng)).collect();
        ec2.security_groups.push(SecurityGroup {
            group_id: format!("sg-{group_index}"),
            group_name: format!("group-{group_index}"),
            vpc_id: Some(format!("vpc-{}", group_index % vpcs)),
            ip_permissions: permissions,
            ..Default::default()
        });
    }
    // Roles: the first half trusted by EC2 (with an instance profile each), the rest by the account.
    for role_index in 0..shape.roles {
        let ec2_role = role_index < shape.roles.div_ceil(2);
        let principal = if ec2_role { json!({ "Service": "ec2.amazonaws.com" }) } else { json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }) };
        let name = format!("role-{role_index}");
        inventory.iam.roles.push(Role {
            role_name: name.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            assume_role_policy_document: Some(
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole" }] }),
            ),
            role_policy_list: vec![InlinePolicy {
                policy_name: "p".into(),
                policy_document: json!({ "Version": "2012-10-17", "Statement": statements(&mut rng, shape) }),
            }],
            instance_profile_list: if ec2_role {
                vec![InstanceProfile {
                    instance_profile_name: format!("profile-{role_index}"),
                    instance_profile_id: format!("AIPA{role_index}"),
                    arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/profile-{role_index}"),
                }]
            } else {
                Vec::new()
            },
            ..Role::default()
        });
    }
    let ec2_roles = shape.roles.div_ceil(2).max(1) as u64;
    for instance_index in 0..shape.instances {
        let subnet_index = rng.below(shape.subnets.max(1) as u64) as usize;
        let vpc_index = subnet_index % vpcs;
        let groups = (0..1 + rng.below(2))
            .map(|_| {
                // A group of the instance's VPC.
                let group = (rng.below(shape.groups.max(1) as u64) as usize / vpcs) * vpcs + vpc_index;
                GroupIdentifier { group_id: format!("sg-{}", group.min(shape.groups.saturating_sub(1))), group_name: None }
            })
            .collect();
        let profile = (shape.roles > 0 && rng.below(100) < shape.profile_percent)
            .then(|| IamInstanceProfile { arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/profile-{}", rng.below(ec2_roles)), id: None });
        let public = rng.below(10) < 6;
        ec2.instances.push(Instance {
            instance_id: format!("i-{instance_index:08x}"),
            state: InstanceState { name: "running".into(), code: Some(16) },
            vpc_id: Some(format!("vpc-{vpc_index}")),
            subnet_id: Some(format!("subnet-{subnet_index}")),
            private_ip_address: Some(format!("10.{vpc_index}.{}.{}", (subnet_index / vpcs) % 256, instance_index % 250 + 4)),
            public_ip_address: public.then(|| std::net::Ipv4Addr::from(0x3400_0000u32 + instance_index as u32).to_string()),
            security_groups: groups,
            iam_instance_profile: profile,
            ..Default::default()
        });
    }
    for bucket_index in 0..shape.buckets {
        let mut tags = Tags::new();
        if rng.below(100) < shape.sensitive_percent {
            tags.insert("data-classification".into(), "confidential".into());
        }
        inventory.s3.buckets.push(Bucket { name: format!("bucket-{bucket_index}"), region: REGION.into(), tags, ..Bucket::default() });
    }
    inventory.regional.entry(Region::new(REGION)).or_default().ec2 = ec2;
    inventory
}
