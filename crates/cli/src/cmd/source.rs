//! Where an inventory comes from: a live account (`--profile`, `--region`, ...), a saved
//! snapshot (`--snapshot FILE`) or the bundled demo account (`--demo`). Shared by every
//! command that reads an inventory.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use vigil_collect::{CollectConfig, Progress};
use vigil_model::{ApiCall, Inventory};

/// The bundled "Example Corp" demo account, collected from moto by `make-demo`.
pub const DEMO_SNAPSHOT: &[u8] = include_bytes!("../../demo/example-corp.vigil");

#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Read a snapshot written by `vigil collect -o FILE` instead of calling AWS.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    pub snapshot: Option<PathBuf>,
    /// Use the bundled demo account ("Example Corp"); works offline.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Options for reading a live account through the standard AWS credential chain.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// Named profile from ~/.aws/config (default: the standard credential chain).
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Region to read; repeat for several (default: every region enabled in the account).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Send every AWS request to this endpoint (an emulator or a proxy).
    #[arg(long, env = "VIGIL_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Assume this role first and read the account with its credentials.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Read only these services (repeatable): iam, s3, organizations, ec2, cloudtrail, logs, cloudwatch, sns, kms, config, ecs, glue, ... (docs/collect.md lists them all).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// API calls in flight at once, across all services and regions (each service in each
    /// region also has its own limit, which halves when AWS throttles it and climbs back).
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_in_flight: usize,
    /// Attempts per API call, including the first (adaptive retry).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_attempts: u32,
    /// A role in the organization's management (or a delegated administrator) account to read
    /// the SCPs and RCPs that govern the scanned account, when its own credentials cannot.
    #[arg(long, value_name = "ARN")]
    pub organization_role_arn: Option<String>,
    /// Read up to N objects of every bucket (ListObjectsV2, then GetObject on the first 64 KiB
    /// of each) and look for secrets and personal data; read-only, off by default (docs/collect.md).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=1000))]
    pub sample_objects: u16,
}

impl LiveArgs {
    pub fn collect_config(&self) -> CollectConfig {
        CollectConfig {
            profile: self.profile.clone(),
            regions: self.regions.clone(),
            endpoint_url: self.endpoint_url.clone(),
            role_arn: self.role_arn.clone(),
            services: self.services.clone(),
            max_in_flight: self.max_in_flight,
            max_attempts: self.max_attempts,
            organization_role_arn: self.organization_role_arn.clone(),
            sample_objects: usize::from(self.sample_objects),
            part: None,
        }
    }
}

/// Loads the inventory the arguments name.
pub fn load(source: &SourceArgs, quiet: bool) -> anyhow::Result<Inventory> {
    if source.demo {
        return vigil_model::snapshot::from_bytes(DEMO_SNAPSHOT, "the bundled demo snapshot").context("the bundled demo snapshot is damaged");
    }
    if let Some(path) = &source.snapshot {
        return Ok(vigil_model::snapshot::read(path)?);
    }
    collect_live(&source.live, quiet)
}

/// Collects a live account, with a progress bar on a terminal.
pub fn collect_live(live: &LiveArgs, quiet: bool) -> anyhow::Result<Inventory> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let progress = Arc::new(BarProgress::new(!quiet && std::io::stderr().is_terminal()));
    let config = live.collect_config();
    let inventory = runtime.block_on(vigil_collect::collect(&config, progress.clone()))?;
    progress.finish();
    if !quiet {
        let failures = inventory.ledger.failures().count();
        eprintln!(
            "collected account {} in {} region(s): {} resources, {} API calls, {} not read",
            inventory.account_id(),
            inventory.regions.len(),
            inventory.resources().len(),
            inventory.ledger.calls.len(),
            failures
        );
        for line in unread_summary(&inventory.ledger, 12) {
            eprintln!("  {line}");
        }
    }
    Ok(inventory)
}

/// The calls that could not be read, grouped by operation and reason, most frequent first,
/// one readable line each (at most `limit` lines, then how many more).
pub fn unread_summary(ledger: &vigil_model::Ledger, limit: usize) -> Vec<String> {
    let mut groups: std::collections::BTreeMap<(String, String), (usize, std::collections::BTreeSet<&str>)> = std::collections::BTreeMap::new();
    for call in ledger.failures() {
        let Some(reason) = call.outcome.reason() else { continue };
        let group = groups.entry((format!("{}:{}", call.service, call.operation), reason)).or_default();
        group.0 += 1;
        group.1.insert(&call.region);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    let mut lines: Vec<String> = groups
        .iter()
        .take(limit)
        .map(|((operation, reason), (count, regions))| {
            let calls = if *count == 1 { "1 call".to_string() } else { format!("{count} calls") };
            let regions: Vec<&str> = regions.iter().copied().collect();
            format!("not read: {operation} ({calls} in {}): {reason}", regions.join(", "))
        })
        .collect();
    if groups.len() > limit {
        lines.push(format!("... and {} more kinds of failure (the ledger in `vigil collect -o FILE` lists every call)", groups.len() - limit));
    }
    lines
}

/// Draws collection progress: units of (service, region) done, API calls and errors.
struct BarProgress {
    bar: Option<indicatif::ProgressBar>,
    counts: Mutex<(u64, u64, u64, u64)>,
}

impl BarProgress {
    fn new(enabled: bool) -> BarProgress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} services×regions  {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        BarProgress { bar, counts: Mutex::new((0, 0, 0, 0)) }
    }

    fn update(&self) {
        if let (Some(bar), Ok(counts)) = (&self.bar, self.counts.lock()) {
            let (started, finished, calls, errors) = *counts;
            bar.set_length(started);
            bar.set_position(finished);
            bar.set_message(format!("{calls} API calls, {errors} not read"));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for BarProgress {
    fn task_started(&self, _service: &str, _region: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.0 += 1;
        }
        self.update();
    }

    fn task_finished(&self, _service: &str, _region: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.1 += 1;
        }
        self.update();
    }

    fn call_finished(&self, call: &ApiCall) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.2 += 1;
            if !call.outcome.is_read() {
                counts.3 += 1;
            }
        }
        self.update();
    }
}

/// A member account that could not be read: (account id, why).
pub type AccountFailure = (String, String);

/// Collects every active account of the organization with `role_name` assumed in each. Accounts
/// that fail are reported on standard error and returned as failures; it is an error only when
/// no account could be read.
pub fn collect_organization(live: &LiveArgs, role_name: &str, parallel: usize, quiet: bool) -> anyhow::Result<(Vec<Inventory>, Vec<AccountFailure>)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let config = live.collect_config();
    let accounts = runtime.block_on(vigil_collect::organization::accounts(&config))?;
    if !quiet {
        let active = accounts.iter().filter(|account| account.status == "ACTIVE").count();
        eprintln!("organization: {} accounts ({active} active); reading each with role {role_name}, {parallel} at a time", accounts.len());
    }
    let results = runtime.block_on(vigil_collect::organization::collect_accounts(&config, &accounts, role_name, parallel, Arc::new(vigil_collect::NoProgress)));
    // The organization's SCPs and RCPs, read once with the management credentials for every
    // account (a member's own role usually may not read them).
    let account_ids: Vec<String> = results.iter().filter(|(_, result)| result.is_ok()).map(|(account, _)| account.id.clone()).collect();
    let reads = read_organization(&runtime, live, &config, &account_ids);
    let organization_accounts: Vec<String> = accounts.iter().map(|account| account.id.clone()).collect();
    let mut inventories = Vec::new();
    let mut failures = Vec::new();
    for (account, result) in results {
        match result {
            Ok(mut inventory) => {
                vigil_collect::organization::complete_account(&mut inventory, &reads, &organization_accounts);
                if !quiet {
                    eprintln!(
                        "  {} ({}): {} resources, {} API calls not read",
                        account.id,
                        account.name,
                        inventory.resources().len(),
                        inventory.ledger.failures().count()
                    );
                }
                inventories.push(inventory);
            }
            Err(error) => {
                eprintln!("error: account {} ({}) was not scanned: {error}", account.id, account.name);
                failures.push((account.id, error.to_string()));
            }
        }
    }
    if inventories.is_empty() {
        anyhow::bail!("no account of the organization could be read with role `{role_name}`");
    }
    Ok((inventories, failures))
}

/// Reads the organization's SCPs and RCPs (and the parents of `account_ids`) with the
/// management credentials, or the role `--organization-role-arn` names; a failure is a warning
/// (the accounts are then assessed without them, as their checks say).
pub fn read_organization(
    runtime: &tokio::runtime::Runtime,
    live: &LiveArgs,
    config: &CollectConfig,
    account_ids: &[String],
) -> vigil_collect::organization::OrganizationReads {
    let organization_config = match &live.organization_role_arn {
        Some(role_arn) => CollectConfig { role_arn: Some(role_arn.clone()), ..config.clone() },
        None => config.clone(),
    };
    match runtime.block_on(vigil_collect::organization::policies(&organization_config, account_ids)) {
        Ok((policies, calls)) => vigil_collect::organization::OrganizationReads { policies, calls },
        Err(error) => {
            eprintln!("warning: the organization's SCPs and RCPs were not read: {error}");
            vigil_collect::organization::OrganizationReads::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use vigil_model::{ApiCall, Ledger, Outcome};

    use super::unread_summary;

    #[test]
    fn unread_calls_are_summarised_one_readable_line_per_operation_and_reason() {
        let throttled = || Outcome::Throttled { code: "SlowDown".into(), message: "Please reduce your request rate.".into() };
        let calls = vec![
            ApiCall::new("s3", "us-east-1", "GetBucketPolicy", Some("a".into()), throttled()),
            ApiCall::new("s3", "eu-west-1", "GetBucketPolicy", Some("b".into()), throttled()),
            ApiCall::new("ec2", "us-east-1", "DescribeVpcs", None, Outcome::AccessDenied { code: "UnauthorizedOperation".into(), message: "no".into() }),
            ApiCall::new("ec2", "us-east-1", "DescribeSubnets", None, Outcome::Ok),
        ];
        let ledger = Ledger { calls };
        assert_eq!(
            unread_summary(&ledger, 5),
            vec![
                "not read: s3:GetBucketPolicy (2 calls in eu-west-1, us-east-1): throttled: Please reduce your request rate. (SlowDown)",
                "not read: ec2:DescribeVpcs (1 call in us-east-1): access denied: no (UnauthorizedOperation)",
            ]
        );
        assert_eq!(
            unread_summary(&ledger, 1).last().map(String::as_str),
            Some("... and 1 more kinds of failure (the ledger in `vigil collect -o FILE` lists every call)")
        );
    }
}
