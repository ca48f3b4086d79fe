//! Report formats for findings: CSV, OCSF (findings, alerts, resources and agent events: [`ocsf`]), AWS Security Finding Format,
//! SARIF 2.1.0, JUnit XML and a self-contained HTML report. Pure: findings in, text out.

mod html;
mod machine;
pub mod ocsf;

use vigil_checks::Finding;

pub use html::{escape as escape_html, html};
pub use machine::{asff, csv, junit, sarif};
pub use ocsf::ocsf;

/// Facts about the scan that every report carries.
#[derive(Debug, Clone)]
pub struct ScanInfo {
    pub account_id: String,
    pub partition: String,
    pub regions: Vec<String>,
    pub collected_at: chrono::DateTime<chrono::Utc>,
    pub generated_at: chrono::DateTime<chrono::Utc>,
    pub vigil_version: String,
}

/// The frameworks a finding's check maps to, as `framework requirement` strings.
pub fn requirements(finding: &Finding) -> Vec<String> {
    vigil_checks::find(&finding.check_id)
        .map(|check| check.metadata().frameworks.iter().map(|(framework, requirement)| format!("{framework} {requirement}")).collect())
        .unwrap_or_default()
}

/// The check's metadata when the finding comes from the catalog (custom Rego checks do not).
pub fn metadata(finding: &Finding) -> Option<&'static vigil_checks::Metadata> {
    vigil_checks::find(&finding.check_id).map(|check| check.metadata())
}

#[cfg(test)]
pub(crate) mod test_findings {
    use std::collections::BTreeMap;

    use vigil_checks::{Finding, Severity, Status};

    use crate::ScanInfo;

    pub fn info() -> ScanInfo {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().with_timezone(&chrono::Utc);
        ScanInfo {
            account_id: "123456789012".into(),
            partition: "aws".into(),
            regions: vec!["eu-west-1".into()],
            collected_at: at,
            generated_at: at,
            vigil_version: "0.1.0".into(),
        }
    }

    /// A small set covering every status, including hostile text from AWS.
    pub fn findings() -> Vec<Finding> {
        let base = |check: &str, status: Status, id: &str| Finding {
            check_id: check.into(),
            check_title: format!("title of {check}").into(),
            service: check.split('_').next().unwrap_or_default().into(),
            severity: Severity::High,
            status,
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            resource_arn: format!("arn:aws:s3:::{id}").into(),
            resource_type: "AWS::S3::Bucket".into(),
            resource_id: id.into(),
            resource_tags: Default::default(),
            message: format!("bucket `{id}` is public").into(),
            evidence: serde_json::json!({ "PolicyStatus": { "IsPublic": true } }).into(),
            mute_reason: None,
        };
        let mut hostile = base("s3_bucket_not_public", Status::Fail, "evil");
        hostile.resource_tags = BTreeMap::from([("owner".to_string(), "<script>alert(1)</script>".to_string())]).into();
        hostile.message = "name \"quoted\", <b>bold</b> & a,comma\nnewline".into();
        let mut muted = base("s3_bucket_not_public", Status::Muted, "site");
        muted.mute_reason = Some("public website".into());
        let mut error = base("iam_root_mfa_enabled", Status::Error, "123456789012");
        error.severity = Severity::Critical;
        error.message = "could not read iam:GetAccountSummary in global: access_denied".into();
        vec![hostile, base("s3_bucket_not_public", Status::Pass, "private"), muted, error]
    }
}
