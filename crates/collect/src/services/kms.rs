//! KMS: keys with metadata, rotation status, key policy, aliases and tags.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::monitoring::KmsKey;

use super::{policy_document, time_opt};
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_kms, session, &region);
    // The keys and the aliases at once.
    let (key_ids, aliases) = tokio::join!(
        async {
            let mut key_ids = Vec::new();
            let keys_call = Call::new("kms", &region, "ListKeys");
            crate::for_each_page!(session, keys_call, client.list_keys().into_paginator().send(), |page| {
                key_ids.extend(page.keys.unwrap_or_default().into_iter().filter_map(|key| key.key_id));
            });
            key_ids
        },
        async {
            let mut aliases: Vec<(String, String)> = Vec::new();
            let aliases_call = Call::new("kms", &region, "ListAliases");
            crate::for_each_page!(session, aliases_call, client.list_aliases().into_paginator().send(), |page| {
                aliases.extend(page.aliases.unwrap_or_default().into_iter().filter_map(|alias| Some((alias.target_key_id?, alias.alias_name?))));
            });
            aliases
        },
    );
    let keys: Vec<KmsKey> =
        futures::stream::iter(key_ids).map(|key_id| read_key(&session, &client, &region, key_id, &aliases)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |regional| regional.kms_keys = keys)
}

async fn read_key(session: &Session, client: &aws_sdk_kms::Client, region: &str, key_id: String, aliases: &[(String, String)]) -> KmsKey {
    // The key's policy does not depend on its metadata: read both at once.
    let describe_call = Call::new("kms", region, "DescribeKey").on(&key_id);
    let policy_call = Call::new("kms", region, "GetKeyPolicy").on(&key_id);
    let (metadata, policy) = tokio::join!(
        async { crate::call!(session, describe_call, client.describe_key().key_id(&key_id).send()).and_then(|output| output.key_metadata) },
        async {
            crate::call!(session, policy_call, client.get_key_policy().key_id(&key_id).policy_name("default").send())
                .and_then(|output| output.policy)
                .map(|text| policy_document(&text))
        },
    );
    let key_manager = metadata.as_ref().and_then(|metadata| metadata.key_manager.as_ref()).map(|value| value.as_str().to_string());
    let key_spec = metadata.as_ref().and_then(|metadata| metadata.key_spec.as_ref()).map(|value| value.as_str().to_string());
    let key_state = metadata.as_ref().and_then(|metadata| metadata.key_state.as_ref()).map(|value| value.as_str().to_string());
    let customer_symmetric = key_manager.as_deref() == Some("CUSTOMER") && key_spec.as_deref().is_none_or(|spec| spec == "SYMMETRIC_DEFAULT");
    // Rotation applies to enabled symmetric customer keys only; AWS rejects the call for others.
    let key_rotation_enabled = if customer_symmetric && key_state.as_deref() != Some("PendingDeletion") {
        let rotation_call = Call::new("kms", region, "GetKeyRotationStatus").on(&key_id);
        crate::call!(session, rotation_call, client.get_key_rotation_status().key_id(&key_id).send()).map(|output| output.key_rotation_enabled)
    } else {
        None
    };
    let tags = if key_manager.as_deref() == Some("CUSTOMER") {
        let tags_call = Call::new("kms", region, "ListResourceTags").on(&key_id);
        crate::call!(session, tags_call, client.list_resource_tags().key_id(&key_id).send())
            .map(|output| output.tags.unwrap_or_default().into_iter().map(|tag| (tag.tag_key, tag.tag_value)).collect())
            .unwrap_or_default()
    } else {
        Default::default()
    };
    let arn = metadata
        .as_ref()
        .and_then(|metadata| metadata.arn.clone())
        .unwrap_or_else(|| format!("arn:{}:kms:{region}:{}:key/{key_id}", session.partition, session.account_id));
    KmsKey {
        arn,
        key_manager,
        key_state,
        key_spec,
        key_usage: metadata.as_ref().and_then(|metadata| metadata.key_usage.as_ref()).map(|value| value.as_str().to_string()),
        origin: metadata.as_ref().and_then(|metadata| metadata.origin.as_ref()).map(|value| value.as_str().to_string()),
        description: metadata.as_ref().and_then(|metadata| metadata.description.clone()),
        creation_date: time_opt(metadata.as_ref().and_then(|metadata| metadata.creation_date.as_ref())),
        deletion_date: time_opt(metadata.as_ref().and_then(|metadata| metadata.deletion_date.as_ref())),
        enabled: metadata.as_ref().map(|metadata| metadata.enabled).unwrap_or(false),
        multi_region: metadata.as_ref().and_then(|metadata| metadata.multi_region),
        key_rotation_enabled,
        policy,
        aliases: aliases.iter().filter(|(target, _)| target == &key_id).map(|(_, alias)| alias.clone()).collect(),
        tags,
        key_id,
    }
}
