//! The store's schema and its migrations, applied in order inside one transaction.
//!
//! Each migration is a list of statements written once for both backends; `{id}` and
//! `{blob}` stand for the two type names the dialects spell differently. Never edit a
//! released migration: append a new one.

use crate::StoreError;
use crate::db::{Db, Dialect, Param};

const MIGRATIONS: &[&[&str]] = &[
    // 1: scans, resources and their versions, findings and their changes, alerts, events.
    &[
        "CREATE TABLE scans (
            id {id},
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            caller_arn TEXT,
            accounts TEXT NOT NULL,
            regions TEXT NOT NULL,
            checks_run BIGINT NOT NULL,
            resource_count BIGINT NOT NULL,
            coverage TEXT NOT NULL,
            summary TEXT NOT NULL,
            vigil_version TEXT NOT NULL)",
        "CREATE TABLE resources (
            id {id},
            arn TEXT NOT NULL UNIQUE,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            resource_type TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            state TEXT NOT NULL,
            config_hash {blob} NOT NULL,
            version BIGINT NOT NULL,
            first_seen_scan BIGINT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_scan BIGINT NOT NULL,
            last_seen_at TEXT NOT NULL)",
        "CREATE INDEX resources_by_type ON resources (resource_type, account_id, region)",
        "CREATE TABLE resource_versions (
            resource BIGINT NOT NULL REFERENCES resources (id),
            version BIGINT NOT NULL,
            scan_id BIGINT NOT NULL,
            observed_at TEXT NOT NULL,
            state TEXT NOT NULL,
            tags TEXT NOT NULL,
            config {blob},
            PRIMARY KEY (resource, version))",
        "CREATE INDEX resource_versions_by_scan ON resource_versions (scan_id)",
        "CREATE TABLE findings (
            id {id},
            finding_key TEXT NOT NULL UNIQUE,
            check_id TEXT NOT NULL,
            service TEXT NOT NULL,
            severity TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            resource_arn TEXT NOT NULL,
            resource_type TEXT NOT NULL,
            status TEXT NOT NULL,
            lifecycle TEXT NOT NULL,
            first_seen_scan BIGINT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_scan BIGINT NOT NULL,
            last_seen_at TEXT NOT NULL,
            resolved_at TEXT,
            user_mute_reason TEXT,
            detail_hash {blob} NOT NULL,
            detail TEXT NOT NULL)",
        "CREATE INDEX findings_by_status ON findings (lifecycle, severity)",
        "CREATE INDEX findings_by_resource ON findings (resource_arn)",
        "CREATE TABLE finding_changes (
            finding BIGINT NOT NULL REFERENCES findings (id),
            scan_id BIGINT NOT NULL,
            status TEXT NOT NULL,
            lifecycle TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            PRIMARY KEY (finding, scan_id))",
        "CREATE INDEX finding_changes_by_scan ON finding_changes (scan_id)",
        "CREATE TABLE alerts (
            id {id},
            rule_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            rule_title TEXT NOT NULL,
            level TEXT NOT NULL,
            event_time TEXT NOT NULL,
            event_name TEXT NOT NULL,
            account_id TEXT,
            detail TEXT NOT NULL,
            stored_at TEXT NOT NULL,
            UNIQUE (rule_id, event_id))",
        "CREATE TABLE events (
            message_id TEXT PRIMARY KEY,
            received_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL)",
    ],
    // 2: the notification outbox (dedup by target and notice, retries, what was sent).
    &["CREATE TABLE outbox (
            target TEXT NOT NULL,
            notice_key TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            last_error TEXT,
            queued_at TEXT NOT NULL,
            sent_at TEXT,
            PRIMARY KEY (target, notice_key))"],
    // 3: the console: counts kept current with every write (so the dashboard of a store of
    // millions of rows reads a few thousand), and the exposure and IAM analyses of each scan.
    &[
        "CREATE TABLE finding_counts (
            check_id TEXT NOT NULL,
            service TEXT NOT NULL,
            severity TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            status TEXT NOT NULL,
            lifecycle TEXT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (check_id, service, severity, account_id, region, status, lifecycle))",
        "CREATE TABLE resource_counts (
            resource_type TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            state TEXT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (resource_type, account_id, region, state))",
        crate::counts::REFRESH_FINDING_COUNTS,
        crate::counts::REFRESH_RESOURCE_COUNTS,
        "CREATE TABLE analyses (
            scan_id BIGINT NOT NULL,
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL)",
        "CREATE INDEX analyses_by_subject ON analyses (kind, subject)",
        "CREATE INDEX analyses_by_scan ON analyses (scan_id, kind)",
        "CREATE INDEX findings_by_check ON findings (check_id)",
        "CREATE INDEX alerts_by_time ON alerts (event_time)",
    ],
    // 4: when a person muted a finding.
    &["ALTER TABLE findings ADD COLUMN user_muted_at TEXT"],
    // 5: an index on (key, id) for each order of the findings page, so a page of any order
    // at any depth walks an index from its cursor (keyset pagination).
    &[
        concat!("CREATE INDEX findings_by_severity_order ON findings ((", severity_rank!(), "), id)"),
        "DROP INDEX findings_by_check",
        "CREATE INDEX findings_by_check ON findings (check_id, id)",
        "DROP INDEX findings_by_resource",
        "CREATE INDEX findings_by_resource ON findings (resource_arn, id)",
    ],
    // 6: what `vigil history` finds a resource by besides its ARN: its id, its own name and its Name tag.
    &[
        "ALTER TABLE resources ADD COLUMN name TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE resources ADD COLUMN name_tag TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX resources_by_resource_id ON resources (resource_id)",
        "CREATE INDEX resources_by_name ON resources (name)",
        "CREATE INDEX resources_by_name_tag ON resources (name_tag)",
    ],
    // 7: the agent fleet: agents (credential hashes only; one per instance), enrolment attempts and tokens, agent events once per (agent, sequence), host policy versions.
    &[
        "CREATE TABLE agents (
            id TEXT PRIMARY KEY,
            instance_id TEXT,
            account_id TEXT,
            region TEXT,
            hostname TEXT NOT NULL,
            agent_version TEXT NOT NULL,
            enrolled_at TEXT NOT NULL,
            enrolled_unix BIGINT NOT NULL,
            enrolled_by TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            next_secret_hash TEXT,
            rotate_requested BIGINT NOT NULL,
            revoked_at TEXT,
            revoked_reason TEXT,
            last_seen_at TEXT,
            last_seen_unix BIGINT,
            status TEXT NOT NULL,
            status_since TEXT NOT NULL,
            policy_etag TEXT,
            last_seq BIGINT NOT NULL,
            health TEXT NOT NULL,
            queue TEXT NOT NULL)",
        "CREATE UNIQUE INDEX agents_by_instance ON agents (instance_id)",
        "CREATE TABLE enrolments (
            id BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            instance_id TEXT,
            account_id TEXT,
            region TEXT,
            hostname TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            agent_id TEXT)",
        "CREATE TABLE enrolment_tokens (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            expires_unix BIGINT NOT NULL,
            scope TEXT NOT NULL,
            uses_left BIGINT,
            used BIGINT NOT NULL,
            revoked_at TEXT,
            description TEXT NOT NULL)",
        "CREATE TABLE agent_events (
            agent_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            event_id TEXT NOT NULL,
            module TEXT NOT NULL,
            kind TEXT NOT NULL,
            event_time TEXT NOT NULL,
            received_at TEXT NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (agent_id, seq))",
        "CREATE INDEX agent_events_by_module ON agent_events (agent_id, module, seq)",
        "CREATE TABLE host_policies (
            version TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            first_used_at TEXT NOT NULL)",
    ],
    // 8: fixes applied to the account (vigil fix, its undo, watch automation), with plan, calls, outcome and inverse.
    &[
        "CREATE TABLE fixes (
            id {id},
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            check_id TEXT NOT NULL,
            resource_arn TEXT NOT NULL,
            target_arn TEXT NOT NULL,
            kind TEXT NOT NULL,
            caller_arn TEXT NOT NULL,
            operator TEXT NOT NULL,
            origin TEXT NOT NULL,
            status TEXT NOT NULL,
            message TEXT NOT NULL,
            undo_of BIGINT,
            undone_by BIGINT,
            plan TEXT NOT NULL,
            calls TEXT NOT NULL,
            before_state TEXT,
            after_state TEXT,
            inverse TEXT NOT NULL)",
        "CREATE INDEX fixes_by_resource ON fixes (resource_arn, id)",
        "CREATE INDEX fixes_by_target ON fixes (target_arn, id)",
        "CREATE INDEX fixes_by_origin ON fixes (origin, started_at)",
    ],
    // 9: activity alerts page by (event time, id), newest event first, whatever order they were recorded in.
    &["CREATE INDEX alerts_by_event_time_and_id ON alerts (event_time, id)"],
    // 10: console users with roles, browser sessions (hashed ids, CSRF tokens), API keys (hashed), the audit log and failed logins.
    &[
        "CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT,
            disabled BIGINT NOT NULL,
            created_at TEXT NOT NULL)",
        "CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY,
            user_name TEXT,
            csrf TEXT NOT NULL,
            created_unix BIGINT NOT NULL,
            expires_unix BIGINT NOT NULL,
            address TEXT NOT NULL)",
        "CREATE INDEX sessions_by_expiry ON sessions (expires_unix)",
        "CREATE TABLE api_keys (
            name TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            revoked_at TEXT)",
        "CREATE TABLE audit (
            id {id},
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL,
            address TEXT NOT NULL,
            outcome TEXT NOT NULL)",
        "CREATE TABLE login_failures (
            subject TEXT NOT NULL,
            at_unix BIGINT NOT NULL)",
        "CREATE INDEX login_failures_by_subject ON login_failures (subject, at_unix)",
    ],
    // 11: OSV advisories loaded by `vigil osv load` for the agents, each under the ecosystems (OSV names without release) it affects.
    &[
        "CREATE TABLE osv_advisories (
            id TEXT PRIMARY KEY,
            modified TEXT NOT NULL,
            record TEXT NOT NULL,
            source TEXT NOT NULL,
            loaded_at TEXT NOT NULL)",
        "CREATE TABLE osv_ecosystems (
            ecosystem TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (ecosystem, id))",
    ],
    // 12: OpenID Connect logins: how each user logs in (`password` or `oidc`) and, for `oidc`, the
    // provider's subject it is bound to; the sign-ins under way (state's hash, nonce, PKCE verifier,
    // the address that started it).
    &[
        "ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'password'",
        "ALTER TABLE users ADD COLUMN subject TEXT",
        "CREATE TABLE oidc_logins (
            state_hash TEXT PRIMARY KEY,
            nonce TEXT NOT NULL,
            verifier TEXT NOT NULL,
            address TEXT NOT NULL,
            expires_unix BIGINT NOT NULL)",
        "CREATE INDEX oidc_logins_by_address ON oidc_logins (address, expires_unix)",
    ],
    // 13: organization scans as units of work (`work.rs`): runs with their settings, units
    // (an account's global part or one region's part to collect, an account to assess) with their
    // state, lease, attempts and collected fragment; a scan recorded for a run's account names
    // it, once (`scans.work_unit`, unique).
    &[
        "CREATE TABLE work_runs (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            settings TEXT NOT NULL)",
        "CREATE TABLE work_units (
            run_id TEXT NOT NULL REFERENCES work_runs (id),
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            kind TEXT NOT NULL,
            shard BIGINT,
            state TEXT NOT NULL,
            worker TEXT,
            lease_expires_at BIGINT,
            attempts BIGINT NOT NULL,
            fragment {blob},
            error TEXT,
            scan_id BIGINT,
            PRIMARY KEY (run_id, account_id, region, kind))",
        "CREATE INDEX work_units_by_state ON work_units (run_id, state, kind)",
        "ALTER TABLE scans ADD COLUMN work_unit TEXT",
        "CREATE UNIQUE INDEX scans_by_work_unit ON scans (work_unit)",
    ],
    // 14: commands people give agents in the console (an IPS unblock): pending until the agent
    // acknowledges them (delivered), completed by the event the agent reports with their id.
    &[
        "CREATE TABLE agent_commands (
            id TEXT PRIMARY KEY,
            agent_id TEXT NOT NULL,
            module TEXT NOT NULL,
            kind TEXT NOT NULL,
            arguments TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            delivered_at TEXT,
            completed_at TEXT,
            outcome TEXT,
            result TEXT)",
        "CREATE INDEX agent_commands_by_agent ON agent_commands (agent_id, delivered_at)",
    ],
    // 15: the server's detections on shipped host log records: correlation hits kept between
    // batches (per agent, correlation and group; the key names the event and the hit, so an
    // event is counted once), so brute force and success after failures span batches, restarts
    // and replicas.
    &[
        "CREATE TABLE host_detection_hits (
            agent_id TEXT NOT NULL,
            hit_key TEXT NOT NULL,
            correlation_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            position BIGINT NOT NULL,
            time_ms BIGINT NOT NULL,
            value TEXT,
            PRIMARY KEY (agent_id, hit_key))",
        "CREATE INDEX host_detection_hits_by_group ON host_detection_hits (agent_id, correlation_id, group_key, time_ms)",
        "CREATE INDEX host_detection_hits_by_time ON host_detection_hits (agent_id, time_ms)",
    ],
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to [`VERSION`]; refuses a store written by a newer vigil.
pub fn migrate(db: &mut Db) -> Result<(), StoreError> {
    // Inside the write transaction (its lock serialises processes opening a new store at once,
    // such as several workers): PostgreSQL's `CREATE TABLE IF NOT EXISTS` is not safe against a
    // concurrent one.
    db.begin_write()?;
    let result = db.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)").and_then(|()| apply(db));
    match result {
        Ok(()) => db.commit(),
        Err(error) => {
            db.rollback();
            Err(error)
        }
    }
}

fn apply(db: &mut Db) -> Result<(), StoreError> {
    let current = db.int("SELECT MAX(version) FROM schema_version", &[])?.unwrap_or(0);
    if current > VERSION {
        return Err(StoreError::TooNew { found: current, supported: VERSION });
    }
    let (id, blob) = match db.dialect() {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "BLOB"),
        Dialect::Postgres => ("BIGINT PRIMARY KEY", "BYTEA"),
    };
    for (index, statements) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        for statement in *statements {
            db.batch(&statement.replace("{id}", id).replace("{blob}", blob))?;
        }
        db.exec("INSERT INTO schema_version (version) VALUES ($1)", &[Param::Int(index as i64 + 1)])?;
    }
    Ok(())
}
