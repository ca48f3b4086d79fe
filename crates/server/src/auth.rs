//! Who may use the console: one access token (generated at first start, printed once, kept
//! only as its SHA-256), browser sessions created by logging in with it (HttpOnly, SameSite
//! Strict cookies), and CSRF protection for state-changing requests made with a session.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::ServerError;

/// Random bytes as hex, from the operating system's generator.
pub fn random_hex(bytes: usize) -> Result<String, ServerError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).map_err(|error| ServerError::Random(error.to_string()))?;
    Ok(hex::encode(buffer))
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares without leaking where the first difference is.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token's hash, read from `path`; on first start a new token is generated, its hash
/// written (mode 0600) and the token returned so the caller can print it once.
pub fn load_or_create(path: &Path) -> Result<(String, Option<String>), ServerError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let hash = text.trim().to_string();
            if hash.len() != 64 || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(ServerError::TokenFile { path: path.display().to_string(), reason: "not a SHA-256 hash in hex".into() });
            }
            Ok((hash, None))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let token = random_hex(32)?;
            let hash = digest(&token);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|error| ServerError::TokenFile { path: path.display().to_string(), reason: error.to_string() })?;
            }
            write_private(path, &hash).map_err(|error| ServerError::TokenFile { path: path.display().to_string(), reason: error.to_string() })?;
            Ok((hash, Some(token)))
        }
        Err(error) => Err(ServerError::TokenFile { path: path.display().to_string(), reason: error.to_string() }),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// A browser session: its id (the cookie) and its CSRF token (sent back in a header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub csrf: String,
}

/// How long a browser session lasts from its login (the cookie's `Max-Age` too).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The token's hash and the live sessions (id -> CSRF token and when it was opened).
#[derive(Debug)]
pub struct Auth {
    token_hash: String,
    lifetime: Duration,
    sessions: Mutex<HashMap<String, (String, Instant)>>,
}

impl Auth {
    pub fn new(token_hash: String) -> Auth {
        Auth::with_lifetime(token_hash, SESSION_LIFETIME)
    }

    pub fn with_lifetime(token_hash: String, lifetime: Duration) -> Auth {
        Auth { token_hash, lifetime, sessions: Mutex::new(HashMap::new()) }
    }

    pub fn token_is_valid(&self, token: &str) -> bool {
        same(&digest(token.trim()), &self.token_hash)
    }

    /// Opens a session for a valid token.
    pub fn login(&self, token: &str) -> Result<Option<Session>, ServerError> {
        if !self.token_is_valid(token) {
            return Ok(None);
        }
        let session = Session { id: random_hex(32)?, csrf: random_hex(32)? };
        if let Ok(mut sessions) = self.sessions.lock() {
            // Forget the expired ones while here, so the map does not grow with old logins.
            let lifetime = self.lifetime;
            sessions.retain(|_, (_, opened)| opened.elapsed() < lifetime);
            sessions.insert(session.id.clone(), (session.csrf.clone(), Instant::now()));
        }
        Ok(Some(session))
    }

    /// The session a cookie names, if it is live and not expired.
    pub fn session(&self, id: &str) -> Option<Session> {
        let sessions = self.sessions.lock().ok()?;
        let (csrf, opened) = sessions.get(id)?;
        (opened.elapsed() < self.lifetime).then(|| Session { id: id.to_string(), csrf: csrf.clone() })
    }

    pub fn logout(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// `Authorization: Bearer <token>`: not sent by browsers on their own, so no CSRF risk.
    Token,
    /// The session cookie: state-changing requests must also carry the session's CSRF token.
    Session(Session),
}

/// Decides who the caller is from the `Authorization` and `Cookie` headers.
pub fn caller(auth: &Auth, authorization: Option<&str>, cookie: Option<&str>) -> Option<Caller> {
    if let Some(token) = authorization.and_then(vigil_fleet::wire::bearer) {
        return auth.token_is_valid(token).then_some(Caller::Token);
    }
    let id = cookie?.split(';').map(str::trim).find_map(|pair| pair.strip_prefix("vigil_session="))?;
    auth.session(id).map(Caller::Session)
}

/// A state-changing request is allowed with the token, or with a session whose CSRF header
/// matches (a cross-site form cannot set that header).
pub fn may_change(caller: &Caller, csrf_header: Option<&str>) -> bool {
    match caller {
        Caller::Token => true,
        Caller::Session(session) => csrf_header.is_some_and(|header| same(header, &session.csrf)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_sessions_and_csrf() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("console-token");
        let (hash, token) = load_or_create(&path).unwrap();
        let token = token.unwrap();
        assert_eq!(load_or_create(&path).unwrap(), (hash.clone(), None), "the token is shown once");
        let auth = Auth::new(hash);
        assert_eq!(caller(&auth, Some(&format!("Bearer {token}")), None), Some(Caller::Token));
        assert_eq!(caller(&auth, Some("Bearer nope"), None), None);
        // The scheme is case-insensitive (RFC 9110): clients that send `bearer` are not refused.
        for scheme in ["bearer", "BEARER", "bEaReR"] {
            assert_eq!(caller(&auth, Some(&format!("{scheme} {token}")), None), Some(Caller::Token), "{scheme}");
        }
        assert_eq!(caller(&auth, Some(&format!("Basic {token}")), None), None);
        assert!(auth.login("nope").unwrap().is_none());
        let session = auth.login(&token).unwrap().unwrap();
        let cookie = format!("theme=dark; vigil_session={}", session.id);
        let by_cookie = caller(&auth, None, Some(&cookie)).unwrap();
        assert!(!may_change(&by_cookie, None), "a cross-site form post carries the cookie but not the header");
        assert!(!may_change(&by_cookie, Some("forged")));
        assert!(may_change(&by_cookie, Some(&session.csrf)));
        assert!(may_change(&Caller::Token, None));
        auth.logout(&session.id);
        assert_eq!(caller(&auth, None, Some(&cookie)), None);
        let short = Auth::with_lifetime(auth.token_hash.clone(), Duration::ZERO);
        let expired = short.login(&token).unwrap().unwrap();
        assert_eq!(short.session(&expired.id), None, "an expired session is refused");
        std::fs::write(directory.path().join("bad"), "xyz").unwrap();
        assert!(load_or_create(&directory.path().join("bad")).unwrap_err().to_string().contains("SHA-256"));
    }
}
