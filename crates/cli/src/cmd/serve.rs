//! `vigil serve`: the console (HTTP API and pages) over the store.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use super::history::StoreArgs;

/// Connections the console opens to the store.
const STORE_CONNECTIONS: usize = 4;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on (127.0.0.1 keeps the console on this machine; port 0 picks one).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Forget the access token and print a new one (every session ends).
    #[arg(long)]
    pub reset_token: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Certificates (PEM) trusted to sign EC2 instance identity documents for zero-touch agent
    /// enrolment (default: AWS's published certificate, shipped with vigil).
    #[arg(long, value_name = "PEM")]
    pub identity_cert: Option<std::path::PathBuf>,
    /// The cloud-aware host policy (YAML) choosing each agent's modules and settings (default:
    /// the bundled policy; docs/agent.md).
    #[arg(long, value_name = "FILE")]
    pub host_policy: Option<std::path::PathBuf>,
    /// Sigma rules (files or directories, e.g. the SigmaHQ Linux `builtin` and `auditd`
    /// families) the server runs, beside the built-in host detections, over the log records
    /// agents ship (`logs.detect: server` or `both`; docs/agent.md). An invalid rule (an unknown
    /// modifier, bad YAML) stops the server with its file and reason; rules for other log
    /// sources, or using a Sigma construct the engine does not run, are skipped (with a warning).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub host_rules: Vec<std::path::PathBuf>,
    /// Also serve the agent API (alone) on this address; it is always served on --listen too.
    #[arg(long, value_name = "ADDR:PORT")]
    pub agent_listen: Option<std::net::SocketAddr>,
    /// Seconds between an agent's heartbeats.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub agent_heartbeat: u64,
    /// An agent silent this long while its instance runs is `missing` (an alert).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(i64).range(1..))]
    pub agent_missing_after: i64,
    #[command(flatten)]
    pub notify: super::notify::NotifyArgs,
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// Single sign-on with an OpenID Connect provider (docs/console.md, "Single sign-on").
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Single sign-on (OpenID Connect)")]
pub struct OidcArgs {
    /// The provider's issuer URL, exactly as its discovery document writes it (enables the
    /// "Sign in with SSO" link); needs --oidc-client-id, --oidc-redirect-url and the client
    /// secret in --oidc-client-secret-file or $VIGIL_OIDC_CLIENT_SECRET.
    #[arg(long, value_name = "URL", requires_all = ["oidc_client_id", "oidc_redirect_url"])]
    pub oidc_issuer: Option<String>,
    /// The client id the provider gave the console.
    #[arg(long, value_name = "ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client secret (its first line). Without it the secret is read from
    /// $VIGIL_OIDC_CLIENT_SECRET; it is never taken on the command line.
    #[arg(long, value_name = "FILE", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,
    /// The console's callback as registered with the provider:
    /// https://HOST[:PORT]/login/oidc/callback.
    #[arg(long, value_name = "URL", requires = "oidc_issuer")]
    pub oidc_redirect_url: Option<String>,
    /// The scopes asked for (space-separated; `openid` must be one).
    #[arg(long, value_name = "SCOPES", default_value = "openid profile email")]
    pub oidc_scopes: String,
    /// The ID token's claim naming the console user.
    #[arg(long, value_name = "CLAIM", default_value = "preferred_username")]
    pub oidc_username_claim: String,
    /// The ID token's claim whose values (a string or a list) --oidc-role maps to roles.
    #[arg(long, value_name = "CLAIM", default_value = "groups")]
    pub oidc_role_claim: String,
    /// A value of the role claim and the role it gives (repeatable: VALUE=viewer|analyst|admin);
    /// the highest role found wins.
    #[arg(long = "oidc-role", value_name = "VALUE=ROLE", value_parser = parse_role_mapping)]
    pub oidc_roles: Vec<(String, vigil_store::people::Role)>,
    /// The role of a user none of whose values is mapped; without it such a user is refused.
    #[arg(long, value_name = "ROLE", value_parser = parse_role)]
    pub oidc_default_role: Option<vigil_store::people::Role>,
    /// Certificates (PEM) trusted for the provider besides the system's (a private CA).
    #[arg(long, value_name = "PEM", requires = "oidc_issuer")]
    pub oidc_ca_cert: Option<std::path::PathBuf>,
}

fn parse_role(text: &str) -> Result<vigil_store::people::Role, String> {
    vigil_store::people::Role::parse(text).ok_or_else(|| format!("`{text}` is not a role: use viewer, analyst or admin"))
}

fn parse_role_mapping(text: &str) -> Result<(String, vigil_store::people::Role), String> {
    let (value, role) = text.rsplit_once('=').ok_or_else(|| format!("`{text}` is not VALUE=ROLE"))?;
    if value.is_empty() {
        return Err(format!("`{text}` maps an empty value"));
    }
    Ok((value.to_string(), parse_role(role)?))
}

/// The environment variable holding the client secret when no file is given.
const CLIENT_SECRET_ENV: &str = "VIGIL_OIDC_CLIENT_SECRET";

impl OidcArgs {
    /// Single sign-on's configuration, or `None` without --oidc-issuer.
    fn config(&self) -> anyhow::Result<Option<vigil_server::oidc::OidcConfig>> {
        let Some(issuer) = &self.oidc_issuer else { return Ok(None) };
        let client_secret = match &self.oidc_client_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the client secret file `{}`", path.display()))?;
                text.lines().next().unwrap_or_default().trim().to_string()
            }
            None => std::env::var(CLIENT_SECRET_ENV)
                .map_err(|_| anyhow::anyhow!("--oidc-issuer needs the client secret: give --oidc-client-secret-file FILE or set ${CLIENT_SECRET_ENV}"))?,
        };
        let extra_roots_pem = match &self.oidc_ca_cert {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?),
            None => None,
        };
        if self.oidc_roles.is_empty() && self.oidc_default_role.is_none() {
            anyhow::bail!("--oidc-issuer needs at least one --oidc-role VALUE=ROLE or --oidc-default-role ROLE: no one could sign in");
        }
        Ok(Some(vigil_server::oidc::OidcConfig {
            issuer: issuer.clone(),
            client_id: self.oidc_client_id.clone().unwrap_or_default(),
            client_secret,
            redirect_url: self.oidc_redirect_url.clone().unwrap_or_default(),
            scopes: self.oidc_scopes.clone(),
            username_claim: self.oidc_username_claim.clone(),
            role_claim: self.oidc_role_claim.clone(),
            role_map: self.oidc_roles.clone(),
            default_role: self.oidc_default_role,
            extra_roots_pem,
        }))
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Read the certificate first: a wrong path fails before anything else happens.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(vigil_server::tls::Certificate::load(cert, key)?),
        _ => None,
    };
    let trusted = match &args.identity_cert {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
            vigil_fleet::identity::TrustedCertificates::from_pem(&text, &path.display().to_string())?
        }
        None => vigil_fleet::identity::TrustedCertificates::aws()?,
    };
    let (policy_text, policy_name) = match &args.host_policy {
        Some(path) => (std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?, path.display().to_string()),
        None => (vigil_fleet::policy::DEFAULT_HOST_POLICY.to_string(), "default-host-policy.yaml".to_string()),
    };
    let host_policy = vigil_fleet::HostPolicy::parse(&policy_text, &policy_name)?;
    let host_rule_paths: Vec<&std::path::Path> = args.host_rules.iter().map(std::path::PathBuf::as_path).collect();
    let host_detections = vigil_host::logs::detect::RecordEvaluator::load(&host_rule_paths).context("--host-rules")?;
    // Single sign-on's configuration is checked before the store is touched; the provider is
    // first called at the first sign-in, so a provider that is down does not stop the console.
    let oidc = match args.oidc.config()? {
        Some(config) => Some(vigil_server::oidc::Oidc::new(config)?),
        None => None,
    };
    let mut store = args.store.open()?;
    store.record_host_policy(&host_policy.version, &policy_text, &chrono::Utc::now().to_rfc3339())?;
    let token_path = crate::paths::data_dir().join("console-token");
    if args.reset_token && token_path.exists() {
        std::fs::remove_file(&token_path).with_context(|| format!("cannot remove `{}`", token_path.display()))?;
    }
    let (hash, new_token) = vigil_server::auth::load_or_create(&token_path)?;
    if let Some(token) = new_token {
        eprintln!("console access token (shown once; its hash is kept in {}): {token}", token_path.display());
    }
    // After the token, which is the first line a new console prints.
    for skipped in host_detections.skipped.iter().filter(|skipped| skipped.kind == vigil_trail::sigma::RejectionKind::Unsupported) {
        tracing::warn!("--host-rules: `{}` ({}) is skipped: {}", skipped.origin, skipped.title.as_deref().unwrap_or("untitled"), skipped.reason);
    }
    tracing::info!(
        "host detections on shipped log records: {} rules and {} correlations ({} rules skipped)",
        host_detections.set.rules.len(),
        host_detections.set.correlations.len(),
        host_detections.skipped.len()
    );
    // More connections let requests read in parallel (one was opened above, which also applied
    // any pending migration).
    let mut connections = vec![store];
    for _ in 1..STORE_CONNECTIONS {
        connections.push(args.store.open()?);
    }
    let mut fleet = vigil_server::agent_api::Fleet::new(trusted, host_policy, args.agent_heartbeat, args.agent_missing_after);
    fleet.host_detections = Some(Arc::new(host_detections));
    if !args.notify.targets.is_empty() {
        // Missing-agent alerts are notified like other alerts, from a thread of their own (the
        // delivery blocks).
        let (notify, location) = (args.notify.clone(), args.store.clone());
        fleet.on_alerts = Some(Box::new(move |alerts: &[vigil_store::AlertInput]| {
            let (notify, location, alerts) = (notify.clone(), location.clone(), alerts.to_vec());
            std::thread::spawn(move || {
                let delivered = location.open().and_then(|mut store| super::notify::after_alerts(&notify, &mut store, &alerts, None, false));
                if let Err(error) = delivered {
                    eprintln!("warning: cannot notify agent alerts: {error:#}");
                }
            });
        }));
    }
    let state = Arc::new(vigil_server::AppState {
        store: vigil_server::StorePool::new(connections),
        auth: vigil_server::auth::Auth::new(hash),
        secure_cookies: tls.is_some(),
        fleet: Some(fleet),
        oidc,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let sweep_every = std::time::Duration::from_secs(args.agent_heartbeat.clamp(1, 30));
    runtime.block_on(vigil_server::serve(state, args.listen, tls, args.agent_listen, sweep_every))?;
    Ok(ExitCode::SUCCESS)
}
