//! IAM policy and account-configuration checks: full-admin managed policies (customer managed,
//! and AWS managed ones attached to a principal), the support role,
//! CloudShell full access, server certificates and SAML providers.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::iam::AUTHORIZATION;
use super::support::{GLOBAL, cannot_decide, each_resource, full_admin_statements, when};
use crate::context::Context;
use crate::{Finding, Metadata, Read, Remediation, Severity};

const SERVER_CERTIFICATES: &[Read] = &[Read::global("iam", "ListServerCertificates")];

pub static POLICY_NO_FULL_ADMIN: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_policy_no_full_admin_privileges",
        title: "Attached managed policies, customer and AWS managed, do not allow \"*\" on \"*\"",
        service: "iam",
        resource_type: "AWS::IAM::ManagedPolicy",
        severity: Severity::High,
        risk: "A policy that allows every action on every resource makes whoever holds it an administrator, usually far beyond what the job needs.",
        remediation: Remediation {
            text: "Replace `\"Action\": \"*\", \"Resource\": \"*\"` statements with the actions and resources the principals need, or detach the policy (for AWS managed policies such as AdministratorAccess: detach it and attach a narrower one).",
            cli: "aws iam list-entities-for-policy --policy-arn POLICY_ARN\naws iam detach-role-policy --role-name ROLE --policy-arn POLICY_ARN",
            terraform: "data \"aws_iam_policy_document\" \"scoped\" {\n  statement {\n    actions   = [\"s3:GetObject\"]\n    resources = [\"arn:aws:s3:::bucket/*\"]\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"],
        frameworks: &[("cis-aws-5.0", "1.15"), ("aws-fsbp", "IAM.1"), ("pci-dss-4.0", "7.2.1"), ("nist-800-53-r5", "AC-6")],
        reads: AUTHORIZATION,
    },
    run: policy_no_full_admin,
};

fn policy_no_full_admin(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    // Customer managed policies: every one, judged with the attachment count AWS reports.
    each_resource(context, findings, "AWS::IAM::ManagedPolicy", |resource, subject, findings| {
        let ResourceData::Policy(policy) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            judge_full_admin(&policy.policy_name, policy.default_document(), policy.attachment_count.unwrap_or(0), Vec::new())
        }));
    });
    // AWS managed policies attached to a principal of this account (AdministratorAccess is the
    // usual one): they are not resources of the account, but attaching them is its decision.
    let mut attached: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (principal, policy) in attachments(context) {
        if policy.contains(":iam::aws:policy/") {
            attached.entry(policy).or_default().push(principal);
        }
    }
    for (arn, principals) in attached {
        let name = arn.rsplit('/').next().unwrap_or_default().to_string();
        let subject = context.new_subject(&arn, metadata.resource_type, &name, GLOBAL, None);
        let Some(policy) = context.inventory.iam.policies.iter().find(|policy| policy.arn == arn) else {
            let message = format!("AWS managed policy `{name}` is attached to {} principal(s) but its document was not collected.", principals.len());
            findings.push(cannot_decide(metadata, context, &subject, message, json!({ "PolicyArn": arn, "AttachedTo": principals })));
            continue;
        };
        let count = i32::try_from(principals.len()).unwrap_or(i32::MAX);
        findings.push(context.decide(metadata, &subject, &[], || judge_full_admin(&name, policy.default_document(), count, principals)));
    }
}

/// FAIL when the document allows `*` on `*` and the policy is attached to someone.
fn judge_full_admin(name: &str, document: Option<&Value>, attachments: i32, attached_to: Vec<String>) -> (bool, String, Value) {
    let admin: Vec<&Value> = document.map(full_admin_statements).unwrap_or_default();
    let message = match (admin.is_empty(), attachments) {
        (true, _) => format!("Policy `{name}` does not allow \"*\" on \"*\"."),
        (false, 0) => format!("Policy `{name}` allows \"*\" on \"*\" but is not attached."),
        (false, count) => format!("Policy `{name}` allows \"*\" on \"*\" and is attached to {count} principal(s)."),
    };
    let mut evidence = json!({ "FullAdminStatements": admin, "AttachmentCount": attachments });
    if !attached_to.is_empty() {
        evidence["AttachedTo"] = json!(attached_to);
    }
    (admin.is_empty() || attachments == 0, message, evidence)
}

/// Every (principal ARN, attached policy ARN) pair of users, groups and roles.
fn attachments(context: &Context<'_>) -> Vec<(String, String)> {
    let iam = &context.inventory.iam;
    let users = iam.users.iter().flat_map(|user| user.attached_managed_policies.iter().map(|policy| (user.arn.clone(), policy.policy_arn.clone())));
    let groups = iam.groups.iter().flat_map(|group| group.attached_managed_policies.iter().map(|policy| (group.arn.clone(), policy.policy_arn.clone())));
    let roles = iam.roles.iter().flat_map(|role| role.attached_managed_policies.iter().map(|policy| (role.arn.clone(), policy.policy_arn.clone())));
    users.chain(groups).chain(roles).collect()
}

pub static SUPPORT_ROLE_EXISTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_support_role_exists",
        title: "A role with AWSSupportAccess exists to manage incidents with AWS Support",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Without a designated support role, people open AWS Support cases with over-privileged or shared credentials during an incident.",
        remediation: Remediation {
            text: "Create a role that trusted operators can assume and attach the AWS managed policy AWSSupportAccess to it.",
            cli: "aws iam create-role --role-name aws-support --assume-role-policy-document file://trust.json\naws iam attach-role-policy --role-name aws-support --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess",
            terraform: "resource \"aws_iam_role_policy_attachment\" \"support\" {\n  role       = aws_iam_role.support.name\n  policy_arn = \"arn:aws:iam::aws:policy/AWSSupportAccess\"\n}",
        },
        references: &["https://docs.aws.amazon.com/awssupport/latest/user/accessing-support.html"],
        frameworks: &[("cis-aws-5.0", "1.16"), ("aws-securityhub", "IAM.18")],
        reads: AUTHORIZATION,
    },
    run: support_role_exists,
};

fn support_role_exists(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    findings.push(context.decide(metadata, &subject, &[], || {
        let roles: Vec<&str> = context
            .inventory
            .iam
            .roles
            .iter()
            .filter(|role| role.attached_managed_policies.iter().any(|policy| policy.policy_arn.ends_with(":policy/AWSSupportAccess")))
            .map(|role| role.role_name.as_str())
            .collect();
        let message = if roles.is_empty() {
            "No role has the AWSSupportAccess policy attached.".to_string()
        } else {
            format!("Role(s) `{}` have AWSSupportAccess attached.", roles.join("`, `"))
        };
        (!roles.is_empty(), message, json!({ "SupportRoles": roles }))
    }));
}

pub static CLOUDSHELL_FULL_ACCESS_RESTRICTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_cloudshell_full_access_not_attached",
        title: "AWSCloudShellFullAccess is not attached to any principal",
        service: "iam",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "CloudShell full access lets a user upload and download files and reach the internet from inside the account: a ready-made exfiltration channel.",
        remediation: Remediation {
            text: "Detach AWSCloudShellFullAccess from every user, group and role; grant a narrower policy that denies file transfer if CloudShell is needed.",
            cli: "aws iam list-entities-for-policy --policy-arn arn:aws:iam::aws:policy/AWSCloudShellFullAccess",
            terraform: "# Remove aws_iam_*_policy_attachment resources that reference arn:aws:iam::aws:policy/AWSCloudShellFullAccess.",
        },
        references: &["https://docs.aws.amazon.com/cloudshell/latest/userguide/sec-auth-with-identities.html"],
        frameworks: &[("cis-aws-5.0", "1.21"), ("aws-securityhub", "IAM.27"), ("nist-800-53-r5", "AC-6")],
        reads: AUTHORIZATION,
    },
    run: cloudshell_full_access_restricted,
};

fn cloudshell_full_access_restricted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let subject = context.account_subject();
    findings.push(context.decide(metadata, &subject, &[], || {
        let principals: Vec<String> = attachments(context)
            .into_iter()
            .filter(|(_, policy)| policy.ends_with(":policy/AWSCloudShellFullAccess"))
            .map(|(principal, _)| principal)
            .collect();
        let message = if principals.is_empty() {
            "No principal has AWSCloudShellFullAccess attached.".to_string()
        } else {
            format!("{} principal(s) have AWSCloudShellFullAccess attached.", principals.len())
        };
        (principals.is_empty(), message, json!({ "Principals": principals }))
    }));
}

pub static SERVER_CERTIFICATE_NOT_EXPIRED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_server_certificate_not_expired",
        title: "No expired SSL/TLS certificate is stored in IAM",
        service: "iam",
        resource_type: "AWS::IAM::ServerCertificate",
        severity: Severity::Medium,
        risk: "An expired certificate still deployed to a load balancer or CloudFront breaks TLS for clients, and stale certificates get redeployed by mistake.",
        remediation: Remediation {
            text: "Delete expired server certificates from IAM (after replacing them wherever they are used); prefer ACM, which renews automatically.",
            cli: "aws iam delete-server-certificate --server-certificate-name NAME",
            terraform: "# Remove the expired aws_iam_server_certificate and use aws_acm_certificate instead.",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_server-certs.html"],
        frameworks: &[("cis-aws-5.0", "1.18"), ("aws-securityhub", "IAM.26"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-12")],
        reads: SERVER_CERTIFICATES,
    },
    run: server_certificate_not_expired,
};

fn server_certificate_not_expired(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    judge_certificates(metadata, context, findings, 0);
}

pub static SERVER_CERTIFICATE_NOT_EXPIRING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_server_certificate_not_expiring_soon",
        title: "SSL/TLS certificates stored in IAM do not expire within 30 days",
        service: "iam",
        resource_type: "AWS::IAM::ServerCertificate",
        severity: Severity::Low,
        risk: "IAM server certificates do not renew themselves: one about to expire (policy parameter `certificate_expiry_warning_days`, default 30) will break TLS on whatever uses it.",
        remediation: Remediation {
            text: "Upload a renewed certificate and switch its users to it, or move to ACM-managed certificates.",
            cli: "aws iam upload-server-certificate --server-certificate-name NAME-2 --certificate-body file://cert.pem --private-key file://key.pem",
            terraform: "resource \"aws_acm_certificate\" \"site\" {\n  domain_name       = \"example.com\"\n  validation_method = \"DNS\"\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_server-certs.html"],
        frameworks: &[("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-12")],
        reads: SERVER_CERTIFICATES,
    },
    run: server_certificate_not_expiring,
};

fn server_certificate_not_expiring(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let warning = context.number(&context.account_subject(), "certificate_expiry_warning_days", 30);
    judge_certificates(metadata, context, findings, warning);
}

/// FAIL when a certificate expires within `window_days` (0: already expired).
fn judge_certificates(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, window_days: i64) {
    each_resource(context, findings, "AWS::IAM::ServerCertificate", |resource, subject, findings| {
        let ResourceData::ServerCertificate(certificate) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let expired = certificate.expiration.is_some_and(|expiration| expiration <= context.now + chrono::Duration::days(window_days));
            let name = &certificate.server_certificate_name;
            let message = match certificate.expiration {
                None => format!("Certificate `{name}` has no expiration date."),
                Some(expiration) if expiration <= context.now => format!("Certificate `{name}` has expired."),
                Some(expiration) => format!("Certificate `{name}` expires in {} days.", (expiration - context.now).num_days()),
            };
            (!expired, message, json!({ "Expiration": when(certificate.expiration.as_ref()), "window_days": window_days }))
        }));
    });
}

pub static SAML_PROVIDER_VALID: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_saml_provider_metadata_valid",
        title: "SAML identity providers have metadata that has not expired",
        service: "iam",
        resource_type: "AWS::IAM::SAMLProvider",
        severity: Severity::Low,
        risk: "A SAML provider past its ValidUntil date breaks federated sign-in; stale providers are also forgotten trust relationships.",
        remediation: Remediation {
            text: "Upload fresh metadata from the identity provider, or delete providers that are no longer used.",
            cli: "aws iam update-saml-provider --saml-provider-arn ARN --saml-metadata-document file://metadata.xml",
            terraform: "resource \"aws_iam_saml_provider\" \"idp\" {\n  name                   = \"idp\"\n  saml_metadata_document = file(\"metadata.xml\")\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml.html"],
        frameworks: &[("nist-800-53-r5", "IA-5")],
        reads: &[Read::global("iam", "ListSAMLProviders")],
    },
    run: saml_provider_valid,
};

fn saml_provider_valid(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for provider in &context.inventory.iam.saml_providers {
        let subject = context.new_subject(&provider.arn, metadata.resource_type, provider.arn.rsplit('/').next().unwrap_or_default(), GLOBAL, None);
        findings.push(context.decide(metadata, &subject, &[], || {
            let expired = provider.valid_until.is_some_and(|until| until <= context.now);
            let message = if expired {
                format!("SAML provider `{}` metadata has expired.", subject.id)
            } else {
                format!("SAML provider `{}` metadata is valid.", subject.id)
            };
            (!expired, message, json!({ "ValidUntil": when(provider.valid_until.as_ref()) }))
        }));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use vigil_model::iam::{AttachedPolicy, ManagedPolicy, PolicyVersion, Role, SamlProvider, ServerCertificate};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    fn policy(name: &str, document: Value, attachments: i32) -> ManagedPolicy {
        ManagedPolicy {
            policy_name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
            attachment_count: Some(attachments),
            policy_version_list: vec![PolicyVersion { version_id: "v1".into(), is_default_version: true, create_date: None, document }],
            ..Default::default()
        }
    }

    #[test]
    fn attached_full_admin_policies_fail_and_narrow_or_unattached_ones_pass() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None);
        let admin = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        inventory.iam.policies = vec![
            policy("admin-attached", admin.clone(), 2),
            policy("admin-unattached", admin, 0),
            policy("scoped", json!({"Statement": {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}}), 3),
            policy("deny-all", json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}), 1),
        ];
        assert_eq!(
            statuses(&run(&POLICY_NO_FULL_ADMIN, &inventory)),
            vec![
                ("admin-attached".into(), Status::Fail),
                ("admin-unattached".into(), Status::Pass),
                ("deny-all".into(), Status::Pass),
                ("scoped".into(), Status::Pass)
            ]
        );
        let mut denied_inventory = inventory.clone();
        denied_inventory.ledger.calls.clear();
        record(&mut denied_inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None, denied());
        assert_eq!(statuses(&run(&POLICY_NO_FULL_ADMIN, &denied_inventory)), vec![(ACCOUNT.into(), Status::Error)]);
        assert_eq!(run(&SUPPORT_ROLE_EXISTS, &denied_inventory)[0].status, Status::Error);
        assert_eq!(run(&CLOUDSHELL_FULL_ACCESS_RESTRICTED, &denied_inventory)[0].status, Status::Error);
    }

    /// Issue 14: AWS managed policies were not assessed, so AdministratorAccess attached to a
    /// user never failed CIS 1.15 (nor FSBP IAM.1).
    #[test]
    fn aws_managed_policies_attached_to_a_principal_are_assessed() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None);
        let aws = |name: &str, document: Value| ManagedPolicy {
            policy_name: name.into(),
            arn: format!("arn:aws:iam::aws:policy/{name}"),
            // Some endpoints report no attachments for AWS managed policies.
            attachment_count: Some(0),
            policy_version_list: vec![PolicyVersion { version_id: "v1".into(), is_default_version: true, create_date: None, document }],
            ..Default::default()
        };
        inventory.iam.policies = vec![
            aws("AdministratorAccess", json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})),
            aws("ReadOnlyAccess", json!({"Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*"], "Resource": "*"}]})),
            aws("PowerUserAccess", json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]})),
        ];
        let attach = |name: &str| AttachedPolicy { policy_name: Some(name.into()), policy_arn: format!("arn:aws:iam::aws:policy/{name}") };
        inventory.iam.users.push(vigil_model::iam::User {
            user_name: "alice".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            attached_managed_policies: vec![attach("AdministratorAccess"), attach("ReadOnlyAccess"), attach("SecurityAudit")],
            ..Default::default()
        });
        let findings = run(&POLICY_NO_FULL_ADMIN, &inventory);
        // PowerUserAccess is attached to nobody here: not assessed. SecurityAudit is attached
        // but its document was not collected: ERROR, not silence.
        assert_eq!(
            statuses(&findings),
            vec![("AdministratorAccess".into(), Status::Fail), ("ReadOnlyAccess".into(), Status::Pass), ("SecurityAudit".into(), Status::Error)]
        );
        let admin = findings.iter().find(|finding| finding.resource_id == "AdministratorAccess").unwrap();
        assert_eq!(admin.resource_arn, "arn:aws:iam::aws:policy/AdministratorAccess");
        assert_eq!(admin.evidence.to_value()["AttachedTo"], json!([format!("arn:aws:iam::{ACCOUNT}:user/alice")]));
    }

    #[test]
    fn support_role_and_cloudshell_attachments_are_found_on_roles() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None);
        assert_eq!(run(&SUPPORT_ROLE_EXISTS, &inventory)[0].status, Status::Fail);
        assert_eq!(run(&CLOUDSHELL_FULL_ACCESS_RESTRICTED, &inventory)[0].status, Status::Pass);
        let attach = |name: &str| AttachedPolicy { policy_name: None, policy_arn: format!("arn:aws:iam::aws:policy/{name}") };
        inventory.iam.roles.push(Role {
            role_name: "support".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/support"),
            attached_managed_policies: vec![attach("AWSSupportAccess"), attach("AWSCloudShellFullAccess")],
            ..Default::default()
        });
        assert_eq!(run(&SUPPORT_ROLE_EXISTS, &inventory)[0].status, Status::Pass);
        assert_eq!(run(&CLOUDSHELL_FULL_ACCESS_RESTRICTED, &inventory)[0].status, Status::Fail);
    }

    #[test]
    fn certificates_fail_when_expired_or_close_to_expiry() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "ListServerCertificates", None);
        let certificate = |name: &str, days: i64| ServerCertificate {
            server_certificate_name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:server-certificate/{name}"),
            expiration: Some(Utc::now() + Duration::days(days)),
            ..Default::default()
        };
        inventory.iam.server_certificates = vec![certificate("expired", -3), certificate("soon", 10), certificate("later", 200)];
        assert_eq!(
            statuses(&run(&SERVER_CERTIFICATE_NOT_EXPIRED, &inventory)),
            vec![("expired".into(), Status::Fail), ("later".into(), Status::Pass), ("soon".into(), Status::Pass)]
        );
        assert_eq!(
            statuses(&run(&SERVER_CERTIFICATE_NOT_EXPIRING, &inventory)),
            vec![("expired".into(), Status::Fail), ("later".into(), Status::Pass), ("soon".into(), Status::Fail)]
        );
        inventory.ledger.calls.clear();
        record(&mut inventory, "iam", GLOBAL, "ListServerCertificates", None, denied());
        assert_eq!(statuses(&run(&SERVER_CERTIFICATE_NOT_EXPIRED, &inventory)), vec![(ACCOUNT.into(), Status::Error)]);
    }

    #[test]
    fn expired_saml_metadata_fails() {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "ListSAMLProviders", None);
        inventory.iam.saml_providers = vec![
            SamlProvider { arn: format!("arn:aws:iam::{ACCOUNT}:saml-provider/old"), valid_until: Some(Utc::now() - Duration::days(1)), create_date: None },
            SamlProvider { arn: format!("arn:aws:iam::{ACCOUNT}:saml-provider/okta"), valid_until: Some(Utc::now() + Duration::days(100)), create_date: None },
        ];
        assert_eq!(statuses(&run(&SAML_PROVIDER_VALID, &inventory)), vec![("okta".into(), Status::Pass), ("old".into(), Status::Fail)]);
        inventory.ledger.calls.clear();
        record(&mut inventory, "iam", GLOBAL, "ListSAMLProviders", None, denied());
        assert_eq!(run(&SAML_PROVIDER_VALID, &inventory)[0].status, Status::Error);
    }
}
