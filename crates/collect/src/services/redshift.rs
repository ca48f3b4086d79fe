//! Redshift: provisioned clusters, their audit logging status, and the parameters of the
//! cluster parameter groups they use.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use vigil_model::redshift::{LoggingStatus, RedshiftCluster, RedshiftParameterGroup};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_redshift, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let mut clusters = Vec::new();
    let call = Call::new("redshift", region, "DescribeClusters");
    crate::for_each_page!(session, call, client.describe_clusters().into_paginator().send(), |page| {
        clusters.extend(page.clusters.unwrap_or_default().into_iter().map(|cluster| {
            let identifier = cluster.cluster_identifier.unwrap_or_default();
            RedshiftCluster {
                cluster_arn: format!("arn:{}:redshift:{region}:{}:cluster:{identifier}", session.partition, session.account_id),
                cluster_identifier: identifier,
                node_type: cluster.node_type,
                cluster_status: cluster.cluster_status,
                master_username: cluster.master_username,
                db_name: cluster.db_name,
                encrypted: cluster.encrypted.unwrap_or(false),
                kms_key_id: cluster.kms_key_id,
                publicly_accessible: cluster.publicly_accessible.unwrap_or(false),
                enhanced_vpc_routing: cluster.enhanced_vpc_routing.unwrap_or(false),
                allow_version_upgrade: cluster.allow_version_upgrade,
                automated_snapshot_retention_period: cluster.automated_snapshot_retention_period,
                endpoint_address: cluster.endpoint.as_ref().and_then(|endpoint| endpoint.address.clone()),
                endpoint_port: cluster.endpoint.as_ref().and_then(|endpoint| endpoint.port),
                vpc_id: cluster.vpc_id,
                cluster_subnet_group_name: cluster.cluster_subnet_group_name,
                vpc_security_group_ids: cluster.vpc_security_groups.unwrap_or_default().into_iter().filter_map(|group| group.vpc_security_group_id).collect(),
                cluster_parameter_group_names: cluster
                    .cluster_parameter_groups
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|group| group.parameter_group_name)
                    .collect(),
                cluster_create_time: time_opt(cluster.cluster_create_time.as_ref()),
                logging_status: None,
                tags: cluster.tags.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect(),
            }
        }));
    });
    let clusters: Vec<RedshiftCluster> = futures::stream::iter(clusters)
        .map(|mut cluster| {
            let client = &client;
            async move {
                let call = Call::new("redshift", region, "DescribeLoggingStatus").on(&cluster.cluster_identifier);
                cluster.logging_status = crate::call!(session, call, client.describe_logging_status().cluster_identifier(&cluster.cluster_identifier).send())
                    .map(|output| LoggingStatus {
                        logging_enabled: output.logging_enabled.unwrap_or(false),
                        bucket_name: output.bucket_name,
                        log_destination_type: output.log_destination_type.map(|value| value.as_str().to_string()),
                        log_exports: output.log_exports.unwrap_or_default(),
                    });
                cluster
            }
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    let group_names: BTreeSet<String> = clusters.iter().flat_map(|cluster| cluster.cluster_parameter_group_names.iter().cloned()).collect();
    let parameter_groups: Vec<RedshiftParameterGroup> = futures::stream::iter(group_names)
        .map(|name| {
            let client = &client;
            async move {
                let mut parameters = BTreeMap::new();
                let call = Call::new("redshift", region, "DescribeClusterParameters").on(&name);
                crate::for_each_page!(session, call, client.describe_cluster_parameters().parameter_group_name(&name).into_paginator().send(), |page| {
                    parameters.extend(
                        page.parameters
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|parameter| Some((parameter.parameter_name?, parameter.parameter_value.unwrap_or_default()))),
                    );
                });
                RedshiftParameterGroup { parameter_group_name: name, parameters }
            }
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| {
        regional.redshift_clusters = clusters;
        regional.redshift_parameter_groups = parameter_groups;
    })
}
