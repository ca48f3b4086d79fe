//! The escalation analysis on hand-built inventories: every technique of the catalog finds its
//! path when the principal holds exactly its permissions, and no path remains when any one
//! permission is missing (unless a technique needing fewer permissions still applies); names
//! chosen by pattern, request context keys, boundaries, SCPs, several accounts, resource
//! targets and several paths per principal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use vigil_iam::account::{Account, WorkloadKind};
use vigil_iam::escalation::{EscalationPath, Goal, Options, escalation};
use vigil_iam::techniques::{Kind, TECHNIQUES, Technique};
use vigil_model::iam::{AttachedPolicy, InlinePolicy, ManagedPolicy, PolicyVersion, Role, User};
use vigil_model::{AccountId, AccountInfo, Inventory, Region};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn inventory_of(account: &str) -> Inventory {
    let info = AccountInfo {
        account_id: AccountId::try_from(account.to_string()).unwrap(),
        partition: "aws".into(),
        caller_arn: None,
        caller_user_id: None,
        organization: None,
    };
    let mut inventory = Inventory::new(info, vec![Region::new(REGION)], chrono::Utc::now());
    inventory.regional.insert(Region::new(REGION), Default::default());
    inventory
}

fn policy(statements: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn allow(actions: Value, resources: Value) -> Value {
    json!({ "Effect": "Allow", "Action": actions, "Resource": resources })
}

fn arn_in(account: &str, kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}/{name}")
}

fn arn(kind: &str, name: &str) -> String {
    arn_in(ACCOUNT, kind, name)
}

fn user(inventory: &mut Inventory, name: &str, statements: Value) {
    let account = inventory.account_id().to_string();
    inventory.iam.users.push(User {
        user_name: name.into(),
        arn: arn_in(&account, "user", name),
        user_policy_list: vec![InlinePolicy { policy_name: "inline".into(), policy_document: policy(statements) }],
        ..User::default()
    });
}

fn role(inventory: &mut Inventory, name: &str, trust: Value, statements: Value) {
    let account = inventory.account_id().to_string();
    inventory.iam.roles.push(Role {
        role_name: name.into(),
        arn: arn_in(&account, "role", name),
        assume_role_policy_document: Some(
            json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": trust, "Action": "sts:AssumeRole" }] }),
        ),
        role_policy_list: vec![InlinePolicy { policy_name: "inline".into(), policy_document: policy(statements) }],
        ..Role::default()
    });
}

/// An admin role the service may assume (in an instance profile for EC2).
fn admin_role(inventory: &mut Inventory, name: &str, service: &str) {
    role(inventory, name, json!({ "Service": service }), json!([allow(json!("*"), json!("*"))]));
    if service == "ec2.amazonaws.com"
        && let Some(role) = inventory.iam.roles.last_mut()
    {
        role.instance_profile_list.push(vigil_model::iam::InstanceProfile {
            instance_profile_name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}"),
            ..Default::default()
        });
    }
}

/// An existing workload of `kind` running with `role_arn`.
fn workload(inventory: &mut Inventory, kind: WorkloadKind, role_arn: &str) {
    use vigil_model::workloads::*;
    let regional = inventory.regional.entry(Region::new(REGION)).or_default();
    let role = Some(role_arn.to_string());
    match kind {
        WorkloadKind::Ec2Instance | WorkloadKind::LaunchTemplate => {
            let profile = role_arn.replace(":role/", ":instance-profile/");
            if kind == WorkloadKind::Ec2Instance {
                regional.ec2.instances.push(vigil_model::ec2::Instance {
                    instance_id: "i-0123456789abcdef0".into(),
                    state: vigil_model::ec2::InstanceState { name: "running".into(), code: Some(16) },
                    iam_instance_profile: Some(vigil_model::ec2::IamInstanceProfile { arn: profile, id: None }),
                    ..Default::default()
                });
            } else {
                regional.ec2.launch_templates.push(vigil_model::ec2::LaunchTemplate {
                    launch_template_id: "lt-0123456789abcdef0".into(),
                    launch_template_name: Some("web".into()),
                    default_version_data: Some(vigil_model::ec2::LaunchTemplateData { iam_instance_profile_arn: Some(profile), ..Default::default() }),
                    ..Default::default()
                });
                regional.auto_scaling_groups.push(vigil_model::autoscaling::AutoScalingGroup {
                    auto_scaling_group_name: "web".into(),
                    launch_template: Some(vigil_model::autoscaling::LaunchTemplateSpecification {
                        launch_template_id: Some("lt-0123456789abcdef0".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
            if let Some(target) = inventory.iam.roles.iter_mut().find(|candidate| candidate.arn == role_arn) {
                target
                    .instance_profile_list
                    .push(vigil_model::iam::InstanceProfile { arn: role_arn.replace(":role/", ":instance-profile/"), ..Default::default() });
            }
        }
        WorkloadKind::LambdaFunction => regional.lambda_functions.push(vigil_model::lambda::Function {
            function_name: "worker".into(),
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker"),
            role,
            ..Default::default()
        }),
        WorkloadKind::EcsTask | WorkloadKind::EcsTaskDefinition | WorkloadKind::EcsService => {
            let cluster = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/main");
            let definition = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1");
            regional.ecs_clusters.push(EcsCluster {
                cluster_arn: cluster.clone(),
                cluster_name: "main".into(),
                registered_container_instances_count: 1,
                ..Default::default()
            });
            regional.ecs_task_definitions.push(EcsTaskDefinition {
                task_definition_arn: definition.clone(),
                family: "app".into(),
                revision: 1,
                task_role_arn: role,
                ..Default::default()
            });
            regional.ecs_tasks.push(EcsTask {
                task_arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/main/0123456789abcdef"),
                cluster_arn: cluster,
                task_definition_arn: Some(definition),
                last_status: Some("RUNNING".into()),
                enable_execute_command: true,
                ..Default::default()
            });
        }
        WorkloadKind::GlueJob => regional.glue_jobs.push(GlueJob { name: "etl".into(), role, ..Default::default() }),
        WorkloadKind::GlueDevEndpoint => regional.glue_dev_endpoints.push(GlueDevEndpoint {
            endpoint_name: "dev".into(),
            role_arn: role,
            status: Some("READY".into()),
            ..Default::default()
        }),
        WorkloadKind::SageMakerNotebook => regional.sagemaker_notebook_instances.push(NotebookInstance {
            notebook_instance_name: "lab".into(),
            notebook_instance_arn: format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/lab"),
            role_arn: role,
            notebook_instance_status: Some("InService".into()),
            ..Default::default()
        }),
        WorkloadKind::CodeBuildProject => regional.codebuild_projects.push(CodeBuildProject {
            name: "build".into(),
            arn: format!("arn:aws:codebuild:{REGION}:{ACCOUNT}:project/build"),
            service_role: role.clone(),
            batch_service_role: role,
            ..Default::default()
        }),
        WorkloadKind::CloudFormationStack => regional.cloudformation_stacks.push(CloudFormationStack {
            stack_name: "infra".into(),
            stack_id: format!("arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/infra/0a1b2c3d"),
            role_arn: role,
            stack_status: Some("CREATE_COMPLETE".into()),
            ..Default::default()
        }),
        WorkloadKind::StackSet => regional.cloudformation_stack_sets.push(StackSet {
            stack_set_name: "baseline".into(),
            stack_set_id: "baseline:0a1b2c3d".into(),
            stack_set_arn: Some(format!("arn:aws:cloudformation:{REGION}:{ACCOUNT}:stackset/baseline:0a1b2c3d")),
            administration_role_arn: role,
            status: Some("ACTIVE".into()),
            ..Default::default()
        }),
        WorkloadKind::AppRunnerService => regional.apprunner_services.push(AppRunnerService {
            service_name: "web".into(),
            service_arn: format!("arn:aws:apprunner:{REGION}:{ACCOUNT}:service/web/0a1b2c3d"),
            instance_role_arn: role,
            status: Some("RUNNING".into()),
            ..Default::default()
        }),
        WorkloadKind::AgentCoreCodeInterpreter | WorkloadKind::AgentCoreRuntime | WorkloadKind::AgentCoreBrowser => {
            let (kind, resource) = match kind {
                WorkloadKind::AgentCoreRuntime => ("runtime", "runtime/agent-0a1b2c3d"),
                WorkloadKind::AgentCoreBrowser => ("browser", "browser-custom/browser-0a1b2c3d"),
                _ => ("code-interpreter", "code-interpreter-custom/interpreter-0a1b2c3d"),
            };
            regional.agentcore_resources.push(AgentCoreResource {
                kind: kind.into(),
                id: resource.rsplit('/').next().unwrap_or_default().into(),
                arn: format!("arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:{resource}"),
                role_arn: role,
                status: Some("READY".into()),
                ..Default::default()
            });
        }
    }
}

fn paths(inventory: &Inventory) -> Vec<EscalationPath> {
    escalation(&Account::from_inventory(inventory), &Options::default())
}

fn paths_of<'a>(paths: &'a [EscalationPath], name: &str) -> Vec<&'a EscalationPath> {
    paths.iter().filter(|path| path.principal.ends_with(&format!("/{name}"))).collect()
}

/// The permissions every step of a path uses.
fn used(path: &EscalationPath) -> BTreeSet<String> {
    path.steps.iter().flat_map(|step| step.permissions.iter().map(|permission| permission.action.to_lowercase())).collect()
}

fn lower(actions: &[&str]) -> BTreeSet<String> {
    actions.iter().map(|action| action.to_lowercase()).collect()
}

/// Builds the world a technique needs, with `attacker` holding `actions` on every resource.
fn world_for(technique: &Technique, actions: &[&str]) -> Inventory {
    let mut inventory = inventory_of(ACCOUNT);
    user(&mut inventory, "attacker", json!([allow(json!(actions), json!("*"))]));
    match technique.kind {
        Kind::PassRole { trusts, existing, .. } => {
            admin_role(&mut inventory, "target", trusts[0]);
            if let Some(kind) = existing {
                role(&mut inventory, "current", json!({ "Service": trusts[0] }), json!([]));
                workload(&mut inventory, kind, &arn("role", "current"));
            }
            // A cluster for the ECS techniques that need one.
            workload(&mut inventory, WorkloadKind::EcsTask, &arn("role", "unrelated"));
        }
        Kind::Takeover { workload: kind, .. } => {
            role(&mut inventory, "target", json!({ "Service": "ec2.amazonaws.com" }), json!([allow(json!("*"), json!("*"))]));
            workload(&mut inventory, kind, &arn("role", "target"));
        }
        Kind::Iam { .. } => {}
    }
    inventory
}

#[test]
fn every_service_technique_finds_its_path_and_no_twin_missing_a_permission_does() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for technique in TECHNIQUES.iter().filter(|technique| !matches!(technique.kind, Kind::Iam { .. })) {
        let permissions = technique.permissions();
        let found = paths(&world_for(technique, &permissions));
        let attacker = paths_of(&found, "attacker");
        let full = lower(&permissions);
        match attacker.first() {
            None => failures.push(format!("{}: no path with {permissions:?}", technique.id)),
            Some(path) if !used(path).is_subset(&full) || path.admin != arn("role", "target") => {
                failures.push(format!("{}: unexpected path {:?} to {}", technique.id, used(path), path.admin))
            }
            Some(_) => {}
        }
        for missing in &permissions {
            let twin: Vec<&str> = permissions.iter().copied().filter(|action| action != missing).collect();
            let found = paths(&world_for(technique, &twin));
            let allowed = lower(&twin);
            for path in paths_of(&found, "attacker") {
                if !used(path).is_subset(&allowed) {
                    failures.push(format!("{} without {missing}: path through permissions it lacks: {:?}", technique.id, used(path)));
                }
                // A path may remain only through a technique that needs fewer permissions.
                let technique_ids: Vec<&str> = path.steps.iter().map(|step| step.technique.as_str()).collect();
                if technique_ids.contains(&technique.id) {
                    failures.push(format!("{} without {missing}: still found", technique.id));
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} techniques checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pass_role_needs_the_role_in_an_instance_profile_for_ec2() {
    let mut inventory = inventory_of(ACCOUNT);
    role(&mut inventory, "bare", json!({ "Service": "ec2.amazonaws.com" }), json!([allow(json!("*"), json!("*"))]));
    user(&mut inventory, "launcher", json!([allow(json!(["iam:PassRole", "ec2:RunInstances"]), json!("*"))]));
    user(
        &mut inventory,
        "profiler",
        json!([allow(json!(["iam:PassRole", "ec2:RunInstances", "iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"]), json!("*"))]),
    );
    let found = paths(&inventory);
    assert!(paths_of(&found, "launcher").is_empty(), "{found:#?}");
    assert_eq!(paths_of(&found, "profiler").len(), 1);
}

#[test]
fn names_of_new_resources_come_from_the_principals_patterns() {
    let mut inventory = inventory_of(ACCOUNT);
    admin_role(&mut inventory, "function-admin", "lambda.amazonaws.com");
    let lambda = |resource: &str| {
        json!([
            allow(json!("iam:PassRole"), json!(arn("role", "function-admin"))),
            allow(json!(["lambda:CreateFunction", "lambda:InvokeFunction"]), json!(resource))
        ])
    };
    user(&mut inventory, "prefixed", lambda(&format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-*")));
    user(&mut inventory, "other-region", lambda(&format!("arn:aws:lambda:eu-west-3:{ACCOUNT}:function:app-*")));
    user(&mut inventory, "other-account", lambda("arn:aws:lambda:*:999999999999:function:*"));
    // Allowed on app-*, denied on app-secret*: a name like app-vigil-escalation still works.
    let mut denied = lambda(&format!("arn:aws:lambda:*:{ACCOUNT}:function:app-*"));
    denied
        .as_array_mut()
        .unwrap()
        .push(json!({ "Effect": "Deny", "Action": "lambda:*", "Resource": format!("arn:aws:lambda:*:{ACCOUNT}:function:app-secret*") }));
    user(&mut inventory, "partly-denied", denied);
    let mut blocked = lambda(&format!("arn:aws:lambda:*:{ACCOUNT}:function:app-*"));
    blocked.as_array_mut().unwrap().push(json!({ "Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*" }));
    user(&mut inventory, "blocked", blocked);
    let found = paths(&inventory);
    let first = paths_of(&found, "prefixed");
    assert_eq!(first.len(), 1, "{found:#?}");
    let create = first[0].steps[0].permissions.iter().find(|permission| permission.action == "lambda:CreateFunction").unwrap();
    assert_eq!(create.resource, format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-vigil-escalation"));
    assert_eq!(paths_of(&found, "partly-denied").len(), 1);
    for twin in ["other-region", "other-account", "blocked"] {
        assert!(paths_of(&found, twin).is_empty(), "{twin}: {found:#?}");
    }
}

#[test]
fn request_context_keys_are_those_aws_sets() {
    let mut inventory = inventory_of(ACCOUNT);
    admin_role(&mut inventory, "instance-admin", "ec2.amazonaws.com");
    admin_role(&mut inventory, "function-admin", "lambda.amazonaws.com");
    let passed_to = |service: &str| json!({ "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": { "StringEquals": { "iam:PassedToService": service } } });
    user(
        &mut inventory,
        "ec2-only",
        json!([passed_to("ec2.amazonaws.com"), allow(json!(["ec2:RunInstances", "lambda:CreateFunction", "lambda:InvokeFunction"]), json!("*"))]),
    );
    let profile = format!("arn:aws:iam::{ACCOUNT}:instance-profile/instance-admin");
    user(
        &mut inventory,
        "profile-bound",
        json!([allow(json!("iam:PassRole"), json!("*")), { "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*", "Condition": { "ArnEquals": { "ec2:InstanceProfile": profile } } }]),
    );
    user(
        &mut inventory,
        "other-profile",
        json!([allow(json!("iam:PassRole"), json!("*")), { "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*", "Condition": { "ArnEquals": { "ec2:InstanceProfile": "arn:aws:iam::123456789012:instance-profile/other" } } }]),
    );
    let found = paths(&inventory);
    let ec2_only: Vec<String> = paths_of(&found, "ec2-only").iter().map(|path| path.admin.clone()).collect();
    assert_eq!(ec2_only, [arn("role", "instance-admin")], "PassRole narrowed to EC2 must not pass to Lambda");
    assert_eq!(paths_of(&found, "profile-bound").len(), 1);
    assert!(paths_of(&found, "other-profile").is_empty());
}

#[test]
fn a_boundary_caps_a_self_grant_until_it_is_lifted() {
    let mut inventory = inventory_of(ACCOUNT);
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/boundary");
    inventory.iam.policies.push(ManagedPolicy {
        policy_name: "boundary".into(),
        arn: boundary.clone(),
        policy_version_list: vec![PolicyVersion {
            version_id: "v1".into(),
            is_default_version: true,
            document: policy(json!([allow(json!("iam:*"), json!("*"))])),
            ..Default::default()
        }],
        ..Default::default()
    });
    for (name, actions) in [("capped", json!(["iam:PutRolePolicy"])), ("lifter", json!(["iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary"]))] {
        role(&mut inventory, name, json!({ "Service": "ec2.amazonaws.com" }), json!([allow(actions, json!(arn("role", name)))]));
        if let Some(created) = inventory.iam.roles.last_mut() {
            created.permissions_boundary = Some(AttachedPolicy { policy_name: Some("boundary".into()), policy_arn: boundary.clone() });
        }
    }
    let found = paths(&inventory);
    assert!(paths_of(&found, "capped").is_empty(), "{found:#?}");
    let lifted = paths_of(&found, "lifter");
    assert_eq!(lifted.len(), 1);
    let methods: Vec<&str> = lifted[0].steps.iter().map(|step| step.technique.as_str()).collect();
    assert_eq!(methods, ["iam-023", "iam-005"]);
}

#[test]
fn removing_a_deny_policy_unlocks_what_it_blocked() {
    let mut inventory = inventory_of(ACCOUNT);
    inventory.iam.users.push(User {
        user_name: "fenced".into(),
        arn: arn("user", "fenced"),
        user_policy_list: vec![
            InlinePolicy { policy_name: "all".into(), policy_document: policy(json!([allow(json!("*"), json!("*"))])) },
            InlinePolicy {
                policy_name: "fence".into(),
                policy_document: policy(json!([{ "Effect": "Deny", "NotAction": "iam:DeleteUserPolicy", "Resource": "*" }])),
            },
        ],
        ..User::default()
    });
    let found = paths(&inventory);
    let fenced = paths_of(&found, "fenced");
    assert_eq!(fenced.len(), 1, "{found:#?}");
    assert_eq!(fenced[0].steps[0].technique, "iam-026");
}

#[test]
fn modifying_another_principal_then_acting_as_it() {
    let mut inventory = inventory_of(ACCOUNT);
    role(&mut inventory, "plain", json!({ "AWS": ACCOUNT }), json!([]));
    user(&mut inventory, "worker", json!([]));
    let cases = [
        ("iam-014", json!(["iam:AttachRolePolicy", "sts:AssumeRole"]), "role"),
        ("iam-017", json!(["iam:PutRolePolicy", "sts:AssumeRole"]), "role"),
        ("iam-019", json!(["iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"]), "role"),
        ("iam-021", json!(["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"]), "role"),
        ("iam-015", json!(["iam:AttachUserPolicy", "iam:CreateAccessKey"]), "user"),
        ("iam-018", json!(["iam:PutUserPolicy", "iam:CreateAccessKey"]), "user"),
    ];
    for (id, actions, kind) in &cases {
        // Only on the other principal: with its own user as a target too, an attacker user
        // would escalate by itself (iam-008/iam-007) before modifying anyone.
        let target = if *kind == "role" { arn("role", "plain") } else { arn("user", "worker") };
        user(&mut inventory, &format!("attacker-{id}"), json!([allow(actions.clone(), json!(target))]));
        for missing in actions.as_array().unwrap() {
            let twin: Vec<&Value> = actions.as_array().unwrap().iter().filter(|action| *action != missing).collect();
            user(&mut inventory, &format!("twin-{id}-{}", missing.as_str().unwrap().replace(':', "-")), json!([allow(json!(twin), json!(target))]));
        }
    }
    let found = paths(&inventory);
    for (id, _, kind) in &cases {
        let attacker = paths_of(&found, &format!("attacker-{id}"));
        assert!(!attacker.is_empty(), "{id}: {found:#?}");
        assert!(attacker[0].admin.contains(&format!(":{kind}/")), "{id}: {:#?}", attacker[0]);
        assert_eq!(attacker[0].steps[0].category, "modify-then-act", "{id}");
    }
    let twins: Vec<&EscalationPath> = found.iter().filter(|path| path.principal.contains("/twin-")).collect();
    assert!(twins.is_empty(), "{twins:#?}");
}

#[test]
fn user_takeovers_follow_the_users_keys_and_console_password() {
    let mut inventory = inventory_of(ACCOUNT);
    for (name, keys, console) in [("two-keys", 2, false), ("one-key", 1, false), ("with-console", 0, true)] {
        inventory.iam.users.push(User {
            user_name: name.into(),
            arn: arn("user", name),
            user_policy_list: vec![InlinePolicy { policy_name: "all".into(), policy_document: policy(json!([allow(json!("*"), json!("*"))])) }],
            access_keys: (0..keys).map(|index| vigil_model::iam::AccessKey { access_key_id: format!("AKIA{index}"), ..Default::default() }).collect(),
            login_profile: console.then(Default::default),
            ..User::default()
        });
    }
    user(&mut inventory, "key-maker", json!([allow(json!("iam:CreateAccessKey"), json!([arn("user", "two-keys"), arn("user", "one-key")]))]));
    user(&mut inventory, "key-rotator", json!([allow(json!(["iam:CreateAccessKey", "iam:DeleteAccessKey"]), json!(arn("user", "two-keys")))]));
    user(&mut inventory, "console-maker", json!([allow(json!("iam:CreateLoginProfile"), json!(arn("user", "with-console")))]));
    user(&mut inventory, "console-changer", json!([allow(json!("iam:UpdateLoginProfile"), json!(arn("user", "with-console")))]));
    let found = paths(&inventory);
    let summary =
        |name: &str| -> Vec<(String, String)> { paths_of(&found, name).iter().map(|path| (path.steps[0].technique.clone(), path.admin.clone())).collect() };
    assert_eq!(summary("key-maker"), [("iam-002".to_string(), arn("user", "one-key"))]);
    assert_eq!(summary("key-rotator"), [("iam-003".to_string(), arn("user", "two-keys"))]);
    assert!(summary("console-maker").is_empty(), "a user with a console password cannot get a second one");
    assert_eq!(summary("console-changer"), [("iam-006".to_string(), arn("user", "with-console"))]);
}

#[test]
fn scps_and_boundaries_decide_who_is_admin() {
    let mut inventory = inventory_of(ACCOUNT);
    inventory.account.organization = Some(vigil_model::Organization {
        id: "o-example".into(),
        master_account_id: Some("999999999999".into()),
        feature_set: Some("ALL".into()),
        ..Default::default()
    });
    let full = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] });
    let no_iam = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": { "StringNotLike": { "aws:PrincipalArn": "arn:aws:iam::*:role/break-glass" } } }] });
    inventory.organization_policies = Some(vigil_model::OrganizationPolicies {
        read_from_account: "999999999999".into(),
        roots: vec![vigil_model::inventory::OrganizationRoot {
            id: "r-root".into(),
            enabled_policy_types: vec!["SERVICE_CONTROL_POLICY".into()],
            ..Default::default()
        }],
        organizational_units: Vec::new(),
        policies: vec![
            vigil_model::inventory::OrganizationPolicy {
                id: "p-FullAWSAccess".into(),
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                document: full,
                targets: vec!["r-root".into(), ACCOUNT.into()],
                ..Default::default()
            },
            vigil_model::inventory::OrganizationPolicy {
                id: "p-noiam".into(),
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                document: no_iam,
                targets: vec![ACCOUNT.into()],
                ..Default::default()
            },
        ],
        parents: [(ACCOUNT.to_string(), vec!["r-root".to_string()])].into_iter().collect(),
    });
    role(&mut inventory, "admin", json!({ "AWS": ACCOUNT }), json!([allow(json!("*"), json!("*"))]));
    role(&mut inventory, "break-glass", json!({ "AWS": ACCOUNT }), json!([allow(json!("*"), json!("*"))]));
    let account = Account::from_inventory(&inventory);
    let admins: Vec<String> = vigil_iam::analysis::admins(&account).into_iter().map(|admin| admin.principal).collect();
    assert_eq!(admins, [arn("role", "break-glass")], "the SCP denies IAM to every other principal");
    assert!(account.accounts[0].organization_policies.is_applied());
}

#[test]
fn paths_cross_accounts_when_several_are_analysed_together() {
    let mut dev = inventory_of("111111111111");
    let mut prod = inventory_of("222222222222");
    user(&mut dev, "developer", json!([allow(json!("sts:AssumeRole"), json!("arn:aws:iam::222222222222:role/*"))]));
    user(&mut dev, "bystander", json!([allow(json!("s3:ListAllMyBuckets"), json!("*"))]));
    role(&mut prod, "deployer", json!({ "AWS": "arn:aws:iam::111111111111:user/developer" }), json!([allow(json!("*"), json!("*"))]));
    let account = Account::from_inventories(&[&dev, &prod]);
    let found = escalation(&account, &Options::default());
    let developer = paths_of(&found, "developer");
    assert_eq!(developer.len(), 1, "{found:#?}");
    assert_eq!(developer[0].admin, "arn:aws:iam::222222222222:role/deployer");
    assert_eq!(developer[0].account, "111111111111");
    assert!(paths_of(&found, "bystander").is_empty());
}

#[test]
fn paths_lead_to_a_named_resource() {
    let mut inventory = inventory_of(ACCOUNT);
    role(&mut inventory, "reporting", json!({ "AWS": ACCOUNT }), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::payroll/*"))]));
    role(&mut inventory, "builder", json!({ "AWS": ACCOUNT }), json!([allow(json!("s3:PutObject"), json!("*"))]));
    user(&mut inventory, "analyst", json!([allow(json!("sts:AssumeRole"), json!(arn("role", "reporting")))]));
    user(&mut inventory, "intern", json!([allow(json!("sts:AssumeRole"), json!(arn("role", "builder")))]));
    let account = Account::from_inventory(&inventory);
    let goal = Goal::Resource { arn: "arn:aws:s3:::payroll".into(), accesses: vigil_iam::access::access_requests("arn:aws:s3:::payroll").unwrap() };
    let found = escalation(&account, &Options { goal, ..Options::default() });
    let analyst = paths_of(&found, "analyst");
    assert_eq!(analyst.len(), 1, "{found:#?}");
    assert_eq!((analyst[0].admin.as_str(), analyst[0].target.as_str()), (arn("role", "reporting").as_str(), "arn:aws:s3:::payroll"));
    assert!(paths_of(&found, "intern").is_empty());
    assert!(paths_of(&found, "reporting").is_empty(), "a principal that already reads the bucket needs no path");
}

#[test]
fn every_distinct_path_is_reported_shortest_first() {
    let mut inventory = inventory_of(ACCOUNT);
    admin_role(&mut inventory, "function-admin", "lambda.amazonaws.com");
    role(
        &mut inventory,
        "hop",
        json!({ "AWS": ACCOUNT }),
        json!([allow(json!(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]), json!("*"))]),
    );
    user(
        &mut inventory,
        "many-ways",
        json!([allow(json!(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction", "lambda:AddPermission", "sts:AssumeRole"]), json!("*"))]),
    );
    let found = paths(&inventory);
    let ways: Vec<Vec<String>> = paths_of(&found, "many-ways").iter().map(|path| path.steps.iter().map(|step| step.technique.clone()).collect()).collect();
    assert!(ways.len() >= 3, "{ways:?}");
    assert!(ways.windows(2).all(|pair| pair[0].len() <= pair[1].len()), "{ways:?}");
    assert!(ways.contains(&vec!["lambda-001".to_string()]) && ways.contains(&vec!["lambda-006".to_string()]), "{ways:?}");
    assert!(ways.contains(&vec!["sts-001".to_string(), "lambda-001".to_string()]), "{ways:?}");
}
