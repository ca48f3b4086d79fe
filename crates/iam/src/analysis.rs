//! Analyses over an account: admin-equivalent principals, privilege escalation paths to
//! admin (the engine is [`crate::escalation`]), and resources reachable from outside the
//! account through their resource-based policies.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::account::{Account, PrincipalType};
use crate::catalog::{AccessLevel, Catalog};
use crate::policy::{Effect, PrincipalType as EntryType};
use crate::publicity::{self, Reach};
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
        // The owner's RCPs take part, as in every other analysis (`Account::policy_set`).
        let governing = account.policy_set(None, arn);
        let owner = publicity::Resource {
            arn,
            account: &owner_account,
            organization: account.organization_id.as_deref(),
            partition: &account.partition,
            rcps: &governing.rcps,
            management_account: governing.management_account,
        };
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
