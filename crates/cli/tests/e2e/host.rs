//! End-to-end tests of `vigil host`: file integrity against AIDE on generated trees, malware
//! scans, the host firewall joined to `vigil reach`, enforcement with rollback and active
//! response against a real sshd, all inside temporary directories and network namespaces
//! created here (never the machine's own firewall or services).
//!
//! Tests that need root, `ip netns`, nft, aide or sshd say so and return when those are
//! missing, except under `VIGIL_REQUIRE_HOST_TOOLS=1` (set by scripts/test.sh where the tools
//! are installed, so CI fails instead of skipping).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use vigil_testkit::netns::{Killed, Netns, Sshd, host_tools, ssh_banner, wait_for};

use crate::common::{run, vigil};

fn write(root: &Path, inner: &str, text: &str) {
    let path = root.join(inner.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A generated tree: configuration files, binaries, links, nested directories.
fn generate_tree(root: &Path) {
    for index in 0..40 {
        write(root, &format!("/etc/app{}/conf{index}.cfg", index % 4), &format!("setting = {index}\n"));
        write(root, &format!("/usr/bin/tool{index}"), &format!("#!/bin/sh\necho {index}\n"));
    }
    write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    write(root, "/etc/shadow", "root:*:19000:0:99999:7:::\n");
    write(root, "/etc/hosts", "127.0.0.1 localhost\n");
    std::os::unix::fs::symlink("/usr/bin/tool1", root.join("usr/bin/link1")).unwrap();
    std::os::unix::fs::symlink("tool2", root.join("usr/bin/link2")).unwrap();
}

/// Created, deleted, modified (same size), permission-changed, owner-changed, group-changed,
/// replaced-by-symlink, symlink retargeted; returns the expected (path, change, fields).
fn change_tree(root: &Path) -> BTreeMap<String, (String, Vec<String>)> {
    let mut expected = BTreeMap::new();
    let mut expect = |path: &str, change: &str, fields: &[&str]| {
        expected.insert(path.to_string(), (change.to_string(), fields.iter().map(|field| field.to_string()).collect()));
    };
    write(root, "/etc/cron.d/backdoor", "* * * * * root /tmp/x\n");
    expect("/etc/cron.d", "added", &[]);
    expect("/etc/cron.d/backdoor", "added", &[]);
    std::fs::remove_file(root.join("usr/bin/tool7")).unwrap();
    expect("/usr/bin/tool7", "removed", &[]);
    write(root, "/etc/hosts", "127.0.0.2 localhost\n");
    expect("/etc/hosts", "modified", &["content"]);
    std::fs::set_permissions(root.join("usr/bin/tool3"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    expect("/usr/bin/tool3", "modified", &["mode"]);
    std::os::unix::fs::chown(root.join("etc/shadow"), Some(1000), None).unwrap();
    expect("/etc/shadow", "modified", &["owner"]);
    std::os::unix::fs::chown(root.join("etc/app1/conf1.cfg"), None, Some(1000)).unwrap();
    expect("/etc/app1/conf1.cfg", "modified", &["group"]);
    std::fs::remove_file(root.join("etc/passwd")).unwrap();
    std::os::unix::fs::symlink("/tmp/passwd", root.join("etc/passwd")).unwrap();
    expect("/etc/passwd", "modified", &["type"]);
    std::fs::remove_file(root.join("usr/bin/link2")).unwrap();
    std::os::unix::fs::symlink("tool9", root.join("usr/bin/link2")).unwrap();
    expect("/usr/bin/link2", "modified", &["target"]);
    expected
}

fn fim_check(tree: &Path, database: &Path) -> Vec<Value> {
    let (code, stdout, stderr) = run(vigil().args(["host", "fim", "check", "--root"]).arg(tree).arg("--db").arg(database).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str::<Value>(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}")).as_array().unwrap().clone()
}

fn summarise(changes: &[Value]) -> BTreeMap<String, (String, Vec<String>)> {
    changes
        .iter()
        .map(|change| {
            let fields = change["fields"].as_array().unwrap().iter().map(|field| field.as_str().unwrap().to_string()).collect();
            (change["path"].as_str().unwrap().to_string(), (change["change"].as_str().unwrap().to_string(), fields))
        })
        .collect()
}

#[test]
fn fim_baseline_and_check_follow_the_json_contract() {
    let tree = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    generate_tree(tree.path());
    let database = state.path().join("fim.db");
    let (code, _, stderr) = run(vigil().args(["host", "fim", "baseline", "--root"]).arg(tree.path()).arg("--db").arg(&database));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fim_check(tree.path(), &database), Vec::<Value>::new());
    let expected = change_tree(tree.path());
    let changes = fim_check(tree.path(), &database);
    assert_eq!(summarise(&changes), expected);
    for change in &changes {
        assert!(change["path"].as_str().unwrap().starts_with('/'));
    }
    // A check does not move the baseline.
    assert_eq!(summarise(&fim_check(tree.path(), &database)), expected);
    // A database that is not a baseline is a clear error.
    let other = state.path().join("other.db");
    std::fs::write(&other, "not sqlite").unwrap();
    let (code, _, stderr) = run(vigil().args(["host", "fim", "check", "--root"]).arg(tree.path()).arg("--db").arg(&other).args(["--format", "json"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("other.db"), "{stderr}");
}

/// AIDE's report: path -> (added|removed|modified, fields in vigil's names).
fn aide_report(text: &str, prefix: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut report: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut section = "";
    let mut current: Option<String> = None;
    for line in text.lines() {
        match line.trim() {
            "Added entries:" => section = "added",
            "Removed entries:" => section = "removed",
            "Changed entries:" => section = "modified",
            "Detailed information about changes:" => section = "detail",
            "The attributes of the (uncompressed) database(s):" => section = "end",
            _ => {}
        }
        if let Some((_, path)) = line.split_once(": ").filter(|_| matches!(section, "added" | "removed" | "modified"))
            && let Some(inner) = path.strip_prefix(prefix)
        {
            let inner = if inner.is_empty() { "/".to_string() } else { inner.to_string() };
            report.insert(inner, (section.to_string(), Vec::new()));
        }
        if section == "detail" {
            if let Some(path) = line.strip_prefix("File: ").or_else(|| line.strip_prefix("Link: ")).or_else(|| line.strip_prefix("Directory: ")) {
                current = path.trim().strip_prefix(prefix).map(str::to_string);
            } else if let (Some(path), Some((name, _))) = (&current, line.trim_start().split_once(" : ")) {
                let field = match name.trim() {
                    "Uid" => "owner",
                    "Gid" => "group",
                    "Perm" => "mode",
                    "SHA256" => "content",
                    "File type" => "type",
                    "Lname" => "target",
                    _ => continue,
                };
                if let Some(entry) = report.get_mut(path)
                    && !entry.1.contains(&field.to_string())
                {
                    entry.1.push(field.to_string());
                }
            }
        }
    }
    for entry in report.values_mut() {
        // vigil does not compare a symlink's mode (always 0777); AIDE lists it with the type change.
        if entry.1.contains(&"type".to_string()) {
            entry.1.retain(|field| field != "mode");
        }
        entry.1.sort_by_key(|field| ["content", "mode", "owner", "group", "type", "target"].iter().position(|known| known == field));
    }
    report
}

#[test]
fn fim_detects_exactly_what_aide_detects_on_a_generated_tree() {
    if !host_tools("fim_detects_exactly_what_aide_detects_on_a_generated_tree", &["aide"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    generate_tree(&tree);
    let prefix = tree.display().to_string();
    // AIDE with its own configuration, at the same hash (SHA-256), over the same attributes.
    let config = work.path().join("aide.conf");
    std::fs::write(
        &config,
        format!(
            "database_in=file:{dir}/aide.db\ndatabase_out=file:{dir}/aide.db\ngzip_dbout=no\nreport_url=stdout\nreport_level=list_entries\nRules = ftype+p+u+g+sha256+l\n{prefix} Rules\n",
            dir = work.path().display()
        ),
    )
    .unwrap();
    let output = Command::new("aide").arg("--init").arg("-c").arg(&config).output().unwrap();
    assert!(output.status.success(), "aide --init: {}", String::from_utf8_lossy(&output.stderr));
    let database = work.path().join("vigil.db");
    let (code, _, stderr) = run(vigil().args(["host", "fim", "baseline", "--hash", "sha256", "--root"]).arg(&tree).arg("--db").arg(&database));
    assert_eq!(code, 0, "{stderr}");
    let expected = change_tree(&tree);
    let output = Command::new("aide").arg("--check").arg("-c").arg(&config).output().unwrap();
    let aide = aide_report(&String::from_utf8_lossy(&output.stdout), &prefix);
    // Directories whose entries changed show in AIDE only through their mtime and size,
    // which this configuration (like vigil's fields) leaves out.
    let vigil = summarise(&fim_check(&tree, &database));
    assert_eq!(vigil, expected, "vigil");
    assert_eq!(aide, expected, "AIDE saw: {}", String::from_utf8_lossy(&output.stdout));
}

/// The EICAR test file, assembled at run time so that the repository holds no copy.
fn eicar() -> Vec<u8> {
    ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*"].concat().into_bytes()
}

#[test]
fn malware_scan_finds_eicar_with_the_builtin_rules_alone() {
    let files = tempfile::tempdir().unwrap();
    std::fs::create_dir(files.path().join("sub")).unwrap();
    std::fs::write(files.path().join("sub/eicar.com"), eicar()).unwrap();
    std::fs::write(files.path().join("clean.txt"), "hello").unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "malware", "scan"]).arg(files.path()).args(["--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let detections: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(detections.len(), 1, "{stdout}");
    assert_eq!(detections[0]["path"], files.path().join("sub/eicar.com").display().to_string());
    assert_eq!(detections[0]["rule"], "vigil_eicar_test_file");
    assert_eq!(detections[0]["sha256"], "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
}

#[test]
fn malware_scan_with_a_malformed_rule_reports_it_and_still_scans_with_the_rest() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("broken.yar"), "rule broken { condition: $nope }").unwrap();
    std::fs::write(rules.path().join("hello.hsb"), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824:5:Hello-Test\n").unwrap();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("hello"), "hello").unwrap();
    std::fs::write(files.path().join("eicar"), eicar()).unwrap();
    let (code, stdout, stderr) = run(vigil().args(["host", "malware", "scan"]).arg(files.path()).arg("--rules").arg(rules.path()).args(["--format", "json"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("broken.yar") && stderr.contains("$nope"), "{stderr}");
    let rules: BTreeSet<String> =
        serde_json::from_str::<Vec<Value>>(&stdout).unwrap().iter().map(|detection| detection["rule"].as_str().unwrap().to_string()).collect();
    assert_eq!(rules, ["Hello-Test".to_string(), "vigil_eicar_test_file".to_string()].into_iter().collect());
}

#[test]
fn reach_with_a_host_firewall_that_drops_ssh_reports_it_not_exposed_and_names_the_hop() {
    if !host_tools("reach_with_a_host_firewall_that_drops_ssh_reports_it_not_exposed_and_names_the_hop", &["ip", "nft"]) {
        return;
    }
    // The demo account's instance: its security group opens 22 and 443 to the world.
    let (code, stdout, stderr) = run(vigil().args(["reach", "--demo", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    // The demo account's one instance (its id changes when the demo snapshot is regenerated).
    let instances: Vec<&str> = rows.iter().filter(|row| row["resource_type"] == "instance").filter_map(|row| row["resource_id"].as_str()).collect();
    assert_eq!(instances.len(), 1, "{stdout}");
    let demo_instance = instances[0].to_string();
    let ports =
        |rows: &[Value]| -> Vec<Value> { rows.iter().filter(|row| row["resource_id"] == demo_instance.as_str()).map(|row| row["ports"].clone()).collect() };
    assert_eq!(ports(&rows), [serde_json::json!([[22, 22], [443, 443]])]);

    // Its host firewall, as `nft -j list ruleset` prints it in a namespace: 22 only from an office.
    let namespace = Netns::new();
    namespace.nft(
        "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  iif lo accept\n  ip saddr 203.0.113.0/24 tcp dport 22 accept\n  tcp dport 443 accept\n }\n}\n",
    );
    let ruleset = namespace.exec(&["nft", "-j", "list", "ruleset"]);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("web.json");
    std::fs::write(&file, ruleset).unwrap();
    let firewall = format!("{demo_instance}={}", file.display());

    let (code, stdout, stderr) = run(vigil().args(["reach", "--demo", "--format", "json", "--host-firewall", &firewall]));
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let mine: Vec<&Value> = rows.iter().filter(|row| row["resource_id"] == demo_instance.as_str()).collect();
    let by_port: BTreeMap<String, Value> = mine.iter().map(|row| (row["ports"].to_string(), row["sources"].clone())).collect();
    assert_eq!(by_port.get("[[443,443]]"), Some(&serde_json::json!(["0.0.0.0/0"])), "{stdout}");
    assert_eq!(by_port.get("[[22,22]]"), Some(&serde_json::json!(["203.0.113.0/24"])), "{stdout}");

    let (code, stdout, stderr) = run(vigil().args([
        "reach",
        "explain",
        &demo_instance,
        "--port",
        "22",
        "--source",
        "198.51.100.0/24",
        "--demo",
        "--format",
        "json",
        "--host-firewall",
        &firewall,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["reachable"], false, "{stdout}");
    let blocked = &answer["endpoints"][0]["blocked_by"];
    assert_eq!(blocked["kind"], "host-firewall", "{stdout}");
    assert_eq!(blocked["id"], demo_instance.as_str());
    assert!(blocked["detail"].as_str().unwrap().contains("policy drop"), "{stdout}");
    // The security group hop before it admitted the packet.
    let path = answer["endpoints"][0]["path"].as_array().unwrap();
    assert!(path.iter().any(|hop| hop["kind"] == "security-group" && hop["allowed"] == true), "{stdout}");
    let (code, stdout, _) =
        run(vigil().args(["reach", "explain", demo_instance.as_str(), "--port", "443", "--demo", "--format", "json", "--host-firewall", &firewall]));
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap()["reachable"], true, "{stdout}");
}

#[test]
fn firewall_apply_rolls_back_when_not_confirmed_and_never_touches_other_tables() {
    if !host_tools("firewall_apply_rolls_back_when_not_confirmed_and_never_touches_other_tables", &["ip", "nft"]) {
        return;
    }
    let namespace = Netns::new();
    namespace.nft("table inet theirs {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 8080 drop\n }\n}\n");
    let theirs_before = namespace.exec(&["nft", "list", "table", "inet", "theirs"]);
    let work = tempfile::tempdir().unwrap();
    let policy = work.path().join("policy.yaml");
    std::fs::write(&policy, "allow:\n  - protocol: tcp\n    ports: [22]\n    sources: [203.0.113.0/24]\ndefault_drop: true\n").unwrap();
    // Not confirmed (no `yes` on standard input) within 2 s: rolled back to the empty chain.
    let (code, _, stderr) =
        run(vigil().args(["host", "firewall", "apply"]).arg(&policy).args(["--confirm-within", "2", "--netns", &namespace.name]).stdin(Stdio::null()));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("rolled back"), "{stderr}");
    let chain = namespace.exec(&["nft", "list", "chain", "inet", "vigil", "input"]);
    assert!(!chain.contains("dport 22") && !chain.contains("drop"), "{chain}");
    // Confirmed: kept, and shown by `firewall show`.
    let (code, _, stderr) = run(vigil().args(["host", "firewall", "apply"]).arg(&policy).args(["--yes", "--netns", &namespace.name]));
    assert_eq!(code, 0, "{stderr}");
    let chain = namespace.exec(&["nft", "list", "chain", "inet", "vigil", "input"]);
    assert!(chain.contains("203.0.113.0/24") && chain.contains("drop"), "{chain}");
    let (code, stdout, stderr) = run(vigil().args(["host", "firewall", "show", "--format", "json", "--netns", &namespace.name]));
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["backend"], "nftables");
    let tcp_v4: Vec<&Value> = shown["accepted"].as_array().unwrap().iter().filter(|row| row["family"] == "v4" && row["protocol"] == "tcp").collect();
    assert_eq!(tcp_v4.len(), 1, "{stdout}");
    assert_eq!(tcp_v4[0]["ports"], serde_json::json!([[22, 22]]));
    assert_eq!(tcp_v4[0]["sources"], serde_json::json!(["203.0.113.0/24"]));
    // The other table is exactly as it was; removing vigil's leaves it too.
    assert_eq!(namespace.exec(&["nft", "list", "table", "inet", "theirs"]), theirs_before);
    let (code, _, stderr) = run(vigil().args(["host", "firewall", "remove", "--netns", &namespace.name]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(namespace.exec(&["nft", "list", "tables"]).trim(), "table inet theirs");
}

#[test]
fn ips_blocks_a_real_sshd_attacker_in_a_namespace_and_unblocks_at_expiry() {
    let test = "ips_blocks_a_real_sshd_attacker_in_a_namespace_and_unblocks_at_expiry";
    if !host_tools(test, &["ip", "nft", "sshd", "ssh", "ssh-keygen"]) {
        return;
    }
    // A veth pair: the machine is the attacker, a real sshd listens in the namespace.
    let mut namespace = Netns::new();
    let (attacker, server) = namespace.veth();
    let work = tempfile::tempdir().unwrap();
    let sshd = Sshd::start(&namespace, &server, work.path());
    let log = sshd.log.clone();

    // The active response follows sshd's log inside the namespace's firewall: 3 failures in
    // 60 s block the address for 20 s.
    let journal = work.path().join("actions.jsonl");
    let responder = vigil()
        .args([
            "host",
            "ips",
            "watch",
            "--follow",
            "--program",
            "sshd",
            "--enforce",
            "--max-failures",
            "3",
            "--window",
            "60",
            "--block-for",
            // Long enough that a loaded machine lists the set before the element expires.
            "20",
            "--netns",
            &namespace.name,
        ])
        .arg("--journal-file")
        .arg(&journal)
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _responder = Killed(responder);

    // Bad logins until the responder journals the block (at most five); an attempt cut by the
    // block mid-handshake is killed rather than left to eat the block's lifetime.
    let journaled_block = || std::fs::read_to_string(&journal).is_ok_and(|text| text.contains("\"block\""));
    sshd.fail_logins_until(5, journaled_block);
    assert!(wait_for(Duration::from_secs(30), journaled_block), "no block; sshd log: {}", sshd.log_text());
    let actions = std::fs::read_to_string(&journal).unwrap();
    assert!(actions.contains(&attacker), "{actions}");
    // Blocked: the set holds the address and sshd no longer answers it.
    let set = namespace.exec(&["nft", "list", "set", "inet", "vigil", "blocked4"]);
    assert!(set.contains(&attacker), "{set}");
    assert!(!ssh_banner(&server), "the attacker still reaches sshd");
    // At expiry the kernel drops the element: sshd answers again.
    assert!(wait_for(Duration::from_secs(90), || ssh_banner(&server)), "still blocked after the expiry");
    assert!(!namespace.exec(&["nft", "list", "set", "inet", "vigil", "blocked4"]).contains(&attacker));
}

#[test]
fn logs_hunt_finds_the_basics_in_an_auth_log_and_keeps_its_position() {
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("auth.log");
    let mut lines = String::new();
    for second in 0..11 {
        lines.push_str(&format!("2026-05-04T10:00:{second:02}+00:00 web1 sshd[812]: Failed password for root from 198.51.100.7 port 4{second:04} ssh2\n"));
    }
    lines.push_str("2026-05-04T10:01:00+00:00 web1 sshd[812]: Accepted password for root from 198.51.100.7 port 50000 ssh2\n");
    lines.push_str("2026-05-04T10:02:00+00:00 web1 useradd[900]: new user: name=mallory, UID=1001, GID=1001, home=/home/mallory, shell=/bin/bash\n");
    std::fs::write(&log, lines).unwrap();
    let state = work.path().join("positions.json");
    let (code, stdout, stderr) = run(vigil().args(["host", "logs", "hunt"]).arg(&log).arg("--state").arg(&state));
    assert_eq!(code, 0, "{stderr}");
    let titles: BTreeSet<String> =
        stdout.lines().map(|line| serde_json::from_str::<Value>(line).unwrap()["rule_title"].as_str().unwrap().to_string()).collect();
    for expected in ["SSH Authentication Failure", "Root Login Over SSH", "Local User or Group Added", "SSH Brute Force", "SSH Login After Failed Attempts"] {
        assert!(titles.contains(expected), "{expected} missing: {titles:?}");
    }
    let raw = stdout.lines().map(|line| serde_json::from_str::<Value>(line).unwrap()).find(|alert| alert["rule_title"] == "Root Login Over SSH").unwrap();
    assert!(raw["record"]["message"].as_str().unwrap().starts_with("Accepted password for root"));
    // The position was kept: a second run reads nothing new.
    let (code, stdout, _) = run(vigil().args(["host", "logs", "hunt"]).arg(&log).arg("--state").arg(&state));
    assert_eq!(code, 0);
    assert_eq!(stdout, "");
}
