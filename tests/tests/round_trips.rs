//! Round trips after the server's push (issue 14), end to end against Dovecot 2.3, through a
//! counting proxy: with NOTIFY, new mail and flag changes are acted on from what the server
//! pushed — Pushmail sends **nothing** between the server's push and the announcement — and
//! exactly once, whatever happens around it. (How much faster that is on 20–300 ms links is
//! measured by `scripts/bench`, not here.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod faults;

use std::time::{Duration, Instant};

use common::{Pushmail, Watch, unique_id};
use faults::{assert_each_once, eventually, proxied_account, scripted_account};
use pushmail_tests::{
    CertKind, Dovecot, DovecotOptions, FaultProxy, Listen, Script, ScriptedServer, message,
};

const PW: &str = "alicepw";
const SHORT: Duration = Duration::from_secs(10);

fn mail(subject: &str) -> Vec<u8> {
    message(
        "Ana Pérez <ana@example.com>",
        "alice@example.org",
        subject,
        "body",
    )
}

/// Dovecot, a counting proxy in front of its TLS port, and `watch --json` through it.
struct Rig {
    dc: Dovecot,
    proxy: FaultProxy,
    _pm: Pushmail,
    w: Watch,
}

fn rig(extra: &str) -> Rig {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let proxy = FaultProxy::start(dc.host(), dc.imaps_port()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("rtt");
    pm.write_config(&[proxied_account(
        &pm,
        &dc,
        &id,
        "alice",
        PW,
        proxy.port(),
        extra,
    )]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    Rig {
        dc,
        proxy,
        _pm: pm,
        w,
    }
}

/// Bytes Pushmail has sent to the server so far.
fn sent(proxy: &FaultProxy) -> u64 {
    proxy.bytes().0
}

/// The last `unread` count seen.
fn last_unread(w: &Watch) -> Option<u64> {
    w.seen
        .iter()
        .rev()
        .find(|(_, v)| v["event"] == "unread")
        .and_then(|(_, v)| v["count"].as_u64())
}

fn wait_unread(w: &mut Watch, n: u64) {
    if last_unread(w) == Some(n) {
        return;
    }
    w.wait_for(SHORT, &format!("unread {n}"), |v| {
        v["event"] == "unread" && v["count"] == n
    });
}

/// With NOTIFY the server pushes each new message with its envelope; Pushmail announces it
/// from that, with sender and subject, without sending a byte — not `DONE`, not `UID FETCH`.
#[test]
fn with_notify_new_mail_is_announced_without_sending_anything() {
    let mut r = rig("");
    // Let the session settle (IDLE sent), then count from here.
    r.w.collect_for(Duration::from_millis(300));
    let before = sent(&r.proxy);
    for i in 1..=3u64 {
        let subject = format!("Pushed {i} — 你好");
        r.dc.deliver("alice", "INBOX", &mail(&subject)).unwrap();
        let (_, ev) = r.w.wait_new_mail(&subject, SHORT);
        assert_eq!(ev["from_name"], "Ana Pérez", "{ev}");
        assert_eq!(ev["from_address"], "ana@example.com", "{ev}");
        assert_eq!(ev["catch_up"], false, "{ev}");
        assert!(!ev["message_id"].as_str().unwrap().is_empty(), "{ev}");
        wait_unread(&mut r.w, i);
        // Spaced like real mail (Dovecot tells an idler 0.5 s after a change).
        r.w.collect_for(Duration::from_millis(700));
    }
    assert_eq!(
        sent(&r.proxy),
        before,
        "Pushmail sent something between the server's pushes and its announcements"
    );
    assert_each_once(
        &r.w,
        &["Pushed 1 — 你好", "Pushed 2 — 你好", "Pushed 3 — 你好"],
    );
}

/// A message read on another device: the count drops and its popup is withdrawn from the
/// server's `FETCH (UID FLAGS)` push alone — no `UID SEARCH UNSEEN`, no byte sent.
#[test]
fn a_read_elsewhere_lowers_the_count_without_sending_anything() {
    let mut r = rig("");
    let uid = r.dc.deliver("alice", "INBOX", &mail("Read me")).unwrap();
    r.w.wait_new_mail("Read me", SHORT);
    wait_unread(&mut r.w, 1);
    r.w.collect_for(Duration::from_millis(300));
    let before = sent(&r.proxy);
    r.dc.set_seen("alice", "INBOX", uid).unwrap();
    r.w.wait_for(SHORT, "seen", |v| v["event"] == "seen" && v["uid"] == uid);
    wait_unread(&mut r.w, 0);
    // Marked unread again: counted again, still without a command.
    r.dc.set_unseen("alice", "INBOX", uid).unwrap();
    wait_unread(&mut r.w, 1);
    assert_eq!(sent(&r.proxy), before, "a flag change cost a command");
}

/// A burst cut by a lost connection in the middle: every message announced exactly once — the
/// ones pushed before the cut from their push, the rest by the catch-up after reconnecting.
#[test]
fn a_burst_cut_by_a_reconnect_is_announced_exactly_once() {
    let mut r = rig("");
    let subjects: Vec<String> = (0..12).map(|i| format!("Burst {i}")).collect();
    for (i, s) in subjects.iter().enumerate() {
        r.dc.deliver("alice", "INBOX", &mail(s)).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        if i == 5 {
            r.proxy.reset_all();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && !subjects.iter().all(|s| r.w.count_new_mail(s) > 0) {
        r.w.collect_for(Duration::from_millis(200));
    }
    r.w.collect_for(Duration::from_secs(2));
    assert_each_once(&r.w, &subjects);
    wait_unread(&mut r.w, 12);
}

/// 1,000 random flag changes from another connection, counted from the pushes: the count
/// Pushmail ends with is the server's `UNSEEN`.
#[test]
fn counting_from_pushed_flags_matches_the_server_after_a_thousand_changes() {
    let mut r = rig("");
    let mut uids = Vec::new();
    for i in 0..40 {
        uids.push(
            r.dc.deliver("alice", "INBOX", &mail(&format!("Flag {i}")))
                .unwrap(),
        );
    }
    wait_unread(&mut r.w, 40);
    let mut imap = r.dc.login("alice").unwrap();
    imap.select("INBOX").unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1000 {
        // xorshift: a fixed, reproducible sequence.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let uid = uids[(seed % uids.len() as u64) as usize];
        let op = if seed & 1 == 0 { "+FLAGS" } else { "-FLAGS" };
        imap.command(&format!("UID STORE {uid} {op}.SILENT (\\Seen)"))
            .unwrap();
    }
    let unseen = r.dc.status("alice", "INBOX").unwrap().unseen;
    assert!(
        eventually(SHORT, || {
            r.w.collect_for(Duration::from_millis(200));
            last_unread(&r.w) == Some(unseen)
        }),
        "Pushmail counts {:?}, the server {unseen}",
        last_unread(&r.w)
    );
    // And it stays there (no late correction pending).
    r.w.collect_for(Duration::from_secs(2));
    assert_eq!(last_unread(&r.w), Some(unseen));
}

/// A server that accepts NOTIFY with fetch attributes but then sends only `EXISTS` (the
/// scripted server): every message is still announced, fetched after `push_wait_secs`.
#[test]
fn a_server_that_pushes_only_exists_still_gets_every_message_announced() {
    let server = ScriptedServer::start(Listen::Plain, |_| {
        Script::serve().capabilities("IMAP4rev1 IDLE NOTIFY AUTH=PLAIN")
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("exists");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    let notify = server
        .records()
        .iter()
        .flat_map(|r| r.lines.clone())
        .find(|l| l.contains("NOTIFY SET"));
    assert!(
        notify.as_deref().is_some_and(|l| l.contains("ENVELOPE")),
        "{notify:?}"
    );
    for s in ["Only EXISTS 1", "Only EXISTS 2"] {
        let sent = Instant::now();
        server.deliver(s);
        w.wait_new_mail(s, SHORT);
        assert!(
            sent.elapsed() < Duration::from_secs(4),
            "{:?}",
            sent.elapsed()
        );
    }
    w.collect_for(Duration::from_secs(2));
    assert_each_once(&w, &["Only EXISTS 1", "Only EXISTS 2"]);
}

/// Without NOTIFY (IDLE only, like Gmail, Microsoft 365 or Cyrus) new mail costs one round trip:
/// `DONE` and `UID FETCH` leave together — the scripted server reads both before it answers
/// either. And when the server answers the pair oddly — `* BYE` right after IDLE's OK, a `NO`
/// to the FETCH, an OK to `DONE` that takes 1.5 s — nothing is lost and nothing repeated:
/// each message is announced once, by the reconnect's catch-up if not by the pair.
#[test]
fn odd_answers_to_the_pipelined_pair_lose_and_repeat_nothing() {
    use pushmail_tests::Step;
    let send = |text: &str| Step::Send(text.as_bytes().to_vec());
    let odd = |subject: &str, answer: Vec<Step>| {
        let script = Script::new()
            .greet()
            .serve_until("IDLE")
            .send("+ idling\r\n")
            .then(Step::Pause(Duration::from_millis(300)))
            .deliver(subject)
            .send("* {exists} EXISTS\r\n")
            .expect("DONE")
            // Read before anything is answered: the client did not wait for IDLE's OK.
            .expect("UID FETCH");
        answer.into_iter().fold(script, Script::then)
    };
    let server = ScriptedServer::start(Listen::Plain, move |n| match n {
        0 => odd(
            "Odd 1: BYE after DONE's OK",
            vec![
                send("{idle} OK Idle completed\r\n* BYE Going away\r\n"),
                Step::Close,
            ],
        ),
        // The reconnect catches "Odd 1" up in its first IDLE round (DONE + UID FETCH in one
        // write, from the one flight's IDLE); the server answers that pair slowly.
        1 => odd(
            "Odd 3: a slow OK to DONE",
            vec![
                Step::Pause(Duration::from_millis(1500)),
                send("{idle} OK Idle completed\r\n"),
                Step::Answer,
                // On to the next connection's case.
                Step::Pause(Duration::from_millis(500)),
                Step::Close,
            ],
        ),
        // A NO to the FETCH puts the folder under care: the next session (Script::serve)
        // reads it one message at a time.
        2 => odd(
            "Odd 2: NO to the FETCH",
            vec![
                send("{idle} OK Idle completed\r\n{tag} NO [UNAVAILABLE] Try again later\r\n"),
                Step::Serve,
            ],
        ),
        _ => Script::serve(),
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("pipe");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    let subjects = [
        "Odd 1: BYE after DONE's OK",
        "Odd 3: a slow OK to DONE",
        "Odd 2: NO to the FETCH",
    ];
    for s in subjects {
        w.wait_new_mail(s, Duration::from_secs(20));
    }
    w.collect_for(Duration::from_secs(2));
    assert_each_once(&w, &subjects);
    for n in 0..3 {
        let r = server.record(n).unwrap();
        assert_eq!(r.unexpected, None, "connection {n}: {:?}", r.lines);
        let done = r.lines.iter().position(|l| l == "DONE").unwrap();
        assert!(
            r.lines[done + 1].starts_with("P") && r.lines[done + 1].contains("UID FETCH"),
            "connection {n}: {:?}",
            r.lines
        );
    }
}

/// A re-count of 5,000 unread with ESEARCH (Dovecot offers it): after a message is expunged
/// from another connection, Pushmail re-reads the unread set as a count and ranges
/// (`* ESEARCH … UID ALL 1:2499,2501:5000 COUNT 4999`) instead of a `* SEARCH` line naming
/// every unread UID. Everything the server sends for the re-count — the pushed EXPUNGE, the
/// fetch of new mail and the search, TLS included — is a small fraction of what the plain
/// search's answer alone would be, and the count is the server's.
#[test]
fn a_recount_of_five_thousand_unread_costs_a_fraction_of_the_plain_search() {
    const UNREAD: u64 = 5_000;
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    dc.fill("alice", "INBOX", UNREAD as usize, false).unwrap();
    // The plain search's answer, for comparison (payload only, no TLS).
    let mut imap = dc.login("alice").unwrap();
    imap.select("INBOX").unwrap();
    let plain: u64 = imap
        .command("UID SEARCH UNSEEN")
        .unwrap()
        .iter()
        .map(|l| l.len() as u64 + 2)
        .sum();
    imap.logout().unwrap();
    let proxy = FaultProxy::start(dc.host(), dc.imaps_port()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("esearch");
    pm.write_config(&[proxied_account(
        &pm,
        &dc,
        &id,
        "alice",
        PW,
        proxy.port(),
        "",
    )]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", Duration::from_secs(30));
    // The first count, with the initial sync, is already an ESEARCH.
    wait_unread(&mut w, UNREAD);
    w.collect_for(Duration::from_millis(300));
    let before = proxy.bytes().1;
    dc.expunge("alice", "INBOX", 2_500).unwrap();
    wait_unread(&mut w, UNREAD - 1);
    w.collect_for(Duration::from_millis(500));
    let recount = proxy.bytes().1 - before;
    eprintln!("re-count of {UNREAD} unread: {recount} B from the server; plain search {plain} B");
    assert!(plain > 20_000, "the plain answer: {plain} B");
    assert!(
        recount < 2_000 && recount * 10 < plain,
        "the re-count cost {recount} B from the server; the plain search's answer is {plain} B"
    );
    assert_eq!(
        Some(dc.status("alice", "INBOX").unwrap().unseen),
        last_unread(&w)
    );
    assert!(
        !w.seen.iter().any(|(_, v)| v["event"] == "state"
            && v["state"] != "push"
            && v["state"] != "connecting"),
        "the session broke: {:#?}",
        w.seen
    );
    assert_eq!(proxy.connections(), 1, "the session was rebuilt");
}

/// Connecting costs one round trip less where the server puts its capabilities in the login's
/// `OK` (Dovecot and Cyrus do): no `CAPABILITY` is asked after `LOGIN`. A server that does not
/// is asked, as before.
#[test]
fn the_capabilities_in_the_login_ok_save_a_round_trip() {
    use pushmail_tests::Step;
    let with_code = ScriptedServer::start(Listen::Plain, |_| {
        Script::new()
            .greet()
            .expect("LOGIN")
            .then(Step::Send(
                b"{tag} OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] Logged in\r\n".to_vec(),
            ))
            .then(Step::Serve)
    })
    .unwrap();
    let without = ScriptedServer::start(Listen::Plain, |_| Script::serve()).unwrap();
    let pm = Pushmail::new();
    let (a, b) = (unique_id("capok"), unique_id("capask"));
    pm.write_config(&[
        scripted_account(&pm, &a, with_code.port(), "plain", None, ""),
        scripted_account(&pm, &b, without.port(), "plain", None, ""),
    ]);
    let mut w = pm.watch(&[]);
    for id in [&a, &b] {
        let seen = w.seen.iter().any(|(_, v)| {
            v["event"] == "state" && v["account"] == id.as_str() && v["state"] == "push"
        });
        if !seen {
            w.wait_for(SHORT, &format!("{id}: push"), |v| {
                v["event"] == "state" && v["account"] == id.as_str() && v["state"] == "push"
            });
        }
    }
    let after_login = |server: &ScriptedServer| -> Vec<String> {
        let lines = server.record(0).unwrap().lines;
        let login = lines.iter().position(|l| l.contains("LOGIN")).unwrap();
        lines[login + 1..].to_vec()
    };
    let saved = after_login(&with_code);
    assert!(
        !saved.iter().any(|l| l.contains("CAPABILITY")),
        "asked again although the OK carried them: {saved:?}"
    );
    let asked = after_login(&without);
    assert!(
        asked.first().is_some_and(|l| l.contains("CAPABILITY")),
        "{asked:?}"
    );
}

/// A reconnect resumes the TLS session (TLS 1.3, through the TLS configuration the engine
/// shares): the first handshake is full, the one after the server dropped the session is
/// resumed — no certificate chain sent or verified again. (Against the scripted server, a
/// rustls server with its default session cache: Dovecot 2.3 does not resume TLS sessions on
/// 993, each imap-login process having its own, see docs/benchmarks.md.)
#[test]
fn a_reconnect_resumes_the_tls_session() {
    let server = ScriptedServer::start(Listen::Tls(CertKind::Valid), |_| Script::serve()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("resume");
    pm.write_config(&[scripted_account(
        &pm,
        &id,
        server.port(),
        "tls",
        Some(server.ca_file()),
        "",
    )]);
    let mut w = pm.watch(&[("RUST_LOG", "pushmail_core=debug")]);
    w.wait_state("push", SHORT);
    server.kick();
    w.wait_for(SHORT, "reconnecting", |v| {
        v["event"] == "state" && v["state"] != "push"
    });
    w.wait_state("push", SHORT);
    let handshakes: Vec<String> = w
        .stderr()
        .lines()
        .filter(|l| l.contains("TLS handshake done"))
        .map(str::to_owned)
        .collect();
    assert!(handshakes.len() >= 2, "{handshakes:#?}");
    assert!(
        handshakes[0].contains("resumed") && handshakes[0].contains("false"),
        "{handshakes:#?}"
    );
    assert!(
        handshakes[1..].iter().all(|l| l.contains("true")),
        "{handshakes:#?}"
    );
}

/// Everything from LOGIN to IDLE leaves in one flight: the scripted server reads `SELECT`, the
/// unread search and `IDLE` *before it answers any of them* — a client that waited for an
/// answer would never reach IDLE here. Then it answers all three at once (the pipelined
/// commands are tagged `P1`, `P2`), and the session watches: new mail is announced.
#[test]
fn from_login_to_idle_the_commands_leave_in_one_flight() {
    use pushmail_tests::Step;
    let server = ScriptedServer::start(Listen::Plain, |n| match n {
        0 => Script::new()
            .greet()
            .expect("LOGIN")
            .send("{tag} OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")
            .expect("SELECT")
            .expect("UID SEARCH UNSEEN")
            .expect("IDLE")
            .send(
                "* 0 EXISTS\r\n* OK [UIDVALIDITY 1700000000] x\r\n* OK [UIDNEXT 1] x\r\n\
                 P1 OK [READ-WRITE] selected\r\n* SEARCH\r\nP2 OK searched\r\n+ idling\r\n",
            )
            .deliver("After one flight")
            .then(Step::Idle)
            .then(Step::Serve),
        _ => Script::serve(),
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("flight");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    w.wait_new_mail("After one flight", SHORT);
    let record = server.record(0).unwrap();
    assert!(record.unexpected.is_none(), "{record:?}");
    assert_eq!(server.connections(), 1, "the flight failed: {record:?}");
    let login = record
        .lines
        .iter()
        .position(|l| l.contains("LOGIN"))
        .unwrap();
    let after: Vec<&str> = record.lines[login + 1..]
        .iter()
        .take(3)
        .map(String::as_str)
        .collect();
    assert_eq!(
        after,
        ["P1 SELECT \"INBOX\"", "P2 UID SEARCH UNSEEN", "A0002 IDLE"],
        "{record:?}"
    );
}

/// A server that advertises `ID` (RFC 2971; NetEase refuses SELECT without it, Dovecot
/// advertises it too) is sent it at no cost in round trips: it leaves first in the same flight
/// as `SELECT`, the unread search and `IDLE` — the scripted server reads all four before it
/// answers any — and its answer (`* ID …`, tagged `P1`) is not waited for.
#[test]
fn an_id_the_server_advertises_rides_in_the_one_flight() {
    use pushmail_tests::Step;
    let server = ScriptedServer::start(Listen::Plain, |n| match n {
        0 => Script::new()
            .greet()
            .expect("LOGIN")
            .send("{tag} OK [CAPABILITY IMAP4rev1 IDLE ID] Logged in\r\n")
            .expect("ID (")
            .expect("SELECT")
            .expect("UID SEARCH UNSEEN")
            .expect("IDLE")
            .send(
                "* ID (\"name\" \"Coremail Imap\")\r\nP1 OK ID completed\r\n\
                 * 0 EXISTS\r\n* OK [UIDVALIDITY 1700000000] x\r\n* OK [UIDNEXT 1] x\r\n\
                 P2 OK [READ-WRITE] selected\r\n* SEARCH\r\nP3 OK searched\r\n+ idling\r\n",
            )
            .deliver("After one flight with ID")
            .then(Step::Idle)
            .then(Step::Serve),
        _ => Script::serve(),
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("flight-id");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    w.wait_new_mail("After one flight with ID", SHORT);
    let record = server.record(0).unwrap();
    assert!(record.unexpected.is_none(), "{record:?}");
    assert_eq!(server.connections(), 1, "the flight failed: {record:?}");
    let login = record
        .lines
        .iter()
        .position(|l| l.contains("LOGIN"))
        .unwrap();
    let after: Vec<&str> = record.lines[login + 1..]
        .iter()
        .take(4)
        .map(String::as_str)
        .collect();
    let id_line = format!(
        "P1 ID (\"name\" \"Pushmail\" \"version\" \"{}\")",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        after,
        [
            id_line.as_str(),
            "P2 SELECT \"INBOX\"",
            "P3 UID SEARCH UNSEEN",
            "A0002 IDLE"
        ],
        "{record:?}"
    );
}

/// A restart after 1,200 flag changes and new mail while Pushmail was away: the one flight's
/// QRESYNC SELECT brings every change (more than async-imap's queue of 100 holds) and the
/// unread search the exact count; the new mail needs a fetch, so the session leaves that IDLE
/// once, catches up, and each message is announced once.
#[test]
fn a_restart_after_many_changes_and_new_mail_counts_right_and_announces_once() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    dc.fill("alice", "INBOX", 1500, false).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("qresync");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", common::Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    wait_unread(&mut w, 1500);
    assert!(w.stop());
    // While away: 1,200 read on another client, two new messages.
    dc.doveadm(&[
        "flags", "add", "-u", "alice", "\\Seen", "mailbox", "INBOX", "uid", "1:1200",
    ])
    .unwrap();
    for s in ["Away 1", "Away 2"] {
        dc.deliver("alice", "INBOX", &mail(s)).unwrap();
    }
    let unseen = dc.status("alice", "INBOX").unwrap().unseen;
    assert_eq!(unseen, 302);
    let mut w = pm.watch(&[]);
    w.wait_new_mail("Away 1", SHORT);
    w.wait_new_mail("Away 2", SHORT);
    wait_unread(&mut w, unseen);
    w.collect_for(Duration::from_secs(1));
    assert_each_once(&w, &["Away 1", "Away 2"]);
    assert_eq!(last_unread(&w), Some(unseen));
}
