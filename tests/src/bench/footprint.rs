//! Idle footprint and start-up: clients are started one at a time (each timed from spawn to
//! "every account in push", alone on the CPU), then all of one window idle together and are
//! sampled at the start and end of the same idle period. Idle processes do not compete, so
//! sharing the window costs no accuracy and saves minutes.

use std::any::Any;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Result;
use pushmail_tests::{Dovecot, DovecotOptions};
use serde_json::{Value, json};

use crate::common::{
    CliWatch, Scratch, Usage, Via, cpu_seconds, f1, mb, ratio, usage, user_pairs, users,
};
use crate::desktop::{Mailnag, Tray, desktop_available, tray_binary};
use crate::proxy::Proxy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Cli,
    Tray,
    Mailnag,
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::Cli => "pushmail-cli",
            Client::Tray => "pushmail (tray)",
            Client::Mailnag => "Mailnag 2.2",
        }
    }
}

/// A client that is up and watching, with everything it needs kept alive.
pub struct Started {
    pub label: String,
    pub client: Client,
    pub accounts: usize,
    pub pid: u32,
    pub startup: Duration,
    /// When the process was spawned.
    pub spawned_at: Instant,
    /// CPU seconds the client itself used from spawn until every account was in push.
    pub startup_cpu: f64,
    pub proxy: Option<Proxy>,
    /// The process first, then its server and scratch directory: dropped in that order.
    _keep: Vec<Box<dyn Any>>,
}

impl Started {
    /// Stops the client and its server once its figures are taken; the proxy's record stays.
    /// (A tray still running would also make the next tray exit: it is a single instance.)
    pub fn finish(&mut self) {
        self._keep.clear();
    }
}

/// How one pushmail-cli subject is set up.
#[derive(Clone, Default)]
pub struct CliSetup {
    pub accounts: usize,
    /// Through a counting proxy to the plain port instead of TLS.
    pub proxied: bool,
    /// Extra lines in every `[[accounts]]`.
    pub extra: String,
    /// Dovecot's keepalive interval during IDLE (`None`: its 2-minute default).
    pub keepalive_secs: Option<u32>,
    /// Show one message after start-up (see [`warm_up`]).
    pub warm_up: bool,
    /// POP3 accounts (`protocol = "pop3"`, on the pop3s port, or the plain POP3 port behind
    /// the proxy) instead of IMAP; "watching" is then "every account finished its first check".
    /// On TLS too, the connections go through a pass-through proxy, which counts the checks.
    pub pop3: bool,
}

/// Delivers one message to the first account and gives the client two seconds to show it, so
/// the idle figures are those of a client that has done its job once (a notification shown,
/// headers decoded), as all day long, not of one that never woke up.
fn warm_up(dc: &Dovecot) -> Result<()> {
    dc.deliver_simple("fp0", "INBOX", "Footprint warm-up")?;
    std::thread::sleep(Duration::from_secs(2));
    Ok(())
}

pub fn start_cli(label: &str, setup: &CliSetup) -> Result<Started> {
    let names = users("fp", setup.accounts);
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(&names),
        keepalive_secs: setup.keepalive_secs,
        ..Default::default()
    })?;
    let scratch = Scratch::new()?;
    let (proxy, via) = match (setup.proxied, setup.pop3) {
        (false, false) => (None, Via::Tls),
        (true, false) => {
            let p = Proxy::start(dc.imap_port())?;
            let via = Via::Plain { port: p.port };
            (Some(p), via)
        }
        (true, true) => {
            let p = Proxy::start(dc.pop3_port())?;
            let via = Via::Plain { port: p.port };
            (Some(p), via)
        }
        // Implicit TLS like the IMAP accounts, to the pop3s port; through a pass-through proxy
        // all the same, whose connections count the checks.
        (false, true) => {
            let p = Proxy::start(dc.pop3s_port())?;
            let via = Via::TlsProxied { port: p.port };
            (Some(p), via)
        }
    };
    let extra = if setup.pop3 {
        format!("protocol = \"pop3\"\n{}", setup.extra)
    } else {
        setup.extra.clone()
    };
    let config = scratch.write_config(&dc, &names, via, &extra, "")?;
    let mut watch = CliWatch::spawn(&scratch, &config)?;
    let timeout = Duration::from_secs(30 + setup.accounts as u64 / 5);
    let all = if setup.pop3 {
        watch.wait_polling(setup.accounts, timeout)?
    } else {
        watch.wait_push(setup.accounts, timeout)?
    };
    let startup_cpu = cpu_seconds(&Usage::default(), &usage(watch.pid()));
    if setup.warm_up {
        warm_up(&dc)?;
    }
    Ok(Started {
        label: label.to_owned(),
        client: Client::Cli,
        accounts: setup.accounts,
        pid: watch.pid(),
        startup: all.duration_since(watch.spawned),
        spawned_at: watch.spawned,
        startup_cpu,
        proxy,
        _keep: vec![Box::new(watch), Box::new(dc), Box::new(scratch)],
    })
}

pub fn start_tray(label: &str, accounts: usize) -> Result<Started> {
    let names = users("fp", accounts);
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(&names),
        ..Default::default()
    })?;
    let scratch = Scratch::new()?;
    scratch.write_config(&dc, &names, Via::Tls, "", "")?;
    let mut tray = Tray::spawn(&scratch)?;
    let all = tray.wait_push(accounts, Duration::from_secs(30 + accounts as u64 / 5))?;
    let startup_cpu = cpu_seconds(&Usage::default(), &usage(tray.pid()));
    warm_up(&dc)?;
    Ok(Started {
        label: label.to_owned(),
        client: Client::Tray,
        accounts,
        pid: tray.pid(),
        startup: all.duration_since(tray.spawned),
        spawned_at: tray.spawned,
        startup_cpu,
        proxy: None,
        _keep: vec![Box::new(tray), Box::new(dc), Box::new(scratch)],
    })
}

pub fn start_mailnag(label: &str) -> Result<Started> {
    let names = users("fp", 1);
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(&names),
        ..Default::default()
    })?;
    let scratch = Scratch::new()?;
    let mut mailnag = Mailnag::spawn(&scratch, dc.host(), dc.imaps_port(), &names[0], true, 10)?;
    let idle = mailnag.wait_idle(Duration::from_secs(60))?;
    let startup_cpu = cpu_seconds(&Usage::default(), &usage(mailnag.pid()));
    warm_up(&dc)?;
    Ok(Started {
        label: label.to_owned(),
        client: Client::Mailnag,
        accounts: 1,
        pid: mailnag.pid(),
        startup: idle.duration_since(mailnag.spawned),
        spawned_at: mailnag.spawned,
        startup_cpu,
        proxy: None,
        _keep: vec![Box::new(mailnag), Box::new(dc), Box::new(scratch)],
    })
}

/// Starts one subject; called once, in turn.
pub type StartFn = Box<dyn FnOnce() -> Result<Started>>;
/// A subject's label and how to start it.
pub type Spec = (String, StartFn);

/// One subject after the idle window.
pub struct Measured {
    pub started: Started,
    pub before: Usage,
    pub after: Usage,
    pub from: Instant,
    pub to: Instant,
}

impl Measured {
    pub fn cpu_percent(&self) -> f64 {
        cpu_seconds(&self.before, &self.after) / self.to.duration_since(self.from).as_secs_f64()
            * 100.0
    }

    pub fn json(&self) -> Value {
        json!({
            "label": self.started.label, "client": self.started.client.name(),
            "accounts": self.started.accounts, "startup_ms": self.started.startup.as_secs_f64() * 1e3,
            "rss_mb": mb(self.after.rss_kb), "hwm_mb": mb(self.after.hwm_kb),
            "anon_mb": mb(self.after.anon_kb), "startup_cpu_secs": self.started.startup_cpu,
            "cpu_percent": self.cpu_percent(), "processes": self.after.processes,
            "idle_secs": self.to.duration_since(self.from).as_secs_f64(),
        })
    }
}

/// Starts `subjects` one by one (a failure is reported and the rest go on), lets them settle,
/// then samples all of them over the same `idle` period.
pub fn window(subjects: Vec<Spec>, idle: Duration) -> (Vec<Measured>, Vec<(String, String)>) {
    let mut running = Vec::new();
    let mut failed = Vec::new();
    for (label, start) in subjects {
        eprintln!("footprint: starting {label}");
        match start() {
            Ok(s) => {
                eprintln!(
                    "footprint: {label} watching after {} ms",
                    s.startup.as_millis()
                );
                running.push(s);
            }
            Err(e) => {
                eprintln!("footprint: {label} failed: {e:#}");
                failed.push((label, format!("{e:#}")));
            }
        }
    }
    // Let start-up work (state database, allocator caches, a first unread count) finish.
    std::thread::sleep(Duration::from_secs(5));
    let from = Instant::now();
    let before: Vec<Usage> = running.iter().map(|s| usage(s.pid)).collect();
    eprintln!(
        "footprint: {} subjects idle for {} s",
        running.len(),
        idle.as_secs()
    );
    std::thread::sleep(idle);
    let to = Instant::now();
    let measured = running
        .into_iter()
        .zip(before)
        .map(|(started, before)| Measured {
            after: usage(started.pid),
            started,
            before,
            from,
            to,
        })
        .map(|mut m| {
            m.started.finish();
            m
        })
        .collect();
    (measured, failed)
}

pub struct Footprint {
    pub rows: Vec<Measured>,
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<(String, String)>,
    pub idle_secs: u64,
}

/// The subjects that only the footprint table shows, per window, given what can run here.
pub fn plan(counts: &[usize], tray_counts: &[usize]) -> (Vec<Vec<Spec>>, Vec<(String, String)>) {
    let mut skipped = Vec::new();
    // Window A: small subjects; B: 100 accounts; C: larger. Same-sized work per window.
    let mut windows: Vec<Vec<Spec>> = vec![Vec::new(), Vec::new(), Vec::new()];
    let slot = |n: usize| match n {
        0..=10 => 0,
        11..=100 => 1,
        _ => 2,
    };
    for &n in counts {
        let label = format!("cli-{n}");
        windows[slot(n)].push((
            label.clone(),
            Box::new(move || {
                start_cli(
                    &label,
                    &CliSetup {
                        accounts: n,
                        warm_up: true,
                        ..Default::default()
                    },
                )
            }),
        ));
    }
    // Mailnag comes with the Pushmail figures it is compared with (not with `wire` alone).
    let with_mailnag = !counts.is_empty();
    if with_mailnag && desktop_available() {
        windows[0].push(("mailnag-1".into(), Box::new(|| start_mailnag("mailnag-1"))));
    } else if with_mailnag {
        skipped.push((
            "Mailnag 2.2".into(),
            "no private desktop session (run through scripts/bench)".into(),
        ));
    }
    for &n in tray_counts {
        if tray_binary().is_none() {
            skipped.push((
                format!("pushmail (tray), {n} accounts"),
                "not built (target/release/pushmail is missing)".into(),
            ));
        } else if !desktop_available() {
            skipped.push((
                format!("pushmail (tray), {n} accounts"),
                "no private desktop session (run through scripts/bench)".into(),
            ));
        } else {
            let label = format!("tray-{n}");
            windows[slot(n)].push((label.clone(), Box::new(move || start_tray(&label, n))));
        }
    }
    (windows, skipped)
}

impl Footprint {
    pub fn json(&self) -> Value {
        json!({
            "idle_secs": self.idle_secs,
            "rows": self.rows.iter().map(Measured::json).collect::<Vec<_>>(),
            "failed": self.failed, "skipped": self.skipped,
        })
    }

    fn find(&self, client: Client, accounts: usize) -> Option<&Measured> {
        self.rows
            .iter()
            .find(|m| m.started.client == client && m.started.accounts == accounts)
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let mailnag = self.find(Client::Mailnag, 1);
        let _ = writeln!(
            s,
            "### 2. Idle footprint ({} s idle, after every account reached push)\n\n\
             RSS is the sum over the client's processes at the end of the window (Dovecot's \
             server-side processes are not counted); CPU is the time all its threads spent on a \
             CPU during the window (per-thread `schedstat`), as a percentage of one core. Each \
             account is a separate Dovecot user on implicit TLS. Every client had shown one new \
             message before the window (a notification for the tray and Mailnag).\n",
            self.idle_secs
        );
        let _ = writeln!(
            s,
            "| client | accounts | RSS (MB) | of which private heap, RssAnon (MB) | per extra account (MB) | peak RSS, VmHWM (MB) | CPU (% of a core) | RSS vs Mailnag |\n\
             |---|---|---|---|---|---|---|---|"
        );
        let mut rows: Vec<&Measured> = self.rows.iter().collect();
        rows.sort_by_key(|m| (m.started.client as u8, m.started.accounts));
        for m in rows {
            let base = self.find(m.started.client, 1);
            let per = match base {
                Some(b) if m.started.accounts > 1 => {
                    f1((mb(m.after.rss_kb) - mb(b.after.rss_kb)) / (m.started.accounts - 1) as f64)
                }
                _ => "–".into(),
            };
            let vs = match (mailnag, m.started.client) {
                (Some(mn), c) if c != Client::Mailnag => {
                    ratio(mb(m.after.rss_kb), mb(mn.after.rss_kb))
                }
                _ => "–".into(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {per} | {} | {:.3} | {vs} |",
                m.started.client.name(),
                m.started.accounts,
                f1(mb(m.after.rss_kb)),
                f1(mb(m.after.anon_kb)),
                f1(mb(m.after.hwm_kb)),
                m.cpu_percent(),
            );
        }
        for (label, why) in self.skipped.iter().chain(&self.failed) {
            let _ = writeln!(s, "| {label} | – | {} | | | | | |", short(why));
        }
        s.push_str(
            "\n*What it means*: what Pushmail costs while nothing happens, which is almost all \
             day. Most of the RSS of one account is program code mapped from disk (clean pages \
             of the ~6 MB binary and of libc, shared by every process using them; the kernel \
             maps code in 64 KB blocks, so nearly all of it is resident); Pushmail's own heap is \
             the RssAnon column. Each further account costs ~30 KB of heap: its TLS session, \
             IMAP buffers and watcher task. The TLS configuration (the system's trusted root \
             certificates, ~80 KB, and the session cache) is built once per distinct `ca_file` \
             and shared by every connection (`imap::transport::tls_config`). Idle CPU is timers \
             only. *What would make it better*: a smaller binary (fewer dependencies: the Secret \
             Service client, bundled SQLite and clap are the largest); the heap is already small.\n",
        );
        s
    }

    pub fn startup_markdown(&self) -> String {
        let mut s = String::from(
            "### 6. Start-up: process start → every account in push\n\n\
             First start (no state yet): password command, TCP + TLS handshake, LOGIN, SELECT, \
             `UID SEARCH UNSEEN` per account. Each client was started alone on the machine. The \
             tray is polled over D-Bus every 50 ms; Mailnag counts until its first IDLE.\n\n\
             | client | accounts | start → all in push (ms) | per account (ms) | the client's own CPU time in that period (ms) |\n|---|---|---|---|---|\n",
        );
        let mut rows: Vec<&Measured> = self.rows.iter().collect();
        rows.sort_by_key(|m| (m.started.client as u8, m.started.accounts));
        for m in rows {
            let ms = m.started.startup.as_secs_f64() * 1e3;
            let _ = writeln!(
                s,
                "| {} | {} | {:.0} | {:.1} | {:.0} |",
                m.started.client.name(),
                m.started.accounts,
                ms,
                ms / m.started.accounts as f64,
                m.started.startup_cpu * 1e3
            );
        }
        s.push_str(
            "\n*What it means*: how long after login (or after `pushmail-cli watch` starts) new \
             mail is pushed. Accounts connect concurrently; with hundreds, the two cores are the \
             limit, shared with Dovecot forking a login and an IMAP process and doing a TLS \
             handshake per account. Pushmail's own CPU is ~1.5–2 ms per account: the TLS \
             handshake, LOGIN, SELECT and the unread search; the system's root certificates are \
             read and parsed once per process, not per connection. *What would make it better*: \
             little on Pushmail's side; the wall time is Dovecot's.\n",
        );
        s
    }

    pub fn targets(&self) -> Vec<(String, String, Option<bool>)> {
        let mut rows = Vec::new();
        match self.find(Client::Cli, 1) {
            Some(m) => {
                let rss = mb(m.after.rss_kb);
                rows.push((
                    "1 account idle ≤ 10 MB RSS (pushmail-cli)".into(),
                    format!(
                        "{} MB, of which {} MB heap (the rest: program code mapped from disk)",
                        f1(rss),
                        f1(mb(m.after.anon_kb))
                    ),
                    Some(rss <= 10.0),
                ));
            }
            None => rows.push((
                "1 account idle ≤ 10 MB RSS".into(),
                "not measured".into(),
                None,
            )),
        }
        match self.find(Client::Cli, 500) {
            Some(m) => {
                let rss = mb(m.after.rss_kb);
                rows.push((
                    "500 accounts ≤ 80 MB RSS (pushmail-cli)".into(),
                    format!(
                        "{} MB, of which {} MB heap",
                        f1(rss),
                        f1(mb(m.after.anon_kb))
                    ),
                    Some(rss <= 80.0),
                ));
            }
            None => rows.push((
                "500 accounts ≤ 80 MB RSS".into(),
                "not measured".into(),
                None,
            )),
        }
        let cli: Vec<&Measured> = self
            .rows
            .iter()
            .filter(|m| m.started.client == Client::Cli)
            .collect();
        if !cli.is_empty() {
            let worst = cli.iter().map(|m| m.cpu_percent()).fold(f64::NAN, f64::max);
            let list = cli
                .iter()
                .map(|m| format!("{}: {:.3} %", m.started.accounts, m.cpu_percent()))
                .collect::<Vec<_>>()
                .join(", ");
            rows.push((
                "idle CPU ≤ 0.1 % of a core (pushmail-cli, by accounts)".into(),
                list,
                Some(worst <= 0.1),
            ));
        }
        rows
    }

    pub fn summary_line(&self) -> Option<String> {
        let one = self.find(Client::Cli, 1)?;
        let mailnag = match self.find(Client::Mailnag, 1) {
            Some(m) => format!("{} MB", f1(mb(m.after.rss_kb))),
            None => "n/a".into(),
        };
        let big = self
            .rows
            .iter()
            .filter(|m| m.started.client == Client::Cli)
            .max_by_key(|m| m.started.accounts)?;
        Some(format!(
            "| Idle memory, 1 account ({} accounts) | {} MB ({} MB) | {mailnag} (1 account) |",
            big.started.accounts,
            f1(mb(one.after.rss_kb)),
            f1(mb(big.after.rss_kb))
        ))
    }
}

/// The first line of an error, shortened for a table cell.
pub fn short(why: &str) -> String {
    let line = why.lines().next().unwrap_or_default().replace('|', "/");
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(120).collect::<String>())
    } else {
        line
    }
}
