//! CloudWatch Logs: log groups and metric filters.

use std::sync::Arc;

use vigil_model::monitoring::{LogGroup, MetricFilter, MetricTransformation};

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_cloudwatchlogs, session, &region);
    // The log groups and the metric filters at once.
    let (log_groups, metric_filters) = tokio::join!(
        async {
            let mut log_groups = Vec::new();
            let groups_call = Call::new("logs", &region, "DescribeLogGroups");
            crate::for_each_page!(session, groups_call, client.describe_log_groups().into_paginator().send(), |page| {
                log_groups.extend(page.log_groups.unwrap_or_default().into_iter().map(|group| LogGroup {
                    log_group_name: group.log_group_name.unwrap_or_default(),
                    arn: group.arn,
                    retention_in_days: group.retention_in_days,
                    kms_key_id: group.kms_key_id,
                    stored_bytes: group.stored_bytes,
                    creation_time: group.creation_time,
                }));
            });
            log_groups
        },
        async {
            let mut metric_filters = Vec::new();
            let filters_call = Call::new("logs", &region, "DescribeMetricFilters");
            crate::for_each_page!(session, filters_call, client.describe_metric_filters().into_paginator().send(), |page| {
                metric_filters.extend(page.metric_filters.unwrap_or_default().into_iter().map(|filter| {
                    MetricFilter {
                        filter_name: filter.filter_name.unwrap_or_default(),
                        filter_pattern: filter.filter_pattern,
                        log_group_name: filter.log_group_name,
                        metric_transformations: filter
                            .metric_transformations
                            .unwrap_or_default()
                            .into_iter()
                            .map(|transformation| MetricTransformation {
                                metric_name: transformation.metric_name,
                                metric_namespace: transformation.metric_namespace,
                                metric_value: Some(transformation.metric_value),
                            })
                            .collect(),
                    }
                }));
            });
            metric_filters
        },
    );
    Box::new(move |regional| {
        regional.log_groups = log_groups;
        regional.metric_filters = metric_filters;
    })
}
