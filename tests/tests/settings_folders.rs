//! The folder list behind Settings → Folders (`pushmail_core::folders`), against the private
//! Dovecot: what the server lists comes back decoded, marked and ordered, hostile names stay
//! plain data, and a name picked from the list works as a watched folder (the connection test
//! finds it), so what the user ticks is what gets watched.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::path::PathBuf;

use common::Pushmail;
use pushmail_core::folders::{self, SpecialUse};
use pushmail_core::{Account, ConnectError, PasswordSource, Security, account_test};
use pushmail_tests::{Dovecot, DovecotOptions};

/// Folder names a hostile or merely creative server may use.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn account(dc: &Dovecot, pm: &Pushmail, password: &str) -> Account {
    let mut a = Account::new("folders", dc.host(), "alice");
    a.port = dc.imaps_port();
    a.security = Security::Tls;
    a.ca_file = Some(PathBuf::from(dc.ca_file()));
    a.password = PasswordSource::Command(vec![
        "cat".to_owned(),
        pm.password_file(password).display().to_string(),
    ]);
    a
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_server_list_is_decoded_marked_and_ordered_and_a_picked_name_is_watchable() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    for folder in [
        "Entwürfe",
        "Lists",
        "Lists.Rust",
        "收件箱",
        HOSTILE,
        "Tom & Jerry",
    ] {
        dc.create_folder("alice", folder).unwrap();
    }
    let pm = Pushmail::new();
    let rt = runtime();
    let list = rt
        .block_on(folders::list(&account(&dc, &pm, "alicepw")))
        .unwrap();
    let names: Vec<&str> = list.iter().map(|f| f.name.as_str()).collect();

    assert_eq!(names.first(), Some(&"INBOX"), "{names:?}");
    for expected in [
        "Entwürfe",
        "Lists",
        "Lists.Rust",
        "收件箱",
        HOSTILE,
        "Tom & Jerry",
        "Sent",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let drafts = list.iter().find(|f| f.name == "Entwürfe").unwrap();
    assert_eq!(drafts.raw_name, "Entw&APw-rfe");
    assert_eq!(drafts.display, "Entwürfe");
    assert_eq!(drafts.delimiter.as_deref(), Some("."));
    let sent = list.iter().find(|f| f.name == "Sent").unwrap();
    assert_eq!(sent.special_use, Some(SpecialUse::Sent));
    assert!(list.iter().all(|f| f.selectable), "{list:?}");
    // Markup in a name is data: unchanged, for the UI to show as text.
    let hostile = list.iter().find(|f| f.name == HOSTILE).unwrap();
    assert_eq!(
        (hostile.raw_name.as_str(), hostile.display.as_str()),
        (HOSTILE, HOSTILE)
    );

    // What the user ticks goes into the config as listed, and the watcher's own connection
    // test then finds every one of them on the server.
    let mut picked = account(&dc, &pm, "alicepw");
    picked.folders = vec![
        "INBOX".into(),
        "Entwürfe".into(),
        "收件箱".into(),
        HOSTILE.into(),
    ];
    let report = rt.block_on(account_test::test_account(&picked, |_| {}));
    assert!(report.ok(), "{:?}", report.steps);
}

#[test]
fn a_typed_password_lists_without_the_keyring_and_a_wrong_one_is_an_auth_error() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let rt = runtime();
    let mut a = account(&dc, &pm, "unused");
    a.password = PasswordSource::Keyring; // never consulted by list_with_password

    let list = rt
        // (The tests crate does not depend on `secrecy`; `into()` makes the SecretString.)
        .block_on(folders::list_with_password(
            &a,
            &"alicepw".to_owned().into(),
        ))
        .unwrap();
    assert_eq!(list[0].name, "INBOX");

    let wrong = rt.block_on(folders::list_with_password(&a, &"nope".to_owned().into()));
    assert!(matches!(wrong, Err(ConnectError::Auth(_))), "{wrong:?}");
    let hint = wrong.unwrap_err().hint();
    assert!(hint.contains("password"), "{hint}");
}
