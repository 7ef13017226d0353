//! The relay's web app against the real relay, end to end: the BUILT app (ui/dist-relay) served
//! by one real `pushmail-relay serve` under its real CSP, on real PostgreSQL 15 and a real
//! Dovecot, driven in Debian's headless Chromium (playwright-core from ui/node_modules, through
//! tests/relay/web_flow.mjs), with the independent Web Push receiver (tests/relay/receiver.py)
//! as the browser's push service.
//!
//! The one thing not the browser's own: `PushManager.subscribe` returns the receiver's
//! subscription (a headless Chromium offline cannot reach Google's push service). So the relay
//! really encrypts every notice to that subscription and POSTs it to the receiver, which checks
//! VAPID and decrypts it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod relay_common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pushmail_tests::{Dovecot, DovecotOptions, Postgres, message, wait_until};
use relay_common::{NodeFlow, Receiver, Relay, RelaySetup, http, http_raw, root, web_dist};
use serde_json::{Value, json};

/// A mailbox name a hostile user (or a compromised relay) could store: it must stay text.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// The Dovecot user and the password the form is filled with.
const USER: &str = "ana";
const PASSWORD: &str = "ana-imap-pw";

/// tests/relay/web_flow.mjs in headless Chromium.
struct WebFlow {
    flow: NodeFlow,
    _home: tempfile::TempDir,
}

impl WebFlow {
    fn start() -> WebFlow {
        let chromium = Path::new("/usr/bin/chromium");
        assert!(
            chromium.exists(),
            "Chromium is not installed (/usr/bin/chromium): run scripts/setup --test"
        );
        let pw = root().join("ui/node_modules/playwright-core");
        assert!(
            pw.join("package.json").is_file(),
            "playwright-core is not installed in ui/node_modules: run scripts/setup --test"
        );
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("node");
        cmd.arg(root().join("tests/relay/web_flow.mjs"))
            .env("PW_CORE", &pw)
            .env("CHROMIUM", chromium)
            .env("HOME", home.path());
        WebFlow {
            flow: NodeFlow::start(cmd),
            _home: home,
        }
    }

    /// Runs one step; panics with the browser's error and page text when it fails.
    fn call(&mut self, cmd: Value) -> Value {
        let op = cmd["op"].as_str().unwrap_or("?").to_owned();
        let answer = self
            .flow
            .send(&cmd, Duration::from_secs(90))
            .unwrap_or_else(|e| panic!("the browser step {op}: {e}"));
        assert!(
            answer["ok"] == true,
            "the browser step {op} failed: {}\n--- page ---\n{}\n--- errors {} dialogs {}",
            answer["error"].as_str().unwrap_or_default(),
            answer["page"].as_str().unwrap_or_default(),
            answer["errors"],
            answer["dialogs"],
        );
        answer
    }
}

/// Runs SQL and returns its trimmed output.
fn sql(setup: &RelaySetup<'_>, q: &str) -> String {
    setup.psql(q).trim().to_owned()
}

/// A user adds a mailbox in the browser (a wrong password first), has the relay notify this
/// browser, gets the test notice and a real new-mail notice, stops notifying, and removes the
/// mailbox: each step checked where it lands (PostgreSQL, Dovecot, the push receiver), with a
/// hostile mailbox name shown as text throughout.
#[test]
fn the_web_app_drives_the_real_relay_from_sign_in_to_removal() {
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
    let receiver = Receiver::start(1).unwrap();
    let relay = Relay::start(&setup, "web");
    let token = setup.add_user("Ana Lima");
    let origin = format!("http://127.0.0.1:{}", relay.port);

    // The relay serves the built app itself, under its strict CSP.
    let (status, headers, body) = http_raw(relay.port, "GET", "/", None, None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<div id=\"app\">"), "{body}");
    let csp = headers
        .iter()
        .find(|(k, _)| k == "content-security-policy")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let (_, vapid) = http(relay.port, "GET", "/api/vapid", None, None);
    let vapid = vapid["public_key"].as_str().unwrap().to_owned();
    let subscription = receiver.subscription(0);
    let endpoint = subscription["endpoint"].as_str().unwrap().to_owned();
    let t_setup = t0.elapsed();

    // Signed in by the operator's link; the token leaves the address bar.
    let mut web = WebFlow::start();
    let opened = web.call(json!({
        "op": "open",
        "url": format!("{origin}/#token={token}"),
        "origin": origin,
        "subscription": subscription,
    }));
    let url = opened["url"].as_str().unwrap();
    assert!(!url.contains(&token), "{url}");
    assert!(url.ends_with("#/mailboxes"), "{url}");
    assert_eq!(opened["stored_token"], token.as_str());
    assert_eq!(opened["user"], "Ana Lima");

    // A wrong password: the relay really logs in to Dovecot, and the app shows its sentence.
    let mailbox = |password: &str, expect: &str| {
        json!({
            "op": "add_mailbox", "name": HOSTILE, "email": "ana@example.org",
            "host": dc.host(), "port": dc.imaps_port(), "username": USER,
            "password": password, "expect": expect,
        })
    };
    let wrong = web.call(mailbox("not-the-password", "error"));
    assert_eq!(wrong["status"], 422, "{wrong}");
    assert_eq!(wrong["server"]["code"], "auth_failed", "{wrong}");
    let sentence = wrong["server"]["error"].as_str().unwrap().to_owned();
    // Dovecot's own words ("NO [AUTHENTICATIONFAILED] Authentication failed."), and no advice
    // meant for the desktop (its CLI, its settings).
    assert!(sentence.contains("Authentication failed"), "{sentence}");
    assert!(!sentence.contains("pushmail-cli"), "{sentence}");
    assert_eq!(
        wrong["shown"], sentence,
        "the app must show the relay's sentence"
    );
    assert_eq!(
        wrong["title"],
        "The mail server rejected the user name or password"
    );
    assert_eq!(wrong["password_kept"], "not-the-password");
    assert!(dc.login_failures(USER) >= 1, "Dovecot saw no failed login");
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "0");

    // The right password: stored, listed, its hostile name shown as text.
    let added = web.call(mailbox(PASSWORD, "ok"));
    assert_eq!(added["status"], 201, "{added}");
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["server"]["id"], id.as_str());
    assert_eq!(added["rows"], 1);
    assert_eq!(added["shown_name"], HOSTILE);
    assert_eq!(added["shown_email"], "ana@example.org");
    let seen = web.call(json!({"op": "check", "literal": HOSTILE}));
    assert_eq!(seen["injected"], 0, "{seen}");
    assert_eq!(seen["onerror"], 0, "{seen}");
    assert!(seen["text_hits"].as_u64().unwrap() >= 1, "{seen}");
    assert_eq!(seen["dialogs"], json!([]), "{seen}");
    assert_eq!(seen["csp"], json!([]), "{seen}");
    assert_eq!(
        sql(
            &setup,
            &format!("SELECT name, username, host, port FROM account WHERE id = '{id}'")
        ),
        format!("{HOSTILE}\t{USER}\t{}\t{}", dc.host(), dc.imaps_port())
    );
    // The relay watches it: IDLE/NOTIFY established (state `push`), a session in Dovecot.
    let watching = wait_until(Duration::from_secs(15), || {
        Ok(sql(
            &setup,
            &format!("SELECT state FROM account WHERE id = '{id}'"),
        ) == "push"
            && dc.connections(USER)? >= 1)
    })
    .unwrap();
    assert!(
        watching,
        "the relay does not watch the new mailbox: {}\n{}",
        sql(
            &setup,
            &format!("SELECT state, state_detail FROM account WHERE id = '{id}'")
        ),
        relay.log()
    );
    let t_added = t0.elapsed();

    // "Notify this device", sender and subject: the relay registers the receiver's
    // subscription and pushes the test notice, which the receiver decrypts.
    let sub = web.call(json!({"op": "subscribe", "detail": "subject"}));
    assert_eq!(sub["on_its_way"], "A test notification is on its way.");
    assert_eq!(sub["checked"], true);
    assert_eq!(
        sub["push_log"],
        json!([format!("subscribe userVisibleOnly=true key={vapid}")])
    );
    assert_eq!(
        sub["worker"],
        json!({"script": format!("{origin}/relay-sw.js"), "scope": format!("{origin}/")})
    );
    assert_eq!(
        sql(&setup, "SELECT detail, endpoint FROM device"),
        format!("subject\t{endpoint}")
    );
    let test = receiver.wait_for(Duration::from_secs(10), |m| m["kind"] == "test");
    assert_eq!(test["body"], "Notifications work on this device", "{test}");
    // "Send a test notice" queues another.
    let again = web.call(json!({"op": "send_test"}));
    assert_eq!(again["status"], 202, "{again}");
    let again_tag = again["server"]["tag"].as_str().unwrap().to_owned();
    receiver.wait_for(Duration::from_secs(10), |m| m["tag"] == again_tag.as_str());
    let t_subscribed = t0.elapsed();

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
    let mail = receiver.wait_for(Duration::from_secs(15), |m| m["tag"] == tag.as_str());
    assert_eq!(mail["kind"], "mail", "{mail}");
    assert_eq!(mail["subject"], subject, "{mail}");
    assert_eq!(mail["from"], "Bruno Costa", "{mail}");
    assert_eq!(mail["account"], HOSTILE, "{mail}");
    assert_eq!(mail["body"], format!("Bruno Costa\n{subject}"), "{mail}");
    let t_mail = t0.elapsed();

    // "Stop notifying this device": the browser unsubscribes, the relay forgets the device,
    // and the next message is recorded but pushed to nobody.
    let stopped = web.call(json!({"op": "stop"}));
    assert_eq!(stopped["status"], 204, "{stopped}");
    assert!(
        stopped["push_log"]
            .as_array()
            .unwrap()
            .contains(&json!("unsubscribe")),
        "{stopped}"
    );
    assert_eq!(sql(&setup, "SELECT count(*) FROM device"), "0");
    let pushes = receiver.delivered().len();
    let uid2 = dc
        .deliver(
            USER,
            "INBOX",
            &message("carla@example.com", "ana@example.org", "Nobody hears", "x"),
        )
        .unwrap();
    let recorded = wait_until(Duration::from_secs(15), || {
        Ok(sql(
            &setup,
            &format!("SELECT count(*) FROM announced WHERE account = '{id}' AND uid = {uid2}"),
        ) == "1")
    })
    .unwrap();
    assert!(recorded, "the relay never recorded the second message");
    assert_eq!(sql(&setup, "SELECT count(*) FROM outbox"), "0");
    // Nothing was queued; give a stray sender a moment anyway.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        receiver.delivered().len(),
        pushes,
        "a push arrived after the device was removed: {:?}",
        receiver.delivered().last()
    );
    let t_stopped = t0.elapsed();

    // Remove the mailbox (after the confirmation, which names it as text): its row, its sealed
    // secret, its sync marks and announcements go, and the relay logs out of Dovecot.
    let sealed = sql(
        &setup,
        &format!(
            "SELECT encode(sealed_key, 'hex'), encode(sealed_secret, 'hex') FROM account WHERE id = '{id}'"
        ),
    );
    let (sealed_key, sealed_secret) = sealed.split_once('\t').unwrap();
    assert!(!sealed_secret.is_empty());
    let marks = sql(
        &setup,
        &format!("SELECT count(*) FROM folder_mark WHERE account = '{id}'"),
    );
    assert_ne!(marks, "0", "the watcher kept no sync marks");
    let removed = web.call(json!({"op": "remove_mailbox", "id": id}));
    assert_eq!(removed["status"], 204, "{removed}");
    assert!(
        removed["question"].as_str().unwrap().contains(HOSTILE),
        "{removed}"
    );
    assert_eq!(
        sql(
            &setup,
            &format!(
                "SELECT (SELECT count(*) FROM account WHERE id = '{id}'),
                        (SELECT count(*) FROM account WHERE sealed_key = decode('{sealed_key}', 'hex')
                                                         OR sealed_secret = decode('{sealed_secret}', 'hex')),
                        (SELECT count(*) FROM folder_mark WHERE account = '{id}'),
                        (SELECT count(*) FROM announced WHERE account = '{id}'),
                        (SELECT count(*) FROM outbox WHERE account = '{id}')"
            )
        ),
        "0\t0\t0\t0\t0"
    );
    let logged_out =
        wait_until(Duration::from_secs(10), || Ok(dc.connections(USER)? == 0)).unwrap();
    assert!(
        logged_out,
        "the relay still has {} IMAP session(s) of the removed mailbox",
        dc.connections(USER).unwrap_or(99)
    );
    let t_removed = t0.elapsed();

    // Nothing hostile ran at any point, nothing broke the CSP, no error in the console.
    let end = web.call(json!({"op": "check", "literal": HOSTILE}));
    assert_eq!(end["injected"], 0, "{end}");
    assert_eq!(end["onerror"], 0, "{end}");
    assert_eq!(end["dialogs"], json!([]), "{end}");
    assert_eq!(end["csp"], json!([]), "{end}");
    assert_eq!(end["errors"], json!([]), "{end}");
    // Neither the passwords nor the token ever reach the relay's log.
    let log = relay.log();
    for secret in [PASSWORD, "not-the-password", token.as_str()] {
        assert!(!log.contains(secret), "the relay logged a secret");
    }
    assert!(
        receiver.violations().is_empty(),
        "{:?}",
        receiver.violations()
    );
    drop(web);
    eprintln!(
        "relay web flow: setup {t_setup:.1?}, mailbox added and watched {t_added:.1?}, \
         subscribed + 2 test notices {t_subscribed:.1?}, mail notice {t_mail:.1?}, \
         stopped {t_stopped:.1?}, removed and logged out {t_removed:.1?}; the wrong password \
         showed {sentence:?}"
    );
}

/// A mailbox signs in at its provider from the web app in Chromium: "Log in with: Sign in with
/// Lab ID", the provider's real login and consent pages (panva's oidc-provider), back to the
/// relay's callback — which exchanges the code, tests the login against Dovecot's oauth2
/// passdb and stores the grant sealed — and back in the app, which says so and lists the
/// mailbox, watched. A denied consent comes back as "denied" and adds nothing.
#[test]
fn the_web_app_signs_a_mailbox_in_at_its_provider() {
    let dist = web_dist();
    let port = pushmail_tests::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let oidc = pushmail_tests::OidcServer::start(pushmail_tests::OidcOptions {
        relay_redirect: Some(format!("{origin}/oauth/callback")),
        ..pushmail_tests::OidcOptions::default()
    })
    .unwrap();
    let dc = Dovecot::start(DovecotOptions {
        oauth2: Some(pushmail_tests::OAuth2Passdb::for_server(&oidc)),
        ..DovecotOptions::default()
    })
    .unwrap();
    let user = format!("zoe{port}");
    dc.add_user(&user, "not-used-for-login").unwrap();
    let pg = Postgres::start().unwrap();
    let setup = RelaySetup::new(&pg, &dc, 3.0);
    setup.serve_web(&dist);
    setup.enable_signin(&oidc, &dc, &origin);
    let receiver = Receiver::start(1).unwrap();
    let relay = Relay::start_on(&setup, "web-signin", port);
    let token = setup.add_user("Zoe");

    let mut web = WebFlow::start();
    web.call(json!({
        "op": "open",
        "url": format!("{origin}/#token={token}"),
        "origin": origin,
        "subscription": receiver.subscription(0),
    }));
    let signin = |deny: bool| {
        json!({
            "op": "signin_mailbox", "name": "Work", "email": format!("{user}@example.test"),
            "host": dc.host(), "port": dc.imaps_port(), "username": user,
            "provider": "lab", "login": user, "deny": deny, "origin": origin,
        })
    };

    let denied = web.call(signin(true));
    assert_eq!(denied["result"], "denied", "{denied}");
    assert_eq!(denied["pages"], json!(["login", "consent"]), "{denied}");
    assert_eq!(denied["rows"], 0, "{denied}");
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "0");

    let done = web.call(signin(false));
    assert_eq!(done["password_hidden"], true, "{done}");
    assert!(
        done["provider_url"]
            .as_str()
            .unwrap()
            .starts_with(oidc.issuer()),
        "{done}"
    );
    assert_eq!(done["result"], "done", "{done}\n{}", relay.log());
    // The name comes from the user: Fluent isolates it (FSI … PDI).
    assert_eq!(
        done["text"],
        "\u{2068}Work\u{2069} is signed in; the relay is watching it now."
    );
    // The address bar no longer carries the answer.
    assert!(
        done["url"].as_str().unwrap().ends_with("#/mailboxes"),
        "{done}"
    );
    assert_eq!(done["rows"], 1, "{done}");
    let id = done["ids"][0].as_str().unwrap().to_owned();
    assert_eq!(
        sql(
            &setup,
            &format!("SELECT auth, signin_provider, username FROM account WHERE id = '{id}'")
        ),
        format!("oauth2\tlab\t{user}")
    );
    let watching = wait_until(Duration::from_secs(20), || {
        Ok(sql(
            &setup,
            &format!("SELECT state FROM account WHERE id = '{id}'"),
        ) == "push")
    })
    .unwrap();
    assert!(
        watching,
        "{}\n{}",
        sql(&setup, "SELECT state, state_detail FROM account"),
        relay.log()
    );
    let seen = web.call(json!({"op": "check", "literal": ""}));
    assert_eq!(seen["csp"], json!([]), "{seen}");
    // No script error anywhere. (Resources that failed to load are the provider's pages'
    // own — web fonts and a favicon an offline lab cannot fetch.)
    let script_errors: Vec<&Value> = seen["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            !e.as_str()
                .unwrap_or("")
                .starts_with("Failed to load resource")
        })
        .collect();
    assert!(script_errors.is_empty(), "{seen}");
}
