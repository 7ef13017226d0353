//! Transport security and credentials end to end: TLS trust, strict STARTTLS, wrong passwords,
//! and no secret in any output or file even at trace level.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::time::Duration;

use common::{Pushmail, Via, files_under, unique_id};
use pushmail_tests::{Dovecot, DovecotOptions, message};

const PW: &str = "alicepw";
const SHORT: Duration = Duration::from_secs(10);

fn state_detail(v: &serde_json::Value) -> String {
    v["detail"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn tls_is_trusted_only_with_the_test_ca() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let with_ca = pm.account_toml(&dc, &unique_id("ca"), "alice", Via::Tls, PW, "");
    let without_ca: String = with_ca
        .lines()
        .filter(|l| !l.starts_with("ca_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    pm.write_config(&[without_ca]);
    let mut w = pm.watch(&[]);
    let v = w.wait_for(SHORT, "a TLS failure", |v| {
        v["event"] == "state" && state_detail(v).contains("TLS")
    });
    assert!(state_detail(&v.1).contains("unknown authority"), "{v:?}");
    assert!(
        state_detail(&v.1).contains("ca_file"),
        "the hint names the fix: {v:?}"
    );
    drop(w);
    assert_eq!(dc.login_failures("alice"), 0);
    assert!(
        !dc.log().contains("Login: user=<alice>"),
        "no login may happen over an untrusted link"
    );

    // `account test` says the same, step by step.
    let out = pm.cli(&["account", "test", &unique_id("x")], "", &[]);
    assert_ne!(out.code, Some(0));
    pm.write_config(std::slice::from_ref(&with_ca));
    let id = with_ca
        .lines()
        .find_map(|l| l.strip_prefix("id = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let out = pm.cli(&["account", "test", &id], "", &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    for step in ["password", "tcp", "tls", "login", "capabilities", "folders"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(step)),
            "{step}: {}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("IDLE yes") && out.stdout.contains("QRESYNC yes"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("INBOX (0 unread)"), "{}", out.stdout);
}

#[test]
fn starttls_only_server_with_logindisabled_works() {
    // On 127.0.0.2 Dovecot sees clients from 127.0.0.1 as insecure: LOGINDISABLED until STARTTLS.
    let dc = Dovecot::start(DovecotOptions {
        listen: "127.0.0.2".into(),
        ..Default::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("stls"), "alice", Via::Starttls, PW, "")]);
    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    // Over plaintext from 127.0.0.1 the harness could not log in either; an MTA-style drop works.
    common::deliver_offline(
        &dc,
        "alice",
        &message("a@example.com", "alice@example.org", "Over STARTTLS", "x"),
    );
    w.wait_new_mail("Over STARTTLS", SHORT);
}

#[test]
fn plain_login_is_refused_when_the_server_disables_it() {
    let dc = Dovecot::start(DovecotOptions {
        listen: "127.0.0.2".into(),
        ..Default::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("plain"), "alice", Via::Plain, PW, "")]);
    let mut w = pm.watch(&[]);
    let (_, v) = w.wait_for(SHORT, "login disabled", |v| {
        v["event"] == "state" && state_detail(v).contains("unencrypted")
    });
    assert_eq!(v["state"], "error", "{v}");
    assert!(!dc.log().contains("Login: user=<alice>"));
}

#[test]
fn missing_starttls_is_refused_before_any_credential() {
    // ssl = no and plaintext auth allowed: a server (or an attacker) that would happily take
    // the password in clear text. Pushmail must not offer it.
    let dc = Dovecot::start(DovecotOptions {
        listen: "127.0.0.2".into(),
        starttls: false,
        allow_plaintext_auth: true,
        ..Default::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(&dc, &unique_id("nostls"), "alice", Via::Starttls, PW, "")]);
    let mut w = pm.watch(&[]);
    let (_, v) = w.wait_for(SHORT, "STARTTLS refusal", |v| {
        v["event"] == "state" && state_detail(v).contains("STARTTLS")
    });
    assert!(
        state_detail(&v).contains("never sends a password unencrypted"),
        "{v}"
    );
    w.collect_for(Duration::from_secs(2));
    drop(w);
    assert_eq!(dc.login_failures("alice"), 0);
    let log = dc.log();
    assert!(
        !log.contains("Login: user=<alice>") && !log.contains("auth failed"),
        "{log}"
    );
}

#[test]
fn wrong_password_stops_in_auth_failed_after_one_attempt() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    pm.write_config(&[pm.account_toml(
        &dc,
        &unique_id("badpw"),
        "alice",
        Via::Tls,
        "not-the-password",
        "",
    )]);
    let mut w = pm.watch(&[]);
    let v = w.wait_state("auth_failed", SHORT);
    assert!(state_detail(&v).contains("password"), "{v}");
    // Give it time to misbehave: backoff is 1–2 s here, so a retrying client would log in again.
    w.collect_for(Duration::from_secs(6));
    let attempts = dc.login_failures("alice");
    assert!((1..=2).contains(&attempts), "{attempts} LOGIN attempts");
    assert!(!w.seen.iter().any(|(_, v)| {
        v["state"] == "connecting"
            && w.seen
                .iter()
                .filter(|(_, x)| x["state"] == "connecting")
                .count()
                > 1
    }));
}

#[test]
fn trace_logging_leaks_no_password_anywhere() {
    let secret = "Tr4ce-S3cret-pw";
    let dc = Dovecot::start(DovecotOptions {
        users: vec![("alice".into(), secret.into())],
        listen: "127.0.0.2".into(),
        ..Default::default()
    })
    .unwrap();
    let pm = Pushmail::new();
    let id = unique_id("trace");
    pm.write_config(&[
        pm.account_toml(&dc, &id, "alice", Via::Tls, secret, ""),
        pm.account_toml(&dc, &format!("{id}-s"), "alice", Via::Starttls, secret, ""),
    ]);
    let env = [("RUST_LOG", "trace")];
    let mut w = pm.watch(&env);
    let mut pushing = std::collections::HashSet::new();
    while pushing.len() < 2 {
        let (_, v) = w.wait_for(SHORT, "both accounts in push", |v| {
            v["event"] == "state" && v["state"] == "push"
        });
        pushing.insert(v["account"].as_str().unwrap().to_owned());
    }
    common::deliver_offline(
        &dc,
        "alice",
        &message("a@example.com", "alice@example.org", "Traced", "x"),
    );
    w.wait_new_mail("Traced", SHORT);
    assert!(w.stop());
    let test = pm.cli(&["account", "test", &id], "", &env);
    assert_eq!(test.code, Some(0), "{test:?}");
    let stderr = w.stderr();
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "trace logging was not on: {stderr:.400}"
    );
    // The password itself, and the SASL PLAIN blob a LOGINDISABLED server would get.
    let sasl = base64_plain("alice", secret);
    let mut haystacks = vec![
        ("watch stdout", w.stdout_raw()),
        ("watch stderr", stderr),
        ("test stdout", test.stdout),
        ("test stderr", test.stderr),
    ];
    for entry in files_under(pm.dir.path()) {
        let name = entry.display().to_string();
        if name.contains("/pw-") {
            continue; // the password_command's own source, which the test wrote
        }
        haystacks.push((
            Box::leak(name.into_boxed_str()),
            String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned(),
        ));
    }
    for (what, text) in haystacks {
        assert!(!text.contains(secret), "password found in {what}");
        assert!(!text.contains(&sasl), "SASL PLAIN blob found in {what}");
    }
}

fn base64_plain(user: &str, pw: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("\0{user}\0{pw}").into_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char)
            } else {
                out.push('=')
            }
        }
    }
    out
}

/// Issue 16 §4: a `ca_file` with a PEM block cut in the middle (a bad copy-paste) read as a
/// problem with the system's certificates and a quiet `backoff`. Every unreadable `ca_file` —
/// cut, missing, DER, garbage — is now an `error` naming the file and what is wrong with it,
/// in the watcher and in `account test`, and no login is attempted.
#[test]
fn an_unreadable_ca_file_is_named_whatever_is_wrong_with_it() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let pem = std::fs::read_to_string(dc.ca_file()).unwrap();
    let lines: Vec<&str> = pem.lines().collect();
    assert!(lines.len() > 6, "{pem}");
    // Three base64 lines gone from the middle: still valid base64, no longer a certificate.
    let cut: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !(2..5).contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let der = {
        let out = std::process::Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(dc.ca_file())
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let dir = pm.dir.path();
    let cases: Vec<(&str, Option<Vec<u8>>, &str)> = vec![
        ("cut.pem", Some(cut.into_bytes()), "damaged"),
        ("missing.pem", None, "cannot read ca_file"),
        ("ca.der", Some(der), "PEM"),
        (
            "garbage.pem",
            Some(b"hello, this is not a certificate\n".to_vec()),
            "PEM",
        ),
    ];
    let mut accounts = Vec::new();
    let mut ids = Vec::new();
    for (file, contents, _) in &cases {
        let path = dir.join(file);
        if let Some(c) = contents {
            std::fs::write(&path, c).unwrap();
        }
        let id = unique_id("cafile");
        let toml = pm.account_toml(&dc, &id, "alice", Via::Tls, PW, "");
        accounts.push(
            toml.lines()
                .map(|l| {
                    if l.starts_with("ca_file") {
                        format!("ca_file = \"{}\"\n", path.display())
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect::<String>(),
        );
        ids.push(id);
    }
    pm.write_config(&accounts);
    let mut w = pm.watch(&[]);
    // An error is reported once and stays (no flicker through `connecting` between retries),
    // so each account's may arrive while waiting for another's: look at everything seen.
    let settled = |w: &common::Watch, id: &str| {
        w.seen
            .iter()
            .map(|(_, v)| v)
            .find(|v| v["event"] == "state" && v["account"] == id && v["state"] != "connecting")
            .cloned()
    };
    for ((file, _, what), id) in cases.iter().zip(&ids) {
        let v = match settled(&w, id) {
            Some(v) => v,
            None => {
                w.wait_for(SHORT, &format!("{file}: an error"), |v| {
                    v["event"] == "state"
                        && v["account"] == id.as_str()
                        && v["state"] != "connecting"
                })
                .1
            }
        };
        let detail = state_detail(&v);
        assert_eq!(v["state"], "error", "{file}: {v}");
        assert!(detail.contains(file), "{file}: names the file: {detail}");
        assert!(
            detail.contains(what),
            "{file}: says what is wrong: {detail}"
        );
        assert!(!detail.contains("system's trusted"), "{file}: {detail}");
        println!("{file}: {detail}");
    }
    drop(w);
    // `account test` names it the same way.
    let out = pm.cli(&["account", "test", &ids[0]], "", &[]);
    assert_ne!(out.code, Some(0), "{out:?}");
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("cut.pem") && said.contains("damaged"),
        "{out:?}"
    );
    assert!(
        !dc.log().contains("Login: user=<alice>"),
        "no login may happen without a usable CA file"
    );
}
