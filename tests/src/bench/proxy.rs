//! A loopback TCP proxy that keeps every chunk it forwards, both ways, with the time it saw it.
//!
//! Put in front of Dovecot's plain port it counts the IMAP bytes a client costs (on TLS links
//! add ~22 bytes of record overhead per TLS record), and tells when the client sent LOGIN. The
//! benchmarks move kilobytes to a few megabytes through it, so keeping everything is fine.
//! Each chunk knows its connection, so a client that connects once per check (POP3) can be
//! counted check by check ([`Proxy::sessions`]).
//!
//! [`Proxy::start_link`] makes it a link emulator (`tc netem` is not available here): every
//! chunk comes out at the far end a fixed one-way delay after it went in, in order, both ways,
//! and a new connection waits one round trip before anything passes (the TCP handshake a real
//! link costs before the client's first byte can leave). No bandwidth limit, no loss. A chunk
//! is then recorded when it comes out at the far end: for a server → client chunk, the moment
//! it reached the client's socket.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

#[derive(Clone, Debug)]
pub struct Chunk {
    pub at: Instant,
    pub dir: Dir,
    /// Which connection, in the order the proxy accepted them (0, 1, …).
    pub conn: usize,
    pub data: Vec<u8>,
}

/// When one proxied connection was opened and each of its directions closed.
#[derive(Clone, Debug)]
struct ConnTimes {
    opened: Instant,
    up_closed: Option<Instant>,
    down_closed: Option<Instant>,
}

/// One whole connection: its bytes each way and what the client sent. For clients that open a
/// connection per check (POP3), a connection is one check.
#[derive(Clone, Debug)]
pub struct Session {
    pub opened: Instant,
    /// When both directions were closed; `None` while the connection is open.
    pub closed: Option<Instant>,
    pub up: u64,
    pub down: u64,
    /// Everything the client sent, as text.
    pub up_text: String,
}

pub struct Proxy {
    pub port: u16,
    chunks: Arc<Mutex<Vec<Chunk>>>,
    conns: Arc<Mutex<Vec<ConnTimes>>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards each connection to 127.0.0.1:`target`.
    pub fn start(target: u16) -> Result<Proxy> {
        Proxy::start_link(target, Duration::ZERO)
    }

    /// Like [`start`](Self::start), as an emulated link with `one_way` delay each way (a round
    /// trip of twice that): see the module documentation.
    pub fn start_link(target: u16, one_way: Duration) -> Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).context("Cannot bind the proxy")?;
        let port = listener.local_addr().context("Proxy address")?.port();
        let chunks = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let shared = chunks.clone();
        let shared_conns = conns.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { break };
                let opened = Instant::now();
                let (shared, shared_conns) = (shared.clone(), shared_conns.clone());
                let forward = move || {
                    // The emulated TCP handshake: one round trip before the first byte passes.
                    std::thread::sleep(one_way * 2);
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                        return;
                    };
                    let id = match shared_conns.lock() {
                        Ok(mut c) => {
                            c.push(ConnTimes {
                                opened,
                                up_closed: None,
                                down_closed: None,
                            });
                            c.len() - 1
                        }
                        Err(_) => return,
                    };
                    let links = Links {
                        chunks: shared,
                        conns: shared_conns,
                        conn: id,
                    };
                    pump(client, s2, Dir::Up, links.clone(), one_way);
                    pump(server, c2, Dir::Down, links, one_way);
                };
                if one_way.is_zero() {
                    forward();
                } else {
                    std::thread::spawn(forward);
                }
            }
        });
        Ok(Proxy {
            port,
            chunks,
            conns,
        })
    }

    /// Every connection so far, in the order they were accepted, with its bytes.
    pub fn sessions(&self) -> Vec<Session> {
        let chunks = self.chunks.lock().map(|c| c.clone()).unwrap_or_default();
        let conns = self.conns.lock().map(|c| c.clone()).unwrap_or_default();
        let mut out: Vec<Session> = conns
            .iter()
            .map(|c| Session {
                opened: c.opened,
                closed: c.up_closed.zip(c.down_closed).map(|(a, b)| a.max(b)),
                up: 0,
                down: 0,
                up_text: String::new(),
            })
            .collect();
        for c in &chunks {
            let Some(s) = out.get_mut(c.conn) else {
                continue;
            };
            match c.dir {
                Dir::Up => {
                    s.up += c.data.len() as u64;
                    s.up_text.push_str(&String::from_utf8_lossy(&c.data));
                }
                Dir::Down => s.down += c.data.len() as u64,
            }
        }
        out
    }

    /// When connection `conn` was accepted (for an emulated link: when the client's
    /// `connect` returned, before the handshake's round trip) and every chunk it carried so far.
    pub fn connection(&self, conn: usize) -> Option<(Instant, Vec<Chunk>)> {
        let opened = self.conns.lock().ok()?.get(conn)?.opened;
        let chunks = self.chunks.lock().ok()?;
        Some((
            opened,
            chunks.iter().filter(|c| c.conn == conn).cloned().collect(),
        ))
    }

    /// How many connections have been closed both ways so far.
    pub fn closed_sessions(&self) -> usize {
        self.conns
            .lock()
            .map(|c| {
                c.iter()
                    .filter(|t| t.up_closed.is_some() && t.down_closed.is_some())
                    .count()
            })
            .unwrap_or(0)
    }

    /// Bytes (up, down) forwarded in `[from, to)`.
    pub fn bytes_between(&self, from: Instant, to: Instant) -> (u64, u64) {
        let chunks = self.chunks.lock().map(|c| c.clone()).unwrap_or_default();
        let mut up = 0;
        let mut down = 0;
        for c in chunks.iter().filter(|c| c.at >= from && c.at < to) {
            match c.dir {
                Dir::Up => up += c.data.len() as u64,
                Dir::Down => down += c.data.len() as u64,
            }
        }
        (up, down)
    }

    /// Everything forwarded in one direction within `[from, to)`, as text.
    pub fn text_between(&self, dir: Dir, from: Instant, to: Instant) -> String {
        let chunks = self.chunks.lock().map(|c| c.clone()).unwrap_or_default();
        let bytes: Vec<u8> = chunks
            .iter()
            .filter(|c| c.dir == dir && c.at >= from && c.at < to)
            .flat_map(|c| c.data.iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The traffic in `[from, to)` as a timeline, one line per chunk: milliseconds since
    /// `from`, direction, size, and the first line of text with LOGIN arguments cut off. For
    /// finding where a client's time goes (`PUSHMAIL_BENCH_TRACE=1`).
    pub fn timeline(&self, from: Instant, to: Instant) -> String {
        let chunks = self.chunks.lock().map(|c| c.clone()).unwrap_or_default();
        let mut out = String::new();
        for c in chunks.iter().filter(|c| c.at >= from && c.at < to) {
            let text = String::from_utf8_lossy(&c.data);
            let mut first: String = text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(70)
                .collect();
            if let Some(i) = first.find(" LOGIN ") {
                first.truncate(i + 7);
                first.push('…');
            }
            out.push_str(&format!(
                "{:9.2} ms {} {:6} B  {first}\n",
                c.at.duration_since(from).as_secs_f64() * 1e3,
                if c.dir == Dir::Up { "→" } else { "←" },
                c.data.len()
            ));
        }
        out
    }

    /// Time in `[from, to)` that the client took to react: from each server chunk to the
    /// client chunk that followed it. The rest of a dialogue's time is the server (and the
    /// loopback) answering.
    pub fn client_time(&self, from: Instant, to: Instant) -> Duration {
        let chunks = self.chunks.lock().map(|c| c.clone()).unwrap_or_default();
        let mut total = Duration::ZERO;
        let mut last_down: Option<Instant> = None;
        for c in chunks.iter().filter(|c| c.at >= from && c.at < to) {
            match c.dir {
                Dir::Down => last_down = Some(c.at),
                Dir::Up => {
                    if let Some(d) = last_down.take() {
                        total += c.at.duration_since(d);
                    }
                }
            }
        }
        total
    }

    /// When the first server → client chunk at or after `from` passed. On a client sitting in
    /// IDLE that is the server's push (`* N EXISTS`), even through TLS.
    pub fn first_down(&self, from: Instant) -> Option<Instant> {
        let chunks = self.chunks.lock().ok()?;
        chunks
            .iter()
            .find(|c| c.dir == Dir::Down && c.at >= from)
            .map(|c| c.at)
    }

    /// When the client had sent all of the first occurrence of `needle` (e.g. ` LOGIN `) at or
    /// after `from`. Searched across chunk boundaries: a client may write a command in pieces.
    pub fn first_up(&self, needle: &str, from: Instant) -> Option<Instant> {
        let chunks = self.chunks.lock().ok()?;
        let mut text = Vec::new();
        let mut ends = Vec::new();
        for c in chunks.iter().filter(|c| c.dir == Dir::Up && c.at >= from) {
            text.extend_from_slice(&c.data);
            ends.push((text.len(), c.at));
        }
        let needle = needle.as_bytes();
        let start = text.windows(needle.len()).position(|w| w == needle)?;
        let end = start + needle.len();
        ends.iter().find(|(e, _)| *e >= end).map(|(_, at)| *at)
    }
}

/// Where one connection's pumps record what they forward.
#[derive(Clone)]
struct Links {
    chunks: Arc<Mutex<Vec<Chunk>>>,
    conns: Arc<Mutex<Vec<ConnTimes>>>,
    conn: usize,
}

fn pump(from: TcpStream, to: TcpStream, dir: Dir, links: Links, delay: Duration) {
    if delay.is_zero() {
        pump_now(from, to, dir, links);
    } else {
        pump_delayed(from, to, dir, links, delay);
    }
}

/// Records a chunk as it passes.
fn record(links: &Links, dir: Dir, data: &[u8]) {
    if let Ok(mut c) = links.chunks.lock() {
        c.push(Chunk {
            at: Instant::now(),
            dir,
            conn: links.conn,
            data: data.to_vec(),
        });
    }
}

/// One direction closed: the far end sees the FIN, and the time is noted.
fn closed(links: &Links, dir: Dir, to: &TcpStream) {
    let _ = to.shutdown(Shutdown::Write);
    if let Ok(mut c) = links.conns.lock()
        && let Some(t) = c.get_mut(links.conn)
    {
        let now = Some(Instant::now());
        match dir {
            Dir::Up => t.up_closed = now,
            Dir::Down => t.down_closed = now,
        }
    }
}

/// A reader that stamps each chunk with the moment it is due at the far end and a writer that
/// sleeps until then: a fixed delay, order kept, the FIN delayed like the data.
fn pump_delayed(mut from: TcpStream, mut to: TcpStream, dir: Dir, links: Links, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send((Instant::now() + delay, None));
                    break;
                }
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, Some(buf[..n].to_vec())))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        for (due, data) in rx {
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let Some(data) = data else { break };
            record(&links, dir, &data);
            if to.write_all(&data).is_err() {
                break;
            }
        }
        closed(&links, dir, &to);
    });
}

fn pump_now(mut from: TcpStream, mut to: TcpStream, dir: Dir, links: Links) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    record(&links, dir, &buf[..n]);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        closed(&links, dir, &to);
    });
}
