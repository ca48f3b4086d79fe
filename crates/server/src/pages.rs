//! Server-rendered pages. Every value that comes from AWS or a user (names, tags, ARNs,
//! messages, evidence) goes through [`escape`]; the CSP forbids inline script and style.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use crate::AppState;
use crate::handlers::with_store;

/// HTML-escapes text for element content and quoted attribute values (the report's escaper).
use vigil_report::escape_html as escape;

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes().map(|byte| if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · vigil</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
         <body><nav><a href=\"/\">Dashboard</a> <a href=\"/findings\">Findings</a></nav><main>{body}</main></body></html>",
        escape(title)
    ))
}

pub async fn stylesheet() -> Response {
    const CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1d232b}nav{background:#1d232b;padding:.6em 1em}nav a{color:#fff;margin-right:1.2em;text-decoration:none}\
main{padding:1em 1.5em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;font-size:.9em}\
.critical,.high{color:#b00020;font-weight:600}.medium{color:#b26a00}pre{background:#f4f5f7;padding:.6em;overflow:auto}.counts span{display:inline-block;margin-right:1.5em}";
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

pub async fn login_form() -> Html<String> {
    page(
        "Log in",
        "<h1>vigil console</h1><form method=\"post\" action=\"/login\"><label>Access token <input type=\"password\" name=\"token\" autocomplete=\"off\" autofocus></label> \
         <button type=\"submit\">Log in</button></form>",
    )
}

pub async fn login(State(state): State<Arc<AppState>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let token = form.get("token").map(String::as_str).unwrap_or_default();
    match state.auth.login(token) {
        Ok(Some(session)) => {
            let cookie = format!("vigil_session={}; HttpOnly; SameSite=Strict; Path=/", session.id);
            (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/".to_string())]).into_response()
        }
        Ok(None) => (StatusCode::UNAUTHORIZED, page("Log in", "<h1>vigil console</h1><p>That token is not valid.</p><p><a href=\"/login\">Try again</a></p>"))
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

pub async fn logout(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Response {
    if let Some(crate::auth::Caller::Session(session)) = request.extensions().get::<crate::auth::Caller>() {
        state.auth.logout(&session.id);
    }
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, "vigil_session=; Max-Age=0; Path=/"), (header::LOCATION, "/login")]).into_response()
}

fn counts_table(title: &str, rows: &[(String, i64)]) -> String {
    let mut html = format!("<h2>{}</h2><table><tbody>", escape(title));
    for (name, count) in rows {
        let _ = write!(html, "<tr><td class=\"{}\">{}</td><td>{count}</td></tr>", escape(&name.to_lowercase()), escape(name));
    }
    html.push_str("</tbody></table>");
    html
}

pub async fn dashboard(State(state): State<Arc<AppState>>) -> Response {
    match with_store(&state, |store| store.dashboard()).await {
        Ok(dashboard) => {
            let mut body = String::from("<h1>Posture</h1>");
            body.push_str(&counts_table("Failing findings by severity", &dashboard.failing_by_severity));
            body.push_str(&counts_table("By service", &dashboard.failing_by_service));
            body.push_str(&counts_table("By account", &dashboard.failing_by_account));
            body.push_str(&counts_table("By region", &dashboard.failing_by_region));
            body.push_str("<h2>Trend</h2><table><thead><tr><th>Scan</th><th>Finished</th><th>FAIL</th><th>PASS</th><th>ERROR</th></tr></thead><tbody>");
            for (id, finished, by_status) in &dashboard.trend {
                let count = |status: &str| by_status[status].as_i64().unwrap_or(0);
                let _ = write!(
                    body,
                    "<tr><td>{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(finished),
                    count("FAIL"),
                    count("PASS"),
                    count("ERROR")
                );
            }
            body.push_str("</tbody></table>");
            body.push_str(&counts_table("Live resources by type", &dashboard.resources_by_type));
            page("Dashboard", &body).into_response()
        }
        Err(response) => response,
    }
}

pub async fn findings(State(state): State<Arc<AppState>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let filter = crate::handlers::finding_filter(&query);
    let after = query.get("after").and_then(|text| text.parse().ok()).unwrap_or(0);
    match with_store(&state, move |store| store.findings_page(&filter, after, 200)).await {
        Ok(page_of) => {
            let mut body = format!(
                "<h1>Findings</h1><form method=\"get\" action=\"/findings\"><input name=\"q\" placeholder=\"search check or resource\" value=\"{}\"> \
                 <select name=\"severity\"><option value=\"\">any severity</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select> \
                 <select name=\"lifecycle\"><option value=\"\">any lifecycle</option><option>new</option><option>open</option><option>resolved</option><option>muted</option></select> \
                 <button type=\"submit\">Filter</button></form><table><thead><tr><th>Severity</th><th>Status</th><th>Lifecycle</th><th>Check</th><th>Resource</th><th>Message</th></tr></thead><tbody>",
                escape(query.get("q").map(String::as_str).unwrap_or_default())
            );
            for finding in &page_of.items {
                let message = finding.detail["message"].as_str().unwrap_or_default();
                let _ = write!(
                    body,
                    "<tr><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/resource?arn={}\">{}</a></td><td>{}</td></tr>",
                    escape(&finding.status),
                    escape(&finding.lifecycle),
                    escape(&finding.check_id),
                    encode(&finding.resource_arn),
                    escape(&finding.resource_arn),
                    escape(message),
                    sev = escape(&finding.severity)
                );
            }
            body.push_str("</tbody></table>");
            if let Some(next) = page_of.next {
                let _ = write!(body, "<p><a href=\"/findings?after={next}\">Next page</a></p>");
            }
            page("Findings", &body).into_response()
        }
        Err(response) => response,
    }
}

pub async fn resource(State(state): State<Arc<AppState>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(arn) = query.get("arn").cloned() else {
        return (StatusCode::BAD_REQUEST, "`arn` is required").into_response();
    };
    let lookup = arn.clone();
    match with_store(&state, move |store| Ok((store.history(&lookup)?, store.findings(Some(&lookup), &[])?))).await {
        Ok((versions, findings)) => {
            let mut body = format!("<h1>{}</h1>", escape(&arn));
            if let Some(latest) = versions.last() {
                let _ = write!(body, "<p>State: {}</p>", escape(&latest.state));
                if let Value::Object(tags) = &latest.tags {
                    body.push_str("<h2>Tags</h2><table><tbody>");
                    for (key, value) in tags {
                        let _ = write!(body, "<tr><td>{}</td><td>{}</td></tr>", escape(key), escape(value.as_str().unwrap_or_default()));
                    }
                    body.push_str("</tbody></table>");
                }
                let config = latest.config.as_ref().map(|config| serde_json::to_string_pretty(config).unwrap_or_default()).unwrap_or_default();
                let _ = write!(body, "<h2>Configuration</h2><pre>{}</pre>", escape(&config));
            }
            body.push_str("<h2>Findings</h2><table><tbody>");
            for finding in &findings {
                let _ = write!(
                    body,
                    "<tr><td class=\"{sev}\">{sev}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&finding.status),
                    escape(&finding.check_id),
                    escape(finding.detail["message"].as_str().unwrap_or_default()),
                    sev = escape(&finding.severity)
                );
            }
            body.push_str("</tbody></table><h2>History</h2>");
            for version in versions.iter().rev() {
                let _ = write!(
                    body,
                    "<h3>Version {} (scan {}, {}, {})</h3><ul>",
                    version.version,
                    version.scan_id,
                    escape(&version.observed_at),
                    escape(&version.state)
                );
                for change in &version.changes {
                    let show = |value: &Option<Value>| value.as_ref().map(Value::to_string).unwrap_or_else(|| "(none)".to_string());
                    let _ =
                        write!(body, "<li><code>{}</code>: {} → {}</li>", escape(&change.path), escape(&show(&change.before)), escape(&show(&change.after)));
                }
                body.push_str("</ul>");
            }
            page(&arn, &body).into_response()
        }
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_leaves_no_markup_and_encoding_no_separator() {
        assert_eq!(super::escape("<script>alert('x')</script> & \"q\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
        assert_eq!(super::encode("arn:aws:s3:::b/k?x=1&y"), "arn%3Aaws%3As3%3A%3A%3Ab%2Fk%3Fx%3D1%26y");
    }
}
