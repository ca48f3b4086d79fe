//! RDS: DB instances and clusters, their snapshots with restore permissions, and the
//! user-set parameters of the parameter groups in use.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_sdk_rds::Client;
use aws_sdk_rds::types as sdk;
use futures::StreamExt;
use vigil_model::Tags;
use vigil_model::rds::{DbCluster, DbInstance, DbParameterGroup, DbSnapshot};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

fn tags(list: Option<Vec<sdk::Tag>>) -> Tags {
    list.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect()
}

/// Parameters kept whatever their source, because checks read them (engine defaults included).
const SECURITY_PARAMETERS: &[&str] =
    &["rds.force_ssl", "require_secure_transport", "ssl", "log_connections", "log_disconnections", "rds.rds_superuser_reserved_connections"];

/// Keeps every user-set parameter and the security-relevant ones.
fn kept_parameter(parameter: &sdk::Parameter) -> bool {
    parameter.source.as_deref() == Some("user") || parameter.parameter_name.as_deref().is_some_and(|name| SECURITY_PARAMETERS.contains(&name))
}

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_rds, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let (instances, clusters, instance_snapshots, cluster_snapshots) = tokio::join!(
        instances(session, &client, region),
        clusters(session, &client, region),
        instance_snapshots(session, &client, region),
        cluster_snapshots(session, &client, region),
    );
    let group_names: BTreeSet<String> = instances.iter().flat_map(|instance| instance.db_parameter_group_names.iter().cloned()).collect();
    let parameter_groups: Vec<DbParameterGroup> = futures::stream::iter(group_names)
        .map(|name| {
            let client = &client;
            async move {
                let mut parameters = std::collections::BTreeMap::new();
                let call = Call::new("rds", region, "DescribeDBParameters").on(&name);
                crate::for_each_page!(session, call, client.describe_db_parameters().db_parameter_group_name(&name).into_paginator().send(), |page| {
                    parameters.extend(page.parameters.unwrap_or_default().into_iter().filter(kept_parameter).filter_map(|parameter| {
                        let value = parameter.parameter_value.unwrap_or_default();
                        Some((parameter.parameter_name?, value))
                    }));
                });
                DbParameterGroup { db_parameter_group_name: name, db_parameter_group_family: None, parameters }
            }
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    let snapshots: Vec<DbSnapshot> = instance_snapshots.into_iter().chain(cluster_snapshots).collect();
    Box::new(move |regional| {
        regional.db_instances = instances;
        regional.db_clusters = clusters;
        regional.db_snapshots = snapshots;
        regional.db_parameter_groups = parameter_groups;
    })
}

async fn instances(session: &Session, client: &Client, region: &str) -> Vec<DbInstance> {
    let mut instances = Vec::new();
    let call = Call::new("rds", region, "DescribeDBInstances");
    crate::for_each_page!(session, call, client.describe_db_instances().into_paginator().send(), |page| {
        instances.extend(page.db_instances.unwrap_or_default().into_iter().map(|instance| {
            let subnet_group = instance.db_subnet_group;
            DbInstance {
                db_instance_identifier: instance.db_instance_identifier.unwrap_or_default(),
                db_instance_arn: instance.db_instance_arn.unwrap_or_default(),
                db_cluster_identifier: instance.db_cluster_identifier,
                engine: instance.engine,
                engine_version: instance.engine_version,
                db_instance_class: instance.db_instance_class,
                db_instance_status: instance.db_instance_status,
                publicly_accessible: instance.publicly_accessible.unwrap_or(false),
                storage_encrypted: instance.storage_encrypted.unwrap_or(false),
                kms_key_id: instance.kms_key_id,
                multi_az: instance.multi_az.unwrap_or(false),
                backup_retention_period: instance.backup_retention_period,
                auto_minor_version_upgrade: instance.auto_minor_version_upgrade,
                deletion_protection: instance.deletion_protection,
                iam_database_authentication_enabled: instance.iam_database_authentication_enabled,
                copy_tags_to_snapshot: instance.copy_tags_to_snapshot,
                master_username: instance.master_username,
                endpoint_address: instance.endpoint.as_ref().and_then(|endpoint| endpoint.address.clone()),
                endpoint_port: instance.endpoint.and_then(|endpoint| endpoint.port),
                vpc_id: subnet_group.as_ref().and_then(|group| group.vpc_id.clone()),
                subnet_ids: subnet_group
                    .and_then(|group| group.subnets)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|subnet| subnet.subnet_identifier)
                    .collect(),
                vpc_security_group_ids: instance.vpc_security_groups.unwrap_or_default().into_iter().filter_map(|group| group.vpc_security_group_id).collect(),
                db_parameter_group_names: instance
                    .db_parameter_groups
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|group| group.db_parameter_group_name)
                    .collect(),
                enabled_cloudwatch_logs_exports: instance.enabled_cloudwatch_logs_exports.unwrap_or_default(),
                ca_certificate_identifier: instance.ca_certificate_identifier,
                monitoring_interval: instance.monitoring_interval,
                performance_insights_enabled: instance.performance_insights_enabled,
                instance_create_time: time_opt(instance.instance_create_time.as_ref()),
                tags: tags(instance.tag_list),
            }
        }));
    });
    instances
}

async fn clusters(session: &Session, client: &Client, region: &str) -> Vec<DbCluster> {
    let mut clusters = Vec::new();
    let call = Call::new("rds", region, "DescribeDBClusters");
    crate::for_each_page!(session, call, client.describe_db_clusters().into_paginator().send(), |page| {
        clusters.extend(page.db_clusters.unwrap_or_default().into_iter().map(|cluster| DbCluster {
            db_cluster_identifier: cluster.db_cluster_identifier.unwrap_or_default(),
            db_cluster_arn: cluster.db_cluster_arn.unwrap_or_default(),
            engine: cluster.engine,
            engine_version: cluster.engine_version,
            status: cluster.status,
            storage_encrypted: cluster.storage_encrypted.unwrap_or(false),
            kms_key_id: cluster.kms_key_id,
            multi_az: cluster.multi_az.unwrap_or(false),
            backup_retention_period: cluster.backup_retention_period,
            deletion_protection: cluster.deletion_protection,
            iam_database_authentication_enabled: cluster.iam_database_authentication_enabled,
            publicly_accessible: cluster.publicly_accessible,
            auto_minor_version_upgrade: cluster.auto_minor_version_upgrade,
            copy_tags_to_snapshot: cluster.copy_tags_to_snapshot,
            master_username: cluster.master_username,
            db_cluster_parameter_group: cluster.db_cluster_parameter_group,
            endpoint: cluster.endpoint,
            port: cluster.port,
            vpc_security_group_ids: cluster.vpc_security_groups.unwrap_or_default().into_iter().filter_map(|group| group.vpc_security_group_id).collect(),
            members: cluster.db_cluster_members.unwrap_or_default().into_iter().filter_map(|member| member.db_instance_identifier).collect(),
            enabled_cloudwatch_logs_exports: cluster.enabled_cloudwatch_logs_exports.unwrap_or_default(),
            tags: tags(cluster.tag_list),
        }));
    });
    clusters
}

/// The account ids (or `all`) allowed to restore a snapshot, from its `restore` attribute.
fn restore_ids(attributes: Vec<sdk::DbSnapshotAttribute>) -> Vec<String> {
    attributes
        .into_iter()
        .filter(|attribute| attribute.attribute_name.as_deref() == Some("restore"))
        .flat_map(|attribute| attribute.attribute_values.unwrap_or_default())
        .collect()
}

async fn instance_snapshots(session: &Session, client: &Client, region: &str) -> Vec<DbSnapshot> {
    let mut snapshots = Vec::new();
    let call = Call::new("rds", region, "DescribeDBSnapshots");
    crate::for_each_page!(session, call, client.describe_db_snapshots().snapshot_type("manual").into_paginator().send(), |page| {
        snapshots.extend(page.db_snapshots.unwrap_or_default().into_iter().map(|snapshot| DbSnapshot {
            db_snapshot_identifier: snapshot.db_snapshot_identifier.unwrap_or_default(),
            db_snapshot_arn: snapshot.db_snapshot_arn.unwrap_or_default(),
            source_identifier: snapshot.db_instance_identifier,
            is_cluster_snapshot: false,
            snapshot_type: snapshot.snapshot_type,
            encrypted: snapshot.encrypted.unwrap_or(false),
            kms_key_id: snapshot.kms_key_id,
            snapshot_create_time: time_opt(snapshot.snapshot_create_time.as_ref()),
            restore_account_ids: Vec::new(),
            tags: tags(snapshot.tag_list),
        }));
    });
    futures::stream::iter(snapshots)
        .map(|mut snapshot| async move {
            let call = Call::new("rds", region, "DescribeDBSnapshotAttributes").on(&snapshot.db_snapshot_identifier);
            let request = client.describe_db_snapshot_attributes().db_snapshot_identifier(&snapshot.db_snapshot_identifier);
            if let Some(result) = crate::call!(session, call, request.send()).and_then(|output| output.db_snapshot_attributes_result) {
                snapshot.restore_account_ids = restore_ids(result.db_snapshot_attributes.unwrap_or_default());
            }
            snapshot
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await
}

async fn cluster_snapshots(session: &Session, client: &Client, region: &str) -> Vec<DbSnapshot> {
    let mut snapshots = Vec::new();
    let call = Call::new("rds", region, "DescribeDBClusterSnapshots");
    crate::for_each_page!(session, call, client.describe_db_cluster_snapshots().snapshot_type("manual").into_paginator().send(), |page| {
        snapshots.extend(page.db_cluster_snapshots.unwrap_or_default().into_iter().map(|snapshot| DbSnapshot {
            db_snapshot_identifier: snapshot.db_cluster_snapshot_identifier.unwrap_or_default(),
            db_snapshot_arn: snapshot.db_cluster_snapshot_arn.unwrap_or_default(),
            source_identifier: snapshot.db_cluster_identifier,
            is_cluster_snapshot: true,
            snapshot_type: snapshot.snapshot_type,
            encrypted: snapshot.storage_encrypted.unwrap_or(false),
            kms_key_id: snapshot.kms_key_id,
            snapshot_create_time: time_opt(snapshot.snapshot_create_time.as_ref()),
            restore_account_ids: Vec::new(),
            tags: tags(snapshot.tag_list),
        }));
    });
    futures::stream::iter(snapshots)
        .map(|mut snapshot| async move {
            let call = Call::new("rds", region, "DescribeDBClusterSnapshotAttributes").on(&snapshot.db_snapshot_identifier);
            let request = client.describe_db_cluster_snapshot_attributes().db_cluster_snapshot_identifier(&snapshot.db_snapshot_identifier);
            if let Some(result) = crate::call!(session, call, request.send()).and_then(|output| output.db_cluster_snapshot_attributes_result) {
                snapshot.restore_account_ids = result
                    .db_cluster_snapshot_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|attribute| attribute.attribute_name.as_deref() == Some("restore"))
                    .flat_map(|attribute| attribute.attribute_values.unwrap_or_default())
                    .collect();
            }
            snapshot
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await
}
