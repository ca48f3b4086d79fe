//! S3 checks: public buckets and the account-level public access block.

use serde_json::json;
use vigil_model::Region;
use vigil_model::resource::ResourceData;
use vigil_model::s3::Bucket;

use super::FnCheck;
use super::support::{Verdict, public_statements};
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The bucket listing every bucket check reads.
pub(crate) const BUCKETS: &[Read] = &[Read::global("s3", "ListBuckets")];

pub static BUCKET_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_not_public",
        title: "S3 buckets do not grant public access through ACLs or policies",
        service: "s3",
        resource_type: "AWS::S3::Bucket",
        severity: Severity::Critical,
        risk: "A bucket readable or writable by everyone leaks its data to the internet or lets anyone plant content in it.",
        remediation: Remediation {
            text: "Remove ACL grants to AllUsers/AuthenticatedUsers and policy statements that allow Principal \"*\" without conditions, then enable S3 Block Public Access.",
            cli: "aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
            terraform: "resource \"aws_s3_bucket_public_access_block\" \"bucket\" {\n  bucket                  = aws_s3_bucket.bucket.id\n  block_public_acls       = true\n  ignore_public_acls      = true\n  block_public_policy     = true\n  restrict_public_buckets = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"],
        frameworks: &[("cis-aws-5.0", "2.1.4"), ("aws-fsbp", "S3.2"), ("aws-fsbp", "S3.3"), ("pci-dss-4.0", "1.4.1"), ("nist-800-53-r5", "AC-3")],
        reads: BUCKETS,
    },
    run: bucket_not_public,
};

fn bucket_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let inventory = context.inventory;
    let account_id = context.account_id().to_string();
    let account_block = inventory.s3.account_public_access_block.as_ref();
    for resource in context.resources_of_type("AWS::S3::Bucket") {
        let ResourceData::Bucket(bucket) = resource.data else { continue };
        let subject = context.subject(resource);
        let region = bucket.region.as_str();
        let name = bucket.name.as_str();
        let needs = [
            Needs::call("s3", region, "GetBucketAcl").on(name),
            Needs::call("s3", region, "GetBucketPolicy").on(name),
            Needs::call("s3", region, "GetPublicAccessBlock").on(name),
            Needs::call("s3control", Region::GLOBAL, "GetPublicAccessBlock").on(&account_id),
        ];
        findings.push(context.decide_or_error(metadata, &subject, &needs, || judge_bucket(context, bucket, account_block)));
    }
}

/// Whether a bucket grants public access through its ACL or its policy (public statements as
/// the IAM engine's one rule decides them), given the bucket's and the account's Block Public
/// Access settings.
pub(crate) fn judge_bucket(
    context: &Context<'_>,
    bucket: &Bucket,
    account_block: Option<&vigil_model::s3::PublicAccessBlockConfiguration>,
) -> Result<Verdict, Unread> {
    let bucket_block = bucket.public_access_block.as_ref();
    let ignore_acls = bucket_block.is_some_and(|block| block.ignore_public_acls) || account_block.is_some_and(|block| block.ignore_public_acls);
    let restrict_policy = bucket_block.is_some_and(|block| block.restrict_public_buckets) || account_block.is_some_and(|block| block.restrict_public_buckets);
    let public_grants: Vec<_> = bucket.acl.iter().flat_map(|acl| acl.grants.iter()).filter(|grant| grant.is_public()).collect();
    let arn = format!("arn:{}:s3:::{}", context.inventory.partition(), bucket.name);
    let public_statements = match &bucket.policy {
        Some(policy) => public_statements(context, policy, &arn)?,
        None => Vec::new(),
    };
    let acl_public = !public_grants.is_empty() && !ignore_acls;
    let policy_public = !public_statements.is_empty() && !restrict_policy;
    let message = match (acl_public, policy_public) {
        (false, false) => format!("Bucket `{}` grants no public access.", bucket.name),
        (true, false) => format!("Bucket `{}` grants public access through its ACL.", bucket.name),
        (false, true) => format!("Bucket `{}` grants public access through its bucket policy.", bucket.name),
        (true, true) => format!("Bucket `{}` grants public access through its ACL and its bucket policy.", bucket.name),
    };
    let evidence = json!({
        "PublicGrants": public_grants,
        "PublicStatements": public_statements,
        "BucketPublicAccessBlock": bucket_block,
        "AccountPublicAccessBlock": account_block,
    });
    Ok((!acl_public && !policy_public, message, evidence))
}

pub static ACCOUNT_PUBLIC_ACCESS_BLOCK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_account_public_access_block",
        title: "S3 Block Public Access is enabled for the account",
        service: "s3",
        resource_type: "AWS::::Account",
        severity: Severity::High,
        risk: "Without the account-level block, any new bucket policy or ACL can make data public by mistake.",
        remediation: Remediation {
            text: "Enable all four S3 Block Public Access settings at the account level.",
            cli: "aws s3control put-public-access-block --account-id ACCOUNT --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
            terraform: "resource \"aws_s3_account_public_access_block\" \"account\" {\n  block_public_acls       = true\n  ignore_public_acls      = true\n  block_public_policy     = true\n  restrict_public_buckets = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-account.html"],
        frameworks: &[("cis-aws-5.0", "2.1.4"), ("aws-fsbp", "S3.1"), ("nist-800-53-r5", "AC-3")],
        reads: &[],
    },
    run: account_public_access_block,
};

fn account_public_access_block(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let account_id = context.account_id().to_string();
    let block = context.inventory.s3.account_public_access_block.as_ref();
    let needs = [Needs::call("s3control", Region::GLOBAL, "GetPublicAccessBlock").on(&account_id)];
    findings.push(context.decide(metadata, &subject, &needs, || {
        let enabled = block.is_some_and(|block| block.all_enabled());
        let message = if enabled {
            "All four account-level S3 Block Public Access settings are on.".to_string()
        } else {
            "The account-level S3 Block Public Access is missing or partial.".to_string()
        };
        (enabled, message, json!({ "PublicAccessBlockConfiguration": block }))
    }));
}

#[cfg(test)]
mod tests {
    use vigil_model::Outcome;
    use vigil_model::s3::{AccessControlPolicy, Bucket, Grant, PublicAccessBlockConfiguration};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    fn add_bucket(inventory: &mut vigil_model::Inventory, bucket: Bucket, readable: bool) {
        let name = bucket.name.clone();
        for operation in ["GetBucketAcl", "GetPublicAccessBlock"] {
            read(inventory, "s3", "us-east-1", operation, Some(&name));
        }
        let policy = if !readable {
            denied()
        } else if bucket.policy.is_some() {
            Outcome::Ok
        } else {
            Outcome::NotConfigured { code: "NoSuchBucketPolicy".into() }
        };
        record(inventory, "s3", "us-east-1", "GetBucketPolicy", Some(&name), policy);
        inventory.s3.buckets.push(bucket);
    }

    fn bucket(name: &str) -> Bucket {
        Bucket { name: name.into(), region: "us-east-1".into(), ..Bucket::default() }
    }

    #[test]
    fn public_acls_and_policies_fail_unless_blocked_and_unread_policies_error() {
        let mut inventory = inventory();
        read(&mut inventory, "s3", Region::GLOBAL, "ListBuckets", None);
        read(&mut inventory, "s3control", Region::GLOBAL, "GetPublicAccessBlock", Some(ACCOUNT));
        let public_acl = AccessControlPolicy {
            owner_id: None,
            grants: vec![Grant { grantee_type: "Group".into(), grantee_uri: Some(Grant::ALL_USERS.into()), permission: "READ".into(), ..Grant::default() }],
        };
        let public_policy = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "*"}]});
        let conditioned = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}});
        add_bucket(&mut inventory, bucket("private"), true);
        add_bucket(&mut inventory, Bucket { acl: Some(public_acl.clone()), ..bucket("acl-public") }, true);
        add_bucket(&mut inventory, Bucket { policy: Some(public_policy.clone()), ..bucket("policy-public") }, true);
        add_bucket(&mut inventory, Bucket { policy: Some(conditioned), ..bucket("policy-conditioned") }, true);
        add_bucket(
            &mut inventory,
            Bucket {
                acl: Some(public_acl),
                policy: Some(public_policy),
                public_access_block: Some(PublicAccessBlockConfiguration { ignore_public_acls: true, restrict_public_buckets: true, ..Default::default() }),
                ..bucket("blocked")
            },
            true,
        );
        add_bucket(&mut inventory, bucket("denied"), false);
        assert_eq!(
            statuses(&run(&BUCKET_NOT_PUBLIC, &inventory)),
            vec![
                ("acl-public".into(), Status::Fail),
                ("blocked".into(), Status::Pass),
                ("denied".into(), Status::Error),
                ("policy-conditioned".into(), Status::Pass),
                ("policy-public".into(), Status::Fail),
                ("private".into(), Status::Pass),
            ]
        );
    }

    #[test]
    fn account_block_must_have_all_four_settings() {
        let mut inventory = inventory();
        record(
            &mut inventory,
            "s3control",
            Region::GLOBAL,
            "GetPublicAccessBlock",
            Some(ACCOUNT),
            Outcome::NotConfigured { code: "NoSuchPublicAccessBlockConfiguration".into() },
        );
        assert_eq!(run(&ACCOUNT_PUBLIC_ACCESS_BLOCK, &inventory)[0].status, Status::Fail);
        inventory.s3.account_public_access_block = Some(PublicAccessBlockConfiguration {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        });
        assert_eq!(run(&ACCOUNT_PUBLIC_ACCESS_BLOCK, &inventory)[0].status, Status::Pass);
    }
}
