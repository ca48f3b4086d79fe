//! Security Hub: whether the hub is enabled in the region (DescribeHub) and which standards
//! are subscribed (GetEnabledStandards).

use std::sync::Arc;

use vigil_model::security::{SecurityHub, StandardsSubscription};

use crate::RegionalPatch;
use crate::session::{Call, Session};

/// Codes DescribeHub answers with when Security Hub is not enabled in the region.
const NOT_ENABLED_CODES: &[&str] = &["InvalidAccessException", "ResourceNotFoundException"];

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_securityhub, session, &region);
    let call = Call::new("securityhub", &region, "DescribeHub");
    let Some(output) = crate::call_absent!(session, call, client.describe_hub().send(), NOT_ENABLED_CODES) else {
        return Box::new(|regional| regional.security_hub = None);
    };
    let mut hub = SecurityHub {
        hub_arn: output.hub_arn.unwrap_or_else(|| format!("arn:{}:securityhub:{region}:{}:hub/default", session.partition, session.account_id)),
        subscribed_at: output.subscribed_at,
        auto_enable_controls: output.auto_enable_controls,
        standards_subscriptions: Vec::new(),
    };
    let standards_call = Call::new("securityhub", &region, "GetEnabledStandards");
    crate::for_each_page!(session, standards_call, client.get_enabled_standards().into_paginator().send(), |page| {
        hub.standards_subscriptions.extend(page.standards_subscriptions.unwrap_or_default().into_iter().map(|subscription| StandardsSubscription {
            standards_arn: subscription.standards_arn.unwrap_or_default(),
            standards_subscription_arn: subscription.standards_subscription_arn.unwrap_or_default(),
            standards_status: subscription.standards_status.map(|status| status.as_str().to_string()),
        }));
    });
    Box::new(move |regional| regional.security_hub = Some(hub))
}
