//! On real links: round trips (issue 14). Every client, the floor included, reaches the same
//! Dovecot through an emulated link of its own (`Proxy::start_link`: a fixed one-way delay each
//! way, the TCP handshake's round trip on connect), at RTT 20, 100 and 300 ms.
//!
//! - *Push latency over the floor*, in ms and in round trips (added ÷ RTT). The floor is a raw
//!   client (the harness's `RawImap`, no code shared with Pushmail) that stays in IDLE on the
//!   same INBOX and stamps each `* n EXISTS` as it reads it from its socket: the earliest any
//!   client behind the same link can know. Deliveries are APPENDs straight to Dovecot (not
//!   through a link). *One at a time* (≥ 0.7 s apart): each once the previous one was shown,
//!   the client had a round trip to get back into IDLE, and 0.3 s more, so no notify delay
//!   started by the client's own fetch is still running in the floor's session (Dovecot
//!   starts its 500 ms delay on any change to the mailbox's index, a fetch's cache update
//!   included, and a session that re-enters IDLE reports what is pending at once: with a
//!   fixed 0.7 s spacing, a client whose cycle is ~0.7 s locks onto that phase and shows mail
//!   hundreds of ms "before" the floor). *A burst*: open loop, 0.3 s apart, where Dovecot's
//!   500 ms notify delay, restarted whenever a session re-enters IDLE, punishes a client that
//!   leaves IDLE for each message. Clients: `pushmail-cli watch --json` on the default Dovecot (NOTIFY:
//!   the new message's UID FLAGS ENVELOPE INTERNALDATE come with the push), `pushmail-cli` on a
//!   Dovecot without NOTIFY (IDLE only: `DONE` + `UID FETCH` pipelined), the tray's Notify
//!   call, and Mailnag (closed loop: each delivery waits until it idles again, and each message
//!   is marked read once shown, so it always re-reads one unread header: its best case).
//! - *Count drop after a read elsewhere* (NOTIFY server): a message marked `\Seen` by another
//!   session; time from the floor's `* n FETCH (FLAGS (\Seen))` to Pushmail's `unread` event.
//! - *Bytes after one flag change with 1,000 unread*, plaintext IMAP, NOTIFY and IDLE-only.
//! - *Connect → push in round trips*: one account on implicit TLS; every client flight (a run of
//!   client → server chunks after the server last spoke) between the TCP connect and the IDLE
//!   continuation, plus the TCP handshake; named from the same start-up over plaintext.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pushmail_tests::{CAPABILITIES_WITHOUT_NOTIFY, Dovecot, DovecotOptions, RawImap, message};
use serde_json::{Value, json};

use crate::Outcome;
use crate::common::{CliWatch, Clock, PASSWORD, Scratch, Summary, Via, f1, user_pairs};
use crate::desktop::{Mailnag, NotifyMonitor, Tray, desktop_available, tray_binary};
use crate::proxy::{Chunk, Dir, Proxy};

/// Spacing of the deliveries: the latency bench's, and one inside Dovecot's 500 ms notify delay.
const SPACINGS_MS: [u64; 2] = [700, 300];
/// At this spacing and above, deliveries are one at a time (see [`open_loop`]).
const ISOLATED_MS: u64 = 700;
/// How long after the last delivery a client may still show it.
const DRAIN: Duration = Duration::from_secs(8);
/// Issue 14's targets.
const TARGET_NOTIFY_MS: f64 = 5.0;
const TARGET_FLAG_BYTES: f64 = 300.0;
const TARGET_CONNECT_RTT: usize = 5;
/// Unread messages in the folder for the flag-change bytes.
const PREFILLED_UNREAD: usize = 1000;

#[derive(Clone, Debug)]
pub struct Plan {
    pub rtts_ms: Vec<u64>,
    /// Deliveries per client and spacing.
    pub n: usize,
    /// Mailnag's deliveries per RTT (closed loop, slow on long links).
    pub mailnag_n: usize,
    /// Reads elsewhere per RTT (count drop).
    pub reads: usize,
    /// Flag changes for the bytes figure.
    pub flag_changes: usize,
    /// Which parts to run (`cli`, `idle`, `tray`, `mailnag`, `startup`, `flags`); empty: all.
    /// From `PUSHMAIL_BENCH_LINKS_ONLY`, e.g. `mailnag` to repeat one client.
    pub only: Vec<String>,
}

impl Plan {
    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// `PUSHMAIL_BENCH_LINKS_RTTS=300` (comma-separated ms) and `PUSHMAIL_BENCH_LINKS_ONLY=mailnag`
/// (comma-separated parts) narrow a run down, to repeat one figure.
fn narrowed(mut plan: Plan) -> Plan {
    if let Ok(v) = std::env::var("PUSHMAIL_BENCH_LINKS_RTTS") {
        let rtts: Vec<u64> = v.split(',').filter_map(|r| r.trim().parse().ok()).collect();
        if !rtts.is_empty() {
            plan.rtts_ms = rtts;
        }
    }
    if let Ok(v) = std::env::var("PUSHMAIL_BENCH_LINKS_ONLY") {
        plan.only = v
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
    }
    plan
}

impl Plan {
    pub fn full(n: usize) -> Plan {
        narrowed(Plan {
            rtts_ms: vec![20, 100, 300],
            n,
            mailnag_n: std::env::var("PUSHMAIL_BENCH_MAILNAG_N")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(20),
            reads: 20,
            flag_changes: 10,
            only: Vec::new(),
        })
    }

    pub fn quick() -> Plan {
        narrowed(Plan {
            rtts_ms: vec![20, 100, 300],
            n: 10,
            mailnag_n: 5,
            reads: 5,
            flag_changes: 3,
            only: Vec::new(),
        })
    }
}

/// One client at one RTT and spacing.
#[derive(Clone, Debug, Default)]
pub struct Phase {
    pub client: String,
    pub rtt_ms: u64,
    pub spacing_ms: u64,
    pub delivered: usize,
    /// Raw client's EXISTS − APPEND start, ms.
    pub floor: Vec<f64>,
    /// Client − floor, ms.
    pub added: Vec<f64>,
    /// Client − the first server bytes at the client's socket after the APPEND (0.7 s only).
    pub own: Vec<f64>,
    pub missed: usize,
    pub duplicates: usize,
    /// Bytes through the client's link from the first APPEND to the end, per delivery.
    pub up_per_msg: f64,
    pub down_per_msg: f64,
    /// What the floor moved per delivery (its own link).
    pub floor_down_per_msg: f64,
}

impl Phase {
    fn json(&self) -> Value {
        json!({
            "client": self.client, "rtt_ms": self.rtt_ms, "spacing_ms": self.spacing_ms,
            "delivered": self.delivered, "floor_ms": self.floor, "added_ms": self.added,
            "own_ms": self.own, "missed": self.missed, "duplicates": self.duplicates,
            "up_per_msg": self.up_per_msg, "down_per_msg": self.down_per_msg,
            "floor_down_per_msg": self.floor_down_per_msg,
            "added": Summary::of(&self.added).json(), "floor": Summary::of(&self.floor).json(),
        })
    }
}

/// A raw client idling on `user`'s INBOX through `port` for as long as the connection lasts,
/// never leaving IDLE; every line it reads, stamped as read. Returns the message count at
/// SELECT.
fn stay_idle(port: u16, user: &str) -> Result<(u32, mpsc::Receiver<(Instant, String)>)> {
    let (tx, rx) = mpsc::channel();
    let mut imap = RawImap::connect_login("127.0.0.1", port, user, PASSWORD)?;
    let exists = imap.select("INBOX")?;
    std::thread::spawn(move || {
        let _ = imap.idle_until(Duration::from_secs(24 * 3600), |line| {
            let _ = tx.send((Instant::now(), line.to_owned()));
            false
        });
    });
    Ok((exists, rx))
}

/// The floor's EXISTS lines so far: (when, count).
fn exists_seen(rx: &mpsc::Receiver<(Instant, String)>, into: &mut Vec<(Instant, u32)>) {
    for (at, line) in rx.try_iter() {
        if let Some(n) = pushmail_tests::parse_untagged_number(&line, "EXISTS") {
            into.push((at, n));
        }
    }
}

/// When the floor first knew of message number `seq`.
fn floor_at(seen: &[(Instant, u32)], seq: u32) -> Option<Instant> {
    seen.iter().find(|(_, n)| *n >= seq).map(|(at, _)| *at)
}

/// How a client shows a message: every (subject, unix time) shown by `deadline`.
trait Shows {
    fn shown(&mut self, subjects: &[String], deadline: Instant) -> Result<Vec<(String, f64)>>;
}

struct CliShows {
    watch: CliWatch,
    clock: Clock,
}

impl Shows for CliShows {
    fn shown(&mut self, subjects: &[String], deadline: Instant) -> Result<Vec<(String, f64)>> {
        let mut out: Vec<(String, f64)> = Vec::new();
        loop {
            let all = subjects.iter().all(|s| out.iter().any(|(o, _)| o == s));
            // Once everything is in, a little longer: a repeat would show up here.
            let until = if all {
                deadline.min(Instant::now() + Duration::from_millis(300))
            } else {
                deadline
            };
            let left = until.saturating_duration_since(Instant::now());
            match self.watch.next(left)? {
                Some((at, v)) if v["event"] == "new_mail" => {
                    let subject = v["subject"].as_str().unwrap_or_default().to_owned();
                    out.push((subject, self.clock.unix(at)));
                }
                Some(_) => {}
                None => return Ok(out),
            }
        }
    }
}

struct TrayShows {
    monitor: NotifyMonitor,
}

impl Shows for TrayShows {
    fn shown(&mut self, subjects: &[String], deadline: Instant) -> Result<Vec<(String, f64)>> {
        let mut out: Vec<(String, f64)> = Vec::new();
        loop {
            for c in self.monitor.drain() {
                if let Some(s) = subjects.iter().find(|s| c.text.contains(s.as_str())) {
                    out.push((s.clone(), c.at));
                }
            }
            let all = subjects.iter().all(|s| out.iter().any(|(o, _)| o == s));
            if all || Instant::now() >= deadline {
                if all {
                    out.extend(
                        self.monitor
                            .collect(Duration::from_millis(300))
                            .into_iter()
                            .filter_map(|c| {
                                subjects
                                    .iter()
                                    .find(|s| c.text.contains(s.as_str()))
                                    .map(|s| (s.clone(), c.at))
                            }),
                    );
                }
                return Ok(out);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Subject of delivery `i`; the brackets keep "[1]" from matching "[10]".
fn subject(label: &str, spacing_ms: u64, i: usize) -> String {
    format!("Link {label} {spacing_ms}ms [{i}]")
}

/// Open-loop deliveries `spacing` apart to a client that is already in push, with the floor
/// and the client each behind their own link.
#[allow(clippy::too_many_arguments)]
fn open_loop(
    dc: &Dovecot,
    user: &str,
    label: &str,
    rtt_ms: u64,
    spacing_ms: u64,
    n: usize,
    clock: Clock,
    floor: &Floor,
    base: &mut u32,
    link: &Proxy,
    shows: &mut dyn Shows,
) -> Result<Phase> {
    let mut sender = RawImap::connect_login(dc.host(), dc.imap_port(), user, PASSWORD)?;
    let subjects: Vec<String> = (0..n).map(|i| subject(label, spacing_ms, i)).collect();
    let mut seen = Vec::new();
    exists_seen(&floor.1, &mut seen);
    seen.clear();
    let start = Instant::now() + Duration::from_millis(200);
    let mut t0 = Vec::with_capacity(n);
    let mut shown = Vec::new();
    let mut due = start;
    for (i, s) in subjects.iter().enumerate() {
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let raw = message("Bench <bench@example.com>", "bench@example.org", s, "x");
        t0.push(Instant::now());
        sender.append("INBOX", &raw)?;
        if spacing_ms >= ISOLATED_MS {
            // One at a time: the next delivery once this one is shown, the client is back in
            // IDLE (its IDLE command had a round trip to reach the server) and any notify
            // delay its fetch started in the floor's session (500 ms) is over.
            shown.extend(shows.shown(std::slice::from_ref(s), Instant::now() + DRAIN)?);
            due = (t0[i] + Duration::from_millis(spacing_ms))
                .max(Instant::now() + Duration::from_millis(rtt_ms + 300));
        } else {
            due = start + Duration::from_millis(spacing_ms * (i as u64 + 1));
        }
    }
    if spacing_ms < ISOLATED_MS {
        shown = shows.shown(&subjects, Instant::now() + DRAIN)?;
    } else {
        // A late repeat of any of them.
        shown.extend(shows.shown(&[], Instant::now() + Duration::from_millis(1000))?);
    }
    let end = Instant::now();
    exists_seen(&floor.1, &mut seen);
    let mut phase = Phase {
        client: label.to_owned(),
        rtt_ms,
        spacing_ms,
        delivered: n,
        ..Default::default()
    };
    let mut first: HashMap<&str, f64> = HashMap::new();
    for (s, at) in &shown {
        if first.contains_key(s.as_str()) {
            phase.duplicates += 1;
        } else {
            first.insert(s, *at);
        }
    }
    for (i, s) in subjects.iter().enumerate() {
        let seq = *base + i as u32 + 1;
        let Some(f) = floor_at(&seen, seq) else {
            bail!("the floor never saw message {seq} ({s})");
        };
        let f = clock.unix(f);
        phase.floor.push((f - clock.unix(t0[i])) * 1e3);
        match first.get(s.as_str()) {
            Some(at) => {
                phase.added.push((at - f) * 1e3);
                // Own work: only where the previous message was surely done before this APPEND.
                if spacing_ms >= 700
                    && let Some(pushed) = link.first_down(t0[i])
                {
                    phase.own.push((at - clock.unix(pushed)) * 1e3);
                }
            }
            None => phase.missed += 1,
        }
    }
    *base += n as u32;
    let (up, down) = link.bytes_between(t0[0], end);
    phase.up_per_msg = up as f64 / n as f64;
    phase.down_per_msg = down as f64 / n as f64;
    phase.floor_down_per_msg = floor.0.bytes_between(t0[0], end).1 as f64 / n as f64;
    eprintln!(
        "  links {label} rtt {rtt_ms} spacing {spacing_ms}: added p50 {} ms, missed {}, duplicates {}",
        f1(Summary::of(&phase.added).p50),
        phase.missed,
        phase.duplicates
    );
    Ok(phase)
}

/// Time from the floor's `FETCH (FLAGS (\Seen))` to the CLI's lower `unread` count, per read.
fn reads(
    dc: &Dovecot,
    user: &str,
    uids: std::ops::Range<u32>,
    clock: Clock,
    floor: &Floor,
    shows: &mut CliShows,
) -> Result<(Vec<f64>, usize)> {
    let mut sender = RawImap::connect_login(dc.host(), dc.imap_port(), user, PASSWORD)?;
    sender.select("INBOX")?;
    let mut out = Vec::new();
    let mut missed = 0;
    for uid in uids {
        for _ in floor.1.try_iter() {}
        while shows.watch.next(Duration::from_millis(1))?.is_some() {}
        sender.command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut floor_at = None;
        let mut client_at = None;
        while (floor_at.is_none() || client_at.is_none()) && Instant::now() < deadline {
            if floor_at.is_none() {
                while let Ok((at, line)) = floor.1.recv_timeout(Duration::from_millis(5)) {
                    if line.contains("FETCH") && line.contains("\\Seen") {
                        floor_at = Some(at);
                        break;
                    }
                }
            }
            if client_at.is_none()
                && let Some((at, v)) = shows.watch.next(Duration::from_millis(5))?
                && v["event"] == "unread"
            {
                client_at = Some(at);
            }
        }
        match (floor_at, client_at) {
            (Some(f), Some(c)) => out.push((clock.unix(c) - clock.unix(f)) * 1e3),
            _ => missed += 1,
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    Ok((out, missed))
}

/// Everything measured at one RTT.
#[derive(Default)]
pub struct AtRtt {
    pub rtt_ms: u64,
    pub phases: Vec<Phase>,
    pub failed: Vec<(String, String)>,
    /// Count drop after a read elsewhere, ms after the floor saw the flag change.
    pub reads: Vec<f64>,
    pub reads_missed: usize,
    pub startup: Option<Startup>,
}

/// One account's connect → push over an emulated link.
#[derive(Clone, Debug, Default)]
pub struct Startup {
    pub rtt_ms: u64,
    pub tls: bool,
    /// From the TCP connect to the IDLE continuation at the client, ms.
    pub elapsed_ms: f64,
    /// Client flights (each waits for the server's answer), without the TCP handshake.
    pub flights: Vec<Flight>,
}

#[derive(Clone, Debug, Default)]
pub struct Flight {
    /// When the flight left the client, ms after the connect.
    pub at_ms: f64,
    pub up: usize,
    /// What the server sent back before the client's next flight.
    pub down: usize,
    /// Plaintext: the first line of each client chunk; TLS: the record types.
    pub what: String,
    pub answer: String,
}

/// The flights of connection 0 of `link` up to `until`.
fn flights(link: &Proxy, conn: usize, until: Instant) -> Result<(Instant, Vec<Flight>)> {
    let (opened, chunks) = link.connection(conn).context("no connection on the link")?;
    let chunks: Vec<Chunk> = chunks.into_iter().filter(|c| c.at <= until).collect();
    let mut out: Vec<Flight> = Vec::new();
    let mut prev = Dir::Down;
    for c in &chunks {
        let text = describe(&c.data);
        match c.dir {
            Dir::Up => {
                if prev == Dir::Down || out.is_empty() {
                    out.push(Flight {
                        at_ms: c.at.duration_since(opened).as_secs_f64() * 1e3,
                        ..Default::default()
                    });
                }
                let f = out.last_mut().context("flight")?;
                f.up += c.data.len();
                if !f.what.is_empty() {
                    f.what.push_str(" + ");
                }
                f.what.push_str(&text);
            }
            Dir::Down => {
                if let Some(f) = out.last_mut() {
                    f.down += c.data.len();
                    if f.answer.len() < 160 {
                        if !f.answer.is_empty() {
                            f.answer.push_str(" + ");
                        }
                        f.answer.push_str(&text);
                    }
                }
            }
        }
        prev = c.dir;
    }
    Ok((opened, out))
}

/// A chunk in a few words: TLS record types, or the first IMAP line (LOGIN's arguments cut).
fn describe(data: &[u8]) -> String {
    if data.first().is_some_and(|b| matches!(b, 0x14..=0x17)) && data.get(1) == Some(&3) {
        let mut kinds = Vec::new();
        let mut i = 0;
        while i + 5 <= data.len() {
            let kind = match data[i] {
                0x14 => "ChangeCipherSpec",
                0x15 => "Alert",
                0x16 => "Handshake",
                _ => "ApplicationData",
            };
            let len = u16::from_be_bytes([data[i + 3], data[i + 4]]) as usize;
            kinds.push(format!("{kind}({len})"));
            i += 5 + len;
        }
        return format!("TLS {}", kinds.join(" "));
    }
    let text = String::from_utf8_lossy(data);
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut l: String = l.chars().take(60).collect();
            if let Some(i) = l.find(" LOGIN ") {
                l.truncate(i + 6);
                l.push_str(" …");
            }
            if let Some(i) = l.find(" AUTHENTICATE PLAIN ") {
                l.truncate(i + 19);
                l.push_str(" …");
            }
            l
        })
        .collect();
    let shown: Vec<&str> = lines.iter().take(3).map(String::as_str).collect();
    let more = if lines.len() > 3 {
        format!(" (+{} lines)", lines.len() - 3)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(" / "))
}

/// First start of one account through a fresh link; flights up to the IDLE continuation.
fn startup(dc: &Dovecot, user: &str, rtt_ms: u64, tls: bool) -> Result<Startup> {
    let one_way = Duration::from_millis(rtt_ms / 2);
    let link = Proxy::start_link(if tls { dc.imaps_port() } else { dc.imap_port() }, one_way)?;
    let via = if tls {
        Via::TlsProxied { port: link.port }
    } else {
        Via::Plain { port: link.port }
    };
    let scratch = Scratch::new()?;
    let config = scratch.write_config(dc, &[user.to_owned()], via, "", "")?;
    let mut watch = CliWatch::spawn(&scratch, &config)?;
    watch.wait_push(1, Duration::from_secs(60))?;
    // The push state may be reported as IDLE is sent: let its continuation come back, then
    // take everything up to the last server chunk of that quiet link.
    std::thread::sleep(Duration::from_millis(rtt_ms * 2 + 300));
    let now = Instant::now();
    let (opened, flights) = flights(&link, 0, now)?;
    let (_, chunks) = link.connection(0).context("no connection")?;
    let last_down = chunks
        .iter()
        .filter(|c| c.dir == Dir::Down && c.at <= now)
        .map(|c| c.at)
        .max()
        .context("the server sent nothing")?;
    drop(watch);
    Ok(Startup {
        rtt_ms,
        tls,
        elapsed_ms: last_down.duration_since(opened).as_secs_f64() * 1e3,
        flights,
    })
}

/// Bytes both ways per flag change with `PREFILLED_UNREAD` unread messages, plaintext.
fn flag_bytes(dc: &Dovecot, user: &str, changes: usize) -> Result<Vec<(u64, u64)>> {
    dc.fill(user, "INBOX", PREFILLED_UNREAD, false)?;
    let link = Proxy::start(dc.imap_port())?;
    let scratch = Scratch::new()?;
    let config = scratch.write_config(
        dc,
        &[user.to_owned()],
        Via::Plain { port: link.port },
        "",
        "",
    )?;
    let mut watch = CliWatch::spawn(&scratch, &config)?;
    watch.wait_push(1, Duration::from_secs(60))?;
    while watch.next(Duration::from_millis(1500))?.is_some() {}
    let mut sender = RawImap::connect_login(dc.host(), dc.imap_port(), user, PASSWORD)?;
    sender.select("INBOX")?;
    let mut out = Vec::new();
    for uid in 1..=changes as u32 {
        let from = Instant::now();
        sender.command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut counted = false;
        while Instant::now() < deadline {
            if let Some((_, v)) = watch.next(Duration::from_millis(100))?
                && v["event"] == "unread"
            {
                counted = true;
                break;
            }
        }
        if !counted {
            bail!("no unread event after marking UID {uid} read");
        }
        // Quiet for a second: whatever the change caused is over.
        while watch.next(Duration::from_millis(1000))?.is_some() {}
        out.push(link.bytes_between(from, Instant::now()));
        if std::env::var_os("PUSHMAIL_BENCH_TRACE").is_some() {
            eprint!("{}", link.timeline(from, Instant::now()));
        }
    }
    Ok(out)
}

pub struct Links {
    pub plan: Plan,
    pub at: Vec<AtRtt>,
    pub flag_notify: Outcome<Vec<(u64, u64)>>,
    pub flag_idle: Outcome<Vec<(u64, u64)>>,
    /// The start-up over plaintext, to name the round trips.
    pub named: Outcome<Startup>,
}

fn users(rtts: &[u64]) -> Vec<String> {
    let mut u = vec!["lkflag".to_owned(), "lkstart".to_owned()];
    for r in rtts {
        for c in ["cli", "idle", "tray", "mn"] {
            u.push(format!("lk{r}{c}"));
        }
    }
    u
}

/// A floor: its link, and every line it read, stamped.
type Floor = (Proxy, mpsc::Receiver<(Instant, String)>);

/// A floor behind its own link on `port`.
fn floor(port: u16, user: &str, one_way: Duration) -> Result<(u32, Floor)> {
    let link = Proxy::start_link(port, one_way)?;
    let (exists, rx) = stay_idle(link.port, user)?;
    Ok((exists, (link, rx)))
}

/// Both spacings for one Pushmail client already in push.
#[allow(clippy::too_many_arguments)]
fn spacings(
    dc: &Dovecot,
    user: &str,
    label: &str,
    rtt_ms: u64,
    plan: &Plan,
    clock: Clock,
    floor: &Floor,
    base: &mut u32,
    link: &Proxy,
    shows: &mut dyn Shows,
    at: &mut AtRtt,
) {
    for spacing in SPACINGS_MS {
        match open_loop(
            dc, user, label, rtt_ms, spacing, plan.n, clock, floor, base, link, shows,
        ) {
            Ok(p) => at.phases.push(p),
            Err(e) => {
                eprintln!("pushmail-bench: FAILED: links {label} {rtt_ms} ms: {e:#}");
                at.failed
                    .push((format!("{label}, {spacing} ms apart"), format!("{e:#}")));
                return;
            }
        }
    }
}

fn one_rtt(dc: &Dovecot, dc_idle: &Dovecot, rtt_ms: u64, plan: &Plan, clock: Clock) -> AtRtt {
    let one_way = Duration::from_millis(rtt_ms / 2);
    let mut at = AtRtt {
        rtt_ms,
        ..Default::default()
    };
    let fail = |at: &mut AtRtt, what: &str, e: anyhow::Error| {
        eprintln!("pushmail-bench: FAILED: links {what} {rtt_ms} ms: {e:#}");
        at.failed.push((what.to_owned(), format!("{e:#}")));
    };

    // pushmail-cli on the NOTIFY server, then reads elsewhere on the same account.
    if plan.runs("cli") {
        eprintln!("links {rtt_ms} ms: pushmail-cli, NOTIFY");
        let user = format!("lk{rtt_ms}cli");
        let r = (|| -> Result<()> {
            let (mut base, fl) = floor(dc.imap_port(), &user, one_way)?;
            let link = Proxy::start_link(dc.imaps_port(), one_way)?;
            let scratch = Scratch::new()?;
            let config = scratch.write_config(
                dc,
                std::slice::from_ref(&user),
                Via::TlsProxied { port: link.port },
                "",
                "",
            )?;
            let watch = CliWatch::spawn(&scratch, &config)?;
            let mut shows = CliShows { watch, clock };
            shows.watch.wait_push(1, Duration::from_secs(60))?;
            while shows.watch.next(Duration::from_millis(500))?.is_some() {}
            spacings(
                dc, &user, "cli", rtt_ms, plan, clock, &fl, &mut base, &link, &mut shows, &mut at,
            );
            let (r, missed) = reads(dc, &user, 1..plan.reads as u32 + 1, clock, &fl, &mut shows)?;
            at.reads = r;
            at.reads_missed = missed;
            Ok(())
        })();
        if let Err(e) = r {
            fail(&mut at, "pushmail-cli, NOTIFY", e);
        }
    }

    if plan.runs("idle") {
        eprintln!("links {rtt_ms} ms: pushmail-cli, IDLE only");
        let user = format!("lk{rtt_ms}idle");
        let r = (|| -> Result<()> {
            let (mut base, fl) = floor(dc_idle.imap_port(), &user, one_way)?;
            let link = Proxy::start_link(dc_idle.imaps_port(), one_way)?;
            let scratch = Scratch::new()?;
            let config = scratch.write_config(
                dc_idle,
                std::slice::from_ref(&user),
                Via::TlsProxied { port: link.port },
                "",
                "",
            )?;
            let watch = CliWatch::spawn(&scratch, &config)?;
            let mut shows = CliShows { watch, clock };
            shows.watch.wait_push(1, Duration::from_secs(60))?;
            while shows.watch.next(Duration::from_millis(500))?.is_some() {}
            spacings(
                dc_idle, &user, "idle", rtt_ms, plan, clock, &fl, &mut base, &link, &mut shows,
                &mut at,
            );
            Ok(())
        })();
        if let Err(e) = r {
            fail(&mut at, "pushmail-cli, IDLE only", e);
        }
    }

    if !plan.runs("tray") {
    } else if tray_binary().is_some() && desktop_available() {
        eprintln!("links {rtt_ms} ms: tray");
        let user = format!("lk{rtt_ms}tray");
        let r = (|| -> Result<()> {
            let (mut base, fl) = floor(dc.imap_port(), &user, one_way)?;
            let link = Proxy::start_link(dc.imaps_port(), one_way)?;
            let scratch = Scratch::new()?;
            // One popup per mail, also 0.3 s apart (see latency.rs).
            let top = "[notifications]\nsummary_threshold = 100\nsummary_window_secs = 1\n";
            scratch.write_config(
                dc,
                std::slice::from_ref(&user),
                Via::TlsProxied { port: link.port },
                "",
                top,
            )?;
            let monitor = NotifyMonitor::start()?;
            let mut tray = Tray::spawn(&scratch)?;
            tray.wait_push(1, Duration::from_secs(60))?;
            std::thread::sleep(Duration::from_millis(500));
            let mut shows = TrayShows { monitor };
            shows.monitor.drain();
            spacings(
                dc, &user, "tray", rtt_ms, plan, clock, &fl, &mut base, &link, &mut shows, &mut at,
            );
            tray.stop();
            Ok(())
        })();
        if let Err(e) = r {
            fail(&mut at, "tray", e);
        }
    } else {
        at.failed
            .push(("tray".into(), "not built or no private desktop".into()));
    }

    if plan.runs("mailnag") && desktop_available() && plan.mailnag_n > 0 {
        eprintln!("links {rtt_ms} ms: Mailnag, {} deliveries", plan.mailnag_n);
        let user = format!("lk{rtt_ms}mn");
        let r = mailnag(dc, &user, rtt_ms, plan.mailnag_n, clock);
        match r {
            Ok(p) => at.phases.push(p),
            Err(e) => fail(&mut at, "Mailnag", e),
        }
    }
    at
}

/// Mailnag, closed loop: each delivery once it idles, marked read once shown.
fn mailnag(dc: &Dovecot, user: &str, rtt_ms: u64, n: usize, clock: Clock) -> Result<Phase> {
    let one_way = Duration::from_millis(rtt_ms / 2);
    let (base, fl) = floor(dc.imap_port(), user, one_way)?;
    let link = Proxy::start_link(dc.imaps_port(), one_way)?;
    let scratch = Scratch::new()?;
    let mut monitor = NotifyMonitor::start()?;
    let mut m = Mailnag::spawn(&scratch, dc.host(), link.port, user, true, 10)?;
    m.wait_idle(Duration::from_secs(120))?;
    let mut sender = RawImap::connect_login(dc.host(), dc.imap_port(), user, PASSWORD)?;
    sender.select("INBOX")?;
    let mut phase = Phase {
        client: "mailnag".into(),
        rtt_ms,
        spacing_ms: 0,
        delivered: n,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let (mut up, mut down, mut floor_down) = (0u64, 0u64, 0u64);
    for i in 0..n {
        // Its IDLE command has to reach the server before the mail does.
        std::thread::sleep(Duration::from_millis(rtt_ms + 200));
        exists_seen(&fl.1, &mut seen);
        m.clear_idle();
        let s = format!("Link mailnag [{i}]");
        let raw = message("Bench <bench@example.com>", "bench@example.org", &s, "x");
        let t0 = Instant::now();
        let uid = sender.append("INBOX", &raw)?;
        let shown = monitor.wait_text(&s, Duration::from_secs(60));
        m.wait_idle(Duration::from_secs(60))?;
        let t1 = Instant::now();
        let (u, d) = link.bytes_between(t0, t1);
        up += u;
        down += d;
        floor_down += fl.0.bytes_between(t0, t1).1;
        std::thread::sleep(Duration::from_millis(100));
        exists_seen(&fl.1, &mut seen);
        let f = floor_at(&seen, base + i as u32 + 1).context("the floor saw no EXISTS")?;
        match shown {
            Some(c) => {
                phase.floor.push((clock.unix(f) - clock.unix(t0)) * 1e3);
                phase.added.push((c.at - clock.unix(f)) * 1e3);
                if let Some(p) = link.first_down(t0) {
                    phase.own.push((c.at - clock.unix(p)) * 1e3);
                }
            }
            None => phase.missed += 1,
        }
        // Read elsewhere: Mailnag wakes up for the flag change and idles again.
        sender.command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)"))?;
        let _ = m.wait_idle(Duration::from_secs(10));
    }
    m.stop();
    phase.up_per_msg = up as f64 / n as f64;
    phase.down_per_msg = down as f64 / n as f64;
    phase.floor_down_per_msg = floor_down as f64 / n as f64;
    eprintln!(
        "  links mailnag rtt {rtt_ms}: added p50 {} ms, missed {}",
        f1(Summary::of(&phase.added).p50),
        phase.missed
    );
    Ok(phase)
}

pub fn run(plan: Plan, clock: Clock) -> Result<Links> {
    let names = users(&plan.rtts_ms);
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(&names),
        ..Default::default()
    })?;
    let dc_idle = Dovecot::start(DovecotOptions {
        users: user_pairs(&names),
        capabilities: Some(CAPABILITIES_WITHOUT_NOTIFY.to_owned()),
        ..Default::default()
    })?;
    let mut at = Vec::new();
    for &rtt in &plan.rtts_ms {
        let mut a = one_rtt(&dc, &dc_idle, rtt, &plan, clock);
        if plan.runs("startup") {
            eprintln!("links {rtt} ms: connect → push");
            match startup(&dc, "lkstart", rtt, true) {
                Ok(s) => a.startup = Some(s),
                Err(e) => a.failed.push(("connect → push".into(), format!("{e:#}"))),
            }
        }
        at.push(a);
    }
    fn skipped<T>() -> Outcome<T> {
        Outcome::Skipped("not run".into())
    }
    let named = if plan.runs("startup") {
        eprintln!("links: connect → push over plaintext (names the round trips)");
        Outcome::from_result(startup(&dc, "lkstart", 100, false))
    } else {
        skipped()
    };
    let (flag_notify, flag_idle) = if plan.runs("flags") {
        eprintln!("links: bytes per flag change with {PREFILLED_UNREAD} unread");
        (
            Outcome::from_result(flag_bytes(&dc, "lkflag", plan.flag_changes)),
            Outcome::from_result(flag_bytes(&dc_idle, "lkflag", plan.flag_changes)),
        )
    } else {
        (skipped(), skipped())
    };
    Ok(Links {
        plan,
        at,
        flag_notify,
        flag_idle,
        named,
    })
}

fn rt(ms: f64, rtt: u64) -> String {
    if ms.is_finite() {
        format!("{:.2}", ms / rtt as f64)
    } else {
        "n/a".into()
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn mean_bytes(v: &[(u64, u64)]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    (
        v.iter().map(|b| b.0).sum::<u64>() as f64 / n,
        v.iter().map(|b| b.1).sum::<u64>() as f64 / n,
    )
}

fn client_name(c: &str) -> &'static str {
    match c {
        "cli" => "`pushmail-cli`, NOTIFY server",
        "idle" => "`pushmail-cli`, IDLE-only server",
        "tray" => "`pushmail` tray (Notify call), NOTIFY server",
        "mailnag" => "Mailnag 2.2 (Notify call)",
        _ => "?",
    }
}

impl Links {
    fn phase(&self, rtt: u64, client: &str, spacing: u64) -> Option<&Phase> {
        self.at
            .iter()
            .find(|a| a.rtt_ms == rtt)?
            .phases
            .iter()
            .find(|p| p.client == client && p.spacing_ms == spacing)
    }

    pub fn json(&self) -> Value {
        let startup = |s: &Startup| {
            json!({"rtt_ms": s.rtt_ms, "tls": s.tls, "elapsed_ms": s.elapsed_ms,
                   "flights": s.flights.iter().map(|f| json!({"at_ms": f.at_ms, "up": f.up, "down": f.down, "what": f.what, "answer": f.answer})).collect::<Vec<_>>()})
        };
        json!({
            "plan": {"rtts_ms": self.plan.rtts_ms, "n": self.plan.n, "mailnag_n": self.plan.mailnag_n,
                     "reads": self.plan.reads, "flag_changes": self.plan.flag_changes},
            "at": self.at.iter().map(|a| json!({
                "rtt_ms": a.rtt_ms,
                "phases": a.phases.iter().map(Phase::json).collect::<Vec<_>>(),
                "failed": a.failed,
                "reads_ms": a.reads, "reads_missed": a.reads_missed,
                "startup": a.startup.as_ref().map(startup),
            })).collect::<Vec<_>>(),
            "flag_notify": self.flag_notify.json(|v| json!(v)),
            "flag_idle": self.flag_idle.json(|v| json!(v)),
            "named": self.named.json(startup),
        })
    }

    /// Round trips of a start-up: the TCP handshake plus one per client flight.
    fn round_trips(s: &Startup) -> usize {
        1 + s.flights.len()
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "#### Push latency over the floor, in ms and in round trips\n\n\
             {n} deliveries per client and pattern (Mailnag: {mn}). *Added* is the client's \
             moment − the floor's `* n EXISTS`, per delivery; *in RTT* is added ÷ RTT. *Own work* \
             (one at a time only) is the client's moment − the first server bytes at its own \
             socket after the APPEND, in RTT: what the client costs once the push reached it, \
             without Dovecot's per-session timing. In a burst each Dovecot session (the floor's, \
             the client's) runs its own 500 ms notify chain, so a client that stays in IDLE sees \
             every other message ~300 ms before or after the floor: *added* falls in two clusters \
             near ±300 ms and its p50 and p99 say little; the means and the client's own times \
             after the APPEND say more there. Bytes: through the client's link per delivery, TLS \
             records included (the floor, plaintext, received ~{floor_b} bytes per \
             delivery).\n\n\
             | RTT | client | deliveries | shown / missed / repeated | floor, p50 / mean (ms after APPEND) | client, p50 / mean (ms after APPEND) | added p50 / p99 (ms) | added p50 / p99 (RTT) | added, mean (RTT) | own work p50 / p99 (RTT) | bytes per message up / down |\n\
             |---|---|---|---|---|---|---|---|---|---|---|",
            n = self.plan.n,
            mn = self.plan.mailnag_n,
            floor_b = self
                .at
                .iter()
                .flat_map(|a| a.phases.iter())
                .find(|p| p.client == "cli" && p.spacing_ms == 700)
                .map(|p| format!("{:.0}", p.floor_down_per_msg))
                .unwrap_or_else(|| "?".into()),
        );
        for a in &self.at {
            for client in ["cli", "idle", "tray", "mailnag"] {
                for p in a.phases.iter().filter(|p| p.client == client) {
                    let ad = Summary::of(&p.added);
                    let fl = Summary::of(&p.floor);
                    let own = Summary::of(&p.own);
                    let apart = if p.spacing_ms == 0 {
                        "one at a time, marked read".to_owned()
                    } else if p.spacing_ms >= ISOLATED_MS {
                        format!("one at a time, ≥ {:.1} s", p.spacing_ms as f64 / 1000.0)
                    } else {
                        format!("burst, {:.1} s", p.spacing_ms as f64 / 1000.0)
                    };
                    // When the client showed each message, from the APPEND.
                    let shown: Vec<f64> =
                        p.floor.iter().zip(&p.added).map(|(f, a)| f + a).collect();
                    let sh = Summary::of(&shown);
                    let _ = writeln!(
                        s,
                        "| {} ms | {} | {apart} | {} / {} / {} | {} / {:.0} | {} / {:.0} | **{} / {}** | **{} / {}** | {} | {} | {:.0} / {:.0} |",
                        a.rtt_ms,
                        client_name(client),
                        p.added.len(),
                        p.missed,
                        p.duplicates,
                        f1(fl.p50),
                        mean(&p.floor),
                        f1(sh.p50),
                        mean(&shown),
                        f1(ad.p50),
                        f1(ad.p99),
                        rt(ad.p50, a.rtt_ms),
                        rt(ad.p99, a.rtt_ms),
                        rt(mean(&p.added), a.rtt_ms),
                        if p.own.is_empty() {
                            "–".into()
                        } else {
                            format!("{} / {}", rt(own.p50, a.rtt_ms), rt(own.p99, a.rtt_ms))
                        },
                        p.up_per_msg,
                        p.down_per_msg
                    );
                }
            }
            for (what, why) in &a.failed {
                let _ = writeln!(
                    s,
                    "| {} ms | {what} | | {} | | | | | | | |",
                    a.rtt_ms,
                    crate::footprint::short(why)
                );
            }
        }

        let _ = writeln!(
            s,
            "\n#### Count drop after a read elsewhere (NOTIFY server)\n\n\
             A message marked `\\Seen` by another session; time from the floor's \
             `* n FETCH (FLAGS (\\Seen))` to `pushmail-cli`'s `unread` event.\n\n\
             | RTT | reads | p50 (ms) | p99 (ms) | p50 (RTT) | missed |\n|---|---|---|---|---|---|"
        );
        for a in &self.at {
            let r = Summary::of(&a.reads);
            let _ = writeln!(
                s,
                "| {} ms | {} | **{}** | {} | {} | {} |",
                a.rtt_ms,
                r.n,
                f1(r.p50),
                f1(r.p99),
                rt(r.p50, a.rtt_ms),
                a.reads_missed
            );
        }

        let _ = writeln!(
            s,
            "\n#### Bytes after one flag change, {PREFILLED_UNREAD} unread in the folder\n\n\
             Plaintext IMAP through a counting proxy; from the STORE on another session until \
             `pushmail-cli` reported the new count and the link was quiet for 1 s.\n\n\
             | server | changes | up | down | total |\n|---|---|---|---|---|"
        );
        for (name, o) in [
            ("NOTIFY (default Dovecot)", &self.flag_notify),
            ("IDLE only", &self.flag_idle),
        ] {
            match o {
                Outcome::Done(v) => {
                    let (u, d) = mean_bytes(v);
                    let _ = writeln!(
                        s,
                        "| {name} | {} | {u:.0} | {d:.0} | **{:.0}** |",
                        v.len(),
                        u + d
                    );
                }
                other => {
                    let _ = writeln!(s, "| {name} | {} | | | |", other.reason());
                }
            }
        }

        let _ = writeln!(
            s,
            "\n#### Connect → push, one account, implicit TLS\n\n\
             From the TCP connect to the IDLE continuation at the client. Round trips: the TCP \
             handshake plus one per client flight (what the client sends before it has to wait \
             for the server again).\n\n\
             | RTT | round trips | elapsed (ms) | elapsed ÷ RTT |\n|---|---|---|---|"
        );
        for a in &self.at {
            match &a.startup {
                Some(st) => {
                    let _ = writeln!(
                        s,
                        "| {} ms | **{}** | {:.0} | {:.2} |",
                        a.rtt_ms,
                        Self::round_trips(st),
                        st.elapsed_ms,
                        st.elapsed_ms / a.rtt_ms as f64
                    );
                }
                None => {
                    let _ = writeln!(s, "| {} ms | not measured | | |", a.rtt_ms);
                }
            }
        }
        if let Some(st) = self.at.iter().rev().find_map(|a| a.startup.as_ref()) {
            let _ = writeln!(
                s,
                "\nThe flights at {} ms (TLS records as the link saw them):\n\n\
                 | # | client sends | server answers |\n|---|---|---|\n| 1 | TCP SYN (emulated) | SYN-ACK |",
                st.rtt_ms
            );
            for (i, f) in st.flights.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "| {} | {} ({} B) | {} ({} B) |",
                    i + 2,
                    f.what.replace('|', "/"),
                    f.up,
                    f.answer.replace('|', "/"),
                    f.down
                );
            }
        }
        if let Outcome::Done(st) = &self.named {
            let _ = writeln!(
                s,
                "\nThe same start-up over plaintext ({} round trips, {:.0} ms at {} ms RTT), which \
                 names the IMAP exchanges:\n\n\
                 | # | client sends | server answers |\n|---|---|---|\n| 1 | TCP SYN (emulated) | SYN-ACK |",
                Self::round_trips(st),
                st.elapsed_ms,
                st.rtt_ms
            );
            for (i, f) in st.flights.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "| {} | {} ({} B) | {} ({} B) |",
                    i + 2,
                    f.what.replace('|', "/"),
                    f.up,
                    f.answer.replace('|', "/"),
                    f.down
                );
            }
        }
        s
    }

    /// The README summary's row: added latency on a 100 ms link (or the middle RTT run).
    pub fn summary_line(&self) -> Option<String> {
        let r = *self.plan.rtts_ms.get(self.plan.rtts_ms.len() / 2)?;
        let cell = |client: &str, spacing: u64| {
            self.phase(r, client, spacing).map(|p| {
                let a = Summary::of(&p.added).p50;
                format!("{} ms ({} RTT)", f1(a), rt(a, r))
            })
        };
        let notify = cell("cli", SPACINGS_MS[0])?;
        let idle = cell("idle", SPACINGS_MS[0]).unwrap_or_else(|| "n/a".into());
        let mailnag = cell("mailnag", 0).unwrap_or_else(|| "n/a".into());
        Some(format!(
            "| Added over the floor on a {r} ms RTT link, p50 (NOTIFY server / IDLE-only server) | {notify} / {idle} | {mailnag} |"
        ))
    }

    /// Target rows: (target, measured, met).
    pub fn targets(&self) -> Vec<(String, String, Option<bool>)> {
        let mut rows = Vec::new();
        for spacing in SPACINGS_MS {
            let cells: Vec<(u64, f64)> = self
                .plan
                .rtts_ms
                .iter()
                .filter_map(|&r| {
                    self.phase(r, "cli", spacing)
                        .map(|p| (r, Summary::of(&p.added).p50))
                })
                .collect();
            if !cells.is_empty() {
                let text = cells
                    .iter()
                    .map(|(r, v)| format!("{r} ms: {} ms ({} RTT)", f1(*v), rt(*v, *r)))
                    .collect::<Vec<_>>()
                    .join("; ");
                rows.push((
                    format!(
                        "added over the floor, NOTIFY server, p50, any RTT ≤ 5 ms (0 RTT) — {:.1} s apart",
                        spacing as f64 / 1000.0
                    ),
                    text,
                    Some(cells.iter().all(|(_, v)| *v <= TARGET_NOTIFY_MS)),
                ));
            }
            let cells: Vec<(u64, f64)> = self
                .plan
                .rtts_ms
                .iter()
                .filter_map(|&r| {
                    self.phase(r, "idle", spacing)
                        .map(|p| (r, Summary::of(&p.added).p50))
                })
                .collect();
            if !cells.is_empty() {
                let text = cells
                    .iter()
                    .map(|(r, v)| format!("{r} ms: {} ms ({} RTT)", f1(*v), rt(*v, *r)))
                    .collect::<Vec<_>>()
                    .join("; ");
                rows.push((
                    format!(
                        "added over the floor, IDLE-only server, p50 ≤ 1 RTT + 5 ms — {:.1} s apart",
                        spacing as f64 / 1000.0
                    ),
                    text,
                    Some(cells.iter().all(|(r, v)| *v <= *r as f64 + 5.0)),
                ));
            }
        }
        let reads: Vec<(u64, f64)> = self
            .at
            .iter()
            .filter(|a| !a.reads.is_empty())
            .map(|a| (a.rtt_ms, Summary::of(&a.reads).p50))
            .collect();
        if !reads.is_empty() {
            rows.push((
                "count drop after a read elsewhere, NOTIFY server ≤ 5 ms after the server's push (p50)".into(),
                reads
                    .iter()
                    .map(|(r, v)| format!("{r} ms: {} ms", f1(*v)))
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(reads.iter().all(|(_, v)| *v <= TARGET_NOTIFY_MS)),
            ));
        }
        match &self.flag_notify {
            Outcome::Done(v) => {
                let (u, d) = mean_bytes(v);
                let idle = match &self.flag_idle {
                    Outcome::Done(w) => {
                        let (a, b) = mean_bytes(w);
                        format!("; IDLE-only server {:.0}", a + b)
                    }
                    _ => String::new(),
                };
                rows.push((
                    "wire bytes after a flag change with 1,000 unread ≤ 300 bytes".into(),
                    format!("NOTIFY server {:.0} bytes{idle}", u + d),
                    Some(u + d <= TARGET_FLAG_BYTES),
                ));
            }
            other => rows.push((
                "wire bytes after a flag change with 1,000 unread".into(),
                other.reason(),
                None,
            )),
        }
        let starts: Vec<(u64, usize)> = self
            .at
            .iter()
            .filter_map(|a| a.startup.as_ref().map(|s| (a.rtt_ms, Self::round_trips(s))))
            .collect();
        if !starts.is_empty() {
            rows.push((
                "connect → push, 1 account, implicit TLS ≤ 5 RTT".into(),
                starts
                    .iter()
                    .map(|(r, n)| format!("{n} round trips at {r} ms"))
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(starts.iter().all(|(_, n)| *n <= TARGET_CONNECT_RTT)),
            ));
        }
        let mn: Vec<String> = self
            .plan
            .rtts_ms
            .iter()
            .filter_map(|&r| {
                self.phase(r, "mailnag", 0).map(|p| {
                    let a = Summary::of(&p.added);
                    format!("{r} ms: p50 {} RTT, p99 {} RTT", rt(a.p50, r), rt(a.p99, r))
                })
            })
            .collect();
        if !mn.is_empty() {
            rows.push((
                "Mailnag on the same links, in RTT units".into(),
                mn.join("; "),
                None,
            ));
        }
        rows
    }
}
