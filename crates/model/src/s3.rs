//! S3 buckets and the account's S3 settings, shaped like the S3 and S3 Control APIs.

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct S3 {
    pub buckets: Vec<Bucket>,
    /// S3 Control GetPublicAccessBlock for the account.
    pub account_public_access_block: Option<PublicAccessBlockConfiguration>,
}

/// A bucket and its configuration. Every optional part is `None` either because it is not
/// configured or because it could not be read: the ledger says which.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Bucket {
    pub name: String,
    pub creation_date: Option<Timestamp>,
    /// GetBucketLocation, normalized (`us-east-1` for the empty constraint).
    pub region: String,
    pub acl: Option<AccessControlPolicy>,
    /// GetBucketPolicy, decoded.
    pub policy: Option<serde_json::Value>,
    /// GetBucketPolicyStatus.IsPublic.
    pub policy_is_public: Option<bool>,
    pub public_access_block: Option<PublicAccessBlockConfiguration>,
    pub versioning: Option<VersioningConfiguration>,
    pub server_side_encryption_rules: Option<Vec<ServerSideEncryptionRule>>,
    pub logging: Option<LoggingEnabled>,
    pub cors_rules: Option<Vec<CorsRule>>,
    /// OwnershipControls rule: BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter.
    pub object_ownership: Option<String>,
    pub website: Option<WebsiteConfiguration>,
    pub lifecycle_rules: Option<Vec<LifecycleRule>>,
    pub replication: Option<ReplicationConfiguration>,
    pub object_lock: Option<ObjectLockConfiguration>,
    pub tags: Tags,
    /// What `vigil scan --sample-objects N` found in a bounded sample of the bucket's objects
    /// (None: not sampled). `SensitiveData.Kinds` not empty means the bucket holds secrets or
    /// personal data; the attack-path analysis reads it.
    pub sensitive_data: Option<crate::sensitive::SensitiveDataSample>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AccessControlPolicy {
    pub owner_id: Option<String>,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Grant {
    /// CanonicalUser | AmazonCustomerByEmail | Group
    pub grantee_type: String,
    pub grantee_id: Option<String>,
    pub grantee_uri: Option<String>,
    pub grantee_email_address: Option<String>,
    /// FULL_CONTROL | WRITE | WRITE_ACP | READ | READ_ACP
    pub permission: String,
}

impl Grant {
    pub const ALL_USERS: &'static str = "http://acs.amazonaws.com/groups/global/AllUsers";
    pub const AUTHENTICATED_USERS: &'static str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
    pub const LOG_DELIVERY: &'static str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

    /// True when the grant is to everyone or to any AWS account.
    pub fn is_public(&self) -> bool {
        matches!(self.grantee_uri.as_deref(), Some(Self::ALL_USERS | Self::AUTHENTICATED_USERS))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PublicAccessBlockConfiguration {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlockConfiguration {
    pub fn all_enabled(&self) -> bool {
        self.block_public_acls && self.ignore_public_acls && self.block_public_policy && self.restrict_public_buckets
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VersioningConfiguration {
    /// Enabled | Suspended (absent when never enabled).
    pub status: Option<String>,
    /// Enabled | Disabled.
    pub mfa_delete: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServerSideEncryptionRule {
    /// AES256 | aws:kms | aws:kms:dsse
    pub sse_algorithm: String,
    pub kms_master_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoggingEnabled {
    pub target_bucket: String,
    pub target_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CorsRule {
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WebsiteConfiguration {
    pub index_document: Option<String>,
    pub error_document: Option<String>,
    pub redirect_all_requests_to: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LifecycleRule {
    pub id: Option<String>,
    /// Enabled | Disabled
    pub status: String,
    pub expiration_days: Option<i32>,
    pub noncurrent_version_expiration_days: Option<i32>,
    pub abort_incomplete_multipart_upload_days: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicationConfiguration {
    pub role: Option<String>,
    pub rules: Vec<ReplicationRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicationRule {
    pub id: Option<String>,
    pub status: String,
    pub destination_bucket: Option<String>,
    pub destination_account: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ObjectLockConfiguration {
    /// `Enabled` when object lock is on.
    pub object_lock_enabled: Option<String>,
    pub default_retention_mode: Option<String>,
    pub default_retention_days: Option<i32>,
    pub default_retention_years: Option<i32>,
}
