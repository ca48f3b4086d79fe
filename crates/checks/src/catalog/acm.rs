//! ACM checks: certificates renewed before they expire, RSA keys of at least 2048 bits, and
//! certificate transparency logging kept on.

use serde_json::json;
use vigil_model::acm::Certificate;

use super::FnCheck;
use super::support::{Verdict, each_regional, subject_of};
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const CERTIFICATES: &[Read] = &[Read::regional("acm", "ListCertificates")];

/// A check over described certificates; `judge` returns `None` when it does not apply.
fn certificate_check(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    judge: impl Fn(&Certificate, &Context<'_>, &str) -> Option<Verdict>,
) {
    each_regional(metadata, context, findings, |certificate: &Certificate, _, region| {
        let needs = vec![Needs::call("acm", region, "DescribeCertificate").on(&certificate.certificate_arn)];
        // A certificate whose description was not read has no status: assess it so the missing
        // call surfaces as ERROR instead of the certificate silently dropping out.
        if certificate.status.is_none() {
            return Some((needs, (false, String::new(), json!(null))));
        }
        judge(certificate, context, region).map(|verdict| (needs, verdict))
    });
}

pub static CERTIFICATE_NOT_EXPIRING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "acm_certificate_not_expiring",
        title: "ACM certificates are valid for more than 30 more days",
        service: "acm",
        resource_type: "AWS::CertificateManager::Certificate",
        severity: Severity::High,
        risk: "An expired certificate breaks TLS for every client, and imported certificates are not renewed by ACM. Policy parameter `certificate_expiry_days` (default 30).",
        remediation: Remediation {
            text: "Renew or re-import the certificate; for ACM-issued certificates fix DNS or email validation so managed renewal succeeds.",
            cli: "aws acm import-certificate --certificate-arn CERT_ARN --certificate fileb://cert.pem --private-key fileb://key.pem --certificate-chain fileb://chain.pem",
            terraform: "resource \"aws_acm_certificate\" \"main\" {\n  domain_name       = \"example.com\"\n  validation_method = \"DNS\"\n  lifecycle {\n    create_before_destroy = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/acm/latest/userguide/managed-renewal.html"],
        frameworks: &[("aws-fsbp", "ACM.1"), ("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "SC-28")],
        reads: CERTIFICATES,
    },
    run: |metadata, context, findings| {
        certificate_check(metadata, context, findings, |certificate, context, region| {
            if !matches!(certificate.status.as_deref(), Some("ISSUED" | "EXPIRED")) {
                return None;
            }
            let subject = subject_of(context, region, certificate);
            let threshold = context.number(&subject, "certificate_expiry_days", 30);
            let evidence =
                json!({ "NotAfter": certificate.not_after, "Status": certificate.status, "Type": certificate.r#type, "InUseBy": certificate.in_use_by });
            let name = certificate.domain_name.as_deref().unwrap_or(&certificate.certificate_arn);
            Some(match &certificate.not_after {
                Some(not_after) => {
                    let days = (*not_after - context.now).num_days();
                    let message = if days < 0 {
                        format!("Certificate for `{name}` expired {} day(s) ago.", -days)
                    } else {
                        format!("Certificate for `{name}` expires in {days} day(s); at least {threshold} required.")
                    };
                    (days > threshold, message, evidence)
                }
                None => (false, format!("Certificate for `{name}` has no expiry date."), evidence),
            })
        })
    },
};

pub static CERTIFICATE_RSA_KEY_LENGTH: FnCheck = FnCheck {
    metadata: Metadata {
        id: "acm_certificate_rsa_key_length",
        title: "ACM RSA certificates use keys of at least 2048 bits",
        service: "acm",
        resource_type: "AWS::CertificateManager::Certificate",
        severity: Severity::High,
        risk: "1024-bit RSA keys are within reach of well-funded attackers; TLS sessions protected by them can be impersonated.",
        remediation: Remediation {
            text: "Replace the certificate with one using RSA 2048 or larger, or an ECDSA key.",
            cli: "aws acm request-certificate --domain-name example.com --validation-method DNS --key-algorithm RSA_2048",
            terraform: "resource \"aws_acm_certificate\" \"main\" {\n  domain_name       = \"example.com\"\n  validation_method = \"DNS\"\n  key_algorithm     = \"RSA_2048\"\n}",
        },
        references: &["https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate-characteristics.html"],
        frameworks: &[("aws-fsbp", "ACM.2"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-13")],
        reads: CERTIFICATES,
    },
    run: |metadata, context, findings| {
        certificate_check(metadata, context, findings, |certificate, _, _| {
            let algorithm = certificate.key_algorithm.as_deref()?;
            let bits: u32 = algorithm.strip_prefix("RSA_")?.parse().ok()?;
            Some((bits >= 2048, format!("Certificate `{}` uses {algorithm}.", certificate.certificate_arn), json!({ "KeyAlgorithm": algorithm })))
        })
    },
};

pub static CERTIFICATE_TRANSPARENCY_LOGGING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "acm_certificate_transparency_logging",
        title: "ACM-issued certificates keep certificate transparency logging enabled",
        service: "acm",
        resource_type: "AWS::CertificateManager::Certificate",
        severity: Severity::Low,
        risk: "Without transparency logging browsers may reject the certificate and mis-issued certificates for the domain go unnoticed.",
        remediation: Remediation {
            text: "Re-enable certificate transparency logging.",
            cli: "aws acm update-certificate-options --certificate-arn CERT_ARN --options CertificateTransparencyLoggingPreference=ENABLED",
            terraform: "resource \"aws_acm_certificate\" \"main\" {\n  # ...\n  options {\n    certificate_transparency_logging_preference = \"ENABLED\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/acm/latest/userguide/acm-bestpractices.html#best-practices-transparency"],
        frameworks: &[("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "AU-2")],
        reads: CERTIFICATES,
    },
    run: |metadata, context, findings| {
        certificate_check(metadata, context, findings, |certificate, _, _| {
            if certificate.r#type.as_deref() != Some("AMAZON_ISSUED") {
                return None;
            }
            let disabled = certificate.certificate_transparency_logging_preference.as_deref() == Some("DISABLED");
            Some((
                !disabled,
                format!("Certificate `{}` transparency logging is {}.", certificate.certificate_arn, if disabled { "disabled" } else { "enabled" }),
                json!({ "CertificateTransparencyLoggingPreference": certificate.certificate_transparency_logging_preference }),
            ))
        })
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn certificate(arn: &str, status: &str) -> Certificate {
        Certificate { certificate_arn: arn.into(), status: Some(status.into()), r#type: Some("AMAZON_ISSUED".into()), ..Certificate::default() }
    }

    fn calls() -> Vec<(&'static str, &'static str)> {
        vec![("DescribeCertificate", "bad"), ("DescribeCertificate", "good")]
    }

    #[test]
    fn acm_twins() {
        check_twins(&[
            Twin {
                check: &CERTIFICATE_NOT_EXPIRING,
                calls: calls(),
                place: |regional| {
                    let now = chrono::Utc::now();
                    regional.certificates.push(Certificate { not_after: Some(now + chrono::Duration::days(10)), ..certificate("bad", "ISSUED") });
                    regional.certificates.push(Certificate { not_after: Some(now + chrono::Duration::days(200)), ..certificate("good", "ISSUED") });
                    // Not issued yet: no expiry to judge.
                    regional.certificates.push(certificate("pending", "PENDING_VALIDATION"));
                },
            },
            Twin {
                check: &CERTIFICATE_RSA_KEY_LENGTH,
                calls: calls(),
                place: |regional| {
                    regional.certificates.push(Certificate { key_algorithm: Some("RSA_1024".into()), ..certificate("bad", "ISSUED") });
                    regional.certificates.push(Certificate { key_algorithm: Some("RSA_2048".into()), ..certificate("good", "ISSUED") });
                    regional.certificates.push(Certificate { key_algorithm: Some("EC_prime256v1".into()), ..certificate("ecdsa", "ISSUED") });
                },
            },
            Twin {
                check: &CERTIFICATE_TRANSPARENCY_LOGGING,
                calls: calls(),
                place: |regional| {
                    regional
                        .certificates
                        .push(Certificate { certificate_transparency_logging_preference: Some("DISABLED".into()), ..certificate("bad", "ISSUED") });
                    regional
                        .certificates
                        .push(Certificate { certificate_transparency_logging_preference: Some("ENABLED".into()), ..certificate("good", "ISSUED") });
                },
            },
        ]);
    }

    #[test]
    fn expired_certificates_fail_and_the_threshold_is_respected() {
        use crate::Status;
        use crate::catalog::test_support::*;
        let mut inventory = inventory();
        read(&mut inventory, "acm", "us-east-1", "ListCertificates", None);
        let now = chrono::Utc::now();
        for (arn, days) in [("expired", -3), ("edge", 29), ("fine", 31)] {
            read(&mut inventory, "acm", "us-east-1", "DescribeCertificate", Some(arn));
            inventory
                .regional
                .get_mut(&"us-east-1".into())
                .unwrap()
                .certificates
                .push(Certificate { not_after: Some(now + chrono::Duration::days(days) + chrono::Duration::hours(1)), ..certificate(arn, "ISSUED") });
        }
        assert_eq!(
            statuses(&run(&CERTIFICATE_NOT_EXPIRING, &inventory)),
            vec![("edge".to_string(), Status::Fail), ("expired".to_string(), Status::Fail), ("fine".to_string(), Status::Pass)]
        );
    }
}
