//! The inventory: one account's resources, the regions scanned and the coverage ledger.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ec2::Ec2;
use crate::iam::Iam;
use crate::ledger::Ledger;
use crate::monitoring::{ConfigurationRecorder, DeliveryChannel, KmsKey, LogGroup, MetricAlarm, MetricFilter, Topic, Trail};
use crate::s3::S3;
use crate::{AccountId, Region, Timestamp};

/// Everything collection read from one account, and what it could not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Inventory {
    pub account: AccountInfo,
    /// The regions collection was asked to read.
    pub regions: Vec<Region>,
    pub collected_at: Timestamp,
    /// The version of vigil that collected it.
    pub collector_version: String,
    #[serde(default)]
    pub iam: Iam,
    #[serde(default)]
    pub s3: S3,
    /// CloudFront and Route 53 (global services).
    #[serde(default)]
    pub edge: crate::edge::Edge,
    /// Per-region services, keyed by region name.
    #[serde(default)]
    pub regional: BTreeMap<Region, RegionalInventory>,
    /// The organization's SCPs and RCPs with their targets, when the account belongs to an
    /// organization whose management (or a delegated administrator) account could be read.
    #[serde(default)]
    pub organization_policies: Option<OrganizationPolicies>,
    #[serde(default)]
    pub ledger: Ledger,
}

/// Who collected and which account it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountInfo {
    pub account_id: AccountId,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    #[serde(default = "default_partition")]
    pub partition: String,
    /// STS GetCallerIdentity.Arn.
    #[serde(default)]
    pub caller_arn: Option<String>,
    #[serde(default)]
    pub caller_user_id: Option<String>,
    /// Organizations DescribeOrganization; `None` when not a member (ledger: not configured).
    #[serde(default)]
    pub organization: Option<Organization>,
}

fn default_partition() -> String {
    "aws".to_string()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Organization {
    pub id: String,
    pub arn: Option<String>,
    pub master_account_id: Option<String>,
    pub feature_set: Option<String>,
    /// The ids of the organization's accounts (Organizations ListAccounts), when known: read by
    /// the management account, or given to every account of a `--org-role` scan. `None` when
    /// not read (a member account cannot list its organization).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
}

/// An organization's authorization policies (SCPs and RCPs) and where they are attached, as
/// Organizations ListRoots, ListOrganizationalUnitsForParent, ListParents, ListPolicies,
/// DescribePolicy and ListTargetsForPolicy return them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrganizationPolicies {
    /// The account they were read from: the management account or a delegated administrator.
    pub read_from_account: String,
    pub roots: Vec<OrganizationRoot>,
    pub organizational_units: Vec<OrganizationalUnit>,
    pub policies: Vec<OrganizationPolicy>,
    /// Account id → its ancestors from the root down (`r-...`, then `ou-...` ids).
    pub parents: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrganizationRoot {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// The policy types enabled on the root (`SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`...).
    pub enabled_policy_types: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrganizationalUnit {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub parent_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrganizationPolicy {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// `SERVICE_CONTROL_POLICY` or `RESOURCE_CONTROL_POLICY`.
    pub policy_type: String,
    pub aws_managed: bool,
    /// The policy document (DescribePolicy's `Content`, parsed).
    pub document: serde_json::Value,
    /// The roots, OUs and accounts it is attached to (ids).
    pub targets: Vec<String>,
}

/// The services read per region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegionalInventory {
    pub ec2: Ec2,
    /// Trails whose home region is this one (shadow copies are not repeated).
    pub trails: Vec<Trail>,
    pub log_groups: Vec<LogGroup>,
    pub metric_filters: Vec<MetricFilter>,
    pub metric_alarms: Vec<MetricAlarm>,
    pub sns_topics: Vec<Topic>,
    pub kms_keys: Vec<KmsKey>,
    pub configuration_recorders: Vec<ConfigurationRecorder>,
    pub delivery_channels: Vec<DeliveryChannel>,
    pub load_balancers: Vec<crate::elb::LoadBalancer>,
    pub target_groups: Vec<crate::elb::TargetGroup>,
    pub classic_load_balancers: Vec<crate::elb::ClassicLoadBalancer>,
    pub db_instances: Vec<crate::rds::DbInstance>,
    pub db_clusters: Vec<crate::rds::DbCluster>,
    pub db_snapshots: Vec<crate::rds::DbSnapshot>,
    pub db_parameter_groups: Vec<crate::rds::DbParameterGroup>,
    pub redshift_clusters: Vec<crate::redshift::RedshiftCluster>,
    pub redshift_parameter_groups: Vec<crate::redshift::RedshiftParameterGroup>,
    pub replication_groups: Vec<crate::elasticache::ReplicationGroup>,
    pub cache_clusters: Vec<crate::elasticache::CacheCluster>,
    pub cache_subnet_groups: Vec<crate::elasticache::CacheSubnetGroup>,
    pub dynamodb_tables: Vec<crate::dynamodb::Table>,
    pub auto_scaling_groups: Vec<crate::autoscaling::AutoScalingGroup>,
    pub launch_configurations: Vec<crate::autoscaling::LaunchConfiguration>,
    pub certificates: Vec<crate::acm::Certificate>,
    pub sqs_queues: Vec<crate::messaging::Queue>,
    pub kinesis_streams: Vec<crate::messaging::Stream>,
    pub email_identities: Vec<crate::messaging::EmailIdentity>,
    pub lambda_functions: Vec<crate::lambda::Function>,
    pub guardduty_detectors: Vec<crate::security::Detector>,
    /// `None` when Security Hub is not enabled in the region (ledger: not configured).
    pub security_hub: Option<crate::security::SecurityHub>,
    pub secrets: Vec<crate::security::Secret>,
    pub ecr_repositories: Vec<crate::security::Repository>,
    pub ecs_clusters: Vec<crate::workloads::EcsCluster>,
    /// Active task definitions (the latest revision of each family, and every revision a
    /// service or running task uses).
    pub ecs_task_definitions: Vec<crate::workloads::EcsTaskDefinition>,
    pub ecs_services: Vec<crate::workloads::EcsService>,
    pub ecs_tasks: Vec<crate::workloads::EcsTask>,
    pub glue_jobs: Vec<crate::workloads::GlueJob>,
    pub glue_dev_endpoints: Vec<crate::workloads::GlueDevEndpoint>,
    pub sagemaker_notebook_instances: Vec<crate::workloads::NotebookInstance>,
    pub sagemaker_jobs: Vec<crate::workloads::SageMakerJob>,
    pub codebuild_projects: Vec<crate::workloads::CodeBuildProject>,
    pub cloudformation_stacks: Vec<crate::workloads::CloudFormationStack>,
    pub cloudformation_stack_sets: Vec<crate::workloads::StackSet>,
    pub apprunner_services: Vec<crate::workloads::AppRunnerService>,
    pub ssm_managed_instances: Vec<crate::workloads::ManagedInstance>,
    pub agentcore_resources: Vec<crate::workloads::AgentCoreResource>,
}

impl Inventory {
    /// An empty inventory for an account, as collection starts it.
    pub fn new(account: AccountInfo, regions: Vec<Region>, collected_at: Timestamp) -> Inventory {
        Inventory {
            account,
            regions,
            collected_at,
            collector_version: env!("CARGO_PKG_VERSION").to_string(),
            iam: Iam::default(),
            s3: S3::default(),
            edge: crate::edge::Edge::default(),
            regional: BTreeMap::new(),
            organization_policies: None,
            ledger: Ledger::default(),
        }
    }

    pub fn account_id(&self) -> &AccountId {
        &self.account.account_id
    }

    pub fn partition(&self) -> &str {
        &self.account.partition
    }

    /// Every trail in every region.
    pub fn trails(&self) -> impl Iterator<Item = (&Region, &Trail)> {
        self.regional.iter().flat_map(|(region, regional)| regional.trails.iter().map(move |trail| (region, trail)))
    }
}
