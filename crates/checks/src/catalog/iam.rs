//! IAM checks: root account protection, MFA and password policy.

use serde_json::json;
use vigil_model::Region;

use super::FnCheck;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const GLOBAL: &str = Region::GLOBAL;
/// The account summary (root MFA and root access keys).
pub(crate) const SUMMARY: &[Read] = &[Read::global("iam", "GetAccountSummary")];
/// Users, groups, roles and policies.
pub(crate) const AUTHORIZATION: &[Read] = &[Read::global("iam", "GetAccountAuthorizationDetails")];
/// The account password policy.
pub(crate) const PASSWORD_POLICY: &[Read] = &[Read::global("iam", "GetAccountPasswordPolicy")];

pub static ROOT_MFA_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_root_mfa_enabled",
        title: "The root user has MFA enabled",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Critical,
        risk: "The root user can do anything in the account, including closing it; a stolen root password without MFA is a total compromise.",
        remediation: Remediation {
            text: "Sign in as root and assign a hardware or virtual MFA device (IAM console > Security credentials > Multi-factor authentication).",
            cli: "# Root MFA can only be enabled from the console while signed in as root.\naws iam get-account-summary --query SummaryMap.AccountMFAEnabled",
            terraform: "# Root MFA cannot be managed by Terraform; enable it in the console as root.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-virt-mfa-for-root.html"],
        frameworks: &[("cis-aws-5.0", "1.4"), ("aws-securityhub", "IAM.9"), ("pci-dss-4.0", "8.4.1"), ("nist-800-53-r5", "IA-2(1)")],
        reads: SUMMARY,
    },
    run: root_mfa_enabled,
};

fn root_mfa_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let summary = &context.inventory.iam.account_summary;
    findings.push(context.decide(metadata, &subject, &[], || {
        let enabled = summary.get("AccountMFAEnabled").copied().unwrap_or(0) == 1;
        let message = if enabled { "The root user has MFA enabled." } else { "The root user has no MFA device." };
        (enabled, message.to_string(), json!({ "AccountMFAEnabled": summary.get("AccountMFAEnabled") }))
    }));
}

pub static ROOT_ACCESS_KEYS_ABSENT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_root_access_keys_absent",
        title: "The root user has no access keys",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Critical,
        risk: "Root access keys give unrestricted, unconditioned programmatic access to the whole account and cannot be limited by policies.",
        remediation: Remediation {
            text: "Sign in as root, delete every root access key, and use IAM roles or users for programmatic access.",
            cli: "aws iam get-account-summary --query SummaryMap.AccountAccessKeysPresent",
            terraform: "# Root access keys cannot be managed by Terraform; delete them in the console as root.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html"],
        frameworks: &[("cis-aws-5.0", "1.3"), ("aws-fsbp", "IAM.4"), ("pci-dss-4.0", "2.2.2"), ("nist-800-53-r5", "AC-6(10)")],
        reads: SUMMARY,
    },
    run: root_access_keys_absent,
};

fn root_access_keys_absent(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let summary = &context.inventory.iam.account_summary;
    findings.push(context.decide(metadata, &subject, &[], || {
        let present = summary.get("AccountAccessKeysPresent").copied().unwrap_or(0) > 0;
        let message = if present { "The root user has access keys." } else { "The root user has no access keys." };
        (!present, message.to_string(), json!({ "AccountAccessKeysPresent": summary.get("AccountAccessKeysPresent") }))
    }));
}

pub static USER_CONSOLE_MFA: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_user_console_mfa",
        title: "IAM users with a console password have MFA",
        service: "iam",
        resource_type: "AWS::IAM::User",
        severity: Severity::High,
        risk: "A console password alone can be phished, guessed or reused from another breach; MFA stops account takeover.",
        remediation: Remediation {
            text: "Assign an MFA device to every IAM user that has a console password, or remove the password if the user does not need the console.",
            cli: "aws iam create-virtual-mfa-device --virtual-mfa-device-name USER --outfile qr.png --bootstrap-method QRCodePNG\naws iam enable-mfa-device --user-name USER --serial-number ARN --authentication-code1 CODE1 --authentication-code2 CODE2",
            terraform: "resource \"aws_iam_virtual_mfa_device\" \"user\" {\n  virtual_mfa_device_name = \"USER\"\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html"],
        frameworks: &[("cis-aws-5.0", "1.9"), ("aws-fsbp", "IAM.5"), ("pci-dss-4.0", "8.4.2"), ("nist-800-53-r5", "IA-2(1)")],
        reads: AUTHORIZATION,
    },
    run: user_console_mfa,
};

fn user_console_mfa(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for resource in context.resources_of_type("AWS::IAM::User") {
        let vigil_model::resource::ResourceData::User(user) = resource.data else { continue };
        let subject = context.subject(resource);
        let needs = [Needs::call("iam", GLOBAL, "GetLoginProfile").on(&user.user_name), Needs::call("iam", GLOBAL, "ListMFADevices").on(&user.user_name)];
        findings.push(context.decide(metadata, &subject, &needs, || {
            let has_password = user.login_profile.is_some();
            let has_mfa = !user.mfa_devices.is_empty();
            let message = match (has_password, has_mfa) {
                (false, _) => format!("User `{}` has no console password.", user.user_name),
                (true, true) => format!("User `{}` has a console password and MFA.", user.user_name),
                (true, false) => format!("User `{}` has a console password but no MFA device.", user.user_name),
            };
            (!has_password || has_mfa, message, json!({ "LoginProfile": user.login_profile.is_some(), "MFADevices": user.mfa_devices.len() }))
        }));
    }
}

pub static PASSWORD_POLICY_MINIMUM_LENGTH: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_password_policy_minimum_length_14",
        title: "The password policy requires at least 14 characters",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Short passwords are cheaper to guess or crack; without an account password policy IAM accepts 8-character passwords.",
        remediation: Remediation {
            text: "Set an account password policy with a minimum length of 14 or more.",
            cli: "aws iam update-account-password-policy --minimum-password-length 14",
            terraform: "resource \"aws_iam_account_password_policy\" \"strict\" {\n  minimum_password_length = 14\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"],
        frameworks: &[("cis-aws-5.0", "1.7"), ("aws-securityhub", "IAM.15"), ("pci-dss-4.0", "8.3.6"), ("nist-800-53-r5", "IA-5(1)")],
        reads: PASSWORD_POLICY,
    },
    run: password_policy_minimum_length,
};

fn password_policy_minimum_length(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    let policy = context.inventory.iam.password_policy.as_ref();
    findings.push(context.decide(metadata, &subject, &[], || {
        let length = policy.and_then(|policy| policy.minimum_password_length);
        let message = match length {
            None if policy.is_none() => "The account has no password policy.".to_string(),
            None => "The password policy sets no minimum length.".to_string(),
            Some(length) => format!("The password policy requires {length} characters."),
        };
        (length.is_some_and(|length| length >= 14), message, json!({ "MinimumPasswordLength": length }))
    }));
}

#[cfg(test)]
mod tests {
    use vigil_model::Outcome;
    use vigil_model::iam::{LoginProfile, MfaDevice, PasswordPolicy, User};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    #[test]
    fn root_mfa_passes_fails_and_errors_from_the_ledger() {
        let mut inventory = inventory();
        assert_eq!(statuses(&run(&ROOT_MFA_ENABLED, &inventory)), vec![(ACCOUNT.into(), Status::Error)]);
        record(&mut inventory, "iam", GLOBAL, "GetAccountSummary", None, denied());
        let findings = run(&ROOT_MFA_ENABLED, &inventory);
        assert_eq!(findings[0].status, Status::Error);
        assert!(findings[0].message.contains("iam:GetAccountSummary"), "{}", findings[0].message);
        let mut inventory = inventory_with_summary(0);
        assert_eq!(run(&ROOT_MFA_ENABLED, &inventory)[0].status, Status::Fail);
        inventory.iam.account_summary.insert("AccountMFAEnabled".into(), 1);
        assert_eq!(run(&ROOT_MFA_ENABLED, &inventory)[0].status, Status::Pass);
    }

    fn inventory_with_summary(mfa: i64) -> vigil_model::Inventory {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountSummary", None);
        inventory.iam.account_summary.insert("AccountMFAEnabled".into(), mfa);
        inventory
    }

    #[test]
    fn root_access_keys_fail_when_present() {
        let mut inventory = inventory_with_summary(1);
        inventory.iam.account_summary.insert("AccountAccessKeysPresent".into(), 1);
        assert_eq!(run(&ROOT_ACCESS_KEYS_ABSENT, &inventory)[0].status, Status::Fail);
        inventory.iam.account_summary.insert("AccountAccessKeysPresent".into(), 0);
        assert_eq!(run(&ROOT_ACCESS_KEYS_ABSENT, &inventory)[0].status, Status::Pass);
    }

    #[test]
    fn console_users_without_mfa_fail_and_unread_users_error() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None);
        for (name, password, mfa) in [("api-only", false, false), ("console-mfa", true, true), ("console-no-mfa", true, false), ("unknown", true, false)] {
            inventory.iam.users.push(User {
                user_name: name.into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
                login_profile: password.then(LoginProfile::default),
                mfa_devices: if mfa { vec![MfaDevice::default()] } else { vec![] },
                ..User::default()
            });
            if name != "unknown" {
                let login = if password { Outcome::Ok } else { Outcome::NotConfigured { code: "NoSuchEntity".into() } };
                record(&mut inventory, "iam", GLOBAL, "GetLoginProfile", Some(name), login);
                read(&mut inventory, "iam", GLOBAL, "ListMFADevices", Some(name));
            } else {
                record(&mut inventory, "iam", GLOBAL, "GetLoginProfile", Some(name), denied());
            }
        }
        assert_eq!(
            statuses(&run(&USER_CONSOLE_MFA, &inventory)),
            vec![
                ("api-only".into(), Status::Pass),
                ("console-mfa".into(), Status::Pass),
                ("console-no-mfa".into(), Status::Fail),
                ("unknown".into(), Status::Error),
            ]
        );
    }

    #[test]
    fn password_policy_length_is_judged_and_a_missing_policy_fails() {
        let mut inventory = inventory();
        record(&mut inventory, "iam", GLOBAL, "GetAccountPasswordPolicy", None, Outcome::NotConfigured { code: "NoSuchEntity".into() });
        let findings = run(&PASSWORD_POLICY_MINIMUM_LENGTH, &inventory);
        assert_eq!(findings[0].status, Status::Fail);
        assert!(findings[0].message.contains("no password policy"));
        for (length, expected) in [(8, Status::Fail), (14, Status::Pass), (20, Status::Pass)] {
            inventory.iam.password_policy = Some(PasswordPolicy { minimum_password_length: Some(length), ..Default::default() });
            assert_eq!(run(&PASSWORD_POLICY_MINIMUM_LENGTH, &inventory)[0].status, expected, "{length}");
        }
    }
}
