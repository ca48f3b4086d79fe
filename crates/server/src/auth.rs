//! Who may use the console, and as what role. Callers prove who they are with the shared
//! access token (generated at first start, printed once, kept only as its SHA-256; an admin
//! key, so existing scripts keep working), a named API key (`vigil apikeys create`, kept as
//! its SHA-256 in the store), or a browser session opened by logging in with a user's
//! password (argon2id) or the token. Sessions and their CSRF tokens live in the store (only
//! the session id's SHA-256), so a restart logs nobody out and replicas share them.

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use vigil_store::people::Role;
use vigil_store::{Store, StoreError};

use crate::ServerError;

/// Random bytes as hex, from the operating system's generator.
pub fn random_hex(bytes: usize) -> Result<String, ServerError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).map_err(|error| ServerError::Random(error.to_string()))?;
    Ok(hex::encode(buffer))
}

/// SHA-256 in hex: how the token, API keys and session ids are kept.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares without leaking where the first difference is.
pub(crate) fn same(a: &str, b: &str) -> bool {
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

/// The prefix of every API key, so that a leaked one is recognisable in a scanner's rules.
pub const API_KEY_PREFIX: &str = "vgk_";

/// The shared token's hash and how long sessions last.
#[derive(Debug)]
pub struct Auth {
    token_hash: String,
    lifetime: Duration,
}

impl Auth {
    pub fn new(token_hash: String) -> Auth {
        Auth::with_lifetime(token_hash, SESSION_LIFETIME)
    }

    pub fn with_lifetime(token_hash: String, lifetime: Duration) -> Auth {
        Auth { token_hash, lifetime }
    }

    pub fn token_is_valid(&self, token: &str) -> bool {
        same(&digest(token.trim()), &self.token_hash)
    }

    /// Opens a session in the store for a user (`None`: the shared token) and returns it.
    pub fn open_session(&self, store: &mut Store, user: Option<&str>, address: &str) -> Result<Session, StoreError> {
        let session = Session { id: random_hex(32).map_err(random_failed)?, csrf: random_hex(32).map_err(random_failed)? };
        let now = now_unix();
        let expires = now.saturating_add(i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX));
        store.open_session(&digest(&session.id), user, &session.csrf, now, expires, address)?;
        Ok(session)
    }

    /// Opens a session for a valid shared token (tests and the token form).
    pub fn login(&self, store: &mut Store, token: &str) -> Result<Option<Session>, StoreError> {
        if !self.token_is_valid(token) {
            return Ok(None);
        }
        self.open_session(store, None, "").map(Some)
    }
}

fn random_failed(error: ServerError) -> StoreError {
    StoreError::Corrupt { what: "a new session".into(), reason: error.to_string() }
}

/// Seconds since the epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The shared access token (an admin key).
    Token,
    /// A named API key.
    Key(String),
    /// A console user.
    User(String),
}

/// A request's caller: who, with which role, and the session when it came with a cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub role: Role,
    /// `Authorization: Bearer` callers have none: browsers do not send that header on their
    /// own, so there is no CSRF risk. A session's state-changing requests must carry its CSRF
    /// token.
    pub session: Option<Session>,
}

impl Caller {
    /// How the audit log names the caller: `token`, `key:NAME` or `user:NAME`.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Token => "token".to_string(),
            Principal::Key(name) => format!("key:{name}"),
            Principal::User(name) => format!("user:{name}"),
        }
    }
}

/// Decides who the caller is from the `Authorization` and `Cookie` headers: the shared token,
/// an API key, or a live session (whose role is its user's role now).
pub fn caller(auth: &Auth, store: &mut Store, authorization: Option<&str>, cookie: Option<&str>) -> Result<Option<Caller>, StoreError> {
    if let Some(token) = authorization.and_then(vigil_fleet::wire::bearer) {
        if auth.token_is_valid(token) {
            return Ok(Some(Caller { principal: Principal::Token, role: Role::Admin, session: None }));
        }
        return Ok(store.api_key(&digest(token.trim()))?.map(|(name, role)| Caller { principal: Principal::Key(name), role, session: None }));
    }
    let Some(id) = cookie.and_then(|cookie| cookie.split(';').map(str::trim).find_map(|pair| pair.strip_prefix("vigil_session="))) else {
        return Ok(None);
    };
    let Some(row) = store.session(&digest(id), now_unix())? else { return Ok(None) };
    let principal = row.user.map_or(Principal::Token, Principal::User);
    Ok(Some(Caller { principal, role: row.role, session: Some(Session { id: id.to_string(), csrf: row.csrf }) }))
}

/// A state-changing request is allowed with a bearer credential, or with a session whose CSRF
/// header matches (a cross-site form cannot set that header).
pub fn may_change(caller: &Caller, csrf_header: Option<&str>) -> bool {
    match &caller.session {
        None => true,
        Some(session) => csrf_header.is_some_and(|header| same(header, &session.csrf)),
    }
}

/// A password as an argon2id PHC string (`$argon2id$v=19$...`) with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|error| ServerError::Random(error.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| ServerError::Random(error.to_string()))?;
    argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(|error| ServerError::Password(error.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a damaged hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, made once: what a login for an unknown user (or one without a
/// password) is checked against, so it costs the same time as a wrong password.
pub fn decoy_hash() -> Option<String> {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| random_hex(16).ok().and_then(|password| hash_password(&password).ok())).clone()
}

/// The shortest password `vigil users` accepts.
pub const PASSWORD_MIN: usize = 12;

/// A new API key: the key (shown once), its SHA-256 (kept) and its first characters (listed).
pub fn new_api_key() -> Result<(String, String, String), ServerError> {
    let key = format!("{API_KEY_PREFIX}{}", random_hex(24)?);
    let prefix: String = key.chars().take(API_KEY_PREFIX.len() + 6).collect();
    let hash = digest(&key);
    Ok((key, hash, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keys_sessions_and_csrf() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("console-token");
        let (hash, token) = load_or_create(&path).unwrap();
        let token = token.unwrap();
        assert_eq!(load_or_create(&path).unwrap(), (hash.clone(), None), "the token is shown once");
        let mut store = Store::open(directory.path().join("vigil.db").to_str().unwrap()).unwrap();
        let auth = Auth::new(hash);
        let by_token = caller(&auth, &mut store, Some(&format!("Bearer {token}")), None).unwrap().unwrap();
        assert_eq!((by_token.principal.clone(), by_token.role), (Principal::Token, Role::Admin), "the shared token is an admin key");
        assert_eq!(caller(&auth, &mut store, Some("Bearer nope"), None).unwrap(), None);
        // The scheme is case-insensitive (RFC 9110): clients that send `bearer` are not refused.
        for scheme in ["bearer", "BEARER", "bEaReR"] {
            assert!(caller(&auth, &mut store, Some(&format!("{scheme} {token}")), None).unwrap().is_some(), "{scheme}");
        }
        assert_eq!(caller(&auth, &mut store, Some(&format!("Basic {token}")), None).unwrap(), None);
        let (key, key_hash, prefix) = new_api_key().unwrap();
        assert!(key.starts_with(API_KEY_PREFIX) && key.starts_with(&prefix) && key_hash != key);
        store.create_api_key("ci", &key_hash, &prefix, Role::Viewer, "test", "2026-12-05T20:00:00Z").unwrap();
        let by_key = caller(&auth, &mut store, Some(&format!("Bearer {key}")), None).unwrap().unwrap();
        assert_eq!((by_key.actor(), by_key.role), ("key:ci".to_string(), Role::Viewer));
        assert!(auth.login(&mut store, "nope").unwrap().is_none());
        let session = auth.login(&mut store, &token).unwrap().unwrap();
        let cookie = format!("theme=dark; vigil_session={}", session.id);
        let by_cookie = caller(&auth, &mut store, None, Some(&cookie)).unwrap().unwrap();
        assert!(!may_change(&by_cookie, None), "a cross-site form post carries the cookie but not the header");
        assert!(!may_change(&by_cookie, Some("forged")));
        assert!(may_change(&by_cookie, Some(&session.csrf)));
        assert!(may_change(&by_token, None));
        store.close_session(&digest(&session.id)).unwrap();
        assert_eq!(caller(&auth, &mut store, None, Some(&cookie)).unwrap(), None);
        let short = Auth::with_lifetime(auth.token_hash.clone(), Duration::ZERO);
        let expired = short.login(&mut store, &token).unwrap().unwrap();
        assert_eq!(caller(&short, &mut store, None, Some(&format!("vigil_session={}", expired.id))).unwrap(), None, "an expired session is refused");
        std::fs::write(directory.path().join("bad"), "xyz").unwrap();
        assert!(load_or_create(&directory.path().join("bad")).unwrap_err().to_string().contains("SHA-256"));
    }

    #[test]
    fn passwords_are_argon2id_and_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "a fresh salt each time");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }
}
