//! Security services and secret stores: GuardDuty, Security Hub, Secrets Manager and ECR.

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

/// A GuardDuty detector: ListDetectors plus GetDetector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Detector {
    pub detector_id: String,
    /// `ENABLED` or `DISABLED`.
    pub status: Option<String>,
    pub finding_publishing_frequency: Option<String>,
    pub features: Vec<DetectorFeature>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DetectorFeature {
    /// e.g. `S3_DATA_EVENTS`, `EKS_AUDIT_LOGS`, `RDS_LOGIN_EVENTS`, `LAMBDA_NETWORK_LOGS`,
    /// `EBS_MALWARE_PROTECTION`, `RUNTIME_MONITORING`.
    pub name: String,
    /// `ENABLED` or `DISABLED`.
    pub status: Option<String>,
}

/// Security Hub in one region: DescribeHub plus GetEnabledStandards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecurityHub {
    pub hub_arn: String,
    pub subscribed_at: Option<String>,
    pub auto_enable_controls: Option<bool>,
    pub standards_subscriptions: Vec<StandardsSubscription>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StandardsSubscription {
    pub standards_arn: String,
    pub standards_subscription_arn: String,
    /// `READY`, `PENDING`, `INCOMPLETE`, `DELETING` or `FAILED`.
    pub standards_status: Option<String>,
}

/// A Secrets Manager secret: ListSecrets plus GetResourcePolicy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Secret {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    /// Absent when the secret uses the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    pub rotation_enabled: bool,
    #[serde(rename = "RotationLambdaARN")]
    pub rotation_lambda_arn: Option<String>,
    pub rotation_rules: Option<RotationRules>,
    pub last_rotated_date: Option<Timestamp>,
    pub last_changed_date: Option<Timestamp>,
    pub last_accessed_date: Option<Timestamp>,
    pub created_date: Option<Timestamp>,
    /// GetResourcePolicy, decoded; `None` when the secret has no resource policy.
    pub policy: Option<serde_json::Value>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RotationRules {
    pub automatically_after_days: Option<i64>,
    pub schedule_expression: Option<String>,
}

/// An ECR repository: DescribeRepositories plus its repository and lifecycle policies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Repository {
    pub repository_name: String,
    pub repository_arn: String,
    pub repository_uri: Option<String>,
    /// `MUTABLE` or `IMMUTABLE` (or the `*_WITH_EXCLUSION` variants).
    pub image_tag_mutability: Option<String>,
    pub scan_on_push: bool,
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: Option<String>,
    pub kms_key: Option<String>,
    /// GetRepositoryPolicy, decoded; `None` when there is none.
    pub policy: Option<serde_json::Value>,
    /// GetLifecyclePolicy, decoded; `None` when there is none.
    pub lifecycle_policy: Option<serde_json::Value>,
    pub tags: Tags,
}
