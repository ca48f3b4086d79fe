//! ElastiCache: replication groups, cache clusters and cache subnet groups.

use std::sync::Arc;

use aws_sdk_elasticache::Client;
use vigil_model::elasticache::{CacheCluster, CacheSubnetGroup, ReplicationGroup};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_elasticache, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let (replication_groups, cache_clusters, cache_subnet_groups) =
        tokio::join!(replication_groups(session, &client, region), cache_clusters(session, &client, region), subnet_groups(session, &client, region));
    Box::new(move |regional| {
        regional.replication_groups = replication_groups;
        regional.cache_clusters = cache_clusters;
        regional.cache_subnet_groups = cache_subnet_groups;
    })
}

async fn replication_groups(session: &Session, client: &Client, region: &str) -> Vec<ReplicationGroup> {
    let mut groups = Vec::new();
    let call = Call::new("elasticache", region, "DescribeReplicationGroups");
    crate::for_each_page!(session, call, client.describe_replication_groups().into_paginator().send(), |page| {
        groups.extend(page.replication_groups.unwrap_or_default().into_iter().map(|group| ReplicationGroup {
            replication_group_id: group.replication_group_id.unwrap_or_default(),
            arn: group.arn.unwrap_or_default(),
            description: group.description,
            status: group.status,
            engine: group.engine,
            cache_node_type: group.cache_node_type,
            at_rest_encryption_enabled: group.at_rest_encryption_enabled,
            transit_encryption_enabled: group.transit_encryption_enabled,
            transit_encryption_mode: group.transit_encryption_mode.map(|value| value.as_str().to_string()),
            auth_token_enabled: group.auth_token_enabled,
            kms_key_id: group.kms_key_id,
            automatic_failover: group.automatic_failover.map(|value| value.as_str().to_string()),
            multi_az: group.multi_az.map(|value| value.as_str().to_string()),
            snapshot_retention_limit: group.snapshot_retention_limit,
            auto_minor_version_upgrade: group.auto_minor_version_upgrade,
            member_clusters: group.member_clusters.unwrap_or_default(),
            user_group_ids: group.user_group_ids.unwrap_or_default(),
        }));
    });
    groups
}

async fn cache_clusters(session: &Session, client: &Client, region: &str) -> Vec<CacheCluster> {
    let mut clusters = Vec::new();
    let call = Call::new("elasticache", region, "DescribeCacheClusters");
    crate::for_each_page!(session, call, client.describe_cache_clusters().into_paginator().send(), |page| {
        clusters.extend(page.cache_clusters.unwrap_or_default().into_iter().map(|cluster| {
            let cache_cluster_id = cluster.cache_cluster_id.unwrap_or_default();
            CacheCluster {
                arn: cluster.arn.unwrap_or_else(|| format!("arn:{}:elasticache:{region}:{}:cluster:{cache_cluster_id}", session.partition, session.account_id)),
                cache_cluster_id,
                engine: cluster.engine,
                engine_version: cluster.engine_version,
                cache_cluster_status: cluster.cache_cluster_status,
                cache_node_type: cluster.cache_node_type,
                num_cache_nodes: cluster.num_cache_nodes,
                replication_group_id: cluster.replication_group_id,
                at_rest_encryption_enabled: cluster.at_rest_encryption_enabled,
                transit_encryption_enabled: cluster.transit_encryption_enabled,
                auth_token_enabled: cluster.auth_token_enabled,
                snapshot_retention_limit: cluster.snapshot_retention_limit,
                auto_minor_version_upgrade: cluster.auto_minor_version_upgrade,
                cache_subnet_group_name: cluster.cache_subnet_group_name,
                security_group_ids: cluster.security_groups.unwrap_or_default().into_iter().filter_map(|group| group.security_group_id).collect(),
                preferred_availability_zone: cluster.preferred_availability_zone,
                cache_cluster_create_time: time_opt(cluster.cache_cluster_create_time.as_ref()),
            }
        }));
    });
    clusters
}

async fn subnet_groups(session: &Session, client: &Client, region: &str) -> Vec<CacheSubnetGroup> {
    let mut groups = Vec::new();
    let call = Call::new("elasticache", region, "DescribeCacheSubnetGroups");
    crate::for_each_page!(session, call, client.describe_cache_subnet_groups().into_paginator().send(), |page| {
        groups.extend(page.cache_subnet_groups.unwrap_or_default().into_iter().map(|group| CacheSubnetGroup {
            cache_subnet_group_name: group.cache_subnet_group_name.unwrap_or_default(),
            arn: group.arn,
            vpc_id: group.vpc_id,
            subnet_ids: group.subnets.unwrap_or_default().into_iter().filter_map(|subnet| subnet.subnet_identifier).collect(),
        }));
    });
    groups
}
