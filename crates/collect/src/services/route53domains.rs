//! Route 53 Domains (global, served from us-east-1 only): registered domains with their
//! transfer lock, auto-renew and privacy settings.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::edge::Domain;

use super::time_opt;
use crate::GlobalPatch;
use crate::session::{Call, Session};

/// The only region that serves the Route 53 Domains API.
const DOMAINS_REGION: &str = "us-east-1";

pub async fn collect(session: Arc<Session>, _home_region: String) -> GlobalPatch {
    let client = crate::sdk_client!(aws_sdk_route53domains, session, DOMAINS_REGION);
    let mut domains = Vec::new();
    let call = Call::new("route53domains", vigil_model::Region::GLOBAL, "ListDomains");
    crate::for_each_page!(session, call, client.list_domains().into_paginator().send(), |page| {
        domains.extend(page.domains.unwrap_or_default().into_iter().filter_map(|summary| {
            Some(Domain {
                domain_name: summary.domain_name?,
                auto_renew: summary.auto_renew,
                transfer_lock: summary.transfer_lock,
                expiry: time_opt(summary.expiry.as_ref()),
                ..Domain::default()
            })
        }));
    });
    let domains: Vec<Domain> =
        futures::stream::iter(domains).map(|domain| read_domain(&session, &client, domain)).buffer_unordered(session.fan_out()).collect().await;
    Box::new(move |inventory| inventory.edge.domains = domains)
}

async fn read_domain(session: &Session, client: &aws_sdk_route53domains::Client, mut domain: Domain) -> Domain {
    let call = Call::new("route53domains", vigil_model::Region::GLOBAL, "GetDomainDetail").on(&domain.domain_name);
    if let Some(detail) = crate::call!(session, call, client.get_domain_detail().domain_name(&domain.domain_name).send()) {
        domain.auto_renew = detail.auto_renew.or(domain.auto_renew);
        domain.admin_privacy = detail.admin_privacy;
        domain.registrant_privacy = detail.registrant_privacy;
        domain.tech_privacy = detail.tech_privacy;
        domain.status_list = detail.status_list.unwrap_or_default();
    }
    domain
}
