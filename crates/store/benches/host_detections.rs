//! Benchmark: the server's ingest of shipped host log records with its detections (issue 16).
//!
//! `cargo bench -p vigil-store --bench host_detections -- [RECORDS] [RULES_DIR]...` (default
//! 200,000 records; `RULES_DIR`s are extra Sigma rules, e.g. the SigmaHQ Linux `builtin` and
//! `auditd` families, beside the built-in detections). Generates auth.log records (the mix of
//! `bench/host/run.sh`: 40% SSH failures from random addresses, 20% accepted logins, 20% cron
//! sessions, 20% sudo commands), ships them as `logs`/`record` events in batches of 2,000 (the
//! agent's largest batch) and times, on one thread:
//!
//! 1. the evaluation alone (`RecordEvaluator::evaluate` over each record's JSON);
//! 2. storing the batches without detections (`record_agent_events`), in SQLite;
//! 3. storing them with the detections in the same transaction
//!    (`record_agent_events_detecting`), in SQLite; and in PostgreSQL when
//!    `VIGIL_TEST_POSTGRES` names a server.
//!
//! Each line prints records per second by wall clock and per CPU second of the calling thread
//! (the store work runs on it; PostgreSQL's own process is not counted), which other jobs on a
//! shared machine do not inflate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use vigil_fleet::wire::Sequenced;
use vigil_host::logs::detect::{RecordEvaluator, alert_id};
use vigil_store::Store;

const BATCH: usize = 2_000;

/// The calling thread's time on a CPU so far, in seconds (`/proc/thread-self/schedstat`'s first
/// field, nanoseconds), so that the figures hold on a busy machine.
fn thread_cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|nanoseconds| nanoseconds.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
}

/// Records per wall second and per CPU second of the thread since (`started`, `cpu`).
fn rates(records: usize, started: Instant, cpu: f64) -> String {
    let (seconds, cpu) = (started.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu);
    format!("{:.0} records/s by wall clock ({seconds:.2} s), {:.0} records per CPU second ({cpu:.2} s)", records as f64 / seconds, records as f64 / cpu)
}

/// A small deterministic generator (no dependency for a benchmark).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn lines(count: usize) -> Vec<String> {
    let mut random = Lcg(1);
    (0..count)
        .map(|index| {
            let stamp = format!("2026-05-04T{:02}:{:02}:{:02}+00:00", 10 + index / 360_000, (index / 6_000) % 60, (index / 100) % 60);
            let address = format!("198.51.{}.{}", random.below(256), random.below(256));
            match index % 10 {
                0..4 => format!(
                    "{stamp} web1 sshd[{}]: Failed password for invalid user u{} from {address} port {} ssh2",
                    1000 + index % 500,
                    index % 97,
                    40_000 + index % 20_000
                ),
                4..6 => format!(
                    "{stamp} web1 sshd[{}]: Accepted publickey for deploy from {address} port {} ssh2: ED25519 SHA256:abc",
                    1000 + index % 500,
                    40_000 + index % 20_000
                ),
                6..8 => format!("{stamp} web1 CRON[{}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", 2000 + index % 500),
                _ => format!("{stamp} web1 sudo[{}]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update", 3000 + index % 500),
            }
        })
        .collect()
}

fn events(lines: &[String]) -> Vec<Sequenced> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let record = vigil_host::logs::parse::syslog_line(line, "/var/log/auth.log", true, 2026);
            Sequenced {
                seq: index as u64 + 1,
                event: vigil_fleet::Event {
                    id: alert_id("record", &record),
                    module: "logs".into(),
                    kind: "record".into(),
                    time: "2026-05-04T12:00:00Z".into(),
                    payload: record.to_json(),
                },
            }
        })
        .collect()
}

fn enrol(store: &mut Store) {
    store
        .enrol_agent(&vigil_store::agents::NewAgent {
            id: "agt-bench",
            instance_id: None,
            account_id: None,
            region: None,
            hostname: "web1",
            agent_version: "bench",
            enrolled_by: "token:bench",
            secret_hash: "x",
            at: "2026-05-04T09:00:00Z",
            at_unix: 1_777_885_200,
        })
        .unwrap();
}

fn ingest(label: &str, mut store: Store, events: &[Sequenced], evaluator: Option<&RecordEvaluator>) {
    enrol(&mut store);
    let (started, cpu) = (Instant::now(), thread_cpu_seconds());
    for batch in events.chunks(BATCH) {
        let outcome = store.record_agent_events_detecting("agt-bench", batch, "2026-05-04T12:00:00Z", 1_777_896_000, evaluator).unwrap();
        assert_eq!(outcome.stored, batch.len() as u64);
    }
    let throughput = rates(events.len(), started, cpu);
    let alerts = store.table_rows("alerts").unwrap();
    println!("{label}: {} records: {throughput}; {alerts} alerts stored", events.len());
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).filter(|argument| argument != "--bench").collect();
    let count: usize = arguments.first().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    let rules: Vec<PathBuf> = arguments.iter().skip(1).map(PathBuf::from).collect();
    let paths: Vec<&std::path::Path> = rules.iter().map(PathBuf::as_path).collect();
    let evaluator = RecordEvaluator::load(&paths).unwrap();
    println!(
        "rules: {} detection rules and {} correlations ({} skipped: other log sources); {count} records in batches of {BATCH}",
        evaluator.set.rules.len(),
        evaluator.set.correlations.len(),
        evaluator.skipped.len()
    );
    let events = events(&lines(count));

    let (started, cpu) = (Instant::now(), thread_cpu_seconds());
    let mut alerts = 0usize;
    for event in &events {
        alerts += evaluator.evaluate(&event.event.payload).unwrap().alerts.len();
    }
    println!("evaluation alone: {} ({alerts} alerts)", rates(count, started, cpu));

    let directory = tempfile::tempdir().unwrap();
    let open = |name: &str| Store::open(directory.path().join(name).to_str().unwrap()).unwrap();
    ingest("SQLite, storing without detections", open("plain.db"), &events, None);
    ingest("SQLite, storing with detections", open("detect.db"), &events, Some(&evaluator));
    if let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES")
        && !url.is_empty()
    {
        let name = format!("vigil_bench_{}", std::process::id());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        ingest("PostgreSQL, storing with detections", Store::open(&format!("{base}/{name}")).unwrap(), &events, Some(&evaluator));
    }
}
