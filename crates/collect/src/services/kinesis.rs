//! Kinesis Data Streams: each stream's summary (encryption, retention, mode).

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::messaging::Stream;

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_kinesis, session, &region);
    let mut stream_names = Vec::new();
    let call = Call::new("kinesis", &region, "ListStreams");
    crate::for_each_page!(session, call, client.list_streams().into_paginator().send(), |page| {
        stream_names.extend(page.stream_names);
    });
    let streams: Vec<Stream> = futures::stream::iter(stream_names)
        .map(|stream_name| read_stream(&session, &client, &region, stream_name))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.kinesis_streams = streams)
}

async fn read_stream(session: &Session, client: &aws_sdk_kinesis::Client, region: &str, stream_name: String) -> Stream {
    let call = Call::new("kinesis", region, "DescribeStreamSummary").on(&stream_name);
    let summary =
        crate::call!(session, call, client.describe_stream_summary().stream_name(&stream_name).send()).and_then(|output| output.stream_description_summary);
    match summary {
        Some(summary) => Stream {
            stream_arn: summary.stream_arn,
            stream_status: Some(summary.stream_status.as_str().to_string()),
            encryption_type: summary.encryption_type.map(|value| value.as_str().to_string()),
            key_id: summary.key_id,
            retention_period_hours: Some(summary.retention_period_hours),
            stream_mode: summary.stream_mode_details.map(|details| details.stream_mode.as_str().to_string()),
            open_shard_count: Some(summary.open_shard_count),
            stream_name,
        },
        None => Stream {
            stream_arn: format!("arn:{}:kinesis:{region}:{}:stream/{stream_name}", session.partition, session.account_id),
            stream_name,
            ..Stream::default()
        },
    }
}
