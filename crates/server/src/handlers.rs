//! The API's handlers: each reads the store on a blocking thread and answers JSON.

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
    match (method, path) {
        ("GET", "/api/openapi.json") => get(|| async { Json(crate::openapi::document()) }),
        ("GET", "/api/dashboard") => get(dashboard),
        ("GET", "/api/scans") => get(scans),
        ("GET", "/api/findings") => get(findings),
        ("POST", "/api/findings/{id}/mute") => post(mute),
        ("POST", "/api/findings/{id}/unmute") => post(unmute),
        ("GET", "/api/resources") => get(resources),
        ("GET", "/api/resource") => get(resource),
        ("GET", "/api/diff") => get(diff),
        ("POST", "/logout") => post(crate::pages::logout),
        ("GET", "/login") => get(crate::pages::login_form),
        ("POST", "/login") => post(crate::pages::login),
        ("GET", "/") => get(crate::pages::dashboard),
        ("GET", "/findings") => get(crate::pages::findings),
        ("GET", "/resource") => get(crate::pages::resource),
        ("GET", "/static/app.css") => get(crate::pages::stylesheet),
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
        let mut store = state.store.lock().map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "the store lock is poisoned"))?;
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

fn resource_filter(query: &HashMap<String, String>) -> ResourceFilter {
    let get = |key: &str| query.get(key).filter(|value| !value.is_empty()).cloned();
    ResourceFilter { resource_type: get("resource_type"), account_id: get("account_id"), region: get("region"), state: get("state"), q: get("q") }
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
            Ok(json!({ "arn": arn, "versions": history, "findings": findings }))
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
