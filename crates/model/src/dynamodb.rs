//! DynamoDB: tables with their encryption, deletion protection and continuous backups,
//! shaped like DescribeTable and DescribeContinuousBackups.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Table {
    pub table_name: String,
    pub table_arn: String,
    pub table_status: Option<String>,
    pub creation_date_time: Option<Timestamp>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: Option<String>,
    /// SSEDescription.Status (`ENABLED` when a KMS key is used); absent means an AWS owned key.
    pub sse_status: Option<String>,
    /// SSEDescription.SSEType: `KMS` (AWS managed or customer managed key) or `AES256`.
    pub sse_type: Option<String>,
    pub kms_master_key_arn: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
    /// DescribeContinuousBackups PointInTimeRecoveryStatus: `ENABLED` or `DISABLED`.
    pub point_in_time_recovery_status: Option<String>,
    pub continuous_backups_status: Option<String>,
}
