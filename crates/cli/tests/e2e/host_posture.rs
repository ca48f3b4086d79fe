//! `vigil host ...` end to end: SCA, packages and vulnerabilities on a real Debian root built
//! by debootstrap (scripts/debian-root.sh, cached outside the repository; each test works on
//! its own copy with known changes), secrets in files, and bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{run, vigil};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cached Debian root, built on first use; `None` (with a message) when debootstrap cannot
/// run here, unless `VIGIL_REQUIRE_DEBIAN_ROOT` is set, which makes that a failure.
fn debian_root() -> Option<PathBuf> {
    let output = Command::new("bash").arg(repo_root().join("scripts/debian-root.sh")).output().expect("run scripts/debian-root.sh");
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(std::env::var_os("VIGIL_REQUIRE_DEBIAN_ROOT").is_none(), "the Debian root could not be built: {message}");
        eprintln!("skipped: the Debian root could not be built: {message}");
        return None;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// A copy of the root the test may change.
fn copy_of(root: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let status = Command::new("cp").arg("-a").arg(format!("{}/.", root.display())).arg(copy.path()).status().unwrap();
    assert!(status.success());
    copy
}

fn sca(policy: &str, root: &Path) -> Value {
    let (code, stdout, stderr) = run(vigil().args(["host", "sca", "--policy", policy, "--root"]).arg(root).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn check(report: &Value, id: i64) -> &Value {
    report["checks"].as_array().unwrap().iter().find(|check| check["id"] == id).unwrap_or_else(|| panic!("no check {id}"))
}

fn wazuh_debian12() -> Option<String> {
    let path = repo_root().join("../shared/data/sca/cis_debian12.yml");
    if path.is_file() {
        Some(path.display().to_string())
    } else {
        eprintln!("skipped the Wazuh policy part: {} is absent", path.display());
        None
    }
}

#[test]
fn sca_on_a_real_debian_root_names_the_known_changes() {
    let Some(root) = debian_root() else { return };
    let copy = copy_of(&root);
    let pristine_own = sca("vigil-guest-os", copy.path());
    for id in [90001, 90002, 90030] {
        assert_eq!(check(&pristine_own, id)["result"], "passed", "{}", check(&pristine_own, id));
    }
    let pristine_wazuh = wazuh_debian12().map(|policy| sca(&policy, copy.path()));

    // The known changes: sshd permits root login, a world-writable file under /etc.
    let sshd = copy.path().join("etc/ssh/sshd_config");
    let mut config = std::fs::read_to_string(&sshd).unwrap();
    config.push_str("\nPermitRootLogin yes\n");
    std::fs::write(&sshd, config).unwrap();
    let loose = copy.path().join("etc/vigil-loose.conf");
    std::fs::write(&loose, "x\n").unwrap();
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();

    let own = sca("vigil-guest-os", copy.path());
    assert_eq!(own["policy"], "vigil_guest_os");
    let root_login = check(&own, 90002);
    assert_eq!(root_login["result"], "failed");
    assert!(
        root_login["reason"].as_str().unwrap().contains("`/etc/ssh/sshd_config` line")
            && root_login["reason"].as_str().unwrap().contains("`PermitRootLogin yes`"),
        "{root_login}"
    );
    let writable = check(&own, 90030);
    assert_eq!(writable["result"], "failed");
    assert!(writable["reason"].as_str().unwrap().contains("/etc/vigil-loose.conf` has mode 0666"), "{writable}");
    // Unchanged settings keep their result.
    for (before, after) in pristine_own["checks"].as_array().unwrap().iter().zip(own["checks"].as_array().unwrap()) {
        if ![90002, 90030].contains(&after["id"].as_i64().unwrap()) {
            assert_eq!(before["result"], after["result"], "{after}");
        }
    }

    let Some(policy) = wazuh_debian12() else { return };
    let wazuh = sca(&policy, copy.path());
    assert_eq!(wazuh["policy"], "cis_debian12");
    let checks = wazuh["checks"].as_array().unwrap();
    assert!(checks.len() > 150);
    // Wazuh's root-login check reads `sshd -T`: under --root it says why it was not run.
    let permit = checks.iter().find(|check| check["title"].as_str().unwrap().contains("PermitRootLogin")).unwrap();
    assert_eq!(permit["result"], "not applicable");
    assert!(permit["reason"].as_str().unwrap().contains("command rules are not run under --root"), "{permit}");
    // Every not-applicable check says why; file rules were evaluated (some passed, some failed).
    for check in checks {
        assert!(!check["reason"].as_str().unwrap().is_empty(), "{check}");
    }
    let count = |result: &str| checks.iter().filter(|check| check["result"] == result).count();
    assert!(count("passed") > 5 && count("failed") > 5, "passed {}, failed {}", count("passed"), count("failed"));
    // The changes touch nothing the file rules of this policy read: the results are unchanged.
    let pristine_wazuh = pristine_wazuh.unwrap();
    assert_eq!(pristine_wazuh["summary"], wazuh["summary"]);
}

#[test]
fn packages_and_an_old_package_version_on_a_real_debian_root() {
    let Some(root) = debian_root() else { return };
    let (code, stdout, stderr) = run(vigil().args(["host", "packages", "--root"]).arg(&root).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let packages: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert!(packages.len() > 80, "{} packages", packages.len());
    let openssh = packages.iter().find(|package| package["name"] == "openssh-server").expect("openssh-server installed");
    assert_eq!(openssh["manager"], "dpkg");
    let installed = openssh["version"].as_str().unwrap().to_string();

    // Advisories written for this test in the OSV schema: one fixed at the installed version
    // (not vulnerable), one fixed after it.
    let osv = tempfile::tempdir().unwrap();
    let record = |id: &str, fixed: &str| {
        format!(
            r#"{{"id": "{id}", "aliases": ["CVE-2099-{id}"], "affected": [{{"package": {{"ecosystem": "Debian:12", "name": "openssh"}}, "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{fixed}"}}]}}]}}],
                "severity": [{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}}"#
        )
    };
    std::fs::write(osv.path().join("AT-INSTALLED.json"), record("AT-INSTALLED", &installed)).unwrap();
    std::fs::write(osv.path().join("LATER.json"), record("LATER", &format!("{installed}.1"))).unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "vulns", "--root"]).arg(&root).arg("--osv").arg(osv.path()).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let findings: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = findings.iter().filter(|finding| finding["package"] == "openssh-server").map(|finding| finding["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["LATER"]);

    // The known change: an old openssh-server version in a copy's dpkg status.
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(copy.path().join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(copy.path().join("etc")).unwrap();
    std::fs::copy(root.join("etc/os-release"), copy.path().join("etc/os-release")).ok();
    std::fs::copy(root.join("usr/lib/os-release"), copy.path().join("etc/os-release")).ok();
    let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    let old = status.replace(&format!("Version: {installed}\n"), "Version: 1:8.4p1-5\n");
    assert_ne!(old, status);
    std::fs::write(copy.path().join("var/lib/dpkg/status"), old).unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "vulns", "--root"]).arg(copy.path()).arg("--osv").arg(osv.path()).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let findings: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let old_findings: Vec<&Value> = findings.iter().filter(|finding| finding["package"] == "openssh-server").collect();
    assert_eq!(old_findings.len(), 2, "{stdout}");
    let first = old_findings.iter().find(|finding| finding["id"] == "AT-INSTALLED").unwrap();
    assert_eq!(first["installed"], "1:8.4p1-5");
    assert_eq!(first["fixed"], installed.as_str());
    assert_eq!(first["severity"], "high");
    assert_eq!(first["aliases"][0], "CVE-2099-AT-INSTALLED");
}

#[test]
fn secrets_in_files_are_reported_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Zq8/Lm2+Xr7vPq4tKw9sYb3nHc6JdF1eGa5uRo0i";
    std::fs::write(dir.path().join("credentials"), format!("[default]\naws_access_key_id = AKIAQ3EGRZK7TSVNYW4D\naws_secret_access_key = {secret}\n")).unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/settings.env"), "DEBUG=false\nDB_PASSWORD=Tr0ub4dor&3xQ\n").unwrap();
    std::fs::write(dir.path().join("app/clean.txt"), "nothing here\n").unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "secrets"]).arg(dir.path()).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(secret) && !stdout.contains("AKIAQ3EGRZK7TSVNYW4D") && !stdout.contains("Tr0ub4dor&3xQ"), "{stdout}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let summary: Vec<(String, i64, String)> = rows
        .iter()
        .map(|row| {
            (row["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string(), row["line"].as_i64().unwrap(), row["kind"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("settings.env".to_string(), 2, "password_in_config".to_string()),
            ("credentials".to_string(), 2, "aws_access_key_id".to_string()),
            ("credentials".to_string(), 3, "aws_secret_access_key".to_string()),
        ]
    );
    assert!(rows.iter().all(|row| row["redacted"].as_str().unwrap().contains('*')));
}

#[test]
fn bad_input_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("broken.yml");
    std::fs::write(&policy, "policy:\n  id: x\nchecks:\n  - id: 1\n    name: [unclosed\n").unwrap();
    let (code, _, stderr) = run(vigil().args(["host", "sca", "--policy"]).arg(&policy).args(["--root"]).arg(dir.path()));
    assert_eq!(code, 2);
    assert!(stderr.contains(&format!("policy `{}`, line ", policy.display())), "{stderr}");

    // A corrupt dpkg status: the file and line are named, the readable packages are listed.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.path().join("var/lib/dpkg/status"),
        "Package: ok\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\nPackage: broken\nStatus: install ok installed\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "packages", "--root"]).arg(root.path()).args(["--format", "json"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/var/lib/dpkg/status: line 6: package `broken` has no valid `Version:`"), "{stderr}");
    let packages: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(packages.len(), 1);

    // An OSV directory with an unknown field and a malformed record: the good one is used.
    let osv = tempfile::tempdir().unwrap();
    std::fs::write(
        osv.path().join("GOOD.json"),
        r#"{"id": "GOOD", "x_unknown": [1], "affected": [{"package": {"ecosystem": "Debian:12", "name": "ok"}, "versions": ["1.0"]}]}"#,
    )
    .unwrap();
    std::fs::write(osv.path().join("BAD.json"), r#"{"id": "BAD", "affected": 7}"#).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::write(root.path().join("var/lib/dpkg/status"), "Package: ok\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n").unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "vulns", "--root"]).arg(root.path()).arg("--osv").arg(osv.path()).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("BAD.json"), "{stderr}");
    let findings: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["id"], "GOOD");
}
