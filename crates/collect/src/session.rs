//! The collection session: SDK configuration, the ledger being written, bounded concurrency,
//! and the one place where SDK errors become ledger outcomes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use vigil_model::ledger::codes;
use vigil_model::{ApiCall, Outcome, Region};

use crate::lanes::{Lanes, OwnedLanePermit};

/// Receives progress events; the CLI draws a progress bar from them.
pub trait Progress: Send + Sync {
    /// A (service, region) unit of work is about to start.
    fn task_started(&self, _service: &str, _region: &str) {}
    /// A (service, region) unit of work has finished.
    fn task_finished(&self, _service: &str, _region: &str) {}
    /// One API call was answered (or failed for good).
    fn call_finished(&self, _call: &ApiCall) {}
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Error codes that mean "this thing is not configured": facts about the account, not failures.
const NOT_CONFIGURED_CODES: &[&str] = &[
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchCORSConfiguration",
    "NoSuchWebsiteConfiguration",
    "NoSuchLifecycleConfiguration",
    "ReplicationConfigurationNotFoundError",
    "ObjectLockConfigurationNotFoundError",
    "OwnershipControlsNotFoundError",
    "NoSuchTagSet",
    "NoSuchTagSetError",
    "NoSuchEntity",
    "AWSOrganizationsNotInUseException",
    "TrailNotFoundException",
];

const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
    "AllAccessDisabled",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
];

const THROTTLED_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
];

const NOT_IN_REGION_CODES: &[&str] = &["OptInRequired", "InvalidAction", "UnsupportedOperation", "SubscriptionRequiredException"];

/// How long the readable message of a failure may be; the whole error is kept in the
/// ledger entry's `detail`.
const MESSAGE_LIMIT: usize = 240;
/// How much of the raw error the ledger keeps.
const DETAIL_LIMIT: usize = 2000;

/// Classifies a failed SDK call into a ledger outcome whose message is one readable line:
/// the service's own error code and message when it sent one, otherwise what went wrong in
/// words (a reply that is not the expected XML or JSON document, an endpoint that lacks the
/// operation, a timeout, a failed connection). The SDK's raw error, with its debug
/// structures, goes to [`detail_of_error`] instead.
pub fn outcome_of_error<E>(error: &SdkError<E, HttpResponse>) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(code) = error.code() {
        let code = code.to_string();
        let message = vigil_model::ledger::one_line(error.message().unwrap_or_default(), MESSAGE_LIMIT);
        return if NOT_CONFIGURED_CODES.contains(&code.as_str()) {
            Outcome::NotConfigured { code }
        } else if ACCESS_DENIED_CODES.contains(&code.as_str()) {
            Outcome::AccessDenied { code, message }
        } else if THROTTLED_CODES.contains(&code.as_str()) {
            Outcome::Throttled { code, message }
        } else if NOT_IN_REGION_CODES.contains(&code.as_str()) {
            Outcome::NotAvailableInRegion { code, message }
        } else {
            Outcome::Error { code, message }
        };
    }
    let error_without = |code: &str, message: String| Outcome::Error { code: code.to_string(), message };
    match error {
        SdkError::TimeoutError(_) => error_without(codes::TIMED_OUT, "no reply within the time limit".to_string()),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => error_without(codes::TIMED_OUT, root_cause(error)),
        SdkError::DispatchFailure(_) => error_without(codes::CONNECTION_FAILED, root_cause(error)),
        SdkError::ConstructionFailure(_) => error_without(codes::REQUEST_NOT_BUILT, root_cause(error)),
        // The response could not be read as HTTP at all (a body cut short, a bad chunk).
        SdkError::ResponseError(_) => error_without(codes::UNREADABLE_REPLY, format!("the reply could not be read: {}", root_cause(error))),
        _ => match error.raw_response() {
            Some(response) => outcome_of_reply_without_code(response.status().as_u16(), response.body().bytes().unwrap_or_default()),
            None => error_without(codes::UNREADABLE_REPLY, root_cause(error)),
        },
    }
}

/// A reply that carried no AWS error code: either not an AWS error document at all, or a
/// success status whose body is not what the operation returns.
fn outcome_of_reply_without_code(status: u16, body: &[u8]) -> Outcome {
    let shape = describe_body(body);
    match status {
        // An HTTP 403 is a refusal whatever its body says (some endpoints answer a denied
        // JSON-protocol call with an XML error document the SDK cannot parse).
        403 => Outcome::AccessDenied { code: "HTTP 403".to_string(), message: format!("HTTP 403 with {shape}") },
        429 => Outcome::Throttled { code: "HTTP 429".to_string(), message: format!("HTTP 429 with {shape}") },
        404 | 405 | 501 => Outcome::NotAvailableInRegion { code: codes::NOT_IMPLEMENTED.to_string(), message: format!("HTTP {status} with {shape}") },
        200..=299 => Outcome::Error {
            code: codes::UNREADABLE_REPLY.to_string(),
            message: format!("HTTP {status} with {shape}, not the document this operation returns"),
        },
        _ => Outcome::Error { code: format!("HTTP {status}"), message: format!("HTTP {status} with {shape} instead of an AWS error document") },
    }
}

/// Says in a few words what a reply body is: empty, an HTML page, XML with its root element,
/// JSON, or something else; never quoting more than an element name.
fn describe_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let text = text.trim_start();
    if text.is_empty() {
        return "an empty body".to_string();
    }
    let lower = text.get(..text.len().min(64)).unwrap_or_default().to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return "an HTML page".to_string();
    }
    if text.starts_with('<') {
        return match xml_root_element(text) {
            Some(root) => format!("an XML document whose root element is `{root}`"),
            None => "malformed XML".to_string(),
        };
    }
    if text.starts_with('{') || text.starts_with('[') {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(_) => "a JSON document of another shape".to_string(),
            Err(_) => "malformed JSON".to_string(),
        };
    }
    "a body that is neither XML nor JSON".to_string()
}

/// The name of the first element of an XML text, skipping the declaration, comments and
/// processing instructions; `None` when there is none.
fn xml_root_element(text: &str) -> Option<&str> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find(|character: char| character.is_whitespace() || character == '>' || character == '/').unwrap_or(after.len());
            let name = &after[..end];
            return (!name.is_empty() && name.chars().all(|character| character.is_alphanumeric() || matches!(character, ':' | '_' | '-' | '.')))
                .then_some(name);
        } else {
            return None;
        }
    }
}

/// The innermost error of the chain, on one line: for a transport failure it says what
/// happened ("Connection refused (os error 111)", "connection reset") without the layers
/// of wrapping around it.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    vigil_model::ledger::one_line(&innermost.to_string(), MESSAGE_LIMIT)
}

/// The raw error for the ledger entry's `detail`: the SDK's whole source chain, cut to a
/// bounded length. Only failures have one.
pub fn detail_of_error<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    vigil_model::ledger::one_line(&DisplayErrorContext(error).to_string(), DETAIL_LIMIT)
}

/// The HTTP attempts of one SDK call, as the counting HTTP client saw them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Requests sent (the first attempt and every retry).
    pub sent: u32,
    /// Replies that said "slow down": HTTP 429 or 503 (S3's SlowDown, EC2's
    /// RequestLimitExceeded), or an `x-amzn-ErrorType` header naming throttling (the JSON
    /// protocols). A query-protocol throttle (HTTP 400 with the code in the XML body) is not
    /// seen here; it counts only when the call ends throttled.
    pub throttled: u32,
}

tokio::task_local! {
    /// The HTTP attempts made so far by the SDK call being awaited in this scope.
    static ATTEMPTS: std::cell::Cell<Attempts>;
}

/// Awaits one SDK call (or one page of a paginator) and counts the HTTP attempts it made,
/// and how many of them were throttled, through the counting HTTP client that
/// [`Session::new`] installs.
pub async fn counting<F: std::future::Future>(future: F) -> (F::Output, Attempts) {
    ATTEMPTS
        .scope(std::cell::Cell::new(Attempts::default()), async move {
            let output = future.await;
            (output, ATTEMPTS.try_with(std::cell::Cell::get).unwrap_or_default())
        })
        .await
}

/// Whether a reply asks the caller to slow down, from its status and headers alone.
fn is_throttling_reply(response: &HttpResponse) -> bool {
    let status = response.status().as_u16();
    status == 429
        || status == 503
        || response
            .headers()
            .get("x-amzn-errortype")
            .is_some_and(|kind| THROTTLED_CODES.iter().any(|code| kind.split(':').next().is_some_and(|name| name.trim() == *code)))
}

/// Wraps the SDK's HTTP client to count each request it sends in the awaiting call's
/// [`ATTEMPTS`]: the SDK sends one request per attempt, so a call retried twice counts 3.
#[derive(Debug)]
struct CountingHttpClient {
    inner: SharedHttpClient,
}

impl HttpClient for CountingHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector { inner: self.inner.http_connector(settings, components) })
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // Outside a counting scope (credential providers, region discovery by the SDK
        // itself) there is nothing to count into.
        let _ = ATTEMPTS.try_with(|attempts| {
            let mut counted = attempts.get();
            counted.sent = counted.sent.saturating_add(1);
            attempts.set(counted);
        });
        let reply = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let response = reply.await?;
            if is_throttling_reply(&response) {
                let _ = ATTEMPTS.try_with(|attempts| {
                    let mut counted = attempts.get();
                    counted.throttled = counted.throttled.saturating_add(1);
                    attempts.set(counted);
                });
            }
            Ok::<_, aws_smithy_runtime_api::client::result::ConnectorError>(response)
        })
    }
}

/// The SDK's default HTTPS client, built as `aws-smithy-runtime` builds it (rustls with
/// aws-lc, proxy settings from the environment) so that it can be wrapped.
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    Builder::new().build_with_connector_fn(move |settings, runtime_components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The configuration with its HTTP client wrapped so that each call's attempts are counted.
pub fn with_attempt_counting(sdk_config: aws_types::SdkConfig) -> aws_types::SdkConfig {
    let inner = sdk_config.http_client().unwrap_or_else(default_https_client);
    sdk_config.to_builder().http_client(CountingHttpClient { inner }).build()
}

/// Names one API call for the ledger.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub service: &'static str,
    pub region: &'a str,
    pub operation: &'static str,
    pub target: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn new(service: &'static str, region: &'a str, operation: &'static str) -> Call<'a> {
        Call { service, region, operation, target: None }
    }

    pub fn on(mut self, target: &'a str) -> Call<'a> {
        self.target = Some(target);
        self
    }
}

/// Shared state of one collection run.
pub struct Session {
    pub sdk_config: aws_types::SdkConfig,
    pub account_id: String,
    pub partition: String,
    pub endpoint_url: Option<String>,
    ledger: Mutex<Vec<ApiCall>>,
    progress: Arc<dyn Progress>,
    /// Bounds the number of API calls in flight, across all services and regions
    /// (`--max-in-flight`): the global cap over the per-(service, region) [`Lanes`].
    pub permits: tokio::sync::Semaphore,
    /// One adaptive concurrency limit per (service, region), which backs off on throttling.
    lanes: Lanes,
    /// The global cap, which is also how many items a collector fans out over at once.
    max_in_flight: usize,
    /// One S3 client per region, built once and shared by every bucket there.
    s3_clients: Mutex<std::collections::HashMap<String, aws_sdk_s3::Client>>,
    calls_made: AtomicU64,
    /// The regions this collection reads, once known (collectors of one region use it to
    /// decide which region reads a resource every region can see, such as a shadow trail).
    scanned_regions: std::sync::OnceLock<Vec<String>>,
    /// Objects the S3 sampler reads per bucket (unset or 0: none).
    sample_objects: std::sync::OnceLock<usize>,
}

impl Session {
    pub fn new(
        sdk_config: aws_types::SdkConfig,
        account_id: String,
        partition: String,
        endpoint_url: Option<String>,
        max_in_flight: usize,
        progress: Arc<dyn Progress>,
    ) -> Session {
        Session {
            sdk_config: with_attempt_counting(sdk_config),
            account_id,
            partition,
            endpoint_url,
            ledger: Mutex::new(Vec::new()),
            progress,
            permits: tokio::sync::Semaphore::new(max_in_flight.max(1)),
            lanes: Lanes::new(max_in_flight),
            max_in_flight: max_in_flight.max(1),
            s3_clients: Mutex::new(std::collections::HashMap::new()),
            calls_made: AtomicU64::new(0),
            scanned_regions: std::sync::OnceLock::new(),
            sample_objects: std::sync::OnceLock::new(),
        }
    }

    /// Records the regions this collection reads (set once, before the regional collectors run).
    pub fn set_scanned_regions(&self, regions: &[String]) {
        let mut sorted = regions.to_vec();
        sorted.sort();
        let _ = self.scanned_regions.set(sorted);
    }

    /// Sets how many objects the S3 sampler reads per bucket (set once, before collection).
    pub fn set_sample_objects(&self, objects: usize) {
        let _ = self.sample_objects.set(objects);
    }

    /// How many objects the S3 sampler reads per bucket (0: the sampler is off).
    pub fn sample_objects(&self) -> usize {
        self.sample_objects.get().copied().unwrap_or(0)
    }

    /// Whether a call (any page of it, without a target) failed so far in this collection.
    pub fn ledger_has_failure(&self, service: &str, region: &str, operation: &str) -> bool {
        let ledger = self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        ledger
            .iter()
            .any(|call| call.service == service && call.region == region && call.operation == operation && call.target.is_none() && !call.outcome.is_read())
    }

    /// The regions this collection reads, sorted; empty until [`Session::set_scanned_regions`].
    pub fn scanned_regions(&self) -> &[String] {
        self.scanned_regions.get().map(Vec::as_slice).unwrap_or_default()
    }

    /// The SDK configuration for one region.
    pub fn config_for(&self, region: &str) -> aws_types::SdkConfig {
        self.sdk_config.to_builder().region(aws_types::region::Region::new(region.to_string())).build()
    }

    /// The name of this account's retry partition for one service and region. The SDK keeps
    /// the adaptive retry mode's rate limiter and retry tokens per partition for the whole
    /// process, named after the service and region by default: naming the account too gives
    /// each account of an organization scan its own throttling backoff, so a throttled account
    /// slows no other (its calls in flight are bounded by its own [`Session::permits`]).
    pub fn retry_partition_name(&self, service: &str, region: &str) -> String {
        format!("{service}-{region}-{}", self.account_id)
    }

    /// Waits for room for one call of `service` in `region`: first in its lane, then under the
    /// global cap. [`Admission::settle`] reports how the call went, which the lane adapts to.
    pub async fn admit(&self, service: &str, region: &str) -> Admission<'_> {
        let lane = self.lanes.lane(service, region);
        let lane_permit = lane.acquire_owned().await;
        // The semaphore is never closed; if acquiring ever failed, the call would go ahead
        // under its lane alone.
        let global = self.permits.acquire().await.ok();
        Admission { lane: lane_permit, _global: global }
    }

    /// How many items (buckets, users, instances...) a collector reads at once: enough to keep
    /// the global cap busy; the lanes and the cap decide how many calls are in flight.
    pub fn fan_out(&self) -> usize {
        self.max_in_flight
    }

    /// The S3 client of one region, built on first use and then shared (a clone of a client
    /// shares its configuration and connections).
    pub fn s3_client(&self, region: &str) -> aws_sdk_s3::Client {
        let mut clients = self.s3_clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        clients.entry(region.to_string()).or_insert_with(|| self.new_s3_client(region)).clone()
    }

    /// A new S3 client for one region (path-style addressing with a custom endpoint: emulators
    /// and proxies rarely resolve virtual-hosted bucket names).
    fn new_s3_client(&self, region: &str) -> aws_sdk_s3::Client {
        let mut builder = aws_sdk_s3::config::Builder::from(&self.config_for(region))
            .retry_partition(aws_sdk_s3::config::retry::RetryPartition::new(self.retry_partition_name("s3", region)));
        if self.endpoint_url.is_some() {
            builder = builder.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(builder.build())
    }

    /// An S3 Control client (with a custom endpoint, requests keep the endpoint's host
    /// rather than the account-prefixed one).
    pub fn s3control_client(&self, region: &str) -> aws_sdk_s3control::Client {
        let mut builder = aws_sdk_s3control::config::Builder::from(&self.config_for(region))
            .retry_partition(aws_sdk_s3control::config::retry::RetryPartition::new(self.retry_partition_name("s3control", region)));
        if let Some(endpoint_url) = &self.endpoint_url {
            builder = builder.interceptor(crate::endpoint::KeepEndpointHost { endpoint_url: endpoint_url.clone() });
        }
        aws_sdk_s3control::Client::from_conf(builder.build())
    }

    pub fn progress(&self) -> &dyn Progress {
        self.progress.as_ref()
    }

    pub fn calls_made(&self) -> u64 {
        self.calls_made.load(Ordering::Relaxed)
    }

    /// Records the outcome of a call and returns its output when it succeeded.
    pub fn record<T, E>(&self, call: &Call<'_>, result: Result<T, SdkError<E, HttpResponse>>) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.record_attempts(call, result, 0)
    }

    /// Records the outcome of a call that took `attempts` HTTP requests (counted by
    /// [`counting`]) and returns its output when it succeeded.
    pub fn record_attempts<T, E>(&self, call: &Call<'_>, result: Result<T, SdkError<E, HttpResponse>>, attempts: u32) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let retries = attempts.saturating_sub(1);
        match result {
            Ok(output) => {
                self.push(call, Outcome::Ok, retries, None);
                Some(output)
            }
            Err(error) => {
                // A setting that is not configured is an answer, not a failure: its code says
                // all, and the raw error (up to 2 KB, for thousands of buckets) is not kept.
                let outcome = outcome_of_error(&error);
                let detail = outcome.failure().is_some().then(|| detail_of_error(&error));
                self.push(call, outcome, retries, detail);
                None
            }
        }
    }

    /// Records an outcome decided by the caller (e.g. a reply that could not be parsed).
    pub fn record_outcome(&self, call: &Call<'_>, outcome: Outcome) {
        self.push(call, outcome, 0, None);
    }

    fn push(&self, call: &Call<'_>, outcome: Outcome, retries: u32, detail: Option<String>) {
        if let Some((code, message)) = outcome.failure() {
            tracing::debug!(service = call.service, region = call.region, operation = call.operation, target = ?call.target, code, message, retries, detail, "call failed");
        }
        let api_call = ApiCall {
            service: call.service.to_string(),
            region: call.region.to_string(),
            operation: call.operation.to_string(),
            target: call.target.map(str::to_string),
            outcome,
            retries,
            detail,
        };
        self.calls_made.fetch_add(1, Ordering::Relaxed);
        self.progress.call_finished(&api_call);
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.push(api_call);
        }
    }

    /// Takes the ledger written so far.
    pub fn take_ledger(&self) -> Vec<ApiCall> {
        self.ledger.lock().map(|mut ledger| std::mem::take(&mut *ledger)).unwrap_or_default()
    }

    pub fn region_is_global(region: &Region) -> bool {
        region.as_str() == Region::GLOBAL
    }
}

/// Room for one call, in its lane and under the global cap.
pub struct Admission<'a> {
    lane: OwnedLanePermit,
    _global: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl Admission<'_> {
    /// Reports how the call went (its HTTP attempts; its result) and frees its room: a call
    /// with a throttled attempt, or that ended throttled, narrows its lane.
    pub fn settle<T, E>(self, attempts: Attempts, result: &Result<T, SdkError<E, HttpResponse>>)
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let ended_throttled = result.as_ref().err().is_some_and(|error| matches!(outcome_of_error(error), Outcome::Throttled { .. }));
        self.lane.settle(attempts.throttled > 0 || ended_throttled);
    }
}

/// A client of one SDK crate for one region of the session's account, in the account's own
/// retry partition ([`Session::retry_partition_name`]): `sdk_client!(aws_sdk_ec2, session, &region)`.
#[macro_export]
macro_rules! sdk_client {
    ($sdk:ident, $session:expr, $region:expr) => {{
        let region: &str = $region;
        $sdk::Client::from_conf(
            $sdk::config::Builder::from(&$session.config_for(region))
                .retry_partition($sdk::config::retry::RetryPartition::new($session.retry_partition_name(stringify!($sdk), region)))
                .build(),
        )
    }};
}

/// Awaits one SDK call while admitted ([`Session::admit`]), and records it.
///
/// The SDK's future is made once the call is admitted, and boxed: a call's future holds the
/// SDK's whole request pipeline (kilobytes; tens of them where the SDK is built at opt-level 0),
/// and held inline it would make every caller waiting for admission that large. Boxed, only the
/// calls in flight pay for it ([`crate::for_each_page`] makes its paginator late for the same
/// reason).
#[macro_export]
macro_rules! call {
    ($session:expr, $call:expr, $future:expr) => {{
        let call = &$call;
        let admission = $session.admit(call.service, call.region).await;
        let (result, attempts) = $crate::session::counting(::std::boxed::Box::pin($future)).await;
        admission.settle(attempts, &result);
        $session.record_attempts(call, result, attempts.sent)
    }};
}

/// Walks every page of a paginated SDK call, recording each page; stops at the first failure.
///
/// The paginator is made when its first page is admitted: it allocates its request pipeline and
/// a channel of pages when made, which a caller waiting for admission need not hold.
#[macro_export]
macro_rules! for_each_page {
    ($session:expr, $call:expr, $paginator:expr, |$page:ident| $body:block) => {{
        let mut first_admission = Some($session.admit($call.service, $call.region).await);
        let mut stream = $paginator;
        loop {
            let (next, attempts) = {
                let admission = match first_admission.take() {
                    Some(admission) => admission,
                    None => $session.admit($call.service, $call.region).await,
                };
                let (next, attempts) = $crate::session::counting(stream.next()).await;
                match &next {
                    Some(result) => admission.settle(attempts, result),
                    None => drop(admission),
                }
                (next, attempts.sent)
            };
            let Some(result) = next else { break };
            match $session.record_attempts(&$call, result, attempts) {
                Some($page) => $body,
                None => break,
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    type StsError = SdkError<GetCallerIdentityError, HttpResponse>;

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body.to_string()))
    }

    /// A service error as the SDK builds it: modeled metadata (maybe with no code) and the reply.
    fn service_error(code: Option<&str>, message: Option<&str>, status: u16, body: &str) -> StsError {
        let mut metadata = ErrorMetadata::builder();
        if let Some(code) = code {
            metadata = metadata.code(code);
        }
        if let Some(message) = message {
            metadata = metadata.message(message);
        }
        SdkError::service_error(GetCallerIdentityError::generic(metadata.build()), reply(status, body))
    }

    fn check(error: StsError, expected: Outcome) {
        assert_eq!(outcome_of_error(&error), expected);
    }

    #[test]
    fn coded_errors_keep_the_services_code_and_words() {
        let outcome = |code: &str, message: &str| (code.to_string(), message.to_string());
        let (code, message) = outcome("Throttling", "Rate exceeded");
        check(service_error(Some("Throttling"), Some("Rate exceeded"), 400, ""), Outcome::Throttled { code, message });
        let (code, message) = outcome("AccessDenied", "User: x is not authorized to perform: s3:GetBucketPolicy");
        check(
            service_error(Some("AccessDenied"), Some("User: x is not authorized\n to perform: s3:GetBucketPolicy"), 403, ""),
            Outcome::AccessDenied { code, message },
        );
        check(service_error(Some("NoSuchBucketPolicy"), None, 404, ""), Outcome::NotConfigured { code: "NoSuchBucketPolicy".into() });
        let (code, message) = outcome("OptInRequired", "");
        check(service_error(Some("OptInRequired"), None, 401, ""), Outcome::NotAvailableInRegion { code, message });
        let (code, message) = outcome("InternalFailure", "oops");
        check(service_error(Some("InternalFailure"), Some("oops"), 500, ""), Outcome::Error { code, message });
    }

    #[test]
    fn replies_without_an_error_code_are_described_in_words() {
        let error = |code: &str, message: &str| Outcome::Error { code: code.into(), message: message.into() };
        check(
            service_error(None, None, 200, r#"<?xml version="1.0"?><GetBucketVersioningResponse xmlns="x"/>"#),
            error(
                codes::UNREADABLE_REPLY,
                "HTTP 200 with an XML document whose root element is `GetBucketVersioningResponse`, not the document this operation returns",
            ),
        );
        check(
            service_error(None, None, 200, "{\"a\": "),
            error(codes::UNREADABLE_REPLY, "HTTP 200 with malformed JSON, not the document this operation returns"),
        );
        check(service_error(None, None, 200, ""), error(codes::UNREADABLE_REPLY, "HTTP 200 with an empty body, not the document this operation returns"));
        check(
            service_error(None, None, 404, "<!DOCTYPE html><html><title>404 Not Found</title></html>"),
            Outcome::NotAvailableInRegion { code: codes::NOT_IMPLEMENTED.into(), message: "HTTP 404 with an HTML page".into() },
        );
        check(service_error(None, None, 500, "<html>boom</html>"), error("HTTP 500", "HTTP 500 with an HTML page instead of an AWS error document"));
        check(
            service_error(None, None, 403, "<Oops/>"),
            Outcome::AccessDenied { code: "HTTP 403".into(), message: "HTTP 403 with an XML document whose root element is `Oops`".into() },
        );
        check(
            service_error(None, None, 429, "slow down"),
            Outcome::Throttled { code: "HTTP 429".into(), message: "HTTP 429 with a body that is neither XML nor JSON".into() },
        );
    }

    #[test]
    fn transport_failures_say_what_happened() {
        let timeout: StsError = SdkError::timeout_error("operation timeout (all attempts including retries) occurred after 60s");
        check(timeout, Outcome::Error { code: codes::TIMED_OUT.into(), message: "no reply within the time limit".into() });
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        let dispatch: StsError = SdkError::dispatch_failure(aws_smithy_runtime_api::client::result::ConnectorError::io(Box::new(refused)));
        check(dispatch, Outcome::Error { code: codes::CONNECTION_FAILED.into(), message: "Connection refused (os error 111)".into() });
        let malformed: StsError = SdkError::response_error("unexpected end of chunked body", reply(200, ""));
        check(
            malformed,
            Outcome::Error { code: codes::UNREADABLE_REPLY.into(), message: "the reply could not be read: unexpected end of chunked body".into() },
        );
    }

    #[test]
    fn xml_root_elements_skip_declarations_and_comments() {
        for (text, expected) in [
            ("<a/>", Some("a")),
            ("<?xml version=\"1.0\"?>\n<!-- c -->\n<s3:Error xmlns:s3=\"x\">", Some("s3:Error")),
            ("<?xml", None),
            ("< a>", None),
            ("text", None),
        ] {
            assert_eq!(xml_root_element(text), expected, "{text}");
        }
    }

    /// Issue 21: every account of an organization scan has its own budget of calls in flight
    /// and its own retry partition, where the SDK keeps the adaptive retry mode's rate limiter
    /// and retry tokens: a throttled account backs off alone.
    #[test]
    fn each_account_has_its_own_budget_and_retry_partition() {
        let config = aws_types::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let session = |account: &str, budget: usize| Session::new(config.clone(), account.to_string(), "aws".into(), None, budget, Arc::new(NoProgress));
        let (first, second) = (session("111111111111", 3), session("222222222222", 5));
        let partition = |session: &Session| crate::sdk_client!(aws_sdk_sts, session, "eu-west-1").config().retry_partition().cloned();
        assert_eq!(partition(&first), Some(aws_sdk_sts::config::retry::RetryPartition::new("aws_sdk_sts-eu-west-1-111111111111")));
        assert_ne!(partition(&first), partition(&second));
        assert_eq!(partition(&first), partition(&session("111111111111", 1)));
        assert_eq!((first.permits.available_permits(), second.permits.available_permits()), (3, 5));
        let s3 = |session: &Session| session.s3_client("eu-west-1").config().retry_partition().cloned();
        assert_ne!(s3(&first), s3(&second));
    }

    /// Issue 20: the lanes narrow on replies that say "slow down", not on other failures.
    #[test]
    fn throttling_replies_are_told_from_other_failures_by_status_and_error_type() {
        let with_type = |status: u16, kind: &str| {
            let mut response = reply(status, "");
            response.headers_mut().insert("x-amzn-errortype", kind.to_string());
            response
        };
        assert!(is_throttling_reply(&reply(503, "<Error><Code>SlowDown</Code></Error>")));
        assert!(is_throttling_reply(&reply(429, "")));
        assert!(is_throttling_reply(&with_type(400, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/")));
        assert!(!is_throttling_reply(&with_type(400, "ResourceNotFoundException")));
        assert!(!is_throttling_reply(&reply(500, "")));
        assert!(!is_throttling_reply(&reply(400, "")));
    }

    #[test]
    fn failures_keep_the_raw_error_and_settings_not_configured_do_not() {
        let config = aws_types::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let session = Session::new(config, "111111111111".into(), "aws".into(), None, 4, Arc::new(NoProgress));
        let call = Call { service: "s3", region: "eu-west-1", operation: "GetBucketPolicy", target: Some("logs") };
        let none: Option<()> = session.record(&call, Err(service_error(Some("NoSuchBucketPolicy"), Some("The bucket policy does not exist"), 404, "")));
        assert!(none.is_none());
        let _ = session.record::<(), _>(&call, Err(service_error(Some("AccessDenied"), Some("denied"), 403, "")));
        let ledger = session.take_ledger();
        assert_eq!(ledger[0].outcome, Outcome::NotConfigured { code: "NoSuchBucketPolicy".into() });
        assert_eq!(ledger[0].detail, None);
        assert!(ledger[1].detail.as_deref().is_some_and(|detail| detail.contains("AccessDenied")), "{:?}", ledger[1].detail);
    }

    #[test]
    fn the_detail_keeps_the_raw_error_within_a_bound() {
        let error = service_error(None, None, 200, &format!("<{}/>", "x".repeat(5000)));
        assert!(detail_of_error(&error).len() <= DETAIL_LIMIT + 3);
    }
}
