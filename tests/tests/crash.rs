//! Crash safety end to end: `kill -9` of `pushmail-cli watch` at random moments while mail
//! keeps arriving on a real Dovecot, restarting it each time. No message may ever be missed,
//! a kill may cost at most one repeated announcement (the one in flight), and the state
//! database must pass SQLite's integrity check after every kill.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Pushmail, Via, unique_id};
use pushmail_tests::{Dovecot, DovecotOptions, message};

const PW: &str = "alicepw";
const SHORT: Duration = Duration::from_secs(15);
/// Kills; each run lives 50–1500 ms, so the whole test takes about a minute.
const RUNS: usize = 30;

/// xorshift64*: enough randomness to spread the kills, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn integrity(path: &std::path::Path) -> String {
    let db = rusqlite::Connection::open(path).expect("open state database");
    db.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

fn uids(w: &common::Watch) -> Vec<u32> {
    w.new_mails()
        .iter()
        .map(|v| u32::try_from(v["uid"].as_u64().unwrap()).unwrap())
        .collect()
}

#[test]
fn kill_9_at_random_moments_never_loses_mail_nor_corrupts_state() {
    let seed = std::env::var("PUSHMAIL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("seed {seed} (rerun with PUSHMAIL_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("crash");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", Via::Tls, PW, "")]);

    // The first run sets the baseline; from then on every message counts.
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);

    let delivered = Arc::new(Mutex::new(Vec::<u32>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let (delivered, stop) = (delivered.clone(), stop.clone());
        let mut imap = dc.login("alice").unwrap();
        let mut rng = Rng(seed.rotate_left(17) | 1);
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let raw = message(
                    "Feeder <feeder@example.com>",
                    "alice@example.org",
                    &format!("Crash mail {n}"),
                    "x",
                );
                let uid = imap.append("INBOX", &raw).unwrap();
                delivered.lock().unwrap().push(uid);
                n += 1;
                std::thread::sleep(Duration::from_millis(rng.between(10, 120)));
            }
        })
    };

    let started = Instant::now();
    let mut runs: Vec<Vec<u32>> = Vec::new();
    for run in 0..RUNS {
        if run > 0 {
            w = pm.watch(&[]);
        }
        w.collect_for(Duration::from_millis(rng.between(50, 1500)));
        w.kill9();
        runs.push(uids(&w));
        let check = integrity(&pm.state());
        assert_eq!(check, "ok", "state database corrupt after kill {run}");
    }
    stop.store(true, Ordering::SeqCst);
    feeder.join().unwrap();
    let delivered: Vec<u32> = delivered.lock().unwrap().clone();

    // A last, clean run catches up with everything.
    let mut w = pm.watch(&[]);
    let mut seen: HashSet<u32> = runs.iter().flatten().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered.iter().any(|u| !seen.contains(u)) {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, v) = w.wait_for(left, "the remaining mail", |v| v["event"] == "new_mail");
        let uid = u32::try_from(v["uid"].as_u64().unwrap()).unwrap();
        seen.insert(uid);
    }
    w.collect_for(Duration::from_millis(800));
    assert!(w.stop(), "the last run did not exit cleanly");
    runs.push(uids(&w));
    assert_eq!(integrity(&pm.state()), "ok");

    // Nothing missed.
    let all: BTreeSet<u32> = runs.iter().flatten().copied().collect();
    let missed: Vec<u32> = delivered
        .iter()
        .copied()
        .filter(|u| !all.contains(u))
        .collect();
    assert!(missed.is_empty(), "never announced: {missed:?}");
    // Nothing announced that was not delivered (no old mail, no invention).
    let delivered_set: HashSet<u32> = delivered.iter().copied().collect();
    assert!(all.iter().all(|u| delivered_set.contains(u)));
    // At most one repeat per kill: run r may repeat only what run r-1 had in flight.
    let mut before: HashSet<u32> = HashSet::new();
    let mut repeats = 0;
    for (r, announced) in runs.iter().enumerate() {
        let dup: Vec<u32> = announced
            .iter()
            .copied()
            .filter(|u| before.contains(u))
            .collect();
        assert!(dup.len() <= 1, "run {r} repeated {dup:?} after one kill");
        let mut within = HashSet::new();
        assert!(
            announced.iter().all(|u| within.insert(*u)),
            "run {r} announced something twice: {announced:?}"
        );
        repeats += dup.len();
        before.extend(announced);
    }
    println!(
        "{RUNS} kills in {:?}: {} messages delivered, all announced, {repeats} repeated",
        started.elapsed(),
        delivered.len()
    );
}
