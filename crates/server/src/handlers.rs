//! The API's handlers: each reads the store on a blocking thread and answers JSON.

// A failed step returns the finished error response (`Result<_, Response>`), axum's idiom; the
// size of `Response` does not matter on these paths.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::{Value, json};
use vigil_store::Store;
use vigil_store::query::{FindingFilter, ResourceFilter};

use crate::AppState;

type Shared = Arc<AppState>;

/// The handler of one entry of [`crate::ROUTES`].
pub fn for_route(method: &str, path: &str) -> MethodRouter<Shared> {
    use crate::{pages, views};
    match (method, path) {
        ("GET", "/api/openapi.json") => get(|| async { Json(crate::openapi::document()) }),
        ("GET", "/api/dashboard") => get(dashboard),
        ("GET", "/api/compliance") => get(compliance),
        ("GET", "/api/scans") => get(scans),
        ("GET", "/api/findings") => get(findings),
        ("GET", "/api/findings/groups") => get(finding_groups),
        ("GET", "/api/finding") => get(finding),
        ("POST", "/api/findings/{id}/mute") => post(mute),
        ("POST", "/api/findings/{id}/unmute") => post(unmute),
        ("GET", "/api/resources") => get(resources),
        ("GET", "/api/resources/facets") => get(facets),
        ("GET", "/api/resource") => get(resource),
        ("GET", "/api/diff") => get(diff),
        ("GET", "/api/alerts") => get(alerts),
        ("GET", "/api/agents") => get(crate::agent_views::api_agents),
        ("GET", "/api/agent") => get(crate::agent_views::api_agent),
        ("GET", "/agents") => get(crate::agent_views::agents),
        ("GET", "/agent") => get(crate::agent_views::agent),
        ("GET", "/api/exposure") => get(|state: State<Shared>| analyses(state, "exposure")),
        ("GET", "/api/iam/admins") => get(|state: State<Shared>| analyses(state, "admin")),
        ("GET", "/api/iam/escalation") => get(|state: State<Shared>| analyses(state, "escalation")),
        ("GET", "/api/iam/external") => get(|state: State<Shared>| analyses(state, "external")),
        ("POST", "/logout") => post(pages::logout),
        ("GET", "/login") => get(pages::login_form),
        ("POST", "/login") => post(pages::login),
        ("GET", "/") => get(views::dashboard),
        ("GET", "/compliance") => get(views::compliance),
        ("GET", "/findings") => get(views::findings),
        ("GET", "/finding") => get(views::finding),
        ("GET", "/resources") => get(views::resources),
        ("GET", "/resource") => get(views::resource),
        ("GET", "/exposure") => get(views::exposure),
        ("GET", "/identities") => get(views::identities),
        ("GET", "/activity") => get(views::activity),
        ("GET", "/scans") => get(views::scans),
        ("GET", "/static/app.css") => get(pages::stylesheet),
        ("GET", "/static/app.js") => get(pages::script),
        _ => get(|| async { StatusCode::NOT_FOUND }),
    }
}

/// An error as JSON with its status.
pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

/// Runs `work` with the store on a blocking thread.
pub async fn with_store<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&mut Store) -> Result<T, vigil_store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let state = Arc::clone(state);
    let joined = tokio::task::spawn_blocking(move || {
        let mut store =
            state.store.get().ok_or_else(|| error(StatusCode::INTERNAL_SERVER_ERROR, "no usable store connection (a request failed while holding one)"))?;
        work(&mut store).map_err(|failure| match failure {
            vigil_store::StoreError::NotFound(message) => error(StatusCode::NOT_FOUND, message),
            other => error(StatusCode::INTERNAL_SERVER_ERROR, other),
        })
    })
    .await;
    joined.unwrap_or_else(|failure| Err(error(StatusCode::INTERNAL_SERVER_ERROR, failure)))
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

async fn mute(State(state): State<Shared>, Path(id): Path<i64>, Json(body): Json<Value>) -> Response {
    let Some(reason) = body.get("reason").and_then(Value::as_str).map(str::trim).filter(|reason| !reason.is_empty()).map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "a mute needs a non-empty `reason`");
    };
    match with_store(&state, move |store| store.mute_finding(id, &reason)).await {
        Ok(true) => Json(json!({ "id": id, "muted": true })).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no finding {id}")),
        Err(response) => response,
    }
}

async fn unmute(State(state): State<Shared>, Path(id): Path<i64>) -> Response {
    match with_store(&state, move |store| store.unmute_finding(id)).await {
        Ok(true) => Json(json!({ "id": id, "muted": false })).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no finding {id}")),
        Err(response) => response,
    }
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
            let analyses = store.analyses_about(&arn)?;
            let of_kind = |kind: &str| analyses.iter().filter(|row| row.kind == kind).map(|row| row.body.clone()).collect::<Vec<_>>();
            Ok(json!({
                "arn": arn,
                "versions": history,
                "findings": findings,
                "exposure": of_kind("exposure"),
                "access": of_kind("access"),
                "external_access": of_kind("external"),
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

async fn analyses(State(state): State<Shared>, kind: &'static str) -> Response {
    respond(
        with_store(&state, move |store| {
            let scan = store.analysed_scan()?;
            let rows = store.analyses(kind)?;
            Ok(json!({ "scan_id": scan, "items": rows.into_iter().map(|row| json!({ "account_id": row.account_id, "subject": row.subject, "detail": row.body })).collect::<Vec<_>>() }))
        })
        .await,
    )
}
