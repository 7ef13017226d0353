//! Issue 12 in the real settings window: an account added from nothing but its address —
//! address → the settings found (with where they came from) → password → tested and saved →
//! watched by the running tray — with real DNS, HTTPS and IMAP: the whole desktop (Xvfb, D-Bus,
//! dunst, gnome-keyring, WebKitWebDriver, the tray, the window) runs inside the discovery lab's
//! private network and mount namespace (`pushmail_tests::netns`), where dnsmasq answers the
//! system resolver, `autoconfig.example.test` serves a configuration file over HTTPS trusted
//! through the system store, and Dovecot listens on 993 for `imap.example.test`.
//!
//! Needs root (unshare) and what settings_e2e needs (scripts/setup --test).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;

use std::time::Duration;

use desktop::webdriver::WebDriver;
use desktop::{Daemon, Desktop, Tray};
use pushmail_core::config::{Config, PasswordSource, Security};
use pushmail_tests::netns::{self, Lab, Reply};
use pushmail_tests::{Dovecot, message};

const SLOW: Duration = Duration::from_secs(30);
/// The first WebKit start on a loaded 2-core machine takes several seconds.
const WINDOW_TIMEOUT: Duration = Duration::from_secs(90);
const CONFIG_URL: &str = "https://autoconfig.example.test/mail/config-v1.1.xml";

#[test]
fn the_real_window_adds_an_account_from_its_address_and_the_tray_watches_it() {
    if !netns::isolated("the_real_window_adds_an_account_from_its_address_and_the_tray_watches_it")
    {
        return;
    }
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1"><emailProvider id="example.test"><domain>example.test</domain>
<incomingServer type="imap"><hostname>imap.example.test</hostname><port>993</port>
<socketType>SSL</socketType><username>%EMAILLOCALPART%</username>
<authentication>password-cleartext</authentication></incomingServer>
</emailProvider></clientConfig>"#;
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .a("imap.example.test")
        .https("autoconfig.example.test")
        .route(CONFIG_URL, Reply::ok("text/xml", xml))
        .start()
        .unwrap();
    let dc = Dovecot::start(lab.dovecot_options(&["imap.example.test"]).unwrap()).unwrap();
    let password = "alicepw";

    let mut desk = Desktop::start(Daemon::Dunst);
    let _keyring = desk.start_keyring();
    let config = desk.dir.path().join("config/pushmail/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "").unwrap();
    let tray = Tray::start(&desk, &config);
    desk.wait_message(SLOW, "the tray item to register", |m| {
        m["kind"] == "registered"
    });

    // The window, started by WebDriver (see settings_e2e), its output in a file of its own.
    let (wrapper, _log) = desktop::webdriver::settings_app(&desk, "settings", &[]);
    let wd = WebDriver::start(&desk, &wrapper, &["--config", config.to_str().unwrap()]);

    // 1. Name and address only.
    wd.wait_for(".page-add-address input[name=email]", WINDOW_TIMEOUT);
    wd.fill("input[name=name]", "Alice");
    wd.fill("input[name=email]", "alice@example.test");
    wd.click("[data-action=continue]");

    // 2. What was found, and where it came from.
    wd.wait_for(".found-summary", SLOW);
    let found = |key: &str| plain(wd.text(&format!("[data-found={key}] dd")));
    assert_eq!(found("host"), "imap.example.test");
    assert_eq!(found("port"), "993");
    assert_eq!(found("username"), "alice");
    assert_eq!(found("source"), "from example.test's own configuration");
    assert_eq!(wd.find(".found-warnings"), None, "nothing to warn about");

    // 3. Continue → the password → tested and saved in one step.
    wd.click("[data-action=continue]");
    wd.wait_for("input[name=password]", SLOW);
    wd.fill("input[name=password]", password);
    wd.click("[data-action=test-save]");
    wd.wait_for(".page-accounts", SLOW);
    wd.wait_for("[data-account=\"alice\"] [data-state=push]", SLOW);

    // Saved as found: the password in the keyring only, no ca_file (the system store vouched).
    let saved = Config::load(&config).unwrap();
    let a = &saved.accounts[0];
    assert_eq!((a.id.as_str(), a.name.as_str()), ("alice", "Alice"));
    assert_eq!(a.email.as_deref(), Some("alice@example.test"));
    assert_eq!(
        (a.host.as_str(), a.port, a.security, a.username.as_str()),
        ("imap.example.test", 993, Security::Tls, "alice")
    );
    assert_eq!(a.password, PasswordSource::Keyring);
    assert_eq!(a.ca_file, None);
    assert_eq!(desk.keyring_lookup("alice").as_deref(), Some(password));

    // 4. The running tray watches it: push over D-Bus, and new mail pops up.
    let accounts = desk.py(&["call", "GetAccounts"]);
    assert_eq!(accounts[0][0], "alice", "{accounts}");
    assert_eq!(accounts[0][2], "push", "{accounts}");
    dc.deliver(
        "alice",
        "INBOX",
        &message(
            "Bob <bob@example.com>",
            "alice@example.test",
            "Found from the address",
            "x",
        ),
    )
    .unwrap();
    desk.wait_message(SLOW, "the Notify call for the new mail", |m| {
        m["kind"] == "call" && m["member"] == "Notify" && m["args"][4] == "Found from the address"
    });

    // Discovery sent the address and nothing else: no request carried the password.
    let requests = lab.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(!r.contains(password), "{r:?}");
    }
    wd.quit();
    drop(tray);
}

/// Text without Fluent's bidi isolation marks, for comparisons.
fn plain(text: String) -> String {
    text.replace(['\u{2068}', '\u{2069}'], "")
}
