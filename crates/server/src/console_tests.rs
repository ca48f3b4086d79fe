//! The console's regression tests for issue 21 (its known defects, and pages that read well),
//! each request sent through the whole application (guard, parameter validator, handler,
//! store) on every backend available: SQLite always, PostgreSQL when `VIGIL_TEST_POSTGRES`
//! names a server (`scripts/test.sh` starts one).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use vigil_model::analysis::{Analysis, AnalysisResult, Exposure};
use vigil_store::Store;

use crate::routes::{self, In, Kind, Method};
use crate::{AppState, StorePool, app, auth};

const DEMO: &[u8] = include_bytes!("../../cli/demo/example-corp.vigil");

/// A message written with Markdown's inline code, put on one finding of the demo account.
const MARKDOWN_MESSAGE: &str = "bucket `example` grants `s3:GetObject` to <everyone>";

/// Runs a test's requests. The stores are opened and seeded outside it, and the console is
/// dropped after it: the PostgreSQL client is synchronous, with its own runtime inside.
pub(crate) fn run<T>(requests: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(requests)
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// One fresh store per backend, with the SQLite file's path (`None` for PostgreSQL).
pub(crate) fn stores() -> Vec<(tempfile::TempDir, Option<std::path::PathBuf>, Store)> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("vigil.db");
    let sqlite = Store::open(path.to_str().unwrap()).unwrap();
    let mut stores = vec![(directory, Some(path), sqlite)];
    match std::env::var("VIGIL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => {
            let name = format!("vigil_server_test_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::SeqCst));
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            stores.push((tempfile::tempdir().unwrap(), None, Store::open(&format!("{base}/{name}")).unwrap()));
        }
        _ if std::env::var("VIGIL_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("VIGIL_REQUIRE_POSTGRES=1 but VIGIL_TEST_POSTGRES is not set"),
        _ => eprintln!("PostgreSQL not configured (VIGIL_TEST_POSTGRES unset): testing SQLite only"),
    }
    stores
}

/// What the seeded store holds that the tests look for.
pub(crate) struct Seeded {
    /// The resource made reachable from the internet, with a failing critical finding.
    exposed_arn: String,
    exposed_check: String,
}

/// The demo account scanned twice (the second scan with one exposed resource) and alerts
/// recorded out of event-time order.
pub(crate) fn seed(store: &mut Store) -> Seeded {
    let inventory = vigil_model::snapshot::from_bytes(DEMO, "demo").unwrap();
    let policy = vigil_checks::policy::Policy::bundled();
    let context = vigil_checks::Context::with_policy(&inventory, inventory.collected_at, &policy);
    let mut findings = vigil_checks::run_all(&context, |_| true);
    let failing = |finding: &vigil_checks::Finding| finding.status == vigil_model::Status::Fail;
    assert!(findings.iter().any(|finding| !failing(finding)) && findings.iter().any(failing), "the demo has passing and failing findings");
    let marked = findings.iter_mut().find(|finding| failing(finding)).unwrap();
    marked.message = MARKDOWN_MESSAGE.into();
    let critical = findings
        .iter()
        .find(|finding| failing(finding) && finding.severity == vigil_model::Severity::Critical && finding.resource_type.as_ref() == "AWS::S3::Bucket")
        .unwrap();
    let seeded = Seeded { exposed_arn: critical.resource_arn.to_string(), exposed_check: critical.check_id.to_string() };
    let checks_run: Vec<String> = vigil_checks::CHECKS.iter().map(|check| check.metadata().id.to_string()).collect();
    let exposure = Analysis {
        account_id: inventory.account_id().to_string(),
        subject: seeded.exposed_arn.clone(),
        result: AnalysisResult::Exposure(Exposure { address: "203.0.113.9".into(), protocol: "tcp".into(), ports: vec![[443, 443]], ..Exposure::default() }),
    };
    for analyses in [None, Some(vec![exposure])] {
        let input = vigil_store::ScanInput {
            started_at: inventory.collected_at,
            finished_at: inventory.collected_at,
            source: "test".into(),
            inventories: vec![&inventory],
            findings: &findings,
            checks_run: checks_run.clone(),
            analyses,
        };
        store.record_scan(&input).unwrap();
    }
    let alerts: Vec<vigil_store::AlertInput> = [("e-late", "2026-11-24T12:00:00Z"), ("e-early", "2026-11-24T07:00:00Z"), ("e-mid", "2026-11-24T09:00:00Z")]
        .into_iter()
        .map(|(event, time)| vigil_store::AlertInput {
            rule_id: "r1".into(),
            event_id: event.into(),
            rule_title: "CloudTrail stopped".into(),
            level: "high".into(),
            event_time: time.into(),
            event_name: "StopLogging".into(),
            account_id: Some("123456789012".into()),
            detail: serde_json::json!({ "event": { "eventName": "StopLogging" } }),
        })
        .collect();
    for alert in &alerts {
        store.record_alerts(std::slice::from_ref(alert), "2026-11-25T00:00:00Z").unwrap();
    }
    seeded
}

struct Console {
    app: Router,
    bearer: String,
}

fn console(store: Store, tls: bool) -> Console {
    let directory = tempfile::tempdir().unwrap();
    let (hash, token) = auth::load_or_create(&directory.path().join("console-token")).unwrap();
    let state = Arc::new(AppState { store: StorePool::new(vec![store]), auth: auth::Auth::new(hash), secure_cookies: tls, fleet: None, oidc: None });
    Console { app: app(state), bearer: format!("Bearer {}", token.unwrap()) }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }
}

impl Console {
    async fn send(&self, method: &str, path: &str, authorization: Option<&str>, body: &str) -> Reply {
        let mut builder = Request::builder().method(method).uri(path).header("content-type", "application/json");
        if let Some(authorization) = authorization {
            builder = builder.header("authorization", authorization);
        }
        let response = self.app.clone().oneshot(builder.body(Body::from(body.to_string())).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap();
        Reply { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, Some(&self.bearer), "").await
    }
}

/// The GET routes of the console (not the agent API), with `{id}` filled in.
fn console_gets() -> Vec<&'static routes::Route> {
    routes::all().filter(|route| route.method == Method::Get && !route.access.is_agent_api()).collect()
}

/// On PostgreSQL the Activity page and `/api/alerts` answered 500 (an integer parameter bound
/// with the wrong type). Every GET route of the console, with the parameters a page sends,
/// answers without a server error on every backend; the Activity page and the API list
/// alerts newest event first, and their "older" cursor continues that order.
#[test]
fn every_page_and_api_route_answers_on_every_backend_and_activity_is_by_event_time() {
    for (_directory, _path, mut store) in stores() {
        let seeded = seed(&mut store);
        let console = console(store, false);
        run(async {
            for route in console_gets() {
                let reply = console.get(route.path).await;
                assert!(!reply.status.is_server_error(), "GET {}: {} {}", route.path, reply.status, reply.body);
            }
            for path in [
                "/api/alerts?limit=1&level=high".to_string(),
                "/activity?level=high".to_string(),
                "/api/findings?sort=severity&limit=3&failing=1".to_string(),
                format!("/resource?arn={}", crate::pages::encode(&seeded.exposed_arn)),
                "/api/diff?from=1&to=2".to_string(),
                "/scans?from=1&to=2".to_string(),
                "/findings?group=severity&q=s3".to_string(),
            ] {
                let reply = console.get(&path).await;
                assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
            }
            let mut events = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = console.get(&format!("/api/alerts?limit=1{cursor}")).await.json();
                events.extend(page["items"].as_array().unwrap().iter().map(|alert| alert["event_id"].as_str().unwrap().to_string()));
                match page["next"].as_i64() {
                    Some(next) => cursor = format!("&before={next}"),
                    None => break,
                }
            }
            assert_eq!(events, ["e-late", "e-mid", "e-early"], "newest event first, not newest recorded");
            let activity = console.get("/activity").await.body;
            let position = |event: &str| activity.find(event).unwrap_or_else(|| panic!("{event} is not on the Activity page"));
            assert!(position("e-late") < position("e-mid") && position("e-mid") < position("e-early"), "the Activity page is by event time");
        });
    }
}

/// A NUL byte in a text parameter gave 500 on PostgreSQL and matched everything on SQLite; a
/// non-integer cursor was ignored by the pages. Every declared parameter of every console
/// route is checked in one place: 400, naming the parameter, on every backend.
#[test]
fn bad_parameter_values_are_refused_naming_the_parameter_on_every_route() {
    for (_directory, _path, mut store) in stores() {
        seed(&mut store);
        let console = console(store, false);
        run(async {
            let mut checked = 0;
            for route in console_gets() {
                for param in route.params().filter(|param| param.within == In::Query) {
                    let mut bad = vec!["a%00b"];
                    match param.kind {
                        Kind::Integer => bad.push("12x"),
                        Kind::OneOf(_) => bad.push("no-such-view"),
                        Kind::Text => {}
                    }
                    for value in bad {
                        let reply = console.get(&format!("{}?{}={value}", route.path, param.name)).await;
                        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "GET {}?{}={value}: {}", route.path, param.name, reply.body);
                        assert!(reply.body.contains(&format!("`{}`", param.name)), "the refusal names the parameter: {}", reply.body);
                        checked += 1;
                    }
                }
            }
            assert!(checked > 50, "only {checked} parameters checked");
            // An undeclared parameter is text too; a control character other than a NUL as well.
            for path in ["/api/findings?nonsense=%00", "/findings?q=%1B%5B31m"] {
                assert_eq!(console.get(path).await.status, StatusCode::BAD_REQUEST, "{path}");
            }
            assert_eq!(console.get("/api/findings?q=%09s3").await.status, StatusCode::OK, "a tab is text");
        });
    }
}

/// 5xx and 404 bodies showed SQL statements and the store's file path. A store failure is
/// answered with a generic message and a request id (the detail goes to the log); a 404
/// names what was asked for and nothing of the server.
#[test]
fn failures_answer_a_request_id_and_never_sql_or_the_store_path() {
    let (_directory, path, mut store) = stores().into_iter().next().unwrap();
    let path = path.unwrap();
    seed(&mut store);
    let console = console(store, false);
    run(async {
        let location = path.to_str().unwrap().to_string();
        for missing in ["/api/resource?arn=arn%3Anothing", "/api/diff?from=1&to=99", "/resource?arn=arn%3Anothing", "/api/nothing", "/api/finding?id=99999"] {
            let reply = console.get(missing).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}: {}", reply.body);
            assert!(!reply.body.contains(&location) && !reply.body.contains("vigil.db"), "{missing} shows the store's path: {}", reply.body);
            assert!(reply.json()["error"].as_str().is_some_and(|error| !error.is_empty()), "{missing}: {}", reply.body);
        }
        // Break the store under the running console: its next read fails.
        rusqlite::Connection::open(&path).unwrap().execute_batch("DROP TABLE alerts").unwrap();
        for broken in ["/api/alerts", "/activity"] {
            let reply = console.get(broken).await;
            assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{broken}: {}", reply.body);
            for secret in ["SELECT", "alerts", "no such table", location.as_str(), "vigil.db"] {
                assert!(!reply.body.contains(secret), "{broken} shows `{secret}`: {}", reply.body);
            }
            let body = reply.json();
            let request_id = body["request_id"].as_str().unwrap();
            assert_eq!(request_id.len(), 16);
            assert_eq!(reply.header("x-request-id"), Some(request_id));
        }
    });
}

/// The findings page's group counts counted passing findings while their links opened failing
/// ones. Each group's count is the number of findings its link opens, with and without other
/// filters (a search, a severity).
#[test]
fn group_counts_equal_the_findings_their_links_open() {
    for (_directory, _path, mut store) in stores() {
        seed(&mut store);
        let console = console(store, false);
        run(async {
            for page in
                ["/findings?group=service", "/findings?group=check_id&q=s3", "/findings?group=region&severity=high", "/findings?group=severity&failing=1"]
            {
                let html = console.get(page).await.body;
                let table = html.split("<table id=\"groups\">").nth(1).unwrap_or_else(|| panic!("{page} has no groups")).split("</table>").next().unwrap();
                let rows: Vec<&str> = table.split("<tr>").skip(1).collect();
                assert!(!rows.is_empty(), "{page}: no group");
                for row in rows {
                    let href = row.split("href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
                    let count: i64 = row.split("<td class=\"count\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap();
                    let query = href.strip_prefix("/findings?").unwrap();
                    let opened = console.get(&format!("/api/findings?{query}&limit=10000")).await.json();
                    assert_eq!(opened["items"].as_array().unwrap().len() as i64, count, "{page}: the group {href} counts {count}");
                    assert!(opened["items"].as_array().unwrap().iter().all(|item| matches!(item["lifecycle"].as_str(), Some("new" | "open"))));
                }
            }
        });
    }
}

/// The filter form dropped the hidden `failing` filter (the dashboard's links): it is a field
/// of the form, checked when the page is filtered by it; `check_id` and `resource_arn` ride
/// along as hidden fields.
#[test]
fn the_filter_form_keeps_the_failing_check_and_resource_filters() {
    let (_directory, _path, mut store) = stores().into_iter().next().unwrap();
    let seeded = seed(&mut store);
    let console = console(store, false);
    run(async {
        let form = |html: String| html.split("id=\"finding-filters\"").nth(1).unwrap().split("</form>").next().unwrap().to_string();
        let failing = form(console.get("/findings?failing=1").await.body);
        assert!(failing.contains("name=\"failing\" value=\"1\" checked"), "{failing}");
        let unfiltered = form(console.get("/findings").await.body);
        assert!(unfiltered.contains("name=\"failing\"") && !unfiltered.contains("checked"), "{unfiltered}");
        let path = format!("/findings?failing=1&check_id={}&resource_arn={}", seeded.exposed_check, crate::pages::encode(&seeded.exposed_arn));
        let both = form(console.get(&path).await.body);
        assert!(both.contains(&format!("type=\"hidden\" name=\"check_id\" value=\"{}\"", seeded.exposed_check)), "{both}");
        assert!(both.contains("type=\"hidden\" name=\"resource_arn\""), "{both}");
    });
}

/// Authenticated pages lacked `Cache-Control: no-store`, and TLS answers lacked HSTS. Every
/// answer but the two assets is `no-store`; over TLS every answer carries HSTS.
#[test]
fn pages_are_not_cached_and_tls_answers_carry_hsts() {
    for tls in [false, true] {
        let (_directory, _path, mut store) = stores().into_iter().next().unwrap();
        seed(&mut store);
        let console = console(store, tls);
        run(async {
            for path in ["/", "/findings", "/finding?id=1", "/activity", "/api/dashboard", "/login", "/api/nothing"] {
                let reply = console.get(path).await;
                assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
                assert_eq!(reply.header("strict-transport-security").is_some(), tls, "{path} (tls: {tls})");
            }
            for asset in ["/static/app.css", "/static/app.js"] {
                assert_eq!(console.get(asset).await.header("cache-control"), None, "{asset}");
            }
        });
    }
    assert!(crate::plain_http_warning("0.0.0.0:8080".parse().unwrap()).is_some_and(|warning| warning.contains("--tls-cert")));
    assert!(crate::plain_http_warning("192.0.2.10:8080".parse().unwrap()).is_some());
    assert!(crate::plain_http_warning("[::]:8080".parse().unwrap()).is_some());
    assert_eq!(crate::plain_http_warning("127.0.0.1:8080".parse().unwrap()), None);
    assert_eq!(crate::plain_http_warning("[::1]:8080".parse().unwrap()), None);
}

async fn mute(console: &Console, reason: String) -> Reply {
    let body = serde_json::json!({ "reason": reason }).to_string();
    console.send("POST", "/api/findings/1/mute", Some(&console.bearer), &body).await
}

/// The mute reason had no length limit, and the `bearer` scheme was case-sensitive.
#[test]
fn mute_reasons_are_bounded_and_the_bearer_scheme_is_case_insensitive() {
    for (_directory, _path, mut store) in stores() {
        seed(&mut store);
        let console = console(store, false);
        run(async {
            let too_long = mute(&console, "x".repeat(crate::handlers::MUTE_REASON_MAX + 1)).await;
            assert_eq!(too_long.status, StatusCode::BAD_REQUEST, "{}", too_long.body);
            assert!(too_long.body.contains(&crate::handlers::MUTE_REASON_MAX.to_string()), "{}", too_long.body);
            assert_eq!(mute(&console, "accepted\u{0}risk".to_string()).await.status, StatusCode::BAD_REQUEST);
            assert!(console.get("/api/finding?id=1").await.json()["finding"]["user_mute_reason"].is_null(), "a refused mute changes nothing");
            let longest = mute(&console, "é".repeat(crate::handlers::MUTE_REASON_MAX)).await;
            assert_eq!(longest.status, StatusCode::OK, "the limit counts characters, not bytes: {}", longest.body);
            let token = console.bearer.strip_prefix("Bearer ").unwrap().to_string();
            for scheme in ["bearer", "BEARER"] {
                let reply = console.send("GET", "/api/dashboard", Some(&format!("{scheme} {token}")), "").await;
                assert_eq!(reply.status, StatusCode::OK, "{scheme}");
            }
        });
    }
}

/// The pages read well: severities highest first, check titles beside their ids, messages
/// without raw Markdown backticks, the top risks first on the dashboard, what changed since the
/// previous scan, and every scan's summary on the Scans page.
#[test]
fn pages_read_well() {
    for (_directory, _path, mut store) in stores() {
        let seeded = seed(&mut store);
        let console = console(store, false);
        run(async {
            let severities = vigil_model::Severity::HIGHEST_FIRST.map(|severity| severity.as_str());
            let in_order = |labels: Vec<String>| {
                let ranks: Vec<i64> = labels.iter().map(|label| vigil_store::severity_rank(label)).collect();
                ranks.windows(2).all(|pair| pair[0] <= pair[1]) && labels.len() > 1
            };
            let chart = console.get("/api/dashboard").await.json();
            let by_severity: Vec<String> = chart["failing_by_severity"].as_array().unwrap().iter().map(|pair| pair[0].as_str().unwrap().to_string()).collect();
            assert!(in_order(by_severity.clone()), "the dashboard's severities: {by_severity:?}");
            let groups = console.get("/api/findings/groups?by=severity").await.json();
            let grouped: Vec<String> = groups.as_array().unwrap().iter().map(|group| group["value"].as_str().unwrap().to_string()).collect();
            assert!(in_order(grouped.clone()), "groups by severity: {grouped:?}");
            let resource = console.get(&format!("/resource?arn={}", crate::pages::encode(&seeded.exposed_arn))).await.body;
            let findings_table = resource.split("id=\"resource-findings\"").nth(1).unwrap().split("</table>").next().unwrap();
            let cells: Vec<String> = findings_table
                .split("<tr><td class=\"")
                .skip(1)
                .map(|cell| cell.split('"').next().unwrap().to_string())
                .filter(|class| severities.contains(&class.as_str()))
                .collect();
            assert!(cells.is_empty() || in_order(cells.clone()) || cells.len() == 1, "a resource's findings: {cells:?}");

            let title = vigil_checks::find(&seeded.exposed_check).unwrap().metadata().title;
            let findings = console.get("/findings?failing=1").await.body;
            assert!(findings.contains(&format!(
                "<code>{}</code> <span class=\"check-title\">{}</span>",
                seeded.exposed_check,
                crate::pages::inline_code(title)
            )));
            assert!(findings.contains("bucket <code>example</code> grants <code>s3:GetObject</code> to &lt;everyone&gt;"), "inline code is rendered");
            assert!(!findings.contains('`'), "no raw backtick on the findings page");

            let dashboard = console.get("/").await.body;
            let top = dashboard.find("id=\"top-risks\"").expect("a top risks section");
            assert!(top < dashboard.find("<svg").unwrap(), "the top risks come before the charts");
            let risks = dashboard.split("id=\"top-risks-table\"").nth(1).unwrap().split("</table>").next().unwrap();
            assert!(risks.contains(&crate::pages::escape(&seeded.exposed_arn)), "{risks}");
            assert!(risks.contains("critical"), "{risks}");
            assert!(dashboard.contains("id=\"since-previous\"") && dashboard.contains("#1 to #2"), "what changed since the previous scan");
            assert!(dashboard.contains("href=\"/scans?from=1&amp;to=2\""));

            let scans = console.get("/scans").await.body;
            let table = scans.split("id=\"scans\"").nth(1).unwrap();
            assert!(table.contains("<th>Newly failing</th>") && table.contains("<td>#1</td>") && table.contains("<td>#2</td>"), "every scan's summary");

            let finding = console.get("/finding?id=1").await.body;
            assert!(finding.contains("id=\"finding-history\""), "a finding's history across scans");
        });
    }
}

/// One agent enrolled for the host posture tests, with its events and heartbeat health.
fn enrol(store: &mut Store, id: &str, instance_id: Option<&str>, health: serde_json::Value, events: &[(&str, &str, serde_json::Value)]) {
    store
        .enrol_agent(&vigil_store::agents::NewAgent {
            id,
            instance_id,
            account_id: None,
            region: None,
            hostname: &format!("host-{id}"),
            agent_version: "0.1.0",
            enrolled_by: "token:t",
            secret_hash: "x",
            at: "2026-11-25T00:00:00Z",
            at_unix: 1_795_000_000,
        })
        .unwrap();
    store.record_heartbeat(id, "2026-11-25T00:01:00Z", 1_795_000_060, "0.1.0", &format!("host-{id}"), None, &health, &serde_json::json!({})).unwrap();
    let events: Vec<vigil_fleet::wire::Sequenced> = events
        .iter()
        .enumerate()
        .map(|(index, (module, kind, payload))| vigil_fleet::wire::Sequenced {
            seq: index as u64 + 1,
            event: vigil_fleet::Event {
                id: format!("{}:{}", payload["snapshot"].as_str().unwrap(), payload["part"]),
                module: (*module).into(),
                kind: (*kind).into(),
                time: "2026-11-25T00:00:30Z".into(),
                payload: payload.clone(),
            },
        })
        .collect();
    store.record_agent_events(id, &events, "2026-11-25T00:01:00Z", 1_795_000_060).unwrap();
}

fn finding(id: &str, cve: &str, package: &str, severity: &str, fixed: Option<&str>) -> serde_json::Value {
    serde_json::json!({"id": id, "aliases": [cve], "package": package, "installed": "1.0-1", "fixed": fixed, "fix_available": fixed.is_some(), "severity": severity, "ecosystem": "Debian:12"})
}

/// Issue 17: the host posture of an agent (assessment score per policy with its failing checks,
/// vulnerabilities by severity, patch state, secrets redacted) on its page and on its
/// instance's page; a module that never reported or failed is said so, never shown as clean;
/// the fleet Vulnerabilities page lists what is on a host reachable from the internet first, in
/// each of its views.
#[test]
fn host_posture_says_what_was_not_assessed_and_vulnerabilities_list_exposed_hosts_first() {
    use serde_json::json;
    for (_directory, _path, mut store) in stores() {
        seed(&mut store);
        let inventory = vigil_model::snapshot::from_bytes(DEMO, "demo").unwrap();
        let instance = inventory.resources().into_iter().find(|resource| resource.resource_type == "AWS::EC2::Instance").expect("the demo has an instance");
        let (instance_arn, instance_id) = (instance.arn.to_string(), instance.id.to_string());
        let exposure = Analysis {
            account_id: inventory.account_id().to_string(),
            subject: instance_arn.clone(),
            result: AnalysisResult::Exposure(Exposure { address: "198.51.100.7".into(), protocol: "tcp".into(), ports: vec![[22, 22]], ..Exposure::default() }),
        };
        let input = vigil_store::ScanInput {
            started_at: inventory.collected_at,
            finished_at: inventory.collected_at,
            source: "test".into(),
            inventories: vec![&inventory],
            findings: &[],
            checks_run: Vec::new(),
            analyses: Some(vec![exposure]),
        };
        store.record_scan(&input).unwrap();
        let ok = |module: &str| json!({"module": module, "state": "ok", "events": 1});
        enrol(
            &mut store,
            "agt-exposed",
            Some(&instance_id),
            json!([ok("sca"), ok("vulns"), ok("secrets")]),
            &[
                (
                    "sca",
                    "result",
                    json!({"snapshot": "s1", "part": 1, "parts": 1, "policy": "vigil_guest_os", "name": "vigil guest OS", "items": [
                    {"id": 1, "title": "SSH root login is disabled", "result": "failed", "reason": "PermitRootLogin yes"},
                    {"id": 2, "title": "SSH protocol 2 only", "result": "passed", "reason": ""},
                    {"id": 3, "title": "auditd logs commands", "result": "not applicable", "reason": "command rules are skipped under --root"}]}),
                ),
                (
                    "vulns",
                    "findings",
                    json!({"snapshot": "v1", "part": 1, "parts": 1, "ecosystem": "Debian:12", "packages": 400, "records": 9000, "items": [
                    finding("DSA-1", "CVE-2024-0001", "openssl", "high", Some("3.0.13-1")),
                    finding("DSA-2", "CVE-2024-0002", "bash", "low", None)]}),
                ),
                (
                    "vulns",
                    "patch",
                    json!({"snapshot": "p1", "part": 1, "parts": 1, "reboot_required": true, "reboot_reasons": ["`/var/run/reboot-required` exists"],
                    "notes": [], "pending_security_updates": 1, "items": [{"package": "openssl", "installed": "1.0-1", "fixed": "3.0.13-1", "advisories": ["DSA-1"]}]}),
                ),
                (
                    "secrets",
                    "findings",
                    json!({"snapshot": "x1", "part": 1, "parts": 1, "items": [{"path": "/etc/app.env", "line": 3, "kind": "aws-access-key", "redacted": "AKIA…MPLE"}]}),
                ),
            ],
        );
        enrol(
            &mut store,
            "agt-failing",
            None,
            json!([{"module": "vulns", "state": "error", "last_error": "vulns: the host policy gives no `osv` path", "events": 0}]),
            &[],
        );
        enrol(
            &mut store,
            "agt-inside",
            None,
            json!([ok("vulns")]),
            &[(
                "vulns",
                "findings",
                json!({"snapshot": "v2", "part": 1, "parts": 1, "ecosystem": "Debian:12", "packages": 300, "records": 9000, "items": [
                finding("DSA-9", "CVE-2024-9999", "zlib", "critical", Some("1.3-1")),
                finding("DSA-1", "CVE-2024-0001", "openssl", "high", Some("3.0.13-1"))]}),
            )],
        );
        let console = console(store, false);
        run(async {
            let exposed = console.get("/agent?id=agt-exposed").await.body;
            for expected in [
                "Score 50%: 1 passed, 1 failed, 1 not applicable",
                "SSH root login is disabled",
                "PermitRootLogin yes",
                "<span class=\"high\">1 high</span> (1 with a fix), <span class=\"low\">1 low</span> (0 with a fix)",
                "no fix published",
                "Reboot required: <strong>yes</strong>",
                "1 pending security update(s)",
                "AKIA…MPLE",
            ] {
                assert!(exposed.contains(expected), "the agent page lacks {expected:?}: {exposed}");
            }
            // The posture block counts passed checks without listing them (the raw events
            // further down the page still hold every check).
            let posture =
                exposed.split("<section class=\"host-posture\">").nth(1).and_then(|rest| rest.split("</section>").next()).expect("a host posture block");
            assert!(!posture.contains("SSH protocol 2 only"), "passed checks are counted, not listed: {posture}");
            let failing = console.get("/agent?id=agt-failing").await.body;
            for expected in [
                "id=\"sca-not-assessed\" class=\"notice not-assessed\">Not assessed: the agent has never reported a `sca` run",
                "id=\"vulns-not-assessed\" class=\"notice not-assessed\">Not assessed: the `vulns` module&#39;s last run failed: vulns: the host policy gives no `osv` path",
                "id=\"patch-not-assessed\"",
                "id=\"secrets-not-assessed\"",
            ] {
                assert!(failing.contains(expected), "the failing agent's page lacks {expected:?}: {failing}");
            }
            assert!(!failing.contains("no vulnerable package") && !failing.contains("None in the paths"), "nothing reads as clean: {failing}");
            let resource = console.get(&format!("/resource?arn={}", crate::pages::encode(&instance_arn))).await.body;
            assert!(resource.contains("Host posture") && resource.contains("CVE-2024-0001") && resource.contains("Score 50%"), "{resource}");

            let by_cve = console.get("/vulnerabilities").await;
            assert_eq!(by_cve.status, StatusCode::OK);
            let page = by_cve.body;
            let position = |page: &str, text: &str| page.find(text).unwrap_or_else(|| panic!("{text} is not on the page: {page}"));
            assert!(position(&page, "CVE-2024-0001") < position(&page, "CVE-2024-9999"), "the CVE on an exposed host comes first, before a worse one inside");
            assert!(page.contains("2 of 3 host(s) assessed") && page.contains("1 host(s) reachable from the internet"), "{page}");
            assert!(position(&page, "Hosts not assessed") < position(&page, "the host policy gives no `osv` path"), "{page}");
            let by_package = console.get("/vulnerabilities?by=package").await.body;
            assert!(position(&by_package, "<td>openssl</td>") < position(&by_package, "<td>zlib</td>"), "{by_package}");
            let by_host = console.get("/vulnerabilities?by=host").await.body;
            assert!(position(&by_host, "host-agt-exposed") < position(&by_host, "host-agt-inside"), "{by_host}");
            assert!(by_host.contains("exposed: 198.51.100.7 tcp/22"), "{by_host}");
            let api = console.get("/api/vulnerabilities").await.json();
            let hosts: Vec<(&str, serde_json::Value)> =
                api["hosts"].as_array().unwrap().iter().map(|host| (host["agent_id"].as_str().unwrap(), host["exposed"].clone())).collect();
            assert_eq!(hosts, vec![("agt-exposed", json!(true)), ("agt-inside", json!(false)), ("agt-failing", json!(false))]);
            let refused = console.get("/vulnerabilities?by=owner").await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST);
            assert!(refused.body.contains("parameter `by` must be one of `cve`, `package`, `host`"), "{}", refused.body);
        });
    }
}
