//! Hunting: runs a [`RuleSet`] over records from [`Source`]s and collects alerts, then runs the
//! correlations over the matches.

use crate::sigma::correlation::{self, CorrelationHit};
use crate::sigma::{CorrelationAlert, RuleSet};
use crate::value::{Fields, Value};
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

/// Where the acting principal is named, best first: the ARN, else the session issuer, else the
/// user name or type.
const PRINCIPAL_FIELDS: [&str; 5] =
    ["userIdentity.arn", "userIdentity.sessionContext.sessionIssuer.arn", "userIdentity.userName", "userIdentity.invokedBy", "userIdentity.type"];

/// The record members an [`Alert`] copies besides the principal (`Alert::new` reads these and
/// no others: the hunt parses records for them and the rules' fields only).
const ALERT_FIELDS: [&str; 10] = [
    "eventID",
    "eventTime",
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "recipientAccountId",
    "userIdentity.accountId",
    "userAgent",
    "errorCode",
];

/// The best name for who acted: the ARN, else the session issuer, else the user name or type.
pub fn principal(event: &Value<'_>) -> Option<String> {
    PRINCIPAL_FIELDS.iter().find_map(|path| text(event, path))
}

/// The fields of a record a hunt with `set` reads: the rule set's, the alerts' and the time's.
pub fn hunt_fields(set: &RuleSet) -> Fields {
    let mut fields = set.fields.clone();
    for path in ALERT_FIELDS.iter().chain(&PRINCIPAL_FIELDS).chain(&correlation::TIME_FIELDS) {
        fields.add_path(path);
    }
    fields
}

impl Alert {
    fn new(rule: &crate::sigma::Rule, event: &Value<'_>, file: &str, record_index: u64) -> Alert {
        let [id, time, name, source, region, address, recipient, account, agent, error] = ALERT_FIELDS;
        Alert {
            rule_id: rule.id.clone(),
            rule_title: rule.title.clone(),
            level: rule.level.clone(),
            event_id: text(event, id),
            event_time: text(event, time),
            event_name: text(event, name),
            tags: rule.tags.clone(),
            event_source: text(event, source),
            aws_region: text(event, region),
            source_ip: text(event, address),
            principal: principal(event),
            account_id: text(event, recipient).or_else(|| text(event, account)),
            user_agent: text(event, agent),
            error_code: text(event, error),
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

/// Runs `set` over every record of `sources` within `range`. Records are parsed only for
/// the fields the hunt reads ([`hunt_fields`]).
pub fn hunt(set: &RuleSet, sources: &[Source], range: TimeRange, options: ScanOptions) -> HuntResult {
    hunt_parsing(set, sources, range, options, &hunt_fields(set))
}

/// [`hunt`] with records parsed for `fields` (the tests compare [`Fields::All`] with the hunt's).
fn hunt_parsing(set: &RuleSet, sources: &[Source], range: TimeRange, options: ScanOptions, fields: &Fields) -> HuntResult {
    let (accumulator, report) = crate::scan_fields(
        sources,
        options,
        fields,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::sigma::{CompileOptions, Loaded, files};

    /// A hunt parses records for its fields only ([`hunt_fields`]); with the SigmaHQ CloudTrail
    /// rules, the built-in detections (correlations included) and the shared CloudTrail
    /// datasets, it finds exactly what the same hunt over fully parsed records finds.
    #[test]
    fn parsing_for_the_hunts_fields_finds_what_full_parsing_finds() {
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        if !data.is_dir() {
            eprintln!("skipped: the shared data folder `{}` is absent", data.display());
            return;
        }
        let options = CompileOptions::default();
        let mut loaded = Loaded::default();
        loaded.extend(crate::builtin::load(&options));
        loaded.extend(files::load_path(&data.join("sigma"), &options).unwrap());
        let (set, rejected) = RuleSet::new(loaded);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert!(!set.correlations.is_empty());
        let fields = hunt_fields(&set);
        assert_ne!(fields, Fields::All);
        let sources = crate::read::expand_paths(&[data.join("cloudtrail").display().to_string()]).unwrap();
        let bounded = TimeRange { from_ms: Some(1_600_000_000_000), to_ms: Some(1_700_000_000_000) };
        for range in [TimeRange::default(), bounded] {
            let selective = hunt(&set, &sources, range, ScanOptions::default());
            let full = hunt_parsing(&set, &sources, range, ScanOptions::default(), &Fields::All);
            assert_eq!(selective.alerts, full.alerts);
            assert_eq!(selective.hits, full.hits);
            assert_eq!(selective.correlation_alerts, full.correlation_alerts);
            assert_eq!(selective.records_in_range, full.records_in_range);
            assert_eq!((selective.report.records, selective.report.skipped_records), (full.report.records, full.report.skipped_records));
            if range.is_open() {
                assert!(full.alerts.len() > 100 && !full.hits.is_empty(), "{} alerts, {} hits", full.alerts.len(), full.hits.len());
            }
        }
    }
}
