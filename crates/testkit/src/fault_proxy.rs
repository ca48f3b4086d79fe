//! A fault-injecting HTTP proxy between vigil and moto: the SDK's endpoint URL points at the
//! proxy, which forwards each request to moto or, decided deterministically from a seed,
//! answers it with a fault: a throttling error in the wire format of the request's protocol,
//! a 5xx error, a reset connection, or a 2 s stall before forwarding.
//!
//! Faults are decided per request identity (service, operation, path and body) and attempt
//! number, never by arrival order, so a run with the same seed injects the same faults however
//! the collector schedules its calls. Transient faults clear after [`FaultPlan::clear_after`]
//! attempts of the same request; [`FaultPlan::never_clear`] names requests that fail every time.
//!
//! Wire formats follow AWS's documented error responses:
//! - EC2 query protocol: `<Response><Errors><Error><Code>RequestLimitExceeded</Code>...`, HTTP 503;
//! - AWS query protocol (IAM, STS, SNS, RDS, ...): `<ErrorResponse><Error><Type>Sender</Type>
//!   <Code>Throttling</Code>...`, HTTP 400;
//! - REST-XML, S3: `<Error><Code>SlowDown</Code>...`, HTTP 503; Route 53 and CloudFront use
//!   the `ErrorResponse` document with `Throttling`, HTTP 400;
//! - JSON 1.0/1.1 (requests with `X-Amz-Target`): `{"__type":"ThrottlingException",...}`, HTTP 400;
//! - REST-JSON: HTTP 429 with `x-amzn-ErrorType: TooManyRequestsException`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A throttling error in the protocol's wire format.
    Throttle,
    /// An internal error (HTTP 500 or 503) in the protocol's wire format.
    ServerError,
    /// The connection is reset (TCP RST) without a reply.
    Reset,
    /// The request is forwarded after a 2 s stall: slow, not failed.
    Stall,
}

impl Fault {
    /// True for faults that fail the attempt (the SDK must retry); a stall only delays it.
    pub fn fails_the_attempt(self) -> bool {
        !matches!(self, Fault::Stall)
    }
}

/// Which faults to inject, and how often.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    /// The seed every decision derives from.
    pub seed: u64,
    /// The share of attempts (below `clear_after`) that get a fault, between 0 and 1.
    pub rate: f64,
    /// The kinds to choose from, with their weights.
    pub kinds: Vec<(Fault, u32)>,
    /// Attempts of one request after which transient faults stop: a request is answered
    /// normally from its `clear_after + 1`-th attempt on.
    pub clear_after: u32,
    /// Requests that fail every time: (a text the request's description contains, the fault).
    /// The description is `service:Operation` for query and JSON protocols and
    /// `service:METHOD /path?query` for REST protocols (see [`describe`]).
    pub never_clear: Vec<(String, Fault)>,
    /// How long a stall lasts.
    pub stall: Duration,
}

impl FaultPlan {
    /// 30% of attempts faulted (throttling half the time, then 5xx, resets and 2 s stalls),
    /// each request's faults clearing after two attempts.
    pub fn transient(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            rate: 0.3,
            kinds: vec![(Fault::Throttle, 50), (Fault::ServerError, 20), (Fault::Reset, 15), (Fault::Stall, 15)],
            clear_after: 2,
            never_clear: Vec::new(),
            stall: Duration::from_secs(2),
        }
    }

    /// No random faults; only `never_clear`.
    pub fn only_never_clear(never_clear: Vec<(String, Fault)>) -> FaultPlan {
        FaultPlan { rate: 0.0, never_clear, ..FaultPlan::transient(0) }
    }

    /// The fault for attempt `attempt` (0-based) of the request described by `description`
    /// whose identity hashes to `identity`, if any.
    pub fn decide(&self, description: &str, identity: u64, attempt: u32) -> Option<Fault> {
        if let Some((_, fault)) = self.never_clear.iter().find(|(needle, _)| description.contains(needle.as_str())) {
            return Some(*fault);
        }
        if attempt >= self.clear_after || self.kinds.is_empty() {
            return None;
        }
        let draw = mix(self.seed ^ identity.rotate_left(17) ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // The top 53 bits as a fraction in [0, 1).
        if (draw >> 11) as f64 / (1u64 << 53) as f64 >= self.rate {
            return None;
        }
        let total: u64 = self.kinds.iter().map(|(_, weight)| u64::from(*weight)).sum();
        let mut pick = mix(draw) % total.max(1);
        for (fault, weight) in &self.kinds {
            if pick < u64::from(*weight) {
                return Some(*fault);
            }
            pick -= u64::from(*weight);
        }
        None
    }
}

/// SplitMix64's finalizer: a fast, well-mixed, deterministic hash step.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// FNV-1a over bytes: stable across runs and platforms, unlike the standard hasher's keys.
fn fnv(bytes: &[u8], mut hash: u64) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

/// How many faults of each kind were injected, and how many requests passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    pub requests: u64,
    pub injected: HashMap<Fault, u64>,
    /// The descriptions of the requests that got a failing fault, with their count.
    pub failed_requests: HashMap<String, u64>,
    /// Every request's description, with its count.
    pub seen: std::collections::BTreeMap<String, u64>,
}

impl FaultStats {
    /// Faults that failed an attempt (all but stalls).
    pub fn failing(&self) -> u64 {
        self.injected.iter().filter(|(fault, _)| fault.fails_the_attempt()).map(|(_, count)| count).sum()
    }
}

struct Shared {
    plan: FaultPlan,
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    attempts: Mutex<HashMap<u64, u32>>,
    stats: Mutex<FaultStats>,
    request_ids: AtomicU64,
}

/// A running proxy; stops accepting connections when dropped.
pub struct FaultProxy {
    pub endpoint_url: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (e.g. moto's
    /// `http://127.0.0.1:PORT`) with `plan`'s faults. Call from within a tokio runtime.
    pub async fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fault proxy");
        let address: SocketAddr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            plan,
            upstream: upstream.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            attempts: Mutex::new(HashMap::new()),
            stats: Mutex::new(FaultStats::default()),
            request_ids: AtomicU64::new(1),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), Arc::clone(&stop)));
        FaultProxy { endpoint_url: format!("http://{address}"), shared, stop, task }
    }

    /// What was injected so far.
    pub fn stats(&self) -> FaultStats {
        self.shared.stats.lock().map(|stats| stats.clone()).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.abort();
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            // A second handle on the socket, to reset it: with SO_LINGER at zero, closing the
            // last handle sends RST instead of FIN.
            let Ok(std_stream) = stream.into_std() else { return };
            let Ok(control) = std_stream.try_clone() else { return };
            let Ok(stream) = tokio::net::TcpStream::from_std(std_stream) else { return };
            let reset = Arc::new(AtomicBool::new(false));
            let service = {
                let reset = Arc::clone(&reset);
                hyper::service::service_fn(move |request| handle(Arc::clone(&shared), Arc::clone(&reset), request))
            };
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            if reset.load(Ordering::Relaxed) {
                let _ = socket2::SockRef::from(&control).set_linger(Some(Duration::ZERO));
            }
            drop(control);
        });
    }
}

/// The error that makes hyper drop the connection without answering (for resets).
#[derive(Debug)]
struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("connection reset by the fault proxy")
    }
}

impl std::error::Error for ResetConnection {}

async fn handle(shared: Arc<Shared>, reset: Arc<AtomicBool>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, ResetConnection> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let wire = Wire::of(&parts, &body);
    let description = wire.description.clone();
    let identity = fnv(&body, fnv(description.as_bytes(), 0xCBF2_9CE4_8422_2325));
    let attempt = {
        let mut attempts = shared.attempts.lock().map_err(|_| ResetConnection)?;
        let count = attempts.entry(identity).or_insert(0);
        *count += 1;
        *count - 1
    };
    let fault = shared.plan.decide(&description, identity, attempt);
    if let Ok(mut stats) = shared.stats.lock() {
        stats.requests += 1;
        *stats.seen.entry(description.clone()).or_default() += 1;
        if let Some(fault) = fault {
            *stats.injected.entry(fault).or_default() += 1;
            if fault.fails_the_attempt() {
                *stats.failed_requests.entry(description.clone()).or_default() += 1;
            }
        }
    }
    let request_id = format!("fault-proxy-{}", shared.request_ids.fetch_add(1, Ordering::Relaxed));
    match fault {
        Some(Fault::Throttle) => return Ok(wire.throttle(&request_id)),
        Some(Fault::ServerError) => return Ok(wire.server_error(&request_id, identity)),
        Some(Fault::Reset) => {
            reset.store(true, Ordering::Relaxed);
            return Err(ResetConnection);
        }
        Some(Fault::Stall) => tokio::time::sleep(shared.plan.stall).await,
        None => {}
    }
    Ok(forward(&shared, parts, body).await)
}

/// Sends the request on to the upstream server, headers (the SigV4 signature's `host`
/// included) unchanged, and returns its reply; a 502 when the upstream cannot be reached.
async fn forward(shared: &Shared, parts: http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map(|path| path.as_str()).unwrap_or("/");
    let Ok(uri) = format!("{}{path}", shared.upstream).parse::<http::Uri>() else { return plain(StatusCode::BAD_GATEWAY, "bad upstream URI") };
    let mut upstream = Request::builder().method(parts.method).uri(uri);
    for (name, value) in &parts.headers {
        upstream = upstream.header(name, value);
    }
    let Ok(upstream) = upstream.body(Full::new(body)) else { return plain(StatusCode::BAD_GATEWAY, "bad upstream request") };
    let Ok(reply) = shared.client.request(upstream).await else { return plain(StatusCode::BAD_GATEWAY, "upstream unreachable") };
    let (parts, body) = reply.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let mut response = Response::builder().status(parts.status);
    for (name, value) in &parts.headers {
        // The body is re-sent whole: its framing is hyper's to set.
        if name != http::header::TRANSFER_ENCODING && name != http::header::CONNECTION && name != http::header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    response.body(Full::new(body)).unwrap_or_else(|_| plain(StatusCode::BAD_GATEWAY, "bad upstream reply"))
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}

/// The request's protocol, which decides the shape of an error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Protocol {
    /// EC2's query protocol.
    Ec2Query,
    /// The AWS query protocol (form-encoded `Action=`).
    Query,
    /// AWS JSON 1.0/1.1 (`X-Amz-Target`).
    Json,
    /// REST-XML as S3 speaks it.
    S3,
    /// REST-XML with the `ErrorResponse` document (Route 53, CloudFront, S3 Control).
    RestXml,
    /// REST-JSON (Lambda, GuardDuty, Security Hub, SES v2, ...).
    RestJson,
}

/// What the proxy knows of a request: its protocol, and a description naming the service
/// and operation (`iam:ListUsers`, `s3:GET /bucket?versioning`).
struct Wire {
    protocol: Protocol,
    description: String,
}

impl Wire {
    fn of(parts: &http::request::Parts, body: &[u8]) -> Wire {
        let service = signing_service(parts).unwrap_or_else(|| "unknown".to_string());
        let header = |name: &str| parts.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_string();
        let target = header("x-amz-target");
        let action = form_action(body);
        let path = parts.uri.path_and_query().map(|path| path.as_str()).unwrap_or("/");
        let (protocol, operation) = if !target.is_empty() {
            (Protocol::Json, target.rsplit('.').next().unwrap_or_default().to_string())
        } else if let Some(action) = action {
            (if service == "ec2" { Protocol::Ec2Query } else { Protocol::Query }, action)
        } else if service == "s3" && !path.starts_with("/v20180820/") {
            (Protocol::S3, format!("{} {path}", parts.method))
        } else if matches!(service.as_str(), "route53" | "cloudfront" | "s3") {
            (Protocol::RestXml, format!("{} {path}", parts.method))
        } else {
            (Protocol::RestJson, format!("{} {path}", parts.method))
        };
        Wire { protocol, description: format!("{service}:{operation}") }
    }

    /// The protocol's throttling error.
    fn throttle(&self, request_id: &str) -> Response<Full<Bytes>> {
        match self.protocol {
            Protocol::Ec2Query => xml(
                503,
                format!(
                    "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
                ),
            ),
            Protocol::Query | Protocol::RestXml => xml(400, error_response("Sender", "Throttling", "Rate exceeded", request_id)),
            Protocol::S3 => xml(
                503,
                format!(
                    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
                ),
            ),
            Protocol::Json => json(400, None, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(), request_id),
            Protocol::RestJson => json(429, Some("TooManyRequestsException"), r#"{"message":"Too Many Requests"}"#.to_string(), request_id),
        }
    }

    /// The protocol's internal error, as HTTP 500 or 503 (chosen by the request's identity).
    fn server_error(&self, request_id: &str, identity: u64) -> Response<Full<Bytes>> {
        let (status, code, message) = if identity.is_multiple_of(2) {
            (500, "InternalFailure", "The request processing has failed because of an unknown error.")
        } else {
            (503, "ServiceUnavailable", "Service is unavailable.")
        };
        match self.protocol {
            Protocol::Ec2Query => xml(
                status,
                format!(
                    "<Response><Errors><Error><Code>{}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                    if status == 500 { "InternalError" } else { "Unavailable" }
                ),
            ),
            Protocol::Query | Protocol::RestXml => xml(status, error_response("Receiver", code, message, request_id)),
            Protocol::S3 => xml(
                status,
                format!(
                    "<Error><Code>{}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>",
                    if status == 500 { "InternalError" } else { "ServiceUnavailable" }
                ),
            ),
            Protocol::Json => json(status, None, format!(r#"{{"__type":"{code}","message":"{message}"}}"#), request_id),
            Protocol::RestJson => json(status, Some(code), format!(r#"{{"message":"{message}"}}"#), request_id),
        }
    }
}

fn error_response(kind: &str, code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
}

fn xml(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/xml")
        .body(Full::new(Bytes::from(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"))))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "fault"))
}

fn json(status: u16, error_type: Option<&str>, body: String, request_id: &str) -> Response<Full<Bytes>> {
    let mut response =
        Response::builder().status(status).header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1").header("x-amzn-RequestId", request_id);
    if let Some(error_type) = error_type {
        response = response.header("x-amzn-ErrorType", error_type);
    }
    response.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "fault"))
}

/// The `Action` of a form-encoded query-protocol body.
fn form_action(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| pair.strip_prefix("Action=")).map(str::to_string)
}

/// The signing name in the SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
fn signing_service(parts: &http::request::Parts) -> Option<String> {
    let authorization = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let scope = authorization.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(3).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_depend_on_the_seed_identity_and_attempt_only() {
        let plan = FaultPlan::transient(7);
        let decisions: Vec<_> = (0..1000u64).map(|identity| plan.decide("ec2:DescribeVpcs", identity, 0)).collect();
        let again: Vec<_> = (0..1000u64).map(|identity| plan.decide("ec2:DescribeVpcs", identity, 0)).collect();
        assert_eq!(decisions, again);
        let faulted = decisions.iter().filter(|decision| decision.is_some()).count();
        assert!((250..=350).contains(&faulted), "about 30% faulted, got {faulted} of 1000");
        for fault in [Fault::Throttle, Fault::ServerError, Fault::Reset, Fault::Stall] {
            assert!(decisions.contains(&Some(fault)), "{fault:?} never chosen");
        }
        // Transient faults clear.
        assert!((0..1000u64).all(|identity| plan.decide("ec2:DescribeVpcs", identity, plan.clear_after).is_none()));
        // Another seed, other decisions.
        let other = FaultPlan::transient(8);
        assert_ne!(decisions, (0..1000u64).map(|identity| other.decide("ec2:DescribeVpcs", identity, 0)).collect::<Vec<_>>());
    }

    #[test]
    fn never_clearing_faults_match_by_description() {
        let plan = FaultPlan::only_never_clear(vec![("ec2:DescribeSecurityGroups".into(), Fault::Throttle)]);
        assert_eq!(plan.decide("ec2:DescribeSecurityGroups", 1, 40), Some(Fault::Throttle));
        assert_eq!(plan.decide("ec2:DescribeVpcs", 1, 0), None);
    }

    #[test]
    fn requests_are_described_by_service_and_operation() {
        let request = |method: &str, uri: &str, headers: &[(&str, &str)]| {
            let mut builder = Request::builder().method(method).uri(uri);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder.body(()).unwrap().into_parts().0
        };
        let auth = |service: &str| format!("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0");
        let ec2 = request("POST", "/", &[("authorization", &auth("ec2")), ("content-type", "application/x-www-form-urlencoded")]);
        let wire = Wire::of(&ec2, b"Action=DescribeVpcs&Version=2016-11-15");
        assert_eq!((wire.protocol, wire.description.as_str()), (Protocol::Ec2Query, "ec2:DescribeVpcs"));
        let kms = request("POST", "/", &[("authorization", &auth("kms")), ("x-amz-target", "TrentService.ListKeys")]);
        let wire = Wire::of(&kms, b"{}");
        assert_eq!((wire.protocol, wire.description.as_str()), (Protocol::Json, "kms:ListKeys"));
        let s3 = request("GET", "/logs?versioning", &[("authorization", &auth("s3"))]);
        let wire = Wire::of(&s3, b"");
        assert_eq!((wire.protocol, wire.description.as_str()), (Protocol::S3, "s3:GET /logs?versioning"));
        let lambda = request("GET", "/2015-03-31/functions/", &[("authorization", &auth("lambda"))]);
        assert_eq!(Wire::of(&lambda, b"").protocol, Protocol::RestJson);
    }
}
