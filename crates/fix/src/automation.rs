//! Automatic fixes in `vigil watch` (opt-in): a policy file names the checks to fix when they
//! fail, how many fixes an hour at most, which accounts and which tagged resources may be
//! changed, and a kill switch. This module parses the policy and decides; the watch loop
//! counts past fixes in the store and applies.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Fix;

/// An automation policy (YAML):
///
/// ```yaml
/// auto_fix:
///   checks: [s3_bucket_public_access_block_enabled, ec2_ebs_snapshot_not_public]
///   max_fixes_per_hour: 5
///   accounts: ["123456789012"]        # only these accounts (required, at least one)
///   tags: { vigil-autofix: "true" }   # only resources carrying every one of these tags
///   kill_switch: /etc/vigil/stop-fixing  # while this file exists, nothing is fixed
///   role_arn: arn:aws:iam::123456789012:role/vigil-fix  # optional: make changes as this role
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationPolicy {
    pub checks: Vec<String>,
    pub max_fixes_per_hour: u32,
    pub accounts: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub kill_switch: Option<String>,
    /// The role changes are made as (default: the credentials of `vigil watch`).
    pub role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    auto_fix: Section,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    checks: Vec<String>,
    #[serde(default = "default_rate")]
    max_fixes_per_hour: u32,
    accounts: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    kill_switch: Option<String>,
    #[serde(default)]
    role_arn: Option<String>,
}

fn default_rate() -> u32 {
    5
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AutomationError {
    #[error("automation policy `{file}`: {reason}")]
    Invalid { file: String, reason: String },
}

impl AutomationPolicy {
    /// Parses a policy; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<AutomationPolicy, AutomationError> {
        let invalid = |reason: String| AutomationError::Invalid { file: file.to_string(), reason };
        let parsed: File = serde_yaml::from_str(text).map_err(|error| invalid(error.to_string()))?;
        let section = parsed.auto_fix;
        if section.checks.is_empty() {
            return Err(invalid("`auto_fix.checks` names no check".to_string()));
        }
        for check in &section.checks {
            if crate::fixer_for(check).is_none() {
                return Err(invalid(format!("`{check}` has no fixer (`vigil fix fixers` lists those that do)")));
            }
        }
        if section.accounts.is_empty() {
            return Err(invalid("`auto_fix.accounts` must name the accounts automation may change".to_string()));
        }
        if let Some(account) = section.accounts.iter().find(|account| account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit())) {
            return Err(invalid(format!("`{account}` in `auto_fix.accounts` is not a 12-digit account id")));
        }
        Ok(AutomationPolicy {
            checks: section.checks,
            max_fixes_per_hour: section.max_fixes_per_hour,
            accounts: section.accounts,
            tags: section.tags,
            kill_switch: section.kill_switch,
            role_arn: section.role_arn,
        })
    }

    /// Why a planned fix may not be applied automatically (`None` when it may): the account
    /// must be allowed and the changed resource must carry every required tag.
    pub fn refuses(&self, fix: &Fix, tags: Option<&vigil_model::Tags>) -> Option<String> {
        if !self.checks.contains(&fix.check_id) {
            return Some(format!("check `{}` is not automated", fix.check_id));
        }
        if !self.accounts.contains(&fix.target.account_id) {
            return Some(format!("account {} is not in the automation allowlist", fix.target.account_id));
        }
        for (key, value) in &self.tags {
            if tags.and_then(|tags| tags.get(key)) != Some(value) {
                return Some(format!("`{}` lacks the tag {key}={value} automation requires", fix.target.arn));
            }
        }
        if fix.managed_by.is_some() {
            return Some(format!(
                "`{}` is managed by {}; automation does not change it behind its back",
                fix.target.arn,
                fix.managed_by.as_deref().unwrap_or_default()
            ));
        }
        if !fix.breaks.is_empty() {
            return Some(format!("the fix would break {} working flow(s) or permission(s) in use", fix.breaks.len()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_must_name_fixable_checks_and_accounts() {
        let good = "auto_fix:\n  checks: [ec2_ebs_snapshot_not_public]\n  accounts: ['123456789012']\n  tags: {autofix: 'yes'}\n  kill_switch: /tmp/stop\n";
        let policy = AutomationPolicy::parse(good, "auto.yaml").unwrap();
        assert_eq!(policy.max_fixes_per_hour, 5);
        assert_eq!(policy.kill_switch.as_deref(), Some("/tmp/stop"));
        let no_fixer = "auto_fix:\n  checks: [iam_root_mfa_enabled]\n  accounts: ['123456789012']\n";
        assert!(AutomationPolicy::parse(no_fixer, "auto.yaml").unwrap_err().to_string().contains("`iam_root_mfa_enabled` has no fixer"));
        let no_accounts = "auto_fix:\n  checks: [ec2_ebs_snapshot_not_public]\n  accounts: []\n";
        assert!(AutomationPolicy::parse(no_accounts, "auto.yaml").unwrap_err().to_string().contains("accounts"));
        let typo = "auto_fix:\n  checks: [ec2_ebs_snapshot_not_public]\n  accounts: ['123456789012']\n  max_per_hour: 3\n";
        assert!(AutomationPolicy::parse(typo, "auto.yaml").unwrap_err().to_string().contains("max_per_hour"));
    }
}
