//! Event search and summaries: a small filter language over record fields ("who did what,
//! when") and the top principals, source addresses, actions and errors of a set of records.
//!
//! Grammar: `expr := or`, `or := and ("or" and)*`, `and := not ("and" not)*`,
//! `not := "not" not | "(" expr ")" | FIELD ("=" | "!=") VALUE`. Values may be quoted with
//! `"` or `'`; unquoted values run to the next space or parenthesis. Comparison is Sigma's:
//! case-insensitive, `*` and `?` wildcards, `\` escapes; a field that is absent equals nothing.

use std::collections::HashMap;

use crate::hunt::principal;
use crate::sigma::RuleValue;
use crate::sigma::matcher::{CompileOptions, FieldTest, compile_field};
use crate::value::Value;

/// A compiled filter.
#[derive(Debug, Clone)]
pub enum Filter {
    Test(Box<FieldTest>),
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

impl Filter {
    pub fn matches(&self, event: &Value<'_>) -> bool {
        match self {
            Filter::Test(test) => test.matches(event),
            Filter::Not(inner) => !inner.matches(event),
            Filter::And(items) => items.iter().all(|item| item.matches(event)),
            Filter::Or(items) => items.iter().any(|item| item.matches(event)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid filter `{text}`: {reason}")]
pub struct FilterError {
    pub text: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Equals,
    NotEquals,
    Word(String),
    Quoted(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&character) = chars.peek() {
        match character {
            _ if character.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '=' => {
                chars.next();
                tokens.push(Token::Equals);
            }
            '!' => {
                chars.next();
                if chars.next() != Some('=') {
                    return Err("`!` must be followed by `=`".to_string());
                }
                tokens.push(Token::NotEquals);
            }
            '"' | '\'' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(format!("unclosed {character}")),
                        Some(close) if close == character => break,
                        Some(other) => value.push(other),
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | '=' | '!' | '"' | '\'') {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// Parses a filter expression.
pub fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    let error = |reason: String| FilterError { text: text.to_string(), reason };
    let tokens = tokenize(text).map_err(error)?;
    if tokens.is_empty() {
        return Err(error("the filter is empty".to_string()));
    }
    let mut parser = Parser { tokens, position: 0 };
    let filter = parser.or().map_err(error)?;
    if parser.position < parser.tokens.len() {
        return Err(error(format!("unexpected {:?}", parser.tokens[parser.position])));
    }
    Ok(filter)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

fn is_keyword(token: Option<&Token>, keyword: &str) -> bool {
    matches!(token, Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword))
}

impl Parser {
    fn or(&mut self) -> Result<Filter, String> {
        let mut items = vec![self.and()?];
        while is_keyword(self.tokens.get(self.position), "or") {
            self.position += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Filter::Or(items) })
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut items = vec![self.not()?];
        while is_keyword(self.tokens.get(self.position), "and") {
            self.position += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Filter::And(items) })
    }

    fn not(&mut self) -> Result<Filter, String> {
        if is_keyword(self.tokens.get(self.position), "not") {
            self.position += 1;
            return Ok(Filter::Not(Box::new(self.not()?)));
        }
        match self.tokens.get(self.position).cloned() {
            Some(Token::Open) => {
                self.position += 1;
                let inner = self.or()?;
                if self.tokens.get(self.position) != Some(&Token::Close) {
                    return Err("expected `)`".to_string());
                }
                self.position += 1;
                Ok(inner)
            }
            Some(Token::Word(field)) => {
                self.position += 1;
                let negate = match self.tokens.get(self.position) {
                    Some(Token::Equals) => false,
                    Some(Token::NotEquals) => true,
                    _ => return Err(format!("expected `=` or `!=` after `{field}`")),
                };
                self.position += 1;
                let value = match self.tokens.get(self.position) {
                    Some(Token::Word(value) | Token::Quoted(value)) => value.clone(),
                    _ => return Err(format!("expected a value after `{field}{}`", if negate { "!=" } else { "=" })),
                };
                self.position += 1;
                let test = compile_field(&field, &[], &[RuleValue::String(value)], &CompileOptions::default())?;
                let test = Filter::Test(Box::new(test));
                Ok(if negate { Filter::Not(Box::new(test)) } else { test })
            }
            other => Err(format!("expected a comparison, `not` or `(`, found {other:?}")),
        }
    }
}

/// Counts over a set of records.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub records: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    pub principals: HashMap<String, u64>,
    pub source_ips: HashMap<String, u64>,
    pub actions: HashMap<String, u64>,
    pub errors: HashMap<String, u64>,
    pub regions: HashMap<String, u64>,
}

impl Summary {
    pub fn add(&mut self, event: &Value<'_>) {
        self.records += 1;
        if let Some(time) = event.get("eventTime").and_then(Value::as_str) {
            // RFC 3339 times in UTC compare as text.
            if self.first_time.as_deref().is_none_or(|first| time < first) {
                self.first_time = Some(time.to_string());
            }
            if self.last_time.as_deref().is_none_or(|last| time > last) {
                self.last_time = Some(time.to_string());
            }
        }
        let bump = |map: &mut HashMap<String, u64>, key: Option<String>| {
            if let Some(key) = key {
                *map.entry(key).or_default() += 1;
            }
        };
        bump(&mut self.principals, principal(event));
        bump(&mut self.source_ips, event.get("sourceIPAddress").and_then(Value::as_str).map(str::to_string));
        let source = event.get("eventSource").and_then(Value::as_str).unwrap_or("-");
        let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
        bump(&mut self.actions, event.get("eventName").and_then(Value::as_str).map(|name| format!("{service}:{name}")));
        bump(&mut self.errors, event.get("errorCode").and_then(Value::as_str).map(str::to_string));
        bump(&mut self.regions, event.get("awsRegion").and_then(Value::as_str).map(str::to_string));
    }

    pub fn merge(mut self, other: Summary) -> Summary {
        self.records += other.records;
        self.first_time = match (self.first_time, other.first_time) {
            (Some(left), Some(right)) => Some(left.min(right)),
            (left, right) => left.or(right),
        };
        self.last_time = match (self.last_time, other.last_time) {
            (Some(left), Some(right)) => Some(left.max(right)),
            (left, right) => left.or(right),
        };
        for (mine, theirs) in [
            (&mut self.principals, other.principals),
            (&mut self.source_ips, other.source_ips),
            (&mut self.actions, other.actions),
            (&mut self.errors, other.errors),
            (&mut self.regions, other.regions),
        ] {
            for (key, count) in theirs {
                *mine.entry(key).or_default() += count;
            }
        }
        self
    }
}

/// The `limit` largest counts, largest first (ties by name).
pub fn top(map: &HashMap<String, u64>, limit: usize) -> Vec<(String, u64)> {
    let mut entries: Vec<(String, u64)> = map.iter().map(|(key, count)| (key.clone(), *count)).collect();
    entries.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
    entries.truncate(limit);
    entries
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(filter: &str, expected: Result<bool, &str>) {
        let event = Value::from_json(&json!({
            "eventName": "DeleteBucket",
            "eventSource": "s3.amazonaws.com",
            "userIdentity": {"arn": "arn:aws:iam::1:user/x", "type": "IAMUser"},
            "sourceIPAddress": "1.2.3.4"
        }));
        match (parse_filter(filter), expected) {
            (Ok(compiled), Ok(expected)) => assert_eq!(compiled.matches(&event), expected, "{filter}"),
            (Err(error), Err(expected)) => assert!(error.to_string().contains(expected), "{error}"),
            (got, expected) => panic!("{filter}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn filter_language() {
        check("userIdentity.arn=arn:aws:iam::1:user/x and eventName=Delete*", Ok(true));
        check("eventName=delete*", Ok(true));
        check("eventName=Create*", Ok(false));
        check("eventName!=Create*", Ok(true));
        check("errorCode!=AccessDenied", Ok(true));
        check("errorCode=*", Ok(false));
        check("not eventName=DeleteBucket", Ok(false));
        check("eventName=Put* or sourceIPAddress=1.2.3.?", Ok(true));
        check("(eventName=Put* or eventName=Get*) and userIdentity.type=IAMUser", Ok(false));
        check("eventSource = \"s3.amazonaws.com\"", Ok(true));
        check("eventName='Delete Bucket'", Ok(false));
        check("eventName=", Err("expected a value"));
        check("eventName", Err("expected `=` or `!=`"));
        check("(eventName=x", Err("expected `)`"));
        check("", Err("empty"));
        check("eventName='x", Err("unclosed"));
    }

    #[test]
    fn summary_counts_and_merges() {
        let mut left = Summary::default();
        left.add(&Value::from_json(
            &json!({"eventTime": "2024-01-02T00:00:00Z", "eventName": "A", "eventSource": "s3.amazonaws.com", "userIdentity": {"arn": "u1"}}),
        ));
        let mut right = Summary::default();
        right.add(&Value::from_json(&json!({"eventTime": "2024-01-01T00:00:00Z", "eventName": "A", "eventSource": "s3.amazonaws.com", "errorCode": "AccessDenied", "userIdentity": {"type": "Root"}})));
        let summary = left.merge(right);
        assert_eq!(summary.records, 2);
        assert_eq!(summary.first_time.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(summary.last_time.as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(top(&summary.actions, 5), vec![("s3:A".to_string(), 2)]);
        assert_eq!(top(&summary.principals, 5), vec![("Root".to_string(), 1), ("u1".to_string(), 1)]);
        assert_eq!(top(&summary.errors, 5), vec![("AccessDenied".to_string(), 1)]);
    }
}
