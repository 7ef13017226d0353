//! A private OAuth2 / OpenID Connect authorization server per test: panva's `oidc-provider`
//! (`tests/oauth/server.mjs`) on `https://127.0.0.1:PORT`, with a certificate from its own
//! throw-away CA.
//!
//! Lifecycle: [`OidcServer::start`] → drop. Node runs as our child in a process group of its
//! own, killed (group-wide) on drop; everything the server knows (sessions, grants, tokens) is
//! in its memory and dies with it. Nothing is global: parallel tests each get their own.
//!
//! What the server offers (details in `server.mjs`):
//! - client [`CLIENT_ID`] (`pushmail`): public, native, PKCE S256 required, loopback redirects
//!   `http://127.0.0.1/callback` and `http://[::1]/callback` accepted on any port (RFC 8252
//!   §7.3), scopes [`SCOPES`];
//! - a confidential client for Dovecot's token introspection ([`OidcServer::introspection_client`],
//!   used by [`crate::OAuth2Passdb`]);
//! - real login and consent pages (oidc-provider's devInteractions): any password, and the
//!   login name typed is the account's `sub`, hence the IMAP user name;
//! - refresh tokens rotated at each use ([`OidcOptions::rotate_refresh_tokens`]), and an old one
//!   presented again revokes the whole grant;
//! - [`OidcServer::revoke`]: revoke every grant of a user, as "remove access" would.
//!
//! The test's own hands: [`OidcServer::user_agent`] (`tests/oauth/sign-in.mjs`) signs in on the
//! pages like a person in a browser, given any authorization URL (a CLI under test builds its
//! own); [`OidcServer::authorization_request`], [`OidcServer::exchange_code`],
//! [`OidcServer::refresh`] and [`OidcServer::tokens_for`] are a minimal reference client for
//! tests that need tokens without the code under test. None of it shares code with Pushmail.
//!
//! What oidc-provider 9.13.3 does that a test must know (verified here):
//! - no refresh token unless the authorization request has `prompt=consent` (it drops
//!   `offline_access` otherwise), which [`OidcServer::authorization_request`] always adds;
//! - the authorization response carries `iss` (RFC 9207);
//! - replaying an authorization code revokes what that code issued.
//!
//! Needs Node.js 20.19+ and `npm ci` in `tests/oauth` (both done by `scripts/setup --test`).

use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use tempfile::TempDir;

use crate::process::{find_program, run, signal_group, wait_group_gone};
use crate::tls::make_tls;

/// The public native client's id.
pub const CLIENT_ID: &str = "pushmail";
/// Every scope the public client may ask for; `imap` stands for a provider's mail scope
/// (Google's `https://mail.google.com/`, Microsoft's `…/IMAP.AccessAsUser.All`).
pub const SCOPES: &str = "openid offline_access email imap";

/// From spawn to the ready line; measured ~0.4 s (Node loading oidc-provider), so 20 s only
/// trips on a real failure on a loaded 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// After SIGKILL only the kernel's reaping is left.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// One HTTP exchange with the server on loopback (milliseconds when healthy).
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole headless sign-in: Node's start plus about eight requests.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(30);

/// How a test wants its authorization server.
#[derive(Debug, Clone)]
pub struct OidcOptions {
    /// Lifetime of access tokens (default 1 hour). A few seconds makes expiry testable.
    pub access_token_ttl: Duration,
    /// `true` (default): a new refresh token at every refresh, and the old one presented again
    /// revokes the grant. `false`: the same refresh token stays valid (as Google's do).
    pub rotate_refresh_tokens: bool,
    /// Registers the relay's web client ([`RELAY_CLIENT_ID`], confidential, its secret from
    /// [`OidcServer::relay_client_secret`]) with this one redirect URI.
    pub relay_redirect: Option<String>,
}

/// The relay's web application client (with [`OidcOptions::relay_redirect`]).
pub const RELAY_CLIENT_ID: &str = "pushmail-relay";

impl Default for OidcOptions {
    fn default() -> Self {
        OidcOptions {
            access_token_ttl: Duration::from_secs(3600),
            rotate_refresh_tokens: true,
            relay_redirect: None,
        }
    }
}

/// One request to the token endpoint, from the server's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token`, … (`None` if the request had none).
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    /// The account the request was about, when the server got that far.
    pub sub: Option<String>,
    /// `ok`, or the OAuth error code the server answered (`invalid_grant`, …).
    pub result: String,
}

impl TokenRequest {
    pub fn ok(&self) -> bool {
        self.result == "ok"
    }
}

/// A token response. Debug shows which tokens are there, never their values.
#[derive(Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// The token endpoint said no (HTTP 4xx with an RFC 6749 §5.2 error). Reached through
/// `anyhow::Error::downcast_ref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub status: u16,
    /// `invalid_grant`, `invalid_client`, …
    pub error: String,
    pub description: Option<String>,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token endpoint answered {} {}", self.status, self.error)?;
        if let Some(d) = &self.description {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for TokenError {}

/// An authorization request as a native client makes it: PKCE S256, a random `state`,
/// `prompt=consent` (see the module docs).
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// The URL to open in the browser.
    pub url: String,
    pub state: String,
    pub code_verifier: String,
    pub redirect_uri: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// What the headless user should do on the pages.
#[derive(Debug, Clone, Default)]
pub struct UserAgentOptions {
    /// Press Cancel on the consent page (the server redirects with `error=access_denied`).
    pub deny: bool,
    /// Also request the final redirect (the client's loopback listener), as a browser does.
    pub follow: bool,
}

/// What the browser saw when the client's loopback listener answered.
#[derive(Debug, Clone)]
pub struct FollowedRedirect {
    pub status: u16,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub body: String,
}

/// Where a headless sign-in ended.
#[derive(Clone)]
pub struct SignInOutcome {
    /// The URL the server sent the browser to (the client's redirect URI with `code`, `state`
    /// and `iss`, or with `error`); `None` if it stopped on one of its own pages.
    pub redirect: Option<String>,
    /// Pages the user went through, in order: `login`, `consent`.
    pub pages: Vec<String>,
    /// The loopback listener's answer, with [`UserAgentOptions::follow`].
    pub followed: Option<FollowedRedirect>,
    /// The text of the page it stopped on, when it was neither a login nor a consent page.
    pub error_page: Option<String>,
}

impl SignInOutcome {
    /// A query parameter of the redirect (`code`, `state`, `iss`, `error`, …), decoded.
    pub fn redirect_param(&self, name: &str) -> Option<String> {
        let query = self.redirect.as_deref()?.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(v))
        })
    }
}

impl fmt::Debug for SignInOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The redirect carries the authorization code: show where it went, not the code.
        let redirect = self
            .redirect
            .as_deref()
            .map(|r| r.split_once('?').map_or(r, |(base, _)| base));
        f.debug_struct("SignInOutcome")
            .field("redirect", &redirect)
            .field("error", &self.redirect_param("error"))
            .field("pages", &self.pages)
            .field("followed", &self.followed)
            .field("error_page", &self.error_page)
            .finish()
    }
}

/// One running authorization server.
pub struct OidcServer {
    /// Removed on drop, after the process is gone.
    dir: TempDir,
    ca: PathBuf,
    port: u16,
    issuer: String,
    introspection_secret: String,
    relay_secret: String,
    node: PathBuf,
    oauth_dir: PathBuf,
    tls: Arc<rustls::ClientConfig>,
    child: Option<Child>,
}

impl OidcServer {
    /// Starts a private server on a free port and waits until it accepts requests.
    pub fn start(opts: OidcOptions) -> Result<OidcServer> {
        let node = find_program("node").context(
            "Node.js is not installed; the sign-in tests need Node.js 20.19+ (run scripts/setup \
             --test)",
        )?;
        let oauth_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("oauth");
        ensure!(
            oauth_dir
                .join("node_modules/oidc-provider/package.json")
                .is_file(),
            "oidc-provider is not installed in {}: run scripts/setup --test (or `npm ci` there)",
            oauth_dir.display()
        );
        let ttl = opts.access_token_ttl.as_secs();
        ensure!(ttl >= 1, "Access tokens live at least a second");

        let dir = tempfile::Builder::new()
            .prefix("pushmail-oidc-")
            .tempdir()
            .context("Cannot create a temporary directory for the authorization server")?;
        let tls_files = make_tls(&dir.path().join("tls"))?;
        let introspection_secret = random_token(24)?;
        let relay_secret = random_token(24)?;
        let stdout = File::create(dir.path().join("stdout.jsonl"))
            .context("Cannot create the authorization server's log")?;
        let stderr = File::create(dir.path().join("stderr.log"))
            .context("Cannot create the authorization server's stderr file")?;
        let started = Instant::now();
        let mut command = Command::new(&node);
        if let Some(redirect) = &opts.relay_redirect {
            command
                .env("OIDC_RELAY_REDIRECT", redirect)
                .env("OIDC_RELAY_SECRET", &relay_secret);
        }
        let child = command
            .arg(oauth_dir.join("server.mjs"))
            .current_dir(&oauth_dir)
            .env("OIDC_CERT", &tls_files.cert)
            .env("OIDC_KEY", &tls_files.key)
            .env("OIDC_PORT", "0")
            .env("OIDC_ACCESS_TOKEN_TTL", ttl.to_string())
            .env(
                "OIDC_ROTATE_REFRESH_TOKENS",
                if opts.rotate_refresh_tokens {
                    "true"
                } else {
                    "false"
                },
            )
            .env("OIDC_INTROSPECTION_SECRET", &introspection_secret)
            .stdin(Stdio::null())
            // Files, never pipes: nobody would drain a pipe while the test runs.
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .with_context(|| format!("Cannot start {}", node.display()))?;
        let tls = client_config(&tls_files.ca)?;
        let mut server = OidcServer {
            ca: tls_files.ca,
            port: 0,
            issuer: String::new(),
            introspection_secret,
            relay_secret,
            node,
            oauth_dir,
            tls,
            child: Some(child),
            dir,
        };
        server.wait_ready(started).with_context(|| {
            format!(
                "The authorization server did not start:\n{}",
                server.stderr()
            )
        })?;
        Ok(server)
    }

    /// `https://127.0.0.1:PORT`, as the server declares itself (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The secret of the relay's web client ([`OidcOptions::relay_redirect`]).
    pub fn relay_client_secret(&self) -> &str {
        &self.relay_secret
    }

    pub fn authorization_endpoint(&self) -> String {
        format!("{}/auth", self.issuer)
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// RFC 7662 introspection (oidc-provider's path).
    pub fn introspection_endpoint(&self) -> String {
        format!("{}/token/introspection", self.issuer)
    }

    /// RFC 7009 revocation (oidc-provider's path).
    pub fn revocation_endpoint(&self) -> String {
        format!("{}/token/revocation", self.issuer)
    }

    /// PEM file of the CA that issued the server's certificate: what a client must trust.
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// The instance's directory (TLS files, `stdout.jsonl`, `stderr.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Id and secret of the confidential client allowed to introspect tokens (for Dovecot).
    pub fn introspection_client(&self) -> (&str, &str) {
        ("dovecot", &self.introspection_secret)
    }

    /// The server's process group (= Node's pid).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Every event line the server printed so far, parsed (see `server.mjs`).
    pub fn events(&self) -> Vec<Value> {
        fs::read_to_string(self.dir().join("stdout.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|v| v.get("event").is_some())
            .collect()
    }

    /// Every request to the token endpoint so far, in order.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        self.events()
            .iter()
            .filter(|e| e.get("event").and_then(Value::as_str) == Some("token"))
            .map(|e| TokenRequest {
                grant_type: text(e, "grant_type"),
                client_id: text(e, "client_id"),
                sub: text(e, "sub"),
                result: text(e, "result").unwrap_or_default(),
            })
            .collect()
    }

    /// How many times Dovecot (or anyone) asked about a token, and how many were active.
    pub fn introspections(&self) -> (usize, usize) {
        let all: Vec<bool> = self
            .events()
            .iter()
            .filter(|e| e.get("event").and_then(Value::as_str) == Some("introspection"))
            .map(|e| e.get("active").and_then(Value::as_bool) == Some(true))
            .collect();
        (all.len(), all.iter().filter(|a| **a).count())
    }

    /// Revocations of whole grants so far: `(sub, by)` where `by` is `refresh_token_reuse`,
    /// `code_reuse` or `test_hook`.
    pub fn grant_revocations(&self) -> Vec<(Option<String>, String)> {
        self.events()
            .iter()
            .filter(|e| e.get("event").and_then(Value::as_str) == Some("grant_revoked"))
            .map(|e| {
                (
                    e.get("sub").and_then(Value::as_str).map(str::to_owned),
                    e.get("by")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// Revokes every grant of `sub` (its access and refresh tokens stop working at once), as a
    /// user removing the app's access at their provider would. Returns how many there were.
    pub fn revoke(&self, sub: &str) -> Result<usize> {
        let reply = self.https(
            "POST",
            &format!("/test/revoke?sub={}", percent_encode(sub)),
            None,
            &[],
        )?;
        ensure!(reply.status == 200, "Revoke hook answered {}", reply.status);
        reply
            .json()?
            .get("revoked")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .context("Revoke hook gave no count")
    }

    /// Grants of `sub` that are still alive.
    pub fn live_grants(&self, sub: &str) -> Result<usize> {
        let reply = self.https(
            "GET",
            &format!("/test/grants?sub={}", percent_encode(sub)),
            None,
            &[],
        )?;
        ensure!(reply.status == 200, "Grants hook answered {}", reply.status);
        reply
            .json()?
            .get("grants")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .context("Grants hook gave no count")
    }

    /// A fresh authorization request for the public client with `redirect_uri` (e.g.
    /// `http://127.0.0.1:PORT/callback`) and every scope of [`SCOPES`].
    pub fn authorization_request(&self, redirect_uri: &str) -> Result<AuthorizationRequest> {
        let code_verifier = random_token(32)?;
        let state = random_token(16)?;
        let challenge = URL_SAFE_NO_PAD.encode(sha256(code_verifier.as_bytes())?);
        let url = format!(
            "{}?client_id={CLIENT_ID}&response_type=code&redirect_uri={}&scope={}&state={state}\
             &code_challenge={challenge}&code_challenge_method=S256&prompt=consent",
            self.authorization_endpoint(),
            percent_encode(redirect_uri),
            percent_encode(SCOPES),
        );
        Ok(AuthorizationRequest {
            url,
            state,
            code_verifier,
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    /// The headless user: opens `authorization_url`, logs in as `login` (any password) and
    /// approves (or cancels) the consent page, with `tests/oauth/sign-in.mjs`. Returns where
    /// the server sent the browser; requests that URL too with [`UserAgentOptions::follow`].
    pub fn user_agent(
        &self,
        authorization_url: &str,
        login: &str,
        opts: &UserAgentOptions,
    ) -> Result<SignInOutcome> {
        let mut cmd = Command::new(&self.node);
        cmd.arg(self.oauth_dir.join("sign-in.mjs"))
            .arg("--url")
            .arg(authorization_url)
            .arg("--login")
            .arg(login)
            .arg("--ca")
            .arg(&self.ca);
        if opts.deny {
            cmd.arg("--deny");
        }
        if opts.follow {
            cmd.arg("--follow");
        }
        let out = run(&mut cmd, SIGN_IN_TIMEOUT)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: Value = serde_json::from_str(stdout.trim()).with_context(|| {
            format!(
                "sign-in.mjs printed no report ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let followed = report
            .get("followed")
            .filter(|v| v.is_object())
            .map(|f| FollowedRedirect {
                status: f
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0),
                content_type: text(f, "content_type"),
                cache_control: text(f, "cache_control"),
                body: text(f, "body").unwrap_or_default(),
            });
        Ok(SignInOutcome {
            redirect: text(&report, "redirect"),
            pages: report
                .get("pages")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            followed,
            error_page: text(&report, "error_page"),
        })
    }

    /// The headless user signs in on the pages `authorization_url` leads to and follows the
    /// redirect to the application's listener, which must answer 200: the page it showed.
    pub fn sign_in_following(
        &self,
        authorization_url: &str,
        login: &str,
    ) -> Result<FollowedRedirect> {
        let outcome = self.user_agent(
            authorization_url,
            login,
            &UserAgentOptions {
                follow: true,
                ..UserAgentOptions::default()
            },
        )?;
        let followed = outcome
            .followed
            .clone()
            .with_context(|| format!("redirect not followed: {outcome:?}"))?;
        ensure!(followed.status == 200, "the listener answered {outcome:?}");
        Ok(followed)
    }

    /// Exchanges the `code` of a sign-in that answered `request` (PKCE verifier included).
    /// A refusal is an error carrying a [`TokenError`].
    pub fn exchange_code(&self, request: &AuthorizationRequest, code: &str) -> Result<Tokens> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("code", code),
            ("code_verifier", &request.code_verifier),
            ("redirect_uri", &request.redirect_uri),
        ])
    }

    /// The refresh grant. A refusal is an error carrying a [`TokenError`].
    pub fn refresh(&self, refresh_token: &str) -> Result<Tokens> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", refresh_token),
        ])
    }

    /// The whole sign-in for `user` in one call (request, pages, state and `iss` checked, code
    /// exchanged): tokens for tests whose subject is what comes after.
    pub fn tokens_for(&self, user: &str) -> Result<Tokens> {
        // Nobody listens on this port: the user agent stops at the redirect.
        let request = self.authorization_request("http://127.0.0.1:9/callback")?;
        let outcome = self.user_agent(&request.url, user, &UserAgentOptions::default())?;
        ensure!(
            outcome.redirect_param("state").as_deref() == Some(request.state.as_str()),
            "Sign-in came back with another state: {outcome:?}"
        );
        ensure!(
            outcome.redirect_param("iss").as_deref() == Some(self.issuer()),
            "Sign-in came back without our iss: {outcome:?}"
        );
        let code = outcome
            .redirect_param("code")
            .with_context(|| format!("Sign-in gave no code: {outcome:?}"))?;
        self.exchange_code(&request, &code)
    }

    /// POSTs a form to the token endpoint; 200 → tokens, 4xx → [`TokenError`].
    fn token_request(&self, form: &[(&str, &str)]) -> Result<Tokens> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let reply = self.https(
            "POST",
            "/token",
            Some(&body),
            &[("Content-Type", "application/x-www-form-urlencoded")],
        )?;
        let json = reply.json()?;
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        if reply.status != 200 {
            return Err(TokenError {
                status: reply.status,
                error: text("error").unwrap_or_default(),
                description: text("error_description"),
            }
            .into());
        }
        Ok(Tokens {
            access_token: text("access_token").context("Token response without access_token")?,
            refresh_token: text("refresh_token"),
            id_token: text("id_token"),
            expires_in: json.get("expires_in").and_then(Value::as_u64),
            scope: text("scope"),
        })
    }

    /// One HTTP/1.1 exchange over TLS (trusting only this server's CA), `Connection: close`.
    /// A hand-made client rather than a crate: four requests' worth of HTTP, and the harness
    /// stays free of the HTTP stack the code under test uses.
    fn https(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<HttpReply> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).with_context(|| {
            format!(
                "Cannot connect to the authorization server on {}",
                self.port
            )
        })?;
        tcp.set_read_timeout(Some(HTTP_TIMEOUT))
            .and_then(|()| tcp.set_write_timeout(Some(HTTP_TIMEOUT)))
            .context("Cannot set socket timeouts")?;
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1")
            .context("Bad server name")?
            .to_owned();
        let conn =
            rustls::ClientConnection::new(self.tls.clone(), name).context("Cannot start TLS")?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        let body = body.unwrap_or("");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Accept: application/json\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream
            .write_all(request.as_bytes())
            .and_then(|()| stream.flush())
            .with_context(|| format!("Cannot send {method} {}", strip_query(path)))?;
        let mut raw = Vec::new();
        match stream.read_to_end(&mut raw) {
            Ok(_) => {}
            // A peer that closes without close_notify: what arrived is the whole answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("No answer to {method} {}", strip_query(path)));
            }
        }
        HttpReply::parse(&raw)
    }

    fn wait_ready(&mut self, started: Instant) -> Result<()> {
        loop {
            if let Some(child) = &mut self.child
                && let Some(status) = child
                    .try_wait()
                    .context("Cannot poll the authorization server")?
            {
                bail!("node exited with {status}");
            }
            let ready = self
                .events()
                .into_iter()
                .find(|e| e.get("event").and_then(Value::as_str) == Some("ready"));
            if let Some(ready) = ready {
                self.port = ready
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .context("Ready line without a port")?;
                self.issuer = ready
                    .get("issuer")
                    .and_then(Value::as_str)
                    .context("Ready line without an issuer")?
                    .to_owned();
                return Ok(());
            }
            ensure!(
                started.elapsed() < START_TIMEOUT,
                "No ready line within {START_TIMEOUT:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr(&self) -> String {
        let text = fs::read_to_string(self.dir().join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl fmt::Debug for OidcServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcServer")
            .field("issuer", &self.issuer)
            .field("dir", &self.dir.path())
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pgid = child.id();
        signal_group(pgid, "KILL");
        let _ = child.wait();
        if let Err(left) = wait_group_gone(pgid, KILL_TIMEOUT) {
            eprintln!("pushmail-tests: authorization server processes survived SIGKILL: {left:?}");
        }
    }
}

struct HttpReply {
    status: u16,
    body: Vec<u8>,
}

impl HttpReply {
    fn parse(raw: &[u8]) -> Result<HttpReply> {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .context("HTTP answer without a header end")?;
        let head = String::from_utf8_lossy(&raw[..split]);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .context("HTTP answer without a status")?;
        let chunked = lines.any(|l| {
            l.to_ascii_lowercase()
                .replace(' ', "")
                .starts_with("transfer-encoding:chunked")
        });
        let rest = &raw[split + 4..];
        let body = if chunked {
            dechunk(rest)?
        } else {
            rest.to_vec()
        };
        Ok(HttpReply { status, body })
    }

    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "HTTP {} with a body that is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            )
        })
    }
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("Chunk without a size line")?;
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("Bad chunk size {size_text:?}"))?;
        data = &data[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        ensure!(data.len() >= size + 2, "Chunk cut short");
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn client_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(
        &mut fs::read(ca)
            .with_context(|| format!("Cannot read {}", ca.display()))?
            .as_slice(),
    ) {
        roots
            .add(cert.context("Bad CA PEM")?)
            .context("Cannot trust the test CA")?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// SHA-256 through the TLS stack's own provider, so the harness needs no hash crate.
fn sha256(data: &[u8]) -> Result<Vec<u8>> {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
        .tls13()
        .context("TLS 1.3 suite missing")?;
    Ok(suite.common.hash_provider.hash(data).as_ref().to_vec())
}

/// `n` random bytes from the kernel, base64url without padding (PKCE verifiers, states,
/// secrets).
fn random_token(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("Cannot read /dev/urandom")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%XX` escapes and `+` (form encoding) decoded; invalid escapes kept as they are.
pub(crate) fn percent_decode(text: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        if let Some(b) = escaped.and_then(|v| u8::try_from(v).ok()) {
            out.push(b);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// The XOAUTH2 SASL message (Google's format): `user=U^Aauth=Bearer T^A^A`, raw (not base64).
pub fn xoauth2_blob(user: &str, access_token: &str) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {access_token}\x01\x01").into_bytes()
}

/// The OAUTHBEARER SASL message (RFC 7628 §3.1): GS2 header with the authzid, host, port and
/// the bearer token, raw (not base64).
pub fn oauthbearer_blob(user: &str, host: &str, port: u16, access_token: &str) -> Vec<u8> {
    format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {access_token}\x01\x01")
        .into_bytes()
}

/// Base64 as IMAP's AUTHENTICATE wants it (standard alphabet, padded).
pub fn base64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes a base64 SASL challenge (e.g. Dovecot's JSON error after a refused token).
pub fn unbase64(text: &str) -> Result<Vec<u8>> {
    STANDARD
        .decode(text.trim())
        .context("Challenge is not base64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_rfc7636s_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()).unwrap_or_default());
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn percent_coding_round_trips() {
        let text = "http://127.0.0.1:9/callback?a=b c&d=é";
        assert_eq!(percent_decode(&percent_encode(text)), text);
        assert_eq!(percent_encode("openid email"), "openid%20email");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
        let reply = HttpReply::parse(raw).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, b"{\"a\":1}");
    }

    #[test]
    fn sign_in_outcomes_hide_the_code() {
        let outcome = SignInOutcome {
            redirect: Some("http://127.0.0.1:9/callback?code=SECRET&state=s%20t".to_owned()),
            pages: vec![],
            followed: None,
            error_page: None,
        };
        assert_eq!(outcome.redirect_param("state").as_deref(), Some("s t"));
        assert!(!format!("{outcome:?}").contains("SECRET"));
    }
}
