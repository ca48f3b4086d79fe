//! The agent API under `/agent/v1` (wire types in `vigil_fleet::wire`): enrolment, heartbeat,
//! policy, event batches and secret rotation. Its routes are in the route table ([`ROUTES`])
//! with their own access kinds: [`Access::Enrolment`] (the body proves the host) and
//! [`Access::Agent`] (each agent's secret, kept as a SHA-256 hash, checked by the guard through
//! [`authenticate`]); console sessions, tokens and CSRF do not apply. They are served on the
//! console's listener and, with `--agent-listen`, on a listener of their own. Every refusal
//! answers a [`Refusal`] (reason code and a sentence) and is logged; a refused request stores
//! nothing. The lifecycle sweep ([`sweep`]) runs beside it.

// Handlers return finished error responses (`Result<_, Response>`), axum's idiom.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use sha2::{Digest, Sha256};
use vigil_fleet::identity::{IdentityDocument, TrustedCertificates};
use vigil_fleet::lifecycle::Status;
use vigil_fleet::wire::{self, Ack, Batch, CommandsAck, EnrolRequest, Enrolled, Heartbeat, HeartbeatReply, Reason, Refusal, Rotated};
use vigil_fleet::{EffectivePolicy, HostPolicy, InstanceAttributes};
use vigil_store::agents::{AgentAuth, EnrolmentAttempt, NewAgent};
use vigil_store::{AlertInput, ResourceState};

use crate::routes::{Access, Method, Route, Shared};

/// The agent API. Bodies are read by [`body`], bounded by [`wire::MAX_BODY_BYTES`] and
/// refused with a [`Refusal`].
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Post,
        path: wire::ENROL,
        summary: "Enrols an agent: a signed EC2 instance identity document (PKCS#7) or an enrolment token; answers its id and secret, 202 while held pending, 403 with the reason.",
        params: &[],
        access: Access::Enrolment,
        handler: |method| on(method, enrol),
    },
    Route {
        method: Method::Post,
        path: wire::HEARTBEAT,
        summary: "An agent's heartbeat (health, queue, policy ETag); answers its status and current policy ETag.",
        params: &[],
        access: Access::Agent,
        handler: |method| on(method, heartbeat),
    },
    Route {
        method: Method::Get,
        path: wire::POLICY,
        summary: "The agent's effective host policy with its ETag (304 with `If-None-Match`).",
        params: &[],
        access: Access::Agent,
        handler: |method| on(method, policy),
    },
    Route {
        method: Method::Post,
        path: wire::EVENTS,
        summary: "A batch of sequenced agent events, stored once per (agent, sequence number) and acknowledged after commit.",
        params: &[],
        access: Access::Agent,
        handler: |method| on(method, events),
    },
    Route {
        method: Method::Get,
        path: wire::OSV,
        summary: "A page of the OSV advisories `vigil osv load` stored for one ecosystem (`ecosystem`, `after`), with their version (304 when `If-None-Match` is that version and `after` is empty).",
        params: &[OSV_PARAMS],
        access: Access::Agent,
        handler: |method| on(method, osv),
    },
    Route {
        method: Method::Post,
        path: wire::COMMANDS_ACK,
        summary: "The agent holds these commands (given in the console, sent in heartbeat replies): they are not sent again.",
        params: &[],
        access: Access::Agent,
        handler: |method| on(method, commands_ack),
    },
    Route {
        method: Method::Post,
        path: wire::ROTATE,
        summary: "A new secret for the agent; the old one works until the new one is used.",
        params: &[],
        access: Access::Agent,
        handler: |method| on(method, rotate),
    },
];

const OSV_PARAMS: &[crate::routes::Param] = &[
    crate::routes::query("ecosystem", "the OSV ecosystem without release (`Debian`, `Ubuntu`, `Red Hat`...)"),
    crate::routes::query("after", "the id the previous page ended with (empty: the first page)"),
];

/// The most advisories in one page, and the most bytes of records (the agent reads at most
/// 8 MiB a reply).
const OSV_PAGE_RECORDS: usize = 2_000;
const OSV_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The advisories stored for an ecosystem, a page at a time; 404 when there are none.
async fn osv(
    State(state): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let ecosystem = query.get("ecosystem").cloned().unwrap_or_default();
    let after = query.get("after").cloned().unwrap_or_default();
    if ecosystem.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, Reason::Malformed, "parameter `ecosystem` is required");
    }
    let lookup = ecosystem.clone();
    let result = store(&state, move |store| {
        let Some(version) = store.osv_version(&lookup)? else { return Ok(None) };
        Ok(Some((version, store.osv_page(&lookup, &after, OSV_PAGE_RECORDS)?, after)))
    })
    .await;
    let (version, page, after) = match result {
        Ok(Some(found)) => found,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                Reason::Unavailable,
                format!("the server holds no OSV advisories for `{ecosystem}`: load them with `vigil osv load PATH`"),
            );
        }
        Err(response) => return response,
    };
    let quoted = format!("\"{version}\"");
    let unchanged = after.is_empty()
        && headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()).is_some_and(|value| value.trim() == quoted || value.trim() == version);
    if unchanged {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, quoted)]).into_response();
    }
    // The stored records are JSON already: the page is written around them, not re-parsed.
    let mut records = String::from("[");
    let mut next = page.next.clone();
    for (index, (_, record)) in page.records.iter().enumerate() {
        if index > 0 && records.len() + record.len() > OSV_PAGE_BYTES {
            next = page.records.get(index - 1).map(|(id, _)| id.clone());
            break;
        }
        if index > 0 {
            records.push(',');
        }
        records.push_str(record);
    }
    records.push(']');
    let body = format!(
        "{{\"version\":{},\"next\":{},\"records\":{records}}}",
        serde_json::Value::String(version.clone()),
        next.map_or(serde_json::Value::Null, serde_json::Value::String)
    );
    ([(header::ETAG, quoted), (header::CONTENT_TYPE, "application/json".to_string())], body).into_response()
}

/// The agent a request's credential proved: put in the request by the guard for
/// [`Access::Agent`] routes.
#[derive(Debug, Clone)]
pub struct AgentCaller {
    pub agent_id: String,
    pub auth: AgentAuth,
}

/// Called with the alerts a lifecycle sweep raised.
pub type AlertHook = Box<dyn Fn(&[AlertInput]) + Send + Sync>;

/// What the agent API needs beside the store.
pub struct Fleet {
    pub trusted: TrustedCertificates,
    pub policy: HostPolicy,
    pub heartbeat_seconds: u64,
    pub missing_after_seconds: i64,
    /// Batch commits in flight at most; beyond, agents are told to come back (503).
    pub commits: tokio::sync::Semaphore,
    /// Called with the alerts each sweep raised (the CLI queues notifications).
    pub on_alerts: Option<AlertHook>,
    /// The server's detections on the host log records agents ship (`logs.detect: server` or
    /// `both`), run in each batch's transaction; `None` stores records without evaluating them.
    pub host_detections: Option<Arc<vigil_host::logs::detect::RecordEvaluator>>,
}

impl Fleet {
    pub fn new(trusted: TrustedCertificates, policy: HostPolicy, heartbeat_seconds: u64, missing_after_seconds: i64) -> Fleet {
        Fleet { trusted, policy, heartbeat_seconds, missing_after_seconds, commits: tokio::sync::Semaphore::new(3), on_alerts: None, host_detections: None }
    }
}

fn now() -> (String, i64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seconds = now.as_secs() as i64;
    (format_unix(seconds), seconds)
}

/// RFC 3339 (UTC, seconds) of a Unix time.
pub fn format_unix(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Parses the RFC 3339 times AWS writes (`2026-01-02T03:04:05Z`, fractions and offsets
/// allowed) into Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |from: usize, to: usize| text.get(from..to)?.parse::<i64>().ok();
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    if bytes.get(10).is_none_or(|byte| *byte != b'T' && *byte != b' ') {
        return None;
    }
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        rest = fraction.trim_start_matches(|character: char| character.is_ascii_digit());
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let hours = rest.get(1..3)?.parse::<i64>().ok()?;
            let minutes = rest.get(4..6).and_then(|text| text.parse::<i64>().ok()).unwrap_or(0);
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// How the server keeps agent secrets and enrolment tokens: their SHA-256, in hex.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn hash(secret: &str) -> String {
    secret_hash(secret)
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, reason: Reason, error: impl Into<String>) -> Response {
    let error = error.into();
    tracing::warn!(
        "agent API: refused ({}): {error}",
        serde_json::to_value(reason).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
    );
    let retry_after = matches!(reason, Reason::Pending | Reason::InstanceNotRunning | Reason::Unavailable).then_some(60);
    let mut response = (status, axum::Json(Refusal { reason, error, retry_after_seconds: retry_after })).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
    }
    response
}

/// The store or the server failed: the detail (a SQL statement, the store's location) goes to
/// the log under a request id, and the agent gets only that id.
fn unavailable(error: impl std::fmt::Display) -> Response {
    let request_id = crate::auth::random_hex(8).unwrap_or_else(|_| "unavailable".to_string());
    tracing::error!(request_id = %request_id, "agent API request failed: {error}");
    refuse(StatusCode::SERVICE_UNAVAILABLE, Reason::Unavailable, format!("the server cannot do it now (its log has the detail under request id {request_id})"))
}

fn fleet(state: &Shared) -> Result<&Fleet, Response> {
    state.fleet.as_ref().ok_or_else(|| refuse(StatusCode::NOT_FOUND, Reason::Unavailable, "this server does not serve agents"))
}

/// Runs store work on a blocking thread; a store failure is `unavailable` (the agent retries).
async fn store<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&mut vigil_store::Store) -> Result<T, vigil_store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let state = Arc::clone(state);
    let joined = tokio::task::spawn_blocking(move || {
        let mut store = state.store.get().ok_or_else(|| unavailable("no usable store connection"))?;
        work(&mut store).map_err(unavailable)
    })
    .await;
    joined.unwrap_or_else(|failure| Err(unavailable(failure)))
}

/// Reads the body, at most [`wire::MAX_BODY_BYTES`], as JSON of type `T`.
async fn body<T: serde::de::DeserializeOwned>(request: Request, what: &str) -> Result<T, Response> {
    let bytes: Bytes = axum::body::to_bytes(request.into_body(), wire::MAX_BODY_BYTES)
        .await
        .map_err(|_| refuse(StatusCode::PAYLOAD_TOO_LARGE, Reason::TooLarge, format!("the {what} is larger than {} bytes", wire::MAX_BODY_BYTES)))?;
    serde_json::from_slice(&bytes).map_err(|error| refuse(StatusCode::BAD_REQUEST, Reason::Malformed, format!("the {what} is not valid: {error}")))
}

/// The agent a request's `Authorization` names, if its secret (or the next one, after a
/// rotation: then promoted) is right and the agent not retired; else the refusal.
pub(crate) async fn authenticate(state: &Shared, headers: &HeaderMap) -> Result<AgentCaller, Response> {
    let header = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let Some((agent_id, secret)) = wire::credential(header) else {
        return Err(refuse(StatusCode::UNAUTHORIZED, Reason::Unauthenticated, "no agent credential (`Authorization: Bearer <agent id>.<secret>`)"));
    };
    let (agent_id, presented) = (agent_id.to_string(), hash(secret));
    let lookup = agent_id.clone();
    let record = store(state, move |store| store.agent_auth(&lookup)).await?;
    let Some(record) = record else {
        return Err(refuse(StatusCode::UNAUTHORIZED, Reason::Unauthenticated, format!("no agent `{agent_id}`")));
    };
    if let Some(revoked_at) = &record.revoked_at {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            Reason::Revoked,
            format!("agent `{agent_id}` was retired at {revoked_at}: {}", record.revoked_reason.as_deref().unwrap_or("revoked")),
        ));
    }
    if same(&presented, &record.secret_hash) {
        return Ok(AgentCaller { agent_id, auth: record });
    }
    if record.next_secret_hash.as_deref().is_some_and(|next| same(&presented, next)) {
        let id = agent_id.clone();
        store(state, move |store| store.promote_secret(&id)).await?;
        return Ok(AgentCaller { agent_id, auth: record });
    }
    Err(refuse(StatusCode::UNAUTHORIZED, Reason::Unauthenticated, format!("wrong secret for agent `{agent_id}`")))
}

fn random_hex(bytes: usize) -> Result<String, Response> {
    crate::auth::random_hex(bytes).map_err(unavailable)
}

async fn enrol(State(state): State<Shared>, request: Request) -> Response {
    match enrol_inner(&state, request).await {
        Ok(response) | Err(response) => response,
    }
}

/// The outcome of the checks on a verified identity.
enum Joined {
    Instance { document: IdentityDocument },
    Pending { reason: Reason, message: String, document: IdentityDocument },
}

async fn enrol_inner(state: &Shared, request: Request) -> Result<Response, Response> {
    let fleet = fleet(state)?;
    let enrolment: EnrolRequest = body(request, "enrolment request").await?;
    let (at, at_unix) = now();
    let hostname: String = enrolment.hostname.chars().take(255).collect();
    let log = |outcome: &str, reason: &str, detail: &str, document: Option<&IdentityDocument>, agent_id: Option<&str>| EnrolmentAttempt {
        at: at.clone(),
        instance_id: document.map(|document| document.instance_id.clone()),
        account_id: document.map(|document| document.account_id.clone()),
        region: document.map(|document| document.region.clone()),
        hostname: hostname.clone(),
        outcome: outcome.into(),
        reason: reason.into(),
        detail: detail.into(),
        agent_id: agent_id.map(str::to_string),
    };
    let record = |attempt: EnrolmentAttempt| {
        let state = Arc::clone(state);
        async move {
            let _ = store(&state, move |store| store.record_enrolment(&attempt)).await;
        }
    };
    let refused = |status: StatusCode, reason: Reason, message: String, document: Option<&IdentityDocument>| {
        let code = serde_json::to_value(reason).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default();
        let outcome = if status == StatusCode::ACCEPTED { "pending" } else { "refused" };
        (log(outcome, &code, &message, document, None), refuse(status, reason, message))
    };
    // The identity, verified, then joined to the inventory's instance.
    let joined = match &enrolment.identity {
        None => None,
        Some(identity) => {
            let verified = match vigil_fleet::identity::verify(&identity.pkcs7, Some(identity.document.as_bytes()), &fleet.trusted, at_unix) {
                Ok(verified) => verified,
                Err(error) => {
                    let (attempt, response) = refused(StatusCode::FORBIDDEN, Reason::BadSignature, error.to_string(), None);
                    record(attempt).await;
                    return Err(response);
                }
            };
            let document = verified.document;
            let (account, instance_id) = (document.account_id.clone(), document.instance_id.clone());
            let (managed, instance, existing) = store(state, move |store| {
                Ok((store.account_managed(&account)?, store.instance_record(&instance_id)?, store.agent_for_instance(&instance_id)?))
            })
            .await?;
            let refusal = if !managed {
                Some((
                    StatusCode::FORBIDDEN,
                    Reason::AccountNotManaged,
                    format!("account {} is not managed by this server: scan it first (`vigil scan` with its credentials)", document.account_id),
                ))
            } else if let Some(existing) = existing {
                Some((
                    StatusCode::FORBIDDEN,
                    Reason::AlreadyEnrolled,
                    format!(
                        "instance {} is already enrolled as agent {existing}; an instance is enrolled once (keep the agent's --state directory)",
                        document.instance_id
                    ),
                ))
            } else {
                match &instance {
                    Some(instance) if matches!(instance.state, ResourceState::Terminated | ResourceState::Deleted) => Some((
                        StatusCode::FORBIDDEN,
                        Reason::InstanceTerminated,
                        format!("instance {} is terminated: a document for it is a replay", document.instance_id),
                    )),
                    Some(instance) => {
                        let launched = instance.config.get("LaunchTime").and_then(|value| value.as_str()).and_then(parse_rfc3339);
                        let pending = document.pending_time.as_deref().and_then(parse_rfc3339);
                        match (launched, pending) {
                            // A document issued before the instance's current run (a stop and
                            // start moves LaunchTime): an old document replayed.
                            (Some(launched), Some(pending)) if pending + 60 < launched => Some((
                                StatusCode::FORBIDDEN,
                                Reason::StaleDocument,
                                format!(
                                    "the identity document of {} was issued for an earlier run (pendingTime {}, the instance's current launch {}): a replayed document",
                                    document.instance_id,
                                    document.pending_time.as_deref().unwrap_or("?"),
                                    format_unix(launched)
                                ),
                            )),
                            _ => None,
                        }
                    }
                    None => None,
                }
            };
            if let Some((status, reason, message)) = refusal {
                let (attempt, response) = refused(status, reason, message, Some(&document));
                record(attempt).await;
                return Err(response);
            }
            Some(match instance {
                None => Joined::Pending {
                    reason: Reason::Pending,
                    message: format!(
                        "instance {} is not in the inventory yet: enrolment is held until a scan or event shows it; retrying",
                        document.instance_id
                    ),
                    document,
                },
                Some(instance) if instance.state == ResourceState::Stopped => Joined::Pending {
                    reason: Reason::InstanceNotRunning,
                    message: format!("instance {} is stopped in the inventory: enrolment is held until a scan or event shows it running", document.instance_id),
                    document,
                },
                Some(_) => Joined::Instance { document },
            })
        }
    };
    // A token, when given, must be valid (and admits a host with no identity).
    let mut enrolled_by = "identity".to_string();
    if let Some(token) = &enrolment.token {
        let token_hash = hash(token.trim());
        let used = store(state, move |store| store.use_enrolment_token(&token_hash, at_unix)).await?;
        let document = match &joined {
            Some(Joined::Instance { document } | Joined::Pending { document, .. }) => Some(document.clone()),
            None => None,
        };
        let token_row = match used {
            Ok(token_row) => token_row,
            Err(message) => {
                let (attempt, response) = refused(StatusCode::FORBIDDEN, Reason::BadToken, message, document.as_ref());
                record(attempt).await;
                return Err(response);
            }
        };
        let in_scope = |key: &str, value: &str| {
            let patterns: Vec<String> = token_row.scope.get(key).and_then(|list| serde_json::from_value(list.clone()).ok()).unwrap_or_default();
            patterns.is_empty() || patterns.iter().any(|pattern| glob(pattern, value))
        };
        let account = document.as_ref().map(|document| document.account_id.clone()).unwrap_or_default();
        if !in_scope("hostnames", &hostname) || (!account.is_empty() && !in_scope("accounts", &account)) {
            let (attempt, response) = refused(
                StatusCode::FORBIDDEN,
                Reason::BadToken,
                format!("the enrolment token `{}` does not cover host `{hostname}`", token_row.id),
                document.as_ref(),
            );
            record(attempt).await;
            return Err(response);
        }
        enrolled_by = format!("token:{}", token_row.id);
    } else if joined.is_none() {
        let (attempt, response) = refused(
            StatusCode::BAD_REQUEST,
            Reason::NoCredential,
            "neither an instance identity document nor an enrolment token: on EC2 let the agent read IMDS; elsewhere pass --token".into(),
            None,
        );
        record(attempt).await;
        return Err(response);
    }
    let document = match joined {
        Some(Joined::Pending { reason, message, document }) if enrolment.token.is_none() => {
            let (attempt, response) = refused(StatusCode::ACCEPTED, reason, message, Some(&document));
            record(attempt).await;
            return Err(response);
        }
        Some(Joined::Pending { document, .. } | Joined::Instance { document }) => Some(document),
        None => None,
    };
    let agent_id = format!("agt-{}", random_hex(8)?);
    let secret = random_hex(32)?;
    let secret_hash = hash(&secret);
    let (id, by, host, version, at_text) =
        (agent_id.clone(), enrolled_by.clone(), hostname.clone(), enrolment.agent_version.chars().take(64).collect::<String>(), at.clone());
    let identity = document.clone();
    let existing = store(state, move |store| {
        store.enrol_agent(&NewAgent {
            id: &id,
            instance_id: identity.as_ref().map(|document| document.instance_id.as_str()),
            account_id: identity.as_ref().map(|document| document.account_id.as_str()),
            region: identity.as_ref().map(|document| document.region.as_str()),
            hostname: &host,
            agent_version: &version,
            enrolled_by: &by,
            secret_hash: &secret_hash,
            at: &at_text,
            at_unix,
        })
    })
    .await?;
    if let Some(existing) = existing {
        let instance = document.as_ref().map(|document| document.instance_id.clone()).unwrap_or_default();
        let (attempt, response) =
            refused(StatusCode::FORBIDDEN, Reason::AlreadyEnrolled, format!("instance {instance} is already enrolled as agent {existing}"), document.as_ref());
        record(attempt).await;
        return Err(response);
    }
    record(log("enrolled", "enrolled", &format!("by {enrolled_by}"), document.as_ref(), Some(&agent_id))).await;
    tracing::info!(
        "agent API: enrolled {agent_id} ({}, by {enrolled_by})",
        document.as_ref().map(|document| document.instance_id.as_str()).unwrap_or("no instance")
    );
    Ok(axum::Json(Enrolled {
        agent_id,
        secret,
        instance_id: document.as_ref().map(|document| document.instance_id.clone()),
        account: document.as_ref().map(|document| document.account_id.clone()),
        region: document.as_ref().map(|document| document.region.clone()),
        heartbeat_seconds: fleet.heartbeat_seconds,
    })
    .into_response())
}

use vigil_fleet::policy::glob;

/// The effective policy of an agent from its instance's current attributes.
async fn effective_policy(state: &Shared, auth: &AgentAuth) -> Result<EffectivePolicy, Response> {
    let fleet = fleet(state)?;
    let attributes = match auth.instance_id.clone() {
        None => InstanceAttributes::default(),
        Some(instance_id) => {
            let lookup = instance_id.clone();
            let record = store(state, move |store| store.instance_record(&lookup)).await?;
            match record {
                Some(record) => InstanceAttributes::from_inventory(&record.account_id, &record.region, &instance_id, &record.config, &record.tags),
                None => InstanceAttributes {
                    account: auth.account_id.clone().unwrap_or_default(),
                    region: auth.region.clone().unwrap_or_default(),
                    instance_id,
                    ..InstanceAttributes::default()
                },
            }
        }
    };
    Ok(fleet.policy.effective(&attributes))
}

async fn heartbeat(State(state): State<Shared>, Extension(caller): Extension<AgentCaller>, request: Request) -> Response {
    let result = async {
        let fleet = fleet(&state)?;
        let AgentCaller { agent_id, auth } = caller;
        let beat: Heartbeat = body(request, "heartbeat").await?;
        if beat.agent_id != agent_id {
            return Err(refuse(StatusCode::FORBIDDEN, Reason::WrongAgent, format!("agent `{agent_id}` sent a heartbeat for `{}`", beat.agent_id)));
        }
        let (at, at_unix) = now();
        let (health, queue) = (serde_json::to_value(&beat.modules).unwrap_or_default(), serde_json::to_value(&beat.queue).unwrap_or_default());
        let id = agent_id.clone();
        let (rotate, status, commands) = store(&state, move |store| {
            let rotate = store.record_heartbeat(
                &id,
                &at,
                at_unix,
                &beat.agent_version.chars().take(64).collect::<String>(),
                &beat.hostname.chars().take(255).collect::<String>(),
                beat.policy_etag.as_deref(),
                &health,
                &queue,
            )?;
            let status = store.agent(&id)?.map(|agent| agent.status).unwrap_or(Status::Online);
            Ok((rotate, status, store.pending_agent_commands(&id)?))
        })
        .await?;
        let policy = effective_policy(&state, &auth).await?;
        // A heartbeat answers `online`: the sweep records the change at its next pass.
        let status = if status == Status::Retired { Status::Retired } else { Status::Online };
        Ok(axum::Json(HeartbeatReply { status, policy_etag: policy.etag(), heartbeat_seconds: fleet.heartbeat_seconds, rotate, commands }).into_response())
    }
    .await;
    result.unwrap_or_else(|response| response)
}

async fn policy(State(state): State<Shared>, Extension(caller): Extension<AgentCaller>, headers: HeaderMap) -> Response {
    let result = async {
        let policy = effective_policy(&state, &caller.auth).await?;
        let etag = policy.etag();
        let quoted = format!("\"{etag}\"");
        let unchanged =
            headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()).is_some_and(|value| value.trim() == quoted || value.trim() == etag);
        if unchanged {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, quoted)]).into_response());
        }
        Ok(([(header::ETAG, quoted)], axum::Json(policy)).into_response())
    }
    .await;
    result.unwrap_or_else(|response| response)
}

/// Checks a batch before anything is stored: sequence numbers positive and increasing, the
/// envelope's fields present and bounded.
fn validate(batch: &Batch) -> Result<(), String> {
    if batch.events.is_empty() {
        return Err("the batch holds no event".into());
    }
    let mut previous = 0u64;
    for event in &batch.events {
        if event.seq == 0 || event.seq <= previous {
            return Err(format!("sequence number {} after {previous}: they must be positive and increasing", event.seq));
        }
        previous = event.seq;
        let fields = [
            ("id", event.event.id.as_str(), 256),
            ("module", event.event.module.as_str(), 64),
            ("kind", event.event.kind.as_str(), 64),
            ("time", event.event.time.as_str(), 64),
        ];
        for (name, value, limit) in fields {
            if value.is_empty() || value.len() > limit {
                return Err(format!("event {}: `{name}` must be 1 to {limit} bytes", event.seq));
            }
        }
        let size = event.event.payload.to_string().len();
        if size > wire::MAX_EVENT_BYTES {
            return Err(format!("event {}: the payload is {size} bytes, over {}", event.seq, wire::MAX_EVENT_BYTES));
        }
    }
    Ok(())
}

async fn events(State(state): State<Shared>, Extension(caller): Extension<AgentCaller>, request: Request) -> Response {
    let result = async {
        let fleet = fleet(&state)?;
        let agent_id = caller.agent_id;
        let batch: Batch = body(request, "batch").await?;
        if batch.agent_id != agent_id {
            return Err(refuse(StatusCode::FORBIDDEN, Reason::WrongAgent, format!("agent `{agent_id}` sent a batch for `{}`: nothing stored", batch.agent_id)));
        }
        if batch.events.len() > wire::MAX_BATCH_EVENTS {
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                Reason::TooLarge,
                format!("{} events in one batch, over {}", batch.events.len(), wire::MAX_BATCH_EVENTS),
            ));
        }
        validate(&batch).map_err(|message| refuse(StatusCode::BAD_REQUEST, Reason::Malformed, format!("{message}: nothing stored")))?;
        // Back-pressure: a few commits at a time; the others come back after `Retry-After`.
        let Ok(_permit) = fleet.commits.try_acquire() else {
            return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, Reason::Unavailable, "busy committing other batches; retry"));
        };
        let (at, at_unix) = now();
        let id = agent_id.clone();
        let detections = fleet.host_detections.clone();
        let outcome = store(&state, move |store| store.record_agent_events_detecting(&id, &batch.events, &at, at_unix, detections.as_deref())).await?;
        if outcome.not_records > 0 {
            tracing::warn!("agent API: {} `logs`/`record` events of agent {agent_id} are not host log records: stored, not evaluated", outcome.not_records);
        }
        let acked_through = outcome.last_seq;
        Ok(axum::Json(Ack { acked_through, stored: outcome.stored, duplicates: outcome.duplicates }).into_response())
    }
    .await;
    result.unwrap_or_else(|response| response)
}

/// The agent holds these commands durably: stop sending them. Ids of other agents' commands
/// change nothing.
async fn commands_ack(State(state): State<Shared>, Extension(caller): Extension<AgentCaller>, request: Request) -> Response {
    let result = async {
        let agent_id = caller.agent_id;
        let ack: CommandsAck = body(request, "acknowledgement").await?;
        if ack.agent_id != agent_id {
            return Err(refuse(StatusCode::FORBIDDEN, Reason::WrongAgent, format!("agent `{agent_id}` acknowledged commands for `{}`", ack.agent_id)));
        }
        if ack.ids.len() > vigil_store::agent_commands::MAX_PER_REPLY * 10 || ack.ids.iter().any(|id| id.is_empty() || id.len() > 64) {
            return Err(refuse(StatusCode::BAD_REQUEST, Reason::Malformed, "at most 1,000 command ids of 1 to 64 bytes"));
        }
        let (at, _) = now();
        store(&state, move |store| store.acknowledge_agent_commands(&agent_id, &ack.ids, &at)).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(|response| response)
}

async fn rotate(State(state): State<Shared>, Extension(caller): Extension<AgentCaller>) -> Response {
    let result = async {
        let agent_id = caller.agent_id;
        let secret = random_hex(32)?;
        let next_hash = hash(&secret);
        store(&state, move |store| store.set_next_secret(&agent_id, &next_hash)).await?;
        Ok(axum::Json(Rotated { secret }).into_response())
    }
    .await;
    result.unwrap_or_else(|response| response)
}

/// Recomputes every agent's status every `every`, forever: stores the changes, revokes the
/// agents of terminated instances, raises `missing` alerts (passed to `Fleet::on_alerts`).
pub async fn sweep(state: Shared, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(fleet) = state.fleet.as_ref() else { return };
        let missing_after = fleet.missing_after_seconds;
        let (at, at_unix) = now();
        let swept = store(&state, move |store| store.sweep_agents(&at, at_unix, missing_after)).await;
        let Ok(transitions) = swept else {
            tracing::warn!("agent lifecycle sweep failed; retrying at the next pass");
            continue;
        };
        for transition in &transitions {
            tracing::info!(
                "agent {} ({}): {} -> {}",
                transition.agent_id,
                transition.instance_id.as_deref().unwrap_or("no instance"),
                transition.before.as_str(),
                transition.after.as_str()
            );
        }
        let alerts: Vec<AlertInput> = transitions.into_iter().filter_map(|transition| transition.alert).collect();
        if !alerts.is_empty()
            && let Some(on_alerts) = &fleet.on_alerts
        {
            on_alerts(&alerts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_rfc3339() {
        for (text, unix) in [("1970-01-01T00:00:00Z", 0), ("2026-02-28T23:59:59Z", 1_772_323_199), ("2000-03-01T00:00:00Z", 951_868_800)] {
            assert_eq!(parse_rfc3339(text), Some(unix), "{text}");
            assert_eq!(format_unix(unix), text);
        }
        assert_eq!(parse_rfc3339("2026-02-28T23:59:59.123+01:00"), Some(1_772_323_199 - 3600));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn batches_are_checked_before_anything_is_stored() {
        let event = |seq: u64, id: &str| wire::Sequenced {
            seq,
            event: vigil_fleet::Event { id: id.into(), module: "m".into(), kind: "k".into(), time: "t".into(), payload: serde_json::json!({}) },
        };
        let batch = |events| Batch { agent_id: "a".into(), events };
        assert_eq!(validate(&batch(vec![event(1, "a"), event(2, "b")])), Ok(()));
        assert!(validate(&batch(vec![])).unwrap_err().contains("no event"));
        assert!(validate(&batch(vec![event(2, "a"), event(2, "b")])).unwrap_err().contains("increasing"));
        assert!(validate(&batch(vec![event(0, "a")])).unwrap_err().contains("positive"));
        assert!(validate(&batch(vec![event(1, "")])).unwrap_err().contains("`id`"));
        let mut big = event(1, "a");
        big.event.payload = serde_json::json!("x".repeat(wire::MAX_EVENT_BYTES + 1));
        assert!(validate(&batch(vec![big])).unwrap_err().contains("payload"));
    }
}
