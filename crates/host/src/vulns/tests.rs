//! Matching pinned with small OSV records written in the real schema: ranges, version
//! lists, last_affected, the epoch and tilde edges, ecosystems and releases, source versus
//! binary names, severities, unknown fields and malformed files.

use std::io::Write;

use super::osv::{load, parse_into};
use super::*;
use crate::packages::{Manager, OsRelease, Package};

fn deb(name: &str, version: &str, source: Option<&str>, source_version: Option<&str>) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        manager: Manager::Dpkg,
        source: source.map(Into::into),
        source_version: source_version.map(Into::into),
    }
}

fn rpm(name: &str, version: &str) -> Package {
    Package { name: name.into(), version: version.into(), arch: "x86_64".into(), manager: Manager::Rpm, source: None, source_version: None }
}

fn debian12() -> HostEcosystem {
    host_ecosystem(&OsRelease { id: "debian".into(), version_id: "12".into(), ..OsRelease::default() }).unwrap()
}

/// A record with one affected package and one ECOSYSTEM range, plus extra JSON.
fn record(id: &str, ecosystem: &str, name: &str, events: &str, extra: &str) -> String {
    format!(
        r#"{{"schema_version": "1.6.0", "id": "{id}", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-{id}"],
            "affected": [{{"package": {{"ecosystem": "{ecosystem}", "name": "{name}", "purl": "pkg:deb/debian/{name}"}},
                           "ranges": [{{"type": "ECOSYSTEM", "events": [{events}]}}]}}]{extra}}}"#
    )
}

fn database(records: &[String]) -> Database {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for (index, text) in records.iter().enumerate() {
        parse_into(&format!("r{index}.json"), text.as_bytes(), &mut parsed, &mut problems);
    }
    assert!(problems.is_empty(), "{problems:?}");
    Database::new(parsed)
}

fn ids(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|finding| format!("{} {} {} -> {}", finding.id, finding.package, finding.installed, finding.fixed.as_deref().unwrap_or("none")))
        .collect()
}

#[test]
fn debian_source_packages_ranges_and_the_tilde_edge() {
    let db = database(&[
        record("DSA-1", "Debian:12", "openssl", r#"{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}"#, ""),
        record("DSA-2", "Debian:11", "openssl", r#"{"introduced": "0"}, {"fixed": "9.9"}"#, ""),
        record("DSA-3", "Debian:12", "glibc", r#"{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}"#, ""),
    ]);
    let packages = [
        deb("libssl3", "3.0.11-1~deb12u1", Some("openssl"), None),
        deb("openssl", "3.0.11-1~deb12u2", None, None), // exactly the fixed version: not affected
        // A binNMU: the binary version has +b1, the source version decides.
        deb("libc6", "2.36-9+deb12u4+b1", Some("glibc"), Some("2.36-9+deb12u4")),
        deb("libc-bin", "2.36-9+deb12u3", Some("glibc"), None),
    ];
    let findings = db.matches(&debian12(), &packages);
    assert_eq!(ids(&findings), ["DSA-3 libc-bin 2.36-9+deb12u3 -> 2.36-9+deb12u4", "DSA-1 libssl3 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2"]);
    assert_eq!(findings[1].source.as_deref(), Some("openssl"));
    assert!(findings[1].fix_available);
}

#[test]
fn no_false_match_on_an_epoch_or_a_tilde() {
    let db = database(&[
        // The installed version has an epoch: 1:9.2p1 is newer than 9.3p1.
        record("EPOCH", "Debian:12", "openssh", r#"{"introduced": "0"}, {"fixed": "9.3p1-1"}"#, ""),
        // A backport fixed with a tilde version: 1.0-1 (the release) is newer than 1.0-1~deb12u1.
        record("TILDE", "Debian:12", "pkg", r#"{"introduced": "0"}, {"fixed": "1.0-1~deb12u1"}"#, ""),
        // And the other way round: 2.0~rc1 is before 2.0, so it is still affected.
        record("TILDE-RC", "Debian:12", "pre", r#"{"introduced": "0"}, {"fixed": "2.0"}"#, ""),
    ]);
    let packages = [deb("openssh-server", "1:9.2p1-2+deb12u2", Some("openssh"), None), deb("pkg", "1.0-1", None, None), deb("pre", "2.0~rc1", None, None)];
    assert_eq!(ids(&db.matches(&debian12(), &packages)), ["TILDE-RC pre 2.0~rc1 -> 2.0"]);
}

#[test]
fn version_lists_last_affected_introduced_and_unfixed() {
    let db = database(&[
        r#"{"id": "LIST", "affected": [{"package": {"ecosystem": "Debian:12", "name": "listed"}, "versions": ["1.2-3", "1.2-4"]}]}"#.to_string(),
        record("LAST", "Debian:12", "last", r#"{"introduced": "1.0"}, {"last_affected": "1.5-2"}"#, ""),
        record("INTRO", "Debian:12", "intro", r#"{"introduced": "2.0"}, {"fixed": "2.4"}"#, ""),
        record("NOFIX", "Debian:12", "nofix", r#"{"introduced": "0"}"#, ""),
        record("WITHDRAWN", "Debian:12", "nofix", r#"{"introduced": "0"}"#, r#", "withdrawn": "2024-02-01T00:00:00Z""#),
    ]);
    let packages = [
        deb("listed", "1.2-4", None, None),
        deb("last", "1.5-2", None, None),
        deb("intro", "1.9", None, None), // before introduced
        deb("nofix", "0.1-1", None, None),
    ];
    let findings = db.matches(&debian12(), &packages);
    assert_eq!(ids(&findings), ["LAST last 1.5-2 -> none", "LIST listed 1.2-4 -> none", "NOFIX nofix 0.1-1 -> none"]);
    assert!(findings.iter().all(|finding| !finding.fix_available));
    let db = database(&[record("LAST", "Debian:12", "last", r#"{"introduced": "1.0"}, {"last_affected": "1.5-2"}"#, "")]);
    assert!(db.matches(&debian12(), &[deb("last", "1.5-3", None, None)]).is_empty());
}

#[test]
fn rpm_distributions_match_binary_packages_with_rpm_ordering() {
    let alma = host_ecosystem(&OsRelease { id: "almalinux".into(), version_id: "9.4".into(), ..OsRelease::default() }).unwrap();
    assert_eq!(alma.label(), "AlmaLinux:9");
    let db = database(&[
        record("ALSA-1", "AlmaLinux:9", "openssl-libs", r#"{"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}"#, ""),
        record("ALSA-2", "AlmaLinux:8", "openssl-libs", r#"{"introduced": "0"}, {"fixed": "1:9.9.9-1.el8"}"#, ""),
        record("ALSA-3", "AlmaLinux:9", "curl", r#"{"introduced": "0"}, {"fixed": "7.76.1-29.el9_4.1"}"#, ""),
    ]);
    let packages = [rpm("openssl-libs", "1:3.0.7-24.el9"), rpm("curl", "7.76.1-29.el9_4.1"), deb("openssl-libs", "0.1", None, None)];
    assert_eq!(ids(&db.matches(&alma, &packages)), ["ALSA-1 openssl-libs 1:3.0.7-24.el9 -> 1:3.0.7-27.el9"]);
}

#[test]
fn ecosystems_and_releases() {
    let ubuntu = host_ecosystem(&OsRelease { id: "ubuntu".into(), version_id: "24.04".into(), ..OsRelease::default() }).unwrap();
    assert!(ubuntu.matches("Ubuntu:24.04:LTS"));
    assert!(!ubuntu.matches("Ubuntu:Pro:24.04:LTS"));
    assert!(!ubuntu.matches("Ubuntu:22.04:LTS"));
    let alpine = host_ecosystem(&OsRelease { id: "alpine".into(), version_id: "3.19.1".into(), ..OsRelease::default() }).unwrap();
    assert!(alpine.matches("Alpine:v3.19") && !alpine.matches("Alpine:v3.18"));
    let rhel = host_ecosystem(&OsRelease { id: "rhel".into(), version_id: "9.4".into(), ..OsRelease::default() }).unwrap();
    assert!(rhel.matches("Red Hat:enterprise_linux:9::baseos") && !rhel.matches("Red Hat:enterprise_linux:8::baseos"));
    assert!(debian12().matches("Debian:12") && debian12().matches("Debian") && !debian12().matches("Debian:11"));
    assert!(host_ecosystem(&OsRelease { id: "plan9".into(), version_id: "4".into(), ..OsRelease::default() }).is_none());
}

#[test]
fn severity_from_cvss_or_the_distribution() {
    let cvss = r#", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]"#;
    let db = database(&[
        record("CVSS", "Debian:12", "a", r#"{"introduced": "0"}, {"fixed": "2"}"#, cvss),
        r#"{"id": "URGENCY", "affected": [{"package": {"ecosystem": "Debian:12", "name": "b"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                "ecosystem_specific": {"urgency": "low"}}]}"#.to_string(),
        record("NONE", "Debian:12", "c", r#"{"introduced": "0"}"#, ""),
    ]);
    let findings = db.matches(&debian12(), &[deb("a", "1", None, None), deb("b", "1", None, None), deb("c", "1", None, None)]);
    let summary: Vec<(String, Level, Option<f64>, String)> = findings.iter().map(|f| (f.id.clone(), f.severity, f.score, f.severity_source.clone())).collect();
    assert_eq!(
        summary,
        [
            ("CVSS".to_string(), Level::Critical, Some(9.8), "CVSS_V3".to_string()),
            ("URGENCY".to_string(), Level::Low, None, "Debian urgency".to_string()),
            ("NONE".to_string(), Level::Unknown, None, "none given".to_string()),
        ]
    );
}

#[test]
fn unknown_fields_are_ignored_and_malformed_records_name_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = record(
        "GOOD",
        "Debian:12",
        "a",
        r#"{"introduced": "0"}, {"fixed": "2"}"#,
        r#", "x_future_field": {"nested": [1, 2]}, "credits": [{"name": "someone"}]"#,
    );
    std::fs::write(dir.path().join("GOOD.json"), good).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/BAD.json"), r#"{"id": "BAD", "affected": "not a list"}"#).unwrap();
    std::fs::write(dir.path().join("TRUNCATED.json"), r#"{"id": "TRUNC", "affected": [{"#).unwrap();
    std::fs::write(dir.path().join("README.txt"), "not a record").unwrap();
    let (records, problems) = load(dir.path()).unwrap();
    assert_eq!(records.iter().map(|record| record.id.as_str()).collect::<Vec<_>>(), ["GOOD"]);
    let files: Vec<String> = problems.iter().map(|problem| problem.file.rsplit('/').next().unwrap().to_string()).collect();
    assert_eq!(files, ["TRUNCATED.json", "BAD.json"]);
    assert!(problems[1].message.contains("invalid type"), "{}", problems[1]);
}

#[test]
fn a_zip_of_records_like_the_osv_dev_archives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("DSA-1.json", options).unwrap();
    writer.write_all(record("DSA-1", "Debian:12", "openssl", r#"{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}"#, "").as_bytes()).unwrap();
    writer.start_file("BROKEN.json", options).unwrap();
    writer.write_all(b"{").unwrap();
    writer.finish().unwrap();
    let (records, problems) = load(&path).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].file.ends_with("all.zip:BROKEN.json"), "{}", problems[0]);
    let not_zip = dir.path().join("fake.zip");
    std::fs::write(&not_zip, "plain text").unwrap();
    assert!(load(&not_zip).unwrap_err().to_string().contains("is not a zip archive"));
}

/// The host's loader keeps only the records naming its packages in its ecosystem, counts every
/// record read, streams a bundled array element by element (a bad element is a problem naming
/// its index), and finds exactly what matching over every record finds.
#[test]
fn a_host_keeps_only_its_own_advisories_and_finds_the_same() {
    let records = [
        record("DSA-1", "Debian:12", "openssl", r#"{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}"#, ""),
        record("DSA-2", "Debian:11", "openssl", r#"{"introduced": "0"}, {"fixed": "9.9"}"#, ""),
        record("DSA-3", "Debian:12", "glibc", r#"{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}"#, ""),
        record("DSA-4", "Debian:12", "not-installed", r#"{"introduced": "0"}"#, ""),
        record("ALSA-5", "AlmaLinux:9", "openssl", r#"{"introduced": "0"}"#, ""),
        record("DSA-6", "Debian", "openssl", r#"{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u3"}"#, ""),
    ];
    let directory = tempfile::tempdir().unwrap();
    // Half as single files, half bundled in one array with a bad element in the middle.
    for (index, text) in records[..3].iter().enumerate() {
        std::fs::write(directory.path().join(format!("r{index}.json")), text).unwrap();
    }
    let bundle = format!("[{}, {{\"id\": 7}}, {}, {}]", records[3], records[4], records[5]);
    std::fs::write(directory.path().join("bundle.json"), bundle).unwrap();
    let packages =
        [deb("libssl3", "3.0.11-1~deb12u1", Some("openssl"), None), deb("libc-bin", "2.36-9+deb12u3", Some("glibc"), None), rpm("openssl", "3.0.0-1.el9")];
    let advisories = load_for_host(directory.path(), &debian12(), &packages).unwrap();
    assert_eq!(advisories.read, 6, "every record is counted");
    let mut kept: Vec<&str> = advisories.database.records.iter().map(|record| record.id.as_str()).collect();
    kept.sort_unstable();
    assert_eq!(kept, ["DSA-1", "DSA-3", "DSA-6"], "only Debian 12's records for installed source packages");
    assert_eq!(advisories.problems.len(), 1, "{:?}", advisories.problems);
    assert!(advisories.problems[0].file.ends_with("bundle.json[1]"), "{:?}", advisories.problems);
    let (all, _) = load(directory.path()).unwrap();
    assert_eq!(all.len(), 6);
    let everything = Database::new(all).matches(&debian12(), &packages);
    assert_eq!(ids(&advisories.database.matches(&debian12(), &packages)), ids(&everything));
    assert_eq!(everything.len(), 3, "{:?}", ids(&everything));
}
