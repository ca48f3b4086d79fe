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
        let mut by_key: HashMap<(&str, &str, &str, Option<&str>), Vec<&ApiCall>> = HashMap::new();
        for call in &self.calls {
            by_key.entry((&call.service, &call.region, &call.operation, call.target.as_deref())).or_default().push(call);
        }
        LedgerIndex { by_key }
    }
}

/// A read-only index over a [`Ledger`].
#[derive(Debug)]
pub struct LedgerIndex<'a> {
    by_key: HashMap<(&'a str, &'a str, &'a str, Option<&'a str>), Vec<&'a ApiCall>>,
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
        ApiCall { service: "s3".into(), region: "eu-west-1".into(), operation: operation.into(), target: target.map(str::to_string), outcome }
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

    #[test]
    fn one_failed_page_makes_the_whole_listing_failed() {
        let mut ledger = Ledger::default();
        ledger.record(call("ListBuckets", None, Outcome::Ok));
        ledger.record(call("ListBuckets", None, Outcome::Throttled { code: "SlowDown".into(), message: "".into() }));
        assert!(matches!(ledger.index().coverage("s3", "eu-west-1", "ListBuckets", None), Coverage::Failed(_)));
    }
}
