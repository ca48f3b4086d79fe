//! Remediation plans (`vigil fix`): for a failing finding, the exact AWS calls that fix it, the
//! configuration before and after, and the effect of the change computed on the inventory
//! with the change applied (findings resolved or introduced, internet exposures removed,
//! working flows cut, escalation paths and external access removed, CloudTrail activity that
//! would lose its permission). Every fix has an inverse.
//!
//! A fixer is a check id plus a [`Kind`]: the slice of one resource's configuration a fix
//! changes. A kind reads that slice from an inventory ([`Kind::state`]), writes a new value
//! into an inventory ([`Kind::set_state`]) and turns any (from, to) pair of values into AWS
//! calls ([`Kind::calls`]); the fix is `calls(before, desired)` and its inverse is
//! `calls(after, before)`. Which parts of a configuration a check objects to is decided by the
//! check itself (see `probe.rs`): the catalog stays the one place for each rule.
//!
//! Pure: no I/O, no async. Applying a plan is `vigil-apply`'s job.

pub mod actions;
pub mod automation;
mod effect;
pub mod fixers;
pub mod iac;
pub mod kinds;
mod options;
mod plan;
mod probe;
mod support;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use effect::{Activity, Break, ExposureChange, FindingRef};
pub use fixers::{FIXERS, Fixer, fixer_for};
pub use kinds::{KINDS, Kind, kind};
pub use options::Options;
pub use plan::{Fix, Plan, Selection, Skipped, plan};

/// One AWS API call: the service (as the SDK and the ledger name it: `ec2`, `s3`,
/// `s3control`, `iam`, ...), the operation (`RevokeSecurityGroupIngress`), the region it is
/// sent to (`global` for IAM and S3 Control) and its parameters with the API's own names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub region: String,
    pub parameters: Value,
}

impl Call {
    pub fn new(service: &str, operation: &str, region: &str, parameters: Value) -> Call {
        Call { service: service.to_string(), operation: operation.to_string(), region: region.to_string(), parameters }
    }

    /// `service:Operation`, as in the ledger and the action table.
    pub fn name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// The resource configuration slice a fix changes: which [`Kind`] and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The kind's id (`security-group-rules`, `s3-bucket-access`, ...).
    pub kind: String,
    pub account_id: String,
    /// The region, or `global`.
    pub region: String,
    /// The resource's own id or name (a group id, a bucket name, a user name, a key id; the
    /// account id for account settings).
    pub id: String,
    /// The ARN of the resource the finding is about.
    pub arn: String,
}

/// What can go wrong while planning a fix. Each message names the resource or the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("{0} is not in the inventory")]
    NotFound(String),
    #[error("the inventory lacks `{call}` in {region}: {reason}")]
    NotRead { call: String, region: String, reason: String },
    #[error("{0}")]
    Declined(String),
    #[error("the configuration value `{what}` is malformed: {reason}")]
    Malformed { what: String, reason: String },
    #[error("unknown fix kind `{0}`")]
    UnknownKind(String),
}
