//! A generated trail for tests (compiled with the `fixtures` feature): three hours of log
//! files and three chained digests signed with a key generated here, as CloudTrail delivers
//! them to S3, so that tests of local and S3 validation share one generator.

use std::io::Write;

use base64::Engine as _;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

use super::sha256_hex;

/// A deterministic generator, enough to make test keys (never use it for real keys).
struct TestRng(u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let value = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&value[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, bytes: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(bytes);
        Ok(())
    }
}
impl CryptoRng for TestRng {}

pub const ACCOUNT: &str = "111122223333";
pub const FINGERPRINT: &str = "00aabb";

/// One generated object: its key (under the prefix), its gzip bytes, and for a digest its hex
/// signature (what S3 keeps in `x-amz-meta-signature`).
#[derive(Debug, Clone)]
pub struct SampleObject {
    pub key: String,
    pub bytes: Vec<u8>,
    pub signature: Option<String>,
}

/// The generated trail.
#[derive(Debug, Clone)]
pub struct SampleTrail {
    /// The public key as `aws cloudtrail list-public-keys` prints it.
    pub keys_json: String,
    /// The public key's PKCS#1 DER bytes, as the ListPublicKeys API returns them.
    pub public_key_der: Vec<u8>,
    pub logs: Vec<SampleObject>,
    pub digests: Vec<SampleObject>,
}

pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).map_err(|error| error.to_string())?;
    encoder.finish().map_err(|error| error.to_string())
}

/// Generates the trail delivered to `bucket` under `prefix` (empty, or ending in `/`).
pub fn sample_trail(bucket: &str, prefix: &str) -> Result<SampleTrail, String> {
    let private_key = rsa::RsaPrivateKey::new(&mut TestRng(0x9e3779b97f4a7c15), 1024).map_err(|error| error.to_string())?;
    let der = private_key.to_public_key().to_pkcs1_der().map_err(|error| error.to_string())?;
    let keys_json = serde_json::json!({"PublicKeyList": [{
        "Value": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "ValidityStartTime": "2024-01-01T00:00:00Z", "ValidityEndTime": "2025-01-01T00:00:00Z", "Fingerprint": FINGERPRINT
    }]})
    .to_string();
    let signing_key = rsa::pkcs1v15::SigningKey::<Sha256>::new(private_key);
    let mut previous: Option<(String, String, String)> = None; // key, hash, signature
    let mut trail = SampleTrail { keys_json, public_key_der: der.as_bytes().to_vec(), logs: Vec::new(), digests: Vec::new() };
    for hour in 10..13 {
        let log_key = format!("{prefix}AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/05/01/{ACCOUNT}_CloudTrail_us-east-1_20240501T{hour}05Z_abc.json.gz");
        let log_content = format!(r#"{{"Records":[{{"eventName":"E{hour}","eventTime":"2024-05-01T{hour}:01:00Z"}}]}}"#);
        trail.logs.push(SampleObject { key: log_key.clone(), bytes: gzip(log_content.as_bytes())?, signature: None });
        let end = format!("2024-05-01T{}:00:00Z", hour + 1);
        let digest_key = format!(
            "{prefix}AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2024/05/01/{ACCOUNT}_CloudTrail-Digest_us-east-1_main_us-east-1_20240501T{}0000Z.json.gz",
            hour + 1
        );
        let digest = serde_json::json!({
            "awsAccountId": ACCOUNT,
            "digestStartTime": format!("2024-05-01T{hour}:00:00Z"),
            "digestEndTime": end,
            "digestS3Bucket": bucket,
            "digestS3Object": digest_key,
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.as_ref().map(|_| bucket),
            "previousDigestS3Object": previous.as_ref().map(|(key, _, _)| key.clone()),
            "previousDigestHashValue": previous.as_ref().map(|(_, hash, _)| hash.clone()),
            "previousDigestHashAlgorithm": previous.as_ref().map(|_| "SHA-256"),
            "previousDigestSignature": previous.as_ref().map(|(_, _, signature)| signature.clone()),
            "logFiles": [{"s3Bucket": bucket, "s3Object": log_key, "hashValue": sha256_hex(log_content.as_bytes()), "hashAlgorithm": "SHA-256"}],
        });
        let content = serde_json::to_vec(&digest).map_err(|error| error.to_string())?;
        let hash = sha256_hex(&content);
        let previous_signature = previous.as_ref().map_or("null".to_string(), |(_, _, signature)| signature.clone());
        let data = format!("{end}\n{bucket}/{digest_key}\n{hash}\n{previous_signature}");
        let signature = hex::encode(signing_key.sign(data.as_bytes()).to_vec());
        trail.digests.push(SampleObject { key: digest_key.clone(), bytes: gzip(&content)?, signature: Some(signature.clone()) });
        previous = Some((digest_key, hash, signature));
    }
    Ok(trail)
}
