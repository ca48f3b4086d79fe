//! Global edge services: CloudFront distributions, Route 53 hosted zones and registered domains.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The account's global edge resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Edge {
    pub distributions: Vec<Distribution>,
    pub hosted_zones: Vec<HostedZone>,
    /// Route 53 Domains (served from us-east-1 only).
    pub domains: Vec<Domain>,
}

/// A CloudFront distribution: ListDistributions summary plus GetDistributionConfig.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Distribution {
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub domain_name: String,
    pub status: Option<String>,
    pub enabled: bool,
    pub aliases: Vec<String>,
    pub default_root_object: Option<String>,
    /// Empty when no web ACL is associated.
    pub web_acl_id: Option<String>,
    pub viewer_certificate: Option<ViewerCertificate>,
    pub origins: Vec<Origin>,
    pub default_cache_behavior: Option<CacheBehavior>,
    pub cache_behaviors: Vec<CacheBehavior>,
    pub logging: Option<DistributionLogging>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ViewerCertificate {
    pub cloud_front_default_certificate: Option<bool>,
    #[serde(rename = "ACMCertificateArn")]
    pub acm_certificate_arn: Option<String>,
    #[serde(rename = "IAMCertificateId")]
    pub iam_certificate_id: Option<String>,
    /// e.g. `TLSv1.2_2021`, `TLSv1`, `SSLv3`.
    pub minimum_protocol_version: Option<String>,
    /// `sni-only`, `vip` or `static-ip`.
    #[serde(rename = "SSLSupportMethod")]
    pub ssl_support_method: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    /// Present for S3 origins (`S3OriginConfig.OriginAccessIdentity`, possibly empty).
    pub s3_origin_access_identity: Option<String>,
    pub custom_origin_config: Option<CustomOriginConfig>,
    pub origin_access_control_id: Option<String>,
}

impl Origin {
    /// An S3 bucket origin (website endpoints are custom origins).
    pub fn is_s3(&self) -> bool {
        self.s3_origin_access_identity.is_some() || (self.custom_origin_config.is_none() && self.domain_name.contains(".s3."))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomOriginConfig {
    /// `http-only`, `match-viewer` or `https-only`.
    pub origin_protocol_policy: Option<String>,
    /// e.g. `TLSv1.2`, `TLSv1.1`, `TLSv1`, `SSLv3`.
    #[serde(rename = "OriginSslProtocols")]
    pub origin_ssl_protocols: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CacheBehavior {
    /// Absent for the default behaviour.
    pub path_pattern: Option<String>,
    pub target_origin_id: String,
    /// `allow-all`, `https-only` or `redirect-to-https`.
    pub viewer_protocol_policy: Option<String>,
    pub field_level_encryption_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DistributionLogging {
    pub enabled: bool,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
}

/// A Route 53 hosted zone with its query logging configurations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostedZone {
    /// `/hostedzone/Z...` as AWS returns it.
    pub id: String,
    pub name: String,
    pub private_zone: bool,
    pub resource_record_set_count: Option<i64>,
    pub query_logging_configs: Vec<QueryLoggingConfig>,
}

impl HostedZone {
    /// The zone id without the `/hostedzone/` prefix.
    pub fn short_id(&self) -> &str {
        self.id.trim_start_matches("/hostedzone/")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct QueryLoggingConfig {
    pub id: String,
    pub hosted_zone_id: String,
    pub cloud_watch_logs_log_group_arn: String,
}

/// A domain registered with Route 53: ListDomains plus GetDomainDetail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Domain {
    pub domain_name: String,
    pub auto_renew: Option<bool>,
    pub transfer_lock: Option<bool>,
    pub expiry: Option<Timestamp>,
    pub admin_privacy: Option<bool>,
    pub registrant_privacy: Option<bool>,
    pub tech_privacy: Option<bool>,
    /// EPP status codes, e.g. `clientTransferProhibited`.
    pub status_list: Vec<String>,
}
