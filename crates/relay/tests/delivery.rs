//! The senders end to end, against real components: a private PostgreSQL, the relay's
//! outbox senders, and receivers written independently of the relay that decrypt and verify
//! what it sends:
//!
//! - `tests/relay/receiver.py` (http_ece, py_vapid, and a second RFC 8291 decryption on
//!   `cryptography`): a stand-in push service that checks VAPID (signature, `aud`, `exp`,
//!   `sub`), `TTL` and `Content-Encoding`, and can answer 410 or 429 on request;
//! - the npm `web-push-testing` mock push service (its own subscriptions, VAPID check and
//!   decryption);
//! - `tests/relay/webhook_receiver.py`, verifying every webhook with the `standardwebhooks`
//!   package.
//!
//! All installed by `scripts/setup --test`. Each test has its own database and receivers on
//! free ports; the receivers exit when the test drops them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pushmail_relay::config::Config;
use pushmail_relay::crypto::Key;
use pushmail_relay::webpush::Vapid;
use pushmail_relay::{db, guard, sender, webhook, webpush};
use pushmail_tests::Postgres;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn relay_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/relay")
}

fn venv_python() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    let py = Path::new(&home).join(".cache/pushmail/relay-venv/bin/python");
    assert!(
        py.is_file(),
        "{} is missing: run `scripts/setup --test`",
        py.display()
    );
    py
}

/// A receiver process, killed on drop.
struct Proc {
    child: Child,
    _stdin: Option<ChildStdin>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Proc {
    /// Starts a Python receiver script; it prints `READY <port>` once listening.
    fn python(script: &str, args: &[String]) -> Proc {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(venv_python())
            .arg(relay_tests_dir().join(script))
            .arg("--dir")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
        Proc {
            _stdin: child.stdin.take(),
            child,
            port,
            dir,
        }
    }

    /// The npm web-push-testing server on a free port (another one if that port was taken
    /// meanwhile). It says `Server running on port N` once listening, or exits.
    fn web_push_testing() -> Proc {
        let server = relay_tests_dir()
            .join("web-push-testing/node_modules/web-push-testing/src/bin/server.js");
        assert!(
            server.is_file(),
            "{} is missing: run `scripts/setup --test`",
            server.display()
        );
        let mut said = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let port = pushmail_tests::free_port();
            let mut child = Command::new("node")
                .arg(&server)
                .arg(port.to_string())
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let mut lines = BufReader::new(stdout).lines();
            let up = lines
                .by_ref()
                .map_while(Result::ok)
                .inspect(|l| said.push(l.clone()))
                .any(|l| l.starts_with("Server running on port"));
            if up {
                // Its later output (errors it logs per request) is not read: drain it so
                // the pipe never fills.
                std::thread::spawn(move || lines.for_each(drop));
                return Proc {
                    child,
                    _stdin: None,
                    port,
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("web-push-testing did not start: {said:?}");
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn subscriptions(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("subscriptions.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Log lines captured from the code under test (the tests run on one thread, so the
/// thread-local subscriber sees the sender's tasks too).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn start() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// None of `secrets` appears in the log.
    fn assert_free_of(&self, secrets: &[String]) {
        let text = self.text();
        for s in secrets {
            assert!(!s.is_empty());
            assert!(!text.contains(s.as_str()), "the log shows `{s}`:\n{text}");
        }
    }
}

/// A database with the relay's schema, a user, and the sender's context.
struct Bed {
    _pg: Postgres,
    db: db::Db,
    user: i64,
    master: Key,
    config: Config,
}

impl Bed {
    async fn start(allow_private: &[&str]) -> Bed {
        let pg = Postgres::start().unwrap();
        let conninfo = pg.create_database("relay").unwrap();
        let config: Config = toml::from_str(&format!(
            r#"
            database = "{conninfo}"
            vapid_subject = "mailto:ops@relay.example.com"
            senders = 4
            retry_first = 0.2
            max_attempts = 4
            push_ttl = 600
            http_timeout = 5
            allow_private = {allow}
            "#,
            allow = serde_json::to_string(allow_private).unwrap(),
        ))
        .unwrap();
        let db = db::connect(&config, 8).await.unwrap();
        let c = db.get().await.unwrap();
        let user: i64 = c
            .query_one(
                "INSERT INTO relay_user (name) VALUES ('Ada') RETURNING id",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        Bed {
            _pg: pg,
            db,
            user,
            master: Key::random(),
            config,
        }
    }

    async fn device(&self, endpoint: &str, p256dh: &[u8], auth: &[u8]) -> i64 {
        let c = self.db.get().await.unwrap();
        c.query_one(
            "INSERT INTO device (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
             RETURNING id",
            &[&self.user, &endpoint, &p256dh, &auth],
        )
        .await
        .unwrap()
        .get(0)
    }

    async fn webhook(&self, url: &str, secret: &str) -> i64 {
        let c = self.db.get().await.unwrap();
        let id: i64 = c
            .query_one(
                "INSERT INTO webhook (user_id, url, sealed_secret) VALUES ($1, $2, '') RETURNING id",
                &[&self.user, &url],
            )
            .await
            .unwrap()
            .get(0);
        let sealed = self
            .master
            .seal(&format!("webhook-secret:{id}"), secret.as_bytes())
            .unwrap();
        c.execute(
            "UPDATE webhook SET sealed_secret = $2 WHERE id = $1",
            &[&id, &sealed],
        )
        .await
        .unwrap();
        id
    }

    /// Queues deliveries and notifies, as the watchers do: in one transaction.
    async fn enqueue(&self, rows: &[(&str, i64, String, Vec<u8>)]) {
        let mut c = self.db.get().await.unwrap();
        let tx = c.transaction().await.unwrap();
        for (kind, target, tag, body) in rows {
            tx.execute(
                "INSERT INTO outbox (kind, target, account, tag, body) VALUES ($1, $2, 'acct', $3, $4)",
                &[kind, target, tag, body],
            )
            .await
            .unwrap();
        }
        tx.execute("NOTIFY outbox", &[]).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        let c = self.db.get().await.unwrap();
        c.query_one(sql, &[]).await.unwrap().get(0)
    }

    fn start_sender(&self, vapid: Vapid) -> (CancellationToken, tokio::task::JoinHandle<()>) {
        let ctx = sender::SenderCtx::new(&self.config, vapid, self.master.clone()).unwrap();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(sender::run(self.db.clone(), Arc::new(ctx), cancel.clone()));
        (cancel, task)
    }
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// Polls `cond` (async-friendly: the sender runs on this thread) until it holds.
async fn wait_for(what: &str, timeout: Duration, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn of<'a>(events: &'a [Value], key: &str, id: &str, kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e[key] == id && e["type"] == kind)
        .collect()
}

/// A client for the tests' own calls to the receivers (plain http on loopback).
fn test_client() -> reqwest::Client {
    guard::client(
        vec![guard::Cidr::parse("127.0.0.1").unwrap()],
        Duration::from_secs(5),
    )
    .unwrap()
    .http()
    .clone()
}

/// POSTs JSON, returns the status and the JSON answer (Null when none).
async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn control(client: &reqwest::Client, proc: &Proc, body: Value) {
    let (status, _) = post_json(client, &proc.url("/control"), &body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn web_push_reaches_two_independent_receivers_and_gone_and_busy_are_handled() {
    let (logs, _guard) = Logs::start();
    let bed = Bed::start(&["127.0.0.1/32"]).await;
    let vapid = Vapid::generate();
    let vapid_public = vapid.public_key_base64();
    let http = test_client();

    // The Python receiver: subscriptions ok, gone (410), busy (429 then ok).
    let rx = Proc::python("receiver.py", &["--subscriptions".into(), "3".into()]);
    let subs = rx.subscriptions();
    let sub_id = |i: usize| subs[i]["id"].as_str().unwrap().to_owned();
    control(&http, &rx, json!({"id": sub_id(1), "then": 410})).await;
    control(&http, &rx, json!({"id": sub_id(2), "queue": [[429, "1"]]})).await;

    // web-push-testing: one subscription for our VAPID key, one for another key (its pushes
    // must be refused: proof that it checks VAPID).
    let wpt = Proc::web_push_testing();
    let subscribe = async |key: &str| -> Value {
        let (status, r) = post_json(
            &http,
            &wpt.url("/subscribe"),
            &json!({"applicationServerKey": key, "userVisibleOnly": "true"}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        r["data"].clone()
    };
    let w_ok = subscribe(&vapid_public).await;
    let w_other = subscribe(&Vapid::generate().public_key_base64()).await;
    // It names itself `localhost`; the relay reaches plain http only on allowed literal IPs.
    let w_endpoint = |w: &Value| {
        w["endpoint"]
            .as_str()
            .unwrap()
            .replace("http://localhost:", "http://127.0.0.1:")
    };

    let mut devices = Vec::new();
    for s in &subs {
        let id = bed
            .device(
                s["endpoint"].as_str().unwrap(),
                &unb64(s["keys"]["p256dh"].as_str().unwrap()),
                &unb64(s["keys"]["auth"].as_str().unwrap()),
            )
            .await;
        devices.push((id, s.clone()));
    }
    for w in [&w_ok, &w_other] {
        let id = bed
            .device(
                &w_endpoint(w),
                &unb64(w["keys"]["p256dh"].as_str().unwrap()),
                &unb64(w["keys"]["auth"].as_str().unwrap()),
            )
            .await;
        devices.push((id, w.clone()));
    }

    // One notice per device (two for the gone one: both must go with it).
    let plain = |i: usize| json!({"title": format!("New mail in Work {i}"), "body": format!("Sender{i} <s{i}@example.org>: Lunch plans {i}")});
    let mut rows = Vec::new();
    let mut plaintexts = Vec::new();
    for (i, (id, s)) in devices.iter().enumerate() {
        let p = plain(i);
        let bytes = serde_json::to_vec(&p).unwrap();
        let body = webpush::encrypt(
            &unb64(s["keys"]["p256dh"].as_str().unwrap()),
            &unb64(s["keys"]["auth"].as_str().unwrap()),
            &bytes,
        )
        .unwrap();
        rows.push(("webpush", *id, format!("acct/INBOX/7/{i}"), body));
        plaintexts.push(p);
    }
    let gone_second = webpush::encrypt(
        &unb64(subs[1]["keys"]["p256dh"].as_str().unwrap()),
        &unb64(subs[1]["keys"]["auth"].as_str().unwrap()),
        b"{\"second\":true}",
    )
    .unwrap();
    rows.push((
        "webpush",
        devices[1].0,
        "acct/INBOX/7/99".into(),
        gone_second,
    ));
    bed.enqueue(&rows).await;

    let (cancel, task) = bed.start_sender(vapid);
    wait_for("the outbox to empty", Duration::from_secs(20), async || {
        bed.count("SELECT count(*) FROM outbox").await == 0
    })
    .await;

    let events = rx.events();
    // Delivered once each, decrypted by http_ece and by hand to exactly what was queued.
    for i in [0, 2] {
        let got = of(&events, "id", &sub_id(i), "delivered");
        assert_eq!(got.len(), 1, "subscription {i}: {events:#?}");
        let e = got[0];
        assert_eq!(e["plaintext"], plaintexts[i]);
        assert_eq!(e["headers"]["urgency"], "high");
        let ttl = e["headers"]["ttl"].as_u64().unwrap();
        assert!(ttl > 590 && ttl <= 600, "TTL {ttl}");
        let topic = e["headers"]["topic"].as_str().unwrap();
        assert_eq!(topic.len(), 32);
        assert_eq!(e["headers"]["content_type"], "application/octet-stream");
        // Padded to the length class.
        assert_eq!(e["padded_len"].as_u64().unwrap() % 256, 0);
        assert_eq!(
            e["body_len"].as_u64().unwrap(),
            e["padded_len"].as_u64().unwrap() + 103
        );
        assert_eq!(e["vapid"]["aud"], rx.url(""));
        assert_eq!(e["vapid"]["sub"], "mailto:ops@relay.example.com");
        assert_eq!(e["vapid"]["k"], vapid_public);
    }
    assert!(
        events.iter().all(|e| e["type"] != "violation"),
        "{events:#?}"
    );
    // Busy: 429 with Retry-After: 1, then delivered no sooner.
    let busy = of(&events, "id", &sub_id(2), "answered");
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0]["status"], 429);
    let retried_after = of(&events, "id", &sub_id(2), "delivered")[0]["at"]
        .as_f64()
        .unwrap()
        - busy[0]["at"].as_f64().unwrap();
    assert!(retried_after >= 0.98, "retried after {retried_after} s");
    // Gone: the device and both its deliveries removed, nothing delivered.
    assert!(!of(&events, "id", &sub_id(1), "answered").is_empty());
    assert!(of(&events, "id", &sub_id(1), "delivered").is_empty());
    assert_eq!(
        bed.count(&format!(
            "SELECT count(*) FROM device WHERE id = {}",
            devices[1].0
        ))
        .await,
        0
    );
    assert_eq!(bed.count("SELECT count(*) FROM device").await, 4);

    // web-push-testing decrypted the notice for our key, and refused the other key's.
    let messages = async |w: &Value| -> Vec<Value> {
        let (_, r) = post_json(
            &http,
            &wpt.url("/get-notifications"),
            &json!({"clientHash": w["clientHash"]}),
        )
        .await;
        r["data"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let ok = messages(&w_ok).await;
    assert_eq!(ok.len(), 1, "{ok:?}");
    let text = ok[0].as_str().unwrap();
    assert!(text.ends_with(' '), "not padded: {text:?}");
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), plaintexts[3]);
    assert!(messages(&w_other).await.is_empty());

    cancel.cancel();
    task.await.unwrap();
    let log = logs.text();
    assert!(log.contains("delivered"), "{log}");
    assert!(
        log.contains("will retry") && log.contains("HTTP 429"),
        "{log}"
    );
    assert!(log.contains("subscription gone"), "{log}");
    assert!(log.contains("rejected"), "{log}"); // web-push-testing's 400 for the other key
    // No capability path, key, secret or notice content in the log.
    let mut secrets: Vec<String> = subs
        .iter()
        .flat_map(|s| {
            [
                s["id"].as_str().unwrap().to_owned(),
                s["keys"]["p256dh"].as_str().unwrap().to_owned(),
                s["keys"]["auth"].as_str().unwrap().to_owned(),
            ]
        })
        .collect();
    for w in [&w_ok, &w_other] {
        secrets.push(w["clientHash"].as_str().unwrap().to_owned());
        secrets.push(w["keys"]["auth"].as_str().unwrap().to_owned());
    }
    for p in &plaintexts {
        secrets.push(p["body"].as_str().unwrap().to_owned());
        secrets.push(p["title"].as_str().unwrap().to_owned());
    }
    secrets.push("Lunch plans".into());
    logs.assert_free_of(&secrets);
}

#[tokio::test]
async fn webhooks_are_signed_as_standard_webhooks_verify() {
    let (logs, _guard) = Logs::start();
    let bed = Bed::start(&["127.0.0.1/32"]).await;
    let http = test_client();
    let good = webhook::new_secret();
    let retry = webhook::new_secret();
    let gone = webhook::new_secret();
    let relay_side = webhook::new_secret();
    let receiver_side = webhook::new_secret(); // not the relay's: must not verify
    let rx = Proc::python(
        "webhook_receiver.py",
        &[
            "--hook".into(),
            format!("good={good}"),
            "--hook".into(),
            format!("retry={retry}"),
            "--hook".into(),
            format!("gone={gone}"),
            "--hook".into(),
            format!("wrong={receiver_side}"),
        ],
    );
    control(&http, &rx, json!({"id": "retry", "queue": [[503, null]]})).await;
    control(&http, &rx, json!({"id": "gone", "then": 410})).await;
    let h_good = bed.webhook(&rx.url("/hook/good"), &good).await;
    let h_retry = bed.webhook(&rx.url("/hook/retry"), &retry).await;
    let h_gone = bed.webhook(&rx.url("/hook/gone"), &gone).await;
    let h_wrong = bed.webhook(&rx.url("/hook/wrong"), &relay_side).await;

    let payload = |n: &str| json!({"type": "mail.new", "account": "acct", "from": format!("Boss <boss-{n}@example.org>"), "subject": format!("Quarterly numbers {n}")});
    let mut rows = Vec::new();
    for (id, name) in [
        (h_good, "good"),
        (h_retry, "retry"),
        (h_gone, "gone"),
        (h_wrong, "wrong"),
    ] {
        let tag = format!("acct/INBOX/3/{name}");
        let body = bed
            .master
            .seal(
                &format!("webhook-body:{id}:{tag}"),
                &serde_json::to_vec(&payload(name)).unwrap(),
            )
            .unwrap();
        rows.push(("webhook", id, tag, body));
    }
    bed.enqueue(&rows).await;
    let (cancel, task) = bed.start_sender(Vapid::generate());
    wait_for("the outbox to empty", Duration::from_secs(20), async || {
        bed.count("SELECT count(*) FROM outbox").await == 0
    })
    .await;
    // Idle now (next safety-net wake in seconds): a new delivery is sent at its NOTIFY.
    let late_tag = "acct/INBOX/3/late".to_owned();
    let late_body = bed
        .master
        .seal(
            &format!("webhook-body:{h_good}:{late_tag}"),
            &serde_json::to_vec(&payload("late")).unwrap(),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = Instant::now();
    bed.enqueue(&[("webhook", h_good, late_tag, late_body)])
        .await;
    wait_for("the late delivery", Duration::from_secs(10), async || {
        of(&rx.events(), "name", "good", "verified").len() == 2
    })
    .await;
    assert!(
        queued.elapsed() < Duration::from_millis(1500),
        "NOTIFY did not wake the sender: {:?}",
        queued.elapsed()
    );
    cancel.cancel();
    task.await.unwrap();

    let events = rx.events();
    let late = of(&events, "name", "good", "verified");
    assert_eq!(late[1]["payload"], payload("late"));
    // Another notice, another webhook-id.
    assert_ne!(late[0]["id"], late[1]["id"]);
    assert_eq!(late[0]["payload"], payload("good"));
    let v = of(&events, "name", "retry", "verified");
    assert_eq!(v.len(), 1, "{events:#?}");
    assert_eq!(v[0]["payload"], payload("retry"));
    // The retry carried the same webhook-id (receivers deduplicate by it).
    let first = of(&events, "name", "retry", "answered");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["status"], 503);
    assert_eq!(
        first[0]["id"],
        of(&events, "name", "retry", "verified")[0]["id"]
    );
    // A secret the relay does not sign with does not verify: the check is real.
    let wrong = of(&events, "name", "wrong", "unverified");
    assert_eq!(wrong.len(), 1, "{events:#?}");
    assert!(
        wrong[0]["why"].as_str().unwrap().contains("signature"),
        "{wrong:?}"
    );
    assert!(of(&events, "name", "wrong", "verified").is_empty());
    // 410: disabled; the others not.
    assert_eq!(
        bed.count("SELECT count(*) FROM webhook WHERE disabled_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        bed.count(&format!(
            "SELECT count(*) FROM webhook WHERE disabled_at IS NOT NULL AND id = {h_gone}"
        ))
        .await,
        1
    );
    let log = logs.text();
    assert!(log.contains("webhook gone; disabled"), "{log}");
    assert!(log.contains("HTTP 400"), "{log}");
    let mut secrets = vec![good, retry, gone, relay_side, receiver_side];
    for n in ["good", "retry", "gone", "wrong", "late"] {
        secrets.push(format!("Quarterly numbers {n}"));
        secrets.push(format!("boss-{n}@example.org"));
    }
    logs.assert_free_of(&secrets);
}

#[tokio::test]
async fn the_guard_keeps_deliveries_off_private_addresses() {
    let (logs, _guard) = Logs::start();
    // No allow_private: loopback is out of bounds.
    let bed = Bed::start(&[]).await;
    let secret = webhook::new_secret();
    let rx = Proc::python("receiver.py", &["--subscriptions".into(), "1".into()]);
    let hooks = Proc::python(
        "webhook_receiver.py",
        &["--hook".into(), format!("h={secret}")],
    );
    let sub = &rx.subscriptions()[0];
    let (p256dh, auth) = (
        unb64(sub["keys"]["p256dh"].as_str().unwrap()),
        unb64(sub["keys"]["auth"].as_str().unwrap()),
    );
    // A literal loopback address, over http and over https; a name that resolves to
    // loopback (checked at connect time); plain http to a public name.
    let https_loopback = sub["endpoint"]
        .as_str()
        .unwrap()
        .replace("http://", "https://");
    let targets = [
        sub["endpoint"].as_str().unwrap().to_owned(),
        https_loopback,
        format!(
            "https://localhost:{}/push/{}",
            rx.port,
            sub["id"].as_str().unwrap()
        ),
        "http://push.example.com/push/abc".to_owned(),
    ];
    let mut rows = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let d = bed.device(t, &p256dh, &auth).await;
        let body = webpush::encrypt(&p256dh, &auth, b"{\"n\":1}").unwrap();
        rows.push(("webpush", d, format!("acct/INBOX/1/{i}"), body));
    }
    for (i, url) in [
        hooks.url("/hook/h"),
        format!("https://localhost:{}/hook/h", hooks.port),
        "http://hooks.example.com/hook/h".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let id = bed.webhook(url, &secret).await;
        let tag = format!("acct/INBOX/2/{i}");
        let body = bed
            .master
            .seal(&format!("webhook-body:{id}:{tag}"), b"{\"n\":2}")
            .unwrap();
        rows.push(("webhook", id, tag, body));
    }
    bed.enqueue(&rows).await;
    let (cancel, task) = bed.start_sender(Vapid::generate());
    // Refused at once (not retried): the outbox empties on the first round.
    wait_for("the outbox to empty", Duration::from_secs(10), async || {
        bed.count("SELECT count(*) FROM outbox").await == 0
    })
    .await;
    cancel.cancel();
    task.await.unwrap();
    assert!(rx.events().is_empty(), "{:?}", rx.events());
    assert!(hooks.events().is_empty(), "{:?}", hooks.events());
    let log = logs.text();
    assert_eq!(log.matches("rejected; dropped").count(), 7, "{log}");
    assert!(!log.contains("will retry"), "{log}");
    assert!(log.contains("localhost resolves only to"), "{log}");
    assert!(log.contains("plain http"), "{log}");
    assert!(log.contains("private, loopback or reserved"), "{log}");
    // The devices and webhooks stay (the operator may allow the range later).
    assert_eq!(bed.count("SELECT count(*) FROM device").await, 4);
    logs.assert_free_of(&[
        sub["id"].as_str().unwrap().to_owned(),
        "/push/abc".into(),
        secret,
    ]);
}

#[tokio::test]
async fn the_vapid_key_is_made_once_and_stored_sealed() {
    let bed = Bed::start(&[]).await;
    let first = Vapid::load_or_create(&bed.db, &bed.master).await.unwrap();
    let again = Vapid::load_or_create(&bed.db, &bed.master).await.unwrap();
    assert_eq!(first.public_key_base64(), again.public_key_base64());
    let c = bed.db.get().await.unwrap();
    let stored: Vec<u8> = c
        .query_one("SELECT value FROM relay_meta WHERE key = 'vapid'", &[])
        .await
        .unwrap()
        .get(0);
    let private = first.to_bytes();
    assert!(
        !stored
            .windows(private.len())
            .any(|w| w == private.as_slice())
    );
    // Another master key cannot open it.
    assert!(
        Vapid::load_or_create(&bed.db, &Key::random())
            .await
            .is_err()
    );
}
