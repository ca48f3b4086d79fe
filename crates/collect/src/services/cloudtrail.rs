//! CloudTrail: trails with their status, event selectors and tags, including the shadow trails
//! a region sees (organization trails in member accounts, multi-region trails homed elsewhere).

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::monitoring::{AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, Trail, TrailEventSelectors, TrailStatus};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_cloudtrail, session, &region);
    // Shadow trails are asked for: they are how a member account sees the organization trail
    // that logs it, and how a scan of some regions sees a multi-region trail homed in another.
    let call = Call::new("cloudtrail", &region, "DescribeTrails");
    let trails = crate::call!(session, call, client.describe_trails().include_shadow_trails(true).send())
        .map(|output| output.trail_list.unwrap_or_default())
        .unwrap_or_default();
    let trails: Vec<aws_sdk_cloudtrail::types::Trail> =
        trails.into_iter().filter(|trail| reads_here(trail.home_region.as_deref(), &region, session.scanned_regions())).collect();
    let trails: Vec<Trail> =
        futures::stream::iter(trails).map(|trail| read_trail(&session, &client, &region, trail)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |regional| regional.trails = trails)
}

/// Whether the trail (one of DescribeTrails' answers in `region`) is read in `region`: each
/// trail is read once, in its home region, or, when its home region is not scanned, in the
/// first scanned region (every region sees a multi-region trail).
fn reads_here(home_region: Option<&str>, region: &str, scanned: &[String]) -> bool {
    match home_region {
        Some(home) if home == region => true,
        Some(home) if !scanned.iter().any(|scanned| scanned == home) => scanned.first().is_none_or(|first| first == region),
        Some(_) => false,
        None => true,
    }
}

async fn read_trail(session: &Session, client: &aws_sdk_cloudtrail::Client, region: &str, trail: aws_sdk_cloudtrail::types::Trail) -> Trail {
    let trail_arn = trail.trail_arn.clone().unwrap_or_default();
    let status_call = Call::new("cloudtrail", region, "GetTrailStatus").on(&trail_arn);
    let status = crate::call!(session, status_call, client.get_trail_status().name(&trail_arn).send()).map(|status| TrailStatus {
        is_logging: status.is_logging.unwrap_or(false),
        latest_delivery_time: time_opt(status.latest_delivery_time.as_ref()),
        latest_delivery_error: status.latest_delivery_error,
        latest_cloud_watch_logs_delivery_time: time_opt(status.latest_cloud_watch_logs_delivery_time.as_ref()),
        start_logging_time: time_opt(status.start_logging_time.as_ref()),
        stop_logging_time: time_opt(status.stop_logging_time.as_ref()),
    });
    let selectors_call = Call::new("cloudtrail", region, "GetEventSelectors").on(&trail_arn);
    let event_selectors = crate::call!(session, selectors_call, client.get_event_selectors().trail_name(&trail_arn).send()).map(|output| TrailEventSelectors {
        event_selectors: output
            .event_selectors
            .unwrap_or_default()
            .into_iter()
            .map(|selector| EventSelector {
                read_write_type: selector.read_write_type.map(|value| value.as_str().to_string()),
                include_management_events: selector.include_management_events,
                data_resources: selector
                    .data_resources
                    .unwrap_or_default()
                    .into_iter()
                    .map(|resource| DataResource { r#type: resource.r#type, values: resource.values.unwrap_or_default() })
                    .collect(),
                exclude_management_event_sources: selector.exclude_management_event_sources.unwrap_or_default(),
            })
            .collect(),
        advanced_event_selectors: output
            .advanced_event_selectors
            .unwrap_or_default()
            .into_iter()
            .map(|selector| AdvancedEventSelector {
                name: selector.name,
                field_selectors: selector
                    .field_selectors
                    .into_iter()
                    .map(|field| AdvancedFieldSelector {
                        field: field.field,
                        equals: field.equals.unwrap_or_default(),
                        starts_with: field.starts_with.unwrap_or_default(),
                        ends_with: field.ends_with.unwrap_or_default(),
                        not_equals: field.not_equals.unwrap_or_default(),
                        not_starts_with: field.not_starts_with.unwrap_or_default(),
                        not_ends_with: field.not_ends_with.unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
    });
    // Tags of a trail another account owns (an organization trail seen from a member account)
    // are that account's to read.
    let own = trail_arn.split(':').nth(4) == Some(session.account_id.as_str());
    let tags_call = Call::new("cloudtrail", region, "ListTags").on(&trail_arn);
    let tags = if !own {
        Default::default()
    } else {
        crate::call!(session, tags_call, client.list_tags().resource_id_list(&trail_arn).send())
            .map(|output| {
                output
                    .resource_tag_list
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|resource| resource.tags_list.unwrap_or_default())
                    .map(|tag| (tag.key, tag.value.unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    };
    Trail {
        name: trail.name.unwrap_or_default(),
        trail_arn,
        home_region: trail.home_region,
        s3_bucket_name: trail.s3_bucket_name,
        s3_key_prefix: trail.s3_key_prefix,
        sns_topic_arn: trail.sns_topic_arn,
        include_global_service_events: trail.include_global_service_events.unwrap_or(false),
        is_multi_region_trail: trail.is_multi_region_trail.unwrap_or(false),
        is_organization_trail: trail.is_organization_trail.unwrap_or(false),
        log_file_validation_enabled: trail.log_file_validation_enabled.unwrap_or(false),
        cloud_watch_logs_log_group_arn: trail.cloud_watch_logs_log_group_arn,
        cloud_watch_logs_role_arn: trail.cloud_watch_logs_role_arn,
        kms_key_id: trail.kms_key_id,
        has_custom_event_selectors: trail.has_custom_event_selectors.unwrap_or(false),
        has_insight_selectors: trail.has_insight_selectors.unwrap_or(false),
        status,
        event_selectors,
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::reads_here;

    #[test]
    fn each_trail_is_read_once_in_its_home_region_or_the_first_scanned_one() {
        let scanned = ["eu-west-1".to_string(), "us-east-1".to_string()];
        assert!(reads_here(Some("us-east-1"), "us-east-1", &scanned));
        assert!(!reads_here(Some("us-east-1"), "eu-west-1", &scanned));
        // Homed in a region the scan does not read: the first scanned region reads it.
        assert!(reads_here(Some("ap-south-1"), "eu-west-1", &scanned));
        assert!(!reads_here(Some("ap-south-1"), "us-east-1", &scanned));
        assert!(reads_here(None, "us-east-1", &scanned));
    }
}
