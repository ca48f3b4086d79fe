//! The exposure and IAM analyses recorded with each stored scan, so the console can show
//! internet exposure, admin-equivalent principals, escalation paths, access from outside the
//! account and who can reach a resource without the inventory. The results are the types of
//! `vigil_model::analysis`, which the store writes and the console reads.

use std::collections::HashMap;

use vigil_iam::account::Account;
use vigil_iam::analysis as iam;
use vigil_model::Inventory;
use vigil_model::analysis::{
    Access, AccessGrant, AccessSkipped, Admin, Analysis, AnalysisResult, EscalationPath, Exposure, ExternalAccess, Hop, Permission, Step,
};

/// Who-can-access is answered for at most this many (principal, resource) decisions per
/// account (about a second of engine time); beyond it the console says it was not computed.
const ACCESS_DECISIONS: usize = 500_000;

/// Attack paths stored per account, the highest scored first (`vigil paths` prints them all).
pub const STORED_ATTACK_PATHS: usize = 2_000;

/// Every internet-exposed (endpoint, protocol, ports, sources) with its path, as
/// `vigil reach --format json` prints it.
pub fn exposure_rows(network: &vigil_net::Network, exposures: &[vigil_net::Exposure]) -> Vec<Exposure> {
    let mut rows = Vec::new();
    for exposure in exposures {
        for entry in exposure.entries() {
            let path = network
                .path(exposure, &entry)
                .into_iter()
                .map(|hop| Hop { kind: hop.kind.to_string(), id: hop.id, detail: hop.detail, allowed: hop.allowed })
                .collect();
            rows.push(Exposure {
                region: exposure.region.clone(),
                resource_id: exposure.resource_id.clone(),
                resource_type: exposure.resource_type.to_string(),
                interface_id: exposure.interface_id.clone(),
                address: exposure.address.clone(),
                protocol: entry.protocol.to_string(),
                ports: entry.ports,
                sources: entry.sources,
                via: exposure.via.clone().unwrap_or_else(|| "direct".to_string()),
                path,
            });
        }
    }
    rows
}

fn step(step: &iam::Step) -> Step {
    Step {
        from: step.from.clone(),
        to: step.to.clone(),
        method: step.method.clone(),
        resource: step.resource.clone(),
        technique: step.technique.clone(),
        category: step.category.to_string(),
        permissions: step
            .permissions
            .iter()
            .map(|permission| Permission { action: permission.action.clone(), resource: permission.resource.clone() })
            .collect(),
    }
}

fn admin(admin: &iam::Admin) -> Admin {
    Admin {
        principal: admin.principal.clone(),
        kind: serde_name(&admin.kind),
        reason: admin.reason.to_string(),
        step: admin.step.as_ref().map(step),
        steps: admin.steps.iter().map(step).collect(),
        account: admin.account.clone(),
    }
}

fn escalation_path(path: &iam::EscalationPath) -> EscalationPath {
    EscalationPath {
        principal: path.principal.clone(),
        kind: serde_name(&path.kind),
        admin: path.admin.clone(),
        steps: path.steps.iter().map(step).collect(),
        target: path.target.clone(),
        account: path.account.clone(),
    }
}

/// An engine enum's name as its serde form gives it (`user`, `cross-account`, `Permissions
/// management`): the engines' names stay the one definition.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
}

/// Every analysis of several accounts' inventories: admins and escalation paths over the whole
/// set (paths may cross accounts; each row belongs to its principal's account), the rest per
/// account.
pub fn analyse_all(inventories: &[Inventory], hosts: &vigil_paths::HostFacts) -> Vec<Analysis> {
    if inventories.len() < 2 {
        return inventories.iter().flat_map(|inventory| analyse_one(inventory, hosts, true)).collect();
    }
    let mut rows: Vec<Analysis> = inventories.iter().flat_map(|inventory| analyse_one(inventory, hosts, false)).collect();
    let account = Account::from_inventories(&inventories.iter().collect::<Vec<_>>());
    for found in iam::admins(&account) {
        rows.push(Analysis { account_id: found.account.clone(), subject: found.principal.clone(), result: AnalysisResult::Admin(admin(&found)) });
    }
    for path in iam::escalation(&account) {
        rows.push(Analysis { account_id: path.account.clone(), subject: path.principal.clone(), result: AnalysisResult::Escalation(escalation_path(&path)) });
    }
    rows
}

/// Every analysis of one account's inventory, with what agents report about its hosts.
pub fn analyse(inventory: &Inventory, hosts: &vigil_paths::HostFacts) -> Vec<Analysis> {
    analyse_one(inventory, hosts, true)
}

/// One account's analyses; `with_paths` adds its admins and escalation paths (left out when
/// they are computed over several accounts together).
fn analyse_one(inventory: &Inventory, hosts: &vigil_paths::HostFacts, with_paths: bool) -> Vec<Analysis> {
    let account_id = inventory.account_id().to_string();
    let row = |subject: &str, result: AnalysisResult| Analysis { account_id: account_id.clone(), subject: subject.to_string(), result };
    let resources = inventory.resources();
    let arn_of: HashMap<&str, &str> =
        resources.iter().flat_map(|resource| [(resource.id, resource.arn.as_str()), (resource.arn.as_str(), resource.arn.as_str())]).collect();
    let mut rows = Vec::new();

    // With the host firewalls agents report: a port the host drops is not exposed.
    let network = hosts.network(inventory);
    for exposure in exposure_rows(&network, &network.exposures()) {
        let subject = arn_of.get(exposure.resource_id.as_str()).copied().unwrap_or(&exposure.resource_id).to_string();
        rows.push(row(&subject, AnalysisResult::Exposure(exposure)));
    }

    let account = Account::from_inventory(inventory);
    // Attack paths with the default sensitive tags (docs/paths.md); each stored under its target.
    let report = vigil_paths::attack_paths(inventory, &network, &account, hosts, &vigil_paths::Options::default());
    for path in report.paths.into_iter().take(STORED_ATTACK_PATHS) {
        rows.push(row(&path.target.clone(), AnalysisResult::AttackPath(path)));
    }
    if with_paths {
        for found in iam::admins(&account) {
            rows.push(row(&found.principal, AnalysisResult::Admin(admin(&found))));
        }
        for path in iam::escalation(&account) {
            rows.push(row(&path.principal, AnalysisResult::Escalation(escalation_path(&path))));
        }
    }
    for grant in iam::external_access(&account) {
        let result = ExternalAccess {
            resource: grant.resource.clone(),
            service: grant.service.to_string(),
            kind: grant.kind.to_string(),
            region: grant.region,
            exposure: serde_name(&grant.exposure),
            principals: grant.principals,
            actions: grant.actions,
            access_levels: grant.access_levels.iter().map(serde_name).collect(),
            narrowed_by: grant.narrowed_by,
            statement: grant.statement,
            sid: grant.sid,
        };
        rows.push(row(&grant.resource, AnalysisResult::External(result)));
    }

    let questions: Vec<(&str, &'static str, String)> = resources
        .iter()
        .filter_map(|resource| {
            vigil_iam::access::access_question(resource.resource_type, &resource.arn).map(|(action, target)| (resource.arn.as_str(), action, target))
        })
        .collect();
    let decisions = questions.len() * account.principals.len();
    if decisions > ACCESS_DECISIONS {
        let reason = format!(
            "{} principals × {} resources is more than {ACCESS_DECISIONS} decisions; ask `vigil iam who-can`",
            account.principals.len(),
            questions.len()
        );
        rows.push(row("", AnalysisResult::AccessSkipped(AccessSkipped { reason })));
        return rows;
    }
    for (arn, action, target) in questions {
        let principals = account
            .who_can(action, &target)
            .iter()
            .map(|(principal, evaluation)| AccessGrant {
                principal: principal.arn.clone(),
                kind: serde_name(&principal.kind),
                allowed_by: evaluation.explanation.allowed_by.iter().map(|statement| format!("{}#{}", statement.policy, statement.statement)).collect(),
            })
            .collect();
        rows.push(row(arn, AnalysisResult::Access(Access { action: action.to_string(), resource: target, principals })));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Inventory {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/demo/example-corp.vigil");
        vigil_model::snapshot::from_bytes(&std::fs::read(path).unwrap(), "the demo snapshot").unwrap()
    }

    /// The stored types serialize exactly as the engines' own results do, so the stored JSON
    /// and `vigil reach --format json` are what they were before the analyses had types.
    #[test]
    fn typed_results_serialize_as_the_engines_results_do() {
        let inventory = demo();
        let analyses = analyse(&inventory, &vigil_paths::HostFacts::default());
        let of = |kind: &str| -> Vec<serde_json::Value> {
            analyses.iter().filter(|row| row.result.kind() == kind).map(|row| serde_json::from_str(&row.result.to_json()).unwrap()).collect()
        };
        let account = Account::from_inventory(&inventory);
        assert_eq!(of("admin"), iam::admins(&account).iter().map(|admin| serde_json::to_value(admin).unwrap()).collect::<Vec<_>>());
        assert_eq!(of("escalation"), iam::escalation(&account).iter().map(|path| serde_json::to_value(path).unwrap()).collect::<Vec<_>>());
        assert_eq!(of("external"), iam::external_access(&account).iter().map(|grant| serde_json::to_value(grant).unwrap()).collect::<Vec<_>>());
        // The demo account has admins, external grants and access results (no escalation path).
        for kind in ["admin", "external", "access"] {
            assert!(!of(kind).is_empty(), "no {kind} result in the demo account");
        }

        let network = vigil_net::Network::new(&inventory);
        let exposures = network.exposures();
        let rows = exposure_rows(&network, &exposures);
        assert!(!rows.is_empty(), "the demo account has internet-exposed endpoints");
        let mut engine_rows = Vec::new();
        for exposure in &exposures {
            for entry in exposure.entries() {
                engine_rows.push(serde_json::json!({
                    "region": exposure.region, "resource_id": exposure.resource_id, "resource_type": exposure.resource_type,
                    "interface_id": exposure.interface_id, "address": exposure.address, "protocol": entry.protocol, "ports": entry.ports,
                    "sources": entry.sources, "via": exposure.via.clone().unwrap_or_else(|| "direct".to_string()), "path": network.path(exposure, &entry),
                }));
            }
        }
        assert_eq!(rows.iter().map(|row| serde_json::to_value(row).unwrap()).collect::<Vec<_>>(), engine_rows);
        assert_eq!(of("exposure").len(), rows.len());
    }
}
