//! Mutelists in Prowler's YAML format: findings they name get status MUTED and keep the reason.
//!
//! ```yaml
//! Mutelist:                      # `Allowlist` (Prowler 3) is accepted too
//!   Accounts:
//!     "123456789012":            # an account id, or "*" for every account
//!       Checks:
//!         "iam_user_console_mfa":          # a vigil id, a Prowler id, a regex, or "*"
//!           Regions: ["us-east-1"]         # regexes (searched, not anchored); "*" is every region
//!           Resources: ["break-glass"]     # matched against the resource id and its ARN
//!           Tags: ["env=dev", "team=a|team=b"]   # every entry must match `key=value | key=value`
//!           Exceptions: { Accounts: [], Regions: [], Resources: [], Tags: [] }
//!           Description: "break-glass user, MFA kept in the safe"
//! ```
//!
//! Matching follows Prowler's `mutelist.py`: an entry starting with `*` has the `*` read as
//! `.*`; every other entry is a regular expression searched anywhere in the value. Tags
//! default to "any". A finding is excepted when every exception field that is not empty
//! matches it. Prowler check ids map to vigil ids through [`crate::prowler_ids`]; a check key
//! starting with `lambda` is also tried as `awslambda`, as Prowler does.

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::finding::{Finding, Status};

/// A mutelist that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MutelistError {
    #[error("`{source_name}`{}: {message}", location.map(|(line, column)| format!(" line {line}, column {column}")).unwrap_or_default())]
    Yaml { source_name: String, location: Option<(usize, usize)>, message: String },
    #[error("`{source_name}`: {entry} is not a valid regular expression: {message}")]
    Pattern { source_name: String, entry: String, message: String },
}

/// A loaded mutelist, its patterns compiled.
#[derive(Debug, Default)]
pub struct Mutelist {
    accounts: BTreeMap<String, Vec<CheckRule>>,
}

#[derive(Debug)]
struct CheckRule {
    key: String,
    check: Option<Regex>,
    regions: Vec<Regex>,
    resources: Vec<Regex>,
    /// `None`: any tags.
    tags: Option<Vec<Regex>>,
    exceptions: Option<Exceptions>,
    description: Option<String>,
}

#[derive(Debug)]
struct Exceptions {
    accounts: Vec<Regex>,
    regions: Vec<Regex>,
    resources: Vec<Regex>,
    tags: Vec<Regex>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(rename = "Mutelist", alias = "Allowlist", alias = "mutelist")]
    mutelist: RawMutelist,
}

#[derive(Deserialize)]
struct RawMutelist {
    #[serde(rename = "Accounts", default)]
    accounts: BTreeMap<Text, RawAccount>,
}

#[derive(Deserialize)]
struct RawAccount {
    #[serde(rename = "Checks", default)]
    checks: BTreeMap<Text, RawCheck>,
}

#[derive(Deserialize, Default)]
struct RawCheck {
    #[serde(rename = "Regions", default)]
    regions: Vec<Text>,
    #[serde(rename = "Resources", default)]
    resources: Vec<Text>,
    #[serde(rename = "Tags", default)]
    tags: Vec<Text>,
    #[serde(rename = "Exceptions", default)]
    exceptions: Option<RawExceptions>,
    #[serde(rename = "Description", alias = "Reason", default)]
    description: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawExceptions {
    #[serde(rename = "Accounts", default)]
    accounts: Vec<Text>,
    #[serde(rename = "Regions", default)]
    regions: Vec<Text>,
    #[serde(rename = "Resources", default)]
    resources: Vec<Text>,
    #[serde(rename = "Tags", default)]
    tags: Vec<Text>,
}

/// A YAML scalar read as text (account ids are often written unquoted, as numbers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// Prowler's reading of an entry: a leading `*` means `.*`; the rest is a searched regex.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    let pattern = match pattern.strip_prefix('*') {
        Some(rest) => format!(".*{rest}"),
        None => pattern.to_string(),
    };
    Regex::new(&pattern)
}

impl Mutelist {
    /// Parses a mutelist; `source_name` (usually the file path) names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Mutelist, MutelistError> {
        let raw: RawFile = serde_yaml::from_str(text).map_err(|error| MutelistError::Yaml {
            source_name: source_name.to_string(),
            location: error.location().map(|location| (location.line(), location.column())),
            message: error.to_string(),
        })?;
        let mut mutelist = Mutelist::default();
        for (Text(account), raw_account) in raw.mutelist.accounts {
            let mut rules = Vec::new();
            for (Text(check), raw_check) in raw_account.checks {
                let compile_all = |field: &'static str, entries: &[Text]| -> Result<Vec<Regex>, MutelistError> {
                    entries
                        .iter()
                        .map(|Text(pattern)| {
                            compile(pattern).map_err(|error| MutelistError::Pattern {
                                source_name: source_name.to_string(),
                                entry: format!("account `{account}`, check `{check}`: {field} entry `{pattern}`"),
                                message: error.to_string(),
                            })
                        })
                        .collect()
                };
                let check_pattern = if check == "*" { None } else { Some(compile_all("check", &[Text(check.clone())])?.remove(0)) };
                let exceptions = match &raw_check.exceptions {
                    None => None,
                    Some(raw) => Some(Exceptions {
                        accounts: compile_all("Exceptions.Accounts", &raw.accounts)?,
                        regions: compile_all("Exceptions.Regions", &raw.regions)?,
                        resources: compile_all("Exceptions.Resources", &raw.resources)?,
                        tags: compile_all("Exceptions.Tags", &raw.tags)?,
                    }),
                };
                rules.push(CheckRule {
                    key: check.clone(),
                    check: check_pattern,
                    regions: compile_all("Regions", &raw_check.regions)?,
                    resources: compile_all("Resources", &raw_check.resources)?,
                    tags: if raw_check.tags.is_empty() { None } else { Some(compile_all("Tags", &raw_check.tags)?) },
                    exceptions,
                    description: raw_check.description.clone(),
                });
            }
            mutelist.accounts.insert(account, rules);
        }
        Ok(mutelist)
    }

    /// Why the finding is muted, or `None` when no entry names it.
    pub fn mute_reason(&self, finding: &Finding) -> Option<String> {
        let tags = finding.resource_tags.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(" | ");
        let candidates: Vec<&str> =
            std::iter::once(finding.check_id.as_str()).chain(crate::prowler_ids::prowler_ids(&finding.check_id).iter().copied()).collect();
        for account in [finding.account_id.as_str(), "*"] {
            let Some(rules) = self.accounts.get(account) else { continue };
            for rule in rules {
                if rule.matches(finding, &candidates, &tags) {
                    let reason = match &rule.description {
                        Some(description) if !description.trim().is_empty() => description.trim().to_string(),
                        _ => format!("muted by mutelist (account `{account}`, check `{}`)", rule.key),
                    };
                    return Some(reason);
                }
            }
        }
        None
    }

    /// Sets status MUTED (with the reason) on every finding the mutelist names; returns how many.
    pub fn apply(&self, findings: &mut [Finding]) -> usize {
        let mut muted = 0;
        for finding in findings.iter_mut() {
            if let Some(reason) = self.mute_reason(finding) {
                finding.status = Status::Muted;
                finding.mute_reason = Some(reason.into());
                muted += 1;
            }
        }
        muted
    }
}

fn any_match(patterns: &[Regex], value: &str) -> bool {
    patterns.iter().any(|pattern| pattern.is_match(value))
}

/// Prowler's tag rule: every entry has to match the `key=value | key=value` string.
fn all_match(patterns: &[Regex], value: &str) -> bool {
    !patterns.is_empty() && patterns.iter().all(|pattern| pattern.is_match(value))
}

impl CheckRule {
    fn matches(&self, finding: &Finding, candidates: &[&str], tags: &str) -> bool {
        let check_matches = match &self.check {
            None => true,
            Some(pattern) => candidates.iter().any(|candidate| {
                *candidate == self.key
                    || pattern.is_match(candidate)
                    || self.key.strip_prefix("lambda").is_some_and(|rest| *candidate == format!("awslambda{rest}"))
            }),
        };
        if !check_matches {
            return false;
        }
        let resource_matches = any_match(&self.resources, &finding.resource_id) || any_match(&self.resources, &finding.resource_arn);
        let tags_match = self.tags.as_ref().is_none_or(|patterns| all_match(patterns, tags));
        if !(any_match(&self.regions, &finding.region) && resource_matches && tags_match) {
            return false;
        }
        !self.exceptions.as_ref().is_some_and(|exceptions| exceptions.except(finding, tags))
    }
}

impl Exceptions {
    fn except(&self, finding: &Finding, tags: &str) -> bool {
        let fields = [
            (&self.accounts, any_match(&self.accounts, &finding.account_id)),
            (&self.regions, any_match(&self.regions, &finding.region)),
            (&self.resources, any_match(&self.resources, &finding.resource_id) || any_match(&self.resources, &finding.resource_arn)),
            (&self.tags, all_match(&self.tags, tags)),
        ];
        let any_listed = fields.iter().any(|(patterns, _)| !patterns.is_empty());
        any_listed && fields.iter().all(|(patterns, matched)| patterns.is_empty() || *matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn finding(check_id: &str, account: &str, region: &str, resource_id: &str, tags: &[(&str, &str)]) -> Finding {
        Finding {
            check_id: check_id.into(),
            check_title: Default::default(),
            service: Default::default(),
            severity: Severity::High,
            status: Status::Fail,
            account_id: account.into(),
            region: region.into(),
            resource_arn: format!("arn:aws:svc:{region}:{account}:thing/{resource_id}").into(),
            resource_type: Default::default(),
            resource_id: resource_id.into(),
            resource_tags: tags.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
            message: Default::default(),
            evidence: Default::default(),
            mute_reason: None,
        }
    }

    const PROWLER_FILE: &str = r#"
Mutelist:
  Accounts:
    "111111111111":
      Checks:
        "iam_user_mfa_enabled_console_access":
          Regions: ["*"]
          Resources: ["break-glass"]
          Description: "break-glass user, MFA kept in the safe"
        "ec2_*":
          Regions: ["eu-west-1"]
          Resources: ["*"]
          Exceptions:
            Resources: ["sg-keep"]
        "s3_bucket_not_public":
          Regions: ["*"]
          Resources: ["*"]
          Tags: ["public=true", "team=web|team=cdn"]
    "*":
      Checks:
        "*":
          Regions: ["*"]
          Resources: ["^sandbox-"]
          Exceptions:
            Accounts: ["222222222222"]
            Regions: ["us-east-1"]
        "kms_key_rotation_enabled":
          Regions: ["us-.*"]
          Resources: ["*"]
          Tags: ["env=dev"]
          Exceptions:
            Tags: ["keep=yes"]
"#;

    fn check(finding: Finding, expected: Option<&str>) {
        let mutelist = Mutelist::parse(PROWLER_FILE, "mutelist.yaml").unwrap();
        let label = format!("{} {} {} {} {:?}", finding.check_id, finding.account_id, finding.region, finding.resource_id, finding.resource_tags);
        assert_eq!(mutelist.mute_reason(&finding).as_deref(), expected, "{label}");
    }

    #[test]
    fn a_prowler_mutelist_mutes_exactly_the_findings_it_names() {
        let muted_by = |check: &str, account: &str| format!("muted by mutelist (account `{account}`, check `{check}`)");
        let ec2 = muted_by("ec2_*", "111111111111");
        let bucket = muted_by("s3_bucket_not_public", "111111111111");
        let sandbox = muted_by("*", "*");
        let kms = muted_by("kms_key_rotation_enabled", "*");
        let cases: Vec<(Finding, Option<&str>)> = vec![
            // A Prowler check id, mapped to the vigil check, keeps its description as the reason.
            (finding("iam_user_console_mfa", "111111111111", "global", "break-glass", &[]), Some("break-glass user, MFA kept in the safe")),
            (finding("iam_user_console_mfa", "111111111111", "global", "alice", &[]), None),
            (finding("iam_user_console_mfa", "333333333333", "global", "break-glass", &[]), None),
            // A regex over check ids, limited to a region, with a resource exception.
            (finding("ec2_default_security_group_restricts_all", "111111111111", "eu-west-1", "sg-1", &[]), Some(ec2.as_str())),
            (finding("ec2_default_security_group_restricts_all", "111111111111", "us-east-1", "sg-1", &[]), None),
            (finding("ec2_default_security_group_restricts_all", "111111111111", "eu-west-1", "sg-keep", &[]), None),
            // Tags: every entry must match; an entry may be an alternation.
            (finding("s3_bucket_not_public", "111111111111", "global", "site", &[("public", "true"), ("team", "cdn")]), Some(bucket.as_str())),
            (finding("s3_bucket_not_public", "111111111111", "global", "site", &[("public", "true"), ("team", "data")]), None),
            (finding("s3_bucket_not_public", "111111111111", "global", "site", &[("team", "web")]), None),
            // The "*" account and "*" check; exceptions need every listed field to match.
            (finding("sqs_queue_https_only", "444444444444", "eu-west-1", "sandbox-queue", &[]), Some(sandbox.as_str())),
            (finding("sqs_queue_https_only", "444444444444", "eu-west-1", "prod-sandbox-queue", &[]), None),
            (finding("sqs_queue_https_only", "222222222222", "eu-west-1", "sandbox-queue", &[]), Some(sandbox.as_str())),
            (finding("sqs_queue_https_only", "222222222222", "us-east-1", "sandbox-queue", &[]), None),
            // Tag exceptions.
            (finding("kms_key_rotation_enabled", "555555555555", "us-west-2", "key-1", &[("env", "dev")]), Some(kms.as_str())),
            (finding("kms_key_rotation_enabled", "555555555555", "us-west-2", "key-1", &[("env", "dev"), ("keep", "yes")]), None),
            (finding("kms_key_rotation_enabled", "555555555555", "eu-west-1", "key-1", &[("env", "dev")]), None),
            (finding("kms_key_rotation_enabled", "555555555555", "us-west-2", "key-1", &[("env", "prod")]), None),
        ];
        for (finding, expected) in cases {
            check(finding, expected);
        }
    }

    #[test]
    fn apply_sets_status_muted_and_keeps_the_reason() {
        let mutelist = Mutelist::parse(PROWLER_FILE, "mutelist.yaml").unwrap();
        let mut findings = vec![
            finding("iam_user_console_mfa", "111111111111", "global", "break-glass", &[]),
            finding("iam_user_console_mfa", "111111111111", "global", "alice", &[]),
        ];
        assert_eq!(mutelist.apply(&mut findings), 1);
        assert_eq!(findings[0].status, Status::Muted);
        assert_eq!(findings[0].mute_reason.as_deref(), Some("break-glass user, MFA kept in the safe"));
        assert_eq!(findings[1].status, Status::Fail);
    }

    #[test]
    fn prowler_3_allowlists_and_unquoted_account_ids_load() {
        let text = "Allowlist:\n  Accounts:\n    123456789012:\n      Checks:\n        \"*\":\n          Regions: [\"*\"]\n          Resources: [\"*\"]\n";
        let mutelist = Mutelist::parse(text, "allowlist.yaml").unwrap();
        assert!(mutelist.mute_reason(&finding("any_check", "123456789012", "eu-west-1", "x", &[])).is_some());
    }

    #[test]
    fn bad_files_get_errors_naming_the_file_line_and_pattern() {
        let cases = [
            ("Mutelist:\n  Accounts:\n    \"1\":\n      Checks: [oops\n", "`bad.yaml` line 4"),
            ("Mutelist:\n  Accounts:\n    \"1\":\n      Checks:\n        \"x\":\n          Regions: 7\n", "`bad.yaml` line 6"),
            ("Accounts: {}\n", "`bad.yaml`"),
            (
                "Mutelist:\n  Accounts:\n    \"1\":\n      Checks:\n        \"x\":\n          Regions: [\"(\"]\n",
                "Regions entry `(` is not a valid regular expression",
            ),
        ];
        for (text, expected) in cases {
            let error = Mutelist::parse(text, "bad.yaml").unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
