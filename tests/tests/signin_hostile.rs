//! Sign-in against the servers that behave oddly: Exchange ending a session because the token
//! expired, Microsoft 365 refusing a password, a server refusing a token with RFC 7628's error
//! challenge, and the promise that no token ever reaches an output or a file.
//!
//! The tokens are real (oidc-provider, signed in with `pushmail-cli account login` and the
//! headless user agent, as `signin.rs` does); the IMAP server is the scripted one, because the
//! point is what it says — and because it records every `AUTHENTICATE` line, so a test knows
//! the exact access tokens it must never find anywhere.
//!
//! Runs inside `scripts/desktop-session` (keyring, D-Bus), like every test of `scripts/test`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Login, Pushmail, files_containing, keyring_lookup, unique_id};
use pushmail_tests::browser::UrlHandler;
use pushmail_tests::oidc::{base64, unbase64};
use pushmail_tests::{CertKind, Listen, OidcOptions, OidcServer, Script, ScriptedServer, Step};
use serde_json::Value;

/// From `account login` starting to the URL reaching the test browser.
const URL_OPENED: Duration = Duration::from_secs(20);
/// From the redirect to the CLI's exit (one code exchange, one keyring write).
const LOGIN_DONE: Duration = Duration::from_secs(20);
/// From `watch` starting (or a reconnect) to `push`: a token refresh, TLS, a login.
const TO_PUSH: Duration = Duration::from_secs(20);
/// From delivery to `new_mail`.
const TO_MAIL: Duration = Duration::from_secs(15);
/// How long a duplicate announcement has to show up.
const NO_DUPLICATE: Duration = Duration::from_secs(2);
/// From the goodbye to the second `push`: the reconnect is immediate (no backoff wait, which
/// is [`GOODBYE_BACKOFF_MIN_SECS`] here), so a few seconds cover the refresh and the login.
const SILENT_RECONNECT: Duration = Duration::from_secs(6);
/// The goodbye test's smallest backoff: a reconnect that waited one would take this long.
const GOODBYE_BACKOFF_MIN_SECS: u64 = 10;
/// How long the first session idles before Exchange's goodbye.
const BEFORE_GOODBYE: Duration = Duration::from_millis(1500);
/// From `watch` starting to the state event that names the problem.
const TO_PROBLEM: Duration = Duration::from_secs(20);
/// After a permanent refusal: how long the logins are counted.
const QUIET_WINDOW: Duration = Duration::from_secs(8);

/// Exchange's goodbye to a session whose access token expired.
const TOKEN_EXPIRED_BYE: &str = "* BYE Session invalidated - AccessTokenExpired\r\n";
/// Microsoft 365's answer to a password.
const BASIC_AUTH_DISABLED: &str =
    "{tag} NO [AUTHENTICATIONFAILED] LOGIN failed. Basic authentication is disabled\r\n";
/// Capabilities of a server that takes only tokens, Google-style.
const XOAUTH2_ONLY: &str = "IMAP4rev1 AUTH=XOAUTH2 SASL-IR IDLE";
/// RFC 7628's mechanism only.
const OAUTHBEARER_ONLY: &str = "IMAP4rev1 AUTH=OAUTHBEARER SASL-IR IDLE";

/// An authorization server, a scripted IMAP server (implicit TLS) and a private Pushmail with
/// one sign-in account on it.
struct Bed {
    oidc: OidcServer,
    server: ScriptedServer,
    pm: Pushmail,
    handler: UrlHandler,
    id: String,
    user: String,
    /// Extra environment of every Pushmail process (e.g. `RUST_LOG`).
    extra_env: Vec<(String, String)>,
}

impl Bed {
    fn start(
        backoff_min_secs: u64,
        script: impl Fn(usize) -> Script + Send + Sync + 'static,
    ) -> Bed {
        let oidc = OidcServer::start(OidcOptions::default()).expect("oidc-provider");
        let server = ScriptedServer::start(Listen::Tls(CertKind::Valid), script).expect("server");
        let pm = Pushmail::new();
        let handler = UrlHandler::install().expect("test browser");
        let id = unique_id("hostile-oauth");
        let user = unique_id("dave");
        // The account's ca_file trusts the scripted server's CA and the provider's.
        let bundle = pm.dir.path().join("ca-bundle.pem");
        let pems = [server.ca_file(), oidc.ca_file()]
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("CA"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&bundle, pems).expect("bundle");
        let block = format!(
            "[[accounts]]\nid = \"{id}\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"tls\"\n\
             username = \"{user}\"\nemail = \"{user}@example.org\"\nca_file = \"{ca}\"\n\
             auth = \"oauth2\"\noauth_provider = \"custom\"\noauth_client_id = \"pushmail\"\n\
             oauth_authorization_endpoint = \"{auth}\"\noauth_token_endpoint = \"{token}\"\n\
             oauth_scopes = [\"openid\", \"offline_access\", \"email\", \"imap\"]\n\
             oauth_issuer = \"{issuer}\"\nbackoff_min_secs = {backoff_min_secs}\n\
             backoff_max_secs = {max}\n",
            port = server.port(),
            ca = bundle.display(),
            auth = oidc.authorization_endpoint(),
            token = oidc.token_endpoint(),
            issuer = oidc.issuer(),
            max = backoff_min_secs * 2,
        );
        pm.write_config(&[block]);
        for d in ["home", "cache"] {
            std::fs::create_dir_all(pm.dir.path().join(d)).expect("mkdir");
        }
        Bed {
            oidc,
            server,
            pm,
            handler,
            id,
            user,
            extra_env: Vec::new(),
        }
    }

    /// Environment of every Pushmail process here: the test browser, and every place a
    /// process could write (state, home, cache) inside this test's directory. The refresh
    /// lock lives in the state home, so all of them share it.
    fn env(&self) -> Vec<(String, String)> {
        let dir = |d: &str| self.pm.dir.path().join(d).display().to_string();
        let mut env = self.handler.env();
        env.push(("XDG_STATE_HOME".into(), dir("state")));
        env.push(("HOME".into(), dir("home")));
        env.push(("XDG_CACHE_HOME".into(), dir("cache")));
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// The test's directories: Pushmail's (config, state, outputs, home, cache) and the test
    /// browser's (`XDG_CONFIG_HOME`, `XDG_DATA_HOME` of every process).
    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.pm.dir.path().to_path_buf()];
        for (k, v) in self.handler.env() {
            if k == "XDG_CONFIG_HOME" || k == "XDG_DATA_HOME" {
                dirs.push(PathBuf::from(v));
            }
        }
        dirs
    }

    /// A whole sign-in: `account login` (xdg-open reaching the test browser), the headless user
    /// on the provider's pages, the redirect followed. Returns the CLI's stdout and stderr.
    fn sign_in(&self) -> (String, String) {
        let mut login = Login::spawn(
            &self.pm.config(),
            &self.id,
            &self.env(),
            self.pm.dir.path(),
            0,
        );
        let url = self.handler.wait_url(0, URL_OPENED).expect("URL opened");
        self.oidc
            .sign_in_following(&url, &self.user)
            .expect("signed in at the provider");
        let code = login.wait(LOGIN_DONE);
        let output = login.output();
        assert_eq!(code, Some(0), "login failed: {output:?}");
        assert!(output.0.contains("Signed in"), "{output:?}");
        assert!(
            self.refresh_token().is_some(),
            "refresh token in the keyring"
        );
        // Signing in talks to the provider only.
        assert_eq!(self.server.connections(), 0);
        output
    }

    fn refresh_token(&self) -> Option<String> {
        keyring_lookup(&format!("{}:oauth2", self.id))
    }

    fn watch(&self) -> common::Watch {
        let env = self.env();
        let env = common::env_refs(&env);
        self.pm.watch_args(&["--power-bus", "off"], &env)
    }

    fn cli(&self, args: &[&str]) -> common::Output {
        let env = self.env();
        let env = common::env_refs(&env);
        self.pm.cli(args, "", &env)
    }

    /// Requests to the provider's token endpoint so far (code exchange and refreshes).
    fn token_requests(&self) -> usize {
        self.oidc.token_requests().len()
    }

    /// Every initial response the server received (base64, as sent), in order.
    fn initial_responses(&self) -> Vec<String> {
        self.server
            .records()
            .into_iter()
            .flat_map(|r| r.sasl_responses)
            .collect()
    }
}

/// The access token inside a base64 XOAUTH2 or OAUTHBEARER initial response
/// (`…\x01auth=Bearer TOKEN\x01\x01`).
fn bearer_token(initial_response: &str) -> String {
    let raw = unbase64(initial_response).expect("base64");
    let raw = String::from_utf8(raw).expect("UTF-8");
    raw.split('\x01')
        .find_map(|field| field.strip_prefix("auth=Bearer "))
        .unwrap_or_else(|| panic!("no `auth=Bearer` in {raw:?}"))
        .to_owned()
}

/// `state` events seen so far, as (state, event).
fn states(w: &common::Watch) -> Vec<(String, Value)> {
    w.seen
        .iter()
        .filter(|(_, v)| v["event"] == "state")
        .map(|(_, v)| {
            (
                v["state"].as_str().unwrap_or_default().to_owned(),
                v.clone(),
            )
        })
        .collect()
}

/// (1) Exchange's goodbye: the server ends an idling session with `* BYE Session invalidated -
/// AccessTokenExpired`. The watcher reconnects at once and without a word (no `backoff` or
/// `error` between the two `push` states), logs in with a token it refreshed for it (a new
/// token request, a different bearer token on the wire), and the message delivered across the
/// goodbye is announced exactly once.
#[test]
fn exchanges_token_expired_goodbye_is_a_silent_reconnect_with_a_fresh_token() {
    let bed = Bed::start(GOODBYE_BACKOFF_MIN_SECS, |n| {
        let script = Script::new().capabilities(XOAUTH2_ONLY).greet();
        if n == 0 {
            script
                .serve_until("IDLE")
                .send("+ idling\r\n")
                .pause(BEFORE_GOODBYE)
                .deliver("Across the goodbye")
                .send(TOKEN_EXPIRED_BYE)
                .close()
        } else {
            script.then(Step::Serve)
        }
    });
    bed.sign_in();
    let mut w = bed.watch();
    w.wait_state("push", TO_PUSH);
    let before_goodbye = bed.token_requests();
    let first_push = w.seen.len();

    // The goodbye, then a second session.
    let started = Instant::now();
    w.wait_for(TO_PUSH, "push after the goodbye", |v| {
        v["event"] == "state" && v["state"] == "push"
    });
    let reconnect = started.elapsed();
    eprintln!("goodbye → push again: {reconnect:?}");
    assert!(
        bed.server.record(0).is_some_and(|r| r.finished),
        "the second push came from a second session"
    );
    let between: Vec<&Value> = w.seen[first_push..].iter().map(|(_, v)| v).collect();
    assert!(
        !between.iter().any(|v| v["event"] == "state"
            && (v["state"] == "backoff" || v["state"] == "error" || v["state"] == "auth_failed")),
        "a silent reconnect: {between:#?}"
    );
    assert!(
        reconnect < SILENT_RECONNECT,
        "reconnected at once, not after a backoff of {GOODBYE_BACKOFF_MIN_SECS} s: {reconnect:?}"
    );

    // Announced by the second session's catch-up, before it said `push` (seen above).
    assert!(
        w.count_new_mail("Across the goodbye") == 1,
        "caught up before push: {:#?}",
        w.new_mails()
    );
    bed.server.deliver("After the goodbye");
    w.wait_new_mail("After the goodbye", TO_MAIL);
    w.collect_for(NO_DUPLICATE);
    assert_eq!(w.count_new_mail("Across the goodbye"), 1);
    assert_eq!(w.count_new_mail("After the goodbye"), 1);

    // Both logins were token logins; the second one's token was fetched after the goodbye.
    let responses = bed.initial_responses();
    assert_eq!(responses.len(), 2, "{responses:?}");
    let (first, second) = (bearer_token(&responses[0]), bearer_token(&responses[1]));
    assert_ne!(first, second, "the reconnect used a fresh token");
    assert!(
        bed.token_requests() > before_goodbye,
        "a refresh after the goodbye: {:?}",
        bed.oidc.token_requests()
    );
    assert!(bed.oidc.token_requests().iter().all(|r| r.ok()));
    assert!(bed.oidc.grant_revocations().is_empty());
    assert!(
        !bed.server
            .records()
            .iter()
            .flat_map(|r| r.lines.iter())
            .any(|l| l.to_ascii_uppercase().contains(" LOGIN ")),
        "never a password login"
    );
    assert!(w.stop());
}

/// (2) Microsoft 365 answering a password with `NO … Basic authentication is disabled`: the
/// state event names a sign-in problem (kind `signin`) whose hint says to switch the account to
/// signing in, and the account halts: no further password is sent.
#[test]
fn basic_authentication_disabled_tells_the_user_to_sign_in_and_does_not_hammer() {
    let server = ScriptedServer::start(Listen::Plain, |_| {
        Script::new()
            .greet()
            .serve_until("LOGIN")
            .send(BASIC_AUTH_DISABLED)
            .then(Step::Serve)
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("basic-off");
    let pw = pm.password_file("an-app-password");
    pm.write_config(&[format!(
        "[[accounts]]\nid = \"{id}\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n\
         username = \"erin@example.org\"\npassword_command = [\"cat\", \"{pw}\"]\n\
         backoff_min_secs = 1\nbackoff_max_secs = 2\n",
        port = server.port(),
        pw = pw.display(),
    )]);
    let mut w = pm.watch(&[]);
    let (_, event) = w.wait_for(TO_PROBLEM, "the sign-in problem", |v| {
        v["event"] == "state" && v["problem"]["kind"] == "signin"
    });
    eprintln!("state after `Basic authentication is disabled`: {event}");
    let detail = event["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("no longer accepts passwords"),
        "says what happened: {event}"
    );
    assert!(
        detail.contains("Switch this account to signing in"),
        "says what to do: {event}"
    );
    assert!(!detail.contains("an-app-password"), "{event}");

    let logins = |s: &ScriptedServer| s.records().iter().filter(|r| r.credentials).count();
    let at_problem = logins(&server);
    w.collect_for(QUIET_WINDOW);
    let more = logins(&server) - at_problem;
    let states: Vec<String> = states(&w).into_iter().map(|(s, _)| s).collect();
    eprintln!(
        "logins in the {QUIET_WINDOW:?} after the problem: {more}; state {:?}; states: {states:?}",
        event["state"]
    );
    // A refused password counts towards a lockout: the account halts (`auth_failed`) and
    // sends no further login until the user changes it.
    assert_eq!(event["state"], "auth_failed", "{event}");
    assert_eq!(more, 0, "{more} logins in {QUIET_WINDOW:?}");
    assert!(w.stop());
}

/// (3) No token anywhere: at `RUST_LOG=trace`, a sign-in (`account login`), `account test` and
/// `watch` (with a message announced) leave neither an access token (read from the server's
/// record of every `AUTHENTICATE`), nor the base64 SASL message carrying it, nor any refresh
/// token the keyring held (each rotation) in any stdout or stderr, nor in any file of the
/// test's directories (config, state database, refresh lock, home, cache, the browser's
/// config and data).
#[test]
fn no_token_reaches_an_output_or_a_file_at_trace_level() {
    let mut bed = Bed::start(1, |_| {
        Script::new()
            .capabilities("IMAP4rev1 AUTH=OAUTHBEARER AUTH=XOAUTH2 SASL-IR IDLE")
            .greet()
            // `account test` lists the folders: INBOX is there.
            .serve_until("LIST")
            .send("* LIST () \"/\" INBOX\r\n{tag} OK List completed\r\n")
            .then(Step::Serve)
    });
    bed.extra_env.push(("RUST_LOG".into(), "trace".into()));
    let mut outputs: Vec<(&str, String)> = Vec::new();
    let mut refresh_tokens = Vec::new();

    let (out, err) = bed.sign_in();
    outputs.push(("account login stdout", out));
    outputs.push(("account login stderr", err));
    refresh_tokens.push(bed.refresh_token().unwrap());

    let test = bed.cli(&["account", "test", &bed.id]);
    assert_eq!(test.code, Some(0), "{test:?}");
    outputs.push(("account test stdout", test.stdout));
    outputs.push(("account test stderr", test.stderr));
    refresh_tokens.push(bed.refresh_token().unwrap());

    let mut w = bed.watch();
    w.wait_state("push", TO_PUSH);
    bed.server.deliver("Traced");
    w.wait_new_mail("Traced", TO_MAIL);
    assert!(w.stop());
    outputs.push(("watch stdout", w.stdout_raw()));
    outputs.push(("watch stderr", w.stderr()));
    refresh_tokens.push(bed.refresh_token().unwrap());

    // The trace level was really on (else this proves nothing).
    let traced = outputs
        .iter()
        .filter(|(what, text)| what.ends_with("stderr") && text.contains("TRACE"))
        .count();
    assert_eq!(traced, 3, "trace output: {outputs:#?}");

    let responses = bed.initial_responses();
    assert_eq!(responses.len(), 2, "account test and watch: {responses:?}");
    let mut secrets: Vec<(String, String)> = Vec::new();
    for (n, ir) in responses.iter().enumerate() {
        let raw = String::from_utf8(unbase64(ir).unwrap()).unwrap();
        secrets.push((format!("access token {n}"), bearer_token(ir)));
        secrets.push((format!("SASL message {n} (base64)"), ir.clone()));
        secrets.push((format!("SASL message {n}"), raw));
    }
    refresh_tokens.dedup();
    assert!(refresh_tokens.len() >= 2, "the refresh token rotated");
    for (n, t) in refresh_tokens.iter().enumerate() {
        secrets.push((format!("refresh token {n}"), t.clone()));
    }
    let dirs = bed.dirs();
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} looks like a token");
        for (name, text) in &outputs {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{what} in {name}"));
            }
        }
        let dirs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
        for file in files_containing(&dirs, secret) {
            leaks.push(format!("{what} in {}", file.display()));
        }
    }
    assert!(leaks.is_empty(), "leaked: {leaks:#?}");
    let sizes: Vec<(&str, usize)> = outputs.iter().map(|(n, t)| (*n, t.len())).collect();
    eprintln!(
        "searched {} secrets in {sizes:?} and {dirs:?}",
        secrets.len()
    );
}

/// A token login refused with RFC 7628's error challenge: `+ <base64 JSON>`, the client's
/// answer, then `NO`.
fn refusing(caps: &str) -> impl Fn(usize) -> Script + Send + Sync + 'static {
    let caps = caps.to_owned();
    let challenge = format!(
        "+ {}\r\n",
        base64(br#"{"status":"invalid_token","schemes":"bearer"}"#)
    );
    move |_| {
        Script::new()
            .capabilities(&caps)
            .greet()
            .serve_until("AUTHENTICATE")
            .send(challenge.clone())
            .read()
            .send("{tag} NO [AUTHENTICATIONFAILED] Authentication failed\r\n")
            .then(Step::Serve)
    }
}

/// The client's line after the error challenge on connection `n`.
fn answer_to_challenge(server: &ScriptedServer, n: usize) -> String {
    let lines = server.record(n).expect("connection").lines;
    let at = lines
        .iter()
        .position(|l| l.to_ascii_uppercase().contains(" AUTHENTICATE "))
        .unwrap_or_else(|| panic!("no AUTHENTICATE: {lines:?}"));
    lines
        .get(at + 1)
        .cloned()
        .unwrap_or_else(|| panic!("no answer to the challenge: {lines:?}"))
}

/// (4) The server's error challenge: the watcher answers it as each mechanism's RFC says (an
/// empty line for XOAUTH2, `AQ==` — a single 0x01 — for OAUTHBEARER) so the server can end
/// with `NO` instead of the login hanging, tries once more with a token refreshed for it, and
/// after the second refusal asks the user to sign in again and stops: two connections, no loop.
#[test]
fn an_error_challenge_is_answered_and_retried_once_with_a_fresh_token_then_reported() {
    let bed = Bed::start(1, refusing(XOAUTH2_ONLY));
    bed.sign_in();
    let mut first_conn = 0;
    for (caps, answer) in [(XOAUTH2_ONLY, ""), (OAUTHBEARER_ONLY, "AQ==")] {
        bed.server.set_script(refusing(caps));
        let tokens_before = bed.token_requests();
        let mut w = bed.watch();
        let started = Instant::now();
        let (_, event) = w.wait_for(TO_PROBLEM, "the refusal reported", |v| {
            v["event"] == "state" && v["problem"].is_object()
        });
        eprintln!("{caps}: reported after {:?}: {event}", started.elapsed());
        // A fresh token refused too: only a new sign-in helps.
        assert_eq!(event["problem"]["kind"], "signin_required", "{event}");
        assert_eq!(event["state"], "signin_required", "{event}");
        w.collect_for(QUIET_WINDOW);
        assert_eq!(
            bed.server.connections() - first_conn,
            2,
            "{caps}: one login, one retry, then nothing: {:#?}",
            bed.server.records()
        );
        for n in first_conn..first_conn + 2 {
            assert_eq!(answer_to_challenge(&bed.server, n), answer, "{caps}");
            let r = bed.server.record(n).unwrap();
            assert!(r.finished || r.client_left, "{caps}: no hang: {r:?}");
        }
        let responses: Vec<String> = (first_conn..first_conn + 2)
            .map(|n| bed.server.record(n).unwrap().sasl_responses[0].clone())
            .collect();
        assert_ne!(
            bearer_token(&responses[0]),
            bearer_token(&responses[1]),
            "{caps}: the retry used a fresh token"
        );
        // The watcher's first token and the one refreshed after the refusal.
        assert_eq!(bed.token_requests() - tokens_before, 2, "{caps}");
        assert!(bed.oidc.token_requests().iter().all(|r| r.ok()));
        let states = states(&w);
        assert!(
            !states.iter().any(|(s, _)| s == "push"),
            "{caps}: {states:?}"
        );
        assert!(w.stop());
        first_conn = bed.server.connections();
    }
    assert!(bed.oidc.grant_revocations().is_empty());
}
