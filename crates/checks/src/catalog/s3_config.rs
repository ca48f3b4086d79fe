//! S3 bucket configuration checks: TLS-only policies, block public access, versioning and MFA
//! delete, default encryption, access logging, ACLs, CORS, website hosting, lifecycle,
//! replication, object lock and cross-account policy grants.

use serde_json::{Value, json};
use vigil_model::Region;
use vigil_model::resource::ResourceData;
use vigil_model::s3::Bucket;

use super::FnCheck;
use super::s3::BUCKETS;
use super::support::{denies_insecure_transport, each_resource, statement_principal_accounts, statements, strings};
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Remediation, Severity};

const BUCKET: &str = "AWS::S3::Bucket";

/// Assesses every bucket whose `operations` were read, with `judge`.
fn each_bucket(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    operations: &[&str],
    mut judge: impl FnMut(&Context<'_>, &Bucket) -> (bool, String, Value),
) {
    each_resource(context, findings, BUCKET, |resource, subject, findings| {
        let ResourceData::Bucket(bucket) = resource.data else { return };
        let needs: Vec<Needs<'_>> = operations.iter().map(|operation| Needs::call("s3", &bucket.region, operation).on(&bucket.name)).collect();
        findings.push(context.decide(metadata, subject, &needs, || judge(context, bucket)));
    });
}

pub static BUCKET_SECURE_TRANSPORT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_secure_transport_required",
        title: "S3 bucket policies deny requests that do not use TLS",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Medium,
        risk: "S3 accepts plain HTTP unless the bucket policy denies it; data and signed requests then cross networks in clear text.",
        remediation: Remediation {
            text: "Add a Deny statement for all principals, `s3:*`, the bucket and its objects, with the condition `aws:SecureTransport = false`. (A `s3:TlsVersion` floor alone does not refuse plain HTTP.)",
            cli: "aws s3api put-bucket-policy --bucket BUCKET --policy '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::BUCKET\",\"arn:aws:s3:::BUCKET/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}'",
            terraform: "data \"aws_iam_policy_document\" \"tls_only\" {\n  statement {\n    effect    = \"Deny\"\n    actions   = [\"s3:*\"]\n    resources = [aws_s3_bucket.b.arn, \"${aws_s3_bucket.b.arn}/*\"]\n    principals {\n      type        = \"*\"\n      identifiers = [\"*\"]\n    }\n    condition {\n      test     = \"Bool\"\n      variable = \"aws:SecureTransport\"\n      values   = [\"false\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit"],
        frameworks: &[("cis-aws-5.0", "2.1.1"), ("aws-fsbp", "S3.5"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_resource(context, findings, BUCKET, |resource, subject, findings| {
            let ResourceData::Bucket(bucket) = resource.data else { return };
            let needs = [Needs::call("s3", &bucket.region, "GetBucketPolicy").on(&bucket.name)];
            findings.push(context.decide_or_error(metadata, subject, &needs, || {
                // Plain HTTP must be refused for every action, on the bucket and on its objects.
                let arn = format!("arn:{}:s3:::{}", context.inventory.partition(), bucket.name);
                let object = format!("{arn}/vigil-probe-object");
                let denies = match &bucket.policy {
                    Some(policy) => denies_insecure_transport(context, policy, &arn, "s3:VigilProbeAnyAction", &[&arn, &object])?,
                    None => false,
                };
                let message = match (&bucket.policy, denies) {
                    (None, _) => format!("Bucket `{}` has no bucket policy, so plain HTTP is allowed.", bucket.name),
                    (Some(_), false) => format!("Bucket `{}` policy does not deny every request made without TLS.", bucket.name),
                    (Some(_), true) => format!("Bucket `{}` policy denies requests without TLS.", bucket.name),
                };
                Ok((denies, message, json!({ "Policy": bucket.policy })))
            }));
        })
    },
};

pub static BUCKET_MFA_DELETE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_mfa_delete_enabled",
        title: "S3 buckets have versioning with MFA delete",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "Without MFA delete, stolen credentials are enough to suspend versioning and permanently delete object versions.",
        remediation: Remediation {
            text: "As the root user with an MFA device, enable versioning with MFA delete on buckets holding data that must not be destroyed.",
            cli: "aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device CODE'",
            terraform: "resource \"aws_s3_bucket_versioning\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  mfa    = \"SERIAL CODE\"\n  versioning_configuration {\n    status     = \"Enabled\"\n    mfa_delete = \"Enabled\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html"],
        frameworks: &[("cis-aws-5.0", "2.1.2"), ("aws-securityhub", "S3.20"), ("nist-800-53-r5", "CP-9")],
        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketVersioning"], |_, bucket| {
            let versioning = bucket.versioning.as_ref();
            let enabled =
                versioning.is_some_and(|versioning| versioning.status.as_deref() == Some("Enabled") && versioning.mfa_delete.as_deref() == Some("Enabled"));
            let message = if enabled {
                format!("Bucket `{}` has MFA delete enabled.", bucket.name)
            } else {
                format!("Bucket `{}` does not have MFA delete enabled.", bucket.name)
            };
            (enabled, message, json!({ "Versioning": versioning }))
        })
    },
};

pub static BUCKET_PUBLIC_ACCESS_BLOCK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_public_access_block_enabled",
        title: "S3 Block Public Access is fully enabled for each bucket (directly or through the account)",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::High,
        risk: "A bucket without all four Block Public Access settings (on itself or on the account) can be made public by a single ACL or policy change.",
        remediation: Remediation {
            text: "Enable the four Block Public Access settings on the bucket, or on the account to cover every bucket.",
            cli: "aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
            terraform: "resource \"aws_s3_bucket_public_access_block\" \"b\" {\n  bucket                  = aws_s3_bucket.b.id\n  block_public_acls       = true\n  ignore_public_acls      = true\n  block_public_policy     = true\n  restrict_public_buckets = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"],
        frameworks: &[("cis-aws-5.0", "2.1.4"), ("aws-fsbp", "S3.8"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3")],
        reads: BUCKETS,
    },
    run: bucket_public_access_block,
};

fn bucket_public_access_block(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let account_id = context.account_id().to_string();
    let account_block = context.inventory.s3.account_public_access_block.as_ref();
    each_resource(context, findings, BUCKET, |resource, subject, findings| {
        let ResourceData::Bucket(bucket) = resource.data else { return };
        let needs = [
            Needs::call("s3", &bucket.region, "GetPublicAccessBlock").on(&bucket.name),
            Needs::call("s3control", Region::GLOBAL, "GetPublicAccessBlock").on(&account_id),
        ];
        findings.push(context.decide(metadata, subject, &needs, || {
            let bucket_block = bucket.public_access_block.as_ref();
            let enabled = bucket_block.is_some_and(|block| block.all_enabled()) || account_block.is_some_and(|block| block.all_enabled());
            let message = if enabled {
                format!("Bucket `{}` is covered by all four Block Public Access settings.", bucket.name)
            } else {
                format!("Bucket `{}` is not covered by all four Block Public Access settings.", bucket.name)
            };
            (enabled, message, json!({ "BucketPublicAccessBlock": bucket_block, "AccountPublicAccessBlock": account_block }))
        }));
    });
}

pub static BUCKET_VERSIONING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_versioning_enabled",
        title: "S3 buckets have versioning enabled",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "Without versioning an overwrite or delete, accidental or malicious (ransomware), destroys the only copy of an object.",
        remediation: Remediation {
            text: "Enable versioning and add a lifecycle rule that expires noncurrent versions to control cost.",
            cli: "aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled",
            terraform: "resource \"aws_s3_bucket_versioning\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  versioning_configuration {\n    status = \"Enabled\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"],
        frameworks: &[("aws-securityhub", "S3.14"), ("pci-dss-4.0", "10.5.1"), ("nist-800-53-r5", "CP-9")],
        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketVersioning"], |_, bucket| {
            let status = bucket.versioning.as_ref().and_then(|versioning| versioning.status.clone());
            let enabled = status.as_deref() == Some("Enabled");
            let message = format!("Bucket `{}` versioning is {}.", bucket.name, status.as_deref().unwrap_or("not enabled"));
            (enabled, message, json!({ "Status": status }))
        })
    },
};

pub static BUCKET_DEFAULT_ENCRYPTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_default_encryption_enabled",
        title: "S3 buckets encrypt new objects with the key type the policy requires, and SSE-KMS buckets use an S3 Bucket Key",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "S3 encrypts every bucket with SSE-S3 by default since January 2023, so what matters is whether a bucket holding data that needs KMS control (key policy, key-use audit trail) uses SSE-KMS, and whether SSE-KMS buckets use an S3 Bucket Key (without one every object operation calls KMS: cost, throttling, noise in CloudTrail). Policy parameters: `s3_required_encryption` (`sse-s3` default, `sse-kms` or `dsse-kms`; scope it with policy rules, for example to buckets tagged as confidential) and `s3_require_bucket_key` (`true` default).",
        remediation: Remediation {
            text: "Set the bucket's default encryption to the key type the policy requires; with SSE-KMS, enable the S3 Bucket Key.",
            cli: "aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"KEY_ARN\"},\"BucketKeyEnabled\":true}]}'",
            terraform: "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = aws_kms_key.s3.arn\n    }\n    bucket_key_enabled = true\n  }\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html",
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html",
        ],
        frameworks: &[("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_resource(context, findings, BUCKET, |resource, subject, findings| {
            let ResourceData::Bucket(bucket) = resource.data else { return };
            let required = context.strings(subject, "s3_required_encryption", &["sse-s3"]).first().map(|value| value.to_ascii_lowercase()).unwrap_or_default();
            let bucket_key_required =
                context.strings(subject, "s3_require_bucket_key", &["true"]).first().is_none_or(|value| value.eq_ignore_ascii_case("true"));
            let needs = [Needs::call("s3", &bucket.region, "GetBucketEncryption").on(&bucket.name)];
            findings.push(context.decide_or_error(metadata, subject, &needs, || judge_default_encryption(bucket, &required, bucket_key_required)));
        });
    },
};

/// The default-encryption verdict: the algorithm must meet `required` (`sse-s3` accepts any
/// server-side encryption), and an SSE-KMS default must use an S3 Bucket Key when
/// `bucket_key_required` (DSSE-KMS has no bucket keys).
fn judge_default_encryption(bucket: &Bucket, required: &str, bucket_key_required: bool) -> Result<(bool, String, Value), Unread> {
    let accepted: &[&str] = match required {
        "sse-s3" => &["AES256", "aws:kms", "aws:kms:dsse"],
        "sse-kms" => &["aws:kms", "aws:kms:dsse"],
        "dsse-kms" => &["aws:kms:dsse"],
        other => {
            return Err(Unread {
                message: format!("policy parameter `s3_required_encryption` is `{other}`; use `sse-s3`, `sse-kms` or `dsse-kms`"),
                evidence: json!({ "s3_required_encryption": other }),
            });
        }
    };
    let rule = bucket.server_side_encryption_rules.iter().flatten().find(|rule| !rule.sse_algorithm.is_empty());
    let evidence = json!({ "ServerSideEncryptionRules": bucket.server_side_encryption_rules, "s3_required_encryption": required, "s3_require_bucket_key": bucket_key_required });
    let Some(rule) = rule else {
        return Ok((false, format!("S3 reports no default encryption for bucket `{}`.", bucket.name), evidence));
    };
    let algorithm = rule.sse_algorithm.as_str();
    if !accepted.contains(&algorithm) {
        return Ok((false, format!("Bucket `{}` encrypts by default with {algorithm}; the policy requires {required}.", bucket.name), evidence));
    }
    if bucket_key_required && algorithm == "aws:kms" && rule.bucket_key_enabled != Some(true) {
        return Ok((false, format!("Bucket `{}` encrypts with SSE-KMS without an S3 Bucket Key.", bucket.name), evidence));
    }
    Ok((true, format!("Bucket `{}` encrypts by default with {algorithm}, as the policy requires ({required}).", bucket.name), evidence))
}

pub static BUCKET_KMS_ENCRYPTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_kms_encryption",
        title: "S3 buckets encrypt by default with AWS KMS keys",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "SSE-S3 protects against lost disks only; SSE-KMS adds a key policy that must also allow reading, and CloudTrail records of every key use.",
        remediation: Remediation {
            text: "Set the bucket's default encryption to `aws:kms` (or `aws:kms:dsse`) with a customer managed key and enable S3 Bucket Keys.",
            cli: "aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"KEY_ARN\"},\"BucketKeyEnabled\":true}]}'",
            terraform: "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = aws_kms_key.s3.arn\n    }\n    bucket_key_enabled = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"],
        frameworks: &[("aws-securityhub", "S3.17"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketEncryption"], |_, bucket| {
            let kms = bucket.server_side_encryption_rules.iter().flatten().any(|rule| rule.sse_algorithm.starts_with("aws:kms"));
            let message = if kms {
                format!("Bucket `{}` encrypts with KMS by default.", bucket.name)
            } else {
                format!("Bucket `{}` does not encrypt with KMS by default.", bucket.name)
            };
            (kms, message, json!({ "ServerSideEncryptionRules": bucket.server_side_encryption_rules }))
        })
    },
};

pub static BUCKET_ACCESS_LOGGING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_server_access_logging_enabled",
        title: "S3 buckets have server access logging enabled",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "Without access logs there is no record of who read or changed objects (CloudTrail data events cost more and are often off).",
        remediation: Remediation {
            text: "Enable server access logging to a dedicated log bucket in the same region.",
            cli: "aws s3api put-bucket-logging --bucket BUCKET --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOG_BUCKET\",\"TargetPrefix\":\"BUCKET/\"}}'",
            terraform: "resource \"aws_s3_bucket_logging\" \"b\" {\n  bucket        = aws_s3_bucket.b.id\n  target_bucket = aws_s3_bucket.logs.id\n  target_prefix = \"b/\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html"],
        frameworks: &[("aws-fsbp", "S3.9"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketLogging"], |_, bucket| {
            let message = match &bucket.logging {
                Some(logging) => format!("Bucket `{}` logs access to `{}`.", bucket.name, logging.target_bucket),
                None => format!("Bucket `{}` has no server access logging.", bucket.name),
            };
            (bucket.logging.is_some(), message, json!({ "LoggingEnabled": bucket.logging }))
        })
    },
};

pub static BUCKET_ACLS_DISABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_acls_disabled",
        title: "S3 buckets disable ACLs (object ownership is BucketOwnerEnforced)",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Medium,
        risk: "With ACLs enabled, any writer can grant access to objects through object ACLs, bypassing the bucket policy review.",
        remediation: Remediation {
            text: "Set object ownership to BucketOwnerEnforced after moving any needed ACL grants into the bucket policy.",
            cli: "aws s3api put-bucket-ownership-controls --bucket BUCKET --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
            terraform: "resource \"aws_s3_bucket_ownership_controls\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  rule {\n    object_ownership = \"BucketOwnerEnforced\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html"],
        frameworks: &[("aws-fsbp", "S3.12"), ("nist-800-53-r5", "AC-3")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketOwnershipControls"], |_, bucket| {
            let enforced = bucket.object_ownership.as_deref() == Some("BucketOwnerEnforced");
            let message = format!("Bucket `{}` object ownership is {}.", bucket.name, bucket.object_ownership.as_deref().unwrap_or("not set (ACLs enabled)"));
            (enforced, message, json!({ "ObjectOwnership": bucket.object_ownership }))
        })
    },
};

pub static BUCKET_POLICY_STATUS_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_policy_status_not_public",
        title: "S3 reports bucket policies as not public",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Critical,
        risk: "S3's own policy analysis (GetBucketPolicyStatus) judges the policy to grant public access, conditions included.",
        remediation: Remediation {
            text: "Rewrite the statements that S3 considers public (principal `*` without a restricting condition on source account, VPC or organization) and enable Block Public Access.",
            cli: "aws s3api get-bucket-policy-status --bucket BUCKET\naws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration BlockPublicPolicy=true,RestrictPublicBuckets=true,BlockPublicAcls=true,IgnorePublicAcls=true",
            terraform: "resource \"aws_s3_bucket_public_access_block\" \"b\" {\n  bucket                  = aws_s3_bucket.b.id\n  block_public_policy     = true\n  restrict_public_buckets = true\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status",
        ],
        frameworks: &[("cis-aws-5.0", "2.1.4"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketPolicyStatus"], |_, bucket| {
            let public = bucket.policy_is_public == Some(true);
            let message = if public {
                format!("S3 reports the policy of bucket `{}` as public.", bucket.name)
            } else {
                format!("S3 reports the policy of bucket `{}` as not public.", bucket.name)
            };
            (!public, message, json!({ "IsPublic": bucket.policy_is_public }))
        })
    },
};

pub static BUCKET_CORS_RESTRICTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_cors_no_wildcard_origin",
        title: "S3 bucket CORS rules do not allow every origin",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "A CORS rule for origin `*` lets any web page read (or, with PUT/POST/DELETE, change) the bucket through a visitor's browser.",
        remediation: Remediation {
            text: "List the exact origins that need cross-origin access, or delete the CORS configuration.",
            cli: "aws s3api delete-bucket-cors --bucket BUCKET",
            terraform: "resource \"aws_s3_bucket_cors_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  cors_rule {\n    allowed_methods = [\"GET\"]\n    allowed_origins = [\"https://app.example.com\"]\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html"],
        frameworks: &[("nist-800-53-r5", "AC-4")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketCors"], |_, bucket| {
            let wildcard: Vec<&vigil_model::s3::CorsRule> =
                bucket.cors_rules.iter().flatten().filter(|rule| rule.allowed_origins.iter().any(|origin| origin == "*")).collect();
            let message = if wildcard.is_empty() {
                format!("Bucket `{}` has no CORS rule for every origin.", bucket.name)
            } else {
                format!("Bucket `{}` has {} CORS rule(s) allowing every origin.", bucket.name, wildcard.len())
            };
            (wildcard.is_empty(), message, json!({ "WildcardCorsRules": wildcard }))
        })
    },
};

pub static BUCKET_WEBSITE_DISABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_static_website_hosting_disabled",
        title: "S3 buckets do not serve static websites",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "Website endpoints speak plain HTTP only and invite public read access; CloudFront with origin access control is the safer way to publish.",
        remediation: Remediation {
            text: "Remove the website configuration and publish through CloudFront with an origin access control.",
            cli: "aws s3api delete-bucket-website --bucket BUCKET",
            terraform: "# Remove aws_s3_bucket_website_configuration; use aws_cloudfront_distribution with aws_cloudfront_origin_access_control.",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteHosting.html"],
        frameworks: &[("nist-800-53-r5", "SC-8")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketWebsite"], |_, bucket| {
            let message = if bucket.website.is_some() {
                format!("Bucket `{}` hosts a static website.", bucket.name)
            } else {
                format!("Bucket `{}` hosts no website.", bucket.name)
            };
            (bucket.website.is_none(), message, json!({ "Website": bucket.website }))
        })
    },
};

pub static BUCKET_LIFECYCLE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_lifecycle_configured",
        title: "S3 buckets have an enabled lifecycle rule",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "Without lifecycle rules, data (and old versions) is kept forever: cost grows and data outlives its retention period.",
        remediation: Remediation {
            text: "Add lifecycle rules that transition, expire and clean up noncurrent versions and incomplete uploads according to the data's retention.",
            cli: "aws s3api put-bucket-lifecycle-configuration --bucket BUCKET --lifecycle-configuration file://lifecycle.json",
            terraform: "resource \"aws_s3_bucket_lifecycle_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  rule {\n    id     = \"expire\"\n    status = \"Enabled\"\n    noncurrent_version_expiration {\n      noncurrent_days = 90\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html"],
        frameworks: &[("aws-fsbp", "S3.13"), ("nist-800-53-r5", "SI-12")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketLifecycleConfiguration"], |_, bucket| {
            let enabled = bucket.lifecycle_rules.iter().flatten().filter(|rule| rule.status == "Enabled").count();
            let message = format!("Bucket `{}` has {enabled} enabled lifecycle rule(s).", bucket.name);
            (enabled > 0, message, json!({ "LifecycleRules": bucket.lifecycle_rules }))
        })
    },
};

pub static BUCKET_REPLICATION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_replication_enabled",
        title: "S3 buckets replicate their objects",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "A single-region copy is lost with the region or with a destructive mistake; replication keeps a second copy elsewhere.",
        remediation: Remediation {
            text: "Enable versioning and add a replication rule to a bucket in another region (or account).",
            cli: "aws s3api put-bucket-replication --bucket BUCKET --replication-configuration file://replication.json",
            terraform: "resource \"aws_s3_bucket_replication_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  role   = aws_iam_role.replication.arn\n  rule {\n    status = \"Enabled\"\n    destination {\n      bucket = aws_s3_bucket.replica.arn\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html"],
        frameworks: &[("nist-800-53-r5", "CP-9")],
        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketReplication"], |_, bucket| {
            let enabled = bucket.replication.as_ref().is_some_and(|replication| replication.rules.iter().any(|rule| rule.status == "Enabled"));
            let message = if enabled {
                format!("Bucket `{}` replicates its objects.", bucket.name)
            } else {
                format!("Bucket `{}` has no enabled replication rule.", bucket.name)
            };
            (enabled, message, json!({ "Replication": bucket.replication }))
        })
    },
};

pub static BUCKET_OBJECT_LOCK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_object_lock_enabled",
        title: "S3 buckets have Object Lock enabled",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::Low,
        risk: "Without Object Lock, anyone with delete permissions (or ransomware holding them) can destroy records that must be kept.",
        remediation: Remediation {
            text: "Enable Object Lock with a default retention on buckets that hold records or backups.",
            cli: "aws s3api put-object-lock-configuration --bucket BUCKET --object-lock-configuration '{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{\"DefaultRetention\":{\"Mode\":\"GOVERNANCE\",\"Days\":30}}}'",
            terraform: "resource \"aws_s3_bucket_object_lock_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n  rule {\n    default_retention {\n      mode = \"GOVERNANCE\"\n      days = 30\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html"],
        frameworks: &[("aws-securityhub", "S3.15"), ("nist-800-53-r5", "SI-12")],
        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetObjectLockConfiguration"], |_, bucket| {
            let enabled = bucket.object_lock.as_ref().is_some_and(|lock| lock.object_lock_enabled.as_deref() == Some("Enabled"));
            let message = if enabled {
                format!("Bucket `{}` has Object Lock enabled.", bucket.name)
            } else {
                format!("Bucket `{}` does not have Object Lock enabled.", bucket.name)
            };
            (enabled, message, json!({ "ObjectLockConfiguration": bucket.object_lock }))
        })
    },
};

/// Actions that let another account take over a bucket's access control or delete its data.
const CROSS_ACCOUNT_BLACKLIST: &[&str] =
    &["s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:PutEncryptionConfiguration", "s3:PutObjectAcl", "s3:*", "*"];

pub static BUCKET_CROSS_ACCOUNT_RESTRICTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "s3_bucket_policy_restricts_cross_account_control",
        title: "S3 bucket policies do not let other accounts change access control or encryption",
        service: "s3",
        resource_type: BUCKET,
        severity: Severity::High,
        risk: "Granting another account s3:PutBucketPolicy, PutBucketAcl, PutObjectAcl, DeleteBucketPolicy or PutEncryptionConfiguration (or s3:*) hands it control over who reads your data.",
        remediation: Remediation {
            text: "Limit statements for other accounts to the data actions they need (e.g. s3:GetObject, s3:PutObject).",
            cli: "aws s3api get-bucket-policy --bucket BUCKET --query Policy --output text",
            terraform: "data \"aws_iam_policy_document\" \"partner\" {\n  statement {\n    actions   = [\"s3:GetObject\"]\n    resources = [\"${aws_s3_bucket.b.arn}/*\"]\n    principals {\n      type        = \"AWS\"\n      identifiers = [\"arn:aws:iam::PARTNER:root\"]\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html"],
        frameworks: &[("aws-fsbp", "S3.6"), ("nist-800-53-r5", "AC-6")],

        reads: BUCKETS,
    },
    run: |metadata, context, findings| {
        each_bucket(metadata, context, findings, &["GetBucketPolicy"], |context, bucket| {
            let own = context.account_id();
            let risky: Vec<&Value> = bucket
                .policy
                .as_ref()
                .map(statements)
                .unwrap_or_default()
                .into_iter()
                .filter(|statement| statement.get("Effect").and_then(Value::as_str) == Some("Allow"))
                .filter(|statement| statement_principal_accounts(statement).iter().any(|account| account != own))
                .filter(|statement| {
                    strings(statement.get("Action")).iter().any(|action| CROSS_ACCOUNT_BLACKLIST.iter().any(|risky| action.eq_ignore_ascii_case(risky)))
                })
                .collect();
            let message = if risky.is_empty() {
                format!("Bucket `{}` grants no other account control over its access or encryption.", bucket.name)
            } else {
                format!("Bucket `{}` lets other accounts change its access control or encryption.", bucket.name)
            };
            (risky.is_empty(), message, json!({ "RiskyStatements": risky }))
        })
    },
};

#[cfg(test)]
mod tests {
    use vigil_model::Outcome;
    use vigil_model::s3::{CorsRule, LoggingEnabled, PublicAccessBlockConfiguration, ServerSideEncryptionRule, VersioningConfiguration};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    const OPERATIONS: &[&str] = &[
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetPublicAccessBlock",
        "GetBucketVersioning",
        "GetBucketEncryption",
        "GetBucketLogging",
        "GetBucketCors",
        "GetBucketOwnershipControls",
        "GetBucketWebsite",
        "GetBucketLifecycleConfiguration",
        "GetBucketReplication",
        "GetObjectLockConfiguration",
    ];

    /// An inventory with `good` and `bad` buckets read completely and `denied` whose calls were all denied.
    fn buckets(good: Bucket, bad: Bucket) -> vigil_model::Inventory {
        let mut inventory = inventory();
        read(&mut inventory, "s3", Region::GLOBAL, "ListBuckets", None);
        record(
            &mut inventory,
            "s3control",
            Region::GLOBAL,
            "GetPublicAccessBlock",
            Some(ACCOUNT),
            Outcome::NotConfigured { code: "NoSuchPublicAccessBlockConfiguration".into() },
        );
        let denied_bucket = Bucket { name: "denied".into(), region: "us-east-1".into(), ..Default::default() };
        for (bucket, readable) in [(&good, true), (&bad, true), (&denied_bucket, false)] {
            for operation in OPERATIONS {
                record(&mut inventory, "s3", "us-east-1", operation, Some(&bucket.name), if readable { Outcome::Ok } else { denied() });
            }
        }
        inventory.s3.buckets = vec![good, bad, denied_bucket];
        inventory
    }

    fn bucket(name: &str) -> Bucket {
        Bucket { name: name.into(), region: "us-east-1".into(), ..Default::default() }
    }

    fn expect(check: &FnCheck, good: Bucket, bad: Bucket) {
        let inventory = buckets(good, bad);
        let findings = run(check, &inventory);
        assert_eq!(
            statuses(&findings),
            vec![("bad".into(), Status::Fail), ("denied".into(), Status::Error), ("good".into(), Status::Pass)],
            "{}",
            check.metadata.id
        );
        let error = findings.iter().find(|finding| finding.status == Status::Error).unwrap();
        assert!(error.message.contains("could not read s3:"), "{}", error.message);
    }

    /// Issue 14: S3 encrypts every bucket by default since 2023, so "has default encryption" was
    /// always true; the check now judges the key type a policy requires (scoped, here, to buckets
    /// tagged confidential) and S3 Bucket Keys on SSE-KMS buckets.
    #[test]
    fn default_encryption_is_judged_against_the_key_type_the_policy_requires() {
        let sse = |algorithm: &str, bucket_key: Option<bool>| {
            Some(vec![ServerSideEncryptionRule { sse_algorithm: algorithm.into(), bucket_key_enabled: bucket_key, ..Default::default() }])
        };
        let confidential = |name: &str, rules| Bucket {
            server_side_encryption_rules: rules,
            tags: [("data-classification".to_string(), "confidential".to_string())].into_iter().collect(),
            ..bucket(name)
        };
        let mut inventory = inventory();
        read(&mut inventory, "s3", vigil_model::Region::GLOBAL, "ListBuckets", None);
        inventory.s3.buckets = vec![
            Bucket { server_side_encryption_rules: sse("AES256", None), ..bucket("public-assets") },
            confidential("secrets-sse-s3", sse("AES256", None)),
            confidential("secrets-kms", sse("aws:kms", Some(true))),
            confidential("secrets-dsse", sse("aws:kms:dsse", None)),
        ];
        for name in ["public-assets", "secrets-sse-s3", "secrets-kms", "secrets-dsse"] {
            read(&mut inventory, "s3", "us-east-1", "GetBucketEncryption", Some(name));
        }
        let policy = crate::policy::Policy::parse(
            "rules:\n  - name: confidential\n    match: { tags: { data-classification: confidential } }\n    parameters: { s3_required_encryption: sse-kms }\n",
            "policy.yaml",
        )
        .unwrap();
        let context = Context::with_policy(&inventory, chrono::Utc::now(), &policy);
        let mut findings = Vec::new();
        crate::Check::run(&BUCKET_DEFAULT_ENCRYPTION, &context, &mut findings);
        assert_eq!(
            statuses(&findings),
            vec![
                ("public-assets".into(), Status::Pass),
                ("secrets-dsse".into(), Status::Pass),
                ("secrets-kms".into(), Status::Pass),
                ("secrets-sse-s3".into(), Status::Fail)
            ]
        );
    }

    #[test]
    fn each_bucket_check_fails_the_bad_twin_passes_the_good_one_and_errors_when_denied() {
        let tls = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        expect(&BUCKET_SECURE_TRANSPORT, Bucket { policy: Some(tls), ..bucket("good") }, bucket("bad"));
        let versioning = |status: &str, mfa: &str| Some(VersioningConfiguration { status: Some(status.into()), mfa_delete: Some(mfa.into()) });
        expect(
            &BUCKET_MFA_DELETE,
            Bucket { versioning: versioning("Enabled", "Enabled"), ..bucket("good") },
            Bucket { versioning: versioning("Enabled", "Disabled"), ..bucket("bad") },
        );
        expect(
            &BUCKET_VERSIONING,
            Bucket { versioning: versioning("Enabled", "Disabled"), ..bucket("good") },
            Bucket { versioning: versioning("Suspended", "Disabled"), ..bucket("bad") },
        );
        let all =
            PublicAccessBlockConfiguration { block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true };
        let partial = PublicAccessBlockConfiguration { block_public_acls: true, ..Default::default() };
        expect(
            &BUCKET_PUBLIC_ACCESS_BLOCK,
            Bucket { public_access_block: Some(all), ..bucket("good") },
            Bucket { public_access_block: Some(partial), ..bucket("bad") },
        );
        let sse = |algorithm: &str| Some(vec![ServerSideEncryptionRule { sse_algorithm: algorithm.into(), ..Default::default() }]);
        expect(&BUCKET_DEFAULT_ENCRYPTION, Bucket { server_side_encryption_rules: sse("AES256"), ..bucket("good") }, bucket("bad"));
        let kms = |bucket_key: bool| {
            Some(vec![ServerSideEncryptionRule { sse_algorithm: "aws:kms".into(), bucket_key_enabled: Some(bucket_key), ..Default::default() }])
        };
        expect(
            &BUCKET_DEFAULT_ENCRYPTION,
            Bucket { server_side_encryption_rules: kms(true), ..bucket("good") },
            Bucket { server_side_encryption_rules: kms(false), ..bucket("bad") },
        );
        expect(
            &BUCKET_KMS_ENCRYPTION,
            Bucket { server_side_encryption_rules: sse("aws:kms"), ..bucket("good") },
            Bucket { server_side_encryption_rules: sse("AES256"), ..bucket("bad") },
        );
        expect(
            &BUCKET_ACCESS_LOGGING,
            Bucket { logging: Some(LoggingEnabled { target_bucket: "logs".into(), target_prefix: None }), ..bucket("good") },
            bucket("bad"),
        );
        expect(
            &BUCKET_ACLS_DISABLED,
            Bucket { object_ownership: Some("BucketOwnerEnforced".into()), ..bucket("good") },
            Bucket { object_ownership: Some("ObjectWriter".into()), ..bucket("bad") },
        );
        expect(
            &BUCKET_POLICY_STATUS_NOT_PUBLIC,
            Bucket { policy_is_public: Some(false), ..bucket("good") },
            Bucket { policy_is_public: Some(true), ..bucket("bad") },
        );
        let cors = |origin: &str| Some(vec![CorsRule { allowed_methods: vec!["GET".into()], allowed_origins: vec![origin.into()], ..Default::default() }]);
        expect(
            &BUCKET_CORS_RESTRICTED,
            Bucket { cors_rules: cors("https://app.example.com"), ..bucket("good") },
            Bucket { cors_rules: cors("*"), ..bucket("bad") },
        );
        expect(&BUCKET_WEBSITE_DISABLED, bucket("good"), Bucket { website: Some(Default::default()), ..bucket("bad") });
        let lifecycle = |status: &str| Some(vec![vigil_model::s3::LifecycleRule { status: status.into(), ..Default::default() }]);
        expect(
            &BUCKET_LIFECYCLE,
            Bucket { lifecycle_rules: lifecycle("Enabled"), ..bucket("good") },
            Bucket { lifecycle_rules: lifecycle("Disabled"), ..bucket("bad") },
        );
        let replication = Some(vigil_model::s3::ReplicationConfiguration {
            role: None,
            rules: vec![vigil_model::s3::ReplicationRule { status: "Enabled".into(), ..Default::default() }],
        });
        expect(&BUCKET_REPLICATION, Bucket { replication, ..bucket("good") }, bucket("bad"));
        let lock = Some(vigil_model::s3::ObjectLockConfiguration { object_lock_enabled: Some("Enabled".into()), ..Default::default() });
        expect(&BUCKET_OBJECT_LOCK, Bucket { object_lock: lock, ..bucket("good") }, bucket("bad"));
        let partner = |action: &str| json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": action, "Resource": "*"}]});
        expect(
            &BUCKET_CROSS_ACCOUNT_RESTRICTED,
            Bucket { policy: Some(partner("s3:GetObject")), ..bucket("good") },
            Bucket { policy: Some(partner("s3:PutBucketPolicy")), ..bucket("bad") },
        );
    }

    #[test]
    fn the_account_block_covers_every_bucket_and_a_failed_listing_is_one_error() {
        let mut inventory = buckets(bucket("good"), bucket("bad"));
        inventory.s3.account_public_access_block = Some(PublicAccessBlockConfiguration {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        });
        let statuses_now = statuses(&run(&BUCKET_PUBLIC_ACCESS_BLOCK, &inventory));
        assert_eq!(statuses_now, vec![("bad".into(), Status::Pass), ("denied".into(), Status::Error), ("good".into(), Status::Pass)]);
        let mut unlisted = super::super::test_support::inventory();
        record(&mut unlisted, "s3", Region::GLOBAL, "ListBuckets", None, denied());
        unlisted.s3.buckets.push(bucket("partial"));
        assert_eq!(statuses(&run(&BUCKET_VERSIONING, &unlisted)), vec![(ACCOUNT.into(), Status::Error)]);
    }
}
