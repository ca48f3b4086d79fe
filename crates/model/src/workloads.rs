//! Workloads that run with an IAM role: ECS clusters, task definitions, services and tasks,
//! Glue jobs and development endpoints, SageMaker notebook instances and jobs, CodeBuild
//! projects, CloudFormation stacks and StackSets, App Runner services, Systems Manager managed
//! instances and Bedrock AgentCore code interpreters, runtimes and browsers. Each keeps what
//! the privilege-escalation analysis needs (the role, the state that makes it usable) and a
//! little more for the inventory; nothing secret (no environment values, no template bodies).

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EcsCluster {
    pub cluster_arn: String,
    pub cluster_name: String,
    /// `ACTIVE`, `PROVISIONING`, `DEPROVISIONING`, `FAILED`, `INACTIVE`.
    pub status: Option<String>,
    /// EC2 container instances registered to the cluster (needed by `ecs:StartTask`).
    pub registered_container_instances_count: i32,
    pub running_tasks_count: i32,
    pub active_services_count: i32,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EcsTaskDefinition {
    pub task_definition_arn: String,
    pub family: String,
    pub revision: i32,
    /// The role the task's containers run with.
    pub task_role_arn: Option<String>,
    /// The role ECS uses to pull images and write logs.
    pub execution_role_arn: Option<String>,
    pub network_mode: Option<String>,
    pub requires_compatibilities: Vec<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: Option<String>,
    /// Containers that run privileged.
    pub privileged_containers: Vec<String>,
    pub tags: Tags,
    /// What the secrets detector found in the containers' environment variables; the values
    /// themselves are not kept.
    pub environment_secrets: Vec<crate::sensitive::SecretFound>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EcsService {
    pub service_arn: String,
    pub service_name: String,
    pub cluster_arn: String,
    pub task_definition: Option<String>,
    pub launch_type: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    pub enable_execute_command: bool,
    /// `ENABLED` or `DISABLED` public IP assignment of awsvpc tasks.
    pub assign_public_ip: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub tags: Tags,
}

/// A running (or pending) task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EcsTask {
    pub task_arn: String,
    pub cluster_arn: String,
    pub task_definition_arn: Option<String>,
    /// The task role the task was started with when it overrides the task definition's.
    pub task_role_arn_override: Option<String>,
    pub last_status: Option<String>,
    pub launch_type: Option<String>,
    pub enable_execute_command: bool,
    pub tags: Tags,
    /// `service:NAME` when a service started the task, `family:NAME` for a task run alone (or
    /// what `RunTask`'s caller chose).
    pub group: Option<String>,
    /// The elastic network interfaces of an `awsvpc` task (its attachments of type
    /// `ElasticNetworkInterface`), through which the network reaches it.
    pub network_interface_ids: Vec<String>,
}

/// Where the role a task runs with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskRoleSource {
    /// The task was started with a task role override.
    Override,
    /// Its task definition's task role.
    TaskDefinition,
}

impl EcsTask {
    /// The task role the task's containers run with: the override it was started with, else
    /// the task role of its task definition (`definition`, the one named by
    /// `task_definition_arn`); an empty string is no role. The one rule for it, used by the IAM
    /// account's workloads and by attack paths.
    pub fn task_role<'a>(&'a self, definition: Option<&'a EcsTaskDefinition>) -> Option<(&'a str, TaskRoleSource)> {
        let non_empty = |role: Option<&'a String>| role.map(String::as_str).filter(|role| !role.is_empty());
        non_empty(self.task_role_arn_override.as_ref())
            .map(|role| (role, TaskRoleSource::Override))
            .or_else(|| non_empty(definition.and_then(|definition| definition.task_role_arn.as_ref())).map(|role| (role, TaskRoleSource::TaskDefinition)))
    }

    /// The name of the service that started the task (`group` is `service:NAME`).
    pub fn service_name(&self) -> Option<&str> {
        self.group.as_deref().and_then(|group| group.strip_prefix("service:")).filter(|name| !name.is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GlueJob {
    pub name: String,
    /// The role's name or ARN, as Glue stores it.
    pub role: Option<String>,
    /// `glueetl`, `pythonshell`, `gluestreaming`, `glueray`.
    pub command_name: Option<String>,
    pub glue_version: Option<String>,
    pub created_on: Option<Timestamp>,
    pub last_modified_on: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GlueDevEndpoint {
    pub endpoint_name: String,
    pub role_arn: Option<String>,
    pub status: Option<String>,
    pub public_address: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    pub created_timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NotebookInstance {
    pub notebook_instance_name: String,
    pub notebook_instance_arn: String,
    pub role_arn: Option<String>,
    /// `Pending`, `InService`, `Stopping`, `Stopped`, `Failed`, `Deleting`, `Updating`.
    pub notebook_instance_status: Option<String>,
    pub direct_internet_access: Option<String>,
    pub root_access: Option<String>,
    pub notebook_instance_lifecycle_config_name: Option<String>,
    pub subnet_id: Option<String>,
    pub security_groups: Vec<String>,
    pub kms_key_id: Option<String>,
}

/// A SageMaker training or processing job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SageMakerJob {
    pub job_name: String,
    pub job_arn: String,
    /// `training` or `processing`.
    pub kind: String,
    /// `InProgress`, `Completed`, `Failed`, `Stopping`, `Stopped`.
    pub status: Option<String>,
    /// The role, read for jobs in progress (DescribeTrainingJob / DescribeProcessingJob).
    pub role_arn: Option<String>,
    pub creation_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CodeBuildProject {
    pub name: String,
    pub arn: String,
    pub service_role: Option<String>,
    /// `CODECOMMIT`, `GITHUB`, `S3`, `NO_SOURCE`...
    pub source_type: Option<String>,
    pub environment_image: Option<String>,
    pub privileged_mode: bool,
    /// Whether batch builds are configured (needed by `codebuild:StartBuildBatch`).
    pub batch_service_role: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CloudFormationStack {
    pub stack_name: String,
    pub stack_id: String,
    /// The service role CloudFormation uses for the stack's operations.
    pub role_arn: Option<String>,
    pub stack_status: Option<String>,
    pub creation_time: Option<Timestamp>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StackSet {
    pub stack_set_name: String,
    pub stack_set_id: String,
    pub stack_set_arn: Option<String>,
    /// `SELF_MANAGED` or `SERVICE_MANAGED`.
    pub permission_model: Option<String>,
    /// The role CloudFormation assumes in the administrator account (self-managed).
    pub administration_role_arn: Option<String>,
    /// The role name CloudFormation assumes in each target account.
    pub execution_role_name: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AppRunnerService {
    pub service_name: String,
    pub service_arn: String,
    /// The role the service's instances run with.
    pub instance_role_arn: Option<String>,
    /// `RUNNING`, `PAUSED`, `OPERATION_IN_PROGRESS`, `CREATE_FAILED`, `DELETED`...
    pub status: Option<String>,
    pub service_url: Option<String>,
    /// Whether the service is reachable from the internet (`IsPubliclyAccessible`).
    pub publicly_accessible: Option<bool>,
}

/// An instance Systems Manager manages (DescribeInstanceInformation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ManagedInstance {
    /// `i-...` for EC2 instances, `mi-...` for hybrid nodes.
    pub instance_id: String,
    /// `Online`, `ConnectionLost`, `Inactive`.
    pub ping_status: Option<String>,
    pub platform_type: Option<String>,
    pub agent_version: Option<String>,
    /// The role of a hybrid activation.
    pub iam_role: Option<String>,
    /// `EC2Instance` or `ManagedInstance`.
    pub resource_type: Option<String>,
}

/// A Bedrock AgentCore code interpreter, agent runtime or browser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentCoreResource {
    /// `code-interpreter`, `runtime` or `browser`.
    pub kind: String,
    pub id: String,
    pub arn: String,
    pub name: Option<String>,
    /// The execution role (GetCodeInterpreter / GetAgentRuntime / GetBrowser).
    pub role_arn: Option<String>,
    pub status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_read_before_groups_and_interfaces_were_kept_still_reads() {
        let task: EcsTask = serde_json::from_value(serde_json::json!({ "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/prod/1", "Group": null })).unwrap();
        assert_eq!(task.group, None);
        assert!(task.network_interface_ids.is_empty());
        assert_eq!(task.service_name(), None);
    }

    #[test]
    fn a_task_runs_as_its_override_else_its_task_definition_role() {
        let definition = EcsTaskDefinition { task_role_arn: Some("definition".into()), ..Default::default() };
        let check = |task_override: Option<&str>, definition: Option<&EcsTaskDefinition>, expected: Option<(&str, TaskRoleSource)>| {
            let task = EcsTask { task_role_arn_override: task_override.map(str::to_string), ..Default::default() };
            assert_eq!(task.task_role(definition), expected, "{task_override:?} {definition:?}");
        };
        check(Some("override"), Some(&definition), Some(("override", TaskRoleSource::Override)));
        check(Some(""), Some(&definition), Some(("definition", TaskRoleSource::TaskDefinition)));
        check(None, Some(&definition), Some(("definition", TaskRoleSource::TaskDefinition)));
        check(None, None, None);
        check(None, Some(&EcsTaskDefinition { task_role_arn: Some(String::new()), ..Default::default() }), None);
    }

    #[test]
    fn a_task_names_its_service_only_when_a_service_started_it() {
        for (group, expected) in [(Some("service:web"), Some("web")), (Some("family:web"), None), (Some("service:"), None), (None, None)] {
            let task = EcsTask { group: group.map(str::to_string), ..Default::default() };
            assert_eq!(task.service_name(), expected, "{group:?}");
        }
    }
}
