//! Redshift checks: encryption at rest, public access, TLS required by the parameter group,
//! audit logging, automated snapshots, enhanced VPC routing, version upgrades, default names.

use serde_json::json;
use vigil_model::RegionalInventory;
use vigil_model::redshift::RedshiftCluster;

use super::FnCheck;
use super::support::{Verdict, each_regional, subject_of};
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const CLUSTERS: &[Read] = &[Read::regional("redshift", "DescribeClusters")];

fn cluster_check(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, judge: fn(&RedshiftCluster) -> Verdict) {
    each_regional(metadata, context, findings, |cluster: &RedshiftCluster, _, _| Some((vec![], judge(cluster))));
}

pub static CLUSTER_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_encrypted",
        title: "Redshift clusters are encrypted at rest",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::High,
        risk: "An unencrypted warehouse exposes every table, backup and snapshot to anyone who obtains the storage or a snapshot copy.",
        remediation: Remediation {
            text: "Enable encryption with a KMS key (Redshift migrates the data in place).",
            cli: "aws redshift modify-cluster --cluster-identifier ID --encrypted --kms-key-id KEY_ARN",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  encrypted  = true\n  kms_key_id = aws_kms_key.redshift.arn\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-db-encryption.html"],
        frameworks: &[("aws-fsbp", "Redshift.10"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            (
                cluster.encrypted,
                format!("Redshift cluster `{}` is {}encrypted.", cluster.cluster_identifier, if cluster.encrypted { "" } else { "not " }),
                json!({ "Encrypted": cluster.encrypted, "KmsKeyId": cluster.kms_key_id }),
            )
        })
    },
};

pub static CLUSTER_NOT_PUBLICLY_ACCESSIBLE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_not_publicly_accessible",
        title: "Redshift clusters are not publicly accessible",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Critical,
        risk: "A publicly accessible cluster gets a public address; one permissive security group rule then exposes the warehouse to the internet.",
        remediation: Remediation {
            text: "Turn off public accessibility.",
            cli: "aws redshift modify-cluster --cluster-identifier ID --no-publicly-accessible",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  publicly_accessible = false\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/managing-clusters-vpc.html"],
        frameworks: &[("aws-fsbp", "Redshift.1"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "SC-7")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let public = cluster.publicly_accessible;
            (
                !public,
                format!("Redshift cluster `{}` is {}publicly accessible.", cluster.cluster_identifier, if public { "" } else { "not " }),
                json!({ "PubliclyAccessible": public, "Endpoint": cluster.endpoint_address }),
            )
        })
    },
};

/// The value of `require_ssl` in the cluster's parameter groups (engine default `false`).
fn require_ssl(cluster: &RedshiftCluster, regional: &RegionalInventory) -> (bool, serde_json::Value) {
    let mut values = serde_json::Map::new();
    for name in &cluster.cluster_parameter_group_names {
        let value = regional
            .redshift_parameter_groups
            .iter()
            .find(|group| &group.parameter_group_name == name)
            .and_then(|group| group.parameters.get("require_ssl"))
            .cloned()
            .unwrap_or_else(|| "false".to_string());
        values.insert(name.clone(), json!(value));
    }
    let on = !values.is_empty() && values.values().all(|value| value.as_str().is_some_and(|text| text.eq_ignore_ascii_case("true")));
    (on, serde_json::Value::Object(values))
}

pub static CLUSTER_REQUIRE_SSL: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_require_ssl",
        title: "Redshift clusters refuse connections without TLS",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::High,
        risk: "Unless `require_ssl` is true in the cluster's parameter group, clients may connect in clear text and expose credentials and query results.",
        remediation: Remediation {
            text: "Set `require_ssl` to true in a custom parameter group attached to the cluster.",
            cli: "aws redshift modify-cluster-parameter-group --parameter-group-name GROUP --parameters ParameterName=require_ssl,ParameterValue=true",
            terraform: "resource \"aws_redshift_parameter_group\" \"tls\" {\n  name   = \"tls\"\n  family = \"redshift-1.0\"\n  parameter {\n    name  = \"require_ssl\"\n    value = \"true\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/connecting-ssl-support.html"],
        frameworks: &[("aws-fsbp", "Redshift.2"), ("pci-dss-4.0", "4.2.1"), ("nist-800-53-r5", "SC-8")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |cluster: &RedshiftCluster, regional, region| {
            let (on, evidence) = require_ssl(cluster, regional);
            let needs =
                cluster.cluster_parameter_group_names.iter().map(|name| Needs::call("redshift", region, "DescribeClusterParameters").on(name)).collect();
            let message = format!("Redshift cluster `{}` {} TLS.", cluster.cluster_identifier, if on { "requires" } else { "does not require" });
            Some((needs, (on, message, json!({ "require_ssl": evidence }))))
        })
    },
};

pub static CLUSTER_AUDIT_LOGGING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_audit_logging",
        title: "Redshift clusters have audit logging enabled",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Medium,
        risk: "Without audit logs there is no record of connections, users and queries to investigate data theft.",
        remediation: Remediation {
            text: "Enable audit logging to S3 or CloudWatch Logs.",
            cli: "aws redshift enable-logging --cluster-identifier ID --log-destination-type cloudwatch --log-exports connectionlog userlog useractivitylog",
            terraform: "resource \"aws_redshift_logging\" \"main\" {\n  cluster_identifier   = aws_redshift_cluster.main.id\n  log_destination_type = \"cloudwatch\"\n  log_exports          = [\"connectionlog\", \"userlog\", \"useractivitylog\"]\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/db-auditing.html"],
        frameworks: &[("aws-fsbp", "Redshift.4"), ("pci-dss-4.0", "10.2.1"), ("nist-800-53-r5", "AU-2"), ("nist-800-53-r5", "AU-12")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |cluster: &RedshiftCluster, _, region| {
            let on = cluster.logging_status.as_ref().is_some_and(|status| status.logging_enabled);
            let message = format!("Redshift cluster `{}` audit logging is {}.", cluster.cluster_identifier, if on { "on" } else { "off" });
            Some((
                vec![Needs::call("redshift", region, "DescribeLoggingStatus").on(&cluster.cluster_identifier)],
                (on, message, json!({ "LoggingStatus": cluster.logging_status })),
            ))
        })
    },
};

pub static CLUSTER_AUTOMATED_SNAPSHOTS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_automated_snapshots",
        title: "Redshift clusters keep automated snapshots for at least 7 days",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Medium,
        risk: "Without automated snapshots a dropped table or a corrupted load cannot be recovered. Policy parameter `redshift_min_snapshot_retention_days` (default 7).",
        remediation: Remediation {
            text: "Set the automated snapshot retention period to at least 7 days.",
            cli: "aws redshift modify-cluster --cluster-identifier ID --automated-snapshot-retention-period 7",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  automated_snapshot_retention_period = 7\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-snapshots.html"],
        frameworks: &[("aws-fsbp", "Redshift.3"), ("nist-800-53-r5", "CP-9")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |cluster: &RedshiftCluster, _, region| {
            let minimum = context.number(&subject_of(context, region, cluster), "redshift_min_snapshot_retention_days", 7);
            let retention = cluster.automated_snapshot_retention_period.unwrap_or(0);
            let message =
                format!("Redshift cluster `{}` keeps automated snapshots for {retention} day(s); at least {minimum} required.", cluster.cluster_identifier);
            Some((
                vec![],
                (i64::from(retention) >= minimum, message, json!({ "AutomatedSnapshotRetentionPeriod": cluster.automated_snapshot_retention_period })),
            ))
        })
    },
};

pub static CLUSTER_ENHANCED_VPC_ROUTING: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_enhanced_vpc_routing",
        title: "Redshift clusters use enhanced VPC routing",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Low,
        risk: "Without enhanced VPC routing COPY and UNLOAD traffic bypasses the VPC's security groups, endpoints policies and flow logs.",
        remediation: Remediation {
            text: "Enable enhanced VPC routing.",
            cli: "aws redshift modify-cluster --cluster-identifier ID --enhanced-vpc-routing",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  enhanced_vpc_routing = true\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/enhanced-vpc-routing.html"],
        frameworks: &[("aws-fsbp", "Redshift.7"), ("nist-800-53-r5", "SC-7")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let on = cluster.enhanced_vpc_routing;
            (
                on,
                format!("Redshift cluster `{}` enhanced VPC routing is {}.", cluster.cluster_identifier, if on { "on" } else { "off" }),
                json!({ "EnhancedVpcRouting": on }),
            )
        })
    },
};

pub static CLUSTER_VERSION_UPGRADE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_version_upgrade",
        title: "Redshift clusters receive major version upgrades automatically",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Low,
        risk: "Clusters that do not take engine upgrades keep known vulnerabilities.",
        remediation: Remediation {
            text: "Allow version upgrades during the maintenance window.",
            cli: "aws redshift modify-cluster --cluster-identifier ID --allow-version-upgrade",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  allow_version_upgrade = true\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html#rs-mgmt-maintenance-tracks"],
        frameworks: &[("aws-fsbp", "Redshift.6"), ("nist-800-53-r5", "SI-2")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        cluster_check(metadata, context, findings, |cluster| {
            let on = cluster.allow_version_upgrade == Some(true);
            (
                on,
                format!("Redshift cluster `{}` version upgrades are {}.", cluster.cluster_identifier, if on { "allowed" } else { "not allowed" }),
                json!({ "AllowVersionUpgrade": cluster.allow_version_upgrade }),
            )
        })
    },
};

pub static CLUSTER_CUSTOM_ADMIN_USERNAME: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_custom_admin_username",
        title: "Redshift clusters do not use the default administrator username",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Low,
        risk: "`awsuser` is the name attackers try first when guessing passwords.",
        remediation: Remediation {
            text: "Create a new cluster from a snapshot with a custom administrator username.",
            cli: "aws redshift restore-from-cluster-snapshot --cluster-identifier NEW_ID --snapshot-identifier SNAP  # then create a new superuser and drop awsuser",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  master_username = \"dw_owner\"\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html"],
        frameworks: &[("aws-fsbp", "Redshift.8"), ("nist-800-53-r5", "AC-2"), ("nist-800-53-r5", "IA-5")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |cluster: &RedshiftCluster, _, _| {
            let username = cluster.master_username.as_deref()?;
            let default = username == "awsuser";
            Some((
                vec![],
                (!default, format!("Redshift cluster `{}` administrator is `{username}`.", cluster.cluster_identifier), json!({ "MasterUsername": username })),
            ))
        })
    },
};

pub static CLUSTER_CUSTOM_DATABASE_NAME: FnCheck = FnCheck {
    metadata: Metadata {
        id: "redshift_cluster_custom_database_name",
        title: "Redshift clusters do not use the default database name",
        service: "redshift",
        resource_type: "AWS::Redshift::Cluster",
        severity: Severity::Low,
        risk: "The default database name `dev` is what attackers try first.",
        remediation: Remediation {
            text: "Create the cluster with a custom database name.",
            cli: "aws redshift create-cluster --cluster-identifier ID --db-name analytics ...",
            terraform: "resource \"aws_redshift_cluster\" \"main\" {\n  # ...\n  database_name = \"analytics\"\n}",
        },
        references: &["https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html"],
        frameworks: &[("aws-fsbp", "Redshift.9"), ("nist-800-53-r5", "CM-7")],
        reads: CLUSTERS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |cluster: &RedshiftCluster, _, _| {
            let name = cluster.db_name.as_deref()?;
            Some((vec![], (name != "dev", format!("Redshift cluster `{}` database is `{name}`.", cluster.cluster_identifier), json!({ "DBName": name }))))
        })
    },
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use vigil_model::redshift::{LoggingStatus, RedshiftParameterGroup};

    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn cluster(id: &str) -> RedshiftCluster {
        RedshiftCluster {
            cluster_identifier: id.into(),
            cluster_arn: format!("arn:aws:redshift:us-east-1:123456789012:cluster:{id}"),
            ..RedshiftCluster::default()
        }
    }

    macro_rules! twin {
        ($check:expr, $bad:expr, $good:expr) => {
            Twin {
                check: &$check,
                calls: vec![],
                place: |regional| {
                    regional.redshift_clusters.push($bad);
                    regional.redshift_clusters.push($good);
                },
            }
        };
    }

    #[test]
    fn redshift_twins() {
        check_twins(&[
            twin!(CLUSTER_ENCRYPTED, cluster("bad"), RedshiftCluster { encrypted: true, ..cluster("good") }),
            twin!(CLUSTER_NOT_PUBLICLY_ACCESSIBLE, RedshiftCluster { publicly_accessible: true, ..cluster("bad") }, cluster("good")),
            twin!(
                CLUSTER_AUTOMATED_SNAPSHOTS,
                RedshiftCluster { automated_snapshot_retention_period: Some(0), ..cluster("bad") },
                RedshiftCluster { automated_snapshot_retention_period: Some(7), ..cluster("good") }
            ),
            twin!(CLUSTER_ENHANCED_VPC_ROUTING, cluster("bad"), RedshiftCluster { enhanced_vpc_routing: true, ..cluster("good") }),
            twin!(
                CLUSTER_VERSION_UPGRADE,
                RedshiftCluster { allow_version_upgrade: Some(false), ..cluster("bad") },
                RedshiftCluster { allow_version_upgrade: Some(true), ..cluster("good") }
            ),
            twin!(
                CLUSTER_CUSTOM_ADMIN_USERNAME,
                RedshiftCluster { master_username: Some("awsuser".into()), ..cluster("bad") },
                RedshiftCluster { master_username: Some("dw_owner".into()), ..cluster("good") }
            ),
            twin!(
                CLUSTER_CUSTOM_DATABASE_NAME,
                RedshiftCluster { db_name: Some("dev".into()), ..cluster("bad") },
                RedshiftCluster { db_name: Some("analytics".into()), ..cluster("good") }
            ),
            Twin {
                check: &CLUSTER_AUDIT_LOGGING,
                calls: vec![("DescribeLoggingStatus", "bad"), ("DescribeLoggingStatus", "good")],
                place: |regional| {
                    regional.redshift_clusters.push(RedshiftCluster { logging_status: Some(LoggingStatus::default()), ..cluster("bad") });
                    regional
                        .redshift_clusters
                        .push(RedshiftCluster { logging_status: Some(LoggingStatus { logging_enabled: true, ..LoggingStatus::default() }), ..cluster("good") });
                },
            },
            Twin {
                check: &CLUSTER_REQUIRE_SSL,
                calls: vec![("DescribeClusterParameters", "default.redshift-1.0"), ("DescribeClusterParameters", "tls")],
                place: |regional| {
                    regional.redshift_clusters.push(RedshiftCluster { cluster_parameter_group_names: vec!["default.redshift-1.0".into()], ..cluster("bad") });
                    regional.redshift_clusters.push(RedshiftCluster { cluster_parameter_group_names: vec!["tls".into()], ..cluster("good") });
                    regional.redshift_parameter_groups.push(RedshiftParameterGroup {
                        parameter_group_name: "default.redshift-1.0".into(),
                        parameters: BTreeMap::from([("require_ssl".to_string(), "false".to_string())]),
                    });
                    regional.redshift_parameter_groups.push(RedshiftParameterGroup {
                        parameter_group_name: "tls".into(),
                        parameters: BTreeMap::from([("require_ssl".to_string(), "true".to_string())]),
                    });
                },
            },
        ]);
    }
}
