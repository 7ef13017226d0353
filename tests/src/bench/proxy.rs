//! A loopback TCP proxy that keeps every chunk it forwards, both ways, with the time it saw it.
//!
//! Put in front of Dovecot's plain port it counts the IMAP bytes a client costs (on TLS links
//! add ~22 bytes of record overhead per TLS record), and tells when the client sent LOGIN. The
//! benchmarks move kilobytes to a few megabytes through it, so keeping everything is fine.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
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
    pub data: Vec<u8>,
}

pub struct Proxy {
    pub port: u16,
    chunks: Arc<Mutex<Vec<Chunk>>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards each connection to 127.0.0.1:`target`.
    pub fn start(target: u16) -> Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).context("Cannot bind the proxy")?;
        let port = listener.local_addr().context("Proxy address")?.port();
        let chunks = Arc::new(Mutex::new(Vec::new()));
        let shared = chunks.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { break };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                pump(client, s2, Dir::Up, shared.clone());
                pump(server, c2, Dir::Down, shared.clone());
            }
        });
        Ok(Proxy { port, chunks })
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

fn pump(mut from: TcpStream, mut to: TcpStream, dir: Dir, chunks: Arc<Mutex<Vec<Chunk>>>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let at = Instant::now();
                    if let Ok(mut c) = chunks.lock() {
                        c.push(Chunk {
                            at,
                            dir,
                            data: buf[..n].to_vec(),
                        });
                    }
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
