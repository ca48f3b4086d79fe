//! The escalation corpus: published privilege-escalation scenarios (pathfinding.cloud's ids)
//! reproduced in one moto account, each beside a negative twin that lacks one permission.
//! `vigil collect` reads the account, `vigil iam escalation --format json` must report a path
//! for every scenario's starting principal and none for any twin. Recall and false positives
//! are printed (`cargo test -p vigil --test e2e escalation:: -- --nocapture`).
//!
//! Scenarios whose resources moto cannot hold (ECS Exec on a running task, App Runner
//! services, AgentCore code interpreters and browsers, ECS container instances, Systems
//! Manager's managed-instance list) are covered by the engine's own tests
//! (`crates/iam/tests/escalation.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use vigil_testkit::MotoServer;

use crate::common::vigil;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// The admin role each service may assume (`admin-<name>`), by service principal.
const SERVICES: &[(&str, &str)] = &[
    ("ec2", "ec2.amazonaws.com"),
    ("lambda", "lambda.amazonaws.com"),
    ("ecs", "ecs-tasks.amazonaws.com"),
    ("glue", "glue.amazonaws.com"),
    ("sagemaker", "sagemaker.amazonaws.com"),
    ("codebuild", "codebuild.amazonaws.com"),
    ("cloudformation", "cloudformation.amazonaws.com"),
    ("apprunner", "tasks.apprunner.amazonaws.com"),
    ("agentcore", "bedrock-agentcore.amazonaws.com"),
    ("datapipeline", "datapipeline.amazonaws.com"),
    ("ssm", "ssm.amazonaws.com"),
    ("states", "states.amazonaws.com"),
    ("scheduler", "scheduler.amazonaws.com"),
    ("braket", "braket.amazonaws.com"),
    ("emr-serverless", "emr-serverless.amazonaws.com"),
    ("kinesisanalytics", "kinesisanalytics.amazonaws.com"),
    ("amplify", "amplify.amazonaws.com"),
];

/// A scenario: pathfinding.cloud's id, the starting principal's permissions as (action,
/// resource) pairs, and the one permission its twin lacks.
struct Scenario {
    id: &'static str,
    permissions: Vec<(&'static str, String)>,
    twin_lacks: &'static str,
    /// The starting principal is a role (self-escalation of roles) rather than a user.
    role: bool,
}

fn scenario(id: &'static str, permissions: &[(&'static str, &str)], twin_lacks: &'static str) -> Scenario {
    Scenario { id, permissions: permissions.iter().map(|(action, resource)| (*action, resource.to_string())).collect(), twin_lacks, role: false }
}

/// iam:PassRole on the service's admin role, and the service actions on every resource.
fn pass_role(id: &'static str, service: &str, actions: &[&'static str], twin_lacks: &'static str) -> Scenario {
    let role = role_arn(&format!("admin-{service}"));
    let mut permissions = vec![("iam:PassRole", role)];
    permissions.extend(actions.iter().map(|action| (*action, "*".to_string())));
    Scenario { id, permissions, twin_lacks, role: false }
}

fn scenarios() -> Vec<Scenario> {
    let target = |id: &str| role_arn(&format!("target-{id}"));
    let target_user = |id: &str| user_arn(&format!("target-{id}"));
    let mut list = vec![
        // Self-escalation.
        scenario("iam-001", &[("iam:CreatePolicyVersion", "*")], "iam:CreatePolicyVersion"),
        Scenario { id: "iam-005", permissions: vec![("iam:PutRolePolicy", "*".into())], twin_lacks: "iam:PutRolePolicy", role: true },
        scenario("iam-007", &[("iam:PutUserPolicy", "*")], "iam:PutUserPolicy"),
        scenario("iam-008", &[("iam:AttachUserPolicy", "*")], "iam:AttachUserPolicy"),
        Scenario { id: "iam-009", permissions: vec![("iam:AttachRolePolicy", "*".into())], twin_lacks: "iam:AttachRolePolicy", role: true },
        scenario("iam-010", &[("iam:AttachGroupPolicy", "*")], "iam:AttachGroupPolicy"),
        scenario("iam-011", &[("iam:PutGroupPolicy", "*")], "iam:PutGroupPolicy"),
        scenario("iam-013", &[("iam:AddUserToGroup", "*")], "iam:AddUserToGroup"),
        scenario("iam-setdefault", &[("iam:SetDefaultPolicyVersion", "*")], "iam:SetDefaultPolicyVersion"),
        // Principal access.
        scenario("sts-001", &[("sts:AssumeRole", &role_arn("admin-assumable"))], "sts:AssumeRole"),
        scenario("iam-002", &[("iam:CreateAccessKey", &user_arn("victim-keyless"))], "iam:CreateAccessKey"),
        scenario(
            "iam-003",
            &[("iam:DeleteAccessKey", &user_arn("victim-two-keys")), ("iam:CreateAccessKey", &user_arn("victim-two-keys"))],
            "iam:CreateAccessKey",
        ),
        scenario("iam-004", &[("iam:CreateLoginProfile", &user_arn("victim-keyless"))], "iam:CreateLoginProfile"),
        scenario("iam-006", &[("iam:UpdateLoginProfile", &user_arn("victim-console"))], "iam:UpdateLoginProfile"),
        scenario("iam-012", &[("iam:UpdateAssumeRolePolicy", &role_arn("admin-assumable"))], "iam:UpdateAssumeRolePolicy"),
        // Pass a role to a new resource.
        pass_role("ec2-001", "ec2", &["ec2:RunInstances"], "ec2:RunInstances"),
        pass_role("ec2-004", "ec2", &["ec2:RequestSpotInstances"], "ec2:RequestSpotInstances"),
        pass_role("autoscaling", "ec2", &["autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"], "autoscaling:CreateAutoScalingGroup"),
        pass_role("lambda-001", "lambda", &["lambda:CreateFunction", "lambda:InvokeFunction"], "lambda:InvokeFunction"),
        pass_role("lambda-002", "lambda", &["lambda:CreateFunction", "lambda:CreateEventSourceMapping"], "lambda:CreateEventSourceMapping"),
        pass_role("lambda-006", "lambda", &["lambda:CreateFunction", "lambda:AddPermission"], "lambda:CreateFunction"),
        pass_role("cloudformation-001", "cloudformation", &["cloudformation:CreateStack"], "cloudformation:CreateStack"),
        pass_role(
            "cloudformation-003",
            "cloudformation",
            &["cloudformation:CreateStackSet", "cloudformation:CreateStackInstances"],
            "cloudformation:CreateStackInstances",
        ),
        pass_role("glue-001", "glue", &["glue:CreateDevEndpoint"], "glue:CreateDevEndpoint"),
        pass_role("glue-003", "glue", &["glue:CreateJob", "glue:StartJobRun"], "glue:CreateJob"),
        pass_role("glue-004", "glue", &["glue:CreateJob", "glue:CreateTrigger"], "glue:CreateTrigger"),
        pass_role("glue-007", "glue", &["glue:CreateSession", "glue:RunStatement"], "glue:RunStatement"),
        pass_role(
            "datapipeline-001",
            "datapipeline",
            &["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline"],
            "datapipeline:ActivatePipeline",
        ),
        // Twins of the create-and-run techniques lack the run action: without the create action
        // they still run the world's existing project or task definition, a true path.
        pass_role("codebuild-001", "codebuild", &["codebuild:CreateProject", "codebuild:StartBuild"], "codebuild:StartBuild"),
        pass_role("codebuild-004", "codebuild", &["codebuild:CreateProject", "codebuild:StartBuildBatch"], "codebuild:StartBuildBatch"),
        pass_role("sagemaker-001", "sagemaker", &["sagemaker:CreateNotebookInstance"], "sagemaker:CreateNotebookInstance"),
        pass_role("sagemaker-002", "sagemaker", &["sagemaker:CreateTrainingJob"], "sagemaker:CreateTrainingJob"),
        pass_role("sagemaker-003", "sagemaker", &["sagemaker:CreateProcessingJob"], "sagemaker:CreateProcessingJob"),
        pass_role("ecs-001", "ecs", &["ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:CreateService"], "ecs:RegisterTaskDefinition"),
        pass_role("ecs-002", "ecs", &["ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:RunTask"], "ecs:RunTask"),
        pass_role("ecs-003", "ecs", &["ecs:RegisterTaskDefinition", "ecs:CreateService"], "ecs:CreateService"),
        pass_role("ecs-004", "ecs", &["ecs:RegisterTaskDefinition", "ecs:RunTask"], "ecs:RunTask"),
        pass_role("apprunner-001", "apprunner", &["apprunner:CreateService"], "apprunner:CreateService"),
        pass_role(
            "bedrock-001",
            "agentcore",
            &["bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"],
            "bedrock-agentcore:StartCodeInterpreterSession",
        ),
        pass_role(
            "bedrock-003",
            "agentcore",
            &[
                "bedrock-agentcore:CreateAgentRuntime",
                "bedrock-agentcore:CreateAgentRuntimeEndpoint",
                "bedrock-agentcore:CreateWorkloadIdentity",
                "bedrock-agentcore:InvokeAgentRuntimeCommand",
            ],
            "bedrock-agentcore:CreateAgentRuntime",
        ),
        pass_role(
            "bedrock-006",
            "agentcore",
            &["bedrock-agentcore:CreateBrowser", "bedrock-agentcore:StartBrowserSession", "bedrock-agentcore:ConnectBrowserAutomationStream"],
            "bedrock-agentcore:ConnectBrowserAutomationStream",
        ),
        pass_role("ssm-003", "ssm", &["ssm:CreateDocument", "ssm:StartAutomationExecution"], "ssm:StartAutomationExecution"),
        pass_role("stepfunctions-001", "states", &["states:CreateStateMachine", "states:StartExecution"], "states:StartExecution"),
        pass_role("scheduler-001", "scheduler", &["scheduler:CreateSchedule"], "scheduler:CreateSchedule"),
        pass_role("braket-001", "braket", &["braket:CreateJob"], "braket:CreateJob"),
        pass_role("emr-serverless-001", "emr-serverless", &["emr-serverless:CreateApplication", "emr-serverless:StartJobRun"], "emr-serverless:StartJobRun"),
        pass_role(
            "kinesisanalytics-001",
            "kinesisanalytics",
            &["kinesisanalytics:CreateApplication", "kinesisanalytics:StartApplication"],
            "kinesisanalytics:StartApplication",
        ),
        pass_role("amplify-001", "amplify", &["amplify:CreateApp", "amplify:CreateBranch", "amplify:StartJob"], "amplify:StartJob"),
        // Pass a role to an existing resource.
        pass_role("glue-005", "glue", &["glue:UpdateJob", "glue:StartJobRun"], "glue:UpdateJob"),
        pass_role("glue-006", "glue", &["glue:UpdateJob", "glue:CreateTrigger"], "glue:CreateTrigger"),
        pass_role("cloudformation-004", "cloudformation", &["cloudformation:UpdateStackSet"], "cloudformation:UpdateStackSet"),
        pass_role("ecs-007", "ecs", &["ecs:StartTask", "ecs:RegisterContainerInstance"], "ecs:RegisterContainerInstance"),
        pass_role("ecs-008", "ecs", &["ecs:RunTask"], "ecs:RunTask"),
        // Take over an existing resource that runs with a role.
        scenario("lambda-003", &[("lambda:UpdateFunctionCode", "*")], "lambda:UpdateFunctionCode"),
        scenario("lambda-004", &[("lambda:UpdateFunctionCode", "*"), ("lambda:InvokeFunction", "*")], "lambda:UpdateFunctionCode"),
        scenario("lambda-005", &[("lambda:UpdateFunctionCode", "*"), ("lambda:AddPermission", "*")], "lambda:UpdateFunctionCode"),
        scenario("ec2-002", &[("ec2:ModifyInstanceAttribute", "*"), ("ec2:StopInstances", "*"), ("ec2:StartInstances", "*")], "ec2:ModifyInstanceAttribute"),
        scenario("ec2-003", &[("ec2-instance-connect:SendSSHPublicKey", "*")], "ec2-instance-connect:SendSSHPublicKey"),
        scenario("ec2-005", &[("ec2:CreateLaunchTemplateVersion", "*"), ("ec2:ModifyLaunchTemplate", "*")], "ec2:CreateLaunchTemplateVersion"),
        scenario("ssm-001", &[("ssm:StartSession", "*")], "ssm:StartSession"),
        scenario("ssm-002", &[("ssm:SendCommand", "*")], "ssm:SendCommand"),
        scenario("glue-002", &[("glue:UpdateDevEndpoint", "*")], "glue:UpdateDevEndpoint"),
        scenario("sagemaker-004", &[("sagemaker:CreatePresignedNotebookInstanceUrl", "*")], "sagemaker:CreatePresignedNotebookInstanceUrl"),
        scenario(
            "sagemaker-005",
            &[
                ("sagemaker:CreateNotebookInstanceLifecycleConfig", "*"),
                ("sagemaker:StopNotebookInstance", "*"),
                ("sagemaker:UpdateNotebookInstance", "*"),
                ("sagemaker:StartNotebookInstance", "*"),
            ],
            "sagemaker:UpdateNotebookInstance",
        ),
        scenario("codebuild-002", &[("codebuild:StartBuild", "*")], "codebuild:StartBuild"),
        scenario("codebuild-003", &[("codebuild:StartBuildBatch", "*")], "codebuild:StartBuildBatch"),
        scenario("cloudformation-002", &[("cloudformation:UpdateStack", "*")], "cloudformation:UpdateStack"),
        scenario("cloudformation-005", &[("cloudformation:CreateChangeSet", "*"), ("cloudformation:ExecuteChangeSet", "*")], "cloudformation:ExecuteChangeSet"),
        // bedrock-004 (InvokeAgentRuntimeCommand on an existing runtime) is not here: moto 5.2.1
        // routes the Rust SDK's AgentCore paths (`/runtimes`, without botocore's trailing slash)
        // nowhere, so no runtime can be created or listed; vigil-iam covers it with every other
        // technique (tests/escalation.rs, every_service_technique_finds_its_path_...).
    ];
    // Modify another principal, then act as it (each against a target of its own).
    for (id, modify, act) in [
        ("iam-014", "iam:AttachRolePolicy", "sts:AssumeRole"),
        ("iam-017", "iam:PutRolePolicy", "sts:AssumeRole"),
        ("iam-019", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"),
        ("iam-021", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"),
    ] {
        list.push(Scenario { id, permissions: vec![(modify, target(id)), (act, target(id))], twin_lacks: modify, role: false });
    }
    for (id, act) in [("iam-016", "sts:AssumeRole"), ("iam-020", "iam:UpdateAssumeRolePolicy")] {
        list.push(Scenario {
            id,
            permissions: vec![("iam:CreatePolicyVersion", policy_arn(&format!("target-{id}"))), (act, target(id))],
            twin_lacks: "iam:CreatePolicyVersion",
            role: false,
        });
    }
    for (id, modify) in [("iam-015", "iam:AttachUserPolicy"), ("iam-018", "iam:PutUserPolicy")] {
        list.push(Scenario { id, permissions: vec![(modify, target_user(id)), ("iam:CreateAccessKey", target_user(id))], twin_lacks: modify, role: false });
    }
    list
}

fn document(statements: Vec<Value>) -> String {
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

fn statements(permissions: &[(&str, String)]) -> Vec<Value> {
    permissions.iter().map(|(action, resource)| json!({ "Effect": "Allow", "Action": action, "Resource": resource })).collect()
}

fn trust(principal: Value) -> String {
    document(vec![json!({ "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole" })])
}

/// Seeds the shared world: admin roles for each service, victims, groups, and existing
/// resources running with admin roles.
async fn seed_world(moto: &MotoServer) {
    let config = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&config);
    for (name, principal) in SERVICES {
        let role = format!("admin-{name}");
        iam.create_role().role_name(&role).assume_role_policy_document(trust(json!({ "Service": principal }))).send().await.unwrap();
        iam.attach_role_policy().role_name(&role).policy_arn(ADMINISTRATOR_ACCESS).send().await.unwrap();
    }
    iam.create_instance_profile().instance_profile_name("admin-ec2").send().await.unwrap();
    iam.add_role_to_instance_profile().instance_profile_name("admin-ec2").role_name("admin-ec2").send().await.unwrap();
    iam.create_role()
        .role_name("admin-assumable")
        .assume_role_policy_document(trust(json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") })))
        .send()
        .await
        .unwrap();
    iam.attach_role_policy().role_name("admin-assumable").policy_arn(ADMINISTRATOR_ACCESS).send().await.unwrap();
    for (name, keys, console) in [("victim-keyless", 0, false), ("victim-two-keys", 2, false), ("victim-console", 0, true)] {
        iam.create_user().user_name(name).send().await.unwrap();
        iam.attach_user_policy().user_name(name).policy_arn(ADMINISTRATOR_ACCESS).send().await.unwrap();
        for _ in 0..keys {
            iam.create_access_key().user_name(name).send().await.unwrap();
        }
        if console {
            iam.create_login_profile().user_name(name).password("Vigil-Example-1!").send().await.unwrap();
        }
    }
    iam.create_group().group_name("admins").send().await.unwrap();
    iam.attach_group_policy().group_name("admins").policy_arn(ADMINISTRATOR_ACCESS).send().await.unwrap();
    // Roles that run the existing resources a scenario reconfigures with another role.
    for (name, principal) in [("current-glue", "glue.amazonaws.com"), ("current-ecs", "ecs-tasks.amazonaws.com")] {
        iam.create_role().role_name(name).assume_role_policy_document(trust(json!({ "Service": principal }))).send().await.unwrap();
    }

    // Existing resources running with admin roles.
    let lambda = aws_sdk_lambda::Client::new(&config);
    let empty_zip = aws_sdk_lambda::primitives::Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec());
    lambda
        .create_function()
        .function_name("victim-function")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role_arn("admin-lambda"))
        .handler("index.handler")
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(empty_zip).build())
        .send()
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&config);
    ec2.run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .iam_instance_profile(aws_sdk_ec2::types::IamInstanceProfileSpecification::builder().name("admin-ec2").build())
        .send()
        .await
        .unwrap();
    let template = ec2
        .create_launch_template()
        .launch_template_name("victim-template")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id("ami-12c6146b")
                .iam_instance_profile(
                    aws_sdk_ec2::types::LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                        .arn(format!("arn:aws:iam::{ACCOUNT}:instance-profile/admin-ec2"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let template_id = template.launch_template.and_then(|template| template.launch_template_id).unwrap();
    let autoscaling = aws_sdk_autoscaling::Client::new(&config);
    autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name("victim-group")
        .launch_template(aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder().launch_template_id(template_id).build())
        .min_size(0)
        .max_size(1)
        .availability_zones("us-east-1a")
        .send()
        .await
        .unwrap();
    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster().cluster_name("main").send().await.unwrap();
    ecs.register_task_definition()
        .family("victim-task")
        .task_role_arn(role_arn("current-ecs"))
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder().name("app").image("public.ecr.aws/amazonlinux/amazonlinux:latest").memory(128).build(),
        )
        .send()
        .await
        .unwrap();
    let glue = aws_sdk_glue::Client::new(&config);
    glue.create_job()
        .name("victim-job")
        .role(role_arn("current-glue"))
        .command(aws_sdk_glue::types::JobCommand::builder().name("glueetl").script_location("s3://scripts/etl.py").build())
        .send()
        .await
        .unwrap();
    glue.create_dev_endpoint().endpoint_name("victim-endpoint").role_arn(role_arn("admin-glue")).send().await.unwrap();
    let sagemaker = aws_sdk_sagemaker::Client::new(&config);
    sagemaker
        .create_notebook_instance()
        .notebook_instance_name("victim-notebook")
        .instance_type(aws_sdk_sagemaker::types::InstanceType::MlT2Medium)
        .role_arn(role_arn("admin-sagemaker"))
        .send()
        .await
        .unwrap();
    let codebuild = aws_sdk_codebuild::Client::new(&config);
    codebuild
        .create_project()
        .name("victim-project")
        .source(
            // moto asks every source for a location (AWS only asks it of S3 and repositories).
            aws_sdk_codebuild::types::ProjectSource::builder()
                .r#type(aws_sdk_codebuild::types::SourceType::S3)
                .location("victim-sources/source.zip")
                .buildspec("version: 0.2")
                .build()
                .unwrap(),
        )
        .artifacts(aws_sdk_codebuild::types::ProjectArtifacts::builder().r#type(aws_sdk_codebuild::types::ArtifactsType::NoArtifacts).build().unwrap())
        .environment(
            aws_sdk_codebuild::types::ProjectEnvironment::builder()
                .r#type(aws_sdk_codebuild::types::EnvironmentType::LinuxContainer)
                .image("aws/codebuild/standard:7.0")
                .compute_type(aws_sdk_codebuild::types::ComputeType::BuildGeneral1Small)
                .build()
                .unwrap(),
        )
        .service_role(role_arn("admin-codebuild"))
        .send()
        .await
        .unwrap();
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    let template_body = json!({ "Resources": { "Queue": { "Type": "AWS::SQS::Queue" } } }).to_string();
    cloudformation.create_stack().stack_name("victim-stack").template_body(&template_body).role_arn(role_arn("admin-cloudformation")).send().await.unwrap();
    cloudformation
        .create_stack_set()
        .stack_set_name("victim-stack-set")
        .template_body(&template_body)
        .administration_role_arn(role_arn("admin-cloudformation"))
        .send()
        .await
        .unwrap();
}

/// Creates the scenario's starting principal (`name`) with `permissions`, and what it needs.
async fn seed_principal(iam: &aws_sdk_iam::Client, scenario: &Scenario, name: &str, permissions: &[(&str, String)]) {
    let inline = document(statements(permissions));
    if scenario.role {
        // A role that runs as itself: its own trust lets the account assume it.
        iam.create_role().role_name(name).assume_role_policy_document(trust(json!({ "Service": "ec2.amazonaws.com" }))).send().await.unwrap();
        if !permissions.is_empty() {
            iam.put_role_policy().role_name(name).policy_name("permissions").policy_document(&inline).send().await.unwrap();
        }
        return;
    }
    iam.create_user().user_name(name).send().await.unwrap();
    if !permissions.is_empty() {
        iam.put_user_policy().user_name(name).policy_name("permissions").policy_document(&inline).send().await.unwrap();
    }
    let harmless = document(vec![json!({ "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*" })]);
    match scenario.id {
        // A customer managed policy attached to the principal, to be rewritten.
        "iam-001" => {
            let policy = format!("{name}-policy");
            iam.create_policy().policy_name(&policy).policy_document(&harmless).send().await.unwrap();
            iam.attach_user_policy().user_name(name).policy_arn(policy_arn(&policy)).send().await.unwrap();
        }
        // A managed policy whose other version allows everything.
        "iam-setdefault" => {
            let policy = format!("{name}-policy");
            iam.create_policy().policy_name(&policy).policy_document(&harmless).send().await.unwrap();
            let everything = document(vec![json!({ "Effect": "Allow", "Action": "*", "Resource": "*" })]);
            iam.create_policy_version().policy_arn(policy_arn(&policy)).policy_document(everything).set_as_default(false).send().await.unwrap();
            iam.attach_user_policy().user_name(name).policy_arn(policy_arn(&policy)).send().await.unwrap();
        }
        // A group of the principal's own.
        "iam-010" | "iam-011" => {
            let group = format!("{name}-group");
            iam.create_group().group_name(&group).send().await.unwrap();
            iam.add_user_to_group().group_name(&group).user_name(name).send().await.unwrap();
        }
        _ => {}
    }
}

/// The targets of the modify-then-act scenarios: a principal without permissions.
async fn seed_targets(iam: &aws_sdk_iam::Client) {
    for id in ["iam-014", "iam-016", "iam-017", "iam-019", "iam-020", "iam-021"] {
        let role = format!("target-{id}");
        iam.create_role().role_name(&role).assume_role_policy_document(trust(json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }))).send().await.unwrap();
        let policy = format!("target-{id}");
        let harmless = document(vec![json!({ "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*" })]);
        iam.create_policy().policy_name(&policy).policy_document(harmless).send().await.unwrap();
        iam.attach_role_policy().role_name(&role).policy_arn(policy_arn(&policy)).send().await.unwrap();
    }
    for id in ["iam-015", "iam-018"] {
        iam.create_user().user_name(format!("target-{id}")).send().await.unwrap();
    }
}

fn collect(moto: &MotoServer, snapshot: &Path) {
    let mut command = vigil();
    command.args(["-q", "collect", "--endpoint-url", &moto.endpoint_url, "--region", REGION, "-o"]).arg(snapshot);
    for service in ["iam", "ec2", "lambda", "autoscaling", "ecs", "glue", "sagemaker", "codebuild", "cloudformation", "bedrock-agentcore", "ssm", "apprunner"] {
        command.args(["--service", service]);
    }
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn published_scenarios_are_found_and_their_twins_missing_one_permission_are_not() {
    let moto = MotoServer::start();
    let scenarios = scenarios();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        seed_world(&moto).await;
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config().await);
        seed_targets(&iam).await;
        for scenario in &scenarios {
            seed_principal(&iam, scenario, &format!("s-{}", scenario.id), &scenario.permissions).await;
            let twin: Vec<(&str, String)> = scenario.permissions.iter().filter(|(action, _)| *action != scenario.twin_lacks).cloned().collect();
            assert!(twin.len() < scenario.permissions.len(), "{}: the twin must lack a permission", scenario.id);
            seed_principal(&iam, scenario, &format!("t-{}", scenario.id), &twin).await;
        }
    });
    let directory = tempfile::tempdir().unwrap();
    let snapshot = directory.path().join("corpus.vigil");
    collect(&moto, &snapshot);
    drop(moto);

    let output = vigil().args(["-q", "iam", "escalation", "--snapshot"]).arg(&snapshot).args(["--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let paths: Vec<Value> = serde_json::from_slice::<Value>(&output.stdout).unwrap().as_array().unwrap().clone();
    let mut by_principal: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for path in &paths {
        by_principal.entry(path["principal"].as_str().unwrap().rsplit('/').next().unwrap().to_string()).or_default().push(path);
    }
    let mut missed = Vec::new();
    let mut false_positives = Vec::new();
    for scenario in &scenarios {
        match by_principal.get(&format!("s-{}", scenario.id)) {
            None => missed.push(scenario.id),
            Some(found) => {
                // The path ends at an admin-equivalent principal, step by step.
                assert!(found.iter().all(|path| !path["steps"].as_array().unwrap().is_empty() && path["admin"].is_string()), "{}: {found:#?}", scenario.id);
            }
        }
        if let Some(found) = by_principal.get(&format!("t-{}", scenario.id)) {
            false_positives.push(format!("{} (without {}): {}", scenario.id, scenario.twin_lacks, found[0]));
        }
    }
    let total = scenarios.len();
    eprintln!("escalation corpus: recall {}/{total} scenarios, false positives {}/{total} twins", total - missed.len(), false_positives.len());
    assert!(missed.is_empty(), "scenarios without a path: {missed:?}");
    assert!(false_positives.is_empty(), "twins reported: {false_positives:#?}");
}
