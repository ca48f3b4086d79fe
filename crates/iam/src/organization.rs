//! The organization policies that govern one account, as the engine applies them: the SCPs
//! and RCPs attached at each level from the organization's root down to the account (root,
//! each OU, the account), the management account (which neither restricts), and, when they
//! cannot be applied, why: the account is in no organization, only consolidated billing is
//! enabled, a call was refused (named from the ledger), or they were not collected.

use std::fmt;

use serde::Serialize;
use vigil_model::{Inventory, Outcome};

use crate::policy::Policy;

/// Whether an analysis of an account ran with its organization's policies, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum OrganizationPolicyStatus {
    /// SCPs and RCPs are applied: one list of policies per level, root first.
    Applied {
        scp_levels: usize,
        rcp_levels: usize,
        /// The account they were read from.
        read_from: String,
        /// True when this is the management account, which neither SCPs nor RCPs restrict.
        management_account: bool,
    },
    /// The account belongs to no organization: no SCP or RCP can restrict it.
    NotInOrganization,
    /// The organization has only consolidated billing enabled: no SCPs or RCPs exist.
    ConsolidatedBillingOnly,
    /// The policies could not be read: the call that failed and its error.
    NotReadable { call: String, reason: String },
    /// The policies were not collected (the `organizations` service was left out, or the scan
    /// ran in a member account without `--organization-role-arn`).
    NotCollected { reason: String },
}

impl OrganizationPolicyStatus {
    pub fn is_applied(&self) -> bool {
        matches!(self, OrganizationPolicyStatus::Applied { .. })
    }
}

impl fmt::Display for OrganizationPolicyStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrganizationPolicyStatus::Applied { scp_levels, rcp_levels, read_from, management_account } => {
                write!(formatter, "applied: SCPs at {scp_levels} level(s), RCPs at {rcp_levels} level(s), read from account {read_from}")?;
                if *management_account {
                    write!(formatter, " (this is the management account: neither restricts it)")?;
                }
                Ok(())
            }
            OrganizationPolicyStatus::NotInOrganization => write!(formatter, "not applied: the account belongs to no organization"),
            OrganizationPolicyStatus::ConsolidatedBillingOnly => {
                write!(formatter, "not applied: the organization has only consolidated billing enabled, so it has no SCPs or RCPs")
            }
            OrganizationPolicyStatus::NotReadable { call, reason } => write!(formatter, "not applied: {call} failed: {reason}"),
            OrganizationPolicyStatus::NotCollected { reason } => write!(formatter, "not applied: {reason}"),
        }
    }
}

/// The organization's policies for one account, parsed.
#[derive(Debug, Clone)]
pub struct OrganizationLevels {
    pub scps: Vec<Vec<Policy>>,
    pub rcps: Vec<Vec<Policy>>,
    pub management_account: Option<String>,
    pub status: OrganizationPolicyStatus,
    /// Policies that did not parse: (where, error); they are left out.
    pub problems: Vec<(String, String)>,
}

const SCP: &str = "SERVICE_CONTROL_POLICY";
const RCP: &str = "RESOURCE_CONTROL_POLICY";

/// The first failed Organizations call of the ledger, as (`organizations:Operation`, reason).
fn failed_call(inventory: &Inventory, operations: &[&str]) -> Option<(String, String)> {
    inventory
        .ledger
        .calls
        .iter()
        .filter(|call| call.service == "organizations" && operations.contains(&call.operation.as_str()))
        .find_map(|call| call.outcome.failure().map(|(code, message)| (format!("organizations:{}", call.operation), format!("{code}: {message}"))))
}

/// The SCPs and RCPs that govern `inventory`'s account, level by level from the root.
pub fn levels(inventory: &Inventory) -> OrganizationLevels {
    let account_id = inventory.account_id().as_str().to_string();
    let mut levels = OrganizationLevels {
        scps: Vec::new(),
        rcps: Vec::new(),
        management_account: None,
        status: OrganizationPolicyStatus::NotInOrganization,
        problems: Vec::new(),
    };
    let Some(organization) = &inventory.account.organization else {
        let described = inventory.ledger.calls.iter().find(|call| call.service == "organizations" && call.operation == "DescribeOrganization");
        levels.status = match described.map(|call| &call.outcome) {
            Some(Outcome::NotConfigured { .. }) => OrganizationPolicyStatus::NotInOrganization,
            Some(outcome) => match outcome.failure() {
                Some((code, message)) => {
                    OrganizationPolicyStatus::NotReadable { call: "organizations:DescribeOrganization".to_string(), reason: format!("{code}: {message}") }
                }
                None => OrganizationPolicyStatus::NotInOrganization,
            },
            None => OrganizationPolicyStatus::NotCollected { reason: "the organizations service was not collected".to_string() },
        };
        return levels;
    };
    levels.management_account = organization.master_account_id.clone();
    if organization.feature_set.as_deref() == Some("CONSOLIDATED_BILLING") {
        levels.status = OrganizationPolicyStatus::ConsolidatedBillingOnly;
        return levels;
    }
    let Some(policies) = &inventory.organization_policies else {
        levels.status =
            match failed_call(inventory, &["ListRoots", "ListOrganizationalUnitsForParent", "ListPolicies", "DescribePolicy", "ListTargetsForPolicy"]) {
                Some((call, reason)) => OrganizationPolicyStatus::NotReadable { call, reason },
                None => OrganizationPolicyStatus::NotCollected {
                    reason: "the organization's policies were not read (scan from the management or a delegated administrator account, \
                         or pass `--organization-role-arn`)"
                        .to_string(),
                },
            };
        return levels;
    };
    let Some(parents) = policies.parents.get(&account_id) else {
        levels.status = match failed_call(inventory, &["ListParents"]) {
            Some((call, reason)) => OrganizationPolicyStatus::NotReadable { call, reason },
            None => OrganizationPolicyStatus::NotCollected { reason: format!("the parents of account `{account_id}` in the organization were not read") },
        };
        return levels;
    };
    // A policy whose document or targets were not read would make a level look empty (deny
    // everything) or lose a Deny: then none are applied, and the failed call says why.
    if let Some((call, reason)) = failed_call(inventory, &["ListPolicies", "DescribePolicy", "ListTargetsForPolicy"]) {
        levels.status = OrganizationPolicyStatus::NotReadable { call, reason };
        return levels;
    }
    let enabled = |policy_type: &str| policies.roots.iter().any(|root| root.enabled_policy_types.iter().any(|enabled| enabled == policy_type));
    let chain: Vec<&str> = parents.iter().map(String::as_str).chain(std::iter::once(account_id.as_str())).collect();
    for (policy_type, out) in [(SCP, &mut levels.scps), (RCP, &mut levels.rcps)] {
        if !enabled(policy_type) {
            continue;
        }
        for target in &chain {
            let mut level = Vec::new();
            for policy in policies.policies.iter().filter(|policy| policy.policy_type == policy_type && policy.targets.iter().any(|id| id == target)) {
                match Policy::parse(&policy.document) {
                    Ok(parsed) => level.push(parsed),
                    Err(error) => levels.problems.push((format!("{} {} ({})", policy_type, policy.name, policy.id), error.to_string())),
                }
            }
            out.push(level);
        }
    }
    if let Some(position) = levels.scps.iter().position(Vec::is_empty) {
        let target = chain.get(position).copied().unwrap_or_default();
        levels.scps.clear();
        levels.rcps.clear();
        levels.status = OrganizationPolicyStatus::NotReadable {
            call: "organizations:ListTargetsForPolicy".to_string(),
            reason: format!("no SCP is attached to `{target}`, though SCPs are enabled and AWS requires one at every level"),
        };
        return levels;
    }
    levels.status = OrganizationPolicyStatus::Applied {
        scp_levels: levels.scps.len(),
        rcp_levels: levels.rcps.len(),
        read_from: policies.read_from_account.clone(),
        management_account: levels.management_account.as_deref() == Some(account_id.as_str()),
    };
    levels
}
