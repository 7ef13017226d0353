//! What particular providers demand, played by the scripted IMAP server against the real
//! `pushmail-cli` (`watch --json`, `account test`) and the core's folder list.
//!
//! NetEase (163.com, 126.com, yeah.net; Coremail) refuses `SELECT` with `NO SELECT Unsafe
//! Login. Please contact kefu@188.com for help` until the client has sent RFC 2971 `ID` (issue
//! 12). Pushmail sends `ID ("name" "Pushmail" "version" "…")` — its name and version, nothing
//! more — after login wherever the server advertises `ID`, and nowhere else; a server that
//! then refuses it is used all the same.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod faults;

use std::time::Duration;

use common::{Pushmail, unique_id};
use faults::{assert_each_once, scripted_account, wait_account_state};
use pushmail_tests::{ConnRecord, Listen, RawImap, Script, ScriptedServer};
use serde_json::Value;

const SHORT: Duration = Duration::from_secs(15);

/// What NetEase says to a `SELECT` before `ID`.
const UNSAFE_LOGIN: &str = "Unsafe Login. Please contact kefu@188.com for help";

fn plain_server(script: impl Fn(usize) -> Script + Send + Sync + 'static) -> ScriptedServer {
    ScriptedServer::start(Listen::Plain, script).unwrap()
}

/// The version `pushmail-cli --version` reports: the program's, which `ID` must carry.
fn program_version(pm: &Pushmail) -> String {
    let out = pm.cli(&["--version"], "", &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    out.stdout
        .split_whitespace()
        .last()
        .expect("a version")
        .to_owned()
}

/// The only `ID` arguments Pushmail may send: name and version.
fn identification(pm: &Pushmail) -> String {
    format!(
        "(\"name\" \"Pushmail\" \"version\" \"{}\")",
        program_version(pm)
    )
}

/// Where the command with this verb (the word after the tag) first came on a connection.
fn position(record: &ConnRecord, verb: &str) -> Option<usize> {
    record.lines.iter().position(|l| {
        l.split(' ')
            .nth(1)
            .is_some_and(|v| v.eq_ignore_ascii_case(verb))
    })
}

/// The steps of an `account test --json` report, with whether each passed.
fn account_test(pm: &Pushmail, id: &str) -> (Vec<(String, bool)>, Value) {
    let out = pm.cli(&["account", "test", id, "--json"], "", &[]);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    let steps = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    (steps, report)
}

fn all_passed(steps: &[(String, bool)]) -> bool {
    steps.len() == 6 && steps.iter().all(|(_, ok)| *ok)
}

/// The scripted quirk is real: on the NetEase-like server a client that does not send `ID`
/// cannot open INBOX, and one that does can (a raw client, not Pushmail).
#[test]
fn the_netease_like_server_refuses_select_until_id() {
    let server = plain_server(|_| Script::netease());
    let mut raw = RawImap::connect_login("127.0.0.1", server.port(), "alice", "pw").unwrap();
    let refused = raw.command_unchecked("SELECT INBOX").unwrap();
    assert!(
        refused.last().unwrap().contains(UNSAFE_LOGIN),
        "{refused:?}"
    );
    let id = raw.command("ID NIL").unwrap();
    assert!(
        id[0].starts_with("* ID (\"name\" \"Coremail Imap\""),
        "{id:?}"
    );
    raw.select("INBOX").unwrap();
    raw.logout().unwrap();
    assert_eq!(server.record(0).unwrap().id_arguments, ["NIL"]);
}

/// (1) An account on the NetEase-like server reaches push, and a new message is announced
/// once, on the first connection: `ID` went out after LOGIN and before SELECT, so no SELECT
/// was refused and nothing had to be tried again.
#[test]
fn a_netease_account_reaches_push_and_announces_new_mail_once() {
    let server = plain_server(|_| Script::netease());
    let pm = Pushmail::new();
    let id = unique_id("netease");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("New at 163");
    w.wait_new_mail("New at 163", SHORT);
    w.collect_for(Duration::from_millis(800));
    assert_each_once(&w, &["New at 163"]);
    assert!(w.stop(), "watch did not exit cleanly");
    assert_eq!(server.connections(), 1, "{:#?}", server.records());
    let record = server.record(0).unwrap();
    let (login, id_at, select) = (
        position(&record, "LOGIN").unwrap(),
        position(&record, "ID").unwrap(),
        position(&record, "SELECT").unwrap(),
    );
    assert!(login < id_at && id_at < select, "{:#?}", record.lines);
    assert_eq!(record.id_arguments.len(), 1, "{record:?}");
}

/// (2) The `ID` carries the program's name and version and nothing else — from every place
/// that logs in: the watcher, `account test` and the settings window's folder list.
#[test]
fn the_id_carries_only_the_name_and_the_version() {
    let server = plain_server(|_| Script::netease());
    let pm = Pushmail::new();
    let id = unique_id("id-args");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let expected = identification(&pm);

    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    assert!(w.stop(), "watch did not exit cleanly");
    let (steps, report) = account_test(&pm, &id);
    assert!(all_passed(&steps), "{report:#}");
    let config = pushmail_core::Config::load(&pm.config()).unwrap();
    let account = config.account(&id).unwrap().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let folders = rt.block_on(pushmail_core::folders::list(&account)).unwrap();
    assert_eq!(folders[0].name, "INBOX", "{folders:?}");

    let records = server.records();
    // The watcher's, then `account test`'s (its `tcp` step only connects: no greeting is
    // read, nothing sent), then the folder list's.
    let logged_in: Vec<&ConnRecord> = records.iter().filter(|r| r.credentials).collect();
    assert_eq!(logged_in.len(), 3, "{records:#?}");
    for r in logged_in {
        assert_eq!(r.id_arguments, [expected.as_str()], "{:#?}", r.lines);
        let first_after_login = position(r, "LOGIN").unwrap() + 1;
        // `ID` is the first command after login's answer (`CAPABILITY`, asked because this
        // LOGIN's OK carries none, is part of the login).
        assert_eq!(
            position(r, "ID"),
            Some(first_after_login + 1),
            "{:#?}",
            r.lines
        );
    }
}

/// (3) `account test` passes against the NetEase-like server: every step, INBOX listed.
#[test]
fn account_test_passes_against_netease() {
    let server = plain_server(|_| Script::netease());
    let pm = Pushmail::new();
    let id = unique_id("netease-test");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let (steps, report) = account_test(&pm, &id);
    let names: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        names,
        ["password", "tcp", "tls", "login", "capabilities", "folders"],
        "{report:#}"
    );
    assert!(all_passed(&steps), "{report:#}");
    assert_eq!(report["folders"][0]["name"], "INBOX", "{report:#}");
    assert_eq!(report["folders"][0]["watched"], true, "{report:#}");
    let sent_id = server.records().iter().any(|r| r.id_arguments.len() == 1);
    assert!(sent_id, "{:#?}", server.records());
}

/// (4) A server that advertises `ID` and answers it `NO`: the login goes on as if nothing
/// happened — push, the new message announced once, one connection — and `account test`
/// passes.
#[test]
fn a_server_that_refuses_id_is_used_all_the_same() {
    let server = plain_server(|_| {
        Script::new()
            .capabilities("IMAP4rev1 IDLE ID AUTH=PLAIN")
            .refuse_id()
            .greet()
            .then(pushmail_tests::Step::Serve)
    });
    let pm = Pushmail::new();
    let id = unique_id("id-refused");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("Despite NO to ID");
    w.wait_new_mail("Despite NO to ID", SHORT);
    w.collect_for(Duration::from_millis(800));
    assert_each_once(&w, &["Despite NO to ID"]);
    assert!(w.stop(), "watch did not exit cleanly");
    assert_eq!(server.connections(), 1, "{:#?}", server.records());
    assert_eq!(server.record(0).unwrap().id_arguments.len(), 1);

    let (steps, report) = account_test(&pm, &id);
    assert!(all_passed(&steps), "{report:#}");
}

/// (5) A server that does not advertise `ID` is never sent one: not by the watcher, not by
/// `account test`.
#[test]
fn a_server_without_id_is_never_sent_id() {
    let server = plain_server(|_| Script::serve());
    let pm = Pushmail::new();
    let id = unique_id("no-id");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("Without ID");
    w.wait_new_mail("Without ID", SHORT);
    assert!(w.stop(), "watch did not exit cleanly");
    let (steps, report) = account_test(&pm, &id);
    assert!(all_passed(&steps), "{report:#}");

    let records = server.records();
    assert!(
        records.iter().filter(|r| r.credentials).count() >= 2,
        "{records:#?}"
    );
    for r in &records {
        assert!(r.id_arguments.is_empty(), "{:#?}", r.lines);
        assert_eq!(position(r, "ID"), None, "{:#?}", r.lines);
    }
}
