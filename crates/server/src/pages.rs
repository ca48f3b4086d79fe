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
use crate::auth::Caller;
use crate::routes::{Access, Method, Route};

/// Logging in and out, and the assets.
pub const ROUTES: &[Route] = &[
    Route { method: Method::Get, path: "/login", summary: "The login form.", params: &[], access: Access::Public, handler: |method| on(method, login_form) },
    Route {
        method: Method::Post,
        path: "/login",
        summary: "Opens a browser session with the access token (form field `token`).",
        params: &[],
        access: Access::Public,
        handler: |method| on(method, login),
    },
    Route { method: Method::Post, path: "/logout", summary: "Closes the session.", params: &[], access: Access::Change, handler: |method| on(method, logout) },
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
    let csrf = match caller {
        Some(Caller::Session(session)) => format!("<meta name=\"csrf-token\" content=\"{}\">", escape(&session.csrf)),
        _ => String::new(),
    };
    let nav = if caller.is_some() {
        let links: String = NAV.iter().map(|(href, name)| format!("<a href=\"{href}\">{name}</a>")).collect();
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

async fn login_form() -> Html<String> {
    login_page()
}

/// The login form (also the body of a page's 401).
pub fn login_page() -> Html<String> {
    page(
        "Log in",
        None,
        "<h1>vigil console</h1><form method=\"post\" action=\"/login\"><label>Access token <input type=\"password\" name=\"token\" autocomplete=\"off\" autofocus></label> \
         <button type=\"submit\">Log in</button></form>",
    )
}

async fn login(State(state): State<Arc<AppState>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let token = form.get("token").map(String::as_str).unwrap_or_default();
    match state.auth.login(token) {
        Ok(Some(session)) => {
            let secure = if state.secure_cookies { "; Secure" } else { "" };
            let cookie =
                format!("vigil_session={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", session.id, crate::auth::SESSION_LIFETIME.as_secs());
            (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/".to_string())]).into_response()
        }
        Ok(None) => {
            (StatusCode::UNAUTHORIZED, page("Log in", None, "<h1>vigil console</h1><p>That token is not valid.</p><p><a href=\"/login\">Try again</a></p>"))
                .into_response()
        }
        Err(error) => crate::error::internal(error),
    }
}

async fn logout(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Response {
    if let Some(Caller::Session(session)) = request.extensions().get::<Caller>() {
        state.auth.logout(&session.id);
    }
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, "vigil_session=; Max-Age=0; Path=/"), (header::LOCATION, "/login")]).into_response()
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
