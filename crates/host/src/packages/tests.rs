//! Package databases read from small roots: dpkg status (and distroless status.d), apk's
//! installed, rpm's SQLite database (written with rusqlite in rpm's schema) and BerkeleyDB
//! `Packages` (written by BerkeleyDB's own `db5.3_load`), each also corrupted.

use std::fs;
use std::process::Command;

use super::*;
use crate::fsroot::HostRoot;

fn root() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(root: &tempfile::TempDir, path: &str, content: &[u8]) {
    let full = root.path().join(path.trim_start_matches('/'));
    fs::create_dir_all(full.parent().unwrap()).unwrap();
    fs::write(full, content).unwrap();
}

fn names(inventory: &PackageInventory) -> Vec<String> {
    inventory.packages.iter().map(|package| format!("{} {} {} {:?}", package.name, package.version, package.arch, package.manager)).collect()
}

const STATUS: &str = "Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 a continuation line

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc (2.36-9+deb12u3)
Version: 2.36-9+deb12u3+b1

Package: openssh-server
Status: install ok installed
Architecture: amd64
Version: 1:9.2p1-2+deb12u2
";

#[test]
fn dpkg_status_installed_packages_with_their_source() {
    let root = root();
    write(&root, "/var/lib/dpkg/status", STATUS.as_bytes());
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(names(&inventory), ["libc6 2.36-9+deb12u3+b1 amd64 Dpkg", "libssl3 3.0.11-1~deb12u2 amd64 Dpkg", "openssh-server 1:9.2p1-2+deb12u2 amd64 Dpkg"]);
    let libc = &inventory.packages[0];
    assert_eq!((libc.source_name(), libc.source_version()), ("glibc", "2.36-9+deb12u3"));
    assert_eq!(inventory.packages[1].source_name(), "openssl");
    assert_eq!(inventory.packages[2].source_name(), "openssh-server");
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
}

#[test]
fn distroless_status_d_files() {
    let root = root();
    write(&root, "/var/lib/dpkg/status.d/base-files", b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n");
    write(&root, "/var/lib/dpkg/status.d/base-files.md5sums", b"d41d8cd98f00b204e9800998ecf8427e  etc/debian_version\n");
    write(&root, "/var/lib/dpkg/status.d/tzdata", b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n");
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(names(&inventory), ["base-files 12.4+deb12u5 amd64 Dpkg", "tzdata 2024a-0+deb12u1 all Dpkg"]);
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
}

#[test]
fn a_corrupt_dpkg_status_names_the_file_and_line_and_keeps_the_rest() {
    let root = root();
    let corrupt = format!("{STATUS}\nPackage: broken\nStatus: install ok installed\nArchitecture: amd64\n\nVersion: 1.0\n");
    write(&root, "/var/lib/dpkg/status", corrupt.as_bytes());
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(inventory.packages.len(), 3);
    let problems: Vec<String> = inventory.problems.iter().map(ToString::to_string).collect();
    assert!(problems.iter().any(|problem| problem.starts_with("/var/lib/dpkg/status: line 26: package `broken` has no valid `Version:`")), "{problems:?}");
    assert!(problems.iter().any(|problem| problem.contains("line 30: a paragraph without a valid `Package:`")), "{problems:?}");

    // A status file that is garbage altogether is one problem naming it.
    let root = crate::packages::tests::root();
    write(&root, "/var/lib/dpkg/status", &[0xff, 0x00, 0x13, 0x37, b'\n', 0x80, 0x81]);
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert!(inventory.packages.is_empty());
    assert_eq!(inventory.problems.len(), 1);
    assert!(inventory.problems[0].message.starts_with("not a dpkg status file"), "{:?}", inventory.problems);
}

#[test]
fn apk_installed_database() {
    let root = root();
    write(
        &root,
        "/lib/apk/db/installed",
        b"C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\nC:Q1def=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\nP:nameless-version\n",
    );
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(names(&inventory), ["libcrypto3 3.1.4-r5 x86_64 Apk", "musl 1.2.4_git20230717-r4 x86_64 Apk"]);
    assert_eq!(inventory.packages[0].source_name(), "openssl");
    assert_eq!(inventory.problems.len(), 1, "{:?}", inventory.problems);
    assert!(inventory.problems[0].message.contains("line 13"), "{:?}", inventory.problems);
}

fn sqlite_rpmdb(path: &std::path::Path, blobs: &[Vec<u8>]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let connection = rusqlite::Connection::open(path).unwrap();
    connection.execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);").unwrap();
    for blob in blobs {
        connection.execute("INSERT INTO Packages (blob) VALUES (?1)", [blob]).unwrap();
    }
}

#[test]
fn rpm_sqlite_database() {
    let root = root();
    let blobs = vec![
        rpm::testing::package("openssl-libs", "3.0.7", "27.el9", "x86_64", Some(1)),
        rpm::testing::package("bash", "5.1.8", "9.el9", "x86_64", None),
        rpm::testing::header(&[(1000, "gpg-pubkey"), (1001, "fd431d51"), (1002, "4ae0493b")], None),
        b"\x00\x00\x00\x05garbage".to_vec(),
    ];
    sqlite_rpmdb(&root.path().join("var/lib/rpm/rpmdb.sqlite"), &blobs);
    let before: Vec<_> = fs::read_dir(root.path().join("var/lib/rpm")).unwrap().flatten().map(|entry| entry.file_name()).collect();
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(names(&inventory), ["bash 5.1.8-9.el9 x86_64 Rpm", "openssl-libs 1:3.0.7-27.el9 x86_64 Rpm"]);
    assert_eq!(inventory.packages[1].source_name(), "openssl-libs");
    assert_eq!(inventory.problems.len(), 1, "{:?}", inventory.problems);
    assert!(inventory.problems[0].to_string().contains("rpmdb.sqlite: record 4:"), "{:?}", inventory.problems);
    // Reading leaves the image's database directory as it was (no journal, no WAL files).
    let after: Vec<_> = fs::read_dir(root.path().join("var/lib/rpm")).unwrap().flatten().map(|entry| entry.file_name()).collect();
    assert_eq!(before, after);
}

#[test]
fn a_corrupt_rpm_sqlite_database_is_a_problem_naming_it() {
    let root = root();
    write(&root, "/var/lib/rpm/rpmdb.sqlite", b"this is not sqlite at all, just text that is long enough to look like a header of a file");
    write(&root, "/var/lib/dpkg/status", STATUS.as_bytes());
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(inventory.packages.len(), 3, "the dpkg packages are still read");
    assert_eq!(inventory.problems.len(), 1);
    assert!(inventory.problems[0].path.ends_with("/var/lib/rpm/rpmdb.sqlite"), "{:?}", inventory.problems);
}

/// Writes a BerkeleyDB hash database with BerkeleyDB's own loader, from the dump format.
fn bdb_load(path: &std::path::Path, records: &[(u32, Vec<u8>)]) -> bool {
    let hex = |bytes: &[u8]| bytes.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
    let mut dump = String::from("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n");
    for (key, value) in records {
        dump.push_str(&format!(" {}\n {}\n", hex(&key.to_le_bytes()), hex(value)));
    }
    dump.push_str("DATA=END\n");
    let input = path.with_extension("dump");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&input, dump).unwrap();
    let Ok(status) = Command::new("db5.3_load").arg("-f").arg(&input).arg(path).status() else {
        return false;
    };
    assert!(status.success());
    fs::remove_file(input).unwrap();
    true
}

#[test]
fn rpm_berkeleydb_database_written_by_berkeleydb() {
    let root = root();
    let mut records = vec![(0u32, 3u32.to_le_bytes().to_vec())];
    // Enough packages, and one large header, to fill several pages and overflow chains.
    let big_release = format!("1.el7{}", "x".repeat(9000));
    records.push((1, rpm::testing::package("kernel", "3.10.0", &big_release, "x86_64", None)));
    for index in 2..60u32 {
        records.push((index, rpm::testing::package(&format!("pkg{index}"), "1.0", &format!("{index}.el7"), "noarch", Some(index % 2))));
    }
    let path = root.path().join("var/lib/rpm/Packages");
    if !bdb_load(&path, &records) {
        eprintln!("skipped: db5.3_load (Debian's db5.3-util) is not installed");
        return;
    }
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    assert_eq!(inventory.packages.len(), 59);
    let kernel = inventory.packages.iter().find(|package| package.name == "kernel").unwrap();
    assert_eq!(kernel.version, format!("3.10.0-{big_release}"));
    assert!(inventory.packages.iter().any(|package| package.name == "pkg3" && package.version == "1:1.0-3.el7"));
}

#[test]
fn a_corrupt_berkeleydb_file_is_a_problem_naming_it() {
    let root = root();
    write(&root, "/var/lib/rpm/Packages", &[0u8; 8192]);
    let inventory = super::inventory(&HostRoot::at(root.path()));
    assert_eq!(inventory.problems.len(), 1);
    assert!(inventory.problems[0].to_string().contains("/var/lib/rpm/Packages: not a BerkeleyDB hash database"), "{:?}", inventory.problems);
}

#[test]
fn os_release_and_no_running_kernel_for_an_image() {
    let root = root();
    write(&root, "/usr/lib/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
    std::os::unix::fs::symlink("../usr/lib/os-release", root.path().join("etc_os_release_link")).unwrap();
    let inventory = super::inventory(&HostRoot::at(root.path()));
    let os = inventory.os.unwrap();
    assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12"));
    assert_eq!(inventory.running_kernel, None);
}
