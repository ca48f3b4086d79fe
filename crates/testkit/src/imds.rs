//! A test instance metadata service (IMDSv2 only, as AWS recommends and as instances launched
//! with `HttpTokens=required` serve it): `PUT /latest/api/token` with
//! `X-aws-ec2-metadata-token-ttl-seconds` (1-21600) returns a token; every `GET` needs it in
//! `X-aws-ec2-metadata-token` (401 without it or once it expired); the identity document and
//! its PKCS#7 signature (made by a [`TestCa`]) under `/latest/dynamic/instance-identity/`;
//! instance tags under `/latest/meta-data/tags/instance` (404 unless tags are exposed in
//! metadata, as on EC2). One per simulated instance, on 127.0.0.1 at a free port; a plain
//! HTTP/1.1 server on a thread (one request per connection), since only `vigil-server` uses
//! axum.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http1::{Request, Server, read_request};
use crate::identity::TestCa;

/// What the simulated instance serves; change it while the server runs with [`TestImds::set`].
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub document: String,
    pub pkcs7: String,
    /// `None`: tags are not exposed in instance metadata (404).
    pub tags: Option<BTreeMap<String, String>>,
}

impl Served {
    /// A document signed by `ca` now.
    pub fn signed(ca: &TestCa, document: String, tags: Option<BTreeMap<String, String>>) -> Served {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let pkcs7 = ca.sign(document.as_bytes(), now);
        Served { document, pkcs7, tags }
    }
}

struct Shared {
    served: Mutex<Served>,
    tokens: Mutex<HashMap<String, Instant>>,
    requests: Mutex<Vec<String>>,
    issued: AtomicU64,
}

/// A running test IMDS; stops when dropped.
pub struct TestImds {
    pub url: String,
    shared: Arc<Shared>,
    _server: Server,
}

impl TestImds {
    pub fn start(served: Served) -> TestImds {
        let shared =
            Arc::new(Shared { served: Mutex::new(served), tokens: Mutex::new(HashMap::new()), requests: Mutex::new(Vec::new()), issued: AtomicU64::new(0) });
        let server = {
            let shared = Arc::clone(&shared);
            Server::start(move |stream| {
                let _ = handle(&shared, stream);
            })
        };
        TestImds { url: format!("http://{}", server.address), shared, _server: server }
    }

    pub fn set(&self, served: Served) {
        *self.shared.served.lock().unwrap() = served;
    }

    /// `METHOD path` of every request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

/// IMDS answers in plain text.
fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &str) -> std::io::Result<()> {
    let mut all = vec![("content-type", "text/plain".to_string())];
    all.extend_from_slice(headers);
    crate::http1::respond(stream, status, &all, body)
}

fn handle(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    let Request { method, target: path, headers, .. } = read_request(&stream)?;
    shared.requests.lock().unwrap().push(format!("{method} {path}"));
    if method == "PUT" && path == "/latest/api/token" {
        let ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds").and_then(|text| text.parse::<u64>().ok());
        return match ttl {
            Some(seconds) if (1..=21_600).contains(&seconds) => {
                let token = format!("AQAEA{:016x}{:016x}", std::process::id(), shared.issued.fetch_add(1, Ordering::SeqCst) + 1);
                shared.tokens.lock().unwrap().insert(token.clone(), Instant::now() + Duration::from_secs(seconds));
                respond(&mut stream, "200 OK", &[("x-aws-ec2-metadata-token-ttl-seconds", seconds.to_string())], &token)
            }
            _ => respond(&mut stream, "400 Bad Request", &[], ""),
        };
    }
    if method != "GET" {
        return respond(&mut stream, "405 Method Not Allowed", &[], "");
    }
    let authorised =
        headers.get("x-aws-ec2-metadata-token").is_some_and(|token| shared.tokens.lock().unwrap().get(token).is_some_and(|expiry| Instant::now() < *expiry));
    if !authorised {
        return respond(&mut stream, "401 Unauthorized", &[], "");
    }
    let served = shared.served.lock().unwrap().clone();
    let body = match path.as_str() {
        "/latest/dynamic/instance-identity/document" => Some(served.document),
        "/latest/dynamic/instance-identity/pkcs7" => Some(served.pkcs7),
        "/latest/meta-data/tags/instance" => served.tags.as_ref().map(|tags| tags.keys().cloned().collect::<Vec<_>>().join("\n")),
        other => other.strip_prefix("/latest/meta-data/tags/instance/").and_then(|key| served.tags.as_ref()?.get(key).cloned()),
    };
    match body {
        Some(body) => respond(&mut stream, "200 OK", &[], &body),
        None => respond(&mut stream, "404 Not Found", &[], ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn request(imds: &TestImds, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut stream = TcpStream::connect(imds.url.trim_start_matches("http://")).unwrap();
        let mut text = format!("{method} {path} HTTP/1.1\r\nhost: imds\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        stream.write_all(text.as_bytes()).unwrap();
        let mut reply = String::new();
        std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        (head.split(' ').nth(1).unwrap().parse().unwrap(), body.to_string())
    }

    #[test]
    fn imdsv2_needs_a_token_first_and_serves_the_document_and_tags() {
        let tags = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        let imds = TestImds::start(Served { document: "{doc}".into(), pkcs7: "MIAG".into(), tags: Some(tags) });
        assert_eq!(request(&imds, "GET", "/latest/dynamic/instance-identity/document", &[]).0, 401);
        assert_eq!(request(&imds, "PUT", "/latest/api/token", &[]).0, 400, "the TTL header is required");
        assert_eq!(request(&imds, "PUT", "/latest/api/token", &[("X-aws-ec2-metadata-token-ttl-seconds", "99999")]).0, 400);
        let (status, token) = request(&imds, "PUT", "/latest/api/token", &[("X-aws-ec2-metadata-token-ttl-seconds", "60")]);
        assert_eq!(status, 200);
        let with = [("X-aws-ec2-metadata-token", token.as_str())];
        assert_eq!(request(&imds, "GET", "/latest/dynamic/instance-identity/document", &with), (200, "{doc}".into()));
        assert_eq!(request(&imds, "GET", "/latest/dynamic/instance-identity/pkcs7", &with), (200, "MIAG".into()));
        assert_eq!(request(&imds, "GET", "/latest/meta-data/tags/instance", &with), (200, "env".into()));
        assert_eq!(request(&imds, "GET", "/latest/meta-data/tags/instance/env", &with), (200, "prod".into()));
        assert_eq!(request(&imds, "GET", "/latest/dynamic/instance-identity/document", &[("X-aws-ec2-metadata-token", "forged")]).0, 401);
        imds.set(Served { tags: None, ..Served::default() });
        assert_eq!(request(&imds, "GET", "/latest/meta-data/tags/instance", &with).0, 404, "tags not exposed in metadata");
    }
}
