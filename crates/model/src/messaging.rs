//! Messaging and streaming services: SQS queues, Kinesis data streams and SES (v2) identities.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Tags;

/// An SQS queue: GetQueueAttributes (All) with the access and redrive policies decoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Queue {
    pub queue_url: String,
    pub queue_arn: String,
    /// The queue's access policy (the `Policy` attribute), decoded.
    pub policy: Option<serde_json::Value>,
    /// `SqsManagedSseEnabled`: SSE with keys SQS owns.
    pub sqs_managed_sse_enabled: Option<bool>,
    /// `KmsMasterKeyId`: SSE-KMS with this key (alias, id or ARN).
    pub kms_master_key_id: Option<String>,
    /// The `RedrivePolicy` attribute, decoded (`deadLetterTargetArn`, `maxReceiveCount`).
    pub redrive_policy: Option<serde_json::Value>,
    /// Every other attribute as AWS returned it.
    pub attributes: BTreeMap<String, String>,
    pub tags: Tags,
}

impl Queue {
    /// The queue name: the last segment of its URL.
    pub fn name(&self) -> &str {
        self.queue_url.rsplit('/').next().unwrap_or(&self.queue_url)
    }
}

/// A Kinesis data stream: DescribeStreamSummary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Stream {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: Option<String>,
    /// `NONE` or `KMS`.
    pub encryption_type: Option<String>,
    /// The KMS key (alias, id or ARN) when encrypted.
    pub key_id: Option<String>,
    pub retention_period_hours: Option<i32>,
    /// `PROVISIONED` or `ON_DEMAND`.
    pub stream_mode: Option<String>,
    pub open_shard_count: Option<i32>,
}

/// An SES identity (domain or email address): sesv2 GetEmailIdentity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EmailIdentity {
    pub identity_name: String,
    /// `EMAIL_ADDRESS`, `DOMAIN` or `MANAGED_DOMAIN`.
    pub identity_type: Option<String>,
    pub sending_enabled: bool,
    pub verified_for_sending_status: bool,
    /// `PENDING`, `SUCCESS`, `FAILED`, `TEMPORARY_FAILURE` or `NOT_STARTED`.
    pub verification_status: Option<String>,
    pub dkim_attributes: Option<DkimAttributes>,
    /// Sending authorization policies by name, decoded.
    pub policies: BTreeMap<String, serde_json::Value>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DkimAttributes {
    pub signing_enabled: bool,
    /// `PENDING`, `SUCCESS`, `FAILED`, `TEMPORARY_FAILURE` or `NOT_STARTED`.
    pub status: Option<String>,
    /// `AWS_SES`, `EXTERNAL` or `AWS_SES_*`.
    pub signing_attributes_origin: Option<String>,
}
