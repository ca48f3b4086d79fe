//! The cloud-aware policy: rules that scope checks and their parameters by account, region,
//! VPC, tags and resource type (YAML; see docs/posture.md and the bundled `default-policy.yaml`).
//!
//! Precedence for parameters and check scoping: among the rules whose `match` accepts the
//! resource, the most specific one that sets the value wins. Specificity is the number of
//! `match` fields the rule sets (accounts, regions, vpcs, tags, resource_types); a tie goes to
//! the rule written later in the file. The top-level `parameters` / `allowed_regions` apply when
//! no rule sets the value, and the check's own default when the policy says nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;
use vigil_model::Inventory;

use crate::context::Subject;
use crate::finding::{Finding, Severity};

/// The policy that ships inside vigil, used when `--policy` is not given.
pub const DEFAULT_POLICY: &str = include_str!("default-policy.yaml");

/// A policy that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("`{source_name}`{}: {message}", location.map(|(line, column)| format!(" line {line}, column {column}")).unwrap_or_default())]
    Yaml { source_name: String, location: Option<(usize, usize)>, message: String },
    #[error("`{source_name}`: rule `{rule}`: {message}")]
    Rule { source_name: String, rule: String, message: String },
}

/// A parameter value: a number or a list of strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(i64),
    Strings(Vec<String>),
    String(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, Value>,
    #[serde(default)]
    allowed_regions: Option<Vec<String>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    /// Free text for readers of the file.
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default, rename = "match")]
    matcher: RawMatch,
    #[serde(default)]
    parameters: BTreeMap<String, Value>,
    #[serde(default)]
    allowed_regions: Option<Vec<String>>,
    /// Checks that apply to the matched resources (overriding a broader `disable`).
    #[serde(default)]
    require: Vec<String>,
    /// Checks that do not apply to the matched resources: their findings are dropped.
    #[serde(default)]
    disable: Vec<String>,
    /// Raises (or sets) the severity of the required checks' findings on matched resources.
    #[serde(default)]
    severity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    vpcs: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    resource_types: Vec<String>,
}

/// A glob: `*` matches any run of characters; everything else is literal.
#[derive(Debug)]
struct Glob(Regex);

impl Glob {
    fn new(pattern: &str) -> Result<Glob, regex::Error> {
        let escaped: Vec<String> = pattern.split('*').map(regex::escape).collect();
        Regex::new(&format!("^{}$", escaped.join(".*"))).map(Glob)
    }

    fn matches(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

fn any(globs: &[Glob], text: &str) -> bool {
    globs.iter().any(|glob| glob.matches(text))
}

#[derive(Debug)]
struct Rule {
    name: String,
    order: usize,
    accounts: Vec<Glob>,
    regions: Vec<Glob>,
    vpcs: Vec<Glob>,
    tags: Vec<(String, Glob)>,
    resource_types: Vec<Glob>,
    parameters: BTreeMap<String, Value>,
    allowed_regions: Option<Vec<String>>,
    require: Vec<Glob>,
    disable: Vec<Glob>,
    severity: Option<Severity>,
}

/// What the policy knows about one resource (the subject of a finding).
pub struct Scope<'s> {
    pub account: &'s str,
    pub subject_region: &'s str,
    pub resource_type: &'s str,
    pub arn: &'s str,
    pub tags: &'s BTreeMap<String, String>,
}

impl Rule {
    fn specificity(&self) -> (usize, usize) {
        let fields = [!self.accounts.is_empty(), !self.regions.is_empty(), !self.vpcs.is_empty(), !self.tags.is_empty(), !self.resource_types.is_empty()];
        (fields.iter().filter(|set| **set).count(), self.order)
    }

    fn matches(&self, scope: &Scope<'_>, vpc: impl FnOnce() -> Option<String>) -> bool {
        (self.accounts.is_empty() || any(&self.accounts, scope.account))
            && (self.regions.is_empty() || any(&self.regions, scope.subject_region))
            && (self.resource_types.is_empty() || any(&self.resource_types, scope.resource_type))
            && self.tags.iter().all(|(key, value)| scope.tags.get(key).is_some_and(|actual| value.matches(actual)))
            && (self.vpcs.is_empty() || vpc().is_some_and(|vpc| any(&self.vpcs, &vpc)))
    }
}

/// A loaded policy.
#[derive(Debug, Default)]
pub struct Policy {
    pub description: Option<String>,
    parameters: BTreeMap<String, Value>,
    allowed_regions: Option<Vec<String>>,
    rules: Vec<Rule>,
    /// ARN -> VPC id, built on first use (only when a rule matches on VPCs).
    vpc_index: OnceLock<HashMap<String, String>>,
}

impl Policy {
    /// Parses a policy; `source_name` (usually the file path) names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = serde_yaml::from_str(text).map_err(|error| PolicyError::Yaml {
            source_name: source_name.to_string(),
            location: error.location().map(|location| (location.line(), location.column())),
            message: error.to_string(),
        })?;
        let mut rules = Vec::new();
        for (order, raw_rule) in raw.rules.into_iter().enumerate() {
            let rule_error = |message: String| PolicyError::Rule { source_name: source_name.to_string(), rule: raw_rule.name.clone(), message };
            let globs = |patterns: &[String]| -> Result<Vec<Glob>, PolicyError> {
                patterns.iter().map(|pattern| Glob::new(pattern).map_err(|error| rule_error(format!("bad pattern `{pattern}`: {error}")))).collect()
            };
            let severity = match &raw_rule.severity {
                None => None,
                Some(text) => Some(Severity::parse(text).ok_or_else(|| rule_error(format!("`{text}` is not a severity")))?),
            };
            let mut tags = Vec::new();
            for (key, value) in &raw_rule.matcher.tags {
                tags.push((key.clone(), Glob::new(value).map_err(|error| rule_error(format!("bad tag pattern `{value}`: {error}")))?));
            }
            rules.push(Rule {
                name: raw_rule.name.clone(),
                order,
                accounts: globs(&raw_rule.matcher.accounts)?,
                regions: globs(&raw_rule.matcher.regions)?,
                vpcs: globs(&raw_rule.matcher.vpcs)?,
                tags,
                resource_types: globs(&raw_rule.matcher.resource_types)?,
                parameters: raw_rule.parameters.clone(),
                allowed_regions: raw_rule.allowed_regions.clone(),
                require: globs(&raw_rule.require)?,
                disable: globs(&raw_rule.disable)?,
                severity,
            });
        }
        Ok(Policy { description: raw.description, parameters: raw.parameters, allowed_regions: raw.allowed_regions, rules, vpc_index: OnceLock::new() })
    }

    /// The bundled default policy.
    pub fn bundled() -> Policy {
        Policy::parse(DEFAULT_POLICY, "default-policy.yaml").unwrap_or_default()
    }

    fn vpc_of(&self, inventory: &Inventory, arn: &str) -> Option<String> {
        let index = self.vpc_index.get_or_init(|| {
            inventory
                .resources()
                .iter()
                .filter_map(|resource| {
                    let vpc = match resource.data {
                        vigil_model::resource::ResourceData::Vpc(vpc) => Some(vpc.vpc_id.clone()),
                        data => data.to_json().get("VpcId").and_then(|value| value.as_str()).map(str::to_string),
                    };
                    vpc.map(|vpc| (resource.arn.clone(), vpc))
                })
                .collect()
        });
        index.get(arn).cloned()
    }

    /// The matching rules, most specific first.
    fn matching<'p>(&'p self, inventory: &Inventory, scope: &Scope<'_>) -> Vec<&'p Rule> {
        let mut rules: Vec<&Rule> = self.rules.iter().filter(|rule| rule.matches(scope, || self.vpc_of(inventory, scope.arn))).collect();
        rules.sort_by_key(|rule| std::cmp::Reverse(rule.specificity()));
        rules
    }

    /// A parameter for a resource: the most specific matching rule's value, else the policy's
    /// top-level value, else `None`.
    pub fn parameter(&self, inventory: &Inventory, scope: &Scope<'_>, name: &str) -> Option<&Value> {
        let mut candidates = self.rules.iter().filter(|rule| rule.parameters.contains_key(name)).peekable();
        // Most parameters are set by no rule: skip the matching work then.
        if candidates.peek().is_none() {
            return self.parameters.get(name);
        }
        let mut matching: Vec<&Rule> = candidates.filter(|rule| rule.matches(scope, || self.vpc_of(inventory, scope.arn))).collect();
        matching.sort_by_key(|rule| std::cmp::Reverse(rule.specificity()));
        matching.first().and_then(|rule| rule.parameters.get(name)).or_else(|| self.parameters.get(name))
    }

    /// The regions where data may live for this resource (`None`: not restricted).
    pub fn allowed_regions(&self, inventory: &Inventory, scope: &Scope<'_>) -> Option<&[String]> {
        self.matching(inventory, scope).into_iter().find_map(|rule| rule.allowed_regions.as_deref()).or(self.allowed_regions.as_deref())
    }

    /// True when the policy restricts regions anywhere (so the sovereignty check has work).
    pub fn restricts_regions(&self) -> bool {
        self.allowed_regions.is_some() || self.rules.iter().any(|rule| rule.allowed_regions.is_some())
    }

    /// Applies `require`/`disable`/`severity` to findings: findings of checks a rule disables
    /// for their resource are dropped; required checks' findings get the rule's severity.
    /// Returns how many findings were dropped.
    pub fn scope_findings(&self, inventory: &Inventory, findings: &mut Vec<Finding>) -> usize {
        if self.rules.iter().all(|rule| rule.require.is_empty() && rule.disable.is_empty()) {
            return 0;
        }
        let before = findings.len();
        findings.retain_mut(|finding| {
            let scope = Scope {
                account: &finding.account_id,
                subject_region: &finding.region,
                resource_type: &finding.resource_type,
                arn: &finding.resource_arn,
                tags: &finding.resource_tags,
            };
            let deciding =
                self.matching(inventory, &scope).into_iter().find(|rule| any(&rule.require, &finding.check_id) || any(&rule.disable, &finding.check_id));
            match deciding {
                Some(rule) if any(&rule.require, &finding.check_id) => {
                    if let Some(severity) = rule.severity {
                        finding.severity = severity;
                    }
                    true
                }
                Some(_) => false,
                None => true,
            }
        });
        before - findings.len()
    }

    /// Rule names, for `vigil scan -v` and tests.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|rule| rule.name.as_str()).collect()
    }
}

impl<'s> Scope<'s> {
    pub fn of(account: &'s str, subject: &'s Subject) -> Scope<'s> {
        Scope { account, subject_region: &subject.region, resource_type: &subject.resource_type, arn: &subject.arn, tags: &subject.tags }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
description: test policy
parameters:
  max_access_key_age_days: 90
rules:
  - name: prod
    match: { tags: { env: prod } }
    parameters: { max_access_key_age_days: 30, admin_allowed_cidrs: ["10.0.0.0/8"] }
    require: [rds_instance_multi_az, "*_encrypted*"]
    severity: critical
  - name: prod-in-one-account
    match: { tags: { env: prod }, accounts: ["111111111111"] }
    parameters: { max_access_key_age_days: 7 }
  - name: sandbox
    match: { accounts: ["2222*"] }
    disable: ["*"]
    allowed_regions: [us-east-1]
  - name: eu-data
    match: { resource_types: ["AWS::S3::Bucket", "AWS::RDS::*"] }
    allowed_regions: [ap-southeast-2, eu-west-1]
"#;

    fn subject(region: &str, resource_type: &str, tags: &[(&str, &str)]) -> Subject {
        Subject {
            arn: format!("arn:aws:x:{region}:1:thing").into(),
            resource_type: resource_type.into(),
            id: "thing".into(),
            region: region.into(),
            tags: tags.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
        }
    }

    fn inventory() -> Inventory {
        crate::catalog::test_support::inventory()
    }

    #[test]
    fn the_most_specific_matching_rule_sets_the_parameter() {
        let policy = Policy::parse(POLICY, "policy.yaml").unwrap();
        let inventory = inventory();
        let cases: Vec<(&str, Subject, Option<Value>)> = vec![
            ("333333333333", subject("eu-west-1", "AWS::IAM::User", &[]), Some(Value::Number(90))),
            ("333333333333", subject("eu-west-1", "AWS::IAM::User", &[("env", "prod")]), Some(Value::Number(30))),
            ("111111111111", subject("eu-west-1", "AWS::IAM::User", &[("env", "prod")]), Some(Value::Number(7))),
            ("111111111111", subject("eu-west-1", "AWS::IAM::User", &[("env", "dev")]), Some(Value::Number(90))),
        ];
        for (account, subject, expected) in cases {
            assert_eq!(
                policy.parameter(&inventory, &Scope::of(account, &subject), "max_access_key_age_days").cloned(),
                expected,
                "{account} {:?}",
                subject.tags
            );
        }
        let prod = subject("eu-west-1", "AWS::EC2::SecurityGroup", &[("env", "prod")]);
        assert_eq!(policy.parameter(&inventory, &Scope::of("1", &prod), "admin_allowed_cidrs"), Some(&Value::Strings(vec!["10.0.0.0/8".into()])));
        let dev = subject("eu-west-1", "AWS::EC2::SecurityGroup", &[]);
        assert_eq!(policy.parameter(&inventory, &Scope::of("1", &dev), "admin_allowed_cidrs"), None);
    }

    #[test]
    fn allowed_regions_come_from_the_most_specific_rule() {
        let policy = Policy::parse(POLICY, "policy.yaml").unwrap();
        let inventory = inventory();
        let bucket = subject("us-east-1", "AWS::S3::Bucket", &[]);
        assert_eq!(policy.allowed_regions(&inventory, &Scope::of("1", &bucket)), Some(&["ap-southeast-2".to_string(), "eu-west-1".to_string()][..]));
        let database = subject("us-east-1", "AWS::RDS::DBInstance", &[]);
        assert!(policy.allowed_regions(&inventory, &Scope::of("1", &database)).is_some());
        let queue = subject("us-east-1", "AWS::SQS::Queue", &[]);
        assert_eq!(policy.allowed_regions(&inventory, &Scope::of("1", &queue)), None);
        // Same specificity (one field each): the later rule wins.
        assert_eq!(policy.allowed_regions(&inventory, &Scope::of("222222222222", &bucket)).map(|regions| regions.len()), Some(2));
    }

    #[test]
    fn disable_drops_findings_and_require_overrides_and_raises_severity() {
        let policy = Policy::parse(POLICY, "policy.yaml").unwrap();
        let inventory = inventory();
        let finding = |check: &str, account: &str, tags: &[(&str, &str)]| {
            let subject = subject("us-east-1", "AWS::RDS::DBInstance", tags);
            let context = crate::Context::new(&inventory, chrono::Utc::now());
            let mut finding = context.finding(
                crate::find("iam_password_policy_minimum_length_14").unwrap().metadata(),
                &subject,
                crate::Status::Fail,
                String::new(),
                serde_json::Value::Null,
            );
            finding.check_id = check.into();
            finding.account_id = account.into();
            finding
        };
        let mut findings = vec![
            finding("rds_instance_multi_az", "222222222222", &[]),
            finding("rds_instance_multi_az", "222222222222", &[("env", "prod")]),
            finding("rds_instance_storage_encrypted", "333333333333", &[("env", "prod")]),
            finding("rds_instance_multi_az", "333333333333", &[]),
        ];
        // The sandbox rule and the prod rule are equally specific: the later one (sandbox) wins.
        assert_eq!(policy.scope_findings(&inventory, &mut findings), 2);
        let kept: Vec<(&str, &str, Severity)> =
            findings.iter().map(|finding| (finding.check_id.as_str(), finding.account_id.as_str(), finding.severity)).collect();
        assert_eq!(
            kept,
            vec![("rds_instance_storage_encrypted", "333333333333", Severity::Critical), ("rds_instance_multi_az", "333333333333", Severity::Medium)]
        );
    }

    #[test]
    fn the_bundled_policy_parses_and_bad_policies_name_the_file_and_line() {
        assert!(Policy::parse(DEFAULT_POLICY, "default-policy.yaml").is_ok());
        let cases = [
            ("rules:\n  - name: x\n    match: { colour: red }\n", "`p.yaml` line 3"),
            ("parameters: [1\n", "`p.yaml` line"),
            ("rules:\n  - name: x\n    severity: huge\n", "rule `x`: `huge` is not a severity"),
        ];
        for (text, expected) in cases {
            let error = Policy::parse(text, "p.yaml").unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
