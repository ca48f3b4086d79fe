//! The on-disk queue: every event is written here before anything is sent, in SQLite (WAL,
//! `synchronous=FULL`: a committed batch is fsync'd, so it survives `kill -9` and power loss).
//! Each event gets the next sequence number (1, 2, ...; never reused, kept in `meta`); the
//! sender reads the oldest unacknowledged ones and deletes them once the server acknowledged
//! their commit. The queue is bounded (`max_bytes` of payload): events that do not fit are
//! counted, not written, and one `agent`/`dropped` event saying how many is queued as soon as
//! there is room again. Another process (`vigil-agent emit`) may append at the same time:
//! writers take SQLite's write lock.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use vigil_fleet::wire::{Event, QueueState, Sequenced};

/// The queue file under the state directory.
pub const FILE: &str = "queue.db";

pub struct Queue {
    connection: Connection,
    max_bytes: u64,
}

/// What an append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    /// Sequence numbers given, first and last (`None` when nothing was written).
    pub first: Option<u64>,
    pub last: Option<u64>,
    pub dropped: u64,
}

fn meta(connection: &Connection, key: &str) -> rusqlite::Result<u64> {
    connection.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get::<_, i64>(0)).optional().map(|value| value.unwrap_or(0) as u64)
}

fn set_meta(connection: &Connection, key: &str, value: u64) -> rusqlite::Result<()> {
    connection.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value as i64])?;
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Queue {
    /// Opens (creating) the queue in `directory`.
    pub fn open(directory: &Path, max_bytes: u64) -> rusqlite::Result<Queue> {
        let connection = Connection::open(directory.join(FILE))?;
        connection.busy_timeout(std::time::Duration::from_secs(30))?;
        // A small page cache keeps the agent's memory low; the queue is read sequentially.
        connection.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -256;
             CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY, id TEXT NOT NULL, module TEXT NOT NULL, kind TEXT NOT NULL,
                time TEXT NOT NULL, payload TEXT NOT NULL, bytes INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )?;
        Ok(Queue { connection, max_bytes })
    }

    /// Appends events in one transaction (one fsync). Returns the sequence numbers given and
    /// how many did not fit.
    pub fn append(&mut self, events: &[Event]) -> rusqlite::Result<Appended> {
        let max_bytes = self.max_bytes;
        let transaction = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut appended = Appended::default();
        let mut next = meta(&transaction, "next_seq")?.max(1);
        let mut pending = meta(&transaction, "pending_bytes")?;
        let mut unreported = meta(&transaction, "dropped_unreported")?;
        // The dropped record itself is small and always fits, so the count is never lost.
        let insert = |event: &Event, next: &mut u64, pending: &mut u64, always: bool| -> rusqlite::Result<bool> {
            let payload = event.payload.to_string();
            let bytes = (payload.len() + event.id.len() + event.module.len() + event.kind.len()) as u64;
            if !always && *pending + bytes > max_bytes {
                return Ok(false);
            }
            transaction.execute(
                "INSERT INTO events (seq, id, module, kind, time, payload, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![*next as i64, event.id, event.module, event.kind, event.time, payload, bytes as i64],
            )?;
            *next += 1;
            *pending += bytes;
            Ok(true)
        };
        if unreported > 0 && pending < max_bytes && insert(&dropped_event(unreported, next), &mut next, &mut pending, true)? {
            unreported = 0;
        }
        for event in events {
            let seq = next;
            if unreported == 0 && insert(event, &mut next, &mut pending, false)? {
                appended.first.get_or_insert(seq);
                appended.last = Some(seq);
            } else {
                // Once one event is dropped, later ones of the batch are too, so the dropped
                // record stands where the gap is.
                unreported += 1;
                appended.dropped += 1;
            }
        }
        set_meta(&transaction, "next_seq", next)?;
        set_meta(&transaction, "pending_bytes", pending)?;
        set_meta(&transaction, "dropped_unreported", unreported)?;
        let total = meta(&transaction, "dropped_total")?;
        set_meta(&transaction, "dropped_total", total + appended.dropped)?;
        transaction.commit()?;
        Ok(appended)
    }

    /// The oldest events not yet acknowledged, at most `max_events` and about `max_bytes`
    /// (always at least one).
    pub fn peek(&mut self, max_events: usize, max_bytes: usize) -> rusqlite::Result<Vec<Sequenced>> {
        let mut statement = self.connection.prepare_cached("SELECT seq, id, module, kind, time, payload, bytes FROM events ORDER BY seq LIMIT ?1")?;
        let mut rows = statement.query([max_events as i64])?;
        let mut events = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = rows.next()? {
            let size = row.get::<_, i64>(6)? as usize;
            if !events.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            let payload: String = row.get(5)?;
            events.push(Sequenced {
                seq: row.get::<_, i64>(0)? as u64,
                event: Event {
                    id: row.get(1)?,
                    module: row.get(2)?,
                    kind: row.get(3)?,
                    time: row.get(4)?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
                },
            });
        }
        Ok(events)
    }

    /// Forgets every event up to `through` (the server committed them); queues the dropped
    /// record when room was made.
    pub fn ack(&mut self, through: u64) -> rusqlite::Result<()> {
        let transaction = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        transaction.execute("DELETE FROM events WHERE seq <= ?1", [through as i64])?;
        let pending: i64 = transaction.query_row("SELECT COALESCE(SUM(bytes), 0) FROM events", [], |row| row.get(0))?;
        set_meta(&transaction, "pending_bytes", pending as u64)?;
        let acked = meta(&transaction, "acked")?;
        set_meta(&transaction, "acked", acked.max(through))?;
        transaction.commit()?;
        if meta(&self.connection, "dropped_unreported")? > 0 {
            self.append(&[])?;
        }
        Ok(())
    }

    pub fn state(&self) -> rusqlite::Result<QueueState> {
        let pending: i64 = self.connection.query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))?;
        Ok(QueueState { pending: pending as u64, pending_bytes: meta(&self.connection, "pending_bytes")?, dropped: meta(&self.connection, "dropped_total")? })
    }
}

fn dropped_event(count: u64, seq: u64) -> Event {
    Event {
        id: format!("dropped-{seq}"),
        module: "agent".into(),
        kind: "dropped".into(),
        time: now(),
        payload: serde_json::json!({ "dropped": count, "reason": "the agent's on-disk queue was full (the server was unreachable or slower than the host's events)" }),
    }
}

/// An event from the agent itself or a module, stamped now.
pub fn event(module: &str, kind: &str, id: String, payload: serde_json::Value) -> Event {
    Event { id, module: module.to_string(), kind: kind.to_string(), time: now(), payload }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(range: std::ops::Range<u32>) -> Vec<Event> {
        range.map(|index| event("test", "tick", format!("e{index}"), serde_json::json!({ "n": index }))).collect()
    }

    fn ids(events: &[Sequenced]) -> Vec<String> {
        events.iter().map(|event| event.event.id.clone()).collect()
    }

    #[test]
    fn events_keep_their_order_and_numbers_across_reopening_and_acks() {
        let directory = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(directory.path(), 1 << 20).unwrap();
        assert_eq!(queue.append(&events(0..3)).unwrap(), Appended { first: Some(1), last: Some(3), dropped: 0 });
        drop(queue);
        let mut queue = Queue::open(directory.path(), 1 << 20).unwrap();
        let batch = queue.peek(2, 1 << 20).unwrap();
        assert_eq!(batch.iter().map(|event| event.seq).collect::<Vec<_>>(), [1, 2]);
        queue.ack(2).unwrap();
        assert_eq!(ids(&queue.peek(10, 1 << 20).unwrap()), ["e2"]);
        queue.ack(3).unwrap();
        assert_eq!(queue.append(&events(3..4)).unwrap().first, Some(4), "numbers are never reused, even with the queue empty");
        assert_eq!(queue.state().unwrap().pending, 1);
    }

    #[test]
    fn a_full_queue_counts_what_it_drops_and_says_so_when_room_returns() {
        let directory = tempfile::tempdir().unwrap();
        // Each test event takes 17 bytes: room for three.
        let mut queue = Queue::open(directory.path(), 60).unwrap();
        let appended = queue.append(&events(0..5)).unwrap();
        assert_eq!((appended.last, appended.dropped), (Some(3), 2));
        assert_eq!(queue.state().unwrap().dropped, 2);
        queue.ack(3).unwrap();
        let queued = queue.peek(10, 1 << 20).unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!((queued[0].seq, queued[0].event.kind.as_str()), (4, "dropped"));
        assert_eq!(queued[0].event.payload["dropped"], 2);
        // The record takes the little room left: the next event is counted too, then reported.
        assert_eq!(queue.append(&events(5..6)).unwrap().dropped, 1);
        queue.ack(4).unwrap();
        let queued = queue.peek(10, 1 << 20).unwrap();
        assert_eq!(ids(&queued), ["dropped-5"]);
        assert_eq!(queued[0].event.payload["dropped"], 1);
        assert_eq!(queue.state().unwrap().dropped, 3);
    }

    #[test]
    fn peek_stops_at_the_byte_limit_but_returns_at_least_one() {
        let directory = tempfile::tempdir().unwrap();
        let mut queue = Queue::open(directory.path(), 1 << 20).unwrap();
        queue.append(&events(0..10)).unwrap();
        assert_eq!(queue.peek(100, 1).unwrap().len(), 1);
        assert_eq!(queue.peek(100, 35).unwrap().len(), 2);
    }
}
