//! The effect of a change, computed by running the engines on the inventory before and after
//! it: the catalog (findings resolved and introduced), the exposure engine (internet
//! exposures removed, flows from load balancers to their targets cut), the IAM engine
//! (escalation paths and external access removed) and, with CloudTrail activity, the
//! principals that would lose an action they used.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vigil_checks::{Finding, Severity, Status};
use vigil_iam::account::Account;
use vigil_iam::analysis;
use vigil_model::Inventory;
use vigil_net::Network;

/// A finding a fix resolves (or would newly fail).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingRef {
    pub check_id: String,
    pub resource: String,
    pub region: String,
    pub severity: Severity,
    pub message: String,
}

/// Something that works today and would stop working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Break {
    /// `flow` (the internet no longer reaches a target through its load balancer, or a load
    /// balancer loses its internet clients), `activity` (a principal loses an action it used
    /// in CloudTrail) or `access-key` (a deactivated key was used in CloudTrail).
    pub kind: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The packets (protocol, ports, sources) or the times the activity was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

/// Internet exposure an endpoint loses (or gains).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureChange {
    pub region: String,
    pub resource_id: String,
    pub resource_type: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// `protocol ports from sources` rows.
    pub entries: Vec<String>,
}

/// One principal's use of one action on one resource, from CloudTrail (see
/// `vigil_trail::usage`); the CLI reads the logs, this crate only compares decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The caller's ARN (`userIdentity.arn`; for an assumed role, the role's ARN).
    pub principal: String,
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// `service:Action`.
    pub action: String,
    /// The ARNs and names the events named (`resources[]` and request parameters).
    pub resources: Vec<String>,
    pub count: u64,
    pub last_seen: String,
}

/// The analyses of one inventory that a plan compares.
#[derive(Default)]
pub(crate) struct Analyses {
    /// Failing findings by (check, resource, region).
    pub failing: BTreeMap<(String, String, String), FindingRef>,
    pub exposures: Option<Vec<vigil_net::Exposure>>,
    pub iam: Option<IamView>,
}

pub(crate) struct IamView {
    pub escalations: BTreeSet<String>,
    pub external: BTreeSet<String>,
}

/// What a change does.
#[derive(Debug, Clone, Default)]
pub(crate) struct Effect {
    pub resolves: Vec<FindingRef>,
    pub introduces: Vec<FindingRef>,
    pub breaks: Vec<Break>,
    pub exposures_removed: Vec<ExposureChange>,
    pub exposures_added: Vec<ExposureChange>,
    pub escalations_removed: Vec<String>,
    pub external_access_removed: Vec<String>,
}

pub(crate) fn failing(findings: &[Finding]) -> BTreeMap<(String, String, String), FindingRef> {
    findings
        .iter()
        .filter(|finding| finding.status == Status::Fail)
        .map(|finding| {
            let reference = FindingRef {
                check_id: finding.check_id.to_string(),
                resource: finding.resource_arn.to_string(),
                region: finding.region.to_string(),
                severity: finding.severity,
                message: finding.message.to_string(),
            };
            ((reference.check_id.clone(), reference.resource.clone(), reference.region.clone()), reference)
        })
        .collect()
}

pub(crate) fn exposures(inventory: &Inventory) -> Vec<vigil_net::Exposure> {
    Network::new(inventory).exposures()
}

pub(crate) fn iam_view(inventory: &Inventory) -> IamView {
    let account = Account::from_inventory(inventory);
    let escalations = analysis::escalation(&account)
        .iter()
        .map(|path| {
            let methods: Vec<&str> = path.steps.iter().map(|step| step.method.as_str()).collect();
            format!("{} can become {} ({})", path.principal, path.admin, methods.join(", then "))
        })
        .collect();
    let external = analysis::external_access(&account)
        .iter()
        .map(|grant| format!("{} grants {} to {}", grant.resource, grant.actions.join(", "), grant.principals.join(", ")))
        .collect();
    IamView { escalations, external }
}

fn entries(exposure: &vigil_net::Exposure) -> Vec<String> {
    exposure.entries().iter().map(|entry| format!("{} {} from {}", entry.protocol, ports(&entry.ports), entry.sources.join(", "))).collect()
}

fn ports(ports: &[[u16; 2]]) -> String {
    ports.iter().map(|[from, to]| if from == to { from.to_string() } else { format!("{from}-{to}") }).collect::<Vec<_>>().join(",")
}

fn change(exposure: &vigil_net::Exposure, reach: vigil_net::access::Region) -> ExposureChange {
    let mut part = exposure.clone();
    part.reach = reach;
    ExposureChange {
        region: exposure.region.clone(),
        resource_id: exposure.resource_id.clone(),
        resource_type: exposure.resource_type.to_string(),
        address: exposure.address.clone(),
        via: exposure.via.clone(),
        entries: entries(&part),
    }
}

type ExposureKey = (String, String, Option<String>, String);

fn key(exposure: &vigil_net::Exposure) -> ExposureKey {
    (exposure.region.clone(), exposure.resource_id.clone(), exposure.via.clone(), exposure.address.clone())
}

/// Compares the analyses before and after a change.
pub(crate) fn compare(before: &Analyses, after: &Analyses) -> Effect {
    let mut effect = Effect {
        resolves: before.failing.iter().filter(|(key, _)| !after.failing.contains_key(*key)).map(|(_, finding)| finding.clone()).collect(),
        introduces: after.failing.iter().filter(|(key, _)| !before.failing.contains_key(*key)).map(|(_, finding)| finding.clone()).collect(),
        ..Effect::default()
    };
    if let (Some(old), Some(new)) = (&before.exposures, &after.exposures) {
        let new_by_key: BTreeMap<ExposureKey, &vigil_net::Exposure> = new.iter().map(|exposure| (key(exposure), exposure)).collect();
        let old_by_key: BTreeMap<ExposureKey, &vigil_net::Exposure> = old.iter().map(|exposure| (key(exposure), exposure)).collect();
        for exposure in old {
            let lost = match new_by_key.get(&key(exposure)) {
                Some(now) => exposure.reach.difference(&now.reach),
                None => exposure.reach.clone(),
            };
            if lost.is_empty() {
                continue;
            }
            let lost = change(exposure, lost);
            match &exposure.via {
                Some(balancer) => effect.breaks.push(Break {
                    kind: "flow".to_string(),
                    description: format!(
                        "load balancer {balancer} would no longer deliver internet traffic to its target {} {} ({})",
                        exposure.resource_type,
                        exposure.resource_id,
                        lost.entries.join("; ")
                    ),
                    load_balancer: Some(balancer.clone()),
                    target: Some(exposure.resource_id.clone()),
                    principal: None,
                    action: None,
                    detail: lost.entries.clone(),
                }),
                None if exposure.resource_type.ends_with("load-balancer") => effect.breaks.push(Break {
                    kind: "flow".to_string(),
                    description: format!("internet clients would lose {} {} ({})", exposure.resource_type, exposure.resource_id, lost.entries.join("; ")),
                    load_balancer: Some(exposure.resource_id.clone()),
                    target: None,
                    principal: None,
                    action: None,
                    detail: lost.entries.clone(),
                }),
                None => effect.exposures_removed.push(lost),
            }
        }
        for exposure in new {
            let gained = match old_by_key.get(&key(exposure)) {
                Some(then) => exposure.reach.difference(&then.reach),
                None => exposure.reach.clone(),
            };
            if !gained.is_empty() {
                effect.exposures_added.push(change(exposure, gained));
            }
        }
    }
    if let (Some(old), Some(new)) = (&before.iam, &after.iam) {
        effect.escalations_removed = old.escalations.difference(&new.escalations).cloned().collect();
        effect.external_access_removed = old.external.difference(&new.external).cloned().collect();
    }
    effect
}

/// Whether an activity names the resource (by ARN, name or a URL ending in its name).
fn touches(activity: &Activity, arn: &str, id: &str) -> bool {
    activity.resources.iter().any(|resource| resource == arn || resource == id || (id.len() > 3 && resource.ends_with(&format!("/{id}"))))
}

/// The activities that the change would deny: allowed by the IAM engine before, denied after.
pub(crate) fn activity_breaks(before: &Inventory, after: &Inventory, activities: &[Activity], arn: &str, id: &str) -> Vec<Break> {
    let relevant: Vec<&Activity> = activities.iter().filter(|activity| touches(activity, arn, id)).collect();
    if relevant.is_empty() {
        return Vec::new();
    }
    let (old, new) = (Account::from_inventory(before), Account::from_inventory(after));
    let mut breaks = Vec::new();
    for activity in relevant {
        let allowed_before = old.can(&activity.principal, &activity.action, arn, &[]).decision == vigil_iam::evaluate::Decision::Allowed;
        let allowed_after = new.can(&activity.principal, &activity.action, arn, &[]).decision == vigil_iam::evaluate::Decision::Allowed;
        if allowed_before && !allowed_after {
            breaks.push(Break {
                kind: "activity".to_string(),
                description: format!(
                    "{} used {} on {} ({} times in CloudTrail, last {}) and would be denied",
                    activity.principal, activity.action, arn, activity.count, activity.last_seen
                ),
                load_balancer: None,
                target: Some(arn.to_string()),
                principal: Some(activity.principal.clone()),
                action: Some(activity.action.clone()),
                detail: vec![format!("last seen {}", activity.last_seen)],
            });
        }
    }
    breaks
}

/// The activities that used an access key the change deactivates.
pub(crate) fn key_breaks(activities: &[Activity], deactivated: &[String]) -> Vec<Break> {
    let mut by_key: BTreeMap<&str, Vec<&Activity>> = BTreeMap::new();
    for activity in activities {
        if let Some(key) = activity.access_key_id.as_deref().filter(|key| deactivated.iter().any(|id| id == key)) {
            by_key.entry(key).or_default().push(activity);
        }
    }
    by_key
        .into_iter()
        .map(|(key, uses)| {
            let count: u64 = uses.iter().map(|activity| activity.count).sum();
            let last = uses.iter().map(|activity| activity.last_seen.as_str()).max().unwrap_or_default().to_string();
            let actions: BTreeSet<&str> = uses.iter().map(|activity| activity.action.as_str()).collect();
            Break {
                kind: "access-key".to_string(),
                description: format!("access key {key} was used in CloudTrail ({count} calls, last {last}) and would stop working"),
                load_balancer: None,
                target: None,
                principal: uses.first().map(|activity| activity.principal.clone()),
                action: None,
                detail: actions.into_iter().map(str::to_string).collect(),
            }
        })
        .collect()
}
