//! AWS Organizations: whether the account belongs to an organization, and which; for the
//! management account, the organization's accounts too; and, when the credentials belong to
//! the management account or a delegated administrator, the organization's SCPs and RCPs with
//! their targets (ListRoots, ListOrganizationalUnitsForParent, ListPolicies, DescribePolicy,
//! ListTargetsForPolicy) and the account's chain of parents (ListParents). A member account's
//! credentials are refused those calls: the refusal lands in the ledger, which is how the IAM
//! analyses say why they ran without organization policies.

use std::collections::BTreeMap;
use std::sync::Arc;

use vigil_model::inventory::{OrganizationPolicy, OrganizationRoot, OrganizationalUnit};
use vigil_model::{Organization, OrganizationPolicies, Region};

use crate::GlobalPatch;
use crate::session::{Call, Session};

/// The policy types vigil reads: the two that authorize requests.
const POLICY_TYPES: [aws_sdk_organizations::types::PolicyType; 2] =
    [aws_sdk_organizations::types::PolicyType::ServiceControlPolicy, aws_sdk_organizations::types::PolicyType::ResourceControlPolicy];

/// OUs nest at most five deep below the root; a deeper walk means a malformed reply.
const MAX_OU_DEPTH: usize = 5;

pub async fn collect(session: Arc<Session>, home_region: String) -> GlobalPatch {
    let client = crate::sdk_client!(aws_sdk_organizations, session, &home_region);
    let call = Call::new("organizations", Region::GLOBAL, "DescribeOrganization");
    let organization =
        crate::call!(session, call, client.describe_organization().send()).and_then(|output| output.organization).map(|organization| Organization {
            id: organization.id.unwrap_or_default(),
            arn: organization.arn,
            master_account_id: organization.master_account_id,
            feature_set: organization.feature_set.map(|feature_set| feature_set.as_str().to_string()),
            accounts: None,
        });
    // Only the management account (or a delegated administrator) may list the accounts; a
    // member account is not asked, and its checks say the list is unknown.
    let mut organization = organization;
    if let Some(organization) = organization.as_mut().filter(|organization| organization.master_account_id.as_deref() == Some(session.account_id.as_str())) {
        let call = Call::new("organizations", Region::GLOBAL, "ListAccounts");
        let mut accounts = Vec::new();
        crate::for_each_page!(session, call, client.list_accounts().into_paginator().send(), |page| {
            accounts.extend(page.accounts.unwrap_or_default().into_iter().filter_map(|account| account.id));
        });
        // A list cut short by a failed page is not the organization's list.
        let complete = !session.ledger_has_failure("organizations", Region::GLOBAL, "ListAccounts");
        organization.accounts = complete.then_some(accounts);
    }
    // Authorization policies exist only with all features enabled.
    let policies = match &organization {
        Some(organization) if organization.feature_set.as_deref() != Some("CONSOLIDATED_BILLING") => {
            read_policies(&session, &client, std::slice::from_ref(&session.account_id)).await
        }
        _ => None,
    };
    Box::new(move |inventory| {
        inventory.account.organization = organization;
        inventory.organization_policies = policies;
    })
}

/// Reads the organization's SCPs and RCPs with their targets, and the parents of each of
/// `account_ids`. `None` when the roots cannot be listed (the credentials are not those of the
/// management account or a delegated administrator); the ledger says why.
pub async fn read_policies(session: &Session, client: &aws_sdk_organizations::Client, account_ids: &[String]) -> Option<OrganizationPolicies> {
    let global = Region::GLOBAL;
    let mut roots = Vec::new();
    let call = Call::new("organizations", global, "ListRoots");
    let mut listed = false;
    crate::for_each_page!(session, call, client.list_roots().into_paginator().send(), |page| {
        listed = true;
        roots.extend(page.roots.unwrap_or_default().into_iter().map(|root| {
            OrganizationRoot {
                id: root.id.unwrap_or_default(),
                arn: root.arn.unwrap_or_default(),
                name: root.name.unwrap_or_default(),
                enabled_policy_types: root
                    .policy_types
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|summary| summary.status.as_ref().is_some_and(|status| status.as_str() == "ENABLED"))
                    .filter_map(|summary| summary.r#type.map(|policy_type| policy_type.as_str().to_string()))
                    .collect(),
            }
        }));
    });
    if !listed {
        return None;
    }

    // The OU tree, breadth first from each root.
    let mut organizational_units = Vec::new();
    let mut level: Vec<String> = roots.iter().map(|root| root.id.clone()).collect();
    for _ in 0..MAX_OU_DEPTH {
        let mut next = Vec::new();
        for parent in &level {
            let call = Call::new("organizations", global, "ListOrganizationalUnitsForParent").on(parent);
            crate::for_each_page!(session, call, client.list_organizational_units_for_parent().parent_id(parent).into_paginator().send(), |page| {
                for unit in page.organizational_units.unwrap_or_default() {
                    let id = unit.id.unwrap_or_default();
                    next.push(id.clone());
                    organizational_units.push(OrganizationalUnit {
                        id,
                        arn: unit.arn.unwrap_or_default(),
                        name: unit.name.unwrap_or_default(),
                        parent_id: parent.clone(),
                    });
                }
            });
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }

    let mut policies = Vec::new();
    for policy_type in POLICY_TYPES {
        let call = Call::new("organizations", global, "ListPolicies").on(policy_type.as_str());
        let mut summaries = Vec::new();
        crate::for_each_page!(session, call, client.list_policies().filter(policy_type.clone()).into_paginator().send(), |page| {
            summaries.extend(page.policies.unwrap_or_default());
        });
        for summary in summaries {
            let Some(id) = summary.id.clone() else { continue };
            let call = Call::new("organizations", global, "DescribePolicy").on(&id);
            let content =
                crate::call!(session, call, client.describe_policy().policy_id(&id).send()).and_then(|output| output.policy).and_then(|policy| policy.content);
            let Some(content) = content else { continue };
            let mut targets = Vec::new();
            let call = Call::new("organizations", global, "ListTargetsForPolicy").on(&id);
            crate::for_each_page!(session, call, client.list_targets_for_policy().policy_id(&id).into_paginator().send(), |page| {
                targets.extend(page.targets.unwrap_or_default().into_iter().filter_map(|target| target.target_id));
            });
            targets.sort();
            policies.push(OrganizationPolicy {
                id,
                arn: summary.arn.unwrap_or_default(),
                name: summary.name.unwrap_or_default(),
                policy_type: policy_type.as_str().to_string(),
                aws_managed: summary.aws_managed,
                document: super::policy_document(&content),
                targets,
            });
        }
    }

    // Each account's ancestors: its parent from ListParents, then the OU tree up to the root.
    let ou_parent: BTreeMap<&str, &str> = organizational_units.iter().map(|unit| (unit.id.as_str(), unit.parent_id.as_str())).collect();
    let mut parents = BTreeMap::new();
    for account in account_ids {
        let call = Call::new("organizations", global, "ListParents").on(account);
        let Some(output) = crate::call!(session, call, client.list_parents().child_id(account).send()) else { continue };
        let Some(mut current) = output.parents.unwrap_or_default().into_iter().find_map(|parent| parent.id) else { continue };
        let mut chain = vec![current.clone()];
        while let Some(parent) = ou_parent.get(current.as_str()) {
            if chain.len() > MAX_OU_DEPTH + 1 {
                break;
            }
            current = parent.to_string();
            chain.push(current.clone());
        }
        chain.reverse();
        parents.insert(account.clone(), chain);
    }
    Some(OrganizationPolicies { read_from_account: session.account_id.clone(), roots, organizational_units, policies, parents })
}
