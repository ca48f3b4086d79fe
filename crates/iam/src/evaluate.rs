//! AWS's policy evaluation logic: explicit deny anywhere wins; every level of SCPs and RCPs
//! must allow; resource-based and identity-based policies combine differently within an
//! account and across accounts; permissions boundaries and session policies cap identity
//! grants; anything not allowed is implicitly denied. Every decision carries its explanation.

use serde::Serialize;

use crate::pattern::ArnPattern;
use crate::policy::{Effect, Policy, PrincipalBlock, PrincipalEntry, PrincipalType, ResourceBlock, Statement};
use crate::request::{Principal, PrincipalKind, Request};

/// The policies that apply to one request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    pub identity: Vec<&'a Policy>,
    pub resource: Option<&'a Policy>,
    pub permissions_boundary: Option<&'a Policy>,
    pub session: Option<&'a Policy>,
    /// Service control policies, one list per level of the organization, root first.
    pub scps: Vec<Vec<&'a Policy>>,
    /// Resource control policies, one list per level, root first. Every level also carries
    /// the AWS managed `RCPFullAWSAccess`, which cannot be detached, so an RCP can only deny.
    pub rcps: Vec<Vec<&'a Policy>>,
    /// The organization's management account, when known: SCPs do not restrict its
    /// principals and RCPs do not restrict its resources.
    pub management_account: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// One sentence: the rule that decided.
    pub summary: String,
    pub same_account: bool,
    /// Allow statements that matched the request.
    pub allowed_by: Vec<StatementRef>,
    /// Deny statements that matched the request.
    pub denied_by: Vec<StatementRef>,
    /// Statements whose action, resource and principal matched but a condition did not.
    pub failed_conditions: Vec<FailedCondition>,
    /// The evaluation steps in order, as AWS's flow chart takes them.
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementRef {
    /// Which policy: `identity_policies[0]`, `resource_policy`, `scps[0][1]`...
    pub policy: String,
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedCondition {
    pub policy: String,
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub condition: String,
}

/// How a resource-based policy's `Principal` named the caller; this decides whether the
/// grant suffices on its own within an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// The account (`123456789012` or `arn:aws:iam::123456789012:root`): delegates to the
    /// account's identity-based policies.
    Account,
    /// The role ARN, for a role or one of its sessions: capped by boundaries and session policies.
    RoleArn,
    /// The user ARN: capped by session policies only.
    UserArn,
    /// The caller itself (session ARN, `*`, a service, `NotPrincipal`): not capped.
    Exact,
}

/// The service prefixes whose actions resource control policies govern (AWS Organizations
/// User Guide, "List of AWS services that support RCPs").
pub const RCP_SERVICES: &[&str] = &["s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-idp", "cognito-identity", "logs", "dynamodb"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identity,
    Resource,
    Boundary,
    Session,
    Scp,
    Rcp,
}

enum Outcome {
    NotApplicable,
    ConditionFailed(usize),
    Matched(Grant),
}

/// What one policy says about the request.
#[derive(Default)]
struct PolicyVerdict {
    allow: Option<Grant>,
    deny: bool,
}

struct Evaluator<'r> {
    request: &'r Request,
    action: String,
    explain: bool,
    has_boundary: bool,
    explanation: Explanation,
}

/// Decides `request` against `policies`, with an explanation.
pub fn evaluate(request: &Request, policies: &PolicySet<'_>) -> Evaluation {
    evaluate_with(request, policies, true)
}

/// What a resource-based policy alone says about a request: the Allow statements that match
/// it and whether a Deny statement does. Publicity asks this: a caller from another account
/// controls its own identity policies, so only the resource's policy stands in its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceVerdict {
    /// Indexes of the Allow statements that match the request.
    pub allowed_by: Vec<usize>,
    pub denied: bool,
}

/// Evaluates one resource-based policy for `request` (see [`ResourceVerdict`]).
pub fn resource_policy_verdict(request: &Request, policy: &Policy) -> ResourceVerdict {
    let mut evaluator = Evaluator { request, action: request.action.to_lowercase(), explain: true, has_boundary: false, explanation: Explanation::default() };
    let verdict = evaluator.policy(policy, Kind::Resource, &|| "resource_policy".to_string());
    ResourceVerdict { allowed_by: evaluator.explanation.allowed_by.iter().map(|reference| reference.statement).collect(), denied: verdict.deny }
}

/// Whether a Deny statement of the organization's resource control policies (`rcps`, one list
/// per level) stops `request`, when RCPs govern it at all (see [`PolicySet::rcps`]): the
/// organization's part of a decision, for the publicity rule, which weighs a resource policy
/// against an outside caller.
pub fn rcps_deny(request: &Request, rcps: &[Vec<&Policy>], management_account: Option<&str>) -> bool {
    if rcps.is_empty() {
        return false;
    }
    let mut evaluator = Evaluator { request, action: request.action.to_lowercase(), explain: false, has_boundary: false, explanation: Explanation::default() };
    if evaluator.rcps_apply(management_account).is_err() {
        return false;
    }
    rcps.iter().flatten().any(|policy| evaluator.policy(policy, Kind::Rcp, &|| "rcps".to_string()).deny)
}

/// Decides without building the explanation (for analyses that ask millions of questions).
pub fn decide(request: &Request, policies: &PolicySet<'_>) -> Decision {
    evaluate_with(request, policies, false).decision
}

fn evaluate_with(request: &Request, policies: &PolicySet<'_>, explain: bool) -> Evaluation {
    let mut evaluator = Evaluator {
        request,
        action: request.action.to_lowercase(),
        explain,
        has_boundary: policies.permissions_boundary.is_some(),
        explanation: Explanation::default(),
    };
    let decision = evaluator.run(policies);
    evaluator.explanation.same_account = request.is_same_account();
    Evaluation { decision, explanation: evaluator.explanation }
}

impl Evaluator<'_> {
    fn step(&mut self, text: impl FnOnce() -> String) {
        if self.explain {
            self.explanation.steps.push(text());
        }
    }

    fn finish(&mut self, decision: Decision, summary: impl FnOnce() -> String) -> Decision {
        if self.explain {
            self.explanation.summary = summary();
        }
        decision
    }

    /// Actions AWS authorizes without consulting any policy: `sts:GetCallerIdentity` (even
    /// against an explicit Deny) and `sts:GetSessionToken` for IAM users and the root user
    /// ("you cannot use policies to control authentication operations").
    fn without_policy(&mut self) -> Option<Decision> {
        let principal = &self.request.principal;
        let authenticated = !matches!(principal.kind, PrincipalKind::Anonymous | PrincipalKind::Service);
        match self.action.as_str() {
            "sts:getcalleridentity" if authenticated => {
                Some(self.finish(Decision::Allowed, || "sts:GetCallerIdentity needs no permission: AWS answers it even when a policy denies it".to_string()))
            }
            "sts:getsessiontoken" if matches!(principal.kind, PrincipalKind::User { .. } | PrincipalKind::Root) => Some(self.finish(Decision::Allowed, || {
                "sts:GetSessionToken needs no permission for IAM users and the root user: policies cannot control authentication operations".to_string()
            })),
            "sts:getsessiontoken" if authenticated => Some(self.finish(Decision::ImplicitDeny, || {
                "only IAM users and the root user can call sts:GetSessionToken (not with temporary credentials)".to_string()
            })),
            _ => None,
        }
    }

    /// Whether the organization's SCPs govern this caller: principals of member accounts, not
    /// AWS services, anonymous callers, service-linked roles or the management account.
    fn scps_apply(&self, management_account: Option<&str>) -> Result<(), &'static str> {
        let principal = &self.request.principal;
        match &principal.kind {
            PrincipalKind::Service => Err("the caller is an AWS service principal"),
            PrincipalKind::Anonymous => Err("the caller is anonymous"),
            _ if principal.is_service_linked_role() => Err("service-linked roles are not restricted by SCPs"),
            _ if management_account.is_some() && principal.account.as_deref() == management_account => {
                Err("the caller belongs to the management account, which SCPs do not restrict")
            }
            _ => Ok(()),
        }
    }

    /// Whether the organization's RCPs govern this request: resources of member accounts, for
    /// the services RCPs support, whoever calls (AWS service principals and anonymous callers
    /// included), except an AWS service assuming its service-linked role.
    fn rcps_apply(&self, management_account: Option<&str>) -> Result<(), &'static str> {
        let service = self.action.split(':').next().unwrap_or_default();
        if !RCP_SERVICES.contains(&service) {
            return Err("RCPs apply only to the actions of the services that support them");
        }
        if management_account.is_some() && self.request.resource_account.as_deref() == management_account {
            return Err("the resource belongs to the management account, which RCPs do not restrict");
        }
        if self.action.starts_with("sts:assumerole") && Principal::parse(&self.request.resource).is_service_linked_role() {
            return Err("RCPs do not restrict AWS services assuming their service-linked roles");
        }
        Ok(())
    }

    fn run(&mut self, policies: &PolicySet<'_>) -> Decision {
        let principal = &self.request.principal;
        if let Some(decision) = self.without_policy() {
            return decision;
        }
        // Only IAM principals (which belong to an account) have identity-based policies.
        let has_identity = principal.account.is_some() && !matches!(principal.kind, PrincipalKind::Service | PrincipalKind::Anonymous);

        // Evaluate every policy once; denies are collected from all of them first.
        let identity: Vec<PolicyVerdict> = if has_identity {
            policies.identity.iter().enumerate().map(|(index, policy)| self.policy(policy, Kind::Identity, &|| format!("identity_policies[{index}]"))).collect()
        } else {
            Vec::new()
        };
        let resource = policies.resource.map(|policy| self.policy(policy, Kind::Resource, &|| "resource_policy".to_string()));
        let boundary =
            policies.permissions_boundary.filter(|_| has_identity).map(|policy| self.policy(policy, Kind::Boundary, &|| "permissions_boundary".to_string()));
        let session = policies.session.filter(|_| has_identity).map(|policy| self.policy(policy, Kind::Session, &|| "session_policy".to_string()));
        let scps_apply = self.scps_apply(policies.management_account);
        let rcps_apply = self.rcps_apply(policies.management_account);
        let organization = |evaluator: &mut Self, levels: &[Vec<&Policy>], kind: Kind, name: &str| -> Vec<Vec<PolicyVerdict>> {
            levels
                .iter()
                .enumerate()
                .map(|(level, list)| {
                    list.iter().enumerate().map(|(index, policy)| evaluator.policy(policy, kind, &|| format!("{name}[{level}][{index}]"))).collect()
                })
                .collect()
        };
        let scps = if scps_apply.is_ok() { organization(self, &policies.scps, Kind::Scp, "scps") } else { Vec::new() };
        let rcps = if rcps_apply.is_ok() { organization(self, &policies.rcps, Kind::Rcp, "rcps") } else { Vec::new() };
        if let Err(reason) = scps_apply.as_ref().map(|_| ()).or_else(|reason| if policies.scps.is_empty() { Ok(()) } else { Err(reason) }) {
            self.step(|| format!("service control policies (SCPs) do not apply: {reason}"));
        }
        if let Err(reason) = rcps_apply.as_ref().map(|_| ()).or_else(|reason| if policies.rcps.is_empty() { Ok(()) } else { Err(reason) }) {
            self.step(|| format!("resource control policies (RCPs) do not apply: {reason}"));
        }

        let any_deny = identity.iter().chain(resource.iter()).chain(boundary.iter()).chain(session.iter()).any(|verdict| verdict.deny)
            || scps.iter().chain(rcps.iter()).flatten().any(|verdict| verdict.deny);
        if any_deny {
            return self
                .finish(Decision::ExplicitDeny, || "an explicit Deny statement matched the request; a Deny in any policy overrides every Allow".to_string());
        }
        self.step(|| "no Deny statement matched".to_string());

        // Every level of SCPs must allow (FullAWSAccess is what allows by default, and it can be
        // detached). Every level of RCPs carries RCPFullAWSAccess, which cannot be detached, so
        // RCPs never deny implicitly: only their Deny statements count (checked above).
        if let Some(level) = scps.iter().position(|level| !level.iter().any(|verdict| verdict.allow.is_some())) {
            return self.finish(Decision::ImplicitDeny, || {
                format!("no service control policies (SCPs) at level {level} of the organization allow the request; every level must allow")
            });
        }
        if !scps.is_empty() {
            self.step(|| "service control policies (SCPs): every level allows".to_string());
        }
        if !rcps.is_empty() {
            self.step(|| "resource control policies (RCPs): no Deny statement matched (RCPFullAWSAccess allows the rest at every level)".to_string());
        }

        if matches!(principal.kind, PrincipalKind::Root) && (self.action == "sts:assumerole" || self.action == "sts:assumeroot") {
            return self
                .finish(Decision::ImplicitDeny, || "the root user cannot assume a role: AssumeRole needs the credentials of an IAM user or role".to_string());
        }

        let boundary_allows = boundary.as_ref().is_none_or(|verdict| verdict.allow.is_some());
        let session_allows = session.as_ref().is_none_or(|verdict| verdict.allow.is_some());
        let identity_allows = matches!(principal.kind, PrincipalKind::Root) || identity.iter().any(|verdict| verdict.allow.is_some());
        let identity_chain = has_identity && identity_allows && boundary_allows && session_allows;
        let resource_grant = resource.as_ref().and_then(|verdict| verdict.allow);
        let same_account = self.request.is_same_account();
        let resource_required = resource_policy_required(self.request);

        if same_account {
            if let Some(grant) = resource_grant.filter(|grant| *grant != Grant::Account) {
                let capped_by_boundary = grant == Grant::RoleArn && !boundary_allows;
                let capped_by_session = matches!(grant, Grant::RoleArn | Grant::UserArn) && !session_allows;
                if !capped_by_boundary && !capped_by_session {
                    return self
                        .finish(Decision::Allowed, || "the resource-based policy allows the principal, which suffices within the same account".to_string());
                }
                self.step(|| {
                    let cap = if capped_by_boundary { "permissions boundary" } else { "session policy" };
                    format!("the resource-based policy allows the principal's ARN, but the {cap} does not allow the request and caps grants made to that ARN")
                });
            }
            if resource_required && resource_grant.is_none() {
                return self.finish(Decision::ImplicitDeny, || {
                    "this resource's own policy (role trust policy or KMS key policy) must allow the request, and it does not".to_string()
                });
            }
            return self.identity_decision(identity_allows, boundary_allows, session_allows, has_identity);
        }

        self.step(|| "cross-account request: both the resource-based policy and the principal's identity-based policies must allow".to_string());
        if resource_grant.is_none() {
            return self.finish(Decision::ImplicitDeny, || "cross-account request and no resource-based policy statement allows the principal".to_string());
        }
        if !has_identity {
            return self.finish(Decision::Allowed, || "the resource-based policy allows this principal, which has no identity-based policies".to_string());
        }
        if identity_chain {
            return self
                .finish(Decision::Allowed, || "cross-account request allowed by both the resource-based policy and the identity-based policies".to_string());
        }
        self.identity_decision(identity_allows, boundary_allows, session_allows, has_identity)
    }

    fn identity_decision(&mut self, identity_allows: bool, boundary_allows: bool, session_allows: bool, has_identity: bool) -> Decision {
        if !has_identity || !identity_allows {
            return self.finish(Decision::ImplicitDeny, || "no identity-based or resource-based policy statement allows the request".to_string());
        }
        if !boundary_allows {
            return self.finish(Decision::ImplicitDeny, || "the identity-based policies allow the request but the permissions boundary does not".to_string());
        }
        if !session_allows {
            return self.finish(Decision::ImplicitDeny, || "the identity-based policies allow the request but the session policy does not".to_string());
        }
        let same_account = self.request.is_same_account();
        self.finish(Decision::Allowed, || {
            if same_account {
                "an identity-based policy allows the request (and every boundary, session policy and organization policy allows it too)".to_string()
            } else {
                "allowed by the identity-based and resource-based policies".to_string()
            }
        })
    }

    fn policy(&mut self, policy: &Policy, kind: Kind, name: &dyn Fn() -> String) -> PolicyVerdict {
        let mut verdict = PolicyVerdict::default();
        for statement in &policy.statements {
            match self.statement(statement, kind) {
                Outcome::NotApplicable => {}
                Outcome::ConditionFailed(index) => {
                    if self.explain {
                        let condition = statement.conditions.get(index).map(|condition| condition.describe(&self.request.context)).unwrap_or_default();
                        self.explanation.failed_conditions.push(FailedCondition {
                            policy: name(),
                            statement: statement.index,
                            sid: statement.sid.clone(),
                            condition,
                        });
                    }
                }
                Outcome::Matched(grant) => {
                    if self.explain {
                        let reference = StatementRef { policy: name(), statement: statement.index, sid: statement.sid.clone(), effect: statement.effect };
                        match statement.effect {
                            Effect::Allow => self.explanation.allowed_by.push(reference),
                            Effect::Deny => self.explanation.denied_by.push(reference),
                        }
                    }
                    match statement.effect {
                        Effect::Deny => verdict.deny = true,
                        Effect::Allow => verdict.allow = verdict.allow.max(Some(grant)),
                    }
                }
            }
        }
        verdict
    }

    fn statement(&self, statement: &Statement, kind: Kind) -> Outcome {
        let action_matches = statement.action.patterns.iter().any(|pattern| pattern.matches(&self.action));
        if action_matches == statement.action.negated {
            return Outcome::NotApplicable;
        }
        if let Some(resource) = &statement.resource
            && !resource_matches(resource, self.request)
        {
            return Outcome::NotApplicable;
        }
        let grant = match (kind, &statement.principal) {
            // AWS documents that a Deny with NotPrincipal always denies a principal that has a
            // permissions boundary, whatever the NotPrincipal list holds.
            (Kind::Resource | Kind::Rcp, Some(block)) if block.negated && statement.effect == Effect::Deny && self.has_boundary => Grant::Exact,
            (Kind::Resource | Kind::Rcp, Some(block)) => match principal_matches_request(block, self.request) {
                Some(grant) => grant,
                None => return Outcome::NotApplicable,
            },
            // A resource-based policy statement without a principal grants nobody anything.
            (Kind::Resource, None) => return Outcome::NotApplicable,
            _ => Grant::Exact,
        };
        let wants = statement.effect == Effect::Allow;
        for (index, condition) in statement.conditions.iter().enumerate() {
            if !condition.evaluate_for(&self.request.context, wants) {
                return Outcome::ConditionFailed(index);
            }
        }
        Outcome::Matched(grant)
    }
}

fn resource_matches(block: &ResourceBlock, request: &Request) -> bool {
    let any = block.patterns.iter().any(|pattern| match &pattern.compiled {
        Some(compiled) => compiled.matches(&request.resource),
        None => pattern.template.tokens(&request.context).is_some_and(|tokens| ArnPattern::from_tokens(tokens).matches(&request.resource)),
    });
    any != block.negated
}

/// The best grant any entry makes to the principal, for a request on a resource of the
/// principal's own account (see [`principal_matches_request`] for `NotPrincipal` across accounts).
pub fn principal_matches(block: &PrincipalBlock, principal: &Principal) -> Option<Grant> {
    principal_block_matches(block, principal, false)
}

/// [`principal_matches`] for a request: `NotPrincipal` must also list the caller's account when
/// the caller comes from another account.
pub fn principal_matches_request(block: &PrincipalBlock, request: &Request) -> Option<Grant> {
    principal_block_matches(block, &request.principal, !request.is_same_account())
}

/// `Principal` grants the best any entry makes. `NotPrincipal` matches unless the caller is
/// excluded: every identity AWS validates for the caller must be listed. Those are the caller
/// itself (named by its own ARN; a role session also by its role's ARN), the role behind a
/// session (named by the role ARN), and, for a caller from another account, that account
/// (named by its id or its root ARN). A listed account alone excludes nobody but the root
/// user (IAM User Guide, "AWS JSON policy elements: NotPrincipal").
fn principal_block_matches(block: &PrincipalBlock, principal: &Principal, cross_account: bool) -> Option<Grant> {
    if !block.negated {
        return block.entries.iter().filter_map(|entry| principal_entry_matches(entry, principal)).max();
    }
    let listed = |identity: &Principal| {
        block.entries.iter().any(|entry| matches!(principal_entry_matches(entry, identity), Some(Grant::Exact | Grant::UserArn | Grant::RoleArn)))
    };
    let mut identities = vec![principal.clone()];
    if let Some(role_arn) = principal.role_arn().filter(|_| matches!(principal.kind, PrincipalKind::AssumedRole { .. })) {
        identities.push(Principal::parse(&role_arn));
    }
    if cross_account
        && let Some(account) = &principal.account
        && principal.kind != PrincipalKind::Root
    {
        identities.push(Principal::parse(&format!("arn:{}:iam::{account}:root", principal.partition)));
    }
    if identities.iter().all(listed) { None } else { Some(Grant::Exact) }
}

fn principal_entry_matches(entry: &PrincipalEntry, principal: &Principal) -> Option<Grant> {
    let value = entry.value.as_str();
    match entry.kind {
        PrincipalType::Everyone => Some(Grant::Exact),
        PrincipalType::Service | PrincipalType::Federated | PrincipalType::CanonicalUser => (principal.arn.eq_ignore_ascii_case(value)
            && matches!(principal.kind, PrincipalKind::Service | PrincipalKind::Other)
            || entry.kind == PrincipalType::Federated && principal.arn == value)
            .then_some(Grant::Exact),
        PrincipalType::Aws => {
            if value == "*" {
                return Some(Grant::Exact);
            }
            if value.len() == 12 && value.bytes().all(|byte| byte.is_ascii_digit()) {
                return (principal.account.as_deref() == Some(value))
                    .then(|| if principal.kind == PrincipalKind::Root { Grant::Exact } else { Grant::Account });
            }
            let parsed;
            let named = match &entry.parsed {
                Some(named) => named,
                None => {
                    parsed = Principal::parse(value);
                    &parsed
                }
            };
            match &named.kind {
                PrincipalKind::Root => (principal.account.is_some() && principal.account == named.account)
                    .then(|| if principal.kind == PrincipalKind::Root { Grant::Exact } else { Grant::Account }),
                PrincipalKind::Role { name } => {
                    let same_role = match &principal.kind {
                        PrincipalKind::Role { .. } => principal.arn == named.arn,
                        PrincipalKind::AssumedRole { role_name } => role_name == name && principal.account == named.account,
                        _ => false,
                    };
                    same_role.then_some(Grant::RoleArn)
                }
                PrincipalKind::User { .. } => (principal.arn == named.arn).then_some(Grant::UserArn),
                _ => (principal.arn == named.arn).then_some(Grant::Exact),
            }
        }
    }
}

/// Requests for which the resource's own policy must allow even within the account: assuming
/// a role (its trust policy) and using a KMS key (its key policy).
pub fn resource_policy_required(request: &Request) -> bool {
    let action = request.action.to_ascii_lowercase();
    let parts = crate::pattern::arn_parts(&request.resource);
    let role_trust = action.starts_with("sts:assumerole") || action == "sts:tagsession" || action == "sts:setsourceidentity" || action == "sts:setcontext";
    match parts {
        Some(parts) if parts[2] == "iam" && parts[5].starts_with("role/") => role_trust,
        Some(parts) if parts[2] == "kms" => action.starts_with("kms:"),
        _ => false,
    }
}
