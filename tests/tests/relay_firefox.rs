//! A real browser receives the relay's notices: Debian's Firefox ESR, headless on a fresh
//! profile, driven by puppeteer-core over WebDriver BiDi (tests/relay/firefox/flow.mjs), with
//! its push service pointed at a loopback push service that speaks Mozilla's autopush WebSocket
//! protocol (tests/relay/firefox/push_server.mjs), against one real `pushmail-relay serve` on
//! real PostgreSQL 15 and a real Dovecot, serving the BUILT web app (ui/dist-relay).
//!
//! Unlike tests/tests/relay_web.rs (Chromium, whose push service is Google's and out of reach
//! offline, so its subscription is the test receiver's), nothing of the browser is stubbed here:
//! the app's `PushManager.subscribe` makes Firefox register a channel with the push service and
//! generate its own keys; the relay encrypts to them and POSTs to the endpoint Firefox was
//! handed; the push service checks the VAPID signature and forwards the opaque body; Firefox
//! decrypts it and runs the app's service worker, whose notification the test reads back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod relay_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pushmail_tests::{Dovecot, DovecotOptions, Postgres, message, wait_until};
use relay_common::{NodeFlow, Relay, RelaySetup, http, root, web_dist};
use serde_json::{Value, json};

const USER: &str = "ana";
const PASSWORD: &str = "ana-imap-pw";
const FIREFOX: &str = "/usr/bin/firefox-esr";

/// tests/relay/firefox/flow.mjs driving Firefox ESR.
struct Firefox {
    flow: NodeFlow,
    log: PathBuf,
    _home: tempfile::TempDir,
}

impl Firefox {
    fn start() -> Firefox {
        assert!(
            Path::new(FIREFOX).exists(),
            "Firefox ESR is not installed ({FIREFOX}): run scripts/setup --test"
        );
        let dir = root().join("tests/relay/firefox");
        assert!(
            dir.join("node_modules/puppeteer-core/package.json")
                .is_file(),
            "puppeteer-core is not installed in tests/relay/firefox: run scripts/setup --test"
        );
        let home = tempfile::tempdir().unwrap();
        let profile = home.path().join("profile");
        std::fs::create_dir(&profile).unwrap();
        let log = home.path().join("firefox.log");
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("flow.mjs"))
            .env("FIREFOX", FIREFOX)
            .env("PROFILE", &profile)
            .env("FIREFOX_LOG", &log)
            .env("HOME", home.path())
            // Headless: no display, and no D-Bus session to look for a notification daemon in.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        Firefox {
            flow: NodeFlow::start(cmd),
            log,
            _home: home,
        }
    }

    /// The end of Firefox's own output (its push service's debug log among it).
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Runs one step; panics with the browser's error, the push service's events and
    /// Firefox's log when it fails.
    fn call(&mut self, cmd: Value) -> Value {
        let op = cmd["op"].as_str().unwrap_or("?").to_owned();
        let answer = match self.flow.send(&cmd, Duration::from_secs(60)) {
            Ok(a) => a,
            Err(e) => panic!(
                "the Firefox step {op}: {e}\n--- Firefox ---\n{}",
                self.log_tail()
            ),
        };
        assert!(
            answer["ok"] == true,
            "the Firefox step {op} failed: {}\n--- page ---\n{}\n--- push service ---\n{}\n--- errors {} dialogs {}\n--- Firefox ---\n{}",
            answer["error"].as_str().unwrap_or_default(),
            answer["page"].as_str().unwrap_or_default(),
            answer["events"],
            answer["errors"],
            answer["dialogs"],
            self.log_tail(),
        );
        answer
    }
}

/// Runs SQL and returns its trimmed output.
fn sql(setup: &RelaySetup<'_>, q: &str) -> String {
    setup.psql(q).trim().to_owned()
}

/// The push service's events of one kind.
fn events<'a>(answer: &'a Value, kind: &str) -> Vec<&'a Value> {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == kind)
        .collect()
}

/// Firefox subscribes through the relay's web app, receives the test notice and a new-mail
/// notice (decrypted by Firefox itself, shown by the app's service worker), rejects a forged
/// ciphertext, and unsubscribes: each step checked at the relay, the push service and the
/// browser.
#[test]
fn firefox_receives_the_relays_notices_through_its_own_push_service() {
    let t0 = Instant::now();
    let dist = web_dist();
    let dc = Dovecot::start(DovecotOptions {
        users: vec![(USER.to_owned(), PASSWORD.to_owned())],
        ..DovecotOptions::default()
    })
    .unwrap();
    let pg = Postgres::start().unwrap();
    let setup = RelaySetup::new(&pg, &dc, 3.0);
    setup.serve_web(&dist);
    let relay = Relay::start(&setup, "web");
    let token = setup.add_user("Ana Lima");
    let origin = format!("http://127.0.0.1:{}", relay.port);
    let (_, vapid) = http(relay.port, "GET", "/api/vapid", None, None);
    let vapid = vapid["public_key"].as_str().unwrap().to_owned();

    // A mailbox the relay watches (added through the API: the form is relay_web.rs's part).
    let (status, added) = http(
        relay.port,
        "POST",
        "/api/accounts",
        Some(&token),
        Some(&json!({
            "name": "Work", "email": "ana@example.org", "host": dc.host(),
            "port": dc.imaps_port(), "security": "tls", "username": USER, "password": PASSWORD,
        })),
    );
    assert_eq!(status, 201, "{added}");
    let id = added["id"].as_str().unwrap().to_owned();
    let watching = wait_until(Duration::from_secs(15), || {
        Ok(sql(
            &setup,
            &format!("SELECT state FROM account WHERE id = '{id}'"),
        ) == "push")
    })
    .unwrap();
    assert!(
        watching,
        "the relay does not watch the mailbox:\n{}",
        relay.log()
    );
    let t_setup = t0.elapsed();

    // Firefox starts and connects to its push service (the hello handshake).
    let mut ff = Firefox::start();
    let started = ff.call(json!({"op": "start"}));
    // Puppeteer starts Firefox in a process group of its own: killed with node's on drop.
    ff.flow
        .also_kill(u32::try_from(started["pid"].as_u64().unwrap_or(0)).unwrap_or(0));
    let firefox_version = started["version"].as_str().unwrap_or_default().to_owned();
    assert!(firefox_version.starts_with("firefox/"), "{started}");
    let hellos = events(&started, "hello");
    assert_eq!(hellos.len(), 1, "{started}\n{}", ff.log_tail());
    assert_eq!(hellos[0]["use_webpush"], true, "{started}");
    let push_origin = format!(
        "http://127.0.0.1:{}",
        started["push_port"].as_u64().unwrap()
    );
    let t_firefox = t0.elapsed();

    // Signed in by the operator's link.
    let opened = ff.call(json!({"op": "open", "url": format!("{origin}/#token={token}")}));
    assert!(
        opened["url"].as_str().unwrap().ends_with("#/mailboxes"),
        "{opened}"
    );
    assert_eq!(opened["stored_token"], token.as_str());
    assert_eq!(opened["user"], "Ana Lima");
    assert!(
        opened["user_agent"].as_str().unwrap().contains("Firefox/"),
        "{opened}"
    );

    // "Notify this device": Firefox's own subscription, registered with the push service under
    // the relay's VAPID key, handed to the relay.
    let sub = ff.call(json!({"op": "subscribe", "detail": "subject"}));
    assert_eq!(sub["on_its_way"], "A test notification is on its way.");
    assert_eq!(sub["checked"], true);
    assert_eq!(sub["permission"], "granted");
    assert_eq!(
        sub["worker"],
        json!({"script": format!("{origin}/relay-sw.js"), "scope": format!("{origin}/")})
    );
    assert_eq!(sub["application_server_key"], vapid.as_str(), "{sub}");
    let registered = events(&sub, "register");
    assert_eq!(registered.len(), 1, "{sub}");
    assert_eq!(registered[0]["key"], vapid.as_str(), "{sub}");
    let endpoint = registered[0]["endpoint"].as_str().unwrap().to_owned();
    assert!(
        endpoint.starts_with(&format!("{push_origin}/wpush/")),
        "{endpoint}"
    );
    assert_eq!(sub["subscription"]["endpoint"], endpoint.as_str(), "{sub}");
    let p256dh = sub["subscription"]["keys"]["p256dh"].as_str().unwrap();
    let auth = sub["subscription"]["keys"]["auth"].as_str().unwrap();
    assert_eq!((p256dh.len(), auth.len()), (87, 22), "{sub}");
    // The relay stored exactly the subscription Firefox made.
    assert_eq!(
        sql(
            &setup,
            "SELECT detail, endpoint, encode(p256dh, 'hex'), encode(auth, 'hex') FROM device"
        ),
        format!("subject\t{endpoint}\t{}\t{}", hex(p256dh), hex(auth))
    );
    let device = sql(&setup, "SELECT id FROM device");
    let t_subscribed = t0.elapsed();

    // The test notice: accepted by the push service (VAPID checked), decrypted by Firefox (ack
    // 100), shown by the service worker.
    let test = ff.call(json!({"op": "wait_notice", "title": "Pushmail", "timeout": 15000}));
    let notice = &test["notice"];
    assert_eq!(
        notice["body"], "Notifications work on this device",
        "{test}"
    );
    assert!(
        notice["tag"]
            .as_str()
            .unwrap()
            .starts_with(&format!("test-{device}-")),
        "{test}"
    );
    let pushed = events(&test, "push");
    assert_eq!(pushed.len(), 1, "{test}");
    assert_eq!(pushed[0]["vapid_sub"], "mailto:postmaster@example.org");
    let first = pushed[0]["version"].as_str().unwrap().to_owned();
    ff.call(json!({"op": "wait_event", "match": {"event": "ack", "version": first, "code": 100}}));

    // New mail: the notice for exactly that message, with its sender and subject.
    let uidvalidity = dc.status(USER, "INBOX").unwrap().uidvalidity;
    let subject = "Quarterly report <b>draft</b>";
    let uid = dc
        .deliver(
            USER,
            "INBOX",
            &message(
                "Bruno Costa <bruno@example.com>",
                "ana@example.org",
                subject,
                "Numbers attached.",
            ),
        )
        .unwrap();
    let tag = format!("{id}/INBOX/{uidvalidity}/{uid}");
    let mail = ff.call(json!({"op": "wait_notice", "tag": tag, "timeout": 20000}));
    let notice = &mail["notice"];
    assert_eq!(notice["title"], "Work", "{mail}");
    assert_eq!(notice["body"], format!("Bruno Costa\n{subject}"), "{mail}");
    assert_eq!(notice["data"]["url"], format!("{origin}/"), "{mail}");
    assert_eq!(
        notice["icon"],
        format!("{origin}/icons/pushmail-192.png"),
        "{mail}"
    );
    let pushed = events(&mail, "push");
    assert_eq!(pushed.len(), 2, "{mail}");
    let second = pushed[1]["version"].as_str().unwrap().to_owned();
    ff.call(json!({"op": "wait_event", "match": {"event": "ack", "version": second, "code": 100}}));
    let t_mail = t0.elapsed();

    // A forged ciphertext (one byte flipped by the push service): Firefox refuses it (ack 101,
    // a decryption error) and shows nothing.
    ff.call(json!({"op": "tamper"}));
    let (status, again) = http(
        relay.port,
        "POST",
        &format!("/api/devices/{device}/test"),
        Some(&token),
        None,
    );
    assert_eq!(status, 202, "{again}");
    let forged_tag = again["tag"].as_str().unwrap().to_owned();
    let forged = ff.call(json!({"op": "wait_event", "match": {"event": "push", "tampered": true}}));
    let version = forged["hit"]["version"].as_str().unwrap().to_owned();
    ff.call(
        json!({"op": "wait_event", "match": {"event": "ack", "version": version, "code": 101}}),
    );
    let seen = ff.call(json!({"op": "state"}));
    assert!(
        !seen["shown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["tag"] == forged_tag.as_str()),
        "Firefox showed a forged notice: {seen}"
    );
    let t_forged = t0.elapsed();

    // "Stop notifying this device": Firefox drops its channel at the push service (unregister,
    // code 200: the user's own choice) and the relay forgets the device.
    let stopped = ff.call(json!({"op": "stop"}));
    assert_eq!(stopped["subscription"], Value::Null, "{stopped}");
    let gone = events(&stopped, "unregister");
    assert_eq!(gone.len(), 1, "{stopped}");
    assert!(
        endpoint.ends_with(gone[0]["channelID"].as_str().unwrap()),
        "{stopped}"
    );
    assert_eq!(gone[0]["code"], 200, "{stopped}");
    assert_eq!(sql(&setup, "SELECT count(*) FROM device"), "0");

    let end = ff.call(json!({"op": "state"}));
    assert_eq!(end["errors"], json!([]), "{end}");
    assert_eq!(end["dialogs"], json!([]), "{end}");
    // The push service refused nothing the relay sent, and took exactly the three notices.
    assert!(events(&end, "refused").is_empty(), "{end}");
    assert_eq!(events(&end, "push").len(), 3, "{end}");
    eprintln!(
        "{firefox_version}: setup {t_setup:?}, Firefox up {t_firefox:?}, subscribed {t_subscribed:?}, \
         mail notice {t_mail:?}, forged refused {t_forged:?}, done {:?}",
        t0.elapsed()
    );
}

/// URL-safe unpadded base64 (the browser's) as PostgreSQL's `encode(…, 'hex')` prints it.
fn hex(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
