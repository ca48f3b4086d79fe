//! SES checks: DKIM signing and sending authorization policies open to everyone.

use serde_json::json;
use vigil_model::messaging::EmailIdentity;

use super::FnCheck;
use super::support::public_statements;
use crate::context::{Context, Needs, Subject, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The listing every check of this family reads.
const IDENTITIES: &[Read] = &[Read::regional("sesv2", "ListEmailIdentities")];

fn each_identity(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: impl Fn(&EmailIdentity, &Subject) -> Result<(bool, String, serde_json::Value), Unread>,
) {
    for (region, regional) in &context.inventory.regional {
        let region = region.as_str();
        for identity in &regional.email_identities {
            let arn = context.inventory.regional_arn("ses", region, &format!("identity/{}", identity.identity_name));
            let subject = context.new_subject(&arn, "AWS::SES::EmailIdentity", &identity.identity_name, region, Some(&identity.tags));
            let needs = [Needs::call("sesv2", region, "GetEmailIdentity").on(&identity.identity_name)];
            findings.push(context.decide_or_error(metadata, &subject, &needs, || judge(identity, &subject)));
        }
    }
}

pub static IDENTITY_DKIM_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ses_identity_dkim_enabled",
        title: "SES identities sign mail with DKIM",
        service: "ses",
        resource_type: "AWS::SES::EmailIdentity",
        severity: Severity::Medium,
        risk: "Without verified DKIM signing, receivers cannot tell your mail from spoofed mail, and DMARC alignment fails.",
        remediation: Remediation {
            text: "Enable Easy DKIM (or BYODKIM) on the identity and publish the CNAME records until the DKIM status is SUCCESS.",
            cli: "aws sesv2 put-email-identity-dkim-attributes --email-identity DOMAIN --signing-enabled",
            terraform: "resource \"aws_sesv2_email_identity\" \"domain\" {\n  email_identity = \"example.com\"\n  dkim_signing_attributes {\n    next_signing_key_length = \"RSA_2048_BIT\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim.html"],
        frameworks: &[("nist-800-53-r5", "SC-8"), ("nist-800-53-r5", "SI-7")],
        reads: IDENTITIES,
    },
    run: identity_dkim_enabled,
};

fn identity_dkim_enabled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_identity(metadata, context, findings, |identity, _| {
        let dkim = identity.dkim_attributes.as_ref();
        let signing = dkim.is_some_and(|dkim| dkim.signing_enabled && dkim.status.as_deref() == Some("SUCCESS"));
        let message = if signing {
            format!("Identity `{}` signs mail with verified DKIM.", identity.identity_name)
        } else {
            format!("Identity `{}` does not sign mail with verified DKIM.", identity.identity_name)
        };
        Ok((signing, message, json!({ "IdentityType": identity.identity_type, "DkimAttributes": dkim })))
    });
}

pub static IDENTITY_POLICY_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ses_identity_policy_not_public",
        title: "SES sending authorization policies do not allow everyone to send",
        service: "ses",
        resource_type: "AWS::SES::EmailIdentity",
        severity: Severity::High,
        risk: "A sending authorization policy with Principal \"*\" lets any AWS account send mail as your domain or address.",
        remediation: Remediation {
            text: "Restrict the policy to the accounts that send on your behalf, or add an aws:SourceAccount / aws:PrincipalOrgID condition.",
            cli: "aws sesv2 delete-email-identity-policy --email-identity IDENTITY --policy-name POLICY",
            terraform: "resource \"aws_sesv2_email_identity_policy\" \"sender\" {\n  email_identity = aws_sesv2_email_identity.domain.email_identity\n  policy_name    = \"sender\"\n  policy         = data.aws_iam_policy_document.sender_account_only.json\n}",
        },
        references: &["https://docs.aws.amazon.com/ses/latest/dg/sending-authorization-policies.html"],
        frameworks: &[("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-21")],
        reads: IDENTITIES,
    },
    run: identity_policy_not_public,
};

fn identity_policy_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_identity(metadata, context, findings, |identity, subject| {
        let mut public: Vec<serde_json::Value> = Vec::new();
        for (name, policy) in &identity.policies {
            for statement in public_statements(context, policy, &subject.arn)? {
                public.push(json!({ "PolicyName": name, "PublicStatement": statement }));
            }
        }
        let message = if public.is_empty() {
            format!("Identity `{}` does not let everyone send.", identity.identity_name)
        } else {
            format!("Identity `{}` lets everyone send in {} policy statement(s).", identity.identity_name, public.len())
        };
        Ok((public.is_empty(), message, json!({ "PublicStatements": public })))
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::messaging::DkimAttributes;

    use super::*;
    use crate::catalog::test_support::*;
    use crate::{Check, Status, Status::*};

    fn check(check: &dyn Check, identities: Vec<EmailIdentity>) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "sesv2", "us-east-1", "ListEmailIdentities", None);
        for identity in &identities {
            read(&mut inventory, "sesv2", "us-east-1", "GetEmailIdentity", Some(&identity.identity_name));
        }
        record(&mut inventory, "sesv2", "us-east-1", "GetEmailIdentity", Some("zz-denied.com"), denied());
        let mut identities = identities;
        identities.push(EmailIdentity { identity_name: "zz-denied.com".into(), ..EmailIdentity::default() });
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().email_identities = identities;
        statuses(&run(check, &inventory))
    }

    #[test]
    fn dkim_must_be_enabled_and_verified() {
        let identity = |name: &str, enabled: bool, status: &str| EmailIdentity {
            identity_name: name.into(),
            dkim_attributes: Some(DkimAttributes { signing_enabled: enabled, status: Some(status.into()), ..Default::default() }),
            ..EmailIdentity::default()
        };
        assert_eq!(
            check(
                &IDENTITY_DKIM_ENABLED,
                vec![identity("good.com", true, "SUCCESS"), identity("pending.com", true, "PENDING"), identity("off.com", false, "SUCCESS")]
            ),
            vec![("good.com".into(), Pass), ("off.com".into(), Fail), ("pending.com".into(), Fail), ("zz-denied.com".into(), Error)]
        );
    }

    #[test]
    fn a_sending_policy_open_to_everyone_fails() {
        let with = |name: &str, principal: serde_json::Value| EmailIdentity {
            identity_name: name.into(),
            policies: [("send".to_string(), json!({ "Statement": [{ "Effect": "Allow", "Principal": principal, "Action": "ses:SendEmail" }] }))].into(),
            ..EmailIdentity::default()
        };
        assert_eq!(
            check(&IDENTITY_POLICY_NOT_PUBLIC, vec![with("open.com", json!("*")), with("partner.com", json!({ "AWS": "arn:aws:iam::111122223333:root" }))]),
            vec![("open.com".into(), Fail), ("partner.com".into(), Pass), ("zz-denied.com".into(), Error)]
        );
    }
}
