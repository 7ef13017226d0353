//! The loopback redirect listener of RFC 8252 §7.3: where the browser brings the
//! authorization code back.
//!
//! One random port, bound on 127.0.0.1 and — where the system has it — on ::1 too, so a
//! `localhost` redirect works whichever address the browser resolves it to. It serves exactly
//! one request on the redirect path, answers it with a static page (no script, `no-store`, the
//! text given by the caller so it is in the user's language), and closes: dropping the
//! listener closes the port, so a second request finds nothing listening, and whatever the
//! outcome, nothing stays open after [`LoopbackListener::wait`] returns.
//!
//! Anything but the one expected request ends the sign-in with an error and no code: a wrong
//! `state` or `iss`, an `error=`, a request on another path, a second request pipelined on
//! the connection, one that is not a plain `GET`, one larger than [`MAX_REQUEST_BYTES`]. A
//! local process can therefore abort a sign-in (it could anyway, by taking the port), but can
//! never inject a code of its own. A connection that sends nothing (browsers open spare ones)
//! is dropped after [`IDLE_CONNECTION_TIMEOUT`] and does not count.
//!
//! Deliberately tiny — tokio's `TcpListener`, a bounded read of the request line and headers,
//! a fixed response — rather than a web framework: it parses one line from a hostile-by-default
//! local peer, and the less code does that the better.

use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::debug;

use super::authorization::{AuthorizationCode, PendingAuthorization, check_redirect};
use super::provider::RedirectHost;
use super::{OAuthError, RedirectProblem};

/// The most the listener reads of one request (request line and headers). A browser's
/// redirect with a code, a state and an issuer is well under 2 KiB of URL plus its headers.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// How long a connection may stay silent before it is dropped. Browsers open spare
/// connections ahead of need and may never use them; the sign-in's own timeout still bounds
/// the whole wait.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long writing the page may take before the connection is simply closed (the outcome is
/// decided already).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections read at once; more are closed on arrival (a local flood must not grow memory).
const MAX_CONNECTIONS: usize = 16;

/// Ports tried when ::1 has the port 127.0.0.1 gave us taken by someone else.
const BIND_ATTEMPTS: usize = 8;

/// The page the browser shows after the redirect, in the user's language. Plain text, put into
/// a fixed HTML page escaped: no script, no link, no style sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectPage {
    /// BCP 47 tag for `<html lang>`.
    pub lang: String,
    /// A right-to-left language (`<html dir="rtl">`).
    pub rtl: bool,
    pub title: String,
    /// Shown when the code was received ("You can close this tab and go back to Pushmail").
    pub success: String,
    /// Shown when the answer was refused ("Sign-in failed; go back to Pushmail for details").
    pub failure: String,
}

impl RedirectPage {
    /// The page in `i18n`'s language (and direction), as every front end shows it.
    pub fn translated(i18n: &crate::i18n::I18n) -> Self {
        RedirectPage {
            lang: i18n.lang().to_owned(),
            rtl: i18n.is_rtl(),
            title: "Pushmail".into(),
            success: i18n.tr_plain("cli-signin-page-success", &[]),
            failure: i18n.tr_plain("cli-signin-page-failure", &[]),
        }
    }

    /// The English page (the caller passes a translated one).
    pub fn english() -> Self {
        RedirectPage {
            lang: "en".into(),
            rtl: false,
            title: "Pushmail".into(),
            success: "You are signed in. You can close this tab and go back to Pushmail.".into(),
            failure: "Sign-in did not complete. Go back to Pushmail to see why.".into(),
        }
    }

    fn html(&self, ok: bool) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"{}\" dir=\"{}\"><head><meta charset=\"utf-8\">\
             <title>{}</title></head><body><p>{}</p></body></html>\n",
            escape(&self.lang),
            if self.rtl { "rtl" } else { "ltr" },
            escape(&self.title),
            escape(if ok { &self.success } else { &self.failure }),
        );
        out
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The listening sockets of one sign-in. Closed when dropped.
#[derive(Debug)]
pub struct LoopbackListener {
    v4: TcpListener,
    v6: Option<TcpListener>,
    port: u16,
    path: String,
    redirect_uri: String,
}

fn listener_error(e: io::Error) -> OAuthError {
    OAuthError::Listener {
        words: e.to_string(),
    }
}

impl LoopbackListener {
    /// Binds a random port on 127.0.0.1 and the same port on ::1 (where ::1 cannot be bound —
    /// no IPv6 on the loopback interface — 127.0.0.1 alone), for a redirect to `host` and
    /// `path`.
    pub async fn bind(host: RedirectHost, path: &str) -> Result<Self, OAuthError> {
        let mut last = None;
        for _ in 0..BIND_ATTEMPTS {
            let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(listener_error)?;
            let port = v4.local_addr().map_err(listener_error)?.port();
            match TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await {
                Ok(v6) => return Ok(Self::new(v4, Some(v6), port, host, path)),
                // Someone else has that port on ::1: a browser resolving `localhost` to ::1
                // would reach them. Take another port.
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    last = Some(v4);
                }
                Err(e) => {
                    debug!("no ::1 for the sign-in redirect ({e}); 127.0.0.1 only");
                    return Ok(Self::new(v4, None, port, host, path));
                }
            }
        }
        // Every port we were given was taken on ::1: 127.0.0.1 alone, rather than no sign-in.
        let v4 = last.ok_or_else(|| OAuthError::Listener {
            words: "no port could be bound".into(),
        })?;
        let port = v4.local_addr().map_err(listener_error)?.port();
        Ok(Self::new(v4, None, port, host, path))
    }

    fn new(
        v4: TcpListener,
        v6: Option<TcpListener>,
        port: u16,
        host: RedirectHost,
        path: &str,
    ) -> Self {
        let name = match host {
            RedirectHost::Ip => "127.0.0.1",
            RedirectHost::Localhost => "localhost",
        };
        LoopbackListener {
            v4,
            v6,
            port,
            path: path.to_owned(),
            redirect_uri: format!("http://{name}:{port}{path}"),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether ::1 is served too.
    pub fn has_ipv6(&self) -> bool {
        self.v6.is_some()
    }

    /// The redirect URI to put in the authorization request (and, exactly the same, in the
    /// code exchange).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits up to `timeout` for the one request, answers it with `page`, closes the port and
    /// returns the code — or the reason there is none.
    pub async fn wait(
        self,
        pending: &PendingAuthorization,
        page: &RedirectPage,
        timeout: Duration,
    ) -> Result<AuthorizationCode, OAuthError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut reading = FuturesUnordered::new();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    return Err(OAuthError::TimedOut { after: timeout });
                }
                accepted = accept(&self.v4, self.v6.as_ref()) => match accepted {
                    Ok(stream) if reading.len() < MAX_CONNECTIONS => {
                        reading.push(read_request(stream));
                    }
                    Ok(_) => debug!("sign-in listener: too many connections; one closed"),
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, do not spin.
                        debug!("sign-in listener: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some((stream, read)) = reading.next() => {
                    let outcome = match read {
                        Read::Nothing => continue,
                        Read::Problem(p) => Err(OAuthError::redirect(p)),
                        Read::Request(target) => self.decide(pending, &target),
                    };
                    respond(stream, page, outcome.is_ok()).await;
                    // `self` (the sockets) and every other connection are dropped here.
                    return outcome;
                }
            }
        }
    }

    fn decide(
        &self,
        pending: &PendingAuthorization,
        target: &str,
    ) -> Result<AuthorizationCode, OAuthError> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        if path != self.path {
            return Err(OAuthError::redirect(RedirectProblem::WrongPath));
        }
        check_redirect(pending, query)
    }
}

async fn accept(v4: &TcpListener, v6: Option<&TcpListener>) -> io::Result<TcpStream> {
    let (stream, _) = match v6 {
        Some(v6) => tokio::select! {
            r = v4.accept() => r?,
            r = v6.accept() => r?,
        },
        None => v4.accept().await?,
    };
    Ok(stream)
}

enum Read {
    /// Closed or silent without a byte: a spare connection.
    Nothing,
    /// The request target of a well-formed `GET`.
    Request(String),
    Problem(RedirectProblem),
}

async fn read_request(mut stream: TcpStream) -> (TcpStream, Read) {
    let mut buf = Vec::with_capacity(2048);
    let read = tokio::time::timeout(IDLE_CONNECTION_TIMEOUT, async {
        let mut chunk = [0u8; 2048];
        loop {
            let n = match stream.read(&mut chunk).await {
                Ok(n) => n,
                Err(_) if buf.is_empty() => return Read::Nothing,
                Err(_) => return Read::Problem(RedirectProblem::Malformed),
            };
            if n == 0 {
                return if buf.is_empty() {
                    Read::Nothing
                } else {
                    Read::Problem(RedirectProblem::Malformed)
                };
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find_head_end(&buf) {
                return parse_head(&buf[..end], &buf[end..]);
            }
            if buf.len() > MAX_REQUEST_BYTES {
                return Read::Problem(RedirectProblem::Oversized);
            }
        }
    })
    .await;
    let read = match read {
        Ok(r) => r,
        // A request begun and not finished within the time is not a browser's.
        Err(_) if !buf.is_empty() => Read::Problem(RedirectProblem::Malformed),
        Err(_) => Read::Nothing,
    };
    (stream, read)
}

/// The end of the head (after the blank line), if it has arrived.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The request line and headers of one `GET` with no body; `rest`: bytes after the head.
fn parse_head(head: &[u8], rest: &[u8]) -> Read {
    if head.len() > MAX_REQUEST_BYTES {
        return Read::Problem(RedirectProblem::Oversized);
    }
    let Ok(head) = std::str::from_utf8(head) else {
        return Read::Problem(RedirectProblem::Malformed);
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Read::Problem(RedirectProblem::Malformed);
    };
    if method != "GET" || !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Read::Problem(RedirectProblem::Malformed);
    }
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        // A redirect is a GET without a body; one announced is not a browser's redirect.
        if name.eq_ignore_ascii_case("transfer-encoding")
            || (name.eq_ignore_ascii_case("content-length") && value.trim() != "0")
        {
            return Read::Problem(RedirectProblem::Malformed);
        }
    }
    if !rest.is_empty() {
        return Read::Problem(RedirectProblem::SecondRequest);
    }
    Read::Request(target.to_owned())
}

/// The page, with headers that keep it out of caches and history and forbid anything active.
fn response(page: &RedirectPage, ok: bool) -> Vec<u8> {
    let body = page.html(ok);
    let status = if ok { "200 OK" } else { "400 Bad Request" };
    format!(
        "HTTP/1.1 {status}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Pragma: no-cache\r\n\
         Content-Security-Policy: default-src 'none'; form-action 'none'; frame-ancestors 'none'\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\
         \r\n\
         {body}",
        body.len()
    )
    .into_bytes()
}

async fn respond(mut stream: TcpStream, page: &RedirectPage, ok: bool) {
    let bytes = response(page, ok);
    let _ = tokio::time::timeout(RESPONSE_TIMEOUT, async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorization::{self, AuthorizationOptions};
    use crate::oauth::provider::Provider;
    use secrecy::ExposeSecret;

    struct Setup {
        listener: LoopbackListener,
        pending: PendingAuthorization,
        state: String,
    }

    async fn setup(require_iss: bool) -> Setup {
        let mut provider = Provider::builtin("google")
            .unwrap()
            .with_client("c".into(), None);
        provider.redirect_path = "/cb".into();
        provider.require_iss = require_iss;
        let listener = LoopbackListener::bind(RedirectHost::Ip, "/cb")
            .await
            .unwrap();
        let req = authorization::request(
            &provider,
            listener.redirect_uri(),
            &AuthorizationOptions::default(),
        )
        .unwrap();
        let state = req.pending.state_for_test();
        Setup {
            listener,
            pending: req.pending,
            state,
        }
    }

    /// Sends `raw` on a new connection and reads the whole answer.
    async fn send(port: u16, raw: &str) -> String {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        // The listener may close before it has read everything (an oversized request).
        let _ = s.write_all(raw.as_bytes()).await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    fn get(target: &str) -> String {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n")
    }

    /// Runs the listener against one client request; returns its outcome and what the client
    /// read.
    async fn one(setup: Setup, raw: String) -> (Result<AuthorizationCode, OAuthError>, String) {
        let port = setup.listener.port();
        let page = RedirectPage::english();
        let wait = setup
            .listener
            .wait(&setup.pending, &page, Duration::from_secs(10));
        let (outcome, answer) = tokio::join!(wait, send(port, &raw));
        // Whatever happened, the port is closed now.
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .is_err(),
            "port {port} still open"
        );
        (outcome, answer)
    }

    fn problem(r: &Result<AuthorizationCode, OAuthError>) -> RedirectProblem {
        match r {
            Err(OAuthError::Redirect { problem, .. }) => problem.clone(),
            other => panic!("not a redirect problem: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_good_redirect_gives_the_code_and_a_static_page() {
        let s = setup(false).await;
        assert!(s.listener.redirect_uri().starts_with("http://127.0.0.1:"));
        assert!(s.listener.redirect_uri().ends_with("/cb"));
        let target = format!(
            "/cb?state={}&code=4%2F0Adeu5B&scope=https%3A%2F%2Fmail.google.com%2F&iss=https%3A%2F%2Faccounts.google.com",
            s.state
        );
        let (outcome, answer) = one(s, get(&target)).await;
        assert_eq!(outcome.unwrap().secret().expose_secret(), "4/0Adeu5B");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("\r\nCache-Control: no-store\r\n"));
        assert!(answer.contains("default-src 'none'"));
        assert!(answer.contains("You can close this tab"));
        assert!(!answer.to_ascii_lowercase().contains("<script"));
        assert!(!answer.contains("4/0Adeu5B") && !answer.contains("4%2F0Adeu5B"));
    }

    /// A raw request, given the sign-in's state.
    type RequestFor = Box<dyn Fn(&str) -> String>;

    #[tokio::test]
    async fn hostile_or_failed_redirects_end_the_sign_in_without_a_code() {
        use RedirectProblem::*;
        let cases: Vec<(RequestFor, RedirectProblem)> = vec![
            (Box::new(|_| get("/cb?state=forged&code=evil")), WrongState),
            (
                Box::new(|s| {
                    get(&format!(
                        "/cb?state={s}&code=c&iss=https%3A%2F%2Fevil.example"
                    ))
                }),
                WrongIssuer {
                    got: Some("https://evil.example".into()),
                },
            ),
            (
                Box::new(|s| get(&format!("/cb?state={s}&error=access_denied"))),
                AccessDenied,
            ),
            (
                Box::new(|s| get(&format!("/cb?state={s}&error=invalid_scope"))),
                ProviderError {
                    code: "invalid_scope".into(),
                },
            ),
            (
                Box::new(|s| get(&format!("/other?state={s}&code=c"))),
                WrongPath,
            ),
            (Box::new(|s| get(&format!("/?state={s}&code=c"))), WrongPath),
            (
                Box::new(|s| get(&format!("/cb/?state={s}&code=c"))),
                WrongPath,
            ),
            (
                Box::new(|s| format!("POST /cb?state={s}&code=c HTTP/1.1\r\nHost: x\r\n\r\n")),
                Malformed,
            ),
            (
                Box::new(|s| {
                    format!("GET /cb?state={s}&code=c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
                }),
                Malformed,
            ),
            (
                Box::new(|_| "\x16\x03\x01\x02\x00\r\n\r\n".to_owned()),
                Malformed,
            ),
            (
                // A second request pipelined behind a good one: neither is believed.
                Box::new(|s| {
                    format!(
                        "{}{}",
                        get(&format!("/cb?state={s}&code=c")),
                        get(&format!("/cb?state={s}&code=d"))
                    )
                }),
                SecondRequest,
            ),
            (
                Box::new(|s| {
                    format!(
                        "GET /cb?state={s}&code=c HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                        "a".repeat(MAX_REQUEST_BYTES)
                    )
                }),
                Oversized,
            ),
        ];
        for (raw, expected) in cases {
            let s = setup(false).await;
            let raw = raw(&s.state);
            let (outcome, answer) = one(s, raw.clone()).await;
            assert_eq!(problem(&outcome), expected, "{raw:.80}");
            if expected != Oversized {
                assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
                assert!(answer.contains("Sign-in did not complete"));
            }
        }
    }

    #[tokio::test]
    async fn a_missing_iss_is_refused_where_the_provider_requires_it() {
        let s = setup(true).await;
        let target = format!("/cb?state={}&code=c", s.state);
        let (outcome, _) = one(s, get(&target)).await;
        assert_eq!(
            problem(&outcome),
            RedirectProblem::WrongIssuer { got: None }
        );
    }

    #[tokio::test]
    async fn a_second_request_finds_the_port_closed() {
        let s = setup(false).await;
        let port = s.listener.port();
        let request = get(&format!("/cb?state={}&code=first", s.state));
        let page = RedirectPage::english();
        let (outcome, _) = tokio::join!(
            s.listener.wait(&s.pending, &page, Duration::from_secs(10)),
            send(port, &request)
        );
        assert_eq!(outcome.unwrap().secret().expose_secret(), "first");
        let second = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await;
        assert!(second.is_err(), "a second request reached a listener");
    }

    #[tokio::test]
    async fn spare_connections_do_not_count_and_ipv6_is_served_too() {
        let s = setup(false).await;
        let port = s.listener.port();
        let has_v6 = s.listener.has_ipv6();
        // A browser's spare connection that never sends, and one that closes at once.
        let _idle = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        drop(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .unwrap(),
        );
        let target = format!("/cb?state={}&code=v6", s.state);
        let page = RedirectPage::english();
        let client = async {
            let mut c = if has_v6 {
                TcpStream::connect((Ipv6Addr::LOCALHOST, port))
                    .await
                    .unwrap()
            } else {
                TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                    .await
                    .unwrap()
            };
            c.write_all(get(&target).as_bytes()).await.unwrap();
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out).await;
            out
        };
        let (outcome, answer) = tokio::join!(
            s.listener.wait(&s.pending, &page, Duration::from_secs(10)),
            client
        );
        assert_eq!(outcome.unwrap().secret().expose_secret(), "v6");
        assert!(answer.starts_with(b"HTTP/1.1 200"));
    }

    #[tokio::test]
    async fn nobody_coming_back_times_out_and_closes_the_port() {
        let s = setup(false).await;
        let port = s.listener.port();
        let page = RedirectPage::english();
        let started = std::time::Instant::now();
        let outcome = s
            .listener
            .wait(&s.pending, &page, Duration::from_millis(300))
            .await;
        assert!(
            matches!(outcome, Err(OAuthError::TimedOut { .. })),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .is_err()
        );
    }

    #[test]
    fn the_page_escapes_the_callers_text() {
        let page = RedirectPage {
            lang: "ar".into(),
            rtl: true,
            title: "<b>".into(),
            success: "<script>alert(1)</script> & \"q\"".into(),
            failure: String::new(),
        };
        let html = page.html(true);
        assert!(html.contains("dir=\"rtl\""));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
    }
}
