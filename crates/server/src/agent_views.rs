//! The console's pages and API for the agent fleet: the Agents page (status, lifecycle,
//! version, last seen, policy, the instance link, module health, enrolment attempts), one
//! agent's page (its latest events and host posture, its active response with the Unblock
//! button and its firewall changes), the unblock route, and the block on an instance's
//! resource page.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use serde_json::json;
use vigil_store::agents::{AgentEventRow, AgentRow};

use crate::auth::Caller;
use crate::handlers::with_store;
use crate::pages::{escape, link, page};
use crate::routes::{Access, Method, Param, Role, Route, query};
use crate::{AppState, ClientAddress};

type Shared = State<Arc<AppState>>;
type Params = Query<HashMap<String, String>>;

const AGENT_ID: &[Param] = &[query("id", "the agent's id (`agt-` and 16 hex digits)")];

/// The Agents pages and their API.
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/api/agents",
        summary: "Every vigil agent: id, instance, account, region, status (online, offline, missing, retired), last seen, version, policy, module health.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, api_agents),
    },
    Route {
        method: Method::Get,
        path: "/api/agent",
        summary: "One agent (`id`) with its latest events.",
        params: &[AGENT_ID],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, api_agent),
    },
    Route {
        method: Method::Post,
        path: "/api/agent/unblock",
        summary: "Asks an agent to lift an active-response block (JSON `{\"agent_id\", \"address\"}`): a command the agent receives with its next heartbeat, runs once and reports as an `ips`/`unblocked` event; audit-logged.",
        params: &[],
        access: Access::Change(Role::Analyst),
        handler: |method| on(method, unblock),
    },
    Route {
        method: Method::Get,
        path: "/agents",
        summary: "The agents: status, lifecycle, version, last seen, policy, instance, module health; enrolment attempts.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, agents),
    },
    Route {
        method: Method::Get,
        path: "/agent",
        summary: "One agent's page (`id`): identity, lifecycle, module health, latest events.",
        params: &[AGENT_ID],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, agent),
    },
];

/// The agents as `vigil agents --format json` prints them.
async fn api_agents(state: Shared) -> Response {
    match with_store(&state, |store| store.agents()).await {
        Ok(agents) => Json(agents).into_response(),
        Err(response) => response,
    }
}

/// One agent (`id`) with its latest events.
async fn api_agent(state: Shared, Query(query): Params) -> Response {
    let id = query.get("id").cloned().unwrap_or_default();
    let result = with_store(&state, move |store| {
        let agent = store.agent(&id)?.ok_or_else(|| vigil_store::StoreError::NotFound(format!("no agent `{id}`")))?;
        Ok(json!({
            "agent": agent,
            "event_count": store.agent_event_count(&id)?,
            "latest_events": store.agent_events(&id, None, 100)?,
            "integrity_changes": store.agent_events_of_kind(&id, "fim", "change", 500)?,
            "malware_detections": store.agent_events_of_kind(&id, "malware", "detection", 500)?,
            "host_posture": store.host_posture(&id)?,
            "ips_blocks": ips_blocks(&store.agent_events(&id, Some("ips"), 2_000)?),
            "ips_events": store.agent_events(&id, Some("ips"), 500)?,
            "firewall_changes": firewall_changes(&store.agent_events(&id, Some("firewall"), 500)?),
            "commands": store.agent_commands(&id, 200)?,
        }))
    })
    .await;
    match result {
        Ok(value) => Json(value).into_response(),
        Err(response) => response,
    }
}

fn modules_summary(agent: &AgentRow) -> String {
    let mut cells = String::new();
    for module in agent.modules.as_array().into_iter().flatten() {
        let state = module["state"].as_str().unwrap_or("unknown");
        let title = module["last_error"].as_str().map(|error| format!(" title=\"{}\"", escape(error))).unwrap_or_default();
        let _ = write!(cells, "<span class=\"module {}\"{title}>{} {}</span> ", escape(state), escape(module["module"].as_str().unwrap_or("?")), escape(state));
    }
    if cells.is_empty() { "-".to_string() } else { cells }
}

fn instance_cell(agent: &AgentRow) -> String {
    match (&agent.instance_arn, &agent.instance_id) {
        (Some(arn), Some(id)) => format!("<a href=\"{}\">{}</a>", escape(&link("/resource", &[("arn", arn)])), escape(id)),
        (None, Some(id)) => escape(id),
        _ => "off EC2".to_string(),
    }
}

/// Rows of an agents table.
pub fn agents_table(agents: &[AgentRow]) -> String {
    let mut body = String::from(
        "<table id=\"agents\"><thead><tr><th>Agent</th><th>Status</th><th>Instance</th><th>Account</th><th>Region</th><th>Host</th><th>Version</th><th>Last seen</th><th>Since</th><th>Policy</th><th>Modules</th></tr></thead><tbody>",
    );
    for agent in agents {
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"status {status}\">{status}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&link("/agent", &[("id", &agent.agent_id)])),
            escape(&agent.agent_id),
            instance_cell(agent),
            escape(agent.account.as_deref().unwrap_or("-")),
            escape(agent.region.as_deref().unwrap_or("-")),
            escape(&agent.hostname),
            escape(&agent.agent_version),
            escape(agent.last_seen.as_deref().unwrap_or("never")),
            escape(&agent.status_since),
            escape(agent.policy_etag.as_deref().unwrap_or("-")),
            modules_summary(agent),
            status = escape(agent.status.as_str()),
        );
    }
    body.push_str("</tbody></table>");
    body
}

async fn agents(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let result = with_store(&state, |store| Ok((store.agents()?, store.enrolments(50)?))).await;
    let (agents, enrolments) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for agent in &agents {
        *counts.entry(agent.status.as_str()).or_default() += 1;
    }
    let mut body = String::from("<h1>Agents</h1>");
    let summary: Vec<String> = counts.iter().map(|(status, count)| format!("<span class=\"status {0}\">{count} {0}</span>", escape(status))).collect();
    let _ = write!(body, "<p id=\"agent-counts\">{} agent(s): {}</p>", agents.len(), summary.join(", "));
    if agents.is_empty() {
        body.push_str("<p class=\"notice\">No agent yet. On an EC2 instance run <code>vigil-agent --server URL --state /var/lib/vigil-agent</code>: it enrols itself from its signed identity document. Elsewhere create a token with <code>vigil agents token create</code>.</p>");
    }
    body.push_str(&agents_table(&agents));
    body.push_str("<h2>Enrolment attempts</h2><table id=\"enrolments\"><thead><tr><th>When</th><th>Outcome</th><th>Reason</th><th>Instance</th><th>Account</th><th>Host</th><th>Detail</th></tr></thead><tbody>");
    for attempt in &enrolments {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"{outcome}\">{outcome}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&attempt.at),
            escape(&attempt.reason),
            escape(attempt.instance_id.as_deref().unwrap_or("-")),
            escape(attempt.account_id.as_deref().unwrap_or("-")),
            escape(&attempt.hostname),
            escape(&attempt.detail),
            outcome = escape(&attempt.outcome),
        );
    }
    body.push_str("</tbody></table>");
    page("Agents", Some(&caller), &body).into_response()
}

async fn agent(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let id = query.get("id").cloned().unwrap_or_default();
    let lookup = id.clone();
    let result = with_store(&state, move |store| {
        let agent = store.agent(&lookup)?.ok_or_else(|| vigil_store::StoreError::NotFound(format!("no agent `{lookup}`")))?;
        let changes = store.agent_events_of_kind(&lookup, "fim", "change", 500)?;
        let detections = store.agent_events_of_kind(&lookup, "malware", "detection", 500)?;
        let posture = store.host_posture(&lookup)?;
        let response =
            (store.agent_events(&lookup, Some("ips"), 2_000)?, store.agent_events(&lookup, Some("firewall"), 500)?, store.agent_commands(&lookup, 200)?);
        Ok((agent, store.agent_events(&lookup, None, 200)?, store.agent_event_count(&lookup)?, changes, detections, posture, response))
    })
    .await;
    let (agent, events, count, changes, detections, posture, (ips_events, firewall_events, commands)) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = format!("<h1>Agent {}</h1>", escape(&agent.agent_id));
    body.push_str(&agents_table(std::slice::from_ref(&agent)));
    body.push_str("<table id=\"agent-detail\"><tbody>");
    let rows: [(&str, String); 6] = [
        ("Enrolled", format!("{} ({})", agent.enrolled_at, agent.enrolled_by)),
        ("Instance state", agent.instance_state.clone().unwrap_or_else(|| "not in the inventory".into())),
        ("Revoked", agent.revoked_at.clone().map(|at| format!("{at}: {}", agent.revoked_reason.clone().unwrap_or_default())).unwrap_or_else(|| "no".into())),
        ("Events", format!("{count} stored, last sequence number {}", agent.last_seq)),
        ("Queue", agent.queue.to_string()),
        ("Modules", serde_json::to_string_pretty(&agent.modules).unwrap_or_default()),
    ];
    for (label, value) in rows {
        let _ = write!(body, "<tr><th>{label}</th><td><pre>{}</pre></td></tr>", escape(&value));
    }
    body.push_str("</tbody></table>");
    body.push_str(&crate::host_views::host_posture(&agent, &posture));
    body.push_str(&host_findings(&changes, &detections));
    body.push_str(&active_response(&agent.agent_id, &ips_events, &commands, caller.role >= Role::Analyst));
    body.push_str(&firewall_section(&firewall_events));
    body.push_str("<h2>Latest events</h2><table id=\"agent-events\"><thead><tr><th>#</th><th>Time</th><th>Module</th><th>Kind</th><th>Id</th><th>Payload</th></tr></thead><tbody>");
    for event in &events {
        let payload = serde_json::to_string_pretty(&event.payload).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>payload</summary><pre>{}</pre></details></td></tr>",
            event.seq,
            escape(&event.event_time),
            escape(&event.module),
            escape(&event.kind),
            escape(&event.event_id),
            escape(&payload)
        );
    }
    body.push_str("</tbody></table>");
    page("Agent", Some(&caller), &body).into_response()
}

/// The agent page's integrity changes (`fim`/`change`) and malware detections
/// (`malware`/`detection`), newest first.
pub fn host_findings(changes: &[AgentEventRow], detections: &[AgentEventRow]) -> String {
    let text = |event: &AgentEventRow, key: &str| event.payload.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
    let mut body = String::from("<h2>Malware detections</h2>");
    if detections.is_empty() {
        body.push_str("<p class=\"notice\">None reported.</p>");
    } else {
        body.push_str("<table id=\"malware-detections\"><thead><tr><th>Time</th><th>Path</th><th>Rule</th><th>SHA-256</th></tr></thead><tbody>");
        for event in detections {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&event.event_time),
                escape(&text(event, "path")),
                escape(&text(event, "rule")),
                escape(&text(event, "sha256"))
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<h2>Integrity changes</h2>");
    if changes.is_empty() {
        body.push_str("<p class=\"notice\">None reported since the baseline.</p>");
    } else {
        body.push_str(
            "<table id=\"integrity-changes\"><thead><tr><th>Time</th><th>Path</th><th>Change</th><th>Fields</th><th>Before / after</th></tr></thead><tbody>",
        );
        for event in changes {
            let fields: Vec<&str> = event
                .payload
                .get("fields")
                .and_then(serde_json::Value::as_array)
                .map(|fields| fields.iter().filter_map(serde_json::Value::as_str).collect())
                .unwrap_or_default();
            let detail = serde_json::to_string_pretty(
                &json!({"before": event.payload.get("before"), "after": event.payload.get("after"), "actor": event.payload.get("actor")}),
            )
            .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>detail</summary><pre>{}</pre></details></td></tr>",
                escape(&event.event_time),
                escape(&text(event, "path")),
                escape(&text(event, "change")),
                escape(&fields.join(", ")),
                escape(&detail)
            );
        }
        body.push_str("</tbody></table>");
    }
    body
}

/// The active-response blocks an agent's `ips` events (newest first) leave in force: the
/// latest `blocked` of each address not followed by `unblocked` or `expired`.
pub fn ips_blocks(events: &[AgentEventRow]) -> Vec<serde_json::Value> {
    let mut blocks: std::collections::BTreeMap<String, serde_json::Value> = std::collections::BTreeMap::new();
    for event in events.iter().rev() {
        let Some(address) = event.payload.get("address").and_then(serde_json::Value::as_str) else { continue };
        match event.kind.as_str() {
            "blocked" => {
                blocks.insert(address.to_string(), json!({"address": address, "since": event.event_time, "until": event.payload.get("until"), "dry_run": event.payload.get("dry_run"), "reason": event.payload.get("reason")}));
            }
            "unblocked" | "expired" => {
                blocks.remove(address);
            }
            _ => {}
        }
    }
    blocks.into_values().collect()
}

/// The firewall module's enforcement events (everything but its `ruleset` reports).
pub fn firewall_changes(events: &[AgentEventRow]) -> Vec<&AgentEventRow> {
    events.iter().filter(|event| event.kind != "ruleset").collect()
}

/// The agent page's active response: the blocks in force with an Unblock button (analysts and
/// admins), the actions, and the commands given in the console with where they stand.
fn active_response(agent_id: &str, events: &[AgentEventRow], commands: &[vigil_store::agent_commands::AgentCommandRow], may_change: bool) -> String {
    let mut body = String::from("<h2>Active response</h2>");
    let blocks = ips_blocks(events);
    if blocks.is_empty() {
        body.push_str("<p class=\"notice\">No address blocked.</p>");
    } else {
        body.push_str("<p id=\"mute-status\" class=\"notice\"></p><table id=\"ips-blocks\"><thead><tr><th>Address</th><th>Since</th><th>Until</th><th>Mode</th><th>Reason</th><th></th></tr></thead><tbody>");
        for block in &blocks {
            let text = |key: &str| block.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
            let dry_run = block.get("dry_run").and_then(serde_json::Value::as_bool).unwrap_or(false);
            let address = text("address");
            let pending = commands.iter().any(|command| {
                command.completed_at.is_none() && command.command.arguments.get("address").and_then(serde_json::Value::as_str) == Some(address.as_str())
            });
            let button = if pending {
                "unblock requested".to_string()
            } else if may_change {
                format!(
                    "<form data-action=\"/api/agent/unblock\"><input type=\"hidden\" name=\"agent_id\" value=\"{}\"><input type=\"hidden\" name=\"address\" value=\"{}\"><button type=\"submit\">Unblock</button></form>",
                    escape(agent_id),
                    escape(&address)
                )
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{button}</td></tr>",
                escape(&address),
                escape(&text("since")),
                escape(&text("until")),
                if dry_run { "dry run (not blocked)" } else { "blocked" },
                escape(&text("reason")),
            );
        }
        body.push_str("</tbody></table>");
    }
    if !events.is_empty() {
        body.push_str("<table id=\"ips-actions\"><thead><tr><th>Time</th><th>Action</th><th>Address</th><th>Dry run</th><th>By</th></tr></thead><tbody>");
        for event in events.iter().take(200) {
            let text = |key: &str| event.payload.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&event.event_time),
                escape(&event.kind),
                escape(&text("address")),
                if event.payload.get("dry_run").and_then(serde_json::Value::as_bool).unwrap_or(false) { "yes" } else { "no" },
                escape(&text("requested_by")),
            );
        }
        body.push_str("</tbody></table>");
    }
    if !commands.is_empty() {
        body.push_str("<h3>Commands</h3><table id=\"agent-commands\"><thead><tr><th>Requested</th><th>By</th><th>Command</th><th>Delivered</th><th>Completed</th><th>Outcome</th></tr></thead><tbody>");
        for command in commands {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{} {} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&command.command.requested_at),
                escape(&command.command.requested_by),
                escape(&command.command.module),
                escape(&command.command.kind),
                escape(&command.command.arguments.to_string()),
                escape(command.delivered_at.as_deref().unwrap_or("pending")),
                escape(command.completed_at.as_deref().unwrap_or("-")),
                escape(command.outcome.as_deref().unwrap_or("-")),
            );
        }
        body.push_str("</tbody></table>");
    }
    body
}

/// The agent page's firewall enforcement changes (applied, confirmed, rolled back, shields).
fn firewall_section(events: &[AgentEventRow]) -> String {
    let changes = firewall_changes(events);
    if changes.is_empty() {
        return String::new();
    }
    let mut body = String::from(
        "<h2>Firewall enforcement</h2><table id=\"firewall-changes\"><thead><tr><th>Time</th><th>Change</th><th>Dry run</th><th>Detail</th></tr></thead><tbody>",
    );
    for event in changes.iter().take(200) {
        let detail = serde_json::to_string_pretty(&event.payload).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><details><summary>diff</summary><pre>{}</pre></details></td></tr>",
            escape(&event.event_time),
            escape(&event.kind),
            if event.payload.get("dry_run").and_then(serde_json::Value::as_bool).unwrap_or(false) { "yes" } else { "no" },
            escape(&detail)
        );
    }
    body.push_str("</tbody></table>");
    body
}

/// `POST /api/agent/unblock`: records the command for the agent and the audit entry in one
/// go; the agent receives it with its next heartbeat.
async fn unblock(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    use axum::http::StatusCode;
    let text = |key: &str| body.get(key).and_then(serde_json::Value::as_str).map(str::trim).unwrap_or_default().to_string();
    let (agent_id, blocked) = (text("agent_id"), text("address"));
    let Ok(blocked) = blocked.parse::<std::net::IpAddr>() else {
        return crate::error::error(StatusCode::BAD_REQUEST, format!("`address` must be an IP address, not `{blocked}`"));
    };
    let command_id = match crate::auth::random_hex(8) {
        Ok(hex) => format!("cmd-{hex}"),
        Err(error) => return crate::error::internal(error),
    };
    let command = vigil_fleet::wire::AgentCommand {
        id: command_id.clone(),
        module: "ips".into(),
        kind: "unblock".into(),
        arguments: json!({"address": blocked.to_string()}),
        requested_by: caller.actor(),
        requested_at: crate::pages::chrono_now(),
    };
    let lookup = agent_id.clone();
    let result = with_store(&state, move |store| {
        let Some(agent) = store.agent(&lookup)? else { return Ok(None) };
        if agent.revoked_at.is_some() {
            return Ok(Some(false));
        }
        store.create_agent_command(&lookup, &command)?;
        crate::handlers::audit(store, &caller, &address, "agent.ips.unblock", &lookup, &format!("{} (command {})", blocked, command.id))?;
        Ok(Some(true))
    })
    .await;
    match result {
        Ok(Some(true)) => Json(json!({"command_id": command_id, "agent_id": agent_id, "address": blocked.to_string(), "status": "pending"})).into_response(),
        Ok(Some(false)) => crate::error::error(StatusCode::CONFLICT, format!("agent `{agent_id}` is retired: it receives no command")),
        Ok(None) => crate::error::error(StatusCode::NOT_FOUND, format!("no agent `{agent_id}`")),
        Err(response) => response,
    }
}

/// The agents block of an instance's resource page, with each agent's host posture.
pub fn instance_block(agents: &[(AgentRow, vigil_store::HostPosture)]) -> String {
    let mut body = String::from("<h2>Agent</h2>");
    if agents.is_empty() {
        body.push_str(
            "<p id=\"no-agent\" class=\"notice\">No vigil agent: run <code>vigil-agent --server URL --state /var/lib/vigil-agent</code> on the instance (zero-touch enrolment). Without one, its host posture (configuration, vulnerabilities, patch state, secrets) is not assessed.</p>",
        );
    } else {
        let rows: Vec<AgentRow> = agents.iter().map(|(agent, _)| agent.clone()).collect();
        body.push_str(&agents_table(&rows));
        for (agent, posture) in agents {
            body.push_str(&crate::host_views::host_posture(agent, posture));
        }
    }
    body
}

/// The instance id in an EC2 instance ARN.
pub fn instance_id_of(arn: &str) -> Option<&str> {
    arn.split(":instance/").nth(1).filter(|id| id.starts_with("i-"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn instance_ids_come_from_instance_arns_only() {
        assert_eq!(super::instance_id_of("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"), Some("i-0abc"));
        assert_eq!(super::instance_id_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn values_from_agents_are_escaped() {
        let agent = vigil_store::agents::AgentRow {
            agent_id: "agt-1".into(),
            instance_id: None,
            account: None,
            region: None,
            status: vigil_fleet::Status::Online,
            last_seen: None,
            hostname: "<script>alert(1)</script>".into(),
            agent_version: "1".into(),
            enrolled_at: "t".into(),
            enrolled_by: "token:x".into(),
            status_since: "t".into(),
            revoked_at: None,
            revoked_reason: None,
            policy_etag: None,
            last_seq: 0,
            instance_arn: None,
            instance_state: None,
            modules: serde_json::json!([{ "module": "<b>", "state": "ok\"" }]),
            queue: serde_json::json!({}),
        };
        let table = super::agents_table(&[agent]);
        assert!(!table.contains("<script>") && !table.contains("<b>") && !table.contains("ok\""), "{table}");
    }
}
