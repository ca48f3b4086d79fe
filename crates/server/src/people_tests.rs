//! Issue 21, people and roles: what each role may do through the whole application (login
//! form, guard, handlers, store), the audit log that records it, sessions that survive a
//! restart and are shared by two servers on one store, and the login rate limits, on every
//! backend available (SQLite always, PostgreSQL when `VIGIL_TEST_POSTGRES` names a server).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use vigil_store::Store;
use vigil_store::people::Role;

use crate::console_tests::{run, seed, stores};
use crate::{AppState, StorePool, app, auth};

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: String,
}

/// A console over its own connection to the store at `location`, with the shared token whose
/// hash is `token_hash` (a restarted server, or a second replica).
fn console(store: Store, token_hash: &str) -> Router {
    app(Arc::new(AppState { store: StorePool::new(vec![store]), auth: auth::Auth::new(token_hash.to_string()), secure_cookies: true, fleet: None, oidc: None }))
}

pub(crate) async fn send(app: &Router, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = app.clone().oneshot(builder.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    Reply { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// A browser's session: its cookie and the CSRF token its pages carry.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

async fn login(app: &Router, user: &str, password: &str) -> Reply {
    let form = format!("user={}&password={}", crate::pages::encode(user), crate::pages::encode(password));
    send(app, "POST", "/login", &[("content-type", "application/x-www-form-urlencoded")], &form).await
}

pub(crate) async fn browser(app: &Router, user: &str, password: &str) -> Browser {
    let reply = login(app, user, password).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{user}: {}", reply.body);
    let set_cookie = reply.headers.get("set-cookie").unwrap().to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let page = send(app, "GET", "/", &[("cookie", &cookie)], "").await;
    assert_eq!(page.status, StatusCode::OK, "{user}");
    let csrf = page.body.split("name=\"csrf-token\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    Browser { cookie, csrf }
}

impl Browser {
    pub(crate) async fn get(&self, app: &Router, path: &str) -> Reply {
        send(app, "GET", path, &[("cookie", &self.cookie)], "").await
    }

    pub(crate) async fn post(&self, app: &Router, path: &str, body: &str) -> Reply {
        send(app, "POST", path, &[("cookie", &self.cookie), ("x-csrf-token", &self.csrf), ("content-type", "application/json")], body).await
    }
}

pub(crate) const PASSWORD: &str = "a long enough password";

/// A store seeded with the demo scans and three users, one per role.
pub(crate) fn people(store: &mut Store) {
    let hash = auth::hash_password(PASSWORD).unwrap();
    for (name, role) in [("vera", Role::Viewer), ("ana", Role::Analyst), ("adam", Role::Admin)] {
        assert!(store.add_user(name, role, Some(&hash), "2026-12-05T20:00:00Z").unwrap());
    }
}

pub(crate) fn token_hash() -> String {
    auth::digest("the shared token")
}

/// A viewer reads but cannot mute; an analyst mutes and unmutes but cannot manage users nor
/// read the audit log; an admin manages users and reads the audit log, which lists every
/// change and login with who, what and the outcome. An API key acts with its own role only.
#[test]
fn each_role_may_do_what_its_routes_allow_and_the_audit_log_lists_each_change() {
    for (_directory, _path, mut store) in stores() {
        seed(&mut store);
        people(&mut store);
        let (key, key_hash, prefix) = auth::new_api_key().unwrap();
        store.create_api_key("dashboards", &key_hash, &prefix, Role::Viewer, "test", "2026-12-05T20:00:00Z").unwrap();
        let backend = store.backend();
        let app = console(store, &token_hash());
        run(async {
            let finding = {
                let viewer = browser(&app, "vera", PASSWORD).await;
                let page = viewer.get(&app, "/api/findings?failing=1&limit=1").await;
                assert_eq!(page.status, StatusCode::OK, "{backend}");
                let id = serde_json::from_str::<serde_json::Value>(&page.body).unwrap()["items"][0]["id"].as_i64().unwrap();
                let refused = viewer.post(&app, &format!("/api/findings/{id}/mute"), r#"{"reason":"not ours"}"#).await;
                assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}: a viewer cannot mute");
                assert!(refused.body.contains("analyst"), "{}", refused.body);
                assert_eq!(viewer.get(&app, "/audit").await.status, StatusCode::FORBIDDEN, "{backend}: a viewer cannot read the audit log");
                assert!(!viewer.get(&app, "/").await.body.contains("href=\"/audit\""), "{backend}: nor is it offered the link");
                id
            };
            let analyst = browser(&app, "ana", PASSWORD).await;
            let muted = analyst.post(&app, &format!("/api/findings/{finding}/mute"), r#"{"reason":"accepted risk"}"#).await;
            assert_eq!(muted.status, StatusCode::OK, "{backend}: {}", muted.body);
            assert_eq!(analyst.post(&app, &format!("/api/findings/{finding}/unmute"), "{}").await.status, StatusCode::OK, "{backend}");
            let refused = analyst.post(&app, "/api/users", r#"{"name":"mallory","role":"admin","password":"a long enough password"}"#).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{backend}: an analyst cannot manage users");
            assert_eq!(analyst.get(&app, "/api/users").await.status, StatusCode::FORBIDDEN, "{backend}");
            assert_eq!(analyst.get(&app, "/api/audit").await.status, StatusCode::FORBIDDEN, "{backend}");

            let by_key = [("authorization", format!("Bearer {key}"))];
            let by_key: Vec<(&str, &str)> = by_key.iter().map(|(name, value)| (*name, value.as_str())).collect();
            assert_eq!(send(&app, "GET", "/api/dashboard", &by_key, "").await.status, StatusCode::OK, "{backend}: a viewer key reads");
            let key_mute = send(&app, "POST", &format!("/api/findings/{finding}/mute"), &by_key, r#"{"reason":"x"}"#).await;
            assert_eq!(key_mute.status, StatusCode::FORBIDDEN, "{backend}: a viewer key cannot mute");

            let admin = browser(&app, "adam", PASSWORD).await;
            let added = admin.post(&app, "/api/users", r#"{"name":"nina","role":"analyst","password":"another long password"}"#).await;
            assert_eq!(added.status, StatusCode::OK, "{backend}: {}", added.body);
            let disabled = admin.post(&app, "/api/users", r#"{"name":"ana","disabled":true}"#).await;
            assert_eq!(disabled.status, StatusCode::OK, "{backend}: {}", disabled.body);
            assert_eq!(analyst.get(&app, "/api/dashboard").await.status, StatusCode::UNAUTHORIZED, "{backend}: a disabled user's session ends");
            assert_eq!(login(&app, "ana", PASSWORD).await.status, StatusCode::UNAUTHORIZED, "{backend}: and it cannot log in again");
            let users = admin.get(&app, "/api/users").await;
            assert!(users.body.contains("\"nina\"") && users.body.contains("\"analyst\""), "{}", users.body);

            let log: serde_json::Value = serde_json::from_str(&admin.get(&app, "/api/audit?limit=100").await.body).unwrap();
            let entries: Vec<(String, String, String, String)> = log
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| {
                    let field = |name: &str| entry[name].as_str().unwrap().to_string();
                    (field("actor"), field("action"), field("target"), field("outcome"))
                })
                .collect();
            let finding = finding.to_string();
            let expected = [
                ("user:adam", "user.disable", "ana", "success"),
                ("user:adam", "user.add", "nina", "success"),
                ("user:ana", "finding.unmute", finding.as_str(), "success"),
                ("user:ana", "finding.mute", finding.as_str(), "success"),
            ];
            for (actor, action, target, outcome) in expected {
                assert!(
                    entries.iter().any(|entry| (entry.0.as_str(), entry.1.as_str(), entry.2.as_str(), entry.3.as_str()) == (actor, action, target, outcome)),
                    "{backend}: {actor} {action} {target} missing from {entries:?}"
                );
            }
            for user in ["vera", "ana", "adam"] {
                assert!(entries.iter().any(|entry| entry.1 == "login" && entry.2 == user && entry.3 == "success"), "{backend}: {user}'s login");
            }
            assert!(entries.iter().any(|entry| entry.1 == "login" && entry.2 == "ana" && entry.3 == "failure"), "{backend}: the refused login");
            assert!(entries.iter().all(|entry| !entry.1.starts_with("finding.") || entry.0 != "key:dashboards"), "{backend}: refused changes are not changes");
            let page = admin.get(&app, "/audit").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("finding.mute") && page.body.contains("accepted risk") && page.body.contains("href=\"/audit\""), "{backend}");
        });
    }
}

/// Sessions live in the store: a session opened on one server is good on a second server over
/// the same store (a restart, or a replica behind a load balancer), and logging out on one
/// ends it on both.
#[test]
fn a_session_survives_a_restart_and_two_servers_on_one_store_share_it() {
    for (_directory, path, mut store) in stores() {
        people(&mut store);
        let location = path.as_ref().map_or_else(|| store.location().to_string(), |path| path.display().to_string());
        let backend = store.backend();
        let first = console(store, &token_hash());
        let second = console(Store::open(&location).unwrap(), &token_hash());
        // A restarted server holds nothing of the first one's memory: only the store is shared.
        // (Made here, outside the runtime: the PostgreSQL client may not be dropped inside it.)
        let restarted = console(Store::open(&location).unwrap(), &token_hash());
        run(async {
            let session = browser(&first, "ana", PASSWORD).await;
            assert_eq!(session.get(&second, "/api/dashboard").await.status, StatusCode::OK, "{backend}: the second server knows the session");
            assert_eq!(session.get(&restarted, "/api/dashboard").await.status, StatusCode::OK, "{backend}: a restart logs nobody out");
            assert_eq!(session.post(&second, "/logout", "").await.status, StatusCode::SEE_OTHER);
            assert_eq!(session.get(&restarted, "/api/dashboard").await.status, StatusCode::UNAUTHORIZED, "{backend}: logging out ends it everywhere");
        });
    }
}

/// After five wrong passwords an account refuses even the right one (429) for the window,
/// whoever asks; after twenty failures an address is refused for any account. Each refusal
/// is in the audit log.
#[test]
fn failed_logins_are_limited_per_account_and_per_address() {
    for (_directory, _path, mut store) in stores() {
        people(&mut store);
        let backend = store.backend();
        let app = console(store, &token_hash());
        run(async {
            for _ in 0..crate::pages::LOGIN_FAILURES_PER_ACCOUNT {
                assert_eq!(login(&app, "ana", "wrong password").await.status, StatusCode::UNAUTHORIZED, "{backend}");
            }
            let limited = login(&app, "ana", PASSWORD).await;
            assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{backend}: the account is limited");
            assert!(limited.headers.contains_key("retry-after"));
            assert_eq!(login(&app, "adam", PASSWORD).await.status, StatusCode::SEE_OTHER, "{backend}: other accounts are not");
            let left = crate::pages::LOGIN_FAILURES_PER_ADDRESS - crate::pages::LOGIN_FAILURES_PER_ACCOUNT;
            for attempt in 0..left {
                login(&app, &format!("nobody{attempt}"), "wrong password").await;
            }
            assert_eq!(login(&app, "vera", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS, "{backend}: the address is limited");
            let admin = send(&app, "GET", "/api/audit?limit=1", &[("authorization", "Bearer the shared token")], "").await;
            let last: serde_json::Value = serde_json::from_str(&admin.body).unwrap();
            assert_eq!((last[0]["action"].as_str(), last[0]["target"].as_str(), last[0]["outcome"].as_str()), (Some("login"), Some("vera"), Some("failure")));
            assert_eq!(last[0]["detail"], "rate limited");
        });
    }
}
