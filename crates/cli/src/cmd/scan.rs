//! `vigil scan`: collect (or load) an inventory, run the check catalog (scoped by the
//! cloud-aware policy, filtered by framework), apply the mutelist, print a summary and write
//! the findings in the format asked for.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use vigil_assess::{Assessor, Selection};
use vigil_checks::frameworks::{Framework, RequirementStatus, RequirementSummary};
use vigil_checks::mutelist::Mutelist;
use vigil_checks::policy::Policy;
use vigil_checks::{Finding, Severity, Status};
use vigil_report::ScanInfo;

use super::GlobalArgs;
use super::source::{self, SourceArgs};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Write the findings to FILE; the format comes from the extension (.json, .jsonl, .csv,
    /// .ocsf.json, .asff.json, .sarif, .xml, .html) or --format.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Format of the file written with -o (default: from its extension, else json).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Run only these checks (repeatable; by id).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Run only the checks mapped to a framework and print its per-requirement compliance
    /// summary: cis (cis-aws-5.0), fsbp (aws-fsbp), pci (pci-dss-4.0), nist (nist-800-53-r5).
    #[arg(long, value_name = "FRAMEWORK", value_parser = parse_framework)]
    pub framework: Option<&'static Framework>,
    #[command(flatten)]
    pub assess: AssessArgs,
    /// Print the bundled default policy and exit.
    #[arg(long)]
    pub print_default_policy: bool,
    /// Exit with code 3 when a FAIL finding at or above this severity exists.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Also save the inventory that was scanned, as a snapshot.
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub store: super::history::StoreArgs,
    /// Do not record this scan in the store.
    #[arg(long, conflicts_with_all = ["store", "targets"])]
    pub no_store: bool,
    #[command(flatten)]
    pub notify: super::notify::NotifyArgs,
    /// Scan every active account of the AWS Organization: list them (organizations:ListAccounts)
    /// and read each with this role assumed in it (e.g. OrganizationAccountAccessRole). With -o,
    /// writes the organization's report and one per account (FILE-<account>.<ext>).
    #[arg(long, value_name = "ROLE_NAME", conflicts_with_all = ["snapshot", "demo", "role_arn"])]
    pub org_role: Option<String>,
    /// Accounts read at once with --org-role (with --shard: units of work at once).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub org_parallel: usize,
    /// Scan only shard I of N of the organization's (account, region) units (zero-based, e.g.
    /// `$JOB_COMPLETION_INDEX/4`), sharing the run through --store with the other shards and any
    /// `vigil worker`: each shard registers the run's units, takes its own, then any account
    /// whose parts are all read, and records one scan per account (docs/org.md).
    #[arg(long, value_name = "I/N", requires = "org_role", value_parser = super::work::parse_shard)]
    pub shard: Option<super::work::Shard>,
    /// The run's id with --shard: the same for every shard of one scan (default: $VIGIL_RUN).
    #[arg(long, env = "VIGIL_RUN", value_name = "ID")]
    pub run: Option<String>,
    #[command(flatten)]
    pub work: super::work::WorkArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON document with the summary and every finding.
    Json,
    /// One finding per line (JSON Lines).
    Jsonl,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// OCSF 1.3 Compliance Finding events (class_uid 2003, cloud profile), a JSON array.
    Ocsf,
    /// AWS Security Finding Format, a JSON array for `securityhub batch-import-findings`.
    Asff,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML: one test case per finding.
    Junit,
    /// A self-contained HTML report.
    Html,
}

impl OutputFormat {
    /// The format a file name implies, if any.
    pub fn from_path(path: &Path) -> Option<OutputFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let format = if name.ends_with(".ocsf.json") {
            OutputFormat::Ocsf
        } else if name.ends_with(".asff.json") {
            OutputFormat::Asff
        } else if name.ends_with(".sarif") || name.ends_with(".sarif.json") {
            OutputFormat::Sarif
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            OutputFormat::Jsonl
        } else if name.ends_with(".json") {
            OutputFormat::Json
        } else if name.ends_with(".csv") {
            OutputFormat::Csv
        } else if name.ends_with(".xml") {
            OutputFormat::Junit
        } else if name.ends_with(".html") || name.ends_with(".htm") {
            OutputFormat::Html
        } else {
            return None;
        };
        Some(format)
    }
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("`{text}` is not a severity: use informational, low, medium, high or critical"))
}

fn parse_framework(text: &str) -> Result<&'static Framework, String> {
    vigil_checks::frameworks::find(text).ok_or_else(|| {
        let known: Vec<String> =
            vigil_checks::frameworks::FRAMEWORKS.iter().map(|framework| format!("{} ({})", framework.aliases.first().unwrap_or(&""), framework.id)).collect();
        format!("unknown framework `{text}`: use one of {}", known.join(", "))
    })
}

/// The inputs of the assess pipeline that `scan` and `watch` share: the policy, the mutelist
/// and custom Rego checks.
#[derive(Debug, Clone, clap::Args)]
pub struct AssessArgs {
    /// Mute findings named in a mutelist (Prowler's YAML format); they get status MUTED.
    #[arg(long, value_name = "FILE")]
    pub mutelist: Option<PathBuf>,
    /// Cloud-aware policy (YAML) scoping checks and parameters; default: the bundled policy
    /// (`vigil scan --print-default-policy` shows it).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Also run custom checks written in Rego: a `.rego` file or a directory of them (see
    /// docs/posture.md for the contract). They run when the whole catalog does (not with
    /// --framework or --check).
    #[arg(long, value_name = "PATH")]
    pub rego: Option<PathBuf>,
}

/// The cloud-aware policy in a file, or the bundled one (`scan`, `watch` and `fix` read it so).
pub fn load_policy(path: Option<&std::path::Path>) -> anyhow::Result<Policy> {
    match path {
        None => Ok(Policy::bundled()),
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read policy `{}`", path.display()))?;
            Ok(Policy::parse(&text, &path.display().to_string())?)
        }
    }
}

impl AssessArgs {
    /// Reads the policy, mutelist and Rego files (before any long collection, so a typo fails
    /// fast).
    pub fn assessor(&self) -> anyhow::Result<Assessor> {
        let policy = load_policy(self.policy.as_deref())?;
        let mutelist = match &self.mutelist {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read mutelist `{}`", path.display()))?;
                Some(Mutelist::parse(&text, &path.display().to_string())?)
            }
        };
        let rego = self.rego.as_deref().map(vigil_rego::RegoChecks::load).transpose()?;
        Ok(Assessor { policy, mutelist, rego, agent_roster: None, host_facts: Default::default() })
    }
}

pub fn run(global: &GlobalArgs, args: ScanArgs) -> anyhow::Result<ExitCode> {
    if args.print_default_policy {
        print!("{}", vigil_checks::policy::DEFAULT_POLICY);
        return Ok(ExitCode::SUCCESS);
    }
    for id in &args.checks {
        if vigil_checks::find(id).is_none() {
            anyhow::bail!("unknown check `{id}`; `vigil checks` lists them");
        }
    }
    if let Some(shard) = args.shard {
        if args.no_store || args.output.is_some() || args.save_snapshot.is_some() {
            anyhow::bail!("--shard records each account's scan in --store; it writes no -o report or snapshot and cannot run with --no-store");
        }
        return super::work::run_shard(global, &args, shard);
    }
    // Read every input file before the (possibly long) collection, so a typo fails fast.
    let mut assessor = args.assess.assessor()?;
    let started_at = chrono::Utc::now();
    let (inventories, failed_accounts) = match &args.org_role {
        Some(role) => {
            let mut live = args.source.live.clone();
            if let Some(limit) = args.work.account_max_in_flight {
                live.max_in_flight = limit;
            }
            source::collect_organization(&live, role, args.org_parallel, global.quiet)?
        }
        None => (vec![source::load(&args.source, global.quiet)?], Vec::new()),
    };
    if let (Some(path), [inventory]) = (&args.save_snapshot, inventories.as_slice()) {
        vigil_model::snapshot::write(path, inventory)?;
    }
    // The instances with a vigil agent, from the store the scan records into (for the host
    // coverage check; unknown when there is no store), and what their agents report (for
    // attack paths).
    if !args.no_store
        && let Ok(mut store) = args.store.open()
    {
        if args.source.demo
            && let Some(inventory) = inventories.first()
            && let Err(error) = seed_demo_agents(&mut store, inventory)
        {
            eprintln!("warning: the demo agents were not recorded: {error:#}");
        }
        assessor.agent_roster = store.agent_roster().ok();
        assessor.host_facts = read_host_facts(&mut store);
    }
    let selection = Selection { checks: args.checks.clone(), framework: args.framework, resources: None };
    let (assessment, per_account) = assessor.assess_accounts(&inventories, &selection, chrono::Utc::now())?;
    let checks_run = assessment.checks_run.len();
    let findings = assessment.findings;
    if !args.no_store {
        store_scan(global, &args, started_at, &inventories, &findings, assessment.checks_run, &assessor.host_facts)?;
    }
    let compliance = args.framework.map(|framework| (framework, vigil_checks::frameworks::summarize(framework, &findings)));

    if let Some(path) = &args.output {
        let format = args.format.or_else(|| OutputFormat::from_path(path)).unwrap_or(OutputFormat::Json);
        let info = scan_info(&inventories);
        write_findings(path, format, &info, &findings, compliance.as_ref()).with_context(|| format!("cannot write `{}`", path.display()))?;
        // With several accounts: one report for the organization (above) and one per account.
        if inventories.len() > 1 {
            for (inventory, account) in inventories.iter().zip(&per_account) {
                let account_path = per_account_path(path, inventory.account_id().as_str());
                let compliance = args.framework.map(|framework| (framework, account.compliance(framework)));
                write_findings(&account_path, format, &scan_info(std::slice::from_ref(inventory)), &account.findings, compliance.as_ref())
                    .with_context(|| format!("cannot write `{}`", account_path.display()))?;
            }
        }
    }
    if !global.quiet {
        print_summary(&inventories, checks_run, &findings)?;
        if let Some((framework, rows)) = &compliance {
            print_compliance(framework, rows)?;
        }
        for (account, error) in &failed_accounts {
            eprintln!("account {account} was not scanned: {error}");
        }
    }
    let failing = args.fail_on.is_some_and(|threshold| findings.iter().any(|finding| finding.status == Status::Fail && finding.severity >= threshold));
    Ok(if failing {
        ExitCode::from(super::EXIT_FINDINGS)
    } else if !failed_accounts.is_empty() {
        ExitCode::from(super::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report header for one inventory, or for several (the first account, every region).
fn scan_info(inventories: &[vigil_model::Inventory]) -> ScanInfo {
    let first = inventories.first();
    let mut regions: Vec<String> = inventories.iter().flat_map(|inventory| inventory.regions.iter().map(|region| region.to_string())).collect();
    regions.sort();
    regions.dedup();
    ScanInfo {
        account_id: first.map(|inventory| inventory.account_id().to_string()).unwrap_or_default(),
        partition: first.map(|inventory| inventory.partition().to_string()).unwrap_or_else(|| "aws".to_string()),
        regions,
        collected_at: first.map(|inventory| inventory.collected_at).unwrap_or_else(chrono::Utc::now),
        generated_at: chrono::Utc::now(),
        vigil_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// `findings.json` -> `findings-111122223333.json` (before the first dot of the file name).
fn per_account_path(path: &Path, account: &str) -> PathBuf {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let named = match name.split_once('.') {
        Some((stem, extension)) => format!("{stem}-{account}.{extension}"),
        None => format!("{name}-{account}"),
    };
    path.with_file_name(named)
}

/// The demo's enrolled agents: one on the demo's web server (`web-1`), as it would enrol from
/// its identity document, and one host off EC2 enrolled by token. Recorded once per store, with
/// a heartbeat and an inventory snapshot at the time of the scan; a console left running sees
/// them go silent, then `missing`, as real agents would.
/// What agents reported about their hosts, for attack paths; a store that cannot say is
/// reported (the paths are then ranked without it), never silently ignored.
pub fn read_host_facts(store: &mut vigil_store::Store) -> vigil_paths::HostFacts {
    let facts = store.host_facts().unwrap_or_else(|error| {
        eprintln!(
            "warning: the agents' reports (vulnerabilities, host firewalls) could not be read from the store ({error}); exposure and attack paths are computed without them"
        );
        vigil_paths::HostFacts::default()
    });
    warn_host_problems(&facts);
    facts
}

/// Says which agents' reports could not be used (a malformed host firewall report).
pub fn warn_host_problems(facts: &vigil_paths::HostFacts) {
    for problem in &facts.problems {
        eprintln!("warning: {problem}");
    }
}

/// What agents reported, from the store at `location` (`vigil paths --store`, `vigil reach
/// --store`); with none, nothing. Host firewalls given explicitly (`--host-firewall`) replace
/// the reported ones for their instances.
pub fn host_facts_from(location: Option<&str>, explicit_firewalls: Vec<(String, vigil_net::HostRuleset)>) -> anyhow::Result<vigil_paths::HostFacts> {
    let facts = match location {
        Some(location) => vigil_store::Store::open(location)
            .and_then(|mut store| store.host_facts())
            .map_err(|error| anyhow::anyhow!("cannot read the agents' reports from the store `{location}`: {error}"))?,
        None => vigil_paths::HostFacts::default(),
    };
    warn_host_problems(&facts);
    Ok(facts.with_host_firewalls(explicit_firewalls))
}

fn seed_demo_agents(store: &mut vigil_store::Store, inventory: &vigil_model::Inventory) -> anyhow::Result<()> {
    use vigil_model::resource::ResourceData;
    let now = chrono::Utc::now();
    let (at, at_unix) = (now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), now.timestamp());
    let web = inventory.resources().into_iter().find_map(|resource| match resource.data {
        ResourceData::Instance(instance) if instance.tags.get("Name").map(String::as_str) == Some("web-1") => {
            Some((instance.instance_id.clone(), resource.region.to_string()))
        }
        _ => None,
    });
    let account = inventory.account_id().to_string();
    let mut agents = vec![("agt-demo-build-01", None, "build-01", "token:tok-demo")];
    if let Some((instance_id, region)) = &web {
        agents.insert(0, ("agt-demo-web-1", Some((instance_id.as_str(), region.as_str())), "ip-10-0-1-10", "identity"));
    }
    for (id, instance, hostname, enrolled_by) in agents {
        if store.agent(id)?.is_some() {
            continue;
        }
        let unusable = vigil_server::agent_api::secret_hash(&vigil_server::auth::random_hex(32)?);
        let new = vigil_store::agents::NewAgent {
            id,
            instance_id: instance.map(|(instance_id, _)| instance_id),
            account_id: instance.map(|_| account.as_str()),
            region: instance.map(|(_, region)| region),
            hostname,
            agent_version: env!("CARGO_PKG_VERSION"),
            enrolled_by,
            secret_hash: &unusable,
            at: &at,
            at_unix,
        };
        if store.enrol_agent(&new)?.is_some() {
            continue;
        }
        let modules = json!([{ "module": "inventory", "state": "ok", "last_run": at, "events": 1 }]);
        store.record_heartbeat(
            id,
            &at,
            at_unix,
            env!("CARGO_PKG_VERSION"),
            hostname,
            None,
            &modules,
            &json!({ "pending": 0, "pending_bytes": 0, "dropped": 0 }),
        )?;
        let snapshot = vigil_fleet::wire::Sequenced {
            seq: 1,
            event: vigil_fleet::Event {
                id: format!("inventory-demo-{id}"),
                module: "inventory".into(),
                kind: "snapshot".into(),
                time: at.clone(),
                payload: json!({
                    "os": { "ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)" },
                    "kernel": "6.1.0-28-cloud-amd64",
                    "hostname": hostname,
                    "uptime_seconds": 86_400,
                    "listening": [{ "protocol": "tcp", "address": "0.0.0.0", "port": 22, "process": "sshd", "pid": 612 }],
                    "errors": [],
                }),
            },
        };
        store.record_agent_events(id, &[snapshot], &at, at_unix)?;
    }
    Ok(())
}

/// Records the scan in the store. A store the user named must work; the default one only
/// warns when it cannot be written, so a read-only home does not break a scan.
fn store_scan(
    global: &GlobalArgs,
    args: &ScanArgs,
    started_at: vigil_model::Timestamp,
    inventories: &[vigil_model::Inventory],
    findings: &[Finding],
    checks_run: Vec<String>,
    hosts: &vigil_paths::HostFacts,
) -> anyhow::Result<()> {
    let source = if args.org_role.is_some() {
        "aws-organization".to_string()
    } else if args.source.demo {
        "demo".to_string()
    } else if let Some(path) = &args.source.snapshot {
        format!("snapshot:{}", path.display())
    } else {
        "aws".to_string()
    };
    let analyses = Some(vigil_assess::analyses::analyse_all(inventories, hosts));
    let input = vigil_store::ScanInput {
        started_at,
        finished_at: chrono::Utc::now(),
        source,
        inventories: inventories.iter().collect(),
        findings,
        checks_run,
        analyses,
    };
    let result = args.store.open().and_then(|mut store| Ok((store.record_scan(&input)?, store)));
    match result {
        Ok((summary, mut store)) => {
            if !global.quiet {
                eprintln!(
                    "stored as scan {} in {}: {} added, {} changed, {} deleted; {} new findings, {} resolved",
                    summary.scan_id,
                    store.location(),
                    summary.resources_added,
                    summary.resources_changed,
                    summary.resources_deleted,
                    summary.findings_new,
                    summary.findings_resolved
                );
            }
            let sdk_config = if args.notify.targets.iter().any(|target| matches!(target, vigil_notify::Target::Sns { .. })) {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                Some(runtime.block_on(vigil_collect::load_sdk_config(&args.source.live.collect_config()))?)
            } else {
                None
            };
            super::notify::after_store(&args.notify, &mut store, summary.scan_id, sdk_config.as_ref(), global.quiet)
        }
        Err(error) if args.store.store.is_some() => Err(error.context("cannot record the scan in the store")),
        Err(error) => {
            eprintln!("warning: the scan was not recorded in the store ({error:#}); use --store PATH or --no-store");
            Ok(())
        }
    }
}

fn write_findings(
    path: &Path,
    format: OutputFormat,
    info: &ScanInfo,
    findings: &[Finding],
    compliance: Option<&(&Framework, Vec<RequirementSummary>)>,
) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    match format {
        OutputFormat::Json => {
            // Written as it is serialized: a `serde_json::Value` of the whole document first
            // would hold every finding a second time.
            let document = JsonDocument {
                account_id: &info.account_id,
                collected_at: info.collected_at,
                regions: &info.regions,
                summary: summary(findings),
                findings,
                compliance: compliance.map(|(framework, rows)| json!({ "framework": framework.id, "name": framework.name, "requirements": rows })),
            };
            serde_json::to_writer_pretty(&mut file, &document)?;
            writeln!(file)?;
        }
        OutputFormat::Jsonl => {
            for finding in findings {
                serde_json::to_writer(&mut file, finding)?;
                writeln!(file)?;
            }
        }
        OutputFormat::Csv => file.write_all(vigil_report::csv(findings).as_bytes())?,
        OutputFormat::Ocsf => serde_json::to_writer_pretty(&mut file, &vigil_report::ocsf(info, findings))?,
        OutputFormat::Asff => serde_json::to_writer_pretty(&mut file, &vigil_report::asff(info, findings))?,
        OutputFormat::Sarif => serde_json::to_writer_pretty(&mut file, &vigil_report::sarif(info, findings))?,
        OutputFormat::Junit => file.write_all(vigil_report::junit(info, findings).as_bytes())?,
        OutputFormat::Html => file.write_all(vigil_report::html(info, findings).as_bytes())?,
    }
    file.flush()?;
    Ok(())
}

/// The `--format json` document, in its fields' order.
#[derive(serde::Serialize)]
struct JsonDocument<'a> {
    account_id: &'a str,
    collected_at: chrono::DateTime<chrono::Utc>,
    regions: &'a [String],
    summary: serde_json::Value,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<serde_json::Value>,
}

fn summary(findings: &[Finding]) -> serde_json::Value {
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failed_by_severity: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *by_status.entry(finding.status.as_str()).or_default() += 1;
        if finding.status == Status::Fail {
            *failed_by_severity.entry(finding.severity.as_str()).or_default() += 1;
        }
    }
    json!({ "by_status": by_status, "failed_by_severity": failed_by_severity })
}

fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

fn print_summary(inventories: &[vigil_model::Inventory], checks_run: usize, findings: &[Finding]) -> anyhow::Result<()> {
    let colour = colour_enabled();
    let mut out = std::io::stdout().lock();
    let count = |status: Status| findings.iter().filter(|finding| finding.status == status).count();
    let accounts: Vec<&str> = inventories.iter().map(|inventory| inventory.account_id().as_str()).collect();
    let regions = scan_info(inventories).regions.len();
    let resources: usize = inventories.iter().map(|inventory| inventory.resources().len()).sum();
    let label = if accounts.len() == 1 { "account" } else { "accounts" };
    writeln!(out, "{label} {}  regions {regions}  resources {resources}  checks {checks_run}", accounts.join(","))?;
    writeln!(
        out,
        "{} {}   {} {}   {} {}   {} {}\n",
        paint("FAIL", "31;1", colour),
        count(Status::Fail),
        paint("ERROR", "33;1", colour),
        count(Status::Error),
        paint("PASS", "32", colour),
        count(Status::Pass),
        paint("MUTED", "2", colour),
        count(Status::Muted)
    )?;
    let shown: Vec<&Finding> = findings.iter().filter(|finding| matches!(finding.status, Status::Fail | Status::Error)).collect();
    if shown.is_empty() {
        writeln!(out, "No failed or undecided checks.")?;
        return Ok(());
    }
    writeln!(out, "{:<6} {:<9} {:<46} {:<12} MESSAGE", "STATUS", "SEVERITY", "CHECK", "REGION")?;
    for finding in shown {
        let status = match finding.status {
            Status::Fail => paint("FAIL  ", "31;1", colour),
            _ => paint("ERROR ", "33;1", colour),
        };
        writeln!(out, "{status} {:<9} {:<46} {:<12} {}", finding.severity.as_str(), finding.check_id, finding.region, finding.message)?;
    }
    Ok(())
}

fn print_compliance(framework: &Framework, rows: &[RequirementSummary]) -> anyhow::Result<()> {
    let colour = colour_enabled();
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{}: per-requirement compliance", framework.name)?;
    writeln!(out, "{:<16} {:<12} {:>5} {:>5} {:>5} {:>5}  TITLE", "REQUIREMENT", "STATUS", "PASS", "FAIL", "ERROR", "MUTED")?;
    for row in rows {
        let status = format!("{:<12}", row.status.as_str());
        let status = match row.status {
            RequirementStatus::Fail => paint(&status, "31;1", colour),
            RequirementStatus::Error => paint(&status, "33;1", colour),
            RequirementStatus::Pass => paint(&status, "32", colour),
            _ => paint(&status, "2", colour),
        };
        writeln!(out, "{:<16} {status} {:>5} {:>5} {:>5} {:>5}  {}", row.requirement, row.pass, row.fail, row.error, row.muted, row.title)?;
    }
    let count = |status: RequirementStatus| rows.iter().filter(|row| row.status == status).count();
    writeln!(
        out,
        "{} requirements: {} pass, {} fail, {} error, {} without resources, {} manual, {} not covered by a check",
        rows.len(),
        count(RequirementStatus::Pass),
        count(RequirementStatus::Fail),
        count(RequirementStatus::Error),
        count(RequirementStatus::NoResources),
        count(RequirementStatus::Manual),
        count(RequirementStatus::NotCovered)
    )?;
    Ok(())
}
