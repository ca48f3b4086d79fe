//! Tests of the ECS join on small hand-made accounts: a task's network interface, exposed
//! directly or behind a load balancer's IP target, is the task (or the service that started
//! it) running as its task role, and the path goes on to what that role reads.

use serde_json::json;
use vigil_model::ec2::*;
use vigil_model::elb::{Listener, ListenerAction, LoadBalancer, TargetDescription, TargetGroup};
use vigil_model::iam::{InlinePolicy, InstanceProfile, Role};
use vigil_model::inventory::AccountInfo;
use vigil_model::s3::Bucket;
use vigil_model::workloads::{EcsService, EcsTask, EcsTaskDefinition};
use vigil_model::{AccountId, Inventory, Region, Tags};
use vigil_net::Network;

use super::{HostFacts, Options, Report, attack_paths};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const SERVICE: &str = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
const TASK: &str = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123abcd";
const DEFINITION: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3";
const BUCKET: &str = "arn:aws:s3:::payroll-data";
const BALANCER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/1";

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// How the task is reached and what it runs as.
#[derive(Clone, Copy)]
struct Case {
    /// The task's interface has a public address.
    public_address: bool,
    /// An internet-facing load balancer forwards to the task's private address (an IP target).
    balancer: bool,
    /// The task's security group opens tcp/80 to the world.
    open_rule: bool,
    /// `service:web`, else `family:web`.
    service: bool,
    /// The task definition's task role: `reader` reads the bucket, `lister` only lists it.
    definition_role: Option<&'static str>,
    task_role_override: Option<&'static str>,
    /// The interface is attached to an EC2 container instance whose profile holds `lister`.
    on_container_instance: bool,
}

const BASE: Case = Case {
    public_address: true,
    balancer: false,
    open_rule: true,
    service: true,
    definition_role: Some("reader"),
    task_role_override: None,
    on_container_instance: false,
};

/// A public subnet (routed to an internet gateway, with an ACL allowing everything), a bucket
/// tagged confidential, the roles `reader` (s3:GetObject on it) and `lister` (s3:ListBucket
/// only), the task definition `web:3`, the service `web` and one task with one interface.
fn account(case: Case) -> Inventory {
    let account = AccountInfo {
        account_id: AccountId::try_from(ACCOUNT.to_string()).unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    let mut inventory = Inventory::new(account, vec![Region::new(REGION)], chrono::Utc::now());
    let mut tags = Tags::new();
    tags.insert("data-classification".into(), "confidential".into());
    inventory.s3.buckets.push(Bucket { name: "payroll-data".into(), region: REGION.into(), tags, ..Bucket::default() });
    let trust = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "Service": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"] }, "Action": "sts:AssumeRole" }] });
    for (name, action, resource) in [("reader", "s3:GetObject", "arn:aws:s3:::payroll-data/*"), ("lister", "s3:ListBucket", "arn:aws:s3:::payroll-data")] {
        inventory.iam.roles.push(Role {
            role_name: name.into(),
            arn: role_arn(name),
            assume_role_policy_document: Some(trust.clone()),
            role_policy_list: vec![InlinePolicy {
                policy_name: "data".into(),
                policy_document: json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": action, "Resource": resource }] }),
            }],
            instance_profile_list: vec![InstanceProfile {
                instance_profile_name: name.into(),
                instance_profile_id: format!("AIPA{name}"),
                arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}"),
            }],
            ..Role::default()
        });
    }

    let mut ec2 = Ec2::default();
    ec2.vpcs.push(Vpc { vpc_id: "vpc-1".into(), cidr_block: Some("10.0.0.0/16".into()), ..Default::default() });
    ec2.internet_gateways.push(InternetGateway {
        internet_gateway_id: "igw-1".into(),
        attachments: vec![GatewayAttachment { vpc_id: "vpc-1".into(), state: Some("available".into()) }],
        ..Default::default()
    });
    ec2.subnets.push(Subnet { subnet_id: "subnet-1".into(), vpc_id: "vpc-1".into(), cidr_block: Some("10.0.1.0/24".into()), ..Default::default() });
    ec2.route_tables.push(RouteTable {
        route_table_id: "rtb-1".into(),
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
        entries: [false, true]
            .into_iter()
            .map(|egress| NetworkAclEntry {
                rule_number: 100,
                protocol: "-1".into(),
                rule_action: "allow".into(),
                egress,
                cidr_block: Some("0.0.0.0/0".into()),
                ..Default::default()
            })
            .collect(),
        associations: vec![NetworkAclAssociation { subnet_id: Some("subnet-1".into()), ..Default::default() }],
        ..Default::default()
    });
    let web = IpPermission {
        ip_protocol: "tcp".into(),
        from_port: Some(80),
        to_port: Some(80),
        ip_ranges: vec![IpRange { cidr_ip: "0.0.0.0/0".into(), description: None }],
        ..Default::default()
    };
    // The task's group always lets the VPC (a load balancer's nodes) in.
    let from_vpc = IpPermission { ip_ranges: vec![IpRange { cidr_ip: "10.0.0.0/16".into(), description: None }], ..web.clone() };
    ec2.security_groups.push(SecurityGroup {
        group_id: "sg-task".into(),
        group_name: "task".into(),
        vpc_id: Some("vpc-1".into()),
        ip_permissions: if case.open_rule { vec![from_vpc, web.clone()] } else { vec![from_vpc] },
        ..Default::default()
    });
    ec2.security_groups.push(SecurityGroup {
        group_id: "sg-front".into(),
        group_name: "front".into(),
        vpc_id: Some("vpc-1".into()),
        ip_permissions: vec![web],
        ..Default::default()
    });
    // The task's interface (a Fargate task's is attached to no instance).
    ec2.network_interfaces.push(NetworkInterface {
        network_interface_id: "eni-task".into(),
        subnet_id: Some("subnet-1".into()),
        vpc_id: Some("vpc-1".into()),
        description: Some("arn:aws:ecs:us-east-1:123456789012:attachment/5678".into()),
        interface_type: Some("interface".into()),
        status: Some("in-use".into()),
        private_ip_address: Some("10.0.1.20".into()),
        association: case.public_address.then(|| NetworkInterfaceAssociation { public_ip: Some("198.51.100.20".into()), ..Default::default() }),
        attachment: Some(NetworkInterfaceAttachment {
            instance_id: case.on_container_instance.then(|| "i-host".to_string()),
            device_index: Some(if case.on_container_instance { 1 } else { 0 }),
            status: Some("attached".into()),
            ..Default::default()
        }),
        groups: vec![GroupIdentifier { group_id: "sg-task".into(), group_name: None }],
        ..Default::default()
    });
    if case.on_container_instance {
        // The container instance runs as `lister`; its own interface is private.
        ec2.instances.push(Instance {
            instance_id: "i-host".into(),
            state: InstanceState { name: "running".into(), code: Some(16) },
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some("subnet-1".into()),
            private_ip_address: Some("10.0.1.10".into()),
            security_groups: vec![GroupIdentifier { group_id: "sg-task".into(), group_name: None }],
            iam_instance_profile: Some(IamInstanceProfile { arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/lister"), id: None }),
            ..Default::default()
        });
    }
    let regional = inventory.regional.entry(Region::new(REGION)).or_default();
    regional.ec2 = ec2;
    if case.balancer {
        regional.load_balancers.push(LoadBalancer {
            load_balancer_arn: BALANCER.into(),
            load_balancer_name: "front".into(),
            dns_name: Some("front-1.us-east-1.elb.amazonaws.com".into()),
            scheme: Some("internet-facing".into()),
            r#type: Some("application".into()),
            vpc_id: Some("vpc-1".into()),
            state: Some("active".into()),
            subnet_ids: vec!["subnet-1".into()],
            security_groups: vec!["sg-front".into()],
            listeners: vec![Listener {
                listener_arn: format!("{BALANCER}/listener/80"),
                port: Some(80),
                protocol: Some("HTTP".into()),
                default_actions: vec![ListenerAction { r#type: "forward".into(), target_group_arns: vec!["tg-web".into()], ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        });
        regional.target_groups.push(TargetGroup {
            target_group_arn: "tg-web".into(),
            target_group_name: "web".into(),
            protocol: Some("HTTP".into()),
            port: Some(80),
            vpc_id: Some("vpc-1".into()),
            target_type: Some("ip".into()),
            load_balancer_arns: vec![BALANCER.into()],
            targets: vec![TargetDescription { id: "10.0.1.20".into(), port: Some(80), health_state: Some("healthy".into()), ..Default::default() }],
        });
    }
    regional.ecs_task_definitions.push(EcsTaskDefinition {
        task_definition_arn: DEFINITION.into(),
        family: "web".into(),
        revision: 3,
        task_role_arn: case.definition_role.map(role_arn),
        network_mode: Some("awsvpc".into()),
        ..Default::default()
    });
    regional.ecs_services.push(EcsService {
        service_arn: SERVICE.into(),
        service_name: "web".into(),
        cluster_arn: CLUSTER.into(),
        task_definition: Some(DEFINITION.into()),
        ..Default::default()
    });
    regional.ecs_tasks.push(EcsTask {
        task_arn: TASK.into(),
        cluster_arn: CLUSTER.into(),
        task_definition_arn: Some(DEFINITION.into()),
        task_role_arn_override: case.task_role_override.map(role_arn),
        last_status: Some("RUNNING".into()),
        group: Some(if case.service { "service:web" } else { "family:web" }.into()),
        network_interface_ids: vec!["eni-task".into()],
        ..Default::default()
    });
    inventory
}

fn run(inventory: &Inventory) -> Report {
    let network = Network::new(inventory);
    let account = vigil_iam::account::Account::from_inventory(inventory);
    attack_paths(inventory, &network, &account, &HostFacts::default(), &Options::default())
}

/// The paths' hops as (from, to, kind, via).
fn hops(report: &Report) -> Vec<Vec<(String, String, String, String)>> {
    report.paths.iter().map(|path| path.hops.iter().map(|hop| (hop.from.clone(), hop.to.clone(), hop.kind.clone(), hop.via.clone())).collect()).collect()
}

/// Checks the one path of a case: its nodes, in order, and the `runs-as` hop's words.
fn check(case: Case, nodes: &[&str], runs_as_via: &str) {
    let report = run(&account(case));
    let found = hops(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    let path = &found[0];
    let mut expected: Vec<String> = nodes.iter().map(|node| node.to_string()).collect();
    expected.insert(0, "internet".into());
    let walked: Vec<String> = std::iter::once("internet".to_string()).chain(path.iter().map(|hop| hop.1.clone())).collect();
    assert_eq!(walked, expected, "{path:#?}");
    let runs_as: Vec<&(String, String, String, String)> = path.iter().filter(|hop| hop.2 == "runs-as").collect();
    assert_eq!(runs_as.len(), 1, "{path:#?}");
    assert_eq!(runs_as[0].3, runs_as_via, "{path:#?}");
    assert_eq!(path.last().map(|hop| hop.2.as_str()), Some("access"), "{path:#?}");
    // The network hop into the task names the task's (or the balancer's) world-open rule,
    // which the cut revokes.
    let group = if case.balancer { "sg-front" } else { "sg-task" };
    assert!(path[0].3.starts_with(&format!("{group} tcp 80-80 from 0.0.0.0/0")), "{path:#?}");
    let cut = &report.paths[0].cut;
    assert_eq!(cut.len(), 1, "{cut:#?}");
    assert_eq!(cut[0].kind, "security-group-rule");
}

#[test]
fn an_exposed_interface_of_a_service_task_is_the_service_running_as_the_task_definition_role() {
    check(BASE, &[SERVICE, &role_arn("reader"), BUCKET], "task role of task definition web:3");
}

#[test]
fn a_task_started_alone_is_the_task_and_runs_as_its_override() {
    let case = Case { service: false, definition_role: Some("lister"), task_role_override: Some("reader"), ..BASE };
    check(case, &[TASK, &role_arn("reader"), BUCKET], "task role override of task 0123abcd");
}

#[test]
fn a_task_behind_a_load_balancer_ip_target_is_reached_through_the_balancer() {
    let case = Case { public_address: false, balancer: true, open_rule: false, ..BASE };
    check(case, &[BALANCER, SERVICE, &role_arn("reader"), BUCKET], "task role of task definition web:3");
}

#[test]
fn a_task_interface_on_a_container_instance_runs_as_the_task_role_not_the_instance_profile() {
    let case = Case { on_container_instance: true, ..BASE };
    check(case, &[SERVICE, &role_arn("reader"), BUCKET], "task role of task definition web:3");
}

#[test]
fn a_task_that_is_not_reachable_or_whose_role_cannot_read_is_no_path() {
    let cases = [
        ("no ingress rule", Case { open_rule: false, ..BASE }),
        ("no public address and no balancer", Case { public_address: false, ..BASE }),
        ("a role that only lists", Case { definition_role: Some("lister"), ..BASE }),
        ("no task role", Case { definition_role: None, ..BASE }),
        ("an override that only lists", Case { task_role_override: Some("lister"), ..BASE }),
    ];
    for (name, case) in cases {
        let report = run(&account(case));
        assert!(report.paths.is_empty(), "{name}: {:#?}", hops(&report));
    }
}

#[test]
fn a_service_task_whose_service_was_not_read_is_the_service_named_by_its_cluster_and_group() {
    let mut inventory = account(BASE);
    for regional in inventory.regional.values_mut() {
        regional.ecs_services.clear();
    }
    let report = run(&inventory);
    let found = hops(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0][0].1, SERVICE, "{found:#?}");
}
