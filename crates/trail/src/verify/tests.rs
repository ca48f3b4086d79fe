//! Tests of log-file integrity validation with digests, logs and keys generated here.

use super::*;

const BUCKET: &str = "trail-bucket";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    fixture::gzip(bytes).unwrap()
}

struct Fixture {
    root: tempfile::TempDir,
    keys_json: String,
    digest_paths: Vec<PathBuf>,
    log_paths: Vec<PathBuf>,
}

/// The generated trail written to a folder. Only the newest digest's signature is saved beside
/// it as `.signature`, as a download with metadata would; the others come from the chain.
fn fixture() -> Fixture {
    let trail = fixture::sample_trail(BUCKET, "").unwrap();
    let root = tempfile::tempdir().unwrap();
    let write = |object: &fixture::SampleObject| {
        let path = root.path().join(&object.key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &object.bytes).unwrap();
        path
    };
    let log_paths: Vec<PathBuf> = trail.logs.iter().map(write).collect();
    let digest_paths: Vec<PathBuf> = trail.digests.iter().map(write).collect();
    let newest = trail.digests.last().unwrap();
    std::fs::write(format!("{}.signature", digest_paths.last().unwrap().display()), newest.signature.as_ref().unwrap()).unwrap();
    Fixture { root, keys_json: trail.keys_json, digest_paths, log_paths }
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
    let extra = format!("{}_CloudTrail_us-east-1_20240501T1130Z_zzz.json.gz", fixture::ACCOUNT);
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

/// Fetched objects (as from S3, prefix before `AWSLogs/`, signatures from object metadata):
/// one log tampered, one deleted, one added.
#[test]
fn objects_report_modified_missing_and_extra_logs_with_metadata_signatures() {
    let trail = fixture::sample_trail(BUCKET, "org/").unwrap();
    let keys = parse_public_keys(&trail.keys_json).unwrap();
    let object = |sample: &fixture::SampleObject| TrailObject {
        key: sample.key.clone(),
        name: format!("s3://{BUCKET}/{}", sample.key),
        bytes: sample.bytes.clone(),
        signature: sample.signature.clone(),
    };
    let untouched: Vec<TrailObject> = trail.digests.iter().chain(&trail.logs).map(object).collect();
    let report = verify_objects(&untouched, &keys, TimeRange::default());
    assert!(report.problems.is_empty() && report.unverified_digests.is_empty(), "{report:#?}");
    assert_eq!((report.digests, report.valid_digests, report.log_files, report.valid_log_files), (3, 3, 3, 3));

    let mut objects: Vec<TrailObject> = trail.digests.iter().map(object).collect();
    objects.push(TrailObject { bytes: gzip(br#"{"Records":[]}"#), ..object(&trail.logs[0]) });
    objects.push(object(&trail.logs[2]));
    let extra_key = trail.logs[0].key.replace("T1005Z_abc", "T1130Z_zzz");
    objects.push(TrailObject { key: extra_key.clone(), name: extra_key.clone(), bytes: b"not gzip, not json".to_vec(), signature: None });
    objects.push(TrailObject { key: "org/README".into(), name: "README".into(), bytes: Vec::new(), signature: None });
    let report = verify_objects(&objects, &keys, TimeRange::default());
    let got: Vec<(ProblemKind, String)> = report.problems.iter().map(|problem| (problem.kind, problem.path.clone())).collect();
    assert_eq!(
        got,
        vec![
            (ProblemKind::LogModified, format!("s3://{BUCKET}/{}", trail.logs[0].key)),
            (ProblemKind::LogMissing, normalize_key(&trail.logs[1].key)),
            (ProblemKind::LogExtra, extra_key),
        ]
    );
}

#[test]
fn object_keys_are_classified_and_digest_regions_found() {
    let trail = fixture::sample_trail(BUCKET, "p/").unwrap();
    assert!(trail.logs.iter().all(|log| is_log_key(&log.key) && !is_digest_key(&log.key)));
    assert!(trail.digests.iter().all(|digest| is_digest_key(&digest.key) && !is_log_key(&digest.key)));
    assert!(!is_log_key("p/AWSLogs/1/CloudTrail/") && !is_log_key("p/notes.txt"));
    let regions = digest_regions([
        "a/AWSLogs/1/CloudTrail-Digest/eu-west-1/2024/x.json.gz",
        "AWSLogs/1/CloudTrail-Digest/us-east-1/y",
        "AWSLogs/1/CloudTrail/us-west-2/z",
    ]);
    assert_eq!(regions.into_iter().collect::<Vec<_>>(), vec!["eu-west-1".to_string(), "us-east-1".to_string()]);
}

#[test]
fn a_der_key_from_the_api_converts_like_the_cli_json() {
    let trail = fixture::sample_trail(BUCKET, "").unwrap();
    let from_json = parse_public_keys(&trail.keys_json).unwrap();
    let from_der = public_key_from_der("00AABB", &trail.public_key_der).unwrap();
    assert_eq!((from_der.fingerprint.as_str(), &from_der.key), (from_json[0].fingerprint.as_str(), &from_json[0].key));
    assert!(public_key_from_der("x", b"junk").unwrap_err().contains("not an RSA public key"));
}
