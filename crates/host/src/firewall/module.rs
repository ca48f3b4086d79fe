//! The `firewall` host module: reads the live host firewall ([`read_live`]: `nft -j list
//! ruleset`, else `iptables-save` and `ip6tables-save`; read-only, it never changes a rule) and
//! reports the parsed [`HostRuleset`] as `ruleset` events only when it changed, so the server
//! joins it with the cloud network's exposure (`vigil_paths::HostFacts::network`).
//!
//! With the `enforce` setting it also enforces a ruleset and shields in vigil's own table, with
//! rollback when the server is not reached after a change ([`super::agent`]); without it, it
//! never changes a rule.
//!
//! Under `--root DIR` the agent reads an image, not a running host: there is no live firewall
//! to read, and the run says so as an error rather than reporting an empty ruleset (which the
//! exposure engine would read as "accepts everything").

use std::path::Path;

use super::{HostRuleset, Nft, read_live};
use crate::module::{Module, ModuleError, Run, Snapshot, WatchSink, Watched};

/// Where the report is: (module, kind).
pub const RULESET_REPORT: (&str, &str) = ("firewall", "ruleset");

/// Chains per event: a chain holds its rules, so a few chains stay well under the event size
/// limit; the head's `chains` count lets the server tell a complete report from a truncated
/// one ([`HostRuleset::to_report`]).
const PER_PART: usize = 4;

/// The firewall-reading module.
#[derive(Debug)]
pub struct FirewallModule {
    nft: Nft,
    snapshot: Snapshot,
    /// The `enforce` setting of the last run (a change runs the module at once).
    enforce_seen: Option<serde_json::Value>,
}

impl Default for FirewallModule {
    fn default() -> Self {
        FirewallModule { nft: Nft::default(), snapshot: Snapshot::new("last-ruleset"), enforce_seen: None }
    }
}

impl FirewallModule {
    /// The module reading the firewall of a network namespace (`ip netns exec NAME ...`): tests
    /// read one they created, never the machine's own.
    pub fn in_namespace(namespace: &str) -> FirewallModule {
        FirewallModule { nft: Nft { netns: Some(namespace.to_string()) }, ..FirewallModule::default() }
    }
}

/// The command a ruleset was read with, by its backend.
fn tool(ruleset: &HostRuleset) -> &'static str {
    if ruleset.backend == "iptables" { "iptables-save" } else { "nft -j list ruleset" }
}

impl Module for FirewallModule {
    fn name(&self) -> &'static str {
        RULESET_REPORT.0
    }

    fn run(&mut self, run: &mut Run<'_>) -> Result<(), ModuleError> {
        if run.root != Path::new("/") {
            return Err(ModuleError::Other(format!(
                "firewall: no live firewall to read under --root `{}` (an image, not a running host); nothing is reported",
                run.root.display()
            )));
        }
        self.enforce_seen = run.settings.raw.get("enforce").cloned();
        // Enforcement first, so the ruleset reported is the one in force after it.
        let enforced = match super::agent::settings(run) {
            Ok(Some(settings)) => super::agent::run(run, &self.nft, &settings),
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        let ruleset = read_live(&self.nft).map_err(|error| ModuleError::Other(format!("firewall: {error}")))?;
        let (head, items) = ruleset.to_report(tool(&ruleset));
        self.snapshot.emit_if_changed(run, RULESET_REPORT.1, head, items, PER_PART);
        enforced
    }

    /// While a change is waiting for the server's confirmation, watches for it (or for its
    /// deadline), and after a rollback for the server's return, and asks for a run at once; a
    /// changed `enforce` setting also runs at once.
    fn watch(&mut self, run: &mut Run<'_>, until: std::time::Instant, sink: &mut dyn WatchSink) -> Result<Watched, ModuleError> {
        let enforce = run.settings.raw.get("enforce").cloned();
        if enforce != self.enforce_seen {
            self.enforce_seen = enforce;
            return Ok(Watched::RunNow);
        }
        if self.enforce_seen.is_none() || super::agent::wants_run(run.state_dir, run.server_contact_ms()).is_none() {
            return Ok(Watched::NotWatching);
        }
        while std::time::Instant::now() < until && sink.active() {
            if super::agent::wants_run(run.state_dir, run.server_contact_ms()) != Some(false) {
                return Ok(Watched::RunNow);
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        Ok(Watched::Ended)
    }

    fn committed(&mut self, state_dir: &Path) -> Result<(), ModuleError> {
        self.snapshot.committed(state_dir)
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use serde_json::json;

    use vigil_net::{Family, Slot};

    use super::*;
    use crate::module::{Emitted, ModuleSettings};

    /// A network namespace made for one test, deleted when dropped.
    struct Netns {
        name: String,
    }

    static NAMESPACES: AtomicUsize = AtomicUsize::new(0);

    impl Netns {
        /// None (the test is skipped, saying why) without `ip`, `nft` or root; with
        /// `VIGIL_REQUIRE_HOST_TOOLS=1` their absence fails the test.
        fn new(test: &str) -> Option<Netns> {
            let name = format!("vigil-fw{}-{}", std::process::id(), NAMESPACES.fetch_add(1, Ordering::SeqCst));
            let added = Command::new("ip").args(["netns", "add", &name]).stderr(Stdio::null()).status().map(|status| status.success()).unwrap_or(false);
            let has_nft = Command::new("nft").arg("--version").output().map(|output| output.status.success()).unwrap_or(false);
            if !added || !has_nft {
                let message = format!("{test}: needs root, `ip` and `nft` (Debian packages: iproute2 nftables)");
                assert!(std::env::var("VIGIL_REQUIRE_HOST_TOOLS").as_deref() != Ok("1"), "{message}, and VIGIL_REQUIRE_HOST_TOOLS=1");
                eprintln!("skipped: {message}");
                if added {
                    let _ = Command::new("ip").args(["netns", "del", &name]).status();
                }
                return None;
            }
            Some(Netns { name })
        }

        fn nft(&self, script: &str) {
            Nft { netns: Some(self.name.clone()) }.apply(script).unwrap();
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
        }
    }

    fn run_module(module: &mut FirewallModule, state: &Path, root: &Path) -> (Result<(), ModuleError>, Vec<Emitted>) {
        let settings = ModuleSettings::from_map(json!({"enabled": true}).as_object().unwrap());
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state, root, &stop);
        let outcome = module.run(&mut run);
        let emitted = run.take_emitted();
        if outcome.is_ok() {
            module.committed(state).unwrap();
        }
        (outcome, emitted)
    }

    fn ruleset_of(emitted: &[Emitted]) -> HostRuleset {
        let head = emitted[0].payload.clone();
        let items: Vec<serde_json::Value> = emitted.iter().flat_map(|event| event.payload["items"].as_array().unwrap().clone()).collect();
        HostRuleset::from_report(&head, &items).unwrap()
    }

    const DROPS_SSH: &str = "table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 22 drop\n }\n}\n";

    #[test]
    fn the_module_reports_the_namespaces_ruleset_when_it_changed_and_only_then() {
        let Some(namespace) = Netns::new("the_module_reports_the_namespaces_ruleset_when_it_changed_and_only_then") else { return };
        namespace.nft(DROPS_SSH);
        let state = tempfile::tempdir().unwrap();
        let mut module = FirewallModule::in_namespace(&namespace.name);
        let (outcome, first) = run_module(&mut module, state.path(), Path::new("/"));
        outcome.unwrap();
        assert!(!first.is_empty());
        assert_eq!((first[0].kind.as_str(), first[0].payload["tool"].as_str()), ("ruleset", Some("nft -j list ruleset")));
        let ruleset = ruleset_of(&first);
        assert_eq!(ruleset.backend, "nftables");
        let accepted = ruleset.accepted(Family::V4);
        assert!(!accepted.contains(Slot::Tcp, 22, 0x0808_0808), "{ruleset:?}");
        assert!(accepted.contains(Slot::Tcp, 443, 0x0808_0808), "{ruleset:?}");

        // Unchanged: nothing is sent, also after a restart.
        let mut restarted = FirewallModule::in_namespace(&namespace.name);
        let (outcome, again) = run_module(&mut restarted, state.path(), Path::new("/"));
        outcome.unwrap();
        assert!(again.is_empty(), "{again:?}");

        // The ruleset changes: port 443 is dropped too.
        namespace.nft("add rule inet filter input tcp dport 443 drop\n");
        let (outcome, changed) = run_module(&mut restarted, state.path(), Path::new("/"));
        outcome.unwrap();
        assert!(!ruleset_of(&changed).accepted(Family::V4).contains(Slot::Tcp, 443, 0x0808_0808));
    }

    #[test]
    fn under_a_root_directory_there_is_no_live_firewall_and_the_run_says_so() {
        let (root, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (outcome, emitted) = run_module(&mut FirewallModule::default(), state.path(), root.path());
        let error = outcome.unwrap_err().to_string();
        assert!(error.contains("no live firewall") && error.contains(&root.path().display().to_string()), "{error}");
        assert!(emitted.is_empty(), "never an empty ruleset: {emitted:?}");
    }

    #[test]
    fn a_ruleset_that_cannot_be_read_is_an_error_naming_the_commands() {
        let state = tempfile::tempdir().unwrap();
        let mut module = FirewallModule::in_namespace("vigil-no-such-namespace");
        let (outcome, emitted) = run_module(&mut module, state.path(), Path::new("/"));
        let error = outcome.unwrap_err().to_string();
        assert!(error.contains("nft and iptables-save"), "{error}");
        assert!(emitted.is_empty());
    }

    #[test]
    fn a_report_missing_chains_or_malformed_is_refused() {
        let ruleset = crate::firewall::parse_text(
            "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 443 -j ACCEPT\nCOMMIT\n",
            "rules.v4",
        )
        .unwrap();
        let (head, items) = ruleset.to_report(tool(&ruleset));
        assert_eq!(head["tool"], "iptables-save");
        assert_eq!(HostRuleset::from_report(&head, &items).unwrap(), ruleset);
        assert!(HostRuleset::from_report(&head, &items[1..]).unwrap_err().contains("announces"));
        let one_chain = json!({"backend": "iptables", "notes": [], "chains": 1});
        assert!(HostRuleset::from_report(&one_chain, &[json!({"nope": 1})]).unwrap_err().contains("malformed"));
        assert!(HostRuleset::from_report(&json!({}), &items).unwrap_err().contains("`chains`"));
    }
}
