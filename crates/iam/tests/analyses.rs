//! The account analyses on small hand-built inventories: who can, admins, escalation paths
//! and external access.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use vigil_iam::account::Account;
use vigil_iam::analysis::{Exposure, admins, escalation, external_access};
use vigil_model::iam::{AttachedPolicy, InlinePolicy, ManagedPolicy, PolicyVersion, Role, User};
use vigil_model::{AccountId, AccountInfo, Inventory};

const ACCOUNT: &str = "123456789012";

fn inventory() -> Inventory {
    let account = AccountInfo {
        account_id: AccountId::try_from(ACCOUNT.to_string()).unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    Inventory::new(account, Vec::new(), chrono::Utc::now())
}

fn allow(actions: Value, resources: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": resources }] })
}

fn user(name: &str, inline: Option<Value>) -> User {
    User {
        user_name: name.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        user_policy_list: inline.map(|document| vec![InlinePolicy { policy_name: "inline".into(), policy_document: document }]).unwrap_or_default(),
        ..User::default()
    }
}

fn role(name: &str, trust: Value, inline: Option<Value>) -> Role {
    Role {
        role_name: name.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        assume_role_policy_document: Some(trust),
        role_policy_list: inline.map(|document| vec![InlinePolicy { policy_name: "inline".into(), policy_document: document }]).unwrap_or_default(),
        ..Role::default()
    }
}

/// A role EC2 can run with: it trusts EC2 and sits in an instance profile.
fn instance_role(name: &str, inline: Option<Value>) -> Role {
    let mut role = role(name, trust(json!({ "Service": "ec2.amazonaws.com" })), inline);
    role.instance_profile_list.push(vigil_model::iam::InstanceProfile {
        instance_profile_name: name.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}"),
        ..Default::default()
    });
    role
}

fn trust(principal: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole" }] })
}

fn seeded() -> Inventory {
    let mut inventory = inventory();
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/dev");
    inventory.iam.policies.push(ManagedPolicy {
        policy_name: "dev".into(),
        arn: policy_arn.clone(),
        default_version_id: Some("v1".into()),
        policy_version_list: vec![PolicyVersion {
            version_id: "v1".into(),
            is_default_version: true,
            document: allow(json!(["iam:CreatePolicyVersion", "s3:ListAllMyBuckets"]), json!("*")),
            ..PolicyVersion::default()
        }],
        ..ManagedPolicy::default()
    });
    inventory.iam.users.push(user("root-like", Some(allow(json!("*"), json!("*")))));
    let mut developer = user("developer", None);
    developer.attached_managed_policies.push(AttachedPolicy { policy_name: Some("dev".into()), policy_arn });
    inventory.iam.users.push(developer);
    inventory.iam.users.push(user("launcher", Some(allow(json!(["iam:PassRole", "ec2:RunInstances"]), json!("*")))));
    inventory.iam.users.push(user("reader", Some(allow(json!("s3:GetObject"), json!("*")))));
    inventory.iam.users.push(user("hopper", Some(allow(json!("sts:AssumeRole"), json!(format!("arn:aws:iam::{ACCOUNT}:role/launch-role"))))));
    inventory.iam.roles.push(instance_role("instance-admin", Some(allow(json!("*"), json!("*")))));
    inventory.iam.roles.push(role("launch-role", trust(json!({ "AWS": ACCOUNT })), Some(allow(json!(["iam:PassRole", "ec2:RunInstances"]), json!("*")))));
    inventory.iam.roles.push(role("partner", trust(json!({ "AWS": "arn:aws:iam::999999999999:root" })), None));
    inventory.s3.buckets.push(vigil_model::s3::Bucket {
        name: "public-site".into(),
        policy: Some(json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-site/*" }] })),
        ..Default::default()
    });
    inventory.s3.buckets.push(vigil_model::s3::Bucket {
        name: "vpc-only".into(),
        policy: Some(json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::vpc-only/*",
            "Condition": { "StringEquals": { "aws:SourceVpce": "vpce-1234" } } }] })),
        ..Default::default()
    });
    inventory.s3.buckets.push(vigil_model::s3::Bucket {
        name: "own-account".into(),
        policy: Some(json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": { "StringEquals": { "aws:PrincipalAccount": ACCOUNT } } }] })),
        ..Default::default()
    });
    inventory
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

#[test]
fn can_answers_from_real_policies_including_bucket_policies() {
    let account = Account::from_inventory(&seeded());
    assert_eq!(account.can(&arn("user", "reader"), "s3:GetObject", "arn:aws:s3:::any/key", &[]).decision.as_str(), "Allowed");
    assert_eq!(account.can(&arn("user", "reader"), "s3:PutObject", "arn:aws:s3:::any/key", &[]).decision.as_str(), "ImplicitDeny");
    // The public bucket's policy grants every principal of the account too.
    assert_eq!(account.can(&arn("user", "hopper"), "s3:GetObject", "arn:aws:s3:::public-site/index.html", &[]).decision.as_str(), "Allowed");
    let who: Vec<String> = account.who_can("s3:GetObject", "arn:aws:s3:::private/key").into_iter().map(|(principal, _)| principal.name.clone()).collect();
    assert_eq!(who, ["root-like", "reader", "instance-admin"]);
}

#[test]
fn admins_are_full_or_self_granting() {
    let account = Account::from_inventory(&seeded());
    let found: Vec<(String, &str)> = admins(&account).into_iter().map(|admin| (admin.principal, admin.reason)).collect();
    assert_eq!(found, [(arn("role", "instance-admin"), "full"), (arn("user", "developer"), "self-grant"), (arn("user", "root-like"), "full")]);
}

#[test]
fn escalation_paths_name_each_step() {
    let account = Account::from_inventory(&seeded());
    let paths = escalation(&account);
    let describe = |principal: &str| -> Vec<String> {
        paths
            .iter()
            .find(|path| path.principal == principal)
            .map(|path| path.steps.iter().map(|step| format!("{} -> {}", step.method, step.to)).collect())
            .unwrap_or_default()
    };
    assert_eq!(describe(&arn("user", "developer")), [format!("iam:CreatePolicyVersion -> {}", arn("user", "developer"))]);
    assert_eq!(describe(&arn("user", "launcher")), [format!("iam:PassRole + ec2:RunInstances -> {}", arn("role", "instance-admin"))]);
    assert_eq!(
        describe(&arn("user", "hopper")),
        [format!("sts:AssumeRole -> {}", arn("role", "launch-role")), format!("iam:PassRole + ec2:RunInstances -> {}", arn("role", "instance-admin"))]
    );
    assert!(describe(&arn("user", "reader")).is_empty());
    assert!(describe(&arn("user", "root-like")).is_empty(), "admins need no path");
}

#[test]
fn external_access_accounts_for_narrowing_conditions() {
    let account = Account::from_inventory(&seeded());
    let found: Vec<(String, Exposure, Vec<String>)> =
        external_access(&account).into_iter().map(|finding| (finding.resource, finding.exposure, finding.principals)).collect();
    assert_eq!(
        found,
        [
            ("arn:aws:s3:::public-site".to_string(), Exposure::Public, vec!["*".to_string()]),
            ("arn:aws:s3:::vpc-only".to_string(), Exposure::NetworkRestricted, vec!["*".to_string()]),
            (arn("role", "partner"), Exposure::CrossAccount, vec!["999999999999".to_string()]),
        ]
    );
}

#[test]
fn joining_an_admin_group_is_a_self_grant_and_joining_another_is_not() {
    let mut inventory = inventory();
    for (name, document) in [("admins", allow(json!("*"), json!("*"))), ("viewers", allow(json!("s3:GetObject"), json!("*")))] {
        inventory.iam.groups.push(vigil_model::iam::Group {
            group_name: name.into(),
            arn: arn("group", name),
            group_policy_list: vec![InlinePolicy { policy_name: "inline".into(), policy_document: document }],
            ..Default::default()
        });
    }
    inventory.iam.users.push(user("joiner", Some(allow(json!("iam:AddUserToGroup"), json!(arn("group", "admins"))))));
    inventory.iam.users.push(user("viewer-joiner", Some(allow(json!("iam:AddUserToGroup"), json!(arn("group", "viewers"))))));
    let account = Account::from_inventory(&inventory);
    let found: Vec<(String, String)> = admins(&account)
        .into_iter()
        .map(|admin| (admin.principal, admin.step.map(|step| format!("{} on {}", step.method, step.resource)).unwrap_or_default()))
        .collect();
    assert_eq!(found, [(arn("user", "joiner"), format!("iam:AddUserToGroup on {}", arn("group", "admins")))]);
}

#[test]
fn pass_role_methods_credit_service_actions_scoped_to_the_resources_they_create() {
    let mut inventory = inventory();
    inventory.regions = vec![vigil_model::Region::new("eu-west-1")];
    inventory.iam.roles.push(instance_role("instance-admin", Some(allow(json!("*"), json!("*")))));
    inventory.iam.roles.push(role("function-admin", trust(json!({ "Service": "lambda.amazonaws.com" })), Some(allow(json!("*"), json!("*")))));
    let scoped = |pass: &str, actions: Value, resources: Value| {
        json!({ "Version": "2012-10-17", "Statement": [
            { "Effect": "Allow", "Action": "iam:PassRole", "Resource": arn("role", pass) },
            { "Effect": "Allow", "Action": actions, "Resource": resources } ] })
    };
    // RunInstances on every EC2 resource of the region: credited.
    inventory.iam.users.push(user("ec2-scoped", Some(scoped("instance-admin", json!("ec2:RunInstances"), json!("arn:aws:ec2:eu-west-1:*:*")))));
    // RunInstances on instances only: AWS also checks the image, subnet... so no instance can start.
    inventory
        .iam
        .users
        .push(user("ec2-instances-only", Some(scoped("instance-admin", json!("ec2:RunInstances"), json!(format!("arn:aws:ec2:*:{ACCOUNT}:instance/*"))))));
    // Lambda actions on the account's functions: credited; in a region the inventory does not cover: not.
    inventory.iam.users.push(user(
        "lambda-scoped",
        Some(scoped("function-admin", json!(["lambda:CreateFunction", "lambda:InvokeFunction"]), json!(format!("arn:aws:lambda:*:{ACCOUNT}:function:*")))),
    ));
    inventory.iam.users.push(user(
        "lambda-other-region",
        Some(scoped(
            "function-admin",
            json!(["lambda:CreateFunction", "lambda:InvokeFunction"]),
            json!(format!("arn:aws:lambda:us-west-2:{ACCOUNT}:function:*")),
        )),
    ));
    // PassRole scoped to another role: no path.
    inventory.iam.users.push(user("wrong-role", Some(scoped("function-admin", json!("ec2:RunInstances"), json!("*")))));
    let account = Account::from_inventory(&inventory);
    let found: Vec<(String, String)> = escalation(&account)
        .into_iter()
        .map(|path| (path.principal, path.steps.iter().map(|step| format!("{} -> {}", step.method, step.to)).collect::<Vec<_>>().join("; ")))
        .collect();
    assert_eq!(
        found,
        [
            (arn("user", "ec2-scoped"), format!("iam:PassRole + ec2:RunInstances -> {}", arn("role", "instance-admin"))),
            (arn("user", "lambda-scoped"), format!("iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction -> {}", arn("role", "function-admin"))),
        ]
    );
}
