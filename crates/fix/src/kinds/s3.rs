//! S3 slices: Block Public Access (bucket and account), a bucket's ACL and policy, default
//! encryption and object ownership.

use serde_json::{Value, json};
use vigil_model::Inventory;
use vigil_model::s3::{AccessControlPolicy, Bucket, Grant, PublicAccessBlockConfiguration, ServerSideEncryptionRule};

use super::{Kind, as_is};
use crate::iac;
use crate::support::{clean, parse, policy_text, require, to_value};
use crate::{Call, FixError};

pub(crate) fn bucket<'a>(inventory: &'a Inventory, name: &str) -> Result<&'a Bucket, FixError> {
    inventory.s3.buckets.iter().find(|bucket| bucket.name == name).ok_or_else(|| FixError::NotFound(format!("bucket `{name}`")))
}

pub(crate) fn bucket_mut<'a>(inventory: &'a mut Inventory, name: &str) -> Result<&'a mut Bucket, FixError> {
    inventory.s3.buckets.iter_mut().find(|bucket| bucket.name == name).ok_or_else(|| FixError::NotFound(format!("bucket `{name}`")))
}

fn block(state: &Value) -> Result<Option<PublicAccessBlockConfiguration>, FixError> {
    match state.get("PublicAccessBlockConfiguration") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => parse(value, "PublicAccessBlockConfiguration").map(Some),
    }
}

/// A Block Public Access configuration with every setting on.
pub(crate) fn all_blocked() -> Value {
    json!({ "PublicAccessBlockConfiguration": { "BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true } })
}

fn block_iac_attributes(after: &Value) -> Vec<(&'static str, Value)> {
    let block = block(after).ok().flatten().unwrap_or_default();
    vec![
        ("block_public_acls", json!(block.block_public_acls)),
        ("ignore_public_acls", json!(block.ignore_public_acls)),
        ("block_public_policy", json!(block.block_public_policy)),
        ("restrict_public_buckets", json!(block.restrict_public_buckets)),
    ]
}

// ---- Block Public Access of a bucket ----

pub static BUCKET_PUBLIC_ACCESS_BLOCK: Kind = Kind {
    id: "s3-bucket-public-access-block",
    title: "the Block Public Access settings of a bucket",
    service: "s3",
    reads: &["s3:ListBuckets", "s3:GetBucketLocation", "s3:GetPublicAccessBlock"],
    writes: &["s3:PutPublicAccessBlock", "s3:DeletePublicAccessBlock"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "s3", &target.region, "GetPublicAccessBlock", Some(&target.id))?;
        Ok(json!({ "PublicAccessBlockConfiguration": bucket(inventory, &target.id)?.public_access_block }))
    },
    set_state: |inventory, target, state| {
        bucket_mut(inventory, &target.id)?.public_access_block = block(state)?;
        Ok(())
    },
    calls: |target, from, to| {
        if block(from)? == block(to)? {
            return Ok(Vec::new());
        }
        Ok(vec![match block(to)? {
            Some(configuration) => {
                Call::new("s3", "PutPublicAccessBlock", &target.region, json!({ "Bucket": target.id, "PublicAccessBlockConfiguration": configuration }))
            }
            None => Call::new("s3", "DeletePublicAccessBlock", &target.region, json!({ "Bucket": target.id })),
        }])
    },
    normalize: as_is,
    iac: |target, after| {
        let mut attributes = vec![("bucket", json!(target.id))];
        attributes.extend(block_iac_attributes(after));
        iac::resource_block(
            &format!("bucket {}", target.id),
            "aws_s3_bucket_public_access_block",
            &attributes,
            "AWS::S3::Bucket",
            &[("PublicAccessBlockConfiguration", after.get("PublicAccessBlockConfiguration").cloned().unwrap_or(Value::Null))],
        )
    },
};

// ---- Block Public Access of the account ----

pub static ACCOUNT_PUBLIC_ACCESS_BLOCK: Kind = Kind {
    id: "s3-account-public-access-block",
    title: "the account-level S3 Block Public Access settings",
    service: "s3",
    reads: &["s3control:GetPublicAccessBlock"],
    writes: &["s3control:PutPublicAccessBlock", "s3control:DeletePublicAccessBlock"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "s3control", vigil_model::Region::GLOBAL, "GetPublicAccessBlock", Some(&target.account_id))?;
        Ok(json!({ "PublicAccessBlockConfiguration": inventory.s3.account_public_access_block }))
    },
    set_state: |inventory, _target, state| {
        inventory.s3.account_public_access_block = block(state)?;
        Ok(())
    },
    calls: |target, from, to| {
        if block(from)? == block(to)? {
            return Ok(Vec::new());
        }
        Ok(vec![match block(to)? {
            Some(configuration) => Call::new(
                "s3control",
                "PutPublicAccessBlock",
                vigil_model::Region::GLOBAL,
                json!({ "AccountId": target.account_id, "PublicAccessBlockConfiguration": configuration }),
            ),
            None => Call::new("s3control", "DeletePublicAccessBlock", vigil_model::Region::GLOBAL, json!({ "AccountId": target.account_id })),
        }])
    },
    normalize: as_is,
    iac: |target, after| {
        iac::standalone(
            &format!("account {} S3 Block Public Access", target.account_id),
            "aws_s3_account_public_access_block",
            &block_iac_attributes(after),
            "# CloudFormation has no resource for the account-level block; use the API (see the calls) or Terraform",
        )
    },
};

// ---- A bucket's ACL and policy ----

pub static BUCKET_ACCESS: Kind = Kind {
    id: "s3-bucket-access",
    title: "the ACL grants and the bucket policy of a bucket",
    service: "s3",
    reads: &["s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:GetBucketPolicy"],
    writes: &["s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "s3", &target.region, "GetBucketAcl", Some(&target.id))?;
        require(inventory, "s3", &target.region, "GetBucketPolicy", Some(&target.id))?;
        let bucket = bucket(inventory, &target.id)?;
        let acl = bucket.acl.clone().unwrap_or_default();
        Ok(json!({ "Owner": acl.owner_id, "Grants": acl.grants, "Policy": bucket.policy }))
    },
    set_state: |inventory, target, state| {
        let grants = grants(state)?;
        let bucket = bucket_mut(inventory, &target.id)?;
        let owner = state.get("Owner").and_then(Value::as_str).map(str::to_string);
        bucket.acl = Some(AccessControlPolicy { owner_id: owner, grants });
        bucket.policy = state.get("Policy").filter(|policy| !policy.is_null()).cloned();
        Ok(())
    },
    calls: |target, from, to| {
        let mut calls = Vec::new();
        let (before, after) = (grants(from)?, grants(to)?);
        if before != after {
            let owner = to.get("Owner").and_then(Value::as_str).unwrap_or_default();
            let api_grants: Vec<Value> = after
                .iter()
                .map(|grant| {
                    clean(json!({
                        "Grantee": { "Type": grant.grantee_type, "ID": grant.grantee_id, "URI": grant.grantee_uri, "EmailAddress": grant.grantee_email_address },
                        "Permission": grant.permission,
                    }))
                })
                .collect();
            calls.push(Call::new(
                "s3",
                "PutBucketAcl",
                &target.region,
                json!({ "Bucket": target.id, "AccessControlPolicy": { "Owner": { "ID": owner }, "Grants": api_grants } }),
            ));
        }
        let policy_of = |state: &Value| state.get("Policy").filter(|policy| !policy.is_null()).cloned();
        if policy_of(from) != policy_of(to) {
            calls.push(match policy_of(to) {
                Some(policy) => Call::new("s3", "PutBucketPolicy", &target.region, json!({ "Bucket": target.id, "Policy": policy_text(&policy) })),
                None => Call::new("s3", "DeleteBucketPolicy", &target.region, json!({ "Bucket": target.id })),
            });
        }
        Ok(calls)
    },
    normalize: |state| {
        let mut grants: Vec<String> = grants(state).unwrap_or_default().iter().map(|grant| to_value(grant).to_string()).collect();
        grants.sort();
        json!({ "Grants": grants, "Policy": state.get("Policy").filter(|policy| !policy.is_null()) })
    },
    iac: |target, after| {
        let policy = after.get("Policy").filter(|policy| !policy.is_null()).cloned();
        let public_read = grants(after).unwrap_or_default().iter().any(|grant| grant.is_public());
        let mut iac = iac::resource_block(
            &format!("bucket {}", target.id),
            "aws_s3_bucket_policy",
            &[("bucket", json!(target.id)), ("policy", json!(policy.as_ref().map(policy_text)))],
            "AWS::S3::BucketPolicy",
            &[("Bucket", json!(target.id)), ("PolicyDocument", policy.clone().unwrap_or(Value::Null))],
        );
        iac.terraform.push_str(&format!(
            "# and in its aws_s3_bucket_acl resource: acl = \"private\"{}\n",
            if public_read { " is not enough: keep only the grants the plan keeps" } else { "" }
        ));
        if policy.is_none() {
            iac.terraform =
                format!("# bucket {}: remove its aws_s3_bucket_policy resource\n# and in its aws_s3_bucket_acl resource: acl = \"private\"\n", target.id);
            iac.cloudformation = format!("# bucket {}: remove its AWS::S3::BucketPolicy resource, and set AccessControl: Private on the bucket\n", target.id);
        }
        iac
    },
};

pub(crate) fn grants(state: &Value) -> Result<Vec<Grant>, FixError> {
    match state.get("Grants") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => parse(value, "Grants"),
    }
}

// ---- Default encryption ----

pub static BUCKET_ENCRYPTION: Kind = Kind {
    id: "s3-bucket-encryption",
    title: "the default encryption of a bucket",
    service: "s3",
    reads: &["s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketEncryption"],
    writes: &["s3:PutBucketEncryption", "s3:DeleteBucketEncryption"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "s3", &target.region, "GetBucketEncryption", Some(&target.id))?;
        Ok(json!({ "Rules": bucket(inventory, &target.id)?.server_side_encryption_rules }))
    },
    set_state: |inventory, target, state| {
        let rules: Option<Vec<ServerSideEncryptionRule>> = match state.get("Rules") {
            None | Some(Value::Null) => None,
            Some(value) => Some(parse(value, "Rules")?),
        };
        bucket_mut(inventory, &target.id)?.server_side_encryption_rules = rules;
        Ok(())
    },
    calls: |target, from, to| {
        if from.get("Rules") == to.get("Rules") {
            return Ok(Vec::new());
        }
        let rules: Option<Vec<ServerSideEncryptionRule>> = match to.get("Rules") {
            None | Some(Value::Null) => None,
            Some(value) => Some(parse(value, "Rules")?),
        };
        Ok(vec![match rules {
            Some(rules) => {
                let api_rules: Vec<Value> = rules
                    .iter()
                    .map(|rule| {
                        clean(json!({
                            "ApplyServerSideEncryptionByDefault": { "SSEAlgorithm": rule.sse_algorithm, "KMSMasterKeyID": rule.kms_master_key_id },
                            "BucketKeyEnabled": rule.bucket_key_enabled,
                        }))
                    })
                    .collect();
                Call::new(
                    "s3",
                    "PutBucketEncryption",
                    &target.region,
                    json!({ "Bucket": target.id, "ServerSideEncryptionConfiguration": { "Rules": api_rules } }),
                )
            }
            None => Call::new("s3", "DeleteBucketEncryption", &target.region, json!({ "Bucket": target.id })),
        }])
    },
    // S3 reports an unset bucket key as `false` and an unset key id as null: both mean unset.
    normalize: |state| {
        let mut state = clean(state.clone());
        if let Some(rules) = state.get_mut("Rules").and_then(Value::as_array_mut) {
            for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
                if rule.get("BucketKeyEnabled") == Some(&Value::Bool(false)) {
                    rule.remove("BucketKeyEnabled");
                }
            }
        }
        state
    },
    iac: |target, after| {
        let algorithm = after.pointer("/Rules/0/SseAlgorithm").cloned().unwrap_or(json!("AES256"));
        iac::resource_block(
            &format!("bucket {}", target.id),
            "aws_s3_bucket_server_side_encryption_configuration",
            &[("bucket", json!(target.id)), ("rule", json!({ "apply_server_side_encryption_by_default": { "sse_algorithm": algorithm } }))],
            "AWS::S3::Bucket",
            &[("BucketEncryption", json!({ "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": algorithm } }] }))],
        )
    },
};

// ---- Object ownership ----

pub static BUCKET_OWNERSHIP: Kind = Kind {
    id: "s3-bucket-ownership",
    title: "the object ownership setting of a bucket (whether ACLs apply)",
    service: "s3",
    reads: &["s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketOwnershipControls"],
    writes: &["s3:PutBucketOwnershipControls", "s3:DeleteBucketOwnershipControls"],
    network: false,
    iam: true,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "s3", &target.region, "GetBucketOwnershipControls", Some(&target.id))?;
        Ok(json!({ "ObjectOwnership": bucket(inventory, &target.id)?.object_ownership }))
    },
    set_state: |inventory, target, state| {
        bucket_mut(inventory, &target.id)?.object_ownership = state.get("ObjectOwnership").and_then(Value::as_str).map(str::to_string);
        Ok(())
    },
    calls: |target, from, to| {
        if from.get("ObjectOwnership") == to.get("ObjectOwnership") {
            return Ok(Vec::new());
        }
        Ok(vec![match to.get("ObjectOwnership").and_then(Value::as_str) {
            Some(ownership) => Call::new(
                "s3",
                "PutBucketOwnershipControls",
                &target.region,
                json!({ "Bucket": target.id, "OwnershipControls": { "Rules": [{ "ObjectOwnership": ownership }] } }),
            ),
            None => Call::new("s3", "DeleteBucketOwnershipControls", &target.region, json!({ "Bucket": target.id })),
        }])
    },
    normalize: as_is,
    iac: |target, after| {
        let ownership = after.get("ObjectOwnership").cloned().unwrap_or(Value::Null);
        iac::resource_block(
            &format!("bucket {}", target.id),
            "aws_s3_bucket_ownership_controls",
            &[("bucket", json!(target.id)), ("rule", json!({ "object_ownership": ownership }))],
            "AWS::S3::Bucket",
            &[("OwnershipControls", json!({ "Rules": [{ "ObjectOwnership": ownership }] }))],
        )
    },
};
