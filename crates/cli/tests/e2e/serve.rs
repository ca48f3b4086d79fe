//! End-to-end tests of `vigil serve`: authentication (401, login, sessions), CSRF refusal of a
//! cross-site form post, security headers, the OpenAPI document, pagination of large pages, a
//! mute, hostile tag values rendered inert, the exposure/IAM/compliance/alerts API, HTTPS with
//! a given certificate, and the console in headless Chromium.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const HOSTILE_TAG: &str = "<script>alert('tag')</script>";
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";

/// A store holding the demo account with one bucket tagged with script payloads.
fn seeded_store(path: &Path) -> String {
    let mut inventory =
        vigil_model::snapshot::from_bytes(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/example-corp.vigil")).unwrap(), "demo").unwrap();
    let bucket = inventory.s3.buckets.first_mut().unwrap();
    bucket.tags.insert("owner".into(), HOSTILE_TAG.into());
    bucket.tags.insert("Name".into(), HOSTILE_NAME.into());
    let arn = format!("arn:aws:s3:::{}", bucket.name);
    let policy = vigil_checks::policy::Policy::bundled();
    let context = vigil_checks::Context::with_policy(&inventory, inventory.collected_at, &policy);
    let findings = vigil_checks::run_all(&context, |_| true);
    let mut store = vigil_store::Store::open(path.to_str().unwrap()).unwrap();
    let input = vigil_store::ScanInput {
        started_at: inventory.collected_at,
        finished_at: inventory.collected_at,
        source: "test".into(),
        inventories: vec![&inventory],
        findings: &findings,
        checks_run: vigil_checks::CHECKS.iter().map(|check| check.metadata().id.to_string()).collect(),
        analyses: None,
    };
    store.record_scan(&input).unwrap();
    arn
}

struct Server {
    child: Child,
    address: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(store: &Path, data: &Path) -> Server {
    start_with(store, data, &[])
}

fn start_with(store: &Path, data: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(store)
        .args(extra)
        .env("VIGIL_DATA_DIR", data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let token_line = lines.next().unwrap();
    let token = token_line.rsplit(": ").next().unwrap().to_string();
    let address = lines.next().unwrap().rsplit("://").next().unwrap().to_string();
    Server { child, address, token }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }
}

/// One HTTP/1.1 request on its own connection.
fn request(server: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = TcpStream::connect(&server.address).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n", server.address, body.len());
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|line| line.split_once(':')).map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string())).collect();
    let chunked = headers.iter().any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Reply { status, headers, body }
}

fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        text = &rest[size + 2..];
    }
    out
}

fn bearer(server: &Server) -> String {
    format!("Bearer {}", server.token)
}

#[test]
fn the_console_requires_authentication_and_refuses_cross_site_posts() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    seeded_store(&store);
    let server = start(&store, directory.path());

    let reply = request(&server, "GET", "/api/findings", &[], "");
    assert_eq!(reply.status, 401);
    let reply = request(&server, "GET", "/", &[], "");
    assert_eq!(reply.status, 401, "a page without authentication");
    assert!(reply.body.contains("action=\"/login\""), "and it shows the login form");
    let browser = request(&server, "GET", "/", &[("accept", "text/html,application/xhtml+xml")], "");
    assert_eq!((browser.status, browser.header("location")), (303, Some("/login")), "a browser is sent to the login form");
    assert_eq!(request(&server, "GET", "/api/findings", &[("authorization", "Bearer wrong")], "").status, 401);
    let page = request(&server, "GET", "/login", &[], "");
    assert_eq!(page.status, 200);
    for (name, expected) in [("x-frame-options", "DENY"), ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer")] {
        assert_eq!(page.header(name), Some(expected));
    }
    assert!(page.header("content-security-policy").unwrap().contains("script-src 'self'"));

    // Log in as a browser would.
    let login = request(&server, "POST", "/login", &[("content-type", "application/x-www-form-urlencoded")], &format!("token={}", server.token));
    assert_eq!(login.status, 303);
    let cookie_header = login.header("set-cookie").unwrap().to_string();
    assert!(cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Strict"), "{cookie_header}");
    let cookie = cookie_header.split(';').next().unwrap().to_string();
    assert_eq!(request(&server, "GET", "/", &[("cookie", &cookie)], "").status, 200);
    let wrong = request(&server, "POST", "/login", &[("content-type", "application/x-www-form-urlencoded")], "token=guess");
    assert_eq!(wrong.status, 401);

    let page = request(&server, "GET", "/api/findings?lifecycle=new&limit=1", &[("authorization", &bearer(&server))], "").json();
    let id = page["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/findings/{id}/mute");
    // A cross-site form post: the browser sends the cookie, but the page cannot set the header.
    let forged = request(
        &server,
        "POST",
        &path,
        &[("cookie", &cookie), ("origin", "https://evil.example"), ("content-type", "application/x-www-form-urlencoded")],
        "reason=pwned",
    );
    assert_eq!(forged.status, 403);
    assert_eq!(request(&server, "POST", &path, &[("content-type", "application/json")], "{\"reason\": \"x\"}").status, 401);
    let muted = request(
        &server,
        "POST",
        &path,
        &[("authorization", &bearer(&server)), ("content-type", "application/json")],
        "{\"reason\": \"accepted risk: test account\"}",
    );
    assert_eq!(muted.status, 200, "{}", muted.body);
    let after = request(&server, "GET", "/api/findings?lifecycle=muted&limit=10000", &[("authorization", &bearer(&server))], "").json();
    assert!(after["items"].as_array().unwrap().iter().any(|finding| finding["id"] == id
        && finding["user_mute_reason"] == "accepted risk: test account"
        && finding["user_muted_at"].as_str().is_some_and(|at| at.starts_with("20"))));
}

#[test]
fn pages_of_findings_follow_their_cursor_and_every_route_is_described() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    seeded_store(&store);
    let total = vigil_store::Store::open(store.to_str().unwrap()).unwrap().table_rows("findings").unwrap() as usize;
    let server = start(&store, directory.path());
    let auth = bearer(&server);

    let everything = request(&server, "GET", "/api/findings?limit=10000", &[("authorization", &auth)], "").json();
    assert_eq!(everything["items"].as_array().unwrap().len(), total);
    assert!(everything["next"].is_null());
    let mut seen = 0;
    let mut after = 0;
    loop {
        let page = request(&server, "GET", &format!("/api/findings?limit=25&after={after}"), &[("authorization", &auth)], "").json();
        seen += page["items"].as_array().unwrap().len();
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, total);
    assert_eq!(request(&server, "GET", "/api/findings?limit=0", &[("authorization", &auth)], "").status, 400);

    let openapi = request(&server, "GET", "/api/openapi.json", &[], "").json();
    for path in ["/api/findings", "/api/findings/{id}/mute", "/api/resources", "/api/resource", "/api/diff", "/api/dashboard", "/api/scans"] {
        assert!(openapi["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let dashboard = request(&server, "GET", "/api/dashboard", &[("authorization", &auth)], "").json();
    assert!(!dashboard["failing_by_severity"].as_array().unwrap().is_empty());
    let resources = request(&server, "GET", "/api/resources?resource_type=AWS::S3::Bucket", &[("authorization", &auth)], "").json();
    assert!(!resources["items"].as_array().unwrap().is_empty());
}

#[test]
fn hostile_tag_values_render_inert() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let arn = seeded_store(&store);
    let server = start(&store, directory.path());
    let encoded: String = arn.bytes().map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect();
    let page = request(&server, "GET", &format!("/resource?arn={encoded}"), &[("authorization", &bearer(&server))], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;alert(&#39;tag&#39;)&lt;/script&gt;"), "{}", page.body);
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.body.contains(HOSTILE_TAG) && !page.body.contains(HOSTILE_NAME));
    let api = request(&server, "GET", &format!("/api/resource?arn={encoded}"), &[("authorization", &bearer(&server))], "");
    assert!(api.header("content-type").unwrap().starts_with("application/json"));
}

/// The demo account scanned twice through the command line (so the store holds the exposure
/// and IAM analyses), the second time with a bucket tagged with script payloads; and one
/// activity alert whose event fields hold payloads too. Returns the bucket's ARN.
fn scanned_store(directory: &Path, store: &Path) -> String {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/example-corp.vigil");
    let mut inventory = vigil_model::snapshot::from_bytes(&std::fs::read(demo).unwrap(), "demo").unwrap();
    let bucket = inventory.s3.buckets.first_mut().unwrap();
    bucket.tags.insert("owner".into(), HOSTILE_TAG.into());
    bucket.tags.insert("Name".into(), HOSTILE_NAME.into());
    let arn = format!("arn:aws:s3:::{}", bucket.name);
    let hostile = directory.join("hostile.vigil");
    vigil_model::snapshot::write(&hostile, &inventory).unwrap();
    for source in [demo, hostile.to_str().unwrap()] {
        let status = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["scan", "-q", "--snapshot", source, "--store"])
            .arg(store)
            .env("VIGIL_DATA_DIR", directory)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success() || status.code() == Some(3));
    }
    let alert = vigil_store::AlertInput {
        rule_id: "stop-logging".into(),
        event_id: "e-1".into(),
        rule_title: "CloudTrail logging stopped".into(),
        level: "high".into(),
        event_time: "2026-11-24T10:00:00Z".into(),
        event_name: "StopLogging".into(),
        account_id: Some("123456789012".into()),
        detail: serde_json::json!({ "event": { "eventName": "StopLogging", "userAgent": HOSTILE_NAME, "requestParameters": { "name": HOSTILE_TAG } } }),
    };
    vigil_store::Store::open(store.to_str().unwrap()).unwrap().record_alerts(&[alert], "2026-11-24T10:00:01Z").unwrap();
    arn
}

/// Issue 21: listening beyond loopback without TLS said nothing. `vigil serve` warns on
/// stderr, right after the address it listens on, and still serves (that loopback gets no
/// warning is `console_tests::pages_are_not_cached_and_tls_answers_carry_hsts`).
#[test]
fn listening_beyond_loopback_without_tls_warns() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    seeded_store(&store);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "0.0.0.0:0", "--store"])
        .arg(&store)
        .env("VIGIL_DATA_DIR", directory.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let token = lines.next().unwrap().rsplit(": ").next().unwrap().to_string();
    let listening = lines.next().unwrap();
    let warning = lines.next().unwrap_or_default();
    let port = listening.rsplit(':').next().unwrap().to_string();
    let server = Server { child, address: format!("127.0.0.1:{port}"), token };
    assert!(listening.contains("http://0.0.0.0:"), "{listening}");
    assert!(warning.starts_with("warning: serving plain HTTP") && warning.contains("--tls-cert"), "{warning}");
    assert_eq!(request(&server, "GET", "/api/dashboard", &[("authorization", &bearer(&server))], "").status, 200, "it still serves");
}

/// The console in headless Chromium (Playwright driving Debian's chromium): log in, the
/// dashboard's charts, filtering and grouping findings, a resource and its history with
/// hostile tags shown as text, a mute from the finding's page, and every other page (the fleet
/// Vulnerabilities page among them); then a viewer's refused mute, an analyst's mute and refused
/// user change, the admin's audit log; no
/// console error, no dialog, no request to another origin. Screenshots are kept in
/// `target/tmp/console-screenshots`.
#[test]
fn the_console_works_in_headless_chromium() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = repository.join(".venv/bin/python");
    let chromium = ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(|name| {
        let output = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    });
    let playwright = python.exists() && Command::new(&python).args(["-c", "import playwright"]).status().is_ok_and(|status| status.success());
    let (Some(chromium), true) = (chromium, playwright) else {
        assert_ne!(std::env::var("VIGIL_REQUIRE_BROWSER").as_deref(), Ok("1"), "VIGIL_REQUIRE_BROWSER=1 but chromium or Playwright (.venv) is missing");
        eprintln!("skipped: needs chromium on PATH and Playwright in .venv (scripts/requirements-test.txt)");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let arn = scanned_store(directory.path(), &store);
    let password = "browser test passphrase";
    for (user, role) in [("vera", "viewer"), ("ana", "analyst"), ("adam", "admin")] {
        vigil_with_input(&store, &["users", "add", user, "--role", role], &format!("{password}\n"));
    }
    // Single sign-on through a provider on another site (`localhost`, the console being at
    // 127.0.0.1), whose page the person clicks through, as with a real provider: the way back
    // starts at the provider's site, so the browser's SameSite rules apply as in production.
    let provider = vigil_testkit::oidc::TestOidc::start_as(vigil_testkit::oidc::ClientAuth::Basic, "localhost");
    provider.next_login(vigil_testkit::oidc::NextLogin::user("00u-sso", "sso-analyst", &["vigil-analysts"]));
    provider.require_consent(true);
    let server = start_with_oidc(&store, &directory.path().join("data"), &provider);
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let output = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console.py"))
        .args([&chromium, &format!("http://{}", server.address), &server.token, &arn])
        .arg(&screenshots)
        .arg(password)
        .arg("sso-analyst")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{text}");
    for name in [
        "dashboard",
        "findings-high",
        "resource",
        "finding-muted",
        "exposure",
        "identities",
        "activity",
        "scans",
        "vulnerabilities",
        "viewer-refused",
        "audit",
        "sso",
    ] {
        assert!(screenshots.join(format!("{name}.png")).exists(), "no screenshot of {name}");
    }
}

#[test]
fn the_api_serves_exposure_identities_compliance_alerts_and_groups() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("vigil.db");
    let arn = scanned_store(directory.path(), &store);
    let server = start(&store, directory.path());
    let auth = bearer(&server);
    let get = |path: &str| {
        let reply = request(&server, "GET", path, &[("authorization", &auth)], "");
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        reply.json()
    };
    let exposure = get("/api/exposure");
    let exposed = exposure["items"].as_array().unwrap();
    assert!(!exposed.is_empty(), "the demo account has internet-exposed instances");
    assert!(exposed.iter().all(|row| row["subject"].as_str().unwrap().starts_with("arn:aws:") && !row["detail"]["path"].as_array().unwrap().is_empty()));
    let admins = get("/api/iam/admins");
    assert!(admins["items"].as_array().unwrap().iter().any(|row| row["subject"] == "arn:aws:iam::123456789012:user/alice"));
    let external = get("/api/iam/external");
    assert!(external["items"].as_array().unwrap().iter().any(|row| row["detail"]["exposure"] == "cross-account"));
    assert!(get("/api/iam/escalation")["items"].is_array());

    let compliance = get("/api/compliance");
    assert_eq!(compliance.as_array().unwrap().len(), vigil_checks::frameworks::FRAMEWORKS.len());
    let cis = get("/api/compliance?framework=cis");
    assert!(cis["requirements"].as_array().unwrap().iter().any(|row| row["status"] == "FAIL"));
    assert_eq!(request(&server, "GET", "/api/compliance?framework=nope", &[("authorization", &auth)], "").status, 400);

    let groups = get("/api/findings/groups?by=service&failing=1");
    let total: i64 = groups.as_array().unwrap().iter().map(|group| group["count"].as_i64().unwrap()).sum();
    let failing = get("/api/findings?lifecycle=open&limit=10000")["items"].as_array().unwrap().len()
        + get("/api/findings?lifecycle=new&limit=10000")["items"].as_array().unwrap().len();
    assert_eq!(total as usize, failing);
    assert_eq!(request(&server, "GET", "/api/findings/groups?by=colour", &[("authorization", &auth)], "").status, 404);
    let high_groups = get("/api/findings/groups?by=region&severity=high&failing=1");
    let high_total: i64 = high_groups.as_array().unwrap().iter().map(|group| group["count"].as_i64().unwrap()).sum();
    assert_eq!(high_total as usize, get("/api/findings?severity=high&failing=1&limit=10000")["items"].as_array().unwrap().len());
    let sorted = get("/api/findings?sort=severity&status=FAIL&limit=3");
    assert_eq!(sorted["items"][0]["severity"], "critical");

    let first = get("/api/findings?limit=1")["items"][0]["id"].as_i64().unwrap();
    let finding = get(&format!("/api/finding?id={first}"));
    assert!(!finding["check"]["remediation"]["text"].as_str().unwrap().is_empty());
    let alerts = get("/api/alerts");
    assert_eq!(alerts["items"][0]["event_name"], "StopLogging");
    let facets = get("/api/resources/facets");
    assert!(facets["resource_type"].as_array().unwrap().iter().any(|pair| pair[0] == "AWS::S3::Bucket"));
    let tagged = get("/api/resources?tag=owner");
    assert!(tagged["items"].as_array().unwrap().iter().any(|item| item["arn"] == arn.as_str()));

    let encoded: String = arn.bytes().map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect();
    let resource = get(&format!("/api/resource?arn={encoded}"));
    assert_eq!(resource["versions"].as_array().unwrap().len(), 2, "the tags changed between the two scans");
    assert_eq!(resource["access"][0]["action"], "s3:GetObject");
    assert!(!resource["access"][0]["principals"].as_array().unwrap().is_empty(), "admins can read the bucket");
    let instance = exposed[0]["subject"].as_str().unwrap();
    let encoded: String = instance.bytes().map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect();
    assert!(!get(&format!("/api/resource?arn={encoded}"))["exposure"].as_array().unwrap().is_empty());
    let alice = request(&server, "GET", "/resource?arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Auser%2Falice", &[("authorization", &auth)], "");
    assert!(alice.body.contains("id=\"admin\""), "an admin's page says so");
    for page in
        ["/", "/findings?group=service", "/exposure", "/identities", "/paths", "/activity", "/scans", "/resources?tag=owner", "/compliance?framework=cis"]
    {
        let reply = request(&server, "GET", page, &[("authorization", &auth)], "");
        assert_eq!(reply.status, 200, "{page}");
        assert!(!reply.body.contains(HOSTILE_TAG) && !reply.body.contains(HOSTILE_NAME), "{page} holds a raw payload");
    }
}

/// `--tls-cert`/`--tls-key`: HTTPS with the given certificate, and the session cookie gets
/// `Secure`. The certificate is made with `openssl` and the requests sent with `curl`.
#[test]
fn the_console_serves_https_with_the_given_certificate() {
    let have = |tool: &str, argument: &str| Command::new(tool).arg(argument).output().is_ok_and(|output| output.status.success());
    if !(have("openssl", "version") && have("curl", "--version")) {
        eprintln!("skipped: needs openssl and curl");
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let (cert, key) = (directory.path().join("cert.pem"), directory.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let store = directory.path().join("vigil.db");
    seeded_store(&store);
    let server = start_with(&store, directory.path(), &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let curl = |extra: &[&str], path: &str| {
        let output = Command::new("curl")
            .args(["-s", "-i", "--cacert", cert.to_str().unwrap()])
            .args(extra)
            .arg(format!("https://{}{path}", server.address))
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let scans = curl(&["-H", &format!("Authorization: Bearer {}", server.token)], "/api/scans");
    assert!(scans.starts_with("HTTP/1.1 200"), "{scans}");
    let login = curl(&["--data-urlencode", &format!("token={}", server.token)], "/login");
    let cookie = login.lines().find(|line| line.to_ascii_lowercase().starts_with("set-cookie:")).unwrap_or_default();
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{login}");
    assert!(curl(&[], "/api/scans").starts_with("HTTP/1.1 401"));
    // Plain HTTP on the TLS port gets no answer.
    let plain = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"])
        .arg(format!("http://{}/login", server.address))
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200");

    let wrong = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&key)
        .arg("--tls-key")
        .arg(&cert)
        .arg("--store")
        .arg(&store)
        .env("VIGIL_DATA_DIR", directory.path())
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success() && message.contains("TLS"), "{message}");
}

#[test]
fn applied_fixes_are_listed_on_the_fixes_page_the_resource_page_and_the_api() {
    let directory = tempfile::tempdir().unwrap();
    let store_path = directory.path().join("vigil.db");
    let arn = seeded_store(&store_path);
    let mut store = vigil_store::Store::open(store_path.to_str().unwrap()).unwrap();
    let fix = vigil_store::FixInput {
        started_at: "2024-05-01T10:00:00.000Z".into(),
        finished_at: "2024-05-01T10:00:02.000Z".into(),
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        check_id: "s3_bucket_public_access_block_enabled".into(),
        resource_arn: arn.clone(),
        target_arn: arn.clone(),
        kind: "s3-bucket-public-access-block".into(),
        caller_arn: "arn:aws:iam::123456789012:user/fixer".into(),
        operator: HOSTILE_NAME.into(),
        origin: "cli".into(),
        status: "applied".into(),
        message: "applied and verified".into(),
        undo_of: None,
        plan: serde_json::json!({ "summary": "Turns on all four Block Public Access settings of the bucket.", "resolves": [{ "check_id": "s3_bucket_public_access_block_enabled", "resource": arn }] }),
        calls: serde_json::json!([{ "call": { "service": "s3", "operation": "PutPublicAccessBlock", "region": "us-east-1", "parameters": { "Bucket": "b" } } }]),
        before: Some(serde_json::json!({ "PublicAccessBlockConfiguration": null })),
        after: Some(serde_json::json!({ "PublicAccessBlockConfiguration": { "BlockPublicAcls": true } })),
        inverse: serde_json::json!([{ "service": "s3", "operation": "DeletePublicAccessBlock", "region": "us-east-1", "parameters": { "Bucket": "b" } }]),
    };
    let id = store.record_fix(&fix).unwrap();
    drop(store);
    let server = start(&store_path, directory.path());
    let auth = bearer(&server);
    let api = request(&server, "GET", "/api/fixes", &[("authorization", &auth)], "").json();
    assert_eq!(api[0]["id"], id);
    assert_eq!(api[0]["check_id"], "s3_bucket_public_access_block_enabled");
    assert_eq!(api[0]["inverse"][0]["operation"], "DeletePublicAccessBlock");
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    assert_eq!(request(&server, "GET", &format!("/api/fixes?resource={encoded}"), &[("authorization", &auth)], "").json().as_array().unwrap().len(), 1);
    assert!(request(&server, "GET", "/api/fixes?resource=arn%3Aaws%3As3%3A%3A%3Aother", &[("authorization", &auth)], "").json().as_array().unwrap().is_empty());
    let page = request(&server, "GET", &format!("/fixes?id={id}"), &[("authorization", &auth)], "");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("PutPublicAccessBlock") && page.body.contains("DeletePublicAccessBlock") && page.body.contains("applied and verified"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(HOSTILE_NAME), "the operator's name must be escaped");
    let resource = request(&server, "GET", &format!("/resource?arn={encoded}"), &[("authorization", &auth)], "");
    assert!(resource.body.contains("id=\"resource-fixes\"") && resource.body.contains(&format!("/fixes?id={id}")), "{}", resource.body);
}

/// Another `vigil serve` with the data directory of a running one: the token exists, so the
/// first line it prints is the address.
fn start_again(store: &Path, data: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(store)
        .env("VIGIL_DATA_DIR", data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let address = lines.find(|line| line.contains("listening on")).unwrap().rsplit("://").next().unwrap().to_string();
    Server { child, address, token: String::new() }
}

/// Runs `vigil ARGS --store STORE` with `stdin` as standard input; returns its standard output.
fn vigil_with_input(store: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .arg("--store")
        .arg(store)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "vigil {args:?}: {stderr}");
    stdout
}

/// A browser's session on `server`: the cookie and the CSRF token of its pages.
fn log_in(server: &Server, user: &str, password: &str) -> (String, String) {
    let form = format!("user={user}&password={}", password.replace(' ', "+"));
    let login = request(server, "POST", "/login", &[("content-type", "application/x-www-form-urlencoded")], &form);
    assert_eq!(login.status, 303, "{user}: {}", login.body);
    let cookie = login.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let page = request(server, "GET", "/", &[("cookie", &cookie)], "");
    let csrf = page.body.split("name=\"csrf-token\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (cookie, csrf)
}

/// Issue 21: people added with `vigil users`, a key made with `vigil apikeys`, each acting with
/// its role against a running `vigil serve`; the session outlives the server process and works
/// on a second server over the same store; `vigil audit export --format ocsf` lists every
/// change and login as OCSF events.
#[test]
fn people_and_keys_from_the_command_line_act_with_their_roles_and_are_audited() {
    let directory = tempfile::tempdir().unwrap();
    let (store, data) = (directory.path().join("vigil.db"), directory.path().join("data"));
    seeded_store(&store);
    let password = "correct horse battery staple";
    vigil_with_input(&store, &["users", "add", "ana", "--role", "analyst"], &format!("{password}\n"));
    let short = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["users", "add", "bob", "--role", "viewer", "--store"])
        .arg(&store)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let short = short.wait_with_output().unwrap();
    assert!(!short.status.success() && String::from_utf8_lossy(&short.stderr).contains("at least 12"), "an empty password is refused");
    let key = vigil_with_input(&store, &["apikeys", "create", "dashboards", "--role", "viewer"], "").trim().to_string();
    assert!(key.starts_with("vgk_"), "{key}");
    let listed = vigil_with_input(&store, &["apikeys", "list", "--format", "json"], "");
    assert!(listed.contains("\"dashboards\"") && !listed.contains(&key), "the key is shown once, never listed: {listed}");

    let server = start(&store, &data);
    let finding =
        request(&server, "GET", "/api/findings?failing=1&limit=1", &[("authorization", &bearer(&server))], "").json()["items"][0]["id"].as_i64().unwrap();
    let mute = format!("/api/findings/{finding}/mute");
    // The audit log names the muted finding by its id, as text.
    let mute_target = finding.to_string();
    let by_key = format!("Bearer {key}");
    assert_eq!(request(&server, "GET", "/api/dashboard", &[("authorization", &by_key)], "").status, 200, "a viewer key reads");
    assert_eq!(
        request(&server, "POST", &mute, &[("authorization", &by_key), ("content-type", "application/json")], r#"{"reason":"x"}"#).status,
        403,
        "but cannot mute"
    );
    let (cookie, csrf) = log_in(&server, "ana", password);
    let muted =
        request(&server, "POST", &mute, &[("cookie", &cookie), ("x-csrf-token", &csrf), ("content-type", "application/json")], r#"{"reason":"accepted"}"#);
    assert_eq!(muted.status, 200, "{}", muted.body);
    assert_eq!(request(&server, "GET", "/api/users", &[("cookie", &cookie)], "").status, 403, "an analyst cannot manage users");

    // A second server on the same store, then the first one killed and started again.
    let second = start_again(&store, &data);
    assert_eq!(request(&second, "GET", "/api/dashboard", &[("cookie", &cookie)], "").status, 200, "the second server knows the session");
    drop(server);
    let restarted = start_again(&store, &data);
    assert_eq!(request(&restarted, "GET", "/api/dashboard", &[("cookie", &cookie)], "").status, 200, "a restart logs nobody out");

    vigil_with_input(&store, &["users", "disable", "ana"], "");
    vigil_with_input(&store, &["apikeys", "revoke", "dashboards"], "");
    assert_eq!(request(&restarted, "GET", "/api/dashboard", &[("cookie", &cookie)], "").status, 401, "a disabled user's session ends");
    assert_eq!(request(&second, "GET", "/api/dashboard", &[("authorization", &by_key)], "").status, 401, "a revoked key opens nothing");

    let export = vigil_with_input(&store, &["audit", "export", "--format", "ocsf"], "");
    let events: Vec<Value> = export.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let has = |class: u64, code: &str, check: &dyn Fn(&Value) -> bool| {
        events.iter().any(|event| event["class_uid"].as_u64() == Some(class) && event["metadata"]["event_code"] == code && check(event))
    };
    assert!(has(3001, "user.add", &|event| event["user"]["name"] == "ana" && event["actor"]["user"]["name"].as_str().unwrap().starts_with("cli:")), "{export}");
    assert!(has(3001, "apikey.create", &|event| event["user"]["name"] == "dashboards"), "{export}");
    assert!(has(3002, "login", &|event| event["user"]["name"] == "ana" && event["status_id"] == 1 && event["src_endpoint"]["ip"] == "127.0.0.1"), "{export}");
    assert!(
        has(6003, "finding.mute", &|event| event["actor"]["user"]["name"] == "user:ana" && event["resources"][0]["uid"].as_str() == Some(mute_target.as_str())),
        "{export}"
    );
    assert!(has(3001, "user.disable", &|_| true) && has(3001, "apikey.revoke", &|event| event["activity_id"] == 6), "{export}");
    assert!(!has(6003, "finding.mute", &|event| event["actor"]["user"]["name"] == "key:dashboards"), "a refused change is not recorded as one");
    let times: Vec<i64> = events.iter().map(|event| event["time"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "oldest first: {times:?}");
}

/// `vigil serve` with single sign-on through `provider` (the client secret in the environment),
/// mapping the group `vigil-analysts` to the analyst role. The redirect URL names the console's
/// port, so the port is chosen before it starts.
fn start_with_oidc(store: &Path, data: &Path, provider: &vigil_testkit::oidc::TestOidc) -> Server {
    use vigil_testkit::oidc::{CLIENT_ID, CLIENT_SECRET};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let redirect = format!("http://{listen}/login/oidc/callback");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", &listen, "--store"])
        .arg(store)
        .args(["--oidc-issuer", &provider.issuer, "--oidc-client-id", CLIENT_ID, "--oidc-redirect-url", &redirect, "--oidc-role", "vigil-analysts=analyst"])
        .env("VIGIL_DATA_DIR", data)
        .env("VIGIL_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines().map_while(Result::ok);
    let token = lines.find(|line| line.starts_with("console access token")).unwrap().rsplit(": ").next().unwrap().to_string();
    let address = lines.find(|line| line.contains("listening on")).unwrap().rsplit("://").next().unwrap().to_string();
    assert_eq!(address, listen);
    Server { child, address, token }
}

/// Issue 21, single sign-on: `vigil serve` with OpenID Connect against the test provider (its
/// client secret from the environment, never the command line). A browser's sign-in followed
/// redirect by redirect over HTTP opens a session with the role the user's group maps to, which
/// mutes a finding; the user is listed as an `oidc` user and the login is audited with its
/// method; `vigil users disable` ends its session and refuses its next sign-in. Without the
/// client secret, `vigil serve` refuses to start and says how to give it.
#[test]
fn single_sign_on_with_an_openid_connect_provider_opens_a_session_over_http() {
    use vigil_testkit::oidc::{CLIENT_ID, NextLogin, TestOidc};
    let directory = tempfile::tempdir().unwrap();
    let (store, data) = (directory.path().join("vigil.db"), directory.path().join("data"));
    seeded_store(&store);
    let provider = TestOidc::start();
    let refused = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(&store)
        .args(["--oidc-issuer", &provider.issuer, "--oidc-client-id", CLIENT_ID, "--oidc-redirect-url", "http://127.0.0.1:1/login/oidc/callback"])
        .args(["--oidc-role", "vigil-analysts=analyst"])
        .env("VIGIL_DATA_DIR", &data)
        .env_remove("VIGIL_OIDC_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("$VIGIL_OIDC_CLIENT_SECRET"), "{}", String::from_utf8_lossy(&refused.stderr));
    let server = start_with_oidc(&store, &data, &provider);
    let listen = server.address.clone();

    let login = request(&server, "GET", "/login", &[], "");
    assert!(login.body.contains("Sign in with SSO"), "{}", login.body);
    provider.next_login(NextLogin::user("00u-ana", "ana", &["staff", "vigil-analysts"]));
    let start = request(&server, "GET", "/login/oidc", &[], "");
    assert_eq!(start.status, 303, "{}", start.body);
    let state_cookie = start.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let authorize = start.header("location").unwrap().to_string();
    assert!(authorize.starts_with(&format!("{}/authorize?", provider.issuer)), "{authorize}");
    let back = provider.authorize(&authorize);
    let callback = back.strip_prefix(&format!("http://{listen}")).unwrap_or_else(|| panic!("{back}"));
    let signed_in = request(&server, "GET", callback, &[("cookie", &state_cookie)], "");
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let session = signed_in
        .headers
        .iter()
        .find(|(name, value)| name == "set-cookie" && value.starts_with("vigil_session="))
        .map(|(_, value)| value.split(';').next().unwrap().to_string())
        .unwrap();
    let page = request(&server, "GET", "/", &[("cookie", &session)], "");
    assert!(page.body.contains("user:ana (analyst)"), "{}", page.body);
    let csrf = page.body.split("name=\"csrf-token\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let findings = request(&server, "GET", "/api/findings?failing=1&limit=1", &[("cookie", &session)], "").json();
    let id = findings["items"][0]["id"].as_i64().unwrap();
    let json = [("cookie", session.as_str()), ("x-csrf-token", csrf.as_str()), ("content-type", "application/json")];
    let muted = request(&server, "POST", &format!("/api/findings/{id}/mute"), &json, r#"{"reason":"signed in by SSO"}"#);
    assert_eq!(muted.status, 200, "an analyst by the provider's group mutes: {}", muted.body);

    let users = vigil_with_input(&store, &["users", "list", "--format", "json"], "");
    assert!(users.contains("\"ana\"") && users.contains("\"oidc\"") && users.contains("\"analyst\""), "{users}");
    let audit = request(&server, "GET", "/api/audit?limit=20", &[("authorization", &bearer(&server))], "").json();
    let logged = audit
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["action"] == "login" && entry["target"] == "ana" && entry["detail"] == "oidc" && entry["outcome"] == "success");
    assert!(logged, "{audit}");

    // `vigil users disable` ends the session and refuses the next sign-in, which the provider
    // would still vouch for.
    vigil_with_input(&store, &["users", "disable", "ana"], "");
    assert_eq!(request(&server, "GET", "/api/dashboard", &[("cookie", &session)], "").status, 401);
    let start = request(&server, "GET", "/login/oidc", &[], "");
    let state_cookie = start.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let back = provider.authorize(start.header("location").unwrap());
    let refused = request(&server, "GET", back.strip_prefix(&format!("http://{listen}")).unwrap(), &[("cookie", &state_cookie)], "");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("is disabled"), "{}", refused.body);
    assert!(refused.headers.iter().all(|(name, value)| name != "set-cookie" || !value.starts_with("vigil_session=")));
}
