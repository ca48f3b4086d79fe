//! The assess pipeline: from an inventory to the findings vigil reports and stores. One
//! function serves `vigil scan`, `vigil watch` (full scans and event updates) and, later, the
//! server, so they cannot disagree on a verdict:
//!
//! 1. the catalog's checks that the [`Selection`] picks, with the cloud-aware policy's
//!    parameters and the agent roster ([`vigil_checks::run_all`]);
//! 2. the custom Rego checks, when the selection is the whole catalog;
//! 3. the policy's scope (`require`/`disable`/`severity`, [`Policy::scope_findings`]);
//! 4. the mutelist ([`Mutelist::apply`]);
//! 5. the order every output uses ([`sort_findings`]).
//!
//! An event update selects resources: every check runs over the whole (patched) inventory and
//! only the findings about those resources are kept, so a resource's findings after an event
//! are exactly those a full scan would give it.
//!
//! [`analyses::analyse`] computes the exposure and IAM analyses stored with a scan.
//!
//! Pure: no I/O (the policy, mutelist and Rego files are read by the caller).

pub mod analyses;

use std::collections::BTreeSet;

use vigil_checks::frameworks::{Framework, RequirementSummary};
use vigil_checks::mutelist::Mutelist;
use vigil_checks::policy::Policy;
use vigil_checks::{Finding, Metadata, Status};
use vigil_model::{Inventory, Timestamp};
use vigil_rego::{RegoChecks, RegoError};

#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("custom Rego checks: {0}")]
    Rego(#[from] RegoError),
}

/// How findings are decided beyond the catalog: the policy, the mutelist and custom checks.
pub struct Assessor {
    pub policy: Policy,
    pub mutelist: Option<Mutelist>,
    pub rego: Option<RegoChecks>,
    /// The instances (by id) with an enrolled vigil agent, from the store the assessment is
    /// recorded into, for the host coverage check (`ec2_instance_agent_enrolled`); `None`
    /// when unknown (no store): that check then says it could not read the roster.
    pub agent_roster: Option<BTreeSet<String>>,
    /// What agents report about their hosts (`Store::host_facts`: critical and high
    /// vulnerabilities by instance), which raises the likelihood of attack paths through them;
    /// empty without a store.
    pub host_facts: vigil_paths::HostFacts,
}

/// Which checks run and which findings are kept.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these catalog checks (by id); empty for all.
    pub checks: Vec<String>,
    /// Only the checks mapped to this framework.
    pub framework: Option<&'static Framework>,
    /// Only findings about these resources, by ARN (an event update). Every check still runs:
    /// a check's findings are not always about resources of its declared type (the escalation
    /// check judges users and roles), so choosing checks by type would silently drop findings.
    pub resources: Option<BTreeSet<String>>,
}

impl Selection {
    /// Every check, every finding.
    pub fn everything() -> Selection {
        Selection::default()
    }

    /// The findings about these resources (by ARN).
    pub fn resources<'a>(arns: impl IntoIterator<Item = &'a str>) -> Selection {
        Selection { resources: Some(arns.into_iter().map(str::to_string).collect()), ..Selection::default() }
    }

    /// Whether a catalog check runs.
    pub fn selects(&self, metadata: &Metadata) -> bool {
        (self.checks.is_empty() || self.checks.iter().any(|id| id == metadata.id)) && self.framework.is_none_or(|framework| framework.maps(metadata))
    }

    /// Custom Rego checks run only when the catalog is not narrowed by check or framework (a
    /// framework maps no custom check, and `--check` names catalog checks).
    fn runs_rego(&self) -> bool {
        self.checks.is_empty() && self.framework.is_none()
    }

    /// The ids of the catalog checks this selection runs.
    pub fn catalog_checks(&self) -> Vec<String> {
        vigil_checks::CHECKS.iter().map(|check| check.metadata()).filter(|metadata| self.selects(metadata)).map(|metadata| metadata.id.to_string()).collect()
    }
}

/// The result of assessing one account's inventory.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// In [`sort_findings`] order.
    pub findings: Vec<Finding>,
    /// Every check that ran (catalog and Rego): the store resolves a finding by absence only
    /// when its check ran.
    pub checks_run: Vec<String>,
}

impl Assessment {
    /// The per-requirement compliance summary of a framework over these findings.
    pub fn compliance(&self, framework: &'static Framework) -> Vec<RequirementSummary> {
        vigil_checks::frameworks::summarize(framework, &self.findings)
    }
}

impl Assessor {
    /// Assesses one account's inventory as of `now`.
    pub fn assess(&mut self, inventory: &Inventory, selection: &Selection, now: Timestamp) -> Result<Assessment, AssessError> {
        let context = vigil_checks::Context::with_policy(inventory, now, &self.policy);
        let context = match &self.agent_roster {
            Some(roster) => context.with_agent_roster(roster),
            None => context,
        }
        .with_host_facts(&self.host_facts);
        let mut findings = vigil_checks::run_all(&context, |metadata| selection.selects(metadata));
        let mut checks_run = selection.catalog_checks();
        if let Some(rego) = self.rego.as_mut().filter(|_| selection.runs_rego()) {
            let run = rego.evaluate(inventory)?;
            findings.extend(run.findings);
            checks_run.extend(run.check_ids);
        }
        if let Some(resources) = &selection.resources {
            findings.retain(|finding| resources.contains(finding.resource_arn.as_str()));
        }
        self.policy.scope_findings(inventory, &mut findings);
        if let Some(mutelist) = &self.mutelist {
            mutelist.apply(&mut findings);
        }
        sort_findings(&mut findings);
        Ok(Assessment { findings, checks_run })
    }

    /// Assesses several accounts (an organization): their union (findings in
    /// [`sort_findings`] order, each check once) and, when there are several accounts, one
    /// assessment per inventory, in order. With one account the union is that account's
    /// assessment and the list is empty, so that its findings are not held twice.
    pub fn assess_accounts(&mut self, inventories: &[Inventory], selection: &Selection, now: Timestamp) -> Result<(Assessment, Vec<Assessment>), AssessError> {
        let mut per_account = Vec::with_capacity(inventories.len());
        for inventory in inventories {
            per_account.push(self.assess(inventory, selection, now)?);
        }
        if per_account.len() == 1
            && let Some(only) = per_account.pop()
        {
            return Ok((only, per_account));
        }
        let mut union = Assessment::default();
        let mut checks: BTreeSet<&str> = BTreeSet::new();
        for assessment in &per_account {
            union.findings.extend(assessment.findings.iter().cloned());
            for id in &assessment.checks_run {
                if checks.insert(id) {
                    union.checks_run.push(id.clone());
                }
            }
        }
        sort_findings(&mut union.findings);
        Ok((union, per_account))
    }
}

/// The order of every output: FAIL first, then by severity (highest first), check and
/// resource; ties keep the catalog's order (the sort is stable and `run_all`'s order does not
/// depend on scheduling).
///
/// The positions are sorted, not the findings: a stable sort of the findings themselves would
/// borrow scratch space for up to all of them (about 2 MB for a 20,000-finding scan, hundreds
/// of MB for millions), a sort of their positions eight bytes each. The findings are then
/// moved into place one cycle of the permutation at a time.
pub fn sort_findings(findings: &mut [Finding]) {
    let key = |finding: &Finding| (finding.status != Status::Fail, std::cmp::Reverse(finding.severity));
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&findings[a], &findings[b]);
        key(a).cmp(&key(b)).then_with(|| a.check_id.cmp(&b.check_id)).then_with(|| a.resource_arn.cmp(&b.resource_arn))
    });
    apply_permutation(findings, &mut order);
}

/// Reorders `items` so that position `k` holds what was at `order[k]`; `order` is spent.
fn apply_permutation<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut current = start;
        while order[current] != current {
            let next = order[current];
            order[current] = current;
            if next == start {
                break;
            }
            items.swap(current, next);
            current = next;
        }
    }
}

#[cfg(test)]
mod tests;
