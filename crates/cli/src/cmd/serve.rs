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
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Read the certificate first: a wrong path fails before anything else happens.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(vigil_server::tls::Certificate::load(cert, key)?),
        _ => None,
    };
    let store = args.store.open()?;
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
    let state = Arc::new(vigil_server::AppState {
        store: vigil_server::StorePool::new(connections),
        auth: vigil_server::auth::Auth::new(hash),
        secure_cookies: tls.is_some(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(vigil_server::serve(state, args.listen, tls))?;
    Ok(ExitCode::SUCCESS)
}
