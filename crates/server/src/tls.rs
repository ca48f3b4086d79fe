//! TLS for the console (rustls): the certificate chain and private key the user gives, in
//! PEM. Handshakes run on their own tasks with a time limit, so a client that stalls cannot
//! hold up the others.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::ServerError;

/// How long a client may take to finish its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// A certificate chain and its key, read from PEM files.
#[derive(Debug)]
pub struct Certificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn tls_error(path: &Path, reason: impl std::fmt::Display) -> ServerError {
    ServerError::Tls { path: path.display().to_string(), reason: reason.to_string() }
}

impl Certificate {
    /// Reads the chain (leaf first) from `cert` and the private key (PKCS#8, PKCS#1 or SEC1)
    /// from `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Certificate, ServerError> {
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|error| tls_error(cert, error))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| tls_error(cert, error))?;
        if chain.is_empty() {
            return Err(tls_error(cert, "no PEM certificate in the file"));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|error| tls_error(key, error))?;
        let certificate = Certificate { chain, key: key_der };
        certificate.acceptor().map_err(|error| match error {
            ServerError::Tls { reason, .. } => tls_error(&PathBuf::from(format!("{} + {}", cert.display(), key.display())), reason),
            other => other,
        })?;
        Ok(certificate)
    }

    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, ServerError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(self.chain.clone(), self.key.clone_key()))
            .map_err(|error| ServerError::Tls { path: "the certificate and key".into(), reason: error.to_string() })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A listener whose connections are TLS streams, for `axum::serve`.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> TlsListener {
        let local = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let (sender, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!("accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => tracing::debug!("TLS handshake with {peer} failed: {error}"),
                        Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        TlsListener { ready, local }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
