//! Property tests of the minimal cut: on abstract paths, the cut breaks every path and the
//! exact cut is as small as a brute-force search finds; on random synthetic accounts, making
//! the cut's changes to the inventory leaves no attack path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use proptest::prelude::*;
use vigil_iam::account::Account;
use vigil_model::Inventory;
use vigil_net::Network;
use vigil_paths::{CutMethod, HostFacts, Options, attack_paths, cut::EXACT_BUDGET, minimal_cut};

fn brute_force_minimum(paths: &[Vec<usize>], changes: usize) -> usize {
    (0u32..1 << changes).filter(|mask| paths.iter().all(|path| path.iter().any(|change| mask & (1 << change) != 0))).map(u32::count_ones).min().unwrap_or(0)
        as usize
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_cut_breaks_every_path_and_the_exact_cut_is_smallest(
        paths in proptest::collection::vec(proptest::collection::vec(0usize..10, 1..5), 0..14)
    ) {
        let cut = minimal_cut(&paths, EXACT_BUDGET);
        for path in &paths {
            prop_assert!(path.iter().any(|change| cut.changes.contains(change)), "{path:?} not broken by {:?}", cut.changes);
        }
        let minimum = brute_force_minimum(&paths, 10);
        match cut.method {
            CutMethod::Exact => prop_assert_eq!(cut.changes.len(), minimum),
            CutMethod::Greedy { lower_bound, factor } => {
                prop_assert!(lower_bound <= minimum);
                prop_assert!(cut.changes.len() as f64 <= factor * minimum as f64 + 1e-9);
            }
        }
    }

    #[test]
    fn the_greedy_cut_breaks_every_path_within_its_bound(
        paths in proptest::collection::vec(proptest::collection::vec(0usize..10, 1..5), 1..14)
    ) {
        let cut = minimal_cut(&paths, 1);
        for path in &paths {
            prop_assert!(path.iter().any(|change| cut.changes.contains(change)));
        }
        let minimum = brute_force_minimum(&paths, 10);
        if let CutMethod::Greedy { lower_bound, factor } = cut.method {
            prop_assert!(lower_bound <= minimum);
            prop_assert!(cut.changes.len() as f64 <= factor * minimum as f64 + 1e-9);
        }
    }

    #[test]
    fn making_the_cut_changes_leaves_no_attack_path(seed in any::<u64>()) {
        let shape = synthetic::Shape { subnets: 3, groups: 4, instances: 6, roles: 6, buckets: 5, profile_percent: 70, sensitive_percent: 50, pass_role_per_mille: 150, admin_per_mille: 100 };
        let mut inventory = synthetic::generate(&shape, seed);
        let options = Options { max_escalation_paths: 0, max_escalation_hops: 6, ..Options::default() };
        let report = run(&inventory, &options);
        for change in &report.cut {
            apply(&mut inventory, change);
        }
        let after = run(&inventory, &options);
        prop_assert!(after.paths.is_empty(), "cut {:#?} left {:#?}", report.cut, after.paths);
        // Every path is broken by its own part of the cut.
        for path in &report.paths {
            prop_assert!(!path.cut.is_empty(), "{path:#?}");
        }
    }
}

fn run(inventory: &Inventory, options: &Options) -> vigil_paths::Report {
    let network = Network::new(inventory);
    let account = Account::from_inventory(inventory);
    attack_paths(inventory, &network, &account, &HostFacts::default(), options)
}

/// The statements `inline policy p of NAME statement N` a change names.
fn named_statements(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for part in text.split("inline policy p of ").skip(1) {
        let Some((name, rest)) = part.split_once(" statement ") else { continue };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        found.push((name.to_string(), digits.parse().unwrap()));
    }
    found
}

fn statements_of<'a>(inventory: &'a mut Inventory, role_arn_or_name: &str) -> &'a mut Vec<serde_json::Value> {
    let role = inventory.iam.roles.iter_mut().find(|role| role.arn == role_arn_or_name || role.role_name == role_arn_or_name).unwrap();
    role.role_policy_list[0].policy_document["Statement"].as_array_mut().unwrap()
}

/// Makes one change of the cut in the inventory, as `vigil fix` or a person would.
fn apply(inventory: &mut Inventory, change: &vigil_model::analysis::CutChange) {
    let regional = inventory.regional.values_mut().next().unwrap();
    match change.kind.as_str() {
        "security-group-rule" => {
            let group_id = change.resource.rsplit('/').next().unwrap();
            let group = regional.ec2.security_groups.iter_mut().find(|group| group.group_id == group_id).unwrap();
            group.ip_permissions.retain(|permission| {
                let cidr = &permission.ip_ranges[0].cidr_ip;
                let words = if permission.ip_protocol == "-1" {
                    format!("all traffic from {cidr}")
                } else {
                    format!("{} {}-{} from {cidr}", permission.ip_protocol, permission.from_port.unwrap(), permission.to_port.unwrap())
                };
                change.change != format!("revoke {words} on {group_id}")
            });
        }
        "instance-profile" => {
            let instance_id = change.resource.rsplit('/').next().unwrap();
            regional.ec2.instances.iter_mut().find(|instance| instance.instance_id == instance_id).unwrap().iam_instance_profile = None;
        }
        "policy-statement" => {
            let mut named = named_statements(&change.change);
            assert!(!named.is_empty(), "{change:?}");
            named.sort_by_key(|entry| std::cmp::Reverse(entry.1));
            for (name, index) in named {
                statements_of(inventory, &name)[index] = serde_json::json!({ "Effect": "Allow", "Action": "none:None", "Resource": "*" });
            }
        }
        "escalation-permission" => {
            let actions: Vec<String> = change
                .change
                .trim_start_matches("remove ")
                .split(" from ")
                .next()
                .unwrap()
                .split(", ")
                .map(|part| part.split(" on ").next().unwrap().to_string())
                .collect();
            for statement in statements_of(inventory, &change.resource).iter_mut() {
                let granted: Vec<String> = match &statement["Action"] {
                    serde_json::Value::String(action) => vec![action.clone()],
                    serde_json::Value::Array(list) => list.iter().filter_map(|action| action.as_str().map(str::to_string)).collect(),
                    _ => Vec::new(),
                };
                if granted.iter().any(|action| action == "*" || actions.contains(action)) {
                    *statement = serde_json::json!({ "Effect": "Allow", "Action": "none:None", "Resource": "*" });
                }
            }
        }
        other => panic!("the synthetic account makes no {other} change: {change:?}"),
    }
}

/// The property above is not vacuous: the small random accounts have paths of every kind of
/// hop, and cuts of several kinds.
#[test]
fn the_small_random_accounts_have_paths_and_cuts_of_several_kinds() {
    let shape = synthetic::Shape {
        subnets: 3,
        groups: 4,
        instances: 6,
        roles: 6,
        buckets: 5,
        profile_percent: 70,
        sensitive_percent: 50,
        pass_role_per_mille: 150,
        admin_per_mille: 100,
    };
    let options = Options { max_escalation_paths: 0, max_escalation_hops: 6, ..Options::default() };
    let mut with_paths = 0;
    let mut hop_kinds = std::collections::BTreeSet::new();
    let mut cut_kinds = std::collections::BTreeSet::new();
    for seed in 1..=60u64 {
        let report = run(&synthetic::generate(&shape, seed * 7919), &options);
        if !report.paths.is_empty() {
            with_paths += 1;
        }
        hop_kinds.extend(report.paths.iter().flat_map(|path| path.hops.iter().map(|hop| hop.kind.clone())));
        cut_kinds.extend(report.cut.iter().map(|change| change.kind.clone()));
    }
    assert!(with_paths >= 20, "{with_paths} of 60 accounts have paths");
    for kind in ["network", "runs-as", "access", "escalation"] {
        assert!(hop_kinds.contains(kind), "{kind}: {hop_kinds:?}");
    }
    assert!(cut_kinds.len() >= 2, "{cut_kinds:?}");
}
