//! Issue 17, the cloud side, against moto: secrets in EC2 user data, launch template versions,
//! launch configurations, Lambda environments, ECS container environments and sampled S3 objects are found with their
//! location and never kept or printed in full, next to look-alike twins that are not; and
//! instances, launch templates and Auto Scaling groups on an old or deregistered AMI, next to
//! a fresh twin.

use std::sync::Arc;

use base64::Engine;
use vigil_checks::{Context, Finding, Status};
use vigil_collect::{NoProgress, collect_with};
use vigil_model::Inventory;
use vigil_testkit::MotoServer;

use crate::support::{self, statuses};

const REGION: &str = "us-east-1";

// Secrets are assembled at run time so that no secret scanner flags this file.
fn access_key_id() -> String {
    format!("AKIA{}", "Q7XZ3MRT5WJKLN2P")
}
fn secret_access_key() -> String {
    format!("{}{}", "wJalrXUtnFEMIK7MDENGbPxRfiCY", "9fQ2hLk4sT7v")
}
fn github_token() -> String {
    format!("ghp_{}", "8fK2mQ9xZ4vL7pR3tY6wB1nC5hJ0sD2gE4aU")
}
fn card_number() -> String {
    // A Luhn-valid test card number.
    format!("4111 1111 {}", "1111 1111")
}

fn the_secrets() -> Vec<String> {
    vec![access_key_id(), secret_access_key(), github_token(), card_number(), "Zq8#vLp2!mXr".to_string()]
}

async fn seed(moto: &MotoServer) -> (String, String, String, String) {
    use aws_sdk_ec2::types as ec2;
    let sdk_config = moto.sdk_config().await;
    let client = aws_sdk_ec2::Client::new(&sdk_config);
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let leaky_script = format!("#!/bin/bash\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n", access_key_id(), secret_access_key());
    let look_alike_script = "#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nDB_PASSWORD=${DB_PASSWORD}\n";
    let launch = |image_id: &str, user_data: String| {
        client.run_instances().image_id(image_id).instance_type(ec2::InstanceType::T3Micro).min_count(1).max_count(1).user_data(user_data).send()
    };
    let first = |output: aws_sdk_ec2::operation::run_instances::RunInstancesOutput| {
        output.instances.and_then(|instances| instances.into_iter().next()).and_then(|instance| instance.instance_id).unwrap_or_default()
    };
    // moto runs instances from any AMI id, but knows only the images made in it (the tests run
    // with MOTO_EC2_LOAD_DEFAULT_AMIS=false): the account's base image is made from a builder
    // instance, which is then terminated.
    let builder = first(launch("ami-12c6146b", encode("#!/bin/bash\n")).await.expect("builder instance"));
    let base_image = client.create_image().instance_id(&builder).name("base-ami").send().await.expect("base image").image_id.unwrap_or_default();
    client.terminate_instances().instance_ids(&builder).send().await.expect("terminate the builder");
    let leaky_instance = first(launch(&base_image, encode(&leaky_script)).await.expect("leaky instance"));
    let clean_instance = first(launch(&base_image, encode(look_alike_script)).await.expect("clean instance"));
    // An AMI the account builds, launches from, then deregisters.
    let gone_image = client.create_image().instance_id(&clean_instance).name("retired-ami").send().await.expect("image").image_id.unwrap_or_default();
    let orphan_instance = first(launch(&gone_image, encode("#!/bin/bash\necho hello\n")).await.expect("orphan instance"));

    let template = |name: &'static str, image_id: &str, user_data: String| {
        client
            .create_launch_template()
            .launch_template_name(name)
            .launch_template_data(ec2::RequestLaunchTemplateData::builder().image_id(image_id).user_data(user_data).build())
            .send()
    };
    // Version 1 of `leaky-lt` holds the secret; version 2 (made default) no longer does.
    let leaky_template =
        template("leaky-lt", &base_image, encode(&format!("export GITHUB_TOKEN={}\n", github_token()))).await.expect("lt").launch_template.unwrap();
    client
        .create_launch_template_version()
        .launch_template_name("leaky-lt")
        .source_version("1")
        .launch_template_data(ec2::RequestLaunchTemplateData::builder().user_data(encode("#!/bin/bash\necho clean\n")).build())
        .send()
        .await
        .expect("version 2");
    client.modify_launch_template().launch_template_name("leaky-lt").default_version("2").send().await.expect("default version");
    template("clean-lt", &base_image, encode(look_alike_script)).await.expect("clean lt");
    template("retired-lt", &gone_image, encode("#!/bin/bash\n")).await.expect("retired lt");
    client.deregister_image().image_id(&gone_image).send().await.expect("deregister");

    let autoscaling = aws_sdk_autoscaling::Client::new(&sdk_config);
    for (group, template_name) in [("fresh-asg", "clean-lt"), ("retired-asg", "retired-lt")] {
        autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(group)
            .launch_template(aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder().launch_template_name(template_name).version("$Default").build())
            .min_size(0)
            .max_size(1)
            .availability_zones("us-east-1a")
            .send()
            .await
            .expect("group");
    }

    // Launch configurations: a key pair in one's user data, look-alikes in its twin's.
    for (name, script) in [("leaky-lc", leaky_script.as_str()), ("clean-lc", look_alike_script)] {
        autoscaling
            .create_launch_configuration()
            .launch_configuration_name(name)
            .image_id(&base_image)
            .instance_type("t3.micro")
            .user_data(encode(script))
            .send()
            .await
            .expect("launch configuration");
    }

    // Lambda: a token in one function's environment, a look-alike in its twin's.
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
    let iam = aws_sdk_iam::Client::new(&sdk_config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = iam.create_role().role_name("lambda-exec").assume_role_policy_document(trust).send().await.unwrap().role.unwrap().arn;
    let lambda = aws_sdk_lambda::Client::new(&sdk_config);
    let code = || FunctionCode::builder().zip_file(Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec())).build();
    for (name, variable, value) in [("leaky-fn", "DEPLOY_TOKEN", github_token()), ("clean-fn", "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_string())] {
        lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::from("python3.12"))
            .role(&role)
            .handler("index.handler")
            .code(code())
            .environment(Environment::builder().variables(variable, value).build())
            .send()
            .await
            .expect("function");
    }

    // ECS: a password in one task definition's container environment, a reference in its twin's.
    let ecs = aws_sdk_ecs::Client::new(&sdk_config);
    for (family, value) in [("leaky-task", "Zq8#vLp2!mXr"), ("clean-task", "${DB_PASSWORD}")] {
        let variable = aws_sdk_ecs::types::KeyValuePair::builder().name("DB_PASSWORD").value(value).build();
        let container = aws_sdk_ecs::types::ContainerDefinition::builder().name("web").image("nginx").memory(128).environment(variable).build();
        ecs.register_task_definition().family(family).container_definitions(container).send().await.expect("task definition");
    }

    // S3: a card number and a key in one bucket's objects, harmless text in its twin's.
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk_config).force_path_style(true).build());
    for (bucket, body) in [
        ("leaky-data", format!("name,card\nAda,{}\n", card_number())),
        ("clean-data", "name,card\nAda,4111 1111 1111 1112\nid,AKIAIOSFODNN7EXAMPLE\n".to_string()),
    ] {
        s3.create_bucket().bucket(bucket).send().await.expect("bucket");
        s3.put_object().bucket(bucket).key("exports/customers.csv").body(body.into_bytes().into()).send().await.expect("object");
        s3.put_object().bucket(bucket).key("readme.txt").body(b"nothing here".to_vec().into()).send().await.expect("object");
    }
    (leaky_instance, clean_instance, orphan_instance, leaky_template.launch_template_id.unwrap_or_default())
}

fn finding<'a>(findings: &'a [Finding], check_id: &str, resource: &str) -> &'a Finding {
    findings
        .iter()
        .find(|finding| finding.check_id.as_ref() == check_id && finding.resource_id.as_ref() == resource)
        .unwrap_or_else(|| panic!("no {check_id} finding for {resource}"))
}

fn run_checks_at(inventory: &Inventory, now: chrono::DateTime<chrono::Utc>) -> Vec<Finding> {
    vigil_checks::run_all(&Context::new(inventory, now), |_| true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_user_data_environments_and_sampled_objects_are_found_with_their_location_and_never_kept_in_full() {
    let moto = MotoServer::start();
    let (leaky_instance, clean_instance, _, leaky_template) = seed(&moto).await;
    let mut config = support::config(&moto, &[REGION], &["ec2", "lambda", "ecs", "s3", "autoscaling"]);
    config.sample_objects = 5;
    let inventory = collect_with(moto.sdk_config().await, &config, Arc::new(NoProgress)).await.expect("collect");
    let findings = support::run_checks(&inventory, &[]);

    let user_data = finding(&findings, "ec2_instance_user_data_no_secrets", &leaky_instance);
    assert_eq!(user_data.status, Status::Fail, "{user_data:#?}");
    assert!(user_data.message.contains("aws_access_key_id at user data line 2"), "{}", user_data.message);
    assert!(user_data.message.contains("aws_secret_access_key at user data line 3"), "{}", user_data.message);
    assert_eq!(statuses(&findings, "ec2_instance_user_data_no_secrets", &clean_instance), vec![Status::Pass]);

    let template = finding(&findings, "ec2_launch_template_user_data_no_secrets", &leaky_template);
    assert_eq!(template.status, Status::Fail, "{template:#?}");
    assert!(template.message.contains("github_token at version 1, user data line 1"), "{}", template.message);
    let clean_template = findings
        .iter()
        .find(|finding| finding.check_id.as_ref() == "ec2_launch_template_user_data_no_secrets" && finding.message.contains("`clean-lt`"))
        .expect("clean-lt finding");
    assert_eq!(clean_template.status, Status::Pass, "{clean_template:#?}");

    let configuration_status = |name: &str| {
        findings
            .iter()
            .find(|finding| {
                finding.check_id.as_ref() == "autoscaling_launch_configuration_user_data_no_secrets" && finding.message.contains(&format!("`{name}`"))
            })
            .map(|finding| (finding.status, finding.message.to_string()))
            .expect("launch configuration finding")
    };
    let (leaky_configuration, configuration_message) = configuration_status("leaky-lc");
    assert_eq!(leaky_configuration, Status::Fail, "{configuration_message}");
    assert!(configuration_message.contains("aws_access_key_id at user data line 2"), "{configuration_message}");
    assert_eq!(configuration_status("clean-lc").0, Status::Pass);

    let lambda_status = |name: &str| {
        findings
            .iter()
            .find(|finding| finding.check_id.as_ref() == "lambda_function_no_secrets_in_environment" && finding.message.contains(&format!("`{name}`")))
            .map(|finding| (finding.status, finding.evidence.to_string()))
            .expect("lambda finding")
    };
    let (leaky_status, leaky_evidence) = lambda_status("leaky-fn");
    assert_eq!(leaky_status, Status::Fail);
    assert!(leaky_evidence.contains("DEPLOY_TOKEN") && leaky_evidence.contains("github_token"), "{leaky_evidence}");
    assert_eq!(lambda_status("clean-fn").0, Status::Pass);

    let task_status = |family: &str| {
        findings
            .iter()
            .find(|finding| finding.check_id.as_ref() == "ecs_task_definition_no_secrets_in_environment" && finding.message.contains(&format!("`{family}:")))
            .map(|finding| (finding.status, finding.message.to_string()))
            .expect("task definition finding")
    };
    let (task, task_message) = task_status("leaky-task");
    assert_eq!(task, Status::Fail);
    assert!(task_message.contains("password_in_config at container web, variable DB_PASSWORD"), "{task_message}");
    assert_eq!(task_status("clean-task").0, Status::Pass);

    let bucket = finding(&findings, "s3_bucket_sampled_objects_no_sensitive_data", "leaky-data");
    assert_eq!(bucket.status, Status::Fail, "{bucket:#?}");
    assert!(bucket.message.contains("card_number at object exports/customers.csv line 2"), "{}", bucket.message);
    assert_eq!(statuses(&findings, "s3_bucket_sampled_objects_no_sensitive_data", "clean-data"), vec![Status::Pass]);
    // The field the attack-path analysis reads.
    let leaky_bucket = inventory.s3.buckets.iter().find(|bucket| bucket.name == "leaky-data").unwrap();
    let sample = leaky_bucket.sensitive_data.as_ref().expect("sampled");
    assert!(sample.holds_sensitive_data());
    assert_eq!(sample.kinds, vec!["card_number".to_string()]);
    assert_eq!(sample.objects_sampled, vec!["exports/customers.csv".to_string(), "readme.txt".to_string()]);
    assert!(support::outcomes(&inventory, "s3", "GetObject", Some("leaky-data/exports/customers.csv")).iter().all(|outcome| outcome.is_read()));

    // No secret in full, anywhere: not in the inventory (the snapshot) nor in the findings.
    let inventory_json = serde_json::to_string(&inventory).unwrap();
    let findings_json = serde_json::to_string(&findings).unwrap();
    for secret in the_secrets() {
        assert!(!inventory_json.contains(&secret), "the inventory holds a secret in full");
        assert!(!findings_json.contains(&secret), "a finding holds a secret in full");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_buckets_get_no_verdict_and_a_denied_user_data_read_is_an_error_naming_the_call() {
    let moto = MotoServer::start();
    let (leaky_instance, ..) = seed(&moto).await;
    let config = support::config(&moto, &[REGION], &["ec2", "s3"]);
    let mut inventory = collect_with(moto.sdk_config().await, &config, Arc::new(NoProgress)).await.expect("collect");
    assert!(inventory.s3.buckets.iter().all(|bucket| bucket.sensitive_data.is_none()), "the sampler is opt-in");
    let findings = support::run_checks(&inventory, &[]);
    assert!(findings.iter().all(|finding| finding.check_id.as_ref() != "s3_bucket_sampled_objects_no_sensitive_data"));
    // The same inventory as if DescribeInstanceAttribute had been denied for the leaky instance.
    for call in inventory
        .ledger
        .calls
        .iter_mut()
        .filter(|call| call.operation == "DescribeInstanceAttribute" && call.target.as_deref() == Some(leaky_instance.as_str()))
    {
        call.outcome = vigil_model::Outcome::AccessDenied { code: "UnauthorizedOperation".into(), message: "not authorized".into() };
    }
    let findings = support::run_checks(&inventory, &[]);
    let denied = finding(&findings, "ec2_instance_user_data_no_secrets", &leaky_instance);
    assert_eq!(denied.status, Status::Error);
    assert!(denied.message.contains("DescribeInstanceAttribute"), "{}", denied.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_templates_and_groups_on_an_old_or_deregistered_ami_fail_and_their_fresh_twins_pass() {
    let moto = MotoServer::start();
    let (_, clean_instance, orphan_instance, _) = seed(&moto).await;
    let config = support::config(&moto, &[REGION], &["ec2", "autoscaling"]);
    let inventory = collect_with(moto.sdk_config().await, &config, Arc::new(NoProgress)).await.expect("collect");
    let regional = inventory.regional.get(&REGION.into()).unwrap();
    let base_image =
        regional.ec2.instances.iter().find(|instance| instance.instance_id == clean_instance).and_then(|instance| instance.image_id.clone()).unwrap();
    assert!(regional.ec2.images_in_use.iter().any(|image| image.image_id == base_image && image.image.is_some()), "{:#?}", regional.ec2.images_in_use);

    let now = chrono::Utc::now();
    let findings = run_checks_at(&inventory, now);
    assert_eq!(statuses(&findings, "ec2_instance_ami_current", &clean_instance), vec![Status::Pass]);
    let orphan = finding(&findings, "ec2_instance_ami_current", &orphan_instance);
    assert_eq!(orphan.status, Status::Fail);
    assert!(orphan.message.contains("no longer knows"), "{}", orphan.message);
    let by_name = |check_id: &str, name: &str| {
        findings
            .iter()
            .find(|finding| finding.check_id.as_ref() == check_id && finding.message.contains(&format!("`{name}`")))
            .map(|finding| finding.status)
            .unwrap_or_else(|| panic!("no {check_id} finding for {name}"))
    };
    assert_eq!(by_name("ec2_launch_template_ami_current", "clean-lt"), Status::Pass);
    assert_eq!(by_name("ec2_launch_template_ami_current", "retired-lt"), Status::Fail);
    assert_eq!(by_name("autoscaling_group_ami_current", "fresh-asg"), Status::Pass);
    assert_eq!(by_name("autoscaling_group_ami_current", "retired-asg"), Status::Fail);

    // moto's images are as old as the server; a year on, the same AMI is past the default age.
    let later = run_checks_at(&inventory, now + chrono::Duration::days(365));
    let aged = finding(&later, "ec2_instance_ami_current", &clean_instance);
    assert_eq!(aged.status, Status::Fail, "{aged:#?}");
    assert!(aged.message.contains("(maximum 180)"), "{}", aged.message);
}
