//! Elastic Load Balancing v2 (Application, Network, Gateway): load balancers with listeners
//! and attributes, and target groups with their registered targets.

use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::Client;
use futures::StreamExt;
use vigil_model::elb::{Listener, ListenerAction, LoadBalancer, TargetDescription, TargetGroup};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_elasticloadbalancingv2, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let mut balancers = Vec::new();
    let call = Call::new("elbv2", region, "DescribeLoadBalancers");
    crate::for_each_page!(session, call, client.describe_load_balancers().into_paginator().send(), |page| {
        balancers.extend(page.load_balancers.unwrap_or_default().into_iter().map(|balancer| LoadBalancer {
            load_balancer_arn: balancer.load_balancer_arn.unwrap_or_default(),
            load_balancer_name: balancer.load_balancer_name.unwrap_or_default(),
            dns_name: balancer.dns_name,
            scheme: balancer.scheme.map(|value| value.as_str().to_string()),
            r#type: balancer.r#type.map(|value| value.as_str().to_string()),
            vpc_id: balancer.vpc_id,
            state: balancer.state.and_then(|state| state.code).map(|code| code.as_str().to_string()),
            ip_address_type: balancer.ip_address_type.map(|value| value.as_str().to_string()),
            subnet_ids: balancer.availability_zones.unwrap_or_default().into_iter().filter_map(|zone| zone.subnet_id).collect(),
            security_groups: balancer.security_groups.unwrap_or_default(),
            created_time: time_opt(balancer.created_time.as_ref()),
            ..LoadBalancer::default()
        }));
    });
    let balancers: Vec<LoadBalancer> =
        futures::stream::iter(balancers).map(|balancer| read_balancer(session, &client, region, balancer)).buffer_unordered(session.fan_out()).collect().await;

    let mut groups = Vec::new();
    let call = Call::new("elbv2", region, "DescribeTargetGroups");
    crate::for_each_page!(session, call, client.describe_target_groups().into_paginator().send(), |page| {
        groups.extend(page.target_groups.unwrap_or_default().into_iter().map(|group| TargetGroup {
            target_group_arn: group.target_group_arn.unwrap_or_default(),
            target_group_name: group.target_group_name.unwrap_or_default(),
            protocol: group.protocol.map(|value| value.as_str().to_string()),
            port: group.port,
            vpc_id: group.vpc_id,
            target_type: group.target_type.map(|value| value.as_str().to_string()),
            load_balancer_arns: group.load_balancer_arns.unwrap_or_default(),
            targets: Vec::new(),
        }));
    });
    let groups: Vec<TargetGroup> = futures::stream::iter(groups)
        .map(|mut group| {
            let client = &client;
            async move {
                let call = Call::new("elbv2", region, "DescribeTargetHealth").on(&group.target_group_arn);
                group.targets = crate::call!(session, call, client.describe_target_health().target_group_arn(&group.target_group_arn).send())
                    .map(|output| output.target_health_descriptions.unwrap_or_default())
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|description| {
                        let target = description.target?;
                        Some(TargetDescription {
                            id: target.id?,
                            port: target.port,
                            availability_zone: target.availability_zone,
                            health_state: description.target_health.and_then(|health| health.state).map(|state| state.as_str().to_string()),
                        })
                    })
                    .collect();
                group
            }
        })
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| {
        regional.load_balancers = balancers;
        regional.target_groups = groups;
    })
}

async fn read_balancer(session: &Session, client: &Client, region: &str, mut balancer: LoadBalancer) -> LoadBalancer {
    let arn = balancer.load_balancer_arn.clone();
    let listeners_call = Call::new("elbv2", region, "DescribeListeners").on(&arn);
    let mut listeners = Vec::new();
    crate::for_each_page!(session, listeners_call, client.describe_listeners().load_balancer_arn(&arn).into_paginator().send(), |page| {
        listeners.extend(page.listeners.unwrap_or_default().into_iter().map(|listener| {
            Listener {
                listener_arn: listener.listener_arn.unwrap_or_default(),
                port: listener.port,
                protocol: listener.protocol.map(|value| value.as_str().to_string()),
                ssl_policy: listener.ssl_policy,
                certificate_arns: listener.certificates.unwrap_or_default().into_iter().filter_map(|certificate| certificate.certificate_arn).collect(),
                default_actions: listener
                    .default_actions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|action| {
                        let mut target_group_arns: Vec<String> = action.target_group_arn.clone().into_iter().collect();
                        if let Some(forward) = &action.forward_config {
                            for group in forward.target_groups.clone().unwrap_or_default() {
                                if let Some(group_arn) = group.target_group_arn
                                    && !target_group_arns.contains(&group_arn)
                                {
                                    target_group_arns.push(group_arn);
                                }
                            }
                        }
                        ListenerAction {
                            r#type: action.r#type.map(|value| value.as_str().to_string()).unwrap_or_default(),
                            target_group_arns,
                            redirect_protocol: action.redirect_config.and_then(|redirect| redirect.protocol),
                        }
                    })
                    .collect(),
            }
        }));
    });
    balancer.listeners = listeners;
    let attributes_call = Call::new("elbv2", region, "DescribeLoadBalancerAttributes").on(&arn);
    balancer.attributes = crate::call!(session, attributes_call, client.describe_load_balancer_attributes().load_balancer_arn(&arn).send())
        .map(|output| {
            output.attributes.unwrap_or_default().into_iter().filter_map(|attribute| Some((attribute.key?, attribute.value.unwrap_or_default()))).collect()
        })
        .unwrap_or_default();
    let tags_call = Call::new("elbv2", region, "DescribeTags").on(&arn);
    balancer.tags = crate::call!(session, tags_call, client.describe_tags().resource_arns(&arn).send())
        .map(|output| {
            output
                .tag_descriptions
                .unwrap_or_default()
                .into_iter()
                .flat_map(|description| description.tags.unwrap_or_default())
                .filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    balancer
}
