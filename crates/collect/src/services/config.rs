//! AWS Config: configuration recorders (with status) and delivery channels.

use std::sync::Arc;

use vigil_model::monitoring::{ConfigurationRecorder, DeliveryChannel};

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_config, session, &region);
    let recorders_call = Call::new("config", &region, "DescribeConfigurationRecorders");
    let recorders = crate::call!(session, recorders_call, client.describe_configuration_recorders().send())
        .map(|output| output.configuration_recorders.unwrap_or_default())
        .unwrap_or_default();
    let status_call = Call::new("config", &region, "DescribeConfigurationRecorderStatus");
    let statuses = crate::call!(session, status_call, client.describe_configuration_recorder_status().send())
        .map(|output| output.configuration_recorders_status.unwrap_or_default())
        .unwrap_or_default();
    let recorders: Vec<ConfigurationRecorder> = recorders
        .into_iter()
        .map(|recorder| {
            let name = recorder.name.unwrap_or_default();
            let status = statuses.iter().find(|status| status.name.as_deref() == Some(name.as_str()));
            let group = recorder.recording_group;
            ConfigurationRecorder {
                role_arn: recorder.role_arn,
                all_supported: group.as_ref().map(|group| group.all_supported).unwrap_or(false),
                include_global_resource_types: group.as_ref().map(|group| group.include_global_resource_types).unwrap_or(false),
                resource_types: group
                    .and_then(|group| group.resource_types)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|resource_type| resource_type.as_str().to_string())
                    .collect(),
                recording: status.map(|status| status.recording).unwrap_or(false),
                last_status: status.and_then(|status| status.last_status.as_ref()).map(|value| value.as_str().to_string()),
                name,
            }
        })
        .collect();
    let channels_call = Call::new("config", &region, "DescribeDeliveryChannels");
    let channels: Vec<DeliveryChannel> = crate::call!(session, channels_call, client.describe_delivery_channels().send())
        .map(|output| output.delivery_channels.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|channel| DeliveryChannel {
            name: channel.name.unwrap_or_default(),
            s3_bucket_name: channel.s3_bucket_name,
            s3_key_prefix: channel.s3_key_prefix,
            sns_topic_arn: channel.sns_topic_arn,
        })
        .collect();
    Box::new(move |regional| {
        regional.configuration_recorders = recorders;
        regional.delivery_channels = channels;
    })
}
