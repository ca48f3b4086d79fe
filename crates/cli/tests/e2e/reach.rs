//! End-to-end tests of `vigil reach` against a topology seeded in moto: instances behind
//! every combination of public address, internet gateway route, network ACL (inbound deny,
//! missing ephemeral-port egress), security group by CIDR or by group reference, and an
//! internet-facing Application Load Balancer in front of a private instance.

use std::collections::BTreeMap;
use std::process::Command;

use crate::common::{run, vigil};
use aws_sdk_ec2::types as ec2;
use aws_sdk_elasticloadbalancingv2::types as elbv2;
use serde_json::Value;
use vigil_testkit::MotoServer;

/// The seeded topology: instance ids by role, and the load balancer's ARN.
struct Topology {
    instances: BTreeMap<&'static str, String>,
    balancer_arn: String,
}

async fn seed(moto: &MotoServer) -> Topology {
    let config = moto.sdk_config_with_keys("testing", "testing", "us-east-1").await;
    let client = aws_sdk_ec2::Client::new(&config);
    let vpc = client.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    let igw = client.create_internet_gateway().send().await.unwrap().internet_gateway.unwrap().internet_gateway_id.unwrap();
    client.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    let public_table = client.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap().route_table_id.unwrap();
    client.create_route().route_table_id(&public_table).destination_cidr_block("0.0.0.0/0").gateway_id(&igw).send().await.unwrap();

    // (name, block, zone, routes to the gateway, maps a public IP on launch)
    let mut subnets = BTreeMap::new();
    for (name, block, zone, public_route, public_ip) in [
        ("public", "10.0.1.0/24", "us-east-1a", true, true),
        ("public-b", "10.0.5.0/24", "us-east-1b", true, true),
        ("no-public-ip", "10.0.6.0/24", "us-east-1a", true, false),
        ("private", "10.0.2.0/24", "us-east-1a", false, true),
        ("nacl-deny-ssh", "10.0.3.0/24", "us-east-1a", true, true),
        ("nacl-no-ephemeral", "10.0.4.0/24", "us-east-1a", true, true),
    ] {
        let subnet = client.create_subnet().vpc_id(&vpc).cidr_block(block).availability_zone(zone).send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
        if public_route {
            client.associate_route_table().route_table_id(&public_table).subnet_id(&subnet).send().await.unwrap();
        }
        if public_ip {
            client
                .modify_subnet_attribute()
                .subnet_id(&subnet)
                .map_public_ip_on_launch(ec2::AttributeBooleanValue::builder().value(true).build())
                .send()
                .await
                .unwrap();
        }
        subnets.insert(name, subnet);
    }

    // Two custom network ACLs: one denies SSH inbound, one lets no reply out to ephemeral ports.
    let entry = |acl: &str, number: i32, egress: bool, allow: bool, ports: Option<(i32, i32)>| {
        let mut request =
            client.create_network_acl_entry().network_acl_id(acl).rule_number(number).egress(egress).cidr_block("0.0.0.0/0").rule_action(if allow {
                ec2::RuleAction::Allow
            } else {
                ec2::RuleAction::Deny
            });
        request = match ports {
            Some((from, to)) => request.protocol("6").port_range(ec2::PortRange::builder().from(from).to(to).build()),
            None => request.protocol("-1"),
        };
        request.send()
    };
    for (subnet, rules) in [
        ("nacl-deny-ssh", vec![(90, false, false, Some((22, 22))), (100, false, true, None), (100, true, true, None)]),
        ("nacl-no-ephemeral", vec![(100, false, true, None), (100, true, true, Some((80, 80)))]),
    ] {
        let acl = client.create_network_acl().vpc_id(&vpc).send().await.unwrap().network_acl.unwrap().network_acl_id.unwrap();
        for (number, egress, allow, ports) in rules {
            entry(&acl, number, egress, allow, ports).await.unwrap();
        }
        let acls =
            client.describe_network_acls().filters(ec2::Filter::builder().name("association.subnet-id").values(&subnets[subnet]).build()).send().await.unwrap();
        let association = acls
            .network_acls()
            .iter()
            .flat_map(|acl| acl.associations())
            .find(|association| association.subnet_id() == Some(subnets[subnet].as_str()))
            .and_then(|association| association.network_acl_association_id())
            .unwrap()
            .to_string();
        client.replace_network_acl_association().association_id(association).network_acl_id(&acl).send().await.unwrap();
    }

    let group = |name: &'static str| client.create_security_group().group_name(name).description(name).vpc_id(&vpc).send();
    let ssh_world = group("ssh-world").await.unwrap().group_id.unwrap();
    let ssh_by_reference = group("ssh-by-reference").await.unwrap().group_id.unwrap();
    let https_narrow = group("https-narrow").await.unwrap().group_id.unwrap();
    let balancer_group = group("balancer").await.unwrap().group_id.unwrap();
    let target_group_sg = group("app").await.unwrap().group_id.unwrap();
    let allow = |group: &str, port: i32, source: Result<&str, &str>| {
        let permission = ec2::IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port);
        let permission = match source {
            Ok(cidr) => permission.ip_ranges(ec2::IpRange::builder().cidr_ip(cidr).build()),
            Err(group) => permission.user_id_group_pairs(ec2::UserIdGroupPair::builder().group_id(group).build()),
        };
        client.authorize_security_group_ingress().group_id(group).ip_permissions(permission.build()).send()
    };
    allow(&ssh_world, 22, Ok("0.0.0.0/0")).await.unwrap();
    allow(&ssh_by_reference, 22, Err(&ssh_world)).await.unwrap();
    allow(&https_narrow, 443, Ok("203.0.113.0/24")).await.unwrap();
    allow(&balancer_group, 80, Ok("0.0.0.0/0")).await.unwrap();
    allow(&target_group_sg, 8080, Err(&balancer_group)).await.unwrap();

    let mut instances = BTreeMap::new();
    for (role, subnet, group) in [
        ("open-ssh", "public", &ssh_world),
        ("no-public-ip", "no-public-ip", &ssh_world),
        ("no-gateway-route", "private", &ssh_world),
        ("nacl-denies-ssh", "nacl-deny-ssh", &ssh_world),
        ("nacl-no-ephemeral", "nacl-no-ephemeral", &ssh_world),
        ("ssh-by-reference", "public", &ssh_by_reference),
        ("https-narrow", "public", &https_narrow),
        ("behind-balancer", "private", &target_group_sg),
    ] {
        let reservation = client
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(ec2::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnets[subnet])
            .security_group_ids(group)
            .send()
            .await
            .unwrap();
        instances.insert(role, reservation.instances()[0].instance_id().unwrap().to_string());
    }

    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let balancer = elb
        .create_load_balancer()
        .name("front")
        .scheme(elbv2::LoadBalancerSchemeEnum::InternetFacing)
        .r#type(elbv2::LoadBalancerTypeEnum::Application)
        .subnets(&subnets["public"])
        .subnets(&subnets["public-b"])
        .security_groups(&balancer_group)
        .send()
        .await
        .unwrap();
    let balancer_arn = balancer.load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let target_group = elb
        .create_target_group()
        .name("app")
        .protocol(elbv2::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .target_type(elbv2::TargetTypeEnum::Instance)
        .send()
        .await
        .unwrap();
    let target_group_arn = target_group.target_groups()[0].target_group_arn().unwrap().to_string();
    elb.register_targets()
        .target_group_arn(&target_group_arn)
        .targets(elbv2::TargetDescription::builder().id(&instances["behind-balancer"]).port(8080).build())
        .send()
        .await
        .unwrap();
    elb.create_listener()
        .load_balancer_arn(&balancer_arn)
        .protocol(elbv2::ProtocolEnum::Http)
        .port(80)
        .default_actions(elbv2::Action::builder().r#type(elbv2::ActionTypeEnum::Forward).target_group_arn(&target_group_arn).build())
        .send()
        .await
        .unwrap();
    Topology { instances, balancer_arn }
}

fn with_moto(command: &mut Command, moto: &MotoServer) {
    for (key, value) in moto.env() {
        command.env(key, value);
    }
}

#[test]
fn reach_lists_exactly_the_exposed_instances_with_ports_and_sources() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let topology = runtime.block_on(seed(&moto));

    let mut reach = vigil();
    reach.args(["reach", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--format", "json"]);
    with_moto(&mut reach, &moto);
    let (code, stdout, stderr) = run(&mut reach);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));

    // Only the open instance, the narrow HTTPS one, the balancer and its target are listed.
    let role_of = |id: &str| -> String {
        topology.instances.iter().find(|(_, instance)| instance.as_str() == id).map(|(role, _)| role.to_string()).unwrap_or_else(|| id.to_string())
    };
    let listed: std::collections::BTreeSet<(String, String)> =
        rows.iter().map(|row| (role_of(row["resource_id"].as_str().unwrap()), row["via"].as_str().unwrap().to_string())).collect();
    let expected: std::collections::BTreeSet<(String, String)> = [
        ("open-ssh".to_string(), "direct".to_string()),
        ("https-narrow".to_string(), "direct".to_string()),
        (topology.balancer_arn.clone(), "direct".to_string()),
        ("behind-balancer".to_string(), topology.balancer_arn.clone()),
    ]
    .into_iter()
    .collect();
    assert_eq!(listed, expected, "{stdout}");

    let row = |role: &str, via: &str| {
        let id = topology.instances.get(role).cloned().unwrap_or_else(|| role.to_string());
        rows.iter().find(|row| row["resource_id"] == id.as_str() && row["via"] == via).unwrap_or_else(|| panic!("no row for {role}: {stdout}"))
    };
    let ssh = row("open-ssh", "direct");
    assert_eq!(ssh["protocol"], "tcp");
    assert_eq!(ssh["ports"], serde_json::json!([[22, 22]]));
    assert!(ssh["interface_id"].as_str().unwrap().starts_with("eni-"), "{ssh}");
    assert!(ssh["address"].as_str().unwrap().parse::<std::net::Ipv4Addr>().is_ok(), "{ssh}");
    // Every source but the VPC's own block, whose replies the local route keeps inside.
    let sources: Vec<&str> = ssh["sources"].as_array().unwrap().iter().map(|source| source.as_str().unwrap()).collect();
    // The VPC's own block cannot be an internet source, so the world reads as 0.0.0.0/0.
    assert_eq!(sources, vec!["0.0.0.0/0"]);
    let kinds: Vec<&str> = ssh["path"].as_array().unwrap().iter().map(|hop| hop["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["address", "internet-gateway", "route-table", "nacl-inbound", "nacl-outbound", "security-group", "instance"]);

    let https = row("https-narrow", "direct");
    assert_eq!(https["ports"], serde_json::json!([[443, 443]]));
    assert_eq!(https["sources"], serde_json::json!(["203.0.113.0/24"]));

    let behind = row("behind-balancer", &topology.balancer_arn);
    assert_eq!(behind["ports"], serde_json::json!([[80, 80]]));
    assert!(behind["address"].as_str().unwrap().contains("front"), "{behind}");
    let kinds: Vec<&str> = behind["path"].as_array().unwrap().iter().map(|hop| hop["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"listener") && kinds.contains(&"target-group") && kinds.last() == Some(&"instance"), "{kinds:?}");
    let balancer = row(&topology.balancer_arn, "direct");
    assert_eq!(balancer["ports"], serde_json::json!([[80, 80]]));

    // Explain, offline from a snapshot: the first hop that drops each blocked instance.
    let directory = tempfile::tempdir().unwrap();
    let snapshot = directory.path().join("net.vigil");
    let mut collect = vigil();
    collect.args(["collect", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--service", "ec2", "--service", "elbv2", "-o"]).arg(&snapshot);
    with_moto(&mut collect, &moto);
    let (code, _, stderr) = run(&mut collect);
    assert_eq!(code, 0, "{stderr}");
    drop(moto);
    for (role, port, reachable, blocking_kind) in [
        ("open-ssh", 22, true, None),
        ("open-ssh", 3389, false, Some("security-group")),
        ("no-public-ip", 22, false, Some("address")),
        ("no-gateway-route", 22, false, Some("route-table")),
        ("nacl-denies-ssh", 22, false, Some("nacl-inbound")),
        ("nacl-no-ephemeral", 22, false, Some("nacl-outbound")),
        ("ssh-by-reference", 22, false, Some("security-group")),
        ("behind-balancer", 80, true, None),
    ] {
        let mut explain = vigil();
        explain.args(["reach", "explain", &topology.instances[role], "--port", &port.to_string(), "--format", "json", "--snapshot"]).arg(&snapshot);
        let (code, stdout, stderr) = run(&mut explain);
        assert_eq!(code, 0, "{role}: {stderr}");
        let answer: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(answer["reachable"], reachable, "{role} {port}: {stdout}");
        if let Some(kind) = blocking_kind {
            let direct = answer["endpoints"].as_array().unwrap().iter().find(|endpoint| endpoint["via"] == "direct").unwrap();
            assert_eq!(direct["blocked_by"]["kind"], kind, "{role} {port}: {stdout}");
        }
    }
    let (code, _, stderr) = run(vigil().args(["reach", "explain", "i-does-not-exist", "--port", "22", "--snapshot"]).arg(&snapshot));
    assert_eq!(code, 2);
    assert!(stderr.contains("i-does-not-exist"), "{stderr}");
}

#[test]
fn demo_reach_prints_a_table_and_json() {
    let (code, stdout, stderr) = run(vigil().args(["reach", "--demo"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("REGION") || stdout.contains("Nothing"), "{stdout}");
    let (code, stdout, stderr) = run(vigil().args(["reach", "--demo", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    for row in rows {
        for field in ["resource_id", "interface_id", "address", "protocol", "ports", "sources", "via", "path"] {
            assert!(row.get(field).is_some(), "{field} missing in {row}");
        }
    }
}
