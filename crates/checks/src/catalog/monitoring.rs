//! CIS monitoring checks (v5.0.0 section 4): for each family of sensitive API activity, a
//! logging multi-region trail that delivers to CloudWatch Logs, a metric filter on its log group
//! whose pattern covers the documented terms, an alarm on that metric, and an SNS topic with at
//! least one confirmed subscription behind the alarm.
//!
//! Filter patterns are compared as sets of predicates (`$.field op value`), after normalizing
//! whitespace and quoting: every documented term must be present, and every other term must be
//! one the benchmark documents as an optional narrowing, an `eventSource` of the family's
//! service, or (for families that are a list of event names) another event name, which only
//! widens the filter.

use serde_json::{Value, json};
use vigil_model::Region;
use vigil_model::monitoring::{MetricFilter, Trail};

use super::FnCheck;
use super::logging::logs_all_management_events;
use super::support::regional;
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

/// The terms of a JSON filter pattern, in order. Whitespace and quotes do not matter.
pub(crate) fn terms(pattern: &str) -> Vec<Term> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut terms = Vec::new();
    let mut index = 0;
    while index + 1 < chars.len() {
        if !(chars[index] == '$' && chars[index + 1] == '.') {
            index += 1;
            continue;
        }
        let start = index + 2;
        let mut end = start;
        while end < chars.len() && (chars[end].is_alphanumeric() || matches!(chars[end], '.' | '_' | '-' | '[' | ']' | '*')) {
            end += 1;
        }
        let field: String = chars[start..end].iter().collect();
        let mut cursor = end;
        while cursor < chars.len() && chars[cursor].is_whitespace() {
            cursor += 1;
        }
        let rest: String = chars[cursor..].iter().collect::<String>();
        let upper = rest.to_ascii_uppercase();
        let keyword = ["NOT EXISTS", "IS NULL", "EXISTS"].into_iter().find(|keyword| upper.starts_with(keyword));
        if let Some(keyword) = keyword {
            terms.push(Term::new(&field, keyword, ""));
            index = cursor + keyword.len();
            continue;
        }
        let Some(operator) = ["!=", ">=", "<=", "=", ">", "<"].into_iter().find(|operator| rest.starts_with(operator)) else {
            index = cursor.max(index + 1);
            continue;
        };
        cursor += operator.len();
        while cursor < chars.len() && chars[cursor].is_whitespace() {
            cursor += 1;
        }
        let mut value = String::new();
        if cursor < chars.len() && (chars[cursor] == '"' || chars[cursor] == '\'') {
            let quote = chars[cursor];
            cursor += 1;
            while cursor < chars.len() && chars[cursor] != quote {
                value.push(chars[cursor]);
                cursor += 1;
            }
            cursor += 1;
        } else {
            while cursor < chars.len() && !matches!(chars[cursor], ')' | '&' | '|' | '}') {
                value.push(chars[cursor]);
                cursor += 1;
            }
        }
        terms.push(Term::new(&field, operator, value.trim()));
        index = cursor;
    }
    terms
}

/// A family of API activity the benchmark asks to monitor.
#[derive(Debug)]
pub(crate) struct Family {
    /// What is monitored, for messages ("unauthorized API calls").
    pub what: &'static str,
    /// Terms the pattern must contain, as (field, operator, value).
    pub required: &'static [(&'static str, &'static str, &'static str)],
    /// Terms the benchmark documents as optional narrowing.
    pub optional: &'static [(&'static str, &'static str, &'static str)],
    /// The service whose `eventSource` may narrow the pattern without losing events.
    pub event_source: Option<&'static str>,
    /// The documented pattern, for remediation and evidence.
    pub pattern: &'static str,
}

impl Family {
    /// True when every required term is present and no other term narrows the filter.
    pub(crate) fn covered_by(&self, pattern: &str) -> bool {
        let found = terms(pattern);
        let as_term = |(field, operator, value): &(&str, &str, &str)| Term::new(field, operator, value);
        let required: Vec<Term> = self.required.iter().map(as_term).collect();
        let optional: Vec<Term> = self.optional.iter().map(as_term).collect();
        let event_list = self.required.iter().all(|(field, operator, _)| *field == "eventName" && *operator == "=");
        let harmless = |term: &Term| {
            required.contains(term)
                || optional.contains(term)
                || (term.field == "eventSource" && term.operator == "=" && self.event_source == Some(term.value.as_str()))
                || (event_list && term.field == "eventName" && term.operator == "=")
        };
        required.iter().all(|term| found.contains(term)) && found.iter().all(harmless)
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
    let mut needs: Vec<Needs<'_>> = inventory.regions.iter().map(|region| Needs::call("cloudtrail", region.as_str(), "DescribeTrails")).collect();
    let mut stage = Stage::Trail;
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
    let message = match stage {
        Stage::Trail => "No logging multi-region trail with all management events delivers to CloudWatch Logs.".to_string(),
        Stage::Filter => format!("No metric filter on the trail's log group matches the pattern for {}.", family.what),
        Stage::Alarm => format!("The metric filter for {} has no alarm on its metric.", family.what),
        Stage::SubscribedTopic => format!("The alarm for {} notifies no SNS topic with a confirmed subscription.", family.what),
    };
    findings.push(context.verdict(metadata, &subject, false, message, json!({ "ExpectedPattern": family.pattern, "MetricFilters": seen_filters })));
}

macro_rules! monitoring_check {
    ($name:ident, $run:ident, $family:ident, $id:literal, $title:literal, $severity:expr, $risk:literal, $frameworks:expr, $metric:literal, { $($family_fields:tt)* }) => {
        pub(crate) static $family: Family = Family { $($family_fields)* };

        pub static $name: FnCheck = FnCheck {
            metadata: Metadata {
                id: $id,
                title: $title,
                service: "cloudwatch",
                resource_type: "AWS::::Account",
                severity: $severity,
                risk: $risk,
                remediation: Remediation {
                    text: concat!(
                        "On the log group of a logging multi-region trail, create a metric filter with the benchmark's pattern, an alarm on its metric (Sum >= 1 over 300 s) and an SNS topic with a confirmed subscription as the alarm action. Pattern: ",
                        $metric
                    ),
                    cli: concat!(
                        "aws logs put-metric-filter --log-group-name TRAIL_LOG_GROUP --filter-name ", $id, " --metric-transformations metricName=", $id, ",metricNamespace=CISBenchmark,metricValue=1 --filter-pattern '", $metric, "'\n",
                        "aws cloudwatch put-metric-alarm --alarm-name ", $id, " --metric-name ", $id, " --namespace CISBenchmark --statistic Sum --period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 --alarm-actions SNS_TOPIC_ARN"
                    ),
                    terraform: concat!(
                        "resource \"aws_cloudwatch_log_metric_filter\" \"", $id, "\" {\n  name           = \"", $id, "\"\n  log_group_name = aws_cloudwatch_log_group.trail.name\n  pattern        = <<-EOT\n    ", $metric, "\n  EOT\n  metric_transformation {\n    name      = \"", $id, "\"\n    namespace = \"CISBenchmark\"\n    value     = \"1\"\n  }\n}\n\n",
                        "resource \"aws_cloudwatch_metric_alarm\" \"", $id, "\" {\n  alarm_name          = \"", $id, "\"\n  metric_name         = \"", $id, "\"\n  namespace           = \"CISBenchmark\"\n  statistic           = \"Sum\"\n  period              = 300\n  threshold           = 1\n  comparison_operator = \"GreaterThanOrEqualToThreshold\"\n  evaluation_periods  = 1\n  alarm_actions       = [aws_sns_topic.security_alerts.arn]\n}"
                    ),
                },
                references: &["https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"],
                frameworks: $frameworks,
            },
            run: $run,
        };

        fn $run(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
            judge_family(metadata, context, findings, &$family);
        }
    };
}

monitoring_check!(UNAUTHORIZED_API_CALLS, unauthorized_api_calls, UNAUTHORIZED_API_CALLS_FAMILY,
    "cloudwatch_alarm_unauthorized_api_calls", "Unauthorized API calls are monitored with a metric filter, an alarm and a subscribed topic", Severity::Medium,
    "Bursts of AccessDenied errors are how reconnaissance with stolen credentials, and misconfigured automation, show up first.",
    &[("cis-aws-5.0", "4.1"), ("aws-securityhub", "CloudWatch.2"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }",
    {
        what: "unauthorized API calls",
        required: &[("errorCode", "=", "*UnauthorizedOperation"), ("errorCode", "=", "AccessDenied*")],
        optional: &[("sourceIPAddress", "!=", "delivery.logs.amazonaws.com"), ("eventName", "!=", "HeadBucket")],
        event_source: None,
        pattern: "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }",
    }
);

monitoring_check!(CONSOLE_SIGNIN_WITHOUT_MFA, console_signin_without_mfa, CONSOLE_SIGNIN_WITHOUT_MFA_FAMILY,
    "cloudwatch_alarm_console_signin_without_mfa", "Console sign-ins without MFA are monitored with a metric filter, an alarm and a subscribed topic", Severity::Medium,
    "A console sign-in without MFA is either a user the MFA policy missed or a stolen password in use.",
    &[("cis-aws-5.0", "4.2"), ("aws-securityhub", "CloudWatch.3"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }",
    {
        what: "console sign-ins without MFA",
        required: &[("eventName", "=", "ConsoleLogin"), ("additionalEventData.MFAUsed", "!=", "Yes")],
        optional: &[("userIdentity.type", "=", "IAMUser"), ("responseElements.ConsoleLogin", "=", "Success")],
        event_source: Some("signin.amazonaws.com"),
        pattern: "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }",
    }
);

monitoring_check!(ROOT_USAGE, root_usage, ROOT_USAGE_FAMILY,
    "cloudwatch_alarm_root_usage", "Use of the root user is monitored with a metric filter, an alarm and a subscribed topic", Severity::High,
    "Root activity should be rare and expected; an unannounced root sign-in or API call is one of the strongest signs of account takeover.",
    &[("cis-aws-5.0", "4.3"), ("aws-securityhub", "CloudWatch.1"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }",
    {
        what: "use of the root user",
        required: &[("userIdentity.type", "=", "Root"), ("userIdentity.invokedBy", "NOT EXISTS", ""), ("eventType", "!=", "AwsServiceEvent")],
        optional: &[],
        event_source: None,
        pattern: "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }",
    }
);

monitoring_check!(IAM_POLICY_CHANGES, iam_policy_changes, IAM_POLICY_CHANGES_FAMILY,
    "cloudwatch_alarm_iam_policy_changes", "IAM policy changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Medium,
    "Attaching or rewriting a policy is how privilege escalation and persistence are done; each change should reach a human.",
    &[("cis-aws-5.0", "4.4"), ("aws-securityhub", "CloudWatch.4"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    {
        what: "IAM policy changes",
        required: &[
            event("DeleteGroupPolicy"), event("DeleteRolePolicy"), event("DeleteUserPolicy"), event("PutGroupPolicy"), event("PutRolePolicy"), event("PutUserPolicy"),
            event("CreatePolicy"), event("DeletePolicy"), event("CreatePolicyVersion"), event("DeletePolicyVersion"), event("AttachRolePolicy"), event("DetachRolePolicy"),
            event("AttachUserPolicy"), event("DetachUserPolicy"), event("AttachGroupPolicy"), event("DetachGroupPolicy"),
        ],
        optional: &[],
        event_source: Some("iam.amazonaws.com"),
        pattern: "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    }
);

monitoring_check!(CLOUDTRAIL_CHANGES, cloudtrail_changes, CLOUDTRAIL_CHANGES_FAMILY,
    "cloudwatch_alarm_cloudtrail_configuration_changes", "CloudTrail configuration changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Medium,
    "Stopping, deleting or redirecting a trail blinds the audit log; attackers do it first.",
    &[("cis-aws-5.0", "4.5"), ("aws-securityhub", "CloudWatch.5"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    {
        what: "CloudTrail configuration changes",
        required: &[event("CreateTrail"), event("UpdateTrail"), event("DeleteTrail"), event("StartLogging"), event("StopLogging")],
        optional: &[],
        event_source: Some("cloudtrail.amazonaws.com"),
        pattern: "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    }
);

monitoring_check!(CONSOLE_AUTH_FAILURES, console_auth_failures, CONSOLE_AUTH_FAILURES_FAMILY,
    "cloudwatch_alarm_console_authentication_failures", "Console authentication failures are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "Repeated failed console sign-ins are password guessing in progress.",
    &[("cis-aws-5.0", "4.6"), ("aws-securityhub", "CloudWatch.6"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }",
    {
        what: "console authentication failures",
        required: &[("eventName", "=", "ConsoleLogin"), ("errorMessage", "=", "Failed authentication")],
        optional: &[],
        event_source: Some("signin.amazonaws.com"),
        pattern: "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }",
    }
);

monitoring_check!(CMK_DISABLE_OR_DELETION, cmk_disable_or_deletion, CMK_DISABLE_OR_DELETION_FAMILY,
    "cloudwatch_alarm_cmk_disable_or_deletion", "Disabling or scheduled deletion of customer managed keys is monitored with a metric filter, an alarm and a subscribed topic", Severity::Medium,
    "Disabling or deleting a KMS key makes every piece of data encrypted under it unreadable: a ransom or sabotage move.",
    &[("cis-aws-5.0", "4.7"), ("aws-securityhub", "CloudWatch.7"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    {
        what: "disabling or scheduled deletion of customer managed keys",
        required: &[event("DisableKey"), event("ScheduleKeyDeletion")],
        optional: &[],
        event_source: Some("kms.amazonaws.com"),
        pattern: "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    }
);

monitoring_check!(S3_BUCKET_POLICY_CHANGES, s3_bucket_policy_changes, S3_BUCKET_POLICY_CHANGES_FAMILY,
    "cloudwatch_alarm_s3_bucket_policy_changes", "S3 bucket policy changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Medium,
    "A changed bucket policy or ACL can expose a bucket to the internet in one call.",
    &[("cis-aws-5.0", "4.8"), ("aws-securityhub", "CloudWatch.8"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    {
        what: "S3 bucket policy changes",
        required: &[
            event("PutBucketAcl"), event("PutBucketPolicy"), event("PutBucketCors"), event("PutBucketLifecycle"), event("PutBucketReplication"),
            event("DeleteBucketPolicy"), event("DeleteBucketCors"), event("DeleteBucketLifecycle"), event("DeleteBucketReplication"),
        ],
        optional: &[],
        event_source: Some("s3.amazonaws.com"),
        pattern: "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    }
);

monitoring_check!(CONFIG_CHANGES, config_changes, CONFIG_CHANGES_FAMILY,
    "cloudwatch_alarm_config_changes", "AWS Config configuration changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "Stopping the recorder or removing the delivery channel erases the configuration history investigators rely on.",
    &[("cis-aws-5.0", "4.9"), ("aws-securityhub", "CloudWatch.9"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    {
        what: "AWS Config configuration changes",
        required: &[event("StopConfigurationRecorder"), event("DeleteDeliveryChannel"), event("PutDeliveryChannel"), event("PutConfigurationRecorder")],
        optional: &[],
        event_source: Some("config.amazonaws.com"),
        pattern: "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    }
);

monitoring_check!(SECURITY_GROUP_CHANGES, security_group_changes, SECURITY_GROUP_CHANGES_FAMILY,
    "cloudwatch_alarm_security_group_changes", "Security group changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "An opened security group is the most direct way to expose a service; changes should be seen when they happen.",
    &[("cis-aws-5.0", "4.10"), ("aws-securityhub", "CloudWatch.10"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    {
        what: "security group changes",
        required: &[
            event("AuthorizeSecurityGroupIngress"), event("AuthorizeSecurityGroupEgress"), event("RevokeSecurityGroupIngress"), event("RevokeSecurityGroupEgress"),
            event("CreateSecurityGroup"), event("DeleteSecurityGroup"),
        ],
        optional: &[],
        event_source: Some("ec2.amazonaws.com"),
        pattern: "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    }
);

monitoring_check!(NACL_CHANGES, nacl_changes, NACL_CHANGES_FAMILY,
    "cloudwatch_alarm_nacl_changes", "Network ACL changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "Network ACL changes can open whole subnets at once.",
    &[("cis-aws-5.0", "4.11"), ("aws-securityhub", "CloudWatch.11"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    {
        what: "network ACL changes",
        required: &[
            event("CreateNetworkAcl"), event("CreateNetworkAclEntry"), event("DeleteNetworkAcl"), event("DeleteNetworkAclEntry"), event("ReplaceNetworkAclEntry"),
            event("ReplaceNetworkAclAssociation"),
        ],
        optional: &[],
        event_source: Some("ec2.amazonaws.com"),
        pattern: "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    }
);

monitoring_check!(NETWORK_GATEWAY_CHANGES, network_gateway_changes, NETWORK_GATEWAY_CHANGES_FAMILY,
    "cloudwatch_alarm_network_gateway_changes", "Network gateway changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "A new or re-attached internet or customer gateway creates a path in or out of the network.",
    &[("cis-aws-5.0", "4.12"), ("aws-securityhub", "CloudWatch.12"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    {
        what: "network gateway changes",
        required: &[
            event("CreateCustomerGateway"), event("DeleteCustomerGateway"), event("AttachInternetGateway"), event("CreateInternetGateway"), event("DeleteInternetGateway"),
            event("DetachInternetGateway"),
        ],
        optional: &[],
        event_source: Some("ec2.amazonaws.com"),
        pattern: "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    }
);

monitoring_check!(ROUTE_TABLE_CHANGES, route_table_changes, ROUTE_TABLE_CHANGES_FAMILY,
    "cloudwatch_alarm_route_table_changes", "Route table changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "A changed route can send traffic through an attacker-controlled appliance or out of the network.",
    &[("cis-aws-5.0", "4.13"), ("aws-securityhub", "CloudWatch.13"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    {
        what: "route table changes",
        required: &[
            event("CreateRoute"), event("CreateRouteTable"), event("ReplaceRoute"), event("ReplaceRouteTableAssociation"), event("DeleteRouteTable"), event("DeleteRoute"),
            event("DisassociateRouteTable"),
        ],
        optional: &[],
        event_source: Some("ec2.amazonaws.com"),
        pattern: "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    }
);

monitoring_check!(VPC_CHANGES, vpc_changes, VPC_CHANGES_FAMILY,
    "cloudwatch_alarm_vpc_changes", "VPC changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "New VPCs and peering connections change what can reach what; they should not appear unnoticed.",
    &[("cis-aws-5.0", "4.14"), ("aws-securityhub", "CloudWatch.14"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    {
        what: "VPC changes",
        // ClassicLink was retired in 2022: its event names are accepted but not required.
        required: &[
            event("CreateVpc"), event("DeleteVpc"), event("ModifyVpcAttribute"), event("AcceptVpcPeeringConnection"), event("CreateVpcPeeringConnection"),
            event("DeleteVpcPeeringConnection"), event("RejectVpcPeeringConnection"),
        ],
        optional: &[],
        event_source: Some("ec2.amazonaws.com"),
        pattern: "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    }
);

monitoring_check!(ORGANIZATIONS_CHANGES, organizations_changes, ORGANIZATIONS_CHANGES_FAMILY,
    "cloudwatch_alarm_organizations_changes", "AWS Organizations changes are monitored with a metric filter, an alarm and a subscribed topic", Severity::Low,
    "Changes to the organization (accounts leaving, SCPs detached) remove guard rails from every member account.",
    &[("cis-aws-5.0", "4.15"), ("pci-dss-4.0", "10.4.1"), ("nist-800-53-r5", "SI-4")],
    "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }",
    {
        what: "AWS Organizations changes",
        required: &[
            event("AcceptHandshake"), event("AttachPolicy"), event("CreateAccount"), event("CreateOrganizationalUnit"), event("CreatePolicy"), event("DeclineHandshake"),
            event("DeleteOrganization"), event("DeleteOrganizationalUnit"), event("DeletePolicy"), event("DetachPolicy"), event("DisablePolicyType"), event("EnablePolicyType"),
            event("InviteAccountToOrganization"), event("LeaveOrganization"), event("MoveAccount"), event("RemoveAccountFromOrganization"), event("UpdatePolicy"),
            event("UpdateOrganizationalUnit"),
        ],
        optional: &[],
        event_source: Some("organizations.amazonaws.com"),
        pattern: "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }",
    }
);

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
