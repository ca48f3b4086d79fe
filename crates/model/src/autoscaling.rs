//! EC2 Auto Scaling: groups and launch configurations, shaped like DescribeAutoScalingGroups
//! and DescribeLaunchConfigurations. Launch templates live in the EC2 part of the inventory.

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutoScalingGroup {
    pub auto_scaling_group_name: String,
    pub auto_scaling_group_arn: String,
    pub launch_configuration_name: Option<String>,
    /// The launch template, directly or through a mixed instances policy.
    pub launch_template: Option<LaunchTemplateSpecification>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub desired_capacity: Option<i32>,
    pub availability_zones: Vec<String>,
    /// VPCZoneIdentifier split into subnet ids.
    pub subnet_ids: Vec<String>,
    /// `EC2`, `ELB`, `VPC_LATTICE` or `EBS` (comma-joined when several apply).
    pub health_check_type: Option<String>,
    pub load_balancer_names: Vec<String>,
    pub target_group_arns: Vec<String>,
    /// Instance types of a mixed instances policy's overrides.
    pub instance_types: Vec<String>,
    pub created_time: Option<Timestamp>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchTemplateSpecification {
    pub launch_template_id: Option<String>,
    pub launch_template_name: Option<String>,
    /// A version number, `$Latest` or `$Default`.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LaunchConfiguration {
    pub launch_configuration_name: String,
    pub launch_configuration_arn: String,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub associate_public_ip_address: Option<bool>,
    pub security_groups: Vec<String>,
    /// MetadataOptions.HttpTokens: `required` means IMDSv2 only; absent means `optional`.
    pub http_tokens: Option<String>,
    /// MetadataOptions.HttpEndpoint: `disabled` turns the metadata service off.
    pub http_endpoint: Option<String>,
    pub http_put_response_hop_limit: Option<i32>,
    /// Encryption flag of each EBS block device mapping, in order.
    pub ebs_encrypted: Vec<Option<bool>>,
    pub has_user_data: bool,
    /// Secrets the one detector found in the user data (location, kind, redacted form only).
    pub user_data_secrets: Vec<crate::sensitive::SecretFound>,
    pub created_time: Option<Timestamp>,
}
