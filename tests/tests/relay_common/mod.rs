//! What the relay tests share: a database and config for a set of relay processes, the
//! processes themselves, a small HTTP client for the API, and the independent Web Push
//! receiver (tests/relay/receiver.py).

#![allow(dead_code)] // each test uses its own part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pushmail_tests::{Dovecot, Postgres, bin, free_port};

/// A database and a config file that relay processes share.
pub struct RelaySetup<'a> {
    pub pg: &'a Postgres,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub db: String,
    pub buckets: u32,
}

impl<'a> RelaySetup<'a> {
    /// A fresh database, a master key and a config: `lease` seconds, 64 buckets, loopback
    /// allowed (the lab's Dovecot and receivers), Dovecot's CA trusted.
    pub fn new(pg: &'a Postgres, dc: &Dovecot, lease: f64) -> RelaySetup<'a> {
        let db = format!("relay{}", free_port());
        let conninfo = pg.create_database(&db).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("master.key");
        let out = Command::new(bin("pushmail-relay"))
            .arg("gen-key")
            .arg(&key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let buckets = 64;
        let config = dir.path().join("relay.toml");
        std::fs::write(
            &config,
            format!(
                r#"database = "{conninfo}"
master_key_file = "{key}"
vapid_subject = "mailto:postmaster@example.org"
buckets = {buckets}
lease = {lease}
senders = 8
retry_first = 0.3
rate_per_minute = 100000
max_accounts_per_user = 1000
http_timeout = 5
allow_private = ["127.0.0.1/32"]
ca_file = "{ca}"

[watch]
backoff_min = 0.2
backoff_max = 2
connect_timeout = 5
"#,
                key = key.display(),
                ca = dc.ca_file().display(),
            ),
        )
        .unwrap();
        RelaySetup {
            pg,
            dir,
            config,
            db,
            buckets,
        }
    }

    /// `pushmail-relay user add NAME`: the token it prints.
    pub fn add_user(&self, name: &str) -> String {
        let out = Command::new(bin("pushmail-relay"))
            .args(["user", "add", name, "--config"])
            .arg(&self.config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Makes every relay started from now on serve the web app in `dir` (`web_dir`).
    pub fn serve_web(&self, dir: &std::path::Path) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        // At the top: the file ends in the `[watch]` table.
        let line = format!(
            "web_dir = {}\n",
            serde_json::Value::from(dir.display().to_string())
        );
        std::fs::write(&self.config, format!("{line}{text}")).unwrap();
    }

    /// Turns sign-in on for relays started from now on: `public_url`, provider `lab` ("Lab
    /// ID") at `oidc` with the relay's web client (its secret in a file of its own), and a CA
    /// bundle trusting both `dc`'s and `oidc`'s certificates.
    pub fn enable_signin(&self, oidc: &pushmail_tests::OidcServer, dc: &Dovecot, public_url: &str) {
        let bundle = self.dir.path().join("ca-bundle.pem");
        let pems: Vec<String> = [dc.ca_file(), oidc.ca_file()]
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        std::fs::write(&bundle, pems.join("\n")).unwrap();
        let secret_file = self.dir.path().join("lab.secret");
        std::fs::write(&secret_file, format!("{}\n", oidc.relay_client_secret())).unwrap();
        let text = std::fs::read_to_string(&self.config).unwrap();
        let text = text.replace(
            &format!("ca_file = \"{}\"", dc.ca_file().display()),
            &format!("ca_file = \"{}\"", bundle.display()),
        );
        std::fs::write(
            &self.config,
            format!(
                "public_url = \"{public_url}\"\nsignin_timeout = 120\n{text}
[signin.lab]
name = \"Lab ID\"
client_id = \"{client}\"
client_secret_file = \"{secret}\"
authorization_endpoint = \"{auth}\"
token_endpoint = \"{tok}\"
issuer = \"{iss}\"
scopes = [\"openid\", \"offline_access\", \"email\", \"imap\"]
",
                client = pushmail_tests::oidc::RELAY_CLIENT_ID,
                secret = secret_file.display(),
                auth = oidc.authorization_endpoint(),
                tok = oidc.token_endpoint(),
                iss = oidc.issuer(),
            ),
        )
        .unwrap();
    }

    /// Runs SQL on the relay's database.
    pub fn psql(&self, sql: &str) -> String {
        self.pg.psql(&self.db, sql).unwrap()
    }
}

/// One `pushmail-relay serve` process.
pub struct Relay {
    child: Option<Child>,
    pub port: u16,
    pub name: String,
    log: PathBuf,
    db: String,
    pg_port: u16,
}

impl Relay {
    /// Starts a process on a free port; returns once its API answers.
    pub fn start(setup: &RelaySetup<'_>, name: &str) -> Relay {
        Relay::start_on(setup, name, free_port())
    }

    /// [`Relay::start`] on a port chosen before (one a provider must know in advance).
    pub fn start_on(setup: &RelaySetup<'_>, name: &str, port: u16) -> Relay {
        let config = setup.dir.path().join(format!("relay-{name}.toml"));
        let text = std::fs::read_to_string(&setup.config).unwrap();
        std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n{text}")).unwrap();
        let log = setup.dir.path().join(format!("relay-{name}.log"));
        let child = Command::new(bin("pushmail-relay"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info,pushmail_relay=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let relay = Relay {
            child: Some(child),
            port,
            name: name.to_owned(),
            log,
            db: setup.db.clone(),
            pg_port: setup.pg.port(),
        };
        let up = pushmail_tests::wait_until(Duration::from_secs(20), || {
            Ok(TcpStream::connect(("127.0.0.1", port)).is_ok())
        })
        .unwrap();
        assert!(up, "relay {name} did not start:\n{}", relay.log());
        relay
    }

    /// Its name in the database (`bucket.owner`): host:pid:random.
    pub fn owner(&self) -> String {
        let pid = self.child.as_ref().map(Child::id).unwrap_or(0);
        let out = Command::new("/usr/bin/psql")
            .args(["-h", "127.0.0.1", "-p", &self.pg_port.to_string()])
            .args(["-U", "postgres", "-d", &self.db, "-X", "-q", "-A", "-t", "-c"])
            .arg(format!(
                "SELECT owner FROM relay_process WHERE owner LIKE '%:{pid}:%' UNION SELECT DISTINCT owner FROM bucket_claim WHERE owner LIKE '%:{pid}:%' LIMIT 1"
            ))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
        }
    }

    /// `kill -9`: no clean-up, its leases simply run out.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `SIGSTOP`: frozen mid-work, as a VM pause or a long GC would.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// `SIGCONT`.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// `SIGTERM` and wait (a clean stop gives its buckets back).
    pub fn stop(&mut self) -> bool {
        self.signal("-CONT");
        self.signal("-TERM");
        if let Some(mut c) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = c.try_wait() {
                    return status.success();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        false
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A plain HTTP/1.1 request to the relay on 127.0.0.1 (JSON in, JSON out): status and body
/// (`null` when the body is not JSON).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let (status, _, text) = http_raw(port, method, path, token, body.map(|b| b.to_string()));
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Like [`http`], with the response headers (lower-case names) and the body as text.
pub fn http_raw(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let body = body.unwrap_or_default();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[allow(unused_imports)] // not every test that shares this module has a receiver
pub use pushmail_tests::PushReceiver as Receiver;

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The built web app (ui/dist-relay); a clear failure when it was not built.
pub fn web_dist() -> PathBuf {
    let dist = root().join("ui/dist-relay");
    assert!(
        dist.join("relay.html").is_file() && dist.join("relay-sw.js").is_file(),
        "{} is missing or incomplete: build the relay's web app first (`ui/test.sh`, which scripts/test runs, \
         or `cd ui && npx vite build --config vite.relay.config.ts`)",
        dist.display()
    );
    dist
}

/// A browser driven by a node script (tests/relay/web_flow.mjs, tests/relay/firefox/flow.mjs):
/// one JSON command per line in, one JSON answer per line out (`{"ok": true, …}` or
/// `{"ok": false, "error": …}`), so a test can act on the database and the mail server between
/// the steps. Node runs in a process group of its own; dropping this closes its stdin (the
/// browser closes, node ends) and kills that group and any other named with
/// [`NodeFlow::also_kill`] if they linger.
pub struct NodeFlow {
    child: Child,
    stdin: Option<ChildStdin>,
    answers: mpsc::Receiver<String>,
    groups: Vec<u32>,
}

impl NodeFlow {
    /// Starts `cmd` (node and its script, with the test's environment).
    pub fn start(mut cmd: Command) -> NodeFlow {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("cannot start node");
        let stdout = child.stdout.take().unwrap();
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        NodeFlow {
            stdin: child.stdin.take(),
            child,
            answers,
            groups: Vec::new(),
        }
    }

    /// Another process group to kill on drop (a browser its driver started detached).
    pub fn also_kill(&mut self, group: u32) {
        if group != 0 {
            self.groups.push(group);
        }
    }

    /// Sends one command and waits up to `timeout` for its answer: the answer, or why there
    /// was none.
    pub fn send(
        &mut self,
        cmd: &serde_json::Value,
        timeout: Duration,
    ) -> Result<serde_json::Value, String> {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{cmd}").unwrap();
        stdin.flush().unwrap();
        let line = self
            .answers
            .recv_timeout(timeout)
            .map_err(|e| format!("no answer: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("answered {line:?}: {e}"))
    }
}

impl Drop for NodeFlow {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for group in std::iter::once(self.child.id()).chain(self.groups.iter().copied()) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.wait();
    }
}
