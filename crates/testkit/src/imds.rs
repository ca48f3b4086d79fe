//! A test instance metadata service (IMDSv2 only, as AWS recommends and as instances launched
//! with `HttpTokens=required` serve it): `PUT /latest/api/token` with
//! `X-aws-ec2-metadata-token-ttl-seconds` (1-21600) returns a token; every `GET` needs it in
//! `X-aws-ec2-metadata-token` (401 without it or once it expired); the identity document and
//! its PKCS#7 signature (made by a [`TestCa`]) under `/latest/dynamic/instance-identity/`;
//! instance tags under `/latest/meta-data/tags/instance` (404 unless tags are exposed in
//! metadata, as on EC2). One per simulated instance, on 127.0.0.1 at a free port.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};

use crate::identity::TestCa;

/// What the simulated instance serves; change it while the server runs with [`TestImds::set`].
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub document: String,
    pub pkcs7: String,
    /// `None`: tags are not exposed in instance metadata (404).
    pub tags: Option<BTreeMap<String, String>>,
}

struct Shared {
    served: Mutex<Served>,
    tokens: Mutex<HashMap<String, Instant>>,
    requests: Mutex<Vec<String>>,
}

/// A running test IMDS; stops when dropped.
pub struct TestImds {
    pub url: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// A document signed by `ca` now.
    pub fn signed(ca: &TestCa, document: String, tags: Option<BTreeMap<String, String>>) -> Served {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let pkcs7 = ca.sign(document.as_bytes(), now);
        Served { document, pkcs7, tags }
    }
}

impl TestImds {
    pub fn start(served: Served) -> TestImds {
        let shared = Arc::new(Shared { served: Mutex::new(served), tokens: Mutex::new(HashMap::new()), requests: Mutex::new(Vec::new()) });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/latest/api/token", put(token))
            .route("/latest/dynamic/instance-identity/document", get(|state, headers| serve(state, headers, |served| Some(served.document.clone()))))
            .route("/latest/dynamic/instance-identity/pkcs7", get(|state, headers| serve(state, headers, |served| Some(served.pkcs7.clone()))))
            .route(
                "/latest/meta-data/tags/instance",
                get(|state, headers| serve(state, headers, |served| served.tags.as_ref().map(|tags| tags.keys().cloned().collect::<Vec<_>>().join("\n")))),
            )
            .route("/latest/meta-data/tags/instance/{key}", get(tag))
            .with_state(Arc::clone(&shared));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = axum::serve(listener, app).with_graceful_shutdown(async move { drop(stop.await) }).await;
            });
        });
        TestImds { url, shared, shutdown: Some(shutdown), thread: Some(thread) }
    }

    pub fn set(&self, served: Served) {
        *self.shared.served.lock().unwrap() = served;
    }

    /// `METHOD path` of every request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

impl Drop for TestImds {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Shared_ = Arc<Shared>;

async fn token(State(shared): State<Shared_>, headers: HeaderMap) -> Response {
    shared.requests.lock().unwrap().push("PUT /latest/api/token".into());
    let ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds").and_then(|value| value.to_str().ok()).and_then(|text| text.parse::<u64>().ok());
    match ttl {
        Some(seconds) if (1..=21_600).contains(&seconds) => {
            let token = format!("AQAEA{:032x}", rand_u128());
            shared.tokens.lock().unwrap().insert(token.clone(), Instant::now() + Duration::from_secs(seconds));
            ([("x-aws-ec2-metadata-token-ttl-seconds", seconds.to_string())], token).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "").into_response(),
    }
}

fn rand_u128() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    (u128::from(hasher.finish()) << 64) | u128::from(std::collections::hash_map::RandomState::new().build_hasher().finish())
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = headers.get("x-aws-ec2-metadata-token").and_then(|value| value.to_str().ok()) else { return false };
    shared.tokens.lock().unwrap().get(token).is_some_and(|expiry| Instant::now() < *expiry)
}

async fn serve(State(shared): State<Shared_>, headers: HeaderMap, pick: impl FnOnce(&Served) -> Option<String>) -> Response {
    if !authorised(&shared, &headers) {
        return (StatusCode::UNAUTHORIZED, "").into_response();
    }
    let body = pick(&shared.served.lock().unwrap());
    match body {
        Some(body) => ([("content-type", "text/plain")], body).into_response(),
        None => (StatusCode::NOT_FOUND, "").into_response(),
    }
}

async fn tag(State(shared): State<Shared_>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if !authorised(&shared, &headers) {
        return (StatusCode::UNAUTHORIZED, "").into_response();
    }
    let value = shared.served.lock().unwrap().tags.as_ref().and_then(|tags| tags.get(&key).cloned());
    match value {
        Some(value) => value.into_response(),
        None => (StatusCode::NOT_FOUND, "").into_response(),
    }
}
