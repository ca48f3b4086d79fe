//! The shipped binary's debug information (issue 14 item 11): `scripts/split-debuginfo.sh`,
//! which `scripts/release.sh` runs on the release build, leaves a binary without debug
//! information plus a `.debug` file beside it; a panic backtrace then still names files and
//! lines, and names functions even when the `.debug` file is missing. Run here on the test
//! build of `vigil` (its own line tables), so CI checks the procedure without a release build.

use std::process::{Command, Stdio};

/// `vigil checks` with its standard output already closed: the first line it prints fails with
/// EPIPE and the standard library panics, which prints a backtrace with RUST_BACKTRACE=1.
fn backtrace_of(binary: &std::path::Path) -> String {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(binary).arg("checks").env("RUST_BACKTRACE", "1").stdout(writer).stderr(Stdio::piped()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.contains("panicked") && stderr.contains("stack backtrace"),
        "`vigil checks` into a closed pipe no longer panics: trigger the backtrace another way\n{stderr}"
    );
    stderr
}

#[test]
fn a_split_binary_is_smaller_and_its_backtraces_still_name_files_and_lines() {
    let built = std::path::Path::new(env!("CARGO_BIN_EXE_vigil"));
    let directory = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/split-debuginfo.sh");
    let status = Command::new("bash").arg(script).arg(built).arg(directory.path()).status().unwrap();
    assert!(status.success(), "split-debuginfo.sh failed");
    let split = directory.path().join("vigil");
    let size = |path: &std::path::Path| std::fs::metadata(path).unwrap().len();
    assert!(size(&split) < size(built), "{} bytes split, {} built", size(&split), size(built));

    let with_debug = backtrace_of(&split);
    assert!(with_debug.contains("src/cmd/mod.rs:"), "no file and line in the backtrace:\n{with_debug}");
    assert!(with_debug.contains("vigil::main"), "{with_debug}");

    std::fs::remove_file(directory.path().join("vigil.debug")).unwrap();
    let without = backtrace_of(&split);
    assert!(without.contains("vigil::main"), "the symbols went too:\n{without}");
    assert!(!without.contains("src/cmd/mod.rs:"), "the line tables were not split out:\n{without}");
}
