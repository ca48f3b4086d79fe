//! Loading an SCA policy file: `policy`, `requirements`, `variables` and `checks`, in the 5.x
//! schema (`name`) or the 4.x one (`title`). A file that is not such a policy is an error
//! naming the file (and the line, for YAML errors); a rule that cannot be parsed makes only its
//! check "not applicable", with the rule and the reason.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::ScaError;
use super::pattern::Dialect;
use super::rule::{Generation, Rule, parse_rule};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    All,
    Any,
    None,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Where it was read from, for messages.
    pub source: String,
    pub generation: Generation,
    pub requirements: Option<Requirements>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone)]
pub struct Requirements {
    pub title: String,
    pub condition: Condition,
    pub rules: Vec<RuleSlot>,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub rationale: Option<String>,
    pub remediation: Option<String>,
    /// The check's `compliance` mapping, as JSON (5.x object or 4.x list).
    pub compliance: serde_json::Value,
    pub condition: Condition,
    pub rules: Vec<RuleSlot>,
}

/// One rule as written, parsed or with the reason it could not be.
#[derive(Debug, Clone)]
pub struct RuleSlot {
    pub text: String,
    pub parsed: Result<Rule, String>,
}

impl Policy {
    /// Reads and parses a policy file.
    pub fn load(path: &Path) -> Result<Policy, ScaError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScaError::Read { path: path.display().to_string(), source })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Parses a policy from its text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Policy, ScaError> {
        let invalid = |message: String| ScaError::Invalid { path: source.to_string(), message };
        let document: Value = serde_yaml::from_str(text).map_err(|error| {
            let line = error.location().map(|location| location.line());
            ScaError::Yaml { path: source.to_string(), line, message: error.to_string() }
        })?;
        let root = document.as_mapping().ok_or_else(|| invalid("the document is not a mapping with `policy` and `checks`".to_string()))?;
        let policy = get(root, "policy").and_then(Value::as_mapping).ok_or_else(|| invalid("missing the `policy` section".to_string()))?;
        let id = string(policy, "id").ok_or_else(|| invalid("`policy.id` is missing or not a string".to_string()))?;
        let name = string(policy, "name").unwrap_or_else(|| id.clone());
        let description = string(policy, "description").unwrap_or_default();

        let checks_value = get(root, "checks").and_then(Value::as_sequence).ok_or_else(|| invalid("missing the `checks` list".to_string()))?;
        // 4.x policies name checks with `title`; 5.x with `name`.
        let uses_title = checks_value.iter().filter_map(Value::as_mapping).any(|check| get(check, "title").is_some() && get(check, "name").is_none());
        let generation = if uses_title { Generation::Wazuh4 } else { Generation::Wazuh5 };
        let policy_dialect = match (generation, string(policy, "regex_type").as_deref()) {
            (Generation::Wazuh5, _) => Dialect::Pcre2,
            (Generation::Wazuh4, Some("pcre2")) => Dialect::Pcre2,
            (Generation::Wazuh4, _) => Dialect::OsRegex,
        };

        let variables = parse_variables(root).map_err(invalid)?;
        let parse_rules = |rules: &Value, dialect: Dialect, context: &str| -> Result<Vec<RuleSlot>, ScaError> {
            let rules = rules.as_sequence().ok_or_else(|| invalid(format!("{context}: `rules` is not a list")))?;
            let mut slots = Vec::with_capacity(rules.len());
            for (index, rule) in rules.iter().enumerate() {
                let text = rule.as_str().ok_or_else(|| invalid(format!("{context}: rule {} is not a string", index + 1)))?;
                let text = substitute(text, &variables);
                let parsed = parse_rule(&text, dialect, generation);
                slots.push(RuleSlot { text, parsed });
            }
            Ok(slots)
        };

        let requirements = match get(root, "requirements") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let section = value.as_mapping().ok_or_else(|| invalid("`requirements` is not a mapping".to_string()))?;
                let title = string(section, "name").or_else(|| string(section, "title")).unwrap_or_else(|| "requirements".to_string());
                let condition = parse_condition(section).map_err(|message| invalid(format!("requirements: {message}")))?;
                let rules = get(section, "rules").ok_or_else(|| invalid("requirements: missing `rules`".to_string()))?;
                Some(Requirements { title, condition, rules: parse_rules(rules, policy_dialect, "requirements")? })
            }
        };

        let mut checks = Vec::with_capacity(checks_value.len());
        let mut seen = std::collections::HashSet::new();
        for (index, value) in checks_value.iter().enumerate() {
            let position = format!("check #{}", index + 1);
            let check = value.as_mapping().ok_or_else(|| invalid(format!("{position} is not a mapping")))?;
            let id = match get(check, "id") {
                Some(Value::Number(number)) => number.as_i64(),
                Some(Value::String(text)) => text.trim().parse::<i64>().ok(),
                _ => None,
            }
            .filter(|id| *id > 0)
            .ok_or_else(|| invalid(format!("{position}: `id` is missing or not a positive integer")))?;
            let context = format!("{position} (id {id})");
            if !seen.insert(id) {
                return Err(invalid(format!("{context}: duplicated check id")));
            }
            let title = string(check, "name").or_else(|| string(check, "title")).ok_or_else(|| invalid(format!("{context}: missing `name`")))?;
            let condition = parse_condition(check).map_err(|message| invalid(format!("{context}: {message}")))?;
            let dialect = match (generation, string(check, "regex_type").as_deref()) {
                (Generation::Wazuh5, _) => Dialect::Pcre2,
                (Generation::Wazuh4, Some("pcre2")) => Dialect::Pcre2,
                (Generation::Wazuh4, Some("osregex")) => Dialect::OsRegex,
                (Generation::Wazuh4, _) => policy_dialect,
            };
            let rules = get(check, "rules").ok_or_else(|| invalid(format!("{context}: missing `rules`")))?;
            let rules = parse_rules(rules, dialect, &context)?;
            if rules.is_empty() {
                return Err(invalid(format!("{context}: no rules")));
            }
            let compliance =
                get(check, "compliance").map(|value| serde_json::to_value(value).unwrap_or(serde_json::Value::Null)).unwrap_or(serde_json::Value::Null);
            checks.push(Check {
                id,
                title,
                description: string(check, "description"),
                rationale: string(check, "rationale"),
                remediation: string(check, "remediation"),
                compliance,
                condition,
                rules,
            });
        }
        Ok(Policy { id, name, description, source: source.to_string(), generation, requirements, checks })
    }
}

fn get<'a>(mapping: &'a Mapping, key: &str) -> Option<&'a Value> {
    mapping.get(Value::String(key.to_string()))
}

fn string(mapping: &Mapping, key: &str) -> Option<String> {
    match get(mapping, key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn parse_condition(section: &Mapping) -> Result<Condition, String> {
    match string(section, "condition").as_deref() {
        Some("all") | Some("all required") => Ok(Condition::All),
        Some("any") | Some("any required") => Ok(Condition::Any),
        Some("none") => Ok(Condition::None),
        Some(other) => Err(format!("unknown condition `{other}` (all, any or none)")),
        None => Err("missing `condition`".to_string()),
    }
}

/// The `variables` section: `$name: value`, longest names first so that `$a` never replaces
/// the start of `$ab`.
fn parse_variables(root: &Mapping) -> Result<Vec<(String, String)>, String> {
    let Some(section) = get(root, "variables") else {
        return Ok(Vec::new());
    };
    let Some(section) = section.as_mapping() else {
        return Err("`variables` is not a mapping".to_string());
    };
    let mut variables = Vec::new();
    for (key, value) in section {
        let name = key.as_str().ok_or("a variable name is not a string")?;
        if !name.starts_with('$') {
            return Err(format!("variable `{name}` does not start with `$`"));
        }
        let value = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Sequence(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
            _ => return Err(format!("variable `{name}` is not a string")),
        };
        variables.push((name.to_string(), value));
    }
    variables.sort_by_key(|variable| std::cmp::Reverse(variable.0.len()));
    Ok(variables)
}

fn substitute(text: &str, variables: &[(String, String)]) -> String {
    let mut text = text.to_string();
    for (name, value) in variables {
        if text.contains(name.as_str()) {
            text = text.replace(name.as_str(), value);
        }
    }
    text
}
