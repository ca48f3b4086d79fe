//! The console's pages: dashboard, findings (and one finding), resources (and one resource),
//! exposure, identities, activity, and scans with what changed between them. Each reads the
//! store on a blocking thread and renders HTML on the server.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use vigil_store::Analysis;

use crate::AppState;
use crate::auth::Caller;
use crate::charts;
use crate::handlers::with_store;
use crate::pages::{escape, link, page};

type Shared = State<Arc<AppState>>;
type Params = Query<HashMap<String, String>>;

fn get<'a>(query: &'a HashMap<String, String>, key: &str) -> &'a str {
    query.get(key).map(String::as_str).unwrap_or_default()
}

/// A JSON value as short text for a table cell.
fn show(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

/// A JSON list field (`body[key]`) as comma-separated text.
fn joined(body: &Value, key: &str) -> String {
    body[key].as_array().into_iter().flatten().map(show).collect::<Vec<_>>().join(", ")
}

/// An escalation path's steps as an ordered list.
fn steps_list(path: &Value) -> String {
    let mut html = String::from("<ol>");
    for step in path["steps"].as_array().into_iter().flatten() {
        let _ =
            write!(html, "<li><code>{}</code> on {} → {}</li>", escape(&show(&step["method"])), escape(&show(&step["resource"])), escape(&show(&step["to"])));
    }
    html.push_str("</ol>");
    html
}

/// One changed field: its path, the value before and after (`(none)` when absent).
fn change_item(path: &str, before: Option<&Value>, after: Option<&Value>) -> String {
    let value = |value: Option<&Value>| value.filter(|value| !value.is_null()).map(Value::to_string).unwrap_or_else(|| "(none)".to_string());
    format!(
        "<li><code>{}</code>: <span class=\"removed\">{}</span> → <span class=\"added\">{}</span></li>",
        escape(path),
        escape(&value(before)),
        escape(&value(after))
    )
}

/// Closes a table, saying so when it had no row.
fn end_table(body: &mut String, rows: usize) {
    body.push_str("</tbody></table>");
    if rows == 0 {
        body.push_str("<p class=\"muted\">None.</p>");
    }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, message.to_string()).into_response()
}

fn resource_link(arn: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(&link("/resource", &[("arn", arn)])), escape(arn))
}

fn select(name: &str, label: &str, options: &[(String, i64)], chosen: &str) -> String {
    let mut html = format!("<select name=\"{name}\" aria-label=\"{label}\"><option value=\"\">any {label}</option>");
    for (value, count) in options {
        let selected = if value == chosen { " selected" } else { "" };
        let _ = write!(html, "<option value=\"{}\"{selected}>{} ({count})</option>", escape(value), escape(value));
    }
    html.push_str("</select>");
    html
}

fn fixed_select(name: &str, label: &str, options: &[&str], chosen: &str) -> String {
    let counted: Vec<(String, i64)> = options.iter().map(|option| (option.to_string(), 0)).collect();
    select(name, label, &counted, chosen).replace(" (0)", "")
}

pub async fn dashboard(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let result = with_store(&state, |store| Ok((store.dashboard()?, store.analysis_count("exposure")?, store.analysis_count("admin")?))).await;
    let (dashboard, exposed, admins) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let failing: i64 = dashboard.failing_by_severity.iter().map(|(_, count)| count).sum();
    let resources: i64 = dashboard.resources_by_type.iter().map(|(_, count)| count).sum();
    let mut body = format!(
        "<h1>Posture</h1><div class=\"grid\">\
         <div class=\"card\"><div class=\"big\" id=\"failing-count\">{failing}</div><a href=\"/findings?failing=1\">failing findings (FAIL or ERROR, not muted)</a></div>\
         <div class=\"card\"><div class=\"big\">{resources}</div><a href=\"/resources\">live resources</a></div>\
         <div class=\"card\"><div class=\"big\">{exposed}</div><a href=\"/exposure\">resources reachable from the internet</a></div>\
         <div class=\"card\"><div class=\"big\">{admins}</div><a href=\"/identities\">admin-equivalent principals</a></div></div><div class=\"grid\">"
    );
    let by = |key: &'static str| move |value: &str| Some(link("/findings", &[("failing", "1"), (key, value)]));
    body.push_str(&charts::bars("Failing findings by severity", &dashboard.failing_by_severity, by("severity")));
    body.push_str(&charts::bars("By service", &dashboard.failing_by_service.iter().take(12).cloned().collect::<Vec<_>>(), by("service")));
    body.push_str(&charts::bars("By account", &dashboard.failing_by_account.iter().take(12).cloned().collect::<Vec<_>>(), by("account_id")));
    body.push_str(&charts::bars("By region", &dashboard.failing_by_region.iter().take(12).cloned().collect::<Vec<_>>(), by("region")));
    let scans: Vec<i64> = dashboard.trend.iter().map(|(id, _, _)| *id).collect();
    let series = |status: &'static str| (status, dashboard.trend.iter().map(|(_, _, by_status)| by_status[status].as_i64().unwrap_or(0)).collect::<Vec<i64>>());
    body.push_str(&charts::trend("Findings over the last scans", &scans, &[series("FAIL"), series("ERROR"), series("PASS")]));
    body.push_str(
        "</div><h2>Compliance per framework</h2><table><thead><tr><th>Framework</th><th>Score</th><th>Requirements</th><th>By status</th></tr></thead><tbody>",
    );
    for framework in &dashboard.compliance {
        let count = |status: &str| framework.by_status.get(status).copied().unwrap_or(0);
        let parts: Vec<(&str, usize)> =
            ["PASS", "FAIL", "ERROR", "NO_RESOURCES", "MANUAL", "NOT_COVERED"].iter().map(|status| (*status, count(status))).collect();
        let detail: Vec<String> = parts.iter().filter(|(_, count)| *count > 0).map(|(status, count)| format!("{count} {}", status.to_lowercase())).collect();
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{} <span class=\"muted\">{}</span></td></tr>",
            escape(&link("/compliance", &[("framework", &framework.framework)])),
            escape(&framework.name),
            framework.score.map(|score| format!("{score:.0}%")).unwrap_or_else(|| "-".to_string()),
            framework.requirements,
            charts::stacked(&parts),
            escape(&detail.join(", "))
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&charts::bars("Live resources by type", &dashboard.resources_by_type.iter().take(15).cloned().collect::<Vec<_>>(), |kind| {
        Some(link("/resources", &[("resource_type", kind)]))
    }));
    page("Dashboard", Some(&caller), &body).into_response()
}

pub async fn compliance(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let Some(framework) = vigil_checks::frameworks::find(get(&query, "framework")) else {
        return bad_request("unknown framework");
    };
    let counts = match with_store(&state, |store| store.check_counts()).await {
        Ok(counts) => counts,
        Err(response) => return response,
    };
    let rows = vigil_checks::frameworks::summarize_counts(framework, |check| counts.get(check).copied().unwrap_or_default());
    let mut body = format!(
        "<h1>{}</h1><table><thead><tr><th>Requirement</th><th>Title</th><th>Status</th><th>Pass</th><th>Fail</th><th>Error</th><th>Muted</th><th>Checks</th></tr></thead><tbody>",
        escape(framework.name)
    );
    for row in &rows {
        let checks: Vec<String> =
            row.checks.iter().map(|check| format!("<a href=\"{}\">{}</a>", escape(&link("/findings", &[("check_id", check)])), escape(check))).collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(row.requirement),
            escape(row.title),
            if row.fail > 0 { "high" } else { "" },
            row.status.as_str(),
            row.pass,
            row.fail,
            row.error,
            row.muted,
            checks.join(" ")
        );
    }
    body.push_str("</tbody></table>");
    page(framework.name, Some(&caller), &body).into_response()
}

const FINDING_FILTERS: &[&str] =
    &["severity", "status", "lifecycle", "check_id", "service", "account_id", "region", "resource_arn", "q", "sort", "group", "failing"];

pub async fn findings(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let mut filter = crate::handlers::finding_filter(&query);
    // `failing=1` (the dashboard's links): new or open findings, as the dashboard counts them.
    filter.failing = get(&query, "failing") == "1";
    let after = get(&query, "after").parse().unwrap_or(0);
    let group = get(&query, "group").to_string();
    let grouped = group.clone();
    let result = with_store(&state, move |store| {
        let groups = if grouped.is_empty() { Vec::new() } else { store.finding_groups_filtered(&grouped, &filter)? };
        Ok((store.findings_page(&filter, after, 200)?, store.facets()?, store.finding_groups("service", false)?, groups))
    })
    .await;
    let (page_of, facets, services, groups) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Findings</h1><form class=\"filters\" method=\"get\" action=\"/findings\" id=\"finding-filters\">");
    let _ = write!(body, "<input name=\"q\" placeholder=\"search check or resource\" value=\"{}\">", escape(get(&query, "q")));
    body.push_str(&fixed_select("severity", "severity", &["critical", "high", "medium", "low", "informational"], get(&query, "severity")));
    body.push_str(&fixed_select("status", "status", &["FAIL", "ERROR", "PASS", "MUTED"], get(&query, "status")));
    body.push_str(&fixed_select("lifecycle", "lifecycle", &["new", "open", "muted", "resolved", "passing"], get(&query, "lifecycle")));
    body.push_str(&select("service", "service", &services, get(&query, "service")));
    body.push_str(&select("account_id", "account", &facets.account_id, get(&query, "account_id")));
    body.push_str(&select("region", "region", &facets.region, get(&query, "region")));
    body.push_str(&fixed_select("sort", "order", &["severity", "check", "resource", "newest"], get(&query, "sort")));
    body.push_str(&fixed_select("group", "grouping", vigil_store::query::GROUPS, &group));
    if !get(&query, "check_id").is_empty() {
        let _ = write!(body, "<input type=\"hidden\" name=\"check_id\" value=\"{}\">", escape(get(&query, "check_id")));
    }
    body.push_str("<button type=\"submit\">Filter</button> <a href=\"/findings\">clear</a></form>");
    if !group.is_empty() {
        let _ = write!(body, "<h2>Failing findings by {}</h2><table id=\"groups\"><tbody>", escape(&group));
        for (value, count) in &groups {
            let _ = write!(
                body,
                "<tr><td><a href=\"{}\">{}</a></td><td>{count}</td></tr>",
                escape(&link("/findings", &[(&group, value), ("failing", "1")])),
                escape(value)
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(
        "<table id=\"findings\"><thead><tr><th>Severity</th><th>Status</th><th>Lifecycle</th><th>Check</th><th>Resource</th><th>Region</th><th>Message</th></tr></thead><tbody>",
    );
    for finding in &page_of.items {
        let message = finding.detail["message"].as_str().unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td><a href=\"/finding?id={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&finding.status),
            escape(&finding.lifecycle),
            finding.id,
            escape(&finding.check_id),
            resource_link(&finding.resource_arn),
            escape(&finding.region),
            escape(message),
            sev = escape(&finding.severity)
        );
    }
    end_table(&mut body, page_of.items.len());
    if let Some(next) = page_of.next {
        let next = next.to_string();
        let mut pairs: Vec<(&str, &str)> = FINDING_FILTERS.iter().map(|key| (*key, get(&query, key))).collect();
        pairs.push(("after", &next));
        let _ = write!(body, "<p class=\"pager\"><a href=\"{}\">Next page</a></p>", escape(&link("/findings", &pairs)));
    }
    page("Findings", Some(&caller), &body).into_response()
}

pub async fn finding(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let Ok(id) = get(&query, "id").parse::<i64>() else { return bad_request("`id` must be a finding id") };
    let finding = match with_store(&state, move |store| store.finding(id)).await {
        Ok(Some(finding)) => finding,
        Ok(None) => return (StatusCode::NOT_FOUND, format!("no finding {id}")).into_response(),
        Err(response) => return response,
    };
    let detail = &finding.detail;
    let mut body = format!(
        "<h1>{}</h1><table><tbody><tr><th>Check</th><td><code>{}</code></td></tr><tr><th>Severity</th><td class=\"{sev}\">{sev}</td></tr>\
         <tr><th>Status</th><td id=\"finding-status\">{} ({})</td></tr><tr><th>Resource</th><td>{}</td></tr><tr><th>Account / region</th><td>{} / {}</td></tr>\
         <tr><th>First seen</th><td>{}</td></tr><tr><th>Message</th><td>{}</td></tr></tbody></table>",
        escape(detail["check_title"].as_str().unwrap_or(&finding.check_id)),
        escape(&finding.check_id),
        escape(&finding.status),
        escape(&finding.lifecycle),
        resource_link(&finding.resource_arn),
        escape(&finding.account_id),
        escape(&finding.region),
        escape(&finding.first_seen_at),
        escape(detail["message"].as_str().unwrap_or_default()),
        sev = escape(&finding.severity)
    );
    let evidence = serde_json::to_string_pretty(&detail["evidence"]).unwrap_or_default();
    let _ = write!(body, "<h2>Evidence</h2><pre id=\"evidence\">{}</pre>", escape(&evidence));
    if let Some(metadata) = vigil_checks::find(&finding.check_id).map(|check| check.metadata()) {
        let _ = write!(body, "<h2>Risk</h2><p>{}</p><h2>Remediation</h2><p>{}</p>", escape(metadata.risk), escape(metadata.remediation.text));
        if !metadata.remediation.cli.is_empty() {
            let _ = write!(body, "<pre>{}</pre>", escape(metadata.remediation.cli));
        }
        if !metadata.remediation.terraform.is_empty() {
            let _ = write!(body, "<details><summary>Terraform</summary><pre>{}</pre></details>", escape(metadata.remediation.terraform));
        }
        if !metadata.frameworks.is_empty() {
            let mapped: Vec<String> =
                metadata.frameworks.iter().map(|(framework, requirement)| format!("{} {}", escape(framework), escape(requirement))).collect();
            let _ = write!(body, "<p>Frameworks: {}</p>", mapped.join(", "));
        }
        for reference in metadata.references {
            let _ = write!(body, "<p class=\"muted\">Reference: {}</p>", escape(reference));
        }
    }
    body.push_str("<h2>Mute</h2>");
    match &finding.user_mute_reason {
        Some(reason) => {
            let _ = write!(
                body,
                "<p>Muted{}: <q id=\"mute-reason\">{}</q></p><form data-action=\"/api/findings/{}/unmute\" id=\"unmute\"><button type=\"submit\">Unmute</button><span id=\"mute-status\"></span></form>",
                finding.user_muted_at.as_deref().map(|at| format!(" at {}", escape(at))).unwrap_or_default(),
                escape(reason),
                finding.id
            );
        }
        None => {
            let _ = write!(
                body,
                "<form data-action=\"/api/findings/{}/mute\" id=\"mute\"><label>Reason <input name=\"reason\" required size=\"50\"></label> <button type=\"submit\">Mute</button><span id=\"mute-status\"></span></form>",
                finding.id
            );
        }
    }
    page(&finding.check_id, Some(&caller), &body).into_response()
}

pub async fn resources(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let filter = crate::handlers::resource_filter(&query);
    let after = get(&query, "after").parse().unwrap_or(0);
    let (page_of, facets) = match with_store(&state, move |store| Ok((store.resources_page(&filter, after, 200)?, store.facets()?))).await {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Resources</h1><form class=\"filters\" method=\"get\" action=\"/resources\" id=\"resource-filters\">");
    let _ = write!(body, "<input name=\"q\" placeholder=\"search ARN\" value=\"{}\">", escape(get(&query, "q")));
    body.push_str(&select("resource_type", "type", &facets.resource_type, get(&query, "resource_type")));
    body.push_str(&select("account_id", "account", &facets.account_id, get(&query, "account_id")));
    body.push_str(&select("region", "region", &facets.region, get(&query, "region")));
    body.push_str(&fixed_select("state", "state", &["active", "stopped", "terminated", "deleted"], get(&query, "state")));
    let _ = write!(body, "<input name=\"tag\" placeholder=\"tag KEY or KEY=VALUE\" value=\"{}\">", escape(get(&query, "tag")));
    body.push_str("<button type=\"submit\">Filter</button> <a href=\"/resources\">clear</a></form>");
    body.push_str(
        "<table id=\"resources\"><thead><tr><th>Resource</th><th>Type</th><th>Account</th><th>Region</th><th>State</th><th>Tags</th></tr></thead><tbody>",
    );
    for item in &page_of.items {
        let tags: Vec<String> =
            item.tags.as_object().map(|tags| tags.iter().map(|(key, value)| format!("{key}={}", show(value))).collect()).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            resource_link(&item.arn),
            escape(&item.resource_type),
            escape(&item.account_id),
            escape(&item.region),
            escape(&item.state),
            escape(&tags.join(", "))
        );
    }
    end_table(&mut body, page_of.items.len());
    if let Some(next) = page_of.next {
        let next = next.to_string();
        let mut pairs: Vec<(&str, &str)> = ["q", "resource_type", "account_id", "region", "state", "tag"].iter().map(|key| (*key, get(&query, key))).collect();
        pairs.push(("after", &next));
        let _ = write!(body, "<p class=\"pager\"><a href=\"{}\">Next page</a></p>", escape(&link("/resources", &pairs)));
    }
    page("Resources", Some(&caller), &body).into_response()
}

/// An exposure row's path, hop by hop.
fn path_list(row: &Value) -> String {
    let mut html = String::from("<ol class=\"path\">");
    for hop in row["path"].as_array().into_iter().flatten() {
        let allowed = hop["allowed"].as_bool().unwrap_or(true);
        let _ = write!(
            html,
            "<li class=\"{}\">{} <code>{}</code> {}</li>",
            if allowed { "hop-ok" } else { "hop-drop" },
            escape(&show(&hop["kind"])),
            escape(&show(&hop["id"])),
            escape(&show(&hop["detail"]))
        );
    }
    html.push_str("</ol>");
    html
}

fn ports(row: &Value) -> String {
    let ranges: Vec<String> = row["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|range| match (range[0].as_i64(), range[1].as_i64()) {
            (Some(from), Some(to)) if from == to => from.to_string(),
            (Some(from), Some(to)) => format!("{from}-{to}"),
            _ => show(range),
        })
        .collect();
    ranges.join(",")
}

fn exposure_table(rows: &[Analysis]) -> String {
    let mut body = String::from(
        "<table class=\"exposure\"><thead><tr><th>Resource</th><th>Address</th><th>Protocol</th><th>Ports</th><th>Sources</th><th>Via</th><th>Path</th></tr></thead><tbody>",
    );
    for row in rows {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            resource_link(&row.subject),
            escape(&show(&row.body["address"])),
            escape(&show(&row.body["protocol"])),
            escape(&ports(&row.body)),
            escape(&joined(&row.body, "sources")),
            escape(&show(&row.body["via"])),
            path_list(&row.body)
        );
    }
    body.push_str("</tbody></table>");
    body
}

pub async fn exposure(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let (scan, rows) = match with_store(&state, |store| Ok((store.analysed_scan()?, store.analyses("exposure")?))).await {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Internet exposure</h1>");
    match scan {
        None => body.push_str("<p class=\"notice\">No stored scan has exposure results yet: run <code>vigil scan</code>.</p>"),
        Some(scan) => {
            let resources: std::collections::BTreeSet<&str> = rows.iter().map(|row| row.subject.as_str()).collect();
            let _ = write!(
                body,
                "<p>Scan #{scan}: {} resource(s) reachable from the internet, in {} row(s) of protocol, ports and sources; each path shows the hops for the first port.</p>",
                resources.len(),
                rows.len()
            );
            body.push_str(&exposure_table(&rows));
        }
    }
    page("Exposure", Some(&caller), &body).into_response()
}

pub async fn identities(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let result =
        with_store(&state, |store| Ok((store.analysed_scan()?, store.analyses("admin")?, store.analyses("escalation")?, store.analyses("external")?))).await;
    let (scan, admins, paths, external) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Identities</h1>");
    if scan.is_none() {
        body.push_str("<p class=\"notice\">No stored scan has IAM results yet: run <code>vigil scan</code>.</p>");
    }
    let _ = write!(
        body,
        "<h2>Admin-equivalent principals ({})</h2><table id=\"admins\"><thead><tr><th>Principal</th><th>Why</th><th>How</th></tr></thead><tbody>",
        admins.len()
    );
    for admin in &admins {
        let how = match admin.body.get("step") {
            Some(step) => format!("{} on {}", show(&step["method"]), show(&step["resource"])),
            None => "allowed everything".to_string(),
        };
        let _ = write!(body, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", resource_link(&admin.subject), escape(&show(&admin.body["reason"])), escape(&how));
    }
    end_table(&mut body, admins.len());
    let _ = write!(
        body,
        "<h2>Escalation paths ({})</h2><table id=\"escalation\"><thead><tr><th>Principal</th><th>Becomes</th><th>Steps</th></tr></thead><tbody>",
        paths.len()
    );
    for path in &paths {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            resource_link(&path.subject),
            escape(&show(&path.body["admin"])),
            steps_list(&path.body)
        );
    }
    end_table(&mut body, paths.len());
    let _ = write!(
        body,
        "<h2>Access from outside the account ({})</h2><table id=\"external\"><thead><tr><th>Resource</th><th>Exposure</th><th>To</th><th>Actions</th><th>Narrowed by</th></tr></thead><tbody>",
        external.len()
    );
    for grant in &external {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            resource_link(&grant.subject),
            escape(&show(&grant.body["exposure"])),
            escape(&joined(&grant.body, "principals")),
            escape(&joined(&grant.body, "actions")),
            escape(&joined(&grant.body, "narrowed_by"))
        );
    }
    end_table(&mut body, external.len());
    page("Identities", Some(&caller), &body).into_response()
}

pub async fn activity(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let level = get(&query, "level").to_string();
    let before = get(&query, "before").parse().unwrap_or(0);
    let chosen = level.clone();
    let alerts = match with_store(&state, move |store| store.alerts_page((!chosen.is_empty()).then_some(chosen.as_str()), None, before, 200)).await {
        Ok(alerts) => alerts,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Activity</h1><form class=\"filters\" method=\"get\" action=\"/activity\">");
    body.push_str(&fixed_select("level", "level", &["critical", "high", "medium", "low", "informational"], &level));
    body.push_str("<button type=\"submit\">Filter</button></form>");
    if alerts.items.is_empty() {
        body.push_str("<p class=\"notice\">No alert stored: <code>vigil trail hunt --record</code> stores CloudTrail detections here.</p>");
    }
    body.push_str(
        "<table id=\"alerts\"><thead><tr><th>Event time</th><th>Level</th><th>Rule</th><th>Event</th><th>Account</th><th>The event</th></tr></thead><tbody>",
    );
    for alert in &alerts.items {
        let event = serde_json::to_string_pretty(alert.detail.get("event").unwrap_or(&alert.detail)).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"{lvl}\">{lvl}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>{}</summary><pre>{}</pre></details></td></tr>",
            escape(&alert.event_time),
            escape(&alert.rule_title),
            escape(&alert.event_name),
            escape(alert.account_id.as_deref().unwrap_or("-")),
            escape(&alert.event_id),
            escape(&event),
            lvl = escape(&alert.level)
        );
    }
    body.push_str("</tbody></table>");
    if let Some(next) = alerts.next {
        let next = next.to_string();
        let _ = write!(body, "<p class=\"pager\"><a href=\"{}\">Older</a></p>", escape(&link("/activity", &[("level", &level), ("before", &next)])));
    }
    page("Activity", Some(&caller), &body).into_response()
}

pub async fn resource(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let arn = get(&query, "arn").to_string();
    if arn.is_empty() {
        return bad_request("`arn` is required");
    }
    let lookup = arn.clone();
    let result = with_store(&state, move |store| {
        Ok((
            store.history(&lookup)?,
            store.findings(Some(&lookup), &[])?,
            store.analyses_about(&lookup)?,
            store.analysis_count("admin")?,
            store.analyses("access-skipped")?,
            match crate::agent_views::instance_id_of(&lookup) {
                Some(instance_id) => Some(store.agents_of_instance(instance_id)?),
                None => None,
            },
        ))
    })
    .await;
    let (versions, findings, analyses, admins, skipped, agents) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = format!("<h1 id=\"resource-arn\">{}</h1>", escape(&arn));
    if let Some(latest) = versions.last() {
        let _ =
            write!(body, "<p>State: <strong>{}</strong>, version {}, last observed {}</p>", escape(&latest.state), latest.version, escape(&latest.observed_at));
        if let Value::Object(tags) = &latest.tags {
            body.push_str("<h2>Tags</h2><table id=\"tags\"><tbody>");
            for (key, value) in tags {
                let _ = write!(body, "<tr><td>{}</td><td>{}</td></tr>", escape(key), escape(&show(value)));
            }
            body.push_str("</tbody></table>");
        }
    }
    if let Some(agents) = &agents {
        body.push_str(&crate::agent_views::instance_block(agents));
    }
    body.push_str("<h2>Findings</h2><table id=\"resource-findings\"><tbody>");
    for finding in &findings {
        let _ = write!(
            body,
            "<tr><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td><a href=\"/finding?id={}\">{}</a></td><td>{}</td></tr>",
            escape(&finding.status),
            escape(&finding.lifecycle),
            finding.id,
            escape(&finding.check_id),
            escape(finding.detail["message"].as_str().unwrap_or_default()),
            sev = escape(&finding.severity)
        );
    }
    body.push_str("</tbody></table>");
    let of_kind = |kind: &str| analyses.iter().filter(|row| row.kind == kind).cloned().collect::<Vec<Analysis>>();
    let exposures = of_kind("exposure");
    body.push_str("<h2>Internet exposure</h2>");
    if exposures.is_empty() {
        body.push_str("<p id=\"no-exposure\">No path from the internet reaches it (as of the latest analysed scan).</p>");
    } else {
        body.push_str(&exposure_table(&exposures));
    }
    body.push_str("<h2>Who can access it</h2>");
    for row in of_kind("access") {
        let principals = row.body["principals"].as_array().cloned().unwrap_or_default();
        let _ = write!(
            body,
            "<p>{} principal(s) of the account are allowed <code>{}</code> on <code>{}</code>:</p><table id=\"access\"><tbody>",
            principals.len(),
            escape(&show(&row.body["action"])),
            escape(&show(&row.body["resource"]))
        );
        for principal in &principals {
            let by = joined(principal, "allowed_by");
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                resource_link(&show(&principal["principal"])),
                escape(&show(&principal["kind"])),
                escape(&by)
            );
        }
        body.push_str("</tbody></table>");
    }
    for note in &skipped {
        let _ = write!(body, "<p class=\"notice\">Who-can-access was not computed: {}</p>", escape(&show(&note.body["reason"])));
    }
    for grant in of_kind("external") {
        let _ = write!(
            body,
            "<p class=\"notice\">From outside the account ({}): {} may {}{}</p>",
            escape(&show(&grant.body["exposure"])),
            escape(&joined(&grant.body, "principals")),
            escape(&joined(&grant.body, "actions")),
            escape(&if grant.body["narrowed_by"].as_array().is_some_and(|list| !list.is_empty()) {
                format!(", narrowed by {}", joined(&grant.body, "narrowed_by"))
            } else {
                String::new()
            })
        );
    }
    if admins > 0 {
        let _ = write!(body, "<p class=\"muted\">And the <a href=\"/identities\">{admins} admin-equivalent principal(s)</a>, who can do anything.</p>");
    }
    for admin in of_kind("admin") {
        let how = admin.body.get("step").map(|step| format!(" by {} on {}", show(&step["method"]), show(&step["resource"]))).unwrap_or_default();
        let _ =
            write!(body, "<p class=\"notice\" id=\"admin\">This principal is admin-equivalent ({}){}.</p>", escape(&show(&admin.body["reason"])), escape(&how));
    }
    for path in of_kind("escalation") {
        let _ = write!(body, "<p class=\"notice\">This principal can escalate to {}:</p>{}", escape(&show(&path.body["admin"])), steps_list(&path.body));
    }
    if let Some(latest) = versions.last() {
        let config = latest.config.as_ref().map(|config| serde_json::to_string_pretty(config).unwrap_or_default()).unwrap_or_default();
        let _ = write!(body, "<h2>Configuration</h2><pre id=\"configuration\">{}</pre>", escape(&config));
    }
    body.push_str("<h2>History</h2><div id=\"history\">");
    for version in versions.iter().rev() {
        let _ = write!(
            body,
            "<h3>Version {} <span class=\"muted\">(scan #{}, {}, {})</span></h3><ul>",
            version.version,
            version.scan_id,
            escape(&version.observed_at),
            escape(&version.state)
        );
        for change in &version.changes {
            body.push_str(&change_item(&change.path, change.before.as_ref(), change.after.as_ref()));
        }
        if version.changes.is_empty() && version.version == 1 {
            body.push_str("<li>first seen</li>");
        }
        body.push_str("</ul>");
    }
    body.push_str("</div>");
    page(&arn, Some(&caller), &body).into_response()
}

pub async fn scans(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let parse = |key: &str| get(&query, key).parse::<i64>().ok();
    let (from, to) = (parse("from"), parse("to"));
    let result = with_store(&state, move |store| {
        let scans = store.scans()?;
        let pair = match (from, to) {
            (Some(from), Some(to)) => Some((from, to)),
            _ => store.last_two_scans()?,
        };
        let diff = pair.map(|(from, to)| store.diff(from, to)).transpose()?;
        Ok((scans, diff))
    })
    .await;
    let (scans, diff) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Scans</h1>");
    if let Some(diff) = &diff {
        let diff = serde_json::to_value(diff).unwrap_or(Value::Null);
        let _ = write!(body, "<h2 id=\"changes\">Changes from scan #{} to #{}</h2>", show(&diff["from"]), show(&diff["to"]));
        for (key, title) in [("added", "Added"), ("removed", "Removed"), ("changed", "Changed")] {
            let list = diff[key].as_array().cloned().unwrap_or_default();
            let _ = write!(body, "<h3>{title} ({})</h3><ul>", list.len());
            for entry in &list {
                let arn = entry["arn"].as_str().unwrap_or_default();
                let _ = write!(body, "<li>{}", resource_link(arn));
                if entry["state_before"] != entry["state_after"] && key == "changed" {
                    let _ = write!(body, " <span class=\"muted\">{} → {}</span>", escape(&show(&entry["state_before"])), escape(&show(&entry["state_after"])));
                }
                let changes = entry["fields"].as_array().cloned().unwrap_or_default();
                if !changes.is_empty() {
                    body.push_str("<ul>");
                    for change in &changes {
                        body.push_str(&change_item(&show(&change["path"]), change.get("before"), change.get("after")));
                    }
                    body.push_str("</ul>");
                }
                body.push_str("</li>");
            }
            body.push_str("</ul>");
        }
        for (key, title) in [("new_findings", "Findings now failing"), ("fixed_findings", "Findings fixed")] {
            let list = diff[key].as_array().cloned().unwrap_or_default();
            let _ = write!(body, "<h3>{title} ({})</h3><ul>", list.len());
            for entry in &list {
                let _ = write!(
                    body,
                    "<li><code>{}</code> on {}</li>",
                    escape(&show(&entry["check_id"])),
                    resource_link(entry["resource_arn"].as_str().unwrap_or_default())
                );
            }
            body.push_str("</ul>");
        }
    } else {
        body.push_str("<p class=\"muted\">Two scans are needed to show what changed.</p>");
    }
    body.push_str("<h2>Every scan</h2><table id=\"scans\"><thead><tr><th>Scan</th><th>Kind</th><th>Finished</th><th>Source</th><th>Resources</th><th>Compare</th></tr></thead><tbody>");
    for (index, scan) in scans.iter().enumerate() {
        let scan = serde_json::to_value(scan).unwrap_or(Value::Null);
        let id = scan["id"].as_i64().unwrap_or_default();
        let previous = scans.get(index + 1).and_then(|older| serde_json::to_value(older).ok()).and_then(|older| older["id"].as_i64());
        let compare = previous.map(|previous| format!("<a href=\"/scans?from={previous}&amp;to={id}\">changes since #{previous}</a>")).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>#{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{compare}</td></tr>",
            escape(&show(&scan["kind"])),
            escape(&show(&scan["finished_at"])),
            escape(&show(&scan["source"])),
            escape(&show(&scan["resource_count"]))
        );
    }
    body.push_str("</tbody></table>");
    page("Scans", Some(&caller), &body).into_response()
}
