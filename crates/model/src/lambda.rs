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
