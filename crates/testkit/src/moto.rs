//! Starts `moto_server` on 127.0.0.1 at a free port and stops it when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;

/// A running moto server, killed on drop.
pub struct MotoServer {
    child: Child,
    pub port: u16,
    pub endpoint_url: String,
}

/// The account every moto request lands in by default.
pub const MOTO_ACCOUNT: &str = "123456789012";

fn moto_server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("VIGIL_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    // The workspace's own virtual environment, as `.ci/run` creates it.
    let workspace_venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if workspace_venv.exists() {
        return workspace_venv;
    }
    PathBuf::from("moto_server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).map(|address| address.port()).expect("no free port on 127.0.0.1")
}

impl MotoServer {
    /// Starts a fresh server with the settings the brief asks for.
    pub fn start() -> MotoServer {
        Self::start_with_env(&[])
    }

    /// Starts a fresh server with extra environment variables (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_with_env(extra_env: &[(&str, &str)]) -> MotoServer {
        let binary = moto_server_binary();
        for _attempt in 0..3 {
            let port = free_port();
            let mut command = Command::new(&binary);
            command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
                .env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", std::env::temp_dir().join(format!("vigil-moto-{port}.jsonl")))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            for (key, value) in extra_env {
                command.env(key, value);
            }
            let child = command.spawn().unwrap_or_else(|error| {
                panic!("cannot start `{}`: {error}; install moto with `pip install 'moto[server]'` or run `bash .ci/run`", binary.display())
            });
            let mut server = MotoServer { child, port, endpoint_url: format!("http://127.0.0.1:{port}") };
            if server.wait_ready(Duration::from_secs(30)) {
                return server;
            }
        }
        panic!("moto_server did not become ready");
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.http("GET", "/moto-api/data.json").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// A minimal HTTP/1.0 request to the server's own `/moto-api`; returns the body.
    pub fn http(&self, method: &str, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n", self.port).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.0 200").then(|| body.to_string()).or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
    }

    /// Starts recording requests (moto's recorder), dropping earlier ones.
    pub fn start_recording(&self) {
        self.http("POST", "/moto-api/recorder/reset-recording");
        self.http("POST", "/moto-api/recorder/start-recording");
    }

    /// The recorded requests, one JSON object per line (`method`, `url`, `body`, ...).
    pub fn recorded_requests(&self) -> Vec<serde_json::Value> {
        self.http("POST", "/moto-api/recorder/stop-recording");
        let body = self.http("GET", "/moto-api/recorder/download-recording").unwrap_or_default();
        body.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
    }

    /// SDK configuration pointing at this server with static test credentials.
    pub async fn sdk_config(&self) -> aws_types::SdkConfig {
        self.sdk_config_with_keys("testing", "testing", "us-east-1").await
    }

    pub async fn sdk_config_with_keys(&self, access_key: &str, secret_key: &str, region: &str) -> aws_types::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, secret_key, None, None, "vigil-testkit"))
            .region(aws_types::region::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint_url)
            .load()
            .await
    }

    /// An S3 client with path-style addressing, as moto needs.
    pub async fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = self.sdk_config_with_keys("testing", "testing", region).await;
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
    }

    /// Environment variables that point the `vigil` binary (or any SDK) at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("AWS_CONFIG_FILE", "/dev/null".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        ]
    }
}

/// The operation of a recorded request: the `Action` of a query-protocol body or the
/// `X-Amz-Target` of a JSON-protocol one (`None` for REST protocols such as S3's).
pub fn request_action(request: &serde_json::Value) -> Option<String> {
    let raw_body = request["body"].as_str().unwrap_or_default();
    let body = if request["body_encoded"].as_bool() == Some(true) {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(raw_body).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
    } else {
        raw_body.to_string()
    };
    let target = request["headers"]["X-Amz-Target"].as_str().or(request["headers"]["x-amz-target"].as_str()).unwrap_or_default();
    body.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_string)
        .or_else(|| target.rsplit('.').next().filter(|name| !name.is_empty()).map(str::to_string))
}

/// True when a recorded request is a read (or the credential report generation collection
/// is allowed to make).
pub fn is_read_only(request: &serde_json::Value) -> bool {
    let method = request["method"].as_str().unwrap_or_default();
    let url = request["url"].as_str().unwrap_or_default();
    let read_verb = |name: &str| {
        ["Describe", "Get", "List", "Lookup", "Search", "Head"].iter().any(|prefix| name.starts_with(prefix)) || name == "GenerateCredentialReport"
    };
    match request_action(request) {
        Some(action) => read_verb(&action),
        // REST protocols (S3, S3 Control): GET and HEAD read, and the few list operations
        // that are POSTs.
        None => {
            let path = url.splitn(4, '/').nth(3).unwrap_or_default().split('?').next().unwrap_or_default().trim_end_matches('/');
            matches!(method, "GET" | "HEAD") || url.contains("/moto-api/") || (method == "POST" && REST_LISTS_SENT_AS_POST.contains(&path))
        }
    }
}

/// REST operations that read although they are POSTs (their Create* siblings are PUTs): the
/// AgentCore control plane's ListAgentRuntimes, ListBrowsers and ListCodeInterpreters.
const REST_LISTS_SENT_AS_POST: &[&str] = &["runtimes", "browsers", "code-interpreters"];

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
