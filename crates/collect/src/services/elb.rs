//! Classic Load Balancers: listeners, registered instances, attributes, SSL policies, tags.

use std::sync::Arc;

use aws_sdk_elasticloadbalancing::Client;
use futures::StreamExt;
use vigil_model::elb::{ClassicListener, ClassicLoadBalancer};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_elasticloadbalancing, session, &region);
    let session = session.as_ref();
    let region = region.as_str();
    let mut balancers = Vec::new();
    let call = Call::new("elb", region, "DescribeLoadBalancers");
    crate::for_each_page!(session, call, client.describe_load_balancers().into_paginator().send(), |page| {
        balancers.extend(page.load_balancer_descriptions.unwrap_or_default().into_iter().map(|balancer| {
            ClassicLoadBalancer {
                load_balancer_name: balancer.load_balancer_name.unwrap_or_default(),
                dns_name: balancer.dns_name,
                scheme: balancer.scheme,
                vpc_id: balancer.vpc_id,
                subnets: balancer.subnets.unwrap_or_default(),
                security_groups: balancer.security_groups.unwrap_or_default(),
                listener_descriptions: balancer
                    .listener_descriptions
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|description| {
                        let listener = description.listener?;
                        Some(ClassicListener {
                            protocol: listener.protocol,
                            load_balancer_port: listener.load_balancer_port,
                            instance_protocol: listener.instance_protocol,
                            instance_port: Some(listener.instance_port),
                            ssl_certificate_id: listener.ssl_certificate_id,
                            policy_names: description.policy_names.unwrap_or_default(),
                        })
                    })
                    .collect(),
                instances: balancer.instances.unwrap_or_default().into_iter().filter_map(|instance| instance.instance_id).collect(),
                created_time: time_opt(balancer.created_time.as_ref()),
                ..ClassicLoadBalancer::default()
            }
        }));
    });
    let balancers: Vec<ClassicLoadBalancer> =
        futures::stream::iter(balancers).map(|balancer| read_balancer(session, &client, region, balancer)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |regional| regional.classic_load_balancers = balancers)
}

async fn read_balancer(session: &Session, client: &Client, region: &str, mut balancer: ClassicLoadBalancer) -> ClassicLoadBalancer {
    let name = balancer.load_balancer_name.clone();
    let attributes_call = Call::new("elb", region, "DescribeLoadBalancerAttributes").on(&name);
    if let Some(attributes) = crate::call!(session, attributes_call, client.describe_load_balancer_attributes().load_balancer_name(&name).send())
        .and_then(|output| output.load_balancer_attributes)
    {
        balancer.access_log_enabled = attributes.access_log.map(|log| log.enabled);
        balancer.cross_zone_load_balancing_enabled = attributes.cross_zone_load_balancing.map(|cross_zone| cross_zone.enabled);
        balancer.connection_draining_enabled = attributes.connection_draining.map(|draining| draining.enabled);
    }
    let policies_call = Call::new("elb", region, "DescribeLoadBalancerPolicies").on(&name);
    balancer.ssl_reference_policies = crate::call!(session, policies_call, client.describe_load_balancer_policies().load_balancer_name(&name).send())
        .map(|output| output.policy_descriptions.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .flat_map(|policy| policy.policy_attribute_descriptions.unwrap_or_default())
        .filter(|attribute| attribute.attribute_name.as_deref() == Some("Reference-Security-Policy"))
        .filter_map(|attribute| attribute.attribute_value)
        .collect();
    let tags_call = Call::new("elb", region, "DescribeTags").on(&name);
    balancer.tags = crate::call!(session, tags_call, client.describe_tags().load_balancer_names(&name).send())
        .map(|output| {
            output
                .tag_descriptions
                .unwrap_or_default()
                .into_iter()
                .flat_map(|description| description.tags.unwrap_or_default())
                .map(|tag| (tag.key, tag.value.unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    balancer
}
