//! One or several accounts' policies as the engine needs them: every user and role with its
//! identity policies (inline, attached, through groups), boundary and tags, every resource-based
//! policy, the organization's SCPs and RCPs for each account, and the workloads that run with a
//! role (instances, functions, containers, jobs...), parsed once. `can` and `who_can` answer
//! from it; the escalation analysis walks it.

use std::collections::HashMap;

use serde::Serialize;
use vigil_model::{Inventory, Tags};

use crate::evaluate::{Decision, Evaluation, PolicySet, decide, evaluate};
use crate::organization::OrganizationPolicyStatus;
use crate::policy::{Effect, Policy};
use crate::request::{Context, Request};

/// A resource-based policy found in the inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePolicy<'a> {
    /// The resource's ARN.
    pub arn: String,
    /// The service prefix (`s3`, `sqs`, `sns`, `kms`, `lambda`, `secretsmanager`, `ecr`, `iam`).
    pub service: &'static str,
    /// `bucket policy`, `role trust policy`, `key policy`...
    pub kind: &'static str,
    pub region: String,
    pub document: &'a serde_json::Value,
}

fn add<'a>(
    policies: &mut Vec<ResourcePolicy<'a>>,
    arn: &str,
    service: &'static str,
    kind: &'static str,
    region: &str,
    document: &'a Option<serde_json::Value>,
) {
    if let Some(document) = document {
        policies.push(ResourcePolicy { arn: arn.to_string(), service, kind, region: region.to_string(), document });
    }
}

/// Every resource-based policy of the inventory, in one place: one line per service.
pub fn resource_policies(inventory: &Inventory) -> Vec<ResourcePolicy<'_>> {
    let mut policies = Vec::new();
    let partition = inventory.partition();
    for role in &inventory.iam.roles {
        add(&mut policies, &role.arn, "iam", "role trust policy", "global", &role.assume_role_policy_document);
    }
    for bucket in &inventory.s3.buckets {
        add(&mut policies, &format!("arn:{partition}:s3:::{}", bucket.name), "s3", "bucket policy", &bucket.region, &bucket.policy);
    }
    for (region, regional) in &inventory.regional {
        let region = region.to_string();
        for topic in &regional.sns_topics {
            add(&mut policies, &topic.topic_arn, "sns", "topic policy", &region, &topic.policy);
        }
        for key in &regional.kms_keys {
            add(&mut policies, &key.arn, "kms", "key policy", &region, &key.policy);
        }
        for queue in &regional.sqs_queues {
            add(&mut policies, &queue.queue_arn, "sqs", "queue policy", &region, &queue.policy);
        }
        for function in &regional.lambda_functions {
            add(&mut policies, &function.function_arn, "lambda", "function policy", &region, &function.policy);
        }
        for secret in &regional.secrets {
            add(&mut policies, &secret.arn, "secretsmanager", "secret policy", &region, &secret.policy);
        }
        for repository in &regional.ecr_repositories {
            add(&mut policies, &repository.repository_arn, "ecr", "repository policy", &region, &repository.policy);
        }
    }
    policies
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalType {
    User,
    Role,
}

/// A user or role and the policies that apply to it.
#[derive(Debug, Clone)]
pub struct AccountPrincipal {
    pub arn: String,
    pub name: String,
    pub kind: PrincipalType,
    /// The account it belongs to.
    pub account_id: String,
    /// Indexes into [`Account::policies`].
    pub identity: Vec<usize>,
    pub boundary: Option<usize>,
    /// The boundary's managed policy ARN.
    pub boundary_arn: Option<String>,
    /// Customer managed policies attached directly or through a group (ARNs).
    pub attached_policy_arns: Vec<String>,
    /// Every policy of the principal by where it comes from, for the analyses that remove one.
    pub sources: Vec<PolicySource>,
    /// Group ARNs (users only).
    pub group_arns: Vec<String>,
    pub tags: vigil_model::Tags,
    /// Users: has a console password; whether an MFA device is registered.
    pub has_console_password: bool,
    pub has_mfa: bool,
    /// Users: access keys (AWS allows two).
    pub access_key_count: usize,
    /// Roles: index of the trust policy in [`Account::policies`].
    pub trust: Option<usize>,
    /// Roles: usable by EC2 instances through an instance profile.
    pub instance_profile_arns: Vec<String>,
}

/// Where one of a principal's identity policies comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// An inline policy of the principal itself.
    Inline { name: String, index: usize },
    /// A managed policy attached to the principal itself.
    Attached { arn: String, index: usize },
    /// A policy of one of the user's groups (inline or attached).
    Group { group_arn: String, index: usize },
}

impl PolicySource {
    pub fn index(&self) -> usize {
        match self {
            PolicySource::Inline { index, .. } | PolicySource::Attached { index, .. } | PolicySource::Group { index, .. } => *index,
        }
    }
}

/// A resource-based policy, parsed.
#[derive(Debug, Clone)]
pub struct AccountResource {
    pub arn: String,
    pub service: &'static str,
    pub kind: &'static str,
    pub region: String,
    pub account_id: String,
    pub policy: usize,
}

/// What runs with a role, and what an attacker acts on to take it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    Ec2Instance,
    LaunchTemplate,
    LambdaFunction,
    EcsTask,
    EcsTaskDefinition,
    EcsService,
    GlueJob,
    GlueDevEndpoint,
    SageMakerNotebook,
    CodeBuildProject,
    CloudFormationStack,
    StackSet,
    AppRunnerService,
    AgentCoreCodeInterpreter,
    AgentCoreRuntime,
    AgentCoreBrowser,
}

/// A resource that runs with (or hands out) a role's credentials.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// The role it runs with (resolved from the instance profile for EC2).
    pub role_arn: Option<String>,
    /// EC2: the instance profile.
    pub instance_profile_arn: Option<String>,
    pub tags: Tags,
    /// `running`, `InService`, `RUNNING`... as the service reports it.
    pub state: Option<String>,
    /// ECS: the cluster; CloudFormation StackSets: the administration role.
    pub parent: Option<String>,
    /// ECS: execute-command enabled; CodeBuild: batch builds configured; launch templates: an
    /// Auto Scaling group launches from it; EC2: Systems Manager manages it (`None`: unknown).
    pub flag: Option<bool>,
}

/// The facts about one account of the set.
#[derive(Debug, Clone)]
pub struct AccountFacts {
    pub account_id: String,
    pub partition: String,
    pub organization_id: Option<String>,
    pub management_account: Option<String>,
    /// Indexes into [`Account::policies`], one list per level, root first.
    pub scps: Vec<Vec<usize>>,
    pub rcps: Vec<Vec<usize>>,
    pub organization_policies: OrganizationPolicyStatus,
    /// The regions the inventory covers (where a principal could create resources).
    pub regions: Vec<String>,
    /// (service, region, operation) → whether the listing was read (a failed or absent
    /// listing leaves a prerequisite unknown rather than unmet).
    pub listings: HashMap<(String, String, String), bool>,
    /// ECS clusters: (region, cluster ARN, registered container instances).
    pub ecs_clusters: Vec<(String, String, i32)>,
    /// Existing subnets, security groups and images (candidate resources for RunInstances).
    pub subnets: Vec<(String, String)>,
    pub security_groups: Vec<(String, String)>,
}

impl AccountFacts {
    /// Whether a listing was read: `Some(true)` read, `Some(false)` failed, `None` not attempted.
    pub fn listing(&self, service: &str, region: &str, operation: &str) -> Option<bool> {
        self.listings.get(&(service.to_string(), region.to_string(), operation.to_string())).copied()
    }
}

/// The accounts' IAM and resource policies, parsed once.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// The first account of the set (the one `can` and the checks are about).
    pub account_id: String,
    pub partition: String,
    pub organization_id: Option<String>,
    /// Every account of the set, the first one first.
    pub accounts: Vec<AccountFacts>,
    pub policies: Vec<Policy>,
    pub principals: Vec<AccountPrincipal>,
    pub resources: Vec<AccountResource>,
    /// Customer managed policy ARN → (index of its default version, number of versions).
    pub managed: HashMap<String, (Option<usize>, usize)>,
    /// Managed policy ARN → every version: (version id, is default, index of its document).
    pub policy_versions: HashMap<String, Vec<(String, bool, Option<usize>)>>,
    /// Group ARN → the indexes of its policies.
    pub group_policies: HashMap<String, Vec<usize>>,
    /// Policies that could not be parsed: (where, error). They are left out of every decision.
    pub problems: Vec<(String, String)>,
    /// EC2 instances with an instance profile: (instance ARN, instance profile ARN).
    pub instances: Vec<(String, String)>,
    /// Lambda functions and their execution roles: (function ARN, role ARN).
    pub functions: Vec<(String, String)>,
    /// Everything that runs with a role, over every account.
    pub workloads: Vec<Workload>,
    /// The regions any inventory covers.
    pub regions: Vec<String>,
    /// `Allow * on *`, the policy an attacker who can write policies gives a principal.
    pub admin_policy: Option<Policy>,
    resource_index: HashMap<String, usize>,
    /// Principal ARN → index; (account, role name) → index (for assumed-role sessions).
    principal_index: HashMap<String, usize>,
    role_name_index: HashMap<(String, String), usize>,
    /// Resource ARN without account (S3 buckets) → owning account.
    bucket_accounts: HashMap<String, String>,
}

/// The ARN of the AWS managed policy that allows everything.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

impl Account {
    /// Parses every policy of the inventory.
    pub fn from_inventory(inventory: &Inventory) -> Account {
        Account::from_inventories(&[inventory])
    }

    /// Parses every policy of several accounts' inventories into one set, so that paths may
    /// cross accounts. The first inventory is the primary account.
    pub fn from_inventories(inventories: &[&Inventory]) -> Account {
        let mut account = Account::default();
        if let Some(first) = inventories.first() {
            account.account_id = first.account_id().to_string();
            account.partition = first.partition().to_string();
            account.organization_id = first.account.organization.as_ref().map(|organization| organization.id.clone());
        }
        account.admin_policy =
            Policy::parse(&serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] })).ok();
        for inventory in inventories {
            account.add_inventory(inventory);
        }
        for (index, principal) in account.principals.iter().enumerate() {
            account.principal_index.insert(principal.arn.clone(), index);
            if principal.kind == PrincipalType::Role {
                account.role_name_index.insert((principal.account_id.clone(), principal.name.clone()), index);
            }
        }
        account.regions.sort();
        account.regions.dedup();
        account
    }

    fn add_inventory(&mut self, inventory: &Inventory) {
        let account_id = inventory.account_id().to_string();
        let partition = inventory.partition().to_string();
        let mut managed_index: HashMap<&str, Option<usize>> = HashMap::new();
        for managed in &inventory.iam.policies {
            let index = managed.default_document().and_then(|document| self.parse(document, &managed.arn));
            managed_index.insert(&managed.arn, index);
            let mut versions = Vec::new();
            for version in &managed.policy_version_list {
                let version_index =
                    if version.is_default_version { index } else { self.parse(&version.document, &format!("{} version {}", managed.arn, version.version_id)) };
                versions.push((version.version_id.clone(), version.is_default_version, version_index));
            }
            self.policy_versions.insert(managed.arn.clone(), versions);
            if !managed.is_aws_managed() {
                self.managed.insert(managed.arn.clone(), (index, managed.policy_version_list.len()));
            }
        }
        let attached = |list: &[vigil_model::iam::AttachedPolicy]| -> Vec<(String, usize)> {
            list.iter().filter_map(|policy| Some((policy.policy_arn.clone(), managed_index.get(policy.policy_arn.as_str()).copied().flatten()?))).collect()
        };
        let customer = |list: &[vigil_model::iam::AttachedPolicy]| -> Vec<String> {
            list.iter().filter(|policy| !policy.policy_arn.contains(":iam::aws:policy/")).map(|policy| policy.policy_arn.clone()).collect()
        };
        let mut groups: HashMap<&str, (String, Vec<usize>, Vec<String>)> = HashMap::new();
        for group in &inventory.iam.groups {
            let mut indexes: Vec<usize> = attached(&group.attached_managed_policies).into_iter().map(|(_, index)| index).collect();
            for inline in &group.group_policy_list {
                indexes.extend(self.parse(&inline.policy_document, &format!("{} inline policy {}", group.arn, inline.policy_name)));
            }
            self.group_policies.insert(group.arn.clone(), indexes.clone());
            groups.insert(&group.group_name, (group.arn.clone(), indexes, customer(&group.attached_managed_policies)));
        }
        for user in &inventory.iam.users {
            let mut sources: Vec<PolicySource> =
                attached(&user.attached_managed_policies).into_iter().map(|(arn, index)| PolicySource::Attached { arn, index }).collect();
            for inline in &user.user_policy_list {
                if let Some(index) = self.parse(&inline.policy_document, &format!("{} inline policy {}", user.arn, inline.policy_name)) {
                    sources.push(PolicySource::Inline { name: inline.policy_name.clone(), index });
                }
            }
            let mut attached_policy_arns = customer(&user.attached_managed_policies);
            let mut group_arns = Vec::new();
            for name in &user.group_list {
                if let Some((arn, indexes, group_customer)) = groups.get(name.as_str()) {
                    sources.extend(indexes.iter().map(|index| PolicySource::Group { group_arn: arn.clone(), index: *index }));
                    attached_policy_arns.extend(group_customer.iter().cloned());
                    group_arns.push(arn.clone());
                }
            }
            let boundary = user.permissions_boundary.as_ref().and_then(|policy| managed_index.get(policy.policy_arn.as_str()).copied().flatten());
            self.principals.push(AccountPrincipal {
                arn: user.arn.clone(),
                name: user.user_name.clone(),
                kind: PrincipalType::User,
                account_id: account_id.clone(),
                identity: sources.iter().map(PolicySource::index).collect(),
                boundary,
                boundary_arn: user.permissions_boundary.as_ref().map(|policy| policy.policy_arn.clone()),
                attached_policy_arns,
                sources,
                group_arns,
                tags: user.tags.clone(),
                has_console_password: user.login_profile.is_some(),
                has_mfa: !user.mfa_devices.is_empty(),
                access_key_count: user.access_keys.len(),
                trust: None,
                instance_profile_arns: Vec::new(),
            });
        }
        let mut profile_roles: HashMap<String, String> = HashMap::new();
        for role in &inventory.iam.roles {
            let mut sources: Vec<PolicySource> =
                attached(&role.attached_managed_policies).into_iter().map(|(arn, index)| PolicySource::Attached { arn, index }).collect();
            for inline in &role.role_policy_list {
                if let Some(index) = self.parse(&inline.policy_document, &format!("{} inline policy {}", role.arn, inline.policy_name)) {
                    sources.push(PolicySource::Inline { name: inline.policy_name.clone(), index });
                }
            }
            let boundary = role.permissions_boundary.as_ref().and_then(|policy| managed_index.get(policy.policy_arn.as_str()).copied().flatten());
            let trust = role.assume_role_policy_document.as_ref().and_then(|document| self.parse(document, &format!("{} trust policy", role.arn)));
            for profile in &role.instance_profile_list {
                profile_roles.insert(profile.arn.clone(), role.arn.clone());
            }
            self.principals.push(AccountPrincipal {
                arn: role.arn.clone(),
                name: role.role_name.clone(),
                kind: PrincipalType::Role,
                account_id: account_id.clone(),
                identity: sources.iter().map(PolicySource::index).collect(),
                boundary,
                boundary_arn: role.permissions_boundary.as_ref().map(|policy| policy.policy_arn.clone()),
                attached_policy_arns: customer(&role.attached_managed_policies),
                sources,
                group_arns: Vec::new(),
                tags: role.tags.clone(),
                has_console_password: false,
                has_mfa: false,
                access_key_count: 0,
                trust,
                instance_profile_arns: role.instance_profile_list.iter().map(|profile| profile.arn.clone()).collect(),
            });
        }
        let mut regions: Vec<String> = inventory.regions.iter().chain(inventory.regional.keys()).map(ToString::to_string).collect();
        regions.sort();
        regions.dedup();
        self.regions.extend(regions.iter().cloned());
        self.add_workloads(inventory, &account_id, &profile_roles);
        for resource in resource_policies(inventory) {
            if resource.service == "s3" {
                self.bucket_accounts.insert(resource.arn.clone(), account_id.clone());
            }
            if resource.service == "iam" {
                continue;
            }
            if let Some(policy) = self.parse(resource.document, &format!("{} {}", resource.arn, resource.kind)) {
                self.resource_index.insert(resource.arn.clone(), self.resources.len());
                self.resources.push(AccountResource {
                    arn: resource.arn,
                    service: resource.service,
                    kind: resource.kind,
                    region: resource.region,
                    account_id: account_id.clone(),
                    policy,
                });
            }
        }
        for bucket in &inventory.s3.buckets {
            self.bucket_accounts.insert(format!("arn:{partition}:s3:::{}", bucket.name), account_id.clone());
        }
        let levels = crate::organization::levels(inventory);
        self.problems.extend(levels.problems.iter().cloned());
        let mut store = |levels: &[Vec<Policy>]| -> Vec<Vec<usize>> {
            levels
                .iter()
                .map(|level| {
                    level
                        .iter()
                        .map(|policy| {
                            self.policies.push(policy.clone());
                            self.policies.len() - 1
                        })
                        .collect()
                })
                .collect()
        };
        let scps = store(&levels.scps);
        let rcps = store(&levels.rcps);
        let mut listings = HashMap::new();
        for call in &inventory.ledger.calls {
            let entry = listings.entry((call.service.clone(), call.region.clone(), call.operation.clone())).or_insert(true);
            *entry = *entry && call.outcome.is_read();
        }
        let mut facts = AccountFacts {
            account_id: account_id.clone(),
            partition,
            organization_id: inventory.account.organization.as_ref().map(|organization| organization.id.clone()),
            management_account: levels.management_account,
            scps,
            rcps,
            organization_policies: levels.status,
            regions,
            listings,
            ecs_clusters: Vec::new(),
            subnets: Vec::new(),
            security_groups: Vec::new(),
        };
        for (region, regional) in &inventory.regional {
            let region = region.to_string();
            facts.ecs_clusters.extend(
                regional.ecs_clusters.iter().map(|cluster| (region.clone(), cluster.cluster_arn.clone(), cluster.registered_container_instances_count)),
            );
            facts.subnets.extend(regional.ec2.subnets.iter().map(|subnet| (region.clone(), subnet.subnet_id.clone())));
            facts.security_groups.extend(regional.ec2.security_groups.iter().map(|group| (region.clone(), group.group_id.clone())));
        }
        self.accounts.push(facts);
    }

    /// Everything that runs with a role in one inventory.
    fn add_workloads(&mut self, inventory: &Inventory, account_id: &str, profile_roles: &HashMap<String, String>) {
        let partition = inventory.partition().to_string();
        let arn = |service: &str, region: &str, resource: &str| format!("arn:{partition}:{service}:{region}:{account_id}:{resource}");
        let role_of = |role: &Option<String>| -> Option<String> {
            let role = role.as_ref().filter(|role| !role.is_empty())?;
            // Glue stores a role's name or ARN.
            Some(if role.starts_with("arn:") { role.clone() } else { format!("arn:{partition}:iam::{account_id}:role/{role}") })
        };
        let mut push = |kind: WorkloadKind, arn: String, region: &str, name: &str, role_arn: Option<String>| {
            self.workloads.push(Workload {
                kind,
                arn,
                account_id: account_id.to_string(),
                region: region.to_string(),
                name: name.to_string(),
                role_arn,
                instance_profile_arn: None,
                tags: Tags::new(),
                state: None,
                parent: None,
                flag: None,
            });
            self.workloads.len() - 1
        };
        let mut workloads: Vec<WorkloadFacts> = Vec::new();
        for (region, regional) in &inventory.regional {
            let region = region.as_str();
            let managed_listing_read = inventory
                .ledger
                .calls
                .iter()
                .any(|call| call.service == "ssm" && call.region == region && call.operation == "DescribeInstanceInformation" && call.outcome.is_read());
            for instance in &regional.ec2.instances {
                let Some(profile) = &instance.iam_instance_profile else { continue };
                let instance_arn = arn("ec2", region, &format!("instance/{}", instance.instance_id));
                self.instances.push((instance_arn.clone(), profile.arn.clone()));
                let managed = managed_listing_read.then(|| {
                    regional
                        .ssm_managed_instances
                        .iter()
                        .any(|managed| managed.instance_id == instance.instance_id && managed.ping_status.as_deref() == Some("Online"))
                });
                let index = push(WorkloadKind::Ec2Instance, instance_arn, region, &instance.instance_id, profile_roles.get(&profile.arn).cloned());
                workloads.push((index, instance.tags.clone(), Some(instance.state.name.clone()), None, managed, Some(profile.arn.clone())));
            }
            for template in &regional.ec2.launch_templates {
                let Some(profile) = template.default_version_data.as_ref().and_then(|data| data.iam_instance_profile_arn.clone()) else { continue };
                let template_arn = arn("ec2", region, &format!("launch-template/{}", template.launch_template_id));
                let name = template.launch_template_name.clone().unwrap_or_else(|| template.launch_template_id.clone());
                let used = regional.auto_scaling_groups.iter().any(|group| {
                    group.launch_template.as_ref().is_some_and(|spec| {
                        spec.launch_template_id.as_deref() == Some(template.launch_template_id.as_str())
                            || spec.launch_template_name.as_deref() == template.launch_template_name.as_deref()
                    })
                });
                // The instance profile may be given by name in a launch template.
                let role = profile_roles.get(&profile).cloned().or_else(|| {
                    profile_roles.iter().find(|(profile_arn, _)| profile_arn.rsplit('/').next() == Some(profile.as_str())).map(|(_, role)| role.clone())
                });
                let index = push(WorkloadKind::LaunchTemplate, template_arn, region, &name, role);
                workloads.push((index, template.tags.clone(), None, None, Some(used), Some(profile)));
            }
            for function in &regional.lambda_functions {
                if let Some(role) = &function.role {
                    self.functions.push((function.function_arn.clone(), role.clone()));
                }
                let index = push(WorkloadKind::LambdaFunction, function.function_arn.clone(), region, &function.function_name, role_of(&function.role));
                workloads.push((index, function.tags.clone(), None, None, None, None));
            }
            let definitions: HashMap<&str, &vigil_model::workloads::EcsTaskDefinition> =
                regional.ecs_task_definitions.iter().map(|definition| (definition.task_definition_arn.as_str(), definition)).collect();
            for task in &regional.ecs_tasks {
                let definition = task.task_definition_arn.as_deref().and_then(|arn| definitions.get(arn)).copied();
                let role = task.task_role(definition).and_then(|(role, _)| role_of(&Some(role.to_string())));
                let name = task.task_arn.rsplit('/').next().unwrap_or_default().to_string();
                let index = push(WorkloadKind::EcsTask, task.task_arn.clone(), region, &name, role);
                workloads.push((index, task.tags.clone(), task.last_status.clone(), Some(task.cluster_arn.clone()), Some(task.enable_execute_command), None));
            }
            for definition in &regional.ecs_task_definitions {
                let index = push(
                    WorkloadKind::EcsTaskDefinition,
                    definition.task_definition_arn.clone(),
                    region,
                    &definition.family,
                    role_of(&definition.task_role_arn),
                );
                workloads.push((index, definition.tags.clone(), definition.status.clone(), None, None, None));
            }
            for service in &regional.ecs_services {
                let role = service.task_definition.as_deref().and_then(|arn| definitions.get(arn)).and_then(|definition| role_of(&definition.task_role_arn));
                let index = push(WorkloadKind::EcsService, service.service_arn.clone(), region, &service.service_name, role);
                workloads.push((index, service.tags.clone(), None, Some(service.cluster_arn.clone()), Some(service.enable_execute_command), None));
            }
            for job in &regional.glue_jobs {
                push(WorkloadKind::GlueJob, arn("glue", region, &format!("job/{}", job.name)), region, &job.name, role_of(&job.role));
            }
            for endpoint in &regional.glue_dev_endpoints {
                let index = push(
                    WorkloadKind::GlueDevEndpoint,
                    arn("glue", region, &format!("devEndpoint/{}", endpoint.endpoint_name)),
                    region,
                    &endpoint.endpoint_name,
                    role_of(&endpoint.role_arn),
                );
                workloads.push((index, Tags::new(), endpoint.status.clone(), None, None, None));
            }
            for notebook in &regional.sagemaker_notebook_instances {
                let index = push(
                    WorkloadKind::SageMakerNotebook,
                    notebook.notebook_instance_arn.clone(),
                    region,
                    &notebook.notebook_instance_name,
                    role_of(&notebook.role_arn),
                );
                workloads.push((index, Tags::new(), notebook.notebook_instance_status.clone(), None, None, None));
            }
            for project in &regional.codebuild_projects {
                let index = push(WorkloadKind::CodeBuildProject, project.arn.clone(), region, &project.name, role_of(&project.service_role));
                workloads.push((index, project.tags.clone(), None, None, Some(project.batch_service_role.is_some()), None));
            }
            for stack in &regional.cloudformation_stacks {
                let index = push(WorkloadKind::CloudFormationStack, stack.stack_id.clone(), region, &stack.stack_name, role_of(&stack.role_arn));
                workloads.push((index, stack.tags.clone(), stack.stack_status.clone(), None, None, None));
            }
            for stack_set in &regional.cloudformation_stack_sets {
                let stack_set_arn =
                    stack_set.stack_set_arn.clone().unwrap_or_else(|| arn("cloudformation", region, &format!("stackset/{}", stack_set.stack_set_id)));
                let index = push(WorkloadKind::StackSet, stack_set_arn, region, &stack_set.stack_set_name, role_of(&stack_set.administration_role_arn));
                workloads.push((index, Tags::new(), stack_set.status.clone(), stack_set.execution_role_name.clone(), None, None));
            }
            for service in &regional.apprunner_services {
                let index =
                    push(WorkloadKind::AppRunnerService, service.service_arn.clone(), region, &service.service_name, role_of(&service.instance_role_arn));
                workloads.push((index, Tags::new(), service.status.clone(), None, None, None));
            }
            for resource in &regional.agentcore_resources {
                let kind = match resource.kind.as_str() {
                    "runtime" => WorkloadKind::AgentCoreRuntime,
                    "browser" => WorkloadKind::AgentCoreBrowser,
                    _ => WorkloadKind::AgentCoreCodeInterpreter,
                };
                let index = push(kind, resource.arn.clone(), region, &resource.id, role_of(&resource.role_arn));
                workloads.push((index, Tags::new(), resource.status.clone(), None, None, None));
            }
        }
        for (index, tags, state, parent, flag, profile) in workloads {
            if let Some(workload) = self.workloads.get_mut(index) {
                workload.tags = tags;
                workload.state = state;
                workload.parent = parent;
                workload.flag = flag;
                workload.instance_profile_arn = profile;
            }
        }
    }

    fn parse(&mut self, document: &serde_json::Value, place: &str) -> Option<usize> {
        match Policy::parse(document) {
            Ok(policy) => {
                self.policies.push(policy);
                Some(self.policies.len() - 1)
            }
            Err(error) => {
                self.problems.push((place.to_string(), error.to_string()));
                None
            }
        }
    }

    /// The facts of the account a principal or resource belongs to.
    pub fn facts(&self, account_id: &str) -> Option<&AccountFacts> {
        self.accounts.iter().find(|facts| facts.account_id == account_id)
    }

    /// The principal with this ARN, or the role behind an assumed-role session ARN.
    pub fn principal(&self, arn: &str) -> Option<&AccountPrincipal> {
        if let Some(index) = self.principal_index.get(arn) {
            return self.principals.get(*index);
        }
        let parsed = crate::request::Principal::parse(arn);
        match (&parsed.kind, &parsed.account) {
            (crate::request::PrincipalKind::AssumedRole { role_name }, Some(account)) => {
                self.principals.get(*self.role_name_index.get(&(account.clone(), role_name.clone()))?)
            }
            _ => None,
        }
    }

    /// The index of a principal in [`Account::principals`].
    pub fn principal_position(&self, arn: &str) -> Option<usize> {
        self.principal_index.get(arn).copied()
    }

    /// The resource-based policy that governs `resource`: the bucket's for an object, the
    /// role's trust policy for a role, the resource's own otherwise.
    pub fn resource_policy(&self, resource: &str) -> Option<&Policy> {
        if let Some(index) = self.resource_index.get(resource) {
            return self.policies.get(self.resources.get(*index)?.policy);
        }
        if let Some(rest) = resource.strip_prefix(&format!("arn:{}:s3:::", self.partition))
            && let Some((bucket, _)) = rest.split_once('/')
        {
            let bucket_arn = format!("arn:{}:s3:::{bucket}", self.partition);
            let index = self.resource_index.get(&bucket_arn)?;
            return self.policies.get(self.resources.get(*index)?.policy);
        }
        let role = self.principals.get(*self.principal_index.get(resource)?).filter(|principal| principal.kind == PrincipalType::Role)?;
        self.policies.get(role.trust?)
    }

    /// The request context an analysis assumes for a principal: its tags as
    /// `aws:PrincipalTag/...`, MFA and TLS present, its organization's id; `extra` overrides.
    pub fn context_for(&self, principal: Option<&AccountPrincipal>, extra: &[(String, String)]) -> Context {
        let mut context = Context::default();
        context.insert("aws:MultiFactorAuthPresent", vec!["true".into()]);
        context.insert("aws:SecureTransport", vec!["true".into()]);
        let organization = match principal {
            Some(principal) => self.facts(&principal.account_id).and_then(|facts| facts.organization_id.clone()),
            None => self.organization_id.clone(),
        };
        if let Some(organization) = organization {
            context.insert("aws:PrincipalOrgID", vec![organization]);
        }
        if let Some(principal) = principal {
            for (key, value) in &principal.tags {
                context.insert(&format!("aws:PrincipalTag/{key}"), vec![value.clone()]);
            }
            if !principal.tags.is_empty() {
                context.insert("aws:PrincipalTagKeys", principal.tags.keys().cloned().collect());
            }
        }
        for (key, value) in extra {
            context.insert(key, vec![value.clone()]);
        }
        context
    }

    /// The policies that apply when `principal` (one of the set's, or `None` for an outside
    /// caller) acts on `resource`: its identity policies and boundary, the resource's policy,
    /// the SCPs of the principal's account and the RCPs of the resource's account.
    pub fn policy_set(&self, principal: Option<&AccountPrincipal>, resource: &str) -> PolicySet<'_> {
        let identity = principal.map(|principal| principal.identity.iter().filter_map(|index| self.policies.get(*index)).collect()).unwrap_or_default();
        let levels = |indexes: &[Vec<usize>]| -> Vec<Vec<&Policy>> {
            indexes.iter().map(|level| level.iter().filter_map(|index| self.policies.get(*index)).collect()).collect()
        };
        let principal_facts = principal.and_then(|principal| self.facts(&principal.account_id));
        let resource_facts = self.resource_account_for(resource, principal).and_then(|account| self.facts(&account));
        PolicySet {
            identity,
            resource: self.resource_policy(resource),
            permissions_boundary: principal.and_then(|principal| principal.boundary).and_then(|index| self.policies.get(index)),
            session: None,
            scps: principal_facts.map(|facts| levels(&facts.scps)).unwrap_or_default(),
            rcps: resource_facts.map(|facts| levels(&facts.rcps)).unwrap_or_default(),
            management_account: resource_facts.or(principal_facts).and_then(|facts| facts.management_account.as_deref()),
        }
    }

    /// Decides one request from the accounts' real policies.
    pub fn can(&self, principal_arn: &str, action: &str, resource: &str, extra: &[(String, String)]) -> Evaluation {
        let principal = self.principal(principal_arn);
        let request = Request::new(principal_arn, action, resource, self.resource_account_for(resource, principal), self.context_for(principal, extra));
        evaluate(&request, &self.policy_set(principal, resource))
    }

    /// Decides without explanation, for a principal of the set.
    pub fn decide_for(&self, principal: &AccountPrincipal, action: &str, resource: &str) -> Decision {
        self.decide_with(principal, action, resource, &[])
    }

    /// Decides with extra request context (the keys AWS sets for this action).
    pub fn decide_with(&self, principal: &AccountPrincipal, action: &str, resource: &str, extra: &[(String, String)]) -> Decision {
        let request =
            Request::new(&principal.arn, action, resource, self.resource_account_for(resource, Some(principal)), self.context_for(Some(principal), extra));
        decide(&request, &self.policy_set(Some(principal), resource))
    }

    /// Decides for a principal whose policies an attacker changed: `added` identity policies,
    /// `removed` ones (indexes into [`Account::policies`]), and a boundary replaced (`Some(None)`
    /// removes it).
    pub fn decide_variant(&self, principal: &AccountPrincipal, variant: &Variant<'_>, action: &str, resource: &str, extra: &[(String, String)]) -> Decision {
        let request =
            Request::new(&principal.arn, action, resource, self.resource_account_for(resource, Some(principal)), self.context_for(Some(principal), extra));
        let mut set = self.policy_set(Some(principal), resource);
        set.identity = principal
            .identity
            .iter()
            .filter(|index| !variant.removed.contains(index))
            .filter_map(|index| self.policies.get(*index))
            .chain(variant.added.iter().copied())
            .collect();
        if let Some(boundary) = variant.boundary {
            set.permissions_boundary = boundary;
        }
        decide(&request, &set)
    }

    /// The account that owns a resource: from its ARN; for an S3 bucket (whose ARN has no
    /// account), the account of the inventory that listed it, else the primary account.
    pub fn resource_account(&self, resource: &str) -> Option<String> {
        self.resource_account_for(resource, None)
    }

    /// The account that owns a resource acted on by `principal`: as [`Account::resource_account`],
    /// except that a resource naming no account (`*`, an unknown bucket) is the principal's own.
    pub fn resource_account_for(&self, resource: &str, principal: Option<&AccountPrincipal>) -> Option<String> {
        let fallback = || principal.map(|principal| principal.account_id.clone()).unwrap_or_else(|| self.account_id.clone());
        match crate::pattern::arn_parts(resource) {
            Some(parts) if !parts[4].is_empty() => Some(parts[4].to_string()),
            Some(parts) if parts[2] == "s3" => {
                let bucket = parts[5].split('/').next().unwrap_or_default();
                let bucket_arn = format!("arn:{}:s3:::{bucket}", parts[1]);
                Some(self.bucket_accounts.get(&bucket_arn).cloned().unwrap_or_else(fallback))
            }
            _ => Some(fallback()),
        }
    }

    /// Whether any Allow statement of the principal's identity policies names an action
    /// pattern matching `action` (a fast filter before full decisions).
    pub fn may_allow(&self, principal: &AccountPrincipal, action: &str) -> bool {
        let action = action.to_lowercase();
        principal.identity.iter().filter_map(|index| self.policies.get(*index)).any(|policy| {
            policy.statements.iter().any(|statement| {
                statement.effect == Effect::Allow && statement.action.patterns.iter().any(|pattern| pattern.matches(&action)) != statement.action.negated
            })
        })
    }

    /// False only when the engine certainly refuses `principal` the request (without context
    /// beyond what [`Account::decide_with`] adds): a fast filter before a full decision, exact
    /// for it. The engine allows a request only when an identity Allow statement matches it
    /// (action, resource and conditions), when the resource's own policy grants it, for the
    /// root user, or for the actions AWS authorizes without a policy; boundaries, SCPs and RCPs
    /// only take away. So: true when the resource has a policy, for a root or non-ARN caller,
    /// for `sts:` actions, and when an Allow statement of the principal's identity policies
    /// matches the action and may match the resource (a pattern with policy variables, which
    /// the context fills, counts as matching); conditions are not looked at.
    pub fn may_be_allowed(&self, principal: &AccountPrincipal, action: &str, resource: &str) -> bool {
        let action = action.to_lowercase();
        if action.starts_with("sts:") || !principal.arn.starts_with("arn:") || principal.arn.ends_with(":root") || self.resource_policy(resource).is_some() {
            return true;
        }
        principal.identity.iter().filter_map(|index| self.policies.get(*index)).any(|policy| {
            policy.statements.iter().any(|statement| {
                statement.effect == Effect::Allow
                    && statement.action.patterns.iter().any(|pattern| pattern.matches(&action)) != statement.action.negated
                    && statement.resource.as_ref().is_none_or(|block| {
                        block.patterns.iter().any(|pattern| pattern.compiled.is_none())
                            || block.patterns.iter().any(|pattern| pattern.compiled.as_ref().is_some_and(|compiled| compiled.matches(resource)))
                                != block.negated
                    })
            })
        })
    }

    /// Every principal of the set allowed `action` on `resource`.
    pub fn who_can(&self, action: &str, resource: &str) -> Vec<(&AccountPrincipal, Evaluation)> {
        self.principals
            .iter()
            .filter_map(|principal| {
                let evaluation = self.can(&principal.arn, action, resource, &[]);
                (evaluation.decision == Decision::Allowed).then_some((principal, evaluation))
            })
            .collect()
    }

    /// Whether the organization's policies were applied for every account of the set, and if
    /// not, why, one line per account.
    pub fn organization_policy_notes(&self) -> Vec<(String, OrganizationPolicyStatus)> {
        self.accounts.iter().map(|facts| (facts.account_id.clone(), facts.organization_policies.clone())).collect()
    }
}

/// A principal's policies as an attacker changed them.
#[derive(Debug, Clone, Default)]
pub struct Variant<'a> {
    pub added: Vec<&'a Policy>,
    pub removed: Vec<usize>,
    /// `Some(None)`: the boundary removed; `Some(Some(policy))`: replaced.
    pub boundary: Option<Option<&'a Policy>>,
}

/// A workload's facts gathered before they are set on it: its index, tags, state, parent,
/// flag and instance profile.
type WorkloadFacts = (usize, Tags, Option<String>, Option<String>, Option<bool>, Option<String>);
