//! Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256) against any
//! standard provider, found by discovery (`/.well-known/openid-configuration`). The `state`,
//! `nonce` and PKCE verifier of a sign-in under way are kept in the store under the state's
//! SHA-256 (so replicas share them) and bound to the browser by a short-lived `HttpOnly;
//! SameSite=Lax` cookie holding the state. The ID token is validated as OpenID Connect Core
//! 3.1.3.7 says (RS256, RS384 or RS512 against the provider's JWKS, refetched once for an
//! unknown `kid`; `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`), the user and role are chosen from
//! its claims, and the session is opened by the same code as a password login
//! ([`crate::pages::open_login_session`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Map, Value as Json};
use sha2::{Digest as _, Sha256};
use vigil_store::people::{AuditInput, OidcLoginInput, OidcSignIn, Role};

use crate::AppState;
use crate::routes::{Access, Method, Param, Route, query};

/// Where the provider sends the browser back: the redirect URL's path must be this one.
pub const CALLBACK_PATH: &str = "/login/oidc/callback";
/// Where the "Sign in with SSO" link starts a sign-in.
pub const START_PATH: &str = "/login/oidc";
/// The cookie binding a sign-in under way to the browser that started it.
const STATE_COOKIE: &str = "vigil_oidc";
/// How long a sign-in may take at the provider.
pub const SIGN_IN_SECONDS: i64 = 600;
/// Sign-ins under way one address may have (started in the last [`SIGN_IN_SECONDS`] and not
/// finished): a browser needs one, an office behind one address a few dozen.
pub const SIGN_INS_PER_ADDRESS: i64 = 100;
/// The clock difference tolerated between the provider and this server.
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// How old an ID token's `iat` may be when it arrives (it was issued for this very sign-in).
pub const ISSUED_WITHIN_SECONDS: i64 = 600;
/// Each call to the provider must answer within this time.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest reply read from the provider.
const MAX_REPLY_BYTES: usize = 1024 * 1024;

const CALLBACK_PARAMS: &[Param] = &[
    query("code", "The authorization code the provider issued."),
    query("state", "The sign-in's state, as this server sent it."),
    query("error", "The provider's error code, when it refused."),
    query("error_description", "The provider's explanation of its error."),
    query("iss", "The provider's issuer identifier (RFC 9207), checked when present."),
];

/// Single sign-on's routes: both public (the browser has no session yet); without
/// `--oidc-issuer` they answer 404.
pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: START_PATH,
        summary: "Starts a single sign-on with the OpenID Connect provider: redirects to its authorization endpoint (code flow with PKCE).",
        params: &[],
        access: Access::Public,
        handler: |method| on(method, start),
    },
    Route {
        method: Method::Get,
        path: CALLBACK_PATH,
        summary: "Where the OpenID Connect provider sends the browser back: exchanges the code, validates the ID token and opens a session.",
        params: &[CALLBACK_PARAMS],
        access: Access::Public,
        handler: |method| on(method, callback),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("OpenID Connect configuration: {0}")]
    Config(String),
    #[error("the OpenID Connect provider's `{url}`: {reason}")]
    Provider { url: String, reason: String },
    #[error("the ID token is refused: {0}")]
    IdToken(String),
    #[error("{0}")]
    Refused(String),
}

/// How `vigil serve` signs people in with OpenID Connect.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer identifier, exactly as the provider writes it in its discovery document.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// This console's callback as registered with the provider (its path is [`CALLBACK_PATH`]).
    pub redirect_url: String,
    /// The scopes asked for, `openid` among them.
    pub scopes: String,
    /// The claim naming the user (`preferred_username`, `email`, ...).
    pub username_claim: String,
    /// The claim whose values (a string or a list of strings) are mapped to roles.
    pub role_claim: String,
    /// Each value of the role claim and the role it gives; the highest role found wins.
    pub role_map: Vec<(String, Role)>,
    /// The role of a user with no mapped value; `None` refuses such a user.
    pub default_role: Option<Role>,
    /// Certificates (PEM) trusted besides the system's, for a provider with a private CA.
    pub extra_roots_pem: Option<String>,
}

impl OidcConfig {
    /// Refuses a configuration that cannot work or is unsafe: an issuer or redirect URL over plain
    /// HTTP (except to a loopback address: a local provider or the tests), a redirect URL whose
    /// path is not [`CALLBACK_PATH`], a missing client id or secret, scopes without `openid`.
    pub fn check(&self) -> Result<(), OidcError> {
        let config = |message: String| Err(OidcError::Config(message));
        for (what, url) in [("the issuer", &self.issuer), ("the redirect URL", &self.redirect_url)] {
            if !secure_url(url) {
                return config(format!("{what} `{url}` must be an https:// URL (http:// only to 127.0.0.1, ::1 or localhost)"));
            }
        }
        if url_path(&self.redirect_url) != CALLBACK_PATH {
            return config(format!("the redirect URL `{}` must end in `{CALLBACK_PATH}`, the console's callback", self.redirect_url));
        }
        if self.client_id.trim().is_empty() {
            return config("the client id is empty".into());
        }
        if self.client_secret.trim().is_empty() {
            return config("the client secret is empty".into());
        }
        if !self.scopes.split_whitespace().any(|scope| scope == "openid") {
            return config(format!("the scopes `{}` must include `openid`", self.scopes));
        }
        Ok(())
    }

    /// The role the claims give: the highest mapped value of the role claim, else the default.
    pub fn role(&self, claims: &Map<String, Json>) -> Result<Role, OidcError> {
        let values: Vec<&str> = match claims.get(&self.role_claim) {
            Some(Json::String(value)) => vec![value.as_str()],
            Some(Json::Array(values)) => values.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let mapped = self.role_map.iter().filter(|(value, _)| values.contains(&value.as_str())).map(|(_, role)| *role).max();
        mapped.or(self.default_role).ok_or_else(|| {
            OidcError::Refused(format!(
                "no role: none of the values of the provider's `{}` claim is mapped to a role, and there is no default role",
                self.role_claim
            ))
        })
    }

    /// The user's name: the username claim, a valid console user name.
    pub fn user_name(&self, claims: &Map<String, Json>) -> Result<String, OidcError> {
        let name = claims
            .get(&self.username_claim)
            .and_then(Json::as_str)
            .ok_or_else(|| OidcError::Refused(format!("the ID token has no `{}` claim to name the user", self.username_claim)))?;
        crate::valid_user_name(name).map_err(OidcError::Refused)?;
        Ok(name.to_string())
    }
}

fn secure_url(url: &str) -> bool {
    if url.starts_with("https://") {
        return url.len() > "https://".len();
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    rest.find('/').map_or("/", |slash| rest.get(slash..).unwrap_or("/"))
}

/// What discovery told about the provider.
#[derive(Debug, Clone)]
struct Provider {
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    /// Whether the client authenticates with HTTP Basic (`client_secret_basic`, the default) or
    /// in the form (`client_secret_post`).
    basic_auth: bool,
}

/// One of the provider's RSA signing keys.
#[derive(Debug, Clone)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The key's `alg`, when the JWKS names one: the token's must then be the same.
    pub alg: Option<String>,
    pub key: rsa::RsaPublicKey,
}

/// Single sign-on: the configuration, an HTTPS client, and what was learnt of the provider.
pub struct Oidc {
    pub config: OidcConfig,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    provider: tokio::sync::Mutex<Option<Provider>>,
    keys: tokio::sync::Mutex<Vec<Jwk>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Oidc").field("issuer", &self.config.issuer).field("client_id", &self.config.client_id).finish_non_exhaustive()
    }
}

impl Oidc {
    /// Checks the configuration and builds the HTTPS client (the system's roots and the extra
    /// ones). Nothing is fetched until the first sign-in, so a provider that is down does not
    /// keep the console from starting.
    pub fn new(config: OidcConfig) -> Result<Oidc, OidcError> {
        config.check()?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if let Some(pem) = &config.extra_roots_pem {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|error| OidcError::Config(format!("the CA certificates are not PEM: {error}")))?;
            if certificates.is_empty() {
                return Err(OidcError::Config("the CA certificate file holds no certificate".into()));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|error| OidcError::Config(format!("a CA certificate rustls cannot use: {error}")))?;
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| OidcError::Config(format!("TLS: {error}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
        let http = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(Oidc { config, http, provider: tokio::sync::Mutex::new(None), keys: tokio::sync::Mutex::new(Vec::new()) })
    }

    /// One call to the provider: the reply's status and body (at most [`MAX_REPLY_BYTES`]),
    /// within [`PROVIDER_TIMEOUT`].
    async fn call(&self, request: http::Request<Full<Bytes>>) -> Result<(u16, Vec<u8>), OidcError> {
        let url = request.uri().to_string();
        let failed = |reason: String| OidcError::Provider { url: url.clone(), reason };
        let response = tokio::time::timeout(PROVIDER_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| failed(format!("no answer within {} s", PROVIDER_TIMEOUT.as_secs())))?
            .map_err(|error| failed(format!("{error}")))?;
        let (parts, body) = response.into_parts();
        let collected = tokio::time::timeout(PROVIDER_TIMEOUT, Limited::new(body, MAX_REPLY_BYTES).collect())
            .await
            .map_err(|_| failed(format!("the reply did not finish within {} s", PROVIDER_TIMEOUT.as_secs())))?
            .map_err(|error| failed(format!("reading the reply: {error}")))?;
        Ok((parts.status.as_u16(), collected.to_bytes().to_vec()))
    }

    async fn get_json(&self, url: &str) -> Result<Map<String, Json>, OidcError> {
        let failed = |reason: String| OidcError::Provider { url: url.to_string(), reason };
        let request = http::Request::get(url)
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|error| failed(format!("not a URL: {error}")))?;
        let (status, body) = self.call(request).await?;
        if status != 200 {
            return Err(failed(format!("answered {status}")));
        }
        json_object(&body).map_err(failed)
    }

    /// The provider's endpoints, from discovery (fetched once, then kept).
    async fn provider(&self) -> Result<Provider, OidcError> {
        let mut cached = self.provider.lock().await;
        if let Some(provider) = cached.as_ref() {
            return Ok(provider.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer.trim_end_matches('/'));
        let document = self.get_json(&url).await?;
        let failed = |reason: String| OidcError::Provider { url: url.clone(), reason };
        let field =
            |name: &str| document.get(name).and_then(Json::as_str).map(str::to_string).ok_or_else(|| failed(format!("the discovery document has no `{name}`")));
        let issuer = field("issuer")?;
        // OpenID Connect Discovery 4.3: the issuer must be exactly the one configured.
        if issuer != self.config.issuer {
            return Err(failed(format!(
                "the provider says its issuer is `{issuer}`, not `{}`: give the issuer exactly as the provider writes it",
                self.config.issuer
            )));
        }
        let endpoints = [field("authorization_endpoint")?, field("token_endpoint")?, field("jwks_uri")?];
        if let Some(insecure) = endpoints.iter().find(|endpoint| !secure_url(endpoint)) {
            return Err(failed(format!("the endpoint `{insecure}` is not https://")));
        }
        let listed = |name: &str| -> Option<Vec<String>> {
            document.get(name).and_then(Json::as_array).map(|values| values.iter().filter_map(Json::as_str).map(str::to_string).collect())
        };
        if listed("code_challenge_methods_supported").is_some_and(|methods| !methods.iter().any(|method| method == "S256")) {
            return Err(failed("the provider does not support PKCE with S256".into()));
        }
        // Without the list, the default is `client_secret_basic` (OpenID Connect Discovery 3).
        let basic_auth = match listed("token_endpoint_auth_methods_supported") {
            None => true,
            Some(methods) if methods.iter().any(|method| method == "client_secret_basic") => true,
            Some(methods) if methods.iter().any(|method| method == "client_secret_post") => false,
            Some(methods) => return Err(failed(format!("the token endpoint takes neither client_secret_basic nor client_secret_post, only {methods:?}"))),
        };
        let [authorization_endpoint, token_endpoint, jwks_uri] = endpoints;
        let provider = Provider { authorization_endpoint, token_endpoint, jwks_uri, basic_auth };
        *cached = Some(provider.clone());
        Ok(provider)
    }

    /// The provider's signing keys, fetched again when `refresh` (a token named an unknown key:
    /// the provider rotated its keys) or never fetched.
    async fn keys(&self, provider: &Provider, refresh: bool) -> Result<Vec<Jwk>, OidcError> {
        let mut keys = self.keys.lock().await;
        if refresh || keys.is_empty() {
            let document = self.get_json(&provider.jwks_uri).await?;
            let (parsed, problems) = parse_jwks(&document).map_err(|reason| OidcError::Provider { url: provider.jwks_uri.clone(), reason })?;
            for problem in problems {
                tracing::warn!("the OpenID Connect provider's JWKS `{}`: {problem}; the key is left out", provider.jwks_uri);
            }
            *keys = parsed;
        }
        Ok(keys.clone())
    }

    /// The URL of the provider's authorization endpoint for a sign-in with this state, nonce
    /// and PKCE challenge.
    async fn authorization_url(&self, state: &str, nonce: &str, challenge: &str) -> Result<String, OidcError> {
        let provider = self.provider().await?;
        let encode = crate::pages::encode;
        let separator = if provider.authorization_endpoint.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{}{separator}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            provider.authorization_endpoint,
            encode(&self.config.client_id),
            encode(&self.config.redirect_url),
            encode(&self.config.scopes),
            encode(state),
            encode(nonce),
            encode(challenge),
        ))
    }

    /// Exchanges the code at the token endpoint and returns the validated ID token's claims.
    pub async fn redeem(&self, code: &str, verifier: &str, nonce: &str, now_unix: i64) -> Result<Map<String, Json>, OidcError> {
        let provider = self.provider().await?;
        let encode = crate::pages::encode;
        let mut form = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
            encode(code),
            encode(&self.config.redirect_url),
            encode(verifier)
        );
        let url = provider.token_endpoint.clone();
        let failed = |reason: String| OidcError::Provider { url: url.clone(), reason };
        let mut request =
            http::Request::post(&url).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").header(header::ACCEPT, "application/json");
        if provider.basic_auth {
            // RFC 6749 2.3.1: the id and secret are form-encoded before Basic's base64.
            let credentials = format!("{}:{}", encode(&self.config.client_id), encode(&self.config.client_secret));
            request = request.header(header::AUTHORIZATION, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)));
        } else {
            form.push_str(&format!("&client_id={}&client_secret={}", encode(&self.config.client_id), encode(&self.config.client_secret)));
        }
        let request = request.body(Full::new(Bytes::from(form))).map_err(|error| failed(format!("not a URL: {error}")))?;
        let (status, body) = self.call(request).await?;
        let reply = json_object(&body).map_err(|reason| failed(format!("answered {status}: {reason}")))?;
        if status != 200 {
            let code = reply.get("error").and_then(Json::as_str).unwrap_or("no error code");
            let description = reply.get("error_description").and_then(Json::as_str).unwrap_or_default();
            return Err(failed(format!("refused the code ({status}): {code} {description}").trim_end().to_string()));
        }
        let id_token = reply.get("id_token").and_then(Json::as_str).ok_or_else(|| failed("the reply holds no `id_token`".into()))?;
        let expected = Expected { issuer: &self.config.issuer, client_id: &self.config.client_id, nonce, now_unix };
        let keys = self.keys(&provider, false).await?;
        match validate_id_token(id_token, &keys, &expected) {
            Err(IdTokenProblem::UnknownKey(_)) => {
                // The provider may have rotated its keys since they were fetched: fetch them
                // again, once. (The token came from the token endpoint over TLS, in exchange for
                // a code and the client secret, so a stranger cannot make this server refetch at
                // will.)
                let keys = self.keys(&provider, true).await?;
                validate_id_token(id_token, &keys, &expected).map_err(|problem| OidcError::IdToken(problem.to_string()))
            }
            other => other.map_err(|problem| OidcError::IdToken(problem.to_string())),
        }
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Json>, String> {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(object)) => Ok(object),
        Ok(_) => Err("the reply is not a JSON object".into()),
        Err(error) => Err(format!("the reply is not JSON: {error}")),
    }
}

fn base64url(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|error| format!("not base64url: {error}"))
}

/// The RSA signing keys of a JWKS document (`{"keys": [...]}`), and why each unusable RSA key
/// was left out (malformed, or under 2048 bits): a provider publishing one bad key among good
/// ones still signs in with the good ones. Keys of other types, or for encryption, are skipped.
pub fn parse_jwks(document: &Map<String, Json>) -> Result<(Vec<Jwk>, Vec<String>), String> {
    let keys = document.get("keys").and_then(Json::as_array).ok_or("the JWKS has no `keys` list")?;
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for key in keys {
        let text = |name: &str| key.get(name).and_then(Json::as_str);
        if text("kty") != Some("RSA") || text("use").is_some_and(|usage| usage != "sig") {
            continue;
        }
        let kid = text("kid").map(str::to_string);
        let named = kid.as_deref().unwrap_or("(no kid)");
        let number = |name: &str| -> Result<rsa::BigUint, String> {
            let encoded = text(name).ok_or_else(|| format!("the key `{named}` has no `{name}`"))?;
            Ok(rsa::BigUint::from_bytes_be(&base64url(encoded).map_err(|reason| format!("the key `{named}`'s `{name}` is {reason}"))?))
        };
        let public = number("n").and_then(|n| {
            let e = number("e")?;
            rsa::RsaPublicKey::new(n, e).map_err(|error| format!("the key `{named}` is not a usable RSA key: {error}"))
        });
        match public {
            Ok(public) if rsa::traits::PublicKeyParts::n(&public).bits() < 2048 => problems.push(format!("the key `{named}` has fewer than 2048 bits")),
            Ok(public) => parsed.push(Jwk { kid, alg: text("alg").map(str::to_string), key: public }),
            Err(problem) => problems.push(problem),
        }
    }
    Ok((parsed, problems))
}

/// What an ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now_unix: i64,
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenProblem {
    #[error("not a signed JWT: {0}")]
    Malformed(String),
    #[error("its algorithm `{0}` is not accepted (RS256, RS384 or RS512 only)")]
    Algorithm(String),
    #[error("it is signed with the key `{0}`, which the provider's JWKS does not hold")]
    UnknownKey(String),
    #[error("its signature does not verify")]
    Signature,
    #[error("{0}")]
    Claim(String),
}

/// Validates an ID token as OpenID Connect Core 3.1.3.7 says, for a client authenticated to
/// the token endpoint (so the TLS server's identity stands for the issuer's): the signature
/// with the provider's key named by `kid` (RS256, RS384 or RS512: `none`, HMAC and every other
/// algorithm are refused), `iss` exactly, `aud` holding the client (with `azp` the client
/// when there are several audiences, or whenever it is present), `exp` not passed and `iat` not
/// ahead nor older than [`ISSUED_WITHIN_SECONDS`] (with [`CLOCK_SKEW_SECONDS`] either way),
/// `nonce` the sign-in's, and a `sub`. Returns the claims.
pub fn validate_id_token(token: &str, keys: &[Jwk], expected: &Expected<'_>) -> Result<Map<String, Json>, IdTokenProblem> {
    let malformed = |reason: &str| IdTokenProblem::Malformed(reason.to_string());
    let mut parts = token.split('.');
    let (Some(header_part), Some(payload_part), Some(signature_part), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("it does not have three parts"));
    };
    let decode = |part: &str, what: &str| -> Result<Map<String, Json>, IdTokenProblem> {
        let bytes = base64url(part).map_err(|reason| IdTokenProblem::Malformed(format!("its {what} is {reason}")))?;
        json_object(&bytes).map_err(|reason| IdTokenProblem::Malformed(format!("its {what}: {reason}")))
    };
    let header = decode(header_part, "header")?;
    let algorithm = header.get("alg").and_then(Json::as_str).unwrap_or("(none given)").to_string();
    if !["RS256", "RS384", "RS512"].contains(&algorithm.as_str()) {
        return Err(IdTokenProblem::Algorithm(algorithm));
    }
    if header.contains_key("crit") {
        return Err(malformed("it has critical header parameters this server does not understand"));
    }
    let kid = header.get("kid").and_then(Json::as_str);
    let key = match kid {
        Some(kid) => keys.iter().find(|key| key.kid.as_deref() == Some(kid)).ok_or_else(|| IdTokenProblem::UnknownKey(kid.to_string()))?,
        // Without a `kid`, only a JWKS of one key says which key it is.
        None => match keys {
            [only] => only,
            _ => return Err(IdTokenProblem::UnknownKey("(no kid)".into())),
        },
    };
    if key.alg.as_deref().is_some_and(|alg| alg != algorithm) {
        return Err(IdTokenProblem::Algorithm(format!("{algorithm}, but the key is for {}", key.alg.as_deref().unwrap_or_default())));
    }
    let signature = base64url(signature_part).map_err(|reason| IdTokenProblem::Malformed(format!("its signature is {reason}")))?;
    let signed = format!("{header_part}.{payload_part}");
    if !verify_rsa(&algorithm, &key.key, signed.as_bytes(), &signature) {
        return Err(IdTokenProblem::Signature);
    }
    let claims = decode(payload_part, "payload")?;
    check_claims(&claims, expected)?;
    Ok(claims)
}

fn verify_rsa(algorithm: &str, key: &rsa::RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier as _;
    let Ok(signature) = Signature::try_from(signature) else { return false };
    match algorithm {
        "RS256" => VerifyingKey::<Sha256>::new(key.clone()).verify(message, &signature).is_ok(),
        "RS384" => VerifyingKey::<sha2::Sha384>::new(key.clone()).verify(message, &signature).is_ok(),
        "RS512" => VerifyingKey::<sha2::Sha512>::new(key.clone()).verify(message, &signature).is_ok(),
        _ => false,
    }
}

fn check_claims(claims: &Map<String, Json>, expected: &Expected<'_>) -> Result<(), IdTokenProblem> {
    let claim = |message: String| Err(IdTokenProblem::Claim(message));
    let issuer = claims.get("iss").and_then(Json::as_str).unwrap_or_default();
    if issuer != expected.issuer {
        return claim(format!("its issuer `{issuer}` is not `{}`", expected.issuer));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Json::String(audience)) => vec![audience.as_str()],
        Some(Json::Array(audiences)) => audiences.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return claim(format!("its audience {audiences:?} does not hold this client `{}`", expected.client_id));
    }
    let authorized_party = claims.get("azp").and_then(Json::as_str);
    if audiences.len() > 1 && authorized_party.is_none() {
        return claim("it has several audiences and no `azp` naming this client".into());
    }
    if let Some(party) = authorized_party.filter(|party| *party != expected.client_id) {
        return claim(format!("it was issued to `{party}` (azp), not to this client"));
    }
    let (Some(expires), Some(issued)) = (claims.get("exp").and_then(Json::as_i64), claims.get("iat").and_then(Json::as_i64)) else {
        return claim("it lacks a numeric `exp` or `iat`".into());
    };
    if expected.now_unix >= expires.saturating_add(CLOCK_SKEW_SECONDS) {
        return claim(format!("it expired at {expires} (now {})", expected.now_unix));
    }
    if issued > expected.now_unix.saturating_add(CLOCK_SKEW_SECONDS) || issued < expected.now_unix.saturating_sub(ISSUED_WITHIN_SECONDS + CLOCK_SKEW_SECONDS) {
        return claim(format!("it was issued at {issued}, too far from now ({})", expected.now_unix));
    }
    let nonce = claims.get("nonce").and_then(Json::as_str).unwrap_or_default();
    if !crate::auth::same(nonce, expected.nonce) {
        return claim("its nonce is not this sign-in's".into());
    }
    if claims.get("sub").and_then(Json::as_str).is_none_or(str::is_empty) {
        return claim("it has no `sub`".into());
    }
    Ok(())
}

/// A PKCE verifier (RFC 7636: 43 characters of base64url from 32 random bytes) and its S256
/// challenge.
pub fn pkce() -> Result<(String, String), crate::ServerError> {
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random).map_err(|error| crate::ServerError::Random(error.to_string()))?;
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Ok((verifier, challenge))
}

fn not_configured() -> Response {
    crate::error::error(StatusCode::NOT_FOUND, "single sign-on is not configured (vigil serve --oidc-issuer)")
}

/// The login page with a message, answered with `status` (an OpenID Connect sign-in that did not
/// succeed).
fn refused(status: StatusCode, message: &str) -> Response {
    (status, crate::pages::login_page_with(true, &format!("<p class=\"error\">Single sign-on failed: {}</p>", crate::pages::escape(message)))).into_response()
}

async fn start(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Response {
    let Some(oidc) = state.oidc.as_ref() else { return not_configured() };
    let address = crate::client_address(&request);
    let secrets = (crate::auth::random_hex(32), crate::auth::random_hex(32), pkce());
    let (Ok(sign_in_state), Ok(nonce), Ok((verifier, challenge))) = secrets else {
        return crate::error::internal("the operating system's random generator failed");
    };
    let url = match oidc.authorization_url(&sign_in_state, &nonce, &challenge).await {
        Ok(url) => url,
        Err(error) => {
            tracing::error!("single sign-on cannot start: {error}");
            return refused(StatusCode::BAD_GATEWAY, &error.to_string());
        }
    };
    let state_hash = crate::auth::digest(&sign_in_state);
    // Counted per IP, as the login rate limits are: anyone may start a sign-in, and each is a
    // row in the store for 10 minutes.
    let host = address.parse::<std::net::SocketAddr>().map_or_else(|_| address.clone(), |socket| socket.ip().to_string());
    let recorded = crate::handlers::with_store(&state, move |store| {
        let now = crate::auth::now_unix();
        let login =
            OidcLoginInput { state_hash: &state_hash, nonce: &nonce, verifier: &verifier, address: &host, now_unix: now, expires_unix: now + SIGN_IN_SECONDS };
        store.begin_oidc_login(&login, SIGN_INS_PER_ADDRESS)
    })
    .await;
    match recorded {
        Ok(true) => {}
        Ok(false) => {
            let mut response = refused(StatusCode::TOO_MANY_REQUESTS, "too many sign-ins under way from this address: try again in 10 minutes");
            if let Ok(value) = header::HeaderValue::from_str(&SIGN_IN_SECONDS.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(response) => return response,
    }
    // Lax, not Strict: the provider sends the browser back with a cross-site navigation, which
    // must carry this cookie.
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{STATE_COOKIE}={sign_in_state}; HttpOnly; SameSite=Lax; Path={START_PATH}; Max-Age={SIGN_IN_SECONDS}{secure}");
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, url)]).into_response()
}

/// What the provider sent the browser back with.
#[derive(Debug, serde::Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// How a sign-in ended, for the audit log and the answer.
enum SignIn {
    Opened(crate::auth::Session),
    Refused { status: StatusCode, user: Option<String>, reason: String },
}

async fn callback(State(state): State<Arc<AppState>>, Query(query): Query<CallbackQuery>, request: axum::extract::Request) -> Response {
    let Some(oidc) = state.oidc.as_ref() else { return not_configured() };
    let address = crate::client_address(&request);
    let cookie_state = request
        .headers()
        .get(header::COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|cookie| cookie.split(';').map(str::trim).find_map(|pair| pair.strip_prefix(&format!("{STATE_COOKIE}="))).map(str::to_string));
    let outcome = sign_in(&state, oidc, &query, cookie_state.as_deref(), address.clone()).await;
    // A sign-in under way is used once, whatever its outcome: the browser's cookie goes too.
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let forget_state = format!("{STATE_COOKIE}=; Max-Age=0; Path={START_PATH}; HttpOnly; SameSite=Lax{secure}");
    let (user, reason, status) = match outcome {
        Ok(SignIn::Opened(session)) => {
            // A page that moves on to the dashboard, not a redirect: the session cookie is
            // SameSite=Strict, and a browser would not send it on a redirect that started at the
            // provider's site. The page's own navigation is same-site.
            let body = crate::pages::page("Signed in", None, "<h1>Signed in</h1><p><a href=\"/\">Continue to the console</a></p>");
            let mut response = (StatusCode::OK, [(header::SET_COOKIE, crate::pages::session_cookie(&state, &session))], body).into_response();
            if let Ok(value) = header::HeaderValue::from_str(&forget_state) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response.headers_mut().insert(header::REFRESH, header::HeaderValue::from_static("0;url=/"));
            return response;
        }
        // The reason may quote the provider's `error_description`, which anyone can put in the
        // callback's query: the audit log keeps its first 500 characters.
        Ok(SignIn::Refused { status, user, reason }) => (user, reason.chars().take(500).collect::<String>(), status),
        Err(response) => return response,
    };
    let actor = user.clone().unwrap_or_else(|| "oidc".to_string());
    let detail = format!("oidc: {reason}");
    let audited = crate::handlers::with_store(&state, move |store| {
        let at = crate::pages::chrono_now();
        let target = user.as_deref().unwrap_or_default();
        store.record_audit(&AuditInput { at: &at, actor: &actor, action: "login", target, detail: &detail, address: &address, outcome: "failure" })
    })
    .await;
    if let Err(response) = audited {
        return response;
    }
    let mut response = refused(status, &reason);
    if let Ok(value) = header::HeaderValue::from_str(&forget_state) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The sign-in itself: the browser's state, the provider's answer, the code's exchange, the ID
/// token, the user and role, and the session. `Err` is a failure of the store, answered as is.
async fn sign_in(state: &Arc<AppState>, oidc: &Oidc, query: &CallbackQuery, cookie_state: Option<&str>, address: String) -> Result<SignIn, Response> {
    let refuse = |status: StatusCode, user: Option<String>, reason: String| SignIn::Refused { status, user, reason };
    let Some(returned_state) = query.state.as_deref().filter(|text| !text.is_empty()) else {
        return Ok(refuse(StatusCode::BAD_REQUEST, None, "the provider's answer has no state".into()));
    };
    // The state must be the one this browser was given: a sign-in started in another browser
    // (an attacker's, to log the victim in as the attacker) is refused.
    if !cookie_state.is_some_and(|cookie| crate::auth::same(cookie, returned_state)) {
        return Ok(refuse(StatusCode::BAD_REQUEST, None, "the state is not the one this browser started the sign-in with".into()));
    }
    let state_hash = crate::auth::digest(returned_state);
    let now = crate::auth::now_unix();
    let pending = crate::handlers::with_store(state, move |store| store.take_oidc_login(&state_hash, now)).await?;
    let Some((nonce, verifier)) = pending else {
        return Ok(refuse(StatusCode::BAD_REQUEST, None, "the sign-in is unknown, already used or older than 10 minutes: start again".into()));
    };
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().unwrap_or_default();
        return Ok(refuse(StatusCode::UNAUTHORIZED, None, format!("the provider refused: {error} {description}").trim_end().to_string()));
    }
    // RFC 9207: a provider that names itself must be the configured one (a mix-up attack).
    if let Some(issuer) = query.iss.as_deref().filter(|issuer| *issuer != oidc.config.issuer) {
        return Ok(refuse(StatusCode::BAD_REQUEST, None, format!("the answer comes from the issuer `{issuer}`, not the configured one")));
    }
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return Ok(refuse(StatusCode::BAD_REQUEST, None, "the provider's answer has no code".into()));
    };
    let claims = match oidc.redeem(code, &verifier, &nonce, crate::auth::now_unix()).await {
        Ok(claims) => claims,
        Err(error) => {
            tracing::warn!("single sign-on refused: {error}");
            return Ok(refuse(StatusCode::UNAUTHORIZED, None, error.to_string()));
        }
    };
    let user = match oidc.config.user_name(&claims) {
        Ok(user) => user,
        Err(error) => return Ok(refuse(StatusCode::FORBIDDEN, None, error.to_string())),
    };
    let role = match oidc.config.role(&claims) {
        Ok(role) => role,
        Err(error) => return Ok(refuse(StatusCode::FORBIDDEN, Some(user), error.to_string())),
    };
    let subject = format!("{} {}", oidc.config.issuer, claims.get("sub").and_then(Json::as_str).unwrap_or_default());
    let role_claim = oidc.config.role_claim.clone();
    let shared = Arc::clone(state);
    let opened = crate::handlers::with_store(state, move |store| {
        let at = crate::pages::chrono_now();
        let audit = |store: &mut vigil_store::Store, action: &str, detail: &str| {
            store.record_audit(&AuditInput { at: &at, actor: "oidc", action, target: &user, detail, address: &address, outcome: "success" })
        };
        let refusal = match store.oidc_sign_in(&user, &subject, role, &at)? {
            OidcSignIn::Created => {
                audit(store, "user.add", &format!("{} (first sign-in, from the provider's `{role_claim}`)", role.as_str()))?;
                None
            }
            OidcSignIn::Existing { previous_role: Some(previous) } => {
                audit(store, "user.set-role", &format!("{} to {} (from the provider's `{role_claim}`)", previous.as_str(), role.as_str()))?;
                None
            }
            OidcSignIn::Existing { previous_role: None } => None,
            OidcSignIn::Disabled => Some(format!("the user `{user}` is disabled")),
            OidcSignIn::PasswordUser => Some(format!("`{user}` is a password user of this console; single sign-on does not take it over")),
            OidcSignIn::OtherSubject => Some(format!("`{user}` is bound to another subject of the provider")),
        };
        if let Some(reason) = refusal {
            return Ok(SignIn::Refused { status: StatusCode::FORBIDDEN, user: Some(user.clone()), reason });
        }
        let account = format!("account:{user}");
        let login = crate::pages::LoginRecord { user: Some(&user), actor: &user, target: &user, account: &account, method: "oidc", address: &address };
        crate::pages::open_login_session(&shared, store, &login).map(SignIn::Opened)
    })
    .await?;
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_https_or_loopback_urls_are_accepted_and_the_callback_path_is_read() {
        let cases = [
            ("https://idp.example.com/realms/corp", true),
            ("https://", false),
            ("http://127.0.0.1:8080/x", true),
            ("http://[::1]:9000/", true),
            ("http://localhost:3000", true),
            ("http://localhost.evil.example/", false),
            ("http://127.0.0.1@evil.example/", false),
            ("http://idp.example.com", false),
            ("ftp://127.0.0.1/", false),
        ];
        for (url, secure) in cases {
            assert_eq!(secure_url(url), secure, "{url}");
        }
        assert_eq!(url_path("https://vigil.example.com:8443/login/oidc/callback?x=1"), "/login/oidc/callback");
        assert_eq!(url_path("https://vigil.example.com"), "/");
    }

    fn config(default_role: Option<Role>) -> OidcConfig {
        OidcConfig {
            issuer: "https://idp.example.com".into(),
            client_id: "vigil".into(),
            client_secret: "secret".into(),
            redirect_url: "https://vigil.example.com/login/oidc/callback".into(),
            scopes: "openid".into(),
            username_claim: "preferred_username".into(),
            role_claim: "groups".into(),
            role_map: vec![("admins".into(), Role::Admin), ("analysts".into(), Role::Analyst)],
            default_role,
            extra_roots_pem: None,
        }
    }

    /// The highest mapped value wins; a single string counts as a list of one; without a mapped
    /// value, the default role or a refusal.
    #[test]
    fn the_role_is_the_highest_mapped_value_else_the_default() {
        let claims = |groups: serde_json::Value| json!({ "groups": groups }).as_object().cloned().unwrap_or_default();
        let strict = config(None);
        assert_eq!(strict.role(&claims(json!(["staff", "analysts", "admins"]))).ok(), Some(Role::Admin));
        assert_eq!(strict.role(&claims(json!("analysts"))).ok(), Some(Role::Analyst));
        assert!(strict.role(&claims(json!(["staff"]))).unwrap_err().to_string().contains("no role"));
        assert!(strict.role(&claims(json!(null))).is_err());
        assert_eq!(config(Some(Role::Viewer)).role(&claims(json!(["staff"]))).ok(), Some(Role::Viewer));
        assert!(strict.user_name(&claims(json!([]))).unwrap_err().to_string().contains("`preferred_username`"));
    }

    /// A weak or malformed RSA key is left out with the reason, and the others kept; keys for
    /// encryption and of other types are skipped silently.
    #[test]
    fn a_jwks_keeps_its_usable_rsa_signing_keys_and_says_why_it_left_others_out() {
        use rsa::traits::PublicKeyParts as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // A 2048-bit modulus (its top bit set, odd) and a 1024-bit one; the numbers need not be
        // real keys to be parsed.
        let mut modulus = vec![0xc5u8; 256];
        modulus[255] = 0x01;
        let weak = vec![0xc5u8; 128];
        let document = json!({ "keys": [
            { "kty": "RSA", "kid": "good", "use": "sig", "n": b64(&modulus), "e": "AQAB" },
            { "kty": "RSA", "kid": "weak", "n": b64(&weak), "e": "AQAB" },
            { "kty": "RSA", "kid": "broken", "n": "***", "e": "AQAB" },
            { "kty": "RSA", "kid": "for-encryption", "use": "enc", "n": b64(&modulus), "e": "AQAB" },
            { "kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA" },
        ] });
        let (keys, problems) = parse_jwks(document.as_object().unwrap()).unwrap();
        assert_eq!(keys.iter().map(|key| key.kid.as_deref()).collect::<Vec<_>>(), [Some("good")]);
        assert_eq!(keys[0].key.n().bits(), 2048);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`weak` has fewer than 2048 bits") && problems[1].contains("`broken`"), "{problems:?}");
        assert!(parse_jwks(json!({ "nokeys": [] }).as_object().unwrap()).is_err());
    }

    /// What is refused before any key is needed: not three parts, an algorithm other than RSA's
    /// (whatever the key), a `kid` the keys do not hold.
    #[test]
    fn malformed_tokens_and_foreign_algorithms_are_refused_before_any_key() {
        let expected = Expected { issuer: "https://idp.example.com", client_id: "vigil", nonce: "n", now_unix: 1_000 };
        let b64 = |value: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
        let payload = b64(json!({ "iss": "https://idp.example.com" }));
        let check = |token: &str| validate_id_token(token, &[], &expected).unwrap_err();
        assert!(matches!(check("a.b"), IdTokenProblem::Malformed(_)));
        assert!(matches!(check("a.b.c.d"), IdTokenProblem::Malformed(_)));
        for algorithm in ["none", "HS256", "ES256", "PS256"] {
            let token = format!("{}.{payload}.c2ln", b64(json!({ "alg": algorithm })));
            assert_eq!(check(&token), IdTokenProblem::Algorithm(algorithm.into()), "{algorithm}");
        }
        let unknown = format!("{}.{payload}.c2ln", b64(json!({ "alg": "RS256", "kid": "k9" })));
        assert_eq!(check(&unknown), IdTokenProblem::UnknownKey("k9".into()));
        let ambiguous = format!("{}.{payload}.c2ln", b64(json!({ "alg": "RS256" })));
        assert_eq!(check(&ambiguous), IdTokenProblem::UnknownKey("(no kid)".into()), "no kid and not exactly one key");
    }
}
