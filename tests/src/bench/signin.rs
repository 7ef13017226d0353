//! Idle memory of the tray with one account that signs in (`auth = "oauth2"`, issue 11), next to
//! the same tray with one password account, measured in the same run, against the tray's
//! ≤ 15 MB target.
//!
//! One authorization server (oidc-provider, [`OidcServer`]) and one Dovecot that takes both
//! passwords and that server's tokens ([`OAuth2Passdb`]). For each kind of account in turn, a
//! private config with that one account, and:
//! - for the sign-in account, `pushmail-cli account login` as a user runs it: the CLI opens the
//!   authorization URL with `xdg-open`, which reaches the test browser ([`UrlHandler`]); the
//!   harness's headless user signs in on the provider's pages and follows the redirect to the
//!   CLI's loopback listener; the CLI stores the refresh token in the private desktop's keyring.
//!   The account's `ca_file` trusts both test CAs (Dovecot's and the provider's), as
//!   `tests/tests/signin.rs` does;
//! - the release tray (`target/release/pushmail`) on that config, until `GetAccounts` says
//!   `push` (for the sign-in account: after a token refresh at the provider and an OAUTHBEARER
//!   or XOAUTH2 login that Dovecot checked by introspection);
//! - one delivered message, whose notification must reach the notification server (a
//!   `Notify` call on the bus), so the figures are those of a tray that has done its job once;
//! - the footprint benchmark's settling time and idle window, then VmRSS and RssAnon of the
//!   tray's process tree at the end of it, and its CPU time over the window.
//!
//! The tray is a single instance per session bus (a second one hands over to the first and
//! exits), so the two cannot idle side by side as the footprint benchmark's subjects do: they
//! idle one after the other, with the same binary, desktop, Dovecot and window length.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use pushmail_tests::browser::UrlHandler;
use pushmail_tests::{Dovecot, DovecotOptions, OAuth2Passdb, OidcOptions, OidcServer, message};
use serde_json::{Value, json};

use crate::Outcome;
use crate::common::{
    Scratch, Usage, Via, cpu_seconds, f1, mb, ratio, sibling_binary, usage, user_pairs, users,
    verdict,
};
use crate::desktop::{NotifyMonitor, Tray, desktop_available, tray_binary};

/// The tray's idle memory target (docs/benchmarks.md, "Tray").
pub const TARGET_MB: f64 = 15.0;
/// From `account login` starting to the URL reaching the test browser (CLI start, listener,
/// xdg-open): well under a second when healthy.
const URL_OPENED: Duration = Duration::from_secs(20);
/// From the redirect to the CLI's exit (one code exchange, one keyring write).
const LOGIN_DONE: Duration = Duration::from_secs(30);
/// From the tray's start to `push` (one account; for the sign-in one a token refresh too).
const TO_PUSH: Duration = Duration::from_secs(30);
/// From the delivery to the tray's `Notify` call (~0.5 s: Dovecot's IDLE delay).
const TO_NOTIFY: Duration = Duration::from_secs(15);
/// Start-up work (state database, allocator caches, the first unread count) finishing before
/// the window: the same 5 s as the footprint benchmark's windows.
const SETTLE: Duration = Duration::from_secs(5);

/// Which account the tray watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `password_command`, PLAIN login: the baseline.
    Password,
    /// `auth = "oauth2"`, signed in through `pushmail-cli account login`.
    SignIn,
}

impl Auth {
    fn key(self) -> &'static str {
        match self {
            Auth::Password => "password",
            Auth::SignIn => "signin",
        }
    }
}

/// One tray after its idle window.
pub struct Idle {
    /// `account login` from its start to its exit (the sign-in account only).
    pub sign_in: Option<Duration>,
    /// Tray start → the account in `push`, seen over D-Bus (polled every 50 ms).
    pub startup: Duration,
    /// The tray's own CPU seconds over that period.
    pub startup_cpu: f64,
    pub before: Usage,
    pub after: Usage,
    pub window: Duration,
}

impl Idle {
    pub fn rss_mb(&self) -> f64 {
        mb(self.after.rss_kb)
    }

    pub fn anon_mb(&self) -> f64 {
        mb(self.after.anon_kb)
    }

    pub fn cpu_percent(&self) -> f64 {
        cpu_seconds(&self.before, &self.after) / self.window.as_secs_f64() * 100.0
    }

    pub fn json(&self) -> Value {
        json!({
            "rss_mb": self.rss_mb(), "anon_mb": self.anon_mb(), "hwm_mb": mb(self.after.hwm_kb),
            "processes": self.after.processes, "cpu_percent": self.cpu_percent(),
            "idle_secs": self.window.as_secs_f64(),
            "startup_ms": self.startup.as_secs_f64() * 1e3,
            "startup_cpu_secs": self.startup_cpu,
            "sign_in_secs": self.sign_in.map(|d| d.as_secs_f64()),
        })
    }
}

/// Both trays' figures.
pub struct SignIn {
    pub password: Outcome<Idle>,
    pub signin: Outcome<Idle>,
    pub idle_secs: u64,
    /// How old the measured tray binary is, and whether its sources changed since.
    pub tray: String,
}

/// Runs both trays, the password one first. Without a built tray or outside the private
/// desktop both are skipped; a failure of one is reported and the other still runs.
pub fn run(idle: Duration) -> SignIn {
    let skipped = |why: &str| SignIn {
        password: Outcome::Skipped(why.into()),
        signin: Outcome::Skipped(why.into()),
        idle_secs: idle.as_secs(),
        tray: tray_note(),
    };
    if tray_binary().is_none() {
        return skipped("not built (target/release/pushmail is missing)");
    }
    if !desktop_available() {
        return skipped("no private desktop session (run through scripts/bench)");
    }
    let tray = tray_note();
    eprintln!("signin: tray {tray}");
    let mut bed = match Bed::start() {
        Ok(bed) => bed,
        Err(e) => {
            eprintln!("pushmail-bench: FAILED: {e:#}");
            return SignIn {
                password: Outcome::Failed(format!("{e:#}")),
                signin: Outcome::Failed(format!("{e:#}")),
                idle_secs: idle.as_secs(),
                tray,
            };
        }
    };
    let password = Outcome::from_result(bed.measure(Auth::Password, idle));
    let signin = Outcome::from_result(bed.measure(Auth::SignIn, idle));
    SignIn {
        password,
        signin,
        idle_secs: idle.as_secs(),
        tray,
    }
}

/// The servers both trays use, and what watches the bus.
struct Bed {
    oidc: OidcServer,
    dc: Dovecot,
    monitor: NotifyMonitor,
    handler: UrlHandler,
    /// The password account's Dovecot user.
    password_user: String,
}

impl Bed {
    fn start() -> Result<Bed> {
        let oidc = OidcServer::start(OidcOptions::default())?;
        let names = users("pw", 1);
        let dc = Dovecot::start(DovecotOptions {
            users: user_pairs(&names),
            oauth2: Some(OAuth2Passdb::for_server(&oidc)),
            ..Default::default()
        })?;
        let monitor = NotifyMonitor::start()?;
        let handler = UrlHandler::install()?;
        Ok(Bed {
            oidc,
            dc,
            monitor,
            handler,
            password_user: names[0].clone(),
        })
    }

    /// One tray with one account of this kind: configured (and signed in), in push, one
    /// message shown, then idle.
    fn measure(&mut self, auth: Auth, idle: Duration) -> Result<Idle> {
        eprintln!("signin: starting the tray with a {} account", auth.key());
        let scratch = Scratch::new()?;
        let (user, sign_in) = match auth {
            Auth::Password => {
                scratch.write_config(
                    &self.dc,
                    std::slice::from_ref(&self.password_user),
                    Via::Tls,
                    "",
                    "",
                )?;
                (self.password_user.clone(), None)
            }
            Auth::SignIn => {
                // Unique per run, so a keyring entry of another run cannot stand in for it.
                let id = format!("bench-signin-{}", std::process::id());
                let user = format!("signin{}", std::process::id());
                let config = self.write_signin_config(&scratch, &id, &user)?;
                let took = self.sign_in(&scratch, &config, &id, &user)?;
                eprintln!("signin: signed in through account login in {took:?}");
                (user, Some(took))
            }
        };
        let mut tray = Tray::spawn(&scratch)?;
        let pushed = tray.wait_push(1, TO_PUSH)?;
        let startup = pushed.duration_since(tray.spawned);
        let startup_cpu = cpu_seconds(&Usage::default(), &usage(tray.pid()));
        eprintln!(
            "signin: {} account in push after {} ms",
            auth.key(),
            startup.as_millis()
        );

        let subject = format!("Sign-in benchmark, {} account", auth.key());
        let _ = self.monitor.drain();
        self.dc.deliver_quietly(
            &user,
            "INBOX",
            &message(
                "Sender <sender@example.org>",
                &format!("{user} <{user}@example.org>"),
                &subject,
                "Hello from the Pushmail benchmark.",
            ),
        )?;
        if self.monitor.wait_text(&subject, TO_NOTIFY).is_none() {
            bail!(
                "the tray showed no notification for the delivered message within \
                 {TO_NOTIFY:?}; log:\n{}",
                tray.log_tail()
            );
        }

        std::thread::sleep(SETTLE);
        let from = Instant::now();
        let before = usage(tray.pid());
        eprintln!("signin: idle for {} s", idle.as_secs());
        std::thread::sleep(idle);
        let window = from.elapsed();
        let after = usage(tray.pid());
        // Still in push at the end: a tray that fell out of it would idle cheaper.
        tray.wait_push(1, Duration::from_secs(5))
            .context("The account left push during the idle window")?;
        tray.stop();
        Ok(Idle {
            sign_in,
            startup,
            startup_cpu,
            before,
            after,
            window,
        })
    }

    /// The config of one sign-in account at the custom provider, as signin.rs's test bed writes
    /// it; its `ca_file` is a bundle of Dovecot's CA and the provider's.
    fn write_signin_config(
        &self,
        scratch: &Scratch,
        id: &str,
        user: &str,
    ) -> Result<std::path::PathBuf> {
        let bundle = scratch.path("ca-bundle.pem");
        let mut pems = String::new();
        for ca in [self.dc.ca_file(), self.oidc.ca_file()] {
            let pem = std::fs::read_to_string(ca)
                .with_context(|| format!("Cannot read {}", ca.display()))?;
            pems.push_str(&pem);
            pems.push('\n');
        }
        std::fs::write(&bundle, pems).context("Cannot write the CA bundle")?;
        let block = format!(
            "[[accounts]]\nid = \"{id}\"\nhost = \"{host}\"\nport = {port}\nsecurity = \"tls\"\n\
             username = \"{user}\"\nemail = \"{user}@example.org\"\nca_file = \"{ca}\"\n\
             auth = \"oauth2\"\noauth_provider = \"custom\"\noauth_client_id = \"pushmail\"\n\
             oauth_authorization_endpoint = \"{auth}\"\noauth_token_endpoint = \"{token}\"\n\
             oauth_scopes = [\"openid\", \"offline_access\", \"email\", \"imap\"]\n\
             oauth_issuer = \"{issuer}\"\n",
            host = self.dc.host(),
            port = self.dc.imaps_port(),
            ca = bundle.display(),
            auth = self.oidc.authorization_endpoint(),
            token = self.oidc.token_endpoint(),
            issuer = self.oidc.issuer(),
        );
        // No password accounts: the block is the whole config.
        scratch.write_config(&self.dc, &[], Via::Tls, "", &block)
    }

    /// `pushmail-cli account login ID` with the test browser, signed in by the headless user;
    /// returns how long the CLI ran. The tray will share its state home (the refresh lock).
    fn sign_in(&self, scratch: &Scratch, config: &Path, id: &str, user: &str) -> Result<Duration> {
        let cli = sibling_binary("pushmail-cli")
            .context("pushmail-cli is missing next to pushmail-bench: build both in one profile")?;
        let out = scratch.path("login.out");
        let err = scratch.path("login.err");
        // The tray's state home, where the refresh lock lives: the CLI takes it there too.
        std::fs::create_dir_all(scratch.path("state")).context("Cannot create the state home")?;
        let started = Instant::now();
        let mut child = Command::new(cli)
            .arg("--config")
            .arg(config)
            .args(["account", "login", id, "--timeout", "60"])
            .envs(self.handler.env())
            .env("XDG_STATE_HOME", scratch.path("state"))
            .stdin(Stdio::null())
            .stdout(File::create(&out).context("Cannot create the login's stdout file")?)
            .stderr(File::create(&err).context("Cannot create the login's stderr file")?)
            .spawn()
            .context("Cannot start pushmail-cli account login")?;
        let done = self.complete_login(&mut child, user);
        if done.is_err() {
            let _ = child.kill();
            let _ = child.wait();
        }
        done.with_context(|| {
            format!(
                "account login did not sign in; its output:\n{}\n{}",
                std::fs::read_to_string(&out).unwrap_or_default().trim(),
                std::fs::read_to_string(&err).unwrap_or_default().trim()
            )
        })?;
        Ok(started.elapsed())
    }

    /// The user's part: the URL the CLI opened, the provider's pages, the redirect; then the
    /// CLI's successful exit.
    fn complete_login(&self, child: &mut Child, user: &str) -> Result<()> {
        let url = self.handler.wait_url(0, URL_OPENED)?;
        self.oidc.sign_in_following(&url, user)?;
        let deadline = Instant::now() + LOGIN_DONE;
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    bail!("account login exited with {status}");
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("account login did not exit within {LOGIN_DONE:?} of the redirect");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// "built N min before this run", and whether any file of `crates/core`, `crates/tray` or
/// `Cargo.lock` changed after it (then the figures are those of older code).
fn tray_note() -> String {
    let built = tray_binary().and_then(|p| std::fs::metadata(p).ok()?.modified().ok());
    let Some(built) = built else {
        return "not built".into();
    };
    let age = built.elapsed().map(|d| d.as_secs() / 60).unwrap_or(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut newer = 0;
    for part in ["crates/core", "crates/tray", "Cargo.lock"] {
        newer += changed_after(&root.join(part), built);
    }
    if newer == 0 {
        format!("built {age} min before this run, after the last change to its sources")
    } else {
        format!(
            "built {age} min before this run; {newer} files of crates/core, crates/tray or \
             Cargo.lock changed since (`cargo build --release -p pushmail` measures them)"
        )
    }
}

/// Files under `path` (or `path` itself) modified after `t`.
fn changed_after(path: &Path, t: SystemTime) -> usize {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return usize::from(meta.modified().is_ok_and(|m| m > t));
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| changed_after(&e.path(), t))
        .sum()
}

impl SignIn {
    pub fn json(&self) -> Value {
        json!({
            "idle_secs": self.idle_secs, "target_mb": TARGET_MB, "tray": self.tray,
            "password": self.password.json(Idle::json),
            "signin": self.signin.json(Idle::json),
        })
    }

    pub fn markdown(&self) -> String {
        let mut s = format!(
            "### 9. Idle memory with a sign-in account (tray)\n\n\
             The release tray with one account, {idle} s idle after the account reached push and \
             one notification was shown; VmRSS and RssAnon summed over the tray's processes at \
             the end of the window. *Password account*: `password_command`, PLAIN login. \
             *Sign-in account*: `auth = \"oauth2\"` at oidc-provider, signed in with \
             `pushmail-cli account login` (the test browser, the harness's headless user), \
             refresh token in the private keyring; the tray refreshes the access token and logs \
             in with it, Dovecot checks it by introspection. One Dovecot for both; the tray is \
             a single instance per bus, so the two idle one after the other. Tray: {tray}.\n\n\
             | figure | password account | sign-in account | difference |\n|---|---|---|---|\n",
            idle = self.idle_secs,
            tray = self.tray,
        );
        let (p, o) = match (&self.password, &self.signin) {
            (Outcome::Done(p), Outcome::Done(o)) => (p, o),
            (p, o) => {
                let cell = |x: &Outcome<Idle>| match x {
                    Outcome::Done(i) => format!("{} MB", f1(i.rss_mb())),
                    other => other.reason(),
                };
                let _ = writeln!(s, "| VmRSS | {} | {} | – |", cell(p), cell(o));
                return s;
            }
        };
        let mut row = |what: &str, a: f64, b: f64, unit: &str, digits: usize| {
            let _ = writeln!(
                s,
                "| {what} | {a:.digits$}{unit} | {b:.digits$}{unit} | {:+.digits$}{unit} ({}) |",
                b - a,
                ratio(b, a),
            );
        };
        row("VmRSS", p.rss_mb(), o.rss_mb(), " MB", 1);
        row(
            "of which anonymous (heap, stacks), RssAnon",
            p.anon_mb(),
            o.anon_mb(),
            " MB",
            1,
        );
        row(
            "peak, VmHWM",
            mb(p.after.hwm_kb),
            mb(o.after.hwm_kb),
            " MB",
            1,
        );
        row(
            "CPU in the window (% of a core)",
            p.cpu_percent(),
            o.cpu_percent(),
            " %",
            3,
        );
        row(
            "start → push",
            p.startup.as_secs_f64() * 1e3,
            o.startup.as_secs_f64() * 1e3,
            " ms",
            0,
        );
        row(
            "the tray's CPU time until push",
            p.startup_cpu * 1e3,
            o.startup_cpu * 1e3,
            " ms",
            0,
        );
        let _ = writeln!(
            s,
            "\nTarget: 1 sign-in account idle ≤ {TARGET_MB:.0} MB (tray): **{} MB** {}.",
            f1(o.rss_mb()),
            verdict(Some(o.rss_mb() <= TARGET_MB))
        );
        if let Some(d) = o.sign_in {
            let _ = writeln!(
                s,
                "`pushmail-cli account login` (URL opened, provider's login and consent pages, \
                 redirect, code exchange, keyring) took {:.1} s.",
                d.as_secs_f64()
            );
        }
        s
    }

    pub fn targets(&self) -> Vec<(String, String, Option<bool>)> {
        let what = format!("1 sign-in account idle ≤ {TARGET_MB:.0} MB (tray)");
        match (&self.signin, &self.password) {
            (Outcome::Done(o), p) => {
                let baseline = match p {
                    Outcome::Done(p) => format!(
                        "; one password account in the same run {} MB ({:+.1} MB)",
                        f1(p.rss_mb()),
                        o.rss_mb() - p.rss_mb()
                    ),
                    _ => String::new(),
                };
                vec![(
                    what,
                    format!(
                        "{} MB, of which {} MB heap{baseline}",
                        f1(o.rss_mb()),
                        f1(o.anon_mb())
                    ),
                    Some(o.rss_mb() <= TARGET_MB),
                )]
            }
            (other, _) => vec![(what, other.reason(), None)],
        }
    }
}
