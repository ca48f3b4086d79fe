//! End-to-end tests of `vigil fix` on moto: for every fixer a misconfigured resource beside a
//! well-configured twin; the plan names exactly the calls and sends none of them (moto's
//! request recorder); `--apply --yes` applies them, a rescan shows the findings resolved and
//! `vigil diff` no other change; `vigil fix undo` restores the configuration exactly. Also:
//! the effect analysis flags a load balancer losing its targets, a resource changed between
//! plan and apply is refused, `--print-policy` is enough with moto enforcing IAM (and one
//! action less fails cleanly, recorded as failed), IaC output, and automation in `vigil watch`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use aws_sdk_ec2::types as ec2;
use serde_json::{Value, json};
use vigil_testkit::MotoServer;
use vigil_testkit::moto::is_read_only;

use crate::common::run;

/// A moto account with a store beside it.
struct Account {
    moto: MotoServer,
    directory: tempfile::TempDir,
    store: PathBuf,
    regions: Vec<&'static str>,
    /// Only these services are collected (the ones the fixes under test touch).
    services: Vec<&'static str>,
    /// A cloud-aware policy file for scans and plans.
    policy: Option<PathBuf>,
    runtime: tokio::runtime::Runtime,
}

impl Account {
    fn new(regions: &[&'static str], services: &[&'static str]) -> Account {
        Account::with_env(regions, services, &[])
    }

    fn with_env(regions: &[&'static str], services: &[&'static str], env: &[(&str, &str)]) -> Account {
        let directory = tempfile::tempdir().unwrap();
        let store = directory.path().join("vigil.db");
        Account {
            moto: MotoServer::start_with_env(env),
            directory,
            store,
            regions: regions.to_vec(),
            services: services.to_vec(),
            policy: None,
            runtime: tokio::runtime::Runtime::new().unwrap(),
        }
    }

    /// Writes a cloud-aware policy that scans and plans then use.
    fn use_policy(&mut self, text: &str) {
        let path = self.directory.path().join("policy.yaml");
        std::fs::write(&path, text).unwrap();
        self.policy = Some(path);
    }

    fn vigil(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
        for (key, value) in self.moto.env() {
            command.env(key, value);
        }
        command
    }

    /// `vigil <subcommand words> --endpoint-url ... --region ... <rest of args>`: the
    /// account's options go right after the leading words, so that the caller may append the
    /// value of the args' last option.
    fn live(&self, args: &[&str]) -> Command {
        self.with_options(args, false)
    }

    /// [`Account::live`] with the services and the policy (for commands that collect and check).
    fn assessing(&self, args: &[&str]) -> Command {
        self.with_options(args, true)
    }

    fn with_options(&self, args: &[&str], assessing: bool) -> Command {
        let words = args.iter().take_while(|arg| !arg.starts_with('-')).count();
        let mut command = self.vigil();
        command.args(&args[..words]).args(["--endpoint-url", &self.moto.endpoint_url]);
        for region in &self.regions {
            command.args(["--region", region]);
        }
        if assessing {
            for service in &self.services {
                command.args(["--service", service]);
            }
            if let Some(policy) = &self.policy {
                command.arg("--policy").arg(policy);
            }
        }
        command.args(&args[words..]);
        command
    }

    fn scan(&self) {
        let (code, _, stderr) = run(self.assessing(&["scan", "--store"]).arg(&self.store));
        assert_eq!(code, 0, "{stderr}");
    }

    /// The plan (JSON) for these arguments; asserts nothing was changed on the way.
    fn plan(&self, args: &[&str]) -> Value {
        self.moto.start_recording();
        let mut command = self.assessing(&["fix", "--format", "json", "--store"]);
        command.arg(&self.store).args(args);
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 0, "{stderr}");
        let mutating: Vec<String> = self
            .moto
            .recorded_requests()
            .iter()
            .filter(|request| !is_read_only(request))
            .map(|request| format!("{} {} {}", request["method"], request["url"], request["body"]))
            .collect();
        assert!(mutating.is_empty(), "planning sent mutating calls: {mutating:#?}");
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }

    /// Applies the plan for these arguments; returns (exit code, JSON output, stderr).
    fn apply(&self, args: &[&str]) -> (i32, Value, String) {
        let mut command = self.assessing(&["fix", "--apply", "--yes", "--format", "json", "--store"]);
        command.arg(&self.store).args(args);
        let (code, stdout, stderr) = run(&mut command);
        let output = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}\n{stderr}"));
        (code, output, stderr)
    }

    fn undo(&self, id: i64) -> (i32, String) {
        let mut command = self.live(&["fix", "undo", &id.to_string(), "--yes", "--store"]);
        command.arg(&self.store);
        let (code, _, stderr) = run(&mut command);
        (code, stderr)
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut command = self.vigil();
        command.args(args).arg("--store").arg(&self.store);
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
    }

    fn diff(&self, from: i64, to: i64) -> Value {
        self.json(&["diff", &from.to_string(), &to.to_string(), "--format", "json"])
    }

    async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.moto.sdk_config_with_keys("testing", "testing", region).await)
    }
}

/// (check, resource id) of every fix in a plan.
fn planned(plan: &Value) -> BTreeSet<(String, String)> {
    plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fix| (fix["check_id"].as_str().unwrap().to_string(), fix["target"]["id"].as_str().unwrap().to_string()))
        .collect()
}

fn fix_for<'a>(plan: &'a Value, check: &str, id: &str) -> &'a Value {
    plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fix| fix["check_id"] == check && fix["target"]["id"] == id)
        .unwrap_or_else(|| panic!("no fix of {check} on {id} in {plan:#}"))
}

/// (operation, parameters) of a fix's calls.
fn calls(fix: &Value) -> Vec<(String, Value)> {
    fix["calls"].as_array().unwrap().iter().map(|call| (call["operation"].as_str().unwrap().to_string(), call["parameters"].clone())).collect()
}

/// The ARNs a diff names as added, removed or changed.
/// A trail's `Status.Latest*` times move on their own (delivery), fixed or not: not a change.
fn changed(diff: &Value) -> BTreeSet<String> {
    let only_delivery_times = |entry: &Value| {
        entry["fields"]
            .as_array()
            .is_some_and(|fields| !fields.is_empty() && fields.iter().all(|field| field["path"].as_str().is_some_and(|path| path.starts_with("Status.Latest"))))
    };
    ["added", "removed", "changed"]
        .iter()
        .flat_map(|key| {
            diff[key].as_array().unwrap().iter().filter(|entry| !only_delivery_times(entry)).map(|entry| entry["arn"].as_str().unwrap().to_string())
        })
        .collect()
}

/// (check, resource ARN) pairs of a diff's list.
fn findings(diff: &Value, key: &str) -> BTreeSet<(String, String)> {
    diff[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| (finding["check_id"].as_str().unwrap().to_string(), finding["resource_arn"].as_str().unwrap().to_string()))
        .collect()
}

/// The ids of the fixes an apply recorded, in order.
fn applied_ids(output: &Value) -> Vec<i64> {
    output["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            assert_eq!(result["status"], "applied", "{output:#}");
            result["id"].as_i64().unwrap()
        })
        .collect()
}

/// Applies the plans of `rounds` (one `vigil fix` run each, in order), rescans, checks the diff
/// holds only the fixes' resources and their resolved findings, undoes every fix (newest
/// first), rescans and checks the account is back where it started. `scan_before` is the id of
/// the scan taken before the fixes.
fn apply_verify_and_undo(account: &Account, rounds: &[Vec<String>], scan_before: i64, expected_targets: &BTreeSet<String>) {
    let mut resolved = BTreeSet::new();
    let mut ids = Vec::new();
    for round in rounds {
        let args: Vec<&str> = round.iter().map(String::as_str).collect();
        let plan = account.plan(&args);
        assert!(!plan["fixes"].as_array().unwrap().is_empty(), "nothing planned for {args:?}: {plan:#}");
        for fix in plan["fixes"].as_array().unwrap() {
            for finding in fix["resolves"].as_array().unwrap() {
                resolved.insert((finding["check_id"].as_str().unwrap().to_string(), finding["resource"].as_str().unwrap().to_string()));
            }
        }
        let (code, output, stderr) = account.apply(&args);
        assert_eq!(code, 0, "{stderr}\n{output:#}");
        let applied = applied_ids(&output);
        assert_eq!(applied.len(), plan["fixes"].as_array().unwrap().len(), "{output:#}");
        ids.extend(applied);
    }
    account.scan();
    let diff = account.diff(scan_before, scan_before + 1);
    // An expected target ending in `*` stands for the resources a fix creates (a detector).
    let expected = |arn: &String| expected_targets.iter().any(|target| target == arn || target.strip_suffix('*').is_some_and(|prefix| arn.starts_with(prefix)));
    let unexpected: Vec<String> = changed(&diff).into_iter().filter(|arn| !expected(arn)).collect();
    assert!(unexpected.is_empty(), "changed beyond the fixes: {unexpected:?}\n{diff:#}");
    assert!(findings(&diff, "new_findings").is_empty(), "the fixes opened findings: {diff:#}");
    let fixed = findings(&diff, "fixed_findings");
    let stored: BTreeSet<(String, String)> = resolved.iter().filter(|(_, arn)| arn.starts_with("arn:")).cloned().collect();
    assert!(stored.is_subset(&fixed), "planned as resolved but not fixed: {:?}", stored.difference(&fixed).collect::<Vec<_>>());
    for id in ids.iter().rev() {
        let (code, stderr) = account.undo(*id);
        assert_eq!(code, 0, "undo {id}: {stderr}");
    }
    account.scan();
    let back = account.diff(scan_before, scan_before + 2);
    assert!(changed(&back).is_empty(), "undo left changes: {back:#}");
    assert!(findings(&back, "new_findings").is_empty() && findings(&back, "fixed_findings").is_empty(), "{back:#}");
}

/// `--check` and `--resource` arguments for one round.
fn round(checks: &[&str], resources: &[&str]) -> Vec<String> {
    let mut args = Vec::new();
    for check in checks {
        args.extend(["--check".to_string(), check.to_string()]);
    }
    for resource in resources {
        args.extend(["--resource".to_string(), resource.to_string()]);
    }
    args
}

fn ingress(protocol: &str, port: Option<i32>, cidr: &str) -> ec2::IpPermission {
    let mut permission = ec2::IpPermission::builder().ip_protocol(protocol);
    if let Some(port) = port {
        permission = permission.from_port(port).to_port(port);
    }
    permission.ip_ranges(ec2::IpRange::builder().cidr_ip(cidr).build()).build()
}

#[test]
fn security_group_fixers_revoke_exactly_the_world_open_rules_and_undo_restores_them() {
    let account = Account::new(&["us-east-1"], &["ec2"]);
    let groups = account.runtime.block_on(async {
        let client = account.ec2("us-east-1").await;
        let vpc = client.create_vpc().cidr_block("10.1.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
        let mut groups = std::collections::BTreeMap::new();
        for (name, rules) in [
            ("ssh-world", vec![ingress("tcp", Some(22), "0.0.0.0/0"), ingress("tcp", Some(443), "0.0.0.0/0")]),
            ("ssh-office", vec![ingress("tcp", Some(22), "10.0.0.0/8")]),
            ("all-world", vec![ingress("-1", None, "0.0.0.0/0")]),
            ("mysql-world", vec![ingress("tcp", Some(3306), "0.0.0.0/0")]),
            ("web-world", vec![ingress("tcp", Some(443), "0.0.0.0/0")]),
            ("alt-port-world", vec![ingress("tcp", Some(8080), "0.0.0.0/0")]),
        ] {
            let id = client.create_security_group().group_name(name).description(name).vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
            client.authorize_security_group_ingress().group_id(&id).set_ip_permissions(Some(rules)).send().await.unwrap();
            groups.insert(name, id);
        }
        groups
    });
    account.scan();
    let checks = [
        "ec2_security_group_admin_ports_open_to_world",
        "ec2_security_group_no_all_traffic_from_world",
        "ec2_security_group_high_risk_ports_not_open_to_world",
        "ec2_security_group_only_authorized_ports_open_to_world",
    ];
    let args = round(&checks, &[]);
    let plan = account.plan(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let bad: BTreeSet<&str> = ["ssh-world", "all-world", "mysql-world", "alt-port-world"].into_iter().collect();
    let touched: BTreeSet<String> = planned(&plan).into_iter().map(|(_, id)| id).collect();
    let expected: BTreeSet<String> = bad.iter().map(|name| groups[name].clone()).collect();
    assert_eq!(touched, expected, "{plan:#}");
    let ssh = fix_for(&plan, "ec2_security_group_admin_ports_open_to_world", &groups["ssh-world"]);
    assert_eq!(
        calls(ssh),
        vec![(
            "RevokeSecurityGroupIngress".to_string(),
            json!({ "GroupId": groups["ssh-world"], "IpPermissions": [{ "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{ "CidrIp": "0.0.0.0/0" }] }] })
        )],
        "port 443 stays open: {ssh:#}"
    );
    let all = fix_for(&plan, "ec2_security_group_no_all_traffic_from_world", &groups["all-world"]);
    assert_eq!(
        calls(all),
        vec![(
            "RevokeSecurityGroupIngress".to_string(),
            json!({ "GroupId": groups["all-world"], "IpPermissions": [{ "IpProtocol": "-1", "IpRanges": [{ "CidrIp": "0.0.0.0/0" }] }] })
        )]
    );
    assert_eq!(calls(all)[0].0, "RevokeSecurityGroupIngress");
    let arns: BTreeSet<String> = expected.iter().map(|id| format!("arn:aws:ec2:us-east-1:123456789012:security-group/{id}")).collect();
    apply_verify_and_undo(&account, &[args], 1, &arns);
}

fn arn(region: &str, kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:123456789012:{kind}/{id}")
}

#[test]
fn ec2_and_vpc_fixers_change_only_the_misconfigured_twin_and_undo_restores_it() {
    let account = Account::new(&["us-east-1", "eu-west-1"], &["ec2"]);
    let ids = account.runtime.block_on(async {
        let client = account.ec2("us-east-1").await;
        let mut ids = std::collections::BTreeMap::new();
        // EBS encryption by default: off in us-east-1, on in eu-west-1 (the twin).
        account.ec2("eu-west-1").await.enable_ebs_encryption_by_default().send().await.unwrap();
        let vpc = |block: &'static str| {
            let client = client.clone();
            async move { client.create_vpc().cidr_block(block).send().await.unwrap().vpc.unwrap().vpc_id.unwrap() }
        };
        let (bad_vpc, good_vpc) = (vpc("10.2.0.0/16").await, vpc("10.3.0.0/16").await);
        moto_bucket(&account, "flow-log-archive").await;
        client
            .create_flow_logs()
            .resource_ids(&good_vpc)
            .resource_type(ec2::FlowLogsResourceType::Vpc)
            .traffic_type(ec2::TrafficType::All)
            .log_destination_type(ec2::LogDestinationType::S3)
            .log_destination("arn:aws:s3:::flow-log-archive")
            .send()
            .await
            .unwrap();
        // Default security groups: the new VPC's keeps AWS's rules; the default VPC's is emptied.
        let groups = client.describe_security_groups().send().await.unwrap().security_groups.unwrap();
        for group in groups.iter().filter(|group| group.group_name() == Some("default")) {
            let id = group.group_id().unwrap().to_string();
            if group.vpc_id() == Some(bad_vpc.as_str()) {
                ids.insert("default-bad", id);
            } else if group.vpc_id() == Some(good_vpc.as_str()) {
                client.revoke_security_group_egress().group_id(&id).set_ip_permissions(Some(group.ip_permissions_egress().to_vec())).send().await.unwrap();
                ids.insert("default-good", id);
            }
        }
        let subnet = |vpc: String, block: &'static str, public: bool| {
            let client = client.clone();
            async move {
                let id = client.create_subnet().vpc_id(vpc).cidr_block(block).send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
                client
                    .modify_subnet_attribute()
                    .subnet_id(&id)
                    .map_public_ip_on_launch(ec2::AttributeBooleanValue::builder().value(public).build())
                    .send()
                    .await
                    .unwrap();
                id
            }
        };
        ids.insert("subnet-bad", subnet(bad_vpc.clone(), "10.2.1.0/24", true).await);
        ids.insert("subnet-good", subnet(good_vpc.clone(), "10.3.1.0/24", false).await);
        // Network ACLs: the bad VPC's default one admits everything; the good one denies SSH and RDP first.
        let acls = client.describe_network_acls().send().await.unwrap().network_acls.unwrap();
        for acl in &acls {
            let id = acl.network_acl_id().unwrap().to_string();
            if acl.vpc_id() == Some(bad_vpc.as_str()) {
                ids.insert("acl-bad", id);
            } else if acl.vpc_id() == Some(good_vpc.as_str()) {
                for (number, port) in [(80, 22), (81, 3389)] {
                    client
                        .create_network_acl_entry()
                        .network_acl_id(&id)
                        .rule_number(number)
                        .protocol("6")
                        .rule_action(ec2::RuleAction::Deny)
                        .egress(false)
                        .cidr_block("0.0.0.0/0")
                        .port_range(ec2::PortRange::builder().from(port).to(port).build())
                        .send()
                        .await
                        .unwrap();
                }
                ids.insert("acl-good", id);
            }
        }
        ids.insert("vpc-bad", bad_vpc);
        ids.insert("vpc-good", good_vpc);
        // Snapshots: one shared with everyone, one private.
        for (name, public) in [("snapshot-bad", true), ("snapshot-good", false)] {
            let volume = client.create_volume().availability_zone("us-east-1a").size(1).send().await.unwrap().volume_id.unwrap();
            let snapshot = client.create_snapshot().volume_id(volume).send().await.unwrap().snapshot_id.unwrap();
            if public {
                client
                    .modify_snapshot_attribute()
                    .snapshot_id(&snapshot)
                    .attribute(ec2::SnapshotAttributeName::CreateVolumePermission)
                    .operation_type(ec2::OperationType::Add)
                    .group_names("all")
                    .send()
                    .await
                    .unwrap();
            }
            ids.insert(name, snapshot);
        }
        // Instances: IMDSv1 allowed, and IMDSv2 required.
        for (name, tokens) in [("instance-bad", ec2::HttpTokensState::Optional), ("instance-good", ec2::HttpTokensState::Required)] {
            let reply = client
                .run_instances()
                .image_id("ami-12c6146b")
                .instance_type(ec2::InstanceType::T3Micro)
                .min_count(1)
                .max_count(1)
                .subnet_id(&ids["subnet-good"])
                .metadata_options(ec2::InstanceMetadataOptionsRequest::builder().http_tokens(tokens).build())
                .send()
                .await
                .unwrap();
            ids.insert(name, reply.instances.unwrap().remove(0).instance_id.unwrap());
        }
        ids
    });
    account.scan();
    let region = "us-east-1";
    let cases: Vec<(&str, &str, &str, String)> = vec![
        ("ec2_default_security_group_restricts_all", "default-bad", "default-good", "security-group"),
        ("vpc_subnet_no_auto_assign_public_ip", "subnet-bad", "subnet-good", "subnet"),
        ("ec2_network_acl_admin_ports_not_open_to_world", "acl-bad", "acl-good", "network-acl"),
        ("vpc_flow_logs_enabled", "vpc-bad", "vpc-good", "vpc"),
        ("ec2_ebs_snapshot_not_public", "snapshot-bad", "snapshot-good", "snapshot"),
        ("ec2_instance_imdsv2_required", "instance-bad", "instance-good", "instance"),
    ]
    .into_iter()
    .map(|(check, bad, good, kind)| (check, bad, good, kind.to_string()))
    .collect();
    let destination = ["--flow-log-destination", "arn:aws:s3:::flow-log-archive"];
    let mut rounds = Vec::new();
    let mut targets = BTreeSet::new();
    for (check, bad, good, kind) in &cases {
        let (bad_arn, good_arn) = (arn(region, kind, &ids[bad]), arn(region, kind, &ids[good]));
        let mut args = round(&[check], &[&bad_arn, &good_arn]);
        args.extend(destination.iter().map(|arg| arg.to_string()));
        let plan = account.plan(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(planned(&plan), [(check.to_string(), ids[bad].clone())].into_iter().collect(), "{check}: {plan:#}");
        let fix = fix_for(&plan, check, &ids[bad]);
        let expected: Vec<(&str, Value)> = match *check {
            "ec2_default_security_group_restricts_all" => {
                vec![(
                    "RevokeSecurityGroupEgress",
                    json!({ "GroupId": ids[bad], "IpPermissions": [{ "IpProtocol": "-1", "IpRanges": [{ "CidrIp": "0.0.0.0/0" }] }] }),
                )]
            }
            "vpc_subnet_no_auto_assign_public_ip" => {
                vec![("ModifySubnetAttribute", json!({ "SubnetId": ids[bad], "MapPublicIpOnLaunch": { "Value": false } }))]
            }
            "ec2_network_acl_admin_ports_not_open_to_world" => vec![
                (
                    "CreateNetworkAclEntry",
                    json!({ "NetworkAclId": ids[bad], "RuleNumber": 98, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": { "From": 3389, "To": 3389 } }),
                ),
                (
                    "CreateNetworkAclEntry",
                    json!({ "NetworkAclId": ids[bad], "RuleNumber": 99, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": { "From": 22, "To": 22 } }),
                ),
            ],
            "vpc_flow_logs_enabled" => vec![(
                "CreateFlowLogs",
                json!({ "ResourceIds": [ids[bad]], "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-log-archive" }),
            )],
            "ec2_ebs_snapshot_not_public" => {
                vec![(
                    "ModifySnapshotAttribute",
                    json!({ "SnapshotId": ids[bad], "Attribute": "createVolumePermission", "OperationType": "remove", "GroupNames": ["all"] }),
                )]
            }
            _ => vec![(
                "ModifyInstanceMetadataOptions",
                json!({ "InstanceId": ids[bad], "HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1 }),
            )],
        };
        let expected: Vec<(String, Value)> = expected.into_iter().map(|(operation, parameters)| (operation.to_string(), parameters)).collect();
        let got = calls(fix);
        if *check == "ec2_instance_imdsv2_required" {
            // moto reports more metadata options than the call needs to name; the tokens are the change.
            assert_eq!(got[0].0, "ModifyInstanceMetadataOptions");
            assert_eq!((got[0].1["InstanceId"].as_str(), got[0].1["HttpTokens"].as_str()), (Some(ids[bad].as_str()), Some("required")), "{fix:#}");
        } else {
            assert_eq!(got, expected, "{check}: {fix:#}");
        }
        targets.insert(bad_arn);
        rounds.push(args);
    }
    // EBS encryption by default: the setting of us-east-1 only.
    let plan = account.plan(&["--check", "ec2_ebs_encryption_by_default"]);
    let fixes = plan["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 1, "{plan:#}");
    assert_eq!((fixes[0]["region"].as_str(), calls(&fixes[0])), (Some("us-east-1"), vec![("EnableEbsEncryptionByDefault".to_string(), json!({}))]));
    rounds.push(round(&["ec2_ebs_encryption_by_default"], &[]));
    apply_verify_and_undo(&account, &rounds, 1, &targets);
    let encryption =
        account.runtime.block_on(async { account.ec2("us-east-1").await.get_ebs_encryption_by_default().send().await.unwrap().ebs_encryption_by_default });
    assert_eq!(encryption, Some(false), "undo turns encryption by default off again");
}

/// The default version number of a launch template and its HttpTokens, read from moto.
fn launch_template_default(account: &Account, id: &str) -> (Option<i64>, Option<String>) {
    account.runtime.block_on(async {
        let client = account.ec2("us-east-1").await;
        let template = client.describe_launch_templates().launch_template_ids(id).send().await.unwrap().launch_templates.unwrap().remove(0);
        let version = client.describe_launch_template_versions().launch_template_id(id).versions("$Default").send().await.unwrap();
        let tokens = version
            .launch_template_versions
            .unwrap()
            .remove(0)
            .launch_template_data
            .and_then(|data| data.metadata_options)
            .and_then(|options| options.http_tokens);
        (template.default_version_number, tokens.map(|tokens| tokens.as_str().to_string()))
    })
}

#[test]
fn launch_template_fixer_makes_a_default_version_requiring_imdsv2_refuses_after_a_concurrent_version_and_undo_restores_the_old_default() {
    let account = Account::new(&["us-east-1"], &["ec2"]);
    let check = "ec2_launch_template_imdsv2_required";
    let ids = account.runtime.block_on(async {
        let client = account.ec2("us-east-1").await;
        let mut ids = std::collections::BTreeMap::new();
        // Only metadata options in the templates: moto ignores SourceVersion (a new version
        // holds only the data its call names), so other launch parameters would vanish on moto,
        // and not on AWS, from the version the fix makes.
        for (name, tokens) in [("lt-bad", ec2::LaunchTemplateHttpTokensState::Optional), ("lt-good", ec2::LaunchTemplateHttpTokensState::Required)] {
            let options = ec2::LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(tokens)
                .http_endpoint(ec2::LaunchTemplateInstanceMetadataEndpointState::Enabled)
                .http_put_response_hop_limit(2)
                .build();
            let reply = client
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(ec2::RequestLaunchTemplateData::builder().metadata_options(options).build())
                .send()
                .await
                .unwrap();
            ids.insert(name, reply.launch_template.unwrap().launch_template_id.unwrap());
        }
        ids
    });
    // A plan from a snapshot, then someone makes a version (not the default): the predicted
    // version number no longer holds, and the fix is refused without a change.
    let snapshot = account.directory.path().join("account.vigil");
    let (code, _, stderr) = run(account.assessing(&["collect", "-o"]).arg(&snapshot));
    assert_eq!(code, 0, "{stderr}");
    let from_snapshot = |extra: &[&str]| {
        let mut command = account.live(&["fix", "--check", check, "--snapshot"]);
        command.arg(&snapshot).arg("--store").arg(&account.store).args(extra);
        run(&mut command)
    };
    let (code, terraform, stderr) = from_snapshot(&["--format", "terraform"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(terraform.contains("resource \"aws_launch_template\"") && terraform.contains("http_tokens = \"required\""), "{terraform}");
    account.runtime.block_on(async {
        let data = ec2::RequestLaunchTemplateData::builder().instance_type(ec2::InstanceType::T3Micro).build();
        account.ec2("us-east-1").await.create_launch_template_version().launch_template_id(&ids["lt-bad"]).launch_template_data(data).send().await.unwrap();
    });
    account.moto.start_recording();
    let (code, output, stderr) = from_snapshot(&["--apply", "--yes", "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    let output: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(output["results"][0]["status"], "refused", "{output:#}");
    assert!(output["results"][0]["message"].as_str().unwrap().contains("changed since the plan"), "{output:#}");
    let mutating: Vec<Value> = account.moto.recorded_requests().into_iter().filter(|request| !is_read_only(request)).collect();
    assert!(mutating.is_empty(), "a refused fix sent {mutating:#?}");
    assert_eq!(launch_template_default(&account, &ids["lt-bad"]), (Some(1), Some("optional".to_string())));

    account.scan();
    let (bad, good) = (arn("us-east-1", "launch-template", &ids["lt-bad"]), arn("us-east-1", "launch-template", &ids["lt-good"]));
    let args = round(&[check], &[&bad, &good]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = account.plan(&args);
    assert_eq!(planned(&plan), [(check.to_string(), ids["lt-bad"].clone())].into_iter().collect(), "{plan:#}");
    let fix = fix_for(&plan, check, &ids["lt-bad"]);
    let options = json!({ "HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2 });
    assert_eq!(
        calls(fix),
        vec![
            (
                "CreateLaunchTemplateVersion".to_string(),
                json!({ "LaunchTemplateId": ids["lt-bad"], "SourceVersion": "1", "LaunchTemplateData": { "MetadataOptions": options } })
            ),
            // Version 2 is the one made above: the fix makes version 3.
            ("ModifyLaunchTemplate".to_string(), json!({ "LaunchTemplateId": ids["lt-bad"], "DefaultVersion": "3" })),
        ],
        "{fix:#}"
    );
    assert_eq!(
        fix["inverse"],
        json!([{ "service": "ec2", "operation": "ModifyLaunchTemplate", "region": "us-east-1", "parameters": { "LaunchTemplateId": ids["lt-bad"], "DefaultVersion": "1" } }])
    );

    let (code, output, stderr) = account.apply(&args);
    assert_eq!(code, 0, "{stderr}\n{output:#}");
    let applied = applied_ids(&output);
    assert_eq!(applied.len(), 1, "{output:#}");
    assert_eq!(launch_template_default(&account, &ids["lt-bad"]), (Some(3), Some("required".to_string())));
    assert_eq!(launch_template_default(&account, &ids["lt-good"]), (Some(1), Some("required".to_string())));
    account.scan();
    let diff = account.diff(1, 2);
    assert_eq!(changed(&diff), [bad.clone()].into_iter().collect(), "{diff:#}");
    assert!(findings(&diff, "new_findings").is_empty(), "{diff:#}");
    assert!(findings(&diff, "fixed_findings").contains(&(check.to_string(), bad.clone())), "{diff:#}");

    let (code, stderr) = account.undo(applied[0]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(launch_template_default(&account, &ids["lt-bad"]), (Some(1), Some("optional".to_string())));
    account.scan();
    let back = account.diff(1, 3);
    // The version the fix made stays (versions are only added): the latest version number and
    // the list of versions' AMIs (one entry more) are the differences left.
    let fields: Vec<&str> = back["changed"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|entry| entry["fields"].as_array().unwrap().iter().map(|field| field["path"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, ["LatestVersionNumber", "VersionImages[]"], "{back:#}");
    assert!(back["added"].as_array().unwrap().is_empty() && back["removed"].as_array().unwrap().is_empty(), "{back:#}");
    assert!(findings(&back, "new_findings").is_empty() && findings(&back, "fixed_findings").is_empty(), "{back:#}");
}

async fn moto_bucket(account: &Account, name: &str) {
    account.moto.s3("us-east-1").await.create_bucket().bucket(name).send().await.unwrap();
}

#[test]
fn s3_fixers_block_public_access_and_remove_exactly_the_public_grants_and_statements() {
    let account = Account::new(&["us-east-1"], &["s3"]);
    account.runtime.block_on(async {
        let s3 = account.moto.s3("us-east-1").await;
        for name in ["pab-off", "pab-on", "acl-public", "policy-public", "private-twin", "no-tls", "tls-twin", "cross-account", "no-encryption", "encrypted", "acls-on", "acls-off"] {
            s3.create_bucket().bucket(name).send().await.unwrap();
        }
        let block = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        s3.put_public_access_block().bucket("pab-on").public_access_block_configuration(block).send().await.unwrap();
        s3.put_bucket_acl().bucket("acl-public").acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead).send().await.unwrap();
        let policy = |bucket: &str, statements: Value| json!({ "Version": "2012-10-17", "Statement": statements }).to_string().replace("BUCKET", bucket);
        let public_read = json!({ "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*" });
        let account_read = json!({ "Sid": "AccountRead", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::123456789012:root" }, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*" });
        let deny_plain = json!({ "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"], "Condition": { "Bool": { "aws:SecureTransport": "false" } } });
        let foreign_control = json!({ "Sid": "PartnerControl", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": ["s3:PutBucketPolicy", "s3:GetObject"], "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"] });
        s3.put_bucket_policy().bucket("policy-public").policy(policy("policy-public", json!([public_read, account_read]))).send().await.unwrap();
        s3.put_bucket_policy().bucket("tls-twin").policy(policy("tls-twin", json!([deny_plain]))).send().await.unwrap();
        s3.put_bucket_policy().bucket("cross-account").policy(policy("cross-account", json!([foreign_control, account_read]))).send().await.unwrap();
        let by_default = aws_sdk_s3::types::ServerSideEncryptionByDefault::builder().sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::Aes256).build().unwrap();
        let rule = aws_sdk_s3::types::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build();
        s3.put_bucket_encryption()
            .bucket("encrypted")
            .server_side_encryption_configuration(aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder().rules(rule).build().unwrap())
            .send()
            .await
            .unwrap();
        let enforced =
            aws_sdk_s3::types::OwnershipControlsRule::builder().object_ownership(aws_sdk_s3::types::ObjectOwnership::BucketOwnerEnforced).build().unwrap();
        s3.put_bucket_ownership_controls()
            .bucket("acls-off")
            .ownership_controls(aws_sdk_s3::types::OwnershipControls::builder().rules(enforced).build().unwrap())
            .send()
            .await
            .unwrap();
    });
    account.scan();
    let bucket = |name: &str| format!("arn:aws:s3:::{name}");
    let cases = [
        ("s3_bucket_public_access_block_enabled", "pab-off", "pab-on", vec!["PutPublicAccessBlock"]),
        ("s3_bucket_not_public", "acl-public", "private-twin", vec!["PutBucketAcl"]),
        ("s3_bucket_not_public", "policy-public", "private-twin", vec!["PutBucketPolicy"]),
        ("s3_bucket_secure_transport_required", "no-tls", "tls-twin", vec!["PutBucketPolicy"]),
        ("s3_bucket_policy_restricts_cross_account_control", "cross-account", "private-twin", vec!["PutBucketPolicy"]),
        ("s3_bucket_default_encryption_enabled", "no-encryption", "encrypted", vec!["PutBucketEncryption"]),
        ("s3_bucket_acls_disabled", "acls-on", "acls-off", vec!["PutBucketOwnershipControls"]),
    ];
    let mut rounds = Vec::new();
    let mut targets = BTreeSet::new();
    for (check, bad, good, operations) in &cases {
        let args = round(&[check], &[&bucket(bad), &bucket(good)]);
        let plan = account.plan(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(planned(&plan), [(check.to_string(), bad.to_string())].into_iter().collect(), "{check}: {plan:#}");
        let fix = fix_for(&plan, check, bad);
        let got: Vec<String> = calls(fix).into_iter().map(|(operation, _)| operation).collect();
        assert_eq!(&got, operations, "{check}: {fix:#}");
        match *bad {
            "acl-public" => {
                let grants = calls(fix)[0].1["AccessControlPolicy"]["Grants"].clone();
                assert_eq!(grants.as_array().unwrap().len(), 1, "only the owner's grant stays: {grants:#}");
                assert_eq!(grants[0]["Permission"], "FULL_CONTROL");
            }
            "policy-public" | "cross-account" => {
                let kept: Value = serde_json::from_str(calls(fix)[0].1["Policy"].as_str().unwrap()).unwrap();
                let sids: Vec<&str> = kept["Statement"].as_array().unwrap().iter().map(|statement| statement["Sid"].as_str().unwrap()).collect();
                assert_eq!(sids, vec!["AccountRead"], "only the offending statement goes: {kept:#}");
            }
            "no-tls" => {
                let added: Value = serde_json::from_str(calls(fix)[0].1["Policy"].as_str().unwrap()).unwrap();
                assert_eq!(added["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"], "false");
            }
            _ => {}
        }
        targets.insert(bucket(bad));
        rounds.push(args);
    }
    apply_verify_and_undo(&account, &rounds, 1, &targets);

    // The account-level block, planned and applied last (it resolves the buckets' findings too).
    let plan = account.plan(&["--check", "s3_account_public_access_block"]);
    let fix = &plan["fixes"][0];
    assert_eq!(calls(fix)[0].0, "PutPublicAccessBlock");
    assert_eq!(fix["calls"][0]["service"], "s3control");
    assert!(
        fix["resolves"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["check_id"] == "s3_bucket_public_access_block_enabled" && finding["resource"] == bucket("pab-off")),
        "{fix:#}"
    );
    apply_verify_and_undo(&account, &[round(&["s3_account_public_access_block"], &[])], 3, &BTreeSet::new());
}

#[test]
fn iam_fixers_raise_the_password_policy_and_deactivate_only_unused_keys() {
    let mut account = Account::new(&["us-east-1"], &["iam"]);
    // Every active key counts as unused, so a fresh key in the emulator fails the check.
    account.use_policy("description: test\nparameters:\n  max_unused_credential_days: 0\nrules: []\n");
    let keys = account.runtime.block_on(async {
        let iam = aws_sdk_iam::Client::new(&account.moto.sdk_config().await);
        iam.update_account_password_policy().minimum_password_length(8).require_numbers(true).send().await.unwrap();
        let mut keys = std::collections::BTreeMap::new();
        for (user, console, active) in [("batch", false, true), ("retired", false, false), ("console", true, true)] {
            iam.create_user().user_name(user).send().await.unwrap();
            if console {
                iam.create_login_profile().user_name(user).password("Correct-Horse-1").send().await.unwrap();
            }
            let key = iam.create_access_key().user_name(user).send().await.unwrap().access_key.unwrap().access_key_id;
            if !active {
                iam.update_access_key().user_name(user).access_key_id(&key).status(aws_sdk_iam::types::StatusType::Inactive).send().await.unwrap();
            }
            keys.insert(user, key);
        }
        keys
    });
    account.scan();
    let user = |name: &str| format!("arn:aws:iam::123456789012:user/{name}");
    let password_checks = [
        "iam_password_policy_minimum_length_14",
        "iam_password_policy_reuse_prevention_24",
        "iam_password_policy_uppercase",
        "iam_password_policy_lowercase",
        "iam_password_policy_symbol",
        "iam_password_policy_number",
        "iam_password_policy_expires_passwords_within_90_days",
    ];
    let password_round = round(&password_checks, &[]);
    let plan = account.plan(&password_round.iter().map(String::as_str).collect::<Vec<_>>());
    let fixes = plan["fixes"].as_array().unwrap();
    // The policy already requires numbers: six fixes, each one UpdateAccountPasswordPolicy that
    // keeps what the earlier ones set.
    assert_eq!(fixes.len(), 6, "{plan:#}");
    let last = calls(fixes.last().unwrap());
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].0, "UpdateAccountPasswordPolicy");
    let final_policy = &last[0].1;
    assert_eq!(
        (&final_policy["MinimumPasswordLength"], &final_policy["PasswordReusePrevention"], &final_policy["MaxPasswordAge"], &final_policy["RequireNumbers"]),
        (&json!(14), &json!(24), &json!(90), &json!(true)),
        "{final_policy:#}"
    );
    for check in ["iam_user_credentials_unused_45_days", "iam_user_no_unused_access_key_with_console_access"] {
        let plan = account.plan(&["--check", check]);
        let users: BTreeSet<String> = planned(&plan).into_iter().map(|(_, user)| user).collect();
        let expected: BTreeSet<String> = match check {
            "iam_user_credentials_unused_45_days" => ["batch"].into_iter().map(str::to_string).collect(),
            _ => ["console"].into_iter().map(str::to_string).collect(),
        };
        assert_eq!(users, expected, "{check}: {plan:#}");
        if check == "iam_user_credentials_unused_45_days" {
            let skipped: Vec<&Value> = plan["skipped"].as_array().unwrap().iter().filter(|skip| skip["resource"] == user("console")).collect();
            assert!(skipped[0]["reason"].as_str().unwrap().contains("password"), "the console user's password is never removed: {plan:#}");
            let fix = fix_for(&plan, check, "batch");
            assert_eq!(calls(fix), vec![("UpdateAccessKey".to_string(), json!({ "UserName": "batch", "AccessKeyId": keys["batch"], "Status": "Inactive" }))]);
        }
    }
    let rounds = vec![password_round, round(&["iam_user_credentials_unused_45_days"], &[&user("batch")])];
    apply_verify_and_undo(&account, &rounds, 1, &[user("batch")].into_iter().collect());
}

#[test]
fn logging_and_detection_fixers_extend_the_trail_rotate_keys_and_enable_detectors_in_the_failing_region_only() {
    let account = Account::new(&["us-east-1", "eu-west-1"], &["cloudtrail", "kms", "logs", "guardduty", "securityhub"]);
    let keys = account.runtime.block_on(async {
        moto_bucket(&account, "trail-archive").await;
        let config = account.moto.sdk_config().await;
        let trail = aws_sdk_cloudtrail::Client::new(&config);
        for (name, validation) in [("unvalidated", false), ("validated", true)] {
            trail.create_trail().name(name).s3_bucket_name("trail-archive").enable_log_file_validation(validation).send().await.unwrap();
            trail.start_logging().name(name).send().await.unwrap();
        }
        let kms = aws_sdk_kms::Client::new(&config);
        let mut keys = std::collections::BTreeMap::new();
        for name in ["static", "rotating", "public", "private"] {
            let id = kms.create_key().description(name).send().await.unwrap().key_metadata.unwrap().key_id;
            if name != "static" {
                kms.enable_key_rotation().key_id(&id).send().await.unwrap();
            }
            if name == "public" {
                let policy = json!({ "Version": "2012-10-17", "Statement": [
                    { "Sid": "Root", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::123456789012:root" }, "Action": "kms:*", "Resource": "*" },
                    { "Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*" }
                ] });
                kms.put_key_policy().key_id(&id).policy_name("default").policy(policy.to_string()).send().await.unwrap();
            }
            keys.insert(name, id);
        }
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        for (name, days) in [("short-lived", 30), ("kept", 400)] {
            logs.create_log_group().log_group_name(name).send().await.unwrap();
            logs.put_retention_policy().log_group_name(name).retention_in_days(days).send().await.unwrap();
        }
        // The twins of the regional settings live in eu-west-1.
        let europe = account.moto.sdk_config_with_keys("testing", "testing", "eu-west-1").await;
        aws_sdk_guardduty::Client::new(&europe).create_detector().enable(true).send().await.unwrap();
        aws_sdk_securityhub::Client::new(&europe).enable_security_hub().enable_default_standards(false).send().await.unwrap();
        keys
    });
    account.scan();
    let key = |name: &str| format!("arn:aws:kms:us-east-1:123456789012:key/{}", keys[name]);
    let trail = |name: &str| format!("arn:aws:cloudtrail:us-east-1:123456789012:trail/{name}");
    let group = |name: &str| format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}");
    let cases: Vec<(&str, String, String, Vec<&str>)> = vec![
        ("cloudtrail_log_file_validation_enabled", trail("unvalidated"), trail("validated"), vec!["UpdateTrail"]),
        ("kms_key_rotation_enabled", key("static"), key("rotating"), vec!["EnableKeyRotation"]),
        ("kms_key_policy_not_public", key("public"), key("private"), vec!["PutKeyPolicy"]),
        ("logs_log_group_retention_at_least_365_days", group("short-lived"), group("kept"), vec!["PutRetentionPolicy"]),
    ];
    let mut rounds = Vec::new();
    let mut targets = BTreeSet::new();
    for (check, bad, good, operations) in &cases {
        let args = round(&[check], &[bad, good]);
        let plan = account.plan(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let fixes = plan["fixes"].as_array().unwrap();
        assert_eq!(fixes.len(), 1, "{check}: {plan:#}");
        assert_eq!(fixes[0]["resource"], *bad, "{check}: {plan:#}");
        let got: Vec<String> = calls(&fixes[0]).into_iter().map(|(operation, _)| operation).collect();
        assert_eq!(&got, operations, "{check}: {plan:#}");
        if *check == "kms_key_policy_not_public" {
            let kept: Value = serde_json::from_str(calls(&fixes[0])[0].1["Policy"].as_str().unwrap()).unwrap();
            assert_eq!(kept["Statement"].as_array().unwrap().len(), 1, "{kept:#}");
            assert_eq!(kept["Statement"][0]["Sid"], "Root");
        }
        if *check == "logs_log_group_retention_at_least_365_days" {
            assert_eq!(calls(&fixes[0])[0].1, json!({ "logGroupName": "short-lived", "retentionInDays": 365 }));
        }
        targets.insert(bad.clone());
        rounds.push(args);
    }
    // Account and region settings: only us-east-1 is planned; the trail fix extends an existing trail.
    for (check, operation) in
        [("guardduty_enabled", "CreateDetector"), ("securityhub_enabled", "EnableSecurityHub"), ("cloudtrail_multi_region_enabled", "UpdateTrail")]
    {
        let plan = account.plan(&["--check", check]);
        let fixes = plan["fixes"].as_array().unwrap();
        assert_eq!(fixes.len(), 1, "{check}: {plan:#}");
        assert_eq!(calls(&fixes[0])[0].0, operation);
        if check != "cloudtrail_multi_region_enabled" {
            assert_eq!(fixes[0]["region"], "us-east-1", "{plan:#}");
        } else {
            assert_eq!(calls(&fixes[0])[0].1["IsMultiRegionTrail"], true, "{plan:#}");
            targets.insert(fixes[0]["target"]["arn"].as_str().unwrap().to_string());
        }
        rounds.push(round(&[check], &[]));
    }
    targets.insert("arn:aws:guardduty:us-east-1:123456789012:detector/*".to_string());
    targets.insert("arn:aws:securityhub:us-east-1:123456789012:hub/default".to_string());
    apply_verify_and_undo(&account, &rounds, 1, &targets);
}

#[test]
fn database_and_resource_policy_fixers_change_only_the_misconfigured_twin() {
    let account = Account::new(&["us-east-1"], &["rds", "dynamodb", "sqs", "sns", "secretsmanager", "ecr"]);
    let arns = account.runtime.block_on(async {
        let config = account.moto.sdk_config().await;
        let mut arns = std::collections::BTreeMap::new();
        let rds = aws_sdk_rds::Client::new(&config);
        for (name, good) in [("db-loose", false), ("db-tight", true)] {
            let instance = rds
                .create_db_instance()
                .db_instance_identifier(name)
                .db_instance_class("db.t3.micro")
                .engine("postgres")
                .master_username("dbowner")
                .master_user_password("password-123")
                .allocated_storage(20)
                .publicly_accessible(!good)
                .deletion_protection(good)
                .auto_minor_version_upgrade(good)
                .copy_tags_to_snapshot(good)
                .send()
                .await
                .unwrap()
                .db_instance
                .unwrap();
            arns.insert(name, instance.db_instance_arn.unwrap());
        }
        for (name, public) in [("snap-shared", true), ("snap-private", false)] {
            let snapshot = rds.create_db_snapshot().db_snapshot_identifier(name).db_instance_identifier("db-tight").send().await.unwrap().db_snapshot.unwrap();
            if public {
                rds.modify_db_snapshot_attribute().db_snapshot_identifier(name).attribute_name("restore").values_to_add("all").send().await.unwrap();
            }
            arns.insert(name, snapshot.db_snapshot_arn.unwrap());
        }
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        for (name, good) in [("table-loose", false), ("table-tight", true)] {
            let table = dynamodb
                .create_table()
                .table_name(name)
                .key_schema(aws_sdk_dynamodb::types::KeySchemaElement::builder().attribute_name("k").key_type(aws_sdk_dynamodb::types::KeyType::Hash).build().unwrap())
                .attribute_definitions(
                    aws_sdk_dynamodb::types::AttributeDefinition::builder().attribute_name("k").attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S).build().unwrap(),
                )
                .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
                .deletion_protection_enabled(good)
                .send()
                .await
                .unwrap()
                .table_description
                .unwrap();
            if good {
                dynamodb
                    .update_continuous_backups()
                    .table_name(name)
                    .point_in_time_recovery_specification(aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder().point_in_time_recovery_enabled(true).build().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            arns.insert(name, table.table_arn.unwrap());
        }
        let everyone = |resource: &str, action: &str| json!({ "Version": "2012-10-17", "Statement": [
            { "Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource },
            { "Sid": "Owner", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::123456789012:root" }, "Action": action, "Resource": resource }
        ] });
        let sqs = aws_sdk_sqs::Client::new(&config);
        for (name, good) in [("queue-loose", false), ("queue-tight", true)] {
            let url = sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
            let arn = format!("arn:aws:sqs:us-east-1:123456789012:{name}");
            let policy = if good {
                json!({ "Version": "2012-10-17", "Statement": [
                    { "Sid": "Owner", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::123456789012:root" }, "Action": "sqs:SendMessage", "Resource": arn },
                    { "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": arn, "Condition": { "Bool": { "aws:SecureTransport": "false" } } }
                ] })
            } else {
                everyone(&arn, "sqs:SendMessage")
            };
            sqs.set_queue_attributes()
                .queue_url(&url)
                .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy.to_string())
                .attributes(aws_sdk_sqs::types::QueueAttributeName::SqsManagedSseEnabled, good.to_string())
                .send()
                .await
                .unwrap();
            arns.insert(name, arn);
        }
        let sns = aws_sdk_sns::Client::new(&config);
        for (name, good) in [("topic-loose", false), ("topic-tight", true)] {
            let arn = sns.create_topic().name(name).send().await.unwrap().topic_arn.unwrap();
            if good {
                sns.set_topic_attributes().topic_arn(&arn).attribute_name("KmsMasterKeyId").attribute_value("alias/aws/sns").send().await.unwrap();
            } else {
                sns.set_topic_attributes().topic_arn(&arn).attribute_name("Policy").attribute_value(everyone(&arn, "SNS:Publish").to_string()).send().await.unwrap();
            }
            arns.insert(name, arn);
        }
        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        for (name, good) in [("secret-loose", false), ("secret-tight", true)] {
            let arn = secrets.create_secret().name(name).secret_string("hunter2").send().await.unwrap().arn.unwrap();
            if !good {
                secrets.put_resource_policy().secret_id(&arn).resource_policy(everyone("*", "secretsmanager:GetSecretValue").to_string()).send().await.unwrap();
            }
            arns.insert(name, arn);
        }
        let ecr = aws_sdk_ecr::Client::new(&config);
        for (name, good) in [("repo-loose", false), ("repo-tight", true)] {
            let repository = ecr
                .create_repository()
                .repository_name(name)
                .image_tag_mutability(if good { aws_sdk_ecr::types::ImageTagMutability::Immutable } else { aws_sdk_ecr::types::ImageTagMutability::Mutable })
                .image_scanning_configuration(aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(good).build())
                .send()
                .await
                .unwrap()
                .repository
                .unwrap();
            if !good {
                let policy = json!({ "Version": "2012-10-17", "Statement": [
                    { "Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage" },
                    { "Sid": "Owner", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::123456789012:root" }, "Action": "ecr:BatchGetImage" }
                ] });
                ecr.set_repository_policy().repository_name(name).policy_text(policy.to_string()).send().await.unwrap();
            }
            arns.insert(name, repository.repository_arn.unwrap());
        }
        arns
    });
    account.scan();
    let cases: Vec<(&str, &str, &str, Vec<&str>)> = vec![
        ("rds_instance_not_publicly_accessible", "db-loose", "db-tight", vec!["ModifyDBInstance"]),
        ("rds_instance_deletion_protection", "db-loose", "db-tight", vec!["ModifyDBInstance"]),
        ("rds_instance_minor_version_upgrade", "db-loose", "db-tight", vec!["ModifyDBInstance"]),
        ("rds_instance_copy_tags_to_snapshot", "db-loose", "db-tight", vec!["ModifyDBInstance"]),
        ("rds_snapshot_not_public", "snap-shared", "snap-private", vec!["ModifyDBSnapshotAttribute"]),
        ("dynamodb_table_deletion_protection", "table-loose", "table-tight", vec!["UpdateTable"]),
        ("dynamodb_table_pitr_enabled", "table-loose", "table-tight", vec!["UpdateContinuousBackups"]),
        ("sqs_queue_policy_not_public", "queue-loose", "queue-tight", vec!["SetQueueAttributes"]),
        ("sqs_queue_encrypted_at_rest", "queue-loose", "queue-tight", vec!["SetQueueAttributes"]),
        ("sqs_queue_https_only", "queue-loose", "queue-tight", vec!["SetQueueAttributes"]),
        ("sns_topic_policy_not_public", "topic-loose", "topic-tight", vec!["SetTopicAttributes"]),
        ("sns_topic_encrypted_at_rest", "topic-loose", "topic-tight", vec!["SetTopicAttributes"]),
        ("secretsmanager_policy_not_public", "secret-loose", "secret-tight", vec!["PutResourcePolicy"]),
        ("ecr_repository_policy_not_public", "repo-loose", "repo-tight", vec!["SetRepositoryPolicy"]),
        // Not `ecr_repository_scan_on_push`: its undo (scanOnPush false) cannot be verified on
        // moto, which ignores the `{}` the SDK sends for a false flag (docs/fix.md, limits).
        ("ecr_repository_tag_immutable", "repo-loose", "repo-tight", vec!["PutImageTagMutability"]),
    ];
    let mut rounds = Vec::new();
    let mut targets = BTreeSet::new();
    for (check, bad, good, operations) in &cases {
        let args = round(&[check], &[&arns[bad], &arns[good]]);
        let plan = account.plan(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let fixes = plan["fixes"].as_array().unwrap();
        assert_eq!(fixes.len(), 1, "{check}: {plan:#}");
        assert_eq!(fixes[0]["resource"], arns[bad], "{check}: {plan:#}");
        let got = calls(&fixes[0]);
        assert_eq!(got.iter().map(|(operation, _)| operation.as_str()).collect::<Vec<_>>(), *operations, "{check}: {plan:#}");
        let parameters = &got[0].1;
        match *check {
            "rds_instance_not_publicly_accessible" => {
                assert_eq!(parameters, &json!({ "DBInstanceIdentifier": "db-loose", "ApplyImmediately": true, "PubliclyAccessible": false }))
            }
            "rds_snapshot_not_public" => {
                assert_eq!(parameters, &json!({ "DBSnapshotIdentifier": "snap-shared", "AttributeName": "restore", "ValuesToRemove": ["all"] }))
            }
            "sqs_queue_encrypted_at_rest" => {
                // The queue's policy (as the earlier policy fix left it) goes along unchanged.
                assert_eq!(parameters["Attributes"]["SqsManagedSseEnabled"], "true");
                assert!(parameters["Attributes"].as_object().unwrap().keys().all(|key| key == "SqsManagedSseEnabled" || key == "Policy"), "{parameters:#}");
            }
            "sns_topic_encrypted_at_rest" => {
                assert_eq!((parameters["AttributeName"].as_str(), parameters["AttributeValue"].as_str()), (Some("KmsMasterKeyId"), Some("alias/aws/sns")))
            }
            "secretsmanager_policy_not_public" | "ecr_repository_policy_not_public" | "sqs_queue_policy_not_public" | "sns_topic_policy_not_public" => {
                let text = ["ResourcePolicy", "policyText", "AttributeValue"]
                    .iter()
                    .find_map(|key| parameters[key].as_str())
                    .or_else(|| parameters["Attributes"]["Policy"].as_str())
                    .unwrap();
                let kept: Value = serde_json::from_str(text).unwrap();
                let sids: Vec<&str> = kept["Statement"].as_array().unwrap().iter().map(|statement| statement["Sid"].as_str().unwrap_or_default()).collect();
                assert_eq!(sids, vec!["Owner"], "{check}: only the statement allowing everyone goes: {kept:#}");
            }
            _ => {}
        }
        targets.insert(arns[bad].clone());
        rounds.push(args);
    }
    apply_verify_and_undo(&account, &rounds, 1, &targets);
}

#[test]
fn removing_a_rule_a_load_balancer_needs_to_reach_its_target_is_flagged_as_breaking_that_flow() {
    use aws_sdk_elasticloadbalancingv2::types as elbv2;
    let account = Account::new(&["us-east-1"], &["ec2", "elbv2"]);
    let (target_group, twin_group, instance, balancer_arn) = account.runtime.block_on(async {
        let config = account.moto.sdk_config().await;
        let client = aws_sdk_ec2::Client::new(&config);
        let vpc = client.create_vpc().cidr_block("10.4.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
        let gateway = client.create_internet_gateway().send().await.unwrap().internet_gateway.unwrap().internet_gateway_id.unwrap();
        client.attach_internet_gateway().internet_gateway_id(&gateway).vpc_id(&vpc).send().await.unwrap();
        let table = client.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap().route_table_id.unwrap();
        client.create_route().route_table_id(&table).destination_cidr_block("0.0.0.0/0").gateway_id(&gateway).send().await.unwrap();
        let mut subnets = Vec::new();
        for (block, zone) in [("10.4.1.0/24", "us-east-1a"), ("10.4.2.0/24", "us-east-1b")] {
            let subnet = client.create_subnet().vpc_id(&vpc).cidr_block(block).availability_zone(zone).send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
            client.associate_route_table().route_table_id(&table).subnet_id(&subnet).send().await.unwrap();
            subnets.push(subnet);
        }
        let private = client
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.4.3.0/24")
            .availability_zone("us-east-1a")
            .send()
            .await
            .unwrap()
            .subnet
            .unwrap()
            .subnet_id
            .unwrap();
        let group = |name: &'static str| client.create_security_group().group_name(name).description(name).vpc_id(&vpc).send();
        let balancer_group = group("front").await.unwrap().group_id.unwrap();
        client.authorize_security_group_ingress().group_id(&balancer_group).ip_permissions(ingress("tcp", Some(80), "0.0.0.0/0")).send().await.unwrap();
        // The app's group admits everything from anywhere: the only rule that lets the balancer in.
        let app_group = group("app-wide-open").await.unwrap().group_id.unwrap();
        client.authorize_security_group_ingress().group_id(&app_group).ip_permissions(ingress("-1", None, "0.0.0.0/0")).send().await.unwrap();
        // Its twin is as open, but also admits the balancer's group by reference.
        let twin_group = group("twin-wide-open").await.unwrap().group_id.unwrap();
        let by_reference = ec2::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(8080)
            .to_port(8080)
            .user_id_group_pairs(ec2::UserIdGroupPair::builder().group_id(&balancer_group).build())
            .build();
        client
            .authorize_security_group_ingress()
            .group_id(&twin_group)
            .ip_permissions(ingress("-1", None, "0.0.0.0/0"))
            .ip_permissions(by_reference)
            .send()
            .await
            .unwrap();
        let launch = |group: String| {
            let client = client.clone();
            let private = private.clone();
            async move {
                let reply = client
                    .run_instances()
                    .image_id("ami-12c6146b")
                    .instance_type(ec2::InstanceType::T3Micro)
                    .min_count(1)
                    .max_count(1)
                    .subnet_id(private)
                    .security_group_ids(group)
                    .send()
                    .await
                    .unwrap();
                reply.instances.unwrap().remove(0).instance_id.unwrap()
            }
        };
        let instance = launch(app_group.clone()).await;
        let twin_instance = launch(twin_group.clone()).await;
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
        let balancer = elb
            .create_load_balancer()
            .name("shop")
            .scheme(elbv2::LoadBalancerSchemeEnum::InternetFacing)
            .r#type(elbv2::LoadBalancerTypeEnum::Application)
            .set_subnets(Some(subnets.clone()))
            .security_groups(&balancer_group)
            .send()
            .await
            .unwrap();
        let balancer_arn = balancer.load_balancers()[0].load_balancer_arn().unwrap().to_string();
        let targets = elb
            .create_target_group()
            .name("app")
            .protocol(elbv2::ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc)
            .target_type(elbv2::TargetTypeEnum::Instance)
            .send()
            .await
            .unwrap();
        let target_group_arn = targets.target_groups()[0].target_group_arn().unwrap().to_string();
        for id in [&instance, &twin_instance] {
            elb.register_targets()
                .target_group_arn(&target_group_arn)
                .targets(elbv2::TargetDescription::builder().id(id).port(8080).build())
                .send()
                .await
                .unwrap();
        }
        elb.create_listener()
            .load_balancer_arn(&balancer_arn)
            .protocol(elbv2::ProtocolEnum::Http)
            .port(80)
            .default_actions(elbv2::Action::builder().r#type(elbv2::ActionTypeEnum::Forward).target_group_arn(&target_group_arn).build())
            .send()
            .await
            .unwrap();
        (app_group, twin_group, instance, balancer_arn)
    });
    let plan = account.plan(&["--check", "ec2_security_group_no_all_traffic_from_world"]);
    let cut = fix_for(&plan, "ec2_security_group_no_all_traffic_from_world", &target_group);
    let breaks = cut["breaks"].as_array().unwrap();
    assert_eq!(breaks.len(), 1, "{cut:#}");
    assert_eq!(breaks[0]["kind"], "flow");
    assert_eq!(breaks[0]["load_balancer"], balancer_arn);
    assert_eq!(breaks[0]["target"], instance);
    // The lost traffic is named as the exposure engine sees it: at the internet-facing listener.
    assert!(breaks[0]["description"].as_str().unwrap().contains("tcp 80 from 0.0.0.0/0"), "{cut:#}");
    // The twin keeps the balancer's traffic through its group reference: nothing breaks.
    let kept = fix_for(&plan, "ec2_security_group_no_all_traffic_from_world", &twin_group);
    assert!(kept["breaks"].as_array().unwrap().is_empty(), "{kept:#}");
    let (code, text, stderr) = run(account.assessing(&["fix", "--check", "ec2_security_group_no_all_traffic_from_world", "--store"]).arg(&account.store));
    assert_eq!(code, 0, "{stderr}");
    assert!(text.contains("BREAKS (flow)") && text.contains(&balancer_arn), "{text}");
}

#[test]
fn a_resource_changed_between_plan_and_apply_is_refused_and_iac_formats_flag_managed_resources() {
    let account = Account::new(&["us-east-1"], &["ec2"]);
    let group = account.runtime.block_on(async {
        let client = account.ec2("us-east-1").await;
        let vpc = client.create_vpc().cidr_block("10.5.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
        let group = client.create_security_group().group_name("stacked").description("stacked").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
        client.authorize_security_group_ingress().group_id(&group).ip_permissions(ingress("tcp", Some(22), "0.0.0.0/0")).send().await.unwrap();
        client.create_tags().resources(&group).tags(ec2::Tag::builder().key("aws:cloudformation:stack-name").value("network").build()).send().await.unwrap();
        group
    });
    let snapshot = account.directory.path().join("account.vigil");
    let (code, _, stderr) = run(account.assessing(&["collect", "-o"]).arg(&snapshot));
    assert_eq!(code, 0, "{stderr}");
    let from_snapshot = |extra: &[&str]| {
        let mut command = account.live(&["fix", "--check", "ec2_security_group_admin_ports_open_to_world", "--snapshot"]);
        command.arg(&snapshot).arg("--store").arg(&account.store).args(extra);
        run(&mut command)
    };
    let (code, terraform, stderr) = from_snapshot(&["--format", "terraform"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(terraform.contains("resource \"aws_security_group\"") && terraform.contains("managed by CloudFormation stack `network`"), "{terraform}");
    let (code, cloudformation, _) = from_snapshot(&["--format", "cloudformation"]);
    assert_eq!(code, 0);
    assert!(cloudformation.contains("Type: AWS::EC2::SecurityGroup") && cloudformation.contains("SecurityGroupIngress"), "{cloudformation}");
    let (_, json_plan, _) = from_snapshot(&["--format", "json"]);
    let plan: Value = serde_json::from_str(&json_plan).unwrap();
    assert_eq!(plan["fixes"][0]["managed_by"], "CloudFormation stack `network`");

    // Someone adds a rule after the snapshot: the plan's "before" no longer holds.
    account.runtime.block_on(async {
        account
            .ec2("us-east-1")
            .await
            .authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(ingress("tcp", Some(443), "0.0.0.0/0"))
            .send()
            .await
            .unwrap();
    });
    account.moto.start_recording();
    let (code, output, stderr) = from_snapshot(&["--apply", "--yes", "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    let output: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(output["results"][0]["status"], "refused", "{output:#}");
    assert!(output["results"][0]["message"].as_str().unwrap().contains("changed since the plan"), "{output:#}");
    let mutating: Vec<Value> = account.moto.recorded_requests().into_iter().filter(|request| !is_read_only(request)).collect();
    assert!(mutating.is_empty(), "a refused fix sent {mutating:#?}");
    let recorded = account.json(&["fix", "list", "--format", "json"]);
    assert_eq!(recorded[0]["status"], "refused");
    let rules = account.runtime.block_on(async {
        account
            .ec2("us-east-1")
            .await
            .describe_security_groups()
            .group_ids(&group)
            .send()
            .await
            .unwrap()
            .security_groups
            .unwrap()
            .remove(0)
            .ip_permissions
            .unwrap()
    });
    assert_eq!(rules.len(), 2, "both rules are still there: {rules:?}");
}

#[test]
fn the_printed_policy_is_enough_and_one_action_less_fails_the_fix_cleanly_and_is_recorded() {
    // moto enforces IAM after its first five requests: the five below create an administrator
    // (who seeds and reads) and the fixer (who only applies).
    let account = Account::with_env(&["us-east-1"], &["ec2", "kms"], &[("INITIAL_NO_AUTH_ACTION_COUNT", "5")]);
    let (admin, fixer, group, key) = account.runtime.block_on(async {
        let iam = aws_sdk_iam::Client::new(&account.moto.sdk_config().await);
        iam.create_user().user_name("admin").send().await.unwrap();
        iam.attach_user_policy().user_name("admin").policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.unwrap();
        let admin = iam.create_access_key().user_name("admin").send().await.unwrap().access_key.unwrap();
        iam.create_user().user_name("fixer").send().await.unwrap();
        let fixer = iam.create_access_key().user_name("fixer").send().await.unwrap().access_key.unwrap();
        let config = account.moto.sdk_config_with_keys(&admin.access_key_id, &admin.secret_access_key, "us-east-1").await;
        let client = aws_sdk_ec2::Client::new(&config);
        let vpc = client.create_vpc().cidr_block("10.6.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
        let group = client.create_security_group().group_name("bastion").description("bastion").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
        client.authorize_security_group_ingress().group_id(&group).ip_permissions(ingress("tcp", Some(22), "0.0.0.0/0")).send().await.unwrap();
        let key = aws_sdk_kms::Client::new(&config).create_key().description("no rotation").send().await.unwrap().key_metadata.unwrap().key_id;
        ((admin.access_key_id, admin.secret_access_key), (fixer.access_key_id, fixer.secret_access_key), group, key)
    });
    let with_keys = |command: &mut Command, (id, secret): &(String, String)| {
        command.env("AWS_ACCESS_KEY_ID", id).env("AWS_SECRET_ACCESS_KEY", secret);
    };
    let snapshot = account.directory.path().join("account.vigil");
    let mut collect = account.assessing(&["collect", "-o"]);
    collect.arg(&snapshot);
    with_keys(&mut collect, &admin);
    let (code, _, stderr) = run(&mut collect);
    assert_eq!(code, 0, "{stderr}");
    let checks = ["--check", "ec2_security_group_admin_ports_open_to_world", "--check", "kms_key_rotation_enabled"];
    let fix = |extra: &[&str], keys: &(String, String)| {
        let mut command = account.live(&["fix"]);
        command.args(checks).arg("--snapshot").arg(&snapshot).arg("--store").arg(&account.store).args(extra);
        with_keys(&mut command, keys);
        run(&mut command)
    };
    let (code, printed, stderr) = fix(&["--print-policy"], &admin);
    assert_eq!(code, 0, "{stderr}");
    let policy: Value = serde_json::from_str(&printed).unwrap();
    let actions: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|statement| statement["Action"].as_array().unwrap().iter().map(|action| action.as_str().unwrap().to_string()))
        .collect();
    let expected: BTreeSet<String> = [
        "ec2:RevokeSecurityGroupIngress",
        "ec2:DescribeSecurityGroups",
        "kms:EnableKeyRotation",
        "kms:ListKeys",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(actions, expected, "{policy:#}");
    let set_fixer_policy = |document: &Value| {
        account.runtime.block_on(async {
            let config = account.moto.sdk_config_with_keys(&admin.0, &admin.1, "us-east-1").await;
            aws_sdk_iam::Client::new(&config)
                .put_user_policy()
                .user_name("fixer")
                .policy_name("vigil-fix")
                .policy_document(document.to_string())
                .send()
                .await
                .unwrap();
        });
    };
    set_fixer_policy(&policy);
    let (code, output, stderr) = fix(&["--apply", "--yes", "--format", "json"], &fixer);
    assert_eq!(code, 0, "the printed policy must be enough: {stderr}\n{output}");
    let output: Value = serde_json::from_str(&output).unwrap();
    let ids = applied_ids(&output);
    assert_eq!(ids.len(), 2, "{output:#}");

    // Put the group back (as the administrator) and take one action away from the fixer.
    let mut undo = account.live(&["fix", "undo", &ids[0].to_string(), "--yes", "--store"]);
    undo.arg(&account.store);
    with_keys(&mut undo, &admin);
    let (code, _, stderr) = run(&mut undo);
    assert_eq!(code, 0, "{stderr}");
    let mut reduced = policy.clone();
    for statement in reduced["Statement"].as_array_mut().unwrap() {
        statement["Action"].as_array_mut().unwrap().retain(|action| action != "ec2:RevokeSecurityGroupIngress");
    }
    set_fixer_policy(&reduced);
    let mut command = account.live(&["fix", "--check", "ec2_security_group_admin_ports_open_to_world", "--apply", "--yes", "--format", "json", "--snapshot"]);
    command.arg(&snapshot).arg("--store").arg(&account.store);
    with_keys(&mut command, &fixer);
    let (code, output, stderr) = run(&mut command);
    assert_eq!(code, 2, "{stderr}");
    let output: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(output["results"][0]["status"], "failed", "{output:#}");
    assert!(output["results"][0]["message"].as_str().unwrap().contains("ec2:RevokeSecurityGroupIngress failed"), "{output:#}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let recorded = account.json(&["fix", "list", "--format", "json"]);
    assert_eq!(
        (recorded[0]["status"].as_str(), recorded[0]["check_id"].as_str()),
        (Some("failed"), Some("ec2_security_group_admin_ports_open_to_world")),
        "{recorded:#}"
    );
    assert!(recorded[0]["calls"][0]["error"]["code"].as_str().is_some(), "the failed call and its error are recorded: {recorded:#}");
    let rules = account.runtime.block_on(async {
        let config = account.moto.sdk_config_with_keys(&admin.0, &admin.1, "us-east-1").await;
        aws_sdk_ec2::Client::new(&config)
            .describe_security_groups()
            .group_ids(&group)
            .send()
            .await
            .unwrap()
            .security_groups
            .unwrap()
            .remove(0)
            .ip_permissions
            .unwrap()
    });
    assert_eq!(rules.len(), 1, "the failed fix changed nothing: {rules:?}");
    let _ = key;
}

#[test]
fn watch_fixes_automatically_only_what_the_policy_allows_within_its_rate_limit_and_stops_at_the_kill_switch() {
    let account = Account::new(&["us-east-1"], &["ec2"]);
    let snapshots = account.runtime.block_on(async {
        let client = account.ec2("us-east-1").await;
        let mut snapshots = std::collections::BTreeMap::new();
        for (name, tagged) in [("tagged-a", true), ("tagged-b", true), ("untagged", false)] {
            let volume = client.create_volume().availability_zone("us-east-1a").size(1).send().await.unwrap().volume_id.unwrap();
            let snapshot = client.create_snapshot().volume_id(volume).send().await.unwrap().snapshot_id.unwrap();
            client
                .modify_snapshot_attribute()
                .snapshot_id(&snapshot)
                .attribute(ec2::SnapshotAttributeName::CreateVolumePermission)
                .operation_type(ec2::OperationType::Add)
                .group_names("all")
                .send()
                .await
                .unwrap();
            if tagged {
                client.create_tags().resources(&snapshot).tags(ec2::Tag::builder().key("vigil-autofix").value("true").build()).send().await.unwrap();
            }
            snapshots.insert(name, snapshot);
        }
        snapshots
    });
    let stop = account.directory.path().join("stop-fixing");
    let policy = account.directory.path().join("auto.yaml");
    let write_policy = |limit: u32| {
        std::fs::write(
            &policy,
            format!(
                "auto_fix:\n  checks: [ec2_ebs_snapshot_not_public]\n  max_fixes_per_hour: {limit}\n  accounts: ['123456789012']\n  tags: {{ vigil-autofix: 'true' }}\n  kill_switch: {}\n",
                stop.display()
            ),
        )
        .unwrap();
    };
    let public = || -> BTreeSet<&str> {
        account.runtime.block_on(async {
            let client = account.ec2("us-east-1").await;
            let mut public = BTreeSet::new();
            for (name, id) in &snapshots {
                let attribute =
                    client.describe_snapshot_attribute().snapshot_id(id).attribute(ec2::SnapshotAttributeName::CreateVolumePermission).send().await.unwrap();
                if attribute.create_volume_permissions().iter().any(|permission| permission.group() == Some(&ec2::PermissionGroup::All)) {
                    public.insert(*name);
                }
            }
            public
        })
    };
    let watch = || {
        let mut command = account.assessing(&["watch", "--once", "--auto-fix"]);
        command.arg(&policy).arg("--store").arg(&account.store);
        let (code, _, stderr) = run(&mut command);
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    write_policy(1);
    let log = watch();
    let after_first = public();
    assert!(after_first.contains("untagged"), "an untagged resource is never fixed: {log}");
    assert_eq!(after_first.len(), 2, "one fix an hour: {after_first:?}\n{log}");
    assert!(log.contains("lacks the tag vigil-autofix=true"), "{log}");
    let log = watch();
    assert_eq!(public(), after_first, "the hourly limit holds: {log}");
    assert!(log.contains("limit of 1 per hour"), "{log}");
    write_policy(10);
    std::fs::write(&stop, "").unwrap();
    let log = watch();
    assert_eq!(public(), after_first, "the kill switch stops everything: {log}");
    assert!(log.contains("kill switch"), "{log}");
    std::fs::remove_file(&stop).unwrap();
    watch();
    assert_eq!(public(), ["untagged"].into_iter().collect(), "with the switch off and room in the limit, the other tagged snapshot is fixed");
    let recorded = account.json(&["fix", "list", "--format", "json"]);
    let origins: Vec<(&str, &str)> =
        recorded.as_array().unwrap().iter().map(|row| (row["origin"].as_str().unwrap(), row["status"].as_str().unwrap())).collect();
    assert_eq!(origins, vec![("watch", "applied"), ("watch", "applied")], "{recorded:#}");
}
