//! POP3 accounts end to end: the real `pushmail-cli watch --json` against Debian's real
//! Dovecot POP3 server (`dovecot-pop3d`, on the harness's private instance) and, for the faults
//! a real server cannot produce on demand, the harness's scripted POP3 server.
//!
//! What a user of a POP3 account relies on, and what each test proves:
//! - new mail is announced once, with sender and subject, over implicit TLS and over STLS;
//! - mail already in the mailbox (1,000 messages) is not announced, and costs no header reads;
//! - through an outage of the server and a restart of Pushmail, nothing is lost or repeated;
//! - STLS is strict: missing, refused or with bytes injected after its `+OK`, no credential is
//!   ever sent;
//! - a wrong password stops the logins (the server would lock the account otherwise);
//! - a huge header does not block the mail after it;
//! - Pushmail never deletes, downloads or changes anything: every Dovecot POP3 session says
//!   `del=0` and `retr=0`, and IMAP still sees every message, unseen;
//! - a server without UIDL, or with a UIDL listing that cannot be trusted, is an error shown
//!   to the user, never a flood of announcements.
//!
//! Every account polls every second (`common::POP3_FAST`), so each test takes seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod faults;

use std::time::{Duration, Instant};

use common::{Pushmail, Via, Watch, deliver_offline, unique_id};
use faults::{SCRIPTED_PW, assert_each_once, eventually, scripted_account, wait_account_state};
use pushmail_tests::{
    CertKind, Dovecot, DovecotOptions, Listen, Pop3Script, ScriptedPop3, message,
};
use serde_json::Value;

const PW: &str = "alicepw";
/// Generous bound for anything that takes one or two 1 s polls.
const SHORT: Duration = Duration::from_secs(10);
/// A poll interval and a bit: long enough for at least one more check to have run.
const ONE_POLL: Duration = Duration::from_millis(1500);

fn mail(subject: &str) -> Vec<u8> {
    message(
        "Ana Pérez <ana@example.com>",
        "alice@example.org",
        subject,
        "body",
    )
}

/// Extra account lines for a POP3 account on a scripted server (see `faults::scripted_account`).
fn scripted_pop3(pm: &Pushmail, id: &str, server: &ScriptedPop3, security: &str) -> String {
    let ca = (security != "plain").then(|| server.ca_file());
    scripted_account(
        pm,
        id,
        server.port(),
        security,
        ca,
        "protocol = \"pop3\"\npoll_interval_secs = 1\nmax_logins_per_minute = 60",
    )
}

/// `unread` counts of `account` seen so far, in order, repeats collapsed.
fn unread_counts(w: &Watch, account: &str) -> Vec<u64> {
    let mut counts: Vec<u64> = Vec::new();
    for (_, v) in &w.seen {
        if v["event"] == "unread" && v["account"] == account {
            let n = v["count"].as_u64().unwrap();
            if counts.last() != Some(&n) {
                counts.push(n);
            }
        }
    }
    counts
}

/// `new_mail` events of `account` seen so far.
fn new_mails_of<'a>(w: &'a Watch, account: &str) -> Vec<&'a Value> {
    w.new_mails()
        .into_iter()
        .filter(|v| v["account"] == account)
        .collect()
}

/// Like `Watch::wait_for`, but an event that already arrived counts: with several accounts
/// checked independently, the one waited for second may have spoken first.
fn wait_seen(
    w: &mut Watch,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (Instant, Value) {
    if let Some((at, v)) = w.seen.iter().find(|(_, v)| pred(v)) {
        return (*at, v.clone());
    }
    w.wait_for(timeout, what, pred)
}

/// Waits for `account`'s first state event carrying a problem of one of `kinds`; returns it.
fn wait_problem(w: &mut Watch, account: &str, kinds: &[&str], timeout: Duration) -> Value {
    wait_seen(w, timeout, &format!("{account}: problem {kinds:?}"), |v| {
        v["event"] == "state"
            && v["account"] == account
            && kinds
                .iter()
                .any(|k| v["problem"]["kind"].as_str() == Some(*k))
    })
    .1
}

/// What every POP3 client of `user` did to Dovecot, checked from the server's side: each
/// finished session deleted nothing and downloaded nothing (`del=0`, `retr=0`), at least
/// `min_sessions` ran, and over IMAP all `messages` are still there, none `\Seen` or
/// `\Deleted`. Returns the number of sessions.
fn assert_mailbox_untouched(dc: &Dovecot, user: &str, messages: u64, min_sessions: usize) -> usize {
    let logouts = dc.pop3_logouts(user);
    assert!(
        logouts.len() >= min_sessions,
        "{} POP3 sessions, expected at least {min_sessions}:\n{}",
        logouts.len(),
        dc.log()
    );
    for l in &logouts {
        assert_eq!(
            (l.del, l.retr),
            (0, 0),
            "a session deleted or downloaded: {l:?}"
        );
    }
    let status = dc.status(user, "INBOX").unwrap();
    assert_eq!(status.messages, messages, "{status:?}");
    assert_eq!(
        status.unseen, messages,
        "a message was marked read: {status:?}"
    );
    let mut imap = dc.login(user).unwrap();
    imap.select("INBOX").unwrap();
    let flags = imap.command("UID FETCH 1:* (FLAGS)").unwrap();
    let fetched: Vec<&String> = flags.iter().filter(|l| l.contains(" FETCH ")).collect();
    assert_eq!(fetched.len() as u64, messages, "{flags:#?}");
    for line in fetched {
        assert!(
            !line.contains("\\Seen") && !line.contains("\\Deleted"),
            "flags changed: {line}"
        );
    }
    imap.logout().unwrap();
    logouts.len()
}

/// 1. Each new message is announced exactly once, with its sender and subject, and the count
///    of new mail goes 1, 2, 3 — over implicit TLS (pop3s) and over STLS, side by side.
#[test]
fn new_mail_is_announced_once_over_tls_and_stls() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    dc.add_user("bob", "bobpw").unwrap();
    let pm = Pushmail::new();
    let (tls, stls) = (unique_id("pop3tls"), unique_id("pop3stls"));
    pm.write_config(&[
        pm.pop3_account_toml(&dc, &tls, "alice", Via::Tls, PW, ""),
        pm.pop3_account_toml(&dc, &stls, "bob", Via::Starttls, "bobpw", ""),
    ]);
    let mut w = pm.watch(&[]);
    for id in [&tls, &stls] {
        wait_seen(&mut w, SHORT, &format!("{id}: polling"), |v| {
            v["event"] == "state" && v["account"] == id.as_str() && v["state"] == "polling"
        });
    }
    for i in 1..=3u64 {
        let subject = format!("Pop news {i}");
        let sent = Instant::now();
        dc.deliver("alice", "INBOX", &mail(&subject)).unwrap();
        dc.deliver("bob", "INBOX", &mail(&subject)).unwrap();
        for id in [&tls, &stls] {
            let (at, ev) = wait_seen(&mut w, SHORT, &format!("{id}: {subject}"), |v| {
                v["event"] == "new_mail" && v["account"] == id.as_str() && v["subject"] == subject
            });
            // One poll interval (1 s, ±10 %) plus the check itself.
            let latency = at.duration_since(sent);
            assert!(
                latency < Duration::from_secs(3),
                "{id}: latency {latency:?}"
            );
            assert_eq!(ev["folder"], "INBOX", "{ev}");
            assert_eq!(ev["uidvalidity"], 0, "{ev}");
            assert!(ev["uid"].as_u64().is_some(), "{ev}");
            assert_eq!(ev["from_name"], "Ana Pérez", "{ev}");
            assert_eq!(ev["from_address"], "ana@example.com", "{ev}");
            assert_eq!(ev["catch_up"], false, "{ev}");
        }
        for id in [&tls, &stls] {
            wait_seen(&mut w, SHORT, &format!("{id}: unread {i}"), |v| {
                v["event"] == "unread" && v["account"] == id.as_str() && v["count"] == i
            });
        }
        // Spaced out: the next message arrives after at least one more (empty) check.
        w.collect_for(ONE_POLL);
    }
    w.collect_for(ONE_POLL);
    for id in [&tls, &stls] {
        let mails = new_mails_of(&w, id);
        assert_eq!(mails.len(), 3, "{id}: {mails:#?}");
        let uids: std::collections::BTreeSet<u64> =
            mails.iter().map(|v| v["uid"].as_u64().unwrap()).collect();
        assert_eq!(
            uids.len(),
            3,
            "{id}: each message has its own number: {mails:#?}"
        );
        let counts = unread_counts(&w, id);
        assert!(
            counts.ends_with(&[1, 2, 3]) && counts.iter().all(|&c| c <= 3),
            "{id}: unread counts {counts:?}"
        );
    }
    assert!(w.stop(), "watch did not exit cleanly on SIGTERM");
    assert_mailbox_untouched(&dc, "alice", 3, 3);
    assert_mailbox_untouched(&dc, "bob", 3, 3);
}

/// 2. 1,000 messages already in the mailbox are old news: nothing is announced, and their
///    headers are not read (a slow server would take minutes); then a new one is announced
///    once.
#[test]
fn a_thousand_old_messages_are_not_announced() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    dc.fill("alice", "INBOX", 1000, false).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pop3k");
    pm.write_config(&[pm.pop3_account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    // Two more checks after the first.
    w.collect_for(2 * ONE_POLL);
    assert!(new_mails_of(&w, &id).is_empty(), "{:#?}", w.new_mails());
    assert!(
        unread_counts(&w, &id).iter().all(|&c| c == 0),
        "old mail counted as new: {:?}",
        unread_counts(&w, &id)
    );
    let tops: u64 = dc.pop3_logouts("alice").iter().map(|l| l.top).sum();
    assert!(
        tops <= 5,
        "{tops} headers read for mail that was already there"
    );

    let sent = Instant::now();
    dc.deliver("alice", "INBOX", &mail("The thousand and first"))
        .unwrap();
    let (at, ev) = w.wait_new_mail("The thousand and first", SHORT);
    assert!(at.duration_since(sent) < Duration::from_secs(3));
    assert_eq!(ev["account"], id.as_str());
    // POP3 has no INTERNALDATE (and a Received: header is the sender's word): no delay.
    assert!(
        ev.get("received_at").is_none() && ev.get("delay_ms").is_none(),
        "{ev}"
    );
    w.wait_for(SHORT, "unread 1", |v| {
        v["event"] == "unread" && v["account"] == id.as_str() && v["count"] == 1
    });
    w.collect_for(2 * ONE_POLL);
    assert_eq!(new_mails_of(&w, &id).len(), 1, "{:#?}", w.new_mails());
    assert!(w.stop());
    assert_mailbox_untouched(&dc, "alice", 1001, 3);
}

/// 3. An outage: the server goes away (backoff), a message arrives while it is down, the server
///    comes back (polling again) and the message is announced once; nothing before or after
///    is repeated.
#[test]
fn mail_delivered_during_an_outage_is_announced_once() {
    let mut dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pop3out");
    pm.write_config(&[pm.pop3_account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    dc.deliver("alice", "INBOX", &mail("Before outage"))
        .unwrap();
    w.wait_new_mail("Before outage", SHORT);

    dc.stop().unwrap();
    let v = wait_account_state(&mut w, &id, "backoff", SHORT);
    assert_eq!(v["problem"]["kind"], "network", "{v}");
    deliver_offline(&dc, "alice", &mail("During outage"));
    // Stay down for a couple of failed checks.
    w.collect_for(2 * ONE_POLL);
    dc.start_again().unwrap();
    let back = Instant::now();
    let (_, ev) = w.wait_new_mail("During outage", SHORT);
    assert_eq!(
        ev["catch_up"], true,
        "found on the first check after the outage: {ev}"
    );
    // backoff_max_secs = 2, then one check.
    assert!(
        back.elapsed() < Duration::from_secs(5),
        "{:?}",
        back.elapsed()
    );
    wait_account_state(&mut w, &id, "polling", SHORT);
    dc.deliver("alice", "INBOX", &mail("After outage")).unwrap();
    w.wait_new_mail("After outage", SHORT);
    w.collect_for(2 * ONE_POLL);
    assert_each_once(&w, &["Before outage", "During outage", "After outage"]);
    assert_eq!(new_mails_of(&w, &id).len(), 3, "{:#?}", w.new_mails());
    let states: Vec<&str> = w
        .seen
        .iter()
        .filter(|(_, v)| v["event"] == "state" && v["account"] == id.as_str())
        .map(|(_, v)| v["state"].as_str().unwrap())
        .collect();
    let down = states.iter().position(|s| *s == "backoff").unwrap();
    assert!(
        states[down..].contains(&"polling"),
        "never back to polling: {states:?}"
    );
    assert!(w.stop());
    assert_mailbox_untouched(&dc, "alice", 3, 3);
}

/// 4. Pushmail killed and started again with the same state: only what arrived meanwhile is
///    announced, once; nothing seen before (nor mail older than the account) is repeated.
#[test]
fn restarting_pushmail_announces_only_what_arrived_meanwhile() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pop3restart");
    pm.write_config(&[pm.pop3_account_toml(&dc, &id, "alice", Via::Starttls, PW, "")]);
    dc.deliver("alice", "INBOX", &mail("Ancient")).unwrap();
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    dc.deliver("alice", "INBOX", &mail("First run")).unwrap();
    w.wait_new_mail("First run", SHORT);
    // Let the announcement be recorded, then no goodbye: SIGKILL.
    w.collect_for(ONE_POLL);
    w.kill9();
    dc.deliver("alice", "INBOX", &mail("While off 1")).unwrap();
    dc.deliver("alice", "INBOX", &mail("While off 2")).unwrap();

    let mut w2 = pm.watch(&[]);
    w2.wait_new_mail("While off 2", SHORT);
    w2.collect_for(2 * ONE_POLL);
    let mut subjects: Vec<&str> = new_mails_of(&w2, &id)
        .iter()
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["While off 1", "While off 2"], "{:#?}", w2.seen);
    assert!(
        new_mails_of(&w2, &id).iter().all(|v| v["catch_up"] == true),
        "{:#?}",
        w2.new_mails()
    );
    assert_eq!(w.count_new_mail("Ancient"), 0);
    assert_eq!(w.count_new_mail("First run"), 1);
    assert!(w2.stop());
    assert_mailbox_untouched(&dc, "alice", 4, 3);
}

/// 5. STLS is strict: a server that does not offer it, refuses it, or sends bytes after its
///    `+OK` (for a careless client to read as if they came through TLS) gets no credential —
///    not even the user name — and the account needs attention. An honest STLS server beside
///    them gets the login, over TLS.
#[test]
fn stls_missing_refused_or_injected_gets_no_credential() {
    let honest = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::stls()).unwrap();
    let missing = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve()).unwrap();
    let refused = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::stls_refused()).unwrap();
    let injected = ScriptedPop3::start(Listen::Plain, |_| {
        Pop3Script::stls_injected("+OK Logged in.\r\n")
    })
    .unwrap();
    for s in [&honest, &missing, &refused, &injected] {
        s.deliver(&mail("Already there"));
    }
    let pm = Pushmail::new();
    let names = ["honest", "missing", "refused", "injected"];
    let ids: Vec<String> = names
        .iter()
        .map(|n| unique_id(&format!("stls{n}")))
        .collect();
    let servers = [&honest, &missing, &refused, &injected];
    pm.write_config(
        &ids.iter()
            .zip(servers)
            .map(|(id, s)| scripted_pop3(&pm, id, s, "starttls"))
            .collect::<Vec<_>>(),
    );
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &ids[0], "polling", SHORT);
    let expected = [
        ("missing", "starttls"),
        ("refused", "starttls"),
        ("injected", "unsafe"),
    ];
    for (id, (name, kind)) in ids[1..].iter().zip(expected) {
        let v = wait_problem(&mut w, id, &["starttls", "unsafe"], SHORT);
        println!("{name}: {}", v["detail"].as_str().unwrap_or(""));
        assert_eq!(v["problem"]["kind"], kind, "{name}: {v}");
        // A possible attack needs the user: `error`, never a quiet `backoff`.
        assert_eq!(v["state"], "error", "{name}: {v}");
    }
    // Each attacker gets another try (a captive portal may have been the cause): still nothing.
    assert!(eventually(SHORT, || servers[1..]
        .iter()
        .all(|s| s.connections() >= 2)));
    honest.deliver(&mail("Over honest STLS"));
    w.wait_new_mail("Over honest STLS", SHORT);
    assert!(honest.credentials_seen());
    for r in honest.records().iter().filter(|r| r.credentials) {
        assert_eq!(r.credentials_over_tls, Some(true), "{r:?}");
    }
    for (s, name) in servers[1..].iter().zip(&names[1..]) {
        assert!(
            !s.credentials_seen(),
            "{name}: a credential was sent: {:#?}",
            s.records()
        );
        assert_eq!(
            s.count("TOP") + s.count("RETR") + s.count("DELE"),
            0,
            "{name}"
        );
    }
    assert!(new_mails_of(&w, &ids[0]).len() == 1, "{:#?}", w.new_mails());
    for id in &ids[1..] {
        assert!(
            new_mails_of(&w, id).is_empty(),
            "{id}: {:#?}",
            w.new_mails()
        );
    }
    assert!(w.stop(), "watch did not exit cleanly");
}

/// 6. A wrong password: `auth_failed` with kind "auth", and Pushmail stops trying — at most two
///    failed logins reach the server in several poll intervals (a provider locks an account
///    after a handful), and no session is ever opened.
#[test]
fn wrong_password_stops_the_logins() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pop3auth");
    pm.write_config(&[pm.pop3_account_toml(&dc, &id, "alice", Via::Tls, "not-alices-pw", "")]);
    let mut w = pm.watch(&[]);
    // Dovecot delays each failure by 2 s (auth_failure_delay).
    let v = wait_account_state(&mut w, &id, "auth_failed", SHORT);
    assert_eq!(v["problem"]["kind"], "auth", "{v}");
    let at_failure = dc.login_failures("alice");
    assert!((1..=2).contains(&at_failure), "{at_failure} failed logins");
    // Five poll intervals later: no more attempts.
    w.collect_for(Duration::from_secs(5));
    let failures = dc.login_failures("alice");
    assert!(failures <= 2, "{failures} failed logins:\n{}", dc.log());
    assert_eq!(dc.pop3_logins("alice"), 0);
    assert!(new_mails_of(&w, &id).is_empty());
    assert!(
        !w.stdout_raw().contains("not-alices-pw") && !w.stderr().contains("not-alices-pw"),
        "the password reached the output"
    );
    assert!(w.stop());
}

/// 7. A message with a 1 MiB Subject, then a normal one: both are announced, once and
///    promptly — the big subject cut, its sender intact — and the big one is not downloaded.
#[test]
fn a_one_mib_header_does_not_hold_up_the_next_message() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pop3big");
    pm.write_config(&[pm.pop3_account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    let mut big = b"From: Big <big@example.com>\r\nTo: alice@example.org\r\nSubject: ".to_vec();
    big.extend(std::iter::repeat_n(b'S', 1024 * 1024));
    big.extend_from_slice(b"\r\n\r\nbody\r\n");
    let sent = Instant::now();
    dc.deliver("alice", "INBOX", &big).unwrap();
    dc.deliver("alice", "INBOX", &mail("After the big one"))
        .unwrap();
    let (at, _) = w.wait_new_mail("After the big one", SHORT);
    let took = at.duration_since(sent);
    println!("the normal message announced after {took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    w.collect_for(2 * ONE_POLL);
    let mails = new_mails_of(&w, &id);
    let bigs: Vec<&&Value> = mails
        .iter()
        .filter(|v| v["from_address"] == "big@example.com")
        .collect();
    assert_eq!(bigs.len(), 1, "{mails:#?}");
    let subject = bigs[0]["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("SSSS") && subject.len() < 40 * 1024,
        "cut, not refused: {} bytes",
        subject.len()
    );
    assert_eq!(w.count_new_mail("After the big one"), 1);
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert!(w.stop());
    assert_mailbox_untouched(&dc, "alice", 2, 2);
}

/// 7b. The same from a server that sends a 16 MiB header line in answer to TOP: the client
///     keeps its bounds (and its session) and the next message still arrives once.
#[test]
fn a_sixteen_mib_header_line_from_a_scripted_server_is_survived() {
    let server =
        ScriptedPop3::start(Listen::Tls(CertKind::Valid), |_| Pop3Script::serve()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pop3huge");
    pm.write_config(&[scripted_pop3(&pm, &id, &server, "tls")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    let mut huge = b"From: Huge <huge@example.com>\r\nX-Filler: ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 16 * 1024 * 1024));
    huge.extend_from_slice(b"\r\nSubject: Hidden behind 16 MiB\r\n\r\nbody\r\n");
    server.deliver(&huge);
    server.deliver(&mail("After the huge one"));
    w.wait_new_mail("After the huge one", Duration::from_secs(15));
    w.collect_for(2 * ONE_POLL);
    assert_eq!(w.count_new_mail("After the huge one"), 1);
    // The huge one is announced too, once: cut, or as "could not be read".
    let huge_ones: Vec<&Value> = new_mails_of(&w, &id)
        .into_iter()
        .filter(|v| v["subject"] != "After the huge one")
        .collect();
    assert_eq!(huge_ones.len(), 1, "{huge_ones:#?}");
    println!(
        "the huge one: {}",
        huge_ones[0]
            .to_string()
            .chars()
            .take(300)
            .collect::<String>()
    );
    assert_eq!(server.count("RETR") + server.count("DELE"), 0);
    assert!(w.stop());
}

/// 8. Nothing is ever deleted, downloaded or marked read: after many checks with old mail,
///    new mail and the user's mail client never opened, every Dovecot POP3 session says
///    `del=0 retr=0`, every session ended with QUIT, and over IMAP all messages are still
///    there and unseen.
#[test]
fn nothing_on_the_server_is_ever_deleted_or_changed() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    for i in 0..3 {
        dc.deliver("alice", "INBOX", &mail(&format!("Old {i}")))
            .unwrap();
    }
    let pm = Pushmail::new();
    let id = unique_id("pop3keep");
    pm.write_config(&[pm.pop3_account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    for i in 0..3 {
        let subject = format!("New {i}");
        dc.deliver("alice", "INBOX", &mail(&subject)).unwrap();
        w.wait_new_mail(&subject, SHORT);
    }
    w.collect_for(3 * ONE_POLL);
    assert!(w.stop());
    let sessions = assert_mailbox_untouched(&dc, "alice", 6, 5);
    let logouts = dc.pop3_logouts("alice");
    // Every check ends with QUIT ("Logged out"); only one cut short by our SIGTERM may not.
    let not_quit: Vec<_> = logouts
        .iter()
        .filter(|l| l.reason != "Logged out")
        .collect();
    assert!(not_quit.len() <= 1, "{not_quit:#?}");
    let tops: u64 = logouts.iter().map(|l| l.top).sum();
    assert!(
        tops <= 6,
        "{tops} TOPs in {sessions} sessions for 3 new messages"
    );
    println!("{sessions} POP3 sessions, {tops} TOPs, nothing deleted or downloaded");
}

/// 9. A server without UIDL cannot be watched without guessing: the account shows a clear
///    protocol problem and announces nothing, ever.
#[test]
fn a_server_without_uidl_is_a_clear_error_and_announces_nothing() {
    let server =
        ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve().without_uidl()).unwrap();
    server.deliver(&mail("Before"));
    let pm = Pushmail::new();
    let id = unique_id("pop3nouidl");
    pm.write_config(&[scripted_pop3(&pm, &id, &server, "plain")]);
    let mut w = pm.watch(&[]);
    let v = wait_problem(&mut w, &id, &["protocol"], SHORT);
    let detail = v["detail"].as_str().unwrap_or("");
    println!("{detail}");
    assert!(
        ["error", "backoff"].contains(&v["state"].as_str().unwrap()),
        "{v}"
    );
    assert!(
        detail.contains("UIDL"),
        "the problem names what is missing: {v}"
    );
    server.deliver(&mail("After"));
    w.collect_for(3 * ONE_POLL);
    assert!(w.new_mails().is_empty(), "{:#?}", w.new_mails());
    assert!(
        !w.seen.iter().any(|(_, v)| v["event"] == "state"
            && v["account"] == id.as_str()
            && v["state"] == "polling"),
        "{:#?}",
        w.seen
    );
    assert_eq!(
        server.count("TOP") + server.count("RETR") + server.count("DELE"),
        0
    );
    assert!(w.stop());
}

/// 10. A UIDL listing that cannot be trusted — two messages with the same unique-id, or ids
///     with spaces and control characters — is a protocol problem, not a reason to announce
///     anything twice; once the server is fixed, the account recovers and new mail is
///     announced once.
#[test]
fn a_duplicate_or_invalid_uidl_listing_is_refused_without_repeats() {
    let server = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve()).unwrap();
    server.deliver_with_uidl(&mail("Twin A"), "same-id");
    server.deliver_with_uidl(&mail("Twin B"), "same-id");
    let pm = Pushmail::new();
    let id = unique_id("pop3dup");
    pm.write_config(&[scripted_pop3(&pm, &id, &server, "plain")]);
    let mut w = pm.watch(&[]);
    let v = wait_problem(&mut w, &id, &["protocol"], SHORT);
    println!("duplicate: {}", v["detail"].as_str().unwrap_or(""));

    // An invalid listing: a unique-id with a space, one with a control character.
    server.with_mailbox(|m| {
        m.messages[1].uidl = "fixed-b".to_owned();
        m.uidl_listing = Some(b"+OK\r\n1 has a space\r\n2 bell\x07\r\n.\r\n".to_vec());
    });
    let seen_before = w.seen.len();
    w.collect_for(2 * ONE_POLL);
    assert!(
        w.seen[seen_before..]
            .iter()
            .all(|(_, v)| v["event"] != "state"
                || v["account"] != id.as_str()
                || v["state"] != "polling"),
        "an invalid listing was accepted: {:#?}",
        &w.seen[seen_before..]
    );

    // Fixed: the account recovers; what was there is not news, what comes next is.
    server.with_mailbox(|m| {
        m.messages[0].uidl = "fixed-a".to_owned();
        m.uidl_listing = None;
    });
    wait_account_state(&mut w, &id, "polling", SHORT);
    server.deliver(&mail("After the fix"));
    w.wait_new_mail("After the fix", SHORT);
    w.collect_for(2 * ONE_POLL);
    assert_eq!(w.count_new_mail("After the fix"), 1);
    for twin in ["Twin A", "Twin B"] {
        assert!(w.count_new_mail(twin) <= 1, "{twin}: {:#?}", w.new_mails());
    }
    assert_eq!(server.count("RETR") + server.count("DELE"), 0);
    assert!(w.stop());
}

/// The control for the scripted tests above: over implicit TLS, a scripted server that checks
/// the password is watched like Dovecot — baseline, then one announcement — and is never sent
/// RETR or DELE.
#[test]
fn a_scripted_pop3_server_over_tls_is_watched_like_a_real_one() {
    let server = ScriptedPop3::start(Listen::Tls(CertKind::Valid), |_| {
        Pop3Script::serve().password(SCRIPTED_PW)
    })
    .unwrap();
    server.deliver(&mail("Already there"));
    let pm = Pushmail::new();
    let id = unique_id("pop3pw");
    pm.write_config(&[scripted_pop3(&pm, &id, &server, "tls")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "polling", SHORT);
    server.deliver(&mail("Scripted hello"));
    let (_, ev) = w.wait_new_mail("Scripted hello", SHORT);
    assert_eq!(ev["from_address"], "ana@example.com", "{ev}");
    w.collect_for(2 * ONE_POLL);
    assert_eq!(new_mails_of(&w, &id).len(), 1, "{:#?}", w.new_mails());
    assert!(
        server
            .records()
            .iter()
            .any(|r| r.credentials_over_tls == Some(true))
    );
    assert_eq!(
        server.count("RETR") + server.count("DELE") + server.count("RSET"),
        0
    );
    assert!(w.stop());
}

/// 12. The command line: `account add --protocol pop3` tests the account (on POP3's own port and
///     steps) before saving it, `account test` says what POP3 can and cannot do, `account list`
///     names the protocol — and none of it changes the mailbox.
#[test]
fn a_pop3_account_is_added_and_tested_from_the_command_line() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    for i in 0..2 {
        dc.deliver("alice", "INBOX", &mail(&format!("Waiting {i}")))
            .unwrap();
    }
    let pm = Pushmail::new();
    pm.write_config(&[]);
    let id = unique_id("pop3cli");
    let pw = pm.password_file(PW);
    let port = dc.pop3s_port().to_string();
    let command = format!("cat {}", pw.display());
    let ca = dc.ca_file().display().to_string();
    let out = pm.cli(
        &[
            "account",
            "add",
            "--protocol",
            "pop3",
            "--id",
            &id,
            "--host",
            dc.host(),
            "--port",
            &port,
            "--username",
            "alice",
            "--password-command",
            &command,
            "--ca-file",
            &ca,
        ],
        "",
        &[],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let config = std::fs::read_to_string(pm.config()).unwrap();
    assert!(config.contains("protocol = \"pop3\""), "{config}");
    assert!(!config.contains("folders"), "{config}");

    let out = pm.cli(&["account", "test", &id, "--json"], "", &[]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let steps: Vec<(&str, bool)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("password", true),
            ("tcp", true),
            ("tls", true),
            ("login", true),
            ("capabilities", true),
            ("folders", true)
        ],
        "{report:#}"
    );
    assert_eq!(
        report["strategy"],
        "POP3: checked every 60 s; POP3 cannot tell when you read mail elsewhere"
    );
    assert_eq!(report["folders"][0]["name"], "INBOX", "{report:#}");
    assert_eq!(report["folders"][0]["messages"], 2, "{report:#}");
    let caps = report["capabilities"].as_array().unwrap();
    assert!(caps.iter().any(|c| c == "UIDL"), "{report:#}");

    // The same test in Italian, as a user with `language = "it"` reads it.
    let text = pm.cli(
        &["account", "test", &id],
        "",
        &[("LC_ALL", "it_IT.UTF-8"), ("LANG", "it_IT.UTF-8")],
    );
    assert_eq!(text.code, Some(0), "{}\n{}", text.stdout, text.stderr);
    assert!(
        text.stdout
            .contains("con POP3 non si può sapere quando leggi la posta altrove"),
        "{}",
        text.stdout
    );

    let list = pm.cli(&["account", "list", "--json"], "", &[]);
    let rows: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(rows[0]["protocol"], "pop3", "{rows:#}");
    assert_mailbox_untouched(&dc, "alice", 2, 3);
}

/// 13. Two new messages with one unique-id (a broken server): they cannot be told apart, so at
///     most one announcement — never two popups for "one" message — and a server without TOP
///     in its capabilities gets its new mail announced at once as unreadable, not after two
///     failed checks.
#[test]
fn a_repeated_unique_id_or_a_server_without_top_repeats_nothing() {
    let server = ScriptedPop3::start(Listen::Plain, |_| Pop3Script::serve()).unwrap();
    server.deliver(&mail("Old"));
    let no_top = ScriptedPop3::start(Listen::Plain, |_| {
        Pop3Script::serve().without_capability("TOP")
    })
    .unwrap();
    let pm = Pushmail::new();
    let (twins, plain) = (unique_id("twins"), unique_id("notop"));
    pm.write_config(&[
        scripted_pop3(&pm, &twins, &server, "plain"),
        scripted_pop3(&pm, &plain, &no_top, "plain"),
    ]);
    let mut w = pm.watch(&[]);
    for id in [&twins, &plain] {
        let polling = |v: &Value| {
            v["event"] == "state" && v["account"] == id.as_str() && v["state"] == "polling"
        };
        if !w.seen.iter().any(|(_, v)| polling(v)) {
            w.wait_for(SHORT, &format!("{id}: polling"), polling);
        }
    }
    server.deliver_with_uidl(&mail("Twin A"), "same-id");
    server.deliver_with_uidl(&mail("Twin B"), "same-id");
    no_top.deliver(&mail("Headers unreachable"));
    let (_, ev) = w.wait_for(SHORT, "the message without TOP", |v| {
        v["event"] == "new_mail" && v["account"] == plain.as_str()
    });
    assert_eq!(ev["unreadable"], true, "{ev}");
    w.collect_for(3 * ONE_POLL);
    assert!(
        w.count_new_mail("Twin A") + w.count_new_mail("Twin B") <= 1,
        "{:#?}",
        w.new_mails()
    );
    assert_eq!(new_mails_of(&w, &plain).len(), 1, "{:#?}", w.new_mails());
    assert_eq!(no_top.count("TOP"), 0);
    assert!(w.stop());
}
