//! Applies [`vigil_fix`] plans to an AWS account: the only code in vigil that changes one
//! (`vigil-collect` stays read-only). One change at a time:
//!
//! 1. re-read the slice (the collector's own read of that service and region) and refuse
//!    the change when it differs from the plan's "before" (someone changed it meanwhile);
//! 2. send the calls in order, stopping at the first failure;
//! 3. re-read the slice until it equals the plan's "after" (or a time limit passes);
//! 4. report what was done, with the inverse computed from the configuration as re-read.
//!
//! Credentials, endpoint, retries and the ledger are the collector's ([`vigil_collect::Session`]).

mod dispatch;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_collect::session::{NoProgress, Session};
use vigil_collect::{CollectConfig, CollectError};
use vigil_fix::{Call, Kind, Target};

pub use dispatch::{CallFailure, execute, sends};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error("cannot read {what}: {reason}")]
    Read { what: String, reason: String },
    #[error(transparent)]
    Fix(#[from] vigil_fix::FixError),
}

/// Where and how to apply.
#[derive(Debug, Clone)]
pub struct ApplyConfig {
    /// Credentials, profile, role and endpoint, as for collection.
    pub collect: CollectConfig,
    /// How long to wait for a re-read to show a change (AWS applies some changes, such as an
    /// RDS instance's, after the call returns).
    pub verify_timeout: Duration,
}

/// How a change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every call succeeded and a re-read shows the planned configuration.
    Applied,
    /// A call failed, or the re-read did not show the planned configuration.
    Failed,
    /// Not attempted: the configuration was not the plan's "before" (or could not be read).
    Refused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Failed => "failed",
            Status::Refused => "refused",
        }
    }
}

/// One call sent, and its error if it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call: Call,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallFailure>,
}

/// What applying one change did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub message: String,
    /// The calls sent, in order (a failed call is the last one).
    pub calls: Vec<CallRecord>,
    /// The configuration as re-read just before the change.
    pub before: Option<Value>,
    /// The configuration as re-read after it.
    pub after: Option<Value>,
    /// The calls that take the configuration back to `before` from what was re-read after.
    pub inverse: Vec<Call>,
}

/// A change to apply: the slice, the configuration expected now, the calls and the
/// configuration expected after them.
pub struct Change<'a> {
    pub kind: &'static Kind,
    pub target: &'a Target,
    pub before: &'a Value,
    pub calls: &'a [Call],
    pub after: &'a Value,
}

/// A connection to the account that applies changes.
pub struct Applier {
    session: Arc<Session>,
    config: ApplyConfig,
    caller_arn: String,
}

impl Applier {
    /// Loads credentials and identifies the caller (sts:GetCallerIdentity).
    pub async fn connect(config: ApplyConfig) -> Result<Applier, ApplyError> {
        let sdk_config = vigil_collect::load_sdk_config(&config.collect).await?;
        let caller = vigil_collect::identify(&sdk_config).await?;
        let caller_arn = caller.arn.unwrap_or_default();
        let session = Session::new(sdk_config, caller.account_id, caller.partition, config.collect.endpoint_url.clone(), 4, Arc::new(NoProgress));
        Ok(Applier { session: Arc::new(session), config, caller_arn })
    }

    /// The ARN the changes are made as.
    pub fn caller_arn(&self) -> &str {
        &self.caller_arn
    }

    pub fn account_id(&self) -> &str {
        &self.session.account_id
    }

    /// The calls made so far, with their outcomes.
    pub fn ledger(&self) -> Vec<vigil_model::ApiCall> {
        self.session.take_ledger()
    }

    /// Reads a slice now: the collector reads the kind's service in the target's region.
    pub async fn read(&self, kind: &Kind, target: &Target) -> Result<Value, ApplyError> {
        let region = if target.region == vigil_model::Region::GLOBAL {
            self.session.sdk_config.region().map(|region| region.to_string()).unwrap_or_else(|| vigil_collect::DEFAULT_REGION.to_string())
        } else {
            target.region.clone()
        };
        let config = CollectConfig { regions: vec![region], services: vec![kind.service.to_string()], max_in_flight: 16, ..self.config.collect.clone() };
        let inventory = vigil_collect::collect_with(self.session.sdk_config.clone(), &config, Arc::new(NoProgress)).await?;
        (kind.state)(&inventory, target).map_err(|error| ApplyError::Read { what: format!("{} of `{}`", kind.title, target.id), reason: error.to_string() })
    }

    /// Applies one change (see the crate's documentation for the steps).
    pub async fn apply(&self, change: &Change<'_>) -> Outcome {
        let kind = change.kind;
        let mut outcome = Outcome { status: Status::Refused, message: String::new(), calls: Vec::new(), before: None, after: None, inverse: Vec::new() };
        let now = match self.read(kind, change.target).await {
            Ok(now) => now,
            Err(error) => {
                outcome.message = format!("not applied: {error}");
                return outcome;
            }
        };
        outcome.before = Some(now.clone());
        if !kind.unchanged(change.before, &now) {
            outcome.message = format!(
                "not applied: {} of `{}` changed since the plan (planned from {}, now {})",
                kind.title,
                change.target.id,
                compact(change.before),
                compact(&now)
            );
            return outcome;
        }
        for call in change.calls {
            let result = dispatch::execute(&self.session, call).await;
            let failed = result.as_ref().err().cloned();
            outcome.calls.push(CallRecord { call: call.clone(), error: failed.clone() });
            if let Some(failure) = failed {
                outcome.status = Status::Failed;
                outcome.message = format!("{} failed: {failure}", call.name());
                // Some calls may have gone through: undo from what is there now.
                if let Ok(after) = self.read(kind, change.target).await {
                    outcome.inverse = (kind.calls)(change.target, &after, &now).unwrap_or_default();
                    outcome.after = Some(after);
                }
                return outcome;
            }
        }
        let started = Instant::now();
        let mut wait = Duration::from_secs(1);
        loop {
            match self.read(kind, change.target).await {
                Ok(after) if kind.same(change.after, &after) => {
                    outcome.inverse = (kind.calls)(change.target, &after, &now).unwrap_or_default();
                    outcome.after = Some(after);
                    outcome.status = Status::Applied;
                    outcome.message = format!("applied and verified: a re-read of {} of `{}` shows the planned configuration", kind.title, change.target.id);
                    return outcome;
                }
                Ok(after) if started.elapsed() >= self.config.verify_timeout => {
                    outcome.inverse = (kind.calls)(change.target, &after, &now).unwrap_or_default();
                    outcome.message = format!(
                        "the calls succeeded but after {}s a re-read shows {} instead of the planned {}",
                        started.elapsed().as_secs(),
                        compact(&after),
                        compact(change.after)
                    );
                    outcome.after = Some(after);
                    outcome.status = Status::Failed;
                    return outcome;
                }
                Err(error) if started.elapsed() >= self.config.verify_timeout => {
                    outcome.inverse = (kind.calls)(change.target, change.after, &now).unwrap_or_default();
                    outcome.message = format!("the calls succeeded but the change could not be verified: {error}");
                    outcome.status = Status::Failed;
                    return outcome;
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(15));
                }
            }
        }
    }
}

/// A configuration value on one line, shortened for messages.
fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text }
}
