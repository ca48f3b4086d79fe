//! The Sigma engine: rules (specification 2.x) parsed from YAML and compiled once into a
//! [`RuleSet`] that matches parsed records: CloudTrail records, or Linux host log records
//! (`CompileOptions::target`; one engine, one record model, [`crate::value::Value`]).
//!
//! Compilation turns every detection entry into typed matchers ([`matcher`]) and every
//! condition into an expression over search indices ([`condition`]); the YAML is not looked at
//! again. The rule set indexes rules by the `eventName` (else `eventSource`) values their
//! condition requires, so a record is only tested against the rules that can match it.
//! Loading is pure (text in, rules out); reading rule files is in [`files`].

pub mod condition;
pub mod correlation;
pub mod files;
pub mod matcher;
#[cfg(test)]
mod naive;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use serde_yaml::Value as Yaml;

use crate::value::{Fields, Value};
use condition::Expr;
pub use correlation::{CorrelationAlert, CorrelationRule};
pub use matcher::{CompileOptions, FieldPath, FieldTest, LINUX_SERVICES, RuleValue, Target};

/// A compiled detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: Option<String>,
    pub title: String,
    pub level: String,
    pub status: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    /// The file (and document) the rule came from.
    pub origin: String,
    pub logsource: LogSource,
    pub detection: Detection,
    /// The rule only feeds correlations (a correlation uses it without `generate: true`):
    /// its matches raise no alert of their own.
    pub correlation_only: bool,
}

/// A rule's `logsource` (lowercase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

impl LogSource {
    fn parse(yaml: &Yaml) -> LogSource {
        let field = |key: &str| yaml.get("logsource").and_then(|logsource| logsource.get(key)).and_then(Yaml::as_str).map(str::to_ascii_lowercase);
        LogSource { product: field("product"), service: field("service"), category: field("category") }
    }

    /// Whether a record from the given services is in this log source (a rule without a
    /// service applies to every record of its product).
    pub fn accepts<S: AsRef<str>>(&self, services: &[S]) -> bool {
        self.service.as_deref().is_none_or(|service| services.iter().any(|given| given.as_ref() == service))
    }
}

/// A rule's searches and condition.
#[derive(Debug, Clone)]
pub struct Detection {
    pub names: Vec<String>,
    pub searches: Vec<Search>,
    pub condition: Expr,
}

/// One search identifier's definition.
#[derive(Debug, Clone)]
pub enum Search {
    /// A map: every field test holds.
    Map(Vec<FieldTest>),
    /// A list of maps: at least one holds.
    AnyOf(Vec<Search>),
    /// A list of plain values: one of them appears in any string of the record.
    Keywords(Vec<matcher::Matcher>),
}

impl Search {
    pub fn matches(&self, event: &Value<'_>) -> bool {
        match self {
            Search::Map(tests) => tests.iter().all(|test| test.matches(event)),
            Search::AnyOf(searches) => searches.iter().any(|search| search.matches(event)),
            Search::Keywords(matchers) => any_string(event, &mut |value| matchers.iter().any(|matcher| matcher.matches_value(value, event))),
        }
    }

    /// Adds the fields this search reads; a keyword search reads every string of the record.
    fn add_fields(&self, fields: &mut Fields) {
        match self {
            Search::Map(tests) => tests.iter().for_each(|test| test.add_fields(fields)),
            Search::AnyOf(searches) => searches.iter().for_each(|search| search.add_fields(fields)),
            Search::Keywords(_) => *fields = Fields::All,
        }
    }

    /// The lowercase values of `field` that any match requires, when known.
    fn required(&self, field: &str) -> Option<BTreeSet<String>> {
        match self {
            Search::Map(tests) => {
                tests.iter().filter(|test| test.path.full == field).find_map(|test| test.exact_values().map(|values| values.into_iter().collect()))
            }
            Search::AnyOf(searches) => union(searches.iter().map(|search| search.required(field))),
            Search::Keywords(_) => None,
        }
    }
}

fn any_string(value: &Value<'_>, test: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
    match value {
        Value::Object(members) => members.iter().any(|(_, member)| any_string(member, test)),
        Value::Array(items) => items.iter().any(|item| any_string(item, test)),
        Value::Null => false,
        scalar => test(scalar),
    }
}

fn union(sets: impl Iterator<Item = Option<BTreeSet<String>>>) -> Option<BTreeSet<String>> {
    let mut all = BTreeSet::new();
    for set in sets {
        all.extend(set?);
    }
    Some(all)
}

fn intersect(sets: impl Iterator<Item = Option<BTreeSet<String>>>) -> Option<BTreeSet<String>> {
    sets.flatten().reduce(|left, right| left.intersection(&right).cloned().collect())
}

impl Rule {
    pub fn matches(&self, event: &Value<'_>) -> bool {
        let searches = &self.detection.searches;
        self.detection.condition.evaluate(&mut |index| searches.get(index).is_some_and(|search| search.matches(event)))
    }

    /// Adds the fields of a record the rule's detection reads.
    pub fn add_fields(&self, fields: &mut Fields) {
        self.detection.searches.iter().for_each(|search| search.add_fields(fields));
    }

    /// The lowercase values of `field` (eventName, eventSource) without which the rule cannot match.
    pub fn required(&self, field: &str) -> Option<BTreeSet<String>> {
        required_in(&self.detection.condition, &self.detection.searches, field)
    }
}

fn required_in(expr: &Expr, searches: &[Search], field: &str) -> Option<BTreeSet<String>> {
    match expr {
        Expr::Search(index) => searches.get(*index)?.required(field),
        Expr::Not(_) => None,
        Expr::And(items) => intersect(items.iter().map(|item| required_in(item, searches, field))),
        Expr::Or(items) => union(items.iter().map(|item| required_in(item, searches, field))),
        Expr::AllOf(indices) => intersect(indices.iter().map(|index| searches.get(*index).and_then(|search| search.required(field)))),
        Expr::OneOf(indices) => union(indices.iter().map(|index| searches.get(*index).and_then(|search| search.required(field)))),
    }
}

/// A rule that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    pub origin: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub reason: String,
    pub kind: RejectionKind,
}

/// Why a rule was not loaded, for callers that must tell a broken rule from one they may skip
/// (`vigil serve --host-rules` refuses to start on an invalid rule only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionKind {
    /// Malformed, or using what Sigma does not define (invalid YAML, no condition, an unknown
    /// modifier, a correlation referring to a rule that is not loaded).
    #[default]
    Invalid,
    /// A construct Sigma defines that this engine does not run (a keyword list with a
    /// modifier, Sigma 1 aggregations, rule collections, UTF-16 modifiers...). The messages of
    /// these, and only these, say "not supported".
    Unsupported,
    /// Well formed, but written for another log source than the target's (a Windows rule, a
    /// Linux rule needing process events): skipping it loses nothing the target could match.
    OtherLogSource,
}

impl RejectionKind {
    /// The kind of a rejection of a rule whose log source suits the target.
    fn of_reason(reason: &str) -> RejectionKind {
        if reason.contains("not supported") { RejectionKind::Unsupported } else { RejectionKind::Invalid }
    }
}

/// The rules of one or more YAML texts, with those that could not be loaded.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub rules: Vec<Rule>,
    pub correlations: Vec<correlation::CorrelationDraft>,
    pub rejected: Vec<Rejected>,
}

impl Loaded {
    pub fn extend(&mut self, other: Loaded) {
        self.rules.extend(other.rules);
        self.correlations.extend(other.correlations);
        self.rejected.extend(other.rejected);
    }
}

/// Parses every YAML document of `text` (from `origin`) into rules.
pub fn load_text(text: &str, origin: &str, options: &CompileOptions) -> Loaded {
    let mut loaded = Loaded::default();
    for (position, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let origin = if position == 0 { origin.to_string() } else { format!("{origin} (document {})", position + 1) };
        let yaml = match <Yaml as serde::Deserialize>::deserialize(document) {
            Ok(yaml) => yaml,
            Err(error) => {
                loaded.rejected.push(Rejected { origin, id: None, title: None, reason: format!("invalid YAML: {error}"), kind: RejectionKind::Invalid });
                break;
            }
        };
        if yaml.is_null() {
            continue;
        }
        let id = string_field(&yaml, "id");
        let title = string_field(&yaml, "title");
        let reject =
            |reason: String| Rejected { origin: origin.clone(), id: id.clone(), title: title.clone(), kind: RejectionKind::of_reason(&reason), reason };
        if yaml.get("correlation").is_some() {
            match correlation::parse(&yaml, &origin) {
                Ok(draft) => loaded.correlations.push(draft),
                Err(reason) => loaded.rejected.push(reject(reason)),
            }
            continue;
        }
        let collection = yaml.get("action").is_some() || yaml.get("filter").is_some();
        if !collection && let Err(reason) = check_logsource(&LogSource::parse(&yaml), options.target) {
            loaded.rejected.push(Rejected { kind: RejectionKind::OtherLogSource, ..reject(reason) });
            continue;
        }
        match parse_rule(&yaml, &origin, options) {
            Ok(rule) => loaded.rules.push(rule),
            Err(reason) => loaded.rejected.push(reject(reason)),
        }
    }
    loaded
}

fn string_field(yaml: &Yaml, key: &str) -> Option<String> {
    yaml.get(key).and_then(Yaml::as_str).map(str::to_string)
}

fn string_list(yaml: &Yaml, key: &str) -> Vec<String> {
    match yaml.get(key) {
        Some(Yaml::Sequence(items)) => items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect(),
        Some(Yaml::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

/// Whether a rule's `logsource` can describe the target's records.
fn check_logsource(logsource: &LogSource, target: Target) -> Result<(), String> {
    let (product, service, category) = (logsource.product.as_deref(), logsource.service.as_deref(), logsource.category.as_deref());
    match target {
        Target::CloudTrail => match (product, service) {
            (_, Some("cloudtrail")) | (Some("aws"), None) | (None, None) => Ok(()),
            (product, service) => Err(format!("not a CloudTrail rule (logsource product `{}`, service `{}`)", product.unwrap_or("-"), service.unwrap_or("-"))),
        },
        Target::Linux => {
            if product != Some("linux") {
                return Err(format!("not a Linux rule (logsource product `{}`)", product.unwrap_or("-")));
            }
            if let Some(category) = category {
                return Err(format!(
                    "logsource category `{category}` needs process, file or network events (Sysmon for Linux, eBPF), which vigil's host log collection does not produce"
                ));
            }
            match service {
                Some(service) if !LINUX_SERVICES.contains(&service) => {
                    Err(format!("logsource service `{service}` is not among the logs vigil collects ({})", LINUX_SERVICES.join(", ")))
                }
                _ => Ok(()),
            }
        }
    }
}

fn parse_rule(yaml: &Yaml, origin: &str, options: &CompileOptions) -> Result<Rule, String> {
    if let Some(action) = yaml.get("action").and_then(Yaml::as_str) {
        return Err(format!("rule collections (`action: {action}`) are not supported"));
    }
    if yaml.get("filter").is_some() {
        return Err("meta filter rules (`filter:`) are not supported".to_string());
    }
    let title = string_field(yaml, "title").ok_or("the rule has no `title`")?;
    let logsource = LogSource::parse(yaml);
    check_logsource(&logsource, options.target)?;
    let detection_yaml = yaml.get("detection").ok_or("the rule has no `detection`")?;
    let Yaml::Mapping(detection_map) = detection_yaml else { return Err("`detection` is not a map".to_string()) };
    if detection_map.contains_key("timeframe") {
        return Err("`timeframe` (Sigma 1 aggregations) is not supported; use a correlation rule".to_string());
    }
    let mut names = Vec::new();
    let mut searches = Vec::new();
    let mut conditions = Vec::new();
    for (key, value) in detection_map {
        let key = key.as_str().ok_or("a detection key is not a string")?;
        if key == "condition" {
            match value {
                Yaml::String(text) => conditions.push(text.clone()),
                Yaml::Sequence(items) => {
                    for item in items {
                        conditions.push(item.as_str().ok_or("a condition is not a string")?.to_string());
                    }
                }
                _ => return Err("`condition` is not a string".to_string()),
            }
            continue;
        }
        names.push(key.to_string());
        searches.push(compile_search(value, options).map_err(|reason| format!("search `{key}`: {reason}"))?);
    }
    if conditions.is_empty() {
        return Err("the detection has no `condition`".to_string());
    }
    let mut expressions = Vec::new();
    for text in &conditions {
        expressions.push(condition::parse(text, &names).map_err(|reason| format!("condition `{text}`: {reason}"))?);
    }
    let condition = if expressions.len() == 1 { expressions.remove(0) } else { Expr::Or(expressions) };
    let id = string_field(yaml, "id").unwrap_or_else(|| origin.to_string());
    Ok(Rule {
        id,
        name: string_field(yaml, "name"),
        title,
        level: string_field(yaml, "level").unwrap_or_else(|| "medium".to_string()),
        status: string_field(yaml, "status"),
        description: string_field(yaml, "description"),
        tags: string_list(yaml, "tags"),
        falsepositives: string_list(yaml, "falsepositives"),
        origin: origin.to_string(),
        logsource,
        detection: Detection { names, searches, condition },
        correlation_only: false,
    })
}

fn compile_search(value: &Yaml, options: &CompileOptions) -> Result<Search, String> {
    match value {
        Yaml::Mapping(map) => {
            let mut tests = Vec::with_capacity(map.len());
            for (key, values) in map {
                let key = match key {
                    Yaml::String(text) => text.clone(),
                    Yaml::Number(number) => number.to_string(),
                    _ => return Err("a field name is not a string".to_string()),
                };
                let mut parts = key.split('|');
                let field = parts.next().unwrap_or_default();
                let modifiers: Vec<&str> = parts.collect();
                if field.is_empty() {
                    return Err(format!("`{key}`: keyword searches with modifiers are not supported"));
                }
                let values = rule_values(values).map_err(|reason| format!("`{key}`: {reason}"))?;
                tests.push(matcher::compile_field(field, &modifiers, &values, options).map_err(|reason| format!("`{key}`: {reason}"))?);
            }
            Ok(Search::Map(tests))
        }
        Yaml::Sequence(items) if items.iter().all(|item| matches!(item, Yaml::Mapping(_))) && !items.is_empty() => {
            Ok(Search::AnyOf(items.iter().map(|item| compile_search(item, options)).collect::<Result<_, _>>()?))
        }
        Yaml::Sequence(items) if items.iter().all(|item| !matches!(item, Yaml::Mapping(_) | Yaml::Sequence(_))) => {
            let values = rule_values(value)?;
            let test = matcher::compile_field("_keywords", &["contains"], &values, options)?;
            let matchers = match test.combine {
                matcher::Combine::Any(matchers) | matcher::Combine::All(matchers) => matchers,
                matcher::Combine::AnyContains { .. } => {
                    let test = matcher::compile_field("_keywords", &["contains", "cased"], &values, options)?;
                    match test.combine {
                        matcher::Combine::Any(matchers) | matcher::Combine::All(matchers) => matchers,
                        matcher::Combine::AnyContains { others, .. } => others,
                    }
                }
            };
            Ok(Search::Keywords(matchers))
        }
        Yaml::String(_) | Yaml::Number(_) => {
            Ok(Search::Keywords(match matcher::compile_field("_keywords", &["contains"], &rule_values(value)?, options)?.combine {
                matcher::Combine::Any(matchers) | matcher::Combine::All(matchers) => matchers,
                matcher::Combine::AnyContains { others, .. } => others,
            }))
        }
        _ => Err("a search must be a map, a list of maps or a list of keywords".to_string()),
    }
}

/// The values of a detection entry: a scalar or a list of scalars.
pub fn rule_values(yaml: &Yaml) -> Result<Vec<RuleValue>, String> {
    fn scalar(yaml: &Yaml) -> Result<RuleValue, String> {
        Ok(match yaml {
            Yaml::Null => RuleValue::Null,
            Yaml::Bool(flag) => RuleValue::Bool(*flag),
            Yaml::Number(number) => RuleValue::Number(number.as_f64().unwrap_or(f64::NAN), number.to_string()),
            Yaml::String(text) => RuleValue::String(text.clone()),
            _ => return Err("a value must be a string, number, boolean or null (nested maps and lists are not Sigma)".to_string()),
        })
    }
    match yaml {
        Yaml::Sequence(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

/// The record members the rule index looks up.
const INDEX_KEYS: [&str; 2] = ["eventName", "eventSource"];

/// Compiled rules with the index that picks, for a record, the rules that can match it.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub correlations: Vec<CorrelationRule>,
    by_event_name: HashMap<String, Vec<u32>>,
    by_event_source: HashMap<String, Vec<u32>>,
    unindexed: Vec<u32>,
    /// For each rule, the correlations that use it (correlation index, position in its rule list).
    pub(crate) used_by: Vec<Vec<(usize, usize)>>,
    /// The fields of a record the set reads: the index's keys, every rule's fields and field
    /// references, and the correlations' group-by and value fields (everything when a rule
    /// searches keywords). Records parsed with [`Value::parse_fields`] for these match exactly
    /// as fully parsed ones (`trail hunt` does this).
    pub fields: Fields,
}

impl RuleSet {
    /// Builds the set; correlations whose rule references do not resolve are rejected.
    pub fn new(loaded: Loaded) -> (RuleSet, Vec<Rejected>) {
        let Loaded { rules, correlations: drafts, mut rejected } = loaded;
        let mut set = RuleSet { used_by: vec![Vec::new(); rules.len()], ..RuleSet::default() };
        for (index, rule) in rules.iter().enumerate() {
            let index = index as u32;
            if let Some(names) = rule.required("eventName") {
                for name in names {
                    set.by_event_name.entry(name).or_default().push(index);
                }
            } else if let Some(sources) = rule.required("eventSource") {
                for source in sources {
                    set.by_event_source.entry(source).or_default().push(index);
                }
            } else {
                set.unindexed.push(index);
            }
        }
        set.rules = rules;
        for draft in drafts {
            let generate = draft.generate;
            match draft.resolve(&set.rules) {
                Ok(correlation) => {
                    if !generate {
                        for rule_index in &correlation.rule_indices {
                            if let Some(rule) = set.rules.get_mut(*rule_index) {
                                rule.correlation_only = true;
                            }
                        }
                    }
                    let correlation_index = set.correlations.len();
                    for (position, rule_index) in correlation.rule_indices.iter().enumerate() {
                        if let Some(users) = set.used_by.get_mut(*rule_index) {
                            users.push((correlation_index, position));
                        }
                    }
                    set.correlations.push(correlation);
                }
                Err(rejection) => rejected.push(rejection),
            }
        }
        set.fields = set.read_fields();
        (set, rejected)
    }

    fn read_fields(&self) -> Fields {
        let mut fields = Fields::none();
        for key in INDEX_KEYS {
            fields.add_path(key);
        }
        for rule in &self.rules {
            rule.add_fields(&mut fields);
        }
        if !self.correlations.is_empty() {
            for key in correlation::TIME_FIELDS.into_iter().chain([correlation::EVENT_ID_FIELD]) {
                fields.add_path(key);
            }
        }
        for correlation in &self.correlations {
            for path in correlation.group_by.iter().chain(&correlation.field) {
                fields.add_path(&path.full);
            }
        }
        fields
    }

    /// Indices of the rules matching `event`, in rule order, appended to `matched`.
    pub fn matches(&self, event: &Value<'_>, matched: &mut Vec<u32>) {
        self.matches_where(event, matched, |_| true);
    }

    /// Like [`RuleSet::matches`], for a record of a host log that belongs to `services`
    /// (`sshd`, `auth`, `syslog`...): only rules whose `logsource` service is one of them, or
    /// that name no service, are tried.
    pub fn matches_services<S: AsRef<str>>(&self, event: &Value<'_>, services: &[S], matched: &mut Vec<u32>) {
        self.matches_where(event, matched, |rule| rule.logsource.accepts(services));
    }

    /// The one matching loop: candidates from the index, then `applies` (inlined, so the
    /// CloudTrail path pays nothing for it), then the rule's condition.
    #[inline(always)]
    fn matches_where(&self, event: &Value<'_>, matched: &mut Vec<u32>, applies: impl Fn(&Rule) -> bool) {
        let start = matched.len();
        let mut lowered = String::new();
        let mut candidates = |map: &HashMap<String, Vec<u32>>, field: &str, matched: &mut Vec<u32>| {
            if map.is_empty() {
                return;
            }
            if let Some(Value::String(text)) = event.get(field) {
                lowered.clear();
                lowered.push_str(text);
                lowered.make_ascii_lowercase();
                if let Some(indices) = map.get(lowered.as_str()) {
                    matched.extend(
                        indices.iter().copied().filter(|&index| self.rules.get(index as usize).is_some_and(|rule| applies(rule) && rule.matches(event))),
                    );
                }
            }
        };
        let [event_name, event_source] = INDEX_KEYS;
        candidates(&self.by_event_name, event_name, matched);
        candidates(&self.by_event_source, event_source, matched);
        matched.extend(self.unindexed.iter().copied().filter(|&index| self.rules.get(index as usize).is_some_and(|rule| applies(rule) && rule.matches(event))));
        matched[start..].sort_unstable();
        matched.dedup();
    }

    /// How many rules the index covers (by eventName, by eventSource) and how many run on every record.
    pub fn index_stats(&self) -> (usize, usize, usize) {
        let count = |map: &HashMap<String, Vec<u32>>| map.values().flatten().collect::<BTreeSet<_>>().len();
        (count(&self.by_event_name), count(&self.by_event_source), self.unindexed.len())
    }
}
