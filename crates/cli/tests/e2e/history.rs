//! End-to-end tests of the store through the `vigil` binary: scans recorded on moto, `vigil
//! diff` and `vigil history`, crash safety of a scan's write, and `vigil watch` consuming
//! EventBridge events from an SQS queue (enrolment, lifecycle, restart without loss or repeat).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::run;
use aws_sdk_ec2 as ec2;
use serde_json::{Value, json};
use vigil_testkit::MotoServer;

fn vigil(moto: Option<&MotoServer>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    if let Some(moto) = moto {
        for (key, value) in moto.env() {
            command.env(key, value);
        }
    }
    command
}

fn json_of(command: &mut Command) -> Value {
    let (code, stdout, stderr) = run(command);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// A VPC with a subnet, a security group without ingress, and one instance in it.
async fn seed_network(client: &ec2::Client) -> (String, String, String) {
    let vpc = client.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    let subnet = client.create_subnet().vpc_id(&vpc).cidr_block("10.0.1.0/24").send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
    let group = client.create_security_group().group_name("app").description("app servers").vpc_id(&vpc).send().await.unwrap().group_id.unwrap();
    let instance = launch(client, &subnet, &group).await;
    (subnet, group, instance)
}

async fn launch(client: &ec2::Client, subnet: &str, group: &str) -> String {
    let reply = client
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .security_group_ids(group)
        .send()
        .await
        .unwrap();
    reply.instances.unwrap().remove(0).instance_id.unwrap()
}

fn scan(moto: &MotoServer, store: &Path) {
    let (code, _, stderr) = run(vigil(Some(moto))
        .args(["scan", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--service", "ec2", "--service", "s3", "--store"])
        .arg(store));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stored as scan"), "{stderr}");
}

#[test]
fn two_scans_on_moto_diff_names_the_changes_and_the_findings_they_opened_or_fixed() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let (group, instance) = runtime.block_on(async {
        let client = ec2::Client::new(&moto.sdk_config().await);
        let (_, group, instance) = seed_network(&client).await;
        moto.s3("us-east-1").await.create_bucket().bucket("customer-data").send().await.unwrap();
        (group, instance)
    });
    scan(&moto, &store);

    runtime.block_on(async {
        let client = ec2::Client::new(&moto.sdk_config().await);
        client.authorize_security_group_ingress().group_id(&group).ip_protocol("tcp").from_port(22).to_port(22).cidr_ip("0.0.0.0/0").send().await.unwrap();
        client.terminate_instances().instance_ids(&instance).send().await.unwrap();
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::customer-data/*"}]});
        moto.s3("us-east-1").await.put_bucket_policy().bucket("customer-data").policy(policy.to_string()).send().await.unwrap();
    });
    scan(&moto, &store);

    let diff = json_of(vigil(None).args(["diff", "--format", "json", "--store"]).arg(&store));
    let arns = |list: &str| diff[list].as_array().unwrap().iter().map(|resource| resource["arn"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let changed = arns("changed");
    assert!(changed.iter().any(|arn| arn.ends_with(&format!("security-group/{group}"))), "{changed:?}");
    assert!(changed.iter().any(|arn| arn == "arn:aws:s3:::customer-data"), "{changed:?}");
    assert!(changed.iter().any(|arn| arn.ends_with(&format!("instance/{instance}"))), "{changed:?}");
    // Nothing else changed, except what terminating the instance removes with it (its network
    // interface and root volume).
    for arn in changed.iter().chain(&arns("removed")).chain(&arns("added")) {
        let expected = arn.ends_with(&group)
            || arn.ends_with("customer-data")
            || arn.ends_with(&instance)
            || arn.contains(":network-interface/")
            || arn.contains(":volume/");
        assert!(expected, "unexpected change {arn} in {diff:#}");
    }
    let terminated = diff["changed"].as_array().unwrap().iter().find(|resource| resource["arn"].as_str().unwrap().ends_with(&instance)).unwrap();
    assert_eq!((terminated["state_before"].as_str(), terminated["state_after"].as_str()), (Some("active"), Some("terminated")));
    let rule = diff["changed"].as_array().unwrap().iter().find(|resource| resource["arn"].as_str().unwrap().ends_with(&group)).unwrap();
    assert!(rule["fields"].as_array().unwrap().iter().any(|field| field["path"] == "IpPermissions[]" && field["after"]["FromPort"] == 22), "{rule:#}");

    let new: Vec<(&str, &str)> = diff["new_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| (finding["check_id"].as_str().unwrap(), finding["resource_arn"].as_str().unwrap()))
        .collect();
    assert!(new.iter().any(|(check, arn)| *check == "ec2_security_group_admin_ports_open_to_world" && arn.ends_with(&group)), "{new:?}");
    assert!(new.iter().any(|(check, arn)| *check == "s3_bucket_not_public" && *arn == "arn:aws:s3:::customer-data"), "{new:?}");
    assert!(new.iter().all(|(_, arn)| arn.ends_with(&group) || arn.ends_with("customer-data")), "{new:?}");

    let (code, table, stderr) = run(vigil(None).args(["diff", "--store"]).arg(&store));
    assert_eq!(code, 0, "{stderr}");
    assert!(table.contains("scan 1 -> 2") && table.contains("state: active -> terminated") && table.contains("New findings:"), "{table}");

    let group_arn = format!("arn:aws:ec2:us-east-1:123456789012:security-group/{group}");
    let history = json_of(vigil(None).args(["history", &group_arn, "--format", "json", "--store"]).arg(&store));
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history:#}");
    assert!(versions[1]["changes"].as_array().unwrap().iter().any(|change| change["after"]["FromPort"] == 22));
    let scans = json_of(vigil(None).args(["scans", "--format", "json", "--store"]).arg(&store));
    assert_eq!(scans.as_array().unwrap().len(), 2);
}

#[test]
fn a_scan_killed_inside_its_write_leaves_the_previous_state_intact() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let (code, _, stderr) = run(vigil(None).args(["-q", "scan", "--demo", "--store"]).arg(&store));
    assert_eq!(code, 0, "{stderr}");
    let before = json_of(vigil(None).args(["scans", "--format", "json", "--store"]).arg(&store));

    let mut child = vigil(None)
        .args(["scan", "--demo", "--store"])
        .arg(&store)
        .env("VIGIL_STORE_TEST_PAUSE_MS", "20000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let paused = BufReader::new(stderr).lines().map_while(Result::ok).any(|line| line.contains("paused inside the write transaction"));
    assert!(paused, "the writer never reached its transaction");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let after = json_of(vigil(None).args(["scans", "--format", "json", "--store"]).arg(&store));
    assert_eq!(after, before, "the killed scan left a trace");
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    assert_eq!(opened.integrity_check().unwrap(), "ok");
    assert!(opened.table_rows("resources").unwrap() > 0);
    drop(opened);
    let (code, _, stderr) = run(vigil(None).args(["scan", "--demo", "--store"]).arg(&store));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stored as scan 2"), "{stderr}");
}

/// `vigil watch` as a child process; its standard error goes to a file for diagnostics.
struct Watch {
    child: Child,
    log: std::path::PathBuf,
}

impl Watch {
    fn start(moto: &MotoServer, store: &Path, queue_url: &str, log: std::path::PathBuf) -> Watch {
        let file = std::fs::File::create(&log).unwrap();
        let child = vigil(Some(moto))
            .args([
                "watch",
                "--endpoint-url",
                &moto.endpoint_url,
                "--region",
                "us-east-1",
                "--service",
                "ec2",
                "--interval",
                "1h",
                "--queue-url",
                queue_url,
                "--store",
            ])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Watch { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most `limit`.
fn wait_for<T>(limit: Duration, what: &str, log: impl Fn() -> String, mut probe: impl FnMut() -> Option<T>) -> (T, Duration) {
    let started = Instant::now();
    loop {
        if let Some(value) = probe() {
            return (value, started.elapsed());
        }
        assert!(started.elapsed() < limit, "gave up waiting for {what}; vigil watch said:\n{}", log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn state_event(id: &str, instance: &str, state: &str) -> String {
    json!({"version": "0", "id": id, "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "account": "123456789012",
        "region": "us-east-1", "resources": [format!("arn:aws:ec2:us-east-1:123456789012:instance/{instance}")], "detail": {"instance-id": instance, "state": state}})
    .to_string()
}

fn stored_state(store: &Path, arn: &str) -> Option<String> {
    vigil_store::Store::open(store.to_str().unwrap()).ok()?.resource_state(arn).ok()?
}

#[test]
fn watch_enrols_a_new_instance_from_an_event_and_follows_its_lifecycle() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let (subnet, group, queue_url) = runtime.block_on(async {
        let config = moto.sdk_config().await;
        let (subnet, group, _) = seed_network(&ec2::Client::new(&config)).await;
        let queue = aws_sdk_sqs::Client::new(&config).create_queue().queue_name("vigil-events").send().await.unwrap().queue_url.unwrap();
        (subnet, group, queue)
    });
    let watch = Watch::start(&moto, &store, &queue_url, directory.path().join("watch.log"));
    wait_for(Duration::from_secs(60), "the first scan", || watch.log(), || watch.log().contains("scan 1:").then_some(()));

    let client = runtime.block_on(async { ec2::Client::new(&moto.sdk_config().await) });
    let sqs = runtime.block_on(async { aws_sdk_sqs::Client::new(&moto.sdk_config().await) });
    let instance = runtime.block_on(launch(&client, &subnet, &group));
    let arn = format!("arn:aws:ec2:us-east-1:123456789012:instance/{instance}");
    let steps: [(&str, Option<&str>, &str); 3] =
        [("running", None, "active"), ("stopped", Some("stop"), "stopped"), ("terminated", Some("terminate"), "terminated")];
    for (index, (event_state, action, expected)) in steps.into_iter().enumerate() {
        runtime.block_on(async {
            match action {
                Some("stop") => drop(client.stop_instances().instance_ids(&instance).send().await.unwrap()),
                Some(_) => drop(client.terminate_instances().instance_ids(&instance).send().await.unwrap()),
                None => {}
            }
            sqs.send_message().queue_url(&queue_url).message_body(state_event(&format!("event-{index}"), &instance, event_state)).send().await.unwrap();
        });
        let (_, took) = wait_for(Duration::from_secs(60), expected, || watch.log(), || (stored_state(&store, &arn).as_deref() == Some(expected)).then_some(()));
        eprintln!("instance {expected} in the store {} ms after its event was sent", took.as_millis());
    }
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    let findings = opened.findings(Some(&arn), &[]).unwrap();
    assert!(!findings.is_empty(), "the enrolled instance was not assessed: {}", watch.log());
    let history = opened.history(&arn).unwrap();
    assert_eq!(history.iter().map(|version| version.state.as_str()).collect::<Vec<_>>(), vec!["active", "stopped", "terminated"]);
    assert_eq!(opened.table_rows("events").unwrap(), 3);
}

#[test]
fn watch_killed_and_restarted_loses_no_event_and_applies_none_twice() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let (instances, queue_url, sqs) = runtime.block_on(async {
        let config = moto.sdk_config().await;
        let client = ec2::Client::new(&config);
        let (subnet, group, first) = seed_network(&client).await;
        let mut instances = vec![first];
        for _ in 0..3 {
            instances.push(launch(&client, &subnet, &group).await);
        }
        let sqs = aws_sdk_sqs::Client::new(&config);
        let queue = sqs
            .create_queue()
            .queue_name("vigil-events")
            .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "2")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        (instances, queue, sqs)
    });
    let mut watch = Watch::start(&moto, &store, &queue_url, directory.path().join("watch-1.log"));
    wait_for(Duration::from_secs(60), "the first scan", || watch.log(), || watch.log().contains("scan 1:").then_some(()));
    // Stop every instance, one event each, plus one event delivered twice.
    runtime.block_on(async {
        let client = ec2::Client::new(&moto.sdk_config().await);
        client.stop_instances().set_instance_ids(Some(instances.clone())).send().await.unwrap();
        for (index, instance) in instances.iter().enumerate() {
            sqs.send_message().queue_url(&queue_url).message_body(state_event(&format!("stop-{index}"), instance, "stopped")).send().await.unwrap();
        }
        sqs.send_message().queue_url(&queue_url).message_body(state_event("stop-0", &instances[0], "stopped")).send().await.unwrap();
    });
    let events = |store: &Path| vigil_store::Store::open(store.to_str().unwrap()).ok().and_then(|mut store| store.table_rows("events").ok()).unwrap_or(0);
    wait_for(Duration::from_secs(60), "a first event", || watch.log(), || (events(&store) >= 1).then_some(()));
    watch.kill();

    let watch = Watch::start(&moto, &store, &queue_url, directory.path().join("watch-2.log"));
    wait_for(Duration::from_secs(60), "every event", || watch.log(), || (events(&store) == instances.len() as i64).then_some(()));
    // Give a redelivered duplicate the time to arrive (visibility timeout 2 s), then check.
    std::thread::sleep(Duration::from_secs(4));
    let mut opened = vigil_store::Store::open(store.to_str().unwrap()).unwrap();
    assert_eq!(opened.consistency_problems().unwrap(), Vec::<String>::new(), "after watch was killed and restarted");
    assert_eq!(opened.table_rows("events").unwrap(), instances.len() as i64);
    for instance in &instances {
        let history = opened.history(&format!("arn:aws:ec2:us-east-1:123456789012:instance/{instance}")).unwrap();
        let states: Vec<&str> = history.iter().map(|version| version.state.as_str()).collect();
        assert_eq!(states, vec!["active", "stopped"], "{instance}: {}", watch.log());
    }
    let left = runtime.block_on(async {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        attributes.attributes.unwrap_or_default().values().map(|value| value.parse::<u32>().unwrap_or(0)).sum::<u32>()
    });
    assert_eq!(left, 0, "messages left in the queue");
}

#[test]
fn an_organization_is_scanned_account_by_account_into_one_store_and_reports() {
    let moto = MotoServer::start();
    let directory = tempfile::tempdir().unwrap();
    // The management account and two members, each member with a bucket of its own.
    let members = crate::org_work::seed_organization(&moto, 3);
    let output = directory.path().join("org.json");
    let store = directory.path().join("vigil.db");
    let (code, _, stderr) = run(vigil(Some(&moto))
        .args(["scan", "--org-role", "OrganizationAccountAccessRole", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--service", "s3", "-o"])
        .arg(&output)
        .arg("--store")
        .arg(&store));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("organization: 3 accounts"), "{stderr}");
    let report: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let accounts: std::collections::BTreeSet<&str> =
        report["findings"].as_array().unwrap().iter().map(|finding| finding["account_id"].as_str().unwrap()).collect();
    for member in &members {
        assert!(accounts.contains(member.as_str()), "{member} missing from the organization report: {accounts:?}");
        let own: Value = serde_json::from_slice(&std::fs::read(directory.path().join(format!("org-{member}.json"))).unwrap()).unwrap();
        let findings = own["findings"].as_array().unwrap();
        assert!(!findings.is_empty() && findings.iter().all(|finding| finding["account_id"] == member.as_str()));
        assert!(
            findings.iter().any(|finding| finding["resource_id"].as_str().is_some_and(|id| id.ends_with("-data"))),
            "{member}: its bucket is not in its report"
        );
    }
    let scans = json_of(vigil(None).args(["scans", "--format", "json", "--store"]).arg(&store));
    assert_eq!(scans[0]["accounts"].as_array().unwrap().len(), 3, "{scans:#}");
    assert_eq!(scans[0]["source"], "aws-organization");
}

/// Issue 14 item 10: `vigil history` takes an id, a resource's own name or its Name tag as well
/// as an ARN, and lists the candidates when the text names several.
#[test]
fn history_finds_a_resource_by_id_or_name_and_says_when_a_name_is_ambiguous() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/example-corp.vigil");
    let mut inventory = vigil_model::snapshot::from_bytes(&std::fs::read(demo).unwrap(), "demo").unwrap();
    let regional = inventory.regional.values_mut().find(|regional| !regional.ec2.instances.is_empty()).unwrap();
    let group = regional.ec2.security_groups.first().unwrap();
    let (group_id, group_name) = (group.group_id.clone(), group.group_name.clone());
    let instance = regional.ec2.instances.first_mut().unwrap();
    // The instance's Name tag is the security group's own name.
    instance.tags.insert("Name".into(), group_name.clone());
    let instance_id = instance.instance_id.clone();
    let snapshot = directory.path().join("named.vigil");
    vigil_model::snapshot::write(&snapshot, &inventory).unwrap();
    let (code, _, stderr) = run(vigil(None).args(["scan", "-q", "--snapshot"]).arg(&snapshot).arg("--store").arg(&store));
    assert_eq!(code, 0, "{stderr}");

    let by_id = json_of(vigil(None).args(["history", &instance_id, "--format", "json", "--store"]).arg(&store));
    assert!(by_id["arn"].as_str().unwrap().ends_with(&format!(":instance/{instance_id}")), "{by_id}");
    assert_eq!(by_id["versions"].as_array().unwrap().len(), 1);
    let (code, stdout, stderr) = run(vigil(None).args(["history", &group_id, "--store"]).arg(&store));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!(":security-group/{group_id}: 1 versions")), "{stdout}");

    let (code, _, stderr) = run(vigil(None).args(["history", &group_name, "--store"]).arg(&store));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("`{group_name}` is ambiguous")), "{stderr}");
    assert!(stderr.contains(&format!("security-group/{group_id}")) && stderr.contains("; name)"), "{stderr}");
    assert!(stderr.contains(&format!("instance/{instance_id}")) && stderr.contains("; Name tag)"), "{stderr}");
    let (code, _, stderr) = run(vigil(None).args(["history", "no-such-thing", "--store"]).arg(&store));
    assert_eq!(code, 2);
    assert!(stderr.contains("no resource `no-such-thing`"), "{stderr}");
}
