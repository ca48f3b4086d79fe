//! The server's detections on the host log records agents ship (`logs`/`record` events, the
//! policy's `logs.detect: server|both`), inside the transaction that stores the batch: each
//! record newly stored is evaluated with `vigil_host::logs::detect::RecordEvaluator` (the
//! agent's rules and record mapping), its alerts become `logs`/`alert` events turned into
//! Activity alerts exactly as an agent's are (same event ids, so evaluating a record on the agent
//! and on the server keeps one alert), and its correlation hits are kept in
//! `host_detection_hits` so brute force and success after failures span batches. Correlations
//! are recomputed from the kept hits of each group a batch touched; a correlation alert's id
//! names its group and first event, so recomputing it adds nothing. State lives only in the
//! store: a restarted server or a second replica sees the same hits.

use std::collections::BTreeMap;

use vigil_fleet::Event;
use vigil_host::logs::detect::{CORRELATION_MEMORY_MS, KeptHit, RecordEvaluator};

use crate::StoreError;
use crate::db::{Db, Param, Value};

/// What the records of one batch added to correlations: each touched (correlation, group)
/// with the newest hit time seen in it.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    groups: BTreeMap<(String, String), i64>,
}

/// Evaluates one newly stored `record` event of `agent_id`: stores its alerts (through
/// `alert_of`, the agents' one rule from event to Activity alert) and its correlation hits.
/// Returns false when the payload is not a record (stored, not evaluated).
pub(crate) fn evaluate_record(
    db: &mut Db,
    evaluator: &RecordEvaluator,
    agent_id: &str,
    seq: u64,
    event: &Event,
    touched: &mut Touched,
    alert_of: &mut dyn FnMut(&mut Db, &Event) -> Result<(), StoreError>,
) -> Result<bool, StoreError> {
    let Ok(evaluation) = evaluator.evaluate(&event.payload) else { return Ok(false) };
    for (id, payload) in evaluation.alerts {
        alert_of(db, &Event { id, module: "logs".into(), kind: "alert".into(), time: event.time.clone(), payload })?;
    }
    for hit in evaluation.hits {
        let group_key = serde_json::to_string(&hit.group).unwrap_or_default();
        let hit_key = format!("{seq}:{}:{}", hit.correlation_id, hit.position);
        db.exec(
            "INSERT INTO host_detection_hits (agent_id, hit_key, correlation_id, group_key, position, time_ms, value) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (agent_id, hit_key) DO NOTHING",
            &[
                Param::Text(agent_id),
                Param::Text(&hit_key),
                Param::Text(&hit.correlation_id),
                Param::Text(&group_key),
                Param::Int(hit.position as i64),
                Param::Int(hit.time_ms),
                Param::OptText(hit.value.as_deref()),
            ],
        )?;
        let newest = touched.groups.entry((hit.correlation_id, group_key)).or_insert(hit.time_ms);
        *newest = (*newest).max(hit.time_ms);
    }
    Ok(true)
}

/// Runs the correlations of every group the batch touched over the hits kept for the last
/// [`CORRELATION_MEMORY_MS`] before its newest hit, stores their alerts (as events, through
/// `alert_of`), and forgets hits too old to matter.
pub(crate) fn correlate(
    db: &mut Db,
    evaluator: &RecordEvaluator,
    agent_id: &str,
    time: &str,
    touched: Touched,
    alert_of: &mut dyn FnMut(&mut Db, &Event) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut newest_of_all = None;
    for ((correlation_id, group_key), newest) in touched.groups {
        newest_of_all = Some(newest_of_all.unwrap_or(newest).max(newest));
        let group: Vec<String> = serde_json::from_str(&group_key).unwrap_or_default();
        let rows = db.rows(
            "SELECT position, time_ms, value FROM host_detection_hits
             WHERE agent_id = $1 AND correlation_id = $2 AND group_key = $3 AND time_ms >= $4 ORDER BY time_ms, position, hit_key",
            &[Param::Text(agent_id), Param::Text(&correlation_id), Param::Text(&group_key), Param::Int(newest - CORRELATION_MEMORY_MS)],
        )?;
        let hits: Vec<KeptHit> = rows
            .iter()
            .map(|row| KeptHit {
                correlation_id: correlation_id.clone(),
                group: group.clone(),
                position: row.first().and_then(Value::int).unwrap_or_default().max(0) as usize,
                time_ms: row.get(1).and_then(Value::int).unwrap_or_default(),
                value: row.get(2).and_then(Value::text).map(str::to_string),
            })
            .collect();
        for (id, payload) in evaluator.correlate(&correlation_id, &hits) {
            alert_of(db, &Event { id, module: "logs".into(), kind: "alert".into(), time: time.to_string(), payload })?;
        }
    }
    // Hits older than two memories before the newest are of no window any more (one memory
    // of slack for records that arrive late, such as the journal's behind a file's).
    if let Some(newest) = newest_of_all {
        db.exec(
            "DELETE FROM host_detection_hits WHERE agent_id = $1 AND time_ms < $2",
            &[Param::Text(agent_id), Param::Int(newest - 2 * CORRELATION_MEMORY_MS)],
        )?;
    }
    Ok(())
}
