//! The instance metadata service, IMDSv2 only: `PUT /latest/api/token` (with
//! `X-aws-ec2-metadata-token-ttl-seconds`), then `GET`s carrying the token: the identity
//! document and its PKCS#7 signature, and the instance's tags when they are exposed in metadata.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, bail};
use vigil_fleet::wire::Identity;

use crate::http::Http;

/// Where IMDS answers on EC2.
pub const DEFAULT_URL: &str = "http://169.254.169.254";

/// What the instance says about itself.
#[derive(Debug, Clone)]
pub struct InstanceIdentity {
    pub identity: Identity,
    pub tags: BTreeMap<String, String>,
}

fn get(http: &Http, base: &str, path: &str, token: &str) -> anyhow::Result<Option<String>> {
    let response = http
        .request(http::Method::GET, &format!("{base}{path}"), &[("x-aws-ec2-metadata-token", token)], None)
        .with_context(|| format!("IMDS `GET {path}`"))?;
    match response.status {
        200 => Ok(Some(response.body)),
        404 => Ok(None),
        status => bail!("IMDS `GET {path}` answered HTTP {status}"),
    }
}

/// Reads the signed identity document (and tags, when exposed) from IMDS at `base`.
pub fn read(base: &str) -> anyhow::Result<InstanceIdentity> {
    let base = base.trim_end_matches('/');
    // IMDS answers in milliseconds; off EC2 the address does not answer at all, so fail fast.
    let http = Http::new(None, Duration::from_secs(3))?;
    let response = http
        .request(http::Method::PUT, &format!("{base}/latest/api/token"), &[("x-aws-ec2-metadata-token-ttl-seconds", "300")], None)
        .with_context(|| format!("cannot reach the instance metadata service at {base} (not on EC2, or IMDS blocked? then enrol with --token)"))?;
    if response.status != 200 {
        bail!("IMDS refused a session token: HTTP {} (is the metadata service enabled, and its hop limit high enough?)", response.status);
    }
    let token = response.body.trim().to_string();
    let document = get(&http, base, "/latest/dynamic/instance-identity/document", &token)?.context("IMDS has no identity document (HTTP 404)")?;
    let pkcs7 = get(&http, base, "/latest/dynamic/instance-identity/pkcs7", &token)?.context("IMDS has no PKCS#7 signature (HTTP 404)")?;
    let mut tags = BTreeMap::new();
    // Tags are in metadata only when the instance allows it (InstanceMetadataTags=enabled).
    if let Some(keys) = get(&http, base, "/latest/meta-data/tags/instance", &token).unwrap_or(None) {
        for key in keys.lines().map(str::trim).filter(|key| !key.is_empty()).take(50) {
            if let Ok(Some(value)) = get(&http, base, &format!("/latest/meta-data/tags/instance/{key}"), &token) {
                tags.insert(key.to_string(), value);
            }
        }
    }
    Ok(InstanceIdentity { identity: Identity { document, pkcs7 }, tags })
}
