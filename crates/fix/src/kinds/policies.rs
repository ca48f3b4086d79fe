//! Resource policies and their neighbours: SQS queue attributes, SNS topic attributes, a
//! Secrets Manager secret's resource policy and an ECR repository's settings.

use serde_json::{Value, json};
use vigil_model::Inventory;
use vigil_model::messaging::Queue;
use vigil_model::monitoring::Topic;
use vigil_model::security::{Repository, Secret};

use super::{Kind, as_is};
use crate::iac::{self, Iac};
use crate::support::{flag, policy_text, regional, regional_mut, require};
use crate::{Call, FixError, Target};

fn policy_of(state: &Value, field: &str) -> Option<Value> {
    state.get(field).filter(|policy| !policy.is_null()).cloned()
}

// ---- SQS queue attributes ----

fn queue<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a Queue, FixError> {
    regional(inventory, &target.region)?
        .sqs_queues
        .iter()
        .find(|queue| queue.queue_arn == target.arn)
        .ok_or_else(|| FixError::NotFound(format!("queue `{}`", target.id)))
}

pub static QUEUE_ATTRIBUTES: Kind = Kind {
    id: "sqs-queue-attributes",
    title: "an SQS queue's access policy and encryption",
    service: "sqs",
    reads: &["sqs:ListQueues", "sqs:GetQueueAttributes"],
    writes: &["sqs:SetQueueAttributes"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        let queue = queue(inventory, target)?;
        require(inventory, "sqs", &target.region, "GetQueueAttributes", Some(&queue.queue_url))?;
        Ok(json!({
            "QueueUrl": queue.queue_url,
            "Policy": queue.policy,
            "SqsManagedSseEnabled": queue.sqs_managed_sse_enabled.unwrap_or(false),
            "KmsMasterKeyId": queue.kms_master_key_id,
        }))
    },
    set_state: |inventory, target, state| {
        let queue = regional_mut(inventory, &target.region)?
            .sqs_queues
            .iter_mut()
            .find(|queue| queue.queue_arn == target.arn)
            .ok_or_else(|| FixError::NotFound(format!("queue `{}`", target.id)))?;
        queue.policy = policy_of(state, "Policy");
        let sse = flag(state, "SqsManagedSseEnabled").unwrap_or(false);
        queue.sqs_managed_sse_enabled = Some(sse);
        queue.attributes.insert("SqsManagedSseEnabled".to_string(), sse.to_string());
        Ok(())
    },
    calls: |target, from, to| {
        let url = to.get("QueueUrl").and_then(Value::as_str).or_else(|| from.get("QueueUrl").and_then(Value::as_str)).unwrap_or_default();
        let mut attributes = serde_json::Map::new();
        if policy_of(from, "Policy") != policy_of(to, "Policy") {
            // An empty policy attribute removes the policy.
            attributes.insert("Policy".to_string(), json!(policy_of(to, "Policy").map(|policy| policy_text(&policy)).unwrap_or_default()));
        }
        if from.get("SqsManagedSseEnabled") != to.get("SqsManagedSseEnabled") {
            attributes.insert("SqsManagedSseEnabled".to_string(), json!(flag(to, "SqsManagedSseEnabled").unwrap_or(false).to_string()));
        }
        if attributes.is_empty() {
            return Ok(Vec::new());
        }
        // The queue's policy goes along unchanged: AWS keeps an attribute a call does not name,
        // but moto drops the policy then, and sending it again is a no-op on AWS.
        if let Some(policy) = policy_of(to, "Policy").filter(|_| !attributes.contains_key("Policy")) {
            attributes.insert("Policy".to_string(), json!(policy_text(&policy)));
        }
        Ok(vec![Call::new("sqs", "SetQueueAttributes", &target.region, json!({ "QueueUrl": url, "Attributes": attributes }))])
    },
    normalize: |state| json!({ "Policy": policy_of(state, "Policy"), "SqsManagedSseEnabled": flag(state, "SqsManagedSseEnabled").unwrap_or(false) }),
    iac: |target, after| {
        let policy = policy_of(after, "Policy");
        let sse = flag(after, "SqsManagedSseEnabled").unwrap_or(false);
        iac::resource_block(
            &format!("queue {}", target.id),
            "aws_sqs_queue",
            &[("sqs_managed_sse_enabled", json!(sse)), ("policy", json!(policy.as_ref().map(policy_text)))],
            "AWS::SQS::Queue",
            &[("SqsManagedSseEnabled", json!(sse)), ("(AWS::SQS::QueuePolicy) PolicyDocument", policy.unwrap_or(Value::Null))],
        )
    },
};

// ---- SNS topic attributes ----

fn topic<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a Topic, FixError> {
    regional(inventory, &target.region)?
        .sns_topics
        .iter()
        .find(|topic| topic.topic_arn == target.arn)
        .ok_or_else(|| FixError::NotFound(format!("topic `{}`", target.arn)))
}

pub static TOPIC_ATTRIBUTES: Kind = Kind {
    id: "sns-topic-attributes",
    title: "an SNS topic's access policy and encryption key",
    service: "sns",
    reads: &["sns:ListTopics", "sns:GetTopicAttributes"],
    writes: &["sns:SetTopicAttributes"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "sns", &target.region, "GetTopicAttributes", Some(&target.arn))?;
        let topic = topic(inventory, target)?;
        Ok(json!({ "Policy": topic.policy, "KmsMasterKeyId": topic.attributes.get("KmsMasterKeyId").filter(|key| !key.is_empty()) }))
    },
    set_state: |inventory, target, state| {
        let topic = regional_mut(inventory, &target.region)?
            .sns_topics
            .iter_mut()
            .find(|topic| topic.topic_arn == target.arn)
            .ok_or_else(|| FixError::NotFound(format!("topic `{}`", target.arn)))?;
        topic.policy = policy_of(state, "Policy");
        match state.get("KmsMasterKeyId").and_then(Value::as_str) {
            Some(key) => topic.attributes.insert("KmsMasterKeyId".to_string(), key.to_string()),
            None => topic.attributes.remove("KmsMasterKeyId"),
        };
        Ok(())
    },
    calls: |target, from, to| {
        let mut calls = Vec::new();
        if policy_of(from, "Policy") != policy_of(to, "Policy") {
            let policy = policy_of(to, "Policy").ok_or_else(|| FixError::Declined(format!("topic `{}` must keep an access policy", target.arn)))?;
            calls.push(Call::new(
                "sns",
                "SetTopicAttributes",
                &target.region,
                json!({ "TopicArn": target.arn, "AttributeName": "Policy", "AttributeValue": policy_text(&policy) }),
            ));
        }
        if from.get("KmsMasterKeyId") != to.get("KmsMasterKeyId") {
            let key = to.get("KmsMasterKeyId").and_then(Value::as_str).unwrap_or_default();
            calls.push(Call::new(
                "sns",
                "SetTopicAttributes",
                &target.region,
                json!({ "TopicArn": target.arn, "AttributeName": "KmsMasterKeyId", "AttributeValue": key }),
            ));
        }
        Ok(calls)
    },
    normalize: |state| json!({ "Policy": policy_of(state, "Policy"), "KmsMasterKeyId": state.get("KmsMasterKeyId").filter(|key| !key.is_null()) }),
    iac: |target, after| {
        let policy = policy_of(after, "Policy");
        let key = after.get("KmsMasterKeyId").cloned().unwrap_or(Value::Null);
        iac::resource_block(
            &format!("topic {}", target.id),
            "aws_sns_topic",
            &[("kms_master_key_id", key.clone()), ("policy", json!(policy.as_ref().map(policy_text)))],
            "AWS::SNS::Topic",
            &[("KmsMasterKeyId", key), ("(AWS::SNS::TopicPolicy) PolicyDocument", policy.unwrap_or(Value::Null))],
        )
    },
};

/// The access policy SNS gives a new topic: only the owning account may use it.
pub(crate) fn default_topic_policy(topic_arn: &str, account_id: &str) -> Value {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
                "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": topic_arn,
            "Condition": { "StringEquals": { "AWS:SourceOwner": account_id } }
        }]
    })
}

// ---- Secrets Manager resource policy ----

fn secret<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a Secret, FixError> {
    regional(inventory, &target.region)?
        .secrets
        .iter()
        .find(|secret| secret.arn == target.arn)
        .ok_or_else(|| FixError::NotFound(format!("secret `{}`", target.id)))
}

pub static SECRET_POLICY: Kind = Kind {
    id: "secretsmanager-resource-policy",
    title: "the resource policy of a Secrets Manager secret",
    service: "secretsmanager",
    reads: &["secretsmanager:ListSecrets", "secretsmanager:GetResourcePolicy"],
    writes: &["secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "secretsmanager", &target.region, "GetResourcePolicy", Some(&target.arn))?;
        Ok(json!({ "ResourcePolicy": secret(inventory, target)?.policy }))
    },
    set_state: |inventory, target, state| {
        let secret = regional_mut(inventory, &target.region)?
            .secrets
            .iter_mut()
            .find(|secret| secret.arn == target.arn)
            .ok_or_else(|| FixError::NotFound(format!("secret `{}`", target.id)))?;
        secret.policy = policy_of(state, "ResourcePolicy");
        Ok(())
    },
    calls: |target, from, to| {
        if policy_of(from, "ResourcePolicy") == policy_of(to, "ResourcePolicy") {
            return Ok(Vec::new());
        }
        Ok(vec![match policy_of(to, "ResourcePolicy") {
            Some(policy) => {
                Call::new("secretsmanager", "PutResourcePolicy", &target.region, json!({ "SecretId": target.arn, "ResourcePolicy": policy_text(&policy) }))
            }
            None => Call::new("secretsmanager", "DeleteResourcePolicy", &target.region, json!({ "SecretId": target.arn })),
        }])
    },
    normalize: as_is,
    iac: |target, after| match policy_of(after, "ResourcePolicy") {
        Some(policy) => iac::resource_block(
            &format!("secret {}", target.id),
            "aws_secretsmanager_secret_policy",
            &[("secret_arn", json!(target.arn)), ("policy", json!(policy_text(&policy)))],
            "AWS::SecretsManager::ResourcePolicy",
            &[("SecretId", json!(target.arn)), ("ResourcePolicy", policy)],
        ),
        None => Iac {
            terraform: format!("# secret {}: remove its aws_secretsmanager_secret_policy resource\n", target.id),
            cloudformation: format!("# secret {}: remove its AWS::SecretsManager::ResourcePolicy resource\n", target.id),
        },
    },
};

// ---- ECR repository settings ----

fn repository<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a Repository, FixError> {
    regional(inventory, &target.region)?
        .ecr_repositories
        .iter()
        .find(|repository| repository.repository_name == target.id)
        .ok_or_else(|| FixError::NotFound(format!("repository `{}`", target.id)))
}

pub static REPOSITORY_SETTINGS: Kind = Kind {
    id: "ecr-repository-settings",
    title: "an ECR repository's policy, scan on push and tag mutability",
    service: "ecr",
    reads: &["ecr:DescribeRepositories", "ecr:GetRepositoryPolicy"],
    writes: &["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "ecr", &target.region, "DescribeRepositories", None)?;
        require(inventory, "ecr", &target.region, "GetRepositoryPolicy", Some(&target.id))?;
        let repository = repository(inventory, target)?;
        Ok(json!({ "Policy": repository.policy, "ScanOnPush": repository.scan_on_push, "ImageTagMutability": repository.image_tag_mutability }))
    },
    set_state: |inventory, target, state| {
        let repository = regional_mut(inventory, &target.region)?
            .ecr_repositories
            .iter_mut()
            .find(|repository| repository.repository_name == target.id)
            .ok_or_else(|| FixError::NotFound(format!("repository `{}`", target.id)))?;
        repository.policy = policy_of(state, "Policy");
        repository.scan_on_push = flag(state, "ScanOnPush").unwrap_or(repository.scan_on_push);
        repository.image_tag_mutability =
            state.get("ImageTagMutability").and_then(Value::as_str).map(str::to_string).or(repository.image_tag_mutability.take());
        Ok(())
    },
    calls: |target, from, to| {
        let mut calls = Vec::new();
        if policy_of(from, "Policy") != policy_of(to, "Policy") {
            calls.push(match policy_of(to, "Policy") {
                Some(policy) => {
                    Call::new("ecr", "SetRepositoryPolicy", &target.region, json!({ "repositoryName": target.id, "policyText": policy_text(&policy) }))
                }
                None => Call::new("ecr", "DeleteRepositoryPolicy", &target.region, json!({ "repositoryName": target.id })),
            });
        }
        if from.get("ScanOnPush") != to.get("ScanOnPush") {
            calls.push(Call::new(
                "ecr",
                "PutImageScanningConfiguration",
                &target.region,
                json!({ "repositoryName": target.id, "imageScanningConfiguration": { "scanOnPush": flag(to, "ScanOnPush").unwrap_or(false) } }),
            ));
        }
        if from.get("ImageTagMutability") != to.get("ImageTagMutability")
            && let Some(mutability) = to.get("ImageTagMutability").and_then(Value::as_str)
        {
            calls.push(Call::new("ecr", "PutImageTagMutability", &target.region, json!({ "repositoryName": target.id, "imageTagMutability": mutability })));
        }
        Ok(calls)
    },
    normalize: as_is,
    iac: |target, after| {
        let scan = after.get("ScanOnPush").cloned().unwrap_or(Value::Null);
        let mutability = after.get("ImageTagMutability").cloned().unwrap_or(Value::Null);
        let mut iac = iac::resource_block(
            &format!("repository {}", target.id),
            "aws_ecr_repository",
            &[("image_tag_mutability", mutability.clone()), ("image_scanning_configuration", json!({ "scan_on_push": scan }))],
            "AWS::ECR::Repository",
            &[
                ("ImageTagMutability", mutability),
                ("ImageScanningConfiguration", json!({ "ScanOnPush": scan })),
                ("RepositoryPolicyText", policy_of(after, "Policy").unwrap_or(Value::Null)),
            ],
        );
        match policy_of(after, "Policy") {
            Some(policy) => iac.terraform.push_str(&format!(
                "# and its aws_ecr_repository_policy:\nresource \"aws_ecr_repository_policy\" \"policy\" {{\n  repository = {}\n  policy = {}\n}}\n",
                json!(target.id),
                json!(policy_text(&policy))
            )),
            None => iac.terraform.push_str("# and remove its aws_ecr_repository_policy resource, if any\n"),
        }
        iac
    },
};
