//! The fuzz targets: one function per kind of hostile input vigil reads, each taking raw bytes
//! and returning nothing. A target must never panic, hang or allocate without bound on any
//! input; errors are fine. Shared by the AFL binaries (`fuzz/src/bin/*.rs`) and by the
//! regular test that replays the committed corpus (`crates/cli/tests/e2e/fuzz_corpus.rs`).

use std::io::Cursor;
use std::sync::OnceLock;

/// A fuzz target: its name and the function that takes one input.
pub type Target = (&'static str, fn(&[u8]));

/// The targets by name: the name is the corpus folder and the AFL binary.
pub const TARGETS: &[Target] = &[
    ("iam_policy", iam_policy),
    ("sigma_rule", sigma_rule),
    ("cloudtrail_records", cloudtrail_records),
    ("snapshot", snapshot),
    ("mutelist", mutelist),
    ("cloud_policy", cloud_policy),
];

/// An IAM policy document: parse it, then evaluate a few requests against it as an identity
/// policy and as a resource policy.
pub fn iam_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(policy) = vigil_iam::Policy::parse_str(text) else { return };
    for (principal, action, resource) in [
        ("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::bucket/key"),
        ("arn:aws:sts::444455556666:assumed-role/admin/session", "iam:PassRole", "arn:aws:iam::111122223333:role/deploy"),
        ("*", "kms:Decrypt", "*"),
    ] {
        let request = vigil_iam::Request::new(principal, action, resource, Some("111122223333".to_string()), vigil_iam::request::Context::default());
        let identity = vigil_iam::PolicySet { identity: vec![&policy], ..Default::default() };
        let _ = vigil_iam::evaluate(&request, &identity);
        let resource_policy = vigil_iam::PolicySet { resource: Some(&policy), ..Default::default() };
        let _ = vigil_iam::evaluate::decide(&request, &resource_policy);
    }
}

/// CloudTrail records the Sigma rules run over: a few built-in shapes.
fn sample_events() -> &'static [serde_json::Value] {
    static EVENTS: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        [
            r#"{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","userIdentity":{"type":"IAMUser","userName":"mallory"},"sourceIPAddress":"203.0.113.7","requestParameters":{"name":"main"}}"#,
            r#"{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","userIdentity":{"type":"Root"},"additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Success"}}"#,
            r#"{"eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","errorCode":"AccessDenied","requestParameters":{"bucketName":"logs","policy":["a","b"]},"resources":[{"ARN":"arn:aws:s3:::logs"}]}"#,
        ]
        .iter()
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect()
    })
}

/// A Sigma rule file: load (YAML, every document), compile into a rule set, and match the
/// sample events.
pub fn sigma_rule(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = vigil_trail::sigma::load_text(text, "fuzz.yml", &vigil_trail::sigma::matcher::CompileOptions::default());
    let (rules, _rejected) = vigil_trail::sigma::RuleSet::new(loaded);
    let mut matched = Vec::new();
    for event in sample_events() {
        matched.clear();
        rules.matches(&vigil_trail::Value::from_json(event), &mut matched);
    }
}

/// A CloudTrail log file's text: split into records with the reader's byte-level splitter
/// (small batches, so that records straddle batch boundaries), then parse each record.
pub fn cloudtrail_records(data: &[u8]) {
    let mut records = 0usize;
    let _ = vigil_trail::read::split_records(Cursor::new(data), "fuzz.json", 64, &mut |batch| {
        for record in batch {
            records += 1;
            let _ = vigil_trail::Value::parse(record.bytes);
        }
    });
}

/// A snapshot file (zstd-compressed JSON inventory): read it, and on success list its
/// resources.
pub fn snapshot(data: &[u8]) {
    if let Ok(inventory) = vigil_model::snapshot::from_bytes(data, "fuzz.vigil") {
        let _ = inventory.resources().len();
    }
}

/// A few findings to mute: every status, account and region level, a bucket and a group.
fn sample_findings() -> &'static [vigil_checks::Finding] {
    static FINDINGS: OnceLock<Vec<vigil_checks::Finding>> = OnceLock::new();
    FINDINGS.get_or_init(|| {
        let text = r#"[
          {"check_id":"s3_bucket_not_public","check_title":"t","service":"s3","severity":"critical","status":"FAIL","account_id":"111122223333","region":"us-east-1","resource_id":"logs","resource_arn":"arn:aws:s3:::logs","resource_type":"AWS::S3::Bucket","message":"m","evidence":{},"resource_tags":{"env":"prod"}},
          {"check_id":"ec2_security_group_admin_ports_open_to_world","check_title":"t","service":"ec2","severity":"high","status":"PASS","account_id":"111122223333","region":"eu-west-1","resource_id":"sg-1","resource_arn":"arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1","resource_type":"AWS::EC2::SecurityGroup","message":"m","evidence":{}}
        ]"#;
        serde_json::from_str(text).unwrap_or_default()
    })
}

/// The fixed inputs the targets run fuzzed data against are sound (the replay test checks
/// this, so a target cannot silently test nothing).
pub fn samples_are_sound() -> bool {
    sample_events().len() == 3 && sample_findings().len() == 2
}

/// A Prowler-format mutelist: parse it and apply it to the sample findings.
pub fn mutelist(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(mutelist) = vigil_checks::mutelist::Mutelist::parse(text, "fuzz.yaml") {
        let mut findings = sample_findings().to_vec();
        let _ = mutelist.apply(&mut findings);
    }
}

/// The cloud-aware policy file: parse it.
pub fn cloud_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = vigil_checks::policy::Policy::parse(text, "fuzz-policy.yaml");
}
