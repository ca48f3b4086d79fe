//! The advisories for the vulnerability module, from the server (`GET /agent/v1/osv`): when
//! the policy enables `vulns` without an `osv` path on the host, the agent fetches its
//! distribution's advisories, a page at a time, into the module's state directory
//! (`modules/vulns/server-osv/`, one file per page), replacing its copy whole when the
//! server's version changes and keeping it when the server cannot be reached. The module
//! reads that directory like any directory of OSV records.

use std::path::Path;

use anyhow::{Context as _, bail};
use vigil_fleet::EffectivePolicy;
use vigil_fleet::wire::{self, OsvPage};
use vigil_host::vulns::module::SERVER_OSV_DIR;

use crate::client::Server;

/// The file beside the copy holding the version it is.
const VERSION_FILE: &str = "server-osv.version";

/// The most pages one sync reads (2,000 records each: 2 million advisories).
const MAX_PAGES: usize = 1_000;

/// Whether the policy wants the server's advisories: `vulns` enabled without an `osv` path.
pub fn wanted(policy: &EffectivePolicy) -> bool {
    let settings = policy.module("vulns");
    settings.enabled && settings.get::<String>("osv").is_none()
}

/// The OSV ecosystem name (without release) of the host under `root`.
pub fn host_ecosystem(root: &Path) -> anyhow::Result<String> {
    let host = if root == Path::new("/") { vigil_host::fsroot::HostRoot::live() } else { vigil_host::fsroot::HostRoot::at(root) };
    let os = vigil_host::packages::os_release(&host).context("no /etc/os-release: the distribution, and so its advisories, is unknown")?;
    let ecosystem =
        vigil_host::vulns::host_ecosystem(&os).with_context(|| format!("`{}` {} is not a distribution OSV publishes advisories for", os.id, os.version_id))?;
    Ok(ecosystem.name)
}

/// Brings the copy up to the server's version; returns the version held afterwards, or `None`
/// when it was current already.
pub fn sync(server: &Server, authorization: &str, state_dir: &Path, root: &Path) -> anyhow::Result<Option<String>> {
    let ecosystem = host_ecosystem(root)?;
    let module_dir = state_dir.join("modules").join("vulns");
    crate::state::ensure_private_dir(&module_dir)?;
    let held = std::fs::read_to_string(module_dir.join(VERSION_FILE)).ok().map(|text| text.trim().to_string());
    let copy = module_dir.join(SERVER_OSV_DIR);
    let held = held.filter(|_| copy.is_dir());
    let incoming = module_dir.join(format!("{SERVER_OSV_DIR}.incoming"));
    let _ = std::fs::remove_dir_all(&incoming);
    crate::state::ensure_private_dir(&incoming)?;
    let mut after = String::new();
    let mut version = None;
    for page_number in 1..=MAX_PAGES {
        let path = format!("{}?ecosystem={}&after={}", wire::OSV, encode(&ecosystem), encode(&after));
        let reply = server.get(&path, authorization, if after.is_empty() { held.as_deref() } else { None })?;
        if reply.status == 304 {
            let _ = std::fs::remove_dir_all(&incoming);
            return Ok(None);
        }
        if !reply.ok() {
            let _ = std::fs::remove_dir_all(&incoming);
            let why = reply.refusal().map(|refusal| refusal.error).unwrap_or_else(|text| text);
            bail!("the server sent no advisories for `{ecosystem}`: {why}");
        }
        let page: OsvPage = reply.json()?;
        if version.as_ref().is_some_and(|version| *version != page.version) {
            let _ = std::fs::remove_dir_all(&incoming);
            bail!("the server's advisories for `{ecosystem}` changed during the download; the next sync starts again");
        }
        let file = incoming.join(format!("page-{page_number:05}.json"));
        std::fs::write(&file, serde_json::to_vec(&page.records)?).with_context(|| format!("cannot write `{}`", file.display()))?;
        version = Some(page.version);
        match page.next {
            Some(next) => after = next,
            None => break,
        }
    }
    let Some(version) = version else { bail!("the server sent no page") };
    // The old copy is moved aside before the new one takes its place, so a module run
    // between the two renames is the only one that can miss it.
    let old = module_dir.join(format!("{SERVER_OSV_DIR}.old"));
    let _ = std::fs::remove_dir_all(&old);
    let _ = std::fs::rename(&copy, &old);
    std::fs::rename(&incoming, &copy).with_context(|| format!("cannot move the advisories into `{}`", copy.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    std::fs::write(module_dir.join(VERSION_FILE), &version).with_context(|| format!("cannot write `{}`", module_dir.join(VERSION_FILE).display()))?;
    Ok(Some(version))
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::encode("Red Hat"), "Red%20Hat");
        assert_eq!(super::encode("DSA-1&x=é"), "DSA-1%26x%3D%C3%A9");
    }
}
