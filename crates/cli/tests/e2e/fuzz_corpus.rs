//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and the inputs of crashes the
//! fuzzers found (`fuzz/regressions/<target>/`) through every fuzz target, so a regression
//! fails the ordinary test suite without AFL. The targets are `fuzz/src/targets.rs`, shared
//! with the AFL harnesses.

#[path = "../../../../fuzz/src/targets.rs"]
mod targets;

use std::path::PathBuf;

fn fuzz_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn every_fuzz_target_survives_its_committed_corpus_and_regressions() {
    assert!(targets::samples_are_sound(), "a target's fixed sample inputs failed to build");
    for (name, target) in targets::TARGETS {
        let mut replayed = 0;
        for folder in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz_directory().join(folder).join(name)) else { continue };
            for entry in entries.map(Result::unwrap) {
                let data = std::fs::read(entry.path()).unwrap();
                // A panic names the input: the test harness prints it with the failure.
                eprintln!("{name}: {}", entry.path().display());
                target(&data);
                replayed += 1;
            }
        }
        assert!(replayed > 0, "no corpus for the fuzz target `{name}`");
        // The empty input and a truncated UTF-8 sequence, for every target.
        target(b"");
        target(&[0xE2, 0x82]);
    }
}
