//! Broken networks and sleeping laptops, end to end: the real `pushmail-cli watch --json`
//! talks to a real Dovecot through the harness's fault-injecting proxy (black holes, resets,
//! closes, refusals, latency, flapping), and hears suspend/resume and network changes from a
//! fake logind and NetworkManager on a private D-Bus.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod faults;

use std::time::{Duration, Instant};

use common::{Pushmail, Watch, unique_id};
use faults::{
    PrivateBus, assert_each_once, count_subject, eventually, fd_count, proxied_account,
    wait_account_state, wait_detail,
};
use pushmail_tests::{Dovecot, DovecotOptions, FaultProxy, message};

const PW: &str = "alicepw";
const SHORT: Duration = Duration::from_secs(15);

fn mail(subject: &str) -> Vec<u8> {
    message(
        "Ana <ana@example.com>",
        "alice@example.org",
        subject,
        "body",
    )
}

/// Dovecot, a proxy in front of its imaps port, and a Pushmail account through the proxy.
struct Rig {
    dc: Dovecot,
    proxy: FaultProxy,
    pm: Pushmail,
    id: String,
}

impl Rig {
    fn new(prefix: &str, extra: &str) -> Rig {
        let dc = Dovecot::start(DovecotOptions::default()).unwrap();
        let proxy = FaultProxy::start(dc.host(), dc.imaps_port()).unwrap();
        let pm = Pushmail::new();
        let id = unique_id(prefix);
        pm.write_config(&[proxied_account(
            &pm,
            &dc,
            &id,
            "alice",
            PW,
            proxy.port(),
            extra,
        )]);
        Rig { dc, proxy, pm, id }
    }

    fn deliver(&self, subject: &str) {
        self.dc.deliver("alice", "INBOX", &mail(subject)).unwrap();
    }

    /// Successful logins through the proxy (implicit TLS; the harness logs in in plaintext), as
    /// seconds-of-day from Dovecot's log.
    fn logins(&self) -> Vec<u32> {
        self.dc
            .log()
            .lines()
            .filter(|l| l.contains("Login: user=<alice>") && l.contains(", TLS,"))
            .filter_map(|l| {
                let hms = l.split_whitespace().nth(2)?;
                let mut p = hms.split(':').map(|x| x.parse::<u32>().ok());
                Some(p.next()?? * 3600 + p.next()?? * 60 + p.next()??)
            })
            .collect()
    }
}

/// Waits until no byte has crossed the proxy for `quiet`.
fn wait_quiet(proxy: &FaultProxy, quiet: Duration) {
    let mut last = (proxy.bytes(), Instant::now());
    assert!(eventually(SHORT, || {
        let now = proxy.bytes();
        if now != last.0 {
            last = (now, Instant::now());
        }
        last.1.elapsed() >= quiet
    }));
}

fn push(w: &mut Watch, id: &str) {
    wait_account_state(w, id, "push", SHORT);
}

#[test]
fn a_black_holed_link_is_detected_within_dead_after_and_rebuilt() {
    // command_timeout too: the black hole may begin while a command (not IDLE) is in flight.
    let r = Rig::new(
        "blackhole",
        "dead_after_secs = 3\ndone_timeout_secs = 2\ncommand_timeout_secs = 2\n",
    );
    let mut w = r.pm.watch(&[]);
    push(&mut w, &r.id);
    r.deliver("Before the black hole");
    w.wait_new_mail("Before the black hole", SHORT);
    // Let the session settle into IDLE (the link goes quiet) so the black hole meets IDLE,
    // not a command in flight (that case is bounded by command_timeout instead).
    w.wait_for(SHORT, "unread 1", |v| {
        v["event"] == "unread" && v["count"] == 1
    });
    wait_quiet(&r.proxy, Duration::from_millis(300));
    let t0 = Instant::now();
    r.proxy.black_hole(false);
    r.deliver("Into the black hole");
    let (at, v) = w.wait_for(SHORT, "the dead link noticed", |v| {
        v["event"] == "state" && v["state"] == "backoff"
    });
    let detected = at.duration_since(t0);
    println!("black hole noticed after {detected:?}: {}", v["detail"]);
    assert!(
        detected <= Duration::from_millis(3_000 + 2_000 + 1_000),
        "dead_after 3 s + done_timeout 2 s, noticed after {detected:?}"
    );
    let (at, v) = w.wait_new_mail("Into the black hole", SHORT);
    assert_eq!(v["catch_up"], true);
    println!(
        "mail from the outage announced {:?} after the black hole began",
        at.duration_since(t0)
    );
    push(&mut w, &r.id);
    r.deliver("After the rebuild");
    w.wait_new_mail("After the rebuild", SHORT);
    w.collect_for(Duration::from_millis(800));
    assert_each_once(
        &w,
        &[
            "Before the black hole",
            "Into the black hole",
            "After the rebuild",
        ],
    );
}

#[test]
fn resets_closes_and_refusals_lose_nothing_and_repeat_nothing() {
    let r = Rig::new("outages", "");
    let mut w = r.pm.watch(&[]);
    push(&mut w, &r.id);

    // RST from a NAT box that forgot us, mail arriving meanwhile.
    r.proxy.reset_all();
    r.deliver("Around the RST");
    w.wait_new_mail("Around the RST", SHORT);
    push(&mut w, &r.id);

    // A polite close (FIN) without BYE.
    r.proxy.close_all();
    r.deliver("Around the FIN");
    w.wait_new_mail("Around the FIN", SHORT);
    push(&mut w, &r.id);

    // The server is unreachable for a while: connections refused.
    r.proxy.refuse(true);
    r.proxy.reset_all();
    wait_detail(&mut w, &r.id, "refused", SHORT);
    r.deliver("While refused 1");
    r.deliver("While refused 2");
    r.proxy.refuse(false);
    let (_, v) = w.wait_new_mail("While refused 2", SHORT);
    assert_eq!(v["catch_up"], true);
    push(&mut w, &r.id);
    r.deliver("After the outages");
    w.wait_new_mail("After the outages", SHORT);
    w.collect_for(Duration::from_millis(800));
    assert_each_once(
        &w,
        &[
            "Around the RST",
            "Around the FIN",
            "While refused 1",
            "While refused 2",
            "After the outages",
        ],
    );
}

#[test]
fn latency_and_connections_cut_every_two_seconds_lose_nothing() {
    let r = Rig::new("slowcut", "");
    let mut w = r.pm.watch(&[]);
    push(&mut w, &r.id);
    r.proxy.set_latency(Duration::from_millis(300));
    let t = Instant::now();
    r.deliver("Over a slow link");
    let (at, _) = w.wait_new_mail("Over a slow link", SHORT);
    println!(
        "push over a 300 ms-each-way link: {:?}",
        at.duration_since(t)
    );
    assert!(at.duration_since(t) < Duration::from_secs(4));
    r.proxy.set_latency(Duration::ZERO);

    // A firewall that cuts every connection after 2 s.
    r.proxy.close_after(Some(Duration::from_secs(2)));
    let subjects: Vec<String> = (0..5).map(|i| format!("Cut link {i}")).collect();
    for s in &subjects {
        r.deliver(s);
        std::thread::sleep(Duration::from_millis(1500));
    }
    r.proxy.close_after(None);
    for s in &subjects {
        if count_subject(&w, s) == 0 {
            w.wait_new_mail(s, SHORT);
        }
    }
    w.collect_for(Duration::from_millis(800));
    assert_each_once(&w, &subjects);
    assert!(
        r.proxy.connections() >= 4,
        "the link was cut {} times",
        r.proxy.connections()
    );
}

#[test]
fn a_flapping_server_gets_no_more_logins_than_the_cap_and_leaks_nothing() {
    const CAP: usize = 5;
    let r = Rig::new("flap", &format!("max_logins_per_minute = {CAP}\n"));
    let mut w = r.pm.watch(&[("RUST_LOG", "pushmail_core=debug")]);
    push(&mut w, &r.id);
    let pid = w.pid();
    let fd_before = fd_count(pid);
    let started = Instant::now();
    let mut fd_max = fd_before;
    let subjects: Vec<String> = (0..20).map(|i| format!("Flap {i}")).collect();
    for s in &subjects {
        // Down: every connection reset, new ones refused…
        r.proxy.refuse(true);
        r.proxy.reset_all();
        r.deliver(s);
        std::thread::sleep(Duration::from_millis(400));
        fd_max = fd_max.max(fd_count(pid));
        // …up again, long enough to log in if the cap allows.
        r.proxy.refuse(false);
        std::thread::sleep(Duration::from_millis(1100));
        fd_max = fd_max.max(fd_count(pid));
    }
    let flapping = started.elapsed();
    r.proxy.pass();
    // Recovery may wait for the login cap's minute to pass.
    for s in &subjects {
        if count_subject(&w, s) == 0 {
            w.wait_new_mail(s, Duration::from_secs(90));
        }
    }
    push(&mut w, &r.id);
    w.collect_for(Duration::from_millis(800));
    assert_each_once(&w, &subjects);
    let logins = r.logins();
    let first = logins[0];
    let in_first_minute = logins.iter().filter(|t| **t < first + 60).count();
    println!(
        "20 flaps over {flapping:?}: {} connections, {} logins in all, {in_first_minute} in the first minute (cap {CAP}); fds {fd_before} before, {fd_max} at most, {} after",
        r.proxy.connections(),
        logins.len(),
        fd_count(pid)
    );
    assert!(
        in_first_minute <= CAP,
        "{in_first_minute} logins within a minute, cap {CAP}"
    );
    assert!(
        w.stderr().contains("login cap reached"),
        "the flapping never tempted it past the cap, so the cap proved nothing"
    );
    // No socket, TLS session or file leaks: back to the same descriptors.
    assert!(
        eventually(Duration::from_secs(5), || fd_count(pid) <= fd_before),
        "fds: {fd_before} before, {} after",
        fd_count(pid)
    );
    assert!(
        fd_max <= fd_before + 3,
        "fds peaked at {fd_max} (from {fd_before})"
    );
}

/// Starts `watch` on a private bus and waits until it listens there.
fn watch_on_bus(r: &Rig, bus: &PrivateBus) -> Watch {
    let mut w = r.pm.watch_args(
        &["--power-bus", bus.address()],
        &[("RUST_LOG", "pushmail_core=info")],
    );
    assert!(
        eventually(SHORT, || w
            .stderr()
            .contains("listening for suspend/resume")),
        "never subscribed: {}",
        w.stderr()
    );
    push(&mut w, &r.id);
    w
}

#[test]
fn resume_from_sleep_reconnects_and_catches_up_at_once() {
    // dead_after and done_timeout at their defaults (5 min, 15 s): only the resume signal can
    // explain a quick recovery.
    let r = Rig::new("resume", "");
    let bus = PrivateBus::start();
    let mut w = watch_on_bus(&r, &bus);
    bus.prepare_for_sleep(true);
    // Asleep: the connection stays open but leads nowhere, and mail arrives.
    r.proxy.black_hole(false);
    r.deliver("While asleep");
    w.collect_for(Duration::from_secs(2));
    assert_eq!(
        count_subject(&w, "While asleep"),
        0,
        "the black hole leaked"
    );
    let connections = r.proxy.connections();
    let resumed = Instant::now();
    bus.prepare_for_sleep(false);
    let (at, v) = w.wait_new_mail("While asleep", SHORT);
    let latency = at.duration_since(resumed);
    println!("mail delivered while asleep announced {latency:?} after PrepareForSleep(false)");
    assert!(latency < Duration::from_secs(2), "{latency:?} after resume");
    assert_eq!(v["catch_up"], true);
    assert_eq!(r.proxy.connections(), connections + 1, "one new connection");
    push(&mut w, &r.id);
    r.deliver("After resume");
    w.wait_new_mail("After resume", SHORT);
    w.collect_for(Duration::from_millis(800));
    assert_each_once(&w, &["While asleep", "After resume"]);
    assert!(
        w.stderr().contains("resumed from sleep: reconnecting"),
        "{}",
        w.stderr()
    );
}

#[test]
fn network_coming_back_skips_backoff_and_catches_up_at_once() {
    // A long backoff: without the signal the next attempt would be 10–20 s away.
    let r = Rig::new("netup", "backoff_min_secs = 20\nbackoff_max_secs = 40\n");
    let bus = PrivateBus::start();
    let mut w = watch_on_bus(&r, &bus);
    // The network goes away: connections reset, new ones refused.
    r.proxy.refuse(true);
    r.proxy.reset_all();
    bus.nm_state(20);
    wait_account_state(&mut w, &r.id, "backoff", SHORT);
    r.deliver("While offline");
    r.proxy.refuse(false);
    let back = Instant::now();
    bus.nm_state(40);
    bus.nm_state(70);
    let (at, v) = w.wait_new_mail("While offline", SHORT);
    let latency = at.duration_since(back);
    println!("mail delivered while offline announced {latency:?} after StateChanged(70)");
    assert!(
        latency < Duration::from_secs(2),
        "{latency:?} after the network came back"
    );
    assert_eq!(v["catch_up"], true);
    push(&mut w, &r.id);

    // Same again, told by the Connectivity property instead. This comes within a second of
    // the first reconnect, so the power watcher's debounce turns it into the trailing
    // reconnect at the end of that second: still well within the bound.
    r.proxy.refuse(true);
    r.proxy.reset_all();
    bus.nm_connectivity(1);
    wait_account_state(&mut w, &r.id, "backoff", SHORT);
    r.deliver("While offline again");
    r.proxy.refuse(false);
    let back = Instant::now();
    bus.nm_connectivity(4);
    let (at, _) = w.wait_new_mail("While offline again", SHORT);
    let latency = at.duration_since(back);
    println!("…and {latency:?} after Connectivity became FULL");
    assert!(
        latency < Duration::from_secs(2),
        "{latency:?} after connectivity came back"
    );
    w.collect_for(Duration::from_millis(800));
    assert_each_once(&w, &["While offline", "While offline again"]);
}
