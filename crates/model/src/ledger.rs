//! The coverage ledger: every API call collection made, and what came of it.
//!
//! Checks decide PASS or FAIL only from data the ledger says was read; anything else is
//! an ERROR that names the call. "Not configured" (e.g. `NoSuchBucketPolicy`) is a fact
//! about the account, not a failure.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One API call made during collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCall {
    /// The service's SDK name, e.g. `ec2`, `s3`, `iam`.
    pub service: String,
    /// The region the call was sent to, or `global`.
    pub region: String,
    /// The API operation, e.g. `GetBucketPolicy`.
    pub operation: String,
    /// The resource the call was about, when it was about one (bucket name, key id, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub outcome: Outcome,
    /// How many times the SDK retried the call (throttling, 5xx, dropped connections) before
    /// this outcome; 0 when it succeeded or failed at the first attempt, and in snapshots
    /// written before retries were recorded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
    /// The raw error as the SDK reported it (its whole source chain), for failures: the
    /// outcome's message is the readable summary, this is what a bug report needs. `None` for
    /// a setting that is not configured (an answer, which its code says whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl ApiCall {
    /// A call with no retries and no raw error detail.
    pub fn new(service: impl Into<String>, region: impl Into<String>, operation: impl Into<String>, target: Option<String>, outcome: Outcome) -> ApiCall {
        ApiCall { service: service.into(), region: region.into(), operation: operation.into(), target, outcome, retries: 0, detail: None }
    }

    /// One readable line saying which call failed and why, e.g. "s3:GetBucketVersioning in
    /// us-east-1 for `logs`: unreadable reply: ...". `None` when the call was read.
    pub fn failure_line(&self) -> Option<String> {
        let reason = self.outcome.reason()?;
        let target = self.target.as_deref().map(|target| format!(" for `{target}`")).unwrap_or_default();
        let retries = match self.retries {
            0 => String::new(),
            1 => " (after 1 retry)".to_string(),
            retries => format!(" (after {retries} retries)"),
        };
        Some(format!("{}:{} in {}{target}: {reason}{retries}", self.service, self.operation, self.region))
    }
}

/// What came of an API call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The call succeeded and its data is in the inventory.
    Ok,
    /// The thing asked for does not exist (e.g. `NoSuchBucketPolicy`): a fact, not a failure.
    NotConfigured { code: String },
    /// The caller was not allowed to make the call.
    AccessDenied { code: String, message: String },
    /// AWS kept throttling the call after all retries.
    Throttled { code: String, message: String },
    /// The service or operation does not exist in this region (or is not enabled there).
    NotAvailableInRegion { code: String, message: String },
    /// Any other failure: network, unknown error, an operation the endpoint does not implement.
    Error { code: String, message: String },
}

impl Outcome {
    /// True when the call's answer is known: it succeeded, or told us the thing is absent.
    pub fn is_read(&self) -> bool {
        matches!(self, Outcome::Ok | Outcome::NotConfigured { .. })
    }

    /// A short label: `ok`, `not_configured`, `access_denied`, ...
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotConfigured { .. } => "not_configured",
            Outcome::AccessDenied { .. } => "access_denied",
            Outcome::Throttled { .. } => "throttled",
            Outcome::NotAvailableInRegion { .. } => "not_available_in_region",
            Outcome::Error { .. } => "error",
        }
    }

    /// Why the call failed, in one readable line (`None` when it was read): the kind of
    /// failure first (access denied, throttled, unreadable reply, timed out, connection
    /// failed, not available), then the service's own words and code.
    pub fn reason(&self) -> Option<String> {
        let (code, message) = self.failure()?;
        let kind = match self {
            Outcome::Ok | Outcome::NotConfigured { .. } => return None,
            Outcome::AccessDenied { .. } => "access denied",
            Outcome::Throttled { .. } => "throttled",
            Outcome::NotAvailableInRegion { .. } if code == codes::NOT_IMPLEMENTED => "not implemented by the endpoint",
            Outcome::NotAvailableInRegion { .. } => "not available in this region",
            Outcome::Error { .. } => match code {
                codes::UNREADABLE_REPLY => "unreadable reply",
                codes::TIMED_OUT => "timed out",
                codes::CONNECTION_FAILED => "connection failed",
                codes::REQUEST_NOT_BUILT => "request not built",
                _ => "failed",
            },
        };
        let message = one_line(message, 240);
        Some(match (message.is_empty(), codes::is_synthetic(code)) {
            (true, true) => kind.to_string(),
            (true, false) => format!("{kind} ({code})"),
            (false, true) => format!("{kind}: {message}"),
            (false, false) => format!("{kind}: {message} ({code})"),
        })
    }

    /// The error code and message, for outcomes that are failures.
    pub fn failure(&self) -> Option<(&str, &str)> {
        match self {
            Outcome::Ok | Outcome::NotConfigured { .. } => None,
            Outcome::AccessDenied { code, message }
            | Outcome::Throttled { code, message }
            | Outcome::NotAvailableInRegion { code, message }
            | Outcome::Error { code, message } => Some((code, message)),
        }
    }
}

/// The codes vigil gives failures that carry no AWS error code (a transport failure, a reply
/// that could not be parsed, an endpoint that lacks the operation).
pub mod codes {
    /// The reply arrived but was not the document the operation returns (malformed XML or
    /// JSON, an HTML page, an empty body).
    pub const UNREADABLE_REPLY: &str = "UnreadableReply";
    /// No reply within the time limit.
    pub const TIMED_OUT: &str = "TimedOut";
    /// The connection could not be made or was dropped (refused, reset, DNS, TLS).
    pub const CONNECTION_FAILED: &str = "ConnectionFailed";
    /// The endpoint answered that it does not serve this operation (HTTP 404/405/501 with no
    /// AWS error code: an emulator or a proxy that lacks it).
    pub const NOT_IMPLEMENTED: &str = "NotImplemented";
    /// The SDK could not build the request (missing credentials or region, a bad parameter).
    pub const REQUEST_NOT_BUILT: &str = "RequestNotBuilt";

    /// True for the codes above, which repeat the kind of failure rather than add to it.
    pub fn is_synthetic(code: &str) -> bool {
        [UNREADABLE_REPLY, TIMED_OUT, CONNECTION_FAILED, NOT_IMPLEMENTED, REQUEST_NOT_BUILT].contains(&code)
    }
}

/// Collapses whitespace (newlines included) and cuts `text` to at most `limit` characters,
/// marking the cut, so that a message fits one line.
pub fn one_line(text: &str, limit: usize) -> String {
    let mut line = String::with_capacity(text.len().min(limit + 3));
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            line.push(' ');
            count += 1;
        }
        for character in word.chars() {
            if count >= limit {
                line.push_str("...");
                return line;
            }
            line.push(character);
            count += 1;
        }
    }
    line
}

/// Every call collection made, in the order they finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub calls: Vec<ApiCall>,
}

/// What the ledger knows about the data a check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage<'a> {
    /// Every call this data depends on was read.
    Read,
    /// This call failed; the data is missing or partial.
    Failed(&'a ApiCall),
    /// No such call was made at all (the service was not collected).
    NotCollected,
}

impl Ledger {
    pub fn record(&mut self, call: ApiCall) {
        self.calls.push(call);
    }

    pub fn failures(&self) -> impl Iterator<Item = &ApiCall> {
        self.calls.iter().filter(|call| !call.outcome.is_read())
    }

    /// Builds an index for fast lookups by (service, region, operation, target).
    pub fn index(&self) -> LedgerIndex<'_> {
        let mut by_key: CallsByKey<'_> = HashMap::default();
        for call in &self.calls {
            by_key.entry((&call.service, &call.region, &call.operation, call.target.as_deref())).or_default().push(call);
        }
        LedgerIndex { by_key }
    }
}

/// The calls of a ledger by (service, region, operation, target), hashed with foldhash: checks
/// look a call up for each resource, and SipHash was most of the lookup's cost.
type CallsByKey<'a> = HashMap<(&'a str, &'a str, &'a str, Option<&'a str>), Vec<&'a ApiCall>, foldhash::fast::RandomState>;

/// A read-only index over a [`Ledger`].
#[derive(Debug)]
pub struct LedgerIndex<'a> {
    by_key: CallsByKey<'a>,
}

impl<'a> LedgerIndex<'a> {
    /// The coverage of one call. Several calls with the same key (pages) all have to be read.
    pub fn coverage(&self, service: &str, region: &str, operation: &str, target: Option<&str>) -> Coverage<'a> {
        match self.by_key.get(&(service, region, operation, target)) {
            None => Coverage::NotCollected,
            Some(calls) => match calls.iter().find(|call| !call.outcome.is_read()) {
                Some(failed) => Coverage::Failed(failed),
                None => Coverage::Read,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(operation: &str, target: Option<&str>, outcome: Outcome) -> ApiCall {
        ApiCall::new("s3", "eu-west-1", operation, target.map(str::to_string), outcome)
    }

    #[test]
    fn not_configured_counts_as_read_and_denied_does_not() {
        let mut ledger = Ledger::default();
        ledger.record(call("GetBucketPolicy", Some("a"), Outcome::NotConfigured { code: "NoSuchBucketPolicy".into() }));
        ledger.record(call("GetBucketPolicy", Some("b"), Outcome::AccessDenied { code: "AccessDenied".into(), message: "no".into() }));
        let index = ledger.index();
        assert_eq!(index.coverage("s3", "eu-west-1", "GetBucketPolicy", Some("a")), Coverage::Read);
        assert!(matches!(index.coverage("s3", "eu-west-1", "GetBucketPolicy", Some("b")), Coverage::Failed(_)));
        assert_eq!(index.coverage("s3", "eu-west-1", "GetBucketPolicy", Some("c")), Coverage::NotCollected);
    }

    fn line(outcome: Outcome, retries: u32) -> String {
        let mut call = call("GetBucketVersioning", Some("logs"), outcome);
        call.retries = retries;
        call.failure_line().unwrap_or_default()
    }

    #[test]
    fn failure_lines_name_the_call_and_the_kind_of_failure() {
        let error = |code: &str, message: &str| Outcome::Error { code: code.into(), message: message.into() };
        for (outcome, retries, expected) in [
            (
                Outcome::AccessDenied { code: "AccessDenied".into(), message: "Access Denied".into() },
                0,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: access denied: Access Denied (AccessDenied)",
            ),
            (
                Outcome::Throttled { code: "SlowDown".into(), message: "Please reduce\nyour request rate.".into() },
                4,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: throttled: Please reduce your request rate. (SlowDown) (after 4 retries)",
            ),
            (
                error(codes::UNREADABLE_REPLY, "malformed XML: root element `A`, expected `B`"),
                0,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: unreadable reply: malformed XML: root element `A`, expected `B`",
            ),
            (error(codes::TIMED_OUT, ""), 1, "s3:GetBucketVersioning in eu-west-1 for `logs`: timed out (after 1 retry)"),
            (
                error(codes::CONNECTION_FAILED, "connection reset by peer"),
                0,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: connection failed: connection reset by peer",
            ),
            (
                Outcome::NotAvailableInRegion { code: codes::NOT_IMPLEMENTED.into(), message: "HTTP 404".into() },
                0,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: not implemented by the endpoint: HTTP 404",
            ),
            (
                Outcome::NotAvailableInRegion { code: "OptInRequired".into(), message: "".into() },
                0,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: not available in this region (OptInRequired)",
            ),
            (
                error("InternalError", "We encountered an internal error."),
                0,
                "s3:GetBucketVersioning in eu-west-1 for `logs`: failed: We encountered an internal error. (InternalError)",
            ),
        ] {
            assert_eq!(line(outcome, retries), expected);
        }
        assert_eq!(call("GetBucketPolicy", None, Outcome::NotConfigured { code: "NoSuchBucketPolicy".into() }).failure_line(), None);
    }

    #[test]
    fn one_line_collapses_whitespace_and_marks_the_cut() {
        assert_eq!(one_line("a\n  b\tc", 100), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc...");
        assert_eq!(one_line("", 3), "");
    }

    #[test]
    fn retries_and_detail_are_omitted_when_absent_and_default_when_missing() {
        let call = call("ListBuckets", None, Outcome::Ok);
        let text = serde_json::to_string(&call).unwrap();
        assert!(!text.contains("retries") && !text.contains("detail"), "{text}");
        let old: ApiCall = serde_json::from_str(r#"{"service":"s3","region":"global","operation":"ListBuckets","outcome":{"status":"ok"}}"#).unwrap();
        assert_eq!((old.retries, old.detail), (0, None));
    }

    #[test]
    fn one_failed_page_makes_the_whole_listing_failed() {
        let mut ledger = Ledger::default();
        ledger.record(call("ListBuckets", None, Outcome::Ok));
        ledger.record(call("ListBuckets", None, Outcome::Throttled { code: "SlowDown".into(), message: "".into() }));
        assert!(matches!(ledger.index().coverage("s3", "eu-west-1", "ListBuckets", None), Coverage::Failed(_)));
    }
}
