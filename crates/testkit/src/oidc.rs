//! A test OpenID Connect provider, faithful to the wire format: the discovery document
//! (`/.well-known/openid-configuration`), a JWKS of RSA keys, `/authorize` (which at once sends
//! the browser back with a code for the user the test chose with [`TestOidc::next_login`]) and
//! `/token` (which checks the code, the redirect URI, the PKCE verifier and the client's
//! credentials, by `client_secret_basic` or `client_secret_post` as the discovery document
//! says, and returns an RS256-signed ID token). [`Flaw`] makes a bad token for the negative
//! tests, and [`TestOidc::rotate`] rotates the signing key.
//!
//! The keys are fixed 2048-bit test keys (`oidc/key-*.pem`): generating RSA keys at every test
//! would cost seconds. One plain HTTP/1.1 server on a thread at 127.0.0.1, one request per
//! connection, as [`crate::imds`].

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::http1::{Request, Server, read_request, respond};

/// The client the provider knows.
pub const CLIENT_ID: &str = "vigil-console";
pub const CLIENT_SECRET: &str = "test client secret: not for production";

const KEYS: [(&str, &str); 3] = [
    ("test-key-1", include_str!("../oidc/key-1.pem")),
    ("test-key-2", include_str!("../oidc/key-2.pem")),
    // Never published in the JWKS.
    ("test-key-unpublished", include_str!("../oidc/key-3.pem")),
];

/// What is wrong with the next ID token, for the negative tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flaw {
    #[default]
    None,
    /// `aud` is another client.
    WrongAudience,
    /// `aud` holds this client and another, without `azp`.
    SeveralAudiencesWithoutAzp,
    /// `iss` is not the provider's issuer.
    WrongIssuer,
    /// `exp` an hour ago.
    Expired,
    /// `iat` an hour ahead.
    IssuedInTheFuture,
    /// A byte of the signature changed.
    BadSignature,
    /// `nonce` is not the one of the authorization request.
    WrongNonce,
    /// No `nonce`.
    NoNonce,
    /// `alg: none`, no signature.
    AlgNone,
    /// `alg: HS256`, an HMAC keyed with the provider's public key (in PEM), the key confusion
    /// attack.
    Hs256WithPublicKey,
    /// Signed with a key the JWKS never holds (its `kid` unknown even after a refetch).
    UnknownKey,
}

/// How the client must authenticate to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

/// Who signs in next, and how.
#[derive(Debug, Clone, Default)]
pub struct NextLogin {
    /// Claims of the ID token besides `iss`, `aud`, `exp`, `iat` and `nonce`: `sub`,
    /// `preferred_username`, `groups`...
    pub claims: Map<String, Value>,
    pub flaw: Flaw,
    /// `/authorize` answers with this error (`access_denied`) instead of a code.
    pub error: Option<String>,
}

impl NextLogin {
    /// A user `name` with subject `sub` in `groups`.
    pub fn user(sub: &str, name: &str, groups: &[&str]) -> NextLogin {
        let claims = json!({ "sub": sub, "preferred_username": name, "email": format!("{name}@example.com"), "groups": groups });
        NextLogin { claims: claims.as_object().cloned().unwrap_or_default(), flaw: Flaw::None, error: None }
    }

    pub fn with_flaw(mut self, flaw: Flaw) -> NextLogin {
        self.flaw = flaw;
        self
    }
}

/// A code issued by `/authorize`, waiting for `/token`.
struct Grant {
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    challenge: String,
    login: NextLogin,
}

struct Shared {
    issuer: Mutex<String>,
    auth: ClientAuth,
    next: Mutex<NextLogin>,
    grants: Mutex<HashMap<String, Grant>>,
    /// The index in [`KEYS`] of the signing key, which the JWKS publishes.
    current_key: Mutex<usize>,
    requests: Mutex<Vec<String>>,
    issued: AtomicU64,
    /// `/authorize` shows a page whose button sends the browser back (as a real provider's
    /// login form does), so that the way back starts at the provider's site.
    consent: AtomicBool,
    /// The answers waiting behind the consent page, by ticket.
    consents: Mutex<HashMap<String, String>>,
}

/// A running test provider; stops when dropped.
pub struct TestOidc {
    /// The issuer identifier (`http://127.0.0.1:PORT`), as the discovery document says it.
    pub issuer: String,
    shared: Arc<Shared>,
    server: Server,
}

impl TestOidc {
    /// A provider whose token endpoint takes `client_secret_basic`.
    pub fn start() -> TestOidc {
        TestOidc::start_with(ClientAuth::Basic)
    }

    pub fn start_with(auth: ClientAuth) -> TestOidc {
        TestOidc::start_as(auth, "127.0.0.1")
    }

    /// A provider on 127.0.0.1 whose issuer names it `host` (`localhost`: another site than a
    /// console at 127.0.0.1, as a real provider is, for the browser's `SameSite` rules).
    pub fn start_as(auth: ClientAuth, host: &str) -> TestOidc {
        // The issuer names the port before the server starts: the shared state holds it, and
        // the handler reads it from there.
        let issuer_at = |port: u16| format!("http://{host}:{port}");
        let shared = Arc::new(Shared {
            issuer: Mutex::new(String::new()),
            auth,
            next: Mutex::new(NextLogin::default()),
            grants: Mutex::new(HashMap::new()),
            current_key: Mutex::new(0),
            requests: Mutex::new(Vec::new()),
            issued: AtomicU64::new(0),
            consent: AtomicBool::new(false),
            consents: Mutex::new(HashMap::new()),
        });
        let server = {
            let shared = Arc::clone(&shared);
            Server::start(move |stream| {
                let _ = handle(&shared, stream);
            })
        };
        let issuer = issuer_at(server.address.port());
        *shared.issuer.lock().unwrap() = issuer.clone();
        TestOidc { issuer, shared, server }
    }

    /// The user and claims (and flaw) of the next sign-in.
    pub fn next_login(&self, login: NextLogin) {
        *self.shared.next.lock().unwrap() = login;
    }

    /// Whether `/authorize` first shows a page with a "Sign in" button (`#consent`, a form
    /// posted to the provider) instead of sending the browser back at once: for browser tests,
    /// where the navigation back to the console must start at the provider's site.
    pub fn require_consent(&self, consent: bool) {
        self.shared.consent.store(consent, Ordering::SeqCst);
    }

    /// Rotates the signing key: the JWKS now publishes only the next key, and tokens are signed
    /// with it.
    pub fn rotate(&self) {
        let mut current = self.shared.current_key.lock().unwrap();
        *current = (*current + 1) % 2;
    }

    /// `METHOD path` (without the query) of every request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// What a browser does at the authorization endpoint: GETs `url` and returns where the
    /// provider sends it back (the `Location` of its 302).
    pub fn authorize(&self, url: &str) -> String {
        let path = url.strip_prefix(&self.issuer).unwrap_or_else(|| panic!("`{url}` is not at the provider `{}`", self.issuer));
        let mut stream = TcpStream::connect(self.server.address).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n", self.server.address).unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 302"), "the provider did not redirect: {reply}");
        reply.lines().find_map(|line| line.strip_prefix("location: ")).unwrap().trim().to_string()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn private_key(index: usize) -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_pem(KEYS[index].1).unwrap()
}

fn jwk(index: usize) -> Value {
    let public = private_key(index).to_public_key();
    json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEYS[index].0, "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()) })
}

/// Percent-decoding of a query or form value (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect()
}

fn encode(text: &str) -> String {
    text.bytes().map(|byte| if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect()
}

fn json_reply(stream: &mut TcpStream, status: &str, body: &Value) -> std::io::Result<()> {
    respond(stream, status, &[("content-type", "application/json".into()), ("cache-control", "no-store".into())], &body.to_string())
}

fn token_error(stream: &mut TcpStream, status: &str, error: &str, description: &str) -> std::io::Result<()> {
    json_reply(stream, status, &json!({ "error": error, "error_description": description }))
}

fn handle(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    let Request { method, target, headers, body } = read_request(&stream)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    shared.requests.lock().unwrap().push(format!("{method} {path}"));
    let issuer = shared.issuer.lock().unwrap().clone();
    match (method.as_str(), path) {
        ("GET", "/.well-known/openid-configuration") => {
            let auth = match shared.auth {
                ClientAuth::Basic => "client_secret_basic",
                ClientAuth::Post => "client_secret_post",
            };
            let document = json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "groups"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [auth],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "email", "groups"],
            });
            json_reply(&mut stream, "200 OK", &document)
        }
        ("GET", "/jwks") => {
            let current = *shared.current_key.lock().unwrap();
            json_reply(&mut stream, "200 OK", &json!({ "keys": [jwk(current)] }))
        }
        ("GET", "/authorize") => authorize(shared, &mut stream, &form(query)),
        ("POST", "/token") => token(shared, &mut stream, &issuer, &headers, &form(&body)),
        ("POST", "/authorize/consent") => {
            let ticket = form(&body).get("ticket").cloned().unwrap_or_default();
            match shared.consents.lock().unwrap().remove(&ticket) {
                Some(location) => respond(&mut stream, "302 Found", &[("location", location)], ""),
                None => respond(&mut stream, "400 Bad Request", &[], "unknown ticket"),
            }
        }
        _ => respond(&mut stream, "404 Not Found", &[], ""),
    }
}

fn authorize(shared: &Shared, stream: &mut TcpStream, query: &HashMap<String, String>) -> std::io::Result<()> {
    let get = |name: &str| query.get(name).cloned().unwrap_or_default();
    let problem = if get("response_type") != "code" {
        Some("response_type must be code")
    } else if get("client_id") != CLIENT_ID {
        Some("unknown client_id")
    } else if !get("scope").split(' ').any(|scope| scope == "openid") {
        Some("the scope lacks openid")
    } else if get("code_challenge_method") != "S256" || get("code_challenge").len() != 43 {
        Some("PKCE with S256 is required")
    } else if get("redirect_uri").is_empty() {
        Some("no redirect_uri")
    } else {
        None
    };
    if let Some(problem) = problem {
        return respond(stream, "400 Bad Request", &[], problem);
    }
    let login = shared.next.lock().unwrap().clone();
    let redirect_uri = get("redirect_uri");
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let issuer = shared.issuer.lock().unwrap().clone();
    let location = match &login.error {
        Some(error) => format!("{redirect_uri}{separator}error={}&state={}", encode(error), encode(&get("state"))),
        None => {
            let code = format!("code-{}-{}", std::process::id(), shared.issued.fetch_add(1, Ordering::SeqCst));
            let grant = Grant {
                client_id: get("client_id"),
                redirect_uri: redirect_uri.clone(),
                nonce: query.get("nonce").cloned(),
                challenge: get("code_challenge"),
                login,
            };
            shared.grants.lock().unwrap().insert(code.clone(), grant);
            format!("{redirect_uri}{separator}code={}&state={}&iss={}", encode(&code), encode(&get("state")), encode(&issuer))
        }
    };
    if shared.consent.load(Ordering::SeqCst) {
        let ticket = format!("ticket-{}", shared.issued.fetch_add(1, Ordering::SeqCst));
        shared.consents.lock().unwrap().insert(ticket.clone(), location);
        let page = format!(
            "<!doctype html><html><head><title>Test provider</title></head><body><form method=\"post\" action=\"/authorize/consent\">\
             <input type=\"hidden\" name=\"ticket\" value=\"{ticket}\"><button id=\"consent\" type=\"submit\">Sign in</button></form></body></html>"
        );
        return respond(stream, "200 OK", &[("content-type", "text/html; charset=utf-8".into())], &page);
    }
    respond(stream, "302 Found", &[("location", location)], "")
}

fn token(shared: &Shared, stream: &mut TcpStream, issuer: &str, headers: &HashMap<String, String>, form: &HashMap<String, String>) -> std::io::Result<()> {
    let basic = headers.get("authorization").and_then(|value| value.strip_prefix("Basic ")).and_then(|encoded| {
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        Some((decode(id), decode(secret)))
    });
    let posted = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => None,
    };
    let credentials = match shared.auth {
        ClientAuth::Basic => basic,
        ClientAuth::Post => posted,
    };
    if credentials != Some((CLIENT_ID.to_string(), CLIENT_SECRET.to_string())) {
        return token_error(stream, "401 Unauthorized", "invalid_client", "wrong client credentials or authentication method");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return token_error(stream, "400 Bad Request", "unsupported_grant_type", "");
    }
    let Some(grant) = form.get("code").and_then(|code| shared.grants.lock().unwrap().remove(code)) else {
        return token_error(stream, "400 Bad Request", "invalid_grant", "unknown or used code");
    };
    if grant.client_id != CLIENT_ID || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return token_error(stream, "400 Bad Request", "invalid_grant", "redirect_uri differs from the authorization request's");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if b64(&Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return token_error(stream, "400 Bad Request", "invalid_grant", "PKCE verification failed");
    }
    let id_token = id_token(shared, issuer, &grant);
    json_reply(stream, "200 OK", &json!({ "access_token": "test-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// HMAC-SHA256 (RFC 2104), for the HS256 key confusion token.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|key_byte| key_byte ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().to_vec()
}

fn id_token(shared: &Shared, issuer: &str, grant: &Grant) -> String {
    let flaw = grant.login.flaw;
    let now = now();
    let mut claims = grant.login.claims.clone();
    let audience = match flaw {
        Flaw::WrongAudience => json!("another-client"),
        Flaw::SeveralAudiencesWithoutAzp => json!([CLIENT_ID, "another-client"]),
        _ => json!(CLIENT_ID),
    };
    claims.insert("iss".into(), json!(if flaw == Flaw::WrongIssuer { format!("{issuer}/other") } else { issuer.to_string() }));
    claims.insert("aud".into(), audience);
    let (issued, expires) = match flaw {
        Flaw::Expired => (now - 7200, now - 3600),
        Flaw::IssuedInTheFuture => (now + 3600, now + 7200),
        _ => (now, now + 300),
    };
    claims.insert("iat".into(), json!(issued));
    claims.insert("exp".into(), json!(expires));
    match (flaw, &grant.nonce) {
        (Flaw::NoNonce, _) => {}
        (Flaw::WrongNonce, _) => {
            claims.insert("nonce".into(), json!("not-the-nonce-of-this-sign-in"));
        }
        (_, Some(nonce)) => {
            claims.insert("nonce".into(), json!(nonce));
        }
        (_, None) => {}
    }
    let current = *shared.current_key.lock().unwrap();
    let key_index = if flaw == Flaw::UnknownKey { 2 } else { current };
    let payload = b64(Value::Object(claims).to_string().as_bytes());
    match flaw {
        Flaw::AlgNone => format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#)),
        Flaw::Hs256WithPublicKey => {
            let header = b64(json!({ "alg": "HS256", "typ": "JWT", "kid": KEYS[current].0 }).to_string().as_bytes());
            use rsa::pkcs8::EncodePublicKey as _;
            let public_pem = private_key(current).to_public_key().to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
            let signature = hmac_sha256(public_pem.as_bytes(), format!("{header}.{payload}").as_bytes());
            format!("{header}.{payload}.{}", b64(&signature))
        }
        _ => {
            let header = b64(json!({ "alg": "RS256", "typ": "JWT", "kid": KEYS[key_index].0 }).to_string().as_bytes());
            let signing = SigningKey::<Sha256>::new(private_key(key_index));
            let mut signature = signing.sign(format!("{header}.{payload}").as_bytes()).to_vec();
            if flaw == Flaw::BadSignature {
                signature[10] ^= 0x01;
            }
            format!("{header}.{payload}.{}", b64(&signature))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_undoes_encoding_and_hmac_matches_rfc_4231() {
        assert_eq!(decode(&encode("a b/c?d=e&f%")), "a b/c?d=e&f%");
        assert_eq!(decode("a+b%2"), "a b%2");
        // RFC 4231 test case 2.
        assert_eq!(hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}
