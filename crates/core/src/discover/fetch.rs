//! Fetching a configuration file over HTTPS, with the policy issue 12 asks for: HTTPS only
//! (plain `http://` only when the caller explicitly allows it, and the result is then marked
//! insecure), redirects only from HTTPS to HTTPS and at most [`MAX_REDIRECTS`], a timeout per
//! request, a cap on the body, and no credential of any kind in the request (the address is in
//! the query of the first URL, as the format defines; nothing else).
//!
//! The client is reqwest on the engine's rustls configuration (ring, platform verifier: the
//! system's trust store), the same stack as the sign-in's token requests
//! ([`crate::oauth::http_client`]).

use std::time::Duration;

use super::Options;

/// Redirects followed at most (Thunderbird follows a few; a loop ends here).
pub const MAX_REDIRECTS: usize = 3;

/// The largest configuration file read: real ones are 1–10 KiB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why a URL gave no file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// 404 and its kin: the usual "there is no file here".
    #[error("HTTP {0}")]
    Status(u16),
    #[error("redirected to a non-HTTPS address")]
    Downgrade,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the answer is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the answer is not UTF-8 text")]
    NotText,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// DNS, TCP, TLS (a certificate that does not verify lands here) in reqwest's words.
    #[error("{0}")]
    Transport(String),
}

/// Marker errors the redirect policy returns, recognised again in [`get`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PolicyError(&'static str);

const DOWNGRADE: &str = "redirect to non-https";
const TOO_MANY: &str = "too many redirects";

/// The HTTP client for discovery.
pub fn client(opts: &Options) -> Result<reqwest::Client, FetchError> {
    let tls = crate::oauth::http_client::tls_config(Vec::new()).map_err(FetchError::Transport)?;
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let from_https = attempt.previous().iter().any(|u| u.scheme() == "https");
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(PolicyError(TOO_MANY))
        } else if attempt.url().scheme() != "https" && from_https {
            attempt.error(PolicyError(DOWNGRADE))
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(policy)
        .https_only(!opts.allow_http)
        .timeout(opts.http_timeout)
        .connect_timeout(opts.http_timeout)
        // No cookies, no proxy credentials, nothing but the URL.
        .no_proxy()
        .user_agent(concat!("Pushmail/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FetchError::Transport(chain(&e)))
}

/// GETs `url` and returns the body as text.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    opts: &Options,
) -> Result<String, FetchError> {
    let request = async {
        let mut response = client.get(url).send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| FetchError::NotText)
    };
    // reqwest's own timeout covers each request; this one the whole redirect chain and body.
    let whole = opts.http_timeout * (MAX_REDIRECTS as u32 + 1);
    tokio::time::timeout(whole, request)
        .await
        .unwrap_or(Err(FetchError::Timeout(whole)))
}

fn classify(e: reqwest::Error) -> FetchError {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = source {
        if let Some(p) = err.downcast_ref::<PolicyError>() {
            return match p.0 {
                DOWNGRADE => FetchError::Downgrade,
                _ => FetchError::TooManyRedirects,
            };
        }
        source = err.source();
    }
    if e.is_redirect() {
        // https_only refusing the http:// target of a redirect.
        return FetchError::Downgrade;
    }
    if e.is_timeout() {
        return FetchError::Timeout(Duration::ZERO);
    }
    FetchError::Transport(chain(&e))
}

/// reqwest's message with its causes ("error sending request: … : invalid peer certificate").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    crate::text::truncate_for_log(&out)
}
