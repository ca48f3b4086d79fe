//! Recording a scan: new resource versions only where the configuration changed, deletions
//! inside the scope that was read completely, and the findings' lifecycle, all in one
//! transaction.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::json;
use vigil_checks::{Finding, Status};
use vigil_model::{Inventory, Timestamp};

use crate::db::{Db, Param};
use crate::items::{Item, Scope};
use crate::{ResourceState, ScanId, Store, StoreError};

/// A scan to record.
#[derive(Debug)]
pub struct ScanInput<'a> {
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// Where the inventory came from: `aws`, `snapshot:PATH`, `demo`.
    pub source: String,
    pub inventories: Vec<&'a Inventory>,
    pub findings: &'a [Finding],
    /// The ids of the checks that ran: a finding of another check is not resolved by its absence.
    pub checks_run: Vec<String>,
    /// The exposure and IAM analyses of the inventories, when they were computed.
    pub analyses: Option<Vec<crate::Analysis>>,
}

/// What recording a scan changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriteSummary {
    pub scan_id: ScanId,
    pub resources: u64,
    pub resources_added: u64,
    pub resources_changed: u64,
    pub resources_deleted: u64,
    pub findings_new: u64,
    pub findings_resolved: u64,
}

/// A change to a few resources between scans (continuous mode): their new configuration,
/// and the findings of the checks that ran on them.
#[derive(Debug)]
pub struct EventUpdate<'a> {
    pub at: Timestamp,
    /// What triggered it (an EventBridge event id, ...).
    pub source: String,
    pub account_id: String,
    pub items: Vec<Item>,
    /// Resources known to be gone (by ARN), with the state to record (terminated, deleted).
    pub gone: Vec<(String, ResourceState)>,
    pub findings: &'a [Finding],
    /// The event that caused it, recorded in the same transaction so a redelivered event is
    /// recognised (`Store::event_seen`) and never applied twice: (id, kind, raw body).
    pub event: Option<(String, String, String)>,
}

struct Known {
    id: i64,
    hash: Vec<u8>,
    state: String,
    version: i64,
    resource_type: String,
    region: String,
    name: String,
    name_tag: String,
    seen: bool,
}

struct KnownFinding {
    id: i64,
    status: String,
    lifecycle: String,
    detail_hash: Vec<u8>,
    check_id: String,
    region: String,
    user_muted: bool,
    seen: bool,
}

impl Store {
    /// Records a scan in one transaction and returns what changed. A failure leaves the
    /// store as it was.
    pub fn record_scan(&mut self, input: &ScanInput<'_>) -> Result<WriteSummary, StoreError> {
        self.db.begin_write()?;
        match write_scan(&mut self.db, input) {
            Ok(summary) => {
                self.db.commit()?;
                self.db.checkpoint();
                Ok(summary)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// Records an event-driven update of a few resources (as a scan of kind `event`).
    pub fn record_event_update(&mut self, update: &EventUpdate<'_>) -> Result<WriteSummary, StoreError> {
        self.db.begin_write()?;
        match write_event_update(&mut self.db, update) {
            Ok(summary) => {
                pause_for_tests("event:applied");
                self.db.commit()?;
                Ok(summary)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }
}

fn write_scan(db: &mut Db, input: &ScanInput<'_>) -> Result<WriteSummary, StoreError> {
    let summary = write_scan_rows(db, input)?;
    crate::counts::refresh(db)?;
    pause_for_tests("scan:counts");
    Ok(summary)
}

/// Writes a scan's rows without refreshing the count tables (the caller does, for the whole
/// store or for the accounts the scan read).
pub(crate) fn write_scan_rows(db: &mut Db, input: &ScanInput<'_>) -> Result<WriteSummary, StoreError> {
    let scan_id = db.int("SELECT MAX(id) FROM scans", &[])?.unwrap_or(0) + 1;
    let at = input.finished_at.to_rfc3339();
    let mut summary = WriteSummary { scan_id, ..WriteSummary::default() };
    let checks_run: HashSet<&str> = input.checks_run.iter().map(String::as_str).collect();
    let mut accounts = Vec::new();
    let mut regions: Vec<String> = Vec::new();
    let mut calls = 0usize;
    let mut failures = Vec::new();
    for inventory in &input.inventories {
        let scope = Scope::of(inventory);
        let items = crate::items::items(inventory);
        write_resources(db, scan_id, &at, &scope, &items, &mut summary)?;
        pause_for_tests("scan:resources");
        let findings: Vec<&Finding> = input.findings.iter().filter(|finding| &*finding.account_id == inventory.account_id().as_str()).collect();
        let scan_regions: HashSet<String> = inventory.regions.iter().map(|region| region.to_string()).chain(["global".to_string()]).collect();
        write_findings(
            db,
            scan_id,
            &at,
            &scope.account_id,
            &findings,
            |known| checks_run.contains(known.check_id.as_str()) && scan_regions.contains(&known.region),
            &mut summary,
        )?;
        accounts.push(json!({ "account_id": scope.account_id, "caller_arn": inventory.account.caller_arn }));
        regions.extend(inventory.regions.iter().map(|region| region.to_string()));
        calls += inventory.ledger.calls.len();
        failures.extend(inventory.ledger.failures().map(|call| {
            json!({ "service": call.service, "region": call.region, "operation": call.operation, "target": call.target, "outcome": call.outcome.label() })
        }));
    }
    pause_for_tests("scan:findings");
    regions.sort();
    regions.dedup();
    let caller = input.inventories.first().and_then(|inventory| inventory.account.caller_arn.clone());
    let counts = status_counts(input.findings);
    db.exec(
        "INSERT INTO scans (id, kind, started_at, finished_at, source, caller_arn, accounts, regions, checks_run, resource_count, coverage, summary, vigil_version)
         VALUES ($1, 'scan', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            Param::Int(scan_id),
            Param::Text(&input.started_at.to_rfc3339()),
            Param::Text(&at),
            Param::Text(&input.source),
            Param::OptText(caller.as_deref()),
            Param::Text(&serde_json::Value::Array(accounts).to_string()),
            Param::Text(&serde_json::to_string(&regions).unwrap_or_default()),
            Param::Int(input.checks_run.len() as i64),
            Param::Int(summary.resources as i64),
            Param::Text(&json!({ "calls": calls, "failures": failures }).to_string()),
            Param::Text(&json!({ "by_status": counts, "changes": summary }).to_string()),
            Param::Text(env!("CARGO_PKG_VERSION")),
        ],
    )?;
    crate::analyses::write(db, scan_id, input.analyses.as_deref())?;
    Ok(summary)
}

fn write_event_update(db: &mut Db, update: &EventUpdate<'_>) -> Result<WriteSummary, StoreError> {
    let at = update.at.to_rfc3339();
    if let Some((id, kind, detail)) = &update.event {
        db.exec(
            "INSERT INTO events (message_id, received_at, kind, detail) VALUES ($1, $2, $3, $4)",
            &[Param::Text(id), Param::Text(&at), Param::Text(kind), Param::Text(detail)],
        )?;
    }
    if update.items.is_empty() && update.gone.is_empty() {
        return Ok(WriteSummary::default());
    }
    let scan_id = db.int("SELECT MAX(id) FROM scans", &[])?.unwrap_or(0) + 1;
    let mut summary = WriteSummary { scan_id, ..WriteSummary::default() };
    let mut touched: Vec<&str> = update
        .items
        .iter()
        .map(|item| item.arn.as_str())
        .chain(update.gone.iter().map(|(arn, _)| arn.as_str()))
        .chain(update.findings.iter().map(|finding| finding.resource_arn.as_str()))
        .collect();
    touched.sort_unstable();
    touched.dedup();
    crate::counts::adjust_for(db, &touched, -1)?;
    // No scope: an event update never deletes by absence, only what `gone` names.
    let scope = Scope::default();
    write_resources(db, scan_id, &at, &scope, &update.items, &mut summary)?;
    for (arn, state) in &update.gone {
        if let Some(row) = db.row("SELECT id, version, state FROM resources WHERE arn = $1", &[Param::Text(arn)])? {
            let (Some(id), Some(version)) = (row[0].int(), row[1].int()) else { continue };
            if row[2].text() != Some(state.as_str()) {
                let config = if *state == ResourceState::Deleted { None } else { latest_config(db, id)? };
                insert_version(db, id, version + 1, scan_id, &at, state.as_str(), "{}", config.as_deref())?;
                db.exec(
                    "UPDATE resources SET state = $2, version = $3, last_seen_scan = $4, last_seen_at = $5 WHERE id = $1",
                    &[Param::Int(id), Param::Text(state.as_str()), Param::Int(version + 1), Param::Int(scan_id), Param::Text(&at)],
                )?;
                summary.resources_deleted += 1;
            }
        }
    }
    let findings: Vec<&Finding> = update.findings.iter().collect();
    let arns: HashSet<&str> = update.items.iter().map(|item| item.arn.as_str()).chain(update.gone.iter().map(|(arn, _)| arn.as_str())).collect();
    // Only this event's resources' findings are resolved by absence.
    write_findings_for(db, scan_id, &at, &update.account_id, &findings, &arns, &mut summary)?;
    db.exec(
        "INSERT INTO scans (id, kind, started_at, finished_at, source, caller_arn, accounts, regions, checks_run, resource_count, coverage, summary, vigil_version)
         VALUES ($1, 'event', $2, $2, $3, NULL, $4, '[]', 0, $5, '{}', $6, $7)",
        &[
            Param::Int(scan_id),
            Param::Text(&at),
            Param::Text(&update.source),
            Param::Text(&json!([{ "account_id": update.account_id }]).to_string()),
            Param::Int(summary.resources as i64),
            Param::Text(&json!({ "changes": summary }).to_string()),
            Param::Text(env!("CARGO_PKG_VERSION")),
        ],
    )?;
    crate::counts::adjust_for(db, &touched, 1)?;
    Ok(summary)
}

/// Whether the resource's latest stored configuration equals the item's once the volatile
/// fields are removed from both (the item's have been already).
fn same_without_volatile_fields(db: &mut Db, resource: i64, item: &Item) -> Result<bool, StoreError> {
    if !vigil_model::volatile::has_volatile_fields(item.resource_type) {
        return Ok(false);
    }
    let Some(stored) = latest_config(db, resource)? else { return Ok(false) };
    let mut stored = crate::diff::decode_config(&stored)?;
    vigil_model::volatile::remove_volatile_fields(item.resource_type, &mut stored);
    let current: serde_json::Value =
        serde_json::from_slice(&item.config).map_err(|error| StoreError::Corrupt { what: "a resource configuration".into(), reason: error.to_string() })?;
    Ok(stored == current)
}

fn latest_config(db: &mut Db, resource: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let row = db.row("SELECT config FROM resource_versions WHERE resource = $1 ORDER BY version DESC LIMIT 1", &[Param::Int(resource)])?;
    Ok(row.and_then(|row| row.into_iter().next()).and_then(|value| value.into_blob()))
}

fn hash(bytes: &[u8]) -> Vec<u8> {
    xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes().to_vec()
}

/// Feeds serialized JSON straight into the hasher, without building the string.
struct HashWriter(xxhash_rust::xxh3::Xxh3);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hash_json(finding: &Finding) -> Result<Vec<u8>, StoreError> {
    let mut writer = HashWriter(xxhash_rust::xxh3::Xxh3::new());
    serde_json::to_writer(&mut writer, finding).map_err(|error| StoreError::Corrupt { what: "a finding".into(), reason: error.to_string() })?;
    Ok(writer.0.digest128().to_le_bytes().to_vec())
}

fn detail_json(finding: &Finding) -> Result<String, StoreError> {
    serde_json::to_string(finding).map_err(|error| StoreError::Corrupt { what: "a finding".into(), reason: error.to_string() })
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(bytes, 3).unwrap_or_else(|_| bytes.to_vec())
}

fn write_resources(db: &mut Db, scan_id: ScanId, at: &str, scope: &Scope, items: &[Item], summary: &mut WriteSummary) -> Result<(), StoreError> {
    let mut known: HashMap<String, Known> = HashMap::new();
    let accounts: HashSet<&str> =
        items.iter().map(|item| item.account_id.as_str()).chain((!scope.account_id.is_empty()).then_some(scope.account_id.as_str())).collect();
    for account in accounts {
        db.each(
            "SELECT id, arn, config_hash, state, version, resource_type, region, name, name_tag FROM resources WHERE account_id = $1",
            &[Param::Text(account)],
            |row| {
                let mut row = row.into_iter();
                let (Some(id), Some(arn), Some(hash), Some(state), Some(version), Some(resource_type), Some(region), Some(name), Some(name_tag)) = (
                    row.next().and_then(|value| value.int()),
                    row.next().and_then(|value| value.into_text()),
                    row.next().and_then(|value| value.into_blob()),
                    row.next().and_then(|value| value.into_text()),
                    row.next().and_then(|value| value.int()),
                    row.next().and_then(|value| value.into_text()),
                    row.next().and_then(|value| value.into_text()),
                    row.next().and_then(|value| value.into_text()),
                    row.next().and_then(|value| value.into_text()),
                ) else {
                    return Err(StoreError::Corrupt { what: "resources".into(), reason: "a row with a NULL column".into() });
                };
                known.insert(arn, Known { id, hash, state, version, resource_type, region, name, name_tag, seen: false });
                Ok(())
            },
        )?;
    }
    let mut next_id = db.int("SELECT MAX(id) FROM resources", &[])?.unwrap_or(0) + 1;
    for item in items {
        let config_hash = hash(&item.config);
        let state = item.state.as_str();
        match known.get_mut(&item.arn) {
            Some(existing) if existing.seen => continue,
            Some(existing) => {
                existing.seen = true;
                summary.resources += 1;
                if existing.name != item.name || existing.name_tag != item.name_tag {
                    // Names are looked up, not versioned (a Name tag's change is in the tags).
                    db.exec(
                        "UPDATE resources SET name = $2, name_tag = $3 WHERE id = $1",
                        &[Param::Int(existing.id), Param::Text(&item.name), Param::Text(&item.name_tag)],
                    )?;
                }
                // Unchanged: nothing is written. A live resource's last sighting is its
                // account's latest scan (see `read.rs`), so the store grows with changes only.
                if existing.hash == config_hash && existing.state == state {
                    continue;
                }
                // A hash from a stored configuration that still held fields now known to be
                // volatile (written before they joined the list): equal without them, it is
                // the same configuration, and only the hash is brought up to date.
                if existing.state == state && existing.state != ResourceState::Deleted.as_str() && same_without_volatile_fields(db, existing.id, item)? {
                    db.exec("UPDATE resources SET config_hash = $2 WHERE id = $1", &[Param::Int(existing.id), Param::Blob(&config_hash)])?;
                    existing.hash = config_hash;
                    continue;
                }
                if existing.state == ResourceState::Deleted.as_str() {
                    summary.resources_added += 1;
                } else {
                    summary.resources_changed += 1;
                }
                existing.version += 1;
                insert_version(db, existing.id, existing.version, scan_id, at, state, &item.tags, Some(&compress(&item.config)))?;
                db.exec(
                    "UPDATE resources SET state = $2, config_hash = $3, version = $4, last_seen_scan = $5, last_seen_at = $6 WHERE id = $1",
                    &[
                        Param::Int(existing.id),
                        Param::Text(state),
                        Param::Blob(&config_hash),
                        Param::Int(existing.version),
                        Param::Int(scan_id),
                        Param::Text(at),
                    ],
                )?;
            }
            None => {
                summary.resources += 1;
                summary.resources_added += 1;
                let id = next_id;
                next_id += 1;
                db.exec(
                    "INSERT INTO resources (id, arn, account_id, region, resource_type, resource_id, state, config_hash, version, first_seen_scan, first_seen_at, last_seen_scan, last_seen_at, name, name_tag)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $9, $10, $11, $12)",
                    &[
                        Param::Int(id),
                        Param::Text(&item.arn),
                        Param::Text(&item.account_id),
                        Param::Text(&item.region),
                        Param::Text(item.resource_type),
                        Param::Text(&item.resource_id),
                        Param::Text(state),
                        Param::Blob(&config_hash),
                        Param::Int(scan_id),
                        Param::Text(at),
                        Param::Text(&item.name),
                        Param::Text(&item.name_tag),
                    ],
                )?;
                insert_version(db, id, 1, scan_id, at, state, &item.tags, Some(&compress(&item.config)))?;
                known.insert(
                    item.arn.clone(),
                    Known {
                        id,
                        hash: config_hash,
                        state: state.to_string(),
                        version: 1,
                        resource_type: String::new(),
                        region: String::new(),
                        name: item.name.clone(),
                        name_tag: item.name_tag.clone(),
                        seen: true,
                    },
                );
            }
        }
    }
    for existing in known.values_mut().filter(|existing| !existing.seen && existing.state != ResourceState::Deleted.as_str()) {
        if !scope.covers(&scope.account_id, &existing.resource_type, &existing.region) {
            continue;
        }
        existing.version += 1;
        summary.resources_deleted += 1;
        insert_version(db, existing.id, existing.version, scan_id, at, ResourceState::Deleted.as_str(), "{}", None)?;
        // Last seen: the account's previous scan, the last one that listed it.
        db.exec(
            "UPDATE resources SET state = 'deleted', config_hash = $2, version = $3,
                last_seen_scan = COALESCE((SELECT MAX(id) FROM scans WHERE kind = 'scan' AND accounts LIKE '%' || resources.account_id || '%'), last_seen_scan),
                last_seen_at = COALESCE((SELECT MAX(finished_at) FROM scans WHERE kind = 'scan' AND accounts LIKE '%' || resources.account_id || '%'), last_seen_at)
             WHERE id = $1",
            &[Param::Int(existing.id), Param::Blob(&[]), Param::Int(existing.version)],
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_version(
    db: &mut Db,
    resource: i64,
    version: i64,
    scan_id: ScanId,
    at: &str,
    state: &str,
    tags: &str,
    config: Option<&[u8]>,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO resource_versions (resource, version, scan_id, observed_at, state, tags, config) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[Param::Int(resource), Param::Int(version), Param::Int(scan_id), Param::Text(at), Param::Text(state), Param::Text(tags), Param::OptBlob(config)],
    )?;
    Ok(())
}

/// The identity of a finding across scans.
pub fn finding_key(finding: &Finding) -> String {
    format!("{}|{}|{}|{}", &*finding.check_id, &*finding.account_id, &*finding.region, &*finding.resource_arn)
}

/// The lifecycle a finding gets from its status now and its lifecycle before.
fn lifecycle(status: Status, before: Option<&str>, user_muted: bool) -> &'static str {
    if status == Status::Muted || user_muted {
        return "muted";
    }
    let was_open = matches!(before, Some("new" | "open" | "muted"));
    match status {
        Status::Fail | Status::Error => {
            if was_open {
                "open"
            } else {
                "new"
            }
        }
        _ => {
            if was_open || before == Some("resolved") {
                "resolved"
            } else {
                "passing"
            }
        }
    }
}

fn write_findings(
    db: &mut Db,
    scan_id: ScanId,
    at: &str,
    account_id: &str,
    findings: &[&Finding],
    resolvable: impl Fn(&KnownFinding) -> bool,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let mut known = load_findings(db, account_id)?;
    upsert_findings(db, scan_id, at, findings, &mut known, summary)?;
    let absent: Vec<i64> =
        known.values().filter(|finding| !finding.seen && finding.status != "ABSENT" && resolvable(finding)).map(|finding| finding.id).collect();
    mark_absent(db, scan_id, at, &absent, &known, summary)
}

fn write_findings_for(
    db: &mut Db,
    scan_id: ScanId,
    at: &str,
    account_id: &str,
    findings: &[&Finding],
    arns: &HashSet<&str>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let mut known = load_findings(db, account_id)?;
    upsert_findings(db, scan_id, at, findings, &mut known, summary)?;
    let absent: Vec<i64> = known
        .iter()
        .filter(|(key, finding)| !finding.seen && finding.status != "ABSENT" && key.rsplit('|').next().is_some_and(|arn| arns.contains(arn)))
        .map(|(_, finding)| finding.id)
        .collect();
    mark_absent(db, scan_id, at, &absent, &known, summary)
}

fn load_findings(db: &mut Db, account_id: &str) -> Result<HashMap<String, KnownFinding>, StoreError> {
    let mut known = HashMap::new();
    db.each(
        "SELECT id, finding_key, status, lifecycle, detail_hash, check_id, region, user_mute_reason FROM findings WHERE account_id = $1",
        &[Param::Text(account_id)],
        |row| {
            let mut row = row.into_iter();
            let (Some(id), Some(key), Some(status), Some(lifecycle), Some(detail_hash), Some(check_id), Some(region), muted) = (
                row.next().and_then(|value| value.int()),
                row.next().and_then(|value| value.into_text()),
                row.next().and_then(|value| value.into_text()),
                row.next().and_then(|value| value.into_text()),
                row.next().and_then(|value| value.into_blob()),
                row.next().and_then(|value| value.into_text()),
                row.next().and_then(|value| value.into_text()),
                row.next().and_then(|value| value.into_text()),
            ) else {
                return Err(StoreError::Corrupt { what: "findings".into(), reason: "a row with a NULL column".into() });
            };
            known.insert(key, KnownFinding { id, status, lifecycle, detail_hash, check_id, region, user_muted: muted.is_some(), seen: false });
            Ok(())
        },
    )?;
    Ok(known)
}

fn upsert_findings(
    db: &mut Db,
    scan_id: ScanId,
    at: &str,
    findings: &[&Finding],
    known: &mut HashMap<String, KnownFinding>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let mut next_id = db.int("SELECT MAX(id) FROM findings", &[])?.unwrap_or(0) + 1;
    for finding in findings {
        let key = finding_key(finding);
        let detail_hash = hash_json(finding)?;
        let status = finding.status.as_str();
        match known.get_mut(&key) {
            Some(existing) if existing.seen => continue,
            Some(existing) => {
                existing.seen = true;
                let lifecycle = lifecycle(finding.status, Some(&existing.lifecycle), existing.user_muted);
                let changed = existing.status != status || existing.lifecycle != lifecycle;
                if lifecycle == "new" {
                    summary.findings_new += 1;
                }
                if lifecycle == "resolved" && existing.lifecycle != "resolved" {
                    summary.findings_resolved += 1;
                }
                // The timeline records status changes; `new` becoming `open` is not one.
                if existing.status != status || (lifecycle == "muted") != (existing.lifecycle == "muted") {
                    db.exec(
                        "INSERT INTO finding_changes (finding, scan_id, status, lifecycle, changed_at) VALUES ($1, $2, $3, $4, $5)",
                        &[Param::Int(existing.id), Param::Int(scan_id), Param::Text(status), Param::Text(lifecycle), Param::Text(at)],
                    )?;
                }
                let resolved_at = (lifecycle == "resolved" && existing.lifecycle != "resolved").then_some(at);
                if changed || existing.detail_hash != detail_hash {
                    let detail = detail_json(finding)?;
                    db.exec(
                        "UPDATE findings SET status = $2, lifecycle = $3, last_seen_scan = $4, last_seen_at = $5, resolved_at = CASE WHEN $3 = 'resolved' THEN COALESCE($6, resolved_at) ELSE NULL END,
                         severity = $7, detail_hash = $8, detail = $9 WHERE id = $1",
                        &[
                            Param::Int(existing.id),
                            Param::Text(status),
                            Param::Text(lifecycle),
                            Param::Int(scan_id),
                            Param::Text(at),
                            Param::OptText(resolved_at),
                            Param::Text(finding.severity.as_str()),
                            Param::Blob(&detail_hash),
                            Param::Text(&detail),
                        ],
                    )?;
                } else if existing.lifecycle != lifecycle {
                    db.exec("UPDATE findings SET lifecycle = $2 WHERE id = $1", &[Param::Int(existing.id), Param::Text(lifecycle)])?;
                }
            }
            None => {
                let id = next_id;
                next_id += 1;
                let detail = detail_json(finding)?;
                let lifecycle = lifecycle(finding.status, None, false);
                if lifecycle == "new" {
                    summary.findings_new += 1;
                }
                db.exec(
                    "INSERT INTO findings (id, finding_key, check_id, service, severity, account_id, region, resource_arn, resource_type, status, lifecycle,
                        first_seen_scan, first_seen_at, last_seen_scan, last_seen_at, resolved_at, user_mute_reason, detail_hash, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12, $13, NULL, NULL, $14, $15)",
                    &[
                        Param::Int(id),
                        Param::Text(&key),
                        Param::Text(&finding.check_id),
                        Param::Text(&finding.service),
                        Param::Text(finding.severity.as_str()),
                        Param::Text(&finding.account_id),
                        Param::Text(&finding.region),
                        Param::Text(&finding.resource_arn),
                        Param::Text(&finding.resource_type),
                        Param::Text(status),
                        Param::Text(lifecycle),
                        Param::Int(scan_id),
                        Param::Text(at),
                        Param::Blob(&detail_hash),
                        Param::Text(&detail),
                    ],
                )?;
                db.exec(
                    "INSERT INTO finding_changes (finding, scan_id, status, lifecycle, changed_at) VALUES ($1, $2, $3, $4, $5)",
                    &[Param::Int(id), Param::Int(scan_id), Param::Text(status), Param::Text(lifecycle), Param::Text(at)],
                )?;
                known.insert(
                    key,
                    KnownFinding {
                        id,
                        status: status.to_string(),
                        lifecycle: lifecycle.to_string(),
                        detail_hash,
                        check_id: finding.check_id.to_string(),
                        region: finding.region.to_string(),
                        user_muted: false,
                        seen: true,
                    },
                );
            }
        }
    }
    Ok(())
}

/// Findings no longer produced for resources that were checked: status `ABSENT`; an open
/// one is resolved.
fn mark_absent(
    db: &mut Db,
    scan_id: ScanId,
    at: &str,
    absent: &[i64],
    known: &HashMap<String, KnownFinding>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let lifecycles: HashMap<i64, &str> = known.values().map(|finding| (finding.id, finding.lifecycle.as_str())).collect();
    for id in absent {
        let before = lifecycles.get(id).copied().unwrap_or("passing");
        let lifecycle = if matches!(before, "new" | "open" | "muted") { "resolved" } else { before };
        if lifecycle == "resolved" && before != "resolved" {
            summary.findings_resolved += 1;
        }
        let resolved_at = (lifecycle == "resolved" && before != "resolved").then_some(at);
        db.exec(
            "UPDATE findings SET status = 'ABSENT', lifecycle = $2, resolved_at = COALESCE($3, resolved_at) WHERE id = $1",
            &[Param::Int(*id), Param::Text(lifecycle), Param::OptText(resolved_at)],
        )?;
        db.exec(
            "INSERT INTO finding_changes (finding, scan_id, status, lifecycle, changed_at) VALUES ($1, $2, 'ABSENT', $3, $4)",
            &[Param::Int(*id), Param::Int(scan_id), Param::Text(lifecycle), Param::Text(at)],
        )?;
    }
    Ok(())
}

fn status_counts(findings: &[Finding]) -> HashMap<&'static str, usize> {
    let mut counts = HashMap::new();
    for finding in findings {
        *counts.entry(finding.status.as_str()).or_default() += 1;
    }
    counts
}

/// A test seam for the crash-safety tests: with `VIGIL_STORE_TEST_PAUSE_MS` set, the writer
/// says so on standard error and sleeps inside its open transaction at the named point, so a
/// test can SIGKILL it there. `VIGIL_STORE_TEST_PAUSE_AT` names the point (`scan:resources`,
/// `scan:findings`, `scan:counts`, `event:applied`, `alerts:inserted`, `outbox:queued`);
/// unset, the writer pauses at `scan:resources`. Unset in normal use.
pub(crate) fn pause_for_tests(point: &str) {
    let Some(millis) = std::env::var("VIGIL_STORE_TEST_PAUSE_MS").ok().and_then(|text| text.parse::<u64>().ok()) else { return };
    let wanted = std::env::var("VIGIL_STORE_TEST_PAUSE_AT").unwrap_or_else(|_| "scan:resources".to_string());
    if wanted == point {
        eprintln!("vigil-store: paused inside the write transaction at `{point}`");
        std::thread::sleep(std::time::Duration::from_millis(millis));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store written before a field joined the volatile list holds it in its latest version
    /// and in the hash. The next scan that differs only in that field writes no version: it
    /// brings the hash up to date.
    #[test]
    fn a_version_stored_with_a_now_volatile_field_is_not_rewritten_for_it() {
        let directory = tempfile::tempdir().unwrap();
        let mut store = Store::open(directory.path().join("vigil.db").to_str().unwrap()).unwrap();
        let mut inventory = vigil_model::snapshot::from_bytes(include_bytes!("../../cli/demo/example-corp.vigil"), "demo").unwrap();
        let delivered = |inventory: &mut Inventory, at: &str| {
            let trail = inventory.regional.values_mut().flat_map(|regional| regional.trails.iter_mut()).next().unwrap();
            trail.status.get_or_insert_with(Default::default).latest_delivery_time = Some(at.parse().unwrap());
            trail.trail_arn.clone()
        };
        let arn = delivered(&mut inventory, "2026-01-02T00:00:00Z");
        let input = |inventory: &Inventory| (inventory.clone(), inventory.collected_at);
        let record = |store: &mut Store, (inventory, at): (Inventory, Timestamp)| {
            let scan = ScanInput {
                started_at: at,
                finished_at: at,
                source: "test".into(),
                inventories: vec![&inventory],
                findings: &[],
                checks_run: Vec::new(),
                analyses: None,
            };
            store.record_scan(&scan).unwrap()
        };
        record(&mut store, input(&inventory));

        // What an older vigil kept: the configuration with the delivery time, hashed with it.
        let resource = crate::items::items(&inventory).into_iter().find(|item| item.arn == arn).unwrap();
        let id = store.db.int("SELECT id FROM resources WHERE arn = $1", &[Param::Text(&arn)]).unwrap().unwrap();
        let mut full = vigil_model::snapshot::from_bytes(include_bytes!("../../cli/demo/example-corp.vigil"), "demo").unwrap();
        delivered(&mut full, "2026-01-02T00:00:00Z");
        let old_config = full.resources().into_iter().find(|resource| resource.arn == arn).unwrap().data.to_json_bytes();
        assert_ne!(old_config, resource.config, "the stored configuration leaves the delivery time out");
        store.db.exec("UPDATE resource_versions SET config = $2 WHERE resource = $1", &[Param::Int(id), Param::Blob(&compress(&old_config))]).unwrap();
        store.db.exec("UPDATE resources SET config_hash = $2 WHERE id = $1", &[Param::Int(id), Param::Blob(&hash(&old_config))]).unwrap();

        let versions = store.table_rows("resource_versions").unwrap();
        delivered(&mut inventory, "2026-01-03T00:00:00Z");
        let summary = record(&mut store, input(&inventory));
        assert_eq!(summary.resources_changed, 0, "{summary:?}");
        assert_eq!(store.table_rows("resource_versions").unwrap(), versions);
        let stored_hash = store.db.row("SELECT config_hash FROM resources WHERE id = $1", &[Param::Int(id)]).unwrap().unwrap().remove(0).into_blob().unwrap();
        assert_eq!(stored_hash, hash(&resource.config), "the hash is now the one without volatile fields");
        // And the next unchanged scan takes the fast path (same hash) with no version either.
        assert_eq!(record(&mut store, input(&inventory)).resources_changed, 0);
    }
}
