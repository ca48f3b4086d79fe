//! EC2 Auto Scaling: groups (with their launch template or configuration) and launch
//! configurations. Launch template contents are read by the EC2 collector.

use std::sync::Arc;

use aws_sdk_autoscaling::types as sdk;
use vigil_model::autoscaling::{AutoScalingGroup, LaunchConfiguration, LaunchTemplateSpecification};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

fn specification(specification: sdk::LaunchTemplateSpecification) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification {
        launch_template_id: specification.launch_template_id,
        launch_template_name: specification.launch_template_name,
        version: specification.version,
    }
}

fn group(group: sdk::AutoScalingGroup) -> AutoScalingGroup {
    let mixed_template = group.mixed_instances_policy.and_then(|policy| policy.launch_template);
    let instance_types =
        mixed_template.as_ref().and_then(|template| template.overrides.clone()).unwrap_or_default().into_iter().filter_map(|item| item.instance_type).collect();
    let launch_template = group.launch_template.or_else(|| mixed_template.and_then(|template| template.launch_template_specification)).map(specification);
    AutoScalingGroup {
        auto_scaling_group_name: group.auto_scaling_group_name.unwrap_or_default(),
        auto_scaling_group_arn: group.auto_scaling_group_arn.unwrap_or_default(),
        launch_configuration_name: group.launch_configuration_name,
        launch_template,
        min_size: group.min_size,
        max_size: group.max_size,
        desired_capacity: group.desired_capacity,
        availability_zones: group.availability_zones.unwrap_or_default(),
        subnet_ids: group.vpc_zone_identifier.unwrap_or_default().split(',').map(str::trim).filter(|subnet| !subnet.is_empty()).map(str::to_string).collect(),
        health_check_type: group.health_check_type,
        load_balancer_names: group.load_balancer_names.unwrap_or_default(),
        target_group_arns: group.target_group_arns.unwrap_or_default(),
        instance_types,
        created_time: time_opt(group.created_time.as_ref()),
        tags: group.tags.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect(),
    }
}

fn configuration(configuration: sdk::LaunchConfiguration) -> LaunchConfiguration {
    let metadata = configuration.metadata_options;
    LaunchConfiguration {
        launch_configuration_name: configuration.launch_configuration_name.unwrap_or_default(),
        launch_configuration_arn: configuration.launch_configuration_arn.unwrap_or_default(),
        image_id: configuration.image_id,
        instance_type: configuration.instance_type,
        associate_public_ip_address: configuration.associate_public_ip_address,
        security_groups: configuration.security_groups.unwrap_or_default(),
        http_tokens: metadata.as_ref().and_then(|options| options.http_tokens.as_ref()).map(|value| value.as_str().to_string()),
        http_endpoint: metadata.as_ref().and_then(|options| options.http_endpoint.as_ref()).map(|value| value.as_str().to_string()),
        http_put_response_hop_limit: metadata.as_ref().and_then(|options| options.http_put_response_hop_limit),
        ebs_encrypted: configuration.block_device_mappings.unwrap_or_default().into_iter().filter_map(|mapping| mapping.ebs).map(|ebs| ebs.encrypted).collect(),
        has_user_data: configuration.user_data.as_deref().is_some_and(|data| !data.is_empty()),
        user_data_secrets: configuration.user_data.as_deref().map(|data| super::secrets::in_user_data(data, "")).unwrap_or_default(),
        created_time: time_opt(configuration.created_time.as_ref()),
    }
}

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_autoscaling, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let mut groups = Vec::new();
    let call = Call::new("autoscaling", region, "DescribeAutoScalingGroups");
    crate::for_each_page!(session, call, client.describe_auto_scaling_groups().into_paginator().send(), |page| {
        groups.extend(page.auto_scaling_groups.unwrap_or_default().into_iter().map(group));
    });
    let mut configurations = Vec::new();
    let call = Call::new("autoscaling", region, "DescribeLaunchConfigurations");
    crate::for_each_page!(session, call, client.describe_launch_configurations().into_paginator().send(), |page| {
        configurations.extend(page.launch_configurations.unwrap_or_default().into_iter().map(configuration));
    });
    Box::new(move |regional| {
        regional.auto_scaling_groups = groups;
        regional.launch_configurations = configurations;
    })
}
