//! Pieces every benchmark needs: a clock that lines up with D-Bus timestamps, private
//! configurations, a running `pushmail-cli watch --json`, process accounting from `/proc`, and
//! percentiles.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use pushmail_tests::Dovecot;
use serde_json::Value;

/// Password of every benchmark user.
pub const PASSWORD: &str = "benchpw";

/// One timeline for everything a benchmark compares. Our own events are `Instant`s; `dbus-monitor`
/// stamps messages with wall-clock time. Both are turned into Unix seconds through one anchor
/// taken at start, so a D-Bus timestamp and an `Instant` can be subtracted. (No NTP runs here, so
/// the wall clock is not stepped during a run.)
#[derive(Clone, Copy)]
pub struct Clock {
    anchor: Instant,
    anchor_unix: f64,
}

impl Clock {
    pub fn new() -> Clock {
        let anchor_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        Clock {
            anchor: Instant::now(),
            anchor_unix,
        }
    }

    /// `at` in Unix seconds.
    pub fn unix(&self, at: Instant) -> f64 {
        if at >= self.anchor {
            self.anchor_unix + (at - self.anchor).as_secs_f64()
        } else {
            self.anchor_unix - (self.anchor - at).as_secs_f64()
        }
    }
}

/// How an account reaches its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Implicit TLS on the imaps port, trusting the instance's CA (what a user has).
    Tls,
    /// Implicit TLS to `port` (a timestamping proxy in front of the imaps port, or the pop3s
    /// port).
    TlsProxied { port: u16 },
    /// Plaintext to `port` (a counting proxy in front of the plain port).
    Plain { port: u16 },
}

/// A private directory for one client: config, state, password file, logs. Removed on drop.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Result<Scratch> {
        Ok(Scratch {
            dir: tempfile::Builder::new()
                .prefix("pushmail-bench-")
                .tempdir()
                .context("Cannot create a scratch directory")?,
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The file `password_command = ["cat", FILE]` reads.
    pub fn password_file(&self) -> Result<PathBuf> {
        let pw = self.path("password");
        if !pw.exists() {
            std::fs::write(&pw, format!("{PASSWORD}\n"))
                .context("Cannot write the password file")?;
        }
        Ok(pw)
    }

    /// `config/pushmail/config.toml` (the default place when `XDG_CONFIG_HOME` points at
    /// `config/`, which is how the tray finds it) with one `[[accounts]]` per user, plus `top`
    /// (e.g. a `[notifications]` table) before them and `extra` lines in every account.
    pub fn write_config(
        &self,
        dc: &Dovecot,
        users: &[String],
        via: Via,
        extra: &str,
        top: &str,
    ) -> Result<PathBuf> {
        let pw = self.password_file()?;
        let mut toml = String::from(top);
        toml.push('\n');
        for user in users {
            let (port, security) = match via {
                Via::Tls => (dc.imaps_port(), "tls"),
                Via::TlsProxied { port } => (port, "tls"),
                Via::Plain { port } => (port, "plain"),
            };
            let _ = write!(
                toml,
                "[[accounts]]\nid = \"{user}\"\nhost = \"{host}\"\nport = {port}\nsecurity = \"{security}\"\n\
                 username = \"{user}\"\npassword_command = [\"cat\", \"{pw}\"]\nca_file = \"{ca}\"\n{extra}\n\n",
                host = dc.host(),
                pw = pw.display(),
                ca = dc.ca_file().display(),
            );
        }
        let dir = self.path("config/pushmail");
        std::fs::create_dir_all(&dir).context("Cannot create the config directory")?;
        set_private(&self.path("config"))?;
        set_private(&dir)?;
        let path = dir.join("config.toml");
        std::fs::write(&path, toml).context("Cannot write the config")?;
        Ok(path)
    }
}

/// Pushmail refuses a config in a directory others may write; tempdirs are 0700 but the
/// directories made inside them follow the umask.
fn set_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("Cannot chmod {}", dir.display()))
}

/// Users `prefix0`, `prefix1`, … with the benchmark password.
pub fn users(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

pub fn user_pairs(users: &[String]) -> Vec<(String, String)> {
    users
        .iter()
        .map(|u| (u.clone(), PASSWORD.to_owned()))
        .collect()
}

/// A built binary next to this one (`target/release/NAME`).
pub fn sibling_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join(name);
    p.is_file().then_some(p)
}

/// A running `pushmail-cli watch --json`, its events read on a thread and stamped on arrival.
pub struct CliWatch {
    child: Child,
    rx: Receiver<(Instant, Value)>,
    stderr: PathBuf,
    /// When the process was spawned.
    pub spawned: Instant,
    /// Accounts that have reported `push` at least once.
    pub pushing: HashSet<String>,
    /// Accounts that have reported `polling` at least once (a POP3 account does after each
    /// finished check).
    pub polling: HashSet<String>,
    /// `new_mail` events read so far, and how many of them were `catch_up`.
    pub new_mail: usize,
    pub catch_up: usize,
}

impl CliWatch {
    /// Starts `pushmail-cli --config CONFIG watch --json --state SCRATCH/state.sqlite3`.
    pub fn spawn(scratch: &Scratch, config: &Path) -> Result<CliWatch> {
        let cli = sibling_binary("pushmail-cli")
            .context("pushmail-cli is missing next to pushmail-bench: build both in one profile")?;
        let stderr = scratch.path("watch.stderr");
        let err_file = std::fs::File::create(&stderr).context("Cannot create the stderr file")?;
        // PUSHMAIL_BENCH_WRAP="valgrind --tool=massif" (or "perf record -g", "strace -f -tt")
        // runs pushmail-cli under a profiler; whitespace-separated, no quoting.
        let wrap = std::env::var("PUSHMAIL_BENCH_WRAP").unwrap_or_default();
        let mut wrap = wrap.split_whitespace();
        let mut cmd = match wrap.next() {
            Some(tool) => {
                let mut c = Command::new(tool);
                c.args(wrap).arg(cli);
                c
            }
            None => Command::new(cli),
        };
        let spawned = Instant::now();
        let mut child = cmd
            .arg("--config")
            .arg(config)
            .args(["watch", "--json", "--state"])
            .arg(scratch.path("state.sqlite3"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err_file)
            .spawn()
            .context("Cannot start pushmail-cli")?;
        let out = child.stdout.take().context("No stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let at = Instant::now();
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    eprintln!("pushmail-bench: not JSON from pushmail-cli: {line}");
                    continue;
                };
                if tx.send((at, v)).is_err() {
                    break;
                }
            }
        });
        Ok(CliWatch {
            child,
            rx,
            stderr,
            spawned,
            pushing: HashSet::new(),
            polling: HashSet::new(),
            new_mail: 0,
            catch_up: 0,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// The next event, or `None` after `timeout`. An exited process is an error.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<(Instant, Value)>> {
        match self.rx.recv_timeout(timeout) {
            Ok((at, v)) => {
                if v["event"] == "state"
                    && v["state"] == "push"
                    && let Some(a) = v["account"].as_str()
                {
                    self.pushing.insert(a.to_owned());
                }
                if v["event"] == "state"
                    && v["state"] == "polling"
                    && let Some(a) = v["account"].as_str()
                {
                    self.polling.insert(a.to_owned());
                }
                if v["event"] == "new_mail" {
                    self.new_mail += 1;
                    if v["catch_up"] == true {
                        self.catch_up += 1;
                    }
                }
                Ok(Some((at, v)))
            }
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => {
                bail!("pushmail-cli exited; stderr:\n{}", self.stderr_tail())
            }
        }
    }

    /// Waits until `n` accounts have reported `push`; returns when the last one did.
    pub fn wait_push(&mut self, n: usize, timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left)? {
                Some((at, _)) if self.pushing.len() >= n => return Ok(at),
                Some(_) => {}
                None => bail!(
                    "only {} of {n} accounts reached push within {timeout:?}; stderr:\n{}",
                    self.pushing.len(),
                    self.stderr_tail()
                ),
            }
        }
    }

    /// Waits until `n` accounts have reported `polling` (for POP3 accounts: finished their
    /// first check); returns when the last one did.
    pub fn wait_polling(&mut self, n: usize, timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left)? {
                Some((at, _)) if self.polling.len() >= n => return Ok(at),
                Some(_) => {}
                None => bail!(
                    "only {} of {n} accounts finished a check within {timeout:?}; stderr:\n{}",
                    self.polling.len(),
                    self.stderr_tail()
                ),
            }
        }
    }

    /// Waits for the `new_mail` event with this subject; returns when its line was read.
    pub fn wait_new_mail(&mut self, subject: &str, timeout: Duration) -> Result<Option<Instant>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left)? {
                Some((at, v)) if v["event"] == "new_mail" && v["subject"] == subject => {
                    return Ok(Some(at));
                }
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// SIGTERM (a clean stop that logs out and flushes state), then SIGKILL after 5 s.
    pub fn stop(self) {
        // Drop does it.
    }
}

impl Drop for CliWatch {
    /// Politely, so a profiler wrapped around it (PUSHMAIL_BENCH_WRAP) writes its output.
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// SIGTERM to a child we started, then SIGKILL if it is still there after 5 s.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Resident memory and CPU time of a process and all its descendants at one moment.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// Sum of VmRSS, kB.
    pub rss_kb: u64,
    /// Sum of VmHWM (peak RSS over each process's life), kB.
    pub hwm_kb: u64,
    /// Sum of the anonymous (heap, stacks: private to the process) part of RSS, kB; the rest
    /// is file-backed (program code and libraries, shared with other processes using them).
    pub anon_kb: u64,
    /// Per thread (pid, tid): nanoseconds on a CPU, from `schedstat` (ns resolution).
    threads_ns: HashMap<(u32, u32), u64>,
    /// utime + stime of each process in clock ticks (includes threads that have exited).
    ticks: HashMap<u32, u64>,
    pub processes: usize,
}

/// Every live descendant of `root`, and `root` itself.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut parent = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((ppid, _)) = stat_fields(pid) {
                parent.insert(pid, ppid);
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|&(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree.retain(|p| parent.contains_key(p));
    tree
}

/// (ppid, utime + stime ticks) from `/proc/PID/stat`; `None` for a zombie or vanished process.
fn stat_fields(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = after.split_whitespace().collect();
    if f.first() == Some(&"Z") {
        return None;
    }
    let ppid = f.get(1)?.parse().ok()?;
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((ppid, ticks))
}

fn status_kb(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Samples `root` and its descendants.
pub fn usage(root: u32) -> Usage {
    let mut u = Usage::default();
    for pid in process_tree(root) {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        u.processes += 1;
        u.rss_kb += status_kb(&status, "VmRSS:");
        u.hwm_kb += status_kb(&status, "VmHWM:");
        u.anon_kb += status_kb(&status, "RssAnon:");
        if let Some((_, ticks)) = stat_fields(pid) {
            u.ticks.insert(pid, ticks);
        }
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                let ns = std::fs::read_to_string(t.path().join("schedstat"))
                    .ok()
                    .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()));
                if let Some(ns) = ns {
                    u.threads_ns.insert((pid, tid), ns);
                }
            }
        }
    }
    u
}

/// CPU seconds spent between two samples of the same tree.
///
/// Per-thread `schedstat` has nanosecond resolution, which a 60 s idle window needs (one clock
/// tick is already 0.017 % of a core), but loses the time of a thread that exited in between;
/// per-process ticks keep that. The tick figure wins only when it is clearly larger.
pub fn cpu_seconds(a: &Usage, b: &Usage) -> f64 {
    let ns: u64 = b
        .threads_ns
        .iter()
        .map(|(k, v)| v.saturating_sub(a.threads_ns.get(k).copied().unwrap_or(0)))
        .sum();
    let ticks: u64 = b
        .ticks
        .iter()
        .map(|(k, v)| v.saturating_sub(a.ticks.get(k).copied().unwrap_or(0)))
        .sum();
    let from_ns = ns as f64 / 1e9;
    let from_ticks = ticks as f64 / clock_ticks_per_second();
    if from_ticks > from_ns + 2.0 / clock_ticks_per_second() {
        from_ticks
    } else {
        from_ns
    }
}

fn clock_ticks_per_second() -> f64 {
    #[allow(unsafe_code)]
    // SAFETY: sysconf reads a constant; no memory is involved.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

pub fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Nearest-rank percentile of sorted data.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50, p90, p99 and max of a sample.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Summary {
            n: v.len(),
            p50: percentile(&v, 0.5),
            p90: percentile(&v, 0.9),
            p99: percentile(&v, 0.99),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::json!({"n": self.n, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max})
    }
}

/// `12.3` or `n/a` for NaN.
pub fn f1(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "n/a".into()
    }
}

/// A ratio `a / b` as `×1.23`, or `–` when it means nothing.
pub fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("×{:.2}", a / b)
    } else {
        "–".into()
    }
}

/// `✅ met` / `❌ missed` for a target row.
pub fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "✅ met",
        Some(false) => "❌ missed",
        None => "– not measured",
    }
}
