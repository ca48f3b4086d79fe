//! CloudTrail log-file integrity validation from digest files, as AWS documents it: each log
//! file's SHA-256 (of its uncompressed content) against its digest entry, the chain of digests
//! (`previousDigestHashValue`, `previousDigestSignature`), and each digest's SHA256withRSA
//! signature over the data-to-sign string
//! `digestEndTime \n bucket/key \n hex(SHA-256(digest)) \n previousDigestSignature`.
//!
//! A digest's own signature lives in the S3 object metadata (`x-amz-meta-signature`), which a
//! local copy loses: it is taken from the next digest's `previousDigestSignature`, or from a
//! `FILE.signature` file beside the digest (hex); the newest digest without either is listed
//! as unverified. The checks ([`verify_digests`]) are pure; [`verify_directory`] reads files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha2::{Digest as _, Sha256};

use crate::hunt::TimeRange;

/// One region public key, as `ListPublicKeys` returns it.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub fingerprint: String,
    pub key: rsa::RsaPublicKey,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read `{path}`: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("`{path}` is not a ListPublicKeys reply: {reason}")]
    PublicKeys { path: String, reason: String },
}

/// Reads the JSON that `aws cloudtrail list-public-keys` prints (`{"PublicKeyList": [{"Value":
/// base64 DER, "Fingerprint": hex, ...}]}`).
pub fn read_public_keys(path: &Path) -> Result<Vec<PublicKey>, VerifyError> {
    let text = std::fs::read_to_string(path).map_err(|error| VerifyError::Io { path: path.display().to_string(), error })?;
    parse_public_keys(&text).map_err(|reason| VerifyError::PublicKeys { path: path.display().to_string(), reason })
}

pub fn parse_public_keys(text: &str) -> Result<Vec<PublicKey>, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let list = json.get("PublicKeyList").and_then(serde_json::Value::as_array).ok_or("no `PublicKeyList` array")?;
    let mut keys = Vec::new();
    for (index, entry) in list.iter().enumerate() {
        let fingerprint = entry.get("Fingerprint").and_then(serde_json::Value::as_str).ok_or(format!("key {index} has no `Fingerprint`"))?;
        let value = entry.get("Value").and_then(serde_json::Value::as_str).ok_or(format!("key {index} has no `Value`"))?;
        let der = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|error| format!("key {index}: `Value` is not base64: {error}"))?;
        keys.push(public_key_from_der(fingerprint, &der).map_err(|reason| format!("key {index}: {reason}"))?);
    }
    Ok(keys)
}

/// One key of a `ListPublicKeys` reply: its fingerprint and its DER bytes (PKCS#1, as AWS
/// returns them, or SPKI).
pub fn public_key_from_der(fingerprint: &str, der: &[u8]) -> Result<PublicKey, String> {
    let key = rsa::RsaPublicKey::from_pkcs1_der(der)
        .or_else(|_| rsa::RsaPublicKey::from_public_key_der(der))
        .map_err(|error| format!("not an RSA public key (PKCS#1 or SPKI DER): {error}"))?;
    Ok(PublicKey { fingerprint: fingerprint.to_ascii_lowercase(), key })
}

/// A digest file as read.
#[derive(Debug, Clone)]
pub struct DigestFile {
    /// The local path, for reports.
    pub path: String,
    /// The uncompressed content.
    pub content: Vec<u8>,
    /// The hex signature from a `.signature` file beside it, if any.
    pub sidecar_signature: Option<String>,
}

/// What kind of integrity problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    LogModified,
    LogMissing,
    LogExtra,
    DigestModified,
    DigestMissing,
    DigestInvalid,
    DigestMoved,
    SignatureInvalid,
    PublicKeyMissing,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::LogModified => "log-modified",
            ProblemKind::LogMissing => "log-missing",
            ProblemKind::LogExtra => "log-extra",
            ProblemKind::DigestModified => "digest-modified",
            ProblemKind::DigestMissing => "digest-missing (gap)",
            ProblemKind::DigestInvalid => "digest-invalid",
            ProblemKind::DigestMoved => "digest-moved",
            ProblemKind::SignatureInvalid => "signature-invalid",
            ProblemKind::PublicKeyMissing => "public-key-missing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct IntegrityProblem {
    pub kind: ProblemKind,
    pub path: String,
    pub detail: String,
}

/// The outcome of a validation.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    pub digests: usize,
    pub valid_digests: usize,
    pub log_files: usize,
    pub valid_log_files: usize,
    /// Digests whose signature could not be checked (no next digest, no `.signature` file).
    pub unverified_digests: Vec<String>,
    pub problems: Vec<IntegrityProblem>,
}

/// The part of an S3 key from `AWSLogs/` on (the optional prefix before it is not part of a
/// local copy's path).
pub fn normalize_key(key: &str) -> String {
    let key = key.replace('\\', "/");
    match key.find("AWSLogs/") {
        Some(start) => key[start..].to_string(),
        None => key,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn text<'a>(json: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    json.get(key).and_then(serde_json::Value::as_str)
}

struct ParsedDigest<'a> {
    file: &'a DigestFile,
    json: serde_json::Value,
    key: String,
    hash: String,
    end_time: String,
}

/// Validates digests against the log files' uncompressed contents (`logs`: normalized key →
/// (local path, SHA-256 hex)). Pure: the caller reads the files.
pub fn verify_digests(digests: &[DigestFile], logs: &BTreeMap<String, (String, String)>, keys: &[PublicKey], range: TimeRange) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut parsed = Vec::new();
    for file in digests {
        let json: serde_json::Value = match serde_json::from_slice(&file.content) {
            Ok(json) => json,
            Err(error) => {
                report.problems.push(IntegrityProblem { kind: ProblemKind::DigestInvalid, path: file.path.clone(), detail: format!("not JSON: {error}") });
                continue;
            }
        };
        let (Some(object), Some(end_time)) = (text(&json, "digestS3Object"), text(&json, "digestEndTime")) else {
            report.problems.push(IntegrityProblem {
                kind: ProblemKind::DigestInvalid,
                path: file.path.clone(),
                detail: "no digestS3Object or digestEndTime".into(),
            });
            continue;
        };
        let in_range = chrono::DateTime::parse_from_rfc3339(end_time).ok().map(|time| time.timestamp_millis());
        if !range.is_open() && in_range.is_none_or(|time| range.from_ms.is_some_and(|from| time < from) || range.to_ms.is_some_and(|to| time > to)) {
            continue;
        }
        let key = normalize_key(object);
        if !normalize_key(&file.path).ends_with(&key) {
            report.problems.push(IntegrityProblem {
                kind: ProblemKind::DigestMoved,
                path: file.path.clone(),
                detail: format!("the digest says it was delivered to `{object}`"),
            });
        }
        parsed.push(ParsedDigest { file, key, hash: sha256_hex(&file.content), end_time: end_time.to_string(), json });
    }
    report.digests = parsed.len();
    let by_key: HashMap<&str, usize> = parsed.iter().enumerate().map(|(index, digest)| (digest.key.as_str(), index)).collect();
    // The signature of each digest, as the next digest in its chain records it.
    let mut signature_from_next: HashMap<usize, String> = HashMap::new();
    for digest in &parsed {
        let Some(previous) = text(&digest.json, "previousDigestS3Object") else { continue };
        let previous_key = normalize_key(previous);
        match by_key.get(previous_key.as_str()) {
            Some(&previous_index) => {
                if let Some(signature) = text(&digest.json, "previousDigestSignature") {
                    signature_from_next.insert(previous_index, signature.to_string());
                }
                let expected = text(&digest.json, "previousDigestHashValue").unwrap_or_default();
                if !parsed[previous_index].hash.eq_ignore_ascii_case(expected) {
                    report.problems.push(IntegrityProblem {
                        kind: ProblemKind::DigestModified,
                        path: parsed[previous_index].file.path.clone(),
                        detail: format!("its SHA-256 is {}, the next digest expects {expected}", parsed[previous_index].hash),
                    });
                }
            }
            None => {
                // A previous digest outside the requested range is not a gap.
                let previous_time = previous.rsplit('_').next().and_then(|tail| tail.split('.').next()).unwrap_or_default().to_string();
                let before_range = range.from_ms.is_some_and(|from| {
                    chrono::NaiveDateTime::parse_from_str(&previous_time, "%Y%m%dT%H%M%SZ").is_ok_and(|time| time.and_utc().timestamp_millis() < from)
                });
                if !before_range {
                    report.problems.push(IntegrityProblem {
                        kind: ProblemKind::DigestMissing,
                        path: previous_key,
                        detail: format!("the chain breaks: `{}` refers to it as its previous digest", digest.file.path),
                    });
                }
            }
        }
    }
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    let mut latest_end = String::new();
    for (index, digest) in parsed.iter().enumerate() {
        latest_end = latest_end.max(digest.end_time.clone());
        let signature = signature_from_next.get(&index).cloned().or_else(|| digest.file.sidecar_signature.clone());
        let signature_ok = match signature {
            None => {
                report.unverified_digests.push(digest.file.path.clone());
                true
            }
            Some(signature) => check_signature(digest, &signature, keys, &mut report),
        };
        if signature_ok {
            report.valid_digests += 1;
        }
        for entry in digest.json.get("logFiles").and_then(serde_json::Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            let Some(object) = text(entry, "s3Object") else { continue };
            let key = normalize_key(object);
            referenced.insert(key.clone());
            report.log_files += 1;
            let expected = text(entry, "hashValue").unwrap_or_default();
            match logs.get(&key) {
                None => {
                    report.problems.push(IntegrityProblem { kind: ProblemKind::LogMissing, path: key, detail: format!("listed in `{}`", digest.file.path) })
                }
                Some((path, hash)) if !hash.eq_ignore_ascii_case(expected) => report.problems.push(IntegrityProblem {
                    kind: ProblemKind::LogModified,
                    path: path.clone(),
                    detail: format!("its SHA-256 is {hash}, `{}` records {expected}", digest.file.path),
                }),
                Some(_) => report.valid_log_files += 1,
            }
        }
    }
    // Files the digests should have listed: delivered before the newest digest ended.
    let latest_compact: String = latest_end.chars().filter(char::is_ascii_alphanumeric).collect();
    for (key, (path, _)) in logs {
        if referenced.contains(key) {
            continue;
        }
        let delivered = key.rsplit('/').next().unwrap_or_default().split('_').find(|part| part.len() == 14 && part.ends_with('Z')).map(str::to_string);
        let covered =
            delivered.as_deref().and_then(|time| time.get(..13)).is_some_and(|time| !latest_compact.is_empty() && format!("{time}00Z") < latest_compact);
        if covered {
            report.problems.push(IntegrityProblem { kind: ProblemKind::LogExtra, path: path.clone(), detail: "no digest lists this log file".into() });
        }
    }
    report.problems.sort();
    report
}

fn check_signature(digest: &ParsedDigest<'_>, signature_hex: &str, keys: &[PublicKey], report: &mut VerifyReport) -> bool {
    let fingerprint = text(&digest.json, "digestPublicKeyFingerprint").unwrap_or_default().to_ascii_lowercase();
    let Some(key) = keys.iter().find(|key| key.fingerprint == fingerprint) else {
        report.problems.push(IntegrityProblem {
            kind: ProblemKind::PublicKeyMissing,
            path: digest.file.path.clone(),
            detail: format!("no public key with fingerprint `{fingerprint}` in the keys file"),
        });
        return false;
    };
    let bucket = text(&digest.json, "digestS3Bucket").unwrap_or_default();
    let object = text(&digest.json, "digestS3Object").unwrap_or_default();
    let previous_signature = text(&digest.json, "previousDigestSignature").unwrap_or("null");
    let data = format!("{}\n{bucket}/{object}\n{}\n{previous_signature}", digest.end_time, digest.hash);
    let verified = hex::decode(signature_hex.trim())
        .ok()
        .and_then(|bytes| rsa::pkcs1v15::Signature::try_from(bytes.as_slice()).ok())
        .is_some_and(|signature| rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.key.clone()).verify(data.as_bytes(), &signature).is_ok());
    if !verified {
        report.problems.push(IntegrityProblem {
            kind: ProblemKind::SignatureInvalid,
            path: digest.file.path.clone(),
            detail: "the SHA256withRSA signature does not match the digest".into(),
        });
    }
    verified
}

fn read_uncompressed(path: &Path) -> Result<Vec<u8>, VerifyError> {
    let io_error = |error| VerifyError::Io { path: path.display().to_string(), error };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut reader = crate::read::decompress(Box::new(file)).map_err(io_error)?;
    let mut content = Vec::new();
    reader.read_to_end(&mut content).map_err(io_error)?;
    Ok(content)
}

fn hash_uncompressed(path: &Path) -> Result<String, VerifyError> {
    let io_error = |error| VerifyError::Io { path: path.display().to_string(), error };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut reader = crate::read::decompress(Box::new(file)).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = reader.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// One object of a trail's bucket, already fetched (from S3 or elsewhere).
#[derive(Debug, Clone)]
pub struct TrailObject {
    /// The object key (`[prefix/]AWSLogs/...`).
    pub key: String,
    /// How reports name it (e.g. `s3://bucket/key`).
    pub name: String,
    /// The bytes as stored (gzip or plain).
    pub bytes: Vec<u8>,
    /// A digest's signature from the object metadata (`x-amz-meta-signature`, hex).
    pub signature: Option<String>,
}

/// Whether an object key names a digest file.
pub fn is_digest_key(key: &str) -> bool {
    crate::read::is_digest_path(Path::new(key))
}

/// Whether an object key names a CloudTrail log file (not a digest, not a folder marker).
pub fn is_log_key(key: &str) -> bool {
    !key.ends_with('/') && !is_digest_key(key) && key.rsplit('/').next().is_some_and(|name| name.contains("_CloudTrail_"))
}

/// Validates fetched objects (digests and log files; other objects are ignored). A digest that
/// does not decompress is reported as invalid, a log file that does not decompress as modified.
pub fn verify_objects(objects: &[TrailObject], keys: &[PublicKey], range: TimeRange) -> VerifyReport {
    let mut digests = Vec::new();
    let mut logs = BTreeMap::new();
    let mut unreadable = Vec::new();
    for object in objects {
        let mut content = Vec::new();
        let decoded = crate::read::decompress(Box::new(std::io::Cursor::new(object.bytes.clone()))).and_then(|mut reader| reader.read_to_end(&mut content));
        if is_digest_key(&object.key) {
            match decoded {
                Ok(_) => digests.push(DigestFile { path: object.name.clone(), content, sidecar_signature: object.signature.clone() }),
                Err(error) => unreadable.push(IntegrityProblem {
                    kind: ProblemKind::DigestInvalid,
                    path: object.name.clone(),
                    detail: format!("cannot decompress: {error}"),
                }),
            }
        } else if is_log_key(&object.key) {
            let hash = match decoded {
                Ok(_) => sha256_hex(&content),
                Err(error) => format!("unknown (cannot decompress: {error})"),
            };
            logs.insert(normalize_key(&object.key), (object.name.clone(), hash));
        }
    }
    let mut report = verify_digests(&digests, &logs, keys, range);
    if !unreadable.is_empty() {
        report.problems.extend(unreadable);
        report.problems.sort();
    }
    report
}

/// The regions that the digests under these keys belong to (`CloudTrail-Digest/REGION/`).
pub fn digest_regions<'a>(keys: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    keys.into_iter()
        .filter_map(|key| {
            let mut parts = key.split('/');
            parts.find(|part| *part == "CloudTrail-Digest")?;
            parts.next().filter(|region| !region.is_empty()).map(str::to_string)
        })
        .collect()
}

/// Reads a local copy of a trail's folder (anything holding `CloudTrail/` and
/// `CloudTrail-Digest/` trees) and validates it.
pub fn verify_directory(root: &Path, keys: &[PublicKey], range: TimeRange) -> Result<VerifyReport, VerifyError> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    let mut digests = Vec::new();
    let mut logs = BTreeMap::new();
    for path in files {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_string();
        if name.ends_with(".signature") {
            continue;
        }
        if crate::read::is_digest_path(&path) {
            let signature_path = PathBuf::from(format!("{}.signature", path.display()));
            let sidecar_signature = std::fs::read_to_string(&signature_path).ok().map(|text| text.trim().to_string());
            digests.push(DigestFile { path: path.display().to_string(), content: read_uncompressed(&path)?, sidecar_signature });
        } else if name.contains("_CloudTrail_") {
            let key = normalize_key(&path.display().to_string());
            logs.insert(key, (path.display().to_string(), hash_uncompressed(&path)?));
        }
    }
    Ok(verify_digests(&digests, &logs, keys, range))
}

fn walk(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), VerifyError> {
    let io_error = |error| VerifyError::Io { path: directory.display().to_string(), error };
    for entry in std::fs::read_dir(directory).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let path = entry.path();
        if entry.file_type().map_err(io_error)?.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    files.sort();
    Ok(())
}

#[cfg(any(test, feature = "fixtures"))]
pub mod fixture;

#[cfg(test)]
mod tests;
