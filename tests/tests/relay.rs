//! The relay (crates/relay, docs/relay.md) end to end: real PostgreSQL 15, real Dovecot, three
//! `pushmail-relay` processes on one database, and an independent Web Push receiver that
//! decrypts and checks what they send.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod relay_common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use pushmail_tests::{Dovecot, DovecotOptions, Postgres, message};
use relay_common::{Receiver, Relay, RelaySetup, http};

#[test]
fn a_private_postgres_starts_and_answers() {
    let pg = Postgres::start().unwrap();
    pg.create_database("relay").unwrap();
    let out = pg.psql("relay", "SELECT 40 + 2").unwrap();
    assert_eq!(out.trim(), "42");
}

/// Three relay processes, 300 accounts: `kill -9` one and `SIGSTOP` another while mail keeps
/// arriving. Every message reaches the device at least once, is recorded exactly once and only
/// under a lease that was current, and a repeat is at most one per message (the device
/// collapses it by tag).
#[test]
fn three_relays_share_300_accounts_and_survive_kill_9_and_a_pause() {
    const ACCOUNTS: usize = 300;
    let users: Vec<(String, String)> = (0..ACCOUNTS)
        .map(|i| (format!("u{i:03}"), format!("pw-u{i:03}")))
        .collect();
    let dc = Dovecot::start(DovecotOptions {
        users: users.clone(),
        ..DovecotOptions::default()
    })
    .unwrap();
    let pg = Postgres::start().unwrap();
    let setup = RelaySetup::new(&pg, &dc, 3.0);
    let receiver = Receiver::start(1).unwrap();
    let mut a = Relay::start(&setup, "a");
    let token = setup.add_user("ana");

    // 300 mailboxes through the API (each connection-tested for real before it is saved), in
    // a few threads.
    let t = Instant::now();
    let ids: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<_> = users.chunks(ACCOUNTS / 6).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (token, port) = (token.clone(), a.port);
                let dc = &dc;
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(user, pw)| {
                            let body = serde_json::json!({
                                "name": format!("Box {user}"), "email": format!("{user}@example.org"),
                                "host": dc.host(), "port": dc.imaps_port(), "security": "tls",
                                "username": user, "password": pw,
                            });
                            let (status, reply) = http(port, "POST", "/api/accounts", Some(&token), Some(&body));
                            assert_eq!(status, 201, "{reply}");
                            (user.clone(), reply["id"].as_str().unwrap().to_owned())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().unwrap());
        }
        all.sort();
        all.into_iter().map(|(_, id)| id).collect()
    });
    eprintln!("added {ACCOUNTS} accounts in {:?}", t.elapsed());
    let account_of: HashMap<String, String> = users
        .iter()
        .map(|(u, _)| u.clone())
        .zip(ids.iter().cloned())
        .collect();
    let (status, reply) = http(
        a.port,
        "POST",
        "/api/devices",
        Some(&token),
        Some(&serde_json::json!({
            "name": "phone", "detail": "subject", "subscription": receiver.subscription(0),
        })),
    );
    assert_eq!(status, 201, "{reply}");
    // The test notice arrives at once.
    receiver.wait_for(Duration::from_secs(10), |m| m["kind"] == "test");

    let b = Relay::start(&setup, "b");
    let c = Relay::start(&setup, "c");
    // The buckets spread over the three, and every account is watched.
    let spread = pushmail_tests::wait_until(Duration::from_secs(30), || {
        let owners =
            setup.psql("SELECT count(DISTINCT owner) FROM bucket WHERE lease_until > now()");
        let watching = setup.psql("SELECT count(*) FROM account WHERE state = 'push'");
        Ok(owners.trim() == "3" && watching.trim() == ACCOUNTS.to_string())
    })
    .unwrap();
    assert!(
        spread,
        "not spread: {}\n{}",
        setup.psql("SELECT owner, count(*) FROM bucket GROUP BY owner"),
        setup.psql("SELECT state, count(*) FROM account GROUP BY state")
    );

    // Mail keeps arriving while one process is killed and another paused.
    let mut sent: BTreeMap<(String, u32), String> = BTreeMap::new(); // (account, uid) → subject
    let deliver = |n: usize, sent: &mut BTreeMap<(String, u32), String>| {
        let (user, _) = &users[(n * 7919) % ACCOUNTS];
        let subject = format!("Relay test {n}");
        let uid = dc
            .deliver(
                user,
                "INBOX",
                &message(
                    "boss@example.com",
                    &format!("{user}@example.org"),
                    &subject,
                    "x",
                ),
            )
            .unwrap();
        sent.insert((account_of[user].clone(), uid), subject);
    };
    for n in 0..40 {
        deliver(n, &mut sent);
    }
    // A message for an account B watches arrives while B is frozen: B's watcher gets the push
    // when it wakes, after its lease is gone, and must not record or enqueue it.
    let b_owner = b.owner();
    let b_account = setup.psql(&format!(
        "SELECT a.id FROM account a JOIN bucket k ON k.bucket = a.bucket
         WHERE k.owner = '{b_owner}' ORDER BY a.id LIMIT 1"
    ));
    let b_account = b_account.trim().to_owned();
    let b_epoch = setup.psql(&format!(
        "SELECT k.epoch FROM account a JOIN bucket k ON k.bucket = a.bucket WHERE a.id = '{b_account}'"
    ));
    let b_epoch = b_epoch.trim().to_owned();
    let b_user = account_of
        .iter()
        .find(|(_, id)| **id == b_account)
        .map(|(u, _)| u.clone())
        .unwrap();
    let killed_at = setup.psql("SELECT now()");
    a.kill9();
    b.pause();
    let frozen_uid = dc
        .deliver(
            &b_user,
            "INBOX",
            &message("boss@example.com", "x@example.org", "While B sleeps", "x"),
        )
        .unwrap();
    sent.insert((b_account.clone(), frozen_uid), "While B sleeps".to_owned());
    let t_kill = Instant::now();
    for n in 40..120 {
        deliver(n, &mut sent);
        std::thread::sleep(Duration::from_millis(25));
    }
    // C takes every bucket once the leases of A and B have run out.
    let took_over = pushmail_tests::wait_until(Duration::from_secs(20), || {
        Ok(setup
            .psql(&format!(
                "SELECT count(*) FROM bucket WHERE owner = '{}' AND lease_until > now()",
                c.owner()
            ))
            .trim()
            == setup.buckets.to_string())
    })
    .unwrap();
    assert!(
        took_over,
        "{}",
        setup.psql("SELECT owner, count(*) FROM bucket GROUP BY owner")
    );
    let failover: f64 = setup
        .psql(&format!(
            "SELECT extract(epoch FROM max(claimed_at) - '{}'::timestamptz) FROM bucket_claim WHERE owner = '{}'",
            killed_at.trim(),
            c.owner()
        ))
        .trim()
        .parse()
        .unwrap();
    eprintln!(
        "failover: every bucket of the killed and the paused process taken over {failover:.2} s after kill -9 (lease 3 s); test clock {:?}",
        t_kill.elapsed()
    );
    // B wakes up: its leases are gone, whatever it was about to write is refused.
    b.resume();
    let noticed = pushmail_tests::wait_until(Duration::from_secs(10), || {
        // Either its round finds the leases gone, or (its database connections were closed
        // under it while frozen) the round fails past the lease and it stops watching.
        Ok(b.log().lines().any(|l| {
            (l.contains("buckets changed") && l.contains("lost=") && !l.contains("lost=0"))
                || l.contains("the leases have run out")
        }))
    })
    .unwrap();
    assert!(noticed, "B never noticed it lost its buckets:\n{}", b.log());
    for n in 120..160 {
        deliver(n, &mut sent);
    }

    // Every message arrives (by tag: account/folder/uidvalidity/uid), with the right subject.
    let keys: Vec<(String, u32)> = sent.keys().cloned().collect();
    let all = receiver.wait_until_all(Duration::from_secs(60), |got| {
        keys.iter()
            .all(|(acct, uid)| got.iter().any(|m| tag_is(m, acct, *uid)))
    });
    let mut repeats = 0;
    for ((acct, uid), subject) in &sent {
        let got: Vec<_> = all.iter().filter(|m| tag_is(m, acct, *uid)).collect();
        assert!(!got.is_empty(), "{acct}/{uid} never arrived");
        assert!(got.len() <= 2, "{acct}/{uid} arrived {} times", got.len());
        assert!(
            got.iter().all(|m| m["subject"] == subject.as_str()),
            "{got:?}"
        );
        repeats += got.len() - 1;
    }
    eprintln!(
        "{} messages, {repeats} repeated (at most one each, collapsed by tag)",
        sent.len()
    );
    // Recorded exactly once, and only under a lease that was current: every announcement's
    // (owner, epoch) is a claim of its account's bucket, and no later claim of that bucket
    // happened before it was recorded.
    let recorded = setup.psql("SELECT count(*) FROM announced");
    assert_eq!(recorded.trim(), sent.len().to_string());
    let fenced_wrong = setup.psql(
        "SELECT count(*) FROM announced n JOIN account a ON a.id = n.account
         WHERE NOT EXISTS (SELECT 1 FROM bucket_claim c WHERE c.bucket = a.bucket
                             AND c.epoch = n.epoch AND c.owner = n.recorded_by
                             AND c.claimed_at <= n.recorded_at)
            OR EXISTS (SELECT 1 FROM bucket_claim c WHERE c.bucket = a.bucket
                         AND c.epoch > n.epoch AND c.claimed_at < n.recorded_at)",
    );
    assert_eq!(fenced_wrong.trim(), "0");
    let by_paused = setup.psql(&format!(
        "SELECT count(*) FROM announced WHERE recorded_by = '{}' AND recorded_at > '{}'::timestamptz
           AND epoch IN (SELECT epoch FROM bucket_claim WHERE owner = '{}' AND claimed_at < '{}'::timestamptz)",
        b.owner(), killed_at.trim(), b.owner(), killed_at.trim()
    ));
    assert_eq!(
        by_paused.trim(),
        "0",
        "the paused process recorded under its old leases"
    );
    // Recorded once, and not by B under the lease it was frozen with (B may legitimately
    // record it after it has re-claimed the bucket at a new epoch).
    let frozen = setup.psql(&format!(
        "SELECT recorded_by, epoch FROM announced WHERE account = '{b_account}' AND uid = {frozen_uid}"
    ));
    let (by, epoch) = frozen.trim().split_once('\t').unwrap();
    assert!(
        !(by == b_owner && epoch == b_epoch),
        "the frozen process recorded what it woke up with under its old lease ({frozen})"
    );
    eprintln!(
        "the message that arrived while B was frozen (bucket epoch {b_epoch}) was recorded by {by} at epoch {epoch} (B is {b_owner})"
    );
    assert!(
        receiver.violations().is_empty(),
        "{:?}",
        receiver.violations()
    );
    drop((b, c));
}

/// Whether a received notice is the one for message `uid` of `account`'s INBOX.
fn tag_is(m: &serde_json::Value, account: &str, uid: u32) -> bool {
    let Some(tag) = m["tag"].as_str() else {
        return false;
    };
    let parts: Vec<&str> = tag.split('/').collect();
    parts.len() == 4 && parts[0] == account && parts[1] == "INBOX" && parts[3] == uid.to_string()
}
