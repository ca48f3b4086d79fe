//! Organization scans as units of work that any number of processes share through one store
//! (docs/org.md): a run lists its units (each account's global part and region parts to
//! collect, the organization's policies to read once, each account to assess); processes claim
//! units with a lease they renew while working, complete them with their fragment (the part's
//! inventory as zstd JSON), and the assess unit of an account becomes claimable once every
//! collect unit it needs is done. Claims use `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL
//! (a plain write transaction on SQLite, for one machine).
//!
//! Invariants: a unit is completed only by the worker that holds it (a worker whose lease
//! expired and whose unit another took over cannot overwrite it); an account's scan is recorded
//! at most once per run (`scans.work_unit`, unique, checked in the transaction that records it
//! and marks its unit done).

use serde::Serialize;

use crate::db::{Db, Dialect, Param, Value};
use crate::write::ScanInput;
use crate::{ScanId, Store, StoreError};

/// The account id of the unit that reads the organization's SCPs and RCPs once for the whole
/// run (account ids are 12 digits, so it names no account); every assess unit waits for it.
pub const ORGANIZATION_UNIT: &str = "organization";
/// The region of an assess unit (it covers the account's every part).
pub const ASSESS_REGION: &str = "all";
/// How many times a unit is claimed before it is given up as failed: a unit whose holders keep
/// losing their lease (a process killed on it every time) does not stall the run for ever.
pub const MAX_ATTEMPTS: i64 = 3;

/// What a unit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Read one part of an account (or the organization's policies).
    Collect,
    /// Merge an account's parts, assess it and record its scan.
    Assess,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Collect => "collect",
            UnitKind::Assess => "assess",
        }
    }

    fn parse(text: &str) -> Option<UnitKind> {
        match text {
            "collect" => Some(UnitKind::Collect),
            "assess" => Some(UnitKind::Assess),
            _ => None,
        }
    }
}

/// One unit of a run: an account (or [`ORGANIZATION_UNIT`]), a region (`global`, a region, or
/// [`ASSESS_REGION`]) and its kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UnitKey {
    pub account_id: String,
    pub region: String,
    pub kind: UnitKind,
}

impl std::fmt::Display for UnitKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}/{}", self.kind.as_str(), self.account_id, self.region)
    }
}

/// Who claims: a worker id (unique per process and thread) and, for `--shard I/N`, its index.
#[derive(Debug, Clone)]
pub struct Claimant<'a> {
    pub worker: &'a str,
    /// `Some(I)`: only collect units of shard I (or of no shard), and any ready assess unit.
    pub shard: Option<u32>,
}

/// A claimed unit.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub key: UnitKey,
    /// This claim's attempt (1 for the first).
    pub attempt: i64,
}

/// What claiming found.
#[derive(Debug, Clone)]
pub enum Claim {
    /// A unit to work on, held until its lease expires unless renewed.
    Unit(Claimed),
    /// Nothing claimable now, but units this claimant waits for are pending or running
    /// (held by others, or assess units waiting for their parts).
    Wait,
    /// Nothing left for this claimant: for a worker, the run is complete; for a shard, its own
    /// units are done and no assess unit is ready.
    Done,
}

/// A unit as `vigil worker status` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct UnitRow {
    #[serde(flatten)]
    pub key: UnitKey,
    pub shard: Option<i64>,
    pub state: String,
    pub worker: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub attempts: i64,
    pub error: Option<String>,
    pub scan_id: Option<ScanId>,
}

/// How recording an account's scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now as this scan.
    Scan(ScanId),
    /// Recorded before (by a worker killed before it could mark the unit done); nothing was
    /// written twice.
    Already(ScanId),
    /// The unit is no longer this worker's (its lease expired and another took it over).
    Lost,
}

/// The `... FOR UPDATE SKIP LOCKED` of a claim: PostgreSQL skips rows another claimant is
/// taking; SQLite's write transaction already excludes every other writer.
fn skip_locked(db: &Db) -> &'static str {
    match db.dialect() {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    }
}

/// A row lock for a read followed by a write in the same transaction (PostgreSQL only).
fn for_update(db: &Db) -> &'static str {
    match db.dialect() {
        Dialect::Postgres => " FOR UPDATE",
        Dialect::Sqlite => "",
    }
}

/// Starts a claim's transaction: PostgreSQL's row locks do the work (no store-wide lock, so
/// claims do not wait for a scan being recorded); SQLite takes its write lock.
fn begin_claim(db: &mut Db) -> Result<(), StoreError> {
    match db.dialect() {
        Dialect::Postgres => db.batch("BEGIN"),
        Dialect::Sqlite => db.batch("BEGIN IMMEDIATE"),
    }
}

/// Runs `body` in a transaction begun by `begin`, committing on success and rolling back on
/// failure.
fn in_transaction<T>(db: &mut Db, begin: fn(&mut Db) -> Result<(), StoreError>, body: impl FnOnce(&mut Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
    begin(db)?;
    match body(db) {
        Ok(value) => {
            db.commit()?;
            Ok(value)
        }
        Err(error) => {
            db.rollback();
            Err(error)
        }
    }
}

const KEY: &str = "run_id = $1 AND account_id = $2 AND region = $3 AND kind = $4";

fn key_params<'a>(run_id: &'a str, key: &'a UnitKey) -> [Param<'a>; 4] {
    [Param::Text(run_id), Param::Text(&key.account_id), Param::Text(&key.region), Param::Text(key.kind.as_str())]
}

fn compress(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(bytes, 3).map_err(|error| StoreError::Corrupt { what: "a fragment".into(), reason: error.to_string() })
}

fn decompress(bytes: &[u8], key: &UnitKey) -> Result<Vec<u8>, StoreError> {
    zstd::stream::decode_all(bytes).map_err(|error| StoreError::Corrupt { what: format!("the fragment of {key}"), reason: error.to_string() })
}

/// An assess unit's fragments: each collect part's (region, JSON), and the organization unit's
/// JSON when the run has one.
pub type UnitFragments = (Vec<(String, Vec<u8>)>, Option<Vec<u8>>);

impl Store {
    /// Registers run `run_id` with its settings and collect units (idempotent: every process of
    /// a run registers the same units, and what exists is kept). `collect_units` is the sorted
    /// list of (account or [`ORGANIZATION_UNIT`], `global` or region); `shard_of(i)` is the shard
    /// unit `i` of the list belongs to, if the run is split in shards (the caller's rule:
    /// `vigil_trail::shard::Shard::of` for `--shard`). Each account gets its assess unit. A run
    /// registered before with other settings is an error naming both.
    pub fn register_run(
        &mut self,
        run_id: &str,
        settings: &str,
        collect_units: &[(String, String)],
        shard_of: &dyn Fn(usize) -> Option<u32>,
        now: &str,
    ) -> Result<(), StoreError> {
        in_transaction(&mut self.db, Db::begin_write, |db| {
            match db.row("SELECT settings FROM work_runs WHERE id = $1", &[Param::Text(run_id)])? {
                Some(row) => {
                    let registered = row.into_iter().next().and_then(Value::into_text).unwrap_or_default();
                    if registered != settings {
                        return Err(StoreError::Conflict(format!(
                            "run `{run_id}` was registered with other settings ({registered}); this process has {settings}: give every process of a run the same --org-role, --region and --service, or use another --run"
                        )));
                    }
                }
                None => {
                    db.exec(
                        "INSERT INTO work_runs (id, created_at, settings) VALUES ($1, $2, $3)",
                        &[Param::Text(run_id), Param::Text(now), Param::Text(settings)],
                    )?;
                }
            }
            let insert = "INSERT INTO work_units (run_id, account_id, region, kind, shard, state, attempts) VALUES ($1, $2, $3, $4, $5, 'pending', 0)
                          ON CONFLICT (run_id, account_id, region, kind) DO NOTHING";
            let mut accounts: Vec<&str> = Vec::new();
            for (index, (account, region)) in collect_units.iter().enumerate() {
                let shard = shard_of(index).map(i64::from);
                db.exec(insert, &[Param::Text(run_id), Param::Text(account), Param::Text(region), Param::Text("collect"), Param::OptInt(shard)])?;
                if account != ORGANIZATION_UNIT && accounts.last() != Some(&account.as_str()) {
                    accounts.push(account);
                }
            }
            accounts.sort_unstable();
            accounts.dedup();
            for account in accounts {
                db.exec(insert, &[Param::Text(run_id), Param::Text(account), Param::Text(ASSESS_REGION), Param::Text("assess"), Param::OptInt(None)])?;
            }
            Ok(())
        })
    }

    /// Claims one unit of the run for `claimant` until `lease_until` (unix seconds): an assess
    /// unit whose parts are all collected first, else a collect unit; pending, or running with
    /// an expired lease (its holder stopped renewing it: killed, or cut off). A unit claimed
    /// [`MAX_ATTEMPTS`] times already is marked failed instead of claimed again.
    pub fn claim_unit(&mut self, run_id: &str, claimant: &Claimant<'_>, now: i64, lease_until: i64) -> Result<Claim, StoreError> {
        let shard = claimant.shard.map_or(-1, i64::from);
        let worker = claimant.worker;
        loop {
            let suffix = skip_locked(&self.db);
            let sql = format!(
                "SELECT account_id, region, kind, attempts, state, worker FROM work_units u
                 WHERE run_id = $1
                   AND (state = 'pending' OR (state = 'running' AND lease_expires_at < $2))
                   AND (CAST($3 AS BIGINT) < 0 OR kind = 'assess' OR shard IS NULL OR shard = CAST($3 AS BIGINT))
                   AND (kind = 'collect' OR NOT EXISTS (
                        SELECT 1 FROM work_units c WHERE c.run_id = u.run_id AND c.kind = 'collect' AND c.state <> 'done'
                          AND (c.account_id = u.account_id OR (c.account_id = '{ORGANIZATION_UNIT}' AND c.state <> 'failed'))))
                 ORDER BY kind, account_id, region
                 LIMIT 1{suffix}"
            );
            let claimed = in_transaction(&mut self.db, begin_claim, |db| {
                let Some(row) = db.row(&sql, &[Param::Text(run_id), Param::Int(now), Param::Int(shard)])? else {
                    return Ok(None);
                };
                let text = |index: usize| row.get(index).and_then(Value::text).unwrap_or_default().to_string();
                let kind = UnitKind::parse(&text(2)).ok_or_else(|| StoreError::Corrupt { what: "work_units.kind".into(), reason: format!("`{}`", text(2)) })?;
                let key = UnitKey { account_id: text(0), region: text(1), kind };
                let attempts = row.get(3).and_then(Value::int).unwrap_or(0);
                let taken_over = text(4) == "running" && text(5) != worker;
                let params = key_params(run_id, &key);
                if taken_over && attempts >= MAX_ATTEMPTS {
                    let reason = format!("given up after {attempts} attempts: the workers holding it stopped renewing their lease (killed?)");
                    fail(db, run_id, &key, &reason)?;
                    return Ok(Some(None));
                }
                db.exec(
                    &format!("UPDATE work_units SET state = 'running', worker = $5, lease_expires_at = $6, attempts = attempts + 1 WHERE {KEY}"),
                    &[params[0], params[1], params[2], params[3], Param::Text(worker), Param::Int(lease_until)],
                )?;
                Ok(Some(Some(Claimed { key, attempt: attempts + 1 })))
            })?;
            match claimed {
                Some(Some(unit)) => return Ok(Claim::Unit(unit)),
                // A unit was given up: look again.
                Some(None) => continue,
                None => break,
            }
        }
        // Nothing claimable: is anything this claimant waits for still pending or running?
        // A worker waits for the whole run; a shard for its own collect units (an assess unit
        // that becomes ready later is taken by whoever completes its last part).
        let open = match claimant.shard {
            None => self.db.int("SELECT COUNT(*) FROM work_units WHERE run_id = $1 AND state IN ('pending', 'running')", &[Param::Text(run_id)])?,
            Some(_) => self.db.int(
                "SELECT COUNT(*) FROM work_units WHERE run_id = $1 AND state IN ('pending', 'running') AND kind = 'collect'
                   AND (shard IS NULL OR shard = CAST($2 AS BIGINT))",
                &[Param::Text(run_id), Param::Int(shard)],
            )?,
        };
        Ok(if open.unwrap_or(0) > 0 { Claim::Wait } else { Claim::Done })
    }

    /// Extends the lease of every unit whose worker id starts with `worker_prefix` (one
    /// process's threads) to `lease_until`; returns how many units it holds.
    pub fn renew_leases(&mut self, run_id: &str, worker_prefix: &str, lease_until: i64) -> Result<u64, StoreError> {
        self.db.exec(
            "UPDATE work_units SET lease_expires_at = $3
             WHERE run_id = $1 AND state = 'running' AND substr(worker, 1, length(CAST($2 AS TEXT))) = CAST($2 AS TEXT)",
            &[Param::Text(run_id), Param::Text(worker_prefix), Param::Int(lease_until)],
        )
    }

    /// Marks a collect unit done with its fragment (JSON, stored compressed), in one statement
    /// that only succeeds while `worker` holds it: `false` when another worker took it over.
    pub fn complete_unit(&mut self, run_id: &str, key: &UnitKey, worker: &str, fragment_json: &[u8]) -> Result<bool, StoreError> {
        let fragment = compress(fragment_json)?;
        let params = key_params(run_id, key);
        let changed = self.db.exec(
            &format!(
                "UPDATE work_units SET state = 'done', fragment = $5, lease_expires_at = NULL, error = NULL WHERE {KEY} AND state = 'running' AND worker = $6"
            ),
            &[params[0], params[1], params[2], params[3], Param::Blob(&fragment), Param::Text(worker)],
        )?;
        Ok(changed == 1)
    }

    /// Marks a unit `worker` holds failed with its reason; a failed collect unit also fails its
    /// account's assess unit (which could never become ready). `false` when the unit is no
    /// longer `worker`'s.
    pub fn fail_unit(&mut self, run_id: &str, key: &UnitKey, worker: &str, reason: &str) -> Result<bool, StoreError> {
        in_transaction(&mut self.db, begin_claim, |db| {
            let params = key_params(run_id, key);
            let held = db.row(&format!("SELECT worker FROM work_units WHERE {KEY} AND state = 'running'{}", for_update(db)), &params)?;
            if held.and_then(|row| row.into_iter().next()).and_then(Value::into_text).as_deref() != Some(worker) {
                return Ok(false);
            }
            fail(db, run_id, key, reason)?;
            Ok(true)
        })
    }

    /// The fragments an assess unit needs: its account's collect units' (region, JSON) and the
    /// organization unit's JSON (when the run has one).
    pub fn unit_fragments(&mut self, run_id: &str, account_id: &str) -> Result<UnitFragments, StoreError> {
        let rows = self.db.rows(
            "SELECT account_id, region, fragment FROM work_units WHERE run_id = $1 AND kind = 'collect' AND (account_id = $2 OR account_id = $3) ORDER BY region",
            &[Param::Text(run_id), Param::Text(account_id), Param::Text(ORGANIZATION_UNIT)],
        )?;
        let mut parts = Vec::new();
        let mut organization = None;
        for row in rows {
            let mut row = row.into_iter();
            let (Some(account), Some(region)) = (row.next().and_then(Value::into_text), row.next().and_then(Value::into_text)) else { continue };
            let key = UnitKey { account_id: account.clone(), region: region.clone(), kind: UnitKind::Collect };
            let Some(fragment) = row.next().and_then(Value::into_blob) else {
                // The organization's policies that could not be read for good: assessed without them.
                if account == ORGANIZATION_UNIT {
                    continue;
                }
                return Err(StoreError::NotFound(format!("{key} of run `{run_id}` has no fragment (not collected, or already consumed)")));
            };
            let json = decompress(&fragment, &key)?;
            if account == ORGANIZATION_UNIT {
                organization = Some(json);
            } else {
                parts.push((region, json));
            }
        }
        Ok((parts, organization))
    }

    /// Records the scan of `account_id` for run `run_id` and marks its assess unit done, in one
    /// transaction, while `worker` holds the unit; a scan recorded for this (run, account)
    /// before is not recorded again. The account's fragments are deleted with it.
    pub fn record_unit_scan(&mut self, run_id: &str, account_id: &str, worker: &str, input: &ScanInput<'_>) -> Result<Recorded, StoreError> {
        let key = UnitKey { account_id: account_id.to_string(), region: ASSESS_REGION.to_string(), kind: UnitKind::Assess };
        let work_unit = format!("{run_id}/{account_id}");
        let recorded = in_transaction(&mut self.db, Db::begin_write, |db| {
            let params = key_params(run_id, &key);
            let held = db.row(&format!("SELECT worker FROM work_units WHERE {KEY} AND state = 'running'{}", for_update(db)), &params)?;
            if held.and_then(|row| row.into_iter().next()).and_then(Value::into_text).as_deref() != Some(worker) {
                return Ok(Recorded::Lost);
            }
            let recorded = match db.int("SELECT id FROM scans WHERE work_unit = $1", &[Param::Text(&work_unit)])? {
                Some(scan_id) => Recorded::Already(scan_id),
                None => {
                    let summary = crate::write::write_scan_rows(db, input)?;
                    crate::counts::refresh_account(db, account_id)?;
                    db.exec("UPDATE scans SET work_unit = $2 WHERE id = $1", &[Param::Int(summary.scan_id), Param::Text(&work_unit)])?;
                    Recorded::Scan(summary.scan_id)
                }
            };
            let scan_id = match recorded {
                Recorded::Scan(id) | Recorded::Already(id) => id,
                Recorded::Lost => 0,
            };
            db.exec(
                &format!("UPDATE work_units SET state = 'done', lease_expires_at = NULL, error = NULL, scan_id = $5 WHERE {KEY}"),
                &[params[0], params[1], params[2], params[3], Param::Int(scan_id)],
            )?;
            db.exec(
                "UPDATE work_units SET fragment = NULL WHERE run_id = $1 AND account_id = $2 AND kind = 'collect'",
                &[Param::Text(run_id), Param::Text(account_id)],
            )?;
            Ok(recorded)
        })?;
        self.db.checkpoint();
        Ok(recorded)
    }

    /// Every unit of a run, by kind, account and region; empty when the run is unknown.
    pub fn run_units(&mut self, run_id: &str) -> Result<Vec<UnitRow>, StoreError> {
        let rows = self.db.rows(
            "SELECT account_id, region, kind, shard, state, worker, lease_expires_at, attempts, error, scan_id FROM work_units WHERE run_id = $1
             ORDER BY kind DESC, account_id, region",
            &[Param::Text(run_id)],
        )?;
        rows.into_iter()
            .map(|row| {
                let text = |index: usize| row.get(index).and_then(Value::text).map(str::to_string);
                let int = |index: usize| row.get(index).and_then(Value::int);
                let kind = text(2)
                    .as_deref()
                    .and_then(UnitKind::parse)
                    .ok_or_else(|| StoreError::Corrupt { what: "work_units.kind".into(), reason: format!("{:?}", text(2)) })?;
                Ok(UnitRow {
                    key: UnitKey { account_id: text(0).unwrap_or_default(), region: text(1).unwrap_or_default(), kind },
                    shard: int(3),
                    state: text(4).unwrap_or_default(),
                    worker: text(5),
                    lease_expires_at: int(6),
                    attempts: int(7).unwrap_or(0),
                    error: text(8),
                    scan_id: int(9),
                })
            })
            .collect()
    }

    /// The runs in the store with their settings, newest first: (id, created at, settings).
    pub fn runs(&mut self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = self.db.rows("SELECT id, created_at, settings FROM work_runs ORDER BY created_at DESC, id", &[])?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let text = |index: usize| row.get(index).and_then(Value::text).unwrap_or_default().to_string();
                (text(0), text(1), text(2))
            })
            .collect())
    }
}

/// Marks a unit failed (inside the caller's transaction); a collect unit's account's assess
/// unit fails with it, naming it.
fn fail(db: &mut Db, run_id: &str, key: &UnitKey, reason: &str) -> Result<(), StoreError> {
    let params = key_params(run_id, key);
    db.exec(
        &format!("UPDATE work_units SET state = 'failed', lease_expires_at = NULL, error = $5 WHERE {KEY}"),
        &[params[0], params[1], params[2], params[3], Param::Text(reason)],
    )?;
    if key.kind == UnitKind::Collect && key.account_id != ORGANIZATION_UNIT {
        db.exec(
            "UPDATE work_units SET state = 'failed', lease_expires_at = NULL, error = $3
             WHERE run_id = $1 AND account_id = $2 AND kind = 'assess' AND state IN ('pending', 'running')",
            &[Param::Text(run_id), Param::Text(&key.account_id), Param::Text(&format!("not assessed: {key} failed: {reason}"))],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
