//! Notifications of new findings and alerts: what a message says (`render`, pure), how a
//! webhook body is signed (`sign`, HMAC-SHA256), and delivering it over HTTP(S) (`post`).
//!
//! Deduplication, retries and the record of what was sent live in the store's outbox
//! (`vigil-store`); SNS delivery goes through `vigil-collect` (the AWS SDK). This crate only
//! knows targets given as URLs.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Something worth telling someone about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `finding` or `alert`.
    pub kind: String,
    /// Stable across scans: the same finding or alert is never announced twice to a target.
    pub key: String,
    pub severity: String,
    pub title: String,
    pub resource: String,
    pub account_id: String,
    pub region: String,
    /// The finding or alert as vigil stores it.
    pub detail: Value,
}

/// Where notices go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// JSON body `{"source": "vigil", "notices": [...]}`, signed with `X-Vigil-Signature:
    /// sha256=<hex HMAC-SHA256 of the body>` when a secret is set.
    Webhook { url: String },
    /// A Slack-compatible incoming webhook (`{"text": ...}`; Mattermost and others accept it).
    Slack { url: String },
    /// An SNS topic (delivered by the caller through the AWS SDK).
    Sns { topic_arn: String },
}

impl Target {
    /// Parses `webhook:URL`, `slack:URL` or `sns:TOPIC_ARN` (a bare `http(s)://` URL is a webhook).
    pub fn parse(text: &str) -> Result<Target, String> {
        let (scheme, rest) =
            text.split_once(':').ok_or_else(|| format!("`{text}` is not a notification target: use webhook:URL, slack:URL or sns:TOPIC_ARN"))?;
        let url = |rest: &str| {
            if rest.starts_with("http://") || rest.starts_with("https://") {
                Ok(rest.to_string())
            } else {
                Err(format!("`{text}`: the URL must start with http:// or https://"))
            }
        };
        match scheme {
            "webhook" => Ok(Target::Webhook { url: url(rest)? }),
            "http" | "https" => Ok(Target::Webhook { url: text.to_string() }),
            "slack" => Ok(Target::Slack { url: url(rest)? }),
            "sns" if rest.starts_with("arn:") && rest.contains(":sns:") => Ok(Target::Sns { topic_arn: rest.to_string() }),
            "sns" => Err(format!("`{text}`: expected sns:arn:aws:sns:REGION:ACCOUNT:TOPIC")),
            _ => Err(format!("`{text}`: unknown target kind `{scheme}`; use webhook:, slack: or sns:")),
        }
    }

    /// The target as the outbox names it (also how it was written on the command line).
    pub fn name(&self) -> String {
        match self {
            Target::Webhook { url } => format!("webhook:{url}"),
            Target::Slack { url } => format!("slack:{url}"),
            Target::Sns { topic_arn } => format!("sns:{topic_arn}"),
        }
    }
}

/// One message for a target: the body, and for SNS a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// The messages to send a target: one per notice, or one digest for all of them.
pub fn render(target: &Target, notices: &[Notice], digest: bool) -> Vec<Message> {
    let groups: Vec<&[Notice]> = if digest { vec![notices] } else { notices.chunks(1).collect() };
    groups.into_iter().filter(|group| !group.is_empty()).map(|group| render_one(target, group)).collect()
}

fn subject(notices: &[Notice]) -> String {
    match notices {
        [one] => format!("vigil: {} {}: {}", one.severity, one.kind, one.title),
        many => format!("vigil: {} new findings and alerts", many.len()),
    }
}

fn render_one(target: &Target, notices: &[Notice]) -> Message {
    let subject = subject(notices);
    let body = match target {
        Target::Webhook { .. } | Target::Sns { .. } => json!({ "source": "vigil", "notices": notices }).to_string(),
        Target::Slack { .. } => {
            let lines: Vec<String> = notices
                .iter()
                .map(|notice| {
                    format!(
                        "• *{}* {} `{}` on `{}` ({}, {})",
                        escape_slack(&notice.severity),
                        escape_slack(&notice.title),
                        notice.kind,
                        escape_slack(&notice.resource),
                        notice.account_id,
                        notice.region
                    )
                })
                .collect();
            json!({ "text": format!("{}\n{}", escape_slack(&subject), lines.join("\n")) }).to_string()
        }
    };
    Message { subject, body }
}

/// Slack's three control characters in message text.
fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// HMAC-SHA256 (RFC 2104) of the body with the secret, as `sha256=<hex>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if secret.len() > BLOCK {
        key[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(body).finalize();
    let outer = Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize();
    format!("sha256={}", hex::encode(outer))
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot build the request to `{url}`: {reason}")]
    Request { url: String, reason: String },
    #[error("`{url}` could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("`{url}` answered HTTP {status}")]
    Status { url: String, status: u16 },
}

/// POSTs a JSON body, signed when a secret is given; succeeds on any 2xx answer.
pub async fn post(url: &str, body: &str, secret: Option<&[u8]>) -> Result<(), DeliveryError> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|error| DeliveryError::Request { url: url.to_string(), reason: format!("no TLS roots: {error}") })?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let mut request = http::Request::post(url).header("content-type", "application/json").header("user-agent", concat!("vigil/", env!("CARGO_PKG_VERSION")));
    if let Some(secret) = secret {
        request = request.header("x-vigil-signature", sign(secret, body.as_bytes()));
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
        .map_err(|error| DeliveryError::Request { url: url.to_string(), reason: error.to_string() })?;
    let response = tokio::time::timeout(std::time::Duration::from_secs(15), client.request(request))
        .await
        .map_err(|_| DeliveryError::Unreachable { url: url.to_string(), reason: "no answer within 15 s".to_string() })?
        .map_err(|error| DeliveryError::Unreachable { url: url.to_string(), reason: error.to_string() })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) { Ok(()) } else { Err(DeliveryError::Status { url: url.to_string(), status }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_vectors() {
        // Test case 2 and test case 6 (a key longer than the block).
        assert_eq!(sign(b"Jefe", b"what do ya want for nothing?"), "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(
            sign(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn targets_parse_with_clear_errors() {
        assert_eq!(Target::parse("webhook:https://example.com/hook"), Ok(Target::Webhook { url: "https://example.com/hook".into() }));
        assert_eq!(Target::parse("https://example.com/hook"), Ok(Target::Webhook { url: "https://example.com/hook".into() }));
        assert_eq!(Target::parse("slack:https://hooks.slack.com/services/x"), Ok(Target::Slack { url: "https://hooks.slack.com/services/x".into() }));
        assert_eq!(
            Target::parse("sns:arn:aws:sns:eu-west-1:123456789012:alerts"),
            Ok(Target::Sns { topic_arn: "arn:aws:sns:eu-west-1:123456789012:alerts".into() })
        );
        assert!(Target::parse("sns:alerts").unwrap_err().contains("arn:aws:sns"));
        assert!(Target::parse("webhook:ftp://x").unwrap_err().contains("http://"));
        assert!(Target::parse("pager:x").unwrap_err().contains("unknown target kind"));
        assert!(Target::parse("nothing").is_err());
    }

    fn notice(title: &str) -> Notice {
        Notice {
            kind: "finding".into(),
            key: format!("k-{title}"),
            severity: "high".into(),
            title: title.into(),
            resource: "arn:aws:s3:::<b>".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            detail: json!({}),
        }
    }

    #[test]
    fn digest_mode_sends_one_message_and_slack_text_is_escaped() {
        let notices = [notice("one"), notice("two")];
        let webhook = Target::Webhook { url: "https://example.com".into() };
        assert_eq!(render(&webhook, &notices, false).len(), 2);
        let digest = render(&webhook, &notices, true);
        assert_eq!(digest.len(), 1);
        let body: Value = serde_json::from_str(&digest[0].body).unwrap();
        assert_eq!(body["notices"].as_array().unwrap().len(), 2);
        assert_eq!(digest[0].subject, "vigil: 2 new findings and alerts");
        let slack = render(&Target::Slack { url: "https://example.com".into() }, &notices[..1], false);
        let text = serde_json::from_str::<Value>(&slack[0].body).unwrap()["text"].as_str().unwrap().to_string();
        assert!(text.contains("&lt;b&gt;") && !text.contains("<b>"), "{text}");
        assert!(render(&webhook, &[], true).is_empty());
    }
}
