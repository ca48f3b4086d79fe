//! Prowler check ids that are equivalent to vigil checks, so Prowler mutelists keep working.
//!
//! One row per vigil check: (vigil id, the Prowler check ids that assess the same thing).
//! Only list true equivalents (same resource, same condition); leave a check out rather than
//! guess. Check writers: add your check's row here.

/// (vigil check id, equivalent Prowler check ids).
pub static PROWLER_IDS: &[(&str, &[&str])] = &[
    ("iam_root_mfa_enabled", &["iam_root_mfa_enabled"]),
    ("iam_root_access_keys_absent", &["iam_no_root_access_key"]),
    ("iam_root_hardware_mfa_enabled", &["iam_root_hardware_mfa_enabled"]),
    ("iam_user_console_mfa", &["iam_user_mfa_enabled_console_access"]),
    ("iam_password_policy_minimum_length_14", &["iam_password_policy_minimum_length_14"]),
    (
        "iam_policy_no_full_admin_privileges",
        &["iam_aws_attached_policy_no_administrative_privileges", "iam_customer_attached_policy_no_administrative_privileges"],
    ),
    ("iam_support_role_exists", &["iam_support_role_created"]),
    ("iam_cloudshell_full_access_not_attached", &["iam_policy_cloudshell_admin_not_attached"]),
    ("iam_server_certificate_not_expired", &["iam_no_expired_server_certificates_stored"]),
    ("iam_user_single_active_access_key", &["iam_user_two_active_access_key"]),
    ("iam_user_access_keys_rotated_90_days", &["iam_rotate_access_key_90_days"]),
    ("iam_user_no_directly_attached_policies", &["iam_policy_attached_only_to_group_or_roles"]),
    ("iam_user_no_unused_access_key_with_console_access", &["iam_user_no_setup_initial_access_key"]),
    ("iam_user_credentials_unused_45_days", &["iam_user_accesskey_unused", "iam_user_console_access_unused"]),
    ("s3_bucket_not_public", &["s3_bucket_public_access", "s3_bucket_public_list_acl", "s3_bucket_public_write_acl", "s3_bucket_policy_public_write_access"]),
    ("s3_account_public_access_block", &["s3_account_level_public_access_blocks"]),
    (
        "ec2_security_group_admin_ports_open_to_world",
        &["ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22", "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389"],
    ),
    ("ec2_default_security_group_restricts_all", &["ec2_securitygroup_default_restrict_traffic"]),
    ("ec2_ebs_snapshot_not_public", &["ec2_ebs_public_snapshot"]),
    ("cloudtrail_multi_region_enabled", &["cloudtrail_multi_region_enabled"]),
    ("kms_key_rotation_enabled", &["kms_cmk_rotation_enabled"]),
    ("config_recorder_enabled", &["config_recorder_all_regions_enabled"]),
    ("kinesis_stream_encrypted_at_rest", &["kinesis_stream_encrypted_at_rest"]),
    ("sqs_queue_encrypted_at_rest", &["sqs_queues_server_side_encryption_enabled"]),
    ("sqs_queue_policy_not_public", &["sqs_queues_not_publicly_accessible"]),
];

/// The Prowler ids equivalent to a vigil check (empty when none is known).
pub fn prowler_ids(vigil_id: &str) -> &'static [&'static str] {
    PROWLER_IDS.iter().find(|(id, _)| *id == vigil_id).map(|(_, prowler)| *prowler).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_aliased_vigil_id_is_a_check_of_the_catalog() {
        for (vigil_id, prowler) in super::PROWLER_IDS {
            assert!(crate::find(vigil_id).is_some(), "`{vigil_id}` in prowler_ids.rs is not a check");
            assert!(!prowler.is_empty());
        }
    }
}
