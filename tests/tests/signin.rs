//! OAuth2 sign-in from `pushmail-cli`, against the real components: oidc-provider as the
//! authorization server, Dovecot taking only its tokens (introspection), gnome-keyring, the
//! CLI's real `xdg-open` path reaching a test browser registered in the private desktop session
//! ([`UrlHandler`]), the headless user agent and Debian's Chromium on the sign-in pages.
//!
//! Runs inside `scripts/desktop-session` (keyring, D-Bus, DISPLAY), like every test of
//! `scripts/test`'s workspace run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Login, Pushmail, files_containing, keyring_lookup, unique_id};
use pushmail_tests::browser::{UrlHandler, chromium_sign_in};
use pushmail_tests::oidc::UserAgentOptions;
use pushmail_tests::{
    Dovecot, DovecotOptions, OAuth2Passdb, OidcOptions, OidcServer, bin, message,
};

/// From `account login` starting to the URL reaching the test browser (CLI start, listener,
/// xdg-open): well under a second when healthy.
const URL_OPENED: Duration = Duration::from_secs(20);
/// From the redirect to the CLI's exit (one code exchange, one keyring write).
const LOGIN_DONE: Duration = Duration::from_secs(20);
/// From `watch` starting (or a reconnect) to `push`.
const TO_PUSH: Duration = Duration::from_secs(20);
/// From delivery to `new_mail` under IDLE.
const TO_MAIL: Duration = Duration::from_secs(15);
/// How long a duplicate announcement has to show up.
const NO_DUPLICATE: Duration = Duration::from_secs(2);
/// (b): access token lifetime, watch length and when the kicks come.
const SHORT_TTL: Duration = Duration::from_secs(20);
const LONG_WATCH: Duration = Duration::from_secs(90);
const KICKS_AT: [Duration; 2] = [Duration::from_secs(30), Duration::from_secs(60)];
/// (c): concurrent `account test` runs.
const CONCURRENT_TESTS: usize = 20;
/// (d): after `signin_required`, how long nothing may happen.
const QUIET_WINDOW: Duration = Duration::from_secs(10);
/// (d): from the revocation and the kick to `signin_required`.
const TO_SIGNIN_REQUIRED: Duration = Duration::from_secs(30);

/// An authorization server and a Dovecot that takes its tokens, and a private Pushmail.
struct Bed {
    oidc: OidcServer,
    dc: Dovecot,
    pm: Pushmail,
    handler: UrlHandler,
    id: String,
    user: String,
}

impl Bed {
    fn start(ttl: Option<Duration>) -> Bed {
        let mut opts = OidcOptions::default();
        if let Some(ttl) = ttl {
            opts.access_token_ttl = ttl;
        }
        let oidc = OidcServer::start(opts).expect("oidc-provider");
        let dc = Dovecot::start(DovecotOptions {
            oauth2: Some(OAuth2Passdb::for_server(&oidc)),
            ..DovecotOptions::default()
        })
        .expect("dovecot");
        let pm = Pushmail::new();
        let handler = UrlHandler::install().expect("test browser");
        let id = unique_id("oauth");
        let user = unique_id("carol");
        // The account's ca_file must trust both test CAs: Dovecot's and the provider's.
        let bundle = pm.dir.path().join("ca-bundle.pem");
        let pems = [dc.ca_file(), oidc.ca_file()]
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("CA"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&bundle, pems).expect("bundle");
        let block = format!(
            "[[accounts]]\nid = \"{id}\"\nhost = \"{host}\"\nport = {port}\nsecurity = \"tls\"\n\
             username = \"{user}\"\nemail = \"{user}@example.org\"\nca_file = \"{ca}\"\n\
             auth = \"oauth2\"\noauth_provider = \"custom\"\noauth_client_id = \"pushmail\"\n\
             oauth_authorization_endpoint = \"{auth}\"\noauth_token_endpoint = \"{token}\"\n\
             oauth_scopes = [\"openid\", \"offline_access\", \"email\", \"imap\"]\n\
             oauth_issuer = \"{issuer}\"\nbackoff_min_secs = 1\nbackoff_max_secs = 2\n",
            host = dc.host(),
            port = dc.imaps_port(),
            ca = bundle.display(),
            auth = oidc.authorization_endpoint(),
            token = oidc.token_endpoint(),
            issuer = oidc.issuer(),
        );
        pm.write_config(&[block]);
        Bed {
            oidc,
            dc,
            pm,
            handler,
            id,
            user,
        }
    }

    fn state_home(&self) -> String {
        self.pm.dir.path().join("state").display().to_string()
    }

    /// Environment of every Pushmail process here: the test browser and one state home (the
    /// refresh lock lives there, so all of them must share it).
    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.handler.env();
        env.push(("XDG_STATE_HOME".into(), self.state_home()));
        env
    }

    /// `pushmail-cli account login ID` in the background, its output in files.
    fn spawn_login(&self, n: usize) -> Login {
        Login::spawn(
            &self.pm.config(),
            &self.id,
            &self.env(),
            self.pm.dir.path(),
            n,
        )
    }

    /// A whole sign-in through the CLI, the test browser and the headless user.
    fn sign_in(&self, n: usize) -> String {
        let mut login = self.spawn_login(n);
        let url = self.handler.wait_url(n, URL_OPENED).expect("URL opened");
        let followed = self
            .oidc
            .sign_in_following(&url, &self.user)
            .expect("signed in at the provider");
        assert!(followed.body.contains("close this tab"), "{followed:?}");
        let code = login.wait(LOGIN_DONE);
        let (out, err) = login.output();
        assert_eq!(code, Some(0), "login failed:\n{out}\n{err}");
        assert!(out.contains(&url), "the URL is printed: {out}");
        assert!(out.contains("Signed in"), "{out}");
        self.refresh_token().expect("refresh token in the keyring")
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

    fn deliver(&self, subject: &str) {
        self.dc
            .deliver_quietly(
                &self.user,
                "INBOX",
                &message("bob@example.com", "carol@example.org", subject, "x"),
            )
            .expect("deliver");
    }

    /// IMAP logins of the user so far, from Dovecot's log.
    fn imap_logins(&self) -> usize {
        let needle = format!("Login: user=<{}>", self.user);
        self.dc
            .log()
            .lines()
            .filter(|l| l.contains(&needle))
            .count()
    }
}

/// A query parameter of `url`, percent-decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let raw = query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then_some(v)
    })?;
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// (a) First sign-in from the CLI through xdg-open: the refresh token is in the keyring and
/// nowhere else (config, state database, any output or log), and `watch` announces a delivered
/// message exactly once.
#[test]
fn first_signin_through_xdg_open_keeps_the_token_in_the_keyring_and_mail_is_announced_once() {
    let bed = Bed::start(None);
    let started = Instant::now();
    let first = bed.sign_in(0);
    eprintln!("sign-in through xdg-open: {:?}", started.elapsed());
    let config = std::fs::read_to_string(bed.pm.config()).unwrap();
    assert!(config.contains("auth = \"oauth2\""), "{config}");
    let listed = bed.cli(&["account", "list"]);
    assert!(listed.stdout.contains("sign-in (custom)"), "{listed:?}");

    let mut w = bed.watch();
    w.wait_state("push", TO_PUSH);
    bed.deliver("Signed in");
    w.wait_new_mail("Signed in", TO_MAIL);
    w.collect_for(NO_DUPLICATE);
    assert_eq!(w.count_new_mail("Signed in"), 1);
    let current = bed.refresh_token().expect("still signed in");
    w.stop();

    // Neither the first refresh token nor the rotated one anywhere but the keyring.
    for token in [&first, &current] {
        let found = files_containing(&[bed.pm.dir.path()], token);
        assert!(found.is_empty(), "refresh token found in {found:?}");
        assert!(!w.stdout_raw().contains(token.as_str()));
        assert!(!w.stderr().contains(token.as_str()));
        assert!(!bed.dc.log().contains(token.as_str()));
    }
    assert!(bed.oidc.grant_revocations().is_empty());
}

/// Chromium (headless, Debian's) loads the authorization URL the CLI opened, submits the login
/// and consent forms, and follows the redirect: the CLI stores the sign-in.
#[test]
fn chromium_completes_the_signin_the_cli_opened() {
    let bed = Bed::start(None);
    let mut login = bed.spawn_login(0);
    let url = bed.handler.wait_url(0, URL_OPENED).expect("URL opened");
    let started = Instant::now();
    let outcome = chromium_sign_in(&url, &bed.user, false).expect("chromium");
    eprintln!("chromium sign-in: {:?}", started.elapsed());
    assert_eq!(outcome.pages, ["login", "consent"], "{outcome:?}");
    assert!(
        outcome.final_url.starts_with("http://127.0.0.1:"),
        "{outcome:?}"
    );
    assert!(outcome.body.contains("close this tab"), "{outcome:?}");
    let code = login.wait(LOGIN_DONE);
    assert_eq!(code, Some(0), "{:?}", login.output());
    assert!(bed.refresh_token().is_some());
    let test = bed.cli(&["account", "test", &bed.id]);
    assert_eq!(test.code, Some(0), "{test:?}");
}

/// (e) Hostile redirects: access denied, and a wrong `state` sent to the printed redirect URI
/// → a clear error, a non-zero exit, nothing stored.
#[test]
fn denied_access_and_a_forged_redirect_end_the_signin_with_nothing_stored() {
    let bed = Bed::start(None);

    let mut login = bed.spawn_login(0);
    let url = bed.handler.wait_url(0, URL_OPENED).unwrap();
    let outcome = bed
        .oidc
        .user_agent(
            &url,
            &bed.user,
            &UserAgentOptions {
                deny: true,
                follow: true,
            },
        )
        .unwrap();
    assert_eq!(
        outcome.redirect_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(login.wait(LOGIN_DONE), Some(1));
    let (_, err) = login.output();
    assert!(err.contains("Access was denied"), "{err}");
    assert_eq!(bed.refresh_token(), None);

    let mut login = bed.spawn_login(1);
    let url = bed.handler.wait_url(1, URL_OPENED).unwrap();
    let redirect_uri = query_param(&url, "redirect_uri").expect("redirect_uri");
    // http://127.0.0.1:PORT/PATH
    let rest = redirect_uri.strip_prefix("http://").expect("loopback http");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET {path}?code=stolen&state=not-the-one HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.contains("did not complete"), "{answer}");
    assert_eq!(login.wait(LOGIN_DONE), Some(1));
    let (_, err) = login.output();
    assert!(err.contains("does not belong to this sign-in"), "{err}");
    assert_eq!(bed.refresh_token(), None);
    // No code was ever exchanged.
    assert!(bed.oidc.token_requests().is_empty());
}

/// (d) The grant revoked at the server: the watcher reaches `signin_required` and then makes
/// no login and no token request; `account login` again and a reload bring it back to push.
#[test]
fn a_revoked_grant_halts_the_account_until_the_user_signs_in_again() {
    let bed = Bed::start(None);
    bed.sign_in(0);
    let mut w = bed.watch();
    w.wait_state("push", TO_PUSH);

    assert!(bed.oidc.revoke(&bed.user).unwrap() >= 1);
    // The session in IDLE was authenticated before; the next login is what meets the revocation.
    bed.dc.kick(&bed.user).unwrap();
    let event = w.wait_state("signin_required", TO_SIGNIN_REQUIRED);
    assert_eq!(event["problem"]["kind"], "signin_required", "{event}");

    let logins = bed.imap_logins();
    let tokens = bed.oidc.token_requests().len();
    w.collect_for(QUIET_WINDOW);
    assert_eq!(bed.imap_logins(), logins, "no login after signin_required");
    assert_eq!(bed.oidc.token_requests().len(), tokens, "no token request");

    bed.sign_in(1);
    w.signal(libc::SIGHUP);
    w.wait_state("push", TO_PUSH);
    bed.deliver("After signing in again");
    w.wait_new_mail("After signing in again", TO_MAIL);
    w.collect_for(NO_DUPLICATE);
    assert_eq!(w.count_new_mail("After signing in again"), 1);
}

/// (c) 20 `account test` runs at once while `watch` runs: the refreshes take turns under the
/// lock, so no refresh token is used twice and the grant is never revoked.
#[test]
fn concurrent_account_tests_and_the_watcher_never_reuse_a_refresh_token() {
    let bed = Bed::start(Some(SHORT_TTL));
    bed.sign_in(0);
    let mut w = bed.watch();
    w.wait_state("push", TO_PUSH);

    let started = Instant::now();
    let runs: Vec<Child> = (0..CONCURRENT_TESTS)
        .map(|_| {
            Command::new(bin("pushmail-cli"))
                .arg("--config")
                .arg(bed.pm.config())
                .args(["account", "test", &bed.id, "--json"])
                .envs(bed.env())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("{CONCURRENT_TESTS} account tests: {:?}", started.elapsed());
    // The watcher refreshes after the others rotated the token (half the lifetime).
    bed.dc.kick(&bed.user).unwrap();
    std::thread::sleep(SHORT_TTL / 2);
    bed.dc.kick(&bed.user).unwrap();
    w.wait_state("push", TO_PUSH);
    bed.deliver("After the crowd");
    w.wait_new_mail("After the crowd", TO_MAIL);

    assert!(
        bed.oidc.grant_revocations().is_empty(),
        "{:?}",
        bed.oidc.grant_revocations()
    );
    let refused: Vec<_> = bed
        .oidc
        .token_requests()
        .into_iter()
        .filter(|r| !r.ok())
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    assert!(
        !w.seen
            .iter()
            .any(|(_, v)| v["event"] == "state" && v["state"] == "signin_required")
    );
}

/// (b) Access tokens of 20 s, the watcher running 90 s, Dovecot kicking it twice: every login
/// uses a token that is still valid (every introspection active), no message lost or repeated,
/// no `signin_required`, the grant never revoked.
#[test]
fn short_lived_tokens_and_forced_reconnects_lose_and_repeat_nothing() {
    let bed = Bed::start(Some(SHORT_TTL));
    bed.sign_in(0);
    let mut w = bed.watch();
    w.wait_state("push", TO_PUSH);
    let started = Instant::now();
    let mut subjects = Vec::new();
    for (n, at) in KICKS_AT.iter().enumerate() {
        let subject = format!("Before kick {n}");
        bed.deliver(&subject);
        w.wait_new_mail(&subject, TO_MAIL);
        subjects.push(subject);
        w.collect_for(at.saturating_sub(started.elapsed()));
        bed.dc.kick(&bed.user).unwrap();
        // Delivered while it reconnects: announced after the reconnect, once.
        let subject = format!("During reconnect {n}");
        bed.deliver(&subject);
        w.wait_new_mail(&subject, TO_PUSH);
        subjects.push(subject);
    }
    w.collect_for(LONG_WATCH.saturating_sub(started.elapsed()));
    for s in &subjects {
        assert_eq!(w.count_new_mail(s), 1, "{s}");
    }
    assert!(
        !w.seen.iter().any(|(_, v)| v["event"] == "state"
            && (v["state"] == "signin_required" || v["state"] == "error")),
        "{:#?}",
        w.seen
    );
    assert!(bed.oidc.grant_revocations().is_empty());
    let (asked, active) = bed.oidc.introspections();
    assert_eq!(asked, active, "every login used a valid token");
    assert!(bed.imap_logins() >= 3, "the kicks made it log in again");
    assert!(bed.oidc.token_requests().iter().all(|r| r.ok()));
}
