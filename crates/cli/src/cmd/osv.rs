//! `vigil osv`: OSV advisories kept in the store for the agents. `load PATH` (a directory or
//! zip of OSV records, or one file) stores them, replacing records with the same id; `list`
//! shows how many each ecosystem has. Agents whose policy enables `vulns` without an `osv`
//! path fetch their distribution's advisories from `vigil serve` (docs/host.md).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;
use vigil_store::osv::OsvAdvisory;

use super::history::{Format, StoreArgs};

#[derive(Debug, clap::Args)]
pub struct OsvArgs {
    #[command(subcommand)]
    pub command: OsvCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OsvCommand {
    /// Store the OSV records of PATH (a directory or zip of OSV JSON records, as osv.dev
    /// publishes them per ecosystem) for the agents; a record whose id is stored already
    /// replaces it. A file that cannot be read is named, and the others are still stored
    /// (exit status 2).
    Load {
        path: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// The ecosystems the store has advisories for, with their counts.
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

pub fn run(args: OsvArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        OsvCommand::Load { path, store, format } => load(&path, &store, format),
        OsvCommand::List { store, format } => {
            let ecosystems = store.open()?.osv_ecosystems()?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&ecosystems)?),
                Format::Table => {
                    for row in &ecosystems {
                        println!("{:<24} {:>8} advisories, newest modified {}", row.ecosystem, row.advisories, row.newest_modified);
                    }
                    if ecosystems.is_empty() {
                        println!("no OSV advisories stored: `vigil osv load PATH`");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(path: &std::path::Path, store: &StoreArgs, format: Format) -> anyhow::Result<ExitCode> {
    let (records, problems) = vigil_host::vulns::osv::load(path)?;
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    // The last record of an id read wins within one load, as a later load replaces an earlier.
    let mut by_id: BTreeMap<String, OsvAdvisory> = BTreeMap::new();
    let mut without_package = 0usize;
    for record in &records {
        let ecosystems = record.ecosystem_names();
        if ecosystems.is_empty() {
            without_package += 1;
            continue;
        }
        let text = serde_json::to_string(record).with_context(|| format!("cannot write record `{}` as JSON", record.id))?;
        by_id.insert(record.id.clone(), OsvAdvisory { id: record.id.clone(), modified: record.modified.clone().unwrap_or_default(), ecosystems, record: text });
    }
    if by_id.is_empty() {
        if problems.is_empty() {
            bail!("no OSV record with an affected package in `{}`", path.display());
        }
        bail!("no usable OSV record in `{}`: {} file(s) could not be read (above)", path.display(), problems.len());
    }
    let advisories: Vec<OsvAdvisory> = by_id.into_values().collect();
    let mut per_ecosystem: BTreeMap<&str, usize> = BTreeMap::new();
    for advisory in &advisories {
        for ecosystem in &advisory.ecosystems {
            *per_ecosystem.entry(ecosystem).or_default() += 1;
        }
    }
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let loaded = store.open()?.store_osv(&advisories, &path.display().to_string(), &at)?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "path": path.display().to_string(),
                "added": loaded.added,
                "replaced": loaded.replaced,
                "ecosystems": per_ecosystem,
                "without_package": without_package,
                "problems": problems,
            }))?
        ),
        Format::Table => {
            let counts: Vec<String> = per_ecosystem.iter().map(|(ecosystem, count)| format!("{ecosystem} {count}")).collect();
            println!(
                "stored {} advisories from `{}` ({} new, {} replaced): {}",
                advisories.len(),
                path.display(),
                loaded.added,
                loaded.replaced,
                counts.join(", ")
            );
            if without_package > 0 {
                println!("{without_package} record(s) name no affected package and were not stored");
            }
        }
    }
    if !problems.is_empty() {
        eprintln!("{} file(s) could not be read (named above); every other record was stored", problems.len());
        return Ok(ExitCode::from(super::EXIT_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}
