//! The cloud-aware host policy: which host modules run on an instance, with which settings,
//! chosen by rules over the instance's cloud attributes (account, region, VPC, subnet, AMI,
//! instance type, role, security groups, tags, Auto Scaling group). YAML, in the style of the
//! posture policy (`crates/checks/src/policy.rs`, docs/posture.md); the bundled default is
//! `default-host-policy.yaml`; reference in docs/agent.md.
//!
//! Precedence, per module and per setting: among the rules whose `match` accepts the
//! instance, the most specific one that sets the setting wins (specificity is the number of
//! `match` fields the rule sets; a tie goes to the rule written later); then the top-level
//! `modules`; then the module's own default. The result, [`EffectivePolicy`], is deterministic
//! (sorted keys) and carries an ETag (SHA-256 of its JSON), so an agent pulls it only when it
//! changed, and a change of tags or Auto Scaling group changes it without touching the host.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The policy that ships with vigil, used when `vigil serve` is given no `--host-policy`.
pub const DEFAULT_HOST_POLICY: &str = include_str!("default-host-policy.yaml");

/// The settings every module understands (each module adds its own beside them).
pub const COMMON_SETTINGS: &[(&str, &str)] = &[
    ("enabled", "true to run the module (default false)"),
    ("interval_seconds", "seconds between two runs (default 3600)"),
    ("cpu_percent", "at most this share of one core while running, 1-100 (default 5)"),
    ("io_bytes_per_second", "at most this many bytes read per second (default 4194304)"),
];

/// A host policy that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum HostPolicyError {
    #[error("`{source_name}`{}: {message}", location.map(|(line, column)| format!(" line {line}, column {column}")).unwrap_or_default())]
    Yaml { source_name: String, location: Option<(usize, usize)>, message: String },
    #[error("`{source_name}`: {message}")]
    Invalid { source_name: String, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    modules: BTreeMap<String, Map<String, Value>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default, rename = "match")]
    matcher: Match,
    #[serde(default)]
    modules: BTreeMap<String, Map<String, Value>>,
}

/// What a rule matches: every field it sets must accept the instance (globs with `*`; a list
/// field accepts when any pattern matches any of the instance's values).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub vpcs: Vec<String>,
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub amis: Vec<String>,
    #[serde(default)]
    pub instance_types: Vec<String>,
    /// The instance profile's name or ARN, or its role's name.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Security group ids or names.
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub auto_scaling_groups: Vec<String>,
}

/// The instance attributes rules match on (from the store's inventory, never from the host).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceAttributes {
    pub account: String,
    pub region: String,
    pub instance_id: String,
    pub vpc: Option<String>,
    pub subnet: Option<String>,
    pub ami: Option<String>,
    pub instance_type: Option<String>,
    /// Instance profile name and ARN, and the role's name when known.
    pub roles: Vec<String>,
    /// Security group ids and names.
    pub security_groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// From the `aws:autoscaling:groupName` tag AWS puts on the group's instances.
    pub auto_scaling_group: Option<String>,
}

impl InstanceAttributes {
    /// The attributes of an instance as the inventory stores it: DescribeInstances' shape
    /// (`VpcId`, `SubnetId`, `ImageId`, `InstanceType`, `IamInstanceProfile.Arn`,
    /// `SecurityGroups`) and its tags as a JSON object.
    pub fn from_inventory(account: &str, region: &str, instance_id: &str, config: &Value, tags: &Value) -> InstanceAttributes {
        let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_string);
        let mut roles = Vec::new();
        if let Some(arn) = config.get("IamInstanceProfile").and_then(|profile| profile.get("Arn")).and_then(Value::as_str) {
            roles.push(arn.to_string());
            if let Some(name) = arn.rsplit('/').next() {
                roles.push(name.to_string());
            }
        }
        let mut security_groups = Vec::new();
        for group in config.get("SecurityGroups").and_then(Value::as_array).into_iter().flatten() {
            for key in ["GroupId", "GroupName"] {
                if let Some(value) = group.get(key).and_then(Value::as_str) {
                    security_groups.push(value.to_string());
                }
            }
        }
        let tags: BTreeMap<String, String> = tags
            .as_object()
            .map(|object| object.iter().filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        InstanceAttributes {
            account: account.to_string(),
            region: region.to_string(),
            instance_id: instance_id.to_string(),
            vpc: text("VpcId"),
            subnet: text("SubnetId"),
            ami: text("ImageId"),
            instance_type: text("InstanceType"),
            roles,
            security_groups,
            auto_scaling_group: tags.get("aws:autoscaling:groupName").cloned(),
            tags,
        }
    }
}

/// `*` matches any run of characters; everything else is literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(byte) if *byte == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|byte| *byte == b'*'))
}

fn one(value: &Option<String>) -> Vec<&str> {
    value.as_deref().map(|value| vec![value]).unwrap_or_default()
}

fn any_of(patterns: &[String], values: &[&str]) -> bool {
    patterns.is_empty() || patterns.iter().any(|pattern| values.iter().any(|value| glob(pattern, value)))
}

impl Match {
    fn specificity(&self) -> usize {
        [
            !self.accounts.is_empty(),
            !self.regions.is_empty(),
            !self.vpcs.is_empty(),
            !self.subnets.is_empty(),
            !self.amis.is_empty(),
            !self.instance_types.is_empty(),
            !self.roles.is_empty(),
            !self.security_groups.is_empty(),
            !self.tags.is_empty(),
            !self.auto_scaling_groups.is_empty(),
        ]
        .iter()
        .filter(|set| **set)
        .count()
    }

    pub fn matches(&self, instance: &InstanceAttributes) -> bool {
        any_of(&self.accounts, &[instance.account.as_str()])
            && any_of(&self.regions, &[instance.region.as_str()])
            && any_of(&self.vpcs, &one(&instance.vpc))
            && any_of(&self.subnets, &one(&instance.subnet))
            && any_of(&self.amis, &one(&instance.ami))
            && any_of(&self.instance_types, &one(&instance.instance_type))
            && any_of(&self.roles, &instance.roles.iter().map(String::as_str).collect::<Vec<_>>())
            && any_of(&self.security_groups, &instance.security_groups.iter().map(String::as_str).collect::<Vec<_>>())
            && any_of(&self.auto_scaling_groups, &one(&instance.auto_scaling_group))
            && self.tags.iter().all(|(key, pattern)| instance.tags.get(key).is_some_and(|value| glob(pattern, value)))
    }
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    order: usize,
    matcher: Match,
    modules: BTreeMap<String, Map<String, Value>>,
}

/// A loaded host policy.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    pub description: Option<String>,
    /// The first 16 hex digits of the SHA-256 of the policy's text: which file it came from.
    pub version: String,
    modules: BTreeMap<String, Map<String, Value>>,
    rules: Vec<Rule>,
}

/// One module's settings in an effective policy, with the common ones typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleSettings {
    pub enabled: bool,
    pub interval_seconds: u64,
    pub cpu_percent: u8,
    pub io_bytes_per_second: u64,
    /// Every setting, the common ones included, as the policy gave them.
    pub raw: Map<String, Value>,
}

impl ModuleSettings {
    pub fn from_map(raw: &Map<String, Value>) -> ModuleSettings {
        let number = |key: &str, default: u64| raw.get(key).and_then(Value::as_u64).unwrap_or(default);
        ModuleSettings {
            enabled: raw.get("enabled").and_then(Value::as_bool).unwrap_or(false),
            interval_seconds: number("interval_seconds", 3600).max(1),
            cpu_percent: number("cpu_percent", 5).clamp(1, 100) as u8,
            io_bytes_per_second: number("io_bytes_per_second", 4 * 1024 * 1024).max(1),
            raw: raw.clone(),
        }
    }

    /// A module-specific setting, decoded into the module's own type.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.raw.get(key).and_then(|value| serde_json::from_value(value.clone()).ok())
    }
}

/// What one agent runs: every module the policy names, with its merged settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EffectivePolicy {
    /// The host policy's version (see [`HostPolicy::version`]).
    pub policy_version: String,
    /// The matching rules, most specific first.
    pub rules: Vec<String>,
    pub modules: BTreeMap<String, Map<String, Value>>,
}

impl EffectivePolicy {
    /// SHA-256 of the policy's JSON (its keys sorted), in hex: equal policies, equal tags.
    pub fn etag(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(text.as_bytes());
        digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn module(&self, name: &str) -> ModuleSettings {
        ModuleSettings::from_map(self.modules.get(name).unwrap_or(&Map::new()))
    }
}

fn validate_settings(modules: &BTreeMap<String, Map<String, Value>>, place: &str) -> Result<(), String> {
    for (module, settings) in modules {
        for (key, kind) in [
            ("enabled", "a boolean"),
            ("interval_seconds", "a positive integer"),
            ("cpu_percent", "an integer from 1 to 100"),
            ("io_bytes_per_second", "a positive integer"),
        ] {
            let Some(value) = settings.get(key) else { continue };
            let valid = match key {
                "enabled" => value.is_boolean(),
                "cpu_percent" => value.as_u64().is_some_and(|percent| (1..=100).contains(&percent)),
                _ => value.as_u64().is_some_and(|number| number > 0),
            };
            if !valid {
                return Err(format!("{place}: module `{module}`: `{key}` must be {kind}, not `{value}`"));
            }
        }
    }
    Ok(())
}

impl HostPolicy {
    /// Parses a policy; `source_name` (the file's path) names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<HostPolicy, HostPolicyError> {
        let raw: RawPolicy = serde_yaml::from_str(text).map_err(|error| HostPolicyError::Yaml {
            source_name: source_name.to_string(),
            location: error.location().map(|location| (location.line(), location.column())),
            message: error.to_string(),
        })?;
        let invalid = |message: String| HostPolicyError::Invalid { source_name: source_name.to_string(), message };
        validate_settings(&raw.modules, "modules").map_err(invalid)?;
        let mut rules = Vec::new();
        for (order, rule) in raw.rules.into_iter().enumerate() {
            validate_settings(&rule.modules, &format!("rule `{}`", rule.name)).map_err(invalid)?;
            rules.push(Rule { name: rule.name, order, matcher: rule.matcher, modules: rule.modules });
        }
        let digest = Sha256::digest(text.as_bytes());
        let version = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
        Ok(HostPolicy { description: raw.description, version, modules: raw.modules, rules })
    }

    /// The bundled default policy.
    pub fn bundled() -> Result<HostPolicy, HostPolicyError> {
        HostPolicy::parse(DEFAULT_HOST_POLICY, "default-host-policy.yaml")
    }

    /// The effective policy of one instance.
    pub fn effective(&self, instance: &InstanceAttributes) -> EffectivePolicy {
        let mut matching: Vec<&Rule> = self.rules.iter().filter(|rule| rule.matcher.matches(instance)).collect();
        matching.sort_by_key(|rule| std::cmp::Reverse((rule.matcher.specificity(), rule.order)));
        let mut modules = self.modules.clone();
        // Least specific first, so the most specific rule's values are written last.
        for rule in matching.iter().rev() {
            for (module, settings) in &rule.modules {
                let target = modules.entry(module.clone()).or_default();
                for (key, value) in settings {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
        EffectivePolicy { policy_version: self.version.clone(), rules: matching.iter().map(|rule| rule.name.clone()).collect(), modules }
    }

    /// The rules' names in file order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|rule| rule.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
description: test
modules:
  inventory: { enabled: true, interval_seconds: 3600 }
  fim: { enabled: false, paths: [/etc] }
rules:
  - name: production
    match: { tags: { env: prod } }
    modules:
      fim: { enabled: true, interval_seconds: 600 }
  - name: production web in eu
    match: { tags: { env: prod }, regions: [eu-*], auto_scaling_groups: [web-*] }
    modules:
      fim: { paths: [/etc, /var/www] }
  - name: db subnets
    match: { subnets: [subnet-db*], security_groups: [sg-db] }
    modules:
      sca: { enabled: true }
  - name: batch role and type
    match: { roles: [batch-*], instance_types: ["c7g.*"], amis: [ami-0abc*], vpcs: [vpc-1], accounts: ["1111*"] }
    modules:
      inventory: { interval_seconds: 60 }
"#;

    fn instance(tags: &[(&str, &str)], region: &str, asg: Option<&str>) -> InstanceAttributes {
        InstanceAttributes {
            account: "111122223333".into(),
            region: region.into(),
            instance_id: "i-1".into(),
            vpc: Some("vpc-1".into()),
            subnet: Some("subnet-app".into()),
            ami: Some("ami-0abc".into()),
            instance_type: Some("t3.micro".into()),
            roles: vec!["app-server".into()],
            security_groups: vec!["sg-web".into()],
            tags: tags.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
            auto_scaling_group: asg.map(str::to_string),
        }
    }

    fn check(instance: &InstanceAttributes, module: &str, key: &str, expected: Option<Value>) {
        let policy = HostPolicy::parse(POLICY, "test.yaml").unwrap();
        let effective = policy.effective(instance);
        assert_eq!(effective.modules.get(module).and_then(|settings| settings.get(key)).cloned(), expected, "{module}.{key} for {instance:?}");
    }

    #[test]
    fn the_most_specific_matching_rule_sets_each_setting() {
        use serde_json::json;
        let plain = instance(&[], "us-east-1", None);
        check(&plain, "fim", "enabled", Some(json!(false)));
        check(&plain, "fim", "paths", Some(json!(["/etc"])));
        check(&plain, "inventory", "interval_seconds", Some(json!(3600)));
        check(&plain, "sca", "enabled", None);
        let prod = instance(&[("env", "prod")], "us-east-1", None);
        check(&prod, "fim", "enabled", Some(json!(true)));
        check(&prod, "fim", "interval_seconds", Some(json!(600)));
        check(&prod, "fim", "paths", Some(json!(["/etc"])));
        let web = instance(&[("env", "prod")], "eu-west-1", Some("web-blue"));
        check(&web, "fim", "enabled", Some(json!(true)));
        check(&web, "fim", "paths", Some(json!(["/etc", "/var/www"])));
        let mut db = instance(&[], "us-east-1", None);
        db.subnet = Some("subnet-db-a".into());
        db.security_groups.push("sg-db".into());
        check(&db, "sca", "enabled", Some(json!(true)));
        let mut batch = instance(&[], "us-east-1", None);
        batch.roles = vec!["batch-worker".into()];
        batch.instance_type = Some("c7g.large".into());
        check(&batch, "inventory", "interval_seconds", Some(json!(60)));
        batch.ami = Some("ami-9".into());
        check(&batch, "inventory", "interval_seconds", Some(json!(3600)));
    }

    #[test]
    fn a_tag_or_group_change_changes_the_etag_and_equal_inputs_give_equal_etags() {
        let policy = HostPolicy::parse(POLICY, "test.yaml").unwrap();
        let plain = policy.effective(&instance(&[], "us-east-1", None));
        assert_eq!(plain.etag(), policy.effective(&instance(&[], "us-east-1", None)).etag());
        let prod = policy.effective(&instance(&[("env", "prod")], "us-east-1", None));
        assert_ne!(plain.etag(), prod.etag());
        assert_eq!(prod.rules, vec!["production"]);
        let web = policy.effective(&instance(&[("env", "prod")], "eu-west-1", Some("web-1")));
        assert_eq!(web.rules, vec!["production web in eu", "production"]);
        assert_ne!(web.etag(), policy.effective(&instance(&[("env", "prod")], "eu-west-1", Some("batch-1"))).etag());
        let settings = web.module("fim");
        assert!(settings.enabled);
        assert_eq!((settings.interval_seconds, settings.cpu_percent), (600, 5));
        assert_eq!(settings.get::<Vec<String>>("paths"), Some(vec!["/etc".to_string(), "/var/www".to_string()]));
    }

    #[test]
    fn attributes_come_from_the_inventorys_instance_and_tags() {
        let config = serde_json::json!({
            "VpcId": "vpc-1", "SubnetId": "subnet-1", "ImageId": "ami-1", "InstanceType": "t3.micro",
            "IamInstanceProfile": { "Arn": "arn:aws:iam::111122223333:instance-profile/app-server" },
            "SecurityGroups": [{ "GroupId": "sg-1", "GroupName": "web" }]
        });
        let tags = serde_json::json!({ "env": "prod", "aws:autoscaling:groupName": "web-blue" });
        let attributes = InstanceAttributes::from_inventory("111122223333", "eu-west-1", "i-1", &config, &tags);
        assert_eq!(attributes.roles, ["arn:aws:iam::111122223333:instance-profile/app-server", "app-server"]);
        assert_eq!(attributes.security_groups, ["sg-1", "web"]);
        assert_eq!(attributes.auto_scaling_group.as_deref(), Some("web-blue"));
        assert_eq!((attributes.vpc.as_deref(), attributes.ami.as_deref()), (Some("vpc-1"), Some("ami-1")));
        let empty = InstanceAttributes::from_inventory("1", "r", "i", &Value::Null, &Value::Null);
        assert!(empty.roles.is_empty() && empty.tags.is_empty());
    }

    #[test]
    fn globs_match_like_the_posture_policy() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("web-*", "web-1", true),
            ("web-*", "db-1", false),
            ("*-prod-*", "a-prod-b", true),
            ("a*b*c", "aXbYc", true),
            ("a*b", "ab", true),
            ("abc", "abcd", false),
            ("a*a", "a", false),
        ] {
            assert_eq!(glob(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn the_bundled_policy_parses_and_bad_policies_name_the_file_line_and_setting() {
        let bundled = HostPolicy::bundled().unwrap();
        assert!(bundled.effective(&InstanceAttributes::default()).module("inventory").enabled);
        assert!(bundled.effective(&InstanceAttributes::default()).module("firewall").enabled, "the host firewall is read by default");
        let effective = bundled.effective(&InstanceAttributes::default());
        assert!(effective.module("firewall").get::<serde_json::Value>("enforce").is_none(), "and not enforced");
        let ips = effective.module("ips");
        assert!(!ips.enabled, "active response is off by default");
        assert_eq!(ips.get::<String>("mode").as_deref(), Some("dry-run"), "and dry-run when enabled");
        let error = HostPolicy::parse("modules:\n  fim: [oops\n", "bad.yaml").unwrap_err().to_string();
        assert!(error.contains("`bad.yaml` line"), "{error}");
        let error = HostPolicy::parse("rules:\n  - name: r\n    match: { colour: red }\n", "bad.yaml").unwrap_err().to_string();
        assert!(error.contains("colour"), "{error}");
        let error = HostPolicy::parse("modules:\n  fim: { cpu_percent: 500 }\n", "bad.yaml").unwrap_err().to_string();
        assert!(error.contains("module `fim`: `cpu_percent` must be an integer from 1 to 100"), "{error}");
    }
}
