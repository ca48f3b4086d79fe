//! The API's handlers: each reads the store on a blocking thread and answers JSON.

// A failed step returns the finished error response (`Result<_, Response>`), axum's idiom; the
// size of `Response` does not matter on these paths.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use serde_json::{Value, json};
use vigil_model::analysis::{Admin, AnalysisKind, EscalationPath, Exposure, ExternalAccess};
use vigil_store::Store;
use vigil_store::query::{FindingFilter, ResourceFilter};

use vigil_store::people::AuditInput;

use crate::ClientAddress;
use crate::auth::Caller;
use crate::routes::{Access, Method, Param, Role, Route, Shared, path_id, query, query_int};

/// The filters every findings list reads (the API's and the page's).
pub(crate) const FINDING_FILTERS: &[Param] = &[
    query("severity", "filter: critical, high, medium, low or informational"),
    query("status", "filter: FAIL, ERROR, PASS or MUTED"),
    query("lifecycle", "filter: new, open, muted, resolved or passing"),
    query("check_id", "filter"),
    query("service", "filter"),
    query("account_id", "filter"),
    query("region", "filter"),
    query("resource_arn", "filter"),
    query("q", "search in the check id and the resource ARN"),
];
pub(crate) const FINDING_ORDER: &[Param] = &[
    query("sort", "severity, check, resource or newest (keyset pages: `after` is the last row's id, as in every order)"),
    query("failing", "1: failing findings only (lifecycle new or open)"),
];
pub(crate) const RESOURCE_FILTERS: &[Param] = &[
    query("resource_type", "filter"),
    query("account_id", "filter"),
    query("region", "filter"),
    query("state", "filter: active, stopped, terminated or deleted"),
    query("q", "search in the ARN"),
    query("tag", "KEY or KEY=VALUE"),
];
pub(crate) const PAGING: &[Param] = &[query_int("after", "cursor: the `next` of the previous page"), query_int("limit", "page size, 1 to 10000 (default 100)")];
pub(crate) const ALERT_FILTERS: &[Param] = &[
    query("level", "filter"),
    query("rule_id", "filter"),
    query_int("before", "cursor: the `next` of the previous page"),
    query_int("limit", "page size, 1 to 10000 (default 100)"),
];
pub(crate) const FINDING_ID: &[Param] = &[query_int("id", "the finding's id")];
pub(crate) const FRAMEWORK: &[Param] = &[query("framework", "cis, fsbp, pci, nist or a framework id")];
pub(crate) const RESOURCE_ARN: &[Param] = &[query("arn", "the resource's ARN")];
pub(crate) const SCAN_PAIR: &[Param] = &[query_int("from", "older scan id"), query_int("to", "newer scan id")];
const PATH_FINDING_ID: &[Param] = &[path_id("id", "the finding's id")];

/// The JSON API.
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/api/dashboard",
        summary: "Failing findings by severity, service, account and region; live resources by type; compliance per framework; the trend over the last 30 scans.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, dashboard),
    },
    Route {
        method: Method::Get,
        path: "/api/compliance",
        summary: "Each framework's requirements by status; with `framework` (cis, fsbp, pci, nist or an id), that framework's requirements one by one.",
        params: &[FRAMEWORK],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, compliance),
    },
    Route {
        method: Method::Get,
        path: "/api/scans",
        summary: "Every scan, newest first.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, scans),
    },
    Route {
        method: Method::Get,
        path: "/api/findings",
        summary: "A page of findings, filtered and ordered (`sort`: severity, check, resource, newest); `after` is the cursor, `limit` at most 10,000.",
        params: &[FINDING_FILTERS, FINDING_ORDER, PAGING],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, findings),
    },
    Route {
        method: Method::Get,
        path: "/api/findings/groups",
        summary: "Current findings counted by one dimension (`by`: check_id, service, severity, account_id, region, status, lifecycle); `failing=1` for failing ones only.",
        params: &[
            FINDING_FILTERS,
            &[query("by", "check_id, service, severity, account_id, region, status or lifecycle"), query("failing", "1: failing findings only")],
        ],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, finding_groups),
    },
    Route {
        method: Method::Get,
        path: "/api/finding",
        summary: "One finding (`id`) with its check's risk, remediation, references and frameworks.",
        params: &[FINDING_ID],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, finding),
    },
    Route {
        method: Method::Post,
        path: "/api/findings/{id}/mute",
        summary: "Mutes a finding with a reason (JSON `{\"reason\": ...}`).",
        params: &[PATH_FINDING_ID],
        access: Access::Change(Role::Analyst),
        handler: |method| on(method, mute),
    },
    Route {
        method: Method::Post,
        path: "/api/findings/{id}/unmute",
        summary: "Removes a person's mute.",
        params: &[PATH_FINDING_ID],
        access: Access::Change(Role::Analyst),
        handler: |method| on(method, unmute),
    },
    Route {
        method: Method::Get,
        path: "/api/resources",
        summary: "A page of resources, filtered (tag as KEY or KEY=VALUE); `after` is the cursor, `limit` at most 10,000.",
        params: &[RESOURCE_FILTERS, PAGING],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, resources),
    },
    Route {
        method: Method::Get,
        path: "/api/resources/facets",
        summary: "Live resources counted by type, account and region.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, facets),
    },
    Route {
        method: Method::Get,
        path: "/api/resource",
        summary: "One resource (`arn`): its configuration timeline with the changes between versions, its findings, its internet exposure and who can access it.",
        params: &[RESOURCE_ARN],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, resource),
    },
    Route {
        method: Method::Get,
        path: "/api/diff",
        summary: "What changed between two scans (`from`, `to`; default the last two).",
        params: &[SCAN_PAIR],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, diff),
    },
    Route {
        method: Method::Get,
        path: "/api/alerts",
        summary: "A page of CloudTrail detection alerts, newest first (`level`, `rule_id`; `before` is the cursor, `limit` at most 10,000).",
        params: &[ALERT_FILTERS],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, alerts),
    },
    Route {
        method: Method::Get,
        path: "/api/exposure",
        summary: "Every internet-exposed endpoint of the latest analysed scan, with protocol, ports, sources and the path hop by hop.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, analyses::<Exposure>),
    },
    Route {
        method: Method::Get,
        path: "/api/iam/admins",
        summary: "Admin-equivalent principals of the latest analysed scan, and how.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, analyses::<Admin>),
    },
    Route {
        method: Method::Get,
        path: "/api/iam/escalation",
        summary: "Escalation paths to admin of the latest analysed scan, step by step.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, analyses::<EscalationPath>),
    },
    Route {
        method: Method::Get,
        path: "/api/iam/external",
        summary: "Resources and roles reachable from outside the account, with who, which actions and the narrowing conditions.",
        params: &[],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, analyses::<ExternalAccess>),
    },
    Route {
        method: Method::Get,
        path: "/api/audit",
        summary: "The audit log, newest first: who changed what, when and from where (mutes, unmutes, logins, users, keys, agents, fixes); admins only.",
        params: &[&[query_int("before", "cursor: the last entry's id of the previous page"), query_int("limit", "page size, 1 to 10000 (default 100)")]],
        access: Access::Read(Role::Admin),
        handler: |method| on(method, audit_log),
    },
    Route {
        method: Method::Get,
        path: "/api/users",
        summary: "The console's users with their roles; admins only.",
        params: &[],
        access: Access::Read(Role::Admin),
        handler: |method| on(method, users),
    },
    Route {
        method: Method::Post,
        path: "/api/users",
        summary: "Adds a user or changes one (JSON `name`, and `role`, `password`, `disabled` as needed); admins only.",
        params: &[],
        access: Access::Change(Role::Admin),
        handler: |method| on(method, change_user),
    },
    Route {
        method: Method::Get,
        path: "/api/fixes",
        summary: "Fixes applied to the account (`vigil fix`, its undo, watch automation), newest first: who, when, plan, calls, outcome, configuration before and after, inverse.",
        params: &[&[query("resource", "one resource's fixes (its ARN)"), query_int("limit", "at most this many, 1 to 10000 (default 1000)")]],
        access: Access::Read(Role::Viewer),
        handler: |method| on(method, fixes),
    },
];

pub use crate::error::error;

/// Runs `work` with the store on a blocking thread. A store's failure is answered by the one
/// error responder ([`crate::error::store`]).
pub async fn with_store<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&mut Store) -> Result<T, vigil_store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let state = Arc::clone(state);
    let joined = tokio::task::spawn_blocking(move || {
        let mut store = state.store.get().ok_or_else(|| crate::error::internal("no usable store connection (a request failed while holding one)"))?;
        work(&mut store).map_err(crate::error::store)
    })
    .await;
    joined.unwrap_or_else(|failure| Err(crate::error::internal(failure)))
}

fn respond<T: serde::Serialize>(result: Result<T, Response>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(response) => response,
    }
}

fn paging(query: &HashMap<String, String>) -> Result<(i64, usize), Response> {
    let after = match query.get("after") {
        Some(text) => text.parse::<i64>().map_err(|_| error(StatusCode::BAD_REQUEST, format!("`after` must be an integer cursor, not `{text}`")))?,
        None => 0,
    };
    let limit = match query.get("limit") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=10_000).contains(limit))
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "`limit` must be between 1 and 10000"))?,
        None => 100,
    };
    Ok((after, limit))
}

async fn dashboard(State(state): State<Shared>) -> Response {
    respond(with_store(&state, |store| store.dashboard()).await)
}

async fn fixes(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let resource = query.get("resource").filter(|value| !value.is_empty()).cloned();
    let limit = match query.get("limit").map(|value| value.parse::<usize>()) {
        None => 1000,
        Some(Ok(limit)) => limit.clamp(1, 10_000),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "`limit` must be a number"),
    };
    respond(with_store(&state, move |store| store.fixes(resource.as_deref(), limit)).await)
}

async fn scans(State(state): State<Shared>) -> Response {
    respond(with_store(&state, |store| store.scans()).await)
}

pub(crate) fn finding_filter(query: &HashMap<String, String>) -> FindingFilter {
    let get = |key: &str| query.get(key).filter(|value| !value.is_empty()).cloned();
    FindingFilter {
        severity: get("severity"),
        status: get("status"),
        lifecycle: get("lifecycle"),
        check_id: get("check_id"),
        service: get("service"),
        account_id: get("account_id"),
        region: get("region"),
        resource_arn: get("resource_arn"),
        q: get("q"),
        sort: get("sort"),
        failing: query.get("failing").is_some_and(|value| value == "1" || value == "true"),
    }
}

async fn findings(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let (after, limit) = match paging(&query) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let filter = finding_filter(&query);
    respond(with_store(&state, move |store| store.findings_page(&filter, after, limit)).await)
}

/// The longest mute reason, in characters: a sentence or two, not a document.
pub const MUTE_REASON_MAX: usize = 500;

/// Records a change made through the console in the audit log, with who and from where.
pub(crate) fn audit(
    store: &mut Store,
    caller: &Caller,
    address: &ClientAddress,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<i64, vigil_store::StoreError> {
    let at = crate::pages::chrono_now();
    store.record_audit(&AuditInput { at: &at, actor: &caller.actor(), action, target, detail, address: &address.0, outcome: "success" })
}

async fn mute(
    State(state): State<Shared>,
    Path(id): Path<i64>,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
    Json(body): Json<Value>,
) -> Response {
    let Some(reason) = body.get("reason").and_then(Value::as_str).map(str::trim).filter(|reason| !reason.is_empty()).map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "a mute needs a non-empty `reason`");
    };
    if let Err(message) = crate::params::text("reason", &reason) {
        return error(StatusCode::BAD_REQUEST, message);
    }
    if reason.chars().count() > MUTE_REASON_MAX {
        return error(StatusCode::BAD_REQUEST, format!("`reason` is longer than {MUTE_REASON_MAX} characters"));
    }
    let muted = with_store(&state, move |store| {
        let muted = store.mute_finding(id, &reason)?;
        if muted {
            audit(store, &caller, &address, "finding.mute", &id.to_string(), &reason)?;
        }
        Ok(muted)
    });
    match muted.await {
        Ok(true) => Json(json!({ "id": id, "muted": true })).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no finding {id}")),
        Err(response) => response,
    }
}

async fn unmute(
    State(state): State<Shared>,
    Path(id): Path<i64>,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
) -> Response {
    let unmuted = with_store(&state, move |store| {
        let unmuted = store.unmute_finding(id)?;
        if unmuted {
            audit(store, &caller, &address, "finding.unmute", &id.to_string(), "")?;
        }
        Ok(unmuted)
    });
    match unmuted.await {
        Ok(true) => Json(json!({ "id": id, "muted": false })).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no finding {id}")),
        Err(response) => response,
    }
}

async fn audit_log(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let before = query.get("before").and_then(|text| text.parse::<i64>().ok()).unwrap_or(0);
    let limit = match paging(&query) {
        Ok((_, limit)) => limit,
        Err(response) => return response,
    };
    respond(with_store(&state, move |store| store.audit(before, limit)).await)
}

async fn users(State(state): State<Shared>) -> Response {
    respond(with_store(&state, |store| store.users()).await)
}

/// Adds a user or changes one (JSON `{"name", "role"?, "password"?, "disabled"?}`), each change
/// in the audit log.
async fn change_user(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Extension(address): Extension<ClientAddress>,
    Json(body): Json<Value>,
) -> Response {
    let Some(name) = body.get("name").and_then(Value::as_str).map(str::trim).map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "a user change needs `name`");
    };
    if let Err(message) = valid_user_name(&name) {
        return error(StatusCode::BAD_REQUEST, message);
    }
    let role = match body.get("role").and_then(Value::as_str) {
        None => None,
        Some(text) => match Role::parse(text) {
            Some(role) => Some(role),
            None => return error(StatusCode::BAD_REQUEST, format!("`role` must be viewer, analyst or admin, not `{text}`")),
        },
    };
    let password_hash = match body.get("password").and_then(Value::as_str) {
        None => None,
        Some(password) if password.chars().count() < crate::auth::PASSWORD_MIN => {
            return error(StatusCode::BAD_REQUEST, format!("`password` must have at least {} characters", crate::auth::PASSWORD_MIN));
        }
        Some(password) => match crate::auth::hash_password(password) {
            Ok(hash) => Some(hash),
            Err(failure) => return crate::error::internal(failure),
        },
    };
    let disabled = body.get("disabled").and_then(Value::as_bool);
    let changed = with_store(&state, move |store| {
        let exists = store.user_login(&name)?.is_some();
        let mut changes = Vec::new();
        if !exists {
            let role = role.unwrap_or(Role::Viewer);
            store.add_user(&name, role, password_hash.as_deref(), &crate::pages::chrono_now())?;
            changes.push(("user.add", role.as_str().to_string()));
        } else {
            if let Some(role) = role {
                store.set_user_role(&name, role)?;
                changes.push(("user.set-role", role.as_str().to_string()));
            }
            if let Some(hash) = &password_hash {
                store.set_user_password(&name, hash)?;
                changes.push(("user.password", String::new()));
            }
        }
        if let Some(disabled) = disabled {
            store.set_user_disabled(&name, disabled)?;
            changes.push((if disabled { "user.disable" } else { "user.enable" }, String::new()));
        }
        for (action, detail) in &changes {
            audit(store, &caller, &address, action, &name, detail)?;
        }
        Ok(json!({ "name": name, "created": !exists, "changes": changes.iter().map(|(action, _)| action).collect::<Vec<_>>() }))
    });
    respond(changed.await)
}

/// A user name: 1 to 64 letters, digits and `.-_@`.
pub fn valid_user_name(name: &str) -> Result<(), String> {
    let allowed = |character: char| character.is_ascii_alphanumeric() || ".-_@".contains(character);
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(allowed) {
        let quoted: String = name.chars().take(40).collect();
        return Err(format!("user name `{quoted}` must be 1 to 64 letters, digits, `.`, `-`, `_` or `@`"));
    }
    Ok(())
}

pub(crate) fn resource_filter(query: &HashMap<String, String>) -> ResourceFilter {
    let get = |key: &str| query.get(key).filter(|value| !value.is_empty()).cloned();
    ResourceFilter {
        resource_type: get("resource_type"),
        account_id: get("account_id"),
        region: get("region"),
        state: get("state"),
        q: get("q"),
        tag: get("tag"),
    }
}

async fn resources(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let (after, limit) = match paging(&query) {
        Ok(paging) => paging,
        Err(response) => return response,
    };
    let filter = resource_filter(&query);
    respond(with_store(&state, move |store| store.resources_page(&filter, after, limit)).await)
}

async fn resource(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(arn) = query.get("arn").cloned() else {
        return error(StatusCode::BAD_REQUEST, "`arn` is required");
    };
    respond(
        with_store(&state, move |store| {
            let history = store.history(&arn)?;
            let findings = store.findings(Some(&arn), &[])?;
            let about = store.analyses_about(&arn)?;
            Ok(json!({
                "arn": arn,
                "versions": history,
                "findings": findings,
                "exposure": about.exposure,
                "access": about.access,
                "external_access": about.external,
            }))
        })
        .await,
    )
}

async fn diff(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let parse = |key: &str| query.get(key).map(|text| text.parse::<i64>().map_err(|_| error(StatusCode::BAD_REQUEST, format!("`{key}` must be a scan id"))));
    let (from, to) = match (parse("from").transpose(), parse("to").transpose()) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    respond(
        with_store(&state, move |store| {
            let (from, to) = match (from, to) {
                (Some(from), Some(to)) => (from, to),
                _ => store.last_two_scans()?.ok_or_else(|| vigil_store::StoreError::NotFound("the store holds fewer than two scans".into()))?,
            };
            store.diff(from, to)
        })
        .await,
    )
}

async fn compliance(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    match query.get("framework").filter(|name| !name.is_empty()) {
        None => respond(with_store(&state, |store| store.compliance()).await),
        Some(name) => {
            let Some(framework) = vigil_checks::frameworks::find(name) else {
                return error(StatusCode::BAD_REQUEST, format!("unknown framework `{name}`: use cis, fsbp, pci or nist"));
            };
            match with_store(&state, |store| store.check_counts()).await {
                Ok(counts) => {
                    let rows = vigil_checks::frameworks::summarize_counts(framework, |check| counts.get(check).copied().unwrap_or_default());
                    Json(json!({ "framework": framework.id, "name": framework.name, "requirements": rows })).into_response()
                }
                Err(response) => response,
            }
        }
    }
}

async fn finding_groups(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let by = query.get("by").cloned().unwrap_or_else(|| "check_id".to_string());
    let filter = finding_filter(&query);
    match with_store(&state, move |store| store.finding_groups_filtered(&by, &filter)).await {
        Ok(groups) => Json(groups.into_iter().map(|(value, count)| json!({ "value": value, "count": count })).collect::<Vec<_>>()).into_response(),
        Err(response) => response,
    }
}

async fn finding(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(id) = query.get("id").and_then(|text| text.parse::<i64>().ok()) else {
        return error(StatusCode::BAD_REQUEST, "`id` must be a finding id");
    };
    match with_store(&state, move |store| store.finding(id)).await {
        Ok(Some(finding)) => {
            let check = vigil_checks::find(&finding.check_id).map(|check| {
                let metadata = check.metadata();
                json!({
                    "title": metadata.title,
                    "risk": metadata.risk,
                    "remediation": { "text": metadata.remediation.text, "cli": metadata.remediation.cli, "terraform": metadata.remediation.terraform },
                    "references": metadata.references,
                    "frameworks": metadata.frameworks.iter().map(|(framework, requirement)| json!({ "framework": framework, "requirement": requirement })).collect::<Vec<_>>(),
                })
            });
            Json(json!({ "finding": finding, "check": check })).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no finding {id}")),
        Err(response) => response,
    }
}

async fn facets(State(state): State<Shared>) -> Response {
    respond(with_store(&state, |store| store.facets()).await)
}

async fn alerts(State(state): State<Shared>, Query(query): Query<HashMap<String, String>>) -> Response {
    let before = match query.get("before").map(|text| text.parse::<i64>()) {
        Some(Ok(before)) => before,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "`before` must be an integer cursor"),
        None => 0,
    };
    let limit = match paging(&query) {
        Ok((_, limit)) => limit,
        Err(response) => return response,
    };
    let level = query.get("level").filter(|value| !value.is_empty()).cloned();
    let rule = query.get("rule_id").filter(|value| !value.is_empty()).cloned();
    respond(with_store(&state, move |store| store.alerts_page(level.as_deref(), rule.as_deref(), before, limit)).await)
}

/// The latest analysed scan's results of one kind: `{scan_id, items: [{account_id, subject, detail}]}`.
async fn analyses<T: AnalysisKind + Send + 'static>(State(state): State<Shared>) -> Response {
    respond(
        with_store(&state, move |store| {
            let scan = store.analysed_scan()?;
            let items = store.analyses::<T>()?;
            Ok(json!({ "scan_id": scan, "items": items }))
        })
        .await,
    )
}
