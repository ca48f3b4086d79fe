//! The `vigil iam simulate` case format: a request and the policies that apply to it, in
//! one JSON object (or an array of them), decided into `{"decision", "explanation"}`.

use serde_json::Value;

use crate::evaluate::{Evaluation, PolicySet, evaluate};
use crate::policy::Policy;
use crate::request::{Context, Request};

/// A malformed case: which case of the file, which element, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case {case}: `{element}`: {message}")]
pub struct CaseError {
    pub case: usize,
    pub element: String,
    pub message: String,
}

/// One parsed case.
#[derive(Debug, Clone)]
pub struct Case {
    pub request: Request,
    pub identity: Vec<Policy>,
    pub resource: Option<Policy>,
    pub permissions_boundary: Option<Policy>,
    pub session: Option<Policy>,
    pub scps: Vec<Vec<Policy>>,
    pub rcps: Vec<Vec<Policy>>,
    /// The organization's management account (`management_account`), whose principals SCPs
    /// and whose resources RCPs do not restrict.
    pub management_account: Option<String>,
}

impl Case {
    pub fn policy_set(&self) -> PolicySet<'_> {
        PolicySet {
            identity: self.identity.iter().collect(),
            resource: self.resource.as_ref(),
            permissions_boundary: self.permissions_boundary.as_ref(),
            session: self.session.as_ref(),
            scps: self.scps.iter().map(|level| level.iter().collect()).collect(),
            rcps: self.rcps.iter().map(|level| level.iter().collect()).collect(),
            management_account: self.management_account.as_deref(),
        }
    }

    pub fn evaluate(&self) -> Evaluation {
        evaluate(&self.request, &self.policy_set())
    }
}

/// Parses a case file's JSON: one case object, or an array of them. The flag says whether it
/// was an array (then the output is an array too).
pub fn parse_cases(document: &Value) -> Result<(Vec<Case>, bool), CaseError> {
    match document {
        Value::Array(items) => Ok((items.iter().enumerate().map(|(index, item)| parse_case(index, item)).collect::<Result<_, _>>()?, true)),
        other => Ok((vec![parse_case(0, other)?], false)),
    }
}

/// Parses one case; `index` names it in errors.
pub fn parse_case(index: usize, value: &Value) -> Result<Case, CaseError> {
    let error = |element: &str, message: String| CaseError { case: index, element: element.to_string(), message };
    let object = value.as_object().ok_or_else(|| error("(case)", "a case must be a JSON object".into()))?;
    let request = object.get("request").ok_or_else(|| error("request", "missing".into()))?;
    let request = request.as_object().ok_or_else(|| error("request", "must be an object".into()))?;
    let text = |name: &str, required: bool| -> Result<Option<String>, CaseError> {
        match request.get(name) {
            Some(Value::String(text)) => Ok(Some(text.clone())),
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(error(&format!("request.{name}"), "missing".into())),
            Some(other) => Err(error(&format!("request.{name}"), format!("must be a string, not `{other}`"))),
        }
    };
    let principal = text("principal", true)?.unwrap_or_default();
    let action = text("action", true)?.unwrap_or_default();
    if action != "*" && !action.contains(':') {
        return Err(error("request.action", format!("`{action}` is not `service:action`")));
    }
    let resource = text("resource", false)?.unwrap_or_else(|| "*".to_string());
    let resource_account = text("resource_account", false)?;
    let mut context = Context::default();
    match request.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (key, value) in entries {
                let element = format!("request.context.{key}");
                let values = match value {
                    Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
                    other => scalar(other).map(|text| vec![text]),
                }
                .ok_or_else(|| error(&element, "values must be strings or lists of strings".into()))?;
                context.insert(key, values);
            }
        }
        Some(_) => return Err(error("request.context", "must be an object of keys to values".into())),
    }
    let request = Request::new(&principal, &action, &resource, resource_account, context);

    let policy = |element: String, value: &Value| -> Result<Policy, CaseError> {
        Policy::parse(value).map_err(|policy_error| error(&element, policy_error.to_string()))
    };
    let optional = |name: &str| -> Result<Option<Policy>, CaseError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => policy(name.to_string(), value).map(Some),
        }
    };
    let identity = match object.get("identity_policies") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(position, item)| policy(format!("identity_policies[{position}]"), item)).collect::<Result<_, _>>()?
        }
        Some(item @ Value::Object(_)) => vec![policy("identity_policies".into(), item)?],
        Some(_) => return Err(error("identity_policies", "must be a list of policies".into())),
    };
    let levels = |name: &str| -> Result<Vec<Vec<Policy>>, CaseError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(levels)) => levels
                .iter()
                .enumerate()
                .map(|(level, item)| match item {
                    Value::Array(policies) => {
                        policies.iter().enumerate().map(|(position, item)| policy(format!("{name}[{level}][{position}]"), item)).collect()
                    }
                    // A level given as a single policy instead of a list of one.
                    Value::Object(_) => Ok(vec![policy(format!("{name}[{level}]"), item)?]),
                    _ => Err(error(&format!("{name}[{level}]"), "each level must be a list of policies".into())),
                })
                .collect(),
            Some(_) => Err(error(name, "must be a list of levels, each a list of policies".into())),
        }
    };
    let management_account = match object.get("management_account") {
        None | Some(Value::Null) => None,
        Some(Value::String(account)) if account.len() == 12 && account.bytes().all(|byte| byte.is_ascii_digit()) => Some(account.clone()),
        Some(other) => return Err(error("management_account", format!("`{}` is not a 12-digit account id", plain_text(other)))),
    };
    Ok(Case {
        request,
        identity,
        resource: optional("resource_policy")?,
        permissions_boundary: optional("permissions_boundary")?,
        session: optional("session_policy")?,
        scps: levels("scps")?,
        rcps: levels("rcps")?,
        management_account,
    })
}

fn plain_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The JSON output for one decision: `{"decision": ..., "explanation": ...}`.
pub fn to_json(evaluation: &Evaluation) -> Value {
    serde_json::json!({ "decision": evaluation.decision.as_str(), "explanation": evaluation.explanation })
}
