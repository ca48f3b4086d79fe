//! Redshift: provisioned clusters with their audit logging status and the parameters of the
//! cluster parameter groups in use, shaped like the Redshift API's Describe* responses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RedshiftCluster {
    pub cluster_identifier: String,
    /// `arn:aws:redshift:REGION:ACCOUNT:cluster:ID` (built by the collector: DescribeClusters has no ARN).
    pub cluster_arn: String,
    pub node_type: Option<String>,
    pub cluster_status: Option<String>,
    pub master_username: Option<String>,
    pub db_name: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub publicly_accessible: bool,
    pub enhanced_vpc_routing: bool,
    pub allow_version_upgrade: Option<bool>,
    pub automated_snapshot_retention_period: Option<i32>,
    pub endpoint_address: Option<String>,
    pub endpoint_port: Option<i32>,
    pub vpc_id: Option<String>,
    pub cluster_subnet_group_name: Option<String>,
    pub vpc_security_group_ids: Vec<String>,
    pub cluster_parameter_group_names: Vec<String>,
    pub cluster_create_time: Option<Timestamp>,
    /// DescribeLoggingStatus.
    pub logging_status: Option<LoggingStatus>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoggingStatus {
    pub logging_enabled: bool,
    pub bucket_name: Option<String>,
    /// `s3` or `cloudwatch`.
    pub log_destination_type: Option<String>,
    pub log_exports: Vec<String>,
}

/// A cluster parameter group's parameters (DescribeClusterParameters, every source).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RedshiftParameterGroup {
    pub parameter_group_name: String,
    pub parameters: BTreeMap<String, String>,
}
