//! `vigil fix`: plans fixes for failing findings (vigil-fix), prints them (text, JSON,
//! Terraform, CloudFormation) or the IAM policy they need, and with `--apply` applies them one
//! at a time (vigil-apply), recording each in the store; `vigil fix undo ID` restores a fix's
//! previous configuration. The only command that changes an account.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use vigil_apply::{Applier, ApplyConfig, Change, Outcome, Status};
use vigil_fix::{Activity, Fix, Options, Plan, Selection};
use vigil_store::{FixInput, FixRow, Store};

use super::GlobalArgs;
use super::history::StoreArgs;
use super::source::{LiveArgs, SourceArgs};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FixArgs {
    #[command(subcommand)]
    pub command: Option<FixCommand>,
    #[command(flatten)]
    pub plan: PlanArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum FixCommand {
    /// Restore the configuration a recorded fix changed: re-read it, refuse if it changed
    /// since the fix, send the fix's inverse, verify, and record the undo.
    Undo(UndoArgs),
    /// The fixes recorded in the store, newest first.
    List(ListArgs),
    /// One recorded fix: plan, calls, outcome, the configuration before and after, inverse.
    Show(ShowArgs),
    /// The checks vigil can fix, what each fix changes and the calls it may make.
    Fixers {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FixFormat {
    /// The plan, for people.
    Text,
    /// The plan as JSON (`{"fixes": [...], "skipped": [...], "notes": [...]}`).
    Json,
    /// The same changes as Terraform snippets (nothing is applied).
    Terraform,
    /// The same changes as CloudFormation (YAML) snippets (nothing is applied).
    Cloudformation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Fix the failing findings of this check (repeatable).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Fix this finding, by its id in the store (`vigil serve` shows it; repeatable).
    #[arg(long = "finding", value_name = "ID")]
    pub findings: Vec<i64>,
    /// Fix the findings about this resource, by ARN (repeatable).
    #[arg(long = "resource", value_name = "ARN")]
    pub resources: Vec<String>,
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    pub format: FixFormat,
    /// Apply the plan: one fix at a time, each checked against a fresh read first and verified
    /// by re-reading after; stops at the first failure. Asks for confirmation unless --yes.
    #[arg(long, conflicts_with = "print_policy")]
    pub apply: bool,
    /// Do not ask for confirmation before applying.
    #[arg(long, requires = "apply")]
    pub yes: bool,
    /// Print the least-privilege IAM policy that applying this plan needs, and exit.
    #[arg(long)]
    pub print_policy: bool,
    /// Narrow internet-wide security group rules to this CIDR instead of only revoking them.
    #[arg(long, value_name = "CIDR")]
    pub narrow_to: Option<String>,
    /// Where new VPC flow logs are delivered: an S3 bucket ARN, or a CloudWatch Logs log group
    /// ARN (with --flow-log-role).
    #[arg(long, value_name = "ARN")]
    pub flow_log_destination: Option<String>,
    /// The role VPC Flow Logs assumes to deliver to CloudWatch Logs.
    #[arg(long, value_name = "ARN")]
    pub flow_log_role: Option<String>,
    /// CloudTrail logs (files, directories, `-`): a fix that would deny an action a principal
    /// used, or deactivate a key that was used, is flagged as breaking it.
    #[arg(long = "trail", value_name = "PATH")]
    pub trails: Vec<String>,
    /// Cloud-aware policy (YAML) whose parameters the checks use (as for `vigil scan`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Seconds to wait for a re-read to show an applied change.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub verify_timeout: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    /// The id of the recorded fix (`vigil fix list`).
    pub id: i64,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub verify_timeout: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only the fixes about (or changing) this resource.
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    pub id: i64,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(global: &GlobalArgs, args: FixArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(FixCommand::Undo(undo)) => run_undo(global, undo),
        Some(FixCommand::List(list)) => run_list(list),
        Some(FixCommand::Show(show)) => run_show(show),
        Some(FixCommand::Fixers { format }) => run_fixers(format),
        None => run_plan(global, args.plan),
    }
}

/// Who asked for a change: the login name of the person running vigil.
fn operator() -> String {
    std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".to_string())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn run_plan(global: &GlobalArgs, args: PlanArgs) -> anyhow::Result<ExitCode> {
    for id in &args.checks {
        if vigil_checks::find(id).is_none() {
            anyhow::bail!("unknown check `{id}`; `vigil checks` lists them");
        }
        if vigil_fix::fixer_for(id).is_none() {
            anyhow::bail!("check `{id}` has no fixer; `vigil fix fixers` lists the checks vigil can fix");
        }
    }
    if args.apply && args.source.demo {
        anyhow::bail!("the bundled demo account is a snapshot: nothing to apply the plan to");
    }
    if args.apply && matches!(args.format, FixFormat::Terraform | FixFormat::Cloudformation) {
        anyhow::bail!("--format {} writes the changes as code for you to deploy; it does not combine with --apply", format_name(args.format));
    }
    if let Some(cidr) = &args.narrow_to
        && vigil_net::Cidr::parse(cidr).is_none()
    {
        anyhow::bail!("--narrow-to `{cidr}` is not a CIDR block");
    }
    let policy = super::scan::load_policy(args.policy.as_deref())?;
    let activities = read_activities(&args.trails, global.quiet)?;
    let mut selection = Selection { checks: args.checks.clone(), resources: args.resources.clone(), findings: Vec::new() };
    if !args.findings.is_empty() {
        let mut store = args.store.open()?;
        for id in &args.findings {
            let finding = store.finding(*id)?.ok_or_else(|| anyhow::anyhow!("no finding {id} in the store `{}`", store.location()))?;
            selection.findings.push((finding.check_id, finding.resource_arn, finding.region));
        }
    }
    let inventory = super::source::load(&args.source, global.quiet)?;
    let options =
        Options { narrow_to: args.narrow_to.clone(), flow_log_destination: args.flow_log_destination.clone(), flow_log_role: args.flow_log_role.clone() };
    let plan = vigil_fix::plan(&inventory, &selection, &options, Some(&policy), &activities, chrono::Utc::now());

    if args.print_policy {
        let operations = plan.operations();
        let document = vigil_fix::actions::policy_document(operations.iter().map(String::as_str)).map_err(|error| anyhow::anyhow!(error))?;
        println!("{}", serde_json::to_string_pretty(&document)?);
        if plan.fixes.is_empty() && !global.quiet {
            eprintln!("no fix is planned: the policy allows nothing");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        FixFormat::Text => print_plan(&mut out, &plan)?,
        FixFormat::Json if !args.apply => writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?,
        FixFormat::Json => {}
        FixFormat::Terraform | FixFormat::Cloudformation => {
            print_iac(&mut out, &plan, args.format)?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    drop(out);
    if !args.apply {
        if args.format == FixFormat::Text && !plan.fixes.is_empty() && !global.quiet {
            eprintln!("nothing was changed; run again with --apply to apply these {} fix(es)", plan.fixes.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if plan.fixes.is_empty() {
        if args.format == FixFormat::Json {
            println!("{}", serde_json::to_string_pretty(&json!({ "fixes": [], "skipped": plan.skipped, "notes": plan.notes, "results": [] }))?);
        }
        eprintln!("nothing to apply");
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes && !confirm(&format!("Apply {} fix(es) to account {}?", plan.fixes.len(), inventory.account_id()))? {
        eprintln!("nothing was changed");
        return Ok(ExitCode::from(super::EXIT_ERROR));
    }
    let mut store = args.store.open()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let config = ApplyConfig { collect: args.source.live.collect_config(), verify_timeout: Duration::from_secs(args.verify_timeout) };
    let applier = runtime.block_on(Applier::connect(config))?;
    if applier.account_id() != inventory.account_id().as_str() {
        anyhow::bail!("the plan is for account {} but the credentials are for account {}", inventory.account_id(), applier.account_id());
    }
    let results = apply_fixes(&runtime, &applier, &mut store, &plan.fixes, "cli", &operator(), global.quiet)?;
    if args.format == FixFormat::Json {
        let results: Vec<Value> =
            results.iter().map(|(index, id, outcome)| json!({ "fix": index, "id": id, "status": outcome.status, "message": outcome.message })).collect();
        println!("{}", serde_json::to_string_pretty(&json!({ "fixes": plan.fixes, "skipped": plan.skipped, "notes": plan.notes, "results": results }))?);
    }
    let all_applied = results.len() == plan.fixes.len() && results.iter().all(|(_, _, outcome)| outcome.status == Status::Applied);
    Ok(if all_applied { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_ERROR) })
}

/// Applies fixes in order, recording each; stops at the first one not applied. Returns
/// (index in `fixes`, store id, outcome) for each attempted fix.
pub fn apply_fixes(
    runtime: &tokio::runtime::Runtime,
    applier: &Applier,
    store: &mut Store,
    fixes: &[Fix],
    origin: &str,
    operator: &str,
    quiet: bool,
) -> anyhow::Result<Vec<(usize, i64, Outcome)>> {
    let mut results = Vec::new();
    for (index, fix) in fixes.iter().enumerate() {
        let kind = vigil_fix::kind(&fix.target.kind)?;
        let started_at = now();
        let outcome = runtime.block_on(applier.apply(&Change { kind, target: &fix.target, before: &fix.before, calls: &fix.calls, after: &fix.after }));
        let input = FixInput {
            started_at,
            finished_at: now(),
            account_id: fix.target.account_id.clone(),
            region: fix.region.clone(),
            check_id: fix.check_id.clone(),
            resource_arn: fix.resource.clone(),
            target_arn: fix.target.arn.clone(),
            kind: fix.target.kind.clone(),
            caller_arn: applier.caller_arn().to_string(),
            operator: operator.to_string(),
            origin: origin.to_string(),
            status: outcome.status.as_str().to_string(),
            message: outcome.message.clone(),
            undo_of: None,
            plan: serde_json::to_value(fix)?,
            calls: serde_json::to_value(&outcome.calls)?,
            before: outcome.before.clone(),
            after: outcome.after.clone(),
            inverse: serde_json::to_value(&outcome.inverse)?,
        };
        let id = store
            .record_fix(&input)
            .with_context(|| format!("the fix of {} on {} was {} but could not be recorded", fix.check_id, fix.resource, outcome.status.as_str()))?;
        let status = outcome.status;
        if !quiet || status != Status::Applied {
            eprintln!("fix {id} ({} on {}): {}: {}", fix.check_id, fix.target.id, status.as_str(), outcome.message);
        }
        results.push((index, id, outcome));
        if status != Status::Applied {
            let done = results.iter().filter(|(_, _, outcome)| outcome.status == Status::Applied).count();
            eprintln!(
                "stopped: {done} of {} fix(es) applied before this one; the remaining {} were not attempted (undo an applied fix with `vigil fix undo ID`)",
                fixes.len(),
                fixes.len() - index - 1
            );
            break;
        }
    }
    Ok(results)
}

fn run_undo(global: &GlobalArgs, args: UndoArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let record = store.fix(args.id)?.ok_or_else(|| anyhow::anyhow!("no fix {} in the store `{}`", args.id, store.location()))?;
    if let Some(by) = record.undone_by {
        anyhow::bail!("fix {} was already undone by fix {by}", args.id);
    }
    let status = record.input.status.as_str();
    if status == "refused" {
        anyhow::bail!("fix {} was refused, so it changed nothing: there is nothing to undo", args.id);
    }
    let (Some(before), Some(after)) = (record.input.before.clone(), record.input.after.clone()) else {
        anyhow::bail!(
            "fix {} has no re-read configuration after it ({}); undo it by hand with its recorded inverse (`vigil fix show {}`)",
            args.id,
            status,
            args.id
        );
    };
    let plan: Fix = serde_json::from_value(record.input.plan.clone()).context("the recorded plan cannot be read")?;
    let kind = vigil_fix::kind(&plan.target.kind)?;
    let inverse: Vec<vigil_fix::Call> = serde_json::from_value(record.input.inverse.clone()).context("the recorded inverse cannot be read")?;
    if inverse.is_empty() {
        anyhow::bail!("fix {} recorded no change to undo", args.id);
    }
    if !global.quiet {
        eprintln!("undo fix {} ({} on {}): {} call(s)", args.id, record.input.check_id, plan.target.id, inverse.len());
        for call in &inverse {
            eprintln!("  {} {} {}", call.service, call.operation, call.parameters);
        }
    }
    if !args.yes && !confirm(&format!("Undo fix {}?", args.id))? {
        eprintln!("nothing was changed");
        return Ok(ExitCode::from(super::EXIT_ERROR));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let applier =
        runtime.block_on(Applier::connect(ApplyConfig { collect: args.live.collect_config(), verify_timeout: Duration::from_secs(args.verify_timeout) }))?;
    let started_at = now();
    let outcome = runtime.block_on(applier.apply(&Change { kind, target: &plan.target, before: &after, calls: &inverse, after: &before }));
    let undo_plan = json!({ "undo_of": args.id, "target": plan.target, "calls": inverse, "before": after, "after": before });
    let input = FixInput {
        started_at,
        finished_at: now(),
        account_id: record.input.account_id.clone(),
        region: record.input.region.clone(),
        check_id: record.input.check_id.clone(),
        resource_arn: record.input.resource_arn.clone(),
        target_arn: record.input.target_arn.clone(),
        kind: record.input.kind.clone(),
        caller_arn: applier.caller_arn().to_string(),
        operator: operator(),
        origin: "undo".to_string(),
        status: outcome.status.as_str().to_string(),
        message: outcome.message.clone(),
        undo_of: Some(args.id),
        plan: undo_plan,
        calls: serde_json::to_value(&outcome.calls)?,
        before: outcome.before.clone(),
        after: outcome.after.clone(),
        inverse: serde_json::to_value(&outcome.inverse)?,
    };
    let id = store.record_fix(&input)?;
    eprintln!("fix {id} (undo of fix {}): {}: {}", args.id, outcome.status.as_str(), outcome.message);
    Ok(if outcome.status == Status::Applied { ExitCode::SUCCESS } else { ExitCode::from(super::EXIT_ERROR) })
}

fn run_list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let fixes = store.fixes(args.resource.as_deref(), 100_000)?;
    let mut out = std::io::stdout().lock();
    if args.format == ListFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&fixes)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if fixes.is_empty() {
        writeln!(out, "No fix recorded in {}.", store.location())?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{:>5}  {:<24}  {:<8}  {:<6}  {:<48}  resource", "id", "when", "status", "origin", "check")?;
    for row in &fixes {
        let status = match row.undone_by {
            Some(by) => format!("{} (undone by {by})", row.input.status),
            None => row.input.status.clone(),
        };
        writeln!(
            out,
            "{:>5}  {:<24}  {:<8}  {:<6}  {:<48}  {}",
            row.id, row.input.started_at, status, row.input.origin, row.input.check_id, row.input.target_arn
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let mut store = args.store.open()?;
    let row: FixRow = store.fix(args.id)?.ok_or_else(|| anyhow::anyhow!("no fix {} in the store `{}`", args.id, store.location()))?;
    println!("{}", serde_json::to_string_pretty(&row)?);
    Ok(ExitCode::SUCCESS)
}

fn run_fixers(format: ListFormat) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if format == ListFormat::Json {
        let fixers: Vec<Value> = vigil_fix::FIXERS
            .iter()
            .map(|fixer| {
                let actions: Vec<&str> = fixer.kind.writes.iter().filter_map(|name| name.split_once(':')).filter_map(|(service, operation)| vigil_fix::actions::iam_action(service, operation)).collect();
                json!({ "check_id": fixer.check_id, "kind": fixer.kind.id, "changes": fixer.kind.title, "summary": fixer.summary, "operations": fixer.kind.writes, "actions": actions })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&fixers)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for fixer in vigil_fix::FIXERS {
        writeln!(out, "{:<56} {}", fixer.check_id, fixer.summary)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{question} needs a confirmation: run on a terminal, or pass --yes");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

fn read_activities(paths: &[String], quiet: bool) -> anyhow::Result<Vec<Activity>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let sources = vigil_trail::read::expand_paths(paths)?;
    let (usage, report) = vigil_trail::usage::usage(&sources);
    if !quiet {
        eprintln!(
            "CloudTrail: {} records in {} file(s), {} skipped; {} (principal, action, resource) uses",
            report.records,
            report.files,
            report.skipped_records,
            usage.len()
        );
    }
    for problem in report.problems.iter().take(5) {
        eprintln!("warning: {}: {}", problem.source, problem.reason);
    }
    Ok(usage
        .into_iter()
        .map(|usage| Activity {
            principal: usage.principal,
            access_key_id: usage.access_key_id,
            action: usage.action,
            resources: usage.resources,
            count: usage.count,
            last_seen: usage.last_seen,
        })
        .collect())
}

fn format_name(format: FixFormat) -> &'static str {
    match format {
        FixFormat::Text => "text",
        FixFormat::Json => "json",
        FixFormat::Terraform => "terraform",
        FixFormat::Cloudformation => "cloudformation",
    }
}

fn print_plan(out: &mut impl Write, plan: &Plan) -> anyhow::Result<()> {
    if plan.fixes.is_empty() {
        writeln!(out, "No fix planned.")?;
    }
    let total = plan.fixes.len();
    for (index, fix) in plan.fixes.iter().enumerate() {
        writeln!(out, "Fix {} of {total}: {} ({}) on {} [{}]", index + 1, fix.check_id, fix.severity.as_str(), fix.resource, fix.region)?;
        writeln!(out, "  finding:  {}", fix.finding)?;
        writeln!(out, "  change:   {}", fix.summary)?;
        if fix.target.arn != fix.resource {
            writeln!(out, "  on:       {}", fix.target.arn)?;
        }
        writeln!(out, "  calls:")?;
        for call in &fix.calls {
            writeln!(out, "    {} {} ({}) {}", call.service, call.operation, call.region, call.parameters)?;
        }
        writeln!(out, "  before:   {}", fix.before)?;
        writeln!(out, "  after:    {}", fix.after)?;
        let resolved: Vec<String> = fix.resolves.iter().map(|finding| format!("{} on {}", finding.check_id, finding.resource)).collect();
        writeln!(out, "  resolves: {}", resolved.join("; "))?;
        for finding in &fix.introduces {
            writeln!(out, "  NEW FAILURE: {} on {}: {}", finding.check_id, finding.resource, finding.message)?;
        }
        for exposure in &fix.exposures_removed {
            writeln!(out, "  exposure removed: {} {} ({}): {}", exposure.resource_type, exposure.resource_id, exposure.address, exposure.entries.join("; "))?;
        }
        for exposure in &fix.exposures_added {
            writeln!(out, "  exposure added: {} {} ({}): {}", exposure.resource_type, exposure.resource_id, exposure.address, exposure.entries.join("; "))?;
        }
        for path in &fix.escalations_removed {
            writeln!(out, "  escalation removed: {path}")?;
        }
        for access in &fix.external_access_removed {
            writeln!(out, "  external access removed: {access}")?;
        }
        for broken in &fix.breaks {
            writeln!(out, "  BREAKS ({}): {}", broken.kind, broken.description)?;
        }
        if let Some(manager) = &fix.managed_by {
            writeln!(
                out,
                "  WARNING: managed by {manager}: its next deployment may revert this fix; change its code instead (--format terraform|cloudformation)"
            )?;
        }
        writeln!(out, "  undo:")?;
        for call in &fix.inverse {
            writeln!(out, "    {} {} ({}) {}", call.service, call.operation, call.region, call.parameters)?;
        }
        writeln!(out)?;
    }
    if !plan.skipped.is_empty() {
        writeln!(out, "Not fixed:")?;
        for skipped in &plan.skipped {
            writeln!(out, "  {} on {} [{}]: {}", skipped.check_id, skipped.resource, skipped.region, skipped.reason)?;
        }
    }
    for note in &plan.notes {
        writeln!(out, "Note: {note}")?;
    }
    Ok(())
}

fn print_iac(out: &mut impl Write, plan: &Plan, format: FixFormat) -> anyhow::Result<()> {
    for fix in &plan.fixes {
        let comment = "#";
        writeln!(out, "{comment} {} ({}) on {}", fix.check_id, fix.severity.as_str(), fix.resource)?;
        writeln!(out, "{comment} {}", fix.summary)?;
        if let Some(manager) = &fix.managed_by {
            writeln!(out, "{comment} managed by {manager}: make this change there")?;
        }
        let snippet = if format == FixFormat::Terraform { &fix.iac.terraform } else { &fix.iac.cloudformation };
        writeln!(out, "{snippet}")?;
    }
    if plan.fixes.is_empty() {
        writeln!(out, "# no fix planned")?;
    }
    Ok(())
}

/// Automatic fixes in `vigil watch` (`--auto-fix FILE`): the policy, and the connection that
/// applies them.
pub struct Automation {
    pub policy: vigil_fix::automation::AutomationPolicy,
    pub applier: Applier,
    /// The policy file, for messages.
    pub file: String,
}

impl Automation {
    /// Reads the policy and connects with its role (or the watch's credentials).
    pub fn load(runtime: &tokio::runtime::Runtime, path: &std::path::Path, live: &LiveArgs) -> anyhow::Result<Automation> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read automation policy `{file}`"))?;
        let policy = vigil_fix::automation::AutomationPolicy::parse(&text, &file)?;
        let mut collect = live.collect_config();
        if let Some(role) = &policy.role_arn {
            collect.role_arn = Some(role.clone());
        }
        let applier = runtime.block_on(Applier::connect(ApplyConfig { collect, verify_timeout: Duration::from_secs(120) }))?;
        Ok(Automation { policy, applier, file })
    }

    /// Whether the kill switch is on (its file exists).
    fn stopped(&self) -> bool {
        self.policy.kill_switch.as_deref().is_some_and(|path| std::path::Path::new(path).exists())
    }

    /// Plans the automated checks' fixes on the current inventory and applies those the
    /// policy allows, within the hourly budget, one at a time, stopping at the first failure
    /// or when the kill switch appears. Each attempt is recorded (origin `watch`), and the
    /// inventory gets each applied change as re-read.
    pub fn run(
        &self,
        runtime: &tokio::runtime::Runtime,
        store: &mut Store,
        inventory: &mut vigil_model::Inventory,
        checks_policy: &vigil_checks::policy::Policy,
        quiet: bool,
    ) -> anyhow::Result<usize> {
        if self.stopped() {
            if !quiet {
                eprintln!("automatic fixes: paused by the kill switch `{}`", self.policy.kill_switch.as_deref().unwrap_or_default());
            }
            return Ok(0);
        }
        let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let used = store.fixes_since("watch", &since)?;
        let budget = i64::from(self.policy.max_fixes_per_hour) - used;
        let now = chrono::Utc::now();
        let selection = Selection { checks: self.policy.checks.clone(), ..Selection::default() };
        let first = vigil_fix::plan(inventory, &selection, &Options::default(), Some(checks_policy), &[], now);
        let resources = inventory.resources();
        let mut allowed = Vec::new();
        for fix in &first.fixes {
            let tags = resources.iter().find(|resource| resource.arn == fix.target.arn).and_then(|resource| resource.tags);
            match self.policy.refuses(fix, tags) {
                None => allowed.push((fix.check_id.clone(), fix.resource.clone(), fix.region.clone())),
                Some(reason) if !quiet => eprintln!("automatic fixes: not fixing {} on {}: {reason}", fix.check_id, fix.resource),
                Some(_) => {}
            }
        }
        if allowed.is_empty() {
            return Ok(0);
        }
        if budget <= 0 {
            eprintln!("automatic fixes: {} fix(es) wait: the limit of {} per hour ({}) is reached", allowed.len(), self.policy.max_fixes_per_hour, self.file);
            return Ok(0);
        }
        // Plan again with only the allowed findings, so each fix's "before" follows the fixes
        // actually applied before it.
        let plan = vigil_fix::plan(inventory, &Selection { findings: allowed, ..Selection::default() }, &Options::default(), Some(checks_policy), &[], now);
        let mut applied = 0;
        for fix in plan.fixes.iter().take(usize::try_from(budget).unwrap_or(0)) {
            if self.stopped() {
                eprintln!("automatic fixes: stopped by the kill switch");
                break;
            }
            let results = apply_fixes(runtime, &self.applier, store, std::slice::from_ref(fix), "watch", "vigil watch", quiet)?;
            for (_, _, outcome) in &results {
                if let Some(after) = &outcome.after {
                    let kind = vigil_fix::kind(&fix.target.kind)?;
                    (kind.set_state)(inventory, &fix.target, after)?;
                }
            }
            if results.iter().any(|(_, _, outcome)| outcome.status != Status::Applied) {
                eprintln!("automatic fixes: stopped after a fix that was not applied; later runs retry within the hourly limit");
                break;
            }
            applied += 1;
        }
        Ok(applied)
    }
}
