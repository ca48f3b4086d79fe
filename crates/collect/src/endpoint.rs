//! Endpoint adjustments for custom endpoints (emulators, proxies).
//!
//! S3 Control prefixes the account id to the host (`123456789012.s3-control...`); with a custom
//! endpoint such as `http://127.0.0.1:5000` that host does not resolve, so this interceptor puts
//! the configured endpoint's host back.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Debug)]
pub struct KeepEndpointHost {
    /// `scheme://host:port` of the configured endpoint.
    pub endpoint_url: String,
}

impl Intercept for KeepEndpointHost {
    fn name(&self) -> &'static str {
        "KeepEndpointHost"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let uri = request.uri().to_string();
        if let Some(rewritten) = rewrite_host(&uri, &self.endpoint_url) {
            request.set_uri(rewritten)?;
        }
        Ok(())
    }
}

/// Replaces `scheme://anything-host:port` in `uri` by the endpoint's origin, keeping the path.
fn rewrite_host(uri: &str, endpoint_url: &str) -> Option<String> {
    let after_scheme = uri.find("://")? + 3;
    let path_start = uri[after_scheme..].find('/').map(|offset| after_scheme + offset).unwrap_or(uri.len());
    let origin = endpoint_url.trim_end_matches('/');
    Some(format!("{origin}{}", &uri[path_start..]))
}

#[cfg(test)]
mod tests {
    use super::rewrite_host;

    #[test]
    fn account_prefixed_hosts_go_back_to_the_endpoint() {
        assert_eq!(
            rewrite_host("http://123456789012.127.0.0.1:5000/v20180820/configuration/publicAccessBlock", "http://127.0.0.1:5000").as_deref(),
            Some("http://127.0.0.1:5000/v20180820/configuration/publicAccessBlock")
        );
        assert_eq!(rewrite_host("http://h:1", "http://127.0.0.1:5000/").as_deref(), Some("http://127.0.0.1:5000"));
    }
}
