//! Benchmark: `vigil export` throughput on a large generated store.
//!
//! `cargo run --release -p vigil-export --example export_bench -- 200000 [--keep DIR]`
//! (default 200,000 security groups). Generates a store with that many security groups in four
//! regions, three findings per group and one alert per two groups over 30 days, then exports
//! every table to Parquet in a temporary directory (or DIR) and prints rows, files, seconds,
//! rows/s and bytes written per table, and the process's peak resident memory.
//! `-- --export-only DIR` exports the store `--keep DIR` left, alone in its process (so the
//! peak memory is the export's).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use vigil_checks::{Finding, Status};
use vigil_export::{DirectorySink, ExportOptions};
use vigil_model::ec2::{IpPermission, IpRange, SecurityGroup};
use vigil_model::inventory::AccountInfo;
use vigil_model::{ApiCall, Inventory, Outcome, RegionalInventory};
use vigil_store::{AlertInput, ScanInput, Store};

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

fn inventory(groups: usize) -> Inventory {
    let account = AccountInfo { account_id: ACCOUNT.parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    let mut inventory = Inventory::new(account, REGIONS.iter().map(|region| (*region).into()).collect(), chrono::Utc::now());
    for region in REGIONS {
        let mut regional = RegionalInventory::default();
        for index in 0..groups / REGIONS.len() {
            regional.ec2.security_groups.push(SecurityGroup {
                group_id: format!("sg-{index:08x}"),
                group_name: format!("group-{index}"),
                vpc_id: Some(format!("vpc-{}", index % 100)),
                ip_permissions: vec![IpPermission {
                    ip_protocol: "tcp".into(),
                    from_port: Some(443),
                    to_port: Some(443),
                    ip_ranges: vec![IpRange {
                        cidr_ip: if index % 7 == 0 { "0.0.0.0/0".into() } else { "10.0.0.0/8".into() },
                        description: Some("rule".into()),
                    }],
                    ..IpPermission::default()
                }],
                ..SecurityGroup::default()
            });
        }
        inventory.ledger.record(ApiCall::new("ec2", region, "DescribeSecurityGroups", None, Outcome::Ok));
        inventory.regional.insert(region.into(), regional);
    }
    inventory
}

fn findings(inventory: &Inventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (region, regional) in &inventory.regional {
        for group in &regional.ec2.security_groups {
            let open = group.ip_permissions.iter().any(|rule| rule.ip_ranges.iter().any(|range| range.cidr_ip == "0.0.0.0/0"));
            let arn = format!("arn:aws:ec2:{region}:{ACCOUNT}:security-group/{}", group.group_id);
            for (check, status) in [
                ("ec2_securitygroup_allow_ingress_from_internet_to_any_port", if open { Status::Fail } else { Status::Pass }),
                ("ec2_securitygroup_default_restrict_traffic", Status::Pass),
                ("ec2_securitygroup_not_used", Status::Fail),
            ] {
                findings.push(
                    serde_json::from_value(serde_json::json!({
                        "check_id": check, "check_title": check, "service": "ec2", "severity": "high", "status": status.as_str(),
                        "account_id": ACCOUNT, "region": region.as_str(), "resource_arn": arn, "resource_type": "AWS::EC2::SecurityGroup",
                        "resource_id": group.group_id, "message": format!("security group `{}`", group.group_id),
                        "evidence": {"GroupId": group.group_id, "IpPermissions": group.ip_permissions.len()}
                    }))
                    .unwrap(),
                );
            }
        }
    }
    findings
}

fn alerts(count: usize) -> Vec<AlertInput> {
    (0..count)
        .map(|index| AlertInput {
            rule_id: format!("rule-{}", index % 40),
            event_id: format!("event-{index}"),
            rule_title: format!("Rule {}", index % 40),
            level: ["low", "medium", "high", "critical"][index % 4].into(),
            event_time: format!("2026-11-{:02}T{:02}:{:02}:00Z", index % 30 + 1, index % 24, index % 60),
            event_name: "StopLogging".into(),
            account_id: Some(ACCOUNT.into()),
            detail: serde_json::json!({"aws_region": REGIONS[index % 4], "principal": format!("arn:aws:iam::{ACCOUNT}:user/u{}", index % 500),
                "source_ip": "203.0.113.7", "event_source": "cloudtrail.amazonaws.com", "tags": ["attack.defense_evasion", "attack.t1562"]}),
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("VmHWM:")).and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

fn bytes_under(path: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let path = entry.path();
        total += if path.is_dir() { bytes_under(&path) } else { entry.metadata().map(|metadata| metadata.len()).unwrap_or(0) };
    }
    total
}

fn generate(store: &mut Store, groups: usize) {
    let started = Instant::now();
    let inventory = inventory(groups);
    let findings = findings(&inventory);

    let checks_run = findings.iter().map(|finding| finding.check_id.to_string()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let input = ScanInput {
        started_at: chrono::Utc::now(),
        finished_at: chrono::Utc::now(),
        source: "bench".into(),
        inventories: vec![&inventory],
        findings: &findings,
        checks_run,
        analyses: None,
    };
    store.record_scan(&input).unwrap();
    store.record_alerts(&alerts(groups / 2), &chrono::Utc::now().to_rfc3339()).unwrap();
    drop((findings, inventory));
    println!(
        "store: {} findings, {} resources, {} alerts, written in {:.1}s",
        store.table_rows("findings").unwrap(),
        store.table_rows("resources").unwrap(),
        store.table_rows("alerts").unwrap(),
        started.elapsed().as_secs_f64()
    );
    let baseline = peak_rss_mib();
    println!("peak RSS after generating the store: {baseline:.0} MiB");
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let groups: usize = arguments.first().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    let keep = arguments.iter().position(|argument| argument == "--keep").and_then(|index| arguments.get(index + 1)).map(std::path::PathBuf::from);
    let directory = tempfile::tempdir().unwrap();
    let root = keep.unwrap_or_else(|| directory.path().to_path_buf());
    let export_only =
        arguments.iter().position(|argument| argument == "--export-only").and_then(|index| arguments.get(index + 1)).map(std::path::PathBuf::from);
    let root = export_only.clone().unwrap_or(root);
    let mut store = Store::open(root.join("vigil.db").to_str().unwrap()).unwrap();
    if export_only.is_none() {
        generate(&mut store, groups);
    }
    let lake = root.join("lake");
    let _ = std::fs::remove_dir_all(&lake);
    for table in ["findings", "resources", "alerts"] {
        let options = ExportOptions { tables: ExportOptions::tables_named(table).unwrap(), ..ExportOptions::default() };
        let started = Instant::now();
        let summary = vigil_export::export(&mut store, &options, &mut DirectorySink::new(&lake)).unwrap().remove(0);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{table:<10} {:>9} rows {:>4} files {:>7.2} s {:>9.0} rows/s {:>8.1} MiB on disk",
            summary.rows,
            summary.files,
            seconds,
            summary.rows as f64 / seconds,
            bytes_under(&lake.join(table)) as f64 / 1_048_576.0
        );
    }
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}
