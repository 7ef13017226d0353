//! Driving the real `pushmail-cli` binary from tests: a private config and state per test,
//! `watch --json` read line by line on a thread, and helpers that wait for specific events.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushmail_tests::{Dovecot, MAIL_GID, MAIL_UID, bin};
use serde_json::Value;

/// A unique, keyring-safe account id per test (the keyring is shared by parallel tests).
pub fn unique_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Timings of every POP3 test account: a check every second (each one a login, so the login
/// cap is raised to match) and a short backoff, so an outage costs seconds, not minutes.
pub const POP3_FAST: &str = "poll_interval_secs = 1\nbackoff_min_secs = 1\nbackoff_max_secs = 2\n\
                             max_logins_per_minute = 60\n";

/// One test's private Pushmail: config file, state database, and a place for logs.
pub struct Pushmail {
    pub dir: tempfile::TempDir,
}

/// How the account reaches Dovecot.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// Implicit TLS on the imaps port, trusting the test CA.
    Tls,
    /// STARTTLS on the plain port, trusting the test CA.
    Starttls,
    /// Plaintext on the plain port (loopback only).
    Plain,
}

impl Pushmail {
    pub fn new() -> Pushmail {
        Pushmail {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config/pushmail/config.toml")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state/pushmail/state.sqlite3")
    }

    /// A file holding the user's password, for `password_command = ["cat", FILE]`.
    pub fn password_file(&self, password: &str) -> PathBuf {
        let p = self.dir.path().join(format!("pw-{}", unique_id("f")));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
            .expect("pw file");
        writeln!(f, "{password}").expect("write pw");
        p
    }

    /// Writes the config with the given `[[accounts]]` blocks.
    pub fn write_config(&self, accounts: &[String]) {
        let path = self.config();
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, accounts.join("\n")).expect("write config");
    }

    /// An `[[accounts]]` block for `user` on `dc`, with fast timings and `extra` lines appended.
    pub fn account_toml(
        &self,
        dc: &Dovecot,
        id: &str,
        user: &str,
        via: Via,
        password: &str,
        extra: &str,
    ) -> String {
        let (port, security) = match via {
            Via::Tls => (dc.imaps_port(), "tls"),
            Via::Starttls => (dc.imap_port(), "starttls"),
            Via::Plain => (dc.imap_port(), "plain"),
        };
        let pw = self.password_file(password);
        format!(
            "[[accounts]]\nid = \"{id}\"\nhost = \"{host}\"\nport = {port}\nsecurity = \"{security}\"\nusername = \"{user}\"\n\
             password_command = [\"cat\", \"{pw}\"]\nca_file = \"{ca}\"\nbackoff_min_secs = 1\nbackoff_max_secs = 2\n{extra}\n",
            host = dc.host(),
            pw = pw.display(),
            ca = dc.ca_file().display(),
        )
    }

    /// An `[[accounts]]` block for a POP3 account of `user` on `dc` (`protocol = "pop3"`):
    /// implicit TLS on the pop3s port, STLS or plain on the pop3 port, trusting the test CA,
    /// with [`POP3_FAST`] timings and `extra` lines appended.
    pub fn pop3_account_toml(
        &self,
        dc: &Dovecot,
        id: &str,
        user: &str,
        via: Via,
        password: &str,
        extra: &str,
    ) -> String {
        let (port, security) = match via {
            Via::Tls => (dc.pop3s_port(), "tls"),
            Via::Starttls => (dc.pop3_port(), "starttls"),
            Via::Plain => (dc.pop3_port(), "plain"),
        };
        let pw = self.password_file(password);
        format!(
            "[[accounts]]\nid = \"{id}\"\nprotocol = \"pop3\"\nhost = \"{host}\"\nport = {port}\n\
             security = \"{security}\"\nusername = \"{user}\"\n\
             password_command = [\"cat\", \"{pw}\"]\nca_file = \"{ca}\"\n{POP3_FAST}{extra}\n",
            host = dc.host(),
            pw = pw.display(),
            ca = dc.ca_file().display(),
        )
    }

    /// Runs `pushmail-cli --config … ARGS` to completion, feeding `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(bin("pushmail-cli"));
        cmd.arg("--config").arg(self.config()).args(args);
        cmd.env("XDG_STATE_HOME", self.dir.path().join("state"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pushmail-cli");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin write");
        let out = child.wait_with_output().expect("wait");
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Starts `pushmail-cli watch --json` with this config and state.
    pub fn watch(&self, env: &[(&str, &str)]) -> Watch {
        self.watch_args(&[], env)
    }

    pub fn watch_args(&self, extra: &[&str], env: &[(&str, &str)]) -> Watch {
        let stderr_path = self
            .dir
            .path()
            .join(format!("watch-{}.stderr", unique_id("w")));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = Command::new(bin("pushmail-cli"));
        cmd.arg("--config")
            .arg(self.config())
            .arg("watch")
            .arg("--json")
            .args(extra);
        cmd.arg("--state").arg(self.state());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        let raw = Arc::new(Mutex::new(String::new()));
        let raw2 = raw.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut r) = raw2.lock() {
                    r.push_str(&line);
                    r.push('\n');
                }
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send((Instant::now(), value)).is_err() {
                    break;
                }
            }
        });
        Watch {
            child,
            rx,
            seen: Vec::new(),
            stderr_path,
            raw,
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A running `watch --json`. Every event received is kept in `seen` for later assertions.
pub struct Watch {
    child: Child,
    rx: Receiver<(Instant, Value)>,
    pub seen: Vec<(Instant, Value)>,
    stderr_path: PathBuf,
    raw: Arc<Mutex<String>>,
}

impl Watch {
    /// Waits for the next event matching `pred` (events before it are kept in `seen`).
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> (Instant, Value) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((at, v)) => {
                    self.seen.push((at, v.clone()));
                    if pred(&v) {
                        return (at, v);
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "timed out after {timeout:?} waiting for {what}; events so far: {:#?}\nstderr: {}",
                    self.seen.iter().map(|(_, v)| v).collect::<Vec<_>>(),
                    self.stderr()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "watch exited while waiting for {what}; stderr: {}",
                        self.stderr()
                    )
                }
            }
        }
    }

    /// Collects whatever arrives within `d`.
    pub fn collect_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Ok((at, v)) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push((at, v));
        }
    }

    pub fn wait_state(&mut self, state: &str, timeout: Duration) -> Value {
        self.wait_for(timeout, &format!("state {state}"), |v| {
            v["event"] == "state" && v["state"] == state
        })
        .1
    }

    pub fn wait_new_mail(&mut self, subject: &str, timeout: Duration) -> (Instant, Value) {
        self.wait_for(timeout, &format!("new_mail {subject:?}"), |v| {
            v["event"] == "new_mail" && v["subject"] == subject
        })
    }

    /// All `new_mail` events seen so far.
    pub fn new_mails(&self) -> Vec<&Value> {
        self.seen
            .iter()
            .map(|(_, v)| v)
            .filter(|v| v["event"] == "new_mail")
            .collect()
    }

    pub fn count_new_mail(&self, subject: &str) -> usize {
        self.new_mails()
            .iter()
            .filter(|v| v["subject"] == subject)
            .count()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn stdout_raw(&self) -> String {
        self.raw.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits; returns whether it exited cleanly within 10 s.
    pub fn stop(&mut self) -> bool {
        signal(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.collect_for(Duration::from_millis(100));
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.collect_for(Duration::from_millis(100));
    }

    pub fn signal(&self, sig: i32) {
        signal(self.child.id(), sig);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on a child pid we own; no memory is involved.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Puts a message straight into `user`'s INBOX Maildir (`new/`), as an MTA would while the
/// IMAP server is down. Dovecot picks it up when it next looks.
pub fn deliver_offline(dc: &Dovecot, user: &str, raw: &[u8]) {
    use std::os::unix::fs::chown;
    let maildir = dc.dir().join("mail").join(user).join("Maildir");
    let name = format!(
        "{}.P{}Q{}.offline",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
        std::process::id(),
        unique_id("m")
    );
    let tmp = maildir.join("tmp").join(&name);
    std::fs::write(&tmp, raw).expect("write offline mail");
    chown(&tmp, Some(MAIL_UID), Some(MAIL_GID)).expect("chown");
    std::fs::rename(&tmp, maildir.join("new").join(&name)).expect("rename into new/");
}

/// Path helper for assertions on files a test created.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A loopback TCP proxy in front of a server that records what the client sent and counts the
/// bytes both ways (for "never sends FETCH 1:*" and wire-cost assertions on plaintext links).
pub struct RecordingProxy {
    pub port: u16,
    pub client_bytes: Arc<Mutex<Vec<u8>>>,
    pub server_bytes: Arc<std::sync::atomic::AtomicU64>,
}

impl RecordingProxy {
    pub fn start(target_port: u16) -> RecordingProxy {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let client_bytes = Arc::new(Mutex::new(Vec::new()));
        let server_bytes = Arc::new(AtomicU64::new(0));
        let (cb, sb) = (client_bytes.clone(), server_bytes.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { break };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let (mut c_read, mut s_write) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let (mut s_read, mut c_write) = (server, client);
                let cb = cb.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match std::io::Read::read(&mut c_read, &mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if let Ok(mut v) = cb.lock() {
                                    v.extend_from_slice(&buf[..n]);
                                }
                                if s_write.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                let sb = sb.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    loop {
                        match std::io::Read::read(&mut s_read, &mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                sb.fetch_add(n as u64, Ordering::Relaxed);
                                if c_write.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        RecordingProxy {
            port,
            client_bytes,
            server_bytes,
        }
    }

    pub fn client_text(&self) -> String {
        self.client_bytes
            .lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }
}

/// Every regular file under `dir`, recursively, without following symlinks: where tests look
/// for a leaked secret. Sockets and FIFOs (a desktop's bus, a keyring's control socket) are
/// skipped: reading a FIFO would block.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            out.extend(files_under(&e.path()));
        } else if kind.is_file() {
            out.push(e.path());
        }
    }
    out
}

/// The password the OS keyring (the private session's gnome-keyring) holds for account `id`,
/// looked up with `secret-tool` as a user would.
pub fn keyring_lookup(id: &str) -> Option<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "pushmail", "username", id])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every file under `dirs` whose bytes contain `needle` (a token that must be nowhere).
pub fn files_containing(dirs: &[&Path], needle: &str) -> Vec<PathBuf> {
    dirs.iter()
        .flat_map(|d| files_under(d))
        .filter(|p| {
            std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// `pushmail-cli account login ID` running in the background, its output in files; killed and
/// reaped when dropped, so a failing test leaves nothing behind.
pub struct Login {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Login {
    /// Starts `account login id` for the config `config`, with `env`, its output in `dir` as
    /// `login-<n>.out` / `.err`.
    pub fn spawn(config: &Path, id: &str, env: &[(String, String)], dir: &Path, n: usize) -> Login {
        let out = dir.join(format!("login-{n}.out"));
        let err = dir.join(format!("login-{n}.err"));
        let child = Command::new(bin("pushmail-cli"))
            .arg("--config")
            .arg(config)
            .args(["account", "login", id, "--timeout", "60"])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("login stdout"))
            .stderr(std::fs::File::create(&err).expect("login stderr"))
            .spawn()
            .expect("spawn account login");
        Login { child, out, err }
    }

    /// Its exit code, waiting at most `timeout` (then it is killed and the test fails).
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let (out, err) = self.output();
                panic!("account login did not end within {timeout:?}:\n{out}\n{err}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// What it printed so far: (stdout, stderr).
    pub fn output(&self) -> (String, String) {
        (
            std::fs::read_to_string(&self.out).unwrap_or_default(),
            std::fs::read_to_string(&self.err).unwrap_or_default(),
        )
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `env` as the `(&str, &str)` pairs `Pushmail::watch_args` and `Pushmail::cli` take.
pub fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}
