//! Secrets in what collection reads: EC2 user data, launch template versions, launch
//! configurations' user data, ECS container
//! environments and, with `vigil scan --sample-objects N`, a sample of each bucket's objects.
//! Collection ran the one detector (`vigil-secrets`) at the edge and kept only the location,
//! the kind and the redacted form of each finding: evidence never holds a secret in full.

use serde_json::{Value, json};
use vigil_model::autoscaling::LaunchConfiguration;
use vigil_model::resource::ResourceData;
use vigil_model::sensitive::SecretFound;

use super::FnCheck;
use super::support::{each_regional, each_resource};
use crate::context::Needs;
use crate::{Metadata, Read, Remediation, Severity};

/// The evidence for a list of findings: location, kind and redacted form of each.
fn evidence_of(found: &[SecretFound]) -> Value {
    Value::Array(found.iter().map(|finding| json!({ "Location": finding.location, "Kind": finding.kind, "Redacted": finding.redacted })).collect())
}

/// `kind at location; ...` for a message, the first few only.
fn summary(found: &[SecretFound]) -> String {
    let mut parts: Vec<String> = found.iter().take(5).map(|finding| format!("{} at {}", finding.kind, finding.location)).collect();
    if found.len() > 5 {
        parts.push(format!("and {} more", found.len() - 5));
    }
    parts.join("; ")
}

pub static INSTANCE_USER_DATA_NO_SECRETS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_user_data_no_secrets",
        title: "EC2 instance user data holds no secrets",
        service: "ec2",
        resource_type: "AWS::EC2::Instance",
        severity: Severity::High,
        risk: "User data is readable by anyone with ec2:DescribeInstanceAttribute and by every process on the instance through the metadata service; keys and passwords pasted there leak.",
        remediation: Remediation {
            text: "Move the secret to Secrets Manager or SSM Parameter Store and have the boot script fetch it with the instance role; rotate the exposed secret. Evidence gives the line and kind, never the value.",
            cli: "aws ec2 describe-instance-attribute --instance-id INSTANCE_ID --attribute userData --query UserData.Value --output text | base64 -d\naws ec2 modify-instance-attribute --instance-id INSTANCE_ID --attribute userData --value file://clean-user-data.b64",
            terraform: "resource \"aws_instance\" \"app\" {\n  user_data = templatefile(\"boot.sh\", { secret_arn = aws_secretsmanager_secret.app.arn })\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
            "https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets.html",
        ],
        frameworks: &[("pci-dss-4.0", "8.3.2"), ("nist-800-53-r5", "IA-5")],
        reads: &[Read::regional("ec2", "DescribeInstances")],
    },
    run: |metadata, context, findings| {
        each_resource(context, findings, "AWS::EC2::Instance", |resource, subject, findings| {
            let ResourceData::Instance(instance) = resource.data else { return };
            if instance.is_gone() {
                return;
            }
            let needs = [Needs::call("ec2", resource.region, "DescribeInstanceAttribute").on(&instance.instance_id)];
            findings.push(context.decide(metadata, subject, &needs, || {
                let found = &instance.user_data_secrets;
                let message = if found.is_empty() {
                    format!("Instance `{}` user data holds no secret the detector recognises.", instance.instance_id)
                } else {
                    format!("Instance `{}` user data holds {} secret(s): {}.", instance.instance_id, found.len(), summary(found))
                };
                (found.is_empty(), message, json!({ "UserDataSecrets": evidence_of(found) }))
            }));
        });
    },
};

pub static LAUNCH_TEMPLATE_USER_DATA_NO_SECRETS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_launch_template_user_data_no_secrets",
        title: "EC2 launch template versions hold no secrets in user data",
        service: "ec2",
        resource_type: "AWS::EC2::LaunchTemplate",
        severity: Severity::High,
        risk: "Every version of a launch template keeps its user data, readable with ec2:DescribeLaunchTemplateVersions and copied to every instance launched from it; an old version still holds a secret removed from the current one.",
        remediation: Remediation {
            text: "Move the secret to Secrets Manager or SSM Parameter Store, create a clean version, delete the versions that hold the secret, and rotate it. Evidence names the version and line, never the value.",
            cli: "aws ec2 create-launch-template-version --launch-template-id LT_ID --source-version 1 --launch-template-data '{\"UserData\":\"CLEAN_BASE64\"}'\naws ec2 delete-launch-template-versions --launch-template-id LT_ID --versions 1",
            terraform: "resource \"aws_launch_template\" \"app\" {\n  user_data = base64encode(templatefile(\"boot.sh\", { secret_arn = aws_secretsmanager_secret.app.arn }))\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/manage-launch-template-versions.html",
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
        ],
        frameworks: &[("pci-dss-4.0", "8.3.2"), ("nist-800-53-r5", "IA-5")],
        reads: &[Read::regional("ec2", "DescribeLaunchTemplates")],
    },
    run: |metadata, context, findings| {
        each_resource(context, findings, "AWS::EC2::LaunchTemplate", |resource, subject, findings| {
            let ResourceData::LaunchTemplate(template) = resource.data else { return };
            let needs = [Needs::call("ec2", resource.region, "DescribeLaunchTemplateVersions").on(&template.launch_template_id)];
            findings.push(context.decide(metadata, subject, &needs, || {
                let found = &template.user_data_secrets;
                let name = template.launch_template_name.as_deref().unwrap_or(&template.launch_template_id);
                let message = if found.is_empty() {
                    format!("Launch template `{name}` has no version whose user data holds a secret the detector recognises.")
                } else {
                    format!("Launch template `{name}` user data holds {} secret(s): {}.", found.len(), summary(found))
                };
                (found.is_empty(), message, json!({ "UserDataSecrets": evidence_of(found) }))
            }));
        });
    },
};

pub static LAUNCH_CONFIGURATION_USER_DATA_NO_SECRETS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_launch_configuration_user_data_no_secrets",
        title: "Auto Scaling launch configurations hold no secrets in user data",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::LaunchConfiguration",
        severity: Severity::High,
        risk: "A launch configuration's user data is returned by autoscaling:DescribeLaunchConfigurations and copied to every instance the group launches; launch configurations cannot be edited, so a secret stays there until the configuration is deleted.",
        remediation: Remediation {
            text: "Move the secret to Secrets Manager or SSM Parameter Store, replace the launch configuration with a launch template whose boot script fetches it with the instance role, delete the old configuration and rotate the secret. Evidence gives the line and kind, never the value.",
            cli: "aws autoscaling describe-launch-configurations --launch-configuration-names NAME --query 'LaunchConfigurations[0].UserData' --output text | base64 -d\naws autoscaling update-auto-scaling-group --auto-scaling-group-name GROUP --launch-template LaunchTemplateName=CLEAN_LT,Version='$Default'\naws autoscaling delete-launch-configuration --launch-configuration-name NAME",
            terraform: "resource \"aws_launch_template\" \"app\" {\n  user_data = base64encode(templatefile(\"boot.sh\", { secret_arn = aws_secretsmanager_secret.app.arn }))\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/autoscaling/ec2/userguide/migrate-to-launch-templates.html",
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
        ],
        frameworks: &[("pci-dss-4.0", "8.3.2"), ("nist-800-53-r5", "IA-5")],
        reads: &[Read::regional("autoscaling", "DescribeLaunchConfigurations")],
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |configuration: &LaunchConfiguration, _, _| {
            let found = &configuration.user_data_secrets;
            let name = &configuration.launch_configuration_name;
            let message = if found.is_empty() {
                format!("Launch configuration `{name}` user data holds no secret the detector recognises.")
            } else {
                format!("Launch configuration `{name}` user data holds {} secret(s): {}.", found.len(), summary(found))
            };
            Some((vec![], (found.is_empty(), message, json!({ "UserDataSecrets": evidence_of(found) }))))
        })
    },
};

pub static ECS_TASK_DEFINITION_NO_SECRETS_IN_ENVIRONMENT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ecs_task_definition_no_secrets_in_environment",
        title: "ECS task definitions keep no secrets in container environment variables",
        service: "ecs",
        resource_type: "AWS::ECS::TaskDefinition",
        severity: Severity::High,
        risk: "Container environment variables are plain text in the task definition, readable with ecs:DescribeTaskDefinition and kept in every revision; credentials there leak easily.",
        remediation: Remediation {
            text: "Reference the secret from Secrets Manager or SSM Parameter Store in the container's `secrets` list instead of `environment`, register a new revision, deregister the old ones and rotate the secret. Evidence names the container and variable, never the value.",
            cli: "aws ecs register-task-definition --cli-input-json file://task-with-secrets-references.json\naws ecs deregister-task-definition --task-definition FAMILY:REVISION",
            terraform: "resource \"aws_ecs_task_definition\" \"app\" {\n  container_definitions = jsonencode([{\n    name    = \"app\"\n    secrets = [{ name = \"DB_PASSWORD\", valueFrom = aws_secretsmanager_secret.db.arn }]\n  }])\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
            "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        ],
        frameworks: &[("pci-dss-4.0", "8.3.2"), ("nist-800-53-r5", "IA-5")],
        reads: &[Read::regional("ecs", "ListTaskDefinitions")],
    },
    run: |metadata, context, findings| {
        each_resource(context, findings, "AWS::ECS::TaskDefinition", |resource, subject, findings| {
            let ResourceData::EcsTaskDefinition(definition) = resource.data else { return };
            let needs = [Needs::call("ecs", resource.region, "DescribeTaskDefinition").on(&definition.task_definition_arn)];
            findings.push(context.decide(metadata, subject, &needs, || {
                let found = &definition.environment_secrets;
                let name = format!("{}:{}", definition.family, definition.revision);
                let message = if found.is_empty() {
                    format!("Task definition `{name}` has no environment variable holding a secret the detector recognises.")
                } else {
                    format!("Task definition `{name}` holds {} secret(s) in container environments: {}.", found.len(), summary(found))
                };
                (found.is_empty(), message, json!({ "EnvironmentSecrets": evidence_of(found) }))
            }));
        });
    },
};

pub static BUCKET_SAMPLED_OBJECTS_NO_SENSITIVE_DATA: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_sampled_objects_no_sensitive_data",
        title: "S3 buckets hold no secrets or personal data in a sample of their objects (with --sample-objects)",
        service: "s3",
        resource_type: "AWS::S3::Bucket",
        severity: Severity::Medium,
        risk: "Credentials and personal data in objects leak with the bucket: a policy mistake, a compromised reader or a replication target exposes them. Only runs with `vigil scan --sample-objects N`, on the first N objects of each bucket (64 KiB of each); a PASS covers that sample only.",
        remediation: Remediation {
            text: "Remove or encrypt the data, restrict who can read the bucket, and rotate any credential found; classify the whole bucket with Amazon Macie. Evidence names the object and line, never the value.",
            cli: "aws macie2 create-classification-job --job-type ONE_TIME --name classify-BUCKET --s3-job-definition '{\"bucketDefinitions\":[{\"accountId\":\"ACCOUNT_ID\",\"buckets\":[\"BUCKET\"]}]}'",
            terraform: "resource \"aws_macie2_classification_job\" \"bucket\" {\n  job_type = \"ONE_TIME\"\n  s3_job_definition {\n    bucket_definitions {\n      account_id = data.aws_caller_identity.current.account_id\n      buckets    = [aws_s3_bucket.data.id]\n    }\n  }\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/macie/latest/user/data-classification.html",
            "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html",
        ],
        frameworks: &[("pci-dss-4.0", "3.2.1"), ("nist-800-53-r5", "SC-28")],
        reads: &[Read::global("s3", "ListBuckets")],
    },
    run: |metadata, context, findings| {
        each_resource(context, findings, "AWS::S3::Bucket", |resource, subject, findings| {
            let ResourceData::Bucket(bucket) = resource.data else { return };
            // Not sampled (the sampler is opt-in): no verdict either way.
            let Some(sample) = bucket.sensitive_data.as_ref() else { return };
            let targets: Vec<String> = sample.objects_sampled.iter().map(|key| format!("{}/{key}", bucket.name)).collect();
            let mut needs = vec![Needs::call("s3", &bucket.region, "ListObjectsV2").on(&bucket.name)];
            needs.extend(targets.iter().map(|target| Needs::call("s3", &bucket.region, "GetObject").on(target)));
            findings.push(context.decide(metadata, subject, &needs, || {
                let found = &sample.findings;
                let message = if found.is_empty() {
                    format!("Bucket `{}`: no secret or personal data in the {} object(s) sampled.", bucket.name, sample.objects_sampled.len())
                } else {
                    format!(
                        "Bucket `{}` holds sensitive data ({}) in the {} object(s) sampled: {}.",
                        bucket.name,
                        sample.kinds.join(", "),
                        sample.objects_sampled.len(),
                        summary(found)
                    )
                };
                let evidence =
                    json!({ "ObjectsSampled": sample.objects_sampled, "BytesRead": sample.bytes_read, "Kinds": sample.kinds, "Findings": evidence_of(found) });
                (found.is_empty(), message, evidence)
            }));
        });
    },
};

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{Instance, InstanceState, LaunchTemplate};
    use vigil_model::s3::Bucket;
    use vigil_model::sensitive::{SecretFound, SensitiveDataSample};
    use vigil_model::workloads::EcsTaskDefinition;

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::twins::{Twin, check_twins};
    use crate::catalog::test_support::{denied, inventory, read, record, run, statuses};

    fn secret(location: &str) -> Vec<SecretFound> {
        vec![SecretFound { location: location.into(), kind: "aws_access_key_id".into(), redacted: "AKIA**************2P".into() }]
    }

    fn instance(id: &str, found: Vec<SecretFound>) -> Instance {
        Instance { instance_id: id.into(), state: InstanceState { name: "running".into(), code: Some(16) }, user_data_secrets: found, ..Instance::default() }
    }

    #[test]
    fn secrets_found_at_collection_fail_their_resource_and_clean_twins_pass() {
        check_twins(&[
            Twin {
                check: &INSTANCE_USER_DATA_NO_SECRETS,
                calls: vec![("DescribeInstanceAttribute", "bad"), ("DescribeInstanceAttribute", "good")],
                place: |regional| regional.ec2.instances.extend([instance("bad", secret("user data line 2")), instance("good", vec![])]),
            },
            Twin {
                check: &LAUNCH_TEMPLATE_USER_DATA_NO_SECRETS,
                calls: vec![("DescribeLaunchTemplateVersions", "bad"), ("DescribeLaunchTemplateVersions", "good")],
                place: |regional| {
                    let template = |id: &str, found| LaunchTemplate { launch_template_id: id.into(), user_data_secrets: found, ..LaunchTemplate::default() };
                    regional.ec2.launch_templates.extend([template("bad", secret("version 1, user data line 1")), template("good", vec![])]);
                },
            },
            Twin {
                check: &LAUNCH_CONFIGURATION_USER_DATA_NO_SECRETS,
                calls: vec![],
                place: |regional| {
                    let configuration = |name: &str, found| LaunchConfiguration {
                        launch_configuration_name: name.into(),
                        launch_configuration_arn: format!("arn:aws:autoscaling:us-east-1:123456789012:launchConfiguration:1:launchConfigurationName/{name}"),
                        user_data_secrets: found,
                        ..LaunchConfiguration::default()
                    };
                    regional.launch_configurations.extend([configuration("bad", secret("user data line 1")), configuration("good", vec![])]);
                },
            },
            Twin {
                check: &ECS_TASK_DEFINITION_NO_SECRETS_IN_ENVIRONMENT,
                calls: vec![
                    ("DescribeTaskDefinition", "arn:aws:ecs:us-east-1:123456789012:task-definition/bad"),
                    ("DescribeTaskDefinition", "arn:aws:ecs:us-east-1:123456789012:task-definition/good"),
                ],
                place: |regional| {
                    let definition = |name: &str, found| EcsTaskDefinition {
                        task_definition_arn: format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{name}"),
                        family: name.into(),
                        revision: 1,
                        environment_secrets: found,
                        ..EcsTaskDefinition::default()
                    };
                    regional.ecs_task_definitions.extend([definition("bad", secret("container web, variable KEY")), definition("good", vec![])]);
                },
            },
        ]);
    }

    #[test]
    fn sampled_buckets_fail_on_sensitive_data_pass_when_clean_and_an_unread_object_is_an_error() {
        let mut inventory = inventory();
        read(&mut inventory, "s3", vigil_model::Region::GLOBAL, "ListBuckets", None);
        let sample = |found: Vec<SecretFound>| SensitiveDataSample {
            objects_sampled: vec!["data.csv".into()],
            bytes_read: 100,
            kinds: found.iter().map(|finding| finding.kind.clone()).collect(),
            findings: found,
        };
        let bucket = |name: &str, sensitive_data| Bucket { name: name.into(), region: "us-east-1".into(), sensitive_data, ..Bucket::default() };
        inventory.s3.buckets =
            vec![bucket("bad", Some(sample(secret("object data.csv line 1")))), bucket("good", Some(sample(vec![]))), bucket("unsampled", None)];
        for name in ["bad", "good"] {
            read(&mut inventory, "s3", "us-east-1", "ListObjectsV2", Some(name));
            read(&mut inventory, "s3", "us-east-1", "GetObject", Some(&format!("{name}/data.csv")));
        }
        let check = &BUCKET_SAMPLED_OBJECTS_NO_SENSITIVE_DATA;
        assert_eq!(statuses(&run(check, &inventory)), vec![("bad".to_string(), Status::Fail), ("good".to_string(), Status::Pass)]);
        inventory.ledger.calls.retain(|call| call.target.as_deref() != Some("good/data.csv"));
        record(&mut inventory, "s3", "us-east-1", "GetObject", Some("good/data.csv"), denied());
        let findings = run(check, &inventory);
        let good = findings.iter().find(|finding| finding.resource_id.as_ref() == "good").unwrap();
        assert_eq!(good.status, Status::Error);
        assert!(good.message.contains("GetObject"), "{}", good.message);
    }
}
