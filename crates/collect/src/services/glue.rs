//! Glue: jobs (GetJobs) and development endpoints (GetDevEndpoints), with the role each runs
//! with. Job arguments and scripts are not read into the inventory.

use std::sync::Arc;

use vigil_model::workloads::{GlueDevEndpoint, GlueJob};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_glue, session, &region);
    let mut jobs = Vec::new();
    let call = Call::new("glue", &region, "GetJobs");
    crate::for_each_page!(session, call, client.get_jobs().into_paginator().send(), |page| {
        jobs.extend(page.jobs.unwrap_or_default().into_iter().map(|job| GlueJob {
            name: job.name.unwrap_or_default(),
            role: job.role,
            command_name: job.command.and_then(|command| command.name),
            glue_version: job.glue_version,
            created_on: time_opt(job.created_on.as_ref()),
            last_modified_on: time_opt(job.last_modified_on.as_ref()),
        }));
    });
    let mut endpoints = Vec::new();
    let call = Call::new("glue", &region, "GetDevEndpoints");
    crate::for_each_page!(session, call, client.get_dev_endpoints().into_paginator().send(), |page| {
        endpoints.extend(page.dev_endpoints.unwrap_or_default().into_iter().map(|endpoint| GlueDevEndpoint {
            endpoint_name: endpoint.endpoint_name.unwrap_or_default(),
            role_arn: endpoint.role_arn,
            status: endpoint.status,
            public_address: endpoint.public_address,
            subnet_id: endpoint.subnet_id,
            security_group_ids: endpoint.security_group_ids.unwrap_or_default(),
            created_timestamp: time_opt(endpoint.created_timestamp.as_ref()),
        }));
    });
    jobs.sort_by(|a, b| a.name.cmp(&b.name));
    endpoints.sort_by(|a, b| a.endpoint_name.cmp(&b.endpoint_name));
    Box::new(move |regional| {
        regional.glue_jobs = jobs;
        regional.glue_dev_endpoints = endpoints;
    })
}
