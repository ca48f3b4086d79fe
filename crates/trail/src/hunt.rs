//! Hunting: runs a [`RuleSet`] over records from [`Source`]s and collects alerts, then runs the
//! correlations over the matches.

use crate::sigma::correlation::{self, CorrelationHit};
use crate::sigma::{CorrelationAlert, RuleSet};
use crate::value::Value;
use crate::{ReadReport, ScanOptions, Source};

/// A time range over `eventTime`, in milliseconds since the epoch (both ends inclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl TimeRange {
    pub fn is_open(&self) -> bool {
        self.from_ms.is_none() && self.to_ms.is_none()
    }

    /// Whether the record falls in the range (records without a readable `eventTime` fall
    /// outside any bounded range).
    pub fn contains(&self, event: &Value<'_>) -> bool {
        if self.is_open() {
            return true;
        }
        let Some(time) = correlation::event_time_ms(event) else { return false };
        self.from_ms.is_none_or(|from| time >= from) && self.to_ms.is_none_or(|to| time <= to)
    }
}

/// One rule matching one record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    pub event_id: Option<String>,
    pub event_time: Option<String>,
    pub event_name: Option<String>,
    pub tags: Vec<String>,
    pub event_source: Option<String>,
    pub aws_region: Option<String>,
    pub source_ip: Option<String>,
    pub principal: Option<String>,
    pub account_id: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    /// The file the record came from, and its position there.
    pub file: String,
    pub record_index: u64,
}

fn text(event: &Value<'_>, path: &str) -> Option<String> {
    event.path(path).and_then(Value::as_str).map(str::to_string)
}

/// The best name for who acted: the ARN, else the session issuer, else the user name or type.
pub fn principal(event: &Value<'_>) -> Option<String> {
    text(event, "userIdentity.arn")
        .or_else(|| text(event, "userIdentity.sessionContext.sessionIssuer.arn"))
        .or_else(|| text(event, "userIdentity.userName"))
        .or_else(|| text(event, "userIdentity.invokedBy"))
        .or_else(|| text(event, "userIdentity.type"))
}

impl Alert {
    fn new(rule: &crate::sigma::Rule, event: &Value<'_>, file: &str, record_index: u64) -> Alert {
        Alert {
            rule_id: rule.id.clone(),
            rule_title: rule.title.clone(),
            level: rule.level.clone(),
            event_id: text(event, "eventID"),
            event_time: text(event, "eventTime"),
            event_name: text(event, "eventName"),
            tags: rule.tags.clone(),
            event_source: text(event, "eventSource"),
            aws_region: text(event, "awsRegion"),
            source_ip: text(event, "sourceIPAddress"),
            principal: principal(event),
            account_id: text(event, "recipientAccountId").or_else(|| text(event, "userIdentity.accountId")),
            user_agent: text(event, "userAgent"),
            error_code: text(event, "errorCode"),
            file: file.to_string(),
            record_index,
        }
    }
}

/// What a hunt found.
#[derive(Debug, Clone, Default)]
pub struct HuntResult {
    /// Alerts in the order of (file, record, rule).
    pub alerts: Vec<Alert>,
    pub correlation_alerts: Vec<CorrelationAlert>,
    pub hits: Vec<CorrelationHit>,
    /// Records within the time range (the others were read but not matched).
    pub records_in_range: u64,
    pub report: ReadReport,
}

#[derive(Default)]
struct Accumulator {
    alerts: Vec<Alert>,
    hits: Vec<CorrelationHit>,
    in_range: u64,
}

impl HuntResult {
    /// Joins the results of two batches of sources; correlations are recomputed from the hits.
    pub fn merge(mut self, other: HuntResult, set: &RuleSet) -> HuntResult {
        self.alerts.extend(other.alerts);
        self.hits.extend(other.hits);
        self.records_in_range += other.records_in_range;
        self.report = self.report.merge(other.report);
        self.correlation_alerts = correlation::correlate(set, self.hits.clone());
        self
    }
}

/// Runs `set` over every record of `sources` within `range`.
pub fn hunt(set: &RuleSet, sources: &[Source], range: TimeRange, options: ScanOptions) -> HuntResult {
    let (accumulator, report) = crate::scan(
        sources,
        options,
        Accumulator::default,
        |accumulator, meta, event| {
            if !range.contains(event) {
                return;
            }
            accumulator.in_range += 1;
            let mut matched = Vec::new();
            set.matches(event, &mut matched);
            for index in matched {
                let index = index as usize;
                if let Some(rule) = set.rules.get(index).filter(|rule| !rule.correlation_only) {
                    accumulator.alerts.push(Alert::new(rule, event, meta.source, meta.index));
                }
                correlation::hits_for(set, index, event, &mut accumulator.hits);
            }
        },
        |mut left, right| {
            left.alerts.extend(right.alerts);
            left.hits.extend(right.hits);
            left.in_range += right.in_range;
            left
        },
    );
    let Accumulator { mut alerts, hits, in_range } = accumulator;
    alerts.sort_by(|left, right| (&left.file, left.record_index, &left.rule_id).cmp(&(&right.file, right.record_index, &right.rule_id)));
    let correlation_alerts = correlation::correlate(set, hits.clone());
    HuntResult { alerts, correlation_alerts, hits, records_in_range: in_range, report }
}
