//! An account's policies as the engine needs them: every user and role with its identity
//! policies (inline, attached, through groups), boundary and tags, and every resource-based
//! policy, parsed once. `can` and `who_can` answer from it.

use std::collections::HashMap;

use serde::Serialize;
use vigil_model::Inventory;

use crate::evaluate::{Decision, Evaluation, PolicySet, decide, evaluate};
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
    /// Indexes into [`Account::policies`].
    pub identity: Vec<usize>,
    pub boundary: Option<usize>,
    /// Customer managed policies attached directly or through a group (ARNs).
    pub attached_policy_arns: Vec<String>,
    /// Group ARNs (users only).
    pub group_arns: Vec<String>,
    pub tags: vigil_model::Tags,
    /// Users: has a console password; whether an MFA device is registered.
    pub has_console_password: bool,
    pub has_mfa: bool,
    /// Roles: index of the trust policy in [`Account::policies`].
    pub trust: Option<usize>,
    /// Roles: usable by EC2 instances through an instance profile.
    pub instance_profile_arns: Vec<String>,
}

/// A resource-based policy, parsed.
#[derive(Debug, Clone)]
pub struct AccountResource {
    pub arn: String,
    pub service: &'static str,
    pub kind: &'static str,
    pub region: String,
    pub policy: usize,
}

/// The account's IAM and resource policies, parsed once.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub account_id: String,
    pub partition: String,
    pub organization_id: Option<String>,
    pub policies: Vec<Policy>,
    pub principals: Vec<AccountPrincipal>,
    pub resources: Vec<AccountResource>,
    /// Customer managed policy ARN → (index of its default version, number of versions).
    pub managed: HashMap<String, (Option<usize>, usize)>,
    /// Group ARN → whether attaching to it is worth anything is decided by the analyses.
    pub group_policies: HashMap<String, Vec<usize>>,
    /// Policies that could not be parsed: (where, error). They are left out of every decision.
    pub problems: Vec<(String, String)>,
    /// EC2 instances with an instance profile: (instance ARN, instance profile ARN).
    pub instances: Vec<(String, String)>,
    /// Lambda functions and their execution roles: (function ARN, role ARN).
    pub functions: Vec<(String, String)>,
    /// The regions the inventory covers (where a principal could create resources).
    pub regions: Vec<String>,
    resource_index: HashMap<String, usize>,
    /// Principal ARN → index; role name → index (for assumed-role sessions).
    principal_index: HashMap<String, usize>,
    role_name_index: HashMap<String, usize>,
}

impl Account {
    /// Parses every policy of the inventory.
    pub fn from_inventory(inventory: &Inventory) -> Account {
        let mut account = Account {
            account_id: inventory.account_id().to_string(),
            partition: inventory.partition().to_string(),
            organization_id: inventory.account.organization.as_ref().map(|organization| organization.id.clone()),
            ..Account::default()
        };
        let mut managed_index: HashMap<&str, Option<usize>> = HashMap::new();
        for managed in &inventory.iam.policies {
            let index = managed.default_document().and_then(|document| account.parse(document, &managed.arn));
            managed_index.insert(&managed.arn, index);
            if !managed.is_aws_managed() {
                account.managed.insert(managed.arn.clone(), (index, managed.policy_version_list.len()));
            }
        }
        let attached = |list: &[vigil_model::iam::AttachedPolicy]| -> (Vec<usize>, Vec<String>) {
            let indexes = list.iter().filter_map(|policy| managed_index.get(policy.policy_arn.as_str()).copied().flatten()).collect();
            let customer = list.iter().filter(|policy| !policy.policy_arn.contains(":iam::aws:policy/")).map(|policy| policy.policy_arn.clone()).collect();
            (indexes, customer)
        };
        let mut groups: HashMap<&str, (String, Vec<usize>, Vec<String>)> = HashMap::new();
        for group in &inventory.iam.groups {
            let (mut indexes, customer) = attached(&group.attached_managed_policies);
            for inline in &group.group_policy_list {
                indexes.extend(account.parse(&inline.policy_document, &format!("{} inline policy {}", group.arn, inline.policy_name)));
            }
            account.group_policies.insert(group.arn.clone(), indexes.clone());
            groups.insert(&group.group_name, (group.arn.clone(), indexes, customer));
        }
        for user in &inventory.iam.users {
            let (mut identity, mut attached_policy_arns) = attached(&user.attached_managed_policies);
            for inline in &user.user_policy_list {
                identity.extend(account.parse(&inline.policy_document, &format!("{} inline policy {}", user.arn, inline.policy_name)));
            }
            let mut group_arns = Vec::new();
            for name in &user.group_list {
                if let Some((arn, indexes, customer)) = groups.get(name.as_str()) {
                    identity.extend(indexes);
                    attached_policy_arns.extend(customer.iter().cloned());
                    group_arns.push(arn.clone());
                }
            }
            let boundary = user.permissions_boundary.as_ref().and_then(|policy| managed_index.get(policy.policy_arn.as_str()).copied().flatten());
            account.principals.push(AccountPrincipal {
                arn: user.arn.clone(),
                name: user.user_name.clone(),
                kind: PrincipalType::User,
                identity,
                boundary,
                attached_policy_arns,
                group_arns,
                tags: user.tags.clone(),
                has_console_password: user.login_profile.is_some(),
                has_mfa: !user.mfa_devices.is_empty(),
                trust: None,
                instance_profile_arns: Vec::new(),
            });
        }
        for role in &inventory.iam.roles {
            let (mut identity, attached_policy_arns) = attached(&role.attached_managed_policies);
            for inline in &role.role_policy_list {
                identity.extend(account.parse(&inline.policy_document, &format!("{} inline policy {}", role.arn, inline.policy_name)));
            }
            let boundary = role.permissions_boundary.as_ref().and_then(|policy| managed_index.get(policy.policy_arn.as_str()).copied().flatten());
            let trust = role.assume_role_policy_document.as_ref().and_then(|document| account.parse(document, &format!("{} trust policy", role.arn)));
            account.principals.push(AccountPrincipal {
                arn: role.arn.clone(),
                name: role.role_name.clone(),
                kind: PrincipalType::Role,
                identity,
                boundary,
                attached_policy_arns,
                group_arns: Vec::new(),
                tags: role.tags.clone(),
                has_console_password: false,
                has_mfa: false,
                trust,
                instance_profile_arns: role.instance_profile_list.iter().map(|profile| profile.arn.clone()).collect(),
            });
        }
        for (index, principal) in account.principals.iter().enumerate() {
            account.principal_index.insert(principal.arn.clone(), index);
            if principal.kind == PrincipalType::Role {
                account.role_name_index.insert(principal.name.clone(), index);
            }
        }
        account.regions = inventory.regions.iter().chain(inventory.regional.keys()).map(ToString::to_string).collect();
        account.regions.sort();
        account.regions.dedup();
        for (region, regional) in &inventory.regional {
            for instance in &regional.ec2.instances {
                if let Some(profile) = &instance.iam_instance_profile {
                    let arn = format!("arn:{}:ec2:{region}:{}:instance/{}", account.partition, account.account_id, instance.instance_id);
                    account.instances.push((arn, profile.arn.clone()));
                }
            }
            for function in &regional.lambda_functions {
                if let Some(role) = &function.role {
                    account.functions.push((function.function_arn.clone(), role.clone()));
                }
            }
        }
        for resource in resource_policies(inventory) {
            if resource.service == "iam" {
                continue;
            }
            if let Some(policy) = account.parse(resource.document, &format!("{} {}", resource.arn, resource.kind)) {
                account.resource_index.insert(resource.arn.clone(), account.resources.len());
                account.resources.push(AccountResource { arn: resource.arn, service: resource.service, kind: resource.kind, region: resource.region, policy });
            }
        }
        account
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

    pub fn principal(&self, arn: &str) -> Option<&AccountPrincipal> {
        let role_name = arn.split_once(":assumed-role/").map(|(_, rest)| rest.split('/').next().unwrap_or_default());
        self.principals
            .iter()
            .find(|principal| principal.arn == arn || (principal.kind == PrincipalType::Role && role_name.is_some_and(|name| name == principal.name)))
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
    /// `aws:PrincipalTag/...`, MFA and TLS present, the organization id; `extra` overrides.
    pub fn context_for(&self, principal: Option<&AccountPrincipal>, extra: &[(String, String)]) -> Context {
        let mut context = Context::default();
        context.insert("aws:MultiFactorAuthPresent", vec!["true".into()]);
        context.insert("aws:SecureTransport", vec!["true".into()]);
        if let Some(organization) = &self.organization_id {
            context.insert("aws:PrincipalOrgID", vec![organization.clone()]);
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

    /// The policies that apply when `principal` (one of the account's, or `None` for an outside
    /// caller) acts on `resource`.
    pub fn policy_set(&self, principal: Option<&AccountPrincipal>, resource: &str) -> PolicySet<'_> {
        let identity = principal.map(|principal| principal.identity.iter().filter_map(|index| self.policies.get(*index)).collect()).unwrap_or_default();
        PolicySet {
            identity,
            resource: self.resource_policy(resource),
            permissions_boundary: principal.and_then(|principal| principal.boundary).and_then(|index| self.policies.get(index)),
            ..PolicySet::default()
        }
    }

    /// Decides one request from the account's real policies.
    pub fn can(&self, principal_arn: &str, action: &str, resource: &str, extra: &[(String, String)]) -> Evaluation {
        let principal = self.principal(principal_arn);
        let request = Request::new(principal_arn, action, resource, self.resource_account(resource), self.context_for(principal, extra));
        evaluate(&request, &self.policy_set(principal, resource))
    }

    /// Decides without explanation, for a principal of the account.
    pub fn decide_for(&self, principal: &AccountPrincipal, action: &str, resource: &str) -> Decision {
        let request = Request::new(&principal.arn, action, resource, Some(self.account_id.clone()), self.context_for(Some(principal), &[]));
        decide(&request, &self.policy_set(Some(principal), resource))
    }

    /// The account that owns a resource: from its ARN, else (S3 buckets) this account.
    pub fn resource_account(&self, resource: &str) -> Option<String> {
        match crate::pattern::arn_parts(resource) {
            Some(parts) if !parts[4].is_empty() => Some(parts[4].to_string()),
            _ => Some(self.account_id.clone()),
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

    /// Every principal of the account allowed `action` on `resource`.
    pub fn who_can(&self, action: &str, resource: &str) -> Vec<(&AccountPrincipal, Evaluation)> {
        self.principals
            .iter()
            .filter_map(|principal| {
                let evaluation = self.can(&principal.arn, action, resource, &[]);
                (evaluation.decision == Decision::Allowed).then_some((principal, evaluation))
            })
            .collect()
    }
}
