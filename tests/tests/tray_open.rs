//! Issue 12, "Open opens the message", on the desktop: the real `pushmail` tray, a private
//! Dovecot, and a click on a new-mail popup's "Open" (its default action). What the user's
//! browser or mail client is asked to open is recorded by a fake one registered in the private
//! desktop (`xdg-mime default`), the way the desktop itself would start it:
//!
//! - an account whose `open_url` is Gmail's webmail opens Gmail's search for exactly that
//!   message's Message-ID (through `xdg-open`, the browser gets the link);
//! - with Thunderbird as the default mail client, Thunderbird gets `mid:<Message-ID>`, and
//!   nothing at all for a Message-ID that is not a plain RFC 5322 msg-id;
//! - any other mail client opens as before, with no id;
//! - Settings → Activity's "Open" (`OpenMessage` on the tray's bus, with the id `GetActivity`
//!   lists) opens exactly what the popup's "Open" opens.
//!
//! Private everything per test (Xvfb, D-Bus, dunst, a StatusNotifierWatcher, XDG directories).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;

use std::path::Path;
use std::time::Duration;

use common::{Pushmail, Via, unique_id};
use desktop::{Daemon, Desktop, Tray, eventually, recorder};
use pushmail_tests::{Dovecot, DovecotOptions, message};

const SLOW: Duration = Duration::from_secs(20);

/// A desktop, a Dovecot with alice, and `pushmail` watching alice's INBOX as "Work" with
/// `extra` account lines.
struct Scene {
    dc: Dovecot,
    pm: Pushmail,
    desk: Desktop,
    tray: Option<Tray>,
}

impl Scene {
    /// Everything but the tray, so a test can register its fake programs first.
    fn new(extra: &str) -> Scene {
        let dc = Dovecot::start(DovecotOptions::default()).unwrap();
        let pm = Pushmail::new();
        let id = unique_id("work");
        let account = pm.account_toml(
            &dc,
            &id,
            "alice",
            Via::Tls,
            "alicepw",
            &format!("name = \"Work\"\n{extra}"),
        );
        // Every popup of a test is a single one, however fast they come: a summary has no
        // one message to open.
        pm.write_config(&[format!(
            "[notifications]\nsummary_threshold = 100\n\n{account}"
        )]);
        let desk = Desktop::start(Daemon::Dunst);
        Scene {
            dc,
            pm,
            desk,
            tray: None,
        }
    }

    /// Starts the tray and waits until it shows its item and watches the account.
    fn start_tray(&mut self) {
        self.tray = Some(Tray::start(&self.desk, &self.pm.config()));
        self.desk
            .wait_message(SLOW, "the tray item to register", |m| {
                m["kind"] == "registered"
            });
        let desk = &self.desk;
        let tray = self.tray.as_ref().unwrap();
        eventually(SLOW, "the account to be watching (push)", || {
            let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
            match accounts[0][2].as_str() {
                Some("push") => Some(()),
                Some("error" | "auth_failed") => {
                    panic!("account failed: {accounts}\n{}", tray.log())
                }
                _ => None,
            }
        });
    }

    /// Delivers a message whose Message-ID header is `<message_id>`, waits for its popup and
    /// clicks "Open" on it.
    fn deliver_and_open(&mut self, subject: &str, message_id: &str) {
        let popup = self.deliver(subject, message_id);
        self.desk.py(&["action", &popup.to_string(), "default"]);
    }

    /// Delivers a message whose Message-ID header is `<message_id>` and waits for its popup;
    /// returns the popup's id.
    fn deliver(&mut self, subject: &str, message_id: &str) -> u64 {
        let raw = with_message_id(
            &message(
                "Ana Example <ana@example.com>",
                "alice <alice@example.org>",
                subject,
                "Hello",
            ),
            message_id,
        );
        self.dc.deliver("alice", "INBOX", &raw).unwrap();
        let notify = self.desk.wait_message(SLOW, "the popup", |m| {
            m["kind"] == "call" && m["member"] == "Notify" && m["args"][4] == subject
        });
        self.desk.notification_id(&notify)
    }

    fn log(&self) -> String {
        self.tray.as_ref().map(Tray::log).unwrap_or_default()
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- pushmail log ---\n{}", self.log());
        }
    }
}

/// `raw` with its Message-ID header replaced by `<id>`, written as it stands.
fn with_message_id(raw: &[u8], id: &str) -> Vec<u8> {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let lines: Vec<String> = text
        .split("\r\n")
        .map(|l| {
            if l.starts_with("Message-ID:") {
                format!("Message-ID: <{id}>")
            } else {
                l.to_owned()
            }
        })
        .collect();
    lines.join("\r\n").into_bytes()
}

/// Registers `script` as the desktop's default for `mime` under the desktop-file id
/// `desktop_id`, its Exec line `script %u` as real browsers and Thunderbird have it.
fn set_default(desk: &Desktop, desktop_id: &str, script: &Path, mime: &str) {
    let file = desk.dir.path().join("data/applications").join(desktop_id);
    std::fs::write(
        &file,
        format!(
            "[Desktop Entry]\nType=Application\nName={desktop_id}\nExec={} %u\nMimeType={mime};\n",
            script.display()
        ),
    )
    .unwrap();
    let status = desk
        .command("xdg-mime")
        .args(["default", desktop_id, mime])
        .status()
        .expect("xdg-mime");
    assert!(status.success());
}

/// Waits for the recorder's output (one line per argument; a start without arguments is one
/// empty line, as `printf '%s\n'` prints it) and removes it for the next start.
fn started_with(out: &Path, what: &str) -> String {
    let args = eventually(SLOW, what, || std::fs::read_to_string(out).ok());
    std::fs::remove_file(out).unwrap();
    args
}

#[test]
fn open_on_a_gmail_accounts_popup_opens_that_message_in_gmail() {
    // The account is at Gmail by its address (its server is the local Dovecot: the rule looks
    // at the IMAP server first, then the address's domain) and opens Gmail's webmail.
    let mut s = Scene::new("email = \"alice@gmail.com\"\nopen_url = \"https://mail.google.com/\"");
    let (browser, out) = recorder(s.desk.dir.path(), "browser");
    set_default(
        &s.desk,
        "pushmail-test-browser.desktop",
        &browser,
        "x-scheme-handler/https",
    );
    s.start_tray();

    // `+`, `=` and `/` are atext but mean something in a URL: all percent-encoded, `@` too.
    s.deliver_and_open("Gmail link", "CAJ+k7=Op/1.2@mail.gmail.com");
    assert_eq!(
        started_with(&out, "the browser to open the message"),
        "https://mail.google.com/mail/u/0/#search/rfc822msgid%3ACAJ%2Bk7%3DOp%2F1.2%40mail.gmail.com\n"
    );

    // A Message-ID that is not a plain msg-id opens the webmail as before.
    s.deliver_and_open("Gmail hostile", "$(touch /tmp/pwned)@x");
    assert_eq!(
        started_with(&out, "the browser to open the webmail"),
        "https://mail.google.com/\n"
    );
}

#[test]
fn open_on_a_popup_opens_that_message_in_thunderbird_and_no_hostile_id() {
    let mut s = Scene::new("");
    let (thunderbird, out) = recorder(s.desk.dir.path(), "thunderbird");
    set_default(
        &s.desk,
        "thunderbird.desktop",
        &thunderbird,
        "x-scheme-handler/mailto",
    );
    s.start_tray();

    let id = "1a2b.c3+d=e$f@pushmail.test";
    s.deliver_and_open("For Thunderbird", id);
    assert_eq!(
        started_with(&out, "Thunderbird to start with mid:"),
        format!("mid:{id}\n"),
        "exactly one argument"
    );

    // Each of these opens Thunderbird as the menu does: no argument at all.
    for (n, hostile) in [
        "$(touch /tmp/pwned)@pushmail.test",
        "-remote@pushmail.test",
        "quo\"te@pushmail.test",
    ]
    .iter()
    .enumerate()
    {
        s.deliver_and_open(&format!("Hostile {n}"), hostile);
        assert_eq!(
            started_with(&out, "Thunderbird to start without an id"),
            "\n",
            "{hostile:?}"
        );
    }
}

#[test]
fn open_on_a_popup_gives_another_mail_client_no_message_id() {
    let mut s = Scene::new("");
    let (mailer, out) = recorder(s.desk.dir.path(), "mailer");
    s.desk.set_mail_client(&mailer);
    s.start_tray();
    s.deliver_and_open("For another client", "plain.id@pushmail.test");
    assert_eq!(
        started_with(&out, "the mail client to start"),
        "--main-window\n",
        "as from the menu: no id, no compose window"
    );
}

/// What Settings → Activity's "Open" does: `GetActivity` lists the message with its id, and
/// `OpenMessage` with that id opens what the popup's "Open" would — Thunderbird with exactly
/// `mid:<id>` — without any popup being clicked.
#[test]
fn open_message_over_dbus_opens_what_the_popup_would() {
    let mut s = Scene::new("");
    let (thunderbird, out) = recorder(s.desk.dir.path(), "thunderbird");
    set_default(
        &s.desk,
        "thunderbird.desktop",
        &thunderbird,
        "x-scheme-handler/mailto",
    );
    s.start_tray();
    let account = s.desk.py(&["call", "GetAccounts"])[0][0]
        .as_str()
        .unwrap()
        .to_owned();

    let id = "7f3e.c3+d=e$f@pushmail.test";
    s.deliver("From Activity", id);
    let activity: serde_json::Value =
        serde_json::from_str(s.desk.py(&["call", "GetActivity"]).as_str().unwrap()).unwrap();
    let entry = &activity["notifications"][0];
    assert_eq!(entry["subject"], "From Activity", "{activity}");
    assert_eq!(entry["account"], account.as_str(), "{activity}");
    assert_eq!(
        entry["message_id"], id,
        "without angle brackets: {activity}"
    );
    let args = serde_json::json!([account, entry["message_id"]]).to_string();
    s.desk.py(&["call", "OpenMessage", &args]);
    assert_eq!(
        started_with(&out, "Thunderbird to start with mid:"),
        format!("mid:{id}\n"),
        "exactly one argument"
    );

    // A message whose id may not be used is listed without one; "Open" on it (the UI sends
    // "") and any id the popup would refuse open Thunderbird as the menu does.
    s.deliver("Hostile in Activity", "$(touch /tmp/pwned)@pushmail.test");
    let activity: serde_json::Value =
        serde_json::from_str(s.desk.py(&["call", "GetActivity"]).as_str().unwrap()).unwrap();
    let entry = &activity["notifications"][0];
    assert_eq!(entry["subject"], "Hostile in Activity", "{activity}");
    assert!(entry.get("message_id").is_none(), "{activity}");
    for hostile in [
        "",
        "-remote@pushmail.test",
        "a b@pushmail.test",
        "<$(id)@x>",
    ] {
        let args = serde_json::json!([account, hostile]).to_string();
        s.desk.py(&["call", "OpenMessage", &args]);
        assert_eq!(
            started_with(&out, "Thunderbird to start without an id"),
            "\n",
            "{hostile:?}"
        );
    }

    // An account the tray does not have: an error, and nothing starts.
    let err = s
        .desk
        .try_py(&["call", "OpenMessage", r#"["nobody", "a@pushmail.test"]"#])
        .unwrap_err();
    assert!(err.contains("InvalidArgs"), "{err}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!out.exists(), "nothing was opened for an unknown account");
}
