//! The discovery lab (issue 12): real DNS, real HTTPS and real IMAP for names like
//! `autoconfig.example.test`, reached through the *production* resolver and trust paths, inside
//! a private network and mount namespace so nothing of it touches the host.
//!
//! # How a test uses it
//!
//! ```no_run
//! use pushmail_tests::netns::{self, Lab, Reply};
//!
//! #[test]
//! fn finds_the_autoconfig_file() {
//!     // Outside: re-runs exactly this test in a new namespace and reports its result.
//!     if !netns::isolated("finds_the_autoconfig_file") {
//!         return;
//!     }
//!     // Inside: a loopback-only network of our own, and mounts nobody else sees.
//!     let lab = Lab::builder()
//!         .a("autoconfig.example.test")
//!         .mx("example.test", "mx.hoster.test", 10)
//!         .srv("_imaps._tcp.example.test", "imap.example.test", 993)
//!         .https("autoconfig.example.test")
//!         .route(
//!             "https://autoconfig.example.test/mail/config-v1.1.xml",
//!             Reply::ok("text/xml", "<clientConfig/>"),
//!         )
//!         .start()
//!         .unwrap();
//!     // ... run discovery (production code, unchanged) ...
//!     assert!(lab.requests().iter().all(|r| !r.contains("alicepw")));
//! }
//! ```
//!
//! # Isolation
//!
//! [`isolated`] runs `unshare --net --mount --propagation private --kill-child --fork` on the
//! test binary itself, filtered to one test. The child has only `lo` (brought up here), so
//! nothing it does reaches the host's network, and ports 53, 80, 443, 143 and 993 are free.
//! Mount propagation is made private explicitly (util-linux's default for `--mount` is
//! `private` too, but a default is not a guarantee), and the child checks
//! `/proc/self/mountinfo` for any `shared:` mount before it runs: the bind mounts below can then
//! not propagate to the host, and they vanish with the namespace when the test ends, whatever
//! way it ends. Needs root (or CAP_SYS_ADMIN), `unshare` (util-linux) and `ip` (iproute2).
//!
//! # How trust reaches production code
//!
//! Production builds its TLS clients (IMAP in `imap/transport.rs`, HTTPS in
//! `oauth/http_client.rs`) with `rustls_platform_verifier::Verifier::new_with_extra_roots`. On
//! Linux that verifier (0.7.1, `src/verification/others.rs`) calls
//! `rustls_native_certs::load_native_certs()` (0.8.5, `src/lib.rs` and `src/unix.rs`), which:
//!
//! - reads **only** `SSL_CERT_FILE` and/or `SSL_CERT_DIR` when either is set, and nothing else;
//! - otherwise asks `openssl_probe::probe()` (0.2.2) and reads the first bundle *file* that
//!   exists among its Linux list (`/etc/ssl/certs/ca-certificates.crt` first, the Debian one)
//!   **and** every file of each existing *directory* (`/etc/ssl/certs`, `/etc/pki/tls/certs`,
//!   …), de-duplicated.
//!
//! So the lab writes the system bundle plus its CA to a file of its own and bind-mounts that
//! over `/etc/ssl/certs/ca-certificates.crt`: the file branch finds the CA, and the directory
//! scan of `/etc/ssl/certs` finds it again through the same mount. Nothing is set in the
//! environment; on the contrary, [`isolated`] removes `SSL_CERT_FILE` and `SSL_CERT_DIR` from
//! the child and [`LabBuilder::start`] refuses to run if they are set, because with them the
//! verifier would not look at the system store at all. The rest of the harness trusts its CAs
//! per account (`Account::ca_file`, the "extra roots" above, e.g. [`crate::Dovecot::ca_file`]);
//! a lab test must leave `ca_file` unset, or it proves nothing about the system store.
//!
//! # How DNS reaches production code
//!
//! `/etc/resolv.conf` is bind-mounted with `nameserver 127.0.0.1`, where a private `dnsmasq`
//! (Debian `dnsmasq-base`) answers from the records the test gave and nothing else
//! (`--no-resolv --no-hosts`, `--local=/#/`: every other name is NXDOMAIN). Host names then
//! resolve through glibc's `getaddrinfo` (what `std`'s and tokio's `lookup_host` call), and any
//! resolver library that reads `/etc/resolv.conf` (hickory's system configuration does) asks
//! the same dnsmasq for MX and SRV. Two host setups would bypass `/etc/resolv.conf`: `nscd`
//! and an nsswitch `resolve` (systemd-resolved) entry reach the host's daemons over Unix
//! sockets, which a network namespace does not separate; the lab refuses to start on them.
//! `/etc/hosts` is still read first by glibc (`hosts: files dns`); the `.test` names used here
//! are never in it.
//!
//! # HTTP(S)
//!
//! One listener on 127.0.0.1:443 chooses the certificate by SNI ([`LabBuilder::https`] and
//! friends; an unknown or missing SNI gets a certificate for `default.test`), one on
//! 127.0.0.1:80 speaks plain HTTP. Both serve the routes a test sets ([`Reply`]) and log every
//! request ([`HttpRequest`]) and every TLS handshake ([`TlsHandshake`]). HTTP/1.1, one request
//! per connection (`Connection: close`), bodies by `Content-Length` or chunked.
//!
//! Like the rest of the harness this is `std` threads only: no runtime to share with the code
//! under test.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tempfile::TempDir;

use crate::dovecot::{DovecotOptions, DovecotPorts, ServerCertificate};
use crate::process::{effective_uid, run_ok};
use crate::tls::TestCa;

/// Set in the child [`isolated`] starts, to the parent's namespaces (`net:[…],mnt:[…]`): how
/// the test knows it is inside, and how it checks that it really is in new ones.
pub const NETNS_ENV: &str = "PUSHMAIL_NETNS";

/// The system bundle production reads first (see the module docs).
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Where glibc (and resolvers reading the system configuration) find the name server.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Debian's dnsmasq (package `dnsmasq-base`).
const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// The name every unknown or missing SNI is answered for.
pub const DEFAULT_TLS_NAME: &str = "default.test";

/// Asked while waiting for dnsmasq to answer; left out of [`Lab::dns_queries`].
const READY_PROBE: &str = "lab-ready.invalid";

/// dnsmasq binds its socket in milliseconds; 10 s only trips on a real failure.
const DNS_START_TIMEOUT: Duration = Duration::from_secs(10);
/// One stub query to dnsmasq on loopback answers in well under a millisecond.
const DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a connection may sit idle before the server gives up on it: long enough for a
/// client under test that is slow to send, short enough that a stuck one cannot keep the lab's
/// drop waiting (drop shuts every socket anyway).
const HTTP_IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request head or body the lab reads; a discovery request is a few hundred bytes.
const MAX_REQUEST_BYTES: usize = 1 << 20;
/// `mount`, `umount`, `ip`: local and instant.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of the child's output kept for the panic message when an isolated test fails.
const TAIL_LINES: usize = 80;

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

/// Runs the calling test in a private network + mount namespace.
///
/// Outside (no [`NETNS_ENV`]): re-runs this test binary as `unshare --net --mount
/// --propagation private --kill-child --fork EXE --exact TEST_NAME --nocapture
/// --test-threads=1` with `PUSHMAIL_NETNS` set (and without `SSL_CERT_FILE`/`SSL_CERT_DIR`),
/// prints its output as it comes, panics with the tail of it unless the child ran exactly one
/// test and passed, and returns `false`: the caller returns at once.
///
/// Inside: checks the namespaces are really new and no mount propagates, brings `lo` up and
/// returns `true`: the caller goes on with the test.
///
/// `test_name` is the test's path as libtest names it (`my_test`, or `module::my_test`).
/// Never skips: a machine that cannot do this fails the test with what to install or do.
pub fn isolated(test_name: &str) -> bool {
    if std::env::var_os(NETNS_ENV).is_some() {
        if let Err(err) = enter() {
            panic!("Cannot set up the isolated namespace for {test_name}: {err:#}");
        }
        return true;
    }
    if let Err(err) = run_isolated(test_name) {
        panic!("{err:#}");
    }
    false
}

/// Inside the child: verifies the namespaces and brings up loopback.
fn enter() -> Result<()> {
    check_namespaces()?;
    let mountinfo =
        fs::read_to_string("/proc/self/mountinfo").context("Cannot read /proc/self/mountinfo")?;
    // Field 7 on (optional fields) holds `shared:N` for a mount that propagates to its peers.
    if let Some(line) = mountinfo.lines().find(|l| {
        l.split(" - ")
            .next()
            .is_some_and(|head| head.split(' ').skip(6).any(|f| f.starts_with("shared:")))
    }) {
        bail!(
            "A mount in the test's namespace still propagates to the host ({line}); the lab's \
             bind mounts would leak. unshare --propagation private should have prevented this"
        );
    }
    run_ok(
        Command::new("ip").args(["link", "set", "lo", "up"]),
        COMMAND_TIMEOUT,
    )
    .context(
        "Cannot bring up lo in the test's network namespace (`ip` is in Debian's iproute2: \
         apt-get install iproute2, or run scripts/setup --test)",
    )?;
    Ok(())
}

/// This process's network and mount namespaces, e.g. `net:[4026531833],mnt:[4026531832]`.
fn own_namespaces() -> Result<String> {
    let mut ids = Vec::new();
    for ns in ["net", "mnt"] {
        let link = fs::read_link(format!("/proc/self/ns/{ns}"))
            .with_context(|| format!("Cannot read /proc/self/ns/{ns}"))?;
        ids.push(link.display().to_string());
    }
    Ok(ids.join(","))
}

/// Fails unless [`NETNS_ENV`] holds the parent's namespaces and this process is in other ones.
/// (Comparing with pid 1's would be simpler, but in a container `/proc/1/ns/*` is often
/// unreadable even to root.)
fn check_namespaces() -> Result<()> {
    let parent = std::env::var(NETNS_ENV).unwrap_or_default();
    ensure!(
        parent.contains("net:[") && parent.contains("mnt:["),
        "{NETNS_ENV} is not set by netns::isolated (it is {parent:?}): the discovery lab must \
         run inside netns::isolated, which starts the test with unshare"
    );
    let own = own_namespaces()?;
    for (theirs, mine) in parent.split(',').zip(own.split(',')) {
        ensure!(
            theirs != mine,
            "This process is still in its parent's namespace {mine}: the lab would change the \
             host"
        );
    }
    Ok(())
}

/// Outside: starts the child under `unshare`, streams its output, judges the result.
fn run_isolated(test_name: &str) -> Result<()> {
    let exe = std::env::current_exe().context("Cannot locate the running test executable")?;
    let mut child = Command::new("unshare")
        .args([
            "--net",
            "--mount",
            "--propagation",
            "private",
            "--kill-child",
            "--fork",
            "--",
        ])
        .arg(&exe)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(NETNS_ENV, own_namespaces()?)
        // With either set, rustls-native-certs reads only them, never the system store the
        // lab exists to test (see the module docs).
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| {
            anyhow::anyhow!(
                "Cannot run `unshare` for the isolated test {test_name}: {err}. It is in \
                 util-linux (Debian: apt-get install util-linux)"
            )
        })?;
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
    let stdout = child
        .stdout
        .take()
        .map(|pipe| echo_lines(pipe, false, tail.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| echo_lines(pipe, true, tail.clone()));
    let status = child.wait().context("Cannot wait for unshare")?;
    let mut seen = String::new();
    for reader in [stdout, stderr].into_iter().flatten() {
        seen.push_str(&reader.join().unwrap_or_default());
    }
    let tail = lock(&tail).iter().cloned().collect::<Vec<_>>().join("\n");
    if !status.success() && (seen.contains("unshare failed") || seen.contains("unshare: ")) {
        bail!(
            "unshare could not create the namespaces for {test_name} ({status}). The discovery \
             lab needs root or CAP_SYS_ADMIN: run the tests as root, or the container with \
             --cap-add SYS_ADMIN (or --privileged) and without a seccomp profile that blocks \
             unshare(2). Output:\n{tail}"
        );
    }
    ensure!(
        status.success(),
        "The isolated test {test_name} failed ({status}); the end of its output:\n{tail}"
    );
    // libtest exits 0 when the filter matches nothing: make sure the test really ran.
    ensure!(
        seen.contains("running 1 test") && seen.contains(" 1 passed"),
        "The isolated run of {test_name} did not run exactly that test: pass \
         netns::isolated the test's own name as libtest shows it (e.g. `module::name`). \
         Output:\n{tail}"
    );
    Ok(())
}

/// Echoes each line of `pipe` (through `print!`/`eprint!`, so libtest captures it as the
/// test's output) and keeps the last ones; the thread returns everything it read.
fn echo_lines(
    pipe: impl Read + Send + 'static,
    to_stderr: bool,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if to_stderr {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            let mut tail = lock(&tail);
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line.clone());
            drop(tail);
            all.push_str(&line);
            all.push('\n');
        }
        all
    })
}

// ---------------------------------------------------------------------------------------------
// DNS records
// ---------------------------------------------------------------------------------------------

/// What the lab's HTTP(S) servers and Dovecot listen on, and what [`LabBuilder::a`] points to.
pub const LAB_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A record as a stub resolver reads it back, for tests that check the lab itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRecord {
    A(Ipv4Addr),
    Mx {
        preference: u16,
        exchange: String,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Cname(String),
}

/// A query type for [`query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Mx,
    Srv,
    Cname,
}

impl RecordType {
    fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Cname => 5,
            RecordType::Mx => 15,
            RecordType::Srv => 33,
        }
    }
}

/// The name servers `/etc/resolv.conf` lists, as glibc would read them.
pub fn system_nameservers() -> Result<Vec<IpAddr>> {
    let text =
        fs::read_to_string(RESOLV_CONF).with_context(|| format!("Cannot read {RESOLV_CONF}"))?;
    Ok(text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().parse().ok())
        .collect())
}

/// Asks the first name server of `/etc/resolv.conf` for `name`'s records of type `kind` (one
/// UDP query with recursion desired, as a stub resolver sends it). NXDOMAIN and "no records of
/// that type" are both an empty list; any other failure is an error.
///
/// Not a resolver for production (no retries, no TCP fallback, no search list): a small,
/// independent check that the lab's records reach whoever reads the system configuration.
pub fn query(name: &str, kind: RecordType) -> Result<Vec<DnsRecord>> {
    let server = *system_nameservers()?
        .first()
        .with_context(|| format!("{RESOLV_CONF} lists no nameserver"))?;
    query_server(SocketAddr::new(server, 53), name, kind)
}

fn query_server(server: SocketAddr, name: &str, kind: RecordType) -> Result<Vec<DnsRecord>> {
    let id = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos()
        & 0xffff) as u16;
    let mut msg = Vec::with_capacity(64);
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in name.trim_end_matches('.').split('.') {
        ensure!(
            !label.is_empty() && label.len() < 64,
            "Bad DNS name {name:?}"
        );
        msg.push(label.len() as u8);
        msg.extend_from_slice(label.as_bytes());
    }
    msg.push(0);
    msg.extend_from_slice(&kind.code().to_be_bytes());
    msg.extend_from_slice(&1u16.to_be_bytes()); // class IN

    let bind: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).context("Cannot bind a UDP socket")?;
    socket
        .set_read_timeout(Some(DNS_QUERY_TIMEOUT))
        .context("Cannot set a UDP timeout")?;
    socket
        .connect(server)
        .with_context(|| format!("Cannot reach {server}"))?;
    socket
        .send(&msg)
        .with_context(|| format!("Cannot send a DNS query to {server}"))?;
    let mut buf = [0u8; 4096];
    let len = socket
        .recv(&mut buf)
        .with_context(|| format!("No DNS answer from {server} for {name}"))?;
    parse_answer(&buf[..len], id, kind)
        .with_context(|| format!("Bad DNS answer from {server} for {name}"))
}

fn parse_answer(msg: &[u8], id: u16, kind: RecordType) -> Result<Vec<DnsRecord>> {
    let u16_at = |at: usize| -> Result<u16> {
        let bytes = msg.get(at..at + 2).context("Truncated message")?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    };
    ensure!(u16_at(0)? == id, "Answer to another query");
    let flags = u16_at(2)?;
    match flags & 0x000f {
        0 => {}
        3 => return Ok(Vec::new()), // NXDOMAIN
        rcode => bail!("Server failure, rcode {rcode}"),
    }
    let questions = u16_at(4)?;
    let answers = u16_at(6)?;
    let mut at = 12;
    for _ in 0..questions {
        at = read_name(msg, at)?.1 + 4;
    }
    let mut out = Vec::new();
    for _ in 0..answers {
        let (_, after) = read_name(msg, at)?;
        let rtype = u16_at(after)?;
        let rdlen = usize::from(u16_at(after + 8)?);
        let rdata = after + 10;
        ensure!(rdata + rdlen <= msg.len(), "Truncated record");
        let record = match rtype {
            1 if rdlen == 4 => Some(DnsRecord::A(Ipv4Addr::new(
                msg[rdata],
                msg[rdata + 1],
                msg[rdata + 2],
                msg[rdata + 3],
            ))),
            5 => Some(DnsRecord::Cname(read_name(msg, rdata)?.0)),
            15 => Some(DnsRecord::Mx {
                preference: u16_at(rdata)?,
                exchange: read_name(msg, rdata + 2)?.0,
            }),
            33 => Some(DnsRecord::Srv {
                priority: u16_at(rdata)?,
                weight: u16_at(rdata + 2)?,
                port: u16_at(rdata + 4)?,
                target: read_name(msg, rdata + 6)?.0,
            }),
            _ => None,
        };
        // A CNAME chain comes with the records of its target; keep what was asked for (and
        // the CNAMEs when those were).
        if let Some(record) = record
            && (rtype == kind.code() || kind == RecordType::Cname)
        {
            out.push(record);
        }
        at = rdata + rdlen;
    }
    Ok(out)
}

/// Reads a (possibly compressed) name at `at`; returns it (no trailing dot, `.` for the root)
/// and the offset after it in the original position.
fn read_name(msg: &[u8], mut at: usize) -> Result<(String, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(at).context("Truncated name")?;
        match len {
            0 => {
                let name = if labels.is_empty() {
                    ".".to_owned()
                } else {
                    labels.join(".")
                };
                return Ok((name, end.unwrap_or(at + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let low = *msg.get(at + 1).context("Truncated pointer")?;
                end.get_or_insert(at + 2);
                at = (usize::from(l & 0x3f) << 8) | usize::from(low);
            }
            l => {
                let label = msg
                    .get(at + 1..at + 1 + usize::from(l))
                    .context("Truncated label")?;
                labels.push(String::from_utf8_lossy(label).into_owned());
                at += 1 + usize::from(l);
            }
        }
    }
    bail!("Name compression loop")
}

/// One query dnsmasq logged (`--log-queries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// `A`, `AAAA`, `MX`, `SRV`, `TXT`, … as dnsmasq writes it.
    pub kind: String,
    pub name: String,
}

// ---------------------------------------------------------------------------------------------
// HTTP replies and the request log
// ---------------------------------------------------------------------------------------------

/// What a route answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Any status with a body.
    Body {
        status: u16,
        content_type: String,
        body: Vec<u8>,
        /// Extra headers, e.g. `("Cache-Control", "no-store")`.
        headers: Vec<(String, String)>,
    },
    /// A redirect: `status` (301, 302, 303, 307, 308) with `Location: location` and no body.
    Redirect { status: u16, location: String },
    /// 200 with `bytes` bytes of `x`, written 64 KiB at a time (never held in memory), with a
    /// `Content-Length` or, when `declare_length` is false, ended by closing the connection.
    Huge {
        content_type: String,
        bytes: u64,
        declare_length: bool,
    },
    /// Waits `delay` before writing anything (not even the status line), then answers `then`.
    /// The wait ends early when the lab stops.
    Slow { delay: Duration, then: Box<Reply> },
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200, content_type, body)
    }

    /// `status` with `body`.
    pub fn status(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Body {
            status,
            content_type: content_type.to_owned(),
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// `status` (a 3xx) to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Redirect {
            status,
            location: location.to_owned(),
        }
    }

    /// 200 with `bytes` bytes and a `Content-Length`.
    pub fn huge(content_type: &str, bytes: u64) -> Reply {
        Reply::Huge {
            content_type: content_type.to_owned(),
            bytes,
            declare_length: true,
        }
    }

    /// `then`, after `delay`.
    pub fn slow(delay: Duration, then: Reply) -> Reply {
        Reply::Slow {
            delay,
            then: Box::new(then),
        }
    }
}

/// One request either server received, as it came.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The SNI of the TLS connection (`None` over plain HTTP or when the client sent none).
    pub sni: Option<String>,
    /// The `Host` header without port, lower case (empty if missing).
    pub host: String,
    pub method: String,
    /// The request target exactly as sent: path and query (`/mail/config-v1.1.xml?emailaddress=…`).
    pub target: String,
    /// Every header in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (after chunked decoding).
    pub body: Vec<u8>,
    /// The status the lab answered with (404 when no route matched).
    pub status: u16,
}

impl HttpRequest {
    /// The path of the target, without the query.
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }

    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True if `needle` appears anywhere in the request: target (raw and percent-decoded),
    /// header names and values (and a `Basic` authorization decoded), body (raw and
    /// percent-decoded). For "the password went nowhere" assertions.
    pub fn contains(&self, needle: &str) -> bool {
        let mut places = vec![self.target.clone(), percent_decode(&self.target)];
        for (name, value) in &self.headers {
            places.push(format!("{name}: {value}"));
            if let Some(basic) = value
                .strip_prefix("Basic ")
                .or_else(|| value.strip_prefix("basic "))
                && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim())
            {
                places.push(String::from_utf8_lossy(&decoded).into_owned());
            }
        }
        let body = String::from_utf8_lossy(&self.body).into_owned();
        places.push(percent_decode(&body));
        places.push(body);
        places.iter().any(|place| place.contains(needle))
    }
}

use crate::oidc::percent_decode;

/// One TLS handshake on port 443.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsHandshake {
    /// The SNI the client sent.
    pub sni: Option<String>,
    /// `None` when it completed; rustls's words when it failed (a client that rejects the
    /// certificate shows here as a received alert, e.g. `BadCertificate`).
    pub error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The lab
// ---------------------------------------------------------------------------------------------

/// Which certificate an HTTPS host presents.
#[derive(Debug, Clone)]
enum HostCert {
    /// Signed by the lab's CA for these names.
    Trusted(Vec<String>),
    /// Signed by a CA that no trust store knows, for the host's own name.
    Untrusted,
}

/// What the lab should serve; [`LabBuilder::start`] brings it up.
#[derive(Debug, Default, Clone)]
pub struct LabBuilder {
    dnsmasq_args: Vec<String>,
    https_hosts: Vec<(String, HostCert)>,
    routes: Vec<(Route, Reply)>,
}

impl LabBuilder {
    /// An A record `name` → 127.0.0.1 (exactly that name; AAAA gets "no data").
    pub fn a(self, name: &str) -> LabBuilder {
        self.a_to(name, LAB_IP)
    }

    /// An A record `name` → `ip`.
    pub fn a_to(mut self, name: &str, ip: Ipv4Addr) -> LabBuilder {
        self.dnsmasq_args.push(format!("--host-record={name},{ip}"));
        self
    }

    /// An MX record: `domain` is handled by `exchange` with `preference` (lower wins).
    pub fn mx(mut self, domain: &str, exchange: &str, preference: u16) -> LabBuilder {
        self.dnsmasq_args
            .push(format!("--mx-host={domain},{exchange},{preference}"));
        self
    }

    /// An SRV record (RFC 6186): `service` (`_imaps._tcp.example.test`) at `target:port`,
    /// priority 0, weight 0.
    pub fn srv(self, service: &str, target: &str, port: u16) -> LabBuilder {
        self.srv_with(service, target, port, 0, 0)
    }

    /// An SRV record with its priority and weight.
    pub fn srv_with(
        mut self,
        service: &str,
        target: &str,
        port: u16,
        priority: u16,
        weight: u16,
    ) -> LabBuilder {
        self.dnsmasq_args.push(format!(
            "--srv-host={service},{target},{port},{priority},{weight}"
        ));
        self
    }

    /// A CNAME `alias` → `target` (dnsmasq only answers it when it knows `target` too).
    pub fn cname(mut self, alias: &str, target: &str) -> LabBuilder {
        self.dnsmasq_args.push(format!("--cname={alias},{target}"));
        self
    }

    /// Any other dnsmasq option, verbatim (`--txt-record=…`, `--srv-host=_imap._tcp.x.test`
    /// for RFC 6186's "no service here").
    pub fn dnsmasq_arg(mut self, arg: &str) -> LabBuilder {
        self.dnsmasq_args.push(arg.to_owned());
        self
    }

    /// Port 443 presents a certificate for `host` (signed by the lab's CA, which the system
    /// store trusts) to a client whose SNI is `host`.
    pub fn https(self, host: &str) -> LabBuilder {
        self.https_cert(host, &[host])
    }

    /// Port 443 presents, for SNI `host`, a certificate (lab CA) for `names` instead; with
    /// names that do not include `host` this is the wrong-name certificate.
    pub fn https_cert(mut self, host: &str, names: &[&str]) -> LabBuilder {
        self.https_hosts.push((
            host.to_ascii_lowercase(),
            HostCert::Trusted(names.iter().map(|n| (*n).to_owned()).collect()),
        ));
        self
    }

    /// Port 443 presents, for SNI `host`, a certificate for `host` from a CA nobody trusts.
    pub fn https_untrusted(mut self, host: &str) -> LabBuilder {
        self.https_hosts
            .push((host.to_ascii_lowercase(), HostCert::Untrusted));
        self
    }

    /// `url` (`https://host/path` or `http://host/path`; the query is ignored when matching)
    /// answers `reply`. Unmatched requests get 404. [`Lab::route`] adds or replaces one later.
    pub fn route(mut self, url: &str, reply: Reply) -> LabBuilder {
        match Route::parse(url) {
            Ok(route) => self.routes.push((route, reply)),
            // A typo in a test's URL is the test's bug; say so where it is made.
            Err(err) => panic!("{err:#}"),
        }
        self
    }

    /// Brings up trust, DNS and HTTP(S). Must run inside [`isolated`].
    pub fn start(self) -> Result<Lab> {
        Lab::start(self)
    }
}

/// `(scheme, host, path)` a route answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Route {
    scheme: &'static str,
    host: String,
    path: String,
}

impl Route {
    fn parse(url: &str) -> Result<Route> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest)
        } else {
            bail!("Route {url:?} must start with https:// or http://");
        };
        let (host, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        ensure!(
            !host.is_empty() && !host.contains(':'),
            "Route {url:?}: give a host without port (the lab serves 443 and 80)"
        );
        Ok(Route {
            scheme,
            host: host.to_ascii_lowercase(),
            path: path.split(['?', '#']).next().unwrap_or("/").to_owned(),
        })
    }
}

/// The running lab: system trust and resolver pointed at it, dnsmasq, HTTP(S) on 443/80.
/// Dropping it stops the servers and removes the mounts (the namespace would anyway).
pub struct Lab {
    /// CA, leaves, bundle, resolv.conf, dnsmasq's log. Removed last.
    dir: TempDir,
    ca: TestCa,
    leaves: AtomicUsize,
    dnsmasq: Option<Child>,
    dns_log: PathBuf,
    mounts: Vec<PathBuf>,
    http: Arc<HttpShared>,
    acceptors: Vec<JoinHandle<()>>,
    listen: Vec<SocketAddr>,
}

impl Lab {
    /// Nothing yet; see [`LabBuilder`].
    pub fn builder() -> LabBuilder {
        LabBuilder::default()
    }

    fn start(spec: LabBuilder) -> Result<Lab> {
        preflight()?;
        let dir = tempfile::Builder::new()
            .prefix("pushmail-lab-")
            .tempdir()
            .context("Cannot create the lab's directory")?;
        let ca = TestCa::create_named(&dir.path().join("ca"), "Pushmail Discovery Lab CA")?;
        let mut lab = Lab {
            dns_log: dir.path().join("dnsmasq.log"),
            ca,
            leaves: AtomicUsize::new(0),
            dnsmasq: None,
            mounts: Vec::new(),
            http: Arc::new(HttpShared::default()),
            acceptors: Vec::new(),
            listen: Vec::new(),
            dir,
        };
        // From here on a failure drops `lab`, which undoes whatever was done.
        lab.install_trust()?;
        lab.install_resolver()?;
        lab.start_dnsmasq(&spec.dnsmasq_args)?;
        lab.start_http(&spec)?;
        Ok(lab)
    }

    /// The lab's CA (PEM), trusted through the system bundle while the lab runs.
    pub fn ca_file(&self) -> &Path {
        &self.ca.ca
    }

    /// A new server certificate for `names` (DNS names; `IP:` or `DNS:` prefixes are kept as
    /// given), signed by the lab's CA.
    pub fn certificate(&self, names: &[&str]) -> Result<ServerCertificate> {
        ensure!(!names.is_empty(), "A certificate needs at least one name");
        let san = names
            .iter()
            .map(|n| {
                if n.starts_with("DNS:") || n.starts_with("IP:") {
                    (*n).to_owned()
                } else {
                    format!("DNS:{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        let n = self.leaves.fetch_add(1, Ordering::Relaxed);
        let leaf = self.ca.leaf(&format!("leaf-{n}"), &san)?;
        Ok(ServerCertificate {
            cert: leaf.cert,
            key: leaf.key,
            ca: self.ca.ca.clone(),
        })
    }

    /// Options for a Dovecot on 143/993 (and 110/995) presenting a certificate for `names`
    /// from the lab's CA; change the rest as needed and pass them to `Dovecot::start`. Clients
    /// must reach it by name (DNS records for `names` are the test's to add) and leave
    /// `ca_file` unset, so only the system store vouches for it.
    pub fn dovecot_options(&self, names: &[&str]) -> Result<DovecotOptions> {
        Ok(DovecotOptions {
            ports: Some(DovecotPorts::STANDARD),
            certificate: Some(self.certificate(names)?),
            ..DovecotOptions::default()
        })
    }

    /// Adds or replaces the reply for `url` (see [`LabBuilder::route`]).
    pub fn route(&self, url: &str, reply: Reply) -> Result<()> {
        let route = Route::parse(url)?;
        lock(&self.http.routes).insert(route, reply);
        Ok(())
    }

    /// Every HTTP(S) request so far, in arrival order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        lock(&self.http.requests).clone()
    }

    /// Every TLS handshake on 443 so far, in order.
    pub fn handshakes(&self) -> Vec<TlsHandshake> {
        lock(&self.http.handshakes).clone()
    }

    /// Forgets the requests and handshakes logged so far.
    pub fn clear_log(&self) {
        lock(&self.http.requests).clear();
        lock(&self.http.handshakes).clear();
    }

    /// dnsmasq's log (`--log-queries=extra`).
    pub fn dns_log(&self) -> String {
        fs::read(&self.dns_log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The queries dnsmasq received, in order (the lab's own readiness probe left out).
    pub fn dns_queries(&self) -> Vec<DnsQuery> {
        // "dnsmasq[12]: 3 127.0.0.1/58519 query[MX] example.test from 127.0.0.1"
        self.dns_log()
            .lines()
            .filter_map(|line| {
                let rest = &line[line.find(" query[")? + " query[".len()..];
                let (kind, rest) = rest.split_once("] ")?;
                let name = rest.split(' ').next()?;
                (name != READY_PROBE).then(|| DnsQuery {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                })
            })
            .collect()
    }

    /// The lab's directory (CA, leaves, bundle, resolv.conf, dnsmasq.log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Bundle = the system's + the lab CA, bind-mounted over the system's.
    fn install_trust(&mut self) -> Result<()> {
        let system = fs::read(SYSTEM_BUNDLE).with_context(|| {
            format!(
                "Cannot read the system CA bundle {SYSTEM_BUNDLE} (Debian package \
                 ca-certificates; scripts/setup installs it)"
            )
        })?;
        let mut bundle = system;
        if !bundle.ends_with(b"\n") {
            bundle.push(b'\n');
        }
        bundle.extend_from_slice(
            &fs::read(&self.ca.ca)
                .with_context(|| format!("Cannot read {}", self.ca.ca.display()))?,
        );
        let file = self.dir.path().join("ca-certificates.crt");
        fs::write(&file, bundle).with_context(|| format!("Cannot write {}", file.display()))?;
        set_readable(&file)?;
        self.bind_mount(&file, Path::new(SYSTEM_BUNDLE))
    }

    /// `nameserver 127.0.0.1`, bind-mounted over `/etc/resolv.conf`.
    fn install_resolver(&mut self) -> Result<()> {
        let file = self.dir.path().join("resolv.conf");
        fs::write(
            &file,
            "# Pushmail discovery lab: the private dnsmasq only.\nnameserver 127.0.0.1\n",
        )
        .with_context(|| format!("Cannot write {}", file.display()))?;
        set_readable(&file)?;
        self.bind_mount(&file, Path::new(RESOLV_CONF))
    }

    fn bind_mount(&mut self, source: &Path, target: &Path) -> Result<()> {
        ensure!(
            target.exists(),
            "{} does not exist; the lab mounts over it and cannot create it (that would change \
             the host's /etc)",
            target.display()
        );
        run_ok(
            Command::new("mount").arg("--bind").arg(source).arg(target),
            COMMAND_TIMEOUT,
        )
        .with_context(|| {
            format!(
                "Cannot bind-mount {} over {}",
                source.display(),
                target.display()
            )
        })?;
        self.mounts.push(target.to_owned());
        Ok(())
    }

    fn start_dnsmasq(&mut self, records: &[String]) -> Result<()> {
        ensure!(
            Path::new(DNSMASQ).is_file(),
            "{DNSMASQ} is missing: apt-get install --no-install-recommends dnsmasq-base, or run \
             scripts/setup --test"
        );
        let stderr = fs::File::create(self.dir.path().join("dnsmasq.stderr"))
            .context("Cannot create dnsmasq's stderr file")?;
        let child = Command::new(DNSMASQ)
            .args([
                // No /etc/dnsmasq.conf: only what is below.
                "--conf-file=/dev/null",
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                // No pid file in /run (the host's): the Child is the handle.
                "--pid-file=",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--port=53",
                // Root keeps the log file writable (dnsmasq would switch to `nobody`).
                "--user=root",
                "--log-queries=extra",
                // Every name is ours: anything not configured is NXDOMAIN, not REFUSED.
                "--local=/#/",
            ])
            .arg(format!("--log-facility={}", self.dns_log.display()))
            .args(records)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("Cannot start {DNSMASQ}"))?;
        self.dnsmasq = Some(child);
        let server: SocketAddr = (LAB_IP, 53).into();
        let started = Instant::now();
        loop {
            if let Some(child) = &mut self.dnsmasq
                && let Some(status) = child.try_wait().context("Cannot poll dnsmasq")?
            {
                let stderr =
                    fs::read_to_string(self.dir.path().join("dnsmasq.stderr")).unwrap_or_default();
                bail!(
                    "dnsmasq exited with {status}: {}\n{}",
                    stderr.trim(),
                    self.dns_log()
                );
            }
            match query_server(server, READY_PROBE, RecordType::A) {
                Ok(_) => return Ok(()),
                Err(err) if started.elapsed() > DNS_START_TIMEOUT => {
                    return Err(err.context(format!(
                        "dnsmasq did not answer within {DNS_START_TIMEOUT:?}"
                    )));
                }
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn start_http(&mut self, spec: &LabBuilder) -> Result<()> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut by_name = HashMap::new();
        for (host, cert) in &spec.https_hosts {
            let files = match cert {
                HostCert::Trusted(names) => {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    self.certificate(&names)?
                }
                HostCert::Untrusted => {
                    let n = self.leaves.fetch_add(1, Ordering::Relaxed);
                    // A name of its own, or webpki would try the lab CA as its issuer (see
                    // TestCa::create_named) and report BadSignature, not UnknownIssuer.
                    let stranger = TestCa::create_named(
                        &self.dir.path().join(format!("stranger-{n}")),
                        &format!("Stranger CA {n}"),
                    )?;
                    let leaf = stranger.leaf("server", &format!("DNS:{host}"))?;
                    ServerCertificate {
                        cert: leaf.cert,
                        key: leaf.key,
                        ca: stranger.ca.clone(),
                    }
                }
            };
            by_name.insert(host.clone(), certified_key(&files, &provider)?);
        }
        let default = certified_key(&self.certificate(&[DEFAULT_TLS_NAME])?, &provider)?;
        let resolver = Arc::new(SniCerts { by_name, default });
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .context("Cannot choose TLS versions")?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        let tls = Arc::new(tls);
        {
            let mut routes = lock(&self.http.routes);
            for (route, reply) in &spec.routes {
                routes.insert(route.clone(), reply.clone());
            }
        }
        for (port, tls) in [(443, Some(tls)), (80, None)] {
            let addr: SocketAddr = (LAB_IP, port).into();
            let listener = TcpListener::bind(addr).with_context(|| {
                format!("Cannot listen on {addr} (is this inside netns::isolated?)")
            })?;
            let shared = self.http.clone();
            self.listen.push(addr);
            self.acceptors.push(
                thread::Builder::new()
                    .name(format!("lab-http-{port}"))
                    .spawn(move || accept_loop(listener, tls, shared))
                    .context("Cannot start the HTTP acceptor")?,
            );
        }
        Ok(())
    }

    fn stop_http(&mut self) {
        self.http.stop.store(true, Ordering::SeqCst);
        // Wake each acceptor from accept(); it sees `stop` and returns.
        for addr in &self.listen {
            let _ = TcpStream::connect_timeout(addr, Duration::from_secs(1));
        }
        for acceptor in self.acceptors.drain(..) {
            let _ = acceptor.join();
        }
        let conns: Vec<_> = lock(&self.http.conns).drain(..).collect();
        for (stream, _) in &conns {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for (_, handle) in conns {
            let _ = handle.join();
        }
    }
}

impl fmt::Debug for Lab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lab")
            .field("dir", &self.dir.path())
            .field("dnsmasq", &self.dnsmasq.as_ref().map(Child::id))
            .field("mounts", &self.mounts)
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop_http();
        if let Some(mut child) = self.dnsmasq.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Newest first. The namespace dies with the test process anyway; unmounting lets a
        // second lab in the same test start clean.
        for target in self.mounts.drain(..).rev() {
            if let Err(err) = run_ok(Command::new("umount").arg(&target), COMMAND_TIMEOUT) {
                eprintln!(
                    "pushmail-tests: lab: cannot unmount {}: {err:#}",
                    target.display()
                );
            }
        }
    }
}

/// Refuses to touch `/etc` outside a private namespace, or where the result would prove
/// nothing.
fn preflight() -> Result<()> {
    check_namespaces()?;
    ensure!(
        effective_uid()? == 0,
        "The discovery lab needs root (mount --bind, ports 53/80/443)"
    );
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        ensure!(
            std::env::var_os(var).is_none(),
            "{var} is set: rustls-native-certs would read only it, not the system store the lab \
             tests; unset it"
        );
    }
    let nsswitch = fs::read_to_string("/etc/nsswitch.conf").unwrap_or_default();
    if let Some(hosts) = nsswitch
        .lines()
        .find(|l| l.trim_start().starts_with("hosts:"))
        && hosts.split_whitespace().any(|w| w == "resolve")
    {
        bail!(
            "/etc/nsswitch.conf resolves host names through systemd-resolved ({hosts}), which \
             the lab's /etc/resolv.conf cannot redirect"
        );
    }
    ensure!(
        !Path::new("/var/run/nscd/socket").exists(),
        "nscd runs on this host: glibc would ask it (over a Unix socket, outside the lab's \
         network) instead of the lab's DNS"
    );
    Ok(())
}

fn set_readable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
        .with_context(|| format!("Cannot chmod {}", path.display()))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking server thread must not hide the log from the test's assertions.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The HTTP(S) servers
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct HttpShared {
    routes: Mutex<HashMap<Route, Reply>>,
    requests: Mutex<Vec<HttpRequest>>,
    handshakes: Mutex<Vec<TlsHandshake>>,
    stop: AtomicBool,
    /// Live connections: a handle to shut the socket down on stop, and the thread to join.
    conns: Mutex<Vec<(TcpStream, JoinHandle<()>)>>,
}

/// SNI → certificate, with a default for everything else.
#[derive(Debug)]
struct SniCerts {
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Arc<CertifiedKey>,
}

impl ResolvesServerCert for SniCerts {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let chosen = hello
            .server_name()
            .and_then(|name| self.by_name.get(&name.to_ascii_lowercase()))
            .unwrap_or(&self.default);
        Some(chosen.clone())
    }
}

fn certified_key(
    files: &ServerCertificate,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<Arc<CertifiedKey>> {
    let pem =
        fs::read(&files.cert).with_context(|| format!("Cannot read {}", files.cert.display()))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .context("Cannot parse a lab certificate")?;
    let pem =
        fs::read(&files.key).with_context(|| format!("Cannot read {}", files.key.display()))?;
    let key = rustls_pemfile::private_key(&mut pem.as_slice())
        .context("Cannot parse a lab key")?
        .context("No key in the lab's key file")?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .context("Cannot load a lab key")?;
    Ok(Arc::new(CertifiedKey::new(certs, signing)))
}

fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: Arc<HttpShared>,
) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let Ok(handle_copy) = stream.try_clone() else {
            continue;
        };
        let tls = tls.clone();
        let conn_shared = shared.clone();
        let spawned = thread::Builder::new()
            .name("lab-http-conn".to_owned())
            .spawn(move || serve_connection(stream, tls, &conn_shared));
        let mut conns = lock(&shared.conns);
        // Keep the list short in long tests: finished connections are joined here.
        let (done, live): (Vec<_>, Vec<_>) = conns.drain(..).partition(|(_, h)| h.is_finished());
        *conns = live;
        if let Ok(handle) = spawned {
            conns.push((handle_copy, handle));
        }
        drop(conns);
        for (_, handle) in done {
            let _ = handle.join();
        }
    }
}

fn serve_connection(tcp: TcpStream, tls: Option<Arc<rustls::ServerConfig>>, shared: &HttpShared) {
    let _ = tcp.set_read_timeout(Some(HTTP_IO_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(HTTP_IO_TIMEOUT));
    let _ = tcp.set_nodelay(true);
    match tls {
        None => {
            let mut tcp = tcp;
            let _ = serve_request(&mut tcp, "http", None, shared);
            // The acceptor keeps a clone of this socket (to cut it on stop), so dropping ours
            // would not close the connection: say "end of response" explicitly.
            let _ = tcp.shutdown(Shutdown::Write);
        }
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            let mut stream = rustls::StreamOwned::new(conn, tcp);
            let mut error = None;
            while stream.conn.is_handshaking() {
                if let Err(err) = stream.conn.complete_io(&mut stream.sock) {
                    error = Some(err.to_string());
                    break;
                }
            }
            let sni = stream.conn.server_name().map(str::to_owned);
            let failed = error.is_some();
            lock(&shared.handshakes).push(TlsHandshake {
                sni: sni.clone(),
                error,
            });
            if failed {
                let _ = stream.sock.shutdown(Shutdown::Write);
                return;
            }
            if serve_request(&mut stream, "https", sni, shared).is_ok() {
                stream.conn.send_close_notify();
                let _ = stream.flush();
            }
            let _ = stream.sock.shutdown(Shutdown::Write);
        }
    }
}

/// Reads one request, logs it, answers it.
fn serve_request(
    stream: &mut (impl Read + Write),
    scheme: &'static str,
    sni: Option<String>,
    shared: &HttpShared,
) -> io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut head = Vec::new();
    loop {
        let n = reader.read_until(b'\n', &mut head)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") || head == b"\r\n" {
            break;
        }
        if head.len() > MAX_REQUEST_BYTES {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let chunked = header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        read_chunked(&mut reader)?
    } else {
        let len: usize = header("Content-Length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if len > MAX_REQUEST_BYTES {
            return Err(io::ErrorKind::InvalidData.into());
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    };
    drop(reader);
    let host = header("Host")
        .map(|h| {
            // `[::1]:443` or `name:443`
            let h = h.trim();
            match h.rfind(':') {
                Some(at) if !h[at..].contains(']') => &h[..at],
                _ => h,
            }
            .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let route = Route {
        scheme,
        host: host.clone(),
        path: target.split(['?', '#']).next().unwrap_or("").to_owned(),
    };
    let reply = lock(&shared.routes).get(&route).cloned();
    let reply = reply.unwrap_or_else(|| {
        Reply::status(
            404,
            "text/plain",
            format!("No lab route for {scheme}://{host}{}\n", route.path),
        )
    });
    lock(&shared.requests).push(HttpRequest {
        scheme,
        sni,
        host,
        method: method.clone(),
        target,
        headers: headers.clone(),
        body,
        status: final_status(&reply),
    });
    write_reply(stream, &reply, method == "HEAD", shared)
}

fn final_status(reply: &Reply) -> u16 {
    match reply {
        Reply::Body { status, .. } | Reply::Redirect { status, .. } => *status,
        Reply::Huge { .. } => 200,
        Reply::Slow { then, .. } => final_status(then),
    }
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_REQUEST_BYTES {
            return Err(io::ErrorKind::InvalidData.into());
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = String::new();
        reader.read_line(&mut crlf)?;
    }
}

fn write_reply(
    stream: &mut impl Write,
    reply: &Reply,
    head_only: bool,
    shared: &HttpShared,
) -> io::Result<()> {
    match reply {
        Reply::Slow { delay, then } => {
            let until = Instant::now() + *delay;
            while Instant::now() < until {
                if shared.stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
            }
            write_reply(stream, then, head_only, shared)
        }
        Reply::Body {
            status,
            content_type,
            body,
            headers,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n",
                reason(*status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            if !head_only {
                stream.write_all(body)?;
            }
            stream.flush()
        }
        Reply::Redirect { status, location } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n",
                reason(*status)
            );
            stream.write_all(head.as_bytes())?;
            stream.flush()
        }
        Reply::Huge {
            content_type,
            bytes,
            declare_length,
        } => {
            let length = if *declare_length {
                format!("Content-Length: {bytes}\r\n")
            } else {
                String::new()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())?;
            if head_only {
                return stream.flush();
            }
            let block = [b'x'; 64 * 1024];
            let mut left = *bytes;
            while left > 0 {
                if shared.stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let n = left.min(block.len() as u64) as usize;
                // A client that stops reading at its cap closes the connection: that ends this.
                stream.write_all(&block[..n])?;
                left -= n as u64;
            }
            stream.flush()
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Lab",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_scheme_host_and_path_without_query() {
        let r = Route::parse("https://AutoConfig.Example.test/mail/config-v1.1.xml?x=1")
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(
            (r.scheme, r.host.as_str(), r.path.as_str()),
            ("https", "autoconfig.example.test", "/mail/config-v1.1.xml")
        );
        let bare = Route::parse("http://example.test").unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!((bare.scheme, bare.path.as_str()), ("http", "/"));
        assert!(Route::parse("ftp://x.test/").is_err());
        assert!(Route::parse("https://x.test:8443/").is_err());
    }

    #[test]
    fn contains_sees_through_percent_encoding_and_basic_auth() {
        let request = HttpRequest {
            scheme: "https",
            sni: None,
            host: "x.test".to_owned(),
            method: "GET".to_owned(),
            target: "/a?emailaddress=ana%40example.test&p=s%20cret".to_owned(),
            headers: vec![(
                "Authorization".to_owned(),
                // ana:hunter2
                "Basic YW5hOmh1bnRlcjI=".to_owned(),
            )],
            body: b"q=a+b".to_vec(),
            status: 200,
        };
        assert!(request.contains("ana@example.test"));
        assert!(request.contains("s cret"));
        assert!(request.contains("hunter2"));
        assert!(request.contains("a b"));
        assert!(!request.contains("alicepw"));
        assert_eq!(request.path(), "/a");
    }

    #[test]
    fn dns_answers_with_compressed_names_parse() {
        // Answer to id 0x1234, one question (example.test MX), one MX 10 mx.hoster.test whose
        // name points back to the question.
        let mut msg = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        msg.extend_from_slice(b"\x07example\x04test\x00\x00\x0f\x00\x01");
        msg.extend_from_slice(&[0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 0, 0, 14, 0, 10]);
        msg.extend_from_slice(b"\x02mx\x06hoster\xc0\x14");
        let records =
            parse_answer(&msg, 0x1234, RecordType::Mx).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(
            records,
            vec![DnsRecord::Mx {
                preference: 10,
                exchange: "mx.hoster.test".to_owned()
            }]
        );
    }
}
