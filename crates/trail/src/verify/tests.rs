//! Tests of log-file integrity validation with digests, logs and keys generated here.

use std::io::Write;

use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{SignatureEncoding, Signer};

use super::*;

/// A deterministic generator, enough to make test keys.
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

const ACCOUNT: &str = "111122223333";
const BUCKET: &str = "trail-bucket";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

struct Fixture {
    root: tempfile::TempDir,
    keys_json: String,
    digest_paths: Vec<PathBuf>,
    log_paths: Vec<PathBuf>,
}

/// Three hours of a trail: one log file per hour, three chained, signed digests. The newest
/// digest's signature is saved beside it as `.signature`, as a download with metadata would.
fn fixture() -> Fixture {
    let private_key = rsa::RsaPrivateKey::new(&mut TestRng(0x9e3779b97f4a7c15), 1024).unwrap();
    let der = private_key.to_public_key().to_pkcs1_der().unwrap();
    let keys_json = serde_json::json!({"PublicKeyList": [{
        "Value": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "ValidityStartTime": "2024-01-01T00:00:00Z", "ValidityEndTime": "2025-01-01T00:00:00Z", "Fingerprint": "00aabb"
    }]})
    .to_string();
    let signing_key = rsa::pkcs1v15::SigningKey::<Sha256>::new(private_key);
    let root = tempfile::tempdir().unwrap();
    let mut previous: Option<(String, String, String)> = None; // key, hash, signature
    let mut digest_paths = Vec::new();
    let mut log_paths = Vec::new();
    for hour in 10..13 {
        let log_key = format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/05/01/{ACCOUNT}_CloudTrail_us-east-1_20240501T{hour}05Z_abc.json.gz");
        let log_content = format!(r#"{{"Records":[{{"eventName":"E{hour}","eventTime":"2024-05-01T{hour}:01:00Z"}}]}}"#);
        let log_path = root.path().join(&log_key);
        std::fs::create_dir_all(log_path.parent().unwrap()).unwrap();
        std::fs::write(&log_path, gzip(log_content.as_bytes())).unwrap();
        log_paths.push(log_path);
        let end = format!("2024-05-01T{}:00:00Z", hour + 1);
        let digest_key = format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2024/05/01/{ACCOUNT}_CloudTrail-Digest_us-east-1_main_us-east-1_20240501T{}0000Z.json.gz",
            hour + 1
        );
        let digest = serde_json::json!({
            "awsAccountId": ACCOUNT,
            "digestStartTime": format!("2024-05-01T{hour}:00:00Z"),
            "digestEndTime": end,
            "digestS3Bucket": BUCKET,
            "digestS3Object": digest_key,
            "digestPublicKeyFingerprint": "00aabb",
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.as_ref().map(|_| BUCKET),
            "previousDigestS3Object": previous.as_ref().map(|(key, _, _)| key.clone()),
            "previousDigestHashValue": previous.as_ref().map(|(_, hash, _)| hash.clone()),
            "previousDigestHashAlgorithm": previous.as_ref().map(|_| "SHA-256"),
            "previousDigestSignature": previous.as_ref().map(|(_, _, signature)| signature.clone()),
            "logFiles": [{"s3Bucket": BUCKET, "s3Object": log_key, "hashValue": sha256_hex(log_content.as_bytes()), "hashAlgorithm": "SHA-256"}],
        });
        let content = serde_json::to_vec(&digest).unwrap();
        let hash = sha256_hex(&content);
        let previous_signature = previous.as_ref().map_or("null".to_string(), |(_, _, signature)| signature.clone());
        let data = format!("{end}\n{BUCKET}/{digest_key}\n{hash}\n{previous_signature}");
        let signature = hex::encode(signing_key.sign(data.as_bytes()).to_vec());
        let digest_path = root.path().join(&digest_key);
        std::fs::create_dir_all(digest_path.parent().unwrap()).unwrap();
        std::fs::write(&digest_path, gzip(&content)).unwrap();
        if hour == 12 {
            std::fs::write(format!("{}.signature", digest_path.display()), &signature).unwrap();
        }
        digest_paths.push(digest_path);
        previous = Some((digest_key, hash, signature));
    }
    Fixture { root, keys_json, digest_paths, log_paths }
}

/// Runs the validation after `tamper` and returns (kind, file name) of each problem.
fn check(tamper: impl FnOnce(&Fixture), expected: &[(ProblemKind, &str)]) {
    let fixture = fixture();
    tamper(&fixture);
    let keys = parse_public_keys(&fixture.keys_json).unwrap();
    let report = verify_directory(fixture.root.path(), &keys, TimeRange::default()).unwrap();
    let got: Vec<(ProblemKind, String)> =
        report.problems.iter().map(|problem| (problem.kind, problem.path.rsplit('/').next().unwrap_or_default().to_string())).collect();
    let expected: Vec<(ProblemKind, String)> = expected.iter().map(|(kind, name)| (*kind, name.to_string())).collect();
    assert_eq!(got, expected, "{:#?}", report.problems);
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_string()
}

#[test]
fn an_untouched_trail_validates() {
    let fixture = fixture();
    let keys = parse_public_keys(&fixture.keys_json).unwrap();
    let report = verify_directory(fixture.root.path(), &keys, TimeRange::default()).unwrap();
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!((report.digests, report.valid_digests, report.log_files, report.valid_log_files), (3, 3, 3, 3));
    assert!(report.unverified_digests.is_empty());
}

#[test]
fn reports_modified_missing_and_extra_log_files() {
    let log_name = |index: usize| name(&fixture().log_paths[index]);
    check(|fixture| std::fs::write(&fixture.log_paths[1], gzip(br#"{"Records":[]}"#)).unwrap(), &[(ProblemKind::LogModified, &log_name(1))]);
    check(|fixture| std::fs::remove_file(&fixture.log_paths[0]).unwrap(), &[(ProblemKind::LogMissing, &log_name(0))]);
    let extra = format!("{ACCOUNT}_CloudTrail_us-east-1_20240501T1130Z_zzz.json.gz");
    check(|fixture| std::fs::write(fixture.log_paths[0].with_file_name(&extra), gzip(b"{}")).unwrap(), &[(ProblemKind::LogExtra, &extra)]);
}

#[test]
fn reports_modified_and_missing_digests_and_bad_signatures() {
    let digest_name = |index: usize| name(&fixture().digest_paths[index]);
    // A changed digest breaks the next digest's hash and its own signature.
    check(
        |fixture| {
            let content = read_uncompressed(&fixture.digest_paths[1]).unwrap();
            let changed = String::from_utf8(content).unwrap().replace("SHA256withRSA", "SHA256withRSA ");
            std::fs::write(&fixture.digest_paths[1], gzip(changed.as_bytes())).unwrap();
        },
        &[(ProblemKind::DigestModified, &digest_name(1)), (ProblemKind::SignatureInvalid, &digest_name(1))],
    );
    // A deleted digest is a gap in the chain; its log file is then no longer listed.
    check(
        |fixture| std::fs::remove_file(&fixture.digest_paths[1]).unwrap(),
        &[(ProblemKind::LogExtra, &name(&fixture().log_paths[1])), (ProblemKind::DigestMissing, &digest_name(1))],
    );
    check(
        |fixture| std::fs::write(format!("{}.signature", fixture.digest_paths[2].display()), "00ff").unwrap(),
        &[(ProblemKind::SignatureInvalid, &digest_name(2))],
    );
}

#[test]
fn reports_keys_it_does_not_have_and_bad_key_files() {
    let fixture = fixture();
    let other = fixture.keys_json.replace("00aabb", "ffffff");
    let keys = parse_public_keys(&other).unwrap();
    let report = verify_directory(fixture.root.path(), &keys, TimeRange::default()).unwrap();
    assert_eq!(report.problems.iter().filter(|problem| problem.kind == ProblemKind::PublicKeyMissing).count(), 3);
    assert!(parse_public_keys("{}").unwrap_err().contains("PublicKeyList"));
    assert!(parse_public_keys(r#"{"PublicKeyList":[{"Fingerprint":"a","Value":"!!"}]}"#).unwrap_err().contains("not base64"));
}
