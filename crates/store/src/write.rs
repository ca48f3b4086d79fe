//! Recording a scan: new resource versions only where the configuration changed, deletions
//! inside the scope that was read completely, and the findings' lifecycle, all in one
//! transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

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

/// A digest of 16 bytes (xxh3-128): a configuration's, a finding's detail's, or an identity's
/// (an ARN, a finding key) where a scan compares against a million stored rows.
type Digest = [u8; 16];

fn digest(bytes: &[u8]) -> Digest {
    xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes()
}

/// A stored hash as a digest; `None` for one of another length (a deleted resource's empty
/// hash), which equals no digest.
fn stored_digest(bytes: &[u8]) -> Option<Digest> {
    Digest::try_from(bytes).ok()
}

/// The few distinct texts of the rows a scan compares against (resource types, regions,
/// states, statuses, lifecycles), each kept once and named by its index.
#[derive(Default)]
struct Texts {
    texts: Vec<String>,
    index: HashMap<String, u32>,
}

impl Texts {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(index) = self.index.get(text) {
            return *index;
        }
        let index = self.texts.len() as u32;
        self.texts.push(text.to_string());
        self.index.insert(text.to_string(), index);
        index
    }

    fn get(&self, index: u32) -> &str {
        self.texts.get(index as usize).map_or("", String::as_str)
    }
}

/// A stored resource as a scan compares against it: fixed-size digests and interned texts, so
/// that the million resources of a large account take tens of megabytes, not gigabytes.
struct KnownResource {
    /// The digest of the ARN (the identity; the rows are sorted by it).
    arn: Digest,
    id: i64,
    version: i64,
    config_hash: Option<Digest>,
    /// The digest of the name and the Name tag (`names_digest`), which are updated in place.
    names: Digest,
    resource_type: u32,
    region: u32,
    state: u32,
    seen: bool,
}

fn names_digest(name: &str, name_tag: &str) -> Digest {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(name.as_bytes());
    // 0xff appears in no UTF-8 text, so ("ab", "c") and ("a", "bc") differ.
    hasher.update(&[0xff]);
    hasher.update(name_tag.as_bytes());
    hasher.digest128().to_le_bytes()
}

/// Records resources one at a time against the stored ones of their accounts: each resource's
/// configuration is serialized, hashed and (when it changed) compressed and written before the
/// next one is read, so a scan holds the compact known rows and one resource, never all of
/// its resources' configurations.
struct ResourceWriter {
    /// Sorted by `arn`.
    known: Vec<KnownResource>,
    /// The ARN digests of resources first stored by this scan (a resource listed twice is
    /// recorded once).
    added: HashSet<Digest>,
    texts: Texts,
    next_id: i64,
}

impl ResourceWriter {
    fn load<'a>(db: &mut Db, accounts: impl IntoIterator<Item = &'a str>) -> Result<ResourceWriter, StoreError> {
        let mut known = Vec::new();
        let mut texts = Texts::default();
        let accounts: BTreeSet<&str> = accounts.into_iter().collect();
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
                    known.push(KnownResource {
                        arn: digest(arn.as_bytes()),
                        id,
                        version,
                        config_hash: stored_digest(&hash),
                        names: names_digest(&name, &name_tag),
                        resource_type: texts.intern(&resource_type),
                        region: texts.intern(&region),
                        state: texts.intern(&state),
                        seen: false,
                    });
                    Ok(())
                },
            )?;
        }
        known.sort_unstable_by_key(|resource| resource.arn);
        let next_id = db.int("SELECT MAX(id) FROM resources", &[])?.unwrap_or(0) + 1;
        Ok(ResourceWriter { known, added: HashSet::new(), texts, next_id })
    }

    fn write(&mut self, db: &mut Db, scan_id: ScanId, at: &str, item: &Item, summary: &mut WriteSummary) -> Result<(), StoreError> {
        let arn = digest(item.arn.as_bytes());
        let state = item.state.as_str();
        let Ok(position) = self.known.binary_search_by_key(&arn, |resource| resource.arn) else {
            if !self.added.insert(arn) {
                return Ok(());
            }
            summary.resources += 1;
            summary.resources_added += 1;
            let id = self.next_id;
            self.next_id += 1;
            let config_hash = digest(&item.config);
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
            return insert_version(db, id, 1, scan_id, at, state, &item.tags, Some(&compress(&item.config)));
        };
        let Some(existing) = self.known.get_mut(position) else { return Ok(()) };
        if existing.seen {
            return Ok(());
        }
        existing.seen = true;
        summary.resources += 1;
        let names = names_digest(&item.name, &item.name_tag);
        if existing.names != names {
            // Names are looked up, not versioned (a Name tag's change is in the tags).
            db.exec(
                "UPDATE resources SET name = $2, name_tag = $3 WHERE id = $1",
                &[Param::Int(existing.id), Param::Text(&item.name), Param::Text(&item.name_tag)],
            )?;
            existing.names = names;
        }
        let config_hash = digest(&item.config);
        let existing_state = self.texts.get(existing.state);
        // Unchanged: nothing is written. A live resource's last sighting is its account's
        // latest scan (see `read.rs`), so the store grows with changes only.
        if existing.config_hash == Some(config_hash) && existing_state == state {
            return Ok(());
        }
        // A hash from a stored configuration that still held fields now known to be volatile
        // (written before they joined the list): equal without them, it is the same
        // configuration, and only the hash is brought up to date.
        if existing_state == state && existing_state != ResourceState::Deleted.as_str() && same_without_volatile_fields(db, existing.id, item)? {
            db.exec("UPDATE resources SET config_hash = $2 WHERE id = $1", &[Param::Int(existing.id), Param::Blob(&config_hash)])?;
            existing.config_hash = Some(config_hash);
            return Ok(());
        }
        if existing_state == ResourceState::Deleted.as_str() {
            summary.resources_added += 1;
        } else {
            summary.resources_changed += 1;
        }
        existing.version += 1;
        existing.config_hash = Some(config_hash);
        existing.state = self.texts.intern(state);
        let (id, version) = (existing.id, existing.version);
        insert_version(db, id, version, scan_id, at, state, &item.tags, Some(&compress(&item.config)))?;
        db.exec(
            "UPDATE resources SET state = $2, config_hash = $3, version = $4, last_seen_scan = $5, last_seen_at = $6 WHERE id = $1",
            &[Param::Int(id), Param::Text(state), Param::Blob(&config_hash), Param::Int(version), Param::Int(scan_id), Param::Text(at)],
        )?;
        Ok(())
    }

    /// Records as deleted the known resources this scan did not list, inside the scope it read
    /// completely.
    fn delete_unseen(mut self, db: &mut Db, scan_id: ScanId, at: &str, scope: &Scope, summary: &mut WriteSummary) -> Result<(), StoreError> {
        let deleted = self.texts.intern(ResourceState::Deleted.as_str());
        for existing in self.known.iter_mut().filter(|existing| !existing.seen && existing.state != deleted) {
            if !scope.covers(&scope.account_id, self.texts.get(existing.resource_type), self.texts.get(existing.region)) {
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
}

/// A stored finding as a scan compares against it (fixed size, like `KnownResource`).
struct KnownFinding {
    /// The digest of its `finding_key` (the rows are sorted by it).
    key: Digest,
    id: i64,
    detail_hash: Option<Digest>,
    status: u32,
    lifecycle: u32,
    user_muted: bool,
    /// Whether its absence from this scan resolves it (decided when it is loaded: its check
    /// ran and its region was read, or its resource is one an event update is about).
    resolvable: bool,
    seen: bool,
}

/// The stored findings a scan compares against, and the keys of those it adds.
#[derive(Default)]
struct KnownFindings {
    /// Sorted by `key` once loaded.
    rows: Vec<KnownFinding>,
    added: HashSet<Digest>,
    texts: Texts,
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
        // One resource at a time: its item (configuration JSON, tags) lives until it is written.
        let mut resources = ResourceWriter::load(db, [scope.account_id.as_str()])?;
        for resource in inventory.resources() {
            let item = crate::items::item(&scope.account_id, resource);
            resources.write(db, scan_id, &at, &item, &mut summary)?;
        }
        resources.delete_unseen(db, scan_id, &at, &scope, &mut summary)?;
        pause_for_tests("scan:resources");
        let findings = input.findings.iter().filter(|finding| &*finding.account_id == inventory.account_id().as_str());
        let scan_regions: HashSet<String> = inventory.regions.iter().map(|region| region.to_string()).chain(["global".to_string()]).collect();
        let mut known = KnownFindings::default();
        known.load(db, "WHERE account_id = $1", &[Param::Text(&scope.account_id)], |check_id, region| {
            checks_run.contains(check_id) && scan_regions.contains(region)
        })?;
        write_findings(db, scan_id, &at, findings, known, &mut summary)?;
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
    let mut resources = ResourceWriter::load(db, update.items.iter().map(|item| item.account_id.as_str()))?;
    for item in &update.items {
        resources.write(db, scan_id, &at, item, &mut summary)?;
    }
    resources.delete_unseen(db, scan_id, &at, &scope, &mut summary)?;
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
    // Only this event's resources' findings are resolved by absence; the stored findings
    // compared against are those of the resources it touches (found by index).
    let arns: HashSet<&str> = update.items.iter().map(|item| item.arn.as_str()).chain(update.gone.iter().map(|(arn, _)| arn.as_str())).collect();
    let mut known = KnownFindings::default();
    for arn in &touched {
        let resolvable = arns.contains(arn);
        known.load(db, "WHERE account_id = $1 AND resource_arn = $2", &[Param::Text(&update.account_id), Param::Text(arn)], |_, _| resolvable)?;
    }
    write_findings(db, scan_id, &at, update.findings.iter(), known, &mut summary)?;
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

fn hash_json(finding: &Finding) -> Result<Digest, StoreError> {
    let mut writer = HashWriter(xxhash_rust::xxh3::Xxh3::new());
    serde_json::to_writer(&mut writer, finding).map_err(|error| StoreError::Corrupt { what: "a finding".into(), reason: error.to_string() })?;
    Ok(writer.0.digest128().to_le_bytes())
}

fn detail_json(finding: &Finding) -> Result<String, StoreError> {
    serde_json::to_string(finding).map_err(|error| StoreError::Corrupt { what: "a finding".into(), reason: error.to_string() })
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(bytes, 3).unwrap_or_else(|_| bytes.to_vec())
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

impl KnownFindings {
    /// Adds the stored findings `filter` selects (a `WHERE` clause over `findings`);
    /// `resolvable` says from a finding's check id and region whether its absence resolves it.
    fn load(&mut self, db: &mut Db, filter: &str, params: &[Param<'_>], resolvable: impl Fn(&str, &str) -> bool) -> Result<(), StoreError> {
        let texts = &mut self.texts;
        let rows = &mut self.rows;
        db.each(
            &format!("SELECT id, finding_key, status, lifecycle, detail_hash, check_id, region, user_mute_reason FROM findings {filter}"),
            params,
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
                rows.push(KnownFinding {
                    key: digest(key.as_bytes()),
                    id,
                    detail_hash: stored_digest(&detail_hash),
                    status: texts.intern(&status),
                    lifecycle: texts.intern(&lifecycle),
                    user_muted: muted.is_some(),
                    resolvable: resolvable(&check_id, &region),
                    seen: false,
                });
                Ok(())
            },
        )?;
        self.rows.sort_unstable_by_key(|finding| finding.key);
        Ok(())
    }
}

/// Records a scan's findings one at a time against the stored ones, then resolves those it no
/// longer produces (`mark_absent`).
fn write_findings<'a>(
    db: &mut Db,
    scan_id: ScanId,
    at: &str,
    findings: impl Iterator<Item = &'a Finding>,
    mut known: KnownFindings,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let mut next_id = db.int("SELECT MAX(id) FROM findings", &[])?.unwrap_or(0) + 1;
    for finding in findings {
        let key = finding_key(finding);
        let key_digest = digest(key.as_bytes());
        let detail_hash = hash_json(finding)?;
        let status = finding.status.as_str();
        let Ok(position) = known.rows.binary_search_by_key(&key_digest, |known| known.key) else {
            if !known.added.insert(key_digest) {
                continue;
            }
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
            continue;
        };
        let Some(existing) = known.rows.get_mut(position) else { continue };
        if existing.seen {
            continue;
        }
        existing.seen = true;
        let (existing_status, existing_lifecycle) = (known.texts.get(existing.status), known.texts.get(existing.lifecycle));
        let lifecycle = lifecycle(finding.status, Some(existing_lifecycle), existing.user_muted);
        let changed = existing_status != status || existing_lifecycle != lifecycle;
        if lifecycle == "new" {
            summary.findings_new += 1;
        }
        if lifecycle == "resolved" && existing_lifecycle != "resolved" {
            summary.findings_resolved += 1;
        }
        // The timeline records status changes; `new` becoming `open` is not one.
        if existing_status != status || (lifecycle == "muted") != (existing_lifecycle == "muted") {
            db.exec(
                "INSERT INTO finding_changes (finding, scan_id, status, lifecycle, changed_at) VALUES ($1, $2, $3, $4, $5)",
                &[Param::Int(existing.id), Param::Int(scan_id), Param::Text(status), Param::Text(lifecycle), Param::Text(at)],
            )?;
        }
        let resolved_at = (lifecycle == "resolved" && existing_lifecycle != "resolved").then_some(at);
        if changed || existing.detail_hash != Some(detail_hash) {
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
        } else if existing_lifecycle != lifecycle {
            db.exec("UPDATE findings SET lifecycle = $2 WHERE id = $1", &[Param::Int(existing.id), Param::Text(lifecycle)])?;
        }
    }
    mark_absent(db, scan_id, at, &known, summary)
}

/// Findings no longer produced for resources that were checked: status `ABSENT`; an open
/// one is resolved.
fn mark_absent(db: &mut Db, scan_id: ScanId, at: &str, known: &KnownFindings, summary: &mut WriteSummary) -> Result<(), StoreError> {
    for finding in known.rows.iter().filter(|finding| !finding.seen && finding.resolvable && known.texts.get(finding.status) != "ABSENT") {
        let before = known.texts.get(finding.lifecycle);
        let lifecycle = if matches!(before, "new" | "open" | "muted") { "resolved" } else { before };
        if lifecycle == "resolved" && before != "resolved" {
            summary.findings_resolved += 1;
        }
        let resolved_at = (lifecycle == "resolved" && before != "resolved").then_some(at);
        db.exec(
            "UPDATE findings SET status = 'ABSENT', lifecycle = $2, resolved_at = COALESCE($3, resolved_at) WHERE id = $1",
            &[Param::Int(finding.id), Param::Text(lifecycle), Param::OptText(resolved_at)],
        )?;
        db.exec(
            "INSERT INTO finding_changes (finding, scan_id, status, lifecycle, changed_at) VALUES ($1, $2, 'ABSENT', $3, $4)",
            &[Param::Int(finding.id), Param::Int(scan_id), Param::Text(lifecycle), Param::Text(at)],
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
        store.db.exec("UPDATE resources SET config_hash = $2 WHERE id = $1", &[Param::Int(id), Param::Blob(&digest(&old_config))]).unwrap();

        let versions = store.table_rows("resource_versions").unwrap();
        delivered(&mut inventory, "2026-01-03T00:00:00Z");
        let summary = record(&mut store, input(&inventory));
        assert_eq!(summary.resources_changed, 0, "{summary:?}");
        assert_eq!(store.table_rows("resource_versions").unwrap(), versions);
        let stored_hash = store.db.row("SELECT config_hash FROM resources WHERE id = $1", &[Param::Int(id)]).unwrap().unwrap().remove(0).into_blob().unwrap();
        assert_eq!(stored_hash, digest(&resource.config), "the hash is now the one without volatile fields");
        // And the next unchanged scan takes the fast path (same hash) with no version either.
        assert_eq!(record(&mut store, input(&inventory)).resources_changed, 0);
    }
}
