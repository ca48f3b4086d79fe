//! Issue 21: organizations beyond one machine. An account read in parts (global, one part per
//! region) and merged equals the account read whole; an organization of 200 accounts scanned
//! by 4 `vigil worker` processes sharing one store (one killed with SIGKILL while it holds a
//! unit) and by 3 `vigil scan --shard I/3` processes ends with exactly the findings of a
//! single-process `vigil scan --org-role`, each account scanned once. PostgreSQL when
//! `VIGIL_TEST_POSTGRES` names a server (the judged setting), else SQLite files.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use vigil_testkit::MotoServer;

use crate::common::run;

pub(crate) const ROLE: &str = "OrganizationAccountAccessRole";
/// The organization's size: the management account and 199 members.
const ACCOUNTS: usize = 200;
/// The services read: one global and two regional ones keep four runs of 200 accounts within
/// a few minutes on an emulator (the whole catalog still runs; the checks of services not read
/// are ERROR in both scans alike).
const SERVICES: [&str; 3] = ["s3", "sqs", "kms"];

fn vigil(moto: &MotoServer) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    command
}

fn collect_args(moto: &MotoServer) -> Vec<String> {
    let mut args: Vec<String> =
        vec!["--org-role".into(), ROLE.into(), "--endpoint-url".into(), moto.endpoint_url.clone(), "--region".into(), "us-east-1".into()];
    for service in SERVICES {
        args.extend(["--service".to_string(), service.to_string()]);
    }
    args
}

/// A fresh store: a new PostgreSQL database when `VIGIL_TEST_POSTGRES` is set, else an SQLite file.
pub(crate) fn store(directory: &std::path::Path, name: &str) -> String {
    match std::env::var("VIGIL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => {
            let database = format!("vigil_org_{name}_{}", std::process::id());
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database}")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {database}")).unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            format!("{base}/{database}")
        }
        _ if std::env::var("VIGIL_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("VIGIL_REQUIRE_POSTGRES=1 but VIGIL_TEST_POSTGRES is not set"),
        _ => {
            eprintln!("PostgreSQL not configured (VIGIL_TEST_POSTGRES unset): the shared store is an SQLite file");
            directory.join(format!("{name}.db")).to_string_lossy().into_owned()
        }
    }
}

/// An organization of `accounts` accounts: each member has a bucket, every other one a queue.
pub(crate) fn seed_organization(moto: &MotoServer, accounts: usize) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = moto.sdk_config().await;
        let organizations = aws_sdk_organizations::Client::new(&config);
        organizations.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await.unwrap();
        let sts = aws_sdk_sts::Client::new(&config);
        let mut members = Vec::new();
        for index in 1..accounts {
            let name = format!("member-{index:03}");
            let status =
                organizations.create_account().account_name(&name).email(format!("{name}@example.com")).send().await.unwrap().create_account_status.unwrap();
            let id = status.account_id.unwrap();
            let credentials =
                sts.assume_role().role_arn(format!("arn:aws:iam::{id}:role/{ROLE}")).role_session_name("seed").send().await.unwrap().credentials.unwrap();
            let member = config
                .to_builder()
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
                    credentials.access_key_id(),
                    credentials.secret_access_key(),
                    Some(credentials.session_token().to_string()),
                    None,
                    "seed",
                )))
                .build();
            let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&member).force_path_style(true).build());
            s3.create_bucket().bucket(format!("{name}-data")).send().await.unwrap();
            if index % 2 == 0 {
                aws_sdk_sqs::Client::new(&member).create_queue().queue_name(format!("{name}-jobs")).send().await.unwrap();
            }
            members.push(id);
        }
        members
    })
}

/// The store's findings as (check, account, region, resource, status), and its scans' accounts.
/// Findings as (check, account, region, resource, status).
pub(crate) type FindingKeys = BTreeSet<(String, String, String, String, String)>;

pub(crate) fn findings_and_scans(location: &str) -> (FindingKeys, Vec<Vec<String>>) {
    let mut store = vigil_store::Store::open(location).unwrap();
    let findings = store
        .findings(None, &[])
        .unwrap()
        .into_iter()
        .map(|row| (row.check_id, row.detail["account_id"].as_str().unwrap_or_default().to_string(), row.region, row.resource_arn, row.status))
        .collect();
    let scans = store
        .scans()
        .unwrap()
        .into_iter()
        .map(|scan| {
            scan.accounts
                .as_array()
                .map(|accounts| accounts.iter().filter_map(|account| account["account_id"].as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        })
        .collect();
    (findings, scans)
}

/// Waits for a child and returns (exit code, standard error, wall seconds).
fn finish(child: Child, started: Instant) -> (i32, String, f64) {
    let output = child.wait_with_output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned(), started.elapsed().as_secs_f64())
}

fn peak_rss_line(stderr: &str) -> String {
    stderr.lines().rfind(|line| line.contains("peak RSS")).unwrap_or("(no closing line)").to_string()
}

/// Each account's scan once, and the same findings (keys and statuses) as the reference.
fn assert_same_as_reference(location: &str, reference: &FindingKeys, accounts: &BTreeSet<String>, what: &str) {
    let (findings, scans) = findings_and_scans(location);
    let scanned: Vec<String> = scans.into_iter().flatten().collect();
    let distinct: BTreeSet<String> = scanned.iter().cloned().collect();
    assert_eq!(scanned.len(), ACCOUNTS, "{what}: {} scans recorded, want one per account", scanned.len());
    assert_eq!(&distinct, accounts, "{what}: the scanned accounts");
    let missing: Vec<_> = reference.difference(&findings).take(5).collect();
    let extra: Vec<_> = findings.difference(reference).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{what}: findings differ from the single process's: missing {missing:?}, extra {extra:?}");
}

#[test]
fn an_organization_of_200_accounts_scanned_by_killed_workers_and_by_shards_equals_one_process() {
    let moto = MotoServer::start();
    let directory = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let members = seed_organization(&moto, ACCOUNTS);
    eprintln!("seeded {ACCOUNTS} accounts in {:.1}s", started.elapsed().as_secs_f64());

    // The reference: one process, one scan of every account.
    let reference_store = directory.path().join("reference.db").to_string_lossy().into_owned();
    let started = Instant::now();
    let (code, _, stderr) = run(vigil(&moto).args(["-q", "scan", "--org-parallel", "8", "--store", &reference_store]).args(collect_args(&moto)));
    assert_eq!(code, 0, "{stderr}");
    eprintln!("single process: {:.1}s", started.elapsed().as_secs_f64());
    let (reference, reference_scans) = findings_and_scans(&reference_store);
    let accounts: BTreeSet<String> = reference_scans.into_iter().flatten().collect();
    assert_eq!(accounts.len(), ACCOUNTS);
    assert!(members.iter().all(|member| accounts.contains(member)));
    assert!(reference.iter().any(|(_, account, _, resource, status)| account == &members[1] && resource.ends_with("-jobs") && !status.is_empty()));

    // Four workers; the first stalls holding its third unit and is killed there (SIGKILL), so
    // its unit comes back to the others when its 5-second lease expires.
    let shared = store(directory.path(), "workers");
    let started = Instant::now();
    let worker = |stall: bool| {
        let mut command = vigil(&moto);
        command
            .args(["worker", "--run", "org-1", "--store", &shared, "--lease-seconds", "5", "--parallel", "2"])
            .args(collect_args(&moto))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if stall {
            command.env("VIGIL_WORK_TEST_STALL_AFTER", "3");
        }
        command.spawn().unwrap()
    };
    let mut doomed = worker(true);
    let others: Vec<Child> = (0..3).map(|_| worker(false)).collect();
    let stderr = doomed.stderr.take().unwrap();
    let mut said = Vec::new();
    // The reader lives until the kill, so the worker's other thread never writes into a closed pipe.
    let mut lines = BufReader::new(stderr).lines();
    let stalled = lines.by_ref().map_while(Result::ok).any(|line| {
        said.push(line.clone());
        line.contains("stalled holding")
    });
    assert!(stalled, "the worker never stalled: {}", said.join("\n"));
    let held = said.last().cloned().unwrap_or_default();
    doomed.kill().unwrap(); // SIGKILL
    doomed.wait().unwrap();
    drop(lines);
    for (index, child) in others.into_iter().enumerate() {
        let (code, stderr, seconds) = finish(child, started);
        assert_eq!(code, 0, "worker {index}: {stderr}");
        eprintln!("worker {index}: exit 0 after {seconds:.1}s; {}", peak_rss_line(&stderr));
    }
    eprintln!("4 workers (one killed): {:.1}s wall", started.elapsed().as_secs_f64());
    assert_same_as_reference(&shared, &reference, &accounts, "workers");
    let units = vigil_store::Store::open(&shared).unwrap().run_units("org-1").unwrap();
    assert_eq!(units.len(), ACCOUNTS * 3 + 1, "an account's global and region parts, its assessment, and the organization's unit");
    assert!(units.iter().all(|unit| unit.state == "done"), "{:?}", units.iter().filter(|unit| unit.state != "done").collect::<Vec<_>>());
    let retried: Vec<String> = units.iter().filter(|unit| unit.attempts > 1).map(|unit| unit.key.to_string()).collect();
    assert!(retried.iter().any(|unit| held.contains(unit.as_str())), "the killed worker's unit ({held}) was not taken over: retried {retried:?}");
    let (code, stdout, stderr) = run(vigil(&moto).args(["runs", "--store", &shared]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("org-1") && stdout.contains(&format!("{} done", ACCOUNTS * 3 + 1)), "{stdout}");

    // Three shards of one run, as an Indexed Job runs them.
    let sharded = store(directory.path(), "shards");
    let started = Instant::now();
    let shards: Vec<Child> = (0..3)
        .map(|index| {
            vigil(&moto)
                .args(["scan", "--shard", &format!("{index}/3"), "--store", &sharded, "--org-parallel", "2"])
                .args(collect_args(&moto))
                .env("VIGIL_RUN", "org-shards-1")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (index, child) in shards.into_iter().enumerate() {
        let (code, stderr, seconds) = finish(child, started);
        assert_eq!(code, 0, "shard {index}/3: {stderr}");
        eprintln!("shard {index}/3: exit 0 after {seconds:.1}s; {}", peak_rss_line(&stderr));
    }
    eprintln!("3 shards: {:.1}s wall", started.elapsed().as_secs_f64());
    assert_same_as_reference(&sharded, &reference, &accounts, "shards");
}

#[test]
fn a_shard_without_a_run_id_says_how_to_give_one() {
    let moto = MotoServer::start();
    let (code, _, stderr) = run(vigil(&moto).env_remove("VIGIL_RUN").args(["scan", "--shard", "0/2", "--org-role", ROLE, "--store", "/nonexistent/x.db"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--run ID or the VIGIL_RUN environment variable"), "{stderr}");
    let (code, _, stderr) = run(vigil(&moto).args(["scan", "--shard", "2/2", "--org-role", ROLE]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("0 <= I < N"), "{stderr}");
}

/// An account read as its global part plus one part per region, merged, is the account read
/// whole (the ledger too, in the same order), on the demo account's two regions.
#[test]
fn an_account_read_in_parts_and_merged_equals_the_account_read_whole() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        vigil_testkit::example_corp::seed(&moto).await;
        let config = vigil_collect::CollectConfig {
            regions: vigil_testkit::example_corp::REGIONS.iter().map(|region| region.to_string()).collect(),
            endpoint_url: Some(moto.endpoint_url.clone()),
            max_attempts: 2,
            ..Default::default()
        };
        let progress = || -> Arc<dyn vigil_collect::Progress> { Arc::new(vigil_collect::NoProgress) };
        let whole = vigil_collect::collect_with(moto.sdk_config().await, &config, progress()).await.unwrap();
        let part = |part: vigil_collect::Part| vigil_collect::CollectConfig { part: Some(part), ..config.clone() };
        let global = vigil_collect::collect_with(moto.sdk_config().await, &part(vigil_collect::Part::Global), progress()).await.unwrap();
        assert!(
            global
                .regional
                .values()
                .all(|regional| serde_json::to_value(regional).unwrap() == serde_json::to_value(vigil_model::inventory::RegionalInventory::default()).unwrap())
        );
        let mut regional = Vec::new();
        for region in vigil_testkit::example_corp::REGIONS {
            let inventory =
                vigil_collect::collect_with(moto.sdk_config().await, &part(vigil_collect::Part::Region(region.to_string())), progress()).await.unwrap();
            assert!(inventory.iam.roles.is_empty() && inventory.ledger.calls.iter().all(|call| call.region == *region), "{region}: only its region");
            regional.push(inventory);
        }
        let merged = vigil_collect::merge_parts(global, regional);
        assert_eq!(normalized(&merged), normalized(&whole));
        // The ledger's order is the ledger's rule, not the parts' order.
        let keys = |inventory: &vigil_model::Inventory| -> Vec<(String, String, String, Option<String>)> {
            let mut keys: Vec<_> =
                inventory.ledger.calls.iter().map(|call| (call.region.clone(), call.service.clone(), call.operation.clone(), call.target.clone())).collect();
            keys.dedup();
            keys
        };
        assert_eq!(keys(&merged), keys(&whole));
        let without_regions = vigil_collect::CollectConfig { regions: Vec::new(), ..part(vigil_collect::Part::Global) };
        let error = vigil_collect::collect_with(moto.sdk_config().await, &without_regions, progress()).await.unwrap_err();
        assert!(error.to_string().contains("regions named"), "{error}");
    });
}

/// Issue 20: collection's scheduling (every bucket, user, region and service at once, under
/// per-(service, region) lanes and the global cap) changes when calls are made, never what is
/// read: the account read one call at a time (`--max-in-flight 1`) is the account read with
/// the default 64 in flight, ledger included, and the checks say the same of both.
#[test]
fn an_account_read_one_call_at_a_time_equals_the_account_read_concurrently() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        vigil_testkit::example_corp::seed(&moto).await;
        let config = |max_in_flight: usize| vigil_collect::CollectConfig {
            regions: vigil_testkit::example_corp::REGIONS.iter().map(|region| region.to_string()).collect(),
            endpoint_url: Some(moto.endpoint_url.clone()),
            max_attempts: 2,
            max_in_flight,
            ..Default::default()
        };
        let read = |max_in_flight: usize| {
            let config = config(max_in_flight);
            let moto = &moto;
            async move { vigil_collect::collect_with(moto.sdk_config().await, &config, Arc::new(vigil_collect::NoProgress)).await.unwrap() }
        };
        let serial = read(1).await;
        let concurrent = read(64).await;
        assert!(serial.ledger.calls.len() > 100 && serial.s3.buckets.len() > 1, "the demo account is read: {} calls", serial.ledger.calls.len());
        assert_eq!(normalized(&serial), normalized(&concurrent));
        let now = chrono::Utc::now();
        let verdicts = |inventory: &vigil_model::Inventory| -> std::collections::BTreeSet<String> {
            vigil_checks::run_all(&vigil_checks::Context::new(inventory, now), |_| true)
                .iter()
                .map(|finding| format!("{} {} {} {:?}", finding.check_id, finding.resource_id, finding.region, finding.status))
                .collect()
        };
        assert_eq!(verdicts(&serial), verdicts(&concurrent));
    });
}

/// The inventory as JSON without what differs between two reads of an unchanged account: the
/// time of collection, the retries of each call, and the order of calls of one key.
fn normalized(inventory: &vigil_model::Inventory) -> Value {
    let mut value = serde_json::to_value(inventory).unwrap();
    // The inventory's own fields are PascalCase (the ledger's calls are not).
    value["CollectedAt"] = Value::Null;
    if let Some(calls) = value["Ledger"]["calls"].as_array_mut() {
        for call in calls.iter_mut() {
            call["retries"] = Value::Null;
            // The SDK's raw error, with the reply's Date header.
            call["detail"] = Value::Null;
        }
        calls.sort_by_key(|call| call.to_string());
        // A report polled until it is ready (GenerateCredentialReport) is called a varying
        // number of times.
        calls.dedup();
    }
    // Lists whose order is the order replies arrived (S3's buckets, read concurrently) differ
    // between two reads of the same account: compare every list as a multiset. The status
    // fields AWS refreshes on its own (a trail's last delivery) differ too: the model's list of
    // volatile fields names them.
    let volatile: Vec<&str> = vigil_model::volatile::VOLATILE_FIELDS
        .iter()
        .filter_map(|field| field.path.rsplit('.').next())
        .map(|leaf| leaf.trim_end_matches("[]"))
        .filter(|leaf| *leaf != "Status")
        .collect();
    normalize_parts(&mut value, &volatile);
    value
}

fn normalize_parts(value: &mut Value, volatile: &[&str]) {
    match value {
        Value::Array(items) => {
            items.iter_mut().for_each(|item| normalize_parts(item, volatile));
            items.sort_by_key(|item| item.to_string());
        }
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if volatile.contains(&key.as_str()) {
                    *field = Value::Null;
                } else {
                    normalize_parts(field, volatile);
                }
            }
        }
        _ => {}
    }
}
