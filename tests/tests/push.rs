//! The push engine end to end: the real `pushmail-cli watch --json` against a real Dovecot.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{Pushmail, Via, deliver_offline, unique_id};
use pushmail_tests::{CAPABILITIES_WITHOUT_NOTIFY, Dovecot, DovecotOptions, message};
use serde_json::Value;

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

#[test]
fn new_mail_is_pushed_within_two_seconds_over_tls() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("tls");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    // The first count comes with the initial sync, before the session reports push.
    assert!(
        w.seen
            .iter()
            .any(|(_, v)| v["event"] == "unread" && v["count"] == 0),
        "{:#?}",
        w.seen
    );
    for i in 0..3 {
        let subject = format!("Push test {i}");
        let sent = Instant::now();
        let uid = dc.deliver("alice", "INBOX", &mail(&subject)).unwrap();
        let (at, ev) = w.wait_new_mail(&subject, SHORT);
        let latency = at.duration_since(sent);
        assert!(latency < Duration::from_secs(2), "latency {latency:?}");
        assert_eq!(ev["account"], id.as_str());
        assert_eq!(ev["folder"], "INBOX");
        assert_eq!(ev["uid"], uid);
        assert_eq!(ev["from_name"], "Ana Pérez");
        assert_eq!(ev["from_address"], "ana@example.com");
        assert_eq!(ev["catch_up"], false);
        assert!(ev["uidvalidity"].as_u64().unwrap() > 0);
        assert!(!ev["message_id"].as_str().unwrap().is_empty());
        w.wait_for(SHORT, "unread count", |v| {
            v["event"] == "unread" && v["count"] == i + 1
        });
    }
    w.collect_for(Duration::from_millis(1500));
    assert_eq!(w.new_mails().len(), 3, "{:#?}", w.seen);
    assert!(w.stop(), "watch did not exit cleanly on SIGTERM");
}

#[test]
fn servers_without_idle_are_polled() {
    let dc = Dovecot::start(DovecotOptions {
        idle: false,
        ..Default::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("poll");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", Via::Tls, PW, "poll_interval_secs = 1")]);
    let mut w = pm.watch(&[]);
    w.wait_state("polling", SHORT);
    dc.deliver("alice", "INBOX", &mail("Polled")).unwrap();
    w.wait_new_mail("Polled", Duration::from_secs(4));
    w.collect_for(Duration::from_millis(2500));
    assert_eq!(w.count_new_mail("Polled"), 1);
}

#[test]
fn read_elsewhere_drops_the_count_and_fires_seen() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("seen"), "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    let uid = dc
        .deliver("alice", "INBOX", &mail("Read me elsewhere"))
        .unwrap();
    w.wait_new_mail("Read me elsewhere", SHORT);
    w.wait_for(SHORT, "unread 1", |v| {
        v["event"] == "unread" && v["count"] == 1
    });
    let t = Instant::now();
    dc.set_seen("alice", "INBOX", uid).unwrap();
    w.wait_for(SHORT, "seen", |v| v["event"] == "seen" && v["uid"] == uid);
    w.wait_for(SHORT, "unread 0", |v| {
        v["event"] == "unread" && v["count"] == 0
    });
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "count dropped after {:?}",
        t.elapsed()
    );
    // Deleting an announced message also withdraws it.
    let uid2 = dc
        .deliver("alice", "INBOX", &mail("Delete me elsewhere"))
        .unwrap();
    w.wait_new_mail("Delete me elsewhere", SHORT);
    dc.expunge("alice", "INBOX", uid2).unwrap();
    w.wait_for(SHORT, "seen after expunge", |v| {
        v["event"] == "seen" && v["uid"] == uid2
    });
}

#[test]
fn mail_delivered_during_an_outage_is_announced_exactly_once() {
    let mut dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("outage"), "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    dc.deliver("alice", "INBOX", &mail("Before outage"))
        .unwrap();
    w.wait_new_mail("Before outage", SHORT);
    dc.stop().unwrap();
    w.wait_state("backoff", SHORT);
    deliver_offline(&dc, "alice", &mail("During outage 1"));
    deliver_offline(&dc, "alice", &mail("During outage 2"));
    dc.start_again().unwrap();
    let (_, ev) = w.wait_new_mail("During outage 2", Duration::from_secs(15));
    assert_eq!(ev["catch_up"], true);
    w.wait_state("push", SHORT);
    dc.deliver("alice", "INBOX", &mail("After outage")).unwrap();
    w.wait_new_mail("After outage", SHORT);
    w.collect_for(Duration::from_millis(1500));
    for s in [
        "Before outage",
        "During outage 1",
        "During outage 2",
        "After outage",
    ] {
        assert_eq!(w.count_new_mail(s), 1, "{s}: {:#?}", w.new_mails());
    }
}

#[test]
fn restarting_pushmail_repeats_nothing_and_catches_up_once() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("restart"), "alice", Via::Tls, PW, "")]);
    // Mail that was there before Pushmail first ran is old news: never announced.
    dc.deliver("alice", "INBOX", &mail("Ancient")).unwrap();
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    dc.deliver("alice", "INBOX", &mail("First run")).unwrap();
    w.wait_new_mail("First run", SHORT);
    assert!(w.stop());
    dc.deliver("alice", "INBOX", &mail("While off 1")).unwrap();
    dc.deliver("alice", "INBOX", &mail("While off 2")).unwrap();
    let mut w2 = pm.watch(&[]);
    w2.wait_state("push", SHORT);
    w2.collect_for(Duration::from_millis(1000));
    let subjects: Vec<&str> = w2
        .new_mails()
        .iter()
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["While off 1", "While off 2"], "{:#?}", w2.seen);
    assert!(w2.new_mails().iter().all(|v| v["catch_up"] == true));
    assert_eq!(w.count_new_mail("Ancient"), 0);
}

#[test]
fn uidvalidity_change_rebaselines_without_a_flood() {
    let mut dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("uidv"), "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    for i in 0..5 {
        dc.deliver("alice", "INBOX", &mail(&format!("Old {i}")))
            .unwrap();
    }
    w.wait_new_mail("Old 4", SHORT);
    assert!(w.stop());
    dc.stop().unwrap();
    dc.start_again().unwrap();
    dc.set_uidvalidity("alice", "INBOX", 4242).unwrap();
    let mut w2 = pm.watch(&[]);
    w2.wait_state("push", SHORT);
    dc.deliver("alice", "INBOX", &mail("Fresh after rebuild"))
        .unwrap();
    let (_, ev) = w2.wait_new_mail("Fresh after rebuild", SHORT);
    assert_eq!(ev["uidvalidity"], 4242);
    w2.collect_for(Duration::from_millis(1000));
    assert_eq!(
        w2.new_mails().len(),
        1,
        "flood after UIDVALIDITY change: {:#?}",
        w2.new_mails()
    );
}

/// 20,000 unread messages make a `* SEARCH` line of ~140 KB, past the 64 KiB line limit that
/// protects against hostile servers: the limit must let a real result through (and the count
/// must be exact), or a user who never reads a mailing-list folder would lose push on it.
#[test]
fn a_folder_with_twenty_thousand_unread_is_counted_and_pushed() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    dc.fill("alice", "INBOX", 20_000, false).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("unread20k");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", Duration::from_secs(30));
    // The first count comes with the initial sync, before the session reports push.
    assert!(
        w.seen
            .iter()
            .any(|(_, v)| v["event"] == "unread" && v["count"] == 20_000),
        "{:#?}",
        w.seen
    );
    let uid = dc.deliver("alice", "INBOX", &mail("One more")).unwrap();
    let (_, ev) = w.wait_new_mail("One more", SHORT);
    assert_eq!(ev["uid"], uid);
    w.wait_for(SHORT, "the count after one more", |v| {
        v["event"] == "unread" && v["count"] == 20_001
    });
    assert!(
        !w.seen.iter().any(|(_, v)| v["event"] == "state"
            && v["state"] != "push"
            && v["state"] != "connecting"),
        "the session broke: {:#?}",
        w.seen
            .iter()
            .filter(|(_, v)| v["event"] == "state")
            .collect::<Vec<_>>()
    );
}

/// How soon after reaching the server each message was announced (`received_at`, `delay_ms`;
/// docs/events.md), on every way mail is announced: from NOTIFY's push (no command sent),
/// and on a server without NOTIFY from the `UID FETCH` that leaves with `DONE`; mail found on
/// a restart carries it too (what it measures then is how long Pushmail was off).
#[test]
fn each_announcement_says_how_soon_after_reaching_the_server_with_notify() {
    says_how_soon_after_reaching_the_server(None);
}

#[test]
fn each_announcement_says_how_soon_after_reaching_the_server_without_notify() {
    says_how_soon_after_reaching_the_server(Some(CAPABILITIES_WITHOUT_NOTIFY));
}

fn says_how_soon_after_reaching_the_server(capabilities: Option<&str>) {
    let dc = Dovecot::start(DovecotOptions {
        capabilities: capabilities.map(str::to_owned),
        ..Default::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("delay"), "alice", Via::Tls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    for i in 0..3 {
        let subject = format!("How soon {i}");
        let before = unix_ms_now();
        dc.deliver("alice", "INBOX", &mail(&subject)).unwrap();
        let (_, ev) = w.wait_new_mail(&subject, SHORT);
        assert_plausible_delay(&ev, before, unix_ms_now());
        // Pushed within a second or two; the whole-second date adds at most one more.
        let delay = ev["delay_ms"].as_u64().unwrap();
        assert!(delay < 3_000, "{delay} ms: {ev}");
    }
    assert!(w.stop());
    // Found on the next start: dated when it reached the server, not when it was found.
    let before = unix_ms_now();
    dc.deliver("alice", "INBOX", &mail("While off")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let mut w = pm.watch(&[]);
    let (_, ev) = w.wait_new_mail("While off", SHORT);
    assert_eq!(ev["catch_up"], true);
    assert_plausible_delay(&ev, before, unix_ms_now());
    assert!(ev["delay_ms"].as_u64().unwrap() >= 1_000, "{ev}");
    assert!(w.stop());
}

/// `received_at` is when the message reached the server (whole seconds, between the delivery
/// and the announcement) and `delay_ms` leads from it to the announcement, which came between
/// `before` (delivery) and `after` (the line was read), on this machine's one clock.
fn assert_plausible_delay(ev: &Value, before_ms: i64, after_ms: i64) {
    let received = ev["received_at"]
        .as_str()
        .unwrap_or_else(|| panic!("no received_at: {ev}"));
    let received_ms = unix_of_rfc3339(received) * 1000;
    assert!(
        received_ms > before_ms - 1000 && received_ms <= after_ms,
        "received_at {received} is not between the delivery and the announcement: {ev}"
    );
    let delay = ev["delay_ms"]
        .as_i64()
        .unwrap_or_else(|| panic!("no delay_ms: {ev}"));
    let announced_ms = received_ms + delay;
    assert!(
        announced_ms >= before_ms && announced_ms <= after_ms,
        "received_at + delay_ms is not when it was announced ({before_ms}..={after_ms}): {ev}"
    );
}

fn unix_ms_now() -> i64 {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// Unix seconds of `received_at`'s form: `2026-12-07T10:31:41Z` or `…T11:31:41+01:00`.
fn unix_of_rfc3339(s: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| -> i64 { s[range].parse().unwrap() };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    let offset = match &s[19..] {
        "Z" => 0,
        zone => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (zone[1..3].parse::<i64>().unwrap() * 3600
                + zone[4..6].parse::<i64>().unwrap() * 60)
        }
    };
    // Days from 1970-01-01 (the civil-from-days inverse, proleptic Gregorian).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss - offset
}
