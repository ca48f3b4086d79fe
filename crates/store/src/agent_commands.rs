//! Commands people give agents in the console (`vigil_fleet::wire::AgentCommand`: an IPS
//! unblock): recorded pending, sent in each heartbeat reply until the agent acknowledges them
//! (`delivered_at`), and completed by the event the agent reports carrying the command's id
//! (`completed_at`, `outcome` `done` or `failed`, the event's payload as `result`).

use serde::Serialize;
use vigil_fleet::wire::AgentCommand;

use crate::db::{Param, Value};
use crate::{Store, StoreError};

/// The most commands one heartbeat reply carries.
pub const MAX_PER_REPLY: usize = 100;

/// One command with where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentCommandRow {
    #[serde(flatten)]
    pub command: AgentCommand,
    pub agent_id: String,
    pub delivered_at: Option<String>,
    pub completed_at: Option<String>,
    /// `done` or `failed` once completed.
    pub outcome: Option<String>,
    pub result: Option<serde_json::Value>,
}

fn text(row: &[Value], index: usize) -> String {
    row.get(index).and_then(Value::text).unwrap_or_default().to_string()
}

fn opt_text(row: &[Value], index: usize) -> Option<String> {
    row.get(index).and_then(Value::text).map(str::to_string)
}

const COLUMNS: &str = "id, module, kind, arguments, requested_by, requested_at, agent_id, delivered_at, completed_at, outcome, result";

fn command_row(row: &[Value]) -> AgentCommandRow {
    AgentCommandRow {
        command: AgentCommand {
            id: text(row, 0),
            module: text(row, 1),
            kind: text(row, 2),
            arguments: serde_json::from_str(&text(row, 3)).unwrap_or_default(),
            requested_by: text(row, 4),
            requested_at: text(row, 5),
        },
        agent_id: text(row, 6),
        delivered_at: opt_text(row, 7),
        completed_at: opt_text(row, 8),
        outcome: opt_text(row, 9),
        result: opt_text(row, 10).and_then(|text| serde_json::from_str(&text).ok()),
    }
}

/// Marks the command an agent's event answers as completed (an event with a string
/// `command_id` in its payload; `command_failed` events fail it). Runs in the batch's
/// transaction.
pub(crate) fn complete(db: &mut crate::db::Db, agent_id: &str, event: &vigil_fleet::Event, at: &str) -> Result<(), StoreError> {
    let Some(command_id) = event.payload.get("command_id").and_then(serde_json::Value::as_str) else { return Ok(()) };
    let outcome = if event.kind == "command_failed" { "failed" } else { "done" };
    db.exec(
        "UPDATE agent_commands SET completed_at = $3, outcome = $4, result = $5,
             delivered_at = CASE WHEN delivered_at IS NULL THEN $3 ELSE delivered_at END
         WHERE agent_id = $1 AND id = $2 AND completed_at IS NULL",
        &[Param::Text(agent_id), Param::Text(command_id), Param::Text(at), Param::Text(outcome), Param::Text(&event.payload.to_string())],
    )?;
    Ok(())
}

impl Store {
    /// Records a command for `agent_id` (pending until the agent acknowledges it).
    pub fn create_agent_command(&mut self, agent_id: &str, command: &AgentCommand) -> Result<(), StoreError> {
        let arguments = command.arguments.to_string();
        self.write(|db| {
            db.exec(
                "INSERT INTO agent_commands (id, agent_id, module, kind, arguments, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    Param::Text(&command.id),
                    Param::Text(agent_id),
                    Param::Text(&command.module),
                    Param::Text(&command.kind),
                    Param::Text(&arguments),
                    Param::Text(&command.requested_by),
                    Param::Text(&command.requested_at),
                ],
            )?;
            Ok(())
        })
    }

    /// The commands the agent has not acknowledged, oldest first (at most [`MAX_PER_REPLY`]).
    pub fn pending_agent_commands(&mut self, agent_id: &str) -> Result<Vec<AgentCommand>, StoreError> {
        let rows = self.db.rows(
            &format!("SELECT {COLUMNS} FROM agent_commands WHERE agent_id = $1 AND delivered_at IS NULL ORDER BY requested_at, id LIMIT $2"),
            &[Param::Text(agent_id), Param::Int(MAX_PER_REPLY as i64)],
        )?;
        Ok(rows.iter().map(|row| command_row(row).command).collect())
    }

    /// The agent holds these commands: they are not sent again. Returns how many were
    /// pending (ids of other agents, or acknowledged already, change nothing).
    pub fn acknowledge_agent_commands(&mut self, agent_id: &str, ids: &[String], at: &str) -> Result<usize, StoreError> {
        self.write(|db| {
            let mut acknowledged = 0;
            for id in ids {
                acknowledged += db.exec(
                    "UPDATE agent_commands SET delivered_at = $3 WHERE agent_id = $1 AND id = $2 AND delivered_at IS NULL",
                    &[Param::Text(agent_id), Param::Text(id), Param::Text(at)],
                )? as usize;
            }
            Ok(acknowledged)
        })
    }

    /// An agent's commands, newest first.
    pub fn agent_commands(&mut self, agent_id: &str, limit: usize) -> Result<Vec<AgentCommandRow>, StoreError> {
        let rows = self.db.rows(
            &format!("SELECT {COLUMNS} FROM agent_commands WHERE agent_id = $1 ORDER BY requested_at DESC, id DESC LIMIT $2"),
            &[Param::Text(agent_id), Param::Int(limit.clamp(1, 10_000) as i64)],
        )?;
        Ok(rows.iter().map(|row| command_row(row)).collect())
    }
}
