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
    /// No web server at that name: the name does not resolve, or nothing accepts the
    /// connection. The usual "no file here", not worth telling the user.
    #[error("no web server answers")]
    Unreachable,
    #[error("redirected to another site ({0})")]
    OtherSite(String),
    /// TLS (a certificate that does not verify lands here) and the rest, in reqwest's words.
    #[error("{0}")]
    Transport(String),
}

/// Marker errors the redirect policy returns, recognised again in [`get`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PolicyError(&'static str);

const DOWNGRADE: &str = "redirect to non-https";
const TOO_MANY: &str = "too many redirects";
const OTHER_SITE: &str = "redirect to another site";

/// The HTTP client for discovery.
pub fn client(opts: &Options) -> Result<reqwest::Client, FetchError> {
    let tls = crate::oauth::http_client::tls_config(Vec::new()).map_err(FetchError::Transport)?;
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let from_https = attempt.previous().iter().any(|u| u.scheme() == "https");
        // A file found by following a redirect is shown as the domain's own: the redirect
        // may move within the domain's site (`example.com` → `www.example.com`), not away.
        let site = |u: &reqwest::Url| u.host_str().map(super::domain::registrable);
        let first = attempt.previous().first().and_then(site);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(PolicyError(TOO_MANY))
        } else if attempt.url().scheme() != "https" && from_https {
            attempt.error(PolicyError(DOWNGRADE))
        } else if first.is_some() && site(attempt.url()) != first {
            attempt.error(PolicyError(OTHER_SITE))
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

/// GETs `url` and returns the body as text, and the URL it finally came from (after
/// redirects, without its query).
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    opts: &Options,
) -> Result<(String, String), FetchError> {
    let classify = |e| classify(e, opts.http_timeout);
    let request = async {
        let mut response = client.get(url).send().await.map_err(classify)?;
        let mut from = response.url().clone();
        from.set_query(None);
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
        let text = String::from_utf8(body).map_err(|_| FetchError::NotText)?;
        Ok((text, from.to_string()))
    };
    // reqwest's own timeout covers each request; this one the whole redirect chain and body.
    let whole = opts.http_timeout * (MAX_REDIRECTS as u32 + 1);
    tokio::time::timeout(whole, request)
        .await
        .unwrap_or(Err(FetchError::Timeout(whole)))
}

/// reqwest's error as what it means here; `timeout` is the per-request limit that fired.
fn classify(e: reqwest::Error, timeout: Duration) -> FetchError {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = source {
        if let Some(p) = err.downcast_ref::<PolicyError>() {
            return match p.0 {
                DOWNGRADE => FetchError::Downgrade,
                OTHER_SITE => FetchError::OtherSite(
                    e.url()
                        .and_then(|u| u.host_str())
                        .unwrap_or_default()
                        .to_owned(),
                ),
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
        return FetchError::Timeout(timeout);
    }
    // A connection that never came about for another reason than TLS (whose errors are
    // rustls's, worth telling): no such name, nothing listening, no route.
    let tls = {
        let mut source: Option<&dyn std::error::Error> = Some(&e);
        let mut found = false;
        while let Some(err) = source {
            // rustls's error reaches reqwest inside an io::Error, whose `source` skips it.
            let inner = err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|e| e as &dyn std::error::Error);
            found |= err.downcast_ref::<rustls::Error>().is_some()
                || inner.is_some_and(|e| e.downcast_ref::<rustls::Error>().is_some());
            source = err.source();
        }
        found
    };
    if e.is_connect() && !tls {
        return FetchError::Unreachable;
    }
    FetchError::Transport(chain(&e))
}

/// reqwest's message with its causes, capped for the notes.
fn chain(e: &dyn std::error::Error) -> String {
    crate::text::truncate_for_log(&crate::error::chain(e))
}
