//! Property tests of the evaluation logic: an explicit Deny anywhere that governs the request
//! always wins (RCPs govern only the services that support them); adding a Deny never turns a
//! denial into an allow; adding an Allow to an identity policy never removes access.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Value, json};
use vigil_iam::Decision;
use vigil_iam::simulate::parse_case;

const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:sts::111111111111:assumed-role/app/s",
    "arn:aws:iam::222222222222:role/partner",
];
const ACTIONS: &[&str] = &["s3:GetObject", "s3:PutObject", "s3:*", "*", "ec2:RunInstances", "s3:Get*", "kms:Decrypt", "sts:AssumeRole"];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::other/*",
    "arn:aws:kms:us-east-1:111111111111:key/k",
    "arn:aws:iam::111111111111:role/target",
];
const RESOURCE_PRINCIPALS: &[&str] = &["*", "111111111111", "222222222222", "arn:aws:iam::111111111111:role/app", "arn:aws:iam::111111111111:user/alice"];

fn statement(resource_policy: bool) -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.3),
        prop::sample::select(ACTIONS),
        prop::bool::weighted(0.15),
        prop::sample::select(RESOURCES),
        prop::option::weighted(0.3, prop::sample::select(&["red", "blue"][..])),
        prop::sample::select(RESOURCE_PRINCIPALS),
    )
        .prop_map(move |(deny, action, not_action, resource, team, principal)| {
            let mut statement = json!({ "Effect": if deny { "Deny" } else { "Allow" }, "Resource": resource });
            statement[if not_action { "NotAction" } else { "Action" }] = json!(action);
            if let Some(team) = team {
                statement["Condition"] = json!({ "StringEquals": { "aws:PrincipalTag/team": team } });
            }
            if resource_policy {
                statement["Principal"] = if principal == "*" { json!("*") } else { json!({ "AWS": principal }) };
            }
            statement
        })
}

fn policy(resource_policy: bool) -> impl Strategy<Value = Value> {
    prop::collection::vec(statement(resource_policy), 0..4).prop_map(|statements| json!({ "Version": "2012-10-17", "Statement": statements }))
}

fn case() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(PRINCIPALS),
        prop::sample::select(&["s3:GetObject", "s3:PutObject", "ec2:RunInstances", "kms:Decrypt", "sts:AssumeRole"][..]),
        prop::sample::select(&RESOURCES[1..]),
        prop::option::of(prop::sample::select(&["red", "blue"][..])),
        prop::collection::vec(policy(false), 0..3),
        prop::option::of(policy(true)),
        prop::option::weighted(0.3, policy(false)),
        prop::option::weighted(0.3, policy(false)),
        prop::collection::vec(prop::collection::vec(policy(false), 1..3), 0..3),
        prop::collection::vec(prop::collection::vec(policy(true), 1..2), 0..2),
    )
        .prop_map(|(principal, action, resource, team, identity, resource_policy, boundary, session, scps, rcps)| {
            let context = match team {
                Some(team) => json!({ "aws:PrincipalTag/team": team }),
                None => json!({}),
            };
            json!({
                "request": { "principal": principal, "action": action, "resource": resource, "resource_account": "111111111111", "context": context },
                "identity_policies": identity, "resource_policy": resource_policy, "permissions_boundary": boundary,
                "session_policy": session, "scps": scps, "rcps": rcps,
            })
        })
}

fn decide(case: &Value) -> Decision {
    parse_case(0, case).unwrap().evaluate().decision
}

/// The places a statement can be added: (JSON pointer of a policy, whether it is resource-based).
fn policy_slots(case: &Value) -> Vec<(String, bool)> {
    let mut slots = Vec::new();
    for (index, _) in case["identity_policies"].as_array().unwrap().iter().enumerate() {
        slots.push((format!("/identity_policies/{index}"), false));
    }
    for (name, resource) in [("resource_policy", true), ("permissions_boundary", false), ("session_policy", false)] {
        if !case[name].is_null() {
            slots.push((format!("/{name}"), resource));
        }
    }
    for (name, resource) in [("scps", false), ("rcps", true)] {
        for (level, policies) in case[name].as_array().unwrap().iter().enumerate() {
            for (index, _) in policies.as_array().unwrap().iter().enumerate() {
                slots.push((format!("/{name}/{level}/{index}"), resource));
            }
        }
    }
    slots
}

fn add_statement(case: &Value, pointer: &str, statement: Value) -> Value {
    let mut case = case.clone();
    case.pointer_mut(pointer).unwrap()["Statement"].as_array_mut().unwrap().push(statement);
    case
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn an_explicit_deny_anywhere_always_wins(case in case(), choice in any::<prop::sample::Index>()) {
        let slots = policy_slots(&case);
        prop_assume!(!slots.is_empty());
        let (pointer, resource) = &slots[choice.index(slots.len())];
        let action = case["request"]["action"].as_str().unwrap_or_default();
        let service = action.split(':').next().unwrap_or_default();
        prop_assume!(!pointer.starts_with("/rcps") || vigil_iam::evaluate::RCP_SERVICES.contains(&service));
        let mut deny = json!({ "Effect": "Deny", "Action": "*", "Resource": "*" });
        if *resource {
            deny["Principal"] = json!("*");
        }
        let changed = add_statement(&case, pointer, deny);
        prop_assert_eq!(decide(&changed), Decision::ExplicitDeny);
    }

    #[test]
    fn adding_a_deny_never_turns_a_denial_into_an_allow(case in case(), choice in any::<prop::sample::Index>(), deny in statement(true)) {
        let slots = policy_slots(&case);
        prop_assume!(!slots.is_empty());
        let (pointer, resource) = &slots[choice.index(slots.len())];
        let mut deny = deny;
        deny["Effect"] = json!("Deny");
        if !*resource {
            deny.as_object_mut().unwrap().remove("Principal");
        }
        let before = decide(&case);
        let after = decide(&add_statement(&case, pointer, deny));
        if before != Decision::Allowed {
            prop_assert_ne!(after, Decision::Allowed);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    #[test]
    fn adding_an_allow_to_an_identity_policy_never_removes_access(case in case(), allow in statement(false)) {
        let mut allow = allow;
        allow["Effect"] = json!("Allow");
        let mut changed = case.clone();
        changed["identity_policies"].as_array_mut().unwrap().push(json!({ "Version": "2012-10-17", "Statement": [allow] }));
        if decide(&case) == Decision::Allowed {
            prop_assert_eq!(decide(&changed), Decision::Allowed);
        }
    }
}
