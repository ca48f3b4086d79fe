//! Analyses over an account: admin-equivalent principals, privilege escalation paths to
//! admin over the known methods, and resources reachable from outside the account through
//! their resource-based policies.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::account::{Account, AccountPrincipal, PrincipalType};
use crate::catalog::{AccessLevel, Catalog};
use crate::evaluate::{Decision, PolicySet, decide};
use crate::policy::{Effect, PrincipalType as EntryType};
use crate::publicity::{self, Reach};
use crate::request::{Principal, Request};

/// Actions a principal must be allowed on `*` to count as able to do anything. The made-up
/// `vigil-probe:` action is granted only by wildcards (`*`, `NotAction`).
const FULL_ADMIN_PROBES: &[&str] =
    &["vigil-probe:AnyAction", "iam:AttachRolePolicy", "iam:PutUserPolicy", "iam:PassRole", "ec2:RunInstances", "s3:GetObject", "kms:Decrypt"];

/// One step of an escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub from: String,
    /// The principal gained (the same principal for a step that grants itself more).
    pub to: String,
    /// The method's name, such as `iam:PassRole + ec2:RunInstances`.
    pub method: String,
    /// The resource the method acts on.
    pub resource: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admin {
    pub principal: String,
    pub kind: PrincipalType,
    /// `full` (allowed everything) or `self-grant` (can give itself any permission).
    pub reason: &'static str,
    /// For `self-grant`: how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationPath {
    pub principal: String,
    pub kind: PrincipalType,
    /// The admin-equivalent principal the path ends at.
    pub admin: String,
    pub steps: Vec<Step>,
}

fn full_admin(account: &Account, principal: &AccountPrincipal) -> bool {
    FULL_ADMIN_PROBES.iter().all(|action| account.may_allow(principal, action))
        && FULL_ADMIN_PROBES.iter().all(|action| account.decide_for(principal, action, "*") == Decision::Allowed)
}

/// A way for the principal to give itself any permission in one step.
fn self_grant(account: &Account, principal: &AccountPrincipal) -> Option<Step> {
    let step = |method: &str, resource: &str| Step {
        from: principal.arn.clone(),
        to: principal.arn.clone(),
        method: method.to_string(),
        resource: resource.to_string(),
    };
    let allowed = |action: &str, resource: &str| account.may_allow(principal, action) && account.decide_for(principal, action, resource) == Decision::Allowed;
    let own: &[&str] = match principal.kind {
        PrincipalType::User => &["iam:PutUserPolicy", "iam:AttachUserPolicy"],
        PrincipalType::Role => &["iam:PutRolePolicy", "iam:AttachRolePolicy"],
    };
    for action in own {
        if allowed(action, &principal.arn) {
            return Some(step(action, &principal.arn));
        }
    }
    for group in &principal.group_arns {
        for action in ["iam:PutGroupPolicy", "iam:AttachGroupPolicy"] {
            if allowed(action, group) {
                return Some(step(action, group));
            }
        }
    }
    // Joining a group whose policies allow everything (iam:AddUserToGroup on that group).
    if principal.kind == PrincipalType::User && account.may_allow(principal, "iam:AddUserToGroup") {
        let mut groups: Vec<(&String, &Vec<usize>)> = account.group_policies.iter().filter(|(group, _)| !principal.group_arns.contains(group)).collect();
        groups.sort();
        for (group, policies) in groups {
            if !allowed("iam:AddUserToGroup", group) {
                continue;
            }
            let mut member = principal.clone();
            member.identity.extend(policies.iter().copied());
            member.group_arns.push(group.clone());
            if full_admin(account, &member) {
                return Some(step("iam:AddUserToGroup", group));
            }
        }
    }
    for policy in &principal.attached_policy_arns {
        if allowed("iam:CreatePolicyVersion", policy) {
            return Some(step("iam:CreatePolicyVersion", policy));
        }
        let versions = account.managed.get(policy).map(|(_, versions)| *versions).unwrap_or(0);
        if versions > 1 && allowed("iam:SetDefaultPolicyVersion", policy) {
            return Some(step("iam:SetDefaultPolicyVersion (to another version)", policy));
        }
    }
    None
}

/// Admin-equivalent principals: allowed everything, or able to grant themselves anything.
pub fn admins(account: &Account) -> Vec<Admin> {
    let mut admins: Vec<Admin> = account
        .principals
        .iter()
        .filter_map(|principal| {
            if full_admin(account, principal) {
                return Some(Admin { principal: principal.arn.clone(), kind: principal.kind, reason: "full", step: None });
            }
            self_grant(account, principal).map(|step| Admin { principal: principal.arn.clone(), kind: principal.kind, reason: "self-grant", step: Some(step) })
        })
        .collect();
    admins.sort_by(|a, b| a.principal.cmp(&b.principal));
    admins
}

/// `iam:PassRole` methods: the service that must trust the role, and the actions that put it to work.
const PASS_ROLE_METHODS: &[(&str, &[&str])] = &[
    ("ec2.amazonaws.com", &["ec2:RunInstances"]),
    ("lambda.amazonaws.com", &["lambda:CreateFunction", "lambda:InvokeFunction"]),
    ("cloudformation.amazonaws.com", &["cloudformation:CreateStack"]),
    ("glue.amazonaws.com", &["glue:CreateDevEndpoint"]),
    ("datapipeline.amazonaws.com", &["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"]),
    ("codebuild.amazonaws.com", &["codebuild:CreateProject", "codebuild:StartBuild"]),
    ("sagemaker.amazonaws.com", &["sagemaker:CreateNotebookInstance"]),
    ("ecs-tasks.amazonaws.com", &["ecs:RegisterTaskDefinition", "ecs:RunTask"]),
    ("ec2.amazonaws.com", &["autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"]),
];

/// The resources a `PassRole` method's service action is authorized against when it creates
/// a new resource (`{region}`, `{account}` filled in; the name is the attacker's choice, here
/// `vigil-escalation`). A policy may grant the action on `*` or on these ARNs (every one of
/// them must be allowed, as AWS checks each resource the call touches).
const SERVICE_ACTION_RESOURCES: &[(&str, &[&str])] = &[
    (
        "ec2:RunInstances",
        &[
            "ec2:{region}:{account}:instance/vigil-escalation",
            "ec2:{region}::image/ami-vigil-escalation",
            "ec2:{region}:{account}:subnet/subnet-vigil-escalation",
            "ec2:{region}:{account}:network-interface/eni-vigil-escalation",
            "ec2:{region}:{account}:security-group/sg-vigil-escalation",
            "ec2:{region}:{account}:volume/vol-vigil-escalation",
        ],
    ),
    ("lambda:CreateFunction", &["lambda:{region}:{account}:function:vigil-escalation"]),
    ("lambda:InvokeFunction", &["lambda:{region}:{account}:function:vigil-escalation"]),
    ("cloudformation:CreateStack", &["cloudformation:{region}:{account}:stack/vigil-escalation/0"]),
    ("glue:CreateDevEndpoint", &["glue:{region}:{account}:devEndpoint/vigil-escalation"]),
    ("codebuild:CreateProject", &["codebuild:{region}:{account}:project/vigil-escalation"]),
    ("codebuild:StartBuild", &["codebuild:{region}:{account}:project/vigil-escalation"]),
    ("sagemaker:CreateNotebookInstance", &["sagemaker:{region}:{account}:notebook-instance/vigil-escalation"]),
    ("ecs:RunTask", &["ecs:{region}:{account}:task-definition/vigil-escalation:1"]),
    ("autoscaling:CreateLaunchConfiguration", &["autoscaling:{region}:{account}:launchConfiguration:0:launchConfigurationName/vigil-escalation"]),
    ("autoscaling:CreateAutoScalingGroup", &["autoscaling:{region}:{account}:autoScalingGroup:0:autoScalingGroupName/vigil-escalation"]),
];

/// Whether `principal` may call a `PassRole` method's service action: on `*`, or, in one of
/// the account's regions, on every resource a new call would touch.
fn service_action_allowed(account: &Account, principal: &AccountPrincipal, action: &str) -> bool {
    if !account.may_allow(principal, action) {
        return false;
    }
    if account.decide_for(principal, action, "*") == Decision::Allowed {
        return true;
    }
    let Some((_, templates)) = SERVICE_ACTION_RESOURCES.iter().find(|(name, _)| *name == action) else { return false };
    account.regions.iter().any(|region| {
        templates.iter().all(|template| {
            let resource = format!("arn:{}:{}", account.partition, template.replace("{region}", region).replace("{account}", &account.account_id));
            account.decide_for(principal, action, &resource) == Decision::Allowed
        })
    })
}

/// Whether the role's trust policy lets `service` assume it.
fn trusts_service(account: &Account, role: &AccountPrincipal, service: &str) -> bool {
    let Some(trust) = role.trust.and_then(|index| account.policies.get(index)) else { return false };
    let request = Request::new(service, "sts:AssumeRole", &role.arn, Some(account.account_id.clone()), account.context_for(None, &[]));
    decide(&request, &PolicySet { resource: Some(trust), ..PolicySet::default() }) == Decision::Allowed
}

/// Every "principal can become principal" edge over the known methods, from every principal
/// not in `skip` (admins need no path, and a path stops at the first admin).
pub fn escalation_edges(account: &Account, skip: &HashSet<&str>) -> Vec<(usize, usize, Step)> {
    let principals = &account.principals;
    let by_arn: HashMap<&str, usize> = principals.iter().enumerate().map(|(index, principal)| (principal.arn.as_str(), index)).collect();
    let mut profile_roles: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, principal) in principals.iter().enumerate() {
        for profile in &principal.instance_profile_arns {
            profile_roles.entry(profile.as_str()).or_default().push(index);
        }
    }
    let mut trusting: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut edges = Vec::new();
    let step = |from: &AccountPrincipal, to: &AccountPrincipal, method: &str, resource: &str| Step {
        from: from.arn.clone(),
        to: to.arn.clone(),
        method: method.to_string(),
        resource: resource.to_string(),
    };
    // Roles whose trust policy names a principal by ARN: those can be assumed without any
    // identity policy, so they are tried even for principals without sts:AssumeRole.
    let mut named_in_trust: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, role) in principals.iter().enumerate() {
        if let Some(trust) = role.trust.and_then(|trust| account.policies.get(trust)) {
            for statement in &trust.statements {
                for entry in statement.principal.iter().flat_map(|block| block.entries.iter()) {
                    named_in_trust.entry(entry.value.as_str()).or_default().push(index);
                }
            }
        }
    }
    const USER_TAKEOVER: [&str; 3] = ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"];
    for (from_index, from) in principals.iter().enumerate().filter(|(_, principal)| !skip.contains(principal.arn.as_str())) {
        let may = |action: &str| account.may_allow(from, action);
        let allowed = |action: &str, resource: &str| account.decide_for(from, action, resource) == Decision::Allowed;
        let user_takeover: Vec<&str> = USER_TAKEOVER.into_iter().filter(|action| may(action)).collect();
        let may_assume = may("sts:AssumeRole");
        let may_update_trust = may("iam:UpdateAssumeRolePolicy");
        let named: HashSet<usize> = named_in_trust.get(from.arn.as_str()).into_iter().flatten().copied().collect();
        let scan_all = !user_takeover.is_empty() || may_assume || may_update_trust;
        let targets: Box<dyn Iterator<Item = usize>> = if scan_all { Box::new(0..principals.len()) } else { Box::new(named.iter().copied()) };
        for to_index in targets {
            let Some(to) = principals.get(to_index).filter(|_| to_index != from_index) else { continue };
            match to.kind {
                PrincipalType::User => {
                    if let Some(action) = user_takeover.iter().find(|action| allowed(action, &to.arn)) {
                        edges.push((from_index, to_index, step(from, to, action, &to.arn)));
                    }
                }
                PrincipalType::Role => {
                    if (may_assume || named.contains(&to_index)) && account.can(&from.arn, "sts:AssumeRole", &to.arn, &[]).decision == Decision::Allowed {
                        edges.push((from_index, to_index, step(from, to, "sts:AssumeRole", &to.arn)));
                    } else if may_update_trust && allowed("iam:UpdateAssumeRolePolicy", &to.arn) {
                        edges.push((from_index, to_index, step(from, to, "iam:UpdateAssumeRolePolicy (then sts:AssumeRole)", &to.arn)));
                    }
                }
            }
        }
        if may("iam:PassRole") {
            for (service, actions) in PASS_ROLE_METHODS {
                if !actions.iter().all(|action| service_action_allowed(account, from, action)) {
                    continue;
                }
                let roles = trusting.entry(service).or_insert_with(|| {
                    principals
                        .iter()
                        .enumerate()
                        .filter(|(_, role)| role.kind == PrincipalType::Role && trusts_service(account, role, service))
                        .map(|(index, _)| index)
                        .collect()
                });
                for to_index in roles.iter().copied() {
                    if let Some(to) = principals.get(to_index).filter(|_| to_index != from_index)
                        && allowed("iam:PassRole", &to.arn)
                    {
                        edges.push((from_index, to_index, step(from, to, &format!("iam:PassRole + {}", actions.join(" + ")), &to.arn)));
                    }
                }
            }
        }
        for action in ["ssm:SendCommand", "ssm:StartSession"] {
            if !may(action) {
                continue;
            }
            for (instance, profile) in &account.instances {
                for to_index in profile_roles.get(profile.as_str()).into_iter().flatten().copied() {
                    if let Some(to) = principals.get(to_index)
                        && allowed(action, instance)
                    {
                        edges.push((from_index, to_index, step(from, to, action, instance)));
                    }
                }
            }
        }
        if may("lambda:UpdateFunctionCode") {
            for (function, role) in &account.functions {
                if let Some(to_index) = by_arn.get(role.as_str()).copied()
                    && let Some(to) = principals.get(to_index)
                    && allowed("lambda:UpdateFunctionCode", function)
                {
                    edges.push((from_index, to_index, step(from, to, "lambda:UpdateFunctionCode", function)));
                }
            }
        }
    }
    edges
}

/// Shortest paths from each principal that is not an admin to an admin-equivalent principal.
pub fn escalation(account: &Account) -> Vec<EscalationPath> {
    let admins = admins(account);
    let admin_steps: HashMap<&str, Option<&Step>> = admins.iter().map(|admin| (admin.principal.as_str(), admin.step.as_ref())).collect();
    let skip: HashSet<&str> = admin_steps.keys().copied().collect();
    let edges = escalation_edges(account, &skip);
    let mut adjacency: HashMap<usize, Vec<usize>> = HashMap::new();
    for (edge_index, (from, _, _)) in edges.iter().enumerate() {
        adjacency.entry(*from).or_default().push(edge_index);
    }
    let mut paths = Vec::new();
    for (start, principal) in account.principals.iter().enumerate() {
        match admin_steps.get(principal.arn.as_str()) {
            Some(None) => continue,
            Some(Some(step)) => {
                paths.push(EscalationPath {
                    principal: principal.arn.clone(),
                    kind: principal.kind,
                    admin: principal.arn.clone(),
                    steps: vec![(*step).clone()],
                });
                continue;
            }
            None => {}
        }
        // Breadth-first search for the nearest admin.
        let mut previous: HashMap<usize, usize> = HashMap::new();
        let mut seen: HashSet<usize> = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        let mut found = None;
        while let Some(node) = queue.pop_front() {
            for edge_index in adjacency.get(&node).into_iter().flatten() {
                let Some((_, to, _)) = edges.get(*edge_index) else { continue };
                if !seen.insert(*to) {
                    continue;
                }
                previous.insert(*to, *edge_index);
                let to_arn = account.principals.get(*to).map(|target| target.arn.as_str()).unwrap_or_default();
                if admin_steps.contains_key(to_arn) {
                    found = Some(*to);
                    break;
                }
                queue.push_back(*to);
            }
            if found.is_some() {
                break;
            }
        }
        let Some(end) = found else { continue };
        let mut steps = Vec::new();
        let mut node = end;
        while let Some(edge_index) = previous.get(&node) {
            let Some((from, _, step)) = edges.get(*edge_index) else { break };
            steps.push(step.clone());
            node = *from;
        }
        steps.reverse();
        let end_arn = account.principals.get(end).map(|target| target.arn.clone()).unwrap_or_default();
        if let Some(Some(step)) = admin_steps.get(end_arn.as_str()) {
            steps.push((*step).clone());
        }
        paths.push(EscalationPath { principal: principal.arn.clone(), kind: principal.kind, admin: end_arn, steps });
    }
    paths.sort_by(|a, b| a.principal.cmp(&b.principal));
    paths
}

/// How far outside the account a resource-based policy statement reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Anyone, including anonymous callers.
    Public,
    /// Anyone, but only from given networks (IP ranges, VPC endpoints, VPCs).
    NetworkRestricted,
    /// Principals of other, named accounts or organizations.
    CrossAccount,
    /// Identities of an external identity provider (role trust policies).
    Federated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalAccess {
    pub resource: String,
    pub service: &'static str,
    pub kind: &'static str,
    pub region: String,
    pub exposure: Exposure,
    /// Who: `*`, account ids, organization ids, identity providers.
    pub principals: Vec<String>,
    pub actions: Vec<String>,
    /// With an action catalog: the access levels of the actions the statement grants on this
    /// service (`NotAction` expanded exactly), as Access Analyzer reports them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_levels: Vec<AccessLevel>,
    /// The conditions that narrow the access, as written.
    pub narrowed_by: Vec<String>,
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Resources reachable from outside the account through their resource-based policies
/// (and roles assumable from outside through their trust policies).
pub fn external_access(account: &Account) -> Vec<ExternalAccess> {
    external_access_with_catalog(account, None)
}

/// [`external_access`], with each finding's access levels when a catalog is given.
pub fn external_access_with_catalog(account: &Account, catalog: Option<&Catalog>) -> Vec<ExternalAccess> {
    let own = account.account_id.as_str();
    let mut findings = Vec::new();
    let resources =
        account.resources.iter().map(|resource| (resource.arn.as_str(), resource.service, resource.kind, resource.region.as_str(), resource.policy));
    let roles =
        account.principals.iter().filter_map(|principal| principal.trust.map(|trust| (principal.arn.as_str(), "iam", "role trust policy", "global", trust)));
    for (arn, service, kind, region, policy_index) in resources.chain(roles) {
        let Some(policy) = account.policies.get(policy_index) else { continue };
        let owner_account = account.resource_account(arn).unwrap_or_else(|| own.to_string());
        let owner = publicity::Resource { arn, account: &owner_account, organization: account.organization_id.as_deref(), partition: &account.partition };
        for statement in policy.statements.iter().filter(|statement| statement.effect == Effect::Allow) {
            let Some(block) = &statement.principal else { continue };
            let mut accounts: BTreeSet<String> = BTreeSet::new();
            let mut federated: BTreeSet<String> = BTreeSet::new();
            for entry in block.entries.iter().filter(|_| !block.negated) {
                match entry.kind {
                    EntryType::Aws if entry.value != "*" => {
                        let principal = Principal::parse(&entry.value);
                        if let Some(account_id) = principal.account.filter(|account_id| *account_id != owner_account)
                            && publicity::admits_principal(policy, statement, &owner, &entry.value)
                        {
                            accounts.insert(account_id);
                        }
                    }
                    EntryType::Federated => {
                        federated.insert(entry.value.clone());
                    }
                    _ => {}
                }
            }
            let (exposure, principals, narrowed_by) = if publicity::names_everyone(statement) {
                match publicity::reach_of(policy, statement, &owner) {
                    (Reach::Public, narrowed_by) => (Exposure::Public, vec!["*".to_string()], narrowed_by),
                    (Reach::Networks, narrowed_by) => (Exposure::NetworkRestricted, vec!["*".to_string()], narrowed_by),
                    (Reach::Identities(identities), narrowed_by) => (Exposure::CrossAccount, identities.into_iter().collect(), narrowed_by),
                    (Reach::Inside, _) => continue,
                }
            } else if !accounts.is_empty() {
                (Exposure::CrossAccount, accounts.into_iter().collect(), Vec::new())
            } else if !federated.is_empty() {
                (Exposure::Federated, federated.into_iter().collect(), Vec::new())
            } else {
                continue;
            };
            let actions = statement
                .action
                .patterns
                .iter()
                .map(|pattern| if statement.action.negated { format!("NOT {}", pattern.text) } else { pattern.text.clone() })
                .collect();
            let access_levels = catalog
                .map(|catalog| {
                    let patterns: Vec<&str> = statement.action.patterns.iter().map(|pattern| pattern.text.as_str()).collect();
                    // A trust policy grants `sts:` actions; any other resource policy its own service's.
                    let service = if service == "iam" { "sts" } else { service };
                    catalog.access_levels(&patterns, statement.action.negated, Some(service))
                })
                .unwrap_or_default();
            findings.push(ExternalAccess {
                resource: arn.to_string(),
                service,
                kind,
                region: region.to_string(),
                exposure,
                principals,
                actions,
                access_levels,
                narrowed_by,
                statement: statement.index,
                sid: statement.sid.clone(),
            });
        }
    }
    findings.sort_by(|a, b| (a.exposure, &a.resource, a.statement).cmp(&(b.exposure, &b.resource, b.statement)));
    findings
}
