//! `vigil paths`: attack paths from the internet (or a principal) through compute, roles and
//! escalation to admin-equivalent principals or sensitive data, ranked, with the minimal cut
//! (`vigil-paths`, docs/paths.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use vigil_iam::account::Account;
use vigil_paths::{CutMethod, Options};

use super::GlobalArgs;
use super::source::{self, SourceArgs};

#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only paths to this ARN (a bucket, secret, key, database or principal); a data
    /// resource named here is a target even without a sensitive tag.
    #[arg(long, value_name = "ARN")]
    pub to: Option<String>,
    /// Only paths through this ARN (an instance, function or role); a principal's ARN also
    /// adds the paths that start from it.
    #[arg(long, value_name = "ARN")]
    pub from: Option<String>,
    /// Cloud-aware policy (YAML): `sensitive_data_tags` and `sensitive_data_arns` say what is
    /// sensitive (default: the bundled policy and docs/paths.md's tag list).
    #[arg(long, value_name = "PATH")]
    pub policy: Option<PathBuf>,
    /// An instance's host firewall, joined to the exposure: INSTANCE_ID=FILE with `nft -j list
    /// ruleset` output or `iptables-save` text (repeatable).
    #[arg(long = "host-firewall", value_name = "INSTANCE_ID=FILE")]
    pub host_firewalls: Vec<String>,
    /// Read what vigil agents reported from this store (an SQLite path or a `postgres://`
    /// URL): a path into an instance whose agent reports critical or high vulnerabilities is
    /// more likely, and a port the host firewall an agent reports drops is no way in
    /// (`--host-firewall` wins for its instance; docs/paths.md). `vigil scan` does this with
    /// its own store.
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The services the engines read, when collecting live without `--service`.
const SERVICES: &[&str] = &["ec2", "elbv2", "elb", "rds", "iam", "s3", "lambda", "secretsmanager", "kms", "dynamodb", "ecs"];

pub fn run(global: &GlobalArgs, args: PathsArgs) -> anyhow::Result<ExitCode> {
    let policy = super::scan::load_policy(args.policy.as_deref())?;
    let firewalls = super::reach::host_firewalls(&args.host_firewalls)?;
    let mut source_args = args.source.clone();
    if source_args.live.services.is_empty() {
        source_args.live.services = SERVICES.iter().map(|service| service.to_string()).collect();
    }
    let inventory = source::load(&source_args, global.quiet)?;
    // Explicit `--host-firewall` files win over what agents report.
    let hosts = super::scan::host_facts_from(args.store.as_deref(), firewalls)?;
    let network = hosts.network(&inventory);
    let account = Account::from_inventory(&inventory);
    let context = vigil_checks::Context::with_policy(&inventory, chrono::Utc::now(), &policy);
    let options = Options { sensitivity: vigil_checks::sensitivity(&context), from: args.from.clone(), to: args.to.clone(), ..Options::default() };
    let report = vigil_paths::attack_paths(&inventory, &network, &account, &hosts, &options);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report.paths)?;
            writeln!(out)?;
        }
        Format::Table => {
            if report.paths.is_empty() {
                writeln!(out, "No attack path in account {} ({} resource(s) marked sensitive).", inventory.account_id(), report.sensitive.len())?;
                return Ok(ExitCode::SUCCESS);
            }
            for (number, path) in report.paths.iter().enumerate() {
                writeln!(
                    out,
                    "#{} score {} ({}% × impact {}): {} → {} [{}]",
                    number + 1,
                    path.score,
                    path.likelihood,
                    path.impact,
                    path.source,
                    path.target,
                    path.target_kind
                )?;
                for hop in &path.hops {
                    writeln!(out, "    {:<10} {} → {}\n               via {}", hop.kind, hop.from, hop.to, hop.via)?;
                }
                writeln!(out, "    why: {}", path.reasons.join("; "))?;
            }
            let method = match &report.method {
                CutMethod::Exact => "exact: no smaller set of changes breaks every path".to_string(),
                CutMethod::Greedy { lower_bound, factor } => {
                    format!("greedy: at most {factor:.2} × the minimum, which is at least {lower_bound}")
                }
            };
            writeln!(out, "\nMinimal cut ({} change(s), {method}):", report.cut.len())?;
            for change in &report.cut {
                let fix = change.fix.as_deref().map(|check| format!("  [vigil fix --check {check}]")).unwrap_or_default();
                writeln!(out, "  - {} (breaks {} path(s)){fix}", change.change, change.breaks)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
