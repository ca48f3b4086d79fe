//! Builders for check tests: a small inventory and ledger entries.

use vigil_model::inventory::AccountInfo;
use vigil_model::{ApiCall, Inventory, Outcome};

use crate::{Check, Context, Finding, Status};

pub const ACCOUNT: &str = "123456789012";

pub fn inventory() -> Inventory {
    let account = AccountInfo { account_id: ACCOUNT.parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
    let mut inventory = Inventory::new(account, vec!["us-east-1".into()], chrono::Utc::now());
    inventory.regional.insert("us-east-1".into(), Default::default());
    inventory
}

/// Records a call as read (ok).
pub fn read(inventory: &mut Inventory, service: &str, region: &str, operation: &str, target: Option<&str>) {
    record(inventory, service, region, operation, target, Outcome::Ok);
}

pub fn record(inventory: &mut Inventory, service: &str, region: &str, operation: &str, target: Option<&str>, outcome: Outcome) {
    inventory.ledger.record(ApiCall::new(service, region, operation, target.map(str::to_string), outcome));
}

pub fn denied() -> Outcome {
    Outcome::AccessDenied { code: "AccessDenied".into(), message: "not authorized".into() }
}

pub fn run(check: &dyn Check, inventory: &Inventory) -> Vec<Finding> {
    let context = Context::new(inventory, chrono::Utc::now());
    let mut findings = Vec::new();
    check.run(&context, &mut findings);
    findings
}

/// (resource id, status) pairs, sorted, for compact assertions.
pub fn statuses(findings: &[Finding]) -> Vec<(String, Status)> {
    let mut pairs: Vec<(String, Status)> = findings.iter().map(|finding| (finding.resource_id.to_string(), finding.status)).collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}
