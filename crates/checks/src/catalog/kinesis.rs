//! Kinesis Data Streams checks: encryption at rest and data retention.

use serde_json::json;
use vigil_model::messaging::Stream;

use super::FnCheck;
use crate::context::{Context, Needs, Subject};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const STREAMS: &[Read] = &[Read::regional("kinesis", "ListStreams")];

fn each_stream(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: impl Fn(&Stream, &Subject) -> (bool, String, serde_json::Value),
) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for stream in &regional.kinesis_streams {
            let subject = context.item_subject(stream, || context.new_subject(&stream.stream_arn, "AWS::Kinesis::Stream", &stream.stream_name, region, None));
            let needs = [Needs::call("kinesis", region, "DescribeStreamSummary").on(&stream.stream_name)];
            findings.push(context.decide(metadata, &subject, &needs, || judge(stream, &subject)));
        }
    }
}

pub static STREAM_ENCRYPTED_AT_REST: FnCheck = FnCheck {
    metadata: Metadata {
        id: "kinesis_stream_encrypted_at_rest",
        title: "Kinesis data streams are encrypted at rest",
        service: "kinesis",
        resource_type: "AWS::Kinesis::Stream",
        severity: Severity::Medium,
        risk: "Records in an unencrypted stream are stored in plain text for the whole retention period.",
        remediation: Remediation {
            text: "Start server-side encryption with a KMS key on the stream.",
            cli: "aws kinesis start-stream-encryption --stream-name STREAM --encryption-type KMS --key-id alias/aws/kinesis",
            terraform: "resource \"aws_kinesis_stream\" \"stream\" {\n  encryption_type = \"KMS\"\n  kms_key_id      = \"alias/aws/kinesis\"\n}",
        },
        references: &["https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html"],
        frameworks: &[("aws-fsbp", "Kinesis.1"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: STREAMS,
    },
    run: stream_encrypted_at_rest,
};

fn stream_encrypted_at_rest(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_stream(metadata, context, findings, |stream, _| {
        let encrypted = stream.encryption_type.as_deref() == Some("KMS");
        let message = if encrypted {
            format!("Stream `{}` is encrypted at rest.", stream.stream_name)
        } else {
            format!("Stream `{}` is not encrypted at rest.", stream.stream_name)
        };
        (encrypted, message, json!({ "EncryptionType": stream.encryption_type, "KeyId": stream.key_id }))
    });
}

pub static STREAM_ENCRYPTED_WITH_CMK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "kinesis_stream_encrypted_with_cmk",
        title: "Kinesis data streams are encrypted with a customer managed KMS key",
        service: "kinesis",
        resource_type: "AWS::Kinesis::Stream",
        severity: Severity::Low,
        risk: "With the AWS managed key alias/aws/kinesis you cannot restrict or audit decryption separately from stream access.",
        remediation: Remediation {
            text: "Encrypt the stream with a customer managed KMS key.",
            cli: "aws kinesis start-stream-encryption --stream-name STREAM --encryption-type KMS --key-id KEY_ARN",
            terraform: "resource \"aws_kinesis_stream\" \"stream\" {\n  encryption_type = \"KMS\"\n  kms_key_id      = aws_kms_key.stream.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/streams/latest/dev/creating-using-sse-master-keys.html"],
        frameworks: &[("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "SC-28")],
        reads: STREAMS,
    },
    run: stream_encrypted_with_cmk,
};

fn stream_encrypted_with_cmk(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_stream(metadata, context, findings, |stream, _| {
        let customer_key = stream.encryption_type.as_deref() == Some("KMS") && stream.key_id.as_deref().is_some_and(|key| key != "alias/aws/kinesis");
        let message = if customer_key {
            format!("Stream `{}` is encrypted with a customer managed key.", stream.stream_name)
        } else {
            format!("Stream `{}` is not encrypted with a customer managed KMS key.", stream.stream_name)
        };
        (customer_key, message, json!({ "EncryptionType": stream.encryption_type, "KeyId": stream.key_id }))
    });
}

pub static STREAM_RETENTION_ADEQUATE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "kinesis_stream_retention_adequate",
        title: "Kinesis data streams retain records for at least 7 days",
        service: "kinesis",
        resource_type: "AWS::Kinesis::Stream",
        severity: Severity::Medium,
        risk: "With the default 24-hour retention, records are lost if consumers fail for a weekend; investigations lose the data. The minimum is the policy parameter `min_kinesis_retention_hours` (default 168).",
        remediation: Remediation {
            text: "Increase the stream's retention period to at least `min_kinesis_retention_hours` (default 168 hours).",
            cli: "aws kinesis increase-stream-retention-period --stream-name STREAM --retention-period-hours 168",
            terraform: "resource \"aws_kinesis_stream\" \"stream\" {\n  retention_period = 168\n}",
        },
        references: &["https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html"],
        frameworks: &[("aws-fsbp", "Kinesis.3"), ("nist-800-53-r5", "SI-12")],
        reads: STREAMS,
    },
    run: stream_retention_adequate,
};

fn stream_retention_adequate(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_stream(metadata, context, findings, |stream, subject| {
        let minimum = context.number(subject, "min_kinesis_retention_hours", 168);
        let hours = stream.retention_period_hours.unwrap_or(24);
        let adequate = i64::from(hours) >= minimum;
        let message = format!("Stream `{}` retains records for {hours} hours (minimum {minimum}).", stream.stream_name);
        (adequate, message, json!({ "RetentionPeriodHours": stream.retention_period_hours, "MinimumHours": minimum }))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn stream(name: &str, encryption: &str, key: Option<&str>, hours: i32) -> Stream {
        Stream {
            stream_name: name.into(),
            stream_arn: format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"),
            encryption_type: Some(encryption.into()),
            key_id: key.map(str::to_string),
            retention_period_hours: Some(hours),
            ..Stream::default()
        }
    }

    fn check(check: &dyn Check, streams: Vec<Stream>) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "kinesis", "us-east-1", "ListStreams", None);
        for stream in &streams {
            read(&mut inventory, "kinesis", "us-east-1", "DescribeStreamSummary", Some(&stream.stream_name));
        }
        record(&mut inventory, "kinesis", "us-east-1", "DescribeStreamSummary", Some("zz-denied"), denied());
        let mut streams = streams;
        streams.push(Stream { stream_name: "zz-denied".into(), ..Stream::default() });
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().kinesis_streams = streams;
        statuses(&run(check, &inventory))
    }

    #[test]
    fn encryption_and_customer_keys_are_judged_per_stream() {
        let streams =
            || vec![stream("plain", "NONE", None, 24), stream("aws-key", "KMS", Some("alias/aws/kinesis"), 24), stream("cmk", "KMS", Some("alias/app"), 24)];
        assert_eq!(
            check(&STREAM_ENCRYPTED_AT_REST, streams()),
            vec![("aws-key".into(), Pass), ("cmk".into(), Pass), ("plain".into(), Fail), ("zz-denied".into(), Error)]
        );
        assert_eq!(
            check(&STREAM_ENCRYPTED_WITH_CMK, streams()),
            vec![("aws-key".into(), Fail), ("cmk".into(), Pass), ("plain".into(), Fail), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn retention_below_a_week_fails() {
        assert_eq!(
            check(&STREAM_RETENTION_ADEQUATE, vec![stream("day", "NONE", None, 24), stream("week", "NONE", None, 168)]),
            vec![("day".into(), Fail), ("week".into(), Pass), ("zz-denied".into(), Error)]
        );
    }
}
