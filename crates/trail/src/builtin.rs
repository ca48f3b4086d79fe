//! Built-in detections: Sigma rules written for vigil (CIS AWS Foundations monitoring families
//! and CloudTrail-only equivalents of well-known threat findings), embedded in the binary.
//!
//! Each rule is a YAML file under `crates/trail/rules/` with a stable `id`; ids are never
//! reused or renamed once released.

use crate::sigma::{CompileOptions, Loaded, load_text};

/// The built-in rule files: (file name, YAML text).
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    ("vigil_cis_cloudtrail_changes.yml", include_str!("../rules/vigil_cis_cloudtrail_changes.yml")),
    ("vigil_cis_config_changes.yml", include_str!("../rules/vigil_cis_config_changes.yml")),
    ("vigil_cis_console_login_failures.yml", include_str!("../rules/vigil_cis_console_login_failures.yml")),
    ("vigil_cis_console_login_without_mfa.yml", include_str!("../rules/vigil_cis_console_login_without_mfa.yml")),
    ("vigil_cis_iam_policy_changes.yml", include_str!("../rules/vigil_cis_iam_policy_changes.yml")),
    ("vigil_cis_kms_key_disabled_or_deleted.yml", include_str!("../rules/vigil_cis_kms_key_disabled_or_deleted.yml")),
    ("vigil_cis_nacl_changes.yml", include_str!("../rules/vigil_cis_nacl_changes.yml")),
    ("vigil_cis_network_gateway_changes.yml", include_str!("../rules/vigil_cis_network_gateway_changes.yml")),
    ("vigil_cis_organizations_changes.yml", include_str!("../rules/vigil_cis_organizations_changes.yml")),
    ("vigil_cis_root_account_usage.yml", include_str!("../rules/vigil_cis_root_account_usage.yml")),
    ("vigil_cis_route_table_changes.yml", include_str!("../rules/vigil_cis_route_table_changes.yml")),
    ("vigil_cis_s3_bucket_policy_changes.yml", include_str!("../rules/vigil_cis_s3_bucket_policy_changes.yml")),
    ("vigil_cis_security_group_changes.yml", include_str!("../rules/vigil_cis_security_group_changes.yml")),
    ("vigil_cis_unauthorized_api_calls.yml", include_str!("../rules/vigil_cis_unauthorized_api_calls.yml")),
    ("vigil_cis_vpc_changes.yml", include_str!("../rules/vigil_cis_vpc_changes.yml")),
    ("vigil_threat_instance_credentials_outside.yml", include_str!("../rules/vigil_threat_instance_credentials_outside.yml")),
    ("vigil_threat_instance_credentials_used.yml", include_str!("../rules/vigil_threat_instance_credentials_used.yml")),
    ("vigil_threat_logging_disabled.yml", include_str!("../rules/vigil_threat_logging_disabled.yml")),
    ("vigil_threat_long_term_credentials_used.yml", include_str!("../rules/vigil_threat_long_term_credentials_used.yml")),
    ("vigil_threat_password_policy_weakened.yml", include_str!("../rules/vigil_threat_password_policy_weakened.yml")),
    ("vigil_threat_pentest_user_agent.yml", include_str!("../rules/vigil_threat_pentest_user_agent.yml")),
    ("vigil_threat_public_bucket_access.yml", include_str!("../rules/vigil_threat_public_bucket_access.yml")),
    ("vigil_threat_public_snapshot.yml", include_str!("../rules/vigil_threat_public_snapshot.yml")),
    ("vigil_threat_snapshot_shared.yml", include_str!("../rules/vigil_threat_snapshot_shared.yml")),
];

/// Compiles the built-in rules.
pub fn load(options: &CompileOptions) -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in BUILTIN_RULES {
        loaded.extend(load_text(text, &format!("builtin:{name}"), options));
    }
    loaded
}

#[cfg(test)]
mod tests;
