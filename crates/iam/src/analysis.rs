//! Analyses over an account: admin-equivalent principals, privilege escalation paths to
//! admin (the engine is [`crate::escalation`]), and resources reachable from outside the
//! account through their resource-based policies.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::account::{Account, PrincipalType};
use crate::catalog::{AccessLevel, Catalog};
use crate::condition::Operator;
use crate::policy::{Effect, PrincipalType as EntryType, Statement};
use crate::request::Principal;

pub use crate::escalation::{EscalationPath, FULL_ADMIN_PROBES, Permission, Step};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admin {
    pub principal: String,
    pub kind: PrincipalType,
    /// `full` (allowed everything) or `self-grant` (can give itself any permission).
    pub reason: &'static str,
    /// For `self-grant`: how (the step that grants; see `steps` when restrictions must be
    /// lifted first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// For `self-grant`: every step, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// The account of the principal.
    pub account: String,
}

/// Admin-equivalent principals: allowed everything, or able to grant themselves anything.
pub fn admins(account: &Account) -> Vec<Admin> {
    let holders = crate::escalation::goal_holders(account, &crate::escalation::Goal::Admin);
    let mut admins: Vec<Admin> = account
        .principals
        .iter()
        .zip(holders)
        .filter_map(|(principal, steps)| {
            let steps = steps?;
            let (reason, step) = if steps.is_empty() { ("full", None) } else { ("self-grant", steps.last().cloned()) };
            Some(Admin { principal: principal.arn.clone(), kind: principal.kind, reason, step, steps, account: principal.account_id.clone() })
        })
        .collect();
    admins.sort_by(|a, b| a.principal.cmp(&b.principal));
    admins
}

/// Paths from each principal that is not an admin to an admin-equivalent principal: every
/// distinct path, shortest first, up to the default limit per principal.
pub fn escalation(account: &Account) -> Vec<EscalationPath> {
    crate::escalation::escalation(account, &crate::escalation::Options::default())
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

/// Keys that, compared with positive operators, restrict callers to accounts or organizations.
const ACCOUNT_KEYS: &[&str] = &["aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "kms:calleraccount", "aws:resourceaccount"];
const ARN_KEYS: &[&str] = &["aws:principalarn", "aws:sourcearn"];
const ORG_KEYS: &[&str] = &["aws:principalorgid", "aws:principalorgpaths"];
const NETWORK_KEYS: &[&str] = &["aws:sourceip", "aws:sourcevpce", "aws:sourcevpc", "aws:vpcsourceip"];

/// What the conditions of a statement (and the policy's deny guards) say about the caller.
#[derive(Default)]
struct Scope {
    /// Accounts the caller is restricted to (from account, ARN keys); `None` when unrestricted.
    accounts: Option<BTreeSet<String>>,
    organizations: Option<BTreeSet<String>>,
    network: bool,
    narrowed_by: Vec<String>,
}

fn account_of(text: &str) -> String {
    crate::pattern::arn_parts(text).map(|parts| parts[4].to_string()).unwrap_or_else(|| text.to_string())
}

fn restrict(scope: &mut Option<BTreeSet<String>>, values: BTreeSet<String>) {
    *scope = Some(match scope.take() {
        Some(existing) => existing.intersection(&values).cloned().collect(),
        None => values,
    });
}

fn scope_of(statements: &[&Statement]) -> Scope {
    let mut scope = Scope::default();
    for statement in statements {
        // Allow statements narrow with positive operators; Deny guards with negated ones.
        let wanted_negated = statement.effect == Effect::Deny;
        for condition in &statement.conditions {
            if condition.operator.is_negated() != wanted_negated || condition.operator == Operator::Null {
                continue;
            }
            let key = condition.key.as_str();
            let values: BTreeSet<String> = condition.values.iter().map(|value| value.text.clone()).collect();
            let described = format!("{} {}: {:?}", condition.operator_text, condition.key_text, values);
            if ACCOUNT_KEYS.contains(&key) {
                restrict(&mut scope.accounts, values);
            } else if ARN_KEYS.contains(&key) {
                restrict(&mut scope.accounts, values.iter().map(|value| account_of(value)).collect());
            } else if ORG_KEYS.contains(&key) {
                restrict(&mut scope.organizations, values.iter().map(|value| value.split('/').next().unwrap_or_default().to_string()).collect());
            } else if NETWORK_KEYS.contains(&key) {
                let open = key == "aws:sourceip" && values.iter().any(|value| value.ends_with("/0"));
                if open {
                    continue;
                }
                scope.network = true;
            } else if key == "sts:externalid" {
                // An external id does not change who can assume, only that they know the secret.
            } else {
                continue;
            }
            scope.narrowed_by.push(described);
        }
    }
    scope
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
        let guards: Vec<&Statement> = policy.statements.iter().filter(|statement| statement.effect == Effect::Deny && is_everyone(statement)).collect();
        for statement in policy.statements.iter().filter(|statement| statement.effect == Effect::Allow) {
            let Some(block) = &statement.principal else { continue };
            let mut everyone = block.negated;
            let mut accounts: BTreeSet<String> = BTreeSet::new();
            let mut federated: BTreeSet<String> = BTreeSet::new();
            for entry in block.entries.iter().filter(|_| !block.negated) {
                match entry.kind {
                    EntryType::Everyone => everyone = true,
                    EntryType::Aws if entry.value == "*" => everyone = true,
                    EntryType::Aws => {
                        let principal = Principal::parse(&entry.value);
                        if let Some(account_id) = principal.account.filter(|account_id| account_id != own) {
                            accounts.insert(account_id);
                        }
                    }
                    EntryType::Federated => {
                        federated.insert(entry.value.clone());
                    }
                    EntryType::Service | EntryType::CanonicalUser => {}
                }
            }
            let mut scoped: Vec<&Statement> = guards.clone();
            scoped.push(statement);
            let scope = scope_of(&scoped);
            let restricted_to_own = scope.accounts.as_ref().is_some_and(|allowed| allowed.iter().all(|account_id| account_id == own))
                || scope
                    .organizations
                    .as_ref()
                    .is_some_and(|allowed| account.organization_id.as_ref().is_some_and(|mine| allowed.iter().all(|org| org == mine)));
            if restricted_to_own {
                continue;
            }
            let (exposure, principals) = if everyone {
                match (&scope.accounts, &scope.organizations) {
                    (Some(allowed), _) => (Exposure::CrossAccount, allowed.iter().filter(|account_id| *account_id != own).cloned().collect()),
                    (None, Some(organizations)) => (Exposure::CrossAccount, organizations.iter().cloned().collect()),
                    (None, None) if scope.network => (Exposure::NetworkRestricted, vec!["*".to_string()]),
                    (None, None) => (Exposure::Public, vec!["*".to_string()]),
                }
            } else if !accounts.is_empty() {
                let accounts: Vec<String> = match &scope.accounts {
                    Some(allowed) => accounts.intersection(allowed).cloned().collect(),
                    None => accounts.into_iter().collect(),
                };
                if accounts.is_empty() {
                    continue;
                }
                (Exposure::CrossAccount, accounts)
            } else if !federated.is_empty() {
                (Exposure::Federated, federated.into_iter().collect())
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
                narrowed_by: scope.narrowed_by,
                statement: statement.index,
                sid: statement.sid.clone(),
            });
        }
    }
    findings.sort_by(|a, b| (a.exposure, &a.resource, a.statement).cmp(&(b.exposure, &b.resource, b.statement)));
    findings
}

fn is_everyone(statement: &Statement) -> bool {
    statement.principal.as_ref().is_some_and(|block| {
        !block.negated && block.entries.iter().any(|entry| entry.kind == EntryType::Everyone || (entry.kind == EntryType::Aws && entry.value == "*"))
    })
}
