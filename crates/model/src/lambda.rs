//! Lambda functions: configuration, resource policy, function URLs.
//!
//! Environment variable values are never stored: collection keeps each variable's name, the
//! length of its value and which secret pattern (if any) the value matched, so a snapshot
//! never carries a secret.

use serde::{Deserialize, Serialize};

use crate::Tags;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Function {
    pub function_name: String,
    pub function_arn: String,
    /// Absent for container-image functions.
    pub runtime: Option<String>,
    /// `Zip` or `Image`.
    pub package_type: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub last_modified: Option<String>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    pub vpc_config: Option<FunctionVpcConfig>,
    /// `Active` or `PassThrough`.
    pub tracing_mode: Option<String>,
    /// DeadLetterConfig.TargetArn.
    pub dead_letter_target_arn: Option<String>,
    /// Environment variables, redacted (see the module documentation).
    pub environment_variables: Vec<EnvironmentVariable>,
    /// GetPolicy, decoded; `None` when the function has no resource policy.
    pub policy: Option<serde_json::Value>,
    /// ListFunctionUrlConfigs.
    pub function_url_configs: Vec<FunctionUrlConfig>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FunctionVpcConfig {
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

/// One environment variable without its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EnvironmentVariable {
    pub name: String,
    pub value_length: usize,
    /// The secret pattern the value matched (e.g. `aws-access-key-id`), if any.
    pub value_pattern: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FunctionUrlConfig {
    pub function_url: String,
    /// `NONE` (public) or `AWS_IAM`.
    pub auth_type: Option<String>,
}

/// Which well-known secret shape a value has, if any. Pure and conservative: it recognises
/// formats with a distinctive prefix or structure, not "random-looking" strings.
pub fn secret_value_pattern(value: &str) -> Option<&'static str> {
    let value = value.trim();
    let alnum_upper = |text: &str| text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if value.len() == 20 && (value.starts_with("AKIA") || value.starts_with("ASIA")) && alnum_upper(value) {
        return Some("aws-access-key-id");
    }
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("private-key");
    }
    let prefixes: &[(&str, &str)] = &[
        ("ghp_", "github-token"),
        ("gho_", "github-token"),
        ("ghs_", "github-token"),
        ("github_pat_", "github-token"),
        ("glpat-", "gitlab-token"),
        ("xoxb-", "slack-token"),
        ("xoxp-", "slack-token"),
        ("sk_live_", "stripe-secret-key"),
        ("rk_live_", "stripe-secret-key"),
        ("SG.", "sendgrid-api-key"),
        ("AIza", "google-api-key"),
        ("npm_", "npm-token"),
    ];
    if let Some((_, pattern)) = prefixes.iter().find(|(prefix, _)| value.starts_with(prefix) && value.len() >= prefix.len() + 16) {
        return Some(pattern);
    }
    // A URL with a password in its user info: scheme://user:password@host.
    if let Some((_, rest)) = value.split_once("://")
        && let Some((user_info, _)) = rest.split_once('@')
        && user_info.split_once(':').is_some_and(|(_, password)| !password.is_empty())
    {
        return Some("url-with-password");
    }
    // A JSON Web Token: three base64url segments, the first a JSON header.
    let segments: Vec<&str> = value.split('.').collect();
    if segments.len() == 3 && value.starts_with("eyJ") && segments.iter().all(|segment| segment.len() >= 8) {
        return Some("json-web-token");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::secret_value_pattern;

    #[test]
    fn secret_shapes_are_recognised_and_ordinary_values_are_not() {
        let cases: &[(&str, Option<&str>)] = &[
            ("AKIAIOSFODNN7EXAMPLE", Some("aws-access-key-id")),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", Some("private-key")),
            ("ghp_0123456789abcdefghijABCDEFGHIJ", Some("github-token")),
            ("postgres://app:s3cret@db.internal:5432/app", Some("url-with-password")),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk", Some("json-web-token")),
            ("https://example.com/path", None),
            ("production", None),
            ("AKIA", None),
            ("", None),
        ];
        for (value, expected) in cases {
            assert_eq!(secret_value_pattern(value), *expected, "{value}");
        }
    }
}
