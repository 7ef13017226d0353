//! Tests across the module: the token endpoint and the refresher against an in-process fake
//! token endpoint on 127.0.0.1, a whole sign-in with a scripted browser, and the promise that
//! no token reaches an error, a `Debug` or a `Display`.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::secret::SecretError;

/// One scripted answer of the fake token endpoint.
#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    delay: Duration,
}

fn json(status: u16, body: &str) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        body: body.to_owned(),
        delay: Duration::ZERO,
    }
}

fn tokens_json(access: &str, refresh: Option<&str>, expires_in: u64) -> String {
    match refresh {
        Some(r) => format!(
            r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{expires_in},"refresh_token":"{r}","scope":"imap"}}"#
        ),
        None => format!(
            r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{expires_in}}}"#
        ),
    }
}

/// A token endpoint on 127.0.0.1: answers each POST with the next scripted reply (the last
/// one again when the script runs out) and records the form bodies it got.
struct FakeTokenServer {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTokenServer {
    async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/token",
            listener.local_addr().unwrap().port()
        );
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        let next = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let n = next.fetch_add(1, Ordering::SeqCst);
                let reply = script[n.min(script.len() - 1)].clone();
                let seen = seen.clone();
                tokio::spawn(serve(stream, reply, seen));
            }
        });
        FakeTokenServer { url, bodies, task }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }

    fn provider(&self) -> Provider {
        Provider::custom(
            "https://auth.example.test/authorize",
            &self.url,
            vec!["imap".into(), "offline_access".into()],
            None,
            SaslMechanism::OAuthBearer,
            "imap.example.test",
            993,
            Some("pushmail-test".into()),
        )
    }
}

async fn serve(mut stream: TcpStream, reply: Reply, seen: Arc<Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let body = loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                break body.to_owned();
            }
        }
    };
    seen.lock().unwrap().push(body);
    tokio::time::sleep(reply.delay).await;
    let answer = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.content_type,
        reply.body.len(),
        reply.body
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn token_client() -> TokenClient {
    TokenClient::new(HttpClient::new().unwrap())
}

fn form(body: &str) -> Vec<(String, String)> {
    oauth2::url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn field(body: &str, key: &str) -> Option<String> {
    form(body)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

// ---- the token endpoint ----

#[tokio::test]
async fn refresh_gives_tokens_and_sends_a_well_formed_request() {
    let server =
        FakeTokenServer::start(vec![json(200, &tokens_json("at-1", Some("rt-2"), 3600))]).await;
    let t = token_client()
        .refresh(&server.provider(), &SecretString::from("rt-1"))
        .await
        .unwrap();
    assert_eq!(t.access.expose_secret(), "at-1");
    assert_eq!(t.refresh.as_ref().unwrap().expose_secret(), "rt-2");
    assert_eq!(t.lifetime, Some(Duration::from_secs(3600)));
    let left = t
        .expires_at
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(left > Duration::from_secs(3500), "{left:?}");
    assert_eq!(t.scopes, Some(vec!["imap".to_owned()]));
    let body = &server.bodies()[0];
    assert_eq!(field(body, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(field(body, "refresh_token").as_deref(), Some("rt-1"));
    assert_eq!(field(body, "client_id").as_deref(), Some("pushmail-test"));
    assert_eq!(field(body, "client_secret"), None);
}

/// What a test expects of an error.
type Verdict = fn(&OAuthError) -> bool;

#[tokio::test]
async fn token_endpoint_answers_are_classified() {
    let cases: Vec<(Reply, Verdict)> = vec![
        (
            json(
                400,
                r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
            ),
            |e| e.is_signin_required(),
        ),
        (json(400, r#"{"error":"interaction_required"}"#), |e| {
            e.is_signin_required()
        }),
        (json(401, r#"{"error":"invalid_client"}"#), |e| {
            matches!(e, OAuthError::ClientRejected { .. })
        }),
        (json(400, r#"{"error":"unauthorized_client"}"#), |e| {
            matches!(e, OAuthError::ClientRejected { .. })
        }),
        (
            // Microsoft sends the admin-consent case as invalid_grant.
            json(
                400,
                r#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application with ID 'x'.","error_codes":[65001]}"#,
            ),
            |e| matches!(e, OAuthError::AdminApprovalRequired { .. }),
        ),
        (
            json(
                400,
                r#"{"error":"invalid_request","error_description":"AADSTS90094: The grant requires admin permission."}"#,
            ),
            |e| matches!(e, OAuthError::AdminApprovalRequired { .. }),
        ),
        (json(400, r#"{"error":"consent_required"}"#), |e| {
            matches!(e, OAuthError::AdminApprovalRequired { .. })
        }),
        (
            json(400, r#"{"error":"invalid_scope"}"#),
            |e| matches!(e, OAuthError::Refused { code, .. } if code == "invalid_scope"),
        ),
        (json(400, r#"{"error":"temporarily_unavailable"}"#), |e| {
            e.is_transient()
        }),
        (json(503, r#"{"error":"invalid_grant"}"#), |e| {
            e.is_transient()
        }),
        (json(500, "oops"), |e| e.is_transient()),
        (json(429, ""), |e| e.is_transient()),
        (
            // A captive portal's page.
            Reply {
                status: 200,
                content_type: "text/html",
                body: "<html>Log in to the hotel Wi-Fi</html>".into(),
                delay: Duration::ZERO,
            },
            |e| e.is_transient(),
        ),
        (json(200, r#"{"token_type":"Bearer"}"#), |e| {
            e.is_transient()
        }),
    ];
    for (reply, expected) in cases {
        let shown = format!("{} {}", reply.status, reply.body);
        let server = FakeTokenServer::start(vec![reply]).await;
        let e = token_client()
            .refresh(&server.provider(), &SecretString::from("rt-1"))
            .await
            .unwrap_err();
        assert!(expected(&e), "{shown} → {e:?}");
        assert!(!e.to_string().contains("rt-1"), "{e}");
    }
    // Nobody listening: transient.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut p = FakeTokenServer::start(vec![json(200, "{}")])
        .await
        .provider();
    p.token_endpoint = format!("http://127.0.0.1:{port}/token");
    let e = token_client()
        .refresh(&p, &SecretString::from("rt-1"))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = FakeTokenServer::start(vec![Reply {
        status: 307,
        content_type: "application/json",
        body: String::new(),
        delay: Duration::ZERO,
    }])
    .await;
    let e = token_client()
        .refresh(&server.provider(), &SecretString::from("rt-1"))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(server.bodies().len(), 1);
}

// ---- the whole sign-in ----

/// Plays the browser: follows the authorization URL's redirect_uri with the state it carries.
async fn browser(url: &oauth2::url::Url, extra: &str) -> String {
    let param = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let redirect = oauth2::url::Url::parse(&param("redirect_uri")).unwrap();
    let port = redirect.port().unwrap();
    let target = format!(
        "{}?code=the-code&state={}{extra}",
        redirect.path(),
        param("state")
    );
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .unwrap();
    s.write_all(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_whole_sign_in_exchanges_the_code_with_its_verifier() {
    let server =
        FakeTokenServer::start(vec![json(200, &tokens_json("at-1", Some("rt-1"), 3600))]).await;
    let signin = SignIn::start(
        server.provider(),
        &AuthorizationOptions {
            login_hint: Some("alice@example.test".into()),
            prompt_consent: true,
        },
    )
    .await
    .unwrap();
    let url = signin.url().clone();
    let challenge = url
        .query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let redirect_uri = signin.redirect_uri().to_owned();
    let client = token_client();
    let page = RedirectPage::english();
    let (tokens, answer) = tokio::join!(
        signin.finish(&client, &page, Duration::from_secs(10)),
        browser(&url, "")
    );
    let tokens = tokens.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(tokens.access.expose_secret(), "at-1");
    assert_eq!(tokens.refresh.unwrap().expose_secret(), "rt-1");
    let body = &server.bodies()[0];
    assert_eq!(
        field(body, "grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(field(body, "code").as_deref(), Some("the-code"));
    assert_eq!(
        field(body, "redirect_uri").as_deref(),
        Some(redirect_uri.as_str())
    );
    // The verifier sent is the one whose S256 the URL carried.
    let verifier = field(body, "code_verifier").unwrap();
    let expected = oauth2::PkceCodeChallenge::from_code_verifier_sha256(
        &oauth2::PkceCodeVerifier::new(verifier),
    );
    assert_eq!(expected.as_str(), challenge);
}

#[tokio::test]
async fn a_refused_redirect_never_reaches_the_token_endpoint() {
    let server = FakeTokenServer::start(vec![json(200, &tokens_json("at", None, 60))]).await;
    let signin = SignIn::start(server.provider(), &AuthorizationOptions::default())
        .await
        .unwrap();
    let url = signin.url().clone();
    let client = token_client();
    let page = RedirectPage::english();
    let (tokens, _) = tokio::join!(
        signin.finish(&client, &page, Duration::from_secs(10)),
        browser(&url, "&error=access_denied")
    );
    // `code` and `error` both present: error wins, nothing is exchanged.
    assert!(
        matches!(
            tokens,
            Err(OAuthError::Redirect {
                problem: RedirectProblem::AccessDenied,
                ..
            })
        ),
        "{tokens:?}"
    );
    assert!(server.bodies().is_empty());
}

// ---- the refresher ----

/// A store that records what it was given, and can be told to fail.
#[derive(Clone, Default)]
struct Keyring {
    stored: Arc<Mutex<Vec<String>>>,
    fail: Arc<std::sync::atomic::AtomicBool>,
}

impl RefreshTokenStore for Keyring {
    async fn store(&self, refresh_token: SecretString) -> Result<(), SecretError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SecretError::Locked("the keyring is locked".into()));
        }
        self.stored
            .lock()
            .unwrap()
            .push(refresh_token.expose_secret().to_owned());
        Ok(())
    }
}

fn refresher(server: &FakeTokenServer, keyring: Keyring) -> AccountTokens<Keyring> {
    AccountTokens::new(
        server.provider(),
        token_client(),
        SecretString::from("rt-0"),
        keyring,
        RefreshSettings {
            margin: Duration::from_secs(300),
        },
    )
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire_and_not_before_that() {
    let server = FakeTokenServer::start(vec![
        json(200, &tokens_json("at-1", None, 3600)),
        json(200, &tokens_json("at-2", None, 3600)),
    ])
    .await;
    let tokens = refresher(&server, Keyring::default());
    let t0 = SystemTime::now();
    let at = |secs: u64| move || t0 + Duration::from_secs(secs);
    assert_eq!(
        tokens.access_token_at(at(0)).await.unwrap().expose_secret(),
        "at-1"
    );
    // Well inside the lifetime: from memory.
    assert_eq!(
        tokens
            .access_token_at(at(1000))
            .await
            .unwrap()
            .expose_secret(),
        "at-1"
    );
    assert_eq!(
        tokens
            .access_token_at(at(3299))
            .await
            .unwrap()
            .expose_secret(),
        "at-1"
    );
    assert_eq!(server.bodies().len(), 1);
    // Inside the margin (or after a sleep past the expiry): refreshed first.
    assert_eq!(
        tokens
            .access_token_at(at(3301))
            .await
            .unwrap()
            .expose_secret(),
        "at-2"
    );
    assert_eq!(server.bodies().len(), 2);
    assert_eq!(
        field(&server.bodies()[1], "refresh_token").as_deref(),
        Some("rt-0")
    );
}

#[tokio::test]
async fn short_lived_tokens_use_half_their_lifetime_as_margin() {
    let server = FakeTokenServer::start(vec![json(200, &tokens_json("at", None, 30))]).await;
    let tokens = refresher(&server, Keyring::default());
    let t0 = SystemTime::now();
    tokens.access_token_at(|| t0).await.unwrap();
    tokens
        .access_token_at(|| t0 + Duration::from_secs(14))
        .await
        .unwrap();
    assert_eq!(
        server.bodies().len(),
        1,
        "a 30 s token refreshed on every ask"
    );
    tokens
        .access_token_at(|| t0 + Duration::from_secs(16))
        .await
        .unwrap();
    assert_eq!(server.bodies().len(), 2);
}

#[tokio::test]
async fn a_rotated_refresh_token_is_stored_before_the_access_token_is_used() {
    let server = FakeTokenServer::start(vec![
        json(200, &tokens_json("at-1", Some("rt-1"), 3600)),
        json(200, &tokens_json("at-2", Some("rt-2"), 3600)),
    ])
    .await;
    let keyring = Keyring::default();
    keyring.fail.store(true, Ordering::SeqCst);
    let tokens = refresher(&server, keyring.clone());
    let t0 = SystemTime::now();
    // The store refuses: no access token is handed out.
    let e = tokens.access_token_at(|| t0).await.unwrap_err();
    assert!(matches!(e, OAuthError::Store { .. }), "{e:?}");
    assert!(e.is_transient());
    assert!(keyring.stored.lock().unwrap().is_empty());
    // Once it works again, the kept token is written first, with no new token request.
    keyring.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        tokens.access_token_at(|| t0).await.unwrap().expose_secret(),
        "at-1"
    );
    assert_eq!(*keyring.stored.lock().unwrap(), vec!["rt-1".to_owned()]);
    assert_eq!(server.bodies().len(), 1);
    // The next refresh uses the rotated token, and stores its successor.
    let later = t0 + Duration::from_secs(4000);
    assert_eq!(
        tokens
            .access_token_at(|| later)
            .await
            .unwrap()
            .expose_secret(),
        "at-2"
    );
    assert_eq!(
        field(&server.bodies()[1], "refresh_token").as_deref(),
        Some("rt-1")
    );
    assert_eq!(
        *keyring.stored.lock().unwrap(),
        vec!["rt-1".to_owned(), "rt-2".to_owned()]
    );
}

#[tokio::test]
async fn callers_asking_together_share_one_refresh() {
    let mut slow = json(200, &tokens_json("at-1", Some("rt-1"), 3600));
    slow.delay = Duration::from_millis(200);
    let server = FakeTokenServer::start(vec![slow]).await;
    let keyring = Keyring::default();
    let tokens = Arc::new(refresher(&server, keyring.clone()));
    let asks: Vec<_> = (0..20)
        .map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.access_token().await })
        })
        .collect();
    for ask in asks {
        assert_eq!(ask.await.unwrap().unwrap().expose_secret(), "at-1");
    }
    assert_eq!(
        server.bodies().len(),
        1,
        "the refresh token was used more than once"
    );
    assert_eq!(keyring.stored.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_gone_grant_stops_all_token_requests_until_a_new_sign_in() {
    let server = FakeTokenServer::start(vec![
        json(400, r#"{"error":"invalid_grant"}"#),
        json(200, &tokens_json("at-new", None, 3600)),
    ])
    .await;
    let tokens = refresher(&server, Keyring::default());
    for _ in 0..5 {
        let e = tokens.access_token().await.unwrap_err();
        assert!(e.is_signin_required(), "{e:?}");
    }
    assert!(tokens.signin_required().await);
    assert_eq!(
        server.bodies().len(),
        1,
        "token requests after the grant was gone"
    );
    tokens
        .replace_grant(SecretString::from("rt-new"), None)
        .await;
    assert!(!tokens.signin_required().await);
    assert_eq!(
        tokens.access_token().await.unwrap().expose_secret(),
        "at-new"
    );
    assert_eq!(
        field(&server.bodies()[1], "refresh_token").as_deref(),
        Some("rt-new")
    );
}

#[tokio::test]
async fn a_failed_early_refresh_keeps_the_still_valid_token_and_invalidate_forces_one() {
    let server = FakeTokenServer::start(vec![
        json(200, &tokens_json("at-1", None, 3600)),
        json(503, ""),
        json(200, &tokens_json("at-2", None, 3600)),
    ])
    .await;
    let tokens = refresher(&server, Keyring::default());
    let t0 = SystemTime::now();
    assert_eq!(
        tokens.access_token_at(|| t0).await.unwrap().expose_secret(),
        "at-1"
    );
    // Inside the margin, the server is down: the old token is still good for a few minutes.
    let margin = t0 + Duration::from_secs(3400);
    assert_eq!(
        tokens
            .access_token_at(|| margin)
            .await
            .unwrap()
            .expose_secret(),
        "at-1"
    );
    assert_eq!(server.bodies().len(), 2);
    // The IMAP server refused at-1: an invalidation of an older token does nothing, of this
    // one forces a refresh.
    tokens.invalidate(&SecretString::from("at-0")).await;
    tokens.invalidate(&SecretString::from("at-1")).await;
    assert_eq!(
        tokens.access_token_at(|| t0).await.unwrap().expose_secret(),
        "at-2"
    );
    assert_eq!(server.bodies().len(), 3);
}

// ---- redaction ----

#[tokio::test]
async fn no_token_in_any_error_or_debug() {
    const RT: &str = "rt-SECRET-7d1f9a";
    const AT: &str = "at-SECRET-55aa11";
    // A hostile or careless server echoes the refresh token in its error text, and answers a
    // 200 with a token in a body that does not parse.
    let server = FakeTokenServer::start(vec![
        json(
            400,
            &format!(r#"{{"error":"invalid_grant","error_description":"bad token {RT}"}}"#),
        ),
        json(
            400,
            &format!(r#"{{"error":"weird","error_description":"{RT}"}}"#),
        ),
        json(
            200,
            &format!(r#"{{"access_token":"{AT}","expires_in":"soon"}}"#),
        ),
        json(503, &format!(r#"{{"access_token":"{AT}"}}"#)),
        json(200, &tokens_json(AT, Some(RT), 3600)),
    ])
    .await;
    let client = token_client();
    let mut shown = Vec::new();
    for _ in 0..4 {
        let e = client
            .refresh(&server.provider(), &SecretString::from(RT))
            .await
            .unwrap_err();
        shown.push(format!("{e} | {e:?} | {}", e.kind()));
    }
    let tokens = client
        .refresh(&server.provider(), &SecretString::from(RT))
        .await
        .unwrap();
    shown.push(format!("{tokens:?}"));
    let refresher = AccountTokens::new(
        server.provider(),
        client.clone(),
        SecretString::from(RT),
        Keyring::default(),
        RefreshSettings::default(),
    );
    shown.push(format!("{refresher:?} {client:?}"));
    let signin = SignIn::start(server.provider(), &AuthorizationOptions::default())
        .await
        .unwrap();
    shown.push(format!("{signin:?}"));
    let code = authorization::AuthorizationCode(SecretString::from(AT));
    shown.push(format!("{code:?}"));
    let ir = sasl::initial_response_base64(
        SaslMechanism::XOAuth2,
        "alice",
        "h",
        993,
        &SecretString::from(AT),
    )
    .unwrap();
    shown.push(format!("{ir:?}"));
    for text in &shown {
        assert!(!text.contains("SECRET"), "a token in: {text}");
        assert!(
            !text.contains(ir.expose_secret()),
            "the SASL blob in: {text}"
        );
    }
    // The scrubbed server words are still there, marked.
    assert!(shown[0].contains("bad token [REDACTED]"), "{}", shown[0]);
}

#[test]
fn error_kinds_and_hints_are_distinct() {
    let all = [
        OAuthError::NoClientId {
            provider: "google".into(),
        },
        OAuthError::BadProvider {
            provider: "x".into(),
            what: "y".into(),
        },
        OAuthError::Listener { words: "w".into() },
        OAuthError::TimedOut {
            after: Duration::from_secs(300),
        },
        OAuthError::redirect(RedirectProblem::WrongState),
        OAuthError::SigninRequired { words: None },
        OAuthError::ClientRejected { words: None },
        OAuthError::AdminApprovalRequired { words: None },
        OAuthError::Refused {
            code: "invalid_scope".into(),
            words: None,
        },
        OAuthError::Transient { words: None },
        OAuthError::Store { words: "w".into() },
    ];
    let kinds: std::collections::HashSet<_> = all.iter().map(OAuthError::kind).collect();
    let hints: std::collections::HashSet<_> = all.iter().map(OAuthError::hint_id).collect();
    assert_eq!(kinds.len(), all.len());
    assert_eq!(hints.len(), all.len());
    assert_eq!(
        OAuthError::TimedOut {
            after: DEFAULT_SIGNIN_TIMEOUT
        }
        .to_string(),
        "sign-in was not completed within 300 s"
    );
    assert_eq!(
        OAuthError::redirect(RedirectProblem::AccessDenied).hint_id(),
        "hint-oauth-access-denied"
    );
}

#[tokio::test]
async fn a_closure_around_the_keyring_is_a_store() {
    let server =
        FakeTokenServer::start(vec![json(200, &tokens_json("at-1", Some("rt-1"), 3600))]).await;
    let seen = Arc::new(Mutex::new(None::<String>));
    let sink = seen.clone();
    let tokens = AccountTokens::new(
        server.provider(),
        token_client(),
        SecretString::from("rt-0"),
        move |rt: SecretString| {
            let sink = sink.clone();
            async move {
                *sink.lock().unwrap() = Some(rt.expose_secret().to_owned());
                Ok::<(), SecretError>(())
            }
        },
        RefreshSettings::default(),
    );
    assert_eq!(tokens.access_token().await.unwrap().expose_secret(), "at-1");
    assert_eq!(seen.lock().unwrap().as_deref(), Some("rt-1"));
}
