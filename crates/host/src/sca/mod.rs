//! Configuration assessment in the Wazuh SCA policy format (docs/host.md, "Configuration
//! assessment"): `policy.rs` loads a policy, `rule.rs` parses rules, `pattern.rs` compiles
//! their regular expressions (PCRE2, OS_Regex, OS_Match), `eval.rs` evaluates them on a
//! `HostRoot`, `exec.rs` runs command rules on the live system.
//!
//! Every check ends passed, failed or not applicable, always with a reason: the rule and the
//! file line that decided it, or why it could not be evaluated (a file absent, a command not
//! installed, a command or process rule under `--root`). Nothing passes silently.

mod eval;
mod exec;
pub mod pattern;
pub mod policy;
pub mod rule;

use serde::Serialize;

pub use eval::{Outcome, ScaOptions, evaluate};
pub use policy::{Check, Condition, Policy};

/// vigil's own guest-OS policy (its own words): SSH v2 only, no root login, command-line
/// logging, `sudo` for privilege, no world-writable system files.
pub const DEFAULT_POLICY: &str = include_str!("vigil-guest-os.yml");
/// The name `--policy` accepts for [`DEFAULT_POLICY`].
pub const DEFAULT_POLICY_NAME: &str = "vigil-guest-os";

/// Parses the bundled default policy.
pub fn default_policy() -> Result<Policy, ScaError> {
    Policy::parse(DEFAULT_POLICY, DEFAULT_POLICY_NAME)
}

#[derive(Debug, thiserror::Error)]
pub enum ScaError {
    #[error("cannot read policy `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("policy `{path}`{}: {message}", line.map(|line| format!(", line {line}")).unwrap_or_default())]
    Yaml { path: String, line: Option<usize>, message: String },
    #[error("policy `{path}`: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckResult {
    #[serde(rename = "passed")]
    Passed,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "not applicable")]
    NotApplicable,
}

impl CheckResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Passed => "passed",
            CheckResult::Failed => "failed",
            CheckResult::NotApplicable => "not applicable",
        }
    }
}

/// One policy's results (the `vigil host sca --format json` document).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    pub policy: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirements: Option<RequirementsReport>,
    pub checks: Vec<CheckReport>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementsReport {
    pub title: String,
    pub result: CheckResult,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub id: i64,
    pub title: String,
    pub result: CheckResult,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub compliance: serde_json::Value,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub not_applicable: usize,
    /// Wazuh's score: passed / (passed + failed), in percent; `None` when nothing was decided.
    pub score: Option<f64>,
}

impl Summary {
    pub fn of(checks: &[CheckReport]) -> Summary {
        let count = |result: CheckResult| checks.iter().filter(|check| check.result == result).count();
        let (passed, failed, not_applicable) = (count(CheckResult::Passed), count(CheckResult::Failed), count(CheckResult::NotApplicable));
        let decided = passed + failed;
        let score = (decided > 0).then(|| (passed as f64 * 1000.0 / decided as f64).round() / 10.0);
        Summary { passed, failed, not_applicable, score }
    }
}

#[cfg(test)]
mod tests;
