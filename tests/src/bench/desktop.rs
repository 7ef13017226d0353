//! The desktop side: notification calls seen on the session bus, the `pushmail` tray and Mailnag
//! as processes. Everything here needs the private desktop of `scripts/bench.d/desktop-session`
//! (a D-Bus session bus of our own, dunst, an unlocked keyring); [`desktop_available`] says
//! whether this process runs inside it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::common::{Scratch, sibling_binary, terminate};

/// True inside `scripts/bench.d/desktop-session`: a private session bus with dunst and a keyring.
/// Outside it the desktop benchmarks are skipped rather than run against the user's own bus.
pub fn desktop_available() -> bool {
    std::env::var_os("PUSHMAIL_BENCH_DESKTOP").is_some()
        && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

/// Directory of the helper scripts (`scripts/bench.d`).
pub fn scripts_dir() -> PathBuf {
    std::env::var_os("PUSHMAIL_BENCH_SCRIPTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench.d"))
}

/// One `org.freedesktop.Notifications.Notify` call as `dbus-monitor` printed it.
#[derive(Clone, Debug)]
pub struct NotifyCall {
    /// `time=` of the message header: Unix seconds when the monitor received it.
    pub at: f64,
    /// Every argument line, for matching a subject anywhere in summary or body.
    pub text: String,
    /// The `replaces_id` argument: 0 for a new popup, the id of the one it updates otherwise.
    pub replaces_id: u32,
}

/// `dbus-monitor` watching every Notify call on the session bus.
pub struct NotifyMonitor {
    child: Child,
    rx: Receiver<NotifyCall>,
}

impl NotifyMonitor {
    /// Starts the monitor and proves it sees calls with a test notification of its own.
    pub fn start() -> Result<NotifyMonitor> {
        // Line-buffered: into a pipe, stdio would otherwise hold calls back in 4 KB blocks.
        let mut child = Command::new("stdbuf")
            .args([
                "-oL",
                "dbus-monitor",
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("Cannot start dbus-monitor (package dbus)")?;
        let out = child.stdout.take().context("No stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut current: Option<NotifyCall> = None;
            let mut args_seen = 0;
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                // A header line starts a message: "method call time=1700000000.123456 sender=…
                // member=Notify". Argument lines are indented.
                if !line.starts_with(' ') && !line.is_empty() {
                    if let Some(call) = current.take()
                        && tx.send(call).is_err()
                    {
                        return;
                    }
                    if line.starts_with("method call") && line.contains("member=Notify") {
                        let at = line
                            .split_whitespace()
                            .find_map(|w| w.strip_prefix("time="))
                            .and_then(|t| t.parse().ok())
                            .unwrap_or(f64::NAN);
                        current = Some(NotifyCall {
                            at,
                            text: String::new(),
                            replaces_id: 0,
                        });
                        args_seen = 0;
                    }
                    continue;
                }
                if let Some(call) = current.as_mut() {
                    let t = line.trim();
                    // Arguments (indented by exactly three spaces; nested values by more):
                    // app_name, replaces_id, icon, summary, body, actions, hints, timeout.
                    let top_level = line.starts_with("   ") && !line.starts_with("    ");
                    if top_level {
                        args_seen += 1;
                        if args_seen == 2
                            && let Some(n) = t.strip_prefix("uint32 ")
                        {
                            call.replaces_id = n.trim().parse().unwrap_or(0);
                        }
                    }
                    call.text.push_str(t);
                    call.text.push('\n');
                    // The timeout is the last argument: the call is complete, hand it over now
                    // rather than when the next message arrives.
                    if top_level
                        && args_seen == 8
                        && let Some(call) = current.take()
                        && tx.send(call).is_err()
                    {
                        return;
                    }
                }
            }
            if let Some(call) = current.take() {
                let _ = tx.send(call);
            }
        });
        let mut monitor = NotifyMonitor { child, rx };
        // The monitor registers asynchronously: send test popups until one shows up.
        for attempt in 0..20 {
            let marker = format!("pushmail-bench monitor check {attempt}");
            let _ = Command::new("gdbus")
                .args([
                    "call",
                    "--session",
                    "--dest",
                    "org.freedesktop.Notifications",
                    "--object-path",
                    "/org/freedesktop/Notifications",
                    "--method",
                    "org.freedesktop.Notifications.Notify",
                    "pushmail-bench",
                    "0",
                    "",
                    &marker,
                    "",
                    "[]",
                    "{}",
                    "1",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if monitor
                .wait_text(&marker, Duration::from_millis(300))
                .is_some()
            {
                return Ok(monitor);
            }
        }
        bail!("dbus-monitor saw none of its test notifications (is dunst running?)")
    }

    /// The next call whose arguments contain `text`, within `timeout`; others are discarded.
    pub fn wait_text(&mut self, text: &str, timeout: Duration) -> Option<NotifyCall> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(call) if call.text.contains(text) => return Some(call),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Every call that arrives within `window`.
    pub fn collect(&mut self, window: Duration) -> Vec<NotifyCall> {
        let deadline = Instant::now() + window;
        let mut calls = Vec::new();
        while let Ok(c) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            calls.push(c);
        }
        calls
    }

    /// Calls received so far, without waiting.
    pub fn drain(&mut self) -> Vec<NotifyCall> {
        self.rx.try_iter().collect()
    }
}

impl Drop for NotifyMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/release/pushmail`, if the tray has been built.
pub fn tray_binary() -> Option<PathBuf> {
    sibling_binary("pushmail")
}

/// Private XDG directories for one desktop client, so it reads only our config and writes only
/// our state.
fn xdg_env(cmd: &mut Command, scratch: &Scratch) {
    for (var, dir) in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
    ] {
        let p = scratch.path(dir);
        let _ = std::fs::create_dir_all(&p);
        cmd.env(var, p);
    }
}

/// The `pushmail` tray, started with its config at `XDG_CONFIG_HOME/pushmail/config.toml`.
pub struct Tray {
    child: Child,
    log: PathBuf,
    pub spawned: Instant,
}

const TRAY_NAME: &str = "io.github.pushmail.Pushmail";
const TRAY_PATH: &str = "/io/github/pushmail/Pushmail";
const TRAY_IFACE: &str = "io.github.pushmail.Pushmail1";

impl Tray {
    pub fn spawn(scratch: &Scratch) -> Result<Tray> {
        let bin = tray_binary().context("target/release/pushmail is not built")?;
        // The tray is a single instance per bus: a second one asks the first to open Settings
        // and exits, and every D-Bus answer would then come from the wrong tray.
        let owned = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{TRAY_NAME}"),
            ])
            .output()
            .context("Cannot run dbus-send")?;
        if String::from_utf8_lossy(&owned.stdout).contains("boolean true") {
            bail!("another pushmail tray already runs on this bus");
        }
        let log = scratch.path("tray.log");
        let out = std::fs::File::create(&log).context("Cannot create the tray log")?;
        let err = out.try_clone().context("Cannot share the tray log")?;
        let mut cmd = Command::new(bin);
        xdg_env(&mut cmd, scratch);
        let spawned = Instant::now();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("Cannot start the tray")?;
        Ok(Tray {
            child,
            log,
            spawned,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn call(&self, method: &str) -> Result<String> {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--reply-timeout=2000",
                &format!("--dest={TRAY_NAME}"),
                TRAY_PATH,
                &format!("{TRAY_IFACE}.{method}"),
            ])
            .stdin(Stdio::null())
            .output()
            .context("Cannot run dbus-send")?;
        if !out.status.success() {
            bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// Polls `GetAccounts` (docs/dbus.md) every 50 ms until `n` accounts are in `push`; returns
    /// when that was first seen (so start-up figures carry up to ~50 ms of polling).
    pub fn wait_push(&mut self, n: usize, timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("the tray exited ({status}); log:\n{}", self.log_tail());
            }
            match self.call("GetAccounts") {
                Ok(reply) => {
                    let pushing = reply
                        .lines()
                        .filter(|l| l.trim() == "string \"push\"")
                        .count();
                    if pushing >= n {
                        return Ok(Instant::now());
                    }
                    last = format!("{pushing} of {n} in push");
                }
                Err(e) => last = format!("{e:#}"),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "the tray did not report {n} accounts in push within {timeout:?} (last: {last}); log:\n{}",
            self.log_tail()
        )
    }

    /// `GetUnreadCount`, if the tray answers.
    pub fn unread(&self) -> Option<u64> {
        let reply = self.call("GetUnreadCount").ok()?;
        reply
            .lines()
            .find_map(|l| l.trim().strip_prefix("uint32 "))
            .and_then(|n| n.trim().parse().ok())
    }

    /// `Quit` over D-Bus, then SIGTERM/SIGKILL if it is still running.
    pub fn stop(mut self) {
        let _ = self.call("Quit");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        terminate(&mut self.child);
    }
}

impl Drop for Tray {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's Mailnag daemon run by `scripts/bench.d/mailnag-headless.py`.
pub struct Mailnag {
    child: Child,
    rx: Receiver<Instant>,
    log: PathBuf,
    pub spawned: Instant,
}

impl Mailnag {
    /// `ssl`: implicit TLS (`port` is the imaps port) or plain (`port` is the plain port, e.g.
    /// a counting proxy; Mailnag uses STARTTLS only if the server offers it).
    pub fn spawn(
        scratch: &Scratch,
        host: &str,
        port: u16,
        user: &str,
        ssl: bool,
        idle_timeout_min: u32,
    ) -> Result<Mailnag> {
        Mailnag::spawn_with(
            scratch,
            host,
            port,
            user,
            ssl,
            &["--idle-timeout-min", &idle_timeout_min.to_string()],
        )
    }

    /// A POP3 account, on plain POP3 at `port` (STLS only if the server offers it), without the
    /// notification plugin. Mailnag checks it once at start and then every 10 minutes (its
    /// default); [`check_now`](Self::check_now) asks for a check in between. [`wait_idle`]
    /// (Self::wait_idle) returns at the end of each check.
    pub fn spawn_pop3(scratch: &Scratch, host: &str, port: u16, user: &str) -> Result<Mailnag> {
        Mailnag::spawn_with(
            scratch,
            host,
            port,
            user,
            false,
            &["--pop3", "--no-plugins"],
        )
    }

    fn spawn_with(
        scratch: &Scratch,
        host: &str,
        port: u16,
        user: &str,
        ssl: bool,
        extra: &[&str],
    ) -> Result<Mailnag> {
        let script = scripts_dir().join("mailnag-headless.py");
        if !script.is_file() {
            bail!("{} is missing", script.display());
        }
        let log = scratch.path("mailnag.log");
        let err = std::fs::File::create(&log).context("Cannot create the Mailnag log")?;
        // Debian's interpreter: Mailnag and its gi/dbus bindings are installed for it, not for
        // a pyenv python3 that may come first on PATH.
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(&script)
            .args([
                "--server",
                host,
                "--port",
                &port.to_string(),
                "--user",
                user,
            ])
            .arg("--password-file")
            .arg(scratch.password_file()?)
            .args(["--ssl", if ssl { "1" } else { "0" }])
            .args(extra);
        xdg_env(&mut cmd, scratch);
        let spawned = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .context("Cannot start Mailnag (/usr/bin/python3)")?;
        let out = child.stdout.take().context("No stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                // IMAP: back in IDLE; POP3: a check is over. Either way Mailnag is waiting.
                let waiting = line.starts_with("BENCH idle") || line.starts_with("BENCH checked");
                if waiting && tx.send(Instant::now()).is_err() {
                    break;
                }
            }
        });
        Ok(Mailnag {
            child,
            rx,
            log,
            spawned,
        })
    }

    /// Asks Mailnag for a check of its polled (POP3) accounts now, through its own D-Bus
    /// method `CheckForMails`, which returns when the check is over.
    pub fn check_now(&self) -> Result<()> {
        let out = Command::new("gdbus")
            .args([
                "call",
                "--session",
                "--timeout",
                "120",
                "--dest",
                "mailnag.MailnagService",
                "--object-path",
                "/mailnag/MailnagService",
                "--method",
                "mailnag.MailnagService.CheckForMails",
            ])
            .output()
            .context("Cannot run gdbus")?;
        if !out.status.success() {
            bail!(
                "CheckForMails failed: {}; log:\n{}",
                String::from_utf8_lossy(&out.stderr).trim(),
                self.log_tail()
            );
        }
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits until Mailnag (re-)enters IDLE, or for a POP3 account finishes a check; returns
    /// when it did.
    pub fn wait_idle(&mut self, timeout: Duration) -> Result<Instant> {
        match self.rx.recv_timeout(timeout) {
            Ok(at) => Ok(at),
            Err(_) => {
                if let Ok(Some(status)) = self.child.try_wait() {
                    bail!("Mailnag exited ({status}); log:\n{}", self.log_tail());
                }
                bail!(
                    "Mailnag did not enter IDLE within {timeout:?}; log:\n{}",
                    self.log_tail()
                )
            }
        }
    }

    /// Forgets IDLE entries reported so far.
    pub fn clear_idle(&mut self) {
        while self.rx.try_recv().is_ok() {}
    }

    pub fn stop(mut self) {
        terminate(&mut self.child);
    }
}

impl Drop for Mailnag {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
