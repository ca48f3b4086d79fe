//! An organization scan as units of work shared through one store (docs/org.md):
//! `vigil scan --org-role R --shard I/N`, `vigil worker --org-role R --run ID` and `vigil runs`.
//! Glue only: the queue's rules (claims, leases, readiness, recording once) are
//! `vigil_store::work`'s; reading a part, merging parts and completing an account with the
//! organization's reads are `vigil_collect`'s; assessing is `vigil_assess`'s.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use vigil_assess::Selection;
use vigil_collect::organization::{self, OrganizationReads};
use vigil_collect::{CollectConfig, Part};
use vigil_store::Store;
use vigil_store::work::{ASSESS_REGION, Claim, Claimant, ORGANIZATION_UNIT, Recorded, UnitKey, UnitKind};

use super::GlobalArgs;
use super::history::{Format, StoreArgs};
use super::scan::AssessArgs;
use super::source::LiveArgs;

/// Exit code of `vigil worker` (and `vigil scan --shard`) when units of the run failed; their
/// names and reasons are printed on standard error.
pub const EXIT_UNITS_FAILED: u8 = 4;

/// The options of a process taking units of a run, shared by `vigil worker` and `vigil scan
/// --shard`.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkArgs {
    /// Seconds a claimed unit stays this process's; renewed every third of it while working. A
    /// killed process's units are taken over by the others once it expires.
    #[arg(long, default_value_t = 300, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(2..=86_400))]
    pub lease_seconds: u64,
    /// API calls in flight at once for each account (each account's collection has its own
    /// budget and its own adaptive throttling backoff, so a throttled account slows no other);
    /// default: --max-in-flight.
    #[arg(long, value_name = "N")]
    pub account_max_in_flight: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The role assumed in each account (as `vigil scan --org-role`).
    #[arg(long, value_name = "ROLE_NAME")]
    pub org_role: String,
    /// The run: every process of one organization scan names the same id.
    #[arg(long, env = "VIGIL_RUN", value_name = "ID")]
    pub run: String,
    /// Units this process works on at once.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,
    #[command(flatten)]
    pub work: WorkArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub assess: AssessArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Show this run's units (default: list the runs with their units counted by state).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `I/N`: shard I of N, zero-based (Kubernetes' JOB_COMPLETION_INDEX, AWS Batch's
/// AWS_BATCH_JOB_ARRAY_INDEX); the one shard type, shared with `vigil trail hunt --shard`.
pub use vigil_trail::shard::Shard;

/// `--shard`'s parser.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|error| error.to_string())
}

/// What one process of a run needs: the run, the collection settings every part uses, the
/// organization's accounts.
struct Plan {
    run_id: String,
    role: String,
    config: CollectConfig,
    live: LiveArgs,
    /// Every account of the organization (for each account's `organization.accounts`).
    organization_accounts: Vec<String>,
    /// The active accounts (whose parents the organization unit reads).
    active_accounts: Vec<String>,
    selection: Selection,
}

/// Lists the organization's accounts, decides the regions, and registers the run's units
/// (idempotently: every process of the run does the same).
#[allow(clippy::too_many_arguments)]
fn prepare(
    runtime: &tokio::runtime::Runtime,
    store: &mut Store,
    run_id: &str,
    role: &str,
    live: &LiveArgs,
    work: &WorkArgs,
    shards: Option<u32>,
    selection: Selection,
    quiet: bool,
) -> anyhow::Result<Plan> {
    let mut config = live.collect_config();
    if let Some(limit) = work.account_max_in_flight {
        config.max_in_flight = limit;
    }
    let accounts = runtime.block_on(organization::accounts(&config))?;
    let mut active_accounts: Vec<String> = accounts.iter().filter(|account| account.status == "ACTIVE").map(|account| account.id.clone()).collect();
    active_accounts.sort();
    let mut regions = if config.regions.is_empty() {
        runtime.block_on(organization::enabled_regions(&config)).context("cannot list the regions to split the accounts into (name them with --region)")?
    } else {
        config.regions.clone()
    };
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        anyhow::bail!("no region to read: ec2:DescribeRegions returned none; name them with --region");
    }
    config.regions = regions.clone();
    let mut services = config.services.clone();
    services.sort();
    let mut units: Vec<(String, String)> = Vec::new();
    for account in &active_accounts {
        units.push((account.clone(), "global".to_string()));
        units.extend(regions.iter().map(|region| (account.clone(), region.clone())));
    }
    units.push((ORGANIZATION_UNIT.to_string(), "global".to_string()));
    units.sort();
    // What every process of the run must agree on (a process with other settings is refused).
    let settings = serde_json::json!({
        "org_role": role,
        "regions": regions,
        "services": services,
        "organization_role_arn": live.organization_role_arn,
        "sample_objects": live.sample_objects,
    })
    .to_string();
    let shard_of = |index: usize| shards.and_then(|count| Shard::of(index as u64, count)).map(Shard::index);
    store.register_run(run_id, &settings, &units, &shard_of, &chrono::Utc::now().to_rfc3339())?;
    if !quiet {
        eprintln!(
            "run {run_id}: {} active accounts × (global + {} region(s)) = {} collect units, {} assess units; role {role}",
            active_accounts.len(),
            regions.len(),
            units.len(),
            active_accounts.len()
        );
    }
    Ok(Plan {
        run_id: run_id.to_string(),
        role: role.to_string(),
        config,
        live: live.clone(),
        organization_accounts: accounts.iter().map(|account| account.id.clone()).collect(),
        active_accounts,
        selection,
    })
}

/// What one process did.
#[derive(Default)]
struct Tally {
    done: usize,
    lost: usize,
    failed: Vec<(UnitKey, String)>,
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// This process's id in the queue: host, process id and a nonce; shards say which they are.
fn worker_base(shard: Option<u32>) -> String {
    let host = std::fs::read_to_string("/etc/hostname").ok().map(|name| name.trim().to_string()).filter(|name| !name.is_empty());
    let host = host.or_else(|| std::env::var("HOSTNAME").ok()).unwrap_or_else(|| "host".to_string());
    let nonce = chrono::Utc::now().timestamp_subsec_nanos();
    let shard = shard.map(|index| format!("shard-{index}@")).unwrap_or_default();
    format!("{shard}{host}:{}:{nonce:08x}:", std::process::id())
}

/// Takes units of the run until there is nothing left for this process (the run is complete
/// for a worker; its own units are done for a shard), `parallel` at a time, renewing the leases
/// of what it holds.
fn work(plan: &Plan, location: &str, shard: Option<u32>, parallel: usize, lease_seconds: u64, assess: &AssessArgs, quiet: bool) -> anyhow::Result<Tally> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let base = worker_base(shard);
    let stop = AtomicBool::new(false);
    let lease = i64::try_from(lease_seconds).unwrap_or(300);
    let tallies: Vec<anyhow::Result<Tally>> = std::thread::scope(|scope| {
        let renewer = scope.spawn(|| renew(location, &plan.run_id, &base, lease, &stop));
        let threads: Vec<_> = (0..parallel.max(1))
            .map(|thread| {
                let worker = format!("{base}{thread}");
                let runtime = &runtime;
                scope.spawn(move || take_units(plan, location, &worker, shard, lease, assess, runtime, quiet))
            })
            .collect();
        let tallies: Vec<anyhow::Result<Tally>> =
            threads.into_iter().map(|thread| thread.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a worker thread panicked")))).collect();
        stop.store(true, Ordering::Relaxed);
        if let Ok(Err(error)) = renewer.join() {
            eprintln!("warning: renewing the leases failed: {error:#}");
        }
        tallies
    });
    let mut total = Tally::default();
    for tally in tallies {
        let tally = tally?;
        total.done += tally.done;
        total.lost += tally.lost;
        total.failed.extend(tally.failed);
    }
    Ok(total)
}

/// Renews this process's leases every third of the lease until `stop`.
fn renew(location: &str, run_id: &str, base: &str, lease: i64, stop: &AtomicBool) -> anyhow::Result<()> {
    let mut store = Store::open(location)?;
    let period = Duration::from_millis(u64::try_from(lease).unwrap_or(300) * 1000 / 3);
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= period {
            last = Instant::now();
            store.renew_leases(run_id, base, unix_now() + lease)?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn take_units(
    plan: &Plan,
    location: &str,
    worker: &str,
    shard: Option<u32>,
    lease: i64,
    assess: &AssessArgs,
    runtime: &tokio::runtime::Runtime,
    quiet: bool,
) -> anyhow::Result<Tally> {
    let mut store = Store::open(location)?;
    let mut assessor = assess.assessor()?;
    assessor.agent_roster = store.agent_roster().ok();
    assessor.host_facts = store.host_facts().unwrap_or_default();
    let claimant = Claimant { worker, shard };
    let mut tally = Tally::default();
    loop {
        let now = unix_now();
        let claimed = match store.claim_unit(&plan.run_id, &claimant, now, now + lease)? {
            Claim::Unit(claimed) => claimed,
            Claim::Wait => {
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            Claim::Done => return Ok(tally),
        };
        let key = claimed.key;
        stall_for_tests(&key);
        let started = chrono::Utc::now();
        let outcome = match key.kind {
            UnitKind::Collect => collect_unit(plan, &mut store, worker, &key, runtime),
            UnitKind::Assess => assess_unit(plan, &mut store, worker, &key, &mut assessor, started),
        };
        match outcome {
            Ok(true) => {
                tally.done += 1;
                if !quiet {
                    eprintln!("  {key}: done (attempt {})", claimed.attempt);
                }
            }
            Ok(false) => {
                tally.lost += 1;
                eprintln!("warning: {key}: this worker's lease expired and another worker took the unit over; its result was dropped");
            }
            Err(reason) => {
                let reason = format!("{reason:#}");
                eprintln!("error: {key}: {reason}");
                if store.fail_unit(&plan.run_id, &key, worker, &reason)? {
                    tally.failed.push((key, reason));
                }
            }
        }
    }
}

/// Claims made by this process, for [`stall_for_tests`].
static CLAIMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The tests' seam: with `VIGIL_WORK_TEST_STALL_AFTER=N`, the process's N-th claimed unit is
/// held (its lease renewed) without being worked on, after saying so on standard error, so
/// that a test kills the process exactly while it holds a unit.
fn stall_for_tests(key: &UnitKey) {
    let Some(wanted) = std::env::var("VIGIL_WORK_TEST_STALL_AFTER").ok().and_then(|text| text.parse::<usize>().ok()) else { return };
    if CLAIMS.fetch_add(1, Ordering::SeqCst) + 1 == wanted {
        eprintln!("vigil: stalled holding {key} (VIGIL_WORK_TEST_STALL_AFTER)");
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Reads one part of an account (or the organization's policies) and completes the unit with
/// it. `Ok(false)`: the unit was taken over meanwhile.
fn collect_unit(plan: &Plan, store: &mut Store, worker: &str, key: &UnitKey, runtime: &tokio::runtime::Runtime) -> anyhow::Result<bool> {
    let fragment = if key.account_id == ORGANIZATION_UNIT {
        let reads = super::source::read_organization(runtime, &plan.live, &plan.config, &plan.active_accounts);
        serde_json::to_vec(&reads)?
    } else {
        let part = if key.region == "global" { Part::Global } else { Part::Region(key.region.clone()) };
        let config = CollectConfig { role_arn: Some(organization::member_role_arn(&key.account_id, &plan.role)), part: Some(part), ..plan.config.clone() };
        let inventory = runtime.block_on(vigil_collect::collect(&config, Arc::new(vigil_collect::NoProgress)))?;
        serde_json::to_vec(&inventory)?
    };
    Ok(store.complete_unit(&plan.run_id, key, worker, &fragment)?)
}

/// Merges an account's parts, completes it with the organization's reads, assesses it as
/// `vigil scan` does and records its scan (once per run and account).
fn assess_unit(
    plan: &Plan,
    store: &mut Store,
    worker: &str,
    key: &UnitKey,
    assessor: &mut vigil_assess::Assessor,
    started_at: vigil_model::Timestamp,
) -> anyhow::Result<bool> {
    let (parts, organization_json) = store.unit_fragments(&plan.run_id, &key.account_id)?;
    let mut global = None;
    let mut regional = Vec::new();
    for (region, json) in parts {
        let part: vigil_model::Inventory =
            serde_json::from_slice(&json).with_context(|| format!("the fragment of collect {}/{region} does not read back", key.account_id))?;
        if region == "global" {
            global = Some(part);
        } else {
            regional.push(part);
        }
    }
    let global = global.ok_or_else(|| anyhow::anyhow!("no global part for account {}", key.account_id))?;
    let mut inventory = vigil_collect::merge_parts(global, regional);
    let reads: OrganizationReads = match organization_json {
        Some(json) => serde_json::from_slice(&json).context("the organization unit's fragment does not read back")?,
        None => OrganizationReads::default(),
    };
    organization::complete_account(&mut inventory, &reads, &plan.organization_accounts);
    let assessment = assessor.assess(&inventory, &plan.selection, chrono::Utc::now())?;
    let analyses = vigil_assess::analyses::analyse(&inventory, &assessor.host_facts);
    let input = vigil_store::ScanInput {
        started_at,
        finished_at: chrono::Utc::now(),
        source: "aws-organization".to_string(),
        inventories: vec![&inventory],
        findings: &assessment.findings,
        checks_run: assessment.checks_run,
        analyses: Some(analyses),
    };
    Ok(match store.record_unit_scan(&plan.run_id, &key.account_id, worker, &input)? {
        Recorded::Scan(_) | Recorded::Already(_) => true,
        Recorded::Lost => false,
    })
}

/// The process's peak resident memory (VmHWM), for the closing line.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find_map(|line| line.strip_prefix("VmHWM:").map(|value| value.trim().to_string())))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Prints how the process ended and returns its exit code: 0 when nothing failed, 4 naming the
/// failed units otherwise.
fn finish(store: &mut Store, run_id: &str, tally: &Tally, whole_run: bool, started: Instant, quiet: bool) -> anyhow::Result<ExitCode> {
    let mut failed: Vec<(String, String)> = tally.failed.iter().map(|(key, reason)| (key.to_string(), reason.clone())).collect();
    if whole_run {
        failed =
            store.run_units(run_id)?.into_iter().filter(|row| row.state == "failed").map(|row| (row.key.to_string(), row.error.unwrap_or_default())).collect();
    }
    if !quiet {
        eprintln!(
            "run {run_id}: this process did {} unit(s) ({} taken over by others) in {:.1}s; peak RSS {}",
            tally.done,
            tally.lost,
            started.elapsed().as_secs_f64(),
            peak_rss()
        );
    }
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for (unit, reason) in &failed {
        eprintln!("failed: {unit}: {reason}");
    }
    Ok(ExitCode::from(EXIT_UNITS_FAILED))
}

/// `vigil worker`: takes any unit of the run until the run is complete.
pub fn run_worker(global: &GlobalArgs, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    args.assess.assessor()?;
    let location = args.store.location();
    let mut store = Store::open(&location).with_context(|| format!("cannot open the store `{location}`"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let plan = prepare(&runtime, &mut store, &args.run, &args.org_role, &args.live, &args.work, None, Selection::default(), global.quiet)?;
    drop(runtime);
    let tally = work(&plan, &location, None, usize::from(args.parallel), args.work.lease_seconds, &args.assess, global.quiet)?;
    finish(&mut store, &args.run, &tally, true, started, global.quiet)
}

/// `vigil scan --org-role R --shard I/N`: registers the run, takes shard I's collect units and
/// any assess unit that becomes ready, until its own units are done.
pub fn run_shard(global: &GlobalArgs, args: &super::scan::ScanArgs, shard: Shard) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let role = args.org_role.as_deref().ok_or_else(|| anyhow::anyhow!("--shard splits an organization scan: give --org-role ROLE_NAME"))?;
    let run_id = args
        .run
        .as_deref()
        .filter(|run| !run.is_empty())
        .ok_or_else(|| anyhow::anyhow!("--shard needs the run's id, the same for every shard: --run ID or the VIGIL_RUN environment variable"))?;
    args.assess.assessor()?;
    let location = args.store.location();
    let mut store = Store::open(&location).with_context(|| format!("cannot open the store `{location}`"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let selection = Selection { checks: args.checks.clone(), framework: args.framework, resources: None };
    let plan = prepare(&runtime, &mut store, run_id, role, &args.source.live, &args.work, Some(shard.count()), selection, global.quiet)?;
    drop(runtime);
    let tally = work(&plan, &location, Some(shard.index()), args.org_parallel, args.work.lease_seconds, &args.assess, global.quiet)?;
    finish(&mut store, run_id, &tally, false, started, global.quiet)
}

/// `vigil runs`: the runs in the store, or one run's units by state.
pub fn run_runs(args: RunsArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let mut out = std::io::stdout().lock();
    match &args.run {
        None => {
            let runs = store.runs()?;
            let mut listed = Vec::new();
            for (id, created_at, settings) in runs {
                let units = store.run_units(&id)?;
                let mut by_state: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
                for unit in &units {
                    *by_state.entry(unit.state.clone()).or_default() += 1;
                }
                listed.push((id, created_at, settings, by_state));
            }
            if args.format == Format::Json {
                let rows: Vec<serde_json::Value> = listed
                    .iter()
                    .map(|(id, created_at, settings, by_state)| {
                        serde_json::json!({ "run": id, "created_at": created_at, "settings": serde_json::from_str::<serde_json::Value>(settings).unwrap_or_default(), "units": by_state })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                writeln!(out, "{:<24} {:<26} UNITS", "RUN", "CREATED")?;
                for (id, created_at, _, by_state) in &listed {
                    let counts: Vec<String> = by_state.iter().map(|(state, count)| format!("{count} {state}")).collect();
                    writeln!(out, "{id:<24} {created_at:<26} {}", counts.join(", "))?;
                }
            }
        }
        Some(run_id) => {
            let units = store.run_units(run_id)?;
            if units.is_empty() {
                anyhow::bail!("no run `{run_id}` in the store `{}` (`vigil runs` lists them)", store.location());
            }
            if args.format == Format::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&units)?)?;
            } else {
                writeln!(out, "{:<8} {:<14} {:<16} {:<8} {:>8} {:<40} ERROR", "KIND", "ACCOUNT", "REGION", "STATE", "ATTEMPTS", "WORKER")?;
                let order = ["failed", "running", "pending", "done"];
                for state in order {
                    for unit in units.iter().filter(|unit| unit.state == state) {
                        writeln!(
                            out,
                            "{:<8} {:<14} {:<16} {:<8} {:>8} {:<40} {}",
                            unit.key.kind.as_str(),
                            unit.key.account_id,
                            if unit.key.region == ASSESS_REGION { "-" } else { unit.key.region.as_str() },
                            unit.state,
                            unit.attempts,
                            unit.worker.as_deref().unwrap_or("-"),
                            unit.error.as_deref().unwrap_or("")
                        )?;
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_zero_based_and_below_their_count() {
        assert_eq!(parse_shard("0/4"), Ok(Shard::new(0, 4).unwrap()));
        assert_eq!(parse_shard("3/4"), Ok(Shard::new(3, 4).unwrap()));
        for wrong in ["4/4", "1/0", "-1/4", "a/4", "2", "1/b"] {
            assert!(parse_shard(wrong).is_err(), "{wrong}");
        }
    }
}
