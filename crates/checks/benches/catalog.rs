//! Benchmark: the whole check catalog over a large synthetic inventory.
//!
//! `cargo bench -p vigil-checks --bench catalog -- 1000000` (default 1,000,000 resources).
//! Prints the generation time, the catalog's run time and the number of findings; measure
//! peak memory with `/usr/bin/time -v` (`--memory` also prints the peak after each stage,
//! `--per-check` the slowest checks, and `--digest` a hash over every finding's fields in
//! output order, to compare the findings of two builds).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

/// The allocator the `vigil` binary uses (crates/cli/src/main.rs), so that the figures are the
/// binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use vigil_model::ec2::{Instance, IpPermission, IpRange, SecurityGroup, Snapshot, Subnet, Volume, Vpc};
use vigil_model::iam::User;
use vigil_model::inventory::AccountInfo;
use vigil_model::lambda::Function;
use vigil_model::messaging::Queue;
use vigil_model::monitoring::{KmsKey, LogGroup};
use vigil_model::rds::DbInstance;
use vigil_model::s3::Bucket;
use vigil_model::{ApiCall, Inventory, Outcome, RegionalInventory};

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 5] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];

fn ok(inventory: &mut Inventory, service: &str, region: &str, operation: &str, target: Option<String>) {
    inventory.ledger.record(ApiCall::new(service, region, operation, target, Outcome::Ok));
}

/// An inventory of about `total` resources spread over services and five regions, with the
/// ledger entries collection would have written (listing calls, per-bucket and per-user calls).
pub fn synthetic_inventory(total: usize) -> Inventory {
    let account = AccountInfo { account_id: ACCOUNT.parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    let mut inventory = Inventory::new(account, REGIONS.iter().map(|region| (*region).into()).collect(), chrono::Utc::now());
    let users = total / 50;
    let buckets = total / 33;
    for index in 0..users {
        let name = format!("user-{index}");
        inventory.iam.users.push(User { arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"), user_name: name.clone(), ..User::default() });
        for operation in ["GetLoginProfile", "ListMFADevices", "ListAccessKeys", "ListAttachedUserPolicies", "ListUserPolicies"] {
            ok(&mut inventory, "iam", "global", operation, Some(name.clone()));
        }
    }
    for operation in ["GetAccountAuthorizationDetails", "GetAccountSummary", "GetAccountPasswordPolicy", "GenerateCredentialReport", "GetCredentialReport"] {
        ok(&mut inventory, "iam", "global", operation, None);
    }
    ok(&mut inventory, "s3", "global", "ListBuckets", None);
    for index in 0..buckets {
        let name = format!("bucket-{index}");
        let region = REGIONS[index % REGIONS.len()];
        inventory.s3.buckets.push(Bucket { name: name.clone(), region: region.into(), ..Bucket::default() });
        for operation in [
            "GetBucketPolicy",
            "GetBucketPolicyStatus",
            "GetBucketAcl",
            "GetPublicAccessBlock",
            "GetBucketEncryption",
            "GetBucketVersioning",
            "GetBucketLogging",
        ] {
            ok(&mut inventory, "s3", region, operation, Some(name.clone()));
        }
    }
    let per_region = total.saturating_sub(users + buckets) / REGIONS.len();
    for region in REGIONS {
        let mut regional = RegionalInventory::default();
        let share = |parts: usize| per_region * parts / 100;
        for index in 0..share(2) {
            regional.ec2.vpcs.push(Vpc { vpc_id: format!("vpc-{index}"), ..Vpc::default() });
        }
        for index in 0..share(5) {
            regional.ec2.subnets.push(Subnet { subnet_id: format!("subnet-{index}"), vpc_id: format!("vpc-{}", index % share(2).max(1)), ..Subnet::default() });
        }
        for index in 0..share(20) {
            let open = index % 10 == 0;
            let permissions = vec![IpPermission {
                ip_protocol: "tcp".into(),
                from_port: Some(22),
                to_port: Some(22),
                ip_ranges: vec![IpRange { cidr_ip: if open { "0.0.0.0/0".into() } else { "10.0.0.0/8".into() }, ..IpRange::default() }],
                ..IpPermission::default()
            }];
            regional.ec2.security_groups.push(SecurityGroup {
                group_id: format!("sg-{index}"),
                group_name: if index % 50 == 0 { "default".into() } else { format!("group-{index}") },
                vpc_id: Some(format!("vpc-{}", index % share(2).max(1))),
                ip_permissions: permissions,
                ..SecurityGroup::default()
            });
        }
        for index in 0..share(20) {
            regional.ec2.instances.push(Instance {
                instance_id: format!("i-{index}"),
                vpc_id: Some(format!("vpc-{}", index % share(2).max(1))),
                ..Instance::default()
            });
        }
        for index in 0..share(20) {
            regional.ec2.volumes.push(Volume { volume_id: format!("vol-{index}"), ..Volume::default() });
        }
        for index in 0..share(10) {
            regional.ec2.snapshots.push(Snapshot { snapshot_id: format!("snap-{index}"), ..Snapshot::default() });
        }
        for index in 0..share(3) {
            regional.kms_keys.push(KmsKey {
                key_id: format!("key-{index}"),
                arn: format!("arn:aws:kms:{region}:{ACCOUNT}:key/key-{index}"),
                ..KmsKey::default()
            });
        }
        for index in 0..share(6) {
            regional.sqs_queues.push(Queue {
                queue_url: format!("https://sqs.{region}.amazonaws.com/{ACCOUNT}/queue-{index}"),
                queue_arn: format!("arn:aws:sqs:{region}:{ACCOUNT}:queue-{index}"),
                ..Queue::default()
            });
        }
        for index in 0..share(4) {
            regional.db_instances.push(DbInstance {
                db_instance_identifier: format!("db-{index}"),
                db_instance_arn: format!("arn:aws:rds:{region}:{ACCOUNT}:db:db-{index}"),
                ..DbInstance::default()
            });
        }
        for index in 0..share(6) {
            regional.lambda_functions.push(Function {
                function_name: format!("function-{index}"),
                function_arn: format!("arn:aws:lambda:{region}:{ACCOUNT}:function:function-{index}"),
                ..Function::default()
            });
        }
        for index in 0..share(4) {
            regional.log_groups.push(LogGroup { log_group_name: format!("/app/{index}"), ..LogGroup::default() });
        }
        inventory.regional.insert(region.into(), regional);
        for (service, operation) in [
            ("ec2", "DescribeInstances"),
            ("ec2", "DescribeSecurityGroups"),
            ("ec2", "DescribeVolumes"),
            ("ec2", "DescribeSnapshots"),
            ("ec2", "DescribeVpcs"),
            ("ec2", "DescribeSubnets"),
            ("ec2", "DescribeNetworkAcls"),
            ("ec2", "DescribeFlowLogs"),
            ("ec2", "GetEbsEncryptionByDefault"),
            ("kms", "ListKeys"),
            ("sqs", "ListQueues"),
            ("rds", "DescribeDBInstances"),
            ("lambda", "ListFunctions"),
            ("logs", "DescribeLogGroups"),
            ("cloudtrail", "DescribeTrails"),
            ("config", "DescribeConfigurationRecorders"),
        ] {
            ok(&mut inventory, service, region, operation, None);
        }
    }
    inventory
}

/// This process's peak resident memory so far (`VmHWM`), for `--memory`.
fn peak_memory() -> String {
    format!("{} kB", vigil_benchkit::peak_rss_kib())
}

/// A hash over every field of every finding, in output order: the finding as JSON (as the
/// JSON Lines writer prints it, every field included), fed to SipHash with fixed keys. Two
/// builds print the same digest only if they produce the same findings in the same order.
fn digest(findings: &[vigil_checks::Finding]) -> u64 {
    use std::hash::Hasher;
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new_with_keys(0x7669_6769_6c00_0001, 0x6469_6765_7374_0002);
    let mut line = Vec::new();
    for finding in findings {
        line.clear();
        serde_json::to_writer(&mut line, finding).unwrap();
        hasher.write(&line);
        hasher.write_u8(b'\n');
    }
    hasher.write_usize(findings.len());
    hasher.finish()
}

fn main() {
    let total: usize = std::env::args().skip(1).find_map(|argument| argument.parse().ok()).unwrap_or(1_000_000);
    let memory = std::env::args().any(|argument| argument == "--memory");
    let started = Instant::now();
    let inventory = synthetic_inventory(total);
    let generated = started.elapsed();
    let resources = inventory.resources().len();
    if memory {
        println!("peak memory after generation: {}", peak_memory());
    }
    let started = Instant::now();
    let context = vigil_checks::Context::new(&inventory, chrono::Utc::now());
    let findings = vigil_checks::run_all(&context, |_| true);
    let ran = started.elapsed();
    if memory {
        let distinct = |text: fn(&vigil_checks::Finding) -> &str| findings.iter().map(text).collect::<std::collections::HashSet<&str>>().len();
        println!(
            "peak memory after the catalog: {}  ({} bytes a finding + shared text: {} distinct messages, {} distinct evidence)",
            peak_memory(),
            std::mem::size_of::<vigil_checks::Finding>(),
            distinct(|finding| finding.message.as_str()),
            distinct(|finding| finding.evidence.as_json())
        );
    }
    println!(
        "resources {resources}  ledger calls {}  checks {}  findings {}  generate {:.2}s  catalog {:.2}s",
        inventory.ledger.calls.len(),
        vigil_checks::CHECKS.len(),
        findings.len(),
        generated.as_secs_f64(),
        ran.as_secs_f64()
    );
    if std::env::args().any(|argument| argument == "--digest") {
        println!("digest {:016x}", digest(&findings));
    }
    if std::env::args().any(|argument| argument == "--per-check") {
        let mut timings: Vec<(f64, &str, usize)> = vigil_checks::CHECKS
            .iter()
            .map(|check| {
                let started = Instant::now();
                let mut findings = Vec::new();
                check.run(&context, &mut findings);
                (started.elapsed().as_secs_f64(), check.metadata().id, findings.len())
            })
            .collect();
        timings.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (seconds, id, count) in timings.iter().take(15) {
            println!("{seconds:>8.3}s {count:>9} {id}");
        }
    }
}
