//! Account-wide service checks: AWS Config delivery and health, KMS key policies and pending
//! deletions, SNS topic encryption, policies and subscriptions, CloudWatch Logs retention and
//! encryption, and AWS Organizations membership.

use serde_json::{Value, json};
use vigil_model::Region;
use vigil_model::monitoring::Topic;
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::logging::{KEYS, RECORDERS};
use super::support::{denies_insecure_transport, each_resource, public_statements, regional, when};
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The SNS topics of each region.
const TOPICS: &[Read] = &[Read::regional("sns", "ListTopics")];
/// The CloudWatch Logs log groups of each region.
const LOG_GROUPS: &[Read] = &[Read::regional("logs", "DescribeLogGroups")];

pub static CONFIG_DELIVERY_CHANNEL: FnCheck = FnCheck {
    metadata: Metadata {
        id: "config_delivery_channel_configured",
        title: "AWS Config has a delivery channel in every region",
        service: "config",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "A recorder without a delivery channel records nothing durable: configuration history and snapshots never reach S3.",
        remediation: Remediation {
            text: "Create a delivery channel to an S3 bucket (optionally with an SNS topic) in every region where Config records.",
            cli: "aws configservice put-delivery-channel --delivery-channel name=default,s3BucketName=CONFIG_BUCKET",
            terraform: "resource \"aws_config_delivery_channel\" \"default\" {\n  s3_bucket_name = aws_s3_bucket.config.id\n  depends_on     = [aws_config_configuration_recorder.default]\n}",
        },
        references: &["https://docs.aws.amazon.com/config/latest/developerguide/manage-delivery-channel.html"],
        frameworks: &[("cis-aws-5.0", "3.3"), ("aws-fsbp", "Config.1"), ("nist-800-53-r5", "CM-8")],
        reads: &[Read::regional("config", "DescribeDeliveryChannels")],
    },
    run: config_delivery_channel,
};

fn config_delivery_channel(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for region in &context.inventory.regions {
        let region = region.as_str();
        let subject = context.region_subject(region);
        let channels = regional(context, region).map(|regional| regional.delivery_channels.as_slice()).unwrap_or_default();
        findings.push(context.decide(metadata, &subject, &[], || {
            let buckets: Vec<&str> = channels.iter().filter_map(|channel| channel.s3_bucket_name.as_deref()).collect();
            let message = if buckets.is_empty() {
                format!("AWS Config has no delivery channel to S3 in {region}.")
            } else {
                format!("AWS Config delivers to `{}` in {region}.", buckets.join("`, `"))
            };
            (!buckets.is_empty(), message, json!({ "DeliveryChannels": channels }))
        }));
    }
}

pub static CONFIG_RECORDER_HEALTHY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "config_recorder_healthy_with_global_resources",
        title: "An AWS Config recorder records global resources (IAM) and its last recording succeeded",
        service: "config",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "If no recorder includes global resource types, IAM changes have no configuration history; a failing recorder records nothing while looking enabled.",
        remediation: Remediation {
            text: "Include global resource types in one region's recorder (or record IAM resource types explicitly) and fix the recorder's role if the last status is Failure.",
            cli: "aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=ROLE --recording-group allSupported=true,includeGlobalResourceTypes=true\naws configservice describe-configuration-recorder-status",
            terraform: "resource \"aws_config_configuration_recorder\" \"default\" {\n  role_arn = aws_iam_role.config.arn\n  recording_group {\n    all_supported                 = true\n    include_global_resource_types = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html"],
        frameworks: &[("cis-aws-5.0", "3.3"), ("nist-800-53-r5", "CM-8")],
        reads: RECORDERS,
    },
    run: config_recorder_healthy,
};

fn config_recorder_healthy(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let inventory = context.inventory;
    findings.push(context.decide(metadata, &subject, &[], || {
        let recorders: Vec<(&Region, &vigil_model::monitoring::ConfigurationRecorder)> =
            inventory.regional.iter().flat_map(|(region, regional)| regional.configuration_recorders.iter().map(move |recorder| (region, recorder))).collect();
        let global = recorders.iter().any(|(_, recorder)| {
            recorder.recording && (recorder.include_global_resource_types || recorder.resource_types.iter().any(|kind| kind.starts_with("AWS::IAM::")))
        });
        let failing: Vec<String> = recorders
            .iter()
            .filter(|(_, recorder)| recorder.recording && recorder.last_status.as_deref().is_some_and(|status| status.eq_ignore_ascii_case("failure")))
            .map(|(region, recorder)| format!("{}/{}", region.as_str(), recorder.name))
            .collect();
        let message = match (global, failing.is_empty()) {
            (true, true) => "A recorder records global resources and no recorder is failing.".to_string(),
            (false, _) => "No recording AWS Config recorder includes global resources such as IAM.".to_string(),
            (true, false) => format!("Recorder(s) {} report a failed last recording.", failing.join(", ")),
        };
        (global && failing.is_empty(), message, json!({ "RecordsGlobalResources": global, "FailingRecorders": failing }))
    }));
}

pub static KMS_KEY_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "kms_key_policy_not_public",
        title: "KMS key policies do not allow everyone",
        service: "kms",
        resource_type: "AWS::KMS::Key",
        severity: Severity::Critical,
        risk: "A key policy that allows Principal \"*\" without a narrowing condition lets any AWS account use (or manage) the key, and decrypt what it protects.",
        remediation: Remediation {
            text: "Replace the wildcard principal with the account or roles that need the key, or add conditions such as kms:CallerAccount or aws:PrincipalOrgID.",
            cli: "aws kms get-key-policy --key-id KEY_ID --policy-name default\naws kms put-key-policy --key-id KEY_ID --policy-name default --policy file://policy.json",
            terraform: "data \"aws_iam_policy_document\" \"key\" {\n  statement {\n    actions   = [\"kms:*\"]\n    resources = [\"*\"]\n    principals {\n      type        = \"AWS\"\n      identifiers = [\"arn:aws:iam::ACCOUNT:root\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html"],
        frameworks: &[("aws-fsbp", "KMS.5"), ("pci-dss-4.0", "3.6.1"), ("nist-800-53-r5", "AC-3")],
        reads: KEYS,
    },
    run: kms_key_not_public,
};

fn kms_key_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::KMS::Key", |resource, subject, findings| {
        let ResourceData::KmsKey(key) = resource.data else { return };
        // Who manages the key is in DescribeKey's answer: unread, the key is an ERROR.
        if let Err(unread) = context.require(&[Needs::call("kms", resource.region, "DescribeKey").on(&key.key_id)]) {
            findings.push(context.unread(metadata, subject, unread));
            return;
        }
        if key.key_manager.as_deref() == Some("AWS") {
            return;
        }
        let needs = [Needs::call("kms", resource.region, "GetKeyPolicy").on(&key.key_id)];
        findings.push(context.decide_or_error(metadata, subject, &needs, || {
            let public = match &key.policy {
                Some(policy) => public_statements(context, policy, &key.arn)?,
                None => Vec::new(),
            };
            let message = if public.is_empty() {
                format!("Key `{}` policy does not allow everyone.", key.key_id)
            } else {
                format!("Key `{}` policy allows everyone.", key.key_id)
            };
            Ok((public.is_empty(), message, json!({ "PublicStatements": public })))
        }));
    });
}

pub static KMS_KEY_NOT_PENDING_DELETION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "kms_key_not_pending_deletion",
        title: "Customer managed KMS keys are not scheduled for deletion",
        service: "kms",
        resource_type: "AWS::KMS::Key",
        severity: Severity::High,
        risk: "When the waiting period ends, the key and every piece of data encrypted under it are gone for good; an unexpected deletion schedule may be sabotage.",
        remediation: Remediation {
            text: "Confirm the deletion is intended; otherwise cancel it and re-enable the key.",
            cli: "aws kms cancel-key-deletion --key-id KEY_ID\naws kms enable-key --key-id KEY_ID",
            terraform: "resource \"aws_kms_key\" \"key\" {\n  deletion_window_in_days = 30\n  lifecycle {\n    prevent_destroy = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"],
        frameworks: &[("aws-fsbp", "KMS.3"), ("nist-800-53-r5", "SC-12")],
        reads: KEYS,
    },
    run: kms_key_not_pending_deletion,
};

fn kms_key_not_pending_deletion(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::KMS::Key", |resource, subject, findings| {
        let ResourceData::KmsKey(key) = resource.data else { return };
        if let Err(unread) = context.require(&[Needs::call("kms", resource.region, "DescribeKey").on(&key.key_id)]) {
            findings.push(context.unread(metadata, subject, unread));
            return;
        }
        if key.key_manager.as_deref() == Some("AWS") {
            return;
        }
        let needs = [Needs::call("kms", resource.region, "DescribeKey").on(&key.key_id)];
        findings.push(context.decide(metadata, subject, &needs, || {
            let pending = key.key_state.as_deref() == Some("PendingDeletion");
            let message = if pending {
                format!("Key `{}` is scheduled for deletion.", key.key_id)
            } else {
                format!("Key `{}` is not scheduled for deletion ({}).", key.key_id, key.key_state.as_deref().unwrap_or("unknown state"))
            };
            (!pending, message, json!({ "KeyState": key.key_state, "DeletionDate": when(key.deletion_date.as_ref()) }))
        }));
    });
}

/// Assesses every SNS topic whose attributes were read.
fn each_topic(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    operation: &str,
    judge: impl Fn(&Topic) -> Result<(bool, String, Value), Unread>,
) {
    each_resource(context, findings, "AWS::SNS::Topic", |resource, subject, findings| {
        let ResourceData::Topic(topic) = resource.data else { return };
        let needs = [Needs::call("sns", resource.region, operation).on(&topic.topic_arn)];
        findings.push(context.decide_or_error(metadata, subject, &needs, || judge(topic)));
    });
}

pub static SNS_TOPIC_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sns_topic_encrypted_at_rest",
        title: "SNS topics encrypt messages at rest with KMS",
        service: "sns",
        resource_type: "AWS::SNS::Topic",
        severity: Severity::Medium,
        risk: "Messages waiting for delivery are stored unencrypted unless the topic has a KMS key.",
        remediation: Remediation {
            text: "Set KmsMasterKeyId on the topic (a customer managed key, whose policy lets publishers use it).",
            cli: "aws sns set-topic-attributes --topic-arn TOPIC_ARN --attribute-name KmsMasterKeyId --attribute-value alias/aws/sns",
            terraform: "resource \"aws_sns_topic\" \"alerts\" {\n  kms_master_key_id = aws_kms_key.sns.id\n}",
        },
        references: &["https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html"],
        frameworks: &[("aws-securityhub", "SNS.1"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: TOPICS,
    },
    run: sns_topic_encrypted,
};

fn sns_topic_encrypted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_topic(metadata, context, findings, "GetTopicAttributes", |topic| {
        let key = topic.attributes.get("KmsMasterKeyId").filter(|key| !key.is_empty());
        let message = match key {
            Some(key) => format!("Topic `{}` encrypts with `{key}`.", topic.topic_arn),
            None => format!("Topic `{}` is not encrypted at rest.", topic.topic_arn),
        };
        Ok((key.is_some(), message, json!({ "KmsMasterKeyId": key })))
    });
}

pub static SNS_TOPIC_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sns_topic_policy_not_public",
        title: "SNS topic policies do not allow everyone",
        service: "sns",
        resource_type: "AWS::SNS::Topic",
        severity: Severity::High,
        risk: "A topic policy that allows Principal \"*\" without a narrowing condition lets anyone publish (spam, fake alerts) or subscribe and read every message.",
        remediation: Remediation {
            text: "Replace the wildcard principal with the accounts or services that need access, or add conditions such as aws:SourceAccount or aws:SourceArn.",
            cli: "aws sns set-topic-attributes --topic-arn TOPIC_ARN --attribute-name Policy --attribute-value file://policy.json",
            terraform: "resource \"aws_sns_topic_policy\" \"alerts\" {\n  arn    = aws_sns_topic.alerts.arn\n  policy = data.aws_iam_policy_document.alerts.json\n}",
        },
        references: &["https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html"],
        frameworks: &[("aws-fsbp", "SNS.4"), ("nist-800-53-r5", "AC-3")],
        reads: TOPICS,
    },
    run: sns_topic_not_public,
};

fn sns_topic_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_topic(metadata, context, findings, "GetTopicAttributes", |topic| {
        let public = match &topic.policy {
            Some(policy) => public_statements(context, policy, &topic.topic_arn)?,
            None => Vec::new(),
        };
        let message = if public.is_empty() {
            format!("Topic `{}` policy does not allow everyone.", topic.topic_arn)
        } else {
            format!("Topic `{}` policy allows everyone.", topic.topic_arn)
        };
        Ok((public.is_empty(), message, json!({ "PublicStatements": public })))
    });
}

pub static SNS_TOPIC_HTTPS_ONLY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sns_topic_secure_transport_required",
        title: "SNS topic policies deny publishing without TLS",
        service: "sns",
        resource_type: "AWS::SNS::Topic",
        severity: Severity::Low,
        risk: "Without a Deny on aws:SecureTransport false, clients may publish over plain HTTP and expose message contents in transit.",
        remediation: Remediation {
            text: "Add a Deny statement for all principals on sns:Publish with the condition aws:SecureTransport = false.",
            cli: "aws sns set-topic-attributes --topic-arn TOPIC_ARN --attribute-name Policy --attribute-value file://policy-with-tls-deny.json",
            terraform: "statement {\n  effect    = \"Deny\"\n  actions   = [\"sns:Publish\"]\n  resources = [aws_sns_topic.alerts.arn]\n  principals {\n    type        = \"*\"\n    identifiers = [\"*\"]\n  }\n  condition {\n    test     = \"Bool\"\n    variable = \"aws:SecureTransport\"\n    values   = [\"false\"]\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html#enforce-encryption-data-in-transit"],
        frameworks: &[("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: TOPICS,
    },
    run: sns_topic_https_only,
};

fn sns_topic_https_only(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_topic(metadata, context, findings, "GetTopicAttributes", |topic| {
        let denies = match &topic.policy {
            Some(policy) => denies_insecure_transport(context, policy, &topic.topic_arn, "sns:Publish", &[&topic.topic_arn])?,
            None => false,
        };
        let message = if denies {
            format!("Topic `{}` policy denies publishing without TLS.", topic.topic_arn)
        } else {
            format!("Topic `{}` policy does not deny publishing without TLS.", topic.topic_arn)
        };
        Ok((denies, message, json!({ "Policy": topic.policy })))
    });
}

pub static SNS_SUBSCRIPTIONS_HTTPS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sns_subscription_no_plain_http",
        title: "SNS topics deliver to no plain-HTTP subscription",
        service: "sns",
        resource_type: "AWS::SNS::Topic",
        severity: Severity::Medium,
        risk: "An `http` subscription delivers every message in clear text across the internet.",
        remediation: Remediation {
            text: "Replace `http` subscriptions with `https` endpoints.",
            cli: "aws sns unsubscribe --subscription-arn SUBSCRIPTION_ARN\naws sns subscribe --topic-arn TOPIC_ARN --protocol https --notification-endpoint https://example.com/hook",
            terraform: "resource \"aws_sns_topic_subscription\" \"hook\" {\n  topic_arn = aws_sns_topic.alerts.arn\n  protocol  = \"https\"\n  endpoint  = \"https://example.com/hook\"\n}",
        },
        references: &["https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html"],
        frameworks: &[("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: TOPICS,
    },
    run: sns_subscriptions_https,
};

fn sns_subscriptions_https(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_topic(metadata, context, findings, "ListSubscriptionsByTopic", |topic| {
        let plain: Vec<&str> = topic
            .subscriptions
            .iter()
            .filter(|subscription| subscription.protocol.eq_ignore_ascii_case("http"))
            .filter_map(|subscription| subscription.endpoint.as_deref())
            .collect();
        let message = if plain.is_empty() {
            format!("Topic `{}` has no plain-HTTP subscription.", topic.topic_arn)
        } else {
            format!("Topic `{}` delivers to {} plain-HTTP endpoint(s).", topic.topic_arn, plain.len())
        };
        Ok((plain.is_empty(), message, json!({ "HttpEndpoints": plain })))
    });
}

pub static LOG_GROUP_RETENTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "logs_log_group_retention_at_least_365_days",
        title: "CloudWatch log groups keep logs for at least 365 days",
        service: "logs",
        resource_type: "AWS::Logs::LogGroup",
        severity: Severity::Low,
        risk: "Breaches are found months after they start; logs expired before then cannot be investigated (policy parameter `min_log_retention_days`, default 365; never-expire passes).",
        remediation: Remediation {
            text: "Set the retention to at least a year, or archive logs to S3 before they expire.",
            cli: "aws logs put-retention-policy --log-group-name LOG_GROUP --retention-in-days 365",
            terraform: "resource \"aws_cloudwatch_log_group\" \"app\" {\n  retention_in_days = 365\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention"],
        frameworks: &[("aws-securityhub", "CloudWatch.16"), ("pci-dss-4.0", "10.5.1"), ("nist-800-53-r5", "AU-11")],
        reads: LOG_GROUPS,
    },
    run: log_group_retention,
};

fn log_group_retention(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::Logs::LogGroup", |resource, subject, findings| {
        let ResourceData::LogGroup(group) = resource.data else { return };
        let minimum = context.number(subject, "min_log_retention_days", 365);
        findings.push(context.decide(metadata, subject, &[], || {
            let good = group.retention_in_days.is_none_or(|days| i64::from(days) >= minimum);
            let message = match group.retention_in_days {
                None => format!("Log group `{}` never expires its logs.", group.log_group_name),
                Some(days) => format!("Log group `{}` keeps logs for {days} days (minimum {minimum}).", group.log_group_name),
            };
            (good, message, json!({ "RetentionInDays": group.retention_in_days, "min_log_retention_days": minimum }))
        }));
    });
}

pub static LOG_GROUP_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "logs_log_group_kms_encrypted",
        title: "CloudWatch log groups are encrypted with a KMS key",
        service: "logs",
        resource_type: "AWS::Logs::LogGroup",
        severity: Severity::Low,
        risk: "Logs often carry tokens and personal data; a customer managed key adds a second permission (the key policy) to read them.",
        remediation: Remediation {
            text: "Associate a KMS key with the log group (the key policy must allow the CloudWatch Logs service principal).",
            cli: "aws logs associate-kms-key --log-group-name LOG_GROUP --kms-key-id KEY_ARN",
            terraform: "resource \"aws_cloudwatch_log_group\" \"app\" {\n  kms_key_id = aws_kms_key.logs.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"],
        frameworks: &[("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: LOG_GROUPS,
    },
    run: log_group_encrypted,
};

fn log_group_encrypted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::Logs::LogGroup", |resource, subject, findings| {
        let ResourceData::LogGroup(group) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let message = match &group.kms_key_id {
                Some(key) => format!("Log group `{}` is encrypted with `{key}`.", group.log_group_name),
                None => format!("Log group `{}` is not encrypted with a KMS key.", group.log_group_name),
            };
            (group.kms_key_id.is_some(), message, json!({ "KmsKeyId": group.kms_key_id }))
        }));
    });
}

pub static ORGANIZATION_MEMBER: FnCheck = FnCheck {
    metadata: Metadata {
        id: "organizations_account_is_member",
        title: "The account belongs to an AWS Organizations organization with all features",
        service: "organizations",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "A stand-alone account cannot be governed by service control policies, centralized logging or delegated security services; consolidated billing alone gives no SCPs.",
        remediation: Remediation {
            text: "Invite the account into the organization and enable all features so that SCPs and delegated administrators apply.",
            cli: "aws organizations describe-organization\naws organizations enable-all-features",
            terraform: "resource \"aws_organizations_organization\" \"org\" {\n  feature_set = \"ALL\"\n}",
        },
        references: &["https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_org_support-all-features.html"],
        frameworks: &[("aws-securityhub", "Account.2"), ("nist-800-53-r5", "CM-2")],
        reads: &[Read::global("organizations", "DescribeOrganization")],
    },
    run: organization_member,
};

fn organization_member(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let organization = context.inventory.account.organization.as_ref();
    findings.push(context.decide(metadata, &subject, &[], || {
        let all_features = organization.is_some_and(|organization| organization.feature_set.as_deref() == Some("ALL"));
        let message = match organization {
            None => "The account is not a member of an AWS Organizations organization.".to_string(),
            Some(organization) if all_features => format!("The account belongs to organization `{}` with all features.", organization.id),
            Some(organization) => format!("Organization `{}` has only consolidated billing features.", organization.id),
        };
        (all_features, message, json!({ "Organization": organization }))
    }));
}

#[cfg(test)]
mod tests {
    use vigil_model::Outcome;
    use vigil_model::inventory::Organization;
    use vigil_model::monitoring::{ConfigurationRecorder, DeliveryChannel, KmsKey, LogGroup, Subscription};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    const REGION: &str = "us-east-1";

    fn regional_mut(inventory: &mut vigil_model::Inventory) -> &mut vigil_model::inventory::RegionalInventory {
        inventory.regional.get_mut(&REGION.into()).unwrap()
    }

    #[test]
    fn config_delivery_and_recorder_health_are_judged_and_unread_calls_error() {
        let mut inventory = inventory();
        for operation in ["DescribeDeliveryChannels", "DescribeConfigurationRecorders", "DescribeConfigurationRecorderStatus"] {
            read(&mut inventory, "config", REGION, operation, None);
        }
        assert_eq!(run(&CONFIG_DELIVERY_CHANNEL, &inventory)[0].status, Status::Fail);
        assert_eq!(run(&CONFIG_RECORDER_HEALTHY, &inventory)[0].status, Status::Fail);
        let regional = regional_mut(&mut inventory);
        regional.delivery_channels = vec![DeliveryChannel { name: "default".into(), s3_bucket_name: Some("config".into()), ..Default::default() }];
        regional.configuration_recorders = vec![ConfigurationRecorder {
            name: "default".into(),
            all_supported: true,
            include_global_resource_types: true,
            recording: true,
            last_status: Some("SUCCESS".into()),
            ..Default::default()
        }];
        assert_eq!(run(&CONFIG_DELIVERY_CHANNEL, &inventory)[0].status, Status::Pass);
        assert_eq!(run(&CONFIG_RECORDER_HEALTHY, &inventory)[0].status, Status::Pass);
        regional_mut(&mut inventory).configuration_recorders[0].last_status = Some("FAILURE".into());
        assert_eq!(run(&CONFIG_RECORDER_HEALTHY, &inventory)[0].status, Status::Fail);
        inventory.ledger.calls.clear();
        record(&mut inventory, "config", REGION, "DescribeDeliveryChannels", None, denied());
        assert_eq!(run(&CONFIG_DELIVERY_CHANNEL, &inventory)[0].status, Status::Error);
        assert_eq!(run(&CONFIG_RECORDER_HEALTHY, &inventory)[0].status, Status::Error);
    }

    #[test]
    fn kms_key_policies_and_deletion_schedules_are_judged_per_customer_key() {
        let mut inventory = inventory();
        read(&mut inventory, "kms", REGION, "ListKeys", None);
        let key = |id: &str, manager: &str, state: &str, policy: Value| KmsKey {
            key_id: id.into(),
            arn: format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}"),
            key_manager: Some(manager.into()),
            key_state: Some(state.into()),
            policy: Some(policy),
            ..Default::default()
        };
        let private =
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
        let public = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]});
        regional_mut(&mut inventory).kms_keys = vec![
            key("good", "CUSTOMER", "Enabled", private.clone()),
            key("bad", "CUSTOMER", "PendingDeletion", public),
            key("aws", "AWS", "Enabled", private.clone()),
            key("denied", "CUSTOMER", "Enabled", private),
        ];
        for id in ["good", "bad", "aws"] {
            read(&mut inventory, "kms", REGION, "GetKeyPolicy", Some(id));
            read(&mut inventory, "kms", REGION, "DescribeKey", Some(id));
        }
        record(&mut inventory, "kms", REGION, "GetKeyPolicy", Some("denied"), denied());
        record(&mut inventory, "kms", REGION, "DescribeKey", Some("denied"), denied());
        let expected = vec![("bad".into(), Status::Fail), ("denied".into(), Status::Error), ("good".into(), Status::Pass)];
        assert_eq!(statuses(&run(&KMS_KEY_NOT_PUBLIC, &inventory)), expected);
        assert_eq!(statuses(&run(&KMS_KEY_NOT_PENDING_DELETION, &inventory)), expected);
    }

    #[test]
    fn sns_topic_checks_fail_the_bad_twin_and_error_when_attributes_were_denied() {
        let mut inventory = inventory();
        read(&mut inventory, "sns", REGION, "ListTopics", None);
        let arn = |name: &str| format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}");
        let tls_deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        let public = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe", "Resource": "*"}]});
        let subscription = |protocol: &str| Subscription {
            subscription_arn: format!("{}:1", arn("x")),
            protocol: protocol.into(),
            endpoint: Some(format!("{protocol}://example.com")),
            owner: None,
        };
        regional_mut(&mut inventory).sns_topics = vec![
            Topic {
                topic_arn: arn("good"),
                attributes: [("KmsMasterKeyId".to_string(), "alias/aws/sns".to_string())].into_iter().collect(),
                policy: Some(tls_deny),
                subscriptions: vec![subscription("https")],
                ..Default::default()
            },
            Topic { topic_arn: arn("bad"), policy: Some(public), subscriptions: vec![subscription("http")], ..Default::default() },
            Topic { topic_arn: arn("denied"), ..Default::default() },
        ];
        for name in ["good", "bad"] {
            read(&mut inventory, "sns", REGION, "GetTopicAttributes", Some(&arn(name)));
            read(&mut inventory, "sns", REGION, "ListSubscriptionsByTopic", Some(&arn(name)));
        }
        record(&mut inventory, "sns", REGION, "GetTopicAttributes", Some(&arn("denied")), denied());
        record(&mut inventory, "sns", REGION, "ListSubscriptionsByTopic", Some(&arn("denied")), denied());
        let expected = vec![(arn("bad"), Status::Fail), (arn("denied"), Status::Error), (arn("good"), Status::Pass)];
        for check in [&SNS_TOPIC_ENCRYPTED, &SNS_TOPIC_NOT_PUBLIC, &SNS_TOPIC_HTTPS_ONLY, &SNS_SUBSCRIPTIONS_HTTPS] {
            assert_eq!(statuses(&run(check, &inventory)), expected, "{}", check.metadata.id);
        }
    }

    #[test]
    fn log_groups_need_retention_and_a_key_and_an_unread_listing_errors() {
        let mut inventory = inventory();
        read(&mut inventory, "logs", REGION, "DescribeLogGroups", None);
        regional_mut(&mut inventory).log_groups = vec![
            LogGroup {
                log_group_name: "good".into(),
                retention_in_days: Some(400),
                kms_key_id: Some("arn:aws:kms:us-east-1:1:key/k".into()),
                ..Default::default()
            },
            LogGroup { log_group_name: "bad".into(), retention_in_days: Some(30), ..Default::default() },
        ];
        let expected = vec![("bad".into(), Status::Fail), ("good".into(), Status::Pass)];
        assert_eq!(statuses(&run(&LOG_GROUP_RETENTION, &inventory)), expected);
        assert_eq!(statuses(&run(&LOG_GROUP_ENCRYPTED, &inventory)), expected);
        inventory.ledger.calls.clear();
        record(&mut inventory, "logs", REGION, "DescribeLogGroups", None, denied());
        assert_eq!(statuses(&run(&LOG_GROUP_RETENTION, &inventory)), vec![(ACCOUNT.into(), Status::Error)]);
    }

    #[test]
    fn organization_membership_needs_all_features() {
        let mut inventory = inventory();
        record(
            &mut inventory,
            "organizations",
            Region::GLOBAL,
            "DescribeOrganization",
            None,
            Outcome::NotConfigured { code: "AWSOrganizationsNotInUseException".into() },
        );
        assert_eq!(run(&ORGANIZATION_MEMBER, &inventory)[0].status, Status::Fail);
        inventory.account.organization = Some(Organization { id: "o-1".into(), feature_set: Some("CONSOLIDATED_BILLING".into()), ..Default::default() });
        assert_eq!(run(&ORGANIZATION_MEMBER, &inventory)[0].status, Status::Fail);
        inventory.account.organization = Some(Organization { id: "o-1".into(), feature_set: Some("ALL".into()), ..Default::default() });
        assert_eq!(run(&ORGANIZATION_MEMBER, &inventory)[0].status, Status::Pass);
        inventory.ledger.calls.clear();
        record(&mut inventory, "organizations", Region::GLOBAL, "DescribeOrganization", None, denied());
        assert_eq!(run(&ORGANIZATION_MEMBER, &inventory)[0].status, Status::Error);
    }
}
