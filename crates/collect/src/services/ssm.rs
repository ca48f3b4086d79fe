//! Systems Manager: the instances it manages (DescribeInstanceInformation): which EC2
//! instances run the SSM agent and answer (`PingStatus`), and hybrid nodes with their role.

use std::sync::Arc;

use vigil_model::workloads::ManagedInstance;

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_ssm, session, &region);
    let mut instances = Vec::new();
    let call = Call::new("ssm", &region, "DescribeInstanceInformation");
    crate::for_each_page!(session, call, client.describe_instance_information().into_paginator().send(), |page| {
        instances.extend(page.instance_information_list.unwrap_or_default().into_iter().map(|information| ManagedInstance {
            instance_id: information.instance_id.unwrap_or_default(),
            ping_status: information.ping_status.map(|status| status.as_str().to_string()),
            platform_type: information.platform_type.map(|platform| platform.as_str().to_string()),
            agent_version: information.agent_version,
            iam_role: information.iam_role,
            resource_type: information.resource_type.map(|resource_type| resource_type.as_str().to_string()),
        }));
    });
    instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    Box::new(move |regional| regional.ssm_managed_instances = instances)
}
