//! One module per AWS service: each reads its service and converts SDK types to the model.

pub(crate) mod absent;
pub mod acm;
pub mod agentcore;
pub mod apprunner;
pub mod autoscaling;
pub mod cloudformation;
pub mod cloudfront;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod codebuild;
pub mod config;
pub mod dynamodb;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elasticache;
pub mod elb;
pub mod elbv2;
pub mod glue;
pub mod guardduty;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod organizations;
pub mod rds;
pub mod redshift;
pub mod route53;
pub mod route53domains;
pub mod s3;
pub mod sagemaker;
pub mod secrets;
pub mod secretsmanager;
pub mod securityhub;
pub mod sesv2;
pub mod sns;
pub mod sqs;
pub mod ssm;

use vigil_model::Timestamp;

/// Converts an SDK timestamp to the model's.
pub(crate) fn time(value: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(value.secs(), value.subsec_nanos())
}

pub(crate) fn time_opt(value: Option<&aws_smithy_types::DateTime>) -> Option<Timestamp> {
    value.and_then(time)
}

/// Parses a policy document that AWS returned as (possibly URL-encoded) JSON text.
/// A document that cannot be parsed is kept as a JSON string so nothing is lost.
pub(crate) fn policy_document(text: &str) -> serde_json::Value {
    let decoded = if text.trim_start().starts_with('%') || !text.trim_start().starts_with('{') {
        percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
    } else {
        text.to_string()
    };
    serde_json::from_str(&decoded).unwrap_or(serde_json::Value::String(decoded))
}

#[cfg(test)]
mod tests {
    use super::policy_document;

    #[test]
    fn url_encoded_and_plain_documents_decode_to_the_same_json() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_document(plain), policy_document(encoded));
        assert_eq!(policy_document(plain)["Version"], "2012-10-17");
        assert_eq!(policy_document("not json"), serde_json::Value::String("not json".into()));
    }
}
