//! IAM credential checks: root user hygiene, password policy strength, and the life cycle of
//! users' passwords and access keys (unused, rotated, one per user, not created up front).

use serde_json::{Value, json};
use vigil_model::iam::{PasswordPolicy, User};
use vigil_model::resource::{ResourceData, ResourceRef};

use super::FnCheck;
use super::iam::{AUTHORIZATION, PASSWORD_POLICY};
use super::support::{GLOBAL, cannot_decide, days_since, each_resource, when};
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const USER: &str = "AWS::IAM::User";
/// The credential report, for root use and unused passwords.
const CREDENTIAL_REPORT: &[Read] = &[Read::global("iam", "GetCredentialReport")];

pub static ROOT_HARDWARE_MFA_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_root_hardware_mfa_enabled",
        title: "The root user is protected by a hardware MFA device",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::High,
        risk: "A virtual MFA lives on a phone that can be lost, cloned or compromised; the root user deserves a dedicated hardware device with a smaller attack surface.",
        remediation: Remediation {
            text: "Sign in as root, remove the virtual MFA device and assign a hardware TOTP token or a FIDO security key.",
            cli: "aws iam list-virtual-mfa-devices --query \"VirtualMFADevices[?ends_with(User.Arn, ':root')]\"",
            terraform: "# Root MFA devices cannot be managed by Terraform; assign a hardware device in the console as root.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_physical.html"],
        frameworks: &[("cis-aws-5.0", "1.5"), ("aws-fsbp", "IAM.6"), ("pci-dss-4.0", "8.4.1"), ("nist-800-53-r5", "IA-2(1)")],
        reads: &[Read::global("iam", "GetAccountSummary"), Read::global("iam", "ListVirtualMFADevices")],
    },
    run: root_hardware_mfa_enabled,
};

fn root_hardware_mfa_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let iam = &context.inventory.iam;
    findings.push(context.decide(metadata, &subject, &[], || {
        let mfa = iam.account_summary.get("AccountMFAEnabled").copied().unwrap_or(0) == 1;
        let virtual_devices: Vec<&str> = iam
            .virtual_mfa_devices
            .iter()
            .filter(|device| device.user_arn.as_deref().is_some_and(|arn| arn.ends_with(":root")))
            .map(|device| device.serial_number.as_str())
            .collect();
        let message = match (mfa, virtual_devices.is_empty()) {
            (false, _) => "The root user has no MFA device at all.".to_string(),
            (true, false) => format!("The root user's MFA is a virtual device (`{}`).", virtual_devices.join("`, `")),
            (true, true) => "The root user's MFA is a hardware device.".to_string(),
        };
        (mfa && virtual_devices.is_empty(), message, json!({ "AccountMFAEnabled": mfa, "RootVirtualMFADevices": virtual_devices }))
    }));
}

pub static ROOT_NOT_USED_RECENTLY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_root_user_not_used_recently",
        title: "The root user has not been used recently",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::High,
        risk: "Daily work as root bypasses every IAM guard rail and leaves no per-person accountability; recent root activity (policy parameter `max_root_use_age_days`, default 30) means root is used for routine tasks or has been taken over.",
        remediation: Remediation {
            text: "Create individual administrators (IAM Identity Center or IAM roles), keep root for the few tasks that require it, and investigate any root use you do not recognise.",
            cli: "aws iam generate-credential-report && aws iam get-credential-report --query Content --output text | base64 -d | grep '<root_account>'",
            terraform: "# Root use is a practice, not a resource: delegate administration to IAM roles or Identity Center permission sets.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-tasks.html"],
        frameworks: &[("cis-aws-5.0", "1.6"), ("pci-dss-4.0", "2.2.2"), ("nist-800-53-r5", "AC-6(9)")],
        reads: CREDENTIAL_REPORT,
    },
    run: root_not_used_recently,
};

fn root_not_used_recently(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let Some(root) = context.inventory.iam.credential_report.iter().find(|row| row.is_root()) else {
        let message = "The credential report has no `<root_account>` row, so root use cannot be judged.".to_string();
        findings.push(cannot_decide(metadata, context, &subject, message, json!({ "CredentialReportRows": context.inventory.iam.credential_report.len() })));
        return;
    };
    let max_age = context.number(&subject, "max_root_use_age_days", 30);
    let last_use = [root.password_last_used, root.access_key_1_last_used_date, root.access_key_2_last_used_date].into_iter().flatten().max();
    let recent = last_use.is_some_and(|time| days_since(context, &time) < max_age);
    let message = match last_use {
        None => "The root user has never been used.".to_string(),
        Some(time) => format!("The root user was last used {} days ago (limit: not within {max_age} days).", days_since(context, &time)),
    };
    let evidence = json!({
        "password_last_used": when(root.password_last_used.as_ref()),
        "access_key_1_last_used_date": when(root.access_key_1_last_used_date.as_ref()),
        "access_key_2_last_used_date": when(root.access_key_2_last_used_date.as_ref()),
        "max_root_use_age_days": max_age,
    });
    findings.push(context.verdict(metadata, &subject, !recent, message, evidence));
}

/// Judges the account password policy with `judge`; a missing policy fails.
fn judge_password_policy(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: fn(&PasswordPolicy, i64) -> (bool, String, Value),
    parameter: Option<(&str, i64)>,
) {
    let subject = context.account_subject();
    let value = parameter.map(|(name, default)| context.number(&subject, name, default)).unwrap_or_default();
    let policy = context.inventory.iam.password_policy.as_ref();
    findings.push(context.decide(metadata, &subject, &[], || match policy {
        None => (false, "The account has no password policy.".to_string(), json!({ "PasswordPolicy": null })),
        Some(policy) => judge(policy, value),
    }));
}

pub static PASSWORD_POLICY_REUSE_PREVENTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_reuse_prevention_24",
        title: "The password policy prevents reuse of the last 24 passwords",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Users who cycle back to old passwords bring back credentials that may already be in breach corpora (policy parameter `min_password_reuse_prevention`, default 24).",
        remediation: Remediation {
            text: "Set the password policy's reuse prevention to 24 remembered passwords.",
            cli: "aws iam update-account-password-policy --password-reuse-prevention 24 --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  password_reuse_prevention = 24\n  minimum_password_length   = 14\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("cis-aws-5.0", "1.8"), ("aws-securityhub", "IAM.16"), ("pci-dss-4.0", "8.3.7"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: |metadata, context, findings| {
        judge_password_policy(
            metadata,
            context,
            findings,
            |policy, minimum| {
                let remembered = policy.password_reuse_prevention;
                let message = match remembered {
                    Some(count) => format!("The password policy remembers {count} passwords (minimum {minimum})."),
                    None => "The password policy does not prevent password reuse.".to_string(),
                };
                (remembered.is_some_and(|count| i64::from(count) >= minimum), message, json!({ "PasswordReusePrevention": remembered }))
            },
            Some(("min_password_reuse_prevention", 24)),
        )
    },
};

pub static PASSWORD_POLICY_UPPERCASE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_uppercase",
        title: "The password policy requires an uppercase letter",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Passwords drawn from a smaller alphabet are faster to brute-force.",
        remediation: Remediation {
            text: "Require at least one uppercase letter in the account password policy.",
            cli: "aws iam update-account-password-policy --require-uppercase-characters --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  require_uppercase_characters = true\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("aws-securityhub", "IAM.11"), ("pci-dss-4.0", "8.3.6"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: |metadata, context, findings| {
        judge_password_policy(
            metadata,
            context,
            findings,
            |policy, _| {
                let message = if policy.require_uppercase_characters { "Uppercase letters are required." } else { "Uppercase letters are not required." };
                (policy.require_uppercase_characters, message.to_string(), json!({ "RequireUppercaseCharacters": policy.require_uppercase_characters }))
            },
            None,
        )
    },
};

pub static PASSWORD_POLICY_LOWERCASE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_lowercase",
        title: "The password policy requires a lowercase letter",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Passwords drawn from a smaller alphabet are faster to brute-force.",
        remediation: Remediation {
            text: "Require at least one lowercase letter in the account password policy.",
            cli: "aws iam update-account-password-policy --require-lowercase-characters --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  require_lowercase_characters = true\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("aws-securityhub", "IAM.12"), ("pci-dss-4.0", "8.3.6"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: |metadata, context, findings| {
        judge_password_policy(
            metadata,
            context,
            findings,
            |policy, _| {
                let message = if policy.require_lowercase_characters { "Lowercase letters are required." } else { "Lowercase letters are not required." };
                (policy.require_lowercase_characters, message.to_string(), json!({ "RequireLowercaseCharacters": policy.require_lowercase_characters }))
            },
            None,
        )
    },
};

pub static PASSWORD_POLICY_SYMBOL: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_symbol",
        title: "The password policy requires a symbol",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Passwords drawn from a smaller alphabet are faster to brute-force.",
        remediation: Remediation {
            text: "Require at least one symbol in the account password policy.",
            cli: "aws iam update-account-password-policy --require-symbols --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  require_symbols = true\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("aws-securityhub", "IAM.13"), ("pci-dss-4.0", "8.3.6"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: |metadata, context, findings| {
        judge_password_policy(
            metadata,
            context,
            findings,
            |policy, _| {
                let message = if policy.require_symbols { "Symbols are required." } else { "Symbols are not required." };
                (policy.require_symbols, message.to_string(), json!({ "RequireSymbols": policy.require_symbols }))
            },
            None,
        )
    },
};

pub static PASSWORD_POLICY_NUMBER: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_number",
        title: "The password policy requires a number",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Passwords drawn from a smaller alphabet are faster to brute-force.",
        remediation: Remediation {
            text: "Require at least one number in the account password policy.",
            cli: "aws iam update-account-password-policy --require-numbers --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  require_numbers = true\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("aws-securityhub", "IAM.14"), ("pci-dss-4.0", "8.3.6"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: |metadata, context, findings| {
        judge_password_policy(
            metadata,
            context,
            findings,
            |policy, _| {
                let message = if policy.require_numbers { "Numbers are required." } else { "Numbers are not required." };
                (policy.require_numbers, message.to_string(), json!({ "RequireNumbers": policy.require_numbers }))
            },
            None,
        )
    },
};

pub static PASSWORD_POLICY_EXPIRY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_expires_passwords_within_90_days",
        title: "The password policy expires passwords within 90 days",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "A password that never expires stays valid for an attacker who obtained it (policy parameter `max_password_age_days`, default 90, as PCI DSS asks for single-factor passwords).",
        remediation: Remediation {
            text: "Set a maximum password age of 90 days or less.",
            cli: "aws iam update-account-password-policy --max-password-age 90 --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  max_password_age = 90\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("aws-securityhub", "IAM.17"), ("pci-dss-4.0", "8.3.9"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: |metadata, context, findings| {
        judge_password_policy(
            metadata,
            context,
            findings,
            |policy, maximum| {
                // IAM reports a MaxPasswordAge of 0 for "passwords never expire" (its documented default).
                let age = policy.max_password_age.filter(|days| *days > 0);
                let message = match age {
                    Some(days) => format!("Passwords expire after {days} days (maximum {maximum})."),
                    None => "Passwords never expire.".to_string(),
                };
                (
                    age.is_some_and(|days| days > 0 && i64::from(days) <= maximum),
                    message,
                    json!({ "ExpirePasswords": policy.expire_passwords, "MaxPasswordAge": policy.max_password_age }),
                )
            },
            Some(("max_password_age_days", 90)),
        )
    },
};

/// The user behind an IAM user resource.
fn user_of<'a>(resource: &ResourceRef<'a>) -> Option<&'a User> {
    match resource.data {
        ResourceData::User(user) => Some(user),
        _ => None,
    }
}

/// The calls that describe a user's access keys and their last use.
fn access_key_needs(user: &User) -> Vec<Needs<'_>> {
    let mut needs = vec![Needs::call("iam", GLOBAL, "ListAccessKeys").on(&user.user_name)];
    needs.extend(user.access_keys.iter().map(|key| Needs::call("iam", GLOBAL, "GetAccessKeyLastUsed").on(&key.access_key_id)));
    needs
}

pub static USER_CREDENTIALS_UNUSED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_credentials_unused_45_days",
        title: "IAM users have no password or active access key left unused for 45 days",
        service: "iam",
        resource_type: USER,
        severity: Severity::Medium,
        risk: "Credentials nobody uses are credentials nobody watches: leaked, they work silently (policy parameter `max_unused_credential_days`, default 45).",
        remediation: Remediation {
            text: "Remove the console password of users who no longer sign in, and deactivate then delete access keys that have not been used.",
            cli: "aws iam delete-login-profile --user-name USER\naws iam update-access-key --user-name USER --access-key-id KEY_ID --status Inactive",
            terraform: "# Remove the aws_iam_user_login_profile / aws_iam_access_key resources of the unused credentials.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html"],
        frameworks: &[("cis-aws-5.0", "1.11"), ("aws-securityhub", "IAM.22"), ("pci-dss-4.0", "8.2.6"), ("nist-800-53-r5", "AC-2(3)")],
        reads: &[Read::global("iam", "GetAccountAuthorizationDetails"), Read::global("iam", "GetCredentialReport")],
    },
    run: user_credentials_unused,
};

fn user_credentials_unused(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, USER, |resource, subject, findings| {
        let Some(user) = user_of(resource) else { return };
        let max_days = context.number(subject, "max_unused_credential_days", 45);
        let mut needs = vec![Needs::call("iam", GLOBAL, "GetLoginProfile").on(&user.user_name)];
        needs.extend(access_key_needs(user));
        findings.push(context.decide(metadata, subject, &needs, || {
            let mut stale = Vec::new();
            if let Some(profile) = &user.login_profile {
                let reference = user.password_last_used.or(profile.create_date).or(user.create_date);
                if reference.is_some_and(|time| days_since(context, &time) >= max_days) {
                    stale.push(
                        json!({ "Credential": "password", "LastUsed": when(user.password_last_used.as_ref()), "Created": when(profile.create_date.as_ref()) }),
                    );
                }
            }
            for key in user.access_keys.iter().filter(|key| key.status == "Active") {
                let last_used = key.last_used.as_ref().and_then(|last| last.last_used_date);
                let reference = last_used.or(key.create_date);
                if reference.is_some_and(|time| days_since(context, &time) >= max_days) {
                    stale.push(json!({ "Credential": key.access_key_id, "LastUsed": when(last_used.as_ref()), "Created": when(key.create_date.as_ref()) }));
                }
            }
            let message = if stale.is_empty() {
                format!("User `{}` has no credential unused for {max_days} days.", user.user_name)
            } else {
                format!("User `{}` has {} credential(s) unused for {max_days} days or more.", user.user_name, stale.len())
            };
            (stale.is_empty(), message, json!({ "UnusedCredentials": stale, "max_unused_credential_days": max_days }))
        }));
    });
}

pub static USER_SINGLE_ACTIVE_ACCESS_KEY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_single_active_access_key",
        title: "IAM users have at most one active access key",
        service: "iam",
        resource_type: USER,
        severity: Severity::Medium,
        risk: "A second active key doubles what can leak and is usually a rotation that was never finished.",
        remediation: Remediation {
            text: "Keep one active access key per user: finish the rotation and deactivate the older key.",
            cli: "aws iam list-access-keys --user-name USER\naws iam update-access-key --user-name USER --access-key-id OLD_KEY_ID --status Inactive",
            terraform: "# Declare a single aws_iam_access_key per aws_iam_user.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html"],
        frameworks: &[("cis-aws-5.0", "1.12"), ("pci-dss-4.0", "8.6.3"), ("nist-800-53-r5", "IA-5(1)")],
        reads: AUTHORIZATION,
    },
    run: user_single_active_access_key,
};

fn user_single_active_access_key(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, USER, |resource, subject, findings| {
        let Some(user) = user_of(resource) else { return };
        let needs = [Needs::call("iam", GLOBAL, "ListAccessKeys").on(&user.user_name)];
        findings.push(context.decide(metadata, subject, &needs, || {
            let active: Vec<&str> = user.access_keys.iter().filter(|key| key.status == "Active").map(|key| key.access_key_id.as_str()).collect();
            let message = format!("User `{}` has {} active access key(s).", user.user_name, active.len());
            (active.len() <= 1, message, json!({ "ActiveAccessKeys": active }))
        }));
    });
}

pub static USER_ACCESS_KEYS_ROTATED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_access_keys_rotated_90_days",
        title: "Active access keys are rotated every 90 days",
        service: "iam",
        resource_type: USER,
        severity: Severity::Medium,
        risk: "Long-lived keys end up in laptops, CI logs and repositories; rotation bounds how long a leaked key works (policy parameter `max_access_key_age_days`, default 90).",
        remediation: Remediation {
            text: "Create a new access key, move the workload to it, then deactivate and delete the old key; prefer roles and short-lived credentials.",
            cli: "aws iam create-access-key --user-name USER\naws iam update-access-key --user-name USER --access-key-id OLD_KEY_ID --status Inactive\naws iam delete-access-key --user-name USER --access-key-id OLD_KEY_ID",
            terraform: "# Replace the aws_iam_access_key resource (terraform apply -replace=aws_iam_access_key.KEY) every 90 days.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#Using_RotateAccessKey"],
        frameworks: &[("cis-aws-5.0", "1.13"), ("aws-fsbp", "IAM.3"), ("pci-dss-4.0", "8.3.9"), ("nist-800-53-r5", "IA-5(1)")],
        reads: AUTHORIZATION,
    },
    run: user_access_keys_rotated,
};

fn user_access_keys_rotated(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, USER, |resource, subject, findings| {
        let Some(user) = user_of(resource) else { return };
        let max_age = context.number(subject, "max_access_key_age_days", 90);
        let needs = [Needs::call("iam", GLOBAL, "ListAccessKeys").on(&user.user_name)];
        findings.push(context.decide(metadata, subject, &needs, || {
            let old: Vec<Value> = user
                .access_keys
                .iter()
                .filter(|key| key.status == "Active" && key.create_date.is_some_and(|created| days_since(context, &created) > max_age))
                .map(|key| json!({ "AccessKeyId": key.access_key_id, "CreateDate": when(key.create_date.as_ref()) }))
                .collect();
            let message = if old.is_empty() {
                format!("User `{}` has no active access key older than {max_age} days.", user.user_name)
            } else {
                format!("User `{}` has {} active access key(s) older than {max_age} days.", user.user_name, old.len())
            };
            (old.is_empty(), message, json!({ "StaleAccessKeys": old, "max_access_key_age_days": max_age }))
        }));
    });
}

pub static USER_NO_UNUSED_INITIAL_ACCESS_KEY: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_no_unused_access_key_with_console_access",
        title: "Console users have no access key that was never used",
        service: "iam",
        resource_type: USER,
        severity: Severity::Low,
        risk: "Keys created by default when a console user is set up are never needed, never watched, and still work when they leak.",
        remediation: Remediation {
            text: "Delete access keys that were never used; create keys only when a user actually needs programmatic access.",
            cli: "aws iam delete-access-key --user-name USER --access-key-id KEY_ID",
            terraform: "# Do not declare aws_iam_access_key for console users that do not need programmatic access.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html"],
        frameworks: &[("cis-aws-5.0", "1.10"), ("nist-800-53-r5", "AC-2")],
        reads: AUTHORIZATION,
    },
    run: user_no_unused_initial_access_key,
};

fn user_no_unused_initial_access_key(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, USER, |resource, subject, findings| {
        let Some(user) = user_of(resource) else { return };
        let mut needs = vec![Needs::call("iam", GLOBAL, "GetLoginProfile").on(&user.user_name)];
        needs.extend(access_key_needs(user));
        findings.push(context.decide(metadata, subject, &needs, || {
            let never_used: Vec<&str> = if user.login_profile.is_some() {
                user.access_keys
                    .iter()
                    .filter(|key| key.status == "Active" && key.last_used.as_ref().and_then(|last| last.last_used_date).is_none())
                    .map(|key| key.access_key_id.as_str())
                    .collect()
            } else {
                Vec::new()
            };
            let message = if never_used.is_empty() {
                format!("User `{}` has no never-used access key next to a console password.", user.user_name)
            } else {
                format!("User `{}` has a console password and never-used access key(s) `{}`.", user.user_name, never_used.join("`, `"))
            };
            (never_used.is_empty(), message, json!({ "LoginProfile": user.login_profile.is_some(), "NeverUsedActiveAccessKeys": never_used }))
        }));
    });
}

pub static USER_NO_DIRECT_POLICIES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_no_directly_attached_policies",
        title: "IAM users receive permissions only through groups",
        service: "iam",
        resource_type: USER,
        severity: Severity::Low,
        risk: "Permissions attached user by user drift apart and are hard to review; groups (or roles) keep access consistent and auditable.",
        remediation: Remediation {
            text: "Move each user's attached and inline policies to a group that represents the job function, and add the user to it.",
            cli: "aws iam detach-user-policy --user-name USER --policy-arn POLICY_ARN\naws iam add-user-to-group --user-name USER --group-name GROUP",
            terraform: "resource \"aws_iam_group_policy_attachment\" \"job\" {\n  group      = aws_iam_group.job.name\n  policy_arn = aws_iam_policy.job.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups_manage_attach-policy.html"],
        frameworks: &[("cis-aws-5.0", "1.14"), ("aws-fsbp", "IAM.2"), ("pci-dss-4.0", "7.2.1"), ("nist-800-53-r5", "AC-2")],
        reads: AUTHORIZATION,
    },
    run: user_no_direct_policies,
};

fn user_no_direct_policies(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, USER, |resource, subject, findings| {
        let Some(user) = user_of(resource) else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let attached: Vec<&str> = user.attached_managed_policies.iter().map(|policy| policy.policy_arn.as_str()).collect();
            let inline: Vec<&str> = user.user_policy_list.iter().map(|policy| policy.policy_name.as_str()).collect();
            let message = if attached.is_empty() && inline.is_empty() {
                format!("User `{}` has no policy of its own.", user.user_name)
            } else {
                format!("User `{}` has {} attached and {} inline policies of its own.", user.user_name, attached.len(), inline.len())
            };
            (attached.is_empty() && inline.is_empty(), message, json!({ "AttachedManagedPolicies": attached, "UserPolicyList": inline }))
        }));
    });
}

pub static USER_MFA_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_mfa_enabled",
        title: "Every IAM user has an MFA device",
        service: "iam",
        resource_type: USER,
        severity: Severity::Medium,
        risk: "Without MFA a user's credentials are the only barrier; an MFA device also lets policies require MFA for sensitive API calls.",
        remediation: Remediation {
            text: "Assign an MFA device to every IAM user, or replace IAM users with federated access.",
            cli: "aws iam create-virtual-mfa-device --virtual-mfa-device-name USER --outfile qr.png --bootstrap-method QRCodePNG\naws iam enable-mfa-device --user-name USER --serial-number ARN --authentication-code1 CODE1 --authentication-code2 CODE2",
            terraform: "resource \"aws_iam_virtual_mfa_device\" \"user\" {\n  virtual_mfa_device_name = \"USER\"\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa.html"],
        frameworks: &[("aws-securityhub", "IAM.19"), ("pci-dss-4.0", "8.4.2"), ("nist-800-53-r5", "IA-2(1)")],
        reads: AUTHORIZATION,
    },
    run: user_mfa_enabled,
};

fn user_mfa_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, USER, |resource, subject, findings| {
        let Some(user) = user_of(resource) else { return };
        let needs = [Needs::call("iam", GLOBAL, "ListMFADevices").on(&user.user_name)];
        findings.push(context.decide(metadata, subject, &needs, || {
            let devices: Vec<&str> = user.mfa_devices.iter().map(|device| device.serial_number.as_str()).collect();
            let message = if devices.is_empty() {
                format!("User `{}` has no MFA device.", user.user_name)
            } else {
                format!("User `{}` has {} MFA device(s).", user.user_name, devices.len())
            };
            (!devices.is_empty(), message, json!({ "MFADevices": devices }))
        }));
    });
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use vigil_model::Outcome;
    use vigil_model::iam::{AccessKey, AccessKeyLastUsed, CredentialReportRow, LoginProfile, PasswordPolicy, User, VirtualMfaDevice};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    fn ago(days: i64) -> Option<vigil_model::Timestamp> {
        Some(Utc::now() - Duration::days(days))
    }

    fn key(id: &str, active: bool, created_days: i64, used_days: Option<i64>) -> AccessKey {
        AccessKey {
            access_key_id: id.into(),
            status: if active { "Active" } else { "Inactive" }.into(),
            create_date: ago(created_days),
            last_used: Some(AccessKeyLastUsed { last_used_date: used_days.and_then(ago), ..Default::default() }),
        }
    }

    /// An inventory with users whose every per-user call was read, except those named in `denied_users`.
    fn users(list: Vec<User>, denied_users: &[&str]) -> vigil_model::Inventory {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None);
        read(&mut inventory, "iam", GLOBAL, "GetCredentialReport", None);
        for user in &list {
            let name = user.user_name.as_str();
            let outcome = |present: bool| {
                if denied_users.contains(&name) {
                    denied()
                } else if present {
                    Outcome::Ok
                } else {
                    Outcome::NotConfigured { code: "NoSuchEntity".into() }
                }
            };
            record(&mut inventory, "iam", GLOBAL, "GetLoginProfile", Some(name), outcome(user.login_profile.is_some()));
            record(&mut inventory, "iam", GLOBAL, "ListAccessKeys", Some(name), outcome(true));
            record(&mut inventory, "iam", GLOBAL, "ListMFADevices", Some(name), outcome(true));
            for key in &user.access_keys {
                read(&mut inventory, "iam", GLOBAL, "GetAccessKeyLastUsed", Some(&key.access_key_id));
            }
        }
        inventory.iam.users = list;
        inventory
    }

    fn user(name: &str) -> User {
        User { user_name: name.into(), arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"), create_date: ago(400), ..Default::default() }
    }

    #[test]
    fn root_hardware_mfa_fails_for_virtual_devices_and_missing_mfa() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountSummary", None);
        read(&mut inventory, "iam", GLOBAL, "ListVirtualMFADevices", None);
        assert_eq!(run(&ROOT_HARDWARE_MFA_ENABLED, &inventory)[0].status, Status::Fail);
        inventory.iam.account_summary.insert("AccountMFAEnabled".into(), 1);
        assert_eq!(run(&ROOT_HARDWARE_MFA_ENABLED, &inventory)[0].status, Status::Pass);
        inventory.iam.virtual_mfa_devices.push(VirtualMfaDevice {
            serial_number: "arn:aws:iam::123456789012:mfa/root".into(),
            user_arn: Some(format!("arn:aws:iam::{ACCOUNT}:root")),
            enable_date: None,
        });
        assert_eq!(run(&ROOT_HARDWARE_MFA_ENABLED, &inventory)[0].status, Status::Fail);
        let mut denied_inventory = inventory.clone();
        denied_inventory.ledger.calls.retain(|call| call.operation != "ListVirtualMFADevices");
        record(&mut denied_inventory, "iam", GLOBAL, "ListVirtualMFADevices", None, denied());
        let finding = &run(&ROOT_HARDWARE_MFA_ENABLED, &denied_inventory)[0];
        assert_eq!(finding.status, Status::Error);
        assert!(finding.message.contains("iam:ListVirtualMFADevices"), "{}", finding.message);
    }

    #[test]
    fn root_use_is_judged_from_the_credential_report_and_a_missing_row_is_an_error() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetCredentialReport", None);
        assert_eq!(run(&ROOT_NOT_USED_RECENTLY, &inventory)[0].status, Status::Error);
        let root = |used: Option<i64>| CredentialReportRow { user: "<root_account>".into(), password_last_used: used.and_then(ago), ..Default::default() };
        for (used, expected) in [(None, Status::Pass), (Some(3), Status::Fail), (Some(200), Status::Pass)] {
            inventory.iam.credential_report = vec![root(used)];
            assert_eq!(run(&ROOT_NOT_USED_RECENTLY, &inventory)[0].status, expected, "{used:?}");
        }
        let mut denied_inventory = super::super::test_support::inventory();
        record(&mut denied_inventory, "iam", GLOBAL, "GetCredentialReport", None, denied());
        assert_eq!(run(&ROOT_NOT_USED_RECENTLY, &denied_inventory)[0].status, Status::Error);
    }

    #[test]
    fn password_policy_parts_are_each_judged_and_a_missing_policy_fails_them_all() {
        let checks: [&FnCheck; 6] = [
            &PASSWORD_POLICY_REUSE_PREVENTION,
            &PASSWORD_POLICY_UPPERCASE,
            &PASSWORD_POLICY_LOWERCASE,
            &PASSWORD_POLICY_SYMBOL,
            &PASSWORD_POLICY_NUMBER,
            &PASSWORD_POLICY_EXPIRY,
        ];
        let mut inventory = inventory();
        record(&mut inventory, "iam", GLOBAL, "GetAccountPasswordPolicy", None, Outcome::NotConfigured { code: "NoSuchEntity".into() });
        for check in checks {
            assert_eq!(run(check, &inventory)[0].status, Status::Fail, "{}", check.metadata.id);
        }
        inventory.iam.password_policy = Some(PasswordPolicy {
            minimum_password_length: Some(14),
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            expire_passwords: true,
            max_password_age: Some(90),
            password_reuse_prevention: Some(24),
            ..Default::default()
        });
        for check in checks {
            assert_eq!(run(check, &inventory)[0].status, Status::Pass, "{}", check.metadata.id);
        }
        inventory.iam.password_policy = Some(PasswordPolicy { max_password_age: Some(365), password_reuse_prevention: Some(5), ..Default::default() });
        for check in checks {
            assert_eq!(run(check, &inventory)[0].status, Status::Fail, "{}", check.metadata.id);
        }
        // IAM's MaxPasswordAge of 0 is its default, "passwords never expire" (issue 14 item 9:
        // the demo said "Passwords expire after 0 days").
        inventory.iam.password_policy = Some(PasswordPolicy { max_password_age: Some(0), ..Default::default() });
        let never = run(&PASSWORD_POLICY_EXPIRY, &inventory);
        assert_eq!((never[0].status, never[0].message.as_str()), (Status::Fail, "Passwords never expire."));
        let mut denied_inventory = super::super::test_support::inventory();
        record(&mut denied_inventory, "iam", GLOBAL, "GetAccountPasswordPolicy", None, denied());
        for check in checks {
            assert_eq!(run(check, &denied_inventory)[0].status, Status::Error, "{}", check.metadata.id);
        }
    }

    #[test]
    fn unused_credentials_fail_after_45_days_and_unread_keys_error() {
        let console = |name: &str, used: Option<i64>| User {
            login_profile: Some(LoginProfile { create_date: ago(300), password_reset_required: false }),
            password_last_used: used.and_then(ago),
            ..user(name)
        };
        let inventory = users(
            vec![
                console("active-console", Some(3)),
                console("stale-console", Some(60)),
                console("never-signed-in", None),
                User { access_keys: vec![key("AKIASTALE", true, 400, Some(100))], ..user("stale-key") },
                User { access_keys: vec![key("AKIAFRESH", true, 400, Some(1)), key("AKIAOFF", false, 400, None)], ..user("fresh-key") },
                User { access_keys: vec![key("AKIANEW", true, 10, None)], ..user("new-key") },
                console("denied", Some(1)),
            ],
            &["denied"],
        );
        assert_eq!(
            statuses(&run(&USER_CREDENTIALS_UNUSED, &inventory)),
            vec![
                ("active-console".into(), Status::Pass),
                ("denied".into(), Status::Error),
                ("fresh-key".into(), Status::Pass),
                ("never-signed-in".into(), Status::Fail),
                ("new-key".into(), Status::Pass),
                ("stale-console".into(), Status::Fail),
                ("stale-key".into(), Status::Fail),
            ]
        );
    }

    #[test]
    fn access_key_count_age_and_never_used_keys_are_judged_per_user() {
        let inventory = users(
            vec![
                User { access_keys: vec![key("A1", true, 10, Some(1)), key("A2", true, 200, Some(1))], ..user("two-active") },
                User { access_keys: vec![key("B1", true, 10, Some(1)), key("B2", false, 200, None)], ..user("one-active") },
                User { login_profile: Some(LoginProfile::default()), access_keys: vec![key("C1", true, 5, None)], ..user("console-with-unused-key") },
                User { access_keys: vec![key("D1", true, 5, None)], ..user("api-only-new-key") },
                User { access_keys: vec![key("E1", true, 5, None)], ..user("denied") },
            ],
            &["denied"],
        );
        assert_eq!(
            statuses(&run(&USER_SINGLE_ACTIVE_ACCESS_KEY, &inventory)),
            vec![
                ("api-only-new-key".into(), Status::Pass),
                ("console-with-unused-key".into(), Status::Pass),
                ("denied".into(), Status::Error),
                ("one-active".into(), Status::Pass),
                ("two-active".into(), Status::Fail),
            ]
        );
        assert_eq!(
            statuses(&run(&USER_ACCESS_KEYS_ROTATED, &inventory)),
            vec![
                ("api-only-new-key".into(), Status::Pass),
                ("console-with-unused-key".into(), Status::Pass),
                ("denied".into(), Status::Error),
                ("one-active".into(), Status::Pass),
                ("two-active".into(), Status::Fail),
            ]
        );
        assert_eq!(
            statuses(&run(&USER_NO_UNUSED_INITIAL_ACCESS_KEY, &inventory)),
            vec![
                ("api-only-new-key".into(), Status::Pass),
                ("console-with-unused-key".into(), Status::Fail),
                ("denied".into(), Status::Error),
                ("one-active".into(), Status::Pass),
                ("two-active".into(), Status::Pass),
            ]
        );
    }

    #[test]
    fn directly_attached_policies_and_missing_mfa_fail_and_an_unread_listing_errors_once() {
        let with_policy = User {
            attached_managed_policies: vec![vigil_model::iam::AttachedPolicy {
                policy_name: None,
                policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
            }],
            mfa_devices: vec![vigil_model::iam::MfaDevice::default()],
            ..user("direct")
        };
        let inventory = users(vec![with_policy, user("grouped")], &[]);
        assert_eq!(statuses(&run(&USER_NO_DIRECT_POLICIES, &inventory)), vec![("direct".into(), Status::Fail), ("grouped".into(), Status::Pass)]);
        assert_eq!(statuses(&run(&USER_MFA_ENABLED, &inventory)), vec![("direct".into(), Status::Pass), ("grouped".into(), Status::Fail)]);
        let mut unlisted = super::super::test_support::inventory();
        record(&mut unlisted, "iam", GLOBAL, "GetAccountAuthorizationDetails", None, denied());
        let findings = run(&USER_NO_DIRECT_POLICIES, &unlisted);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].status, Status::Error);
        assert!(findings[0].message.contains("iam:GetAccountAuthorizationDetails"));
    }
}
