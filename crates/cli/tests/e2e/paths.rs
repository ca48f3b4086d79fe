//! End-to-end tests of `vigil paths` against an account seeded in moto: an instance with SSH
//! open to the world running with a role that can read a bucket tagged sensitive is a path
//! with the right hops and a cut naming the security group rule; its twins (the same without
//! the ingress rule, or without the permission) are not. Likewise an ECS task of a service,
//! reached through its network interface, running with a task role that reads the bucket.

use std::process::Command;

use crate::common::{run, vigil};
use aws_sdk_ec2::types as ec2;
use serde_json::{Value, json};
use vigil_testkit::MotoServer;

const ACCOUNT: &str = "123456789012";

/// The seeded account: instance ids of the three twins, the group that opens SSH.
struct Seeded {
    open_ssh_reader: String,
    closed_reader: String,
    open_ssh_lister: String,
    ssh_group: String,
}

/// The bucket every seed's paths lead to: `payroll-data`, tagged `data-classification=confidential`.
async fn confidential_bucket(config: &aws_types::SdkConfig) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::Client::new(config);
    s3.create_bucket().bucket("payroll-data").send().await.unwrap();
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("data-classification").value("confidential").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket("payroll-data").tagging(tagging).send().await.unwrap();
    s3
}

async fn seed(moto: &MotoServer) -> Seeded {
    let config = moto.sdk_config_with_keys("testing", "testing", "us-east-1").await;
    let s3 = confidential_bucket(&config).await;
    s3.create_bucket().bucket("public-assets").send().await.unwrap();

    let iam = aws_sdk_iam::Client::new(&config);
    let trust =
        json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" }, "Action": "sts:AssumeRole" }] });
    for (role, action) in [("reader", "s3:GetObject"), ("lister", "s3:ListBucket")] {
        iam.create_role().role_name(role).assume_role_policy_document(trust.to_string()).send().await.unwrap();
        let resource = if action == "s3:GetObject" { "arn:aws:s3:::payroll-data/*" } else { "arn:aws:s3:::payroll-data" };
        let policy = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": action, "Resource": resource }] });
        iam.put_role_policy().role_name(role).policy_name("data").policy_document(policy.to_string()).send().await.unwrap();
        iam.create_instance_profile().instance_profile_name(role).send().await.unwrap();
        iam.add_role_to_instance_profile().instance_profile_name(role).role_name(role).send().await.unwrap();
    }

    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    let igw = ec2.create_internet_gateway().send().await.unwrap().internet_gateway.unwrap().internet_gateway_id.unwrap();
    ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    let table = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap().route_table_id.unwrap();
    ec2.create_route().route_table_id(&table).destination_cidr_block("0.0.0.0/0").gateway_id(&igw).send().await.unwrap();
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.0.1.0/24").send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
    ec2.associate_route_table().route_table_id(&table).subnet_id(&subnet).send().await.unwrap();
    ec2.modify_subnet_attribute().subnet_id(&subnet).map_public_ip_on_launch(ec2::AttributeBooleanValue::builder().value(true).build()).send().await.unwrap();
    let ssh_group = ec2.create_security_group().group_name("ssh-world").description("ssh").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
    ec2.authorize_security_group_ingress()
        .group_id(&ssh_group)
        .ip_permissions(
            ec2::IpPermission::builder().ip_protocol("tcp").from_port(22).to_port(22).ip_ranges(ec2::IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
        )
        .send()
        .await
        .unwrap();
    let closed_group = ec2.create_security_group().group_name("closed").description("no ingress").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
    let launch = |group: String, profile: &'static str| {
        ec2.run_instances()
            .image_id("ami-12c6146b")
            .instance_type(ec2::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet)
            .security_group_ids(group)
            .iam_instance_profile(ec2::IamInstanceProfileSpecification::builder().name(profile).build())
            .send()
    };
    let id = |output: aws_sdk_ec2::operation::run_instances::RunInstancesOutput| output.instances()[0].instance_id().unwrap().to_string();
    let open_ssh_reader = id(launch(ssh_group.clone(), "reader").await.unwrap());
    let closed_reader = id(launch(closed_group.clone(), "reader").await.unwrap());
    let open_ssh_lister = id(launch(ssh_group.clone(), "lister").await.unwrap());
    Seeded { open_ssh_reader, closed_reader, open_ssh_lister, ssh_group }
}

fn paths(moto: &MotoServer, extra: &[&str]) -> Vec<Value> {
    let mut command: Command = vigil();
    command.args(["paths", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--format", "json"]).args(extra);
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let (code, stdout, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

#[test]
fn an_instance_with_ssh_open_and_a_role_reading_a_sensitive_bucket_is_a_path_and_its_twins_are_not() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seeded = runtime.block_on(seed(&moto));
    let found = paths(&moto, &[]);
    let bucket = "arn:aws:s3:::payroll-data";
    let instance = |id: &str| format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{id}");
    let reader = format!("arn:aws:iam::{ACCOUNT}:role/reader");

    // Exactly one path: the open instance running as the reader, to the tagged bucket.
    assert_eq!(found.len(), 1, "{found:#?}");
    let path = &found[0];
    assert_eq!(path["source"], "internet");
    assert_eq!(path["target"], bucket);
    let hops: Vec<(&str, &str)> = path["hops"].as_array().unwrap().iter().map(|hop| (hop["from"].as_str().unwrap(), hop["to"].as_str().unwrap())).collect();
    let open = instance(&seeded.open_ssh_reader);
    assert_eq!(hops, vec![("internet", open.as_str()), (open.as_str(), reader.as_str()), (reader.as_str(), bucket)], "{path:#}");
    assert!(path["hops"][0]["via"].as_str().unwrap().contains(&seeded.ssh_group), "{path:#}");
    assert!(path["hops"][0]["via"].as_str().unwrap().contains("0.0.0.0/0"), "{path:#}");
    assert!(path["hops"][2]["via"].as_str().unwrap().contains("s3:GetObject"), "{path:#}");
    assert!(path["score"].as_u64().unwrap() > 0, "{path:#}");

    // The twins: no ingress rule, or no permission to read objects.
    for twin in [&seeded.closed_reader, &seeded.open_ssh_lister] {
        assert!(!found.iter().any(|path| path["hops"].as_array().unwrap().iter().any(|hop| hop["to"] == instance(twin).as_str())), "{twin}: {found:#?}");
    }

    // The cut names the security group rule, linked to its fixer.
    let cut = path["cut"].as_array().unwrap();
    assert_eq!(cut.len(), 1, "{path:#}");
    assert_eq!(cut[0]["kind"], "security-group-rule");
    assert_eq!(cut[0]["resource"], format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{}", seeded.ssh_group).as_str());
    assert!(cut[0]["change"].as_str().unwrap().contains("22"), "{path:#}");
    assert_eq!(cut[0]["fix"], "ec2_security_group_admin_ports_open_to_world");

    // Filters: --to another resource, --from the twin instance.
    assert!(paths(&moto, &["--to", "arn:aws:s3:::public-assets"]).is_empty());
    assert!(paths(&moto, &["--from", &instance(&seeded.open_ssh_lister)]).is_empty());
    assert_eq!(paths(&moto, &["--from", &open]).len(), 1);
}

/// Issue 18: attack paths are amplified by the vulnerabilities hosts report. An agent on the
/// seeded instance with SSH open reports a critical vulnerability to a store; `vigil paths
/// --store` reads it, and the paths into that instance are more likely, saying why; the other
/// instance's paths and a run without `--store` are unchanged.
#[test]
fn vulnerabilities_an_agent_reports_raise_the_paths_into_its_instance() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seeded = runtime.block_on(seed(&moto));
    let before = paths(&moto, &[]);
    let instance_id = seeded.open_ssh_reader.clone();
    let instance_arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{instance_id}");
    // Whether a path enters the instance from the internet (directly or through a balancer).
    let enters = |path: &Value| {
        path["source"] == "internet" && path["hops"].as_array().into_iter().flatten().any(|hop| hop["kind"] == "network" && hop["to"] == instance_arn.as_str())
    };
    assert!(before.iter().any(enters), "the seeded account has a path into {instance_arn}: {before:?}");

    let directory = tempfile::tempdir().unwrap();
    let location = directory.path().join("vigil.db").display().to_string();
    let mut store = vigil_store::Store::open(&location).unwrap();
    let agent = vigil_store::agents::NewAgent {
        id: "agt-web",
        instance_id: Some(&instance_id),
        account_id: None,
        region: None,
        hostname: "web",
        agent_version: "0.1.0",
        enrolled_by: "token:t",
        secret_hash: "x",
        at: "2026-12-05T00:00:00Z",
        at_unix: 1_796_428_800,
    };
    store.enrol_agent(&agent).unwrap();
    let health = json!([{"module": "vulns", "state": "ok", "events": 1}]);
    store.record_heartbeat("agt-web", "2026-12-05T00:01:00Z", 1_796_428_860, "0.1.0", "web", None, &health, &json!({})).unwrap();
    let finding = |id: &str, severity: &str| json!({"id": id, "aliases": [], "package": "openssl", "installed": "1.0-1", "fixed": null, "fix_available": false, "severity": severity});
    let report = json!({"snapshot": "v1", "part": 1, "parts": 1, "ecosystem": "Debian:12", "packages": 1, "records": 2,
        "items": [finding("DSA-1", "critical"), finding("DSA-2", "low")]});
    let event = vigil_fleet::wire::Sequenced {
        seq: 1,
        event: vigil_fleet::Event { id: "v1:1".into(), module: "vulns".into(), kind: "findings".into(), time: "2026-12-05T00:00:30Z".into(), payload: report },
    };
    store.record_agent_events("agt-web", &[event], "2026-12-05T00:01:00Z", 1_796_428_860).unwrap();
    drop(store);

    let after = paths(&moto, &["--store", &location]);
    assert_eq!(after.len(), before.len(), "host facts rank paths; they add or remove none");
    let into = |paths: &[Value]| -> Vec<Value> { paths.iter().filter(|path| enters(path)).cloned().collect() };
    let (plain, amplified) = (into(&before), into(&after));
    assert!(!amplified.is_empty());
    for path in &amplified {
        let reasons: Vec<&str> = path["reasons"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(reasons.contains(&"1 critical vulnerabilities reported by the host"), "{reasons:?}");
        let same = plain.iter().find(|other| other["target"] == path["target"] && other["hops"] == path["hops"]).expect("the same path without the report");
        assert!(path["likelihood"].as_u64() >= same["likelihood"].as_u64(), "{path}\n{same}");
        assert!(!same["reasons"].to_string().contains("reported by the host"), "{same}");
    }
    for path in after.iter().filter(|path| !enters(path)) {
        assert!(!path["reasons"].to_string().contains("reported by the host"), "only the reporting instance's paths change: {path}");
    }

    let garbage = directory.path().join("not-a-store.db");
    std::fs::write(&garbage, "this is not a database, and it is long enough for SQLite to look at its header").unwrap();
    let (code, _, stderr) = run(vigil().args(["paths", "--demo", "--store"]).arg(&garbage));
    assert_ne!(code, 0);
    assert!(stderr.contains(&format!("cannot read the agents' reports from the store `{}`", garbage.display())), "{stderr}");
}

/// One ECS task as the seed ran it: its ARN, the interface moto made for it, and its group.
struct RunTask {
    task_arn: String,
    interface_id: String,
    group: String,
    definition: &'static str,
}

/// The seeded ECS account: the service whose task is open, the three tasks (the service's, and
/// the twins: the same definition behind a closed group, a definition whose role only lists),
/// the open group.
struct SeededEcs {
    service_arn: String,
    tasks: Vec<RunTask>,
    web_group: String,
}

async fn seed_ecs(moto: &MotoServer) -> SeededEcs {
    let config = moto.sdk_config_with_keys("testing", "testing", "us-east-1").await;
    confidential_bucket(&config).await;

    let iam = aws_sdk_iam::Client::new(&config);
    let trust = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }] });
    for (role, action, resource) in
        [("task-reader", "s3:GetObject", "arn:aws:s3:::payroll-data/*"), ("task-lister", "s3:ListBucket", "arn:aws:s3:::payroll-data")]
    {
        iam.create_role().role_name(role).assume_role_policy_document(trust.to_string()).send().await.unwrap();
        let policy = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": action, "Resource": resource }] });
        iam.put_role_policy().role_name(role).policy_name("data").policy_document(policy.to_string()).send().await.unwrap();
    }

    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    // moto 5.2.1's RunTask of an `awsvpc` task fails (HTTP 500: the interface has no
    // `private_dns_name`) unless the VPC has DNS hostnames, as default VPCs do.
    ec2.modify_vpc_attribute().vpc_id(&vpc).enable_dns_hostnames(ec2::AttributeBooleanValue::builder().value(true).build()).send().await.unwrap();
    let igw = ec2.create_internet_gateway().send().await.unwrap().internet_gateway.unwrap().internet_gateway_id.unwrap();
    ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    let table = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap().route_table_id.unwrap();
    ec2.create_route().route_table_id(&table).destination_cidr_block("0.0.0.0/0").gateway_id(&igw).send().await.unwrap();
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.0.1.0/24").send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
    ec2.associate_route_table().route_table_id(&table).subnet_id(&subnet).send().await.unwrap();
    let web_group = ec2.create_security_group().group_name("web-world").description("web").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
    ec2.authorize_security_group_ingress()
        .group_id(&web_group)
        .ip_permissions(
            ec2::IpPermission::builder().ip_protocol("tcp").from_port(80).to_port(80).ip_ranges(ec2::IpRange::builder().cidr_ip("0.0.0.0/0").build()).build(),
        )
        .send()
        .await
        .unwrap();
    let closed_group = ec2.create_security_group().group_name("closed").description("no ingress").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();

    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster().cluster_name("prod").send().await.unwrap();
    for (family, role) in [("web", "task-reader"), ("lister", "task-lister")] {
        ecs.register_task_definition()
            .family(family)
            .task_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{role}"))
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("app")
                    .image("public.ecr.aws/nginx/nginx:latest")
                    .memory(512)
                    .port_mappings(aws_sdk_ecs::types::PortMapping::builder().container_port(80).build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let network = |group: &str| {
        aws_sdk_ecs::types::NetworkConfiguration::builder()
            .awsvpc_configuration(aws_sdk_ecs::types::AwsVpcConfiguration::builder().subnets(&subnet).security_groups(group).build().unwrap())
            .build()
    };
    let service = ecs
        .create_service()
        .cluster("prod")
        .service_name("web")
        .task_definition("web")
        .desired_count(1)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .network_configuration(network(&web_group))
        .send()
        .await
        .unwrap();
    let service_arn = service.service.unwrap().service_arn.unwrap();

    // moto's services start no tasks, so the service's task is run with the group ECS gives a
    // service's tasks (`service:NAME`). moto 5.2.1 copies the container definition's `cpu` and
    // `memory` (numbers) into the task's containers, where ECS (and so the SDK) has strings:
    // its RunTask and DescribeTasks replies do not parse. The task exists all the same; its ARN
    // is read from ListTasks and its interface (described `moto ECS`) from
    // DescribeNetworkInterfaces, each the one new since the previous task.
    let mut tasks = Vec::new();
    for (definition, group, task_group) in [("web", &web_group, "service:web"), ("web", &closed_group, "family:web"), ("lister", &web_group, "family:lister")] {
        let (tasks_before, interfaces_before) = (ecs_task_arns(&ecs).await, ecs_interfaces(&ec2).await);
        let _unparseable_reply = ecs
            .run_task()
            .cluster("prod")
            .task_definition(definition)
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .network_configuration(network(group))
            .group(task_group)
            .send()
            .await;
        let new_task: Vec<String> = ecs_task_arns(&ecs).await.into_iter().filter(|arn| !tasks_before.contains(arn)).collect();
        let new_interface: Vec<String> = ecs_interfaces(&ec2).await.into_iter().filter(|id| !interfaces_before.contains(id)).collect();
        assert_eq!((new_task.len(), new_interface.len()), (1, 1), "{new_task:?} {new_interface:?}");
        // moto gives the task's interface no public address: an Elastic IP makes it reachable.
        let allocation = ec2.allocate_address().domain(ec2::DomainType::Vpc).send().await.unwrap().allocation_id.unwrap();
        ec2.associate_address().allocation_id(allocation).network_interface_id(&new_interface[0]).send().await.unwrap();
        tasks.push(RunTask { task_arn: new_task[0].clone(), interface_id: new_interface[0].clone(), group: task_group.to_string(), definition });
    }
    SeededEcs { service_arn, tasks, web_group }
}

async fn ecs_task_arns(ecs: &aws_sdk_ecs::Client) -> Vec<String> {
    ecs.list_tasks().cluster("prod").send().await.unwrap().task_arns.unwrap_or_default()
}

async fn ecs_interfaces(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    let output = ec2.describe_network_interfaces().filters(ec2::Filter::builder().name("description").values("moto ECS").build()).send().await.unwrap();
    output.network_interfaces.unwrap_or_default().into_iter().filter_map(|interface| interface.network_interface_id).collect()
}

#[test]
fn an_ecs_service_task_with_a_world_open_port_runs_as_its_task_role_to_a_sensitive_bucket_and_its_twins_do_not() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seeded = runtime.block_on(seed_ecs(&moto));
    let directory = tempfile::tempdir().unwrap();
    let snapshot = directory.path().join("account.vigil");
    let mut command = vigil();
    command.args(["-q", "collect", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "-o"]).arg(&snapshot);
    for service in ["ec2", "iam", "s3", "ecs"] {
        command.args(["--service", service]);
    }
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let (code, _, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stderr}");
    // What moto could not give DescribeTasks (see the seed) is added as AWS returns it: the
    // task's group and its `ElasticNetworkInterface` attachment. Everything else (the
    // interfaces and their Elastic IPs, the groups, the task definitions and their roles, the
    // service, the bucket's tags, the policies) is as collected from moto.
    let mut inventory = vigil_model::snapshot::read(&snapshot).unwrap();
    let regional = inventory.regional.get_mut(&vigil_model::Region::new("us-east-1")).unwrap();
    assert!(
        regional.ecs_task_definitions.iter().any(|definition| definition.family == "web" && definition.task_role_arn.is_some()),
        "{:#?}",
        regional.ecs_task_definitions
    );
    assert!(regional.ecs_services.iter().any(|service| service.service_arn == seeded.service_arn), "{:#?}", regional.ecs_services);
    let cluster_arn = format!("arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/prod");
    for task in &seeded.tasks {
        if regional.ecs_tasks.iter().any(|collected| collected.task_arn == task.task_arn) {
            continue;
        }
        regional.ecs_tasks.push(vigil_model::workloads::EcsTask {
            task_arn: task.task_arn.clone(),
            cluster_arn: cluster_arn.clone(),
            task_definition_arn: Some(format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{}:1", task.definition)),
            last_status: Some("RUNNING".into()),
            launch_type: Some("FARGATE".into()),
            group: Some(task.group.clone()),
            network_interface_ids: vec![task.interface_id.clone()],
            ..Default::default()
        });
    }
    vigil_model::snapshot::write(&snapshot, &inventory).unwrap();
    let snapshot_arg = snapshot.to_str().unwrap();
    let from_snapshot = |extra: &[&str]| -> Vec<Value> {
        let (code, stdout, stderr) = run(vigil().args(["paths", "--snapshot", snapshot_arg, "--format", "json"]).args(extra));
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    };
    let found = from_snapshot(&[]);
    let bucket = "arn:aws:s3:::payroll-data";
    let reader = format!("arn:aws:iam::{ACCOUNT}:role/task-reader");

    // Exactly one path: the service's open task running as the reader, to the tagged bucket.
    assert_eq!(found.len(), 1, "{found:#?}");
    let path = &found[0];
    assert_eq!(path["source"], "internet");
    assert_eq!(path["target"], bucket);
    let hops: Vec<(&str, &str, &str)> = path["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| (hop["from"].as_str().unwrap(), hop["to"].as_str().unwrap(), hop["kind"].as_str().unwrap()))
        .collect();
    let service = seeded.service_arn.as_str();
    assert_eq!(hops, vec![("internet", service, "network"), (service, reader.as_str(), "runs-as"), (reader.as_str(), bucket, "access")], "{path:#}");
    assert!(path["hops"][0]["via"].as_str().unwrap().starts_with(&format!("{} tcp 80-80 from 0.0.0.0/0", seeded.web_group)), "{path:#}");
    assert_eq!(path["hops"][1]["via"], "task role of task definition web:1", "{path:#}");
    assert!(path["hops"][2]["via"].as_str().unwrap().contains("s3:GetObject"), "{path:#}");

    // The twins (the same definition behind a closed group, a role that only lists) are no path.
    for twin in &seeded.tasks[1..] {
        assert!(
            !found.iter().any(|path| path["hops"].as_array().unwrap().iter().any(|hop| hop["to"] == twin.task_arn.as_str())),
            "{}: {found:#?}",
            twin.task_arn
        );
    }

    // The cut revokes the web rule (a single web port has no fixer).
    let cut = path["cut"].as_array().unwrap();
    assert_eq!(cut.len(), 1, "{path:#}");
    assert_eq!(cut[0]["kind"], "security-group-rule");
    assert_eq!(cut[0]["resource"], format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{}", seeded.web_group).as_str());
    assert_eq!(from_snapshot(&["--from", service]).len(), 1);
}

/// Records that agent `agt-web`, on `instance_id`, reported a host firewall dropping tcp/22
/// (the `firewall` module's `ruleset` report, as `vigil-agent` sends it).
fn store_with_a_firewall_dropping_ssh(location: &str, instance_id: &str) {
    use vigil_net::host_firewall::{Action, Condition, Families, HostChain, HostRule, HostRuleset};
    let mut store = vigil_store::Store::open(location).unwrap();
    let agent = vigil_store::agents::NewAgent {
        id: "agt-web",
        instance_id: Some(instance_id),
        account_id: None,
        region: None,
        hostname: "web",
        agent_version: "0.1.0",
        enrolled_by: "token:t",
        secret_hash: "x",
        at: "2026-12-05T00:00:00Z",
        at_unix: 1_796_428_800,
    };
    store.enrol_agent(&agent).unwrap();
    let ruleset = HostRuleset {
        backend: "nftables".into(),
        chains: vec![HostChain {
            name: "inet filter input".into(),
            families: Families::Both,
            input_hook: Some(0),
            policy_accepts: true,
            rules: vec![HostRule {
                label: "inet filter input #2: tcp dport 22 drop".into(),
                conditions: vec![
                    Condition::Protocols { numbers: vec![6], negated: false },
                    Condition::DestinationPorts { ranges: vec![[22, 22]], negated: false },
                ],
                action: Action::Drop,
            }],
        }],
        notes: vec![],
    };
    let (head, items) = ruleset.to_report("nft -j list ruleset");
    let mut payload = json!({"snapshot": "f1", "part": 1, "parts": 1, "items": items});
    for (key, value) in head.as_object().unwrap() {
        payload[key] = value.clone();
    }
    let event = vigil_fleet::wire::Sequenced {
        seq: 1,
        event: vigil_fleet::Event { id: "f1:1".into(), module: "firewall".into(), kind: "ruleset".into(), time: "2026-12-05T00:00:30Z".into(), payload },
    };
    store.record_agent_events("agt-web", &[event], "2026-12-05T00:01:00Z", 1_796_428_860).unwrap();
}

/// Issues 16 and 18: the host firewall an agent reports joins the exposure engine. The seeded
/// instance with SSH open to the world, whose agent reports a ruleset dropping tcp/22, is not
/// exposed on 22 and no attack path enters it, in `vigil paths --store`, `vigil reach --store`
/// and the exposure analyses and attack paths `vigil scan` stores; the same account without
/// the report keeps the path, and an explicit `--host-firewall` file wins over the report.
#[test]
fn a_host_firewall_an_agent_reports_dropping_ssh_closes_the_path_through_port_22() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seeded = runtime.block_on(seed(&moto));
    let instance_id = seeded.open_ssh_reader.clone();
    let instance_arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{instance_id}");
    let enters = |path: &Value| path["hops"].as_array().into_iter().flatten().any(|hop| hop["kind"] == "network" && hop["to"] == instance_arn.as_str());
    assert!(paths(&moto, &[]).iter().any(enters), "without the report, the path through port 22 stays");

    let directory = tempfile::tempdir().unwrap();
    let reported = directory.path().join("reported.db").display().to_string();
    let unreported = directory.path().join("unreported.db").display().to_string();
    store_with_a_firewall_dropping_ssh(&reported, &instance_id);
    drop(vigil_store::Store::open(&unreported).unwrap());

    // `vigil paths --store`: no path enters the instance; with an empty store, it does.
    let closed = paths(&moto, &["--store", &reported]);
    assert!(!closed.iter().any(enters), "{closed:#?}");
    assert!(paths(&moto, &["--store", &unreported]).iter().any(enters));
    // An explicit file (the host accepts everything) wins over the agent's report.
    let accepts_all = directory.path().join("accepts-all.v4");
    std::fs::write(&accepts_all, "# Generated by iptables-save v1.8.9\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n")
        .unwrap();
    let explicit = format!("{instance_id}={}", accepts_all.display());
    assert!(paths(&moto, &["--store", &reported, "--host-firewall", &explicit]).iter().any(enters));

    // `vigil reach --store`: the instance is not exposed on 22.
    let reach = |store: &str| -> Vec<Value> {
        let mut command = vigil();
        command.args(["reach", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--format", "json", "--store", store]);
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 0, "{stderr}");
        let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
        rows.into_iter().filter(|row| row["resource_id"] == instance_id.as_str()).collect()
    };
    assert_eq!(reach(&unreported).iter().map(|row| row["ports"].clone()).collect::<Vec<_>>(), [json!([[22, 22]])]);
    assert!(reach(&reported).is_empty(), "the host drops 22");

    // `vigil scan --store`: the stored exposure analyses and attack paths agree.
    for (store, exposed) in [(&reported, false), (&unreported, true)] {
        let mut command = vigil();
        command.args(["scan", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--store", store]);
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        let (code, _, stderr) = run(&mut command);
        assert_eq!(code, 0, "{stderr}");
        let mut opened = vigil_store::Store::open(store).unwrap();
        let exposures = opened.analyses::<vigil_model::analysis::Exposure>().unwrap();
        let on_22 = exposures.iter().any(|stored| stored.result.resource_id == instance_id && stored.result.ports.contains(&[22, 22]));
        assert_eq!(on_22, exposed, "{store}: {exposures:#?}");
        let stored_paths = opened.analyses::<vigil_model::analysis::AttackPath>().unwrap();
        let entering = stored_paths.iter().any(|stored| stored.result.hops.iter().any(|hop| hop.kind == "network" && hop.to == instance_arn));
        assert_eq!(entering, exposed, "{store}: {stored_paths:#?}");
    }
}
