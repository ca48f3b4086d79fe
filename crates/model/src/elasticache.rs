//! ElastiCache: replication groups, cache clusters and cache subnet groups, shaped like the
//! ElastiCache API's Describe* responses.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicationGroup {
    pub replication_group_id: String,
    pub arn: String,
    pub description: Option<String>,
    pub status: Option<String>,
    pub engine: Option<String>,
    pub cache_node_type: Option<String>,
    pub at_rest_encryption_enabled: Option<bool>,
    pub transit_encryption_enabled: Option<bool>,
    /// `preferred` or `required`.
    pub transit_encryption_mode: Option<String>,
    pub auth_token_enabled: Option<bool>,
    pub kms_key_id: Option<String>,
    /// `enabled`, `disabled`, `enabling`, `disabling`.
    pub automatic_failover: Option<String>,
    /// `enabled` or `disabled`.
    pub multi_az: Option<String>,
    pub snapshot_retention_limit: Option<i32>,
    pub auto_minor_version_upgrade: Option<bool>,
    pub member_clusters: Vec<String>,
    /// Names of the RBAC user groups (an alternative to AUTH tokens).
    pub user_group_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CacheCluster {
    pub cache_cluster_id: String,
    pub arn: String,
    /// `redis`, `valkey` or `memcached`.
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub cache_cluster_status: Option<String>,
    pub cache_node_type: Option<String>,
    pub num_cache_nodes: Option<i32>,
    pub replication_group_id: Option<String>,
    pub at_rest_encryption_enabled: Option<bool>,
    pub transit_encryption_enabled: Option<bool>,
    pub auth_token_enabled: Option<bool>,
    pub snapshot_retention_limit: Option<i32>,
    pub auto_minor_version_upgrade: Option<bool>,
    pub cache_subnet_group_name: Option<String>,
    pub security_group_ids: Vec<String>,
    pub preferred_availability_zone: Option<String>,
    pub cache_cluster_create_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CacheSubnetGroup {
    pub cache_subnet_group_name: String,
    pub arn: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
}
