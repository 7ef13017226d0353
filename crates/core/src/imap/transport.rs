//! TCP, TLS and STARTTLS: everything up to an encrypted (or loopback-plain) byte stream on which
//! the server's greeting has been read and capabilities are known, before any credential is sent.
//!
//! The pre-login dialogue (greeting, CAPABILITY, STARTTLS) is done by hand here rather than with
//! async-imap, because STARTTLS must be strict: a client that lets the server strip the
//! capability, answer PREAUTH, or smuggle responses into the same segment as the STARTTLS OK
//! leaks the password (the "NO STARTTLS" attacks). Doing it by hand makes every one of those a
//! refusal before LOGIN.

pub mod framing;
pub mod login;

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tracing::debug;

use crate::config::{Account, Security};
use crate::error::{
    ConfigProblem, ConnectError, NetCause, ProtoCause, Step, TlsReason, UnsafeCause, words,
};
use framing::{Framer, Limits, TaggedStatus};

/// The byte stream a session runs on: TLS, or plaintext (loopback only), behind the [`Framer`].
pub struct MailStream {
    inner: Inner,
    framer: Arc<Mutex<Framer>>,
    /// A command to send right behind the next one async-imap writes ([`MailStream::pipeline`]).
    piggyback: Option<Vec<u8>>,
    /// Commands to send right before the next one async-imap writes ([`MailStream::ahead`]).
    ahead: Option<Vec<u8>>,
    /// A command owed before any other ([`MailStream::owe`]), tagged, with its tag: it leaves
    /// first in the next write, and its answer is skipped.
    owed: Option<(String, Vec<u8>)>,
    /// Bytes written since the last flush, sent as one write by it (see `poll_write`).
    out: Vec<u8>,
    /// How much of `out` is already written (a flush may be interrupted by a full socket).
    out_sent: usize,
    /// Tags of pipelined commands: `P1`, `P2`, … (async-imap's own are `A1`, `A2`, …).
    pipelined: u32,
    /// Bytes the [`Framer`] let through that the reader has not taken yet (a read may bring
    /// more than the reader's buffer holds once held-back bytes are released).
    incoming: Vec<u8>,
    /// Where each read from the socket lands before the framer looks at it.
    scratch: Box<[u8]>,
    /// The socket has ended; once `incoming` is empty, reads return end of stream.
    ended: bool,
}

/// How much one read from the socket takes (one TLS record's plaintext).
const READ_CHUNK: usize = 16 * 1024;

enum Inner {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// An in-process peer, for tests on tokio's paused clock: its bytes reach the reader at
    /// once, where a socket's may arrive a moment after the clock has jumped to a timeout.
    #[cfg(test)]
    Memory(tokio::io::DuplexStream),
}

/// What every [`Inner`] is to reads and writes.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Inner {
    fn io(&mut self) -> Pin<&mut dyn Io> {
        match self {
            Inner::Plain(s) => Pin::new(s),
            Inner::Tls(s) => Pin::new(s.as_mut()),
            #[cfg(test)]
            Inner::Memory(s) => Pin::new(s),
        }
    }
}

impl std::fmt::Debug for MailStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            Inner::Plain(_) => "MailStream(plain)",
            Inner::Tls(_) => "MailStream(tls)",
            #[cfg(test)]
            Inner::Memory(_) => "MailStream(memory)",
        })
    }
}

/// A handle to read the last tagged status the server sent on a [`MailStream`].
#[derive(Clone, Debug)]
pub struct StatusTap(Arc<Mutex<Framer>>);

impl StatusTap {
    /// The last tagged `OK`/`NO`/`BAD` line with its response code, if one arrived since the
    /// previous call.
    pub fn take(&self) -> Option<TaggedStatus> {
        self.0.lock().ok().and_then(|mut f| f.take_last_tagged())
    }

    /// The words of the last `* BYE` the server sent, if one arrived since the previous call.
    pub fn take_bye(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut f| f.take_last_bye())
    }

    /// What [`MailStream::ahead`]'s commands were answered (each response whole, in order),
    /// and whether the last one's tagged line came. Stops holding.
    pub fn take_held(&self) -> (Vec<Vec<u8>>, bool) {
        self.0.lock().map(|mut f| f.take_held()).unwrap_or_default()
    }

    /// Call right before sending a command that asks for `* ESEARCH` (RFC 4731): until that
    /// command's tagged line, a response starting with `* ESEARCH` is kept from the parser
    /// (imap-proto cannot read it) and held for [`EsearchCapture::take`]. Dropping the
    /// capture (the command is over, failed or timed out) stops it.
    pub fn expect_esearch(&self) -> EsearchCapture {
        if let Ok(mut f) = self.0.lock() {
            f.expect_esearch();
        }
        EsearchCapture(self.0.clone())
    }

    /// Runs one command (a future not yet polled, so nothing is on the wire yet) and succeeds
    /// only if the server finished it with a tagged `OK`.
    ///
    /// async-imap 0.12 ends the answer to FETCH, UID STORE, SEARCH, STATUS and a plain SELECT
    /// at end of stream as if the command had succeeded, and ignores a tagged `NO` to FETCH
    /// and SEARCH: a server that says `* BYE` and closes in the middle of `UID FETCH` would
    /// look like one with no new mail, and the watermark would move past mail never fetched.
    /// Here that is [`Error::ConnectionLost`](async_imap::error::Error::ConnectionLost) (or
    /// the `NO`/`BAD`), and the session is rebuilt and catches up instead.
    pub async fn confirmed<T>(
        &self,
        command: impl Future<Output = async_imap::error::Result<T>>,
    ) -> async_imap::error::Result<T> {
        use async_imap::error::Error;
        // A tagged line left from an earlier command must not vouch for this one.
        let _ = self.take();
        let value = command.await?;
        match self.take() {
            Some(s) if s.status == "OK" => Ok(value),
            Some(s) if s.status == "NO" => Err(Error::No(s.text)),
            Some(s) => Err(Error::Bad(s.text)),
            None => Err(Error::ConnectionLost),
        }
    }
}

/// ESEARCH responses held back from the parser while a command that asked for them runs
/// ([`StatusTap::expect_esearch`]).
#[derive(Debug)]
pub struct EsearchCapture(Arc<Mutex<Framer>>);

impl EsearchCapture {
    /// The ESEARCH responses captured (each whole, CRLF included) and the tag of the tagged
    /// line that ended the command, once it has come.
    pub fn take(&self) -> (Vec<Vec<u8>>, Option<String>) {
        self.0
            .lock()
            .map(|mut f| f.take_esearch())
            .unwrap_or_default()
    }
}

impl Drop for EsearchCapture {
    fn drop(&mut self) {
        if let Ok(mut f) = self.0.lock() {
            f.stop_esearch();
        }
    }
}

impl MailStream {
    fn new(inner: Inner, limits: Limits) -> Self {
        MailStream {
            inner,
            framer: Arc::new(Mutex::new(Framer::new(limits))),
            piggyback: None,
            ahead: None,
            owed: None,
            out: Vec::new(),
            out_sent: 0,
            pipelined: 0,
            incoming: Vec::new(),
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            ended: false,
        }
    }

    /// Queues `command` to leave right behind the next command async-imap sends, in the same
    /// write, before anything is read: returns its tag (`P1`, `P2`, …, a prefix async-imap
    /// never uses, so its answer is never mistaken for one of async-imap's).
    ///
    /// async-imap sends a command and reads its answer in one call (IDLE's `DONE` in
    /// `Handle::done`, which is also the only way to get the session back from an IDLE), so a
    /// command cannot be sent between the two. Here, everything written from now on is
    /// gathered, and the next flush — the one async-imap does right after its command line —
    /// writes it with `command` behind it. The caller then reads `command`'s answer itself
    /// (`Session::read_response`), after async-imap has read its own. Used to end IDLE and
    /// fetch new mail in one round trip (`imap/pipelined.rs`).
    pub fn pipeline(&mut self, command: &str) -> String {
        self.pipelined = self.pipelined.wrapping_add(1);
        let tag = format!("P{}", self.pipelined);
        self.piggyback = Some(format!("{tag} {command}\r\n").into_bytes());
        tag
    }

    /// Queues `commands` to leave right *before* the next command async-imap sends, in the
    /// same write, and holds their answers back from async-imap: returns their tags (`P…`, as
    /// for [`Self::pipeline`]). Every response up to the last one's tagged line is kept by
    /// the framer for [`StatusTap::take_held`], so async-imap reads only the answer to its own
    /// command, which the server sends after theirs. Used to send everything between LOGIN
    /// and IDLE in one flight (`imap/one_flight.rs`): async-imap's `IDLE` is the command
    /// they ride in front of, since only async-imap can start an IDLE it can later end.
    pub fn ahead(&mut self, commands: &[String]) -> Vec<String> {
        let mut bytes = Vec::new();
        let mut tags = Vec::with_capacity(commands.len());
        for command in commands {
            debug_assert!(
                !command.contains(['\r', '\n']),
                "a command line is one line"
            );
            self.pipelined = self.pipelined.wrapping_add(1);
            let tag = format!("P{}", self.pipelined);
            bytes.extend_from_slice(format!("{tag} {command}\r\n").as_bytes());
            tags.push(tag);
        }
        if let (Some(last), Ok(mut framer)) = (tags.last(), self.framer.lock()) {
            framer.hold_until(last);
            self.ahead = Some(bytes);
        }
        tags
    }

    /// Queues `command` to leave first in the next write, ahead of whatever command is
    /// written next (and of [`Self::ahead`]'s), and skips its answer, whatever it is
    /// ([`framing::Framer::skip_until`]): returns its tag (`P…`). For a command the session
    /// owes the server but needs no answer from: RFC 2971 `ID` right after login
    /// (`imap/rfc2971_id.rs`). Riding in front of the next command, it costs no round trip:
    /// the server answers in order, so it has taken `ID` before it reads what follows.
    pub fn owe(&mut self, command: &str) -> String {
        debug_assert!(
            !command.contains(['\r', '\n']),
            "a command line is one line"
        );
        self.pipelined = self.pipelined.wrapping_add(1);
        let tag = format!("P{}", self.pipelined);
        let line = format!("{tag} {command}\r\n").into_bytes();
        self.owed = Some((tag.clone(), line));
        tag
    }

    /// Writes what [`Self::pipeline`] gathered: the command async-imap wrote, then the
    /// piggyback, as one buffer (one TLS record, one segment where it fits).
    fn poll_write_gathered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Only behind a command: a flush with nothing gathered must not send it first.
        if !self.out.is_empty()
            && let Some(piggyback) = self.piggyback.take()
        {
            self.out.extend_from_slice(&piggyback);
        }
        if !self.out.is_empty()
            && self.out_sent == 0
            && let Some(mut ahead) = self.ahead.take()
        {
            ahead.append(&mut self.out);
            self.out = ahead;
        }
        if !self.out.is_empty()
            && self.out_sent == 0
            && let Some((tag, mut line)) = self.owed.take()
        {
            // Armed before a byte leaves, so its answer cannot come first.
            if let Ok(mut framer) = self.framer.lock() {
                framer.skip_until(&tag);
            }
            line.append(&mut self.out);
            self.out = line;
        }
        while self.out_sent < self.out.len() {
            let rest = &self.out[self.out_sent..];
            let n = std::task::ready!(self.inner.io().poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_sent += n;
        }
        self.out.clear();
        self.out_sent = 0;
        Poll::Ready(Ok(()))
    }

    /// A stream to an in-process peer (tests on the paused clock), with the usual limits.
    #[cfg(test)]
    pub(crate) fn in_memory(peer: tokio::io::DuplexStream) -> Self {
        MailStream::new(Inner::Memory(peer), Limits::default())
    }

    pub fn tap(&self) -> StatusTap {
        StatusTap(self.framer.clone())
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.inner, Inner::Tls(_))
    }
}

impl AsyncRead for MailStream {
    /// Every byte from the socket goes through the [`Framer`] first: past a limit the read
    /// fails and the parser never sees the bytes; a captured ESEARCH is left out.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.incoming.is_empty() || this.ended {
                let n = buf.remaining().min(this.incoming.len());
                buf.put_slice(&this.incoming[..n]);
                this.incoming.drain(..n);
                return Poll::Ready(Ok(()));
            }
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            // No more than the reader asked for, so what it has not taken stays in the socket
            // (a check for unrequested bytes after the greeting looks at the reader's buffer).
            let want = buf.remaining().min(this.scratch.len());
            let mut chunk = ReadBuf::new(&mut this.scratch[..want]);
            std::task::ready!(this.inner.io().poll_read(cx, &mut chunk))?;
            let fresh = chunk.filled();
            let mut framer = this
                .framer
                .lock()
                .map_err(|_| io::Error::other("framer lock poisoned"))?;
            if fresh.is_empty() {
                this.ended = true;
                framer.release_held(&mut this.incoming);
            } else if let Err(limit) = framer.filter(fresh, &mut this.incoming) {
                // Refuse before the parser ever sees the bytes.
                this.incoming.clear();
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, limit)));
            }
            if let Some(status) = framer.take_skipped() {
                // Whatever the server said to a command we owed it (`ID`), the session goes on.
                debug!(
                    status = %status.status,
                    words = %status.text,
                    "the server answered the command sent ahead of the session's first"
                );
            }
            if let Some(line) = framer.take_unreadable() {
                // What async-imap says of a response it cannot parse (`imap_error` reads it).
                return Poll::Ready(Err(io::Error::other(format!("unparsable: {line}"))));
            }
            // Everything read may have been held back or captured: read again (the socket
            // says when there is more), never report an empty read, which means the end.
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Gathered until the flush (async-imap flushes after every command), which sends it
        // in one write — with the piggyback behind it when one is armed. async-imap writes
        // tag, space, command and CRLF separately: without this each command left as four
        // TCP segments or TLS records (~90 bytes of TLS framing and four tiny packets each).
        // Only our own commands pass here, so the buffer is as large as the longest command.
        let _ = cx;
        let this = self.get_mut();
        this.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_write_gathered(cx))?;
        this.inner.io().poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // A piggyback no command carried is dropped, never sent on its own.
        this.piggyback = None;
        this.ahead = None;
        this.owed = None;
        std::task::ready!(this.poll_write_gathered(cx))?;
        this.inner.io().poll_shutdown(cx)
    }
}

/// What the TLS handshake established, for `account test`.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    pub protocol: String,
    pub cipher: String,
    /// Subject of the server's certificate, e.g. `CN=imap.example.com`.
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    /// The handshake resumed an earlier session of the same `TlsConfigs` (TLS 1.3 tickets):
    /// no certificate chain sent or verified again, one flight less of CPU on both sides.
    pub resumed: bool,
}

/// A connected, greeted stream, not yet authenticated.
#[derive(Debug)]
pub struct Greeted {
    pub stream: MailStream,
    /// Capabilities valid on this (possibly encrypted) stream, upper-cased.
    pub capabilities: Vec<String>,
    pub tls: Option<TlsInfo>,
}

/// Opens TCP (keepalive on), does TLS or STARTTLS as configured, reads the greeting and learns
/// the capabilities. Every step has `connect_timeout`.
pub async fn connect(account: &Account, tls: &TlsConfigs) -> Result<Greeted, ConnectError> {
    let t = account.timing.connect_timeout;
    let tcp = step(
        t,
        Step::Connecting,
        tcp_connect(&account.host, account.port),
    )
    .await?;
    match account.security {
        Security::Tls => implicit_tls(account, tls, tcp).await,
        Security::Starttls => starttls(account, tls, tcp).await,
        Security::Plain => plain(account, tcp).await,
    }
}

/// TLS from the first byte (port 993), then the greeting inside it.
async fn implicit_tls(
    account: &Account,
    tls: &TlsConfigs,
    tcp: TcpStream,
) -> Result<Greeted, ConnectError> {
    let (reader, info) = over_tls(account, tls, tcp).await?;
    greeted(account, reader, Some(info)).await
}

/// Strict STARTTLS (port 143): the greeting and capabilities in clear, nothing believed from
/// them but "STARTTLS is offered", no byte accepted that we did not ask for, then TLS and the
/// capabilities asked again inside it.
async fn starttls(
    account: &Account,
    tls: &TlsConfigs,
    tcp: TcpStream,
) -> Result<Greeted, ConnectError> {
    let t = account.timing.connect_timeout;
    let mut reader = BufReader::new(tcp);
    let caps = step(
        t,
        Step::Greeting,
        greeting_and_capabilities(&mut reader, true),
    )
    .await?;
    if !has(&caps, "STARTTLS") {
        return Err(ConnectError::StarttlsUnavailable);
    }
    // Nothing may be waiting before we ask: a tagged OK that arrived early (in the
    // greeting's segment, before the command existed) would otherwise be read as the
    // answer to STARTTLS.
    if !reader.buffer().is_empty() {
        return Err(ConnectError::unsafe_(UnsafeCause::DataBeforeStarttls));
    }
    step(
        t,
        Step::Starttls,
        command_ok(&mut reader, "S1 STARTTLS", "S1"),
    )
    .await?;
    // Anything already buffered arrived before the handshake and is not covered by TLS:
    // it is an injection attempt (CVE-2011-0411 class), never data to act on.
    if !reader.buffer().is_empty() {
        return Err(ConnectError::unsafe_(UnsafeCause::DataAfterStarttls));
    }
    let (mut reader, info) = over_tls(account, tls, reader.into_inner()).await?;
    // Capabilities learned before TLS are untrusted (RFC 3501 §6.2.1): ask again.
    let caps = step(t, Step::Capabilities, capabilities(&mut reader, "S2")).await?;
    let stream = no_leftover(reader, Step::Capabilities)?;
    Ok(Greeted {
        stream,
        capabilities: caps,
        tls: Some(info),
    })
}

/// The TLS handshake on `tcp` (bounded by `connect_timeout`), and the guarded stream over it.
async fn over_tls(
    account: &Account,
    tls: &TlsConfigs,
    tcp: TcpStream,
) -> Result<(BufReader<MailStream>, TlsInfo), ConnectError> {
    let t = account.timing.connect_timeout;
    let stream = step(t, Step::TlsHandshake, tls_handshake(account, tls, tcp)).await?;
    let info = tls_info(&stream, &account.host);
    let reader = BufReader::new(MailStream::new(
        Inner::Tls(Box::new(stream)),
        Limits::default(),
    ));
    Ok((reader, info))
}

/// No encryption: only to a loopback address (tests, a local bridge such as Proton's).
async fn plain(account: &Account, tcp: TcpStream) -> Result<Greeted, ConnectError> {
    if !is_loopback_host(&account.host) {
        return Err(ConnectError::config(ConfigProblem::PlainNotLoopback {
            host: account.host.clone(),
        }));
    }
    let reader = BufReader::new(MailStream::new(Inner::Plain(tcp), Limits::default()));
    greeted(account, reader, None).await
}

/// The greeting and capabilities on a stream that is already what it will stay (TLS, or
/// plain on loopback), with nothing left over after them.
async fn greeted(
    account: &Account,
    mut reader: BufReader<MailStream>,
    tls: Option<TlsInfo>,
) -> Result<Greeted, ConnectError> {
    let t = account.timing.connect_timeout;
    let capabilities = step(
        t,
        Step::Greeting,
        greeting_and_capabilities(&mut reader, false),
    )
    .await?;
    let stream = no_leftover(reader, Step::Greeting)?;
    Ok(Greeted {
        stream,
        capabilities,
        tls,
    })
}

/// True for `localhost`, 127.0.0.0/8 and ::1 — the only hosts plaintext IMAP is allowed to.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn has(caps: &[String], cap: &str) -> bool {
    caps.iter().any(|c| c.eq_ignore_ascii_case(cap))
}

pub(crate) async fn step<T, F>(limit: Duration, what: Step, fut: F) -> Result<T, ConnectError>
where
    F: Future<Output = Result<T, ConnectError>>,
{
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| ConnectError::Timeout(what))?
}

/// A check every address a mail connection goes to must pass, for a host that connects on other
/// people's behalf (the relay refuses private and loopback addresses a user's DNS name may point
/// to). Checked on the addresses actually connected to, after resolution, so a name whose answer
/// changes between an earlier check and the connection cannot slip through. Unset on the
/// desktop: the user's own machine may reach a server on the LAN.
pub type AddressGuard = Box<dyn Fn(std::net::IpAddr) -> Result<(), String> + Send + Sync>;

static ADDRESS_GUARD: std::sync::OnceLock<AddressGuard> = std::sync::OnceLock::new();

/// Installs the process's [`AddressGuard`] (once; a second call is refused).
pub fn install_address_guard(guard: AddressGuard) -> Result<(), AddressGuard> {
    ADDRESS_GUARD.set(guard)
}

pub(crate) async fn tcp_connect(host: &str, port: u16) -> Result<TcpStream, ConnectError> {
    let name = host.trim_start_matches('[').trim_end_matches(']');
    let unreachable = |words: String| {
        ConnectError::network(NetCause::Unreachable {
            host: host.to_owned(),
            port,
        })
        .with_words(words)
    };
    let tcp = match ADDRESS_GUARD.get() {
        None => TcpStream::connect((name, port))
            .await
            .map_err(|e| unreachable(e.to_string()))?,
        Some(guard) => {
            let mut refused = None;
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .filter(|a| match guard(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused = Some(why);
                        false
                    }
                })
                .collect();
            if addrs.is_empty() {
                return Err(unreachable(
                    refused.unwrap_or_else(|| "no address".to_owned()),
                ));
            }
            TcpStream::connect(&addrs[..])
                .await
                .map_err(|e| unreachable(e.to_string()))?
        }
    };
    tcp.set_nodelay(true).ok();
    // Keepalive lets the kernel notice a vanished peer even when IMAP is silent for minutes.
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(60))
        .with_interval(Duration::from_secs(15));
    socket2::SockRef::from(&tcp)
        .set_tcp_keepalive(&ka)
        .map_err(|e| ConnectError::network(NetCause::Keepalive).with_words(e.to_string()))?;
    Ok(tcp)
}

/// TLS configurations already built, one per distinct `ca_file` (path and contents), shared by
/// every connection made with this value: building one loads and parses every root certificate
/// of the system (~5 ms of CPU and ~80 KB of heap), and its session cache lets reconnects
/// resume. The engine owns one for all its accounts (500 accounts: 77 → 22.5 MB); a one-off
/// connection (account test, folder list) makes its own. Owned, not a process-wide static, so
/// tests and several engines in one process stay independent.
///
/// Held for [`TLS_CONFIG_MAX_AGE`] even while no connection uses it: its session cache is what
/// lets the next connection resume (a reconnect, every POP3 check), and a configuration that
/// died with the last connection took its tickets with it (measured: no reconnect resumed).
/// After that age it is rebuilt for the next connection, so changes to the system's trust
/// store reach a long-running process (connections already open keep theirs); at most one per
/// `ca_file` in use within the hour is kept.
#[derive(Default)]
pub struct TlsConfigs(Mutex<Vec<CachedTlsConfig>>);

impl std::fmt::Debug for TlsConfigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfigs")
    }
}

const TLS_CONFIG_MAX_AGE: Duration = Duration::from_secs(3600);

struct CachedTlsConfig {
    ca_file: Option<(PathBuf, Vec<u8>)>,
    built: Instant,
    config: Arc<rustls::ClientConfig>,
}

impl TlsConfigs {
    /// The configuration for `account`'s `ca_file`, built once and shared.
    fn get(&self, account: &Account) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
        // The file is read on every connect (it is small), so an edited `ca_file` takes effect
        // at the next connection.
        let ca_file = match &account.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    ConnectError::config(ConfigProblem::CaFileUnreadable {
                        path: path.display().to_string(),
                    })
                    .with_words(e.to_string())
                })?;
                Some((path.clone(), pem))
            }
            None => None,
        };
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|c| c.built.elapsed() < TLS_CONFIG_MAX_AGE);
        if let Some(c) = cache.iter().find(|c| c.ca_file == ca_file) {
            return Ok(c.config.clone());
        }
        // Built under the lock: hundreds of accounts starting at once then build it once.
        let config = build_tls_config(ca_file.as_ref())?;
        cache.push(CachedTlsConfig {
            ca_file,
            built: Instant::now(),
            config: config.clone(),
        });
        Ok(config)
    }
}

fn build_tls_config(
    ca_file: Option<&(PathBuf, Vec<u8>)>,
) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra: Vec<CertificateDer<'static>> = match ca_file {
        Some((path, pem)) => {
            let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut pem.as_slice()).collect();
            let shown = || path.display().to_string();
            let certs = certs.map_err(|e| {
                ConnectError::config(ConfigProblem::CaFileNotPem { path: shown() })
                    .with_words(e.to_string())
            })?;
            if certs.is_empty() {
                return Err(ConnectError::config(ConfigProblem::CaFileEmpty {
                    path: shown(),
                }));
            }
            // A block cut in the middle (a bad copy-paste) can still be valid base64: the PEM
            // reader accepts it and the verifier later fails with a bare `BadEncoding` that
            // reads like a problem with the system's store. Parse each one here to name it.
            for (n, cert) in certs.iter().enumerate() {
                if let Err(e) = x509_parser::parse_x509_certificate(cert.as_ref()) {
                    // x509-parser's own words ("Parsing Error: NomError(Eof)") help nobody.
                    debug!("ca_file certificate {} does not parse: {e}", n + 1);
                    return Err(ConnectError::config(ConfigProblem::CaFileDamaged {
                        path: shown(),
                        n: n + 1,
                        count: certs.len(),
                    }));
                }
            }
            certs
        }
        None => Vec::new(),
    };
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone()).map_err(
            |e| match ca_file {
                // The system's own roots were fine before this file was added to them.
                Some((path, _)) => ConnectError::config(ConfigProblem::CaFileUnusable {
                    path: path.display().to_string(),
                })
                .with_words(e.to_string()),
                None => ConnectError::Tls {
                    reason: TlsReason::SystemRoots,
                    host: None,
                    words: words(e.to_string()),
                },
            },
        )?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ConnectError::Tls {
            reason: TlsReason::Setup,
            host: None,
            words: words(e.to_string()),
        })?
        .dangerous() // not dangerous: the platform verifier checks chain and hostname
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

pub(crate) async fn tls_handshake(
    account: &Account,
    tls: &TlsConfigs,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, ConnectError> {
    let config = tls.get(account)?;
    let name = ServerName::try_from(
        account
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .map_err(|_| {
        ConnectError::config(ConfigProblem::BadHostName {
            host: account.host.clone(),
        })
    })?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| ConnectError::from_tls_io(&account.host, e))
}

/// What the handshake on `tls` (to `host`) negotiated; logged at debug, with whether it
/// resumed an earlier session.
pub(crate) fn tls_info(tls: &TlsStream<TcpStream>, host: &str) -> TlsInfo {
    let (_, conn) = tls.get_ref();
    let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    let mut info = TlsInfo {
        protocol: conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        subject: String::new(),
        issuer: String::new(),
        not_after: String::new(),
        resumed,
    };
    debug!(host, protocol = %info.protocol, resumed, "TLS handshake done");
    if let Some(cert) = conn.peer_certificates().and_then(|c| c.first())
        && let Ok((_, x509)) = x509_parser::parse_x509_certificate(cert.as_ref())
    {
        info.subject = x509.subject().to_string();
        info.issuer = x509.issuer().to_string();
        info.not_after = x509.validity().not_after.to_string();
    }
    info
}

/// Reads one CRLF line, at most [`Limits::max_line`] bytes.
async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Result<String, ConnectError> {
    let mut line = Vec::new();
    let max = Limits::default().max_line as u64;
    let n = (&mut *r)
        .take(max)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| ConnectError::network(NetCause::Failed).with_words(e.to_string()))?;
    if n == 0 {
        return Err(ConnectError::network(NetCause::Closed));
    }
    if !line.ends_with(b"\n") {
        return Err(ConnectError::protocol(ProtoCause::OverlongLine));
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

use tokio::io::AsyncReadExt as _;

/// Greeting, then capabilities (from the greeting's code, or by asking).
async fn greeting_and_capabilities<R: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<R>,
    before_tls: bool,
) -> Result<Vec<String>, ConnectError> {
    let greeting = read_line(r).await?;
    let upper = greeting.to_ascii_uppercase();
    if upper.starts_with("* PREAUTH") {
        // A PREAUTH greeting skips authentication, and on a connection that was to be upgraded
        // with STARTTLS it means we could never encrypt: refuse either way.
        // Before TLS it is what a man in the middle would send to keep us unencrypted.
        return Err(if before_tls {
            ConnectError::unsafe_(UnsafeCause::PreauthBeforeTls)
        } else {
            ConnectError::protocol(ProtoCause::Preauth)
        });
    }
    if upper.starts_with("* BYE") {
        return Err(ConnectError::Throttled(String::new()).with_words(&greeting));
    }
    if !upper.starts_with("* OK") {
        return Err(ConnectError::protocol(ProtoCause::UnexpectedGreeting).with_words(&greeting));
    }
    if let Some(caps) = capability_code(&greeting) {
        return Ok(caps);
    }
    capabilities(r, "C1").await
}

fn capability_code(line: &str) -> Option<Vec<String>> {
    let start = line.find('[')?;
    let end = line[start..].find(']')? + start;
    let inner = &line[start + 1..end];
    let mut words = inner.split_ascii_whitespace();
    if !words.next()?.eq_ignore_ascii_case("CAPABILITY") {
        return None;
    }
    Some(words.map(str::to_ascii_uppercase).collect())
}

async fn capabilities<R: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<R>,
    tag: &str,
) -> Result<Vec<String>, ConnectError> {
    write_line(r, &format!("{tag} CAPABILITY")).await?;
    let mut caps = Vec::new();
    loop {
        let line = read_line(r).await?;
        let upper = line.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("* CAPABILITY ") {
            caps.extend(rest.split_ascii_whitespace().map(str::to_owned));
        } else if upper.starts_with(&format!("{tag} ")) {
            if upper.starts_with(&format!("{tag} OK")) {
                return Ok(caps);
            }
            return Err(ConnectError::protocol(ProtoCause::Refused)
                .at(Step::Capabilities)
                .with_words(&line));
        } else if is_tagged(&line) {
            return Err(foreign_tag(&line));
        } else if upper.starts_with("* BYE") {
            return Err(ConnectError::network(NetCause::Bye)
                .at(Step::Capabilities)
                .with_words(&line));
        }
    }
}

async fn command_ok<R: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<R>,
    command: &str,
    tag: &str,
) -> Result<(), ConnectError> {
    write_line(r, command).await?;
    loop {
        let line = read_line(r).await?;
        let upper = line.to_ascii_uppercase();
        if upper.starts_with(&format!("{tag} OK")) {
            return Ok(());
        }
        if upper.starts_with(&format!("{tag} ")) {
            return Err(ConnectError::StarttlsRefused(String::new()).with_words(&line));
        }
        if is_tagged(&line) {
            return Err(foreign_tag(&line));
        }
        // Untagged lines before the tagged answer are ignored; they came before encryption.
    }
}

/// A tagged line (not `*` untagged, not `+` continuation).
fn is_tagged(line: &str) -> bool {
    !line.is_empty() && !line.starts_with('*') && !line.starts_with('+')
}

/// Before TLS and login we send one command at a time, so an answer to any other tag is either
/// a broken server or an injected response: refuse before any credential is sent.
fn foreign_tag(line: &str) -> ConnectError {
    ConnectError::unsafe_(UnsafeCause::ForeignTag).with_words(line)
}

async fn write_line<W: AsyncWrite + Unpin>(w: &mut W, line: &str) -> Result<(), ConnectError> {
    w.write_all(format!("{line}\r\n").as_bytes())
        .await
        .and(w.flush().await)
        .map_err(|e| ConnectError::network(NetCause::Failed).with_words(e.to_string()))
}

/// Nothing may be buffered when the stream is handed on: bytes we did not ask for.
fn no_leftover(reader: BufReader<MailStream>, when: Step) -> Result<MailStream, ConnectError> {
    if !reader.buffer().is_empty() {
        return Err(ConnectError::protocol(ProtoCause::UnrequestedAfterGreeting).at(when));
    }
    Ok(reader.into_inner())
}

/// What an async-imap error during `step` means. A connection that ended after the server
/// said `* BYE` carries the server's words (why it left), not a bare "connection lost".
pub fn imap_error(step: Step, e: async_imap::error::Error, tap: &StatusTap) -> ConnectError {
    use async_imap::error::Error as E;
    use std::io::ErrorKind;
    let ended = |tap: &StatusTap| match tap.take_bye() {
        Some(said) => ConnectError::network(NetCause::Bye).with_words(said),
        None => ConnectError::network(NetCause::Lost),
    };
    let error = match e {
        // The framer's limits (`imap/transport/framing.rs`) come as InvalidData carrying the limit.
        E::Io(io) if io.kind() == ErrorKind::InvalidData => {
            match io
                .get_ref()
                .and_then(|i| i.downcast_ref::<framing::LimitError>())
            {
                Some(limit) => ConnectError::protocol(ProtoCause::Limit(limit.clone())),
                // Anything else with InvalidData mid-session is TLS (a fatal alert, a bad
                // record MAC, a middlebox tampering): the link, not a message's fault.
                None => ConnectError::network(NetCause::Failed).with_words(io.to_string()),
            }
        }
        // imap-proto could not parse what the server sent; async-imap wraps that as
        // `io::Error::other` whose text is a Debug dump of the parser state and the buffer:
        // for the log (capped), never for a person. Being the server's bytes, not the
        // network's, it may put a folder under care (`watch/memory.rs`).
        E::Io(io) if io.kind() == ErrorKind::Other => {
            tracing::debug!(
                "unparsable response: {}",
                crate::text::truncate_for_log(&io.to_string())
            );
            ConnectError::protocol(ProtoCause::Unparsable)
        }
        E::Io(io) if io.kind() == ErrorKind::UnexpectedEof => ended(tap),
        E::Io(io) => match tap.take_bye() {
            Some(said) => ConnectError::network(NetCause::Bye).with_words(said),
            None => ConnectError::network(NetCause::Failed).with_words(io.to_string()),
        },
        E::ConnectionLost => ended(tap),
        // async-imap's text for some refusals is a Debug dump of the response; the framer
        // kept the tagged line itself, whose text is the server's words.
        E::No(m) | E::Bad(m) => {
            ConnectError::protocol(ProtoCause::Refused).with_words(tap.take().map_or(m, |s| s.text))
        }
        other => ConnectError::protocol(ProtoCause::Other).with_words(other.to_string()),
    };
    error.at(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1",
            "192.168.1.1",
            "::2",
            "localhost.example.com",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    /// A throw-away self-signed CA (P-256, valid until 2126), only parsed here.
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUdVHMCVqja2Py/0LUXrRUZhR165wwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQUHVzaG1haWwgdGVzdCBDQTAgFw0yNjExMjIwNTUwMTlaGA8y
MTI2MTAyOTA1NTAxOVowGzEZMBcGA1UEAwwQUHVzaG1haWwgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABHvX1repk9dAcsymD9wUkxhf0m2EZO1Gn6Up
76SAFLrSMiSx97sB1fIcrDAXCrDadSuaVuOMomp5TJEBKR9PhdujYzBhMB0GA1Ud
DgQWBBS78I9cgZJfq2ojvgUIUljIIjCtMDAfBgNVHSMEGDAWgBS78I9cgZJfq2oj
vgUIUljIIjCtMDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICBDAKBggq
hkjOPQQDAgNIADBFAiBW16jplekK8fFnHThEc4Q5B/sVo6+QI+0Efg1ifQpQOgIh
APa6M1gXZYltOL+e8bS5uZo+/C+uq9o13+qVLXKdfyAa
-----END CERTIFICATE-----
";

    #[test]
    fn tls_config_is_shared_per_ca_file_and_follows_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.pem"), dir.path().join("two.pem"));
        std::fs::write(&one, TEST_CA).unwrap();
        std::fs::write(&two, TEST_CA).unwrap();
        let with = |path: &std::path::Path| {
            let mut a = Account::new("a", "imap.example.com", "ana");
            a.ca_file = Some(path.to_owned());
            a
        };
        let configs = TlsConfigs::default();
        let tls_config = |a: &Account| configs.get(a);
        let first = tls_config(&with(&one)).unwrap();
        // Another account with the same ca_file: the same configuration, not a second copy.
        let again = tls_config(&with(&one)).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // Another file (even with the same certificate) gets its own.
        let other = tls_config(&with(&two)).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        // An edited file is read again at the next connection.
        std::fs::write(&one, format!("{TEST_CA}{TEST_CA}")).unwrap();
        let edited = tls_config(&with(&one)).unwrap();
        assert!(!Arc::ptr_eq(&first, &edited));
        // Errors are still per connection, never cached.
        // A block with lines cut from its middle (still valid base64) names the file.
        let cut: String = TEST_CA
            .lines()
            .enumerate()
            .filter(|(i, _)| !(3..6).contains(i))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        std::fs::write(&one, cut).unwrap();
        match tls_config(&with(&one)) {
            Err(e @ ConnectError::Config { .. }) => {
                let m = e.to_string();
                assert!(m.contains("one.pem") && m.contains("damaged"), "{m}")
            }
            other => panic!("a cut certificate: {other:?}"),
        }
        std::fs::write(&one, "not a certificate").unwrap();
        assert!(matches!(
            tls_config(&with(&one)),
            Err(ConnectError::Config { .. })
        ));
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            tls_config(&with(&missing)),
            Err(ConnectError::Config { .. })
        ));
    }

    /// A pipelined command leaves behind the next command written, in the same write, and
    /// never before it (a flush with nothing written leaves it waiting).
    #[tokio::test]
    async fn a_pipelined_command_rides_behind_the_next_one() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let mut stream = MailStream::in_memory(ours);
        assert_eq!(stream.pipeline("UID FETCH 5:* (UID FLAGS)"), "P1");
        stream.flush().await.unwrap();
        stream.write_all(b"DONE").await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
        let mut got = [0u8; 64];
        // Nothing has left yet: the write is gathered until the flush.
        assert!(
            tokio::time::timeout(Duration::from_millis(20), theirs.read(&mut got))
                .await
                .is_err()
        );
        stream.flush().await.unwrap();
        let n = theirs.read(&mut got).await.unwrap();
        assert_eq!(&got[..n], b"DONE\r\nP1 UID FETCH 5:* (UID FLAGS)\r\n");
        // Then a command in pieces, as async-imap writes it, leaves in one piece at its flush,
        // with nothing behind it; the next tag is P2.
        for piece in [&b"A4"[..], b" ", b"NOOP", b"\r\n"] {
            stream.write_all(piece).await.unwrap();
        }
        assert!(
            tokio::time::timeout(Duration::from_millis(20), theirs.read(&mut got))
                .await
                .is_err()
        );
        stream.flush().await.unwrap();
        let n = theirs.read(&mut got).await.unwrap();
        assert_eq!(&got[..n], b"A4 NOOP\r\n");
        assert_eq!(stream.pipeline("NOOP"), "P2");
    }

    /// An owed command (`ID`) leaves first in the next write — before the commands sent
    /// ahead and the one async-imap writes — once, and never on its own.
    #[tokio::test]
    async fn an_owed_command_leaves_first_with_the_next_write() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let mut stream = MailStream::in_memory(ours);
        assert_eq!(stream.owe("ID (\"name\" \"Pushmail\")"), "P1");
        // A flush with nothing written sends nothing.
        stream.flush().await.unwrap();
        let mut got = [0u8; 256];
        assert!(
            tokio::time::timeout(Duration::from_millis(20), theirs.read(&mut got))
                .await
                .is_err()
        );
        assert_eq!(
            stream.ahead(&["SELECT \"INBOX\"".into(), "UID SEARCH UNSEEN".into()]),
            ["P2", "P3"]
        );
        stream.write_all(b"A3 IDLE\r\n").await.unwrap();
        stream.flush().await.unwrap();
        let n = theirs.read(&mut got).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got[..n]),
            "P1 ID (\"name\" \"Pushmail\")\r\nP2 SELECT \"INBOX\"\r\nP3 UID SEARCH UNSEEN\r\nA3 IDLE\r\n"
        );
        // Its answer is skipped, the flight's held, async-imap's handed on.
        theirs
            .write_all(b"* ID NIL\r\nP1 NO not now\r\n* 0 EXISTS\r\nP2 OK x\r\n* SEARCH\r\nP3 OK y\r\n+ idling\r\n")
            .await
            .unwrap();
        let mut read = Vec::new();
        while !read.ends_with(b"+ idling\r\n") {
            let n = stream.read(&mut got).await.unwrap();
            read.extend_from_slice(&got[..n]);
        }
        assert_eq!(read, b"+ idling\r\n");
        let (held, complete) = stream.tap().take_held();
        assert!(complete);
        assert_eq!(held.len(), 4);
        // Sent once: the next command goes alone.
        stream.write_all(b"A4 NOOP\r\n").await.unwrap();
        stream.flush().await.unwrap();
        let n = theirs.read(&mut got).await.unwrap();
        assert_eq!(&got[..n], b"A4 NOOP\r\n");
    }

    #[test]
    fn capability_code_is_read_from_greeting() {
        assert_eq!(
            capability_code("* OK [CAPABILITY IMAP4rev1 IDLE starttls] Dovecot ready."),
            Some(vec!["IMAP4REV1".into(), "IDLE".into(), "STARTTLS".into()])
        );
        assert_eq!(capability_code("* OK [ALERT] hi"), None);
        assert_eq!(capability_code("* OK hi"), None);
    }
}
