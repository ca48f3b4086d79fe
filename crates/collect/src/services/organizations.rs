//! AWS Organizations: whether the account belongs to an organization, and which.

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
        });
    Box::new(move |inventory| inventory.account.organization = organization)
}
