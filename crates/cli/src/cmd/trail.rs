//! `vigil trail`: hunt through CloudTrail logs with Sigma rules, search and summarise events,
//! and verify log-file integrity from digest files.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use serde_json::json;
use vigil_trail::hunt::{Alert, HuntResult, TimeRange};
use vigil_trail::shard::Shard;
use vigil_trail::sigma::{CompileOptions, CorrelationAlert, Loaded, Rejected, RuleSet};
use vigil_trail::{ReadReport, ScanOptions, Source};

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct TrailArgs {
    #[command(subcommand)]
    pub command: TrailCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TrailCommand {
    /// Run Sigma rules (built-in and your own) over CloudTrail logs and print the alerts.
    Hunt(HuntArgs),
    /// Print the records that match a filter such as `eventName=Delete* and userIdentity.type=Root`.
    Search(SearchArgs),
    /// Top principals, source addresses, actions and errors over a period.
    Summary(SummaryArgs),
    /// List the rules that load (built-in and --rules), and those that do not, with the reason.
    Rules(RulesArgs),
    /// Validate log-file integrity from CloudTrail digest files (hashes, chain, signatures).
    Verify(VerifyArgs),
}

/// Where logs come from.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log files, directories (walked; digest files skipped), `-` for standard input, or `s3://bucket/prefix`.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Only records at or after this time (RFC 3339, a date such as 2024-05-01, or an age such as 24h or 7d).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// Only records at or before this time (same forms as --from).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// AWS options for `s3://` paths.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// Named profile from ~/.aws/config, for s3:// paths.
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Region of the log bucket, for s3:// paths.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send S3 requests to this endpoint (an emulator or a proxy).
    #[arg(long, env = "VIGIL_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Sigma rule file or directory (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use the built-in detections (the default).
    #[arg(long, overrides_with = "no_builtin")]
    pub builtin: bool,
    /// Do not use the built-in detections.
    #[arg(long, overrides_with = "builtin")]
    pub no_builtin: bool,
    /// Value for a `%NAME%` placeholder of the `expand` modifier (repeatable; NAME=VALUE).
    #[arg(long = "placeholder", value_name = "NAME=VALUE")]
    pub placeholders: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HuntFormat {
    Table,
    Json,
    Jsonl,
    Ocsf,
}

#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub logs: LogArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format: a table, one JSON document, JSON Lines, or OCSF Detection Findings (JSON Lines).
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
    /// Write the alerts to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read only shard I of N (zero-based, as `vigil scan --shard`): N processes with 0/N .. N-1/N read each log object exactly
    /// once between them (split by a hash of the object's key from `AWSLogs/` on, so a bucket and
    /// a local copy split alike). Correlation rules then count only this shard's events.
    #[arg(long, value_name = "I/N", value_parser = super::work::parse_shard)]
    pub shard: Option<Shard>,
    /// Record the alerts in the store (once per rule and event; the default store, or --store).
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub store: super::history::StoreArgs,
    /// Notify new alerts (implies --record): same targets as `vigil scan --notify`.
    #[command(flatten)]
    pub notify: super::notify::NotifyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchFormat {
    Table,
    Json,
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Log paths followed by the filter (the last argument), e.g. `logs/ 'eventName=Delete* and not errorCode=*'`.
    #[arg(value_name = "PATH... WHERE", required = true, num_args = 2..)]
    pub arguments: Vec<String>,
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t = SearchFormat::Table)]
    pub format: SearchFormat,
    /// Print at most N records (0: all), in file order.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,
    /// Print the summary of the matching records instead of the records.
    #[arg(long)]
    pub summary: bool,
    /// Entries per list in the summary.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub logs: LogArgs,
    /// Entries per list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The trail's log folder: the directory that holds `CloudTrail/` and `CloudTrail-Digest/`
    /// (e.g. `AWSLogs/111122223333`), or any folder above them; or the same in a bucket,
    /// `s3://BUCKET/PREFIX` (digest signatures then come from the objects' metadata).
    #[arg(value_name = "DIR|s3://BUCKET/PREFIX")]
    pub path: String,
    /// The public keys of the region(s), as the JSON that `aws cloudtrail list-public-keys` prints.
    /// Without it, the keys are fetched with cloudtrail:ListPublicKeys in each digest's region.
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Only digests delivered at or after this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// Only digests delivered at or before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

/// Parses an RFC 3339 time, a date (midnight UTC), or an age (`90m`, `24h`, `7d`) before now.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(span_ms) = vigil_trail::sigma::correlation::parse_timespan(text) {
        return Ok(Utc::now() - chrono::Duration::milliseconds(span_ms));
    }
    Err(format!("`{text}` is not a time: use RFC 3339 (2024-05-01T12:00:00Z), a date (2024-05-01) or an age (24h, 7d)"))
}

fn time_range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> TimeRange {
    TimeRange { from_ms: from.map(|time| time.timestamp_millis()), to_ms: to.map(|time| time.timestamp_millis()) }
}

pub fn run(global: &GlobalArgs, args: TrailArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TrailCommand::Hunt(args) => hunt(global, args),
        TrailCommand::Search(args) => search(global, args),
        TrailCommand::Summary(args) => summary(global, args),
        TrailCommand::Rules(args) => rules(args),
        TrailCommand::Verify(args) => verify(global, args),
    }
}

fn load_rules(args: &RuleArgs) -> anyhow::Result<(RuleSet, Vec<Rejected>)> {
    let mut placeholders: HashMap<String, Vec<String>> = HashMap::new();
    for entry in &args.placeholders {
        let (name, value) = entry.split_once('=').with_context(|| format!("--placeholder `{entry}` is not NAME=VALUE"))?;
        placeholders.entry(name.trim_matches('%').to_string()).or_default().push(value.to_string());
    }
    let options = CompileOptions { placeholders, ..CompileOptions::default() };
    let mut loaded = Loaded::default();
    if !args.no_builtin {
        loaded.extend(vigil_trail::builtin::load(&options));
    }
    for path in &args.rules {
        loaded.extend(vigil_trail::sigma::files::load_path(path, &options)?);
    }
    let (set, rejected) = RuleSet::new(loaded);
    if set.rules.is_empty() {
        bail!("no rule loaded: give --rules DIR, or drop --no-builtin");
    }
    Ok((set, rejected))
}

fn print_rejected(rejected: &[Rejected]) {
    for rejection in rejected {
        let name = rejection.title.as_deref().or(rejection.id.as_deref()).unwrap_or("-");
        eprintln!("warning: rule not loaded: {} ({name}): {}", rejection.origin, rejection.reason);
    }
}

/// Runs `each` over the sources the paths name: local paths in one batch, each `s3://` URL in
/// batches of fetched objects (so memory holds one batch of objects at a time). With a shard,
/// only the files and objects of that shard (standard input cannot be split).
fn for_each_batch(
    paths: &[String],
    aws: &AwsArgs,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    shard: Option<Shard>,
    each: &mut dyn FnMut(&[Source]),
) -> anyhow::Result<()> {
    let (remote, local): (Vec<&String>, Vec<&String>) = paths.iter().partition(|path| path.starts_with("s3://"));
    if !local.is_empty() {
        let local: Vec<String> = local.into_iter().cloned().collect();
        let mut sources = vigil_trail::read::expand_paths(&local)?;
        if let Some(shard) = shard {
            if sources.iter().any(|source| matches!(source, Source::Stdin)) {
                bail!("--shard {shard} cannot split standard input: give files, directories or s3:// prefixes");
            }
            sources.retain(|source| shard.contains(&source.name()));
        }
        each(&sources);
    }
    if remote.is_empty() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let sdk_config = load_sdk_config(aws).await?;
        let client = vigil_collect::trail_logs::client(&sdk_config, aws.endpoint_url.is_some());
        for url in remote {
            let (bucket, prefix) = vigil_collect::trail_logs::parse_s3_url(url).with_context(|| format!("`{url}` is not s3://BUCKET/PREFIX"))?;
            let query = vigil_collect::trail_logs::TrailLogQuery { bucket: bucket.clone(), prefix, from, to };
            let mut objects = vigil_collect::trail_logs::list_log_objects(&client, &query).await?;
            let listed = objects.len();
            if let Some(shard) = shard {
                objects.retain(|object| shard.contains(&object.key));
            }
            tracing::info!("{} log objects under {url}, {} of them in this shard", listed, objects.len());
            for chunk in objects.chunks(32) {
                let mut tasks = tokio::task::JoinSet::new();
                for object in chunk {
                    let client = client.clone();
                    let bucket = bucket.clone();
                    let key = object.key.clone();
                    tasks.spawn(async move {
                        let bytes = vigil_collect::trail_logs::fetch_object(&client, &bucket, &key).await;
                        (key, bytes)
                    });
                }
                let mut sources = Vec::new();
                while let Some(joined) = tasks.join_next().await {
                    let (key, bytes) = joined?;
                    sources.push(Source::Memory { name: format!("s3://{bucket}/{key}"), bytes: bytes? });
                }
                sources.sort_by_key(Source::name);
                each(&sources);
            }
        }
        anyhow::Ok(())
    })
}

/// The AWS configuration for `s3://` paths and ListPublicKeys.
pub(crate) async fn load_sdk_config(aws: &AwsArgs) -> anyhow::Result<vigil_collect::trail_logs::SdkConfig> {
    let config = vigil_collect::CollectConfig {
        profile: aws.profile.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: 5,
        ..vigil_collect::CollectConfig::default()
    };
    let mut sdk_config = vigil_collect::load_sdk_config(&config).await?;
    if let Some(region) = &aws.region {
        sdk_config = sdk_config.to_builder().region(aws_region(region)).build();
    }
    Ok(sdk_config)
}

fn aws_region(region: &str) -> vigil_collect::trail_logs::Region {
    vigil_collect::trail_logs::Region::new(region.to_string())
}

fn print_read_report(report: &ReadReport, elapsed: std::time::Duration, global: &GlobalArgs) {
    if global.quiet {
        return;
    }
    let shown = if global.verbose > 0 { report.problems.len() } else { report.problems.len().min(20) };
    for problem in &report.problems[..shown] {
        match problem.record_index {
            Some(index) => eprintln!("warning: {}: record {index}: {}", problem.source, problem.reason),
            None => eprintln!("warning: {}", problem.reason),
        }
    }
    if report.problems.len() > shown {
        eprintln!("warning: {} more problems (run with -v to see them all)", report.problems.len() - shown);
    }
    let seconds = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "read {} records from {} files ({:.1} MB) in {:.2}s ({:.0} records/s); skipped {} malformed records; {} files could not be read to the end",
        report.records,
        report.files,
        report.bytes as f64 / 1e6,
        seconds,
        report.records as f64 / seconds,
        report.skipped_records,
        report.failed_files
    );
}

fn hunt(global: &GlobalArgs, args: HuntArgs) -> anyhow::Result<ExitCode> {
    let (set, rejected) = load_rules(&args.rules)?;
    if !global.quiet {
        print_rejected(&rejected);
    }
    if let Some(shard) = args.shard.filter(|_| !set.correlations.is_empty() && !global.quiet) {
        eprintln!(
            "warning: shard {shard}: {} correlation rules count only the events of this shard's log objects (the single-event alerts of all shards together are the whole hunt's)",
            set.correlations.len()
        );
    }
    let range = time_range(args.logs.from, args.logs.to);
    let started = Instant::now();
    let mut result: Option<HuntResult> = None;
    for_each_batch(&args.logs.paths, &args.logs.aws, args.logs.from, args.logs.to, args.shard, &mut |sources| {
        let batch = vigil_trail::hunt::hunt(&set, sources, range, ScanOptions::default());
        result = Some(match result.take() {
            Some(previous) => previous.merge(batch, &set),
            None => batch,
        });
    })?;
    let result = result.unwrap_or_default();
    print_read_report(&result.report, started.elapsed(), global);
    if !global.quiet {
        eprintln!(
            "{} rules ({} rejected), {} alerts, {} correlation alerts",
            set.rules.len() + set.correlations.len(),
            rejected.len(),
            result.alerts.len(),
            result.correlation_alerts.len()
        );
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("cannot write `{}`", path.display()))?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    write_alerts(&mut out, args.format, &set, &result, &rejected)?;
    out.flush()?;
    if args.record || args.store.store.is_some() || !args.notify.targets.is_empty() {
        record_alerts(global, &args, &result.alerts)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Stores the alerts that name their event (new ones only) and notifies the new ones.
fn record_alerts(global: &GlobalArgs, args: &HuntArgs, alerts: &[Alert]) -> anyhow::Result<()> {
    let inputs: Vec<vigil_store::AlertInput> = alerts
        .iter()
        .filter_map(|alert| {
            Some(vigil_store::AlertInput {
                rule_id: alert.rule_id.clone(),
                event_id: alert.event_id.clone()?,
                rule_title: alert.rule_title.clone(),
                level: alert.level.clone(),
                event_time: alert.event_time.clone().unwrap_or_default(),
                event_name: alert.event_name.clone().unwrap_or_default(),
                account_id: alert.account_id.clone(),
                detail: alert_json(alert),
            })
        })
        .collect();
    let mut store = args.store.open()?;
    let new = store.record_alerts(&inputs, &Utc::now().to_rfc3339())?;
    if !global.quiet {
        eprintln!("recorded {} new alerts in {} ({} already there)", new.len(), store.location(), inputs.len() - new.len());
    }
    let sdk_config = if args.notify.targets.iter().any(|target| matches!(target, vigil_notify::Target::Sns { .. })) {
        let config = vigil_collect::CollectConfig {
            profile: args.logs.aws.profile.clone(),
            regions: args.logs.aws.region.iter().cloned().collect(),
            endpoint_url: args.logs.aws.endpoint_url.clone(),
            ..vigil_collect::CollectConfig::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Some(runtime.block_on(vigil_collect::load_sdk_config(&config))?)
    } else {
        None
    };
    super::notify::after_alerts(&args.notify, &mut store, &new, sdk_config.as_ref(), global.quiet)
}

fn alert_json(alert: &Alert) -> serde_json::Value {
    json!({
        "rule_id": alert.rule_id,
        "rule_title": alert.rule_title,
        "level": alert.level,
        "event_id": alert.event_id,
        "event_time": alert.event_time,
        "event_name": alert.event_name,
        "tags": alert.tags,
        "event_source": alert.event_source,
        "aws_region": alert.aws_region,
        "source_ip": alert.source_ip,
        "principal": alert.principal,
        "account_id": alert.account_id,
        "user_agent": alert.user_agent,
        "error_code": alert.error_code,
        "file": alert.file,
        "record_index": alert.record_index,
    })
}

fn millis_text(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn correlation_json(set: &RuleSet, alert: &CorrelationAlert) -> serde_json::Value {
    let correlation = set.correlations.get(alert.correlation);
    json!({
        "rule_id": correlation.map(|rule| rule.id.as_str()),
        "rule_title": correlation.map(|rule| rule.title.as_str()),
        "level": correlation.map(|rule| rule.level.as_str()),
        "event_id": alert.event_ids.first(),
        "event_time": millis_text(alert.first_time_ms),
        "event_name": serde_json::Value::Null,
        "tags": correlation.map(|rule| rule.tags.clone()).unwrap_or_default(),
        "correlation": {
            "type": correlation.map(|rule| rule.kind),
            "group": alert.group.iter().map(|(field, value)| (field.clone(), json!(value))).collect::<serde_json::Map<String, serde_json::Value>>(),
            "count": alert.count,
            "first_time": millis_text(alert.first_time_ms),
            "last_time": millis_text(alert.last_time_ms),
            "event_ids": alert.event_ids,
        },
    })
}

fn write_alerts(out: &mut dyn Write, format: HuntFormat, set: &RuleSet, result: &HuntResult, rejected: &[Rejected]) -> anyhow::Result<()> {
    let mut all: Vec<serde_json::Value> = result.alerts.iter().map(alert_json).collect();
    all.extend(result.correlation_alerts.iter().map(|alert| correlation_json(set, alert)));
    match format {
        HuntFormat::Jsonl => {
            for alert in &all {
                serde_json::to_writer(&mut *out, alert)?;
                writeln!(out)?;
            }
        }
        HuntFormat::Ocsf => {
            for alert in &all {
                serde_json::to_writer(&mut *out, &vigil_report::ocsf::ocsf_alert(alert))?;
                writeln!(out)?;
            }
        }
        HuntFormat::Json => {
            let document = json!({
                "records": result.report.records,
                "records_in_range": result.records_in_range,
                "files": result.report.files,
                "bytes": result.report.bytes,
                "skipped_records": result.report.skipped_records,
                "failed_files": result.report.failed_files,
                "problems": result.report.problems,
                "rules": set.rules.len() + set.correlations.len(),
                "rejected_rules": rejected,
                "alerts": all,
            });
            serde_json::to_writer_pretty(&mut *out, &document)?;
            writeln!(out)?;
        }
        HuntFormat::Table => {
            if all.is_empty() {
                writeln!(out, "No alerts.")?;
                return Ok(());
            }
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            writeln!(out, "{:<20} {:<8} {:<48} {:<28} {:<40} PRINCIPAL", "TIME", "LEVEL", "RULE", "EVENT", "SOURCE IP")?;
            for alert in &all {
                let level = alert["level"].as_str().unwrap_or("-");
                let painted = match (colour, level) {
                    (true, "high" | "critical") => format!("\x1b[31;1m{level:<8}\x1b[0m"),
                    (true, "medium") => format!("\x1b[33m{level:<8}\x1b[0m"),
                    _ => format!("{level:<8}"),
                };
                let title: String = alert["rule_title"].as_str().unwrap_or("-").chars().take(48).collect();
                writeln!(
                    out,
                    "{:<20} {painted} {:<48} {:<28} {:<40} {}",
                    alert["event_time"].as_str().unwrap_or("-"),
                    title,
                    alert["event_name"].as_str().unwrap_or("(correlation)"),
                    alert["source_ip"].as_str().unwrap_or("-"),
                    alert["principal"].as_str().unwrap_or("-"),
                )?;
            }
        }
    }
    Ok(())
}

fn search(global: &GlobalArgs, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let Some((filter_text, paths)) = args.arguments.split_last() else { bail!("give PATH... WHERE") };
    let filter = vigil_trail::search::parse_filter(filter_text)?;
    let range = time_range(args.from, args.to);
    let started = Instant::now();
    let mut report = ReadReport::default();
    let mut summary = vigil_trail::search::Summary::default();
    let mut records: Vec<(String, u64, serde_json::Value)> = Vec::new();
    let want_records = !args.summary;
    for_each_batch(paths, &args.aws, args.from, args.to, None, &mut |sources| {
        let ((batch_summary, batch_records), batch_report) = vigil_trail::scan(
            sources,
            ScanOptions::default(),
            || (vigil_trail::search::Summary::default(), Vec::new()),
            |(summary, records), meta, event| {
                if range.contains(event) && filter.matches(event) {
                    summary.add(event);
                    if want_records {
                        records.push((meta.source.to_string(), meta.index, event.to_json()));
                    }
                }
            },
            |(left_summary, mut left_records), (right_summary, right_records)| {
                left_records.extend(right_records);
                (left_summary.merge(right_summary), left_records)
            },
        );
        summary = std::mem::take(&mut summary).merge(batch_summary);
        records.extend(batch_records);
        report = std::mem::take(&mut report).merge(batch_report);
    })?;
    print_read_report(&report, started.elapsed(), global);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.summary {
        print_summary(&mut out, &summary, args.top, args.format == SearchFormat::Table)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    records.sort_by(|left, right| (&left.0, left.1).cmp(&(&right.0, right.1)));
    if args.limit > 0 {
        records.truncate(args.limit);
    }
    match args.format {
        SearchFormat::Jsonl => {
            for (_, _, record) in &records {
                serde_json::to_writer(&mut out, record)?;
                writeln!(out)?;
            }
        }
        SearchFormat::Json => {
            let list: Vec<&serde_json::Value> = records.iter().map(|(_, _, record)| record).collect();
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        SearchFormat::Table => {
            writeln!(out, "{:<20} {:<22} {:<36} {:<16} {:<24} PRINCIPAL", "TIME", "SERVICE", "EVENT", "SOURCE IP", "ERROR")?;
            for (_, _, record) in &records {
                let text = |key: &str| record.get(key).and_then(serde_json::Value::as_str).unwrap_or("-").to_string();
                let event = vigil_trail::Value::from_json(record);
                writeln!(
                    out,
                    "{:<20} {:<22} {:<36} {:<16} {:<24} {}",
                    text("eventTime"),
                    text("eventSource").trim_end_matches(".amazonaws.com"),
                    text("eventName"),
                    text("sourceIPAddress"),
                    text("errorCode"),
                    vigil_trail::hunt::principal(&event).unwrap_or_else(|| "-".to_string())
                )?;
            }
            writeln!(out, "{} matching records", records.len())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_summary(out: &mut dyn Write, summary: &vigil_trail::search::Summary, top: usize, table: bool) -> anyhow::Result<()> {
    use vigil_trail::search::top as top_of;
    let sections = [
        ("principals", &summary.principals),
        ("source_ips", &summary.source_ips),
        ("actions", &summary.actions),
        ("errors", &summary.errors),
        ("regions", &summary.regions),
    ];
    if !table {
        let mut document = serde_json::Map::new();
        document.insert("records".into(), json!(summary.records));
        document.insert("first_time".into(), json!(summary.first_time));
        document.insert("last_time".into(), json!(summary.last_time));
        for (name, map) in sections {
            let entries: Vec<serde_json::Value> = top_of(map, top).into_iter().map(|(key, count)| json!({"name": key, "count": count})).collect();
            document.insert(name.into(), json!(entries));
        }
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} records from {} to {}", summary.records, summary.first_time.as_deref().unwrap_or("-"), summary.last_time.as_deref().unwrap_or("-"))?;
    for (name, map) in sections {
        writeln!(out, "\n{} ({} distinct)", name.replace('_', " ").to_uppercase(), map.len())?;
        for (key, count) in top_of(map, top) {
            writeln!(out, "  {count:>10}  {key}")?;
        }
    }
    Ok(())
}

fn summary(global: &GlobalArgs, args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let range = time_range(args.logs.from, args.logs.to);
    let started = Instant::now();
    let mut report = ReadReport::default();
    let mut summary = vigil_trail::search::Summary::default();
    for_each_batch(&args.logs.paths, &args.logs.aws, args.logs.from, args.logs.to, None, &mut |sources| {
        let (batch, batch_report) = vigil_trail::scan(
            sources,
            ScanOptions::default(),
            vigil_trail::search::Summary::default,
            |summary, _, event| {
                if range.contains(event) {
                    summary.add(event);
                }
            },
            vigil_trail::search::Summary::merge,
        );
        summary = std::mem::take(&mut summary).merge(batch);
        report = std::mem::take(&mut report).merge(batch_report);
    })?;
    print_read_report(&report, started.elapsed(), global);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    print_summary(&mut out, &summary, args.top, args.format == SummaryFormat::Table)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let (set, rejected) = load_rules(&args.rules)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "{:<38} {:<14} {:<60} ORIGIN", "ID", "LEVEL", "TITLE")?;
    for rule in &set.rules {
        writeln!(out, "{:<38} {:<14} {:<60} {}", rule.id, rule.level, rule.title, rule.origin)?;
    }
    for correlation in &set.correlations {
        writeln!(out, "{:<38} {:<14} {:<60} (correlation)", correlation.id, correlation.level, correlation.title)?;
    }
    let (by_name, by_source, unindexed) = set.index_stats();
    writeln!(
        out,
        "\n{} rules, {} correlations; indexed by eventName {by_name}, by eventSource {by_source}, run on every record {unindexed}",
        set.rules.len(),
        set.correlations.len()
    )?;
    for rejection in &rejected {
        writeln!(out, "NOT LOADED {} ({}): {}", rejection.origin, rejection.title.as_deref().unwrap_or("-"), rejection.reason)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn verify(global: &GlobalArgs, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let range = time_range(args.from, args.to);
    let file_keys = args.public_keys.as_deref().map(vigil_trail::verify::read_public_keys).transpose()?;
    let report = if args.path.starts_with("s3://") {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(verify_s3(global, &args, file_keys, range))?
    } else {
        let root = PathBuf::from(&args.path);
        let keys = match file_keys {
            Some(keys) => keys,
            None => {
                let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
                let digest_keys = local_digest_keys(&root)?;
                runtime.block_on(fetch_public_keys(&args.aws, digest_keys.iter().map(String::as_str)))?
            }
        };
        vigil_trail::verify::verify_directory(&root, &keys, range)?
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            for problem in &report.problems {
                writeln!(out, "{:<22} {}  {}", problem.kind.as_str(), problem.path, problem.detail)?;
            }
            writeln!(
                out,
                "{} digests checked ({} valid signatures), {} log files checked ({} valid); {} problems",
                report.digests,
                report.valid_digests,
                report.log_files,
                report.valid_log_files,
                report.problems.len()
            )?;
        }
    }
    out.flush()?;
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_FINDINGS) })
}

/// Reads digests and log files from `s3://bucket/prefix` (32 objects at a time) and validates them.
async fn verify_s3(
    global: &GlobalArgs,
    args: &VerifyArgs,
    file_keys: Option<Vec<vigil_trail::verify::PublicKey>>,
    range: TimeRange,
) -> anyhow::Result<vigil_trail::verify::VerifyReport> {
    use vigil_collect::trail_logs;
    let (bucket, prefix) = trail_logs::parse_s3_url(&args.path).with_context(|| format!("`{}` is not s3://BUCKET/PREFIX", args.path))?;
    let sdk_config = load_sdk_config(&args.aws).await?;
    let client = trail_logs::client(&sdk_config, args.aws.endpoint_url.is_some());
    let listed = trail_logs::list_all_objects(&client, &bucket, &prefix).await?;
    let wanted: Vec<String> =
        listed.into_iter().map(|object| object.key).filter(|key| vigil_trail::verify::is_digest_key(key) || vigil_trail::verify::is_log_key(key)).collect();
    if !global.quiet {
        eprintln!("{} digest and log objects under {}", wanted.len(), args.path);
    }
    let keys = match file_keys {
        Some(keys) => keys,
        None => fetch_public_keys(&args.aws, wanted.iter().map(String::as_str)).await?,
    };
    let mut objects = Vec::new();
    for chunk in wanted.chunks(32) {
        let mut tasks = tokio::task::JoinSet::new();
        for key in chunk {
            let (client, bucket, key) = (client.clone(), bucket.clone(), key.clone());
            tasks.spawn(async move {
                let fetched = trail_logs::fetch_object_with_signature(&client, &bucket, &key).await;
                (key, fetched)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (key, fetched) = joined?;
            let (bytes, signature) = fetched?;
            objects.push(vigil_trail::verify::TrailObject { name: format!("s3://{bucket}/{key}"), key, bytes, signature });
        }
    }
    objects.sort_by(|left, right| left.key.cmp(&right.key));
    Ok(vigil_trail::verify::verify_objects(&objects, &keys, range))
}

/// The digest files' paths under a local folder, to find their regions.
fn local_digest_keys(root: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| format!("cannot read `{}`", folder.display()))? {
            let path = entry.with_context(|| format!("cannot read `{}`", folder.display()))?.path();
            if path.is_dir() {
                folders.push(path);
            } else if vigil_trail::read::is_digest_path(&path) {
                keys.push(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(keys)
}

/// Fetches the public keys of every region that has digests, for the time the oldest digest
/// covers (cloudtrail:ListPublicKeys).
async fn fetch_public_keys<'a>(aws: &AwsArgs, digest_keys: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<vigil_trail::verify::PublicKey>> {
    use vigil_collect::trail_logs;
    let digest_keys: Vec<&str> = digest_keys.filter(|key| vigil_trail::verify::is_digest_key(key)).collect();
    // A digest covers the hour before its end time; the key that signed it was valid then.
    let start = digest_keys.iter().filter_map(|key| trail_logs::digest_key_time(key)).min().map(|time| time - chrono::Duration::hours(1));
    let regions = vigil_trail::verify::digest_regions(digest_keys.iter().copied());
    let sdk_config = load_sdk_config(aws).await?;
    let mut keys = Vec::new();
    for region in regions {
        let client = trail_logs::cloudtrail_client(&sdk_config, &region);
        for key in trail_logs::list_public_keys(&client, start).await? {
            let public_key = vigil_trail::verify::public_key_from_der(&key.fingerprint, &key.der)
                .map_err(|reason| anyhow::anyhow!("cloudtrail:ListPublicKeys in `{region}` returned key `{}`: {reason}", key.fingerprint))?;
            keys.push(public_key);
        }
    }
    Ok(keys)
}
