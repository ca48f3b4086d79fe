//! Detections on host logs with vigil's one Sigma engine (`vigil_trail::sigma`, compiled for
//! the Linux target): the built-in rules (`crates/host/rules/*.yml`, vigil's own) and any
//! SigmaHQ Linux rules given, run over [`LogRecord`]s, with correlations (brute force,
//! success after failures) over the matches.
//!
//! One place for both sides: the agent's `logs` module runs [`Detector`] over the records it
//! reads, and the server runs [`RecordEvaluator`] over the `record` events agents ship (the
//! policy's `logs.detect`, [`DetectAt`]); both turn a match into the same `alert` event
//! ([`alert_event`], [`correlation_event`]) with the same id, so the store keeps one alert when
//! both evaluate a record.

use std::path::Path;

use serde_json::json;
use sha2::Digest as _;
use vigil_trail::sigma::correlation::{self, CorrelationHit};
use vigil_trail::sigma::{CompileOptions, CorrelationAlert, Loaded, Rejected, RejectionKind, RuleSet, Target, load_text};

use super::LogRecord;

/// The built-in host detections: (file name, YAML). Rule ids never change once released.
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    ("vigil_linux_audit_log_cleared.yml", include_str!("../../rules/vigil_linux_audit_log_cleared.yml")),
    ("vigil_linux_new_sudoer.yml", include_str!("../../rules/vigil_linux_new_sudoer.yml")),
    ("vigil_linux_root_console_login.yml", include_str!("../../rules/vigil_linux_root_console_login.yml")),
    ("vigil_linux_ssh_auth_failure.yml", include_str!("../../rules/vigil_linux_ssh_auth_failure.yml")),
    ("vigil_linux_ssh_auth_success.yml", include_str!("../../rules/vigil_linux_ssh_auth_success.yml")),
    ("vigil_linux_ssh_brute_force.yml", include_str!("../../rules/vigil_linux_ssh_brute_force.yml")),
    ("vigil_linux_ssh_key_added.yml", include_str!("../../rules/vigil_linux_ssh_key_added.yml")),
    ("vigil_linux_ssh_root_login.yml", include_str!("../../rules/vigil_linux_ssh_root_login.yml")),
    ("vigil_linux_ssh_success_after_failures.yml", include_str!("../../rules/vigil_linux_ssh_success_after_failures.yml")),
    ("vigil_linux_sudo_failure.yml", include_str!("../../rules/vigil_linux_sudo_failure.yml")),
    ("vigil_linux_user_added.yml", include_str!("../../rules/vigil_linux_user_added.yml")),
];

/// The id of the built-in rule for one SSH authentication failure (the active response counts its matches).
pub const SSH_AUTH_FAILURE_RULE: &str = "d3e8c874-b8e2-4aa3-895b-ca82a69bd2e3";

pub fn options() -> CompileOptions {
    CompileOptions { target: Target::Linux, ..CompileOptions::default() }
}

/// The built-in rules plus the rules under `paths` (files or directories), compiled for Linux.
pub fn load(paths: &[&Path], builtin: bool) -> Result<(RuleSet, Vec<Rejected>), vigil_trail::sigma::files::RulePathError> {
    let options = options();
    let mut loaded = Loaded::default();
    if builtin {
        for (name, text) in BUILTIN_RULES {
            loaded.extend(load_text(text, &format!("builtin:{name}"), &options));
        }
    }
    for path in paths {
        loaded.extend(vigil_trail::sigma::files::load_path(path, &options)?);
    }
    Ok(RuleSet::new(loaded))
}

/// One rule matching one record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostAlert {
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub time: Option<String>,
    pub host: Option<String>,
    pub source: String,
    /// The record's fields (the raw line is in `message`).
    pub record: std::collections::BTreeMap<String, String>,
}

/// Matches records against a rule set and keeps correlation hits.
#[derive(Debug, Default)]
pub struct Detector {
    pub hits: Vec<CorrelationHit>,
    matched: Vec<u32>,
}

impl Detector {
    /// The alerts of one record (correlation hits are kept for [`Detector::correlations`]).
    pub fn check(&mut self, set: &RuleSet, record: &LogRecord) -> Vec<HostAlert> {
        let value = record.to_value();
        self.matched.clear();
        set.matches_services(&value, &record.services, &mut self.matched);
        let mut alerts = Vec::new();
        for index in self.matched.iter().map(|index| *index as usize) {
            if let Some(rule) = set.rules.get(index).filter(|rule| !rule.correlation_only) {
                alerts.push(HostAlert {
                    rule_id: rule.id.clone(),
                    rule_title: rule.title.clone(),
                    level: rule.level.clone(),
                    tags: rule.tags.clone(),
                    time: record.field("@timestamp").map(str::to_string),
                    host: record.field("host").map(str::to_string),
                    source: record.source.clone(),
                    record: record.fields.clone(),
                });
            }
            correlation::hits_for(set, index, &value, &mut self.hits);
        }
        alerts
    }

    /// Correlation alerts over the hits so far.
    pub fn correlations(&self, set: &RuleSet) -> Vec<CorrelationAlert> {
        correlation::correlate(set, self.hits.clone())
    }
}

/// Correlation hits are kept this long (on the agent across runs, on the server across
/// batches), so a brute force spread over several runs or batches is still seen.
pub const CORRELATION_MEMORY_MS: i64 = 3_600_000;

/// Where the detections on host logs run: the host policy's `logs.detect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectAt {
    /// On the agent (the default): only alerts cross the network.
    #[default]
    Agent,
    /// On the server: the agent ships every record and evaluates none.
    Server,
    /// Both: the agent evaluates and ships every record; the server evaluates them again
    /// (with its own rules too), and the store keeps one alert per rule and record.
    Both,
}

impl DetectAt {
    /// The setting's value (absent: [`DetectAt::Agent`]), or why it is not one.
    pub fn parse(value: Option<&serde_json::Value>) -> Result<DetectAt, String> {
        match value {
            None => Ok(DetectAt::Agent),
            Some(serde_json::Value::String(text)) if text == "agent" => Ok(DetectAt::Agent),
            Some(serde_json::Value::String(text)) if text == "server" => Ok(DetectAt::Server),
            Some(serde_json::Value::String(text)) if text == "both" => Ok(DetectAt::Both),
            Some(other) => Err(format!("`detect: {other}` must be `agent`, `server` or `both`")),
        }
    }

    /// Whether the agent evaluates the rules.
    pub fn on_agent(self) -> bool {
        matches!(self, DetectAt::Agent | DetectAt::Both)
    }

    /// Whether the agent ships every record (the server's detections need them).
    pub fn ships_records(self) -> bool {
        matches!(self, DetectAt::Server | DetectAt::Both)
    }
}

/// A stable id: the same record matched by the same rule gives the same id (on the agent and
/// on the server), and a record's own `record` event is `alert_id("record", record)`.
pub fn alert_id(rule_id: &str, record: &LogRecord) -> String {
    let mut hasher = sha2::Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(record.to_json().to_string().as_bytes());
    format!("{rule_id}:{}", hex::encode(&hasher.finalize()[..16]))
}

/// One rule's match on one record as the `logs`/`alert` event: its id and payload (the alert,
/// the raw line, the services).
pub fn alert_event(alert: &HostAlert, record: &LogRecord) -> (String, serde_json::Value) {
    let mut payload = serde_json::to_value(alert).unwrap_or_default();
    payload["raw"] = json!(record.field("message").unwrap_or_default());
    payload["services"] = json!(record.services);
    (alert_id(&alert.rule_id, record), payload)
}

/// A correlation alert as the `logs`/`alert` event: its id (the correlation, its group and the
/// time of its first event) and payload (`correlation: true`, the group, the count).
pub fn correlation_event(set: &RuleSet, alert: &CorrelationAlert) -> Option<(String, serde_json::Value)> {
    let correlation = set.correlations.get(alert.correlation)?;
    let group: serde_json::Map<String, serde_json::Value> =
        alert.group.iter().map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone()))).collect();
    let id =
        format!("{}:{}:{}", correlation.id, alert.group.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(","), alert.first_time_ms);
    let time = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    Some((
        id,
        json!({
            "rule_id": correlation.id, "rule_title": correlation.title, "level": correlation.level, "tags": correlation.tags,
            "time": time(alert.first_time_ms), "group": group, "count": alert.count, "correlation": true,
            "last_time": time(alert.last_time_ms),
            "source": "correlation",
            "raw": format!("{} events of `{}` grouped by {:?}", alert.count, correlation.title, alert.group),
        }),
    ))
}

/// Host rules that do not load (`vigil serve --host-rules`): a broken rule is an error, not a
/// rule silently missing.
#[derive(Debug, thiserror::Error)]
pub enum HostRulesError {
    #[error(transparent)]
    Path(#[from] vigil_trail::sigma::files::RulePathError),
    #[error("{}", describe_rejections(.0))]
    Invalid(Vec<Rejected>),
}

fn describe_rejections(rejected: &[Rejected]) -> String {
    let lines: Vec<String> = rejected
        .iter()
        .map(|rejection| {
            let rule = match (&rejection.title, &rejection.id) {
                (Some(title), Some(id)) => format!("rule `{title}` ({id})"),
                (Some(title), None) => format!("rule `{title}`"),
                (None, Some(id)) => format!("rule {id}"),
                (None, None) => "a rule".to_string(),
            };
            format!("`{}`: {rule}: {}", rejection.origin, rejection.reason)
        })
        .collect();
    format!("{} host detection rules do not load:\n  {}", rejected.len(), lines.join("\n  "))
}

/// A correlation hit as the server keeps it between batches: by correlation id (rule indices
/// belong to one loaded rule set), with its group, its place in the correlation's rule list,
/// its time, and its value (`value_count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptHit {
    pub correlation_id: String,
    pub group: Vec<String>,
    pub position: usize,
    pub time_ms: i64,
    pub value: Option<String>,
}

/// What one shipped record raised: `alert` events (id, payload), and the hits it adds to
/// correlations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub alerts: Vec<(String, serde_json::Value)>,
    pub hits: Vec<KeptHit>,
}

/// The detections the server runs over shipped records: the built-in rules plus the files
/// given, compiled once. Rules for another log source (a Windows rule, a Linux rule needing
/// process events) and rules using a Sigma construct the engine does not run (a keyword list
/// with a modifier) are skipped and listed in `skipped`; an invalid rule (an unknown modifier,
/// bad YAML, no condition) is an error.
pub struct RecordEvaluator {
    pub set: RuleSet,
    pub skipped: Vec<Rejected>,
}

impl std::fmt::Debug for RecordEvaluator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("RecordEvaluator").field("rules", &self.set.rules.len()).field("correlations", &self.set.correlations.len()).finish()
    }
}

impl RecordEvaluator {
    /// The built-in rules and the rules under `paths` (files or directories).
    pub fn load(paths: &[&Path]) -> Result<RecordEvaluator, HostRulesError> {
        let (set, rejected) = load(paths, true)?;
        let (invalid, skipped): (Vec<Rejected>, Vec<Rejected>) = rejected.into_iter().partition(|rejection| rejection.kind == RejectionKind::Invalid);
        if !invalid.is_empty() {
            return Err(HostRulesError::Invalid(invalid));
        }
        Ok(RecordEvaluator { set, skipped })
    }

    /// The alerts and correlation hits of one `record` event's payload; an error when the
    /// payload is not a record (the event is still stored).
    pub fn evaluate(&self, payload: &serde_json::Value) -> Result<Evaluation, String> {
        let record = LogRecord::from_json(payload)?;
        let mut detector = Detector::default();
        let alerts = detector.check(&self.set, &record).iter().map(|alert| alert_event(alert, &record)).collect();
        let hits = detector
            .hits
            .into_iter()
            .filter_map(|hit| {
                let correlation = self.set.correlations.get(hit.correlation)?;
                Some(KeptHit { correlation_id: correlation.id.clone(), group: hit.group, position: hit.position, time_ms: hit.time_ms, value: hit.value })
            })
            .collect();
        Ok(Evaluation { alerts, hits })
    }

    /// The correlation alerts (`alert` events) over `hits` of one correlation (those kept
    /// from earlier batches and the new ones); none when the correlation is not loaded.
    pub fn correlate(&self, correlation_id: &str, hits: &[KeptHit]) -> Vec<(String, serde_json::Value)> {
        let Some(index) = self.set.correlations.iter().position(|correlation| correlation.id == correlation_id) else { return Vec::new() };
        let hits: Vec<CorrelationHit> = hits
            .iter()
            .filter(|hit| hit.correlation_id == correlation_id)
            .map(|hit| CorrelationHit {
                correlation: index,
                position: hit.position,
                time_ms: hit.time_ms,
                group: hit.group.clone(),
                value: hit.value.clone(),
                event_id: None,
            })
            .collect();
        correlation::correlate(&self.set, hits).iter().filter_map(|alert| correlation_event(&self.set, alert)).collect()
    }
}

#[cfg(test)]
mod tests;
