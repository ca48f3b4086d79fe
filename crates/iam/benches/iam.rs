//! Benchmark: one decision, and admins + escalation paths + external access over a synthetic
//! organization account (10,000 roles, 2,000 managed policies, 2,000 Lambda functions and
//! 1,000 instances running with roles; a mix of trust policies and of the permissions the
//! escalation techniques use); the action catalog when the shared copy is present. Run with
//! `cargo bench -p vigil-iam --bench iam`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use serde_json::{Value, json};
use vigil_iam::account::Account;
use vigil_iam::analysis;
use vigil_iam::evaluate::decide;
use vigil_iam::simulate::parse_case;
use vigil_model::iam::{AttachedPolicy, ManagedPolicy, PolicyVersion, Role, User};
use vigil_model::{AccountId, AccountInfo, Inventory};

const ACCOUNT: &str = "123456789012";
const ROLES: usize = 10_000;
const POLICIES: usize = 2_000;
const USERS: usize = 500;
const BUCKETS: usize = 2_000;
const FUNCTIONS: usize = 2_000;
const INSTANCES: usize = 1_000;
/// Policies 0..SPECIAL are the ones escalation techniques use (attached to about 1% of roles
/// and 2% of users).
const SPECIAL: usize = 10;

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

const SERVICES: &[&str] = &["s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "logs", "cloudwatch", "kms", "secretsmanager", "ssm", "ecr"];
const VERBS: &[&str] = &["Get*", "List*", "Describe*", "Put*", "Create*", "Delete*", "Update*", "*"];

fn managed_policy(index: usize, random: &mut Lcg) -> Value {
    let statements: Vec<Value> = (0..3 + random.next(3))
        .map(|_| {
            let service = SERVICES[random.next(SERVICES.len())];
            let actions: Vec<String> = (0..1 + random.next(4)).map(|_| format!("{service}:{}", VERBS[random.next(VERBS.len())])).collect();
            let resource = match random.next(3) {
                0 => json!("*"),
                1 => json!(format!("arn:aws:{service}:*:{ACCOUNT}:app-{}/*", random.next(100))),
                _ => json!([format!("arn:aws:{service}:us-east-1:{ACCOUNT}:*"), format!("arn:aws:{service}:eu-west-1:{ACCOUNT}:*")]),
            };
            let mut statement = json!({ "Effect": if random.next(10) == 0 { "Deny" } else { "Allow" }, "Action": actions, "Resource": resource });
            if random.next(4) == 0 {
                statement["Condition"] = json!({ "StringEquals": { "aws:RequestedRegion": ["us-east-1", "eu-west-1"] } });
            }
            statement
        })
        .collect();
    let _ = index;
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn organization() -> Inventory {
    let account = AccountInfo {
        account_id: AccountId::try_from(ACCOUNT.to_string()).unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    // Seventeen regions, as a real account has: escalation tries resource-scoped service actions in each.
    let regions = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "sa-east-1",
    ];
    let mut inventory = Inventory::new(account, regions.into_iter().map(vigil_model::Region::new).collect(), chrono::Utc::now());
    let mut random = Lcg(42);
    let policy_arn = |index: usize| format!("arn:aws:iam::{ACCOUNT}:policy/policy-{index}");
    for index in 0..POLICIES {
        let document = match index {
            0 => json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] }),
            1 => json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*" }] }),
            2 => json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*" }] }),
            3 => json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*" }] }),
            4 => json!({ "Version": "2012-10-17", "Statement": [
                { "Effect": "Allow", "Action": "iam:PassRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/role-1*"),
                  "Condition": { "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" } } },
                { "Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": format!("arn:aws:lambda:*:{ACCOUNT}:function:app-*") }] }),
            5 => {
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn-2*") }] })
            }
            6 => {
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["iam:PutRolePolicy", "sts:AssumeRole"], "Resource": format!("arn:aws:iam::{ACCOUNT}:role/role-3*") }] })
            }
            7 => json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*",
                "Condition": { "StringEquals": { "ssm:resourceTag/team": "ops" } } }] }),
            8 => {
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["iam:PassRole", "glue:CreateJob", "glue:StartJobRun", "ecs:RegisterTaskDefinition", "ecs:RunTask"], "Resource": "*" }] })
            }
            9 => {
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy"], "Resource": format!("arn:aws:iam::{ACCOUNT}:*/role-4*") }] })
            }
            _ => managed_policy(index, &mut random),
        };
        inventory.iam.policies.push(ManagedPolicy {
            policy_name: format!("policy-{index}"),
            arn: policy_arn(index),
            policy_version_list: vec![PolicyVersion { version_id: "v1".into(), is_default_version: true, document, ..PolicyVersion::default() }],
            ..ManagedPolicy::default()
        });
    }
    for index in 0..ROLES {
        let ec2 = random.next(20);
        let trust_principal = match ec2 {
            0..=5 => json!({ "Service": "ec2.amazonaws.com" }),
            6..=8 => {
                let service = ["lambda.amazonaws.com", "glue.amazonaws.com", "ecs-tasks.amazonaws.com"][random.next(3)];
                json!({ "Service": service })
            }
            9..=17 => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }),
            18 => json!({ "AWS": format!("arn:aws:iam::{:012}:root", 200_000_000_000u64 + random.next(50) as u64) }),
            _ => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:role/role-{}", random.next(ROLES)) }),
        };
        // About 1% of roles get one of the special policies (admin, pass role, assume role, policy edit).
        let mut attached: Vec<usize> = (0..2 + random.next(3)).map(|_| SPECIAL + random.next(POLICIES - SPECIAL)).collect();
        if random.next(100) == 0 {
            attached.push(random.next(SPECIAL));
        }
        let instance_profile_list = if ec2 <= 5 {
            vec![vigil_model::iam::InstanceProfile {
                instance_profile_name: format!("role-{index}"),
                arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/role-{index}"),
                ..Default::default()
            }]
        } else {
            Vec::new()
        };
        inventory.iam.roles.push(Role {
            role_name: format!("role-{index}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/role-{index}"),
            instance_profile_list,
            assume_role_policy_document: Some(
                json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": trust_principal, "Action": "sts:AssumeRole" }] }),
            ),
            attached_managed_policies: attached.into_iter().map(|policy| AttachedPolicy { policy_name: None, policy_arn: policy_arn(policy) }).collect(),
            ..Role::default()
        });
    }
    for index in 0..USERS {
        let mut attached: Vec<usize> = (0..1 + random.next(3)).map(|_| SPECIAL + random.next(POLICIES - SPECIAL)).collect();
        if random.next(50) == 0 {
            attached.push(random.next(SPECIAL));
        }
        inventory.iam.users.push(User {
            user_name: format!("user-{index}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/user-{index}"),
            attached_managed_policies: attached.into_iter().map(|policy| AttachedPolicy { policy_name: None, policy_arn: policy_arn(policy) }).collect(),
            ..User::default()
        });
    }
    let regional = inventory.regional.entry(vigil_model::Region::new("us-east-1")).or_default();
    for index in 0..FUNCTIONS {
        regional.lambda_functions.push(vigil_model::lambda::Function {
            function_name: format!("fn-{index}"),
            function_arn: format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn-{index}"),
            role: Some(format!("arn:aws:iam::{ACCOUNT}:role/role-{}", random.next(ROLES))),
            ..Default::default()
        });
    }
    for index in 0..INSTANCES {
        let mut tags = vigil_model::Tags::new();
        if random.next(4) == 0 {
            tags.insert("team".into(), "ops".into());
        }
        regional.ec2.instances.push(vigil_model::ec2::Instance {
            instance_id: format!("i-{index:017x}"),
            state: vigil_model::ec2::InstanceState { name: "running".into(), code: Some(16) },
            iam_instance_profile: Some(vigil_model::ec2::IamInstanceProfile {
                arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/role-{}", random.next(ROLES)),
                id: None,
            }),
            tags,
            ..Default::default()
        });
    }
    for index in 0..BUCKETS {
        let principal = match random.next(10) {
            0 => json!("*"),
            1 => json!({ "AWS": "arn:aws:iam::210987654321:root" }),
            _ => json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:role/role-{}", random.next(ROLES)) }),
        };
        let mut statement = json!({ "Effect": "Allow", "Principal": principal, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [format!("arn:aws:s3:::bucket-{index}"), format!("arn:aws:s3:::bucket-{index}/*")] });
        if random.next(3) == 0 {
            statement["Condition"] = json!({ "IpAddress": { "aws:SourceIp": "203.0.113.0/24" } });
        }
        inventory.s3.buckets.push(vigil_model::s3::Bucket {
            name: format!("bucket-{index}"),
            policy: Some(json!({ "Version": "2012-10-17", "Statement": [statement] })),
            ..Default::default()
        });
    }
    inventory
}

fn single_decision() {
    let case = json!({
        "request": { "principal": "arn:aws:iam::111111111111:role/app", "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/home/app/report.csv",
                     "resource_account": "222222222222", "context": { "aws:SourceIp": "203.0.113.5", "aws:PrincipalTag/team": "red", "aws:TagKeys": ["a", "b"] } },
        "identity_policies": [
            { "Version": "2012-10-17", "Statement": [
                { "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::bucket/home/${aws:PrincipalTag/team}/*" },
                { "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*", "Condition": { "IpAddress": { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"] } } },
                { "Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": { "Bool": { "aws:SecureTransport": "false" } } } ] },
            { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "NotAction": "iam:*", "Resource": "*", "Condition": { "ForAllValues:StringEquals": { "aws:TagKeys": ["a", "b", "c"] } } }] }
        ],
        "resource_policy": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111111111111:root" }, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
            "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-abc" } } }, { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111111111111:role/app" }, "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*" }] },
        "permissions_boundary": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }] },
        "scps": [[{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] }]]
    });
    let case = parse_case(0, &case).unwrap();
    let set = case.policy_set();
    let iterations = 200_000;
    let started = Instant::now();
    let mut allowed = 0usize;
    for _ in 0..iterations {
        allowed += usize::from(decide(&case.request, &set) == vigil_iam::Decision::Allowed);
    }
    let elapsed = started.elapsed();
    println!(
        "single decision (4 policies, 7 statements, conditions, variables): {:.2} µs/decision ({allowed} allowed)",
        elapsed.as_secs_f64() * 1e6 / iterations as f64
    );
    let started = Instant::now();
    for _ in 0..iterations / 10 {
        std::hint::black_box(case.evaluate());
    }
    println!("single decision with its explanation: {:.2} µs/decision", started.elapsed().as_secs_f64() * 1e6 / (iterations / 10) as f64);
}

fn main() {
    single_decision();
    let started = Instant::now();
    let inventory = organization();
    println!("generated {} roles, {} users, {} managed policies, {} bucket policies in {:.2?}", ROLES, USERS, POLICIES, BUCKETS, started.elapsed());
    let total = Instant::now();
    let started = Instant::now();
    let account = Account::from_inventory(&inventory);
    println!("parse every policy: {:.2?} ({} policies, {} problems)", started.elapsed(), account.policies.len(), account.problems.len());
    let started = Instant::now();
    let admins = analysis::admins(&account);
    println!("admins: {:.2?} ({} admin-equivalent)", started.elapsed(), admins.len());
    let started = Instant::now();
    let paths = analysis::escalation(&account);
    let principals: std::collections::BTreeSet<&str> = paths.iter().map(|path| path.principal.as_str()).collect();
    println!("admins + escalation paths: {:.2?} ({} paths from {} principals)", started.elapsed(), paths.len(), principals.len());
    let started = Instant::now();
    let external = analysis::external_access(&account);
    println!("external access: {:.2?} ({} statements)", started.elapsed(), external.len());
    println!("total (parse + admins + escalation + external): {:.2?}", total.elapsed());
    catalog(&account);
}

/// The action catalog (AWS's service authorization reference), when the shared copy is present.
fn catalog(account: &Account) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iam/iam-definition.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("catalog: skipped, `{}` is absent", path.display());
        return;
    };
    let started = Instant::now();
    let catalog = vigil_iam::catalog::Catalog::parse_str(&text).unwrap();
    println!(
        "catalog: parse {} MB, {} services, {} actions: {:.2?}",
        text.len() / 1_000_000,
        catalog.services.len(),
        catalog.action_count(),
        started.elapsed()
    );
    // The first call after parsing pays for the allocator taking back the parse's memory.
    let started = Instant::now();
    let count = catalog.expand("s3:Get*").len();
    println!("catalog: first expansion after parsing (`s3:Get*`, {count} actions): {:.2?}", started.elapsed());
    for pattern in ["s3:Get*", "*:Get*", "*"] {
        let started = Instant::now();
        let count = catalog.expand(pattern).len();
        println!("catalog: expand `{pattern}`: {count} actions in {:.2?}", started.elapsed());
    }
    let started = Instant::now();
    let external = analysis::external_access_with_catalog(account, Some(&catalog));
    println!("external access with access levels: {:.2?} ({} statements)", started.elapsed(), external.len());
}
