//! DynamoDB checks: point-in-time recovery, deletion protection and KMS encryption.

use serde_json::json;
use vigil_model::dynamodb::Table;

use super::FnCheck;
use super::support::each_regional;
use crate::{Metadata, Read, Remediation, Severity};

const TABLES: &[Read] = &[Read::regional("dynamodb", "ListTables")];

pub static TABLE_PITR_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "dynamodb_table_pitr_enabled",
        title: "DynamoDB tables have point-in-time recovery enabled",
        service: "dynamodb",
        resource_type: "AWS::DynamoDB::Table",
        severity: Severity::Medium,
        risk: "Without point-in-time recovery an accidental or malicious write or delete cannot be undone.",
        remediation: Remediation {
            text: "Enable point-in-time recovery.",
            cli: "aws dynamodb update-continuous-backups --table-name TABLE --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
            terraform: "resource \"aws_dynamodb_table\" \"main\" {\n  # ...\n  point_in_time_recovery {\n    enabled = true\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html"],
        frameworks: &[("aws-fsbp", "DynamoDB.2"), ("nist-800-53-r5", "CP-9")],
        reads: TABLES,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |table: &Table, _, region| {
            let on = table.point_in_time_recovery_status.as_deref() == Some("ENABLED");
            let message = format!("Table `{}` point-in-time recovery is {}.", table.table_name, if on { "on" } else { "off" });
            Some((
                vec![crate::context::Needs::call("dynamodb", region, "DescribeContinuousBackups").on(&table.table_name)],
                (on, message, json!({ "PointInTimeRecoveryStatus": table.point_in_time_recovery_status })),
            ))
        })
    },
};

pub static TABLE_DELETION_PROTECTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "dynamodb_table_deletion_protection",
        title: "DynamoDB tables have deletion protection enabled",
        service: "dynamodb",
        resource_type: "AWS::DynamoDB::Table",
        severity: Severity::Medium,
        risk: "Without deletion protection a single DeleteTable call, by mistake or by an attacker, destroys the table.",
        remediation: Remediation {
            text: "Enable deletion protection.",
            cli: "aws dynamodb update-table --table-name TABLE --deletion-protection-enabled",
            terraform: "resource \"aws_dynamodb_table\" \"main\" {\n  # ...\n  deletion_protection_enabled = true\n}",
        },
        references: &[
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection",
        ],
        frameworks: &[("aws-fsbp", "DynamoDB.6"), ("nist-800-53-r5", "CM-3"), ("nist-800-53-r5", "SC-5")],
        reads: TABLES,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |table: &Table, _, region| {
            let on = table.deletion_protection_enabled == Some(true);
            let message = format!("Table `{}` deletion protection is {}.", table.table_name, if on { "on" } else { "off" });
            Some((
                vec![crate::context::Needs::call("dynamodb", region, "DescribeTable").on(&table.table_name)],
                (on, message, json!({ "DeletionProtectionEnabled": table.deletion_protection_enabled })),
            ))
        })
    },
};

pub static TABLE_KMS_ENCRYPTION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "dynamodb_table_kms_encryption",
        title: "DynamoDB tables are encrypted with a KMS key rather than an AWS owned key",
        service: "dynamodb",
        resource_type: "AWS::DynamoDB::Table",
        severity: Severity::Low,
        risk: "With an AWS owned key, key use does not appear in CloudTrail and access to the data cannot be restricted or revoked through a key policy.",
        remediation: Remediation {
            text: "Switch the table's encryption to an AWS managed (aws/dynamodb) or customer managed KMS key.",
            cli: "aws dynamodb update-table --table-name TABLE --sse-specification Enabled=true,SSEType=KMS,KMSMasterKeyId=KEY_ARN",
            terraform: "resource \"aws_dynamodb_table\" \"main\" {\n  # ...\n  server_side_encryption {\n    enabled     = true\n    kms_key_arn = aws_kms_key.dynamodb.arn\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html"],
        frameworks: &[("pci-dss-4.0", "3.6.1"), ("nist-800-53-r5", "SC-12"), ("nist-800-53-r5", "SC-28")],
        reads: TABLES,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |table: &Table, _, region| {
            let kms = table.sse_status.as_deref() == Some("ENABLED") && table.sse_type.as_deref() == Some("KMS");
            let message = format!("Table `{}` is encrypted with {}.", table.table_name, if kms { "a KMS key" } else { "an AWS owned key" });
            Some((
                vec![crate::context::Needs::call("dynamodb", region, "DescribeTable").on(&table.table_name)],
                (
                    kms,
                    message,
                    json!({ "SSEDescription": { "Status": table.sse_status, "SSEType": table.sse_type, "KMSMasterKeyArn": table.kms_master_key_arn } }),
                ),
            ))
        })
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn table(name: &str) -> Table {
        Table { table_name: name.into(), table_arn: format!("arn:aws:dynamodb:us-east-1:123456789012:table/{name}"), ..Table::default() }
    }

    #[test]
    fn dynamodb_twins() {
        check_twins(&[
            Twin {
                check: &TABLE_PITR_ENABLED,
                calls: vec![("DescribeContinuousBackups", "bad"), ("DescribeContinuousBackups", "good")],
                place: |regional| {
                    regional.dynamodb_tables.push(Table { point_in_time_recovery_status: Some("DISABLED".into()), ..table("bad") });
                    regional.dynamodb_tables.push(Table { point_in_time_recovery_status: Some("ENABLED".into()), ..table("good") });
                },
            },
            Twin {
                check: &TABLE_DELETION_PROTECTION,
                calls: vec![("DescribeTable", "bad"), ("DescribeTable", "good")],
                place: |regional| {
                    regional.dynamodb_tables.push(Table { deletion_protection_enabled: Some(false), ..table("bad") });
                    regional.dynamodb_tables.push(Table { deletion_protection_enabled: Some(true), ..table("good") });
                },
            },
            Twin {
                check: &TABLE_KMS_ENCRYPTION,
                calls: vec![("DescribeTable", "bad"), ("DescribeTable", "good")],
                place: |regional| {
                    regional.dynamodb_tables.push(table("bad"));
                    regional.dynamodb_tables.push(Table { sse_status: Some("ENABLED".into()), sse_type: Some("KMS".into()), ..table("good") });
                },
            },
        ]);
    }
}
