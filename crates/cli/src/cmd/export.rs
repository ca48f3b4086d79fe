//! `vigil export`: the store's tables as OCSF in Parquet (`vigil-export`), to a directory or to
//! S3 (uploads through `vigil-collect`'s `export_upload`).

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use vigil_export::{DirectorySink, ExportOptions, Sink, StagingSink};

use super::GlobalArgs;
use super::trail::AwsArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// OCSF events in Parquet, Hive-partitioned by day, account and region.
    Parquet,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Where to write: a directory, or `s3://BUCKET/PREFIX`.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub to: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    /// The tables, comma-separated: findings, resources, alerts, host-events (default: all).
    #[arg(long, value_name = "LIST", default_value = "findings,resources,alerts,host-events")]
    pub what: String,
    /// Only the partitions of this day (UTC) or later: a date (2026-11-01) or an age (7d).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    /// Rows per file before a partition continues in its next part.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub rows_per_file: usize,
    #[command(flatten)]
    pub store: super::history::StoreArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

fn parse_day(text: &str) -> Result<NaiveDate, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day);
    }
    match vigil_trail::sigma::correlation::parse_timespan(text) {
        Ok(span_ms) => Ok((chrono::Utc::now() - chrono::Duration::milliseconds(span_ms)).date_naive()),
        Err(_) => Err(format!("`{text}` is not a day: use a date (2026-11-01) or an age (7d)")),
    }
}

pub fn run(global: &GlobalArgs, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ExportFormat::Parquet = args.format;
    let options = ExportOptions {
        tables: ExportOptions::tables_named(&args.what)?,
        since: args.since,
        rows_per_file: args.rows_per_file.max(1),
        ..ExportOptions::default()
    };
    let mut store = args.store.open()?;
    let started = std::time::Instant::now();
    let summaries = match vigil_collect::trail_logs::parse_s3_url(&args.to) {
        Some((bucket, prefix)) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let sdk_config = runtime.block_on(super::trail::load_sdk_config(&args.aws))?;
            let client = vigil_collect::trail_logs::client(&sdk_config, args.aws.endpoint_url.is_some());
            let staging = std::env::temp_dir().join(format!("vigil-export-{}", std::process::id()));
            let prefix = prefix.trim_end_matches('/').to_string();
            let mut sink = StagingSink::new(&staging, args.to.trim_end_matches('/'), |key: &str, path: &std::path::Path| {
                let key = if prefix.is_empty() { key.to_string() } else { format!("{prefix}/{key}") };
                runtime.block_on(vigil_collect::export_upload::put_file(&client, &bucket, &key, path)).map_err(|error| error.to_string())
            });
            let outcome = vigil_export::export(&mut store, &options, &mut sink);
            let _ = std::fs::remove_dir_all(&staging);
            outcome?
        }
        None => {
            if args.to.contains("://") {
                anyhow::bail!("`{}` is neither a directory nor s3://BUCKET/PREFIX", args.to);
            }
            std::fs::create_dir_all(&args.to).with_context(|| format!("cannot create `{}`", args.to))?;
            let mut sink = DirectorySink::new(&args.to);
            let sink: &mut dyn Sink = &mut sink;
            vigil_export::export(&mut store, &options, sink)?
        }
    };
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let rows: u64 = summaries.iter().map(|summary| summary.rows).sum();
    for summary in &summaries {
        println!("{:<12} {:>10} rows {:>6} files {:>6} partitions  {}", summary.table, summary.rows, summary.files, summary.partitions, summary.location);
    }
    if !global.quiet {
        eprintln!("exported {rows} rows from {} in {seconds:.2}s ({:.0} rows/s)", store.location(), rows as f64 / seconds);
    }
    Ok(ExitCode::SUCCESS)
}
