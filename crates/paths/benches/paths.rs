//! Benchmark: attack paths over a synthetic account of 10,000 roles, 100,000 instances (one
//! network interface each), 10,000 security groups over 1,000 subnets and 5,000 buckets (10%
//! tagged sensitive); 30% of instances run with an instance profile. Times generating, the
//! network index, the IAM parse and `attack_paths` (exposure map, admitting rules, escalation,
//! access decisions, the cut). Run: `cargo bench -p vigil-paths --bench paths`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/synthetic.rs"]
mod synthetic;

use std::time::Instant;

use vigil_iam::account::Account;
use vigil_net::Network;
use vigil_paths::{CutMethod, HostFacts, Options, attack_paths};

fn main() {
    // VIGIL_BENCH_SCALE=10 divides every count by 10 (a quick run).
    let scale: usize = std::env::var("VIGIL_BENCH_SCALE").ok().and_then(|text| text.parse().ok()).unwrap_or(1).max(1);
    let shape = synthetic::Shape {
        subnets: 1_000 / scale,
        groups: 10_000 / scale,
        instances: 100_000 / scale,
        roles: 10_000 / scale,
        buckets: 5_000 / scale,
        profile_percent: std::env::var("VIGIL_BENCH_PROFILES").ok().and_then(|text| text.parse().ok()).unwrap_or(30),
        sensitive_percent: 10,
        pass_role_per_mille: 5,
        admin_per_mille: 3,
    };
    let started = Instant::now();
    let inventory = synthetic::generate(&shape, 0x9E37_79B9_7F4A_7C15);
    println!("generate: {:.2} s", started.elapsed().as_secs_f64());
    let (wall, cpu) = (Instant::now(), vigil_benchkit::cpu_seconds());
    let network = Network::new(&inventory);
    let account = Account::from_inventory(&inventory);
    println!("index network + parse IAM: {:.2} s wall, {:.2} s CPU", wall.elapsed().as_secs_f64(), vigil_benchkit::cpu_seconds() - cpu);
    let exposures = network.exposures();
    println!("exposure map alone: {:.2} s CPU so far ({} exposed endpoints)", vigil_benchkit::cpu_seconds() - cpu, exposures.len());
    let escalation = Instant::now();
    let escalation_paths = vigil_iam::escalation::escalation(&account, &vigil_iam::escalation::Options { max_paths: 5, max_hops: 4, ..Default::default() });
    println!(
        "escalation alone: {:.2} s wall, {:.2} s CPU so far ({} paths)",
        escalation.elapsed().as_secs_f64(),
        vigil_benchkit::cpu_seconds() - cpu,
        escalation_paths.len()
    );
    let wall = Instant::now();
    let cpu = vigil_benchkit::cpu_seconds();
    let report = attack_paths(&inventory, &network, &account, &HostFacts::default(), &Options::default());
    let total = wall.elapsed().as_secs_f64();
    let method = match report.method {
        CutMethod::Exact => "exact".to_string(),
        CutMethod::Greedy { lower_bound, factor } => format!("greedy (minimum >= {lower_bound}, at most {factor:.2} x the minimum)"),
    };
    println!(
        "attack paths: {} paths to {} targets, {} sensitive resources, cut of {} changes ({method})",
        report.paths.len(),
        report.paths.iter().map(|path| path.target.as_str()).collect::<std::collections::HashSet<_>>().len(),
        report.sensitive.len(),
        report.cut.len()
    );
    println!("attack_paths (exposure map, rules, escalation, access, cut): {total:.2} s wall, {:.2} s CPU", vigil_benchkit::cpu_seconds() - cpu);
}
