//! A scripted POP3 server on loopback, for the faults a real one (Dovecot) cannot produce on
//! demand: STLS missing, refused or followed by injected bytes, no UIDL, a duplicate or invalid
//! UIDL listing, a header too big for any sane client.
//!
//! The POP3 twin of the scripted IMAP server ([`crate::ScriptedServer`]), in the same spirit:
//! each accepted connection plays a [`Pop3Script`], a list of [`Pop3Step`]s ("send these
//! bytes", "expect a command containing this", "answer like a small POP3 server", "stall",
//! "close", "reset"). The built-in answers ([`Pop3Step::Serve`]) know the whole of RFC 1939 plus
//! CAPA, STLS (RFC 2595) and `AUTH PLAIN` (RFC 5034) over one shared [`Pop3Mailbox`], so a
//! script only spells out the part that misbehaves. Like a real server, a session sees the
//! mailbox as it was when it logged in; mail delivered meanwhile shows in the next session.
//!
//! The server records every line each client sent, and above all whether `USER`, `PASS`,
//! `AUTH` or `APOP` ever arrived ([`Pop3ConnRecord::credentials`]), so a test can prove a
//! credential was never offered. Nothing is ever removed from the mailbox: `DELE` is answered
//! `+OK` and recorded, so a test can also prove it was never sent.
//!
//! Plain TCP (with STLS when the capabilities offer it) or implicit TLS, with the certificates
//! of [`CertKind`]; [`ScriptedPop3::ca_file`] is the CA a client should trust. Synchronous and
//! `std` only, one thread per connection, read timeouts of [`TICK`].

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::scripted::{
    CertKind, LINE_KEEP, Listen, MAX_CLIENT_LINE, Stream, TICK, WRITE_TIMEOUT, contains_ci, lock,
    make_cert, server_config,
};

/// What `CAPA` lists by default: TOP and UIDL (what a notifier needs), USER and SASL PLAIN (two
/// ways to log in), PIPELINING and RESP-CODES like Dovecot. No STLS: see [`Pop3Script::stls`].
pub const POP3_DEFAULT_CAPABILITIES: [&str; 6] = [
    "TOP",
    "UIDL",
    "RESP-CODES",
    "PIPELINING",
    "USER",
    "SASL PLAIN",
];

/// The greeting [`Pop3Script::greet`] sends.
pub const POP3_GREETING: &str = "+OK Scripted POP3 ready.\r\n";

/// One thing a connection does. Steps run in order; when they run out the connection closes.
#[derive(Clone)]
pub enum Pop3Step {
    /// Write these bytes, in one write (so "`+OK` plus injected bytes" arrive together).
    Send(Vec<u8>),
    /// Read the next command; it must contain this text (ASCII case-insensitive), otherwise
    /// the connection is closed and [`Pop3ConnRecord::unexpected`] records the line.
    Expect(String),
    /// Answer the command read last (by [`Pop3Step::Expect`] or [`Pop3Step::ServeUntil`]) the
    /// way [`Pop3Step::Serve`] would.
    Answer,
    /// Answer commands like a small POP3 server until one contains this text (ASCII
    /// case-insensitive); that command is left unanswered for the following steps.
    ServeUntil(String),
    /// Answer commands like a small POP3 server until the client sends QUIT or leaves.
    Serve,
    /// TLS handshake as the server, on a connection that is still plain (after an STLS `+OK`).
    StartTls,
    /// Do nothing for this long.
    Pause(Duration),
    /// Stop answering but keep the connection open, reading and discarding what the client
    /// sends, until the client leaves or the server is dropped.
    Stall,
    /// Close the connection (FIN).
    Close,
    /// Reset the connection (RST, via `SO_LINGER` 0).
    Reset,
}

impl fmt::Debug for Pop3Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pop3Step::Send(b) if b.len() > 80 => write!(f, "Send({} bytes)", b.len()),
            Pop3Step::Send(b) => write!(f, "Send({:?})", String::from_utf8_lossy(b)),
            Pop3Step::Expect(s) => write!(f, "Expect({s:?})"),
            Pop3Step::Answer => f.write_str("Answer"),
            Pop3Step::ServeUntil(s) => write!(f, "ServeUntil({s:?})"),
            Pop3Step::Serve => f.write_str("Serve"),
            Pop3Step::StartTls => f.write_str("StartTls"),
            Pop3Step::Pause(d) => write!(f, "Pause({d:?})"),
            Pop3Step::Stall => f.write_str("Stall"),
            Pop3Step::Close => f.write_str("Close"),
            Pop3Step::Reset => f.write_str("Reset"),
        }
    }
}

/// What one connection plays, and how its built-in answers behave. Build with the chaining
/// methods:
///
/// ```ignore
/// Pop3Script::serve().without_uidl()
/// Pop3Script::new().capabilities(&["STLS", "UIDL", "TOP", "USER"]).greet().expect("STLS")
///     .send("+OK Begin TLS\r\n+OK Logged in.\r\n").then(Pop3Step::StartTls).then(Pop3Step::Serve)
/// ```
#[derive(Clone, Debug)]
pub struct Pop3Script {
    steps: Vec<Pop3Step>,
    capabilities: Vec<String>,
    /// `false`: `UIDL` is answered `-ERR` (and should not be listed in CAPA either).
    uidl: bool,
    /// `Some`: `PASS` / `AUTH PLAIN` with another password get `-ERR [AUTH]`.
    password: Option<String>,
}

impl Default for Pop3Script {
    fn default() -> Self {
        Pop3Script::new()
    }
}

impl Pop3Script {
    /// No steps yet, [`POP3_DEFAULT_CAPABILITIES`], UIDL answered, any password accepted.
    pub fn new() -> Pop3Script {
        Pop3Script {
            steps: Vec::new(),
            capabilities: POP3_DEFAULT_CAPABILITIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            uidl: true,
            password: None,
        }
    }

    /// A well-behaved server: greeting, then [`Pop3Step::Serve`]. With [`Listen::Plain`] it
    /// offers no STLS (a client set to `starttls` must refuse it: STLS "missing").
    pub fn serve() -> Pop3Script {
        Pop3Script::new().greet().then(Pop3Step::Serve)
    }

    /// An honest STLS server: STLS in CAPA, `+OK` to STLS, TLS handshake, then the session
    /// inside TLS (where CAPA no longer lists STLS, as RFC 2595 asks).
    pub fn stls() -> Pop3Script {
        Pop3Script::new()
            .with_capability("STLS")
            .greet()
            .then(Pop3Step::Serve)
    }

    /// STLS listed in CAPA but refused: `-ERR` to STLS, then an ordinary session in the clear
    /// (a client set to `starttls` must not continue).
    pub fn stls_refused() -> Pop3Script {
        Pop3Script::new()
            .with_capability("STLS")
            .greet()
            .serve_until("STLS")
            .send("-ERR TLS is not available right now.\r\n")
            .then(Pop3Step::Serve)
    }

    /// The STARTTLS injection (CVE-2011-0411 style): the `+OK` to STLS arrives in the same
    /// write as `injected`, which a careless client would read as the first answer inside TLS.
    /// The handshake and session follow normally, so only the injection can make a client
    /// refuse.
    pub fn stls_injected(injected: &str) -> Pop3Script {
        Pop3Script::new()
            .with_capability("STLS")
            .greet()
            .serve_until("STLS")
            .send(format!("+OK Begin TLS negotiation now.\r\n{injected}"))
            .then(Pop3Step::StartTls)
            .then(Pop3Step::Serve)
    }

    /// A server without UIDL: not in CAPA, and `-ERR` when asked anyway.
    pub fn without_uidl(mut self) -> Pop3Script {
        self.capabilities
            .retain(|c| !c.eq_ignore_ascii_case("UIDL"));
        self.uidl = false;
        self
    }

    /// Replaces the CAPA listing (one capability per entry, e.g. `"SASL PLAIN"`).
    pub fn capabilities(mut self, caps: &[&str]) -> Pop3Script {
        self.capabilities = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    /// Adds one capability to the CAPA listing (first, as Dovecot lists STLS early).
    pub fn with_capability(mut self, cap: &str) -> Pop3Script {
        self.capabilities.insert(0, cap.to_owned());
        self
    }

    /// Removes a capability (`"SASL PLAIN"`, `"USER"`, `"TOP"`…) from the CAPA listing. The
    /// command still works if sent blindly, as on many real servers.
    pub fn without_capability(mut self, cap: &str) -> Pop3Script {
        self.capabilities.retain(|c| !c.eq_ignore_ascii_case(cap));
        self
    }

    /// Accept only this password (`PASS` and `AUTH PLAIN`); others get `-ERR [AUTH]`.
    pub fn password(mut self, password: &str) -> Pop3Script {
        self.password = Some(password.to_owned());
        self
    }

    /// Sends [`POP3_GREETING`].
    pub fn greet(self) -> Pop3Script {
        self.send(POP3_GREETING)
    }

    pub fn then(mut self, step: Pop3Step) -> Pop3Script {
        self.steps.push(step);
        self
    }

    pub fn send(self, bytes: impl Into<Vec<u8>>) -> Pop3Script {
        self.then(Pop3Step::Send(bytes.into()))
    }

    pub fn expect(self, needle: &str) -> Pop3Script {
        self.then(Pop3Step::Expect(needle.to_owned()))
    }

    pub fn serve_until(self, needle: &str) -> Pop3Script {
        self.then(Pop3Step::ServeUntil(needle.to_owned()))
    }

    pub fn answer(self) -> Pop3Script {
        self.then(Pop3Step::Answer)
    }

    pub fn stall(self) -> Pop3Script {
        self.then(Pop3Step::Stall)
    }

    pub fn close(self) -> Pop3Script {
        self.then(Pop3Step::Close)
    }

    pub fn reset(self) -> Pop3Script {
        self.then(Pop3Step::Reset)
    }
}

/// One message in the scripted POP3 mailbox.
#[derive(Clone, Debug)]
pub struct Pop3Message {
    /// The whole message as stored (CRLF line ends expected; sent dot-stuffed).
    pub raw: Vec<u8>,
    /// Its unique-id in `UIDL`, sent verbatim: a test may give two messages the same one, or
    /// one with spaces or control characters, to play a broken server.
    pub uidl: String,
}

/// The one mailbox every connection of a [`ScriptedPop3`] sees.
#[derive(Clone, Debug, Default)]
pub struct Pop3Mailbox {
    pub messages: Vec<Pop3Message>,
    /// Sent verbatim as the whole answer to `UIDL` (without an argument), status line and
    /// terminating `.` included, instead of the listing made from [`Pop3Mailbox::messages`].
    pub uidl_listing: Option<Vec<u8>>,
    /// Counter for generated unique-ids, so a deleted-and-redelivered slot never reuses one.
    next_uidl: u64,
}

impl Pop3Mailbox {
    /// Adds a message with a fresh unique-id (`scripted-1`, `scripted-2`, …); returns it.
    pub fn add(&mut self, raw: &[u8]) -> String {
        self.next_uidl += 1;
        let uidl = format!("scripted-{}", self.next_uidl);
        self.add_with_uidl(raw, &uidl);
        uidl
    }

    /// Adds a message with exactly this unique-id.
    pub fn add_with_uidl(&mut self, raw: &[u8], uidl: &str) {
        self.messages.push(Pop3Message {
            raw: raw.to_vec(),
            uidl: uidl.to_owned(),
        });
    }
}

/// What the server saw on one connection.
#[derive(Clone, Debug, Default)]
pub struct Pop3ConnRecord {
    /// Lines the client sent, in order, each cut to 300 bytes (lossy UTF-8). Passwords
    /// included: scripted accounts use a throw-away one.
    pub lines: Vec<String>,
    /// `USER`, `PASS`, `AUTH` or `APOP` arrived (the user name alone is already more than a
    /// client may say before it knows the connection is safe).
    pub credentials: bool,
    /// Whether the connection was encrypted (implicit TLS or after STLS) when the first
    /// credential arrived; `None` if none did.
    pub credentials_over_tls: Option<bool>,
    /// `DELE` arrived (answered `+OK`, but nothing is ever removed).
    pub dele: bool,
    /// The client closed or reset the connection (EOF or error on read).
    pub client_left: bool,
    /// A [`Pop3Step::Send`] or an answer failed: the client hung up while we were writing.
    pub write_failed: bool,
    /// A [`Pop3Step::Expect`] saw this line instead.
    pub unexpected: Option<String>,
    /// The TLS handshake failed (the client rejected our certificate, or spoke no TLS).
    pub tls_error: Option<String>,
    /// The connection thread has finished.
    pub finished: bool,
}

impl Pop3ConnRecord {
    /// How many commands with this verb (`"TOP"`, `"RETR"`, `"DELE"`…) the client sent.
    pub fn count(&self, verb: &str) -> usize {
        self.lines
            .iter()
            .filter(|l| {
                l.split_ascii_whitespace()
                    .next()
                    .is_some_and(|v| v.eq_ignore_ascii_case(verb))
            })
            .count()
    }
}

type ScriptFn = dyn Fn(usize) -> Pop3Script + Send + Sync;

struct Shared {
    mailbox: Mutex<Pop3Mailbox>,
    records: Mutex<Vec<Arc<Mutex<Pop3ConnRecord>>>>,
    sockets: Mutex<Vec<(usize, TcpStream)>>,
    script: Mutex<Arc<ScriptFn>>,
    tls: Arc<rustls::ServerConfig>,
    implicit_tls: bool,
    stop: AtomicBool,
    accepted: AtomicUsize,
}

/// A scripted POP3 server on 127.0.0.1. Dropping it stops accepting and ends every connection
/// within a [`TICK`] (or [`WRITE_TIMEOUT`] for one stuck in a write).
pub struct ScriptedPop3 {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl ScriptedPop3 {
    /// Starts a server where connection `n` (0-based) plays `script(n)`.
    pub fn start(
        listen: Listen,
        script: impl Fn(usize) -> Pop3Script + Send + Sync + 'static,
    ) -> Result<ScriptedPop3> {
        let dir = tempfile::tempdir().context("Cannot create a temp dir")?;
        let kind = match listen {
            Listen::Plain => CertKind::Valid,
            Listen::Tls(kind) => kind,
        };
        let certs = make_cert(dir.path(), kind)?;
        let tls = server_config(&certs.cert, &certs.key)?;
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).context("Cannot bind the scripted POP3 server")?;
        listener
            .set_nonblocking(true)
            .context("Cannot make the listener non-blocking")?;
        let port = listener.local_addr().context("No local address")?.port();
        let shared = Arc::new(Shared {
            mailbox: Mutex::new(Pop3Mailbox::default()),
            records: Mutex::new(Vec::new()),
            sockets: Mutex::new(Vec::new()),
            script: Mutex::new(Arc::new(script)),
            tls,
            implicit_tls: matches!(listen, Listen::Tls(_)),
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
        });
        let s = shared.clone();
        let accept = thread::Builder::new()
            .name("scripted-pop3-accept".into())
            .spawn(move || accept_loop(listener, s))
            .context("Cannot start the accept thread")?;
        Ok(ScriptedPop3 {
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
    pub fn records(&self) -> Vec<Pop3ConnRecord> {
        lock(&self.shared.records)
            .iter()
            .map(|r| lock(r).clone())
            .collect()
    }

    /// One connection's record, if it was accepted.
    pub fn record(&self, n: usize) -> Option<Pop3ConnRecord> {
        lock(&self.shared.records).get(n).map(|r| lock(r).clone())
    }

    /// Whether any connection ever received `USER`, `PASS`, `AUTH` or `APOP`.
    pub fn credentials_seen(&self) -> bool {
        self.records().iter().any(|r| r.credentials)
    }

    /// How many commands with this verb all connections together received.
    pub fn count(&self, verb: &str) -> usize {
        self.records().iter().map(|r| r.count(verb)).sum()
    }

    /// Replaces the script for connections accepted from now on.
    pub fn set_script(&self, script: impl Fn(usize) -> Pop3Script + Send + Sync + 'static) {
        *lock(&self.shared.script) = Arc::new(script);
    }

    /// Closes every open connection (both directions shut down), as a server restart would.
    pub fn kick(&self) {
        for (_, s) in lock(&self.shared.sockets).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Delivers a message (seen by sessions that log in from now on); returns its unique-id.
    pub fn deliver(&self, raw: &[u8]) -> String {
        lock(&self.shared.mailbox).add(raw)
    }

    /// Delivers a message with exactly this unique-id (duplicates and junk allowed).
    pub fn deliver_with_uidl(&self, raw: &[u8], uidl: &str) {
        lock(&self.shared.mailbox).add_with_uidl(raw, uidl);
    }

    /// Changes the mailbox (remove messages, set [`Pop3Mailbox::uidl_listing`]…).
    pub fn with_mailbox<T>(&self, f: impl FnOnce(&mut Pop3Mailbox) -> T) -> T {
        f(&mut lock(&self.shared.mailbox))
    }
}

impl Drop for ScriptedPop3 {
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
                let record = Arc::new(Mutex::new(Pop3ConnRecord::default()));
                lock(&shared.records).push(record.clone());
                if let Ok(clone) = sock.try_clone() {
                    lock(&shared.sockets).push((n, clone));
                }
                let script = (lock(&shared.script))(n);
                let s = shared.clone();
                let spawned = thread::Builder::new()
                    .name(format!("scripted-pop3-conn-{n}"))
                    .spawn(move || {
                        run_connection(n, sock, script, &s, &record);
                        forget_socket(&s, n);
                        lock(&record).finished = true;
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

/// Drops the server's clone of connection `n`'s socket, so closing the connection's own handle
/// really closes it (a reset needs the last descriptor gone).
fn forget_socket(shared: &Shared, n: usize) {
    lock(&shared.sockets).retain(|(i, _)| *i != n);
}

/// Why a connection's script stops early.
#[derive(Debug)]
struct Stop;

/// What one read attempt produced.
enum Got {
    Line(Vec<u8>),
    Nothing,
    Gone,
}

/// Where a POP3 session is (RFC 1939 §3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before login; `user` is the name given by `USER`, if any.
    Authorization,
    /// Logged in, working on the mailbox as it was at login.
    Transaction,
}

struct Conn<'a> {
    index: usize,
    stream: Option<Stream>,
    buf: Vec<u8>,
    /// The last command read, not yet answered.
    pending: Option<String>,
    phase: Phase,
    user_given: bool,
    /// The mailbox as it was at login (a POP3 session never sees later deliveries).
    snapshot: Vec<Pop3Message>,
    script: Pop3Script,
    shared: &'a Shared,
    record: &'a Mutex<Pop3ConnRecord>,
}

fn run_connection(
    index: usize,
    sock: TcpStream,
    script: Pop3Script,
    shared: &Shared,
    record: &Mutex<Pop3ConnRecord>,
) {
    let _ = sock.set_read_timeout(Some(TICK));
    let _ = sock.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = sock.set_nodelay(true);
    let steps = script.steps.clone();
    let mut conn = Conn {
        index,
        stream: Some(Stream::Plain(sock)),
        buf: Vec::new(),
        pending: None,
        phase: Phase::Authorization,
        user_given: false,
        snapshot: Vec::new(),
        script,
        shared,
        record,
    };
    if shared.implicit_tls && conn.start_tls().is_err() {
        return;
    }
    for step in steps {
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

    fn shutdown(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.tcp().shutdown(Shutdown::Both);
        }
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Some(Stream::Tls(_)))
    }

    fn step(&mut self, step: Pop3Step) -> Result<(), Stop> {
        match step {
            Pop3Step::Send(bytes) => self.write(&bytes),
            Pop3Step::Expect(needle) => {
                let line = self.read_command()?;
                if !contains_ci(&line, &needle) {
                    lock(self.record).unexpected = Some(line);
                    self.shutdown();
                    return Err(Stop);
                }
                Ok(())
            }
            Pop3Step::Answer => match self.pending.take() {
                Some(line) => self.answer(&line),
                None => Ok(()),
            },
            Pop3Step::ServeUntil(needle) => loop {
                let line = self.read_command()?;
                if contains_ci(&line, &needle) {
                    return Ok(());
                }
                self.pending = None;
                self.answer(&line)?;
            },
            Pop3Step::Serve => loop {
                let line = self.read_command()?;
                self.pending = None;
                self.answer(&line)?;
            },
            Pop3Step::StartTls => self.start_tls(),
            Pop3Step::Pause(d) => {
                let until = Instant::now() + d;
                while Instant::now() < until {
                    if self.stopping() {
                        return Err(Stop);
                    }
                    thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
                }
                Ok(())
            }
            Pop3Step::Stall => loop {
                match self.poll_line()? {
                    Got::Gone => return Err(Stop),
                    Got::Line(_) | Got::Nothing => {}
                }
            },
            Pop3Step::Close => {
                self.shutdown();
                Err(Stop)
            }
            Pop3Step::Reset => {
                forget_socket(self.shared, self.index);
                if let Some(s) = self.stream.take() {
                    let _ = socket2::SockRef::from(s.tcp()).set_linger(Some(Duration::ZERO));
                    drop(s);
                }
                Err(Stop)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(Stop);
        };
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
        let fail = |record: &Mutex<Pop3ConnRecord>, e: String| {
            lock(record).tls_error = Some(e);
            Stop
        };
        let mut tls = rustls::ServerConnection::new(self.shared.tls.clone())
            .map_err(|e| fail(self.record, e.to_string()))?;
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
        // Bytes the client sent before the handshake (pipelined after STLS) are dropped, as
        // RFC 2595 requires of a server.
        self.buf.clear();
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

    /// Reads one line (waiting as long as it takes) and records it.
    fn read_line(&mut self) -> Result<String, Stop> {
        loop {
            match self.poll_line()? {
                Got::Line(bytes) => {
                    let line = String::from_utf8_lossy(&bytes).into_owned();
                    lock(self.record)
                        .lines
                        .push(line.chars().take(LINE_KEEP).collect());
                    return Ok(line);
                }
                Got::Nothing => {}
                Got::Gone => return Err(Stop),
            }
        }
    }

    /// Reads a command line and notes credentials and DELE.
    fn read_command(&mut self) -> Result<String, Stop> {
        let line = self.read_line()?;
        let verb = verb_of(&line);
        let tls = self.is_tls();
        let mut r = lock(self.record);
        if matches!(verb.as_str(), "USER" | "PASS" | "AUTH" | "APOP") {
            r.credentials = true;
            r.credentials_over_tls.get_or_insert(tls);
        }
        if verb == "DELE" {
            r.dele = true;
        }
        drop(r);
        self.pending = Some(line.clone());
        Ok(line)
    }

    fn ok(&mut self, text: &str) -> Result<(), Stop> {
        let line = if text.is_empty() {
            "+OK\r\n".to_owned()
        } else {
            format!("+OK {text}\r\n")
        };
        self.write(line.as_bytes())
    }

    fn err(&mut self, text: &str) -> Result<(), Stop> {
        self.write(format!("-ERR {text}\r\n").as_bytes())
    }

    /// Answers one command like a small, well-behaved POP3 server.
    fn answer(&mut self, line: &str) -> Result<(), Stop> {
        let verb = verb_of(line);
        let args: Vec<&str> = line.split_ascii_whitespace().skip(1).collect();
        match (self.phase, verb.as_str()) {
            (_, "CAPA") => {
                let mut out = String::from("+OK Capability list follows\r\n");
                for cap in &self.script.capabilities {
                    // RFC 2595: STLS is only offered before TLS.
                    if cap.eq_ignore_ascii_case("STLS") && self.is_tls() {
                        continue;
                    }
                    out.push_str(cap);
                    out.push_str("\r\n");
                }
                out.push_str(".\r\n");
                self.write(out.as_bytes())
            }
            (_, "NOOP") => self.ok(""),
            (_, "QUIT") => {
                self.ok("Logging out.")?;
                // A polite TLS goodbye, so a strict client sees a clean end (Close does not).
                if let Some(Stream::Tls(tls)) = self.stream.as_mut() {
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
                self.shutdown();
                Err(Stop)
            }
            (Phase::Authorization, "STLS") => {
                let offered = self
                    .script
                    .capabilities
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case("STLS"));
                if !offered || self.is_tls() {
                    return self.err("Unknown command.");
                }
                self.ok("Begin TLS negotiation now.")?;
                self.start_tls()
            }
            (Phase::Authorization, "USER") => {
                self.user_given = !args.is_empty();
                self.ok("")
            }
            (Phase::Authorization, "PASS") => {
                if !self.user_given {
                    return self.err("No username given.");
                }
                let password = line.split_once(' ').map_or("", |(_, p)| p);
                self.login(password)
            }
            (Phase::Authorization, "AUTH") => self.auth(&args),
            (Phase::Transaction, "STAT") => {
                let size: usize = self.snapshot.iter().map(|m| m.raw.len()).sum();
                self.ok(&format!("{} {size}", self.snapshot.len()))
            }
            (Phase::Transaction, "LIST") => {
                self.listing(&args, "messages:", |_, m| m.raw.len().to_string())
            }
            (Phase::Transaction, "UIDL") => {
                if !self.script.uidl {
                    return self.err("Unknown command: UIDL");
                }
                if args.is_empty()
                    && let Some(raw) = lock(&self.shared.mailbox).uidl_listing.clone()
                {
                    return self.write(&raw);
                }
                self.listing(&args, "", |_, m| m.uidl.clone())
            }
            (Phase::Transaction, "TOP") => {
                let lines = args.get(1).and_then(|n| n.parse::<usize>().ok());
                match (self.message(args.first()), lines) {
                    (Some(raw), Some(n)) => self.send_message(&top_of(&raw, n)),
                    (None, _) => self.err("There's no message with that number."),
                    (_, None) => self.err("Invalid number of lines."),
                }
            }
            (Phase::Transaction, "RETR") => match self.message(args.first()) {
                Some(raw) => self.send_message(&raw),
                None => self.err("There's no message with that number."),
            },
            (Phase::Transaction, "DELE") => match self.message(args.first()) {
                // Recorded by read_command; the mailbox keeps it (tests assert on the record).
                Some(_) => self.ok("Marked to be deleted."),
                None => self.err("There's no message with that number."),
            },
            (Phase::Transaction, "RSET") => self.ok(""),
            _ => self.err("Unknown command."),
        }
    }

    fn login(&mut self, password: &str) -> Result<(), Stop> {
        if self
            .script
            .password
            .as_deref()
            .is_some_and(|want| want != password)
        {
            return self.err("[AUTH] Authentication failed.");
        }
        self.phase = Phase::Transaction;
        self.snapshot = lock(&self.shared.mailbox).messages.clone();
        self.ok("Logged in.")
    }

    /// `AUTH` (list mechanisms) and `AUTH PLAIN [initial-response]` (RFC 5034).
    fn auth(&mut self, args: &[&str]) -> Result<(), Stop> {
        let Some(mechanism) = args.first() else {
            return self.write(b"+OK\r\nPLAIN\r\n.\r\n");
        };
        if !mechanism.eq_ignore_ascii_case("PLAIN") {
            return self.err("Unsupported authentication mechanism.");
        }
        let response = match args.get(1) {
            Some(initial) => (*initial).to_owned(),
            None => {
                self.write(b"+ \r\n")?;
                self.read_line()?
            }
        };
        if response.trim() == "*" {
            return self.err("Authentication aborted.");
        }
        // authzid NUL authcid NUL password
        let decoded = base64_decode(response.trim()).unwrap_or_default();
        let password = decoded
            .split(|b| *b == 0)
            .nth(2)
            .map(|p| String::from_utf8_lossy(p).into_owned());
        match password {
            Some(password) => self.login(&password),
            None => self.err("Invalid base64 data in continued response."),
        }
    }

    /// The raw bytes of message `arg` (1-based, as in the session's snapshot).
    fn message(&self, arg: Option<&&str>) -> Option<Vec<u8>> {
        let n: usize = arg?.parse().ok()?;
        self.snapshot.get(n.checked_sub(1)?).map(|m| m.raw.clone())
    }

    /// `LIST`/`UIDL`: one message with an argument, all of them without.
    fn listing(
        &mut self,
        args: &[&str],
        summary: &str,
        value: impl Fn(usize, &Pop3Message) -> String,
    ) -> Result<(), Stop> {
        if let Some(arg) = args.first() {
            let found = arg
                .parse::<usize>()
                .ok()
                .and_then(|n| Some((n, self.snapshot.get(n.checked_sub(1)?)?)));
            return match found {
                Some((n, m)) => {
                    let line = format!("{n} {}", value(n, m));
                    self.ok(&line)
                }
                None => self.err("There's no message with that number."),
            };
        }
        let mut out = format!("+OK {} {summary}\r\n", self.snapshot.len()).into_bytes();
        if summary.is_empty() {
            out = b"+OK\r\n".to_vec();
        }
        for (i, m) in self.snapshot.iter().enumerate() {
            out.extend_from_slice(format!("{} {}\r\n", i + 1, value(i + 1, m)).as_bytes());
        }
        out.extend_from_slice(b".\r\n");
        self.write(&out)
    }

    /// `+OK`, the bytes dot-stuffed, then the terminating `.` line.
    fn send_message(&mut self, raw: &[u8]) -> Result<(), Stop> {
        let mut out = b"+OK\r\n".to_vec();
        out.extend_from_slice(&dot_stuff(raw));
        out.extend_from_slice(b".\r\n");
        self.write(&out)
    }
}

/// The command word, upper-cased.
fn verb_of(line: &str) -> String {
    line.split_ascii_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// What `TOP n lines` returns: the header, the blank line, and the first `lines` body lines.
fn top_of(raw: &[u8], lines: usize) -> Vec<u8> {
    let header_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
    let Some(header_end) = header_end else {
        return raw.to_vec();
    };
    let mut end = header_end;
    for _ in 0..lines {
        match raw[end..].iter().position(|&b| b == b'\n') {
            Some(i) => end += i + 1,
            None => {
                end = raw.len();
                break;
            }
        }
    }
    raw[..end].to_vec()
}

/// RFC 1939 §3: lines starting with `.` get another `.`; a last line without CRLF gets one.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut at_line_start = true;
    for &b in raw {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Standard base64 (RFC 4648 §4), padding optional; `None` on any other character.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw_pop3::RawPop3;

    fn mail(subject: &str) -> Vec<u8> {
        crate::message(
            "Ana <ana@example.com>",
            "alice@example.org",
            subject,
            "body",
        )
    }

    #[test]
    fn base64_as_sasl_plain_sends_it() {
        assert_eq!(
            base64_decode("AGFsaWNlAGFsaWNlcHc="),
            Some(b"\0alice\0alicepw".to_vec())
        );
        assert_eq!(base64_decode("Zm9v"), Some(b"foo".to_vec()));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn top_and_dot_stuffing_follow_rfc_1939() {
        let raw = b"Subject: x\r\n\r\nline 1\r\n.dot\r\nline 3\r\n";
        assert_eq!(top_of(raw, 0), b"Subject: x\r\n\r\n".to_vec());
        assert_eq!(
            top_of(raw, 2),
            b"Subject: x\r\n\r\nline 1\r\n.dot\r\n".to_vec()
        );
        assert_eq!(top_of(raw, 99), raw.to_vec());
        assert_eq!(
            dot_stuff(b".a\r\nb\r\n.\r\n"),
            b"..a\r\nb\r\n..\r\n".to_vec()
        );
        assert_eq!(dot_stuff(b"no newline"), b"no newline\r\n".to_vec());
    }

    #[test]
    fn serves_a_mailbox_as_a_session_snapshot() -> Result<()> {
        let server = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve())?;
        let first = server.deliver(&mail("One"));
        server.deliver(&mail("Two"));
        let mut pop = RawPop3::connect("127.0.0.1", server.port())?;
        assert_eq!(pop.greeting(), POP3_GREETING.trim_end());
        let caps = pop.capa()?;
        assert!(caps.iter().any(|c| c == "SASL PLAIN"), "{caps:?}");
        assert!(!caps.iter().any(|c| c == "STLS"), "{caps:?}");
        pop.login("alice", "pw")?;
        server.deliver(&mail("Three, after login"));
        assert_eq!(
            pop.stat()?.0,
            2,
            "a session sees the mailbox as it was at login"
        );
        let uidl = pop.uidl()?;
        assert_eq!(uidl.first(), Some(&(1, first)));
        let header = String::from_utf8_lossy(&pop.top(2, 0)?).into_owned();
        assert!(header.contains("Subject: Two\r\n"), "{header}");
        assert!(!header.contains("body"), "{header}");
        assert!(pop.command_unchecked("STLS")?.starts_with("-ERR"));
        pop.quit()?;
        let mut again = RawPop3::connect("127.0.0.1", server.port())?;
        again.auth_plain("alice", "pw")?;
        assert_eq!(again.stat()?.0, 3);
        again.quit()?;
        let r = server.record(0).unwrap_or_default();
        assert!(
            r.credentials && r.credentials_over_tls == Some(false),
            "{r:?}"
        );
        assert_eq!(r.count("TOP"), 1);
        assert!(!r.dele);
        Ok(())
    }

    #[test]
    fn faults_on_demand() -> Result<()> {
        let no_uidl = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve().without_uidl())?;
        no_uidl.deliver(&mail("x"));
        let mut pop = RawPop3::connect("127.0.0.1", no_uidl.port())?;
        assert!(!pop.capa()?.iter().any(|c| c == "UIDL"));
        pop.login("alice", "pw")?;
        assert!(pop.command_unchecked("UIDL")?.starts_with("-ERR"));
        pop.quit()?;

        let refused = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::stls_refused())?;
        let mut pop = RawPop3::connect("127.0.0.1", refused.port())?;
        assert!(pop.capa()?.iter().any(|c| c == "STLS"));
        assert!(pop.command_unchecked("STLS")?.starts_with("-ERR"));
        pop.quit()?;

        let injected = ScriptedPop3::start(Listen::Plain, |_| {
            Pop3Script::stls_injected("+OK Logged in.\r\n")
        })?;
        let mut pop = RawPop3::connect("127.0.0.1", injected.port())?;
        // Both lines arrive in one write: the client has them buffered before any handshake.
        let ok = pop.command_unchecked("STLS")?;
        assert!(ok.starts_with("+OK Begin TLS"), "{ok}");
        assert_eq!(pop.read_line()?, "+OK Logged in.");
        pop.abort();

        let dup = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve())?;
        dup.deliver_with_uidl(&mail("a"), "same");
        dup.deliver_with_uidl(&mail("b"), "same");
        let mut pop = RawPop3::connect("127.0.0.1", dup.port())?;
        pop.login("alice", "pw")?;
        assert_eq!(
            pop.uidl()?,
            vec![(1, "same".to_owned()), (2, "same".to_owned())]
        );
        dup.with_mailbox(|m| m.uidl_listing = Some(b"+OK\r\n1 x y z\r\n.\r\n".to_vec()));
        assert_eq!(pop.multiline("UIDL")?, vec![b"1 x y z".to_vec()]);
        pop.quit()?;

        let strict = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve().password("pw"))?;
        let mut pop = RawPop3::connect("127.0.0.1", strict.port())?;
        assert!(pop.login("alice", "wrong").is_err());
        assert!(pop.auth_plain("alice", "wrong").is_err());
        pop.auth_plain("alice", "pw")?;
        pop.quit()?;
        Ok(())
    }

    #[test]
    fn huge_header_is_served_whole() -> Result<()> {
        let server = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve())?;
        let mut big = b"From: Big <big@example.com>\r\nSubject: ".to_vec();
        big.extend(std::iter::repeat_n(b'S', 1024 * 1024));
        big.extend_from_slice(b"\r\n\r\nbody\r\n");
        server.deliver(&big);
        let mut pop = RawPop3::connect("127.0.0.1", server.port())?;
        pop.login("alice", "pw")?;
        let header = pop.top(1, 0)?;
        assert!(header.len() > 1024 * 1024, "{}", header.len());
        pop.quit()?;
        Ok(())
    }
}
