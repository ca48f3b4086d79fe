//! S3: every bucket with its region and configuration, and the account's public access block.

use std::sync::Arc;

use aws_sdk_s3::Client;
use futures::StreamExt;
use vigil_model::Region;
use vigil_model::s3::*;
use vigil_model::sensitive::SensitiveDataSample;

use super::{policy_document, time_opt};
use crate::GlobalPatch;
use crate::session::{Call, Session};

fn client_for(session: &Session, region: &str) -> Client {
    session.s3_client(region)
}

/// The region of a bucket from its location constraint (empty means us-east-1, `EU` is eu-west-1).
pub fn normalize_location(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

pub async fn collect(session: Arc<Session>, home_region: String) -> GlobalPatch {
    let client = client_for(&session, &home_region);
    let mut listed = Vec::new();
    let call = Call::new("s3", Region::GLOBAL, "ListBuckets");
    crate::for_each_page!(session, call, client.list_buckets().into_paginator().send(), |page| {
        listed.extend(page.buckets.unwrap_or_default());
    });
    let session_ref = session.as_ref();
    // Every bucket (and each bucket's settings) at once, as far as the lanes and the global cap
    // let in; the account's public access block alongside.
    let buckets = futures::stream::iter(listed)
        .map(|bucket| {
            let client = &client;
            let home_region = home_region.as_str();
            async move {
                let name = bucket.name.unwrap_or_default();
                let region = match bucket.bucket_region {
                    Some(region) if !region.is_empty() => region,
                    _ => {
                        let call = Call::new("s3", Region::GLOBAL, "GetBucketLocation").on(&name);
                        crate::call!(session_ref, call, client.get_bucket_location().bucket(&name).send())
                            .map(|output| normalize_location(output.location_constraint.as_ref().map(|constraint| constraint.as_str())))
                            .unwrap_or_else(|| home_region.to_string())
                    }
                };
                read_bucket(session_ref, name, region, time_opt(bucket.creation_date.as_ref())).await
            }
        })
        .buffer_unordered(session.fan_out())
        .collect::<Vec<Bucket>>();
    let (buckets, account_public_access_block) = tokio::join!(buckets, account_public_access_block(&session, &home_region));
    Box::new(move |inventory| {
        inventory.s3.buckets = buckets;
        inventory.s3.account_public_access_block = account_public_access_block;
    })
}

async fn account_public_access_block(session: &Session, home_region: &str) -> Option<PublicAccessBlockConfiguration> {
    let client = session.s3control_client(home_region);
    let call = Call::new("s3control", Region::GLOBAL, "GetPublicAccessBlock").on(&session.account_id);
    crate::call!(session, call, client.get_public_access_block().account_id(&session.account_id).send())
        .and_then(|output| output.public_access_block_configuration)
        .map(|block| PublicAccessBlockConfiguration {
            block_public_acls: block.block_public_acls.unwrap_or(false),
            ignore_public_acls: block.ignore_public_acls.unwrap_or(false),
            block_public_policy: block.block_public_policy.unwrap_or(false),
            restrict_public_buckets: block.restrict_public_buckets.unwrap_or(false),
        })
}

async fn read_bucket(session: &Session, name: String, region: String, creation_date: Option<vigil_model::Timestamp>) -> Bucket {
    let client = client_for(session, &region);
    let bucket_name = name.as_str();
    let at = |operation: &'static str| Call::new("s3", region.as_str(), operation).on(bucket_name);
    // All fourteen settings at once: none needs another's answer.
    let (
        acl,
        policy,
        policy_status,
        public_access_block,
        versioning,
        encryption,
        logging,
        cors,
        ownership,
        website,
        lifecycle,
        replication,
        object_lock,
        tagging,
    ) = tokio::join!(
        async { crate::call!(session, at("GetBucketAcl"), client.get_bucket_acl().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketPolicy"), client.get_bucket_policy().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketPolicyStatus"), client.get_bucket_policy_status().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetPublicAccessBlock"), client.get_public_access_block().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketVersioning"), client.get_bucket_versioning().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketEncryption"), client.get_bucket_encryption().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketLogging"), client.get_bucket_logging().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketCors"), client.get_bucket_cors().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketOwnershipControls"), client.get_bucket_ownership_controls().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketWebsite"), client.get_bucket_website().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketLifecycleConfiguration"), client.get_bucket_lifecycle_configuration().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketReplication"), client.get_bucket_replication().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetObjectLockConfiguration"), client.get_object_lock_configuration().bucket(bucket_name).send()) },
        async { crate::call!(session, at("GetBucketTagging"), client.get_bucket_tagging().bucket(bucket_name).send()) },
    );
    let sensitive_data = sample_objects(session, &client, bucket_name, &region).await;
    Bucket {
        creation_date,
        sensitive_data,
        acl: acl.map(|acl| AccessControlPolicy {
            owner_id: acl.owner.and_then(|owner| owner.id),
            grants: acl
                .grants
                .unwrap_or_default()
                .into_iter()
                .map(|grant| {
                    let grantee = grant.grantee;
                    Grant {
                        grantee_type: grantee.as_ref().map(|grantee| grantee.r#type.as_str().to_string()).unwrap_or_default(),
                        grantee_id: grantee.as_ref().and_then(|grantee| grantee.id.clone()),
                        grantee_uri: grantee.as_ref().and_then(|grantee| grantee.uri.clone()),
                        grantee_email_address: grantee.as_ref().and_then(|grantee| grantee.email_address.clone()),
                        permission: grant.permission.map(|permission| permission.as_str().to_string()).unwrap_or_default(),
                    }
                })
                .collect(),
        }),
        policy: policy.and_then(|output| output.policy).map(|text| policy_document(&text)),
        policy_is_public: policy_status.and_then(|output| output.policy_status).and_then(|status| status.is_public),
        public_access_block: public_access_block.and_then(|output| output.public_access_block_configuration).map(|block| PublicAccessBlockConfiguration {
            block_public_acls: block.block_public_acls.unwrap_or(false),
            ignore_public_acls: block.ignore_public_acls.unwrap_or(false),
            block_public_policy: block.block_public_policy.unwrap_or(false),
            restrict_public_buckets: block.restrict_public_buckets.unwrap_or(false),
        }),
        versioning: versioning.map(|output| VersioningConfiguration {
            status: output.status.map(|status| status.as_str().to_string()),
            mfa_delete: output.mfa_delete.map(|mfa_delete| mfa_delete.as_str().to_string()),
        }),
        server_side_encryption_rules: encryption.and_then(|output| output.server_side_encryption_configuration).map(|configuration| {
            configuration
                .rules
                .into_iter()
                .map(|rule| {
                    let default = rule.apply_server_side_encryption_by_default;
                    ServerSideEncryptionRule {
                        sse_algorithm: default.as_ref().map(|default| default.sse_algorithm.as_str().to_string()).unwrap_or_default(),
                        kms_master_key_id: default.and_then(|default| default.kms_master_key_id),
                        bucket_key_enabled: rule.bucket_key_enabled,
                    }
                })
                .collect()
        }),
        logging: logging
            .and_then(|output| output.logging_enabled)
            .map(|logging| LoggingEnabled { target_bucket: logging.target_bucket, target_prefix: Some(logging.target_prefix) }),
        cors_rules: cors.map(|output| {
            output
                .cors_rules
                .unwrap_or_default()
                .into_iter()
                .map(|rule| CorsRule {
                    allowed_methods: rule.allowed_methods,
                    allowed_origins: rule.allowed_origins,
                    allowed_headers: rule.allowed_headers.unwrap_or_default(),
                    expose_headers: rule.expose_headers.unwrap_or_default(),
                    max_age_seconds: rule.max_age_seconds,
                })
                .collect()
        }),
        object_ownership: ownership
            .and_then(|output| output.ownership_controls)
            .and_then(|controls| controls.rules.into_iter().next())
            .map(|rule| rule.object_ownership.as_str().to_string()),
        website: website.map(|output| WebsiteConfiguration {
            index_document: output.index_document.map(|document| document.suffix),
            error_document: output.error_document.map(|document| document.key),
            redirect_all_requests_to: output.redirect_all_requests_to.map(|redirect| redirect.host_name),
        }),
        lifecycle_rules: lifecycle.map(|output| {
            output
                .rules
                .unwrap_or_default()
                .into_iter()
                .map(|rule| LifecycleRule {
                    id: rule.id,
                    status: rule.status.as_str().to_string(),
                    expiration_days: rule.expiration.and_then(|expiration| expiration.days),
                    noncurrent_version_expiration_days: rule.noncurrent_version_expiration.and_then(|expiration| expiration.noncurrent_days),
                    abort_incomplete_multipart_upload_days: rule.abort_incomplete_multipart_upload.and_then(|abort| abort.days_after_initiation),
                })
                .collect()
        }),
        replication: replication.and_then(|output| output.replication_configuration).map(|configuration| ReplicationConfiguration {
            role: Some(configuration.role),
            rules: configuration
                .rules
                .into_iter()
                .map(|rule| ReplicationRule {
                    id: rule.id,
                    status: rule.status.as_str().to_string(),
                    destination_bucket: rule.destination.as_ref().map(|destination| destination.bucket.clone()),
                    destination_account: rule.destination.and_then(|destination| destination.account),
                })
                .collect(),
        }),
        object_lock: object_lock.and_then(|output| output.object_lock_configuration).map(|configuration| {
            let retention = configuration.rule.and_then(|rule| rule.default_retention);
            ObjectLockConfiguration {
                object_lock_enabled: configuration.object_lock_enabled.map(|enabled| enabled.as_str().to_string()),
                default_retention_mode: retention.as_ref().and_then(|retention| retention.mode.as_ref()).map(|mode| mode.as_str().to_string()),
                default_retention_days: retention.as_ref().and_then(|retention| retention.days),
                default_retention_years: retention.and_then(|retention| retention.years),
            }
        }),
        tags: tagging.map(|output| output.tag_set.into_iter().map(|tag| (tag.key, tag.value)).collect()).unwrap_or_default(),
        name,
        region,
    }
}

/// The S3 sampler (`--sample-objects N`, off by default): lists up to N objects of the bucket
/// (the first N keys, skipping folder markers and empty objects), reads the first
/// [`crate::SAMPLE_BYTES_PER_OBJECT`] bytes of each with a ranged GetObject and runs the one
/// secrets detector over them. Read-only, every call in the ledger; only what the detector
/// found (kind, object key and line, redacted form) is kept. None when the sampler is off.
async fn sample_objects(session: &Session, client: &Client, bucket_name: &str, region: &str) -> Option<SensitiveDataSample> {
    let wanted = session.sample_objects().min(1000);
    if wanted == 0 {
        return None;
    }
    let mut sample = SensitiveDataSample::default();
    let list_call = Call::new("s3", region, "ListObjectsV2").on(bucket_name);
    let max_keys = i32::try_from(wanted).unwrap_or(1000);
    let Some(listing) = crate::call!(session, list_call, client.list_objects_v2().bucket(bucket_name).max_keys(max_keys).send()) else {
        // The failure is in the ledger; the check reports it as ERROR naming the call.
        return Some(sample);
    };
    let keys: Vec<String> = listing
        .contents
        .unwrap_or_default()
        .into_iter()
        .filter(|object| object.size.unwrap_or(0) > 0)
        .filter_map(|object| object.key)
        .filter(|key| !key.ends_with('/'))
        .take(wanted)
        .collect();
    let range = format!("bytes=0-{}", crate::SAMPLE_BYTES_PER_OBJECT - 1);
    let read: Vec<(String, Option<Vec<u8>>)> = futures::stream::iter(keys)
        .map(|key| {
            let range = range.as_str();
            async move {
                let target = format!("{bucket_name}/{key}");
                let call = Call::new("s3", region, "GetObject").on(&target);
                let Some(output) = crate::call!(session, call, client.get_object().bucket(bucket_name).key(&key).range(range).send()) else {
                    return (key, None);
                };
                match output.body.collect().await {
                    Ok(body) => {
                        let mut bytes = body.into_bytes().to_vec();
                        bytes.truncate(usize::try_from(crate::SAMPLE_BYTES_PER_OBJECT).unwrap_or(usize::MAX));
                        (key, Some(bytes))
                    }
                    Err(error) => {
                        session.record_outcome(
                            &call,
                            vigil_model::Outcome::Error { code: "ResponseBody".to_string(), message: format!("cannot read the object body: {error}") },
                        );
                        (key, None)
                    }
                }
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut read = read;
    read.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, bytes) in read {
        let Some(bytes) = bytes else {
            sample.objects_sampled.push(key);
            continue;
        };
        sample.bytes_read += bytes.len() as u64;
        sample.findings.extend(super::secrets::in_text(&String::from_utf8_lossy(&bytes), &format!("object {key}")));
        sample.objects_sampled.push(key);
    }
    let kinds: std::collections::BTreeSet<&str> = sample.findings.iter().map(|finding| finding.kind.as_str()).collect();
    sample.kinds = kinds.into_iter().map(str::to_string).collect();
    Some(sample)
}

#[cfg(test)]
mod tests {
    use super::normalize_location;

    #[test]
    fn location_constraints_map_to_regions() {
        assert_eq!(normalize_location(None), "us-east-1");
        assert_eq!(normalize_location(Some("")), "us-east-1");
        assert_eq!(normalize_location(Some("EU")), "eu-west-1");
        assert_eq!(normalize_location(Some("ap-southeast-2")), "ap-southeast-2");
    }
}
