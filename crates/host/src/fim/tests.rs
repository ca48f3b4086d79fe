//! Tests of baseline, check and rescan on temporary trees.

use std::ops::ControlFlow;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;

fn write(root: &Path, inner: &str, text: &str) {
    let path = root.join(inner.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn summary(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|change| format!("{} {:?} {}", display_path(&change.path), change.change, change.fields.join(","))).collect()
}

fn tree() -> (tempfile::TempDir, tempfile::TempDir) {
    let tree = tempfile::tempdir().unwrap();
    for (path, text) in
        [("/etc/passwd", "root:x:0:0"), ("/etc/hosts", "127.0.0.1"), ("/etc/ssh/sshd_config", "Port 22"), ("/usr/bin/tool", "#!/bin/sh"), ("/var/log/x", "log")]
    {
        write(tree.path(), path, text);
    }
    std::os::unix::fs::symlink("/etc/hosts", tree.path().join("etc/link")).unwrap();
    (tree, tempfile::tempdir().unwrap())
}

#[test]
fn check_reports_each_kind_of_change_with_the_fields_that_differ() {
    let (tree, state) = tree();
    let root = HostRoot::at(tree.path());
    let database = state.path().join("fim.db");
    let config = FimConfig { exclude: vec!["/var/log".to_string()], ..FimConfig::default() };
    let report = baseline(&root, &database, &config).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let store = Baseline::open(&database).unwrap();
    assert_eq!(check(&root, &store, &config).unwrap().0, Vec::new());

    let base = tree.path();
    write(base, "/etc/hosts", "127.0.0.1 evil");
    std::fs::set_permissions(base.join("etc/passwd"), std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(base.join("usr/bin/tool"), Some(1234), Some(4321)).unwrap();
    std::fs::remove_file(base.join("etc/ssh/sshd_config")).unwrap();
    write(base, "/etc/cron.d/new", "* * * * * root sh");
    std::fs::remove_file(base.join("etc/link")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", base.join("etc/link")).unwrap();
    write(base, "/var/log/x", "excluded changes are not reported");
    let (changes, _) = check(&root, &store, &config).unwrap();
    assert_eq!(
        summary(&changes),
        [
            "/etc/cron.d Added ",
            "/etc/cron.d/new Added ",
            "/etc/hosts Modified content",
            "/etc/link Modified target",
            "/etc/passwd Modified mode",
            "/etc/ssh/sshd_config Removed ",
            "/usr/bin/tool Modified owner,group",
        ]
    );
    // A check changes nothing: the same changes are there the second time.
    assert_eq!(check(&root, &store, &config).unwrap().0, changes);
    let json = changes[2].to_json();
    assert_eq!(json["path"], "/etc/hosts");
    assert_eq!(json["change"], "modified");
    assert_ne!(json["before"]["hash"], json["after"]["hash"]);
}

#[test]
fn a_file_replaced_by_a_symlink_is_a_type_change() {
    let (tree, state) = tree();
    let root = HostRoot::at(tree.path());
    let database = state.path().join("fim.db");
    baseline(&root, &database, &FimConfig::default()).unwrap();
    std::fs::remove_file(tree.path().join("etc/passwd")).unwrap();
    std::os::unix::fs::symlink("/tmp/passwd", tree.path().join("etc/passwd")).unwrap();
    let (changes, _) = check(&root, &Baseline::open(&database).unwrap(), &FimConfig::default()).unwrap();
    assert_eq!(summary(&changes), ["/etc/passwd Modified type"]);
}

#[test]
fn names_with_newlines_and_invalid_utf8_are_recorded_exactly() {
    let (tree, state) = tree();
    let odd = std::ffi::OsStr::from_bytes(b"evil\nname\xff");
    std::fs::write(tree.path().join("etc").join(odd), "x").unwrap();
    let root = HostRoot::at(tree.path());
    let database = state.path().join("fim.db");
    baseline(&root, &database, &FimConfig::default()).unwrap();
    std::fs::write(tree.path().join("etc").join(odd), "y").unwrap();
    let (changes, _) = check(&root, &Baseline::open(&database).unwrap(), &FimConfig::default()).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path, b"/etc/evil\nname\xff");
    assert_eq!(changes[0].to_json()["path"], "/etc/evil\nname\\xFF");
}

#[test]
fn the_baseline_database_inside_the_root_is_not_recorded() {
    let (tree, _) = tree();
    let root = HostRoot::at(tree.path());
    let database = tree.path().join("var/lib/fim.db");
    std::fs::create_dir_all(database.parent().unwrap()).unwrap();
    baseline(&root, &database, &FimConfig::default()).unwrap();
    let store = Baseline::open(&database).unwrap();
    write(tree.path(), "/etc/hosts", "changed");
    let (changes, _) = check(&root, &store, &FimConfig::default()).unwrap();
    assert_eq!(summary(&changes), ["/etc/hosts Modified content"]);
}

fn outbox(store: &Baseline) -> Vec<String> {
    store
        .changes_after(0, 1_000_000)
        .unwrap()
        .into_iter()
        .map(|(_, change)| format!("{} {} {}", change["path"].as_str().unwrap(), change["change"].as_str().unwrap(), change["fields"]))
        .collect()
}

#[test]
fn a_rescan_interrupted_and_resumed_while_files_change_reports_every_change_once() {
    let tree = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    // Enough files for several chunks.
    for index in 0..(CHUNK * 3) {
        write(tree.path(), &format!("/data/{:05}", index), "v1");
    }
    let root = HostRoot::at(tree.path());
    let database = state.path().join("fim.db");
    let config = FimConfig { threads: 2, ..FimConfig::default() };
    baseline(&root, &database, &config).unwrap();
    let mut store = Baseline::open(&database).unwrap();
    // Changes before the rescan: in the first chunk, the last chunk, and a removal.
    write(tree.path(), "/data/00001", "v2");
    write(tree.path(), &format!("/data/{:05}", CHUNK * 3 - 1), "v2");
    std::fs::remove_file(tree.path().join("data/00100")).unwrap();
    // The rescan stops after its first chunk (as an agent killed there: only committed chunks count).
    let outcome = rescan(&root, &mut store, &config, None, &mut |_| ControlFlow::Break(())).unwrap();
    assert_eq!(outcome, RescanOutcome::Interrupted { changes: 1 });
    assert_eq!(outbox(&store), ["/data/00001 modified [\"content\"]"]);
    // While it is down, an already compared file changes again and a new one appears.
    write(tree.path(), "/data/00002", "v3");
    write(tree.path(), "/data/zz-new", "new");
    drop(store);
    let mut store = Baseline::open(&database).unwrap();
    let outcome = rescan(&root, &mut store, &config, None, &mut |_| ControlFlow::Continue(())).unwrap();
    assert!(matches!(outcome, RescanOutcome::Completed { changes: 4, .. }), "{outcome:?}");
    let mut reported = outbox(&store);
    reported.sort();
    let last = format!("/data/{:05} modified [\"content\"]", CHUNK * 3 - 1);
    let mut expected =
        vec!["/data/00001 modified [\"content\"]", "/data/00002 modified [\"content\"]", "/data/00100 removed []", &last, "/data/zz-new added []"];
    expected.sort();
    assert_eq!(reported, expected);
    // The baseline now holds the accepted state: nothing more to report.
    assert!(matches!(rescan(&root, &mut store, &config, None, &mut |_| ControlFlow::Continue(())).unwrap(), RescanOutcome::Completed { changes: 0, .. }));
    assert_eq!(check(&root, &store, &config).unwrap().0, Vec::new());
}

#[test]
fn real_time_paths_are_compared_and_accepted_once() {
    let (tree, state) = tree();
    let root = HostRoot::at(tree.path());
    let database = state.path().join("fim.db");
    baseline(&root, &database, &FimConfig::default()).unwrap();
    let mut store = Baseline::open(&database).unwrap();
    write(tree.path(), "/etc/newdir/a", "a");
    std::fs::remove_dir_all(tree.path().join("etc/ssh")).unwrap();
    let changes = apply_paths(&root, &mut store, &FimConfig::default(), &[b"/etc/newdir".to_vec(), b"/etc/ssh".to_vec()], None).unwrap();
    assert_eq!(summary(&changes), ["/etc/newdir Added ", "/etc/newdir/a Added ", "/etc/ssh Removed ", "/etc/ssh/sshd_config Removed "]);
    assert!(apply_paths(&root, &mut store, &FimConfig::default(), &[b"/etc/newdir".to_vec()], None).unwrap().is_empty());
    assert_eq!(check(&root, &store, &FimConfig::default()).unwrap().0, Vec::new());
}

#[test]
fn the_watcher_sees_changes_and_new_directories() {
    let (tree, _) = tree();
    let root = HostRoot::at(tree.path());
    let config = FimConfig { paths: vec!["/etc".to_string()], ..FimConfig::default() };
    let mut watcher = watch::Watcher::new(&root, &config).unwrap();
    assert_eq!(watcher.watched(), 2);
    write(tree.path(), "/etc/hosts", "changed");
    std::fs::create_dir(tree.path().join("etc/new")).unwrap();
    let mut seen = Vec::new();
    for _ in 0..40 {
        if let watch::WatchBatch::Paths(paths) = watcher.wait(std::time::Duration::from_millis(250)) {
            seen.extend(paths.into_iter().map(|path| String::from_utf8(path).unwrap()));
        }
        if seen.contains(&"/etc/hosts".to_string()) && seen.contains(&"/etc/new".to_string()) {
            break;
        }
    }
    assert!(seen.contains(&"/etc/hosts".to_string()) && seen.contains(&"/etc/new".to_string()), "{seen:?}");
    // The new directory is watched too.
    write(tree.path(), "/etc/new/inner", "x");
    let mut inner_seen = false;
    for _ in 0..40 {
        if let watch::WatchBatch::Paths(paths) = watcher.wait(std::time::Duration::from_millis(250)) {
            inner_seen |= paths.iter().any(|path| path == b"/etc/new/inner");
        }
        if inner_seen {
            break;
        }
    }
    assert!(inner_seen);
}

#[test]
fn the_watch_limit_and_a_queue_overflow_are_never_a_silent_gap() {
    let (tree, _) = tree();
    let root = HostRoot::at(tree.path());
    let config = FimConfig::default();
    // Two watches for a tree of more directories: the rest are counted and explained.
    let watcher = watch::Watcher::with_limit(&root, &config, Some(2)).unwrap();
    assert_eq!(watcher.watched(), 2);
    assert!(watcher.unwatched >= 3, "{}", watcher.unwatched);
    assert!(watcher.unwatched_reason.as_deref().unwrap_or_default().contains("watch limit"), "{:?}", watcher.unwatched_reason);
    // More events than the kernel queues (fs.inotify.max_queued_events) before one is read.
    let mut watcher = watch::Watcher::new(&root, &FimConfig { paths: vec!["/var/log".to_string()], ..FimConfig::default() }).unwrap();
    let queued: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events").ok().and_then(|text| text.trim().parse().ok()).unwrap_or(16384);
    for index in 0..(queued / 2 + 100) {
        // Two events each (create, close-write).
        std::fs::write(tree.path().join(format!("var/log/f{index}")), "x").unwrap();
    }
    let mut batch = watcher.wait(std::time::Duration::from_secs(5));
    for _ in 0..20 {
        if matches!(batch, watch::WatchBatch::Rescan(_)) {
            break;
        }
        batch = watcher.wait(std::time::Duration::from_millis(200));
    }
    assert!(matches!(&batch, watch::WatchBatch::Rescan(reason) if reason.contains("overflowed")), "{batch:?}");
}

#[test]
fn the_monitor_finds_at_start_what_changed_while_it_was_not_running() {
    let (tree, state) = tree();
    let root = HostRoot::at(tree.path());
    let database = state.path().join("fim.db");
    baseline(&root, &database, &FimConfig::default()).unwrap();
    write(tree.path(), "/etc/hosts", "changed while down");
    let mut store = Baseline::open(&database).unwrap();
    let mut rescans = 0;
    watch::monitor(&root, &mut store, &FimConfig::default(), &watch::MonitorOptions::default(), None, &mut |event| {
        if let watch::MonitorEvent::RescanFinished { .. } = event {
            rescans += 1;
        }
        if rescans > 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap();
    assert_eq!(outbox(&store), ["/etc/hosts modified [\"content\"]"]);
}
