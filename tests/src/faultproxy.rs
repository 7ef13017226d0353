//! A fault-injecting TCP proxy on loopback, between the client under test and a real server.
//!
//! The network faults a laptop meets, on demand and at run time, while the client keeps its
//! configuration (it only ever talks to [`FaultProxy::port`]):
//!
//! - [`reset_all`](FaultProxy::reset_all): every open connection gets a TCP RST (`SO_LINGER` 0),
//!   as from a NAT box that forgot the mapping or a server that crashed with the host.
//! - [`close_all`](FaultProxy::close_all): every open connection is closed politely (FIN).
//! - [`black_hole`](FaultProxy::black_hole): open connections stop forwarding in both
//!   directions but stay open — the half-dead link of a suspended laptop or a dropped Wi-Fi.
//!   Nothing is lost: bytes wait in the kernel's buffers and flow again after
//!   [`heal`](FaultProxy::heal), as TCP would recover them.
//! - [`close_after`](FaultProxy::close_after): each connection is closed N seconds after it was
//!   opened (a provider or firewall that cuts long connections).
//! - [`set_latency`](FaultProxy::set_latency): every chunk is delayed by this much each way.
//! - [`refuse`](FaultProxy::refuse): the listening socket is closed, so new connections are
//!   refused (ECONNREFUSED) until it is reopened on the same port.
//!
//! It counts accepted connections and bytes each way. `std` threads only, like the rest of the
//! harness: four per connection (a reader and a writer each way), all waking every [`TICK`] to
//! notice faults, so every fault takes effect within a few milliseconds.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How often every proxy thread looks at the fault settings.
pub const TICK: Duration = Duration::from_millis(10);

/// Connecting to the real server: it is on loopback, so this only trips when it is down hard.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A write to a peer that stopped reading gives up after this long and ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One proxied connection.
struct Link {
    client: TcpStream,
    server: TcpStream,
    opened: Instant,
    black_hole: AtomicBool,
    /// Set when the link is being torn down; every thread of it exits within a [`TICK`].
    dead: AtomicBool,
    /// Directions that reached EOF (0, 1 or 2).
    eofs: AtomicU64,
}

impl Link {
    fn close(&self) {
        self.dead.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

struct Ctl {
    target: std::net::SocketAddr,
    port: u16,
    stop: AtomicBool,
    refuse: AtomicBool,
    black_hole_new: AtomicBool,
    latency_us: AtomicU64,
    /// 0: never.
    close_after_ms: AtomicU64,
    links: Mutex<Vec<Arc<Link>>>,
    accepted: AtomicU64,
    up: AtomicU64,
    down: AtomicU64,
}

/// A running proxy from `127.0.0.1:port()` to a target address. Dropping it closes everything.
pub struct FaultProxy {
    ctl: Arc<Ctl>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts forwarding `127.0.0.1:<new port>` to `target_host:target_port`.
    pub fn start(target_host: &str, target_port: u16) -> Result<FaultProxy> {
        let target = (target_host, target_port)
            .to_socket_addrs()
            .with_context(|| format!("Cannot resolve {target_host}:{target_port}"))?
            .next()
            .with_context(|| format!("No address for {target_host}"))?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).context("Cannot bind the proxy")?;
        listener
            .set_nonblocking(true)
            .context("Cannot make the proxy listener non-blocking")?;
        let port = listener.local_addr().context("No local address")?.port();
        let ctl = Arc::new(Ctl {
            target,
            port,
            stop: AtomicBool::new(false),
            refuse: AtomicBool::new(false),
            black_hole_new: AtomicBool::new(false),
            latency_us: AtomicU64::new(0),
            close_after_ms: AtomicU64::new(0),
            links: Mutex::new(Vec::new()),
            accepted: AtomicU64::new(0),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
        });
        let c = ctl.clone();
        let accept = thread::Builder::new()
            .name("faultproxy-accept".into())
            .spawn(move || accept_loop(Some(listener), &c))
            .context("Cannot start the proxy thread")?;
        Ok(FaultProxy {
            ctl,
            accept: Some(accept),
        })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.ctl.port
    }

    /// Connections accepted so far (refused ones are not accepted).
    pub fn connections(&self) -> u64 {
        self.ctl.accepted.load(Ordering::SeqCst)
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        lock(&self.ctl.links)
            .iter()
            .filter(|l| !l.dead.load(Ordering::SeqCst))
            .count()
    }

    /// Bytes forwarded (client → server, server → client).
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.ctl.up.load(Ordering::SeqCst),
            self.ctl.down.load(Ordering::SeqCst),
        )
    }

    /// Every open connection gets an RST; new connections are unaffected.
    pub fn reset_all(&self) {
        for link in lock(&self.ctl.links).drain(..) {
            let _ = socket2::SockRef::from(&link.client).set_linger(Some(Duration::ZERO));
            let _ = socket2::SockRef::from(&link.server).set_linger(Some(Duration::ZERO));
            // No shutdown: that would send a FIN first. The sockets close (with RST) when the
            // link's threads drop their handles, within a TICK.
            link.dead.store(true, Ordering::SeqCst);
        }
    }

    /// Every open connection is closed with a FIN both ways.
    pub fn close_all(&self) {
        for link in lock(&self.ctl.links).drain(..) {
            link.close();
        }
    }

    /// Open connections stop forwarding, both ways, and stay open. With `new_too`, connections
    /// accepted from now on are black-holed from their first byte as well.
    pub fn black_hole(&self, new_too: bool) {
        for link in lock(&self.ctl.links).iter() {
            link.black_hole.store(true, Ordering::SeqCst);
        }
        self.ctl.black_hole_new.store(new_too, Ordering::SeqCst);
    }

    /// Ends every black hole: held bytes flow again.
    pub fn heal(&self) {
        self.ctl.black_hole_new.store(false, Ordering::SeqCst);
        for link in lock(&self.ctl.links).iter() {
            link.black_hole.store(false, Ordering::SeqCst);
        }
    }

    /// Adds this delay to every chunk, each way.
    pub fn set_latency(&self, latency: Duration) {
        self.ctl.latency_us.store(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// Closes each connection (FIN) this long after it was opened; `None` turns it off.
    pub fn close_after(&self, after: Option<Duration>) {
        let ms = after.map_or(0, |d| {
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
        });
        self.ctl.close_after_ms.store(ms, Ordering::SeqCst);
    }

    /// `true`: close the listening socket, so connection attempts are refused. `false`: listen
    /// again on the same port. Open connections are not touched.
    pub fn refuse(&self, refuse: bool) {
        self.ctl.refuse.store(refuse, Ordering::SeqCst);
    }

    /// Back to a perfect link: no black hole, no latency, no timed closes, listening.
    pub fn pass(&self) {
        self.heal();
        self.set_latency(Duration::ZERO);
        self.close_after(None);
        self.refuse(false);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.ctl.stop.store(true, Ordering::SeqCst);
        self.close_all();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(mut listener: Option<TcpListener>, ctl: &Arc<Ctl>) {
    while !ctl.stop.load(Ordering::SeqCst) {
        let refuse = ctl.refuse.load(Ordering::SeqCst);
        if refuse && listener.is_some() {
            listener = None;
        }
        if !refuse && listener.is_none() {
            // std sets SO_REUSEADDR, and a listening socket leaves no TIME_WAIT behind, so the
            // port is free again at once unless someone else grabbed it meanwhile.
            listener = TcpListener::bind(("127.0.0.1", ctl.port))
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .ok();
        }
        expire_links(ctl);
        let accepted = match &listener {
            Some(l) => l.accept(),
            None => Err(io::ErrorKind::WouldBlock.into()),
        };
        match accepted {
            Ok((client, _)) => {
                ctl.accepted.fetch_add(1, Ordering::SeqCst);
                if let Err(link) = open_link(client, ctl) {
                    // The real server is down: the client sees what it would see, a reset.
                    let _ = socket2::SockRef::from(&link).set_linger(Some(Duration::ZERO));
                }
            }
            Err(_) => thread::sleep(TICK),
        }
    }
    for link in lock(&ctl.links).drain(..) {
        link.close();
    }
}

/// Closes links past `close_after`, forgets finished ones.
fn expire_links(ctl: &Ctl) {
    let after = ctl.close_after_ms.load(Ordering::SeqCst);
    let mut links = lock(&ctl.links);
    if after > 0 {
        for link in links.iter() {
            if link.opened.elapsed() >= Duration::from_millis(after) {
                link.close();
            }
        }
    }
    links.retain(|l| !l.dead.load(Ordering::SeqCst));
}

fn open_link(client: TcpStream, ctl: &Arc<Ctl>) -> std::result::Result<(), TcpStream> {
    let Ok(server) = TcpStream::connect_timeout(&ctl.target, UPSTREAM_CONNECT_TIMEOUT) else {
        return Err(client);
    };
    if client.set_nonblocking(false).is_err() {
        return Err(client);
    }
    for s in [&client, &server] {
        let _ = s.set_nodelay(true);
        let _ = s.set_read_timeout(Some(TICK));
        let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
    }
    let link = Arc::new(Link {
        client,
        server,
        opened: Instant::now(),
        black_hole: AtomicBool::new(ctl.black_hole_new.load(Ordering::SeqCst)),
        dead: AtomicBool::new(false),
        eofs: AtomicU64::new(0),
    });
    lock(&ctl.links).push(link.clone());
    pump(link.clone(), ctl.clone(), true);
    pump(link, ctl.clone(), false);
    Ok(())
}

/// Starts the reader and writer threads of one direction.
fn pump(link: Arc<Link>, ctl: Arc<Ctl>, upstream: bool) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let (l, c) = (link.clone(), ctl.clone());
    let _ = thread::Builder::new()
        .name("faultproxy-read".into())
        .spawn(move || read_side(&l, &c, upstream, &tx));
    let _ = thread::Builder::new()
        .name("faultproxy-write".into())
        .spawn(move || write_side(&link, &ctl, upstream, &rx));
}

fn read_side(link: &Link, ctl: &Ctl, upstream: bool, tx: &mpsc::Sender<(Instant, Vec<u8>)>) {
    let mut src = if upstream { &link.client } else { &link.server };
    let mut buf = vec![0u8; 64 * 1024];
    while !link.dead.load(Ordering::SeqCst) {
        if link.black_hole.load(Ordering::SeqCst) {
            // Not reading is what keeps the bytes for later, like an unanswered TCP peer.
            thread::sleep(TICK);
            continue;
        }
        match src.read(&mut buf) {
            Ok(0) => {
                // EOF travels as an empty chunk, in order behind the data.
                let _ = tx.send((Instant::now(), Vec::new()));
                return;
            }
            Ok(n) => {
                let delay = Duration::from_micros(ctl.latency_us.load(Ordering::SeqCst));
                if tx
                    .send((Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
                {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                // Reset by the peer: the connection is over for both sides.
                link.close();
                return;
            }
        }
    }
}

fn write_side(link: &Link, ctl: &Ctl, upstream: bool, rx: &mpsc::Receiver<(Instant, Vec<u8>)>) {
    let mut dst = if upstream { &link.server } else { &link.client };
    let counter = if upstream { &ctl.up } else { &ctl.down };
    loop {
        let (at, chunk) = match rx.recv_timeout(TICK) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) => {
                if link.dead.load(Ordering::SeqCst) {
                    return;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Latency first, then any black hole: held bytes go out in order when it ends.
        loop {
            if link.dead.load(Ordering::SeqCst) {
                return;
            }
            let wait = if link.black_hole.load(Ordering::SeqCst) {
                TICK
            } else {
                at.saturating_duration_since(Instant::now()).min(TICK)
            };
            if wait.is_zero() {
                break;
            }
            thread::sleep(wait);
        }
        if link.dead.load(Ordering::SeqCst) {
            return;
        }
        if chunk.is_empty() {
            let _ = dst.shutdown(Shutdown::Write);
            if link.eofs.fetch_add(1, Ordering::SeqCst) == 1 {
                link.dead.store(true, Ordering::SeqCst);
            }
            return;
        }
        if dst.write_all(&chunk).is_err() {
            link.close();
            return;
        }
        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
}
