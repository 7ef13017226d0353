//! POP3 client sessions, for mail servers that offer no IMAP.
//!
//! **Pushmail never changes anything on a POP3 server.** A POP3 mailbox is usually emptied by
//! the user's real mail program; if Pushmail deleted, retrieved-and-marked or reset anything,
//! that program would miss mail. So this module can only send what reads: CAPA, STLS,
//! USER/PASS or AUTH PLAIN, STAT, UIDL, TOP and QUIT. There is no way to send DELE, RSET or
//! RETR (nor any other command) through [`Pop3`]; QUIT ends a session in which nothing was
//! marked for deletion, so its UPDATE state (RFC 1939 §6) has nothing to do.
//!
//! POP3 has no push: a watcher polls. A session is short — connect, log in, STAT, UIDL, TOP
//! for each message it has not seen, QUIT — and the unique-ids from UIDL are what tell new
//! mail from old, because message numbers are valid only within one session (a server
//! without UIDL cannot be watched: [`ProtoCause::NoUidl`]).
//!
//! The transport rules are IMAP's (`imap/transport.rs`), reused: TLS verified with the
//! engine's shared configurations, strict STLS ([`rfc2595_stls`]), plaintext only to loopback,
//! every connection step bounded by `connect_timeout` and every command's whole answer by
//! `command_timeout`. What a hostile server can cost us is bounded too: status and listing
//! lines of at most 1 KiB, a listing of at most 16 MiB, a header kept up to the caller's
//! limit with the rest of it read and dropped, never buffered ([`framing`]).
//!
//! Layout: [`framing`] reads bounded lines, [`rfc1939`] runs each command and judges its
//! answer (pure parts tested without sockets), [`rfc2595_stls`] and [`rfc5034_sasl`] are the
//! two extensions, and this file is the session that puts timeouts and steps around them.

mod framing;
mod rfc1939;
mod rfc2595_stls;
mod rfc5034_sasl;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;

use crate::config::{Account, Security};
use crate::error::{ConfigProblem, ConnectError, ProtoCause, Step};
use crate::imap::transport::{
    TlsConfigs, TlsInfo, is_loopback_host, step, tcp_connect, tls_handshake, tls_info,
};
use framing::Wire;
use rfc1939::{has_capability, offers_sasl};

/// The byte stream under a session: plaintext (loopback only) or TLS.
type Stream = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// How long a polite QUIT may take before the connection is simply dropped: whatever the
/// session was for is done, so a slow goodbye is not waited for (as IMAP's `LOGOUT_TIMEOUT`).
const QUIT_TIMEOUT: Duration = Duration::from_secs(2);

/// A connected POP3 session: greeted, capabilities known, and after [`Pop3::login`]
/// authenticated. Commands are sent one at a time and each answer is read to its end, so
/// after an error that left an answer half-read (a timeout, a line past a limit) the session
/// refuses further commands ([`ProtoCause::SessionLost`]) rather than read one command's
/// answer as another's; a plain `-ERR` leaves it usable.
pub struct Pop3 {
    wire: Wire<Stream>,
    capabilities: Vec<String>,
    /// Whether the server answered CAPA at all (RFC 2449 is an extension).
    capa: bool,
    command_timeout: Duration,
    host: String,
    /// What the TLS handshake established; `None` on a plaintext loopback connection.
    pub tls: Option<TlsInfo>,
}

/// Never the server's bytes, never a credential: what the session is, in a few words.
impl std::fmt::Debug for Pop3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pop3")
            .field("host", &self.host)
            .field("tls", &self.tls.is_some())
            .field("capabilities", &self.capabilities)
            .field("wire", &self.wire)
            .finish_non_exhaustive()
    }
}

/// A stream on which the greeting and the (trusted) capabilities have been read.
struct Greeted {
    wire: Wire<Stream>,
    /// `None`: the server does not know CAPA.
    capabilities: Option<Vec<String>>,
    tls: Option<TlsInfo>,
}

/// Password (keyring or command), connection and login, with the account's timeouts: the one
/// way into a POP3 session for the watcher, as [`crate::imap::session::open`] is for IMAP.
/// (`account test` runs the same steps one at a time to time and report each.)
pub async fn open(account: &Account, tls: &TlsConfigs) -> Result<Pop3, ConnectError> {
    let password = crate::secret::password(account).await?;
    let mut pop = connect(account, tls).await?;
    pop.login(&account.username, &password).await?;
    Ok(pop)
}

/// Opens TCP (keepalive on), does TLS or STLS as `account.security` says, reads the greeting
/// (`+OK` required) and asks CAPA (RFC 2449). A server without CAPA is accepted: it is then
/// assumed to speak plain RFC 1939, USER/PASS included. Every step has `connect_timeout`.
pub async fn connect(account: &Account, tls: &TlsConfigs) -> Result<Pop3, ConnectError> {
    let t = account.timing.connect_timeout;
    // Refused before connecting: nothing is to be said in clear to anyone but ourselves.
    if account.security == Security::Plain && !is_loopback_host(&account.host) {
        return Err(ConnectError::config(ConfigProblem::PlainNotLoopback {
            host: account.host.clone(),
        }));
    }
    let tcp = step(
        t,
        Step::Connecting,
        tcp_connect(&account.host, account.port),
    )
    .await?;
    let greeted = match account.security {
        Security::Tls => {
            let (mut wire, info) = tls_wire(account, tls, Wire::new(tcp)).await?;
            let capabilities = greet(t, &mut wire).await?;
            Greeted {
                wire,
                capabilities,
                tls: Some(info),
            }
        }
        Security::Starttls => rfc2595_stls::upgrade(account, tls, tcp).await?,
        Security::Plain => {
            let mut wire = Wire::new(Either::Left(tcp));
            let capabilities = greet(t, &mut wire).await?;
            Greeted {
                wire,
                capabilities,
                tls: None,
            }
        }
    };
    // We asked for nothing more: bytes waiting now would be read as the next answer.
    if greeted.wire.buffered() > 0 {
        return Err(
            ConnectError::protocol(ProtoCause::UnrequestedAfterGreeting).at(Step::Capabilities)
        );
    }
    Ok(Pop3 {
        wire: greeted.wire,
        capa: greeted.capabilities.is_some(),
        capabilities: greeted.capabilities.unwrap_or_default(),
        command_timeout: account.timing.command_timeout,
        host: account.host.clone(),
        tls: greeted.tls,
    })
}

/// The greeting, then CAPA, each within `t`.
async fn greet<S>(t: Duration, wire: &mut Wire<S>) -> Result<Option<Vec<String>>, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    step(t, Step::Greeting, rfc1939::greeting(wire))
        .await
        .map_err(|e| e.at(Step::Greeting))?;
    step(t, Step::Capabilities, rfc1939::capa(wire))
        .await
        .map_err(|e| e.at(Step::Capabilities))
}

/// The TLS handshake on `wire`'s TCP stream (verified by the shared configuration, within
/// `connect_timeout`), and a wire over TLS that goes on counting bytes.
async fn tls_wire(
    account: &Account,
    tls: &TlsConfigs,
    wire: Wire<TcpStream>,
) -> Result<(Wire<Stream>, TlsInfo), ConnectError> {
    let (tcp, bytes) = wire.into_parts();
    let stream = step(
        account.timing.connect_timeout,
        Step::TlsHandshake,
        tls_handshake(account, tls, tcp),
    )
    .await?;
    let info = tls_info(&stream, &account.host);
    Ok((Wire::resume(Either::Right(Box::new(stream)), bytes), info))
}

impl Pop3 {
    /// The CAPA lines as the server sent them (`TOP`, `UIDL`, `SASL PLAIN`, …), from inside
    /// TLS when STLS was used; empty if the server does not know CAPA. Not asked again after
    /// login: nothing Pushmail does depends on what a server adds then, and UIDL and TOP are
    /// tried rather than trusted to the list.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// (bytes read, bytes written) on this session so far, TLS records not counted: for
    /// benchmarks and debug logs.
    pub fn bytes(&self) -> (u64, u64) {
        self.wire.bytes()
    }

    /// Runs one command, its whole answer within `command_timeout`, errors named by `at`.
    async fn run<T>(
        &mut self,
        at: Step,
        command: impl AsyncFnOnce(&mut Wire<Stream>) -> Result<T, ConnectError>,
    ) -> Result<T, ConnectError> {
        if self.wire.pending() {
            return Err(ConnectError::protocol(ProtoCause::SessionLost).at(at));
        }
        step(self.command_timeout, at, command(&mut self.wire))
            .await
            .map_err(|e| e.at(at))
    }

    /// Whether what is sent now can only be read by the server: TLS, or a plaintext
    /// connection whose peer really is this machine.
    fn private(&self) -> bool {
        match self.wire.get_ref() {
            Either::Right(_) => true,
            Either::Left(tcp) => tcp.peer_addr().is_ok_and(|a| a.ip().is_loopback()),
        }
    }

    /// Logs in: AUTH PLAIN with an initial response (RFC 5034) when CAPA lists `SASL PLAIN`,
    /// else USER/PASS when CAPA lists `USER` or the server has no CAPA.
    ///
    /// A `-ERR` is [`ConnectError::Auth`] in the server's words, scrubbed of the password
    /// and the PLAIN response in case the server echoes them — except `[IN-USE]`,
    /// `[LOGIN-DELAY]` (RFC 2449 §8) and `[SYS/TEMP]` (RFC 3206), which are
    /// [`ConnectError::Throttled`]: another client holds the mailbox, or the server is busy,
    /// and trying later will work. A failed login is never retried with another method: that
    /// would count twice against the account's lock-out limit.
    pub async fn login(&mut self, user: &str, password: &SecretString) -> Result<(), ConnectError> {
        // `connect` only makes private connections; this is the last check before a
        // credential exists on the wire, so it does not rely on that.
        if !self.private() {
            return Err(ConnectError::config(ConfigProblem::PlainNotLoopback {
                host: self.host.clone(),
            }));
        }
        let pw = password.expose_secret();
        // A line break would end the command early and make the rest a second one; NUL
        // separates PLAIN's fields.
        if user.bytes().any(|b| b.is_ascii_control()) || pw.contains('\0') {
            return Err(ConnectError::config(ConfigProblem::UnsendablePassword));
        }
        let result = if offers_sasl(&self.capabilities, "PLAIN") {
            self.run(Step::LoggingIn, async |w| {
                rfc5034_sasl::auth_plain(w, user, password).await
            })
            .await
        } else if !self.capa || has_capability(&self.capabilities, "USER") {
            if pw.contains(['\r', '\n']) {
                return Err(ConnectError::config(ConfigProblem::UnsendablePassword));
            }
            self.run(Step::LoggingIn, async |w| {
                rfc1939::user_pass(w, user, password).await
            })
            .await
        } else {
            let sasl = self
                .capabilities
                .iter()
                .find(|c| has_capability(std::slice::from_ref(c), "SASL"))
                .cloned()
                .unwrap_or_default();
            Err(ConnectError::protocol(ProtoCause::NoLoginMethod)
                .at(Step::LoggingIn)
                .with_words(sasl))
        };
        result.map_err(|e| redact(e, user, password))
    }

    /// STAT: (number of messages, their total size in octets).
    pub async fn stat(&mut self) -> Result<(u32, u64), ConnectError> {
        self.run(Step::CountingUnread, async |w| rfc1939::stat(w).await)
            .await
    }

    /// UIDL for every message, checked ([`rfc1939::Listing`]): message numbers strictly
    /// increasing, exactly `1..=count` when `count` (from STAT in this session) is given,
    /// unique-ids of 1 to 70 visible ASCII characters, none twice. Anything else is
    /// [`ProtoCause::BadListing`]; a `-ERR` is [`ProtoCause::NoUidl`] (the session stays
    /// usable).
    pub async fn uidl_all(
        &mut self,
        count: Option<u32>,
    ) -> Result<Vec<(u32, String)>, ConnectError> {
        self.run(Step::ListingNew, async |w| {
            rfc1939::uidl_all(w, count).await
        })
        .await
    }

    /// The unique-id of message `n` (`UIDL n`, one line): a cheap "has anything changed?"
    /// probe — the last message's id is the same as last time only if no mail arrived.
    pub async fn uidl_one(&mut self, n: u32) -> Result<String, ConnectError> {
        self.run(Step::ListingNew, async |w| rfc1939::uidl_one(w, n).await)
            .await
    }

    /// The header section of message `n` (`TOP n 0`), dot-unstuffed, lines ended by CRLF,
    /// its first `max` bytes kept (callers pass [`crate::mail::headers::HEADER_MAX`]). The
    /// rest of the answer is read and dropped, never buffered, so a message with a 1 MiB
    /// header costs time but no memory and the next TOP works; only an answer past 64 MiB
    /// in all is an error.
    pub async fn top_headers(&mut self, n: u32, max: usize) -> Result<Vec<u8>, ConnectError> {
        self.run(Step::FetchingNew, async |w| rfc1939::top(w, n, max).await)
            .await
    }

    /// QUIT, waiting at most [`QUIT_TIMEOUT`] (and `command_timeout`) for the `+OK`, then
    /// closes. Nothing about the answer matters. Consumes the session: nothing can follow.
    pub async fn quit(mut self) {
        let limit = QUIT_TIMEOUT.min(self.command_timeout);
        let _ = tokio::time::timeout(limit, async {
            if self.wire.pending() {
                // An answer is half-read: its rest is not the answer to QUIT.
                let _ = self.wire.send(b"QUIT").await;
            } else {
                let _ = rfc1939::quit(&mut self.wire).await;
            }
            let _ = self.wire.get_mut().shutdown().await;
        })
        .await;
    }
}

/// Replaces the password, and the PLAIN response carrying it, in an error's words — as sent,
/// as the cap on words rewrote it (control characters as spaces), and a start of either left
/// at the cut. As `imap/transport/login.rs` does for IMAP.
fn redact(e: ConnectError, user: &str, password: &SecretString) -> ConnectError {
    let pw = password.expose_secret();
    if pw.is_empty() {
        return e;
    }
    let blob = rfc5034_sasl::plain_response(user, password);
    let spaced = secrecy::zeroize::Zeroizing::new(pw.replace(char::is_control, " "));
    let secrets = [blob.as_str(), pw, spaced.as_str()];
    e.map_words(|text| crate::imap::transport::login::scrub(text, &secrets))
}

#[cfg(test)]
mod tests;
