//! SES (API v2): email identities with DKIM attributes, sending authorization policies and tags.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::messaging::{DkimAttributes, EmailIdentity};

use super::policy_document;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_sesv2, session, &region);
    let mut identities = Vec::new();
    let call = Call::new("sesv2", &region, "ListEmailIdentities");
    crate::for_each_page!(session, call, client.list_email_identities().into_paginator().send(), |page| {
        identities.extend(page.email_identities.unwrap_or_default().into_iter().filter_map(|info| {
            Some(EmailIdentity {
                identity_name: info.identity_name?,
                identity_type: info.identity_type.map(|value| value.as_str().to_string()),
                sending_enabled: info.sending_enabled,
                verification_status: info.verification_status.map(|value| value.as_str().to_string()),
                ..EmailIdentity::default()
            })
        }));
    });
    let identities: Vec<EmailIdentity> = futures::stream::iter(identities)
        .map(|identity| read_identity(&session, &client, &region, identity))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.email_identities = identities)
}

async fn read_identity(session: &Session, client: &aws_sdk_sesv2::Client, region: &str, mut identity: EmailIdentity) -> EmailIdentity {
    let call = Call::new("sesv2", region, "GetEmailIdentity").on(&identity.identity_name);
    if let Some(output) = crate::call!(session, call, client.get_email_identity().email_identity(&identity.identity_name).send()) {
        identity.verified_for_sending_status = output.verified_for_sending_status;
        identity.verification_status = output.verification_status.map(|value| value.as_str().to_string()).or(identity.verification_status);
        identity.dkim_attributes = output.dkim_attributes.map(|dkim| DkimAttributes {
            signing_enabled: dkim.signing_enabled,
            status: dkim.status.map(|value| value.as_str().to_string()),
            signing_attributes_origin: dkim.signing_attributes_origin.map(|value| value.as_str().to_string()),
        });
        identity.policies = output.policies.unwrap_or_default().into_iter().map(|(name, text)| (name, policy_document(&text))).collect();
        identity.tags = output.tags.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect();
    }
    identity
}
