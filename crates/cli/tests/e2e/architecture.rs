//! ARCHITECTURE.md's dependency rules, enforced: the rules are read from its "Dependency
//! rules" table (the one place they are written) and checked against `cargo metadata`'s
//! resolved graph of the workspace (normal and build dependencies; tests may use anything).
//!
//! Two kinds of rule: "only these depend on" (no other workspace crate names such a package
//! as a direct dependency) and "never depend on" (the crate does not reach such a package
//! through any chain of dependencies). A rule about a crate that does not exist yet holds
//! vacuously, so a rule can be written before its crate lands.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Only these crates may depend directly on the packages.
    OnlyThese,
    /// These crates never depend on the packages, directly or not.
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    crates: Vec<String>,
    kind: Kind,
    packages: Vec<String>,
    line: usize,
}

/// A package name pattern: exact, or a prefix ending in `*`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The backticked names of a table cell.
fn names(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The rules of ARCHITECTURE.md's table under the `## Dependency Rules` heading.
fn rules(markdown: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    let mut inside = false;
    for (index, line) in markdown.lines().enumerate() {
        if line.starts_with("## ") {
            inside = line.trim() == "## Dependency Rules";
            continue;
        }
        if !inside || !line.starts_with('|') || line.starts_with("|---") || line.starts_with("| Crates") {
            continue;
        }
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        let [crates, kind, packages, _why] = cells.as_slice() else {
            return Err(format!("ARCHITECTURE.md line {}: a rule row has four cells (crates, rule, dependencies, why)", index + 1));
        };
        let kind = match *kind {
            "only these depend on" => Kind::OnlyThese,
            "never depend on" => Kind::Never,
            other => return Err(format!("ARCHITECTURE.md line {}: unknown rule `{other}`", index + 1)),
        };
        let (crates, packages) = (names(crates), names(packages));
        if crates.is_empty() || packages.is_empty() {
            return Err(format!("ARCHITECTURE.md line {}: a rule names its crates and dependencies in backticks", index + 1));
        }
        rules.push(Rule { crates, kind, packages, line: index + 1 });
    }
    Ok(rules)
}

/// The workspace's dependency graph: package name -> the names it depends on (normal and build
/// dependencies), and the names of the workspace's own crates.
struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
    members: BTreeSet<String>,
}

impl Graph {
    fn from_metadata(metadata: &Value) -> Graph {
        let name_of: BTreeMap<&str, &str> =
            metadata["packages"].as_array().unwrap().iter().map(|package| (package["id"].as_str().unwrap(), package["name"].as_str().unwrap())).collect();
        let members = metadata["workspace_members"].as_array().unwrap().iter().map(|id| name_of[id.as_str().unwrap()].to_string()).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for node in metadata["resolve"]["nodes"].as_array().unwrap() {
            let from = name_of[node["id"].as_str().unwrap()].to_string();
            let targets = edges.entry(from).or_default();
            for dependency in node["deps"].as_array().unwrap() {
                let shipped = dependency["dep_kinds"].as_array().unwrap().iter().any(|kind| kind["kind"].as_str() != Some("dev"));
                if shipped {
                    targets.insert(name_of[dependency["pkg"].as_str().unwrap()].to_string());
                }
            }
        }
        Graph { edges, members }
    }

    /// The shortest chain from `from` to a package matching `pattern` (excluding `from` itself).
    fn chain(&self, from: &str, pattern: &str) -> Option<Vec<String>> {
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(current) = queue.pop_front() {
            for next in self.edges.get(current).into_iter().flatten() {
                if next == from || previous.contains_key(next.as_str()) {
                    continue;
                }
                previous.insert(next, current);
                if matches(pattern, next) {
                    let mut chain = vec![next.clone()];
                    let mut at = next.as_str();
                    while let Some(before) = previous.get(at).copied() {
                        chain.push(before.to_string());
                        if before == from {
                            break;
                        }
                        at = before;
                    }
                    chain.reverse();
                    return Some(chain);
                }
                queue.push_back(next);
            }
        }
        None
    }
}

/// Every way the graph breaks the rules, one sentence each.
fn violations(graph: &Graph, rules: &[Rule]) -> Vec<String> {
    let mut found = Vec::new();
    for rule in rules {
        match rule.kind {
            Kind::OnlyThese => {
                for member in &graph.members {
                    if rule.crates.contains(member) {
                        continue;
                    }
                    for dependency in graph.edges.get(member).into_iter().flatten() {
                        if rule.packages.iter().any(|pattern| matches(pattern, dependency)) {
                            found.push(format!(
                                "`{member}` depends on `{dependency}`, but only {} may (ARCHITECTURE.md line {})",
                                rule.crates.join(", "),
                                rule.line
                            ));
                        }
                    }
                }
            }
            Kind::Never => {
                for krate in rule.crates.iter().filter(|krate| graph.members.contains(*krate)) {
                    for pattern in &rule.packages {
                        if let Some(chain) = graph.chain(krate, pattern) {
                            found.push(format!("`{krate}` depends on `{pattern}` through {} (ARCHITECTURE.md line {})", chain.join(" -> "), rule.line));
                        }
                    }
                }
            }
        }
    }
    found
}

fn architecture() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ARCHITECTURE.md")).unwrap()
}

#[test]
fn the_workspace_keeps_the_dependency_rules_of_architecture_md() {
    let parsed = rules(&architecture()).unwrap();
    assert!(parsed.len() >= 5, "ARCHITECTURE.md's dependency rules table was not found or lost rows: {parsed:?}");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    // The graph of the platform being built: offline, `cargo metadata` cannot resolve the
    // other platforms' dependencies (Android's, Windows') on a machine that never fetched them.
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())).arg("-vV").output().unwrap();
    let host =
        String::from_utf8_lossy(&rustc.stdout).lines().find_map(|line| line.strip_prefix("host: ").map(str::to_string)).expect("rustc -vV names the host");
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let graph = Graph::from_metadata(&serde_json::from_slice(&output.stdout).unwrap());
    assert!(graph.members.contains("vigil-collect") && graph.members.contains("vigil-model"), "{:?}", graph.members);
    let broken = violations(&graph, &parsed);
    assert!(broken.is_empty(), "dependency rules broken:\n{}", broken.join("\n"));
}

/// The checker finds each kind of violation, through a chain, and lets an absent crate pass.
#[test]
fn the_dependency_checker_names_each_broken_rule_and_its_chain() {
    let markdown = "# A\n## Dependency Rules\n\n| Crates | Rule | Dependencies | Why |\n|---|---|---|---|\n\
        | `vigil-collect` | only these depend on | `aws-sdk-*` | edge |\n\
        | `vigil-model` | never depend on | `vigil-*` | shared types |\n\
        | `vigil-agent` | never depend on | `aws-*`, `vigil-store` | no SDK |\n\
        | `vigil-future` | never depend on | `tokio` | not there yet |\n## Next\n| `x` | never depend on | `y` | outside the section |\n";
    let parsed = rules(markdown).unwrap();
    assert_eq!(parsed.len(), 4);
    let graph = |edges: &[(&str, &str)], members: &[&str]| {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            map.entry(from.to_string()).or_default().insert(to.to_string());
        }
        Graph { edges: map, members: members.iter().map(|member| member.to_string()).collect() }
    };
    let clean = graph(
        &[("vigil-collect", "aws-sdk-s3"), ("vigil", "vigil-collect"), ("vigil-agent", "vigil-model")],
        &["vigil-collect", "vigil", "vigil-model", "vigil-agent"],
    );
    assert!(violations(&clean, &parsed).is_empty(), "{:?}", violations(&clean, &parsed));
    let broken = graph(
        &[
            ("vigil-collect", "aws-sdk-s3"),
            ("vigil", "aws-sdk-ec2"),
            ("vigil-model", "vigil-checks"),
            ("vigil-agent", "vigil-host"),
            ("vigil-host", "vigil-collect"),
        ],
        &["vigil-collect", "vigil", "vigil-model", "vigil-agent", "vigil-host", "vigil-checks"],
    );
    let found = violations(&broken, &parsed);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("`vigil` depends on `aws-sdk-ec2`, but only vigil-collect may"), "{}", found[0]);
    assert!(found[1].contains("`vigil-model` depends on `vigil-*` through vigil-model -> vigil-checks"), "{}", found[1]);
    assert!(found[2].contains("vigil-agent -> vigil-host -> vigil-collect -> aws-sdk-s3"), "{}", found[2]);
    assert!(rules("## Dependency Rules\n| `a` | sometimes depend on | `b` | why |\n").unwrap_err().contains("unknown rule"));
}
