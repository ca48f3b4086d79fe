//! People and their credentials: console users with roles, browser sessions with their CSRF
//! tokens, API keys, the audit log and failed logins. All of it lives in the store, so a
//! restart logs nobody out and several `vigil serve` on one PostgreSQL share it. The store
//! keeps no secret in clear: the caller hands it a password's argon2 string, and a session
//! id's or an API key's SHA-256; the hashing is the console's (`vigil_server::auth`).

use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::db::{Param, Value};
use crate::{Store, StoreError};

/// What a person or a key may do. Each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads every page and the API.
    Viewer,
    /// Also mutes and unmutes findings (and, when the console has them, comments, assigns and
    /// runs fixes' plans).
    Analyst,
    /// Also manages users, API keys and agents, reads the audit log and applies fixes.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

fn role_of(text: &str, what: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt { what: what.to_string(), reason: format!("`{text}` is not a role") })
}

/// A console user as listed (never with the password's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub has_password: bool,
    /// How the user logs in: [`UserKind::Password`] or [`UserKind::Oidc`].
    pub kind: UserKind,
    pub created_at: String,
}

/// How a user logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// With a password kept here (or not yet set), added by `vigil users add` or `POST /api/users`.
    Password,
    /// Through the OpenID Connect provider only; created at the first sign-in, bound to the
    /// provider's subject, its role set from the provider's claim at each sign-in.
    Oidc,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Password => "password",
            UserKind::Oidc => "oidc",
        }
    }
}

fn kind_of(text: &str) -> UserKind {
    if text == "oidc" { UserKind::Oidc } else { UserKind::Password }
}

/// A sign-in with the OpenID Connect provider, under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OidcLoginInput<'a> {
    /// The SHA-256 of the `state` sent to the provider (the key it is found again by).
    pub state_hash: &'a str,
    pub nonce: &'a str,
    /// The PKCE code verifier.
    pub verifier: &'a str,
    /// The address (IP) of the browser that started it.
    pub address: &'a str,
    pub now_unix: i64,
    pub expires_unix: i64,
}

/// What an OpenID Connect sign-in found in the store, and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcSignIn {
    /// A new user of kind `oidc` was created with the role.
    Created,
    /// The known `oidc` user, bound to this subject; `previous_role` is the role it had when it
    /// was another (it now has the role given).
    Existing { previous_role: Option<Role> },
    /// The user is disabled: nothing changed.
    Disabled,
    /// The name belongs to a password user: an OpenID Connect sign-in does not take it over.
    PasswordUser,
    /// The name is bound to another subject of the provider (or another provider).
    OtherSubject,
}

/// What logging in as a user needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLogin {
    pub role: Role,
    pub disabled: bool,
    /// The argon2 string (`$argon2id$...`); `None` for a user who logs in only by SSO.
    pub password_hash: Option<String>,
    pub kind: UserKind,
}

/// A live browser session: whose it is and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The user's name; `None` for a session opened with the shared access token.
    pub user: Option<String>,
    /// The user's role now (a changed role applies to open sessions at once); the shared
    /// token's sessions are admin.
    pub role: Role,
    pub csrf: String,
    pub expires_unix: i64,
}

/// An API key as listed (never with its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRow {
    pub name: String,
    /// The key's first characters, to tell keys apart in logs without revealing them.
    pub prefix: String,
    pub role: Role,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// One entry of the audit log to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditInput<'a> {
    /// RFC 3339, UTC.
    pub at: &'a str,
    /// Who: `user:NAME`, `key:NAME`, `token` (the shared access token), `cli:LOGIN` or an
    /// attempted name for a failed login.
    pub actor: &'a str,
    /// What: one of [`AUDIT_ACTIONS`].
    pub action: &'a str,
    /// What it was done to: a finding's id, a user's or key's name, an agent's id.
    pub target: &'a str,
    /// The change itself (a mute's reason, a new role), short text.
    pub detail: &'a str,
    /// From where: the client's address, or `cli` for a command on the store's machine.
    pub address: &'a str,
    /// `success` or `failure`.
    pub outcome: &'a str,
}

/// A recorded entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: String,
    pub outcome: String,
}

/// The actions the audit log records, with their OCSF class and activity (`docs/console.md`
/// documents the mapping): `(action, class_uid, activity_id, activity_name)`.
pub const AUDIT_ACTIONS: &[(&str, u32, u32, &str)] = &[
    ("login", OCSF_AUTHENTICATION, 1, "Logon"),
    ("logout", OCSF_AUTHENTICATION, 2, "Logoff"),
    ("finding.mute", OCSF_API_ACTIVITY, 3, "Update"),
    ("finding.unmute", OCSF_API_ACTIVITY, 3, "Update"),
    ("fix.apply", OCSF_API_ACTIVITY, 3, "Update"),
    ("fix.undo", OCSF_API_ACTIVITY, 3, "Update"),
    ("agent.revoke", OCSF_API_ACTIVITY, 4, "Delete"),
    ("agent.ips.unblock", OCSF_API_ACTIVITY, 3, "Update"),
    ("user.add", OCSF_ACCOUNT_CHANGE, 1, "Create"),
    ("user.enable", OCSF_ACCOUNT_CHANGE, 2, "Enable"),
    ("user.password", OCSF_ACCOUNT_CHANGE, 3, "Password Change"),
    ("user.disable", OCSF_ACCOUNT_CHANGE, 5, "Disable"),
    ("user.set-role", OCSF_ACCOUNT_CHANGE, 99, "Other"),
    ("apikey.create", OCSF_ACCOUNT_CHANGE, 1, "Create"),
    ("apikey.revoke", OCSF_ACCOUNT_CHANGE, 6, "Delete"),
];

/// OCSF 1.1 classes the audit log maps to.
pub const OCSF_ACCOUNT_CHANGE: u32 = 3001;
pub const OCSF_AUTHENTICATION: u32 = 3002;
pub const OCSF_API_ACTIVITY: u32 = 6003;

/// An audit entry as an OCSF 1.1 event: Authentication (3002) for logins and logouts,
/// Account Change (3001) for users and API keys, API Activity (6003) for the rest. An action
/// outside [`AUDIT_ACTIONS`] is API Activity `Other` (99).
pub fn audit_to_ocsf(row: &AuditRow) -> Json {
    let (class_uid, activity_id, activity_name) =
        AUDIT_ACTIONS.iter().find(|(action, ..)| *action == row.action).map_or((OCSF_API_ACTIVITY, 99, "Other"), |(_, class, id, name)| (*class, *id, *name));
    let (category_uid, class_name) = match class_uid {
        OCSF_ACCOUNT_CHANGE => (3, "Account Change"),
        OCSF_AUTHENTICATION => (3, "Authentication"),
        _ => (6, "API Activity"),
    };
    let success = row.outcome == "success";
    let time = chrono::DateTime::parse_from_rfc3339(&row.at).map(|at| at.timestamp_millis()).unwrap_or_default();
    let mut event = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": u64::from(class_uid) * 100 + u64::from(activity_id),
        "time": time,
        "severity_id": if success { 1 } else { 3 },
        "status_id": if success { 1 } else { 2 },
        "status": if success { "Success" } else { "Failure" },
        "message": format!("{} {} {}", row.actor, row.action, row.target).trim_end().to_string(),
        "actor": { "user": { "name": row.actor } },
        "src_endpoint": endpoint(&row.address),
        "metadata": {
            "version": "1.1.0",
            "uid": row.id.to_string(),
            "product": { "name": "vigil", "vendor_name": "vigil", "version": env!("CARGO_PKG_VERSION") },
            "original_time": row.at,
            "event_code": row.action,
        },
        "unmapped": { "detail": row.detail },
    });
    if let Some(object) = event.as_object_mut() {
        match class_uid {
            // The account the login was for, or the user or key that changed.
            OCSF_AUTHENTICATION | OCSF_ACCOUNT_CHANGE => {
                object.insert("user".into(), json!({ "name": row.target }));
            }
            _ => {
                object.insert("api".into(), json!({ "operation": row.action, "service": { "name": "vigil" } }));
                object.insert("resources".into(), json!([{ "uid": row.target }]));
            }
        }
    }
    event
}

/// An OCSF network endpoint: `ip` when the address is one, else its name (`cli`).
fn endpoint(address: &str) -> Json {
    let host = address
        .parse::<std::net::SocketAddr>()
        .map(|socket| socket.ip().to_string())
        .ok()
        .or_else(|| address.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string()));
    match host {
        Some(ip) => json!({ "ip": ip }),
        None => json!({ "name": address }),
    }
}

fn text(row: &[Value], index: usize) -> String {
    row.get(index).and_then(Value::text).unwrap_or_default().to_string()
}

fn opt_text(row: &[Value], index: usize) -> Option<String> {
    row.get(index).and_then(Value::text).map(str::to_string)
}

fn int(row: &[Value], index: usize) -> i64 {
    row.get(index).and_then(Value::int).unwrap_or_default()
}

/// Appends to the audit log inside the caller's write transaction; returns the entry's id.
pub(crate) fn insert_audit(db: &mut crate::db::Db, entry: &AuditInput<'_>) -> Result<i64, StoreError> {
    let id = db.int("SELECT COALESCE(MAX(id), 0) + 1 FROM audit", &[])?.unwrap_or(1);
    db.exec(
        "INSERT INTO audit (id, at, actor, action, target, detail, address, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Param::Int(id),
            Param::Text(entry.at),
            Param::Text(entry.actor),
            Param::Text(entry.action),
            Param::Text(entry.target),
            Param::Text(entry.detail),
            Param::Text(entry.address),
            Param::Text(entry.outcome),
        ],
    )?;
    Ok(id)
}

impl Store {
    /// Adds a user. False when the name is taken.
    pub fn add_user(&mut self, name: &str, role: Role, password_hash: Option<&str>, at: &str) -> Result<bool, StoreError> {
        self.write(|db| {
            if db.row("SELECT name FROM users WHERE name = $1", &[Param::Text(name)])?.is_some() {
                return Ok(false);
            }
            db.exec(
                "INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, 0, $4)",
                &[Param::Text(name), Param::Text(role.as_str()), Param::OptText(password_hash), Param::Text(at)],
            )?;
            Ok(true)
        })
    }

    /// Every user, by name.
    pub fn users(&mut self) -> Result<Vec<UserRow>, StoreError> {
        let rows = self.db.rows("SELECT name, role, disabled, password_hash IS NOT NULL, created_at, kind FROM users ORDER BY name", &[])?;
        rows.iter()
            .map(|row| {
                let name = text(row, 0);
                Ok(UserRow {
                    role: role_of(&text(row, 1), &format!("users.role of `{name}`"))?,
                    disabled: int(row, 2) != 0,
                    has_password: int(row, 3) != 0,
                    created_at: text(row, 4),
                    kind: kind_of(&text(row, 5)),
                    name,
                })
            })
            .collect()
    }

    /// What logging in as `name` needs; `None` for an unknown user.
    pub fn user_login(&mut self, name: &str) -> Result<Option<UserLogin>, StoreError> {
        let Some(row) = self.db.row("SELECT role, disabled, password_hash, kind FROM users WHERE name = $1", &[Param::Text(name)])? else { return Ok(None) };
        Ok(Some(UserLogin {
            role: role_of(&text(&row, 0), &format!("users.role of `{name}`"))?,
            disabled: int(&row, 1) != 0,
            password_hash: opt_text(&row, 2),
            kind: kind_of(&text(&row, 3)),
        }))
    }

    /// An OpenID Connect sign-in of `name` (the provider's `subject`, written `ISSUER SUB`) with
    /// `role`, in one transaction: creates the user (kind `oidc`) on its first sign-in, or sets
    /// the known `oidc` user's role; changes nothing for a disabled user, a password user of that
    /// name, or a name bound to another subject.
    pub fn oidc_sign_in(&mut self, name: &str, subject: &str, role: Role, at: &str) -> Result<OidcSignIn, StoreError> {
        self.write(|db| {
            let Some(row) = db.row("SELECT role, disabled, kind, subject FROM users WHERE name = $1", &[Param::Text(name)])? else {
                db.exec(
                    "INSERT INTO users (name, role, password_hash, disabled, created_at, kind, subject) VALUES ($1, $2, NULL, 0, $3, 'oidc', $4)",
                    &[Param::Text(name), Param::Text(role.as_str()), Param::Text(at), Param::Text(subject)],
                )?;
                return Ok(OidcSignIn::Created);
            };
            if kind_of(&text(&row, 2)) != UserKind::Oidc {
                return Ok(OidcSignIn::PasswordUser);
            }
            if opt_text(&row, 3).as_deref() != Some(subject) {
                return Ok(OidcSignIn::OtherSubject);
            }
            if int(&row, 1) != 0 {
                return Ok(OidcSignIn::Disabled);
            }
            let current = role_of(&text(&row, 0), &format!("users.role of `{name}`"))?;
            if current == role {
                return Ok(OidcSignIn::Existing { previous_role: None });
            }
            db.exec("UPDATE users SET role = $2 WHERE name = $1", &[Param::Text(name), Param::Text(role.as_str())])?;
            Ok(OidcSignIn::Existing { previous_role: Some(current) })
        })
    }

    /// Records a sign-in under way with the provider, by its `state`'s hash, until
    /// `expires_unix`, unless `address` has `limit` under way already (false); forgets expired
    /// ones.
    pub fn begin_oidc_login(&mut self, login: &OidcLoginInput<'_>, limit: i64) -> Result<bool, StoreError> {
        self.write(|db| {
            db.exec("DELETE FROM oidc_logins WHERE expires_unix <= $1", &[Param::Int(login.now_unix)])?;
            let under_way = db.int("SELECT COUNT(*) FROM oidc_logins WHERE address = $1", &[Param::Text(login.address)])?.unwrap_or(0);
            if under_way >= limit {
                return Ok(false);
            }
            db.exec(
                "INSERT INTO oidc_logins (state_hash, nonce, verifier, address, expires_unix) VALUES ($1, $2, $3, $4, $5)",
                &[
                    Param::Text(login.state_hash),
                    Param::Text(login.nonce),
                    Param::Text(login.verifier),
                    Param::Text(login.address),
                    Param::Int(login.expires_unix),
                ],
            )?;
            Ok(true)
        })
    }

    /// Takes (once: it is forgotten) the live sign-in with this state's hash: its nonce and PKCE
    /// verifier. `None` when unknown, already taken or expired.
    pub fn take_oidc_login(&mut self, state_hash: &str, now_unix: i64) -> Result<Option<(String, String)>, StoreError> {
        self.write(|db| {
            let row = db.row("SELECT nonce, verifier, expires_unix FROM oidc_logins WHERE state_hash = $1", &[Param::Text(state_hash)])?;
            db.exec("DELETE FROM oidc_logins WHERE state_hash = $1", &[Param::Text(state_hash)])?;
            Ok(row.filter(|row| int(row, 2) > now_unix).map(|row| (text(&row, 0), text(&row, 1))))
        })
    }

    /// Changes a user's role (open sessions take it at their next request). False when unknown.
    pub fn set_user_role(&mut self, name: &str, role: Role) -> Result<bool, StoreError> {
        Ok(self.write(|db| db.exec("UPDATE users SET role = $2 WHERE name = $1", &[Param::Text(name), Param::Text(role.as_str())]))? > 0)
    }

    /// Disables (ending the user's sessions) or enables a user. False when unknown.
    pub fn set_user_disabled(&mut self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        self.write(|db| {
            let changed = db.exec("UPDATE users SET disabled = $2 WHERE name = $1", &[Param::Text(name), Param::Int(i64::from(disabled))])?;
            if disabled {
                db.exec("DELETE FROM sessions WHERE user_name = $1", &[Param::Text(name)])?;
            }
            Ok(changed > 0)
        })
    }

    /// Sets a user's password (its argon2 string). False when unknown.
    pub fn set_user_password(&mut self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        Ok(self.write(|db| db.exec("UPDATE users SET password_hash = $2 WHERE name = $1", &[Param::Text(name), Param::Text(password_hash)]))? > 0)
    }

    /// Opens a session (`user` `None` for the shared token), forgetting expired ones.
    pub fn open_session(&mut self, id_hash: &str, user: Option<&str>, csrf: &str, now_unix: i64, expires_unix: i64, address: &str) -> Result<(), StoreError> {
        self.write(|db| {
            db.exec("DELETE FROM sessions WHERE expires_unix <= $1", &[Param::Int(now_unix)])?;
            db.exec(
                "INSERT INTO sessions (id_hash, user_name, csrf, created_unix, expires_unix, address) VALUES ($1, $2, $3, $4, $5, $6)",
                &[Param::Text(id_hash), Param::OptText(user), Param::Text(csrf), Param::Int(now_unix), Param::Int(expires_unix), Param::Text(address)],
            )?;
            Ok(())
        })
    }

    /// The live session with this id's hash: not expired, and its user neither disabled nor gone.
    pub fn session(&mut self, id_hash: &str, now_unix: i64) -> Result<Option<SessionRow>, StoreError> {
        let row = self.db.row(
            "SELECT s.user_name, u.role, u.disabled, s.csrf, s.expires_unix FROM sessions s LEFT JOIN users u ON u.name = s.user_name
             WHERE s.id_hash = $1 AND s.expires_unix > $2",
            &[Param::Text(id_hash), Param::Int(now_unix)],
        )?;
        let Some(row) = row else { return Ok(None) };
        let user = opt_text(&row, 0);
        let role = match (&user, opt_text(&row, 1)) {
            (None, _) => Role::Admin,
            (Some(_), None) => return Ok(None),
            (Some(name), Some(role)) => {
                if int(&row, 2) != 0 {
                    return Ok(None);
                }
                role_of(&role, &format!("users.role of `{name}`"))?
            }
        };
        Ok(Some(SessionRow { user, role, csrf: text(&row, 3), expires_unix: int(&row, 4) }))
    }

    /// Ends a session.
    pub fn close_session(&mut self, id_hash: &str) -> Result<(), StoreError> {
        self.write(|db| db.exec("DELETE FROM sessions WHERE id_hash = $1", &[Param::Text(id_hash)]))?;
        Ok(())
    }

    /// Adds an API key by its hash. False when the name is taken.
    pub fn create_api_key(&mut self, name: &str, key_hash: &str, prefix: &str, role: Role, created_by: &str, at: &str) -> Result<bool, StoreError> {
        self.write(|db| {
            if db.row("SELECT name FROM api_keys WHERE name = $1", &[Param::Text(name)])?.is_some() {
                return Ok(false);
            }
            db.exec(
                "INSERT INTO api_keys (name, key_hash, prefix, role, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
                &[Param::Text(name), Param::Text(key_hash), Param::Text(prefix), Param::Text(role.as_str()), Param::Text(at), Param::Text(created_by)],
            )?;
            Ok(true)
        })
    }

    /// Every API key, revoked ones included, by name.
    pub fn api_keys(&mut self) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = self.db.rows("SELECT name, prefix, role, created_at, created_by, revoked_at FROM api_keys ORDER BY name", &[])?;
        rows.iter()
            .map(|row| {
                let name = text(row, 0);
                Ok(ApiKeyRow {
                    prefix: text(row, 1),
                    role: role_of(&text(row, 2), &format!("api_keys.role of `{name}`"))?,
                    created_at: text(row, 3),
                    created_by: text(row, 4),
                    revoked_at: opt_text(row, 5),
                    name,
                })
            })
            .collect()
    }

    /// The live (unrevoked) key with this hash: its name and role.
    pub fn api_key(&mut self, key_hash: &str) -> Result<Option<(String, Role)>, StoreError> {
        let Some(row) = self.db.row("SELECT name, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", &[Param::Text(key_hash)])? else {
            return Ok(None);
        };
        let name = text(&row, 0);
        let role = role_of(&text(&row, 1), &format!("api_keys.role of `{name}`"))?;
        Ok(Some((name, role)))
    }

    /// Revokes a key. False when unknown or already revoked.
    pub fn revoke_api_key(&mut self, name: &str, at: &str) -> Result<bool, StoreError> {
        Ok(self.write(|db| db.exec("UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL", &[Param::Text(name), Param::Text(at)]))? > 0)
    }

    /// Appends to the audit log; returns the entry's id.
    pub fn record_audit(&mut self, entry: &AuditInput<'_>) -> Result<i64, StoreError> {
        self.write(|db| insert_audit(db, entry))
    }

    /// The audit log, newest first: at most `limit` entries with an id below `before` (0: from
    /// the newest).
    pub fn audit(&mut self, before: i64, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        let before = if before <= 0 { i64::MAX } else { before };
        let rows = self.db.rows(
            "SELECT id, at, actor, action, target, detail, address, outcome FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2",
            &[Param::Int(before), Param::Int(i64::try_from(limit).unwrap_or(i64::MAX))],
        )?;
        Ok(rows
            .iter()
            .map(|row| AuditRow {
                id: int(row, 0),
                at: text(row, 1),
                actor: text(row, 2),
                action: text(row, 3),
                target: text(row, 4),
                detail: text(row, 5),
                address: text(row, 6),
                outcome: text(row, 7),
            })
            .collect())
    }

    /// Counts a failed login against each subject (`address:IP`, `account:NAME`), forgetting
    /// failures older than a day.
    pub fn record_login_failure(&mut self, subjects: &[&str], now_unix: i64) -> Result<(), StoreError> {
        self.write(|db| {
            db.exec("DELETE FROM login_failures WHERE at_unix < $1", &[Param::Int(now_unix - 86_400)])?;
            for subject in subjects {
                db.exec("INSERT INTO login_failures (subject, at_unix) VALUES ($1, $2)", &[Param::Text(subject), Param::Int(now_unix)])?;
            }
            Ok(())
        })
    }

    /// Failed logins against `subject` since `since_unix`.
    pub fn login_failures(&mut self, subject: &str, since_unix: i64) -> Result<i64, StoreError> {
        Ok(self
            .db
            .int("SELECT COUNT(*) FROM login_failures WHERE subject = $1 AND at_unix >= $2", &[Param::Text(subject), Param::Int(since_unix)])?
            .unwrap_or(0))
    }

    /// Forgets a subject's failures (after a successful login to that account).
    pub fn clear_login_failures(&mut self, subject: &str) -> Result<(), StoreError> {
        self.write(|db| db.exec("DELETE FROM login_failures WHERE subject = $1", &[Param::Text(subject)]))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parse_back() {
        assert!(Role::Admin.allows(Role::Analyst) && Role::Analyst.allows(Role::Viewer) && Role::Viewer.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Analyst) && !Role::Analyst.allows(Role::Admin));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    fn row(action: &str, outcome: &str, address: &str) -> AuditRow {
        AuditRow {
            id: 7,
            at: "2026-12-05T20:00:00Z".into(),
            actor: "user:ana".into(),
            action: action.into(),
            target: "42".into(),
            detail: "accepted risk".into(),
            address: address.into(),
            outcome: outcome.into(),
        }
    }

    #[test]
    fn audit_entries_map_to_their_ocsf_class_and_activity() {
        let mute = audit_to_ocsf(&row("finding.mute", "success", "192.0.2.7:51000"));
        assert_eq!((mute["class_uid"].as_u64(), mute["activity_id"].as_u64(), mute["type_uid"].as_u64()), (Some(6003), Some(3), Some(600303)));
        assert_eq!(mute["src_endpoint"]["ip"], "192.0.2.7");
        assert_eq!(mute["resources"][0]["uid"], "42");
        assert_eq!(mute["time"].as_i64(), Some(1_796_500_800_000));
        let failed = audit_to_ocsf(&row("login", "failure", "cli"));
        assert_eq!((failed["class_uid"].as_u64(), failed["status_id"].as_u64(), failed["type_uid"].as_u64()), (Some(3002), Some(2), Some(300201)));
        assert_eq!(failed["src_endpoint"]["name"], "cli");
        let disabled = audit_to_ocsf(&row("user.disable", "success", "cli"));
        assert_eq!((disabled["class_uid"].as_u64(), disabled["activity_id"].as_u64(), disabled["user"]["name"].as_str()), (Some(3001), Some(5), Some("42")));
        let unknown = audit_to_ocsf(&row("something.new", "success", "cli"));
        assert_eq!((unknown["class_uid"].as_u64(), unknown["activity_id"].as_u64()), (Some(6003), Some(99)));
    }
}
