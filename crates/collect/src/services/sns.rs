//! SNS: topics with attributes (the access policy decoded), subscriptions and tags.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::monitoring::{Subscription, Topic};

use super::policy_document;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_sns, session, &region);
    let mut topic_arns = Vec::new();
    let call = Call::new("sns", &region, "ListTopics");
    crate::for_each_page!(session, call, client.list_topics().into_paginator().send(), |page| {
        topic_arns.extend(page.topics.unwrap_or_default().into_iter().filter_map(|topic| topic.topic_arn));
    });
    let topics: Vec<Topic> = futures::stream::iter(topic_arns)
        .map(|topic_arn| read_topic(&session, &client, &region, topic_arn))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.sns_topics = topics)
}

async fn read_topic(session: &Session, client: &aws_sdk_sns::Client, region: &str, topic_arn: String) -> Topic {
    // The attributes, subscriptions and tags at once.
    let attributes_call = Call::new("sns", region, "GetTopicAttributes").on(&topic_arn);
    let subscriptions_call = Call::new("sns", region, "ListSubscriptionsByTopic").on(&topic_arn);
    let tags_call = Call::new("sns", region, "ListTagsForResource").on(&topic_arn);
    let (mut attributes, subscriptions, tags) = tokio::join!(
        async {
            crate::call!(session, attributes_call, client.get_topic_attributes().topic_arn(&topic_arn).send())
                .and_then(|output| output.attributes)
                .map(|attributes| attributes.into_iter().collect::<std::collections::BTreeMap<String, String>>())
                .unwrap_or_default()
        },
        async {
            let mut subscriptions = Vec::new();
            crate::for_each_page!(session, subscriptions_call, client.list_subscriptions_by_topic().topic_arn(&topic_arn).into_paginator().send(), |page| {
                subscriptions.extend(page.subscriptions.unwrap_or_default().into_iter().map(|subscription| Subscription {
                    subscription_arn: subscription.subscription_arn.unwrap_or_default(),
                    protocol: subscription.protocol.unwrap_or_default(),
                    endpoint: subscription.endpoint,
                    owner: subscription.owner,
                }));
            });
            subscriptions
        },
        async {
            crate::call!(session, tags_call, client.list_tags_for_resource().resource_arn(&topic_arn).send())
                .map(|output| output.tags.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect::<vigil_model::Tags>())
                .unwrap_or_default()
        },
    );
    let policy = attributes.remove("Policy").map(|text| policy_document(&text));
    Topic { topic_arn, attributes, policy, subscriptions, tags }
}
