//! Firewall enforcement by the agent (the `firewall` module's `enforce` setting): the policy's
//! ruleset ([`FirewallPolicy`]) becomes vigil's `input` chain and the shields in force
//! ([`Shield`]: a vulnerable package's port closed or restricted) its `shield` chain, both in
//! vigil's own table (`inet vigil`) only, applied in one `nft -f` transaction
//! ([`enforce::state_script`]).
//!
//! **Rollback when the server is lost.** After applying, the agent must hear from its server
//! (a successful heartbeat or acknowledged batch, [`Run::server_contact_ms`]) within
//! `confirm_seconds`; otherwise the chains as they were before are restored (what
//! [`enforce::read_state`] recorded just before the change). The pending change is kept in the
//! module's state directory, so an agent restarted meanwhile still confirms or rolls back. A
//! change rolled back is not applied again until the server has been reached after the
//! rollback.
//!
//! `mode: dry-run` (the default) changes nothing: it reports what it would apply, with the
//! diff against the chains as they are. Every change is an event of the `firewall` module:
//! `applied` (`{dry_run, diff, ...}`), `confirmed`, `rolled_back` (`{reason, diff}`),
//! `shielded` and `unshielded` (a shield came into force or was lifted).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Nft;
use super::enforce::{self, Allow, FirewallPolicy, Shield, TableState};
use crate::module::{ModuleError, Run};
use crate::vulns::module::{LATEST_FINDINGS, LatestFindings};

/// The `enforce` setting of the `firewall` module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforceSettings {
    /// `dry-run` (default: report only) or `enforce`.
    #[serde(default = "dry_run")]
    pub mode: String,
    /// Seconds within which the agent must reach its server after a change, else it is rolled
    /// back.
    #[serde(default = "confirm_default")]
    pub confirm_seconds: u64,
    /// The policy: services accepted (see [`FirewallPolicy`]).
    #[serde(default)]
    pub allow: Vec<Allow>,
    #[serde(default)]
    pub default_drop: bool,
    #[serde(default = "yes")]
    pub allow_icmp: bool,
    /// Ports closed or restricted while a package is vulnerable.
    #[serde(default)]
    pub shield: Vec<Shield>,
    /// The lowest severity that holds a shield (`low`, `medium`, `high`, `critical`; `unknown`
    /// counts every finding).
    #[serde(default = "high")]
    pub shield_severity: String,
}

fn dry_run() -> String {
    "dry-run".to_string()
}

fn confirm_default() -> u64 {
    120
}

fn yes() -> bool {
    true
}

fn high() -> String {
    "high".to_string()
}

/// A change applied and not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingChange {
    previous: TableState,
    applied: TableState,
    applied_at_ms: i64,
    deadline_ms: i64,
    previous_shields: BTreeSet<String>,
}

/// What the module keeps about enforcement (`enforcement.json` in its state directory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct EnforcementState {
    /// The chains last applied and confirmed.
    confirmed: Option<TableState>,
    pending: Option<PendingChange>,
    /// A change rolled back, and when: not applied again until the server is reached after.
    rolled_back: Option<(TableState, i64)>,
    /// The last dry-run report (the chains it would apply).
    dry_run_reported: Option<TableState>,
    /// The packages shielded by the chains last applied (or reported in dry-run).
    shields: BTreeSet<String>,
}

fn state_file(state_dir: &Path) -> PathBuf {
    state_dir.join("enforcement.json")
}

fn firewall_error(message: impl std::fmt::Display) -> ModuleError {
    ModuleError::Other(format!("firewall: {message}"))
}

fn load(state_dir: &Path) -> Result<EnforcementState, ModuleError> {
    let path = state_file(state_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| firewall_error(format!("`{}`: {error}", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(EnforcementState::default()),
        Err(error) => Err(firewall_error(format!("cannot read `{}`: {error}", path.display()))),
    }
}

/// Saved at once after every change of the firewall (not at commit: the state describes the
/// kernel's table, which changed whether or not the events were queued).
fn save(state_dir: &Path, state: &EnforcementState) -> Result<(), ModuleError> {
    let (path, partial) = (state_file(state_dir), state_dir.join("enforcement.json.partial"));
    std::fs::write(&partial, serde_json::to_vec_pretty(state).unwrap_or_default())
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|error| firewall_error(format!("cannot write `{}`: {error}", path.display())))
}

/// The lines removed and added in each chain from `before` to `after`.
pub fn diff(before: &TableState, after: &TableState) -> serde_json::Value {
    let chain = |before: &str, after: &str| {
        let (old, new): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
        json!({
            "removed": old.iter().filter(|line| !new.contains(line)).collect::<Vec<_>>(),
            "added": new.iter().filter(|line| !old.contains(line)).collect::<Vec<_>>(),
        })
    };
    json!({"input": chain(&before.input, &after.input), "shield": chain(&before.shield, &after.shield)})
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

/// Why a shield holds: the findings at or above the threshold that the installed version still
/// has.
fn shield_reasons(shield: &Shield, latest: &LatestFindings, packages: &[crate::packages::Package], threshold: crate::vulns::Level) -> Vec<String> {
    let Some(package) = packages.iter().find(|package| package.name == shield.package) else { return Vec::new() };
    latest
        .findings
        .iter()
        .filter(|finding| finding.package == shield.package)
        .filter(|finding| crate::vulns::Level::named(&finding.severity).is_some_and(|level| level >= threshold))
        .filter(|finding| {
            let installed = if finding.source.is_some() { package.source_version() } else { package.version.as_str() };
            match &finding.fixed {
                // Patched since the match ran: the installed version reached the fix.
                Some(fixed) => crate::versions::compare(package.manager.scheme(), installed, fixed).is_lt(),
                None => true,
            }
        })
        .map(|finding| format!("{} ({})", finding.id, finding.severity))
        .collect()
}

/// The shields in force now, with their reasons; problems (no vulnerability result to decide
/// on) keep a shield as it was, and are reported.
fn shields_in_force(
    run: &Run<'_>,
    settings: &EnforceSettings,
    previous: &BTreeSet<String>,
    problems: &mut Vec<String>,
) -> Result<Vec<(Shield, Vec<String>)>, ModuleError> {
    if settings.shield.is_empty() {
        return Ok(Vec::new());
    }
    let threshold = crate::vulns::Level::named(&settings.shield_severity)
        .ok_or_else(|| firewall_error(format!("`shield_severity` is `{}`: use low, medium, high or critical", settings.shield_severity)))?;
    let path = run.module_state_dir("vulns").join(LATEST_FINDINGS);
    let latest: Option<LatestFindings> = match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(latest) => Some(latest),
            Err(error) => {
                problems.push(format!("shield: `{}`: {error}", path.display()));
                None
            }
        },
        Err(error) => {
            problems.push(format!(
                "shield: the `vulns` module has published no findings (`{}`: {error}); enable it so shields follow the host's vulnerabilities (shields keep their state meanwhile)",
                path.display()
            ));
            None
        }
    };
    let packages = crate::packages::inventory(&run.host_root()).packages;
    let mut active = Vec::new();
    for shield in &settings.shield {
        match &latest {
            Some(latest) => {
                let reasons = shield_reasons(shield, latest, &packages, threshold);
                if !reasons.is_empty() {
                    active.push((shield.clone(), reasons));
                }
            }
            None if previous.contains(&shield.package) => active.push((shield.clone(), vec!["kept: no vulnerability result to decide on".to_string()])),
            None => {}
        }
    }
    Ok(active)
}

/// Runs enforcement for one run of the `firewall` module: confirms or rolls back a pending
/// change, else applies (or reports, in dry-run) the chains the settings want.
pub fn run(run: &mut Run<'_>, nft: &Nft, settings: &EnforceSettings) -> Result<(), ModuleError> {
    let dry_run = match settings.mode.as_str() {
        "dry-run" => true,
        "enforce" => false,
        other => return Err(firewall_error(format!("`enforce.mode` is `{other}`: use `dry-run` or `enforce`"))),
    };
    let mut state = load(run.state_dir)?;
    let now = now_ms();
    if let Some(pending) = state.pending.clone() {
        let contact = run.server_contact_ms().unwrap_or(0);
        if contact > pending.applied_at_ms {
            state.confirmed = Some(pending.applied.clone());
            state.pending = None;
            save(run.state_dir, &state)?;
            run.emit(
                "confirmed",
                format!("confirmed:{}", pending.applied_at_ms),
                json!({"applied_at": rfc3339(pending.applied_at_ms), "server_reached_at": rfc3339(contact), "dry_run": false}),
            );
        } else if now >= pending.deadline_ms {
            let before = enforce::read_state(nft).map_err(firewall_error)?;
            nft.apply(&enforce::state_script(&pending.previous)).map_err(|error| firewall_error(format!("rollback failed: {error}")))?;
            let after = enforce::read_state(nft).map_err(firewall_error)?;
            state.rolled_back = Some((pending.applied.clone(), now));
            state.shields = pending.previous_shields.clone();
            state.pending = None;
            save(run.state_dir, &state)?;
            let seconds = (pending.deadline_ms - pending.applied_at_ms) / 1000;
            run.emit(
                "rolled_back",
                format!("rolled_back:{}", pending.applied_at_ms),
                json!({
                    "reason": format!("the server was not reached within {seconds} s of the change applied at {}", rfc3339(pending.applied_at_ms)),
                    "applied_at": rfc3339(pending.applied_at_ms), "diff": diff(&before, &after), "restored": after, "dry_run": false,
                }),
            );
            return Ok(());
        } else {
            // Waiting for the server (the module's watch wakes the run when it answers or time is up).
            return Ok(());
        }
    }

    let mut problems = Vec::new();
    let policy = FirewallPolicy { allow: settings.allow.clone(), default_drop: settings.default_drop, allow_icmp: settings.allow_icmp };
    let active = shields_in_force(run, settings, &state.shields, &mut problems)?;
    let shields: Vec<Shield> = active.iter().map(|(shield, _)| shield.clone()).collect();
    let desired = TableState { input: enforce::render(&policy).map_err(firewall_error)?, shield: enforce::render_shields(&shields).map_err(firewall_error)? };
    let shielded: BTreeSet<String> = shields.iter().map(|shield| shield.package.clone()).collect();
    let reasons: BTreeMap<&str, &Vec<String>> = active.iter().map(|(shield, reasons)| (shield.package.as_str(), reasons)).collect();
    let shield_events = |run: &mut Run<'_>, previous: &BTreeSet<String>, id: &str| {
        for shield in &settings.shield {
            let (was, is) = (previous.contains(&shield.package), shielded.contains(&shield.package));
            if was == is {
                continue;
            }
            let kind = if is { "shielded" } else { "unshielded" };
            run.emit(
                kind,
                format!("{kind}:{}:{id}", shield.package),
                json!({
                    "package": shield.package, "ports": shield.all_ports(), "protocol": shield.protocol, "allow": shield.allow,
                    "findings": reasons.get(shield.package.as_str()), "severity_threshold": settings.shield_severity, "dry_run": dry_run,
                }),
            );
        }
    };

    if (dry_run || state.confirmed.as_ref() == Some(&desired)) && state.rolled_back.is_some() {
        // Nothing rolled back is waiting to be applied again any more.
        state.rolled_back = None;
        save(run.state_dir, &state)?;
    }
    if dry_run {
        if state.dry_run_reported.as_ref() != Some(&desired) {
            let current = enforce::read_state(nft).map_err(firewall_error)?;
            let id = format!("{now}");
            run.emit(
                "applied",
                format!("dry-run:{id}"),
                json!({"dry_run": true, "mode": "dry-run", "would_apply": desired, "diff": diff(&current, &desired), "confirm_seconds": settings.confirm_seconds}),
            );
            let previous = std::mem::replace(&mut state.shields, shielded.clone());
            shield_events(run, &previous, &id);
            state.dry_run_reported = Some(desired);
            save(run.state_dir, &state)?;
        }
    } else if state.confirmed.as_ref() != Some(&desired) {
        let contact = run.server_contact_ms();
        match (&state.rolled_back, contact) {
            (_, None) => problems.push("enforcement needs the agent (a server to confirm the change), so nothing was applied".to_string()),
            (Some((rolled_back, at)), Some(contact)) if *rolled_back == desired && contact <= *at => problems.push(format!(
                "the change was rolled back at {} because the server was not reached in time; it is applied again once the server answers",
                rfc3339(*at)
            )),
            (_, Some(_)) => {
                let before = enforce::read_state(nft).map_err(firewall_error)?;
                nft.apply(&enforce::state_script(&desired)).map_err(firewall_error)?;
                let after = enforce::read_state(nft).map_err(firewall_error)?;
                let applied_at_ms = now_ms();
                let deadline_ms = applied_at_ms.saturating_add((settings.confirm_seconds as i64).saturating_mul(1000));
                let previous_shields = std::mem::replace(&mut state.shields, shielded.clone());
                state.pending =
                    Some(PendingChange { previous: before.clone(), applied: desired, applied_at_ms, deadline_ms, previous_shields: previous_shields.clone() });
                state.rolled_back = None;
                save(run.state_dir, &state)?;
                run.emit(
                    "applied",
                    format!("applied:{applied_at_ms}"),
                    json!({
                        "dry_run": false, "mode": "enforce", "diff": diff(&before, &after), "applied": after,
                        "confirm_seconds": settings.confirm_seconds, "confirm_by": rfc3339(deadline_ms),
                    }),
                );
                shield_events(run, &previous_shields, &applied_at_ms.to_string());
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(firewall_error(problems.join("; "))) }
}

/// Whether enforcement needs a run now: `Some(true)` when a pending change is decided (the
/// server answered after it, or its time is up) or a change rolled back can be applied again
/// (the server answered after the rollback); `Some(false)` while waiting for either; `None`
/// when nothing waits.
pub fn wants_run(state_dir: &Path, contact_ms: Option<i64>) -> Option<bool> {
    let state = load(state_dir).ok()?;
    let contact = contact_ms.unwrap_or(0);
    if let Some(pending) = state.pending {
        return Some(contact > pending.applied_at_ms || now_ms() >= pending.deadline_ms);
    }
    let (_, rolled_back_at) = state.rolled_back?;
    Some(contact > rolled_back_at)
}

/// The `enforce` setting, checked: `None` when absent; unknown fields are errors naming them.
pub fn settings(run: &Run<'_>) -> Result<Option<EnforceSettings>, ModuleError> {
    match run.settings.raw.get("enforce") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone()).map(Some).map_err(|error| firewall_error(format!("`enforce`: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

    use vigil_testkit::netns::{Netns, host_tools, wait_for};

    use super::*;
    use crate::module::{Emitted, ModuleSettings};

    /// One run of enforcement with `settings` (the `firewall` module's), the server last reached
    /// at `contact`.
    fn enforce(nft: &Nft, state: &Path, settings: serde_json::Value, contact: &AtomicI64) -> (Result<(), ModuleError>, Vec<Emitted>) {
        let settings = ModuleSettings::from_map(settings.as_object().unwrap());
        let stop = AtomicBool::new(false);
        let mut run = Run::new(&settings, state, Path::new("/"), &stop).with_contact(contact);
        let enforce = super::settings(&run).unwrap().unwrap();
        let outcome = super::run(&mut run, nft, &enforce);
        (outcome, run.take_emitted())
    }

    fn kinds(emitted: &[Emitted]) -> Vec<&str> {
        emitted.iter().map(|event| event.kind.as_str()).collect()
    }

    fn namespace(test: &str) -> Option<(Netns, Nft, tempfile::TempDir)> {
        if !host_tools(test, &["ip", "nft"]) {
            return None;
        }
        let netns = Netns::new();
        let nft = Nft { netns: Some(netns.name.clone()) };
        let state = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(state.path().join("firewall")).unwrap();
        Some((netns, nft, state))
    }

    #[test]
    fn a_change_the_server_does_not_confirm_in_time_is_rolled_back_and_applied_again_once_it_answers() {
        let Some((netns, nft, dir)) = namespace("a_change_the_server_does_not_confirm_in_time_is_rolled_back") else { return };
        let state = dir.path().join("firewall");
        let settings = json!({"enabled": true, "enforce": {
            "mode": "enforce", "confirm_seconds": 1, "allow": [{"protocol": "tcp", "ports": [22], "sources": ["10.0.0.0/8"]}], "default_drop": true}});
        let input = || netns.nft_list(&["chain", "inet", "vigil", "input"]);
        let contact = AtomicI64::new(chrono::Utc::now().timestamp_millis() - 10_000);
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert_eq!(kinds(&emitted), ["applied"]);
        assert!(input().contains("10.0.0.0/8") && input().contains("drop"), "{}", input());
        // Waiting for the server: nothing happens before the deadline.
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert!(emitted.is_empty() || kinds(&emitted) == ["rolled_back"], "{emitted:?}");
        if emitted.is_empty() {
            assert!(wait_for(std::time::Duration::from_secs(20), || wants_run(&state, Some(contact.load(Ordering::Relaxed))) == Some(true)));
            let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
            outcome.unwrap();
            assert_eq!(kinds(&emitted), ["rolled_back"]);
            assert!(emitted[0].payload["diff"]["input"]["removed"].to_string().contains("10.0.0.0/8"), "{}", emitted[0].payload);
        }
        assert!(!input().contains("10.0.0.0/8"), "rolled back: {}", input());
        // Not applied again while the server stays silent, and the run says why.
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        assert!(outcome.unwrap_err().to_string().contains("rolled back"), "the health says why");
        assert!(emitted.is_empty() && !input().contains("10.0.0.0/8"));
        assert_eq!(wants_run(&state, Some(contact.load(Ordering::Relaxed))), Some(false));
        // The server answers: applied again, then confirmed by the next contact.
        contact.store(chrono::Utc::now().timestamp_millis() + 1, Ordering::Relaxed);
        assert_eq!(wants_run(&state, Some(contact.load(Ordering::Relaxed))), Some(true));
        std::thread::sleep(std::time::Duration::from_millis(5));
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert_eq!(kinds(&emitted), ["applied"]);
        contact.store(chrono::Utc::now().timestamp_millis() + 1_000, Ordering::Relaxed);
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert_eq!(kinds(&emitted), ["confirmed"]);
        assert!(input().contains("10.0.0.0/8"));
        let (outcome, emitted) = enforce(&nft, &state, settings, &contact);
        outcome.unwrap();
        assert!(emitted.is_empty(), "confirmed and unchanged: nothing more");
        assert_eq!(wants_run(&state, Some(contact.load(Ordering::Relaxed))), None);
    }

    #[test]
    fn dry_run_reports_what_it_would_apply_once_and_changes_nothing() {
        let Some((netns, nft, dir)) = namespace("dry_run_reports_what_it_would_apply_once_and_changes_nothing") else { return };
        let state = dir.path().join("firewall");
        let contact = AtomicI64::new(0);
        let settings = json!({"enabled": true, "enforce": {"allow": [{"protocol": "tcp", "ports": [443]}], "default_drop": true}});
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert_eq!(kinds(&emitted), ["applied"]);
        assert_eq!((emitted[0].payload["dry_run"].as_bool(), emitted[0].payload["mode"].as_str()), (Some(true), Some("dry-run")));
        assert!(emitted[0].payload["diff"]["input"]["added"].to_string().contains("443"), "{}", emitted[0].payload);
        assert!(!netns.nft_list(&["tables"]).contains("vigil"), "dry-run creates nothing");
        assert!(enforce(&nft, &state, settings, &contact).1.is_empty(), "reported once");
        let bad = json!({"enabled": true, "enforce": {"mode": "always"}});
        assert!(enforce(&nft, &state, bad, &contact).0.unwrap_err().to_string().contains("`enforce.mode`"));
    }

    /// The machine's own `openssh-server` (read-only, from its dpkg database) with a finding of
    /// the `vulns` module written by the test.
    #[test]
    fn a_shield_closes_the_port_while_the_package_is_vulnerable_and_is_lifted_once_patched() {
        let Some((netns, nft, dir)) = namespace("a_shield_closes_the_port_while_the_package_is_vulnerable") else { return };
        let packages = crate::packages::inventory(&crate::fsroot::HostRoot::live()).packages;
        let Some(sshd) = packages.iter().find(|package| package.name == "openssh-server") else {
            assert!(std::env::var("VIGIL_REQUIRE_HOST_TOOLS").as_deref() != Ok("1"), "openssh-server is not installed");
            eprintln!("skipped: openssh-server is not installed");
            return;
        };
        let state = dir.path().join("firewall");
        std::fs::create_dir_all(dir.path().join("vulns")).unwrap();
        let publish = |fixed: &str, severity: &str| {
            let latest = LatestFindings {
                time: "2026-12-06T00:00:00Z".into(),
                findings: vec![crate::vulns::module::LatestFinding {
                    id: "DSA-0001-1".into(),
                    package: "openssh-server".into(),
                    source: sshd.source.clone(),
                    installed: sshd.source_version().to_string(),
                    fixed: Some(fixed.to_string()),
                    severity: severity.into(),
                }],
            };
            std::fs::write(dir.path().join("vulns").join(LATEST_FINDINGS), serde_json::to_vec(&latest).unwrap()).unwrap();
        };
        let settings = json!({"enabled": true, "enforce": {"mode": "enforce", "confirm_seconds": 600,
            "shield": [{"package": "openssh-server", "port": 22, "allow": ["10.0.0.0/8"], "while": "vulnerable"}]}});
        let contact = AtomicI64::new(0);
        let shield = || netns.nft_list(&["chain", "inet", "vigil", "shield"]);
        let confirm = |contact: &AtomicI64| contact.store(chrono::Utc::now().timestamp_millis() + 1_000, Ordering::Relaxed);

        // No result from `vulns` yet: an error saying so, and no shield.
        let (outcome, _) = enforce(&nft, &state, settings.clone(), &contact);
        assert!(outcome.unwrap_err().to_string().contains("published no findings"));
        confirm(&contact);
        let (_, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        assert_eq!(kinds(&emitted), ["confirmed"], "the policy's input chain is applied all the same");
        assert!(!shield().contains("dport 22"), "{}", shield());

        // A high finding whose fix is above the installed version: the port is closed but to 10/8.
        publish(&format!("{}+vigil1", sshd.source_version()), "high");
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert_eq!(kinds(&emitted), ["applied", "shielded"], "{emitted:#?}");
        assert_eq!(emitted[1].payload["findings"], json!(["DSA-0001-1 (high)"]));
        assert!(shield().contains("10.0.0.0/8") && shield().contains("dport 22") && shield().contains("drop"), "{}", shield());
        confirm(&contact);
        assert_eq!(kinds(&enforce(&nft, &state, settings.clone(), &contact).1), ["confirmed"]);

        // Patched: the installed version reached the fix, and the shield is lifted.
        publish("1:0", "high");
        let (outcome, emitted) = enforce(&nft, &state, settings.clone(), &contact);
        outcome.unwrap();
        assert_eq!(kinds(&emitted), ["applied", "unshielded"], "{emitted:#?}");
        assert!(!shield().contains("dport 22"), "{}", shield());
        confirm(&contact);
        enforce(&nft, &state, settings.clone(), &contact).0.unwrap();

        // Below the severity threshold: no shield.
        publish(&format!("{}+vigil1", sshd.source_version()), "medium");
        let (outcome, emitted) = enforce(&nft, &state, settings, &contact);
        outcome.unwrap();
        assert!(emitted.is_empty(), "{emitted:#?}");
        assert!(!shield().contains("dport 22"));
    }
}
