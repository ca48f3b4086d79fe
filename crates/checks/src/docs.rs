//! Renders the catalog's documentation (docs/checks.md) from the checks' own metadata.

use std::fmt::Write as _;

use crate::CHECKS;

/// The Markdown page listing every check.
pub fn catalog_markdown() -> String {
    let mut page = String::new();
    page.push_str("# Check catalog\n\n");
    page.push_str("Generated from the checks' metadata by `crates/checks/src/docs.rs`; do not edit by hand.\n");
    page.push_str("Regenerate with `VIGIL_BLESS=1 cargo test -p vigil-checks docs`.\n\n");
    let _ = writeln!(page, "{} checks.\n", CHECKS.len());
    page.push_str("| id | service | severity | title | frameworks |\n|---|---|---|---|---|\n");
    for check in CHECKS {
        let metadata = check.metadata();
        let frameworks: Vec<String> = metadata.frameworks.iter().map(|(framework, requirement)| format!("{framework} {requirement}")).collect();
        let _ = writeln!(
            page,
            "| [`{}`](#{}) | {} | {} | {} | {} |",
            metadata.id,
            metadata.id,
            metadata.service,
            metadata.severity.as_str(),
            metadata.title,
            frameworks.join(", ")
        );
    }
    for check in CHECKS {
        let metadata = check.metadata();
        let reads: Vec<String> =
            metadata.reads.iter().map(|read| format!("`{read}`{}", if read.per_region { " in every region" } else { " for the account" })).collect();
        let reads = if reads.is_empty() { "none declared (only calls about each resource)".to_string() } else { reads.join(", ") };
        let _ = write!(
            page,
            "\n## {}\n\n**{}** — {} severity, resource type `{}`.\n\n{}\n\n**Reads.** {} (when one was not read, the check reports ERROR naming it there).\n\n**Remediation.** {}\n\n```sh\n{}\n```\n\n```hcl\n{}\n```\n\nReferences: {}\n",
            metadata.id,
            metadata.title,
            metadata.severity.as_str(),
            metadata.resource_type,
            metadata.risk,
            reads,
            metadata.remediation.text,
            metadata.remediation.cli,
            metadata.remediation.terraform,
            metadata.references.join(", ")
        );
    }
    page
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_checks_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/checks.md");
        let expected = super::catalog_markdown();
        if std::env::var_os("VIGIL_BLESS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(actual == expected, "docs/checks.md is stale: run `VIGIL_BLESS=1 cargo test -p vigil-checks docs`");
    }
}
