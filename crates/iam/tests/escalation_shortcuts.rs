//! The escalation analysis's shortcuts change no answer: on generated accounts (a few users and
//! roles whose policies, trusts, instance profiles, subnets and security groups are drawn from
//! pools that exercise each shortcut), `escalation` reports exactly the paths of
//! `escalation_exhaustive`, which asks the engine every decision. The pools hold what could make
//! a shortcut wrong: conditions and policy variables on `ec2:InstanceProfile` (the memo of
//! service actions leaves the profile out of its key only when no policy reads it), trusts that
//! name the caller, everyone, a federated ARN or only the account, and callers with and without
//! `sts:AssumeRole` (roles trusting only the account are skipped for callers whose identity
//! policies cannot allow it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Value, json};
use vigil_iam::Decision;
use vigil_iam::account::Account;
use vigil_iam::escalation::{Goal, Options, escalation, escalation_exhaustive};
use vigil_model::ec2::{SecurityGroup, Subnet};
use vigil_model::iam::{InlinePolicy, InstanceProfile, Role, User};
use vigil_model::s3::Bucket;
use vigil_model::{AccountId, AccountInfo, Inventory, Region};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// Identity policy statements; `{n}` is replaced by a principal's number.
fn statement(choice: usize, target: usize) -> Value {
    let role = format!("arn:aws:iam::{ACCOUNT}:role/role-{target}");
    let profile = format!("arn:aws:iam::{ACCOUNT}:instance-profile/profile-{target}");
    match choice {
        0 => json!({ "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*" }),
        1 => json!({ "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role }),
        2 => json!({ "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*" }),
        3 => json!({ "Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
                     "Condition": { "StringEquals": { "iam:PassedToService": "ec2.amazonaws.com" } } }),
        4 => json!({ "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                     "Condition": { "ArnEquals": { "ec2:InstanceProfile": profile } } }),
        5 => json!({ "Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*",
                     "Condition": { "StringLike": { "ec2:InstanceProfile": format!("*profile-{target}") } } }),
        6 => json!({ "Effect": "Allow", "Action": "ec2:RunInstances",
                     "Resource": [format!("arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-{target}"),
                                  format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-{target}"),
                                  format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*"),
                                  format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/*"),
                                  format!("arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*"),
                                  "arn:aws:ec2:*::image/*"] }),
        7 => json!({ "Effect": "Allow", "Action": "ec2:RunInstances",
                     "Resource": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/${{ec2:InstanceProfile}}") }),
        8 => json!({ "Effect": "Allow", "Action": ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"], "Resource": "*" }),
        9 => json!({ "Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction", "iam:PassRole"], "Resource": "*" }),
        10 => json!({ "Effect": "Allow", "Action": "*", "Resource": "*" }),
        11 => json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" }),
        12 => json!({ "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": role }),
        13 => json!({ "Effect": "Allow", "Action": ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"], "Resource": role }),
        14 => json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket-{target}/*") }),
        15 => json!({ "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket-${aws:username}/*" }),
        16 => json!({ "Effect": "Allow", "Action": "s3:GetObject", "NotResource": format!("arn:aws:s3:::bucket-{target}/*") }),
        _ => json!({ "Effect": "Allow", "NotAction": "iam:*", "Resource": "*" }),
    }
}

/// Trust policy principals.
fn trust(choice: usize, target: usize) -> Value {
    match choice {
        0 => json!({ "Service": "ec2.amazonaws.com" }),
        1 => json!({ "Service": "lambda.amazonaws.com" }),
        2 => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }),
        3 => json!({ "AWS": ACCOUNT }),
        4 => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:user/user-{target}") }),
        5 => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:role/role-{target}") }),
        6 => json!({ "AWS": "*" }),
        7 => json!({ "Federated": format!("arn:aws:iam::{ACCOUNT}:user/user-{target}") }),
        _ => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root"), "Service": "ec2.amazonaws.com" }),
    }
}

#[derive(Debug, Clone)]
struct Principal {
    statements: Vec<(usize, usize)>,
    trusts: Vec<(usize, usize)>,
    profiles: usize,
}

fn principal() -> impl Strategy<Value = Principal> {
    (prop::collection::vec((0usize..18, 0usize..3), 1..4), prop::collection::vec((0usize..9, 0usize..3), 1..3), 0usize..3)
        .prop_map(|(statements, trusts, profiles)| Principal { statements, trusts, profiles })
}

fn account(users: &[Principal], roles: &[Principal], subnets: usize) -> Account {
    let info = AccountInfo {
        account_id: AccountId::try_from(ACCOUNT.to_string()).unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    let mut inventory = Inventory::new(info, vec![Region::new(REGION)], chrono::Utc::now());
    let regional = inventory.regional.entry(Region::new(REGION)).or_default();
    for index in 0..subnets {
        regional.ec2.subnets.push(Subnet { subnet_id: format!("subnet-{index}"), vpc_id: "vpc-0".into(), ..Default::default() });
        regional.ec2.security_groups.push(SecurityGroup { group_id: format!("sg-{index}"), group_name: format!("group-{index}"), ..Default::default() });
    }
    let document = |statements: &[(usize, usize)]| json!({ "Version": "2012-10-17", "Statement": statements.iter().map(|(choice, target)| statement(*choice, *target)).collect::<Vec<_>>() });
    for (index, user) in users.iter().enumerate() {
        inventory.iam.users.push(User {
            user_name: format!("user-{index}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/user-{index}"),
            user_policy_list: vec![InlinePolicy { policy_name: "p".into(), policy_document: document(&user.statements) }],
            ..User::default()
        });
    }
    for (index, role) in roles.iter().enumerate() {
        let statements: Vec<Value> =
            role.trusts.iter().map(|(choice, target)| json!({ "Effect": "Allow", "Principal": trust(*choice, *target), "Action": "sts:AssumeRole" })).collect();
        inventory.iam.roles.push(Role {
            role_name: format!("role-{index}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/role-{index}"),
            assume_role_policy_document: Some(json!({ "Version": "2012-10-17", "Statement": statements })),
            role_policy_list: vec![InlinePolicy { policy_name: "p".into(), policy_document: document(&role.statements) }],
            instance_profile_list: (0..role.profiles)
                .map(|number| {
                    let name = if number == 0 { format!("profile-{index}") } else { format!("extra-{index}-{number}") };
                    InstanceProfile {
                        instance_profile_name: name.clone(),
                        instance_profile_id: format!("AIPA{index}{number}"),
                        arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}"),
                    }
                })
                .collect(),
            ..Role::default()
        });
    }
    for index in 0..3 {
        // bucket-1's policy grants role-0; bucket-2's grants everyone.
        let policy = match index {
            1 => {
                Some(json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT}:role/role-0") },
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket-1/*" }] }))
            }
            2 => Some(
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket-2/*" }] }),
            ),
            _ => None,
        };
        inventory.s3.buckets.push(Bucket { name: format!("bucket-{index}"), region: REGION.into(), policy, ..Bucket::default() });
    }
    Account::from_inventory(&inventory)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, .. ProptestConfig::default() })]

    #[test]
    fn escalation_reports_exactly_the_paths_of_the_exhaustive_analysis(
        users in prop::collection::vec(principal(), 0..4),
        roles in prop::collection::vec(principal(), 1..5),
        subnets in 0usize..4,
        bucket in any::<bool>(),
    ) {
        let account = account(&users, &roles, subnets);
        let goal = if bucket {
            Goal::Resource { arn: "arn:aws:s3:::data".into(), accesses: vec![("s3:GetObject".into(), "arn:aws:s3:::data/*".into())] }
        } else {
            Goal::Admin
        };
        let options = Options { goal, max_paths: 0, max_hops: 4 };
        prop_assert_eq!(escalation(&account, &options), escalation_exhaustive(&account, &options));
    }
}

#[test]
fn a_request_the_filter_rules_out_is_one_the_engine_refuses() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 300, ..ProptestConfig::default() });
    let ruled_out = std::cell::Cell::new(0usize);
    let strategy = (prop::collection::vec(principal(), 0..4), prop::collection::vec(principal(), 1..5));
    runner
        .run(&strategy, |(users, roles)| {
            let account = account(&users, &roles, 1);
            let mut requests: Vec<(&str, String)> = Vec::new();
            for index in 0..4 {
                requests.push(("s3:GetObject", format!("arn:aws:s3:::bucket-{index}/*")));
                requests.push(("s3:GetObject", format!("arn:aws:s3:::bucket-user-{index}/*")));
                requests.push(("ec2:RunInstances", format!("arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-{index}")));
                requests.push(("sts:AssumeRole", format!("arn:aws:iam::{ACCOUNT}:role/role-{index}")));
                requests.push(("iam:PassRole", format!("arn:aws:iam::{ACCOUNT}:role/role-{index}")));
            }
            for principal in &account.principals {
                for (action, resource) in &requests {
                    if !account.may_be_allowed(principal, action, resource) {
                        ruled_out.set(ruled_out.get() + 1);
                        prop_assert_ne!(account.decide_for(principal, action, resource), Decision::Allowed, "{} {} {}", principal.arn, action, resource);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    // The filter is not vacuous over the generated accounts.
    assert!(ruled_out.get() > 100, "only {} requests ruled out", ruled_out.get());
}
