//! A small blocking HTTP(S) client over hyper: each thread that talks to the network owns one
//! (with its own current-thread tokio runtime), so the agent stays a handful of plain threads.
//! TLS is rustls with the system's roots, plus `--ca-cert` for a server with a private CA.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// The largest reply body read.
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

pub struct Http {
    runtime: tokio::runtime::Runtime,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

/// A reply: status, headers (lowercase names) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

fn roots(ca_cert: Option<&Path>) -> anyhow::Result<rustls::RootCertStore> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut store = rustls::RootCertStore::empty();
    // The system's roots; a host without a CA bundle still reaches a server given --ca-cert.
    let loaded = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(loaded.certs);
    if let Some(path) = ca_cert {
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("`{}` is not PEM", path.display()))?;
        anyhow::ensure!(!certificates.is_empty(), "`{}` holds no certificate", path.display());
        for certificate in certificates {
            store.add(certificate).with_context(|| format!("`{}`: a certificate rustls cannot use", path.display()))?;
        }
    }
    Ok(store)
}

impl Http {
    pub fn new(ca_cert: Option<&Path>, timeout: Duration) -> anyhow::Result<Http> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the HTTP runtime")?;
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS configuration")?
            .with_root_certificates(roots(ca_cert)?)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_or_http().enable_http1().build();
        let client = {
            let _entered = runtime.enter();
            Client::builder(hyper_util::rt::TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector)
        };
        Ok(Http { runtime, client, timeout })
    }

    /// One request; the reply whatever its status, or why there was none.
    pub fn request(&self, method: http::Method, url: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> anyhow::Result<Response> {
        let mut request = http::Request::builder().method(method.clone()).uri(url).header("user-agent", concat!("vigil-agent/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default()))).map_err(|error| anyhow!("cannot build `{method} {url}`: {error}"))?;
        self.runtime.block_on(async {
            let response = tokio::time::timeout(self.timeout, self.client.request(request))
                .await
                .map_err(|_| anyhow!("`{method} {url}`: no answer within {:?}", self.timeout))?
                .map_err(|error| anyhow!("`{method} {url}`: {error}"))?;
            let (parts, body) = response.into_parts();
            let collected = tokio::time::timeout(self.timeout, Limited::new(body, MAX_REPLY_BYTES).collect())
                .await
                .map_err(|_| anyhow!("`{method} {url}`: the reply did not finish within {:?}", self.timeout))?
                .map_err(|error| anyhow!("`{method} {url}`: reading the reply: {error}"))?;
            Ok(Response { status: parts.status.as_u16(), headers: parts.headers, body: String::from_utf8_lossy(&collected.to_bytes()).into_owned() })
        })
    }
}
