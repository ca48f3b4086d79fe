//! Bedrock AgentCore (control plane): custom code interpreters, agent runtimes and browsers
//! (ListCodeInterpreters + GetCodeInterpreter, ListAgentRuntimes + GetAgentRuntime,
//! ListBrowsers + GetBrowser), each with the execution role it runs with.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::workloads::AgentCoreResource;

use crate::RegionalPatch;
use crate::session::{Call, Session};

/// The kinds of resource read, each with its own Get call.
#[derive(Clone, Copy)]
enum Kind {
    CodeInterpreter,
    Runtime,
    Browser,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::CodeInterpreter => "code-interpreter",
            Kind::Runtime => "runtime",
            Kind::Browser => "browser",
        }
    }
}

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_bedrockagentcorecontrol, session, &region);
    let mut found: Vec<(Kind, String)> = Vec::new();
    let call = Call::new("bedrock-agentcore", &region, "ListCodeInterpreters");
    crate::for_each_page!(session, call, client.list_code_interpreters().into_paginator().send(), |page| {
        found.extend(page.code_interpreter_summaries.into_iter().map(|summary| (Kind::CodeInterpreter, summary.code_interpreter_id)));
    });
    let call = Call::new("bedrock-agentcore", &region, "ListAgentRuntimes");
    crate::for_each_page!(session, call, client.list_agent_runtimes().into_paginator().send(), |page| {
        found.extend(page.agent_runtimes.into_iter().map(|runtime| (Kind::Runtime, runtime.agent_runtime_id)));
    });
    let call = Call::new("bedrock-agentcore", &region, "ListBrowsers");
    crate::for_each_page!(session, call, client.list_browsers().into_paginator().send(), |page| {
        found.extend(page.browser_summaries.into_iter().map(|summary| (Kind::Browser, summary.browser_id)));
    });
    let resources: Vec<Option<AgentCoreResource>> =
        futures::stream::iter(found).map(|(kind, id)| read(&session, &client, &region, kind, id)).buffer_unordered(session.fan_out()).collect().await;
    let mut resources: Vec<AgentCoreResource> = resources.into_iter().flatten().collect();
    resources.sort_by(|a, b| a.arn.cmp(&b.arn));
    Box::new(move |regional| regional.agentcore_resources = resources)
}

async fn read(session: &Session, client: &aws_sdk_bedrockagentcorecontrol::Client, region: &str, kind: Kind, id: String) -> Option<AgentCoreResource> {
    match kind {
        Kind::CodeInterpreter => {
            let call = Call::new("bedrock-agentcore", region, "GetCodeInterpreter").on(&id);
            let output = crate::call!(session, call, client.get_code_interpreter().code_interpreter_id(&id).send())?;
            Some(AgentCoreResource {
                kind: kind.as_str().to_string(),
                id: output.code_interpreter_id,
                arn: output.code_interpreter_arn,
                name: Some(output.name),
                role_arn: output.execution_role_arn,
                status: Some(output.status.as_str().to_string()),
            })
        }
        Kind::Runtime => {
            let call = Call::new("bedrock-agentcore", region, "GetAgentRuntime").on(&id);
            let output = crate::call!(session, call, client.get_agent_runtime().agent_runtime_id(&id).send())?;
            Some(AgentCoreResource {
                kind: kind.as_str().to_string(),
                id: output.agent_runtime_id,
                arn: output.agent_runtime_arn,
                name: Some(output.agent_runtime_name),
                role_arn: Some(output.role_arn).filter(|role| !role.is_empty()),
                status: Some(output.status.as_str().to_string()),
            })
        }
        Kind::Browser => {
            let call = Call::new("bedrock-agentcore", region, "GetBrowser").on(&id);
            let output = crate::call!(session, call, client.get_browser().browser_id(&id).send())?;
            Some(AgentCoreResource {
                kind: kind.as_str().to_string(),
                id: output.browser_id,
                arn: output.browser_arn,
                name: Some(output.name),
                role_arn: output.execution_role_arn,
                status: Some(output.status.as_str().to_string()),
            })
        }
    }
}
