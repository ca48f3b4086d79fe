//! Vulnerabilities: installed packages matched against OSV records (docs/host.md,
//! "Vulnerabilities").
//!
//! - Ecosystems: the host's distribution and release (from `os-release`) select the records
//!   whose `affected[].package.ecosystem` is that distribution with that release suffix
//!   (`Debian:12`, `Ubuntu:24.04:LTS`, `Alpine:v3.19`, `AlmaLinux:9`, `Rocky Linux:9`,
//!   `Red Hat:enterprise_linux:9::baseos`, `Amazon Linux:2023`); Ubuntu Pro records are left
//!   out (their fixes need a subscription). A record without a release suffix applies to
//!   every release.
//! - Names: Debian, Ubuntu and Alpine write advisories per source package (dpkg's `Source:`,
//!   apk's origin), compared with the source version; RPM distributions per binary package.
//! - Versions: `versions` lists exactly, and `ECOSYSTEM` ranges (introduced, fixed,
//!   last_affected, limit) with the distribution's own ordering (`crate::versions`). Other
//!   range types (SEMVER, GIT) describe upstream projects and are not used for OS packages.
//! - Severity: a CVSS vector's base score where the record gives one (v4.0, v3.x, v2), else the
//!   distribution's word (Ubuntu priority, Debian urgency, Red Hat/Alma/Rocky severity).

pub mod module;
pub mod osv;

use std::collections::HashMap;

use serde::Serialize;

use crate::packages::{Manager, OsRelease, Package};
use crate::versions::{Scheme, compare};
use osv::{Affected, Record, SeverityEntry};

/// The OSV ecosystem of a host: the distribution's name in OSV and its release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostEcosystem {
    pub name: String,
    pub release: String,
    pub scheme: Scheme,
    /// Advisories name source packages (Debian, Ubuntu, Alpine) rather than binary ones.
    pub by_source: bool,
}

impl HostEcosystem {
    /// `Debian:12` and so on, for messages.
    pub fn label(&self) -> String {
        format!("{}:{}", self.name, self.release)
    }

    /// The name and version a package is looked up by in the advisories: the source
    /// package's for distributions that write advisories per source package.
    pub fn lookup<'p>(&self, package: &'p Package) -> (&'p str, &'p str) {
        if self.by_source { (package.source_name(), package.source_version()) } else { (package.name.as_str(), package.version.as_str()) }
    }

    /// Does a record's ecosystem string apply to this host?
    pub fn matches(&self, ecosystem: &str) -> bool {
        let (name, suffix) = match ecosystem.split_once(':') {
            Some((name, suffix)) => (name, Some(suffix)),
            None => (ecosystem, None),
        };
        if name != self.name {
            return false;
        }
        let Some(suffix) = suffix else {
            return true;
        };
        match self.name.as_str() {
            // `Ubuntu:24.04:LTS` applies; `Ubuntu:Pro:24.04:LTS` needs a subscription.
            "Ubuntu" => suffix == self.release || suffix.starts_with(&format!("{}:", self.release)),
            // `Red Hat:enterprise_linux:9::baseos`, `Red Hat:rhel_eus:9.4::appstream`...
            "Red Hat" => suffix.split(':').nth(1).is_some_and(|release| release == self.release || release.starts_with(&format!("{}.", self.release))),
            _ => suffix == self.release,
        }
    }
}

/// The OSV ecosystem for an operating system, or `None` for one OSV does not cover.
pub fn host_ecosystem(os: &OsRelease) -> Option<HostEcosystem> {
    let major = |version: &str| version.split('.').next().unwrap_or(version).to_string();
    let (name, release, scheme, by_source) = match os.id.as_str() {
        "debian" => ("Debian", major(&os.version_id), Scheme::Dpkg, true),
        "ubuntu" => ("Ubuntu", os.version_id.clone(), Scheme::Dpkg, true),
        "alpine" => {
            let mut parts = os.version_id.split('.');
            let release = format!("v{}.{}", parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            ("Alpine", release, Scheme::Apk, true)
        }
        "almalinux" => ("AlmaLinux", major(&os.version_id), Scheme::Rpm, false),
        "rocky" => ("Rocky Linux", major(&os.version_id), Scheme::Rpm, false),
        "rhel" => ("Red Hat", major(&os.version_id), Scheme::Rpm, false),
        "amzn" => ("Amazon Linux", major(&os.version_id), Scheme::Rpm, false),
        _ => return None,
    };
    if release.is_empty() {
        return None;
    }
    Some(HostEcosystem { name: name.to_string(), release, scheme, by_source })
}

/// One vulnerable package (`vigil host vulns --format json`).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub aliases: Vec<String>,
    /// The installed (binary) package.
    pub package: String,
    /// The source package the advisory names, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub installed: String,
    /// The first fixed version after the installed one; `None` when no fix is published.
    pub fixed: Option<String>,
    pub fix_available: bool,
    pub severity: Level,
    /// The CVSS base score, when a vector was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// Where the severity came from: `CVSS_V3`, `Ubuntu`, `urgency`...
    pub severity_source: String,
    pub ecosystem: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Unknown,
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Unknown => "unknown",
            Level::None => "none",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// The level [`Level::as_str`] names.
    pub fn named(name: &str) -> Option<Level> {
        [Level::Unknown, Level::None, Level::Low, Level::Medium, Level::High, Level::Critical].into_iter().find(|level| level.as_str() == name)
    }

    fn from_score(score: f64) -> Level {
        match score {
            s if s >= 9.0 => Level::Critical,
            s if s >= 7.0 => Level::High,
            s if s >= 4.0 => Level::Medium,
            s if s > 0.0 => Level::Low,
            _ => Level::None,
        }
    }

    /// A distribution's word for a severity (Ubuntu priorities, Debian urgencies, Red Hat
    /// impacts).
    fn from_word(word: &str) -> Option<Level> {
        Some(match word.trim().trim_end_matches('*').to_ascii_lowercase().as_str() {
            "critical" | "urgent" => Level::Critical,
            "high" | "important" => Level::High,
            "medium" | "moderate" => Level::Medium,
            "low" | "negligible" | "unimportant" => Level::Low,
            "none" => Level::None,
            _ => return None,
        })
    }
}

/// A host's advisories: the records of an OSV path that name one of its packages in its
/// ecosystem, kept while reading ([`osv::load_with`]) so the host never holds the archive.
pub struct HostAdvisories {
    pub database: Database,
    /// Every record read, applicable or not.
    pub read: usize,
    pub problems: Vec<osv::RecordProblem>,
}

/// Loads the advisories at `path` that can match `packages` on `ecosystem`: a record is kept
/// when one of its affected packages is in the ecosystem, by a name the host looks up
/// ([`HostEcosystem::lookup`]); what `Database::matches` finds is the same as over every record.
pub fn load_for_host(path: &std::path::Path, ecosystem: &HostEcosystem, packages: &[Package]) -> Result<HostAdvisories, osv::LoadError> {
    let names: std::collections::HashSet<&str> =
        packages.iter().filter(|package| package.manager.scheme() == ecosystem.scheme).map(|package| ecosystem.lookup(package).0).collect();
    let keep = |record: &Record| {
        record
            .affected
            .iter()
            .filter_map(|affected| affected.package.as_ref())
            .any(|package| names.contains(package.name.as_str()) && ecosystem.matches(&package.ecosystem))
    };
    let loaded = osv::load_with(path, &keep)?;
    Ok(HostAdvisories { database: Database::new(loaded.records), read: loaded.read, problems: loaded.problems })
}

/// Records indexed by ecosystem name and package name, for one pass over a host's packages.
pub struct Database {
    records: Vec<Record>,
    /// (OSV ecosystem name without suffix, package name) → (record, affected entry).
    index: HashMap<(String, String), Vec<(u32, u32)>>,
}

impl Database {
    pub fn new(records: Vec<Record>) -> Database {
        let mut index: HashMap<(String, String), Vec<(u32, u32)>> = HashMap::new();
        for (record_index, record) in records.iter().enumerate() {
            if record.withdrawn.is_some() {
                continue;
            }
            for (affected_index, affected) in record.affected.iter().enumerate() {
                let Some(package) = &affected.package else { continue };
                let base = package.ecosystem.split(':').next().unwrap_or(&package.ecosystem).to_string();
                index.entry((base, package.name.clone())).or_default().push((record_index as u32, affected_index as u32));
            }
        }
        Database { records, index }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every (record, package) where the installed version is affected.
    pub fn matches(&self, ecosystem: &HostEcosystem, packages: &[Package]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for package in packages {
            if package.manager.scheme() != ecosystem.scheme {
                continue;
            }
            let (name, installed) = ecosystem.lookup(package);
            let Some(entries) = self.index.get(&(ecosystem.name.clone(), name.to_string())) else { continue };
            let mut seen = std::collections::HashSet::new();
            for &(record_index, affected_index) in entries {
                let record = &self.records[record_index as usize];
                let affected = &record.affected[affected_index as usize];
                let Some(affected_package) = &affected.package else { continue };
                if !ecosystem.matches(&affected_package.ecosystem) || seen.contains(&record_index) {
                    continue;
                }
                let Some(fixed) = affected_version(affected, installed, ecosystem.scheme) else { continue };
                seen.insert(record_index);
                let severity = severity(record, affected);
                findings.push(Finding {
                    id: record.id.clone(),
                    aliases: record.aliases.clone(),
                    package: package.name.clone(),
                    source: (name != package.name).then(|| name.to_string()),
                    installed: installed.to_string(),
                    fix_available: fixed.is_some(),
                    fixed,
                    severity: severity.level,
                    score: severity.score,
                    vector: severity.vector,
                    severity_source: severity.source,
                    ecosystem: affected_package.ecosystem.clone(),
                    summary: record.summary.clone(),
                });
            }
        }
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.package.cmp(&b.package)).then_with(|| a.id.cmp(&b.id)));
        findings
    }
}

/// `None` when the version is not affected; `Some(fixed)` when it is, with the first fixed
/// version after it (`Some(None)` when no fix is published).
pub fn affected_version(affected: &Affected, installed: &str, scheme: Scheme) -> Option<Option<String>> {
    if affected.versions.iter().any(|version| version == installed) {
        return Some(next_fixed(affected, installed, scheme));
    }
    for range in &affected.ranges {
        if range.kind != "ECOSYSTEM" {
            continue;
        }
        if in_range(&range.events, installed, scheme) {
            return Some(next_fixed(affected, installed, scheme));
        }
    }
    None
}

/// The OSV evaluation of one range: events in version order; `introduced` opens, `fixed`
/// closes at the version, `last_affected` closes after it, `limit` bounds the range.
fn in_range(events: &[osv::Event], installed: &str, scheme: Scheme) -> bool {
    let version_of = |event: &osv::Event| -> Option<String> {
        event.introduced.clone().or_else(|| event.fixed.clone()).or_else(|| event.last_affected.clone()).or_else(|| event.limit.clone())
    };
    let mut sorted: Vec<&osv::Event> = events.iter().filter(|event| version_of(event).is_some()).collect();
    sorted.sort_by(|a, b| {
        let (va, vb) = (version_of(a).unwrap_or_default(), version_of(b).unwrap_or_default());
        match (va == "0", vb == "0") {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            _ => compare(scheme, &va, &vb),
        }
    });
    let mut affected = false;
    for event in sorted {
        if let Some(limit) = &event.limit
            && limit != "*"
            && compare(scheme, installed, limit).is_ge()
        {
            return false;
        }
        if let Some(introduced) = &event.introduced {
            if introduced == "0" || compare(scheme, installed, introduced).is_ge() {
                affected = true;
            }
        } else if let Some(fixed) = &event.fixed {
            if compare(scheme, installed, fixed).is_ge() {
                affected = false;
            }
        } else if let Some(last) = &event.last_affected
            && compare(scheme, installed, last).is_gt()
        {
            affected = false;
        }
    }
    affected
}

/// The lowest `fixed` version above the installed one, across the entry's ranges.
fn next_fixed(affected: &Affected, installed: &str, scheme: Scheme) -> Option<String> {
    affected
        .ranges
        .iter()
        .filter(|range| range.kind == "ECOSYSTEM")
        .flat_map(|range| range.events.iter().filter_map(|event| event.fixed.clone()))
        .filter(|fixed| compare(scheme, fixed, installed).is_gt())
        .min_by(|a, b| compare(scheme, a, b))
}

struct Severity {
    level: Level,
    score: Option<f64>,
    vector: Option<String>,
    source: String,
}

/// The most precise severity a record gives: a CVSS vector (newest version first, the
/// affected entry's before the record's), else a distribution's word.
fn severity(record: &Record, affected: &Affected) -> Severity {
    let entries: Vec<&SeverityEntry> = affected.severity.iter().chain(record.severity.iter()).collect();
    for kind in ["CVSS_V4", "CVSS_V3", "CVSS_V2"] {
        for entry in entries.iter().filter(|entry| entry.kind == kind) {
            if let Ok(cvss) = entry.score.parse::<cvss::Cvss>() {
                let score = (cvss.score() * 10.0).round() / 10.0;
                return Severity { level: Level::from_score(score), score: Some(score), vector: Some(entry.score.clone()), source: kind.to_string() };
            }
        }
    }
    for entry in entries.iter().filter(|entry| entry.kind == "Ubuntu") {
        if let Some(level) = Level::from_word(&entry.score) {
            return Severity { level, score: None, vector: None, source: "Ubuntu priority".to_string() };
        }
    }
    let specific = [affected.ecosystem_specific.as_ref(), affected.database_specific.as_ref(), record.database_specific.as_ref()];
    for (field, source) in [("urgency", "Debian urgency"), ("severity", "distribution severity")] {
        for value in specific.iter().flatten() {
            if let Some(level) = value.get(field).and_then(serde_json::Value::as_str).and_then(Level::from_word) {
                return Severity { level, score: None, vector: None, source: source.to_string() };
            }
        }
    }
    Severity { level: Level::Unknown, score: None, vector: None, source: "none given".to_string() }
}

/// Which packages a manager's advisories would apply to, for reports.
pub fn manager_of(scheme: Scheme) -> Manager {
    match scheme {
        Scheme::Dpkg => Manager::Dpkg,
        Scheme::Rpm => Manager::Rpm,
        Scheme::Apk => Manager::Apk,
    }
}

#[cfg(test)]
mod tests;
