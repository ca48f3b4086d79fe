//! Secrets Manager checks: rotation enabled and recent, customer managed keys, public resource
//! policies, unused secrets.

use serde_json::json;
use vigil_model::security::Secret;

use super::FnCheck;
use super::support::public_statements;
use crate::context::{Context, Needs, Subject, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const SECRETS: &[Read] = &[Read::regional("secretsmanager", "ListSecrets")];

fn each_secret(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    needs_policy: bool,
    judge: impl Fn(&Secret, &Subject) -> Result<(bool, String, serde_json::Value), Unread>,
) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for secret in &regional.secrets {
            let subject =
                context.item_subject(secret, || context.new_subject(&secret.arn, "AWS::SecretsManager::Secret", &secret.name, region, Some(&secret.tags)));
            let needs: Vec<Needs<'_>> = needs_policy.then(|| Needs::call("secretsmanager", region, "GetResourcePolicy").on(&secret.arn)).into_iter().collect();
            findings.push(context.decide_or_error(metadata, &subject, &needs, || judge(secret, &subject)));
        }
    }
}

pub static ROTATION_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "secretsmanager_rotation_enabled",
        title: "Secrets Manager secrets rotate automatically",
        service: "secretsmanager",
        resource_type: "AWS::SecretsManager::Secret",
        severity: Severity::Medium,
        risk: "A secret that never rotates stays valid forever once leaked; rotation bounds the damage of a leak.",
        remediation: Remediation {
            text: "Turn on automatic rotation with a rotation function (or managed rotation) and a schedule.",
            cli: "aws secretsmanager rotate-secret --secret-id SECRET --rotation-lambda-arn FUNCTION_ARN --rotation-rules AutomaticallyAfterDays=30",
            terraform: "resource \"aws_secretsmanager_secret_rotation\" \"secret\" {\n  secret_id           = aws_secretsmanager_secret.secret.id\n  rotation_lambda_arn = aws_lambda_function.rotator.arn\n  rotation_rules {\n    automatically_after_days = 30\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html"],
        frameworks: &[("aws-fsbp", "SecretsManager.1"), ("pci-dss-4.0", "8.6.3"), ("nist-800-53-r5", "IA-5(1)")],
        reads: SECRETS,
    },
    run: rotation_enabled,
};

fn rotation_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_secret(metadata, context, findings, false, |secret, _| {
        let message = if secret.rotation_enabled {
            format!("Secret `{}` rotates automatically.", secret.name)
        } else {
            format!("Secret `{}` does not rotate automatically.", secret.name)
        };
        Ok((secret.rotation_enabled, message, json!({ "RotationEnabled": secret.rotation_enabled, "RotationRules": secret.rotation_rules })))
    });
}

pub static ROTATED_RECENTLY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "secretsmanager_rotated_recently",
        title: "Secrets Manager secrets were rotated within the maximum age",
        service: "secretsmanager",
        resource_type: "AWS::SecretsManager::Secret",
        severity: Severity::Medium,
        risk: "A secret older than the allowed age (policy parameter `max_secret_age_days`, default 90) has had a long window to leak; rotation may be failing silently.",
        remediation: Remediation {
            text: "Rotate the secret now and check that scheduled rotation succeeds; the limit is `max_secret_age_days` (default 90).",
            cli: "aws secretsmanager rotate-secret --secret-id SECRET",
            terraform: "resource \"aws_secretsmanager_secret_rotation\" \"secret\" {\n  secret_id = aws_secretsmanager_secret.secret.id\n  rotation_rules {\n    automatically_after_days = 30\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html"],
        frameworks: &[("aws-fsbp", "SecretsManager.4"), ("pci-dss-4.0", "8.6.3"), ("nist-800-53-r5", "IA-5(1)")],
        reads: SECRETS,
    },
    run: rotated_recently,
};

fn rotated_recently(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_secret(metadata, context, findings, false, |secret, subject| {
        let max_age = context.number(subject, "max_secret_age_days", 90);
        // A secret never rotated is as old as its creation.
        let since = secret.last_rotated_date.or(secret.created_date);
        let age = since.map(|since| (context.now - since).num_days());
        let recent = age.is_some_and(|age| age <= max_age);
        let message = match age {
            Some(age) => format!("Secret `{}` was last rotated (or created) {age} days ago (maximum {max_age}).", secret.name),
            None => format!("Secret `{}` has no rotation or creation date.", secret.name),
        };
        Ok((recent, message, json!({ "LastRotatedDate": secret.last_rotated_date, "CreatedDate": secret.created_date, "MaxSecretAgeDays": max_age })))
    });
}

pub static ENCRYPTED_WITH_CMK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "secretsmanager_encrypted_with_cmk",
        title: "Secrets Manager secrets are encrypted with a customer managed KMS key",
        service: "secretsmanager",
        resource_type: "AWS::SecretsManager::Secret",
        severity: Severity::Low,
        risk: "Secrets under the AWS managed key aws/secretsmanager can be decrypted by any principal allowed to read them; a customer managed key adds a second, auditable control and allows cross-account sharing.",
        remediation: Remediation {
            text: "Re-encrypt the secret with a customer managed KMS key.",
            cli: "aws secretsmanager update-secret --secret-id SECRET --kms-key-id KEY_ARN",
            terraform: "resource \"aws_secretsmanager_secret\" \"secret\" {\n  kms_key_id = aws_kms_key.secrets.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"],
        frameworks: &[("pci-dss-4.0", "3.6.1"), ("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "SC-28")],
        reads: SECRETS,
    },
    run: encrypted_with_cmk,
};

fn encrypted_with_cmk(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_secret(metadata, context, findings, false, |secret, _| {
        let customer_key = secret.kms_key_id.as_deref().is_some_and(|key| key != "alias/aws/secretsmanager");
        let message = if customer_key {
            format!("Secret `{}` is encrypted with a customer managed key.", secret.name)
        } else {
            format!("Secret `{}` is encrypted with the AWS managed key.", secret.name)
        };
        Ok((customer_key, message, json!({ "KmsKeyId": secret.kms_key_id })))
    });
}

pub static POLICY_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "secretsmanager_policy_not_public",
        title: "Secrets Manager resource policies do not allow access to everyone",
        service: "secretsmanager",
        resource_type: "AWS::SecretsManager::Secret",
        severity: Severity::Critical,
        risk: "A secret policy allowing Principal \"*\" without a narrowing condition lets any AWS principal read the secret.",
        remediation: Remediation {
            text: "Remove public statements from the secret's resource policy, naming the accounts or roles that need it instead.",
            cli: "aws secretsmanager delete-resource-policy --secret-id SECRET",
            terraform: "resource \"aws_secretsmanager_secret_policy\" \"secret\" {\n  secret_arn          = aws_secretsmanager_secret.secret.arn\n  policy              = data.aws_iam_policy_document.secret_readers.json\n  block_public_policy = true\n}",
        },
        references: &["https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resource-policies.html"],
        frameworks: &[("pci-dss-4.0", "7.2.1"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-21")],
        reads: SECRETS,
    },
    run: policy_not_public,
};

fn policy_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_secret(metadata, context, findings, true, |secret, _| {
        let public = match &secret.policy {
            Some(policy) => public_statements(context, policy, &secret.arn)?,
            None => Vec::new(),
        };
        let message = if public.is_empty() {
            format!("Secret `{}` is not readable by everyone.", secret.name)
        } else {
            format!("Secret `{}` allows everyone in {} policy statement(s).", secret.name, public.len())
        };
        Ok((public.is_empty(), message, json!({ "PublicStatements": public })))
    });
}

pub static SECRET_USED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "secretsmanager_secret_used",
        title: "Secrets Manager secrets have been used recently",
        service: "secretsmanager",
        resource_type: "AWS::SecretsManager::Secret",
        severity: Severity::Low,
        risk: "Unused secrets are forgotten credentials: still valid, never rotated with care, and a leak nobody would notice. The limit is the policy parameter `max_secret_unused_days` (default 90).",
        remediation: Remediation {
            text: "Delete secrets not accessed within `max_secret_unused_days` (default 90) after confirming nothing depends on them.",
            cli: "aws secretsmanager delete-secret --secret-id SECRET --recovery-window-in-days 30",
            terraform: "# Remove the aws_secretsmanager_secret resource that is no longer used.",
        },
        references: &["https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_delete-secret.html"],
        frameworks: &[("aws-fsbp", "SecretsManager.3"), ("nist-800-53-r5", "AC-2")],
        reads: SECRETS,
    },
    run: secret_used,
};

fn secret_used(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_secret(metadata, context, findings, false, |secret, subject| {
        let max_unused = context.number(subject, "max_secret_unused_days", 90);
        // Never accessed: judged from its creation, so a new secret gets its grace period.
        let since = secret.last_accessed_date.or(secret.created_date);
        let idle = since.map(|since| (context.now - since).num_days());
        let used = idle.is_some_and(|idle| idle <= max_unused);
        let message = match (secret.last_accessed_date, idle) {
            (Some(_), Some(idle)) => format!("Secret `{}` was last accessed {idle} days ago (maximum {max_unused}).", secret.name),
            (None, Some(idle)) => format!("Secret `{}` was never accessed; created {idle} days ago (maximum {max_unused}).", secret.name),
            _ => format!("Secret `{}` has no access or creation date.", secret.name),
        };
        Ok((used, message, json!({ "LastAccessedDate": secret.last_accessed_date, "CreatedDate": secret.created_date, "MaxSecretUnusedDays": max_unused })))
    });
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn secret(name: &str) -> Secret {
        Secret {
            arn: format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf"),
            name: name.into(),
            created_date: Some(Utc::now()),
            ..Secret::default()
        }
    }

    fn check(check: &dyn Check, secrets: Vec<Secret>) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "secretsmanager", "us-east-1", "ListSecrets", None);
        for secret in &secrets {
            read(&mut inventory, "secretsmanager", "us-east-1", "GetResourcePolicy", Some(&secret.arn));
        }
        let denied_secret = secret("zz-denied");
        record(&mut inventory, "secretsmanager", "us-east-1", "GetResourcePolicy", Some(&denied_secret.arn), denied());
        let mut secrets = secrets;
        secrets.push(denied_secret);
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().secrets = secrets;
        statuses(&run(check, &inventory))
    }

    #[test]
    fn rotation_must_be_on_and_recent() {
        let old = Utc::now() - Duration::days(200);
        let rotating = Secret { rotation_enabled: true, last_rotated_date: Some(Utc::now() - Duration::days(10)), ..secret("rotating") };
        let stale = Secret { rotation_enabled: true, last_rotated_date: Some(old), created_date: Some(old), ..secret("stale") };
        let never = Secret { created_date: Some(old), ..secret("never") };
        assert_eq!(
            check(&ROTATION_ENABLED, vec![rotating.clone(), stale.clone(), never.clone()]),
            vec![("never".into(), Fail), ("rotating".into(), Pass), ("stale".into(), Pass), ("zz-denied".into(), Fail)]
        );
        assert_eq!(
            check(&ROTATED_RECENTLY, vec![rotating, stale, never]),
            vec![("never".into(), Fail), ("rotating".into(), Pass), ("stale".into(), Fail), ("zz-denied".into(), Pass)]
        );
    }

    #[test]
    fn customer_keys_and_public_policies_are_judged() {
        let cmk = Secret { kms_key_id: Some("arn:aws:kms:us-east-1:123456789012:key/abc".into()), ..secret("cmk") };
        assert_eq!(check(&ENCRYPTED_WITH_CMK, vec![cmk, secret("default")]), vec![("cmk".into(), Pass), ("default".into(), Fail), ("zz-denied".into(), Fail)]);
        let public = Secret {
            policy: Some(json!({ "Statement": [{ "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "secretsmanager:GetSecretValue" }] })),
            ..secret("public")
        };
        assert_eq!(
            check(&POLICY_NOT_PUBLIC, vec![public, secret("private")]),
            vec![("private".into(), Pass), ("public".into(), Fail), ("zz-denied".into(), Error)]
        );
    }

    #[test]
    fn secrets_unused_beyond_the_limit_fail() {
        let old = Utc::now() - Duration::days(200);
        let used = Secret { last_accessed_date: Some(Utc::now() - Duration::days(1)), created_date: Some(old), ..secret("used") };
        let idle = Secret { last_accessed_date: Some(old), created_date: Some(old), ..secret("idle") };
        let forgotten = Secret { created_date: Some(old), ..secret("forgotten") };
        assert_eq!(
            check(&SECRET_USED, vec![used, idle, forgotten]),
            vec![("forgotten".into(), Fail), ("idle".into(), Fail), ("used".into(), Pass), ("zz-denied".into(), Pass)]
        );
    }
}
