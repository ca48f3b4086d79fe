//! Runs every case of the evaluation corpus (`tests/corpus/*.json`, written from AWS's
//! documentation; each case names its section in `doc`) through the engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use vigil_iam::simulate::parse_case;

#[test]
fn every_corpus_case_decides_as_documented() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> =
        std::fs::read_dir(&directory).unwrap().map(|entry| entry.unwrap().path()).filter(|path| path.extension().is_some_and(|ext| ext == "json")).collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for (index, value) in document.as_array().unwrap().iter().enumerate() {
            total += 1;
            let name = value["name"].as_str().unwrap_or_default();
            assert!(value["doc"].as_str().is_some_and(|doc| !doc.is_empty()), "{} case {index} ({name}) has no doc section", file.display());
            let expected = value["expected"].as_str().unwrap();
            let case = parse_case(index, value).unwrap_or_else(|error| panic!("{} case {index} ({name}): {error}", file.display()));
            let evaluation = case.evaluate();
            if evaluation.decision.as_str() != expected {
                failures.push(format!(
                    "{} case {index} ({name}): expected {expected}, got {} ({})",
                    file.file_name().unwrap().to_string_lossy(),
                    evaluation.decision.as_str(),
                    evaluation.explanation.summary
                ));
            }
        }
    }
    assert!(total >= 300, "the corpus holds {total} cases; at least 300 are expected");
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}
