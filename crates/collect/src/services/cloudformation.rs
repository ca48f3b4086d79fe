//! CloudFormation: stacks (DescribeStacks: status, service role, tags) and StackSets
//! (ListStackSets + DescribeStackSet: permission model, administration and execution roles).
//! Templates and parameter values are not read into the inventory.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::workloads::{CloudFormationStack, StackSet};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_cloudformation, session, &region);
    let mut stacks = Vec::new();
    let call = Call::new("cloudformation", &region, "DescribeStacks");
    crate::for_each_page!(session, call, client.describe_stacks().into_paginator().send(), |page| {
        stacks.extend(page.stacks.unwrap_or_default().into_iter().map(|stack| CloudFormationStack {
            stack_name: stack.stack_name.unwrap_or_default(),
            stack_id: stack.stack_id.unwrap_or_default(),
            role_arn: stack.role_arn,
            stack_status: stack.stack_status.map(|status| status.as_str().to_string()),
            creation_time: time_opt(stack.creation_time.as_ref()),
            tags: stack.tags.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect(),
        }));
    });
    let mut names = Vec::new();
    let call = Call::new("cloudformation", &region, "ListStackSets");
    let request = client.list_stack_sets().status(aws_sdk_cloudformation::types::StackSetStatus::Active);
    crate::for_each_page!(session, call, request.into_paginator().send(), |page| {
        names.extend(page.summaries.unwrap_or_default().into_iter().filter_map(|summary| summary.stack_set_name));
    });
    let stack_sets: Vec<Option<StackSet>> =
        futures::stream::iter(names).map(|name| read_stack_set(&session, &client, &region, name)).buffer_unordered(session.fan_out()).collect().await;
    let mut stack_sets: Vec<StackSet> = stack_sets.into_iter().flatten().collect();
    stacks.sort_by(|a, b| a.stack_id.cmp(&b.stack_id));
    stack_sets.sort_by(|a, b| a.stack_set_name.cmp(&b.stack_set_name));
    Box::new(move |regional| {
        regional.cloudformation_stacks = stacks;
        regional.cloudformation_stack_sets = stack_sets;
    })
}

async fn read_stack_set(session: &Session, client: &aws_sdk_cloudformation::Client, region: &str, name: String) -> Option<StackSet> {
    let call = Call::new("cloudformation", region, "DescribeStackSet").on(&name);
    let stack_set = crate::call!(session, call, client.describe_stack_set().stack_set_name(&name).send())?.stack_set?;
    Some(StackSet {
        stack_set_name: stack_set.stack_set_name.unwrap_or(name),
        stack_set_id: stack_set.stack_set_id.unwrap_or_default(),
        stack_set_arn: stack_set.stack_set_arn,
        permission_model: stack_set.permission_model.map(|model| model.as_str().to_string()),
        administration_role_arn: stack_set.administration_role_arn,
        execution_role_name: stack_set.execution_role_name,
        status: stack_set.status.map(|status| status.as_str().to_string()),
    })
}
