//! The exposure and IAM analyses recorded with each stored scan, so the console can show
//! internet exposure, admin-equivalent principals, escalation paths, access from outside the
//! account and who can reach a resource without the inventory.

use std::collections::HashMap;

use serde_json::json;
use vigil_iam::account::Account;
use vigil_iam::analysis;
use vigil_model::Inventory;
use vigil_store::Analysis;

/// Who-can-access is answered for at most this many (principal, resource) decisions per
/// account (about a second of engine time); beyond it the console says it was not computed.
const ACCESS_DECISIONS: usize = 500_000;

/// Every analysis of several accounts' inventories: admins and escalation paths over the whole
/// set (paths may cross accounts; each row belongs to its principal's account), the rest per
/// account.
pub fn analyse_all(inventories: &[Inventory]) -> Vec<Analysis> {
    if inventories.len() < 2 {
        return inventories.iter().flat_map(|inventory| analyse_one(inventory, true)).collect();
    }
    let mut rows: Vec<Analysis> = inventories.iter().flat_map(|inventory| analyse_one(inventory, false)).collect();
    let account = Account::from_inventories(&inventories.iter().collect::<Vec<_>>());
    for admin in analysis::admins(&account) {
        rows.push(Analysis { account_id: admin.account.clone(), kind: "admin".to_string(), subject: admin.principal.clone(), body: json!(admin) });
    }
    for path in analysis::escalation(&account) {
        rows.push(Analysis { account_id: path.account.clone(), kind: "escalation".to_string(), subject: path.principal.clone(), body: json!(path) });
    }
    rows
}

/// Every analysis of one account's inventory.
pub fn analyse(inventory: &Inventory) -> Vec<Analysis> {
    analyse_one(inventory, true)
}

/// One account's analyses; `with_paths` adds its admins and escalation paths (left out when
/// they are computed over several accounts together).
fn analyse_one(inventory: &Inventory, with_paths: bool) -> Vec<Analysis> {
    let account_id = inventory.account_id().to_string();
    let row = |kind: &str, subject: &str, body: serde_json::Value| Analysis {
        account_id: account_id.clone(),
        kind: kind.to_string(),
        subject: subject.to_string(),
        body,
    };
    let resources = inventory.resources();
    let arn_of: HashMap<&str, &str> =
        resources.iter().flat_map(|resource| [(resource.id, resource.arn.as_str()), (resource.arn.as_str(), resource.arn.as_str())]).collect();
    let mut rows = Vec::new();

    let network = vigil_net::Network::new(inventory);
    for exposure_row in super::reach::exposure_rows(&network, &network.exposures()) {
        let id = exposure_row["resource_id"].as_str().unwrap_or_default();
        let subject = arn_of.get(id).copied().unwrap_or(id).to_string();
        rows.push(row("exposure", &subject, exposure_row));
    }

    let account = Account::from_inventory(inventory);
    if with_paths {
        for admin in analysis::admins(&account) {
            rows.push(row("admin", &admin.principal, json!(admin)));
        }
        for path in analysis::escalation(&account) {
            rows.push(row("escalation", &path.principal, json!(path)));
        }
    }
    for grant in analysis::external_access(&account) {
        rows.push(row("external", &grant.resource, json!(grant)));
    }

    let questions: Vec<(&str, &'static str, String)> = resources
        .iter()
        .filter_map(|resource| {
            vigil_iam::access::access_question(resource.resource_type, &resource.arn).map(|(action, target)| (resource.arn.as_str(), action, target))
        })
        .collect();
    let decisions = questions.len() * account.principals.len();
    if decisions > ACCESS_DECISIONS {
        rows.push(row(
            "access-skipped",
            "",
            json!({ "reason": format!("{} principals × {} resources is more than {ACCESS_DECISIONS} decisions; ask `vigil iam who-can`", account.principals.len(), questions.len()) }),
        ));
        return rows;
    }
    for (arn, action, target) in questions {
        let principals: Vec<serde_json::Value> = account
            .who_can(action, &target)
            .iter()
            .map(|(principal, evaluation)| {
                let by: Vec<String> =
                    evaluation.explanation.allowed_by.iter().map(|statement| format!("{}#{}", statement.policy, statement.statement)).collect();
                json!({ "principal": principal.arn, "kind": principal.kind, "allowed_by": by })
            })
            .collect();
        rows.push(row("access", arn, json!({ "action": action, "resource": target, "principals": principals })));
    }
    rows
}
