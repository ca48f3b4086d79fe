//! `vigil serve`: the HTTP API over the store, behind authentication, with security headers
//! and CSRF protection. Every route is declared once, in the route table ([`routes::all`]):
//! its method, path, summary, parameters, who may call it and its handler. The router, the
//! guard and the OpenAPI document (`/api/openapi.json`) are all built from that table.

pub mod agent_api;
#[cfg(test)]
mod agent_command_tests;
mod agent_views;
pub mod auth;
mod charts;
#[cfg(test)]
mod console_tests;
pub mod error;
mod handlers;
#[cfg(test)]
mod host_detect_tests;
mod host_views;
pub mod oidc;
#[cfg(test)]
mod oidc_tests;
mod openapi;
mod pages;
mod params;
#[cfg(test)]
mod people_tests;
pub mod routes;
pub mod tls;
mod views;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use routes::Access;
use vigil_store::Store;

pub use handlers::valid_user_name;
pub use openapi::document as openapi_document;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read or write the console token file `{path}`: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    #[error("cannot hash the password: {0}")]
    Password(String),
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
    /// Single sign-on with an OpenID Connect provider; `None` offers none.
    pub oidc: Option<oidc::Oidc>,
}

/// The application: one route per entry of the route table ([`routes::all`]), each behind
/// the guard with the route's own [`routes::Access`], and the security headers on every
/// response. A path outside the table is 404 to an authenticated caller, 401 to others.
pub fn app(state: Arc<AppState>) -> Router {
    let not_found = error::not_found.layer(middleware::from_fn_with_state(Gate::new(&state, Access::Read(routes::Role::Viewer)), guard));
    let tls = state.secure_cookies;
    router(&state, routes::all()).fallback(not_found).layer(middleware::from_fn_with_state(tls, security_headers)).with_state(state)
}

/// The agent API alone (the routes whose access [`Access::is_agent_api`]), for
/// `--agent-listen`: anything else there is 404.
pub fn agent_app(state: Arc<AppState>) -> Router {
    let routes = routes::all().filter(|route| route.access.is_agent_api());
    let tls = state.secure_cookies;
    router(&state, routes).fallback(error::not_found).layer(middleware::from_fn_with_state(tls, security_headers)).with_state(state)
}

/// A router of the given routes, each behind the guard with its own access and the parameter
/// validator with its own parameters.
fn router(state: &Arc<AppState>, routes: impl Iterator<Item = &'static routes::Route>) -> Router<routes::Shared> {
    let mut router = Router::new();
    for route in routes {
        // The guard runs first (a stranger gets 401, not a verdict on parameters), then the
        // parameter validator, then the handler.
        let handler = (route.handler)(route.method.filter()).layer(middleware::from_fn_with_state(route, params::check));
        router = router.route(route.path, handler.layer(middleware::from_fn_with_state(Gate::new(state, route.access), guard)));
    }
    router
}

/// What the guard of one route knows: the server's state and who may call the route.
#[derive(Clone)]
struct Gate {
    state: Arc<AppState>,
    access: Access,
}

impl Gate {
    fn new(state: &Arc<AppState>, access: Access) -> Gate {
        Gate { state: Arc::clone(state), access }
    }
}

/// Authentication for everything but public routes (401; a browser asking for a page is
/// redirected to the login form) and CSRF protection for the routes that change state. The
/// agent API's routes take an agent's credential instead, and nothing else.
async fn guard(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    match gate.access {
        Access::Public | Access::Enrolment => return next.run(request).await,
        Access::Agent => {
            return match agent_api::authenticate(&gate.state, request.headers()).await {
                Ok(agent) => {
                    request.extensions_mut().insert(agent);
                    next.run(request).await
                }
                Err(refusal) => refusal,
            };
        }
        Access::Read(_) | Access::Change(_) => {}
    }
    let address = client_address(&request);
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let headers = request.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string);
    let (authorization, cookie) = (text(header::AUTHORIZATION), text(header::COOKIE));
    let state = Arc::clone(&gate.state);
    let identified = handlers::with_store(&gate.state, move |store| auth::caller(&state.auth, store, authorization.as_deref(), cookie.as_deref())).await;
    let caller = match identified {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let headers = request.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
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
        return (StatusCode::UNAUTHORIZED, pages::login_page(pages::sso(&gate.state))).into_response();
    };
    let (Access::Read(needed) | Access::Change(needed)) = gate.access else { return error::not_found().await };
    if !caller.role.allows(needed) {
        let message = format!("the {} role may not do this: it needs the {} role", caller.role.as_str(), needed.as_str());
        return error::error(StatusCode::FORBIDDEN, message);
    }
    if matches!(gate.access, Access::Change(_)) && !auth::may_change(&caller, headers.get("x-csrf-token").and_then(|value| value.to_str().ok())) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response();
    }
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(ClientAddress(address));
    next.run(request).await
}

/// Where a request came from, as the audit log records it: the peer's address (a proxy's, when
/// behind one: `X-Forwarded-For` is not trusted, since any client can set it), or `unknown`
/// when the connection's address is not known (requests made in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

pub(crate) fn client_address(request: &Request) -> String {
    request.extensions().get::<axum::extract::ConnectInfo<Peer>>().map_or_else(|| "unknown".to_string(), |info| info.0.0.to_string())
}

/// A connection's peer address, for plain and TLS listeners alike.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tls::TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// The security headers of every response. Everything but the two assets is `no-store`: the
/// pages and the API hold what a scan found, which a shared or back-button cache must not keep.
/// Over TLS (`tls`), HSTS tells the browser to come back only over HTTPS.
async fn security_headers(State(tls): State<bool>, request: Request, next: Next) -> Response {
    let asset = request.uri().path().starts_with("/static/");
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
    if !asset {
        set(headers, "cache-control", "no-store");
    }
    if tls {
        set(headers, "strict-transport-security", "max-age=31536000");
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
            if let Some(warning) = plain_http_warning(bound) {
                eprintln!("{warning}");
            }
            axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await.map_err(listen_error)
        }
        Some(certificate) => {
            let listener = tls::TlsListener::new(listener, certificate.acceptor()?);
            eprintln!("{what} listening on https://{bound}");
            axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await.map_err(listen_error)
        }
    }
}

/// The warning for plain HTTP on an address other machines can reach: the token, session
/// cookies and every finding would cross the network in clear.
pub fn plain_http_warning(bound: SocketAddr) -> Option<String> {
    (!bound.ip().is_loopback()).then(|| {
        format!(
            "warning: serving plain HTTP on {bound}, reachable beyond this machine: the access token, session cookies and findings cross the network unencrypted; \
             give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy"
        )
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn fleet() -> Option<agent_api::Fleet> {
        let trusted = vigil_fleet::identity::TrustedCertificates::aws().unwrap();
        Some(agent_api::Fleet::new(trusted, vigil_fleet::HostPolicy::bundled().unwrap(), 60, 300))
    }

    async fn status(app: &Router, method: &str, path: &str, headers: &[(&str, &str)]) -> StatusCode {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        app.clone().oneshot(builder.body(Body::empty()).unwrap()).await.unwrap().status()
    }

    /// The guard reads each route's access from the table: public routes answer anyone,
    /// the others 401 without credentials, and every state-changing route refuses a session
    /// without its CSRF header (403) and accepts it with the header. The agent API's routes
    /// take an agent's credential and no console credential; an agent's credential opens no
    /// console route. A path outside the table is 401 without credentials, 404 with them.
    #[tokio::test]
    async fn every_route_is_guarded_as_its_table_entry_says() {
        let directory = tempfile::tempdir().unwrap();
        let mut store = Store::open(directory.path().join("vigil.db").to_str().unwrap()).unwrap();
        let agent_secret = "0123456789abcdef";
        let agent = vigil_store::agents::NewAgent {
            id: "agt-0000000000000001",
            instance_id: None,
            account_id: None,
            region: None,
            hostname: "build-1",
            agent_version: "1",
            enrolled_by: "token:test",
            secret_hash: &agent_api::secret_hash(agent_secret),
            at: "2026-01-01T00:00:00Z",
            at_unix: 1_767_225_600,
        };
        assert_eq!(store.enrol_agent(&agent).unwrap(), None);
        let agent_bearer = format!("Bearer agt-0000000000000001.{agent_secret}");
        let (hash, token) = auth::load_or_create(&directory.path().join("console-token")).unwrap();
        let token = token.unwrap();
        let state = Arc::new(AppState { store: StorePool::new(vec![store]), auth: auth::Auth::new(hash), secure_cookies: false, fleet: fleet(), oidc: None });
        let app = app(Arc::clone(&state));
        let bearer = format!("Bearer {token}");
        let refused = |code: StatusCode| code == StatusCode::UNAUTHORIZED || code == StatusCode::FORBIDDEN;
        for route in routes::all() {
            let path = route.path.replace("{id}", "1");
            let method = route.method.as_str();
            let anonymous = status(&app, method, &path, &[]).await;
            match route.access {
                Access::Public | Access::Enrolment => assert_ne!(anonymous, StatusCode::UNAUTHORIZED, "{method} {path}"),
                Access::Read(_) | Access::Change(_) | Access::Agent => assert_eq!(anonymous, StatusCode::UNAUTHORIZED, "{method} {path}"),
            }
            // A fresh session per route: `/logout` ends the one it is given.
            let session = state.auth.login(&mut state.store.get().unwrap(), &token).unwrap().unwrap();
            let cookie = format!("vigil_session={}", session.id);
            let with_session = status(&app, method, &path, &[("cookie", &cookie)]).await;
            let with_csrf = status(&app, method, &path, &[("cookie", &cookie), ("x-csrf-token", &session.csrf)]).await;
            let with_token = status(&app, method, &path, &[("authorization", &bearer)]).await;
            let with_agent = status(&app, method, &path, &[("authorization", &agent_bearer)]).await;
            match route.access {
                Access::Agent => {
                    for console in [with_session, with_csrf, with_token] {
                        assert_eq!(console, StatusCode::UNAUTHORIZED, "{method} {path}: a console credential opened the agent API");
                    }
                    assert!(!refused(with_agent), "{method} {path}: {with_agent}");
                    continue;
                }
                Access::Read(_) | Access::Change(_) => {
                    assert_eq!(with_agent, StatusCode::UNAUTHORIZED, "{method} {path}: an agent's credential opened the console")
                }
                Access::Public | Access::Enrolment => {}
            }
            for allowed in [with_csrf, with_token] {
                assert!(!refused(allowed), "{method} {path}: {allowed}");
            }
            match route.access {
                Access::Change(_) => assert_eq!(with_session, StatusCode::FORBIDDEN, "{method} {path}"),
                _ => assert!(!refused(with_session), "{method} {path}: {with_session}"),
            }
        }
        assert_eq!(status(&app, "GET", "/api/nothing", &[]).await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(&app, "GET", "/api/nothing", &[("authorization", &bearer)]).await, StatusCode::NOT_FOUND);
    }

    /// `--agent-listen` serves the agent API and nothing of the console.
    #[tokio::test]
    async fn the_agent_listener_serves_only_the_agent_api() {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open(directory.path().join("vigil.db").to_str().unwrap()).unwrap();
        let (hash, token) = auth::load_or_create(&directory.path().join("console-token")).unwrap();
        let bearer = format!("Bearer {}", token.unwrap());
        let state = Arc::new(AppState { store: StorePool::new(vec![store]), auth: auth::Auth::new(hash), secure_cookies: false, fleet: fleet(), oidc: None });
        let agents = agent_app(state);
        let mut served = 0;
        for route in routes::all() {
            let path = route.path.replace("{id}", "1");
            let answer = status(&agents, route.method.as_str(), &path, &[("authorization", &bearer)]).await;
            if route.access.is_agent_api() {
                served += 1;
                assert_ne!(answer, StatusCode::NOT_FOUND, "{path}");
            } else {
                assert_eq!(answer, StatusCode::NOT_FOUND, "{path} is served on the agent listener");
            }
        }
        assert_eq!(served, agent_api::ROUTES.len());
    }
}
