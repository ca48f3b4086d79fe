//! Benchmark: recording large scans in the SQLite store.
//!
//! `cargo bench -p vigil-store --bench store -- 1000000 [--findings]` (default 1,000,000
//! resources). Records a first scan (everything new), a second where 1% of the resources
//! changed, and a third with no change; prints each write's time and the store's size after
//! it, so the growth per scan is visible. With `--findings`, each scan also stores three
//! findings per instance and security group (PASS/FAIL mixes that change with the resources).
//! Then times the console's reads on that store: the dashboard, 10,000-row pages of findings
//! and resources (first and deep), facets. `--keep PATH` keeps the store at PATH (to time
//! `vigil serve` over it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use vigil_checks::{Finding, Severity, Status};
use vigil_model::ec2::{Instance, InstanceState, IpPermission, IpRange, SecurityGroup, Volume};
use vigil_model::inventory::AccountInfo;
use vigil_model::s3::Bucket;
use vigil_model::{ApiCall, Inventory, Outcome, RegionalInventory};
use vigil_store::{ScanInput, Store};

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

/// About `total` resources: security groups, instances and volumes in four regions, and buckets.
fn inventory(total: usize) -> Inventory {
    let account = AccountInfo { account_id: ACCOUNT.parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    let mut inventory = Inventory::new(account, REGIONS.iter().map(|region| (*region).into()).collect(), chrono::Utc::now());
    let buckets = total / 20;
    for index in 0..buckets {
        inventory.s3.buckets.push(Bucket { name: format!("bucket-{index}"), region: REGIONS[index % REGIONS.len()].into(), ..Bucket::default() });
    }
    inventory.ledger.record(ApiCall::new("s3", "us-east-1", "ListBuckets", None, Outcome::Ok));
    let per_region = (total - buckets) / REGIONS.len() / 3;
    for region in REGIONS {
        let mut regional = RegionalInventory::default();
        for index in 0..per_region {
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

/// Changes 1% of all resources: every 66th security group (a rule opened to the world) and
/// instance (stopped); these are two thirds of the resources, so 1.5% of them is 1% of all.
fn change_one_percent(inventory: &mut Inventory) -> usize {
    let mut changed = 0;
    for regional in inventory.regional.values_mut() {
        for group in regional.ec2.security_groups.iter_mut().step_by(66) {
            group.ip_permissions[0].ip_ranges[0].cidr_ip = "0.0.0.0/0".into();
            changed += 1;
        }
        for instance in regional.ec2.instances.iter_mut().step_by(66) {
            instance.state.name = "stopped".into();
            changed += 1;
        }
    }
    changed
}

fn findings(inventory: &Inventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (region, regional) in &inventory.regional {
        for group in &regional.ec2.security_groups {
            let open = group.ip_permissions.iter().any(|rule| rule.ip_ranges.iter().any(|range| range.cidr_ip == "0.0.0.0/0"));
            for (check, status) in
                [("sg_open_to_world", if open { Status::Fail } else { Status::Pass }), ("sg_described", Status::Pass), ("sg_in_vpc", Status::Pass)]
            {
                findings.push(finding(check, status, region.as_str(), &format!("arn:aws:ec2:{region}:{ACCOUNT}:security-group/{}", group.group_id)));
            }
        }
        for instance in &regional.ec2.instances {
            for (check, status) in
                [("instance_imdsv2", Status::Fail), ("instance_running", if instance.state.name == "running" { Status::Pass } else { Status::Fail })]
            {
                findings.push(finding(check, status, region.as_str(), &format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{}", instance.instance_id)));
            }
        }
    }
    findings
}

fn finding(check: &str, status: Status, region: &str, arn: &str) -> Finding {
    serde_json::from_value(serde_json::json!({
        "check_id": check, "check_title": check, "service": "ec2", "severity": Severity::High.as_str(), "status": status.as_str(),
        "account_id": ACCOUNT, "region": region, "resource_arn": arn, "resource_type": "AWS::EC2::SecurityGroup",
        "resource_id": arn.rsplit('/').next().unwrap(), "message": "synthetic", "evidence": {"synthetic": true}
    }))
    .unwrap()
}

fn record(store: &mut Store, inventory: &Inventory, with_findings: bool) -> (vigil_store::WriteSummary, f64) {
    let findings = if with_findings { findings(inventory) } else { Vec::new() };
    let checks_run = ["sg_open_to_world", "sg_described", "sg_in_vpc", "instance_imdsv2", "instance_running"].map(str::to_string).to_vec();
    let input = ScanInput {
        started_at: chrono::Utc::now(),
        finished_at: chrono::Utc::now(),
        source: "bench".into(),
        inventories: vec![inventory],
        findings: &findings,
        checks_run,
        analyses: None,
    };
    let started = Instant::now();
    let summary = store.record_scan(&input).unwrap();
    (summary, started.elapsed().as_secs_f64())
}

fn size(path: &std::path::Path) -> u64 {
    ["", "-wal"].iter().filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok()).map(|metadata| metadata.len()).sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    let total: usize = args.iter().find_map(|arg| arg.parse().ok()).unwrap_or(1_000_000);
    let with_findings = args.iter().any(|arg| arg == "--findings");
    let directory = tempfile::tempdir().unwrap();
    let keep = args.iter().position(|arg| arg == "--keep").and_then(|index| args.get(index + 1)).map(std::path::PathBuf::from);
    let path = keep.clone().unwrap_or_else(|| directory.path().join("bench.db"));
    let mut store = Store::open(path.to_str().unwrap()).unwrap();

    let started = Instant::now();
    let mut inventory = inventory(total);
    println!(
        "generated {} resources in {:.2} s{}",
        inventory.resources().len(),
        started.elapsed().as_secs_f64(),
        if with_findings { " (with findings)" } else { "" }
    );
    let (summary, seconds) = record(&mut store, &inventory, with_findings);
    println!("scan 1 (all new):     {seconds:6.2} s  {:>9} resources added  store {:>6.1} MiB", summary.resources_added, size(&path) as f64 / 1048576.0);
    let changed = change_one_percent(&mut inventory);
    let (summary, seconds) = record(&mut store, &inventory, with_findings);
    let before = size(&path);
    println!(
        "scan 2 (1% changed):  {seconds:6.2} s  {:>9} resources changed ({changed} edited), {} new findings, {} resolved  store {:>6.1} MiB",
        summary.resources_changed,
        summary.findings_new,
        summary.findings_resolved,
        before as f64 / 1048576.0
    );
    let rows = |store: &mut Store| ["scans", "resource_versions", "finding_changes"].map(|table| store.table_rows(table).unwrap());
    let rows_before = rows(&mut store);
    let (summary, seconds) = record(&mut store, &inventory, with_findings);
    let rows_after = rows(&mut store);
    println!(
        "scan 3 (no change):   {seconds:6.2} s  {:>9} resources changed; rows added: scans {}, versions {}, finding changes {}; store file grew {} bytes",
        summary.resources_changed,
        rows_after[0] - rows_before[0],
        rows_after[1] - rows_before[1],
        rows_after[2] - rows_before[2],
        size(&path).saturating_sub(before)
    );
    console_reads(&mut store);
}

/// Times `work` `runs` times; returns (median, slowest) in milliseconds.
fn timed<T>(runs: usize, mut work: impl FnMut() -> T) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}

/// The console's reads on the store just written.
fn console_reads(store: &mut Store) {
    use vigil_store::query::{FindingFilter, ResourceFilter};
    let findings = store.table_rows("findings").unwrap();
    let resources = store.table_rows("resources").unwrap();
    println!("console reads over {resources} resources and {findings} findings (median / slowest of the runs):");
    let (median, slowest) = timed(20, || serde_json::to_vec(&store.dashboard().unwrap()).unwrap());
    println!("  dashboard (counts, compliance, trend; as JSON)   {median:8.1} ms / {slowest:8.1} ms");
    let all = FindingFilter::default();
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&all, 0, 10_000).unwrap()).unwrap());
    println!("  findings page of 10,000, first (as JSON)         {median:8.1} ms / {slowest:8.1} ms");
    let deep = findings / 2;
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&all, deep, 10_000).unwrap()).unwrap());
    println!("  findings page of 10,000 after row {deep:<9}     {median:8.1} ms / {slowest:8.1} ms");
    for sort in ["severity", "check", "resource", "newest"] {
        let sorted = FindingFilter { sort: Some(sort.to_string()), ..FindingFilter::default() };
        let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&sorted, deep, 10_000).unwrap()).unwrap());
        println!("  10,000 findings by {sort:<8} after row {deep:<9} {median:8.1} ms / {slowest:8.1} ms");
    }
    let failing = FindingFilter { failing: true, ..FindingFilter::default() };
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.findings_page(&failing, 0, 10_000).unwrap()).unwrap());
    println!("  failing findings page of 10,000                  {median:8.1} ms / {slowest:8.1} ms");
    let (median, slowest) = timed(5, || serde_json::to_vec(&store.resources_page(&ResourceFilter::default(), resources / 2, 10_000).unwrap()).unwrap());
    println!("  resources page of 10,000 after row {:<9}    {median:8.1} ms / {slowest:8.1} ms", resources / 2);
    let (median, slowest) = timed(20, || store.facets().unwrap());
    println!("  inventory facets                                 {median:8.1} ms / {slowest:8.1} ms");
}
