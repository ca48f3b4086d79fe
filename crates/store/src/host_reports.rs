//! The latest report of each host module per agent: a module that reports a whole document
//! (`vigil_host::module::Snapshot`: the package list, an assessment, the vulnerability
//! findings, the patch state) sends it as one or more parts carrying the same snapshot id;
//! the latest report is every part of the newest snapshot, put back together. The host pages
//! and the fleet Vulnerabilities page read reports through here only.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::db::Param;
use crate::{Store, StoreError};

/// How many of a module's newest events are looked at to find the newest snapshot of each
/// key (an assessment sends one snapshot per policy).
const NEWEST_EVENTS: usize = 200;

/// One module's latest report, its parts joined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleReport {
    pub agent_id: String,
    pub module: String,
    pub kind: String,
    /// The content's id (the same for every part).
    pub snapshot: String,
    /// When the agent made it (its first part).
    pub event_time: String,
    pub received_at: String,
    /// The payload's fields other than the parts' bookkeeping and `items`.
    pub head: serde_json::Value,
    /// The items of every part, in part order.
    pub items: Vec<serde_json::Value>,
    /// False when some part has not arrived (the report is shown as incomplete).
    pub complete: bool,
}

/// Where each host module's report is: (module, kind). Patch state is reported by the
/// vulnerability module, from its findings.
pub const SCA_REPORT: (&str, &str) = ("sca", "result");
pub const VULNS_REPORT: (&str, &str) = ("vulns", "findings");
pub const PATCH_REPORT: (&str, &str) = ("vulns", "patch");
pub const SECRETS_REPORT: (&str, &str) = ("secrets", "findings");
/// The host firewall the agent's `firewall` module read (`vigil_host::firewall::module`).
pub const FIREWALL_REPORT: (&str, &str) = ("firewall", "ruleset");

/// Every host module's latest report for one agent (its page and its instance's page).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostPosture {
    /// One per policy assessed.
    pub sca: Vec<ModuleReport>,
    pub vulns: Option<ModuleReport>,
    pub patch: Option<ModuleReport>,
    pub secrets: Option<ModuleReport>,
}

impl Store {
    /// The latest report of every host module of one agent.
    pub fn host_posture(&mut self, agent_id: &str) -> Result<HostPosture, StoreError> {
        let latest = |store: &mut Store, (module, kind): (&str, &str)| -> Result<Option<ModuleReport>, StoreError> {
            Ok(store.latest_reports(agent_id, module, kind, None)?.into_iter().next())
        };
        Ok(HostPosture {
            sca: self.latest_reports(agent_id, SCA_REPORT.0, SCA_REPORT.1, Some("policy"))?,
            vulns: latest(self, VULNS_REPORT)?,
            patch: latest(self, PATCH_REPORT)?,
            secrets: latest(self, SECRETS_REPORT)?,
        })
    }

    /// Every agent that is not retired, with its latest vulnerability report (none when its
    /// module never reported): the fleet Vulnerabilities page.
    pub fn fleet_vulnerabilities(&mut self) -> Result<Vec<(crate::agents::AgentRow, Option<ModuleReport>)>, StoreError> {
        let mut hosts = Vec::new();
        for agent in self.agents()? {
            if agent.status == vigil_fleet::lifecycle::Status::Retired {
                continue;
            }
            let report = self.latest_reports(&agent.agent_id, VULNS_REPORT.0, VULNS_REPORT.1, None)?.into_iter().next();
            hosts.push((agent, report));
        }
        Ok(hosts)
    }

    /// What agents report that exposure and attack paths weigh, by instance id: the critical
    /// and high vulnerabilities of each instance (its agents' latest vulnerability reports; the
    /// most any one agent of the instance reports) and its host firewall (the latest `firewall`
    /// report; with several agents on one instance, the newest report). Agents without an
    /// instance and retired agents add nothing. A ruleset that cannot be used (malformed, or
    /// parts missing) is left out and named in `problems`, never read as "accept all".
    pub fn host_facts(&mut self) -> Result<vigil_paths::HostFacts, StoreError> {
        let mut facts = vigil_paths::HostFacts::default();
        let mut newest_firewall: BTreeMap<String, String> = BTreeMap::new();
        for (agent, report) in self.fleet_vulnerabilities()? {
            let Some(instance_id) = agent.instance_id else { continue };
            if let Some(firewall) = self.latest_reports(&agent.agent_id, FIREWALL_REPORT.0, FIREWALL_REPORT.1, None)?.into_iter().next() {
                let ruleset = if firewall.complete {
                    vigil_net::HostRuleset::from_report(&firewall.head, &firewall.items)
                } else {
                    Err("some of its parts have not arrived".to_string())
                };
                match ruleset {
                    Ok(ruleset) => {
                        if newest_firewall.get(&instance_id).is_none_or(|time| *time < firewall.event_time) {
                            newest_firewall.insert(instance_id.clone(), firewall.event_time.clone());
                            facts.firewalls.insert(instance_id.clone(), ruleset);
                        }
                    }
                    Err(reason) => facts.problems.push(format!(
                        "the host firewall agent `{}` reported for `{instance_id}` (snapshot `{}`) is left out: {reason}",
                        agent.agent_id, firewall.snapshot
                    )),
                }
            }
            let Some(report) = report else { continue };
            let mut counts = vigil_paths::HostVulnerabilities::default();
            for item in &report.items {
                match item.get("severity").and_then(serde_json::Value::as_str) {
                    Some("critical") => counts.critical += 1,
                    Some("high") => counts.high += 1,
                    _ => {}
                }
            }
            let entry = facts.vulnerabilities.entry(instance_id).or_default();
            entry.critical = entry.critical.max(counts.critical);
            entry.high = entry.high.max(counts.high);
        }
        Ok(facts)
    }

    /// The newest snapshot of an agent's `module`/`kind` reports, one per value of the payload
    /// field `key` (`policy` for assessments; `None`: one report), newest first.
    pub fn latest_reports(&mut self, agent_id: &str, module: &str, kind: &str, key: Option<&str>) -> Result<Vec<ModuleReport>, StoreError> {
        let newest = self.agent_events_of_kind(agent_id, module, kind, NEWEST_EVENTS)?;
        let mut chosen: BTreeMap<String, String> = BTreeMap::new();
        let mut order = Vec::new();
        for event in &newest {
            let Some(snapshot) = event.payload.get("snapshot").and_then(serde_json::Value::as_str) else { continue };
            let key_value = key.and_then(|key| event.payload.get(key)).map(|value| value.to_string()).unwrap_or_default();
            if !chosen.contains_key(&key_value) {
                chosen.insert(key_value.clone(), snapshot.to_string());
                order.push(key_value);
            }
        }
        let mut reports = Vec::new();
        for key_value in order {
            let Some(snapshot) = chosen.get(&key_value) else { continue };
            if let Some(report) = self.snapshot_report(agent_id, module, kind, snapshot)? {
                reports.push(report);
            }
        }
        Ok(reports)
    }

    /// Every part of one snapshot, joined (a part sent twice, after an agent restarted, once).
    fn snapshot_report(&mut self, agent_id: &str, module: &str, kind: &str, snapshot: &str) -> Result<Option<ModuleReport>, StoreError> {
        let pattern = format!("{snapshot}:%");
        let rows = self.db.rows(
            "SELECT agent_id, seq, event_id, module, kind, event_time, received_at, payload FROM agent_events
             WHERE agent_id = $1 AND module = $2 AND kind = $3 AND event_id LIKE $4 ORDER BY seq",
            &[Param::Text(agent_id), Param::Text(module), Param::Text(kind), Param::Text(&pattern)],
        )?;
        let events: Vec<crate::agents::AgentEventRow> = rows.iter().map(|row| crate::agents::event_row(row)).collect();
        let Some(first) = events.first() else { return Ok(None) };
        let parts_expected = first.payload.get("parts").and_then(serde_json::Value::as_u64).unwrap_or(1);
        let mut parts: BTreeMap<u64, &crate::agents::AgentEventRow> = BTreeMap::new();
        for event in &events {
            let part = event.payload.get("part").and_then(serde_json::Value::as_u64).unwrap_or(1);
            parts.insert(part, event);
        }
        let mut head = first.payload.clone();
        if let Some(object) = head.as_object_mut() {
            for field in ["snapshot", "part", "parts", "items"] {
                object.remove(field);
            }
        }
        let items = parts.values().flat_map(|event| event.payload.get("items").and_then(serde_json::Value::as_array).cloned().unwrap_or_default()).collect();
        Ok(Some(ModuleReport {
            agent_id: agent_id.to_string(),
            module: module.to_string(),
            kind: kind.to_string(),
            snapshot: snapshot.to_string(),
            event_time: first.event_time.clone(),
            received_at: first.received_at.clone(),
            head,
            items,
            complete: (1..=parts_expected).all(|part| parts.contains_key(&part)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vigil_fleet::wire::Sequenced;

    use crate::Store;
    use crate::agents::NewAgent;

    fn event(seq: u64, kind: &str, id: &str, payload: serde_json::Value) -> Sequenced {
        Sequenced {
            seq,
            event: vigil_fleet::Event { module: "sca".into(), kind: kind.into(), id: id.into(), time: format!("2026-01-01T00:00:{seq:02}Z"), payload },
        }
    }

    fn store_with_agent() -> (tempfile::TempDir, Store) {
        let directory = tempfile::tempdir().unwrap();
        let mut store = Store::open(directory.path().join("vigil.db").to_str().unwrap()).unwrap();
        store
            .enrol_agent(&NewAgent {
                id: "agt-1",
                instance_id: None,
                account_id: None,
                region: None,
                hostname: "h",
                agent_version: "1",
                enrolled_by: "token:t",
                secret_hash: "x",
                at: "2026-01-01T00:00:00Z",
                at_unix: 0,
            })
            .unwrap();
        (directory, store)
    }

    #[test]
    fn the_latest_report_joins_the_newest_snapshots_parts_per_key() {
        let (_directory, mut store) = store_with_agent();
        let events = [
            event(1, "result", "old:1", json!({"snapshot": "old", "part": 1, "parts": 1, "policy": "a", "items": [{"id": 0}]})),
            event(2, "result", "new:1", json!({"snapshot": "new", "part": 1, "parts": 2, "policy": "a", "items": [{"id": 1}]})),
            event(3, "result", "new:2", json!({"snapshot": "new", "part": 2, "parts": 2, "policy": "a", "items": [{"id": 2}]})),
            event(4, "result", "other:1", json!({"snapshot": "other", "part": 1, "parts": 3, "policy": "b", "items": [{"id": 9}]})),
            event(5, "result", "new:2", json!({"snapshot": "new", "part": 2, "parts": 2, "policy": "a", "items": [{"id": 2}]})),
        ];
        store.record_agent_events("agt-1", &events, "2026-01-01T00:01:00Z", 60).unwrap();
        let reports = store.latest_reports("agt-1", "sca", "result", Some("policy")).unwrap();
        let summary: Vec<(&str, bool, Vec<i64>)> = reports
            .iter()
            .map(|report| (report.snapshot.as_str(), report.complete, report.items.iter().map(|item| item["id"].as_i64().unwrap()).collect()))
            .collect();
        assert_eq!(summary, vec![("new", true, vec![1, 2]), ("other", false, vec![9])], "a part resent is counted once; a missing part is incomplete");
        assert_eq!(reports[0].head, json!({"policy": "a"}));
        assert!(store.latest_reports("agt-1", "vulns", "findings", None).unwrap().is_empty(), "never reported: no report");
    }
}
