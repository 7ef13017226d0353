//! Big mailbox: how long from LOGIN to watching, how much memory and how many bytes a large
//! INBOX costs, next to a small one. Plaintext through the counting proxy, so every byte is
//! seen; Dovecot's index is warmed first (a user's server has its index too).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Result;
use pushmail_tests::{Dovecot, DovecotOptions};
use serde_json::{Value, json};

use crate::Outcome;
use crate::common::{CliWatch, Scratch, Via, f1, mb, ratio, usage, user_pairs};
use crate::proxy::Proxy;

/// Unread messages among the filler: a big mailbox is mostly read mail plus a few unread.
const UNREAD: usize = 10;
/// Messages delivered while Pushmail is stopped, found by the restart.
const WHILE_AWAY: usize = 10;
/// Pause after writing to the Maildir before anyone looks (see `one_size`).
const SETTLE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct Run {
    pub messages: usize,
    pub case: &'static str,
    pub login_to_push_ms: f64,
    /// Of that, the time Pushmail took between a server answer and its next command (the
    /// rest is the server working); the final reaction to the last answer is included.
    pub client_ms: f64,
    pub start_to_push_ms: f64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub rss_mb: f64,
    /// The private part of RSS (heap): what could grow with the mailbox. The rest is program
    /// code mapped from disk, which varies by a few hundred kB with the code paths touched.
    pub anon_mb: f64,
    pub hwm_mb: f64,
    pub catch_up: usize,
    /// The server's share: a raw client's LOGIN sent → SELECT and `UID SEARCH UNSEEN`
    /// answered, on the mailbox in the same state.
    pub raw_ms: f64,
}

/// What the server alone takes for what Pushmail does before it watches: LOGIN, SELECT INBOX,
/// UID SEARCH UNSEEN, timed from sending LOGIN like Pushmail's figure.
fn raw_floor(dc: &Dovecot, user: &str) -> Result<f64> {
    let mut imap = pushmail_tests::RawImap::connect(dc.host(), dc.imap_port())?;
    let t = Instant::now();
    imap.login(user, crate::common::PASSWORD)?;
    imap.select("INBOX")?;
    imap.command("UID SEARCH UNSEEN")?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    imap.logout()?;
    Ok(ms)
}

fn login_at(proxy: &Proxy, from: Instant) -> Option<Instant> {
    [" LOGIN ", " AUTHENTICATE "]
        .iter()
        .filter_map(|n| proxy.first_up(n, from))
        .min()
}

fn start(
    scratch: &Scratch,
    config: &std::path::Path,
    proxy: &Proxy,
    n: usize,
    case: &'static str,
) -> Result<(Run, CliWatch)> {
    let mark = Instant::now();
    let mut watch = CliWatch::spawn(scratch, config)?;
    let push = watch.wait_push(1, Duration::from_secs(120))?;
    let Some(login) = login_at(proxy, mark) else {
        // Tags and command names only: arguments could carry credentials.
        let sent: Vec<String> = proxy
            .text_between(crate::proxy::Dir::Up, mark, Instant::now())
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        anyhow::bail!("Pushmail sent no LOGIN through the proxy; it sent: {sent:?}");
    };
    let (up, down) = proxy.bytes_between(mark, push);
    if std::env::var_os("PUSHMAIL_BENCH_TRACE").is_some() {
        eprintln!(
            "bigbox {n}, {case}: traffic from spawn to push\n{}",
            proxy.timeline(mark, push + Duration::from_millis(1))
        );
    }
    std::thread::sleep(Duration::from_secs(3));
    let u = usage(watch.pid());
    Ok((
        Run {
            messages: n,
            case,
            login_to_push_ms: push.saturating_duration_since(login).as_secs_f64() * 1e3,
            // Up to the IDLE command that follows the push report.
            client_ms: proxy
                .client_time(login, push + Duration::from_millis(5))
                .as_secs_f64()
                * 1e3,
            start_to_push_ms: push.duration_since(watch.spawned).as_secs_f64() * 1e3,
            bytes_down: down,
            bytes_up: up,
            rss_mb: mb(u.rss_kb),
            anon_mb: mb(u.anon_kb),
            hwm_mb: mb(u.hwm_kb),
            catch_up: watch.catch_up,
            raw_ms: f64::NAN,
        },
        watch,
    ))
}

fn one_size(n: usize) -> Result<Vec<Run>> {
    let user = "big".to_owned();
    let dc = Dovecot::start(DovecotOptions {
        users: user_pairs(std::slice::from_ref(&user)),
        ..Default::default()
    })?;
    let t = Instant::now();
    dc.fill(&user, "INBOX", n - UNREAD, true)?;
    dc.fill(&user, "INBOX", UNREAD, false)?;
    // Warm Dovecot's index and cache as on a server that has seen this mailbox before.
    let mut imap = dc.login(&user)?;
    imap.select("INBOX")?;
    imap.logout()?;
    eprintln!(
        "bigbox: {n} messages filled in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let proxy = Proxy::start(dc.imap_port())?;
    let scratch = Scratch::new()?;
    let config = scratch.write_config(
        &dc,
        std::slice::from_ref(&user),
        Via::Plain { port: proxy.port },
        "",
        "",
    )?;
    // Dovecot re-reads a Maildir directory whose mtime is very recent; waiting avoids charging
    // that to whoever looks first. (It still re-reads now and then: see the table's notes.)
    std::thread::sleep(SETTLE);
    let first_raw = raw_floor(&dc, &user)?;
    let (mut first, watch) = start(&scratch, &config, &proxy, n, "first start")?;
    first.raw_ms = first_raw;
    watch.stop();
    for i in 0..WHILE_AWAY {
        dc.deliver_simple(&user, "INBOX", &format!("While away {i}"))?;
    }
    std::thread::sleep(SETTLE);
    let restart_raw = raw_floor(&dc, &user)?;
    let (mut again, watch) = start(&scratch, &config, &proxy, n, "restart, 10 new while away")?;
    again.raw_ms = restart_raw;
    drop(watch);
    Ok(vec![first, again])
}

pub struct BigBox {
    pub sizes: Vec<(usize, Outcome<Vec<Run>>)>,
}

pub fn run(sizes: &[usize]) -> BigBox {
    BigBox {
        sizes: sizes
            .iter()
            .map(|&n| {
                eprintln!("bigbox: INBOX of {n}");
                (n, Outcome::from_result(one_size(n)))
            })
            .collect(),
    }
}

impl BigBox {
    fn first(&self, n: usize) -> Option<&Run> {
        self.sizes.iter().find_map(|(m, o)| match o {
            Outcome::Done(runs) if *m == n => runs.first(),
            _ => None,
        })
    }

    pub fn json(&self) -> Value {
        json!(self
            .sizes
            .iter()
            .map(|(n, o)| json!({"messages": n, "runs": o.json(|runs| json!(runs.iter().map(|r| json!({
                "messages": r.messages, "case": r.case, "login_to_push_ms": r.login_to_push_ms, "client_ms": r.client_ms,
                "start_to_push_ms": r.start_to_push_ms, "bytes_down": r.bytes_down,
                "bytes_up": r.bytes_up, "rss_mb": r.rss_mb, "anon_mb": r.anon_mb, "hwm_mb": r.hwm_mb,
                "catch_up": r.catch_up, "raw_ms": r.raw_ms,
            })).collect::<Vec<_>>()))}))
            .collect::<Vec<_>>())
    }

    pub fn markdown(&self) -> String {
        let mut s = format!(
            "### 4. Big mailbox\n\n\
             INBOX of N messages ({UNREAD} unread, the rest read), written as Maildir files, \
             Dovecot's index warmed. One account over plaintext through the counting proxy. The \
             restart finds {WHILE_AWAY} messages delivered while Pushmail was stopped. Before each \
             start a raw client logs in, SELECTs and searches for unread mail (the server's \
             share; 3 s after the last write). *Pushmail's own* is the time between each server \
             answer and Pushmail's next command, from the proxy's timeline; the rest of LOGIN → \
             push is Dovecot answering. At 100,000 messages Dovecot now and then re-reads the \
             whole Maildir (~0.1–0.45 s) on a SELECT or on the first FETCH of a new message, \
             whichever client asks; repeated raw SELECTs on the same mailbox vary from 11 to \
             420 ms.\n\n\
             | INBOX | case | LOGIN sent → push (ms) | of which Pushmail's own (ms) | raw client: LOGIN → SELECT + UID SEARCH UNSEEN answered (ms) | process start → push (ms) | bytes from server | bytes to server | RSS (MB) | of which heap, RssAnon (MB) | VmHWM (MB) | catch-up announced |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|\n"
        );
        for (n, o) in &self.sizes {
            match o {
                Outcome::Done(runs) => {
                    for r in runs {
                        let _ = writeln!(
                            s,
                            "| {n} | {} | **{:.0}** | {:.1} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} |",
                            r.case,
                            r.login_to_push_ms,
                            r.client_ms,
                            r.raw_ms,
                            r.start_to_push_ms,
                            r.bytes_down,
                            r.bytes_up,
                            f1(r.rss_mb),
                            f1(r.anon_mb),
                            f1(r.hwm_mb),
                            r.catch_up
                        );
                    }
                }
                other => {
                    let _ = writeln!(s, "| {n} | {} | | | | | | | | | | |", other.reason());
                }
            }
        }
        let sizes: Vec<usize> = self.sizes.iter().map(|(n, _)| *n).collect();
        if let (Some(&small), Some(&big)) = (sizes.iter().min(), sizes.iter().max())
            && let (Some(a), Some(b)) = (self.first(small), self.first(big))
            && small != big
        {
            let _ = writeln!(
                s,
                "\nHeap with {big} messages vs {small}: {} ({} vs {} MB; RSS {} vs {} MB); bytes from the server: {} vs {}.",
                ratio(b.anon_mb, a.anon_mb),
                f1(b.anon_mb),
                f1(a.anon_mb),
                f1(b.rss_mb),
                f1(a.rss_mb),
                b.bytes_down,
                a.bytes_down
            );
        }
        s.push_str(
            "\n*What it means*: Pushmail never lists a folder's messages: SELECT, one `UID FETCH \
             watermark:*` for what is new since last time, and `UID SEARCH UNSEEN` for the \
             count, so the mailbox's size shows up only in Dovecot's own SELECT time, never in \
             Pushmail's memory or in the bytes it fetches. *What would make it better*: nothing \
             on Pushmail's side for large mailboxes; for folders with many *unread* messages see \
             the unread search in the wire cost.\n",
        );
        s
    }

    pub fn targets(&self) -> Vec<(String, String, Option<bool>)> {
        let mut rows = Vec::new();
        let big = self.sizes.iter().map(|(n, _)| *n).max().unwrap_or(0);
        let small = self.sizes.iter().map(|(n, _)| *n).min().unwrap_or(0);
        let worst = self.sizes.iter().find_map(|(m, o)| match o {
            Outcome::Done(runs) if *m == big => {
                runs.iter().map(|r| r.login_to_push_ms).reduce(f64::max)
            }
            _ => None,
        });
        match worst {
            Some(ms) => rows.push((
                format!("{big}-message mailbox: watching within 1 s of login"),
                format!("{ms:.0} ms (slowest of first start and restart)"),
                Some(ms <= 1000.0),
            )),
            None => rows.push((
                "big mailbox: watching within 1 s".into(),
                "not measured".into(),
                None,
            )),
        }
        match (self.first(small), self.first(big)) {
            (Some(a), Some(b)) if small != big => rows.push((
                format!(
                    "memory independent of mailbox size (heap at {big} messages within 10 % of {small})"
                ),
                format!(
                    "heap {} vs {} MB (RSS {} vs {} MB)",
                    f1(b.anon_mb),
                    f1(a.anon_mb),
                    f1(b.rss_mb),
                    f1(a.rss_mb)
                ),
                Some(b.anon_mb <= a.anon_mb * 1.10),
            )),
            _ => rows.push((
                "memory independent of mailbox size".into(),
                "not measured".into(),
                None,
            )),
        }
        rows
    }
}
