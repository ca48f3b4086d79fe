//! Condition operators: every documented operator, the `...IfExists` forms, the
//! `ForAllValues:`/`ForAnyValue:` set qualifiers and their behaviour on missing keys.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::pattern::{ArnPattern, Glob};
use crate::request::Context;
use crate::variables::Template;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPERATORS: &[(&str, Operator)] = &[
    ("StringEquals", Operator::StringEquals),
    ("StringNotEquals", Operator::StringNotEquals),
    ("StringEqualsIgnoreCase", Operator::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Operator::StringNotEqualsIgnoreCase),
    ("StringLike", Operator::StringLike),
    ("StringNotLike", Operator::StringNotLike),
    ("NumericEquals", Operator::NumericEquals),
    ("NumericNotEquals", Operator::NumericNotEquals),
    ("NumericLessThan", Operator::NumericLessThan),
    ("NumericLessThanEquals", Operator::NumericLessThanEquals),
    ("NumericGreaterThan", Operator::NumericGreaterThan),
    ("NumericGreaterThanEquals", Operator::NumericGreaterThanEquals),
    ("DateEquals", Operator::DateEquals),
    ("DateNotEquals", Operator::DateNotEquals),
    ("DateLessThan", Operator::DateLessThan),
    ("DateLessThanEquals", Operator::DateLessThanEquals),
    ("DateGreaterThan", Operator::DateGreaterThan),
    ("DateGreaterThanEquals", Operator::DateGreaterThanEquals),
    ("Bool", Operator::Bool),
    ("BinaryEquals", Operator::BinaryEquals),
    ("IpAddress", Operator::IpAddress),
    ("NotIpAddress", Operator::NotIpAddress),
    ("ArnEquals", Operator::ArnEquals),
    ("ArnLike", Operator::ArnLike),
    ("ArnNotEquals", Operator::ArnNotEquals),
    ("ArnNotLike", Operator::ArnNotLike),
    ("Null", Operator::Null),
];

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        OPERATORS.iter().find(|(text, _)| text.eq_ignore_ascii_case(name)).map(|(_, operator)| *operator)
    }

    /// Negated operators are true when no policy value matches (and when the key is absent).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Operator::StringNotEquals
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringNotLike
                | Operator::NumericNotEquals
                | Operator::DateNotEquals
                | Operator::NotIpAddress
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values.
    fn takes_variables(self) -> bool {
        matches!(
            self,
            Operator::StringEquals
                | Operator::StringNotEquals
                | Operator::StringEqualsIgnoreCase
                | Operator::StringNotEqualsIgnoreCase
                | Operator::StringLike
                | Operator::StringNotLike
                | Operator::ArnEquals
                | Operator::ArnLike
                | Operator::ArnNotEquals
                | Operator::ArnNotLike
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// One operator applied to one key with its values: `"StringEquals": {"aws:username": ["a"]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written, for explanations.
    pub operator_text: String,
    pub operator: Operator,
    pub qualifier: Option<SetQualifier>,
    pub if_exists: bool,
    /// The key as written.
    pub key_text: String,
    /// Lower-cased: condition keys are case-insensitive.
    pub key: String,
    pub values: Vec<ConditionValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConditionValue {
    pub text: String,
    template: Template,
    compiled: Compiled,
}

/// A policy value parsed once for its operator.
#[derive(Debug, Clone, PartialEq)]
enum Compiled {
    Text,
    Glob(Glob),
    Arn(ArnPattern),
    Number(Option<f64>),
    Date(Option<i64>),
    Network(Option<IpNet>),
    Bool(Option<bool>),
    /// The value has variables: substituted at evaluation time.
    Variable,
}

impl Condition {
    pub fn parse(operator_text: &str, key: &str, values: &Value, variables: bool) -> Result<Condition, String> {
        let (qualifier, rest) = if let Some(rest) = strip_prefix_ignore_case(operator_text, "ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = strip_prefix_ignore_case(operator_text, "ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, operator_text)
        };
        let (if_exists, base) = match rest.len().checked_sub(8).and_then(|split| rest.get(split..).map(|tail| (split, tail))) {
            Some((split, tail)) if tail.eq_ignore_ascii_case("IfExists") && Operator::parse(rest).is_none() => (true, rest.get(..split).unwrap_or_default()),
            _ => (false, rest),
        };
        let operator = Operator::parse(base).ok_or_else(|| format!("unknown condition operator `{operator_text}`"))?;
        if operator == Operator::Null && if_exists {
            return Err(format!("unknown condition operator `{operator_text}` (Null has no IfExists form)"));
        }
        let texts: Vec<String> = match values {
            Value::Array(items) if !items.is_empty() => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
            Value::Array(_) => None,
            other => scalar(other).map(|text| vec![text]),
        }
        .ok_or_else(|| format!("`{operator_text}` `{key}`: values must be a string, number or boolean, or a non-empty list of them"))?;
        let use_variables = variables && operator.takes_variables();
        let values = texts
            .into_iter()
            .map(|text| {
                let template = Template::parse(&text, use_variables);
                let compiled = if template.has_variables() { Compiled::Variable } else { compile(operator, &text) };
                if operator == Operator::Null && !text.eq_ignore_ascii_case("true") && !text.eq_ignore_ascii_case("false") {
                    return Err(format!("`{operator_text}` `{key}`: Null takes `true` or `false`, not `{text}`"));
                }
                Ok(ConditionValue { text, template, compiled })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Condition { operator_text: operator_text.to_string(), operator, qualifier, if_exists, key_text: key.to_string(), key: key.to_lowercase(), values })
    }

    /// Whether evaluating the condition reads the context key `key` (lower-cased): its own key,
    /// or a policy variable in one of its values. A condition reads nothing else of the context.
    pub fn reads(&self, key: &str) -> bool {
        self.key == key || self.values.iter().any(|value| value.template.reads(key))
    }

    /// Evaluates the condition against the request context.
    pub fn evaluate(&self, context: &Context) -> bool {
        self.evaluate_for(context, true)
    }

    /// Evaluates the condition for a statement whose caller `wants` it to hold (an Allow's
    /// condition) or not (a Deny's): when the context leaves the key to the caller
    /// ([`Context::chosen`]), the caller picks a value that gives `wants`.
    pub fn evaluate_for(&self, context: &Context, wants: bool) -> bool {
        if context.chosen(&self.key) {
            return wants;
        }
        let present = context.get(&self.key);
        if self.operator == Operator::Null {
            let absent = present.is_none_or(<[String]>::is_empty);
            return self.values.iter().any(|value| value.text.eq_ignore_ascii_case("true") == absent);
        }
        let values = match present {
            Some(values) if !values.is_empty() => values,
            _ => {
                return match self.qualifier {
                    _ if self.if_exists => true,
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => self.operator.is_negated(),
                };
            }
        };
        let negated = self.operator.is_negated();
        // Whether one request value satisfies the operator: a positive operator needs a policy
        // value that matches; a negated one needs that none matches.
        let satisfied = |request_value: &str| self.values.iter().any(|value| value.matches(self.operator, request_value, context)) != negated;
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => values.iter().all(|value| satisfied(value)),
            Some(SetQualifier::ForAnyValue) => values.iter().any(|value| satisfied(value)),
            None if negated => !values.iter().any(|value| self.values.iter().any(|policy| policy.matches(self.operator, value, context))),
            None => values.iter().any(|value| satisfied(value)),
        }
    }

    /// A one-line description for explanations.
    pub fn describe(&self, context: &Context) -> String {
        let values: Vec<&str> = self.values.iter().map(|value| value.text.as_str()).collect();
        let request = match context.get(&self.key) {
            Some(values) => format!("{values:?}"),
            None => "absent".to_string(),
        };
        format!("{} {{{}: {:?}}} with request value {}", self.operator_text, self.key_text, values, request)
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| text.get(prefix.len()..)).flatten()
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn compile(operator: Operator, text: &str) -> Compiled {
    use Operator::*;
    match operator {
        StringLike | StringNotLike => Glob::new(text).into_compiled(),
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Compiled::Arn(ArnPattern::new(text)),
        NumericEquals | NumericNotEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan | NumericGreaterThanEquals => {
            Compiled::Number(parse_number(text))
        }
        DateEquals | DateNotEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => Compiled::Date(parse_date(text)),
        IpAddress | NotIpAddress => Compiled::Network(parse_network(text)),
        Bool => Compiled::Bool(parse_bool(text)),
        _ => Compiled::Text,
    }
}

impl Glob {
    fn into_compiled(self) -> Compiled {
        Compiled::Glob(self)
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|number| number.is_finite())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Dates as AWS accepts them: ISO 8601 (with or without time and zone) or epoch seconds;
/// compared as milliseconds since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds.saturating_mul(1000));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), format) {
            return Some(time.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|date| date.and_hms_opt(0, 0, 0)).map(|time| time.and_utc().timestamp_millis())
}

fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

impl ConditionValue {
    /// Whether this policy value matches one request value under the operator's positive form.
    fn matches(&self, operator: Operator, request_value: &str, context: &Context) -> bool {
        use Operator::*;
        if self.compiled == Compiled::Variable {
            return match operator {
                StringLike | StringNotLike => self.template.tokens(context).is_some_and(|tokens| Glob::from_tokens(tokens).matches(request_value)),
                ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                    self.template.tokens(context).is_some_and(|tokens| ArnPattern::from_tokens(tokens).matches_strict(request_value))
                }
                _ => self.template.text(context).is_some_and(|text| compare_text(operator, &text, request_value)),
            };
        }
        match (&self.compiled, operator) {
            (Compiled::Glob(glob), _) => glob.matches(request_value),
            (Compiled::Arn(pattern), _) => pattern.matches_strict(request_value),
            (Compiled::Number(policy), _) => match (policy, parse_number(request_value)) {
                (Some(policy), Some(request)) => compare_ordered(operator, request.partial_cmp(policy)),
                _ => false,
            },
            (Compiled::Date(policy), _) => match (policy, parse_date(request_value)) {
                (Some(policy), Some(request)) => compare_ordered(operator, Some(request.cmp(policy))),
                _ => false,
            },
            (Compiled::Network(network), _) => match (network, request_value.trim().parse::<IpAddr>()) {
                (Some(network), Ok(address)) => network.contains(&address),
                _ => false,
            },
            (Compiled::Bool(policy), _) => policy.is_some() && *policy == parse_bool(request_value),
            (Compiled::Text, _) => compare_text(operator, &self.text, request_value),
            (Compiled::Variable, _) => false,
        }
    }
}

fn compare_text(operator: Operator, policy: &str, request: &str) -> bool {
    match operator {
        Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase => policy.to_lowercase() == request.to_lowercase(),
        _ => policy == request,
    }
}

/// `ordering` is request compared with policy.
fn compare_ordered(operator: Operator, ordering: Option<std::cmp::Ordering>) -> bool {
    use Operator::*;
    use std::cmp::Ordering::*;
    let Some(ordering) = ordering else { return false };
    match operator {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => ordering == Equal,
        NumericLessThan | DateLessThan => ordering == Less,
        NumericLessThanEquals | DateLessThanEquals => ordering != Greater,
        NumericGreaterThan | DateGreaterThan => ordering == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(operator: &str, key: &str, policy: Value, context: &[(&str, &[&str])], expected: bool) {
        let condition = Condition::parse(operator, key, &policy, true).unwrap();
        let mut values = Context::default();
        for (name, items) in context {
            values.insert(name, items.iter().map(|item| item.to_string()).collect());
        }
        assert_eq!(condition.evaluate(&values), expected, "{operator} {key} {policy} {context:?}");
    }

    #[test]
    fn operators_follow_the_documentation() {
        check("StringEquals", "aws:username", json!("alice"), &[("aws:username", &["alice"])], true);
        check("StringEquals", "AWS:UserName", json!("alice"), &[("aws:username", &["Alice"])], false);
        check("StringEqualsIgnoreCase", "aws:username", json!("alice"), &[("aws:username", &["ALICE"])], true);
        check("StringNotEquals", "aws:username", json!(["a", "b"]), &[("aws:username", &["c"])], true);
        check("StringNotEquals", "aws:username", json!(["a", "b"]), &[("aws:username", &["a"])], false);
        check("StringNotEquals", "aws:username", json!("a"), &[], true);
        check("StringEquals", "aws:username", json!("a"), &[], false);
        check("StringEqualsIfExists", "aws:username", json!("a"), &[], true);
        check("StringLike", "s3:prefix", json!("home/*"), &[("s3:prefix", &["home/x"])], true);
        check("StringNotLike", "s3:prefix", json!("home/*"), &[("s3:prefix", &["other"])], true);
        check("NumericLessThan", "s3:max-keys", json!(10), &[("s3:max-keys", &["9"])], true);
        check("NumericLessThan", "s3:max-keys", json!("10"), &[("s3:max-keys", &["10"])], false);
        check("NumericGreaterThanEquals", "s3:max-keys", json!("10"), &[("s3:max-keys", &["10.0"])], true);
        check("DateLessThan", "aws:CurrentTime", json!("2020-01-01T00:00:00Z"), &[("aws:currenttime", &["2019-12-31T23:59:59Z"])], true);
        check("DateGreaterThan", "aws:CurrentTime", json!("2020-01-01"), &[("aws:currenttime", &["1577836801"])], true);
        check("Bool", "aws:SecureTransport", json!(false), &[("aws:securetransport", &["false"])], true);
        check("Bool", "aws:SecureTransport", json!("true"), &[("aws:securetransport", &["TRUE"])], true);
        check("BinaryEquals", "key", json!("QmluYXJ5"), &[("key", &["QmluYXJ5"])], true);
        check("IpAddress", "aws:SourceIp", json!("203.0.113.0/24"), &[("aws:sourceip", &["203.0.113.5"])], true);
        check("IpAddress", "aws:SourceIp", json!("2001:db8::/32"), &[("aws:sourceip", &["2001:db8::1"])], true);
        check("NotIpAddress", "aws:SourceIp", json!("203.0.113.0/24"), &[("aws:sourceip", &["198.51.100.1"])], true);
        check("ArnLike", "aws:SourceArn", json!("arn:aws:sns:*:123456789012:*"), &[("aws:sourcearn", &["arn:aws:sns:us-east-1:123456789012:t"])], true);
        check("ArnEquals", "aws:SourceArn", json!("arn:aws:sns:*:123456789012:*"), &[("aws:sourcearn", &["not-an-arn"])], false);
        check("Null", "aws:TokenIssueTime", json!("true"), &[], true);
        check("Null", "aws:TokenIssueTime", json!("false"), &[], false);
        check("ForAllValues:StringEquals", "aws:TagKeys", json!(["a", "b"]), &[("aws:tagkeys", &["a"])], true);
        check("ForAllValues:StringEquals", "aws:TagKeys", json!(["a", "b"]), &[("aws:tagkeys", &["a", "c"])], false);
        check("ForAllValues:StringEquals", "aws:TagKeys", json!(["a"]), &[], true);
        check("ForAnyValue:StringEquals", "aws:TagKeys", json!(["a"]), &[], false);
        check("ForAnyValue:StringEquals", "aws:TagKeys", json!(["a"]), &[("aws:tagkeys", &["c", "a"])], true);
        check("ForAnyValue:StringNotEquals", "aws:TagKeys", json!(["a"]), &[("aws:tagkeys", &["a"])], false);
        check("ForAllValues:StringNotEquals", "aws:TagKeys", json!(["a"]), &[("aws:tagkeys", &["b", "c"])], true);
    }
}
