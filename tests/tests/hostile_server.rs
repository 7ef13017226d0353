//! Hostile and broken servers, played by the scripted IMAP server of the harness against the
//! real `pushmail-cli watch --json`, with a real Dovecot alongside where "the other accounts
//! carry on" is the claim: resource limits before buffering, protocol oddities that must not
//! lose mail, STARTTLS attacks and bad certificates refused before any credential, and server
//! text and secrets kept out of every log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod faults;

use std::time::{Duration, Instant};

use common::{Pushmail, Via, files_under, unique_id};
use faults::{
    SCRIPTED_PW, alive, assert_each_once, count_subject, eventually, reset_peak, scripted_account,
    status_kib, wait_account_state, wait_all, wait_detail, wait_details, wait_in_state,
};
use pushmail_tests::{
    CertKind, Dovecot, DovecotOptions, Listen, Script, ScriptedServer, Step, message,
};

const PW: &str = "alicepw";
const SHORT: Duration = Duration::from_secs(15);

fn plain_server(script: impl Fn(usize) -> Script + Send + Sync + 'static) -> ScriptedServer {
    ScriptedServer::start(Listen::Plain, script).unwrap()
}

/// The client hung up on connection `n`: it left, or our write to it failed.
fn client_dropped(server: &ScriptedServer, n: usize) -> bool {
    eventually(SHORT, || {
        server
            .record(n)
            .is_some_and(|r| r.client_left || r.write_failed)
    })
}

/// A script that behaves until IDLE, answers `+ idling`, and once the client is waiting in
/// IDLE sends `payload` and stalls.
fn attack_in_idle(payload: Vec<u8>) -> Script {
    Script::new()
        .greet()
        .serve_until("IDLE")
        .send("+ idling\r\n")
        .then(Step::Pause(Duration::from_millis(300)))
        .send(payload)
        .stall()
}

#[test]
fn limits_drop_the_connection_spare_memory_and_other_accounts_carry_on() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let server = plain_server(|_| Script::serve());
    let pm = Pushmail::new();
    let (hostile, healthy) = (unique_id("hostile"), unique_id("healthy"));
    pm.write_config(&[
        scripted_account(&pm, &hostile, server.port(), "plain", None, ""),
        pm.account_toml(&dc, &healthy, "alice", Via::Tls, PW, ""),
    ]);
    let mut w = pm.watch(&[]);
    wait_all(&mut w, &[&hostile, &healthy], "push", SHORT);
    let pid = w.pid();
    // Steady state: both sessions open, TLS and SQLite warmed up.
    dc.deliver(
        "alice",
        "INBOX",
        &message("a@example.com", "alice@example.org", "Warm-up", "x"),
    )
    .unwrap();
    w.wait_new_mail("Warm-up", SHORT);
    let (rss0, hwm0) = (status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM"));
    // From here VmHWM is the peak under attack only, not the start-up peak.
    reset_peak(pid);

    let mut ten_mib_line = b"* OK ".to_vec();
    ten_mib_line.resize(10 * 1024 * 1024, b'A');
    let mut deep = b"* 1 FETCH ".to_vec();
    deep.extend(std::iter::repeat_n(b'(', 100_000));
    deep.extend_from_slice(b"\r\n");
    let attacks: Vec<(&str, Script, &str)> = vec![
        (
            "a {4294967295} literal during IDLE",
            attack_in_idle(b"* 1 FETCH (BODY[] {4294967295}\r\n".to_vec()),
            "literal larger than 262144 bytes",
        ),
        (
            "100,000 nested parentheses during IDLE",
            attack_in_idle(deep),
            "nested parentheses deeper than 64",
        ),
        (
            "a 10 MiB line without CRLF during IDLE",
            attack_in_idle(ten_mib_line),
            "line longer than 65536 bytes",
        ),
        (
            "a {4294967295} literal in the SELECT response",
            Script::new()
                .greet()
                .serve_until("SELECT")
                .send("* 1 FETCH (BODY[HEADER] {4294967295}\r\n")
                .stall(),
            "literal larger than 262144 bytes",
        ),
    ];
    for (i, (what, script, detail)) in attacks.into_iter().enumerate() {
        let first = server.connections();
        server.set_script(move |_| script.clone());
        server.kick();
        let v = wait_detail(&mut w, &hostile, detail, SHORT);
        assert_eq!(v["state"], "backoff", "{what}: {v}");
        assert!(
            client_dropped(&server, first),
            "{what}: the connection was not dropped"
        );
        assert!(alive(pid), "{what}: pushmail-cli died");
        // The healthy account, same process, is not disturbed.
        let subject = format!("Healthy during attack {i}");
        dc.deliver(
            "alice",
            "INBOX",
            &message("a@example.com", "alice@example.org", &subject, "x"),
        )
        .unwrap();
        w.wait_new_mail(&subject, SHORT);
        println!(
            "{what}: refused with \"{}\"",
            v["detail"].as_str().unwrap_or("")
        );
    }
    let (rss1, hwm1) = (status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM"));
    println!(
        "RSS before {rss0} KiB (start-up peak {hwm0} KiB); after four attacks {rss1} KiB (peak during the attacks {hwm1} KiB)"
    );
    assert!(
        hwm1.saturating_sub(rss0) <= 4 * 1024,
        "RSS was {rss0} KiB; the peak under attack was {hwm1} KiB"
    );
    assert!(w.stop(), "watch did not exit cleanly");
}

#[test]
fn pre_login_line_readers_are_bounded_too() {
    let mut huge_greeting = b"* OK ".to_vec();
    huge_greeting.resize(10 * 1024 * 1024, b'G');
    let g1 = huge_greeting.clone();
    // STARTTLS: the greeting is read by hand, before any TLS or framer.
    let starttls = plain_server(move |_| Script::new().send(g1.clone()).stall());
    // Implicit TLS: the greeting is read through the framed stream, inside TLS records.
    let tls = ScriptedServer::start(Listen::Tls(CertKind::Valid), move |_| {
        Script::new().send(huge_greeting.clone()).stall()
    })
    .unwrap();
    let pm = Pushmail::new();
    let (a, b) = (unique_id("pre-stls"), unique_id("pre-tls"));
    pm.write_config(&[
        scripted_account(
            &pm,
            &a,
            starttls.port(),
            "starttls",
            Some(starttls.ca_file()),
            "",
        ),
        scripted_account(&pm, &b, tls.port(), "tls", Some(tls.ca_file()), ""),
    ]);
    let mut w = pm.watch(&[]);
    let pid = w.pid();
    // Over TLS the bytes also pass the framer, but the greeting reader's own 64 KiB cap is hit
    // first; either way nothing past 64 KiB is buffered.
    wait_details(
        &mut w,
        &[(&a, "over-long line"), (&b, "over-long line")],
        SHORT,
    );
    assert!(client_dropped(&starttls, 0) && client_dropped(&tls, 0));
    // Baseline after the first attempt (TLS set up once, trust roots loaded), then three more
    // attacks each.
    let rss0 = status_kib(pid, "VmRSS");
    reset_peak(pid);
    let (n1, n2) = (starttls.connections(), tls.connections());
    assert!(eventually(Duration::from_secs(30), || starttls
        .connections()
        >= n1 + 3
        && tls.connections() >= n2 + 3));
    let hwm = status_kib(pid, "VmHWM");
    println!("RSS {rss0} KiB; peak during six more 10 MiB greetings: {hwm} KiB");
    assert!(
        hwm.saturating_sub(rss0) <= 4 * 1024,
        "RSS {rss0} KiB, peak {hwm} KiB"
    );
    assert!(!starttls.credentials_seen() && !tls.credentials_seen());
}

#[test]
fn bye_instead_of_idle_continuation_loses_nothing() {
    let server = plain_server(|n| match n {
        // BYE instead of "+", connection left open: must not wait command_timeout (30 s).
        0 => Script::new()
            .greet()
            .serve_until("IDLE")
            .deliver("Delivered while BYE stalled")
            .send("* BYE Server shutting down\r\n")
            .stall(),
        // BYE instead of "+", then close, as Dovecot does.
        1 => Script::new()
            .greet()
            .serve_until("IDLE")
            .deliver("Delivered while BYE closed")
            .send("* BYE Server shutting down\r\n")
            .close(),
        _ => Script::serve(),
    });
    let pm = Pushmail::new();
    let id = unique_id("bye");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let started = Instant::now();
    let mut w = pm.watch(&[]);
    let (_, v) = w.wait_new_mail("Delivered while BYE stalled", SHORT);
    assert_eq!(v["catch_up"], true);
    w.wait_new_mail("Delivered while BYE closed", SHORT);
    println!("both caught up {:?} after start", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a BYE without close held the session for {:?}",
        started.elapsed()
    );
    wait_in_state(&mut w, &id, "push", SHORT);
    server.deliver("After the BYEs");
    w.wait_new_mail("After the BYEs", SHORT);
    w.collect_for(Duration::from_millis(500));
    assert_each_once(
        &w,
        &[
            "Delivered while BYE stalled",
            "Delivered while BYE closed",
            "After the BYEs",
        ],
    );
}

/// async-imap reports a FETCH whose answer ends in `* BYE` and a closed connection, or in a
/// tagged NO, as a complete answer. Taken at its word, the catch-up after a reconnect would see
/// no new mail and move past the message: the way one message in a hundred went missing when
/// Dovecot was restarted between our SELECT and our UID FETCH.
#[test]
fn a_catch_up_fetch_cut_short_or_refused_loses_nothing() {
    let server = plain_server(|_| Script::serve());
    let pm = Pushmail::new();
    let id = unique_id("cutfetch");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.set_script(|n| match n {
        // Mail came while we were away; the server shuts down right after our SELECT.
        1 => Script::new()
            .greet()
            .deliver("Delivered before a cut fetch")
            .serve_until("UID FETCH")
            .send("* BYE Server shutting down\r\n")
            .close(),
        // Next time it refuses the fetch outright.
        2 => Script::new()
            .greet()
            .serve_until("UID FETCH")
            .send("{tag} NO [UNAVAILABLE] Try again later\r\n")
            .then(Step::Serve),
        _ => Script::serve(),
    });
    server.kick();
    let (_, v) = w.wait_new_mail("Delivered before a cut fetch", SHORT);
    assert_eq!(v["catch_up"], true);
    assert!(
        server.connections() >= 4,
        "announced before the fetch was ever answered: {} connections",
        server.connections()
    );
    wait_in_state(&mut w, &id, "push", SHORT);
    server.deliver("After the cut fetches");
    w.wait_new_mail("After the cut fetches", SHORT);
    // "Not now" to SELECT is not "no such folder": the folder is tried again, not skipped
    // until some later reconnect.
    let before = server.connections();
    server.set_script(move |n| match n {
        n if n == before => Script::new()
            .greet()
            .deliver("Delivered before a refused select")
            .serve_until("SELECT")
            .send("{tag} NO [UNAVAILABLE] Mailbox is being repaired\r\n")
            .then(Step::Serve),
        _ => Script::serve(),
    });
    server.kick();
    w.wait_new_mail("Delivered before a refused select", SHORT);
    w.collect_for(Duration::from_millis(500));
    assert_each_once(
        &w,
        &[
            "Delivered before a cut fetch",
            "After the cut fetches",
            "Delivered before a refused select",
        ],
    );
}

#[test]
fn exists_before_the_idle_continuation_is_acted_on() {
    let server = plain_server(|n| match n {
        0 => Script::new()
            .greet()
            .serve_until("IDLE")
            .deliver("Raced the IDLE")
            .send("* {exists} EXISTS\r\n* 1 RECENT\r\n+ idling\r\n")
            .then(Step::Idle)
            .then(Step::Serve),
        _ => Script::serve(),
    });
    let pm = Pushmail::new();
    let id = unique_id("race");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    let (_, v) = w.wait_new_mail("Raced the IDLE", Duration::from_secs(5));
    assert_eq!(v["catch_up"], false, "announced live, not on a reconnect");
    w.collect_for(Duration::from_millis(500));
    assert_each_once(&w, &["Raced the IDLE"]);
    assert_eq!(server.connections(), 1, "no reconnect was needed");
}

#[test]
fn responses_for_tags_never_sent_lose_nothing() {
    let server = plain_server(|n| match n {
        // Stray tagged OK and NO, and untagged FETCH/EXPUNGE for messages that do not exist,
        // in IDLE.
        0 => Script::new()
            .greet()
            .serve_until("IDLE")
            .send(
                "+ idling\r\nZZ9 OK [ALERT] stray\r\nA9999 NO [ALERT] stray\r\n\
                 * 4242 FETCH (FLAGS (\\Seen))\r\n* 77 EXPUNGE\r\n",
            )
            .then(Step::Idle)
            .then(Step::Serve),
        _ => Script::serve(),
    });
    let pm = Pushmail::new();
    let id = unique_id("stray");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("After stray lines");
    w.wait_new_mail("After stray lines", SHORT);
    // A stray tagged NO in the middle of a command's answer: async-imap fails that command,
    // the session is rebuilt, and what arrived meanwhile is caught up once.
    server.set_script(|n| match n {
        1 => Script::new()
            .greet()
            .serve_until("UID SEARCH")
            .send("Q42 NO [ALERT] not yours\r\n")
            .answer()
            .then(Step::Serve),
        _ => Script::serve(),
    });
    server.kick();
    server.deliver("Across the stray NO");
    w.wait_new_mail("Across the stray NO", SHORT);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("After the stray NO");
    w.wait_new_mail("After the stray NO", SHORT);
    w.collect_for(Duration::from_millis(500));
    assert_each_once(
        &w,
        &[
            "After stray lines",
            "Across the stray NO",
            "After the stray NO",
        ],
    );
}

#[test]
fn uidnext_going_backwards_does_not_hide_new_mail() {
    let server = plain_server(|_| Script::serve());
    server.with_mailbox(|m| m.uidnext = 100);
    let pm = Pushmail::new();
    let id = unique_id("rewind");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    assert_eq!(server.deliver("Before the restore"), 100);
    w.wait_new_mail("Before the restore", SHORT);
    // The server is restored from a backup taken before UID 95: same UIDVALIDITY, lower
    // UIDNEXT, and the next message reuses UID 95.
    server.with_mailbox(|m| {
        m.messages.retain(|x| x.uid < 95);
        m.uidnext = 95;
    });
    let before = server.connections();
    server.kick();
    assert!(eventually(SHORT, || server.connections() > before));
    wait_account_state(&mut w, &id, "push", SHORT);
    assert_eq!(server.deliver("After the restore"), 95);
    let (_, v) = w.wait_new_mail("After the restore", SHORT);
    assert_eq!(v["uid"], 95);
    w.collect_for(Duration::from_millis(500));
    assert_each_once(&w, &["After the restore", "Before the restore"]);
}

#[test]
fn select_without_uidnext_still_finds_new_mail_once() {
    let server = plain_server(|_| Script::serve());
    server.with_mailbox(|m| {
        m.report_uidnext = false;
        for i in 0..5 {
            m.messages.push(pushmail_tests::ScriptedMessage {
                uid: 10 + i,
                seen: false,
                subject: format!("Old unread {i}"),
                header: None,
                fetch: None,
            });
        }
        m.uidnext = 15;
    });
    let pm = Pushmail::new();
    let id = unique_id("nouidnext");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("Live without UIDNEXT");
    w.wait_new_mail("Live without UIDNEXT", SHORT);
    server.kick();
    server.deliver("While reconnecting without UIDNEXT");
    w.wait_new_mail("While reconnecting without UIDNEXT", SHORT);
    w.collect_for(Duration::from_millis(800));
    let subjects: Vec<&str> = w
        .new_mails()
        .iter()
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["Live without UIDNEXT", "While reconnecting without UIDNEXT"],
        "old mail announced or new mail repeated"
    );
}

#[test]
fn a_burst_of_unsolicited_responses_is_drained_without_stalling() {
    let mut burst = b"+ idling\r\n".to_vec();
    for i in 1..=10_000u32 {
        burst.extend_from_slice(format!("* {i} FETCH (FLAGS (\\Seen))\r\n").as_bytes());
    }
    for _ in 0..10_000u32 {
        burst.extend_from_slice(b"* 1 EXPUNGE\r\n");
    }
    let size = burst.len();
    let server = plain_server(move |n| match n {
        0 => Script::new()
            .greet()
            .serve_until("IDLE")
            .send(burst.clone())
            .then(Step::Idle)
            .then(Step::Serve),
        _ => Script::serve(),
    });
    let pm = Pushmail::new();
    let id = unique_id("burst");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    // The server's 20,000-line write only completes if the client keeps reading.
    assert!(
        eventually(SHORT, || server
            .record(0)
            .is_some_and(|r| r.lines.iter().any(|l| l == "DONE"))),
        "the client never got through the burst to DONE"
    );
    let t = Instant::now();
    server.deliver("After the burst");
    w.wait_new_mail("After the burst", Duration::from_secs(5));
    println!(
        "{size} bytes of unsolicited responses drained; next mail after {:?}",
        t.elapsed()
    );
    assert_eq!(server.connections(), 1, "the burst cost the session");
    assert!(!server.record(0).unwrap().write_failed);
}

#[test]
fn starttls_attacks_are_refused_before_any_credential() {
    let caps = "IMAP4rev1 STARTTLS IDLE AUTH=PLAIN";
    // A proper STARTTLS server, so the refusals below are about the attacks and nothing else.
    let honest = plain_server(move |_| Script::starttls());
    let stripped = plain_server(|_| Script::starttls_stripped());
    let preauth = plain_server(move |_| {
        Script::new()
            .send(format!(
                "* PREAUTH [CAPABILITY {caps}] Logged in as alice\r\n"
            ))
            .then(Step::Serve)
    });
    let injected = plain_server(move |_| {
        Script::new()
            .capabilities(caps)
            .greet()
            .expect("STARTTLS")
            .send(
                "{tag} OK Begin TLS negotiation now\r\n* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN\r\n",
            )
            .then(Step::StartTls)
            .then(Step::Serve)
    });
    let early = plain_server(move |_| {
        Script::new()
            .send(format!(
                "* OK [CAPABILITY {caps}] ready\r\nS1 OK Begin TLS negotiation now\r\n"
            ))
            .expect("STARTTLS")
            .then(Step::StartTls)
            .then(Step::Serve)
    });
    let pm = Pushmail::new();
    let ids: Vec<String> = ["honest", "stripped", "preauth", "injected", "early"]
        .iter()
        .map(|p| unique_id(p))
        .collect();
    let servers = [&honest, &stripped, &preauth, &injected, &early];
    pm.write_config(
        &ids.iter()
            .zip(servers)
            .map(|(id, s)| scripted_account(&pm, id, s.port(), "starttls", Some(s.ca_file()), ""))
            .collect::<Vec<_>>(),
    );
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &ids[0], "push", SHORT);
    let refusals = wait_details(
        &mut w,
        &[
            (&ids[1], "does not offer STARTTLS"),
            (&ids[2], "PREAUTH"),
            (&ids[3], "after agreeing to STARTTLS"),
            (&ids[4], "before STARTTLS was requested"),
        ],
        SHORT,
    );
    for v in refusals {
        // A possible attack needs the user: `error` (attention), never a quiet `backoff`.
        assert_eq!(v["state"], "error", "{v}");
        println!("{}", v["detail"].as_str().unwrap_or(""));
    }
    // Let every attacker try again at least once: still nothing.
    assert!(eventually(SHORT, || servers[1..]
        .iter()
        .all(|s| s.connections() >= 2)));
    assert!(honest.credentials_seen(), "the honest server got a login");
    for (s, name) in servers[1..]
        .iter()
        .zip(["stripped", "preauth", "injected", "early"])
    {
        assert!(!s.credentials_seen(), "{name}: a credential was sent");
    }
}

#[test]
fn bad_certificates_are_refused_with_a_specific_error_and_no_fallback() {
    let make = |kind| ScriptedServer::start(Listen::Tls(kind), |_| Script::serve()).unwrap();
    let (valid, expired, wrong, unknown) = (
        make(CertKind::Valid),
        make(CertKind::Expired),
        make(CertKind::WrongHost),
        make(CertKind::UnknownCa),
    );
    let servers = [&valid, &expired, &wrong, &unknown];
    let pm = Pushmail::new();
    let ids: Vec<String> = ["valid", "expired", "wronghost", "unknownca"]
        .iter()
        .map(|p| unique_id(p))
        .collect();
    pm.write_config(
        &ids.iter()
            .zip(servers)
            .map(|(id, s)| scripted_account(&pm, id, s.port(), "tls", Some(s.ca_file()), ""))
            .collect::<Vec<_>>(),
    );
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &ids[0], "push", SHORT);
    let refusals = wait_details(
        &mut w,
        &[
            (&ids[1], "certificate has expired"),
            (&ids[2], "certificate is for a different host name"),
            (&ids[3], "signed by an unknown authority"),
        ],
        SHORT,
    );
    for v in refusals {
        let detail = v["detail"].as_str().unwrap();
        assert_eq!(v["state"], "error", "{v}");
        assert!(detail.contains("ca_file"), "the hint names the fix: {v}");
        println!("{detail}");
    }
    assert!(eventually(SHORT, || servers[1..]
        .iter()
        .all(|s| s.connections() >= 2)));
    assert!(valid.credentials_seen());
    for s in &servers[1..] {
        assert!(
            !s.credentials_seen(),
            "a credential reached a server with a bad certificate"
        );
        // Every attempt was a TLS handshake that failed: never a plaintext retry.
        for r in s.records().iter().filter(|r| r.finished) {
            assert!(r.tls_error.is_some(), "{r:?}");
            assert!(r.lines.is_empty(), "an IMAP line arrived: {r:?}");
        }
    }
}

/// The longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        cur = if ch == c { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

#[test]
fn server_text_in_logs_is_capped_at_one_kib() {
    let z = "Z".repeat(60_000);
    let (z1, z2, z3, z4) = (z.clone(), z.clone(), z.clone(), z.clone());
    let servers = [
        // Greeting BYE (read by hand).
        plain_server(move |_| Script::new().send(format!("* BYE {z1}\r\n")).close()),
        // LOGIN refused with a long text.
        plain_server(move |_| {
            Script::new()
                .greet()
                .serve_until("LOGIN")
                .send(format!("{{tag}} NO {z2}\r\n"))
                .then(Step::Serve)
        }),
        // SELECT refused with a long text.
        plain_server(move |_| {
            Script::new()
                .greet()
                .serve_until("SELECT")
                .send(format!("{{tag}} NO {z3}\r\n"))
                .then(Step::Serve)
        }),
        // An unparseable response: async-imap's error carries the whole buffer.
        plain_server(move |_| {
            Script::new()
                .greet()
                .serve_until("SELECT")
                .send(format!("* {z4}\r\n"))
                .stall()
        }),
        // BYE during IDLE.
        plain_server(move |_| {
            Script::new()
                .greet()
                .serve_until("IDLE")
                .send(format!("+ idling\r\n* BYE {z}\r\n"))
                .close()
        }),
    ];
    let pm = Pushmail::new();
    let ids: Vec<String> = (0..servers.len())
        .map(|i| unique_id(&format!("long{i}")))
        .collect();
    pm.write_config(
        &ids.iter()
            .zip(&servers)
            .map(|(id, s)| scripted_account(&pm, id, s.port(), "plain", None, ""))
            .collect::<Vec<_>>(),
    );
    let mut w = pm.watch(&[("RUST_LOG", "trace")]);
    // Every account reaches an error state whose detail carries some of the server's text.
    // The parse error shows the server's bytes as numbers ("[42, 32, 90, 90, …"), so it is
    // recognised by its context, and capped by length like every other line below.
    let pairs: Vec<(&str, &str)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                id.as_str(),
                if i == 3 { "selecting a folder" } else { "ZZZZ" },
            )
        })
        .collect();
    for v in wait_details(&mut w, &pairs, SHORT) {
        let id = &v["account"];
        let detail = v["detail"].as_str().unwrap();
        let run = longest_run(detail, 'Z');
        assert!(
            run <= 1024,
            "{id}: {run} bytes of server text in a status detail"
        );
        assert!(
            detail.len() <= 1024 + 512,
            "{id}: a {}-byte status detail",
            detail.len()
        );
    }
    assert!(w.stop());
    let stderr = w.stderr();
    let stdout = w.stdout_raw();
    assert!(
        stderr.contains("ZZZZ"),
        "server text never reached the log, so this proves nothing"
    );
    for (name, text) in [("stderr", &stderr), ("stdout", &stdout)] {
        for line in text.lines() {
            let run = longest_run(line, 'Z');
            assert!(
                run <= 1024,
                "{name}: a line with {run} bytes of server text: {:.200}",
                line
            );
            // Timestamp, level, fields and hint add well under 1 KiB to the capped text.
            assert!(
                line.len() <= 2048,
                "{name}: a {}-byte line: {:.200}",
                line.len(),
                line
            );
        }
    }
}

#[test]
fn no_secret_in_any_output_even_when_the_server_echoes_it() {
    let blob = "AGFsaWNlAFNjcjFwdGVkLVMzY3JldC1wdw=="; // base64("\0alice\0Scr1pted-S3cret-pw")
    // LOGIN, answered by a server that echoes the command back.
    let echo_login = plain_server(|_| {
        Script::new()
            .greet()
            .serve_until("LOGIN")
            .send(format!(
                "{{tag}} NO [AUTHENTICATIONFAILED] You sent LOGIN \"alice\" \"{SCRIPTED_PW}\"\r\n"
            ))
            .then(Step::Serve)
    });
    // AUTHENTICATE PLAIN (LOGINDISABLED), answered by one that echoes the SASL blob and the
    // decoded password.
    let echo_sasl = plain_server(move |_| {
        Script::new()
            .capabilities("IMAP4rev1 IDLE LOGINDISABLED AUTH=PLAIN")
            .greet()
            .serve_until("AUTHENTICATE")
            .send("+ \r\n")
            .read()
            .send(format!(
                "{{tag}} NO [AUTHENTICATIONFAILED] Bad credentials {blob} = {SCRIPTED_PW}\r\n"
            ))
            .then(Step::Serve)
    });
    // A healthy session, so the password also travels on a successful login.
    let ok = plain_server(|_| Script::serve());
    let pm = Pushmail::new();
    let (a, b, c) = (unique_id("echo"), unique_id("sasl"), unique_id("okpw"));
    let servers = [&echo_login, &echo_sasl, &ok];
    pm.write_config(&[
        scripted_account(&pm, &a, echo_login.port(), "plain", None, ""),
        scripted_account(&pm, &b, echo_sasl.port(), "plain", None, ""),
        scripted_account(&pm, &c, ok.port(), "plain", None, ""),
    ]);
    let env = [("RUST_LOG", "trace"), ("RUST_BACKTRACE", "1")];
    let mut w = pm.watch(&env);
    let found = wait_details(&mut w, &[(&a, "REDACTED"), (&b, "REDACTED")], SHORT);
    let (va, vb) = (found[0].clone(), found[1].clone());
    assert_eq!(va["state"], "auth_failed", "{va}");
    assert_eq!(vb["state"], "auth_failed", "{vb}");
    if !w
        .seen
        .iter()
        .any(|(_, v)| v["account"] == c.as_str() && v["state"] == "push")
    {
        wait_account_state(&mut w, &c, "push", SHORT);
    }
    assert!(
        va["detail"].as_str().unwrap().contains("[REDACTED]"),
        "{va}"
    );
    assert!(
        vb["detail"].as_str().unwrap().contains("[REDACTED]"),
        "{vb}"
    );
    // The server really got the blob, so the echo test is real.
    let sasl = echo_sasl.records();
    assert!(
        sasl.iter().any(|r| r.lines.iter().any(|s| s == blob)),
        "{sasl:?}"
    );
    assert!(w.stop());
    let test = pm.cli(&["account", "test", &a], "", &env);
    assert_ne!(test.code, Some(0));
    let mut haystacks = vec![
        ("watch stdout".to_owned(), w.stdout_raw()),
        ("watch stderr".to_owned(), w.stderr()),
        ("test stdout".to_owned(), test.stdout),
        ("test stderr".to_owned(), test.stderr),
    ];
    assert!(
        haystacks[1].1.contains("TRACE") || haystacks[1].1.contains("DEBUG"),
        "trace logging was not on"
    );
    for entry in files_under(pm.dir.path()) {
        let name = entry.display().to_string();
        if name.contains("/pw-") {
            continue; // the password_command's own source, which the test wrote
        }
        haystacks.push((
            name,
            String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned(),
        ));
    }
    for (what, text) in &haystacks {
        assert!(!text.contains(SCRIPTED_PW), "password found in {what}");
        assert!(!text.contains(blob), "SASL PLAIN blob found in {what}");
    }
    assert!(servers.iter().all(|s| s.credentials_seen()));

    // Debug output of the types that hold configuration and the secret itself.
    let config = pushmail_core::Config::load(&pm.config()).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(SCRIPTED_PW) && !debug.contains(blob));
    let account = config.account(&c).unwrap().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secret = rt
        .block_on(pushmail_core::secret::password(&account))
        .unwrap();
    let shown = format!("{secret:?} {account:?}");
    assert!(!shown.contains(SCRIPTED_PW), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
    // A panic that formats the secret (the only way one could print it) shows it redacted.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panic!("login failed with {secret:?}")
    }));
    let msg = caught.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(
        !msg.contains(SCRIPTED_PW) && msg.contains("REDACTED"),
        "{msg}"
    );
}

/// Issue 16 §1: anyone can send a message Pushmail cannot read in full — a 1 MiB subject, a
/// 300 KiB From — or a server can answer for one with a literal that lies about its size or a
/// FETCH that does not parse. Before, each broke the header fetch on every reconnect, forever,
/// and nothing after it in the folder was ever announced. Now each is announced once (cut, or
/// as "could not be read") and the normal message after it arrives once, on time.
#[test]
fn one_unreadable_message_never_blocks_the_next() {
    let server = plain_server(|_| Script::serve());
    let pm = Pushmail::new();
    let id = unique_id("poison");
    // Short command timeout: the lying literal is only noticed when the rest never comes.
    // Each hostile message costs two or three reconnects; five in a row would reach the
    // default cap of 6 logins a minute, which is not what this test is about.
    pm.write_config(&[scripted_account(
        &pm,
        &id,
        server.port(),
        "plain",
        None,
        "command_timeout_secs = 2\nmax_logins_per_minute = 60",
    )]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);

    let mut huge_subject = b"From: Big <big@example.com>\r\nSubject: ".to_vec();
    huge_subject.extend(std::iter::repeat_n(b'S', 1024 * 1024));
    huge_subject.extend_from_slice(b"\r\n\r\n");
    let mut huge_from = b"Subject: Wide sender\r\nFrom: \"".to_vec();
    huge_from.extend(std::iter::repeat_n(b'F', 300 * 1024));
    huge_from.extend_from_slice(b"\" <wide@example.com>\r\n\r\n");
    let section = "BODY[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]";
    // Announces 4,000 bytes and sends 30: the tagged OK disappears into the "literal".
    let lies_long = format!(
        "* {{seq}} FETCH (UID {{uid}} FLAGS () {section} {{4000}}\r\nSubject: lies\r\n\r\n)\r\n"
    );
    // Announces 5 bytes and sends 30: the rest does not parse.
    let lies_short = format!(
        "* {{seq}} FETCH (UID {{uid}} FLAGS () {section} {{5}}\r\nSubject: lies\r\n\r\n)\r\n"
    );
    let garbage = format!("* {{seq}} FETCH (UID {{uid}} FLAGS () {section} ((((\"\r\n");
    type Hostile = (&'static str, Option<Vec<u8>>, Option<Vec<u8>>);
    let cases: Vec<Hostile> = vec![
        ("a 1 MiB subject", Some(huge_subject), None),
        ("a 300 KiB From", Some(huge_from), None),
        (
            "a literal longer than it says",
            None,
            Some(lies_short.into_bytes()),
        ),
        (
            "a literal shorter than it says",
            None,
            Some(lies_long.into_bytes()),
        ),
        (
            "a FETCH that does not parse",
            None,
            Some(garbage.into_bytes()),
        ),
    ];
    for (i, (what, header, fetch)) in cases.into_iter().enumerate() {
        let started = Instant::now();
        let bad_uid =
            server.with_mailbox(|m| m.add_hostile(&format!("hostile {i}"), header, fetch));
        let after = format!("After hostile {i}");
        server.deliver(&after);
        w.wait_new_mail(&after, Duration::from_secs(40));
        let took = started.elapsed();
        w.collect_for(Duration::from_secs(1));
        let bad: Vec<&serde_json::Value> = w
            .new_mails()
            .into_iter()
            .filter(|v| v["uid"] == bad_uid)
            .collect();
        assert_eq!(bad.len(), 1, "{what}: announced once: {bad:#?}");
        assert_eq!(count_subject(&w, &after), 1, "{what}");
        println!(
            "{what}: the next message announced after {:.1} s; the hostile one as {}",
            took.as_secs_f64(),
            bad[0].to_string().chars().take(200).collect::<String>()
        );
        match i {
            0 => {
                let s = bad[0]["subject"].as_str().unwrap();
                assert!(
                    s.starts_with("SSSS") && s.len() < 40 * 1024,
                    "{what}: cut, not refused"
                );
                assert_eq!(bad[0]["from_address"], "big@example.com");
            }
            1 => assert_eq!(bad[0]["subject"], "Wide sender", "{what}"),
            _ => assert_eq!(bad[0]["unreadable"], true, "{what}"),
        }
        // No user reads a Rust Debug dump of the parser's state.
        for (_, v) in &w.seen {
            let detail = v["detail"].as_str().unwrap_or("");
            assert!(!detail.contains("Error {"), "{what}: {detail}");
        }
    }
    // Settled: a later message costs one push as ever, and nothing was repeated.
    server.deliver("Quiet again");
    w.wait_new_mail("Quiet again", SHORT);
    assert_each_once(
        &w,
        &[
            "After hostile 0",
            "After hostile 1",
            "After hostile 2",
            "After hostile 3",
            "After hostile 4",
            "Quiet again",
        ],
    );
    assert!(w.stop(), "watch did not exit cleanly");
}

/// Issue 16 §2: a security problem (here STARTTLS stripped, as an attacker or a captive portal
/// would) is retried, but shows as `error` — attention — through every retry, not as a quiet
/// `backoff` or a flicker back to `connecting`, and clears as soon as the account connects.
#[test]
fn a_security_problem_needs_attention_until_the_account_connects() {
    let stripped = || Script::starttls_stripped();
    let server = plain_server(move |_| stripped());
    let pm = Pushmail::new();
    let id = unique_id("stripped");
    pm.write_config(&[scripted_account(
        &pm,
        &id,
        server.port(),
        "starttls",
        Some(server.ca_file()),
        "",
    )]);
    let mut w = pm.watch(&[]);
    let v = wait_detail(&mut w, &id, "does not offer STARTTLS", SHORT);
    assert_eq!(v["state"], "error", "{v}");
    // Three more attempts (backoff 1–2 s): the state never leaves `error`.
    assert!(eventually(SHORT, || server.connections() >= 4));
    w.collect_for(Duration::from_millis(500));
    let states = w_states(&w, &id);
    let after_first_error: Vec<&String> = states
        .iter()
        .skip_while(|s| s.as_str() != "error")
        .collect();
    assert!(
        after_first_error.iter().all(|s| s.as_str() == "error"),
        "the attention state flickered: {states:?}"
    );
    assert!(!server.credentials_seen(), "a credential was sent");
    // The network is fine again: the account connects and the problem is gone.
    server.set_script(move |_| Script::starttls());
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("Safe again");
    w.wait_new_mail("Safe again", SHORT);
    assert!(w.stop(), "watch did not exit cleanly");
}

/// The account's `state` events so far, in order.
fn w_states(w: &common::Watch, account: &str) -> Vec<String> {
    w.seen
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["event"] == "state" && v["account"] == account)
        .map(|v| v["state"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Issue 15: a server that accepts the login and then says `* BYE [ALERT] …` and closes (Cyrus
/// in maintenance mode does) was shown as a reset connection. Its own words now reach the
/// user, apart from ours, as a `BYE` during IDLE always did; and it is retried quietly.
#[test]
fn a_bye_alert_right_after_login_is_shown_in_the_servers_words() {
    let server = plain_server(|_| {
        Script::new()
            .greet()
            .expect("LOGIN")
            .answer()
            .send("* BYE [ALERT] Down for maintenance until 10:00 UTC\r\n")
            .close()
    });
    let pm = Pushmail::new();
    let id = unique_id("maint");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    let v = wait_detail(&mut w, &id, "Down for maintenance", SHORT);
    let detail = v["detail"].as_str().unwrap();
    println!("{detail}");
    assert!(
        detail.contains(
            "the server closed the session: [ALERT] Down for maintenance until 10:00 UTC"
        ),
        "{detail}"
    );
    assert!(!detail.contains("connection lost"), "{detail}");
    assert_eq!(v["state"], "backoff", "maintenance passes: {v}");
    assert_eq!(v["problem"]["kind"], "network", "{v}");
    assert!(w.stop(), "watch did not exit cleanly");
}
