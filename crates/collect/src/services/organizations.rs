//! AWS Organizations: whether the account belongs to an organization, and which; for the
//! management account, the organization's accounts too.

use std::sync::Arc;

use vigil_model::{Organization, Region};

use crate::GlobalPatch;

use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, home_region: String) -> GlobalPatch {
    let client = aws_sdk_organizations::Client::new(&session.config_for(&home_region));
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
    Box::new(move |inventory| inventory.account.organization = organization)
}
