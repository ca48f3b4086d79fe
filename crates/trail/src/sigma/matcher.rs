//! Compiled field tests: one Sigma `field|modifiers: values` entry turned, once, into matchers
//! that run on parsed records without looking at YAML again.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use regex::Regex;

use crate::value::{Fields, Value};

/// A dotted field path (`userIdentity.sessionContext.sessionIssuer.type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub full: String,
    parts: Vec<String>,
}

impl FieldPath {
    pub fn new(full: &str) -> FieldPath {
        FieldPath { full: full.to_string(), parts: full.split('.').map(str::to_string).collect() }
    }

    /// Calls `test` on every value at the path (array elements one by one; arrays on the way
    /// are searched element by element) until it returns true.
    pub fn any_leaf(&self, event: &Value<'_>, test: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
        if self.parts.len() > 1
            && let Some(value) = event.get(&self.full)
        {
            return leaf(value, test);
        }
        walk(event, &self.parts, test)
    }

    /// The first scalar at the path, as text.
    pub fn first_text(&self, event: &Value<'_>) -> Option<String> {
        let mut found = None;
        self.any_leaf(event, &mut |value| {
            found = value.scalar_text().map(|text| text.into_owned());
            found.is_some()
        });
        found
    }

    /// The field is present with a non-null value.
    pub fn exists(&self, event: &Value<'_>) -> bool {
        self.any_leaf(event, &mut |value| !value.is_null())
    }
}

fn leaf(value: &Value<'_>, test: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(&mut *test),
        other => test(other),
    }
}

fn walk(value: &Value<'_>, parts: &[String], test: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
    match parts.split_first() {
        None => leaf(value, test),
        Some((first, rest)) => match value {
            Value::Object(_) => value.get(first).is_some_and(|child| walk(child, rest, test)),
            Value::Array(items) => items.iter().any(|item| walk(item, parts, test)),
            _ => false,
        },
    }
}

/// How a field reference compares the two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// One compiled value test.
#[derive(Debug, Clone)]
pub enum Matcher {
    Equals {
        text: String,
        cased: bool,
    },
    StartsWith {
        text: String,
        cased: bool,
    },
    EndsWith {
        text: String,
        cased: bool,
    },
    Contains(AhoCorasick),
    /// Any scalar (the pattern `*`).
    AnyScalar,
    /// A wildcard pattern or a `re` regular expression.
    Regex(Regex),
    Cidr(ipnet::IpNet),
    Compare(Comparison, f64),
    Number(f64),
    Bool(bool),
    /// The field is absent or null.
    Null,
    /// `exists: true/false`.
    Exists(bool),
    FieldRef {
        path: FieldPath,
        kind: RefKind,
        cased: bool,
    },
    /// Any of several variants (base64offset, windash, expand of one value).
    AnyOf(Vec<Matcher>),
}

fn starts_with(text: &str, prefix: &str, cased: bool) -> bool {
    text.len() >= prefix.len() && {
        let head = &text.as_bytes()[..prefix.len()];
        if cased { head == prefix.as_bytes() } else { head.eq_ignore_ascii_case(prefix.as_bytes()) }
    }
}

fn ends_with(text: &str, suffix: &str, cased: bool) -> bool {
    text.len() >= suffix.len() && {
        let tail = &text.as_bytes()[text.len() - suffix.len()..];
        if cased { tail == suffix.as_bytes() } else { tail.eq_ignore_ascii_case(suffix.as_bytes()) }
    }
}

fn equals(text: &str, other: &str, cased: bool) -> bool {
    if cased { text == other } else { text.eq_ignore_ascii_case(other) }
}

impl Matcher {
    /// Adds the other fields this matcher reads (field references) to `fields`.
    fn add_fields(&self, fields: &mut Fields) {
        match self {
            Matcher::FieldRef { path, .. } => fields.add_path(&path.full),
            Matcher::AnyOf(variants) => variants.iter().for_each(|variant| variant.add_fields(fields)),
            _ => {}
        }
    }

    /// Whether this matcher tests the field's presence rather than its values.
    fn is_presence(&self) -> bool {
        matches!(self, Matcher::Null | Matcher::Exists(_))
    }

    /// Tests the field at `path` of `event`.
    pub fn matches_field(&self, path: &FieldPath, event: &Value<'_>) -> bool {
        match self {
            Matcher::Null => !path.exists(event),
            Matcher::Exists(expected) => path.exists(event) == *expected,
            Matcher::AnyOf(variants) if variants.iter().any(Matcher::is_presence) => variants.iter().any(|variant| variant.matches_field(path, event)),
            _ => path.any_leaf(event, &mut |value| self.matches_value(value, event)),
        }
    }

    /// Tests one value (a leaf of the field).
    pub fn matches_value(&self, value: &Value<'_>, event: &Value<'_>) -> bool {
        match self {
            Matcher::Equals { text, cased } => value.scalar_text().is_some_and(|found| equals(&found, text, *cased)),
            Matcher::StartsWith { text, cased } => value.scalar_text().is_some_and(|found| starts_with(&found, text, *cased)),
            Matcher::EndsWith { text, cased } => value.scalar_text().is_some_and(|found| ends_with(&found, text, *cased)),
            Matcher::Contains(automaton) => value.scalar_text().is_some_and(|found| automaton.is_match(found.as_ref())),
            Matcher::AnyScalar => value.scalar_text().is_some(),
            Matcher::Regex(regex) => value.scalar_text().is_some_and(|found| regex.is_match(&found)),
            Matcher::Cidr(network) => {
                value.as_str().and_then(|text| text.trim().parse::<std::net::IpAddr>().ok()).is_some_and(|address| network.contains(&address))
            }
            Matcher::Compare(comparison, bound) => value.as_f64().is_some_and(|number| match comparison {
                Comparison::Less => number < *bound,
                Comparison::LessOrEqual => number <= *bound,
                Comparison::Greater => number > *bound,
                Comparison::GreaterOrEqual => number >= *bound,
            }),
            Matcher::Number(expected) => value.as_f64().is_some_and(|number| number == *expected),
            Matcher::Bool(expected) => match value {
                Value::Bool(flag) => flag == expected,
                Value::String(text) => text.eq_ignore_ascii_case(if *expected { "true" } else { "false" }),
                _ => false,
            },
            Matcher::Null => value.is_null(),
            Matcher::Exists(expected) => value.is_null() != *expected,
            Matcher::FieldRef { path, kind, cased } => {
                let Some(found) = value.scalar_text() else { return false };
                path.any_leaf(event, &mut |other| {
                    other.scalar_text().is_some_and(|reference| match kind {
                        RefKind::Equals => equals(&found, &reference, *cased),
                        RefKind::StartsWith => starts_with(&found, &reference, *cased),
                        RefKind::EndsWith => ends_with(&found, &reference, *cased),
                        RefKind::Contains => {
                            if *cased {
                                found.contains(reference.as_ref())
                            } else {
                                found.to_lowercase().contains(&reference.to_lowercase())
                            }
                        }
                    })
                })
            }
            Matcher::AnyOf(variants) => variants.iter().any(|variant| variant.matches_value(value, event)),
        }
    }
}

/// One `field|modifiers: values` entry.
#[derive(Debug, Clone)]
pub struct FieldTest {
    pub path: FieldPath,
    pub combine: Combine,
}

#[derive(Debug, Clone)]
pub enum Combine {
    /// At least one value matches (the default for a list).
    Any(Vec<Matcher>),
    /// Every value matches (`|all`).
    All(Vec<Matcher>),
    /// Many plain substrings: one multi-pattern automaton pass, plus the other matchers.
    AnyContains { automaton: AhoCorasick, others: Vec<Matcher> },
}

impl FieldTest {
    pub fn matches(&self, event: &Value<'_>) -> bool {
        match &self.combine {
            Combine::Any(matchers) => match matchers.as_slice() {
                [single] => single.matches_field(&self.path, event),
                _ if matchers.iter().any(Matcher::is_presence) => matchers.iter().any(|matcher| matcher.matches_field(&self.path, event)),
                _ => self.path.any_leaf(event, &mut |value| matchers.iter().any(|matcher| matcher.matches_value(value, event))),
            },
            Combine::All(matchers) => matchers.iter().all(|matcher| matcher.matches_field(&self.path, event)),
            Combine::AnyContains { automaton, others } => {
                self.path.any_leaf(event, &mut |value| {
                    value.scalar_text().is_some_and(|text| automaton.is_match(text.as_ref()))
                        || others.iter().any(|matcher| matcher.matches_value(value, event))
                }) || others.iter().any(|matcher| matcher.is_presence() && matcher.matches_field(&self.path, event))
            }
        }
    }

    /// Adds the fields this test reads (its own, and those its field references name).
    pub fn add_fields(&self, fields: &mut Fields) {
        fields.add_path(&self.path.full);
        match &self.combine {
            Combine::Any(matchers) | Combine::All(matchers) | Combine::AnyContains { others: matchers, .. } => {
                matchers.iter().for_each(|matcher| matcher.add_fields(fields))
            }
        }
    }

    /// The exact values this test requires, when it is a plain case-insensitive equality on
    /// a list of literals (used to index rules by eventName and eventSource).
    pub fn exact_values(&self) -> Option<Vec<String>> {
        match &self.combine {
            Combine::Any(matchers) => {
                matchers.iter().map(|matcher| if let Matcher::Equals { text, .. } = matcher { Some(text.to_ascii_lowercase()) } else { None }).collect()
            }
            Combine::All(matchers) => match matchers.as_slice() {
                [Matcher::Equals { text, .. }] => Some(vec![text.to_ascii_lowercase()]),
                _ => None,
            },
            Combine::AnyContains { .. } => None,
        }
    }
}

/// Options that complete rules at compile time.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Values for `%placeholder%` names used with the `expand` modifier.
    pub placeholders: HashMap<String, Vec<String>>,
    /// The records the rules will run on: a rule whose `logsource` cannot describe them is
    /// rejected with the reason.
    pub target: Target,
}

/// The kind of records a rule set runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Target {
    /// AWS CloudTrail records (`logsource: product aws, service cloudtrail`).
    #[default]
    CloudTrail,
    /// Linux host logs (`logsource: product linux`): syslog and journald records of the
    /// services in [`LINUX_SERVICES`], and auditd records.
    Linux,
}

/// The `logsource` services of Linux logs that vigil's host log collection produces.
pub const LINUX_SERVICES: &[&str] = &["auth", "sshd", "syslog", "sudo", "cron", "auditd", "vsftpd", "clamav", "guacamole", "su", "login"];

/// A value from the rule's YAML, reduced to what Sigma allows.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    Null,
    Bool(bool),
    Number(f64, String),
    String(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
    Cidr,
    Compare(Comparison),
    Exists,
    FieldRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    Base64,
    Base64Offset,
    Windash,
    Expand,
}

/// Compiles one detection entry. `modifiers` are the names after the field (`contains`, `all`...).
pub fn compile_field(field: &str, modifiers: &[&str], values: &[RuleValue], options: &CompileOptions) -> Result<FieldTest, String> {
    let mut kind = Kind::Plain;
    let mut all = false;
    let mut cased = false;
    let mut transforms = Vec::new();
    let (mut regex_case_insensitive, mut regex_multi_line, mut regex_dot_all) = (false, false, false);
    let set_kind = |kind: &mut Kind, new: Kind, name: &str| -> Result<(), String> {
        match (*kind, new) {
            (Kind::Plain, _) => {
                *kind = new;
                Ok(())
            }
            // `fieldref|contains` and friends refine the field reference.
            (Kind::FieldRef, Kind::Contains | Kind::StartsWith | Kind::EndsWith) | (Kind::Contains | Kind::StartsWith | Kind::EndsWith, Kind::FieldRef) => {
                *kind = Kind::FieldRef;
                Ok(())
            }
            _ => Err(format!("modifier `{name}` cannot be combined with the modifiers before it")),
        }
    };
    let mut ref_kind = RefKind::Equals;
    for modifier in modifiers {
        match *modifier {
            "contains" => {
                ref_kind = RefKind::Contains;
                set_kind(&mut kind, Kind::Contains, modifier)?
            }
            "startswith" => {
                ref_kind = RefKind::StartsWith;
                set_kind(&mut kind, Kind::StartsWith, modifier)?
            }
            "endswith" => {
                ref_kind = RefKind::EndsWith;
                set_kind(&mut kind, Kind::EndsWith, modifier)?
            }
            "re" => set_kind(&mut kind, Kind::Regex, modifier)?,
            "i" if kind == Kind::Regex => regex_case_insensitive = true,
            "m" if kind == Kind::Regex => regex_multi_line = true,
            "s" if kind == Kind::Regex => regex_dot_all = true,
            "cidr" => set_kind(&mut kind, Kind::Cidr, modifier)?,
            "lt" => set_kind(&mut kind, Kind::Compare(Comparison::Less), modifier)?,
            "lte" => set_kind(&mut kind, Kind::Compare(Comparison::LessOrEqual), modifier)?,
            "gt" => set_kind(&mut kind, Kind::Compare(Comparison::Greater), modifier)?,
            "gte" => set_kind(&mut kind, Kind::Compare(Comparison::GreaterOrEqual), modifier)?,
            "exists" => set_kind(&mut kind, Kind::Exists, modifier)?,
            "fieldref" => set_kind(&mut kind, Kind::FieldRef, modifier)?,
            "all" => all = true,
            "cased" => cased = true,
            "base64" => transforms.push(Transform::Base64),
            "base64offset" => transforms.push(Transform::Base64Offset),
            "windash" => transforms.push(Transform::Windash),
            "expand" => transforms.push(Transform::Expand),
            "wide" | "utf16" | "utf16le" | "utf16be" => {
                return Err(format!("modifier `{modifier}` (UTF-16 encodings) is not supported: CloudTrail and host log records are UTF-8 text"));
            }
            other => return Err(format!("unknown or unsupported modifier `{other}`")),
        }
    }
    if !transforms.is_empty() && !matches!(kind, Kind::Plain | Kind::Contains | Kind::StartsWith | Kind::EndsWith) {
        return Err("base64, base64offset, windash and expand apply only to string matches".to_string());
    }
    let mut matchers = Vec::with_capacity(values.len());
    for value in values {
        let matcher = match (kind, value) {
            (Kind::Exists, RuleValue::Bool(expected)) => Matcher::Exists(*expected),
            (Kind::Exists, other) => return Err(format!("`exists` needs true or false, not {other:?}")),
            (Kind::Compare(comparison), RuleValue::Number(number, _)) => Matcher::Compare(comparison, *number),
            (Kind::Compare(comparison), RuleValue::String(text)) => {
                Matcher::Compare(comparison, text.trim().parse().map_err(|_| format!("`{text}` is not a number for lt/lte/gt/gte"))?)
            }
            (Kind::Compare(_), other) => return Err(format!("lt/lte/gt/gte need a number, not {other:?}")),
            (_, RuleValue::Null) => Matcher::Null,
            (Kind::Plain, RuleValue::Bool(flag)) if transforms.is_empty() => Matcher::Bool(*flag),
            (Kind::Plain, RuleValue::Number(number, _)) if transforms.is_empty() => Matcher::Number(*number),
            (Kind::Regex, value) => {
                let pattern = text_of(value);
                let regex = regex::RegexBuilder::new(&pattern)
                    .case_insensitive(regex_case_insensitive)
                    .multi_line(regex_multi_line)
                    .dot_matches_new_line(regex_dot_all)
                    .build()
                    .map_err(|error| format!("invalid regular expression `{pattern}`: {error}"))?;
                Matcher::Regex(regex)
            }
            (Kind::Cidr, value) => {
                let text = text_of(value);
                let network = text
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("`{text}` is not a CIDR range"))?;
                Matcher::Cidr(network)
            }
            (Kind::FieldRef, value) => Matcher::FieldRef { path: FieldPath::new(&text_of(value)), kind: ref_kind, cased },
            (_, value) => {
                let variants = apply_transforms(&text_of(value), &transforms, options)?;
                let mut compiled: Vec<Matcher> = variants.iter().map(|variant| compile_string(variant, kind, cased)).collect::<Result<_, _>>()?;
                if compiled.len() == 1 { compiled.remove(0) } else { Matcher::AnyOf(compiled) }
            }
        };
        matchers.push(matcher);
    }
    let combine = if all {
        Combine::All(matchers)
    } else {
        let (contains, others): (Vec<Matcher>, Vec<Matcher>) = matchers.into_iter().partition(|matcher| matches!(matcher, Matcher::Contains(_)));
        if contains.len() >= 2 && !cased {
            let needles = contains_needles(field, modifiers, values, options, kind, &transforms)?;
            match needles {
                Some(needles) if needles.len() == contains.len() => {
                    let automaton = AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build(&needles)
                        .map_err(|error| format!("cannot build the substring automaton: {error}"))?;
                    Combine::AnyContains { automaton, others }
                }
                _ => Combine::Any(contains.into_iter().chain(others).collect()),
            }
        } else {
            Combine::Any(contains.into_iter().chain(others).collect())
        }
    };
    Ok(FieldTest { path: FieldPath::new(field), combine })
}

/// The literal needles of values that compiled to plain `Contains` matchers.
fn contains_needles(
    _field: &str,
    _modifiers: &[&str],
    values: &[RuleValue],
    options: &CompileOptions,
    kind: Kind,
    transforms: &[Transform],
) -> Result<Option<Vec<String>>, String> {
    let mut needles = Vec::new();
    for value in values {
        for variant in apply_transforms(&text_of(value), transforms, options)? {
            let mut tokens = glob_tokens(&variant);
            wrap(&mut tokens, kind);
            if let [GlobToken::Star, GlobToken::Literal(text), GlobToken::Star] = tokens.as_slice() {
                needles.push(text.clone());
            }
        }
    }
    Ok(Some(needles))
}

fn text_of(value: &RuleValue) -> String {
    match value {
        RuleValue::Null => String::new(),
        RuleValue::Bool(flag) => flag.to_string(),
        RuleValue::Number(_, text) => text.clone(),
        RuleValue::String(text) => text.clone(),
    }
}

fn apply_transforms(text: &str, transforms: &[Transform], options: &CompileOptions) -> Result<Vec<String>, String> {
    let mut variants = vec![text.to_string()];
    for transform in transforms {
        let mut next = Vec::new();
        for variant in &variants {
            match transform {
                Transform::Base64 => next.push(base64::engine::general_purpose::STANDARD.encode(variant.as_bytes())),
                Transform::Base64Offset => next.extend(base64_offsets(variant.as_bytes())),
                Transform::Windash => next.extend(windash(variant)),
                Transform::Expand => next.extend(expand(variant, options)?),
            }
        }
        variants = next;
    }
    Ok(variants)
}

/// The three encodings of `value` at byte offsets 0, 1 and 2 of a base64 stream, trimmed of the
/// characters that depend on the neighbouring bytes.
pub fn base64_offsets(value: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut padded = vec![b' '; shift];
            padded.extend_from_slice(value);
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            let trim = END_TRIM[(value.len() + shift) % 3];
            let end = encoded.len().saturating_sub(trim);
            encoded.get(START[shift]..end.max(START[shift])).unwrap_or_default().to_string()
        })
        .collect()
}

const WINDASH_CHARACTERS: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Variants of a command line with option dashes replaced by the other characters Windows
/// accepts for them.
fn windash(text: &str) -> Vec<String> {
    WINDASH_CHARACTERS
        .iter()
        .map(|replacement| {
            let mut out = String::with_capacity(text.len());
            let mut previous: Option<char> = None;
            for character in text.chars() {
                if character == '-' && previous.is_none_or(char::is_whitespace) {
                    out.push(*replacement);
                } else {
                    out.push(character);
                }
                previous = Some(character);
            }
            out
        })
        .collect()
}

fn expand(text: &str, options: &CompileOptions) -> Result<Vec<String>, String> {
    let Some(start) = text.find('%') else { return Ok(vec![text.to_string()]) };
    let Some(length) = text[start + 1..].find('%') else { return Ok(vec![text.to_string()]) };
    let name = &text[start + 1..start + 1 + length];
    let values = options.placeholders.get(name).ok_or_else(|| format!("placeholder `%{name}%` has no value (supply it with --placeholder {name}=VALUE)"))?;
    let rest = &text[start + length + 2..];
    let mut out = Vec::new();
    for value in values {
        for tail in expand(rest, options)? {
            out.push(format!("{}{value}{tail}", &text[..start]));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobToken {
    Literal(String),
    Star,
    Question,
}

/// Splits a Sigma string into literals and wildcards: `*` any run, `?` one character, and a
/// backslash escaping `*`, `?` or a backslash (before any other character it is literal).
pub fn glob_tokens(text: &str) -> Vec<GlobToken> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    literal.push(next);
                    chars.next();
                }
                _ => literal.push('\\'),
            },
            '*' | '?' => {
                if !literal.is_empty() {
                    tokens.push(GlobToken::Literal(std::mem::take(&mut literal)));
                }
                let token = if character == '*' { GlobToken::Star } else { GlobToken::Question };
                if !(token == GlobToken::Star && tokens.last() == Some(&GlobToken::Star)) {
                    tokens.push(token);
                }
            }
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        tokens.push(GlobToken::Literal(literal));
    }
    tokens
}

fn wrap(tokens: &mut Vec<GlobToken>, kind: Kind) {
    if matches!(kind, Kind::Contains | Kind::EndsWith) && tokens.first() != Some(&GlobToken::Star) {
        tokens.insert(0, GlobToken::Star);
    }
    if matches!(kind, Kind::Contains | Kind::StartsWith) && tokens.last() != Some(&GlobToken::Star) {
        tokens.push(GlobToken::Star);
    }
}

fn compile_string(text: &str, kind: Kind, cased: bool) -> Result<Matcher, String> {
    let mut tokens = glob_tokens(text);
    wrap(&mut tokens, kind);
    Ok(match tokens.as_slice() {
        [] => Matcher::Equals { text: String::new(), cased },
        [GlobToken::Literal(text)] => Matcher::Equals { text: text.clone(), cased },
        [GlobToken::Literal(text), GlobToken::Star] => Matcher::StartsWith { text: text.clone(), cased },
        [GlobToken::Star, GlobToken::Literal(text)] => Matcher::EndsWith { text: text.clone(), cased },
        [GlobToken::Star] => Matcher::AnyScalar,
        [GlobToken::Star, GlobToken::Literal(text), GlobToken::Star] if !cased => Matcher::Contains(
            AhoCorasick::builder().ascii_case_insensitive(true).build([text]).map_err(|error| format!("cannot build the substring automaton: {error}"))?,
        ),
        _ => {
            let mut pattern = String::from(if cased { "(?s)^" } else { "(?is)^" });
            for token in &tokens {
                match token {
                    GlobToken::Literal(text) => pattern.push_str(&regex::escape(text)),
                    GlobToken::Star => pattern.push_str(".*"),
                    GlobToken::Question => pattern.push('.'),
                }
            }
            pattern.push('$');
            Matcher::Regex(Regex::new(&pattern).map_err(|error| format!("cannot compile the wildcard pattern `{text}`: {error}"))?)
        }
    })
}
