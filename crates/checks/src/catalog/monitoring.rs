//! CIS monitoring checks (v5.0.0 section 4): for each family of sensitive API activity, a
//! logging multi-region trail that delivers to CloudWatch Logs, a metric filter on its log group
//! whose pattern covers the documented terms, an alarm on that metric, and an SNS topic with at
//! least one confirmed subscription behind the alarm.
//!
//! Filter patterns are read as boolean expressions over predicates (`$.field op value`, after
//! normalizing whitespace and quoting), joined by `&&` and `||` as CloudWatch Logs combines
//! them: a filter covers a family when it matches every kind of event the benchmark requires,
//! with the benchmark's optional narrowings and the family's `eventSource` allowed, and needs
//! each required term to do so. So `A && B` does not pass for a family that asks for `A || B`.
//!
//! An organization trail seen from a member account delivers to a log group in the management
//! account; its metric filters and alarms are read there, so from the member the chain is an
//! ERROR that says so, not a FAIL.

use serde_json::{Value, json};
use vigil_model::Region;
use vigil_model::monitoring::{MetricFilter, Trail};

use super::FnCheck;
use super::logging::TRAILS;
use super::logging::logs_all_management_events;
use super::support::{cannot_decide, regional};
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Remediation, Severity};

/// One `$.field op value` term of a CloudWatch Logs JSON filter pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub field: String,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `NOT EXISTS`, `EXISTS` or `IS NULL`.
    pub operator: String,
    pub value: String,
}

impl Term {
    fn new(field: &str, operator: &str, value: &str) -> Term {
        Term { field: field.to_string(), operator: operator.to_string(), value: value.to_string() }
    }
}

/// A JSON filter pattern as the boolean expression it is: terms joined by `&&` and `||`
/// (`&&` binds tighter), grouped by parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expression {
    Term(Term),
    All(Vec<Expression>),
    Any(Vec<Expression>),
}

impl Expression {
    /// Whether the pattern matches an event for which exactly the terms `holds` accepts are true.
    fn matches(&self, holds: &dyn Fn(&Term) -> bool) -> bool {
        match self {
            Expression::Term(term) => holds(term),
            Expression::All(items) => items.iter().all(|item| item.matches(holds)),
            Expression::Any(items) => items.iter().any(|item| item.matches(holds)),
        }
    }

    #[cfg(test)]
    fn terms<'a>(&'a self, out: &mut Vec<&'a Term>) {
        match self {
            Expression::Term(term) => out.push(term),
            Expression::All(items) | Expression::Any(items) => items.iter().for_each(|item| item.terms(out)),
        }
    }
}

/// A recursive-descent reader of JSON filter patterns.
struct Parser {
    chars: Vec<char>,
    index: usize,
}

impl Parser {
    fn skip_space(&mut self) {
        while self.chars.get(self.index).is_some_and(|character| character.is_whitespace()) {
            self.index += 1;
        }
    }

    fn eat(&mut self, text: &str) -> bool {
        self.skip_space();
        let found = text.chars().enumerate().all(|(offset, expected)| self.chars.get(self.index + offset) == Some(&expected));
        if found {
            self.index += text.chars().count();
        }
        found
    }

    fn any(&mut self) -> Option<Expression> {
        let mut items = vec![self.all()?];
        while self.eat("||") {
            items.push(self.all()?);
        }
        Some(if items.len() == 1 { items.pop()? } else { Expression::Any(items) })
    }

    fn all(&mut self) -> Option<Expression> {
        let mut items = vec![self.atom()?];
        while self.eat("&&") {
            items.push(self.atom()?);
        }
        Some(if items.len() == 1 { items.pop()? } else { Expression::All(items) })
    }

    fn atom(&mut self) -> Option<Expression> {
        if self.eat("(") {
            let inner = self.any()?;
            return self.eat(")").then_some(inner);
        }
        self.term().map(Expression::Term)
    }

    fn term(&mut self) -> Option<Term> {
        if !self.eat("$.") {
            return None;
        }
        let start = self.index;
        while self.chars.get(self.index).is_some_and(|character| character.is_alphanumeric() || matches!(character, '.' | '_' | '-' | '[' | ']' | '*')) {
            self.index += 1;
        }
        let field: String = self.chars.get(start..self.index)?.iter().collect();
        self.skip_space();
        let rest: String = self.chars.get(self.index..)?.iter().take(12).collect::<String>().to_ascii_uppercase();
        if let Some(keyword) = ["NOT EXISTS", "IS NULL", "EXISTS"].into_iter().find(|keyword| rest.starts_with(keyword)) {
            self.index += keyword.len();
            return Some(Term::new(&field, keyword, ""));
        }
        let operator = ["!=", ">=", "<=", "=", ">", "<"].into_iter().find(|operator| self.eat(operator))?;
        self.skip_space();
        let mut value = String::new();
        match self.chars.get(self.index).copied() {
            Some(quote @ ('"' | '\'')) => {
                self.index += 1;
                while let Some(character) = self.chars.get(self.index).copied().filter(|character| *character != quote) {
                    value.push(character);
                    self.index += 1;
                }
                self.index += 1;
            }
            _ => {
                while let Some(character) = self.chars.get(self.index).copied().filter(|character| !matches!(character, ')' | '&' | '|' | '}')) {
                    value.push(character);
                    self.index += 1;
                }
            }
        }
        Some(Term::new(&field, operator, value.trim()))
    }
}

/// A JSON filter pattern (`{ ... }`) as an expression; `None` when it is not one vigil reads.
pub(crate) fn parse_filter(pattern: &str) -> Option<Expression> {
    let inner = pattern.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut parser = Parser { chars: inner.chars().collect(), index: 0 };
    let expression = parser.any()?;
    parser.skip_space();
    (parser.index == parser.chars.len()).then_some(expression)
}

/// The terms of a JSON filter pattern, in order (empty when it cannot be read). Whitespace and
/// quotes do not matter.
#[cfg(test)]
pub(crate) fn terms(pattern: &str) -> Vec<Term> {
    let mut found = Vec::new();
    let expression = parse_filter(pattern);
    if let Some(expression) = &expression {
        expression.terms(&mut found);
    }
    found.into_iter().cloned().collect()
}

/// What the benchmark requires of a family's filter: every one of the terms at once (a
/// conjunction, such as a root sign-in without an AWS service as invoker), or any one of them
/// (a list of event names or error codes, each of which must be caught).
#[derive(Debug)]
pub(crate) enum Need {
    AllOf(&'static [(&'static str, &'static str, &'static str)]),
    AnyOf(&'static [(&'static str, &'static str, &'static str)]),
}

/// A family of API activity the benchmark asks to monitor.
#[derive(Debug)]
pub(crate) struct Family {
    /// What is monitored, for messages ("unauthorized API calls").
    pub what: &'static str,
    /// The terms the filter must catch, and how they combine.
    pub required: Need,
    /// Terms the benchmark documents as optional narrowing.
    pub optional: &'static [(&'static str, &'static str, &'static str)],
    /// The service whose `eventSource` may narrow the pattern without losing events.
    pub event_source: Option<&'static str>,
    /// The documented pattern, for remediation and evidence.
    pub pattern: &'static str,
}

impl Family {
    /// The kinds of event the filter must match, each as the terms true of it.
    fn cases(&self) -> Vec<Vec<Term>> {
        let as_term = |(field, operator, value): &(&str, &str, &str)| Term::new(field, operator, value);
        match &self.required {
            Need::AllOf(terms) => vec![terms.iter().map(as_term).collect()],
            Need::AnyOf(terms) => terms.iter().map(|term| vec![as_term(term)]).collect(),
        }
    }

    /// True when the filter pattern, read as the `&&`/`||` expression it is, matches every kind
    /// of event the benchmark requires (with any of the documented optional narrowings, and the
    /// family's own `eventSource`, taken as true), and needs each required term to do so: a
    /// filter that drops a term catches more than the benchmark asks and is not the documented
    /// filter; one that adds an undocumented narrowing misses events.
    pub(crate) fn covered_by(&self, pattern: &str) -> bool {
        let Some(filter) = parse_filter(pattern) else { return false };
        let optional: Vec<Term> = self.optional.iter().map(|(field, operator, value)| Term::new(field, operator, value)).collect();
        let harmless =
            |term: &Term| optional.contains(term) || (term.field == "eventSource" && term.operator == "=" && self.event_source == Some(term.value.as_str()));
        self.cases().iter().all(|case| {
            let matches_with = |dropped: Option<&Term>| filter.matches(&|term: &Term| (case.contains(term) && Some(term) != dropped) || harmless(term));
            matches_with(None) && case.iter().all(|required| !matches_with(Some(required)))
        })
    }
}

const fn event(name: &'static str) -> (&'static str, &'static str, &'static str) {
    ("eventName", "=", name)
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*` as (region, name).
fn log_group_of(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        [_, _, "logs", region, _, "log-group", name, ..] => Some((region, name)),
        _ => None,
    }
}

/// The first missing link of the monitoring chain, for the FAIL message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Trail,
    Filter,
    Alarm,
    SubscribedTopic,
}

fn judge_family(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, family: &Family) {
    let inventory = context.inventory;
    let subject = context.account_subject();
    let mut needs: Vec<Needs<'_>> = Vec::new();
    let mut stage = Stage::Trail;
    // A logging trail whose log group belongs to another account (an organization trail).
    let mut elsewhere: Option<Value> = None;
    let mut passing: Option<Value> = None;
    let mut seen_filters: Vec<Value> = Vec::new();
    let trails: Vec<(&Region, &Trail)> = inventory.trails().filter(|(_, trail)| trail.is_multi_region_trail).collect();
    for (region, trail) in trails {
        let trail_needs = [
            Needs::call("cloudtrail", region.as_str(), "GetTrailStatus").on(&trail.trail_arn),
            Needs::call("cloudtrail", region.as_str(), "GetEventSelectors").on(&trail.trail_arn),
        ];
        needs.extend(trail_needs);
        let logging = trail.status.as_ref().is_some_and(|status| status.is_logging) && logs_all_management_events(trail);
        let Some((log_region, log_group)) = trail.cloud_watch_logs_log_group_arn.as_deref().and_then(log_group_of).filter(|_| logging) else { continue };
        let log_account = trail.cloud_watch_logs_log_group_arn.as_deref().and_then(|arn| arn.split(':').nth(4)).unwrap_or_default();
        if log_account != context.account_id() {
            elsewhere.get_or_insert_with(|| json!({ "TrailARN": trail.trail_arn, "IsOrganizationTrail": trail.is_organization_trail, "CloudWatchLogsLogGroupArn": trail.cloud_watch_logs_log_group_arn }));
            continue;
        }
        stage = stage.max(Stage::Filter);
        needs.push(Needs::call("logs", log_region, "DescribeMetricFilters"));
        let Some(logs) = regional(context, log_region) else { continue };
        let filters: Vec<&MetricFilter> = logs.metric_filters.iter().filter(|filter| filter.log_group_name.as_deref() == Some(log_group)).collect();
        seen_filters.extend(
            filters.iter().map(|filter| json!({ "FilterName": filter.filter_name, "FilterPattern": filter.filter_pattern, "LogGroupName": log_group })),
        );
        for filter in filters.into_iter().filter(|filter| filter.filter_pattern.as_deref().is_some_and(|pattern| family.covered_by(pattern))) {
            stage = stage.max(Stage::Alarm);
            needs.push(Needs::call("cloudwatch", log_region, "DescribeAlarms"));
            for transformation in &filter.metric_transformations {
                let alarms = logs.metric_alarms.iter().filter(|alarm| {
                    alarm.metric_name.as_deref() == Some(transformation.metric_name.as_str())
                        && alarm.namespace.as_deref() == Some(transformation.metric_namespace.as_str())
                });
                for alarm in alarms {
                    stage = stage.max(Stage::SubscribedTopic);
                    for topic_arn in alarm.alarm_actions.iter().filter(|action| action.starts_with("arn:") && action.contains(":sns:")) {
                        let topic_region = topic_arn.split(':').nth(3).unwrap_or_default();
                        let topic_needs =
                            [Needs::call("sns", topic_region, "ListTopics"), Needs::call("sns", topic_region, "ListSubscriptionsByTopic").on(topic_arn)];
                        needs.extend(topic_needs);
                        let topic = regional(context, topic_region).and_then(|sns| sns.sns_topics.iter().find(|topic| &topic.topic_arn == topic_arn));
                        let subscribed = topic.is_some_and(|topic| topic.subscriptions.iter().any(|subscription| subscription.is_confirmed()));
                        let chain_needs = [
                            trail_needs[0],
                            trail_needs[1],
                            Needs::call("logs", log_region, "DescribeMetricFilters"),
                            Needs::call("cloudwatch", log_region, "DescribeAlarms"),
                            topic_needs[0],
                            topic_needs[1],
                        ];
                        if subscribed && passing.is_none() && context.require(&chain_needs).is_ok() {
                            passing = Some(json!({
                                "TrailARN": trail.trail_arn,
                                "LogGroupName": log_group,
                                "FilterName": filter.filter_name,
                                "FilterPattern": filter.filter_pattern,
                                "AlarmName": alarm.alarm_name,
                                "TopicArn": topic_arn,
                            }));
                        }
                    }
                }
            }
        }
    }
    if let Some(chain) = passing {
        let message = format!("Alarm `{}` watches {} and notifies a subscribed SNS topic.", chain["AlarmName"].as_str().unwrap_or_default(), family.what);
        findings.push(context.verdict(metadata, &subject, true, message, chain));
        return;
    }
    if let Err(unread) = context.require(&needs) {
        findings.push(context.unread(metadata, &subject, unread));
        return;
    }
    if let Some(trail) = elsewhere {
        let message = format!(
            "Trail `{}` logs this account to log group `{}` of another account: its metric filter and alarm for {} are read in that account.",
            trail["TrailARN"].as_str().unwrap_or_default(),
            trail["CloudWatchLogsLogGroupArn"].as_str().unwrap_or_default(),
            family.what
        );
        findings.push(cannot_decide(metadata, context, &subject, message, trail));
        return;
    }
    let message = match stage {
        Stage::Trail => "No logging multi-region trail with all management events delivers to CloudWatch Logs.".to_string(),
        Stage::Filter => format!("No metric filter on the trail's log group matches the pattern for {}.", family.what),
        Stage::Alarm => format!("The metric filter for {} has no alarm on its metric.", family.what),
        Stage::SubscribedTopic => format!("The alarm for {} notifies no SNS topic with a confirmed subscription.", family.what),
    };
    findings.push(context.verdict(metadata, &subject, false, message, json!({ "ExpectedPattern": family.pattern, "MetricFilters": seen_filters })));
}

/// The remediation of a monitoring check: the metric filter with the benchmark's pattern and an
/// alarm on it, in prose, CLI and Terraform (built with `concat!`, as the text embeds the id and
/// pattern literals).
macro_rules! monitoring_remediation {
    ($id:literal, $pattern:literal) => {
        Remediation {
                    text: concat!(
                        "On the log group of a logging multi-region trail, create a metric filter with the benchmark's pattern, an alarm on its metric (Sum >= 1 over 300 s) and an SNS topic with a confirmed subscription as the alarm action. Pattern: ",
                        $pattern
                    ),
                    cli: concat!(
                        "aws logs put-metric-filter --log-group-name TRAIL_LOG_GROUP --filter-name ", $id, " --metric-transformations metricName=", $id, ",metricNamespace=CISBenchmark,metricValue=1 --filter-pattern '", $pattern, "'\n",
                        "aws cloudwatch put-metric-alarm --alarm-name ", $id, " --metric-name ", $id, " --namespace CISBenchmark --statistic Sum --period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 --alarm-actions SNS_TOPIC_ARN"
                    ),
                    terraform: concat!(
                        "resource \"aws_cloudwatch_log_metric_filter\" \"", $id, "\" {\n  name           = \"", $id, "\"\n  log_group_name = aws_cloudwatch_log_group.trail.name\n  pattern        = <<-EOT\n    ", $pattern, "\n  EOT\n  metric_transformation {\n    name      = \"", $id, "\"\n    namespace = \"CISBenchmark\"\n    value     = \"1\"\n  }\n}\n\n",
                        "resource \"aws_cloudwatch_metric_alarm\" \"", $id, "\" {\n  alarm_name          = \"", $id, "\"\n  metric_name         = \"", $id, "\"\n  namespace           = \"CISBenchmark\"\n  statistic           = \"Sum\"\n  period              = 300\n  threshold           = 1\n  comparison_operator = \"GreaterThanOrEqualToThreshold\"\n  evaluation_periods  = 1\n  alarm_actions       = [aws_sns_topic.security_alerts.arn]\n}"
                    ),
                }
    };
}

pub(crate) static UNAUTHORIZED_API_CALLS_FAMILY: Family = Family {
    what: "unauthorized API calls",
    required: Need::AnyOf(&[("errorCode", "=", "*UnauthorizedOperation"), ("errorCode", "=", "AccessDenied*")]),
    optional: &[("sourceIPAddress", "!=", "delivery.logs.amazonaws.com"), ("eventName", "!=", "HeadBucket")],
    event_source: None,
    pattern: "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }",
};

pub static UNAUTHORIZED_API_CALLS: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_unauthorized_api_calls",
        title: "Unauthorized API calls are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Bursts of AccessDenied errors are how reconnaissance with stolen credentials, and misconfigured automation, show up first.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_unauthorized_api_calls",
            "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.1"), ("aws-securityhub", "CloudWatch.2"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &UNAUTHORIZED_API_CALLS_FAMILY),
};

pub(crate) static CONSOLE_SIGNIN_WITHOUT_MFA_FAMILY: Family = Family {
    what: "console sign-ins without MFA",
    required: Need::AllOf(&[("eventName", "=", "ConsoleLogin"), ("additionalEventData.MFAUsed", "!=", "Yes")]),
    optional: &[("userIdentity.type", "=", "IAMUser"), ("responseElements.ConsoleLogin", "=", "Success")],
    event_source: Some("signin.amazonaws.com"),
    pattern: "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }",
};

pub static CONSOLE_SIGNIN_WITHOUT_MFA: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_console_signin_without_mfa",
        title: "Console sign-ins without MFA are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "A console sign-in without MFA is either a user the MFA policy missed or a stolen password in use.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_console_signin_without_mfa",
            "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.2"), ("aws-securityhub", "CloudWatch.3"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &CONSOLE_SIGNIN_WITHOUT_MFA_FAMILY),
};

pub(crate) static ROOT_USAGE_FAMILY: Family = Family {
    what: "use of the root user",
    required: Need::AllOf(&[("userIdentity.type", "=", "Root"), ("userIdentity.invokedBy", "NOT EXISTS", ""), ("eventType", "!=", "AwsServiceEvent")]),
    optional: &[],
    event_source: None,
    pattern: "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }",
};

pub static ROOT_USAGE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_root_usage",
        title: "Use of the root user is monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::High,
        risk: "Root activity should be rare and expected; an unannounced root sign-in or API call is one of the strongest signs of account takeover.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_root_usage",
            "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.3"), ("aws-securityhub", "CloudWatch.1"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &ROOT_USAGE_FAMILY),
};

pub(crate) static IAM_POLICY_CHANGES_FAMILY: Family = Family {
    what: "IAM policy changes",
    required: Need::AnyOf(&[
        event("DeleteGroupPolicy"),
        event("DeleteRolePolicy"),
        event("DeleteUserPolicy"),
        event("PutGroupPolicy"),
        event("PutRolePolicy"),
        event("PutUserPolicy"),
        event("CreatePolicy"),
        event("DeletePolicy"),
        event("CreatePolicyVersion"),
        event("DeletePolicyVersion"),
        event("AttachRolePolicy"),
        event("DetachRolePolicy"),
        event("AttachUserPolicy"),
        event("DetachUserPolicy"),
        event("AttachGroupPolicy"),
        event("DetachGroupPolicy"),
    ]),
    optional: &[],
    event_source: Some("iam.amazonaws.com"),
    pattern: "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
};

pub static IAM_POLICY_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_iam_policy_changes",
        title: "IAM policy changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Attaching or rewriting a policy is how privilege escalation and persistence are done; each change should reach a human.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_iam_policy_changes",
            "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.4"), ("aws-securityhub", "CloudWatch.4"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &IAM_POLICY_CHANGES_FAMILY),
};

pub(crate) static CLOUDTRAIL_CHANGES_FAMILY: Family = Family {
    what: "CloudTrail configuration changes",
    required: Need::AnyOf(&[event("CreateTrail"), event("UpdateTrail"), event("DeleteTrail"), event("StartLogging"), event("StopLogging")]),
    optional: &[],
    event_source: Some("cloudtrail.amazonaws.com"),
    pattern: "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
};

pub static CLOUDTRAIL_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_cloudtrail_configuration_changes",
        title: "CloudTrail configuration changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Stopping, deleting or redirecting a trail blinds the audit log; attackers do it first.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_cloudtrail_configuration_changes",
            "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.5"), ("aws-securityhub", "CloudWatch.5"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &CLOUDTRAIL_CHANGES_FAMILY),
};

pub(crate) static CONSOLE_AUTH_FAILURES_FAMILY: Family = Family {
    what: "console authentication failures",
    required: Need::AllOf(&[("eventName", "=", "ConsoleLogin"), ("errorMessage", "=", "Failed authentication")]),
    optional: &[],
    event_source: Some("signin.amazonaws.com"),
    pattern: "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }",
};

pub static CONSOLE_AUTH_FAILURES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_console_authentication_failures",
        title: "Console authentication failures are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Repeated failed console sign-ins are password guessing in progress.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_console_authentication_failures",
            "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.6"), ("aws-securityhub", "CloudWatch.6"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &CONSOLE_AUTH_FAILURES_FAMILY),
};

pub(crate) static CMK_DISABLE_OR_DELETION_FAMILY: Family = Family {
    what: "disabling or scheduled deletion of customer managed keys",
    required: Need::AnyOf(&[event("DisableKey"), event("ScheduleKeyDeletion")]),
    optional: &[],
    event_source: Some("kms.amazonaws.com"),
    pattern: "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
};

pub static CMK_DISABLE_OR_DELETION: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_cmk_disable_or_deletion",
        title: "Disabling or scheduled deletion of customer managed keys is monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Disabling or deleting a KMS key makes every piece of data encrypted under it unreadable: a ransom or sabotage move.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_cmk_disable_or_deletion",
            "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.7"), ("aws-securityhub", "CloudWatch.7"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &CMK_DISABLE_OR_DELETION_FAMILY),
};

pub(crate) static S3_BUCKET_POLICY_CHANGES_FAMILY: Family = Family {
    what: "S3 bucket policy changes",
    required: Need::AnyOf(&[
        event("PutBucketAcl"),
        event("PutBucketPolicy"),
        event("PutBucketCors"),
        event("PutBucketLifecycle"),
        event("PutBucketReplication"),
        event("DeleteBucketPolicy"),
        event("DeleteBucketCors"),
        event("DeleteBucketLifecycle"),
        event("DeleteBucketReplication"),
    ]),
    optional: &[],
    event_source: Some("s3.amazonaws.com"),
    pattern: "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
};

pub static S3_BUCKET_POLICY_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_s3_bucket_policy_changes",
        title: "S3 bucket policy changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "A changed bucket policy or ACL can expose a bucket to the internet in one call.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_s3_bucket_policy_changes",
            "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.8"), ("aws-securityhub", "CloudWatch.8"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &S3_BUCKET_POLICY_CHANGES_FAMILY),
};

pub(crate) static CONFIG_CHANGES_FAMILY: Family = Family {
    what: "AWS Config configuration changes",
    required: Need::AnyOf(&[
        event("StopConfigurationRecorder"),
        event("DeleteDeliveryChannel"),
        event("PutDeliveryChannel"),
        event("PutConfigurationRecorder"),
    ]),
    optional: &[],
    event_source: Some("config.amazonaws.com"),
    pattern: "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
};

pub static CONFIG_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_config_changes",
        title: "AWS Config configuration changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Stopping the recorder or removing the delivery channel erases the configuration history investigators rely on.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_config_changes",
            "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.9"), ("aws-securityhub", "CloudWatch.9"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &CONFIG_CHANGES_FAMILY),
};

pub(crate) static SECURITY_GROUP_CHANGES_FAMILY: Family = Family {
    what: "security group changes",
    required: Need::AnyOf(&[
        event("AuthorizeSecurityGroupIngress"),
        event("AuthorizeSecurityGroupEgress"),
        event("RevokeSecurityGroupIngress"),
        event("RevokeSecurityGroupEgress"),
        event("CreateSecurityGroup"),
        event("DeleteSecurityGroup"),
    ]),
    optional: &[],
    event_source: Some("ec2.amazonaws.com"),
    pattern: "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
};

pub static SECURITY_GROUP_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_security_group_changes",
        title: "Security group changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "An opened security group is the most direct way to expose a service; changes should be seen when they happen.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_security_group_changes",
            "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.10"), ("aws-securityhub", "CloudWatch.10"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &SECURITY_GROUP_CHANGES_FAMILY),
};

pub(crate) static NACL_CHANGES_FAMILY: Family = Family {
    what: "network ACL changes",
    required: Need::AnyOf(&[
        event("CreateNetworkAcl"),
        event("CreateNetworkAclEntry"),
        event("DeleteNetworkAcl"),
        event("DeleteNetworkAclEntry"),
        event("ReplaceNetworkAclEntry"),
        event("ReplaceNetworkAclAssociation"),
    ]),
    optional: &[],
    event_source: Some("ec2.amazonaws.com"),
    pattern: "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
};

pub static NACL_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_nacl_changes",
        title: "Network ACL changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Network ACL changes can open whole subnets at once.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_nacl_changes",
            "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.11"), ("aws-securityhub", "CloudWatch.11"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &NACL_CHANGES_FAMILY),
};

pub(crate) static NETWORK_GATEWAY_CHANGES_FAMILY: Family = Family {
    what: "network gateway changes",
    required: Need::AnyOf(&[
        event("CreateCustomerGateway"),
        event("DeleteCustomerGateway"),
        event("AttachInternetGateway"),
        event("CreateInternetGateway"),
        event("DeleteInternetGateway"),
        event("DetachInternetGateway"),
    ]),
    optional: &[],
    event_source: Some("ec2.amazonaws.com"),
    pattern: "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
};

pub static NETWORK_GATEWAY_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_network_gateway_changes",
        title: "Network gateway changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "A new or re-attached internet or customer gateway creates a path in or out of the network.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_network_gateway_changes",
            "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.12"), ("aws-securityhub", "CloudWatch.12"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &NETWORK_GATEWAY_CHANGES_FAMILY),
};

pub(crate) static ROUTE_TABLE_CHANGES_FAMILY: Family = Family {
    what: "route table changes",
    required: Need::AnyOf(&[
        event("CreateRoute"),
        event("CreateRouteTable"),
        event("ReplaceRoute"),
        event("ReplaceRouteTableAssociation"),
        event("DeleteRouteTable"),
        event("DeleteRoute"),
        event("DisassociateRouteTable"),
    ]),
    optional: &[],
    event_source: Some("ec2.amazonaws.com"),
    pattern: "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
};

pub static ROUTE_TABLE_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_route_table_changes",
        title: "Route table changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "A changed route can send traffic through an attacker-controlled appliance or out of the network.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_route_table_changes",
            "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.13"), ("aws-securityhub", "CloudWatch.13"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &ROUTE_TABLE_CHANGES_FAMILY),
};

pub(crate) static VPC_CHANGES_FAMILY: Family = Family {
    what: "VPC changes",
    // ClassicLink was retired in 2022: its event names are accepted but not required.
    required: Need::AnyOf(&[
        event("CreateVpc"),
        event("DeleteVpc"),
        event("ModifyVpcAttribute"),
        event("AcceptVpcPeeringConnection"),
        event("CreateVpcPeeringConnection"),
        event("DeleteVpcPeeringConnection"),
        event("RejectVpcPeeringConnection"),
    ]),
    optional: &[],
    event_source: Some("ec2.amazonaws.com"),
    pattern: "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
};

pub static VPC_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_vpc_changes",
        title: "VPC changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "New VPCs and peering connections change what can reach what; they should not appear unnoticed.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_vpc_changes",
            "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.14"), ("aws-securityhub", "CloudWatch.14"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &VPC_CHANGES_FAMILY),
};

pub(crate) static ORGANIZATIONS_CHANGES_FAMILY: Family = Family {
    what: "AWS Organizations changes",
    required: Need::AnyOf(&[
        event("AcceptHandshake"),
        event("AttachPolicy"),
        event("CreateAccount"),
        event("CreateOrganizationalUnit"),
        event("CreatePolicy"),
        event("DeclineHandshake"),
        event("DeleteOrganization"),
        event("DeleteOrganizationalUnit"),
        event("DeletePolicy"),
        event("DetachPolicy"),
        event("DisablePolicyType"),
        event("EnablePolicyType"),
        event("InviteAccountToOrganization"),
        event("LeaveOrganization"),
        event("MoveAccount"),
        event("RemoveAccountFromOrganization"),
        event("UpdatePolicy"),
        event("UpdateOrganizationalUnit"),
    ]),
    optional: &[],
    event_source: Some("organizations.amazonaws.com"),
    pattern: "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }",
};

pub static ORGANIZATIONS_CHANGES: FnCheck = FnCheck {
    metadata: Metadata {
        id: "cloudwatch_alarm_organizations_changes",
        title: "AWS Organizations changes are monitored with a metric filter, an alarm and a subscribed topic",
        service: "cloudwatch",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Changes to the organization (accounts leaving, SCPs detached) remove guard rails from every member account.",
        remediation: monitoring_remediation!(
            "cloudwatch_alarm_organizations_changes",
            "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }"
        ),
        references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
        frameworks: &[("cis-aws-5.0", "4.15"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
        reads: TRAILS,
    },
    run: |metadata, context, findings| judge_family(metadata, context, findings, &ORGANIZATIONS_CHANGES_FAMILY),
};

/// Every monitoring family with its check, in CIS order.
#[cfg(test)]
pub(crate) static FAMILIES: &[(&FnCheck, &Family)] = &[
    (&UNAUTHORIZED_API_CALLS, &UNAUTHORIZED_API_CALLS_FAMILY),
    (&CONSOLE_SIGNIN_WITHOUT_MFA, &CONSOLE_SIGNIN_WITHOUT_MFA_FAMILY),
    (&ROOT_USAGE, &ROOT_USAGE_FAMILY),
    (&IAM_POLICY_CHANGES, &IAM_POLICY_CHANGES_FAMILY),
    (&CLOUDTRAIL_CHANGES, &CLOUDTRAIL_CHANGES_FAMILY),
    (&CONSOLE_AUTH_FAILURES, &CONSOLE_AUTH_FAILURES_FAMILY),
    (&CMK_DISABLE_OR_DELETION, &CMK_DISABLE_OR_DELETION_FAMILY),
    (&S3_BUCKET_POLICY_CHANGES, &S3_BUCKET_POLICY_CHANGES_FAMILY),
    (&CONFIG_CHANGES, &CONFIG_CHANGES_FAMILY),
    (&SECURITY_GROUP_CHANGES, &SECURITY_GROUP_CHANGES_FAMILY),
    (&NACL_CHANGES, &NACL_CHANGES_FAMILY),
    (&NETWORK_GATEWAY_CHANGES, &NETWORK_GATEWAY_CHANGES_FAMILY),
    (&ROUTE_TABLE_CHANGES, &ROUTE_TABLE_CHANGES_FAMILY),
    (&VPC_CHANGES, &VPC_CHANGES_FAMILY),
    (&ORGANIZATIONS_CHANGES, &ORGANIZATIONS_CHANGES_FAMILY),
];

#[cfg(test)]
mod tests {
    use vigil_model::monitoring::{EventSelector, MetricAlarm, MetricTransformation, Subscription, Topic, TrailEventSelectors, TrailStatus};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    const REGION: &str = "us-east-1";
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:security-alerts";

    #[test]
    fn terms_ignore_whitespace_and_quoting() {
        let spaced = terms("{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != Yes) }");
        let tight = terms("{($.eventName=ConsoleLogin)&&($.additionalEventData.MFAUsed!='Yes')}");
        assert_eq!(spaced, tight);
        assert_eq!(spaced, vec![Term::new("eventName", "=", "ConsoleLogin"), Term::new("additionalEventData.MFAUsed", "!=", "Yes")]);
        assert_eq!(terms("{ $.userIdentity.invokedBy NOT EXISTS }"), vec![Term::new("userIdentity.invokedBy", "NOT EXISTS", "")]);
        assert_eq!(terms("{ ($.errorMessage = \"Failed authentication\") }"), vec![Term::new("errorMessage", "=", "Failed authentication")]);
        assert!(terms("garbage $. = ").iter().all(|term| term.field.is_empty()));
    }

    #[test]
    fn every_documented_pattern_covers_its_family_and_no_other() {
        for (check, family) in FAMILIES {
            assert!(family.covered_by(family.pattern), "{} does not accept its own pattern", check.metadata.id);
            for (other_check, other) in FAMILIES {
                if other_check.metadata.id != check.metadata.id && family.covered_by(other.pattern) {
                    panic!("{} accepts the pattern of {}", check.metadata.id, other_check.metadata.id);
                }
            }
        }
    }

    #[test]
    fn narrowed_or_incomplete_patterns_are_rejected_and_harmless_variants_accepted() {
        let family = &CONSOLE_SIGNIN_WITHOUT_MFA_FAMILY;
        assert!(family.covered_by("{ ($.eventName = ConsoleLogin) && ($.additionalEventData.MFAUsed != Yes) && ($.userIdentity.type = IAMUser) && ($.responseElements.ConsoleLogin = Success) }"));
        assert!(!family.covered_by("{ ($.eventName = ConsoleLogin) }"));
        assert!(!family.covered_by("{ ($.eventName = ConsoleLogin) && ($.additionalEventData.MFAUsed != Yes) && ($.userIdentity.userName = bob) }"));
        let cloudtrail = &CLOUDTRAIL_CHANGES_FAMILY;
        assert!(cloudtrail.covered_by("{($.eventSource=cloudtrail.amazonaws.com)&&(($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||($.eventName=StartLogging)||($.eventName=StopLogging)||($.eventName=PutEventSelectors))}"));
        assert!(!cloudtrail.covered_by("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }"));
        assert!(!cloudtrail.covered_by("{($.eventSource=ec2.amazonaws.com)&&(($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||($.eventName=StartLogging)||($.eventName=StopLogging))}"));
        assert!(!ROOT_USAGE_FAMILY.covered_by("{ $.userIdentity.type = \"Root\" }"));
    }

    /// An inventory with a logging multi-region trail delivering to `trail-logs`, a metric
    /// filter with `pattern`, an alarm on it and a topic with `confirmed` subscription.
    fn monitored(pattern: &str, confirmed: bool) -> vigil_model::Inventory {
        let mut inventory = inventory();
        let trail_arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main");
        for (service, operation, target) in [
            ("cloudtrail", "DescribeTrails", None),
            ("cloudtrail", "GetTrailStatus", Some(trail_arn.as_str())),
            ("cloudtrail", "GetEventSelectors", Some(trail_arn.as_str())),
            ("logs", "DescribeMetricFilters", None),
            ("cloudwatch", "DescribeAlarms", None),
            ("sns", "ListTopics", None),
            ("sns", "ListSubscriptionsByTopic", Some(TOPIC)),
        ] {
            read(&mut inventory, service, REGION, operation, target);
        }
        let regional = inventory.regional.get_mut(&REGION.into()).unwrap();
        regional.trails = vec![Trail {
            name: "main".into(),
            trail_arn,
            is_multi_region_trail: true,
            cloud_watch_logs_log_group_arn: Some(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail-logs:*")),
            status: Some(TrailStatus { is_logging: true, ..Default::default() }),
            event_selectors: Some(TrailEventSelectors {
                event_selectors: vec![EventSelector { read_write_type: Some("All".into()), include_management_events: Some(true), ..Default::default() }],
                advanced_event_selectors: vec![],
            }),
            ..Default::default()
        }];
        regional.metric_filters = vec![MetricFilter {
            filter_name: "watch".into(),
            filter_pattern: Some(pattern.into()),
            log_group_name: Some("trail-logs".into()),
            metric_transformations: vec![MetricTransformation {
                metric_name: "Watched".into(),
                metric_namespace: "CISBenchmark".into(),
                metric_value: Some("1".into()),
            }],
        }];
        regional.metric_alarms = vec![MetricAlarm {
            alarm_name: "watched-alarm".into(),
            metric_name: Some("Watched".into()),
            namespace: Some("CISBenchmark".into()),
            alarm_actions: vec![TOPIC.into()],
            actions_enabled: true,
            ..Default::default()
        }];
        let subscription_arn = if confirmed { format!("{TOPIC}:0f1e2d") } else { "PendingConfirmation".to_string() };
        regional.sns_topics = vec![Topic {
            topic_arn: TOPIC.into(),
            subscriptions: vec![Subscription { subscription_arn, protocol: "email".into(), endpoint: Some("soc@example.com".into()), owner: None }],
            ..Default::default()
        }];
        inventory
    }

    #[test]
    fn a_complete_chain_passes_and_each_missing_link_fails_with_its_reason() {
        let pattern = ROOT_USAGE_FAMILY.pattern;
        assert_eq!(run(&ROOT_USAGE, &monitored(pattern, true))[0].status, Status::Pass);
        let unsubscribed = run(&ROOT_USAGE, &monitored(pattern, false));
        assert_eq!(unsubscribed[0].status, Status::Fail);
        assert!(unsubscribed[0].message.contains("confirmed subscription"), "{}", unsubscribed[0].message);
        let other = run(&ROOT_USAGE, &monitored(CONFIG_CHANGES_FAMILY.pattern, true));
        assert_eq!(other[0].status, Status::Fail);
        assert!(other[0].message.contains("No metric filter"), "{}", other[0].message);
        let mut no_alarm = monitored(pattern, true);
        no_alarm.regional.get_mut(&REGION.into()).unwrap().metric_alarms.clear();
        assert!(run(&ROOT_USAGE, &no_alarm)[0].message.contains("no alarm"));
        let mut stopped = monitored(pattern, true);
        stopped.regional.get_mut(&REGION.into()).unwrap().trails[0].status = Some(TrailStatus::default());
        assert!(run(&ROOT_USAGE, &stopped)[0].message.contains("No logging multi-region trail"));
    }

    #[test]
    fn an_unread_link_is_an_error_naming_the_call_unless_another_chain_is_complete() {
        for operation in ["DescribeMetricFilters", "DescribeAlarms", "ListSubscriptionsByTopic"] {
            let mut inventory = monitored(ROOT_USAGE_FAMILY.pattern, true);
            inventory.ledger.calls.retain(|call| call.operation != operation);
            let target = (operation == "ListSubscriptionsByTopic").then_some(TOPIC);
            let service = match operation {
                "DescribeMetricFilters" => "logs",
                "DescribeAlarms" => "cloudwatch",
                _ => "sns",
            };
            record(&mut inventory, service, REGION, operation, target, denied());
            let finding = &run(&ROOT_USAGE, &inventory)[0];
            assert_eq!(finding.status, Status::Error, "{operation}");
            assert!(finding.message.contains(operation), "{}", finding.message);
        }
    }
}
