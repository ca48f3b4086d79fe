//! SQS: queues with all attributes (access and redrive policies decoded) and tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use vigil_model::messaging::Queue;

use super::policy_document;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_sqs, session, &region);
    let mut queue_urls = Vec::new();
    let call = Call::new("sqs", &region, "ListQueues");
    crate::for_each_page!(session, call, client.list_queues().into_paginator().send(), |page| {
        queue_urls.extend(page.queue_urls.unwrap_or_default());
    });
    let queues: Vec<Queue> = futures::stream::iter(queue_urls)
        .map(|queue_url| read_queue(&session, &client, &region, queue_url))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.sqs_queues = queues)
}

async fn read_queue(session: &Session, client: &aws_sdk_sqs::Client, region: &str, queue_url: String) -> Queue {
    let attributes_call = Call::new("sqs", region, "GetQueueAttributes").on(&queue_url);
    let mut attributes: BTreeMap<String, String> = crate::call!(
        session,
        attributes_call,
        client.get_queue_attributes().queue_url(&queue_url).attribute_names(aws_sdk_sqs::types::QueueAttributeName::All).send()
    )
    .and_then(|output| output.attributes)
    .map(|attributes| attributes.into_iter().map(|(name, value)| (name.as_str().to_string(), value)).collect())
    .unwrap_or_default();
    let tags_call = Call::new("sqs", region, "ListQueueTags").on(&queue_url);
    let tags = crate::call!(session, tags_call, client.list_queue_tags().queue_url(&queue_url).send())
        .and_then(|output| output.tags)
        .map(|tags| tags.into_iter().collect())
        .unwrap_or_default();
    let queue_arn = attributes.remove("QueueArn").unwrap_or_else(|| {
        let name = queue_url.rsplit('/').next().unwrap_or_default();
        format!("arn:{}:sqs:{region}:{}:{name}", session.partition, session.account_id)
    });
    Queue {
        policy: attributes.remove("Policy").map(|text| policy_document(&text)),
        redrive_policy: attributes.remove("RedrivePolicy").map(|text| policy_document(&text)),
        sqs_managed_sse_enabled: attributes.get("SqsManagedSseEnabled").map(|value| value == "true"),
        kms_master_key_id: attributes.get("KmsMasterKeyId").filter(|value| !value.is_empty()).cloned(),
        queue_arn,
        queue_url,
        attributes,
        tags,
    }
}
