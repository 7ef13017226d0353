//! Proves the sign-in test bed against the real components, before any Pushmail code uses it:
//! oidc-provider (`tests/oauth/server.mjs`) as the authorization server, Dovecot's oauth2 passdb
//! checking its tokens by introspection, and the headless user (`tests/oauth/sign-in.mjs`) on
//! its login and consent pages. If these fail, no sign-in test built on the bed means anything.
//!
//! Every IMAP login here is the harness's own `RawImap`, which shares no code with Pushmail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use pushmail_tests::oidc::{SCOPES, TokenError, UserAgentOptions, oauthbearer_blob, xoauth2_blob};
use pushmail_tests::{
    Dovecot, DovecotOptions, OAuth2Passdb, OidcOptions, OidcServer, RawImap, SaslOutcome, message,
};
use serde_json::Value;

fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let value = f()?;
    eprintln!("{what}: {:?}", started.elapsed());
    Ok(value)
}

/// An authorization server and a Dovecot that takes its tokens.
fn bed(opts: OidcOptions, xoauth2_only: bool) -> Result<(OidcServer, Dovecot)> {
    let oidc = timed("oidc-provider start", || OidcServer::start(opts))?;
    let mut passdb = OAuth2Passdb::for_server(&oidc);
    if xoauth2_only {
        passdb = passdb.xoauth2_only();
    }
    let dovecot = timed("dovecot start", || {
        Dovecot::start(DovecotOptions {
            oauth2: Some(passdb),
            ..DovecotOptions::default()
        })
    })?;
    Ok((oidc, dovecot))
}

fn xoauth2(dovecot: &Dovecot, user: &str, token: &str) -> Result<(RawImap, SaslOutcome)> {
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    // A refused XOAUTH2 gets `+ <base64 JSON>`, answered with an empty line.
    let outcome = imap.authenticate("XOAUTH2", &xoauth2_blob(user, token), b"")?;
    Ok((imap, outcome))
}

fn oauthbearer(dovecot: &Dovecot, user: &str, token: &str) -> Result<(RawImap, SaslOutcome)> {
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    let blob = oauthbearer_blob(user, dovecot.host(), dovecot.imap_port(), token);
    // A refused OAUTHBEARER gets `+ <base64 JSON>`, answered with a single 0x01 (`AQ==`).
    let outcome = imap.authenticate("OAUTHBEARER", &blob, b"\x01")?;
    Ok((imap, outcome))
}

/// Asserts the login worked, then proves the session is real: INBOX opens.
fn assert_logged_in(login: (RawImap, SaslOutcome), what: &str) -> Result<RawImap> {
    let (mut imap, outcome) = login;
    ensure!(outcome.ok, "{what}: refused: {outcome:?}");
    ensure!(
        outcome.challenges.is_empty(),
        "{what}: challenged: {outcome:?}"
    );
    imap.select("INBOX")
        .with_context(|| format!("{what}: SELECT INBOX"))?;
    Ok(imap)
}

/// Asserts a token login was refused the way RFC 7628 says: one JSON error challenge, then NO.
fn assert_refused(login: (RawImap, SaslOutcome), what: &str) -> Result<Value> {
    let (imap, outcome) = login;
    ensure!(!outcome.ok, "{what}: accepted");
    ensure!(
        outcome.tagged.contains(" NO "),
        "{what}: not a NO: {outcome:?}"
    );
    ensure!(
        outcome.challenges.len() == 1,
        "{what}: expected one error challenge: {outcome:?}"
    );
    let json: Value = serde_json::from_slice(&outcome.challenges[0])
        .with_context(|| format!("{what}: challenge is not JSON: {outcome:?}"))?;
    imap.abort();
    Ok(json)
}

fn capabilities(dovecot: &Dovecot) -> Result<Vec<String>> {
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    let caps = imap.capabilities()?;
    imap.abort();
    Ok(caps)
}

#[test]
fn a_user_signs_in_with_pkce_and_dovecot_takes_the_token_over_both_mechanisms() -> Result<()> {
    let (oidc, dovecot) = bed(OidcOptions::default(), false)?;
    let caps = capabilities(&dovecot)?;
    for mech in ["AUTH=PLAIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"] {
        assert!(caps.iter().any(|c| c == mech), "{mech} missing: {caps:?}");
    }

    // The browser part: the client's URL, the login page (sub = the name typed), consent.
    // `carol` exists only at the authorization server: no password anywhere in Dovecot.
    let listener_port = pushmail_tests::free_port();
    let redirect_uri = format!("http://127.0.0.1:{listener_port}/callback");
    let request = oidc.authorization_request(&redirect_uri)?;
    let outcome = timed("headless sign-in", || {
        oidc.user_agent(&request.url, "carol", &UserAgentOptions::default())
    })?;
    assert_eq!(outcome.pages, ["login", "consent"], "{outcome:?}");
    let redirect = outcome.redirect.as_deref().unwrap_or_default();
    assert!(
        redirect.starts_with(&format!("{redirect_uri}?")),
        "loopback redirect on our port: {outcome:?}"
    );
    assert_eq!(outcome.redirect_param("state"), Some(request.state.clone()));
    assert_eq!(
        outcome.redirect_param("iss").as_deref(),
        Some(oidc.issuer())
    );
    let code = outcome.redirect_param("code").context("no code")?;

    let tokens = timed("code exchange", || oidc.exchange_code(&request, &code))?;
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access kept: {tokens:?}"
    );
    assert_eq!(tokens.scope.as_deref(), Some(SCOPES));
    assert_eq!(tokens.expires_in, Some(3600));
    assert_logged_in(
        xoauth2(&dovecot, "carol", &tokens.access_token)?,
        "first token",
    )?
    .logout()?;
    // Replaying the code is refused, and revokes what it issued (RFC 6749 §4.1.2's SHOULD):
    // that first access token now fails at IMAP. A client must never retry a code exchange.
    let replay = oidc.exchange_code(&request, &code).unwrap_err();
    assert_eq!(
        replay
            .downcast_ref::<TokenError>()
            .map(|e| e.error.as_str()),
        Some("invalid_grant"),
        "{replay:#}"
    );
    assert_eq!(
        oidc.grant_revocations(),
        [(Some("carol".to_owned()), "code_reuse".to_owned())]
    );
    assert_refused(
        xoauth2(&dovecot, "carol", &tokens.access_token)?,
        "token of a replayed code",
    )?;
    let tokens = oidc.tokens_for("carol")?;

    // Mail delivered to the token-only user (a userdb lookup without any passdb, as a delivery
    // agent does) is there once she logs in with the token.
    dovecot.deliver_quietly(
        "carol",
        "INBOX",
        &message(
            "Sender <s@example.org>",
            "carol@example.test",
            "Token mail",
            "Hi",
        ),
    )?;
    let started = Instant::now();
    let mut imap = assert_logged_in(xoauth2(&dovecot, "carol", &tokens.access_token)?, "XOAUTH2")?;
    eprintln!("XOAUTH2 login + SELECT: {:?}", started.elapsed());
    let fetched = imap.command("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")?;
    assert!(
        fetched.iter().any(|l| l.contains("Subject: Token mail")),
        "{fetched:?}"
    );
    imap.logout()?;
    let imap = assert_logged_in(
        oauthbearer(&dovecot, "carol", &tokens.access_token)?,
        "OAUTHBEARER",
    )?;
    imap.logout()?;

    // Password users are unchanged next to the tokens.
    dovecot.login("alice")?.logout()?;

    let requests = oidc.token_requests();
    let codes: Vec<_> = requests
        .iter()
        .map(|r| (r.grant_type.as_deref(), r.sub.as_deref(), r.ok()))
        .collect();
    assert_eq!(
        codes,
        [
            (Some("authorization_code"), Some("carol"), true),
            // The server knows no account for a code it has already consumed.
            (Some("authorization_code"), None, false),
            (Some("authorization_code"), Some("carol"), true),
        ],
        "{requests:?}"
    );
    let (introspections, active) = oidc.introspections();
    assert_eq!((introspections, active), (4, 3), "one per token login");
    Ok(())
}

#[test]
fn a_wrong_token_is_refused_with_a_json_challenge_on_both_mechanisms() -> Result<()> {
    let (oidc, dovecot) = bed(OidcOptions::default(), false)?;
    let tokens = oidc.tokens_for("dave")?;
    let started = Instant::now();
    // Dovecot delays each failure by auth_failure_delay (2 s): refuse all three at once.
    let (garbage_x, garbage_o, stolen) = thread::scope(|s| {
        let x = s.spawn(|| xoauth2(&dovecot, "dave", "not-a-token"));
        let o = s.spawn(|| oauthbearer(&dovecot, "dave", "not-a-token"));
        // A real token, but dave's: the login name must be its sub.
        let st = s.spawn(|| xoauth2(&dovecot, "alice", &tokens.access_token));
        (x.join().unwrap(), o.join().unwrap(), st.join().unwrap())
    });
    eprintln!("three refusals: {:?}", started.elapsed());
    for (login, what) in [
        (garbage_x?, "XOAUTH2 with garbage"),
        (garbage_o?, "OAUTHBEARER with garbage"),
        (stolen?, "XOAUTH2 with another user's token"),
    ] {
        let json = assert_refused(login, what)?;
        eprintln!("{what}: Dovecot's challenge {json}");
        // RFC 7628 §3.2.2: the error JSON has a status.
        assert!(json.get("status").is_some(), "{what}: {json}");
    }
    assert!(
        xoauth2(&dovecot, "dave", &tokens.access_token)?.1.ok,
        "the right token still works"
    );
    Ok(())
}

#[test]
fn refresh_rotates_and_reusing_an_old_refresh_token_revokes_the_grant() -> Result<()> {
    let (oidc, dovecot) = bed(OidcOptions::default(), false)?;
    let first = oidc.tokens_for("erin")?;
    let old_refresh = first.refresh_token.clone().context("no refresh token")?;
    let second = timed("refresh", || oidc.refresh(&old_refresh))?;
    let new_refresh = second.refresh_token.clone().context("no rotated token")?;
    assert_ne!(new_refresh, old_refresh, "rotated");
    assert_ne!(second.access_token, first.access_token);
    assert_logged_in(
        xoauth2(&dovecot, "erin", &second.access_token)?,
        "refreshed token",
    )?
    .logout()?;

    // The old refresh token again: refused, and the whole grant goes with it.
    let reuse = oidc.refresh(&old_refresh).unwrap_err();
    assert_eq!(
        reuse.downcast_ref::<TokenError>().map(|e| e.error.as_str()),
        Some("invalid_grant"),
        "{reuse:#}"
    );
    assert_eq!(
        oidc.grant_revocations(),
        [(Some("erin".to_owned()), "refresh_token_reuse".to_owned())]
    );
    assert_eq!(oidc.live_grants("erin")?, 0);
    assert_refused(
        xoauth2(&dovecot, "erin", &second.access_token)?,
        "access token of a revoked grant",
    )?;
    let after = oidc.refresh(&new_refresh).unwrap_err();
    assert_eq!(
        after.downcast_ref::<TokenError>().map(|e| e.error.as_str()),
        Some("invalid_grant")
    );

    let refreshes: Vec<_> = oidc
        .token_requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .map(|r| r.result)
        .collect();
    assert_eq!(refreshes, ["ok", "invalid_grant", "invalid_grant"]);
    Ok(())
}

#[test]
fn revoking_the_grant_at_the_server_fails_the_next_login_at_once() -> Result<()> {
    let (oidc, dovecot) = bed(OidcOptions::default(), false)?;
    let tokens = oidc.tokens_for("frank")?;
    assert_logged_in(
        oauthbearer(&dovecot, "frank", &tokens.access_token)?,
        "before",
    )?
    .logout()?;
    assert_eq!(oidc.live_grants("frank")?, 1);
    assert_eq!(oidc.revoke("frank")?, 1);
    assert_eq!(oidc.revoke("nobody")?, 0);
    // No cache anywhere: the very next login is refused.
    assert_refused(
        oauthbearer(&dovecot, "frank", &tokens.access_token)?,
        "after revoke",
    )?;
    let refresh = oidc
        .refresh(tokens.refresh_token.as_deref().unwrap_or_default())
        .unwrap_err();
    assert_eq!(
        refresh
            .downcast_ref::<TokenError>()
            .map(|e| e.error.as_str()),
        Some("invalid_grant")
    );
    assert_eq!(
        oidc.grant_revocations(),
        [(Some("frank".to_owned()), "test_hook".to_owned())]
    );
    Ok(())
}

#[test]
fn an_xoauth2_only_server_refuses_oauthbearer() -> Result<()> {
    let (oidc, dovecot) = bed(OidcOptions::default(), true)?;
    let caps = capabilities(&dovecot)?;
    assert!(caps.iter().any(|c| c == "AUTH=XOAUTH2"), "{caps:?}");
    assert!(!caps.iter().any(|c| c == "AUTH=OAUTHBEARER"), "{caps:?}");
    let tokens = oidc.tokens_for("grace")?;
    let (imap, outcome) = oauthbearer(&dovecot, "grace", &tokens.access_token)?;
    assert!(!outcome.ok, "{outcome:?}");
    // Refused as a mechanism, before any token check: no challenge, no introspection.
    assert!(outcome.challenges.is_empty(), "{outcome:?}");
    eprintln!("OAUTHBEARER on an XOAUTH2-only server: {}", outcome.tagged);
    imap.abort();
    assert_eq!(oidc.introspections().0, 0);
    assert_logged_in(xoauth2(&dovecot, "grace", &tokens.access_token)?, "XOAUTH2")?.logout()?;
    Ok(())
}

#[test]
fn a_short_lived_access_token_expires_and_a_refreshed_one_works() -> Result<()> {
    let ttl = Duration::from_secs(3);
    let (oidc, dovecot) = bed(
        OidcOptions {
            access_token_ttl: ttl,
            ..OidcOptions::default()
        },
        false,
    )?;
    let issued = Instant::now();
    let tokens = oidc.tokens_for("heidi")?;
    assert_eq!(tokens.expires_in, Some(3));
    assert_logged_in(xoauth2(&dovecot, "heidi", &tokens.access_token)?, "fresh")?.logout()?;
    // Token lifetimes count in whole seconds from issue: one more second makes "expired" sure.
    thread::sleep((ttl + Duration::from_secs(1)).saturating_sub(issued.elapsed()));
    assert_refused(
        xoauth2(&dovecot, "heidi", &tokens.access_token)?,
        "expired token",
    )?;
    let fresh = oidc.refresh(tokens.refresh_token.as_deref().unwrap_or_default())?;
    assert_logged_in(
        xoauth2(&dovecot, "heidi", &fresh.access_token)?,
        "refreshed",
    )?
    .logout()?;
    Ok(())
}

/// The user agent is what later CLI tests drive a sign-in with: prove its other paths.
#[test]
fn the_headless_user_cancels_follows_redirects_and_any_loopback_port_works() -> Result<()> {
    let oidc = OidcServer::start(OidcOptions::default())?;

    // Cancel on the consent page → error=access_denied at the client's redirect.
    let request = oidc.authorization_request("http://127.0.0.1:9/callback")?;
    let denied = oidc.user_agent(
        &request.url,
        "ivan",
        &UserAgentOptions {
            deny: true,
            ..UserAgentOptions::default()
        },
    )?;
    assert_eq!(
        denied.redirect_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(denied.redirect_param("code"), None);

    // PKCE is required for the public client.
    let without_pkce = request
        .url
        .replace("code_challenge_method=S256", "")
        .replace("&code_challenge=", "&x=");
    let refused = oidc.user_agent(&without_pkce, "ivan", &UserAgentOptions::default())?;
    assert_eq!(
        refused.redirect_param("error").as_deref(),
        Some("invalid_request")
    );
    assert!(refused.pages.is_empty(), "{refused:?}");

    // Any port, IPv4 and IPv6 loopback (RFC 8252 §7.3); a port-less other host is refused.
    for redirect in [
        "http://127.0.0.1:54321/callback",
        "http://[::1]:40404/callback",
    ] {
        let request = oidc.authorization_request(redirect)?;
        let outcome = oidc.user_agent(&request.url, "ivan", &UserAgentOptions::default())?;
        assert!(
            outcome.redirect_param("code").is_some(),
            "{redirect}: {outcome:?}"
        );
        assert!(
            outcome
                .redirect
                .as_deref()
                .unwrap_or_default()
                .starts_with(redirect)
        );
    }
    let request = oidc.authorization_request("http://localhost:5000/callback")?;
    let outcome = oidc.user_agent(&request.url, "ivan", &UserAgentOptions::default())?;
    assert_eq!(outcome.redirect, None, "{outcome:?}");
    assert!(
        outcome
            .error_page
            .as_deref()
            .unwrap_or_default()
            .contains("redirect_uri"),
        "{outcome:?}"
    );

    // --follow: the browser requests the redirect and shows what the listener answered.
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let served = thread::spawn(move || -> Result<String> {
        let (stream, _) = listener.accept()?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let page = "You can close this tab.";
        write!(
            &stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        )?;
        Ok(request_line)
    });
    let request = oidc.authorization_request(&format!("http://127.0.0.1:{port}/callback"))?;
    let outcome = oidc.user_agent(
        &request.url,
        "ivan",
        &UserAgentOptions {
            follow: true,
            ..UserAgentOptions::default()
        },
    )?;
    let followed = outcome.followed.clone().context("not followed")?;
    assert_eq!(followed.status, 200);
    assert_eq!(followed.cache_control.as_deref(), Some("no-store"));
    assert_eq!(followed.body, "You can close this tab.");
    let request_line = served.join().unwrap()?;
    assert!(
        request_line.starts_with("GET /callback?code="),
        "{request_line}"
    );
    Ok(())
}
