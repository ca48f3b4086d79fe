//! The pages' frame (navigation, the CSRF token for the script), the login and logout
//! handlers and the embedded assets. Every value that comes from AWS or a user goes through
//! [`escape`]; the CSP forbids inline script and style.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use axum::routing::on;

use crate::AppState;
use crate::auth::{Caller, Session};
use crate::routes::{Access, Method, Role, Route};
use axum::extract::FromRequest;
use vigil_store::people::{AuditInput, UserKind};

/// Logging in and out, and the assets.
pub const ROUTES: &[Route] = &[
    Route { method: Method::Get, path: "/login", summary: "The login form.", params: &[], access: Access::Public, handler: |method| on(method, login_form) },
    Route {
        method: Method::Post,
        path: "/login",
        summary: "Opens a browser session with a user's name and password (form fields `user`, `password`) or the access token (field `token`); failed logins are limited per address and per account (429).",
        params: &[],
        access: Access::Public,
        handler: |method| on(method, login),
    },
    Route {
        method: Method::Post,
        path: "/logout",
        summary: "Closes the session.",
        params: &[],
        access: Access::Change(Role::Viewer),
        handler: |method| on(method, logout),
    },
    Route {
        method: Method::Get,
        path: "/static/app.css",
        summary: "The console's stylesheet.",
        params: &[],
        access: Access::Public,
        handler: |method| on(method, stylesheet),
    },
    Route {
        method: Method::Get,
        path: "/static/app.js",
        summary: "The console's script (mute and unmute with the CSRF header).",
        params: &[],
        access: Access::Public,
        handler: |method| on(method, script),
    },
];

/// HTML-escapes text for element content and quoted attribute values (the report's escaper).
pub use vigil_report::escape_html as escape;

/// Text written with Markdown's inline code (check messages, risks and remediations say
/// `` `s3:GetObject` ``) as HTML: escaped, each backtick span as `<code>`. Nothing else of
/// Markdown is interpreted, and an unpaired backtick stays as written.
pub fn inline_code(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let (before, after) = rest.split_at(open);
        let after = after.get(1..).unwrap_or_default();
        let Some(close) = after.find('`') else { break };
        html.push_str(&escape(before));
        let code = after.get(..close).unwrap_or_default();
        if code.is_empty() {
            html.push_str("``");
        } else {
            html.push_str("<code>");
            html.push_str(&escape(code));
            html.push_str("</code>");
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    html.push_str(&escape(rest));
    html
}

/// A check's id with its title beside it (for an id no check has, the id alone).
pub fn check_label(check_id: &str) -> String {
    match vigil_checks::find(check_id) {
        Some(check) => format!("<code>{}</code> <span class=\"check-title\">{}</span>", escape(check_id), inline_code(check.metadata().title)),
        None => format!("<code>{}</code>", escape(check_id)),
    }
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    text.bytes().map(|byte| if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect()
}

/// `path?key=value&...` with the non-empty values encoded.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs.iter().filter(|(_, value)| !value.is_empty()).map(|(key, value)| format!("{key}={}", encode(value))).collect();
    if query.is_empty() { path.to_string() } else { format!("{path}?{}", query.join("&")) }
}

const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/findings", "Findings"),
    ("/resources", "Resources"),
    ("/exposure", "Exposure"),
    ("/identities", "Identities"),
    ("/paths", "Attack paths"),
    ("/activity", "Activity"),
    ("/agents", "Agents"),
    ("/vulnerabilities", "Vulnerabilities"),
    ("/scans", "Scans"),
    ("/fixes", "Fixes"),
];

/// A page of the console. `caller` decides whether the navigation and the CSRF token (read
/// by `app.js` for mutes) are shown.
pub fn page(title: &str, caller: Option<&Caller>, body: &str) -> Html<String> {
    let csrf = match caller.and_then(|caller| caller.session.as_ref()) {
        Some(session) => format!("<meta name=\"csrf-token\" content=\"{}\">", escape(&session.csrf)),
        _ => String::new(),
    };
    let nav = if let Some(caller) = caller {
        let mut links: String = NAV.iter().map(|(href, name)| format!("<a href=\"{href}\">{name}</a>")).collect();
        if caller.role.allows(Role::Admin) {
            links.push_str("<a href=\"/audit\">Audit</a>");
        }
        links.push_str(&format!("<span class=\"who\">{} ({})</span>", escape(&caller.actor()), caller.role.as_str()));
        format!("<nav>{links}<form method=\"post\" action=\"/logout\" data-action=\"/logout\"><button type=\"submit\">Log out</button></form></nav>")
    } else {
        "<nav><a href=\"/login\">vigil</a></nav>".to_string()
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">{csrf}<title>{} · vigil</title>\
         <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/app.css\"><script src=\"/static/app.js\" defer></script></head>\
         <body>{nav}<main>{body}</main></body></html>",
        escape(title)
    ))
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../assets/app.css")).into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../assets/app.js")).into_response()
}

async fn login_form(State(state): State<Arc<AppState>>) -> Html<String> {
    login_page(sso(&state))
}

/// Whether the login page offers single sign-on (`vigil serve --oidc-issuer`).
pub(crate) fn sso(state: &AppState) -> bool {
    state.oidc.is_some()
}

/// The login form (also the body of a page's 401), with the single sign-on link when `sso`.
pub fn login_page(sso: bool) -> Html<String> {
    login_page_with(sso, "")
}

pub(crate) fn login_page_with(sso: bool, message: &str) -> Html<String> {
    let sso = if sso { format!("<p class=\"sso\"><a href=\"{}\" id=\"sso-login\">Sign in with SSO</a></p>", crate::oidc::START_PATH) } else { String::new() };
    page(
        "Log in",
        None,
        &format!(
            "<h1>vigil console</h1>{message}{sso}<form method=\"post\" action=\"/login\" id=\"password-login\"><label>User <input name=\"user\" autocomplete=\"username\" autofocus></label> \
             <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label> <button type=\"submit\">Log in</button></form>\
             <form method=\"post\" action=\"/login\" id=\"token-login\"><label>or the access token \
             <input type=\"password\" name=\"token\" autocomplete=\"off\"></label> <button type=\"submit\">Log in with the token</button></form>"
        ),
    )
}

/// Failed logins allowed from one address in [`LOGIN_WINDOW_SECONDS`] before it is refused.
pub const LOGIN_FAILURES_PER_ADDRESS: i64 = 20;
/// Failed logins allowed to one account in [`LOGIN_WINDOW_SECONDS`] before it is refused
/// (from every address: replicas share the count through the store).
pub const LOGIN_FAILURES_PER_ACCOUNT: i64 = 5;
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;

/// What a login attempt came to.
enum Login {
    Opened(Session),
    Refused,
    Limited,
}

async fn login(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Response {
    let address = crate::client_address(&request);
    let Ok(Form(form)) = Form::<HashMap<String, String>>::from_request(request, &()).await else {
        return crate::error::error(StatusCode::BAD_REQUEST, "the login form is not valid");
    };
    let token = form.get("token").map(String::as_str).unwrap_or_default().to_string();
    let user = form.get("user").map(|user| user.trim().to_string()).unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if crate::params::text("user", &user).is_err() || user.chars().count() > 200 {
        return crate::error::error(StatusCode::BAD_REQUEST, "`user` is not a user name");
    }
    let shared = Arc::clone(&state);
    let attempt = crate::handlers::with_store(&state, move |store| {
        let now = crate::auth::now_unix();
        let host = address.parse::<std::net::SocketAddr>().map_or_else(|_| address.clone(), |socket| socket.ip().to_string());
        let by_address = format!("address:{host}");
        let (account, actor) = if token.is_empty() { (format!("account:{user}"), user.clone()) } else { ("account:token".to_string(), "token".to_string()) };
        let at = chrono_now();
        let audit = |store: &mut vigil_store::Store, outcome: &str, detail: &str| {
            let target = if token.is_empty() { user.as_str() } else { "token" };
            store.record_audit(&AuditInput { at: &at, actor: &actor, action: "login", target, detail, address: &address, outcome })
        };
        let since = now - LOGIN_WINDOW_SECONDS;
        if store.login_failures(&by_address, since)? >= LOGIN_FAILURES_PER_ADDRESS || store.login_failures(&account, since)? >= LOGIN_FAILURES_PER_ACCOUNT {
            audit(store, "failure", "rate limited")?;
            return Ok(Login::Limited);
        }
        let opened = if !token.is_empty() {
            shared.auth.token_is_valid(&token).then_some(None)
        } else {
            // A password is checked against a hash whether the user exists or not, so that the
            // answer's time does not tell which names exist.
            let login = store.user_login(&user)?;
            let hash = login.as_ref().and_then(|login| login.password_hash.clone()).or_else(crate::auth::decoy_hash);
            let matches = hash.is_some_and(|hash| crate::auth::verify_password(&password, &hash));
            match login {
                Some(login) if matches && !login.disabled && login.password_hash.is_some() && login.kind == UserKind::Password => Some(Some(user.clone())),
                _ => None,
            }
        };
        match opened {
            Some(session_user) => {
                let method = if token.is_empty() { "password" } else { "token" };
                let target = if token.is_empty() { user.as_str() } else { "token" };
                let login = LoginRecord { user: session_user.as_deref(), actor: &actor, target, account: &account, method, address: &address };
                open_login_session(&shared, store, &login).map(Login::Opened)
            }
            None => {
                store.record_login_failure(&[&by_address, &account], now)?;
                audit(store, "failure", "wrong credentials")?;
                Ok(Login::Refused)
            }
        }
    })
    .await;
    match attempt {
        Ok(Login::Opened(session)) => {
            (StatusCode::SEE_OTHER, [(header::SET_COOKIE, session_cookie(&state, &session)), (header::LOCATION, "/".to_string())]).into_response()
        }
        Ok(Login::Refused) => (StatusCode::UNAUTHORIZED, login_page_with(sso(&state), "<p class=\"error\">Wrong user, password or token.</p>")).into_response(),
        Ok(Login::Limited) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, LOGIN_WINDOW_SECONDS.to_string())],
            login_page_with(sso(&state), "<p class=\"error\">Too many failed logins: try again later.</p>"),
        )
            .into_response(),
        Err(response) => response,
    }
}

/// A successful login, however it was proven (a password, the token, the OpenID Connect
/// provider).
pub(crate) struct LoginRecord<'a> {
    /// The session's user; `None` for the shared token.
    pub user: Option<&'a str>,
    /// Who the audit log says logged in, and as which account.
    pub actor: &'a str,
    pub target: &'a str,
    /// The rate limits' account (`account:NAME`), whose failures a success clears.
    pub account: &'a str,
    /// `password`, `token` or `oidc`: the audit entry's detail.
    pub method: &'a str,
    pub address: &'a str,
}

/// The one way a browser session is opened: the session in the store, the account's failed
/// logins forgotten, the login in the audit log.
pub(crate) fn open_login_session(state: &AppState, store: &mut vigil_store::Store, login: &LoginRecord<'_>) -> Result<Session, vigil_store::StoreError> {
    let session = state.auth.open_session(store, login.user, login.address)?;
    store.clear_login_failures(login.account)?;
    store.record_audit(&AuditInput {
        at: &chrono_now(),
        actor: login.actor,
        action: "login",
        target: login.target,
        detail: login.method,
        address: login.address,
        outcome: "success",
    })?;
    Ok(session)
}

/// The session cookie: `HttpOnly; SameSite=Strict; Path=/`, for the session's lifetime, and
/// `Secure` over TLS.
pub(crate) fn session_cookie(state: &AppState, session: &Session) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!("vigil_session={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", session.id, crate::auth::SESSION_LIFETIME.as_secs())
}

/// The current time as the audit log writes it (RFC 3339, UTC, seconds).
pub(crate) fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn logout(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Response {
    let address = crate::client_address(&request);
    if let Some(caller) = request.extensions().get::<Caller>().cloned()
        && let Some(session) = caller.session.clone()
    {
        let closed = crate::handlers::with_store(&state, move |store| {
            store.close_session(&crate::auth::digest(&session.id))?;
            let actor = caller.actor();
            store.record_audit(&AuditInput {
                at: &chrono_now(),
                actor: &actor,
                action: "logout",
                target: &actor,
                detail: "",
                address: &address,
                outcome: "success",
            })
        })
        .await;
        if let Err(response) = closed {
            return response;
        }
    }
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, "vigil_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"), (header::LOCATION, "/login")])
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_leaves_no_markup_and_encoding_no_separator() {
        assert_eq!(super::escape("<script>alert('x')</script> & \"q\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
        assert_eq!(super::encode("arn:aws:s3:::b/k?x=1&y"), "arn%3Aaws%3As3%3A%3A%3Ab%2Fk%3Fx%3D1%26y");
        assert_eq!(super::link("/findings", &[("q", "a b"), ("severity", "")]), "/findings?q=a%20b");
    }

    /// Issue 21: messages showed raw Markdown backticks. Inline code becomes `<code>`, escaped
    /// inside and out; an unpaired backtick is left as text.
    #[test]
    fn inline_code_becomes_code_elements_and_everything_stays_escaped() {
        assert_eq!(
            super::inline_code("bucket `b<1>` allows `s3:*` to <everyone>"),
            "bucket <code>b&lt;1&gt;</code> allows <code>s3:*</code> to &lt;everyone&gt;"
        );
        assert_eq!(super::inline_code("no code here"), "no code here");
        assert_eq!(super::inline_code("one ` alone"), "one ` alone");
        assert_eq!(super::inline_code("`a` and ` b"), "<code>a</code> and ` b");
        assert_eq!(super::inline_code("``"), "``");
        assert_eq!(super::inline_code("`<script>alert(1)</script>`"), "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>");
    }
}
