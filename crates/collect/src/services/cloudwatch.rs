//! CloudWatch: metric alarms.

use std::sync::Arc;

use vigil_model::monitoring::MetricAlarm;

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_cloudwatch, session, &region);
    let mut alarms = Vec::new();
    let call = Call::new("cloudwatch", &region, "DescribeAlarms");
    crate::for_each_page!(session, call, client.describe_alarms().into_paginator().send(), |page| {
        alarms.extend(page.metric_alarms.unwrap_or_default().into_iter().map(|alarm| MetricAlarm {
            alarm_name: alarm.alarm_name.unwrap_or_default(),
            alarm_arn: alarm.alarm_arn,
            metric_name: alarm.metric_name,
            namespace: alarm.namespace,
            statistic: alarm.statistic.map(|value| value.as_str().to_string()),
            comparison_operator: alarm.comparison_operator.map(|value| value.as_str().to_string()),
            threshold: alarm.threshold,
            evaluation_periods: alarm.evaluation_periods,
            period: alarm.period,
            actions_enabled: alarm.actions_enabled.unwrap_or(false),
            alarm_actions: alarm.alarm_actions.unwrap_or_default(),
            ok_actions: alarm.ok_actions.unwrap_or_default(),
            insufficient_data_actions: alarm.insufficient_data_actions.unwrap_or_default(),
            state_value: alarm.state_value.map(|value| value.as_str().to_string()),
        }));
    });
    Box::new(move |regional| regional.metric_alarms = alarms)
}
