//! The EC2 instance identity document (as IMDS serves it at
//! `/latest/dynamic/instance-identity/document`) and, with the `verify` feature, the
//! verification of its PKCS#7 signature (`/latest/dynamic/instance-identity/pkcs7`, or the
//! `rsa2048` one) against trusted certificates.
//!
//! What AWS serves, per its documentation ("Verify the instance identity document"): the
//! `pkcs7` signature is a SHA-1 digest signed with a DSA key (the regional DSA certificates);
//! `rsa2048` is a SHA-256 digest signed with an RSA-2048 key (the RSA-2048 certificates). Both
//! are CMS SignedData in BER with the document attached and no certificate embedded, so the
//! verifier brings the certificates. Both algorithms are accepted, with or without signed
//! attributes.

use serde::{Deserialize, Serialize};

/// AWS's published certificate(s) for identity document signatures, shipped with vigil: the
/// default of `vigil serve --identity-cert`.
pub const AWS_CERTIFICATES_PEM: &str = include_str!("aws-identity-certificates.pem");

/// The identity document's fields (AWS's camelCase names). Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IdentityDocument {
    pub account_id: String,
    pub architecture: Option<String>,
    pub availability_zone: Option<String>,
    pub image_id: Option<String>,
    pub instance_id: String,
    pub instance_type: Option<String>,
    /// When the instance last started (launch or start after a stop), RFC 3339.
    pub pending_time: Option<String>,
    pub private_ip: Option<String>,
    pub region: String,
    pub version: Option<String>,
}

impl IdentityDocument {
    /// Parses the document's JSON; the account, instance and region must be present.
    pub fn parse(bytes: &[u8]) -> Result<IdentityDocument, IdentityError> {
        let document: IdentityDocument = serde_json::from_slice(bytes).map_err(|error| IdentityError::Document(error.to_string()))?;
        for (field, value) in [("accountId", &document.account_id), ("instanceId", &document.instance_id), ("region", &document.region)] {
            if value.is_empty() {
                return Err(IdentityError::Document(format!("the field `{field}` is missing or empty")));
            }
        }
        Ok(document)
    }
}

/// Why a signed identity document is refused. Each message is meant for the log and for the
/// agent's operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the identity document is not valid: {0}")]
    Document(String),
    #[error("the PKCS#7 signature cannot be read: {0}")]
    Malformed(String),
    #[error("the PKCS#7 signature does not verify against any trusted certificate ({0})")]
    BadSignature(String),
    #[error("the document sent beside the signature differs from the signed document")]
    DocumentMismatch,
    #[error("the trusted certificates cannot be read from `{source_name}`: {reason}")]
    Certificates { source_name: String, reason: String },
}

#[cfg(feature = "verify")]
pub use verify::{TrustedCertificates, Verified, verify};

#[cfg(all(test, feature = "verify"))]
mod tests {
    #[test]
    fn the_shipped_aws_certificate_parses() {
        assert_eq!(super::TrustedCertificates::aws().unwrap().len(), 1);
        let error = super::TrustedCertificates::from_pem("nothing here", "x.pem").unwrap_err().to_string();
        assert!(error.contains("`x.pem`") && error.contains("no PEM certificate"), "{error}");
    }

    #[test]
    fn garbage_signatures_are_refused_with_a_reason() {
        let trusted = super::TrustedCertificates::aws().unwrap();
        for (input, expected) in [("!!!", "not base64"), ("MIAGCSqGSIb3DQEHAqCA", "malformed BER"), ("MAA=", "not a CMS ContentInfo")] {
            let error = super::verify(input, None, &trusted, 0).unwrap_err().to_string();
            assert!(error.contains(expected), "{input}: {error}");
        }
    }
}

#[cfg(feature = "verify")]
mod verify {
    use base64::Engine as _;
    use cms::content_info::ContentInfo;
    use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
    use der::asn1::ObjectIdentifier;
    use der::{Decode, Encode};
    use sha1::Digest as _;
    use x509_cert::Certificate;

    use super::{IdentityDocument, IdentityError};

    const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
    const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
    const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
    const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
    const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

    /// Certificates trusted to sign identity documents (AWS's regional certificates, or a
    /// test CA's), parsed once.
    #[derive(Debug, Clone, Default)]
    pub struct TrustedCertificates {
        certificates: Vec<(String, Certificate)>,
    }

    impl TrustedCertificates {
        /// Reads every `CERTIFICATE` block of a PEM text; `source_name` names it in errors.
        /// Text outside the blocks (comments naming the regions) is ignored.
        pub fn from_pem(text: &str, source_name: &str) -> Result<TrustedCertificates, IdentityError> {
            let failure = |reason: String| IdentityError::Certificates { source_name: source_name.to_string(), reason };
            let mut certificates = Vec::new();
            let mut rest = text;
            while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
                let after = &rest[start + "-----BEGIN CERTIFICATE-----".len()..];
                let end = after.find("-----END CERTIFICATE-----").ok_or_else(|| failure("a certificate block has no END line".into()))?;
                let body: String = after[..end].chars().filter(|character| !character.is_whitespace()).collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(body.as_bytes())
                    .map_err(|error| failure(format!("certificate {}: not base64: {error}", certificates.len() + 1)))?;
                let certificate =
                    Certificate::from_der(&der).map_err(|error| failure(format!("certificate {}: not X.509: {error}", certificates.len() + 1)))?;
                let subject = certificate.tbs_certificate.subject.to_string();
                certificates.push((subject, certificate));
                rest = &after[end..];
            }
            if certificates.is_empty() {
                return Err(failure("no PEM certificate in it".into()));
            }
            Ok(TrustedCertificates { certificates })
        }

        /// AWS's certificates shipped with vigil.
        pub fn aws() -> Result<TrustedCertificates, IdentityError> {
            TrustedCertificates::from_pem(super::AWS_CERTIFICATES_PEM, "the AWS certificates shipped with vigil")
        }

        pub fn len(&self) -> usize {
            self.certificates.len()
        }

        pub fn is_empty(&self) -> bool {
            self.certificates.is_empty()
        }
    }

    /// A document whose signature verified.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Verified {
        pub document: IdentityDocument,
        /// The signed bytes, exactly.
        pub raw: Vec<u8>,
        /// The subject of the certificate that verified it.
        pub signer: String,
    }

    /// Verifies a PKCS#7 signature as IMDS serves it (base64, with or without PEM armour) and
    /// returns the signed document. `document`, when given, must equal the signed content.
    /// `now_unix` is checked against the certificate's validity period.
    pub fn verify(pkcs7: &str, document: Option<&[u8]>, trusted: &TrustedCertificates, now_unix: i64) -> Result<Verified, IdentityError> {
        let malformed = |reason: String| IdentityError::Malformed(reason);
        let body: String =
            pkcs7.lines().filter(|line| !line.starts_with("-----")).flat_map(|line| line.chars()).filter(|character| !character.is_whitespace()).collect();
        let ber = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()).map_err(|error| malformed(format!("not base64: {error}")))?;
        let der = crate::ber::to_der(&ber).map_err(|error| malformed(error.to_string()))?;
        let content_info = ContentInfo::from_der(&der).map_err(|error| malformed(format!("not a CMS ContentInfo: {error}")))?;
        if content_info.content_type != SIGNED_DATA {
            return Err(malformed(format!("content type `{}` is not signed-data", content_info.content_type)));
        }
        let signed: SignedData = content_info.content.decode_as().map_err(|error| malformed(format!("not a SignedData: {error}")))?;
        let content = signed
            .encap_content_info
            .econtent
            .as_ref()
            .ok_or_else(|| malformed("the document is not attached to the signature".into()))?
            .decode_as::<der::asn1::OctetString>()
            .map_err(|error| malformed(format!("the attached content is not an OCTET STRING: {error}")))?
            .into_bytes();
        if let Some(sent) = document
            && sent != content.as_slice()
        {
            return Err(IdentityError::DocumentMismatch);
        }
        let mut reasons = Vec::new();
        for signer in signed.signer_infos.0.iter() {
            for (subject, certificate) in &trusted.certificates {
                if !names_certificate(&signer.sid, certificate) {
                    continue;
                }
                match check_signer(signer, certificate, &content, now_unix) {
                    Ok(()) => {
                        let document = IdentityDocument::parse(&content)?;
                        return Ok(Verified { document, raw: content, signer: subject.clone() });
                    }
                    Err(reason) => reasons.push(format!("{subject}: {reason}")),
                }
            }
        }
        if reasons.is_empty() {
            reasons.push("no trusted certificate matches the signer's issuer and serial number".into());
        }
        Err(IdentityError::BadSignature(reasons.join("; ")))
    }

    fn names_certificate(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(issuer_serial) => {
                issuer_serial.issuer == certificate.tbs_certificate.issuer && issuer_serial.serial_number == certificate.tbs_certificate.serial_number
            }
            // Only the issuer-and-serial form occurs in identity documents; try the key anyway.
            SignerIdentifier::SubjectKeyIdentifier(_) => true,
        }
    }

    enum Hash {
        Sha1,
        Sha256,
    }

    impl Hash {
        fn digest(&self, data: &[u8]) -> Vec<u8> {
            match self {
                Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
                Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            }
        }
    }

    fn check_signer(signer: &SignerInfo, certificate: &Certificate, content: &[u8], now_unix: i64) -> Result<(), String> {
        let validity = &certificate.tbs_certificate.validity;
        let not_before = validity.not_before.to_unix_duration().as_secs() as i64;
        let not_after = validity.not_after.to_unix_duration().as_secs() as i64;
        if now_unix < not_before || now_unix > not_after {
            return Err(format!("the certificate is valid from {} to {} only", validity.not_before, validity.not_after));
        }
        let hash = match signer.digest_alg.oid {
            SHA1 => Hash::Sha1,
            SHA256 => Hash::Sha256,
            other => return Err(format!("unsupported digest algorithm `{other}`")),
        };
        let content_digest = hash.digest(content);
        // With signed attributes, the signature covers their DER (as a SET) and they carry
        // the content's digest; without, it covers the content itself.
        let signed_bytes = match &signer.signed_attrs {
            None => content.to_vec(),
            Some(attributes) => {
                let mut digest_matches = false;
                for attribute in attributes.iter() {
                    if attribute.oid == MESSAGE_DIGEST {
                        let value = attribute.values.get(0).ok_or("an empty message-digest attribute")?;
                        let octets = value.decode_as::<der::asn1::OctetString>().map_err(|error| format!("message-digest attribute: {error}"))?;
                        digest_matches = octets.as_bytes() == content_digest.as_slice();
                    } else if attribute.oid == CONTENT_TYPE {
                        let value = attribute.values.get(0).ok_or("an empty content-type attribute")?;
                        let content_type = value.decode_as::<ObjectIdentifier>().map_err(|error| format!("content-type attribute: {error}"))?;
                        if content_type != ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1") {
                            return Err(format!("the signed content type is `{content_type}`, not data"));
                        }
                    }
                }
                if !digest_matches {
                    return Err("the document's digest differs from the signed one (the document was altered)".into());
                }
                attributes.to_der().map_err(|error| format!("cannot encode the signed attributes: {error}"))?
            }
        };
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        let signature = signer.signature.as_bytes();
        let spki_der = spki.to_der().map_err(|error| format!("the certificate's key: {error}"))?;
        let spki_ref = spki::SubjectPublicKeyInfoRef::from_der(&spki_der).map_err(|error| format!("the certificate's key: {error}"))?;
        match spki.algorithm.oid {
            DSA => {
                use dsa::signature::DigestVerifier as _;
                let key = dsa::VerifyingKey::try_from(spki_ref).map_err(|error| format!("the certificate's DSA key: {error}"))?;
                let signature = dsa::Signature::try_from(signature).map_err(|error| format!("the DSA signature: {error}"))?;
                let verified = match hash {
                    Hash::Sha1 => key.verify_digest(sha1::Sha1::new_with_prefix(&signed_bytes), &signature),
                    Hash::Sha256 => key.verify_digest(sha2::Sha256::new_with_prefix(&signed_bytes), &signature),
                };
                verified.map_err(|_| "the DSA signature does not match".to_string())
            }
            RSA => {
                use rsa::pkcs8::DecodePublicKey as _;
                let key = rsa::RsaPublicKey::from_public_key_der(&spki_der).map_err(|error| format!("the certificate's RSA key: {error}"))?;
                // PKCS#1 v1.5: the digest inside a DigestInfo naming its algorithm (RFC 8017,
                // section 9.2, note 1: the DER prefixes).
                let prefix: &[u8] = match hash {
                    Hash::Sha1 => &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14],
                    Hash::Sha256 => &[0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20],
                };
                let digest = hash.digest(&signed_bytes);
                let scheme = rsa::Pkcs1v15Sign { hash_len: Some(digest.len()), prefix: prefix.into() };
                key.verify(scheme, &digest, signature).map_err(|_| "the RSA signature does not match".to_string())
            }
            other => Err(format!("unsupported key algorithm `{other}`")),
        }
    }
}
