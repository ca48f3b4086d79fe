//! RDS: database instances, clusters, snapshots and the security-relevant parameters of
//! their parameter groups, shaped like the RDS API's Describe* responses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DbInstance {
    pub db_instance_identifier: String,
    pub db_instance_arn: String,
    pub db_cluster_identifier: Option<String>,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub db_instance_class: Option<String>,
    pub db_instance_status: Option<String>,
    pub publicly_accessible: bool,
    pub storage_encrypted: bool,
    pub kms_key_id: Option<String>,
    pub multi_az: bool,
    pub backup_retention_period: Option<i32>,
    pub auto_minor_version_upgrade: Option<bool>,
    pub deletion_protection: Option<bool>,
    pub iam_database_authentication_enabled: Option<bool>,
    pub copy_tags_to_snapshot: Option<bool>,
    pub master_username: Option<String>,
    pub endpoint_address: Option<String>,
    pub endpoint_port: Option<i32>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub vpc_security_group_ids: Vec<String>,
    pub db_parameter_group_names: Vec<String>,
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    pub ca_certificate_identifier: Option<String>,
    pub monitoring_interval: Option<i32>,
    pub performance_insights_enabled: Option<bool>,
    pub instance_create_time: Option<Timestamp>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DbCluster {
    pub db_cluster_identifier: String,
    pub db_cluster_arn: String,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub status: Option<String>,
    pub storage_encrypted: bool,
    pub kms_key_id: Option<String>,
    pub multi_az: bool,
    pub backup_retention_period: Option<i32>,
    pub deletion_protection: Option<bool>,
    pub iam_database_authentication_enabled: Option<bool>,
    pub publicly_accessible: Option<bool>,
    pub auto_minor_version_upgrade: Option<bool>,
    pub copy_tags_to_snapshot: Option<bool>,
    pub master_username: Option<String>,
    pub db_cluster_parameter_group: Option<String>,
    pub endpoint: Option<String>,
    pub port: Option<i32>,
    pub vpc_security_group_ids: Vec<String>,
    pub members: Vec<String>,
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DbSnapshot {
    pub db_snapshot_identifier: String,
    pub db_snapshot_arn: String,
    /// The instance or cluster the snapshot was taken from.
    pub source_identifier: Option<String>,
    /// `false` for instance snapshots, `true` for cluster snapshots.
    pub is_cluster_snapshot: bool,
    pub snapshot_type: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub snapshot_create_time: Option<Timestamp>,
    /// DescribeDB(Cluster)SnapshotAttributes `restore`: account ids, or `all` when public.
    pub restore_account_ids: Vec<String>,
    pub tags: Tags,
}

/// A DB parameter group's parameters: every parameter set by the user (Source = user), plus
/// the security-relevant ones (`rds.force_ssl`, `require_secure_transport`, ...) whatever their source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DbParameterGroup {
    pub db_parameter_group_name: String,
    pub db_parameter_group_family: Option<String>,
    pub parameters: BTreeMap<String, String>,
}
