//! The mail Pushmail's Italian, Chinese and Arabic users really get, end to end: every message in
//! `tests/corpus/` (raw bytes as Outlook, Gmail, Foxmail, QQ Mail, old Arabic Outlook, a Japanese
//! mailer and broken scripts send them) is delivered to the real Dovecot in INBOX and in two
//! folders with non-Latin names, while `pushmail-cli watch --json` watches all three. The test
//! asserts the exact decoded sender and subject that reach the event stream, and that the
//! folders are reported under their decoded names.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Pushmail, Via, unique_id};
use pushmail_tests::{Dovecot, DovecotOptions, encode_mailbox_name};
use serde_json::Value;

const PW: &str = "alicepw";
const SHORT: Duration = Duration::from_secs(15);
/// INBOX, "Inbox" in Chinese, "Inbox" (al-wārid) in Arabic.
const FOLDERS: [&str; 3] = ["INBOX", "收件箱", "الوارد"];

struct Case {
    file: String,
    raw: Vec<u8>,
    message_id: String,
    expected: Value,
}

fn corpus() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let manifest: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let emls = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("eml".as_ref()))
        .count();
    assert_eq!(
        manifest.len(),
        emls,
        "every .eml needs an entry in expected.json"
    );
    manifest
        .into_iter()
        .map(|(file, expected)| {
            let raw = std::fs::read(dir.join(&file)).unwrap();
            Case {
                message_id: message_id(&raw).unwrap_or_else(|| panic!("{file}: no Message-ID")),
                file,
                raw,
                expected,
            }
        })
        .collect()
}

/// The Message-ID of a raw message, without angle brackets (how the event carries it).
fn message_id(raw: &[u8]) -> Option<String> {
    String::from_utf8_lossy(raw)
        .split("\r\n")
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| {
            l["message-id:".len()..]
                .trim()
                .trim_matches(['<', '>'])
                .to_owned()
        })
}

#[test]
fn corpus_reaches_the_event_stream_decoded_in_chinese_and_arabic_folders() {
    let cases = corpus();
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    for folder in &FOLDERS[1..] {
        dc.create_folder("alice", folder).unwrap();
    }
    let pm = Pushmail::new();
    let id = unique_id("charsets");
    let folders = FOLDERS
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    pm.write_config(&[pm.account_toml(
        &dc,
        &id,
        "alice",
        Via::Tls,
        PW,
        &format!("folders = [{folders}]"),
    )]);

    // `account test` lists the folders by their decoded names and knows the server's.
    let out = pm.cli(&["account", "test", &id, "--json"], "", &[]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    for folder in FOLDERS {
        let listed = report["folders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == folder)
            .unwrap_or_else(|| panic!("{folder} not listed: {report:#}"));
        assert_eq!(listed["raw_name"], encode_mailbox_name(folder).as_str());
        assert_eq!(listed["watched"], true, "{listed}");
    }

    let mut w = pm.watch(&[]);
    // Every folder has selected and counted (its first `unread`), and the account is pushing.
    let deadline = Instant::now() + SHORT;
    loop {
        let counted = FOLDERS.iter().all(|f| {
            w.seen
                .iter()
                .any(|(_, v)| v["event"] == "unread" && v["folder"] == *f)
        });
        let pushing = w
            .seen
            .iter()
            .rev()
            .find(|(_, v)| v["event"] == "state")
            .is_some_and(|(_, v)| v["state"] == "push");
        if counted && pushing {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        w.wait_for(left, "all three folders watched", |_| true);
    }

    for folder in FOLDERS {
        for case in &cases {
            dc.deliver("alice", folder, &case.raw)
                .unwrap_or_else(|e| panic!("{}: {e:#}", case.file));
        }
    }
    let total = cases.len() * FOLDERS.len();
    let deadline = Instant::now() + SHORT;
    while w.new_mails().len() < total && Instant::now() < deadline {
        w.collect_for(Duration::from_millis(200));
    }
    w.collect_for(Duration::from_millis(500));

    let mails = w.new_mails();
    assert_eq!(mails.len(), total, "{mails:#?}\n{}", w.stderr());
    let mut failures = Vec::new();
    for folder in FOLDERS {
        for case in &cases {
            let got: Vec<&&Value> = mails
                .iter()
                .filter(|m| m["folder"] == folder && m["message_id"] == case.message_id.as_str())
                .collect();
            let [got] = got.as_slice() else {
                failures.push(format!(
                    "{folder}/{}: {} events, want 1",
                    case.file,
                    got.len()
                ));
                continue;
            };
            assert_eq!(got["account"], id.as_str());
            assert_eq!(got["catch_up"], false);
            let decoded = serde_json::json!({
                "from_name": got["from_name"],
                "from_address": got["from_address"],
                "subject": got["subject"],
            });
            if decoded != case.expected {
                failures.push(format!(
                    "{folder}/{}:\n   got {decoded}\n  want {}",
                    case.file, case.expected
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(w.stop(), "watch did not exit cleanly: {}", w.stderr());
}
