//! The labelled corpus (`corpus.tsv`: true secrets and look-alikes, written for vigil, all
//! random fakes): precision and recall per kind and overall. The run prints the table that
//! BENCHMARKS.md records; the test fails below 0.95 precision or recall.

use std::collections::BTreeMap;

#[test]
fn precision_and_recall_on_the_labelled_corpus() {
    let corpus = include_str!("corpus.tsv");
    // Per kind: (true positives, false positives, false negatives).
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut errors = Vec::new();
    for (number, line) in corpus.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (expected, text) = line.split_once('\t').unwrap_or_else(|| panic!("corpus line {}: no tab", number + 1));
        let text = text.replace("\\n", "\n");
        let found: Vec<String> = vigil_secrets::scan(&text).iter().map(|finding| finding.kind.as_str().to_string()).collect();
        for finding in vigil_secrets::scan(&text) {
            // The redacted form never holds a 12-character run of the line (the secret's part).
            let redacted = finding.redacted.as_str();
            let chars: Vec<char> = text.chars().collect();
            let leaked = chars
                .windows(12)
                .map(|window| window.iter().collect::<String>())
                .filter(|run| run.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '+'))
                .any(|run| redacted.contains(&run));
            assert!(!leaked, "line {}: {finding:?}", number + 1);
        }
        if expected == "none" {
            for kind in &found {
                counts.entry(kind.clone()).or_default().1 += 1;
                errors.push(format!("line {}: look-alike reported as {kind}: {text}", number + 1));
            }
        } else {
            let entry = counts.entry(expected.to_string()).or_default();
            if found.iter().any(|kind| kind == expected) {
                entry.0 += 1;
            } else {
                entry.2 += 1;
                errors.push(format!("line {}: {expected} missed (found {found:?}): {text}", number + 1));
            }
            for kind in found.iter().filter(|kind| *kind != expected) {
                counts.entry(kind.clone()).or_default().1 += 1;
                errors.push(format!("line {}: extra {kind} in a {expected} line", number + 1));
            }
        }
    }
    let (tp, fp, fn_): (usize, usize, usize) = counts.values().fold((0, 0, 0), |acc, c| (acc.0 + c.0, acc.1 + c.1, acc.2 + c.2));
    println!("kind                        tp  fp  fn");
    for (kind, (t, f, n)) in &counts {
        println!("{kind:<27} {t:>3} {f:>3} {n:>3}");
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!("overall: precision {precision:.3}, recall {recall:.3} ({tp} true positives, {fp} false positives, {fn_} missed)");
    for error in &errors {
        println!("{error}");
    }
    assert!(precision >= 0.95 && recall >= 0.95, "precision {precision:.3}, recall {recall:.3}:\n{}", errors.join("\n"));
}
