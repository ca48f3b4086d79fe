//! A test CA that signs EC2 instance identity documents exactly as AWS serves them: CMS
//! SignedData in BER with indefinite lengths, the document attached as a chunked OCTET
//! STRING, SHA-1 digest, a DSA signature over signed attributes (content type, signing time,
//! message digest), no certificate embedded, base64 in 64-character lines without armour
//! (the `/latest/dynamic/instance-identity/pkcs7` endpoint). The keys are fixtures in
//! `identity/` (DSA 1024/160 like AWS's own certificate; a second "forger" CA; an RSA-2048
//! CA for the `rsa2048` form). Never trusted by vigil unless a test passes `--identity-cert`.

use base64::Engine as _;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, DecodePem, Encode, Tag};
use sha1::Digest as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

pub const TEST_CA_PEM: &str = include_str!("../identity/test-ca.pem");
const TEST_CA_KEY: &str = include_str!("../identity/test-ca.key.pem");
pub const FORGER_CA_PEM: &str = include_str!("../identity/forger-ca.pem");
const FORGER_CA_KEY: &str = include_str!("../identity/forger-ca.key.pem");
pub const TEST_RSA_PEM: &str = include_str!("../identity/test-rsa2048.pem");
const TEST_RSA_KEY: &str = include_str!("../identity/test-rsa2048.key.pem");

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const DSA_WITH_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

enum Key {
    Dsa(Box<dsa::SigningKey>),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// A signer of identity documents: a key and the certificate it claims to be.
pub struct TestCa {
    key: Key,
    certificate: Certificate,
    /// The certificate's PEM (what `vigil serve --identity-cert` is given to trust it).
    pub pem: &'static str,
}

fn dsa_key(pem: &str) -> dsa::SigningKey {
    use pkcs8::DecodePrivateKey;
    dsa::SigningKey::from_pkcs8_pem(pem).expect("test DSA key")
}

impl TestCa {
    /// The test CA the suite trusts (DSA, like AWS's `pkcs7` certificates).
    pub fn trusted() -> TestCa {
        TestCa { key: Key::Dsa(Box::new(dsa_key(TEST_CA_KEY))), certificate: Certificate::from_pem(TEST_CA_PEM).unwrap(), pem: TEST_CA_PEM }
    }

    /// Another CA nobody trusts.
    pub fn forger() -> TestCa {
        TestCa { key: Key::Dsa(Box::new(dsa_key(FORGER_CA_KEY))), certificate: Certificate::from_pem(FORGER_CA_PEM).unwrap(), pem: FORGER_CA_PEM }
    }

    /// The forger's key claiming to be the trusted CA (same issuer and serial number).
    pub fn impostor() -> TestCa {
        TestCa { key: Key::Dsa(Box::new(dsa_key(FORGER_CA_KEY))), certificate: Certificate::from_pem(TEST_CA_PEM).unwrap(), pem: TEST_CA_PEM }
    }

    /// An RSA-2048 CA, signing with SHA-256 like AWS's `rsa2048` endpoint.
    pub fn rsa2048() -> TestCa {
        use rsa::pkcs8::DecodePrivateKey;
        TestCa {
            key: Key::Rsa(Box::new(rsa::RsaPrivateKey::from_pkcs8_pem(TEST_RSA_KEY).unwrap())),
            certificate: Certificate::from_pem(TEST_RSA_PEM).unwrap(),
            pem: TEST_RSA_PEM,
        }
    }

    /// The PKCS#7 signature of `document`, as IMDS serves it (base64 in lines of 64).
    pub fn sign(&self, document: &[u8], signing_time_unix: u64) -> String {
        let ber = to_aws_ber(&self.signed_data_der(document, signing_time_unix));
        let text = base64::engine::general_purpose::STANDARD.encode(ber);
        text.as_bytes().chunks(64).map(|line| String::from_utf8_lossy(line).into_owned()).collect::<Vec<_>>().join("\n")
    }

    fn signed_data_der(&self, document: &[u8], signing_time_unix: u64) -> Vec<u8> {
        let (digest_oid, content_digest) = match &self.key {
            Key::Dsa(_) => (SHA1, sha1::Sha1::digest(document).to_vec()),
            Key::Rsa(_) => (SHA256, sha2::Sha256::digest(document).to_vec()),
        };
        let one = |value: Any| SetOfVec::try_from(vec![value]).unwrap();
        let time = UtcTime::from_unix_duration(std::time::Duration::from_secs(signing_time_unix)).unwrap();
        let attributes: SetOfVec<Attribute> = SetOfVec::try_from(vec![
            Attribute { oid: CONTENT_TYPE, values: one(Any::encode_from(&ID_DATA).unwrap()) },
            Attribute { oid: SIGNING_TIME, values: one(Any::encode_from(&time).unwrap()) },
            Attribute { oid: MESSAGE_DIGEST, values: one(Any::new(Tag::OctetString, content_digest).unwrap()) },
        ])
        .unwrap();
        let to_sign = attributes.to_der().unwrap();
        let (signature, signature_algorithm) = match &self.key {
            Key::Dsa(key) => {
                use dsa::signature::DigestSigner;
                let signature: dsa::Signature = key.sign_digest(sha1::Sha1::new_with_prefix(&to_sign));
                (signature.to_der().unwrap(), AlgorithmIdentifierOwned { oid: DSA_WITH_SHA1, parameters: None })
            }
            Key::Rsa(key) => {
                let hashed = sha2::Sha256::digest(&to_sign);
                let signature = key.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed).unwrap();
                (signature, AlgorithmIdentifierOwned { oid: RSA_ENCRYPTION, parameters: Some(Any::null()) })
            }
        };
        let digest_algorithm = AlgorithmIdentifierOwned { oid: digest_oid, parameters: Some(Any::null()) };
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.certificate.tbs_certificate.issuer.clone(),
                serial_number: self.certificate.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: digest_algorithm.clone(),
            signed_attrs: Some(attributes),
            signature_algorithm,
            signature: OctetString::new(signature).unwrap(),
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![digest_algorithm]).unwrap(),
            encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: Some(Any::new(Tag::OctetString, document.to_vec()).unwrap()) },
            certificates: None,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).unwrap()),
        };
        ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed).unwrap() }.to_der().unwrap()
    }
}

/// Rewrites DER the way AWS's signer emits it: the outer structures (down to the attached
/// content) with indefinite lengths, and the content as a constructed OCTET STRING of chunks.
fn to_aws_ber(der: &[u8]) -> Vec<u8> {
    let mut output = Vec::new();
    rewrite(der, 0, &mut output);
    output
}

/// (tag, header length, content length) of the DER element at the start of `der`.
fn header(der: &[u8]) -> (u8, usize, usize) {
    let first = der[1];
    if first & 0x80 == 0 {
        return (der[0], 2, first as usize);
    }
    let count = (first & 0x7f) as usize;
    let length = der[2..2 + count].iter().fold(0usize, |value, byte| (value << 8) | *byte as usize);
    (der[0], 2 + count, length)
}

fn rewrite(mut der: &[u8], depth: usize, output: &mut Vec<u8>) {
    while !der.is_empty() {
        let (tag, header_length, length) = header(der);
        let (element, rest) = der.split_at(header_length + length);
        let content = &element[header_length..];
        // ContentInfo > [0] > SignedData > EncapsulatedContentInfo > [0]: indefinite.
        let path_to_content = depth <= 4 && (tag == 0x30 || tag == 0xa0) && !(depth == 3 && tag == 0x31);
        if tag == 0x04 && depth == 5 {
            output.extend_from_slice(&[0x24, 0x80]);
            for chunk in content.chunks(1000) {
                output.push(0x04);
                vigil_fleet::ber::push_length(output, chunk.len());
                output.extend_from_slice(chunk);
            }
            output.extend_from_slice(&[0, 0]);
        } else if path_to_content && is_path(depth, tag) {
            output.extend_from_slice(&[tag, 0x80]);
            rewrite(content, depth + 1, output);
            output.extend_from_slice(&[0, 0]);
        } else {
            output.extend_from_slice(element);
        }
        der = rest;
    }
}

/// The elements on the way from the ContentInfo to the attached document.
fn is_path(depth: usize, tag: u8) -> bool {
    matches!((depth, tag), (0, 0x30) | (1, 0xa0) | (2, 0x30) | (3, 0x30) | (4, 0xa0))
}

/// An identity document as IMDS serves it (pretty JSON, AWS's field names and order).
pub fn document(account: &str, region: &str, instance_id: &str, image_id: &str, instance_type: &str, pending_time: &str) -> String {
    format!(
        "{{\n  \"accountId\" : \"{account}\",\n  \"architecture\" : \"x86_64\",\n  \"availabilityZone\" : \"{region}a\",\n  \"billingProducts\" : null,\n  \"devpayProductCodes\" : null,\n  \"marketplaceProductCodes\" : null,\n  \"imageId\" : \"{image_id}\",\n  \"instanceId\" : \"{instance_id}\",\n  \"instanceType\" : \"{instance_type}\",\n  \"kernelId\" : null,\n  \"pendingTime\" : \"{pending_time}\",\n  \"privateIp\" : \"10.0.0.10\",\n  \"ramdiskId\" : null,\n  \"region\" : \"{region}\",\n  \"version\" : \"2017-09-30\"\n}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
    }

    #[test]
    fn signatures_are_served_in_ber_and_verify_only_against_the_signers_certificate() {
        let doc = document("123456789012", "us-east-1", "i-0abc", "ami-1", "t3.micro", "2026-01-01T00:00:00Z");
        let trusted = vigil_fleet::identity::TrustedCertificates::from_pem(TEST_CA_PEM, "test-ca.pem").unwrap();
        let signature = TestCa::trusted().sign(doc.as_bytes(), now() as u64);
        let raw = base64::engine::general_purpose::STANDARD.decode(signature.replace('\n', "")).unwrap();
        assert_eq!(&raw[..2], &[0x30, 0x80], "indefinite length like AWS");
        let verified = vigil_fleet::identity::verify(&signature, Some(doc.as_bytes()), &trusted, now()).unwrap();
        assert_eq!(verified.document.instance_id, "i-0abc");
        let forged = TestCa::forger().sign(doc.as_bytes(), now() as u64);
        let error = vigil_fleet::identity::verify(&forged, None, &trusted, now()).unwrap_err().to_string();
        assert!(error.contains("no trusted certificate matches"), "{error}");
        let impostor = TestCa::impostor().sign(doc.as_bytes(), now() as u64);
        let error = vigil_fleet::identity::verify(&impostor, None, &trusted, now()).unwrap_err().to_string();
        assert!(error.contains("the DSA signature does not match"), "{error}");
        let other = doc.replace("i-0abc", "i-0evil");
        let error = vigil_fleet::identity::verify(&signature, Some(other.as_bytes()), &trusted, now()).unwrap_err().to_string();
        assert!(error.contains("differs from the signed document"), "{error}");
        let rsa_trusted = vigil_fleet::identity::TrustedCertificates::from_pem(TEST_RSA_PEM, "rsa.pem").unwrap();
        let rsa_signature = TestCa::rsa2048().sign(doc.as_bytes(), now() as u64);
        assert_eq!(vigil_fleet::identity::verify(&rsa_signature, None, &rsa_trusted, now()).unwrap().document.region, "us-east-1");
    }

    /// The signature is what AWS's documented check accepts: `openssl smime -verify` with the
    /// CA's certificate reproduces the document byte for byte.
    #[test]
    fn openssl_verifies_the_signature_as_aws_documents_it() {
        if !std::process::Command::new("openssl").arg("version").output().is_ok_and(|output| output.status.success()) {
            eprintln!("skipped: needs openssl");
            return;
        }
        let directory = tempfile::tempdir().unwrap();
        let doc = document("123456789012", "eu-west-1", "i-0def", "ami-2", "m7g.large", "2026-03-01T12:00:00Z");
        let signature = TestCa::trusted().sign(doc.as_bytes(), now() as u64);
        let (pkcs7, certificate) = (directory.path().join("pkcs7"), directory.path().join("certificate"));
        std::fs::write(&pkcs7, format!("-----BEGIN PKCS7-----\n{signature}\n-----END PKCS7-----\n")).unwrap();
        std::fs::write(&certificate, TEST_CA_PEM).unwrap();
        let output = std::process::Command::new("openssl")
            .args(["smime", "-verify", "-in"])
            .arg(&pkcs7)
            .args(["-inform", "PEM", "-certfile"])
            .arg(&certificate)
            .arg("-noverify")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(String::from_utf8_lossy(&output.stdout), doc);
    }
}
