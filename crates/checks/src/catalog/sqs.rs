//! SQS checks: encryption at rest, public access policies, HTTPS-only policies, dead-letter queues.

use serde_json::json;
use vigil_model::messaging::Queue;

use super::FnCheck;
use super::support::{denies_insecure_transport, public_statements};
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const QUEUES: &[Read] = &[Read::regional("sqs", "ListQueues")];

/// Runs `judge` over every queue whose region's listing was read; the needed per-queue call is
/// GetQueueAttributes.
fn each_queue(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: impl Fn(&Queue) -> Result<(bool, String, serde_json::Value), Unread>,
) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for queue in &regional.sqs_queues {
            let subject = context.item_subject(queue, || context.new_subject(&queue.queue_arn, "AWS::SQS::Queue", queue.name(), region, Some(&queue.tags)));
            let needs = [Needs::call("sqs", region, "GetQueueAttributes").on(&queue.queue_url)];
            findings.push(context.decide_or_error(metadata, &subject, &needs, || judge(queue)));
        }
    }
}

pub static QUEUE_ENCRYPTED_AT_REST: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sqs_queue_encrypted_at_rest",
        title: "SQS queues are encrypted at rest",
        service: "sqs",
        resource_type: "AWS::SQS::Queue",
        severity: Severity::Medium,
        risk: "Messages in an unencrypted queue are stored in plain text; anyone who obtains the underlying storage reads them.",
        remediation: Remediation {
            text: "Turn on server-side encryption: SSE-SQS (SqsManagedSseEnabled) or SSE-KMS with a KMS key (KmsMasterKeyId).",
            cli: "aws sqs set-queue-attributes --queue-url QUEUE_URL --attributes SqsManagedSseEnabled=true",
            terraform: "resource \"aws_sqs_queue\" \"queue\" {\n  sqs_managed_sse_enabled = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html"],
        frameworks: &[("aws-fsbp", "SQS.1"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: QUEUES,
    },
    run: queue_encrypted_at_rest,
};

fn queue_encrypted_at_rest(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_queue(metadata, context, findings, |queue| {
        let encrypted = queue.sqs_managed_sse_enabled == Some(true) || queue.kms_master_key_id.is_some();
        let message =
            if encrypted { format!("Queue `{}` is encrypted at rest.", queue.name()) } else { format!("Queue `{}` is not encrypted at rest.", queue.name()) };
        Ok((encrypted, message, json!({ "SqsManagedSseEnabled": queue.sqs_managed_sse_enabled, "KmsMasterKeyId": queue.kms_master_key_id })))
    });
}

pub static QUEUE_ENCRYPTED_WITH_CMK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sqs_queue_encrypted_with_cmk",
        title: "SQS queues are encrypted with a customer managed KMS key",
        service: "sqs",
        resource_type: "AWS::SQS::Queue",
        severity: Severity::Low,
        risk: "With SQS-owned or AWS managed keys you cannot restrict, audit or revoke decryption separately from queue access.",
        remediation: Remediation {
            text: "Encrypt the queue with a customer managed KMS key (KmsMasterKeyId that is not alias/aws/sqs).",
            cli: "aws sqs set-queue-attributes --queue-url QUEUE_URL --attributes KmsMasterKeyId=KEY_ARN",
            terraform: "resource \"aws_sqs_queue\" \"queue\" {\n  kms_master_key_id = aws_kms_key.queue.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"],
        frameworks: &[("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "SC-28")],
        reads: QUEUES,
    },
    run: queue_encrypted_with_cmk,
};

fn queue_encrypted_with_cmk(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_queue(metadata, context, findings, |queue| {
        let customer_key = queue.kms_master_key_id.as_deref().is_some_and(|key| key != "alias/aws/sqs");
        let message = if customer_key {
            format!("Queue `{}` is encrypted with a customer managed key.", queue.name())
        } else {
            format!("Queue `{}` is not encrypted with a customer managed KMS key.", queue.name())
        };
        Ok((customer_key, message, json!({ "SqsManagedSseEnabled": queue.sqs_managed_sse_enabled, "KmsMasterKeyId": queue.kms_master_key_id })))
    });
}

pub static QUEUE_POLICY_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sqs_queue_policy_not_public",
        title: "SQS queue policies do not allow access to everyone",
        service: "sqs",
        resource_type: "AWS::SQS::Queue",
        severity: Severity::Critical,
        risk: "A queue policy that allows Principal \"*\" without a narrowing condition lets anyone on the internet send, read or delete messages.",
        remediation: Remediation {
            text: "Replace Principal \"*\" with the accounts or services that need access, or add a condition on aws:SourceAccount, aws:SourceArn or aws:PrincipalOrgID.",
            cli: "aws sqs set-queue-attributes --queue-url QUEUE_URL --attributes file://policy-without-public-statements.json",
            terraform: "resource \"aws_sqs_queue_policy\" \"queue\" {\n  queue_url = aws_sqs_queue.queue.id\n  policy    = data.aws_iam_policy_document.queue_restricted.json\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-examples-of-sqs-policies.html"],
        frameworks: &[("aws-fsbp", "SQS.3"), ("pci-dss-4.0", "1.4.1"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-21")],
        reads: QUEUES,
    },
    run: queue_policy_not_public,
};

fn queue_policy_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_queue(metadata, context, findings, |queue| {
        let public = match &queue.policy {
            Some(policy) => public_statements(context, policy, &queue.queue_arn)?,
            None => Vec::new(),
        };
        let message = if public.is_empty() {
            format!("Queue `{}` does not allow access to everyone.", queue.name())
        } else {
            format!("Queue `{}` allows access to everyone in {} policy statement(s).", queue.name(), public.len())
        };
        Ok((public.is_empty(), message, json!({ "PublicStatements": public })))
    });
}

pub static QUEUE_HTTPS_ONLY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sqs_queue_https_only",
        title: "SQS queue policies deny requests that do not use TLS",
        service: "sqs",
        resource_type: "AWS::SQS::Queue",
        severity: Severity::Medium,
        risk: "Without a policy that denies aws:SecureTransport=false, clients may send and receive messages over plain HTTP, exposing them in transit.",
        remediation: Remediation {
            text: "Add a statement that denies sqs:* to every principal when aws:SecureTransport is false.",
            cli: "aws sqs set-queue-attributes --queue-url QUEUE_URL --attributes file://policy-with-secure-transport-deny.json",
            terraform: "data \"aws_iam_policy_document\" \"queue\" {\n  statement {\n    effect    = \"Deny\"\n    actions   = [\"sqs:*\"]\n    resources = [aws_sqs_queue.queue.arn]\n    principals {\n      type        = \"*\"\n      identifiers = [\"*\"]\n    }\n    condition {\n      test     = \"Bool\"\n      variable = \"aws:SecureTransport\"\n      values   = [\"false\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-security-best-practices.html"],
        frameworks: &[("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: QUEUES,
    },
    run: queue_https_only,
};

fn queue_https_only(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_queue(metadata, context, findings, |queue| {
        let denies = match &queue.policy {
            Some(policy) => denies_insecure_transport(context, policy, &queue.queue_arn, "sqs:VigilProbeAnyAction", &[&queue.queue_arn])?,
            None => false,
        };
        let message = if !denies {
            format!("Queue `{}` has no policy statement denying requests without TLS.", queue.name())
        } else {
            format!("Queue `{}` denies requests that do not use TLS.", queue.name())
        };
        Ok((denies, message, json!({ "Policy": queue.policy })))
    });
}

pub static QUEUE_HAS_DEAD_LETTER_QUEUE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "sqs_queue_has_dead_letter_queue",
        title: "SQS queues send unprocessable messages to a dead-letter queue",
        service: "sqs",
        resource_type: "AWS::SQS::Queue",
        severity: Severity::Low,
        risk: "Without a redrive policy, poison messages are retried until they expire and are lost without a trace.",
        remediation: Remediation {
            text: "Set a RedrivePolicy with a deadLetterTargetArn and a maxReceiveCount. Dead-letter queues themselves are exempt.",
            cli: "aws sqs set-queue-attributes --queue-url QUEUE_URL --attributes '{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"}'",
            terraform: "resource \"aws_sqs_queue\" \"queue\" {\n  redrive_policy = jsonencode({\n    deadLetterTargetArn = aws_sqs_queue.dlq.arn\n    maxReceiveCount     = 5\n  })\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"],
        frameworks: &[],
        reads: QUEUES,
    },
    run: queue_has_dead_letter_queue,
};

fn queue_has_dead_letter_queue(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    // Queues that are some queue's dead-letter target are judged as dead-letter queues: exempt.
    let dead_letter_targets: std::collections::HashSet<&str> = context
        .inventory
        .regional
        .values()
        .flat_map(|regional| regional.sqs_queues.iter())
        .filter_map(|queue| queue.redrive_policy.as_ref()?.get("deadLetterTargetArn")?.as_str())
        .collect();
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for queue in regional.sqs_queues.iter().filter(|queue| !dead_letter_targets.contains(&queue.queue_arn.as_str())) {
            let subject = context.item_subject(queue, || context.new_subject(&queue.queue_arn, "AWS::SQS::Queue", queue.name(), region, Some(&queue.tags)));
            let needs = [Needs::call("sqs", region, "GetQueueAttributes").on(&queue.queue_url)];
            findings.push(context.decide(metadata, &subject, &needs, || {
                let target = queue.redrive_policy.as_ref().and_then(|policy| policy.get("deadLetterTargetArn")).cloned();
                let message = match &target {
                    Some(_) => format!("Queue `{}` has a dead-letter queue.", queue.name()),
                    None => format!("Queue `{}` has no dead-letter queue.", queue.name()),
                };
                (target.is_some(), message, json!({ "RedrivePolicy": queue.redrive_policy }))
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;
    use crate::{Check, Status::*};

    fn queue(name: &str) -> Queue {
        Queue {
            queue_url: format!("https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{name}"),
            queue_arn: format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"),
            ..Queue::default()
        }
    }

    /// Runs a check over queues whose attributes were read, plus one whose read was denied.
    fn check(check: &dyn Check, queues: Vec<Queue>) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "sqs", "us-east-1", "ListQueues", None);
        for queue in &queues {
            read(&mut inventory, "sqs", "us-east-1", "GetQueueAttributes", Some(&queue.queue_url));
        }
        let denied_queue = queue("zz-denied");
        record(&mut inventory, "sqs", "us-east-1", "GetQueueAttributes", Some(&denied_queue.queue_url), denied());
        let regional = inventory.regional.get_mut(&"us-east-1".into()).unwrap();
        regional.sqs_queues = queues;
        regional.sqs_queues.push(denied_queue);
        statuses(&run(check, &inventory))
    }

    fn with_policy(name: &str, statement: Value) -> Queue {
        Queue { policy: Some(json!({ "Version": "2012-10-17", "Statement": [statement] })), ..queue(name) }
    }

    #[test]
    fn encryption_at_rest_accepts_sse_sqs_and_sse_kms() {
        let sse = Queue { sqs_managed_sse_enabled: Some(true), ..queue("sse") };
        let kms = Queue { kms_master_key_id: Some("alias/aws/sqs".into()), ..queue("kms") };
        let plain = Queue { sqs_managed_sse_enabled: Some(false), ..queue("plain") };
        assert_eq!(
            check(&QUEUE_ENCRYPTED_AT_REST, vec![sse.clone(), kms.clone(), plain.clone()]),
            vec![("kms".into(), Pass), ("plain".into(), Fail), ("sse".into(), Pass), ("zz-denied".into(), Error)]
        );
        let cmk = Queue { kms_master_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/abc".into()), ..queue("cmk") };
        assert_eq!(
            check(&QUEUE_ENCRYPTED_WITH_CMK, vec![sse, kms, cmk]),
            vec![("cmk".into(), Pass), ("kms".into(), Fail), ("sse".into(), Fail), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn a_policy_open_to_everyone_fails_and_one_narrowed_by_source_passes() {
        let open = with_policy("open", json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage" }));
        let narrowed = with_policy(
            "narrowed",
            json!({ "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Condition": { "ArnEquals": { "aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t" } } }),
        );
        assert_eq!(
            check(&QUEUE_POLICY_NOT_PUBLIC, vec![open, narrowed, queue("none")]),
            vec![("narrowed".into(), Pass), ("none".into(), Pass), ("open".into(), Fail), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn https_only_requires_a_secure_transport_deny() {
        let tls =
            with_policy("tls", json!({ "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Condition": { "Bool": { "aws:SecureTransport": "false" } } }));
        assert_eq!(check(&QUEUE_HTTPS_ONLY, vec![tls, queue("none")]), vec![("none".into(), Fail), ("tls".into(), Pass), ("zz-denied".into(), Error)]);
    }

    #[test]
    fn dead_letter_queues_are_exempt_and_others_need_one() {
        let dlq = queue("dlq");
        let source = Queue { redrive_policy: Some(json!({ "deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 5 })), ..queue("source") };
        assert_eq!(
            check(&QUEUE_HAS_DEAD_LETTER_QUEUE, vec![dlq, source, queue("lonely")]),
            vec![("lonely".into(), Fail), ("source".into(), Pass), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn a_denied_listing_is_one_error_for_the_region() {
        let mut inventory = inventory();
        record(&mut inventory, "sqs", "us-east-1", "ListQueues", None, denied());
        let findings = run(&QUEUE_ENCRYPTED_AT_REST, &inventory);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].status, Error);
        assert!(findings[0].message.contains("ListQueues"), "{}", findings[0].message);
    }
}
