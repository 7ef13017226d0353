//! Wire cost: IMAP bytes per new message and per idle hour, counted by the loopback proxy on
//! plaintext links (TLS 1.3 adds 22 bytes per record on top).
//!
//! Per message: deliveries to clients that are already watching, bytes both ways from before
//! the first delivery to after the last one is shown, divided by the count.
//!
//! Per idle hour: nothing happens in a 60 s window with the default `idle_refresh` of 10
//! minutes, so the two things an idle link does are measured separately and scaled up:
//! (1) one IDLE refresh cycle (`DONE` … `IDLE` again), measured on an account with
//! `idle_refresh_secs = 5`, bytes per cycle = bytes in the window / `DONE`s sent; (2) one
//! server keepalive (`* OK Still here`), measured against a Dovecot that sends them every 5 s.
//! An hour with defaults = 6 refresh cycles (3600 / 600) + at most 30 keepalives (Dovecot's
//! 2-minute `imap_idle_notify_interval`). A third account with defaults runs through the same
//! window as a check.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pushmail_tests::{Dovecot, DovecotOptions, RawImap, message};
use serde_json::{Value, json};

use crate::Outcome;
use crate::common::{CliWatch, PASSWORD, Scratch, Via, user_pairs};
use crate::desktop::{Mailnag, NotifyMonitor, desktop_available};
use crate::footprint::{CliSetup, Measured, Spec, start_cli};
use crate::proxy::{Dir, Proxy};

/// Default `idle_refresh_secs` (crates/core/src/config.rs, `Timing::IDLE_REFRESH`).
const DEFAULT_IDLE_REFRESH_SECS: f64 = 600.0;
/// Dovecot's default `imap_idle_notify_interval`.
const DOVECOT_KEEPALIVE_SECS: f64 = 120.0;
/// Unread messages already in the folder for the "busy INBOX" case.
const PREFILLED_UNREAD: usize = 1000;

type SeenFn = Box<dyn FnMut(&str) -> Result<bool>>;
type MakeSubject = Box<dyn FnOnce() -> Result<Subject>>;

/// One watched account whose bytes are counted.
struct Subject {
    label: String,
    proxy: Proxy,
    _dc: Dovecot,
    user: String,
    sender: RawImap,
    /// Waits until the client showed the message with this subject (and is idle again).
    seen: SeenFn,
    /// Bytes (up, down) of each delivery, from its APPEND to the next one's.
    per_delivery: Vec<(u64, u64)>,
    _keep: Vec<Box<dyn std::any::Any>>,
}

/// `tls`: through the proxy to the imaps port, so the counted bytes include TLS records.
fn pushmail_subject(label: &str, prefilled_unread: usize, tls: bool) -> Result<Subject> {
    let user = "wire".to_owned();
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(std::slice::from_ref(&user)),
        ..Default::default()
    })?;
    if prefilled_unread > 0 {
        dc.fill(&user, "INBOX", prefilled_unread, false)?;
    }
    let (proxy, via) = if tls {
        let p = Proxy::start(dc.imaps_port())?;
        let port = p.port;
        (p, Via::TlsProxied { port })
    } else {
        let p = Proxy::start(dc.imap_port())?;
        let port = p.port;
        (p, Via::Plain { port })
    };
    let scratch = Scratch::new()?;
    let config = scratch.write_config(&dc, std::slice::from_ref(&user), via, "", "")?;
    let mut watch = CliWatch::spawn(&scratch, &config)?;
    watch.wait_push(1, Duration::from_secs(30))?;
    let sender = RawImap::connect_login(dc.host(), dc.imap_port(), &user, PASSWORD)?;
    let watch = std::rc::Rc::new(std::cell::RefCell::new(watch));
    let w = watch.clone();
    Ok(Subject {
        label: label.to_owned(),
        proxy,
        _dc: dc,
        user,
        sender,
        seen: Box::new(move |subject| {
            Ok(w.borrow_mut()
                .wait_new_mail(subject, Duration::from_secs(10))?
                .is_some())
        }),
        per_delivery: Vec::new(),
        _keep: vec![Box::new(watch), Box::new(scratch)],
    })
}

fn mailnag_subject(label: &str) -> Result<Subject> {
    let user = "wire".to_owned();
    // No TLS at all: Mailnag would use STARTTLS when offered, and TLS bytes say nothing.
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(std::slice::from_ref(&user)),
        starttls: false,
        ..Default::default()
    })?;
    let proxy = Proxy::start(dc.imap_port())?;
    let scratch = Scratch::new()?;
    let mut monitor = NotifyMonitor::start()?;
    let mailnag = Mailnag::spawn(&scratch, dc.host(), proxy.port, &user, false, 10)?;
    let mailnag = std::rc::Rc::new(std::cell::RefCell::new(mailnag));
    mailnag.borrow_mut().wait_idle(Duration::from_secs(60))?;
    let sender = RawImap::connect_login(dc.host(), dc.imap_port(), &user, PASSWORD)?;
    let m = mailnag.clone();
    Ok(Subject {
        label: label.to_owned(),
        proxy,
        _dc: dc,
        user,
        sender,
        seen: Box::new(move |subject| {
            m.borrow_mut().clear_idle();
            let shown = monitor
                .wait_text(subject, Duration::from_secs(30))
                .is_some();
            if shown {
                // Mailnag idles again once its sync is over; its bytes belong to this delivery.
                m.borrow_mut().wait_idle(Duration::from_secs(30))?;
            }
            Ok(shown)
        }),
        per_delivery: Vec::new(),
        _keep: vec![Box::new(mailnag), Box::new(scratch)],
    })
}

#[derive(Debug, Clone)]
pub struct PerMessage {
    pub n: usize,
    pub up: u64,
    pub down: u64,
    /// Bytes (up + down) of the first and of the last delivery.
    pub first: u64,
    pub last: u64,
    pub missed: usize,
}

impl PerMessage {
    pub fn per_message(&self) -> f64 {
        (self.up + self.down) as f64 / self.n.max(1) as f64
    }
}

/// `n` deliveries to every subject in turn; bytes per delivery for each.
pub fn per_message(n: usize) -> Vec<(String, Outcome<PerMessage>)> {
    let mut out = Vec::new();
    let mut subjects = Vec::new();
    let specs: Vec<(&str, MakeSubject)> = vec![
        (
            "pushmail-cli, empty INBOX",
            Box::new(|| pushmail_subject("pushmail-cli, empty INBOX", 0, false)),
        ),
        (
            "pushmail-cli over TLS 1.3, empty INBOX",
            Box::new(|| pushmail_subject("pushmail-cli over TLS 1.3, empty INBOX", 0, true)),
        ),
        (
            "pushmail-cli, INBOX with 1,000 unread",
            Box::new(|| {
                pushmail_subject(
                    "pushmail-cli, INBOX with 1,000 unread",
                    PREFILLED_UNREAD,
                    false,
                )
            }),
        ),
    ];
    for (label, make) in specs {
        match make() {
            Ok(s) => subjects.push(s),
            Err(e) => out.push((label.to_owned(), Outcome::from_result(Err(e)))),
        }
    }
    if desktop_available() {
        match mailnag_subject("Mailnag 2.2, empty INBOX") {
            Ok(s) => subjects.push(s),
            Err(e) => out.push((
                "Mailnag 2.2, empty INBOX".to_owned(),
                Outcome::from_result(Err(e)),
            )),
        }
    } else {
        out.push((
            "Mailnag 2.2".to_owned(),
            Outcome::Skipped("no private desktop session (run through scripts/bench)".into()),
        ));
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut missed = vec![0usize; subjects.len()];
    for i in 0..n {
        let subject_line = format!("Wire {i}");
        for (k, s) in subjects.iter_mut().enumerate() {
            let raw = message(
                "Wire sender <sender@example.com>",
                &format!("{} <{}@example.org>", s.user, s.user),
                &subject_line,
                "A short message body, as most mail is.",
            );
            let mark = Instant::now();
            if s.sender.append("INBOX", &raw).is_err() || !(s.seen)(&subject_line).unwrap_or(false)
            {
                missed[k] += 1;
            }
            std::thread::sleep(Duration::from_millis(200));
            let end = Instant::now();
            s.per_delivery.push(s.proxy.bytes_between(mark, end));
            if i + 1 == n && std::env::var_os("PUSHMAIL_BENCH_TRACE").is_some() {
                eprintln!(
                    "wire, {}: traffic of the last delivery\n{}",
                    s.label,
                    s.proxy.timeline(mark, end)
                );
            }
        }
        if (i + 1) % 10 == 0 {
            eprintln!("  wire: {} / {n} deliveries", i + 1);
        }
    }
    for (k, s) in subjects.into_iter().enumerate() {
        let up = s.per_delivery.iter().map(|d| d.0).sum();
        let down = s.per_delivery.iter().map(|d| d.1).sum();
        let total = |d: Option<&(u64, u64)>| d.map(|d| d.0 + d.1).unwrap_or(0);
        out.push((
            s.label.clone(),
            Outcome::Done(PerMessage {
                n,
                up,
                down,
                first: total(s.per_delivery.first()),
                last: total(s.per_delivery.last()),
                missed: missed[k],
            }),
        ));
    }
    out
}

/// Labels of the idle-cost subjects run in the footprint's first window.
pub const REFRESH: &str = "wire-refresh-5s";
pub const KEEPALIVE: &str = "wire-keepalive-5s";
pub const DEFAULTS: &str = "wire-defaults";

/// The three idle-cost subjects, to run in an idle window.
pub fn idle_subjects() -> Vec<Spec> {
    vec![
        (
            REFRESH.into(),
            Box::new(|| {
                start_cli(
                    REFRESH,
                    &CliSetup {
                        accounts: 1,
                        proxied: true,
                        extra: "idle_refresh_secs = 5".into(),
                        keepalive_secs: None,
                        warm_up: false,
                        pop3: false,
                    },
                )
            }),
        ),
        (
            KEEPALIVE.into(),
            Box::new(|| {
                start_cli(
                    KEEPALIVE,
                    &CliSetup {
                        accounts: 1,
                        proxied: true,
                        extra: String::new(),
                        keepalive_secs: Some(5),
                        warm_up: false,
                        pop3: false,
                    },
                )
            }),
        ),
        (
            DEFAULTS.into(),
            Box::new(|| {
                start_cli(
                    DEFAULTS,
                    &CliSetup {
                        accounts: 1,
                        proxied: true,
                        extra: String::new(),
                        keepalive_secs: None,
                        warm_up: false,
                        pop3: false,
                    },
                )
            }),
        ),
    ]
}

#[derive(Debug, Clone, Default)]
pub struct Idle {
    pub window_secs: f64,
    pub cycles: usize,
    pub bytes_per_cycle: f64,
    pub keepalives: usize,
    pub bytes_per_keepalive: f64,
    pub defaults_bytes: u64,
    /// Bytes of the whole start-up (connect to push) of the defaults account.
    pub startup_bytes: u64,
}

impl Idle {
    pub fn per_hour(&self) -> f64 {
        3600.0 / DEFAULT_IDLE_REFRESH_SECS * self.bytes_per_cycle
            + 3600.0 / DOVECOT_KEEPALIVE_SECS * self.bytes_per_keepalive
    }
}

/// Idle figures from the footprint window's wire subjects.
pub fn idle_from(measured: &[Measured]) -> Result<Idle> {
    let find = |label: &str| {
        measured
            .iter()
            .find(|m| m.started.label == label)
            .and_then(|m| m.started.proxy.as_ref().map(|p| (m, p)))
            .with_context(|| format!("the {label} subject did not run"))
    };
    let (m, p) = find(REFRESH)?;
    let (up, down) = p.bytes_between(m.from, m.to);
    let cycles = p
        .text_between(Dir::Up, m.from, m.to)
        .matches("DONE")
        .count();
    let (mk, pk) = find(KEEPALIVE)?;
    let (kup, kdown) = pk.bytes_between(mk.from, mk.to);
    let keepalives = pk
        .text_between(Dir::Down, mk.from, mk.to)
        .matches("Still here")
        .count();
    let (md, pd) = find(DEFAULTS)?;
    let (dup, ddown) = pd.bytes_between(md.from, md.to);
    // Everything before the window: connect, LOGIN, SELECT, the unread count, first IDLE.
    let (sup, sdown) = pd.bytes_between(md.started.spawned_at, md.from);
    Ok(Idle {
        window_secs: m.to.duration_since(m.from).as_secs_f64(),
        cycles,
        bytes_per_cycle: (up + down) as f64 / cycles.max(1) as f64,
        keepalives,
        bytes_per_keepalive: (kup + kdown) as f64 / keepalives.max(1) as f64,
        defaults_bytes: dup + ddown,
        startup_bytes: sup + sdown,
    })
}

pub struct Wire {
    pub per_message: Vec<(String, Outcome<PerMessage>)>,
    pub idle: Outcome<Idle>,
}

impl Wire {
    fn pushmail_per_message(&self) -> Option<&PerMessage> {
        self.per_message.iter().find_map(|(l, o)| match o {
            Outcome::Done(p) if l.contains("empty") && l.starts_with("pushmail") => Some(p),
            _ => None,
        })
    }

    pub fn json(&self) -> Value {
        json!({
            "per_message": self.per_message.iter().map(|(l, o)| json!({"label": l, "result": o.json(|p| json!({
                "n": p.n, "up": p.up, "down": p.down, "per_message": p.per_message(),
                "first": p.first, "last": p.last, "missed": p.missed,
            }))})).collect::<Vec<_>>(),
            "idle": self.idle.json(|i| json!({
                "window_secs": i.window_secs, "cycles": i.cycles, "bytes_per_cycle": i.bytes_per_cycle,
                "keepalives": i.keepalives, "bytes_per_keepalive": i.bytes_per_keepalive,
                "defaults_bytes": i.defaults_bytes, "startup_bytes": i.startup_bytes,
                "per_hour": i.per_hour(),
            })),
        })
    }

    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "### 5. Wire cost\n\n\
             Bytes counted by a loopback proxy: IMAP on plaintext links, TLS records where the \
             row says TLS (each write then costs 22 bytes more). *Per new message*: deliveries ~1 s apart to a client already watching; \
             all bytes both ways from each APPEND until the client showed the message and was \
             idle again, averaged. The test messages are ~400 bytes; clients fetch only headers.\n\n\
             | client | deliveries | bytes per new message | first → last delivery (bytes) | to server / from server (total) |\n|---|---|---|---|---|\n",
        );
        for (label, o) in &self.per_message {
            match o {
                Outcome::Done(p) => {
                    let missed = if p.missed > 0 {
                        format!(" ({} not shown)", p.missed)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        s,
                        "| {label} | {}{missed} | **{:.0}** | {} → {} | {} / {} |",
                        p.n,
                        p.per_message(),
                        p.first,
                        p.last,
                        p.up,
                        p.down
                    );
                }
                other => {
                    let _ = writeln!(s, "| {label} | | {} | | |", other.reason());
                }
            }
        }
        match &self.idle {
            Outcome::Done(i) => {
                let _ = writeln!(
                    s,
                    "\n*Per idle hour and account* (defaults: `idle_refresh_secs` = 600, Dovecot \
                     keepalive every 120 s). Measured over the same {:.0} s window: {} IDLE \
                     refresh cycles at `idle_refresh_secs = 5` → **{:.0} bytes per cycle**; {} \
                     Dovecot keepalives at 5 s → **{:.0} bytes per keepalive** (Pushmail sends \
                     nothing back); an account with all defaults moved {} bytes in the window. \
                     One hour = 6 cycles + ≤ 30 keepalives = **{:.0} bytes ≈ {:.1} KB per hour \
                     per account** (IMAP payload, plaintext; over TLS each of the ~4 writes per \
                     cycle adds 22 bytes. Not counted: TCP/IP headers, ~66 bytes per packet, and \
                     Pushmail's TCP keepalive, which probes after 60 s of silence, so once or twice \
                     between two of Dovecot's 2-minute keepalives: 30–60 probe/ACK pairs, 4–8 KB an \
                     hour at the IP level). Start-up (connect to \
                     push, no TLS): {} bytes.\n",
                    i.window_secs,
                    i.cycles,
                    i.bytes_per_cycle,
                    i.keepalives,
                    i.bytes_per_keepalive,
                    i.defaults_bytes,
                    i.per_hour(),
                    i.per_hour() / 1024.0,
                    i.startup_bytes
                );
            }
            other => {
                let _ = writeln!(s, "\nPer idle hour: {}", other.reason());
            }
        }
        s.push_str(
            "\n*What it means*: what Pushmail costs a metered or battery-powered link. A new \
             message is `* N EXISTS` (24 bytes), `DONE` and its OK (61), the `UID FETCH` of four \
             header fields and its answer (~450), `UID SEARCH UNSEEN` and its answer (~80, plus \
             ~4 bytes per unread message), and `IDLE` again (~20). Mailnag fetches the headers of \
             every unread message on every change, so its cost grows with each message. *What \
             would make it better*: (1) the unread search lists every unread UID, 4.7 KB per new \
             message with 1,000 unread; `UID SEARCH RETURN (COUNT) UNSEEN` (ESEARCH, which \
             Dovecot and most servers have) for the count, plus a search restricted to the \
             announced UIDs for `seen` events, makes it constant; (2) async-imap writes each \
             command in four pieces (tag, space, command, CRLF); with TCP_NODELAY that is four \
             packets and, on TLS, four records of 22 bytes overhead each; buffering writes until \
             flush in `MailStream` makes it one.\n",
        );
        s
    }

    pub fn targets(&self) -> Vec<(String, String, Option<bool>)> {
        let mut rows = Vec::new();
        match self.pushmail_per_message() {
            Some(p) => rows.push((
                "≤ 2 KB on the wire per new message".into(),
                format!("{:.0} bytes", p.per_message()),
                Some(p.per_message() <= 2048.0),
            )),
            None => rows.push(("≤ 2 KB per new message".into(), "not measured".into(), None)),
        }
        rows
    }

    pub fn summary_line(&self) -> Option<String> {
        let p = self.pushmail_per_message()?;
        let m = self.per_message.iter().find_map(|(l, o)| match o {
            Outcome::Done(m) if l.starts_with("Mailnag") => {
                Some(format!("{:.0} bytes", m.per_message()))
            }
            _ => None,
        });
        Some(format!(
            "| Bytes on the wire per new message | {:.0} bytes | {} |",
            p.per_message(),
            m.unwrap_or_else(|| "n/a".into())
        ))
    }
}
