//! Policy documents: parsing every element in its single and list forms into a checked,
//! pre-compiled form, with errors that name the element and the statement.

use serde_json::Value;

use crate::condition::Condition;
use crate::pattern::{ArnPattern, Glob};
use crate::variables::Template;

/// A malformed policy: which element of which statement, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}element `{element}`: {message}", statement.map(|index| format!("statement {index}: ")).unwrap_or_default())]
pub struct PolicyError {
    /// The statement's index in `Statement` (0 for a single statement object), if any.
    pub statement: Option<usize>,
    pub element: String,
    pub message: String,
}

impl PolicyError {
    fn new(statement: Option<usize>, element: &str, message: impl Into<String>) -> PolicyError {
        PolicyError { statement, element: element.to_string(), message: message.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `2012-10-17`, `2008-10-17`, or `None` when absent (then policy variables are plain text).
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalBlock>,
    pub action: ActionBlock,
    /// `None` when the statement has neither `Resource` nor `NotResource` (trust policies).
    pub resource: Option<ResourceBlock>,
    pub conditions: Vec<Condition>,
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionBlock {
    pub negated: bool,
    pub patterns: Vec<ActionPattern>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionPattern {
    pub text: String,
    /// Lower-cased, since action names are case-insensitive.
    glob: Glob,
}

impl ActionPattern {
    /// `action` must be lower-cased.
    pub fn matches(&self, action: &str) -> bool {
        self.glob.matches(action)
    }
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceBlock {
    pub negated: bool,
    pub patterns: Vec<ResourcePattern>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePattern {
    pub text: String,
    pub template: Template,
    /// Pre-compiled when the pattern has no variables.
    pub compiled: Option<ArnPattern>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalBlock {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// `"Principal": "*"`.
    Everyone,
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalEntry {
    pub kind: PrincipalType,
    pub value: String,
    /// `value` read as a principal, once (for `AWS` entries).
    pub parsed: Option<crate::request::Principal>,
}

const STATEMENT_ELEMENTS: &[&str] = &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

impl Policy {
    /// Whether deciding a request against this policy can read the context key `key`
    /// (lower-cased): a condition on it, or a policy variable naming it in a condition value or
    /// a `Resource`/`NotResource` pattern. `Principal` and `Action` take no variables. When this
    /// is false for every policy of a decision, the key's value cannot change the decision.
    pub fn reads_context_key(&self, key: &str) -> bool {
        self.statements.iter().any(|statement| {
            statement.conditions.iter().any(|condition| condition.reads(key))
                || statement.resource.iter().flat_map(|block| &block.patterns).any(|pattern| pattern.template.reads(key))
        })
    }

    /// Parses a policy document given as JSON text.
    pub fn parse_str(text: &str) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|error| PolicyError::new(None, "(document)", format!("not valid JSON: {error}")))?;
        Policy::parse(&value)
    }

    /// Parses a policy document.
    pub fn parse(document: &Value) -> Result<Policy, PolicyError> {
        let object = document.as_object().ok_or_else(|| PolicyError::new(None, "(document)", "a policy must be a JSON object"))?;
        for key in object.keys() {
            if !["Version", "Id", "Statement"].contains(&key.as_str()) {
                return Err(PolicyError::new(None, key, "unknown top-level element (expected Version, Id, Statement)"));
            }
        }
        let version = match object.get("Version") {
            None => None,
            Some(Value::String(version)) if version == "2012-10-17" || version == "2008-10-17" => Some(version.clone()),
            Some(other) => {
                return Err(PolicyError::new(None, "Version", format!("`{}` is not a policy language version (2012-10-17 or 2008-10-17)", plain(other))));
            }
        };
        let id = match object.get("Id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(PolicyError::new(None, "Id", "must be a string")),
        };
        let variables = version.as_deref() == Some("2012-10-17");
        let statements = match object.get("Statement") {
            None => return Err(PolicyError::new(None, "Statement", "missing")),
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(index, item)| parse_statement(index, item, variables)).collect::<Result<Vec<_>, _>>()?
            }
            Some(item @ Value::Object(_)) => vec![parse_statement(0, item, variables)?],
            Some(_) => return Err(PolicyError::new(None, "Statement", "must be an object or a list of objects")),
        };
        Ok(Policy { version, id, statements })
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A string or a list of strings.
fn string_list(value: &Value, index: usize, element: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(|| PolicyError::new(Some(index), element, format!("`{item}` is not a string"))))
            .collect(),
        Value::Array(_) => Err(PolicyError::new(Some(index), element, "must not be an empty list")),
        other => Err(PolicyError::new(Some(index), element, format!("must be a string or a list of strings, not `{other}`"))),
    }
}

fn parse_statement(index: usize, value: &Value, variables: bool) -> Result<Statement, PolicyError> {
    let object = value.as_object().ok_or_else(|| PolicyError::new(Some(index), "Statement", "each statement must be a JSON object"))?;
    for key in object.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            return Err(PolicyError::new(Some(index), key, "unknown statement element"));
        }
    }
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err(PolicyError::new(Some(index), "Sid", "must be a string")),
    };
    let effect = match object.get("Effect") {
        Some(Value::String(effect)) if effect == "Allow" => Effect::Allow,
        Some(Value::String(effect)) if effect == "Deny" => Effect::Deny,
        Some(other) => return Err(PolicyError::new(Some(index), "Effect", format!("`{}` is neither `Allow` nor `Deny`", plain(other)))),
        None => return Err(PolicyError::new(Some(index), "Effect", "missing")),
    };
    let action = match (object.get("Action"), object.get("NotAction")) {
        (Some(_), Some(_)) => return Err(PolicyError::new(Some(index), "Action", "a statement cannot have both Action and NotAction")),
        (None, None) => return Err(PolicyError::new(Some(index), "Action", "missing (a statement needs Action or NotAction)")),
        (Some(value), None) => ActionBlock { negated: false, patterns: parse_actions(value, index, "Action")? },
        (None, Some(value)) => ActionBlock { negated: true, patterns: parse_actions(value, index, "NotAction")? },
    };
    let resource = match (object.get("Resource"), object.get("NotResource")) {
        (Some(_), Some(_)) => return Err(PolicyError::new(Some(index), "Resource", "a statement cannot have both Resource and NotResource")),
        (None, None) => None,
        (Some(value), None) => Some(ResourceBlock { negated: false, patterns: parse_resources(value, index, "Resource", variables)? }),
        (None, Some(value)) => Some(ResourceBlock { negated: true, patterns: parse_resources(value, index, "NotResource", variables)? }),
    };
    let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(PolicyError::new(Some(index), "Principal", "a statement cannot have both Principal and NotPrincipal")),
        (None, None) => None,
        (Some(value), None) => Some(PrincipalBlock { negated: false, entries: parse_principals(value, index, "Principal")? }),
        (None, Some(value)) => Some(PrincipalBlock { negated: true, entries: parse_principals(value, index, "NotPrincipal")? }),
    };
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(operators)) => {
            let mut conditions = Vec::new();
            for (operator, keys) in operators {
                let keys = keys
                    .as_object()
                    .ok_or_else(|| PolicyError::new(Some(index), "Condition", format!("operator `{operator}` must map condition keys to values")))?;
                for (key, values) in keys {
                    conditions.push(Condition::parse(operator, key, values, variables).map_err(|message| PolicyError::new(Some(index), "Condition", message))?);
                }
            }
            conditions
        }
        Some(_) => return Err(PolicyError::new(Some(index), "Condition", "must be an object of operators")),
    };
    Ok(Statement { index, sid, effect, principal, action, resource, conditions })
}

fn parse_actions(value: &Value, index: usize, element: &str) -> Result<Vec<ActionPattern>, PolicyError> {
    string_list(value, index, element)?
        .into_iter()
        .map(|text| {
            if text != "*" && !text.contains(':') {
                return Err(PolicyError::new(Some(index), element, format!("`{text}` is not `*` or `service:action`")));
            }
            let glob = Glob::new(&text.to_lowercase());
            Ok(ActionPattern { text, glob })
        })
        .collect()
}

fn parse_resources(value: &Value, index: usize, element: &str, variables: bool) -> Result<Vec<ResourcePattern>, PolicyError> {
    string_list(value, index, element)?
        .into_iter()
        .map(|text| {
            if text != "*" && !text.starts_with("arn:") {
                return Err(PolicyError::new(Some(index), element, format!("`{text}` is not `*` or an ARN")));
            }
            let template = Template::parse(&text, variables);
            let compiled = template.plain().map(ArnPattern::new);
            Ok(ResourcePattern { text, template, compiled })
        })
        .collect()
}

fn parse_principals(value: &Value, index: usize, element: &str) -> Result<Vec<PrincipalEntry>, PolicyError> {
    match value {
        Value::String(text) if text == "*" => Ok(vec![PrincipalEntry { kind: PrincipalType::Everyone, value: "*".into(), parsed: None }]),
        Value::String(text) => Err(PolicyError::new(Some(index), element, format!("`{text}`: a principal is `*` or an object such as {{\"AWS\": ...}}"))),
        Value::Object(map) if !map.is_empty() => {
            let mut entries = Vec::new();
            for (kind, values) in map {
                let kind = match kind.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Service" => PrincipalType::Service,
                    "Federated" => PrincipalType::Federated,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    other => {
                        return Err(PolicyError::new(
                            Some(index),
                            element,
                            format!("unknown principal type `{other}` (AWS, Service, Federated, CanonicalUser)"),
                        ));
                    }
                };
                for value in string_list(values, index, element)? {
                    let parsed = (kind == PrincipalType::Aws).then(|| crate::request::Principal::parse(&value));
                    entries.push(PrincipalEntry { kind, value, parsed });
                }
            }
            Ok(entries)
        }
        other => Err(PolicyError::new(Some(index), element, format!("must be `*` or a non-empty object, not `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_error(document: &str, expected: &str) {
        match Policy::parse_str(document) {
            Ok(_) => panic!("expected an error for {document}"),
            Err(error) => assert_eq!(error.to_string(), expected),
        }
    }

    #[test]
    fn single_and_list_forms_parse_alike() {
        let single = Policy::parse_str(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#).unwrap();
        let list = Policy::parse_str(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}"#).unwrap();
        assert_eq!(single.statements.len(), 1);
        assert_eq!(single.statements[0].action.patterns[0].text, list.statements[0].action.patterns[0].text);
    }

    #[test]
    fn malformed_policies_name_the_element_and_statement() {
        for (document, expected) in [
            (r#"[]"#, "element `(document)`: a policy must be a JSON object"),
            (r#"{"Version":"2012-10-17"}"#, "element `Statement`: missing"),
            (r#"{"Version":"2013-01-01","Statement":[]}"#, "element `Version`: `2013-01-01` is not a policy language version (2012-10-17 or 2008-10-17)"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Permit","Action":"s3:*"}]}"#,
                "statement 1: element `Effect`: `Permit` is neither `Allow` nor `Deny`",
            ),
            (r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, "statement 0: element `Action`: missing (a statement needs Action or NotAction)"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:*"}]}"#,
                "statement 0: element `Action`: a statement cannot have both Action and NotAction",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":5}]}"#,
                "statement 0: element `Resource`: must be a string or a list of strings, not `5`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Principal":{"Bogus":"x"}}]}"#,
                "statement 0: element `Principal`: unknown principal type `Bogus` (AWS, Service, Federated, CanonicalUser)",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"StringFoo":{"a":"b"}}}]}"#,
                "statement 0: element `Condition`: unknown condition operator `StringFoo`",
            ),
            (r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Colour":"red"}]}"#, "statement 0: element `Colour`: unknown statement element"),
        ] {
            check_error(document, expected);
        }
    }
}
