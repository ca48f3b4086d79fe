//! A generated account for benchmarks (compiled with the `fixtures` feature): security groups,
//! instances, volumes and buckets in four regions, with findings about them, so that the
//! store's benchmark and the export's build their stores from one generator.
//!
//! The findings share their strings the way the checks' findings do (`vigil_checks::Context`
//! keeps one copy of a check id, a region or a resource's ARN for all the findings that name
//! it), so a generated scan costs the memory a real one of its size does.

use vigil_checks::{Finding, Severity, Status};
use vigil_model::ec2::{Instance, InstanceState, IpPermission, IpRange, SecurityGroup, Volume};
use vigil_model::finding::{Evidence, SharedStr};
use vigil_model::inventory::AccountInfo;
use vigil_model::s3::Bucket;
use vigil_model::{ApiCall, Inventory, Outcome, RegionalInventory};

use crate::ScanInput;

/// The generated account.
pub const ACCOUNT: &str = "123456789012";

/// The generated regions.
pub const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

/// The checks whose findings `findings` generates: three per security group, two per instance.
pub const CHECKS: [&str; 5] = ["sg_open_to_world", "sg_described", "sg_in_vpc", "instance_imdsv2", "instance_running"];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub security_groups_per_region: usize,
    /// An instance and a volume beside each security group.
    pub instances_and_volumes: bool,
    pub buckets: usize,
}

impl Shape {
    /// About `total` resources: a twentieth buckets, the rest security groups, instances and
    /// volumes in equal numbers over the four regions (the store's benchmark).
    pub fn mixed(total: usize) -> Shape {
        let buckets = total / 20;
        Shape { security_groups_per_region: (total - buckets) / REGIONS.len() / 3, instances_and_volumes: true, buckets }
    }

    /// `groups` security groups over the four regions and nothing else (the export's benchmark).
    pub fn security_groups(groups: usize) -> Shape {
        Shape { security_groups_per_region: groups / REGIONS.len(), instances_and_volumes: false, buckets: 0 }
    }
}

/// The account `shape` describes, every listing read.
#[allow(clippy::expect_used)] // `ACCOUNT` is a constant of twelve digits.
pub fn inventory(shape: Shape) -> Inventory {
    let account = AccountInfo {
        account_id: ACCOUNT.parse().expect("ACCOUNT is twelve digits"),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    let mut inventory = Inventory::new(account, REGIONS.iter().map(|region| (*region).into()).collect(), chrono::Utc::now());
    for index in 0..shape.buckets {
        inventory.s3.buckets.push(Bucket { name: format!("bucket-{index}"), region: REGIONS[index % REGIONS.len()].into(), ..Bucket::default() });
    }
    inventory.ledger.record(ApiCall::new("s3", "us-east-1", "ListBuckets", None, Outcome::Ok));
    for region in REGIONS {
        let mut regional = RegionalInventory::default();
        for index in 0..shape.security_groups_per_region {
            regional.ec2.security_groups.push(SecurityGroup {
                group_id: format!("sg-{index:08x}"),
                group_name: format!("group-{index}"),
                vpc_id: Some(format!("vpc-{}", index % 100)),
                ip_permissions: vec![IpPermission {
                    ip_protocol: "tcp".into(),
                    from_port: Some(443),
                    to_port: Some(443),
                    ip_ranges: vec![IpRange { cidr_ip: "10.0.0.0/8".into(), description: Some("internal".into()) }],
                    ..IpPermission::default()
                }],
                ..SecurityGroup::default()
            });
            if !shape.instances_and_volumes {
                continue;
            }
            regional.ec2.instances.push(Instance {
                instance_id: format!("i-{index:08x}"),
                instance_type: Some("t3.micro".into()),
                state: InstanceState { name: "running".into(), code: Some(16) },
                vpc_id: Some(format!("vpc-{}", index % 100)),
                subnet_id: Some(format!("subnet-{}", index % 400)),
                private_ip_address: Some(format!("10.{}.{}.{}", index % 250, (index / 250) % 250, index % 200)),
                ..Instance::default()
            });
            regional.ec2.volumes.push(Volume { volume_id: format!("vol-{index:08x}"), size: Some(8), encrypted: index % 3 == 0, ..Volume::default() });
        }
        for operation in ["DescribeInstances", "DescribeSecurityGroups", "DescribeVolumes"] {
            inventory.ledger.record(ApiCall::new("ec2", region, operation, None, Outcome::Ok));
        }
        inventory.regional.insert(region.into(), regional);
    }
    inventory
}

/// Changes 1% of the resources of a `Shape::mixed` account: every 66th security group (a rule
/// opened to the world) and instance (stopped); these are two thirds of the resources, so 1.5%
/// of them is 1% of all. Returns how many were changed.
pub fn change_one_percent(inventory: &mut Inventory) -> usize {
    let mut changed = 0;
    for regional in inventory.regional.values_mut() {
        for group in regional.ec2.security_groups.iter_mut().step_by(66) {
            if let Some(range) = group.ip_permissions.first_mut().and_then(|rule| rule.ip_ranges.first_mut()) {
                range.cidr_ip = "0.0.0.0/0".into();
                changed += 1;
            }
        }
        for instance in regional.ec2.instances.iter_mut().step_by(66) {
            instance.state.name = "stopped".into();
            changed += 1;
        }
    }
    changed
}

/// The findings of `CHECKS` over the account: PASS or FAIL as the resources are (a group open
/// to the world fails `sg_open_to_world`, a stopped instance `instance_running`).
pub fn findings(inventory: &Inventory) -> Vec<Finding> {
    let text = |text: &str| SharedStr::from(text);
    let checks = CHECKS.map(text);
    let (service, account, message) = (text("ec2"), text(ACCOUNT), text("synthetic"));
    let (group_type, instance_type) = (text("AWS::EC2::SecurityGroup"), text("AWS::EC2::Instance"));
    let evidence = Evidence::from(serde_json::json!({"synthetic": true}));
    let finding = |check: &SharedStr, status: Status, region: &SharedStr, resource_type: &SharedStr, arn: &SharedStr, id: &SharedStr| Finding {
        check_id: check.clone(),
        check_title: check.clone(),
        service: service.clone(),
        severity: Severity::High,
        status,
        account_id: account.clone(),
        region: region.clone(),
        resource_arn: arn.clone(),
        resource_type: resource_type.clone(),
        resource_id: id.clone(),
        resource_tags: Default::default(),
        message: message.clone(),
        evidence: evidence.clone(),
        mute_reason: None,
    };
    let mut findings = Vec::new();
    for (region, regional) in &inventory.regional {
        let region = text(region.as_str());
        for group in &regional.ec2.security_groups {
            let open = group.ip_permissions.iter().any(|rule| rule.ip_ranges.iter().any(|range| range.cidr_ip == "0.0.0.0/0"));
            let arn = text(&format!("arn:aws:ec2:{}:{ACCOUNT}:security-group/{}", &*region, group.group_id));
            let id = text(&group.group_id);
            for (check, status) in checks.iter().take(3).zip([if open { Status::Fail } else { Status::Pass }, Status::Pass, Status::Pass]) {
                findings.push(finding(check, status, &region, &group_type, &arn, &id));
            }
        }
        for instance in &regional.ec2.instances {
            let arn = text(&format!("arn:aws:ec2:{}:{ACCOUNT}:instance/{}", &*region, instance.instance_id));
            let id = text(&instance.instance_id);
            let running = if instance.state.name == "running" { Status::Pass } else { Status::Fail };
            for (check, status) in checks.iter().skip(3).zip([Status::Fail, running]) {
                findings.push(finding(check, status, &region, &instance_type, &arn, &id));
            }
        }
    }
    findings
}

/// A scan of `inventory` with `findings` in which all of `CHECKS` ran.
pub fn scan<'a>(inventory: &'a Inventory, findings: &'a [Finding]) -> ScanInput<'a> {
    ScanInput {
        started_at: chrono::Utc::now(),
        finished_at: chrono::Utc::now(),
        source: "bench".into(),
        inventories: vec![inventory],
        findings,
        checks_run: CHECKS.map(str::to_string).to_vec(),
        analyses: None,
    }
}
