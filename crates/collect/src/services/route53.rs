//! Route 53 (global): hosted zones and the account's DNS query logging configurations.

use std::sync::Arc;

use vigil_model::edge::{HostedZone, QueryLoggingConfig};

use crate::GlobalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, home_region: String) -> GlobalPatch {
    let client = crate::sdk_client!(aws_sdk_route53, session, &home_region);
    let global = vigil_model::Region::GLOBAL;
    let mut zones = Vec::new();
    let zones_call = Call::new("route53", global, "ListHostedZones");
    crate::for_each_page!(session, zones_call, client.list_hosted_zones().into_paginator().send(), |page| {
        zones.extend(page.hosted_zones.into_iter().map(|zone| HostedZone {
            id: zone.id,
            name: zone.name,
            private_zone: zone.config.is_some_and(|config| config.private_zone),
            resource_record_set_count: zone.resource_record_set_count,
            query_logging_configs: Vec::new(),
        }));
    });
    // One account-wide listing instead of one call per zone.
    let mut configs = Vec::new();
    let configs_call = Call::new("route53", global, "ListQueryLoggingConfigs");
    crate::for_each_page!(session, configs_call, client.list_query_logging_configs().into_paginator().send(), |page| {
        configs.extend(page.query_logging_configs.into_iter().map(|config| QueryLoggingConfig {
            id: config.id,
            hosted_zone_id: config.hosted_zone_id,
            cloud_watch_logs_log_group_arn: config.cloud_watch_logs_log_group_arn,
        }));
    });
    for zone in &mut zones {
        let short_id = zone.short_id().to_string();
        zone.query_logging_configs = configs.iter().filter(|config| config.hosted_zone_id.trim_start_matches("/hostedzone/") == short_id).cloned().collect();
    }
    Box::new(move |inventory| inventory.edge.hosted_zones = zones)
}
