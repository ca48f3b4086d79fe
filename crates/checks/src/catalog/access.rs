//! Access checks fed by the IAM engine's analyses (`vigil-iam`): admin users without MFA,
//! roles assumable by unknown accounts, privilege escalation paths.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use vigil_iam::analysis::{self, Exposure};
use vigil_model::Region;

use super::FnCheck;
use super::iam::AUTHORIZATION;
use super::support::cannot_decide;
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Remediation, Severity};

const GLOBAL: &str = Region::GLOBAL;

pub static ADMIN_USER_WITHOUT_MFA: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_admin_user_without_mfa",
        title: "Admin-equivalent IAM users have an MFA device",
        service: "iam",
        resource_type: "AWS::IAM::User",
        severity: Severity::High,
        risk: "A user that can do anything (or grant itself anything) and has no MFA device is one phished password or leaked key away from a full account compromise.",
        remediation: Remediation {
            text: "Register an MFA device for the user, and require MFA for privileged actions (aws:MultiFactorAuthPresent) or replace the user with a role assumed through SSO.",
            cli: "aws iam create-virtual-mfa-device --virtual-mfa-device-name USER --outfile qr.png --bootstrap-method QRCodePNG\naws iam enable-mfa-device --user-name USER --serial-number MFA_ARN --authentication-code1 CODE1 --authentication-code2 CODE2",
            terraform: "resource \"aws_iam_virtual_mfa_device\" \"user\" {\n  virtual_mfa_device_name = \"USER\"\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_virtual.html",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
        ],
        frameworks: &[("pci-dss-4.0", "8.4.1"), ("nist-800-53-r5", "IA-2(1)")],
        reads: AUTHORIZATION,
    },
    run: admin_user_without_mfa,
};

fn admin_user_without_mfa(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let account = context.account();
    let admins: HashMap<String, analysis::Admin> = analysis::admins(account).into_iter().map(|admin| (admin.principal.clone(), admin)).collect();
    for resource in context.resources_of_type("AWS::IAM::User") {
        let vigil_model::resource::ResourceData::User(user) = resource.data else { continue };
        let subject = context.subject(resource);
        let needs = [Needs::call("iam", GLOBAL, "ListMFADevices").on(&user.user_name)];
        findings.push(context.decide(metadata, &subject, &needs, || {
            let admin = admins.get(&user.arn);
            let has_mfa = !user.mfa_devices.is_empty();
            let message = match (admin, has_mfa) {
                (None, _) => format!("User `{}` is not admin-equivalent.", user.user_name),
                (Some(_), true) => format!("Admin-equivalent user `{}` has an MFA device.", user.user_name),
                (Some(admin), false) => format!("User `{}` is admin-equivalent ({}) and has no MFA device.", user.user_name, admin.reason),
            };
            (admin.is_none() || has_mfa, message, json!({ "Admin": admin, "MFADevices": user.mfa_devices.len() }))
        }));
    }
}

pub static ROLE_ASSUMABLE_BY_UNKNOWN_ACCOUNT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_role_assumable_by_unknown_account",
        title: "IAM roles are assumable only from this account or its organization",
        service: "iam",
        resource_type: "AWS::IAM::Role",
        severity: Severity::High,
        risk: "A trust policy that lets another account (or everyone) assume the role hands the role's permissions to whoever controls that account.",
        remediation: Remediation {
            text: "Restrict the trust policy's Principal to known accounts, and add aws:PrincipalOrgID or sts:ExternalId conditions for third parties.",
            cli: "aws iam update-assume-role-policy --role-name ROLE --policy-document file://trust-known-accounts.json",
            terraform: "resource \"aws_iam_role\" \"role\" {\n  assume_role_policy = data.aws_iam_policy_document.trust_known_accounts.json\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-resources.html",
        ],
        frameworks: &[("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-6")],
        reads: AUTHORIZATION,
    },
    run: role_assumable_by_unknown_account,
};

fn role_assumable_by_unknown_account(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let account = context.account();
    let organization = context.inventory.account.organization.as_ref();
    // The accounts a role may trust: this one, its organization's management account and, when
    // the organization's account list is known, every sibling account.
    let mut known: HashSet<String> = organization.iter().filter_map(|organization| organization.master_account_id.clone()).collect();
    known.insert(context.account_id().to_string());
    let siblings = organization.and_then(|organization| organization.accounts.as_ref());
    known.extend(siblings.into_iter().flatten().cloned());
    let external = analysis::external_access(account);
    for resource in context.resources_of_type("AWS::IAM::Role") {
        let vigil_model::resource::ResourceData::Role(role) = resource.data else { continue };
        let subject = context.subject(resource);
        let unknown: Vec<&analysis::ExternalAccess> = external
            .iter()
            .filter(|finding| finding.resource == role.arn)
            .filter(|finding| match finding.exposure {
                Exposure::Public | Exposure::NetworkRestricted => true,
                Exposure::CrossAccount => finding.principals.iter().any(|principal| !known.contains(principal)),
                Exposure::Federated => false,
            })
            .collect();
        let who: Vec<&str> =
            unknown.iter().flat_map(|finding| finding.principals.iter().map(String::as_str)).filter(|principal| !known.contains(*principal)).collect();
        let only_accounts = unknown.iter().all(|finding| finding.exposure == Exposure::CrossAccount);
        if !unknown.is_empty() && only_accounts && organization.is_some() && siblings.is_none() {
            // These accounts may be siblings in the organization, whose account list was not
            // read: the verdict needs it.
            let message = format!(
                "Role `{}` is assumable from account(s) {} that may belong to this account's organization, whose account list was not read (organizations:ListAccounts answers only the management account or a delegated administrator; scan with --org-role to give every account the list).",
                role.role_name,
                who.join(", ")
            );
            findings.push(cannot_decide(metadata, context, &subject, message, json!({ "ExternalAccess": unknown, "Needs": "organizations:ListAccounts" })));
            continue;
        }
        let message = if unknown.is_empty() {
            format!("Role `{}` is assumable only from this account, its organization or identity providers.", role.role_name)
        } else {
            format!("Role `{}` is assumable from outside the account and its organization: {}.", role.role_name, who.join(", "))
        };
        findings.push(context.verdict(
            metadata,
            &subject,
            unknown.is_empty(),
            message,
            json!({ "ExternalAccess": unknown, "OrganizationAccountsKnown": siblings.is_some() }),
        ));
    }
}

pub static PRIVILEGE_ESCALATION_PATH: FnCheck = FnCheck {
    metadata: Metadata {
        id: "iam_privilege_escalation_path",
        title: "IAM principals have no privilege escalation path to admin",
        service: "iam",
        resource_type: "AWS::IAM::User",
        severity: Severity::High,
        risk: "A principal that can edit its own policies, create keys for others, pass an admin role to a service or assume its way to one is an admin in all but name.",
        remediation: Remediation {
            text: "Remove the permission used by the first step of the path (for example iam:CreatePolicyVersion, iam:PassRole on admin roles, iam:CreateAccessKey on other users), or scope it with resource ARNs and conditions.",
            cli: "vigil iam escalation --format json   # shows each path and its steps\naws iam put-user-policy --user-name USER --policy-name scoped --policy-document file://scoped.json",
            terraform: "data \"aws_iam_policy_document\" \"scoped\" {\n  statement {\n    actions   = [\"iam:PassRole\"]\n    resources = [aws_iam_role.app.arn]\n  }\n}",
        },
        references: &[
            "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
        ],
        frameworks: &[("nist-800-53-r5", "AC-6"), ("nist-800-53-r5", "AC-6(5)")],
        reads: AUTHORIZATION,
    },
    run: privilege_escalation_path,
};

fn privilege_escalation_path(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let account = context.account();
    // The shortest path of each principal (paths come shortest first).
    let mut paths: HashMap<String, analysis::EscalationPath> = HashMap::new();
    for path in analysis::escalation(account) {
        paths.entry(path.principal.clone()).or_insert(path);
    }
    for resource in context.resources_of_type("AWS::IAM::User").chain(context.resources_of_type("AWS::IAM::Role")) {
        let (arn, name) = match resource.data {
            vigil_model::resource::ResourceData::User(user) => (&user.arn, &user.user_name),
            vigil_model::resource::ResourceData::Role(role) => (&role.arn, &role.role_name),
            _ => continue,
        };
        let subject = context.subject(resource);
        findings.push(context.decide(metadata, &subject, &[], || match paths.get(arn) {
            None => (true, format!("`{name}` has no known escalation path to admin."), json!({})),
            Some(path) => {
                let steps: Vec<String> = path.steps.iter().map(|step| format!("{} on {}", step.method, step.resource)).collect();
                (false, format!("`{name}` can escalate to admin in {} step(s): {}.", steps.len(), steps.join(", then ")), json!({ "Path": path }))
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use vigil_model::iam::{InlinePolicy, Role, User};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::{ACCOUNT, inventory, read, run, statuses};

    fn allow(actions: Value) -> Vec<InlinePolicy> {
        vec![InlinePolicy {
            policy_name: "p".into(),
            policy_document: json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }] }),
        }]
    }

    fn seeded() -> vigil_model::Inventory {
        let mut inventory = inventory();
        read(&mut inventory, "iam", GLOBAL, "GetAccountAuthorizationDetails", None);
        for (name, actions) in [("admin", json!("*")), ("editor", json!("iam:PutUserPolicy")), ("reader", json!("s3:GetObject"))] {
            read(&mut inventory, "iam", GLOBAL, "ListMFADevices", Some(name));
            inventory.iam.users.push(User {
                user_name: name.into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
                user_policy_list: allow(actions),
                ..User::default()
            });
        }
        let trust = |principal: Value| {
            Some(json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole" }] }))
        };
        inventory.iam.roles.push(Role {
            role_name: "partner".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/partner"),
            assume_role_policy_document: trust(json!({ "AWS": "999999999999" })),
            ..Role::default()
        });
        inventory.iam.roles.push(Role {
            role_name: "local".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/local"),
            assume_role_policy_document: trust(json!({ "AWS": ACCOUNT })),
            ..Role::default()
        });
        inventory
    }

    fn check(check: &dyn crate::Check, expected: &[(&str, Status)]) {
        let found = statuses(&run(check, &seeded()));
        let expected: Vec<(String, Status)> = expected.iter().map(|(id, status)| (id.to_string(), *status)).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn admin_users_without_mfa_fail() {
        check(&ADMIN_USER_WITHOUT_MFA, &[("admin", Status::Fail), ("editor", Status::Fail), ("reader", Status::Pass)]);
    }

    #[test]
    fn roles_trusting_unknown_accounts_fail() {
        check(&ROLE_ASSUMABLE_BY_UNKNOWN_ACCOUNT, &[("local", Status::Pass), ("partner", Status::Fail)]);
    }

    /// Issue 14: a role trusted by a sibling account of the same organization failed "trusted
    /// only by this account or its organization".
    #[test]
    fn sibling_accounts_of_the_organization_are_trusted_when_the_organization_is_listed() {
        let organization = |accounts: Option<Vec<String>>| vigil_model::inventory::Organization {
            id: "o-example".into(),
            master_account_id: Some("111111111111".into()),
            accounts,
            ..Default::default()
        };
        let mut listed = seeded();
        listed.account.organization = Some(organization(Some(vec![ACCOUNT.into(), "999999999999".into(), "111111111111".into()])));
        assert_eq!(statuses(&run(&ROLE_ASSUMABLE_BY_UNKNOWN_ACCOUNT, &listed)), vec![("local".into(), Status::Pass), ("partner".into(), Status::Pass)]);

        let mut outsider = seeded();
        outsider.account.organization = Some(organization(Some(vec![ACCOUNT.into(), "111111111111".into()])));
        assert_eq!(statuses(&run(&ROLE_ASSUMABLE_BY_UNKNOWN_ACCOUNT, &outsider)), vec![("local".into(), Status::Pass), ("partner".into(), Status::Fail)]);

        // A member account cannot list its organization: whether 999999999999 is a sibling is
        // unknown, which is an ERROR naming the call, not a FAIL.
        let mut unlisted = seeded();
        unlisted.account.organization = Some(organization(None));
        let findings = run(&ROLE_ASSUMABLE_BY_UNKNOWN_ACCOUNT, &unlisted);
        assert_eq!(statuses(&findings), vec![("local".into(), Status::Pass), ("partner".into(), Status::Error)]);
        assert!(findings.iter().any(|finding| finding.message.contains("organizations:ListAccounts")));
    }

    #[test]
    fn principals_with_an_escalation_path_fail() {
        check(
            &PRIVILEGE_ESCALATION_PATH,
            &[("admin", Status::Pass), ("editor", Status::Fail), ("local", Status::Pass), ("partner", Status::Pass), ("reader", Status::Pass)],
        );
    }
}
