//! The explicit list of checks. One file per family; each check is a `static` [`FnCheck`]
//! with its metadata and its tests beside it. Ids are stable: never rename one.

mod access;
mod account_services;
mod acm;
mod agents;
mod ami;
pub(crate) mod attack_paths;
mod autoscaling;
mod cloudfront;
mod cloudtrail;
mod dynamodb;
mod ec2;
mod ec2_instances;
mod ecr;
mod elasticache;
mod elb;
mod exposure;
mod guardduty;
mod iam;
mod iam_credentials;
mod iam_policies;
mod kinesis;
mod lambda;
mod logging;
mod monitoring;
mod rds;
mod redshift;
mod route53;
mod s3;
mod s3_config;
mod secretsmanager;
mod securityhub;
mod sensitive;
mod ses;
mod sovereignty;
mod sqs;
mod support;
#[cfg(test)]
pub(crate) mod test_support;
mod vpc;

use crate::context::Context;
use crate::finding::Finding;
use crate::{Check, Metadata};

/// A check made of its metadata and a plain function.
pub struct FnCheck {
    pub metadata: Metadata,
    pub run: fn(&Metadata, &Context<'_>, &mut Vec<Finding>),
}

impl Check for FnCheck {
    fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    fn run(&self, context: &Context<'_>, findings: &mut Vec<Finding>) {
        context.run_check(&self.metadata, findings, |findings| (self.run)(&self.metadata, context, findings));
    }
}

/// Every check vigil ships, in catalog order.
pub static CHECKS: &[&dyn Check] = &[
    &access::ADMIN_USER_WITHOUT_MFA,
    &access::ROLE_ASSUMABLE_BY_UNKNOWN_ACCOUNT,
    &access::PRIVILEGE_ESCALATION_PATH,
    &attack_paths::INTERNET_TO_ADMIN_OR_SENSITIVE_DATA,
    &iam::ROOT_MFA_ENABLED,
    &iam::ROOT_ACCESS_KEYS_ABSENT,
    &iam::USER_CONSOLE_MFA,
    &iam::PASSWORD_POLICY_MINIMUM_LENGTH,
    &iam_credentials::ROOT_HARDWARE_MFA_ENABLED,
    &iam_credentials::ROOT_NOT_USED_RECENTLY,
    &iam_credentials::PASSWORD_POLICY_REUSE_PREVENTION,
    &iam_credentials::PASSWORD_POLICY_UPPERCASE,
    &iam_credentials::PASSWORD_POLICY_LOWERCASE,
    &iam_credentials::PASSWORD_POLICY_SYMBOL,
    &iam_credentials::PASSWORD_POLICY_NUMBER,
    &iam_credentials::PASSWORD_POLICY_EXPIRY,
    &iam_credentials::USER_CREDENTIALS_UNUSED,
    &iam_credentials::USER_SINGLE_ACTIVE_ACCESS_KEY,
    &iam_credentials::USER_ACCESS_KEYS_ROTATED,
    &iam_credentials::USER_NO_UNUSED_INITIAL_ACCESS_KEY,
    &iam_credentials::USER_NO_DIRECT_POLICIES,
    &iam_credentials::USER_MFA_ENABLED,
    &iam_policies::POLICY_NO_FULL_ADMIN,
    &iam_policies::SUPPORT_ROLE_EXISTS,
    &iam_policies::CLOUDSHELL_FULL_ACCESS_RESTRICTED,
    &iam_policies::SERVER_CERTIFICATE_NOT_EXPIRED,
    &iam_policies::SERVER_CERTIFICATE_NOT_EXPIRING,
    &iam_policies::SAML_PROVIDER_VALID,
    &s3::BUCKET_NOT_PUBLIC,
    &s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    &s3_config::BUCKET_SECURE_TRANSPORT,
    &s3_config::BUCKET_MFA_DELETE,
    &s3_config::BUCKET_PUBLIC_ACCESS_BLOCK,
    &s3_config::BUCKET_VERSIONING,
    &s3_config::BUCKET_DEFAULT_ENCRYPTION,
    &s3_config::BUCKET_KMS_ENCRYPTION,
    &s3_config::BUCKET_ACCESS_LOGGING,
    &s3_config::BUCKET_ACLS_DISABLED,
    &s3_config::BUCKET_POLICY_STATUS_NOT_PUBLIC,
    &s3_config::BUCKET_CORS_RESTRICTED,
    &s3_config::BUCKET_WEBSITE_DISABLED,
    &s3_config::BUCKET_LIFECYCLE,
    &s3_config::BUCKET_REPLICATION,
    &s3_config::BUCKET_OBJECT_LOCK,
    &s3_config::BUCKET_CROSS_ACCOUNT_RESTRICTED,
    &sensitive::BUCKET_SAMPLED_OBJECTS_NO_SENSITIVE_DATA,
    &ec2::SECURITY_GROUP_ADMIN_PORTS_OPEN_TO_WORLD,
    &ec2::DEFAULT_SECURITY_GROUP_RESTRICTS_ALL,
    &ec2::EBS_SNAPSHOT_NOT_PUBLIC,
    &ec2_instances::INSTANCE_IMDSV2_REQUIRED,
    &agents::INSTANCE_AGENT_ENROLLED,
    &ec2_instances::INSTANCE_NO_PUBLIC_IP,
    &ec2_instances::INSTANCE_PROFILE_ATTACHED,
    &ec2_instances::INSTANCE_NOT_IN_DEFAULT_VPC,
    &ec2_instances::LAUNCH_TEMPLATE_IMDSV2,
    &ec2_instances::LAUNCH_TEMPLATE_NO_PUBLIC_IP,
    &ec2_instances::LAUNCH_TEMPLATE_EBS_ENCRYPTED,
    &ec2_instances::ACCOUNT_IMDSV2_DEFAULT,
    &ec2_instances::EBS_ENCRYPTION_BY_DEFAULT,
    &ec2_instances::EBS_VOLUME_ENCRYPTED,
    &ec2_instances::EBS_SNAPSHOT_ENCRYPTED,
    &ec2_instances::AMI_NOT_PUBLIC,
    &ec2_instances::ELASTIC_IP_ATTACHED,
    &sensitive::INSTANCE_USER_DATA_NO_SECRETS,
    &sensitive::LAUNCH_TEMPLATE_USER_DATA_NO_SECRETS,
    &sensitive::LAUNCH_CONFIGURATION_USER_DATA_NO_SECRETS,
    &ami::INSTANCE_AMI_CURRENT,
    &ami::LAUNCH_TEMPLATE_AMI_CURRENT,
    &vpc::SECURITY_GROUP_ALL_TRAFFIC_OPEN,
    &vpc::SECURITY_GROUP_HIGH_RISK_PORTS,
    &vpc::SECURITY_GROUP_ONLY_AUTHORIZED_PUBLIC_PORTS,
    &vpc::SECURITY_GROUP_ADMIN_PORTS_ALLOWED_SOURCES,
    &vpc::NETWORK_ACL_ADMIN_PORTS,
    &vpc::NETWORK_ACL_UNUSED,
    &vpc::VPC_FLOW_LOGS_ENABLED,
    &vpc::VPC_PEERING_ROUTES_LEAST_ACCESS,
    &vpc::SUBNET_NO_AUTO_PUBLIC_IP,
    &vpc::DEFAULT_VPC_UNUSED,
    &logging::CLOUDTRAIL_MULTI_REGION_ENABLED,
    &cloudtrail::LOG_FILE_VALIDATION,
    &cloudtrail::KMS_ENCRYPTION,
    &cloudtrail::CLOUDWATCH_LOGS_DELIVERY,
    &cloudtrail::TRAIL_LOGGING,
    &cloudtrail::BUCKET_NOT_PUBLIC,
    &cloudtrail::BUCKET_ACCESS_LOGGING,
    &cloudtrail::S3_DATA_EVENTS_WRITE,
    &cloudtrail::S3_DATA_EVENTS_READ,
    &monitoring::UNAUTHORIZED_API_CALLS,
    &monitoring::CONSOLE_SIGNIN_WITHOUT_MFA,
    &monitoring::ROOT_USAGE,
    &monitoring::IAM_POLICY_CHANGES,
    &monitoring::CLOUDTRAIL_CHANGES,
    &monitoring::CONSOLE_AUTH_FAILURES,
    &monitoring::CMK_DISABLE_OR_DELETION,
    &monitoring::S3_BUCKET_POLICY_CHANGES,
    &monitoring::CONFIG_CHANGES,
    &monitoring::SECURITY_GROUP_CHANGES,
    &monitoring::NACL_CHANGES,
    &monitoring::NETWORK_GATEWAY_CHANGES,
    &monitoring::ROUTE_TABLE_CHANGES,
    &monitoring::VPC_CHANGES,
    &monitoring::ORGANIZATIONS_CHANGES,
    &logging::KMS_KEY_ROTATION_ENABLED,
    &logging::CONFIG_RECORDER_ENABLED,
    &account_services::CONFIG_DELIVERY_CHANNEL,
    &account_services::CONFIG_RECORDER_HEALTHY,
    &account_services::KMS_KEY_NOT_PUBLIC,
    &account_services::KMS_KEY_NOT_PENDING_DELETION,
    &account_services::SNS_TOPIC_ENCRYPTED,
    &account_services::SNS_TOPIC_NOT_PUBLIC,
    &account_services::SNS_TOPIC_HTTPS_ONLY,
    &account_services::SNS_SUBSCRIPTIONS_HTTPS,
    &account_services::LOG_GROUP_RETENTION,
    &account_services::LOG_GROUP_ENCRYPTED,
    &account_services::ORGANIZATION_MEMBER,
    &sqs::QUEUE_ENCRYPTED_AT_REST,
    &sqs::QUEUE_ENCRYPTED_WITH_CMK,
    &sqs::QUEUE_POLICY_NOT_PUBLIC,
    &sqs::QUEUE_HTTPS_ONLY,
    &sqs::QUEUE_HAS_DEAD_LETTER_QUEUE,
    &kinesis::STREAM_ENCRYPTED_AT_REST,
    &kinesis::STREAM_ENCRYPTED_WITH_CMK,
    &kinesis::STREAM_RETENTION_ADEQUATE,
    &lambda::FUNCTION_RUNTIME_SUPPORTED,
    &lambda::FUNCTION_POLICY_NOT_PUBLIC,
    &lambda::FUNCTION_POLICY_NO_UNTRUSTED_ACCOUNTS,
    &lambda::FUNCTION_URL_AUTH_REQUIRED,
    &lambda::FUNCTION_NO_SECRETS_IN_ENVIRONMENT,
    &lambda::FUNCTION_IN_VPC,
    &lambda::FUNCTION_TRACING_ENABLED,
    &lambda::FUNCTION_DEAD_LETTER_CONFIGURED,
    &cloudfront::DISTRIBUTION_VIEWER_HTTPS,
    &cloudfront::DISTRIBUTION_VIEWER_TLS_1_2,
    &cloudfront::DISTRIBUTION_ORIGIN_HTTPS,
    &cloudfront::DISTRIBUTION_ORIGIN_TLS,
    &cloudfront::DISTRIBUTION_LOGGING_ENABLED,
    &cloudfront::DISTRIBUTION_WAF_ENABLED,
    &cloudfront::DISTRIBUTION_DEFAULT_ROOT_OBJECT,
    &cloudfront::DISTRIBUTION_S3_ORIGIN_ACCESS_CONTROL,
    &cloudfront::DISTRIBUTION_SNI,
    &cloudfront::DISTRIBUTION_FIELD_LEVEL_ENCRYPTION,
    &route53::PUBLIC_ZONE_QUERY_LOGGING,
    &route53::DOMAIN_TRANSFER_LOCK,
    &route53::DOMAIN_AUTO_RENEW,
    &route53::DOMAIN_PRIVACY_PROTECTION,
    &ses::IDENTITY_DKIM_ENABLED,
    &ses::IDENTITY_POLICY_NOT_PUBLIC,
    &guardduty::ENABLED,
    &guardduty::S3_PROTECTION_ENABLED,
    &guardduty::EKS_AUDIT_LOGS_ENABLED,
    &guardduty::RDS_PROTECTION_ENABLED,
    &guardduty::LAMBDA_PROTECTION_ENABLED,
    &guardduty::MALWARE_PROTECTION_ENABLED,
    &guardduty::RUNTIME_MONITORING_ENABLED,
    &securityhub::ENABLED,
    &securityhub::FSBP_STANDARD_ENABLED,
    &securityhub::CIS_STANDARD_ENABLED,
    &secretsmanager::ROTATION_ENABLED,
    &secretsmanager::ROTATED_RECENTLY,
    &secretsmanager::ENCRYPTED_WITH_CMK,
    &secretsmanager::POLICY_NOT_PUBLIC,
    &secretsmanager::SECRET_USED,
    &ecr::REPOSITORY_SCAN_ON_PUSH,
    &ecr::REPOSITORY_TAG_IMMUTABLE,
    &ecr::REPOSITORY_LIFECYCLE_POLICY,
    &ecr::REPOSITORY_POLICY_NOT_PUBLIC,
    &ecr::REPOSITORY_ENCRYPTED_WITH_CMK,
    &sovereignty::RESOURCE_REGION_ALLOWED,
    &elb::ELBV2_LISTENERS_ENCRYPTED,
    &elb::ELBV2_SSL_POLICY_MODERN,
    &elb::ELBV2_ACCESS_LOGS_ENABLED,
    &elb::ELBV2_DELETION_PROTECTION,
    &elb::ELBV2_DROP_INVALID_HEADERS,
    &elb::ELBV2_DESYNC_MITIGATION,
    &elb::ELBV2_MULTIPLE_AZ,
    &elb::ELB_LISTENERS_ENCRYPTED,
    &elb::ELB_SSL_POLICY_MODERN,
    &elb::ELB_ACM_CERTIFICATE,
    &elb::ELB_ACCESS_LOGS_ENABLED,
    &elb::ELB_CROSS_ZONE,
    &elb::ELB_CONNECTION_DRAINING,
    &elb::ELB_MULTIPLE_AZ,
    &rds::INSTANCE_STORAGE_ENCRYPTED,
    &rds::INSTANCE_NOT_PUBLICLY_ACCESSIBLE,
    &rds::INSTANCE_MULTI_AZ,
    &rds::INSTANCE_BACKUP_ENABLED,
    &rds::INSTANCE_DELETION_PROTECTION,
    &rds::INSTANCE_MINOR_VERSION_UPGRADE,
    &rds::INSTANCE_IAM_AUTHENTICATION,
    &rds::INSTANCE_LOG_EXPORTS,
    &rds::INSTANCE_DEFAULT_PORT,
    &rds::INSTANCE_ENHANCED_MONITORING,
    &rds::INSTANCE_COPY_TAGS_TO_SNAPSHOT,
    &rds::INSTANCE_CUSTOM_ADMIN_USERNAME,
    &rds::INSTANCE_TRANSPORT_ENCRYPTED,
    &rds::SNAPSHOT_NOT_PUBLIC,
    &rds::SNAPSHOT_ENCRYPTED,
    &rds::CLUSTER_STORAGE_ENCRYPTED,
    &rds::CLUSTER_DELETION_PROTECTION,
    &rds::CLUSTER_MULTI_AZ,
    &rds::CLUSTER_IAM_AUTHENTICATION,
    &rds::CLUSTER_COPY_TAGS_TO_SNAPSHOT,
    &redshift::CLUSTER_ENCRYPTED,
    &redshift::CLUSTER_NOT_PUBLICLY_ACCESSIBLE,
    &redshift::CLUSTER_REQUIRE_SSL,
    &redshift::CLUSTER_AUDIT_LOGGING,
    &redshift::CLUSTER_AUTOMATED_SNAPSHOTS,
    &redshift::CLUSTER_ENHANCED_VPC_ROUTING,
    &redshift::CLUSTER_VERSION_UPGRADE,
    &redshift::CLUSTER_CUSTOM_ADMIN_USERNAME,
    &redshift::CLUSTER_CUSTOM_DATABASE_NAME,
    &elasticache::REPLICATION_GROUP_ENCRYPTED_AT_REST,
    &elasticache::REPLICATION_GROUP_ENCRYPTED_IN_TRANSIT,
    &elasticache::REPLICATION_GROUP_AUTH,
    &elasticache::REPLICATION_GROUP_AUTOMATIC_FAILOVER,
    &elasticache::BACKUP_ENABLED,
    &elasticache::CLUSTER_MINOR_VERSION_UPGRADE,
    &elasticache::CLUSTER_CUSTOM_SUBNET_GROUP,
    &dynamodb::TABLE_PITR_ENABLED,
    &dynamodb::TABLE_DELETION_PROTECTION,
    &dynamodb::TABLE_KMS_ENCRYPTION,
    &autoscaling::GROUP_MULTIPLE_AZ,
    &autoscaling::GROUP_ELB_HEALTH_CHECK,
    &autoscaling::GROUP_IMDSV2,
    &autoscaling::GROUP_USES_LAUNCH_TEMPLATE,
    &autoscaling::LAUNCH_CONFIGURATION_NO_PUBLIC_IP,
    &ami::GROUP_AMI_CURRENT,
    &sensitive::ECS_TASK_DEFINITION_NO_SECRETS_IN_ENVIRONMENT,
    &acm::CERTIFICATE_NOT_EXPIRING,
    &acm::CERTIFICATE_RSA_KEY_LENGTH,
    &acm::CERTIFICATE_TRANSPARENCY_LOGGING,
    &exposure::EC2_INSTANCE_ADMIN_PORT_REACHABLE_FROM_INTERNET,
    &exposure::RDS_INSTANCE_REACHABLE_FROM_INTERNET,
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::CHECKS;

    #[test]
    fn check_ids_are_unique_snake_case_and_fully_described() {
        let mut seen = HashSet::new();
        for check in CHECKS {
            let metadata = check.metadata();
            assert!(seen.insert(metadata.id), "duplicate id {}", metadata.id);
            assert!(metadata.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{}", metadata.id);
            assert!(metadata.id.starts_with(metadata.service), "{} should start with its service", metadata.id);
            for text in [metadata.title, metadata.risk, metadata.remediation.text, metadata.remediation.cli, metadata.remediation.terraform] {
                assert!(!text.trim().is_empty(), "{} has an empty field", metadata.id);
            }
            assert!(!metadata.references.is_empty(), "{} has no reference", metadata.id);
        }
    }
}
