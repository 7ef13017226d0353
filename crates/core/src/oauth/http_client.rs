//! The HTTP client under the `oauth2` crate: reqwest 0.13 on the workspace's rustls (ring) and
//! platform verifier.
//!
//! Why this and not the `oauth2` crate's own: its `reqwest` feature pulls reqwest 0.12 — a
//! second HTTP stack next to the 0.13 that the lock file already has — and its `rustls-tls`
//! feature reqwest's default provider (aws-lc-rs, a C build that the rest of Pushmail avoids).
//! So `oauth2` is built with no default features, and [`HttpClient`] implements its
//! `AsyncHttpClient` over reqwest 0.13 with `rustls-no-provider`, handed a `rustls::ClientConfig`
//! built the way the IMAP transport builds one: the ring provider, TLS 1.2/1.3, the platform
//! verifier (the system's trust store, plus the test CA in tests). One TLS stack, one crypto
//! provider, one set of roots for IMAP and for the token endpoint.
//!
//! The costs, measured: reqwest brings hyper, hyper-util, hyper-rustls, tower and its kin
//! (about a dozen crates); `oauth2` itself `url` with its IDNA tables, and older majors of
//! `rand`, `sha2` and `base64` than the workspace uses. A hand-written HTTP/1.1 POST over
//! `tokio-rustls` would have cost nothing but would be ours to get right (chunked bodies,
//! proxies, status handling) for a request made once an hour; the well-kept crates were
//! preferred, as issue 11 asks.
//!
//! Policy for the token endpoint: no redirects followed (RFC 6749 §3.2 leaves them undefined
//! and a redirected POST would carry the refresh token elsewhere), a timeout on the whole
//! request, a cap on the answer's size, and 5xx/429 answers turned into transport errors so
//! they are classed "try later", not parsed as OAuth errors.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};
use rustls::pki_types::CertificateDer;

use super::OAuthError;
use crate::error::chain;

/// How long one token request may take, connect to last byte. A token endpoint answers in
/// well under a second; a minute covers a slow mobile link, and a hung one must not hold the
/// account's refresh (and so its reconnect) forever.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long connecting (TCP and TLS) may take.
pub const TOKEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest answer read from a token endpoint: a token response is a few KiB (Microsoft's
/// access tokens are the longest, ~3 KiB); anything bigger is not one.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why a token request got no HTTP answer worth parsing. Its text never holds the request's
/// body (where the code and the refresh token are).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, TLS, sending or receiving failed (reqwest's words, with their causes).
    #[error("{0}")]
    Transport(String),
    /// A 5xx or 429 answer: the server is in trouble, not our request.
    #[error("the token endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the token endpoint's answer is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// The client for token endpoints. Cheap to clone (reqwest's client is an `Arc` inside).
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
}

/// A rustls configuration like the IMAP transport's: ring, TLS 1.2 and 1.3, the platform
/// verifier with `extra_roots` added to the system's.
pub(crate) fn tls_config(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
            .map_err(|e| e.to_string())?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous() // not dangerous: the platform verifier checks chain and hostname
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

impl HttpClient {
    /// A client that trusts the system's certificate store.
    pub fn new() -> Result<Self, OAuthError> {
        Self::with_extra_roots(Vec::new())
    }

    /// A client that trusts the system's store and `extra_roots` (a private CA: a self-hosted
    /// authorization server, the test bed's).
    pub fn with_extra_roots(extra_roots: Vec<CertificateDer<'static>>) -> Result<Self, OAuthError> {
        let tls = tls_config(extra_roots).map_err(|words| OAuthError::Transient {
            words: crate::error::words(format!("TLS setup failed: {words}")),
        })?;
        Self::with_tls(tls)
    }

    /// A client over a caller-built rustls configuration (it must be of the workspace's rustls
    /// version, which reqwest checks at run time).
    pub fn with_tls(tls: rustls::ClientConfig) -> Result<Self, OAuthError> {
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TOKEN_REQUEST_TIMEOUT)
            .connect_timeout(TOKEN_CONNECT_TIMEOUT)
            .user_agent(concat!("Pushmail/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OAuthError::Transient {
                words: crate::error::words(chain(&e)),
            })?;
        Ok(HttpClient { inner })
    }

    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request =
            reqwest::Request::try_from(request).map_err(|e| HttpError::Transport(chain(&e)))?;
        let mut response = self
            .inner
            .execute(request)
            .await
            .map_err(|e| HttpError::Transport(chain(&e)))?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(HttpError::Status(status.as_u16()));
        }
        let mut builder = http_response_builder(status.as_u16(), response.headers());
        if let Some(len) = response.content_length()
            && len > MAX_RESPONSE_BYTES as u64
        {
            return Err(HttpError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HttpError::Transport(chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder = builder.version(oauth2::http::Version::HTTP_11);
        builder
            .body(body)
            .map_err(|e| HttpError::Transport(e.to_string()))
    }
}

fn http_response_builder(
    status: u16,
    headers: &reqwest::header::HeaderMap,
) -> oauth2::http::response::Builder {
    let mut builder = oauth2::http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
}

impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_client_builds() {
        // reqwest accepts our rustls configuration (a version mismatch would be refused here).
        HttpClient::new().unwrap();
    }

    #[test]
    fn error_chains_are_joined_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("sending failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(chain(&e), "sending failed: connection refused");
    }
}
