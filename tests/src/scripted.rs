//! A scripted IMAP server on loopback, for the faults no real server produces on demand.
//!
//! Each accepted connection plays a [`Script`]: a list of [`Step`]s such as "send these bytes",
//! "expect a line containing this", "answer like a small IMAP server until the client sends
//! IDLE", "stall", "close", "reset". The built-in answers ([`Step::Serve`]) know just enough
//! IMAP for Pushmail's session (CAPABILITY, LOGIN, AUTHENTICATE PLAIN, AUTHENTICATE with an
//! initial response (SASL-IR: the XOAUTH2/OAUTHBEARER token logins), SELECT, UID FETCH,
//! FETCH, UID SEARCH, NOOP, IDLE/DONE, LOGOUT, ID, LIST) over one shared [`Mailbox`], so a
//! script only spells out the part that misbehaves and the rest of the session is real enough
//! for mail to be announced. Provider quirks are options of a script: [`Script::netease`]
//! answers `ID` as NetEase does and refuses `SELECT` until it was sent.
//!
//! Plain TCP or TLS (a throw-away CA made with `openssl`, as for Dovecot; also expired,
//! wrong-host and unknown-CA certificates, see [`CertKind`]), and STARTTLS through
//! [`Step::StartTls`]. The server records what each client sent — above all whether a `LOGIN`
//! or `AUTHENTICATE` ever arrived — so a test can prove a credential was never offered.
//!
//! Synchronous and `std` only like the rest of the harness: one thread per connection, read
//! timeouts of [`TICK`] so every wait notices new mail and the server being dropped.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::run_ok;

/// Read timeout of every connection: how soon a waiting step notices new mail, a kick or the
/// server being dropped. Short enough to add no visible latency, long enough not to spin.
pub const TICK: Duration = Duration::from_millis(20);

/// A write to a client that stopped reading gives up after this long, so a hostile payload
/// aimed at a client that (correctly) hung up cannot wedge the connection thread.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of each client line is kept in [`ConnRecord::lines`].
pub(crate) const LINE_KEEP: usize = 300;

/// Longest client line the server accepts before dropping the connection (the client under
/// test is not hostile, but a bug in it must not eat the test machine's memory).
pub(crate) const MAX_CLIENT_LINE: usize = 64 * 1024;

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(30);

/// Capabilities announced by [`Script::new`]: IMAP4rev1 with IDLE, and AUTH=PLAIN so a client
/// that prefers SASL has it.
pub const DEFAULT_CAPABILITIES: &str = "IMAP4rev1 IDLE AUTH=PLAIN";

/// How a connection answers RFC 2971 `ID` (whatever the capabilities announce): chosen with
/// [`Script::netease`], [`Script::answer_id_like_netease`] or [`Script::refuse_id`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum IdAnswer {
    /// A bare `OK`, and nothing else depends on it.
    #[default]
    Plain,
    /// As NetEase (163.com, 126.com, yeah.net; Coremail) does: `* ID ("name" "Coremail Imap"
    /// …)` and `OK`; and until `ID` was sent on the connection, `SELECT` and `EXAMINE` are
    /// refused with [`UNSAFE_LOGIN`].
    NetEase,
    /// `NO`: a server that advertises `ID` and then refuses it.
    Refuse,
}

/// NetEase's answer to a `SELECT` or `EXAMINE` before `ID` (after the tag).
const UNSAFE_LOGIN: &str = "NO SELECT Unsafe Login. Please contact kefu@188.com for help";

/// Capabilities of [`Script::netease`]: what 163.com announces that Pushmail may act on, with
/// `IDLE` (for push) and `AUTH=PLAIN`.
const NETEASE_CAPABILITIES: &str = "IMAP4rev1 ID LITERAL+ UIDPLUS IDLE AUTH=PLAIN";

/// One thing a connection does. Steps run in order; when they run out the connection closes.
#[derive(Clone)]
pub enum Step {
    /// Write these bytes. `{tag}` becomes the tag of the last command received, `{idle}` the
    /// tag of the last IDLE command (to answer its `DONE` after a command the client pipelined
    /// behind it), `{exists}` the number of messages in the mailbox and `{uidnext}` its next
    /// UID (replaced only where they appear, so literal announcements like `{4294967295}` are
    /// left alone). A write that fails
    /// (the client hung up) ends the script and is recorded in [`ConnRecord::write_failed`].
    Send(Vec<u8>),
    /// Read the next line from the client; it must contain this text (ASCII case-insensitive),
    /// otherwise the connection is closed and [`ConnRecord::unexpected`] records the line.
    Expect(String),
    /// Read one line from the client (a SASL response, say), recorded but not treated as a
    /// command: the current tag stays.
    Read,
    /// Answer the command received last (by [`Step::Expect`] or [`Step::ServeUntil`]) the way
    /// [`Step::Serve`] would.
    Answer,
    /// Answer commands like a small IMAP server until one contains this text (ASCII
    /// case-insensitive); that command is left unanswered for the following steps.
    ServeUntil(String),
    /// Answer commands like a small IMAP server until the client leaves.
    Serve,
    /// Continue an IDLE the script started itself (after sending `+ idling`): report new mail
    /// as `* N EXISTS` and answer `DONE` with the IDLE command's tag.
    Idle,
    /// Add a message with this subject to the mailbox, as if it were delivered right now.
    Deliver(String),
    /// TLS handshake as the server, on a connection that is still plain (after a STARTTLS OK).
    StartTls,
    /// Do nothing for this long (keep reading nothing).
    Pause(Duration),
    /// Stop answering but keep the connection open, reading and discarding what the client
    /// sends, until the client leaves or the server is dropped.
    Stall,
    /// Close the connection (FIN).
    Close,
    /// Reset the connection (RST, via `SO_LINGER` 0).
    Reset,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Send(b) if b.len() > 80 => write!(f, "Send({} bytes)", b.len()),
            Step::Send(b) => write!(f, "Send({:?})", String::from_utf8_lossy(b)),
            Step::Expect(s) => write!(f, "Expect({s:?})"),
            Step::Read => f.write_str("Read"),
            Step::Answer => f.write_str("Answer"),
            Step::ServeUntil(s) => write!(f, "ServeUntil({s:?})"),
            Step::Serve => f.write_str("Serve"),
            Step::Idle => f.write_str("Idle"),
            Step::Deliver(s) => write!(f, "Deliver({s:?})"),
            Step::StartTls => f.write_str("StartTls"),
            Step::Pause(d) => write!(f, "Pause({d:?})"),
            Step::Stall => f.write_str("Stall"),
            Step::Close => f.write_str("Close"),
            Step::Reset => f.write_str("Reset"),
        }
    }
}

/// What one connection plays. Build with the chaining methods:
///
/// ```ignore
/// Script::new().greet().serve_until("IDLE").send("+ idling\r\n* 1 FETCH (BODY[] {4294967295}\r\n").stall()
/// ```
#[derive(Clone, Debug)]
pub struct Script {
    steps: Vec<Step>,
    capabilities: String,
    id: IdAnswer,
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

impl Script {
    /// An honest STARTTLS server: it offers STARTTLS, answers it, does the TLS handshake and
    /// serves the session inside TLS.
    pub fn starttls() -> Script {
        Script::new()
            .capabilities("IMAP4rev1 STARTTLS IDLE AUTH=PLAIN")
            .greet()
            .expect("STARTTLS")
            .send("{tag} OK Begin TLS negotiation now\r\n")
            .then(Step::StartTls)
            .then(Step::Serve)
    }

    /// STARTTLS stripped from the capabilities, as an attacker (or a broken portal) would:
    /// a client configured for STARTTLS must refuse before sending any credential.
    pub fn starttls_stripped() -> Script {
        Script::new()
            .capabilities("IMAP4rev1 IDLE AUTH=PLAIN")
            .greet()
            .then(Step::Serve)
    }

    /// No steps yet, [`DEFAULT_CAPABILITIES`].
    pub fn new() -> Script {
        Script {
            steps: Vec::new(),
            capabilities: DEFAULT_CAPABILITIES.to_owned(),
            id: IdAnswer::Plain,
        }
    }

    /// A NetEase-like server: it announces `ID` (`IMAP4rev1 ID LITERAL+ UIDPLUS IDLE
    /// AUTH=PLAIN`) and answers it as [`Script::answer_id_like_netease`] says; greeting, then
    /// [`Step::Serve`].
    pub fn netease() -> Script {
        Script::new()
            .capabilities(NETEASE_CAPABILITIES)
            .answer_id_like_netease()
            .greet()
            .then(Step::Serve)
    }

    /// `ID` answered as NetEase (163.com, 126.com, yeah.net; Coremail) does — `* ID ("name"
    /// "Coremail Imap" …)` and `OK` — and until `ID` was sent on the connection, `SELECT` and
    /// `EXAMINE` refused with `NO SELECT Unsafe Login. Please contact kefu@188.com for help`.
    pub fn answer_id_like_netease(mut self) -> Script {
        self.id = IdAnswer::NetEase;
        self
    }

    /// `ID` answered `NO` (a server that announces it and then refuses it); nothing else
    /// depends on it.
    pub fn refuse_id(mut self) -> Script {
        self.id = IdAnswer::Refuse;
        self
    }

    /// A well-behaved server: greeting, then [`Step::Serve`].
    pub fn serve() -> Script {
        Script::new().greet().then(Step::Serve)
    }

    /// What `CAPABILITY` (and the greeting of [`Script::greet`]) announce.
    pub fn capabilities(mut self, caps: &str) -> Script {
        self.capabilities = caps.to_owned();
        self
    }

    /// `* OK [CAPABILITY …] Scripted IMAP ready`.
    pub fn greet(self) -> Script {
        let line = format!(
            "* OK [CAPABILITY {}] Scripted IMAP ready\r\n",
            self.capabilities
        );
        self.send(line)
    }

    pub fn then(mut self, step: Step) -> Script {
        self.steps.push(step);
        self
    }

    pub fn send(self, bytes: impl Into<Vec<u8>>) -> Script {
        self.then(Step::Send(bytes.into()))
    }

    pub fn expect(self, needle: &str) -> Script {
        self.then(Step::Expect(needle.to_owned()))
    }

    pub fn serve_until(self, needle: &str) -> Script {
        self.then(Step::ServeUntil(needle.to_owned()))
    }

    pub fn read(self) -> Script {
        self.then(Step::Read)
    }

    pub fn answer(self) -> Script {
        self.then(Step::Answer)
    }

    pub fn deliver(self, subject: &str) -> Script {
        self.then(Step::Deliver(subject.to_owned()))
    }

    pub fn pause(self, d: Duration) -> Script {
        self.then(Step::Pause(d))
    }

    pub fn stall(self) -> Script {
        self.then(Step::Stall)
    }

    pub fn close(self) -> Script {
        self.then(Step::Close)
    }

    pub fn reset(self) -> Script {
        self.then(Step::Reset)
    }
}

/// One message in the scripted mailbox.
#[derive(Clone, Debug)]
pub struct ScriptedMessage {
    pub uid: u32,
    pub seen: bool,
    pub subject: String,
    /// The header block to serve instead of the generated one (From, Subject, Message-ID),
    /// cut like any other to a partial FETCH's `<0.N>`.
    pub header: Option<Vec<u8>>,
    /// Bytes sent instead of this message's whole `* n FETCH (…)` response whenever its
    /// headers are asked for (a listing of `UID FLAGS` alone is answered normally): a
    /// literal that lies about its size, a response that does not parse. `{seq}` and
    /// `{uid}` are replaced by the message's numbers.
    pub fetch: Option<Vec<u8>>,
}

/// The one folder every connection of a [`ScriptedServer`] sees (whatever name is selected).
#[derive(Clone, Debug)]
pub struct Mailbox {
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub messages: Vec<ScriptedMessage>,
    /// `false`: SELECT answers without `[UIDNEXT …]`, as some servers do.
    pub report_uidnext: bool,
}

impl Default for Mailbox {
    fn default() -> Self {
        Mailbox {
            uidvalidity: 1_700_000_000,
            uidnext: 1,
            messages: Vec::new(),
            report_uidnext: true,
        }
    }
}

impl Mailbox {
    fn add(&mut self, subject: &str) -> u32 {
        self.add_hostile(subject, None, None)
    }

    /// Adds a message whose header block or whole FETCH response is given as bytes (see
    /// [`ScriptedMessage`]). Returns its UID.
    pub fn add_hostile(
        &mut self,
        subject: &str,
        header: Option<Vec<u8>>,
        fetch: Option<Vec<u8>>,
    ) -> u32 {
        let uid = self.uidnext;
        self.uidnext += 1;
        self.messages.push(ScriptedMessage {
            uid,
            seen: false,
            subject: subject.to_owned(),
            header,
            fetch,
        });
        uid
    }
}

/// What the server saw on one connection.
#[derive(Clone, Debug, Default)]
pub struct ConnRecord {
    /// Lines the client sent, in order, each cut to 300 bytes (lossy UTF-8).
    pub lines: Vec<String>,
    /// A `LOGIN` or `AUTHENTICATE` command arrived.
    pub credentials: bool,
    /// The SASL response line after `AUTHENTICATE PLAIN`, and the initial response sent on
    /// the command line (`AUTHENTICATE XOAUTH2 <ir>`, RFC 4959), as sent (base64) and whole
    /// (not cut like [`ConnRecord::lines`]) — recorded also when the script, not the built-in
    /// answer, handles the command.
    pub sasl_responses: Vec<String>,
    /// What followed `ID ` in each `ID` command (RFC 2971), whole, as sent.
    pub id_arguments: Vec<String>,
    /// The client closed or reset the connection (EOF or error on read).
    pub client_left: bool,
    /// A [`Step::Send`] failed: the client hung up while the server was still writing.
    pub write_failed: bool,
    /// An [`Step::Expect`] saw this line instead.
    pub unexpected: Option<String>,
    /// The TLS handshake failed (the client rejected our certificate, or spoke no TLS).
    pub tls_error: Option<String>,
    /// The connection thread has finished.
    pub finished: bool,
}

/// Which certificate a TLS server presents; [`ScriptedServer::ca_file`] is always the CA a
/// client should be configured to trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKind {
    /// Signed by the trusted CA, for `localhost`, 127.0.0.1 and 127.0.0.2, valid now.
    Valid,
    /// Signed by the trusted CA, right names, but valid only in January 2020.
    Expired,
    /// Signed by the trusted CA, valid now, but only for `wrong.example.invalid`.
    WrongHost,
    /// Right names, valid now, but signed by a CA the client does not trust — one that even
    /// has the trusted CA's name (as an interception proxy's CA might), so the client finds
    /// the "issuer" and must notice that its signature does not verify.
    UnknownCa,
}

/// Transport of a [`ScriptedServer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listen {
    /// Plain TCP (clients use `security = "plain"` on loopback, or STARTTLS with
    /// [`Step::StartTls`]); a certificate is still made so `StartTls` works.
    Plain,
    /// Implicit TLS from the first byte, presenting this certificate.
    Tls(CertKind),
}

type ScriptFn = dyn Fn(usize) -> Script + Send + Sync;

struct Shared {
    mailbox: Mutex<Mailbox>,
    records: Mutex<Vec<Arc<Mutex<ConnRecord>>>>,
    /// Clones of every open connection's socket, for [`ScriptedServer::kick`].
    sockets: Mutex<Vec<(usize, TcpStream)>>,
    script: Mutex<Arc<ScriptFn>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    implicit_tls: bool,
    stop: AtomicBool,
    accepted: AtomicUsize,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the whole test's bookkeeping with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A scripted IMAP server on 127.0.0.1. Dropping it stops accepting and ends every connection
/// within a [`TICK`] (or [`WRITE_TIMEOUT`] for one stuck in a write).
pub struct ScriptedServer {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl ScriptedServer {
    /// Starts a server where connection `n` (0-based) plays `script(n)`.
    pub fn start(
        listen: Listen,
        script: impl Fn(usize) -> Script + Send + Sync + 'static,
    ) -> Result<ScriptedServer> {
        let dir = tempfile::tempdir().context("Cannot create a temp dir")?;
        let kind = match listen {
            Listen::Plain => CertKind::Valid,
            Listen::Tls(kind) => kind,
        };
        let certs = make_cert(dir.path(), kind)?;
        let tls = server_config(&certs.cert, &certs.key)?;
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).context("Cannot bind the scripted server")?;
        listener
            .set_nonblocking(true)
            .context("Cannot make the listener non-blocking")?;
        let port = listener.local_addr().context("No local address")?.port();
        let shared = Arc::new(Shared {
            mailbox: Mutex::new(Mailbox::default()),
            records: Mutex::new(Vec::new()),
            sockets: Mutex::new(Vec::new()),
            script: Mutex::new(Arc::new(script)),
            tls: Some(tls),
            implicit_tls: matches!(listen, Listen::Tls(_)),
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
        });
        let s = shared.clone();
        let accept = thread::Builder::new()
            .name("scripted-accept".into())
            .spawn(move || accept_loop(listener, s))
            .context("Cannot start the accept thread")?;
        Ok(ScriptedServer {
            port,
            shared,
            accept: Some(accept),
            ca: certs.trusted_ca,
            _dir: dir,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA file a client should trust (see [`CertKind`]).
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// What every connection so far saw, in accept order.
    pub fn records(&self) -> Vec<ConnRecord> {
        lock(&self.shared.records)
            .iter()
            .map(|r| lock(r).clone())
            .collect()
    }

    /// One connection's record, if it was accepted.
    pub fn record(&self, n: usize) -> Option<ConnRecord> {
        lock(&self.shared.records).get(n).map(|r| lock(r).clone())
    }

    /// Whether any connection ever received `LOGIN` or `AUTHENTICATE`.
    pub fn credentials_seen(&self) -> bool {
        self.records().iter().any(|r| r.credentials)
    }

    /// Replaces the script for connections accepted from now on.
    pub fn set_script(&self, script: impl Fn(usize) -> Script + Send + Sync + 'static) {
        *lock(&self.shared.script) = Arc::new(script);
    }

    /// Closes every open connection (both directions shut down), as a server restart would.
    pub fn kick(&self) {
        for (_, s) in lock(&self.shared.sockets).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Delivers a message; connections in IDLE report it within a [`TICK`]. Returns its UID.
    pub fn deliver(&self, subject: &str) -> u32 {
        lock(&self.shared.mailbox).add(subject)
    }

    /// Changes the mailbox (e.g. a restore from backup: drop messages, lower `uidnext`).
    pub fn with_mailbox<T>(&self, f: impl FnOnce(&mut Mailbox) -> T) -> T {
        f(&mut lock(&self.shared.mailbox))
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.kick();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((sock, _)) => {
                let n = shared.accepted.fetch_add(1, Ordering::SeqCst);
                let record = Arc::new(Mutex::new(ConnRecord::default()));
                lock(&shared.records).push(record.clone());
                if let Ok(clone) = sock.try_clone() {
                    lock(&shared.sockets).push((n, clone));
                }
                let script = (lock(&shared.script))(n);
                let s = shared.clone();
                let spawned = thread::Builder::new()
                    .name(format!("scripted-conn-{n}"))
                    .spawn(move || {
                        let rec = record.clone();
                        run_connection(n, sock, script, &s, &record);
                        forget_socket(&s, n);
                        lock(&rec).finished = true;
                    });
                if spawned.is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Stream {
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// What one read attempt produced.
enum Got {
    Line(Vec<u8>),
    Nothing,
    Gone,
}

/// Why a connection's script stops early.
#[derive(Debug)]
struct Stop;

struct Conn<'a> {
    index: usize,
    stream: Option<Stream>,
    buf: Vec<u8>,
    tag: String,
    /// The tag of the last IDLE command read (`{idle}` in [`Step::Send`]).
    idle_tag: String,
    /// The last command read, not yet answered.
    pending: Option<String>,
    /// Message count last reported to this client (EXISTS), to report only changes.
    reported: usize,
    caps: String,
    /// How `ID` is answered; `ID` was sent on this connection.
    id: IdAnswer,
    id_sent: bool,
    shared: &'a Shared,
    record: &'a Mutex<ConnRecord>,
}

/// Drops the server's clone of connection `n`'s socket, so closing the connection's own handle
/// really closes it (a reset needs the last descriptor gone).
fn forget_socket(shared: &Shared, n: usize) {
    lock(&shared.sockets).retain(|(i, _)| *i != n);
}

fn run_connection(
    index: usize,
    sock: TcpStream,
    script: Script,
    shared: &Shared,
    record: &Mutex<ConnRecord>,
) {
    let _ = sock.set_read_timeout(Some(TICK));
    let _ = sock.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = sock.set_nodelay(true);
    let mut conn = Conn {
        index,
        stream: Some(Stream::Plain(sock)),
        buf: Vec::new(),
        tag: "*".into(),
        idle_tag: "*".into(),
        pending: None,
        reported: 0,
        caps: script.capabilities.clone(),
        id: script.id,
        id_sent: false,
        shared,
        record,
    };
    if shared.implicit_tls && conn.start_tls().is_err() {
        return;
    }
    for step in script.steps {
        if conn.step(step).is_err() {
            return;
        }
    }
    conn.shutdown();
}

impl Conn<'_> {
    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn stream(&mut self) -> Result<&mut Stream, Stop> {
        self.stream.as_mut().ok_or(Stop)
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.tcp().shutdown(Shutdown::Both);
        }
    }

    fn step(&mut self, step: Step) -> Result<(), Stop> {
        match step {
            Step::Send(bytes) => {
                let bytes = self.substitute(bytes);
                self.write(&bytes)
            }
            Step::Expect(needle) => {
                let line = self.read_command()?;
                if !contains_ci(&line, &needle) {
                    lock(self.record).unexpected = Some(line);
                    self.shutdown();
                    return Err(Stop);
                }
                Ok(())
            }
            Step::Read => self.read_line().map(drop),
            Step::Answer => match self.pending.take() {
                Some(line) => self.answer(&line),
                None => Ok(()),
            },
            Step::ServeUntil(needle) => loop {
                let line = self.read_command()?;
                if contains_ci(&line, &needle) {
                    return Ok(());
                }
                self.pending = None;
                self.answer(&line)?;
            },
            Step::Serve => loop {
                let line = self.read_command()?;
                self.pending = None;
                self.answer(&line)?;
            },
            Step::Idle => self.idle(),
            Step::Deliver(subject) => {
                lock(&self.shared.mailbox).add(&subject);
                Ok(())
            }
            Step::StartTls => self.start_tls(),
            Step::Pause(d) => {
                let until = Instant::now() + d;
                while Instant::now() < until {
                    if self.stopping() {
                        return Err(Stop);
                    }
                    thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
                }
                Ok(())
            }
            Step::Stall => loop {
                match self.poll_line()? {
                    Got::Gone => return Err(Stop),
                    Got::Line(_) | Got::Nothing => {}
                }
            },
            Step::Close => {
                self.shutdown();
                Err(Stop)
            }
            Step::Reset => {
                forget_socket(self.shared, self.index);
                if let Some(s) = self.stream.take() {
                    let _ = socket2::SockRef::from(s.tcp()).set_linger(Some(Duration::ZERO));
                    drop(s);
                }
                Err(Stop)
            }
        }
    }

    fn substitute(&self, bytes: Vec<u8>) -> Vec<u8> {
        if !bytes
            .windows(2)
            .any(|w| w == b"{t" || w == b"{e" || w == b"{u" || w == b"{i")
        {
            return bytes;
        }
        let (exists, uidnext) = {
            let m = lock(&self.shared.mailbox);
            (m.messages.len(), m.uidnext)
        };
        let mut out = bytes;
        for (key, value) in [
            ("{tag}", self.tag.clone()),
            ("{idle}", self.idle_tag.clone()),
            ("{exists}", exists.to_string()),
            ("{uidnext}", uidnext.to_string()),
        ] {
            out = replace_all(&out, key.as_bytes(), value.as_bytes());
        }
        out
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let stream = self.stream()?;
        if stream
            .write_all(bytes)
            .and_then(|()| stream.flush())
            .is_err()
        {
            lock(self.record).write_failed = true;
            self.shutdown();
            return Err(Stop);
        }
        Ok(())
    }

    fn start_tls(&mut self) -> Result<(), Stop> {
        let Some(Stream::Plain(mut tcp)) = self.stream.take() else {
            return Err(Stop);
        };
        let Some(config) = self.shared.tls.clone() else {
            return Err(Stop);
        };
        let fail = |record: &Mutex<ConnRecord>, e: String| {
            lock(record).tls_error = Some(e);
            Stop
        };
        let mut tls =
            rustls::ServerConnection::new(config).map_err(|e| fail(self.record, e.to_string()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while tls.is_handshaking() {
            match tls.complete_io(&mut tcp) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) && Instant::now() < deadline
                        && !self.stopping() => {}
                Err(e) => {
                    let _ = tcp.shutdown(Shutdown::Both);
                    return Err(fail(self.record, e.to_string()));
                }
            }
        }
        self.stream = Some(Stream::Tls(Box::new(rustls::StreamOwned::new(tls, tcp))));
        Ok(())
    }

    /// One read attempt: a complete line if one is buffered or arrives within a [`TICK`].
    fn poll_line(&mut self) -> Result<Got, Stop> {
        if let Some(line) = self.take_line() {
            return Ok(Got::Line(line));
        }
        if self.stopping() {
            return Err(Stop);
        }
        let mut chunk = [0u8; 16 * 1024];
        let read = match self.stream.as_mut() {
            Some(s) => s.read(&mut chunk),
            None => return Ok(Got::Gone),
        };
        match read {
            Ok(0) => {
                lock(self.record).client_left = true;
                self.shutdown();
                Ok(Got::Gone)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                if self.buf.len() > MAX_CLIENT_LINE && !self.buf.contains(&b'\n') {
                    self.shutdown();
                    return Ok(Got::Gone);
                }
                Ok(self.take_line().map_or(Got::Nothing, Got::Line))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(Got::Nothing)
            }
            Err(_) => {
                lock(self.record).client_left = true;
                self.shutdown();
                Ok(Got::Gone)
            }
        }
    }

    fn take_line(&mut self) -> Option<Vec<u8>> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        Some(line)
    }

    /// Reads one line (waiting as long as it takes), records it and remembers its tag.
    fn read_line(&mut self) -> Result<String, Stop> {
        loop {
            match self.poll_line()? {
                Got::Line(bytes) => {
                    let line = String::from_utf8_lossy(&bytes).into_owned();
                    let mut r = lock(self.record);
                    r.lines.push(line.chars().take(LINE_KEEP).collect());
                    return Ok(line);
                }
                Got::Nothing => {}
                Got::Gone => return Err(Stop),
            }
        }
    }

    /// Reads a command line: records credentials and sets the current tag.
    fn read_command(&mut self) -> Result<String, Stop> {
        let line = self.read_line()?;
        let mut words = line.split_ascii_whitespace();
        let tag = words.next().unwrap_or("*").to_owned();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        if verb == "LOGIN" || verb == "AUTHENTICATE" {
            let mut r = lock(self.record);
            r.credentials = true;
            // `AUTHENTICATE MECH <initial response>` (SASL-IR): the credential is on this line.
            if verb == "AUTHENTICATE"
                && let Some(ir) = words.nth(1)
            {
                r.sasl_responses.push(ir.to_owned());
            }
        }
        if verb == "IDLE" {
            self.idle_tag = tag.clone();
        }
        if verb == "ID" {
            let arguments = line.splitn(3, ' ').nth(2).unwrap_or("").to_owned();
            lock(self.record).id_arguments.push(arguments);
        }
        self.tag = tag;
        self.pending = Some(line.clone());
        Ok(line)
    }

    fn tagged(&mut self, text: &str) -> Result<(), Stop> {
        let line = format!("{} {text}\r\n", self.tag);
        self.write(line.as_bytes())
    }

    /// Answers one command like a small, well-behaved IMAP server.
    fn answer(&mut self, line: &str) -> Result<(), Stop> {
        let mut words = line.split_ascii_whitespace();
        let _tag = words.next();
        let mut verb = words.next().unwrap_or("").to_ascii_uppercase();
        let uid = verb == "UID";
        if uid {
            verb = words.next().unwrap_or("").to_ascii_uppercase();
        }
        let rest: Vec<&str> = words.collect();
        match verb.as_str() {
            "CAPABILITY" => {
                let caps = format!("* CAPABILITY {}\r\n", self.caps);
                self.write(caps.as_bytes())?;
                self.tagged("OK Capability completed")
            }
            "LOGIN" => self.tagged("OK Logged in"),
            // With an initial response (recorded by `read_command`): accepted at once, as a
            // SASL-IR server does with a good token.
            "AUTHENTICATE" if rest.len() >= 2 => self.tagged("OK Logged in"),
            "AUTHENTICATE" => {
                self.write(b"+ \r\n")?;
                let response = self.read_line()?;
                lock(self.record).sasl_responses.push(response);
                self.tagged("OK Logged in")
            }
            "SELECT" | "EXAMINE" if self.id == IdAnswer::NetEase && !self.id_sent => {
                self.tagged(UNSAFE_LOGIN)
            }
            "SELECT" | "EXAMINE" => self.select(),
            "ID" => self.answer_id(),
            "FETCH" => self.fetch(uid, &rest),
            "SEARCH" => self.search(uid),
            "NOOP" | "CHECK" => {
                self.report_exists()?;
                self.tagged("OK Noop completed")
            }
            "IDLE" => {
                self.write(b"+ idling\r\n")?;
                self.idle()
            }
            "LOGOUT" => {
                self.write(b"* BYE Logging out\r\n")?;
                self.tagged("OK Logout completed")?;
                self.shutdown();
                Err(Stop)
            }
            // NOTIFY is accepted but never acted on: the server of a test that announces it
            // behaves like one that pushes nothing but EXISTS.
            // The one folder, under the name every server has (`account test` looks for it).
            "LIST" => {
                self.write(b"* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n")?;
                self.tagged("OK List completed")
            }
            "ENABLE" | "STATUS" | "NOTIFY" => self.tagged("OK Completed"),
            _ => self.tagged("BAD Unknown command"),
        }
    }

    /// `ID` as [`IdAnswer`] says (the arguments were recorded by `read_command`).
    fn answer_id(&mut self) -> Result<(), Stop> {
        match self.id {
            IdAnswer::Plain => {
                self.id_sent = true;
                self.tagged("OK Completed")
            }
            IdAnswer::NetEase => {
                self.id_sent = true;
                // As 163.com answers (its transaction id made up).
                self.write(
                    b"* ID (\"name\" \"Coremail Imap\" \"vendor\" \"Mailtech\" \"TransID\" \"Scripted0123456789\")\r\n",
                )?;
                self.tagged("OK ID completed")
            }
            IdAnswer::Refuse => self.tagged("NO ID command not allowed"),
        }
    }

    fn select(&mut self) -> Result<(), Stop> {
        let m = lock(&self.shared.mailbox).clone();
        self.reported = m.messages.len();
        let mut out = format!(
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* {} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY {}] UIDs valid\r\n",
            m.messages.len(),
            m.uidvalidity
        );
        if m.report_uidnext {
            out.push_str(&format!(
                "* OK [UIDNEXT {}] Predicted next UID\r\n",
                m.uidnext
            ));
        }
        self.write(out.as_bytes())?;
        self.tagged("OK [READ-WRITE] Select completed")
    }

    fn fetch(&mut self, uid: bool, rest: &[&str]) -> Result<(), Stop> {
        let m = lock(&self.shared.mailbox).clone();
        let set = rest.first().copied().unwrap_or("");
        let items = rest.get(1..).map(|r| r.join(" ")).unwrap_or_default();
        let section = items
            .find("BODY.PEEK[")
            .and_then(|i| {
                let from = i + "BODY.PEEK".len();
                items[from..].find(']').map(|j| &items[from..=from + j])
            })
            .map(str::to_owned);
        // A partial FETCH (`BODY.PEEK[…]<0.N>`): at most N bytes, answered as `BODY[…]<0>`.
        let partial: Option<usize> = section.as_ref().and_then(|sec| {
            let after = &items[items.find(sec.as_str())? + sec.len()..];
            let spec = after.strip_prefix("<0.")?;
            spec[..spec.find('>')?].parse().ok()
        });
        let highest = |by_uid: bool| -> u32 {
            if by_uid {
                m.messages.last().map_or(0, |x| x.uid)
            } else {
                u32::try_from(m.messages.len()).unwrap_or(u32::MAX)
            }
        };
        let ranges = parse_set(set, highest(uid));
        let mut out = Vec::new();
        for (i, msg) in m.messages.iter().enumerate() {
            let seq = i + 1;
            let key = if uid {
                msg.uid
            } else {
                u32::try_from(seq).unwrap_or(u32::MAX)
            };
            if !ranges.iter().any(|(a, b)| (*a..=*b).contains(&key)) {
                continue;
            }
            if let (Some(raw), Some(_)) = (&msg.fetch, &section) {
                let raw = replace_all(raw, b"{seq}", seq.to_string().as_bytes());
                out.extend_from_slice(&replace_all(&raw, b"{uid}", msg.uid.to_string().as_bytes()));
                continue;
            }
            let flags = if msg.seen { "\\Seen" } else { "" };
            out.extend_from_slice(
                format!("* {seq} FETCH (UID {} FLAGS ({flags})", msg.uid).as_bytes(),
            );
            if let Some(section) = &section {
                let mut header = msg.header.clone().unwrap_or_else(|| {
                    format!(
                        "From: Scripted Sender <sender@scripted.test>\r\nSubject: {}\r\nMessage-ID: <{}.{}@scripted.test>\r\n\r\n",
                        msg.subject, m.uidvalidity, msg.uid
                    )
                    .into_bytes()
                });
                let origin = match partial {
                    Some(n) => {
                        header.truncate(n);
                        "<0>"
                    }
                    None => "",
                };
                out.extend_from_slice(
                    format!(" BODY{section}{origin} {{{}}}\r\n", header.len()).as_bytes(),
                );
                out.extend_from_slice(&header);
            }
            out.extend_from_slice(b")\r\n");
        }
        self.write(&out)?;
        self.tagged("OK Fetch completed")
    }

    fn search(&mut self, uid: bool) -> Result<(), Stop> {
        let m = lock(&self.shared.mailbox).clone();
        let mut out = String::from("* SEARCH");
        for (i, msg) in m.messages.iter().enumerate() {
            if !msg.seen {
                let n = if uid { msg.uid as usize } else { i + 1 };
                out.push_str(&format!(" {n}"));
            }
        }
        out.push_str("\r\n");
        self.write(out.as_bytes())?;
        self.tagged("OK Search completed")
    }

    fn report_exists(&mut self) -> Result<(), Stop> {
        let count = lock(&self.shared.mailbox).messages.len();
        if count != self.reported {
            self.reported = count;
            self.write(format!("* {count} EXISTS\r\n").as_bytes())?;
        }
        Ok(())
    }

    /// The rest of an IDLE whose `+` was already sent: report new mail until `DONE`.
    fn idle(&mut self) -> Result<(), Stop> {
        let tag = self.tag.clone();
        loop {
            self.report_exists()?;
            match self.poll_line()? {
                Got::Line(bytes) => {
                    let line = String::from_utf8_lossy(&bytes).into_owned();
                    lock(self.record)
                        .lines
                        .push(line.chars().take(LINE_KEEP).collect());
                    if line.trim().eq_ignore_ascii_case("DONE") {
                        self.tag = tag;
                        self.pending = None;
                        return self.tagged("OK Idle completed");
                    }
                }
                Got::Nothing => {}
                Got::Gone => return Err(Stop),
            }
        }
    }
}

pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_ascii_uppercase()
        .contains(&needle.to_ascii_uppercase())
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// `1:5,7,9:*` → inclusive ranges, `*` meaning `highest`. A range's ends may come in either
/// order (RFC 3501: `4:2` is `2:4`), so `10:*` with a highest of 7 is `7:10` — which is why
/// `UID FETCH watermark:*` always returns the highest message.
fn parse_set(set: &str, highest: u32) -> Vec<(u32, u32)> {
    let num = |s: &str| -> u32 {
        if s == "*" {
            highest
        } else {
            s.parse().unwrap_or(0)
        }
    };
    set.split(',')
        .filter(|p| !p.is_empty())
        .map(|part| match part.split_once(':') {
            Some((a, b)) => {
                let (a, b) = (num(a), num(b));
                (a.min(b), a.max(b))
            }
            None => (num(part), num(part)),
        })
        .collect()
}

pub(crate) struct CertFiles {
    pub(crate) trusted_ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// Makes a CA and a server certificate of `kind` in `dir` with the `openssl` CLI.
pub(crate) fn make_cert(dir: &Path, kind: CertKind) -> Result<CertFiles> {
    let good = crate::tls::make_tls(&dir.join("ca"))?;
    if kind == CertKind::Valid {
        return Ok(CertFiles {
            trusted_ca: good.ca,
            cert: good.cert,
            key: good.key,
        });
    }
    if kind == CertKind::UnknownCa {
        // Another CA's perfectly good certificate: only the trust anchor is wrong.
        let other = crate::tls::make_tls(&dir.join("other-ca"))?;
        return Ok(CertFiles {
            trusted_ca: good.ca,
            cert: other.cert,
            key: other.key,
        });
    }
    let work = dir.join(match kind {
        CertKind::Expired => "expired",
        _ => "wrong-host",
    });
    fs::create_dir_all(&work).with_context(|| format!("Cannot create {}", work.display()))?;
    let san = if kind == CertKind::WrongHost {
        "DNS:wrong.example.invalid"
    } else {
        "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2"
    };
    // `openssl ca` because it is the only 3.0 command that takes explicit validity dates.
    let cnf = work.join("openssl.cnf");
    fs::write(
        &cnf,
        format!(
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n\
             [ca]\ndefault_ca = ca_default\n\
             [ca_default]\ndatabase = {db}\nnew_certs_dir = {work}\nserial = {serial}\n\
             default_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = none\n\
             [any]\ncommonName = supplied\n\
             [server_ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = {san}\nsubjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid\n",
            db = work.join("index.txt").display(),
            work = work.display(),
            serial = work.join("serial").display(),
        ),
    )
    .with_context(|| format!("Cannot write {}", cnf.display()))?;
    fs::write(work.join("index.txt"), "").context("Cannot write the CA index")?;
    fs::write(work.join("serial"), "1000\n").context("Cannot write the CA serial")?;
    let key = work.join("server.key");
    let csr = work.join("server.csr");
    let cert = work.join("server.pem");
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .args(["-subj", "/CN=localhost", "-config"])
            .arg(&cnf),
        OPENSSL_TIMEOUT,
    )
    .context("Cannot create the server key")?;
    let (start, end) = if kind == CertKind::Expired {
        ("20200101000000Z".to_owned(), "20200201000000Z".to_owned())
    } else {
        (openssl_date(-86_400), openssl_date(30 * 86_400))
    };
    run_ok(
        Command::new("openssl")
            .args(["ca", "-batch", "-notext", "-config"])
            .arg(&cnf)
            .args(["-startdate", &start, "-enddate", &end, "-in"])
            .arg(&csr)
            .arg("-out")
            .arg(&cert)
            .arg("-keyfile")
            .arg(dir.join("ca/ca.key"))
            .arg("-cert")
            .arg(&good.ca)
            .args(["-extensions", "server_ext", "-extfile"])
            .arg(&cnf),
        OPENSSL_TIMEOUT,
    )
    .context("Cannot sign the server certificate")?;
    Ok(CertFiles {
        trusted_ca: good.ca,
        cert,
        key,
    })
}

/// `YYYYMMDDHHMMSSZ` for now + `offset` seconds (UTC), without a date crate.
fn openssl_date(offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        + offset;
    let (days, secs) = (now.div_euclid(86_400), now.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

pub(crate) fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut fs::read(cert)?.as_slice())
        .collect::<Result<_, _>>()
        .context("Cannot read the server certificate")?;
    let Some(key) = rustls_pemfile::private_key(&mut fs::read(key)?.as_slice())
        .context("Cannot read the server key")?
    else {
        bail!("No private key in {}", key.display());
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("Cannot use the server certificate")?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_follow_rfc_3501() {
        assert_eq!(parse_set("1:5,7", 9), vec![(1, 5), (7, 7)]);
        assert_eq!(parse_set("10:*", 7), vec![(7, 10)]);
        assert_eq!(parse_set("*", 7), vec![(7, 7)]);
    }

    #[test]
    fn placeholders_only_where_named() {
        assert_eq!(
            replace_all(b"{tag} OK {4294967295}", b"{tag}", b"A1"),
            b"A1 OK {4294967295}".to_vec()
        );
    }

    #[test]
    fn dates_for_openssl() {
        assert_eq!(openssl_date(0).len(), 15);
        assert!(openssl_date(0).ends_with('Z'));
    }
}
