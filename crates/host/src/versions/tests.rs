//! Orderings pinned by hand, then compared with the package managers themselves: generated
//! and real version pairs through `dpkg --compare-versions` and rpm's `rpm.vercmp` (one
//! process for all pairs). The tools come from Debian's `dpkg` and `rpm` packages; a test
//! says it skipped when one is missing.

use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::io::Write;
use std::process::{Command, Stdio};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use super::*;

fn check(scheme: Scheme, cases: &[(&str, Ordering, &str)]) {
    for (a, expected, b) in cases {
        assert_eq!(compare(scheme, a, b), *expected, "{scheme:?}: {a} vs {b}");
        assert_eq!(compare(scheme, b, a), expected.reverse(), "{scheme:?}: {b} vs {a}");
    }
}

#[test]
fn dpkg_ordering() {
    check(
        Scheme::Dpkg,
        &[
            ("1.0", Equal, "1.0-0"),
            ("1.0", Less, "1.0-1"),
            ("1:1.0", Greater, "2.0"), // the epoch decides first
            ("0:2.0", Equal, "2.0"),
            ("1.0~rc1", Less, "1.0"), // a tilde sorts before the end
            ("1.0~rc1", Less, "1.0~rc2"),
            ("1.0~~", Less, "1.0~"),
            ("1.0a", Greater, "1.0"),
            ("1.0+b1", Greater, "1.0"),
            ("1.0+b1", Greater, "1.0a"), // letters before other symbols
            ("1.01", Equal, "1.1"),      // leading zeros do not count
            ("1.10", Greater, "1.9"),
            ("3.0.11-1~deb12u2", Less, "3.0.11-1~deb12u3"),
            ("3.0.11-1~deb12u2", Less, "3.0.11-1"),
            ("2.36-9+deb12u4", Greater, "2.36-9+deb12u3"),
            ("1:9.2p1-2+deb12u2", Greater, "9.9p9-9"),
            ("7.88.1-10+deb12u5", Less, "7.88.1-10+deb12u12"),
        ],
    );
}

#[test]
fn rpm_ordering() {
    check(
        Scheme::Rpm,
        &[
            ("1.0", Equal, "1.0"),
            ("1.0", Less, "1.0.1"),
            ("1.0~rc1", Less, "1.0"),     // tilde: before the release it precedes
            ("1.0^git1", Greater, "1.0"), // caret: after the base version
            ("1.0^git1", Less, "1.0.1"),
            ("1.0~rc1^git1", Greater, "1.0~rc1"),
            ("1.0a", Greater, "1.0"),
            ("1.a", Less, "1.1"), // numeric segments beat alpha ones
            ("1.010", Equal, "1.10"),
            ("2.0-1.el9", Greater, "2.0-1.el8"),
            ("1:1.0-1", Greater, "2.0-1"),
            ("0:1.0-1", Equal, "1.0-1"),
            ("1.0", Less, "1.0-5"), // a missing release sorts first, as rpm.vercmp says
            ("3.0.7-27.el9", Less, "3.0.7-28.el9"),
            ("1.0_1", Equal, "1.0.1"), // separators are all alike
        ],
    );
}

#[test]
fn apk_ordering() {
    check(
        Scheme::Apk,
        &[
            ("1.0", Less, "1.0.1"),
            ("1.2_alpha", Less, "1.2"),
            ("1.0_alpha1", Less, "1.0_beta"),
            ("1.2_rc2", Less, "1.2"),
            ("1.0_p1", Greater, "1.0"),
            ("1.0-r1", Greater, "1.0"),
            ("1.0-r2", Greater, "1.0-r1"),
            ("1.0a", Greater, "1.0"),
            ("1.0a", Less, "1.0b"),
            ("1.2.10", Greater, "1.2.9"),
            ("3.1.4-r5", Less, "3.1.4_p1-r0"),
            ("1.0_alpha_pre2", Less, "1.0_alpha"),
            ("2.39.2-r0", Less, "2.40.1-r0"),
        ],
    );
}

// ---- differential tests against the real tools --------------------------------------

/// Versions like those in real archives, with the edge cases weighted up.
fn debian_version() -> impl Strategy<Value = String> {
    let epoch = proptest::option::weighted(0.2, 0u32..3).prop_map(|epoch| epoch.map(|epoch| format!("{epoch}:")).unwrap_or_default());
    let upstream = "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}([a-z]{1,2}[0-9]?)?(~(rc|beta|~)?[0-9]?)?(\\+[a-z]{1,4}[0-9]?)?";
    let revision = proptest::option::weighted(0.7, "[0-9]{1,2}(~deb1[12]u[0-9]{1,2}|\\+deb1[12]u[0-9]|ubuntu[0-9](\\.[0-9])?|\\.[0-9]|~bpo[0-9]+)?");
    (epoch, upstream, revision).prop_map(|(epoch, upstream, revision)| match revision {
        Some(revision) => format!("{epoch}{upstream}-{revision}"),
        None => format!("{epoch}{upstream}"),
    })
}

fn rpm_version() -> impl Strategy<Value = String> {
    let epoch = proptest::option::weighted(0.2, 0u32..3).prop_map(|epoch| epoch.map(|epoch| format!("{epoch}:")).unwrap_or_default());
    let version = "[0-9]{1,3}(\\.[0-9a-z]{1,3}){0,3}(~[a-z]{1,3}[0-9]?)?(\\^[a-z0-9]{1,4})?(_[0-9]{1,2})?";
    let release = proptest::option::weighted(0.8, "[0-9]{1,2}(\\.el[89](_[0-9])?|\\.amzn2023(\\.0\\.[0-9])?|\\.fc[34][0-9])?");
    (epoch, version, release).prop_map(|(epoch, version, release)| match release {
        Some(release) => format!("{epoch}{version}-{release}"),
        None => format!("{epoch}{version}"),
    })
}

/// Pairs: generated ones (a deterministic run, so a failure reproduces), each version also
/// paired with a near neighbour so that "equal but for one character" cases occur.
fn pairs(strategy: impl Strategy<Value = String>, count: usize) -> Vec<(String, String)> {
    let mut runner = TestRunner::deterministic();
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        values.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    let mut pairs = Vec::new();
    for window in values.windows(2) {
        pairs.push((window[0].clone(), window[1].clone()));
        pairs.push((window[0].clone(), window[0].clone()));
        let mut neighbour = window[0].clone();
        neighbour.push_str(["~", "a", ".0", "+1", "^1", "-1"][window[1].len() % 6]);
        pairs.push((window[0].clone(), neighbour));
    }
    pairs
}

const REAL_DEBIAN: &[&str] = &[
    "3.0.11-1~deb12u2",
    "3.0.13-1~deb12u1",
    "3.0.15-1~deb12u1",
    "1:9.2p1-2+deb12u3",
    "1:9.2p1-2+deb12u2",
    "2.36-9+deb12u4",
    "2.36-9+deb12u10",
    "7.88.1-10+deb12u5",
    "7.88.1-10+deb12u12",
    "252.22-1~deb12u1",
    "252.30-1~deb12u2",
    "6.1.0-18-amd64",
    "6.1.112-1",
    "6.1.76-1",
    "2:8.2.3995-1ubuntu2.15",
    "1.21.1-1ubuntu0.1",
    "5.2.15-2+b2",
    "5.2.15-2",
    "1:2.38.1-5+deb12u1",
    "0.23.1-1",
    "2.9.14+dfsg-1.3~deb12u1",
    "3.7.9-2+deb12u3",
    "20230311",
    "1.0.8-5+b1",
];

const REAL_RPM: &[&str] = &[
    "3.0.7-27.el9",
    "3.0.7-28.el9_4",
    "1:3.0.7-24.el9",
    "8.7p1-38.el9",
    "8.7p1-38.el9_4.1",
    "2.34-100.el9_4.2",
    "2.34-100.el9",
    "5.14.0-427.13.1.el9_4",
    "5.14.0-427.el9",
    "2.0.1-1.amzn2023.0.2",
    "6.1.90-99.173.amzn2023",
    "6.1.102-111.182.amzn2023",
    "1.2.11-40.el9",
    "7.76.1-29.el9_4.1",
    "4.16.1.3-29.el9",
    "1:1.1.1k-12.el8_9",
    "1.1.1k-12.el8_9",
    "252-32.el9_4",
    "252-32.el9_4.7",
    "2.9.13-6.el9_4",
    "0.9.8e-fips-rhel5",
    "1.0~rc1-1.fc40",
    "1.0^20240101git1-1.fc40",
];

fn all_pairs_of(versions: &[&str]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for a in versions {
        for b in versions {
            pairs.push((a.to_string(), b.to_string()));
        }
    }
    pairs
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|status| status.success())
}

/// dpkg's answers for many pairs, from one shell that asks `dpkg --compare-versions`.
fn dpkg_oracle(pairs: &[(String, String)]) -> Vec<Ordering> {
    let script = r#"while IFS=' ' read -r a b; do
        if dpkg --compare-versions "$a" lt "$b"; then echo -1; elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi
    done"#;
    let mut child = Command::new("sh").arg("-c").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut input = String::new();
    for (a, b) in pairs {
        input.push_str(&format!("{a} {b}\n"));
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    parse_orderings(&output.stdout, pairs.len())
}

/// rpm's answers for many pairs: one `rpm --eval` running a Lua file that loops over
/// `rpm.vercmp` (the pairs do not fit on a command line).
fn rpm_oracle(pairs: &[(String, String)]) -> Vec<Ordering> {
    let mut lua = String::from("local p = {\n");
    for (a, b) in pairs {
        lua.push_str(&format!("{{[==[{a}]==],[==[{b}]==]}},\n"));
    }
    lua.push_str("}\nfor _, v in ipairs(p) do print(rpm.vercmp(v[1], v[2]) .. '\\n') end\n");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("pairs.lua");
    std::fs::write(&script, &lua).unwrap();
    let output = Command::new("rpm").arg("--eval").arg(format!("%{{lua: dofile(\"{}\")}}", script.display())).output().unwrap();
    parse_orderings(&output.stdout, pairs.len())
}

fn parse_orderings(stdout: &[u8], expected: usize) -> Vec<Ordering> {
    let text = String::from_utf8_lossy(stdout);
    let orderings: Vec<Ordering> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| line.parse::<i32>().unwrap_or_else(|_| panic!("oracle printed `{line}`")).cmp(&0))
        .collect();
    assert_eq!(orderings.len(), expected, "the oracle answered {} of {expected} pairs", orderings.len());
    orderings
}

fn assert_agrees(scheme: Scheme, pairs: &[(String, String)], oracle: &[Ordering]) {
    let mismatches: Vec<String> = pairs
        .iter()
        .zip(oracle)
        .filter(|((a, b), expected)| compare(scheme, a, b) != **expected)
        .map(|((a, b), expected)| format!("{a} vs {b}: tool says {expected:?}, vigil {:?}", compare(scheme, a, b)))
        .collect();
    assert!(mismatches.is_empty(), "{} of {} pairs disagree:\n{}", mismatches.len(), pairs.len(), mismatches.join("\n"));
}

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    if !tool("dpkg") {
        eprintln!("skipped: dpkg is not installed");
        return;
    }
    let mut pairs = pairs(debian_version(), 700);
    pairs.extend(all_pairs_of(REAL_DEBIAN));
    let oracle = dpkg_oracle(&pairs);
    assert_agrees(Scheme::Dpkg, &pairs, &oracle);
}

#[test]
fn rpm_agrees_with_rpm_vercmp() {
    if !tool("rpm") {
        eprintln!("skipped: rpm is not installed (Debian's `rpm` package)");
        return;
    }
    let mut pairs = pairs(rpm_version(), 1500);
    pairs.extend(all_pairs_of(REAL_RPM));
    let oracle = rpm_oracle(&pairs);
    assert_agrees(Scheme::Rpm, &pairs, &oracle);
}
