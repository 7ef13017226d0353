//! End-to-end test ground for Pushmail: real servers on loopback, driven synchronously.
//!
//! - [`Dovecot`]: a private Dovecot 2.3 per test (own directory, ports, CA, processes), with
//!   outages ([`Dovecot::stop`], [`Dovecot::crash`]) and restarts that keep mail and ports.
//! - [`RawImap`]: a tiny IMAP client for setting the scene and for measuring the latency floor.
//! - [`ScriptedServer`] and [`ScriptedPop3`]: scripted IMAP and POP3 servers for the faults a
//!   real server cannot produce on demand; [`RawPop3`]: a tiny POP3 client to check them and
//!   Dovecot's POP3 side.
//! - [`OidcServer`] ([`oidc`]): a private OAuth2/OpenID Connect authorization server
//!   (oidc-provider on Node) with a headless user for its sign-in pages; with
//!   [`DovecotOptions::oauth2`] Dovecot accepts its access tokens (XOAUTH2, OAUTHBEARER).
//! - [`Postgres`]: a private PostgreSQL 15 (the relay's database); [`PushReceiver`]: an
//!   independent Web Push receiver that decrypts and checks what the relay sends.
//! - [`netns`]: the discovery lab: a private network and mount namespace with real DNS
//!   (dnsmasq), HTTPS with certificates the system trust store accepts, and Dovecot on the
//!   standard ports, reached through the production resolver and trust paths.
//! - [`message`], [`bin`], [`free_port`], [`wait_until`]: small pieces every test needs.
//!
//! Everything is `std` only and synchronous, so the harness needs no runtime and cannot be
//! starved by the async code under test. Nothing is global: tests run in parallel, each with
//! its own instances.

pub mod browser;
mod dovecot;
mod faultproxy;
mod message;
pub mod netns;
pub mod oidc;
mod postgres;
mod process;
mod push_receiver;
mod raw_imap;
mod raw_pop3;
mod scripted;
mod scripted_pop3;
mod tls;

use std::net::TcpListener;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

pub use dovecot::{
    CAPABILITIES_WITHOUT_NOTIFY, CAPABILITIES_WITHOUT_PUSH, CAPABILITIES_WITHOUT_QRESYNC,
    ConnectionCounter, Dovecot, DovecotOptions, DovecotPorts, MAIL_GID, MAIL_UID, MailboxStatus,
    OAuth2Mechanisms, OAuth2Passdb, Pop3Logout, SPECIAL_FOLDERS, ServerCertificate,
};
pub use faultproxy::FaultProxy;
pub use message::{encode_mailbox_name, message};
pub use oidc::{OidcOptions, OidcServer};
pub use postgres::Postgres;
pub use process::{ProcessInfo, live_members};
pub use push_receiver::{PushReceiver, relay_tests_dir, venv_python};
pub use raw_imap::{Arg, COMMAND_TIMEOUT, RawImap, SaslOutcome, parse_untagged_number};
pub use raw_pop3::RawPop3;
pub use scripted::{
    CertKind, ConnRecord, DEFAULT_CAPABILITIES, Listen, Mailbox, Script, ScriptedMessage,
    ScriptedServer, Step,
};
pub use scripted_pop3::{
    POP3_DEFAULT_CAPABILITIES, POP3_GREETING, Pop3ConnRecord, Pop3Mailbox, Pop3Message, Pop3Script,
    Pop3Step, ScriptedPop3,
};

/// Path of a workspace binary (e.g. `"pushmail-cli"`) built next to the running test.
///
/// Integration tests run from `target/<profile>/deps/`, binaries live in `target/<profile>/`.
/// Cargo only builds a *dependency's* binaries for tests when asked, so this panics with the
/// fix rather than letting a test fail later with a confusing "No such file".
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe()
        .unwrap_or_else(|err| panic!("Cannot locate the running test executable: {err}"));
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap_or_else(|| panic!("Test executable {} has no target dir", exe.display()));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, let go).
///
/// Someone else may take it before you bind it; use it for things that retry or fail loudly
/// (a fault-injecting proxy, a "nothing listens here" address).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .unwrap_or_else(|err| panic!("Cannot bind a free port on 127.0.0.1: {err}"));
    listener
        .local_addr()
        .unwrap_or_else(|err| panic!("Cannot read a bound port: {err}"))
        .port()
}

/// Polls `condition` every 20 ms until it returns `Ok(true)` (→ `Ok(true)`) or `timeout`
/// passes (→ `Ok(false)`). An `Err` from the condition ends the wait at once.
///
/// For facts that become true "soon" with no event to wait on: a session appearing in
/// `doveadm who`, a log line, a file. Never use it to wait for the code under test to notice
/// something: that is a latency, and the test should measure it.
pub fn wait_until(
    timeout: Duration,
    mut condition: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if condition()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        thread::sleep(Duration::from_millis(20));
    }
}
