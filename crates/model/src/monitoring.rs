//! Logging and monitoring services: CloudTrail, CloudWatch Logs, CloudWatch alarms, AWS Config.

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Trail {
    pub name: String,
    pub trail_arn: String,
    pub home_region: Option<String>,
    pub s3_bucket_name: Option<String>,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_arn: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region_trail: bool,
    pub is_organization_trail: bool,
    pub log_file_validation_enabled: bool,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    pub has_custom_event_selectors: bool,
    pub has_insight_selectors: bool,
    /// GetTrailStatus.
    pub status: Option<TrailStatus>,
    /// GetEventSelectors.
    pub event_selectors: Option<TrailEventSelectors>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrailStatus {
    pub is_logging: bool,
    pub latest_delivery_time: Option<Timestamp>,
    pub latest_delivery_error: Option<String>,
    pub latest_cloud_watch_logs_delivery_time: Option<Timestamp>,
    pub start_logging_time: Option<Timestamp>,
    pub stop_logging_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrailEventSelectors {
    pub event_selectors: Vec<EventSelector>,
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EventSelector {
    /// ReadOnly | WriteOnly | All
    pub read_write_type: Option<String>,
    pub include_management_events: Option<bool>,
    pub data_resources: Vec<DataResource>,
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DataResource {
    pub r#type: Option<String>,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AdvancedEventSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AdvancedFieldSelector {
    pub field: String,
    pub equals: Vec<String>,
    pub starts_with: Vec<String>,
    pub ends_with: Vec<String>,
    pub not_equals: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogGroup {
    pub log_group_name: String,
    pub arn: Option<String>,
    pub retention_in_days: Option<i32>,
    pub kms_key_id: Option<String>,
    pub stored_bytes: Option<i64>,
    pub creation_time: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MetricFilter {
    pub filter_name: String,
    pub filter_pattern: Option<String>,
    pub log_group_name: Option<String>,
    pub metric_transformations: Vec<MetricTransformation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MetricAlarm {
    pub alarm_name: String,
    pub alarm_arn: Option<String>,
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub comparison_operator: Option<String>,
    pub threshold: Option<f64>,
    pub evaluation_periods: Option<i32>,
    pub period: Option<i32>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub state_value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Topic {
    pub topic_arn: String,
    /// GetTopicAttributes, verbatim except `Policy`, which is decoded into `policy`.
    pub attributes: std::collections::BTreeMap<String, String>,
    pub policy: Option<serde_json::Value>,
    /// ListSubscriptionsByTopic.
    pub subscriptions: Vec<Subscription>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subscription {
    /// `PendingConfirmation` until the endpoint confirms.
    pub subscription_arn: String,
    pub protocol: String,
    pub endpoint: Option<String>,
    pub owner: Option<String>,
}

impl Subscription {
    pub fn is_confirmed(&self) -> bool {
        self.subscription_arn.starts_with("arn:")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct KmsKey {
    pub key_id: String,
    pub arn: String,
    /// AWS | CUSTOMER
    pub key_manager: Option<String>,
    /// Enabled | Disabled | PendingDeletion | ...
    pub key_state: Option<String>,
    pub key_spec: Option<String>,
    pub key_usage: Option<String>,
    pub origin: Option<String>,
    pub description: Option<String>,
    pub creation_date: Option<Timestamp>,
    pub deletion_date: Option<Timestamp>,
    pub enabled: bool,
    pub multi_region: Option<bool>,
    /// GetKeyRotationStatus (symmetric customer keys only).
    pub key_rotation_enabled: Option<bool>,
    /// GetKeyPolicy(default), decoded.
    pub policy: Option<serde_json::Value>,
    /// ListAliases, the alias names that point at this key.
    pub aliases: Vec<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigurationRecorder {
    pub name: String,
    pub role_arn: Option<String>,
    pub all_supported: bool,
    pub include_global_resource_types: bool,
    pub resource_types: Vec<String>,
    /// DescribeConfigurationRecorderStatus.
    pub recording: bool,
    pub last_status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeliveryChannel {
    pub name: String,
    pub s3_bucket_name: Option<String>,
    pub s3_key_prefix: Option<String>,
    pub sns_topic_arn: Option<String>,
}
