//! ECR checks: scan on push, tag immutability, lifecycle policies, public repository policies,
//! customer managed encryption keys.

use serde_json::json;
use vigil_model::security::Repository;

use super::FnCheck;
use super::support::public_statements;
use crate::context::{Context, Needs, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const REPOSITORIES: &[Read] = &[Read::regional("ecr", "DescribeRepositories")];

fn each_repository(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    operation: Option<&str>,
    judge: impl Fn(&Repository) -> Result<(bool, String, serde_json::Value), Unread>,
) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for repository in &regional.ecr_repositories {
            let subject = context.item_subject(repository, || {
                context.new_subject(&repository.repository_arn, "AWS::ECR::Repository", &repository.repository_name, region, Some(&repository.tags))
            });
            let needs: Vec<Needs<'_>> = operation.map(|operation| Needs::call("ecr", region, operation).on(&repository.repository_name)).into_iter().collect();
            findings.push(context.decide_or_error(metadata, &subject, &needs, || judge(repository)));
        }
    }
}

pub static REPOSITORY_SCAN_ON_PUSH: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ecr_repository_scan_on_push",
        title: "ECR repositories scan images on push",
        service: "ecr",
        resource_type: "AWS::ECR::Repository",
        severity: Severity::Medium,
        risk: "Images pushed without a vulnerability scan can ship known-vulnerable packages to production unnoticed. Registries using enhanced scanning configure this at registry level.",
        remediation: Remediation {
            text: "Enable scan on push for the repository (or configure enhanced scanning for the registry).",
            cli: "aws ecr put-image-scanning-configuration --repository-name REPOSITORY --image-scanning-configuration scanOnPush=true",
            terraform: "resource \"aws_ecr_repository\" \"repository\" {\n  image_scanning_configuration {\n    scan_on_push = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html"],
        frameworks: &[("aws-fsbp", "ECR.1"), ("pci-dss-4.0", "6.3.1"), ("nist-800-53-r5", "RA-5")],
        reads: REPOSITORIES,
    },
    run: repository_scan_on_push,
};

fn repository_scan_on_push(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_repository(metadata, context, findings, None, |repository| {
        let message = if repository.scan_on_push {
            format!("Repository `{}` scans images on push.", repository.repository_name)
        } else {
            format!("Repository `{}` does not scan images on push.", repository.repository_name)
        };
        Ok((repository.scan_on_push, message, json!({ "ImageScanningConfiguration": { "ScanOnPush": repository.scan_on_push } })))
    });
}

pub static REPOSITORY_TAG_IMMUTABLE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ecr_repository_tag_immutable",
        title: "ECR repositories have immutable image tags",
        service: "ecr",
        resource_type: "AWS::ECR::Repository",
        severity: Severity::Medium,
        risk: "With mutable tags, anyone who can push can replace the image behind a deployed tag with a malicious one.",
        remediation: Remediation {
            text: "Set image tag mutability to IMMUTABLE.",
            cli: "aws ecr put-image-tag-mutability --repository-name REPOSITORY --image-tag-mutability IMMUTABLE",
            terraform: "resource \"aws_ecr_repository\" \"repository\" {\n  image_tag_mutability = \"IMMUTABLE\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html"],
        frameworks: &[("aws-fsbp", "ECR.2"), ("nist-800-53-r5", "SI-7")],
        reads: REPOSITORIES,
    },
    run: repository_tag_immutable,
};

fn repository_tag_immutable(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_repository(metadata, context, findings, None, |repository| {
        let immutable = repository.image_tag_mutability.as_deref().is_some_and(|mutability| mutability.starts_with("IMMUTABLE"));
        let message = if immutable {
            format!("Repository `{}` has immutable tags.", repository.repository_name)
        } else {
            format!("Repository `{}` allows tags to be overwritten.", repository.repository_name)
        };
        Ok((immutable, message, json!({ "ImageTagMutability": repository.image_tag_mutability })))
    });
}

pub static REPOSITORY_LIFECYCLE_POLICY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ecr_repository_lifecycle_policy",
        title: "ECR repositories have a lifecycle policy",
        service: "ecr",
        resource_type: "AWS::ECR::Repository",
        severity: Severity::Low,
        risk: "Without a lifecycle policy, old and vulnerable images accumulate and remain deployable.",
        remediation: Remediation {
            text: "Add a lifecycle policy that expires untagged and old images.",
            cli: "aws ecr put-lifecycle-policy --repository-name REPOSITORY --lifecycle-policy-text file://lifecycle.json",
            terraform: "resource \"aws_ecr_lifecycle_policy\" \"repository\" {\n  repository = aws_ecr_repository.repository.name\n  policy     = file(\"lifecycle.json\")\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html"],
        frameworks: &[("aws-fsbp", "ECR.3"), ("nist-800-53-r5", "CM-2")],
        reads: REPOSITORIES,
    },
    run: repository_lifecycle_policy,
};

fn repository_lifecycle_policy(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_repository(metadata, context, findings, Some("GetLifecyclePolicy"), |repository| {
        let present = repository.lifecycle_policy.is_some();
        let message = if present {
            format!("Repository `{}` has a lifecycle policy.", repository.repository_name)
        } else {
            format!("Repository `{}` has no lifecycle policy.", repository.repository_name)
        };
        Ok((present, message, json!({ "HasLifecyclePolicy": present })))
    });
}

pub static REPOSITORY_POLICY_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ecr_repository_policy_not_public",
        title: "ECR repository policies do not allow access to everyone",
        service: "ecr",
        resource_type: "AWS::ECR::Repository",
        severity: Severity::Critical,
        risk: "A repository policy allowing Principal \"*\" lets any AWS account pull (and possibly push) your images, leaking code and embedded secrets.",
        remediation: Remediation {
            text: "Replace Principal \"*\" with the accounts that need access, or add an aws:PrincipalOrgID condition.",
            cli: "aws ecr set-repository-policy --repository-name REPOSITORY --policy-text file://policy-restricted.json",
            terraform: "resource \"aws_ecr_repository_policy\" \"repository\" {\n  repository = aws_ecr_repository.repository.name\n  policy     = data.aws_iam_policy_document.org_pull.json\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html"],
        frameworks: &[("pci-dss-4.0", "1.4.1"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-21")],
        reads: REPOSITORIES,
    },
    run: repository_policy_not_public,
};

fn repository_policy_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_repository(metadata, context, findings, Some("GetRepositoryPolicy"), |repository| {
        let public = match &repository.policy {
            Some(policy) => public_statements(context, policy, &repository.repository_arn)?,
            None => Vec::new(),
        };
        let message = if public.is_empty() {
            format!("Repository `{}` is not open to everyone.", repository.repository_name)
        } else {
            format!("Repository `{}` allows everyone in {} policy statement(s).", repository.repository_name, public.len())
        };
        Ok((public.is_empty(), message, json!({ "PublicStatements": public })))
    });
}

pub static REPOSITORY_ENCRYPTED_WITH_CMK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ecr_repository_encrypted_with_cmk",
        title: "ECR repositories are encrypted with a customer managed KMS key",
        service: "ecr",
        resource_type: "AWS::ECR::Repository",
        severity: Severity::Low,
        risk: "With the default AES256 encryption you cannot control, audit or revoke decryption of image layers separately from repository access.",
        remediation: Remediation {
            text: "Create repositories with KMS encryption and a customer managed key (encryption cannot be changed after creation).",
            cli: "aws ecr create-repository --repository-name REPOSITORY --encryption-configuration encryptionType=KMS,kmsKey=KEY_ARN",
            terraform: "resource \"aws_ecr_repository\" \"repository\" {\n  encryption_configuration {\n    encryption_type = \"KMS\"\n    kms_key         = aws_kms_key.ecr.arn\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html"],
        frameworks: &[("aws-securityhub", "ECR.5"), ("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "SC-28")],
        reads: REPOSITORIES,
    },
    run: repository_encrypted_with_cmk,
};

fn repository_encrypted_with_cmk(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_repository(metadata, context, findings, None, |repository| {
        let kms = repository.encryption_type.as_deref().is_some_and(|kind| kind.starts_with("KMS"));
        let customer_key = kms && repository.kms_key.as_deref().is_some_and(|key| !key.ends_with("alias/aws/ecr"));
        let message = if customer_key {
            format!("Repository `{}` is encrypted with a customer managed key.", repository.repository_name)
        } else {
            format!("Repository `{}` is not encrypted with a customer managed key.", repository.repository_name)
        };
        Ok((customer_key, message, json!({ "EncryptionConfiguration": { "EncryptionType": repository.encryption_type, "KmsKey": repository.kms_key } })))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn good(name: &str) -> Repository {
        Repository {
            repository_name: name.into(),
            repository_arn: format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}"),
            image_tag_mutability: Some("IMMUTABLE".into()),
            scan_on_push: true,
            encryption_type: Some("KMS".into()),
            kms_key: Some("arn:aws:kms:us-east-1:123456789012:key/abc".into()),
            lifecycle_policy: Some(json!({ "rules": [] })),
            policy: Some(
                json!({ "Statement": [{ "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": "ecr:BatchGetImage" }] }),
            ),
            ..Repository::default()
        }
    }

    /// Bad twin FAILs, good twin PASSes; the third repository's per-repository calls were denied.
    fn twins(check: &dyn Check, spoil: impl Fn(&mut Repository), denied_status: Status) {
        let mut bad = good("bad");
        spoil(&mut bad);
        let mut inventory = inventory();
        read(&mut inventory, "ecr", "us-east-1", "DescribeRepositories", None);
        for name in ["bad", "good"] {
            read(&mut inventory, "ecr", "us-east-1", "GetRepositoryPolicy", Some(name));
            read(&mut inventory, "ecr", "us-east-1", "GetLifecyclePolicy", Some(name));
        }
        record(&mut inventory, "ecr", "us-east-1", "GetRepositoryPolicy", Some("zz-denied"), denied());
        record(&mut inventory, "ecr", "us-east-1", "GetLifecyclePolicy", Some("zz-denied"), denied());
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().ecr_repositories = vec![bad, good("good"), good("zz-denied")];
        let expected: Vec<(String, Status)> = vec![("bad".into(), Fail), ("good".into(), Pass), ("zz-denied".into(), denied_status)];
        assert_eq!(statuses(&run(check, &inventory)), expected, "{}", check.metadata().id);
    }

    #[test]
    fn each_ecr_check_fails_its_bad_twin_only() {
        twins(&REPOSITORY_SCAN_ON_PUSH, |r| r.scan_on_push = false, Pass);
        twins(&REPOSITORY_TAG_IMMUTABLE, |r| r.image_tag_mutability = Some("MUTABLE".into()), Pass);
        twins(&REPOSITORY_LIFECYCLE_POLICY, |r| r.lifecycle_policy = None, Error);
        twins(&REPOSITORY_POLICY_NOT_PUBLIC, |r| r.policy = Some(json!({ "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "ecr:*" }] })), Error);
        twins(&REPOSITORY_ENCRYPTED_WITH_CMK, |r| r.encryption_type = Some("AES256".into()), Pass);
    }

    #[test]
    fn a_denied_repository_listing_is_one_error() {
        let mut inventory = inventory();
        record(&mut inventory, "ecr", "us-east-1", "DescribeRepositories", None, denied());
        assert_eq!(statuses(&run(&REPOSITORY_SCAN_ON_PUSH, &inventory)), vec![(ACCOUNT.to_string(), Error)]);
    }
}
