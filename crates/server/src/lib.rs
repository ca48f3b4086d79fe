//! `vigil serve`: the HTTP API over the store, behind authentication, with security headers
//! and CSRF protection. Every route is declared once in [`ROUTES`]; the router is built from
//! that table and the OpenAPI document (`/api/openapi.json`) describes every entry of it.

pub mod auth;
mod handlers;
mod openapi;
mod pages;

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
    #[error("cannot listen on {address}: {reason}")]
    Listen { address: String, reason: String },
}

/// Shared state of the running server.
pub struct AppState {
    pub store: Mutex<Store>,
    pub auth: auth::Auth,
}

/// How a route is reached: (method, path, what it does). The router and the OpenAPI document
/// both come from this table.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/openapi.json", "This OpenAPI document."),
    ("GET", "/api/dashboard", "Failing findings by severity, service, account and region; live resources by type; the trend over the last 30 scans."),
    ("GET", "/api/scans", "Every scan, newest first."),
    (
        "GET",
        "/api/findings",
        "A page of findings, filtered (severity, status, lifecycle, check_id, service, account_id, region, resource_arn, q); `after` is the cursor, `limit` at most 10,000.",
    ),
    ("POST", "/api/findings/{id}/mute", "Mutes a finding with a reason (JSON `{\"reason\": ...}`)."),
    ("POST", "/api/findings/{id}/unmute", "Removes a person's mute."),
    ("GET", "/api/resources", "A page of resources, filtered (resource_type, account_id, region, state, q); `after` is the cursor, `limit` at most 10,000."),
    ("GET", "/api/resource", "One resource (`arn`): its configuration timeline with the changes between versions, and its findings."),
    ("GET", "/api/diff", "What changed between two scans (`from`, `to`; default the last two)."),
    ("GET", "/login", "The login form."),
    ("POST", "/login", "Opens a browser session with the access token (form field `token`)."),
    ("POST", "/logout", "Closes the session."),
    ("GET", "/", "The dashboard page."),
    ("GET", "/findings", "The findings page (same filters as the API)."),
    ("GET", "/resource", "One resource's page (`arn`)."),
    ("GET", "/static/app.css", "The console's stylesheet."),
];

/// The application: routes from [`ROUTES`], authentication and security headers.
pub fn app(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (method, path, _) in ROUTES {
        router = router.route(path, handlers::for_route(method, path));
    }
    router.layer(middleware::from_fn_with_state(Arc::clone(&state), guard)).layer(middleware::from_fn(security_headers)).with_state(state)
}

/// Routes anyone may reach: the login form, the stylesheet and the API description.
fn is_public(method: &str, path: &str) -> bool {
    matches!((method, path), ("GET", "/login") | ("POST", "/login") | ("GET", "/static/app.css") | ("GET", "/api/openapi.json"))
}

/// Authentication for everything but the public routes (401 for the API, a redirect to the
/// login page for pages) and CSRF protection for state-changing requests.
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
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
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

/// Binds and serves until the process ends. Prints the address it listens on.
pub async fn serve(state: Arc<AppState>, address: SocketAddr) -> Result<(), ServerError> {
    let listener =
        tokio::net::TcpListener::bind(address).await.map_err(|error| ServerError::Listen { address: address.to_string(), reason: error.to_string() })?;
    let bound = listener.local_addr().map_err(|error| ServerError::Listen { address: address.to_string(), reason: error.to_string() })?;
    eprintln!("vigil console listening on http://{bound}");
    axum::serve(listener, app(state)).await.map_err(|error| ServerError::Listen { address: bound.to_string(), reason: error.to_string() })
}
