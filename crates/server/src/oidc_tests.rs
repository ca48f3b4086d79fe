//! Issue 21, single sign-on: OpenID Connect sign-ins through the whole application (login
//! page, `/login/oidc`, the test provider of `vigil_testkit::oidc` over real HTTP, the callback,
//! the store, the guard), on every backend available. Each rule of OpenID Connect Core 3.1.3.7
//! has a token that breaks it and must be refused; the state must be the browser's own; a
//! disabled user, a password user's name, another subject and a user without a mapped group are
//! refused; a rotated key is fetched again.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use vigil_store::Store;
use vigil_store::people::Role;
use vigil_testkit::oidc::{CLIENT_ID, CLIENT_SECRET, ClientAuth, Flaw, NextLogin, TestOidc};

use crate::console_tests::{run, stores};
use crate::oidc::{Oidc, OidcConfig};
use crate::{AppState, StorePool, app, auth};

const REDIRECT: &str = "http://127.0.0.1:8080/login/oidc/callback";
const ADMIN_TOKEN: &str = "the shared token";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().map(|value| value.to_str().unwrap().to_string()).collect()
    }
}

fn config(provider: &TestOidc) -> OidcConfig {
    OidcConfig {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_url: REDIRECT.into(),
        scopes: "openid profile email".into(),
        username_claim: "preferred_username".into(),
        role_claim: "groups".into(),
        role_map: vec![("vigil-admins".into(), Role::Admin), ("vigil-analysts".into(), Role::Analyst), ("vigil-viewers".into(), Role::Viewer)],
        default_role: None,
        extra_roots_pem: None,
    }
}

fn console(store: Store, config: Option<OidcConfig>) -> Router {
    let oidc = config.map(|config| Oidc::new(config).unwrap());
    app(Arc::new(AppState { store: StorePool::new(vec![store]), auth: auth::Auth::new(auth::digest(ADMIN_TOKEN)), secure_cookies: true, fleet: None, oidc }))
}

async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut builder = Request::builder().method("GET").uri(path).header("accept", "text/html");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    let response = app.clone().oneshot(builder.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    Reply { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// A browser's sign-in started: the state cookie it holds and where it was sent.
struct Started {
    cookie: String,
    authorize: String,
}

async fn start(app: &Router) -> Started {
    let reply = send(app, "/login/oidc", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let set_cookie = reply.cookies().into_iter().find(|cookie| cookie.starts_with("vigil_oidc=")).unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/login/oidc", "Max-Age=600"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let authorize = reply.headers.get("location").unwrap().to_str().unwrap().to_string();
    for parameter in ["response_type=code", "code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "scope=openid"] {
        assert!(authorize.contains(parameter), "{authorize} lacks {parameter}");
    }
    Started { cookie: set_cookie.split(';').next().unwrap().to_string(), authorize }
}

/// Where the provider sent the browser back, as a path of the console.
fn callback_path(location: &str) -> String {
    location.strip_prefix("http://127.0.0.1:8080").unwrap_or_else(|| panic!("{location} is not the console's callback")).to_string()
}

/// A whole sign-in in one browser: start, the provider, the callback with the browser's cookie.
async fn sign_in(app: &Router, provider: &TestOidc) -> Reply {
    let started = start(app).await;
    let back = provider.authorize(&started.authorize);
    send(app, &callback_path(&back), Some(&started.cookie)).await
}

/// The session cookie a successful sign-in set.
fn session_of(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = reply.cookies().into_iter().find(|cookie| cookie.starts_with("vigil_session=")).unwrap_or_else(|| panic!("no session: {:?}", reply.cookies()));
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    cookie.split(';').next().unwrap().to_string()
}

fn assert_refused(reply: &Reply, status: StatusCode, reason: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.cookies().iter().all(|cookie| !cookie.starts_with("vigil_session=")), "a refused sign-in set a session: {:?}", reply.cookies());
    assert!(reply.body.contains("Single sign-on failed"), "{}", reply.body);
    assert!(reply.body.contains(reason), "the page does not say `{reason}`: {}", reply.body);
}

/// An admin's request with the shared token; the body of the answer.
async fn admin(app: &Router, method: &str, path: &str, body: &str) -> String {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status, StatusCode::OK, "{method} {path}: {text}");
    text
}

/// The audit log, newest first: (actor, action, target, detail, outcome).
async fn audit(app: &Router) -> Vec<(String, String, String, String, String)> {
    let log: serde_json::Value = serde_json::from_str(&admin(app, "GET", "/api/audit?limit=200", "").await).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let field = |name: &str| entry[name].as_str().unwrap().to_string();
            (field("actor"), field("action"), field("target"), field("detail"), field("outcome"))
        })
        .collect()
}

/// A sign-in opens a session as the password login does (the same cookie, the page's CSRF
/// token, the role at each request), creates the user at its first sign-in with the role its
/// groups map to, takes a new role from the provider at the next sign-in, and is audited as
/// `login` with the method `oidc`; with `client_secret_basic` and `client_secret_post` alike.
#[test]
fn a_sign_in_opens_a_session_with_the_role_its_groups_map_to_and_is_audited() {
    for auth_method in [ClientAuth::Basic, ClientAuth::Post] {
        for (_directory, _path, store) in stores() {
            let backend = store.backend();
            let provider = TestOidc::start_with(auth_method);
            let app = console(store, Some(config(&provider)));
            run(async {
                let login = send(&app, "/login", None).await;
                assert!(login.body.contains("href=\"/login/oidc\"") && login.body.contains("Sign in with SSO"), "{}", login.body);
                provider.next_login(NextLogin::user("00u-ana", "ana", &["staff", "vigil-analysts"]));
                let signed_in = sign_in(&app, &provider).await;
                let session = session_of(&signed_in);
                assert!(
                    signed_in.cookies().iter().any(|cookie| cookie.starts_with("vigil_oidc=;") && cookie.contains("Max-Age=0")),
                    "the state cookie is forgotten"
                );
                assert_eq!(signed_in.headers.get("refresh").unwrap(), "0;url=/");
                let page = send(&app, "/", Some(&session)).await;
                assert_eq!(page.status, StatusCode::OK, "{backend} {auth_method:?}");
                assert!(page.body.contains("user:ana (analyst)") && page.body.contains("name=\"csrf-token\""), "{backend}: {}", page.body);

                provider.next_login(NextLogin::user("00u-ana", "ana", &["vigil-analysts", "vigil-admins"]));
                let again = session_of(&sign_in(&app, &provider).await);
                assert!(send(&app, "/", Some(&again)).await.body.contains("user:ana (admin)"), "{backend}: the highest mapped role, taken at the next sign-in");
                assert!(send(&app, "/", Some(&session)).await.body.contains("user:ana (admin)"), "{backend}: open sessions take the new role");

                let log = audit(&app).await;
                let has = |actor: &str, action: &str, detail: &str| {
                    log.iter().any(|entry| {
                        (entry.0.as_str(), entry.1.as_str(), entry.2.as_str(), entry.3.as_str(), entry.4.as_str()) == (actor, action, "ana", detail, "success")
                    })
                };
                assert!(has("ana", "login", "oidc"), "{backend}: {log:?}");
                assert!(has("oidc", "user.add", "analyst (first sign-in, from the provider's `groups`)"), "{backend}: {log:?}");
                assert!(has("oidc", "user.set-role", "analyst to admin (from the provider's `groups`)"), "{backend}: {log:?}");
                let token_endpoint_calls = provider.requests().iter().filter(|request| *request == "POST /token").count();
                assert_eq!(token_endpoint_calls, 2);
                let users = admin(&app, "GET", "/api/users", "").await;
                assert!(users.contains("\"ana\"") && users.contains("\"kind\":\"oidc\""), "{backend}: {users}");
            });
        }
    }
}

/// Every ID token that breaks a rule of OpenID Connect Core 3.1.3.7 is refused, opens no
/// session and is in the audit log as a failed `login` with the reason.
#[test]
fn id_tokens_that_break_a_rule_of_core_3_1_3_7_are_refused() {
    let cases = [
        (Flaw::WrongAudience, "does not hold this client"),
        (Flaw::SeveralAudiencesWithoutAzp, "no `azp`"),
        (Flaw::WrongIssuer, "its issuer"),
        (Flaw::Expired, "it expired"),
        (Flaw::IssuedInTheFuture, "too far from now"),
        (Flaw::BadSignature, "signature does not verify"),
        (Flaw::WrongNonce, "nonce is not this sign-in"),
        (Flaw::NoNonce, "nonce is not this sign-in"),
        (Flaw::AlgNone, "algorithm `none` is not accepted"),
        (Flaw::Hs256WithPublicKey, "algorithm `HS256` is not accepted"),
        (Flaw::UnknownKey, "test-key-unpublished"),
    ];
    for (_directory, _path, store) in stores() {
        let backend = store.backend();
        let provider = TestOidc::start();
        let app = console(store, Some(config(&provider)));
        run(async {
            for (flaw, reason) in cases {
                provider.next_login(NextLogin::user("00u-ana", "ana", &["vigil-admins"]).with_flaw(flaw));
                let reply = sign_in(&app, &provider).await;
                assert_refused(&reply, StatusCode::UNAUTHORIZED, reason);
                let log = audit(&app).await;
                let last = log.first().unwrap();
                assert_eq!((last.1.as_str(), last.4.as_str()), ("login", "failure"), "{backend} {flaw:?}");
                assert!(last.3.starts_with("oidc: ") && last.3.contains(reason), "{backend} {flaw:?}: {last:?}");
            }
            // The same provider with a sound token still signs in: the refusals were the tokens'.
            provider.next_login(NextLogin::user("00u-ana", "ana", &["vigil-admins"]));
            session_of(&sign_in(&app, &provider).await);
        });
    }
}

/// A token signed with a key the server has not seen makes it fetch the JWKS again, once: after
/// the provider rotates its key, sign-ins go on; a key the JWKS never holds is refused.
#[test]
fn a_rotated_key_is_fetched_again_and_a_key_never_published_is_refused() {
    for (_directory, _path, store) in stores() {
        let provider = TestOidc::start();
        let app = console(store, Some(config(&provider)));
        run(async {
            let jwks_fetches = || provider.requests().iter().filter(|request| *request == "GET /jwks").count();
            provider.next_login(NextLogin::user("00u-vera", "vera", &["vigil-viewers"]));
            session_of(&sign_in(&app, &provider).await);
            session_of(&sign_in(&app, &provider).await);
            assert_eq!(jwks_fetches(), 1, "the keys are kept between sign-ins");
            provider.rotate();
            session_of(&sign_in(&app, &provider).await);
            assert_eq!(jwks_fetches(), 2, "an unknown kid fetched the keys again");
            provider.next_login(NextLogin::user("00u-vera", "vera", &["vigil-viewers"]).with_flaw(Flaw::UnknownKey));
            assert_refused(&sign_in(&app, &provider).await, StatusCode::UNAUTHORIZED, "test-key-unpublished");
            assert_eq!(jwks_fetches(), 3, "once per sign-in, not more");
        });
    }
}

/// Who the provider vouches for is not enough: a disabled user, the name of a password user, a
/// name bound to another subject and a user in no mapped group are refused, and audited.
#[test]
fn disabled_users_password_users_other_subjects_and_unmapped_users_are_refused() {
    for (_directory, _path, mut store) in stores() {
        let backend = store.backend();
        assert!(store.add_user("adam", Role::Admin, Some(&auth::hash_password("a long enough password").unwrap()), "2026-12-05T20:00:00Z").unwrap());
        let provider = TestOidc::start();
        let app = console(store, Some(config(&provider)));
        run(async {
            provider.next_login(NextLogin::user("00u-ana", "ana", &["vigil-analysts"]));
            let session = session_of(&sign_in(&app, &provider).await);

            provider.next_login(NextLogin::user("00u-mallory", "adam", &["vigil-admins"]));
            assert_refused(&sign_in(&app, &provider).await, StatusCode::FORBIDDEN, "password user");
            provider.next_login(NextLogin::user("00u-mallory", "ana", &["vigil-admins"]));
            assert_refused(&sign_in(&app, &provider).await, StatusCode::FORBIDDEN, "another subject");
            provider.next_login(NextLogin::user("00u-nina", "nina", &["staff"]));
            assert_refused(&sign_in(&app, &provider).await, StatusCode::FORBIDDEN, "no role");
            provider.next_login(NextLogin::user("00u-bad", "bad name!", &["vigil-admins"]));
            assert_refused(&sign_in(&app, &provider).await, StatusCode::FORBIDDEN, "must be 1 to 64");

            admin(&app, "POST", "/api/users", r#"{"name":"ana","disabled":true}"#).await;
            assert_eq!(send(&app, "/api/dashboard", Some(&session)).await.status, StatusCode::UNAUTHORIZED, "{backend}: a disabled user's session ends");
            provider.next_login(NextLogin::user("00u-ana", "ana", &["vigil-analysts"]));
            assert_refused(&sign_in(&app, &provider).await, StatusCode::FORBIDDEN, "disabled");
            let log = audit(&app).await;
            for (target, reason) in [("adam", "password user"), ("ana", "another subject"), ("nina", "no role"), ("ana", "disabled")] {
                assert!(
                    log.iter().any(|entry| entry.1 == "login" && entry.2 == target && entry.4 == "failure" && entry.3.contains(reason)),
                    "{backend}: {target}: {log:?}"
                );
            }
            assert!(log.iter().all(|entry| !(entry.1 == "user.add" && entry.2 == "nina")), "{backend}: a refused user is not created");
        });
    }
}

/// The state must come back to the browser that started the sign-in: another browser's callback
/// (a login CSRF), a forged state and a replayed callback are refused; the provider's own
/// refusal is shown; without `--oidc-issuer` the routes are 404 and the login page offers no
/// link.
#[test]
fn the_state_must_be_the_browsers_own_and_serves_once() {
    for (_directory, _path, store) in stores() {
        let provider = TestOidc::start();
        let app = console(store, Some(config(&provider)));
        run(async {
            provider.next_login(NextLogin::user("00u-ana", "ana", &["vigil-analysts"]));
            // The attacker starts a sign-in and hands the callback to the victim, whose browser
            // holds another state (or none).
            let attacker = start(&app).await;
            let victim = start(&app).await;
            let back = callback_path(&provider.authorize(&attacker.authorize));
            assert_refused(&send(&app, &back, Some(&victim.cookie)).await, StatusCode::BAD_REQUEST, "not the one this browser started");
            assert_refused(&send(&app, &back, None).await, StatusCode::BAD_REQUEST, "not the one this browser started");
            let forged = back.replace("state=", "state=0");
            assert_refused(&send(&app, &forged, Some(&attacker.cookie)).await, StatusCode::BAD_REQUEST, "not the one this browser started");
            // The attacker's own browser completes it, once.
            session_of(&send(&app, &back, Some(&attacker.cookie)).await);
            assert_refused(&send(&app, &back, Some(&attacker.cookie)).await, StatusCode::BAD_REQUEST, "already used");
            // A state cookie whose sign-in is unknown to the store (a forged pair) is refused too.
            let made_up = "ab".repeat(32);
            let path = format!("/login/oidc/callback?code=x&state={made_up}");
            assert_refused(&send(&app, &path, Some(&format!("vigil_oidc={made_up}"))).await, StatusCode::BAD_REQUEST, "unknown");

            provider.next_login(NextLogin { error: Some("access_denied".into()), ..NextLogin::user("00u-ana", "ana", &[]) });
            assert_refused(&sign_in(&app, &provider).await, StatusCode::UNAUTHORIZED, "the provider refused: access_denied");
        });
    }
    let (_directory, _path, store) = stores().into_iter().next().unwrap();
    let app = console(store, None);
    run(async {
        assert_eq!(send(&app, "/login/oidc", None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(send(&app, "/login/oidc/callback?code=x&state=y", None).await.status, StatusCode::NOT_FOUND);
        assert!(!send(&app, "/login", None).await.body.contains("Sign in with SSO"));
    });
}

/// Unsafe or unworkable configurations are refused at start, naming what is wrong.
#[test]
fn unsafe_configurations_are_refused_at_start() {
    let provider = TestOidc::start();
    type Change = fn(&mut OidcConfig);
    let cases: [(Change, &str); 6] = [
        (|config| config.issuer = "http://idp.example.com".into(), "must be an https:// URL"),
        (|config| config.redirect_url = "http://console.example.com/login/oidc/callback".into(), "must be an https:// URL"),
        (|config| config.redirect_url = "https://console.example.com/callback".into(), "must end in `/login/oidc/callback`"),
        (|config| config.client_secret = " ".into(), "client secret is empty"),
        (|config| config.client_id = String::new(), "client id is empty"),
        (|config| config.scopes = "profile email".into(), "must include `openid`"),
    ];
    for (change, message) in cases {
        let mut changed = config(&provider);
        change(&mut changed);
        let error = Oidc::new(changed).unwrap_err().to_string();
        assert!(error.contains(message), "{error}");
    }
    let mut https = config(&provider);
    https.issuer = "https://idp.example.com/oauth2/default".into();
    https.redirect_url = "https://vigil.example.com:8443/login/oidc/callback".into();
    assert!(Oidc::new(https).is_ok());
}

/// Anyone may start a sign-in, and each is a row in the store for 10 minutes: one address may
/// have at most `SIGN_INS_PER_ADDRESS` under way, then it is answered 429 with `Retry-After`.
#[test]
fn sign_ins_under_way_are_limited_per_address() {
    let (_directory, _path, store) = stores().into_iter().next().unwrap();
    let provider = TestOidc::start();
    let app = console(store, Some(config(&provider)));
    run(async {
        for _ in 0..crate::oidc::SIGN_INS_PER_ADDRESS {
            assert_eq!(send(&app, "/login/oidc", None).await.status, StatusCode::SEE_OTHER);
        }
        let limited = send(&app, "/login/oidc", None).await;
        assert_refused(&limited, StatusCode::TOO_MANY_REQUESTS, "too many sign-ins under way");
        assert_eq!(limited.headers.get("retry-after").unwrap(), "600");
    });
}
