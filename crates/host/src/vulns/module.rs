//! The `vulns` host module: the installed packages matched against the OSV records at the
//! policy's `osv` path (a directory or zip on the host; loaded for each run and dropped),
//! emitted as `findings` events (`{id, aliases, package, installed, fixed, severity, ...}` in
//! parts of 1,000) only when the findings changed, and the patch state those findings imply
//! (`crate::patch`: pending security updates, reboot required) as a `patch` event, likewise
//! only when it changed. Without `osv` the module reports an error rather than an empty,
//! reassuring result (and no patch state: its pending updates come from the findings).

use std::path::Path;

use serde_json::json;

use crate::module::{Module, ModuleError, Run, Snapshot};

/// The directory in the module's state directory where `vigil-agent` keeps the advisories the
/// server sent (files of OSV records, replaced whole when the server's version changes).
pub const SERVER_OSV_DIR: &str = "server-osv";

/// The file in the module's state directory holding its latest findings, rewritten after
/// every successful match, for the other modules of the agent: firewall shielding reads it
/// (`crate::firewall::agent`).
pub const LATEST_FINDINGS: &str = "latest-findings.json";

/// What [`LATEST_FINDINGS`] holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LatestFindings {
    /// When the match ran, RFC 3339.
    pub time: String,
    pub findings: Vec<LatestFinding>,
}

/// One finding as other modules need it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LatestFinding {
    pub id: String,
    /// The installed (binary) package.
    pub package: String,
    /// The source package the advisory names, when it differs (then `installed` and `fixed`
    /// are the source package's versions).
    pub source: Option<String>,
    pub installed: String,
    pub fixed: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub severity: String,
}

fn publish(state_dir: &Path, findings: &[super::Finding]) -> Result<(), ModuleError> {
    let latest = LatestFindings {
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        findings: findings
            .iter()
            .map(|finding| LatestFinding {
                id: finding.id.clone(),
                package: finding.package.clone(),
                source: finding.source.clone(),
                installed: finding.installed.clone(),
                fixed: finding.fixed.clone(),
                severity: finding.severity.as_str().to_string(),
            })
            .collect(),
    };
    let (path, partial) = (state_dir.join(LATEST_FINDINGS), state_dir.join(format!("{LATEST_FINDINGS}.partial")));
    std::fs::write(&partial, serde_json::to_vec(&latest).unwrap_or_default())
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|error| vulns_error(format!("cannot write `{}`: {error}", path.display())))
}

/// The vulnerability-matching module.
#[derive(Debug)]
pub struct VulnsModule {
    snapshot: Snapshot,
    patch: Snapshot,
}

impl Default for VulnsModule {
    fn default() -> Self {
        VulnsModule { snapshot: Snapshot::new("last-findings"), patch: Snapshot::new("last-patch") }
    }
}

fn vulns_error(message: impl std::fmt::Display) -> ModuleError {
    ModuleError::Other(format!("vulns: {message}"))
}

impl Module for VulnsModule {
    fn name(&self) -> &'static str {
        "vulns"
    }

    fn runs_apart(&self) -> bool {
        true
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        // The policy's `osv` path on the host, else the advisories the server sent (the agent
        // keeps them in this module's state directory: `SERVER_OSV_DIR`).
        let server_copy = run.state_dir.join(SERVER_OSV_DIR);
        let osv: String = match run.settings.get::<String>("osv") {
            Some(path) => path,
            None if server_copy.is_dir() => server_copy.display().to_string(),
            None => {
                return Err(vulns_error(
                    "the host policy gives no `osv` path (a directory or zip of OSV records) and the server has sent no advisories for this host's distribution (load them with `vigil osv load PATH` on the server)",
                ));
            }
        };
        let inventory = crate::packages::inventory(&run.host_root());
        let os = inventory.os.clone().ok_or_else(|| vulns_error("no /etc/os-release: the distribution, and so the advisories that apply, is unknown"))?;
        let ecosystem = super::host_ecosystem(&os)
            .ok_or_else(|| vulns_error(format!("`{}` {} is not a distribution OSV publishes advisories for", os.id, os.version_id)))?;
        let advisories = super::load_for_host(Path::new(&osv), &ecosystem, &inventory.packages).map_err(vulns_error)?;
        let findings = advisories.database.matches(&ecosystem, &inventory.packages);
        let (read, skipped) = (advisories.read, advisories.problems.len());
        drop(advisories);
        publish(run.state_dir, &findings)?;
        let patch = crate::patch::patch_state(&run.host_root(), &inventory, &findings, ecosystem.scheme);
        // Each finding becomes its JSON item as it is dropped: the list is not held twice.
        let items: Vec<serde_json::Value> = findings.into_iter().map(|finding| json!(finding)).collect();
        let head =
            json!({"ecosystem": ecosystem.label(), "packages": inventory.packages.len(), "records": read, "skipped_records": skipped, "findings": items.len()});
        self.snapshot.emit_if_changed(run, "findings", head, items, 1_000);
        let updates: Vec<serde_json::Value> = patch.pending_security_updates.iter().map(|update| json!(update)).collect();
        let head = json!({
            "running_kernel": patch.running_kernel,
            "newest_installed_kernel": patch.newest_installed_kernel,
            "reboot_required": patch.reboot_required,
            "reboot_reasons": patch.reboot_reasons,
            "notes": patch.notes,
            "pending_security_updates": updates.len(),
        });
        self.patch.emit_if_changed(run, "patch", head, updates, 1_000);
        Ok(())
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        self.snapshot.committed(state_dir)?;
        self.patch.committed(state_dir)
    }
}

/// The tests of the three posture adapters (packages, sca, vulns), which share a Debian root.
#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::module::{Emitted, ModuleSettings};

    /// A Debian 12 root with two packages in dpkg's status file.
    fn debian_root() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
        std::fs::write(root.path().join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").unwrap();
        std::fs::write(
            root.path().join("var/lib/dpkg/status"),
            "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\n\n\
             Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n",
        )
        .unwrap();
        root
    }

    fn run_module(module: &mut dyn Module, raw: serde_json::Value, state: &Path, root: &Path) -> (Result<(), ModuleError>, Vec<Emitted>) {
        let settings = ModuleSettings::from_map(raw.as_object().unwrap());
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state, root, &stop);
        let outcome = module.run(&mut run);
        let emitted = run.take_emitted();
        if outcome.is_ok() {
            module.committed(state).unwrap();
        }
        (outcome, emitted)
    }

    #[test]
    fn the_package_list_is_sent_when_it_changed_and_only_then() {
        let (root, state) = (debian_root(), tempfile::tempdir().unwrap());
        let mut module = crate::packages::module::PackagesModule::default();
        let (outcome, first) = run_module(&mut module, json!({"enabled": true}), state.path(), root.path());
        outcome.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].kind.as_str(), first[0].payload["packages"].as_u64()), ("snapshot", Some(2)));
        assert_eq!(first[0].payload["items"][1]["name"], "openssl");
        let mut restarted = crate::packages::module::PackagesModule::default();
        assert!(run_module(&mut restarted, json!({"enabled": true}), state.path(), root.path()).1.is_empty(), "unchanged: nothing sent");
        std::fs::write(
            root.path().join("var/lib/dpkg/status"),
            "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.15-1~deb12u1\n\n",
        )
        .unwrap();
        let (_, changed) = run_module(&mut restarted, json!({"enabled": true}), state.path(), root.path());
        assert_eq!(changed[0].payload["items"][0]["version"], "3.0.15-1~deb12u1");
    }

    #[test]
    fn vulnerable_packages_are_findings_and_no_osv_path_is_an_error() {
        let (root, state, osv) = (debian_root(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(
            osv.path().join("DSA-0001.json"),
            r#"{"schema_version": "1.6.0", "id": "DSA-0001", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
                "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]}"#,
        )
        .unwrap();
        let mut module = VulnsModule::default();
        let (outcome, _) = run_module(&mut module, json!({"enabled": true}), state.path(), root.path());
        assert!(outcome.unwrap_err().to_string().contains("no `osv` path"));
        // The server's copy, as the agent writes it, is used when the policy names no path.
        let server_copy = state.path().join(SERVER_OSV_DIR);
        std::fs::create_dir_all(&server_copy).unwrap();
        std::fs::copy(osv.path().join("DSA-0001.json"), server_copy.join("page-1.json")).unwrap();
        let (outcome, emitted) = run_module(&mut VulnsModule::default(), json!({"enabled": true}), tempfile::tempdir().unwrap().path(), root.path());
        assert!(outcome.unwrap_err().to_string().contains("no `osv` path"), "another state directory has no copy");
        assert!(emitted.is_empty());
        let (outcome, emitted) = run_module(&mut module, json!({"enabled": true}), state.path(), root.path());
        outcome.unwrap();
        assert_eq!(emitted[0].payload["items"][0]["id"], "DSA-0001", "{emitted:#?}");
        std::fs::remove_dir_all(&server_copy).unwrap();
        let mut module = VulnsModule::default();
        let state = tempfile::tempdir().unwrap();
        let settings = json!({"enabled": true, "osv": osv.path().display().to_string()});
        let (outcome, emitted) = run_module(&mut module, settings.clone(), state.path(), root.path());
        outcome.unwrap();
        assert_eq!(emitted.len(), 2, "{emitted:#?}");
        assert_eq!(emitted[0].kind, "findings");
        assert_eq!(emitted[1].kind, "patch");
        assert_eq!(emitted[1].payload["pending_security_updates"], 1);
        assert_eq!(emitted[1].payload["items"][0]["fixed"], "3.0.13-1~deb12u1");
        let finding = &emitted[0].payload["items"][0];
        assert_eq!(
            (finding["id"].as_str(), finding["package"].as_str(), finding["fixed"].as_str()),
            (Some("DSA-0001"), Some("openssl"), Some("3.0.13-1~deb12u1"))
        );
        assert!(run_module(&mut module, settings, state.path(), root.path()).1.is_empty(), "the same findings are not sent again");
    }

    #[test]
    fn the_default_assessment_is_sent_once_per_change() {
        let (root, state) = (debian_root(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(root.path().join("etc/ssh")).unwrap();
        std::fs::write(root.path().join("etc/ssh/sshd_config"), "PermitRootLogin yes\n").unwrap();
        let mut module = crate::sca::module::ScaModule::default();
        let (outcome, first) = run_module(&mut module, json!({"enabled": true}), state.path(), root.path());
        outcome.unwrap();
        assert_eq!(first.len(), 1, "{first:#?}");
        assert_eq!(first[0].kind, "result");
        assert!(first[0].payload["items"].as_array().unwrap().iter().any(|check| check["result"] == "failed"), "{}", first[0].payload);
        assert!(run_module(&mut module, json!({"enabled": true}), state.path(), root.path()).1.is_empty());
        std::fs::write(root.path().join("etc/ssh/sshd_config"), "PermitRootLogin no\n").unwrap();
        assert_eq!(run_module(&mut module, json!({"enabled": true}), state.path(), root.path()).1.len(), 1, "a changed result is sent");
    }
}
