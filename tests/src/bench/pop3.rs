//! POP3 accounts (issue 17): what a check costs on the wire and what POP3 accounts cost in
//! memory, each next to its baseline measured in the same run.
//!
//! *Bytes per poll.* One Dovecot without TLS (so the proxy counts POP3 itself, and Mailnag,
//! which uses STLS whenever it is offered, stays in plaintext like the others), one user per
//! client, each mailbox filled with the same 1,000 messages, each client behind its own counting
//! proxy (`proxy.rs`), whose connections are the checks: a POP3 client opens one per check.
//! - `pushmail-cli watch` with `poll_interval_secs = 1` (the bytes of a check do not depend on
//!   the interval): its first check (nothing announced), then `checks` more, which the engine
//!   makes full `UIDL` listings every 60th time and quick ones (`STAT` + `UIDL n`) otherwise;
//!   then `new` deliveries, each followed by the check that announces it (`UIDL n` for the
//!   appended message, `TOP n 0`).
//! - The floor: a raw client doing what a minimal "new mail by UIDL" poller must — USER, PASS,
//!   UIDL, QUIT — and `TOP n 0` for a unique-id it has not seen before (a notification needs
//!   the headers). Written with the harness's `RawPop3`, sharing no code with Pushmail.
//! - Mailnag 2.2 with a POP3 account (`mailnag-headless.py --pop3`), checks asked for over its
//!   D-Bus `CheckForMails`: it sends CAPA (its STLS attempt), USER, PASS, LIST and then
//!   `TOP i 0` for *every* message on every check.
//!
//! *Idle memory.* `pushmail-cli watch` with 1 and N POP3 accounts (implicit TLS to the pop3s
//! port, default 60 s interval) next to 1 and N IMAP accounts (implicit TLS, IDLE), all four in
//! one idle window of the footprint benchmark (`footprint.rs`): RSS at the end of the window,
//! after every POP3 account finished its first check and every IMAP account reached push. No
//! message is shown before the window, for either protocol (a POP3 account would only see it at
//! its next check, a minute later). The POP3 accounts keep polling during the window (each
//! checks about once in it), which is what their CPU column shows.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pushmail_tests::{Dovecot, DovecotOptions, RawPop3};
use serde_json::{Value, json};

use crate::Outcome;
use crate::common::{
    CliWatch, PASSWORD, Scratch, Summary, Via, cpu_seconds, f1, mb, ratio, usage, user_pairs,
};
use crate::desktop::{Mailnag, desktop_available};
use crate::footprint::{self, CliSetup, Measured, Spec, start_cli};
use crate::proxy::{Proxy, Session};

/// Messages in each mailbox of the wire measurement.
pub const MESSAGES: usize = 1000;
/// `FULL_LISTING_EVERY` in crates/core/src/watch/pop3.rs: one check in sixty lists everything.
const FULL_LISTING_EVERY: f64 = 60.0;
/// Default `poll_interval_secs`: checks per hour with defaults.
const CHECKS_PER_HOUR: f64 = 60.0;

/// How much of it to run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Pushmail's checks after its first one (nothing new meanwhile).
    pub checks: usize,
    /// Deliveries, each announced by one check.
    pub new: usize,
    /// Polls of the raw client after its first one.
    pub raw_polls: usize,
    /// Mailnag's checks after its first one (each reads every message's header).
    pub mailnag_polls: usize,
    /// Accounts in the memory comparison (and 1 for reference).
    pub accounts: usize,
    pub idle: Duration,
}

impl Plan {
    pub fn full(idle: Duration) -> Plan {
        Plan {
            // One more than FULL_LISTING_EVERY: the 60th check after the first is a full
            // listing, the rest quick ones.
            checks: 65,
            new: 5,
            raw_polls: 30,
            mailnag_polls: 5,
            accounts: 100,
            idle,
        }
    }

    /// A few minutes: still one full listing besides the first, and quick checks around it.
    pub fn quick(idle: Duration) -> Plan {
        Plan {
            checks: 11,
            new: 2,
            raw_polls: 10,
            mailnag_polls: 2,
            accounts: 10,
            idle,
        }
    }
}

/// Bytes of one check, each way.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bytes {
    pub up: u64,
    pub down: u64,
}

impl Bytes {
    fn of(s: &Session) -> Bytes {
        Bytes {
            up: s.up,
            down: s.down,
        }
    }

    pub fn total(&self) -> u64 {
        self.up + self.down
    }
}

/// Mean of several checks' bytes: (up, down, total).
fn mean(v: &[Bytes]) -> Option<(f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let up = v.iter().map(|b| b.up).sum::<u64>() as f64 / n;
    let down = v.iter().map(|b| b.down).sum::<u64>() as f64 / n;
    Some((up, down, up + down))
}

/// One client's checks, sorted by what they were.
#[derive(Clone, Debug, Default)]
pub struct Polls {
    /// The first check (nothing announced: what is there is the baseline).
    pub first: Option<Bytes>,
    /// Full listings while nothing changed (for the raw client and Mailnag: every check).
    pub full: Vec<Bytes>,
    /// Pushmail's quick checks (`STAT` + `UIDL n`) while nothing changed.
    pub quick: Vec<Bytes>,
    /// Checks that found (and read the headers of) one new message.
    pub new_mail: Vec<Bytes>,
    /// Deliveries the client did not show within the time allowed.
    pub missed: usize,
    /// Pushmail only: its CPU time for each sampled quick check and full listing, ms.
    pub quick_cpu_ms: Vec<f64>,
    pub full_cpu_ms: Vec<f64>,
}

impl Polls {
    /// What an average check costs while nothing arrives: for Pushmail 59 quick checks and one
    /// full listing in 60 (a run too short for a full listing of its own takes the first
    /// check's, which is one); for the others, their one kind of check.
    pub fn steady(&self) -> Option<(f64, f64, f64)> {
        let first = self
            .first
            .map(|b| (b.up as f64, b.down as f64, b.total() as f64));
        let full = mean(&self.full).or(if self.quick.is_empty() { None } else { first });
        match (mean(&self.quick), full) {
            (Some(q), Some(f)) => {
                let w = 1.0 / FULL_LISTING_EVERY;
                Some((
                    q.0 * (1.0 - w) + f.0 * w,
                    q.1 * (1.0 - w) + f.1 * w,
                    q.2 * (1.0 - w) + f.2 * w,
                ))
            }
            (None, Some(f)) => Some(f),
            (Some(q), None) => Some(q),
            (None, None) => None,
        }
    }

    fn json(&self) -> Value {
        let m = |v: &[Bytes]| {
            mean(v).map(|(u, d, t)| json!({"n": v.len(), "up": u, "down": d, "total": t}))
        };
        json!({
            "first": self.first.map(|b| json!({"up": b.up, "down": b.down})),
            "full": m(&self.full), "quick": m(&self.quick), "new_mail": m(&self.new_mail),
            "steady": self.steady().map(|(u, d, t)| json!({"up": u, "down": d, "total": t})),
            "missed": self.missed,
            "quick_cpu_ms": self.quick_cpu_ms, "full_cpu_ms": self.full_cpu_ms,
        })
    }
}

/// Waits until `proxy` has seen `n` connections closed both ways.
fn wait_closed(proxy: &Proxy, n: usize, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while proxy.closed_sessions() < n {
        if Instant::now() > deadline {
            bail!(
                "only {} of {n} POP3 sessions ended within {timeout:?}",
                proxy.closed_sessions()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn deliver(dc: &Dovecot, user: &str, subject: &str) -> Result<()> {
    dc.deliver_simple(user, "INBOX", subject)
        .with_context(|| format!("Cannot deliver to {user}"))?;
    Ok(())
}

/// Pushmail's checks of a 1,000-message maildrop (see the module documentation).
fn pushmail(dc: &Dovecot, user: &str, plan: &Plan) -> Result<Polls> {
    let proxy = Proxy::start(dc.pop3_port())?;
    let scratch = Scratch::new()?;
    let config = scratch.write_config(
        dc,
        &[user.to_owned()],
        Via::Plain { port: proxy.port },
        "protocol = \"pop3\"\npoll_interval_secs = 1",
        "",
    )?;
    let mut watch = CliWatch::spawn(&scratch, &config)?;
    watch.wait_polling(1, Duration::from_secs(30))?;
    // ~1 s apart (±10 %): the first check, then `checks` more. Pushmail's CPU is sampled as
    // each one ends, so each difference is one check's work (the checks are a second apart,
    // the samples ~20 ms after each QUIT).
    let steady = 1 + plan.checks;
    wait_closed(&proxy, 1, Duration::from_secs(10))?;
    let mut sample = usage(watch.pid());
    let mut cpu_ms = Vec::new();
    for k in 2..=steady {
        wait_closed(&proxy, k, Duration::from_secs(10))?;
        let now = usage(watch.pid());
        cpu_ms.push(cpu_seconds(&sample, &now) * 1e3);
        sample = now;
    }
    let mut polls = Polls::default();
    for i in 0..plan.new {
        let subject = format!("POP3 wire {i}");
        deliver(dc, user, &subject)?;
        if watch
            .wait_new_mail(&subject, Duration::from_secs(10))?
            .is_none()
        {
            polls.missed += 1;
        }
        // The check that announced it, and one more (a quick one again) before the next.
        let opened = proxy.sessions().len();
        wait_closed(&proxy, opened + 1, Duration::from_secs(10))?;
    }
    // Any late or repeated announcement would show up here.
    while watch.next(Duration::from_millis(1500))?.is_some() {}
    let announced = watch.new_mail;
    drop(watch);
    if announced != plan.new {
        bail!(
            "pushmail-cli announced {announced} messages for {} deliveries (the 1,000 already \
             there must not be announced, each new one exactly once)",
            plan.new
        );
    }
    let sessions: Vec<Session> = proxy
        .sessions()
        .into_iter()
        .filter(|s| s.closed.is_some())
        .collect();
    for (k, s) in sessions.iter().enumerate() {
        let b = Bytes::of(s);
        // Sessions 1..steady had their CPU sampled.
        let cpu = k.checked_sub(1).and_then(|i| cpu_ms.get(i)).copied();
        if k == 0 {
            polls.first = Some(b);
        } else if s.up_text.contains("TOP ") {
            polls.new_mail.push(b);
        } else if s.up_text.contains("UIDL\r\n") {
            polls.full.push(b);
            polls.full_cpu_ms.extend(cpu);
        } else if s.up_text.contains("UIDL ") || s.up_text.contains("STAT\r\n") {
            // `STAT` alone: an empty maildrop has no last message to ask `UIDL n` about.
            polls.quick.push(b);
            polls.quick_cpu_ms.extend(cpu);
        }
    }
    if polls.new_mail.len() != plan.new - polls.missed {
        bail!(
            "{} checks read headers (TOP) for {} deliveries",
            polls.new_mail.len(),
            plan.new
        );
    }
    if std::env::var_os("PUSHMAIL_BENCH_TRACE").is_some() {
        for s in sessions.iter().take(3) {
            eprintln!("pop3, pushmail-cli: {}", s.up_text.replace("\r\n", " | "));
        }
    }
    Ok(polls)
}

/// One poll of the raw UIDL client; headers for every unique-id not seen before (none on the
/// first poll). Returns how many it read.
fn raw_poll(port: u16, user: &str, known: &mut HashSet<String>, first: bool) -> Result<usize> {
    let mut pop = RawPop3::connect_login("127.0.0.1", port, user, PASSWORD)?;
    let mut fresh = 0;
    for (n, id) in pop.uidl()? {
        if known.insert(id) && !first {
            pop.top(n, 0)?;
            fresh += 1;
        }
    }
    pop.quit()?;
    Ok(fresh)
}

/// The floor: login, UIDL, QUIT (and `TOP n 0` for what is new).
fn raw(dc: &Dovecot, user: &str, plan: &Plan) -> Result<Polls> {
    let proxy = Proxy::start(dc.pop3_port())?;
    let mut known = HashSet::new();
    let mut polls = Polls::default();
    let mut done = 0;
    let mut poll = |known: &mut HashSet<String>, first: bool| -> Result<(usize, Bytes)> {
        let fresh = raw_poll(proxy.port, user, known, first)?;
        done += 1;
        wait_closed(&proxy, done, Duration::from_secs(10))?;
        let s = proxy.sessions();
        let last = s.last().context("no session")?;
        Ok((fresh, Bytes::of(last)))
    };
    polls.first = Some(poll(&mut known, true)?.1);
    for _ in 0..plan.raw_polls {
        polls.full.push(poll(&mut known, false)?.1);
    }
    for i in 0..plan.new {
        deliver(dc, user, &format!("POP3 raw {i}"))?;
        let (fresh, b) = poll(&mut known, false)?;
        if fresh != 1 {
            bail!("the raw client found {fresh} new messages after one delivery");
        }
        polls.new_mail.push(b);
    }
    Ok(polls)
}

/// Mailnag 2.2 in POP3 mode: its start-up check, then checks asked for over D-Bus.
fn mailnag(dc: &Dovecot, user: &str, plan: &Plan) -> Result<Polls> {
    let proxy = Proxy::start(dc.pop3_port())?;
    let scratch = Scratch::new()?;
    let mut m = Mailnag::spawn_pop3(&scratch, dc.host(), proxy.port, user)?;
    m.wait_idle(Duration::from_secs(180))?;
    wait_closed(&proxy, 1, Duration::from_secs(10))?;
    let mut polls = Polls::default();
    let last = |proxy: &Proxy| -> Result<Bytes> {
        let s = proxy.sessions();
        Ok(Bytes::of(s.last().context("no session")?))
    };
    polls.first = Some(last(&proxy)?);
    let mut done = 1;
    let mut check = |m: &mut Mailnag| -> Result<Bytes> {
        m.clear_idle();
        m.check_now()?;
        done += 1;
        wait_closed(&proxy, done, Duration::from_secs(60))?;
        if proxy.sessions().len() != done {
            bail!("Mailnag opened more than one POP3 session for one check");
        }
        last(&proxy)
    };
    for _ in 0..plan.mailnag_polls {
        polls.full.push(check(&mut m)?);
    }
    for i in 0..plan.new.min(2) {
        deliver(dc, user, &format!("POP3 Mailnag {i}"))?;
        polls.new_mail.push(check(&mut m)?);
    }
    m.stop();
    Ok(polls)
}

/// Bytes per check for every client (see the module documentation).
pub fn wire(plan: &Plan) -> Vec<(String, Outcome<Polls>)> {
    let mut out = Vec::new();
    let names = ["pop3pm", "pop3raw", "pop3mn"].map(str::to_owned);
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(&names),
        starttls: false,
        ..Default::default()
    });
    let dc = match dc {
        Ok(dc) => dc,
        Err(e) => {
            let why = format!("{e:#}");
            eprintln!("pushmail-bench: FAILED: {why}");
            for label in ["pushmail-cli", "raw UIDL client", "Mailnag 2.2"] {
                out.push((label.to_owned(), Outcome::Failed(why.clone())));
            }
            return out;
        }
    };
    for user in &names {
        if let Err(e) = dc.fill(user, "INBOX", MESSAGES, false) {
            eprintln!("pushmail-bench: FAILED: {e:#}");
        }
    }
    eprintln!("pop3: pushmail-cli, {} checks", 1 + plan.checks + plan.new);
    out.push((
        "pushmail-cli".into(),
        Outcome::from_result(pushmail(&dc, &names[0], plan)),
    ));
    eprintln!("pop3: raw UIDL client");
    out.push((
        "raw UIDL client".into(),
        Outcome::from_result(raw(&dc, &names[1], plan)),
    ));
    if desktop_available() {
        eprintln!("pop3: Mailnag 2.2");
        out.push((
            "Mailnag 2.2".into(),
            Outcome::from_result(mailnag(&dc, &names[2], plan)),
        ));
    } else {
        out.push((
            "Mailnag 2.2".into(),
            Outcome::Skipped("no private desktop session (run through scripts/bench)".into()),
        ));
    }
    out
}

fn memory_spec(label: String, accounts: usize, pop3: bool) -> Spec {
    let l = label.clone();
    (
        label,
        Box::new(move || {
            start_cli(
                &l,
                &CliSetup {
                    accounts,
                    pop3,
                    ..Default::default()
                },
            )
        }),
    )
}

/// Idle memory: 1 and `plan.accounts` accounts of each protocol, in one idle window.
pub fn memory(plan: &Plan) -> (Vec<Measured>, Vec<(String, String)>) {
    let mut specs = Vec::new();
    for n in [1, plan.accounts] {
        specs.push(memory_spec(format!("imap-{n}"), n, false));
        specs.push(memory_spec(format!("pop3-{n}"), n, true));
    }
    footprint::window(specs, plan.idle)
}

/// POP3 checks (connections through the subject's proxy) that began during the idle window;
/// `None` for a subject without a proxy (IMAP).
fn checks_in_window(m: &Measured) -> Option<usize> {
    let proxy = m.started.proxy.as_ref()?;
    Some(
        proxy
            .sessions()
            .iter()
            .filter(|s| s.opened >= m.from && s.opened < m.to)
            .count(),
    )
}

pub struct Pop3 {
    pub plan: Plan,
    pub wire: Vec<(String, Outcome<Polls>)>,
    pub memory: Vec<Measured>,
    pub memory_failed: Vec<(String, String)>,
}

pub fn run(plan: Plan) -> Pop3 {
    let wire = wire(&plan);
    let (memory, memory_failed) = memory(&plan);
    Pop3 {
        plan,
        wire,
        memory,
        memory_failed,
    }
}

/// `1,234` for a byte count.
fn bytes(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Pop3 {
    fn polls(&self, label: &str) -> Option<&Polls> {
        self.wire.iter().find_map(|(l, o)| match o {
            Outcome::Done(p) if l == label => Some(p),
            _ => None,
        })
    }

    fn row(&self, protocol: &str, accounts: usize) -> Option<&Measured> {
        let label = format!("{protocol}-{accounts}");
        self.memory.iter().find(|m| m.started.label == label)
    }

    pub fn json(&self) -> Value {
        json!({
            "messages": MESSAGES,
            "plan": {"checks": self.plan.checks, "new": self.plan.new, "raw_polls": self.plan.raw_polls,
                     "mailnag_polls": self.plan.mailnag_polls, "accounts": self.plan.accounts},
            "wire": self.wire.iter().map(|(l, o)| json!({"client": l, "result": o.json(Polls::json)})).collect::<Vec<_>>(),
            "memory": self.memory.iter().map(|m| {
                let mut v = m.json();
                v["checks_in_window"] = json!(checks_in_window(m));
                v
            }).collect::<Vec<_>>(),
            "memory_failed": self.memory_failed,
        })
    }

    pub fn markdown(&self) -> String {
        let mut s = format!(
            "### 7. POP3 accounts\n\n\
             *Bytes per check* with {MESSAGES} messages in the maildrop (~400 bytes each), \
             POP3 in plaintext through the counting proxy (each client its own user on one \
             Dovecot; a check is one connection: greeting to QUIT's answer). Pushmail checks \
             every second here (the bytes do not depend on the interval); the raw client is \
             the floor for a UIDL poller (USER, PASS, UIDL, QUIT, and `TOP n 0` for a new \
             unique-id); Mailnag's checks are asked for over its D-Bus `CheckForMails`.\n\n\
             | client | check | checks | to server (bytes) | from server (bytes) | total (bytes) | vs the raw client's poll |\n\
             |---|---|---|---|---|---|---|\n"
        );
        let raw_steady = self
            .polls("raw UIDL client")
            .and_then(Polls::steady)
            .map(|m| m.2);
        let raw_new = self
            .polls("raw UIDL client")
            .and_then(|p| mean(&p.new_mail))
            .map(|m| m.2);
        for (label, o) in &self.wire {
            let p = match o {
                Outcome::Done(p) => p,
                other => {
                    let _ = writeln!(s, "| {label} | | | {} | | | |", other.reason());
                    continue;
                }
            };
            let mut line = |what: &str, n: usize, m: Option<(f64, f64, f64)>, base: Option<f64>| {
                if let Some((up, down, total)) = m {
                    let _ = writeln!(
                        s,
                        "| {label} | {what} | {n} | {} | {} | **{}** | {} |",
                        bytes(up),
                        bytes(down),
                        bytes(total),
                        base.map(|b| ratio(total, b)).unwrap_or_else(|| "–".into())
                    );
                }
            };
            let first = p
                .first
                .map(|b| (b.up as f64, b.down as f64, b.total() as f64));
            line("first check (start-up)", 1, first, None);
            if label == "pushmail-cli" {
                line(
                    "full listing (`STAT`, `UIDL`; every 60th check)",
                    p.full.len(),
                    mean(&p.full),
                    raw_steady,
                );
                line(
                    "quick check (`STAT`, `UIDL n`; nothing changed)",
                    p.quick.len(),
                    mean(&p.quick),
                    raw_steady,
                );
                line(
                    "average check, nothing new (59 quick + 1 full)",
                    p.quick.len() + p.full.len(),
                    p.steady(),
                    raw_steady,
                );
            } else {
                line(
                    "each check, nothing new",
                    p.full.len(),
                    mean(&p.full),
                    raw_steady,
                );
            }
            let missed = if p.missed > 0 {
                format!(" ({} not shown)", p.missed)
            } else {
                String::new()
            };
            line(
                &format!("check that finds 1 new message{missed}"),
                p.new_mail.len(),
                mean(&p.new_mail),
                raw_new,
            );
        }
        if let Some(p) = self.polls("pushmail-cli")
            && !p.quick_cpu_ms.is_empty()
            && !p.full_cpu_ms.is_empty()
        {
            let q = Summary::of(&p.quick_cpu_ms);
            let f = Summary::of(&p.full_cpu_ms);
            let _ = writeln!(
                s,
                "\nPushmail's own CPU time per check (plaintext, sampled from `/proc` as each \
                 check ended): quick check p50 {:.1} ms (max {:.1}, {} checks), full listing p50 \
                 {:.1} ms (max {:.1}, {} checks).",
                q.p50, q.max, q.n, f.p50, f.max, f.n
            );
        }
        let pm = self.polls("pushmail-cli").and_then(Polls::steady);
        if let (Some(pm), Some(raw)) = (pm, raw_steady) {
            let _ = writeln!(
                s,
                "\nWith nothing new, an average Pushmail check moves {} bytes ({} up, {} down) \
                 against {} for the raw UIDL poll: **{}**. At the default interval (60 s) that is \
                 {:.0} KB an hour per account against {:.0} KB.",
                bytes(pm.2),
                bytes(pm.0),
                bytes(pm.1),
                bytes(raw),
                ratio(pm.2, raw),
                pm.2 * CHECKS_PER_HOUR / 1024.0,
                raw * CHECKS_PER_HOUR / 1024.0
            );
        }

        let _ = writeln!(
            s,
            "\n*Idle memory* of `pushmail-cli watch`, POP3 accounts (implicit TLS, checked every \
             60 s) next to IMAP accounts (implicit TLS, IDLE) in the same {} s idle window, after \
             every POP3 account finished its first check and every IMAP account reached push. \
             Each account a separate Dovecot user with an empty INBOX; no message shown before \
             the window. POP3 accounts keep checking during the window (about once each; a \
             pass-through proxy in front of the pop3s port counts the checks), and their CPU \
             includes it.\n\n\
             | protocol | accounts | RSS (MB) | of which private heap, RssAnon (MB) | heap per extra account (KB) | peak RSS, VmHWM (MB) | CPU (% of a core) | checks in the window | CPU per check (ms) | start → every account checked / in push (ms) |\n\
             |---|---|---|---|---|---|---|---|---|---|",
            self.plan.idle.as_secs()
        );
        for (protocol, name) in [("imap", "IMAP"), ("pop3", "POP3")] {
            for n in [1, self.plan.accounts] {
                let Some(m) = self.row(protocol, n) else {
                    continue;
                };
                let per = match self.row(protocol, 1) {
                    Some(b) if n > 1 => format!(
                        "{:.0}",
                        (m.after.anon_kb as f64 - b.after.anon_kb as f64) / (n - 1) as f64
                    ),
                    _ => "–".into(),
                };
                let (checks, per_check) = match checks_in_window(m) {
                    Some(c) if c > 0 => (
                        c.to_string(),
                        format!("{:.1}", cpu_seconds(&m.before, &m.after) * 1e3 / c as f64),
                    ),
                    Some(c) => (c.to_string(), "–".into()),
                    None => ("–".into(), "–".into()),
                };
                let _ = writeln!(
                    s,
                    "| {name} | {n} | {} | {} | {per} | {} | {:.3} | {checks} | {per_check} | {:.0} |",
                    f1(mb(m.after.rss_kb)),
                    f1(mb(m.after.anon_kb)),
                    f1(mb(m.after.hwm_kb)),
                    m.cpu_percent(),
                    m.started.startup.as_secs_f64() * 1e3
                );
            }
        }
        for (label, why) in &self.memory_failed {
            let _ = writeln!(
                s,
                "| {label} | – | {} | | | | | | | |",
                footprint::short(why)
            );
        }
        s.push_str(
            "\n*What it means*: POP3 has no push, so a POP3 account costs a short session per \
             check instead of an idle connection. The UIDL listing is what grows with the \
             maildrop (~20 bytes per message); Pushmail lists everything only every 60th check \
             or when the maildrop changed other than by mail added at its end; otherwise it \
             asks for the last message's unique-id, and for each added message's. A \
             client that re-reads every header on every check (Mailnag) pays the whole \
             maildrop's headers each time. In memory a POP3 account holds no connection between \
             checks: no TLS session, no buffers, only its timer and state.\n",
        );
        s
    }

    pub fn summary_line(&self) -> Option<String> {
        let pm = self.polls("pushmail-cli").and_then(Polls::steady)?;
        let mailnag = self
            .polls("Mailnag 2.2")
            .and_then(|p| mean(&p.full))
            .map(|m| format!("{} bytes", bytes(m.2)))
            .unwrap_or_else(|| "n/a".into());
        Some(format!(
            "| POP3: bytes per check, {MESSAGES} messages, nothing new | {} bytes | {mailnag} |",
            bytes(pm.2)
        ))
    }
}
