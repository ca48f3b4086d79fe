//! Detections on host logs with vigil's one Sigma engine (`vigil_trail::sigma`, compiled for
//! the Linux target): the built-in rules (`crates/host/rules/*.yml`, vigil's own) and any
//! SigmaHQ Linux rules given, run over [`LogRecord`]s, with correlations (brute force,
//! success after failures) over the matches.

use std::path::Path;

use vigil_trail::sigma::correlation::{self, CorrelationHit};
use vigil_trail::sigma::{CompileOptions, CorrelationAlert, Loaded, Rejected, RuleSet, Target, load_text};

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

#[cfg(test)]
mod tests;
