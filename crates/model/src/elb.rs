//! Elastic Load Balancing: Application/Network/Gateway load balancers (ELBv2) with listeners
//! and target groups, and Classic Load Balancers, shaped like their Describe* responses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancer {
    pub load_balancer_arn: String,
    pub load_balancer_name: String,
    pub dns_name: Option<String>,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    /// `application`, `network` or `gateway`.
    pub r#type: Option<String>,
    pub vpc_id: Option<String>,
    pub state: Option<String>,
    pub ip_address_type: Option<String>,
    /// The subnets the balancer has nodes in (AvailabilityZones[].SubnetId).
    pub subnet_ids: Vec<String>,
    pub security_groups: Vec<String>,
    pub created_time: Option<Timestamp>,
    /// DescribeListeners.
    pub listeners: Vec<Listener>,
    /// DescribeLoadBalancerAttributes (e.g. `access_logs.s3.enabled`, `deletion_protection.enabled`).
    pub attributes: BTreeMap<String, String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Listener {
    pub listener_arn: String,
    pub port: Option<i32>,
    /// HTTP | HTTPS | TCP | TLS | UDP | TCP_UDP | GENEVE
    pub protocol: Option<String>,
    pub ssl_policy: Option<String>,
    pub certificate_arns: Vec<String>,
    pub default_actions: Vec<ListenerAction>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListenerAction {
    /// forward | redirect | fixed-response | authenticate-oidc | authenticate-cognito
    pub r#type: String,
    /// The target groups a forward action sends to.
    pub target_group_arns: Vec<String>,
    /// For redirects: the protocol redirected to (e.g. `HTTPS`).
    pub redirect_protocol: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetGroup {
    pub target_group_arn: String,
    pub target_group_name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub vpc_id: Option<String>,
    /// instance | ip | lambda | alb
    pub target_type: Option<String>,
    pub load_balancer_arns: Vec<String>,
    /// DescribeTargetHealth.
    pub targets: Vec<TargetDescription>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetDescription {
    /// Instance id, IP address, Lambda ARN or ALB ARN.
    pub id: String,
    /// The port traffic is sent to; the target group's port when absent.
    pub port: Option<i32>,
    pub availability_zone: Option<String>,
    pub health_state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClassicLoadBalancer {
    pub load_balancer_name: String,
    pub dns_name: Option<String>,
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub listener_descriptions: Vec<ClassicListener>,
    /// Instance ids registered with the balancer.
    pub instances: Vec<String>,
    pub created_time: Option<Timestamp>,
    /// DescribeLoadBalancerAttributes.
    pub access_log_enabled: Option<bool>,
    pub cross_zone_load_balancing_enabled: Option<bool>,
    pub connection_draining_enabled: Option<bool>,
    /// DescribeLoadBalancerPolicies: the SSL negotiation reference policy (e.g. `ELBSecurityPolicy-TLS-1-2-2017-01`).
    pub ssl_reference_policies: Vec<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClassicListener {
    pub protocol: String,
    pub load_balancer_port: i32,
    pub instance_protocol: Option<String>,
    pub instance_port: Option<i32>,
    pub ssl_certificate_id: Option<String>,
    pub policy_names: Vec<String>,
}
