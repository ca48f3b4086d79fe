//! apk's database, `/lib/apk/db/installed`: paragraphs of `X:value` lines (`P:` name, `V:`
//! version, `A:` architecture, `o:` origin, the source package).

use super::{Manager, Package, PackageProblem, paragraphs};
use crate::fsroot::HostRoot;

const INSTALLED: &str = "/lib/apk/db/installed";

pub fn read(host: &HostRoot, packages: &mut Vec<Package>, problems: &mut Vec<PackageProblem>) {
    match host.read(INSTALLED) {
        Ok(bytes) => parse_into(&host.display(INSTALLED), &String::from_utf8_lossy(&bytes), packages, problems),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => problems.push(PackageProblem { path: host.display(INSTALLED), message: format!("cannot read: {error}") }),
    }
}

pub fn parse_into(path: &str, text: &str, packages: &mut Vec<Package>, problems: &mut Vec<PackageProblem>) {
    for (line, fields) in paragraphs(text, ':') {
        let field = |name: &str| fields.iter().find(|(key, _, _)| key == name).map(|(_, value, _)| value.as_str());
        match (field("P"), field("V")) {
            (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                arch: field("A").unwrap_or("").to_string(),
                manager: Manager::Apk,
                source: field("o").filter(|origin| *origin != name).map(str::to_string),
                source_version: None,
            }),
            _ => problems.push(PackageProblem { path: path.to_string(), message: format!("line {line}: a package without `P:` and `V:`") }),
        }
    }
}
