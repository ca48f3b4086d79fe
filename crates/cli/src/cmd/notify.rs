//! `--notify`: after a scan (or an event update) is stored, queue its new findings at or above
//! a severity in the store's outbox, once per target, and deliver what is pending, retrying
//! with backoff. Undelivered notices stay pending and are retried by the next run.

use std::time::Duration;

use vigil_checks::Severity;
use vigil_notify::{Notice, Target};
use vigil_store::{ScanId, Store};

#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// Notify new findings to this target (repeatable): webhook:URL (signed JSON), slack:URL
    /// (Slack-compatible incoming webhook) or sns:TOPIC_ARN.
    #[arg(long = "notify", value_name = "TARGET", value_parser = Target::parse)]
    pub targets: Vec<Target>,
    /// Notify only new findings at or above this severity.
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub notify_severity: Severity,
    /// Send one digest message per target instead of one message per finding.
    #[arg(long)]
    pub notify_digest: bool,
    /// Secret for the webhooks' `X-Vigil-Signature: sha256=<HMAC-SHA256 of the body>` header.
    #[arg(long, env = "VIGIL_WEBHOOK_SECRET", value_name = "SECRET", hide_env_values = true)]
    pub notify_secret: Option<String>,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("`{text}` is not a severity: use informational, low, medium, high or critical"))
}

/// Attempts per delivery within one run, with 1 s then 2 s between them.
const ATTEMPTS: u32 = 3;

/// Queues the scan's new findings for every target and delivers everything pending.
/// `sdk_config` is needed only for SNS targets. Delivery failures are reported, not fatal.
pub fn after_store(args: &NotifyArgs, store: &mut Store, scan_id: ScanId, sdk_config: Option<&aws_types::SdkConfig>, quiet: bool) -> anyhow::Result<()> {
    if args.targets.is_empty() {
        return Ok(());
    }
    let notices: Vec<Notice> = store
        .new_findings(scan_id)?
        .into_iter()
        .filter(|finding| finding.status == "FAIL" && Severity::parse(&finding.severity).is_some_and(|severity| severity >= args.notify_severity))
        .map(|finding| Notice {
            kind: "finding".into(),
            key: finding.notice_key,
            title: finding.detail["check_title"].as_str().unwrap_or(&finding.check_id).to_string(),
            severity: finding.severity,
            resource: finding.resource_arn,
            account_id: finding.account_id,
            region: finding.region,
            detail: finding.detail,
        })
        .collect();
    deliver_notices(args, store, &notices, sdk_config, quiet)
}

/// Queues new activity alerts at or above the severity (Sigma levels use the same names).
pub fn after_alerts(
    args: &NotifyArgs,
    store: &mut Store,
    alerts: &[vigil_store::AlertInput],
    sdk_config: Option<&aws_types::SdkConfig>,
    quiet: bool,
) -> anyhow::Result<()> {
    if args.targets.is_empty() {
        return Ok(());
    }
    let notices: Vec<Notice> = alerts
        .iter()
        .filter(|alert| Severity::parse(&alert.level).is_some_and(|severity| severity >= args.notify_severity))
        .map(|alert| Notice {
            kind: "alert".into(),
            key: format!("alert:{}|{}", alert.rule_id, alert.event_id),
            severity: alert.level.clone(),
            title: alert.rule_title.clone(),
            resource: format!("{} ({})", alert.event_name, alert.event_id),
            account_id: alert.account_id.clone().unwrap_or_default(),
            region: alert.detail["aws_region"].as_str().unwrap_or_default().to_string(),
            detail: alert.detail.clone(),
        })
        .collect();
    deliver_notices(args, store, &notices, sdk_config, quiet)
}

/// Queues the notices for every target and delivers everything pending there.
fn deliver_notices(args: &NotifyArgs, store: &mut Store, notices: &[Notice], sdk_config: Option<&aws_types::SdkConfig>, quiet: bool) -> anyhow::Result<()> {
    let now = chrono::Utc::now().to_rfc3339();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    for target in &args.targets {
        let queued: Vec<(String, String)> = notices.iter().map(|notice| (notice.key.clone(), serde_json::to_string(notice).unwrap_or_default())).collect();
        store.enqueue(&target.name(), &queued, &now)?;
        let pending = store.pending(&target.name())?;
        let pending_notices: Vec<Notice> = pending.iter().filter_map(|queued| serde_json::from_str(&queued.payload).ok()).collect();
        let batches: Vec<Vec<&Notice>> =
            if args.notify_digest { vec![pending_notices.iter().collect()] } else { pending_notices.iter().map(|notice| vec![notice]).collect() };
        let (mut sent, mut failed) = (0, 0);
        for batch in batches.into_iter().filter(|batch| !batch.is_empty()) {
            let owned: Vec<Notice> = batch.iter().map(|notice| (*notice).clone()).collect();
            let keys: Vec<String> = owned.iter().map(|notice| notice.key.clone()).collect();
            let outcome = runtime.block_on(deliver(args, target, &owned, sdk_config));
            store.mark_delivery(&target.name(), &keys, outcome.as_ref().map(|_| ()).map_err(String::as_str), &chrono::Utc::now().to_rfc3339())?;
            match outcome {
                Ok(()) => sent += keys.len(),
                Err(error) => {
                    failed += keys.len();
                    eprintln!("warning: notification to {} failed after {ATTEMPTS} attempts: {error}; kept in the outbox for the next run", target.name());
                }
            }
        }
        if !quiet && sent + failed > 0 {
            eprintln!("notified {}: {sent} sent, {failed} pending", target.name());
        }
    }
    Ok(())
}

async fn deliver(args: &NotifyArgs, target: &Target, notices: &[Notice], sdk_config: Option<&aws_types::SdkConfig>) -> Result<(), String> {
    let messages = vigil_notify::render(target, notices, true);
    let mut last_error = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let mut result = Ok(());
        for message in &messages {
            result = match target {
                Target::Webhook { url } => {
                    vigil_notify::post(url, &message.body, args.notify_secret.as_deref().map(str::as_bytes)).await.map_err(|error| error.to_string())
                }
                Target::Slack { url } => vigil_notify::post(url, &message.body, None).await.map_err(|error| error.to_string()),
                Target::Sns { topic_arn } => match sdk_config {
                    Some(config) => {
                        vigil_collect::targeted::publish(config, topic_arn, &message.subject, &message.body).await.map_err(|error| error.to_string())
                    }
                    None => Err("no AWS configuration for SNS".to_string()),
                },
            };
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => return Ok(()),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}
