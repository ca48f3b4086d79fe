//! ECS: clusters (ListClusters + DescribeClusters), their services (ListServices +
//! DescribeServices) and running tasks (ListTasks + DescribeTasks), and the active task
//! definitions that matter (ListTaskDefinitions + DescribeTaskDefinition: the latest revision
//! of each family and every revision a service or task uses). A task keeps its group (the
//! service that started it) and its network interfaces, which attack paths join to the
//! exposure engine. Container environment values are not read into the inventory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use vigil_model::Tags;
use vigil_model::workloads::{EcsCluster, EcsService, EcsTask, EcsTaskDefinition};

use crate::RegionalPatch;
use crate::session::{Call, Session};

fn tags(list: Option<Vec<aws_sdk_ecs::types::Tag>>) -> Tags {
    list.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect()
}

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_ecs, session, &region);
    let mut cluster_arns = Vec::new();
    let call = Call::new("ecs", &region, "ListClusters");
    crate::for_each_page!(session, call, client.list_clusters().into_paginator().send(), |page| {
        cluster_arns.extend(page.cluster_arns.unwrap_or_default());
    });
    let mut clusters = Vec::new();
    for batch in cluster_arns.chunks(100) {
        let call = Call::new("ecs", &region, "DescribeClusters");
        let request = client.describe_clusters().set_clusters(Some(batch.to_vec())).include(aws_sdk_ecs::types::ClusterField::Tags);
        if let Some(output) = crate::call!(session, call, request.send()) {
            clusters.extend(output.clusters.unwrap_or_default().into_iter().map(|cluster| EcsCluster {
                cluster_arn: cluster.cluster_arn.unwrap_or_default(),
                cluster_name: cluster.cluster_name.unwrap_or_default(),
                status: cluster.status,
                registered_container_instances_count: cluster.registered_container_instances_count,
                running_tasks_count: cluster.running_tasks_count,
                active_services_count: cluster.active_services_count,
                tags: tags(cluster.tags),
            }));
        }
    }
    let per_cluster: Vec<(Vec<EcsService>, Vec<EcsTask>)> = futures::stream::iter(cluster_arns)
        .map(|cluster| read_cluster(&session, &client, &region, cluster))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    let (mut services, mut tasks) = (Vec::new(), Vec::new());
    for (cluster_services, cluster_tasks) in per_cluster {
        services.extend(cluster_services);
        tasks.extend(cluster_tasks);
    }
    services.sort_by(|a, b| a.service_arn.cmp(&b.service_arn));
    tasks.sort_by(|a, b| a.task_arn.cmp(&b.task_arn));

    // The latest active revision of every family, plus whatever services and tasks run.
    let mut definition_arns = Vec::new();
    let call = Call::new("ecs", &region, "ListTaskDefinitions");
    crate::for_each_page!(
        session,
        call,
        client.list_task_definitions().status(aws_sdk_ecs::types::TaskDefinitionStatus::Active).into_paginator().send(),
        |page| {
            definition_arns.extend(page.task_definition_arns.unwrap_or_default());
        }
    );
    let mut latest: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for arn in &definition_arns {
        let Some((family, revision)) = arn.rsplit('/').next().and_then(|name| name.rsplit_once(':')) else { continue };
        let revision: i64 = revision.parse().unwrap_or(0);
        let entry = latest.entry(family.to_string()).or_insert((revision, arn.clone()));
        if revision > entry.0 {
            *entry = (revision, arn.clone());
        }
    }
    let mut wanted: BTreeSet<String> = latest.into_values().map(|(_, arn)| arn).collect();
    wanted.extend(services.iter().filter_map(|service| service.task_definition.clone()));
    wanted.extend(tasks.iter().filter_map(|task| task.task_definition_arn.clone()));
    let definitions: Vec<Option<EcsTaskDefinition>> =
        futures::stream::iter(wanted).map(|arn| read_task_definition(&session, &client, &region, arn)).buffer_unordered(session.fan_out()).collect().await;
    let mut task_definitions: Vec<EcsTaskDefinition> = definitions.into_iter().flatten().collect();
    task_definitions.sort_by(|a, b| a.task_definition_arn.cmp(&b.task_definition_arn));
    Box::new(move |regional| {
        regional.ecs_clusters = clusters;
        regional.ecs_services = services;
        regional.ecs_tasks = tasks;
        regional.ecs_task_definitions = task_definitions;
    })
}

async fn read_cluster(session: &Session, client: &aws_sdk_ecs::Client, region: &str, cluster: String) -> (Vec<EcsService>, Vec<EcsTask>) {
    let cluster = cluster.as_str();
    let mut service_arns = Vec::new();
    let call = Call::new("ecs", region, "ListServices").on(cluster);
    crate::for_each_page!(session, call, client.list_services().cluster(cluster).into_paginator().send(), |page| {
        service_arns.extend(page.service_arns.unwrap_or_default());
    });
    let mut services = Vec::new();
    for batch in service_arns.chunks(10) {
        let call = Call::new("ecs", region, "DescribeServices").on(cluster);
        let request = client.describe_services().cluster(cluster).set_services(Some(batch.to_vec())).include(aws_sdk_ecs::types::ServiceField::Tags);
        if let Some(output) = crate::call!(session, call, request.send()) {
            services.extend(output.services.unwrap_or_default().into_iter().map(|service| {
                let awsvpc = service.network_configuration.and_then(|network| network.awsvpc_configuration);
                EcsService {
                    service_arn: service.service_arn.unwrap_or_default(),
                    service_name: service.service_name.unwrap_or_default(),
                    cluster_arn: service.cluster_arn.unwrap_or_else(|| cluster.to_string()),
                    task_definition: service.task_definition,
                    launch_type: service.launch_type.map(|launch_type| launch_type.as_str().to_string()),
                    desired_count: service.desired_count,
                    running_count: service.running_count,
                    enable_execute_command: service.enable_execute_command,
                    assign_public_ip: awsvpc.as_ref().and_then(|vpc| vpc.assign_public_ip.as_ref()).map(|assign| assign.as_str().to_string()),
                    subnets: awsvpc.as_ref().map(|vpc| vpc.subnets.clone()).unwrap_or_default(),
                    security_groups: awsvpc.and_then(|vpc| vpc.security_groups).unwrap_or_default(),
                    tags: tags(service.tags),
                }
            }));
        }
    }
    let mut task_arns = Vec::new();
    let call = Call::new("ecs", region, "ListTasks").on(cluster);
    crate::for_each_page!(session, call, client.list_tasks().cluster(cluster).into_paginator().send(), |page| {
        task_arns.extend(page.task_arns.unwrap_or_default());
    });
    let mut tasks = Vec::new();
    for batch in task_arns.chunks(100) {
        let call = Call::new("ecs", region, "DescribeTasks").on(cluster);
        let request = client.describe_tasks().cluster(cluster).set_tasks(Some(batch.to_vec())).include(aws_sdk_ecs::types::TaskField::Tags);
        if let Some(output) = crate::call!(session, call, request.send()) {
            tasks.extend(output.tasks.unwrap_or_default().into_iter().map(|task| EcsTask {
                task_arn: task.task_arn.unwrap_or_default(),
                cluster_arn: task.cluster_arn.unwrap_or_else(|| cluster.to_string()),
                task_definition_arn: task.task_definition_arn,
                task_role_arn_override: task.overrides.and_then(|overrides| overrides.task_role_arn),
                last_status: task.last_status,
                launch_type: task.launch_type.map(|launch_type| launch_type.as_str().to_string()),
                enable_execute_command: task.enable_execute_command,
                group: task.group,
                network_interface_ids: network_interface_ids(task.attachments),
                tags: tags(task.tags),
            }));
        }
    }
    (services, tasks)
}

/// The interfaces of an `awsvpc` task: `networkInterfaceId` in the details of its
/// `ElasticNetworkInterface` attachments.
fn network_interface_ids(attachments: Option<Vec<aws_sdk_ecs::types::Attachment>>) -> Vec<String> {
    attachments
        .unwrap_or_default()
        .into_iter()
        .filter(|attachment| attachment.r#type.as_deref() == Some("ElasticNetworkInterface"))
        .flat_map(|attachment| attachment.details.unwrap_or_default())
        .filter(|detail| detail.name.as_deref() == Some("networkInterfaceId"))
        .filter_map(|detail| detail.value.filter(|value| !value.is_empty()))
        .collect()
}

async fn read_task_definition(session: &Session, client: &aws_sdk_ecs::Client, region: &str, arn: String) -> Option<EcsTaskDefinition> {
    let call = Call::new("ecs", region, "DescribeTaskDefinition").on(&arn);
    let request = client.describe_task_definition().task_definition(&arn).include(aws_sdk_ecs::types::TaskDefinitionField::Tags);
    let output = crate::call!(session, call, request.send())?;
    let definition = output.task_definition?;
    let containers = definition.container_definitions.unwrap_or_default();
    Some(EcsTaskDefinition {
        task_definition_arn: definition.task_definition_arn.unwrap_or(arn),
        family: definition.family.unwrap_or_default(),
        revision: definition.revision,
        task_role_arn: definition.task_role_arn,
        execution_role_arn: definition.execution_role_arn,
        network_mode: definition.network_mode.map(|mode| mode.as_str().to_string()),
        requires_compatibilities: definition
            .requires_compatibilities
            .unwrap_or_default()
            .iter()
            .map(|compatibility| compatibility.as_str().to_string())
            .collect(),
        status: definition.status.map(|status| status.as_str().to_string()),
        privileged_containers: containers
            .iter()
            .filter(|container| container.privileged == Some(true))
            .filter_map(|container| container.name.clone())
            .collect(),
        // Environment values are judged here by the secrets detector and not kept.
        environment_secrets: containers
            .iter()
            .flat_map(|container| {
                let prefix = format!("container {}, ", container.name.as_deref().unwrap_or("(unnamed)"));
                container.environment.iter().flatten().flat_map(move |pair| {
                    super::secrets::in_variable(pair.name.as_deref().unwrap_or_default(), pair.value.as_deref().unwrap_or_default(), &prefix)
                })
            })
            .collect(),
        tags: tags(output.tags),
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{Attachment, KeyValuePair};

    use super::network_interface_ids;

    fn attachment(kind: &str, details: &[(&str, &str)]) -> Attachment {
        let details = details.iter().map(|(name, value)| KeyValuePair::builder().name(*name).value(*value).build()).collect();
        Attachment::builder().r#type(kind).set_details(Some(details)).build()
    }

    /// moto's RunTask/DescribeTasks replies do not parse (containers' `cpu` is a number), so the
    /// conversion of DescribeTasks' attachments is pinned here on the SDK's own types.
    #[test]
    fn a_tasks_interfaces_are_its_elastic_network_interface_attachments() {
        let attachments = vec![
            attachment("ElasticNetworkInterface", &[("subnetId", "subnet-1"), ("networkInterfaceId", "eni-1"), ("privateIPv4Address", "10.0.1.5")]),
            attachment("ServiceConnect", &[("networkInterfaceId", "eni-other")]),
            attachment("ElasticNetworkInterface", &[("networkInterfaceId", "")]),
        ];
        assert_eq!(network_interface_ids(Some(attachments)), vec!["eni-1".to_string()]);
        assert!(network_interface_ids(None).is_empty());
    }
}
