//! `vigil watch`: continuous monitoring. Full scans on a schedule and, between them, events
//! from an SQS queue fed by EventBridge: each event's resources are read again, checked and
//! stored within seconds. An event is recorded in the same transaction as its effect and its
//! message deleted only afterwards, so a restart neither loses nor repeats one.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use vigil_assess::{Assessor, Selection};
use vigil_checks::Finding;
use vigil_collect::targeted::{EventQueue, QueueMessage, Reader};
use vigil_model::{Inventory, Region};
use vigil_store::{EventUpdate, ResourceState, ScanInput, Store};

use super::GlobalArgs;
use super::history::StoreArgs;
use super::source::LiveArgs;
use super::watch_events::{self, Target};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The SQS queue EventBridge delivers events to (EC2 instance state changes, "AWS API Call
    /// via CloudTrail"). Without it, vigil only scans on schedule.
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
    /// Time between full scans: a number with s, m, h or d (e.g. 90s, 30m, 6h).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub interval: Duration,
    #[command(flatten)]
    pub assess: super::scan::AssessArgs,
    /// Run one full scan, apply every event waiting in the queue, and exit.
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub notify: super::notify::NotifyArgs,
    /// Fix failing findings automatically, as an automation policy (YAML) allows: which
    /// checks, how many fixes an hour, which accounts and tags, and a kill switch (docs/fix.md).
    #[arg(long, value_name = "FILE")]
    pub auto_fix: Option<std::path::PathBuf>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration: use a number with s, m, h or d, e.g. 30m"))?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => return Err(format!("`{text}` has an unknown unit `{unit}`: use s, m, h or d")),
    };
    if seconds == 0 {
        return Err("the interval must be positive".to_string());
    }
    Ok(Duration::from_secs(seconds))
}

struct Watcher {
    runtime: tokio::runtime::Runtime,
    reader: Reader,
    queue: Option<EventQueue>,
    store: Store,
    assessor: Assessor,
    inventory: Option<Inventory>,
    notify: super::notify::NotifyArgs,
    quiet: bool,
    automation: Option<super::fix::Automation>,
}

pub fn run(global: &GlobalArgs, args: WatchArgs) -> anyhow::Result<ExitCode> {
    let assessor = args.assess.assessor()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let config = args.live.collect_config();
    let reader = runtime.block_on(Reader::connect(&config))?;
    let queue = args.queue_url.as_deref().map(|url| EventQueue::new(&reader, url));
    let store = args.store.open()?;
    let automation = args.auto_fix.as_deref().map(|path| super::fix::Automation::load(&runtime, path, &args.live)).transpose()?;
    let mut watcher = Watcher { runtime, reader, queue, store, assessor, inventory: None, notify: args.notify.clone(), quiet: global.quiet, automation };
    if !global.quiet {
        eprintln!("watching account {} (store {}); full scan every {}s", watcher.reader.account_id(), watcher.store.location(), args.interval.as_secs());
    }
    let mut next_scan = Instant::now();
    loop {
        if Instant::now() >= next_scan {
            // A failed scan is reported and retried at the next interval; events still flow.
            if let Err(error) = watcher.full_scan(&args.live) {
                eprintln!("error: scheduled scan failed: {error:#}");
            }
            next_scan = Instant::now() + args.interval;
        }
        if args.once && watcher.queue.is_none() {
            // Without a queue there are no events to wait for.
            return Ok(ExitCode::SUCCESS);
        }
        let wait = next_scan.saturating_duration_since(Instant::now()).min(Duration::from_secs(20));
        let handled = watcher.poll(wait)?;
        if args.once && handled == 0 {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

impl Watcher {
    fn full_scan(&mut self, live: &LiveArgs) -> anyhow::Result<()> {
        let started_at = chrono::Utc::now();
        let inventory = self.runtime.block_on(vigil_collect::collect(&live.collect_config(), Arc::new(vigil_collect::NoProgress)))?;
        let assessment = self.assess(&inventory, &Selection::everything())?;
        let input = ScanInput {
            started_at,
            finished_at: chrono::Utc::now(),
            source: "watch".into(),
            inventories: vec![&inventory],
            findings: &assessment.findings,
            checks_run: assessment.checks_run,
            analyses: Some(vigil_assess::analyses::analyse(&inventory, &self.assessor.host_facts)),
        };
        let summary = self.store.record_scan(&input)?;
        if !self.quiet {
            eprintln!(
                "scan {}: {} resources, {} added, {} changed, {} deleted; {} new findings, {} resolved",
                summary.scan_id,
                summary.resources,
                summary.resources_added,
                summary.resources_changed,
                summary.resources_deleted,
                summary.findings_new,
                summary.findings_resolved
            );
        }
        self.inventory = Some(inventory);
        self.notify(summary.scan_id);
        self.auto_fix();
        Ok(())
    }

    /// Applies the automatic fixes the automation policy allows (a failure is reported).
    fn auto_fix(&mut self) {
        let (Some(automation), Some(inventory)) = (&self.automation, &mut self.inventory) else { return };
        if let Err(error) = automation.run(&self.runtime, &mut self.store, inventory, &self.assessor.policy, self.quiet) {
            eprintln!("error: automatic fixes failed: {error:#}");
        }
    }

    /// Notifies the new findings of a stored scan or update; a failure is reported, not fatal.
    fn notify(&mut self, scan_id: vigil_store::ScanId) {
        if let Err(error) = super::notify::after_store(&self.notify, &mut self.store, scan_id, Some(self.reader.sdk_config()), self.quiet) {
            eprintln!("warning: notifications failed: {error:#}");
        }
    }

    /// The assess pipeline with the store's current agent roster (for the host coverage
    /// check) and what the agents report (for attack paths).
    fn assess(&mut self, inventory: &Inventory, selection: &Selection) -> anyhow::Result<vigil_assess::Assessment> {
        self.assessor.agent_roster = self.store.agent_roster().ok();
        self.assessor.host_facts = super::scan::read_host_facts(&mut self.store);
        Ok(self.assessor.assess(inventory, selection, chrono::Utc::now())?)
    }

    /// Waits up to `wait` for messages and applies them; returns how many were handled.
    fn poll(&mut self, wait: Duration) -> anyhow::Result<usize> {
        let Some(queue) = &self.queue else {
            std::thread::sleep(wait);
            return Ok(0);
        };
        let messages = match self.runtime.block_on(queue.receive(wait.as_secs() as i32)) {
            Ok(messages) => messages,
            Err(error) => {
                eprintln!("error: cannot read the event queue: {error}; retrying in 5 s");
                std::thread::sleep(Duration::from_secs(5));
                return Ok(0);
            }
        };
        let count = messages.len();
        for message in messages {
            match self.apply(&message) {
                Ok(()) => {
                    let Some(queue) = &self.queue else { break };
                    if let Err(error) = self.runtime.block_on(queue.delete(&message.receipt_handle)) {
                        // Stored already: a redelivery is recognised and only deleted.
                        eprintln!("warning: event stored but its message not deleted ({error}); it will be skipped when redelivered");
                    }
                }
                // Left in the queue: SQS delivers it again after its visibility timeout.
                Err(error) => eprintln!("error: event in message {} not applied, will retry: {error:#}", message.message_id),
            }
        }
        Ok(count)
    }

    /// Reads the event's resources again, checks them and stores the result with the event.
    fn apply(&mut self, message: &QueueMessage) -> anyhow::Result<()> {
        let event = match watch_events::parse(&message.message_id, &message.body) {
            Ok(event) => event,
            Err(reason) => {
                eprintln!("warning: {reason}; recorded and skipped");
                watch_events::Event { id: message.message_id.clone(), kind: "unreadable".into(), account: None, targets: Vec::new() }
            }
        };
        if self.store.event_seen(&event.id)? {
            return Ok(());
        }
        let account_id = self.reader.account_id().to_string();
        if event.account.as_deref().is_some_and(|account| account != account_id) {
            eprintln!("warning: event {} is for account {}, not {account_id}; recorded and skipped", event.id, event.account.as_deref().unwrap_or_default());
            return self.record(&event, &message.body, Vec::new(), Vec::new(), &[]);
        }
        let mut inventory = match self.inventory.take() {
            Some(inventory) => inventory,
            None => {
                let account = vigil_model::AccountInfo {
                    account_id: account_id.parse().map_err(|_| anyhow::anyhow!("the account id `{account_id}` is not valid"))?,
                    partition: self.reader.partition().to_string(),
                    caller_arn: None,
                    caller_user_id: None,
                    organization: None,
                };
                Inventory::new(account, Vec::new(), chrono::Utc::now())
            }
        };
        let result = self.patch(&mut inventory, &event.targets);
        let outcome = result.and_then(|gone| {
            let ids: BTreeSet<&str> = event
                .targets
                .iter()
                .map(|target| match target {
                    Target::Instance { id, .. } | Target::SecurityGroup { id, .. } => id.as_str(),
                })
                .collect();
            let items: Vec<vigil_store::items::Item> =
                vigil_store::items::items(&inventory).into_iter().filter(|item| ids.contains(item.resource_id.as_str())).collect();
            // The pipeline a full scan uses, kept to these resources' findings.
            let selection = Selection::resources(items.iter().map(|item| item.arn.as_str()));
            let findings = self.assess(&inventory, &selection)?.findings;
            if !self.quiet {
                for item in &items {
                    let failing = findings.iter().filter(|finding| *finding.resource_arn == item.arn && finding.status == vigil_checks::Status::Fail).count();
                    eprintln!("event {} ({}): {} {} ({failing} failing checks)", event.id, event.kind, item.arn, item.state.as_str());
                }
            }
            self.record(&event, &message.body, items, gone, &findings)
        });
        self.inventory = Some(inventory);
        if outcome.is_ok() {
            self.auto_fix();
        }
        outcome
    }

    fn record(
        &mut self,
        event: &watch_events::Event,
        body: &str,
        items: Vec<vigil_store::items::Item>,
        gone: Vec<(String, ResourceState)>,
        findings: &[Finding],
    ) -> anyhow::Result<()> {
        let update = EventUpdate {
            at: chrono::Utc::now(),
            source: format!("event {} ({})", event.id, event.kind),
            account_id: self.reader.account_id().to_string(),
            items,
            gone,
            findings,
            event: Some((event.id.clone(), event.kind.clone(), body.to_string())),
        };
        let summary = self.store.record_event_update(&update)?;
        if summary.scan_id > 0 {
            self.notify(summary.scan_id);
        }
        Ok(())
    }

    /// Reads each target again and puts it in the inventory; returns the ones AWS no longer
    /// knows (ARN and the state to record).
    fn patch(&self, inventory: &mut Inventory, targets: &[Target]) -> anyhow::Result<Vec<(String, ResourceState)>> {
        let mut gone = Vec::new();
        for target in targets {
            match target {
                Target::Instance { region, id, state } => {
                    let ids = std::slice::from_ref(id);
                    let found = match self.runtime.block_on(self.reader.instances(region, ids)) {
                        Ok(found) => found,
                        Err(failure) if failure.is_not_found() => Vec::new(),
                        Err(failure) => anyhow::bail!("{failure}"),
                    };
                    let regional = regional(inventory, region);
                    regional.ec2.instances.retain(|instance| &instance.instance_id != id);
                    if found.is_empty() {
                        let arn = inventory.regional_arn("ec2", region, &format!("instance/{id}"));
                        gone.push((arn, if state.as_deref() == Some("terminated") { ResourceState::Terminated } else { ResourceState::Deleted }));
                    } else {
                        regional.ec2.instances.extend(found);
                    }
                }
                Target::SecurityGroup { region, id } => {
                    let ids = std::slice::from_ref(id);
                    let found = match self.runtime.block_on(self.reader.security_groups(region, ids)) {
                        Ok(found) => found,
                        Err(failure) if failure.is_not_found() => Vec::new(),
                        Err(failure) => anyhow::bail!("{failure}"),
                    };
                    let regional = regional(inventory, region);
                    regional.ec2.security_groups.retain(|group| &group.group_id != id);
                    if found.is_empty() {
                        gone.push((inventory.regional_arn("ec2", region, &format!("security-group/{id}")), ResourceState::Deleted));
                    } else {
                        regional.ec2.security_groups.extend(found);
                    }
                }
            }
        }
        Ok(gone)
    }
}

fn regional<'a>(inventory: &'a mut Inventory, region: &str) -> &'a mut vigil_model::RegionalInventory {
    if !inventory.regions.iter().any(|known| known.as_str() == region) {
        inventory.regions.push(Region::new(region));
    }
    inventory.regional.entry(Region::new(region)).or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_take_a_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5w").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("soon").is_err());
    }
}
