//! `vigil serve`: the HTTP API over the store, behind authentication, with security headers
//! and CSRF protection. Every route is declared once in [`ROUTES`]; the router is built from
//! that table and the OpenAPI document (`/api/openapi.json`) describes every entry of it.

pub mod agent_api;
mod agent_views;
pub mod auth;
mod charts;
mod handlers;
mod openapi;
mod pages;
pub mod tls;
mod views;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use vigil_store::Store;

pub use openapi::document as openapi_document;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read or write the console token file `{path}`: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    #[error("TLS: cannot use `{path}`: {reason}")]
    Tls { path: String, reason: String },
    #[error("cannot listen on {address}: {reason}")]
    Listen { address: String, reason: String },
}

/// Connections to the store, each used by one request at a time: requests run in parallel
/// up to their number (SQLite in WAL mode lets readers run beside a writer).
pub struct StorePool {
    connections: Vec<Mutex<Store>>,
    next: std::sync::atomic::AtomicUsize,
}

impl StorePool {
    /// A pool of the given open connections (at least one).
    pub fn new(connections: Vec<Store>) -> StorePool {
        StorePool { connections: connections.into_iter().map(Mutex::new).collect(), next: std::sync::atomic::AtomicUsize::new(0) }
    }

    /// A free connection if there is one, else waits for the next in turn.
    pub fn get(&self) -> Option<std::sync::MutexGuard<'_, Store>> {
        for connection in &self.connections {
            if let Ok(guard) = connection.try_lock() {
                return Some(guard);
            }
        }
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.connections.len().max(1);
        self.connections.get(turn)?.lock().ok()
    }
}

/// Shared state of the running server.
pub struct AppState {
    pub store: StorePool,
    pub auth: auth::Auth,
    /// Session cookies get `Secure` (served over TLS).
    pub secure_cookies: bool,
    /// The agent API's settings; `None` serves no agents.
    pub fleet: Option<agent_api::Fleet>,
}

/// How a route is reached: (method, path, what it does). The router and the OpenAPI document
/// both come from this table.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/openapi.json", "This OpenAPI document."),
    (
        "GET",
        "/api/dashboard",
        "Failing findings by severity, service, account and region; live resources by type; compliance per framework; the trend over the last 30 scans.",
    ),
    (
        "GET",
        "/api/compliance",
        "Each framework's requirements by status; with `framework` (cis, fsbp, pci, nist or an id), that framework's requirements one by one.",
    ),
    ("GET", "/api/scans", "Every scan, newest first."),
    (
        "GET",
        "/api/findings",
        "A page of findings, filtered (severity, status, lifecycle, check_id, service, account_id, region, resource_arn, q) and ordered (`sort`: severity, check, resource, newest); `after` is the cursor, `limit` at most 10,000.",
    ),
    (
        "GET",
        "/api/findings/groups",
        "Current findings counted by one dimension (`by`: check_id, service, severity, account_id, region, status, lifecycle); `failing=1` for failing ones only.",
    ),
    ("GET", "/api/finding", "One finding (`id`) with its check's risk, remediation, references and frameworks."),
    ("POST", "/api/findings/{id}/mute", "Mutes a finding with a reason (JSON `{\"reason\": ...}`)."),
    ("POST", "/api/findings/{id}/unmute", "Removes a person's mute."),
    (
        "GET",
        "/api/resources",
        "A page of resources, filtered (resource_type, account_id, region, state, q, tag as KEY or KEY=VALUE); `after` is the cursor, `limit` at most 10,000.",
    ),
    ("GET", "/api/resources/facets", "Live resources counted by type, account and region."),
    (
        "GET",
        "/api/resource",
        "One resource (`arn`): its configuration timeline with the changes between versions, its findings, its internet exposure and who can access it.",
    ),
    ("GET", "/api/diff", "What changed between two scans (`from`, `to`; default the last two)."),
    ("GET", "/api/alerts", "A page of CloudTrail detection alerts, newest first (`level`, `rule_id`; `before` is the cursor, `limit` at most 10,000)."),
    (
        "GET",
        "/api/agents",
        "Every vigil agent: id, instance, account, region, status (online, offline, missing, retired), last seen, version, policy, module health.",
    ),
    ("GET", "/api/agent", "One agent (`id`) with its latest events."),
    ("GET", "/api/exposure", "Every internet-exposed endpoint of the latest analysed scan, with protocol, ports, sources and the path hop by hop."),
    ("GET", "/api/iam/admins", "Admin-equivalent principals of the latest analysed scan, and how."),
    ("GET", "/api/iam/escalation", "Escalation paths to admin of the latest analysed scan, step by step."),
    ("GET", "/api/iam/external", "Resources and roles reachable from outside the account, with who, which actions and the narrowing conditions."),
    ("GET", "/login", "The login form."),
    ("POST", "/login", "Opens a browser session with the access token (form field `token`)."),
    ("POST", "/logout", "Closes the session."),
    ("GET", "/", "The dashboard page."),
    ("GET", "/compliance", "One framework's requirements (`framework`)."),
    ("GET", "/findings", "The findings page (same filters as the API, `sort`, `group`)."),
    ("GET", "/finding", "One finding's page (`id`): evidence, remediation, the resource, mute."),
    ("GET", "/resources", "The inventory browser (type, account, region, state, tag, search)."),
    ("GET", "/resource", "One resource's page (`arn`)."),
    ("GET", "/exposure", "The internet exposure page."),
    ("GET", "/identities", "Admin-equivalent principals, escalation paths and access from outside."),
    ("GET", "/activity", "CloudTrail detection alerts with their events."),
    ("GET", "/agents", "The agents: status, lifecycle, version, last seen, policy, instance, module health; enrolment attempts."),
    ("GET", "/agent", "One agent's page (`id`): identity, lifecycle, module health, latest events."),
    ("GET", "/scans", "Every scan and what changed between two (`from`, `to`)."),
    ("GET", "/static/app.css", "The console's stylesheet."),
    ("GET", "/static/app.js", "The console's script (mute and unmute with the CSRF header)."),
];

/// The application: routes from [`ROUTES`], authentication and security headers.
pub fn app(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (method, path, _) in ROUTES {
        router = router.route(path, handlers::for_route(method, path));
    }
    // The agent API has its own authentication: it is merged outside the console's guard.
    router
        .layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        .merge(agent_api::router())
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// The agent API alone, for `--agent-listen`.
pub fn agent_app(state: Arc<AppState>) -> Router {
    agent_api::router().layer(middleware::from_fn(security_headers)).with_state(state)
}

/// Routes anyone may reach: the login form, the stylesheet and the API description.
fn is_public(method: &str, path: &str) -> bool {
    matches!((method, path), ("GET", "/login") | ("POST", "/login") | ("GET", "/static/app.css") | ("GET", "/static/app.js") | ("GET", "/api/openapi.json"))
}

/// Authentication for everything but the public routes (401; a browser asking for a page is
/// redirected to the login form) and CSRF protection for state-changing requests.
async fn guard(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    if is_public(&method, &path) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let caller = auth::caller(&state.auth, text(header::AUTHORIZATION), text(header::COOKIE));
    let Some(caller) = caller else {
        if path.starts_with("/api/") || method != "GET" {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "authentication required\n").into_response();
        }
        // A browser navigating to a page (it asks for HTML) is sent to the login form; any
        // other client gets 401, with the form as the body.
        let browser = text(header::ACCEPT).is_some_and(|accept| accept.contains("text/html"));
        if browser {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
        }
        return (StatusCode::UNAUTHORIZED, pages::login_page()).into_response();
    };
    if method != "GET" && method != "HEAD" && !auth::may_change(&caller, headers.get("x-csrf-token").and_then(|value| value.to_str().ok())) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cross-origin-opener-policy", "same-origin");
    if api {
        set(headers, "cache-control", "no-store");
    }
    response
}

/// Binds and serves until the process ends, over TLS when `tls` is given. Prints the
/// address it listens on. With `agent_address`, the agent API is also served there alone;
/// with agents enabled, the lifecycle sweep runs every `sweep_every`.
pub async fn serve(
    state: Arc<AppState>,
    address: SocketAddr,
    tls: Option<tls::Certificate>,
    agent_address: Option<SocketAddr>,
    sweep_every: std::time::Duration,
) -> Result<(), ServerError> {
    if state.fleet.is_some() {
        tokio::spawn(agent_api::sweep(Arc::clone(&state), sweep_every));
    }
    let console = listen(app(Arc::clone(&state)), address, tls.as_ref(), "vigil console");
    match agent_address {
        None => console.await,
        Some(agent_address) => {
            let agents = listen(agent_app(state), agent_address, tls.as_ref(), "vigil agent API");
            tokio::try_join!(console, agents).map(|_| ())
        }
    }
}

async fn listen(app: Router, address: SocketAddr, tls: Option<&tls::Certificate>, what: &str) -> Result<(), ServerError> {
    let listen_error = |error: std::io::Error| ServerError::Listen { address: address.to_string(), reason: error.to_string() };
    let listener = tokio::net::TcpListener::bind(address).await.map_err(listen_error)?;
    let bound = listener.local_addr().map_err(listen_error)?;
    match tls {
        None => {
            eprintln!("{what} listening on http://{bound}");
            axum::serve(listener, app).await.map_err(listen_error)
        }
        Some(certificate) => {
            let listener = tls::TlsListener::new(listener, certificate.acceptor()?);
            eprintln!("{what} listening on https://{bound}");
            axum::serve(listener, app).await.map_err(listen_error)
        }
    }
}
