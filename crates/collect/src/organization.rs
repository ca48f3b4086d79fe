//! Many accounts: the member accounts of an AWS Organization (ListAccounts, from the
//! management or a delegated administrator account), each collected with a role assumed in it,
//! and the organization's SCPs and RCPs read once for all of them.

use std::sync::Arc;

use aws_smithy_types::error::display::DisplayErrorContext;
use vigil_model::{ApiCall, Inventory, OrganizationPolicies};

use crate::{CollectConfig, CollectError, Progress};

/// A member account as ListAccounts returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

/// Every account of the organization the credentials can list.
pub async fn accounts(config: &CollectConfig) -> Result<Vec<Account>, CollectError> {
    let sdk_config = crate::load_sdk_config(config).await?;
    let client = aws_sdk_organizations::Client::new(&sdk_config);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| CollectError::Organization(DisplayErrorContext(&error).to_string()))?;
        accounts.extend(page.accounts.unwrap_or_default().into_iter().map(|account| Account {
            id: account.id.unwrap_or_default(),
            name: account.name.unwrap_or_default(),
            status: account.status.map(|status| status.as_str().to_string()).unwrap_or_default(),
        }));
    }
    Ok(accounts)
}

/// The role of `role_name` in a member account, as an organization scan assumes it.
pub fn member_role_arn(account_id: &str, role_name: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{role_name}")
}

/// Collects each active account with `arn:<partition>:iam::<id>:role/<role_name>`, at most
/// `parallel` at a time. A failing account is returned as its error; it never stops the others.
pub async fn collect_accounts(
    config: &CollectConfig,
    accounts: &[Account],
    role_name: &str,
    parallel: usize,
    progress: Arc<dyn Progress>,
) -> Vec<(Account, Result<Inventory, CollectError>)> {
    let limit = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, account) in accounts.iter().filter(|account| account.status == "ACTIVE").enumerate() {
        let mut config = config.clone();
        config.role_arn = Some(member_role_arn(&account.id, role_name));
        let (account, limit, progress) = (account.clone(), Arc::clone(&limit), Arc::clone(&progress));
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            (index, account, crate::collect(&config, progress).await)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(result) = joined {
            results.push(result);
        }
    }
    results.sort_by_key(|(index, _, _)| *index);
    results.into_iter().map(|(_, account, result)| (account, result)).collect()
}

/// The regions enabled in the account the credentials belong to (ec2:DescribeRegions from the
/// home region): the regions of an organization scan split into units when none are named.
pub async fn enabled_regions(config: &CollectConfig) -> Result<Vec<String>, CollectError> {
    let sdk_config = crate::load_sdk_config(config).await?;
    let home_region = sdk_config.region().map(|region| region.to_string()).unwrap_or_else(|| crate::DEFAULT_REGION.to_string());
    let caller = crate::identify(&sdk_config).await?;
    let session = crate::Session::new(sdk_config, caller.account_id, caller.partition, config.endpoint_url.clone(), 4, Arc::new(crate::NoProgress));
    let mut regions = crate::services::ec2::enabled_regions(&session, &home_region).await;
    regions.sort();
    Ok(regions)
}

/// What an organization scan reads once for all its accounts with the management (or a
/// delegated administrator's) credentials: the SCPs and RCPs, and the calls that read them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct OrganizationReads {
    pub policies: Option<OrganizationPolicies>,
    pub calls: Vec<ApiCall>,
}

/// Completes one account's inventory of an organization scan with what was read for the whole
/// organization: its SCPs and RCPs (with the calls that read them) when the account could not
/// read them itself, and the ids of the organization's accounts (a member cannot list them, and
/// its trust checks need them to know its siblings). The one rule for `vigil scan --org-role`,
/// whether the accounts are read in one process or as units of work.
pub fn complete_account(inventory: &mut Inventory, reads: &OrganizationReads, organization_accounts: &[String]) {
    if inventory.organization_policies.is_none() && reads.policies.is_some() {
        inventory.organization_policies = reads.policies.clone();
        inventory.ledger.calls.extend(reads.calls.iter().cloned());
    }
    if let Some(organization) = inventory.account.organization.as_mut() {
        organization.accounts = Some(organization_accounts.to_vec());
    }
}

/// Reads the organization's SCPs and RCPs (with their targets) and the parents of each of
/// `account_ids` with the credentials of `config` (the management account or a delegated
/// administrator), returning the calls made for the ledgers of the accounts they govern.
pub async fn policies(config: &CollectConfig, account_ids: &[String]) -> Result<(Option<OrganizationPolicies>, Vec<ApiCall>), CollectError> {
    let sdk_config = crate::load_sdk_config(config).await?;
    let home_region = sdk_config.region().map(|region| region.to_string()).unwrap_or_else(|| crate::DEFAULT_REGION.to_string());
    let caller = crate::identify(&sdk_config).await?;
    let session = crate::Session::new(
        sdk_config,
        caller.account_id,
        caller.partition,
        config.endpoint_url.clone(),
        config.max_in_flight.max(1),
        Arc::new(crate::NoProgress),
    );
    let client = crate::sdk_client!(aws_sdk_organizations, session, &home_region);
    let policies = crate::services::organizations::read_policies(&session, &client, account_ids).await;
    Ok((policies, session.take_ledger()))
}
