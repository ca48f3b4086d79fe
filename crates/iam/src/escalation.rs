//! Privilege escalation: a graph whose nodes are the principals of one or several accounts and
//! whose edges are the techniques of [`crate::techniques`] (assume a role, take over a user,
//! pass a role to a new resource, take over a resource that runs with a role, change another
//! principal's permissions then act as it), each decided by the engine on the resource it acts
//! on with the request context AWS would set. Paths lead from every principal that lacks the
//! goal (admin, or access to a named resource) to a principal that has it, or that can give
//! itself it; every distinct path is reported (shortest first, up to a limit per principal).
//!
//! Names an attacker chooses (a new function, job, stack...) are not one sample: for each
//! service action, the name is drawn from every pattern of the principal's Allow statements
//! for that action (a witness the pattern admits), and the action counts only if the engine
//! allows it on such a name.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;

use crate::account::{ADMINISTRATOR_ACCESS, Account, AccountPrincipal, PolicySource, PrincipalType, Variant, Workload, WorkloadKind};
use crate::evaluate::{Decision, PolicySet, decide};
use crate::policy::{Effect, Policy, PrincipalType as EntryType};
use crate::request::Request;
use crate::techniques::{Category, Kind, Needs, Shape, TECHNIQUES, Technique};

/// One permission a step uses, on the resource the engine decided it for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub action: String,
    pub resource: String,
}

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
    /// The technique's id in the catalog (pathfinding.cloud's where it has one: `ec2-001`).
    pub technique: String,
    /// `self-escalation`, `principal-access`, `new-passrole`, `existing-passrole`, `modify-then-act`.
    pub category: &'static str,
    /// Every permission the step uses and the resource each was decided on.
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationPath {
    pub principal: String,
    pub kind: PrincipalType,
    /// The principal the path ends at: an admin-equivalent principal, or (with a resource
    /// target) one that can use the resource.
    pub admin: String,
    pub steps: Vec<Step>,
    /// `admin`, or the resource's ARN.
    pub target: String,
    /// The account of the starting principal.
    pub account: String,
}

/// What paths lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Admin-equivalent: allowed everything, or able to grant itself anything.
    Admin,
    /// Using a resource: any of these (action, resource) requests allowed.
    Resource { arn: String, accesses: Vec<(String, String)> },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub goal: Goal,
    /// Paths reported per starting principal (shortest first); 0 means no limit.
    pub max_paths: usize,
    /// Hops per path at most (a hop is one edge: one technique, or a modification and an act).
    pub max_hops: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { goal: Goal::Admin, max_paths: 25, max_hops: 6 }
    }
}

/// Actions a principal must be allowed on `*` to count as able to do anything. The made-up
/// `vigil-probe:` action is granted only by wildcards (`*`, `NotAction`).
pub const FULL_ADMIN_PROBES: &[&str] =
    &["vigil-probe:AnyAction", "iam:AttachRolePolicy", "iam:PutUserPolicy", "iam:PassRole", "ec2:RunInstances", "s3:GetObject", "kms:Decrypt"];

/// What a name chosen for a new resource is filled with.
const FILLER: &str = "vigil-escalation";

fn step(from: &AccountPrincipal, to: &str, technique: &Technique, resource: &str, permissions: Vec<Permission>) -> Step {
    Step {
        from: from.arn.clone(),
        to: to.to_string(),
        method: technique.name.to_string(),
        resource: resource.to_string(),
        technique: technique.id.to_string(),
        category: technique.category.as_str(),
        permissions,
    }
}

fn catalog(id: &str) -> &'static Technique {
    // Every id used in this module is in the table (a unit test pins it).
    crate::techniques::technique(id).unwrap_or(&TECHNIQUES[0])
}

fn permission(action: &str, resource: &str) -> Permission {
    Permission { action: action.to_string(), resource: resource.to_string() }
}

/// The request context AWS sets for an action on an existing resource with these tags: the
/// global `aws:ResourceTag/...` and the service's own prefix for the services that define one.
fn tag_context(action: &str, tags: &vigil_model::Tags) -> Vec<(String, String)> {
    let service = action.split(':').next().unwrap_or_default();
    let own = match service {
        "ec2" | "ec2-instance-connect" => Some("ec2:ResourceTag"),
        "ssm" => Some("ssm:resourceTag"),
        "iam" => Some("iam:ResourceTag"),
        "ecs" => Some("ecs:ResourceTag"),
        _ => None,
    };
    let mut context = Vec::new();
    for (key, value) in tags {
        context.push((format!("aws:ResourceTag/{key}"), value.clone()));
        if let Some(own) = own {
            context.push((format!("{own}/{key}"), value.clone()));
        }
    }
    context
}

/// The region an action is requested in: IAM and STS are global (signed in `us-east-1`).
fn requested_region(action: &str, region: &str) -> String {
    if action.starts_with("iam:") { "us-east-1".to_string() } else { region.to_string() }
}

/// The memo key of a technique's service actions: (the target's position among the technique's
/// workloads, the region, the instance profile when a policy reads `ec2:InstanceProfile`).
type ServiceKey<'r> = (usize, &'r str, Option<String>);

/// Modifying a principal's permissions: the steps, and the principal's policies afterwards.
struct Modification<'a> {
    steps: Vec<Step>,
    variant: Variant<'a>,
    /// Grants arbitrary permissions (a policy written by the attacker) rather than removing a
    /// restriction or adding a given policy.
    grants: bool,
}

/// The engine's view of one account set for the analysis.
struct Analyzer<'a> {
    account: &'a Account,
    goal: &'a Goal,
    /// Service principal → roles whose trust policy lets it assume them.
    trusting: HashMap<&'static str, Vec<usize>>,
    /// Principal keys named in trust policies → roles (`*`, `account:ID`, ARNs).
    named: HashMap<String, Vec<usize>>,
    admin_policy: Option<&'a Policy>,
    /// Per principal: a role whose trust policy can grant only through the account (see
    /// [`grants_only_to_accounts`]), so that an IAM principal can assume it only when its
    /// identity-based policies allow `sts:AssumeRole`.
    account_only_trust: Vec<bool>,
    /// Whether any policy of the set reads `ec2:InstanceProfile` (see [`Policy::reads_context_key`]).
    instance_profile_read: bool,
    /// Asks every decision: no memo, no pruning ([`escalation_exhaustive`]).
    exhaustive: bool,
}

impl<'a> Analyzer<'a> {
    fn new(account: &'a Account, goal: &'a Goal, exhaustive: bool) -> Analyzer<'a> {
        let mut named: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, principal) in account.principals.iter().enumerate() {
            let Some(trust) = principal.trust.and_then(|trust| account.policies.get(trust)) else { continue };
            let mut keys = HashSet::new();
            for statement in trust.statements.iter().filter(|statement| statement.effect == Effect::Allow) {
                let Some(block) = &statement.principal else { continue };
                if block.negated {
                    keys.insert("*".to_string());
                    continue;
                }
                for entry in &block.entries {
                    match entry.kind {
                        EntryType::Everyone => {
                            keys.insert("*".to_string());
                        }
                        EntryType::Aws if entry.value == "*" => {
                            keys.insert("*".to_string());
                        }
                        EntryType::Aws => {
                            let parsed = crate::request::Principal::parse(&entry.value);
                            match parsed.kind {
                                crate::request::PrincipalKind::Root => {
                                    keys.insert(format!("account:{}", parsed.account.unwrap_or_default()));
                                }
                                _ => {
                                    keys.insert(entry.value.clone());
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            for key in keys {
                named.entry(key).or_default().push(index);
            }
        }
        let account_only_trust = account
            .principals
            .iter()
            .map(|principal| principal.trust.and_then(|trust| account.policies.get(trust)).is_some_and(grants_only_to_accounts))
            .collect();
        let instance_profile_read = account.policies.iter().any(|policy| policy.reads_context_key("ec2:instanceprofile"));
        Analyzer {
            account,
            goal,
            trusting: HashMap::new(),
            named,
            admin_policy: account.admin_policy.as_ref(),
            account_only_trust,
            instance_profile_read,
            exhaustive,
        }
    }

    fn principal(&self, index: usize) -> Option<&'a AccountPrincipal> {
        self.account.principals.get(index)
    }

    fn regions(&self, principal: &AccountPrincipal) -> Vec<String> {
        let regions = self.account.facts(&principal.account_id).map(|facts| facts.regions.clone()).unwrap_or_default();
        if regions.is_empty() { vec!["us-east-1".to_string()] } else { regions }
    }

    /// Whether `principal` may do `action` on `resource` (AWS's keys for the request added).
    fn allowed(&self, principal: &AccountPrincipal, action: &str, resource: &str, region: &str, extra: &[(String, String)]) -> bool {
        let mut context: Vec<(String, String)> = vec![("aws:RequestedRegion".to_string(), requested_region(action, region))];
        context.extend(extra.iter().cloned());
        self.account.decide_with(principal, action, resource, &context) == Decision::Allowed
    }

    /// Roles of `account_id` whose trust policy lets one of `services` assume them.
    fn trusting(&mut self, services: &'static [&'static str], account_id: &str) -> Vec<usize> {
        let mut roles = Vec::new();
        for service in services {
            let account = self.account;
            let list = self.trusting.entry(service).or_insert_with(|| {
                account
                    .principals
                    .iter()
                    .enumerate()
                    .filter(|(_, role)| role.kind == PrincipalType::Role && trusts_service(account, role, service))
                    .map(|(index, _)| index)
                    .collect()
            });
            roles.extend(list.iter().copied().filter(|index| account.principals.get(*index).is_some_and(|role| role.account_id == account_id)));
        }
        roles.sort_unstable();
        roles.dedup();
        roles
    }

    /// A resource the service action is allowed on, for one shape in one region: the workload's
    /// own ARN, an existing resource, or a name the principal's patterns admit.
    fn shape_resource(
        &self,
        principal: &AccountPrincipal,
        action: &str,
        shape: Shape,
        region: &str,
        workload: Option<&Workload>,
        extra: &[(String, String)],
    ) -> Option<String> {
        let partition = &self.account.facts(&principal.account_id).map(|facts| facts.partition.clone()).unwrap_or_else(|| "aws".to_string());
        let account_id = principal.account_id.as_str();
        let mut context: Vec<(String, String)> = extra.to_vec();
        match shape {
            Shape::Any => self.allowed(principal, action, "*", region, &context).then(|| "*".to_string()),
            Shape::Workload => {
                let workload = workload?;
                context.extend(tag_context(action, &workload.tags));
                self.allowed(principal, action, &workload.arn, region, &context).then(|| workload.arn.clone())
            }
            Shape::WorkloadCluster => {
                let cluster = workload?.parent.clone()?;
                self.allowed(principal, action, &cluster, region, &context).then_some(cluster)
            }
            Shape::SsmDocument => {
                let document = format!("arn:{partition}:ssm:{region}::document/AWS-RunShellScript");
                self.allowed(principal, action, &document, region, &context).then_some(document)
            }
            Shape::ExistingSubnet | Shape::ExistingSecurityGroup | Shape::Cluster => {
                let facts = self.account.facts(account_id)?;
                // The existing resources in inventory order, then the new names: each ARN is
                // formatted only when the one before it was refused (an account has thousands
                // of subnets and security groups, and the first is usually allowed).
                let (template, existing): (&str, Box<dyn Iterator<Item = String> + '_>) = match shape {
                    Shape::ExistingSubnet => (
                        "ec2:{region}:{account}:subnet/subnet-",
                        Box::new(
                            facts
                                .subnets
                                .iter()
                                .filter(move |(at, _)| at == region)
                                .map(move |(_, id)| format!("arn:{partition}:ec2:{region}:{account_id}:subnet/{id}")),
                        ),
                    ),
                    Shape::ExistingSecurityGroup => (
                        "ec2:{region}:{account}:security-group/sg-",
                        Box::new(
                            facts
                                .security_groups
                                .iter()
                                .filter(move |(at, _)| at == region)
                                .map(move |(_, id)| format!("arn:{partition}:ec2:{region}:{account_id}:security-group/{id}")),
                        ),
                    ),
                    _ => (
                        "ecs:{region}:{account}:cluster/",
                        Box::new(facts.ecs_clusters.iter().filter(move |(at, _, _)| at == region).map(|(_, arn, _)| arn.clone())),
                    ),
                };
                if let Some(found) = existing.into_iter().find(|candidate| self.allowed(principal, action, candidate, region, &context)) {
                    return Some(found);
                }
                self.witnesses(principal, action, template, region).into_iter().find(|candidate| self.allowed(principal, action, candidate, region, &context))
            }
            Shape::New(template) => {
                self.witnesses(principal, action, template, region).into_iter().find(|candidate| self.allowed(principal, action, candidate, region, &context))
            }
        }
    }

    /// Candidate ARNs for a new resource: the sample name, and a name each of the principal's
    /// Allow patterns for the action admits.
    fn witnesses(&self, principal: &AccountPrincipal, action: &str, template: &str, region: &str) -> Vec<String> {
        let partition = self.account.facts(&principal.account_id).map(|facts| facts.partition.clone()).unwrap_or_else(|| "aws".to_string());
        let prefix = format!("arn:{partition}:{}", template.replace("{region}", region).replace("{account}", &principal.account_id));
        let mut candidates = vec![format!("{prefix}{FILLER}")];
        let action = action.to_lowercase();
        let Some(parts) = crate::pattern::arn_parts(&prefix) else { return candidates };
        for policy in principal.identity.iter().filter_map(|index| self.account.policies.get(*index)) {
            for statement in policy.statements.iter().filter(|statement| statement.effect == Effect::Allow) {
                if statement.action.patterns.iter().any(|pattern| pattern.matches(&action)) == statement.action.negated {
                    continue;
                }
                let Some(block) = statement.resource.as_ref().filter(|block| !block.negated) else { continue };
                for pattern in &block.patterns {
                    let Some(pattern_parts) = crate::pattern::arn_parts(&pattern.text) else { continue };
                    // The five fixed parts must match; the sixth gives the name.
                    if !pattern_parts.iter().take(5).zip(parts.iter().take(5)).all(|(glob, part)| crate::pattern::Glob::new(glob).matches(part)) {
                        continue;
                    }
                    if let Some(resource) = crate::pattern::Glob::new(pattern_parts[5]).witness_after(parts[5], FILLER) {
                        let candidate = format!("{}:{}:{}:{}:{}:{resource}", parts[0], parts[1], parts[2], parts[3], parts[4]);
                        if !candidates.contains(&candidate) {
                            candidates.push(candidate);
                        }
                    }
                }
            }
        }
        candidates
    }

    /// Whether every service action of a technique is allowed in `region`, each on a resource
    /// of its shapes (actions sharing a shape must be allowed on the same name).
    fn service_actions(
        &self,
        principal: &AccountPrincipal,
        actions: &[crate::techniques::ServiceAction],
        region: &str,
        workload: Option<&Workload>,
        extra: &[(String, String)],
    ) -> Option<Vec<Permission>> {
        let mut permissions = Vec::new();
        // Actions on the same new-resource shape must agree on one name.
        let mut shared: HashMap<&'static str, Vec<&crate::techniques::ServiceAction>> = HashMap::new();
        for action in actions {
            for shape in action.shapes {
                if let Shape::New(template) = shape {
                    shared.entry(template).or_default().push(action);
                }
            }
        }
        let mut chosen: HashMap<&'static str, String> = HashMap::new();
        for (template, group) in &shared {
            let mut candidates: Vec<String> = Vec::new();
            for action in group {
                for candidate in self.witnesses(principal, action.action, template, region) {
                    if !candidates.contains(&candidate) {
                        candidates.push(candidate);
                    }
                }
            }
            let found = candidates.into_iter().find(|candidate| group.iter().all(|action| self.allowed(principal, action.action, candidate, region, extra)))?;
            chosen.insert(template, found);
        }
        for action in actions {
            for shape in action.shapes {
                let resource = match shape {
                    Shape::New(template) => chosen.get(template).cloned()?,
                    other => self.shape_resource(principal, action.action, *other, region, workload, extra)?,
                };
                permissions.push(permission(action.action, &resource));
            }
        }
        Some(permissions)
    }

    /// Every edge from one principal, with `sinks` telling which principals already have the goal.
    fn edges(&mut self, from_index: usize, sinks: &[Option<Vec<Step>>]) -> Vec<Edge> {
        let Some(from) = self.principal(from_index) else { return Vec::new() };
        let mut edges: Vec<Edge> = Vec::new();
        self.assume_edges(from_index, from, &mut edges);
        self.trust_edges(from_index, from, &mut edges);
        self.user_edges(from_index, from, &mut edges);
        self.pass_role_edges(from_index, from, &mut edges);
        self.takeover_edges(from_index, from, &mut edges);
        // Modify the principal reached, then act as it.
        let mut reached: Vec<(usize, Vec<Step>)> = Vec::new();
        if modification_actions().iter().any(|action| self.account.may_allow(from, action)) {
            let mut seen = HashSet::new();
            for edge in &edges {
                if edge.to != from_index && sinks.get(edge.to).is_some_and(Option::is_none) && seen.insert(edge.to) {
                    reached.push((edge.to, edge.steps_from(self.account, from)));
                }
            }
            for (to_index, act_steps) in reached {
                let Some(to) = self.principal(to_index) else { continue };
                if let Some(mut steps) = self.modify_for_goal(from, to) {
                    if let Some(first) = steps.first_mut() {
                        first.category = Category::ModifyThenAct.as_str();
                    }
                    steps.extend(act_steps);
                    edges.push(Edge { to: to_index, terminal: true, steps });
                }
            }
        }
        dominate(edges)
    }

    fn assume_edges(&self, from_index: usize, from: &AccountPrincipal, edges: &mut Vec<Edge>) {
        let mut candidates: Vec<usize> = Vec::new();
        for key in [from.arn.clone(), format!("account:{}", from.account_id), "*".to_string()] {
            candidates.extend(self.named.get(&key).into_iter().flatten().copied());
        }
        candidates.sort_unstable();
        candidates.dedup();
        // A role whose trust grants only through accounts needs the caller's identity-based
        // policies to allow sts:AssumeRole: the engine allows a request only when an identity
        // Allow statement matches it (the root user aside) or, within an account, when the
        // resource policy names the caller more narrowly than by its account (`Grant::Account`
        // delegates to identity policies; across accounts both must allow). Without an Allow
        // statement for the action (`may_allow`), such roles are refused: skipping them changes
        // no answer and saves a decision per (principal, role) pair.
        // (The root user, and a caller whose ARN is not one, are left to the engine.)
        let identity_may_assume = self.account.may_allow(from, "sts:AssumeRole")
            || !from.arn.starts_with("arn:")
            || crate::request::Principal::parse(&from.arn).kind == crate::request::PrincipalKind::Root;
        for to_index in candidates {
            let Some(to) = self.principal(to_index).filter(|_| to_index != from_index) else { continue };
            if !self.exhaustive && !identity_may_assume && self.account_only_trust.get(to_index).copied().unwrap_or(false) {
                continue;
            }
            if self.allowed(from, "sts:AssumeRole", &to.arn, "us-east-1", &[]) {
                // Role assumptions can number in the thousands per principal: their step is
                // built only when a path uses it.
                edges.push(Edge { to: to_index, terminal: false, steps: Vec::new() });
            }
        }
    }

    /// iam:UpdateAssumeRolePolicy on a role of the same account, then sts:AssumeRole through
    /// the trust policy the attacker wrote (naming itself).
    fn trust_edges(&self, from_index: usize, from: &AccountPrincipal, edges: &mut Vec<Edge>) {
        if !self.account.may_allow(from, "iam:UpdateAssumeRolePolicy") {
            return;
        }
        let technique = catalog("iam-012");
        let Ok(written) = Policy::parse(&serde_json::json!({ "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Principal": { "AWS": from.arn }, "Action": "sts:AssumeRole" }] }))
        else {
            return;
        };
        for (to_index, to) in self.account.principals.iter().enumerate() {
            if to_index == from_index || to.kind != PrincipalType::Role || to.account_id != from.account_id {
                continue;
            }
            let context = tag_context("iam:UpdateAssumeRolePolicy", &to.tags);
            if !self.allowed(from, "iam:UpdateAssumeRolePolicy", &to.arn, "us-east-1", &context) {
                continue;
            }
            // Assuming through the new trust policy (still subject to the principal's own
            // boundary, SCPs and RCPs).
            let request = Request::new(&from.arn, "sts:AssumeRole", &to.arn, Some(to.account_id.clone()), self.account.context_for(Some(from), &[]));
            let mut set: PolicySet<'_> = self.account.policy_set(Some(from), &to.arn);
            set.resource = Some(&written);
            if decide(&request, &set) != Decision::Allowed {
                continue;
            }
            let permissions = vec![permission("iam:UpdateAssumeRolePolicy", &to.arn), permission("sts:AssumeRole", &to.arn)];
            let mut step = step(from, &to.arn, technique, &to.arn, permissions);
            step.method = "iam:UpdateAssumeRolePolicy (then sts:AssumeRole)".to_string();
            edges.push(Edge { to: to_index, terminal: false, steps: vec![step] });
        }
    }

    /// Taking over another user of the account: new access keys or a console password.
    fn user_edges(&self, from_index: usize, from: &AccountPrincipal, edges: &mut Vec<Edge>) {
        let actions = ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"];
        if !actions.iter().any(|action| self.account.may_allow(from, action)) {
            return;
        }
        for (to_index, to) in self.account.principals.iter().enumerate() {
            if to_index == from_index || to.kind != PrincipalType::User || to.account_id != from.account_id {
                continue;
            }
            let context = tag_context("iam:CreateAccessKey", &to.tags);
            let can = |action: &str| self.allowed(from, action, &to.arn, "us-east-1", &context);
            let mut found: Vec<(&'static Technique, Vec<Permission>)> = Vec::new();
            if can("iam:CreateAccessKey") {
                // AWS allows two access keys: with two, one must be deleted first.
                if to.access_key_count < 2 {
                    found.push((catalog("iam-002"), vec![permission("iam:CreateAccessKey", &to.arn)]));
                } else if can("iam:DeleteAccessKey") {
                    found.push((catalog("iam-003"), vec![permission("iam:DeleteAccessKey", &to.arn), permission("iam:CreateAccessKey", &to.arn)]));
                }
            }
            if !to.has_console_password && can("iam:CreateLoginProfile") {
                found.push((catalog("iam-004"), vec![permission("iam:CreateLoginProfile", &to.arn)]));
            }
            if to.has_console_password && can("iam:UpdateLoginProfile") {
                found.push((catalog("iam-006"), vec![permission("iam:UpdateLoginProfile", &to.arn)]));
            }
            for (technique, permissions) in found {
                edges.push(Edge { to: to_index, terminal: false, steps: vec![step(from, &to.arn, technique, &to.arn, permissions)] });
            }
        }
    }

    fn pass_role_edges(&mut self, from_index: usize, from: &'a AccountPrincipal, edges: &mut Vec<Edge>) {
        if !self.account.may_allow(from, "iam:PassRole") {
            return;
        }
        let regions = self.regions(from);
        // Whether the principal can make an instance profile: the same for every role.
        let mut makes_profile: Option<bool> = None;
        for technique in TECHNIQUES {
            let Kind::PassRole { trusts, passed_to, actions, needs, existing } = technique.kind else { continue };
            if !actions.iter().all(|action| self.account.may_allow(from, action.action)) {
                continue;
            }
            let roles = self.trusting(trusts, &from.account_id);
            if roles.is_empty() {
                continue;
            }
            // The existing workloads the technique reconfigures, or one new resource.
            let targets: Vec<Option<&Workload>> = match existing {
                Some(kind) => {
                    self.account.workloads.iter().filter(|workload| workload.kind == kind && workload.account_id == from.account_id).map(Some).collect()
                }
                None => vec![None],
            };
            // The technique's service actions, decided once per (workload, region, instance
            // profile) rather than once per role. Exact: `service_actions` sees the role only
            // through the `ec2:InstanceProfile` context key (its resources are the workload, the
            // account's subnets, groups and clusters, and names drawn from the principal's own
            // policies), and when no policy of the set reads that key (no condition on it, no
            // `${ec2:InstanceProfile}` variable: `Policy::reads_context_key`), the key's value
            // cannot change any decision, so the profile is left out of the memo's key.
            let mut decided: HashMap<ServiceKey<'_>, Option<Vec<Permission>>> = HashMap::new();
            for to_index in roles {
                let Some(to) = self.principal(to_index).filter(|_| to_index != from_index) else { continue };
                let profiles: Vec<Option<String>> = match needs {
                    Needs::InstanceProfile if !to.instance_profile_arns.is_empty() => to.instance_profile_arns.iter().cloned().map(Some).collect(),
                    // Without an instance profile holding the role, the principal must make one.
                    Needs::InstanceProfile if *makes_profile.get_or_insert_with(|| self.can_make_profile(from)) => vec![None],
                    Needs::InstanceProfile => continue,
                    _ => vec![None],
                };
                let mut found = None;
                'search: for (target_index, workload) in targets.iter().enumerate() {
                    let workload_regions: Vec<&str> = match workload {
                        Some(workload) => vec![workload.region.as_str()],
                        None => regions.iter().map(String::as_str).collect(),
                    };
                    for region in &workload_regions {
                        if !self.needs_met(from, needs, region) {
                            continue;
                        }
                        for profile in &profiles {
                            let mut pass_context = vec![("iam:PassedToService".to_string(), passed_to.to_string())];
                            let mut action_context = Vec::new();
                            if passed_to == "ec2.amazonaws.com" {
                                let instances = format!("arn:{}:ec2:{region}:{}:instance/*", self.account.partition, from.account_id);
                                pass_context.push(("iam:AssociatedResourceArn".to_string(), instances));
                            }
                            if let Some(profile) = profile {
                                action_context.push(("ec2:InstanceProfile".to_string(), profile.clone()));
                            }
                            if !self.allowed(from, "iam:PassRole", &to.arn, region, &pass_context) {
                                continue;
                            }
                            let key = (target_index, *region, profile.clone().filter(|_| self.instance_profile_read));
                            let service = match decided.get(&key).filter(|_| !self.exhaustive) {
                                Some(service) => service.clone(),
                                None => {
                                    let service = self.service_actions(from, actions, region, *workload, &action_context);
                                    decided.insert(key, service.clone());
                                    service
                                }
                            };
                            let Some(service) = service else { continue };
                            let mut permissions = vec![permission("iam:PassRole", &to.arn)];
                            if profile.is_none() && needs == Needs::InstanceProfile {
                                let made = self.new_profile_arn(from);
                                permissions.push(permission("iam:CreateInstanceProfile", &made));
                                permissions.push(permission("iam:AddRoleToInstanceProfile", &made));
                            }
                            permissions.extend(service);
                            let resource = workload.map(|workload| workload.arn.clone()).unwrap_or_else(|| to.arn.clone());
                            found = Some(step(from, &to.arn, technique, &resource, permissions));
                            break 'search;
                        }
                    }
                }
                if let Some(found) = found {
                    edges.push(Edge { to: to_index, terminal: false, steps: vec![found] });
                }
            }
        }
    }

    fn new_profile_arn(&self, principal: &AccountPrincipal) -> String {
        format!("arn:{}:iam::{}:instance-profile/{FILLER}", self.account.partition, principal.account_id)
    }

    /// Whether the principal can create an instance profile and put a role in it.
    fn can_make_profile(&self, principal: &AccountPrincipal) -> bool {
        let profile = self.new_profile_arn(principal);
        ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"]
            .iter()
            .all(|action| self.account.may_allow(principal, action) && self.allowed(principal, action, &profile, "us-east-1", &[]))
    }

    /// Whether what a technique needs exists in the region (unknown when the listing was not
    /// read: then it is assumed).
    fn needs_met(&self, principal: &AccountPrincipal, needs: Needs, region: &str) -> bool {
        let Some(facts) = self.account.facts(&principal.account_id) else { return true };
        match needs {
            Needs::Nothing | Needs::InstanceProfile => true,
            Needs::EcsCluster | Needs::EcsContainerInstances => {
                if facts.listing("ecs", region, "ListClusters") != Some(true) {
                    return true;
                }
                facts.ecs_clusters.iter().any(|(at, _, instances)| at == region && (needs == Needs::EcsCluster || *instances > 0))
            }
        }
    }

    fn takeover_edges(&self, from_index: usize, from: &AccountPrincipal, edges: &mut Vec<Edge>) {
        for technique in TECHNIQUES {
            let Kind::Takeover { workload: kind, actions } = technique.kind else { continue };
            if !actions.iter().all(|action| self.account.may_allow(from, action.action)) {
                continue;
            }
            for workload in self.account.workloads.iter().filter(|workload| workload.kind == kind && workload.account_id == from.account_id) {
                if !usable(technique.id, workload) || (technique.id == "ec2-005" && !self.launches(from, workload)) {
                    continue;
                }
                let Some(role_arn) = &workload.role_arn else { continue };
                let Some(to_index) = self.account.principal_position(role_arn) else { continue };
                if to_index == from_index {
                    continue;
                }
                let Some(permissions) = self.service_actions(from, actions, &workload.region, Some(workload), &[]) else { continue };
                edges.push(Edge { to: to_index, terminal: false, steps: vec![step(from, role_arn, technique, &workload.arn, permissions)] });
            }
        }
    }

    /// A launch template is launched from by an Auto Scaling group, or by the principal itself.
    fn launches(&self, principal: &AccountPrincipal, template: &Workload) -> bool {
        template.flag == Some(true) || self.account.may_allow(principal, "ec2:RunInstances")
    }

    /// Whether `principal` (changed by `variant`) has the goal.
    fn satisfies(&self, principal: &AccountPrincipal, variant: Option<&Variant<'_>>) -> bool {
        let empty = Variant::default();
        let variant = variant.unwrap_or(&empty);
        match self.goal {
            Goal::Admin => {
                FULL_ADMIN_PROBES.iter().all(|action| may_allow_variant(self.account, principal, variant, action))
                    && FULL_ADMIN_PROBES.iter().all(|action| self.account.decide_variant(principal, variant, action, "*", &[]) == Decision::Allowed)
            }
            Goal::Resource { accesses, .. } => {
                accesses.iter().any(|(action, resource)| self.account.decide_variant(principal, variant, action, resource, &[]) == Decision::Allowed)
            }
        }
    }

    /// The modifications `actor` can make to `subject`'s permissions (its own when they are the
    /// same): write a policy, attach AdministratorAccess, rewrite or switch an attached managed
    /// policy, join a group, and lift restrictions (boundary, Deny policies).
    fn modifications(&self, actor: &AccountPrincipal, subject: &'a AccountPrincipal) -> Vec<Modification<'a>> {
        let account = self.account;
        let mut found = Vec::new();
        if actor.account_id != subject.account_id {
            return found;
        }
        let Some(admin) = self.admin_policy else { return found };
        let tags = tag_context("iam:PutRolePolicy", &subject.tags);
        let can = |action: &str, resource: &str, extra: &[(String, String)]| {
            let mut context = tags.clone();
            context.extend(extra.iter().cloned());
            account.may_allow(actor, action) && self.allowed(actor, action, resource, "us-east-1", &context)
        };
        let technique_for = |id: &str| catalog(id);
        let make = |technique: &Technique, action: &str, resource: &str, extra: Vec<Permission>| {
            let mut permissions = vec![permission(action, resource)];
            permissions.extend(extra);
            step(actor, &subject.arn, technique, resource, permissions)
        };
        let grant = |steps: Vec<Step>| Modification { steps, variant: Variant { added: vec![admin], ..Variant::default() }, grants: true };
        let (put, attach, detach, delete, delete_boundary, put_boundary) = match subject.kind {
            PrincipalType::User => (
                "iam:PutUserPolicy",
                "iam:AttachUserPolicy",
                "iam:DetachUserPolicy",
                "iam:DeleteUserPolicy",
                "iam:DeleteUserPermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ),
            PrincipalType::Role => (
                "iam:PutRolePolicy",
                "iam:AttachRolePolicy",
                "iam:DetachRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DeleteRolePermissionsBoundary",
                "iam:PutRolePermissionsBoundary",
            ),
        };
        let (put_id, attach_id) = match subject.kind {
            PrincipalType::User => ("iam-007", "iam-008"),
            PrincipalType::Role => ("iam-005", "iam-009"),
        };
        if can(put, &subject.arn, &[]) {
            found.push(grant(vec![make(technique_for(put_id), put, &subject.arn, Vec::new())]));
        }
        let policy_arn = vec![("iam:PolicyARN".to_string(), ADMINISTRATOR_ACCESS.to_string())];
        if can(attach, &subject.arn, &policy_arn) {
            found.push(grant(vec![make(technique_for(attach_id), attach, &subject.arn, Vec::new())]));
        }
        for group in &subject.group_arns {
            if can("iam:PutGroupPolicy", group, &[]) {
                found.push(grant(vec![make(technique_for("iam-011"), "iam:PutGroupPolicy", group, Vec::new())]));
            }
            if can("iam:AttachGroupPolicy", group, &policy_arn) {
                found.push(grant(vec![make(technique_for("iam-010"), "iam:AttachGroupPolicy", group, Vec::new())]));
            }
        }
        for policy in &subject.attached_policy_arns {
            if can("iam:CreatePolicyVersion", policy, &[]) {
                found.push(grant(vec![make(technique_for("iam-001"), "iam:CreatePolicyVersion", policy, Vec::new())]));
            }
            if can("iam:SetDefaultPolicyVersion", policy, &[]) {
                for (_, is_default, index) in account.policy_versions.get(policy).into_iter().flatten() {
                    let (Some(index), false) = (index, *is_default) else { continue };
                    let Some(document) = account.policies.get(*index) else { continue };
                    let default = account.policy_versions.get(policy).into_iter().flatten().find(|(_, default, _)| *default).and_then(|(_, _, index)| *index);
                    let mut step = make(technique_for("vigil-setdefaultpolicyversion"), "iam:SetDefaultPolicyVersion", policy, Vec::new());
                    step.method = "iam:SetDefaultPolicyVersion (to another version)".to_string();
                    found.push(Modification {
                        steps: vec![step],
                        variant: Variant { added: vec![document], removed: default.into_iter().collect(), boundary: None },
                        grants: false,
                    });
                }
            }
        }
        if subject.kind == PrincipalType::User && account.may_allow(actor, "iam:AddUserToGroup") {
            let mut groups: Vec<(&String, &Vec<usize>)> = account.group_policies.iter().filter(|(group, _)| !subject.group_arns.contains(group)).collect();
            groups.sort();
            for (group, policies) in groups {
                if group.split(':').nth(4) != Some(subject.account_id.as_str()) || !can("iam:AddUserToGroup", group, &[]) {
                    continue;
                }
                let added = policies.iter().filter_map(|index| account.policies.get(*index)).collect();
                let step = make(technique_for("iam-013"), "iam:AddUserToGroup", group, Vec::new());
                found.push(Modification { steps: vec![step], variant: Variant { added, ..Variant::default() }, grants: false });
            }
        }
        // Lifting restrictions.
        if subject.boundary.is_some() {
            let id = if subject.kind == PrincipalType::User { "iam-022" } else { "iam-023" };
            if can(delete_boundary, &subject.arn, &[]) {
                found.push(Modification {
                    steps: vec![make(technique_for(id), delete_boundary, &subject.arn, Vec::new())],
                    variant: Variant { boundary: Some(None), ..Variant::default() },
                    grants: false,
                });
            }
            let boundary = vec![("iam:PermissionsBoundary".to_string(), ADMINISTRATOR_ACCESS.to_string())];
            if can(put_boundary, &subject.arn, &boundary) {
                found.push(Modification {
                    steps: vec![make(technique_for("iam-024"), put_boundary, &subject.arn, Vec::new())],
                    variant: Variant { boundary: Some(Some(admin)), ..Variant::default() },
                    grants: false,
                });
            }
        }
        for source in &subject.sources {
            let denies = account.policies.get(source.index()).is_some_and(|policy| policy.statements.iter().any(|statement| statement.effect == Effect::Deny));
            if !denies {
                continue;
            }
            let (technique, action, resource) = match source {
                PolicySource::Inline { .. } => ("iam-026", delete, subject.arn.clone()),
                PolicySource::Attached { .. } => ("iam-025", detach, subject.arn.clone()),
                PolicySource::Group { group_arn, .. } if can("iam:RemoveUserFromGroup", group_arn, &[]) => {
                    ("iam-026", "iam:RemoveUserFromGroup", group_arn.clone())
                }
                PolicySource::Group { group_arn, .. } => ("iam-025", "iam:DetachGroupPolicy", group_arn.clone()),
            };
            let extra = match source {
                PolicySource::Attached { arn, .. } => vec![("iam:PolicyARN".to_string(), arn.clone())],
                _ => Vec::new(),
            };
            if can(action, &resource, &extra) {
                let removed = match source {
                    PolicySource::Group { group_arn, .. } if action == "iam:RemoveUserFromGroup" => subject
                        .sources
                        .iter()
                        .filter(|other| matches!(other, PolicySource::Group { group_arn: arn, .. } if arn == group_arn))
                        .map(PolicySource::index)
                        .collect(),
                    _ => vec![source.index()],
                };
                found.push(Modification {
                    steps: vec![make(technique_for(technique), action, &resource, Vec::new())],
                    variant: Variant { removed, ..Variant::default() },
                    grants: false,
                });
            }
        }
        found
    }

    /// The fewest modifications (of those the actor can make) after which `subject` has the
    /// goal: each one alone, then each one with every restriction lifted that is needed.
    fn modify_for_goal(&self, actor: &AccountPrincipal, subject: &'a AccountPrincipal) -> Option<Vec<Step>> {
        let modifications = self.modifications(actor, subject);
        if modifications.is_empty() {
            return None;
        }
        for modification in &modifications {
            if self.satisfies(subject, Some(&modification.variant)) {
                return Some(modification.steps.clone());
            }
        }
        let lifts: Vec<&Modification<'a>> = modifications.iter().filter(|modification| !modification.grants && modification.variant.added.is_empty()).collect();
        if lifts.is_empty() {
            return None;
        }
        for base in modifications.iter().filter(|modification| !modification.variant.added.is_empty()) {
            let combined = |chosen: &[&Modification<'a>]| -> Variant<'a> {
                let mut variant = base.variant.clone();
                for lift in chosen {
                    variant.removed.extend(lift.variant.removed.iter().copied());
                    if lift.variant.boundary.is_some() {
                        variant.boundary = lift.variant.boundary;
                    }
                }
                variant
            };
            if !self.satisfies(subject, Some(&combined(&lifts))) {
                continue;
            }
            // Drop the lifts that are not needed, one at a time.
            let mut needed = lifts.clone();
            let mut index = 0;
            while index < needed.len() {
                let mut without = needed.clone();
                without.remove(index);
                if self.satisfies(subject, Some(&combined(&without))) {
                    needed = without;
                } else {
                    index += 1;
                }
            }
            let mut steps: Vec<Step> = needed.iter().flat_map(|lift| lift.steps.clone()).collect();
            steps.extend(base.steps.clone());
            return Some(steps);
        }
        None
    }
}

/// Whether a workload is in a state the technique can use.
fn usable(technique: &str, workload: &Workload) -> bool {
    let state = workload.state.as_deref().unwrap_or_default();
    match workload.kind {
        WorkloadKind::Ec2Instance => match technique {
            // Stopping and starting works on a stopped instance too.
            "ec2-002" => matches!(state, "running" | "stopped" | "pending" | "stopping" | ""),
            // Systems Manager must manage the instance (unknown when its listing was not read).
            "ssm-001" | "ssm-002" => matches!(state, "running" | "pending" | "") && workload.flag != Some(false),
            _ => matches!(state, "running" | "pending" | ""),
        },
        WorkloadKind::EcsTask => workload.flag == Some(true) && matches!(state, "RUNNING" | "PENDING" | "ACTIVATING" | ""),
        WorkloadKind::GlueDevEndpoint => !matches!(state, "FAILED" | "TERMINATING"),
        WorkloadKind::SageMakerNotebook => match technique {
            "sagemaker-004" => matches!(state, "InService" | "Pending" | "Updating" | ""),
            _ => !matches!(state, "Failed" | "Deleting"),
        },
        WorkloadKind::CloudFormationStack => !state.contains("DELETE_COMPLETE") && !state.ends_with("_IN_PROGRESS"),
        WorkloadKind::AppRunnerService => !matches!(state, "DELETED" | "CREATE_FAILED" | "DELETE_FAILED"),
        _ => true,
    }
}

fn may_allow_variant(account: &Account, principal: &AccountPrincipal, variant: &Variant<'_>, action: &str) -> bool {
    let lowered = action.to_lowercase();
    account.may_allow(principal, action)
        || variant.added.iter().any(|policy| {
            policy.statements.iter().any(|statement| {
                statement.effect == Effect::Allow && statement.action.patterns.iter().any(|pattern| pattern.matches(&lowered)) != statement.action.negated
            })
        })
}

/// Whether every grant the trust policy can make to an IAM user or role (one of the set's,
/// whose ARNs begin `arn:`) is through an account (`Grant::Account`: the account's id or root
/// ARN), which delegates to the caller's identity-based policies. Conservative: `*`, a
/// `NotPrincipal`, a user or role ARN, any other AWS entry, and any service, federated or
/// canonical-user entry whose value looks like an ARN make it false.
fn grants_only_to_accounts(trust: &Policy) -> bool {
    trust.statements.iter().filter(|statement| statement.effect == Effect::Allow).all(|statement| {
        let Some(block) = &statement.principal else { return true };
        !block.negated
            && block.entries.iter().all(|entry| match entry.kind {
                EntryType::Everyone => false,
                EntryType::Aws if entry.value.len() == 12 && entry.value.bytes().all(|byte| byte.is_ascii_digit()) => true,
                EntryType::Aws => {
                    let parsed = entry.parsed.clone().unwrap_or_else(|| crate::request::Principal::parse(&entry.value));
                    entry.value != "*" && parsed.kind == crate::request::PrincipalKind::Root
                }
                // These match a caller only by the caller's exact ARN (evaluate.rs,
                // `principal_entry_matches`); a value that is not an ARN matches no user or role.
                EntryType::Service | EntryType::Federated | EntryType::CanonicalUser => {
                    !entry.value.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("arn:"))
                }
            })
    })
}

/// Whether the role's trust policy lets `service` assume it.
pub fn trusts_service(account: &Account, role: &AccountPrincipal, service: &str) -> bool {
    let Some(trust) = role.trust.and_then(|index| account.policies.get(index)) else { return false };
    let request = Request::new(service, "sts:AssumeRole", &role.arn, Some(role.account_id.clone()), account.context_for(None, &[]));
    decide(&request, &PolicySet { resource: Some(trust), ..PolicySet::default() }) == Decision::Allowed
}

/// The IAM actions that change a principal's permissions (a fast filter).
fn modification_actions() -> &'static [&'static str] {
    &[
        "iam:PutUserPolicy",
        "iam:PutRolePolicy",
        "iam:PutGroupPolicy",
        "iam:AttachUserPolicy",
        "iam:AttachRolePolicy",
        "iam:AttachGroupPolicy",
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:AddUserToGroup",
        "iam:DeleteUserPermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
        "iam:PutRolePermissionsBoundary",
        "iam:DetachUserPolicy",
        "iam:DetachRolePolicy",
        "iam:DetachGroupPolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteGroupPolicy",
        "iam:RemoveUserFromGroup",
    ]
}

/// An edge: `steps` take the source principal to `to` (no steps: a role assumption, whose
/// step is built when a path uses it); a terminal edge reaches `to` with the goal already
/// given to it (it modified `to` first).
#[derive(Debug, Clone)]
struct Edge {
    to: usize,
    terminal: bool,
    steps: Vec<Step>,
}

impl Edge {
    fn steps_from(&self, account: &Account, from: &AccountPrincipal) -> Vec<Step> {
        if !self.steps.is_empty() {
            return self.steps.clone();
        }
        let to = account.principals.get(self.to).map(|to| to.arn.clone()).unwrap_or_default();
        vec![step(from, &to, catalog("sts-001"), &to, vec![permission("sts:AssumeRole", &to)])]
    }

    /// (target, terminal, the resource the last step acts on): edges with the same key differ
    /// only by the permissions they use.
    fn key(&self) -> (usize, bool, Option<&str>) {
        (self.to, self.terminal, self.steps.last().map(|step| step.resource.as_str()))
    }

    fn actions(&self) -> HashSet<&str> {
        if self.steps.is_empty() {
            return HashSet::from(["sts:AssumeRole"]);
        }
        self.steps.iter().flat_map(|step| step.permissions.iter().map(|permission| permission.action.as_str())).collect()
    }
}

/// Keeps, among edges to the same principal through the same resource, only those whose
/// permissions are not a strict superset of another's (`lambda:UpdateFunctionCode` alone
/// makes `+ lambda:InvokeFunction` redundant).
fn dominate(edges: Vec<Edge>) -> Vec<Edge> {
    let mut groups: HashMap<(usize, bool, Option<String>), Vec<usize>> = HashMap::new();
    for (index, edge) in edges.iter().enumerate() {
        let (to, terminal, resource) = edge.key();
        groups.entry((to, terminal, resource.map(str::to_string))).or_default().push(index);
    }
    let mut dropped = vec![false; edges.len()];
    for members in groups.values().filter(|members| members.len() > 1) {
        for &index in members {
            let Some(edge) = edges.get(index) else { continue };
            let mine = edge.actions();
            let redundant = members.iter().any(|&other| {
                other != index
                    && !dropped.get(other).copied().unwrap_or(true)
                    && edges.get(other).is_some_and(|other_edge| {
                        let theirs = other_edge.actions();
                        theirs.is_subset(&mine) && (theirs != mine || other < index)
                    })
            });
            if redundant && let Some(flag) = dropped.get_mut(index) {
                *flag = true;
            }
        }
    }
    edges.into_iter().zip(dropped).filter(|(_, dropped)| !dropped).map(|(edge, _)| edge).collect()
}

/// How a principal has the goal: `Some(vec![])` directly, `Some(steps)` after granting itself
/// (self-escalation), `None` not at all.
fn goal_steps(analyzer: &Analyzer<'_>, principal: &AccountPrincipal) -> Option<Vec<Step>> {
    if analyzer.satisfies(principal, None) {
        return Some(Vec::new());
    }
    analyzer.modify_for_goal(principal, principal)
}

/// For every principal of the set (in order), how it has the goal on its own: `Some(vec![])`
/// directly, `Some(steps)` by granting itself it, `None` not at all.
pub fn goal_holders(account: &Account, goal: &Goal) -> Vec<Option<Vec<Step>>> {
    let analyzer = Analyzer::new(account, goal, false);
    account.principals.iter().map(|principal| goal_steps(&analyzer, principal)).collect()
}

/// Paths from every principal without the goal to one with it.
pub fn escalation(account: &Account, options: &Options) -> Vec<EscalationPath> {
    search(account, options, false)
}

/// [`escalation`] asking the engine every decision, without its memo of service actions or its
/// pruning of roles that cannot be assumed: the straightforward analysis, slower on large
/// accounts, which the property tests hold [`escalation`] equal to.
pub fn escalation_exhaustive(account: &Account, options: &Options) -> Vec<EscalationPath> {
    search(account, options, true)
}

fn search(account: &Account, options: &Options, exhaustive: bool) -> Vec<EscalationPath> {
    let mut analyzer = Analyzer::new(account, &options.goal, exhaustive);
    let sinks: Vec<Option<Vec<Step>>> = account.principals.iter().map(|principal| goal_steps(&analyzer, principal)).collect();
    let mut adjacency: Vec<Vec<Edge>> = Vec::with_capacity(account.principals.len());
    for index in 0..account.principals.len() {
        let edges = if sinks.get(index).is_some_and(Option::is_some) { Vec::new() } else { analyzer.edges(index, &sinks) };
        adjacency.push(edges);
    }
    // Hops to the goal from each principal (reverse breadth-first search), to prune the walk.
    let unreachable = usize::MAX;
    let mut distance = vec![unreachable; account.principals.len()];
    let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); account.principals.len()];
    let mut queue = VecDeque::new();
    for (index, sink) in sinks.iter().enumerate() {
        if sink.is_some() {
            distance[index] = 0;
            queue.push_back(index);
        }
    }
    for (from, edges) in adjacency.iter().enumerate() {
        for edge in edges {
            if edge.terminal {
                if distance[from] > 1 {
                    distance[from] = 1;
                    queue.push_back(from);
                }
            } else if let Some(list) = reverse.get_mut(edge.to) {
                list.push(from);
            }
        }
    }
    while let Some(node) = queue.pop_front() {
        let next = distance[node].saturating_add(1);
        for from in reverse.get(node).cloned().unwrap_or_default() {
            if distance[from] > next {
                distance[from] = next;
                queue.push_back(from);
            }
        }
    }
    let target = match &options.goal {
        Goal::Admin => "admin".to_string(),
        Goal::Resource { arn, .. } => arn.clone(),
    };
    let mut paths = Vec::new();
    for (start, principal) in account.principals.iter().enumerate() {
        match sinks.get(start) {
            Some(Some(steps)) if steps.is_empty() => continue,
            Some(Some(steps)) => {
                paths.push(EscalationPath {
                    principal: principal.arn.clone(),
                    kind: principal.kind,
                    admin: principal.arn.clone(),
                    steps: steps.clone(),
                    target: target.clone(),
                    account: principal.account_id.clone(),
                });
                continue;
            }
            _ => {}
        }
        if distance[start] == unreachable {
            continue;
        }
        let mut found: Vec<(Vec<(usize, usize)>, usize)> = Vec::new();
        for length in distance[start]..=options.max_hops {
            let mut trail: Vec<(usize, usize)> = Vec::new();
            let mut visited = vec![start];
            walk(start, length, &adjacency, &distance, &sinks, &mut trail, &mut visited, &mut found, options.max_paths);
            if options.max_paths > 0 && found.len() >= options.max_paths {
                break;
            }
        }
        for (trail, end) in found {
            let mut steps: Vec<Step> = trail
                .iter()
                .filter_map(|(node, edge)| Some((account.principals.get(*node)?, adjacency.get(*node)?.get(*edge)?)))
                .flat_map(|(from, edge)| edge.steps_from(account, from))
                .collect();
            let terminal = trail.last().and_then(|(node, edge)| adjacency.get(*node).and_then(|edges| edges.get(*edge))).is_some_and(|edge| edge.terminal);
            if !terminal {
                steps.extend(sinks.get(end).cloned().flatten().unwrap_or_default());
            }
            paths.push(EscalationPath {
                principal: principal.arn.clone(),
                kind: principal.kind,
                admin: account.principals.get(end).map(|end| end.arn.clone()).unwrap_or_default(),
                steps,
                target: target.clone(),
                account: principal.account_id.clone(),
            });
        }
    }
    paths.sort_by(|a, b| (&a.principal, a.steps.len()).cmp(&(&b.principal, b.steps.len())));
    paths
}

/// Depth-first search for simple paths of exactly `length` edges from `node` to the goal.
#[allow(clippy::too_many_arguments)]
fn walk(
    node: usize,
    length: usize,
    adjacency: &[Vec<Edge>],
    distance: &[usize],
    sinks: &[Option<Vec<Step>>],
    trail: &mut Vec<(usize, usize)>,
    visited: &mut Vec<usize>,
    found: &mut Vec<(Vec<(usize, usize)>, usize)>,
    limit: usize,
) {
    if limit > 0 && found.len() >= limit {
        return;
    }
    let remaining = length - trail.len();
    for (edge_index, edge) in adjacency.get(node).into_iter().flatten().enumerate() {
        if limit > 0 && found.len() >= limit {
            return;
        }
        if edge.terminal {
            if remaining == 1 && !visited.contains(&edge.to) {
                let mut complete = trail.clone();
                complete.push((node, edge_index));
                found.push((complete, edge.to));
            }
            continue;
        }
        if visited.contains(&edge.to) {
            continue;
        }
        let to_distance = distance.get(edge.to).copied().unwrap_or(usize::MAX);
        if to_distance == usize::MAX || to_distance + 1 > remaining {
            continue;
        }
        if remaining == 1 {
            if sinks.get(edge.to).is_some_and(Option::is_some) {
                let mut complete = trail.clone();
                complete.push((node, edge_index));
                found.push((complete, edge.to));
            }
            continue;
        }
        if sinks.get(edge.to).is_some_and(Option::is_some) {
            // A path stops at the first principal that has the goal.
            continue;
        }
        trail.push((node, edge_index));
        visited.push(edge.to);
        walk(edge.to, length, adjacency, distance, sinks, trail, visited, found, limit);
        visited.pop();
        trail.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_technique_id_used_in_code_is_in_the_catalog() {
        let source = include_str!("escalation.rs");
        let mut missing = Vec::new();
        for part in source.split("catalog(\"").skip(1).chain(source.split("technique_for(\"").skip(1)) {
            let id = part.split('"').next().unwrap_or_default();
            if crate::techniques::technique(id).is_none() {
                missing.push(id.to_string());
            }
        }
        for id in ["iam-007", "iam-008", "iam-005", "iam-009", "iam-022", "iam-023", "iam-025", "iam-026"] {
            if crate::techniques::technique(id).is_none() {
                missing.push(id.to_string());
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_superset_of_permissions_on_the_same_resource_is_dropped() {
        let step_with = |actions: &[&str]| Step {
            from: "a".into(),
            to: "b".into(),
            method: String::new(),
            resource: "fn".into(),
            technique: String::new(),
            category: "existing-passrole",
            permissions: actions.iter().map(|action| permission(action, "fn")).collect(),
        };
        let edges = vec![
            Edge { to: 1, terminal: false, steps: vec![step_with(&["lambda:UpdateFunctionCode", "lambda:InvokeFunction"])] },
            Edge { to: 1, terminal: false, steps: vec![step_with(&["lambda:UpdateFunctionCode"])] },
            Edge { to: 1, terminal: false, steps: vec![step_with(&["ssm:SendCommand"])] },
        ];
        let kept = dominate(edges);
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().all(|edge| edge.steps[0].permissions.len() == 1));
    }
}
