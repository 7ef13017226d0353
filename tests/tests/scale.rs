//! Big mailboxes: watching starts fast and never reads the whole folder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::time::{Duration, Instant};

use common::{Pushmail, RecordingProxy, Via, unique_id};
use pushmail_tests::{Dovecot, DovecotOptions, message};

#[test]
fn a_100k_message_inbox_is_watched_within_two_seconds_without_fetching_it() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let t = Instant::now();
    dc.fill("alice", "INBOX", 100_000, true).unwrap();
    eprintln!("filled 100,000 messages in {:?}", t.elapsed());
    // Plaintext on loopback through a recording proxy, so the test can read every command.
    let proxy = RecordingProxy::start(dc.imap_port());
    let pm = Pushmail::new();
    let block = pm
        .account_toml(&dc, &unique_id("big"), "alice", Via::Plain, "alicepw", "")
        .replace(
            &format!("port = {}", dc.imap_port()),
            &format!("port = {}", proxy.port),
        );
    pm.write_config(&[block]);
    // Warm Dovecot's index once, as a long-lived server would be; Pushmail's own time is measured.
    dc.login("alice").unwrap().select("INBOX").unwrap();
    let started = Instant::now();
    let mut w = pm.watch(&[]);
    let (at, _) = w.wait_for(Duration::from_secs(10), "push", |v| {
        v["event"] == "state" && v["state"] == "push"
    });
    let took = at.duration_since(started);
    eprintln!("process start to watching a 100k INBOX: {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    dc.deliver(
        "alice",
        "INBOX",
        &message("a@example.com", "alice@example.org", "Needle", "x"),
    )
    .unwrap();
    w.wait_new_mail("Needle", Duration::from_secs(5));
    let sent = proxy.client_text();
    assert!(!sent.contains("FETCH 1:*"), "{sent}");
    // Dovecot pushes the new message with its envelope (NOTIFY): nothing needs fetching; were
    // anything fetched, only the new UIDs.
    assert!(
        sent.lines()
            .filter(|l| l.contains("FETCH"))
            .all(|l| l.contains("UID FETCH 100001:*")),
        "only new UIDs are fetched: {sent}"
    );
    let received = proxy
        .server_bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("bytes from the server for login + watch + one new mail: {received}");
    assert!(
        received < 64 * 1024,
        "{received} bytes: the mailbox was read"
    );
}
