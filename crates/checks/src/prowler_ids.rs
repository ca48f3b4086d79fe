//! Prowler check ids that are equivalent to vigil checks, so Prowler mutelists keep working.
//!
//! One row per vigil check: (vigil id, the Prowler check ids that assess the same thing). Only
//! true equivalents are listed (same resource, same condition), each chosen after reading the
//! Prowler check's metadata; a check is left out rather than guessed. Where Prowler splits one
//! vigil condition in two (SSH and RDP, ACL and policy), every part is listed, since muting a
//! part in Prowler mutes the same resource here. A Prowler id maps to at most one vigil check.
//! `crates/checks/data/prowler-aws-checks.txt` lists every Prowler AWS check id (the tests
//! below reject an alias that is not one). Check writers: add your check's row here.

/// (vigil check id, equivalent Prowler check ids).
pub static PROWLER_IDS: &[(&str, &[&str])] = &[
    ("iam_root_mfa_enabled", &["iam_root_mfa_enabled"]),
    ("iam_root_access_keys_absent", &["iam_no_root_access_key"]),
    ("iam_root_hardware_mfa_enabled", &["iam_root_hardware_mfa_enabled"]),
    ("iam_user_console_mfa", &["iam_user_mfa_enabled_console_access"]),
    ("iam_password_policy_minimum_length_14", &["iam_password_policy_minimum_length_14"]),
    ("iam_password_policy_reuse_prevention_24", &["iam_password_policy_reuse_24"]),
    ("iam_password_policy_uppercase", &["iam_password_policy_uppercase"]),
    ("iam_password_policy_lowercase", &["iam_password_policy_lowercase"]),
    ("iam_password_policy_symbol", &["iam_password_policy_symbol"]),
    ("iam_password_policy_number", &["iam_password_policy_number"]),
    ("iam_password_policy_expires_passwords_within_90_days", &["iam_password_policy_expires_passwords_within_90_days_or_less"]),
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
    ("s3_bucket_secure_transport_required", &["s3_bucket_secure_transport_policy"]),
    ("s3_bucket_mfa_delete_enabled", &["s3_bucket_no_mfa_delete"]),
    ("s3_bucket_public_access_block_enabled", &["s3_bucket_level_public_access_block"]),
    ("s3_bucket_versioning_enabled", &["s3_bucket_object_versioning"]),
    ("s3_bucket_default_encryption_enabled", &["s3_bucket_default_encryption"]),
    ("s3_bucket_kms_encryption", &["s3_bucket_kms_encryption"]),
    ("s3_bucket_server_access_logging_enabled", &["s3_bucket_server_access_logging_enabled"]),
    ("s3_bucket_acls_disabled", &["s3_bucket_acl_prohibited"]),
    ("s3_bucket_lifecycle_configured", &["s3_bucket_lifecycle_enabled"]),
    ("s3_bucket_object_lock_enabled", &["s3_bucket_object_lock"]),
    (
        "ec2_security_group_admin_ports_open_to_world",
        &["ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22", "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389"],
    ),
    ("ec2_default_security_group_restricts_all", &["ec2_securitygroup_default_restrict_traffic"]),
    ("ec2_ebs_snapshot_not_public", &["ec2_ebs_public_snapshot"]),
    ("ec2_instance_imdsv2_required", &["ec2_instance_imdsv2_enabled"]),
    ("ec2_instance_no_public_ip", &["ec2_instance_public_ip"]),
    ("ec2_instance_profile_attached", &["ec2_instance_profile_attached"]),
    ("ec2_launch_template_imdsv2_required", &["ec2_launch_template_imdsv2_required"]),
    ("ec2_launch_template_no_public_ip", &["ec2_launch_template_no_public_ip"]),
    ("ec2_account_imdsv2_default_required", &["ec2_instance_account_imdsv2_enabled"]),
    ("ec2_ebs_encryption_by_default", &["ec2_ebs_default_encryption"]),
    ("ec2_ebs_volume_encrypted", &["ec2_ebs_volume_encryption"]),
    ("ec2_ebs_snapshot_encrypted", &["ec2_ebs_snapshots_encrypted"]),
    ("ec2_ami_not_public", &["ec2_ami_public"]),
    ("ec2_elastic_ip_associated", &["ec2_elastic_ip_unassigned"]),
    ("ec2_security_group_no_all_traffic_from_world", &["ec2_securitygroup_allow_ingress_from_internet_to_all_ports"]),
    ("ec2_network_acl_admin_ports_not_open_to_world", &["ec2_networkacl_allow_ingress_tcp_port_22", "ec2_networkacl_allow_ingress_tcp_port_3389"]),
    ("ec2_network_acl_in_use", &["ec2_networkacl_unused"]),
    ("vpc_flow_logs_enabled", &["vpc_flow_logs_enabled"]),
    ("vpc_peering_routes_least_access", &["vpc_peering_routing_tables_with_least_privilege"]),
    ("vpc_subnet_no_auto_assign_public_ip", &["vpc_subnet_no_public_ip_by_default"]),
    ("cloudtrail_multi_region_enabled", &["cloudtrail_multi_region_enabled", "cloudtrail_multi_region_enabled_logging_management_events"]),
    ("cloudtrail_log_file_validation_enabled", &["cloudtrail_log_file_validation_enabled"]),
    ("cloudtrail_kms_encryption_enabled", &["cloudtrail_kms_encryption_enabled"]),
    ("cloudtrail_cloudwatch_logs_integration", &["cloudtrail_cloudwatch_logging_enabled"]),
    ("cloudtrail_bucket_not_public", &["cloudtrail_logs_s3_bucket_is_not_publicly_accessible"]),
    ("cloudtrail_bucket_access_logging_enabled", &["cloudtrail_logs_s3_bucket_access_logging_enabled"]),
    ("cloudtrail_s3_data_events_write_enabled", &["cloudtrail_s3_dataevents_write_enabled"]),
    ("cloudtrail_s3_data_events_read_enabled", &["cloudtrail_s3_dataevents_read_enabled"]),
    ("cloudwatch_alarm_unauthorized_api_calls", &["cloudwatch_log_metric_filter_unauthorized_api_calls"]),
    ("cloudwatch_alarm_console_signin_without_mfa", &["cloudwatch_log_metric_filter_sign_in_without_mfa"]),
    ("cloudwatch_alarm_root_usage", &["cloudwatch_log_metric_filter_root_usage"]),
    ("cloudwatch_alarm_iam_policy_changes", &["cloudwatch_log_metric_filter_policy_changes"]),
    ("cloudwatch_alarm_cloudtrail_configuration_changes", &["cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled"]),
    ("cloudwatch_alarm_console_authentication_failures", &["cloudwatch_log_metric_filter_authentication_failures"]),
    ("cloudwatch_alarm_cmk_disable_or_deletion", &["cloudwatch_log_metric_filter_disable_or_scheduled_deletion_of_kms_cmk"]),
    ("cloudwatch_alarm_s3_bucket_policy_changes", &["cloudwatch_log_metric_filter_for_s3_bucket_policy_changes"]),
    ("cloudwatch_alarm_config_changes", &["cloudwatch_log_metric_filter_and_alarm_for_aws_config_configuration_changes_enabled"]),
    ("cloudwatch_alarm_security_group_changes", &["cloudwatch_log_metric_filter_security_group_changes"]),
    ("cloudwatch_alarm_nacl_changes", &["cloudwatch_changes_to_network_acls_alarm_configured"]),
    ("cloudwatch_alarm_network_gateway_changes", &["cloudwatch_changes_to_network_gateways_alarm_configured"]),
    ("cloudwatch_alarm_route_table_changes", &["cloudwatch_changes_to_network_route_tables_alarm_configured"]),
    ("cloudwatch_alarm_vpc_changes", &["cloudwatch_changes_to_vpcs_alarm_configured"]),
    ("cloudwatch_alarm_organizations_changes", &["cloudwatch_log_metric_filter_aws_organizations_changes"]),
    ("kms_key_rotation_enabled", &["kms_cmk_rotation_enabled"]),
    ("kms_key_policy_not_public", &["kms_key_not_publicly_accessible"]),
    ("kms_key_not_pending_deletion", &["kms_cmk_not_deleted_unintentionally"]),
    ("config_recorder_enabled", &["config_recorder_all_regions_enabled"]),
    ("sns_topic_encrypted_at_rest", &["sns_topics_kms_encryption_at_rest_enabled"]),
    ("sns_topic_policy_not_public", &["sns_topics_not_publicly_accessible"]),
    ("sns_subscription_no_plain_http", &["sns_subscription_not_using_http_endpoints"]),
    ("logs_log_group_retention_at_least_365_days", &["cloudwatch_log_group_retention_policy_specific_days_enabled"]),
    ("logs_log_group_kms_encrypted", &["cloudwatch_log_group_kms_encryption_enabled"]),
    ("organizations_account_is_member", &["organizations_account_part_of_organizations"]),
    ("sqs_queue_encrypted_at_rest", &["sqs_queues_server_side_encryption_enabled"]),
    ("sqs_queue_policy_not_public", &["sqs_queues_not_publicly_accessible"]),
    ("kinesis_stream_encrypted_at_rest", &["kinesis_stream_encrypted_at_rest"]),
    ("kinesis_stream_retention_adequate", &["kinesis_stream_data_retention_period"]),
    ("lambda_function_runtime_supported", &["awslambda_function_using_supported_runtimes"]),
    ("lambda_function_policy_not_public", &["awslambda_function_not_publicly_accessible"]),
    ("lambda_function_url_auth_required", &["awslambda_function_url_public"]),
    ("lambda_function_no_secrets_in_environment", &["awslambda_function_no_secrets_in_variables"]),
    ("lambda_function_in_vpc", &["awslambda_function_inside_vpc"]),
    ("lambda_function_dead_letter_configured", &["awslambda_function_no_dead_letter_queue"]),
    ("cloudfront_distribution_viewer_https", &["cloudfront_distributions_https_enabled"]),
    ("cloudfront_distribution_origin_https", &["cloudfront_distributions_origin_traffic_encrypted"]),
    ("cloudfront_distribution_origin_tls", &["cloudfront_distributions_using_deprecated_ssl_protocols"]),
    ("cloudfront_distribution_logging_enabled", &["cloudfront_distributions_logging_enabled"]),
    ("cloudfront_distribution_waf_enabled", &["cloudfront_distributions_using_waf"]),
    ("cloudfront_distribution_default_root_object", &["cloudfront_distributions_default_root_object"]),
    ("cloudfront_distribution_s3_origin_access_control", &["cloudfront_distributions_s3_origin_access_control"]),
    ("cloudfront_distribution_sni", &["cloudfront_distributions_https_sni_enabled"]),
    ("cloudfront_distribution_field_level_encryption", &["cloudfront_distributions_field_level_encryption_enabled"]),
    ("route53_public_zone_query_logging", &["route53_public_hosted_zones_cloudwatch_logging_enabled"]),
    ("route53_domain_transfer_lock", &["route53_domains_transferlock_enabled"]),
    ("route53_domain_privacy_protection", &["route53_domains_privacy_protection_enabled"]),
    ("ses_identity_dkim_enabled", &["ses_identity_dkim_enabled"]),
    ("ses_identity_policy_not_public", &["ses_identity_not_publicly_accessible"]),
    ("guardduty_enabled", &["guardduty_is_enabled"]),
    ("guardduty_s3_protection_enabled", &["guardduty_s3_protection_enabled"]),
    ("guardduty_eks_audit_logs_enabled", &["guardduty_eks_audit_log_enabled"]),
    ("guardduty_rds_protection_enabled", &["guardduty_rds_protection_enabled"]),
    ("guardduty_lambda_protection_enabled", &["guardduty_lambda_protection_enabled"]),
    ("guardduty_malware_protection_enabled", &["guardduty_ec2_malware_protection_enabled"]),
    ("guardduty_runtime_monitoring_enabled", &["guardduty_runtime_monitoring_enabled"]),
    ("securityhub_enabled", &["securityhub_enabled"]),
    ("secretsmanager_rotation_enabled", &["secretsmanager_automatic_rotation_enabled"]),
    ("secretsmanager_rotated_recently", &["secretsmanager_secret_rotated_periodically"]),
    ("secretsmanager_policy_not_public", &["secretsmanager_not_publicly_accessible"]),
    ("secretsmanager_secret_used", &["secretsmanager_secret_unused"]),
    ("ecr_repository_scan_on_push", &["ecr_repositories_scan_images_on_push_enabled"]),
    ("ecr_repository_tag_immutable", &["ecr_repositories_tag_immutability"]),
    ("ecr_repository_lifecycle_policy", &["ecr_repositories_lifecycle_policy_enabled"]),
    ("ecr_repository_policy_not_public", &["ecr_repositories_not_publicly_accessible"]),
    ("elbv2_listeners_encrypted", &["elbv2_ssl_listeners"]),
    ("elbv2_access_logs_enabled", &["elbv2_logging_enabled"]),
    ("elbv2_deletion_protection_enabled", &["elbv2_deletion_protection"]),
    ("elbv2_drop_invalid_header_fields", &["elbv2_alb_drop_invalid_header_fields_enabled"]),
    ("elbv2_desync_mitigation_mode", &["elbv2_desync_mitigation_mode"]),
    ("elbv2_multiple_az", &["elbv2_is_in_multiple_az"]),
    ("elb_listeners_encrypted", &["elb_ssl_listeners"]),
    ("elb_acm_certificate", &["elb_ssl_listeners_use_acm_certificate"]),
    ("elb_access_logs_enabled", &["elb_logging_enabled"]),
    ("elb_cross_zone_load_balancing_enabled", &["elb_cross_zone_load_balancing_enabled"]),
    ("elb_connection_draining_enabled", &["elb_connection_draining_enabled"]),
    ("elb_multiple_az", &["elb_is_in_multiple_az"]),
    ("rds_instance_storage_encrypted", &["rds_instance_storage_encrypted"]),
    ("rds_instance_not_publicly_accessible", &["rds_instance_no_public_access"]),
    ("rds_instance_multi_az", &["rds_instance_multi_az"]),
    ("rds_instance_backup_enabled", &["rds_instance_backup_enabled"]),
    ("rds_instance_deletion_protection", &["rds_instance_deletion_protection"]),
    ("rds_instance_minor_version_upgrade", &["rds_instance_minor_version_upgrade_enabled"]),
    ("rds_instance_iam_authentication", &["rds_instance_iam_authentication_enabled"]),
    ("rds_instance_log_exports_enabled", &["rds_instance_integration_cloudwatch_logs"]),
    ("rds_instance_no_default_port", &["rds_instance_non_default_port"]),
    ("rds_instance_enhanced_monitoring", &["rds_instance_enhanced_monitoring_enabled"]),
    ("rds_instance_copy_tags_to_snapshot", &["rds_instance_copy_tags_to_snapshots"]),
    ("rds_instance_custom_admin_username", &["rds_instance_default_admin"]),
    ("rds_instance_transport_encrypted", &["rds_instance_transport_encrypted"]),
    ("rds_snapshot_not_public", &["rds_snapshots_public_access"]),
    ("rds_snapshot_encrypted", &["rds_snapshots_encrypted"]),
    ("rds_cluster_storage_encrypted", &["rds_cluster_storage_encrypted"]),
    ("rds_cluster_deletion_protection", &["rds_cluster_deletion_protection"]),
    ("rds_cluster_multi_az", &["rds_cluster_multi_az"]),
    ("rds_cluster_iam_authentication", &["rds_cluster_iam_authentication_enabled"]),
    ("rds_cluster_copy_tags_to_snapshot", &["rds_cluster_copy_tags_to_snapshots"]),
    ("redshift_cluster_encrypted", &["redshift_cluster_encrypted_at_rest"]),
    ("redshift_cluster_not_publicly_accessible", &["redshift_cluster_public_access"]),
    ("redshift_cluster_require_ssl", &["redshift_cluster_in_transit_encryption_enabled"]),
    ("redshift_cluster_audit_logging", &["redshift_cluster_audit_logging"]),
    ("redshift_cluster_automated_snapshots", &["redshift_cluster_automated_snapshot"]),
    ("redshift_cluster_enhanced_vpc_routing", &["redshift_cluster_enhanced_vpc_routing"]),
    ("redshift_cluster_version_upgrade", &["redshift_cluster_automatic_upgrades"]),
    ("redshift_cluster_custom_admin_username", &["redshift_cluster_non_default_username"]),
    ("redshift_cluster_custom_database_name", &["redshift_cluster_non_default_database_name"]),
    ("elasticache_replication_group_encrypted_at_rest", &["elasticache_redis_cluster_rest_encryption_enabled"]),
    ("elasticache_replication_group_encrypted_in_transit", &["elasticache_redis_cluster_in_transit_encryption_enabled"]),
    ("elasticache_replication_group_auth_enabled", &["elasticache_redis_replication_group_auth_enabled"]),
    ("elasticache_replication_group_automatic_failover", &["elasticache_redis_cluster_automatic_failover_enabled"]),
    ("elasticache_redis_backup_enabled", &["elasticache_redis_cluster_backup_enabled"]),
    ("dynamodb_table_pitr_enabled", &["dynamodb_tables_pitr_enabled"]),
    ("dynamodb_table_deletion_protection", &["dynamodb_table_deletion_protection_enabled"]),
    ("autoscaling_group_multiple_az", &["autoscaling_group_multiple_az"]),
    ("autoscaling_group_elb_health_check", &["autoscaling_group_elb_health_check_enabled"]),
    ("autoscaling_group_imdsv2_required", &["autoscaling_group_launch_configuration_requires_imdsv2"]),
    ("autoscaling_group_uses_launch_template", &["autoscaling_group_using_ec2_launch_template"]),
    ("autoscaling_launch_configuration_no_public_ip", &["autoscaling_group_launch_configuration_no_public_ip"]),
    ("acm_certificate_rsa_key_length", &["acm_certificates_with_secure_key_algorithms"]),
    ("acm_certificate_transparency_logging", &["acm_certificates_transparency_logs_enabled"]),
];

/// The Prowler ids equivalent to a vigil check (empty when none is known).
pub fn prowler_ids(vigil_id: &str) -> &'static [&'static str] {
    PROWLER_IDS.iter().find(|(id, _)| *id == vigil_id).map(|(_, prowler)| *prowler).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::PROWLER_IDS;

    /// Every Prowler AWS check id (Prowler 5.46.0), from `data/prowler-aws-checks.txt`.
    fn prowler_checks() -> HashSet<&'static str> {
        include_str!("../data/prowler-aws-checks.txt").lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).collect()
    }

    #[test]
    fn every_aliased_vigil_id_is_a_check_of_the_catalog() {
        for (vigil_id, prowler) in PROWLER_IDS {
            assert!(crate::find(vigil_id).is_some(), "`{vigil_id}` in prowler_ids.rs is not a check");
            assert!(!prowler.is_empty());
        }
    }

    #[test]
    fn every_alias_is_a_real_prowler_aws_check() {
        let checks = prowler_checks();
        assert!(checks.len() > 600, "the Prowler check list looks truncated");
        let unknown: Vec<&str> = PROWLER_IDS.iter().flat_map(|(_, prowler)| prowler.iter().copied()).filter(|id| !checks.contains(id)).collect();
        assert!(unknown.is_empty(), "not Prowler AWS check ids: {unknown:?}");
    }

    /// A Prowler id names one condition; mapping it to two vigil checks would let one Prowler
    /// mute silence two different verdicts.
    #[test]
    fn no_prowler_id_maps_to_two_vigil_checks() {
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for (vigil_id, prowler) in PROWLER_IDS {
            for id in *prowler {
                if let Some(previous) = owner.insert(id, vigil_id) {
                    panic!("`{id}` maps to both `{previous}` and `{vigil_id}`");
                }
            }
        }
        let vigil: HashSet<&str> = PROWLER_IDS.iter().map(|(vigil_id, _)| *vigil_id).collect();
        assert_eq!(vigil.len(), PROWLER_IDS.len(), "a vigil check has two rows");
    }

    /// The reviewed table is not allowed to shrink back to the first 25 aliases unnoticed.
    #[test]
    fn the_alias_table_covers_the_reviewed_equivalents() {
        assert!(PROWLER_IDS.len() >= 180, "{} rows", PROWLER_IDS.len());
        for (vigil_id, prowler_id) in [
            ("rds_instance_not_publicly_accessible", "rds_instance_no_public_access"),
            ("cloudwatch_alarm_root_usage", "cloudwatch_log_metric_filter_root_usage"),
            ("ec2_network_acl_admin_ports_not_open_to_world", "ec2_networkacl_allow_ingress_tcp_port_3389"),
        ] {
            assert!(super::prowler_ids(vigil_id).contains(&prowler_id), "{vigil_id}");
        }
    }
}
