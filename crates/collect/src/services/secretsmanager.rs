//! Secrets Manager: secrets (ListSecrets carries rotation, key, dates and tags) and their
//! resource policies (GetResourcePolicy). Secret values are never read.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::security::{RotationRules, Secret};

use super::{policy_document, time_opt};
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_secretsmanager, session, &region);
    let mut secrets = Vec::new();
    let call = Call::new("secretsmanager", &region, "ListSecrets");
    crate::for_each_page!(session, call, client.list_secrets().into_paginator().send(), |page| {
        secrets.extend(page.secret_list.unwrap_or_default().into_iter().map(|entry| {
            Secret {
                arn: entry.arn.unwrap_or_default(),
                name: entry.name.unwrap_or_default(),
                kms_key_id: entry.kms_key_id.filter(|key| !key.is_empty()),
                rotation_enabled: entry.rotation_enabled.unwrap_or(false),
                rotation_lambda_arn: entry.rotation_lambda_arn.filter(|arn| !arn.is_empty()),
                rotation_rules: entry
                    .rotation_rules
                    .map(|rules| RotationRules { automatically_after_days: rules.automatically_after_days, schedule_expression: rules.schedule_expression }),
                last_rotated_date: time_opt(entry.last_rotated_date.as_ref()),
                last_changed_date: time_opt(entry.last_changed_date.as_ref()),
                last_accessed_date: time_opt(entry.last_accessed_date.as_ref()),
                created_date: time_opt(entry.created_date.as_ref()),
                policy: None,
                tags: entry.tags.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect(),
            }
        }));
    });
    let secrets: Vec<Secret> =
        futures::stream::iter(secrets).map(|secret| read_policy(&session, &client, &region, secret)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |regional| regional.secrets = secrets)
}

async fn read_policy(session: &Session, client: &aws_sdk_secretsmanager::Client, region: &str, mut secret: Secret) -> Secret {
    let call = Call::new("secretsmanager", region, "GetResourcePolicy").on(&secret.arn);
    secret.policy = crate::call!(session, call, client.get_resource_policy().secret_id(&secret.arn).send())
        .and_then(|output| output.resource_policy)
        .map(|text| policy_document(&text));
    secret
}
