//! The collection session: SDK configuration, the ledger being written, bounded concurrency,
//! and the one place where SDK errors become ledger outcomes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use vigil_model::{ApiCall, Outcome, Region};

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

/// Classifies a failed SDK call into a ledger outcome.
pub fn outcome_of_error<E>(error: &SdkError<E, HttpResponse>) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = error.code().map(str::to_string);
    let message = error.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(error).to_string());
    match code {
        Some(code) if NOT_CONFIGURED_CODES.contains(&code.as_str()) => Outcome::NotConfigured { code },
        Some(code) if ACCESS_DENIED_CODES.contains(&code.as_str()) => Outcome::AccessDenied { code, message },
        Some(code) if THROTTLED_CODES.contains(&code.as_str()) => Outcome::Throttled { code, message },
        Some(code) if NOT_IN_REGION_CODES.contains(&code.as_str()) => Outcome::NotAvailableInRegion { code, message },
        Some(code) => Outcome::Error { code, message },
        None => {
            // No modeled error code: a transport failure, or an endpoint that answered with
            // something the SDK could not parse (e.g. an emulator that does not implement
            // the operation). Name the HTTP status when there was a response.
            let status = error.raw_response().map(|response| response.status().as_u16());
            let message: String = message.chars().take(300).collect();
            // An HTTP 403 is a refusal whatever its body says (some endpoints answer a denied
            // JSON-protocol call with an XML error document the SDK cannot parse).
            if status == Some(403) {
                return Outcome::AccessDenied { code: "HTTP 403".to_string(), message };
            }
            let code = match (error, status) {
                (_, Some(status)) => format!("HTTP {status}"),
                (SdkError::TimeoutError(_), None) => "Timeout".to_string(),
                (SdkError::DispatchFailure(_), None) => "DispatchFailure".to_string(),
                (SdkError::ConstructionFailure(_), None) => "ConstructionFailure".to_string(),
                _ => "Unknown".to_string(),
            };
            Outcome::Error { code, message }
        }
    }
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
    /// Bounds the number of API calls in flight, across all services and regions.
    pub permits: tokio::sync::Semaphore,
    calls_made: AtomicU64,
    /// The regions this collection reads, once known (collectors of one region use it to
    /// decide which region reads a resource every region can see, such as a shadow trail).
    scanned_regions: std::sync::OnceLock<Vec<String>>,
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
            sdk_config,
            account_id,
            partition,
            endpoint_url,
            ledger: Mutex::new(Vec::new()),
            progress,
            permits: tokio::sync::Semaphore::new(max_in_flight.max(1)),
            calls_made: AtomicU64::new(0),
            scanned_regions: std::sync::OnceLock::new(),
        }
    }

    /// Records the regions this collection reads (set once, before the regional collectors run).
    pub fn set_scanned_regions(&self, regions: &[String]) {
        let mut sorted = regions.to_vec();
        sorted.sort();
        let _ = self.scanned_regions.set(sorted);
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
        let (outcome, output) = match result {
            Ok(output) => (Outcome::Ok, Some(output)),
            Err(error) => (outcome_of_error(&error), None),
        };
        self.record_outcome(call, outcome);
        output
    }

    /// Records an outcome decided by the caller (e.g. a reply that could not be parsed).
    pub fn record_outcome(&self, call: &Call<'_>, outcome: Outcome) {
        if let Some((code, message)) = outcome.failure() {
            tracing::debug!(service = call.service, region = call.region, operation = call.operation, target = ?call.target, code, message, "call failed");
        }
        let api_call = ApiCall {
            service: call.service.to_string(),
            region: call.region.to_string(),
            operation: call.operation.to_string(),
            target: call.target.map(str::to_string),
            outcome,
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

/// Awaits one SDK call while holding a concurrency permit, and records it.
#[macro_export]
macro_rules! call {
    ($session:expr, $call:expr, $future:expr) => {{
        let _permit = $session.permits.acquire().await;
        let result = $future.await;
        $session.record(&$call, result)
    }};
}

/// Walks every page of a paginated SDK call, recording each page; stops at the first failure.
#[macro_export]
macro_rules! for_each_page {
    ($session:expr, $call:expr, $paginator:expr, |$page:ident| $body:block) => {{
        let mut stream = $paginator;
        loop {
            let next = {
                let _permit = $session.permits.acquire().await;
                stream.next().await
            };
            let Some(result) = next else { break };
            match $session.record(&$call, result) {
                Some($page) => $body,
                None => break,
            }
        }
    }};
}
