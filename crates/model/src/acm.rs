//! ACM: certificates, shaped like DescribeCertificate.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Certificate {
    pub certificate_arn: String,
    pub domain_name: Option<String>,
    pub subject_alternative_names: Vec<String>,
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, `REVOKED`, ...
    pub status: Option<String>,
    /// `AMAZON_ISSUED`, `IMPORTED` or `PRIVATE`.
    pub r#type: Option<String>,
    /// `RSA_2048`, `RSA_1024`, `EC_prime256v1`, ...
    pub key_algorithm: Option<String>,
    pub signature_algorithm: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    /// ARNs of the resources that use the certificate.
    pub in_use_by: Vec<String>,
    /// Options.CertificateTransparencyLoggingPreference: `ENABLED` or `DISABLED`.
    pub certificate_transparency_logging_preference: Option<String>,
    pub renewal_eligibility: Option<String>,
}
