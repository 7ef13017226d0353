//! The relay's HTTP API and web app against a real PostgreSQL 15 and a real Dovecot, over real
//! sockets: what a user of the web app (or a script with a token) would see.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt as _;
use pushmail_relay::api::{self, ApiState};
use pushmail_relay::config::Config;
use pushmail_relay::crypto::{self, Key};
use pushmail_relay::db::Db;
use pushmail_relay::{users, webpush};
use pushmail_tests::{Dovecot, DovecotOptions, Postgres};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// A response as read off the socket.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP/1.1 request on its own connection, written by hand so that paths such as
/// `/../x` reach the server exactly as written (an HTTP client library would normalize them).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Resp {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: relay.test\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" || method == "PATCH" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    // The server may answer (413) and close before reading a large body: not an error here.
    let _ = s.write_all(req.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn config(conninfo: &str, allow: &[&str], rate: u32, web_dir: &Path, ca: Option<&Path>) -> Config {
    let allow: Vec<String> = allow.iter().map(|a| format!("\"{a}\"")).collect();
    toml::from_str(&format!(
        r#"database = "{conninfo}"
vapid_subject = "mailto:postmaster@example.com"
web_dir = "{}"
{}
allow_private = [{}]
rate_per_minute = {rate}
buckets = 16
"#,
        web_dir.display(),
        ca.map(|c| format!("ca_file = \"{}\"", c.display()))
            .unwrap_or_default(),
        allow.join(", ")
    ))
    .unwrap()
}

/// Serves `state`'s router on a free loopback port, as main.rs does (with the peer address).
async fn serve(state: ApiState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api::router(Arc::new(state));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

/// Everything sent on `LISTEN accounts` and `LISTEN outbox`, as (channel, payload), while
/// the returned client lives.
async fn listen(
    conninfo: &str,
) -> (
    tokio_postgres::Client,
    mpsc::UnboundedReceiver<(String, String)>,
) {
    let (client, mut conn) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(Ok(msg)) = stream.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                let _ = tx.send((n.channel().to_owned(), n.payload().to_owned()));
            }
        }
    });
    client
        .batch_execute("LISTEN accounts; LISTEN outbox")
        .await
        .unwrap();
    (client, rx)
}

async fn expect_notice(
    rx: &mut mpsc::UnboundedReceiver<(String, String)>,
    channel: &str,
) -> String {
    loop {
        let (c, p) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no NOTIFY {channel} within 5 s"))
            .unwrap();
        if c == channel {
            return p;
        }
    }
}

/// A browser's subscription: a real P-256 public key (so encryption to it works) and a random
/// auth secret.
fn subscription(endpoint: &str) -> Value {
    let key = webpush::Vapid::generate().public_key();
    json!({
        "endpoint": endpoint,
        "keys": {
            "p256dh": URL_SAFE_NO_PAD.encode(key),
            "auth": URL_SAFE_NO_PAD.encode([7u8; 16]),
        },
        "expirationTime": null,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

struct Ground {
    _pg: Postgres,
    conninfo: String,
    db: Db,
    web: tempfile::TempDir,
}

/// The relay's own pool, schema applied.
async fn connect(cfg: &Config) -> Db {
    pushmail_relay::db::connect(cfg, 8).await.unwrap()
}

async fn ground() -> Ground {
    let pg = Postgres::start().unwrap();
    let conninfo = pg.create_database("relay").unwrap();
    let web = tempfile::tempdir().unwrap();
    let cfg = config(&conninfo, &[], 100, &web.path().join("www"), None);
    let db = connect(&cfg).await;
    Ground {
        _pg: pg,
        conninfo,
        db,
        web,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_devices_and_webhooks_through_the_api() {
    let dovecot = Dovecot::start(DovecotOptions::default()).unwrap();
    let g = ground().await;
    let www = g.web.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let master = Key::random();
    // The lab relay: Dovecot and the test's receivers are on 127.0.0.1.
    let lab = serve(
        ApiState::new(
            g.db.clone(),
            master.clone(),
            config(
                &g.conninfo,
                &["127.0.0.1/32"],
                1000,
                &www,
                Some(dovecot.ca_file()),
            ),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    // A relay as deployed: no private range allowed.
    let strict = serve(
        ApiState::new(
            g.db.clone(),
            master.clone(),
            config(&g.conninfo, &[], 1000, &www, Some(dovecot.ca_file())),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    // A lab relay without the lab's CA: Dovecot's certificate is not trusted.
    let no_ca = serve(
        ApiState::new(
            g.db.clone(),
            master.clone(),
            config(&g.conninfo, &["127.0.0.1/32"], 1000, &www, None),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    let (_listener, mut notices) = listen(&g.conninfo).await;
    let pg = g.db.get().await.unwrap();

    // Without a token: 401, as JSON; the VAPID key is public.
    let r = http(lab, "GET", "/api/accounts", None, None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.code(), "unauthorized");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = http(
        lab,
        "GET",
        "/api/accounts",
        Some("x".repeat(43).as_str()),
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    let r = http(lab, "GET", "/api/vapid", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"public_key": "BPUBLIC"}));
    let r = http(lab, "GET", "/api/nothing-here", None, None).await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));

    // A user, as `pushmail-relay user add` makes one: the token works.
    let (alice_id, token) = users::create_user(&g.db, "Alice").await.unwrap();
    let t = Some(token.as_str());
    let r = http(lab, "GET", "/api/me", t, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"id": alice_id, "name": "Alice", "accounts": 0, "devices": 0, "webhooks": 0})
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Only the token's hash is stored.
    let stored: Vec<u8> = pg
        .query_one("SELECT token_hash FROM api_token", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!contains(&stored, token.as_bytes()));

    // Malformed requests: sentences, not echoes.
    let r = http(lab, "POST", "/api/accounts", t, Some("{nope")).await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_json"));
    let r = http(
        lab,
        "POST",
        "/api/accounts",
        t,
        Some(r#"{"name":"W","host":"h","port":993,"security":"tls","username":"u","password":987654321}"#),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("987654321"), "{}", r.body);
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(70 * 1024));
    let r = http(lab, "POST", "/api/accounts", t, Some(&big)).await;
    assert_eq!(r.status, 413, "{}", r.body);

    let account = |password: &str, port: u16| {
        json!({
            "name": "Work",
            "email": "alice@example.com",
            "host": dovecot.host(),
            "port": port,
            "security": "tls",
            "username": "alice",
            "password": password,
        })
        .to_string()
    };
    // Invalid fields.
    let bad_port = account("alicepw", 0);
    let r = http(lab, "POST", "/api/accounts", t, Some(&bad_port)).await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_port"));
    // A loopback server on a relay that allows no private range: refused before any login.
    let good = account("alicepw", dovecot.imaps_port());
    let r = http(strict, "POST", "/api/accounts", t, Some(&good)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "host_not_allowed"),
        "{}",
        r.body
    );

    // The wrong password: 422 auth_failed, nothing stored.
    let wrong = account("not-the-password", dovecot.imaps_port());
    let r = http(lab, "POST", "/api/accounts", t, Some(&wrong)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "auth_failed"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("not-the-password"));
    let n: i64 = pg
        .query_one("SELECT count(*) FROM account", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // Nothing listens: unreachable.
    let closed = account("alicepw", pushmail_tests::free_port());
    let r = http(lab, "POST", "/api/accounts", t, Some(&closed)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "unreachable"),
        "{}",
        r.body
    );

    // The right password: 201, stored sealed, the watchers told.
    let r = http(lab, "POST", "/api/accounts", t, Some(&good)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let acc = r.json();
    assert!(!r.body.contains("alicepw"));
    let id = acc["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(acc["host"], dovecot.host());
    assert_eq!(acc["state"], "starting");
    let row = pg
        .query_one(
            "SELECT bucket, sealed_key, sealed_secret FROM account WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let (bucket, sealed_key, sealed_secret): (i32, Vec<u8>, Vec<u8>) =
        (row.get(0), row.get(1), row.get(2));
    assert_eq!(bucket, api::bucket_of(&id, 16));
    assert!(!contains(&sealed_key, b"alicepw"));
    assert!(!contains(&sealed_secret, b"alicepw"));
    let opened = crypto::open_account_secret(&master, &id, &sealed_key, &sealed_secret).unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&opened), "alicepw");
    assert_eq!(
        expect_notice(&mut notices, "accounts").await,
        bucket.to_string()
    );

    let r = http(lab, "GET", "/api/accounts", t, None).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("alicepw"));
    assert!(!r.body.contains("sealed"));
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["username"], "alice");
    assert_eq!(list[0]["port"], dovecot.imaps_port());

    // Devices: keys and endpoint checked.
    let dev = |endpoint: &str| json!({"name": "Phone", "detail": "subject", "subscription": subscription(endpoint)});
    let mut short = dev("http://127.0.0.1:9/push");
    short["subscription"]["keys"]["p256dh"] = json!(URL_SAFE_NO_PAD.encode([4u8; 33]));
    let r = http(lab, "POST", "/api/devices", t, Some(&short.to_string())).await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_subscription"));
    let mut not_b64 = dev("http://127.0.0.1:9/push");
    not_b64["subscription"]["keys"]["auth"] = json!("*not base64*");
    let r = http(lab, "POST", "/api/devices", t, Some(&not_b64.to_string())).await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_subscription"));
    let mut short_auth = dev("http://127.0.0.1:9/push");
    short_auth["subscription"]["keys"]["auth"] = json!(URL_SAFE_NO_PAD.encode([1u8; 8]));
    let r = http(
        lab,
        "POST",
        "/api/devices",
        t,
        Some(&short_auth.to_string()),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_subscription"));
    let mut off_curve = dev("http://127.0.0.1:9/push");
    let mut bogus = [9u8; 65];
    bogus[0] = 4;
    off_curve["subscription"]["keys"]["p256dh"] = json!(URL_SAFE_NO_PAD.encode(bogus));
    let r = http(lab, "POST", "/api/devices", t, Some(&off_curve.to_string())).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "bad_subscription"),
        "{}",
        r.body
    );
    for endpoint in [
        "https://127.0.0.1/push",
        "http://127.0.0.1:9/push",
        "https://10.0.0.1/p",
    ] {
        let r = http(
            strict,
            "POST",
            "/api/devices",
            t,
            Some(&dev(endpoint).to_string()),
        )
        .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "url_refused"),
            "{endpoint}"
        );
    }
    let r = http(
        lab,
        "POST",
        "/api/devices",
        t,
        Some(&dev("ftp://x.example/").to_string()),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (422, "url_refused"));
    let n: i64 = pg
        .query_one("SELECT count(*) FROM device", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // Accepted where the operator allows 127.0.0.1, and a test notice queued at once,
    // encrypted.
    let endpoint = "http://127.0.0.1:9/push/abc";
    let r = http(
        lab,
        "POST",
        "/api/devices",
        t,
        Some(&dev(endpoint).to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let device = r.json();
    let device_id = device["id"].as_i64().unwrap();
    // The renewal secret is answered once, here (its service worker keeps it).
    let secret = device["renew_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        device,
        json!({"id": device_id, "name": "Phone", "detail": "subject", "endpoint": endpoint,
               "renew_secret": secret})
    );
    assert_eq!(expect_notice(&mut notices, "outbox").await, "");
    let rows = pg
        .query(
            "SELECT kind, target, account, tag, body FROM outbox ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let (kind, target, acct, tag, body): (String, i64, Option<String>, String, Vec<u8>) = (
        rows[0].get(0),
        rows[0].get(1),
        rows[0].get(2),
        rows[0].get(3),
        rows[0].get(4),
    );
    assert_eq!((kind.as_str(), target, acct), ("webpush", device_id, None));
    assert!(tag.starts_with(&format!("test-{device_id}-")), "{tag}");
    assert!(!contains(&body, b"Notifications work"));
    assert!(!contains(&body, b"\"kind\""));
    // The same subscription again: the same device, updated; another test notice.
    let mut again = dev(endpoint);
    again["name"] = json!("Phone 2");
    let r = http(lab, "POST", "/api/devices", t, Some(&again.to_string())).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["id"], device_id);
    assert_eq!(r.json()["name"], "Phone 2");
    // Change, test again.
    let r = http(
        lab,
        "PATCH",
        &format!("/api/devices/{device_id}"),
        t,
        Some(r#"{"detail":"none"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["detail"], "none");
    assert_eq!(r.json()["name"], "Phone 2");
    let r = http(
        lab,
        "PATCH",
        &format!("/api/devices/{device_id}"),
        t,
        Some(r#"{"detail":"all"}"#),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_detail"));
    let r = http(
        lab,
        "POST",
        &format!("/api/devices/{device_id}/test"),
        t,
        None,
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.json()["tag"].as_str().unwrap().starts_with("test-"));
    let n: i64 = pg
        .query_one(
            "SELECT count(*) FROM outbox WHERE target = $1",
            &[&device_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
    let r = http(lab, "GET", "/api/devices", t, None).await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    // Webhooks: the secret once, sealed in the database, never listed.
    let r = http(
        strict,
        "POST",
        "/api/webhooks",
        t,
        Some(r#"{"url":"http://127.0.0.1:9/hook"}"#),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (422, "url_refused"));
    let r = http(
        lab,
        "POST",
        "/api/webhooks",
        t,
        Some(r#"{"url":"http://127.0.0.1:9/hook","detail":"sender"}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let hook = r.json();
    let hook_id = hook["id"].as_i64().unwrap();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["detail"], "sender");
    assert_eq!(hook["disabled"], false);
    let sealed: Vec<u8> = pg
        .query_one(
            "SELECT sealed_secret FROM webhook WHERE id = $1",
            &[&hook_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!contains(&sealed, secret.as_bytes()));
    assert_eq!(
        master
            .open(&format!("webhook-secret:{hook_id}"), &sealed)
            .unwrap(),
        secret.as_bytes()
    );
    let r = http(lab, "GET", "/api/webhooks", t, None).await;
    assert!(!r.body.contains(&secret[6..]));
    assert!(!r.body.contains("secret"));
    assert_eq!(r.json()[0]["url"], "http://127.0.0.1:9/hook");

    let r = http(lab, "GET", "/api/me", t, None).await;
    assert_eq!(r.json()["accounts"], 1);
    assert_eq!(r.json()["devices"], 1);
    assert_eq!(r.json()["webhooks"], 1);

    // STARTTLS works too; an untrusted certificate is a TLS problem, said as such.
    let mut starttls: Value =
        serde_json::from_str(&account("alicepw", dovecot.imap_port())).unwrap();
    starttls["security"] = json!("starttls");
    let r = http(
        no_ca,
        "POST",
        "/api/accounts",
        t,
        Some(&starttls.to_string()),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (422, "tls_failed"),
        "{}",
        r.body
    );
    let r = http(lab, "POST", "/api/accounts", t, Some(&starttls.to_string())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["security"], "starttls");
    let second = r.json()["id"].as_str().unwrap().to_owned();
    expect_notice(&mut notices, "accounts").await;
    let r = http(lab, "DELETE", &format!("/api/accounts/{second}"), t, None).await;
    assert_eq!(r.status, 204);
    expect_notice(&mut notices, "accounts").await;

    // Someone else's things are not found.
    let (_, bob) = users::create_user(&g.db, "Bob").await.unwrap();
    let b = Some(bob.as_str());
    let r = http(lab, "DELETE", &format!("/api/accounts/{id}"), b, None).await;
    assert_eq!(r.status, 404);
    let r = http(lab, "DELETE", &format!("/api/devices/{device_id}"), b, None).await;
    assert_eq!(r.status, 404);
    let r = http(lab, "DELETE", &format!("/api/webhooks/{hook_id}"), b, None).await;
    assert_eq!(r.status, 404);
    let r = http(lab, "GET", "/api/accounts", b, None).await;
    assert_eq!(r.json(), json!([]));

    // Removing the mailbox removes its secret, its sync marks and its queued notices.
    pg.execute(
        "INSERT INTO folder_mark (account, folder, uidvalidity, watermark) VALUES ($1, 'INBOX', 1, 5)",
        &[&id],
    )
    .await
    .unwrap();
    pg.execute(
        "INSERT INTO outbox (kind, target, account, tag, body) VALUES ('webpush', $1, $2, 't', '\\x00')",
        &[&device_id, &id],
    )
    .await
    .unwrap();
    let r = http(lab, "DELETE", &format!("/api/accounts/{id}"), t, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        expect_notice(&mut notices, "accounts").await,
        bucket.to_string()
    );
    for (table, column) in [
        ("account", "id"),
        ("folder_mark", "account"),
        ("outbox", "account"),
    ] {
        let n: i64 = pg
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE {column} = $1"),
                &[&id],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}");
    }
    let r = http(lab, "DELETE", &format!("/api/accounts/{id}"), t, None).await;
    assert_eq!(r.status, 404);

    // Removing a device removes its queued notices; a webhook, its secret.
    let r = http(lab, "DELETE", &format!("/api/devices/{device_id}"), t, None).await;
    assert_eq!(r.status, 204);
    let n: i64 = pg
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let r = http(lab, "DELETE", &format!("/api/webhooks/{hook_id}"), t, None).await;
    assert_eq!(r.status, 204);
    let n: i64 = pg
        .query_one("SELECT count(*) FROM webhook", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_the_web_app_files() {
    let g = ground().await;
    let www = g.web.path().join("www");
    std::fs::create_dir_all(www.join("icons")).unwrap();
    std::fs::write(
        www.join("relay.html"),
        "<!doctype html><title>Pushmail</title>",
    )
    .unwrap();
    std::fs::write(
        www.join("relay-sw.js"),
        "self.addEventListener('push', () => {});",
    )
    .unwrap();
    std::fs::write(www.join("relay.css"), "body{}").unwrap();
    std::fs::write(www.join("relay.webmanifest"), "{}").unwrap();
    std::fs::write(www.join("icons/icon.svg"), "<svg/>").unwrap();
    std::fs::write(g.web.path().join("secret.txt"), "TOP-SECRET").unwrap();
    std::os::unix::fs::symlink(g.web.path().join("secret.txt"), www.join("link.txt")).unwrap();
    let addr = serve(
        ApiState::new(
            g.db.clone(),
            Key::random(),
            config(&g.conninfo, &[], 3, &www, None),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;

    // The app's page: strict headers, never cached.
    let r = http(addr, "GET", "/", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<title>Pushmail</title>"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        r.header("content-security-policy"),
        Some(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = http(addr, "GET", "/relay.html", None, None).await;
    assert_eq!(r.status, 200);
    let r = http(addr, "GET", "/relay-sw.js", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(r.header("service-worker-allowed"), Some("/"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    for (path, ctype) in [
        ("/relay.css", "text/css; charset=utf-8"),
        ("/relay.webmanifest", "application/manifest+json"),
        ("/icons/icon.svg", "image/svg+xml"),
    ] {
        let r = http(addr, "GET", path, None, None).await;
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(ctype)),
            "{path}"
        );
        assert!(r.header("content-security-policy").is_some());
    }
    // Nothing outside the directory, however the path is written.
    for path in [
        "/../secret.txt",
        "/icons/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/link.txt",
        "/.hidden",
        "/missing.js",
        "/icons",
    ] {
        let r = http(addr, "GET", path, None, None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("TOP-SECRET"), "{path}");
    }
    let r = http(addr, "POST", "/relay.html", None, None).await;
    assert_eq!(r.status, 405);

    // Three requests a minute: the fourth waits, with Retry-After.
    let (_, token) = users::create_user(&g.db, "Carol").await.unwrap();
    for _ in 0..3 {
        let r = http(addr, "GET", "/api/me", Some(&token), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = http(addr, "GET", "/api/me", Some(&token), None).await;
    assert_eq!((r.status, r.code().as_str()), (429, "rate_limited"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    // Without a token the address has its own bucket; wrong tokens count against the
    // address and are stopped too.
    for _ in 0..3 {
        let r = http(addr, "GET", "/api/vapid", None, None).await;
        assert_eq!(r.status, 200);
    }
    let r = http(addr, "GET", "/api/vapid", None, None).await;
    assert_eq!(r.status, 429);
    let wrong = "A".repeat(43);
    for _ in 0..3 {
        let r = http(addr, "GET", "/api/me", Some(&wrong), None).await;
        assert_eq!(r.status, 401);
    }
    let r = http(addr, "GET", "/api/me", Some(&wrong), None).await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
}

/// `POST /api/discover` behind the API's gate. Gmail comes from the provider list, so no
/// network is needed; the real lookups (autoconfig, MX, SRV, probes) are the desktop's, proven
/// by tests/tests/discovery*.rs, and no lab is built for them here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_through_the_api() {
    let g = ground().await;
    let www = g.web.path().join("www");
    let addr = serve(
        ApiState::new(
            g.db.clone(),
            Key::random(),
            config(&g.conninfo, &[], 100, &www, None),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    let body = r#"{"address":"ana@gmail.com"}"#;
    let r = http(addr, "POST", "/api/discover", None, Some(body)).await;
    assert_eq!(r.status, 401, "{}", r.body);

    let (_, token) = users::create_user(&g.db, "Dana").await.unwrap();
    let r = http(addr, "POST", "/api/discover", Some(&token), Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert_eq!(v["found"], true, "{v}");
    assert_eq!(v["domain"], "gmail.com");
    assert_eq!(v["host"], "imap.gmail.com");
    assert_eq!(v["port"], 993);
    assert_eq!(v["security"], "tls");
    assert_eq!(v["username"], "ana@gmail.com");
    assert_eq!(v["signin"], true);
    assert_eq!(v["provider"], "Gmail");
    assert_eq!(v["signin_with"], "Google");
    assert_eq!(v["warnings"], json!([]));
    assert!(
        v["source"].as_str().unwrap().contains("provider list"),
        "{v}"
    );
    assert!(v["note"].as_str().unwrap().contains("app password"), "{v}");

    // Not an address: a 400 with the reason, nothing looked up.
    let r = http(
        addr,
        "POST",
        "/api/discover",
        Some(&token),
        Some(r#"{"address":"no address"}"#),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.code(), "bad_address");
    assert!(!r.json()["error"].as_str().unwrap().is_empty());
    let r = http(
        addr,
        "POST",
        "/api/discover",
        Some(&token),
        Some(r#"{"address":"  "}"#),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "missing_field"));
    // The address and nothing else: a credential sent along is refused, never echoed.
    let r = http(
        addr,
        "POST",
        "/api/discover",
        Some(&token),
        Some(r#"{"address":"ana@gmail.com","password":"hunter2-secret"}"#),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_json"));
    assert!(!r.body.contains("hunter2-secret"));
    // Body-limited like every route.
    let big = format!(r#"{{"address":"{}@gmail.com"}}"#, "a".repeat(70 * 1024));
    let r = http(addr, "POST", "/api/discover", Some(&token), Some(&big)).await;
    assert_eq!(r.status, 413, "{}", r.body);
}

/// Notices queued for the devices `ids`.
async fn queued(pg: &tokio_postgres::Client, ids: &[i64]) -> i64 {
    pg.query_one(
        "SELECT count(*) FROM outbox WHERE target = ANY($1)",
        &[&ids],
    )
    .await
    .unwrap()
    .get(0)
}

/// Every device's endpoint and auth secret, oldest first.
async fn device_keys(pg: &tokio_postgres::Client) -> Vec<(String, Vec<u8>)> {
    pg.query("SELECT endpoint, auth FROM device ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// `POST /api/devices/renew`'s body: the device's renewal secret, the old subscription's
/// endpoint and `auth`, the new one.
fn renewal(
    secret: &str,
    old_endpoint: &str,
    old_auth: [u8; 16],
    endpoint: &str,
    auth: [u8; 16],
) -> String {
    let key = webpush::Vapid::generate().public_key();
    json!({
        "renew_secret": secret,
        "old_endpoint": old_endpoint,
        "old_auth": URL_SAFE_NO_PAD.encode(old_auth),
        "endpoint": endpoint,
        "keys": {
            "p256dh": URL_SAFE_NO_PAD.encode(key),
            "auth": URL_SAFE_NO_PAD.encode(auth),
        },
    })
    .to_string()
}

/// A browser replaced its push subscription (`pushsubscriptionchange`): the service worker,
/// which has no token, proves it is the device with the renewal secret the relay gave it at
/// registration plus the old subscription's endpoint and auth secret; the device moves to the
/// new subscription keeping its name and detail choice, and gets the next secret. A copy of
/// the subscription alone (what the relay stores in clear, what any script on the page can
/// read) moves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_subscription_replaces_the_device_without_a_token() {
    let g = ground().await;
    let www = g.web.path().join("www");
    let lab = serve(
        ApiState::new(
            g.db.clone(),
            Key::random(),
            config(&g.conninfo, &["127.0.0.1/32"], 1000, &www, None),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    let strict = serve(
        ApiState::new(
            g.db.clone(),
            Key::random(),
            config(&g.conninfo, &[], 1000, &www, None),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    let (pg, _notices) = listen(&g.conninfo).await;
    let (_, ana) = users::create_user(&g.db, "Ana").await.unwrap();
    let (_, bo) = users::create_user(&g.db, "Bo").await.unwrap();
    // One browser registered by two users: one subscription (auth [7; 16]), two devices, each
    // with a renewal secret of its own (shown once, only its hash stored).
    let old = "http://127.0.0.1:9/push/old";
    let mut ids = Vec::new();
    let mut secrets = Vec::new();
    for (token, name, detail) in [(&ana, "Phone", "subject"), (&bo, "Tablet", "none")] {
        let body = json!({"name": name, "detail": detail, "subscription": subscription(old)});
        let r = http(
            lab,
            "POST",
            "/api/devices",
            Some(token),
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
        let secret = r.json()["renew_secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 64);
        secrets.push(secret);
    }
    let listed = http(lab, "GET", "/api/devices", Some(&ana), None).await;
    assert!(!listed.body.contains("renew_secret"), "{}", listed.body);
    let stored: i64 = pg
        .query_one(
            "SELECT count(*) FROM device WHERE renew_hash IS NOT NULL AND length(renew_hash) = 32",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 2, "only hashes are stored");
    assert_eq!(queued(&pg, &ids).await, 2, "the two test notices");
    let fresh = "http://127.0.0.1:9/push/new";
    let before = device_keys(&pg).await;
    assert_eq!(before.len(), 2);
    let (sa, sb) = (secrets[0].clone(), secrets[1].clone());

    // A copy of the subscription without the secret, the secret with another subscription's
    // endpoint or auth, a secret that does not exist: the same 404, nothing changed.
    let forged = "0".repeat(64);
    let mut bodies = Vec::new();
    for body in [
        renewal(&forged, old, [7; 16], fresh, [9; 16]),
        renewal(&sa, old, [8; 16], fresh, [9; 16]),
        renewal(
            &sa,
            "http://127.0.0.1:9/push/nobody",
            [7; 16],
            fresh,
            [9; 16],
        ),
    ] {
        let r = http(lab, "POST", "/api/devices/renew", None, Some(&body)).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (404, "not_found"),
            "{}",
            r.body
        );
        assert!(!r.body.contains("127.0.0.1"), "{}", r.body);
        bodies.push(r.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "nothing tells them apart"
    );
    // A token does not stand in for the proof; the secret is required.
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        Some(&ana),
        Some(&renewal(&forged, old, [7; 16], fresh, [9; 16])),
    )
    .await;
    assert_eq!(r.status, 404);
    let mut no_secret: Value =
        serde_json::from_str(&renewal(&sa, old, [7; 16], fresh, [9; 16])).unwrap();
    no_secret.as_object_mut().unwrap().remove("renew_secret");
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        None,
        Some(&no_secret.to_string()),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(device_keys(&pg).await, before);

    // The proof holds but the new subscription does not: refused like `POST /api/devices`.
    for endpoint in [
        "https://127.0.0.1/push",
        "https://10.0.0.1/p",
        "http://127.0.0.1:9/x",
    ] {
        let r = http(
            strict,
            "POST",
            "/api/devices/renew",
            None,
            Some(&renewal(&sa, old, [7; 16], endpoint, [9; 16])),
        )
        .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "url_refused"),
            "{endpoint}: {}",
            r.body
        );
    }
    let mut off_curve: Value =
        serde_json::from_str(&renewal(&sa, old, [7; 16], fresh, [9; 16])).unwrap();
    let mut bogus = [9u8; 65];
    bogus[0] = 4;
    off_curve["keys"]["p256dh"] = json!(URL_SAFE_NO_PAD.encode(bogus));
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        None,
        Some(&off_curve.to_string()),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "bad_subscription"));
    assert_eq!(device_keys(&pg).await, before);

    // Renewed: Ana's device now at the new endpoint with the new keys, name and detail kept,
    // a new id, its queued notice gone, the next secret given; Bo's untouched.
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        None,
        Some(&renewal(&sa, old, [7; 16], fresh, [9; 16])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sa2 = r.json()["renew_secret"].as_str().unwrap().to_owned();
    assert!(sa2.len() == 64 && sa2 != sa);
    let list = http(lab, "GET", "/api/devices", Some(&ana), None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["endpoint"], fresh);
    assert_eq!(
        (list[0]["name"].as_str(), list[0]["detail"].as_str()),
        (Some("Phone"), Some("subject"))
    );
    let ana_new = list[0]["id"].as_i64().unwrap();
    assert!(!ids.contains(&ana_new), "a new id");
    assert_eq!(queued(&pg, &ids[..1]).await, 0);
    assert_eq!(queued(&pg, &ids[1..]).await, 1, "Bo's device untouched");
    let bo_list = http(lab, "GET", "/api/devices", Some(&bo), None)
        .await
        .json();
    assert_eq!(bo_list[0]["endpoint"], old);
    // The spent secret proves nothing any more; Bo's own still works for Bo's device.
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        None,
        Some(&renewal(
            &sa,
            fresh,
            [9; 16],
            "http://127.0.0.1:9/push/third",
            [9; 16],
        )),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        None,
        Some(&renewal(&sb, old, [7; 16], fresh, [9; 16])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The same endpoint with new keys: the device stays, its keys change.
    let r = http(
        lab,
        "POST",
        "/api/devices/renew",
        None,
        Some(&renewal(&sa2, fresh, [9; 16], fresh, [3; 16])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = http(lab, "GET", "/api/devices", Some(&ana), None)
        .await
        .json();
    assert_eq!(list[0]["id"].as_i64(), Some(ana_new));
    let auth: Vec<u8> = pg
        .query_one("SELECT auth FROM device WHERE id = $1", &[&ana_new])
        .await
        .unwrap()
        .get(0);
    assert_eq!(auth, [3u8; 16]);

    // Token-less, so limited per client address like every request without one.
    let limited = serve(
        ApiState::new(
            g.db.clone(),
            Key::random(),
            config(&g.conninfo, &["127.0.0.1/32"], 2, &www, None),
            "BPUBLIC".to_owned(),
        )
        .unwrap(),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = http(
            limited,
            "POST",
            "/api/devices/renew",
            None,
            Some(&renewal(&forged, old, [7; 16], fresh, [9; 16])),
        )
        .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [404, 404, 429]);
}

/// Discovery through the API never makes the relay fetch from a private address: in the
/// discovery lab (real dnsmasq and HTTPS on 127.0.0.1, `pushmail_tests::netns`), every name
/// of `example.test` resolves to 127.0.0.1 and serves a configuration file. A relay as
/// deployed (no `allow_private`) answers "not found" saying why, and no request, not even a
/// TLS handshake, reaches the lab; a relay that allows 127.0.0.1 finds the file, so it was the
/// guard that held the first one back.
#[test]
fn discovery_never_fetches_from_private_addresses() {
    if !pushmail_tests::netns::isolated("discovery_never_fetches_from_private_addresses") {
        return;
    }
    use pushmail_tests::netns::{Lab, Reply};
    let file = |host: &str| {
        Reply::ok(
            "text/xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1"><emailProvider id="example.test"><domain>example.test</domain>
<incomingServer type="imap"><hostname>{host}</hostname><port>993</port>
<socketType>SSL</socketType><username>%EMAILADDRESS%</username>
<authentication>password-cleartext</authentication></incomingServer>
</emailProvider></clientConfig>"#
            ),
        )
    };
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .https("autoconfig.example.test")
        .route(
            "https://autoconfig.example.test/mail/config-v1.1.xml",
            file("imap.example.test"),
        )
        .a("example.test")
        .https("example.test")
        .route(
            "https://example.test/.well-known/autoconfig/mail/config-v1.1.xml",
            file("imap.example.test"),
        )
        // The MX hoster's files: the third place discovery fetches from.
        .mx("example.test", "mx1.hoster.test", 10)
        .a("autoconfig.hoster.test")
        .https("autoconfig.hoster.test")
        .route(
            "https://autoconfig.hoster.test/mail/config-v1.1.xml",
            file("imap.hoster.test"),
        )
        .start()
        .unwrap();
    // As main.rs does: the IMAP probes pass the same rule (this process runs this test only).
    assert!(
        pushmail_core::imap::transport::install_address_guard(Box::new(
            pushmail_relay::guard::address_check(Vec::new()),
        ))
        .is_ok()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let g = ground().await;
        let www = g.web.path().join("www");
        let (_, token) = users::create_user(&g.db, "Ana").await.unwrap();
        let body = r#"{"address":"ana@example.test"}"#;
        let strict = serve(
            ApiState::new(
                g.db.clone(),
                Key::random(),
                config(&g.conninfo, &[], 100, &www, None),
                "BPUBLIC".to_owned(),
            )
            .unwrap(),
        )
        .await;
        let started = std::time::Instant::now();
        let r = http(strict, "POST", "/api/discover", Some(&token), Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        assert_eq!(v["found"], false, "{v}");
        let tried = v["tried"].as_str().unwrap();
        for host in ["autoconfig.example.test", "example.test/.well-known", "autoconfig.hoster.test"] {
            assert!(tried.contains(host), "{host} in {tried}");
        }
        assert!(
            tried.contains("not fetched: autoconfig.example.test resolves only to addresses this server does not reach; that is a private, loopback or reserved address (the relay's allow_private does not include it)"),
            "{tried}"
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
        assert!(lab.requests().is_empty(), "{:?}", lab.requests());
        assert!(lab.handshakes().is_empty(), "{:?}", lab.handshakes());

        // Where the operator allows 127.0.0.1 the same lookup reaches the domain's file.
        let open = serve(
            ApiState::new(
                g.db.clone(),
                Key::random(),
                config(&g.conninfo, &["127.0.0.1/32"], 100, &www, None),
                "BPUBLIC".to_owned(),
            )
            .unwrap(),
        )
        .await;
        let r = http(open, "POST", "/api/discover", Some(&token), Some(body)).await;
        let v = r.json();
        assert_eq!(v["found"], true, "{v}");
        assert_eq!(v["host"], "imap.example.test", "{v}");
        let requests = lab.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(requests[0].host, "autoconfig.example.test");
    });
}

/// `GET path` with an `X-Forwarded-For` header, as a reverse proxy on 127.0.0.1 sends it.
async fn get_forwarded(addr: SocketAddr, path: &str, forwarded_for: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: relay.test\r\nConnection: close\r\nX-Forwarded-For: {forwarded_for}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Behind a reverse proxy the operator names in `trusted_proxies`, requests without a token
/// are limited per client (from `X-Forwarded-For`), not all in the proxy's one bucket; without
/// the setting the header is ignored, so a client cannot pick its own bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_behind_a_trusted_proxy_are_limited_one_by_one() {
    let g = ground().await;
    let www = g.web.path().join("www");
    let mut trusting = config(&g.conninfo, &[], 2, &www, None);
    trusting.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
    let behind =
        serve(ApiState::new(g.db.clone(), Key::random(), trusting, "B".to_owned()).unwrap()).await;
    let mut seen = Vec::new();
    for client in ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2"] {
        seen.push(get_forwarded(behind, "/api/vapid", client).await);
    }
    assert_eq!(seen, [200, 200, 429, 200], "one bucket per client");

    let plain = serve(
        ApiState::new(
            g.db.clone(),
            Key::random(),
            config(&g.conninfo, &[], 2, &www, None),
            "B".to_owned(),
        )
        .unwrap(),
    )
    .await;
    let mut seen = Vec::new();
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        seen.push(get_forwarded(plain, "/api/vapid", client).await);
    }
    assert_eq!(
        seen,
        [200, 200, 429],
        "the header is not believed from anyone"
    );
}
