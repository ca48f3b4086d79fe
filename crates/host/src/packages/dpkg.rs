//! dpkg's database: `/var/lib/dpkg/status` (paragraphs of `Field: value`), and the
//! `/var/lib/dpkg/status.d/*` files distroless images carry instead (one file per package,
//! often without a `Status:` field).

use super::{Manager, Package, PackageProblem, paragraphs};
use crate::fsroot::HostRoot;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d";
/// Problems reported per file before summarising the rest.
const MAX_PROBLEMS_PER_FILE: usize = 20;

/// Package states whose files are on disk (`Status: want flag state`).
fn installed(status: &str) -> bool {
    matches!(status.split_whitespace().nth(2), Some("installed" | "half-configured" | "unpacked" | "half-installed" | "triggers-awaited" | "triggers-pending"))
}

pub fn read(host: &HostRoot, packages: &mut Vec<Package>, problems: &mut Vec<PackageProblem>) {
    let mut files = Vec::new();
    if host.metadata(STATUS).is_ok_and(|metadata| metadata.is_file()) {
        files.push(STATUS.to_string());
    }
    if let Ok(entries) = host.read_dir(STATUS_D) {
        // Distroless also ships `<name>.md5sums` files next to the status files.
        files.extend(entries.into_iter().filter(|entry| !entry.ends_with(".md5sums")));
    }
    for file in files {
        match host.read(&file) {
            Ok(bytes) => parse_into(&file, &String::from_utf8_lossy(&bytes), file != STATUS, packages, problems),
            Err(error) => problems.push(PackageProblem { path: host.display(&file), message: format!("cannot read: {error}") }),
        }
    }
}

/// Parses one status file. `status_optional`: distroless files may omit `Status:`.
pub fn parse_into(path: &str, text: &str, status_optional: bool, packages: &mut Vec<Package>, problems: &mut Vec<PackageProblem>) {
    let mut file_problems: Vec<String> = Vec::new();
    let mut read = 0usize;
    for (line, fields) in paragraphs(text, ':') {
        let field = |name: &str| fields.iter().find(|(key, _, _)| key.eq_ignore_ascii_case(name)).map(|(_, value, _)| value.as_str());
        let Some(name) = field("Package").filter(|name| !name.is_empty() && !name.contains(char::is_whitespace)) else {
            file_problems.push(format!("line {line}: a paragraph without a valid `Package:` field"));
            continue;
        };
        match field("Status") {
            Some(status) if !installed(status) => continue,
            None if !status_optional => {
                file_problems.push(format!("line {line}: package `{name}` has no `Status:` field"));
                continue;
            }
            _ => {}
        }
        let Some(version) = field("Version").filter(|version| !version.is_empty() && !version.contains(char::is_whitespace)) else {
            file_problems.push(format!("line {line}: package `{name}` has no valid `Version:` field"));
            continue;
        };
        // `Source: name` or `Source: name (version)`.
        let (source, source_version) = match field("Source") {
            Some(source) => {
                let mut words = source.split_whitespace();
                let source_name = words.next().map(str::to_string);
                let source_version = words.next().map(|version| version.trim_start_matches('(').trim_end_matches(')').to_string());
                (source_name.filter(|source| source != name), source_version.filter(|source_version| source_version != version))
            }
            None => (None, None),
        };
        packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            arch: field("Architecture").unwrap_or("").to_string(),
            manager: Manager::Dpkg,
            source,
            source_version,
        });
        read += 1;
    }
    if read == 0 && !file_problems.is_empty() {
        problems.push(PackageProblem { path: path.to_string(), message: format!("not a dpkg status file ({})", file_problems[0]) });
        return;
    }
    let extra = file_problems.len().saturating_sub(MAX_PROBLEMS_PER_FILE);
    for message in file_problems.into_iter().take(MAX_PROBLEMS_PER_FILE) {
        problems.push(PackageProblem { path: path.to_string(), message });
    }
    if extra > 0 {
        problems.push(PackageProblem { path: path.to_string(), message: format!("and {extra} more malformed paragraphs") });
    }
}
