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
        config.role_arn = Some(format!("arn:aws:iam::{}:role/{role_name}", account.id));
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
    let client = aws_sdk_organizations::Client::new(&session.config_for(&home_region));
    let policies = crate::services::organizations::read_policies(&session, &client, account_ids).await;
    Ok((policies, session.take_ledger()))
}
