//! App Runner: services (ListServices + DescribeService) with their instance role and whether
//! they are reachable from the internet.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::workloads::AppRunnerService;

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_apprunner, session, &region);
    let mut arns = Vec::new();
    let call = Call::new("apprunner", &region, "ListServices");
    crate::for_each_page!(session, call, client.list_services().into_paginator().send(), |page| {
        arns.extend(page.service_summary_list.into_iter().filter_map(|summary| summary.service_arn));
    });
    let services: Vec<Option<AppRunnerService>> =
        futures::stream::iter(arns).map(|arn| read_service(&session, &client, &region, arn)).buffer_unordered(session.fan_out()).collect().await;
    let mut services: Vec<AppRunnerService> = services.into_iter().flatten().collect();
    services.sort_by(|a, b| a.service_arn.cmp(&b.service_arn));
    Box::new(move |regional| regional.apprunner_services = services)
}

async fn read_service(session: &Session, client: &aws_sdk_apprunner::Client, region: &str, arn: String) -> Option<AppRunnerService> {
    let call = Call::new("apprunner", region, "DescribeService").on(&arn);
    let service = crate::call!(session, call, client.describe_service().service_arn(&arn).send())?.service?;
    Some(AppRunnerService {
        service_name: service.service_name,
        service_arn: service.service_arn,
        instance_role_arn: service.instance_configuration.and_then(|instance| instance.instance_role_arn),
        status: Some(service.status.as_str().to_string()),
        service_url: service.service_url,
        publicly_accessible: service.network_configuration.and_then(|network| network.ingress_configuration).map(|ingress| ingress.is_publicly_accessible),
    })
}
