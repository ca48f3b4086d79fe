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
    // More connections let requests read in parallel (one was opened above, which also applied
    // any pending migration).
    let mut connections = vec![store];
    for _ in 1..STORE_CONNECTIONS {
        connections.push(args.store.open()?);
    }
    let mut fleet = vigil_server::agent_api::Fleet::new(trusted, host_policy, args.agent_heartbeat, args.agent_missing_after);
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
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let sweep_every = std::time::Duration::from_secs(args.agent_heartbeat.clamp(1, 30));
    runtime.block_on(vigil_server::serve(state, args.listen, tls, args.agent_listen, sweep_every))?;
    Ok(ExitCode::SUCCESS)
}
