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
use vigil_model::analysis::{Admin, AttackPath, EscalationPath, Exposure, ExternalAccess, Step};

use axum::routing::on;

use crate::AppState;
use crate::auth::Caller;
use crate::charts;
use crate::handlers::{FINDING_FILTERS, FINDING_ID, FINDING_ORDER, FRAMEWORK, RESOURCE_ARN, RESOURCE_FILTERS, SCAN_PAIR, with_store};
use crate::pages::{check_label, escape, inline_code, link, page};
use crate::routes::{Access, Method, Param, Role, Route, query, query_int};

/// What the findings page reads beyond the filters and order: its grouping and cursor.
const FINDINGS_PAGE: &[Param] =
    &[query("group", "count the failing findings by check_id, service, severity, account_id or region"), query_int("after", "cursor")];
const RESOURCES_PAGE: &[Param] = &[query_int("after", "cursor")];
const ACTIVITY_PAGE: &[Param] = &[query("level", "filter"), query_int("before", "cursor: the `next` of the previous page")];

/// The pages.
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/",
        summary: "The dashboard page.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, dashboard),
    },
    Route {
        method: Method::Get,
        path: "/compliance",
        summary: "One framework's requirements (`framework`).",
        params: &[FRAMEWORK],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, compliance),
    },
    Route {
        method: Method::Get,
        path: "/findings",
        summary: "The findings page (same filters as the API, `sort`, `group`).",
        params: &[FINDING_FILTERS, FINDING_ORDER, FINDINGS_PAGE],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, findings),
    },
    Route {
        method: Method::Get,
        path: "/finding",
        summary: "One finding's page (`id`): evidence, remediation, the resource, mute.",
        params: &[FINDING_ID],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, finding),
    },
    Route {
        method: Method::Get,
        path: "/resources",
        summary: "The inventory browser (type, account, region, state, tag, search).",
        params: &[RESOURCE_FILTERS, RESOURCES_PAGE],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, resources),
    },
    Route {
        method: Method::Get,
        path: "/resource",
        summary: "One resource's page (`arn`).",
        params: &[RESOURCE_ARN],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, resource),
    },
    Route {
        method: Method::Get,
        path: "/exposure",
        summary: "The internet exposure page.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, exposure),
    },
    Route {
        method: Method::Get,
        path: "/identities",
        summary: "Admin-equivalent principals, escalation paths and access from outside.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, identities),
    },
    Route {
        method: Method::Get,
        path: "/paths",
        summary: "Attack paths from the internet to admin or sensitive data: the graph, each path's hops and the minimal cut.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, attack_paths),
    },
    Route {
        method: Method::Get,
        path: "/activity",
        summary: "CloudTrail detection alerts with their events.",
        params: &[ACTIVITY_PAGE],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, activity),
    },
    Route {
        method: Method::Get,
        path: "/scans",
        summary: "Every scan and what changed between two (`from`, `to`).",
        params: &[SCAN_PAIR],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, scans),
    },
    Route {
        method: Method::Get,
        path: "/fixes",
        summary: "Every fix applied to the account, its outcome, calls and undo (`id` for one).",
        params: &[&[query_int("id", "one fix's id")]],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, fixes),
    },
    Route {
        method: Method::Get,
        path: "/audit",
        summary: "The audit log page (admins only): who changed what, when and from where, newest first, and the users with their roles.",
        params: &[&[query_int("before", "cursor: the last entry's id of the previous page")]],
        access: Access::Read(Role::Admin),
        handler: |method| on(method, audit),
    },
];

/// Entries per page of the audit log.
const AUDIT_PAGE: usize = 200;

async fn audit(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let before = get(&query, "before").parse::<i64>().unwrap_or(0);
    let (entries, users) = match with_store(&state, move |store| Ok((store.audit(before, AUDIT_PAGE)?, store.users()?))).await {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from(
        "<h1>Audit log</h1><table id=\"audit\"><thead><tr><th>When</th><th>Who</th><th>What</th><th>On</th><th>Detail</th><th>From</th><th>Outcome</th></tr></thead><tbody>",
    );
    for entry in &entries {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&entry.at),
            escape(&entry.actor),
            escape(&entry.action),
            escape(&entry.target),
            escape(&entry.detail),
            escape(&entry.address),
            escape(&entry.outcome)
        );
    }
    end_table(&mut body, entries.len());
    if entries.len() == AUDIT_PAGE
        && let Some(last) = entries.last()
    {
        let _ = write!(body, "<p><a href=\"/audit?before={}\">Older</a></p>", last.id);
    }
    body.push_str("<h2>Users</h2><table id=\"users\"><thead><tr><th>Name</th><th>Role</th><th>State</th><th>Since</th></tr></thead><tbody>");
    for user in &users {
        let state = if user.disabled { "disabled" } else { "active" };
        let _ = write!(body, "<tr><td>{}</td><td>{}</td><td>{state}</td><td>{}</td></tr>", escape(&user.name), user.role.as_str(), escape(&user.created_at));
    }
    end_table(&mut body, users.len());
    page("Audit log", Some(&caller), &body).into_response()
}

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

/// An escalation path's steps as an ordered list.
fn steps_list(path: &EscalationPath) -> String {
    let mut html = String::from("<ol>");
    for step in &path.steps {
        let _ = write!(html, "<li><code>{}</code> on {} → {}</li>", escape(&step.method), escape(&step.resource), escape(&step.to));
    }
    html.push_str("</ol>");
    html
}

/// How an admin is admin: its self-grant step, if any.
fn admin_step(step: &Step) -> String {
    format!("{} on {}", step.method, step.resource)
}

/// Who may do what from outside, and what narrows it.
fn narrowed(grant: &ExternalAccess) -> String {
    if grant.narrowed_by.is_empty() { String::new() } else { format!(", narrowed by {}", grant.narrowed_by.join(", ")) }
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

/// The severity names, highest first (the one order: [`vigil_model::Severity::HIGHEST_FIRST`]).
fn severities() -> [&'static str; 5] {
    vigil_model::Severity::HIGHEST_FIRST.map(|severity| severity.as_str())
}

/// Sorts rows highest severity first (the store's rank, [`vigil_store::severity_rank`]); the
/// sort is stable, so rows of one severity keep their order.
fn by_severity<T>(rows: &mut [T], severity: impl Fn(&T) -> &str) {
    rows.sort_by_key(|row| vigil_store::severity_rank(severity(row)));
}

fn fixed_select(name: &str, label: &str, options: &[&str], chosen: &str) -> String {
    let counted: Vec<(String, i64)> = options.iter().map(|option| (option.to_string(), 0)).collect();
    select(name, label, &counted, chosen).replace(" (0)", "")
}

async fn dashboard(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let result = with_store(&state, |store| {
        let mut full_scans = store.latest_full_scans(2)?.into_iter();
        let (latest, previous) = (full_scans.next(), full_scans.next());
        let new_now = store.finding_groups("lifecycle", true)?.into_iter().find(|(lifecycle, _)| lifecycle == "new").map_or(0, |(_, count)| count);
        let exposed_findings = store.exposed_failing_findings(TOP_RISKS)?;
        Ok((
            store.dashboard()?,
            store.analysis_count::<Exposure>()?,
            store.analysis_count::<Admin>()?,
            exposed_findings,
            (latest, previous.map(|scan| scan.id), new_now),
        ))
    })
    .await;
    let (dashboard, exposed, admins, exposed_findings, (latest, previous, new_now)) = match result {
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
         <div class=\"card\"><div class=\"big\">{admins}</div><a href=\"/identities\">admin-equivalent principals</a></div></div>"
    );
    body.push_str(&top_risks(&exposed_findings, exposed));
    body.push_str(&since_previous_scan(latest.as_ref(), previous, new_now));
    body.push_str("<div class=\"grid\">");
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

/// How many top risks the dashboard lists.
const TOP_RISKS: usize = 10;

/// The dashboard's first section: what to fix first. Today one source: failing critical and
/// high findings on resources reachable from the internet (the exposure analysis). Attack
/// paths (issue 21's other half) are a second source: when the store holds them, their rows
/// join these, ranked the same way. Until then the section shows only what is stored.
fn top_risks(exposed_findings: &[vigil_store::query::FindingItem], exposed_resources: i64) -> String {
    let mut html = String::from("<h2 id=\"top-risks\">Top risks</h2>");
    if exposed_resources == 0 && exposed_findings.is_empty() {
        html.push_str("<p class=\"muted\">No resource is reachable from the internet in the latest analysed scan.</p>");
        return html;
    }
    if exposed_findings.is_empty() {
        let _ = write!(
            html,
            "<p class=\"muted\">No failing critical or high finding on the {exposed_resources} <a href=\"/exposure\">resource(s) reachable from the internet</a>.</p>"
        );
        return html;
    }
    let _ = write!(
        html,
        "<p>Failing critical and high findings on <a href=\"/exposure\">resources reachable from the internet</a>, critical first{}.</p>",
        if exposed_findings.len() >= TOP_RISKS { format!(" (the first {TOP_RISKS})") } else { String::new() }
    );
    html.push_str("<table id=\"top-risks-table\"><thead><tr><th>Severity</th><th>Check</th><th>Resource</th><th>Message</th></tr></thead><tbody>");
    for finding in exposed_findings {
        let _ = write!(
            html,
            "<tr><td class=\"{sev}\">{sev}</td><td><a href=\"/finding?id={}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            finding.id,
            check_label(&finding.check_id),
            resource_link(&finding.resource_arn),
            inline_code(finding.detail["message"].as_str().unwrap_or_default()),
            sev = escape(&finding.severity)
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// What the latest full scan changed since the one before it: the findings failing for the
/// first time (counted now, as the findings page they link to lists them), the findings it
/// fixed and the resources it added, changed and removed (from its summary).
fn since_previous_scan(latest: Option<&vigil_store::ScanRow>, previous: Option<i64>, new_now: i64) -> String {
    let Some(scan) = latest else {
        return "<h2 id=\"since-previous\">Since the previous scan</h2><p class=\"muted\">No scan stored yet: run <code>vigil scan</code>.</p>".to_string();
    };
    let changes = &scan.summary["changes"];
    let count = |key: &str| changes[key].as_i64().unwrap_or(0);
    let Some(previous) = previous else {
        return format!(
            "<h2 id=\"since-previous\">Since the previous scan</h2><p>Scan #{} is the first: <a href=\"/findings?lifecycle=new\">its {new_now} failing finding(s)</a> are all new. \
             The next scan will show what changed.</p>",
            scan.id
        );
    };
    format!(
        "<h2 id=\"since-previous\">Since the previous scan <span class=\"muted\">(#{previous} to #{id}, {at})</span></h2><ul>\
         <li><a href=\"/findings?lifecycle=new\" id=\"new-findings\">{new_now} finding(s) failing for the first time</a></li><li>{fixed} finding(s) fixed</li>\
         <li>{added} resource(s) added, {changed} changed, {deleted} removed</li></ul>\
         <p><a href=\"{compare}\">What changed, resource by resource</a> · <a href=\"/scans\">every scan</a></p>",
        id = scan.id,
        at = escape(&scan.finished_at),
        fixed = count("findings_resolved"),
        added = count("resources_added"),
        changed = count("resources_changed"),
        deleted = count("resources_deleted"),
        compare = escape(&format!("/scans?from={previous}&to={}", scan.id)),
    )
}

async fn compliance(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
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
            row.checks.iter().map(|check| format!("<a href=\"{}\">{}</a>", escape(&link("/findings", &[("check_id", check)])), check_label(check))).collect();
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
            checks.join("<br>")
        );
    }
    body.push_str("</tbody></table>");
    page(framework.name, Some(&caller), &body).into_response()
}

async fn findings(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let mut filter = crate::handlers::finding_filter(&query);
    // `failing=1` (the dashboard's links): new or open findings, as the dashboard counts them.
    filter.failing = get(&query, "failing") == "1";
    let after = get(&query, "after").parse().unwrap_or(0);
    let group = get(&query, "group").to_string();
    let grouped = group.clone();
    // The groups count the failing findings the page's filters select, and each group's link
    // opens exactly those (see `group_link`).
    let group_filter = vigil_store::query::FindingFilter { failing: true, ..filter.clone() };
    let result = with_store(&state, move |store| {
        let groups = if grouped.is_empty() { Vec::new() } else { store.finding_groups_filtered(&grouped, &group_filter)? };
        Ok((store.findings_page(&filter, after, 200)?, store.facets()?, store.finding_groups("service", false)?, groups))
    })
    .await;
    let (page_of, facets, services, groups) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Findings</h1><form class=\"filters\" method=\"get\" action=\"/findings\" id=\"finding-filters\">");
    let _ = write!(body, "<input name=\"q\" placeholder=\"search check or resource\" value=\"{}\">", escape(get(&query, "q")));
    body.push_str(&fixed_select("severity", "severity", &severities(), get(&query, "severity")));
    body.push_str(&fixed_select("status", "status", &["FAIL", "ERROR", "PASS", "MUTED"], get(&query, "status")));
    body.push_str(&fixed_select("lifecycle", "lifecycle", &["new", "open", "muted", "resolved", "passing"], get(&query, "lifecycle")));
    body.push_str(&select("service", "service", &services, get(&query, "service")));
    body.push_str(&select("account_id", "account", &facets.account_id, get(&query, "account_id")));
    body.push_str(&select("region", "region", &facets.region, get(&query, "region")));
    body.push_str(&fixed_select("sort", "order", &["severity", "check", "resource", "newest"], get(&query, "sort")));
    body.push_str(&fixed_select("group", "grouping", vigil_store::query::GROUPS, &group));
    // The filters the form has no field for ride along as hidden fields, so filtering again
    // keeps them (a check's findings opened from the compliance page, one resource's).
    for name in ["check_id", "resource_arn"] {
        if !get(&query, name).is_empty() {
            let _ = write!(body, "<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(get(&query, name)));
        }
    }
    let _ = write!(
        body,
        "<label><input type=\"checkbox\" name=\"failing\" value=\"1\"{}> failing only</label>",
        if get(&query, "failing") == "1" { " checked" } else { "" }
    );
    body.push_str("<button type=\"submit\">Filter</button> <a href=\"/findings\">clear</a></form>");
    if !group.is_empty() {
        let _ = write!(body, "<h2>Failing findings by {}</h2><table id=\"groups\"><tbody>", escape(&group));
        for (value, count) in &groups {
            let label = if group == "check_id" { check_label(value) } else { escape(value) };
            let _ = write!(body, "<tr><td><a href=\"{}\">{label}</a></td><td class=\"count\">{count}</td></tr>", escape(&group_link(&query, &group, value)));
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
            check_label(&finding.check_id),
            resource_link(&finding.resource_arn),
            escape(&finding.region),
            inline_code(message),
            sev = escape(&finding.severity)
        );
    }
    end_table(&mut body, page_of.items.len());
    if let Some(next) = page_of.next {
        let next = next.to_string();
        // The next page keeps every parameter of the page but its cursor.
        let kept = [FINDING_FILTERS, FINDING_ORDER, FINDINGS_PAGE].into_iter().flatten().filter(|param| param.name != "after");
        let mut pairs: Vec<(&str, &str)> = kept.map(|param| (param.name, get(&query, param.name))).collect();
        pairs.push(("after", &next));
        let _ = write!(body, "<p class=\"pager\"><a href=\"{}\">Next page</a></p>", escape(&link("/findings", &pairs)));
    }
    page("Findings", Some(&caller), &body).into_response()
}

/// The findings a group counts: the page's filters, the group's value, failing only (the
/// group counts are of failing findings), without the grouping and the cursor.
fn group_link(query: &HashMap<String, String>, group: &str, value: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = FINDING_FILTERS
        .iter()
        .chain(FINDING_ORDER)
        .filter(|param| param.name != group && param.name != "failing")
        .map(|param| (param.name, get(query, param.name)))
        .collect();
    pairs.push((group, value));
    pairs.push(("failing", "1"));
    link("/findings", &pairs)
}

async fn finding(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let Ok(id) = get(&query, "id").parse::<i64>() else { return bad_request("`id` must be a finding id") };
    let (finding, history) = match with_store(&state, move |store| Ok((store.finding(id)?, store.finding_history(id)?))).await {
        Ok((Some(finding), history)) => (finding, history),
        Ok((None, _)) => return crate::error::error(StatusCode::NOT_FOUND, format!("no finding {id}")),
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
        inline_code(detail["message"].as_str().unwrap_or_default()),
        sev = escape(&finding.severity)
    );
    let evidence = serde_json::to_string_pretty(&detail["evidence"]).unwrap_or_default();
    let _ = write!(body, "<h2>Evidence</h2><pre id=\"evidence\">{}</pre>", escape(&evidence));
    if let Some(metadata) = vigil_checks::find(&finding.check_id).map(|check| check.metadata()) {
        let _ = write!(body, "<h2>Risk</h2><p>{}</p><h2>Remediation</h2><p>{}</p>", inline_code(metadata.risk), inline_code(metadata.remediation.text));
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
    body.push_str("<h2>History</h2><table id=\"finding-history\"><thead><tr><th>Scan</th><th>When</th><th>Status</th><th>Lifecycle</th></tr></thead><tbody>");
    for change in history.iter().rev() {
        let _ = write!(
            body,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            change.scan_id,
            escape(&change.changed_at),
            escape(&change.status),
            escape(&change.lifecycle)
        );
    }
    end_table(&mut body, history.len());
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
                "<form data-action=\"/api/findings/{}/mute\" id=\"mute\"><label>Reason <input name=\"reason\" required size=\"50\" maxlength=\"{}\"></label> <button type=\"submit\">Mute</button><span id=\"mute-status\"></span></form>",
                finding.id,
                crate::handlers::MUTE_REASON_MAX
            );
        }
    }
    page(&finding.check_id, Some(&caller), &body).into_response()
}

async fn resources(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
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
        let mut pairs: Vec<(&str, &str)> = RESOURCE_FILTERS.iter().map(|param| (param.name, get(&query, param.name))).collect();
        pairs.push(("after", &next));
        let _ = write!(body, "<p class=\"pager\"><a href=\"{}\">Next page</a></p>", escape(&link("/resources", &pairs)));
    }
    page("Resources", Some(&caller), &body).into_response()
}

/// An exposure row's path, hop by hop.
fn path_list(row: &Exposure) -> String {
    let mut html = String::from("<ol class=\"path\">");
    for hop in &row.path {
        let _ = write!(
            html,
            "<li class=\"{}\">{} <code>{}</code> {}</li>",
            if hop.allowed { "hop-ok" } else { "hop-drop" },
            escape(&hop.kind),
            escape(&hop.id),
            escape(&hop.detail)
        );
    }
    html.push_str("</ol>");
    html
}

fn ports(row: &Exposure) -> String {
    let ranges: Vec<String> = row.ports.iter().map(|[from, to]| if from == to { from.to_string() } else { format!("{from}-{to}") }).collect();
    ranges.join(",")
}

/// Exposure rows, each with the resource (ARN) it is about.
fn exposure_table<'a>(rows: impl Iterator<Item = (&'a str, &'a Exposure)>) -> String {
    let mut body = String::from(
        "<table class=\"exposure\"><thead><tr><th>Resource</th><th>Address</th><th>Protocol</th><th>Ports</th><th>Sources</th><th>Via</th><th>Path</th></tr></thead><tbody>",
    );
    for (subject, row) in rows {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            resource_link(subject),
            escape(&row.address),
            escape(&row.protocol),
            escape(&ports(row)),
            escape(&row.sources.join(", ")),
            escape(&row.via),
            path_list(row)
        );
    }
    body.push_str("</tbody></table>");
    body
}

async fn exposure(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let (scan, rows) = match with_store(&state, |store| Ok((store.analysed_scan()?, store.analyses::<Exposure>()?))).await {
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
            body.push_str(&exposure_table(rows.iter().map(|row| (row.subject.as_str(), &row.result))));
        }
    }
    page("Exposure", Some(&caller), &body).into_response()
}

async fn identities(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let result = with_store(&state, |store| {
        Ok((store.analysed_scan()?, store.analyses::<Admin>()?, store.analyses::<EscalationPath>()?, store.analyses::<ExternalAccess>()?))
    })
    .await;
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
        let how = admin.result.step.as_ref().map(admin_step).unwrap_or_else(|| "allowed everything".to_string());
        let _ = write!(body, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", resource_link(&admin.subject), escape(&admin.result.reason), escape(&how));
    }
    end_table(&mut body, admins.len());
    let _ = write!(
        body,
        "<h2>Escalation paths ({})</h2><table id=\"escalation\"><thead><tr><th>Principal</th><th>Becomes</th><th>Steps</th></tr></thead><tbody>",
        paths.len()
    );
    for path in &paths {
        let _ = write!(body, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", resource_link(&path.subject), escape(&path.result.admin), steps_list(&path.result));
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
            escape(&grant.result.exposure),
            escape(&grant.result.principals.join(", ")),
            escape(&grant.result.actions.join(", ")),
            escape(&grant.result.narrowed_by.join(", "))
        );
    }
    end_table(&mut body, external.len());
    page("Identities", Some(&caller), &body).into_response()
}

/// Paths drawn in the graph at most (the table lists every stored path).
const GRAPH_PATHS: usize = 60;

async fn attack_paths(state: Shared, Extension(caller): Extension<Caller>) -> Response {
    let (scan, rows) = match with_store(&state, |store| Ok((store.analysed_scan()?, store.analyses::<AttackPath>()?))).await {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Attack paths</h1>");
    let Some(scan) = scan else {
        body.push_str("<p class=\"notice\">No stored scan has attack paths yet: run <code>vigil scan</code>.</p>");
        return page("Attack paths", Some(&caller), &body).into_response();
    };
    let mut paths: Vec<&AttackPath> = rows.iter().map(|row| &row.result).collect();
    paths.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.target.cmp(&b.target)));
    let targets: std::collections::BTreeSet<&str> = paths.iter().map(|path| path.target.as_str()).collect();
    let _ = write!(
        body,
        "<p>Scan #{scan}: {} path(s) from the internet to {} admin-equivalent principal(s) or sensitive resource(s) (sensitive by tag: docs/paths.md). Cut hops are drawn dashed.</p>",
        paths.len(),
        targets.len()
    );
    body.push_str(&charts::attack_graph("Paths (highest scores)", &paths.iter().copied().take(GRAPH_PATHS).collect::<Vec<_>>()));
    // The cut: every change that breaks a stored path, with how many it breaks.
    let mut cut: std::collections::BTreeMap<(&str, &str, &str), (usize, Option<&str>)> = std::collections::BTreeMap::new();
    for path in &paths {
        for change in &path.cut {
            let entry = cut.entry((change.kind.as_str(), change.resource.as_str(), change.change.as_str())).or_insert((0, change.fix.as_deref()));
            entry.0 += 1;
        }
    }
    let _ = write!(
        body,
        "<h2>Minimal cut ({} change(s))</h2><table id=\"cut\"><thead><tr><th>Change</th><th>Resource</th><th>Breaks</th><th>Fix</th></tr></thead><tbody>",
        cut.len()
    );
    let mut changes: Vec<_> = cut.into_iter().collect();
    changes.sort_by_key(|entry| std::cmp::Reverse((entry.1).0));
    for ((_, resource, change), (breaks, fix)) in &changes {
        let fix = fix.map(|check| format!("<code>vigil fix --check {}</code>", escape(check))).unwrap_or_else(|| "-".to_string());
        let _ = write!(body, "<tr><td>{}</td><td>{}</td><td>{breaks}</td><td>{fix}</td></tr>", escape(change), resource_link(resource));
    }
    end_table(&mut body, changes.len());
    let _ = write!(
        body,
        "<h2>Paths ({})</h2><table id=\"paths\"><thead><tr><th>Score</th><th>Target</th><th>Hops</th><th>Cut</th><th>Why</th></tr></thead><tbody>",
        paths.len()
    );
    for path in &paths {
        let mut hops = String::from("<ol>");
        for hop in &path.hops {
            let _ = write!(hops, "<li>{} → {} <span class=\"muted\">via {}</span></li>", escape(&hop.from), escape(&hop.to), escape(&hop.via));
        }
        hops.push_str("</ol>");
        let cut: Vec<String> = path.cut.iter().map(|change| escape(&change.change)).collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{hops}</td><td>{}</td><td>{}</td></tr>",
            path.score,
            resource_link(&path.target),
            cut.join("<br>"),
            escape(&path.reasons.join("; "))
        );
    }
    end_table(&mut body, paths.len());
    page("Attack paths", Some(&caller), &body).into_response()
}

/// The host an alert names (host-log and malware detections, a missing agent): its hostname,
/// instance and a link to its agent; `-` for cloud alerts.
fn alert_host(detail: &serde_json::Value) -> String {
    let host = detail.get("host").filter(|host| host.is_object()).unwrap_or(detail);
    let text = |key: &str| host.get(key).and_then(serde_json::Value::as_str).unwrap_or_default();
    let agent = text("agent_id");
    if agent.is_empty() {
        return "-".to_string();
    }
    let instance = text("instance_id");
    format!(
        "{}{}<br><a href=\"{}\">{}</a>",
        escape(text("hostname")),
        if instance.is_empty() { String::new() } else { format!(" ({})", escape(instance)) },
        escape(&link("/agent", &[("id", agent)])),
        escape(agent)
    )
}

async fn activity(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let level = get(&query, "level").to_string();
    let before = get(&query, "before").parse().unwrap_or(0);
    let chosen = level.clone();
    let alerts = match with_store(&state, move |store| store.alerts_page((!chosen.is_empty()).then_some(chosen.as_str()), None, before, 200)).await {
        Ok(alerts) => alerts,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Activity</h1><form class=\"filters\" method=\"get\" action=\"/activity\">");
    body.push_str(&fixed_select("level", "level", &severities(), &level));
    body.push_str("<button type=\"submit\">Filter</button></form>");
    if alerts.items.is_empty() {
        body.push_str("<p class=\"notice\">No alert stored: <code>vigil trail hunt --record</code> stores CloudTrail detections here, and agents their host-log and malware detections.</p>");
    }
    body.push_str(
        "<table id=\"alerts\"><thead><tr><th>Event time</th><th>Level</th><th>Rule</th><th>Event</th><th>Account</th><th>Host</th><th>The event</th></tr></thead><tbody>",
    );
    for alert in &alerts.items {
        let event = serde_json::to_string_pretty(alert.detail.get("event").unwrap_or(&alert.detail)).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"{lvl}\">{lvl}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>{}</summary><pre>{}</pre></details></td></tr>",
            escape(&alert.event_time),
            escape(&alert.rule_title),
            escape(&alert.event_name),
            escape(alert.account_id.as_deref().unwrap_or("-")),
            alert_host(&alert.detail),
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

async fn resource(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
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
            store.analysis_count::<Admin>()?,
            store.analyses::<vigil_model::analysis::AccessSkipped>()?,
            match crate::agent_views::instance_id_of(&lookup) {
                Some(instance_id) => {
                    let mut agents = Vec::new();
                    for agent in store.agents_of_instance(instance_id)? {
                        let posture = store.host_posture(&agent.agent_id)?;
                        agents.push((agent, posture));
                    }
                    Some(agents)
                }
                None => None,
            },
            store.fixes(Some(&lookup), 100)?,
        ))
    })
    .await;
    let (versions, mut findings, analyses, admins, skipped, agents, fixes) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    by_severity(&mut findings, |finding| &finding.severity);
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
            check_label(&finding.check_id),
            inline_code(finding.detail["message"].as_str().unwrap_or_default()),
            sev = escape(&finding.severity)
        );
    }
    body.push_str("</tbody></table>");
    body.push_str("<h2>Internet exposure</h2>");
    if analyses.exposure.is_empty() {
        body.push_str("<p id=\"no-exposure\">No path from the internet reaches it (as of the latest analysed scan).</p>");
    } else {
        body.push_str(&exposure_table(analyses.exposure.iter().map(|row| (arn.as_str(), row))));
    }
    body.push_str("<h2>Who can access it</h2>");
    for row in &analyses.access {
        let _ = write!(
            body,
            "<p>{} principal(s) of the account are allowed <code>{}</code> on <code>{}</code>:</p><table id=\"access\"><tbody>",
            row.principals.len(),
            escape(&row.action),
            escape(&row.resource)
        );
        for principal in &row.principals {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                resource_link(&principal.principal),
                escape(&principal.kind),
                escape(&principal.allowed_by.join(", "))
            );
        }
        body.push_str("</tbody></table>");
    }
    for note in &skipped {
        let _ = write!(body, "<p class=\"notice\">Who-can-access was not computed: {}</p>", escape(&note.result.reason));
    }
    for grant in &analyses.external {
        let _ = write!(
            body,
            "<p class=\"notice\">From outside the account ({}): {} may {}{}</p>",
            escape(&grant.exposure),
            escape(&grant.principals.join(", ")),
            escape(&grant.actions.join(", ")),
            escape(&narrowed(grant))
        );
    }
    if admins > 0 {
        let _ = write!(body, "<p class=\"muted\">And the <a href=\"/identities\">{admins} admin-equivalent principal(s)</a>, who can do anything.</p>");
    }
    for admin in &analyses.admin {
        let how = admin.step.as_ref().map(|step| format!(" by {}", admin_step(step))).unwrap_or_default();
        let _ = write!(body, "<p class=\"notice\" id=\"admin\">This principal is admin-equivalent ({}){}.</p>", escape(&admin.reason), escape(&how));
    }
    for path in &analyses.escalation {
        let _ = write!(body, "<p class=\"notice\">This principal can escalate to {}:</p>{}", escape(&path.admin), steps_list(path));
    }
    body.push_str("<h2>Fixes</h2><table id=\"resource-fixes\">");
    body.push_str(FIX_HEAD);
    fix_rows(&mut body, &fixes);
    end_table(&mut body, fixes.len());
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

async fn scans(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
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
        let _ = write!(body, "<h2 id=\"changes\">Changes from scan #{} to #{}</h2>", diff.from, diff.to);
        for (list, title) in [(&diff.added, "Added"), (&diff.removed, "Removed"), (&diff.changed, "Changed")] {
            let _ = write!(body, "<h3>{title} ({})</h3><ul>", list.len());
            for entry in list {
                let _ = write!(body, "<li>{}", resource_link(&entry.arn));
                if entry.state_before != entry.state_after && entry.change == "changed" {
                    let state = |state: &Option<String>| state.clone().unwrap_or_else(|| "(none)".to_string());
                    let _ = write!(body, " <span class=\"muted\">{} → {}</span>", escape(&state(&entry.state_before)), escape(&state(&entry.state_after)));
                }
                if !entry.fields.is_empty() {
                    body.push_str("<ul>");
                    for change in &entry.fields {
                        body.push_str(&change_item(&change.path, change.before.as_ref(), change.after.as_ref()));
                    }
                    body.push_str("</ul>");
                }
                body.push_str("</li>");
            }
            body.push_str("</ul>");
        }
        for (list, title) in [(&diff.new_findings, "Findings now failing"), (&diff.fixed_findings, "Findings fixed")] {
            let _ = write!(body, "<h3>{title} ({})</h3><ul>", list.len());
            let mut list: Vec<_> = list.iter().collect();
            by_severity(&mut list, |entry| &entry.severity);
            for entry in list {
                let _ = write!(
                    body,
                    "<li><span class=\"{sev}\">{sev}</span> {} on {}</li>",
                    check_label(&entry.check_id),
                    resource_link(&entry.resource_arn),
                    sev = escape(&entry.severity)
                );
            }
            body.push_str("</ul>");
        }
    } else {
        body.push_str("<p class=\"muted\">Two scans are needed to show what changed.</p>");
    }
    // Each scan's own summary: its findings by status (full scans) and what it changed, so
    // the history reads down the table without opening each comparison.
    body.push_str(
        "<h2>Every scan</h2><table id=\"scans\"><thead><tr><th>Scan</th><th>Kind</th><th>Finished</th><th>Source</th><th>Resources</th>\
         <th>Failing</th><th>Passing</th><th>Newly failing</th><th>Fixed</th><th>Resources added / changed / removed</th><th>Compare</th></tr></thead><tbody>",
    );
    for (index, scan) in scans.iter().enumerate() {
        let id = scan.id;
        let previous = scans.get(index + 1).map(|older| older.id);
        let compare = previous.map(|previous| format!("<a href=\"/scans?from={previous}&amp;to={id}\">changes since #{previous}</a>")).unwrap_or_default();
        let by_status = &scan.summary["by_status"];
        let status = |name: &str| by_status[name].as_i64();
        let failing = match (status("FAIL"), status("ERROR")) {
            (None, None) => "-".to_string(),
            (fail, error) => (fail.unwrap_or(0) + error.unwrap_or(0)).to_string(),
        };
        let passing = status("PASS").map_or_else(|| "-".to_string(), |count| count.to_string());
        let changes = &scan.summary["changes"];
        let change = |key: &str| changes[key].as_i64().unwrap_or(0);
        let _ = write!(
            body,
            "<tr><td>#{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{failing}</td><td>{passing}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{compare}</td></tr>",
            escape(&scan.kind),
            escape(&scan.finished_at),
            escape(&scan.source),
            scan.resource_count,
            change("findings_new"),
            change("findings_resolved"),
            change("resources_added"),
            change("resources_changed"),
            change("resources_deleted"),
        );
    }
    body.push_str("</tbody></table>");
    page("Scans", Some(&caller), &body).into_response()
}

/// A fix's status as a labelled cell (an undone fix says by which).
fn fix_status(row: &vigil_store::FixRow) -> String {
    let class = match row.input.status.as_str() {
        "applied" => "pass",
        "refused" => "muted",
        _ => "fail",
    };
    let undone = row.undone_by.map(|by| format!(" (undone by <a href=\"/fixes?id={by}\">#{by}</a>)")).unwrap_or_default();
    format!("<td class=\"{class}\">{}{undone}</td>", escape(&row.input.status))
}

/// The rows of a table of fixes.
fn fix_rows(body: &mut String, fixes: &[vigil_store::FixRow]) {
    for row in fixes {
        let undo = row.input.undo_of.map(|of| format!("undo of <a href=\"/fixes?id={of}\">#{of}</a>")).unwrap_or_else(|| escape(&row.input.origin));
        let _ = write!(
            body,
            "<tr><td><a href=\"/fixes?id={id}\">#{id}</a></td><td>{}</td>{}<td>{undo}</td><td><code>{}</code></td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td></tr>",
            escape(&row.input.started_at),
            fix_status(row),
            escape(&row.input.check_id),
            resource_link(&row.input.target_arn),
            escape(&row.input.operator),
            escape(&row.input.caller_arn),
            escape(&row.input.message),
            id = row.id,
        );
    }
}

const FIX_HEAD: &str =
    "<thead><tr><th>Fix</th><th>When</th><th>Status</th><th>Origin</th><th>Check</th><th>Resource</th><th>Who</th><th>Outcome</th></tr></thead><tbody>";

/// The calls of a plan or an inverse as a list.
fn calls_list(calls: &Value) -> String {
    let mut html = String::from("<ol>");
    for item in calls.as_array().into_iter().flatten() {
        // A sent call is recorded as `{call, error}`; a planned one is the call itself.
        let call = item.get("call").unwrap_or(item);
        let error = item.get("error").filter(|error| !error.is_null()).map(|error| format!("{}: {}", show(&error["code"]), show(&error["message"])));
        let _ = write!(
            html,
            "<li><code>{} {}</code> ({}) <code>{}</code>{}</li>",
            escape(&show(&call["service"])),
            escape(&show(&call["operation"])),
            escape(&show(&call["region"])),
            escape(&call["parameters"].to_string()),
            error.map(|error| format!(" <span class=\"fail\">{}</span>", escape(&error))).unwrap_or_default()
        );
    }
    html.push_str("</ol>");
    html
}

async fn fixes(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let id = get(&query, "id").parse::<i64>().ok();
    let result = with_store(&state, move |store| Ok((store.fixes(None, 1000)?, id.map(|id| store.fix(id)).transpose()?.flatten()))).await;
    let (fixes, chosen) = match result {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Fixes</h1>");
    if let Some(row) = &chosen {
        let _ = write!(body, "<h2 id=\"fix\">Fix #{}: <code>{}</code> on {}</h2>", row.id, escape(&row.input.check_id), resource_link(&row.input.resource_arn));
        body.push_str("<table id=\"fix-detail\"><tbody>");
        let _ = write!(body, "<tr><th>Status</th>{}</tr>", fix_status(row));
        for (label, value) in [
            ("Outcome", row.input.message.clone()),
            ("Changed", row.input.target_arn.clone()),
            ("Started", row.input.started_at.clone()),
            ("Finished", row.input.finished_at.clone()),
            ("By", format!("{} as {}", row.input.operator, row.input.caller_arn)),
            ("Origin", row.input.origin.clone()),
        ] {
            let _ = write!(body, "<tr><th>{label}</th><td>{}</td></tr>", escape(&value));
        }
        body.push_str("</tbody></table>");
        let _ = write!(body, "<h3>What it was meant to do</h3><p>{}</p>", escape(&show(&row.input.plan["summary"])));
        for (key, title) in [("breaks", "Flagged as breaking"), ("resolves", "Resolves")] {
            let list = row.input.plan[key].as_array().cloned().unwrap_or_default();
            if !list.is_empty() {
                let _ = write!(body, "<h3>{title}</h3><ul>");
                for item in &list {
                    let text = item.get("description").map(show).unwrap_or_else(|| format!("{} on {}", show(&item["check_id"]), show(&item["resource"])));
                    let _ = write!(body, "<li>{}</li>", escape(&text));
                }
                body.push_str("</ul>");
            }
        }
        let _ = write!(body, "<h3>Calls sent</h3>{}", calls_list(&row.input.calls));
        let pretty = |value: &Option<Value>| {
            value.as_ref().map(|value| serde_json::to_string_pretty(value).unwrap_or_default()).unwrap_or_else(|| "(not read)".to_string())
        };
        let _ = write!(
            body,
            "<h3>Configuration before</h3><pre id=\"fix-before\">{}</pre><h3>Configuration after</h3><pre id=\"fix-after\">{}</pre>",
            escape(&pretty(&row.input.before)),
            escape(&pretty(&row.input.after))
        );
        let _ = write!(body, "<h3>Inverse (what <code>vigil fix undo {}</code> sends)</h3>{}", row.id, calls_list(&row.input.inverse));
    } else if id.is_some() {
        body.push_str("<p class=\"notice\">No such fix.</p>");
    }
    body.push_str("<h2>Every fix</h2><table id=\"fixes\">");
    body.push_str(FIX_HEAD);
    fix_rows(&mut body, &fixes);
    end_table(&mut body, fixes.len());
    page("Fixes", Some(&caller), &body).into_response()
}
