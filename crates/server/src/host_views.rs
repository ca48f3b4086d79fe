//! Host posture in the console, from the latest report of each host module per agent
//! (`vigil_store::host_reports`): the block on an agent's page and on its instance's resource
//! page (configuration assessment per policy, vulnerabilities by severity, patch state,
//! secrets found, redacted), and the fleet Vulnerabilities page (by CVE, by package, by host;
//! hosts the latest scan's exposure analysis finds reachable from the internet first).
//!
//! Honest by construction: a module that never reported, reported an error, is disabled or
//! missing from the agent is said so in words; nothing is shown as "none found" unless a
//! report says so.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use serde::Serialize;
use serde_json::Value;
use vigil_model::analysis::Exposure;
use vigil_store::agents::AgentRow;
use vigil_store::{HostPosture, ModuleReport};

use crate::AppState;
use crate::auth::Caller;
use crate::handlers::with_store;
use crate::pages::{escape, link, page};
use crate::routes::{Access, Method, Param, Role, Route, query_one_of};

type Shared = State<Arc<AppState>>;
type Params = Query<HashMap<String, String>>;

/// The views of the Vulnerabilities page.
const VIEWS: &[&str] = &["cve", "package", "host"];
const VIEW: &[Param] = &[query_one_of("by", VIEWS, "the grouping: `cve` (default), `package` or `host`")];

/// The most rows a table of the Vulnerabilities page or a host block shows (the rest are
/// counted, never dropped silently).
const MAX_ROWS: usize = 1_000;

/// The severities of vulnerability findings, highest first (`vigil_host::vulns::Level`).
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "none", "unknown"];

pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/vulnerabilities",
        summary: "Vulnerable packages across the fleet (`by`: cve, package or host), hosts reachable from the internet first.",
        params: &[VIEW],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, vulnerabilities),
    },
    Route {
        method: Method::Get,
        path: "/api/vulnerabilities",
        summary: "Every host's latest vulnerability report with its exposure: hosts not assessed say why.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, api_vulnerabilities),
    },
];

/// A module's health as the agent's last heartbeat gave it.
fn health<'a>(agent: &'a AgentRow, module: &str) -> Option<&'a Value> {
    agent.modules.as_array()?.iter().find(|entry| entry["module"].as_str() == Some(module))
}

/// Why a module has no report, in words.
pub fn not_assessed(agent: &AgentRow, module: &str) -> String {
    match health(agent, module) {
        None => format!("the agent has never reported a `{module}` run (its policy does not enable the module, or it has not run yet)"),
        Some(entry) => match entry["state"].as_str().unwrap_or("unknown") {
            "error" => format!("the `{module}` module's last run failed: {}", entry["last_error"].as_str().unwrap_or("no reason given")),
            "disabled" => format!("the host policy disables the `{module}` module"),
            "unknown" => format!("this agent (version {}) has no `{module}` module", agent.agent_version),
            _ => format!("the `{module}` module has run but no report has arrived yet"),
        },
    }
}

/// A warning when the module's last run failed after the report shown.
fn stale_warning(agent: &AgentRow, module: &str) -> String {
    match health(agent, module) {
        Some(entry) if entry["state"].as_str() == Some("error") => format!(
            "<p class=\"notice error\">The `{}` module's last run failed ({}): what follows is its last report before that.</p>",
            escape(module),
            escape(entry["last_error"].as_str().unwrap_or("no reason given"))
        ),
        _ => String::new(),
    }
}

fn as_of(report: &ModuleReport) -> String {
    let incomplete = if report.complete { "" } else { " <strong>(incomplete: some parts have not arrived)</strong>" };
    format!("<p class=\"as-of\">Reported {}{incomplete}.</p>", escape(&report.event_time))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The host posture block of one agent: on its page and on its instance's resource page.
pub fn host_posture(agent: &AgentRow, posture: &HostPosture) -> String {
    let mut body = String::from("<section class=\"host-posture\"><h2>Host posture</h2>");
    body.push_str(&sca_section(agent, &posture.sca));
    body.push_str(&vulns_section(agent, posture.vulns.as_ref()));
    body.push_str(&patch_section(agent, posture.patch.as_ref()));
    body.push_str(&secrets_section(agent, posture.secrets.as_ref()));
    body.push_str("</section>");
    body
}

fn not_assessed_notice(id: &str, agent: &AgentRow, module: &str) -> String {
    format!("<p id=\"{id}\" class=\"notice not-assessed\">Not assessed: {}.</p>", escape(&not_assessed(agent, module)))
}

fn sca_section(agent: &AgentRow, reports: &[ModuleReport]) -> String {
    let mut body = String::from("<h3>Configuration assessment</h3>");
    if reports.is_empty() {
        body.push_str(&not_assessed_notice("sca-not-assessed", agent, "sca"));
        return body;
    }
    body.push_str(&stale_warning(agent, "sca"));
    for report in reports {
        let count = |result: &str| report.items.iter().filter(|check| text(check, "result") == result).count();
        let (passed, failed, not_applicable) = (count("passed"), count("failed"), count("not applicable"));
        let score = (passed * 100).checked_div(passed + failed).map_or_else(|| "no check could be evaluated".to_string(), |score| format!("{score}%"));
        let policy = text(&report.head, "policy");
        let _ = write!(
            body,
            "<h4>{} <code>{}</code></h4>{}<p class=\"sca-score\" data-policy=\"{}\">Score {score}: {passed} passed, {failed} failed, {not_applicable} not applicable.</p>",
            escape(text(&report.head, "name")),
            escape(policy),
            as_of(report),
            escape(policy),
        );
        let failing: Vec<&Value> = report.items.iter().filter(|check| text(check, "result") == "failed").collect();
        if !failing.is_empty() {
            body.push_str("<table class=\"sca-failed\"><thead><tr><th>Check</th><th>Title</th><th>Reason</th></tr></thead><tbody>");
            for check in failing.iter().take(MAX_ROWS) {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&check.get("id").map(Value::to_string).unwrap_or_default()),
                    escape(text(check, "title")),
                    escape(text(check, "reason"))
                );
            }
            body.push_str("</tbody></table>");
            body.push_str(&more_rows(failing.len()));
        }
    }
    body
}

fn more_rows(total: usize) -> String {
    if total > MAX_ROWS { format!("<p class=\"notice\">{} more row(s) not shown (the API has them all).</p>", total - MAX_ROWS) } else { String::new() }
}

/// Counts by severity: (all, with a fix available).
fn severity_counts(items: &[Value]) -> BTreeMap<&'static str, (usize, usize)> {
    let mut counts: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for item in items {
        let severity = SEVERITIES.iter().copied().find(|severity| *severity == text(item, "severity")).unwrap_or("unknown");
        let entry = counts.entry(severity).or_default();
        entry.0 += 1;
        if item.get("fix_available").and_then(Value::as_bool).unwrap_or(false) {
            entry.1 += 1;
        }
    }
    counts
}

fn severity_summary(items: &[Value]) -> String {
    let counts = severity_counts(items);
    let parts: Vec<String> = SEVERITIES
        .iter()
        .filter_map(|severity| counts.get(severity).map(|(all, fixable)| format!("<span class=\"{severity}\">{all} {severity}</span> ({fixable} with a fix)")))
        .collect();
    parts.join(", ")
}

fn vulns_section(agent: &AgentRow, report: Option<&ModuleReport>) -> String {
    let mut body = String::from("<h3>Vulnerabilities</h3>");
    let Some(report) = report else {
        body.push_str(&not_assessed_notice("vulns-not-assessed", agent, "vulns"));
        return body;
    };
    body.push_str(&stale_warning(agent, "vulns"));
    body.push_str(&as_of(report));
    let _ = write!(
        body,
        "<p id=\"vulns-summary\">{} package(s) matched against {} advisories for {}: ",
        report.head.get("packages").map(Value::to_string).unwrap_or_default(),
        report.head.get("records").map(Value::to_string).unwrap_or_default(),
        escape(text(&report.head, "ecosystem")),
    );
    if report.items.is_empty() {
        body.push_str("no vulnerable package.</p>");
        return body;
    }
    let _ = write!(body, "{} finding(s): {}.</p>", report.items.len(), severity_summary(&report.items));
    body.push_str("<table id=\"host-vulns\"><thead><tr><th>Severity</th><th>Advisory</th><th>Package</th><th>Installed</th><th>Fixed</th></tr></thead><tbody>");
    for item in report.items.iter().take(MAX_ROWS) {
        body.push_str(&vuln_row(item));
    }
    body.push_str("</tbody></table>");
    body.push_str(&more_rows(report.items.len()));
    body
}

fn aliases(item: &Value) -> Vec<&str> {
    item.get("aliases").and_then(Value::as_array).map(|aliases| aliases.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn severity_cell(item: &Value) -> String {
    let severity = text(item, "severity");
    let score = item.get("score").and_then(Value::as_f64).map(|score| format!(" {score:.1}")).unwrap_or_default();
    format!("<td class=\"{0}\">{0}{score}</td>", escape(severity))
}

fn fixed_cell(item: &Value) -> String {
    match item.get("fixed").and_then(Value::as_str) {
        Some(fixed) => format!("<td class=\"fix\">{}</td>", escape(fixed)),
        None => "<td class=\"no-fix\">no fix published</td>".to_string(),
    }
}

fn vuln_row(item: &Value) -> String {
    let aliases = aliases(item);
    let aliases = if aliases.is_empty() { String::new() } else { format!(" ({})", escape(&aliases.join(", "))) };
    format!(
        "<tr>{}<td>{}{aliases}</td><td>{}</td><td>{}</td>{}</tr>",
        severity_cell(item),
        escape(text(item, "id")),
        escape(text(item, "package")),
        escape(text(item, "installed")),
        fixed_cell(item)
    )
}

fn patch_section(agent: &AgentRow, report: Option<&ModuleReport>) -> String {
    let mut body = String::from("<h3>Patch state</h3>");
    let Some(report) = report else {
        body.push_str(&format!(
            "<p id=\"patch-not-assessed\" class=\"notice not-assessed\">Not assessed: the patch state comes with the vulnerability findings, and {}.</p>",
            escape(&not_assessed(agent, "vulns"))
        ));
        return body;
    };
    body.push_str(&as_of(report));
    let reboot = report.head.get("reboot_required").and_then(Value::as_bool).unwrap_or(false);
    let reasons: Vec<&str> =
        report.head.get("reboot_reasons").and_then(Value::as_array).map(|reasons| reasons.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let _ = write!(
        body,
        "<p id=\"reboot\">Reboot required: <strong>{}</strong>{}</p>",
        if reboot { "yes" } else { "no" },
        if reasons.is_empty() { String::new() } else { format!(" ({})", escape(&reasons.join("; "))) }
    );
    for note in report.head.get("notes").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        let _ = write!(body, "<p class=\"notice\">{}</p>", escape(note));
    }
    let _ = write!(body, "<p id=\"pending-updates\">{} pending security update(s).</p>", report.items.len());
    if !report.items.is_empty() {
        body.push_str("<table id=\"host-updates\"><thead><tr><th>Package</th><th>Installed</th><th>Fixed in</th><th>Advisories</th></tr></thead><tbody>");
        for update in report.items.iter().take(MAX_ROWS) {
            let advisories: Vec<&str> = update.get("advisories").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(text(update, "package")),
                escape(text(update, "installed")),
                escape(text(update, "fixed")),
                escape(&advisories.join(", "))
            );
        }
        body.push_str("</tbody></table>");
        body.push_str(&more_rows(report.items.len()));
    }
    body
}

fn secrets_section(agent: &AgentRow, report: Option<&ModuleReport>) -> String {
    let mut body = String::from("<h3>Secrets found</h3>");
    let Some(report) = report else {
        body.push_str(&not_assessed_notice("secrets-not-assessed", agent, "secrets"));
        return body;
    };
    body.push_str(&stale_warning(agent, "secrets"));
    body.push_str(&as_of(report));
    if report.items.is_empty() {
        body.push_str("<p id=\"secrets-none\">None in the paths scanned.</p>");
        return body;
    }
    // Only the location, the kind and the redacted form: an agent never sends a secret whole,
    // and the page shows nothing else from the item even if one did.
    body.push_str("<table id=\"host-secrets\"><thead><tr><th>Path</th><th>Line</th><th>Kind</th><th>Redacted</th></tr></thead><tbody>");
    for item in report.items.iter().take(MAX_ROWS) {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(text(item, "path")),
            item.get("line").and_then(Value::as_u64).map(|line| line.to_string()).unwrap_or_default(),
            escape(text(item, "kind")),
            escape(text(item, "redacted"))
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&more_rows(report.items.len()));
    body
}

/// One host of the fleet page.
#[derive(Debug, Clone, Serialize)]
struct FleetHost {
    agent_id: String,
    hostname: String,
    instance_id: Option<String>,
    instance_arn: Option<String>,
    /// Reachable from the internet in the latest analysed scan (`None`: no scan has exposure
    /// results, so it is unknown).
    exposed: Option<bool>,
    /// Address and ports of the exposure, for the page.
    exposure: Vec<String>,
    /// Why the host has no report (`None` when it has one).
    not_assessed: Option<String>,
    reported_at: Option<String>,
    findings: Vec<Value>,
}

/// The fleet's hosts with their findings and exposure, exposed hosts first.
fn fleet(hosts: Vec<(AgentRow, Option<ModuleReport>)>, scan: Option<i64>, exposures: &[vigil_store::Stored<Exposure>]) -> Vec<FleetHost> {
    let mut exposure_of: HashMap<&str, Vec<String>> = HashMap::new();
    for row in exposures {
        let ports: Vec<String> = row.result.ports.iter().map(|[from, to]| if from == to { from.to_string() } else { format!("{from}-{to}") }).collect();
        exposure_of.entry(row.subject.as_str()).or_default().push(format!("{} {}/{}", row.result.address, row.result.protocol, ports.join(",")));
    }
    let mut fleet: Vec<FleetHost> = hosts
        .into_iter()
        .map(|(agent, report)| {
            let exposure = agent.instance_arn.as_deref().and_then(|arn| exposure_of.get(arn)).cloned().unwrap_or_default();
            FleetHost {
                exposed: scan.map(|_| !exposure.is_empty()),
                exposure,
                not_assessed: report.is_none().then(|| not_assessed(&agent, "vulns")),
                reported_at: report.as_ref().map(|report| report.event_time.clone()),
                findings: report.map(|report| report.items).unwrap_or_default(),
                agent_id: agent.agent_id,
                hostname: agent.hostname,
                instance_id: agent.instance_id,
                instance_arn: agent.instance_arn,
            }
        })
        .collect();
    fleet.sort_by_key(|host| {
        (host.exposed != Some(true), std::cmp::Reverse(worst(&host.findings)), std::cmp::Reverse(host.findings.len()), host.agent_id.clone())
    });
    fleet
}

/// The rank of the worst severity among findings: higher is worse.
fn worst(findings: &[Value]) -> usize {
    findings.iter().map(|item| rank(text(item, "severity"))).max().unwrap_or(0)
}

fn rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|known| *known == severity).map_or(0, |position| SEVERITIES.len() - position)
}

fn host_cell(host: &FleetHost) -> String {
    let agent = format!("<a href=\"{}\">{}</a>", escape(&link("/agent", &[("id", &host.agent_id)])), escape(&host.hostname));
    match (&host.instance_arn, &host.instance_id) {
        (Some(arn), Some(id)) => format!("{agent} (<a href=\"{}\">{}</a>)", escape(&link("/resource", &[("arn", arn)])), escape(id)),
        (None, Some(id)) => format!("{agent} ({})", escape(id)),
        _ => agent,
    }
}

fn exposed_cell(host: &FleetHost) -> String {
    match host.exposed {
        Some(true) => format!("<td class=\"exposed\">exposed: {}</td>", escape(&host.exposure.join("; "))),
        Some(false) => "<td>not reachable</td>".to_string(),
        None => "<td class=\"unknown\">unknown</td>".to_string(),
    }
}

/// A group of the CVE or package view: the findings under one key, on which hosts.
#[derive(Default)]
struct Group<'a> {
    findings: Vec<(&'a FleetHost, &'a Value)>,
    hosts: BTreeSet<&'a str>,
    exposed_hosts: BTreeSet<&'a str>,
}

/// The CVEs a finding is about: its id and aliases that are CVE ids, else its id.
fn cves(item: &Value) -> Vec<String> {
    let mut ids: Vec<String> = std::iter::once(text(item, "id")).chain(aliases(item)).filter(|id| id.starts_with("CVE-")).map(str::to_string).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() { vec![text(item, "id").to_string()] } else { ids }
}

fn groups<'a>(fleet: &'a [FleetHost], key: impl Fn(&Value) -> Vec<String>) -> Vec<(String, Group<'a>)> {
    let mut groups: BTreeMap<String, Group<'a>> = BTreeMap::new();
    for host in fleet {
        for item in &host.findings {
            for key in key(item) {
                let group = groups.entry(key).or_default();
                group.findings.push((host, item));
                group.hosts.insert(&host.agent_id);
                if host.exposed == Some(true) {
                    group.exposed_hosts.insert(&host.agent_id);
                }
            }
        }
    }
    let mut groups: Vec<(String, Group<'a>)> = groups.into_iter().collect();
    groups.sort_by_key(|(key, group)| {
        let worst = group.findings.iter().map(|(_, item)| rank(text(item, "severity"))).max().unwrap_or(0);
        (std::cmp::Reverse(group.exposed_hosts.len()), std::cmp::Reverse(worst), std::cmp::Reverse(group.hosts.len()), key.clone())
    });
    groups
}

fn group_table(id: &str, first: &str, fleet: &[FleetHost], key: impl Fn(&Value) -> Vec<String>) -> String {
    let groups = groups(fleet, key);
    let mut body =
        format!("<table id=\"{id}\"><thead><tr><th>{first}</th><th>Severity</th><th>Hosts</th><th>Exposed hosts</th><th>Findings</th></tr></thead><tbody>");
    for (key, group) in groups.iter().take(MAX_ROWS) {
        let worst = group.findings.iter().map(|(_, item)| *item).max_by_key(|item| rank(text(item, "severity")));
        let mut detail = String::from("<table class=\"group\"><tbody>");
        for (host, item) in &group.findings {
            let _ = write!(
                detail,
                "<tr><td>{}</td>{}<td>{}</td><td>{}</td><td>{}</td>{}</tr>",
                host_cell(host),
                severity_cell(item),
                escape(text(item, "id")),
                escape(text(item, "package")),
                escape(text(item, "installed")),
                fixed_cell(item)
            );
        }
        detail.push_str("</tbody></table>");
        let exposed =
            if group.exposed_hosts.is_empty() { "0".to_string() } else { format!("<strong class=\"exposed\">{}</strong>", group.exposed_hosts.len()) };
        let _ = write!(
            body,
            "<tr><td>{}</td>{}<td>{}</td><td>{exposed}</td><td><details><summary>{} finding(s)</summary>{detail}</details></td></tr>",
            escape(key),
            worst.map(severity_cell).unwrap_or_else(|| "<td></td>".to_string()),
            group.hosts.len(),
            group.findings.len(),
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&more_rows(groups.len()));
    body
}

fn host_table(fleet: &[FleetHost]) -> String {
    let mut body = String::from("<table id=\"vulns-by-host\"><thead><tr><th>Host</th><th>Exposure</th>");
    for severity in SEVERITIES {
        let _ = write!(body, "<th>{severity}</th>");
    }
    body.push_str("<th>With a fix</th><th>Reported</th></tr></thead><tbody>");
    for host in fleet.iter().filter(|host| host.not_assessed.is_none()).take(MAX_ROWS) {
        let counts = severity_counts(&host.findings);
        let _ = write!(body, "<tr><td>{}</td>{}", host_cell(host), exposed_cell(host));
        for severity in SEVERITIES {
            let _ = write!(body, "<td>{}</td>", counts.get(severity).map_or(0, |(all, _)| *all));
        }
        let fixable: usize = counts.values().map(|(_, fixable)| fixable).sum();
        let _ = write!(body, "<td>{fixable}</td><td>{}</td></tr>", escape(host.reported_at.as_deref().unwrap_or_default()));
    }
    body.push_str("</tbody></table>");
    body
}

async fn load(state: &Shared) -> Result<(Option<i64>, Vec<FleetHost>), Response> {
    with_store(state, |store| {
        let hosts = store.fleet_vulnerabilities()?;
        let scan = store.analysed_scan()?;
        let exposures = store.analyses::<Exposure>()?;
        Ok((scan, fleet(hosts, scan, &exposures)))
    })
    .await
}

async fn api_vulnerabilities(state: Shared) -> Response {
    match load(&state).await {
        Ok((scan, hosts)) => Json(serde_json::json!({"exposure_scan": scan, "hosts": hosts})).into_response(),
        Err(response) => response,
    }
}

async fn vulnerabilities(state: Shared, Extension(caller): Extension<Caller>, Query(query): Params) -> Response {
    let view = query.get("by").map(String::as_str).filter(|view| !view.is_empty()).unwrap_or("cve").to_string();
    let (scan, fleet) = match load(&state).await {
        Ok(values) => values,
        Err(response) => return response,
    };
    let mut body = String::from("<h1>Vulnerabilities</h1>");
    let assessed = fleet.iter().filter(|host| host.not_assessed.is_none()).count();
    let exposed = fleet.iter().filter(|host| host.exposed == Some(true)).count();
    let findings: usize = fleet.iter().map(|host| host.findings.len()).sum();
    let _ = write!(body, "<p id=\"vulns-fleet\">{assessed} of {} host(s) assessed, {findings} finding(s). ", fleet.len());
    match scan {
        Some(scan) => {
            let _ = write!(body, "Exposure from scan #{scan}: {exposed} host(s) reachable from the internet, listed first.</p>");
        }
        None => body.push_str("No stored scan has exposure results (run <code>vigil scan</code>): whether a host is reachable is unknown.</p>"),
    }
    let tabs: Vec<String> = VIEWS
        .iter()
        .map(|tab| {
            let label = match *tab {
                "cve" => "By CVE",
                "package" => "By package",
                _ => "By host",
            };
            if *tab == view {
                format!("<strong>{label}</strong>")
            } else {
                format!("<a href=\"{}\">{label}</a>", escape(&link("/vulnerabilities", &[("by", *tab)])))
            }
        })
        .collect();
    let _ = write!(body, "<p class=\"tabs\">{}</p>", tabs.join(" · "));
    if fleet.is_empty() {
        body.push_str(
            "<p class=\"notice\">No agent yet: vulnerabilities are reported by <code>vigil-agent</code>'s <code>vulns</code> module (see the Agents page).</p>",
        );
    }
    body.push_str(&match view.as_str() {
        "package" => group_table("vulns-by-package", "Package", &fleet, |item| vec![text(item, "package").to_string()]),
        "host" => host_table(&fleet),
        _ => group_table("vulns-by-cve", "CVE", &fleet, cves),
    });
    let missing: Vec<&FleetHost> = fleet.iter().filter(|host| host.not_assessed.is_some()).collect();
    if !missing.is_empty() {
        body.push_str("<h2>Hosts not assessed</h2><table id=\"vulns-not-assessed\"><thead><tr><th>Host</th><th>Exposure</th><th>Why</th></tr></thead><tbody>");
        for host in missing {
            let _ = write!(
                body,
                "<tr><td>{}</td>{}<td>{}</td></tr>",
                host_cell(host),
                exposed_cell(host),
                escape(host.not_assessed.as_deref().unwrap_or_default())
            );
        }
        body.push_str("</tbody></table>");
    }
    page("Vulnerabilities", Some(&caller), &body).into_response()
}
