//! Installed packages: dpkg's status database (and distroless images' `status.d`), the RPM
//! database (SQLite `rpmdb.sqlite` of current RHEL, Amazon Linux and Fedora; BerkeleyDB
//! `Packages` of older releases, read without BerkeleyDB), apk's `installed`, plus the
//! operating system (`os-release`) and the running kernel.
//!
//! Reading is partial-success: a database that cannot be read, or a record in it that is
//! malformed, is a problem naming the file (and line or record); everything else is kept.

mod apk;
mod dpkg;
pub mod rpm;

use serde::Serialize;

use crate::fsroot::HostRoot;
use crate::versions::Scheme;

/// Which package manager installed a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Dpkg,
    Rpm,
    Apk,
}

impl Manager {
    /// How this manager orders versions.
    pub fn scheme(self) -> Scheme {
        match self {
            Manager::Dpkg => Scheme::Dpkg,
            Manager::Rpm => Scheme::Rpm,
            Manager::Apk => Scheme::Apk,
        }
    }
}

/// One installed package (`vigil host packages --format json`: `name`, `version`, `arch`,
/// `manager`, plus the source package when it differs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    pub name: String,
    /// The full version: dpkg `[epoch:]upstream[-revision]`, rpm `[epoch:]version-release`
    /// (the epoch only when set), apk `version-rN`.
    pub version: String,
    pub arch: String,
    pub manager: Manager,
    /// The source package (dpkg `Source:`, rpm `SOURCERPM`'s name, apk `o:` origin) when it
    /// differs from the binary package; advisories for Debian are written per source package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The source package's version when it differs from the binary's (dpkg binNMUs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

impl Package {
    /// The source package name (the binary name when there is no separate source).
    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }

    /// The source package version (the binary's when the source does not say otherwise).
    pub fn source_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}

/// What could not be read, naming the file and where in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PackageProblem {
    pub path: String,
    pub message: String,
}

/// The operating system, from `/etc/os-release` (or `/usr/lib/os-release`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
    /// `ID_LIKE`, split.
    pub like: Vec<String>,
}

/// Everything read about a host's packages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageInventory {
    pub packages: Vec<Package>,
    pub os: Option<OsRelease>,
    /// The running kernel's release (`uname -r`); only for the live system.
    pub running_kernel: Option<String>,
    pub problems: Vec<PackageProblem>,
}

/// Reads every package database present under a root.
pub fn inventory(host: &HostRoot) -> PackageInventory {
    let mut inventory = PackageInventory { os: os_release(host), running_kernel: running_kernel(host), ..PackageInventory::default() };
    dpkg::read(host, &mut inventory.packages, &mut inventory.problems);
    rpm::read(host, &mut inventory.packages, &mut inventory.problems);
    apk::read(host, &mut inventory.packages, &mut inventory.problems);
    inventory.packages.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.arch.cmp(&b.arch)).then_with(|| a.version.cmp(&b.version)));
    inventory
}

/// `/etc/os-release`, falling back to `/usr/lib/os-release`.
pub fn os_release(host: &HostRoot) -> Option<OsRelease> {
    let text = host.read_to_string_lossy("/etc/os-release").or_else(|_| host.read_to_string_lossy("/usr/lib/os-release")).ok()?;
    Some(parse_os_release(&text))
}

pub fn parse_os_release(text: &str) -> OsRelease {
    let mut release = OsRelease::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim().trim_matches('"').trim_matches('\'').to_string();
        match key.trim() {
            "ID" => release.id = value,
            "VERSION_ID" => release.version_id = value,
            "PRETTY_NAME" => release.pretty_name = value,
            "ID_LIKE" => release.like = value.split_whitespace().map(str::to_string).collect(),
            _ => {}
        }
    }
    release
}

/// The running kernel's release, on the live system only (an image is not running).
pub fn running_kernel(host: &HostRoot) -> Option<String> {
    if !host.is_live() {
        return None;
    }
    std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|release| release.trim().to_string())
}

/// A deb822-style file's paragraphs (dpkg status, apk installed): each a list of
/// `(field, value, line number)`, continuation lines folded into the value.
/// A paragraph: its first line number and its `(field, value, line)` entries.
pub(crate) type Paragraph = (usize, Vec<(String, String, usize)>);

pub(crate) fn paragraphs(text: &str, separator: char) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut current: Vec<(String, String, usize)> = Vec::new();
    let mut start = 1;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push((start, std::mem::take(&mut current)));
            }
            start = number + 1;
            continue;
        }
        if current.is_empty() {
            start = number;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = current.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(separator) {
            Some((field, value)) => current.push((field.to_string(), value.trim().to_string(), number)),
            None => current.push((line.to_string(), String::new(), number)),
        }
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

#[cfg(test)]
mod tests;
