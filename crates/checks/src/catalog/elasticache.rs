//! ElastiCache checks: encryption at rest and in transit, AUTH, automatic failover,
//! automatic backups, minor version upgrades and subnet groups.

use serde_json::json;
use vigil_model::elasticache::{CacheCluster, ReplicationGroup};

use super::FnCheck;
use super::support::{Verdict, each_regional, subject_of};
use crate::context::Context;
use crate::{Finding, Metadata, Read, Remediation, Severity};

const GROUPS: &[Read] = &[Read::regional("elasticache", "DescribeReplicationGroups")];
const CLUSTERS: &[Read] = &[Read::regional("elasticache", "DescribeCacheClusters")];
const GROUPS_AND_CLUSTERS: &[Read] = &[Read::regional("elasticache", "DescribeReplicationGroups"), Read::regional("elasticache", "DescribeCacheClusters")];

fn redis_like(engine: Option<&str>) -> bool {
    // Replication groups of older API versions carry no engine: they are Redis OSS.
    matches!(engine, None | Some("redis" | "valkey"))
}

fn group_check(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, judge: fn(&ReplicationGroup) -> Option<Verdict>) {
    each_regional(metadata, context, findings, |group: &ReplicationGroup, _, _| judge(group).map(|verdict| (vec![], verdict)));
}

fn cluster_check(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, judge: fn(&CacheCluster) -> Option<Verdict>) {
    each_regional(metadata, context, findings, |cluster: &CacheCluster, _, _| judge(cluster).map(|verdict| (vec![], verdict)));
}

pub static REPLICATION_GROUP_ENCRYPTED_AT_REST: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_replication_group_encrypted_at_rest",
        title: "ElastiCache replication groups are encrypted at rest",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::ReplicationGroup",
        severity: Severity::Medium,
        risk: "Cached data, swap and backups of an unencrypted group are readable from the underlying storage and backup copies.",
        remediation: Remediation {
            text: "Encryption at rest is set at creation: create an encrypted group from a backup and switch clients to it.",
            cli: "aws elasticache create-replication-group --replication-group-id NEW_ID --replication-group-description encrypted --snapshot-name BACKUP --at-rest-encryption-enabled",
            terraform: "resource \"aws_elasticache_replication_group\" \"main\" {\n  # ...\n  at_rest_encryption_enabled = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.4"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        group_check(metadata, context, findings, |group| {
            let on = group.at_rest_encryption_enabled == Some(true);
            Some((
                on,
                format!("Replication group `{}` encryption at rest is {}.", group.replication_group_id, if on { "on" } else { "off" }),
                json!({ "AtRestEncryptionEnabled": group.at_rest_encryption_enabled, "KmsKeyId": group.kms_key_id }),
            ))
        })
    },
};

pub static REPLICATION_GROUP_ENCRYPTED_IN_TRANSIT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_replication_group_encrypted_in_transit",
        title: "ElastiCache replication groups require TLS in transit",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::ReplicationGroup",
        severity: Severity::High,
        risk: "Without in-transit encryption (or in `preferred` mode, which still accepts clear-text clients), commands, data and AUTH tokens cross the network in clear text.",
        remediation: Remediation {
            text: "Enable in-transit encryption and set the transit encryption mode to `required`.",
            cli: "aws elasticache modify-replication-group --replication-group-id ID --transit-encryption-enabled --transit-encryption-mode required --apply-immediately",
            terraform: "resource \"aws_elasticache_replication_group\" \"main\" {\n  # ...\n  transit_encryption_enabled = true\n  transit_encryption_mode    = \"required\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.5"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        group_check(metadata, context, findings, |group| {
            let on = group.transit_encryption_enabled == Some(true) && group.transit_encryption_mode.as_deref() != Some("preferred");
            Some((
                on,
                format!("Replication group `{}` {} TLS in transit.", group.replication_group_id, if on { "requires" } else { "does not require" }),
                json!({ "TransitEncryptionEnabled": group.transit_encryption_enabled, "TransitEncryptionMode": group.transit_encryption_mode }),
            ))
        })
    },
};

pub static REPLICATION_GROUP_AUTH: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_replication_group_auth_enabled",
        title: "ElastiCache (Redis OSS/Valkey) replication groups require authentication",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::ReplicationGroup",
        severity: Severity::High,
        risk: "Without an AUTH token or RBAC user groups any client that reaches the endpoint can read and overwrite every key.",
        remediation: Remediation {
            text: "Set an AUTH token (requires in-transit encryption) or attach an RBAC user group.",
            cli: "aws elasticache modify-replication-group --replication-group-id ID --auth-token TOKEN --auth-token-update-strategy ROTATE --apply-immediately",
            terraform: "resource \"aws_elasticache_replication_group\" \"main\" {\n  # ...\n  transit_encryption_enabled = true\n  auth_token                 = var.redis_auth_token\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.6"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "IA-2")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        group_check(metadata, context, findings, |group| {
            if !redis_like(group.engine.as_deref()) {
                return None;
            }
            let on = group.auth_token_enabled == Some(true) || !group.user_group_ids.is_empty();
            Some((
                on,
                format!("Replication group `{}` {} authentication.", group.replication_group_id, if on { "requires" } else { "does not require" }),
                json!({ "AuthTokenEnabled": group.auth_token_enabled, "UserGroupIds": group.user_group_ids }),
            ))
        })
    },
};

pub static REPLICATION_GROUP_AUTOMATIC_FAILOVER: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_replication_group_automatic_failover",
        title: "ElastiCache replication groups have automatic failover (Multi-AZ) enabled",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::ReplicationGroup",
        severity: Severity::Medium,
        risk: "Without automatic failover the loss of the primary node or its zone leaves the cache read-only or down until someone intervenes.",
        remediation: Remediation {
            text: "Add a replica in another Availability Zone and enable automatic failover and Multi-AZ.",
            cli: "aws elasticache modify-replication-group --replication-group-id ID --automatic-failover-enabled --multi-az-enabled --apply-immediately",
            terraform: "resource \"aws_elasticache_replication_group\" \"main\" {\n  # ...\n  automatic_failover_enabled = true\n  multi_az_enabled           = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.3"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SC-36")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        group_check(metadata, context, findings, |group| {
            let on = group.automatic_failover.as_deref() == Some("enabled");
            Some((
                on,
                format!(
                    "Replication group `{}` automatic failover is {}.",
                    group.replication_group_id,
                    group.automatic_failover.as_deref().unwrap_or("disabled")
                ),
                json!({ "AutomaticFailover": group.automatic_failover, "MultiAZ": group.multi_az }),
            ))
        })
    },
};

pub static BACKUP_ENABLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_redis_backup_enabled",
        title: "ElastiCache (Redis OSS/Valkey) replication groups and standalone clusters keep automatic backups",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::ReplicationGroup",
        severity: Severity::Medium,
        risk: "Without automatic backups a flushed or corrupted dataset cannot be restored. Policy parameter `elasticache_min_snapshot_retention_days` (default 1).",
        remediation: Remediation {
            text: "Set a snapshot retention limit of at least one day.",
            cli: "aws elasticache modify-replication-group --replication-group-id ID --snapshot-retention-limit 7 --apply-immediately",
            terraform: "resource \"aws_elasticache_replication_group\" \"main\" {\n  # ...\n  snapshot_retention_limit = 7\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.1"), ("nist-800-53-r5", "CP-9")],
        reads: GROUPS_AND_CLUSTERS,
    },
    run: |metadata, context, findings| {
        fn minimum(context: &Context<'_>, subject: &crate::context::Subject) -> i64 {
            context.number(subject, "elasticache_min_snapshot_retention_days", 1)
        }
        each_regional(metadata, context, findings, |group: &ReplicationGroup, _, region| {
            if !redis_like(group.engine.as_deref()) {
                return None;
            }
            let minimum = minimum(context, &subject_of(context, region, group));
            let retention = group.snapshot_retention_limit.unwrap_or(0);
            let message =
                format!("Replication group `{}` keeps automatic backups for {retention} day(s); at least {minimum} required.", group.replication_group_id);
            Some((vec![], (i64::from(retention) >= minimum, message, json!({ "SnapshotRetentionLimit": group.snapshot_retention_limit }))))
        });
        each_regional(metadata, context, findings, |cluster: &CacheCluster, _, region| {
            if cluster.replication_group_id.is_some() || !matches!(cluster.engine.as_deref(), Some("redis" | "valkey")) {
                return None;
            }
            let minimum = minimum(context, &subject_of(context, region, cluster));
            let retention = cluster.snapshot_retention_limit.unwrap_or(0);
            let message = format!("Cache cluster `{}` keeps automatic backups for {retention} day(s); at least {minimum} required.", cluster.cache_cluster_id);
            Some((vec![], (i64::from(retention) >= minimum, message, json!({ "SnapshotRetentionLimit": cluster.snapshot_retention_limit }))))
        });
    },
};

pub static CLUSTER_MINOR_VERSION_UPGRADE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_cluster_minor_version_upgrade",
        title: "ElastiCache clusters apply minor engine versions automatically",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::CacheCluster",
        severity: Severity::Low,
        risk: "Minor versions carry security fixes; without automatic upgrades known vulnerabilities stay unpatched.",
        remediation: Remediation {
            text: "Enable automatic minor version upgrades.",
            cli: "aws elasticache modify-cache-cluster --cache-cluster-id ID --auto-minor-version-upgrade --apply-immediately",
            terraform: "resource \"aws_elasticache_cluster\" \"main\" {\n  # ...\n  auto_minor_version_upgrade = true\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/VersionManagement.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.2"), ("nist-800-53-r5", "SI-2")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let on = cluster.auto_minor_version_upgrade == Some(true);
            Some((
                on,
                format!("Cache cluster `{}` automatic minor version upgrade is {}.", cluster.cache_cluster_id, if on { "on" } else { "off" }),
                json!({ "AutoMinorVersionUpgrade": cluster.auto_minor_version_upgrade }),
            ))
        })
    },
};

pub static CLUSTER_CUSTOM_SUBNET_GROUP: FnCheck = FnCheck {
    metadata: Metadata {
        id: "elasticache_cluster_custom_subnet_group",
        title: "ElastiCache clusters do not use the default subnet group",
        service: "elasticache",
        resource_type: "AWS::ElastiCache::CacheCluster",
        severity: Severity::Low,
        risk: "The default subnet group spans the default VPC's subnets, which are usually public; a cache placed there is one rule away from the internet.",
        remediation: Remediation {
            text: "Create a subnet group of private subnets and recreate the cluster in it.",
            cli: "aws elasticache create-cache-subnet-group --cache-subnet-group-name private --cache-subnet-group-description private --subnet-ids SUBNET_A SUBNET_B",
            terraform: "resource \"aws_elasticache_subnet_group\" \"private\" {\n  name       = \"private\"\n  subnet_ids = [aws_subnet.private_a.id, aws_subnet.private_b.id]\n}",
        },
        references: &["https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/SubnetGroups.html"],
        frameworks: &[("aws-fsbp", "ElastiCache.7"), ("nist-800-53-r5", "SC-7")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let group = cluster.cache_subnet_group_name.as_deref().unwrap_or("default");
            Some((
                group != "default",
                format!("Cache cluster `{}` is in subnet group `{group}`.", cluster.cache_cluster_id),
                json!({ "CacheSubnetGroupName": cluster.cache_subnet_group_name }),
            ))
        })
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn group(id: &str) -> ReplicationGroup {
        ReplicationGroup {
            replication_group_id: id.into(),
            arn: format!("arn:aws:elasticache:us-east-1:123456789012:replicationgroup:{id}"),
            engine: Some("redis".into()),
            ..ReplicationGroup::default()
        }
    }

    fn cluster(id: &str) -> CacheCluster {
        CacheCluster {
            cache_cluster_id: id.into(),
            arn: format!("arn:aws:elasticache:us-east-1:123456789012:cluster:{id}"),
            engine: Some("redis".into()),
            ..CacheCluster::default()
        }
    }

    macro_rules! group_twin {
        ($check:expr, $bad:expr, $good:expr) => {
            Twin {
                check: &$check,
                calls: vec![],
                place: |regional| {
                    regional.replication_groups.push($bad);
                    regional.replication_groups.push($good);
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
                    regional.cache_clusters.push($bad);
                    regional.cache_clusters.push($good);
                },
            }
        };
    }

    #[test]
    fn elasticache_twins() {
        check_twins(&[
            group_twin!(REPLICATION_GROUP_ENCRYPTED_AT_REST, group("bad"), ReplicationGroup { at_rest_encryption_enabled: Some(true), ..group("good") }),
            group_twin!(
                REPLICATION_GROUP_ENCRYPTED_IN_TRANSIT,
                ReplicationGroup { transit_encryption_enabled: Some(true), transit_encryption_mode: Some("preferred".into()), ..group("bad") },
                ReplicationGroup { transit_encryption_enabled: Some(true), transit_encryption_mode: Some("required".into()), ..group("good") }
            ),
            group_twin!(
                REPLICATION_GROUP_AUTH,
                ReplicationGroup { auth_token_enabled: Some(false), ..group("bad") },
                ReplicationGroup { user_group_ids: vec!["app-users".into()], ..group("good") }
            ),
            group_twin!(
                REPLICATION_GROUP_AUTOMATIC_FAILOVER,
                ReplicationGroup { automatic_failover: Some("disabled".into()), ..group("bad") },
                ReplicationGroup { automatic_failover: Some("enabled".into()), ..group("good") }
            ),
            group_twin!(
                BACKUP_ENABLED,
                ReplicationGroup { snapshot_retention_limit: Some(0), ..group("bad") },
                ReplicationGroup { snapshot_retention_limit: Some(5), ..group("good") }
            ),
            cluster_twin!(BACKUP_ENABLED, cluster("bad"), CacheCluster { snapshot_retention_limit: Some(1), ..cluster("good") }),
            cluster_twin!(
                CLUSTER_MINOR_VERSION_UPGRADE,
                CacheCluster { auto_minor_version_upgrade: Some(false), ..cluster("bad") },
                CacheCluster { auto_minor_version_upgrade: Some(true), ..cluster("good") }
            ),
            cluster_twin!(
                CLUSTER_CUSTOM_SUBNET_GROUP,
                CacheCluster { cache_subnet_group_name: Some("default".into()), ..cluster("bad") },
                CacheCluster { cache_subnet_group_name: Some("private".into()), ..cluster("good") }
            ),
        ]);
    }
}
