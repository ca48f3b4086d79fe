//! The agent's client of `vigil serve`: JSON in, JSON out, every reply returned with its status
//! so the callers decide what a refusal means.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use vigil_fleet::wire::Refusal;

use crate::http::Http;

pub struct Server {
    http: Http,
    pub base: String,
}

/// A reply: status, body, and the `Retry-After` header when present.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("the server's reply (HTTP {}) is not what the agent expects: {}", self.status, excerpt(&self.body)))
    }

    /// The server's refusal, or a description of an unexpected reply.
    pub fn refusal(&self) -> Result<Refusal, String> {
        serde_json::from_str(&self.body).map_err(|_| format!("HTTP {}: {}", self.status, excerpt(&self.body)))
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

impl Server {
    pub fn new(base: &str, ca_cert: Option<&Path>) -> anyhow::Result<Server> {
        Ok(Server { http: Http::new(ca_cert, Duration::from_secs(60))?, base: base.trim_end_matches('/').to_string() })
    }

    fn reply(response: crate::http::Response) -> Reply {
        Reply { status: response.status, retry_after: response.header("retry-after").and_then(|value| value.trim().parse().ok()), body: response.body }
    }

    pub fn post<T: Serialize>(&self, path: &str, authorization: Option<&str>, body: &T) -> anyhow::Result<Reply> {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(authorization) = authorization {
            headers.push(("authorization", authorization));
        }
        let response = self
            .http
            .request(http::Method::POST, &format!("{}{path}", self.base), &headers, Some(serde_json::to_vec(body)?))
            .context("cannot reach the server")?;
        Ok(Server::reply(response))
    }

    pub fn get(&self, path: &str, authorization: &str, if_none_match: Option<&str>) -> anyhow::Result<Reply> {
        let quoted = if_none_match.map(|etag| format!("\"{etag}\""));
        let mut headers = vec![("authorization", authorization)];
        if let Some(quoted) = &quoted {
            headers.push(("if-none-match", quoted.as_str()));
        }
        let response = self.http.request(http::Method::GET, &format!("{}{path}", self.base), &headers, None).context("cannot reach the server")?;
        Ok(Server::reply(response))
    }
}
