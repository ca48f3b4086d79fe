//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`) and the
//! `${*}`, `${?}`, `${$}` escapes, substituted at evaluation time from the request context.

use crate::pattern::Token;
use crate::request::Context;

/// A policy string that may hold variables, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text as written: `*` and `?` are wildcards where the operator allows them.
    Text(String),
    /// A character from an escape: always literal.
    Literal(char),
    /// `${key}` or `${key, 'default'}`; the key is lower-cased.
    Variable { key: String, default: Option<String> },
}

impl Template {
    /// Parses `text`; with `variables` false (policies without `"Version": "2012-10-17"`),
    /// `${...}` is ordinary text.
    pub fn parse(text: &str, variables: bool) -> Template {
        if !variables || !text.contains("${") {
            return Template { parts: vec![Part::Text(text.to_string())] };
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(length) = rest.get(start + 2..).and_then(|after| after.find('}')) else { break };
            let inner = rest.get(start + 2..start + 2 + length).unwrap_or_default();
            if start > 0 {
                parts.push(Part::Text(rest.get(..start).unwrap_or_default().to_string()));
            }
            parts.push(match inner {
                "*" => Part::Literal('*'),
                "?" => Part::Literal('?'),
                "$" => Part::Literal('$'),
                _ => parse_variable(inner),
            });
            rest = rest.get(start + 3 + length..).unwrap_or_default();
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Template { parts }
    }

    pub fn has_variables(&self) -> bool {
        self.parts.iter().any(|part| !matches!(part, Part::Text(_)))
    }

    /// Whether substitution reads the context key `key` (lower-cased).
    pub fn reads(&self, key: &str) -> bool {
        self.parts.iter().any(|part| matches!(part, Part::Variable { key: variable, .. } if variable == key))
    }

    /// The tokens of the pattern after substitution; `None` when a variable has no value and
    /// no default (AWS then treats the value as matching nothing).
    pub fn tokens(&self, context: &Context) -> Option<Vec<Token>> {
        let mut tokens = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => tokens.extend(text.chars().map(|character| match character {
                    '*' => Token::Star,
                    '?' => Token::One,
                    other => Token::Char(other),
                })),
                Part::Literal(character) => tokens.push(Token::Char(*character)),
                Part::Variable { key, default } => {
                    let value = context.single(key).or(default.as_deref())?;
                    tokens.extend(value.chars().map(Token::Char));
                }
            }
        }
        Some(tokens)
    }

    /// The text after substitution, for operators without wildcards.
    pub fn text(&self, context: &Context) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(value) => text.push_str(value),
                Part::Literal(character) => text.push(*character),
                Part::Variable { key, default } => text.push_str(context.single(key).or(default.as_deref())?),
            }
        }
        Some(text)
    }

    /// The text as written, when it has no variables.
    pub fn plain(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Text(text)] => Some(text),
            [] => Some(""),
            _ => None,
        }
    }
}

fn parse_variable(inner: &str) -> Part {
    match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default.strip_prefix('\'').and_then(|value| value.strip_suffix('\'')).unwrap_or(default);
            Part::Variable { key: key.trim().to_lowercase(), default: Some(default.to_string()) }
        }
        None => Part::Variable { key: inner.trim().to_lowercase(), default: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Context;

    fn check(template: &str, context: &[(&str, &str)], expected: Option<&str>) {
        let mut values = Context::default();
        for (key, value) in context {
            values.insert(key, vec![value.to_string()]);
        }
        assert_eq!(Template::parse(template, true).text(&values).as_deref(), expected, "{template}");
    }

    #[test]
    fn substitutes_variables_defaults_and_escapes() {
        check("home/${aws:username}/*", &[("aws:username", "alice")], Some("home/alice/*"));
        check("home/${AWS:UserName}", &[("aws:username", "alice")], Some("home/alice"));
        check("home/${aws:username}", &[], None);
        check("${aws:PrincipalTag/team, 'company-wide'}", &[], Some("company-wide"));
        check("${aws:PrincipalTag/team, 'company-wide'}", &[("aws:principaltag/team", "red")], Some("red"));
        check("a${*}b${?}c${$}d", &[], Some("a*b?c$d"));
        check("no variables", &[], Some("no variables"));
        check("${unterminated", &[], Some("${unterminated"));
    }

    #[test]
    fn escapes_are_literal_in_patterns() {
        let context = Context::default();
        let tokens = Template::parse("a${*}", true).tokens(&context).unwrap_or_default();
        assert_eq!(tokens, vec![Token::Char('a'), Token::Char('*')]);
        let without_version = Template::parse("${aws:username}", false);
        assert_eq!(without_version.text(&context).as_deref(), Some("${aws:username}"));
    }
}
