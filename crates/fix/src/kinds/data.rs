//! Database slices: RDS instance settings, RDS snapshot sharing and DynamoDB table settings.

use serde_json::{Value, json};
use vigil_model::Inventory;
use vigil_model::rds::{DbInstance, DbSnapshot};

use super::{Kind, as_is};
use crate::iac::{self, Iac};
use crate::support::{flag, regional, regional_mut, require};
use crate::{Call, FixError, Target};

// ---- RDS instance settings ----

/// (state field, ModifyDBInstance parameter, Terraform attribute).
const DB_INSTANCE_FIELDS: &[(&str, &str, &str)] = &[
    ("PubliclyAccessible", "PubliclyAccessible", "publicly_accessible"),
    ("DeletionProtection", "DeletionProtection", "deletion_protection"),
    ("AutoMinorVersionUpgrade", "AutoMinorVersionUpgrade", "auto_minor_version_upgrade"),
    ("CopyTagsToSnapshot", "CopyTagsToSnapshot", "copy_tags_to_snapshot"),
];

fn db_instance<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a DbInstance, FixError> {
    regional(inventory, &target.region)?
        .db_instances
        .iter()
        .find(|instance| instance.db_instance_identifier == target.id)
        .ok_or_else(|| FixError::NotFound(format!("DB instance `{}`", target.id)))
}

pub static DB_INSTANCE_SETTINGS: Kind = Kind {
    id: "rds-instance-settings",
    title: "an RDS DB instance's public accessibility, deletion protection, minor version upgrades and tag copying",
    service: "rds",
    reads: &["rds:DescribeDBInstances"],
    writes: &["rds:ModifyDBInstance"],
    network: true,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "rds", &target.region, "DescribeDBInstances", None)?;
        let instance = db_instance(inventory, target)?;
        Ok(json!({
            "PubliclyAccessible": instance.publicly_accessible,
            "DeletionProtection": instance.deletion_protection.unwrap_or(false),
            "AutoMinorVersionUpgrade": instance.auto_minor_version_upgrade.unwrap_or(false),
            "CopyTagsToSnapshot": instance.copy_tags_to_snapshot.unwrap_or(false),
        }))
    },
    set_state: |inventory, target, state| {
        let instance = regional_mut(inventory, &target.region)?
            .db_instances
            .iter_mut()
            .find(|instance| instance.db_instance_identifier == target.id)
            .ok_or_else(|| FixError::NotFound(format!("DB instance `{}`", target.id)))?;
        instance.publicly_accessible = flag(state, "PubliclyAccessible").unwrap_or(instance.publicly_accessible);
        instance.deletion_protection = flag(state, "DeletionProtection").or(instance.deletion_protection);
        instance.auto_minor_version_upgrade = flag(state, "AutoMinorVersionUpgrade").or(instance.auto_minor_version_upgrade);
        instance.copy_tags_to_snapshot = flag(state, "CopyTagsToSnapshot").or(instance.copy_tags_to_snapshot);
        Ok(())
    },
    calls: |target, from, to| {
        let mut parameters = serde_json::Map::new();
        for (field, parameter, _) in DB_INSTANCE_FIELDS {
            if from.get(*field) != to.get(*field)
                && let Some(value) = to.get(*field)
            {
                parameters.insert(parameter.to_string(), value.clone());
            }
        }
        if parameters.is_empty() {
            return Ok(Vec::new());
        }
        parameters.insert("DBInstanceIdentifier".to_string(), json!(target.id));
        parameters.insert("ApplyImmediately".to_string(), json!(true));
        Ok(vec![Call::new("rds", "ModifyDBInstance", &target.region, Value::Object(parameters))])
    },
    normalize: as_is,
    iac: |target, after| {
        let terraform: Vec<(&str, Value)> =
            DB_INSTANCE_FIELDS.iter().map(|(field, _, attribute)| (*attribute, after.get(*field).cloned().unwrap_or(Value::Null))).collect();
        let cloudformation: Vec<(&str, Value)> =
            DB_INSTANCE_FIELDS.iter().map(|(field, _, _)| (*field, after.get(*field).cloned().unwrap_or(Value::Null))).collect();
        iac::resource_block(&format!("DB instance {}", target.id), "aws_db_instance", &terraform, "AWS::RDS::DBInstance", &cloudformation)
    },
};

// ---- RDS snapshot sharing ----

fn db_snapshot<'a>(inventory: &'a Inventory, target: &Target) -> Result<&'a DbSnapshot, FixError> {
    regional(inventory, &target.region)?
        .db_snapshots
        .iter()
        .find(|snapshot| snapshot.db_snapshot_identifier == target.id)
        .ok_or_else(|| FixError::NotFound(format!("DB snapshot `{}`", target.id)))
}

fn restore_accounts(state: &Value) -> Vec<String> {
    state.get("RestoreAccountIds").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

pub static DB_SNAPSHOT_SHARING: Kind = Kind {
    id: "rds-snapshot-sharing",
    title: "which accounts may restore an RDS DB or cluster snapshot",
    service: "rds",
    reads: &["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots", "rds:DescribeDBSnapshotAttributes", "rds:DescribeDBClusterSnapshotAttributes"],
    writes: &["rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        let snapshot = db_snapshot(inventory, target)?;
        let operation = if snapshot.is_cluster_snapshot { "DescribeDBClusterSnapshotAttributes" } else { "DescribeDBSnapshotAttributes" };
        require(inventory, "rds", &target.region, operation, Some(&target.id))?;
        Ok(json!({ "IsClusterSnapshot": snapshot.is_cluster_snapshot, "RestoreAccountIds": snapshot.restore_account_ids }))
    },
    set_state: |inventory, target, state| {
        let snapshot = regional_mut(inventory, &target.region)?
            .db_snapshots
            .iter_mut()
            .find(|snapshot| snapshot.db_snapshot_identifier == target.id)
            .ok_or_else(|| FixError::NotFound(format!("DB snapshot `{}`", target.id)))?;
        snapshot.restore_account_ids = restore_accounts(state);
        Ok(())
    },
    calls: |target, from, to| {
        let (before, after) = (restore_accounts(from), restore_accounts(to));
        let removed: Vec<&String> = before.iter().filter(|account| !after.contains(account)).collect();
        let added: Vec<&String> = after.iter().filter(|account| !before.contains(account)).collect();
        if removed.is_empty() && added.is_empty() {
            return Ok(Vec::new());
        }
        let cluster = flag(to, "IsClusterSnapshot").unwrap_or(false);
        let (operation, identifier) =
            if cluster { ("ModifyDBClusterSnapshotAttribute", "DBClusterSnapshotIdentifier") } else { ("ModifyDBSnapshotAttribute", "DBSnapshotIdentifier") };
        let mut parameters = json!({ identifier: target.id, "AttributeName": "restore" });
        if let Some(map) = parameters.as_object_mut() {
            if !added.is_empty() {
                map.insert("ValuesToAdd".to_string(), json!(added));
            }
            if !removed.is_empty() {
                map.insert("ValuesToRemove".to_string(), json!(removed));
            }
        }
        Ok(vec![Call::new("rds", operation, &target.region, parameters)])
    },
    normalize: |state| {
        let mut accounts = restore_accounts(state);
        accounts.sort();
        json!(accounts)
    },
    iac: |target, after| Iac {
        terraform: format!("# DB snapshot {}: Terraform does not manage snapshot sharing; shared with: {:?}\n", target.id, restore_accounts(after)),
        cloudformation: format!("# DB snapshot {}: CloudFormation does not manage snapshot sharing; change it with the API (see the calls)\n", target.id),
    },
};

// ---- DynamoDB table settings ----

pub static DYNAMODB_TABLE_SETTINGS: Kind = Kind {
    id: "dynamodb-table-settings",
    title: "a DynamoDB table's deletion protection and point-in-time recovery",
    service: "dynamodb",
    reads: &["dynamodb:ListTables", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"],
    writes: &["dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "dynamodb", &target.region, "DescribeTable", Some(&target.id))?;
        require(inventory, "dynamodb", &target.region, "DescribeContinuousBackups", Some(&target.id))?;
        let table = regional(inventory, &target.region)?
            .dynamodb_tables
            .iter()
            .find(|table| table.table_name == target.id)
            .ok_or_else(|| FixError::NotFound(format!("table `{}`", target.id)))?;
        Ok(json!({
            "DeletionProtectionEnabled": table.deletion_protection_enabled.unwrap_or(false),
            "PointInTimeRecoveryEnabled": table.point_in_time_recovery_status.as_deref() == Some("ENABLED"),
        }))
    },
    set_state: |inventory, target, state| {
        let table = regional_mut(inventory, &target.region)?
            .dynamodb_tables
            .iter_mut()
            .find(|table| table.table_name == target.id)
            .ok_or_else(|| FixError::NotFound(format!("table `{}`", target.id)))?;
        table.deletion_protection_enabled = flag(state, "DeletionProtectionEnabled").or(table.deletion_protection_enabled);
        if let Some(enabled) = flag(state, "PointInTimeRecoveryEnabled") {
            table.point_in_time_recovery_status = Some(if enabled { "ENABLED" } else { "DISABLED" }.to_string());
        }
        Ok(())
    },
    calls: |target, from, to| {
        let mut calls = Vec::new();
        if from.get("DeletionProtectionEnabled") != to.get("DeletionProtectionEnabled") {
            calls.push(Call::new(
                "dynamodb",
                "UpdateTable",
                &target.region,
                json!({ "TableName": target.id, "DeletionProtectionEnabled": flag(to, "DeletionProtectionEnabled").unwrap_or(false) }),
            ));
        }
        if from.get("PointInTimeRecoveryEnabled") != to.get("PointInTimeRecoveryEnabled") {
            calls.push(Call::new(
                "dynamodb",
                "UpdateContinuousBackups",
                &target.region,
                json!({ "TableName": target.id, "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": flag(to, "PointInTimeRecoveryEnabled").unwrap_or(false) } }),
            ));
        }
        Ok(calls)
    },
    normalize: as_is,
    iac: |target, after| {
        let protection = after.get("DeletionProtectionEnabled").cloned().unwrap_or(Value::Null);
        let recovery = after.get("PointInTimeRecoveryEnabled").cloned().unwrap_or(Value::Null);
        iac::resource_block(
            &format!("table {}", target.id),
            "aws_dynamodb_table",
            &[("deletion_protection_enabled", protection.clone()), ("point_in_time_recovery", json!({ "enabled": recovery }))],
            "AWS::DynamoDB::Table",
            &[("DeletionProtectionEnabled", protection), ("PointInTimeRecoverySpecification", json!({ "PointInTimeRecoveryEnabled": recovery }))],
        )
    },
};
