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

/// Records every call a check declares ([`crate::Metadata::reads`]) as read, in every region
/// of the inventory (or once for the account).
pub fn read_declared(inventory: &mut Inventory, check: &dyn Check) {
    let regions: Vec<String> = inventory.regions.iter().map(|region| region.to_string()).collect();
    for declared in check.metadata().reads {
        if declared.per_region {
            for region in &regions {
                read(inventory, declared.service, region, declared.operation, None);
            }
        } else {
            read(inventory, declared.service, vigil_model::Region::GLOBAL, declared.operation, None);
        }
    }
}

pub(crate) mod twins {
    //! A data-driven harness for the per-resource families: a misconfigured resource (`bad`)
    //! next to a well-configured twin (`good`), then the same with each declared read denied,
    //! then with a per-resource call denied.

    use vigil_model::{Inventory, RegionalInventory};

    use super::*;
    use crate::catalog::FnCheck;

    /// One case: the check, the per-resource calls (operation, target) of the check's first
    /// declared service to record as read, and a function that places `bad` and `good`.
    pub(crate) struct Twin {
        pub check: &'static FnCheck,
        pub calls: Vec<(&'static str, &'static str)>,
        pub place: fn(&mut RegionalInventory),
    }

    fn service(twin: &Twin) -> &'static str {
        twin.check.metadata.reads.first().map(|read| read.service).unwrap_or_default()
    }

    fn build(twin: &Twin) -> Inventory {
        let mut inventory = inventory();
        read_declared(&mut inventory, twin.check);
        for (operation, target) in &twin.calls {
            read(&mut inventory, service(twin), "us-east-1", operation, Some(target));
        }
        (twin.place)(inventory.regional.get_mut(&"us-east-1".into()).unwrap());
        inventory
    }

    /// The bad twin FAILs, the good one PASSes; each denied declared read gives one ERROR
    /// naming it and no PASS; a denied per-resource call turns the verdicts that needed it into
    /// ERROR.
    pub(crate) fn check_twins(twins: &[Twin]) {
        for twin in twins {
            let id = twin.check.metadata.id;
            let inventory = build(twin);
            let found = statuses(&run(twin.check, &inventory));
            assert_eq!(found, vec![("bad".to_string(), Status::Fail), ("good".to_string(), Status::Pass)], "{id}: {:#?}", run(twin.check, &inventory));
            assert!(!twin.check.metadata.reads.is_empty(), "{id} declares no read");
            for declared in twin.check.metadata.reads {
                let mut denied_listing = inventory.clone();
                denied_listing.ledger.calls.retain(|call| call.target.is_some() || call.operation != declared.operation || call.service != declared.service);
                let region = if declared.per_region { "us-east-1" } else { vigil_model::Region::GLOBAL };
                record(&mut denied_listing, declared.service, region, declared.operation, None, denied());
                let findings = run(twin.check, &denied_listing);
                assert_eq!(findings.len(), 1, "{id} with {declared} denied: {findings:#?}");
                assert_eq!(findings[0].status, Status::Error, "{id}");
                assert!(findings[0].message.contains(declared.operation), "{id}: {}", findings[0].message);
            }
            if let Some((operation, _)) = twin.calls.first() {
                let mut denied_call = inventory.clone();
                denied_call.ledger.calls.retain(|call| call.operation != *operation);
                for (_, target) in twin.calls.iter().filter(|(other, _)| other == operation) {
                    record(&mut denied_call, service(twin), "us-east-1", operation, Some(target), denied());
                }
                let findings = run(twin.check, &denied_call);
                assert!(findings.iter().all(|finding| finding.status != Status::Pass), "{id}: a denied {operation} must not PASS");
                assert!(findings.iter().any(|finding| finding.status == Status::Error && finding.message.contains(operation)), "{id}");
            }
        }
    }
}
