//! CloudFront (global): distributions from ListDistributions, each with GetDistributionConfig
//! for the settings the summary leaves out (logging, default root object).

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::edge::{CacheBehavior, CustomOriginConfig, Distribution, DistributionLogging, Origin, ViewerCertificate};

use crate::GlobalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, home_region: String) -> GlobalPatch {
    let client = crate::sdk_client!(aws_sdk_cloudfront, session, &home_region);
    let mut summaries = Vec::new();
    let call = Call::new("cloudfront", vigil_model::Region::GLOBAL, "ListDistributions");
    crate::for_each_page!(session, call, client.list_distributions().into_paginator().send(), |page| {
        summaries.extend(page.distribution_list.and_then(|list| list.items).unwrap_or_default());
    });
    let distributions: Vec<Distribution> =
        futures::stream::iter(summaries).map(|summary| read_distribution(&session, &client, summary)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |inventory| inventory.edge.distributions = distributions)
}

fn origin_of(origin: aws_sdk_cloudfront::types::Origin) -> Origin {
    Origin {
        id: origin.id,
        domain_name: origin.domain_name,
        s3_origin_access_identity: origin.s3_origin_config.map(|config| config.origin_access_identity),
        custom_origin_config: origin.custom_origin_config.map(|config| CustomOriginConfig {
            origin_protocol_policy: Some(config.origin_protocol_policy.as_str().to_string()),
            origin_ssl_protocols: config
                .origin_ssl_protocols
                .map(|protocols| protocols.items.iter().map(|item| item.as_str().to_string()).collect())
                .unwrap_or_default(),
        }),
        origin_access_control_id: origin.origin_access_control_id.filter(|id| !id.is_empty()),
    }
}

fn viewer_certificate_of(certificate: aws_sdk_cloudfront::types::ViewerCertificate) -> ViewerCertificate {
    ViewerCertificate {
        cloud_front_default_certificate: certificate.cloud_front_default_certificate,
        acm_certificate_arn: certificate.acm_certificate_arn.filter(|arn| !arn.is_empty()),
        iam_certificate_id: certificate.iam_certificate_id.filter(|id| !id.is_empty()),
        minimum_protocol_version: certificate.minimum_protocol_version.map(|value| value.as_str().to_string()),
        ssl_support_method: certificate.ssl_support_method.map(|value| value.as_str().to_string()),
    }
}

fn default_behavior_of(behavior: aws_sdk_cloudfront::types::DefaultCacheBehavior) -> CacheBehavior {
    CacheBehavior {
        path_pattern: None,
        target_origin_id: behavior.target_origin_id,
        viewer_protocol_policy: Some(behavior.viewer_protocol_policy.as_str().to_string()),
        field_level_encryption_id: behavior.field_level_encryption_id.filter(|id| !id.is_empty()),
    }
}

fn behavior_of(behavior: aws_sdk_cloudfront::types::CacheBehavior) -> CacheBehavior {
    CacheBehavior {
        path_pattern: Some(behavior.path_pattern),
        target_origin_id: behavior.target_origin_id,
        viewer_protocol_policy: Some(behavior.viewer_protocol_policy.as_str().to_string()),
        field_level_encryption_id: behavior.field_level_encryption_id.filter(|id| !id.is_empty()),
    }
}

async fn read_distribution(session: &Session, client: &aws_sdk_cloudfront::Client, summary: aws_sdk_cloudfront::types::DistributionSummary) -> Distribution {
    // The summary carries the identity; the configuration (GetDistributionConfig) is the
    // authority for settings, since it also has logging and the default root object.
    let mut distribution = Distribution {
        arn: summary.arn,
        domain_name: summary.domain_name,
        status: Some(summary.status),
        enabled: summary.enabled,
        aliases: summary.aliases.and_then(|aliases| aliases.items).unwrap_or_default(),
        web_acl_id: Some(summary.web_acl_id).filter(|id| !id.is_empty()),
        viewer_certificate: summary.viewer_certificate.map(viewer_certificate_of),
        origins: summary.origins.map(|origins| origins.items.into_iter().map(origin_of).collect()).unwrap_or_default(),
        default_cache_behavior: summary.default_cache_behavior.map(default_behavior_of),
        cache_behaviors: summary.cache_behaviors.and_then(|behaviors| behaviors.items).unwrap_or_default().into_iter().map(behavior_of).collect(),
        id: summary.id,
        ..Distribution::default()
    };
    let call = Call::new("cloudfront", vigil_model::Region::GLOBAL, "GetDistributionConfig").on(&distribution.id);
    if let Some(config) =
        crate::call!(session, call, client.get_distribution_config().id(&distribution.id).send()).and_then(|output| output.distribution_config)
    {
        distribution.enabled = config.enabled;
        distribution.aliases = config.aliases.and_then(|aliases| aliases.items).unwrap_or_default();
        distribution.default_root_object = config.default_root_object.filter(|object| !object.is_empty());
        distribution.web_acl_id = config.web_acl_id.filter(|id| !id.is_empty());
        distribution.viewer_certificate = config.viewer_certificate.map(viewer_certificate_of);
        distribution.origins = config.origins.map(|origins| origins.items.into_iter().map(origin_of).collect()).unwrap_or_default();
        distribution.default_cache_behavior = config.default_cache_behavior.map(default_behavior_of);
        distribution.cache_behaviors = config.cache_behaviors.and_then(|behaviors| behaviors.items).unwrap_or_default().into_iter().map(behavior_of).collect();
        distribution.logging = config.logging.map(|logging| DistributionLogging {
            enabled: logging.enabled,
            bucket: Some(logging.bucket).filter(|bucket| !bucket.is_empty()),
            prefix: Some(logging.prefix).filter(|prefix| !prefix.is_empty()),
        });
    }
    distribution
}
