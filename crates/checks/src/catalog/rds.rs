//! RDS checks: encryption at rest (instances, clusters, snapshots), TLS enforced by parameter
//! groups, public exposure (instances, snapshots), Multi-AZ and backups, deletion protection,
//! log exports, minor version upgrades, IAM database authentication, default ports and users.

use serde_json::json;
use vigil_model::RegionalInventory;
use vigil_model::rds::{DbCluster, DbInstance, DbSnapshot};

use super::FnCheck;
use super::support::{Verdict, each_regional, subject_of};
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const INSTANCES: &[Read] = &[Read::regional("rds", "DescribeDBInstances")];
const CLUSTERS: &[Read] = &[Read::regional("rds", "DescribeDBClusters")];
const SNAPSHOTS: &[Read] = &[Read::regional("rds", "DescribeDBSnapshots"), Read::regional("rds", "DescribeDBClusterSnapshots")];

/// Aurora instances take most settings (backups, deletion protection, IAM auth, logs) from their cluster.
fn standalone(instance: &DbInstance) -> bool {
    instance.db_cluster_identifier.is_none() && !instance.engine.as_deref().unwrap_or_default().starts_with("aurora")
}

fn yes(value: Option<bool>) -> bool {
    value == Some(true)
}

/// An instance check decided from the instance's own description.
fn instance_check(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    applies: fn(&DbInstance) -> bool,
    judge: fn(&DbInstance) -> Verdict,
) {
    each_regional(metadata, context, findings, |instance: &DbInstance, _, _| applies(instance).then(|| (vec![], judge(instance))));
}

/// A cluster check decided from the cluster's own description.
fn cluster_check(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, judge: fn(&DbCluster) -> Verdict) {
    each_regional(metadata, context, findings, |cluster: &DbCluster, _, _| Some((vec![], judge(cluster))));
}

pub static INSTANCE_STORAGE_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_storage_encrypted",
        title: "RDS DB instances are encrypted at rest",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::High,
        risk: "Unencrypted database storage, its automated backups and read replicas can be read by anyone who obtains the underlying storage or a copy of a snapshot.",
        remediation: Remediation {
            text: "Encryption cannot be turned on in place: snapshot the instance, copy the snapshot with a KMS key, and restore from the encrypted copy.",
            cli: "aws rds copy-db-snapshot --source-db-snapshot-identifier SNAP --target-db-snapshot-identifier SNAP-encrypted --kms-key-id alias/aws/rds",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  storage_encrypted = true\n  kms_key_id        = aws_kms_key.rds.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html"],
        frameworks: &[("cis-aws-5.0", "2.2.1"), ("aws-fsbp", "RDS.3"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(
            metadata,
            context,
            findings,
            |_| true,
            |instance| {
                let message = format!(
                    "DB instance `{}` storage encryption is {}.",
                    instance.db_instance_identifier,
                    if instance.storage_encrypted { "on" } else { "off" }
                );
                (instance.storage_encrypted, message, json!({ "StorageEncrypted": instance.storage_encrypted, "KmsKeyId": instance.kms_key_id }))
            },
        )
    },
};

pub static INSTANCE_NOT_PUBLICLY_ACCESSIBLE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_not_publicly_accessible",
        title: "RDS DB instances are not publicly accessible",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Critical,
        risk: "A publicly accessible instance gets a public IP and DNS name; any security group mistake then exposes the database to the internet.",
        remediation: Remediation {
            text: "Turn off public accessibility and reach the database from inside the VPC.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --no-publicly-accessible --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  publicly_accessible = false\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding"],
        frameworks: &[("cis-aws-5.0", "2.2.3"), ("aws-fsbp", "RDS.2"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "SC-7")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(
            metadata,
            context,
            findings,
            |_| true,
            |instance| {
                let message = format!(
                    "DB instance `{}` is {}publicly accessible.",
                    instance.db_instance_identifier,
                    if instance.publicly_accessible { "" } else { "not " }
                );
                (!instance.publicly_accessible, message, json!({ "PubliclyAccessible": instance.publicly_accessible, "Endpoint": instance.endpoint_address }))
            },
        )
    },
};

pub static INSTANCE_MULTI_AZ: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_multi_az",
        title: "RDS DB instances are deployed across multiple Availability Zones",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Medium,
        risk: "A Single-AZ instance is unavailable for the whole duration of a zone outage or host failure.",
        remediation: Remediation {
            text: "Convert the instance to a Multi-AZ deployment.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --multi-az --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  multi_az = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.html"],
        frameworks: &[("cis-aws-5.0", "2.2.4"), ("aws-fsbp", "RDS.5"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SC-36")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(metadata, context, findings, standalone, |instance| {
            let message = format!("DB instance `{}` is {}.", instance.db_instance_identifier, if instance.multi_az { "Multi-AZ" } else { "Single-AZ" });
            (instance.multi_az, message, json!({ "MultiAZ": instance.multi_az }))
        })
    },
};

pub static INSTANCE_BACKUP_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_backup_enabled",
        title: "RDS DB instances keep automated backups for at least 7 days",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Medium,
        risk: "Without automated backups the database cannot be restored to a point in time after corruption, deletion or ransomware. Policy parameter `rds_min_backup_retention_days` (default 7).",
        remediation: Remediation {
            text: "Set the backup retention period to at least 7 days.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --backup-retention-period 7 --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  backup_retention_period = 7\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html"],
        frameworks: &[("aws-fsbp", "RDS.11"), ("nist-800-53-r5", "CP-9")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |instance: &DbInstance, _, region| {
            if !standalone(instance) {
                return None;
            }
            let minimum = context.number(&subject_of(context, region, instance), "rds_min_backup_retention_days", 7);
            let retention = instance.backup_retention_period.unwrap_or(0);
            let message =
                format!("DB instance `{}` keeps automated backups for {retention} day(s); at least {minimum} required.", instance.db_instance_identifier);
            Some((vec![], (i64::from(retention) >= minimum, message, json!({ "BackupRetentionPeriod": instance.backup_retention_period }))))
        })
    },
};

pub static INSTANCE_DELETION_PROTECTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_deletion_protection",
        title: "RDS DB instances have deletion protection enabled",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Medium,
        risk: "Without deletion protection a single API call, by mistake or by an attacker, deletes the database.",
        remediation: Remediation {
            text: "Enable deletion protection.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --deletion-protection --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  deletion_protection = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection"],
        frameworks: &[("aws-fsbp", "RDS.8"), ("nist-800-53-r5", "CM-3"), ("nist-800-53-r5", "SC-5")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(metadata, context, findings, standalone, |instance| {
            let on = yes(instance.deletion_protection);
            (
                on,
                format!("DB instance `{}` deletion protection is {}.", instance.db_instance_identifier, if on { "on" } else { "off" }),
                json!({ "DeletionProtection": instance.deletion_protection }),
            )
        })
    },
};

pub static INSTANCE_MINOR_VERSION_UPGRADE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_minor_version_upgrade",
        title: "RDS DB instances apply minor engine versions automatically",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Low,
        risk: "Minor versions carry security fixes; without automatic upgrades known vulnerabilities stay unpatched.",
        remediation: Remediation {
            text: "Enable automatic minor version upgrades.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --auto-minor-version-upgrade --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  auto_minor_version_upgrade = true\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html#USER_UpgradeDBInstance.Upgrading.AutoMinorVersionUpgrades",
        ],
        frameworks: &[("cis-aws-5.0", "2.2.2"), ("aws-fsbp", "RDS.13"), ("nist-800-53-r5", "SI-2")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(
            metadata,
            context,
            findings,
            |_| true,
            |instance| {
                let on = yes(instance.auto_minor_version_upgrade);
                (
                    on,
                    format!("DB instance `{}` automatic minor version upgrade is {}.", instance.db_instance_identifier, if on { "on" } else { "off" }),
                    json!({ "AutoMinorVersionUpgrade": instance.auto_minor_version_upgrade }),
                )
            },
        )
    },
};

pub static INSTANCE_IAM_AUTHENTICATION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_iam_authentication",
        title: "RDS DB instances have IAM database authentication enabled",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Medium,
        risk: "Without IAM authentication every client needs a long-lived database password, which leaks into code and configuration.",
        remediation: Remediation {
            text: "Enable IAM database authentication (MySQL, MariaDB, PostgreSQL).",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --enable-iam-database-authentication --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  iam_database_authentication_enabled = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"],
        frameworks: &[("aws-fsbp", "RDS.10"), ("nist-800-53-r5", "AC-2"), ("nist-800-53-r5", "IA-2")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(
            metadata,
            context,
            findings,
            |instance| standalone(instance) && matches!(instance.engine.as_deref(), Some("mysql" | "mariadb" | "postgres")),
            |instance| {
                let on = yes(instance.iam_database_authentication_enabled);
                (
                    on,
                    format!("DB instance `{}` IAM authentication is {}.", instance.db_instance_identifier, if on { "on" } else { "off" }),
                    json!({ "IAMDatabaseAuthenticationEnabled": instance.iam_database_authentication_enabled }),
                )
            },
        )
    },
};

/// The log types Security Hub RDS.9 expects each engine to export.
fn required_log_exports(engine: &str) -> &'static [&'static str] {
    match engine {
        "postgres" => &["postgresql"],
        "mysql" | "mariadb" => &["audit", "error", "general", "slowquery"],
        engine if engine.starts_with("oracle") => &["alert", "audit", "trace", "listener"],
        engine if engine.starts_with("sqlserver") => &["error", "agent"],
        _ => &[],
    }
}

pub static INSTANCE_LOG_EXPORTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_log_exports_enabled",
        title: "RDS DB instances publish their engine logs to CloudWatch Logs",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Medium,
        risk: "Database logs kept only on the instance rotate away quickly and are lost with it; attacks against the database then leave no trace.",
        remediation: Remediation {
            text: "Enable CloudWatch Logs exports for the engine's log types (e.g. postgresql; audit, error, general, slowquery for MySQL).",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --cloudwatch-logs-export-configuration '{\"EnableLogTypes\":[\"postgresql\"]}'",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  enabled_cloudwatch_logs_exports = [\"postgresql\"]\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html"],
        frameworks: &[("aws-fsbp", "RDS.9"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2"), ("nist-800-53-r5", "AU-12")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(metadata, context, findings, standalone, |instance| {
            let required = required_log_exports(instance.engine.as_deref().unwrap_or_default());
            let missing: Vec<&str> =
                required.iter().copied().filter(|log| !instance.enabled_cloudwatch_logs_exports.iter().any(|enabled| enabled == log)).collect();
            let passed = if required.is_empty() { !instance.enabled_cloudwatch_logs_exports.is_empty() } else { missing.is_empty() };
            let message = if passed {
                format!("DB instance `{}` exports {} to CloudWatch Logs.", instance.db_instance_identifier, instance.enabled_cloudwatch_logs_exports.join(", "))
            } else {
                format!(
                    "DB instance `{}` does not export {} to CloudWatch Logs.",
                    instance.db_instance_identifier,
                    if missing.is_empty() { "any log".to_string() } else { missing.join(", ") }
                )
            };
            (passed, message, json!({ "EnabledCloudwatchLogsExports": instance.enabled_cloudwatch_logs_exports, "Missing": missing }))
        })
    },
};

/// The port each engine listens on unless told otherwise.
fn default_port(engine: &str) -> Option<i32> {
    match engine {
        "mysql" | "mariadb" | "aurora" | "aurora-mysql" => Some(3306),
        "postgres" | "aurora-postgresql" => Some(5432),
        engine if engine.starts_with("oracle") => Some(1521),
        engine if engine.starts_with("sqlserver") => Some(1433),
        engine if engine.starts_with("db2") => Some(50000),
        _ => None,
    }
}

pub static INSTANCE_DEFAULT_PORT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_no_default_port",
        title: "RDS DB instances do not listen on the engine's default port",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Low,
        risk: "Automated scanners look for databases on their well-known ports; a non-default port removes the instance from the cheapest sweeps.",
        remediation: Remediation {
            text: "Move the instance to a non-default port and update clients and security groups.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --db-port-number 15432 --apply-immediately",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  port = 15432\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ModifyInstance.Settings.html"],
        frameworks: &[("aws-fsbp", "RDS.23"), ("nist-800-53-r5", "CM-7")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(
            metadata,
            context,
            findings,
            |instance| instance.endpoint_port.is_some() && default_port(instance.engine.as_deref().unwrap_or_default()).is_some(),
            |instance| {
                let default = default_port(instance.engine.as_deref().unwrap_or_default());
                let passed = instance.endpoint_port != default;
                (
                    passed,
                    format!("DB instance `{}` listens on port {}.", instance.db_instance_identifier, instance.endpoint_port.unwrap_or_default()),
                    json!({ "Endpoint.Port": instance.endpoint_port, "DefaultPort": default }),
                )
            },
        )
    },
};

pub static INSTANCE_ENHANCED_MONITORING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_enhanced_monitoring",
        title: "RDS DB instances have enhanced monitoring enabled",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Low,
        risk: "Without enhanced monitoring, operating-system metrics needed to investigate abuse or resource exhaustion are missing.",
        remediation: Remediation {
            text: "Set a monitoring interval (e.g. 60 seconds) with a monitoring role.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --monitoring-interval 60 --monitoring-role-arn ROLE_ARN",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  monitoring_interval = 60\n  monitoring_role_arn = aws_iam_role.rds_monitoring.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.html"],
        frameworks: &[("aws-fsbp", "RDS.6"), ("nist-800-53-r5", "SI-4")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(
            metadata,
            context,
            findings,
            |_| true,
            |instance| {
                let interval = instance.monitoring_interval.unwrap_or(0);
                (
                    interval > 0,
                    format!("DB instance `{}` monitoring interval is {interval} s.", instance.db_instance_identifier),
                    json!({ "MonitoringInterval": instance.monitoring_interval }),
                )
            },
        )
    },
};

pub static INSTANCE_COPY_TAGS_TO_SNAPSHOT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_copy_tags_to_snapshot",
        title: "RDS DB instances copy their tags to snapshots",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Low,
        risk: "Snapshots without the instance's tags escape tag-based access control, ownership and data-classification policies.",
        remediation: Remediation {
            text: "Enable copying tags to snapshots.",
            cli: "aws rds modify-db-instance --db-instance-identifier ID --copy-tags-to-snapshot",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  copy_tags_to_snapshot = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags"],
        frameworks: &[("aws-fsbp", "RDS.17"), ("nist-800-53-r5", "CM-8")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        instance_check(metadata, context, findings, standalone, |instance| {
            let on = yes(instance.copy_tags_to_snapshot);
            (
                on,
                format!("DB instance `{}` copy tags to snapshot is {}.", instance.db_instance_identifier, if on { "on" } else { "off" }),
                json!({ "CopyTagsToSnapshot": instance.copy_tags_to_snapshot }),
            )
        })
    },
};

/// Usernames AWS proposes by default or that attackers try first.
const DEFAULT_ADMIN_USERNAMES: &[&str] = &["admin", "administrator", "postgres", "root", "sa", "master", "awsuser"];

pub static INSTANCE_CUSTOM_ADMIN_USERNAME: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_custom_admin_username",
        title: "RDS DB instances use a custom administrator username",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::Low,
        risk: "A well-known administrator name halves the work of a password-guessing attack. Policy parameter `rds_default_admin_usernames` lists the names that fail.",
        remediation: Remediation {
            text: "Create the instance with a non-default master username (it cannot be changed in place: restore from a snapshot into a new instance).",
            cli: "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier NEW_ID --db-snapshot-identifier SNAP  # then create the new admin user",
            terraform: "resource \"aws_db_instance\" \"main\" {\n  # ...\n  username = \"app_owner_7f3\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html"],
        frameworks: &[("aws-fsbp", "RDS.25"), ("nist-800-53-r5", "AC-2"), ("nist-800-53-r5", "IA-5")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |instance: &DbInstance, _, region| {
            if !standalone(instance) {
                return None;
            }
            let username = instance.master_username.as_deref()?;
            let defaults = context.strings(&subject_of(context, region, instance), "rds_default_admin_usernames", DEFAULT_ADMIN_USERNAMES);
            let default = defaults.iter().any(|name| name.eq_ignore_ascii_case(username));
            Some((
                vec![],
                (!default, format!("DB instance `{}` administrator is `{username}`.", instance.db_instance_identifier), json!({ "MasterUsername": username })),
            ))
        })
    },
};

/// Whether the parameter groups force TLS: `rds.force_ssl` (PostgreSQL, SQL Server) or
/// `require_secure_transport` (MySQL, MariaDB). `None` when the engine has no such parameter.
fn forces_tls(instance: &DbInstance, regional: &RegionalInventory) -> Option<(bool, serde_json::Value)> {
    let engine = instance.engine.as_deref().unwrap_or_default();
    let (parameter, engine_default) = if engine == "postgres" {
        // PostgreSQL 15 and later default rds.force_ssl to 1.
        let major: u32 = instance.engine_version.as_deref().and_then(|version| version.split('.').next()).and_then(|major| major.parse().ok()).unwrap_or(0);
        ("rds.force_ssl", if major >= 15 { "1" } else { "0" })
    } else if engine.starts_with("sqlserver") {
        ("rds.force_ssl", "0")
    } else if engine == "mysql" || engine == "mariadb" {
        ("require_secure_transport", "0")
    } else {
        return None;
    };
    let mut values = Vec::new();
    for name in &instance.db_parameter_group_names {
        let group = regional.db_parameter_groups.iter().find(|group| &group.db_parameter_group_name == name);
        let value = group.and_then(|group| group.parameters.get(parameter)).map(String::as_str).unwrap_or(engine_default);
        values.push((name.clone(), value.to_string()));
    }
    if values.is_empty() {
        values.push(("(engine default)".to_string(), engine_default.to_string()));
    }
    let on = values.iter().all(|(_, value)| matches!(value.to_ascii_lowercase().as_str(), "1" | "on" | "true"));
    let evidence: serde_json::Map<String, serde_json::Value> = values.into_iter().map(|(group, value)| (group, json!({ parameter: value }))).collect();
    Some((on, serde_json::Value::Object(evidence)))
}

pub static INSTANCE_TRANSPORT_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_instance_transport_encrypted",
        title: "RDS DB instances refuse connections without TLS",
        service: "rds",
        resource_type: "AWS::RDS::DBInstance",
        severity: Severity::High,
        risk: "Unless the parameter group forces TLS (`rds.force_ssl` = 1 or `require_secure_transport` = ON), clients may connect in clear text and expose credentials and data on the network.",
        remediation: Remediation {
            text: "Set `rds.force_ssl` to 1 (PostgreSQL, SQL Server) or `require_secure_transport` to ON (MySQL, MariaDB) in a custom parameter group attached to the instance.",
            cli: "aws rds modify-db-parameter-group --db-parameter-group-name GROUP --parameters ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate",
            terraform: "resource \"aws_db_parameter_group\" \"tls\" {\n  family = \"postgres16\"\n  parameter {\n    name  = \"rds.force_ssl\"\n    value = \"1\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html"],
        frameworks: &[("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8"), ("nist-800-53-r5", "SC-23")],
        reads: INSTANCES,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |instance: &DbInstance, regional, region| {
            if !standalone(instance) {
                return None;
            }
            let (on, evidence) = forces_tls(instance, regional)?;
            let needs = instance.db_parameter_group_names.iter().map(|name| Needs::call("rds", region, "DescribeDBParameters").on(name)).collect();
            let message =
                format!("DB instance `{}` {} TLS for every connection.", instance.db_instance_identifier, if on { "requires" } else { "does not require" });
            Some((needs, (on, message, json!({ "DBParameterGroups": evidence }))))
        })
    },
};

/// Runs a snapshot check over instance snapshots and cluster snapshots (both listings are
/// declared in [`SNAPSHOTS`]); `uses_attributes` adds the per-snapshot attribute call.
fn snapshot_check(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, uses_attributes: bool, judge: fn(&DbSnapshot) -> Verdict) {
    each_regional(metadata, context, findings, |snapshot: &DbSnapshot, _, region| {
        let attributes = if snapshot.is_cluster_snapshot { "DescribeDBClusterSnapshotAttributes" } else { "DescribeDBSnapshotAttributes" };
        let needs = if uses_attributes { vec![Needs::call("rds", region, attributes).on(&snapshot.db_snapshot_identifier)] } else { vec![] };
        Some((needs, judge(snapshot)))
    });
}

pub static SNAPSHOT_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_snapshot_not_public",
        title: "RDS DB and cluster snapshots are not shared publicly",
        service: "rds",
        resource_type: "AWS::RDS::DBSnapshot",
        severity: Severity::Critical,
        risk: "Any AWS account can restore a public snapshot and read the whole database.",
        remediation: Remediation {
            text: "Remove `all` from the snapshot's `restore` attribute; share with named accounts only.",
            cli: "aws rds modify-db-snapshot-attribute --db-snapshot-identifier SNAP --attribute-name restore --values-to-remove all",
            terraform: "# Do not add \"all\" to shared_accounts of aws_db_snapshot_copy / snapshot sharing resources.",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html"],
        frameworks: &[("aws-fsbp", "RDS.1"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "AC-21")],
        reads: SNAPSHOTS,
    },
    run: |metadata, context, findings| {
        snapshot_check(metadata, context, findings, true, |snapshot| {
            let public = snapshot.restore_account_ids.iter().any(|account| account == "all");
            let message =
                format!("Snapshot `{}` is {}.", snapshot.db_snapshot_identifier, if public { "restorable by every AWS account" } else { "not public" });
            (!public, message, json!({ "restore": snapshot.restore_account_ids }))
        })
    },
};

pub static SNAPSHOT_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_snapshot_encrypted",
        title: "RDS DB and cluster snapshots are encrypted at rest",
        service: "rds",
        resource_type: "AWS::RDS::DBSnapshot",
        severity: Severity::Medium,
        risk: "An unencrypted snapshot is a full copy of the database readable by anyone it is shared with or who gains access to it.",
        remediation: Remediation {
            text: "Copy the snapshot with a KMS key and delete the unencrypted one.",
            cli: "aws rds copy-db-snapshot --source-db-snapshot-identifier SNAP --target-db-snapshot-identifier SNAP-encrypted --kms-key-id alias/aws/rds",
            terraform: "resource \"aws_db_snapshot_copy\" \"encrypted\" {\n  source_db_snapshot_identifier = aws_db_snapshot.plain.db_snapshot_arn\n  target_db_snapshot_identifier = \"encrypted\"\n  kms_key_id                    = aws_kms_key.rds.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html"],
        frameworks: &[("aws-fsbp", "RDS.4"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: SNAPSHOTS,
    },
    run: |metadata, context, findings| {
        snapshot_check(metadata, context, findings, false, |snapshot| {
            (
                snapshot.encrypted,
                format!("Snapshot `{}` is {}encrypted.", snapshot.db_snapshot_identifier, if snapshot.encrypted { "" } else { "not " }),
                json!({ "Encrypted": snapshot.encrypted, "KmsKeyId": snapshot.kms_key_id }),
            )
        })
    },
};

pub static CLUSTER_STORAGE_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_cluster_storage_encrypted",
        title: "RDS DB clusters are encrypted at rest",
        service: "rds",
        resource_type: "AWS::RDS::DBCluster",
        severity: Severity::High,
        risk: "Unencrypted cluster storage, backups and snapshots can be read by anyone who obtains a copy.",
        remediation: Remediation {
            text: "Encryption cannot be turned on in place: snapshot the cluster and restore it with a KMS key.",
            cli: "aws rds restore-db-cluster-from-snapshot --db-cluster-identifier NEW_ID --snapshot-identifier SNAP --engine ENGINE --kms-key-id alias/aws/rds",
            terraform: "resource \"aws_rds_cluster\" \"main\" {\n  # ...\n  storage_encrypted = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.html"],
        frameworks: &[("aws-fsbp", "RDS.27"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            (
                cluster.storage_encrypted,
                format!("DB cluster `{}` storage encryption is {}.", cluster.db_cluster_identifier, if cluster.storage_encrypted { "on" } else { "off" }),
                json!({ "StorageEncrypted": cluster.storage_encrypted, "KmsKeyId": cluster.kms_key_id }),
            )
        })
    },
};

pub static CLUSTER_DELETION_PROTECTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_cluster_deletion_protection",
        title: "RDS DB clusters have deletion protection enabled",
        service: "rds",
        resource_type: "AWS::RDS::DBCluster",
        severity: Severity::Medium,
        risk: "Without deletion protection a single API call deletes the cluster.",
        remediation: Remediation {
            text: "Enable deletion protection.",
            cli: "aws rds modify-db-cluster --db-cluster-identifier ID --deletion-protection --apply-immediately",
            terraform: "resource \"aws_rds_cluster\" \"main\" {\n  # ...\n  deletion_protection = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html#USER_DeletionProtection"],
        frameworks: &[("aws-fsbp", "RDS.7"), ("nist-800-53-r5", "CM-3"), ("nist-800-53-r5", "SC-5")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let on = yes(cluster.deletion_protection);
            (
                on,
                format!("DB cluster `{}` deletion protection is {}.", cluster.db_cluster_identifier, if on { "on" } else { "off" }),
                json!({ "DeletionProtection": cluster.deletion_protection }),
            )
        })
    },
};

pub static CLUSTER_MULTI_AZ: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_cluster_multi_az",
        title: "RDS DB clusters span multiple Availability Zones",
        service: "rds",
        resource_type: "AWS::RDS::DBCluster",
        severity: Severity::Medium,
        risk: "A cluster whose instances all sit in one zone is unavailable during that zone's outage.",
        remediation: Remediation {
            text: "Add a reader instance in another Availability Zone.",
            cli: "aws rds create-db-instance --db-instance-identifier ID-reader --db-cluster-identifier ID --engine ENGINE --db-instance-class CLASS --availability-zone OTHER_AZ",
            terraform: "resource \"aws_rds_cluster_instance\" \"reader\" {\n  cluster_identifier = aws_rds_cluster.main.id\n  availability_zone  = \"eu-west-1b\"\n  # ...\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html"],
        frameworks: &[("aws-fsbp", "RDS.15"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SC-36")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            (
                cluster.multi_az,
                format!("DB cluster `{}` is {}.", cluster.db_cluster_identifier, if cluster.multi_az { "Multi-AZ" } else { "in a single Availability Zone" }),
                json!({ "MultiAZ": cluster.multi_az, "DBClusterMembers": cluster.members }),
            )
        })
    },
};

pub static CLUSTER_IAM_AUTHENTICATION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_cluster_iam_authentication",
        title: "RDS DB clusters have IAM database authentication enabled",
        service: "rds",
        resource_type: "AWS::RDS::DBCluster",
        severity: Severity::Medium,
        risk: "Without IAM authentication every client needs a long-lived database password.",
        remediation: Remediation {
            text: "Enable IAM database authentication on the cluster.",
            cli: "aws rds modify-db-cluster --db-cluster-identifier ID --enable-iam-database-authentication --apply-immediately",
            terraform: "resource \"aws_rds_cluster\" \"main\" {\n  # ...\n  iam_database_authentication_enabled = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html"],
        frameworks: &[("aws-fsbp", "RDS.12"), ("nist-800-53-r5", "AC-2"), ("nist-800-53-r5", "IA-2")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let on = yes(cluster.iam_database_authentication_enabled);
            (
                on,
                format!("DB cluster `{}` IAM authentication is {}.", cluster.db_cluster_identifier, if on { "on" } else { "off" }),
                json!({ "IAMDatabaseAuthenticationEnabled": cluster.iam_database_authentication_enabled }),
            )
        })
    },
};

pub static CLUSTER_COPY_TAGS_TO_SNAPSHOT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "rds_cluster_copy_tags_to_snapshot",
        title: "RDS DB clusters copy their tags to snapshots",
        service: "rds",
        resource_type: "AWS::RDS::DBCluster",
        severity: Severity::Low,
        risk: "Snapshots without the cluster's tags escape tag-based access control and data-classification policies.",
        remediation: Remediation {
            text: "Enable copying tags to snapshots.",
            cli: "aws rds modify-db-cluster --db-cluster-identifier ID --copy-tags-to-snapshot",
            terraform: "resource \"aws_rds_cluster\" \"main\" {\n  # ...\n  copy_tags_to_snapshot = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Tagging.html"],
        frameworks: &[("aws-fsbp", "RDS.16"), ("nist-800-53-r5", "CM-8")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let on = yes(cluster.copy_tags_to_snapshot);
            (
                on,
                format!("DB cluster `{}` copy tags to snapshot is {}.", cluster.db_cluster_identifier, if on { "on" } else { "off" }),
                json!({ "CopyTagsToSnapshot": cluster.copy_tags_to_snapshot }),
            )
        })
    },
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use vigil_model::rds::DbParameterGroup;

    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn instance(id: &str, engine: &str) -> DbInstance {
        DbInstance {
            db_instance_identifier: id.into(),
            db_instance_arn: format!("arn:aws:rds:us-east-1:123456789012:db:{id}"),
            engine: Some(engine.into()),
            ..DbInstance::default()
        }
    }

    fn cluster(id: &str) -> DbCluster {
        DbCluster { db_cluster_identifier: id.into(), db_cluster_arn: format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}"), ..DbCluster::default() }
    }

    fn snapshot(id: &str, cluster: bool) -> DbSnapshot {
        DbSnapshot {
            db_snapshot_identifier: id.into(),
            db_snapshot_arn: format!("arn:aws:rds:us-east-1:123456789012:snapshot:{id}"),
            is_cluster_snapshot: cluster,
            ..DbSnapshot::default()
        }
    }

    macro_rules! instance_twin {
        ($check:expr, $bad:expr, $good:expr) => {
            Twin {
                check: &$check,
                calls: vec![],
                place: |regional| {
                    regional.db_instances.push($bad);
                    regional.db_instances.push($good);
                },
            }
        };
    }

    macro_rules! cluster_twin {
        ($check:expr, $bad:expr, $good:expr) => {
            Twin {
                check: &$check,
                calls: vec![],
                place: |regional| {
                    regional.db_clusters.push($bad);
                    regional.db_clusters.push($good);
                },
            }
        };
    }

    #[test]
    fn rds_twins() {
        check_twins(&[
            instance_twin!(INSTANCE_STORAGE_ENCRYPTED, instance("bad", "mysql"), DbInstance { storage_encrypted: true, ..instance("good", "mysql") }),
            instance_twin!(INSTANCE_NOT_PUBLICLY_ACCESSIBLE, DbInstance { publicly_accessible: true, ..instance("bad", "mysql") }, instance("good", "mysql")),
            instance_twin!(INSTANCE_MULTI_AZ, instance("bad", "mysql"), DbInstance { multi_az: true, ..instance("good", "mysql") }),
            instance_twin!(
                INSTANCE_BACKUP_ENABLED,
                DbInstance { backup_retention_period: Some(1), ..instance("bad", "mysql") },
                DbInstance { backup_retention_period: Some(7), ..instance("good", "mysql") }
            ),
            instance_twin!(INSTANCE_DELETION_PROTECTION, instance("bad", "mysql"), DbInstance { deletion_protection: Some(true), ..instance("good", "mysql") }),
            instance_twin!(
                INSTANCE_MINOR_VERSION_UPGRADE,
                DbInstance { auto_minor_version_upgrade: Some(false), ..instance("bad", "mysql") },
                DbInstance { auto_minor_version_upgrade: Some(true), ..instance("good", "mysql") }
            ),
            instance_twin!(
                INSTANCE_IAM_AUTHENTICATION,
                instance("bad", "postgres"),
                DbInstance { iam_database_authentication_enabled: Some(true), ..instance("good", "postgres") }
            ),
            instance_twin!(
                INSTANCE_LOG_EXPORTS,
                DbInstance { enabled_cloudwatch_logs_exports: vec!["error".into()], ..instance("bad", "mysql") },
                DbInstance {
                    enabled_cloudwatch_logs_exports: vec!["audit".into(), "error".into(), "general".into(), "slowquery".into()],
                    ..instance("good", "mysql")
                }
            ),
            instance_twin!(
                INSTANCE_DEFAULT_PORT,
                DbInstance { endpoint_port: Some(5432), ..instance("bad", "postgres") },
                DbInstance { endpoint_port: Some(15432), ..instance("good", "postgres") }
            ),
            instance_twin!(
                INSTANCE_ENHANCED_MONITORING,
                DbInstance { monitoring_interval: Some(0), ..instance("bad", "mysql") },
                DbInstance { monitoring_interval: Some(60), ..instance("good", "mysql") }
            ),
            instance_twin!(
                INSTANCE_COPY_TAGS_TO_SNAPSHOT,
                instance("bad", "mysql"),
                DbInstance { copy_tags_to_snapshot: Some(true), ..instance("good", "mysql") }
            ),
            instance_twin!(
                INSTANCE_CUSTOM_ADMIN_USERNAME,
                DbInstance { master_username: Some("admin".into()), ..instance("bad", "mysql") },
                DbInstance { master_username: Some("app_owner".into()), ..instance("good", "mysql") }
            ),
            Twin {
                check: &INSTANCE_TRANSPORT_ENCRYPTED,
                calls: vec![("DescribeDBParameters", "plain"), ("DescribeDBParameters", "tls")],
                place: |regional| {
                    regional.db_instances.push(DbInstance {
                        engine_version: Some("14.9".into()),
                        db_parameter_group_names: vec!["plain".into()],
                        ..instance("bad", "postgres")
                    });
                    regional.db_instances.push(DbInstance {
                        engine_version: Some("8.0.35".into()),
                        db_parameter_group_names: vec!["tls".into()],
                        ..instance("good", "mysql")
                    });
                    regional.db_parameter_groups.push(DbParameterGroup { db_parameter_group_name: "plain".into(), ..DbParameterGroup::default() });
                    regional.db_parameter_groups.push(DbParameterGroup {
                        db_parameter_group_name: "tls".into(),
                        parameters: BTreeMap::from([("require_secure_transport".to_string(), "ON".to_string())]),
                        ..DbParameterGroup::default()
                    });
                },
            },
            Twin {
                check: &SNAPSHOT_NOT_PUBLIC,
                calls: vec![("DescribeDBSnapshotAttributes", "bad"), ("DescribeDBSnapshotAttributes", "good")],
                place: |regional| {
                    regional.db_snapshots.push(DbSnapshot { restore_account_ids: vec!["all".into()], ..snapshot("bad", false) });
                    regional.db_snapshots.push(DbSnapshot { restore_account_ids: vec!["111122223333".into()], ..snapshot("good", false) });
                },
            },
            Twin {
                check: &SNAPSHOT_ENCRYPTED,
                calls: vec![],
                place: |regional| {
                    regional.db_snapshots.push(snapshot("bad", true));
                    regional.db_snapshots.push(DbSnapshot { encrypted: true, ..snapshot("good", true) });
                },
            },
            cluster_twin!(CLUSTER_STORAGE_ENCRYPTED, cluster("bad"), DbCluster { storage_encrypted: true, ..cluster("good") }),
            cluster_twin!(CLUSTER_DELETION_PROTECTION, cluster("bad"), DbCluster { deletion_protection: Some(true), ..cluster("good") }),
            cluster_twin!(CLUSTER_MULTI_AZ, cluster("bad"), DbCluster { multi_az: true, ..cluster("good") }),
            cluster_twin!(CLUSTER_IAM_AUTHENTICATION, cluster("bad"), DbCluster { iam_database_authentication_enabled: Some(true), ..cluster("good") }),
            cluster_twin!(CLUSTER_COPY_TAGS_TO_SNAPSHOT, cluster("bad"), DbCluster { copy_tags_to_snapshot: Some(true), ..cluster("good") }),
        ]);
    }

    #[test]
    fn postgres_15_forces_tls_by_default_and_aurora_members_are_left_to_their_cluster() {
        let regional = RegionalInventory::default();
        let version = |version: &str| DbInstance { engine_version: Some(version.into()), ..instance("pg", "postgres") };
        assert_eq!(forces_tls(&version("15.4"), &regional).map(|(on, _)| on), Some(true));
        assert_eq!(forces_tls(&version("13.12"), &regional).map(|(on, _)| on), Some(false));
        assert_eq!(forces_tls(&instance("ora", "oracle-ee"), &regional), None);
        assert!(!standalone(&DbInstance { db_cluster_identifier: Some("c".into()), ..instance("member", "aurora-mysql") }));
    }
}
