//! Asking the catalog which parts of a configuration a check objects to: the check runs on a
//! small inventory holding the resource with one part only (one statement, one grant, one
//! rule). The fixers never restate a check's rule; they remove what the check flags, and
//! the plan then proves on the whole inventory that the finding is resolved.

use vigil_checks::policy::Policy;
use vigil_model::inventory::RegionalInventory;
use vigil_model::{Inventory, Region, Timestamp};

/// One check, ready to run on small inventories.
pub(crate) struct Probe<'a> {
    pub check_id: &'a str,
    pub policy: Option<&'a Policy>,
    pub now: Timestamp,
}

impl Probe<'_> {
    /// An inventory of the same account with no resources, the ledger entries of `region`
    /// and of global services, and an empty inventory for `region`.
    pub fn base(&self, inventory: &Inventory, region: &str) -> Inventory {
        let mut base = Inventory::new(inventory.account.clone(), inventory.regions.clone(), inventory.collected_at);
        base.collector_version = inventory.collector_version.clone();
        base.ledger.calls =
            inventory.ledger.calls.iter().filter(|call| call.region == region || call.region == Region::GLOBAL || region == Region::GLOBAL).cloned().collect();
        for name in &inventory.regions {
            if name.as_str() == region || region == Region::GLOBAL {
                base.regional.insert(name.clone(), RegionalInventory::default());
            }
        }
        base.regional.entry(Region::new(region)).or_default();
        base
    }

    /// Whether the check fails on the resource `arn` (in `region`) of this inventory.
    pub fn fails(&self, inventory: &Inventory, arn: &str, region: &str) -> bool {
        let Some(check) = vigil_checks::find(self.check_id) else { return false };
        let context = match self.policy {
            Some(policy) => vigil_checks::Context::with_policy(inventory, self.now, policy),
            None => vigil_checks::Context::new(inventory, self.now),
        };
        let mut findings = Vec::new();
        check.run(&context, &mut findings);
        findings.iter().any(|finding| finding.resource_arn == arn && finding.region == region && finding.status == vigil_checks::Status::Fail)
    }
}
