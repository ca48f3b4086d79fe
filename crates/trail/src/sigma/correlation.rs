//! Sigma correlation rules: `event_count`, `value_count`, `temporal` and `temporal_ordered`,
//! grouped by fields, over a timespan.
//!
//! While records stream, each match of a rule that a correlation uses becomes a small
//! [`CorrelationHit`] (time, group, value); after the stream, [`correlate`] sorts the hits of
//! each group by time and slides the window. Memory is proportional to the hits, not to the
//! records read.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value as Yaml;

use super::{FieldPath, Rejected, Rule, RuleSet};
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationKind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// One bound of a correlation condition (`gte: 10`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub operator: Operator,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
}

impl Bound {
    fn holds(&self, count: usize) -> bool {
        let count = count as f64;
        match self.operator {
            Operator::Less => count < self.value,
            Operator::LessOrEqual => count <= self.value,
            Operator::Greater => count > self.value,
            Operator::GreaterOrEqual => count >= self.value,
            Operator::Equal => count == self.value,
        }
    }
}

/// A correlation as written, before its rule references are resolved.
#[derive(Debug, Clone)]
pub struct CorrelationDraft {
    pub id: String,
    pub name: Option<String>,
    pub title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub origin: String,
    pub kind: CorrelationKind,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    pub bounds: Vec<Bound>,
    pub field: Option<String>,
    /// Whether the rules it uses also raise their own alerts (`generate: true`); by default
    /// they only feed the correlation.
    pub generate: bool,
}

/// A correlation ready to run.
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    pub id: String,
    pub title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub kind: CorrelationKind,
    pub rule_indices: Vec<usize>,
    pub group_by: Vec<FieldPath>,
    pub timespan_ms: i64,
    pub bounds: Vec<Bound>,
    pub field: Option<FieldPath>,
}

/// Parses a timespan such as `30s`, `5m`, `1h`, `2d`, `1w`.
pub fn parse_timespan(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text.find(|character: char| !character.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| format!("timespan `{text}` does not start with a number"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "M" => 30 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return Err(format!("timespan `{text}`: unknown unit `{unit}` (use s, m, h, d, w, M or y)")),
    };
    Ok(number * unit_ms)
}

pub(super) fn parse(yaml: &Yaml, origin: &str) -> Result<CorrelationDraft, String> {
    let title = super::string_field(yaml, "title").ok_or("the correlation has no `title`")?;
    let correlation = yaml.get("correlation").ok_or("no `correlation`")?;
    let kind = match correlation.get("type").and_then(Yaml::as_str) {
        Some("event_count") => CorrelationKind::EventCount,
        Some("value_count") => CorrelationKind::ValueCount,
        Some("temporal") => CorrelationKind::Temporal,
        Some("temporal_ordered") => CorrelationKind::TemporalOrdered,
        Some(other) => return Err(format!("correlation type `{other}` is not supported")),
        None => return Err("the correlation has no `type`".to_string()),
    };
    if correlation.get("aliases").is_some() {
        return Err("correlation `aliases` are not supported".to_string());
    }
    let rules = super::string_list(correlation, "rules");
    if rules.is_empty() {
        return Err("the correlation has no `rules`".to_string());
    }
    let group_by = super::string_list(correlation, "group-by");
    let timespan = correlation.get("timespan").or_else(|| correlation.get("timeframe")).and_then(Yaml::as_str).ok_or("the correlation has no `timespan`")?;
    let timespan_ms = parse_timespan(timespan)?;
    let mut bounds = Vec::new();
    let mut field = None;
    match correlation.get("condition") {
        Some(Yaml::Mapping(map)) => {
            for (key, value) in map {
                let key = key.as_str().unwrap_or_default();
                if key == "field" {
                    field = value.as_str().map(str::to_string);
                    continue;
                }
                let operator = match key {
                    "lt" => Operator::Less,
                    "lte" => Operator::LessOrEqual,
                    "gt" => Operator::Greater,
                    "gte" => Operator::GreaterOrEqual,
                    "eq" => Operator::Equal,
                    other => return Err(format!("correlation condition `{other}` is not supported (use lt, lte, gt, gte, eq, field)")),
                };
                let value = value.as_f64().ok_or_else(|| format!("correlation condition `{key}` needs a number"))?;
                bounds.push(Bound { operator, value });
            }
        }
        Some(_) => return Err("the correlation `condition` must be a map such as `gte: 10`".to_string()),
        None if matches!(kind, CorrelationKind::Temporal | CorrelationKind::TemporalOrdered) => {}
        None => return Err("the correlation has no `condition`".to_string()),
    }
    if kind == CorrelationKind::ValueCount && field.is_none() {
        return Err("a value_count correlation needs `condition: {field: ...}`".to_string());
    }
    if matches!(kind, CorrelationKind::Temporal | CorrelationKind::TemporalOrdered) && bounds.is_empty() {
        bounds.push(Bound { operator: Operator::GreaterOrEqual, value: rules.len() as f64 });
    }
    Ok(CorrelationDraft {
        id: super::string_field(yaml, "id").unwrap_or_else(|| origin.to_string()),
        name: super::string_field(yaml, "name"),
        title,
        level: super::string_field(yaml, "level").unwrap_or_else(|| "medium".to_string()),
        tags: super::string_list(yaml, "tags"),
        origin: origin.to_string(),
        kind,
        rules,
        group_by,
        timespan_ms,
        bounds,
        field,
        generate: correlation.get("generate").and_then(Yaml::as_bool).unwrap_or(false),
    })
}

impl CorrelationDraft {
    pub(super) fn resolve(self, rules: &[Rule]) -> Result<CorrelationRule, Rejected> {
        let mut rule_indices = Vec::new();
        for reference in &self.rules {
            match rules.iter().position(|rule| rule.id == *reference || rule.name.as_deref() == Some(reference.as_str())) {
                Some(index) => rule_indices.push(index),
                None => {
                    return Err(Rejected {
                        origin: self.origin.clone(),
                        id: Some(self.id.clone()),
                        title: Some(self.title.clone()),
                        reason: format!(
                            "the correlation refers to rule `{reference}`, which is not loaded (correlations referring to correlations are not supported)"
                        ),
                        kind: super::RejectionKind::Invalid,
                    });
                }
            }
        }
        Ok(CorrelationRule {
            id: self.id,
            title: self.title,
            level: self.level,
            tags: self.tags,
            kind: self.kind,
            rule_indices,
            group_by: self.group_by.iter().map(|field| FieldPath::new(field)).collect(),
            timespan_ms: self.timespan_ms,
            bounds: self.bounds,
            field: self.field.as_deref().map(FieldPath::new),
        })
    }
}

/// A match of a rule that a correlation uses, reduced to what the correlation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationHit {
    pub correlation: usize,
    pub position: usize,
    pub time_ms: i64,
    pub group: Vec<String>,
    pub value: Option<String>,
    pub event_id: Option<String>,
}

/// The members a record's time is read from: CloudTrail's `eventTime`, or the `@timestamp`
/// of host log records.
pub const TIME_FIELDS: [&str; 2] = ["eventTime", "@timestamp"];

/// The member naming a record in a correlation hit.
pub const EVENT_ID_FIELD: &str = "eventID";

/// The record's `eventTime` in milliseconds since the epoch.
pub fn event_time_ms(event: &Value<'_>) -> Option<i64> {
    let [event_time, timestamp] = TIME_FIELDS;
    let text = event.get(event_time).or_else(|| event.get(timestamp))?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| time.timestamp_millis())
}

/// The hits that a match of rule `rule_index` on `event` contributes.
pub fn hits_for(set: &RuleSet, rule_index: usize, event: &Value<'_>, hits: &mut Vec<CorrelationHit>) {
    let Some(users) = set.used_by.get(rule_index) else { return };
    if users.is_empty() {
        return;
    }
    let Some(time_ms) = event_time_ms(event) else { return };
    for &(correlation_index, position) in users {
        let Some(correlation) = set.correlations.get(correlation_index) else { continue };
        let group = correlation.group_by.iter().map(|path| path.first_text(event).unwrap_or_default()).collect();
        let value = correlation.field.as_ref().and_then(|path| path.first_text(event));
        hits.push(CorrelationHit {
            correlation: correlation_index,
            position,
            time_ms,
            group,
            value,
            event_id: event.get(EVENT_ID_FIELD).and_then(Value::as_str).map(str::to_string),
        });
    }
}

/// An alert raised by a correlation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorrelationAlert {
    pub correlation: usize,
    pub group: Vec<(String, String)>,
    pub first_time_ms: i64,
    pub last_time_ms: i64,
    /// Events (event_count, temporal), or distinct values (value_count), in the window.
    pub count: usize,
    pub event_ids: Vec<String>,
}

/// Slides each correlation's window over its hits, group by group.
pub fn correlate(set: &RuleSet, mut hits: Vec<CorrelationHit>) -> Vec<CorrelationAlert> {
    hits.sort_by(|left, right| {
        (left.correlation, &left.group, left.time_ms, left.position).cmp(&(right.correlation, &right.group, right.time_ms, right.position))
    });
    let mut alerts = Vec::new();
    let mut start = 0;
    while start < hits.len() {
        let mut end = start + 1;
        while end < hits.len() && hits[end].correlation == hits[start].correlation && hits[end].group == hits[start].group {
            end += 1;
        }
        if let Some(correlation) = set.correlations.get(hits[start].correlation) {
            window(correlation, &hits[start..end], &mut alerts);
        }
        start = end;
    }
    alerts
}

fn window(correlation: &CorrelationRule, hits: &[CorrelationHit], alerts: &mut Vec<CorrelationAlert>) {
    let mut first = 0;
    while first < hits.len() {
        let limit = hits[first].time_ms + correlation.timespan_ms;
        let mut last = first;
        while last + 1 < hits.len() && hits[last + 1].time_ms <= limit {
            last += 1;
        }
        let in_window = &hits[first..=last];
        let count = match correlation.kind {
            CorrelationKind::EventCount => in_window.len(),
            CorrelationKind::ValueCount => in_window.iter().filter_map(|hit| hit.value.as_deref()).collect::<BTreeSet<_>>().len(),
            CorrelationKind::Temporal => in_window.iter().map(|hit| hit.position).collect::<BTreeSet<_>>().len(),
            CorrelationKind::TemporalOrdered => {
                let mut next = 0;
                for hit in in_window {
                    if hit.position == next {
                        next += 1;
                    }
                }
                next
            }
        };
        if correlation.bounds.iter().all(|bound| bound.holds(count)) {
            let names = correlation.group_by.iter().map(|path| path.full.clone());
            alerts.push(CorrelationAlert {
                correlation: hits[first].correlation,
                group: names.zip(hits[first].group.iter().cloned()).collect(),
                first_time_ms: hits[first].time_ms,
                last_time_ms: hits[last].time_ms,
                count,
                event_ids: in_window.iter().filter_map(|hit| hit.event_id.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
            });
            first = last + 1;
        } else {
            first += 1;
        }
    }
}

/// Groups hits by correlation, for reports.
pub fn count_by_correlation(hits: &[CorrelationHit]) -> BTreeMap<usize, usize> {
    let mut counts = BTreeMap::new();
    for hit in hits {
        *counts.entry(hit.correlation).or_default() += 1;
    }
    counts
}
