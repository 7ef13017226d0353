//! Fetching a configuration file over HTTPS, with the policy issue 12 asks for: HTTPS only
//! (plain `http://` only when the caller explicitly allows it, and the result is then marked
//! insecure), redirects only from HTTPS to HTTPS and at most [`MAX_REDIRECTS`], a timeout per
//! request, a cap on the body, and no credential of any kind in the request (the address is in
//! the query of the first URL, as the format defines; nothing else).
//!
//! The client is reqwest on the engine's rustls configuration (ring, platform verifier: the
//! system's trust store), the same stack as the sign-in's token requests
//! ([`crate::oauth::http_client`]).
//!
//! A host that looks settings up on other people's behalf (the relay) gives an
//! [`AddressGuard`] ([`Options::address_guard`]): every address a request connects to must pass
//! it. Names are checked in the client's resolver, on the addresses actually connected to, for
//! every request and every redirect (reqwest resolves through it each time), so a name that
//! changes its answer cannot slip through; literal addresses, which no resolver sees (a URL
//! such as `https://127.0x1/` built from the MX name `mx.127.0x1`, a redirect to
//! `https://[::1]/`), are checked on the URL before it is requested and in the redirect
//! policy. No proxy is used (a proxy would resolve names itself, past the guard).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
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
    /// The [`AddressGuard`] refused every address of the host (or the literal address of
    /// the URL or of a redirect): nothing was sent. The text says which and why.
    #[error("not fetched: {0}")]
    Refused(String),
    /// TLS (a certificate that does not verify lands here) and the rest, in reqwest's words.
    #[error("{0}")]
    Transport(String),
}

/// A check every address discovery's HTTP requests go to must pass: `Err` carries why, in
/// words naming the address (never a path). For a host that looks settings up on other
/// people's behalf; unset on the desktop, where the user's own machine may reach the LAN.
/// The same rule as the IMAP transport's guard
/// ([`crate::imap::transport::install_address_guard`]), which the probes go through.
#[derive(Clone)]
pub struct AddressGuard(Arc<dyn Fn(IpAddr) -> Result<(), String> + Send + Sync>);

impl AddressGuard {
    /// A guard calling `check` for every address.
    pub fn new(check: impl Fn(IpAddr) -> Result<(), String> + Send + Sync + 'static) -> Self {
        AddressGuard(Arc::new(check))
    }

    /// Whether `ip` may be reached, and if not why.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        (self.0)(ip)
    }
}

impl fmt::Debug for AddressGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressGuard")
    }
}

/// What the guard said, carried through reqwest's error chain to [`classify`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AddressRefused(String);

/// The resolver of a guarded client: the system's (getaddrinfo, as reqwest's own), keeping
/// only the addresses the guard allows; none left fails the connection with why.
struct GuardedResolver(AddressGuard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // Port 0: reqwest puts the URL's port in afterwards.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused: Vec<String> = Vec::new();
            let mut kept = Vec::new();
            for a in found {
                match guard.check(a.ip()) {
                    Ok(()) => kept.push(a),
                    Err(why) if !refused.contains(&why) => refused.push(why),
                    Err(_) => {}
                }
            }
            if kept.is_empty() && !refused.is_empty() {
                let why = format!(
                    "{host} resolves only to addresses this server does not reach; {}",
                    refused.join("; ")
                );
                return Err(
                    Box::new(AddressRefused(why)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            if kept.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{host} has no address"),
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The literal IP address `url` goes to, if its host is one (after the URL parser's
/// normalisation: `127.1` and `0x7f.0.0.1` are 127.0.0.1).
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    // The parser writes an IPv4 host in dotted decimal and an IPv6 one in brackets; a name
    // never parses as an address (one that looks like an address was parsed as one).
    url.host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
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
    let guard = opts.address_guard.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        // A redirect to a literal address meets no resolver: the guard checks it here.
        if let Some(guard) = &guard
            && let Some(ip) = literal_ip(attempt.url())
            && let Err(why) = guard.check(ip)
        {
            return attempt.error(AddressRefused(format!("redirected to {ip}; {why}")));
        }
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
    let mut builder = reqwest::Client::builder();
    if let Some(guard) = &opts.address_guard {
        builder = builder.dns_resolver(Arc::new(GuardedResolver(guard.clone())));
    }
    builder
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
    // A literal address meets no resolver: the guard checks it before anything is sent.
    if let Some(guard) = &opts.address_guard
        && let Ok(parsed) = reqwest::Url::parse(url)
        && let Some(ip) = literal_ip(&parsed)
    {
        guard.check(ip).map_err(FetchError::Refused)?;
    }
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
        if let Some(r) = err.downcast_ref::<AddressRefused>() {
            return FetchError::Refused(r.0.clone());
        }
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Options whose guard allows 127.0.0.1 only (as a relay's `allow_private` would) and
    /// plain HTTP (the test server speaks no TLS).
    fn guarded() -> Options {
        Options {
            http_timeout: Duration::from_secs(5),
            allow_http: true,
            address_guard: Some(AddressGuard::new(|ip| {
                if ip == IpAddr::from([127, 0, 0, 1]) {
                    Ok(())
                } else {
                    Err(format!("{ip} is not allowed here"))
                }
            })),
            ..Options::default()
        }
    }

    /// Answers every request on 127.0.0.1 with `reply`; counts the requests.
    async fn server(reply: String) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(reply.as_bytes()).await;
            }
        });
        (port, count)
    }

    #[tokio::test]
    async fn a_name_resolving_only_to_refused_addresses_is_not_fetched() {
        let opts = Options {
            address_guard: Some(AddressGuard::new(|ip| {
                Err(format!("{ip} is a loopback address"))
            })),
            ..Options::default()
        };
        let c = client(&opts).unwrap();
        let e = get(&c, "https://localhost:1/mail/config-v1.1.xml", &opts)
            .await
            .unwrap_err();
        let FetchError::Refused(why) = &e else {
            panic!("{e:?}")
        };
        assert!(
            why.contains("localhost") && why.contains("is a loopback address"),
            "{why}"
        );
        assert!(e.to_string().starts_with("not fetched: "), "{e}");
    }

    #[tokio::test]
    async fn literal_addresses_are_checked_before_anything_is_sent() {
        let opts = guarded();
        let c = client(&opts).unwrap();
        // `127.1` is 127.0.0.1 to the URL parser, `0x7f000002` 127.0.0.2: no resolver sees them.
        for (url, ip) in [
            ("https://127.2/x", "127.0.0.2"),
            ("https://0x7f000002/x", "127.0.0.2"),
            ("https://[::1]:1/x", "::1"),
        ] {
            match get(&c, url, &opts).await {
                Err(FetchError::Refused(why)) => assert!(why.contains(ip), "{url}: {why}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_redirect_to_a_refused_address_is_not_followed() {
        let (port, count) = server(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:1/next\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .into(),
        )
        .await;
        let opts = guarded();
        let c = client(&opts).unwrap();
        let e = get(&c, &format!("http://127.0.0.1:{port}/start"), &opts)
            .await
            .unwrap_err();
        let FetchError::Refused(why) = &e else {
            panic!("{e:?}")
        };
        assert!(why.contains("redirected to 127.0.0.2"), "{why}");
        assert!(why.contains("not allowed here"), "{why}");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_allowed_address_is_fetched_and_without_a_guard_nothing_changes() {
        let (port, count) = server(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                .into(),
        )
        .await;
        let url = format!("http://127.0.0.1:{port}/file");
        let opts = guarded();
        let (body, _) = get(&client(&opts).unwrap(), &url, &opts).await.unwrap();
        assert_eq!(body, "ok");
        let desktop = Options {
            http_timeout: Duration::from_secs(5),
            allow_http: true,
            ..Options::default()
        };
        let (body, _) = get(&client(&desktop).unwrap(), &url, &desktop)
            .await
            .unwrap();
        assert_eq!(body, "ok");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
