//! Sign-in (OAuth2) mailboxes in the relay, end to end against real components: panva's
//! oidc-provider (with the relay registered as a confidential web client), Dovecot's
//! `passdb { driver = oauth2 }` checking every token by introspection, PostgreSQL 15, two
//! `pushmail-relay serve` processes and the independent Web Push receiver. The browser's part
//! at the provider (login and consent pages) is oidc-provider's own pages driven by the
//! headless user agent (tests/oauth/sign-in.mjs); the browser's cookie is played by this test.
//!
//! One story, each step checked where it lands: a sign-in that comes back in another browser
//! is refused before any token request, and its `state` is spent; a denied consent adds
//! nothing; an approved one adds the mailbox with its refresh token sealed (the code and tokens
//! in no log and in no row in clear), the relay watches it and new mail reaches the device;
//! short-lived tokens are refreshed and rotated across reconnects and across a `kill -9`
//! takeover by the other process, with the grant never revoked for reuse; a revoked grant turns
//! the mailbox to `signin_required`, and signing in again brings it back with no other change;
//! removing it destroys the secret.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod relay_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use pushmail_tests::oidc::{RELAY_CLIENT_ID, UserAgentOptions};
use pushmail_tests::{
    Dovecot, DovecotOptions, OAuth2Passdb, OidcOptions, OidcServer, Postgres, free_port, wait_until,
};
use relay_common::{Receiver, Relay, RelaySetup, http};
use serde_json::{Value, json};

/// Access tokens live this long: the watchers refresh (at half of it) during the test.
const TOKEN_TTL: Duration = Duration::from_secs(6);
/// From a sign-in to the relay watching the mailbox.
const TO_WATCHING: Duration = Duration::from_secs(20);
/// From delivery to the notice at the receiver.
const TO_NOTICE: Duration = Duration::from_secs(20);
/// From a revoked grant and a kick to `signin_required`.
const TO_SIGNIN_REQUIRED: Duration = Duration::from_secs(30);

/// One GET with a cookie (or none): status and headers.
fn get(port: u16, path_and_query: &str, cookie: Option<&str>) -> (u16, Vec<(String, String)>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    let mut req =
        format!("GET {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `POST /api/signin`: the provider's URL and the browser cookie (`name=value`) it set.
fn start_signin(port: u16, token: &str, body: &Value) -> (String, String) {
    let (status, headers, text) = relay_common::http_raw(
        port,
        "POST",
        "/api/signin",
        Some(token),
        Some(body.to_string()),
    );
    assert_eq!(status, 200, "{text}");
    let url = serde_json::from_str::<Value>(&text).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = header(&headers, "set-cookie").expect("a cookie").to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    (url, cookie)
}

/// `POST` with an `Origin` header (as a browser sends): status, headers, body.
fn post_with_origin(
    port: u16,
    path: &str,
    token: &str,
    origin: &str,
    body: &Value,
) -> (u16, Vec<(String, String)>, String) {
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nOrigin: {origin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, Vec::new(), text)
}

/// A new sign-in mailbox's fields on the test's Dovecot.
fn mailbox_for(dc: &Dovecot, user: &str) -> Value {
    json!({
        "provider": "lab", "name": "Work", "email": format!("{user}@example.test"),
        "host": dc.host(), "port": dc.imaps_port(), "security": "tls", "username": user,
    })
}

/// The path and query of the provider's redirect back to the relay.
fn callback_path(redirect: &str, port: u16) -> String {
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        redirect.starts_with(&format!("{base}/oauth/callback?")),
        "{redirect}"
    );
    redirect[base.len()..].to_owned()
}

/// The web app's URL the callback sent the browser to.
fn back_to_app(status: u16, headers: &[(String, String)]) -> String {
    assert_eq!(status, 303, "{headers:?}");
    assert_eq!(header(headers, "cache-control"), Some("no-store"));
    assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"));
    header(headers, "location").unwrap().to_owned()
}

fn sql(setup: &RelaySetup<'_>, q: &str) -> String {
    setup.psql(q).trim().to_owned()
}

/// Authorization-code requests the relay's client made at the provider.
fn code_exchanges(oidc: &OidcServer) -> usize {
    oidc.token_requests()
        .iter()
        .filter(|r| {
            r.grant_type.as_deref() == Some("authorization_code")
                && r.client_id.as_deref() == Some(RELAY_CLIENT_ID)
        })
        .count()
}

#[test]
fn a_mailbox_signs_in_at_its_provider_and_stays_signed_in_across_processes() {
    let t0 = Instant::now();
    let port_a = free_port();
    let public_url = format!("http://127.0.0.1:{port_a}");
    let oidc = OidcServer::start(OidcOptions {
        access_token_ttl: TOKEN_TTL,
        relay_redirect: Some(format!("{public_url}/oauth/callback")),
        ..OidcOptions::default()
    })
    .unwrap();
    let dc = Dovecot::start(DovecotOptions {
        oauth2: Some(OAuth2Passdb::for_server(&oidc)),
        ..DovecotOptions::default()
    })
    .unwrap();
    let pg = Postgres::start().unwrap();
    let setup = RelaySetup::new(&pg, &dc, 3.0);

    // The operator's part: the public URL, the provider's client (its secret in a file of its
    // own), and a CA bundle trusting both the mail server's and the provider's certificates.
    setup.enable_signin(&oidc, &dc, &public_url);

    let mut a = Relay::start_on(&setup, "a", port_a);
    let token = setup.add_user("Carol");
    let (status, providers) = http(port_a, "GET", "/api/signin/providers", Some(&token), None);
    assert_eq!(status, 200, "{providers}");
    assert_eq!(
        providers,
        json!({"providers": [{"id": "lab", "name": "Lab ID"}]})
    );
    let receiver = Receiver::start(1).unwrap();
    let (status, reply) = http(
        port_a,
        "POST",
        "/api/devices",
        Some(&token),
        Some(
            &json!({"name": "phone", "detail": "subject", "subscription": receiver.subscription(0)}),
        ),
    );
    assert_eq!(status, 201, "{reply}");
    receiver.wait_for(Duration::from_secs(10), |m| m["kind"] == "test");

    // The login name at the provider is the token's subject, Dovecot's user name.
    let user = format!("carol{}", free_port());
    // Known to the test's delivery (its password is never used: the passdb takes tokens).
    dc.add_user(&user, "not-used-for-login").unwrap();
    let mailbox = mailbox_for(&dc, &user);

    // 0. The sign-in works, but the mail server refuses the login (the mailbox's user name is
    //    not the one signed in): nothing is kept, and the app is told why by a code.
    let other = json!({
        "provider": "lab", "name": "Wrong", "email": "someone@example.test",
        "host": dc.host(), "port": dc.imaps_port(), "security": "tls", "username": "someone-else",
    });
    let (url, cookie) = start_signin(port_a, &token, &other);
    let outcome = oidc
        .user_agent(&url, &user, &UserAgentOptions::default())
        .unwrap();
    let path = callback_path(outcome.redirect.as_deref().unwrap(), port_a);
    let (status, headers) = get(port_a, &path, Some(&cookie));
    assert_eq!(
        back_to_app(status, &headers),
        "/?signin=failed&code=login_failed&reason=auth_failed"
    );
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "0");
    assert_eq!(
        sql(
            &setup,
            "SELECT count(*) FROM outbox WHERE kind = 'webpush' AND account IS NOT NULL"
        ),
        "0"
    );
    // Opened under another name than public_url: refused before the provider is involved.
    let (status, _, text) = post_with_origin(
        port_a,
        "/api/signin",
        &token,
        "http://localhost:1",
        &mailbox_for(&dc, "x"),
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("wrong_origin"), "{text}");

    let exchanged = code_exchanges(&oidc);
    assert_eq!(exchanged, 1, "step 0 exchanged its code");

    // 1. Completed at the provider, but back in another browser (no cookie): refused before
    //    any token request, and the sign-in is spent (its own browser cannot use it either).
    let (url, cookie) = start_signin(port_a, &token, &mailbox);
    assert!(url.starts_with(&oidc.authorization_endpoint()), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let outcome = oidc
        .user_agent(&url, &user, &UserAgentOptions::default())
        .unwrap();
    let path = callback_path(outcome.redirect.as_deref().unwrap(), port_a);
    let (status, headers) = get(port_a, &path, None);
    assert_eq!(
        back_to_app(status, &headers),
        "/?signin=failed&code=wrong_browser"
    );
    let (status, headers) = get(port_a, &path, Some("pushmail-signin=0000")); // a forged value
    assert_eq!(
        back_to_app(status, &headers),
        "/?signin=failed&code=expired"
    );
    let (status, headers) = get(port_a, &path, Some(&cookie));
    assert_eq!(
        back_to_app(status, &headers),
        "/?signin=failed&code=expired"
    );
    assert_eq!(
        code_exchanges(&oidc),
        exchanged,
        "a code was exchanged for the wrong browser"
    );
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "0");

    // 2. Denied at the provider: nothing added.
    let (url, cookie) = start_signin(port_a, &token, &mailbox);
    let outcome = oidc
        .user_agent(
            &url,
            &user,
            &UserAgentOptions {
                deny: true,
                ..UserAgentOptions::default()
            },
        )
        .unwrap();
    let path = callback_path(outcome.redirect.as_deref().unwrap(), port_a);
    let (status, headers) = get(port_a, &path, Some(&cookie));
    assert_eq!(back_to_app(status, &headers), "/?signin=failed&code=denied");
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "0");

    // 3. Approved: the mailbox is added, tested, watched.
    let (url, cookie) = start_signin(port_a, &token, &mailbox);
    let outcome = oidc
        .user_agent(&url, &user, &UserAgentOptions::default())
        .unwrap();
    let code = outcome.redirect_param("code").unwrap();
    let path = callback_path(outcome.redirect.as_deref().unwrap(), port_a);
    let (status, headers) = get(port_a, &path, Some(&cookie));
    let location = back_to_app(status, &headers);
    let id = location
        .strip_prefix("/?signin=done&account=")
        .unwrap_or_else(|| panic!("{location}\n{}", a.log()))
        .to_owned();
    assert_eq!(code_exchanges(&oidc), exchanged + 1);
    assert_eq!(
        sql(
            &setup,
            &format!("SELECT auth, signin_provider, username FROM account WHERE id = '{id}'")
        ),
        format!("oauth2\tlab\t{user}")
    );
    let (_, list) = http(port_a, "GET", "/api/accounts", Some(&token), None);
    assert_eq!(list[0]["auth"], "oauth2", "{list}");
    assert_eq!(list[0]["provider"], "lab", "{list}");
    let state = |setup: &RelaySetup<'_>| {
        sql(
            setup,
            &format!("SELECT state FROM account WHERE id = '{id}'"),
        )
    };
    assert!(
        wait_until(TO_WATCHING, || Ok(state(&setup) == "push")).unwrap(),
        "not watched: {}\n{}",
        sql(&setup, "SELECT state, state_detail FROM account"),
        a.log()
    );
    let notice = |subject: &str| {
        let uid = dc.deliver_simple(&user, "INBOX", subject).unwrap();
        let suffix = format!("/{uid}");
        let prefix = format!("{id}/INBOX/");
        receiver.wait_for(TO_NOTICE, |m| {
            m["tag"]
                .as_str()
                .is_some_and(|t| t.starts_with(&prefix) && t.ends_with(&suffix))
        })
    };
    let first = notice("Signed in");
    assert_eq!(first["subject"], "Signed in", "{first}");
    let t_signed_in = t0.elapsed();

    // 3b. Signing in again as someone the mail server does not let in: the working grant is
    //     kept as it was, and the watcher is not disturbed.
    let sealed = |setup: &RelaySetup<'_>| {
        sql(
            setup,
            &format!(
                "SELECT encode(sealed_secret, 'hex'), secret_version FROM account WHERE id = '{id}'"
            ),
        )
    };
    let kept = sealed(&setup);
    let (url, cookie) = start_signin(port_a, &token, &json!({"account": id}));
    let outcome = oidc
        .user_agent(&url, &format!("{user}-other"), &UserAgentOptions::default())
        .unwrap();
    let path = callback_path(outcome.redirect.as_deref().unwrap(), port_a);
    let (status, headers) = get(port_a, &path, Some(&cookie));
    assert_eq!(
        back_to_app(status, &headers),
        "/?signin=failed&code=login_failed&reason=auth_failed"
    );
    assert_eq!(sealed(&setup), kept, "a failed sign-in replaced the grant");
    assert_eq!(state(&setup), "push");

    // 4. Tokens expire (6 s) and rotate: two reconnects later, and after process A is killed
    //    and B takes its buckets over, the mailbox still logs in, with the grant intact.
    let sealed_before = sql(
        &setup,
        &format!("SELECT encode(sealed_secret, 'hex') FROM account WHERE id = '{id}'"),
    );
    std::thread::sleep(TOKEN_TTL);
    dc.kick(&user).unwrap();
    assert!(
        wait_until(TO_WATCHING, || Ok(
            dc.connections(&user)? >= 1 && state(&setup) == "push"
        ))
        .unwrap()
    );
    notice("After a refresh");
    let mut b = Relay::start(&setup, "b");
    a.kill9();
    let moved = wait_until(Duration::from_secs(30), || {
        Ok(sql(
            &setup,
            &format!(
                "SELECT count(*) FROM bucket WHERE owner = '{}' AND lease_until > now()
                   AND bucket = (SELECT bucket FROM account WHERE id = '{id}')",
                b.owner()
            ),
        ) == "1")
    })
    .unwrap();
    assert!(moved, "B did not take the mailbox over:\n{}", b.log());
    std::thread::sleep(TOKEN_TTL);
    dc.kick(&user).unwrap();
    let after = notice("After the takeover");
    assert_eq!(after["subject"], "After the takeover");
    let sealed_after = sql(
        &setup,
        &format!("SELECT encode(sealed_secret, 'hex') FROM account WHERE id = '{id}'"),
    );
    assert_ne!(
        sealed_before, sealed_after,
        "the rotated refresh token was not stored"
    );
    let refreshes: Vec<_> = oidc
        .token_requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .collect();
    assert!(refreshes.len() >= 2, "{refreshes:?}");
    assert!(
        refreshes.iter().all(|r| r.result == "ok"),
        "a refresh was refused (a rotated-away token reused?): {refreshes:?}"
    );
    assert!(
        oidc.grant_revocations().is_empty(),
        "{:?}",
        oidc.grant_revocations()
    );
    // (The first, refused sign-in's consent left a grant of its own, never used.)
    assert!(oidc.live_grants(&user).unwrap() >= 1);

    // 5. Access revoked at the provider: the mailbox waits for the user, then signs in again.
    oidc.revoke(&user).unwrap();
    dc.kick(&user).unwrap();
    assert!(
        wait_until(
            TO_SIGNIN_REQUIRED,
            || Ok(state(&setup) == "signin_required")
        )
        .unwrap(),
        "{}\n{}",
        sql(&setup, "SELECT state, state_detail FROM account"),
        b.log()
    );
    let (url, cookie) = start_signin(b.port, &token, &json!({"account": id}));
    // The provider only knows A's address as the way back; B's callback is the same relay.
    let outcome = oidc
        .user_agent(&url, &user, &UserAgentOptions::default())
        .unwrap();
    let redirect = outcome
        .redirect
        .as_deref()
        .unwrap()
        .replace(&format!(":{port_a}/"), &format!(":{}/", b.port));
    let path = callback_path(&redirect, b.port);
    let (status, headers) = get(b.port, &path, Some(&cookie));
    assert_eq!(
        back_to_app(status, &headers),
        format!("/?signin=done&account={id}"),
        "{}",
        b.log()
    );
    assert_eq!(
        sql(
            &setup,
            &format!("SELECT secret_version FROM account WHERE id = '{id}'")
        ),
        "1"
    );
    assert!(
        wait_until(TO_WATCHING, || Ok(state(&setup) == "push")).unwrap(),
        "{}\n{}",
        sql(&setup, "SELECT state, state_detail FROM account"),
        b.log()
    );
    notice("Signed in again");
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "1");

    // Nothing secret in a log or in the database in clear: not the code, not a token.
    let logs = format!("{}\n{}", a.log(), b.log());
    assert!(!logs.contains(&code), "the authorization code is in a log");
    let dump = sql(
        &setup,
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM account) t",
    );
    assert!(!dump.contains(&code));
    assert_eq!(sql(&setup, "SELECT count(*) FROM signin_pending"), "0");
    for line in logs.lines() {
        assert!(
            !line.contains("eyJ") && !line.to_ascii_lowercase().contains("bearer "),
            "a token-like value in a log: {line}"
        );
    }

    // Removed: the row and its sealed secret go.
    let (status, _) = http(
        b.port,
        "DELETE",
        &format!("/api/accounts/{id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(sql(&setup, "SELECT count(*) FROM account"), "0");
    assert!(b.stop());
    eprintln!(
        "signed in and first notice at {t_signed_in:?}; whole story {:?}",
        t0.elapsed()
    );
}
