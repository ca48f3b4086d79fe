//! Patch state: pending security updates (the vulnerable packages whose fix is published) and
//! whether a reboot is required (the flag file Debian and Ubuntu write, or an installed kernel
//! newer than the running one).

use serde::Serialize;

use crate::fsroot::HostRoot;
use crate::packages::{Manager, Package, PackageInventory};
use crate::versions::{Scheme, compare};
use crate::vulns::Finding;

/// One package with a security fix waiting.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PendingUpdate {
    pub package: String,
    pub installed: String,
    /// The highest of the fixed versions its advisories name: installing it fixes them all.
    pub fixed: String,
    pub advisories: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PatchState {
    pub running_kernel: Option<String>,
    pub newest_installed_kernel: Option<String>,
    pub reboot_required: bool,
    /// Why a reboot is required (empty when it is not).
    pub reboot_reasons: Vec<String>,
    /// What could not be decided, and why (an image has no running kernel).
    pub notes: Vec<String>,
    pub pending_security_updates: Vec<PendingUpdate>,
}

/// Patch state from a host's packages and its vulnerability findings.
/// `scheme` orders the fixed versions of one package (the host ecosystem's).
pub fn patch_state(host: &HostRoot, inventory: &PackageInventory, findings: &[Finding], scheme: Scheme) -> PatchState {
    let mut reboot_reasons = Vec::new();
    let mut notes = Vec::new();
    for flag in ["/var/run/reboot-required", "/run/reboot-required"] {
        if host.metadata(flag).is_ok_and(|metadata| metadata.is_file()) {
            let packages = host.read_to_string_lossy(&format!("{flag}.pkgs")).unwrap_or_default();
            let packages: Vec<&str> = packages.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
            let detail = if packages.is_empty() { String::new() } else { format!(" (for {})", packages.join(", ")) };
            reboot_reasons.push(format!("`{flag}` exists{detail}"));
            break;
        }
    }
    let newest = newest_installed_kernel(&inventory.packages);
    match (&inventory.running_kernel, &newest) {
        (Some(running), Some((newest_release, scheme))) => {
            if kernel_newer(newest_release, running, *scheme) {
                reboot_reasons.push(format!("kernel {newest_release} is installed but {running} is running"));
            }
        }
        (None, _) if !host.is_live() => notes.push("an image has no running kernel: only the reboot-required flag is checked".to_string()),
        (None, _) => notes.push("the running kernel could not be read from /proc/sys/kernel/osrelease".to_string()),
        (Some(_), None) => notes.push("no installed kernel package found to compare with the running kernel".to_string()),
    }
    PatchState {
        running_kernel: inventory.running_kernel.clone(),
        newest_installed_kernel: newest.map(|(release, _)| release),
        reboot_required: !reboot_reasons.is_empty(),
        reboot_reasons,
        notes,
        pending_security_updates: pending_updates(findings, scheme),
    }
}

/// The vulnerable packages with a published fix, one entry per package.
pub fn pending_updates(findings: &[Finding], scheme: Scheme) -> Vec<PendingUpdate> {
    let mut updates: Vec<PendingUpdate> = Vec::new();
    for finding in findings.iter().filter(|finding| finding.fix_available) {
        let Some(fixed) = &finding.fixed else { continue };
        match updates.iter_mut().find(|update| update.package == finding.package) {
            Some(update) => {
                if !update.advisories.contains(&finding.id) {
                    update.advisories.push(finding.id.clone());
                }
                if compare(scheme, fixed, &update.fixed).is_gt() {
                    update.fixed = fixed.clone();
                }
            }
            None => updates.push(PendingUpdate {
                package: finding.package.clone(),
                installed: finding.installed.clone(),
                fixed: fixed.clone(),
                advisories: vec![finding.id.clone()],
            }),
        }
    }
    updates.sort_by(|a, b| a.package.cmp(&b.package));
    updates
}

/// The newest installed kernel, as a release string comparable with `uname -r`:
/// Debian's `linux-image-6.1.0-21-amd64` gives `6.1.0-21-amd64`; RPM's `kernel-core`
/// (or `kernel`) `5.14.0-427.13.1.el9_4` on `x86_64` gives `5.14.0-427.13.1.el9_4.x86_64`.
pub fn newest_installed_kernel(packages: &[Package]) -> Option<(String, Scheme)> {
    let mut kernels: Vec<(String, Scheme)> = Vec::new();
    for package in packages {
        match package.manager {
            Manager::Dpkg => {
                if let Some(release) = package.name.strip_prefix("linux-image-")
                    && release.chars().next().is_some_and(|c| c.is_ascii_digit())
                {
                    kernels.push((release.to_string(), Scheme::Dpkg));
                }
            }
            Manager::Rpm if matches!(package.name.as_str(), "kernel-core" | "kernel" | "kernel-default") => {
                let version = package.version.split_once(':').map_or(package.version.as_str(), |(_, rest)| rest);
                kernels.push((format!("{version}.{}", package.arch), Scheme::Rpm));
            }
            Manager::Apk if package.name.starts_with("linux-") => kernels.push((package.version.clone(), Scheme::Apk)),
            _ => {}
        }
    }
    kernels.into_iter().max_by(|a, b| compare(a.1, &a.0, &b.0))
}

fn kernel_newer(installed: &str, running: &str, scheme: Scheme) -> bool {
    match scheme {
        // Alpine's `uname -r` (6.6.14-0-lts) is not the package version (6.6.14-r0): compare the
        // upstream part only.
        Scheme::Apk => compare(Scheme::Apk, installed.split('-').next().unwrap_or(installed), running.split('-').next().unwrap_or(running)).is_gt(),
        _ => compare(scheme, installed, running).is_gt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packages::Package;

    fn package(name: &str, version: &str, arch: &str, manager: Manager) -> Package {
        Package { name: name.into(), version: version.into(), arch: arch.into(), manager, source: None, source_version: None }
    }

    #[test]
    fn an_installed_kernel_newer_than_the_running_one_requires_a_reboot() {
        let host = HostRoot::live();
        let packages = vec![
            package("linux-image-6.1.0-18-amd64", "6.1.76-1", "amd64", Manager::Dpkg),
            package("linux-image-6.1.0-21-amd64", "6.1.90-1", "amd64", Manager::Dpkg),
            package("linux-image-amd64", "6.1.90-1", "amd64", Manager::Dpkg),
        ];
        let mut inventory = PackageInventory { packages, running_kernel: Some("6.1.0-18-amd64".into()), ..PackageInventory::default() };
        let state = patch_state(&host, &inventory, &[], Scheme::Dpkg);
        assert_eq!(state.newest_installed_kernel.as_deref(), Some("6.1.0-21-amd64"));
        // The live machine may itself have a reboot-required flag: only the kernel reason is pinned.
        assert!(state.reboot_reasons.iter().any(|reason| reason == "kernel 6.1.0-21-amd64 is installed but 6.1.0-18-amd64 is running"), "{state:?}");
        inventory.running_kernel = Some("6.1.0-21-amd64".into());
        assert!(!patch_state(&host, &inventory, &[], Scheme::Dpkg).reboot_reasons.iter().any(|reason| reason.starts_with("kernel")));

        let rpm = vec![
            package("kernel-core", "5.14.0-427.13.1.el9_4", "x86_64", Manager::Rpm),
            package("kernel-core", "5.14.0-362.8.1.el9_3", "x86_64", Manager::Rpm),
        ];
        assert_eq!(newest_installed_kernel(&rpm).map(|(release, _)| release).as_deref(), Some("5.14.0-427.13.1.el9_4.x86_64"));
        assert!(kernel_newer("5.14.0-427.13.1.el9_4.x86_64", "5.14.0-362.8.1.el9_3.x86_64", Scheme::Rpm));
    }

    #[test]
    fn the_reboot_flag_of_an_image_and_no_running_kernel() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/run")).unwrap();
        std::fs::write(dir.path().join("var/run/reboot-required"), "*** System restart required ***\n").unwrap();
        std::fs::write(dir.path().join("var/run/reboot-required.pkgs"), "linux-image-6.1.0-21-amd64\nlibc6\n").unwrap();
        let state = patch_state(&HostRoot::at(dir.path()), &PackageInventory::default(), &[], Scheme::Dpkg);
        assert!(state.reboot_required);
        assert_eq!(state.reboot_reasons, ["`/var/run/reboot-required` exists (for linux-image-6.1.0-21-amd64, libc6)"]);
        assert_eq!(state.notes, ["an image has no running kernel: only the reboot-required flag is checked"]);
    }
}
