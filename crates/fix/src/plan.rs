//! Planning: which failing findings have a fixer, the change for each, and its effect. Fixes
//! are planned one after the other on an inventory that already holds the earlier ones, so
//! each fix's effect is its own and a finding an earlier fix resolved is not fixed twice.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_checks::policy::Policy;
use vigil_checks::{Finding, Severity, Status};
use vigil_model::{Inventory, Timestamp};

use crate::effect::{self, Activity, Analyses, Break, ExposureChange, FindingRef};
use crate::fixers::{Desire, Fixer, fixer_for};
use crate::iac::{self, Iac};
use crate::options::Options;
use crate::probe::Probe;
use crate::{Call, FixError, Target};

/// Which failing findings to fix. Empty lists select everything; a finding is chosen when it
/// is named by `findings`, or when its check and its resource pass the other two lists.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub checks: Vec<String>,
    /// Resource ARNs (or ids).
    pub resources: Vec<String>,
    /// (check id, resource ARN, region) of findings named one by one.
    pub findings: Vec<(String, String, String)>,
}

impl Selection {
    fn selects(&self, finding: &Finding) -> bool {
        let named = self
            .findings
            .iter()
            .any(|(check, arn, region)| finding.check_id == check.as_str() && finding.resource_arn == arn.as_str() && finding.region == region.as_str());
        if named {
            return true;
        }
        if !self.findings.is_empty() && self.checks.is_empty() && self.resources.is_empty() {
            return false;
        }
        let check = self.checks.is_empty() || self.checks.iter().any(|id| finding.check_id == id.as_str());
        let resource =
            self.resources.is_empty() || self.resources.iter().any(|arn| finding.resource_arn == arn.as_str() || finding.resource_id == arn.as_str());
        check && resource
    }
}

/// One planned fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub check_id: String,
    /// The ARN of the resource the finding is about.
    pub resource: String,
    pub region: String,
    pub severity: Severity,
    pub check_title: String,
    /// The failing finding's message.
    pub finding: String,
    /// What the fixer does.
    pub summary: String,
    /// The configuration slice the calls change.
    pub target: Target,
    pub calls: Vec<Call>,
    pub before: Value,
    pub after: Value,
    /// The calls that take the configuration back from `after` to `before`.
    pub inverse: Vec<Call>,
    pub resolves: Vec<FindingRef>,
    /// Findings that pass today and would fail after the change.
    pub introduces: Vec<FindingRef>,
    /// Working flows or used permissions the change would cut.
    pub breaks: Vec<Break>,
    pub exposures_removed: Vec<ExposureChange>,
    pub exposures_added: Vec<ExposureChange>,
    pub escalations_removed: Vec<String>,
    pub external_access_removed: Vec<String>,
    /// The tool that manages the resource (from its tags), which would revert a manual fix.
    pub managed_by: Option<String>,
    pub iac: Iac,
    /// The reads (`service:Operation`) that re-reading the slice depends on.
    pub reads: Vec<String>,
}

/// A selected finding that gets no fix, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub check_id: String,
    pub resource: String,
    pub region: String,
    pub reason: String,
}

/// A remediation plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub fixes: Vec<Fix>,
    pub skipped: Vec<Skipped>,
    /// Limits of the analysis (e.g. calls collection could not make).
    pub notes: Vec<String>,
}

impl Plan {
    /// Every `service:Operation` applying the plan calls or reads.
    pub fn operations(&self) -> Vec<String> {
        let mut names: Vec<String> = self.fixes.iter().flat_map(|fix| fix.calls.iter().map(Call::name).chain(fix.reads.iter().cloned())).collect();
        names.sort();
        names.dedup();
        names
    }
}

struct Planner<'a> {
    policy: Option<&'a Policy>,
    now: Timestamp,
    options: &'a Options,
    activities: &'a [Activity],
}

impl Planner<'_> {
    fn findings(&self, inventory: &Inventory) -> Vec<Finding> {
        let context = match self.policy {
            Some(policy) => vigil_checks::Context::with_policy(inventory, self.now, policy),
            None => vigil_checks::Context::new(inventory, self.now),
        };
        vigil_checks::run_all(&context, |_| true)
    }

    /// Plans one fix of `finding` at `target`, on `current` whose analyses are `analyses`.
    fn try_fix(
        &self,
        current: &Inventory,
        analyses: &mut Analyses,
        finding: &Finding,
        fixer: &Fixer,
        target: &Target,
    ) -> Result<(Fix, Inventory, Analyses), FixError> {
        let kind = fixer.kind;
        let before = (kind.state)(current, target)?;
        let context = match self.policy {
            Some(policy) => vigil_checks::Context::with_policy(current, self.now, policy),
            None => vigil_checks::Context::new(current, self.now),
        };
        let desire = Desire {
            inventory: current,
            finding,
            target,
            state: &before,
            options: self.options,
            context: &context,
            probe: Probe { check_id: fixer.check_id, policy: self.policy, now: self.now },
        };
        let desired = (fixer.desired)(&desire)?;
        if kind.same(&before, &desired) {
            return Err(FixError::Declined("the configuration already is what the fix would make it".to_string()));
        }
        let calls = (kind.calls)(target, &before, &desired)?;
        if calls.is_empty() {
            return Err(FixError::Declined("the change needs no call".to_string()));
        }
        let mut after_inventory = current.clone();
        (kind.set_state)(&mut after_inventory, target, &desired)?;
        let mut after = Analyses { failing: effect::failing(&self.findings(&after_inventory)), exposures: None, iam: None };
        if kind.network {
            if analyses.exposures.is_none() {
                analyses.exposures = Some(effect::exposures(current));
            }
            after.exposures = Some(effect::exposures(&after_inventory));
        }
        if kind.iam {
            if analyses.iam.is_none() {
                analyses.iam = Some(effect::iam_view(current));
            }
            after.iam = Some(effect::iam_view(&after_inventory));
        }
        let effect = effect::compare(analyses, &after);
        let key = (finding.check_id.to_string(), finding.resource_arn.to_string(), finding.region.to_string());
        if !effect.resolves.iter().any(|resolved| {
            (resolved.check_id.as_str(), resolved.resource.as_str(), resolved.region.as_str()) == (key.0.as_str(), key.1.as_str(), key.2.as_str())
        }) {
            let still = after.failing.get(&key).map(|finding| finding.message.clone()).unwrap_or_default();
            return Err(FixError::Declined(format!("the change would not resolve the finding ({still})")));
        }
        let mut breaks = effect.breaks;
        if kind.iam && !self.activities.is_empty() {
            breaks.extend(effect::activity_breaks(current, &after_inventory, self.activities, &target.arn, &target.id));
        }
        if kind.id == crate::kinds::iam::ACCESS_KEYS.id {
            let now_inactive = crate::kinds::iam::statuses(&desired);
            let deactivated: Vec<String> = crate::kinds::iam::statuses(&before)
                .into_iter()
                .filter(|(id, status)| status == "Active" && now_inactive.iter().any(|(other, new)| other == id && new != "Active"))
                .map(|(id, _)| id)
                .collect();
            breaks.extend(effect::key_breaks(self.activities, &deactivated));
        }
        let inverse = (kind.calls)(target, &desired, &before)?;
        let tags = current.resources().into_iter().find(|resource| resource.arn == target.arn).and_then(|resource| resource.tags.cloned());
        let check_title = vigil_checks::find(fixer.check_id).map(|check| check.metadata().title.to_string()).unwrap_or_default();
        let fix = Fix {
            check_id: finding.check_id.to_string(),
            resource: finding.resource_arn.to_string(),
            region: finding.region.to_string(),
            severity: finding.severity,
            check_title,
            finding: finding.message.to_string(),
            summary: fixer.summary.to_string(),
            target: target.clone(),
            calls,
            before,
            after: desired.clone(),
            inverse,
            resolves: effect.resolves,
            introduces: effect.introduces,
            breaks,
            exposures_removed: effect.exposures_removed,
            exposures_added: effect.exposures_added,
            escalations_removed: effect.escalations_removed,
            external_access_removed: effect.external_access_removed,
            managed_by: iac::managed_by(tags.as_ref()),
            iac: (kind.iac)(target, &desired),
            reads: kind.reads.iter().map(|read| read.to_string()).collect(),
        };
        Ok((fix, after_inventory, after))
    }
}

/// Plans the fixes of the selected failing findings of an inventory. `policy` is the
/// cloud-aware policy the scan uses (its parameters decide the checks); `activities` is
/// CloudTrail usage, when available.
pub fn plan(inventory: &Inventory, selection: &Selection, options: &Options, policy: Option<&Policy>, activities: &[Activity], now: Timestamp) -> Plan {
    let planner = Planner { policy, now, options, activities };
    let mut current = inventory.clone();
    let findings = planner.findings(&current);
    let mut analyses = Analyses { failing: effect::failing(&findings), exposures: None, iam: None };
    let mut candidates: Vec<&Finding> =
        findings.iter().filter(|finding| finding.status == Status::Fail && fixer_for(&finding.check_id).is_some() && selection.selects(finding)).collect();
    candidates.sort_by(|a, b| (b.severity, &a.check_id, &a.resource_arn).cmp(&(a.severity, &b.check_id, &b.resource_arn)));
    let mut plan = Plan::default();
    let unread = inventory.ledger.failures().count();
    if unread > 0 {
        plan.notes.push(format!("{unread} API calls could not be read during collection: effects on what they would have shown are not computed"));
    }
    for finding in candidates {
        let Some(fixer) = fixer_for(&finding.check_id) else { continue };
        let skip = |reason: String| Skipped {
            check_id: finding.check_id.to_string(),
            resource: finding.resource_arn.to_string(),
            region: finding.region.to_string(),
            reason,
        };
        let key = (finding.check_id.to_string(), finding.resource_arn.to_string(), finding.region.to_string());
        if !analyses.failing.contains_key(&key) {
            plan.skipped.push(skip("resolved by an earlier fix of this plan".to_string()));
            continue;
        }
        let targets = (fixer.targets)(finding, &current);
        let mut reason = "no resource to change".to_string();
        let mut planned = None;
        for target in &targets {
            match planner.try_fix(&current, &mut analyses, finding, fixer, target) {
                Ok(result) => {
                    planned = Some(result);
                    break;
                }
                Err(error) => reason = error.to_string(),
            }
        }
        match planned {
            Some((fix, after_inventory, mut after)) => {
                if after.exposures.is_none() {
                    after.exposures = analyses.exposures.take();
                }
                if after.iam.is_none() {
                    after.iam = analyses.iam.take();
                }
                plan.fixes.push(fix);
                current = after_inventory;
                analyses = after;
            }
            None => plan.skipped.push(skip(reason)),
        }
    }
    plan
}
