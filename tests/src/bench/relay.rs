//! The relay (`pushmail-relay`, docs/relay.md) with its release binary, a private PostgreSQL 15,
//! a private Dovecot and the independent Web Push receiver (tests/relay/receiver.py):
//!
//! 1. memory: one process's VmRSS with 0 watched accounts, then more (all in `push`), and its
//!    file descriptors and database connections, → per account and the idle base;
//! 2. latency: APPEND → the Web Push POST reaching the receiver, next to the floor (a raw IDLE
//!    client on the same mailbox reading `* N EXISTS`) in the same deliveries;
//! 3. failover: two processes, `kill -9` one; → the first notice of a message delivered right
//!    after the kill, every bucket re-claimed, every moved account watching again;
//! 4. outbox throughput: notices per second one process's senders hand to the receiver (the
//!    Python receiver, and a trivial accept-only one to see what bounds it).
//!
//! The harness pieces are a condensed copy of tests/tests/relay_common (a database and config
//! per lab, processes, a small HTTP client for the API): integration-test modules cannot be
//! used from a binary. Every process here is our own child; nothing else is touched.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, ensure};
use pushmail_tests::{
    Dovecot, DovecotOptions, Postgres, PushReceiver, RawImap, free_port, message, wait_until,
};
use serde_json::{Value, json};

use crate::Outcome;
use crate::common::{Clock, PASSWORD, Summary, f1, sibling_binary, user_pairs, users};

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Watched accounts at each memory step (after 0).
    pub steps: Vec<usize>,
    /// Deliveries for the latency figure.
    pub latency_n: usize,
    /// Lease times (s) for the failover figure.
    pub leases: Vec<f64>,
    /// Notices per throughput run, and over how many devices of one account they spread.
    pub notices: usize,
    pub devices: usize,
}

impl Plan {
    pub fn full() -> Plan {
        Plan {
            steps: vec![100, 300],
            latency_n: 50,
            leases: vec![3.0, 15.0],
            notices: 1000,
            devices: 20,
        }
    }

    pub fn quick() -> Plan {
        Plan {
            steps: vec![20, 50],
            latency_n: 10,
            leases: vec![3.0],
            notices: 200,
            devices: 10,
        }
    }
}

/// Unix time now (the receiver's `time.time()` and PostgreSQL's `now()` read the same clock).
fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The lab: Dovecot, PostgreSQL, databases, relay processes, the API.

struct Lab {
    relay: PathBuf,
    dc: Dovecot,
    pg: Postgres,
    dir: tempfile::TempDir,
    /// Config lines lifting the per-user limits (one benchmark user holds 300 mailboxes and 20
    /// devices), when this binary knows them (it refuses keys it does not know).
    limits: &'static str,
}

const LIMITS: &str = "max_accounts_per_user = 100000\nmax_devices_per_user = 1000\n";

/// Whether `relay` takes the per-user limit keys: a config with them and an unreachable
/// database fails on the database if it does, on the config if it does not.
fn knows_limits(relay: &std::path::Path, dir: &std::path::Path) -> Result<bool> {
    let config = dir.join("probe.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"host=127.0.0.1 port=1 user=probe dbname=probe connect_timeout=1\"\n\
             vapid_subject = \"mailto:postmaster@example.org\"\n{LIMITS}"
        ),
    )?;
    let out = Command::new(relay)
        .args(["user", "add", "probe", "--config"])
        .arg(&config)
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    Ok(!err.contains("unknown field"))
}

/// One relay database with its master key; processes started on it share both.
struct Db<'a> {
    lab: &'a Lab,
    name: String,
    conninfo: String,
    key: PathBuf,
}

impl Lab {
    fn start(relay: PathBuf, users: &[String]) -> Result<Lab> {
        let dc = Dovecot::start(DovecotOptions {
            users: user_pairs(users),
            ..DovecotOptions::default()
        })?;
        let pg = Postgres::start()?;
        let dir = tempfile::Builder::new()
            .prefix("pushmail-bench-relay-")
            .tempdir()?;
        let limits = if knows_limits(&relay, dir.path())? {
            LIMITS
        } else {
            ""
        };
        Ok(Lab {
            relay,
            dc,
            pg,
            dir,
            limits,
        })
    }

    fn db(&self, name: &str) -> Result<Db<'_>> {
        let conninfo = self.pg.create_database(name)?;
        let key = self.dir.path().join(format!("{name}.key"));
        let out = Command::new(&self.relay)
            .arg("gen-key")
            .arg(&key)
            .output()?;
        ensure!(
            out.status.success(),
            "gen-key: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(Db {
            lab: self,
            name: name.to_owned(),
            conninfo,
            key,
        })
    }
}

impl Db<'_> {
    /// A process's config: production defaults except the lease (when given), loopback allowed
    /// (the lab's Dovecot and receivers), Dovecot's CA trusted and no API rate limit to speak of.
    fn config(&self, port: u16, lease: Option<f64>) -> String {
        let lease = lease.map(|l| format!("lease = {l}\n")).unwrap_or_default();
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{db}\"\nmaster_key_file = \"{key}\"\n\
             vapid_subject = \"mailto:postmaster@example.org\"\n{lease}rate_per_minute = 1000000\n\
             allow_private = [\"127.0.0.1/32\"]\nca_file = \"{ca}\"\n{limits}",
            db = self.conninfo,
            key = self.key.display(),
            ca = self.lab.dc.ca_file().display(),
            limits = self.lab.limits,
        )
    }

    fn config_file(&self, name: &str, port: u16, lease: Option<f64>) -> Result<PathBuf> {
        let path = self
            .lab
            .dir
            .path()
            .join(format!("{}-{name}.toml", self.name));
        std::fs::write(&path, self.config(port, lease))?;
        Ok(path)
    }

    fn psql(&self, sql: &str) -> Result<String> {
        Ok(self.lab.pg.psql(&self.name, sql)?.trim().to_owned())
    }

    fn count(&self, sql: &str) -> Result<usize> {
        self.psql(sql)?
            .parse()
            .with_context(|| format!("not a count: {sql}"))
    }

    /// `pushmail-relay user add NAME`: its token.
    fn add_user(&self, name: &str) -> Result<String> {
        let config = self.config_file("cli", free_port(), None)?;
        let out = Command::new(&self.lab.relay)
            .args(["user", "add", name, "--config"])
            .arg(&config)
            .output()?;
        ensure!(
            out.status.success(),
            "user add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    fn buckets(&self) -> Result<usize> {
        self.count("SELECT count(*) FROM bucket")
    }

    fn held_by(&self, owner: &str) -> Result<usize> {
        self.count(&format!(
            "SELECT count(*) FROM bucket WHERE owner = '{owner}' AND lease_until > now()"
        ))
    }

    fn pushing(&self) -> Result<usize> {
        self.count("SELECT count(*) FROM account WHERE state = 'push'")
    }

    /// Connections to this database other than the asking psql.
    fn connections(&self) -> Result<usize> {
        Ok(self
            .count(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            ))?
            .saturating_sub(1))
    }
}

/// One `pushmail-relay serve`.
struct Proc {
    child: Option<Child>,
    pid: u32,
    port: u16,
    log: PathBuf,
}

impl Proc {
    fn start(db: &Db<'_>, name: &str, lease: Option<f64>) -> Result<Proc> {
        let port = free_port();
        let config = db.config_file(name, port, lease)?;
        let log = db.lab.dir.path().join(format!("{}-{name}.log", db.name));
        let child = Command::new(&db.lab.relay)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting pushmail-relay")?;
        let pid = child.id();
        let p = Proc {
            child: Some(child),
            pid,
            port,
            log,
        };
        let up = wait_until(Duration::from_secs(30), || {
            Ok(TcpStream::connect(("127.0.0.1", port)).is_ok())
        })?;
        ensure!(up, "relay {name} did not start:\n{}", p.log_tail());
        Ok(p)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Its name in the database (`host:pid:random`).
    fn owner(&self, db: &Db<'_>) -> Result<String> {
        let mut owner = String::new();
        let found = wait_until(Duration::from_secs(20), || {
            owner = db.psql(&format!(
                "SELECT owner FROM relay_process WHERE owner LIKE '%:{}:%' LIMIT 1",
                self.pid
            ))?;
            Ok(!owner.is_empty())
        })?;
        ensure!(found, "relay {} never registered", self.pid);
        Ok(owner)
    }

    /// (VmRSS, RssAnon) in kB, threads, open file descriptors.
    fn sample(&self) -> Result<(u64, u64, usize, usize)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let field = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid))?.count();
        Ok((
            field("VmRSS:"),
            field("RssAnon:"),
            field("Threads:") as usize,
            fds,
        ))
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (a clean stop gives the buckets back), SIGKILL after 10 s.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            crate::common::terminate(&mut c);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A plain HTTP/1.1 JSON request to the relay's API: status and body.
fn http(port: u16, method: &str, path: &str, token: &str, body: &Value) -> Result<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.to_string();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, serde_json::from_str(rest).unwrap_or(Value::Null)))
}

/// Adds a mailbox per user through the API (each connection-tested by the relay before it is
/// saved), in six threads; returns user → account id.
fn add_accounts(
    dc: &Dovecot,
    port: u16,
    token: &str,
    users: &[String],
) -> Result<HashMap<String, String>> {
    let chunk = users.len().div_ceil(6).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = users
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> Result<Vec<(String, String)>> {
                    part.iter()
                        .map(|user| {
                            let body = json!({
                                "name": format!("Box {user}"), "email": format!("{user}@example.org"),
                                "host": dc.host(), "port": dc.imaps_port(), "security": "tls",
                                "username": user, "password": PASSWORD,
                            });
                            let (status, reply) =
                                http(port, "POST", "/api/accounts", token, &body)?;
                            ensure!(status == 201, "adding {user}: {status} {reply}");
                            let id = reply["id"].as_str().context("no account id")?;
                            Ok((user.clone(), id.to_owned()))
                        })
                        .collect()
                })
            })
            .collect();
        let mut all = HashMap::new();
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("thread panicked"))??);
        }
        Ok(all)
    })
}

fn add_device(port: u16, token: &str, subscription: Value) -> Result<()> {
    let body = json!({"name": "bench", "detail": "subject", "subscription": subscription});
    let (status, reply) = http(port, "POST", "/api/devices", token, &body)?;
    ensure!(status == 201, "adding a device: {status} {reply}");
    Ok(())
}

fn wait(timeout: Duration, what: &str, f: impl FnMut() -> Result<bool>) -> Result<()> {
    ensure!(
        wait_until(timeout, f)?,
        "timed out after {timeout:?}: {what}"
    );
    Ok(())
}

/// What the receiver accepted: (its receive time, the decrypted notice).
fn receipts(r: &PushReceiver) -> Vec<(f64, Value)> {
    r.events()
        .into_iter()
        .filter(|e| e["type"] == "delivered")
        .map(|e| {
            let at = e["received_at"].as_f64().unwrap_or(f64::NAN);
            (at, e["plaintext"].clone())
        })
        .collect()
}

/// The receive time of the notice for message `uid` of `account`'s INBOX, waiting up to
/// `timeout` (polled every 5 ms; the time is the receiver's own stamp, not the poll's).
fn wait_notice(r: &PushReceiver, account: &str, uid: u32, timeout: Duration) -> Option<f64> {
    let deadline = Instant::now() + timeout;
    let want = |v: &Value| {
        v["tag"].as_str().is_some_and(|t| {
            let p: Vec<&str> = t.split('/').collect();
            p.len() == 4 && p[0] == account && p[1] == "INBOX" && p[3] == uid.to_string()
        })
    };
    loop {
        if let Some((at, _)) = receipts(r).into_iter().find(|(_, v)| want(v)) {
            return Some(at);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A raw IMAP client idling on `user`'s INBOX on its own thread; yields when it read each
/// `* N EXISTS` (the floor, as in latency.rs).
fn raw_idler(dc: &Dovecot, user: &str) -> Result<mpsc::Receiver<Instant>> {
    let (tx, rx) = mpsc::channel();
    let mut imap = RawImap::connect_login(dc.host(), dc.imap_port(), user, PASSWORD)?;
    imap.select("INBOX")?;
    std::thread::spawn(move || {
        while let Ok(found) = imap.idle_until_exists(Duration::from_secs(60)) {
            if let Some(at) = found
                && tx.send(at).is_err()
            {
                break;
            }
        }
    });
    Ok(rx)
}

fn mail(subject: &str) -> Vec<u8> {
    message(
        "Bench <bench@example.com>",
        "bench@example.org",
        subject,
        "x",
    )
}

// ---------------------------------------------------------------------------------------------
// 1. Memory.

#[derive(Clone, Debug)]
pub struct MemRow {
    pub accounts: usize,
    pub rss_kb: u64,
    pub anon_kb: u64,
    pub threads: usize,
    pub fds: usize,
    pub db_connections: usize,
    /// Adding these accounts through the API until all were in `push`, seconds.
    pub ready_secs: f64,
}

pub struct Memory {
    pub rows: Vec<MemRow>,
    pub buckets: usize,
    pub settle_secs: u64,
}

impl Memory {
    /// kB per account between the first and the last row.
    pub fn per_account_kb(&self, anon: bool) -> f64 {
        let (Some(a), Some(b)) = (self.rows.first(), self.rows.last()) else {
            return f64::NAN;
        };
        let v = |r: &MemRow| if anon { r.anon_kb } else { r.rss_kb } as f64;
        (v(b) - v(a)) / (b.accounts.saturating_sub(a.accounts)).max(1) as f64
    }

    /// kB per account between the last two rows (the slope once the process is warm).
    pub fn slope_kb(&self) -> f64 {
        let n = self.rows.len();
        if n < 3 {
            return f64::NAN;
        }
        let (a, b) = (&self.rows[n - 2], &self.rows[n - 1]);
        (b.rss_kb as f64 - a.rss_kb as f64) / (b.accounts - a.accounts).max(1) as f64
    }

    /// File descriptors per account between the first and the last row.
    pub fn fds_per_account(&self) -> f64 {
        let (Some(a), Some(b)) = (self.rows.first(), self.rows.last()) else {
            return f64::NAN;
        };
        (b.fds as f64 - a.fds as f64) / (b.accounts.saturating_sub(a.accounts)).max(1) as f64
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Latency.

#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub mailboxes: usize,
    pub watched: usize,
    /// ms from the start of the APPEND.
    pub floor: Vec<f64>,
    pub relay: Vec<f64>,
    /// relay − floor, per delivery.
    pub added: Vec<f64>,
    /// relay − the moment the APPEND completed (its OK read).
    pub after_append: Vec<f64>,
    /// A second raw IDLE client − the floor, per delivery: how far two identical, trivially
    /// fast IDLE sessions on the same mailbox differ (Dovecot's per-session jitter).
    pub noise: Vec<f64>,
    pub misses: usize,
}

// ---------------------------------------------------------------------------------------------
// 3. Failover.

#[derive(Clone, Debug)]
pub struct Failover {
    pub lease: f64,
    pub accounts: usize,
    pub buckets: usize,
    /// Buckets and accounts the killed process held.
    pub moved_buckets: usize,
    pub moved_accounts: usize,
    /// Seconds from kill -9 to: the first notice of a message delivered right after it (APPEND
    /// completed `delivered` s after the kill), the first and the last bucket re-claimed, every
    /// moved account reported `push` again.
    pub delivered: f64,
    pub first_notice: Option<f64>,
    pub first_claim: f64,
    pub all_claimed: f64,
    pub all_watching: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// 4. Outbox throughput.

#[derive(Clone, Debug)]
pub struct Throughput {
    pub receiver: &'static str,
    pub notices: usize,
    pub devices: usize,
    pub messages: usize,
    /// Last − first APPEND, s.
    pub append_secs: f64,
    /// First − last announcement recorded (the outbox rows are committed with it), s.
    pub enqueue_secs: f64,
    /// First − last notice received, s.
    pub drain_secs: f64,
    /// First APPEND (prefilled: the release) → last notice received, s.
    pub total_secs: f64,
    /// The outbox was filled before the senders could take anything.
    pub prefilled: bool,
    /// CPU seconds over the run: the relay process, and PostgreSQL (all its processes).
    pub relay_cpu: f64,
    pub pg_cpu: f64,
}

impl Throughput {
    pub fn rate(&self) -> f64 {
        (self.notices.saturating_sub(1)) as f64 / self.drain_secs
    }
}

/// A trivial push endpoint: answers every request `201 Created` (keep-alive) without looking at
/// it, and notes when each request's headers had been read.
struct AcceptOnly {
    port: u16,
    times: Arc<Mutex<Vec<f64>>>,
}

impl AcceptOnly {
    fn start() -> Result<AcceptOnly> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let times = Arc::new(Mutex::new(Vec::new()));
        let t = times.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let t = t.clone();
                std::thread::spawn(move || serve_accept(conn, &t));
            }
        });
        Ok(AcceptOnly { port, times })
    }

    fn times(&self) -> Vec<f64> {
        self.times.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

fn serve_accept(conn: TcpStream, times: &Mutex<Vec<f64>>) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut r = BufReader::new(conn);
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" && !first {
                break;
            }
            first = false;
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let at = now_unix();
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(mut t) = times.lock() {
            t.push(at);
        }
        if out
            .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

pub struct RelayBench {
    pub plan: Plan,
    pub relay_binary: String,
    pub memory: Outcome<Memory>,
    pub latency: Outcome<Latency>,
    pub failover: Vec<Outcome<Failover>>,
    pub throughput: Vec<Outcome<Throughput>>,
    pub secs: f64,
}

/// The relay next to this binary (`target/release/pushmail-relay` for the release
/// `pushmail-bench`), or the one `PUSHMAIL_BENCH_RELAY` names.
pub fn relay_binary() -> Option<PathBuf> {
    std::env::var_os("PUSHMAIL_BENCH_RELAY")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| sibling_binary("pushmail-relay"))
}

pub fn run(plan: Plan, clock: Clock) -> Result<RelayBench> {
    let started = Instant::now();
    let relay = relay_binary().context(
        "pushmail-relay is missing next to pushmail-bench: cargo build --release -p pushmail-relay",
    )?;
    let total = plan.steps.iter().copied().max().unwrap_or(0);
    let mut all_users = users("r", total);
    let tp_users = users("tp", 4);
    all_users.extend(tp_users.iter().cloned());
    let lab = Lab::start(relay.clone(), &all_users)?;
    let watched = &all_users[..total];
    eprintln!("relay bench: Dovecot and PostgreSQL up");

    let db = lab.db("relaybench")?;
    let receiver = PushReceiver::start(1)?;
    let mut ids = HashMap::new();
    let (memory, latency) = {
        let a = Proc::start(&db, "a", None)?;
        let token = db.add_user("bench")?;
        add_device(a.port, &token, receiver.subscription(0))?;
        wait(Duration::from_secs(20), "the test notice", || {
            Ok(receipts(&receiver).iter().any(|(_, v)| v["kind"] == "test"))
        })?;
        let memory = Outcome::from_result(memory(&db, &a, &token, &plan, watched, &mut ids));
        eprintln!(
            "relay bench: memory done ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        let latency = if ids.len() == total {
            Outcome::from_result(latency(
                &lab,
                &receiver,
                watched,
                &ids,
                plan.latency_n,
                clock,
            ))
        } else {
            Outcome::Skipped("the accounts could not be added".into())
        };
        eprintln!(
            "relay bench: latency done ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        drop(a);
        (memory, latency)
    };

    let mut failover = Vec::new();
    for &lease in &plan.leases {
        let f = if ids.len() == total {
            Outcome::from_result(failover_run(&db, &receiver, &ids, lease))
        } else {
            Outcome::Skipped("the accounts could not be added".into())
        };
        eprintln!(
            "relay bench: failover (lease {lease} s) done ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
        failover.push(f);
    }

    let mut throughput = Vec::new();
    let runs = [
        ("python", true),
        ("accept-only", true),
        ("python", false),
        ("accept-only", false),
    ];
    for (i, (which, prefill)) in runs.into_iter().enumerate() {
        throughput.push(Outcome::from_result(throughput_run(
            &lab,
            &tp_users[i],
            which,
            prefill,
            &plan,
        )));
        eprintln!(
            "relay bench: throughput ({which}, prefilled {prefill}) done ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }

    Ok(RelayBench {
        plan,
        relay_binary: relay.display().to_string(),
        memory,
        latency,
        failover,
        throughput,
        secs: started.elapsed().as_secs_f64(),
    })
}

const SETTLE: Duration = Duration::from_secs(5);

fn memory(
    db: &Db<'_>,
    a: &Proc,
    token: &str,
    plan: &Plan,
    watched: &[String],
    ids: &mut HashMap<String, String>,
) -> Result<Memory> {
    let owner = a.owner(db)?;
    let buckets = db.buckets()?;
    wait(Duration::from_secs(30), "every bucket claimed", || {
        Ok(db.held_by(&owner)? == buckets)
    })?;
    std::thread::sleep(SETTLE);
    let sample = |accounts: usize, ready_secs: f64| -> Result<MemRow> {
        let (rss_kb, anon_kb, threads, fds) = a.sample()?;
        Ok(MemRow {
            accounts,
            rss_kb,
            anon_kb,
            threads,
            fds,
            db_connections: db.connections()?,
            ready_secs,
        })
    };
    let mut rows = vec![sample(0, 0.0)?];
    let mut have = 0;
    for &step in &plan.steps {
        let t = Instant::now();
        ids.extend(add_accounts(
            &db.lab.dc,
            a.port,
            token,
            &watched[have..step],
        )?);
        wait(
            Duration::from_secs(180),
            &format!("{step} accounts in push"),
            || Ok(db.pushing()? >= step),
        )?;
        let ready = t.elapsed().as_secs_f64();
        have = step;
        std::thread::sleep(SETTLE);
        rows.push(sample(step, ready)?);
        eprintln!("relay bench: {step} accounts: {:?}", rows.last());
    }
    Ok(Memory {
        rows,
        buckets,
        settle_secs: SETTLE.as_secs(),
    })
}

fn latency(
    lab: &Lab,
    receiver: &PushReceiver,
    watched: &[String],
    ids: &HashMap<String, String>,
    n: usize,
    clock: Clock,
) -> Result<Latency> {
    let k = watched.len().clamp(1, 10);
    let chosen: Vec<&String> = (0..k).map(|i| &watched[i * watched.len() / k]).collect();
    let mut idlers = Vec::new();
    let mut twins = Vec::new();
    let mut senders = Vec::new();
    for u in &chosen {
        idlers.push(raw_idler(&lab.dc, u)?);
        twins.push(raw_idler(&lab.dc, u)?);
        senders.push(RawImap::connect_login(
            lab.dc.host(),
            lab.dc.imap_port(),
            u,
            PASSWORD,
        )?);
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut l = Latency {
        mailboxes: k,
        watched: watched.len(),
        ..Latency::default()
    };
    for i in 0..n {
        let j = i % k;
        let account = &ids[chosen[j]];
        while idlers[j].try_recv().is_ok() {}
        while twins[j].try_recv().is_ok() {}
        let t0 = Instant::now();
        let uid = senders[j].append("INBOX", &mail(&format!("Relay latency {i}")))?;
        let appended = clock.unix(Instant::now());
        let floor = idlers[j]
            .recv_timeout(Duration::from_secs(10))
            .context("the raw IDLE client saw no EXISTS")?;
        let twin = twins[j]
            .recv_timeout(Duration::from_secs(10))
            .ok()
            .map(|at| clock.unix(at));
        let (t0, floor) = (clock.unix(t0), clock.unix(floor));
        match wait_notice(receiver, account, uid, Duration::from_secs(10)) {
            Some(at) => {
                l.floor.push((floor - t0) * 1e3);
                l.relay.push((at - t0) * 1e3);
                l.added.push((at - floor) * 1e3);
                l.after_append.push((at - appended) * 1e3);
                if let Some(twin) = twin {
                    l.noise.push((twin - floor) * 1e3);
                }
            }
            None => {
                l.misses += 1;
                ensure!(l.misses <= 5, "{} notices never arrived", l.misses);
            }
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    Ok(l)
}

fn failover_run(
    db: &Db<'_>,
    receiver: &PushReceiver,
    ids: &HashMap<String, String>,
    lease: f64,
) -> Result<Failover> {
    let buckets = db.buckets()?;
    let accounts = ids.len();
    db.psql("UPDATE account SET state = 'starting'")?;
    let mut p1 = Proc::start(db, &format!("f{lease}-1"), Some(lease))?;
    let p2 = Proc::start(db, &format!("f{lease}-2"), Some(lease))?;
    let (o1, o2) = (p1.owner(db)?, p2.owner(db)?);
    let spread_by = Duration::from_secs_f64(lease * 4.0 + 60.0);
    wait(spread_by, "the buckets spread over two processes", || {
        let (h1, h2) = (db.held_by(&o1)?, db.held_by(&o2)?);
        Ok(h1 + h2 == buckets && h1.abs_diff(h2) <= 1 && db.pushing()? == accounts)
    })?;
    let victim = db.psql(&format!(
        "SELECT a.id FROM account a JOIN bucket k ON k.bucket = a.bucket
         WHERE k.owner = '{o1}' ORDER BY a.id LIMIT 1"
    ))?;
    let user = ids
        .iter()
        .find(|(_, id)| **id == victim)
        .map(|(u, _)| u.clone())
        .context("no account in the victim's buckets")?;
    let moved_buckets = db.held_by(&o1)?;
    let moved_accounts = db.count(&format!(
        "SELECT count(*) FROM account a JOIN bucket k ON k.bucket = a.bucket WHERE k.owner = '{o1}'"
    ))?;
    let mut sender =
        RawImap::connect_login(db.lab.dc.host(), db.lab.dc.imap_port(), &user, PASSWORD)?;
    let raw = mail(&format!("After the kill (lease {lease})"));
    std::thread::sleep(Duration::from_secs(1));

    let killed = now_unix();
    p1.kill9();
    let uid = sender.append("INBOX", &raw)?;
    let delivered = now_unix() - killed;
    // The killed process's accounts, so that "watching again" is the new owner's report.
    db.psql(&format!(
        "UPDATE account SET state = 'failover' WHERE bucket IN
           (SELECT bucket FROM bucket WHERE owner = '{o1}')"
    ))?;
    let limit = Duration::from_secs_f64(lease * 3.0 + 30.0);
    let mut all_watching = None;
    let mut first_notice = None;
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && (all_watching.is_none() || first_notice.is_none()) {
        if all_watching.is_none() && db.pushing()? == accounts {
            all_watching = Some(now_unix() - killed);
        }
        if first_notice.is_none() {
            first_notice =
                wait_notice(receiver, &victim, uid, Duration::ZERO).map(|at| at - killed);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    wait(limit, "every bucket re-claimed", || {
        Ok(db.held_by(&o2)? == buckets)
    })?;
    let claims = db.psql(&format!(
        "SELECT extract(epoch FROM min(claimed_at)), extract(epoch FROM max(claimed_at))
         FROM bucket_claim WHERE owner = '{o2}' AND claimed_at > to_timestamp({killed})"
    ))?;
    let (first, last) = claims
        .split_once('\t')
        .context("no claims after the kill")?;
    drop(p2);
    Ok(Failover {
        lease,
        accounts,
        buckets,
        moved_buckets,
        moved_accounts,
        delivered,
        first_notice,
        first_claim: first.trim().parse::<f64>()? - killed,
        all_claimed: last.trim().parse::<f64>()? - killed,
        all_watching,
    })
}

/// `prefill`: the outbox is filled first and released at once, so the senders alone are
/// measured (a trigger in the benchmark's own database holds each new row back an hour; then
/// one statement makes them all due and `NOTIFY outbox` wakes the senders). Otherwise the
/// notices are drained while the watcher is still enqueueing them (the whole pipeline).
fn throughput_run(
    lab: &Lab,
    user: &str,
    which: &'static str,
    prefill: bool,
    plan: &Plan,
) -> Result<Throughput> {
    let db = lab.db(&format!(
        "relaytp{}{}",
        which.replace('-', ""),
        if prefill { "pre" } else { "live" }
    ))?;
    let p = Proc::start(&db, "t", None)?;
    let token = db.add_user("tp")?;
    let ids = add_accounts(&lab.dc, p.port, &token, &[user.to_owned()])?;
    let account = ids[user].clone();
    wait(Duration::from_secs(60), "the account in push", || {
        Ok(db.pushing()? == 1)
    })?;
    let devices = plan.devices;
    let receiver = PushReceiver::start(devices)?;
    let accept = AcceptOnly::start()?;
    for i in 0..devices {
        let mut sub = receiver.subscription(i);
        if which == "accept-only" {
            sub["endpoint"] = json!(format!("http://127.0.0.1:{}/push/{i}", accept.port));
        }
        add_device(p.port, &token, sub)?;
    }
    let count = || match which {
        "python" => receipts(&receiver).len(),
        _ => accept.times().len(),
    };
    wait(Duration::from_secs(30), "the test notices", || {
        Ok(count() >= devices)
    })?;
    std::thread::sleep(Duration::from_secs(1));
    let before = count();
    let messages = plan.notices.div_ceil(devices);
    let notices = messages * devices;
    let mut sender = RawImap::connect_login(lab.dc.host(), lab.dc.imap_port(), user, PASSWORD)?;
    if prefill {
        db.psql(
            "CREATE FUNCTION bench_hold() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN NEW.next_at := now() + interval '1 hour'; RETURN NEW; END $$;
             CREATE TRIGGER bench_hold BEFORE INSERT ON outbox
               FOR EACH ROW EXECUTE FUNCTION bench_hold()",
        )?;
    }
    let mut cpu0 = crate::common::usage(p.pid);
    let pg_pid: u32 = std::fs::read_to_string(lab.pg.dir().join("data/postmaster.pid"))?
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .context("postmaster.pid")?;
    let mut pg0 = crate::common::usage(pg_pid);
    let first_append = now_unix();
    for i in 0..messages {
        sender.append("INBOX", &mail(&format!("Throughput {i}")))?;
    }
    let append_secs = now_unix() - first_append;
    let mut start = first_append;
    if prefill {
        wait(Duration::from_secs(120), "the outbox filled", || {
            Ok(db.count("SELECT count(*) FROM outbox")? >= notices)
        })?;
        std::thread::sleep(Duration::from_secs(1));
        cpu0 = crate::common::usage(p.pid);
        pg0 = crate::common::usage(pg_pid);
        start = now_unix();
        db.psql(
            "DROP TRIGGER bench_hold ON outbox; UPDATE outbox SET next_at = now(); NOTIFY outbox",
        )?;
    }
    wait(
        Duration::from_secs(300),
        &format!("{notices} notices"),
        || Ok(count() >= before + notices),
    )?;
    let relay_cpu = crate::common::cpu_seconds(&cpu0, &crate::common::usage(p.pid));
    let pg_cpu = crate::common::cpu_seconds(&pg0, &crate::common::usage(pg_pid));
    let mut times: Vec<f64> = match which {
        "python" => receipts(&receiver)
            .into_iter()
            .skip(before)
            .map(|(at, _)| at)
            .collect(),
        _ => accept.times().into_iter().skip(before).collect(),
    };
    times.sort_by(f64::total_cmp);
    let (first, last) = (times[0], times[times.len() - 1]);
    let span = db.psql(&format!(
        "SELECT extract(epoch FROM max(recorded_at) - min(recorded_at)) FROM announced
         WHERE account = '{account}'"
    ))?;
    Ok(Throughput {
        receiver: which,
        notices: times.len(),
        devices,
        messages,
        append_secs,
        enqueue_secs: span.parse().unwrap_or(f64::NAN),
        drain_secs: last - first,
        total_secs: last - start,
        prefilled: prefill,
        relay_cpu,
        pg_cpu,
    })
}

// ---------------------------------------------------------------------------------------------
// Reporting.

fn mb(kb: f64) -> f64 {
    kb / 1024.0
}

impl RelayBench {
    pub fn json(&self) -> Value {
        json!({
            "relay_binary": self.relay_binary,
            "seconds": self.secs,
            "plan": {"steps": self.plan.steps, "latency_n": self.plan.latency_n,
                     "leases": self.plan.leases, "notices": self.plan.notices,
                     "devices": self.plan.devices},
            "memory": self.memory.json(|m| json!({
                "buckets": m.buckets, "settle_secs": m.settle_secs,
                "rows": m.rows.iter().map(|r| json!({
                    "accounts": r.accounts, "rss_kb": r.rss_kb, "anon_kb": r.anon_kb,
                    "threads": r.threads, "fds": r.fds, "db_connections": r.db_connections,
                    "ready_secs": r.ready_secs,
                })).collect::<Vec<_>>(),
                "per_account_kb": m.per_account_kb(false),
                "per_account_anon_kb": m.per_account_kb(true),
                "slope_kb": m.slope_kb(),
                "fds_per_account": m.fds_per_account(),
            })),
            "latency": self.latency.json(|l| json!({
                "mailboxes": l.mailboxes, "watched": l.watched, "misses": l.misses,
                "floor_ms": l.floor, "relay_ms": l.relay, "added_ms": l.added,
                "after_append_ms": l.after_append, "noise_ms": l.noise,
                "noise": Summary::of(&l.noise).json(),
                "floor": Summary::of(&l.floor).json(), "relay": Summary::of(&l.relay).json(),
                "added": Summary::of(&l.added).json(),
                "after_append": Summary::of(&l.after_append).json(),
            })),
            "failover": self.failover.iter().map(|f| f.json(|f| json!({
                "lease": f.lease, "accounts": f.accounts, "buckets": f.buckets,
                "moved_buckets": f.moved_buckets, "moved_accounts": f.moved_accounts,
                "delivered": f.delivered, "first_notice": f.first_notice,
                "first_claim": f.first_claim, "all_claimed": f.all_claimed,
                "all_watching": f.all_watching,
            }))).collect::<Vec<_>>(),
            "throughput": self.throughput.iter().map(|t| t.json(|t| json!({
                "receiver": t.receiver, "prefilled": t.prefilled, "notices": t.notices, "devices": t.devices,
                "messages": t.messages, "append_secs": t.append_secs,
                "enqueue_secs": t.enqueue_secs, "drain_secs": t.drain_secs,
                "total_secs": t.total_secs, "per_second": t.rate(), "relay_cpu": t.relay_cpu, "pg_cpu": t.pg_cpu,
            }))).collect::<Vec<_>>(),
        })
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let w = &mut s;
        use std::fmt::Write as _;

        let _ = writeln!(w, "#### Memory of one process\n");
        match &self.memory {
            Outcome::Done(m) => {
                let _ = writeln!(
                    w,
                    "| watched accounts (all in push) | VmRSS (MB) | of which RssAnon (MB) | threads | open fds | its database connections | added → all in push (s) |\n|---|---|---|---|---|---|---|"
                );
                for r in &m.rows {
                    let _ = writeln!(
                        w,
                        "| {} | {} | {} | {} | {} | {} | {} |",
                        r.accounts,
                        f1(mb(r.rss_kb as f64)),
                        f1(mb(r.anon_kb as f64)),
                        r.threads,
                        r.fds,
                        r.db_connections,
                        if r.accounts == 0 {
                            "–".to_owned()
                        } else {
                            f1(r.ready_secs)
                        }
                    );
                }
                let per = m.per_account_kb(false);
                let _ = writeln!(
                    w,
                    "\nIdle base (0 accounts, {} buckets held): **{} MB**. Per account (0 → {}): **{:.1} KB** VmRSS ({:.1} KB RssAnon), i.e. **{:.1} MB per 1,000 accounts**; between the last two steps {:.1} KB. File descriptors per account: {:.2}. Each step sampled {} s after the last account reached push.\n",
                    m.buckets,
                    f1(mb(m.rows[0].rss_kb as f64)),
                    m.rows.last().map(|r| r.accounts).unwrap_or(0),
                    per,
                    m.per_account_kb(true),
                    per * 1000.0 / 1024.0,
                    m.slope_kb(),
                    m.fds_per_account(),
                    m.settle_secs
                );
            }
            other => {
                let _ = writeln!(w, "{}\n", other.reason());
            }
        }

        let _ = writeln!(
            w,
            "#### Latency: delivery → Web Push POST at the receiver\n"
        );
        match &self.latency {
            Outcome::Done(l) => {
                let (fl, re, ad, ap) = (
                    Summary::of(&l.floor),
                    Summary::of(&l.relay),
                    Summary::of(&l.added),
                    Summary::of(&l.after_append),
                );
                let p95 = |v: &[f64]| {
                    let mut v = v.to_vec();
                    v.sort_by(f64::total_cmp);
                    crate::common::percentile(&v, 0.95)
                };
                let _ = writeln!(
                    w,
                    "{} deliveries over {} mailboxes (of {} watched by one process), ~0.7 s apart; {} missed.\n\n| ms | p50 | p95 | max |\n|---|---|---|---|\n| floor: raw IDLE client reads `* N EXISTS` (from the start of the APPEND) | {} | {} | {} |\n| relay: the receiver has the POST's headers (from the start of the APPEND) | {} | {} | {} |\n| **added by the relay: relay − floor, per delivery** | **{}** | **{}** | {} |\n| relay − APPEND completed | {} | {} | {} |\n| noise: a second raw IDLE client − the floor | {} | {} | {} |\n",
                    re.n,
                    l.mailboxes,
                    l.watched,
                    l.misses,
                    f1(fl.p50),
                    f1(p95(&l.floor)),
                    f1(fl.max),
                    f1(re.p50),
                    f1(p95(&l.relay)),
                    f1(re.max),
                    f1(ad.p50),
                    f1(p95(&l.added)),
                    f1(ad.max),
                    f1(ap.p50),
                    f1(p95(&l.after_append)),
                    f1(ap.max),
                    f1(Summary::of(&l.noise).p50),
                    f1(p95(&l.noise)),
                    f1(Summary::of(&l.noise).max),
                );
            }
            other => {
                let _ = writeln!(w, "{}\n", other.reason());
            }
        }

        let _ = writeln!(
            w,
            "#### Failover after kill -9 (two processes)\n\n| lease (s) | accounts / buckets | the killed one held | APPEND done after the kill (s) | first notice of it at the receiver (s) | first bucket re-claimed (s) | all re-claimed (s) | all moved accounts in push again (s) |\n|---|---|---|---|---|---|---|---|"
        );
        for f in &self.failover {
            match f {
                Outcome::Done(f) => {
                    let _ = writeln!(
                        w,
                        "| {} | {} / {} | {} accounts, {} buckets | {:.2} | **{}** | {:.2} | **{:.2}** | {} |",
                        f.lease,
                        f.accounts,
                        f.buckets,
                        f.moved_accounts,
                        f.moved_buckets,
                        f.delivered,
                        f.first_notice
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or_else(|| "never".into()),
                        f.first_claim,
                        f.all_claimed,
                        f.all_watching
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or_else(|| "not within the limit".into()),
                    );
                }
                other => {
                    let _ = writeln!(w, "| {} | | | | | | | |", other.reason());
                }
            }
        }
        let _ = writeln!(
            w,
            "\n#### Outbox throughput (one process, `senders` = 16, the default)\n\n| outbox | receiver | notices (messages × devices) | APPENDs took (s) | enqueued over (s) | first → last notice received (s) | **notices/s** | release (live: first APPEND) → last notice (s) | CPU (s) in that time: relay / PostgreSQL |\n|---|---|---|---|---|---|---|---|---|"
        );
        for t in &self.throughput {
            match t {
                Outcome::Done(t) => {
                    let _ = writeln!(
                        w,
                        "| {} | {} | {} ({} × {}) | {:.2} | {:.2} | {:.2} | **{:.0}** | {:.2} | {:.2} / {:.2} |",
                        if t.prefilled {
                            "filled first, then released at once (the senders alone)"
                        } else {
                            "live: drained while the watcher enqueues"
                        },
                        t.receiver,
                        t.notices,
                        t.messages,
                        t.devices,
                        t.append_secs,
                        t.enqueue_secs,
                        t.drain_secs,
                        t.rate(),
                        t.total_secs,
                        t.relay_cpu,
                        t.pg_cpu,
                    );
                }
                other => {
                    let _ = writeln!(w, "| {} | | | | | | | | |", other.reason());
                }
            }
        }
        s
    }
}
